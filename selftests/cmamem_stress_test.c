// SPDX-License-Identifier: GPL-2.0
/*
 * cmamem stress test: many processes and threads using every pool at once.
 *
 * For CMAMEM_STRESS_SECONDS (default 10) STRESS_WORKERS processes with
 * STRESS_THREADS threads each allocate (every mode, every pool, 1 page to
 * 1 MiB), attach, map, partly unmap, touch, sync and free blocks, close
 * and reopen their pool files, and fork children that touch an inherited
 * mapping. They also run the racy orders on purpose: FREE against mmap()
 * of the same handle, close() of a file against mmap() and ioctls on it,
 * ATTACH against FREE of the same name, ALLOC of a name that exists. The
 * parent kills a random worker now and then, and workers sometimes exit on
 * their own, with live blocks and mappings; a new worker takes the place.
 *
 * Names come from a table shared by all processes, so ATTACH reaches other
 * processes' blocks. Every block of a given name holds the same pattern,
 * derived from the name, so whoever maps a block can check its data.
 *
 * A slot of the table is a 32-bit word: state (free, busy, ready), the
 * worker that owns it and a generation that changes on every publication.
 * The owner claims a free slot (compare-and-swap) before ALLOC, writes the
 * pattern, then publishes the slot as ready; before it drops its handle
 * (FREE, close of the file) it sets the slot busy again. Others attach to
 * ready slots only. A worker about to die is marked dying first, and the
 * parent frees its slots once it has reaped it. So when a slot read the
 * same before and after an ATTACH and its owner is not dying, the block
 * attached is the published one and its data must match; otherwise a
 * mismatch proves nothing and the mapping is not checked.
 *
 * The errors the uapi documents for these races are accepted where they
 * can happen (ENOENT, ENXIO, EBADF after close, ENOMEM and EDQUOT under
 * pressure, EEXIST); any other error, wrong data, a crash in a worker or a
 * block left over at the end fails the test. CMAMEM_SEED replays a seed
 * (the thread interleaving differs from run to run).
 */
#ifndef _FILE_OFFSET_BITS
#define _FILE_OFFSET_BITS 64
#endif

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
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

#define STRESS_DEFAULT_SECONDS	10
#define STRESS_WORKERS		4
#define STRESS_THREADS		3
#define MAX_POOLS		8
#define SLOTS_PER_POOL		32
#define MAX_ENTRIES		24
#define MAX_FRAGMENTS		4
#define MAX_BLOCK_BYTES		(1024 * 1024)
#define MAX_ALIGNMENT		(64 * 1024)
#define MAX_MESSAGES		24
#define MESSAGE_LENGTH		256
/* A worker that leaves on its own, without cleaning up, exits with this. */
#define ABRUPT_EXIT_STATUS	3
/* A worker thread leaves abruptly once in this many operations. */
#define ABRUPT_ONE_IN		8000
/* The parent kills a worker every 1 to 3 seconds. */
#define KILL_MIN_MS		1000
#define KILL_SPREAD_MS		2000
/* Child that touched an inherited mapping and found wrong data. */
#define TOUCH_MISMATCH_STATUS	2
#define RACE_CLOSE_ROUNDS	8

enum slot_state {
	SLOT_FREE,
	SLOT_BUSY,
	SLOT_READY,
};

#define SLOT_STATE(word)		((word) & 3u)
#define SLOT_OWNER(word)		(((word) >> 2) & 0x3fu)
#define SLOT_GENERATION(word)		((word) >> 8)
#define SLOT_WORD(state, owner, generation) \
	((__u32)(state) | ((__u32)(owner) << 2) | \
	 (((__u32)(generation) & 0xffffffu) << 8))

enum counter {
	COUNT_ALLOC,
	COUNT_ALLOC_REFUSED,
	COUNT_ATTACH,
	COUNT_ATTACH_MISSED,
	COUNT_MMAP,
	COUNT_MUNMAP,
	COUNT_TOUCH,
	COUNT_FREE,
	COUNT_INFO,
	COUNT_REOPEN,
	COUNT_FORK,
	COUNT_RACE_FREE_MMAP,
	COUNT_RACE_MMAP_MAPPED,
	COUNT_RACE_CLOSE,
	COUNT_RACE_CLOSE_EBADF,
	COUNT_RACE_ATTACH_FREE,
	COUNT_RACE_ATTACH_WON,
	COUNT_DUPLICATE,
	COUNT_ABRUPT_EXIT,
	COUNT_KILLED,
	COUNT_ENOMEM,
	COUNT_COUNTERS,
};

static const char * const counter_names[COUNT_COUNTERS] = {
	[COUNT_ALLOC] = "alloc",
	[COUNT_ALLOC_REFUSED] = "alloc-refused",
	[COUNT_ATTACH] = "attach",
	[COUNT_ATTACH_MISSED] = "attach-enoent",
	[COUNT_MMAP] = "mmap",
	[COUNT_MUNMAP] = "munmap",
	[COUNT_TOUCH] = "touch",
	[COUNT_FREE] = "free",
	[COUNT_INFO] = "info+sync",
	[COUNT_REOPEN] = "reopen",
	[COUNT_FORK] = "fork-touch",
	[COUNT_RACE_FREE_MMAP] = "race-free-mmap",
	[COUNT_RACE_MMAP_MAPPED] = "race-mmap-won",
	[COUNT_RACE_CLOSE] = "race-close",
	[COUNT_RACE_CLOSE_EBADF] = "race-close-ebadf",
	[COUNT_RACE_ATTACH_FREE] = "race-attach-free",
	[COUNT_RACE_ATTACH_WON] = "race-attach-won",
	[COUNT_DUPLICATE] = "duplicate-name",
	[COUNT_ABRUPT_EXIT] = "abrupt-exit",
	[COUNT_KILLED] = "killed",
	[COUNT_ENOMEM] = "enomem/edquot",
};

struct pool_description {
	char path[64];
	char name[CMAMEM_NAME_SIZE];
	__u32 pool_flags;
	__u64 total_bytes;
	__u64 max_block_bytes;
};

/* Everything the processes of one run share (MAP_SHARED anonymous). */
struct shared_state {
	unsigned long long seed;
	unsigned int run_id;
	int stop;
	int pool_count;
	size_t page_size;
	bool root;
	struct pool_description pools[MAX_POOLS];
	__u32 slots[MAX_POOLS][SLOTS_PER_POOL];
	/* Length of the block published in a slot, set before publishing. */
	__u32 slot_pages[MAX_POOLS][SLOTS_PER_POOL];
	int dying[STRESS_WORKERS];
	unsigned long counters[COUNT_COUNTERS];
	unsigned int failures;
	char messages[MAX_MESSAGES][MESSAGE_LENGTH];
};

struct fragment {
	unsigned char *address;
	size_t length;
	size_t block_offset;
};

/*
 * A block this worker holds a handle on, a mapping of, or both. Only the
 * thread that marked it busy touches it; reopen_pool() changes entries
 * while it holds fd_lock for writing, when no operation is in flight.
 */
struct entry {
	bool used;
	bool busy;
	bool has_handle;
	bool owned;
	bool verifiable;
	int pool;
	int slot;
	__u32 handle;
	__u32 mode;
	__u64 mmap_offset;
	size_t length;
	__u32 pattern;
	char name[CMAMEM_NAME_SIZE];
	struct fragment fragments[MAX_FRAGMENTS];
	int fragment_count;
};

/*
 * The state of one worker process.
 *
 * fd_lock: every operation holds it for reading for as long as it uses a
 * pool file or an entry; reopening a pool file, and the FREE-against-mmap
 * race, hold it for writing.
 * fd_create_lock: held by whoever creates a file descriptor, and by the
 * close race for as long as its helper may still use the closed number,
 * so the number cannot be reused meanwhile. Taken inside fd_lock.
 * table_lock: protects used/busy of every entry. Innermost.
 */
struct worker_state {
	int index;
	unsigned int failures;
	pthread_rwlock_t fd_lock;
	pthread_mutex_t fd_create_lock;
	pthread_mutex_t table_lock;
	int fds[MAX_POOLS];
	struct entry entries[MAX_ENTRIES];
	unsigned int private_serial;
};

struct rng {
	__u64 state;
};

struct thread_context {
	pthread_t thread;
	int index;
	struct rng rng;
};

static struct shared_state *shared;
static struct worker_state worker;

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

