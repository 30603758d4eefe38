// SPDX-License-Identifier: GPL-2.0
/*
 * cmamem security test: what an unprivileged user can and cannot do.
 *
 * Each test opens the pool files it needs as root, then forks a child that
 * drops to uid and gid 65534 with no supplementary groups (which clears
 * every capability) and keeps the open files. The child reports each
 * failed check on a pipe and exits with the number of failures.
 *
 * Checked: an unprivileged caller never sees a DMA or physical address (0
 * and CMAMEM_ADDRESS_WITHHELD in ALLOC, ATTACH and BLOCK_INFO replies),
 * unless the module's address_group names its group; it cannot attach to
 * (EPERM), free (ENOENT) or map (ENXIO) a block root allocated; it cannot
 * map outside its own block, map executable (EPERM), map privately
 * (EINVAL), mprotect() to executable, grow a mapping with mremap(), or
 * write through a file open read-only. No reply field, for root or not,
 * and no sysfs file of a pool readable by the user holds a value in the
 * kernel's address range; root's DMA and physical addresses look like
 * physical addresses, not kernel pointers. debugfs and the module's
 * parameters are out of the user's reach.
 */
#ifndef _FILE_OFFSET_BITS
#define _FILE_OFFSET_BITS 64
#endif

#include <ctype.h>
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
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

/* The harness does not build cleanly under -Wextra on its own. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "cmamem_util.h"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop
/* TEST_F()'s own wrapper keeps a local across setjmp(); not ours. */
#pragma GCC diagnostic ignored "-Wclobbered"

#include <linux/cmamem.h>

/* 32-bit builds must pass 64-bit mmap offsets. */
static_assert(sizeof(off_t) == 8, "build with 64-bit file offsets");

#define NOBODY			65534
#define MAX_POOLS		8
/*
 * Kernel virtual addresses of every 64-bit kernel in the matrix start at
 * or above this (arm64 with 52-bit VAs and x86-64 with 5-level paging
 * included); no length, offset, user or physical address comes near it.
 * 32-bit user space compares the whole u64 the same way.
 */
#define KERNEL_POINTER_MIN	0xff00000000000000ULL
/* No machine here has physical addresses this wide. */
#define PHYSICAL_ADDRESS_LIMIT	0x10000000000000ULL	/* 52 bits */
#define TAIL_BYTES		64
#define PARAMETERS		"/sys/module/cmamem/parameters"

struct pool_description {
	char path[64];
	char name[CMAMEM_NAME_SIZE];
	__u32 pool_flags;
};

FIXTURE(security) {
	int pool_count;
	struct pool_description pools[MAX_POOLS];
	/* Opened by root, kept by the unprivileged child. */
	int user_fds[MAX_POOLS];
	int spare_fd;
	int read_only_fd;
	/* Root's own file: the child closes it before dropping. */
	int root_fd;
	size_t page;
	unsigned int serial;
	char saved_address_group[32];
	bool address_group_saved;
};

/* What the unprivileged child uses to report. */
struct child {
	int pipe;
	int failures;
	int checks;
};

static void child_vreport(struct child *child, int line, const char *format,
			  va_list arguments)
{
	char text[400];
	int length;

	child->failures++;
	length = snprintf(text, sizeof(text), "line %d: ", line);
	length += vsnprintf(text + length, sizeof(text) - length, format,
			    arguments);
	if (length > (int)sizeof(text) - 2)
		length = sizeof(text) - 2;
	text[length++] = '\n';
	if (write(child->pipe, text, length) < 0)
		child->failures++;
}

/* A check in the unprivileged child: counted, and reported if false. */
static void __printf(4, 5)
child_expect(struct child *child, bool condition, int line,
	     const char *format, ...)
{
	va_list arguments;

	child->checks++;
	if (condition)
		return;
	va_start(arguments, format);
	child_vreport(child, line, format, arguments);
	va_end(arguments);
}

#define CHILD_CHECK(child, condition, ...) \
	child_expect(child, condition, __LINE__, __VA_ARGS__)

/* A name no other block has, zero-padded as the uapi wants. */
static void unique_name(FIXTURE_DATA(security) *self, char *name,
			const char *tag)
{
	memset(name, 0, CMAMEM_NAME_SIZE);
	snprintf(name, CMAMEM_NAME_SIZE, "sec-%d-%s-%u", (int)getpid(), tag,
		 self->serial++);
}

/* Is the effective capability set empty? (From /proc/self/status.) */
static bool no_capabilities(void)
{
	char line[128];
	bool empty = false;
	FILE *status = fopen("/proc/self/status", "r");

	if (!status)
		return false;
	while (fgets(line, sizeof(line), status))
		if (!strncmp(line, "CapEff:", 7))
			empty = strtoull(line + 7, NULL, 16) == 0;
	fclose(status);
	return empty;
}

/*
 * Runs @body as uid/gid 65534 in a child that keeps the fixture's files
 * (except root's own). Returns the child's failure count, 200 + signal if
 * it was killed, or 255 if it could not drop its privileges. The child's
 * messages are logged.
 */
