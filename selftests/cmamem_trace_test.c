// SPDX-License-Identifier: GPL-2.0
/*
 * cmamem cache maintenance, proven with the kernel's own tracing. QEMU's
 * TCG models no caches, so a SYNC that cleaned nothing, the wrong range or
 * in the wrong direction passes every data test; on a board it corrupts
 * frames. These tests put kprobe events on the point where the kernel
 * does the maintenance and check each request does exactly the right
 * operation on exactly the right physical range, and nothing else.
 *
 * Where to trace (docs/testing.md has the long form): dma-direct does
 * every cache operation of a non-coherent device, for a sync, a map or an
 * unmap, single or scatterlist, through arch_sync_dma_for_device() and
 * arch_sync_dma_for_cpu(), with the physical address, and only after it
 * found the device not coherent (kernel/dma/direct.h, 6.1 and 6.12). Those
 * two functions are nothing but the cache operation, chosen by their
 * direction argument:
 *
 *	arm64 (arch/arm64/mm/dma-mapping.c): for_device cleans
 *	(dcache_clean_poc) whatever the direction; for_cpu invalidates
 *	(dcache_inval_poc) unless the direction is DMA_TO_DEVICE.
 *	32-bit ARM (arch/arm/mm/dma-mapping.c, v7_dma_map_area and
 *	v7_dma_unmap_area): for_device invalidates for DMA_FROM_DEVICE and
 *	cleans otherwise; for_cpu invalidates unless DMA_TO_DEVICE.
 *
 * Both widen the range to cache lines themselves (at most one line less
 * a byte each side), so the traced range must be the asked range exactly.
 * Linux 6.12's DMA tracepoints sit at the API (kernel/dma/mapping.c) and
 * fire after any branch, coherent or not: they say what was asked, not
 * what was done. The PC kernel (x86, coherent) has no arch_sync_dma_*()
 * at all; there the DMA API calls are traced, to show SYNC still reaches
 * it, and clflush_cache_range(), x86's cache flush, must never run.
 *
 * The default pool is used: its device is a misc device with no firmware
 * node, which arm and arm64 treat as not coherent (dev->dma_coherent is
 * never set for it), so every maintenance shows in the trace.
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
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/videodev2.h>

#include "cmamem_dmabuf_util.h"
#include "cmamem_util.h"
#include "cmamem_vivid_util.h"
#include "kselftest_harness.h"

/* enum dma_data_direction (include/linux/dma-direction.h) */
#define DMA_BIDIRECTIONAL	0
#define DMA_TO_DEVICE		1
#define DMA_FROM_DEVICE		2

#define TRACEFS_PATHS		{ "/sys/kernel/tracing", \
				  "/sys/kernel/debug/tracing" }
#define MAX_EVENTS		64
#define BLOCK_PAGES		4
/* Any cache line is at most this long (arm64's CTR_EL0 allows 2 KiB). */
#define MAX_CACHE_LINE		2048

/* Where the events come from; what a hook does depends on the kind. */
enum trace_kind {
	TRACE_ARM64,
	TRACE_ARM,		/* 32-bit phys_addr_t: paddr in r0 */
	TRACE_ARM_LPAE,		/* 64-bit phys_addr_t: paddr in r0 and r1 */
	TRACE_X86,		/* coherent: DMA API calls, cache flushes */
};

enum trace_hook {
	HOOK_FOR_DEVICE,	/* arch_sync_dma_for_device / DMA API */
	HOOK_FOR_CPU,		/* arch_sync_dma_for_cpu / DMA API */
	HOOK_FLUSH,		/* x86 clflush_cache_range: never expected */
	HOOK_COUNT,
};

static const char * const hook_names[HOOK_COUNT] = {
	"for_device", "for_cpu", "flush",
};

/* The kprobe definitions of each kind; "%s" is the event group. */
static const char * const probe_definitions[][HOOK_COUNT] = {
	[TRACE_ARM64] = {
		"p:%s/for_device arch_sync_dma_for_device paddr=%%x0:x64 size=%%x1:u64 dir=%%x2:s32",
		"p:%s/for_cpu arch_sync_dma_for_cpu paddr=%%x0:x64 size=%%x1:u64 dir=%%x2:s32",
	},
	[TRACE_ARM] = {
		"p:%s/for_device arch_sync_dma_for_device paddr=%%r0:x32 size=%%r1:u32 dir=%%r2:s32",
		"p:%s/for_cpu arch_sync_dma_for_cpu paddr=%%r0:x32 size=%%r1:u32 dir=%%r2:s32",
	},
	/* AAPCS: a 64-bit argument takes an even register pair, low first. */
	[TRACE_ARM_LPAE] = {
		"p:%s/for_device arch_sync_dma_for_device paddr=%%r0:x32 paddr_high=%%r1:x32 size=%%r2:u32 dir=%%r3:s32",
		"p:%s/for_cpu arch_sync_dma_for_cpu paddr=%%r0:x32 paddr_high=%%r1:x32 size=%%r2:u32 dir=%%r3:s32",
	},
	/* System V: dev in rdi, the address in rsi, size rdx, dir ecx. */
	[TRACE_X86] = {
		"p:%s/for_device dma_sync_single_for_device paddr=%%si:x64 size=%%dx:u64 dir=%%cx:s32",
		"p:%s/for_cpu dma_sync_single_for_cpu paddr=%%si:x64 size=%%dx:u64 dir=%%cx:s32",
		"p:%s/flush clflush_cache_range paddr=%%di:x64 size=%%si:u32",
	},
};

