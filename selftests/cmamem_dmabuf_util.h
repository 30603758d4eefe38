/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dma-buf helpers shared by the cmamem selftests that export blocks and
 * hand them to DRM's vgem: EXPORT, and the few DRM uapi definitions the
 * vgem tests need.
 */
#ifndef CMAMEM_DMABUF_UTIL_H
#define CMAMEM_DMABUF_UTIL_H

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cmamem_util.h"

/*
 * The few DRM uapi definitions the vgem test needs (include/uapi/drm/
 * drm.h), spelled out because the host's x86_64 toolchain
 * ships no DRM headers.
 */
struct test_drm_version {
	int version_major;
	int version_minor;
	int version_patchlevel;
	size_t name_len;
	char *name;
	size_t date_len;
	char *date;
	size_t desc_len;
	char *desc;
};

struct test_drm_prime_handle {
	__u32 handle;
	__u32 flags;
	__s32 fd;
};

struct test_drm_gem_close {
	__u32 handle;
	__u32 pad;
};

#define TEST_DRM_IOCTL_VERSION \
	_IOWR('d', 0x00, struct test_drm_version)
#define TEST_DRM_IOCTL_GEM_CLOSE \
	_IOW('d', 0x09, struct test_drm_gem_close)
#define TEST_DRM_IOCTL_PRIME_FD_TO_HANDLE \
	_IOWR('d', 0x2e, struct test_drm_prime_handle)
#define TEST_DRM_IOCTL_PRIME_HANDLE_TO_FD \
	_IOWR('d', 0x2d, struct test_drm_prime_handle)

static inline int export_block(int fd, __u32 handle, __u32 fd_flags, int *dmabuf)
{
	struct cmamem_export request = {
		.size = sizeof(request),
		.handle = handle,
		.fd_flags = fd_flags,
		.fd = (__u32)-1,
	};
	int ret = cmamem_ioctl(fd, CMAMEM_IOCTL_EXPORT, &request);

	if (!ret)
		*dmabuf = (int)request.fd;
	return ret;
}

/* The first DRM card node whose driver is vgem, or -1. */
static inline int open_vgem(void)
{
	char path[32], name[16];
	int index, card;

	for (index = 0; index < 16; index++) {
		struct test_drm_version version = {
			.name_len = sizeof(name) - 1,
			.name = name,
		};

		snprintf(path, sizeof(path), "/dev/dri/card%d", index);
		card = open(path, O_RDWR | O_CLOEXEC);
		if (card < 0)
			continue;
		memset(name, 0, sizeof(name));
		if (!ioctl(card, TEST_DRM_IOCTL_VERSION, &version) &&
		    !strcmp(name, "vgem"))
			return card;
		close(card);
	}
	return -1;
}

#endif /* CMAMEM_DMABUF_UTIL_H */