static int run_as_nobody(struct __test_metadata *_metadata,
			 FIXTURE_DATA(security) *self,
			 void (*body)(FIXTURE_DATA(security) *self,
				      struct child *child, void *argument),
			 void *argument)
{
	struct child child = { 0 };
	int pipes[2], status, checks = 0;
	char buffer[512];
	ssize_t length;
	FILE *reader;
	pid_t pid;

	if (pipe(pipes))
		return 254;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return 254;
	if (pid == 0) {
		close(pipes[0]);
		if (self->root_fd >= 0)
			close(self->root_fd);
		child.pipe = pipes[1];
		if (setgroups(0, NULL) ||
		    setresgid(NOBODY, NOBODY, NOBODY) ||
		    setresuid(NOBODY, NOBODY, NOBODY) ||
		    geteuid() != NOBODY || !no_capabilities())
			_exit(255);
		body(self, &child, argument);
		/* The number of checks made, for the log. */
		length = snprintf(buffer, sizeof(buffer), "#checks %d\n",
				  child.checks);
		if (write(child.pipe, buffer, length) < 0)
			child.failures++;
		_exit(child.failures > 199 ? 199 : child.failures);
	}
	close(pipes[1]);
	reader = fdopen(pipes[0], "r");
	while (reader && fgets(buffer, sizeof(buffer), reader)) {
		buffer[strcspn(buffer, "\n")] = '\0';
		if (!strncmp(buffer, "#checks ", 8))
			checks = atoi(buffer + 8);
		else
			TH_LOG("unprivileged child: %s", buffer);
	}
	if (reader)
		fclose(reader);
	else
		close(pipes[0]);
	if (waitpid(pid, &status, 0) != pid)
		return 254;
	TH_LOG("the unprivileged child made %d checks", checks);
	/* A child that checked nothing proves nothing. */
	if (WIFEXITED(status) && !WEXITSTATUS(status) && !checks)
		return 253;
	if (WIFSIGNALED(status))
		return 200 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* ---- kernel pointers ------------------------------------------------ */

static bool kernel_pointer(__u64 value)
{
	return value >= KERNEL_POINTER_MIN;
}

/*
 * Every aligned 8-byte word of a reply, the named u64 fields among them,
 * padding and the bytes past the struct the kernel must leave alone.
 * Returns the offset of the first word that looks like a kernel pointer,
 * or -1.
 */
static long find_kernel_pointer(const void *reply, size_t length)
{
	const unsigned char *bytes = reply;
	size_t offset;
	__u64 word;

	for (offset = 0; offset + sizeof(word) <= length;
	     offset += sizeof(word)) {
		memcpy(&word, bytes + offset, sizeof(word));
		if (kernel_pointer(word))
			return (long)offset;
	}
	return -1;
}

/* A reply buffer: the struct, then a tail the kernel must not touch. */
union reply {
	struct cmamem_alloc alloc;
	struct cmamem_attach attach;
	struct cmamem_block_info block;
	struct cmamem_pool_info pool;
	unsigned char bytes[sizeof(struct cmamem_block_info) + TAIL_BYTES];
};

static_assert(sizeof(struct cmamem_block_info) >=
	       sizeof(struct cmamem_alloc) &&
	       sizeof(struct cmamem_block_info) >=
	       sizeof(struct cmamem_pool_info) &&
	       sizeof(struct cmamem_block_info) >=
	       sizeof(struct cmamem_attach), "union reply is big enough");

/* The u64 fields of each reply, by name, for clear messages. */
struct u64_field {
	const char *name;
	size_t offset;
};

#define FIELD(type, member) { #member, offsetof(type, member) }

static const struct u64_field alloc_fields[] = {
	FIELD(struct cmamem_alloc, length),
	FIELD(struct cmamem_alloc, alignment),
	FIELD(struct cmamem_alloc, mmap_offset),
	FIELD(struct cmamem_alloc, dma_address),
	FIELD(struct cmamem_alloc, physical_address),
	FIELD(struct cmamem_alloc, user_address),
};

static const struct u64_field attach_fields[] = {
	FIELD(struct cmamem_attach, length),
	FIELD(struct cmamem_attach, mmap_offset),
	FIELD(struct cmamem_attach, dma_address),
	FIELD(struct cmamem_attach, physical_address),
	FIELD(struct cmamem_attach, user_address),
};

static const struct u64_field block_fields[] = {
	FIELD(struct cmamem_block_info, length),
	FIELD(struct cmamem_block_info, alignment),
	FIELD(struct cmamem_block_info, mmap_offset),
	FIELD(struct cmamem_block_info, dma_address),
	FIELD(struct cmamem_block_info, physical_address),
};

static const struct u64_field pool_fields[] = {
	FIELD(struct cmamem_pool_info, total_bytes),
	FIELD(struct cmamem_pool_info, used_bytes),
	FIELD(struct cmamem_pool_info, peak_bytes),
	FIELD(struct cmamem_pool_info, free_bytes),
	FIELD(struct cmamem_pool_info, allocations),
	FIELD(struct cmamem_pool_info, failures),
	FIELD(struct cmamem_pool_info, max_block_bytes),
};

/*
 * Checks one reply: no named u64 field and no other aligned word holds a
 * kernel address, and the tail past the struct is still zero. Returns a
 * description of the first problem, or NULL.
 */
static const char *scan_reply(const union reply *reply, size_t struct_size,
			      const struct u64_field *fields, size_t count,
			      char *why, size_t why_size)
{
	size_t index;
	long offset;
	__u64 value;

	for (index = 0; index < count; index++) {
		memcpy(&value, reply->bytes + fields[index].offset,
		       sizeof(value));
		if (kernel_pointer(value)) {
			snprintf(why, why_size, "%s = %#llx looks like a kernel pointer",
				 fields[index].name,
				 (unsigned long long)value);
			return why;
		}
	}
	offset = find_kernel_pointer(reply, struct_size + TAIL_BYTES);
	if (offset >= 0) {
		memcpy(&value, reply->bytes + offset, sizeof(value));
		snprintf(why, why_size, "the word at +%ld = %#llx looks like a kernel pointer",
			 offset, (unsigned long long)value);
		return why;
	}
	for (index = struct_size; index < struct_size + TAIL_BYTES; index++) {
		if (reply->bytes[index]) {
			snprintf(why, why_size, "byte %zu past the %zu-byte struct was written",
				 index, struct_size);
			return why;
		}
	}
	return NULL;
}

/* Where replies_check() reports: the child's pipe, or the test log. */
struct reply_log {
	struct __test_metadata *metadata;
	struct child *child;
	int problems;
	int checks;
};

/* Counts a check; true (and to be reported) if @bad. */
static bool reply_bad(struct reply_log *log, bool bad)
{
	log->checks++;
	return bad;
}

static void __printf(2, 3) reply_err(struct reply_log *log,
				     const char *format, ...)
{
	struct __test_metadata *_metadata = log->metadata;
	va_list arguments;
	char text[400];

	log->problems++;
	va_start(arguments, format);
	if (log->child) {
		child_vreport(log->child, 0, format, arguments);
	} else {
		vsnprintf(text, sizeof(text), format, arguments);
		TH_LOG("%s", text);
	}
	va_end(arguments);
}

/*
 * Makes one of each reply on @fd (a block of its own, an ATTACH to it,
 * BLOCK_INFO, POOL_INFO), each with TAIL_BYTES of zeros past the struct,
 * and checks them. @privileged says whether addresses must be shown.
 * Returns the number of problems; messages go to @child or the test log.
 */
static int replies_check(FIXTURE_DATA(security) *self, int fd,
			 const struct pool_description *pool, bool privileged,
			 struct child *child,
			 struct __test_metadata *_metadata)
{
	union reply alloc, attach, block, info;
	char name[CMAMEM_NAME_SIZE], why[160];
	struct reply_log log;
	const char *problem;
	int result;

	log.metadata = _metadata;
	log.child = child;
	log.problems = 0;
	log.checks = 0;
	unique_name(self, name, "reply");
	memset(&alloc, 0, sizeof(alloc));
	alloc.alloc.size = sizeof(alloc.alloc) + TAIL_BYTES;
	alloc.alloc.flags = CMAMEM_MAP;
	alloc.alloc.length = 2 * self->page;
	alloc.alloc.mode = CMAMEM_MODE_COHERENT;
	memcpy(alloc.alloc.name, name, CMAMEM_NAME_SIZE);
	result = cmamem_ioctl(fd, CMAMEM_IOCTL_ALLOC, &alloc);
	if (reply_bad(&log, result)) {
		reply_err(&log, "ALLOC in %s failed: %s", pool->name, strerror(-result));
		return log.problems;
	}

	memset(&attach, 0, sizeof(attach));
	attach.attach.size = sizeof(attach.attach) + TAIL_BYTES;
	attach.attach.flags = CMAMEM_MAP;
	memcpy(attach.attach.name, name, CMAMEM_NAME_SIZE);
	result = cmamem_ioctl(fd, CMAMEM_IOCTL_ATTACH, &attach);
	if (reply_bad(&log, result))
		reply_err(&log, "ATTACH to its own block in %s failed: %s", pool->name,
			  strerror(-result));

	memset(&block, 0, sizeof(block));
	block.block.size = sizeof(block.block) + TAIL_BYTES;
	block.block.handle = alloc.alloc.handle;
	result = cmamem_ioctl(fd, CMAMEM_IOCTL_BLOCK_INFO, &block);
	if (reply_bad(&log, result))
		reply_err(&log, "BLOCK_INFO in %s failed: %s", pool->name,
			  strerror(-result));

	memset(&info, 0, sizeof(info));
	info.pool.size = sizeof(info.pool) + TAIL_BYTES;
	result = cmamem_ioctl(fd, CMAMEM_IOCTL_POOL_INFO, &info);
	if (reply_bad(&log, result))
		reply_err(&log, "POOL_INFO of %s failed: %s", pool->name,
			  strerror(-result));

	problem = scan_reply(&alloc, sizeof(alloc.alloc), alloc_fields,
			     ARRAY_SIZE(alloc_fields), why, sizeof(why));
	if (reply_bad(&log, problem))
		reply_err(&log, "ALLOC reply in %s: %s", pool->name, problem);
	problem = scan_reply(&attach, sizeof(attach.attach), attach_fields,
			     ARRAY_SIZE(attach_fields), why, sizeof(why));
	if (reply_bad(&log, problem))
		reply_err(&log, "ATTACH reply in %s: %s", pool->name, problem);
	problem = scan_reply(&block, sizeof(block.block), block_fields,
			     ARRAY_SIZE(block_fields), why, sizeof(why));
	if (reply_bad(&log, problem))
		reply_err(&log, "BLOCK_INFO reply in %s: %s", pool->name, problem);
	problem = scan_reply(&info, sizeof(info.pool), pool_fields,
			     ARRAY_SIZE(pool_fields), why, sizeof(why));
	if (reply_bad(&log, problem))
		reply_err(&log, "POOL_INFO reply in %s: %s", pool->name, problem);

	if (privileged) {
		/* Shown, and physical: not zero, not a kernel address. */
		if (reply_bad(&log, (alloc.alloc.out_flags & CMAMEM_ADDRESS_WITHHELD) ||
			      (attach.attach.out_flags & CMAMEM_ADDRESS_WITHHELD) ||
			      (block.block.out_flags & CMAMEM_ADDRESS_WITHHELD)))
			reply_err(&log, "%s: addresses withheld from a privileged caller",
				  pool->name);
		if (reply_bad(&log, !alloc.alloc.dma_address ||
			      alloc.alloc.dma_address >= PHYSICAL_ADDRESS_LIMIT ||
			      !alloc.alloc.physical_address ||
			      alloc.alloc.physical_address >= PHYSICAL_ADDRESS_LIMIT ||
			      attach.attach.dma_address != alloc.alloc.dma_address ||
			      attach.attach.physical_address !=
			      alloc.alloc.physical_address ||
			      block.block.dma_address != alloc.alloc.dma_address ||
			      block.block.physical_address !=
			      alloc.alloc.physical_address))
			reply_err(&log, "%s: DMA %#llx/%#llx/%#llx, physical %#llx/%#llx/%#llx (ALLOC/ATTACH/BLOCK_INFO) do not look like one physical address",
				  pool->name,
				  (unsigned long long)alloc.alloc.dma_address,
				  (unsigned long long)attach.attach.dma_address,
				  (unsigned long long)block.block.dma_address,
				  (unsigned long long)alloc.alloc.physical_address,
				  (unsigned long long)attach.attach.physical_address,
				  (unsigned long long)block.block.physical_address);
	} else {
		if (reply_bad(&log, !(alloc.alloc.out_flags & CMAMEM_ADDRESS_WITHHELD) ||
			      alloc.alloc.dma_address || alloc.alloc.physical_address))
			reply_err(&log, "%s: ALLOC showed an unprivileged caller DMA %#llx physical %#llx (out_flags %#x)",
				  pool->name,
				  (unsigned long long)alloc.alloc.dma_address,
				  (unsigned long long)alloc.alloc.physical_address,
				  alloc.alloc.out_flags);
		if (reply_bad(&log, !(attach.attach.out_flags & CMAMEM_ADDRESS_WITHHELD) ||
			      attach.attach.dma_address ||
			      attach.attach.physical_address))
			reply_err(&log, "%s: ATTACH showed an unprivileged caller DMA %#llx physical %#llx (out_flags %#x)",
				  pool->name,
				  (unsigned long long)attach.attach.dma_address,
				  (unsigned long long)attach.attach.physical_address,
				  attach.attach.out_flags);
		if (reply_bad(&log, !(block.block.out_flags & CMAMEM_ADDRESS_WITHHELD) ||
			      block.block.dma_address || block.block.physical_address))
			reply_err(&log, "%s: BLOCK_INFO showed an unprivileged caller DMA %#llx physical %#llx (out_flags %#x)",
				  pool->name,
				  (unsigned long long)block.block.dma_address,
				  (unsigned long long)block.block.physical_address,
				  block.block.out_flags);
		if (reply_bad(&log, block.block.owner_uid != NOBODY))
			reply_err(&log, "%s: BLOCK_INFO owner_uid %u, not %u",
				  pool->name, block.block.owner_uid, NOBODY);
	}

	if (alloc.alloc.user_address)
		munmap((void *)(uintptr_t)alloc.alloc.user_address,
		       (size_t)alloc.alloc.length);
	if (attach.attach.user_address)
		munmap((void *)(uintptr_t)attach.attach.user_address,
		       (size_t)attach.attach.length);
	if (reply_bad(&log, attach.attach.handle &&
		      cmamem_free(fd, attach.attach.handle)))
		reply_err(&log, "FREE of the attached handle failed");
	if (reply_bad(&log, cmamem_free(fd, alloc.alloc.handle)))
		reply_err(&log, "FREE of the block failed");
	if (child)
		child->checks += log.checks;
	return log.problems;
}

/* ---- fixture ---------------------------------------------------------- */

static int compare_pools(const void *left, const void *right)
{
	return strcmp(((const struct pool_description *)left)->path,
		      ((const struct pool_description *)right)->path);
}

FIXTURE_SETUP(security)
{
	struct dirent *dirent;
	DIR *directory;
	int index;

	self->page = (size_t)sysconf(_SC_PAGESIZE);
	self->root_fd = -1;
	self->spare_fd = -1;
	self->read_only_fd = -1;
	self->pool_count = 0;
	for (index = 0; index < MAX_POOLS; index++)
		self->user_fds[index] = -1;
	if (geteuid() != 0)
		SKIP(return, "the security test starts as root and drops privileges itself");
	if (access("/dev/cmamem", F_OK))
		SKIP(return, "/dev/cmamem is missing (is cmamem loaded?)");

	snprintf(self->pools[self->pool_count++].path, 64, "/dev/cmamem");
	directory = opendir("/dev");
	while (directory && (dirent = readdir(directory)) &&
	       self->pool_count < MAX_POOLS)
		if (!strncmp(dirent->d_name, "cmamem-", 7))
			snprintf(self->pools[self->pool_count++].path, 64,
				 "/dev/%.40s", dirent->d_name);
	if (directory)
		closedir(directory);
	qsort(self->pools + 1, self->pool_count - 1, sizeof(self->pools[0]),
	      compare_pools);
	for (index = 0; index < self->pool_count; index++) {
		struct pool_description *pool = &self->pools[index];
		struct cmamem_pool_info info;

		self->user_fds[index] = open(pool->path, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, self->user_fds[index]);
		ASSERT_EQ(0, cmamem_pool_info(self->user_fds[index], &info));
		memcpy(pool->name, info.name, CMAMEM_NAME_SIZE);
		pool->name[CMAMEM_NAME_SIZE - 1] = '\0';
		pool->pool_flags = info.pool_flags;
	}
	self->spare_fd = open("/dev/cmamem", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->spare_fd);
	self->read_only_fd = open("/dev/cmamem", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, self->read_only_fd);
	self->root_fd = open("/dev/cmamem", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->root_fd);
}

FIXTURE_TEARDOWN(security)
{
	int index;

	if (self->address_group_saved) {
		int fd = open(PARAMETERS "/address_group", O_WRONLY);

		if (fd < 0 || write(fd, self->saved_address_group,
				    strlen(self->saved_address_group)) < 0)
			TH_LOG("could not restore address_group to %s",
			       self->saved_address_group);
		if (fd >= 0)
			close(fd);
	}
	for (index = 0; index < self->pool_count; index++)
		if (self->user_fds[index] >= 0)
			close(self->user_fds[index]);
	if (self->spare_fd >= 0)
		close(self->spare_fd);
	if (self->read_only_fd >= 0)
		close(self->read_only_fd);
	if (self->root_fd >= 0)
		close(self->root_fd);
}

/* ---- tests ------------------------------------------------------------ */

static void unprivileged_replies(FIXTURE_DATA(security) *self,
				 struct child *child, void *argument)
{
	int index;

	(void)argument;
	for (index = 0; index < self->pool_count; index++) {
		child->checks++;
		replies_check(self, self->user_fds[index],
			      &self->pools[index], false, child, NULL);
	}
}

TEST_F(security, addresses_withheld_and_no_kernel_pointers)
{
	int index;

	/* Root sees physical addresses, and no kernel pointer either. */
	for (index = 0; index < self->pool_count; index++)
		EXPECT_EQ(0, replies_check(self, self->user_fds[index],
					   &self->pools[index], true, NULL,
					   _metadata));
	EXPECT_EQ(0, run_as_nobody(_metadata, self, unprivileged_replies,
				   NULL));
}

struct root_block {
	struct cmamem_alloc block;
	int pool;
};

static void foreign_block(FIXTURE_DATA(security) *self, struct child *child,
			  void *argument)
{
	const struct root_block *root = argument;
	int fd = self->user_fds[root->pool];
	const char *pool = self->pools[root->pool].name;
	struct cmamem_block_info info;
	struct cmamem_attach attach;
	struct cmamem_sync sync = {
		.size = sizeof(sync),
		.flags = CMAMEM_SYNC_FOR_DEVICE,
		.handle = root->block.handle,
		.length = root->block.length,
	};
	struct cmamem_alloc alloc;
	char path[128];
	void *address;
	int result;

	/* The file holds no handle yet: root's numbers mean nothing here. */
	memset(&attach, 0, sizeof(attach));
	attach.size = sizeof(attach);
	memcpy(attach.name, root->block.name, CMAMEM_NAME_SIZE);
	result = cmamem_ioctl(fd, CMAMEM_IOCTL_ATTACH, &attach);
	CHILD_CHECK(child, result == -ENOENT,
		    "ATTACH to root's block %s in %s gave %s, not ENOENT (names are per user)",
		    root->block.name, pool,
		    result ? strerror(-result) : "success");
	attach.flags = CMAMEM_MAP;
	result = cmamem_ioctl(fd, CMAMEM_IOCTL_ATTACH, &attach);
	CHILD_CHECK(child, result == -ENOENT,
		    "ATTACH with CMAMEM_MAP to root's block gave %s, not ENOENT",
		    result ? strerror(-result) : "success");
	attach.flags = CMAMEM_OWNER | CMAMEM_MAP;
	attach.owner_uid = 0;
	result = cmamem_ioctl(fd, CMAMEM_IOCTL_ATTACH, &attach);
	CHILD_CHECK(child, result == -EPERM,
		    "ATTACH naming root as the owner gave %s, not EPERM",
		    result ? strerror(-result) : "success");

	result = cmamem_free(fd, root->block.handle);
	CHILD_CHECK(child, result == -ENOENT,
		    "FREE of root's handle %u gave %s, not ENOENT",
		    root->block.handle, result ? strerror(-result) : "success");
	result = cmamem_block_info(fd, root->block.handle, &info);
	CHILD_CHECK(child, result == -ENOENT,
		    "BLOCK_INFO of root's handle gave %s, not ENOENT",
		    result ? strerror(-result) : "success");
	result = cmamem_ioctl(fd, CMAMEM_IOCTL_SYNC, &sync);
	CHILD_CHECK(child, result == -ENOENT,
		    "SYNC of root's handle gave %s, not ENOENT",
		    result ? strerror(-result) : "success");

	address = mmap(NULL, (size_t)root->block.length,
		       PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		       (off_t)root->block.mmap_offset);
	CHILD_CHECK(child, address == MAP_FAILED && errno == ENXIO,
		    "mmap of root's block offset %#llx through its own file gave %s, not ENXIO",
		    (unsigned long long)root->block.mmap_offset,
		    address == MAP_FAILED ? strerror(errno) : "a mapping");
	if (address != MAP_FAILED)
		munmap(address, (size_t)root->block.length);
	address = mmap(NULL, self->page, PROT_READ, MAP_SHARED, fd,
		       (off_t)root->block.mmap_offset);
	CHILD_CHECK(child, address == MAP_FAILED && errno == ENXIO,
		    "read-only mmap of root's offset gave %s, not ENXIO",
		    address == MAP_FAILED ? strerror(errno) : "a mapping");
	if (address != MAP_FAILED)
		munmap(address, self->page);

	/*
	 * Names are per user: the same name is this user's own block, which
	 * root's program never sees (root still attaches its own).
	 */
	result = cmamem_alloc_named(fd, root->block.name, self->page,
				    CMAMEM_MODE_COHERENT, 0, 0, &alloc);
	CHILD_CHECK(child, !result,
		    "ALLOC of root's block name as another user gave %s, not success",
		    result ? strerror(-result) : "success");
	if (!result) {
		result = cmamem_attach(fd, root->block.name, 0, &attach);
		CHILD_CHECK(child, !result && attach.owner_uid == CMAMEM_NOBODY_ID,
			    "ATTACH of the user's own block of that name gave %s (owner %u)",
			    result ? strerror(-result) : "success",
			    attach.owner_uid);
		if (!result)
			cmamem_free(fd, attach.handle);
		cmamem_free(fd, alloc.handle);
	}

	/* debugfs shows addresses: root only. */
	snprintf(path, sizeof(path), "/sys/kernel/debug/cmamem/%s/blocks",
		 pool);
	result = open(path, O_RDONLY);
	CHILD_CHECK(child, result < 0 && (errno == EACCES || errno == EPERM),
		    "open of %s as an unprivileged user gave %s", path,
		    result < 0 ? strerror(errno) : "a file");
	if (result >= 0)
		close(result);
	result = open(PARAMETERS "/address_group", O_WRONLY);
	CHILD_CHECK(child, result < 0 && (errno == EACCES || errno == EPERM),
		    "an unprivileged user could open address_group for writing");
	if (result >= 0)
		close(result);
}

TEST_F(security, another_users_block_is_out_of_reach)
{
	struct cmamem_block_info info;
	struct root_block root;
	char name[CMAMEM_NAME_SIZE], path[128];
	unsigned char *mapping;
	size_t length = 2 * self->page, index;
	int pool, fd, own_fd = self->root_fd;

	for (pool = 0; pool < self->pool_count; pool++) {
		/* Root's block lives on a file the child does not get. */
		fd = open(self->pools[pool].path, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fd);
		unique_name(self, name, "root");
		ASSERT_EQ(0, cmamem_alloc_named(fd, name, length,
						CMAMEM_MODE_COHERENT,
						CMAMEM_MAP, 0, &root.block));
		mapping = (unsigned char *)(uintptr_t)root.block.user_address;
		for (index = 0; index < length; index++)
			mapping[index] = (unsigned char)(index * 7 + 1);
		root.pool = pool;
		snprintf(path, sizeof(path), "/sys/kernel/debug/cmamem/%s/blocks",
			 self->pools[pool].name);
		if (access(path, R_OK))
			TH_LOG("%s is not there: the debugfs check proves less",
			       path);

		/* The child must not inherit it. */
		self->root_fd = fd;
		EXPECT_EQ(0, run_as_nobody(_metadata, self, foreign_block,
					   &root))
			TH_LOG("pool %s", self->pools[pool].name);
		self->root_fd = own_fd;

		/* Root's block is as it was. */
		for (index = 0; index < length; index++)
			if (mapping[index] != (unsigned char)(index * 7 + 1))
				break;
		EXPECT_EQ(length, index)
			TH_LOG("root's block changed at +%zu", index);
		ASSERT_EQ(0, cmamem_block_info(fd, root.block.handle, &info));
		EXPECT_EQ(1u, info.handles);
		EXPECT_EQ(1u, info.mappings);
		EXPECT_EQ(0u, info.owner_uid);
		munmap(mapping, length);
		EXPECT_EQ(0, cmamem_free(fd, root.block.handle));
		close(fd);
	}
}

static void mapping_rules(FIXTURE_DATA(security) *self, struct child *child,
			  void *argument)
{
	size_t page = self->page, pages = 2, length = pages * page, index;
	int fd = self->spare_fd, result;
	struct cmamem_alloc block;
	unsigned char *mapping;
	char name[CMAMEM_NAME_SIZE];
	void *address;

	(void)argument;
	/* The only block on this file: nothing else lies next to it. */
	unique_name(self, name, "rules");
	result = cmamem_alloc_named(fd, name, length, CMAMEM_MODE_COHERENT,
				    0, 0, &block);
	CHILD_CHECK(child, !result, "ALLOC failed: %s", strerror(-result));
	if (result)
		return;

	address = mmap(NULL, page, PROT_READ, MAP_SHARED, fd,
		       (off_t)(block.mmap_offset + length));
	CHILD_CHECK(child, address == MAP_FAILED && errno == ENXIO,
		    "mmap of the page after the block gave %s, not ENXIO",
		    address == MAP_FAILED ? strerror(errno) : "a mapping");
	address = mmap(NULL, length + page, PROT_READ, MAP_SHARED, fd,
		       (off_t)block.mmap_offset);
	CHILD_CHECK(child, address == MAP_FAILED && errno == ENXIO,
		    "mmap one page longer than the block gave %s, not ENXIO",
		    address == MAP_FAILED ? strerror(errno) : "a mapping");
	address = mmap(NULL, page, PROT_READ, MAP_SHARED, fd,
		       (off_t)(block.mmap_offset - page));
	CHILD_CHECK(child, address == MAP_FAILED && errno == ENXIO,
		    "mmap of the page before the block gave %s, not ENXIO",
		    address == MAP_FAILED ? strerror(errno) : "a mapping");
	address = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, 0);
	CHILD_CHECK(child, address == MAP_FAILED && errno == ENXIO,
		    "mmap at offset 0 gave %s, not ENXIO",
		    address == MAP_FAILED ? strerror(errno) : "a mapping");
	address = mmap(NULL, length, PROT_READ | PROT_EXEC, MAP_SHARED, fd,
		       (off_t)block.mmap_offset);
	CHILD_CHECK(child, address == MAP_FAILED && errno == EPERM,
		    "mmap with PROT_EXEC gave %s, not EPERM",
		    address == MAP_FAILED ? strerror(errno) : "a mapping");
	address = mmap(NULL, length, PROT_EXEC, MAP_SHARED, fd,
		       (off_t)block.mmap_offset);
	CHILD_CHECK(child, address == MAP_FAILED && errno == EPERM,
		    "mmap with only PROT_EXEC gave %s, not EPERM",
		    address == MAP_FAILED ? strerror(errno) : "a mapping");
	address = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd,
		       (off_t)block.mmap_offset);
	CHILD_CHECK(child, address == MAP_FAILED && errno == EINVAL,
		    "MAP_PRIVATE mmap gave %s, not EINVAL",
		    address == MAP_FAILED ? strerror(errno) : "a mapping");
	mapping = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		       (off_t)block.mmap_offset);
	CHILD_CHECK(child, mapping != MAP_FAILED, "mmap of the block failed: %s",
		    strerror(errno));
	if (mapping == MAP_FAILED)
		return;
	for (index = 0; index < length; index++)
		mapping[index] = (unsigned char)(index ^ 0x5a);

	result = mprotect(mapping, length, PROT_READ | PROT_EXEC);
	CHILD_CHECK(child, result && errno == EACCES,
		    "mprotect to PROT_READ|PROT_EXEC gave %s",
		    result ? strerror(errno) : "success");
	result = mprotect(mapping, page, PROT_EXEC);
	CHILD_CHECK(child, result && errno == EACCES,
		    "mprotect of a page to PROT_EXEC gave %s",
		    result ? strerror(errno) : "success");
	address = mremap(mapping, length, length + page, 0);
	CHILD_CHECK(child, address == MAP_FAILED,
		    "mremap grew the mapping in place");
	if (address != MAP_FAILED)
		mapping = address;
	address = mremap(mapping, length, length + page, MREMAP_MAYMOVE);
	CHILD_CHECK(child, address == MAP_FAILED,
		    "mremap with MREMAP_MAYMOVE grew the mapping");
	if (address != MAP_FAILED)
		mapping = address;
	for (index = 0; index < length; index++)
		if (mapping[index] != (unsigned char)(index ^ 0x5a))
			break;
	CHILD_CHECK(child, index == length,
		    "the block changed at +%zu after the refused calls", index);
	munmap(mapping, length);

	/* Offsets belong to the file that holds the handle. */
	mapping = mmap(NULL, length, PROT_READ, MAP_SHARED,
		       self->read_only_fd, (off_t)block.mmap_offset);
	CHILD_CHECK(child, mapping == MAP_FAILED && errno == ENXIO,
		    "another file's offset mapped through this one (%s)",
		    mapping == MAP_FAILED ? strerror(errno) : "a mapping");
	if (mapping != MAP_FAILED)
		munmap(mapping, length);
	result = cmamem_free(fd, block.handle);
	CHILD_CHECK(child, !result, "FREE failed: %s", strerror(-result));

	/* A file open read-only gives read-only access, and no more. */
	unique_name(self, name, "ro");
	result = cmamem_alloc_named(self->read_only_fd, name, length,
				    CMAMEM_MODE_COHERENT, CMAMEM_MAP, 0,
				    &block);
	CHILD_CHECK(child, result == -EACCES,
		    "ALLOC with CMAMEM_MAP on a read-only file gave %s, not EACCES",
		    result ? strerror(-result) : "success");
	if (!result)
		cmamem_free(self->read_only_fd, block.handle);
	result = cmamem_alloc_named(self->read_only_fd, name, length,
				    CMAMEM_MODE_COHERENT, 0, 0, &block);
	CHILD_CHECK(child, !result,
		    "ALLOC without mapping on a read-only file failed: %s",
		    strerror(-result));
	if (result)
		return;
	mapping = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED,
		       self->read_only_fd, (off_t)block.mmap_offset);
	CHILD_CHECK(child, mapping == MAP_FAILED && errno == EACCES,
		    "writable mmap through a read-only file gave %s, not EACCES",
		    mapping == MAP_FAILED ? strerror(errno) : "a mapping");
	if (mapping != MAP_FAILED)
		munmap(mapping, length);
	mapping = mmap(NULL, length, PROT_READ, MAP_SHARED, self->read_only_fd,
		       (off_t)block.mmap_offset);
	CHILD_CHECK(child, mapping != MAP_FAILED,
		    "read-only mmap through a read-only file failed: %s",
		    strerror(errno));
	if (mapping != MAP_FAILED) {
		result = mprotect(mapping, length, PROT_READ | PROT_WRITE);
		CHILD_CHECK(child, result && errno == EACCES,
			    "mprotect to writable through a read-only file gave %s",
			    result ? strerror(errno) : "success");
		munmap(mapping, length);
	}
	result = cmamem_free(self->read_only_fd, block.handle);
	CHILD_CHECK(child, !result, "FREE failed: %s", strerror(-result));
}

