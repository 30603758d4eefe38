// SPDX-License-Identifier: GPL-2.0
/*
 * cmamem blocks as V4L2 capture buffers, with the vivid test driver
 * producing the frames: exported blocks queued as V4L2_MEMORY_DMABUF
 * (through vb2-vmalloc, which vmaps the dma-buf, and vb2-dma-contig, which
 * maps its sg table for vivid's device and needs it contiguous), the
 * mapping of a cached block queued as V4L2_MEMORY_USERPTR (it works because
 * that mapping is page-backed), and the mapping of a write-combine block
 * refused as USERPTR (it is VM_PFNMAP).
 *
 * Every frame is compared byte for byte with one captured into vivid's own
 * V4L2_MEMORY_MMAP buffers at the same format; vivid is set up so that its
 * frames do not change from one to the next (no text, no movement).
 *
 * The VM loads vivid as two capture-only instances, one per allocator:
 *
 *	vivid n_devs=2 node_types=0x1,0x1 allocators=0,1
 *
 * Without vivid every test skips; without an instance of the allocator a
 * test needs, that test skips.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/videodev2.h>

#include "cmamem_util.h"
#include "cmamem_vivid_util.h"
#include "kselftest_harness.h"

/*
 * vivid's own controls (drivers/media/test-drivers/vivid/vivid-ctrls.c,
 * the same in Linux 6.1 and 6.12). Menu entries are looked up by name.
 */
#define VIVID_CID_VIVID_BASE		(0x00f00000 | 0xf000)
#define VIVID_CID_TEST_PATTERN		(VIVID_CID_VIVID_BASE + 0)
#define VIVID_CID_OSD_TEXT_MODE		(VIVID_CID_VIVID_BASE + 1)
#define VIVID_CID_HOR_MOVEMENT		(VIVID_CID_VIVID_BASE + 2)
#define VIVID_CID_VERT_MOVEMENT		(VIVID_CID_VIVID_BASE + 3)
#define VIVID_CID_HAS_CROP_CAP		(VIVID_CID_VIVID_BASE + 31)
#define VIVID_CID_HAS_COMPOSE_CAP	(VIVID_CID_VIVID_BASE + 32)
#define VIVID_CID_HAS_SCALER_CAP	(VIVID_CID_VIVID_BASE + 33)

/* Squares vary along both axes, so a shifted line or page shows. */
#define VIVID_PATTERN		"100% Color Squares"

#define FULL_WIDTH		640
#define FULL_HEIGHT		480
/* vivid's smallest frame: 512 bytes of YUYV, inside one page. */
#define TINY_WIDTH		16
#define TINY_HEIGHT		16

#define CAPTURE_BUFFERS		3
#define MAX_CAPTURE_BUFFERS	4
/* Each buffer is filled, checked and queued again this many times. */
#define FILLS_PER_BUFFER	2
#define REFERENCE_FRAMES	3
/* TCG on the debug kernel is slow, but never this slow. */
#define FRAME_TIMEOUT_MS	20000
#define STREAM_TEST_TIMEOUT_S	120

/* What a block holds before vivid writes it. */
#define POISON			0xa5

static size_t page_round_up(size_t length, size_t page_size)
{
	return (length + page_size - 1) / page_size * page_size;
}

/* The index of the menu entry of control @id called @label, or -errno. */
static int vivid_menu_entry(int video, __u32 id, const char *label)
{
	struct v4l2_queryctrl control = { .id = id };
	struct v4l2_querymenu entry;
	int index, result;

	result = video_ioctl(video, VIDIOC_QUERYCTRL, &control);
	if (result)
		return result;
	for (index = control.minimum; index <= control.maximum; index++) {
		memset(&entry, 0, sizeof(entry));
		entry.id = id;
		entry.index = (__u32)index;
		if (!video_ioctl(video, VIDIOC_QUERYMENU, &entry) &&
		    !strcmp((const char *)entry.name, label))
			return index;
	}
	return -ENOENT;
}

static int vivid_set_control(int video, __u32 id, __s32 value)
{
	struct v4l2_control control = { .id = id, .value = value };

	return video_ioctl(video, VIDIOC_S_CTRL, &control);
}

static void vivid_set_menu(struct __test_metadata *_metadata, int video,
			   __u32 id, const char *label)
{
	int entry = vivid_menu_entry(video, id, label);
	int result;

	ASSERT_LE(0, entry)
		TH_LOG("vivid control 0x%x has no menu entry \"%s\": %s", id,
		       label, strerror(-entry));
	result = vivid_set_control(video, id, entry);
	ASSERT_EQ(0, result)
		TH_LOG("setting vivid control 0x%x to \"%s\": %s", id, label,
		       strerror(-result));
}

