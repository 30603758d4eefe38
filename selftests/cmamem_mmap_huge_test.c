// SPDX-License-Identifier: GPL-2.0
/*
 * cmamem huge mapping tests: on kernels with huge PFN maps (Linux 6.12 on
 * arm64 and x86-64), coherent and write-combine blocks (of the default pool
 * and of a carveout) are mapped with one
 * PMD entry per aligned PMD_SIZE and page entries elsewhere; on older
 * kernels, and for cached blocks, with page entries only. Each test maps a
 * PMD-aligned block one PMD and two pages long (one PMD long where the
 * pool has no room for more: 16 KiB pages), reads and writes both ends
 * of every entry, and counts the huge faults the pool served (the debugfs
 * summary's huge_faults): the proof of the PMD entries. Page-table
 * counters of user space do not show them (smaps leaves PFN maps out) and
 * timing is no proof, while the driver counts exactly the faults it
 * answered with vmf_insert_pfn_pmd(). Every test checks that the pool got
 * all its memory back.
 */
#include "kselftest_harness.h"

#include <sys/resource.h>
#include <sys/utsname.h>

#include "cmamem_util.h"

FIXTURE(huge) {
	int fd;
	int watch_fd;
	char pool_path[64];
	size_t page;
	size_t pmd;
	size_t length;
	bool huge;
	struct cmamem_pool_info before;
	struct cmamem_alloc block;
	__u8 *reference;
	struct cmamem_tracker tracker;
};

FIXTURE_VARIANT(huge) {
	__u32 mode;
	bool carveout;
};

CMAMEM_MODE_VARIANTS(huge);

/* A no-map carveout pool's block: PFNs without struct pages. */
FIXTURE_VARIANT_ADD(huge, carveout) {
	.mode = CMAMEM_MODE_COHERENT,
	.carveout = true,
};

/*
 * Whether the running kernel maps PFNs huge: Linux 6.12 brought
 * pmd_special(), on arm64 and x86-64 (the architectures that select
 * ARCH_SUPPORTS_HUGE_PFNMAP). Worked out here without asking the module,
 * which decides at build time.
 */
static bool kernel_maps_pfns_huge(void)
{
	struct utsname name;
	int major, minor;

	if (uname(&name) || sscanf(name.release, "%d.%d", &major, &minor) != 2)
		return false;
	if (strcmp(name.machine, "aarch64") && strcmp(name.machine, "x86_64"))
		return false;
	return major > 6 || (major == 6 && minor >= 12);
}

/* What a PMD entry maps: a page-table page of 8-byte entries' worth. */
static size_t pmd_size(void)
{
	return cmamem_page_size() / 8 * cmamem_page_size();
}

/* The pool's huge_faults counter, or -1 if it cannot be read. */
static long long pool_huge_faults(const char *pool)
{
	char path[128], line[128];
	long long count = -1, value;
	FILE *summary;

	snprintf(path, sizeof(path), "%s/%s/summary", CMAMEM_DEBUGFS_DIR,
		 pool);
	summary = fopen(path, "r");
	if (!summary)
		return -1;
	while (fgets(line, sizeof(line), summary))
		if (sscanf(line, "huge_faults: %lld", &value) == 1)
			count = value;
	fclose(summary);
	return count;
}

/* The byte the tests write at @offset of the block with @seed. */
static __u8 byte_at(size_t offset, unsigned int seed)
{
	return (__u8)(offset * 7 + offset / 4099 + seed);
}

/* The page of @area whose ends do not hold @seed's bytes, or -1. */
static int check_ends(const __u8 *area, size_t length, size_t offset,
		      unsigned int seed)
{
	size_t page = cmamem_page_size(), at;

	for (at = 0; at < length; at += page)
		if (area[at] != byte_at(offset + at, seed) ||
		    area[at + page - 1] != byte_at(offset + at + page - 1,
						   seed))
			return (int)(at / page);
	return -1;
}

/*
 * Writes, then reads back, the first and last byte of every page of
 * @area (@length bytes from the block's @offset): both ends of every entry,
 * PMD or page, that maps it.
 */
static int write_ends(__u8 *area, size_t length, size_t offset,
		      unsigned int seed)
{
	size_t page = cmamem_page_size(), at;

	for (at = 0; at < length; at += page) {
		area[at] = byte_at(offset + at, seed);
		area[at + page - 1] = byte_at(offset + at + page - 1, seed);
	}
	return check_ends(area, length, offset, seed);
}

