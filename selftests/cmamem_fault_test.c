// SPDX-License-Identifier: GPL-2.0
/*
 * cmamem fault-injection test: every path of the driver, with each memory
 * allocation made inside it failing in turn.
 *
 * The mechanism is the per-task fail-nth file
 * (Documentation/fault-injection/fault-injection.rst, "Systematic faults
 * using fail-nth"): writing N to /proc/thread-self/fail-nth makes the N-th
 * fault-injection point this thread reaches fail (slab and page
 * allocations here), whatever the probability; reading it back gives 0
 * once the failure was injected. The debugfs knobs cannot express "exactly
 * the N-th": space is a budget of bytes (slab object sizes, 1 << order for
 * pages) and interval counts on a global counter that is never reset.
 * failslab and fail_page_alloc still need their filters opened: with
 * ignore-gfp-wait=N (GFP_KERNEL allocations), and for fail_page_alloc
 * min-order=0 and ignore-gfp-highmem=N. probability stays 0, task-filter
 * is Y and only this test's thread has make-it-fail set, so nothing else
 * on the system is failed; verbose=0 keeps the log quiet. Everything is
 * put back afterwards, also when a test crashes (the teardown runs in the
 * parent).
 *
 * For each path (ALLOC in every mode and pool with and without CMAMEM_MAP,
 * ALLOC of a cached block from a full device-tree CMA pool, ATTACH with
 * and without CMAMEM_MAP, FREE, SYNC, BLOCK_INFO, POOL_INFO, EXPORT,
 * IMPORT of an exported block, mmap() of every mode (also where it must
 * allocate a page table), munmap() that splits a mapping or drops the
 * last reference, open() and close() of the device, open() of a pool's
 * debugfs tables, IMPORT of a udmabuf, vgem importing an exported block,
 * and the module's own init in finit_module()) and N = 1, 2, ...: arm
 * fail-nth with N, make the call, and check that it either succeeded or
 * failed cleanly (ENOMEM, or nothing at all for calls the uapi gives no
 * memory error), and that the state is consistent afterwards: a failed
 * ALLOC leaves no block and its name free, a failed ATTACH leaves no
 * handle, a failed mmap() no mapping. The sweep of a path ends at the
 * first N where the call succeeds without an injected failure (or, for
 * the ALLOC that cannot succeed, fails without one). At the end every
 * pool's counters are back where they started.
 *
 * The kernel's log is checked by the test harness (scripts/guest/init).
 */
#ifndef _FILE_OFFSET_BITS
#define _FILE_OFFSET_BITS 64
#endif

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <unistd.h>

/* The harness does not build cleanly under -Wextra on its own. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "cmamem_dmabuf_util.h"
#include "cmamem_util.h"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop
/* TEST_F()'s own wrapper keeps a local across setjmp(); not ours. */
#pragma GCC diagnostic ignored "-Wclobbered"

#include <linux/cmamem.h>

/* 32-bit builds must pass 64-bit mmap offsets. */
static_assert(sizeof(off_t) == 8, "build with 64-bit file offsets");

#define DEBUGFS			"/sys/kernel/debug"
#define FAILSLAB		DEBUGFS "/failslab"
#define FAIL_PAGE_ALLOC		DEBUGFS "/fail_page_alloc"
#define FAIL_NTH		"/proc/thread-self/fail-nth"
#define MAKE_IT_FAIL		"/proc/thread-self/make-it-fail"
#define DMA_DEBUG_DISABLED	DEBUGFS "/dma-api/disabled"
#define MAX_POOLS		8
#define MAX_SETTINGS		24
/* No path of the driver makes anywhere near this many allocations. */
#define MAX_FAULT_POINTS	3000
#define BLOCK_PAGES		3
#define HANDLE_PROBE_RANGE	8
#define FAULT_TIMEOUT		900
/* More fault points than one finit_module() of the module reaches. */
#define FAIL_NTH_BUDGET		1000000
#define MODULE_NAME		"cmamem"
#define MODULE_DIRECTORY	"/sys/module/" MODULE_NAME
/* What Linux 6.1 leaves in the sysfs root (see module_take()). */
#define STRAY_DRIVER_LINK	"/sys/platform:cmamem-pool"
/* The module file, for the tests that load it (scripts/guest/init sets it). */
#define MODULE_FILE_VARIABLE	"CMAMEM_MODULE_FILE"

struct setting {
	char path[96];
	char value[32];
};

struct pool_description {
	char path[64];
	char name[CMAMEM_NAME_SIZE];
	__u32 pool_flags;
	__u32 blocks;
	__u64 used_bytes;
};

FIXTURE(fault) {
	bool dma_debug_was_on;
	struct setting saved[MAX_SETTINGS];
	int saved_count;
	int pool_count;
	struct pool_description pools[MAX_POOLS];
	size_t page;
	int fail_nth;
	/* A burst's failslab "times" (see arm()), and its length; -1 and 0: none. */
	int slab_times;
	int burst;
	unsigned int serial;
	/* The module's parameters; reloaded with them if a test unloaded it. */
	bool module_unloaded;
	char module_parameters[512];
};

/* What one sweep saw, for the log and the checks. */
struct sweep {
	const char *path;
	char what[96];
	int points;		/* calls made */
	int injected;		/* calls with an injected failure */
	int failed;		/* calls that failed */
	int bad;		/* calls or states that were wrong */
	bool converged;
	char first_problem[256];
};

static void __printf(2, 3)
sweep_err(struct sweep *sweep, const char *format, ...)
{
	va_list arguments;

	if (!sweep->bad++) {
		va_start(arguments, format);
		vsnprintf(sweep->first_problem, sizeof(sweep->first_problem),
			  format, arguments);
		va_end(arguments);
	}
}

/* Remembers a knob's value (once), then sets it. */
static int set_knob(FIXTURE_DATA(fault) *self, const char *directory,
		    const char *knob, const char *value)
{
	struct setting *setting;
	char path[96];
	int result;

	snprintf(path, sizeof(path), "%s/%s", directory, knob);
	if (self->saved_count >= MAX_SETTINGS)
		return -ENOSPC;
	setting = &self->saved[self->saved_count];
	result = cmamem_read_text(path, setting->value, sizeof(setting->value));
	if (result)
		return result;
	snprintf(setting->path, sizeof(setting->path), "%s", path);
	self->saved_count++;
	return cmamem_write_text(path, value);
}

/* Is DMA-API debugging present and still on? */
static bool dma_debug_on(void)
{
	char text[8];

	return !cmamem_read_text(DMA_DEBUG_DISABLED, text, sizeof(text)) &&
	       text[0] == 'N';
}

static int pool_info_path(const char *path, struct cmamem_pool_info *info)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), result;

	if (fd < 0)
		return -errno;
	result = cmamem_pool_info(fd, info);
	close(fd);
	return result;
}

/*
 * fail-nth: arm() makes the @nth injection point from now on fail;
 * disarm() says whether that happened and disarms what is left. Both use
 * a file opened beforehand and a buffer already in memory, so they reach
 * no injection point themselves.
 *
 * With a burst (self->burst, the tests "with_bursts"), failslab's
 * probability is 100 and its "times" limits it: arm() sets times to the
 * burst's length, so from the @nth point on the slab allocations of this
 * thread fail until that many failures were injected (the @nth point's
 * own counts when it is a slab allocation); disarm() sets times back to 0,
 * which stops failslab before fail-nth is read. Points before the @nth
 * never fail: fail-nth counts them down before failslab's own settings
 * are looked at (should_fail_ex()).
 */
static void arm(FIXTURE_DATA(fault) *self, int nth)
{
	char text[16];
	int length = snprintf(text, sizeof(text), "%d", nth);

	if (pwrite(self->fail_nth, text, length, 0) != length)
		abort();
	/* debugfs attributes are not seekable: write(), not pwrite(). */
	if (self->burst) {
		length = snprintf(text, sizeof(text), "%d", self->burst);
		if (write(self->slab_times, text, length) != length)
			abort();
	}
}

/* The points left of an armed N, then disarmed: 0 once one failed. */
static long disarm_remaining(FIXTURE_DATA(fault) *self)
{
	char text[16] = "";
	ssize_t length;

	if (self->burst && write(self->slab_times, "0", 1) != 1)
		abort();
	length = pread(self->fail_nth, text, sizeof(text) - 1, 0);
	if (pwrite(self->fail_nth, "0", 1, 0) != 1 || length <= 0)
		abort();
	text[length] = '\0';
	return strtol(text, NULL, 10);
}

static bool disarm(FIXTURE_DATA(fault) *self)
{
	return disarm_remaining(self) == 0;
}

/* No handle in 1..HANDLE_PROBE_RANGE on a file that should hold none. */
static bool holds_no_handle(int fd)
{
	struct cmamem_block_info info;
	__u32 handle;

	for (handle = 1; handle <= HANDLE_PROBE_RANGE; handle++)
		if (cmamem_block_info(fd, handle, &info) != -ENOENT)
			return false;
	return true;
}

