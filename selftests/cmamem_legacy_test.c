// SPDX-License-Identifier: GPL-2.0
/*
 * cmamem legacy ABI tests: /dev/cma_mem (module parameter legacy=1) must
 * serve programs written for the original cma_mem driver unchanged. This
 * file is written the way such a program is: the old struct and ioctl
 * numbers as such programs declare them (cmamem_legacy.h), nothing from
 * the cmamem uapi header. Built for
 * armhf and run on arm64 it exercises the 32-bit (compat) struct layout.
 */
#include "kselftest_harness.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "cmamem_flipper.h"
#include "cmamem_legacy.h"

#define NOBODY_ID	65534
#define MAX_BLOCKS	8

FIXTURE(legacy) {
	int fd;
	size_t page_size;
	/* Names still allocated, for teardown to unmap. */
	char names[MAX_BLOCKS][10];
	int count;
};

FIXTURE_SETUP(legacy)
{
	self->page_size = (size_t)sysconf(_SC_PAGESIZE);
	self->fd = open(LEGACY_DEVICE, O_RDWR);
	if (self->fd < 0)
		SKIP(return, "%s: %s (module loaded without legacy=1?)",
		     LEGACY_DEVICE, strerror(errno));
}

FIXTURE_TEARDOWN(legacy)
{
	struct mem_block block;
	int index;

	for (index = 0; index < self->count; index++) {
		if (!self->names[index][0])
			continue;
		memset(&block, 0, sizeof(block));
		memcpy(block.name, self->names[index], sizeof(block.name));
		ioctl(self->fd, CMEM_UNMAP, &block);
	}
	close(self->fd);
}

/* A name of at most 9 characters nothing else uses: letter, pid, serial. */
static void legacy_name(char *name, char letter)
{
	static int serial;

	snprintf(name, 10, "%c%d%c", letter, (int)getpid() % 1000000,
		 'a' + serial++ % 26);
}

static int allocate(FIXTURE_DATA(legacy) *self, struct mem_block *block,
		    char letter, unsigned long length, char use_buffer)
{
	memset(block, 0, sizeof(*block));
	legacy_name(block->name, letter);
	block->is_use_buffer = use_buffer;
	block->len = length;
	if (ioctl(self->fd, CMEM_ALLOCATE, block))
		return -errno;
	if (self->count < MAX_BLOCKS)
		memcpy(self->names[self->count++], block->name, 10);
	return 0;
}

static int unmap(FIXTURE_DATA(legacy) *self, const char *name)
{
	struct mem_block block;
	int index;

	memset(&block, 0, sizeof(block));
	memcpy(block.name, name, sizeof(block.name));
	if (ioctl(self->fd, CMEM_UNMAP, &block))
		return -errno;
	for (index = 0; index < self->count; index++)
		if (!strncmp(self->names[index], name, 10))
			self->names[index][0] = '\0';
	return 0;
}

static void fill(__u32 *words, size_t length, __u32 seed)
{
	size_t index;

	for (index = 0; index < length / 4; index++)
		words[index] = seed ^ (__u32)(index * 2654435761u);
}

static bool matches(const __u32 *words, size_t length,
		    __u32 seed)
{
	size_t index;

	for (index = 0; index < length / 4; index++)
		if (words[index] != (seed ^ (__u32)(index * 2654435761u)))
			return false;
	return true;
}