TEST_F(security, mapping_rules)
{
	EXPECT_EQ(0, run_as_nobody(_metadata, self, mapping_rules, NULL));
}

/* ---- sysfs ------------------------------------------------------------- */

struct scan_state {
	struct child *child;
	int files;
};

/* Every number in @text (decimal, 0x hex, or bare hex words). */
static void scan_numbers(struct scan_state *state, const char *path,
			 const char *text)
{
	const char *cursor = text;

	while (*cursor) {
		const char *start = cursor;
		unsigned long long value;
		bool hex_letters = false, all_hex = true;
		size_t length;
		char token[64];

		if (!isalnum((unsigned char)*cursor)) {
			cursor++;
			continue;
		}
		while (isalnum((unsigned char)*cursor))
			cursor++;
		length = (size_t)(cursor - start);
		if (length >= sizeof(token))
			length = sizeof(token) - 1;
		memcpy(token, start, length);
		token[length] = '\0';
		if (!strncmp(token, "0x", 2) || !strncmp(token, "0X", 2)) {
			value = strtoull(token + 2, NULL, 16);
		} else {
			for (start = token; *start; start++) {
				if (!isxdigit((unsigned char)*start))
					all_hex = false;
				else if (isalpha((unsigned char)*start))
					hex_letters = true;
			}
			if (!all_hex)
				continue;
			value = hex_letters || length >= 16 ?
				strtoull(token, NULL, 16) :
				strtoull(token, NULL, 10);
		}
		CHILD_CHECK(state->child, !kernel_pointer(value),
			    "%s holds %s, which looks like a kernel pointer",
			    path, token);
	}
}

