// SPDX-License-Identifier: GPL-2.0
/*
 * A real bus master reads and writes memory at the addresses cmamem
 * reports: QEMU's edu DMA engine (cmamem_engine.h), driven the way a
 * board team drives an FPGA engine, is given each block's DMA address
 * and copies to and from its own buffer. Every pool kind and mode, the
 * first byte, a sub-page offset and the last byte of a large block,
 * aligned blocks, both directions with the syncs a program does, the
 * address ATTACH gives a second process, the addresses IMPORT gives for
 * vgem, udmabuf and another pool's dma-bufs, and the legacy ABI's
 * phy_base. Every transfer lands in poison, which must stay untouched
 * around it, and every test ends with the pools' use and the file
 * descriptors where they were.
 *
 * Without an edu engine (a real board) every test skips and says so.
 * CMAMEM_ENGINE_SLOT names the engine's PCI address; without it the first
 * edu found is used. Each transfer takes 100 ms of the guest's clock.
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
#include "cmamem_engine.h"
#include "cmamem_legacy.h"
#include "cmamem_util.h"
#include "kselftest_harness.h"

#define POISON			0xa5
/* Bytes per transfer: odd, so no word or cache-line size hides an error. */
#define TRANSFER		1001
#define LARGE_BLOCK		(2 * CMAMEM_MIB)
#define SCRATCH_OFFSET		100
#define MAX_POOLS		8

/* Pattern bytes are 0x01..0x7f, never the poison. */
static __u8 pattern_byte(__u32 seed, size_t index)
{
	return (__u8)(1 + (seed * 31 + index * 13) % 0x7f);
}

/*
 * Memory the engine is pointed at and the CPU sees: a mapping, the bus
 * address of its first byte, and how the CPU's caches are made to agree
 * with the engine around its accesses.
 */
enum sync_kind {
	SYNC_NONE,		/* coherent to the CPU: nothing to do */
	SYNC_BLOCK,		/* CMAMEM_IOCTL_SYNC of a cmamem handle */
	SYNC_DMABUF,		/* DMA_BUF_IOCTL_SYNC of a dma-buf */
};

struct target {
	const char *what;
	__u8 *view;
	size_t length;
	__u64 address;
	enum sync_kind sync;
	int fd;			/* the pool fd or the dma-buf */
	__u32 handle;
};

/*
 * Around the CPU's access: @begin before it reads what the engine wrote
 * (SYNC_FOR_CPU), else after it wrote, before the engine reads
 * (SYNC_FOR_DEVICE).
 */
static int cpu_sync(const struct target *target, bool begin)
{
	struct dma_buf_sync sync = {
		.flags = (begin ? DMA_BUF_SYNC_START : DMA_BUF_SYNC_END) |
			 DMA_BUF_SYNC_RW,
	};

	switch (target->sync) {
	case SYNC_BLOCK:
		return cmamem_sync(target->fd, target->handle,
				   begin ? CMAMEM_SYNC_FOR_CPU :
					   CMAMEM_SYNC_FOR_DEVICE,
				   0, target->length);
	case SYNC_DMABUF:
		return ioctl(target->fd, DMA_BUF_IOCTL_SYNC, &sync) ? -errno : 0;
	case SYNC_NONE:
		break;
	}
	return 0;
}

static int cpu_begin(const struct target *target)
{
	return cpu_sync(target, true);
}

static int cpu_end(const struct target *target)
{
	return cpu_sync(target, false);
}

/* A byte range of a target holding the pattern; the rest is poison. */
struct extent {
	size_t at;
	size_t length;
};

static __u8 expected_byte(const struct extent *extents, int count,
			  __u32 seed, size_t index)
{
	int which;

	for (which = 0; which < count; which++)
		if (index >= extents[which].at &&
		    index - extents[which].at < extents[which].length)
			return pattern_byte(seed, index - extents[which].at);
	return POISON;
}

/* Poison everywhere, the pattern in @extents. */
static void lay_out(const struct target *target, const struct extent *extents,
		    int count, __u32 seed)
{
	size_t index;
	int which;

	memset(target->view, POISON, target->length);
	for (which = 0; which < count; which++)
		for (index = 0; index < extents[which].length; index++)
			target->view[extents[which].at + index] =
				pattern_byte(seed, index);
}

/* Index of the first byte that is not as lay_out() lays out, or -1. */
static long layout_mismatch(const struct target *target,
			    const struct extent *extents, int count,
			    __u32 seed)
{
	size_t index;

	for (index = 0; index < target->length; index++)
		if (target->view[index] !=
		    expected_byte(extents, count, seed, index))
			return (long)index;
	return -1;
}

