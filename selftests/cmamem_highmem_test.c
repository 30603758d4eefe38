// SPDX-License-Identifier: GPL-2.0
/*
 * cmamem where addresses and sizes are 32 bits wide: blocks of a pool in
 * highmem (memory a 32-bit kernel has no linear address for), lengths at
 * the 32-bit edges, mmap offsets past 4 GiB of offset space, and DMA
 * addresses checked against the physical addresses /proc/self/pagemap
 * shows. Built for every suite: on 64-bit kernels the highmem tests skip
 * (there is no highmem) and the others check the same rules through the
 * compat layer.
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
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/dma-buf.h>

#include "cmamem_dmabuf_util.h"
#include "cmamem_util.h"
#include "kselftest_harness.h"

#define GIB			(1024ULL * CMAMEM_MIB)
#define HIGHMEM_BLOCK_LENGTH	(1 * CMAMEM_MIB)

/*
 * The physical address where the HighMem zone starts, from the zone's
 * start_pfn in /proc/zoneinfo; 0 when the kernel has no highmem (64-bit
 * kernels, or a 32-bit one whose RAM all fits in lowmem).
 */
static __u64 highmem_start(void)
{
	bool in_highmem = false;
	unsigned long long pfn;
	char line[256];
	__u64 start = 0;
	FILE *zoneinfo;

	zoneinfo = fopen("/proc/zoneinfo", "r");
	if (!zoneinfo)
		return 0;
	while (fgets(line, sizeof(line), zoneinfo)) {
		if (!strncmp(line, "Node ", 5))
			in_highmem = strstr(line, "zone  HighMem") != NULL;
		else if (in_highmem &&
			 sscanf(line, " start_pfn: %llu", &pfn) == 1) {
			start = pfn * cmamem_page_size();
			break;
		}
	}
	fclose(zoneinfo);
	return start;
}

/* Whether the kernel (not this program) is 32-bit. */
static bool kernel_is_32bit(void)
{
	struct utsname name;

	return !uname(&name) && !strstr(name.machine, "64");
}

/*
 * A device-tree CMA pool whose memory is highmem: its first block lies at
 * or above @highmem. Fills @path; -ENOENT when there is none.
 */
static int find_highmem_pool(__u64 highmem, char *path, size_t path_size)
{
	struct dirent **entries;
	int count, index, result = -ENOENT;

	count = scandir("/dev", &entries, NULL, alphasort);
	if (count < 0)
		return -errno;
	for (index = 0; index < count; index++) {
		struct cmamem_pool_info info;
		struct cmamem_alloc alloc;
		int fd;

		if (result && !strncmp(entries[index]->d_name, "cmamem-", 7) &&
		    (size_t)snprintf(path, path_size, "/dev/%s",
				     entries[index]->d_name) < path_size &&
		    cmamem_pool_matches(path, CMAMEM_POOL_CMA, 0, &info)) {
			fd = open(path, O_RDWR | O_CLOEXEC);
			if (fd >= 0 &&
			    !cmamem_alloc_block(fd, "himem-probe",
						cmamem_page_size(),
						CMAMEM_MODE_COHERENT, &alloc)) {
				if (alloc.physical_address >= highmem)
					result = 0;
				cmamem_free(fd, alloc.handle);
			}
			if (fd >= 0)
				close(fd);
		}
		free(entries[index]);
	}
	free(entries);
	return result;
}

FIXTURE(highmem_pool) {
	char path[64];
	int fd;
	__u64 highmem;
	size_t length;
};

FIXTURE_VARIANT(highmem_pool) {
	__u32 mode;
};

CMAMEM_MODE_VARIANTS(highmem_pool);

