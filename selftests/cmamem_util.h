/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the cmamem selftests: thin ioctl wrappers that return
 * 0 or -errno, pool discovery, module parameter access, unique block names,
 * data patterns and a way to run a check as an unprivileged user.
 *
 * Everything here is static inline so each test program only carries what
 * it uses and -Wunused-function stays quiet.
 */
#ifndef CMAMEM_UTIL_H
#define CMAMEM_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/cmamem.h>

/* 32-bit builds must pass 64-bit mmap offsets (see the Makefile). */
_Static_assert(sizeof(off_t) == 8, "build with -D_FILE_OFFSET_BITS=64");

#define CMAMEM_DEFAULT_POOL_PATH	"/dev/cmamem"
#define CMAMEM_DEFAULT_POOL_NAME	"default"
#define CMAMEM_PARAM_DIR		"/sys/module/cmamem/parameters"
#define CMAMEM_DEBUGFS_DIR		"/sys/kernel/debug/cmamem"
#define CMAMEM_NOBODY_ID		65534
#define CMAMEM_MIB			(1024ULL * 1024ULL)
/* /proc/PID/pagemap (Documentation/admin-guide/mm/pagemap.rst) */
#define CMAMEM_PAGEMAP_PRESENT		(1ULL << 63)
#define CMAMEM_PAGEMAP_PFN_MASK		((1ULL << 55) - 1)

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(array) (sizeof(array) / sizeof((array)[0]))
#endif

/*
 * Struct sizes of the first release of the uapi. They are spelled out as
 * numbers on purpose: a program built against the first header keeps
 * passing exactly these sizes after the structs grow, and the kernel must
 * keep accepting them.
 */
#define CMAMEM_ALLOC_SIZE_V1		104
#define CMAMEM_ATTACH_SIZE_V1		96
#define CMAMEM_FREE_SIZE_V1		16
#define CMAMEM_SYNC_SIZE_V1		32
#define CMAMEM_BLOCK_INFO_SIZE_V1	144
#define CMAMEM_POOL_INFO_SIZE_V1	112
#define CMAMEM_EXPORT_SIZE_V1		24
#define CMAMEM_IMPORT_SIZE_V1		40

#define cmamem_offsetofend(type, member) \
	(offsetof(type, member) + sizeof(((type *)0)->member))

/* The first-release sizes end exactly at the last first-release field. */
_Static_assert(cmamem_offsetofend(struct cmamem_alloc, name) ==
	       CMAMEM_ALLOC_SIZE_V1, "cmamem_alloc first-release size");
_Static_assert(cmamem_offsetofend(struct cmamem_attach, __reserved) ==
	       CMAMEM_ATTACH_SIZE_V1, "cmamem_attach first-release size");
_Static_assert(cmamem_offsetofend(struct cmamem_free, __reserved) ==
	       CMAMEM_FREE_SIZE_V1, "cmamem_free first-release size");
_Static_assert(cmamem_offsetofend(struct cmamem_sync, length) ==
	       CMAMEM_SYNC_SIZE_V1, "cmamem_sync first-release size");
_Static_assert(cmamem_offsetofend(struct cmamem_block_info, pool) ==
	       CMAMEM_BLOCK_INFO_SIZE_V1, "cmamem_block_info first-release size");
_Static_assert(cmamem_offsetofend(struct cmamem_pool_info, name) ==
	       CMAMEM_POOL_INFO_SIZE_V1, "cmamem_pool_info first-release size");
_Static_assert(cmamem_offsetofend(struct cmamem_export, __reserved) ==
	       CMAMEM_EXPORT_SIZE_V1, "cmamem_export first-release size");
_Static_assert(cmamem_offsetofend(struct cmamem_import, __reserved) ==
	       CMAMEM_IMPORT_SIZE_V1, "cmamem_import first-release size");

static inline size_t cmamem_page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

/*
 * Checks that each page of @view (@length bytes) is at @physical plus its
 * offset, by the page frame /proc/self/pagemap shows root. Returns the
 * index of the first page that is not, or -1 when all are.
 */
