// SPDX-License-Identifier: GPL-2.0
/*
 * cmamem pool tests: the module's limits (max_block_size, fd_quota_bytes,
 * fd_max_blocks), the device-tree pools (a CMA area and a no-map
 * carveout: exhaustion, recovery, blocks inside the region, modes; a node
 * that is no pool, probed by the pool driver by hand), the default pool
 * once its CMA area is full, the sysfs and
 * debugfs views of a pool, and many blocks at once.
 *
 * The device-tree tests find their pools by POOL_INFO flags, not by name,
 * and skip where there is no device tree (the PC kernel).
 */
#include "kselftest_harness.h"

#include <limits.h>
#include <sys/mount.h>
#include <sys/prctl.h>

#include "cmamem_util.h"

#define MAX_POOL_BLOCKS		4096
#define DT_RESERVED_MEMORY	"/proc/device-tree/reserved-memory"

/* --- module parameters --- */

FIXTURE(limits) {
	size_t page_size;
	struct cmamem_saved_params saved;
	struct cmamem_tracker tracker;
};

FIXTURE_SETUP(limits)
{
	cmamem_tracker_init(&self->tracker);
	self->page_size = cmamem_page_size();
	if (!cmamem_path_exists(CMAMEM_DEFAULT_POOL_PATH))
		SKIP(return, "%s is missing", CMAMEM_DEFAULT_POOL_PATH);
	if (!cmamem_is_root())
		SKIP(return, "needs root to set module parameters");
	ASSERT_EQ(0, cmamem_params_save(&self->saved, "max_block_size"));
	ASSERT_EQ(0, cmamem_params_save(&self->saved, "fd_quota_bytes"));
	ASSERT_EQ(0, cmamem_params_save(&self->saved, "fd_max_blocks"));
	ASSERT_EQ(0, cmamem_params_save(&self->saved, "user_quota_bytes"));
	ASSERT_EQ(0, cmamem_params_save(&self->saved, "user_max_blocks"));
	/* Start from "no limit" so one limit is tested at a time. */
	ASSERT_EQ(0, cmamem_param_write("max_block_size", "0"));
	ASSERT_EQ(0, cmamem_param_write("fd_quota_bytes", "0"));
	ASSERT_EQ(0, cmamem_param_write("fd_max_blocks", "16384"));
	ASSERT_EQ(0, cmamem_param_write("user_quota_bytes", "0"));
	ASSERT_EQ(0, cmamem_param_write("user_max_blocks", "0"));
}

FIXTURE_TEARDOWN(limits)
{
	cmamem_tracker_release(&self->tracker);
	EXPECT_EQ(0, cmamem_params_restore(&self->saved));
}

/* Opens the default pool after the limits are set, for teardown to close. */
static int open_pool(FIXTURE_DATA(limits) *self)
{
	return cmamem_track_fd(&self->tracker,
			       open(CMAMEM_DEFAULT_POOL_PATH, O_RDWR));
}

static int alloc_pages(int fd, size_t pages, size_t page_size,
		       struct cmamem_alloc *alloc)
{
	return cmamem_alloc_block(fd, "limit", pages * page_size,
				  CMAMEM_MODE_COHERENT, alloc);
}

/*
 * Per-user limits, with two unprivileged users. The pool files are opened
 * by root and shared with children that become uid FIRST_USER or
 * SECOND_USER; blocks a child allocates stay (held by the files' handles,
 * owned by that uid) after it exits, until the files are closed.
 */
#define FIRST_USER	65534
#define SECOND_USER	65533

struct user_steps {
	uid_t uid;
	int fds[2];
	size_t page_size;
	/* Each step: allocate @pages on fds[@file]; expect @error. */
	struct {
		int file;
		size_t pages;
		int error;
	} steps[8];
	int count;
};

static int user_steps_body(void *argument)
{
	struct user_steps *run = argument;
	struct cmamem_alloc alloc;
	int index, result;

	if (setgroups(0, NULL) || setresgid(run->uid, run->uid, run->uid) ||
	    setresuid(run->uid, run->uid, run->uid))
		return 255;
	for (index = 0; index < run->count; index++) {
		result = alloc_pages(run->fds[run->steps[index].file],
				     run->steps[index].pages, run->page_size,
				     &alloc);
		if (result != run->steps[index].error)
			return 1 + index;
	}
	return 0;
}

TEST_F(limits, user_quota_bytes_covers_all_files_of_a_user)
{
	struct user_steps first = { .uid = FIRST_USER, .count = 4, .steps = {
		{ 0, 3, 0 },		/* 3 of 4 pages */
		{ 1, 2, -EDQUOT },	/* another file, same user */
		{ 1, 1, 0 },		/* 4 of 4 */
		{ 0, 1, -EDQUOT },
	} };
	struct user_steps second = { .uid = SECOND_USER, .count = 2, .steps = {
		{ 0, 4, 0 },		/* a user of its own */
		{ 1, 1, -EDQUOT },
	} };
	struct user_steps first_again = { .uid = FIRST_USER, .count = 1,
		.steps = { { 0, 1, -EDQUOT } } };
	struct user_steps first_freed = { .uid = FIRST_USER, .count = 1,
		.steps = { { 0, 4, 0 } } };
	int index;

	ASSERT_EQ(0, cmamem_param_write_u64("user_quota_bytes",
					    4 * self->page_size));
	for (index = 0; index < 2; index++) {
		first.fds[index] = open_pool(self);
		ASSERT_LE(0, first.fds[index]);
	}
	first.page_size = self->page_size;
	ASSERT_EQ(0, cmamem_run_child(user_steps_body, &first));

	second.page_size = self->page_size;
	for (index = 0; index < 2; index++) {
		second.fds[index] = open_pool(self);
		ASSERT_LE(0, second.fds[index]);
	}
	ASSERT_EQ(0, cmamem_run_child(user_steps_body, &second));

	/* The first user's blocks outlive its process while files hold them. */
	first_again.page_size = self->page_size;
	memcpy(first_again.fds, second.fds, sizeof(first_again.fds));
	ASSERT_EQ(0, cmamem_run_child(user_steps_body, &first_again));
	ASSERT_EQ(0, cmamem_close(&self->tracker, first.fds[0]));
	ASSERT_EQ(0, cmamem_close(&self->tracker, first.fds[1]));
	first_freed.page_size = self->page_size;
	memcpy(first_freed.fds, second.fds, sizeof(first_freed.fds));
	ASSERT_EQ(0, cmamem_run_child(user_steps_body, &first_freed));
}

/*
 * A user's very first block larger than the quota: refused, and the user's
 * (empty) usage entry goes with it, so a block within the quota still fits.
 */
TEST_F(limits, user_quota_bytes_first_block_too_large_edquot)
{
	struct user_steps run = { .uid = FIRST_USER, .count = 3, .steps = {
		{ 0, 3, -EDQUOT },	/* nothing allocated yet */
		{ 0, 2, 0 },		/* 2 of 2 */
		{ 0, 1, -EDQUOT },
	} };

	ASSERT_EQ(0, cmamem_param_write_u64("user_quota_bytes",
					    2 * self->page_size));
	run.fds[0] = open_pool(self);
	ASSERT_LE(0, run.fds[0]);
	run.page_size = self->page_size;
	ASSERT_EQ(0, cmamem_run_child(user_steps_body, &run));
}

/*
 * What keeps a block alive keeps it counted: a mapping and a dma-buf
 * outlive the handle and the file, and the user's quota with them.
 */