static void expect_layout(struct __test_metadata *_metadata,
			  const struct target *target,
			  const struct extent *extents, int count, __u32 seed)
{
	long bad = layout_mismatch(target, extents, count, seed);

	EXPECT_EQ(-1, bad)
		TH_LOG("%s (bus address 0x%llx, %zu bytes): byte %ld is 0x%02x, expected 0x%02x (%s)",
		       target->what, (unsigned long long)target->address,
		       target->length, bad, target->view[bad],
		       expected_byte(extents, count, seed, bad),
		       expected_byte(extents, count, seed, bad) == POISON ?
		       "poison outside the transfer was overwritten" :
		       "the transfer's bytes are not there");
}

/*
 * The engine copies @length bytes from @source at @from to @destination
 * at @to, through its buffer at @engine_offset: the CPU lays out poison
 * and the pattern and syncs for the device, the engine reads and writes,
 * the CPU syncs for itself and checks both targets byte for byte. The two
 * may be one target (with ranges that do not overlap).
 */
static void engine_move(struct __test_metadata *_metadata,
			struct cmamem_engine *engine,
			const struct target *source, size_t from,
			const struct target *destination, size_t to,
			size_t length, __u32 engine_offset, __u32 seed)
{
	struct extent source_extent = { from, length };
	struct extent both[2] = { { from, length }, { to, length } };
	bool same = source == destination;
	int ret;

	ASSERT_GE(source->length, from + length);
	ASSERT_GE(destination->length, to + length);
	ASSERT_EQ(0, cpu_begin(source));
	lay_out(source, &source_extent, 1, seed);
	ASSERT_EQ(0, cpu_end(source));
	if (!same) {
		ASSERT_EQ(0, cpu_begin(destination));
		lay_out(destination, NULL, 0, seed);
		ASSERT_EQ(0, cpu_end(destination));
	}

	ret = cmamem_engine_to_engine(engine, source->address + from,
				      engine_offset, (__u32)length);
	ASSERT_EQ(0, ret) TH_LOG("%s", engine->error);
	ret = cmamem_engine_to_ram(engine, engine_offset,
				   destination->address + to, (__u32)length);
	ASSERT_EQ(0, ret) TH_LOG("%s", engine->error);

	ASSERT_EQ(0, cpu_begin(destination));
	if (same) {
		expect_layout(_metadata, destination, both, 2, seed);
	} else {
		ASSERT_EQ(0, cpu_begin(source));
		/* The engine only read the source: it is as the CPU left it. */
		expect_layout(_metadata, source, &source_extent, 1, seed);
		expect_layout(_metadata, destination, &both[1], 1, seed);
		ASSERT_EQ(0, cpu_end(source));
	}
	ASSERT_EQ(0, cpu_end(destination));
}

/* What must be as it was after every test: pools' use, open files. */
struct baseline {
	char paths[MAX_POOLS][64];
	__u64 used_bytes[MAX_POOLS];
	__u64 blocks[MAX_POOLS];
	int pools;
	int lowest_free_fd;
};

static int read_baseline(struct baseline *baseline)
{
	struct cmamem_pool_info info;
	struct dirent **entries;
	int count, index, fd;

	baseline->pools = 0;
	count = scandir("/dev", &entries, NULL, alphasort);
	if (count < 0)
		return -errno;
	for (index = 0; index < count; index++) {
		const char *name = entries[index]->d_name;
		int pool = baseline->pools;

		if ((!strcmp(name, "cmamem") || !strncmp(name, "cmamem-", 7)) &&
		    pool < MAX_POOLS &&
		    (size_t)snprintf(baseline->paths[pool],
				     sizeof(baseline->paths[0]), "/dev/%s",
				     name) < sizeof(baseline->paths[0])) {
			fd = open(baseline->paths[pool], O_RDONLY | O_CLOEXEC);
			if (fd >= 0 && !cmamem_pool_info(fd, &info)) {
				baseline->used_bytes[pool] = info.used_bytes;
				baseline->blocks[pool] = info.blocks;
				baseline->pools++;
			}
			if (fd >= 0)
				close(fd);
		}
		free(entries[index]);
	}
	free(entries);
	baseline->lowest_free_fd = cmamem_lowest_free_fd();
	return 0;
}