static void rng_seed(struct rng *rng, __u64 seed, __u64 stream)
{
	rng->state = seed ^ (stream * 0xd1342543de82ef95ULL);
	rng_next(rng);
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

static unsigned int stress_seconds(void)
{
	const char *text = getenv("CMAMEM_STRESS_SECONDS");
	char *end;
	long value;

	if (!text || !*text)
		return STRESS_DEFAULT_SECONDS;
	value = strtol(text, &end, 10);
	if (*end || value < 1 || value > 3600)
		return STRESS_DEFAULT_SECONDS;
	return (unsigned int)value;
}

/* The harness timeout: the run, the cleanup and the final checks. */
static int stress_timeout(void)
{
	return (int)stress_seconds() * 2 + 120;
}

static long long monotonic_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static void count_event(enum counter counter)
{
	__atomic_fetch_add(&shared->counters[counter], 1, __ATOMIC_RELAXED);
}

/* Records a failure with its context; the parent prints the messages. */
static void __printf(1, 2)
worker_err(const char *format, ...)
{
	unsigned int index;
	va_list arguments;
	int length;

	worker.failures++;
	index = __atomic_fetch_add(&shared->failures, 1, __ATOMIC_SEQ_CST);
	if (index >= MAX_MESSAGES)
		return;
	length = snprintf(shared->messages[index], MESSAGE_LENGTH,
			  "worker %d pid %d: ", worker.index, (int)getpid());
	va_start(arguments, format);
	vsnprintf(shared->messages[index] + length, MESSAGE_LENGTH - length,
		  format, arguments);
	va_end(arguments);
}

/* FNV-1a: the pattern seed of every block of a given name. */
static __u32 name_pattern(const char *name)
{
	__u32 hash = 2166136261u;

	while (*name)
		hash = (hash ^ (unsigned char)*name++) * 16777619u;
	return hash;
}

/* Position-dependent, so shifted or swapped pages are caught. */
static inline __u32 pattern_word(__u32 seed, size_t word_index)
{
	__u32 value = seed ^ (__u32)(word_index * 2654435761u);

	return value ^ (value >> 15);
}

static void pattern_fill(unsigned char *address, size_t length,
			 size_t block_offset, __u32 seed)
{
	__u32 *words = (__u32 *)address;
	size_t first = block_offset / sizeof(__u32);
	size_t index;

	for (index = 0; index < length / sizeof(__u32); index++)
		words[index] = pattern_word(seed, first + index);
}

/*
 * Checks a mapping that shows the block from @block_offset on: every word
 * when @full, else the first and last word of every page and a few random
 * ones. The last word of the range is always checked, which proves that a
 * writer going front to back has finished. Returns the offset into the
 * mapping of the first wrong word, or -1.
 */
static long pattern_check(const unsigned char *address, size_t length,
			  size_t block_offset, __u32 seed, bool full,
			  struct rng *rng)
{
	const __u32 *words = (const __u32 *)address;
	size_t first = block_offset / sizeof(__u32);
	size_t count = length / sizeof(__u32);
	size_t page_words = shared->page_size / sizeof(__u32);
	size_t index;
	int sample;

	if (full) {
		for (index = 0; index < count; index++)
			if (words[index] != pattern_word(seed, first + index))
				return (long)(index * sizeof(__u32));
		return -1;
	}
	for (index = 0; index < count; index += page_words) {
		size_t last = index + page_words - 1;

		if (words[index] != pattern_word(seed, first + index))
			return (long)(index * sizeof(__u32));
		if (last < count &&
		    words[last] != pattern_word(seed, first + last))
			return (long)(last * sizeof(__u32));
	}
	for (sample = 0; sample < 4; sample++) {
		index = rng_below(rng, (__u32)count);
		if (words[index] != pattern_word(seed, first + index))
			return (long)(index * sizeof(__u32));
	}
	if (count && words[count - 1] != pattern_word(seed, first + count - 1))
		return (long)((count - 1) * sizeof(__u32));
	return -1;
}

/* ---- the shared name table ---------------------------------------- */

static __u32 slot_load(int pool, int slot)
{
	return __atomic_load_n(&shared->slots[pool][slot], __ATOMIC_ACQUIRE);
}

static void slot_store(int pool, int slot, __u32 word)
{
	__atomic_store_n(&shared->slots[pool][slot], word, __ATOMIC_RELEASE);
}

/* Claims a free slot for this worker; false if it is not free. */
static bool slot_claim(int pool, int slot)
{
	__u32 word = slot_load(pool, slot);

	if (SLOT_STATE(word) != SLOT_FREE)
		return false;
	return __atomic_compare_exchange_n(&shared->slots[pool][slot], &word,
					   SLOT_WORD(SLOT_BUSY, worker.index,
						     SLOT_GENERATION(word)),
					   false, __ATOMIC_ACQ_REL,
					   __ATOMIC_ACQUIRE);
}

static void slot_publish(int pool, int slot, size_t length)
{
	__u32 word = slot_load(pool, slot);

	shared->slot_pages[pool][slot] = (__u32)(length /
						    shared->page_size);
	slot_store(pool, slot, SLOT_WORD(SLOT_READY, worker.index,
					 SLOT_GENERATION(word) + 1));
}

/* Before dropping the handle of a published block: nobody attaches now. */
static void slot_unpublish(int pool, int slot)
{
	__u32 word = slot_load(pool, slot);

	slot_store(pool, slot, SLOT_WORD(SLOT_BUSY, worker.index,
					 SLOT_GENERATION(word)));
}

static void slot_release(int pool, int slot)
{
	__u32 word = slot_load(pool, slot);

	slot_store(pool, slot, SLOT_WORD(SLOT_FREE, 0,
					 SLOT_GENERATION(word)));
}

static bool slot_unchanged(int pool, int slot, __u32 before)
{
	return slot_load(pool, slot) == before &&
	       !__atomic_load_n(&shared->dying[SLOT_OWNER(before)],
				__ATOMIC_ACQUIRE);
}

static void slot_name(char *name, int pool, int slot)
{
	snprintf(name, CMAMEM_NAME_SIZE, "stress-%x-%d-%d", shared->run_id,
		 pool, slot);
}

/* A published slot of @pool, starting the search at a random one; or -1. */
static int slot_find_ready(struct rng *rng, int pool)
{
	int start = (int)rng_below(rng, SLOTS_PER_POOL), step;

	for (step = 0; step < SLOTS_PER_POOL; step++) {
		int slot = (start + step) % SLOTS_PER_POOL;

		if (SLOT_STATE(slot_load(pool, slot)) == SLOT_READY)
			return slot;
	}
	return -1;
}

/* Parent: frees the slots of a worker that has been reaped. */
static void slots_reset_worker(int index)
{
	int pool, slot;

	for (pool = 0; pool < shared->pool_count; pool++) {
		for (slot = 0; slot < SLOTS_PER_POOL; slot++) {
			__u32 word = slot_load(pool, slot);

			if (SLOT_STATE(word) != SLOT_FREE &&
			    (int)SLOT_OWNER(word) == index)
				slot_store(pool, slot,
					   SLOT_WORD(SLOT_FREE, 0,
						     SLOT_GENERATION(word)));
		}
	}
}

/* ---- entries of one worker ---------------------------------------- */

enum entry_want {
	WANT_HANDLE = 1 << 0,
	WANT_FRAGMENT = 1 << 1,
	WANT_ROOM = 1 << 2,
	WANT_PUBLISHED = 1 << 3,
	WANT_VERIFIABLE = 1 << 4,
};

static int entry_reserve(void)
{
	int index, found = -1;

	pthread_mutex_lock(&worker.table_lock);
	for (index = 0; index < MAX_ENTRIES; index++) {
		struct entry *entry = &worker.entries[index];

		if (!entry->used) {
			memset(entry, 0, sizeof(*entry));
			entry->used = true;
			entry->busy = true;
			entry->slot = -1;
			found = index;
			break;
		}
	}
	pthread_mutex_unlock(&worker.table_lock);
	return found;
}

static bool entry_matches(const struct entry *entry, unsigned int want)
{
	if (!entry->used || entry->busy)
		return false;
	if ((want & WANT_HANDLE) && !entry->has_handle)
		return false;
	if ((want & WANT_FRAGMENT) && !entry->fragment_count)
		return false;
	if ((want & WANT_ROOM) && entry->fragment_count >= MAX_FRAGMENTS)
		return false;
	if ((want & WANT_PUBLISHED) && (!entry->owned || entry->slot < 0))
		return false;
	if ((want & WANT_VERIFIABLE) && !entry->verifiable)
		return false;
	return true;
}

/* Marks a random idle entry that has what @want asks busy, or -1. */
static int entry_pick(struct rng *rng, unsigned int want)
{
	int start = (int)rng_below(rng, MAX_ENTRIES), step, found = -1;

	pthread_mutex_lock(&worker.table_lock);
	for (step = 0; step < MAX_ENTRIES; step++) {
		int index = (start + step) % MAX_ENTRIES;

		if (entry_matches(&worker.entries[index], want)) {
			worker.entries[index].busy = true;
			found = index;
			break;
		}
	}
	pthread_mutex_unlock(&worker.table_lock);
	return found;
}

/* Ends an operation on an entry; one with nothing left is forgotten. */
static void entry_done(int index)
{
	struct entry *entry = &worker.entries[index];

	pthread_mutex_lock(&worker.table_lock);
	entry->busy = false;
	if (!entry->has_handle && !entry->fragment_count)
		entry->used = false;
	pthread_mutex_unlock(&worker.table_lock);
}

static void fragment_add(struct entry *entry, unsigned char *address,
			 size_t length, size_t block_offset)
{
	struct fragment *fragment = &entry->fragments[entry->fragment_count++];

	fragment->address = address;
	fragment->length = length;
	fragment->block_offset = block_offset;
}

static void fragment_remove(struct entry *entry, int index)
{
	entry->fragments[index] = entry->fragments[--entry->fragment_count];
}

/* Checks every mapping of an entry whose data is known. */
static void entry_check(struct entry *entry, struct rng *rng,
			const char *when)
{
	int index;

	if (!entry->verifiable)
		return;
	for (index = 0; index < entry->fragment_count; index++) {
		struct fragment *fragment = &entry->fragments[index];
		long bad = pattern_check(fragment->address, fragment->length,
					 fragment->block_offset,
					 entry->pattern, false, rng);

		if (bad >= 0)
			worker_err("%s: block %s (%s, %zu bytes) mapped at %p from block offset %zu has wrong data at +%ld",
				   when, entry->name, cmamem_mode_name(entry->mode),
				   entry->length, (void *)fragment->address,
				   fragment->block_offset, bad);
	}
}

/* Drops an entry's handle: must work, nobody else can drop it. */
static void entry_free_handle(struct entry *entry, const char *why)
{
	struct cmamem_free request = {
		.size = sizeof(request),
		.handle = entry->handle,
	};
	int result;

	if (entry->owned && entry->slot >= 0)
		slot_unpublish(entry->pool, entry->slot);
	result = cmamem_ioctl(worker.fds[entry->pool], CMAMEM_IOCTL_FREE,
			     &request);
	if (result)
		worker_err("%s: FREE of handle %u (%s) failed: %s", why,
			   entry->handle, entry->name, strerror(-result));
	if (entry->owned && entry->slot >= 0)
		slot_release(entry->pool, entry->slot);
	entry->has_handle = false;
	entry->slot = -1;
	count_event(COUNT_FREE);
}

/* ---- argument choices ---------------------------------------------- */

static __u32 random_mode(struct rng *rng)
{
	return CMAMEM_MODE_COHERENT + rng_below(rng, 3);
}

/* 1 page to 1 MiB, about as many small blocks as large ones. */
static __u64 random_length(struct rng *rng)
{
	size_t page = shared->page_size;
	size_t max_pages = MAX_BLOCK_BYTES / page, pages;
	unsigned int shift = 0;
	__u64 length;

	if (!max_pages)
		max_pages = 1;
	while ((2ul << shift) <= max_pages)
		shift++;
	pages = (size_t)1 << rng_below(rng, shift + 1);
	pages += rng_below(rng, (__u32)pages);
	if (pages > max_pages)
		pages = max_pages;
	length = (__u64)pages * page;
	/* Sometimes a length the kernel has to round up. */
	if (rng_below(rng, 4) == 0)
		length -= rng_below(rng, (__u32)page);
	return length;
}

static __u64 random_alignment(struct rng *rng)
{
	__u64 alignment = shared->page_size;

	if (rng_below(rng, 4))
		return 0;
	while (alignment < MAX_ALIGNMENT && rng_below(rng, 2))
		alignment <<= 1;
	return alignment;
}

static __u64 round_up_u64(__u64 value, __u64 step)
{
	return (value + step - 1) / step * step;
}

/* Is @error one ALLOC may give for valid arguments in this run? */
static bool alloc_error_allowed(int error, const struct pool_description *pool,
				__u32 mode, __u64 length, __u64 alignment)
{
	__u64 needed = round_up_u64(length, shared->page_size) + alignment;

	switch (error) {
	case -EEXIST:
	case -ENOMEM:
	case -EDQUOT:
		return true;
	case -EOPNOTSUPP:
		return mode == CMAMEM_MODE_CACHED &&
		       !(pool->pool_flags & CMAMEM_POOL_CACHED);
	case -EFBIG:
		return (pool->max_block_bytes &&
			needed > pool->max_block_bytes) ||
		       ((pool->pool_flags & CMAMEM_POOL_TOTAL_KNOWN) &&
			needed > pool->total_bytes);
	}
	return false;
}

/* Checks a successful ALLOC reply; false (and a report) if it is wrong. */
static bool alloc_reply_valid(const struct cmamem_alloc *reply,
			      __u64 length, __u64 alignment)
{
	size_t page = shared->page_size;
	__u64 dma_alignment = alignment ? alignment : page;

	if (!reply->handle || reply->length != round_up_u64(length, page) ||
	    !reply->mmap_offset || reply->mmap_offset % page ||
	    !(reply->flags & CMAMEM_MAP) != !reply->user_address) {
		worker_err("ALLOC %s: bad reply: handle %u length %llu (asked %llu) mmap_offset %#llx user_address %#llx",
			   reply->name, reply->handle,
			   (unsigned long long)reply->length,
			   (unsigned long long)length,
			   (unsigned long long)reply->mmap_offset,
			   (unsigned long long)reply->user_address);
		return false;
	}
	if (shared->root && (reply->out_flags & CMAMEM_ADDRESS_WITHHELD)) {
		worker_err("ALLOC %s: root was refused the DMA address",
			   reply->name);
		return false;
	}
	if (!(reply->out_flags & CMAMEM_ADDRESS_WITHHELD) &&
	    reply->dma_address % dma_alignment) {
		worker_err("ALLOC %s: DMA address %#llx is not aligned to %llu",
			   reply->name, (unsigned long long)reply->dma_address,
			   (unsigned long long)dma_alignment);
		return false;
	}
	return true;
}

static unsigned char *map_block(int fd, __u64 offset, size_t length,
				int *error)
{
	void *address = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED,
			     fd, (off_t)offset);

	if (address == MAP_FAILED) {
		*error = -errno;
		return NULL;
	}
	*error = 0;
	return address;
}