static void scan_directory(struct scan_state *state, const char *directory,
			   int depth)
{
	struct dirent *dirent;
	char path[512], text[4096];
	struct stat status;
	ssize_t length;
	DIR *listing;
	int fd;

	listing = opendir(directory);
	if (!listing)
		return;
	while ((dirent = readdir(listing))) {
		if (dirent->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", directory,
			 dirent->d_name);
		/* Links lead out of the pool's directory: not followed. */
		if (lstat(path, &status) || S_ISLNK(status.st_mode))
			continue;
		if (S_ISDIR(status.st_mode)) {
			if (depth < 3)
				scan_directory(state, path, depth + 1);
			continue;
		}
		fd = open(path, O_RDONLY | O_NONBLOCK);
		if (fd < 0)
			continue;	/* not readable by this user */
		length = read(fd, text, sizeof(text) - 1);
		close(fd);
		if (length < 0)
			continue;
		text[length] = '\0';
		state->files++;
		scan_numbers(state, path, text);
	}
	closedir(listing);
}

static void sysfs_scan(FIXTURE_DATA(security) *self, struct child *child,
		       void *argument)
{
	struct scan_state state = { .child = child };
	struct dirent *dirent;
	char path[300];
	int pools = 0;
	DIR *listing;

	(void)argument;
	listing = opendir("/sys/class/misc");
	CHILD_CHECK(child, listing, "cannot list /sys/class/misc: %s",
		    strerror(errno));
	if (!listing)
		return;
	while ((dirent = readdir(listing))) {
		if (strncmp(dirent->d_name, "cmamem", 6))
			continue;
		snprintf(path, sizeof(path), "/sys/class/misc/%s",
			 dirent->d_name);
		/* The class entry is a link to the device's directory. */
		scan_directory(&state, path, 0);
		pools++;
	}
	closedir(listing);
	CHILD_CHECK(child, pools == self->pool_count,
		    "%d pool directories under /sys/class/misc, %d pools",
		    pools, self->pool_count);
	/* used_bytes and friends, at least, are for everyone to read. */
	CHILD_CHECK(child, state.files >= 6 * pools,
		    "only %d readable files in %d pool directories",
		    state.files, pools);
	child->checks += state.files;
}