static inline long cmamem_pages_not_at(const void *view, size_t length,
				       __u64 physical)
{
	size_t page_size = cmamem_page_size();
	size_t index;
	int pagemap;
	__u64 entry;

	pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pagemap < 0)
		return 0;
	for (index = 0; index < length / page_size; index++) {
		off_t at = ((uintptr_t)view / page_size + index) *
			   sizeof(entry);

		if (pread(pagemap, &entry, sizeof(entry), at) != sizeof(entry) ||
		    !(entry & CMAMEM_PAGEMAP_PRESENT) ||
		    (entry & CMAMEM_PAGEMAP_PFN_MASK) * page_size !=
		    physical + index * page_size)
			break;
	}
	close(pagemap);
	return index == length / page_size ? -1 : (long)index;
}

static inline void *cmamem_ptr(__u64 user_address)
{
	return (void *)(uintptr_t)user_address;
}

static inline int cmamem_ioctl(int fd, unsigned long command, void *argument)
{
	return ioctl(fd, command, argument) ? -errno : 0;
}

/* The mode's name, as the uapi header and the test logs spell it. */
static inline const char *cmamem_mode_name(__u32 mode)
{
	switch (mode) {
	case CMAMEM_MODE_COHERENT:
		return "coherent";
	case CMAMEM_MODE_WRITECOMBINE:
		return "writecombine";
	case CMAMEM_MODE_CACHED:
		return "cached";
	}
	return "unknown";
}

/*
 * One kselftest harness variant per block mode, each with .mode set, for a
 * fixture whose FIXTURE_VARIANT holds a __u32 mode (the harness must be
 * included where this is used).
 */
#define CMAMEM_MODE_VARIANTS(fixture)					\
	FIXTURE_VARIANT_ADD(fixture, coherent) {			\
		.mode = CMAMEM_MODE_COHERENT,				\
	};								\
	FIXTURE_VARIANT_ADD(fixture, writecombine) {			\
		.mode = CMAMEM_MODE_WRITECOMBINE,			\
	};								\
	FIXTURE_VARIANT_ADD(fixture, cached) {				\
		.mode = CMAMEM_MODE_CACHED,				\
	}

/*
 * In a kselftest harness test: the pool open as @fd holds what *@before
 * (its POOL_INFO) says it held: no block left behind, none lost.
 */
#define CMAMEM_EXPECT_POOL_AS_BEFORE(fd, before) do {			\
	struct cmamem_pool_info pool_now;				\
									\
	EXPECT_EQ(0, cmamem_pool_info(fd, &pool_now));			\
	EXPECT_EQ((before)->used_bytes, pool_now.used_bytes);		\
	EXPECT_EQ((before)->blocks, pool_now.blocks);			\
} while (0)

/* Copies @text into a name field, zero-filling the rest of the field. */
static inline void cmamem_set_name(char *field, const char *text)
{
	size_t length = strlen(text);

	if (length > CMAMEM_NAME_SIZE)
		length = CMAMEM_NAME_SIZE;
	memset(field, 0, CMAMEM_NAME_SIZE);
	memcpy(field, text, length);
}

/*
 * A block name no other test (or earlier run) uses: the pid tells tests
 * apart because the harness runs every test in its own process, the serial
 * tells blocks of one test apart.
 */
static inline void cmamem_unique_name(char *name, const char *tag)
{
	static unsigned int serial;

	snprintf(name, CMAMEM_NAME_SIZE, "st-%d-%.12s-%u", (int)getpid(), tag,
		 serial++);
}

/* ALLOC with every input field; @max_dma_address 0 is no limit. */
static inline int cmamem_alloc_below(int fd, const char *name, __u64 length,
				     __u32 mode, __u32 flags,
				     __u64 alignment, __u64 max_dma_address,
				     struct cmamem_alloc *alloc)
{
	memset(alloc, 0, sizeof(*alloc));
	alloc->size = sizeof(*alloc);
	alloc->flags = flags;
	alloc->length = length;
	alloc->alignment = alignment;
	alloc->mode = mode;
	alloc->max_dma_address = max_dma_address;
	cmamem_set_name(alloc->name, name);
	return cmamem_ioctl(fd, CMAMEM_IOCTL_ALLOC, alloc);
}