/*
 * Puts vivid in a state where every frame is the same, whatever earlier
 * tests did, and sets a YUYV format of @width x @height; returns it in
 * @format.
 *
 * The HDMI input is the one input that scales to any size (the webcam has
 * fixed sizes, starting at 320x180) and it is progressive. Cropping and
 * composing are turned off so that the whole frame is the scaled source:
 * turning them off makes vivid reset its crop and compose rectangles, and
 * with them off nothing changes those rectangles again. Text (a time stamp
 * and frame counter by default) and movement are what varies from frame
 * to frame; both are turned off.
 */
static void configure_capture(struct __test_metadata *_metadata, int video,
			      __u32 width, __u32 height,
			      struct v4l2_pix_format *format)
{
	struct v4l2_format request;
	struct v4l2_input input;
	bool found = false;
	int index;

	for (index = 0; !found; index++) {
		memset(&input, 0, sizeof(input));
		input.index = (__u32)index;
		if (video_ioctl(video, VIDIOC_ENUMINPUT, &input))
			break;
		found = input.capabilities & V4L2_IN_CAP_DV_TIMINGS;
	}
	ASSERT_TRUE(found)
		TH_LOG("vivid has no HDMI input (see its input_types parameter)");
	ASSERT_EQ(0, video_ioctl(video, VIDIOC_S_INPUT, &input.index));

	vivid_set_menu(_metadata, video, VIVID_CID_OSD_TEXT_MODE, "None");
	vivid_set_menu(_metadata, video, VIVID_CID_TEST_PATTERN, VIVID_PATTERN);
	vivid_set_menu(_metadata, video, VIVID_CID_HOR_MOVEMENT, "No Movement");
	vivid_set_menu(_metadata, video, VIVID_CID_VERT_MOVEMENT,
		       "No Movement");
	ASSERT_EQ(0, vivid_set_control(video, VIVID_CID_HAS_CROP_CAP, 0));
	ASSERT_EQ(0, vivid_set_control(video, VIVID_CID_HAS_COMPOSE_CAP, 0));
	ASSERT_EQ(0, vivid_set_control(video, VIVID_CID_HAS_SCALER_CAP, 1));

	memset(&request, 0, sizeof(request));
	request.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	request.fmt.pix.width = width;
	request.fmt.pix.height = height;
	request.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
	request.fmt.pix.field = V4L2_FIELD_NONE;
	ASSERT_EQ(0, video_ioctl(video, VIDIOC_S_FMT, &request));
	*format = request.fmt.pix;
	ASSERT_EQ(width, format->width);
	ASSERT_EQ(height, format->height);
	ASSERT_EQ(V4L2_PIX_FMT_YUYV, format->pixelformat);
	ASSERT_EQ(V4L2_FIELD_NONE, format->field);
	ASSERT_LE(2 * width, format->bytesperline);
	ASSERT_EQ(format->bytesperline * height, format->sizeimage);
}

/* REQBUFS of @count buffers of @memory; returns how many vivid gave. */
static __u32 request_buffers(struct __test_metadata *_metadata, int video,
			     __u32 memory, __u32 count)
{
	struct v4l2_requestbuffers request = {
		.count = count,
		.type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
		.memory = memory,
	};

	ASSERT_EQ(0, video_ioctl(video, VIDIOC_REQBUFS, &request))
		TH_LOG("REQBUFS of %u buffers of memory type %u: %s", count,
		       memory, strerror(errno));
	if (count) {
		ASSERT_LE(1, request.count);
		ASSERT_GE(MAX_CAPTURE_BUFFERS, request.count);
	}
	return request.count;
}

static int stream(int video, unsigned long request)
{
	int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;

	return video_ioctl(video, request, &type);
}

/* Waits for the next frame and dequeues it into @buffer. */
static void dequeue_frame(struct __test_metadata *_metadata, int video,
			  __u32 memory, struct v4l2_buffer *buffer)
{
	struct pollfd ready = { .fd = video, .events = POLLIN };

	ASSERT_EQ(1, poll(&ready, 1, FRAME_TIMEOUT_MS))
		TH_LOG("no frame from vivid within %d s",
		       FRAME_TIMEOUT_MS / 1000);
	ASSERT_TRUE(ready.revents & POLLIN);
	memset(buffer, 0, sizeof(*buffer));
	buffer->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	buffer->memory = memory;
	ASSERT_EQ(0, video_ioctl(video, VIDIOC_DQBUF, buffer))
		TH_LOG("DQBUF: %s", strerror(errno));
	ASSERT_EQ(0, buffer->flags & V4L2_BUF_FLAG_ERROR);
}

/* Offset of the first byte where @frame and @reference differ, or -1. */
static long first_difference(const __u8 *frame, const __u8 *reference,
			     size_t length)
{
	size_t offset;

	for (offset = 0; offset < length; offset++)
		if (frame[offset] != reference[offset])
			return (long)offset;
	return -1;
}