static const char * const kind_names[] = {
	[TRACE_ARM64] = "arm64 arch_sync_dma_*",
	[TRACE_ARM] = "arm arch_sync_dma_*",
	[TRACE_ARM_LPAE] = "arm LPAE arch_sync_dma_*",
	[TRACE_X86] = "x86 DMA API and clflush_cache_range",
};

struct sync_event {
	enum trace_hook hook;
	__u64 paddr;
	__u64 size;
	int dir;
};

struct tracer {
	char root[64];
	char group[32];
	char instance[160];
	enum trace_kind kind;
	bool hooks[HOOK_COUNT];
};

static int write_file(const char *path, const char *text, int flags)
{
	ssize_t length = (ssize_t)strlen(text);
	int fd, result = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC | flags);
	if (fd < 0)
		return -errno;
	if (write(fd, text, (size_t)length) != length)
		result = -errno;
	close(fd);
	return result;
}

static int tracer_write(const struct tracer *tracer, const char *file,
			const char *text)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", tracer->instance, file);
	return write_file(path, text, O_TRUNC);
}

/* Adds or removes kprobe events: 0 or -errno of the write. */
static int kprobe_events(const struct tracer *tracer, const char *command)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/kprobe_events", tracer->root);
	return write_file(path, command, O_APPEND);
}

/* The mounted tracefs, mounting it where the kernel expects it if need be. */
static bool find_tracefs(struct tracer *tracer)
{
	static const char * const paths[] = TRACEFS_PATHS;
	char probe[128];
	size_t index;

	for (index = 0; index < ARRAY_SIZE(paths); index++) {
		snprintf(probe, sizeof(probe), "%s/kprobe_events",
			 paths[index]);
		if (!cmamem_path_exists(probe) && index == 0)
			mount("tracefs", paths[0], "tracefs", 0, NULL);
		if (cmamem_path_exists(probe)) {
			snprintf(tracer->root, sizeof(tracer->root), "%s",
				 paths[index]);
			return true;
		}
	}
	return false;
}

/*
 * Whether phys_addr_t is 64 bits wide: %pa prints it with two hex digits
 * per byte, and /proc/vmallocinfo shows the ioremap()ed registers (the
 * UART, the interrupt controller) with "phys=%pa". -1 if no line says.
 */
static int phys_addr_is_64bit(void)
{
	char line[512], *phys;
	int result = -1;
	FILE *file;

	file = fopen("/proc/vmallocinfo", "re");
	if (!file)
		return -1;
	while (result < 0 && fgets(line, sizeof(line), file)) {
		size_t digits;

		phys = strstr(line, " phys=0x");
		if (!phys)
			continue;
		digits = strspn(phys + 8, "0123456789abcdef");
		if (digits == 8 || digits == 16)
			result = digits == 16;
	}
	fclose(file);
	return result;
}

static void remove_probes(struct tracer *tracer)
{
	char command[96];
	int hook;

	for (hook = 0; hook < HOOK_COUNT; hook++) {
		if (!tracer->hooks[hook])
			continue;
		snprintf(command, sizeof(command), "-:%s/%s", tracer->group,
			 hook_names[hook]);
		kprobe_events(tracer, command);
		tracer->hooks[hook] = false;
	}
}

/* Adds the probes of @kind; 0, or the -errno of the first that failed. */
static int add_probes(struct tracer *tracer, enum trace_kind kind)
{
	char command[256];
	int hook, ret;

	tracer->kind = kind;
	for (hook = 0; hook < HOOK_COUNT; hook++) {
		if (!probe_definitions[kind][hook])
			continue;
		snprintf(command, sizeof(command), probe_definitions[kind][hook],
			 tracer->group);
		ret = kprobe_events(tracer, command);
		if (ret) {
			remove_probes(tracer);
			return ret;
		}
		tracer->hooks[hook] = true;
	}
	return 0;
}

/*
 * The probes a kernel accepts tell its architecture: each kind is tried
 * in turn (a 32-bit test program may run on a 64-bit kernel), and the
 * others fail on a register name or a function they do not have (which
 * of the two a kernel checks first varies). On 32-bit ARM the width of
 * phys_addr_t says which registers hold what. NULL, or why this kernel
 * cannot be traced.
 */