static inline int cmamem_alloc_named(int fd, const char *name, __u64 length,
				     __u32 mode, __u32 flags,
				     __u64 alignment,
				     struct cmamem_alloc *alloc)
{
	return cmamem_alloc_below(fd, name, length, mode, flags, alignment, 0,
				  alloc);
}

/* Allocates a block under a fresh unique name built from @tag. */
static inline int cmamem_alloc_block(int fd, const char *tag, __u64 length,
				     __u32 mode, struct cmamem_alloc *alloc)
{
	char name[CMAMEM_NAME_SIZE];

	cmamem_unique_name(name, tag);
	return cmamem_alloc_named(fd, name, length, mode, 0, 0, alloc);
}

static inline int cmamem_attach_request(int fd, const char *name,
					__u32 flags, __u32 owner_uid,
					struct cmamem_attach *attach)
{
	memset(attach, 0, sizeof(*attach));
	attach->size = sizeof(*attach);
	attach->flags = flags;
	attach->owner_uid = owner_uid;
	cmamem_set_name(attach->name, name);
	return cmamem_ioctl(fd, CMAMEM_IOCTL_ATTACH, attach);
}

static inline int cmamem_attach(int fd, const char *name, __u32 flags,
				struct cmamem_attach *attach)
{
	return cmamem_attach_request(fd, name, flags, 0, attach);
}

/* ATTACH to the block @owner_uid named @name (CMAMEM_OWNER). */
static inline int cmamem_attach_owned(int fd, const char *name,
				      __u32 owner_uid,
				      struct cmamem_attach *attach)
{
	return cmamem_attach_request(fd, name, CMAMEM_OWNER, owner_uid,
				     attach);
}

static inline int cmamem_free(int fd, __u32 handle)
{
	struct cmamem_free request = {
		.size = sizeof(request),
		.handle = handle,
	};

	return cmamem_ioctl(fd, CMAMEM_IOCTL_FREE, &request);
}

static inline int cmamem_sync(int fd, __u32 handle, __u32 flags,
			      __u64 offset, __u64 length)
{
	struct cmamem_sync request = {
		.size = sizeof(request),
		.flags = flags,
		.handle = handle,
		.offset = offset,
		.length = length,
	};

	return cmamem_ioctl(fd, CMAMEM_IOCTL_SYNC, &request);
}

static inline int cmamem_block_info(int fd, __u32 handle,
				    struct cmamem_block_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	info->handle = handle;
	return cmamem_ioctl(fd, CMAMEM_IOCTL_BLOCK_INFO, info);
}

static inline int cmamem_pool_info(int fd, struct cmamem_pool_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	return cmamem_ioctl(fd, CMAMEM_IOCTL_POOL_INFO, info);
}

/* Exports a block as a dma-buf; *@dmabuf is the new fd on success. */
static inline int cmamem_export(int fd, __u32 handle, __u32 fd_flags,
				int *dmabuf)
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

static inline int cmamem_import(int fd, int dmabuf,
				struct cmamem_import *request)
{
	memset(request, 0, sizeof(*request));
	request->size = sizeof(*request);
	request->fd = dmabuf;
	return cmamem_ioctl(fd, CMAMEM_IOCTL_IMPORT, request);
}

/*
 * The number the next new file descriptor gets: the kernel always hands
 * out the lowest free one, so a call that must not leave a file behind
 * can be checked by comparing this before and after. -1 on error.
 */
static inline int cmamem_lowest_free_fd(void)
{
	int fd = fcntl(0, F_DUPFD, 0);

	if (fd < 0 && errno == EBADF)
		return 0;	/* 0 itself is free */
	if (fd >= 0)
		close(fd);
	return fd;
}

/* Maps @length bytes of a block at @offset; MAP_FAILED on error. */
static inline void *cmamem_map(int fd, __u64 offset, size_t length,
			       int protection)
{
	return mmap(NULL, length, protection, MAP_SHARED, fd, (off_t)offset);
}