/* ---- operations --------------------------------------------------- */

static void operation_alloc(struct rng *rng)
{
	int pool = (int)rng_below(rng, (__u32)shared->pool_count);
	int slot = (int)rng_below(rng, SLOTS_PER_POOL);
	const struct pool_description *description = &shared->pools[pool];
	struct cmamem_alloc request;
	unsigned char *address;
	struct entry *entry;
	int index, result;

	if (!slot_claim(pool, slot))
		return;
	index = entry_reserve();
	if (index < 0) {
		slot_release(pool, slot);
		return;
	}
	entry = &worker.entries[index];

	memset(&request, 0, sizeof(request));
	request.size = sizeof(request);
	request.flags = rng_below(rng, 3) ? 0 : CMAMEM_MAP;
	request.length = random_length(rng);
	request.alignment = random_alignment(rng);
	request.mode = random_mode(rng);
	slot_name(request.name, pool, slot);
	{
		__u64 length = request.length, alignment = request.alignment;
		__u32 mode = request.mode, flags = request.flags;

		result = cmamem_ioctl(worker.fds[pool], CMAMEM_IOCTL_ALLOC,
				     &request);
		if (result) {
			if (!alloc_error_allowed(result, description, mode,
						 length, alignment))
				worker_err("ALLOC %s in %s (%s, %llu bytes, alignment %llu, flags %#x) failed: %s",
					   request.name, description->name,
					   cmamem_mode_name(mode),
					   (unsigned long long)length,
					   (unsigned long long)alignment, flags,
					   strerror(-result));
			if (result == -ENOMEM || result == -EDQUOT)
				count_event(COUNT_ENOMEM);
			count_event(COUNT_ALLOC_REFUSED);
			slot_release(pool, slot);
			entry_done(index);
			return;
		}
		count_event(COUNT_ALLOC);
		if (mode == CMAMEM_MODE_CACHED &&
		    !(description->pool_flags & CMAMEM_POOL_CACHED))
			worker_err("ALLOC of a cached block in %s, which has no cached mode, succeeded",
				   description->name);
		entry->used = true;
		entry->has_handle = true;
		entry->owned = true;
		entry->pool = pool;
		entry->slot = slot;
		entry->handle = request.handle;
		entry->mode = mode;
		entry->mmap_offset = request.mmap_offset;
		entry->length = (size_t)request.length;
		entry->pattern = name_pattern(request.name);
		memcpy(entry->name, request.name, CMAMEM_NAME_SIZE);
		if (!alloc_reply_valid(&request, length, alignment)) {
			entry_free_handle(entry, "bad ALLOC reply");
			entry_done(index);
			return;
		}
	}

	if (request.flags & CMAMEM_MAP) {
		address = (unsigned char *)(uintptr_t)request.user_address;
	} else {
		address = map_block(worker.fds[pool], entry->mmap_offset,
				    entry->length, &result);
		if (!address) {
			if (result != -ENOMEM)
				worker_err("mmap of new block %s (%zu bytes) failed: %s",
					   entry->name, entry->length,
					   strerror(-result));
			entry_free_handle(entry, "mmap failed");
			entry_done(index);
			return;
		}
	}
	fragment_add(entry, address, entry->length, 0);
	pattern_fill(address, entry->length, 0, entry->pattern);
	entry->verifiable = true;
	if (pattern_check(address, entry->length, 0, entry->pattern, false,
			  rng) >= 0)
		worker_err("new block %s (%s) does not read back what was written",
			   entry->name, cmamem_mode_name(entry->mode));
	slot_publish(pool, slot, entry->length);
	entry_done(index);
}

