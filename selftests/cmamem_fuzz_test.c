// SPDX-License-Identifier: GPL-2.0
/*
 * cmamem fuzz test: at least CMAMEM_FUZZ_CALLS (default 100000) ioctls
 * with random commands, struct sizes, flags, names, handles, offsets,
 * lengths and argument pointers, mixed with random mmap(), munmap(),
 * mremap() and mprotect() on the pool files, all from one seed (printed;
 * CMAMEM_SEED replays it).
 *
 * The fuzzer keeps a model of what it holds: its open files, the handles
 * each file has, the blocks and their names. From the model and the bytes
 * it hands the kernel it works out, for each call, whether the call may
 * succeed and which errors the uapi allows: a cmamem command on a NULL,
 * unmapped or kernel pointer must fail with EFAULT; an ALLOC whose reply
 * lands on a read-only page must fail and leave nothing behind; FREE of a
 * handle the file holds must succeed, of any other must give ENOENT; a
 * command that is not exactly one of cmamem's must give ENOTTY; mmap() of
 * a range outside the file's blocks must give ENXIO, with PROT_EXEC EPERM,
 * MAP_PRIVATE EINVAL; and so on. Any other outcome is reported with the
 * call number and what was asked.
 *
 * ALLOC and ATTACH are bracketed by POOL_INFO: a failed call must leave
 * the pool's block count and used bytes as they were. Every
 * FUZZ_AUDIT_EVERY calls, every handle of the model is checked with
 * BLOCK_INFO (its block, its handle count, its live dma-bufs; an import
 * handle must be refused) and handles the model does not have must be
 * unknown to the kernel.
 *
 * EXPORT and IMPORT make file descriptors and references, so the model
 * also keeps the dma-bufs the fuzzer got: which block each is of, whether
 * its fd is still open, and how many import handles hold it. A dma-buf
 * lives while either does. The fds are closed at random and at the end,
 * and fed back to IMPORT, as are garbage fds (closed, never opened, not a
 * dma-buf). EXPORT must hand out the lowest free fd; a failed EXPORT or
 * IMPORT must leave no fd behind, and at the end no fd the fuzzer made may
 * be open.
 *
 * Mappings the fuzzer makes with arguments it has not checked are never
 * touched; only mappings made with known good arguments are written and
 * read back. The fuzzing runs in a child process, so a crash is reported
 * with the last call; at the end everything is freed and every pool must
 * be back to no blocks and no used bytes.
 */
#ifndef _FILE_OFFSET_BITS
#define _FILE_OFFSET_BITS 64
#endif

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
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

#define FUZZ_DEFAULT_CALLS	100000UL
#define FUZZ_AUDIT_EVERY	1000
#define MAX_POOLS		8
#define MAX_FDS			6
#define MAX_HANDLES		40	/* per file */
#define MAX_BLOCKS		(MAX_FDS * MAX_HANDLES)
#define MAX_MAPPINGS		96
#define MAX_STALE		16
#define NAME_CHOICES		10
#define MAX_REPORTS		40
#define MAX_DMABUFS		16
#define MAX_LIVE_BYTES		(40ULL << 20)
/* Room for the largest request: struct sizes up to 4096 + a few pages. */
#define REQUEST_ROOM		12288
#define BAD_FD			1000
#define HUGE_LENGTH		0x40000000ULL	/* 1 GiB */

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE	0x100000
#endif
#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE	0x03
#endif
#ifndef MAP_SYNC
#define MAP_SYNC		0x80000
#endif
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP	4
#endif

/*
 * A mmap() flag no kernel defines: MAP_SHARED ignores it,
 * MAP_SHARED_VALIDATE refuses it. (The bits from 26 up hold a huge page
 * size and are accepted.)
 */
#define UNKNOWN_MAP_FLAG	0x800000

#define ARRAY_LENGTH(array) (sizeof(array) / sizeof((array)[0]))

/* The errors the fuzzer reasons about, as bits of a mask. */
enum error_bit {
	BIT_EFAULT,
	BIT_EINVAL,
	BIT_E2BIG,
	BIT_ENOENT,
	BIT_EEXIST,
	BIT_EFBIG,
	BIT_EDQUOT,
	BIT_EMFILE,
	BIT_ENOMEM,
	BIT_EOPNOTSUPP,
	BIT_EACCES,
	BIT_ENXIO,
	BIT_EPERM,
	BIT_ENOTTY,
	BIT_EBADF,
	BIT_EOVERFLOW,
	BIT_EAGAIN,
	BIT_ENFILE,
	BIT_ERANGE,
	BIT_EADDRNOTAVAIL,
	BIT_COUNT,
};

static const int bit_errno[BIT_COUNT] = {
	[BIT_EFAULT] = EFAULT, [BIT_EINVAL] = EINVAL, [BIT_E2BIG] = E2BIG,
	[BIT_ENOENT] = ENOENT, [BIT_EEXIST] = EEXIST, [BIT_EFBIG] = EFBIG,
	[BIT_EDQUOT] = EDQUOT, [BIT_EMFILE] = EMFILE, [BIT_ENOMEM] = ENOMEM,
	[BIT_EOPNOTSUPP] = EOPNOTSUPP, [BIT_EACCES] = EACCES,
	[BIT_ENXIO] = ENXIO, [BIT_EPERM] = EPERM, [BIT_ENOTTY] = ENOTTY,
	[BIT_EBADF] = EBADF, [BIT_EOVERFLOW] = EOVERFLOW,
	[BIT_EAGAIN] = EAGAIN, [BIT_ENFILE] = ENFILE,
	[BIT_ERANGE] = ERANGE, [BIT_EADDRNOTAVAIL] = EADDRNOTAVAIL,
};

#define ERR(name) (1u << BIT_##name)

enum command_kind {
	KIND_ALLOC,
	KIND_ATTACH,
	KIND_FREE,
	KIND_SYNC,
	KIND_BLOCK_INFO,
	KIND_POOL_INFO,
	KIND_EXPORT,
	KIND_IMPORT,
	KIND_FOREIGN,	/* not a cmamem command */
	KIND_COUNT,
};

struct command_description {
	const char *name;
	unsigned long command;
	size_t size;
	bool has_output;
	/* What the uapi lets this command fail with, whatever the input. */
	unsigned int documented;
};

#define COMMON_ERRORS (ERR(EFAULT) | ERR(EINVAL) | ERR(E2BIG))

static const struct command_description commands[KIND_COUNT] = {
	[KIND_ALLOC] = {
		"ALLOC", CMAMEM_IOCTL_ALLOC, sizeof(struct cmamem_alloc), true,
		COMMON_ERRORS | ERR(EEXIST) | ERR(EFBIG) | ERR(EDQUOT) |
		ERR(EMFILE) | ERR(EOPNOTSUPP) | ERR(ENOMEM) | ERR(EACCES) |
		ERR(EPERM) | ERR(ENXIO) | ERR(ERANGE) | ERR(EADDRNOTAVAIL) },
	[KIND_ATTACH] = {
		"ATTACH", CMAMEM_IOCTL_ATTACH, sizeof(struct cmamem_attach),
		true,
		COMMON_ERRORS | ERR(ENOENT) | ERR(EPERM) | ERR(EMFILE) |
		ERR(EDQUOT) | ERR(ENOMEM) | ERR(EACCES) | ERR(ENXIO) },
	[KIND_FREE] = {
		"FREE", CMAMEM_IOCTL_FREE, sizeof(struct cmamem_free), false,
		COMMON_ERRORS | ERR(ENOENT) },
	[KIND_SYNC] = {
		"SYNC", CMAMEM_IOCTL_SYNC, sizeof(struct cmamem_sync), false,
		COMMON_ERRORS | ERR(ENOENT) },
	[KIND_BLOCK_INFO] = {
		"BLOCK_INFO", CMAMEM_IOCTL_BLOCK_INFO,
		sizeof(struct cmamem_block_info), true,
		COMMON_ERRORS | ERR(ENOENT) },
	[KIND_POOL_INFO] = {
		"POOL_INFO", CMAMEM_IOCTL_POOL_INFO,
		sizeof(struct cmamem_pool_info), true, COMMON_ERRORS },
	[KIND_EXPORT] = {
		"EXPORT", CMAMEM_IOCTL_EXPORT, sizeof(struct cmamem_export),
		true,
		COMMON_ERRORS | ERR(EACCES) | ERR(ENOENT) | ERR(EOPNOTSUPP) |
		ERR(EMFILE) | ERR(ENFILE) | ERR(ENOMEM) },
	[KIND_IMPORT] = {
		"IMPORT", CMAMEM_IOCTL_IMPORT, sizeof(struct cmamem_import),
		true, COMMON_ERRORS | ERR(EBADF) | ERR(EMFILE) | ERR(ENOMEM) |
		ERR(ERANGE) },
	[KIND_FOREIGN] = { "foreign", 0, 0, false, ERR(ENOTTY) },
};

enum mm_kind {
	MM_MMAP,
	MM_MUNMAP,
	MM_MPROTECT,
	MM_MREMAP,
	MM_PROBE,
	MM_REOPEN,
	MM_CLOSE_DMABUF,
	MM_COUNT,
};

static const char * const mm_names[MM_COUNT] = {
	"mmap", "munmap", "mprotect", "mremap", "probe", "reopen",
	"dmabuf close",
};

struct pool_description {
	char path[64];
	char name[CMAMEM_NAME_SIZE];
	__u32 pool_flags;
	__u64 total_bytes;
	__u64 max_block_bytes;
};

/* Written by the fuzzing child, read by the parent. */
struct fuzz_shared {
	unsigned long long seed;
	unsigned long target_calls;
	unsigned long calls;
	unsigned long checks;
	char last[320];
	unsigned int failures;
	bool finished;
	unsigned long by_kind[KIND_COUNT];
	unsigned long successes[KIND_COUNT];
	unsigned long errors[KIND_COUNT][BIT_COUNT + 1];
	unsigned long mm[MM_COUNT];
	unsigned long mm_successes[MM_COUNT];
	unsigned long blocks_made;
	unsigned long dmabufs_made;
	unsigned long pointer_kinds[16];
};

struct rng {
	__u64 state;
};

struct block_model {
	bool live;		/* a handle names it: its name is taken */
	int pool;
	char name[CMAMEM_NAME_SIZE];
	__u64 length;
	__u64 alignment;
	__u32 mode;
	unsigned int handles;
	unsigned int dma_bufs;	/* live dma-bufs of the block */
	__u32 pattern;
	__u64 dma_address;
};

/* An import handle has no block (-1) and names a dma-buf instead. */
struct handle_model {
	__u32 id;
	int block;
	int dmabuf;
	__u64 mmap_offset;
};

/*
 * A dma-buf EXPORT made: alive while its fd is open or an import handle
 * holds it; while alive it keeps its block's memory.
 */
struct dmabuf_model {
	bool live;
	int fd;			/* -1 once the fuzzer closed it */
	int block;
	unsigned int imports;
};

struct fd_model {
	int fd;			/* -1: a free slot */
	int pool;
	bool writable;
	struct handle_model handles[MAX_HANDLES];
	int handle_count;
	__u32 stale[MAX_STALE];
	unsigned int stale_count;	/* handles dropped, ever */
};

struct mapping_model {
	unsigned char *address;
	size_t length;
	bool writable;
};

/* Where a request is put, and how much of it the kernel can reach. */
struct placement {
	unsigned char *pointer;
	size_t readable;
	size_t writable;
	int kind;
};

enum pointer_kind {
	POINTER_VALID,
	POINTER_MISALIGNED,
	POINTER_STRADDLE,
	POINTER_READ_ONLY,
	POINTER_NULL,
	POINTER_LOW,
	POINTER_KERNEL,
	POINTER_HOLE,
	POINTER_GUARD,
	POINTER_KINDS,
};

struct fuzzer {
	struct fuzz_shared *shared;
	struct rng rng;
	size_t page;
	int pool_count;
	struct pool_description pools[MAX_POOLS];
	struct fd_model fds[MAX_FDS];
	struct block_model blocks[MAX_BLOCKS];
	struct mapping_model mappings[MAX_MAPPINGS];
	int mapping_count;
	struct dmabuf_model dmabufs[MAX_DMABUFS];
	/* Fd numbers of dma-bufs closed lately: garbage for IMPORT. */
	int closed_fds[4];
	unsigned int closed_fd_count;
	/* The lowest free fd before the fuzzer opened anything. */
	int first_fd;
	bool quota_limited;
	/* The argument arena: read-write pages, a PROT_NONE guard page, a
	 * read-only page and an unmapped hole.
	 */
	unsigned char *arena;
	size_t arena_length;
	unsigned char *rw;
	size_t rw_length;
	unsigned char *guard;
	unsigned char *read_only;
	unsigned char *hole;
	unsigned char request[REQUEST_ROOM + 64];
	char what[320];
};

static __u64 rng_next(struct rng *rng)
{
	__u64 value = (rng->state += 0x9e3779b97f4a7c15ULL);

	value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9ULL;
	value = (value ^ (value >> 27)) * 0x94d049bb133111ebULL;
	return value ^ (value >> 31);
}

static __u32 rng_below(struct rng *rng, __u32 bound)
{
	return bound ? (__u32)(rng_next(rng) % bound) : 0;
}

static bool rng_chance(struct rng *rng, __u32 one_in)
{
	return rng_below(rng, one_in) == 0;
}

static unsigned long long seed_from_environment(void)
{
	const char *text = getenv("CMAMEM_SEED");
	struct timespec now;
	char *end;

	if (text && *text) {
		unsigned long long seed = strtoull(text, &end, 0);

		if (!*end)
			return seed;
		fprintf(stderr, "# ignoring CMAMEM_SEED=%s: not a number\n",
			text);
	}
	clock_gettime(CLOCK_REALTIME, &now);
	return ((unsigned long long)now.tv_sec << 20) ^
	       (unsigned long long)now.tv_nsec ^
	       ((unsigned long long)getpid() << 40);
}