/* Accesses the compiler must make: reaching the memory is the point. */
static void poke(unsigned char *address, unsigned char value)
{
	__atomic_store_n(address, value, __ATOMIC_RELAXED);
}

static unsigned char peek(const unsigned char *address)
{
	return __atomic_load_n(address, __ATOMIC_RELAXED);
}

static bool touch(void *address, size_t length)
{
	unsigned char *bytes = address;

	poke(bytes, 0x5a);
	poke(bytes + length - 1, 0xa5);
	return peek(bytes) == 0x5a && peek(bytes + length - 1) == 0xa5;
}

static void sweep_begin(struct sweep *sweep, const char *path,
			const struct pool_description *pool, const char *detail)
{
	memset(sweep, 0, sizeof(*sweep));
	sweep->path = path;
	snprintf(sweep->what, sizeof(sweep->what), "%s %s%s%s", path,
		 pool->name, *detail ? " " : "", detail);
}

/* One call's outcome: only ENOMEM when @may_fail, and only if injected. */
static bool sweep_step(struct sweep *sweep, int nth, int result,
		       bool injected, bool may_fail)
{
	sweep->points++;
	sweep->injected += injected;
	if (result)
		sweep->failed++;
	if (result && !injected)
		sweep_err(sweep, "N=%d: failed with %s and no injected failure",
			  nth, strerror(-result));
	else if (result && (!may_fail || result != -ENOMEM))
		sweep_err(sweep, "N=%d: failed with %s, not %s", nth,
			  strerror(-result), may_fail ? "ENOMEM" : "success");
	if (!result && !injected) {
		sweep->converged = true;
		return true;
	}
	return false;
}

/* Logs a sweep and fails the test if it went wrong or never ended. */
static void sweep_report(struct __test_metadata *_metadata,
			 const struct sweep *sweep)
{
	TH_LOG("%-40s %3d calls, %3d injected failures, %3d failed%s%s",
	       sweep->what, sweep->points, sweep->injected, sweep->failed,
	       sweep->bad ? ": " : "", sweep->first_problem);
	EXPECT_EQ(0, sweep->bad);
	EXPECT_TRUE(sweep->converged)
		TH_LOG("%s: still failing after %d fault points", sweep->what,
		       MAX_FAULT_POINTS);
}

/* A name no other block has, zero-padded as the uapi wants. */
static void unique_name(FIXTURE_DATA(fault) *self, char *name,
			const char *tag)
{
	memset(name, 0, CMAMEM_NAME_SIZE);
	snprintf(name, CMAMEM_NAME_SIZE, "fault-%d-%s-%u", (int)getpid(), tag,
		 self->serial++);
}

static bool pool_unchanged(const struct pool_description *pool,
			   const struct cmamem_pool_info *before)
{
	struct cmamem_pool_info now;

	return !pool_info_path(pool->path, &now) &&
	       now.blocks == before->blocks &&
	       now.used_bytes == before->used_bytes;
}

/* ---- the paths ------------------------------------------------------ */

static void sweep_alloc(FIXTURE_DATA(fault) *self,
			const struct pool_description *pool, __u32 mode,
			__u32 flags, struct sweep *sweep)
{
	size_t length = BLOCK_PAGES * self->page;
	struct cmamem_pool_info before;
	struct cmamem_alloc request;
	char name[CMAMEM_NAME_SIZE];
	int nth, fd, result;
	bool injected;

	for (nth = 1; nth <= MAX_FAULT_POINTS; nth++) {
		fd = open(pool->path, O_RDWR | O_CLOEXEC);
		if (fd < 0 || cmamem_pool_info(fd, &before)) {
			sweep_err(sweep, "open or POOL_INFO of %s failed",
				  pool->path);
			return;
		}
		unique_name(self, name, "alloc");
		memset(&request, 0, sizeof(request));
		request.size = sizeof(request);
		request.flags = flags;
		request.length = length;
		request.mode = mode;
		memcpy(request.name, name, sizeof(name));

		arm(self, nth);
		result = cmamem_ioctl(fd, CMAMEM_IOCTL_ALLOC, &request);
		injected = disarm(self);

		sweep_step(sweep, nth, result, injected, true);
		if (!result) {
			if (!request.handle || request.length != length ||
			    !(flags & CMAMEM_MAP) != !request.user_address)
				sweep_err(sweep,
					  "N=%d: bad reply (handle %u length %llu user_address %#llx)",
					  nth, request.handle,
					  (unsigned long long)request.length,
					  (unsigned long long)request.user_address);
			else if (request.user_address &&
				 !touch((void *)(uintptr_t)request.user_address,
					length))
				sweep_err(sweep, "N=%d: the mapping does not read back",
					  nth);
			if (request.user_address)
				munmap((void *)(uintptr_t)request.user_address,
				       length);
			if (cmamem_free(fd, request.handle))
				sweep_err(sweep, "N=%d: FREE after ALLOC failed",
					  nth);
		} else {
			/* Nothing left behind, and the name is free. */
			if (!pool_unchanged(pool, &before))
				sweep_err(sweep, "N=%d: failed ALLOC changed the pool's counters",
					  nth);
			if (!holds_no_handle(fd))
				sweep_err(sweep, "N=%d: failed ALLOC left a handle",
					  nth);
			result = cmamem_alloc_named(fd, name, length, mode,
						    0, 0, &request);
			if (result)
				sweep_err(sweep, "N=%d: the name of a failed ALLOC is not free: %s",
					  nth, strerror(-result));
			else
				cmamem_free(fd, request.handle);
			result = -ENOMEM;
		}
		close(fd);
		if (!pool_unchanged(pool, &before))
			sweep_err(sweep, "N=%d: the pool did not return to its counters",
				  nth);
		if (sweep->converged)
			return;
	}
}

/*
 * Fills a pool from a file of its own, in blocks of a MiB, then 64 KiB,
 * then pages, until it refuses even a page: closing the file frees them.
 */