static const char *tracer_probe(struct tracer *tracer)
{
	static char reason[192];
	int arm64, arm, x86, wide;

	arm64 = add_probes(tracer, TRACE_ARM64);
	if (!arm64)
		return NULL;
	wide = phys_addr_is_64bit();
	arm = add_probes(tracer, wide > 0 ? TRACE_ARM_LPAE : TRACE_ARM);
	if (!arm)
		return NULL;
	x86 = add_probes(tracer, TRACE_X86);
	if (!x86)
		return NULL;
	snprintf(reason, sizeof(reason),
		 "this kernel cannot probe its DMA sync functions (kprobe_events: arm64 %s, arm %s, x86 %s)",
		 strerror(-arm64), strerror(-arm), strerror(-x86));
	return reason;
}

/*
 * Sets up kprobe events on the maintenance points, recorded in a trace
 * instance of our own (tracer_follow() says which process it records).
 * NULL, or why this kernel cannot be traced (no tracefs, no kprobe
 * events).
 */
static const char *tracer_open(struct tracer *tracer)
{
	char enable[64];
	const char *reason;

	memset(tracer, 0, sizeof(*tracer));
	snprintf(tracer->group, sizeof(tracer->group), "cmamem_%d",
		 (int)getpid());
	if (!find_tracefs(tracer))
		return "this kernel has no tracefs with kprobe_events (CONFIG_KPROBE_EVENTS)";
	reason = tracer_probe(tracer);
	if (reason)
		return reason;
	snprintf(tracer->instance, sizeof(tracer->instance),
		 "%s/instances/%s", tracer->root, tracer->group);
	if (mkdir(tracer->instance, 0700) ||
	    tracer_write(tracer, "buffer_size_kb", "64") ||
	    tracer_write(tracer, "tracing_on", "0")) {
		rmdir(tracer->instance);
		remove_probes(tracer);
		return "a trace instance cannot be made";
	}
	snprintf(enable, sizeof(enable), "events/%s/enable", tracer->group);
	if (tracer_write(tracer, enable, "1")) {
		rmdir(tracer->instance);
		remove_probes(tracer);
		return "the kprobe events cannot be enabled";
	}
	return NULL;
}

/* Records the events of the calling process only. */
static int tracer_follow(const struct tracer *tracer)
{
	char pid[16];

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	return tracer_write(tracer, "set_event_pid", pid);
}

/* Removes the instance and the probes; 0 if both went. */
static int tracer_close(struct tracer *tracer)
{
	char enable[64];
	int ret = 0;

	if (!tracer->instance[0])
		return 0;
	snprintf(enable, sizeof(enable), "events/%s/enable", tracer->group);
	tracer_write(tracer, enable, "0");
	if (rmdir(tracer->instance))
		ret = -errno;
	remove_probes(tracer);
	tracer->instance[0] = '\0';
	return ret;
}

static void trace_start(struct __test_metadata *_metadata,
			struct tracer *tracer)
{
	ASSERT_EQ(0, tracer_write(tracer, "trace", ""));
	ASSERT_EQ(0, tracer_write(tracer, "tracing_on", "1"));
}

/* Parses "hook: (symbol+0x0/0x..) paddr=.. [paddr_high=..] size=.. dir=.." */
static bool parse_event(const char *line, struct sync_event *event)
{
	const char *field;
	char marker[32];
	int hook;

	for (hook = 0; hook < HOOK_COUNT; hook++) {
		snprintf(marker, sizeof(marker), ": %s: (", hook_names[hook]);
		if (strstr(line, marker))
			break;
	}
	if (hook == HOOK_COUNT)
		return false;
	memset(event, 0, sizeof(*event));
	event->hook = hook;
	event->dir = -1;
	field = strstr(line, " paddr=");
	if (field)
		event->paddr = strtoull(field + 7, NULL, 0);
	field = strstr(line, " paddr_high=");
	if (field)
		event->paddr |= strtoull(field + 12, NULL, 0) << 32;
	field = strstr(line, " size=");
	if (field)
		event->size = strtoull(field + 6, NULL, 0);
	field = strstr(line, " dir=");
	if (field)
		event->dir = (int)strtol(field + 5, NULL, 0);
	return true;
}

/* Stops recording and returns the events recorded since trace_start(). */
static int trace_stop(struct __test_metadata *_metadata,
		      struct tracer *tracer, struct sync_event *events,
		      int max)
{
	char path[256], line[512];
	FILE *file;
	int count = 0;

	EXPECT_EQ(0, tracer_write(tracer, "tracing_on", "0"));
	snprintf(path, sizeof(path), "%s/trace", tracer->instance);
	file = fopen(path, "re");
	if (!file)
		return -1;
	while (fgets(line, sizeof(line), file)) {
		if (line[0] == '#')
			continue;
		if (strstr(line, "LOST") || count == max) {
			count = -1;	/* an incomplete trace proves nothing */
			break;
		}
		if (parse_event(line, &events[count]))
			count++;
	}
	fclose(file);
	return count;
}