static void expect_nothing_leaked(struct __test_metadata *_metadata,
				  const struct baseline *before)
{
	struct baseline after;
	int pool;

	ASSERT_EQ(0, read_baseline(&after));
	ASSERT_EQ(before->pools, after.pools);
	for (pool = 0; pool < before->pools; pool++) {
		EXPECT_EQ(before->used_bytes[pool], after.used_bytes[pool])
			TH_LOG("%s: used_bytes", before->paths[pool]);
		EXPECT_EQ(before->blocks[pool], after.blocks[pool])
			TH_LOG("%s: blocks", before->paths[pool]);
	}
	EXPECT_EQ(before->lowest_free_fd, after.lowest_free_fd)
		TH_LOG("a file descriptor was left open");
}

/*
 * What every fixture has: the engine, what the test opened and mapped,
 * the baseline, and a scratch page of the default pool (coherent, which
 * needs no sync) for the engine to copy to or from.
 */
struct engine_env {
	struct cmamem_engine engine;
	struct cmamem_tracker tracker;
	struct baseline baseline;
	size_t page_size;
	struct target scratch;
};

/* 0, or a reason to skip in @reason. Fails the test on real errors. */
static int env_setup(struct __test_metadata *_metadata, struct engine_env *env,
		     char *reason, size_t reason_size)
{
	int ret;

	cmamem_tracker_init(&env->tracker);
	env->page_size = cmamem_page_size();
	ASSERT_EQ(0, read_baseline(&env->baseline));
	if (!cmamem_is_root()) {
		snprintf(reason, reason_size,
			 "needs root for the engine's sysfs files and the DMA addresses");
		return -EPERM;
	}
	ret = cmamem_engine_open(&env->engine, getenv("CMAMEM_ENGINE_SLOT"),
				 CMAMEM_ENGINE_ANY_ADDRESS);
	if (ret == -ENODEV) {
		snprintf(reason, reason_size, "%s", env->engine.error);
		return ret;
	}
	ASSERT_EQ(0, ret) TH_LOG("opening the engine: %s", env->engine.error);
	return 0;
}

static void env_teardown(struct __test_metadata *_metadata,
			 struct engine_env *env)
{
	cmamem_tracker_release(&env->tracker);
	cmamem_engine_close(&env->engine);
	expect_nothing_leaked(_metadata, &env->baseline);
}

/*
 * A new block of @length bytes in @mode on the pool open as @fd, mapped:
 * fills @target. 0 or -errno of ALLOC (the mapping must work).
 */
static int new_block(struct __test_metadata *_metadata,
		     struct engine_env *env, int fd, const char *what,
		     size_t length, __u32 mode, __u64 alignment,
		     struct target *target)
{
	char name[CMAMEM_NAME_SIZE];
	struct cmamem_alloc alloc;
	void *view;
	int ret;

	cmamem_unique_name(name, "engine");
	ret = cmamem_alloc_named(fd, name, length, mode, 0, alignment, &alloc);
	if (ret)
		return ret;
	EXPECT_FALSE(alloc.out_flags & CMAMEM_ADDRESS_WITHHELD);
	EXPECT_NE(0, alloc.dma_address);
	view = cmamem_track_map(&env->tracker,
				cmamem_map(fd, alloc.mmap_offset, length,
					   PROT_READ | PROT_WRITE),
				length);
	EXPECT_NE(MAP_FAILED, view);
	if (view == MAP_FAILED) {
		cmamem_free(fd, alloc.handle);
		return -ENOMEM;
	}
	*target = (struct target) {
		.what = what,
		.view = view,
		.length = length,
		.address = alloc.dma_address,
		.sync = SYNC_BLOCK,
		.fd = fd,
		.handle = alloc.handle,
	};
	return 0;
}

static void new_scratch(struct __test_metadata *_metadata,
			struct engine_env *env)
{
	int fd = cmamem_track_fd(&env->tracker,
				 open(CMAMEM_DEFAULT_POOL_PATH,
				      O_RDWR | O_CLOEXEC));

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, new_block(_metadata, env, fd, "scratch block",
			       env->page_size, CMAMEM_MODE_COHERENT, 0,
			       &env->scratch));
}

/* --- every pool kind in every mode it serves --- */

FIXTURE(engine_pool) {
	struct engine_env env;
	char path[64];
	int fd;
	struct target block;
};

FIXTURE_VARIANT(engine_pool) {
	const char *kind;
	__u32 wanted;
	__u32 unwanted;
	__u32 mode;
};