static int fill_pool_file(FIXTURE_DATA(fault) *self,
			  const struct pool_description *pool)
{
	const __u64 sizes[] = { 1 << 20, 1 << 16, self->page };
	char name[CMAMEM_NAME_SIZE];
	struct cmamem_alloc block;
	unsigned int size;
	int fd;

	fd = open(pool->path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (size = 0; size < ARRAY_SIZE(sizes); size++) {
		do
			unique_name(self, name, "fill");
		while (!cmamem_alloc_named(fd, name, sizes[size],
					   CMAMEM_MODE_COHERENT, 0, 0,
					   &block));
	}
	return fd;
}

/*
 * ALLOC of a two-page cached block from a device-tree CMA pool that is
 * full: dma-direct turns to the page allocator, whose pages lie outside
 * the region and are refused. Every call fails with ENOMEM, whichever of
 * its allocations was made to fail; the sweep ends at the first call that
 * had no failure injected.
 */
static void sweep_alloc_from_full_pool(FIXTURE_DATA(fault) *self,
				       const struct pool_description *pool,
				       struct sweep *sweep)
{
	struct cmamem_pool_info before;
	struct cmamem_alloc request;
	char name[CMAMEM_NAME_SIZE];
	int nth, result, fd;
	bool injected;

	fd = open(pool->path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		sweep_err(sweep, "open of %s failed", pool->path);
		return;
	}
	for (nth = 1; nth <= MAX_FAULT_POINTS; nth++) {
		if (cmamem_pool_info(fd, &before)) {
			sweep_err(sweep, "POOL_INFO of %s failed", pool->path);
			break;
		}
		unique_name(self, name, "full");
		arm(self, nth);
		result = cmamem_alloc_named(fd, name, 2 * self->page,
					    CMAMEM_MODE_CACHED, 0, 0, &request);
		injected = disarm(self);
		sweep->points++;
		sweep->injected += injected;
		sweep->failed += !!result;
		if (result != -ENOMEM)
			sweep_err(sweep, "N=%d: %s, not ENOMEM", nth,
				  result ? strerror(-result) : "success");
		if (!pool_unchanged(pool, &before) || !holds_no_handle(fd))
			sweep_err(sweep, "N=%d: a refused ALLOC left something",
				  nth);
		if (!injected) {
			sweep->converged = true;
			break;
		}
	}
	close(fd);
}

/* A block made outside the sweep, for the paths that need one. */
struct target {
	int fd;
	struct cmamem_alloc block;
	char name[CMAMEM_NAME_SIZE];
};

static int target_make(FIXTURE_DATA(fault) *self,
		       const struct pool_description *pool, __u32 mode,
		       struct target *target)
{
	int result;

	target->fd = open(pool->path, O_RDWR | O_CLOEXEC);
	if (target->fd < 0)
		return -errno;
	unique_name(self, target->name, "target");
	result = cmamem_alloc_named(target->fd, target->name,
				    BLOCK_PAGES * self->page, mode, 0, 0,
				    &target->block);
	if (result)
		close(target->fd);
	return result;
}

static void target_drop(struct target *target)
{
	cmamem_free(target->fd, target->block.handle);
	close(target->fd);
}

static bool target_counts(struct target *target, __u32 *handles,
			  __u32 *mappings)
{
	struct cmamem_block_info info;

	if (cmamem_block_info(target->fd, target->block.handle, &info))
		return false;
	*handles = info.handles;
	*mappings = info.mappings;
	return true;
}

static void sweep_attach(FIXTURE_DATA(fault) *self,
			 const struct pool_description *pool,
			 struct target *target, __u32 flags,
			 struct sweep *sweep)
{
	size_t length = (size_t)target->block.length;
	__u32 handles, mappings, handles_now, mappings_now;
	struct cmamem_attach request;
	int nth, fd, result;
	bool injected;

	if (!target_counts(target, &handles, &mappings)) {
		sweep_err(sweep, "BLOCK_INFO of the target failed");
		return;
	}
	for (nth = 1; nth <= MAX_FAULT_POINTS; nth++) {
		/* A file of its own: a failed ATTACH must leave it empty. */
		fd = open(pool->path, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			sweep_err(sweep, "open of %s failed", pool->path);
			return;
		}
		memset(&request, 0, sizeof(request));
		request.size = sizeof(request);
		request.flags = flags;
		memcpy(request.name, target->name, CMAMEM_NAME_SIZE);

		arm(self, nth);
		result = cmamem_ioctl(fd, CMAMEM_IOCTL_ATTACH, &request);
		injected = disarm(self);
		sweep_step(sweep, nth, result, injected, true);

		if (!target_counts(target, &handles_now, &mappings_now)) {
			sweep_err(sweep, "N=%d: BLOCK_INFO of the target failed",
				  nth);
		} else if (!result) {
			if (handles_now != handles + 1 ||
			    mappings_now != mappings + !!(flags & CMAMEM_MAP))
				sweep_err(sweep,
					  "N=%d: after ATTACH: handles %u -> %u, mappings %u -> %u",
					  nth, handles, handles_now, mappings,
					  mappings_now);
			if (request.length != length ||
			    !(flags & CMAMEM_MAP) != !request.user_address)
				sweep_err(sweep, "N=%d: bad ATTACH reply", nth);
			else if (request.user_address &&
				 !touch((void *)(uintptr_t)request.user_address,
					length))
				sweep_err(sweep, "N=%d: the mapping does not read back",
					  nth);
			if (request.user_address)
				munmap((void *)(uintptr_t)request.user_address,
				       length);
			if (cmamem_free(fd, request.handle))
				sweep_err(sweep, "N=%d: FREE after ATTACH failed",
					  nth);
		} else {
			if (handles_now != handles || mappings_now != mappings)
				sweep_err(sweep,
					  "N=%d: failed ATTACH: handles %u -> %u, mappings %u -> %u",
					  nth, handles, handles_now, mappings,
					  mappings_now);
			if (!holds_no_handle(fd))
				sweep_err(sweep, "N=%d: failed ATTACH left a handle",
					  nth);
		}
		close(fd);
		if (!target_counts(target, &handles_now, &mappings_now) ||
		    handles_now != handles || mappings_now != mappings)
			sweep_err(sweep, "N=%d: the target did not return to %u handles, %u mappings",
				  nth, handles, mappings);
		if (sweep->converged)
			return;
	}
}

enum simple_call {
	CALL_FREE,		/* FREE of a second handle on the target */
	CALL_FREE_LAST,		/* FREE of a block's only handle */
	CALL_SYNC_DEVICE,
	CALL_SYNC_CPU,
	CALL_BLOCK_INFO,
	CALL_POOL_INFO,
};

/* Calls whose uapi has no memory error: they must always succeed. */
static void sweep_simple(FIXTURE_DATA(fault) *self, struct target *target,
			 const struct pool_description *pool,
			 enum simple_call call, struct sweep *sweep)
{
	struct cmamem_pool_info before, pool_reply;
	struct cmamem_block_info info_reply;
	struct cmamem_attach attach;
	struct cmamem_alloc extra;
	struct cmamem_sync sync;
	struct cmamem_free free_request;
	__u32 handles, mappings, handles_now, mappings_now;
	char name[CMAMEM_NAME_SIZE];
	int nth, result = 0;
	bool injected;

	if (!target_counts(target, &handles, &mappings)) {
		sweep_err(sweep, "BLOCK_INFO of the target failed");
		return;
	}
	for (nth = 1; nth <= MAX_FAULT_POINTS; nth++) {
		if (cmamem_pool_info(target->fd, &before)) {
			sweep_err(sweep, "POOL_INFO failed");
			return;
		}
		memset(&free_request, 0, sizeof(free_request));
		free_request.size = sizeof(free_request);
		if (call == CALL_FREE) {
			memset(&attach, 0, sizeof(attach));
			attach.size = sizeof(attach);
			memcpy(attach.name, target->name, CMAMEM_NAME_SIZE);
			if (cmamem_ioctl(target->fd, CMAMEM_IOCTL_ATTACH,
					&attach)) {
				sweep_err(sweep, "ATTACH outside the sweep failed");
				return;
			}
			free_request.handle = attach.handle;
		} else if (call == CALL_FREE_LAST) {
			unique_name(self, name, "last");
			if (cmamem_alloc_named(target->fd, name, self->page,
					       target->block.mode, 0, 0,
					       &extra)) {
				sweep_err(sweep, "ALLOC outside the sweep failed");
				return;
			}
			free_request.handle = extra.handle;
		}
		memset(&sync, 0, sizeof(sync));
		sync.size = sizeof(sync);
		sync.flags = call == CALL_SYNC_CPU ? CMAMEM_SYNC_FOR_CPU :
						     CMAMEM_SYNC_FOR_DEVICE;
		sync.handle = target->block.handle;
		sync.length = target->block.length;
		memset(&info_reply, 0, sizeof(info_reply));
		info_reply.size = sizeof(info_reply);
		info_reply.handle = target->block.handle;
		memset(&pool_reply, 0, sizeof(pool_reply));
		pool_reply.size = sizeof(pool_reply);

		arm(self, nth);
		switch (call) {
		case CALL_FREE:
		case CALL_FREE_LAST:
			result = cmamem_ioctl(target->fd, CMAMEM_IOCTL_FREE,
					     &free_request);
			break;
		case CALL_SYNC_DEVICE:
		case CALL_SYNC_CPU:
			result = cmamem_ioctl(target->fd, CMAMEM_IOCTL_SYNC,
					     &sync);
			break;
		case CALL_BLOCK_INFO:
			result = cmamem_ioctl(target->fd,
					     CMAMEM_IOCTL_BLOCK_INFO,
					     &info_reply);
			break;
		case CALL_POOL_INFO:
			result = cmamem_ioctl(target->fd,
					     CMAMEM_IOCTL_POOL_INFO,
					     &pool_reply);
			break;
		}
		injected = disarm(self);
		sweep_step(sweep, nth, result, injected, false);

		if (result && (call == CALL_FREE || call == CALL_FREE_LAST))
			cmamem_free(target->fd, free_request.handle);
		if (!result && call == CALL_BLOCK_INFO &&
		    (info_reply.length != target->block.length ||
		     info_reply.handles != handles))
			sweep_err(sweep, "N=%d: BLOCK_INFO reply is wrong", nth);
		if (!result && call == CALL_POOL_INFO &&
		    (pool_reply.blocks != before.blocks ||
		     strncmp(pool_reply.name, pool->name, CMAMEM_NAME_SIZE)))
			sweep_err(sweep, "N=%d: POOL_INFO reply is wrong", nth);
		if (!target_counts(target, &handles_now, &mappings_now) ||
		    handles_now != handles || mappings_now != mappings)
			sweep_err(sweep, "N=%d: the target did not return to %u handles",
				  nth, handles);
		/* FREE_LAST's block came after @before and is gone again. */
		if (!pool_unchanged(pool, &before))
			sweep_err(sweep, "N=%d: the pool's counters changed", nth);
		if (sweep->converged)
			return;
	}
}

/*
 * An address for a mapping of @length bytes where the process has no page
 * table yet: the start of a range one last-level page table covers, with
 * that whole range unmapped. A reservation three such ranges long,
 * never touched, is made and given back first: munmap() frees a page
 * table no other mapping shares, so none is left there from before.
 * 0 if there is no room.
 */
static uintptr_t address_without_page_table(size_t page, size_t length)
{
	/* A 64-bit kernel's table: a page of 8-byte entries. */
	size_t table_span = page * (page / 8);
	size_t reserved = 3 * table_span;
	void *reservation;
	uintptr_t start;

	if (length > table_span)
		return 0;
	reservation = mmap(NULL, reserved, PROT_NONE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (reservation == MAP_FAILED)
		return 0;
	start = ((uintptr_t)reservation + table_span - 1) & ~(table_span - 1);
	munmap(reservation, reserved);
	return start;
}

/*
 * mmap() of the target, anywhere or (@new_page_table) where the mapping
 * must allocate its page table: then the mapping itself, not only the
 * VMA around it, meets the injected failures.
 */
static void sweep_mmap(FIXTURE_DATA(fault) *self, struct target *target,
		       bool new_page_table, struct sweep *sweep)
{
	size_t length = (size_t)target->block.length;
	__u32 handles, mappings, handles_now, mappings_now;
	int flags = MAP_SHARED;
	uintptr_t hint = 0;
	int nth, result;
	bool injected;
	void *address;

	if (!target_counts(target, &handles, &mappings)) {
		sweep_err(sweep, "BLOCK_INFO of the target failed");
		return;
	}
	if (new_page_table)
		flags |= MAP_FIXED_NOREPLACE;
	for (nth = 1; nth <= MAX_FAULT_POINTS; nth++) {
		if (new_page_table) {
			hint = address_without_page_table(self->page, length);
			if (!hint) {
				sweep_err(sweep, "N=%d: no room for the mapping",
					  nth);
				return;
			}
		}
		arm(self, nth);
		address = mmap((void *)hint, length, PROT_READ | PROT_WRITE,
			       flags, target->fd,
			       (off_t)target->block.mmap_offset);
		result = address == MAP_FAILED ? -errno : 0;
		injected = disarm(self);
		sweep_step(sweep, nth, result, injected, true);

		if (!target_counts(target, &handles_now, &mappings_now)) {
			sweep_err(sweep, "N=%d: BLOCK_INFO failed", nth);
		} else if (mappings_now != mappings + !result ||
			   handles_now != handles) {
			sweep_err(sweep, "N=%d: after mmap %s: mappings %u -> %u",
				  nth, result ? "failed" : "worked", mappings,
				  mappings_now);
		}
		if (!result) {
			if (!touch(address, length))
				sweep_err(sweep, "N=%d: the mapping does not read back",
					  nth);
			munmap(address, length);
		}
		if (!target_counts(target, &handles_now, &mappings_now) ||
		    mappings_now != mappings)
			sweep_err(sweep, "N=%d: munmap did not drop the mapping",
				  nth);
		if (sweep->converged)
			return;
	}
}

/*
 * munmap() of the middle page of a mapping (which splits the VMA and so
 * allocates), or of the last mapping of a block whose handle is gone
 * (which frees the block).
 */
static void sweep_munmap(FIXTURE_DATA(fault) *self,
			 const struct pool_description *pool,
			 struct target *target, bool last_reference,
			 struct sweep *sweep)
{
	size_t page = self->page, length = BLOCK_PAGES * page;
	__u32 handles, mappings, handles_now, mappings_now;
	struct cmamem_pool_info before;
	struct cmamem_alloc extra;
	char name[CMAMEM_NAME_SIZE];
	unsigned char *address;
	int nth, result;
	bool injected;

	if (!target_counts(target, &handles, &mappings)) {
		sweep_err(sweep, "BLOCK_INFO of the target failed");
		return;
	}
	for (nth = 1; nth <= MAX_FAULT_POINTS; nth++) {
		if (cmamem_pool_info(target->fd, &before)) {
			sweep_err(sweep, "POOL_INFO failed");
			return;
		}
		if (last_reference) {
			unique_name(self, name, "unmap");
			if (cmamem_alloc_named(target->fd, name, length,
					       target->block.mode, CMAMEM_MAP,
					       0, &extra) ||
			    cmamem_free(target->fd, extra.handle)) {
				sweep_err(sweep, "ALLOC outside the sweep failed");
				return;
			}
			address = (unsigned char *)(uintptr_t)
				  extra.user_address;
		} else {
			address = mmap(NULL, length, PROT_READ | PROT_WRITE,
				       MAP_SHARED, target->fd,
				       (off_t)target->block.mmap_offset);
			if (address == MAP_FAILED) {
				sweep_err(sweep, "mmap outside the sweep failed");
				return;
			}
		}

		arm(self, nth);
		if (last_reference)
			result = munmap(address, length) ? -errno : 0;
		else
			result = munmap(address + page, page) ? -errno : 0;
		injected = disarm(self);
		sweep_step(sweep, nth, result, injected, true);

		if (last_reference) {
			if (result)
				munmap(address, length);
			/* Either way the block is gone now. */
			if (!pool_unchanged(pool, &before))
				sweep_err(sweep,
					  "N=%d: the block was not freed with its last mapping",
					  nth);
		} else {
			/*
			 * Success leaves two VMAs. A failure may come after
			 * the VMA was split at one or both ends, which is
			 * allowed, but then every page is still mapped.
			 */
			if (!target_counts(target, &handles_now,
					   &mappings_now) ||
			    (!result && mappings_now != mappings + 2) ||
			    (result && (mappings_now < mappings + 1 ||
					mappings_now > mappings + 3)))
				sweep_err(sweep, "N=%d: munmap of the middle %s: mappings %u -> %u",
					  nth, result ? "failed" : "worked",
					  mappings, mappings_now);
			if (result && !touch(address + page, page))
				sweep_err(sweep, "N=%d: a failed munmap unmapped the page",
					  nth);
			if (!touch(address, page) ||
			    !touch(address + 2 * page, page))
				sweep_err(sweep,
					  "N=%d: what is left of the mapping does not read back",
					  nth);
			munmap(address, length);
			if (!target_counts(target, &handles_now,
					   &mappings_now) ||
			    mappings_now != mappings)
				sweep_err(sweep, "N=%d: mappings did not return to %u",
					  nth, mappings);
		}
		if (sweep->converged)
			return;
	}
}

static void sweep_open(FIXTURE_DATA(fault) *self,
		       const struct pool_description *pool,
		       struct sweep *sweep)
{
	struct cmamem_pool_info before, reply;
	int nth, fd, result;
	bool injected;

	for (nth = 1; nth <= MAX_FAULT_POINTS; nth++) {
		if (pool_info_path(pool->path, &before)) {
			sweep_err(sweep, "POOL_INFO failed");
			return;
		}
		arm(self, nth);
		fd = open(pool->path, O_RDWR | O_CLOEXEC);
		result = fd < 0 ? -errno : 0;
		injected = disarm(self);
		sweep_step(sweep, nth, result, injected, true);
		if (fd >= 0) {
			if (cmamem_pool_info(fd, &reply) || !holds_no_handle(fd))
				sweep_err(sweep, "N=%d: the opened file does not work",
					  nth);
			close(fd);
		}
		if (!pool_unchanged(pool, &before))
			sweep_err(sweep, "N=%d: the pool's counters changed", nth);
		if (sweep->converged)
			return;
	}
}

/*
 * open() of one of a pool's debugfs tables (blocks, summary, users): a
 * failed open leaves nothing behind, an open that worked reads the table.
 */
static void sweep_debugfs_open(FIXTURE_DATA(fault) *self,
			       const struct pool_description *pool,
			       const char *table, struct sweep *sweep)
{
	char path[128], text[64];
	int nth, fd, result;
	bool injected;

	snprintf(path, sizeof(path), "%s/%s/%s", CMAMEM_DEBUGFS_DIR,
		 pool->name, table);
	for (nth = 1; nth <= MAX_FAULT_POINTS; nth++) {
		arm(self, nth);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		result = fd < 0 ? -errno : 0;
		injected = disarm(self);
		sweep_step(sweep, nth, result, injected, true);
		if (fd >= 0) {
			if (read(fd, text, sizeof(text)) <= 0)
				sweep_err(sweep, "N=%d: the opened table reads nothing",
					  nth);
			close(fd);
		}
		if (sweep->converged)
			return;
	}
}

/* close() of a file that holds a block: its release frees the block. */
static void sweep_close(FIXTURE_DATA(fault) *self,
			const struct pool_description *pool, __u32 mode,
			struct sweep *sweep)
{
	struct cmamem_pool_info before;
	struct cmamem_alloc block;
	char name[CMAMEM_NAME_SIZE];
	int nth, fd, result;
	bool injected;

	for (nth = 1; nth <= MAX_FAULT_POINTS; nth++) {
		if (pool_info_path(pool->path, &before)) {
			sweep_err(sweep, "POOL_INFO failed");
			return;
		}
		fd = open(pool->path, O_RDWR | O_CLOEXEC);
		unique_name(self, name, "close");
		if (fd < 0 ||
		    cmamem_alloc_named(fd, name, BLOCK_PAGES * self->page,
				       mode, 0, 0, &block)) {
			sweep_err(sweep, "open or ALLOC outside the sweep failed");
			if (fd >= 0)
				close(fd);
			return;
		}
		arm(self, nth);
		result = close(fd) ? -errno : 0;
		injected = disarm(self);
		sweep_step(sweep, nth, result, injected, false);
		if (!pool_unchanged(pool, &before))
			sweep_err(sweep, "N=%d: close did not free the file's block",
				  nth);
		/* The name is free again. */
		fd = open(pool->path, O_RDWR | O_CLOEXEC);
		if (fd < 0 || cmamem_alloc_named(fd, name, self->page, mode,
						 0, 0, &block))
			sweep_err(sweep, "N=%d: the name of a closed file's block is still taken",
				  nth);
		if (fd >= 0)
			close(fd);
		if (sweep->converged)
			return;
	}
}

/*
 * IMPORT of another exporter's dma-buf (a one-page udmabuf, contiguous
 * for any device): attaching it to the pool's device and mapping it both
 * allocate, and whichever fails must leave no handle and no reference on
 * the dma-buf (debugfs's dma_buf/bufinfo total, once the fd is closed).
 */
#define DMA_BUF_INFO	DEBUGFS "/dma_buf/bufinfo"

/* The number of dma-bufs in the system, from bufinfo's last line. */
static int dma_buf_total(void)
{
	char line[160];
	int total = -1;
	FILE *info = fopen(DMA_BUF_INFO, "re");

	if (!info)
		return -1;
	while (fgets(line, sizeof(line), info))
		sscanf(line, "Total %d objects", &total);
	fclose(info);
	return total;
}

static void sweep_import_udmabuf(FIXTURE_DATA(fault) *self,
				 const struct pool_description *pool,
				 struct sweep *sweep)
{
	struct cmamem_import request;
	int nth, fd, dmabuf, result, total;
	bool injected;

	total = dma_buf_total();
	fd = open(pool->path, O_RDWR | O_CLOEXEC);
	dmabuf = udmabuf_new_one_page(self->page);
	if (total < 0 || fd < 0 || dmabuf < 0) {
		sweep_err(sweep, "bufinfo, open or the udmabuf outside the sweep failed");
		goto out;
	}
	for (nth = 1; nth <= MAX_FAULT_POINTS; nth++) {
		memset(&request, 0, sizeof(request));
		request.size = sizeof(request);
		request.fd = dmabuf;

		arm(self, nth);
		result = cmamem_ioctl(fd, CMAMEM_IOCTL_IMPORT, &request);
		injected = disarm(self);
		sweep_step(sweep, nth, result, injected, true);
		if (!result) {
			if (!request.handle || request.length != self->page)
				sweep_err(sweep, "N=%d: bad reply (handle %u length %llu)",
					  nth, request.handle,
					  (unsigned long long)request.length);
			if (cmamem_free(fd, request.handle))
				sweep_err(sweep, "N=%d: FREE of the import failed",
					  nth);
		}
		if (!holds_no_handle(fd))
			sweep_err(sweep, "N=%d: an import handle was left behind",
				  nth);
		if (sweep->converged)
			break;
	}
out:
	if (dmabuf >= 0)
		close(dmabuf);
	if (fd >= 0)
		close(fd);
	if (total >= 0 && dma_buf_total() != total)
		sweep_err(sweep, "%d dma-bufs before the sweep, %d after",
			  total, dma_buf_total());
}

/*
 * vgem importing an exported block with PRIME: the exporter's attach (the
 * importer's state and sg table) and the mapping allocate. Whatever fails,
 * nothing stays attached: once vgem lets go (GEM_CLOSE) and the dma-buf fd
 * is closed, BLOCK_INFO counts no dma-buf.
 */
static void sweep_vgem_import(FIXTURE_DATA(fault) *self,
			      struct target *target, int card,
			      struct sweep *sweep)
{
	struct test_drm_gem_close gem_close;
	struct cmamem_block_info info;
	int nth, result, dmabuf;
	bool injected;
	__u32 gem = 0;

	for (nth = 1; nth <= MAX_FAULT_POINTS; nth++) {
		if (cmamem_export(target->fd, target->block.handle,
				  O_RDWR | O_CLOEXEC, &dmabuf)) {
			sweep_err(sweep, "EXPORT outside the sweep failed");
			return;
		}
		arm(self, nth);
		result = vgem_import(card, dmabuf, &gem);
		injected = disarm(self);
		sweep_step(sweep, nth, result, injected, true);
		if (!result) {
			memset(&gem_close, 0, sizeof(gem_close));
			gem_close.handle = gem;
			if (ioctl(card, TEST_DRM_IOCTL_GEM_CLOSE, &gem_close))
				sweep_err(sweep, "N=%d: GEM_CLOSE failed", nth);
		}
		close(dmabuf);
		if (cmamem_block_info(target->fd, target->block.handle,
				      &info) || info.dma_bufs)
			sweep_err(sweep, "N=%d: the block still counts a dma-buf",
				  nth);
		if (sweep->converged)
			return;
	}
}

/*
 * Loading and unloading the module itself (finit_module(), delete_module()),
 * with the parameters the suite loaded it with, read back from sysfs.
 */
static int module_load(const char *file, const char *parameters)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC), result;

	if (fd < 0)
		return -errno;
	result = syscall(__NR_finit_module, fd, parameters, 0) ? -errno : 0;
	close(fd);
	return result;
}

