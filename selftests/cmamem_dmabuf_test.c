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

#include "cmamem_dmabuf_util.h"
#include "cmamem_util.h"
#include "kselftest_harness.h"

#define CMAMEM_REFCNT_PATH	"/sys/module/cmamem/refcnt"

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
	ASSERT_EQ(0, cmamem_export(self->fd, alloc.handle,
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
	ASSERT_EQ(0, cmamem_export(self->fd, alloc.handle, O_RDWR, &dmabuf));
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
	ASSERT_EQ(0, cmamem_export(self->fd, alloc.handle, O_RDWR, &dmabuf));
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
	ASSERT_EQ(0, cmamem_export(self->fd, alloc.handle, O_RDONLY, &dmabuf));
	ASSERT_EQ(MAP_FAILED, mmap(NULL, self->length, PROT_READ | PROT_WRITE,
				   MAP_SHARED, dmabuf, 0));
	ASSERT_EQ(EACCES, errno);
	view = mmap(NULL, self->length, PROT_READ, MAP_SHARED, dmabuf, 0);
	ASSERT_NE(MAP_FAILED, view);
	ASSERT_EQ(0, munmap(view, self->length));
	ASSERT_EQ(0, close(dmabuf));
}

/*
 * A pool fd open only for reading may attach a block and export it
 * read-only, but not writable: the dma-buf's mmap() would otherwise map
 * writable what the pool fd may only read.
 */
/*
 * A pool fd opened with @open_access attaches the block and exports it
 * with @allowed access only: the two other access modes are refused.
 * Returns the dma-buf, for the caller's checks.
 */
static int export_through_limited_fd(struct __test_metadata *_metadata,
				     FIXTURE_DATA(dmabuf) *self,
				     int open_access, int allowed)
{
	static const int modes[] = { O_RDONLY, O_WRONLY, O_RDWR };
	struct cmamem_attach attach;
	struct cmamem_alloc alloc;
	int limited, dmabuf = -1;
	unsigned int index;

	ASSERT_EQ(0, cmamem_alloc_block(self->fd, "dblimfd", self->length,
					CMAMEM_MODE_COHERENT, &alloc));
	limited = open(CMAMEM_DEFAULT_POOL_PATH, open_access | O_CLOEXEC);
	ASSERT_LE(0, limited);
	ASSERT_EQ(0, cmamem_attach(limited, alloc.name, 0, &attach));
	for (index = 0; index < ARRAY_SIZE(modes); index++)
		if (modes[index] != allowed)
			ASSERT_EQ(-EACCES, cmamem_export(limited, attach.handle,
							 modes[index], &dmabuf));
	ASSERT_EQ(-1, dmabuf);
	ASSERT_EQ(0, cmamem_export(limited, attach.handle, allowed, &dmabuf));
	ASSERT_EQ(0, close(limited));
	ASSERT_EQ(0, cmamem_free(self->fd, alloc.handle));
	return dmabuf;
}

TEST_F(dmabuf, export_writable_from_read_only_fd_eacces)
{
	int dmabuf = export_through_limited_fd(_metadata, self, O_RDONLY,
					       O_RDONLY);

	ASSERT_EQ(MAP_FAILED, mmap(NULL, self->length, PROT_READ | PROT_WRITE,
				   MAP_SHARED, dmabuf, 0));
	ASSERT_EQ(0, close(dmabuf));
}

/* The other way round: a write-only pool fd cannot export for reading. */
TEST_F(dmabuf, export_readable_from_write_only_fd_eacces)
{
	ASSERT_EQ(0, close(export_through_limited_fd(_metadata, self,
						     O_WRONLY, O_WRONLY)));
}

TEST_F(dmabuf, cloexec_follows_fd_flags)
{
	struct cmamem_alloc alloc;
	int with, without;

	ASSERT_EQ(0, cmamem_alloc_block(self->fd, "dbcx", self->length,
					CMAMEM_MODE_COHERENT, &alloc));
	ASSERT_EQ(0, cmamem_export(self->fd, alloc.handle, O_RDWR | O_CLOEXEC,
				   &with));
	ASSERT_EQ(0, cmamem_export(self->fd, alloc.handle, O_RDWR, &without));
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
	ASSERT_EQ(0, cmamem_export(self->fd, alloc.handle, O_RDWR, &dmabuf));
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
	ASSERT_EQ(0, cmamem_export(self->fd, alloc.handle, O_RDWR, &first));
	ASSERT_EQ(0, cmamem_export(self->fd, alloc.handle, O_RDWR, &second));
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
	ASSERT_EQ(0, cmamem_export(self->fd, alloc.handle, O_RDWR, &dmabuf));
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
	ASSERT_EQ(0, cmamem_export(self->fd, alloc.handle, O_RDWR, &dmabuf));
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
	ASSERT_EQ(0, cmamem_export(self->fd, alloc.handle, O_RDWR, &dmabuf));
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
	ASSERT_EQ(0, cmamem_export(self->fd, alloc.handle, O_RDWR, &fds[0]));
	fds[1] = (int)self->length;
	/* The parent lets go of the block before the child looks. */
	ASSERT_EQ(0, cmamem_free(self->fd, alloc.handle));
	ASSERT_EQ(0, cmamem_run_child(child_reads_dmabuf, fds));
	ASSERT_EQ(0, close(fds[0]));
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

static void spoil_fd_flags_nonblock(struct cmamem_export *request)
{
	request->fd_flags |= O_NONBLOCK;
}

static void spoil_fd_flags_creat(struct cmamem_export *request)
{
	request->fd_flags |= O_CREAT;
}

static void spoil_handle(struct cmamem_export *request)
{
	request->handle += 1000;
}

static void spoil_handle_zero(struct cmamem_export *request)
{
	request->handle = 0;
}

TEST_F(dmabuf, export_bad_fd_flags_einval)
{
	export_expect(_metadata, self, spoil_fd_flags_nonblock, -EINVAL);
	export_expect(_metadata, self, spoil_fd_flags_creat, -EINVAL);
}

/*
 * No fd number left under RLIMIT_NOFILE: EXPORT fails with EMFILE and
 * releases the dma-buf it made (the block counts none).
 */
TEST_F(dmabuf, export_past_rlimit_nofile_emfile)
{
	struct cmamem_block_info info;
	struct cmamem_alloc alloc;
	struct rlimit saved, limit;
	int dmabuf = -1, result;

	ASSERT_EQ(0, cmamem_alloc_block(self->fd, "emfile", self->page_size,
					CMAMEM_MODE_COHERENT, &alloc));
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &saved));
	limit = saved;
	limit.rlim_cur = cmamem_lowest_free_fd();
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &limit));
	result = cmamem_export(self->fd, alloc.handle, O_RDWR | O_CLOEXEC,
			       &dmabuf);
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &saved));
	ASSERT_EQ(-EMFILE, result);
	ASSERT_EQ(-1, dmabuf);
	ASSERT_EQ(0, cmamem_block_info(self->fd, alloc.handle, &info));
	ASSERT_EQ(0, info.dma_bufs);
	ASSERT_EQ(0, cmamem_free(self->fd, alloc.handle));
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
	ASSERT_EQ(-ENOENT, cmamem_export(self->fd, alloc.handle, O_RDWR,
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
	ASSERT_EQ(-EOPNOTSUPP, cmamem_export(carveout, alloc.handle, O_RDWR,
					     &dmabuf));
	ASSERT_EQ(-1, dmabuf);
	ASSERT_EQ(0, cmamem_block_info(carveout, alloc.handle, &info));
	ASSERT_EQ(0, info.dma_bufs);
	ASSERT_EQ(0, close(carveout));
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
	struct test_drm_gem_close gem_close = { 0 };
	struct cmamem_pool_info before, after;
	struct cmamem_alloc alloc;
	struct stat ours, theirs;
	int card, dmabuf, back;
	__u32 gem = 0;

	card = open_vgem();
	if (card < 0)
		SKIP(return, "no vgem device (/dev/dri/card* named \"vgem\")");
	ASSERT_EQ(0, cmamem_pool_info(self->fd, &before));
	ASSERT_EQ(0, filled_block(_metadata, self, mode, 0xabc + mode,
				  &alloc));
	ASSERT_EQ(0, cmamem_export(self->fd, alloc.handle, O_RDWR | O_CLOEXEC,
				   &dmabuf));
	ASSERT_EQ(0, fstat(dmabuf, &ours));
	back = vgem_take_over(card, dmabuf, self->fd, alloc.handle, &gem);
	ASSERT_LE(0, back) TH_LOG("handing the dma-buf to vgem: %s",
				  strerror(-back));
	/* vgem holds the dma-buf now, and made no second one. */
	ASSERT_EQ(0, fstat(back, &theirs));
	ASSERT_EQ(ours.st_ino, theirs.st_ino);
	ASSERT_EQ(0, dmabuf_matches(back, self->length, 0xabc + mode));
	ASSERT_EQ(0, close(back));

	gem_close.handle = gem;
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

/* --- import --- */

/* A block of @mode exported to a dma-buf: the caller frees both. */
static void exported_block(struct __test_metadata *_metadata,
			   FIXTURE_DATA(dmabuf) *self, __u32 mode,
			   struct cmamem_alloc *alloc, int *dmabuf)
{
	ASSERT_EQ(0, cmamem_alloc_block(self->fd, "dbimp", self->length, mode,
					alloc));
	ASSERT_EQ(0, cmamem_export(self->fd, alloc->handle, O_RDWR | O_CLOEXEC,
				   dmabuf));
}

/*
 * Importing a block's own dma-buf into its pool maps the same memory for
 * the same device: the DMA address must be the block's.
 */
static void import_own_export(struct __test_metadata *_metadata,
			      FIXTURE_DATA(dmabuf) *self, __u32 mode)
{
	struct cmamem_block_info info;
	struct cmamem_import import;
	struct cmamem_alloc alloc;
	int dmabuf;

	exported_block(_metadata, self, mode, &alloc, &dmabuf);
	ASSERT_EQ(0, cmamem_import(self->fd, dmabuf, &import));
	ASSERT_NE(0, import.handle);
	ASSERT_NE(alloc.handle, import.handle);
	ASSERT_EQ(self->length, import.length);
	ASSERT_EQ(0, import.out_flags);
	ASSERT_NE(0, alloc.dma_address);
	ASSERT_EQ(alloc.dma_address, import.dma_address);

	/* The import holds the dma-buf: closing the fd changes nothing. */
	ASSERT_EQ(0, close(dmabuf));
	ASSERT_EQ(0, cmamem_block_info(self->fd, alloc.handle, &info));
	ASSERT_EQ(1, info.dma_bufs);
	ASSERT_EQ(0, cmamem_free(self->fd, import.handle));
	ASSERT_EQ(0, cmamem_block_info(self->fd, alloc.handle, &info));
	ASSERT_EQ(0, info.dma_bufs);
	ASSERT_EQ(-ENOENT, cmamem_free(self->fd, import.handle));
	ASSERT_EQ(0, cmamem_free(self->fd, alloc.handle));
}

TEST_F(dmabuf, import_own_export_coherent_same_address)
{
	import_own_export(_metadata, self, CMAMEM_MODE_COHERENT);
}

TEST_F(dmabuf, import_own_export_writecombine_same_address)
{
	import_own_export(_metadata, self, CMAMEM_MODE_WRITECOMBINE);
}

TEST_F(dmabuf, import_own_export_cached_same_address)
{
	if (!self->cached)
		SKIP(return, "the default pool has no cached blocks");
	import_own_export(_metadata, self, CMAMEM_MODE_CACHED);
}

/*
 * A cached block imported back into its own pool: the pool's device must
 * not get a second mapping of the block's memory. With two, DMA-API
 * debugging, asked to sync part of the block, found both and neither a
 * perfect fit, reported the memory as never mapped, and the WARN panicked
 * the debug kernel (the fuzzer found it).
 */
TEST_F(dmabuf, import_own_cached_export_then_sync_part)
{
	struct cmamem_import import;
	struct cmamem_alloc alloc;
	int dmabuf, kmsg;
	char record[1024];

	if (!self->cached)
		SKIP(return, "the default pool has no cached blocks");
	kmsg = cmamem_track_fd(&self->tracker, cmamem_kmsg_open());
	exported_block(_metadata, self, CMAMEM_MODE_CACHED, &alloc, &dmabuf);
	ASSERT_EQ(0, cmamem_import(self->fd, dmabuf, &import));
	ASSERT_EQ(alloc.dma_address, import.dma_address);
	ASSERT_EQ(0, cmamem_sync(self->fd, alloc.handle, CMAMEM_SYNC_FOR_CPU,
				 self->page_size + 100, self->page_size + 865));
	ASSERT_EQ(0, cmamem_sync(self->fd, alloc.handle,
				 CMAMEM_SYNC_FOR_DEVICE, 3, self->length - 3));
	ASSERT_EQ(0, dmabuf_sync(dmabuf, DMA_BUF_SYNC_START |
				 DMA_BUF_SYNC_RW));
	ASSERT_EQ(0, dmabuf_sync(dmabuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW));
	ASSERT_EQ(0, cmamem_free(self->fd, import.handle));
	ASSERT_EQ(0, close(dmabuf));
	ASSERT_EQ(0, cmamem_free(self->fd, alloc.handle));
	if (kmsg >= 0)
		ASSERT_FALSE(cmamem_kmsg_has_splat(kmsg, record,
						   sizeof(record)))
			TH_LOG("kernel log: %s", record);
}

/*
 * The importer stays attached while everything on the exporting side goes:
 * the dma-buf fd, the block's handle and the file that allocated it. The
 * memory stays allocated until the import handle is freed.
 */
TEST_F(dmabuf, import_outlives_exporter_fd_and_block_handle)
{
	struct cmamem_pool_info before, held, after;
	struct cmamem_import import;
	struct cmamem_alloc alloc;
	int importer, dmabuf;

	importer = open(CMAMEM_DEFAULT_POOL_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, importer);
	ASSERT_EQ(0, cmamem_pool_info(importer, &before));
	exported_block(_metadata, self, CMAMEM_MODE_COHERENT, &alloc, &dmabuf);
	ASSERT_EQ(0, cmamem_import(importer, dmabuf, &import));
	ASSERT_EQ(alloc.dma_address, import.dma_address);

	ASSERT_EQ(0, close(dmabuf));
	ASSERT_EQ(0, cmamem_free(self->fd, alloc.handle));
	ASSERT_EQ(0, close(self->fd));
	self->fd = -1;
	ASSERT_EQ(0, cmamem_pool_info(importer, &held));
	ASSERT_EQ(before.used_bytes + self->length, held.used_bytes);
	ASSERT_EQ(before.blocks + 1, held.blocks);

	ASSERT_EQ(0, cmamem_free(importer, import.handle));
	ASSERT_EQ(0, cmamem_pool_info(importer, &after));
	ASSERT_EQ(before.used_bytes, after.used_bytes);
	ASSERT_EQ(before.blocks, after.blocks);
	ASSERT_EQ(0, close(importer));
}

/* Closing the importing file drops its imports, as it drops blocks. */
TEST_F(dmabuf, import_dropped_when_importer_closes)
{
	struct cmamem_pool_info before, after;
	struct cmamem_import import;
	struct cmamem_alloc alloc;
	int importer, dmabuf;

	ASSERT_EQ(0, cmamem_pool_info(self->fd, &before));
	exported_block(_metadata, self, CMAMEM_MODE_COHERENT, &alloc, &dmabuf);
	ASSERT_EQ(0, cmamem_free(self->fd, alloc.handle));
	importer = open(CMAMEM_DEFAULT_POOL_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, importer);
	ASSERT_EQ(0, cmamem_import(importer, dmabuf, &import));
	ASSERT_EQ(0, cmamem_import(importer, dmabuf, &import));
	ASSERT_EQ(0, close(dmabuf));
	ASSERT_EQ(0, close(importer));
	ASSERT_EQ(0, cmamem_pool_info(self->fd, &after));
	ASSERT_EQ(before.used_bytes, after.used_bytes);
}

/*
 * More IMPORTs of one dma-buf than DMA-API debugging allows overlapping
 * mappings of one piece of memory (seven): they share one attachment and
 * mapping per pool, so each gets the same address and a handle of its own,
 * and the buffer stays imported until the last handle goes. Two files
 * share it too. On the debug kernel an eighth mapping would WARN, which
 * panics it.
 */
#define MANY_IMPORTS	12

TEST_F(dmabuf, many_imports_of_one_dmabuf_share_one_mapping)
{
	__u32 handles[MANY_IMPORTS], other_handle;
	struct cmamem_pool_info before, after;
	struct cmamem_block_info info;
	struct cmamem_import import;
	struct cmamem_alloc alloc;
	int dmabuf, other, index;

	ASSERT_EQ(0, cmamem_pool_info(self->fd, &before));
	exported_block(_metadata, self,
		       self->cached ? CMAMEM_MODE_CACHED : CMAMEM_MODE_COHERENT,
		       &alloc, &dmabuf);
	for (index = 0; index < MANY_IMPORTS; index++) {
		ASSERT_EQ(0, cmamem_import(self->fd, dmabuf, &import))
			TH_LOG("import %d", index);
		ASSERT_EQ(alloc.dma_address, import.dma_address);
		handles[index] = import.handle;
		if (index)
			ASSERT_NE(handles[index - 1], handles[index]);
	}
	other = open(CMAMEM_DEFAULT_POOL_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, other);
	ASSERT_EQ(0, cmamem_import(other, dmabuf, &import));
	ASSERT_EQ(alloc.dma_address, import.dma_address);
	other_handle = import.handle;
	ASSERT_EQ(0, close(dmabuf));
	ASSERT_EQ(0, cmamem_free(self->fd, alloc.handle));

	/* Any handle can go first; the others keep the buffer imported. */
	for (index = 0; index < MANY_IMPORTS; index++)
		ASSERT_EQ(0, cmamem_free(self->fd, handles[index]));
	ASSERT_EQ(0, cmamem_pool_info(self->fd, &after));
	ASSERT_EQ(before.blocks + 1, after.blocks);
	ASSERT_EQ(-ENOENT, cmamem_block_info(self->fd, handles[0], &info));
	ASSERT_EQ(0, cmamem_free(other, other_handle));
	ASSERT_EQ(0, close(other));
	ASSERT_EQ(0, cmamem_pool_info(self->fd, &after));
	ASSERT_EQ(before.blocks, after.blocks);
	ASSERT_EQ(before.used_bytes, after.used_bytes);
}

/* Import handles are not blocks: the block ioctls refuse them. */
TEST_F(dmabuf, import_handle_refused_by_block_ioctls_einval)
{
	struct cmamem_block_info info;
	struct cmamem_import import;
	struct cmamem_alloc alloc;
	int dmabuf, again = -1;

	exported_block(_metadata, self, CMAMEM_MODE_COHERENT, &alloc, &dmabuf);
	ASSERT_EQ(0, cmamem_import(self->fd, dmabuf, &import));
	ASSERT_EQ(-EINVAL, cmamem_sync(self->fd, import.handle,
				       CMAMEM_SYNC_FOR_CPU, 0, self->length));
	ASSERT_EQ(-EINVAL, cmamem_block_info(self->fd, import.handle, &info));
	ASSERT_EQ(-EINVAL, cmamem_export(self->fd, import.handle, O_RDWR,
					 &again));
	ASSERT_EQ(-1, again);
	ASSERT_EQ(0, cmamem_free(self->fd, import.handle));
	ASSERT_EQ(0, close(dmabuf));
	ASSERT_EQ(0, cmamem_free(self->fd, alloc.handle));
}

static int nobody_imports(int fd, void *argument)
{
	struct cmamem_import import;
	int dmabuf = *(int *)argument;

	if (cmamem_import(fd, dmabuf, &import))
		return 1;
	if (!(import.out_flags & CMAMEM_ADDRESS_WITHHELD) ||
	    import.dma_address)
		return 2;
	return cmamem_free(fd, import.handle) ? 3 : 0;
}

TEST_F(dmabuf, import_address_withheld_from_unprivileged)
{
	struct cmamem_alloc alloc;
	int dmabuf;

	if (!cmamem_is_root())
		SKIP(return, "needs root to switch to an unprivileged user");
	exported_block(_metadata, self, CMAMEM_MODE_COHERENT, &alloc, &dmabuf);
	ASSERT_EQ(0, cmamem_run_as_nobody(self->fd, nobody_imports, &dmabuf));
	ASSERT_EQ(0, close(dmabuf));
	ASSERT_EQ(0, cmamem_free(self->fd, alloc.handle));
}

TEST_F(dmabuf, import_closed_fd_ebadf)
{
	struct cmamem_import import;
	int closed = dup(self->fd);

	ASSERT_LE(0, closed);
	ASSERT_EQ(0, close(closed));
	ASSERT_EQ(-EBADF, cmamem_import(self->fd, closed, &import));
	ASSERT_EQ(-EBADF, cmamem_import(self->fd, -1, &import));
}

/* A pool fd, a pipe and /dev/null are open files but not dma-bufs. */
TEST_F(dmabuf, import_not_a_dmabuf_einval)
{
	struct cmamem_pool_info before, after;
	struct cmamem_import import;
	struct cmamem_alloc alloc;
	int pipe_ends[2], null;

	ASSERT_EQ(0, cmamem_pool_info(self->fd, &before));
	ASSERT_EQ(-EINVAL, cmamem_import(self->fd, self->fd, &import));
	ASSERT_EQ(0, pipe(pipe_ends));
	ASSERT_EQ(-EINVAL, cmamem_import(self->fd, pipe_ends[0], &import));
	null = open("/dev/null", O_RDWR);
	ASSERT_LE(0, null);
	ASSERT_EQ(-EINVAL, cmamem_import(self->fd, null, &import));
	ASSERT_EQ(0, close(null));
	ASSERT_EQ(0, close(pipe_ends[0]));
	ASSERT_EQ(0, close(pipe_ends[1]));
	/* Failed imports gave their reserved numbers back: 1 is free. */
	ASSERT_EQ(0, cmamem_alloc_block(self->fd, "dbnotbuf", self->length,
					CMAMEM_MODE_COHERENT, &alloc));
	ASSERT_EQ(1, alloc.handle);
	ASSERT_EQ(0, cmamem_free(self->fd, alloc.handle));
	ASSERT_EQ(0, cmamem_pool_info(self->fd, &after));
	ASSERT_EQ(before.blocks, after.blocks);
}

/* An import counts as a handle against fd_max_blocks, not as bytes. */
TEST_F(dmabuf, import_fd_max_blocks_emfile)
{
	struct cmamem_saved_params saved = { 0 };
	struct cmamem_import import, refused;
	struct cmamem_alloc alloc;
	int importer, dmabuf;

	if (!cmamem_is_root())
		SKIP(return, "needs root to set module parameters");
	exported_block(_metadata, self, CMAMEM_MODE_COHERENT, &alloc, &dmabuf);
	ASSERT_EQ(0, cmamem_params_save(&saved, "fd_max_blocks"));
	ASSERT_EQ(0, cmamem_params_save(&saved, "fd_quota_bytes"));
	ASSERT_EQ(0, cmamem_param_write("fd_max_blocks", "1"));
	ASSERT_EQ(0, cmamem_param_write_u64("fd_quota_bytes",
					    self->page_size));
	importer = open(CMAMEM_DEFAULT_POOL_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, importer);
	/* Larger than fd_quota_bytes, yet accepted: no bytes are counted. */
	EXPECT_EQ(0, cmamem_import(importer, dmabuf, &import));
	EXPECT_EQ(-EMFILE, cmamem_import(importer, dmabuf, &refused));
	EXPECT_EQ(0, cmamem_free(importer, import.handle));
	EXPECT_EQ(0, cmamem_import(importer, dmabuf, &import));
	EXPECT_EQ(0, cmamem_params_restore(&saved));
	ASSERT_EQ(0, close(importer));
	ASSERT_EQ(0, close(dmabuf));
	ASSERT_EQ(0, cmamem_free(self->fd, alloc.handle));
}

/* --- import of other exporters' buffers --- */

/* vgem's buffers are shmem pages: one page is always contiguous. */
TEST_F(dmabuf, import_vgem_single_page)
{
	struct cmamem_pool_info before, after;
	struct cmamem_import import;
	int card = open_vgem();
	int dmabuf, ret;

	if (card < 0)
		SKIP(return, "no vgem device (/dev/dri/card* named \"vgem\")");
	dmabuf = vgem_new_dmabuf(card, self->page_size);
	ASSERT_LE(0, dmabuf) TH_LOG("a vgem buffer: %s", strerror(-dmabuf));

	ASSERT_EQ(0, cmamem_pool_info(self->fd, &before));
	ret = cmamem_import(self->fd, dmabuf, &import);
	/*
	 * vgem's page may lie anywhere in RAM: above the reach of a 32-bit
	 * pool device (the 6 GiB board), IMPORT must refuse it, not bounce.
	 */
	if (ret == -ERANGE && cmamem_default_pool_reach() < cmamem_ram_end()) {
		ASSERT_EQ(0, close(dmabuf));
		ASSERT_EQ(0, close(card));
		SKIP(return, "vgem's page is beyond the pool's reach (ERANGE)");
	}
	ASSERT_EQ(0, ret);
	ASSERT_EQ(self->page_size, import.length);
	ASSERT_NE(0, import.dma_address);
	ASSERT_EQ(0, import.dma_address % self->page_size);
	/* Foreign memory is not the pool's. */
	ASSERT_EQ(0, cmamem_pool_info(self->fd, &after));
	ASSERT_EQ(before.used_bytes, after.used_bytes);
	ASSERT_EQ(0, close(dmabuf));
	ASSERT_EQ(0, close(card));
	ASSERT_EQ(0, cmamem_free(self->fd, import.handle));
}

/*
 * udmabuf (cmamem_dmabuf_util.h) makes a dma-buf of a memfd's pages, whose
 * physical addresses /proc/self/pagemap shows to root through an ordinary
 * mapping of the memfd: the ground truth the import's answer is checked
 * against.
 */

/*
 * The physical address of each of the @pages pages of @view, read after
 * the udmabuf pinned them (pinning may migrate them out of CMA first).
 */
static int physical_pages(const void *view, size_t pages, size_t page_size,
			  __u64 *physical)
{
	int pagemap, ret = 0;
	__u64 entry;
	size_t index;

	pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pagemap < 0)
		return -1;
	for (index = 0; index < pages; index++) {
		off_t at = ((uintptr_t)view / page_size + index) *
			   sizeof(entry);

		if (pread(pagemap, &entry, sizeof(entry), at) !=
		    sizeof(entry) || !(entry & CMAMEM_PAGEMAP_PRESENT) ||
		    !(entry & CMAMEM_PAGEMAP_PFN_MASK)) {
			ret = -1;
			break;
		}
		physical[index] = (entry & CMAMEM_PAGEMAP_PFN_MASK) * page_size;
	}
	close(pagemap);
	return ret;
}

/*
 * Imports a udmabuf of @pages pages into /dev/cmamem and checks the answer
 * against the pages' layout: a buffer with a page beyond the pool device's
 * reach gives ERANGE (never the address of a bounce buffer: the 6 GiB board
 * has pages above 4 GiB and a 32-bit pool device), a contiguous buffer its
 * physical address (the test machines have no IOMMU and no DMA offset), a
 * scattered one EINVAL. Returns whether the buffer was contiguous.
 */
static bool udmabuf_import_matches_layout(struct __test_metadata *_metadata,
					  FIXTURE_DATA(dmabuf) *self,
					  int udmabuf_device, size_t pages)
{
	struct test_udmabuf_create create = { 0 };
	size_t length = pages * self->page_size;
	struct cmamem_import import;
	__u64 reach = cmamem_default_pool_reach();
	bool contiguous = true, reachable = true;
	__u64 physical[16];
	int memfd, dmabuf, ret;
	__u8 *view;
	size_t index;

	memfd = memfd_create("cmamem-import", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	EXPECT_LE(0, memfd);
	EXPECT_EQ(0, ftruncate(memfd, length));
	EXPECT_EQ(0, fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK));
	view = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED, memfd,
		    0);
	EXPECT_NE(MAP_FAILED, view);
	if (view == MAP_FAILED || pages > 16)
		return false;
	/* Last page first, so the page allocator is less likely to hand out
	 * a run in order.
	 */
	for (index = pages; index-- > 0;)
		view[index * self->page_size] = (__u8)index;

	create.memfd = memfd;
	create.size = length;
	dmabuf = ioctl(udmabuf_device, TEST_UDMABUF_CREATE, &create);
	EXPECT_LE(0, dmabuf);
	EXPECT_EQ(0, physical_pages(view, pages, self->page_size, physical));
	for (index = 0; index < pages; index++) {
		if (physical[index] != physical[0] + index * self->page_size)
			contiguous = false;
		if (physical[index] + self->page_size - 1 > reach)
			reachable = false;
	}

	ret = cmamem_import(self->fd, dmabuf, &import);
	if (!reachable) {
		TH_LOG("a page lies above %#llx, out of the pool's reach",
		       (unsigned long long)reach);
		EXPECT_EQ(-ERANGE, ret);
	} else if (contiguous) {
		EXPECT_EQ(0, ret);
		EXPECT_EQ(length, import.length);
		EXPECT_EQ(physical[0], import.dma_address);
		EXPECT_EQ(0, cmamem_free(self->fd, import.handle));
	} else {
		EXPECT_EQ(-EINVAL, ret);
	}
	EXPECT_EQ(0, munmap(view, length));
	EXPECT_EQ(0, close(dmabuf));
	EXPECT_EQ(0, close(memfd));
	return contiguous;
}

