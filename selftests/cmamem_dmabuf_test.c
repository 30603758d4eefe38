// SPDX-License-Identifier: GPL-2.0
/*
 * cmamem dma-buf export: the dma-buf's own mmap and cache sync, its
 * lifetime against FREE, close, fork and module removal, the ioctl's
 * argument checks, and a real importer (DRM vgem) reading the block.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/dma-buf.h>

#include "cmamem_util.h"
#include "kselftest_harness.h"

#define CMAMEM_EXPORT_SIZE_V1	24
#define CMAMEM_REFCNT_PATH	"/sys/module/cmamem/refcnt"

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

static int export_block(int fd, __u32 handle, __u32 fd_flags, int *dmabuf)
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

static int dmabuf_sync(int dmabuf, __u64 flags)
{
	struct dma_buf_sync sync = { .flags = flags };

	return ioctl(dmabuf, DMA_BUF_IOCTL_SYNC, &sync) ? -errno : 0;
}

/* The module's reference count, or -1 if it cannot be read. */
static long module_refcount(void)
{
	__u64 value;

	if (cmamem_read_u64(CMAMEM_REFCNT_PATH, &value))
		return -1;
	return (long)value;
}

FIXTURE(dmabuf) {
	int fd;
	size_t page_size;
	size_t length;
	bool cached;
	struct cmamem_tracker tracker;
};

FIXTURE_SETUP(dmabuf)
{
	struct cmamem_pool_info info;

	cmamem_tracker_init(&self->tracker);
	self->page_size = cmamem_page_size();
	self->length = 4 * self->page_size;
	self->fd = open(CMAMEM_DEFAULT_POOL_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, cmamem_pool_info(self->fd, &info));
	self->cached = info.pool_flags & CMAMEM_POOL_CACHED;
}

FIXTURE_TEARDOWN(dmabuf)
{
	cmamem_tracker_release(&self->tracker);
	if (self->fd >= 0)
		close(self->fd);
}

/* A block of @mode filled with @seed's pattern through the pool fd. */
static int filled_block(struct __test_metadata *_metadata,
			FIXTURE_DATA(dmabuf) *self, __u32 mode, __u32 seed,
			struct cmamem_alloc *alloc)
{
	void *view;

	if (cmamem_alloc_block(self->fd, "dmabuf", self->length, mode, alloc))
		return -1;
	view = cmamem_map(self->fd, alloc->mmap_offset, self->length,
			  PROT_READ | PROT_WRITE);
	if (view == MAP_FAILED)
		return -1;
	cmamem_fill(view, self->length, seed);
	if (mode == CMAMEM_MODE_CACHED || mode == CMAMEM_MODE_WRITECOMBINE)
		EXPECT_EQ(0, cmamem_sync(self->fd, alloc->handle,
					 CMAMEM_SYNC_FOR_DEVICE, 0,
					 self->length));
	return munmap(view, self->length);
}

/* Maps the dma-buf and checks the pattern, as the parent or a child. */
static int dmabuf_matches(int dmabuf, size_t length, __u32 seed)
{
	void *view;
	long mismatch;

	if (dmabuf_sync(dmabuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ))
		return 2;
	view = mmap(NULL, length, PROT_READ, MAP_SHARED, dmabuf, 0);
	if (view == MAP_FAILED)
		return 3;
	mismatch = cmamem_check(view, length, seed);
	munmap(view, length);
	if (dmabuf_sync(dmabuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ))
		return 4;
	return mismatch < 0 ? 0 : 1;
}

