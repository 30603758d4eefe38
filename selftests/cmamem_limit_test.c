// SPDX-License-Identifier: GPL-2.0
/*
 * cmamem DMA address limit tests: ALLOC's max_dma_address, for engines
 * with fewer address bits than the pool's device. The reply never gives a
 * block that ends above the limit; a pool that cannot hold the block below
 * it refuses with ERANGE (before allocating, where the pool's region is
 * known) or EADDRNOTAVAIL (its only room is above), says why in the kernel
 * log, and keeps nothing.
 *
 * CMA areas and carveouts hand out the lowest free run that fits, so a
 * block allocated into an empty device-tree pool starts at the pool's
 * lowest address: the tests learn the pool's layout that way. The page
 * allocator behind a default pool without CMA (the PC) keeps no order;
 * there only a limit above all of RAM is checked.
 *
 * A board with memory above 4 GiB (target arm64-6.12-6g) has a pool
 * there; the tests that need it skip elsewhere.
 */
#include "kselftest_harness.h"

#include "cmamem_util.h"
#include "cmamem_engine.h"

#define LIMIT_4G	0xffffffffULL
#define BLOCK_PAGES	4

static __u64 block_end(const struct cmamem_alloc *alloc)
{
	return alloc->dma_address + alloc->length - 1;
}

FIXTURE(limit) {
	int fd;
	int kmsg;
	size_t length;
	char path[64];
	struct cmamem_pool_info before;
	/* Where an empty pool's lowest block lies (ordered pools only). */
	__u64 lowest;
	bool ordered;
};

FIXTURE_VARIANT(limit) {
	__u32 wanted;
	__u32 unwanted;
	__u32 mode;
};

FIXTURE_VARIANT_ADD(limit, default_coherent) {
	.wanted = CMAMEM_POOL_DEFAULT,
	.mode = CMAMEM_MODE_COHERENT,
};

FIXTURE_VARIANT_ADD(limit, default_cached) {
	.wanted = CMAMEM_POOL_DEFAULT,
	.mode = CMAMEM_MODE_CACHED,
};

FIXTURE_VARIANT_ADD(limit, dt_cma_coherent) {
	.wanted = CMAMEM_POOL_CMA | CMAMEM_POOL_TOTAL_KNOWN,
	.unwanted = CMAMEM_POOL_DEFAULT,
	.mode = CMAMEM_MODE_COHERENT,
};

FIXTURE_VARIANT_ADD(limit, dt_cma_writecombine) {
	.wanted = CMAMEM_POOL_CMA | CMAMEM_POOL_TOTAL_KNOWN,
	.unwanted = CMAMEM_POOL_DEFAULT,
	.mode = CMAMEM_MODE_WRITECOMBINE,
};

FIXTURE_VARIANT_ADD(limit, dt_cma_cached) {
	.wanted = CMAMEM_POOL_CMA | CMAMEM_POOL_TOTAL_KNOWN,
	.unwanted = CMAMEM_POOL_DEFAULT,
	.mode = CMAMEM_MODE_CACHED,
};

FIXTURE_VARIANT_ADD(limit, carveout_coherent) {
	.wanted = CMAMEM_POOL_CARVEOUT,
	.mode = CMAMEM_MODE_COHERENT,
};

FIXTURE_SETUP(limit)
{
	struct cmamem_alloc probe;

	self->fd = -1;
	self->kmsg = -1;
	if (cmamem_find_pool(variant->wanted, variant->unwanted, self->path,
			     sizeof(self->path), &self->before))
		SKIP(return, "no pool with flags %#x (and none of %#x)",
		     variant->wanted, variant->unwanted);
	if (!cmamem_is_root())
		SKIP(return, "needs root to see DMA addresses");
	self->fd = open(self->path, O_RDWR);
	ASSERT_LE(0, self->fd);
	self->length = BLOCK_PAGES * cmamem_page_size();
	self->ordered = self->before.pool_flags &
			(CMAMEM_POOL_CMA | CMAMEM_POOL_CARVEOUT);
	/* A device-tree pool with blocks in it has no known lowest block. */
	if ((self->before.pool_flags & CMAMEM_POOL_TOTAL_KNOWN) &&
	    self->before.used_bytes)
		self->ordered = false;
	if (self->ordered) {
		ASSERT_EQ(0, cmamem_alloc_block(self->fd, "probe", self->length,
						variant->mode, &probe));
		self->lowest = probe.dma_address;
		/*
		 * A cached block of a CMA pool may still come from the page
		 * allocator (a highmem CMA area on 32-bit kernels), which
		 * keeps no order: the reply says so, as a cached block
		 * outside CMA is always pinnable.
		 */
		if (variant->mode == CMAMEM_MODE_CACHED &&
		    (probe.out_flags & CMAMEM_REPLY_PINNABLE))
			self->ordered = false;
		ASSERT_EQ(0, cmamem_free(self->fd, probe.handle));
	}
	self->kmsg = cmamem_kmsg_open();
}