/*
 * Opens the pool at self->pool_path twice (one file watches the pool's
 * use) and allocates the test's block in it: one PMD and two pages, or one
 * PMD if that does not fit. 0, -ENOMEM when neither fits, -EOPNOTSUPP
 * when the pool has no such mode, or another -errno (the files are closed
 * again).
 */
static int alloc_in_pool(FIXTURE_DATA(huge) *self, __u32 mode)
{
	int ret = 0;

	self->watch_fd = open(self->pool_path, O_RDWR);
	self->fd = open(self->pool_path, O_RDWR);
	if (self->watch_fd < 0 || self->fd < 0)
		ret = -errno;
	if (!ret)
		ret = cmamem_pool_info(self->watch_fd, &self->before);
	if (!ret && pool_huge_faults(self->before.name) < 0)
		ret = -ENOENT;
	self->length = self->pmd + 2 * self->page;
	if (!ret)
		ret = cmamem_alloc_named(self->fd, "huge", self->length, mode,
					 0, self->pmd, &self->block);
	/* EFBIG: longer than the pool. */
	if (ret == -ENOMEM || ret == -EFBIG) {
		self->length = self->pmd;
		ret = cmamem_alloc_named(self->fd, "huge", self->length, mode,
					 0, self->pmd, &self->block);
	}
	if (!ret)
		return 0;
	if (self->fd >= 0)
		close(self->fd);
	if (self->watch_fd >= 0)
		close(self->watch_fd);
	self->fd = -1;
	self->watch_fd = -1;
	return ret == -EFBIG ? -ENOMEM : ret;
}

FIXTURE_SETUP(huge)
{
	int ret;

	cmamem_tracker_init(&self->tracker);
	self->watch_fd = -1;
	self->page = cmamem_page_size();
	self->pmd = pmd_size();
	self->huge = kernel_maps_pfns_huge() &&
		     variant->mode != CMAMEM_MODE_CACHED;
	if (!cmamem_is_root())
		SKIP(return, "the huge fault counter is in debugfs, for root");
	if (!cmamem_debugfs_ready())
		SKIP(return, "debugfs is not available");
	/*
	 * The default pool first, then a device-tree CMA pool: with 16 KiB
	 * pages a PMD is 32 MiB, which the default CMA area may not have
	 * free and aligned.
	 */
	ret = -ENOENT;
	if (variant->carveout) {
		if (!cmamem_find_pool(CMAMEM_POOL_CARVEOUT, 0, self->pool_path,
				      sizeof(self->pool_path), &self->before))
			ret = alloc_in_pool(self, variant->mode);
	} else {
		snprintf(self->pool_path, sizeof(self->pool_path), "%s",
			 CMAMEM_DEFAULT_POOL_PATH);
		ret = alloc_in_pool(self, variant->mode);
		if ((ret == -ENOMEM || ret == -EOPNOTSUPP) &&
		    !cmamem_find_pool(CMAMEM_POOL_TOTAL_KNOWN,
				      CMAMEM_POOL_CARVEOUT, self->pool_path,
				      sizeof(self->pool_path), &self->before))
			ret = alloc_in_pool(self, variant->mode);
	}
	if (ret == -ENOENT)
		SKIP(return, "no such pool with huge_faults in its summary");
	if (ret == -ENOMEM || ret == -EOPNOTSUPP)
		SKIP(return, "no pool has a %zu-aligned block of %zu bytes free",
		     self->pmd, self->pmd);
	ASSERT_EQ(0, ret);
	cmamem_track_fd(&self->tracker, self->fd);
	ASSERT_EQ(0, self->block.physical_address % self->pmd);
	/*
	 * The reference view: page entries only (MADV_NOHUGEPAGE before its
	 * first access), so it counts no huge fault itself.
	 */
	self->reference = cmamem_track_map(&self->tracker,
					   cmamem_map(self->fd,
						      self->block.mmap_offset,
						      self->length,
						      PROT_READ | PROT_WRITE),
					   self->length);
	ASSERT_NE(MAP_FAILED, self->reference);
	/*
	 * A kernel without transparent huge pages (the debug kernel) knows
	 * no such advice (EINVAL) and maps no huge entries anyway.
	 */
	if (madvise(self->reference, self->length, MADV_NOHUGEPAGE)) {
		ASSERT_EQ(EINVAL, errno);
		ASSERT_FALSE(self->huge);
	}
	memset(self->reference, 0, self->length);
}