/* Offset of the first byte from @start to @end that is not poison, or -1. */
static long first_unpoisoned(const __u8 *bytes, size_t start, size_t end)
{
	size_t offset;

	for (offset = start; offset < end; offset++)
		if (bytes[offset] != POISON)
			return (long)offset;
	return -1;
}

/*
 * Captures a frame of the current format into vivid's own MMAP buffers,
 * into @reference (sizeimage bytes). Further frames must be identical to
 * it, or the comparisons of the tests would mean nothing.
 */
static void capture_reference(struct __test_metadata *_metadata, int video,
			      const struct v4l2_pix_format *format,
			      __u8 *reference)
{
	__u8 *views[MAX_CAPTURE_BUFFERS];
	size_t lengths[MAX_CAPTURE_BUFFERS];
	struct v4l2_buffer buffer;
	__u32 count, index;
	int frame;
	long offset;

	count = request_buffers(_metadata, video, V4L2_MEMORY_MMAP, 2);
	for (index = 0; index < count; index++) {
		memset(&buffer, 0, sizeof(buffer));
		buffer.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
		buffer.memory = V4L2_MEMORY_MMAP;
		buffer.index = index;
		ASSERT_EQ(0, video_ioctl(video, VIDIOC_QUERYBUF, &buffer));
		lengths[index] = buffer.length;
		views[index] = mmap(NULL, buffer.length, PROT_READ, MAP_SHARED,
				    video, buffer.m.offset);
		ASSERT_NE(MAP_FAILED, views[index]);
		ASSERT_EQ(0, video_ioctl(video, VIDIOC_QBUF, &buffer));
	}
	ASSERT_EQ(0, stream(video, VIDIOC_STREAMON));
	for (frame = 0; frame < REFERENCE_FRAMES; frame++) {
		dequeue_frame(_metadata, video, V4L2_MEMORY_MMAP, &buffer);
		ASSERT_GT(count, buffer.index);
		ASSERT_EQ(format->sizeimage, buffer.bytesused);
		if (frame == 0) {
			memcpy(reference, views[buffer.index],
			       format->sizeimage);
		} else {
			offset = first_difference(views[buffer.index],
						  reference,
						  format->sizeimage);
			ASSERT_EQ(-1, offset)
				TH_LOG("vivid's frame %d differs from its first at byte %ld: something still varies per frame",
				       frame, offset);
		}
		ASSERT_EQ(0, video_ioctl(video, VIDIOC_QBUF, &buffer));
	}
	ASSERT_EQ(0, stream(video, VIDIOC_STREAMOFF));
	for (index = 0; index < count; index++)
		ASSERT_EQ(0, munmap(views[index], lengths[index]));
	request_buffers(_metadata, video, V4L2_MEMORY_MMAP, 0);
	/* An all-poison reference would pass blocks vivid never wrote. */
	ASSERT_NE(-1, first_unpoisoned(reference, 0, format->sizeimage));
}

/*
 * A frame read through a block's mapping must be the reference, byte for
 * byte, and vivid must not have written past sizeimage: the rest of the
 * block keeps its poison.
 */
static void check_frame(struct __test_metadata *_metadata, const __u8 *view,
			size_t length, const __u8 *reference,
			const struct v4l2_pix_format *format)
{
	long offset;

	offset = first_difference(view, reference, format->sizeimage);
	ASSERT_EQ(-1, offset)
		TH_LOG("frame byte %ld is 0x%02x, the reference's 0x%02x%s",
		       offset, view[offset], reference[offset],
		       view[offset] == POISON ? " (poison: never written)" : "");
	offset = first_unpoisoned(view, format->sizeimage, length);
	ASSERT_EQ(-1, offset)
		TH_LOG("byte %ld, past sizeimage %u, was written", offset,
		       format->sizeimage);
}

/* The block behind one capture buffer. */
struct capture_block {
	struct cmamem_alloc alloc;
	__u8 *view;
	int dmabuf;
};

/* Allocates and maps a block of @mode and fills it with poison. */
static void alloc_poisoned_block(struct __test_metadata *_metadata,
				 int pool, struct cmamem_tracker *tracker,
				 size_t length, __u32 mode,
				 struct capture_block *block)
{
	char name[CMAMEM_NAME_SIZE];

	cmamem_unique_name(name, "v4l2");
	ASSERT_EQ(0, cmamem_alloc_named(pool, name, length, mode, CMAMEM_MAP,
					0, &block->alloc));
	ASSERT_EQ(length, block->alloc.length);
	block->view = cmamem_track_map(tracker,
				       cmamem_ptr(block->alloc.user_address),
				       length);
	block->dmabuf = -1;
	memset(block->view, POISON, length);
	/* Written back or drained before the importer writes the frame. */
	if (mode != CMAMEM_MODE_COHERENT)
		ASSERT_EQ(0, cmamem_sync(pool, block->alloc.handle,
					 CMAMEM_SYNC_FOR_DEVICE, 0, length));
}