static void operation_attach(struct rng *rng)
{
	int pool = (int)rng_below(rng, (__u32)shared->pool_count);
	int slot = slot_find_ready(rng, pool);
	struct cmamem_attach request;
	unsigned char *address;
	struct entry *entry;
	int index, result;
	__u32 before;
	long bad;

	if (slot < 0)
		return;
	before = slot_load(pool, slot);
	if (SLOT_STATE(before) != SLOT_READY)
		return;
	index = entry_reserve();
	if (index < 0)
		return;
	entry = &worker.entries[index];

	memset(&request, 0, sizeof(request));
	request.size = sizeof(request);
	request.flags = rng_below(rng, 3) ? 0 : CMAMEM_MAP;
	slot_name(request.name, pool, slot);
	result = cmamem_ioctl(worker.fds[pool], CMAMEM_IOCTL_ATTACH, &request);
	if (result) {
		if (result == -ENOENT)
			count_event(COUNT_ATTACH_MISSED);
		else if (result == -ENOMEM || result == -EDQUOT)
			count_event(COUNT_ENOMEM);
		else
			worker_err("ATTACH %s failed: %s", request.name,
				   strerror(-result));
		entry_done(index);
		return;
	}
	count_event(COUNT_ATTACH);
	entry->has_handle = true;
	entry->pool = pool;
	entry->handle = request.handle;
	entry->mode = request.mode;
	entry->mmap_offset = request.mmap_offset;
	entry->length = (size_t)request.length;
	entry->pattern = name_pattern(request.name);
	memcpy(entry->name, request.name, CMAMEM_NAME_SIZE);
	if (!request.handle || !request.length ||
	    request.length % shared->page_size || !request.mmap_offset ||
	    request.mmap_offset % shared->page_size ||
	    request.mode < CMAMEM_MODE_COHERENT ||
	    request.mode > CMAMEM_MODE_CACHED ||
	    !(request.flags & CMAMEM_MAP) != !request.user_address) {
		worker_err("ATTACH %s: bad reply: handle %u mode %u length %llu mmap_offset %#llx user_address %#llx",
			   request.name, request.handle, request.mode,
			   (unsigned long long)request.length,
			   (unsigned long long)request.mmap_offset,
			   (unsigned long long)request.user_address);
		entry_free_handle(entry, "bad ATTACH reply");
		entry_done(index);
		return;
	}

	if (request.flags & CMAMEM_MAP) {
		address = (unsigned char *)(uintptr_t)request.user_address;
	} else {
		address = map_block(worker.fds[pool], entry->mmap_offset,
				    entry->length, &result);
		if (!address) {
			if (result != -ENOMEM)
				worker_err("mmap of attached block %s failed: %s",
					   entry->name, strerror(-result));
			entry_free_handle(entry, "mmap failed");
			entry_done(index);
			return;
		}
	}
	fragment_add(entry, address, entry->length, 0);
	bad = pattern_check(address, entry->length, 0, entry->pattern, false,
			    rng);
	if (slot_unchanged(pool, slot, before)) {
		/* It is the published block: its length and data are known. */
		if (shared->slot_pages[pool][slot] * shared->page_size !=
		    entry->length)
			worker_err("ATTACH %s: length %zu, its owner allocated %zu",
				   entry->name, entry->length,
				   (size_t)shared->slot_pages[pool][slot] *
				   shared->page_size);
		if (bad >= 0)
			worker_err("attached block %s (%s, %zu bytes) has wrong data at +%ld",
				   entry->name, cmamem_mode_name(entry->mode),
				   entry->length, bad);
	}
	/*
	 * Otherwise the block may be one whose owner has not written it yet:
	 * its data is only checked later if it is right now.
	 */
	entry->verifiable = bad < 0;
	entry_done(index);
}

static void operation_mmap(struct rng *rng)
{
	size_t page = shared->page_size, pages, first, count_pages;
	unsigned char *address;
	struct entry *entry;
	int index, result;

	index = entry_pick(rng, WANT_HANDLE | WANT_ROOM);
	if (index < 0)
		return;
	entry = &worker.entries[index];
	pages = entry->length / page;
	first = rng_below(rng, (__u32)pages);
	count_pages = 1 + rng_below(rng, (__u32)(pages - first));
	address = map_block(worker.fds[entry->pool],
			    entry->mmap_offset + (__u64)first * page,
			    count_pages * page, &result);
	if (!address) {
		if (result == -ENOMEM)
			count_event(COUNT_ENOMEM);
		else
			worker_err("mmap of pages %zu+%zu of block %s (handle %u) failed: %s",
				   first, count_pages, entry->name,
				   entry->handle, strerror(-result));
		entry_done(index);
		return;
	}
	count_event(COUNT_MMAP);
	fragment_add(entry, address, count_pages * page, first * page);
	entry_check(entry, rng, "after mmap");
	entry_done(index);
}

static void operation_munmap(struct rng *rng)
{
	size_t page = shared->page_size, pages, start, length;
	struct fragment *fragment;
	struct entry *entry;
	int index, which, kind;

	index = entry_pick(rng, WANT_FRAGMENT);
	if (index < 0)
		return;
	entry = &worker.entries[index];
	which = (int)rng_below(rng, (__u32)entry->fragment_count);
	fragment = &entry->fragments[which];
	pages = fragment->length / page;
	kind = (int)rng_below(rng, 4);
	if (pages < 2)
		kind = 0;
	if (kind == 3 && (pages < 3 || entry->fragment_count >= MAX_FRAGMENTS))
		kind = 1;

	switch (kind) {
	case 0:		/* all of it */
		start = 0;
		length = pages;
		break;
	case 1:		/* the head */
		start = 0;
		length = 1 + rng_below(rng, (__u32)(pages - 1));
		break;
	case 2:		/* the tail */
		length = 1 + rng_below(rng, (__u32)(pages - 1));
		start = pages - length;
		break;
	default:	/* a hole in the middle */
		start = 1 + rng_below(rng, (__u32)(pages - 2));
		length = 1 + rng_below(rng, (__u32)(pages - 1 - start));
		break;
	}
	if (munmap(fragment->address + start * page, length * page)) {
		worker_err("munmap of pages %zu+%zu of a mapping of %s failed: %s",
			   start, length, entry->name, strerror(errno));
		entry_done(index);
		return;
	}
	count_event(COUNT_MUNMAP);
	if (start == 0 && length == pages) {
		fragment_remove(entry, which);
	} else if (start == 0) {
		fragment->address += length * page;
		fragment->block_offset += length * page;
		fragment->length -= length * page;
	} else if (start + length == pages) {
		fragment->length -= length * page;
	} else {
		fragment_add(entry, fragment->address + (start + length) * page,
			     (pages - start - length) * page,
			     fragment->block_offset + (start + length) * page);
		fragment->length = start * page;
	}
	entry_check(entry, rng, "after partial munmap");
	entry_done(index);
}

static void operation_touch(struct rng *rng)
{
	size_t page = shared->page_size;
	struct fragment *fragment;
	struct entry *entry;
	size_t page_index;
	int index, result;

	index = entry_pick(rng, WANT_FRAGMENT | WANT_VERIFIABLE);
	if (index < 0)
		return;
	entry = &worker.entries[index];
	entry_check(entry, rng, "touch");
	/* Write one page again; the values do not change. */
	fragment = &entry->fragments[rng_below(rng,
					       (__u32)entry->fragment_count)];
	page_index = rng_below(rng, (__u32)(fragment->length / page));
	pattern_fill(fragment->address + page_index * page, page,
		     fragment->block_offset + page_index * page,
		     entry->pattern);
	if (entry->has_handle && entry->mode == CMAMEM_MODE_CACHED) {
		struct cmamem_sync sync = {
			.size = sizeof(sync),
			.flags = CMAMEM_SYNC_FOR_DEVICE,
			.handle = entry->handle,
			.offset = fragment->block_offset + page_index * page,
			.length = page,
		};

		result = cmamem_ioctl(worker.fds[entry->pool],
				     CMAMEM_IOCTL_SYNC, &sync);
		if (result)
			worker_err("SYNC for device of a page of %s failed: %s",
				   entry->name, strerror(-result));
	}
	count_event(COUNT_TOUCH);
	entry_done(index);
}

static void operation_free(struct rng *rng)
{
	struct entry *entry;
	int index;

	index = entry_pick(rng, WANT_HANDLE);
	if (index < 0)
		return;
	entry = &worker.entries[index];
	entry_free_handle(entry, "free");
	/* Mappings keep the block alive after its last handle is gone. */
	entry_check(entry, rng, "after FREE");
	entry_done(index);
}