/* Unmaps and closes everything, then checks the pool got it all back. */
FIXTURE_TEARDOWN(huge)
{
	struct cmamem_pool_info after;
	int ret;

	cmamem_tracker_release(&self->tracker);
	if (self->watch_fd < 0)
		return;
	ret = cmamem_pool_info(self->watch_fd, &after);
	close(self->watch_fd);
	ASSERT_EQ(0, ret);
	EXPECT_EQ(self->before.used_bytes, after.used_bytes);
	EXPECT_EQ(self->before.blocks, after.blocks);
}

/* The huge faults the test's pool has served so far. */
static long long huge_faults(FIXTURE_DATA(huge) *self)
{
	return pool_huge_faults(self->before.name);
}

/* Maps @length bytes of the block from @offset, wherever the kernel likes. */
static __u8 *map_at(FIXTURE_DATA(huge) *self, size_t offset, size_t length)
{
	return cmamem_track_map(&self->tracker,
				cmamem_map(self->fd,
					   self->block.mmap_offset + offset,
					   length, PROT_READ | PROT_WRITE),
				length);
}

/*
 * The PMD entries a mapping of @length bytes of the block from @offset at
 * @area gets when mapped huge: one per PMD_SIZE of the address space that
 * it covers whole and whose memory is PMD_SIZE-aligned too.
 */
static long long pmd_entries(FIXTURE_DATA(huge) *self, const __u8 *area,
			     size_t length, size_t offset)
{
	uintptr_t start = (uintptr_t)area, end = start + length, at;
	long long count = 0;

	if (!self->huge)
		return 0;
	for (at = (start + self->pmd - 1) & ~(uintptr_t)(self->pmd - 1);
	     at + self->pmd <= end; at += self->pmd)
		count += (self->block.physical_address + offset +
			  (at - start)) % self->pmd == 0;
	return count;
}

/*
 * Whether .get_unmapped_area lines mappings up with the memory: only for
 * blocks mapped huge, and thp_get_unmapped_area() only for 64-bit
 * processes.
 */
static bool placed_huge(FIXTURE_DATA(huge) *self)
{
	return self->huge && sizeof(long) == 8;
}

TEST_F(huge, pmd_entry_then_tail_pages)
{
	long long faults = huge_faults(self);
	__u8 *area;

	area = map_at(self, 0, self->length);
	ASSERT_NE(MAP_FAILED, area);
	if (placed_huge(self))
		ASSERT_EQ(1, pmd_entries(self, area, self->length, 0));
	ASSERT_EQ(-1, write_ends(area, self->length, 0, 1));
	/* One PMD entry, then the two pages of the tail. */
	ASSERT_EQ(faults + pmd_entries(self, area, self->length, 0),
		  huge_faults(self));
	ASSERT_EQ(-1, check_ends(self->reference, self->length, 0, 1));
	ASSERT_EQ(-1, write_ends(self->reference, self->length, 0, 2));
	ASSERT_EQ(-1, check_ends(area, self->length, 0, 2));
}

/* The page faults this process has taken (minor: none read a file). */
static long minor_faults(void)
{
	struct rusage usage;

	return getrusage(RUSAGE_SELF, &usage) ? -1 : usage.ru_minflt;
}

/*
 * A first access that writes maps the PMD dirty at once: where the CPU
 * has no hardware dirty-bit management (the Cortex-A57 model of
 * arm64-6.12), a clean entry would take a second fault at that write, to
 * set the dirty bit. One fault per entry, as the kernel counts this
 * process's faults; the writes after it take none.
 */
TEST_F(huge, first_write_faults_once_per_entry)
{
	long long faults = huge_faults(self);
	long before, after;
	__u8 *area;

	area = map_at(self, 0, self->pmd);
	ASSERT_NE(MAP_FAILED, area);
	if (pmd_entries(self, area, self->pmd, 0) != 1)
		SKIP(return, "this mapping gets no PMD entry here");
	before = minor_faults();
	ASSERT_LE(0, before);
	area[0] = 1;
	area[self->pmd - 1] = 2;
	after = minor_faults();
	ASSERT_EQ(faults + 1, huge_faults(self));
	ASSERT_EQ(before + 1, after);
	ASSERT_EQ(1, self->reference[0]);
	ASSERT_EQ(2, self->reference[self->pmd - 1]);
}