static int mapping_and_dmabuf_count_body(void *argument)
{
	struct user_steps *run = argument;
	struct cmamem_export export = { .size = sizeof(export) };
	struct cmamem_alloc mapped, exported, more;
	int fd = run->fds[0];
	void *view;

	if (setgroups(0, NULL) || setresgid(run->uid, run->uid, run->uid) ||
	    setresuid(run->uid, run->uid, run->uid))
		return 255;
	if (alloc_pages(fd, 2, run->page_size, &mapped) ||
	    alloc_pages(fd, 2, run->page_size, &exported))
		return 1;
	view = cmamem_map(fd, mapped.mmap_offset, 2 * run->page_size,
			  PROT_READ | PROT_WRITE);
	export.handle = exported.handle;
	export.fd_flags = O_RDWR | O_CLOEXEC;
	if (view == MAP_FAILED ||
	    cmamem_ioctl(fd, CMAMEM_IOCTL_EXPORT, &export))
		return 2;
	if (cmamem_free(fd, mapped.handle) || cmamem_free(fd, exported.handle))
		return 3;
	if (alloc_pages(fd, 1, run->page_size, &more) != -EDQUOT)
		return 4;
	munmap(view, 2 * run->page_size);
	if (alloc_pages(fd, 2, run->page_size, &more) ||
	    cmamem_free(fd, more.handle))
		return 5;
	/* The dma-buf's two pages still count: three more are too many. */
	if (alloc_pages(fd, 3, run->page_size, &more) != -EDQUOT)
		return 6;
	close(export.fd);
	if (alloc_pages(fd, 4, run->page_size, &more))
		return 7;
	return cmamem_free(fd, more.handle) ? 8 : 0;
}

TEST_F(limits, user_quota_bytes_counts_mappings_and_dmabufs)
{
	struct user_steps run = { .uid = FIRST_USER };

	ASSERT_EQ(0, cmamem_param_write_u64("user_quota_bytes",
					    4 * self->page_size));
	run.page_size = self->page_size;
	run.fds[0] = open_pool(self);
	ASSERT_LE(0, run.fds[0]);
	ASSERT_EQ(0, cmamem_run_child(mapping_and_dmabuf_count_body, &run));
}

TEST_F(limits, user_max_blocks_edquot)
{
	struct user_steps first = { .uid = FIRST_USER, .count = 3, .steps = {
		{ 0, 1, 0 }, { 1, 1, 0 }, { 0, 1, -EDQUOT },
	} };
	struct user_steps second = { .uid = SECOND_USER, .count = 3, .steps = {
		{ 0, 1, 0 }, { 1, 1, 0 }, { 1, 1, -EDQUOT },
	} };
	int index;

	ASSERT_EQ(0, cmamem_param_write("user_max_blocks", "2"));
	first.page_size = second.page_size = self->page_size;
	for (index = 0; index < 2; index++) {
		first.fds[index] = open_pool(self);
		ASSERT_LE(0, first.fds[index]);
		second.fds[index] = first.fds[index];
	}
	ASSERT_EQ(0, cmamem_run_child(user_steps_body, &first));
	ASSERT_EQ(0, cmamem_run_child(user_steps_body, &second));
	/* No limit again: the same user may allocate more. */
	ASSERT_EQ(0, cmamem_param_write("user_max_blocks", "0"));
	first.count = 1;
	first.steps[0].error = 0;
	ASSERT_EQ(0, cmamem_run_child(user_steps_body, &first));
}

/*
 * The limit @parameter set to two pages: three pages fail with @error and
 * leave the pool as it was, two pages fit. Returns the file, still open.
 */
static int two_page_limit(struct __test_metadata *_metadata,
			  FIXTURE_DATA(limits) *self, const char *parameter,
			  int error)
{
	struct cmamem_pool_info before, after;
	struct cmamem_alloc alloc;
	int fd;

	ASSERT_EQ(0, cmamem_param_write_u64(parameter, 2 * self->page_size));
	fd = open_pool(self);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, cmamem_pool_info(fd, &before));
	ASSERT_EQ(error, alloc_pages(fd, 3, self->page_size, &alloc));
	ASSERT_EQ(0, cmamem_pool_info(fd, &after));
	ASSERT_EQ(before.used_bytes, after.used_bytes);
	ASSERT_EQ(before.blocks, after.blocks);
	ASSERT_EQ(0, alloc_pages(fd, 2, self->page_size, &alloc));
	ASSERT_EQ(0, cmamem_free(fd, alloc.handle));
	return fd;
}

TEST_F(limits, max_block_size_efbig)
{
	struct cmamem_pool_info info;
	struct cmamem_alloc alloc;
	int fd = two_page_limit(_metadata, self, "max_block_size", -EFBIG);

	ASSERT_EQ(0, cmamem_pool_info(fd, &info));
	ASSERT_EQ(2 * self->page_size, info.max_block_bytes);
	/* One byte over, before rounding, is over too. */
	ASSERT_EQ(-EFBIG, cmamem_alloc_block(fd, "limit",
					     2 * self->page_size + 1,
					     CMAMEM_MODE_CACHED, &alloc));

	/* No limit again: the same file may allocate the bigger block. */
	ASSERT_EQ(0, cmamem_param_write("max_block_size", "0"));
	ASSERT_EQ(0, alloc_pages(fd, 3, self->page_size, &alloc));
	ASSERT_EQ(0, cmamem_free(fd, alloc.handle));
}

/*
 * A device-tree pool's largest block is its region, or max_block_size if
 * that is smaller: POOL_INFO reports whichever applies.
 */
TEST_F(limits, max_block_size_and_region_reported_as_the_smaller)
{
	struct cmamem_pool_info info;
	char path[256];
	int fd;

	if (cmamem_find_pool(CMAMEM_POOL_TOTAL_KNOWN, CMAMEM_POOL_DEFAULT,
			     path, sizeof(path), &info))
		SKIP(return, "no device-tree pool (no device tree here)");
	ASSERT_EQ(info.total_bytes, info.max_block_bytes);
	ASSERT_LT(2 * self->page_size, info.total_bytes);
	fd = cmamem_track_fd(&self->tracker, open(path, O_RDWR));
	ASSERT_LE(0, fd);

	ASSERT_EQ(0, cmamem_param_write_u64("max_block_size",
					    2 * self->page_size));
	ASSERT_EQ(0, cmamem_pool_info(fd, &info));
	ASSERT_EQ(2 * self->page_size, info.max_block_bytes);

	ASSERT_EQ(0, cmamem_param_write_u64("max_block_size",
					    2 * info.total_bytes));
	ASSERT_EQ(0, cmamem_pool_info(fd, &info));
	ASSERT_EQ(info.total_bytes, info.max_block_bytes);
}

/* A block larger than the whole fd quota, on a file that holds none. */
TEST_F(limits, fd_quota_bytes_block_larger_than_quota_edquot)
{
	two_page_limit(_metadata, self, "fd_quota_bytes", -EDQUOT);
}

TEST_F(limits, fd_quota_bytes_edquot)
{
	struct cmamem_alloc big, small, more;
	struct cmamem_attach attach;
	int fd, other_fd;

	ASSERT_EQ(0, cmamem_param_write_u64("fd_quota_bytes",
					    4 * self->page_size));
	fd = open_pool(self);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, alloc_pages(fd, 3, self->page_size, &big));
	ASSERT_EQ(-EDQUOT, alloc_pages(fd, 2, self->page_size, &more));
	ASSERT_EQ(0, alloc_pages(fd, 1, self->page_size, &small));
	ASSERT_EQ(-EDQUOT, alloc_pages(fd, 1, self->page_size, &more));
	/* Freeing gives the quota back. */
	ASSERT_EQ(0, cmamem_free(fd, small.handle));
	ASSERT_EQ(0, alloc_pages(fd, 1, self->page_size, &small));

	/* An attached block counts against the attaching file. */
	other_fd = open_pool(self);
	ASSERT_LE(0, other_fd);
	ASSERT_EQ(0, cmamem_attach(other_fd, big.name, 0, &attach));
	ASSERT_EQ(-EDQUOT, alloc_pages(other_fd, 2, self->page_size, &more));
	ASSERT_EQ(0, cmamem_attach(other_fd, small.name, 0, &attach));
	ASSERT_EQ(-EDQUOT, alloc_pages(other_fd, 1, self->page_size, &more));

	/* No limit again: a new file may take more than the old quota. */
	ASSERT_EQ(0, cmamem_param_write("fd_quota_bytes", "0"));
	ASSERT_EQ(0, cmamem_close(&self->tracker, other_fd));
	ASSERT_EQ(0, cmamem_close(&self->tracker, fd));
	fd = open_pool(self);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, alloc_pages(fd, 5, self->page_size, &more));
	ASSERT_EQ(0, cmamem_free(fd, more.handle));
}