#define ENGINE_POOL_VARIANT(pool_kind, want, unwant, block_mode)	\
	FIXTURE_VARIANT_ADD(engine_pool, pool_kind##_##block_mode) {	\
		.kind = #pool_kind,					\
		.wanted = want,						\
		.unwanted = unwant,					\
		.mode = CMAMEM_MODE_##block_mode,			\
	}

/* The default pool: the kernel's CMA area, or the page allocator. */
ENGINE_POOL_VARIANT(default, CMAMEM_POOL_DEFAULT, 0, COHERENT);
ENGINE_POOL_VARIANT(default, CMAMEM_POOL_DEFAULT, 0, WRITECOMBINE);
ENGINE_POOL_VARIANT(default, CMAMEM_POOL_DEFAULT, 0, CACHED);
/* A device-tree CMA pool (reusable shared-dma-pool). */
ENGINE_POOL_VARIANT(dt_cma, CMAMEM_POOL_CMA, CMAMEM_POOL_DEFAULT, COHERENT);
ENGINE_POOL_VARIANT(dt_cma, CMAMEM_POOL_CMA, CMAMEM_POOL_DEFAULT,
		    WRITECOMBINE);
ENGINE_POOL_VARIANT(dt_cma, CMAMEM_POOL_CMA, CMAMEM_POOL_DEFAULT, CACHED);
/* A device-tree carveout (no-map): no cached blocks there. */
ENGINE_POOL_VARIANT(dt_carveout, CMAMEM_POOL_CARVEOUT, 0, COHERENT);
ENGINE_POOL_VARIANT(dt_carveout, CMAMEM_POOL_CARVEOUT, 0, WRITECOMBINE);

FIXTURE_SETUP(engine_pool)
{
	struct cmamem_pool_info info;
	char reason[300];

	self->fd = -1;
	if (env_setup(_metadata, &self->env, reason, sizeof(reason)))
		SKIP(return, "%s", reason);
	if (cmamem_find_pool(variant->wanted, variant->unwanted, self->path,
			     sizeof(self->path), &info))
		SKIP(return, "no %s pool here", variant->kind);
	if (variant->mode == CMAMEM_MODE_CACHED &&
	    !(info.pool_flags & CMAMEM_POOL_CACHED))
		SKIP(return, "%s serves no cached blocks", self->path);
	self->fd = cmamem_track_fd(&self->env.tracker,
				   open(self->path, O_RDWR | O_CLOEXEC));
	ASSERT_LE(0, self->fd);
	new_scratch(_metadata, &self->env);
	ASSERT_EQ(0, new_block(_metadata, &self->env, self->fd, self->path,
			       LARGE_BLOCK, variant->mode, 0, &self->block))
		TH_LOG("a %s block of %llu bytes in %s",
		       cmamem_mode_name(variant->mode), LARGE_BLOCK,
		       self->path);
}

FIXTURE_TEARDOWN(engine_pool)
{
	env_teardown(_metadata, &self->env);
}

/* The engine reads the block at @at into the scratch page. */
static void engine_reads_block_at(struct __test_metadata *_metadata,
				  FIXTURE_DATA(engine_pool) *self, size_t at,
				  __u32 engine_offset, __u32 seed)
{
	engine_move(_metadata, &self->env.engine, &self->block, at,
		    &self->env.scratch, SCRATCH_OFFSET, TRANSFER,
		    engine_offset, seed);
}

/* The engine writes the scratch page's bytes into the block at @at. */
static void engine_writes_block_at(struct __test_metadata *_metadata,
				   FIXTURE_DATA(engine_pool) *self, size_t at,
				   __u32 engine_offset, __u32 seed)
{
	engine_move(_metadata, &self->env.engine, &self->env.scratch,
		    SCRATCH_OFFSET, &self->block, at, TRANSFER, engine_offset,
		    seed);
}

/* An odd offset just before a page boundary; the transfer crosses it. */
static size_t sub_page_offset(FIXTURE_DATA(engine_pool) *self)
{
	return 3 * self->env.page_size - TRANSFER / 2;
}

TEST_F(engine_pool, engine_reads_first_byte)
{
	engine_reads_block_at(_metadata, self, 0, 0, 0x11);
}

TEST_F(engine_pool, engine_reads_sub_page_offset)
{
	engine_reads_block_at(_metadata, self, sub_page_offset(self), 17, 0x12);
}

TEST_F(engine_pool, engine_reads_last_byte)
{
	engine_reads_block_at(_metadata, self, LARGE_BLOCK - TRANSFER, 0,
			      0x13);
}