FIXTURE_TEARDOWN(limit)
{
	if (self->fd < 0)
		return;
	/* Whatever a test did, the pool holds what it held before. */
	CMAMEM_EXPECT_POOL_AS_BEFORE(self->fd, &self->before);
	close(self->fd);
	if (self->kmsg >= 0)
		close(self->kmsg);
}

/* A limit at the exact last byte of the lowest block is met. */
TEST_F(limit, limit_at_the_last_byte_is_met)
{
	struct cmamem_alloc alloc;
	char name[CMAMEM_NAME_SIZE];

	if (!self->ordered)
		SKIP(return, "the pool keeps no address order (no CMA)");
	cmamem_unique_name(name, "exact");
	ASSERT_EQ(0, cmamem_alloc_below(self->fd, name, self->length, variant->mode, 0,
				   0, self->lowest + self->length - 1, &alloc));
	EXPECT_EQ(self->lowest, alloc.dma_address);
	EXPECT_GE(self->lowest + self->length - 1, block_end(&alloc));
	ASSERT_EQ(0, cmamem_free(self->fd, alloc.handle));
}

/* One byte short of the lowest block: nowhere in the pool fits. */
TEST_F(limit, limit_one_byte_short_of_the_lowest_block_refused)
{
	struct cmamem_alloc alloc;
	char name[CMAMEM_NAME_SIZE];
	int ret;

	if (!self->ordered)
		SKIP(return, "the pool keeps no address order (no CMA)");
	cmamem_unique_name(name, "short");
	ret = cmamem_alloc_below(self->fd, name, self->length, variant->mode, 0, 0,
			    self->lowest + self->length - 2, &alloc);
	/* Known regions are refused before allocating; others after. */
	if (self->before.pool_flags & CMAMEM_POOL_TOTAL_KNOWN) {
		ASSERT_EQ(-ERANGE, ret);
		EXPECT_TRUE(cmamem_kmsg_has(self->kmsg, "cannot end at or below"));
	} else {
		ASSERT_EQ(-EADDRNOTAVAIL, ret);
		EXPECT_TRUE(cmamem_kmsg_has(self->kmsg, "above the limit"));
	}
	/* The name was not kept either. */
	ASSERT_EQ(0, cmamem_alloc_named(self->fd, name, self->length,
					variant->mode, 0, 0, &alloc));
	ASSERT_EQ(0, cmamem_free(self->fd, alloc.handle));
}

/*
 * The pool has room, but its low part is taken: the run found lies above
 * the limit, is given back, and the same request succeeds once the low
 * part is free again.
 */
TEST_F(limit, room_only_above_the_limit_eaddrnotavail)
{
	struct cmamem_alloc low, alloc;
	char name[CMAMEM_NAME_SIZE];
	__u64 limit;

	if (!self->ordered)
		SKIP(return, "the pool keeps no address order (no CMA)");
	ASSERT_EQ(0, cmamem_alloc_block(self->fd, "low", self->length,
					variant->mode, &low));
	ASSERT_EQ(self->lowest, low.dma_address);
	/* Room for one block below the limit: the one low holds. */
	limit = self->lowest + 2 * self->length - 2;
	cmamem_unique_name(name, "above");
	ASSERT_EQ(-EADDRNOTAVAIL, cmamem_alloc_below(self->fd, name, self->length,
						variant->mode, 0, 0, limit,
						&alloc));
	EXPECT_TRUE(cmamem_kmsg_has(self->kmsg, "above the limit"));
	ASSERT_EQ(0, cmamem_free(self->fd, low.handle));
	ASSERT_EQ(0, cmamem_alloc_below(self->fd, name, self->length, variant->mode, 0,
				   0, limit, &alloc));
	EXPECT_GE(limit, block_end(&alloc));
	ASSERT_EQ(0, cmamem_free(self->fd, alloc.handle));
}