TEST_F(limits, fd_max_blocks_emfile)
{
	struct cmamem_alloc first, second, more;
	struct cmamem_attach attach;
	int fd, count;

	ASSERT_EQ(0, cmamem_param_write("fd_max_blocks", "3"));
	fd = open_pool(self);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, alloc_pages(fd, 1, self->page_size, &first));
	ASSERT_EQ(0, alloc_pages(fd, 1, self->page_size, &second));
	ASSERT_EQ(0, cmamem_attach(fd, first.name, 0, &attach));
	ASSERT_EQ(-EMFILE, alloc_pages(fd, 1, self->page_size, &more));
	ASSERT_EQ(-EMFILE, cmamem_attach(fd, second.name, 0, &attach));
	ASSERT_EQ(0, cmamem_free(fd, second.handle));
	ASSERT_EQ(0, alloc_pages(fd, 1, self->page_size, &more));

	ASSERT_EQ(0, cmamem_param_write("fd_max_blocks", "16384"));
	ASSERT_EQ(0, cmamem_close(&self->tracker, fd));
	fd = open_pool(self);
	ASSERT_LE(0, fd);
	for (count = 0; count < 5; count++)
		ASSERT_EQ(0, alloc_pages(fd, 1, self->page_size, &more));
}

/* --- device-tree pools --- */

static __u64 read_be_cells(const __u8 *bytes, __u32 cells)
{
	__u64 value = 0;
	__u32 index;

	for (index = 0; index < cells * 4; index++)
		value = (value << 8) | bytes[index];
	return value;
}

static __u32 read_cell_count(const char *path, __u32 fallback)
{
	__u8 bytes[4];
	int fd = open(path, O_RDONLY);
	ssize_t length;

	if (fd < 0)
		return fallback;
	length = read(fd, bytes, sizeof(bytes));
	close(fd);
	return length == 4 ? (__u32)read_be_cells(bytes, 1) : fallback;
}

/*
 * Finds the /reserved-memory region of @size bytes that holds [@address,
 * @address + @length) in the live device tree, and its base in @found_base.
 * Returns 1 if one does, 0 if none does, -1 if the device tree cannot be
 * read.
 */
static int reserved_region_find(__u64 size, __u64 address, __u64 length,
				__u64 *found_base)
{
	__u32 address_cells, size_cells, entry_bytes;
	struct dirent *entry;
	int found = 0;
	DIR *directory;

	directory = opendir(DT_RESERVED_MEMORY);
	if (!directory)
		return -1;
	address_cells = read_cell_count(DT_RESERVED_MEMORY "/#address-cells",
					2);
	size_cells = read_cell_count(DT_RESERVED_MEMORY "/#size-cells", 2);
	entry_bytes = 4 * (address_cells + size_cells);
	while (!found && (entry = readdir(directory))) {
		__u8 reg[256];
		char path[512];
		ssize_t reg_length, offset;
		int fd;

		if (entry->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/reg", DT_RESERVED_MEMORY,
			 entry->d_name);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		reg_length = read(fd, reg, sizeof(reg));
		close(fd);
		for (offset = 0; offset + (ssize_t)entry_bytes <= reg_length;
		     offset += entry_bytes) {
			__u64 base = read_be_cells(reg + offset,
						      address_cells);
			__u64 region = read_be_cells(reg + offset +
							4 * address_cells,
							size_cells);

			if (region == size && address >= base &&
			    address + length <= base + region) {
				*found_base = base;
				found = 1;
			}
		}
	}
	closedir(directory);
	return found;
}

static int reserved_region_holds(__u64 size, __u64 address, __u64 length)
{
	__u64 base;

	return reserved_region_find(size, address, length, &base);
}

FIXTURE(dt_pool) {
	int fd;
	size_t page_size;
	char path[256];
	struct cmamem_pool_info info;
	struct cmamem_tracker tracker;
	__u32 handles[MAX_POOL_BLOCKS];
	struct cmamem_alloc last;
	int kmsg_fd;
};

FIXTURE_VARIANT(dt_pool) {
	__u32 wanted_flags;
	const char *missing;
};

FIXTURE_VARIANT_ADD(dt_pool, cma) {
	.wanted_flags = CMAMEM_POOL_CMA | CMAMEM_POOL_TOTAL_KNOWN,
	.missing = "no device-tree CMA pool (no CMA or no device tree here)",
};

FIXTURE_VARIANT_ADD(dt_pool, carveout) {
	.wanted_flags = CMAMEM_POOL_CARVEOUT | CMAMEM_POOL_TOTAL_KNOWN,
	.missing = "no device-tree carveout pool (no device tree here)",
};

FIXTURE_SETUP(dt_pool)
{
	cmamem_tracker_init(&self->tracker);
	self->kmsg_fd = -1;
	self->page_size = cmamem_page_size();
	if (cmamem_find_pool(variant->wanted_flags, CMAMEM_POOL_DEFAULT,
			     self->path, sizeof(self->path), &self->info))
		SKIP(return, "%s", variant->missing);
	self->fd = cmamem_track_fd(&self->tracker, open(self->path, O_RDWR));
	ASSERT_LE(0, self->fd);
	ASSERT_NE(0, self->info.total_bytes);
	self->kmsg_fd = cmamem_track_fd(&self->tracker, cmamem_kmsg_open());
}

FIXTURE_TEARDOWN(dt_pool)
{
	cmamem_tracker_release(&self->tracker);
}

/* The pool's name is the label after "/dev/cmamem-". */
TEST_F(dt_pool, pool_info_reply)
{
	const char *label = strrchr(self->path, '/') + strlen("/cmamem-");
	struct cmamem_pool_info *info = &self->info;

	ASSERT_STREQ(label, info->name);
	ASSERT_EQ(self->page_size, info->page_size);
	ASSERT_FALSE(info->pool_flags & CMAMEM_POOL_DEFAULT);
	if (info->pool_flags & CMAMEM_POOL_CARVEOUT) {
		ASSERT_FALSE(info->pool_flags & CMAMEM_POOL_CMA);
		ASSERT_FALSE(info->pool_flags & CMAMEM_POOL_CACHED);
	} else {
		ASSERT_TRUE(info->pool_flags & CMAMEM_POOL_CACHED);
	}
	ASSERT_EQ(info->total_bytes, info->used_bytes + info->free_bytes);
	ASSERT_NE(0, info->max_block_bytes);
	ASSERT_LE(info->max_block_bytes, info->total_bytes);
}

TEST_F(dt_pool, block_larger_than_pool_efbig)
{
	struct cmamem_pool_info after;
	struct cmamem_alloc alloc;

	ASSERT_EQ(-EFBIG, cmamem_alloc_block(self->fd, "toobig",
					     self->info.total_bytes +
					     self->page_size,
					     CMAMEM_MODE_COHERENT, &alloc));
	ASSERT_EQ(0, cmamem_pool_info(self->fd, &after));
	ASSERT_EQ(self->info.used_bytes, after.used_bytes);
	ASSERT_EQ(self->info.blocks, after.blocks);
}