TEST_F(engine_pool, engine_writes_first_byte)
{
	engine_writes_block_at(_metadata, self, 0, 0, 0x21);
}

TEST_F(engine_pool, engine_writes_sub_page_offset)
{
	engine_writes_block_at(_metadata, self, sub_page_offset(self), 17,
			       0x22);
}

TEST_F(engine_pool, engine_writes_last_byte)
{
	engine_writes_block_at(_metadata, self, LARGE_BLOCK - TRANSFER, 0,
			       0x23);
}

/*
 * A block allocated with an alignment larger than a page starts at a DMA
 * address of that alignment (the driver may have used a window inside a
 * larger allocation), and the engine finds its bytes there: it reads the
 * block's first bytes and writes them at the end of the block.
 */
TEST_F(engine_pool, aligned_block_both_ways)
{
	/* More than the carveout's natural alignment of a 3-page block. */
	const __u64 alignment = 256 * 1024;
	size_t length = 3 * self->env.page_size;
	struct target aligned;

	ASSERT_EQ(0, new_block(_metadata, &self->env, self->fd,
			       "aligned block", length, variant->mode,
			       alignment, &aligned));
	EXPECT_EQ(0, aligned.address % alignment)
		TH_LOG("DMA address 0x%llx is not aligned to 0x%llx",
		       (unsigned long long)aligned.address,
		       (unsigned long long)alignment);
	engine_move(_metadata, &self->env.engine, &aligned, 0, &aligned,
		    length - TRANSFER, TRANSFER, 0, 0x31);
}

struct attach_call {
	const char *path;
	const char *name;
	__u64 dma_address;
	size_t page_size;
};

/*
 * A second process: its own open file ATTACHes the block by name, gets
 * the allocator's DMA address, opens the engine itself and has it copy
 * the block's first bytes one page further. Exit status: 0 done, else
 * the step that failed.
 */
