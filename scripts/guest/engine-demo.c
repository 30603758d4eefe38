// SPDX-License-Identifier: GPL-2.0
/*
 * The `make demo` tool for what users came for: a camera writes a frame
 * into a cmamem block, and a DMA engine, given the blocks' DMA addresses,
 * copies it into another block. Built with libcmamem and the engine helper
 * the selftests use (selftests/cmamem_engine.h, QEMU's edu engine).
 *
 *   engine-demo engine
 *	which engine, at which PCI address, with which limits
 *   engine-demo capture NAME [--pool P] [--device /dev/videoN]
 *		[--width W --height H]
 *	vivid (or any V4L2 capture device) captures one YUYV frame into
 *	block NAME, given to it as a dma-buf (V4L2_MEMORY_DMABUF)
 *   engine-demo copy SOURCE DESTINATION [--pool P] [--length L]
 *	the engine copies L bytes (default: the whole source) from block
 *	SOURCE to block DESTINATION by their DMA addresses, with the syncs
 *	a program does around it, then compares the two blocks
 *
 * Blocks are found by name (another process holds them, e.g. `cmamem
 * alloc NAME SIZE --hold`). Exit status 0, or 1 with a message.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/videodev2.h>

#include <cmamem/libcmamem.h>

#include "cmamem_engine.h"

#define FRAME_TIMEOUT_MS	20000

struct block {
	const char *name;
	int fd;
	struct cmamem_attach attach;
	void *view;
};

static int fail(const char *format, ...) __attribute__((format(printf, 1, 2)));

static int fail(const char *format, ...)
{
	va_list arguments;

	fprintf(stderr, "engine-demo: ");
	va_start(arguments, format);
	vfprintf(stderr, format, arguments);
	va_end(arguments);
	fputc('\n', stderr);
	return 1;
}

/* Attaches block @name of @pool and maps it. 0, or 1 after a message. */
static int open_block(struct block *block, const char *pool,
		      const char *name)
{
	int ret;

	block->name = name;
	block->fd = cmamem_open(pool, O_RDWR);
	if (block->fd < 0)
		return fail("pool %s: %s", pool, cmamem_strerror(block->fd));
	ret = cmamem_attach(block->fd, name, CMAMEM_MAP, &block->attach);
	if (ret)
		return fail("block %s of pool %s: %s", name, pool,
			    cmamem_strerror(ret));
	if (block->attach.out_flags & CMAMEM_ADDRESS_WITHHELD)
		return fail("the DMA address of %s is withheld (needs CAP_SYS_RAWIO)",
			    name);
	block->view = (void *)(uintptr_t)block->attach.user_address;
	return 0;
}

static int open_engine(struct cmamem_engine *engine)
{
	int ret = cmamem_engine_open(engine, getenv("CMAMEM_ENGINE_SLOT"),
				     CMAMEM_ENGINE_ANY_ADDRESS);

	if (ret)
		return fail("%s", engine->error);
	return 0;
}

static int command_engine(void)
{
	struct cmamem_engine engine;

	if (open_engine(&engine))
		return 1;
	printf("engine: edu DMA engine (PCI %04x:%04x) at %s\n",
	       CMAMEM_ENGINE_VENDOR, CMAMEM_ENGINE_DEVICE, engine.slot);
	printf("registers: %s/resource0, mapped at %p\n", engine.path,
	       (void *)engine.registers);
	printf("buffer: %u bytes at engine address 0x%x; at most %u bytes per transfer\n",
	       CMAMEM_ENGINE_BUFFER_SIZE, CMAMEM_ENGINE_BUFFER_ADDRESS,
	       CMAMEM_ENGINE_MAX_TRANSFER);
	cmamem_engine_close(&engine);
	return 0;
}

static int video_ioctl(int video, unsigned long request, void *argument,
		       const char *what)
{
	if (ioctl(video, request, argument))
		return fail("%s: %s", what, strerror(errno));
	return 0;
}

/* One frame from @device into the dma-buf of @block. */
static int capture_frame(int video, const char *device, struct block *block,
			 int dmabuf, unsigned int width, unsigned int height)
{
	struct v4l2_format format = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	struct v4l2_requestbuffers request = {
		.count = 1,
		.type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
		.memory = V4L2_MEMORY_DMABUF,
	};
	struct v4l2_buffer buffer = {
		.index = 0,
		.type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
		.memory = V4L2_MEMORY_DMABUF,
	};
	int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	struct pollfd ready = { .fd = video, .events = POLLIN };

	format.fmt.pix.width = width;
	format.fmt.pix.height = height;
	format.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
	format.fmt.pix.field = V4L2_FIELD_NONE;
	if (video_ioctl(video, VIDIOC_S_FMT, &format, "VIDIOC_S_FMT"))
		return 1;
	if (format.fmt.pix.sizeimage > block->attach.length)
		return fail("a %ux%u frame is %u bytes; block %s has %llu",
			    format.fmt.pix.width, format.fmt.pix.height,
			    format.fmt.pix.sizeimage, block->name,
			    (unsigned long long)block->attach.length);
	if (video_ioctl(video, VIDIOC_REQBUFS, &request, "VIDIOC_REQBUFS"))
		return 1;
	buffer.m.fd = dmabuf;
	buffer.length = (__u32)block->attach.length;
	if (video_ioctl(video, VIDIOC_QBUF, &buffer, "VIDIOC_QBUF") ||
	    video_ioctl(video, VIDIOC_STREAMON, &type, "VIDIOC_STREAMON"))
		return 1;
	if (poll(&ready, 1, FRAME_TIMEOUT_MS) != 1)
		return fail("%s gave no frame in %d ms", device,
			    FRAME_TIMEOUT_MS);
	if (video_ioctl(video, VIDIOC_DQBUF, &buffer, "VIDIOC_DQBUF") ||
	    video_ioctl(video, VIDIOC_STREAMOFF, &type, "VIDIOC_STREAMOFF"))
		return 1;
	printf("%s captured a %ux%u YUYV frame, %u bytes, into %s (DMA address 0x%llx) through its dma-buf\n",
	       device, format.fmt.pix.width, format.fmt.pix.height,
	       buffer.bytesused, block->name,
	       (unsigned long long)block->attach.dma_address);
	request.count = 0;
	return video_ioctl(video, VIDIOC_REQBUFS, &request, "VIDIOC_REQBUFS");
}