/*
 * The cache operation an event stands for, from the kernel sources named
 * at the top; on x86 a DMA API call is no operation at all.
 */
static const char *cache_operation(enum trace_kind kind,
				   const struct sync_event *event)
{
	if (kind == TRACE_X86)
		return event->hook == HOOK_FLUSH ? "flush" : "nothing";
	if (event->hook == HOOK_FOR_CPU)
		return event->dir == DMA_TO_DEVICE ? "nothing" : "invalidate";
	if (kind == TRACE_ARM64)
		return "clean";
	return event->dir == DMA_FROM_DEVICE ? "invalidate" : "clean";
}

/* The expected events of one test, in order. */
struct expected {
	struct sync_event events[MAX_EVENTS];
	int count;
};

/*
 * Expects a sync of [@paddr, @paddr + @size) through @hook in @dir.
 * @importer: the sync is of an importer's scatterlist mapping, which on
 * x86 goes through dma_sync_sg_*() (not traced there: it does nothing).
 */
static void expect_sync(const struct tracer *tracer, struct expected *want,
			enum trace_hook hook, __u64 paddr, __u64 size, int dir,
			bool importer)
{
	if (tracer->kind == TRACE_X86 && importer)
		return;
	want->events[want->count++] = (struct sync_event) {
		.hook = hook, .paddr = paddr, .size = size, .dir = dir,
	};
}

static void print_events(struct __test_metadata *_metadata,
			 const struct tracer *tracer, const char *title,
			 const struct sync_event *events, int count)
{
	int index;

	TH_LOG("%s: %d event(s)", title, count);
	for (index = 0; index < count; index++)
		TH_LOG("  %s paddr=0x%llx size=%llu dir=%d (%s)",
		       hook_names[events[index].hook],
		       (unsigned long long)events[index].paddr,
		       (unsigned long long)events[index].size,
		       events[index].dir,
		       cache_operation(tracer->kind, &events[index]));
}

/* The recorded events must be exactly the expected ones, in order. */
static void check_events(struct __test_metadata *_metadata,
			 const struct tracer *tracer, const char *what,
			 const struct sync_event *got, int count,
			 const struct expected *want)
{
	bool same = count == want->count;
	int index;

	for (index = 0; same && index < count; index++)
		same = got[index].hook == want->events[index].hook &&
		       got[index].paddr == want->events[index].paddr &&
		       got[index].size == want->events[index].size &&
		       (got[index].hook == HOOK_FLUSH ||
			got[index].dir == want->events[index].dir);
	if (!same) {
		TH_LOG("%s: the cache maintenance is not what it must be",
		       what);
		print_events(_metadata, tracer, "expected", want->events,
			     want->count);
		print_events(_metadata, tracer, "traced", got, count);
	}
	ASSERT_TRUE(same);
}

FIXTURE(trace) {
	int fd;
	size_t page_size;
	size_t length;
	__u64 used_before;
	bool cached;
	struct tracer *tracer;
	struct cmamem_tracker tracker;
	struct cmamem_alloc alloc;
	struct sync_event events[MAX_EVENTS];
};

FIXTURE_VARIANT(trace) {
	__u32 mode;
};

CMAMEM_MODE_VARIANTS(trace);

/*
 * One set of probes and one trace instance for the whole program: adding
 * kprobes patches kernel text, which is slow under emulation, so it is not
 * done again for each test (each runs in a process of its own and points
 * the instance at itself). The last test removes them and checks they
 * are gone; the destructor removes them if that test did not run.
 */
static struct tracer program_tracer;
static const char *program_skip_reason;

__attribute__((constructor)) static void program_tracer_open(void)
{
	if (!cmamem_is_root())
		program_skip_reason = "tracing and physical addresses need root";
	else
		program_skip_reason = tracer_open(&program_tracer);
}

__attribute__((destructor)) static void program_tracer_close(void)
{
	tracer_close(&program_tracer);
}

static __u64 pool_used_bytes(struct __test_metadata *_metadata, int fd)
{
	struct cmamem_pool_info info;

	EXPECT_EQ(0, cmamem_pool_info(fd, &info));
	return info.used_bytes;
}