/* The signal a read of @address kills a child with, or 0. */
static int read_signal(__u8 *address)
{
	int status;
	pid_t child;

	fflush(stderr);
	child = fork();
	if (child == 0) {
		struct rlimit no_core = { 0, 0 };

		setrlimit(RLIMIT_CORE, &no_core);
		/* volatile: the read itself is the point. */
		(void)*(volatile __u8 *)address;
		_exit(0);
	}
	if (child < 0 || waitpid(child, &status, 0) != child)
		return -1;
	return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

static void check_allocation(struct __test_metadata *_metadata,
			     FIXTURE_DATA(legacy) *self, char use_buffer)
{
	unsigned long asked = 3 * self->page_size + 100;
	struct mem_block block;
	int signal_number;

	ASSERT_EQ(0, allocate(self, &block, use_buffer ? 'w' : 'c', asked,
			      use_buffer));
	/* The length comes back rounded up to whole pages. */
	ASSERT_EQ(4 * self->page_size, block.len);
	ASSERT_LT(0, block.id);
	/* Already mapped into the caller, page aligned. */
	ASSERT_NE(0, block.mem_base);
	ASSERT_EQ(0, block.mem_base % self->page_size);
	ASSERT_NULL(block.kernel_base);
	if (geteuid() == 0) {
		ASSERT_NE(0, block.phy_base);
		ASSERT_EQ(0, block.phy_base % self->page_size);
	}
	fill((__u32 *)block.mem_base, block.len, 0x1e6ac7 + use_buffer);
	ASSERT_TRUE(matches((__u32 *)block.mem_base, block.len,
			    0x1e6ac7 + use_buffer));

	/* UNMAP takes the mapping away and frees the block. */
	ASSERT_EQ(0, unmap(self, block.name));
	signal_number = read_signal((__u8 *)block.mem_base);
	ASSERT_TRUE(signal_number == SIGSEGV || signal_number == SIGBUS)
		TH_LOG("mem_base still readable after CMEM_UNMAP (%d)",
		       signal_number);
}

TEST_F(legacy, allocate_coherent)
{
	check_allocation(_metadata, self, 0);
}

TEST_F(legacy, allocate_write_combine_buffer)
{
	check_allocation(_metadata, self, 1);
}

TEST_F(legacy, two_blocks_are_independent)
{
	struct mem_block first, second;

	ASSERT_EQ(0, allocate(self, &first, 'a', self->page_size, 0));
	ASSERT_EQ(0, allocate(self, &second, 'b', 2 * self->page_size, 1));
	ASSERT_NE(first.id, second.id);
	ASSERT_NE(first.mem_base, second.mem_base);
	if (geteuid() == 0)
		ASSERT_NE(first.phy_base, second.phy_base);
	fill((__u32 *)first.mem_base, first.len, 0xa);
	fill((__u32 *)second.mem_base, second.len, 0xb);
	ASSERT_TRUE(matches((__u32 *)first.mem_base, first.len, 0xa));
	ASSERT_TRUE(matches((__u32 *)second.mem_base, second.len, 0xb));
	ASSERT_EQ(0, unmap(self, first.name));
	/* The other block is untouched by the first one's UNMAP. */
	ASSERT_TRUE(matches((__u32 *)second.mem_base, second.len, 0xb));
	ASSERT_EQ(0, unmap(self, second.name));
}

TEST_F(legacy, missing_name_einval)
{
	struct mem_block block;

	memset(&block, 0, sizeof(block));
	block.len = self->page_size;
	ASSERT_EQ(-1, ioctl(self->fd, CMEM_ALLOCATE, &block));
	ASSERT_EQ(EINVAL, errno);
}

TEST_F(legacy, name_without_nul_einval)
{
	struct mem_block block;

	memset(&block, 0, sizeof(block));
	memcpy(block.name, "ABCDEFGHIJ", sizeof(block.name));
	block.len = self->page_size;
	ASSERT_EQ(-1, ioctl(self->fd, CMEM_ALLOCATE, &block));
	ASSERT_EQ(EINVAL, errno);
}

TEST_F(legacy, zero_length_einval)
{
	struct mem_block block;

	memset(&block, 0, sizeof(block));
	legacy_name(block.name, 'z');
	ASSERT_EQ(-1, ioctl(self->fd, CMEM_ALLOCATE, &block));
	ASSERT_EQ(EINVAL, errno);
	/* Nothing was allocated under the name. */
	ASSERT_EQ(-ENOENT, unmap(self, block.name));
}

TEST_F(legacy, unmap_without_name_einval)
{
	char name[10] = "";

	ASSERT_EQ(-EINVAL, unmap(self, name));
}

/* The original driver had two commands; anything else is no command. */
TEST_F(legacy, unknown_command_enotty)
{
	struct mem_block block;

	memset(&block, 0, sizeof(block));
	legacy_name(block.name, 'x');
	block.len = self->page_size;
	ASSERT_EQ(-1, ioctl(self->fd, _IOW('m', 6, unsigned int), &block));
	ASSERT_EQ(ENOTTY, errno);
	ASSERT_EQ(-ENOENT, unmap(self, block.name));
}

TEST_F(legacy, unreadable_argument_efault)
{
	ASSERT_EQ(-1, ioctl(self->fd, CMEM_ALLOCATE, NULL));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, ioctl(self->fd, CMEM_UNMAP, NULL));
	ASSERT_EQ(EFAULT, errno);
}