TEST_F(dmabuf, import_udmabuf_single_page_gives_its_address)
{
	int device = open_udmabuf();

	if (device < 0)
		SKIP(return, "no %s (CONFIG_UDMABUF is off in this kernel)",
		     TEST_UDMABUF_PATH);
	if (!cmamem_is_root())
		SKIP(return, "needs root to read page frames from pagemap");
	EXPECT_TRUE(udmabuf_import_matches_layout(_metadata, self, device, 1));
	ASSERT_EQ(0, close(device));
}

/*
 * Each 16-page buffer is checked against its own layout, until a
 * scattered one has been refused (they nearly always are).
 */
TEST_F(dmabuf, import_udmabuf_scattered_einval)
{
	bool seen_scattered = false;
	int device = open_udmabuf();
	int attempt;

	if (device < 0)
		SKIP(return, "no %s (CONFIG_UDMABUF is off in this kernel)",
		     TEST_UDMABUF_PATH);
	if (!cmamem_is_root())
		SKIP(return, "needs root to read page frames from pagemap");
	for (attempt = 0; attempt < 8 && !seen_scattered; attempt++)
		seen_scattered = !udmabuf_import_matches_layout(_metadata, self,
								device, 16);
	ASSERT_EQ(0, close(device));
	if (!seen_scattered)
		SKIP(return, "8 buffers in a row were contiguous");
}

TEST_HARNESS_MAIN