static bool module_loaded(void)
{
	return !access(MODULE_DIRECTORY, F_OK);
}

/* rmmod, waiting while deferred frees of blocks still hold the module. */
static int module_unload(void)
{
	int attempt;

	for (attempt = 0; attempt < 100; attempt++) {
		if (!syscall(__NR_delete_module, MODULE_NAME, O_NONBLOCK))
			return 0;
		if (errno != EWOULDBLOCK)
			return -errno;
		usleep(100 * 1000);
	}
	return -EWOULDBLOCK;
}

static int module_parameters(char *text, size_t size)
{
	char path[128], value[64];
	struct dirent *dirent;
	size_t used = 0;
	DIR *directory;
	int result = 0;

	directory = opendir(MODULE_DIRECTORY "/parameters");
	if (!directory)
		return -errno;
	text[0] = '\0';
	while ((dirent = readdir(directory))) {
		if (dirent->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/parameters/%.40s",
			 MODULE_DIRECTORY, dirent->d_name);
		result = cmamem_read_text(path, value, sizeof(value));
		if (result)
			break;
		used += snprintf(text + used, size - used, "%s%s=%s",
				 used ? " " : "", dirent->d_name, value);
		if (used >= size) {
			result = -ENOSPC;
			break;
		}
	}
	closedir(directory);
	return result;
}