FIXTURE_SETUP(highmem_pool)
{
	self->fd = -1;
	self->length = HIGHMEM_BLOCK_LENGTH;
	if (!cmamem_is_root())
		SKIP(return, "needs root to see physical addresses");
	self->highmem = highmem_start();
	if (!self->highmem)
		SKIP(return, "this kernel has no highmem");
	if (find_highmem_pool(self->highmem, self->path, sizeof(self->path)))
		SKIP(return, "no device-tree CMA pool in highmem (the 32-bit board's overlay has /dev/cmamem-himem)");
	self->fd = open(self->path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(highmem_pool)
{
	if (self->fd >= 0)
		close(self->fd);
}

/*
 * Allocates a block in the variant's mode, checks it lies in highmem at a
 * DMA address equal to its physical address (no IOMMU, no DMA offset on
 * the test board), fills it through a mapping and syncs it for the
 * device. The mapping is left in *@view.
 */
static void highmem_filled_block(struct __test_metadata *_metadata,
				 FIXTURE_DATA(highmem_pool) *self, __u32 mode,
				 __u32 seed, struct cmamem_alloc *alloc,
				 void **view)
{
	ASSERT_EQ(0, cmamem_alloc_block(self->fd, "himem", self->length, mode,
					alloc))
		TH_LOG("%s block of %zu bytes in %s: %s", cmamem_mode_name(mode),
		       self->length, self->path, strerror(errno));
	EXPECT_LE(self->highmem, alloc->physical_address);
	EXPECT_EQ(alloc->physical_address, alloc->dma_address);
	*view = cmamem_map(self->fd, alloc->mmap_offset, self->length,
			   PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, *view);
	cmamem_fill(*view, self->length, seed);
	ASSERT_EQ(0, cmamem_sync(self->fd, alloc->handle,
				 CMAMEM_SYNC_FOR_DEVICE, 0, self->length));
}

TEST_F(highmem_pool, allocate_map_fill_sync_read_back_free)
{
	struct cmamem_pool_info before, after;
	struct cmamem_alloc alloc;
	void *view, *second;

	ASSERT_EQ(0, cmamem_pool_info(self->fd, &before));
	highmem_filled_block(_metadata, self, variant->mode, 0x41 + variant->mode,
			     &alloc, &view);
	ASSERT_EQ(0, cmamem_sync(self->fd, alloc.handle, CMAMEM_SYNC_FOR_CPU,
				 0, self->length));
	EXPECT_EQ(-1, cmamem_check(view, self->length, 0x41 + variant->mode));
	/* A second mapping sees the same memory. */
	second = cmamem_map(self->fd, alloc.mmap_offset, self->length,
			    PROT_READ);
	ASSERT_NE(MAP_FAILED, second);
	EXPECT_EQ(-1, cmamem_check(second, self->length, 0x41 + variant->mode));
	ASSERT_EQ(0, munmap(second, self->length));
	ASSERT_EQ(0, munmap(view, self->length));
	ASSERT_EQ(0, cmamem_free(self->fd, alloc.handle));
	ASSERT_EQ(0, cmamem_pool_info(self->fd, &after));
	EXPECT_EQ(before.used_bytes, after.used_bytes);
}

/*
 * The pages behind the user's mapping are the block's own: DMA address ==
 * physical address == what the page tables map, page by page. pagemap
 * shows the pages of a cached block's mapping (vm_insert_pages()); the
 * pfn mappings of coherent and write-combine blocks (VM_PFNMAP) it
 * reports as not present, whatever they map.
 */
TEST_F(highmem_pool, dma_address_is_the_pagemap_physical_address)
{
	struct cmamem_alloc alloc;
	void *view;

	if (variant->mode != CMAMEM_MODE_CACHED)
		SKIP(return, "pagemap does not show pfn mappings (VM_PFNMAP)");
	highmem_filled_block(_metadata, self, variant->mode, 0x51, &alloc,
			     &view);
	EXPECT_EQ(-1, cmamem_pages_not_at(view, self->length, alloc.dma_address));
	ASSERT_EQ(0, munmap(view, self->length));
	ASSERT_EQ(0, cmamem_free(self->fd, alloc.handle));
}

/*
 * Highmem memory comes from the allocator as whatever was there before:
 * a new block must not show an old block's bytes.
 */
TEST_F(highmem_pool, new_block_reads_zero)
{
	struct cmamem_alloc alloc;
	size_t index;
	__u8 *view;

	highmem_filled_block(_metadata, self, variant->mode, 0x61,
			     &alloc, (void **)&view);
	ASSERT_EQ(0, munmap(view, self->length));
	ASSERT_EQ(0, cmamem_free(self->fd, alloc.handle));

	ASSERT_EQ(0, cmamem_alloc_block(self->fd, "himem-zero", self->length,
					variant->mode, &alloc));
	view = cmamem_map(self->fd, alloc.mmap_offset, self->length,
			  PROT_READ);
	ASSERT_NE(MAP_FAILED, view);
	ASSERT_EQ(0, cmamem_sync(self->fd, alloc.handle, CMAMEM_SYNC_FOR_CPU,
				 0, self->length));
	for (index = 0; index < self->length && !view[index]; index++)
		;
	EXPECT_EQ(self->length, index)
		TH_LOG("byte %zu of a new block is 0x%02x", index, view[index]);
	ASSERT_EQ(0, munmap(view, self->length));
	ASSERT_EQ(0, cmamem_free(self->fd, alloc.handle));
}

/*
 * vgem imports the block with PRIME (attach, map for its device) and
 * keeps it after our handle and fd are gone; its fd for the object is our
 * dma-buf, whose mapping and CPU-access sync show the bytes.
 */
TEST_F(highmem_pool, exported_to_vgem_reads_back)
{
	struct test_drm_gem_close gem_close = { 0 };
	struct dma_buf_sync sync = { 0 };
	struct cmamem_alloc alloc;
	int card, dmabuf, back;
	void *view;
	__u32 gem = 0;

	card = open_vgem();
	if (card < 0)
		SKIP(return, "no vgem device (/dev/dri/card* named \"vgem\")");
	highmem_filled_block(_metadata, self, variant->mode, 0x71, &alloc,
			     &view);
	ASSERT_EQ(0, munmap(view, self->length));
	ASSERT_EQ(0, cmamem_export(self->fd, alloc.handle, O_RDWR | O_CLOEXEC,
				   &dmabuf));
	/* vgem's fd for the object is our dma-buf, still holding the bytes. */
	back = vgem_take_over(card, dmabuf, self->fd, alloc.handle, &gem);
	ASSERT_LE(0, back) TH_LOG("handing the dma-buf to vgem: %s",
				  strerror(-back));
	sync.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ;
	ASSERT_EQ(0, ioctl(back, DMA_BUF_IOCTL_SYNC, &sync));
	view = mmap(NULL, self->length, PROT_READ, MAP_SHARED, back, 0);
	ASSERT_NE(MAP_FAILED, view);
	EXPECT_EQ(-1, cmamem_check(view, self->length, 0x71));
	ASSERT_EQ(0, munmap(view, self->length));
	sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ;
	ASSERT_EQ(0, ioctl(back, DMA_BUF_IOCTL_SYNC, &sync));
	ASSERT_EQ(0, close(back));
	gem_close.handle = gem;
	ASSERT_EQ(0, ioctl(card, TEST_DRM_IOCTL_GEM_CLOSE, &gem_close));
	ASSERT_EQ(0, close(card));
}

/*
 * vivid captures into exported blocks of the highmem pool: its
 * vb2-vmalloc instance vmap()s the dma-buf (the driver maps the highmem
 * pages for it; a cached block has no kernel address of its own), its
 * vb2-dma-contig instance maps the sg table for its device. These are
 * cmamem_v4l2_test's vivid_dmabuf tests of the variant's mode, run with
 * CMAMEM_V4L2_POOL naming the pool; their TAP lines are passed on as
 * comments so they are not counted twice.
 */
TEST_F(highmem_pool, vivid_captures_into_exported_blocks)
{
	static const char *const tests[] = {
		"streams_into_exported_blocks", "streams_after_free_and_close",
	};
	static const char *const allocators[] = { "vmalloc", "dma_contig" };
	char program[512], filters[4][128], line[512];
	const char *mode = cmamem_mode_name(variant->mode);
	char *arguments[10];
	int pipe_fds[2], status, count = 0, passed = 0;
	size_t test, allocator;
	ssize_t length;
	FILE *output;
	pid_t child;

	length = readlink("/proc/self/exe", program, sizeof(program) - 1);
	ASSERT_LT(0, length);
	program[length] = '\0';
	snprintf(strrchr(program, '/') + 1,
		 sizeof(program) - (strrchr(program, '/') + 1 - program),
		 "cmamem_v4l2_test");
	if (access(program, X_OK))
		SKIP(return, "%s is missing", program);
	arguments[count++] = program;
	for (test = 0; test < ARRAY_SIZE(tests); test++)
		for (allocator = 0; allocator < ARRAY_SIZE(allocators);
		     allocator++) {
			char *filter = filters[test * 2 + allocator];

			snprintf(filter, sizeof(filters[0]),
				 "vivid_dmabuf:%s_%s:%s", allocators[allocator],
				 mode, tests[test]);
			arguments[count++] = "-r";
			arguments[count++] = filter;
		}
	arguments[count] = NULL;

	ASSERT_EQ(0, pipe(pipe_fds));
	fflush(stdout);
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		dup2(pipe_fds[1], STDOUT_FILENO);
		dup2(pipe_fds[1], STDERR_FILENO);
		close(pipe_fds[0]);
		setenv("CMAMEM_V4L2_POOL", self->path, 1);
		execv(program, arguments);
		_exit(127);
	}
	close(pipe_fds[1]);
	output = fdopen(pipe_fds[0], "r");
	ASSERT_NE(NULL, output);
	while (fgets(line, sizeof(line), output)) {
		printf("# | %s", line);
		if (!strncmp(line, "ok ", 3) && !strstr(line, "# SKIP"))
			passed++;
	}
	fclose(output);
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* The harness exits 0 when everything skipped: count what ran. */
	if (!WEXITSTATUS(status) && !passed)
		SKIP(return, "cmamem_v4l2_test skipped them all (no vivid?)");
	EXPECT_EQ((int)ARRAY_SIZE(filters), passed);
}

/*
 * Lengths a 32-bit size_t, unsigned long or phys_addr_t would truncate
 * (4 GiB + 1 page becomes 1 page, 2^63 becomes 0) or that fit no 32-bit
 * address space. Each must fail as cmamem(4) documents, on every pool,
 * and allocate nothing: EFBIG when the length exceeds the pool, the
 * caller's address space or max_block_size, ENOMEM when the pool has no
 * run that long. At 4 GiB and above a 32-bit caller's address space is
 * always exceeded, so only EFBIG is right there.
 */
static const __u64 edge_lengths[] = {
	2 * GIB, 3 * GIB, 4 * GIB - 4096, 4 * GIB, 4 * GIB + 4096,
	1ULL << 63, ~0ULL - 4095,
};

static void edge_lengths_fail_cleanly(struct __test_metadata *_metadata,
				      const char *path)
{
	struct cmamem_pool_info before, after;
	struct cmamem_alloc alloc;
	size_t index;
	int fd, ret;

	fd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, cmamem_pool_info(fd, &before));
	for (index = 0; index < ARRAY_SIZE(edge_lengths); index++) {
		__u64 length = edge_lengths[index];

		ret = cmamem_alloc_block(fd, "edge", length,
					 CMAMEM_MODE_COHERENT, &alloc);
		EXPECT_NE(0, ret)
			TH_LOG("%s: a %llu-byte block was allocated (%llu bytes long)",
			       path, length, alloc.length);
		if (!ret)
			cmamem_free(fd, alloc.handle);
		if (length >= 4 * GIB && sizeof(long) == 4) {
			EXPECT_EQ(-EFBIG, ret)
				TH_LOG("%s: %llu bytes: %s", path, length,
				       strerror(-ret));
		} else {
			EXPECT_TRUE(ret == -EFBIG || ret == -ENOMEM)
				TH_LOG("%s: %llu bytes: %s", path, length,
				       strerror(-ret));
		}
	}
	ASSERT_EQ(0, cmamem_pool_info(fd, &after));
	EXPECT_EQ(before.used_bytes, after.used_bytes);
	EXPECT_EQ(before.blocks, after.blocks);
	EXPECT_EQ(before.allocations, after.allocations);
	close(fd);
}