/* Coherent and write-combine blocks work in every pool. */
static void check_mode_works(struct __test_metadata *_metadata,
			     FIXTURE_DATA(dt_pool) *self, __u32 mode)
{
	struct cmamem_alloc alloc;
	size_t length = 4 * self->page_size;
	__u8 *address;

	ASSERT_EQ(0, cmamem_alloc_block(self->fd, "dtmode", length, mode,
					&alloc));
	address = cmamem_track_map(&self->tracker,
				   cmamem_map(self->fd, alloc.mmap_offset,
					      length, PROT_READ | PROT_WRITE),
				   length);
	ASSERT_NE(MAP_FAILED, address);
	cmamem_fill(address, length, 0xd7 + mode);
	ASSERT_EQ(0, cmamem_sync(self->fd, alloc.handle,
				 CMAMEM_SYNC_FOR_DEVICE, 0, length));
	ASSERT_EQ(-1, cmamem_check(address, length, 0xd7 + mode));
	/* Without root there is no address to check. */
	if (!(alloc.out_flags & CMAMEM_ADDRESS_WITHHELD)) {
		ASSERT_EQ(1, reserved_region_holds(self->info.total_bytes,
						   alloc.physical_address,
						   length))
			TH_LOG("block at 0x%llx is not inside the pool's region",
			       alloc.physical_address);
	}
	ASSERT_EQ(0, cmamem_unmap(&self->tracker, address));
	ASSERT_EQ(0, cmamem_free(self->fd, alloc.handle));
}

TEST_F(dt_pool, coherent_block_works)
{
	check_mode_works(_metadata, self, CMAMEM_MODE_COHERENT);
}

TEST_F(dt_pool, writecombine_block_works)
{
	check_mode_works(_metadata, self, CMAMEM_MODE_WRITECOMBINE);
}

/* Cached blocks need struct pages: a CMA pool has them, a carveout not. */
TEST_F(dt_pool, cached_block)
{
	struct cmamem_pool_info after;
	struct cmamem_alloc alloc;

	if (self->info.pool_flags & CMAMEM_POOL_CACHED) {
		check_mode_works(_metadata, self, CMAMEM_MODE_CACHED);
		return;
	}
	ASSERT_EQ(-EOPNOTSUPP, cmamem_alloc_block(self->fd, "cached",
						  self->page_size,
						  CMAMEM_MODE_CACHED, &alloc));
	ASSERT_EQ(0, cmamem_pool_info(self->fd, &after));
	ASSERT_EQ(self->info.used_bytes, after.used_bytes);
	ASSERT_EQ(self->info.blocks, after.blocks);
}

/* A name is unique per pool: the default pool may hold it too. */
TEST_F(dt_pool, same_name_in_two_pools)
{
	struct cmamem_attach in_default, in_dt;
	struct cmamem_alloc first, second;
	char name[CMAMEM_NAME_SIZE];
	int default_fd;

	default_fd = cmamem_track_fd(&self->tracker,
				     open(CMAMEM_DEFAULT_POOL_PATH, O_RDWR));
	ASSERT_LE(0, default_fd);
	cmamem_unique_name(name, "twopools");
	ASSERT_EQ(0, cmamem_alloc_named(default_fd, name, self->page_size,
					CMAMEM_MODE_COHERENT, 0, 0, &first));
	ASSERT_EQ(0, cmamem_alloc_named(self->fd, name, 2 * self->page_size,
					CMAMEM_MODE_COHERENT, 0, 0, &second));
	ASSERT_EQ(0, cmamem_attach(default_fd, name, 0, &in_default));
	ASSERT_EQ(0, cmamem_attach(self->fd, name, 0, &in_dt));
	ASSERT_EQ(self->page_size, in_default.length);
	ASSERT_EQ(2 * self->page_size, in_dt.length);
}

/*
 * Fill the pool with blocks of @block_bytes until it says ENOMEM. It must
 * say so no later than its size allows (never serve blocks from outside),
 * every block must lie in the pool's region, and the failure is counted.
 * Returns the number of blocks allocated (their handles in self->handles).
 */
static int fill_pool(struct __test_metadata *_metadata,
		     FIXTURE_DATA(dt_pool) *self, __u64 block_bytes)
{
	struct cmamem_pool_info before, after;
	__u64 limit = self->info.total_bytes / block_bytes;
	struct cmamem_alloc alloc;
	int count = 0, result;

	ASSERT_LT(limit, MAX_POOL_BLOCKS);
	ASSERT_EQ(0, cmamem_pool_info(self->fd, &before));
	for (;;) {
		result = cmamem_alloc_block(self->fd, "fill", block_bytes,
					    CMAMEM_MODE_COHERENT, &alloc);
		if (result)
			break;
		self->handles[count++] = alloc.handle;
		ASSERT_LE(count, limit)
			TH_LOG("pool of %llu bytes served more than its size",
			       self->info.total_bytes);
		if (alloc.out_flags & CMAMEM_ADDRESS_WITHHELD)
			continue;	/* not root: no address to check */
		ASSERT_EQ(1, reserved_region_holds(self->info.total_bytes,
						   alloc.physical_address,
						   block_bytes))
			TH_LOG("block %d at 0x%llx is outside the pool", count,
			       alloc.physical_address);
	}
	ASSERT_EQ(-ENOMEM, result);
	ASSERT_EQ(0, cmamem_pool_info(self->fd, &after));
	ASSERT_EQ(before.used_bytes + count * block_bytes, after.used_bytes);
	ASSERT_EQ(before.blocks + count, after.blocks);
	ASSERT_EQ(before.allocations + count, after.allocations);
	ASSERT_EQ(before.failures + 1, after.failures);
	ASSERT_GE(after.peak_bytes, after.used_bytes);
	/* Nearly all of a fresh pool must be usable. */
	ASSERT_GE(count * 4, limit * 3)
		TH_LOG("only %d blocks of %llu bytes in a %llu byte pool",
		       count, block_bytes,
		       self->info.total_bytes);
	return count;
}

static void free_handles(struct __test_metadata *_metadata,
			 FIXTURE_DATA(dt_pool) *self, int count)
{
	int index;

	for (index = 0; index < count; index++)
		ASSERT_EQ(0, cmamem_free(self->fd, self->handles[index]));
}

TEST_F_TIMEOUT(dt_pool, exhaustion_and_recovery, 120)
{
	__u64 block_bytes = CMAMEM_MIB;
	struct cmamem_pool_info after;
	struct cmamem_alloc alloc;
	char record[1024];
	int count, again;

	if (block_bytes * 4 > self->info.total_bytes)
		block_bytes = self->info.total_bytes / 16;
	count = fill_pool(_metadata, self, block_bytes);
	free_handles(_metadata, self, count);
	ASSERT_EQ(0, cmamem_pool_info(self->fd, &after));
	ASSERT_EQ(self->info.used_bytes, after.used_bytes);
	ASSERT_EQ(self->info.blocks, after.blocks);

	/* Everything came back: the same number of blocks fits again. */
	for (again = 0; again < count; again++) {
		ASSERT_EQ(0, cmamem_alloc_block(self->fd, "again", block_bytes,
						CMAMEM_MODE_COHERENT, &alloc))
			TH_LOG("block %d of %d after recovery", again, count);
		self->handles[again] = alloc.handle;
	}
	free_handles(_metadata, self, count);
	ASSERT_FALSE(cmamem_kmsg_has_splat(self->kmsg_fd, record,
					   sizeof(record)))
		TH_LOG("kernel log: %s", record);
}

/*
 * With its CMA area full, dma-direct serves a device-tree pool's device
 * from the page allocator instead, outside the region: a cached block is
 * refused then, whether it would be one page (a page of its own) or more
 * (part of one high-order page), and nothing is left allocated.
 */