static unsigned long fuzz_calls(void)
{
	const char *text = getenv("CMAMEM_FUZZ_CALLS");
	unsigned long value;
	char *end;

	if (!text || !*text)
		return FUZZ_DEFAULT_CALLS;
	value = strtoul(text, &end, 10);
	if (*end || !value)
		return FUZZ_DEFAULT_CALLS;
	return value;
}

/* Generous: TCG emulation with KASAN runs a few thousand calls a second. */
static int fuzz_timeout(void)
{
	return 120 + (int)(fuzz_calls() / 250);
}

static int errno_bit(int error)
{
	int bit;

	for (bit = 0; bit < BIT_COUNT; bit++)
		if (bit_errno[bit] == error)
			return bit;
	return BIT_COUNT;
}

static void describe_errors(unsigned int mask, char *text, size_t size)
{
	size_t used = 0;
	int bit;

	text[0] = '\0';
	for (bit = 0; bit < BIT_COUNT && used < size; bit++)
		if (mask & (1u << bit))
			used += snprintf(text + used, size - used, "%s%s",
					 used ? "|" : "",
					 strerror(bit_errno[bit]));
}

static void __printf(2, 3)
fuzz_err(struct fuzzer *fuzzer, const char *format, ...)
{
	va_list arguments;

	fuzzer->shared->failures++;
	if (fuzzer->shared->failures > MAX_REPORTS)
		return;
	fprintf(stderr, "# FUZZ FAILURE at call %lu (seed %llu): ",
		fuzzer->shared->calls, fuzzer->shared->seed);
	va_start(arguments, format);
	vfprintf(stderr, format, arguments);
	va_end(arguments);
	fprintf(stderr, "\n#   request: %s\n", fuzzer->what);
}

static __u32 name_pattern(const char *name, __u64 salt)
{
	__u32 hash = 2166136261u ^ (__u32)salt;

	while (*name)
		hash = (hash ^ (unsigned char)*name++) * 16777619u;
	return hash;
}

static inline __u32 pattern_word(__u32 seed, size_t word_index)
{
	__u32 value = seed ^ (__u32)(word_index * 2654435761u);

	return value ^ (value >> 15);
}

/* ---- model ---------------------------------------------------------- */

static bool name_valid(const char *name)
{
	int index, length = -1;

	for (index = 0; index < CMAMEM_NAME_SIZE; index++) {
		if (!name[index]) {
			length = index;
			break;
		}
		if ((unsigned char)name[index] < 0x21 ||
		    (unsigned char)name[index] > 0x7e)
			return false;
	}
	if (length < 1)
		return false;
	for (index = length; index < CMAMEM_NAME_SIZE; index++)
		if (name[index])
			return false;
	return true;
}

static int block_by_name(struct fuzzer *fuzzer, int pool, const char *name)
{
	int index;

	for (index = 0; index < MAX_BLOCKS; index++) {
		struct block_model *block = &fuzzer->blocks[index];

		if (block->live && block->pool == pool &&
		    !memcmp(block->name, name, CMAMEM_NAME_SIZE))
			return index;
	}
	return -1;
}

static struct handle_model *handle_find(struct fd_model *file, __u32 id)
{
	int index;

	for (index = 0; index < file->handle_count; index++)
		if (file->handles[index].id == id)
			return &file->handles[index];
	return NULL;
}

static void handle_add(struct fuzzer *fuzzer, struct fd_model *file,
		       __u32 id, int block, __u64 mmap_offset)
{
	struct handle_model *handle = &file->handles[file->handle_count++];

	handle->id = id;
	handle->block = block;
	handle->dmabuf = -1;
	handle->mmap_offset = mmap_offset;
	fuzzer->blocks[block].handles++;
}

static bool handle_is_import(const struct handle_model *handle)
{
	return handle->block < 0;
}

static void import_add(struct fuzzer *fuzzer, struct fd_model *file,
		       __u32 id, int dmabuf)
{
	struct handle_model *handle = &file->handles[file->handle_count++];

	handle->id = id;
	handle->block = -1;
	handle->dmabuf = dmabuf;
	handle->mmap_offset = 0;
	fuzzer->dmabufs[dmabuf].imports++;
}

/* A dma-buf neither an fd nor an import holds is released at once. */
static void dmabuf_release_if_unheld(struct fuzzer *fuzzer, int index)
{
	struct dmabuf_model *dmabuf = &fuzzer->dmabufs[index];

	if (dmabuf->live && dmabuf->fd < 0 && !dmabuf->imports) {
		dmabuf->live = false;
		fuzzer->blocks[dmabuf->block].dma_bufs--;
	}
}

static void handle_drop(struct fuzzer *fuzzer, struct fd_model *file,
			struct handle_model *handle)
{
	if (handle_is_import(handle)) {
		fuzzer->dmabufs[handle->dmabuf].imports--;
		dmabuf_release_if_unheld(fuzzer, handle->dmabuf);
	} else if (!--fuzzer->blocks[handle->block].handles) {
		/* The name is free again. */
		fuzzer->blocks[handle->block].live = false;
	}
	/* The last MAX_STALE handles dropped, oldest overwritten first. */
	file->stale[file->stale_count++ % MAX_STALE] = handle->id;
	*handle = file->handles[--file->handle_count];
}

static int block_new(struct fuzzer *fuzzer)
{
	int index;

	for (index = 0; index < MAX_BLOCKS; index++)
		if (!fuzzer->blocks[index].live &&
		    !fuzzer->blocks[index].handles &&
		    !fuzzer->blocks[index].dma_bufs)
			return index;
	return -1;
}

/* Bytes of the blocks a handle or a dma-buf keeps. */
static __u64 live_bytes(struct fuzzer *fuzzer)
{
	__u64 total = 0;
	int index;

	for (index = 0; index < MAX_BLOCKS; index++)
		if (fuzzer->blocks[index].live ||
		    fuzzer->blocks[index].dma_bufs)
			total += fuzzer->blocks[index].length;
	return total;
}

static int dmabuf_by_fd(struct fuzzer *fuzzer, int fd)
{
	int index;

	for (index = 0; index < MAX_DMABUFS; index++)
		if (fuzzer->dmabufs[index].live &&
		    fuzzer->dmabufs[index].fd >= 0 &&
		    fuzzer->dmabufs[index].fd == fd)
			return index;
	return -1;
}

/* Closes the fd of a dma-buf the model has; the fd number is kept. */
static void dmabuf_close(struct fuzzer *fuzzer, int index)
{
	struct dmabuf_model *dmabuf = &fuzzer->dmabufs[index];

	if (close(dmabuf->fd))
		fuzz_err(fuzzer, "close of dma-buf fd %d failed: %s",
			 dmabuf->fd, strerror(errno));
	fuzzer->closed_fds[fuzzer->closed_fd_count++ %
			   ARRAY_LENGTH(fuzzer->closed_fds)] = dmabuf->fd;
	dmabuf->fd = -1;
	dmabuf_release_if_unheld(fuzzer, index);
}

/*
 * Puts the new dma-buf @fd of @block in the model. When every slot is
 * taken, a random slot's fd is closed to make room; if that dma-buf lives
 * on (import handles hold it), @fd is closed instead, which releases the
 * new dma-buf before the model ever counted it.
 */
static void dmabuf_add(struct fuzzer *fuzzer, int fd, int block)
{
	struct dmabuf_model *dmabuf;
	int index;

	for (index = 0; index < MAX_DMABUFS; index++)
		if (!fuzzer->dmabufs[index].live)
			break;
	if (index == MAX_DMABUFS) {
		index = (int)rng_below(&fuzzer->rng, MAX_DMABUFS);
		/* Held by imports only: that fd is closed already. */
		if (fuzzer->dmabufs[index].fd < 0) {
			close(fd);
			return;
		}
		dmabuf_close(fuzzer, index);
		if (fuzzer->dmabufs[index].live) {
			close(fd);
			return;
		}
	}
	dmabuf = &fuzzer->dmabufs[index];
	dmabuf->live = true;
	dmabuf->fd = fd;
	dmabuf->block = block;
	dmabuf->imports = 0;
	fuzzer->blocks[block].dma_bufs++;
}

static int live_handles(struct fuzzer *fuzzer)
{
	int index, total = 0;

	for (index = 0; index < MAX_FDS; index++)
		if (fuzzer->fds[index].fd >= 0)
			total += fuzzer->fds[index].handle_count;
	return total;
}

static void mapping_add(struct fuzzer *fuzzer, unsigned char *address,
			size_t length, bool writable)
{
	struct mapping_model *mapping;

	if (fuzzer->mapping_count == MAX_MAPPINGS) {
		/* Full: give the oldest mapping back. */
		mapping = &fuzzer->mappings[0];
		if (munmap(mapping->address, mapping->length))
			fuzz_err(fuzzer, "munmap of a %zu-byte mapping failed: %s",
				 mapping->length, strerror(errno));
		*mapping = fuzzer->mappings[--fuzzer->mapping_count];
	}
	mapping = &fuzzer->mappings[fuzzer->mapping_count++];
	mapping->address = address;
	mapping->length = length;
	mapping->writable = writable;
}

static void file_close(struct fuzzer *fuzzer, struct fd_model *file)
{
	while (file->handle_count)
		handle_drop(fuzzer, file, &file->handles[0]);
	if (close(file->fd))
		fuzz_err(fuzzer, "close of a pool file failed: %s",
			 strerror(errno));
	file->fd = -1;
	file->stale_count = 0;
}