static void export_block(struct __test_metadata *_metadata, int pool,
			 struct cmamem_tracker *tracker,
			 struct capture_block *block)
{
	int dmabuf;

	ASSERT_EQ(0, cmamem_export(pool, block->alloc.handle,
				   O_RDWR | O_CLOEXEC, &dmabuf));
	block->dmabuf = cmamem_track_fd(tracker, dmabuf);
}

static int dmabuf_sync(int dmabuf, __u64 flags)
{
	struct dma_buf_sync sync = { .flags = flags };

	return ioctl(dmabuf, DMA_BUF_IOCTL_SYNC, &sync) ? -errno : 0;
}

static void queue_dmabuf(struct __test_metadata *_metadata, int video,
			 __u32 index, const struct capture_block *block)
{
	struct v4l2_buffer buffer = {
		.index = index,
		.type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
		.memory = V4L2_MEMORY_DMABUF,
		.m.fd = block->dmabuf,
		.length = (__u32)block->alloc.length,
	};

	ASSERT_EQ(0, video_ioctl(video, VIDIOC_QBUF, &buffer))
		TH_LOG("QBUF of dma-buf %d: %s", block->dmabuf,
		       strerror(errno));
}

static __u64 pool_used_bytes(struct __test_metadata *_metadata, int pool)
{
	struct cmamem_pool_info info;

	ASSERT_EQ(0, cmamem_pool_info(pool, &info));
	return info.used_bytes;
}

FIXTURE(vivid_dmabuf) {
	int pool;
	int video;
	size_t page_size;
	struct cmamem_tracker tracker;
};

FIXTURE_VARIANT(vivid_dmabuf) {
	enum vivid_allocator allocator;
	__u32 mode;
};

FIXTURE_VARIANT_ADD(vivid_dmabuf, vmalloc_coherent) {
	.allocator = VIVID_VB2_VMALLOC,
	.mode = CMAMEM_MODE_COHERENT,
};

FIXTURE_VARIANT_ADD(vivid_dmabuf, vmalloc_writecombine) {
	.allocator = VIVID_VB2_VMALLOC,
	.mode = CMAMEM_MODE_WRITECOMBINE,
};

FIXTURE_VARIANT_ADD(vivid_dmabuf, vmalloc_cached) {
	.allocator = VIVID_VB2_VMALLOC,
	.mode = CMAMEM_MODE_CACHED,
};

FIXTURE_VARIANT_ADD(vivid_dmabuf, dma_contig_coherent) {
	.allocator = VIVID_VB2_DMA_CONTIG,
	.mode = CMAMEM_MODE_COHERENT,
};

FIXTURE_VARIANT_ADD(vivid_dmabuf, dma_contig_writecombine) {
	.allocator = VIVID_VB2_DMA_CONTIG,
	.mode = CMAMEM_MODE_WRITECOMBINE,
};

FIXTURE_VARIANT_ADD(vivid_dmabuf, dma_contig_cached) {
	.allocator = VIVID_VB2_DMA_CONTIG,
	.mode = CMAMEM_MODE_CACHED,
};

/*
 * The pool the vivid_dmabuf tests allocate from: /dev/cmamem, or the pool
 * CMAMEM_V4L2_POOL names (cmamem_highmem_test runs them on a pool whose
 * memory is highmem).
 */
static const char *dmabuf_pool_path(void)
{
	const char *path = getenv("CMAMEM_V4L2_POOL");

	return path && *path ? path : CMAMEM_DEFAULT_POOL_PATH;
}

FIXTURE_SETUP(vivid_dmabuf)
{
	struct cmamem_pool_info info;
	int video;

	cmamem_tracker_init(&self->tracker);
	self->page_size = cmamem_page_size();
	self->pool = cmamem_track_fd(&self->tracker,
				     open(dmabuf_pool_path(),
					  O_RDWR | O_CLOEXEC));
	ASSERT_LE(0, self->pool);
	ASSERT_EQ(0, cmamem_pool_info(self->pool, &info));
	if (variant->mode == CMAMEM_MODE_CACHED &&
	    !(info.pool_flags & CMAMEM_POOL_CACHED))
		SKIP(return, "the pool %s has no cached blocks",
		     dmabuf_pool_path());
	video = open_vivid_capture(variant->allocator);
	if (video == -ENODEV)
		SKIP(return, VIVID_MISSING);
	if (video < 0)
		SKIP(return, "no vivid instance uses allocators=%u (load vivid with n_devs=2 node_types=0x1,0x1 allocators=0,1)",
		     variant->allocator);
	self->video = cmamem_track_fd(&self->tracker, video);
}

FIXTURE_TEARDOWN(vivid_dmabuf)
{
	/* Closing the video node stops streaming and drops the dma-bufs. */
	cmamem_tracker_release(&self->tracker);
}