TEST_F_TIMEOUT(dt_pool, full_cma_pool_refuses_cached_blocks, 120)
{
	__u64 block_bytes = CMAMEM_MIB;
	struct cmamem_pool_info full, after;
	struct cmamem_alloc alloc;
	int count, pages;

	if (!(self->info.pool_flags & CMAMEM_POOL_CMA))
		SKIP(return, "a carveout serves no cached blocks");
	if (block_bytes * 4 > self->info.total_bytes)
		block_bytes = self->info.total_bytes / 16;
	count = fill_pool(_metadata, self, block_bytes);
	/* What is left of the area, page by page. */
	while (!cmamem_alloc_block(self->fd, "fill", self->page_size,
				   CMAMEM_MODE_COHERENT, &alloc)) {
		ASSERT_LT(count, MAX_POOL_BLOCKS);
		self->handles[count++] = alloc.handle;
	}
	ASSERT_EQ(0, cmamem_pool_info(self->fd, &full));

	for (pages = 1; pages <= 2; pages++) {
		ASSERT_EQ(-ENOMEM, cmamem_alloc_block(self->fd, "cached",
						      pages * self->page_size,
						      CMAMEM_MODE_CACHED,
						      &alloc))
			TH_LOG("a cached block of %d pages from a full pool",
			       pages);
		ASSERT_EQ(0, cmamem_pool_info(self->fd, &after));
		ASSERT_EQ(full.used_bytes, after.used_bytes);
		ASSERT_EQ(full.blocks, after.blocks);
		ASSERT_EQ(full.failures + pages, after.failures);
	}
	free_handles(_metadata, self, count);
	ASSERT_EQ(0, cmamem_pool_info(self->fd, &after));
	ASSERT_EQ(self->info.used_bytes, after.used_bytes);
	ASSERT_EQ(self->info.blocks, after.blocks);
}

static int compare_u64(const void *a, const void *b)
{
	__u64 first = *(const __u64 *)a, second = *(const __u64 *)b;

	return first < second ? -1 : first > second;
}

/*
 * Fragmentation made visible: fill the pool with blocks of an eighth of
 * its size, free every other one by address, and the largest free run that
 * POOL_INFO and sysfs report must be the longest gap between the blocks
 * left (and the region's ends, from the device tree); a request one page
 * longer fails although free_bytes would hold it.
 */
TEST_F_TIMEOUT(dt_pool, largest_free_run_reported, 120)
{
	__u64 chunk = self->info.total_bytes / 8, base, cursor, expected = 0;
	__u64 addresses[MAX_POOL_BLOCKS], sysfs;
	const char *device = strrchr(self->path, '/') + 1;
	struct cmamem_block_info block;
	struct cmamem_pool_info after;
	struct cmamem_alloc alloc;
	char path[256];
	int count, index;

	if (!cmamem_is_root())
		SKIP(return, "block addresses need CAP_SYS_RAWIO");
	if (self->info.used_bytes)
		SKIP(return, "the pool is in use (%llu bytes)",
		     self->info.used_bytes);
	ASSERT_EQ(0, cmamem_pool_info(self->fd, &after));
	ASSERT_EQ(self->info.total_bytes, after.largest_free_bytes);

	count = fill_pool(_metadata, self, chunk);
	for (index = 0; index < count; index++) {
		ASSERT_EQ(0, cmamem_block_info(self->fd, self->handles[index],
					       &block));
		addresses[index] = block.physical_address;
	}
	ASSERT_EQ(1, reserved_region_find(self->info.total_bytes,
					  addresses[0], chunk, &base));
	/* Free every other block, in address order. */
	qsort(addresses, count, sizeof(addresses[0]), compare_u64);
	for (index = 0; index < count; index += 2) {
		int other;

		for (other = 0; other < count; other++) {
			if (!self->handles[other])
				continue;
			ASSERT_EQ(0, cmamem_block_info(self->fd,
						       self->handles[other],
						       &block));
			if (block.physical_address == addresses[index])
				break;
		}
		ASSERT_LT(other, count);
		ASSERT_EQ(0, cmamem_free(self->fd, self->handles[other]));
		self->handles[other] = 0;
	}
	/* The gaps around the blocks left (odd indexes). */
	cursor = base;
	for (index = 1; index < count; index += 2) {
		if (addresses[index] - cursor > expected)
			expected = addresses[index] - cursor;
		cursor = addresses[index] + chunk;
	}
	if (base + self->info.total_bytes - cursor > expected)
		expected = base + self->info.total_bytes - cursor;

	ASSERT_EQ(0, cmamem_pool_info(self->fd, &after));
	ASSERT_EQ(expected, after.largest_free_bytes);
	snprintf(path, sizeof(path), "/sys/class/misc/%s/largest_free_bytes",
		 device);
	ASSERT_EQ(0, cmamem_read_u64(path, &sysfs));
	ASSERT_EQ(expected, sysfs);
	ASSERT_GT(after.free_bytes, expected);
	ASSERT_EQ(-ENOMEM, cmamem_alloc_block(self->fd, "fragmented",
					      expected + self->page_size,
					      CMAMEM_MODE_COHERENT, &alloc));
	for (index = 0; index < count; index++)
		if (self->handles[index])
			ASSERT_EQ(0, cmamem_free(self->fd,
						 self->handles[index]));
}

/* --- the default pool once its CMA area is full --- */

#define FILL_BLOCK_BYTES	(1 << 20)
#define FILL_MAX_BLOCKS		1024

/*
 * Cached blocks of the default pool come from the default CMA area while
 * it has room; then dma-direct hands out page-allocator pages, which the
 * pool allocates again as whole refcounted pages so that they can be
 * mapped (cmamem_alloc_streaming()). Such a block lies outside CMA, so its
 * reply says it is pinnable; it must work like any other, and every block
 * goes back. (Without this the suite reaches that path only when CMA is
 * busy by chance.) On kernels without a default CMA area the first block
 * is already such a block.
 */