static void operation_info(struct rng *rng)
{
	const struct pool_description *pool;
	struct cmamem_block_info info;
	struct cmamem_pool_info pool_info;
	struct cmamem_sync sync;
	struct entry *entry;
	size_t page = shared->page_size, pages, first;
	int index, result;

	index = entry_pick(rng, WANT_HANDLE);
	if (index < 0)
		return;
	entry = &worker.entries[index];
	pool = &shared->pools[entry->pool];

	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	info.handle = entry->handle;
	result = cmamem_ioctl(worker.fds[entry->pool], CMAMEM_IOCTL_BLOCK_INFO,
			     &info);
	if (result) {
		worker_err("BLOCK_INFO of handle %u (%s) failed: %s",
			   entry->handle, entry->name, strerror(-result));
	} else if (info.length != entry->length || info.mode != entry->mode ||
		   info.mmap_offset != entry->mmap_offset ||
		   strncmp(info.name, entry->name, CMAMEM_NAME_SIZE) ||
		   strncmp(info.pool, pool->name, CMAMEM_NAME_SIZE) ||
		   info.handles < 1 ||
		   info.mappings < (__u32)entry->fragment_count ||
		   (shared->root && info.owner_uid != 0)) {
		worker_err("BLOCK_INFO of %s disagrees: length %llu/%zu mode %u/%u offset %#llx/%#llx name '%.32s' pool '%.32s'/'%s' handles %u mappings %u (own %d) owner %u",
			   entry->name, (unsigned long long)info.length,
			   entry->length, info.mode, entry->mode,
			   (unsigned long long)info.mmap_offset,
			   (unsigned long long)entry->mmap_offset, info.name,
			   info.pool, pool->name, info.handles, info.mappings,
			   entry->fragment_count, info.owner_uid);
	}

	pages = entry->length / page;
	first = rng_below(rng, (__u32)pages);
	memset(&sync, 0, sizeof(sync));
	sync.size = sizeof(sync);
	sync.flags = rng_below(rng, 2) ? CMAMEM_SYNC_FOR_CPU :
					 CMAMEM_SYNC_FOR_DEVICE;
	sync.handle = entry->handle;
	sync.offset = (__u64)first * page + rng_below(rng, (__u32)page);
	sync.length = 1 + rng_below(rng, (__u32)(entry->length -
						    sync.offset));
	result = cmamem_ioctl(worker.fds[entry->pool], CMAMEM_IOCTL_SYNC, &sync);
	if (result)
		worker_err("SYNC of %llu bytes at %llu of %s (%zu bytes) failed: %s",
			   (unsigned long long)sync.length,
			   (unsigned long long)sync.offset, entry->name,
			   entry->length, strerror(-result));
	/* One byte past the end must be refused, without overflow. */
	sync.offset = entry->length;
	sync.length = 1;
	result = cmamem_ioctl(worker.fds[entry->pool], CMAMEM_IOCTL_SYNC, &sync);
	if (result != -EINVAL)
		worker_err("SYNC past the end of %s gave %s, not EINVAL",
			   entry->name, result ? strerror(-result) : "success");

	memset(&pool_info, 0, sizeof(pool_info));
	pool_info.size = sizeof(pool_info);
	result = cmamem_ioctl(worker.fds[entry->pool], CMAMEM_IOCTL_POOL_INFO,
			     &pool_info);
	if (result)
		worker_err("POOL_INFO of %s failed: %s", pool->name,
			   strerror(-result));
	else if (!pool_info.blocks || pool_info.used_bytes < entry->length ||
		 pool_info.page_size != page ||
		 ((pool_info.pool_flags & CMAMEM_POOL_TOTAL_KNOWN) &&
		  pool_info.used_bytes > pool_info.total_bytes))
		worker_err("POOL_INFO of %s while holding %s: blocks %u used %llu total %llu page_size %u",
			   pool->name, entry->name, pool_info.blocks,
			   (unsigned long long)pool_info.used_bytes,
			   (unsigned long long)pool_info.total_bytes,
			   pool_info.page_size);
	count_event(COUNT_INFO);
	entry_done(index);
}

/* Called with fd_lock held for writing: nothing else is in flight. */
static void operation_reopen(struct rng *rng)
{
	int pool = (int)rng_below(rng, (__u32)shared->pool_count);
	int index, fd;

	for (index = 0; index < MAX_ENTRIES; index++) {
		struct entry *entry = &worker.entries[index];

		if (entry->used && entry->pool == pool && entry->has_handle &&
		    entry->owned && entry->slot >= 0)
			slot_unpublish(pool, entry->slot);
	}
	/* Closing the file drops every handle it holds. */
	if (close(worker.fds[pool]))
		worker_err("close of the %s pool file failed: %s",
			   shared->pools[pool].name, strerror(errno));
	for (index = 0; index < MAX_ENTRIES; index++) {
		struct entry *entry = &worker.entries[index];

		if (!entry->used || entry->pool != pool || !entry->has_handle)
			continue;
		if (entry->owned && entry->slot >= 0)
			slot_release(pool, entry->slot);
		entry->has_handle = false;
		entry->slot = -1;
		entry_check(entry, rng, "after close of the pool file");
		if (!entry->fragment_count)
			entry->used = false;
	}
	pthread_mutex_lock(&worker.fd_create_lock);
	fd = open(shared->pools[pool].path, O_RDWR | O_CLOEXEC);
	pthread_mutex_unlock(&worker.fd_create_lock);
	if (fd < 0) {
		worker_err("reopen of %s failed: %s", shared->pools[pool].path,
			   strerror(errno));
		fd = -1;
	}
	worker.fds[pool] = fd;
	count_event(COUNT_REOPEN);
}

static void operation_fork_touch(struct rng *rng)
{
	struct fragment *fragment;
	struct entry *entry;
	int index, status;
	pid_t child;

	index = entry_pick(rng, WANT_FRAGMENT | WANT_VERIFIABLE);
	if (index < 0)
		return;
	entry = &worker.entries[index];
	fragment = &entry->fragments[rng_below(rng,
					       (__u32)entry->fragment_count)];
	child = fork();
	if (child < 0) {
		if (errno != ENOMEM && errno != EAGAIN)
			worker_err("fork failed: %s", strerror(errno));
		entry_done(index);
		return;
	}
	if (child == 0) {
		/* Only plain memory accesses here: other threads held locks. */
		if (pattern_check(fragment->address, fragment->length,
				  fragment->block_offset, entry->pattern,
				  false, rng) >= 0)
			_exit(TOUCH_MISMATCH_STATUS);
		pattern_fill(fragment->address, shared->page_size,
			     fragment->block_offset, entry->pattern);
		_exit(0);
	}
	if (waitpid(child, &status, 0) != child)
		worker_err("waitpid for the touching child failed: %s",
			   strerror(errno));
	else if (!WIFEXITED(status) || WEXITSTATUS(status))
		worker_err("child touching inherited mapping of %s (%s) ended with %s %d",
			   entry->name, cmamem_mode_name(entry->mode),
			   WIFSIGNALED(status) ? "signal" : "status",
			   WIFSIGNALED(status) ? WTERMSIG(status) :
			   WEXITSTATUS(status));
	count_event(COUNT_FORK);
	entry_check(entry, rng, "after the child touched it");
	entry_done(index);
}

struct race_mmap {
	pthread_barrier_t start;
	int fd;
	__u64 offset;
	size_t length;
	unsigned char *address;
	int error;
};

static void *race_mmap_helper(void *argument)
{
	struct race_mmap *race = argument;

	pthread_barrier_wait(&race->start);
	race->address = map_block(race->fd, race->offset, race->length,
				  &race->error);
	return NULL;
}

/*
 * FREE of a handle while another thread maps it. Called with fd_lock held
 * for writing: the driver may hand the freed offset range to the next
 * block allocated on the file, and a racing mmap() would then map that
 * block instead, which is allowed; with no other operation in flight in
 * this process, nothing can be allocated on the file meanwhile.
 */
static void operation_race_free_mmap(struct rng *rng)
{
	struct race_mmap race;
	pthread_t helper;
	struct entry *entry;
	int index;

	index = entry_pick(rng, WANT_HANDLE | WANT_ROOM);
	if (index < 0)
		return;
	entry = &worker.entries[index];
	memset(&race, 0, sizeof(race));
	race.fd = worker.fds[entry->pool];
	race.offset = entry->mmap_offset;
	race.length = entry->length;
	pthread_barrier_init(&race.start, NULL, 2);
	if (pthread_create(&helper, NULL, race_mmap_helper, &race)) {
		pthread_barrier_destroy(&race.start);
		entry_done(index);
		return;
	}
	pthread_barrier_wait(&race.start);
	entry_free_handle(entry, "FREE racing mmap");
	pthread_join(helper, NULL);
	pthread_barrier_destroy(&race.start);
	count_event(COUNT_RACE_FREE_MMAP);
	if (race.address) {
		count_event(COUNT_RACE_MMAP_MAPPED);
		fragment_add(entry, race.address, race.length, 0);
	} else if (race.error != -ENXIO && race.error != -ENOMEM) {
		worker_err("mmap racing FREE of %s failed with %s, not ENXIO",
			   entry->name, strerror(-race.error));
	}
	entry_check(entry, rng, "after FREE raced mmap");
	entry_done(index);
}