/**
 * struct dmabuf_capture - what both DMABUF stream tests start from
 * @format: the full-size capture format
 * @reference: the frame vivid captured into its own MMAP buffers
 * @length: a block's length: the frame, in whole pages
 * @count: how many DMABUF buffers vivid gave
 * @used_before: the pool's used bytes before the test made blocks
 */
struct dmabuf_capture {
	struct v4l2_pix_format format;
	__u8 *reference;
	size_t length;
	__u32 count;
	__u64 used_before;
};

static void dmabuf_capture_prepare(struct __test_metadata *_metadata,
				   FIXTURE_DATA(vivid_dmabuf) *self,
				   struct dmabuf_capture *capture)
{
	capture->used_before = pool_used_bytes(_metadata, self->pool);
	configure_capture(_metadata, self->video, FULL_WIDTH, FULL_HEIGHT,
			  &capture->format);
	capture->reference = malloc(capture->format.sizeimage);
	ASSERT_NE(NULL, capture->reference);
	capture_reference(_metadata, self->video, &capture->format,
			  capture->reference);
	capture->length = page_round_up(capture->format.sizeimage,
					self->page_size);
	capture->count = request_buffers(_metadata, self->video,
					 V4L2_MEMORY_DMABUF, CAPTURE_BUFFERS);
}

/*
 * Streams FILLS_PER_BUFFER frames per queued block and checks each one
 * through the block's own mapping; the block is poisoned again before it
 * is queued again, so each frame is a fresh write. Cache maintenance goes
 * through CMAMEM_IOCTL_SYNC on the block's handle, or, when the handles
 * are gone, through DMA_BUF_IOCTL_SYNC on the dma-buf.
 */
static void dmabuf_capture_stream(struct __test_metadata *_metadata,
				  FIXTURE_DATA(vivid_dmabuf) *self,
				  const FIXTURE_VARIANT(vivid_dmabuf) *variant,
				  const struct dmabuf_capture *capture,
				  struct capture_block *blocks,
				  bool sync_through_dmabuf)
{
	size_t length = capture->length;
	struct capture_block *block;
	struct v4l2_buffer buffer;
	__u32 frame;

	ASSERT_EQ(0, stream(self->video, VIDIOC_STREAMON));
	for (frame = 0; frame < capture->count * FILLS_PER_BUFFER; frame++) {
		dequeue_frame(_metadata, self->video, V4L2_MEMORY_DMABUF,
			      &buffer);
		ASSERT_GT(capture->count, buffer.index);
		block = &blocks[buffer.index];
		ASSERT_EQ(block->dmabuf, buffer.m.fd);
		ASSERT_EQ(capture->format.sizeimage, buffer.bytesused);
		/*
		 * What a program does after a device wrote a cached block.
		 * vivid is no real device: it writes with the CPU through
		 * dma_buf_vmap()'s mapping and ends no CPU access, so on a
		 * real arm64 board this invalidate could drop lines it left
		 * dirty (the emulator has no caches). On a board, a failing
		 * cached variant is vivid's doing before it is cmamem's.
		 */
		if (sync_through_dmabuf) {
			ASSERT_EQ(0, dmabuf_sync(block->dmabuf,
						 DMA_BUF_SYNC_START |
						 DMA_BUF_SYNC_RW));
		} else if (variant->mode == CMAMEM_MODE_CACHED) {
			ASSERT_EQ(0, cmamem_sync(self->pool,
						 block->alloc.handle,
						 CMAMEM_SYNC_FOR_CPU, 0,
						 length));
		}
		check_frame(_metadata, block->view, length,
			    capture->reference, &capture->format);

		memset(block->view, POISON, length);
		if (sync_through_dmabuf) {
			ASSERT_EQ(0, dmabuf_sync(block->dmabuf,
						 DMA_BUF_SYNC_END |
						 DMA_BUF_SYNC_RW));
		} else if (variant->mode != CMAMEM_MODE_COHERENT) {
			ASSERT_EQ(0, cmamem_sync(self->pool,
						 block->alloc.handle,
						 CMAMEM_SYNC_FOR_DEVICE, 0,
						 length));
		}
		queue_dmabuf(_metadata, self->video, buffer.index, block);
	}
	ASSERT_EQ(0, stream(self->video, VIDIOC_STREAMOFF));
	request_buffers(_metadata, self->video, V4L2_MEMORY_DMABUF, 0);
}