/*
 * A request the driver can read but not answer: the caller gets EFAULT,
 * the name stays free and nothing is kept.
 */
TEST_F(legacy, unwritable_reply_efault_and_nothing_kept)
{
	struct mem_block *block;
	struct mem_block retry;

	block = mmap(NULL, self->page_size, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, block);
	legacy_name(block->name, 'w');
	block->len = self->page_size;
	ASSERT_EQ(0, mprotect(block, self->page_size, PROT_READ));
	ASSERT_EQ(-1, ioctl(self->fd, CMEM_ALLOCATE, block));
	ASSERT_EQ(EFAULT, errno);

	ASSERT_EQ(-ENOENT, unmap(self, block->name));
	memset(&retry, 0, sizeof(retry));
	memcpy(retry.name, block->name, sizeof(retry.name));
	retry.len = self->page_size;
	ASSERT_EQ(0, ioctl(self->fd, CMEM_ALLOCATE, &retry));
	ASSERT_EQ(0, unmap(self, retry.name));
	ASSERT_EQ(0, munmap(block, self->page_size));
}

/* The kernel's VmPeak of this process, in KiB, or -1. */
static long vm_peak_kib(void)
{
	char line[128];
	long peak = -1;
	FILE *status;

	status = fopen("/proc/self/status", "r");
	if (!status)
		return -1;
	while (fgets(line, sizeof(line), status))
		if (sscanf(line, "VmPeak: %ld kB", &peak) == 1)
			break;
	fclose(status);
	return peak;
}

/*
 * ... and the block was never mapped, not even for a moment: a mapping
 * made and then undone would need a check of the VMA and an unmap that
 * are not one step, and a thread putting its own mapping at that address
 * in between would lose it. A child starts with VmPeak at its size, and
 * munmap() raises VmPeak to the size before it, so a mapping of the block
 * that came and went leaves VmPeak at least the block's length higher.
 */
TEST_F(legacy, unwritable_reply_never_maps_the_block)
{
	unsigned long length = 2ul << 20;
	struct mem_block *block;
	int status;
	pid_t child;

	block = mmap(NULL, self->page_size, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, block);
	legacy_name(block->name, 'p');
	block->len = length;
	ASSERT_EQ(0, mprotect(block, self->page_size, PROT_READ));

	fflush(stderr);
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		long before = vm_peak_kib(), after;

		if (before < 0)
			_exit(10);
		if (ioctl(self->fd, CMEM_ALLOCATE, block) != -1 ||
		    errno != EFAULT)
			_exit(11);
		after = vm_peak_kib();
		fprintf(stderr, "VmPeak %ld kB before, %ld kB after\n",
			before, after);
		_exit(after - before < (long)(length >> 10) / 2 ? 0 : 12);
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	/* 12: the block was mapped and unmapped again. */
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(-ENOENT, unmap(self, block->name));
	ASSERT_EQ(0, munmap(block, self->page_size));
}

/*
 * The same with a thread that keeps turning the request's page read-only
 * and back: every CMEM_ALLOCATE either fails with EFAULT having kept
 * nothing, or succeeds with a reply whose mapping is the block.
 */