static void export_and_compare(struct __test_metadata *_metadata,
			       FIXTURE_DATA(dmabuf) *self, __u32 mode)
{
	struct cmamem_alloc alloc;
	__u8 *view, *block_view;
	int dmabuf;

	ASSERT_EQ(0, filled_block(_metadata, self, mode, 0x1234 + mode,
				  &alloc));
	ASSERT_EQ(0, export_block(self->fd, alloc.handle,
				  O_RDWR | O_CLOEXEC, &dmabuf));
	ASSERT_EQ(0, dmabuf_matches(dmabuf, self->length, 0x1234 + mode));

	/* Writes through the dma-buf show through the pool fd. */
	view = mmap(NULL, self->length, PROT_READ | PROT_WRITE, MAP_SHARED,
		    dmabuf, 0);
	ASSERT_NE(MAP_FAILED, view);
	ASSERT_EQ(0, dmabuf_sync(dmabuf, DMA_BUF_SYNC_START |
				 DMA_BUF_SYNC_WRITE));
	cmamem_fill(view, self->length, 0x777 + mode);
	ASSERT_EQ(0, dmabuf_sync(dmabuf, DMA_BUF_SYNC_END |
				 DMA_BUF_SYNC_WRITE));
	block_view = cmamem_map(self->fd, alloc.mmap_offset, self->length,
				PROT_READ);
	ASSERT_NE(MAP_FAILED, block_view);
	ASSERT_EQ(0, cmamem_sync(self->fd, alloc.handle, CMAMEM_SYNC_FOR_CPU,
				 0, self->length));
	ASSERT_EQ(-1, cmamem_check(block_view, self->length, 0x777 + mode));
	ASSERT_EQ(0, munmap(block_view, self->length));
	ASSERT_EQ(0, munmap(view, self->length));
	ASSERT_EQ(0, close(dmabuf));
	ASSERT_EQ(0, cmamem_free(self->fd, alloc.handle));
}

TEST_F(dmabuf, export_coherent_mmap_matches)
{
	export_and_compare(_metadata, self, CMAMEM_MODE_COHERENT);
}

TEST_F(dmabuf, export_writecombine_mmap_matches)
{
	export_and_compare(_metadata, self, CMAMEM_MODE_WRITECOMBINE);
}

TEST_F(dmabuf, export_cached_mmap_matches)
{
	if (!self->cached)
		SKIP(return, "the default pool has no cached blocks");
	export_and_compare(_metadata, self, CMAMEM_MODE_CACHED);
}

TEST_F(dmabuf, export_partial_mmap_at_offset)
{
	struct cmamem_alloc alloc;
	__u32 *view;
	int dmabuf;

	ASSERT_EQ(0, filled_block(_metadata, self, CMAMEM_MODE_COHERENT, 99,
				  &alloc));
	ASSERT_EQ(0, export_block(self->fd, alloc.handle, O_RDWR, &dmabuf));
	view = mmap(NULL, self->page_size, PROT_READ, MAP_SHARED, dmabuf,
		    2 * self->page_size);
	ASSERT_NE(MAP_FAILED, view);
	ASSERT_EQ(cmamem_pattern_word(99, 2 * self->page_size / 4), view[0]);
	ASSERT_EQ(0, munmap(view, self->page_size));
	/* Past the end: the dma-buf core refuses it. */
	ASSERT_EQ(MAP_FAILED, mmap(NULL, 2 * self->page_size, PROT_READ,
				   MAP_SHARED, dmabuf, 3 * self->page_size));
	ASSERT_EQ(0, close(dmabuf));
}

TEST_F(dmabuf, mmap_private_einval_exec_eperm)
{
	struct cmamem_alloc alloc;
	int dmabuf;

	ASSERT_EQ(0, cmamem_alloc_block(self->fd, "dbmap", self->length,
					CMAMEM_MODE_COHERENT, &alloc));
	ASSERT_EQ(0, export_block(self->fd, alloc.handle, O_RDWR, &dmabuf));
	ASSERT_EQ(MAP_FAILED, mmap(NULL, self->length, PROT_READ, MAP_PRIVATE,
				   dmabuf, 0));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(MAP_FAILED, mmap(NULL, self->length, PROT_READ | PROT_EXEC,
				   MAP_SHARED, dmabuf, 0));
	ASSERT_EQ(EPERM, errno);
	ASSERT_EQ(0, close(dmabuf));
}

TEST_F(dmabuf, read_only_export_cannot_map_writable)
{
	struct cmamem_alloc alloc;
	void *view;
	int dmabuf;

	ASSERT_EQ(0, cmamem_alloc_block(self->fd, "dbro", self->length,
					CMAMEM_MODE_COHERENT, &alloc));
	ASSERT_EQ(0, export_block(self->fd, alloc.handle, O_RDONLY, &dmabuf));
	ASSERT_EQ(MAP_FAILED, mmap(NULL, self->length, PROT_READ | PROT_WRITE,
				   MAP_SHARED, dmabuf, 0));
	ASSERT_EQ(EACCES, errno);
	view = mmap(NULL, self->length, PROT_READ, MAP_SHARED, dmabuf, 0);
	ASSERT_NE(MAP_FAILED, view);
	ASSERT_EQ(0, munmap(view, self->length));
	ASSERT_EQ(0, close(dmabuf));
}