/* Exported blocks as DMABUF capture buffers, every frame checked. */
TEST_F_TIMEOUT(vivid_dmabuf, streams_into_exported_blocks,
	       STREAM_TEST_TIMEOUT_S)
{
	struct capture_block blocks[MAX_CAPTURE_BUFFERS];
	struct dmabuf_capture capture;
	__u32 index;

	dmabuf_capture_prepare(_metadata, self, &capture);
	for (index = 0; index < capture.count; index++) {
		alloc_poisoned_block(_metadata, self->pool, &self->tracker,
				     capture.length, variant->mode,
				     &blocks[index]);
		export_block(_metadata, self->pool, &self->tracker,
			     &blocks[index]);
		queue_dmabuf(_metadata, self->video, index, &blocks[index]);
	}
	dmabuf_capture_stream(_metadata, self, variant, &capture, blocks,
			      false);

	for (index = 0; index < capture.count; index++) {
		ASSERT_EQ(0, cmamem_close(&self->tracker, blocks[index].dmabuf));
		ASSERT_EQ(0, cmamem_unmap(&self->tracker, blocks[index].view));
		ASSERT_EQ(0, cmamem_free(self->pool,
					 blocks[index].alloc.handle));
	}
	ASSERT_EQ(capture.used_before, pool_used_bytes(_metadata, self->pool))
		TH_LOG("%s blocks were not freed", cmamem_mode_name(variant->mode));
	free(capture.reference);
}

/*
 * The dma-bufs alone (and the mappings) keep the blocks: their handles are
 * freed and the pool fd that made them is closed before vivid imports
 * them. Cache maintenance then goes through DMA_BUF_IOCTL_SYNC, the only
 * way left. The memory goes back to the pool only when vivid, the dma-buf
 * fds and the mappings have all let go.
 */
TEST_F_TIMEOUT(vivid_dmabuf, streams_after_free_and_close,
	       STREAM_TEST_TIMEOUT_S)
{
	struct capture_block blocks[MAX_CAPTURE_BUFFERS];
	struct dmabuf_capture capture;
	__u32 index;
	int owner;

	/* self->pool only watches the pool; owner makes the blocks. */
	dmabuf_capture_prepare(_metadata, self, &capture);
	owner = cmamem_track_fd(&self->tracker,
				open(dmabuf_pool_path(), O_RDWR | O_CLOEXEC));
	ASSERT_LE(0, owner);
	for (index = 0; index < capture.count; index++) {
		alloc_poisoned_block(_metadata, owner, &self->tracker,
				     capture.length, variant->mode,
				     &blocks[index]);
		export_block(_metadata, owner, &self->tracker, &blocks[index]);
		ASSERT_EQ(0, cmamem_free(owner, blocks[index].alloc.handle));
	}
	ASSERT_EQ(0, cmamem_close(&self->tracker, owner));
	ASSERT_EQ(capture.used_before + capture.count * capture.length,
		  pool_used_bytes(_metadata, self->pool));

	for (index = 0; index < capture.count; index++)
		queue_dmabuf(_metadata, self->video, index, &blocks[index]);
	dmabuf_capture_stream(_metadata, self, variant, &capture, blocks,
			      true);

	/* vivid let go; the dma-buf fds go next, the mappings still hold. */
	for (index = 0; index < capture.count; index++)
		ASSERT_EQ(0, cmamem_close(&self->tracker, blocks[index].dmabuf));
	ASSERT_EQ(capture.used_before + capture.count * capture.length,
		  pool_used_bytes(_metadata, self->pool));
	for (index = 0; index < capture.count; index++)
		ASSERT_EQ(0, cmamem_unmap(&self->tracker, blocks[index].view));
	ASSERT_EQ(capture.used_before, pool_used_bytes(_metadata, self->pool));
	free(capture.reference);
}

FIXTURE(vivid_userptr) {
	int pool;
	int video;
	size_t page_size;
	bool pool_cached;
	bool cached_in_cma;
	struct cmamem_tracker tracker;
};

/*
 * Whether the default pool's multi-page cached blocks lie in CMA, which
 * their reply tells (not CMAMEM_REPLY_PINNABLE). A CMA pool alone does
 * not say: on the 32-bit kernels the default CMA area is highmem, which
 * dma_alloc_pages() never returns, so those blocks come from the page
 * allocator and are pinnable.
 */
static bool cached_blocks_in_cma(int pool, size_t page_size)
{
	struct cmamem_alloc probe;
	bool in_cma;

	if (cmamem_alloc_block(pool, "cmaprobe", 16 * page_size,
			       CMAMEM_MODE_CACHED, &probe))
		return false;
	in_cma = !(probe.out_flags & CMAMEM_REPLY_PINNABLE);
	cmamem_free(pool, probe.handle);
	return in_cma;
}