struct race_close {
	pthread_barrier_t start;
	int fd;
	__u32 handle;
	__u64 offset;
	size_t length;
	__u32 pattern;
	struct rng rng;
	int successes;
	int bad_error;
	const char *bad_call;
	long bad_data;
};

static void *race_close_helper(void *argument)
{
	struct race_close *race = argument;
	int round, result = 0;

	race->bad_data = -1;
	pthread_barrier_wait(&race->start);
	for (round = 0; round < RACE_CLOSE_ROUNDS; round++) {
		const char *call;

		switch (round % 3) {
		case 0: {
			unsigned char *address;

			call = "mmap";
			address = map_block(race->fd, race->offset,
					    race->length, &result);
			if (address) {
				long bad = pattern_check(address, race->length,
							 0, race->pattern,
							 false, &race->rng);

				if (bad >= 0)
					race->bad_data = bad;
				munmap(address, race->length);
			}
			break;
		}
		case 1: {
			struct cmamem_block_info info = {
				.size = sizeof(info),
				.handle = race->handle,
			};

			call = "BLOCK_INFO";
			result = cmamem_ioctl(race->fd, CMAMEM_IOCTL_BLOCK_INFO,
					     &info);
			if (!result && info.length != race->length)
				race->bad_data = 0;
			break;
		}
		default: {
			struct cmamem_sync sync = {
				.size = sizeof(sync),
				.flags = CMAMEM_SYNC_FOR_DEVICE,
				.handle = race->handle,
				.length = race->length,
			};

			call = "SYNC";
			result = cmamem_ioctl(race->fd, CMAMEM_IOCTL_SYNC,
					     &sync);
			break;
		}
		}
		if (!result) {
			race->successes++;
			continue;
		}
		if (result == -EBADF)
			break;
		if (result != -ENOMEM) {
			race->bad_error = result;
			race->bad_call = call;
			break;
		}
	}
	return NULL;
}

/*
 * close() of a file while another thread maps it and calls ioctls on it.
 * The file is private to this operation, and no descriptor is created in
 * this process until the helper is done, so the number is not reused.
 */
static void operation_race_close(struct rng *rng)
{
	int pool = (int)rng_below(rng, (__u32)shared->pool_count);
	struct cmamem_alloc request;
	struct race_close race;
	unsigned char *address;
	pthread_t helper;
	int fd, result, spin;

	pthread_mutex_lock(&worker.fd_create_lock);
	fd = open(shared->pools[pool].path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		worker_err("open of %s failed: %s", shared->pools[pool].path,
			   strerror(errno));
		pthread_mutex_unlock(&worker.fd_create_lock);
		return;
	}
	memset(&request, 0, sizeof(request));
	request.size = sizeof(request);
	request.flags = CMAMEM_MAP;
	request.length = (__u64)(1 + rng_below(rng, 4)) * shared->page_size;
	request.mode = shared->pools[pool].pool_flags & CMAMEM_POOL_CACHED ?
		       random_mode(rng) : CMAMEM_MODE_COHERENT;
	snprintf(request.name, CMAMEM_NAME_SIZE, "stress-%x-p%d-%u",
		 shared->run_id, (int)getpid(),
		 __atomic_fetch_add(&worker.private_serial, 1,
				    __ATOMIC_RELAXED));
	result = cmamem_ioctl(fd, CMAMEM_IOCTL_ALLOC, &request);
	if (result) {
		if (result != -ENOMEM && result != -EDQUOT)
			worker_err("ALLOC %s in %s failed: %s", request.name,
				   shared->pools[pool].name, strerror(-result));
		close(fd);
		pthread_mutex_unlock(&worker.fd_create_lock);
		return;
	}
	address = (unsigned char *)(uintptr_t)request.user_address;
	memset(&race, 0, sizeof(race));
	race.fd = fd;
	race.handle = request.handle;
	race.offset = request.mmap_offset;
	race.length = (size_t)request.length;
	race.pattern = name_pattern(request.name);
	rng_seed(&race.rng, rng_next(rng), 1);
	pattern_fill(address, race.length, 0, race.pattern);

	pthread_barrier_init(&race.start, NULL, 2);
	if (pthread_create(&helper, NULL, race_close_helper, &race)) {
		pthread_barrier_destroy(&race.start);
		close(fd);
	} else {
		pthread_barrier_wait(&race.start);
		/* A little slack, so close() lands at varying points. */
		for (spin = rng_below(rng, 4); spin > 0; spin--)
			sched_yield();
		if (close(fd))
			worker_err("close racing mmap/ioctl failed: %s",
				   strerror(errno));
		pthread_join(helper, NULL);
		pthread_barrier_destroy(&race.start);
		count_event(COUNT_RACE_CLOSE);
		if (race.successes < RACE_CLOSE_ROUNDS)
			count_event(COUNT_RACE_CLOSE_EBADF);
		if (race.bad_call)
			worker_err("%s racing close() failed with %s, not EBADF",
				   race.bad_call, strerror(-race.bad_error));
		if (race.bad_data >= 0)
			worker_err("mapping or BLOCK_INFO racing close() of %s was wrong (offset %ld)",
				   request.name, race.bad_data);
	}
	pthread_mutex_unlock(&worker.fd_create_lock);
	/* The CMAMEM_MAP mapping outlives the file. */
	if (pattern_check(address, race.length, 0, race.pattern, true,
			  rng) >= 0)
		worker_err("block %s changed after its file was closed",
			   request.name);
	munmap(address, race.length);
}

struct race_attach {
	pthread_barrier_t start;
	int fd;
	char name[CMAMEM_NAME_SIZE];
	struct cmamem_attach reply;
	int result;
};

static void *race_attach_helper(void *argument)
{
	struct race_attach *race = argument;

	memset(&race->reply, 0, sizeof(race->reply));
	race->reply.size = sizeof(race->reply);
	memcpy(race->reply.name, race->name, CMAMEM_NAME_SIZE);
	pthread_barrier_wait(&race->start);
	race->result = cmamem_ioctl(race->fd, CMAMEM_IOCTL_ATTACH,
				   &race->reply);
	return NULL;
}

/* ATTACH of a name while another thread frees its (last) handle. */
static void operation_race_attach_free(struct rng *rng)
{
	struct race_attach race;
	struct entry *entry;
	pthread_t helper;
	int index, result;

	index = entry_pick(rng, WANT_HANDLE | WANT_PUBLISHED);
	if (index < 0)
		return;
	entry = &worker.entries[index];
	memset(&race, 0, sizeof(race));
	race.fd = worker.fds[entry->pool];
	memcpy(race.name, entry->name, CMAMEM_NAME_SIZE);
	pthread_barrier_init(&race.start, NULL, 2);
	if (pthread_create(&helper, NULL, race_attach_helper, &race)) {
		pthread_barrier_destroy(&race.start);
		entry_done(index);
		return;
	}
	/* The slot stays busy until the race is over: no new owner. */
	slot_unpublish(entry->pool, entry->slot);
	pthread_barrier_wait(&race.start);
	{
		struct cmamem_free request = {
			.size = sizeof(request),
			.handle = entry->handle,
		};

		result = cmamem_ioctl(race.fd, CMAMEM_IOCTL_FREE, &request);
		if (result)
			worker_err("FREE racing ATTACH of %s failed: %s",
				   entry->name, strerror(-result));
		entry->has_handle = false;
	}
	pthread_join(helper, NULL);
	pthread_barrier_destroy(&race.start);
	count_event(COUNT_RACE_ATTACH_FREE);
	if (!race.result) {
		struct cmamem_free request = {
			.size = sizeof(request),
			.handle = race.reply.handle,
		};
		unsigned char *address;

		count_event(COUNT_RACE_ATTACH_WON);
		if (race.reply.length != entry->length)
			worker_err("ATTACH racing FREE of %s: length %llu, not %zu",
				   entry->name,
				   (unsigned long long)race.reply.length,
				   entry->length);
		address = map_block(race.fd, race.reply.mmap_offset,
				    entry->length, &result);
		if (address) {
			if (pattern_check(address, entry->length, 0,
					  entry->pattern, false, rng) >= 0)
				worker_err("block %s attached while it was freed has wrong data",
					   entry->name);
			munmap(address, entry->length);
		} else if (result != -ENOMEM) {
			worker_err("mmap of %s attached while it was freed failed: %s",
				   entry->name, strerror(-result));
		}
		result = cmamem_ioctl(race.fd, CMAMEM_IOCTL_FREE, &request);
		if (result)
			worker_err("FREE of handle %u from ATTACH racing FREE failed: %s",
				   race.reply.handle, strerror(-result));
	} else if (race.result != -ENOENT && race.result != -ENOMEM &&
		   race.result != -EDQUOT) {
		worker_err("ATTACH racing FREE of %s failed with %s, not ENOENT",
			   entry->name, strerror(-race.result));
	}
	slot_release(entry->pool, entry->slot);
	entry->slot = -1;
	entry_check(entry, rng, "after ATTACH raced FREE");
	entry_done(index);
}