static inline bool cmamem_is_root(void)
{
	return geteuid() == 0;
}

static inline bool cmamem_path_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* Whether the pool at @path has the flags asked for; fills @info. */
static inline bool cmamem_pool_matches(const char *path, __u32 wanted,
				       __u32 unwanted,
				       struct cmamem_pool_info *info)
{
	bool matches;
	int fd;

	fd = open(path, O_RDWR);
	if (fd < 0)
		return false;
	matches = !cmamem_pool_info(fd, info) &&
		  (info->pool_flags & wanted) == wanted &&
		  !(info->pool_flags & unwanted);
	close(fd);
	return matches;
}

/*
 * Finds a pool device whose POOL_INFO pool_flags contain all of @wanted
 * and none of @unwanted. /dev/cmamem is looked at first, then every
 * /dev/cmamem-* in name order. Fills @path and @info; -ENOENT when no pool
 * matches.
 */
static inline int cmamem_find_pool(__u32 wanted, __u32 unwanted,
				   char *path, size_t path_size,
				   struct cmamem_pool_info *info)
{
	struct dirent **entries;
	int count, index, result = -ENOENT;

	snprintf(path, path_size, "%s", CMAMEM_DEFAULT_POOL_PATH);
	if (cmamem_pool_matches(path, wanted, unwanted, info))
		return 0;

	count = scandir("/dev", &entries, NULL, alphasort);
	if (count < 0)
		return -errno;
	for (index = 0; index < count; index++) {
		const char *name = entries[index]->d_name;

		/* The first match wins; later entries are only freed. */
		if (result && !strncmp(name, "cmamem-", 7) &&
		    (size_t)snprintf(path, path_size, "/dev/%s", name) <
		    path_size &&
		    cmamem_pool_matches(path, wanted, unwanted, info))
			result = 0;
		free(entries[index]);
	}
	free(entries);
	return result;
}

/* Mounts debugfs if needed; false if it is not available. */
static inline bool cmamem_debugfs_ready(void)
{
	if (cmamem_path_exists(CMAMEM_DEBUGFS_DIR))
		return true;
	if (mount("none", "/sys/kernel/debug", "debugfs", 0, NULL))
		return false;
	return cmamem_path_exists(CMAMEM_DEBUGFS_DIR);
}

/*
 * Reads a whole small text file into @buffer, without the trailing
 * newline and spaces (debugfs knobs end some values with a space).
 */
static inline int cmamem_read_text(const char *path, char *buffer, size_t size)
{
	ssize_t length;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	length = read(fd, buffer, size - 1);
	if (length < 0) {
		int error = -errno;

		close(fd);
		return error;
	}
	close(fd);
	buffer[length] = '\0';
	while (length > 0 && (buffer[length - 1] == '\n' ||
			      buffer[length - 1] == ' '))
		buffer[--length] = '\0';
	return 0;
}

static inline int cmamem_write_text(const char *path, const char *text)
{
	ssize_t length = strlen(text);
	int fd, result = 0;

	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	if (write(fd, text, length) != length)
		result = -errno;
	close(fd);
	return result;
}

/*
 * Whether the kernel was booted with swiotlb=force (or swiotlb=N,force):
 * every streaming DMA mapping is then a bounce slot.
 */
static inline bool cmamem_swiotlb_forced(void)
{
	char line[4096], *word, *state = NULL;
	bool forced = false;

	if (cmamem_read_text("/proc/cmdline", line, sizeof(line)))
		return false;
	for (word = strtok_r(line, " \n", &state); word;
	     word = strtok_r(NULL, " \n", &state))
		if (!strncmp(word, "swiotlb=", 8) && strstr(word, "force"))
			forced = true;
	return forced;
}

static inline int cmamem_read_u64(const char *path, __u64 *value)
{
	char text[64], *end;
	int result;

	result = cmamem_read_text(path, text, sizeof(text));
	if (result)
		return result;
	errno = 0;
	*value = strtoull(text, &end, 0);
	if (errno || end == text || *end)
		return -EINVAL;
	return 0;
}