FIXTURE_SETUP(vivid_userptr)
{
	struct cmamem_pool_info info;
	int video;

	cmamem_tracker_init(&self->tracker);
	self->page_size = cmamem_page_size();
	self->pool = cmamem_track_fd(&self->tracker,
				     open(CMAMEM_DEFAULT_POOL_PATH,
					  O_RDWR | O_CLOEXEC));
	ASSERT_LE(0, self->pool);
	ASSERT_EQ(0, cmamem_pool_info(self->pool, &info));
	self->pool_cached = info.pool_flags & CMAMEM_POOL_CACHED;
	self->cached_in_cma = self->pool_cached &&
			      (info.pool_flags & CMAMEM_POOL_CMA) &&
			      cached_blocks_in_cma(self->pool, self->page_size);
	/* vivid offers USERPTR only with vb2-vmalloc. */
	video = open_vivid_capture(VIVID_VB2_VMALLOC);
	if (video == -ENODEV)
		SKIP(return, VIVID_MISSING);
	if (video < 0)
		SKIP(return, "no vivid instance uses allocators=0 (vb2-vmalloc), the only one with USERPTR");
	self->video = cmamem_track_fd(&self->tracker, video);
}

FIXTURE_TEARDOWN(vivid_userptr)
{
	/* Closing the video node stops streaming and unpins the pages. */
	cmamem_tracker_release(&self->tracker);
}

/* QBUF of @block's mapping as USERPTR buffer @index; 0 or -errno. */
static int try_queue_userptr(int video, __u32 index,
			     const struct capture_block *block)
{
	struct v4l2_buffer buffer = {
		.index = index,
		.type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
		.memory = V4L2_MEMORY_USERPTR,
		.m.userptr = (unsigned long)(uintptr_t)block->view,
		.length = (__u32)block->alloc.length,
	};

	return video_ioctl(video, VIDIOC_QBUF, &buffer);
}

static void queue_userptr(struct __test_metadata *_metadata, int video,
			  __u32 index, const struct capture_block *block)
{
	int result = try_queue_userptr(video, index, block);

	ASSERT_EQ(0, result)
		TH_LOG("QBUF of USERPTR %p: %s", block->view,
		       strerror(-result));
}

/*
 * Mappings of cached blocks of the current format's size (rounded up to
 * pages) as USERPTR capture buffers: vb2 pins their pages long-term
 * (get_user_pages with FOLL_LONGTERM), which works only on page-backed
 * mappings, and vmaps them.
 *
 * vb2-vmalloc does no cache maintenance on USERPTR buffers and vivid fills
 * them with the CPU through that vmap; data caches are physically tagged,
 * so the block's own mapping sees the frame as it is, and none is done
 * here either.
 */
static void stream_into_userptr(struct __test_metadata *_metadata,
				FIXTURE_DATA(vivid_userptr) *self,
				const struct v4l2_pix_format *format,
				const __u8 *reference)
{
	struct capture_block blocks[MAX_CAPTURE_BUFFERS];
	struct v4l2_buffer buffer;
	struct capture_block *block;
	__u64 used_before;
	__u32 count, index;
	size_t length;
	__u32 frame;

	used_before = pool_used_bytes(_metadata, self->pool);
	length = page_round_up(format->sizeimage, self->page_size);
	count = request_buffers(_metadata, self->video, V4L2_MEMORY_USERPTR,
				CAPTURE_BUFFERS);
	for (index = 0; index < count; index++) {
		alloc_poisoned_block(_metadata, self->pool, &self->tracker,
				     length, CMAMEM_MODE_CACHED,
				     &blocks[index]);
		queue_userptr(_metadata, self->video, index, &blocks[index]);
	}
	ASSERT_EQ(0, stream(self->video, VIDIOC_STREAMON));

	for (frame = 0; frame < count * FILLS_PER_BUFFER; frame++) {
		dequeue_frame(_metadata, self->video, V4L2_MEMORY_USERPTR,
			      &buffer);
		ASSERT_GT(count, buffer.index);
		block = &blocks[buffer.index];
		ASSERT_EQ((unsigned long)(uintptr_t)block->view,
			  buffer.m.userptr);
		ASSERT_EQ(format->sizeimage, buffer.bytesused);
		check_frame(_metadata, block->view, length, reference, format);
		memset(block->view, POISON, length);
		queue_userptr(_metadata, self->video, buffer.index, block);
	}

	ASSERT_EQ(0, stream(self->video, VIDIOC_STREAMOFF));
	/* Unpins the pages. */
	request_buffers(_metadata, self->video, V4L2_MEMORY_USERPTR, 0);
	for (index = 0; index < count; index++) {
		ASSERT_EQ(0, cmamem_unmap(&self->tracker, blocks[index].view));
		ASSERT_EQ(0, cmamem_free(self->pool,
					 blocks[index].alloc.handle));
	}
	ASSERT_EQ(used_before, pool_used_bytes(_metadata, self->pool));
}

/*
 * A one-page cached block of the default pool never comes from CMA:
 * dma_alloc_contiguous() leaves allocations of a page or less to the page
 * allocator, whose unmovable pages may be pinned long-term. So this runs
 * on every kernel, with vivid's smallest frame.
 */