/*
 * Unloads the module for a test that loads it itself; the teardown loads
 * it back with the same parameters whatever happens. NULL: skipped.
 */
static const char *module_take(FIXTURE_DATA(fault) *self)
{
	const char *file = getenv(MODULE_FILE_VARIABLE);
	struct utsname machine;

	if (!file || access(file, R_OK))
		return NULL;
	/*
	 * Loading does not depend on the caller's ABI, so the 32-bit suite
	 * on a 64-bit kernel leaves it to the native one. When Linux 6.1's
	 * module_add_driver() cannot make the module's drivers directory it
	 * puts the driver's link in the sysfs root (STRAY_DRIVER_LINK) and
	 * leaves it there; failing that directory again warns of a
	 * duplicate, with a stack trace. So module_init stops where the link
	 * appears, and runs once per boot.
	 */
	if (sizeof(void *) == 4 && !uname(&machine) &&
	    (!strcmp(machine.machine, "aarch64") ||
	     !strcmp(machine.machine, "armv8l")))
		return NULL;
	if (module_parameters(self->module_parameters,
			      sizeof(self->module_parameters)) ||
	    module_unload())
		return NULL;
	self->module_unloaded = true;
	return file;
}

/* Whether the link is there (not followed: its driver may be gone). */
static bool stray_driver_link(void)
{
	struct stat status;

	return !lstat(STRAY_DRIVER_LINK, &status);
}

/* Loads the module with the suite's parameters and then @more. */
static int module_load_with(FIXTURE_DATA(fault) *self, const char *file,
			    const char *more)
{
	char parameters[sizeof(self->module_parameters) + 32];

	snprintf(parameters, sizeof(parameters), "%s %s",
		 self->module_parameters, more);
	return module_load(file, parameters);
}

/* Loads the module back as the suite had it, with every pool it had. */
static void module_give_back(struct __test_metadata *_metadata,
			     FIXTURE_DATA(fault) *self, const char *file)
{
	int index;

	ASSERT_EQ(0, module_load(file, self->module_parameters));
	self->module_unloaded = false;
	for (index = 0; index < self->pool_count; index++)
		if (self->pools[index].path[0])
			EXPECT_EQ(0, access(self->pools[index].path, F_OK))
				TH_LOG("%s is missing after reloading",
				       self->pools[index].path);
}

/* ---- fixture and tests ---------------------------------------------- */

/*
 * EXPORT of the target's block, or IMPORT into the target's file of a
 * dma-buf exported outside the sweep. Whatever fails, no dma-buf, import
 * handle or pool memory may be left once the dma-buf fd is closed.
 */