static inline int cmamem_param_read(const char *parameter, char *value,
				    size_t size)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", CMAMEM_PARAM_DIR, parameter);
	return cmamem_read_text(path, value, size);
}

static inline int cmamem_param_write(const char *parameter, const char *value)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", CMAMEM_PARAM_DIR, parameter);
	return cmamem_write_text(path, value);
}

static inline int cmamem_param_write_u64(const char *parameter, __u64 value)
{
	char text[32];

	snprintf(text, sizeof(text), "%llu", value);
	return cmamem_param_write(parameter, text);
}

/* A position-dependent pattern, so shifted or swapped pages are caught. */
static inline __u32 cmamem_pattern_word(__u32 seed, size_t index)
{
	__u32 value = seed ^ (__u32)(index * 2654435761u);

	return value ^ (value >> 15);
}

static inline void cmamem_fill(void *buffer, size_t length, __u32 seed)
{
	__u32 *words = buffer;
	size_t index;

	for (index = 0; index < length / sizeof(*words); index++)
		words[index] = cmamem_pattern_word(seed, index);
}

/* Returns the byte offset of the first mismatch, or -1 if all match. */
static inline long cmamem_check(const void *buffer, size_t length,
				__u32 seed)
{
	const __u32 *words = buffer;
	size_t index;

	for (index = 0; index < length / sizeof(*words); index++)
		if (words[index] != cmamem_pattern_word(seed, index))
			return (long)(index * sizeof(*words));
	return -1;
}

/*
 * Touches one byte at @address in a child process (so a fault cannot kill
 * the test) and returns the signal that killed the child, or 0 if the
 * access worked.
 */
static inline int cmamem_access_signal(__u8 *address, bool write)
{
	int status;
	pid_t child;

	fflush(stdout);
	fflush(stderr);
	child = fork();
	if (child < 0)
		return -1;
	if (child == 0) {
		struct rlimit no_core = { 0, 0 };

		/* The crash is expected: no core file, default action. */
		setrlimit(RLIMIT_CORE, &no_core);
		signal(SIGSEGV, SIG_DFL);
		signal(SIGBUS, SIG_DFL);
		/* volatile: the access itself is the point. */
		if (write)
			*(volatile __u8 *)address = 0x5a;
		else
			(void)*(volatile __u8 *)address;
		_exit(0);
	}
	if (waitpid(child, &status, 0) != child)
		return -1;
	if (WIFSIGNALED(status))
		return WTERMSIG(status);
	return 0;
}

/*
 * Mappings and files a test made, so its fixture teardown can undo them
 * even when an assertion stopped the test half way. Closing a pool file
 * also drops every handle it holds.
 */
#define CMAMEM_TRACK_MAX 16

struct cmamem_tracker {
	void *maps[CMAMEM_TRACK_MAX];
	size_t map_lengths[CMAMEM_TRACK_MAX];
	int fds[CMAMEM_TRACK_MAX];
};

static inline void cmamem_tracker_init(struct cmamem_tracker *tracker)
{
	int index;

	for (index = 0; index < CMAMEM_TRACK_MAX; index++) {
		tracker->maps[index] = MAP_FAILED;
		tracker->fds[index] = -1;
	}
}

/* Remembers a mapping (MAP_FAILED and NULL are ignored); returns it. */
static inline void *cmamem_track_map(struct cmamem_tracker *tracker,
				     void *address, size_t length)
{
	int index;

	if (address == MAP_FAILED || !address)
		return address;
	for (index = 0; index < CMAMEM_TRACK_MAX; index++) {
		if (tracker->maps[index] == MAP_FAILED) {
			tracker->maps[index] = address;
			tracker->map_lengths[index] = length;
			break;
		}
	}
	return address;
}

/* Unmaps a tracked mapping now; 0 or -errno from munmap(). */
static inline int cmamem_unmap(struct cmamem_tracker *tracker, void *address)
{
	int index;

	for (index = 0; index < CMAMEM_TRACK_MAX; index++) {
		if (tracker->maps[index] == address) {
			tracker->maps[index] = MAP_FAILED;
			return munmap(address, tracker->map_lengths[index]) ?
			       -errno : 0;
		}
	}
	return -ENOENT;
}