TEST_F_TIMEOUT(legacy, allocate_reply_racing_mprotect, 120)
{
	struct protection_flipper flipper;
	int round, succeeded = 0, refused = 0, result;
	struct mem_block request, reply;

	ASSERT_EQ(0, flipper_start(&flipper, self->page_size));
	for (round = 0; round < 200; round++) {
		memset(&request, 0, sizeof(request));
		legacy_name(request.name, 'r');
		request.len = self->page_size;
		ASSERT_EQ(0, flipper_write(&flipper, &request,
					   sizeof(request)));
		result = ioctl(self->fd, CMEM_ALLOCATE, flipper.page) ?
			 -errno : 0;
		memcpy(&reply, flipper.page, sizeof(reply));
		if (result == -EFAULT) {
			refused++;
			ASSERT_EQ(-ENOENT, unmap(self, reply.name));
			continue;
		}
		ASSERT_EQ(0, result);
		succeeded++;
		ASSERT_NE(0, reply.mem_base);
		fill((__u32 *)reply.mem_base, reply.len, round);
		ASSERT_TRUE(matches((__u32 *)reply.mem_base, reply.len,
				    round));
		ASSERT_EQ(0, unmap(self, reply.name));
	}
	ASSERT_EQ(0, flipper_stop(&flipper));
	TH_LOG("%d replies written, %d refused before anything was done",
	       succeeded, refused);
}

TEST_F(legacy, unmap_unknown_name_enoent)
{
	char name[10];

	legacy_name(name, 'u');
	ASSERT_EQ(-ENOENT, unmap(self, name));
}

TEST_F(legacy, unmap_twice_enoent)
{
	struct mem_block block;

	ASSERT_EQ(0, allocate(self, &block, 't', self->page_size, 0));
	ASSERT_EQ(0, unmap(self, block.name));
	ASSERT_EQ(-ENOENT, unmap(self, block.name));
}

/*
 * CMEM_UNMAP unmaps only the mapping CMEM_ALLOCATE made, where and as it
 * made it. A program that changed that range itself keeps what it put
 * there: the block's handle goes, the range is left alone, and the block
 * lives on as long as a mapping of it does. Once the program unmaps what
 * it kept, the pool (/dev/cma_mem serves the default one, /dev/cmamem)
 * is back where it was.
 */
enum range_change {
	RANGE_MOVED,			/* mremap() elsewhere */
	RANGE_SHORTENED,		/* its last page unmapped */
	RANGE_REPLACED_BY_ANONYMOUS,	/* anonymous memory over it */
	RANGE_REPLACED_BY_OTHER_BLOCK,	/* another block of the file over it */
	RANGE_REPLACED_FROM_BELOW,	/* anonymous memory from a page below */
};

#define DEFAULT_POOL_USED_BYTES	"/sys/class/misc/cmamem/used_bytes"

static long long pool_used_bytes(void)
{
	char text[32] = "";
	int fd = open(DEFAULT_POOL_USED_BYTES, O_RDONLY);
	ssize_t length;

	if (fd < 0)
		return -1;
	length = read(fd, text, sizeof(text) - 1);
	close(fd);
	return length > 0 ? atoll(text) : -1;
}

static void check_unmap_after_change(struct __test_metadata *_metadata,
				     FIXTURE_DATA(legacy) *self,
				     enum range_change change)
{
	size_t page = self->page_size, length = 2 * page, kept_length = length;
	long long used_before = pool_used_bytes();
	struct mem_block block, other;
	__u32 kept_seed = 0xb10c;
	__u8 *base, *kept;

	ASSERT_LE(0, used_before);
	/* Allocated first, so that UNMAP passes its handle by. */
	if (change == RANGE_REPLACED_BY_OTHER_BLOCK) {
		ASSERT_EQ(0, allocate(self, &other, 'o', length, 0));
		fill((__u32 *)other.mem_base, length, 0x07e4);
	}
	ASSERT_EQ(0, allocate(self, &block, 'm', length, 0));
	base = (__u8 *)block.mem_base;
	fill((__u32 *)base, length, 0xb10c);
	kept = base;