static void sweep_export_import(FIXTURE_DATA(fault) *self,
				struct target *target,
				const struct pool_description *pool,
				bool import, struct sweep *sweep)
{
	struct cmamem_import import_request;
	struct cmamem_export export_request;
	struct cmamem_pool_info before;
	struct cmamem_block_info info;
	int nth, result, dmabuf;
	bool injected;

	for (nth = 1; nth <= MAX_FAULT_POINTS; nth++) {
		if (cmamem_pool_info(target->fd, &before)) {
			sweep_err(sweep, "POOL_INFO failed");
			return;
		}
		memset(&export_request, 0, sizeof(export_request));
		export_request.size = sizeof(export_request);
		export_request.handle = target->block.handle;
		export_request.fd_flags = O_RDWR | O_CLOEXEC;
		dmabuf = -1;
		if (import) {
			if (cmamem_ioctl(target->fd, CMAMEM_IOCTL_EXPORT,
					&export_request)) {
				sweep_err(sweep, "EXPORT outside the sweep failed");
				return;
			}
			dmabuf = (int)export_request.fd;
		}
		memset(&import_request, 0, sizeof(import_request));
		import_request.size = sizeof(import_request);
		import_request.fd = dmabuf;

		arm(self, nth);
		if (import)
			result = cmamem_ioctl(target->fd, CMAMEM_IOCTL_IMPORT,
					     &import_request);
		else
			result = cmamem_ioctl(target->fd, CMAMEM_IOCTL_EXPORT,
					     &export_request);
		injected = disarm(self);
		sweep_step(sweep, nth, result, injected, true);

		if (!result && import) {
			if (import_request.dma_address !=
			    target->block.dma_address)
				sweep_err(sweep, "N=%d: IMPORT gave another DMA address",
					  nth);
			if (cmamem_free(target->fd, import_request.handle))
				sweep_err(sweep, "N=%d: FREE of the import failed",
					  nth);
		} else if (!result) {
			dmabuf = (int)export_request.fd;
		}
		if (dmabuf >= 0)
			close(dmabuf);
		if (cmamem_block_info(target->fd, target->block.handle, &info) ||
		    info.dma_bufs || info.handles != 1)
			sweep_err(sweep, "N=%d: a dma-buf or handle was left behind",
				  nth);
		if (!pool_unchanged(pool, &before))
			sweep_err(sweep, "N=%d: the pool's counters changed", nth);
		if (sweep->converged)
			return;
	}
}

static int compare_pools(const void *left, const void *right)
{
	return strcmp(((const struct pool_description *)left)->path,
		      ((const struct pool_description *)right)->path);
}

static void discover_pools(FIXTURE_DATA(fault) *self)
{
	struct dirent *dirent;
	DIR *directory;
	int index;

	self->pool_count = 0;
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

		if (pool_info_path(pool->path, &info)) {
			pool->path[0] = '\0';
			continue;
		}
		memcpy(pool->name, info.name, CMAMEM_NAME_SIZE);
		pool->name[CMAMEM_NAME_SIZE - 1] = '\0';
		pool->pool_flags = info.pool_flags;
		pool->blocks = info.blocks;
		pool->used_bytes = info.used_bytes;
	}
}

FIXTURE_SETUP(fault)
{
	struct stat status;

	self->saved_count = 0;
	self->fail_nth = -1;
	self->slab_times = -1;
	self->burst = 0;
	self->page = (size_t)sysconf(_SC_PAGESIZE);
	if (geteuid() != 0)
		SKIP(return, "fault injection needs root");
	if (access("/dev/cmamem", F_OK))
		SKIP(return, "/dev/cmamem is missing (is cmamem loaded?)");
	if (stat(FAILSLAB, &status) || stat(FAIL_PAGE_ALLOC, &status))
		SKIP(return,
		     "no %s and %s: the kernel lacks CONFIG_FAULT_INJECTION_DEBUG_FS with CONFIG_FAILSLAB and CONFIG_FAIL_PAGE_ALLOC (the arm64-debug kernel has them)",
		     FAILSLAB, FAIL_PAGE_ALLOC);
	if (access(FAIL_NTH, R_OK | W_OK))
		SKIP(return, "no %s (CONFIG_FAULT_INJECTION)", FAIL_NTH);

	/* Quiet, filtered to the task, and let GFP_KERNEL be failed. */
	ASSERT_EQ(0, set_knob(self, FAILSLAB, "verbose", "0"));
	ASSERT_EQ(0, set_knob(self, FAILSLAB, "probability", "0"));
	ASSERT_EQ(0, set_knob(self, FAILSLAB, "task-filter", "Y"));
	ASSERT_EQ(0, set_knob(self, FAILSLAB, "ignore-gfp-wait", "N"));
	ASSERT_EQ(0, set_knob(self, FAIL_PAGE_ALLOC, "verbose", "0"));
	ASSERT_EQ(0, set_knob(self, FAIL_PAGE_ALLOC, "probability", "0"));
	ASSERT_EQ(0, set_knob(self, FAIL_PAGE_ALLOC, "task-filter", "Y"));
	ASSERT_EQ(0, set_knob(self, FAIL_PAGE_ALLOC, "ignore-gfp-wait", "N"));
	ASSERT_EQ(0, set_knob(self, FAIL_PAGE_ALLOC, "ignore-gfp-highmem",
			      "N"));
	ASSERT_EQ(0, set_knob(self, FAIL_PAGE_ALLOC, "min-order", "0"));
	ASSERT_EQ(0, cmamem_write_text(MAKE_IT_FAIL, "1"));

	self->fail_nth = open(FAIL_NTH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fail_nth);
	/* The mechanism itself must work, or every sweep means nothing. */
	arm(self, 1);
	{
		void *probe = mmap(NULL, self->page, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
				   -1, 0);
		bool injected = disarm(self);

		if (probe != MAP_FAILED)
			munmap(probe, self->page);
		ASSERT_TRUE(injected)
			TH_LOG("fail-nth did not fail mmap(MAP_POPULATE) at its first point");
	}
	discover_pools(self);
	ASSERT_LT(0, self->pool_count);
	self->dma_debug_was_on = dma_debug_on();
}

FIXTURE_TEARDOWN_PARENT(fault)
{
	int index;

	/*
	 * DMA-API debugging turns itself off for good when its own
	 * bookkeeping cannot allocate, which an injected failure can cause.
	 * That is the kernel's choice, not the driver's fault, but the tests
	 * that run after this one no longer get its checks: say so.
	 */
	if (self->dma_debug_was_on && !dma_debug_on()) {
		TH_LOG("note: DMA-API debugging switched itself off (cacheline tracking ENOMEM)");
		TH_LOG("note: later tests of this boot run without it");
	}

	/* A test that unloaded the module and failed: load it back. */
	if (self->module_unloaded && !module_loaded() &&
	    module_load(getenv(MODULE_FILE_VARIABLE), self->module_parameters))
		TH_LOG("could not load the module back with \"%s\"",
		       self->module_parameters);

	/* Put every knob back, whatever happened in the test. */
	for (index = self->saved_count - 1; index >= 0; index--)
		if (cmamem_write_text(self->saved[index].path,
				      self->saved[index].value))
			TH_LOG("could not restore %s to %s",
			       self->saved[index].path,
			       self->saved[index].value);
}

/* Every pool's counters must be where they were when the test started. */
static void check_pools_restored(struct __test_metadata *_metadata,
				 FIXTURE_DATA(fault) *self)
{
	int index;

	for (index = 0; index < self->pool_count; index++) {
		const struct pool_description *pool = &self->pools[index];
		struct cmamem_pool_info info;

		if (!pool->path[0])
			continue;
		ASSERT_EQ(0, pool_info_path(pool->path, &info));
		EXPECT_EQ(pool->blocks, info.blocks)
			TH_LOG("pool %s", pool->name);
		EXPECT_EQ(pool->used_bytes, info.used_bytes)
			TH_LOG("pool %s", pool->name);
	}
	cmamem_write_text(MAKE_IT_FAIL, "0");
}

static __u32 pool_modes(const struct pool_description *pool, __u32 *modes)
{
	__u32 count = 0;

	modes[count++] = CMAMEM_MODE_COHERENT;
	modes[count++] = CMAMEM_MODE_WRITECOMBINE;
	if (pool->pool_flags & CMAMEM_POOL_CACHED)
		modes[count++] = CMAMEM_MODE_CACHED;
	return count;
}

TEST_F_TIMEOUT(fault, alloc, FAULT_TIMEOUT)
{
	struct sweep sweep;
	__u32 modes[3], count, mode;
	int index, map;

	for (index = 0; index < self->pool_count; index++) {
		const struct pool_description *pool = &self->pools[index];

		if (!pool->path[0])
			continue;
		count = pool_modes(pool, modes);
		for (mode = 0; mode < count; mode++) {
			for (map = 0; map < 2; map++) {
				char detail[48];

				snprintf(detail, sizeof(detail), "%s%s",
					 cmamem_mode_name(modes[mode]),
					 map ? " CMAMEM_MAP" : "");
				sweep_begin(&sweep, "ALLOC", pool, detail);
				sweep_alloc(self, pool, modes[mode],
					    map ? CMAMEM_MAP : 0, &sweep);
				sweep_report(_metadata, &sweep);
			}
		}
	}
	check_pools_restored(_metadata, self);
}

TEST_F_TIMEOUT(fault, attach, FAULT_TIMEOUT)
{
	struct target target;
	struct sweep sweep;
	int index, map;

	for (index = 0; index < self->pool_count; index++) {
		const struct pool_description *pool = &self->pools[index];

		if (!pool->path[0])
			continue;
		ASSERT_EQ(0, target_make(self, pool, CMAMEM_MODE_COHERENT,
					 &target));
		for (map = 0; map < 2; map++) {
			sweep_begin(&sweep, "ATTACH", pool,
				    map ? "CMAMEM_MAP" : "");
			sweep_attach(self, pool, &target,
				     map ? CMAMEM_MAP : 0, &sweep);
			sweep_report(_metadata, &sweep);
		}
		target_drop(&target);
	}
	check_pools_restored(_metadata, self);
}