/* Below the pool's lowest address: refused before anything is allocated. */
TEST_F(limit, limit_below_the_pool_erange)
{
	struct cmamem_pool_info after;
	struct cmamem_alloc alloc;

	if (!self->ordered ||
	    !(self->before.pool_flags & CMAMEM_POOL_TOTAL_KNOWN))
		SKIP(return, "the pool's region is not known");
	if (self->lowest == 0)
		SKIP(return, "the pool starts at address 0");
	ASSERT_EQ(-ERANGE, cmamem_alloc_below(self->fd, "st-below", self->length,
					 variant->mode, 0, 0, self->lowest - 1,
					 &alloc));
	/* Refused before allocating: not even a failed allocation. */
	ASSERT_EQ(0, cmamem_pool_info(self->fd, &after));
	EXPECT_EQ(self->before.failures, after.failures);
}

/* The alignment moves the lowest possible block; the check follows it. */
TEST_F(limit, alignment_counts_toward_the_limit)
{
	__u64 alignment = 16 * self->length, aligned;
	struct cmamem_alloc alloc;
	int ret;

	if (!self->ordered ||
	    !(self->before.pool_flags & CMAMEM_POOL_TOTAL_KNOWN))
		SKIP(return, "the pool's region is not known");
	if (self->before.total_bytes < 2 * alignment)
		SKIP(return, "the pool is too small for the alignment");
	aligned = (self->lowest + alignment - 1) & ~(alignment - 1);
	ret = cmamem_alloc_below(self->fd, "st-aligned", self->length,
			    variant->mode, 0, alignment,
			    aligned + self->length - 1, &alloc);
	ASSERT_EQ(0, ret);
	EXPECT_EQ(aligned, alloc.dma_address);
	ASSERT_EQ(0, cmamem_free(self->fd, alloc.handle));
	if (aligned == self->lowest)
		return;
	/* The unaligned lowest block would fit, the aligned one cannot. */
	ASSERT_EQ(-ERANGE, cmamem_alloc_below(self->fd, "st-aligned", self->length,
					 variant->mode, 0, alignment,
					 aligned + self->length - 2, &alloc));
}

/* A limit shorter than the block itself can never be met, in any pool. */
TEST_F(limit, limit_shorter_than_the_block_erange)
{
	struct cmamem_alloc alloc;

	ASSERT_EQ(-ERANGE, cmamem_alloc_below(self->fd, "st-tiny", self->length,
					 variant->mode, 0, 0, self->length - 2,
					 &alloc));
}

/* A 32-bit engine: every block it is given ends below 4 GiB. */
TEST_F(limit, a_32_bit_limit_holds_or_refuses)
{
	struct cmamem_alloc alloc;
	int ret;

	ret = cmamem_alloc_below(self->fd, "st-32bit", self->length, variant->mode, 0,
			    0, LIMIT_4G, &alloc);
	if (self->ordered && self->lowest + self->length - 1 > LIMIT_4G) {
		ASSERT_EQ(self->before.pool_flags & CMAMEM_POOL_TOTAL_KNOWN ?
			  -ERANGE : -EADDRNOTAVAIL, ret);
		return;
	}
	ASSERT_EQ(0, ret);
	EXPECT_GE(LIMIT_4G, block_end(&alloc));
	ASSERT_EQ(0, cmamem_free(self->fd, alloc.handle));
}

/* The largest limit is no limit at all. */
TEST_F(limit, all_ones_limit_is_no_limit)
{
	struct cmamem_alloc alloc;

	ASSERT_EQ(0, cmamem_alloc_below(self->fd, "st-ones", self->length,
				   variant->mode, 0, 0, ~0ULL, &alloc));
	ASSERT_EQ(0, cmamem_free(self->fd, alloc.handle));
}

static int limited_alloc_as_nobody(int fd, void *argument)
{
	struct cmamem_alloc alloc;
	__u32 mode = *(__u32 *)argument;

	if (cmamem_alloc_below(fd, "st-nobody", 4096, mode, 0, 0, LIMIT_4G,
			  &alloc) != -EPERM)
		return 1;
	/* Without a limit the same caller may allocate. */
	if (cmamem_alloc_below(fd, "st-nobody", 4096, mode, 0, 0, 0, &alloc))
		return 2;
	return cmamem_free(fd, alloc.handle) ? 3 : 0;
}