TEST_F_TIMEOUT(vivid_userptr, one_page_cached_block, STREAM_TEST_TIMEOUT_S)
{
	struct v4l2_pix_format format;
	__u8 *reference;

	if (!self->pool_cached)
		SKIP(return, "the default pool has no cached blocks");
	configure_capture(_metadata, self->video, TINY_WIDTH, TINY_HEIGHT,
			  &format);
	ASSERT_GE(self->page_size, format.sizeimage);
	reference = malloc(format.sizeimage);
	ASSERT_NE(NULL, reference);
	capture_reference(_metadata, self->video, &format, reference);
	stream_into_userptr(_metadata, self, &format, reference);
	free(reference);
}

/*
 * A full frame needs a multi-page cached block. Where the pool is CMA, its
 * pages are in a CMA pageblock, which a FOLL_LONGTERM pin first tries to
 * migrate out of; driver-owned pages cannot move, and Linux 6.1 and 6.12
 * retry in __gup_longterm_locked() until the task is killed. So such a
 * block refuses pins (next test), and this runs only where the page
 * allocator serves cached blocks (the PC kernel, and the 32-bit ARM ones,
 * whose default CMA area is highmem).
 */
TEST_F_TIMEOUT(vivid_userptr, full_frame_cached_block, STREAM_TEST_TIMEOUT_S)
{
	struct v4l2_pix_format format;
	__u8 *reference;

	if (!self->pool_cached)
		SKIP(return, "the default pool has no cached blocks");
	if (self->cached_in_cma)
		SKIP(return, "the default pool's multi-page cached blocks are in CMA and refuse pins (full_frame_cma_block_refused_at_once checks that)");
	configure_capture(_metadata, self->video, FULL_WIDTH, FULL_HEIGHT,
			  &format);
	ASSERT_LT(self->page_size, format.sizeimage);
	reference = malloc(format.sizeimage);
	ASSERT_NE(NULL, reference);
	capture_reference(_metadata, self->video, &format, reference);
	stream_into_userptr(_metadata, self, &format, reference);
	free(reference);
}

/*
 * QBUF of a USERPTR buffer in a block of @mode whose mapping refuses pins:
 * EFAULT at once, and nothing stays pinned, written or allocated.
 */
static void userptr_refused(struct __test_metadata *_metadata,
			    FIXTURE_DATA(vivid_userptr) *self,
			    unsigned int width, unsigned int height,
			    __u32 mode)
{
	struct v4l2_pix_format format;
	struct capture_block block;
	__u64 used_before;
	size_t length;
	int result;

	used_before = pool_used_bytes(_metadata, self->pool);
	configure_capture(_metadata, self->video, width, height, &format);
	length = page_round_up(format.sizeimage, self->page_size);
	request_buffers(_metadata, self->video, V4L2_MEMORY_USERPTR, 1);
	alloc_poisoned_block(_metadata, self->pool, &self->tracker, length,
			     mode, &block);
	ASSERT_FALSE(block.alloc.out_flags & CMAMEM_REPLY_PINNABLE);
	result = try_queue_userptr(self->video, 0, &block);
	ASSERT_EQ(-EFAULT, result)
		TH_LOG("QBUF of a %s block of %zu bytes: %s",
		       cmamem_mode_name(mode), length,
		       result ? strerror(-result) : "accepted");

	request_buffers(_metadata, self->video, V4L2_MEMORY_USERPTR, 0);
	ASSERT_EQ(-1, first_unpoisoned(block.view, 0, length));
	ASSERT_EQ(0, cmamem_unmap(&self->tracker, block.view));
	ASSERT_EQ(0, cmamem_free(self->pool, block.alloc.handle));
	ASSERT_EQ(used_before, pool_used_bytes(_metadata, self->pool));
}

/*
 * Where the pool is CMA, a full-frame cached block (not CMAMEM_PINNABLE)
 * refuses the long-term pin QBUF takes: EFAULT at once, where it used to
 * hang the task in the kernel. The harness's timeout catches a hang.
 */
TEST_F_TIMEOUT(vivid_userptr, full_frame_cma_block_refused_at_once,
	       STREAM_TEST_TIMEOUT_S)
{
	if (!self->cached_in_cma)
		SKIP(return, "the default pool has no cached blocks in CMA");
	userptr_refused(_metadata, self, FULL_WIDTH, FULL_HEIGHT,
			CMAMEM_MODE_CACHED);
}

/*
 * A one-page USERPTR buffer in a write-combine block: its mapping is
 * VM_PFNMAP (dma_mmap_attrs()), which get_user_pages refuses. Being
 * page-backed is what lets a cached block be a USERPTR buffer.
 */
TEST_F_TIMEOUT(vivid_userptr, writecombine_mapping_efault,
	       STREAM_TEST_TIMEOUT_S)
{
	userptr_refused(_metadata, self, TINY_WIDTH, TINY_HEIGHT,
			CMAMEM_MODE_WRITECOMBINE);
}

TEST_HARNESS_MAIN
