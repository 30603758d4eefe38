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

TEST_F(legacy, unreadable_argument_efault)
{
	ASSERT_EQ(-1, ioctl(self->fd, CMEM_ALLOCATE, NULL));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, ioctl(self->fd, CMEM_UNMAP, NULL));
	ASSERT_EQ(EFAULT, errno);
}

/*
 * A request the driver can read but not answer: the block it allocated
 * is taken back (its name is free again) and the caller gets EFAULT.
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