/* A caller that may not see addresses may not probe them with a limit. */
TEST_F(limit, limit_from_a_caller_without_addresses_eperm)
{
	__u32 mode = variant->mode;

	ASSERT_EQ(0, cmamem_run_as_nobody(self->fd, limited_alloc_as_nobody,
					  &mode));
}

/* --- every pool of the board, against a 32-bit engine --- */

/*
 * On a board with memory above 4 GiB: each device-tree pool either lies
 * below 4 GiB and gives 32-bit blocks, or lies above and refuses with
 * ERANGE before allocating.
 */
TEST(every_pool_serves_or_refuses_a_32_bit_engine)
{
	struct cmamem_pool_info info;
	struct cmamem_alloc alloc;
	struct dirent **entries;
	unsigned int above = 0, below = 0;
	int count, index, fd, ret;
	__u64 lowest;
	char path[300];

	if (!cmamem_is_root())
		SKIP(return, "needs root to see DMA addresses");
	count = scandir("/dev", &entries, NULL, alphasort);
	ASSERT_LE(0, count);
	for (index = 0; index < count; index++) {
		const char *name = entries[index]->d_name;

		snprintf(path, sizeof(path), "/dev/%s", name);
		free(entries[index]);
		if (strncmp(name, "cmamem-", 7))
			continue;
		fd = open(path, O_RDWR);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, cmamem_pool_info(fd, &info));
		/* An empty pool's first block shows where the pool starts. */
		ASSERT_EQ(0, cmamem_alloc_block(fd, "where", 4096,
						CMAMEM_MODE_COHERENT, &alloc));
		lowest = alloc.dma_address;
		ASSERT_EQ(0, cmamem_free(fd, alloc.handle));
		ret = cmamem_alloc_below(fd, "st-engine32", 4096,
				    CMAMEM_MODE_COHERENT, 0, 0, LIMIT_4G, &alloc);
		if (info.used_bytes) {
			TH_LOG("%s is in use: its layout is unknown", path);
			if (!ret)
				EXPECT_EQ(0, cmamem_free(fd, alloc.handle));
		} else if (lowest > LIMIT_4G) {
			TH_LOG("%s starts at %#llx: refused (%d)", path,
			       (unsigned long long)lowest, ret);
			EXPECT_EQ(-ERANGE, ret);
			above++;
		} else {
			ASSERT_EQ(0, ret);
			EXPECT_GE(LIMIT_4G, block_end(&alloc));
			EXPECT_EQ(0, cmamem_free(fd, alloc.handle));
			below++;
		}
		close(fd);
	}
	free(entries);
	if (!above)
		SKIP(return, "no pool above 4 GiB (%u below): target arm64-6.12-6g has one",
		     below);
	EXPECT_LT(0, below);
}

/* --- a real engine with 32 address bits --- */

#define ENGINE_BYTES	4000u

/*
 * A block below 4 GiB from @fd, filled with @seed's pattern (or zeros),
 * for the 32-bit engine; its mapping in @view.
 */
static int low_block(int fd, const char *tag, __u32 seed,
		     struct cmamem_alloc *alloc, __u8 **view)
{
	int ret = cmamem_alloc_below(fd, tag, cmamem_page_size(),
				     CMAMEM_MODE_COHERENT, CMAMEM_MAP, 0,
				     LIMIT_4G, alloc);

	if (ret)
		return ret;
	*view = cmamem_ptr(alloc->user_address);
	if (seed)
		cmamem_fill(*view, ENGINE_BYTES, seed);
	else
		memset(*view, 0, ENGINE_BYTES);
	return 0;
}

/*
 * The 32-bit engine (QEMU's edu with a 32-bit dma_mask, on the 6 GiB
 * board) copies between two blocks that ALLOC placed below 4 GiB, in every
 * pool that can hold them: the limit gives addresses such an engine
 * reaches. The pools above 4 GiB refuse (every_pool_serves_or_refuses_a_
 * 32_bit_engine), so no address out of its reach is ever handed to it.
 */