TEST_F(security, no_kernel_pointers_in_sysfs)
{
	char path[300], text[64];
	int fd;

	snprintf(path, sizeof(path), "/sys/class/misc/cmamem/used_bytes");
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd)
		TH_LOG("%s: %s", path, strerror(errno));
	ASSERT_LT(0, read(fd, text, sizeof(text)));
	close(fd);
	EXPECT_EQ(0, run_as_nobody(_metadata, self, sysfs_scan, NULL));
}

/* ---- address_group ------------------------------------------------------ */

static void group_member_replies(FIXTURE_DATA(security) *self,
				 struct child *child, void *argument)
{
	bool member = *(bool *)argument;
	int index;

	for (index = 0; index < self->pool_count; index++) {
		child->checks++;
		replies_check(self, self->user_fds[index],
			      &self->pools[index], member, child, NULL);
	}
}

static int write_parameter(const char *name, const char *value)
{
	char path[128];
	int fd, result = 0;

	snprintf(path, sizeof(path), "%s/%s", PARAMETERS, name);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	if (write(fd, value, strlen(value)) < 0)
		result = -errno;
	close(fd);
	return result;
}

TEST_F(security, address_group_shows_addresses)
{
	char path[128], value[32];
	bool member;
	int fd;
	ssize_t length;

	snprintf(path, sizeof(path), "%s/address_group", PARAMETERS);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		SKIP(return, "%s: %s", path, strerror(errno));
	length = read(fd, self->saved_address_group,
		      sizeof(self->saved_address_group) - 1);
	close(fd);
	ASSERT_LT(0, length);
	self->saved_address_group[length] = '\0';
	self->saved_address_group[strcspn(self->saved_address_group, "\n")] =
		'\0';
	self->address_group_saved = true;

	/* The group of the unprivileged user: addresses are shown. */
	snprintf(value, sizeof(value), "%d", NOBODY);
	ASSERT_EQ(0, write_parameter("address_group", value));
	member = true;
	EXPECT_EQ(0, run_as_nobody(_metadata, self, group_member_replies,
				   &member));
	/* No group at all: withheld again. */
	ASSERT_EQ(0, write_parameter("address_group", "-1"));
	member = false;
	EXPECT_EQ(0, run_as_nobody(_metadata, self, group_member_replies,
				   &member));
	EXPECT_EQ(0, write_parameter("address_group",
				     self->saved_address_group));
	self->address_group_saved = false;
}

TEST_HARNESS_MAIN