TEST_F(dmabuf, cloexec_follows_fd_flags)
{
	struct cmamem_alloc alloc;
	int with, without;

	ASSERT_EQ(0, cmamem_alloc_block(self->fd, "dbcx", self->length,
					CMAMEM_MODE_COHERENT, &alloc));
	ASSERT_EQ(0, export_block(self->fd, alloc.handle, O_RDWR | O_CLOEXEC,
				  &with));
	ASSERT_EQ(0, export_block(self->fd, alloc.handle, O_RDWR, &without));
	ASSERT_EQ(FD_CLOEXEC, fcntl(with, F_GETFD) & FD_CLOEXEC);
	ASSERT_EQ(0, fcntl(without, F_GETFD) & FD_CLOEXEC);
	ASSERT_EQ(O_RDWR, fcntl(with, F_GETFL) & O_ACCMODE);
	ASSERT_EQ(0, close(with));
	ASSERT_EQ(0, close(without));
}

TEST_F(dmabuf, sync_cached_with_no_attachment)
{
	const __u64 directions[] = {
		DMA_BUF_SYNC_READ, DMA_BUF_SYNC_WRITE, DMA_BUF_SYNC_RW,
	};
	struct cmamem_alloc alloc;
	unsigned int index;
	int dmabuf;

	if (!self->cached)
		SKIP(return, "the default pool has no cached blocks");
	ASSERT_EQ(0, cmamem_alloc_block(self->fd, "dbsync", self->length,
					CMAMEM_MODE_CACHED, &alloc));
	ASSERT_EQ(0, export_block(self->fd, alloc.handle, O_RDWR, &dmabuf));
	for (index = 0; index < ARRAY_SIZE(directions); index++) {
		ASSERT_EQ(0, dmabuf_sync(dmabuf, DMA_BUF_SYNC_START |
					 directions[index]));
		ASSERT_EQ(0, dmabuf_sync(dmabuf, DMA_BUF_SYNC_END |
					 directions[index]));
	}
	/* The dma-buf core's own check of the flags still applies. */
	ASSERT_EQ(-EINVAL, dmabuf_sync(dmabuf, DMA_BUF_SYNC_START));
	ASSERT_EQ(0, close(dmabuf));
}

TEST_F(dmabuf, block_info_counts_dma_bufs)
{
	struct cmamem_block_info info;
	struct cmamem_alloc alloc;
	int first, second;

	ASSERT_EQ(0, cmamem_alloc_block(self->fd, "dbcount", self->length,
					CMAMEM_MODE_COHERENT, &alloc));
	ASSERT_EQ(0, cmamem_block_info(self->fd, alloc.handle, &info));
	ASSERT_EQ(0, info.dma_bufs);
	ASSERT_EQ(0, export_block(self->fd, alloc.handle, O_RDWR, &first));
	ASSERT_EQ(0, export_block(self->fd, alloc.handle, O_RDWR, &second));
	ASSERT_EQ(0, cmamem_block_info(self->fd, alloc.handle, &info));
	ASSERT_EQ(2, info.dma_bufs);
	ASSERT_EQ(0, close(first));
	ASSERT_EQ(0, cmamem_block_info(self->fd, alloc.handle, &info));
	ASSERT_EQ(1, info.dma_bufs);
	ASSERT_EQ(0, close(second));
	ASSERT_EQ(0, cmamem_block_info(self->fd, alloc.handle, &info));
	ASSERT_EQ(0, info.dma_bufs);
}