/* ALLOC of a name that is published: EEXIST, unless it just went away. */
static void operation_duplicate(struct rng *rng)
{
	int pool = (int)rng_below(rng, (__u32)shared->pool_count);
	int slot = slot_find_ready(rng, pool);
	struct cmamem_alloc request;
	__u32 before;
	int result;

	if (slot < 0)
		return;
	before = slot_load(pool, slot);
	if (SLOT_STATE(before) != SLOT_READY)
		return;
	memset(&request, 0, sizeof(request));
	request.size = sizeof(request);
	request.length = shared->page_size;
	request.mode = CMAMEM_MODE_COHERENT;
	slot_name(request.name, pool, slot);
	result = cmamem_ioctl(worker.fds[pool], CMAMEM_IOCTL_ALLOC, &request);
	count_event(COUNT_DUPLICATE);
	if (!result) {
		struct cmamem_free free_request = {
			.size = sizeof(free_request),
			.handle = request.handle,
		};

		if (slot_unchanged(pool, slot, before))
			worker_err("ALLOC of %s succeeded while a block of that name was published",
				   request.name);
		result = cmamem_ioctl(worker.fds[pool], CMAMEM_IOCTL_FREE,
				     &free_request);
		if (result)
			worker_err("FREE of duplicate %s failed: %s",
				   request.name, strerror(-result));
	} else if (result != -EEXIST && result != -ENOMEM &&
		   result != -EDQUOT) {
		worker_err("ALLOC of existing name %s failed with %s, not EEXIST",
			   request.name, strerror(-result));
	}
}

enum operation {
	OPERATION_ALLOC,
	OPERATION_ATTACH,
	OPERATION_MMAP,
	OPERATION_MUNMAP,
	OPERATION_TOUCH,
	OPERATION_FREE,
	OPERATION_INFO,
	OPERATION_REOPEN,
	OPERATION_FORK_TOUCH,
	OPERATION_RACE_FREE_MMAP,
	OPERATION_RACE_CLOSE,
	OPERATION_RACE_ATTACH_FREE,
	OPERATION_DUPLICATE,
	OPERATION_COUNT,
};

/* How often each operation is picked, relative to the others. */
static const unsigned int operation_weights[OPERATION_COUNT] = {
	[OPERATION_ALLOC] = 18,
	[OPERATION_ATTACH] = 12,
	[OPERATION_MMAP] = 12,
	[OPERATION_MUNMAP] = 10,
	[OPERATION_TOUCH] = 10,
	[OPERATION_FREE] = 12,
	[OPERATION_INFO] = 8,
	[OPERATION_REOPEN] = 1,	/* it drops a whole pool file's handles */
	[OPERATION_FORK_TOUCH] = 3,
	[OPERATION_RACE_FREE_MMAP] = 3,
	[OPERATION_RACE_CLOSE] = 2,
	[OPERATION_RACE_ATTACH_FREE] = 3,
	[OPERATION_DUPLICATE] = 3,
};

static enum operation pick_operation(struct rng *rng)
{
	unsigned int total = 0, choice;
	int index;

	for (index = 0; index < OPERATION_COUNT; index++)
		total += operation_weights[index];
	choice = rng_below(rng, total);
	for (index = 0; index < OPERATION_COUNT; index++) {
		if (choice < operation_weights[index])
			return (enum operation)index;
		choice -= operation_weights[index];
	}
	return OPERATION_ALLOC;
}

static void run_operation(enum operation operation, struct rng *rng)
{
	switch (operation) {
	case OPERATION_ALLOC:
		operation_alloc(rng);
		break;
	case OPERATION_ATTACH:
		operation_attach(rng);
		break;
	case OPERATION_MMAP:
		operation_mmap(rng);
		break;
	case OPERATION_MUNMAP:
		operation_munmap(rng);
		break;
	case OPERATION_TOUCH:
		operation_touch(rng);
		break;
	case OPERATION_FREE:
		operation_free(rng);
		break;
	case OPERATION_INFO:
		operation_info(rng);
		break;
	case OPERATION_REOPEN:
		operation_reopen(rng);
		break;
	case OPERATION_FORK_TOUCH:
		operation_fork_touch(rng);
		break;
	case OPERATION_RACE_FREE_MMAP:
		operation_race_free_mmap(rng);
		break;
	case OPERATION_RACE_CLOSE:
		operation_race_close(rng);
		break;
	case OPERATION_RACE_ATTACH_FREE:
		operation_race_attach_free(rng);
		break;
	case OPERATION_DUPLICATE:
		operation_duplicate(rng);
		break;
	case OPERATION_COUNT:
		break;
	}
}

static void *worker_thread(void *argument)
{
	struct thread_context *context = argument;
	enum operation operation;

	while (!__atomic_load_n(&shared->stop, __ATOMIC_ACQUIRE)) {
		if (rng_below(&context->rng, ABRUPT_ONE_IN) == 0) {
			/* Leave with everything still held and mapped. */
			__atomic_store_n(&shared->dying[worker.index], 1,
					 __ATOMIC_SEQ_CST);
			count_event(COUNT_ABRUPT_EXIT);
			_exit(ABRUPT_EXIT_STATUS);
		}
		operation = pick_operation(&context->rng);
		if (operation == OPERATION_REOPEN ||
		    operation == OPERATION_RACE_FREE_MMAP)
			pthread_rwlock_wrlock(&worker.fd_lock);
		else
			pthread_rwlock_rdlock(&worker.fd_lock);
		run_operation(operation, &context->rng);
		pthread_rwlock_unlock(&worker.fd_lock);
	}
	return NULL;
}

/* Frees and unmaps everything the worker still holds. */
static void worker_cleanup(void)
{
	int index, fragment, pool;

	for (index = 0; index < MAX_ENTRIES; index++) {
		struct entry *entry = &worker.entries[index];

		if (!entry->used)
			continue;
		for (fragment = 0; fragment < entry->fragment_count;
		     fragment++)
			if (munmap(entry->fragments[fragment].address,
				   entry->fragments[fragment].length))
				worker_err("munmap at cleanup failed: %s",
					   strerror(errno));
		entry->fragment_count = 0;
		if (entry->has_handle)
			entry_free_handle(entry, "cleanup");
		entry->used = false;
	}
	for (pool = 0; pool < shared->pool_count; pool++)
		if (worker.fds[pool] >= 0 && close(worker.fds[pool]))
			worker_err("close at cleanup failed: %s", strerror(errno));
}

static void __noreturn
worker_main(int index, unsigned int incarnation)
{
	struct thread_context contexts[STRESS_THREADS];
	pthread_rwlockattr_t lock_attributes;
	int pool, thread, started = 0;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	memset(&worker, 0, sizeof(worker));
	worker.index = index;
	/* Writers first, so a reopen is not starved by the other threads. */
	pthread_rwlockattr_init(&lock_attributes);
	pthread_rwlockattr_setkind_np(&lock_attributes,
				      PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&worker.fd_lock, &lock_attributes);
	pthread_mutex_init(&worker.fd_create_lock, NULL);
	pthread_mutex_init(&worker.table_lock, NULL);
	for (pool = 0; pool < shared->pool_count; pool++) {
		worker.fds[pool] = open(shared->pools[pool].path,
					O_RDWR | O_CLOEXEC);
		if (worker.fds[pool] < 0) {
			worker_err("open of %s failed: %s",
				   shared->pools[pool].path, strerror(errno));
			_exit(1);
		}
	}
	for (thread = 0; thread < STRESS_THREADS; thread++) {
		contexts[thread].index = thread;
		rng_seed(&contexts[thread].rng, shared->seed,
			 ((__u64)index << 32) |
			 ((__u64)incarnation << 8) | (__u64)thread);
		if (pthread_create(&contexts[thread].thread, NULL,
				   worker_thread, &contexts[thread])) {
			worker_err("pthread_create failed");
			break;
		}
		started++;
	}
	for (thread = 0; thread < started; thread++)
		pthread_join(contexts[thread].thread, NULL);
	worker_cleanup();
	_exit(worker.failures ? 1 : 0);
}

/* ---- the parent ---------------------------------------------------- */

static int pool_info(const char *path, struct cmamem_pool_info *info)
{
	int fd = open(path, O_RDWR | O_CLOEXEC), result;

	if (fd < 0)
		return -errno;
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	result = cmamem_ioctl(fd, CMAMEM_IOCTL_POOL_INFO, info);
	close(fd);
	return result;
}

static int compare_strings(const void *left, const void *right)
{
	return strcmp((const char *)left, (const char *)right);
}