TEST(a_32_bit_engine_copies_between_limited_blocks)
{
	const char *slot = getenv("CMAMEM_ENGINE32_SLOT");
	struct cmamem_alloc source, destination;
	struct dirent **entries;
	struct cmamem_engine engine;
	unsigned int served = 0;
	int count, index, fd, ret;
	__u8 *from, *to;
	char path[300];

	if (!slot)
		SKIP(return, "no 32-bit engine (target arm64-6.12-6g has one)");
	if (!cmamem_is_root())
		SKIP(return, "needs root to drive the engine");
	ASSERT_EQ(0, cmamem_engine_open(&engine, slot, LIMIT_4G))
		TH_LOG("%s", engine.error);
	count = scandir("/dev", &entries, NULL, alphasort);
	ASSERT_LE(0, count);
	for (index = 0; index < count; index++) {
		const char *name = entries[index]->d_name;

		snprintf(path, sizeof(path), "/dev/%s", name);
		free(entries[index]);
		if (strcmp(name, "cmamem") && strncmp(name, "cmamem-", 7))
			continue;
		fd = open(path, O_RDWR);
		ASSERT_LE(0, fd);
		ret = low_block(fd, "st-e32-from", 0x32e, &source, &from);
		if (ret == -ERANGE) {
			TH_LOG("%s lies above 4 GiB: refused", path);
			close(fd);
			continue;
		}
		ASSERT_EQ(0, ret);
		ASSERT_EQ(0, low_block(fd, "st-e32-to", 0, &destination, &to));
		ASSERT_GE(LIMIT_4G, block_end(&source));
		ASSERT_GE(LIMIT_4G, block_end(&destination));
		ASSERT_EQ(0, cmamem_engine_to_engine(&engine, source.dma_address,
						     0, ENGINE_BYTES))
			TH_LOG("%s", engine.error);
		ASSERT_EQ(0, cmamem_engine_to_ram(&engine, 0,
						  destination.dma_address,
						  ENGINE_BYTES))
			TH_LOG("%s", engine.error);
		EXPECT_EQ(-1, cmamem_check(to, ENGINE_BYTES, 0x32e))
			TH_LOG("%s: the engine's copy differs", path);
		EXPECT_EQ(0, munmap(from, source.length));
		EXPECT_EQ(0, munmap(to, destination.length));
		EXPECT_EQ(0, cmamem_free(fd, source.handle));
		EXPECT_EQ(0, cmamem_free(fd, destination.handle));
		close(fd);
		served++;
	}
	free(entries);
	cmamem_engine_close(&engine);
	EXPECT_LT(0, served);
}

/* --- dma-bufs between a pool above 4 GiB and a 32-bit device --- */

/*
 * A block of the pool above 4 GiB, exported and imported into /dev/cmamem,
 * whose device is 32-bit: the exporter refuses to map it for a device that
 * would need a bounce buffer, so IMPORT gives ERANGE, never a bounce
 * slot's address (nor a kernel warning), and leaves nothing behind.
 */
TEST(a_block_above_4g_is_not_bounced_for_a_32_bit_device)
{
	struct cmamem_pool_info before, after;
	struct cmamem_import import;
	struct cmamem_alloc alloc;
	int high, low, dmabuf;

	if (!cmamem_is_root())
		SKIP(return, "needs root to see DMA addresses");
	high = open("/dev/cmamem-high", O_RDWR);
	if (high < 0)
		SKIP(return, "no /dev/cmamem-high (target arm64-6.12-6g has it)");
	low = open(CMAMEM_DEFAULT_POOL_PATH, O_RDWR);
	ASSERT_LE(0, low);
	ASSERT_EQ(0, cmamem_pool_info(low, &before));
	ASSERT_EQ(0, cmamem_alloc_block(high, "high", 4096,
					CMAMEM_MODE_COHERENT, &alloc));
	ASSERT_LT(LIMIT_4G, alloc.dma_address);
	if (cmamem_default_pool_reach() >= block_end(&alloc))
		SKIP(return, "/dev/cmamem's device reaches %#llx",
		     (unsigned long long)alloc.dma_address);
	ASSERT_EQ(0, cmamem_export(high, alloc.handle, O_CLOEXEC, &dmabuf));
	EXPECT_EQ(-ERANGE, cmamem_import(low, dmabuf, &import));
	ASSERT_EQ(0, close(dmabuf));
	ASSERT_EQ(0, cmamem_free(high, alloc.handle));
	ASSERT_EQ(0, cmamem_pool_info(low, &after));
	EXPECT_EQ(before.blocks, after.blocks);
	close(high);
	close(low);
}

TEST_HARNESS_MAIN