TEST_F(dmabuf, outlives_free_and_close)
{
	struct cmamem_pool_info before, during, after;
	struct cmamem_alloc alloc;
	int observer, dmabuf;

	observer = open(CMAMEM_DEFAULT_POOL_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, observer);
	ASSERT_EQ(0, cmamem_pool_info(observer, &before));
	ASSERT_EQ(0, filled_block(_metadata, self, CMAMEM_MODE_COHERENT, 5,
				  &alloc));
	ASSERT_EQ(0, export_block(self->fd, alloc.handle, O_RDWR, &dmabuf));
	ASSERT_EQ(0, cmamem_free(self->fd, alloc.handle));
	ASSERT_EQ(0, close(self->fd));
	self->fd = -1;

	ASSERT_EQ(0, cmamem_pool_info(observer, &during));
	ASSERT_EQ(before.used_bytes + self->length, during.used_bytes);
	ASSERT_EQ(before.blocks + 1, during.blocks);
	ASSERT_EQ(0, dmabuf_matches(dmabuf, self->length, 5));

	ASSERT_EQ(0, close(dmabuf));
	ASSERT_EQ(0, cmamem_pool_info(observer, &after));
	ASSERT_EQ(before.used_bytes, after.used_bytes);
	ASSERT_EQ(before.blocks, after.blocks);
	ASSERT_EQ(0, close(observer));
}

TEST_F(dmabuf, mapping_outlives_dmabuf_fd)
{
	struct cmamem_pool_info before, after;
	struct cmamem_alloc alloc;
	int dmabuf;
	void *view;

	ASSERT_EQ(0, cmamem_pool_info(self->fd, &before));
	ASSERT_EQ(0, filled_block(_metadata, self, CMAMEM_MODE_COHERENT, 6,
				  &alloc));
	ASSERT_EQ(0, export_block(self->fd, alloc.handle, O_RDWR, &dmabuf));
	ASSERT_EQ(0, cmamem_free(self->fd, alloc.handle));
	view = mmap(NULL, self->length, PROT_READ, MAP_SHARED, dmabuf, 0);
	ASSERT_NE(MAP_FAILED, view);
	ASSERT_EQ(0, close(dmabuf));
	ASSERT_EQ(-1, cmamem_check(view, self->length, 6));
	ASSERT_EQ(0, munmap(view, self->length));
	ASSERT_EQ(0, cmamem_pool_info(self->fd, &after));
	ASSERT_EQ(before.used_bytes, after.used_bytes);
}

TEST_F(dmabuf, module_pinned_while_dmabuf_lives)
{
	struct cmamem_alloc alloc;
	long with_dmabuf, without_dmabuf;
	int dmabuf;

	if (module_refcount() < 0)
		SKIP(return, "cmamem is built in or has no refcnt file");
	ASSERT_EQ(0, cmamem_alloc_block(self->fd, "dbmod", self->length,
					CMAMEM_MODE_COHERENT, &alloc));
	ASSERT_EQ(0, export_block(self->fd, alloc.handle, O_RDWR, &dmabuf));
	ASSERT_EQ(0, close(self->fd));
	self->fd = -1;
	/* No pool file and no mapping left: only the dma-buf holds it. */
	with_dmabuf = module_refcount();
	ASSERT_LT(0, with_dmabuf);
	ASSERT_EQ(0, close(dmabuf));
	without_dmabuf = module_refcount();
	ASSERT_EQ(with_dmabuf - 1, without_dmabuf);
}

static int child_reads_dmabuf(void *argument)
{
	int *fds = argument;

	return dmabuf_matches(fds[0], (size_t)fds[1], 77);
}

TEST_F(dmabuf, fork_child_reads_dmabuf)
{
	struct cmamem_alloc alloc;
	int fds[2];

	ASSERT_EQ(0, filled_block(_metadata, self, CMAMEM_MODE_COHERENT, 77,
				  &alloc));
	ASSERT_EQ(0, export_block(self->fd, alloc.handle, O_RDWR, &fds[0]));
	fds[1] = (int)self->length;
	/* The parent lets go of the block before the child looks. */
	ASSERT_EQ(0, cmamem_free(self->fd, alloc.handle));
	ASSERT_EQ(0, cmamem_run_child(child_reads_dmabuf, fds));
	ASSERT_EQ(0, close(fds[0]));
}

TEST_F(dmabuf, export_size_too_small_einval)
{
	struct cmamem_export request = {
		.size = CMAMEM_EXPORT_SIZE_V1 - 4,
	};
	struct cmamem_alloc alloc;

	ASSERT_EQ(0, cmamem_alloc_block(self->fd, "dbsz", self->length,
					CMAMEM_MODE_COHERENT, &alloc));
	request.handle = alloc.handle;
	ASSERT_EQ(-EINVAL, cmamem_ioctl(self->fd, CMAMEM_IOCTL_EXPORT,
					&request));
}