TEST(lengths_at_32bit_edges_fail_without_truncation)
{
	struct dirent **entries;
	int count, index;
	char path[64];

	edge_lengths_fail_cleanly(_metadata, CMAMEM_DEFAULT_POOL_PATH);
	count = scandir("/dev", &entries, NULL, alphasort);
	ASSERT_LE(0, count);
	for (index = 0; index < count; index++) {
		if (!strncmp(entries[index]->d_name, "cmamem-", 7) &&
		    (size_t)snprintf(path, sizeof(path), "/dev/%s",
				     entries[index]->d_name) < sizeof(path))
			edge_lengths_fail_cleanly(_metadata, path);
		free(entries[index]);
	}
	free(entries);
}

/*
 * A file hands each handle its own range of mmap offsets, so a file with
 * many handles uses more offset space than memory: here one 4 MiB block
 * attached over and over, until the offsets pass 4 GiB. A 64-bit kernel
 * has room: the handle past 4 GiB maps the block (a 32-bit program passes
 * the offset in pages, through mmap2). A 32-bit kernel hands out offsets
 * only below 4 GiB (the in-kernel mapping of CMAMEM_MAP takes a byte
 * offset in an unsigned long): ATTACH fails with ENOMEM exactly when the
 * next range would cross 4 GiB, and every offset given out still maps.
 */
