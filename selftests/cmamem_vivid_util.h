/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Finding vivid, the kernel's V4L2 test driver, for the selftests that
 * hand it cmamem blocks: its capture node by the allocator its queue uses
 * (vb2-vmalloc or vb2-dma-contig).
 *
 * The VM loads vivid as two capture-only instances, one per allocator:
 *
 *	vivid n_devs=2 node_types=0x1,0x1 allocators=0,1
 */
#ifndef CMAMEM_VIVID_UTIL_H
#define CMAMEM_VIVID_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/videodev2.h>

#include "cmamem_util.h"

#define VIVID_ALLOCATORS_PATH	"/sys/module/vivid/parameters/allocators"
#define VIVID_MISSING \
	"vivid is not available on this kernel (no /dev/video* of driver \"vivid\")"
/* /dev/video0 to /dev/video255: more nodes than a test machine has. */
#define VIDEO_NODES_SEARCHED	256

/* vivid's allocators= module parameter, per instance. */
enum vivid_allocator {
	VIVID_VB2_VMALLOC = 0,
	VIVID_VB2_DMA_CONTIG = 1,
};

static inline int video_ioctl(int fd, unsigned long request, void *argument)
{
	return ioctl(fd, request, argument) ? -errno : 0;
}

/* The instance in vivid's bus_info, "platform:vivid-NNN"; -1 if none. */
static inline int vivid_instance(const struct v4l2_capability *capability)
{
	int instance;

	if (sscanf((const char *)capability->bus_info, "platform:vivid-%d",
		   &instance) != 1)
		return -1;
	return instance;
}

/*
 * vivid's allocators= value for @instance. The parameter is an array,
 * "0,1,0,..."; when it cannot be read, every instance has the default 0.
 */
static inline unsigned int vivid_allocator(int instance)
{
	char text[1024], *cursor = text, *end;
	unsigned long value = VIVID_VB2_VMALLOC;
	int index;

	if (instance < 0 ||
	    cmamem_read_text(VIVID_ALLOCATORS_PATH, text, sizeof(text)))
		return VIVID_VB2_VMALLOC;
	for (index = 0; index <= instance; index++) {
		value = strtoul(cursor, &end, 0);
		if (end == cursor)
			return VIVID_VB2_VMALLOC;
		cursor = *end == ',' ? end + 1 : end;
	}
	return (unsigned int)value;
}

/*
 * Opens the single-planar video capture node of the vivid instance that
 * uses @allocator. Returns its fd (non-blocking: frames are waited for
 * with poll() and a time limit), -ENODEV when there is no vivid capture
 * node at all, or -ENOENT when no instance uses @allocator.
 */
static inline int open_vivid_capture(unsigned int allocator)
{
	bool vivid_found = false;
	char path[32];
	int index, video;

	for (index = 0; index < VIDEO_NODES_SEARCHED; index++) {
		struct v4l2_capability capability;
		__u32 caps;

		snprintf(path, sizeof(path), "/dev/video%d", index);
		video = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (video < 0)
			continue;
		memset(&capability, 0, sizeof(capability));
		if (!video_ioctl(video, VIDIOC_QUERYCAP, &capability) &&
		    !strcmp((const char *)capability.driver, "vivid")) {
			caps = capability.capabilities & V4L2_CAP_DEVICE_CAPS ?
			       capability.device_caps :
			       capability.capabilities;
			if ((caps & V4L2_CAP_VIDEO_CAPTURE) &&
			    (caps & V4L2_CAP_STREAMING)) {
				vivid_found = true;
				if (vivid_allocator(vivid_instance(&capability)) ==
				    allocator)
					return video;
			}
		}
		close(video);
	}
	return vivid_found ? -ENOENT : -ENODEV;
}

#endif /* CMAMEM_VIVID_UTIL_H */