/* Fills shared->pools: /dev/cmamem, then every /dev/cmamem-* by name. */
static int discover_pools(void)
{
	char names[MAX_POOLS][64];
	struct dirent *dirent;
	int count = 0, index;
	DIR *directory;

	snprintf(names[count++], sizeof(names[0]), "/dev/cmamem");
	directory = opendir("/dev");
	if (directory) {
		while ((dirent = readdir(directory)) && count < MAX_POOLS) {
			if (strncmp(dirent->d_name, "cmamem-", 7))
				continue;
			snprintf(names[count++], sizeof(names[0]), "/dev/%.40s",
				 dirent->d_name);
		}
		closedir(directory);
	}
	qsort(names + 1, count - 1, sizeof(names[0]), compare_strings);
	shared->pool_count = 0;
	for (index = 0; index < count; index++) {
		struct pool_description *pool =
			&shared->pools[shared->pool_count];
		struct cmamem_pool_info info;

		if (pool_info(names[index], &info))
			continue;
		snprintf(pool->path, sizeof(pool->path), "%.63s", names[index]);
		memcpy(pool->name, info.name, CMAMEM_NAME_SIZE);
		pool->name[CMAMEM_NAME_SIZE - 1] = '\0';
		pool->pool_flags = info.pool_flags;
		pool->total_bytes = info.total_bytes;
		pool->max_block_bytes = info.max_block_bytes;
		shared->pool_count++;
	}
	return shared->pool_count;
}

static pid_t spawn_worker(int index, unsigned int incarnation)
{
	pid_t child;

	fflush(stdout);
	fflush(stderr);
	child = fork();
	if (child == 0)
		worker_main(index, incarnation);
	return child;
}

FIXTURE(stress) {
	struct shared_state *shared;
};

FIXTURE_SETUP(stress)
{
	self->shared = MAP_FAILED;
	if (geteuid() != 0)
		SKIP(return, "the stress test runs as root");
	if (access("/dev/cmamem", F_OK))
		SKIP(return, "/dev/cmamem is missing (is cmamem loaded?)");
	self->shared = mmap(NULL, sizeof(*self->shared),
			    PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(self->shared != MAP_FAILED);
	shared = self->shared;
	memset(shared, 0, sizeof(*shared));
	shared->page_size = (size_t)sysconf(_SC_PAGESIZE);
	shared->root = true;
	ASSERT_LT(0, discover_pools())
		TH_LOG("no pool answers POOL_INFO");
}

FIXTURE_TEARDOWN(stress)
{
	if (self->shared != MAP_FAILED)
		munmap(self->shared, sizeof(*self->shared));
}

TEST_F_TIMEOUT(stress, random_workload, stress_timeout())
{
	unsigned int seconds = stress_seconds(), incarnation[STRESS_WORKERS];
	unsigned int kills = 0, respawns = 0, orphans = 0, bad_exits = 0;
	pid_t pids[STRESS_WORKERS];
	long long deadline, next_kill;
	struct rng rng;
	int index, pool, status;
	pid_t pid;

	shared->seed = seed_from_environment();
	shared->run_id = (unsigned int)(shared->seed & 0xfffff);
	rng_seed(&rng, shared->seed, 0xfeed);
	TH_LOG("seed %llu (CMAMEM_SEED=%llu replays it), page size %zu",
	       shared->seed, shared->seed, shared->page_size);
	TH_LOG("%u s, %d worker processes with %d threads each", seconds,
	       STRESS_WORKERS, STRESS_THREADS);
	for (pool = 0; pool < shared->pool_count; pool++) {
		struct cmamem_pool_info info;

		ASSERT_EQ(0, pool_info(shared->pools[pool].path, &info));
		TH_LOG("pool %s (%s): flags %#x total %llu max_block %llu, blocks %u used %llu",
		       shared->pools[pool].name, shared->pools[pool].path,
		       info.pool_flags, (unsigned long long)info.total_bytes,
		       (unsigned long long)info.max_block_bytes, info.blocks,
		       (unsigned long long)info.used_bytes);
	}

	/* Orphaned grandchildren of killed workers come back to us. */
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1));
	for (index = 0; index < STRESS_WORKERS; index++) {
		incarnation[index] = 0;
		pids[index] = spawn_worker(index, 0);
		ASSERT_LT(0, pids[index]);
	}

	deadline = monotonic_ms() + (long long)seconds * 1000;
	next_kill = monotonic_ms() + KILL_MIN_MS +
		    rng_below(&rng, KILL_SPREAD_MS);
	while (monotonic_ms() < deadline) {
		int victim = -1;

		pid = waitpid(-1, &status, WNOHANG);
		if (pid == 0 && monotonic_ms() >= next_kill) {
			victim = (int)rng_below(&rng, STRESS_WORKERS);
			__atomic_store_n(&shared->dying[victim], 1,
					 __ATOMIC_SEQ_CST);
			kill(pids[victim], SIGKILL);
			pid = waitpid(pids[victim], &status, 0);
			next_kill = monotonic_ms() + KILL_MIN_MS +
				    rng_below(&rng, KILL_SPREAD_MS);
			kills++;
			count_event(COUNT_KILLED);
		}
		if (pid <= 0) {
			usleep(20000);
			continue;
		}
		for (index = 0; index < STRESS_WORKERS; index++)
			if (pids[index] == pid)
				break;
		if (index == STRESS_WORKERS) {
			/* A touching child whose worker was killed. */
			orphans++;
			if (!WIFEXITED(status) || WEXITSTATUS(status)) {
				bad_exits++;
				TH_LOG("orphaned touching child %d ended with status %#x",
				       (int)pid, status);
			}
			continue;
		}
		if (index == victim) {
			if (!(WIFSIGNALED(status) &&
			      WTERMSIG(status) == SIGKILL) &&
			    !(WIFEXITED(status) &&
			      WEXITSTATUS(status) == ABRUPT_EXIT_STATUS)) {
				bad_exits++;
				TH_LOG("worker %d (pid %d) killed, but status %#x",
				       index, (int)pid, status);
			}
		} else if (!WIFEXITED(status) ||
			   WEXITSTATUS(status) != ABRUPT_EXIT_STATUS) {
			bad_exits++;
			TH_LOG("worker %d (pid %d) ended on its own with %s %d",
			       index, (int)pid,
			       WIFSIGNALED(status) ? "signal" : "status",
			       WIFSIGNALED(status) ? WTERMSIG(status) :
						     WEXITSTATUS(status));
		}
		slots_reset_worker(index);
		__atomic_store_n(&shared->dying[index], 0, __ATOMIC_SEQ_CST);
		pids[index] = spawn_worker(index, ++incarnation[index]);
		ASSERT_LT(0, pids[index]);
		respawns++;
	}

	__atomic_store_n(&shared->stop, 1, __ATOMIC_SEQ_CST);
	for (index = 0; index < STRESS_WORKERS; index++) {
		pid = waitpid(pids[index], &status, 0);
		EXPECT_EQ(pids[index], pid);
		if (WIFEXITED(status) &&
		    WEXITSTATUS(status) == ABRUPT_EXIT_STATUS)
			continue;	/* it left just before the stop */
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			bad_exits++;
			TH_LOG("worker %d (pid %d) ended the run with %s %d",
			       index, (int)pids[index],
			       WIFSIGNALED(status) ? "signal" : "status",
			       WIFSIGNALED(status) ? WTERMSIG(status) :
						     WEXITSTATUS(status));
		}
	}
	while ((pid = waitpid(-1, &status, 0)) > 0) {
		orphans++;
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			bad_exits++;
			TH_LOG("orphaned touching child %d ended with status %#x",
			       (int)pid, status);
		}
	}

	for (index = 0; index < COUNT_COUNTERS; index++)
		TH_LOG("%-18s %lu", counter_names[index],
		       shared->counters[index]);
	TH_LOG("kills %u, respawns %u, orphaned children %u", kills,
	       respawns, orphans);
	for (index = 0; index < MAX_MESSAGES &&
	     index < (int)shared->failures; index++)
		TH_LOG("FAILURE: %s", shared->messages[index]);
	EXPECT_EQ(0u, shared->failures)
		TH_LOG("seed %llu", shared->seed);
	EXPECT_EQ(0u, bad_exits);
	/* Something must have happened for the run to mean anything. */
	EXPECT_LT(0ul, shared->counters[COUNT_ALLOC]);
	EXPECT_LT(0ul, shared->counters[COUNT_ATTACH]);

	for (pool = 0; pool < shared->pool_count; pool++) {
		struct cmamem_pool_info info;

		ASSERT_EQ(0, pool_info(shared->pools[pool].path, &info));
		TH_LOG("pool %s at the end: blocks %u used %llu peak %llu, %llu allocs %llu failed",
		       shared->pools[pool].name, info.blocks,
		       (unsigned long long)info.used_bytes,
		       (unsigned long long)info.peak_bytes,
		       (unsigned long long)info.allocations,
		       (unsigned long long)info.failures);
		EXPECT_EQ(0u, info.blocks);
		EXPECT_EQ(0ull, info.used_bytes);
	}
}

TEST_HARNESS_MAIN