	switch (change) {
	case RANGE_MOVED:
		kept = mmap(NULL, length, PROT_NONE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(MAP_FAILED, kept);
		ASSERT_EQ(kept, mremap(base, length, length,
				       MREMAP_MAYMOVE | MREMAP_FIXED, kept));
		break;
	case RANGE_SHORTENED:
		ASSERT_EQ(0, munmap(base + page, page));
		kept_length = page;
		break;
	case RANGE_REPLACED_BY_ANONYMOUS:
		ASSERT_EQ(base, mmap(base, length, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
				     -1, 0));
		kept_seed = 0xa404;
		fill((__u32 *)base, length, kept_seed);
		break;
	case RANGE_REPLACED_BY_OTHER_BLOCK:
		ASSERT_EQ(base, mmap(base, length, PROT_READ | PROT_WRITE,
				     MAP_SHARED | MAP_FIXED, self->fd,
				     (off_t)other.offset));
		kept_seed = 0x07e4;
		break;
	case RANGE_REPLACED_FROM_BELOW:
		/*
		 * One mapping that starts a page below the block's address
		 * and covers it: CMEM_UNMAP finds it there, starting
		 * elsewhere. mmap() places new mappings top-down, so the
		 * page below the newest one is free: NOREPLACE makes sure.
		 */
		ASSERT_EQ(0, munmap(base, length));
		kept = base - page;
		kept_length = length + page;
		ASSERT_EQ(kept, mmap(kept, kept_length, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS |
				     MAP_FIXED_NOREPLACE, -1, 0))
			TH_LOG("the page below the block is mapped: %s",
			       strerror(errno));
		kept_seed = 0xbe10;
		fill((__u32 *)kept, kept_length, kept_seed);
		break;
	}

	ASSERT_EQ(0, unmap(self, block.name));
	ASSERT_TRUE(matches((__u32 *)kept, kept_length, kept_seed))
		TH_LOG("CMEM_UNMAP changed a range the program had changed");
	ASSERT_EQ(0, munmap(kept, kept_length));
	if (change == RANGE_REPLACED_BY_OTHER_BLOCK)
		ASSERT_EQ(0, unmap(self, other.name));
	ASSERT_EQ(used_before, pool_used_bytes())
		TH_LOG("a block outlived its last mapping");
}

TEST_F(legacy, unmap_leaves_a_moved_mapping)
{
	check_unmap_after_change(_metadata, self, RANGE_MOVED);
}

TEST_F(legacy, unmap_leaves_a_shortened_mapping)
{
	check_unmap_after_change(_metadata, self, RANGE_SHORTENED);
}

TEST_F(legacy, unmap_leaves_anonymous_memory_put_over_the_block)
{
	check_unmap_after_change(_metadata, self,
				 RANGE_REPLACED_BY_ANONYMOUS);
}

TEST_F(legacy, unmap_leaves_another_block_put_over_the_block)
{
	check_unmap_after_change(_metadata, self,
				 RANGE_REPLACED_BY_OTHER_BLOCK);
}

TEST_F(legacy, unmap_leaves_a_mapping_that_starts_below_the_block)
{
	check_unmap_after_change(_metadata, self, RANGE_REPLACED_FROM_BELOW);
}

/*
 * An unprivileged program still gets memory, but not the physical
 * address. It opens the device first, as root, then drops to nobody.
 */
TEST_F(legacy, unprivileged_gets_no_physical_address)
{
	char group[32] = "";
	int status, fd;
	pid_t child;

	if (geteuid() != 0)
		SKIP(return, "needs root to switch users");
	fd = open("/sys/module/cmamem/parameters/address_group", O_RDONLY);
	if (fd >= 0) {
		if (read(fd, group, sizeof(group) - 1) < 0)
			group[0] = '\0';
		close(fd);
	}
	if (atoi(group) == NOBODY_ID)
		SKIP(return, "address_group lets nobody see addresses");
	fflush(stderr);
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		struct mem_block block;

		if (setgroups(0, NULL) ||
		    setresgid(NOBODY_ID, NOBODY_ID, NOBODY_ID) ||
		    setresuid(NOBODY_ID, NOBODY_ID, NOBODY_ID))
			_exit(10);
		memset(&block, 0, sizeof(block));
		legacy_name(block.name, 'n');
		block.len = self->page_size;
		if (ioctl(self->fd, CMEM_ALLOCATE, &block))
			_exit(11);
		if (block.phy_base != 0)
			_exit(12);
		fill((__u32 *)block.mem_base, block.len, 0x65534);
		if (!matches((__u32 *)block.mem_base, block.len, 0x65534))
			_exit(13);
		if (ioctl(self->fd, CMEM_UNMAP, &block))
			_exit(14);
		_exit(0);
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
}

TEST_HARNESS_MAIN