TEST(mmap_offsets_past_4gib_of_offset_space)
{
	const __u64 length = 4 * CMAMEM_MIB;
	struct cmamem_alloc alloc;
	struct cmamem_attach attach;
	__u64 last_offset = 0;
	unsigned int handles = 1;
	char name[CMAMEM_NAME_SIZE];
	bool bounded = kernel_is_32bit();
	void *view;
	int fd, ret = 0;

	fd = open(CMAMEM_DEFAULT_POOL_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	cmamem_unique_name(name, "offsets");
	ASSERT_EQ(0, cmamem_alloc_named(fd, name, length, CMAMEM_MODE_COHERENT,
					0, 0, &alloc));
	view = cmamem_map(fd, alloc.mmap_offset, length, PROT_WRITE);
	ASSERT_NE(MAP_FAILED, view);
	cmamem_fill(view, length, 0x81);
	ASSERT_EQ(0, munmap(view, length));

	while (last_offset < 4 * GIB + length) {
		ret = cmamem_attach(fd, name, 0, &attach);
		if (ret)
			break;
		handles++;
		EXPECT_LT(last_offset, attach.mmap_offset);
		last_offset = attach.mmap_offset;
	}
	if (bounded) {
		EXPECT_EQ(-ENOMEM, ret);
		/* Full: the next range would not have fit below 4 GiB. */
		EXPECT_GE(4 * GIB, last_offset + length);
		EXPECT_LT(4 * GIB - cmamem_page_size(),
			  last_offset + 2 * length);
	} else {
		ASSERT_EQ(0, ret) TH_LOG("ATTACH %u: %s", handles,
					 strerror(-ret));
		EXPECT_LE(4 * GIB, last_offset);
	}
	/* The highest offset handed out maps the block. */
	view = cmamem_map(fd, last_offset, length, PROT_READ);
	ASSERT_NE(MAP_FAILED, view)
		TH_LOG("mmap at offset %llu: %s", last_offset, strerror(errno));
	EXPECT_EQ(-1, cmamem_check(view, length, 0x81));
	ASSERT_EQ(0, munmap(view, length));
	TH_LOG("%u handles, last mmap offset %llu", handles, last_offset);
	ASSERT_EQ(0, close(fd));
}

TEST_HARNESS_MAIN