TEST_F(dmabuf, export_nonzero_tail_e2big_zero_tail_ok)
{
	struct {
		struct cmamem_export request;
		__u64 tail;
	} big;
	struct cmamem_alloc alloc;

	ASSERT_EQ(CMAMEM_EXPORT_SIZE_V1, sizeof(struct cmamem_export));
	ASSERT_EQ(0, cmamem_alloc_block(self->fd, "dbbig", self->length,
					CMAMEM_MODE_COHERENT, &alloc));
	memset(&big, 0, sizeof(big));
	big.request.size = sizeof(big);
	big.request.handle = alloc.handle;
	big.request.fd_flags = O_RDWR;
	big.tail = 1;
	ASSERT_EQ(-E2BIG, cmamem_ioctl(self->fd, CMAMEM_IOCTL_EXPORT, &big));
	big.tail = 0;
	ASSERT_EQ(0, cmamem_ioctl(self->fd, CMAMEM_IOCTL_EXPORT, &big));
	ASSERT_LE(0, (int)big.request.fd);
	ASSERT_EQ(0, close((int)big.request.fd));
}

static void export_expect(struct __test_metadata *_metadata,
			  FIXTURE_DATA(dmabuf) *self,
			  void (*spoil)(struct cmamem_export *request),
			  int expected)
{
	struct cmamem_export request;
	struct cmamem_block_info info;
	struct cmamem_alloc alloc;

	ASSERT_EQ(0, cmamem_alloc_block(self->fd, "dbbad", self->length,
					CMAMEM_MODE_COHERENT, &alloc));
	memset(&request, 0, sizeof(request));
	request.size = sizeof(request);
	request.handle = alloc.handle;
	request.fd_flags = O_RDWR;
	request.fd = (__u32)-1;
	spoil(&request);
	ASSERT_EQ(expected, cmamem_ioctl(self->fd, CMAMEM_IOCTL_EXPORT,
					 &request));
	ASSERT_EQ(-1, (int)request.fd);
	/* Nothing was exported. */
	ASSERT_EQ(0, cmamem_block_info(self->fd, alloc.handle, &info));
	ASSERT_EQ(0, info.dma_bufs);
}

static void spoil_flags(struct cmamem_export *request)
{
	request->flags = 1;
}

static void spoil_high_flag(struct cmamem_export *request)
{
	request->flags = 1u << 31;
}

static void spoil_fd_flags_nonblock(struct cmamem_export *request)
{
	request->fd_flags |= O_NONBLOCK;
}

static void spoil_fd_flags_creat(struct cmamem_export *request)
{
	request->fd_flags |= O_CREAT;
}

static void spoil_reserved(struct cmamem_export *request)
{
	request->__reserved = 1;
}

static void spoil_handle(struct cmamem_export *request)
{
	request->handle += 1000;
}

static void spoil_handle_zero(struct cmamem_export *request)
{
	request->handle = 0;
}

TEST_F(dmabuf, export_unknown_flag_einval)
{
	export_expect(_metadata, self, spoil_flags, -EINVAL);
	export_expect(_metadata, self, spoil_high_flag, -EINVAL);
}

TEST_F(dmabuf, export_bad_fd_flags_einval)
{
	export_expect(_metadata, self, spoil_fd_flags_nonblock, -EINVAL);
	export_expect(_metadata, self, spoil_fd_flags_creat, -EINVAL);
}

TEST_F(dmabuf, export_reserved_nonzero_einval)
{
	export_expect(_metadata, self, spoil_reserved, -EINVAL);
}

TEST_F(dmabuf, export_unknown_handle_enoent)
{
	export_expect(_metadata, self, spoil_handle, -ENOENT);
	export_expect(_metadata, self, spoil_handle_zero, -ENOENT);
}

TEST_F(dmabuf, export_freed_handle_enoent)
{
	struct cmamem_alloc alloc;
	int dmabuf;

	ASSERT_EQ(0, cmamem_alloc_block(self->fd, "dbfreed", self->length,
					CMAMEM_MODE_COHERENT, &alloc));
	ASSERT_EQ(0, cmamem_free(self->fd, alloc.handle));
	ASSERT_EQ(-ENOENT, export_block(self->fd, alloc.handle, O_RDWR,
					&dmabuf));
}