/*
 * A mapping that can hold no PMD entry (shorter than PMD_SIZE here) is
 * filled in mmap(), on every kernel: reading it takes no fault. Mapped by
 * faults instead, every page would take one, and on a core without
 * hardware dirty-bit management every first write two.
 */
TEST_F(huge, short_mapping_is_filled_at_once)
{
	size_t length = 4 * self->page, at;
	long before;
	__u8 *area;
	int sum = 0;

	area = map_at(self, 0, length);
	ASSERT_NE(MAP_FAILED, area);
	self->reference[0] = 3;
	self->reference[length - 1] = 4;
	before = minor_faults();
	ASSERT_LE(0, before);
	for (at = 0; at < length; at += self->page)
		sum += ((volatile __u8 *)area)[at];
	ASSERT_EQ(before, minor_faults());
	ASSERT_EQ(3, sum);
	ASSERT_EQ(4, area[length - 1]);
}

TEST_F(huge, partial_map_at_unaligned_offset)
{
	long long faults = huge_faults(self);
	size_t length = self->length - self->page;
	__u8 *area;

	/* From the second page: no aligned PMD_SIZE of memory fits. */
	area = map_at(self, self->page, length);
	ASSERT_NE(MAP_FAILED, area);
	ASSERT_EQ(-1, write_ends(area, length, self->page, 3));
	ASSERT_EQ(0, pmd_entries(self, area, length, self->page));
	ASSERT_EQ(faults, huge_faults(self));
	ASSERT_EQ(-1, check_ends(self->reference + self->page, length,
				 self->page, 3));
	/* The first PMD_SIZE only, from the block's start: one entry. */
	faults = huge_faults(self);
	area = map_at(self, 0, self->pmd);
	ASSERT_NE(MAP_FAILED, area);
	if (placed_huge(self))
		ASSERT_EQ(1, pmd_entries(self, area, self->pmd, 0));
	ASSERT_EQ(-1, check_ends(area + self->page, self->pmd - self->page,
				 self->page, 3));
	ASSERT_EQ(faults + pmd_entries(self, area, self->pmd, 0),
		  huge_faults(self));
}

/* The child checks and rewrites the ends of every entry. */
struct child_view {
	__u8 *area;
	size_t length;
};

static int child_rewrites(void *argument)
{
	const struct child_view *view = argument;
	__u8 *area = view->area;
	size_t length = view->length;

	if (check_ends(area, length, 0, 4) != -1)
		return 1;
	return write_ends(area, length, 0, 5) == -1 ? 0 : 2;
}

TEST_F(huge, fork_child_maps_it_again)
{
	long long faults = huge_faults(self);
	struct child_view view;
	__u8 *area;

	area = map_at(self, 0, self->length);
	ASSERT_NE(MAP_FAILED, area);
	ASSERT_EQ(-1, write_ends(area, self->length, 0, 4));
	/*
	 * fork() copies special PMD entries (copy_huge_pmd()), so the child
	 * uses the parent's and faults only its pages.
	 */
	view.area = area;
	view.length = self->length;
	ASSERT_EQ(0, cmamem_run_child(child_rewrites, &view));
	ASSERT_EQ(faults + pmd_entries(self, area, self->length, 0),
		  huge_faults(self));
	ASSERT_EQ(-1, check_ends(area, self->length, 0, 5));
	ASSERT_EQ(-1, check_ends(self->reference, self->length, 0, 5));
}

TEST_F(huge, munmap_half_of_a_huge_entry)
{
	long long faults = huge_faults(self);
	size_t half = self->pmd / 2;
	__u8 *area;

	area = map_at(self, 0, self->length);
	ASSERT_NE(MAP_FAILED, area);
	ASSERT_EQ(-1, write_ends(area, self->length, 0, 6));
	/* Splits the PMD entry; the rest is mapped again by pages. */
	ASSERT_EQ(0, munmap(area + half, half));
	ASSERT_EQ(-1, check_ends(area, half, 0, 6));
	ASSERT_EQ(-1, check_ends(area + self->pmd, self->length - self->pmd,
				 self->pmd, 6));
	ASSERT_EQ(-1, write_ends(area, half, 0, 7));
	ASSERT_EQ(faults + pmd_entries(self, area, self->length, 0),
		  huge_faults(self));
	ASSERT_EQ(-1, check_ends(self->reference, half, 0, 7));
	ASSERT_EQ(-1, check_ends(self->reference + half, half, half, 6));
}