FIXTURE_SETUP(trace)
{
	struct cmamem_pool_info info;

	cmamem_tracker_init(&self->tracker);
	self->page_size = cmamem_page_size();
	self->length = BLOCK_PAGES * self->page_size;
	self->fd = cmamem_track_fd(&self->tracker,
				   open(CMAMEM_DEFAULT_POOL_PATH,
					O_RDWR | O_CLOEXEC));
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, cmamem_pool_info(self->fd, &info));
	self->used_before = info.used_bytes;
	if (program_skip_reason)
		SKIP(return, "%s", program_skip_reason);
	if (variant->mode == CMAMEM_MODE_CACHED &&
	    !(info.pool_flags & CMAMEM_POOL_CACHED))
		SKIP(return, "the default pool has no cached blocks");
	self->tracer = &program_tracer;
	ASSERT_EQ(0, tracer_follow(self->tracer));
	ASSERT_EQ(0, cmamem_alloc_block(self->fd, "trace", self->length,
					variant->mode, &self->alloc));
	ASSERT_EQ(0, self->alloc.out_flags & CMAMEM_ADDRESS_WITHHELD);
	self->cached = variant->mode == CMAMEM_MODE_CACHED;
}

FIXTURE_TEARDOWN(trace)
{
	cmamem_tracker_release(&self->tracker);
	/* Nothing a test made outlives it: every block went back. */
	self->fd = open(CMAMEM_DEFAULT_POOL_PATH, O_RDONLY | O_CLOEXEC);
	if (self->fd >= 0) {
		EXPECT_EQ(self->used_before,
			  pool_used_bytes(_metadata, self->fd));
		close(self->fd);
	}
}

/*
 * The maintenance one CMAMEM_IOCTL_SYNC of [@offset, @offset + @length)
 * of the fixture's block must do through @fd: a cached block is cleaned
 * toward the device or invalidated from it, and a caller whose fd is
 * read-only has the range cleaned before it is invalidated; write-combine
 * and coherent blocks are in no CPU cache and get no cache operation.
 */
static void expect_block_sync(FIXTURE_DATA(trace) *self,
			      struct expected *want, bool for_device,
			      bool writable, __u64 offset, __u64 length)
{
	__u64 paddr = self->alloc.physical_address + offset;

	if (!self->cached)
		return;
	if (!writable && !for_device)
		expect_sync(self->tracer, want, HOOK_FOR_DEVICE, paddr,
			    length, DMA_TO_DEVICE, false);
	expect_sync(self->tracer, want,
		    for_device ? HOOK_FOR_DEVICE : HOOK_FOR_CPU, paddr, length,
		    for_device ? DMA_TO_DEVICE : DMA_FROM_DEVICE, false);
}

/* SYNC through @fd and @handle, traced and checked. */
static void traced_sync(struct __test_metadata *_metadata,
			FIXTURE_DATA(trace) *self, int fd, __u32 handle,
			bool for_device, bool writable, __u64 offset,
			__u64 length)
{
	struct expected want = { .count = 0 };
	char what[96];
	int count;

	expect_block_sync(self, &want, for_device, writable, offset, length);
	trace_start(_metadata, self->tracer);
	ASSERT_EQ(0, cmamem_sync(fd, handle,
				 for_device ? CMAMEM_SYNC_FOR_DEVICE :
					      CMAMEM_SYNC_FOR_CPU,
				 offset, length));
	count = trace_stop(_metadata, self->tracer, self->events,
			   MAX_EVENTS);
	ASSERT_LE(0, count);
	snprintf(what, sizeof(what), "SYNC_FOR_%s of [%llu, +%llu)%s",
		 for_device ? "DEVICE" : "CPU", (unsigned long long)offset,
		 (unsigned long long)length, writable ? "" : " (read-only fd)");
	check_events(_metadata, self->tracer, what, self->events, count,
		     &want);
}

/* An offset inside the second page, not on a cache line boundary. */
static __u64 inner_offset(FIXTURE_DATA(trace) *self)
{
	return self->page_size + MAX_CACHE_LINE + 24;
}

TEST_F(trace, sync_for_device_cleans_exactly_the_range)
{
	traced_sync(_metadata, self, self->fd, self->alloc.handle, true, true,
		    inner_offset(self), self->page_size + 100);
}

TEST_F(trace, sync_for_cpu_invalidates_exactly_the_range)
{
	traced_sync(_metadata, self, self->fd, self->alloc.handle, false,
		    true, inner_offset(self), self->page_size + 100);
}

TEST_F(trace, sync_of_the_block_end)
{
	traced_sync(_metadata, self, self->fd, self->alloc.handle, true, true,
		    self->length - 100, 100);
	traced_sync(_metadata, self, self->fd, self->alloc.handle, false,
		    true, self->length - 100, 100);
}

TEST_F(trace, sync_of_one_byte)
{
	traced_sync(_metadata, self, self->fd, self->alloc.handle, true, true,
		    inner_offset(self) + 7, 1);
	traced_sync(_metadata, self, self->fd, self->alloc.handle, false,
		    true, inner_offset(self) + 7, 1);
}

TEST_F(trace, sync_of_the_whole_block)
{
	traced_sync(_metadata, self, self->fd, self->alloc.handle, true, true,
		    0, self->length);
	traced_sync(_metadata, self, self->fd, self->alloc.handle, false,
		    true, 0, self->length);
}