TEST(default_pool_cached_block_after_its_cma_area_is_full)
{
	struct cmamem_pool_info before, after;
	__u32 handles[FILL_MAX_BLOCKS];
	struct cmamem_alloc alloc;
	bool outside_cma = false;
	int fd, count = 0, result = 0, index;
	void *view;

	fd = open("/dev/cmamem", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		SKIP(return, "no /dev/cmamem (is cmamem loaded?)");
	ASSERT_EQ(0, cmamem_pool_info(fd, &before));
	if (!(before.pool_flags & CMAMEM_POOL_CACHED)) {
		close(fd);
		SKIP(return, "the default pool serves no cached blocks");
	}
	while (count < FILL_MAX_BLOCKS) {
		result = cmamem_alloc_block(fd, "cma-fill", FILL_BLOCK_BYTES,
					    CMAMEM_MODE_CACHED, &alloc);
		if (result)
			break;
		handles[count++] = alloc.handle;
		if (alloc.out_flags & CMAMEM_REPLY_PINNABLE) {
			outside_cma = true;
			break;
		}
	}
	EXPECT_EQ(0, result) TH_LOG("ALLOC %d: %s", count, strerror(-result));
	EXPECT_TRUE(outside_cma)
		TH_LOG("%d MiB of cached blocks and none outside CMA", count);
	if (outside_cma) {
		view = cmamem_map(fd, alloc.mmap_offset, FILL_BLOCK_BYTES,
				  PROT_READ | PROT_WRITE);
		EXPECT_NE(MAP_FAILED, view);
		if (view != MAP_FAILED) {
			cmamem_fill(view, FILL_BLOCK_BYTES, 0x5eed);
			EXPECT_EQ(-1, cmamem_check(view, FILL_BLOCK_BYTES,
						   0x5eed));
			EXPECT_EQ(0, munmap(view, FILL_BLOCK_BYTES));
		}
	}
	for (index = 0; index < count; index++)
		EXPECT_EQ(0, cmamem_free(fd, handles[index]));
	ASSERT_EQ(0, cmamem_pool_info(fd, &after));
	EXPECT_EQ(before.used_bytes, after.used_bytes);
	EXPECT_EQ(before.blocks, after.blocks);
	close(fd);
}

/* --- the pool driver made to probe a node that is no pool --- */

#define PLATFORM_DEVICES	"/sys/bus/platform/devices"
#define POOL_DRIVER		"/sys/bus/platform/drivers/cmamem-pool"
#define PLATFORM_DRIVERS_PROBE	"/sys/bus/platform/drivers_probe"

static bool device_has(const char *device, const char *file)
{
	char path[PATH_MAX];
	struct stat status;

	snprintf(path, sizeof(path), PLATFORM_DEVICES "/%s/%s", device, file);
	return !lstat(path, &status);
}

/*
 * A device-tree platform device without a driver whose node has neither a
 * memory-region nor a label, so that its pool name would be the node's
 * name: the device's name in @device, the node's name (without its unit
 * address) in @node_name. false if there is none.
 */
static bool unbound_dt_device(char *device, size_t device_size,
			      char *node_name, size_t node_size)
{
	char path[PATH_MAX], target[PATH_MAX], *name;
	struct dirent *dirent;
	DIR *directory;
	ssize_t length;
	bool found = false;

	directory = opendir(PLATFORM_DEVICES);
	while (directory && !found && (dirent = readdir(directory))) {
		if (dirent->d_name[0] == '.' ||
		    device_has(dirent->d_name, "driver") ||
		    !device_has(dirent->d_name, "driver_override") ||
		    device_has(dirent->d_name, "of_node/memory-region") ||
		    device_has(dirent->d_name, "of_node/label"))
			continue;
		snprintf(path, sizeof(path), PLATFORM_DEVICES "/%s/of_node",
			 dirent->d_name);
		length = readlink(path, target, sizeof(target) - 1);
		if (length <= 0)
			continue;
		target[length] = '\0';
		name = strrchr(target, '/');
		name = name ? name + 1 : target;
		snprintf(node_name, node_size, "%.*s",
			 (int)strcspn(name, "@"), name);
		snprintf(device, device_size, "%s", dirent->d_name);
		found = true;
	}
	if (directory)
		closedir(directory);
	return found;
}

/*
 * The pool driver has no bind or unbind file (unbinding would pull a pool
 * from under its open files), but root can still have it probe any
 * platform device: driver_override names it, and the bus's drivers_probe
 * asks for a probe. A node without a memory-region is no pool: the probe
 * refuses it and says why, after taking the node's name as the pool's
 * (it has no label); nothing stays bound, no pool device appears, and the
 * pool made for the probe is put again (kmemleak would see it otherwise).
 */
TEST(pool_driver_refuses_a_node_without_memory_region)
{
	char device[256], node_name[64], path[PATH_MAX], override[300];
	int kmsg;

	if (!cmamem_is_root())
		SKIP(return, "probing a device by hand needs root");
	if (access(POOL_DRIVER, F_OK))
		SKIP(return, "no %s (is cmamem loaded?)", POOL_DRIVER);
	if (!unbound_dt_device(device, sizeof(device), node_name,
			       sizeof(node_name)))
		SKIP(return, "no device-tree platform device without a driver (no device tree here)");
	TH_LOG("probing %s (node %s) with cmamem-pool", device, node_name);

	kmsg = cmamem_kmsg_open();
	snprintf(override, sizeof(override),
		 PLATFORM_DEVICES "/%s/driver_override", device);
	ASSERT_EQ(0, cmamem_write_text(override, "cmamem-pool"));
	/* A probe that fails is no error of drivers_probe's. */
	EXPECT_EQ(0, cmamem_write_text(PLATFORM_DRIVERS_PROBE, device));
	/* Back to matching as before, whatever the probe did. */
	EXPECT_EQ(0, cmamem_write_text(override, "\n"));
	EXPECT_TRUE(cmamem_kmsg_has(kmsg, "no memory-region"));
	if (kmsg >= 0)
		close(kmsg);

	EXPECT_FALSE(device_has(device, "driver"));
	snprintf(path, sizeof(path), "/dev/cmamem-%s", node_name);
	EXPECT_NE(0, access(path, F_OK));
	snprintf(path, sizeof(path), "/sys/class/misc/cmamem-%s", node_name);
	EXPECT_NE(0, access(path, F_OK));
}

/* --- sysfs and debugfs views --- */

struct pool_file {
	int fd;
	char device[64];	/* e.g. "cmamem-camera" */
	struct cmamem_pool_info info;
};

FIXTURE(views) {
	size_t page_size;
	struct pool_file pools[8];
	int pool_count;
	struct cmamem_tracker tracker;
};

FIXTURE_SETUP(views)
{
	struct dirent **entries;
	int count, index;

	cmamem_tracker_init(&self->tracker);
	self->page_size = cmamem_page_size();
	count = scandir("/dev", &entries, NULL, alphasort);
	ASSERT_LE(0, count);
	for (index = 0; index < count; index++) {
		const char *name = entries[index]->d_name;
		struct pool_file *pool = &self->pools[self->pool_count];
		char path[300];

		if ((!strcmp(name, "cmamem") || !strncmp(name, "cmamem-", 7)) &&
		    strlen(name) < sizeof(pool->device) &&
		    self->pool_count < 8) {
			snprintf(path, sizeof(path), "/dev/%s", name);
			pool->fd = cmamem_track_fd(&self->tracker,
						   open(path, O_RDWR));
			if (pool->fd >= 0) {
				snprintf(pool->device, sizeof(pool->device),
					 "%.63s", name);
				self->pool_count++;
			}
		}
		free(entries[index]);
	}
	free(entries);
	if (!self->pool_count)
		SKIP(return, "no cmamem pool device");
}

FIXTURE_TEARDOWN(views)
{
	cmamem_tracker_release(&self->tracker);
}

/* Every pool's sysfs attributes say what POOL_INFO says. */
TEST_F(views, sysfs_matches_pool_info)
{
	static const char * const names[] = {
		"total_bytes", "used_bytes", "peak_bytes", "allocations",
		"failures", "blocks",
	};
	int pool_index, index;

	for (pool_index = 0; pool_index < self->pool_count; pool_index++) {
		struct pool_file *pool = &self->pools[pool_index];
		struct cmamem_alloc alloc;
		__u64 values[6], sysfs;

		ASSERT_EQ(0, cmamem_alloc_block(pool->fd, "sysfs",
						2 * self->page_size,
						CMAMEM_MODE_COHERENT, &alloc));
		ASSERT_EQ(0, cmamem_pool_info(pool->fd, &pool->info));
		values[0] = pool->info.total_bytes;
		values[1] = pool->info.used_bytes;
		values[2] = pool->info.peak_bytes;
		values[3] = pool->info.allocations;
		values[4] = pool->info.failures;
		values[5] = pool->info.blocks;
		for (index = 0; index < 6; index++) {
			char path[256];
			struct stat status;

			snprintf(path, sizeof(path), "/sys/class/misc/%s/%s",
				 pool->device, names[index]);
			ASSERT_EQ(0, cmamem_read_u64(path, &sysfs))
				TH_LOG("%s unreadable", path);
			ASSERT_EQ(values[index], sysfs)
				TH_LOG("%s", path);
			ASSERT_EQ(0, stat(path, &status));
			ASSERT_EQ(0, status.st_mode & 0222)
				TH_LOG("%s is writable", path);
		}
		ASSERT_EQ(0, cmamem_free(pool->fd, alloc.handle));
	}
}

/* Why root's debugfs tables cannot be read here, in *@reason; or false. */
static bool no_debugfs_tables(const char **reason)
{
	*reason = !cmamem_is_root() ? "debugfs is for root" :
		  !cmamem_debugfs_ready() ? "debugfs is not available" : NULL;
	return *reason;
}

struct table_row {
	char name[CMAMEM_NAME_SIZE];
	unsigned long long length;
	char mode[16];
	unsigned int handles, mappings, dma_bufs, uid;
	int pid;
	char comm[32];
	char dma_address[32];
};

/*
 * Reads the debugfs blocks table of @pool and finds the row whose name is
 * @name, or (with @name NULL) whose dma_address is @dma_address. Returns
 * 1 if found, 0 if not, negative on a malformed table.
 */
/*
 * Opens the debugfs table @file of @pool past its header line, which must
 * be @header if that is not NULL. NULL with errno set on failure.
 */
static FILE *open_debugfs_table(const char *pool, const char *file,
				const char *header)
{
	char path[256], line[128];
	FILE *table;

	snprintf(path, sizeof(path), "%s/%s/%s", CMAMEM_DEBUGFS_DIR, pool,
		 file);
	table = fopen(path, "r");
	if (!table)
		return NULL;
	if (!fgets(line, sizeof(line), table) ||
	    (header && strcmp(line, header))) {
		fclose(table);
		errno = EINVAL;
		return NULL;
	}
	return table;
}

static int find_table_row(const char *pool, const char *name,
			  const char *dma_address, struct table_row *row)
{
	FILE *table = open_debugfs_table(pool, "blocks", NULL);
	char line[512];
	int found = 0;

	if (!table)
		return -errno;
	while (fgets(line, sizeof(line), table)) {
		struct table_row parsed;
		char extra[2];

		if (sscanf(line, "%31s %llu %15s %u %u %u %u %d %31s %31s %1s",
			   parsed.name, &parsed.length, parsed.mode,
			   &parsed.handles, &parsed.mappings, &parsed.dma_bufs,
			   &parsed.uid, &parsed.pid, parsed.comm,
			   parsed.dma_address, extra) != 10) {
			found = -EINVAL;
			break;
		}
		if (name ? !strcmp(parsed.name, name) :
			   !strcmp(parsed.dma_address, dma_address)) {
			*row = parsed;
			found = 1;
			break;
		}
	}
	fclose(table);
	return found;
}

static void own_comm(char *comm, size_t size)
{
	char *character;

	if (cmamem_read_text("/proc/self/comm", comm, size))
		comm[0] = '\0';
	for (character = comm; *character; character++)
		if (*character == ' ')
			*character = '_';
}

TEST_F(views, debugfs_blocks_table)
{
	struct cmamem_attach attach;
	struct cmamem_alloc alloc;
	struct table_row row;
	char comm[32], dma_address[32];
	__u8 *address;
	const char *reason;
	int fd = self->pools[0].fd;

	if (no_debugfs_tables(&reason))
		SKIP(return, "%s", reason);
	ASSERT_STREQ("cmamem", self->pools[0].device);

	ASSERT_EQ(0, cmamem_alloc_block(fd, "debugfs", 3 * self->page_size,
					CMAMEM_MODE_WRITECOMBINE, &alloc));
	ASSERT_EQ(0, cmamem_attach(fd, alloc.name, 0, &attach));
	address = cmamem_track_map(&self->tracker,
				   cmamem_map(fd, alloc.mmap_offset,
					      alloc.length, PROT_READ),
				   alloc.length);
	ASSERT_NE(MAP_FAILED, address);
	snprintf(dma_address, sizeof(dma_address), "0x%llx",
		 alloc.dma_address);
	own_comm(comm, sizeof(comm));

	ASSERT_EQ(1, find_table_row(CMAMEM_DEFAULT_POOL_NAME, alloc.name, NULL,
				    &row));
	ASSERT_EQ(alloc.length, row.length);
	ASSERT_STREQ("writecombine", row.mode);
	ASSERT_EQ(2, row.handles);
	ASSERT_EQ(1, row.mappings);
	ASSERT_EQ(0, row.dma_bufs);
	ASSERT_EQ(geteuid(), row.uid);
	ASSERT_EQ(getpid(), row.pid);
	ASSERT_STREQ(comm, row.comm);
	ASSERT_STREQ(dma_address, row.dma_address);

	/* Without handles the name is unpublished: the row shows "-". */
	ASSERT_EQ(0, cmamem_free(fd, alloc.handle));
	ASSERT_EQ(0, cmamem_free(fd, attach.handle));
	ASSERT_EQ(0, find_table_row(CMAMEM_DEFAULT_POOL_NAME, alloc.name, NULL,
				    &row));
	ASSERT_EQ(1, find_table_row(CMAMEM_DEFAULT_POOL_NAME, NULL,
				    dma_address, &row));
	ASSERT_STREQ("-", row.name);
	ASSERT_EQ(0, row.handles);
	ASSERT_EQ(1, row.mappings);

	ASSERT_EQ(0, cmamem_unmap(&self->tracker, address));
	ASSERT_EQ(0, find_table_row(CMAMEM_DEFAULT_POOL_NAME, NULL,
				    dma_address, &row));
}

/*
 * The comm column never breaks the table: characters outside '!'..'~'
 * become '_', and an empty command name shows as "-".
 */
TEST_F(views, debugfs_blocks_table_sanitizes_comm)
{
	static const struct {
		const char *comm, *shown;
	} names[] = {
		{ "two words\tand", "two_words_and" },
		{ "", "-" },
	};
	char own[32], name[CMAMEM_NAME_SIZE];
	struct cmamem_alloc alloc;
	struct table_row row;
	unsigned int index;
	const char *reason;
	int fd = self->pools[0].fd;

	if (no_debugfs_tables(&reason))
		SKIP(return, "%s", reason);
	ASSERT_STREQ("cmamem", self->pools[0].device);
	ASSERT_EQ(0, prctl(PR_GET_NAME, own));
	for (index = 0; index < ARRAY_SIZE(names); index++) {
		ASSERT_EQ(0, prctl(PR_SET_NAME, names[index].comm));
		EXPECT_EQ(0, cmamem_alloc_block(fd, "comm", self->page_size,
						CMAMEM_MODE_COHERENT, &alloc));
		ASSERT_EQ(0, prctl(PR_SET_NAME, own));
		memcpy(name, alloc.name, sizeof(name));
		ASSERT_EQ(1, find_table_row(CMAMEM_DEFAULT_POOL_NAME, name,
					    NULL, &row));
		EXPECT_STREQ(names[index].shown, row.comm);
		ASSERT_EQ(0, cmamem_free(fd, alloc.handle));
	}
}

/*
 * The users table: one line per user with live blocks in the pool, with
 * their bytes and count, gone once the user's last block is.
 */
static int find_user_row(const char *pool, unsigned int uid,
			 unsigned long long *bytes, unsigned int *blocks)
{
	FILE *table = open_debugfs_table(pool, "users", "uid bytes blocks\n");
	unsigned int row_uid, row_blocks;
	unsigned long long row_bytes;
	char line[128];
	int found = 0;

	if (!table)
		return -errno;
	while (fgets(line, sizeof(line), table)) {
		if (sscanf(line, "%u %llu %u", &row_uid, &row_bytes,
			   &row_blocks) != 3) {
			found = -EINVAL;
			break;
		}
		if (row_uid == uid) {
			*bytes = row_bytes;
			*blocks = row_blocks;
			found = 1;
		}
	}
	fclose(table);
	return found;
}

TEST_F(views, debugfs_users_table)
{
	struct cmamem_alloc first, second;
	unsigned long long bytes = 0;
	unsigned int blocks = 0;
	const char *reason;
	int fd = self->pools[0].fd;

	if (no_debugfs_tables(&reason))
		SKIP(return, "%s", reason);
	ASSERT_STREQ("cmamem", self->pools[0].device);
	ASSERT_EQ(0, find_user_row(CMAMEM_DEFAULT_POOL_NAME, geteuid(), &bytes,
				   &blocks))
		TH_LOG("another of root's blocks is alive in the pool");

	ASSERT_EQ(0, cmamem_alloc_block(fd, "users", self->page_size,
					CMAMEM_MODE_COHERENT, &first));
	ASSERT_EQ(0, cmamem_alloc_block(fd, "users", 3 * self->page_size,
					CMAMEM_MODE_WRITECOMBINE, &second));
	ASSERT_EQ(1, find_user_row(CMAMEM_DEFAULT_POOL_NAME, geteuid(), &bytes,
				   &blocks));
	EXPECT_EQ(4 * self->page_size, bytes);
	EXPECT_EQ(2, blocks);

	ASSERT_EQ(0, cmamem_free(fd, first.handle));
	ASSERT_EQ(1, find_user_row(CMAMEM_DEFAULT_POOL_NAME, geteuid(), &bytes,
				   &blocks));
	EXPECT_EQ(3 * self->page_size, bytes);
	EXPECT_EQ(1, blocks);
	ASSERT_EQ(0, cmamem_free(fd, second.handle));
	EXPECT_EQ(0, find_user_row(CMAMEM_DEFAULT_POOL_NAME, geteuid(), &bytes,
				   &blocks));
}

TEST_F(views, debugfs_summary_matches_pool_info)
{
	static const char * const keys[] = {
		"total_bytes", "used_bytes", "peak_bytes", "free_bytes",
		"blocks", "allocations", "failures",
	};
	int pool_index, index;

	if (!cmamem_is_root())
		SKIP(return, "debugfs is for root");
	if (!cmamem_debugfs_ready())
		SKIP(return, "debugfs is not available");
	for (pool_index = 0; pool_index < self->pool_count; pool_index++) {
		struct pool_file *pool = &self->pools[pool_index];
		__u64 expected[7], value;
		bool seen[7] = { false };
		char path[256], line[256], key[64];
		FILE *summary;

		ASSERT_EQ(0, cmamem_pool_info(pool->fd, &pool->info));
		expected[0] = pool->info.total_bytes;
		expected[1] = pool->info.used_bytes;
		expected[2] = pool->info.peak_bytes;
		expected[3] = pool->info.free_bytes;
		expected[4] = pool->info.blocks;
		expected[5] = pool->info.allocations;
		expected[6] = pool->info.failures;
		snprintf(path, sizeof(path), "%s/%s/summary",
			 CMAMEM_DEBUGFS_DIR, pool->info.name);
		summary = fopen(path, "r");
		ASSERT_NE(NULL, summary) TH_LOG("%s: %s", path,
						strerror(errno));
		while (fgets(line, sizeof(line), summary)) {
			unsigned long long number;

			if (sscanf(line, "%63[^:]: %llu", key, &number) != 2)
				continue;
			value = number;
			for (index = 0; index < 7; index++) {
				if (strcmp(key, keys[index]))
					continue;
				seen[index] = true;
				/*
				 * free_bytes of the default pool is the
				 * system's CmaFree, which moves on its own.
				 */
				if (index == 3 && !(pool->info.pool_flags &
						    CMAMEM_POOL_TOTAL_KNOWN))
					continue;
				EXPECT_EQ(expected[index], value)
					TH_LOG("%s: %s", path, key);
			}
		}
		fclose(summary);
		for (index = 0; index < 7; index++) {
			if (!seen[index])
				TH_LOG("%s has no line for %s", path,
				       keys[index]);
			EXPECT_TRUE(seen[index]);
		}
	}
}

/* --- many blocks --- */

#define MANY_BLOCKS 10000

FIXTURE(many) {
	int fd;
	int attach_fd;
	size_t page_size;
	__u32 *handles;
	struct cmamem_tracker tracker;
};

FIXTURE_SETUP(many)
{
	unsigned long long available_kib = 0, max_blocks = MANY_BLOCKS;
	char line[128];
	FILE *meminfo;

	cmamem_tracker_init(&self->tracker);
	self->page_size = cmamem_page_size();
	self->fd = cmamem_track_fd(&self->tracker,
				   open(CMAMEM_DEFAULT_POOL_PATH, O_RDWR));
	if (self->fd < 0)
		SKIP(return, "%s: %s", CMAMEM_DEFAULT_POOL_PATH,
		     strerror(errno));
	if (!cmamem_param_read("fd_max_blocks", line, sizeof(line)))
		max_blocks = strtoull(line, NULL, 0);
	if (max_blocks < MANY_BLOCKS)
		SKIP(return, "fd_max_blocks is %llu", max_blocks);
	meminfo = fopen("/proc/meminfo", "r");
	ASSERT_NE(NULL, meminfo);
	while (fgets(line, sizeof(line), meminfo))
		if (sscanf(line, "MemAvailable: %llu", &available_kib) == 1)
			break;
	fclose(meminfo);
	if (available_kib * 1024 < 4ULL * MANY_BLOCKS * self->page_size)
		SKIP(return, "only %llu KiB available", available_kib);
	self->attach_fd = cmamem_track_fd(&self->tracker,
					  open(CMAMEM_DEFAULT_POOL_PATH,
					       O_RDWR));
	ASSERT_LE(0, self->attach_fd);
	self->handles = calloc(MANY_BLOCKS, sizeof(*self->handles));
	ASSERT_NE(NULL, self->handles);
}

FIXTURE_TEARDOWN(many)
{
	cmamem_tracker_release(&self->tracker);
	free(self->handles);
}

TEST_F_TIMEOUT(many, ten_thousand_blocks, 400)
{
	struct cmamem_pool_info before, full, after;
	struct cmamem_attach attach;
	struct cmamem_alloc alloc;
	char name[CMAMEM_NAME_SIZE];
	int index, kmsg_fd;
	char record[1024];

	kmsg_fd = cmamem_track_fd(&self->tracker, cmamem_kmsg_open());
	ASSERT_EQ(0, cmamem_pool_info(self->fd, &before));
	for (index = 0; index < MANY_BLOCKS; index++) {
		snprintf(name, sizeof(name), "many-%d-%d", (int)getpid(),
			 index);
		ASSERT_EQ(0, cmamem_alloc_named(self->fd, name,
						self->page_size,
						CMAMEM_MODE_CACHED, 0, 0,
						&alloc))
			TH_LOG("block %d", index);
		self->handles[index] = alloc.handle;
	}
	ASSERT_EQ(0, cmamem_pool_info(self->fd, &full));
	ASSERT_EQ(before.blocks + MANY_BLOCKS, full.blocks);
	ASSERT_EQ(before.used_bytes + (__u64)MANY_BLOCKS * self->page_size,
		  full.used_bytes);

	/* Lookups by name among them, in another order than allocated. */
	for (index = MANY_BLOCKS - 1; index >= 0; index--) {
		snprintf(name, sizeof(name), "many-%d-%d", (int)getpid(),
			 index);
		ASSERT_EQ(0, cmamem_attach(self->attach_fd, name, 0, &attach))
			TH_LOG("attach %s", name);
		ASSERT_EQ(self->page_size, attach.length);
	}
	ASSERT_EQ(0, cmamem_close(&self->tracker, self->attach_fd));

	for (index = 0; index < MANY_BLOCKS; index++)
		ASSERT_EQ(0, cmamem_free(self->fd, self->handles[index]));
	ASSERT_EQ(0, cmamem_pool_info(self->fd, &after));
	ASSERT_EQ(before.blocks, after.blocks);
	ASSERT_EQ(before.used_bytes, after.used_bytes);
	ASSERT_FALSE(cmamem_kmsg_has_splat(kmsg_fd, record, sizeof(record)))
		TH_LOG("kernel log: %s", record);
}

TEST_HARNESS_MAIN