TEST_F(dmabuf, export_carveout_eopnotsupp)
{
	struct cmamem_block_info info;
	struct cmamem_pool_info pool;
	struct cmamem_alloc alloc;
	int carveout, dmabuf = -1;
	char path[64];

	if (cmamem_find_pool(CMAMEM_POOL_CARVEOUT, 0, path, sizeof(path),
			     &pool))
		SKIP(return, "no carveout pool on this machine");
	carveout = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, carveout);
	ASSERT_EQ(0, cmamem_alloc_block(carveout, "dbcarve", self->page_size,
					CMAMEM_MODE_COHERENT, &alloc));
	ASSERT_EQ(-EOPNOTSUPP, export_block(carveout, alloc.handle, O_RDWR,
					    &dmabuf));
	ASSERT_EQ(-1, dmabuf);
	ASSERT_EQ(0, cmamem_block_info(carveout, alloc.handle, &info));
	ASSERT_EQ(0, info.dma_bufs);
	ASSERT_EQ(0, close(carveout));
}

/* The first DRM card node whose driver is vgem, or -1. */
static int open_vgem(void)
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

/*
 * vgem imports the block with PRIME: it attaches its device and maps the
 * attachment, keeping the dma-buf alive after our fd is closed. DRM
 * refuses MODE_MAP_DUMB for imported objects (drm_gem_dumb_map_offset()),
 * so the bytes are read back through the fd vgem exports for its handle,
 * which must be that same dma-buf.
 */
static void vgem_reads_block(struct __test_metadata *_metadata,
			     FIXTURE_DATA(dmabuf) *self, __u32 mode)
{
	struct test_drm_prime_handle prime = { 0 };
	struct test_drm_prime_handle back = { 0 };
	struct test_drm_gem_close gem_close = { 0 };
	struct cmamem_pool_info before, after;
	struct cmamem_alloc alloc;
	struct stat ours, theirs;
	int card, dmabuf;

	card = open_vgem();
	if (card < 0)
		SKIP(return, "no vgem device (/dev/dri/card* named \"vgem\")");
	ASSERT_EQ(0, cmamem_pool_info(self->fd, &before));
	ASSERT_EQ(0, filled_block(_metadata, self, mode, 0xabc + mode,
				  &alloc));
	ASSERT_EQ(0, export_block(self->fd, alloc.handle, O_RDWR | O_CLOEXEC,
				  &dmabuf));
	ASSERT_EQ(0, fstat(dmabuf, &ours));
	prime.fd = dmabuf;
	ASSERT_EQ(0, ioctl(card, TEST_DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime))
		TH_LOG("PRIME_FD_TO_HANDLE: %s", strerror(errno));
	/* vgem holds the dma-buf now, and made no second one. */
	ASSERT_EQ(0, close(dmabuf));
	ASSERT_EQ(0, cmamem_free(self->fd, alloc.handle));

	back.handle = prime.handle;
	back.flags = O_RDWR | O_CLOEXEC;
	ASSERT_EQ(0, ioctl(card, TEST_DRM_IOCTL_PRIME_HANDLE_TO_FD, &back))
		TH_LOG("PRIME_HANDLE_TO_FD: %s", strerror(errno));
	ASSERT_EQ(0, fstat(back.fd, &theirs));
	ASSERT_EQ(ours.st_ino, theirs.st_ino);
	ASSERT_EQ(0, dmabuf_matches(back.fd, self->length, 0xabc + mode));
	ASSERT_EQ(0, close(back.fd));

	gem_close.handle = prime.handle;
	ASSERT_EQ(0, ioctl(card, TEST_DRM_IOCTL_GEM_CLOSE, &gem_close));
	ASSERT_EQ(0, close(card));
	/* Once vgem let go, the block is freed. */
	ASSERT_EQ(0, cmamem_pool_info(self->fd, &after));
	ASSERT_EQ(before.used_bytes, after.used_bytes);
}

TEST_F(dmabuf, vgem_prime_import_coherent)
{
	vgem_reads_block(_metadata, self, CMAMEM_MODE_COHERENT);
}

TEST_F(dmabuf, vgem_prime_import_cached)
{
	if (!self->cached)
		SKIP(return, "the default pool has no cached blocks");
	vgem_reads_block(_metadata, self, CMAMEM_MODE_CACHED);
}

TEST_HARNESS_MAIN