static int command_capture(const char *name, const char *pool,
			   const char *device, unsigned int width,
			   unsigned int height)
{
	struct block block;
	int video, dmabuf, ret;

	if (open_block(&block, pool, name))
		return 1;
	dmabuf = cmamem_export(block.fd, block.attach.handle,
			       O_RDWR | O_CLOEXEC);
	if (dmabuf < 0)
		return fail("exporting %s: %s", name, cmamem_strerror(dmabuf));
	video = open(device, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (video < 0)
		return fail("%s: %s", device, strerror(errno));
	ret = capture_frame(video, device, &block, dmabuf, width, height);
	close(video);
	close(dmabuf);
	return ret;
}

/* A checksum to print: FNV-1a over the bytes. */
static __u32 checksum(const __u8 *bytes, __u64 length)
{
	__u32 hash = 2166136261u;
	__u64 index;

	for (index = 0; index < length; index++)
		hash = (hash ^ bytes[index]) * 16777619u;
	return hash;
}

static int command_copy(const char *source_name, const char *destination_name,
			const char *pool, __u64 length)
{
	struct block source, destination;
	struct cmamem_engine engine;
	int ret;

	if (open_block(&source, pool, source_name) ||
	    open_block(&destination, pool, destination_name) ||
	    open_engine(&engine))
		return 1;
	if (!length)
		length = source.attach.length;
	if (length > source.attach.length || length > destination.attach.length)
		return fail("%llu bytes do not fit both blocks",
			    (unsigned long long)length);
	printf("%s at DMA address 0x%llx -> %s at DMA address 0x%llx, %llu bytes\n",
	       source_name, (unsigned long long)source.attach.dma_address,
	       destination_name,
	       (unsigned long long)destination.attach.dma_address,
	       (unsigned long long)length);

	/* What the CPU wrote (or cached) reaches memory before the engine. */
	ret = cmamem_sync(source.fd, source.attach.handle,
			  CMAMEM_SYNC_FOR_DEVICE, 0, length);
	if (!ret)
		ret = cmamem_sync(destination.fd, destination.attach.handle,
				  CMAMEM_SYNC_FOR_DEVICE, 0, length);
	if (ret)
		return fail("SYNC_FOR_DEVICE: %s", cmamem_strerror(ret));
	ret = cmamem_engine_copy(&engine, source.attach.dma_address,
				 destination.attach.dma_address, length);
	if (ret)
		return fail("%s", engine.error);
	printf("the engine at %s did %u transfers of at most %u bytes (its buffer is %u bytes)\n",
	       engine.slot, engine.transfers, CMAMEM_ENGINE_COPY_CHUNK,
	       CMAMEM_ENGINE_BUFFER_SIZE);
	cmamem_engine_close(&engine);

	/* The CPU drops stale cache lines before it reads the engine's bytes. */
	ret = cmamem_sync(destination.fd, destination.attach.handle,
			  CMAMEM_SYNC_FOR_CPU, 0, length);
	if (ret)
		return fail("SYNC_FOR_CPU: %s", cmamem_strerror(ret));
	printf("checksum of %s: %08x, of %s: %08x\n", source_name,
	       checksum(source.view, length), destination_name,
	       checksum(destination.view, length));
	if (memcmp(source.view, destination.view, length))
		return fail("%s and %s differ", source_name, destination_name);
	printf("%s and %s agree, all %llu bytes\n", source_name,
	       destination_name, (unsigned long long)length);
	return 0;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: engine-demo engine\n"
		"       engine-demo capture NAME [--pool P] [--device /dev/videoN] [--width W] [--height H]\n"
		"       engine-demo copy SOURCE DESTINATION [--pool P] [--length L]\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *pool = "default", *device = "/dev/video0";
	const char *names[2] = { NULL, NULL };
	unsigned int width = 320, height = 180, named = 0;
	unsigned long long length = 0;
	int index;

	if (argc < 2)
		return usage();
	for (index = 2; index < argc; index++) {
		const char *value = index + 1 < argc ? argv[index + 1] : NULL;

		if (!strcmp(argv[index], "--pool") && value)
			pool = argv[++index];
		else if (!strcmp(argv[index], "--device") && value)
			device = argv[++index];
		else if (!strcmp(argv[index], "--width") && value)
			width = (unsigned int)strtoul(argv[++index], NULL, 0);
		else if (!strcmp(argv[index], "--height") && value)
			height = (unsigned int)strtoul(argv[++index], NULL, 0);
		else if (!strcmp(argv[index], "--length") && value)
			length = strtoull(argv[++index], NULL, 0);
		else if (argv[index][0] != '-' && named < 2)
			names[named++] = argv[index];
		else
			return usage();
	}
	if (!strcmp(argv[1], "engine") && named == 0)
		return command_engine();
	if (!strcmp(argv[1], "capture") && named == 1)
		return command_capture(names[0], pool, device, width, height);
	if (!strcmp(argv[1], "copy") && named == 2)
		return command_copy(names[0], names[1], pool, length);
	return usage();
}