static bool file_open(struct fuzzer *fuzzer, struct fd_model *file, int pool,
		      bool writable)
{
	memset(file, 0, sizeof(*file));
	file->fd = open(fuzzer->pools[pool].path,
			(writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (file->fd < 0) {
		fuzz_err(fuzzer, "open of %s failed: %s",
			 fuzzer->pools[pool].path, strerror(errno));
		file->fd = -1;
		return false;
	}
	file->pool = pool;
	file->writable = writable;
	return true;
}

/* ---- argument generation -------------------------------------------- */

static void choose_name(struct fuzzer *fuzzer, char *name)
{
	static const unsigned char bad[] = {
		' ', 0x7f, 0x80, 0xff, '\t', '\n', 0x01,
	};
	struct rng *rng = &fuzzer->rng;
	int index, length;

	memset(name, 0, CMAMEM_NAME_SIZE);
	switch (rng_below(rng, 16)) {
	case 0:		/* empty */
		break;
	case 1:		/* 31 characters: the longest valid name */
		for (index = 0; index < CMAMEM_NAME_SIZE - 1; index++)
			name[index] = (char)('A' + rng_below(rng, 26));
		break;
	case 2:		/* 32 characters: no NUL at all */
		for (index = 0; index < CMAMEM_NAME_SIZE; index++)
			name[index] = (char)('a' + rng_below(rng, 26));
		break;
	case 3:		/* a byte outside 0x21..0x7e */
		snprintf(name, CMAMEM_NAME_SIZE, "fz-%u", rng_below(rng, 9));
		name[rng_below(rng, 4)] =
			(char)bad[rng_below(rng, ARRAY_LENGTH(bad))];
		break;
	case 4:		/* bytes after the NUL */
		snprintf(name, CMAMEM_NAME_SIZE, "fz-%u", rng_below(rng, 9));
		name[8 + rng_below(rng, CMAMEM_NAME_SIZE - 8)] =
			(char)(1 + rng_below(rng, 255));
		break;
	case 5:		/* random bytes */
		length = (int)rng_below(rng, CMAMEM_NAME_SIZE + 1);
		for (index = 0; index < length; index++)
			name[index] = (char)rng_next(rng);
		break;
	default:	/* a few valid names, so they collide */
		snprintf(name, CMAMEM_NAME_SIZE, "fz-%u",
			 rng_below(rng, NAME_CHOICES));
		break;
	}
}

static __u64 choose_length(struct fuzzer *fuzzer)
{
	static const __u64 edges[] = {
		0, 1, ~0ULL, ~0ULL - 1, 1ULL << 63, 1ULL << 32,
		(1ULL << 32) - 1, (1ULL << 32) + 1, 1ULL << 40, 1ULL << 47,
	};
	struct rng *rng = &fuzzer->rng;
	size_t page = fuzzer->page;

	switch (rng_below(rng, 40)) {
	case 0 ... 15:
		return (__u64)page * (1 + rng_below(rng, 4));
	case 16 ... 21:
		return 1 + rng_below(rng, (__u32)page * 16);
	case 22 ... 26:
		return (__u64)page * (5 + rng_below(rng, 60));
	case 27:
		return (1 + rng_below(rng, 4)) << 20;
	case 28 ... 29:
		return ~0ULL - rng_below(rng, (__u32)page * 2);
	case 30 ... 35:
		return edges[rng_below(rng, ARRAY_LENGTH(edges))];
	case 36:
		/* Rarely a block as large as a pool: slow under emulation. */
		if (rng_chance(rng, 8))
			return (8 + rng_below(rng, 25)) << 20;
		return page;
	default:
		return rng_next(rng) >> rng_below(rng, 64);
	}
}

static __u64 choose_alignment(struct fuzzer *fuzzer)
{
	struct rng *rng = &fuzzer->rng;
	size_t page = fuzzer->page;

	switch (rng_below(rng, 10)) {
	case 0 ... 5:
		return 0;
	case 6 ... 7:
		return (__u64)page << rng_below(rng, 6);
	case 8:
		return rng_below(rng, 2) ? page / 2 : page * 3;
	default:
		switch (rng_below(rng, 4)) {
		case 0:
			return 1ULL << 63;
		case 1:
			return ~0ULL;
		case 2:
			return 1;
		default:
			return rng_next(rng);
		}
	}
}

static __u32 choose_flags(struct fuzzer *fuzzer, __u32 valid)
{
	struct rng *rng = &fuzzer->rng;

	switch (rng_below(rng, 12)) {
	case 0:
		return 1u << rng_below(rng, 32);
	case 1:
		return (__u32)rng_next(rng);
	case 2 ... 4:
		return valid;
	default:
		return 0;
	}
}

static __u32 choose_reserved(struct fuzzer *fuzzer)
{
	return rng_chance(&fuzzer->rng, 12) ?
	       (__u32)rng_next(&fuzzer->rng) | 1 : 0;
}

static struct fd_model *random_file(struct fuzzer *fuzzer)
{
	int start = (int)rng_below(&fuzzer->rng, MAX_FDS), step;

	for (step = 0; step < MAX_FDS; step++) {
		struct fd_model *file = &fuzzer->fds[(start + step) % MAX_FDS];

		if (file->fd >= 0)
			return file;
	}
	return NULL;
}

static __u32 choose_handle(struct fuzzer *fuzzer, struct fd_model *file)
{
	struct rng *rng = &fuzzer->rng;
	struct fd_model *other;

	switch (rng_below(rng, 20)) {
	case 0 ... 9:
		if (file->handle_count)
			return file->handles[rng_below(rng,
					(__u32)file->handle_count)].id;
		return 1;
	case 10 ... 12:
		if (file->stale_count)
			return file->stale[rng_below(rng,
					file->stale_count < MAX_STALE ?
					(__u32)file->stale_count :
					MAX_STALE)];
		return 2;
	case 13 ... 14:
		other = random_file(fuzzer);
		if (other && other->handle_count)
			return other->handles[rng_below(rng,
					(__u32)other->handle_count)].id;
		return 3;
	case 15:
		return 0;
	case 16:
		return ~0u;
	case 17:
		return (__u32)rng_next(rng);
	default:
		return 1 + rng_below(rng, 64);
	}
}

/* Mostly what dma-heaps take, sometimes an access mode or bit too many. */
static __u32 choose_fd_flags(struct fuzzer *fuzzer)
{
	static const __u32 good[] = {
		O_RDWR | O_CLOEXEC, O_RDWR, O_RDONLY | O_CLOEXEC, O_RDONLY,
		O_WRONLY | O_CLOEXEC,
	};
	struct rng *rng = &fuzzer->rng;

	switch (rng_below(rng, 16)) {
	case 0:
		return O_ACCMODE;	/* not a mode, yet only O_ACCMODE bits */
	case 1:
		return O_RDWR | O_NONBLOCK;
	case 2:
		return 1u << rng_below(rng, 32);
	case 3:
		return (__u32)rng_next(rng);
	default:
		return good[rng_below(rng, ARRAY_LENGTH(good))];
	}
}

/*
 * The fd IMPORT names: mostly a dma-buf the fuzzer holds, else one it
 * closed, one never opened, a pool file (not a dma-buf) or junk.
 */
static __s32 choose_import_fd(struct fuzzer *fuzzer)
{
	struct rng *rng = &fuzzer->rng;
	int start = (int)rng_below(rng, MAX_DMABUFS), step;
	struct fd_model *file;
	__u32 kept;

	switch (rng_below(rng, 12)) {
	case 0 ... 6:
		for (step = 0; step < MAX_DMABUFS; step++) {
			struct dmabuf_model *dmabuf =
				&fuzzer->dmabufs[(start + step) % MAX_DMABUFS];

			if (dmabuf->live && dmabuf->fd >= 0)
				return dmabuf->fd;
		}
		return BAD_FD;
	case 7:
		kept = fuzzer->closed_fd_count;
		if (kept > ARRAY_LENGTH(fuzzer->closed_fds))
			kept = ARRAY_LENGTH(fuzzer->closed_fds);
		return kept ? fuzzer->closed_fds[rng_below(rng, kept)] : BAD_FD;
	case 8:
		file = random_file(fuzzer);
		return file ? file->fd : -1;
	case 9:
		return BAD_FD;
	case 10:
		return rng_below(rng, 2) ? -1 : INT32_MIN;
	default:
		return (__s32)rng_next(rng);
	}
}

/* A struct size: mostly right, sometimes short, long, huge or zero. */
static __u32 choose_size(struct fuzzer *fuzzer, size_t struct_size)
{
	struct rng *rng = &fuzzer->rng;

	switch (rng_below(rng, 30)) {
	case 0:
		return 0;
	case 1:
		return rng_below(rng, (__u32)struct_size);
	case 2:
		return (__u32)struct_size - 1 - rng_below(rng, 8);
	case 3 ... 5:
		return (__u32)struct_size + 8 * (1 + rng_below(rng, 16));
	case 6:
		return (__u32)struct_size + 1 + rng_below(rng, 4096 + 64);
	case 7:
		return rng_below(rng, 4096 + 256);
	case 8:
		return rng_below(rng, 2) ? ~0u : 1u << 31;
	case 9:
		return 4;
	default:
		return (__u32)struct_size;
	}
}

/* Fills the request buffer with a struct for @kind, valid-looking or not. */
static void build_request(struct fuzzer *fuzzer, enum command_kind kind,
			  struct fd_model *file, __u32 size)
{
	struct rng *rng = &fuzzer->rng;
	unsigned char *bytes = fuzzer->request;
	size_t struct_size = commands[kind].size, index;

	memset(bytes, 0, sizeof(fuzzer->request));
	if (rng_chance(rng, 10)) {
		/* Noise, but with the size the fuzzer chose. */
		for (index = 0; index < struct_size; index++)
			bytes[index] = (unsigned char)rng_next(rng);
		memcpy(bytes, &size, sizeof(size));
		return;
	}
	switch (kind) {
	case KIND_ALLOC: {
		struct cmamem_alloc *request = (void *)bytes;

		request->flags = choose_flags(fuzzer,
					      CMAMEM_MAP | CMAMEM_PINNABLE);
		request->length = choose_length(fuzzer);
		request->alignment = choose_alignment(fuzzer);
		request->mode = rng_chance(rng, 8) ?
				(__u32)rng_next(rng) % 6 :
				CMAMEM_MODE_COHERENT + rng_below(rng, 3);
		choose_name(fuzzer, request->name);
		request->__reserved = choose_reserved(fuzzer);
		/* Now and then a DMA address limit: 32 bits, or any. */
		if (rng_chance(rng, 8))
			request->max_dma_address = rng_chance(rng, 2) ?
						   0xffffffffULL :
						   rng_next(rng);
		if (rng_chance(rng, 6)) {
			/* Output fields are ignored on input. */
			request->handle = (__u32)rng_next(rng);
			request->mmap_offset = rng_next(rng);
			request->dma_address = rng_next(rng);
			request->user_address = rng_next(rng);
			request->out_flags = (__u32)rng_next(rng);
		}
		break;
	}
	case KIND_ATTACH: {
		struct cmamem_attach *request = (void *)bytes;

		request->flags = choose_flags(fuzzer, rng_chance(rng, 2) ?
					      CMAMEM_MAP | CMAMEM_OWNER :
					      CMAMEM_MAP);
		choose_name(fuzzer, request->name);
		request->__reserved = choose_reserved(fuzzer);
		request->__reserved2 = choose_reserved(fuzzer);
		/* Our own uid, another user's, an invalid one, or noise. */
		switch (rng_below(rng, 8)) {
		case 0:
			request->owner_uid = CMAMEM_NOBODY_ID;
			break;
		case 1:
			request->owner_uid = (__u32)-1;
			break;
		case 2:
			request->owner_uid = (__u32)rng_next(rng);
			break;
		default:
			request->owner_uid = geteuid();
			break;
		}
		if (rng_chance(rng, 6)) {
			request->handle = (__u32)rng_next(rng);
			request->length = rng_next(rng);
			request->user_address = rng_next(rng);
		}
		break;
	}
	case KIND_FREE: {
		struct cmamem_free *request = (void *)bytes;

		request->flags = choose_flags(fuzzer, 0);
		request->handle = choose_handle(fuzzer, file);
		request->__reserved = choose_reserved(fuzzer);
		break;
	}
	case KIND_SYNC: {
		struct cmamem_sync *request = (void *)bytes;
		struct handle_model *handle;
		__u64 length = 0;

		request->flags = rng_chance(rng, 5) ?
				 choose_flags(fuzzer, 3) :
				 1u + rng_below(rng, 2);
		request->handle = choose_handle(fuzzer, file);
		request->__reserved = choose_reserved(fuzzer);
		handle = handle_find(file, request->handle);
		if (handle && !handle_is_import(handle))
			length = fuzzer->blocks[handle->block].length;
		switch (rng_below(rng, 10)) {
		case 0:
			request->offset = length;
			request->length = 1;
			break;
		case 1:
			request->offset = ~0ULL - rng_below(rng, 4);
			request->length = 2 + rng_below(rng, 8);
			break;
		case 2:
			request->offset = rng_below(rng, 2);
			request->length = ~0ULL - rng_below(rng, 2);
			break;
		case 3:
			request->offset = rng_next(rng);
			request->length = rng_below(rng, 2) ? 0 :
					  rng_next(rng);
			break;
		case 4:
			request->offset = 0;
			request->length = length ? length : 1;
			break;
		default:
			if (length) {
				request->offset = rng_next(rng) % length;
				request->length = 1 + rng_next(rng) %
						  (length - request->offset);
			} else {
				request->offset = rng_below(rng, 4096);
				request->length = rng_below(rng, 4096);
			}
			break;
		}
		break;
	}
	case KIND_BLOCK_INFO: {
		struct cmamem_block_info *request = (void *)bytes;

		request->flags = choose_flags(fuzzer, 0);
		request->handle = choose_handle(fuzzer, file);
		request->__reserved = choose_reserved(fuzzer);
		if (rng_chance(rng, 6))
			memset(request->name, 'x', CMAMEM_NAME_SIZE);
		break;
	}
	case KIND_POOL_INFO: {
		struct cmamem_pool_info *request = (void *)bytes;

		request->flags = choose_flags(fuzzer, 0);
		request->__reserved = choose_reserved(fuzzer);
		if (rng_chance(rng, 6))
			request->blocks = (__u32)rng_next(rng);
		break;
	}
	case KIND_EXPORT: {
		struct cmamem_export *request = (void *)bytes;

		request->flags = choose_flags(fuzzer, 0);
		request->handle = choose_handle(fuzzer, file);
		request->fd_flags = choose_fd_flags(fuzzer);
		request->__reserved = choose_reserved(fuzzer);
		if (rng_chance(rng, 6))
			request->fd = (__u32)rng_next(rng);
		break;
	}
	case KIND_IMPORT: {
		struct cmamem_import *request = (void *)bytes;

		request->flags = choose_flags(fuzzer, 0);
		request->fd = choose_import_fd(fuzzer);
		request->__reserved = choose_reserved(fuzzer);
		if (rng_chance(rng, 6)) {
			request->handle = (__u32)rng_next(rng);
			request->length = rng_next(rng);
			request->dma_address = rng_next(rng);
		}
		break;
	}
	default:
		break;
	}
	if (rng_chance(rng, 10)) {
		/* One flipped bit anywhere after the size. */
		index = 4 + rng_below(rng, (__u32)struct_size - 4);
		bytes[index] ^= (unsigned char)(1u << rng_below(rng, 8));
	}
	memcpy(bytes, &size, sizeof(size));
	/* Bytes past the struct: zero, unless the fuzzer says otherwise. */
	if (size > struct_size && size <= REQUEST_ROOM && rng_chance(rng, 3))
		bytes[struct_size + rng_below(rng, size - (__u32)struct_size)] =
			(unsigned char)(1 + rng_below(rng, 255));
}

static bool hole_unmapped(struct fuzzer *fuzzer)
{
	unsigned char vector[4];

	return mincore(fuzzer->hole, fuzzer->page, vector) && errno == ENOMEM;
}

/*
 * Puts @needed bytes of the request somewhere, as far as they fit, and
 * says how many bytes from the pointer on the kernel can read and write.
 */
static void place_request(struct fuzzer *fuzzer, size_t needed,
			  struct placement *placement)
{
	struct rng *rng = &fuzzer->rng;
	size_t room, offset;

	memset(fuzzer->rw, 0, fuzzer->rw_length);
	placement->kind = (int)rng_below(rng, 28);
	if (placement->kind >= POINTER_KINDS)
		placement->kind = POINTER_VALID;
	if (placement->kind == POINTER_HOLE && !hole_unmapped(fuzzer))
		placement->kind = POINTER_NULL;
	placement->readable = 0;
	placement->writable = 0;

	switch (placement->kind) {
	case POINTER_VALID:
	case POINTER_MISALIGNED:
		room = needed < fuzzer->rw_length ?
		       fuzzer->rw_length - needed : 0;
		offset = rng_below(rng, (__u32)(room < 512 ? room : 512));
		offset &= ~(size_t)7;
		if (placement->kind == POINTER_MISALIGNED && room > offset + 8)
			offset += 1 + rng_below(rng, 7);
		placement->pointer = fuzzer->rw + offset;
		placement->readable = fuzzer->rw_length - offset;
		placement->writable = placement->readable;
		break;
	case POINTER_STRADDLE:
		/* Starts in the read-write pages, runs into the guard page. */
		offset = 1 + rng_below(rng, (__u32)(needed > 1 ?
						      needed - 1 : 1));
		if (offset > fuzzer->rw_length)
			offset = fuzzer->rw_length;
		placement->pointer = fuzzer->guard - offset;
		placement->readable = offset;
		placement->writable = offset;
		break;
	case POINTER_READ_ONLY:
		offset = rng_below(rng, (__u32)fuzzer->page / 2) &
			 ~(size_t)7;
		/*
		 * The kernel may read past the page into the hole after it
		 * (a long request, or the check that a huge size's tail is
		 * zero): that must fault. If something got mapped there,
		 * the request goes to the read-write pages instead.
		 */
		if (!hole_unmapped(fuzzer)) {
			placement->kind = POINTER_VALID;
			placement->pointer = fuzzer->rw;
			placement->readable = fuzzer->rw_length;
			placement->writable = fuzzer->rw_length;
			break;
		}
		placement->pointer = fuzzer->read_only + offset;
		placement->readable = fuzzer->page - offset;
		if (mprotect(fuzzer->read_only, fuzzer->page,
			     PROT_READ | PROT_WRITE))
			fuzz_err(fuzzer, "mprotect of the read-only page: %s",
				 strerror(errno));
		memset(fuzzer->read_only, 0, fuzzer->page);
		memcpy(placement->pointer, fuzzer->request,
		       needed < placement->readable ? needed :
						      placement->readable);
		if (mprotect(fuzzer->read_only, fuzzer->page, PROT_READ))
			fuzz_err(fuzzer, "mprotect of the read-only page: %s",
				 strerror(errno));
		return;
	case POINTER_NULL:
		placement->pointer = NULL;
		return;
	case POINTER_LOW:
		placement->pointer = (unsigned char *)(uintptr_t)
				     (8 * (1 + rng_below(rng, 500)));
		return;
	case POINTER_KERNEL:
		if (sizeof(void *) == 8)
			placement->pointer = (unsigned char *)(uintptr_t)
				(0xffff800000000000ULL +
				 (rng_next(rng) & 0xffffff8ULL));
		else
			placement->pointer = (unsigned char *)(uintptr_t)
				(0xfffff000u + (rng_below(rng, 512) & ~7u));
		return;
	case POINTER_HOLE:
		placement->pointer = fuzzer->hole + (rng_below(rng, 64) & ~7u);
		return;
	default:	/* POINTER_GUARD */
		placement->pointer = fuzzer->guard;
		return;
	}
	memcpy(placement->pointer, fuzzer->request,
	       needed < placement->readable ? needed : placement->readable);
}

/* ---- the oracle ----------------------------------------------------- */

struct verdict {
	bool may_succeed;
	unsigned int must_fail_with;	/* errors a failure may have */
	unsigned int resource;		/* errors even a good call may get */
};

static bool any_nonzero(const unsigned char *bytes, size_t length)
{
	size_t index;

	for (index = 0; index < length; index++)
		if (bytes[index])
			return true;
	return false;
}

static __u64 round_up_u64(__u64 value, __u64 step, bool *overflow)
{
	__u64 sum = value + step - 1;

	*overflow = sum < value;
	return sum / step * step;
}

/* What ALLOC with these fields should do; adds to @verdict. */
static void judge_alloc(struct fuzzer *fuzzer, struct fd_model *file,
			const struct cmamem_alloc *request,
			struct verdict *verdict, unsigned int *violations)
{
	const struct pool_description *pool = &fuzzer->pools[file->pool];
	__u64 alignment = request->alignment, footprint, granule, limit = 0;
	bool overflow;

	if ((request->flags & ~(__u32)(CMAMEM_MAP | CMAMEM_PINNABLE)) ||
	    request->__reserved ||
	    !request->length || request->mode < CMAMEM_MODE_COHERENT ||
	    request->mode > CMAMEM_MODE_CACHED ||
	    ((request->flags & CMAMEM_PINNABLE) &&
	     request->mode != CMAMEM_MODE_CACHED) ||
	    !name_valid(request->name) ||
	    (alignment && ((alignment & (alignment - 1)) ||
			   alignment < fuzzer->page))) {
		*violations |= ERR(EINVAL);
		return;
	}

	/* Valid arguments: what is left depends on the state. */
	if (block_by_name(fuzzer, file->pool, request->name) >= 0)
		*violations |= ERR(EEXIST);
	if (request->mode == CMAMEM_MODE_CACHED &&
	    !(pool->pool_flags & CMAMEM_POOL_CACHED))
		*violations |= ERR(EOPNOTSUPP);
	if ((request->flags & CMAMEM_MAP) && !file->writable)
		*violations |= ERR(EACCES);

	/* The limits apply to the length rounded to pages and alignment. */
	granule = alignment > fuzzer->page ? alignment : fuzzer->page;
	footprint = round_up_u64(request->length, granule, &overflow);
	if (pool->max_block_bytes)
		limit = pool->max_block_bytes;
	if ((pool->pool_flags & CMAMEM_POOL_TOTAL_KNOWN) &&
	    (!limit || pool->total_bytes < limit))
		limit = pool->total_bytes;
	if (overflow || (limit && footprint > limit)) {
		*violations |= ERR(EFBIG);
	} else if (footprint > HUGE_LENGTH) {
		/* Past any pool here, maybe past the address space too. */
		*violations |= ERR(EFBIG) | ERR(ENOMEM);
	}
	/*
	 * A refused allocation may also have met a full pool first, or a
	 * DMA address limit the pool cannot meet.
	 */
	if (*violations)
		*violations |= ERR(ENOMEM);
	if (*violations && request->max_dma_address)
		*violations |= ERR(ERANGE) | ERR(EADDRNOTAVAIL);
	verdict->resource = ERR(ENOMEM) | ERR(EMFILE);
	if (fuzzer->quota_limited)
		verdict->resource |= ERR(EDQUOT);
	/*
	 * A DMA address limit (root sees addresses, so no EPERM) may be out
	 * of the pool's reach, or its room; a block given must meet it.
	 */
	if (request->max_dma_address)
		verdict->resource |= ERR(ERANGE) | ERR(EADDRNOTAVAIL);
}

static void judge_attach(struct fuzzer *fuzzer, struct fd_model *file,
			 const struct cmamem_attach *request,
			 struct verdict *verdict, unsigned int *violations)
{
	bool own_names = !(request->flags & CMAMEM_OWNER) ||
			 request->owner_uid == geteuid();

	if ((request->flags & ~(__u32)(CMAMEM_MAP | CMAMEM_OWNER)) ||
	    request->__reserved || request->__reserved2 ||
	    !name_valid(request->name) ||
	    ((request->flags & CMAMEM_OWNER) &&
	     request->owner_uid == (__u32)-1)) {
		*violations |= ERR(EINVAL);
		return;
	}
	/*
	 * Every block of the model is the fuzzer's own (root, so it may
	 * name any owner): another user's names hold none of them.
	 */
	if (!own_names ||
	    block_by_name(fuzzer, file->pool, request->name) < 0)
		*violations |= ERR(ENOENT);
	if ((request->flags & CMAMEM_MAP) && !file->writable)
		*violations |= ERR(EACCES);
	verdict->resource = ERR(ENOMEM) | ERR(EMFILE);
	if (fuzzer->quota_limited)
		verdict->resource |= ERR(EDQUOT);
	if (*violations)
		*violations |= ERR(ENOMEM);
}

static void judge_sync(struct fuzzer *fuzzer, struct fd_model *file,
		       const struct cmamem_sync *request,
		       unsigned int *violations)
{
	struct handle_model *handle = handle_find(file, request->handle);

	if ((request->flags != CMAMEM_SYNC_FOR_CPU &&
	     request->flags != CMAMEM_SYNC_FOR_DEVICE) ||
	    request->__reserved || !request->length)
		*violations |= ERR(EINVAL);
	if (!handle) {
		*violations |= ERR(ENOENT);
	} else if (handle_is_import(handle)) {
		*violations |= ERR(EINVAL);
	} else {
		__u64 length = fuzzer->blocks[handle->block].length;

		if (request->offset > length ||
		    request->length > length - request->offset)
			*violations |= ERR(EINVAL);
	}
}

static void judge_export(struct fuzzer *fuzzer, struct fd_model *file,
			 const struct cmamem_export *request,
			 struct verdict *verdict, unsigned int *violations)
{
	struct handle_model *handle = handle_find(file, request->handle);
	__u32 access = request->fd_flags & O_ACCMODE;

	if (request->flags || request->__reserved ||
	    (request->fd_flags & ~(__u32)(O_CLOEXEC | O_ACCMODE)))
		*violations |= ERR(EINVAL);
	/* Pool files are always open for reading. */
	if (access != O_RDONLY && !file->writable)
		*violations |= ERR(EACCES);
	if (!handle)
		*violations |= ERR(ENOENT);
	else if (handle_is_import(handle))
		*violations |= ERR(EINVAL);
	else if (fuzzer->pools[file->pool].pool_flags & CMAMEM_POOL_CARVEOUT)
		*violations |= ERR(EOPNOTSUPP);
	verdict->resource = ERR(EMFILE) | ERR(ENFILE) | ERR(ENOMEM);
}

/*
 * The reply where the request was: as much of the struct as can be read
 * there (a request that ends next to a guard page succeeds with a size
 * short of this program's struct), the rest zero.
 */
static void copy_reply(void *reply, size_t size,
		       const struct placement *placement)
{
	memset(reply, 0, size);
	memcpy(reply, placement->pointer,
	       size < placement->readable ? size : placement->readable);
}

static bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

/*
 * IMPORT takes its handle number before it looks at the fd, so a bad fd
 * may also meet a full file first.
 */
static void judge_import(struct fuzzer *fuzzer,
			 const struct cmamem_import *request,
			 struct verdict *verdict, unsigned int *violations)
{
	if (request->flags || request->__reserved) {
		*violations |= ERR(EINVAL);
		return;
	}
	if (dmabuf_by_fd(fuzzer, request->fd) < 0)
		*violations |= (fd_open(request->fd) ? ERR(EINVAL) :
						       ERR(EBADF)) |
			       ERR(EMFILE) | ERR(ENOMEM);
	verdict->resource = ERR(EMFILE) | ERR(ENOMEM);
}

/*
 * The struct size of the first release: smaller is EINVAL, and anything
 * from here up is read as far as the kernel's struct reaches.
 */
static size_t first_release_size(enum command_kind kind)
{
	switch (kind) {
	case KIND_POOL_INFO:
		return offsetof(struct cmamem_pool_info, largest_free_bytes);
	case KIND_ALLOC:
		return offsetof(struct cmamem_alloc, max_dma_address);
	case KIND_ATTACH:
		return offsetof(struct cmamem_attach, owner_uid);
	default:
		return commands[kind].size;
	}
}

/*
 * Works out what the kernel must do with the request at @placement, as
 * the uapi describes it, from the bytes the kernel can see there.
 */
static void judge_request(struct fuzzer *fuzzer, enum command_kind kind,
			  struct fd_model *file,
			  const struct placement *placement,
			  struct verdict *verdict)
{
	size_t struct_size = commands[kind].size, reach;
	unsigned char view[REQUEST_ROOM];
	unsigned int violations = 0;
	__u32 size;

	verdict->may_succeed = false;
	verdict->resource = 0;
	if (placement->readable < sizeof(size)) {
		verdict->must_fail_with = ERR(EFAULT);
		return;
	}
	memcpy(&size, placement->pointer, sizeof(size));
	if (size > CMAMEM_STRUCT_SIZE_MAX) {
		/* Refused before another byte is read. */
		verdict->must_fail_with = ERR(E2BIG);
		return;
	}
	reach = size < struct_size ? size : struct_size;
	if (size < first_release_size(kind))
		violations |= ERR(EINVAL);
	if (placement->readable < reach)
		violations |= ERR(EFAULT);
	if (size > struct_size) {
		size_t readable_tail = placement->readable > struct_size ?
				       placement->readable - struct_size : 0;
		size_t tail = size - struct_size;

		if (readable_tail > tail)
			readable_tail = tail;
		if (any_nonzero(placement->pointer + struct_size,
				readable_tail))
			violations |= ERR(E2BIG);
		if (readable_tail < tail)
			violations |= ERR(EFAULT);
	}
	if (commands[kind].has_output && placement->writable < reach)
		violations |= ERR(EFAULT);

	if (size >= first_release_size(kind) && placement->readable >= reach) {
		/* The kernel reads @reach bytes and zeroes the rest. */
		memset(view, 0, struct_size);
		memcpy(view, placement->pointer, reach);
		switch (kind) {
		case KIND_ALLOC:
			judge_alloc(fuzzer, file, (void *)view, verdict,
				    &violations);
			break;
		case KIND_ATTACH:
			judge_attach(fuzzer, file, (void *)view, verdict,
				     &violations);
			break;
		case KIND_FREE: {
			const struct cmamem_free *request = (void *)view;

			if (request->flags || request->__reserved)
				violations |= ERR(EINVAL);
			if (!handle_find(file, request->handle))
				violations |= ERR(ENOENT);
			break;
		}
		case KIND_SYNC:
			judge_sync(fuzzer, file, (void *)view, &violations);
			break;
		case KIND_BLOCK_INFO: {
			const struct cmamem_block_info *request = (void *)view;
			struct handle_model *handle =
				handle_find(file, request->handle);

			if (request->flags || request->__reserved)
				violations |= ERR(EINVAL);
			if (!handle)
				violations |= ERR(ENOENT);
			else if (handle_is_import(handle))
				violations |= ERR(EINVAL);
			break;
		}
		case KIND_POOL_INFO: {
			const struct cmamem_pool_info *request = (void *)view;

			if (request->flags || request->__reserved)
				violations |= ERR(EINVAL);
			break;
		}
		case KIND_EXPORT:
			judge_export(fuzzer, file, (void *)view, verdict,
				     &violations);
			break;
		case KIND_IMPORT:
			judge_import(fuzzer, (void *)view, verdict,
				     &violations);
			break;
		default:
			break;
		}
	}
	verdict->may_succeed = !violations;
	verdict->must_fail_with = violations;
}

/* ---- checking results ---------------------------------------------- */

static void check_alloc_reply(struct fuzzer *fuzzer, struct fd_model *file,
			      const struct cmamem_alloc *request,
			      __u64 asked_length)
{
	size_t page = fuzzer->page;
	__u64 alignment = request->alignment ? request->alignment : page;
	struct block_model *block;
	bool overflow;
	int index;

	if (!request->handle || handle_find(file, request->handle))
		fuzz_err(fuzzer, "ALLOC returned handle %u, which is 0 or already in use",
			 request->handle);
	if (request->size >= sizeof(*request) && request->max_dma_address &&
	    request->dma_address + (request->length - 1) >
	    request->max_dma_address)
		fuzz_err(fuzzer, "ALLOC gave a block at %#llx, past the limit %#llx",
			 (unsigned long long)request->dma_address,
			 (unsigned long long)request->max_dma_address);
	if (request->length != round_up_u64(asked_length, page, &overflow) ||
	    !request->mmap_offset || request->mmap_offset % page ||
	    !(request->flags & CMAMEM_MAP) != !request->user_address ||
	    (request->out_flags & CMAMEM_ADDRESS_WITHHELD) ||
	    request->dma_address % alignment)
		fuzz_err(fuzzer,
			 "ALLOC reply: length %llu mmap_offset %#llx user_address %#llx out_flags %#x dma %#llx (alignment %llu)",
			 (unsigned long long)request->length,
			 (unsigned long long)request->mmap_offset,
			 (unsigned long long)request->user_address,
			 request->out_flags,
			 (unsigned long long)request->dma_address,
			 (unsigned long long)alignment);
	/* The offset range must not overlap another handle's. */
	for (index = 0; index < file->handle_count; index++) {
		struct handle_model *other = &file->handles[index];
		__u64 other_length;

		if (handle_is_import(other))
			continue;
		other_length = fuzzer->blocks[other->block].length;
		if (request->mmap_offset < other->mmap_offset + other_length &&
		    other->mmap_offset < request->mmap_offset +
					 request->length)
			fuzz_err(fuzzer,
				 "ALLOC mmap_offset %#llx+%llu overlaps handle %u at %#llx+%llu",
				 (unsigned long long)request->mmap_offset,
				 (unsigned long long)request->length, other->id,
				 (unsigned long long)other->mmap_offset,
				 (unsigned long long)other_length);
	}

	index = block_new(fuzzer);
	if (index < 0 || file->handle_count >= MAX_HANDLES) {
		fuzz_err(fuzzer, "the model is full");
		return;
	}
	block = &fuzzer->blocks[index];
	memset(block, 0, sizeof(*block));
	block->live = true;
	block->pool = file->pool;
	memcpy(block->name, request->name, CMAMEM_NAME_SIZE);
	block->length = request->length;
	block->alignment = request->alignment;
	block->mode = request->mode;
	block->dma_address = request->dma_address;
	block->pattern = name_pattern(block->name, fuzzer->shared->blocks_made++);
	handle_add(fuzzer, file, request->handle, index, request->mmap_offset);
}

/* Writes and reads back the first and last word of a known mapping. */
/* Accesses the compiler must make: reaching the memory is the point. */
static void poke(__u32 *address, __u32 value)
{
	__atomic_store_n(address, value, __ATOMIC_RELAXED);
}

static __u32 peek(const __u32 *address)
{
	return __atomic_load_n(address, __ATOMIC_RELAXED);
}

static void touch_mapping(struct fuzzer *fuzzer, __u64 user_address,
			  size_t length, __u32 pattern)
{
	__u32 *first = (__u32 *)(uintptr_t)user_address;
	__u32 *last = first + length / sizeof(__u32) - 1;

	poke(first, pattern);
	poke(last, ~pattern);
	if (peek(first) != pattern || peek(last) != ~pattern)
		fuzz_err(fuzzer, "the CMAMEM_MAP mapping at %#llx does not read back",
			 (unsigned long long)user_address);
	mapping_add(fuzzer, (unsigned char *)(uintptr_t)user_address, length,
		    true);
}

static void check_attach_reply(struct fuzzer *fuzzer, struct fd_model *file,
			       const struct cmamem_attach *request)
{
	int index = block_by_name(fuzzer, file->pool, request->name);
	struct block_model *block;

	if (index < 0) {
		fuzz_err(fuzzer, "ATTACH found a name the model does not have");
		return;
	}
	block = &fuzzer->blocks[index];
	if (!request->handle || handle_find(file, request->handle))
		fuzz_err(fuzzer, "ATTACH returned handle %u, which is 0 or already in use",
			 request->handle);
	/* Written only as far as the caller's size reaches. */
	if (request->size >= offsetof(struct cmamem_attach, __reserved2) &&
	    request->owner_uid != geteuid())
		fuzz_err(fuzzer, "ATTACH reply: owner %u, not the fuzzer's uid",
			 request->owner_uid);
	if (request->length != block->length || request->mode != block->mode ||
	    !request->mmap_offset || request->mmap_offset % fuzzer->page ||
	    !(request->flags & CMAMEM_MAP) != !request->user_address)
		fuzz_err(fuzzer,
			 "ATTACH reply: length %llu (block %llu) mode %u (block %u) mmap_offset %#llx user_address %#llx",
			 (unsigned long long)request->length,
			 (unsigned long long)block->length, request->mode,
			 block->mode, (unsigned long long)request->mmap_offset,
			 (unsigned long long)request->user_address);
	if (file->handle_count >= MAX_HANDLES) {
		fuzz_err(fuzzer, "the model is full");
		return;
	}
	handle_add(fuzzer, file, request->handle, index, request->mmap_offset);
}

static void check_block_info(struct fuzzer *fuzzer, struct fd_model *file,
			     const struct cmamem_block_info *reply)
{
	struct handle_model *handle = handle_find(file, reply->handle);
	struct block_model *block;

	if (!handle || handle_is_import(handle))
		return;
	block = &fuzzer->blocks[handle->block];
	/* Alignment 0 means one page; either may be reported for it. */
	if (reply->length != block->length || reply->mode != block->mode ||
	    (reply->alignment != block->alignment &&
	     !(!block->alignment && reply->alignment == fuzzer->page)) ||
	    reply->mmap_offset != handle->mmap_offset ||
	    reply->handles != block->handles ||
	    reply->dma_bufs != block->dma_bufs ||
	    memcmp(reply->name, block->name, CMAMEM_NAME_SIZE) ||
	    strncmp(reply->pool, fuzzer->pools[block->pool].name,
		    CMAMEM_NAME_SIZE))
		fuzz_err(fuzzer,
			 "BLOCK_INFO of handle %u: length %llu/%llu mode %u/%u alignment %llu/%llu offset %#llx/%#llx handles %u/%u dma_bufs %u/%u name '%.32s'/'%.32s' pool '%.32s'",
			 reply->handle, (unsigned long long)reply->length,
			 (unsigned long long)block->length, reply->mode,
			 block->mode, (unsigned long long)reply->alignment,
			 (unsigned long long)block->alignment,
			 (unsigned long long)reply->mmap_offset,
			 (unsigned long long)handle->mmap_offset,
			 reply->handles, block->handles, reply->dma_bufs,
			 block->dma_bufs, reply->name, block->name,
			 reply->pool);
}

static void check_pool_info(struct fuzzer *fuzzer, struct fd_model *file,
			    const struct cmamem_pool_info *reply)
{
	const struct pool_description *pool = &fuzzer->pools[file->pool];
	unsigned int blocks = 0;
	int index;

	for (index = 0; index < MAX_BLOCKS; index++)
		if (fuzzer->blocks[index].live &&
		    fuzzer->blocks[index].pool == file->pool)
			blocks++;
	/* Mappings keep freed blocks alive, so only a lower bound. */
	if (reply->page_size != fuzzer->page || reply->blocks < blocks ||
	    reply->pool_flags != pool->pool_flags ||
	    strncmp(reply->name, pool->name, CMAMEM_NAME_SIZE))
		fuzz_err(fuzzer,
			 "POOL_INFO of %s: page_size %u blocks %u (model at least %u) flags %#x/%#x name '%.32s'",
			 pool->name, reply->page_size, reply->blocks, blocks,
			 reply->pool_flags, pool->pool_flags, reply->name);
}

/*
 * The new fd must be the lowest free one (@expected_fd), a dma-buf of the
 * whole block, with the close-on-exec flag and access mode asked for.
 */
static void check_export_reply(struct fuzzer *fuzzer, struct fd_model *file,
			       const struct cmamem_export *reply,
			       int expected_fd)
{
	struct handle_model *handle = handle_find(file, reply->handle);
	int fd = (int)reply->fd, fd_flags = fcntl(fd, F_GETFD);
	int status_flags = fcntl(fd, F_GETFL);
	struct block_model *block;

	fuzzer->shared->dmabufs_made++;
	if (fd != expected_fd)
		fuzz_err(fuzzer, "EXPORT returned fd %d; the lowest free fd was %d",
			 fd, expected_fd);
	if (fd_flags < 0) {
		fuzz_err(fuzzer, "the fd EXPORT returned is not open");
		return;
	}
	if (!handle || handle_is_import(handle)) {
		fuzz_err(fuzzer, "EXPORT of handle %u the model has no block for",
			 reply->handle);
		close(fd);
		return;
	}
	block = &fuzzer->blocks[handle->block];
	if (!(fd_flags & FD_CLOEXEC) != !(reply->fd_flags & O_CLOEXEC) ||
	    (status_flags & O_ACCMODE) != (int)(reply->fd_flags & O_ACCMODE) ||
	    lseek(fd, 0, SEEK_END) != (off_t)block->length)
		fuzz_err(fuzzer,
			 "EXPORT fd %d: FD_CLOEXEC %d, access mode %d, size %lld; asked fd_flags %#x of a %llu-byte block",
			 fd, !!(fd_flags & FD_CLOEXEC), status_flags & O_ACCMODE,
			 (long long)lseek(fd, 0, SEEK_END), reply->fd_flags,
			 (unsigned long long)block->length);
	dmabuf_add(fuzzer, fd, handle->block);
}

static void check_import_reply(struct fuzzer *fuzzer, struct fd_model *file,
			       const struct cmamem_import *reply)
{
	int index = dmabuf_by_fd(fuzzer, reply->fd);
	struct block_model *block;

	if (index < 0) {
		fuzz_err(fuzzer, "IMPORT of fd %d, not a dma-buf the model has, succeeded",
			 reply->fd);
		return;
	}
	block = &fuzzer->blocks[fuzzer->dmabufs[index].block];
	if (!reply->handle || handle_find(file, reply->handle))
		fuzz_err(fuzzer, "IMPORT returned handle %u, which is 0 or already in use",
			 reply->handle);
	/* The pool's own device sees a block where its ALLOC said. */
	if (reply->length != block->length || reply->out_flags ||
	    (block->pool == file->pool &&
	     reply->dma_address != block->dma_address))
		fuzz_err(fuzzer,
			 "IMPORT reply: length %llu (block %llu) out_flags %#x dma %#llx (block %#llx in pool %s)",
			 (unsigned long long)reply->length,
			 (unsigned long long)block->length, reply->out_flags,
			 (unsigned long long)reply->dma_address,
			 (unsigned long long)block->dma_address,
			 fuzzer->pools[block->pool].name);
	if (file->handle_count >= MAX_HANDLES) {
		fuzz_err(fuzzer, "the model is full");
		return;
	}
	import_add(fuzzer, file, reply->handle, index);
}

static void record(struct fuzzer *fuzzer, enum command_kind kind, int result)
{
	struct fuzz_shared *shared = fuzzer->shared;

	shared->by_kind[kind]++;
	if (!result)
		shared->successes[kind]++;
	else
		shared->errors[kind][errno_bit(-result)]++;
}

/* ---- one ioctl ------------------------------------------------------ */

static unsigned long foreign_command(struct fuzzer *fuzzer)
{
	/* Types that the VFS or the compat layer handle themselves. */
	static const unsigned int vfs_types[] = { 0x00, 0x15, 'T', 'X', 'f',
						  0x94 };
	struct rng *rng = &fuzzer->rng;
	unsigned int type, nr, direction, size, index;
	unsigned long command;

	for (;;) {
		direction = rng_below(rng, 4);
		size = rng_below(rng, 1u << _IOC_SIZEBITS);
		nr = rng_below(rng, 256);
		switch (rng_below(rng, 6)) {
		case 0:		/* cmamem's numbers with other bits */
			type = CMAMEM_TYPE;
			nr = CMAMEM_CMD_BASE +
			     rng_below(rng, CMAMEM_CMD_IMPORT -
					    CMAMEM_CMD_BASE + 1);
			break;
		case 1:		/* neighbours of cmamem's numbers */
			type = CMAMEM_TYPE;
			nr = rng_below(rng, 2) ? CMAMEM_CMD_BASE - 1 -
						 rng_below(rng, 4) :
						 CMAMEM_CMD_IMPORT + 1 +
						 rng_below(rng, 4);
			if (rng_below(rng, 2)) {
				direction = 0;
				size = 0;
			}
			break;
		case 2:		/* the cma_mem legacy commands */
			type = 'm';
			nr = 4 + rng_below(rng, 2);
			direction = _IOC_WRITE;
			size = sizeof(unsigned int);
			break;
		case 3:
			type = CMAMEM_TYPE;
			break;
		default:
			type = rng_below(rng, 256);
			break;
		}
		for (index = 0; index < ARRAY_LENGTH(vfs_types); index++)
			if (type == vfs_types[index])
				break;
		if (index < ARRAY_LENGTH(vfs_types))
			continue;
		command = _IOC(direction, type, nr, size);
		for (index = 0; index < KIND_FOREIGN; index++)
			if (command == commands[index].command)
				break;
		if (index == KIND_FOREIGN)
			return command;
	}
}

static void fuzz_ioctl(struct fuzzer *fuzzer)
{
	struct rng *rng = &fuzzer->rng;
	struct cmamem_pool_info before, after;
	struct placement placement;
	struct verdict verdict;
	enum command_kind kind;
	struct fd_model *file;
	unsigned long command;
	char allowed[160];
	bool bracket, makes_fd;
	int result, free_fd = -1;
	__u32 size;

	file = random_file(fuzzer);
	if (!file)
		return;
	switch (rng_below(rng, 100)) {
	case 0 ... 21:
		kind = KIND_ALLOC;
		break;
	case 22 ... 34:
		kind = KIND_ATTACH;
		break;
	case 35 ... 51:
		kind = KIND_FREE;
		break;
	case 52 ... 62:
		kind = KIND_SYNC;
		break;
	case 63 ... 71:
		kind = KIND_BLOCK_INFO;
		break;
	case 72 ... 78:
		kind = KIND_POOL_INFO;
		break;
	case 79 ... 85:
		kind = KIND_EXPORT;
		break;
	case 86 ... 91:
		kind = KIND_IMPORT;
		break;
	default:
		kind = KIND_FOREIGN;
		break;
	}
	/* Keep the amount of memory held in check. */
	if (kind == KIND_ALLOC && (live_bytes(fuzzer) > MAX_LIVE_BYTES ||
				   file->handle_count >= MAX_HANDLES - 1 ||
				   live_handles(fuzzer) >= MAX_BLOCKS - 4))
		kind = KIND_FREE;
	if ((kind == KIND_ATTACH || kind == KIND_IMPORT) &&
	    file->handle_count >= MAX_HANDLES - 1)
		kind = KIND_FREE;

	if (kind == KIND_FOREIGN) {
		command = foreign_command(fuzzer);
		size = (__u32)rng_below(rng, 256);
		memset(fuzzer->request, 0, sizeof(fuzzer->request));
		memcpy(fuzzer->request, &size, sizeof(size));
		place_request(fuzzer, 64, &placement);
	} else {
		command = commands[kind].command;
		size = choose_size(fuzzer, commands[kind].size);
		build_request(fuzzer, kind, file, size);
		place_request(fuzzer, size > REQUEST_ROOM ? REQUEST_ROOM :
				      (size > commands[kind].size ? size :
						commands[kind].size),
			      &placement);
	}
	fuzzer->shared->pointer_kinds[placement.kind]++;
	snprintf(fuzzer->what, sizeof(fuzzer->what),
		 "%s (cmd %#lx) on %s fd %d (%s), size %u, pointer %p kind %d (readable %zu, writable %zu)",
		 commands[kind].name, command, fuzzer->pools[file->pool].name,
		 file->fd, file->writable ? "rw" : "ro", size,
		 (void *)placement.pointer, placement.kind,
		 placement.readable, placement.writable);
	snprintf(fuzzer->shared->last, sizeof(fuzzer->shared->last), "%s",
		 fuzzer->what);

	if (kind == KIND_FOREIGN) {
		result = ioctl(file->fd, command, placement.pointer) ? -errno :
								       0;
		fuzzer->shared->calls++;
		record(fuzzer, kind, result);
		if (result != -ENOTTY)
			fuzz_err(fuzzer, "a command that is not cmamem's gave %s, not ENOTTY",
				 result ? strerror(-result) : "success");
		return;
	}

	judge_request(fuzzer, kind, file, &placement, &verdict);
	bracket = kind == KIND_ALLOC || kind == KIND_ATTACH;
	if (bracket && cmamem_pool_info(file->fd, &before))
		fuzz_err(fuzzer, "POOL_INFO before the call failed");
	makes_fd = kind == KIND_EXPORT || kind == KIND_IMPORT;
	if (makes_fd)
		free_fd = cmamem_lowest_free_fd();
	result = ioctl(file->fd, command, placement.pointer) ? -errno : 0;
	fuzzer->shared->calls++;
	record(fuzzer, kind, result);

	if (result && !(commands[kind].documented & (1u << errno_bit(-result))))
		fuzz_err(fuzzer, "%s failed with %s, which it does not document",
			 commands[kind].name, strerror(-result));
	if (!result && !verdict.may_succeed) {
		describe_errors(verdict.must_fail_with, allowed,
				sizeof(allowed));
		fuzz_err(fuzzer, "%s succeeded but must fail with %s",
			 commands[kind].name, allowed);
	} else if (result && verdict.may_succeed &&
		   !(verdict.resource & (1u << errno_bit(-result)))) {
		fuzz_err(fuzzer, "%s of a valid request failed: %s",
			 commands[kind].name, strerror(-result));
	} else if (result && !verdict.may_succeed &&
		   !(verdict.must_fail_with & (1u << errno_bit(-result)))) {
		describe_errors(verdict.must_fail_with, allowed,
				sizeof(allowed));
		fuzz_err(fuzzer, "%s failed with %s; expected %s",
			 commands[kind].name, strerror(-result), allowed);
	}

	if (bracket && result) {
		/* A refused ALLOC or ATTACH leaves the pool as it was. */
		if (cmamem_pool_info(file->fd, &after))
			fuzz_err(fuzzer, "POOL_INFO after the call failed");
		else if (after.blocks != before.blocks ||
			 after.used_bytes != before.used_bytes)
			fuzz_err(fuzzer,
				 "failed %s changed the pool: blocks %u -> %u, used %llu -> %llu",
				 commands[kind].name, before.blocks,
				 after.blocks,
				 (unsigned long long)before.used_bytes,
				 (unsigned long long)after.used_bytes);
	}
	/* Only a successful EXPORT may leave a new fd. */
	if (makes_fd && (result || kind == KIND_IMPORT) &&
	    cmamem_lowest_free_fd() != free_fd)
		fuzz_err(fuzzer, "%s %s left fd %d open",
			 commands[kind].name,
			 result ? "that failed" : "that succeeded",
			 free_fd);
	if (result)
		return;

	/* Success: the reply is where the request was. */
	switch (kind) {
	case KIND_ALLOC: {
		struct cmamem_alloc reply;

		copy_reply(&reply, sizeof(reply), &placement);
		if (cmamem_pool_info(file->fd, &after))
			fuzz_err(fuzzer, "POOL_INFO after ALLOC failed");
		else if (after.blocks != before.blocks + 1 ||
			 after.used_bytes < before.used_bytes + reply.length)
			fuzz_err(fuzzer,
				 "ALLOC of %llu bytes: pool blocks %u -> %u, used %llu -> %llu",
				 (unsigned long long)reply.length,
				 before.blocks, after.blocks,
				 (unsigned long long)before.used_bytes,
				 (unsigned long long)after.used_bytes);
		check_alloc_reply(fuzzer, file, &reply,
				  ((struct cmamem_alloc *)fuzzer->request)->length);
		if (reply.user_address)
			touch_mapping(fuzzer, reply.user_address,
				      (size_t)reply.length,
				      (__u32)rng_next(rng));
		break;
	}
	case KIND_ATTACH: {
		struct cmamem_attach reply;

		copy_reply(&reply, sizeof(reply), &placement);
		if (cmamem_pool_info(file->fd, &after))
			fuzz_err(fuzzer, "POOL_INFO after ATTACH failed");
		else if (after.blocks != before.blocks ||
			 after.used_bytes != before.used_bytes)
			fuzz_err(fuzzer, "ATTACH changed the pool: blocks %u -> %u",
				 before.blocks, after.blocks);
		check_attach_reply(fuzzer, file, &reply);
		if (reply.user_address)
			touch_mapping(fuzzer, reply.user_address,
				      (size_t)reply.length,
				      (__u32)rng_next(rng));
		break;
	}
	case KIND_FREE: {
		struct cmamem_free reply;
		struct handle_model *handle;

		copy_reply(&reply, sizeof(reply), &placement);
		handle = handle_find(file, reply.handle);
		if (handle)
			handle_drop(fuzzer, file, handle);
		break;
	}
	case KIND_BLOCK_INFO: {
		struct cmamem_block_info reply;

		copy_reply(&reply, sizeof(reply), &placement);
		check_block_info(fuzzer, file, &reply);
		break;
	}
	case KIND_POOL_INFO: {
		struct cmamem_pool_info reply = { 0 };
		__u32 size;

		/* A struct of the first release's size succeeds too. */
		memcpy(&size, placement.pointer, sizeof(size));
		memcpy(&reply, placement.pointer,
		       size < sizeof(reply) ? size : sizeof(reply));
		check_pool_info(fuzzer, file, &reply);
		break;
	}
	case KIND_EXPORT: {
		struct cmamem_export reply;

		copy_reply(&reply, sizeof(reply), &placement);
		check_export_reply(fuzzer, file, &reply, free_fd);
		break;
	}
	case KIND_IMPORT: {
		struct cmamem_import reply;

		copy_reply(&reply, sizeof(reply), &placement);
		check_import_reply(fuzzer, file, &reply);
		break;
	}
	default:
		break;
	}
}

/* ---- memory-management calls on the pool files ----------------------- */

/* A fresh PROT_NONE reservation to put a MAP_FIXED mapping in. */
static unsigned char *reserve(size_t length)
{
	void *address = mmap(NULL, length, PROT_NONE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
			     0);

	return address == MAP_FAILED ? NULL : address;
}

/* Does [offset, offset + length) lie inside a block @file holds? */
static bool range_in_handle(struct fuzzer *fuzzer, struct fd_model *file,
			    __u64 offset, __u64 length)
{
	int index;

	for (index = 0; index < file->handle_count; index++) {
		struct handle_model *handle = &file->handles[index];
		__u64 block_length;

		if (handle_is_import(handle))
			continue;	/* no mmap offset */
		block_length = fuzzer->blocks[handle->block].length;
		if (offset >= handle->mmap_offset &&
		    offset - handle->mmap_offset <= block_length &&
		    length <= block_length -
			      (offset - handle->mmap_offset))
			return true;
	}
	return false;
}

static void fuzz_mmap(struct fuzzer *fuzzer)
{
	static const int extra_flags[] = {
		MAP_POPULATE, MAP_LOCKED, MAP_NORESERVE, MAP_NONBLOCK,
		MAP_GROWSDOWN, MAP_HUGETLB, MAP_SYNC, UNKNOWN_MAP_FLAG,
	};
	struct rng *rng = &fuzzer->rng;
	size_t page = fuzzer->page, length;
	unsigned int must = 0, resource = ERR(ENOMEM);
	struct handle_model *handle = NULL;
	unsigned char *hint = NULL, *reservation = NULL;
	struct fd_model *file = random_file(fuzzer);
	int fd, prot, flags, type, result, index;
	char allowed[160];
	__u64 offset;
	void *address;

	if (!file)
		return;
	fd = rng_chance(rng, 30) ? BAD_FD : file->fd;
	if (file->handle_count)
		handle = &file->handles[rng_below(rng,
					(__u32)file->handle_count)];

	/* Offset. */
	switch (rng_below(rng, 10)) {
	case 0:
		offset = 0;
		break;
	case 1:
		offset = rng_next(rng) & ~(__u64)(page - 1);
		break;
	case 2:
		offset = (handle ? handle->mmap_offset : 0) +
			 1 + rng_below(rng, (__u32)page - 1);
		break;
	case 3: {
		struct fd_model *other = random_file(fuzzer);

		offset = other && other->handle_count ?
			 other->handles[0].mmap_offset : page;
		break;
	}
	default:
		offset = page;
		if (handle && !handle_is_import(handle)) {
			__u64 pages = fuzzer->blocks[handle->block].length /
				      page;

			/* Inside the block, or just past its end. */
			offset = handle->mmap_offset +
				 (__u64)page * rng_below(rng, (__u32)pages + 1);
		}
		break;
	}
	/* Length. */
	switch (rng_below(rng, 12)) {
	case 0:
		length = 0;
		break;
	case 1:
		length = 1 + rng_below(rng, (__u32)page - 1);
		break;
	case 2:
		length = rng_below(rng, 2) ? SIZE_MAX - rng_below(rng, 4) :
					     SIZE_MAX / 2 + 1;
		break;
	default:
		length = page * (1 + rng_below(rng, 8));
		break;
	}
	/* Protection. */
	switch (rng_below(rng, 12)) {
	case 0:
		prot = PROT_READ;
		break;
	case 1:
		prot = PROT_READ | PROT_WRITE | PROT_EXEC;
		break;
	case 2:
		prot = PROT_READ | PROT_EXEC;
		break;
	case 3:
		prot = PROT_EXEC;
		break;
	case 4:
		prot = PROT_NONE;
		break;
	case 5:
		prot = PROT_WRITE;
		break;
	default:
		prot = PROT_READ | PROT_WRITE;
		break;
	}
	/* Flags. */
	switch (rng_below(rng, 14)) {
	case 0:
		type = MAP_PRIVATE;
		break;
	case 1:
		type = MAP_SHARED_VALIDATE;
		break;
	case 2:
		type = 0;
		break;
	case 3:
		type = MAP_SHARED | MAP_PRIVATE;
		break;
	default:
		type = MAP_SHARED;
		break;
	}
	flags = type;
	if (rng_chance(rng, 4))
		flags |= extra_flags[rng_below(rng,
					       ARRAY_LENGTH(extra_flags))];
	if (rng_chance(rng, 10) && length && length <= page * 8) {
		reservation = reserve(length);
		if (reservation) {
			hint = reservation;
			flags |= MAP_FIXED;
		}
	} else if (rng_chance(rng, 20) && fuzzer->mapping_count) {
		/* Onto a mapping we have: must be refused. */
		hint = fuzzer->mappings[0].address;
		flags |= MAP_FIXED_NOREPLACE;
		must |= ERR(EEXIST);
	}

	/* What the kernel must make of it. */
	if (fd == BAD_FD)
		must |= ERR(EBADF);
	if (!length)
		must |= ERR(EINVAL);
	if (length > SIZE_MAX - page)
		must |= ERR(ENOMEM);
	if (type != MAP_SHARED && type != MAP_PRIVATE &&
	    type != MAP_SHARED_VALIDATE)
		must |= ERR(EINVAL);
	if (type == MAP_SHARED_VALIDATE &&
	    (flags & (MAP_SYNC | UNKNOWN_MAP_FLAG)))
		must |= ERR(EOPNOTSUPP);
	if (flags & (MAP_HUGETLB | MAP_GROWSDOWN))
		must |= ERR(EINVAL);
	if (offset % page || (sizeof(long) == 4 && offset >= (1ULL << 44)))
		must |= ERR(EINVAL);
	if (offset / page + (length / page + 1) < offset / page ||
	    offset > (~0ULL >> 1))
		must |= ERR(EOVERFLOW) | ERR(EINVAL) | ERR(ENXIO);
	if ((prot & PROT_WRITE) && type != MAP_PRIVATE && !file->writable)
		must |= ERR(EACCES);
	if (prot & PROT_EXEC)
		must |= ERR(EPERM);
	if (type == MAP_PRIVATE)
		must |= ERR(EINVAL);
	if (!length || !range_in_handle(fuzzer, file, offset,
					(length + page - 1) / page * page))
		must |= ERR(ENXIO);
	if (flags & MAP_LOCKED)
		resource |= ERR(EAGAIN);

	snprintf(fuzzer->what, sizeof(fuzzer->what),
		 "mmap(%p, %zu, prot %#x, flags %#x, fd %d (%s), offset %#llx)",
		 (void *)hint, length, prot, flags, fd,
		 file->writable ? "rw" : "ro", (unsigned long long)offset);
	snprintf(fuzzer->shared->last, sizeof(fuzzer->shared->last), "%s",
		 fuzzer->what);
	address = mmap(hint, length, prot, flags, fd, (off_t)offset);
	result = address == MAP_FAILED ? -errno : 0;
	fuzzer->shared->mm[MM_MMAP]++;
	if (!result) {
		fuzzer->shared->mm_successes[MM_MMAP]++;
		mapping_add(fuzzer, address, (length + page - 1) / page * page,
			    file->writable);
		if (must) {
			describe_errors(must, allowed, sizeof(allowed));
			fuzz_err(fuzzer, "mmap succeeded but must fail with %s",
				 allowed);
		}
		return;
	}
	if (reservation && munmap(reservation, length))
		fuzz_err(fuzzer, "munmap of a reservation failed: %s",
			 strerror(errno));
	index = errno_bit(-result);
	if (!must && !(resource & (1u << index))) {
		fuzz_err(fuzzer, "mmap of a valid range failed: %s",
			 strerror(-result));
	} else if (must && !((must | ERR(ENOMEM)) & (1u << index))) {
		describe_errors(must, allowed, sizeof(allowed));
		fuzz_err(fuzzer, "mmap failed with %s; expected %s",
			 strerror(-result), allowed);
	}
}

static void fuzz_munmap(struct fuzzer *fuzzer)
{
	struct rng *rng = &fuzzer->rng;
	size_t page = fuzzer->page, pages, first, count;
	struct mapping_model *mapping;
	int which;

	if (!fuzzer->mapping_count)
		return;
	which = (int)rng_below(rng, (__u32)fuzzer->mapping_count);
	mapping = &fuzzer->mappings[which];
	pages = mapping->length / page;
	fuzzer->shared->mm[MM_MUNMAP]++;
	snprintf(fuzzer->what, sizeof(fuzzer->what), "munmap of %p+%zu",
		 (void *)mapping->address, mapping->length);
	if (rng_chance(rng, 10)) {
		/* Not page aligned: refused, nothing unmapped. */
		if (!munmap(mapping->address + 1 + rng_below(rng, 15), page))
			fuzz_err(fuzzer, "munmap at an unaligned address succeeded");
		else if (errno != EINVAL)
			fuzz_err(fuzzer, "unaligned munmap: %s, not EINVAL",
				 strerror(errno));
		return;
	}
	first = rng_below(rng, (__u32)pages);
	count = 1 + rng_below(rng, (__u32)(pages - first));
	if (rng_below(rng, 3) == 0) {
		first = 0;
		count = pages;
	}
	if (munmap(mapping->address + first * page, count * page)) {
		fuzz_err(fuzzer, "munmap of pages %zu+%zu of %p+%zu failed: %s",
			 first, count, (void *)mapping->address,
			 mapping->length, strerror(errno));
		return;
	}
	fuzzer->shared->mm_successes[MM_MUNMAP]++;
	if (first + count < pages && fuzzer->mapping_count < MAX_MAPPINGS)
		mapping_add(fuzzer, mapping->address + (first + count) * page,
			    (pages - first - count) * page, mapping->writable);
	else if (first + count < pages)
		munmap(mapping->address + (first + count) * page,
		       (pages - first - count) * page);
	if (first)
		mapping->length = first * page;
	else
		*mapping = fuzzer->mappings[--fuzzer->mapping_count];
}

static void fuzz_mprotect(struct fuzzer *fuzzer)
{
	static const int protections[] = {
		PROT_NONE, PROT_READ, PROT_WRITE, PROT_READ | PROT_WRITE,
		PROT_EXEC, PROT_READ | PROT_EXEC,
		PROT_READ | PROT_WRITE | PROT_EXEC, PROT_READ | PROT_GROWSDOWN,
	};
	struct rng *rng = &fuzzer->rng;
	size_t page = fuzzer->page, pages, first, count;
	struct mapping_model *mapping;
	unsigned int must = 0;
	int prot, result;

	if (!fuzzer->mapping_count)
		return;
	mapping = &fuzzer->mappings[rng_below(rng,
					      (__u32)fuzzer->mapping_count)];
	pages = mapping->length / page;
	first = rng_below(rng, (__u32)pages);
	count = 1 + rng_below(rng, (__u32)(pages - first));
	prot = protections[rng_below(rng, ARRAY_LENGTH(protections))];
	if (prot & PROT_EXEC)
		must |= ERR(EACCES);
	if ((prot & PROT_WRITE) && !mapping->writable)
		must |= ERR(EACCES);
	if (prot & PROT_GROWSDOWN)
		must |= ERR(EINVAL);
	snprintf(fuzzer->what, sizeof(fuzzer->what),
		 "mprotect(%p, %zu, %#x) of a %s mapping",
		 (void *)(mapping->address + first * page), count * page, prot,
		 mapping->writable ? "writable" : "read-only");
	fuzzer->shared->mm[MM_MPROTECT]++;
	result = mprotect(mapping->address + first * page, count * page,
			  prot) ? -errno : 0;
	if (!result) {
		fuzzer->shared->mm_successes[MM_MPROTECT]++;
		if (must)
			fuzz_err(fuzzer, "mprotect succeeded but must fail");
	} else if (!must && result != -ENOMEM) {
		fuzz_err(fuzzer, "mprotect failed: %s", strerror(-result));
	} else if (must && !((must | ERR(ENOMEM)) &
			     (1u << errno_bit(-result)))) {
		fuzz_err(fuzzer, "mprotect failed with %s", strerror(-result));
	}
}

static void fuzz_mremap(struct fuzzer *fuzzer)
{
	struct rng *rng = &fuzzer->rng;
	size_t page = fuzzer->page, pages, new_length;
	struct mapping_model *mapping;
	unsigned char *target = NULL;
	int choice, flags = 0;
	void *address;

	if (!fuzzer->mapping_count)
		return;
	mapping = &fuzzer->mappings[rng_below(rng,
					      (__u32)fuzzer->mapping_count)];
	pages = mapping->length / page;
	choice = (int)rng_below(rng, 5);
	switch (choice) {
	case 0:		/* grow in place */
		new_length = mapping->length + page * (1 + rng_below(rng, 4));
		break;
	case 1:		/* grow, moving if needed */
		new_length = mapping->length + page * (1 + rng_below(rng, 4));
		flags = MREMAP_MAYMOVE;
		break;
	case 2:		/* shrink */
		if (pages < 2)
			return;
		new_length = page * (1 + rng_below(rng, (__u32)pages - 1));
		break;
	case 3:		/* move, same size */
		new_length = mapping->length;
		target = reserve(new_length);
		if (!target)
			return;
		flags = MREMAP_MAYMOVE | MREMAP_FIXED;
		break;
	default:	/* keep the old range too: not for these mappings */
		new_length = mapping->length;
		flags = MREMAP_MAYMOVE | MREMAP_DONTUNMAP;
		break;
	}
	snprintf(fuzzer->what, sizeof(fuzzer->what),
		 "mremap(%p, %zu, %zu, %#x, %p)", (void *)mapping->address,
		 mapping->length, new_length, flags, (void *)target);
	fuzzer->shared->mm[MM_MREMAP]++;
	address = mremap(mapping->address, mapping->length, new_length, flags,
			 target);
	if (address == MAP_FAILED) {
		int error = errno;

		if (target)
			munmap(target, new_length);
		if (choice == 2)
			fuzz_err(fuzzer, "shrinking mremap failed: %s",
				 strerror(error));
		else if (choice == 4 && error != EINVAL)
			fuzz_err(fuzzer, "mremap with MREMAP_DONTUNMAP: %s, not EINVAL",
				 strerror(error));
		return;
	}
	fuzzer->shared->mm_successes[MM_MREMAP]++;
	if (choice <= 1)
		fuzz_err(fuzzer, "mremap grew a cmamem mapping from %zu to %zu bytes",
			 mapping->length, new_length);
	else if (choice == 4)
		fuzz_err(fuzzer, "mremap with MREMAP_DONTUNMAP succeeded on a cmamem mapping");
	mapping->address = address;
	mapping->length = new_length;
}

/*
 * A mapping made with arguments the fuzzer knows are good: writes the
 * block's pattern, reads it back, and reads it through another file's
 * handle on the same block when there is one.
 */
static void fuzz_probe(struct fuzzer *fuzzer)
{
	struct rng *rng = &fuzzer->rng;
	struct handle_model *handle, *twin = NULL;
	struct fd_model *file = random_file(fuzzer);
	struct block_model *block;
	__u32 *words, *twin_words = NULL;
	size_t length, count, index;
	int other;

	if (!file || !file->writable || !file->handle_count)
		return;
	handle = &file->handles[rng_below(rng, (__u32)file->handle_count)];
	if (handle_is_import(handle))
		return;
	block = &fuzzer->blocks[handle->block];
	if (block->length > (4u << 20))
		return;
	length = (size_t)block->length;
	snprintf(fuzzer->what, sizeof(fuzzer->what),
		 "probe of handle %u (%s, %zu bytes)", handle->id, block->name,
		 length);
	fuzzer->shared->mm[MM_PROBE]++;
	words = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED,
		     file->fd, (off_t)handle->mmap_offset);
	if (words == MAP_FAILED) {
		if (errno != ENOMEM)
			fuzz_err(fuzzer, "mmap of a whole block failed: %s",
				 strerror(errno));
		return;
	}
	count = length / sizeof(__u32);
	for (index = 0; index < count; index++)
		words[index] = pattern_word(block->pattern, index);
	for (index = 0; index < count; index++)
		if (words[index] != pattern_word(block->pattern, index)) {
			fuzz_err(fuzzer, "block %s reads back wrong at +%zu",
				 block->name, index * sizeof(__u32));
			break;
		}
	for (other = 0; other < MAX_FDS && !twin; other++) {
		struct fd_model *candidate = &fuzzer->fds[other];

		if (candidate == file || candidate->fd < 0)
			continue;
		for (index = 0; index < (size_t)candidate->handle_count;
		     index++) {
			if (candidate->handles[index].block == handle->block) {
				twin = &candidate->handles[index];
				twin_words = mmap(NULL, length, PROT_READ,
						  MAP_SHARED, candidate->fd,
						  (off_t)twin->mmap_offset);
				break;
			}
		}
	}
	if (twin && twin_words == MAP_FAILED) {
		fuzz_err(fuzzer, "mmap of the same block through another file failed: %s",
			 strerror(errno));
	} else if (twin) {
		if (memcmp(words, twin_words, length))
			fuzz_err(fuzzer, "two mappings of block %s through different files differ",
				 block->name);
		munmap(twin_words, length);
	}
	if (munmap(words, length))
		fuzz_err(fuzzer, "munmap of a probe: %s", strerror(errno));
	fuzzer->shared->mm_successes[MM_PROBE]++;
}

static void fuzz_reopen(struct fuzzer *fuzzer)
{
	struct rng *rng = &fuzzer->rng;
	struct fd_model *file = &fuzzer->fds[rng_below(rng, MAX_FDS)];

	snprintf(fuzzer->what, sizeof(fuzzer->what), "close and reopen");
	fuzzer->shared->mm[MM_REOPEN]++;
	if (file->fd >= 0)
		file_close(fuzzer, file);
	if (file_open(fuzzer, file,
		      (int)rng_below(rng, (__u32)fuzzer->pool_count),
		      !rng_chance(rng, 4)))
		fuzzer->shared->mm_successes[MM_REOPEN]++;
}

static void fuzz_close_dmabuf(struct fuzzer *fuzzer)
{
	int start = (int)rng_below(&fuzzer->rng, MAX_DMABUFS), step, index;

	for (step = 0; step < MAX_DMABUFS; step++) {
		index = (start + step) % MAX_DMABUFS;
		if (fuzzer->dmabufs[index].live &&
		    fuzzer->dmabufs[index].fd >= 0) {
			snprintf(fuzzer->what, sizeof(fuzzer->what),
				 "close of dma-buf fd %d",
				 fuzzer->dmabufs[index].fd);
			fuzzer->shared->mm[MM_CLOSE_DMABUF]++;
			dmabuf_close(fuzzer, index);
			fuzzer->shared->mm_successes[MM_CLOSE_DMABUF]++;
			return;
		}
	}
}

/*
 * Every handle the model has must be known to the kernel with the right
 * block, handle count and dma-buf count (import handles are refused);
 * handles the model does not have must not be.
 */
static void audit_model(struct fuzzer *fuzzer)
{
	struct cmamem_block_info info;
	int index, handle, result;
	__u32 id;

	snprintf(fuzzer->what, sizeof(fuzzer->what), "audit of the model");
	for (index = 0; index < MAX_FDS; index++) {
		struct fd_model *file = &fuzzer->fds[index];

		if (file->fd < 0)
			continue;
		for (handle = 0; handle < file->handle_count; handle++) {
			memset(&info, 0, sizeof(info));
			info.size = sizeof(info);
			info.handle = file->handles[handle].id;
			result = ioctl(file->fd, CMAMEM_IOCTL_BLOCK_INFO,
				       &info) ? -errno : 0;
			fuzzer->shared->checks++;
			if (handle_is_import(&file->handles[handle])) {
				if (result != -EINVAL)
					fuzz_err(fuzzer, "audit: BLOCK_INFO of import handle %u gave %s, not EINVAL",
						 info.handle, result ?
						 strerror(-result) : "success");
			} else if (result) {
				fuzz_err(fuzzer, "audit: BLOCK_INFO of live handle %u failed: %s",
					 info.handle, strerror(-result));
			} else {
				check_block_info(fuzzer, file, &info);
			}
		}
		for (id = 1; id <= MAX_HANDLES + 8; id++) {
			if (handle_find(file, id))
				continue;
			memset(&info, 0, sizeof(info));
			info.size = sizeof(info);
			info.handle = id;
			result = ioctl(file->fd, CMAMEM_IOCTL_BLOCK_INFO,
				       &info) ? -errno : 0;
			fuzzer->shared->checks++;
			if (result != -ENOENT)
				fuzz_err(fuzzer, "audit: handle %u the model does not have gave %s",
					 id, result ? strerror(-result) :
					 "success");
		}
	}
}

static int discover_pools(struct fuzzer *fuzzer)
{
	char names[MAX_POOLS][64];
	struct dirent *dirent;
	int count = 0, index;
	DIR *directory;

	snprintf(names[count++], sizeof(names[0]), "/dev/cmamem");
	directory = opendir("/dev");
	if (directory) {
		while ((dirent = readdir(directory)) && count < MAX_POOLS) {
			if (!strncmp(dirent->d_name, "cmamem-", 7))
				snprintf(names[count++], sizeof(names[0]),
					 "/dev/%.40s", dirent->d_name);
		}
		closedir(directory);
	}
	fuzzer->pool_count = 0;
	for (index = 0; index < count; index++) {
		struct pool_description *pool =
			&fuzzer->pools[fuzzer->pool_count];
		struct cmamem_pool_info info;
		int fd = open(names[index], O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			continue;
		if (!cmamem_pool_info(fd, &info)) {
			snprintf(pool->path, sizeof(pool->path), "%.63s",
				 names[index]);
			memcpy(pool->name, info.name, CMAMEM_NAME_SIZE);
			pool->name[CMAMEM_NAME_SIZE - 1] = '\0';
			pool->pool_flags = info.pool_flags;
			pool->total_bytes = info.total_bytes;
			pool->max_block_bytes = info.max_block_bytes;
			fuzzer->pool_count++;
		}
		close(fd);
	}
	return fuzzer->pool_count;
}

static bool quota_limited(void)
{
	char text[64] = "";
	int fd = open("/sys/module/cmamem/parameters/fd_quota_bytes",
		      O_RDONLY);

	if (fd < 0)
		return true;	/* cannot tell: allow EDQUOT */
	if (read(fd, text, sizeof(text) - 1) < 0)
		text[0] = '1';
	close(fd);
	return strtoull(text, NULL, 0) != 0;
}

static bool arena_setup(struct fuzzer *fuzzer)
{
	size_t page = fuzzer->page;
	size_t rw_pages = (REQUEST_ROOM + page - 1) / page + 1;

	fuzzer->arena_length = (rw_pages + 3) * page;
	fuzzer->arena = mmap(NULL, fuzzer->arena_length,
			     PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (fuzzer->arena == MAP_FAILED)
		return false;
	fuzzer->rw = fuzzer->arena;
	fuzzer->rw_length = rw_pages * page;
	fuzzer->guard = fuzzer->rw + fuzzer->rw_length;
	fuzzer->read_only = fuzzer->guard + page;
	fuzzer->hole = fuzzer->read_only + page;
	return !mprotect(fuzzer->guard, page, PROT_NONE) &&
	       !mprotect(fuzzer->read_only, page, PROT_READ) &&
	       !munmap(fuzzer->hole, page);
}

/* Frees everything the model holds; every FREE must succeed. */
static void free_everything(struct fuzzer *fuzzer)
{
	struct cmamem_free request;
	int index;

	snprintf(fuzzer->what, sizeof(fuzzer->what), "final cleanup");
	for (index = 0; index < MAX_FDS; index++) {
		struct fd_model *file = &fuzzer->fds[index];

		if (file->fd < 0)
			continue;
		while (file->handle_count) {
			memset(&request, 0, sizeof(request));
			request.size = sizeof(request);
			request.handle = file->handles[0].id;
			if (ioctl(file->fd, CMAMEM_IOCTL_FREE, &request))
				fuzz_err(fuzzer, "final FREE of handle %u failed: %s",
					 request.handle, strerror(errno));
			handle_drop(fuzzer, file, &file->handles[0]);
		}
		file_close(fuzzer, file);
	}
	for (index = 0; index < MAX_DMABUFS; index++) {
		if (fuzzer->dmabufs[index].live &&
		    fuzzer->dmabufs[index].fd >= 0)
			dmabuf_close(fuzzer, index);
		if (fuzzer->dmabufs[index].live)
			fuzz_err(fuzzer, "the model keeps dma-buf %d with %u imports after every handle was freed",
				 index, fuzzer->dmabufs[index].imports);
	}
	while (fuzzer->mapping_count) {
		struct mapping_model *mapping = &fuzzer->mappings[0];

		if (munmap(mapping->address, mapping->length))
			fuzz_err(fuzzer, "final munmap failed: %s",
				 strerror(errno));
		*mapping = fuzzer->mappings[--fuzzer->mapping_count];
	}
}

static int fuzz_child(struct fuzz_shared *shared)
{
	static struct fuzzer fuzzer;
	struct cmamem_pool_info info;
	int index, fd;

	fuzzer.shared = shared;
	fuzzer.rng.state = shared->seed;
	rng_next(&fuzzer.rng);
	fuzzer.page = (size_t)sysconf(_SC_PAGESIZE);
	fuzzer.quota_limited = quota_limited();
	if (!discover_pools(&fuzzer) || !arena_setup(&fuzzer)) {
		fprintf(stderr, "# fuzzer setup failed\n");
		return 1;
	}
	fuzzer.first_fd = cmamem_lowest_free_fd();
	for (index = 0; index < MAX_FDS; index++) {
		fuzzer.fds[index].fd = -1;
		if (index < fuzzer.pool_count)
			file_open(&fuzzer, &fuzzer.fds[index], index, true);
		else if (index == fuzzer.pool_count)
			file_open(&fuzzer, &fuzzer.fds[index], 0, false);
	}

	while (shared->calls < shared->target_calls &&
	       shared->failures <= MAX_REPORTS) {
		switch (rng_below(&fuzzer.rng, 100)) {
		case 0 ... 3:
			fuzz_mmap(&fuzzer);
			break;
		case 4 ... 5:
			fuzz_munmap(&fuzzer);
			break;
		case 6:
			fuzz_mprotect(&fuzzer);
			break;
		case 7:
			fuzz_mremap(&fuzzer);
			break;
		case 8:
			fuzz_probe(&fuzzer);
			break;
		case 9:
			if (rng_chance(&fuzzer.rng, 8))
				fuzz_reopen(&fuzzer);
			break;
		case 10:
			fuzz_close_dmabuf(&fuzzer);
			break;
		default:
			fuzz_ioctl(&fuzzer);
			break;
		}
		if (shared->calls % FUZZ_AUDIT_EVERY == 0)
			audit_model(&fuzzer);
	}
	audit_model(&fuzzer);
	free_everything(&fuzzer);

	/* The kernel hands out the lowest free fds: a leak would be here. */
	for (fd = fuzzer.first_fd;
	     fd < fuzzer.first_fd + MAX_FDS + MAX_DMABUFS + 8; fd++)
		if (fd_open(fd))
			fuzz_err(&fuzzer, "fd %d is still open after everything was closed",
				 fd);

	for (index = 0; index < fuzzer.pool_count; index++) {
		fd = open(fuzzer.pools[index].path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || cmamem_pool_info(fd, &info)) {
			fuzz_err(&fuzzer, "POOL_INFO of %s at the end failed",
				 fuzzer.pools[index].name);
		} else if (info.blocks || info.used_bytes) {
			fuzz_err(&fuzzer,
				 "pool %s keeps %u blocks, %llu bytes after everything was freed",
				 fuzzer.pools[index].name, info.blocks,
				 (unsigned long long)info.used_bytes);
		}
		if (fd >= 0)
			close(fd);
	}
	shared->finished = true;
	return shared->failures ? 1 : 0;
}

/*
 * The seed in the kernel log too: when a call makes the kernel panic
 * (panic_on_warn), the test's own output is lost, the console is not.
 */
static void log_seed_to_kernel(unsigned long long seed)
{
	char line[96];
	int length = snprintf(line, sizeof(line),
			      "cmamem_fuzz_test: CMAMEM_SEED=%llu\n", seed);
	int kmsg = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	ssize_t written;

	if (kmsg < 0)
		return;
	/* Best effort: the test's output has the seed as well. */
	written = write(kmsg, line, length);
	(void)written;
	close(kmsg);
}

FIXTURE(fuzz) {
	struct fuzz_shared *shared;
};

FIXTURE_SETUP(fuzz)
{
	self->shared = MAP_FAILED;
	if (geteuid() != 0)
		SKIP(return, "the fuzz test runs as root");
	if (access("/dev/cmamem", F_OK))
		SKIP(return, "/dev/cmamem is missing (is cmamem loaded?)");
	self->shared = mmap(NULL, sizeof(*self->shared),
			    PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(self->shared != MAP_FAILED);
	memset(self->shared, 0, sizeof(*self->shared));
}

FIXTURE_TEARDOWN(fuzz)
{
	if (self->shared != MAP_FAILED)
		munmap(self->shared, sizeof(*self->shared));
}

TEST_F_TIMEOUT(fuzz, random_calls, fuzz_timeout())
{
	struct fuzz_shared *shared = self->shared;
	char line[512];
	size_t used;
	int status, kind, bit, index;
	long long started;
	struct timespec now;
	pid_t child;

	shared->seed = seed_from_environment();
	shared->target_calls = fuzz_calls();
	TH_LOG("seed %llu (CMAMEM_SEED=%llu replays it), %lu ioctl calls, page size %ld",
	       shared->seed, shared->seed, shared->target_calls,
	       sysconf(_SC_PAGESIZE));
	log_seed_to_kernel(shared->seed);
	clock_gettime(CLOCK_MONOTONIC, &now);
	started = now.tv_sec;

	fflush(stdout);
	fflush(stderr);
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0)
		_exit(fuzz_child(shared));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	clock_gettime(CLOCK_MONOTONIC, &now);

	for (kind = 0; kind < KIND_COUNT; kind++) {
		used = snprintf(line, sizeof(line), "%-10s %7lu calls, %6lu ok",
				commands[kind].name, shared->by_kind[kind],
				shared->successes[kind]);
		for (bit = 0; bit <= BIT_COUNT && used < sizeof(line); bit++)
			if (shared->errors[kind][bit])
				used += snprintf(line + used,
						 sizeof(line) - used,
						 ", %s %lu",
						 bit < BIT_COUNT ?
						 strerror(bit_errno[bit]) :
						 "other",
						 shared->errors[kind][bit]);
		TH_LOG("%s", line);
	}
	for (index = 0; index < MM_COUNT; index++)
		TH_LOG("%-10s %7lu calls, %6lu ok", mm_names[index],
		       shared->mm[index], shared->mm_successes[index]);
	used = 0;
	for (index = 0; index < POINTER_KINDS; index++)
		used += snprintf(line + used, sizeof(line) - used, " %lu",
				 shared->pointer_kinds[index]);
	/* In enum pointer_kind's order. */
	TH_LOG("pointers: valid, misaligned, straddle, read-only, NULL, low, kernel, hole, guard%s",
	       line);
	TH_LOG("%lu fuzzed ioctls, %lu audit calls, %lu blocks made, %lu dma-bufs made, %lld s",
	       shared->calls, shared->checks, shared->blocks_made,
	       shared->dmabufs_made, (long long)now.tv_sec - started);

	if (WIFSIGNALED(status))
		TH_LOG("the fuzzer died of signal %d at call %lu: %s",
		       WTERMSIG(status), shared->calls, shared->last);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0u, shared->failures)
		TH_LOG("seed %llu", shared->seed);
	EXPECT_TRUE(shared->finished);
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_LE(shared->target_calls, shared->calls);

	/* The child is gone with its files and mappings: nothing is left. */
	for (index = 0; index < MAX_POOLS; index++) {
		char path[64];
		struct cmamem_pool_info info;
		int fd;

		if (index == 0) {
			snprintf(path, sizeof(path), "/dev/cmamem");
		} else {
			DIR *directory = opendir("/dev");
			struct dirent *dirent;
			int seen = 0;

			path[0] = '\0';
			while (directory && (dirent = readdir(directory)))
				if (!strncmp(dirent->d_name, "cmamem-", 7) &&
				    ++seen == index)
					snprintf(path, sizeof(path),
						 "/dev/%.40s", dirent->d_name);
			if (directory)
				closedir(directory);
			if (!path[0])
				break;
		}
		fd = open(path, O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, cmamem_pool_info(fd, &info));
		close(fd);
		TH_LOG("pool %s at the end: blocks %u used %llu allocations %llu failures %llu",
		       info.name, info.blocks,
		       (unsigned long long)info.used_bytes,
		       (unsigned long long)info.allocations,
		       (unsigned long long)info.failures);
		EXPECT_EQ(0u, info.blocks);
		EXPECT_EQ(0ull, info.used_bytes);
	}
}

TEST_HARNESS_MAIN