TEST_F_TIMEOUT(fault, free_sync_and_info, FAULT_TIMEOUT)
{
	static const struct {
		enum simple_call call;
		const char *name;
	} calls[] = {
		{ CALL_FREE, "FREE" },
		{ CALL_FREE_LAST, "FREE last handle" },
		{ CALL_SYNC_DEVICE, "SYNC for device" },
		{ CALL_SYNC_CPU, "SYNC for cpu" },
		{ CALL_BLOCK_INFO, "BLOCK_INFO" },
		{ CALL_POOL_INFO, "POOL_INFO" },
	};
	__u32 modes[3], count, mode;
	struct target target;
	struct sweep sweep;
	unsigned int call;
	int index;

	for (index = 0; index < self->pool_count; index++) {
		const struct pool_description *pool = &self->pools[index];

		if (!pool->path[0])
			continue;
		count = pool_modes(pool, modes);
		for (mode = 0; mode < count; mode++) {
			ASSERT_EQ(0, target_make(self, pool, modes[mode],
						 &target));
			for (call = 0; call < ARRAY_SIZE(calls); call++) {
				sweep_begin(&sweep, calls[call].name, pool,
					    cmamem_mode_name(modes[mode]));
				sweep_simple(self, &target, pool,
					     calls[call].call, &sweep);
				sweep_report(_metadata, &sweep);
			}
			target_drop(&target);
		}
	}
	check_pools_restored(_metadata, self);
}

TEST_F_TIMEOUT(fault, mmap_and_munmap, FAULT_TIMEOUT)
{
	__u32 modes[3], count, mode;
	struct target target;
	struct sweep sweep;
	int index;

	for (index = 0; index < self->pool_count; index++) {
		const struct pool_description *pool = &self->pools[index];

		if (!pool->path[0])
			continue;
		count = pool_modes(pool, modes);
		for (mode = 0; mode < count; mode++) {
			ASSERT_EQ(0, target_make(self, pool, modes[mode],
						 &target));
			sweep_begin(&sweep, "mmap", pool,
				    cmamem_mode_name(modes[mode]));
			sweep_mmap(self, &target, false, &sweep);
			sweep_report(_metadata, &sweep);
			sweep_begin(&sweep, "mmap new page table", pool,
				    cmamem_mode_name(modes[mode]));
			sweep_mmap(self, &target, true, &sweep);
			sweep_report(_metadata, &sweep);
			sweep_begin(&sweep, "munmap split", pool,
				    cmamem_mode_name(modes[mode]));
			sweep_munmap(self, pool, &target, false, &sweep);
			sweep_report(_metadata, &sweep);
			sweep_begin(&sweep, "munmap last ref", pool,
				    cmamem_mode_name(modes[mode]));
			sweep_munmap(self, pool, &target, true, &sweep);
			sweep_report(_metadata, &sweep);
			target_drop(&target);
		}
	}
	check_pools_restored(_metadata, self);
}

TEST_F_TIMEOUT(fault, open_and_close, FAULT_TIMEOUT)
{
	__u32 modes[3], count, mode;
	struct sweep sweep;
	int index;

	for (index = 0; index < self->pool_count; index++) {
		const struct pool_description *pool = &self->pools[index];

		if (!pool->path[0])
			continue;
		sweep_begin(&sweep, "open", pool, "");
		sweep_open(self, pool, &sweep);
		sweep_report(_metadata, &sweep);
		count = pool_modes(pool, modes);
		for (mode = 0; mode < count; mode++) {
			sweep_begin(&sweep, "close", pool,
				    cmamem_mode_name(modes[mode]));
			sweep_close(self, pool, modes[mode], &sweep);
			sweep_report(_metadata, &sweep);
		}
	}
	check_pools_restored(_metadata, self);
}

TEST_F_TIMEOUT(fault, alloc_cached_from_full_pool, FAULT_TIMEOUT)
{
	struct sweep sweep;
	int index, fill_fd;
	bool swept = false;

	for (index = 0; index < self->pool_count; index++) {
		const struct pool_description *pool = &self->pools[index];

		if (!pool->path[0] ||
		    !(pool->pool_flags & CMAMEM_POOL_CMA) ||
		    (pool->pool_flags & CMAMEM_POOL_DEFAULT))
			continue;
		fill_fd = fill_pool_file(self, pool);
		ASSERT_LE(0, fill_fd);
		sweep_begin(&sweep, "ALLOC cached from full", pool, "");
		sweep_alloc_from_full_pool(self, pool, &sweep);
		close(fill_fd);
		sweep_report(_metadata, &sweep);
		swept = true;
	}
	check_pools_restored(_metadata, self);
	if (!swept)
		SKIP(return, "no device-tree CMA pool");
}

TEST_F_TIMEOUT(fault, debugfs_tables_open, FAULT_TIMEOUT)
{
	static const char * const tables[] = { "blocks", "summary", "users" };
	struct sweep sweep;
	unsigned int table;
	int index;

	if (!cmamem_debugfs_ready())
		SKIP(return, "debugfs is not available");
	for (index = 0; index < self->pool_count; index++) {
		const struct pool_description *pool = &self->pools[index];

		if (!pool->path[0])
			continue;
		for (table = 0; table < ARRAY_SIZE(tables); table++) {
			sweep_begin(&sweep, "open debugfs", pool,
				    tables[table]);
			sweep_debugfs_open(self, pool, tables[table], &sweep);
			sweep_report(_metadata, &sweep);
		}
	}
	check_pools_restored(_metadata, self);
}

TEST_F_TIMEOUT(fault, export_and_import, FAULT_TIMEOUT)
{
	__u32 modes[3], count, mode;
	struct target target;
	struct sweep sweep;
	int index, import;

	for (index = 0; index < self->pool_count; index++) {
		const struct pool_description *pool = &self->pools[index];

		/* Carveout blocks cannot be exported (EOPNOTSUPP). */
		if (!pool->path[0] ||
		    (pool->pool_flags & CMAMEM_POOL_CARVEOUT))
			continue;
		count = pool_modes(pool, modes);
		for (mode = 0; mode < count; mode++) {
			ASSERT_EQ(0, target_make(self, pool, modes[mode],
						 &target));
			for (import = 0; import < 2; import++) {
				sweep_begin(&sweep, import ? "IMPORT" : "EXPORT",
					    pool, cmamem_mode_name(modes[mode]));
				sweep_export_import(self, &target, pool, import,
						    &sweep);
				sweep_report(_metadata, &sweep);
			}
			target_drop(&target);
		}
	}
	check_pools_restored(_metadata, self);
}

TEST_F_TIMEOUT(fault, import_udmabuf, FAULT_TIMEOUT)
{
	struct sweep sweep;

	if (access(TEST_UDMABUF_PATH, F_OK))
		SKIP(return, "no %s (CONFIG_UDMABUF)", TEST_UDMABUF_PATH);
	sweep_begin(&sweep, "IMPORT udmabuf", &self->pools[0], "");
	sweep_import_udmabuf(self, &self->pools[0], &sweep);
	sweep_report(_metadata, &sweep);
	check_pools_restored(_metadata, self);
}

TEST_F_TIMEOUT(fault, vgem_import, FAULT_TIMEOUT)
{
	struct target target;
	struct sweep sweep;
	int card = open_vgem();

	if (card < 0)
		SKIP(return, "no vgem device (CONFIG_DRM_VGEM)");
	ASSERT_EQ(0, target_make(self, &self->pools[0], CMAMEM_MODE_COHERENT,
				 &target));
	sweep_begin(&sweep, "vgem PRIME import", &self->pools[0], "");
	sweep_vgem_import(self, &target, card, &sweep);
	sweep_report(_metadata, &sweep);
	target_drop(&target);
	close(card);
	check_pools_restored(_metadata, self);
}

/*
 * ALLOC and IMPORT into a file that holds no handle yet, with bursts of
 * failures (see arm()) instead of single ones: the file's table of
 * handles (an xarray) and of mmap offsets (a maple tree) then have to grow,
 * and both retry a failed node allocation once more, outside their lock,
 * with GFP_KERNEL. One injected failure is always absorbed by that retry;
 * a burst of two, started at each point in turn, also fails the retry, so
 * the unwinding after xa_alloc() and mtree_insert_range() fail runs
 * (cmamem_handle_install(), cmamem_import_handle_reserve()). The checks
 * are the single-failure sweeps': ENOMEM or success, nothing left behind.
 */
#define FAILURE_BURST	2

/* From now on arm() starts a burst of FAILURE_BURST failures. */
static int bursts_begin(FIXTURE_DATA(fault) *self)
{
	/* times first: with probability 100 and times 1 the next point fails. */
	if (set_knob(self, FAILSLAB, "times", "0") ||
	    set_knob(self, FAILSLAB, "probability", "100"))
		return -1;
	self->slab_times = open(FAILSLAB "/times", O_WRONLY | O_CLOEXEC);
	if (self->slab_times < 0)
		return -1;
	self->burst = FAILURE_BURST;
	return 0;
}