static int attach_and_copy(void *argument)
{
	struct attach_call *call = argument;
	struct cmamem_engine engine;
	struct cmamem_attach attach;
	int fd;

	fd = open(call->path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return 1;
	if (cmamem_attach(fd, call->name, 0, &attach))
		return 2;
	if (attach.dma_address != call->dma_address)
		return 3;
	if (cmamem_engine_open(&engine, getenv("CMAMEM_ENGINE_SLOT"),
			       CMAMEM_ENGINE_ANY_ADDRESS)) {
		fprintf(stderr, "# child: %s\n", engine.error);
		return 4;
	}
	if (cmamem_engine_to_engine(&engine, attach.dma_address, 0,
				    TRANSFER) ||
	    cmamem_engine_to_ram(&engine, 0,
				 attach.dma_address + call->page_size,
				 TRANSFER)) {
		fprintf(stderr, "# child: %s\n", engine.error);
		return 5;
	}
	cmamem_engine_close(&engine);
	return cmamem_free(fd, attach.handle) ? 6 : 0;
}

TEST_F(engine_pool, attach_in_second_process)
{
	struct extent first = { 0, TRANSFER };
	struct extent both[2] = {
		{ 0, TRANSFER }, { self->env.page_size, TRANSFER },
	};
	struct cmamem_block_info info;
	struct attach_call call = {
		.path = self->path,
		.dma_address = self->block.address,
		.page_size = self->env.page_size,
	};

	ASSERT_EQ(0, cmamem_block_info(self->fd, self->block.handle, &info));
	call.name = info.name;
	ASSERT_EQ(0, cpu_begin(&self->block));
	lay_out(&self->block, &first, 1, 0x41);
	ASSERT_EQ(0, cpu_end(&self->block));
	EXPECT_EQ(0, cmamem_run_child(attach_and_copy, &call))
		TH_LOG("the child's exit status: 2 ATTACH, 3 another DMA address, 4 engine, 5 transfer");
	ASSERT_EQ(0, cpu_begin(&self->block));
	expect_layout(_metadata, &self->block, both, 2, 0x41);
	ASSERT_EQ(0, cpu_end(&self->block));
}

/*
 * Every pool of the board (the highmem pool of the 32-bit boards too)
 * in every mode it serves: a small block, the engine copies its first
 * bytes one page further.
 */
TEST(every_pool_every_mode)
{
	static const __u32 modes[] = {
		CMAMEM_MODE_COHERENT, CMAMEM_MODE_WRITECOMBINE,
		CMAMEM_MODE_CACHED,
	};
	struct engine_env env = { 0 };
	char reason[300];
	int pool, fd, ret;
	size_t mode;

	if (env_setup(_metadata, &env, reason, sizeof(reason)))
		SKIP(return, "%s", reason);
	for (pool = 0; pool < env.baseline.pools; pool++) {
		const char *path = env.baseline.paths[pool];
		struct cmamem_pool_info info;

		fd = open(path, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, cmamem_pool_info(fd, &info));
		for (mode = 0; mode < ARRAY_SIZE(modes); mode++) {
			struct target block;
			char what[96];

			if (modes[mode] == CMAMEM_MODE_CACHED &&
			    !(info.pool_flags & CMAMEM_POOL_CACHED))
				continue;
			snprintf(what, sizeof(what), "%s %s block", path,
				 cmamem_mode_name(modes[mode]));
			ret = new_block(_metadata, &env, fd, what,
					2 * env.page_size, modes[mode], 0,
					&block);
			ASSERT_EQ(0, ret) TH_LOG("%s: %s", what,
						 strerror(-ret));
			/*
			 * A 32-bit program drives the engine with 32-bit
			 * stores, so it reaches only the low 4 GiB: the 6 GiB
			 * board's pools above are for 64-bit programs.
			 */
			if (block.address + 2 * env.page_size - 1 >
			    env.engine.dma_limit) {
				TH_LOG("%s at %#llx: beyond this program's engine",
				       what, (unsigned long long)block.address);
				ASSERT_EQ(0, cmamem_unmap(&env.tracker,
							  block.view));
				ASSERT_EQ(0, cmamem_free(fd, block.handle));
				continue;
			}
			engine_move(_metadata, &env.engine, &block, 0, &block,
				    env.page_size, TRANSFER, 0, 0x51 + pool);
			ASSERT_EQ(0, cmamem_unmap(&env.tracker, block.view));
			ASSERT_EQ(0, cmamem_free(fd, block.handle));
		}
		ASSERT_EQ(0, close(fd));
	}
	env_teardown(_metadata, &env);
}

/* --- addresses IMPORT gives for other exporters' dma-bufs --- */

FIXTURE(engine_import) {
	struct engine_env env;
	int fd;
};

FIXTURE_SETUP(engine_import)
{
	char reason[300];

	self->fd = -1;
	if (env_setup(_metadata, &self->env, reason, sizeof(reason)))
		SKIP(return, "%s", reason);
	/*
	 * Every import's mapping for the pool's device would be a bounce
	 * slot: cmamem_bounce_test checks that IMPORT and EXPORT refuse it.
	 */
	if (cmamem_swiotlb_forced())
		SKIP(return, "swiotlb is forced: imports are refused with ERANGE (cmamem_bounce_test)");
	self->fd = cmamem_track_fd(&self->env.tracker,
				   open(CMAMEM_DEFAULT_POOL_PATH,
					O_RDWR | O_CLOEXEC));
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(engine_import)
{
	env_teardown(_metadata, &self->env);
}

/*
 * Imports @dmabuf into the default pool and has the engine copy the
 * buffer's first bytes to its second half, at the import's address; the
 * CPU's view is @target (its address is filled in here).
 */
static void engine_moves_import(struct __test_metadata *_metadata,
				FIXTURE_DATA(engine_import) *self, int dmabuf,
				struct target *target, __u32 seed)
{
	struct cmamem_import import;
	int ret;

	ret = cmamem_import(self->fd, dmabuf, &import);
	/*
	 * On the 6 GiB board the buffer may lie above what the default
	 * pool's 32-bit device reaches: IMPORT refuses it (no bounce buffer).
	 */
	if (ret == -ERANGE && cmamem_default_pool_reach() < cmamem_ram_end())
		SKIP(return, "%s lies beyond the pool device's reach (ERANGE)",
		     target->what);
	ASSERT_EQ(0, ret) TH_LOG("IMPORT of %s: %s", target->what,
				 strerror(-ret));
	EXPECT_LE(target->length, import.length);
	EXPECT_FALSE(import.out_flags & CMAMEM_ADDRESS_WITHHELD);
	target->address = import.dma_address;
	engine_move(_metadata, &self->env.engine, target, 0, target,
		    target->length / 2, TRANSFER, 0, seed);
	ASSERT_EQ(0, cmamem_free(self->fd, import.handle));
}

/* A one-page vgem buffer (shmem: one page is contiguous), by PRIME. */
TEST_F(engine_import, vgem_buffer)
{
	struct target target = {
		.what = "vgem buffer",
		.length = self->env.page_size,
		.sync = SYNC_DMABUF,
	};
	int card = cmamem_track_fd(&self->env.tracker, open_vgem());

	if (card < 0)
		SKIP(return, "no vgem device (/dev/dri/card* named \"vgem\")");
	target.fd = cmamem_track_fd(&self->env.tracker,
				    vgem_new_dmabuf(card, target.length));
	ASSERT_LE(0, target.fd) TH_LOG("a vgem buffer: %s",
				       strerror(-target.fd));
	target.view = cmamem_track_map(&self->env.tracker,
				       mmap(NULL, target.length,
					    PROT_READ | PROT_WRITE, MAP_SHARED,
					    target.fd, 0),
				       target.length);
	ASSERT_NE(MAP_FAILED, target.view);
	engine_moves_import(_metadata, self, target.fd, &target, 0x61);
}

/*
 * A one-page udmabuf of a memfd: the CPU uses the memfd's mapping, with
 * the udmabuf's own cache maintenance (DMA_BUF_IOCTL_SYNC).
 */
TEST_F(engine_import, udmabuf_page)
{
	struct test_udmabuf_create create = { 0 };
	struct target target = {
		.what = "udmabuf page",
		.length = self->env.page_size,
		.sync = SYNC_DMABUF,
	};
	int device, memfd;

	device = cmamem_track_fd(&self->env.tracker, open_udmabuf());
	if (device < 0)
		SKIP(return, "no %s (CONFIG_UDMABUF is off in this kernel)",
		     TEST_UDMABUF_PATH);
	memfd = cmamem_track_fd(&self->env.tracker,
				memfd_create("cmamem-engine",
					     MFD_ALLOW_SEALING | MFD_CLOEXEC));
	ASSERT_LE(0, memfd);
	ASSERT_EQ(0, ftruncate(memfd, target.length));
	ASSERT_EQ(0, fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK));
	target.view = cmamem_track_map(&self->env.tracker,
				       mmap(NULL, target.length,
					    PROT_READ | PROT_WRITE, MAP_SHARED,
					    memfd, 0),
				       target.length);
	ASSERT_NE(MAP_FAILED, target.view);
	create.memfd = memfd;
	create.size = target.length;
	target.fd = cmamem_track_fd(&self->env.tracker,
				    ioctl(device, TEST_UDMABUF_CREATE, &create));
	ASSERT_LE(0, target.fd) TH_LOG("UDMABUF_CREATE: %s", strerror(errno));
	engine_moves_import(_metadata, self, target.fd, &target, 0x62);
}

/*
 * A block of another pool (a device-tree pool), exported and imported
 * into the default pool: the import's address is the block's, and the
 * engine finds the block's bytes there.
 */
TEST_F(engine_import, other_pools_export)
{
	struct cmamem_pool_info info;
	struct target block;
	__u64 block_address;
	char path[64];
	int pool, dmabuf;

	if (cmamem_find_pool(0, CMAMEM_POOL_DEFAULT, path, sizeof(path),
			     &info))
		SKIP(return, "no pool besides the default one (no device tree)");
	pool = cmamem_track_fd(&self->env.tracker,
			       open(path, O_RDWR | O_CLOEXEC));
	ASSERT_LE(0, pool);
	ASSERT_EQ(0, new_block(_metadata, &self->env, pool, path,
			       2 * self->env.page_size, CMAMEM_MODE_COHERENT,
			       0, &block));
	block_address = block.address;
	ASSERT_EQ(0, cmamem_export(pool, block.handle, O_RDWR | O_CLOEXEC,
				   &dmabuf));
	cmamem_track_fd(&self->env.tracker, dmabuf);
	engine_moves_import(_metadata, self, dmabuf, &block, 0x63);
	EXPECT_EQ(block_address, block.address)
		TH_LOG("the import's DMA address differs from the block's");
}

/* --- the legacy ABI's phy_base --- */

FIXTURE(engine_legacy) {
	struct engine_env env;
	int fd;
};

FIXTURE_VARIANT(engine_legacy) {
	char is_use_buffer;
};

FIXTURE_VARIANT_ADD(engine_legacy, coherent) {
	.is_use_buffer = 0,
};

FIXTURE_VARIANT_ADD(engine_legacy, write_combine_buffer) {
	.is_use_buffer = 1,
};

FIXTURE_SETUP(engine_legacy)
{
	char reason[300];

	self->fd = -1;
	if (env_setup(_metadata, &self->env, reason, sizeof(reason)))
		SKIP(return, "%s", reason);
	self->fd = cmamem_track_fd(&self->env.tracker,
				   open(LEGACY_DEVICE, O_RDWR | O_CLOEXEC));
	if (self->fd < 0)
		SKIP(return, "%s: %s (module loaded without legacy=1?)",
		     LEGACY_DEVICE, strerror(errno));
}

FIXTURE_TEARDOWN(engine_legacy)
{
	env_teardown(_metadata, &self->env);
}

/*
 * CMEM_ALLOCATE maps the block and gives phy_base; a legacy program has
 * no sync ioctl (coherent and write-combine blocks need none).
 */
TEST_F(engine_legacy, phy_base)
{
	struct mem_block block;
	struct target target = { .what = "legacy block", .sync = SYNC_NONE };

	memset(&block, 0, sizeof(block));
	snprintf(block.name, sizeof(block.name), "e%d%c",
		 (int)getpid() % 1000000, 'a' + variant->is_use_buffer);
	block.is_use_buffer = variant->is_use_buffer;
	block.len = 2 * self->env.page_size;
	ASSERT_EQ(0, ioctl(self->fd, CMEM_ALLOCATE, &block))
		TH_LOG("CMEM_ALLOCATE: %s", strerror(errno));
	cmamem_track_map(&self->env.tracker, (void *)block.mem_base,
			 block.len);
	ASSERT_NE(0, block.phy_base);
	target.view = (__u8 *)block.mem_base;
	target.length = block.len;
	target.address = block.phy_base;
	engine_move(_metadata, &self->env.engine, &target, 0, &target,
		    self->env.page_size, TRANSFER, 0, 0x71 + variant->is_use_buffer);
	/* CMEM_UNMAP unmaps the block itself. */
	cmamem_forget_map(&self->env.tracker, target.view);
	ASSERT_EQ(0, ioctl(self->fd, CMEM_UNMAP, &block));
}

/* --- what the helper refuses before QEMU would abort --- */

/*
 * Transfers the emulated engine cannot do (an empty one, one ending at or
 * past the end of its buffer, memory beyond its DMA limit) are refused
 * without programming it, and the engine still works afterwards.
 */
TEST(engine_refuses_what_would_abort_qemu)
{
	struct engine_env env = { 0 };
	struct cmamem_engine limited;
	struct target largest;
	unsigned int transfers;
	char reason[300];
	int fd;

	if (env_setup(_metadata, &env, reason, sizeof(reason)))
		SKIP(return, "%s", reason);
	new_scratch(_metadata, &env);
	fd = env.scratch.fd;
	transfers = env.engine.transfers;
	EXPECT_EQ(-EINVAL, cmamem_engine_to_engine(&env.engine,
						   env.scratch.address, 0, 0));
	EXPECT_EQ(-EINVAL, cmamem_engine_to_engine(&env.engine,
						   env.scratch.address, 0,
						   CMAMEM_ENGINE_BUFFER_SIZE));
	EXPECT_EQ(-EINVAL, cmamem_engine_to_ram(&env.engine, 1,
						env.scratch.address,
						CMAMEM_ENGINE_MAX_TRANSFER));
	EXPECT_EQ(-EINVAL, cmamem_engine_to_ram(&env.engine,
						CMAMEM_ENGINE_BUFFER_SIZE,
						env.scratch.address, 1));
	EXPECT_NE(NULL, strstr(env.engine.error, "QEMU 7.2"));
	EXPECT_EQ(transfers, env.engine.transfers);

	/* The same engine, told it reaches only the scratch page's start. */
	ASSERT_EQ(0, cmamem_engine_open(&limited, env.engine.slot,
					env.scratch.address));
	EXPECT_EQ(-ERANGE, cmamem_engine_to_engine(&limited,
						   env.scratch.address, 0, 2));
	EXPECT_EQ(-ERANGE, cmamem_engine_to_ram(&limited, 0,
						env.scratch.address + 1, 1));
	EXPECT_EQ(0, limited.transfers);
	cmamem_engine_close(&limited);

	/* The largest transfer there is works. */
	ASSERT_EQ(0, new_block(_metadata, &env, fd, "two pages",
			       2 * env.page_size, CMAMEM_MODE_COHERENT, 0,
			       &largest));
	engine_move(_metadata, &env.engine, &largest, 0, &largest,
		    env.page_size, CMAMEM_ENGINE_MAX_TRANSFER, 0, 0x81);
	env_teardown(_metadata, &env);
}

TEST_HARNESS_MAIN