TEST_F(huge, mremap_half_of_a_huge_entry)
{
	long long faults = huge_faults(self);
	size_t half = self->pmd / 2;
	__u8 *area, *space, *moved;

	area = map_at(self, 0, self->length);
	ASSERT_NE(MAP_FAILED, area);
	ASSERT_EQ(-1, write_ends(area, self->length, 0, 8));
	space = cmamem_track_map(&self->tracker,
				 mmap(NULL, half, PROT_NONE,
				      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
				 half);
	ASSERT_NE(MAP_FAILED, space);
	/* Moves the first half away (over @space): the PMD entry is split. */
	moved = mremap(area, half, half, MREMAP_MAYMOVE | MREMAP_FIXED,
		       space);
	ASSERT_EQ(space, moved);
	ASSERT_EQ(-1, check_ends(moved, half, 0, 8));
	ASSERT_EQ(-1, check_ends(area + half, self->length - half, half, 8));
	ASSERT_EQ(-1, write_ends(moved, half, 0, 9));
	ASSERT_EQ(-1, write_ends(area + half, self->length - half, half, 9));
	ASSERT_EQ(faults + pmd_entries(self, area, self->length, 0),
		  huge_faults(self));
	ASSERT_EQ(-1, check_ends(self->reference, self->length, 0, 9));
}

TEST_F(huge, madvise_nohugepage_keeps_pages)
{
	long long faults = huge_faults(self);
	__u8 *area;

	area = map_at(self, 0, self->length);
	ASSERT_NE(MAP_FAILED, area);
	if (madvise(area, self->length, MADV_NOHUGEPAGE)) {
		ASSERT_EQ(EINVAL, errno);
		ASSERT_FALSE(self->huge);
		SKIP(return, "no transparent huge pages here: no advice to give");
	}
	ASSERT_EQ(-1, write_ends(area, self->length, 0, 10));
	ASSERT_EQ(faults, huge_faults(self));
	/* MADV_HUGEPAGE before the first access allows them again. */
	area = map_at(self, 0, self->length);
	ASSERT_NE(MAP_FAILED, area);
	ASSERT_EQ(0, madvise(area, self->length, MADV_HUGEPAGE));
	ASSERT_EQ(-1, check_ends(area, self->length, 0, 10));
	ASSERT_EQ(faults + pmd_entries(self, area, self->length, 0),
		  huge_faults(self));
}

TEST_F(huge, dmabuf_mapping_at_an_aligned_address)
{
	size_t reserve = self->length + self->pmd;
	long long faults = huge_faults(self);
	__u8 *space, *area;
	int dmabuf;

	if (variant->carveout)
		SKIP(return, "carveout blocks have no dma-buf");
	ASSERT_EQ(0, cmamem_export(self->fd, self->block.handle,
				   O_RDWR | O_CLOEXEC, &dmabuf));
	cmamem_track_fd(&self->tracker, dmabuf);
	/*
	 * A dma-buf's file is the dma-buf core's, with no placement of ours:
	 * the caller picks an address that lines up with the memory.
	 */
	space = cmamem_track_map(&self->tracker,
				 mmap(NULL, reserve, PROT_NONE,
				      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
				 reserve);
	ASSERT_NE(MAP_FAILED, space);
	area = (__u8 *)(((uintptr_t)space + self->pmd - 1) &
			~(uintptr_t)(self->pmd - 1));
	ASSERT_EQ(area, mmap(area, self->length, PROT_READ | PROT_WRITE,
			     MAP_SHARED | MAP_FIXED, dmabuf, 0));
	ASSERT_EQ(-1, write_ends(area, self->length, 0, 11));
	ASSERT_EQ(faults + self->huge, huge_faults(self));
	ASSERT_EQ((long long)self->huge,
		  pmd_entries(self, area, self->length, 0));
	ASSERT_EQ(-1, check_ends(self->reference, self->length, 0, 11));
}

TEST_HARNESS_MAIN