TEST_F_TIMEOUT(fault, alloc_and_import_with_bursts, FAULT_TIMEOUT)
{
	struct pool_description *pool = &self->pools[0];
	struct sweep sweep;

	ASSERT_EQ(0, bursts_begin(self));
	sweep_begin(&sweep, "ALLOC bursts", pool, "coherent");
	sweep_alloc(self, pool, CMAMEM_MODE_COHERENT, 0, &sweep);
	sweep_report(_metadata, &sweep);
	if (!access(TEST_UDMABUF_PATH, F_OK)) {
		sweep_begin(&sweep, "IMPORT udmabuf bursts", pool, "");
		sweep_import_udmabuf(self, pool, &sweep);
		sweep_report(_metadata, &sweep);
	} else {
		TH_LOG("no %s (CONFIG_UDMABUF): IMPORT not swept",
		       TEST_UDMABUF_PATH);
	}
	self->burst = 0;
	check_pools_restored(_metadata, self);
}

/*
 * FREE of each of a file's handles in turn, each with a burst of failures
 * from its first injection point: its range of mmap offsets leaves the
 * file's maple tree, and once the leaves of the tree empty out that takes
 * new nodes (a rebalance). mtree_erase() gave up without a word when the
 * retry failed too, and the range kept pointing at the freed handle, so
 * that an mmap() of its offset read freed memory (KASAN). Whatever fails,
 * FREE succeeds, none of the freed handle's offsets maps any more, and
 * the next handle's still do. The sweep must have injected at least one
 * failure, or it tested nothing.
 */
#define FREE_SWEEP_HANDLES	64

static void sweep_free(FIXTURE_DATA(fault) *self,
		       const struct pool_description *pool,
		       struct sweep *sweep)
{
	struct cmamem_alloc blocks[FREE_SWEEP_HANDLES];
	size_t length = self->page;
	char name[CMAMEM_NAME_SIZE];
	int fd, index, result;
	bool injected;
	void *view;

	fd = open(pool->path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		sweep_err(sweep, "open of %s failed", pool->path);
		return;
	}
	for (index = 0; index < FREE_SWEEP_HANDLES; index++) {
		unique_name(self, name, "free");
		if (cmamem_alloc_named(fd, name, length, CMAMEM_MODE_COHERENT,
				       0, 0, &blocks[index])) {
			sweep_err(sweep, "ALLOC %d before the FREEs failed",
				  index);
			close(fd);
			return;
		}
	}
	for (index = 0; index < FREE_SWEEP_HANDLES; index++) {
		arm(self, 1);
		result = cmamem_free(fd, blocks[index].handle);
		injected = disarm(self);

		sweep->points++;
		sweep->injected += injected;
		if (result)
			sweep_err(sweep, "FREE %d failed with %s", index,
				  strerror(-result));
		view = mmap(NULL, length, PROT_READ, MAP_SHARED, fd,
			    (off_t)blocks[index].mmap_offset);
		if (view != MAP_FAILED) {
			sweep_err(sweep, "FREE %d: the freed handle's offset still maps",
				  index);
			munmap(view, length);
		}
		if (index + 1 == FREE_SWEEP_HANDLES)
			break;
		view = mmap(NULL, length, PROT_READ, MAP_SHARED, fd,
			    (off_t)blocks[index + 1].mmap_offset);
		if (view == MAP_FAILED)
			sweep_err(sweep, "FREE %d: the next handle's offset does not map",
				  index);
		else
			munmap(view, length);
	}
	close(fd);
	sweep->converged = sweep->injected > 0;
	if (!sweep->injected)
		sweep_err(sweep, "no FREE allocated anything: the erase's allocations were not reached");
}

TEST_F_TIMEOUT(fault, free_with_bursts, FAULT_TIMEOUT)
{
	struct pool_description *pool = &self->pools[0];
	struct sweep sweep;

	ASSERT_EQ(0, bursts_begin(self));
	sweep_begin(&sweep, "FREE bursts", pool, "coherent");
	sweep_free(self, pool, &sweep);
	sweep_report(_metadata, &sweep);
	self->burst = 0;
	check_pools_restored(_metadata, self);
}

/*
 * The module's init with each of its allocations failing in turn, loaded
 * with the suite's parameters: the unwinding of cmamem_init() (err_legacy,
 * err_default_pool, err_debugfs) and of a device-tree pool's probe
 * (err_put_pool), whose failure leaves the module loaded without that
 * pool. fail-nth counts every allocation of finit_module(), the module
 * loader's own first, and failing the loader's vmalloc() prints an
 * allocation-failure stack trace, which the harness counts as a kernel
 * report. So the sweep starts past the loader's points, counted with a
 * load that cmamem_init() refuses before it allocates anything
 * (dma_mask_bits=11: EINVAL, the parameter check); the few points just
 * before cmamem_init() (gcov's constructors, do_init_module()'s own
 * allocation) fail cleanly if the count is off by one. A failed init
 * that left anything behind (a device node, a debugfs directory, a
 * registered driver) makes the next load fail with EEXIST, or kmemleak
 * report it at the end of the boot.
 */
static void sweep_module_init(struct __test_metadata *_metadata,
			      FIXTURE_DATA(fault) *self, const char *file,
			      struct sweep *sweep)
{
	long loader_points;
	int nth, result;
	bool injected;

	arm(self, FAIL_NTH_BUDGET);
	result = module_load_with(self, file, "dma_mask_bits=11");
	loader_points = FAIL_NTH_BUDGET - disarm_remaining(self);
	ASSERT_EQ(-EINVAL, result);
	ASSERT_FALSE(module_loaded());

	for (nth = loader_points + 1;
	     nth <= loader_points + MAX_FAULT_POINTS; nth++) {
		arm(self, nth);
		result = module_load(file, self->module_parameters);
		injected = disarm(self);
		sweep_step(sweep, nth, result, injected, true);
		if (stray_driver_link()) {
			/*
			 * The next point would warn (see module_take()); the
			 * points left are the driver core's, after every
			 * call of cmamem_init() that can fail.
			 */
			TH_LOG("N=%d: the kernel left %s: the sweep ends here",
			       nth, STRAY_DRIVER_LINK);
			sweep->converged = true;
			if (!result && module_unload())
				sweep_err(sweep, "N=%d: rmmod failed", nth);
			return;
		}
		if (result) {
			if (module_loaded())
				sweep_err(sweep, "N=%d: a failed load left the module",
					  nth);
			continue;
		}
		/* Loaded, maybe without a pool whose probe failed. */
		if (access("/dev/cmamem", F_OK))
			sweep_err(sweep, "N=%d: loaded without /dev/cmamem", nth);
		result = module_unload();
		if (result) {
			sweep_err(sweep, "N=%d: rmmod failed: %s", nth,
				  strerror(-result));
			return;
		}
		if (sweep->converged)
			return;
	}
}

#define MODULE_SKIP_REASON \
	"needs " MODULE_FILE_VARIABLE " naming the module file, the module unloadable, and the native suite"

TEST_F_TIMEOUT(fault, module_init, FAULT_TIMEOUT)
{
	const char *file = module_take(self);
	struct sweep sweep;

	if (!file)
		SKIP(return, MODULE_SKIP_REASON);
	if (stray_driver_link())
		SKIP(return, "%s is left from an earlier sweep of this boot",
		     STRAY_DRIVER_LINK);
	sweep_begin(&sweep, "finit_module", &self->pools[0], "");
	sweep_module_init(_metadata, self, file, &sweep);
	sweep_report(_metadata, &sweep);
	module_give_back(_metadata, self, file);
	check_pools_restored(_metadata, self);
}

/*
 * legacy=0: no /dev/cma_mem, and init and exit skip it. Not swept like
 * module_init: see module_take() for why one sweep per boot is all the
 * kernel allows.
 */
TEST_F(fault, module_without_legacy)
{
	const char *file = module_take(self);

	if (!file)
		SKIP(return, MODULE_SKIP_REASON);
	ASSERT_EQ(0, module_load_with(self, file, "legacy=0"));
	EXPECT_EQ(0, access("/dev/cmamem", F_OK));
	EXPECT_NE(0, access("/dev/cma_mem", F_OK));
	ASSERT_EQ(0, module_unload());
	module_give_back(_metadata, self, file);
	check_pools_restored(_metadata, self);
}

/*
 * A DMA mask below all of RAM (12 bits): the default pool's device cannot
 * take it, init fails with EIO after publishing the pool, and takes it
 * down again (the next load works).
 */
TEST_F(fault, module_init_unusable_dma_mask_eio)
{
	const char *file = module_take(self);

	if (!file)
		SKIP(return, MODULE_SKIP_REASON);
	EXPECT_EQ(-EIO, module_load_with(self, file, "dma_mask_bits=12"));
	EXPECT_FALSE(module_loaded());
	EXPECT_NE(0, access("/dev/cmamem", F_OK));
	module_give_back(_metadata, self, file);
	check_pools_restored(_metadata, self);
}

TEST_HARNESS_MAIN