/* Every refused SYNC fails before it touches a cache. */
TEST_F(trace, refused_sync_does_no_maintenance)
{
	static const struct {
		__u32 flags;
		__u64 offset;
		__u64 length;
	} bad[] = {
		{ CMAMEM_SYNC_FOR_DEVICE, 0, 0 },
		{ CMAMEM_SYNC_FOR_CPU | CMAMEM_SYNC_FOR_DEVICE, 0, 1 },
		{ 0, 0, 1 },
		{ CMAMEM_SYNC_FOR_CPU, 1, ~0ULL },
		{ CMAMEM_SYNC_FOR_CPU, ~0ULL, 2 },
		{ CMAMEM_SYNC_FOR_DEVICE, 0, ~0ULL },
	};
	struct expected want = { .count = 0 };
	size_t index;
	int count;

	trace_start(_metadata, self->tracer);
	for (index = 0; index < ARRAY_SIZE(bad); index++)
		EXPECT_EQ(-EINVAL, cmamem_sync(self->fd, self->alloc.handle,
					       bad[index].flags,
					       bad[index].offset,
					       bad[index].length));
	EXPECT_EQ(-EINVAL, cmamem_sync(self->fd, self->alloc.handle,
				       CMAMEM_SYNC_FOR_DEVICE, self->length,
				       1));
	EXPECT_EQ(-EINVAL, cmamem_sync(self->fd, self->alloc.handle,
				       CMAMEM_SYNC_FOR_CPU, self->length - 1,
				       2));
	EXPECT_EQ(-ENOENT, cmamem_sync(self->fd, self->alloc.handle + 1000,
				       CMAMEM_SYNC_FOR_CPU, 0, 1));
	count = trace_stop(_metadata, self->tracer, self->events,
			   MAX_EVENTS);
	check_events(_metadata, self->tracer, "refused SYNCs", self->events,
		     count, &want);
}

/*
 * A reader must not destroy a writer's data: SYNC_FOR_CPU through a
 * read-only fd cleans the range before invalidating it, so dirty lines
 * another process wrote reach memory instead of being discarded.
 */
TEST_F(trace, read_only_fd_cleans_before_it_invalidates)
{
	struct cmamem_attach attach;
	int reader;

	reader = cmamem_track_fd(&self->tracker,
				 open(CMAMEM_DEFAULT_POOL_PATH,
				      O_RDONLY | O_CLOEXEC));
	ASSERT_LE(0, reader);
	ASSERT_EQ(0, cmamem_attach(reader, self->alloc.name, 0, &attach));
	traced_sync(_metadata, self, reader, attach.handle, false, false,
		    inner_offset(self), 100);
	traced_sync(_metadata, self, reader, attach.handle, true, false,
		    inner_offset(self), 100);
	traced_sync(_metadata, self, reader, attach.handle, false, false,
		    0, self->length);
}

static int dmabuf_sync(int dmabuf, __u64 flags)
{
	struct dma_buf_sync sync = { .flags = flags };

	return ioctl(dmabuf, DMA_BUF_IOCTL_SYNC, &sync) ? -errno : 0;
}

/* An importer's mapping of the whole block, as the block's dma-buf ops see it. */
struct importer_mapping {
	bool mapped;
	int dir;
};

/*
 * What DMA_BUF_IOCTL_SYNC with @flags on the block's dma-buf does: the
 * block itself in the direction of the CPU access (with the read-only
 * clean first), then each importer's mapping in its own direction.
 */
static void expect_dmabuf_sync(FIXTURE_DATA(trace) *self,
			       struct expected *want, __u64 flags,
			       bool writable,
			       const struct importer_mapping *importer)
{
	bool end = flags & DMA_BUF_SYNC_END;
	__u64 paddr = self->alloc.physical_address;
	enum trace_hook hook = end ? HOOK_FOR_DEVICE : HOOK_FOR_CPU;
	int dir = DMA_BIDIRECTIONAL;

	if (!self->cached)
		return;
	if ((flags & DMA_BUF_SYNC_RW) == DMA_BUF_SYNC_READ)
		dir = DMA_FROM_DEVICE;
	else if ((flags & DMA_BUF_SYNC_RW) == DMA_BUF_SYNC_WRITE)
		dir = DMA_TO_DEVICE;
	if (!writable && (end ? dir == DMA_FROM_DEVICE : dir != DMA_TO_DEVICE))
		expect_sync(self->tracer, want, HOOK_FOR_DEVICE, paddr,
			    self->length, DMA_TO_DEVICE, false);
	expect_sync(self->tracer, want, hook, paddr, self->length, dir,
		    false);
	if (importer && importer->mapped)
		expect_sync(self->tracer, want, hook, paddr, self->length,
			    importer->dir, true);
}