/* Forgets a mapping that was moved or unmapped by other means. */
static inline void cmamem_forget_map(struct cmamem_tracker *tracker,
				     void *address)
{
	int index;

	for (index = 0; index < CMAMEM_TRACK_MAX; index++)
		if (tracker->maps[index] == address)
			tracker->maps[index] = MAP_FAILED;
}

/* Remembers a file descriptor (negative ones are ignored); returns it. */
static inline int cmamem_track_fd(struct cmamem_tracker *tracker, int fd)
{
	int index;

	if (fd < 0)
		return fd;
	for (index = 0; index < CMAMEM_TRACK_MAX; index++) {
		if (tracker->fds[index] < 0) {
			tracker->fds[index] = fd;
			break;
		}
	}
	return fd;
}

/* Closes a tracked file descriptor now; 0 or -errno from close(). */
static inline int cmamem_close(struct cmamem_tracker *tracker, int fd)
{
	int index;

	for (index = 0; index < CMAMEM_TRACK_MAX; index++)
		if (tracker->fds[index] == fd)
			tracker->fds[index] = -1;
	return close(fd) ? -errno : 0;
}

static inline void cmamem_tracker_release(struct cmamem_tracker *tracker)
{
	int index;

	for (index = 0; index < CMAMEM_TRACK_MAX; index++) {
		if (tracker->maps[index] != MAP_FAILED)
			munmap(tracker->maps[index],
			       tracker->map_lengths[index]);
		tracker->maps[index] = MAP_FAILED;
	}
	for (index = 0; index < CMAMEM_TRACK_MAX; index++) {
		if (tracker->fds[index] >= 0)
			close(tracker->fds[index]);
		tracker->fds[index] = -1;
	}
}