static void traced_dmabuf_sync(struct __test_metadata *_metadata,
			       FIXTURE_DATA(trace) *self, int dmabuf,
			       __u64 flags, bool writable,
			       const struct importer_mapping *importer)
{
	struct expected want = { .count = 0 };
	char what[64];
	int count;

	expect_dmabuf_sync(self, &want, flags, writable, importer);
	trace_start(_metadata, self->tracer);
	ASSERT_EQ(0, dmabuf_sync(dmabuf, flags));
	count = trace_stop(_metadata, self->tracer, self->events,
			   MAX_EVENTS);
	ASSERT_LE(0, count);
	snprintf(what, sizeof(what), "DMA_BUF_IOCTL_SYNC 0x%llx%s",
		 (unsigned long long)flags, writable ? "" : " (read-only)");
	check_events(_metadata, self->tracer, what, self->events, count,
		     &want);
}

/* Start and end of a read, a write and both, as DMA_BUF_IOCTL_SYNC takes them. */
static void every_dmabuf_sync(struct __test_metadata *_metadata,
			      FIXTURE_DATA(trace) *self, int dmabuf,
			      bool writable,
			      const struct importer_mapping *importer)
{
	static const __u64 accesses[] = {
		DMA_BUF_SYNC_READ, DMA_BUF_SYNC_WRITE, DMA_BUF_SYNC_RW,
	};
	size_t index;

	for (index = 0; index < ARRAY_SIZE(accesses); index++) {
		traced_dmabuf_sync(_metadata, self, dmabuf,
				   DMA_BUF_SYNC_START | accesses[index],
				   writable, importer);
		traced_dmabuf_sync(_metadata, self, dmabuf,
				   DMA_BUF_SYNC_END | accesses[index],
				   writable, importer);
	}
}

static int export_block(struct __test_metadata *_metadata,
			FIXTURE_DATA(trace) *self, __u32 fd_flags)
{
	int dmabuf = -1;

	EXPECT_EQ(0, cmamem_export(self->fd, self->alloc.handle,
				   fd_flags | O_CLOEXEC, &dmabuf));
	return cmamem_track_fd(&self->tracker, dmabuf);
}

TEST_F(trace, dmabuf_sync_without_attachment)
{
	int dmabuf = export_block(_metadata, self, O_RDWR);

	ASSERT_LE(0, dmabuf);
	every_dmabuf_sync(_metadata, self, dmabuf, true, NULL);
}

TEST_F(trace, read_only_dmabuf_cleans_before_it_invalidates)
{
	int dmabuf = export_block(_metadata, self, O_RDONLY);

	ASSERT_LE(0, dmabuf);
	every_dmabuf_sync(_metadata, self, dmabuf, false, NULL);
}

/*
 * Stops the trace started before an importer mapped or unmapped its
 * attachment (the call returned @ret) and expects one sync of the whole
 * block through @hook in @dir: the maintenance is done once, never twice
 * (dma_map_sgtable() skips its own, the dma-buf ops do it explicitly).
 */
static void expect_importer_maintenance(struct __test_metadata *_metadata,
					FIXTURE_DATA(trace) *self,
					const char *what, enum trace_hook hook,
					int dir, int ret)
{
	struct expected want = { .count = 0 };
	int count;

	count = trace_stop(_metadata, self->tracer, self->events,
			   MAX_EVENTS);
	ASSERT_EQ(0, ret);
	ASSERT_LE(0, count);
	if (self->cached)
		expect_sync(self->tracer, &want, hook,
			    self->alloc.physical_address, self->length, dir,
			    true);
	check_events(_metadata, self->tracer, what, self->events, count,
		     &want);
}

/*
 * vgem imports the dma-buf with PRIME, which maps it for vgem's device
 * DMA_BIDIRECTIONAL at once; closing the GEM handle unmaps it.
 */
TEST_F(trace, dmabuf_with_vgem_attachment)
{
	struct importer_mapping vgem = { .dir = DMA_BIDIRECTIONAL };
	struct test_drm_gem_close close_request = { 0 };
	int card, dmabuf, ret;
	__u32 gem;

	card = cmamem_track_fd(&self->tracker, open_vgem());
	if (card < 0)
		SKIP(return, "vgem is not available on this kernel");
	dmabuf = export_block(_metadata, self, O_RDWR);
	ASSERT_LE(0, dmabuf);

	trace_start(_metadata, self->tracer);
	ret = vgem_import(card, dmabuf, &gem);
	expect_importer_maintenance(_metadata, self, "vgem PRIME import",
				    HOOK_FOR_DEVICE, DMA_BIDIRECTIONAL, ret);
	vgem.mapped = true;
	every_dmabuf_sync(_metadata, self, dmabuf, true, &vgem);

	close_request.handle = gem;
	trace_start(_metadata, self->tracer);
	ret = ioctl(card, TEST_DRM_IOCTL_GEM_CLOSE, &close_request) ? -errno : 0;
	expect_importer_maintenance(_metadata, self, "vgem GEM_CLOSE",
				    HOOK_FOR_CPU, DMA_BIDIRECTIONAL, ret);
	vgem.mapped = false;
	every_dmabuf_sync(_metadata, self, dmabuf, true, &vgem);
}