/* Runs @body(@argument) in a child; returns its exit status as above. */
static inline int cmamem_run_child(int (*body)(void *argument),
				   void *argument)
{
	int status;
	pid_t child;

	fflush(stdout);
	fflush(stderr);
	child = fork();
	if (child < 0)
		return 254;
	if (child == 0)
		_exit(body(argument));
	if (waitpid(child, &status, 0) != child)
		return 254;
	if (WIFSIGNALED(status))
		return 200 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

struct cmamem_user_call {
	int fd;
	uid_t uid;
	int (*check)(int fd, void *argument);
	void *argument;
};

static inline int cmamem_user_body(void *argument)
{
	struct cmamem_user_call *call = argument;

	if (setgroups(0, NULL) ||
	    setresgid(call->uid, call->uid, call->uid) ||
	    setresuid(call->uid, call->uid, call->uid))
		return 255;
	return call->check(call->fd, call->argument);
}

/*
 * Runs @check(@fd, @argument) in a child that has become uid and gid @uid
 * with no supplementary groups, which also drops every capability; exit
 * statuses as cmamem_run_as_nobody().
 */
static inline int cmamem_run_as_user(int fd, uid_t uid,
				     int (*check)(int fd, void *argument),
				     void *argument)
{
	struct cmamem_user_call call = {
		.fd = fd,
		.uid = uid,
		.check = check,
		.argument = argument,
	};

	return cmamem_run_child(cmamem_user_body, &call);
}

/*
 * Runs @check(@fd, @argument) in a child that has become uid and gid
 * 65534 with no supplementary groups, which also drops every capability.
 * @fd is opened by the caller beforehand, because the device node may not
 * be accessible to nobody. Returns the child's exit status (0 = the check
 * passed), 200 + signal number if it was killed, or 255 if the privilege
 * drop itself failed.
 */
static inline int cmamem_run_as_nobody(int fd,
				       int (*check)(int fd, void *argument),
				       void *argument)
{
	return cmamem_run_as_user(fd, CMAMEM_NOBODY_ID, check, argument);
}

/*
 * Saves the module parameters a test changes, to put them back in the
 * fixture teardown whatever happened in between.
 */
#define CMAMEM_PARAM_MAX 8

struct cmamem_saved_params {
	char names[CMAMEM_PARAM_MAX][32];
	char values[CMAMEM_PARAM_MAX][64];
	int count;
};

static inline int cmamem_params_save(struct cmamem_saved_params *saved,
				     const char *parameter)
{
	int result;

	if (saved->count >= CMAMEM_PARAM_MAX)
		return -ENOSPC;
	result = cmamem_param_read(parameter, saved->values[saved->count],
				   sizeof(saved->values[0]));
	if (result)
		return result;
	snprintf(saved->names[saved->count], sizeof(saved->names[0]), "%s",
		 parameter);
	saved->count++;
	return 0;
}

/* Writes every saved value back; the first error, or 0. */
static inline int cmamem_params_restore(struct cmamem_saved_params *saved)
{
	int index, result, first_error = 0;

	for (index = 0; index < saved->count; index++) {
		result = cmamem_param_write(saved->names[index],
					    saved->values[index]);
		if (result && !first_error)
			first_error = result;
	}
	return first_error;
}

/*
 * The highest DMA address /dev/cmamem's device reaches directly: its mask,
 * dma_mask_bits wide. Device-tree pools' masks are widened to cover their
 * regions, so they reach all of their own memory.
 */
static inline __u64 cmamem_default_pool_reach(void)
{
	char text[16];
	unsigned int bits;

	if (cmamem_param_read("dma_mask_bits", text, sizeof(text)) ||
	    sscanf(text, "%u", &bits) != 1 || bits >= 64)
		return ~0ULL;
	return (1ULL << bits) - 1;
}

/*
 * The last byte of RAM, from /proc/iomem's "System RAM" ranges (root sees
 * the addresses; others read zeros). 0 when it cannot be read.
 */
static inline __u64 cmamem_ram_end(void)
{
	unsigned long long start, end;
	FILE *iomem = fopen("/proc/iomem", "r");
	char line[160];
	__u64 last = 0;

	if (!iomem)
		return 0;
	while (fgets(line, sizeof(line), iomem))
		if (sscanf(line, "%llx-%llx", &start, &end) == 2 &&
		    strstr(line, " : System RAM") && end > last)
			last = end;
	fclose(iomem);
	return last;
}

/*
 * Opens /dev/kmsg positioned after the records already logged, so that
 * cmamem_kmsg_has_splat() sees only what a test provoked. -1 if the kernel
 * log cannot be read.
 */
static inline int cmamem_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/*
 * Reads the kernel log records logged since cmamem_kmsg_open() and tells
 * whether one holds any of the @count @texts. The first such record is
 * copied to @record (if not NULL) for the test to print.
 */
static inline bool cmamem_kmsg_find(int fd, const char * const *texts,
				    size_t count, char *record, size_t size)
{
	char buffer[1024];
	bool found = false;
	ssize_t length;
	size_t index;

	if (fd < 0)
		return false;
	for (;;) {
		length = read(fd, buffer, sizeof(buffer) - 1);
		if (length < 0 && errno == EPIPE)
			continue;	/* records were overwritten; go on */
		if (length <= 0)
			break;
		buffer[length] = '\0';
		for (index = 0; index < count; index++) {
			if (!found && strstr(buffer, texts[index])) {
				if (record)
					snprintf(record, size, "%s", buffer);
				found = true;
			}
		}
	}
	return found;
}

/* Whether a record since cmamem_kmsg_open() looks like a warning or oops. */
static inline bool cmamem_kmsg_has_splat(int fd, char *record, size_t size)
{
	static const char * const markers[] = {
		"WARNING:", "BUG:", "Oops", "Call trace:", "Call Trace:",
		"UBSAN:", "KASAN:", "kernel BUG", "refcount_t:",
		"list_add corruption", "list_del corruption",
	};

	return cmamem_kmsg_find(fd, markers, ARRAY_SIZE(markers), record,
				size);
}

/* Whether a record since cmamem_kmsg_open() holds @text. */
static inline bool cmamem_kmsg_has(int fd, const char *text)
{
	return cmamem_kmsg_find(fd, &text, 1, NULL, 0);
}

#endif /* CMAMEM_UTIL_H */