/*
 * vivid's vb2-dma-contig queue maps a queued dma-buf for vivid's device
 * DMA_FROM_DEVICE (a capture) at QBUF, and unmaps it when the buffers
 * are freed.
 */
TEST_F(trace, dmabuf_with_vivid_attachment)
{
	struct importer_mapping vivid = { .dir = DMA_FROM_DEVICE };
	struct v4l2_requestbuffers request = {
		.count = 1,
		.type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
		.memory = V4L2_MEMORY_DMABUF,
	};
	struct v4l2_format format = {
		.type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
	};
	struct v4l2_buffer buffer = {
		.type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
		.memory = V4L2_MEMORY_DMABUF,
	};
	int video, dmabuf, ret;

	video = open_vivid_capture(VIVID_VB2_DMA_CONTIG);
	if (video == -ENODEV)
		SKIP(return, VIVID_MISSING);
	if (video < 0)
		SKIP(return, "no vivid instance uses vb2-dma-contig (load vivid with allocators=0,1)");
	cmamem_track_fd(&self->tracker, video);
	ASSERT_EQ(0, video_ioctl(video, VIDIOC_G_FMT, &format));
	/* A block that holds vivid's current frame, in the fixture's place. */
	ASSERT_EQ(0, cmamem_free(self->fd, self->alloc.handle));
	self->length = (format.fmt.pix.sizeimage + self->page_size - 1) /
		       self->page_size * self->page_size;
	ASSERT_EQ(0, cmamem_alloc_block(self->fd, "vivid", self->length,
					variant->mode, &self->alloc));
	ASSERT_EQ(0, video_ioctl(video, VIDIOC_REQBUFS, &request));
	ASSERT_LE(1, request.count);
	dmabuf = export_block(_metadata, self, O_RDWR);
	ASSERT_LE(0, dmabuf);

	buffer.m.fd = dmabuf;
	buffer.length = (__u32)self->length;
	trace_start(_metadata, self->tracer);
	ret = video_ioctl(video, VIDIOC_QBUF, &buffer);
	expect_importer_maintenance(_metadata, self, "vivid QBUF",
				    HOOK_FOR_DEVICE, DMA_FROM_DEVICE, ret);
	vivid.mapped = true;
	every_dmabuf_sync(_metadata, self, dmabuf, true, &vivid);

	request.count = 0;
	trace_start(_metadata, self->tracer);
	ret = video_ioctl(video, VIDIOC_REQBUFS, &request);
	expect_importer_maintenance(_metadata, self, "vivid REQBUFS 0",
				    HOOK_FOR_CPU, DMA_FROM_DEVICE, ret);
}

/*
 * A block imported back into its own pool is reached at its own address:
 * nothing is attached or mapped, so nothing is synced either.
 */
TEST_F(trace, import_of_own_export_does_no_maintenance)
{
	struct expected want = { .count = 0 };
	struct cmamem_import import;
	int dmabuf, count;

	dmabuf = export_block(_metadata, self, O_RDWR);
	ASSERT_LE(0, dmabuf);
	trace_start(_metadata, self->tracer);
	ASSERT_EQ(0, cmamem_import(self->fd, dmabuf, &import));
	ASSERT_EQ(0, cmamem_free(self->fd, import.handle));
	count = trace_stop(_metadata, self->tracer, self->events,
			   MAX_EVENTS);
	check_events(_metadata, self->tracer, "IMPORT and FREE of own export",
		     self->events, count, &want);
}

/*
 * A fixture of its own, declared after "trace": the harness runs fixtures
 * in the order they are declared (plain TESTs run first), so this runs
 * after every test that traced.
 */
FIXTURE(trace_cleanup) {
};

FIXTURE_SETUP(trace_cleanup)
{
}

FIXTURE_TEARDOWN(trace_cleanup)
{
}

TEST_F(trace_cleanup, probes_and_trace_instance_go_away)
{
	char path[128], instance[160], line[256];
	FILE *events;

	if (program_skip_reason)
		SKIP(return, "%s", program_skip_reason);
	TH_LOG("traced %s in %s", kind_names[program_tracer.kind],
	       program_tracer.root);
	snprintf(instance, sizeof(instance), "%s", program_tracer.instance);
	ASSERT_EQ(0, tracer_close(&program_tracer));
	ASSERT_FALSE(cmamem_path_exists(instance));
	snprintf(path, sizeof(path), "%s/kprobe_events", program_tracer.root);
	events = fopen(path, "re");
	ASSERT_NE(NULL, events);
	while (fgets(line, sizeof(line), events))
		EXPECT_EQ(NULL, strstr(line, program_tracer.group))
			TH_LOG("left behind: %s", line);
	fclose(events);
}

TEST_HARNESS_MAIN
