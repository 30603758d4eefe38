// SPDX-License-Identifier: GPL-2.0
/*
 * cmamem bench: what cmamem costs on top of the memory itself, measured
 * against the dma-buf heap of the same CMA area and against malloc.
 *
 * The same code runs as "cmamem bench" on a real board and inside the
 * emulated board of "make bench"; bench.h lists the seven measurements.
 * Every timing is one clock_gettime(CLOCK_MONOTONIC) pair around the
 * operations a program would really do, from user space, so it includes
 * the system calls. Nothing is tuned per allocator: both sides do the same
 * steps in the same order, and the allocators take turns inside every
 * trial (starting with a different one each trial), so load from other
 * programs falls on all of them alike.
 */
#define _GNU_SOURCE
/* mmap offsets are 64-bit even in 32-bit builds. */
#define _FILE_OFFSET_BITS 64

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <cmamem/libcmamem.h>

#include "bench.h"
#include "tools-common.h"

#if defined(__has_include)
#if __has_include("linux/dma-heap.h")
#include <linux/dma-heap.h>
#endif
#endif
#ifndef DMA_HEAP_IOCTL_ALLOC
/*
 * From <linux/dma-heap.h> (Linux 5.6 and later), for C libraries whose
 * kernel headers are older than the kernel the program runs on.
 */
#include <linux/ioctl.h>
#include <linux/types.h>
struct dma_heap_allocation_data {
	__u64 len;
	__u32 fd;
	__u32 fd_flags;
	__u64 heap_flags;
};

#define DMA_HEAP_IOC_MAGIC 'H'
#define DMA_HEAP_IOCTL_ALLOC \
	_IOWR(DMA_HEAP_IOC_MAGIC, 0x0, struct dma_heap_allocation_data)
#endif

#define DMA_HEAP_DIRECTORY "/dev/dma_heap"
#define MEBIBYTE (1024.0 * 1024.0)
#define KIB(n) ((uint64_t)(n) << 10)
#define MIB(n) ((uint64_t)(n) << 20)
#define ARRAY_SIZE(array) (sizeof(array) / sizeof((array)[0]))

/* The thresholds of the targets the project set itself (issue 7). */
#define TARGET_MAP_TOUCH_RATIO 1.0
#define TARGET_MAP_TOUCH_AIM 0.8
#define TARGET_FIRST_TOUCH_SPEEDUP 2.0
#define TARGET_COPY_RATIO 0.95
#define TARGET_ATTACH_GROWTH 1.2
#define TARGET_BYTES_PER_BLOCK 256.0

/* Blocks of measurements 1 and 2 this size or smaller get more trials. */
#define SMALL_SIZE_LIMIT MIB(1)

static const uint32_t backend_mode[BENCH_BACKENDS] = {
	[BENCH_COHERENT] = CMAMEM_MODE_COHERENT,
	[BENCH_WRITECOMBINE] = CMAMEM_MODE_WRITECOMBINE,
	[BENCH_CACHED] = CMAMEM_MODE_CACHED,
};

static const char *const backend_names[BENCH_BACKENDS] = {
	[BENCH_COHERENT] = "coherent",
	[BENCH_WRITECOMBINE] = "wc",
	[BENCH_CACHED] = "cached",
	[BENCH_HEAP] = "dma-heap",
};

static const char *const measurement_titles[BENCH_MEASUREMENTS] = {
	[BENCH_ALLOC_FREE] = "Allocate + free",
	[BENCH_MAP_TOUCH] = "Allocate + mmap + touch every page + munmap + free",
	[BENCH_FIRST_TOUCH] = "First touch of a fresh mapping",
	[BENCH_COPY] = "memcpy bandwidth",
	[BENCH_ATTACH] = "Attach by name",
	[BENCH_THROUGHPUT] = "Allocate + free throughput",
	[BENCH_MEMORY] = "Kernel memory per live block",
};

/* Keys of the measurements in the JSON output. */
static const char *const measurement_keys[BENCH_MEASUREMENTS] = {
	[BENCH_ALLOC_FREE] = "alloc_free",
	[BENCH_MAP_TOUCH] = "alloc_map_touch_free",
	[BENCH_FIRST_TOUCH] = "first_touch",
	[BENCH_COPY] = "copy",
	[BENCH_ATTACH] = "attach",
	[BENCH_THROUGHPUT] = "throughput",
	[BENCH_MEMORY] = "memory_per_block",
};

const char *bench_backend_name(enum bench_backend backend)
{
	return backend < BENCH_BACKENDS ? backend_names[backend] : "unknown";
}

const char *bench_measurement_title(enum bench_measurement measurement)
{
	return measurement < BENCH_MEASUREMENTS ?
	       measurement_titles[measurement] : "unknown";
}

void bench_default_options(struct bench_options *options)
{
	static const uint64_t sizes[] = {
		KIB(4), KIB(64), MIB(1), MIB(16), MIB(64),
	};
	static const unsigned int attach_counts[] = { 10, 1000, 10000 };
	static const unsigned int thread_counts[] = { 1, 2 };
	unsigned int index;

	memset(options, 0, sizeof(*options));
	options->trials = 15;
	options->small_trial_factor = 4;
	for (index = 0; index < ARRAY_SIZE(sizes); index++)
		options->sizes[index] = sizes[index];
	options->size_count = ARRAY_SIZE(sizes);
	options->first_touch_bytes = MIB(64);
	options->copy_bytes = MIB(16);
	for (index = 0; index < ARRAY_SIZE(attach_counts); index++)
		options->attach_counts[index] = attach_counts[index];
	options->attach_count_count = ARRAY_SIZE(attach_counts);
	options->attach_samples = 200;
	options->attach_rounds = 3;
	options->throughput_bytes = KIB(64);
	options->throughput_milliseconds = 500;
	for (index = 0; index < ARRAY_SIZE(thread_counts); index++)
		options->thread_counts[index] = thread_counts[index];
	options->thread_count_count = ARRAY_SIZE(thread_counts);
	options->memory_blocks = 10000;
	options->memory_trials = 5;
	options->only = (1u << BENCH_MEASUREMENTS) - 1;
	options->progress = true;
}

/* --- time and statistics --------------------------------------------- */

static uint64_t now_ns(void)
{
	struct timespec time;

	clock_gettime(CLOCK_MONOTONIC, &time);
	return (uint64_t)time.tv_sec * 1000000000u + (uint64_t)time.tv_nsec;
}

static int series_append(struct bench_series *series, double value)
{
	if (series->count == series->capacity) {
		unsigned int capacity = series->capacity ? series->capacity * 2 : 16;
		double *values = realloc(series->values,
					 capacity * sizeof(*values));

		if (!values)
			return -ENOMEM;
		series->values = values;
		series->capacity = capacity;
	}
	series->values[series->count++] = value;
	return 0;
}

/* A cell that stopped keeps its samples but takes no more. */
static bool series_open(const struct bench_series *series)
{
	return series->error == 0;
}

static void series_free(struct bench_series *series)
{
	free(series->values);
	memset(series, 0, sizeof(*series));
}

/**
 * struct bench_stats - the summary of a series
 * @count: samples
 * @median: the median
 * @low: first quartile
 * @high: third quartile
 * @minimum: smallest sample
 * @maximum: largest sample
 */
struct bench_stats {
	unsigned int count;
	double median;
	double low;
	double high;
	double minimum;
	double maximum;
};

static int compare_doubles(const void *a, const void *b)
{
	double left = *(const double *)a, right = *(const double *)b;

	return (left > right) - (left < right);
}

/* Quantile of sorted samples, interpolated between neighbours. */
static double quantile(const double *sorted, unsigned int count, double q)
{
	double position = q * (count - 1);
	unsigned int below = (unsigned int)position;
	double fraction = position - below;

	if (below + 1 >= count)
		return sorted[count - 1];
	return sorted[below] + fraction * (sorted[below + 1] - sorted[below]);
}

static bool stats_of(const double *values, unsigned int count,
		     struct bench_stats *stats)
{
	double *sorted;

	memset(stats, 0, sizeof(*stats));
	if (!count)
		return false;
	sorted = malloc(count * sizeof(*sorted));
	if (!sorted)
		return false;
	memcpy(sorted, values, count * sizeof(*sorted));
	qsort(sorted, count, sizeof(*sorted), compare_doubles);
	stats->count = count;
	stats->median = quantile(sorted, count, 0.5);
	stats->low = quantile(sorted, count, 0.25);
	stats->high = quantile(sorted, count, 0.75);
	stats->minimum = sorted[0];
	stats->maximum = sorted[count - 1];
	free(sorted);
	return true;
}

static bool series_stats(const struct bench_series *series,
			 struct bench_stats *stats)
{
	return stats_of(series->values, series->count, stats);
}

/*
 * The ratio of two series taken in the same trials: the median and
 * quartiles of the per-trial ratios, which cancels load that hit both
 * sides of one trial.
 */
static bool ratio_stats(const struct bench_series *numerator,
			const struct bench_series *denominator,
			struct bench_stats *stats)
{
	unsigned int count = numerator->count < denominator->count ?
			     numerator->count : denominator->count;
	unsigned int index, used = 0;
	double *ratios;
	bool ok;

	memset(stats, 0, sizeof(*stats));
	if (!count)
		return false;
	ratios = malloc(count * sizeof(*ratios));
	if (!ratios)
		return false;
	for (index = 0; index < count; index++)
		if (denominator->values[index] > 0)
			ratios[used++] = numerator->values[index] /
					 denominator->values[index];
	ok = stats_of(ratios, used, stats);
	free(ratios);
	return ok;
}

/* --- the allocators under test --------------------------------------- */

/**
 * struct bench_buffer - one allocation of any backend
 * @length: its length, whole pages
 * @handle: cmamem: the handle
 * @mmap_offset: cmamem: the offset to map it at
 * @dmabuf_fd: dma-heap: the dma-buf
 */
struct bench_buffer {
	uint64_t length;
	uint32_t handle;
	uint64_t mmap_offset;
	int dmabuf_fd;
};

static uint64_t page_round(const struct bench_context *context,
			   uint64_t length)
{
	uint64_t page = (uint64_t)context->results.page_size;

	return (length + page - 1) / page * page;
}

static int buffer_alloc(struct bench_context *context,
			enum bench_backend backend, const char *name,
			uint64_t length, struct bench_buffer *buffer)
{
	struct cmamem_alloc reply;
	int err;

	if (backend == BENCH_HEAP) {
		struct dma_heap_allocation_data request = {
			.len = length,
			.fd_flags = O_RDWR | O_CLOEXEC,
		};

		if (ioctl(context->heap_fd, DMA_HEAP_IOCTL_ALLOC, &request))
			return -errno;
		buffer->dmabuf_fd = (int)request.fd;
		buffer->length = page_round(context, length);
		return 0;
	}
	err = cmamem_alloc(context->pool_fd, name, length,
			   (enum cmamem_mode)backend_mode[backend], 0, 0, &reply);
	if (err)
		return err;
	buffer->length = reply.length;
	buffer->handle = reply.handle;
	buffer->mmap_offset = reply.mmap_offset;
	buffer->dmabuf_fd = -1;
	return 0;
}

static int buffer_free(struct bench_context *context,
		       enum bench_backend backend, struct bench_buffer *buffer)
{
	if (backend == BENCH_HEAP)
		return close(buffer->dmabuf_fd) ? -errno : 0;
	return cmamem_free(context->pool_fd, buffer->handle);
}

static int buffer_map(struct bench_context *context,
		      enum bench_backend backend,
		      const struct bench_buffer *buffer, void **address)
{
	void *mapping;

	if (backend == BENCH_HEAP)
		mapping = mmap(NULL, (size_t)buffer->length,
			       PROT_READ | PROT_WRITE, MAP_SHARED,
			       buffer->dmabuf_fd, 0);
	else
		mapping = mmap(NULL, (size_t)buffer->length,
			       PROT_READ | PROT_WRITE, MAP_SHARED,
			       context->pool_fd, (off_t)buffer->mmap_offset);
	if (mapping == MAP_FAILED)
		return -errno;
	*address = mapping;
	return 0;
}

/* Writes one byte into every page, as a program filling a buffer does. */
static void touch_pages(void *address, uint64_t length, long page_size)
{
	volatile unsigned char *bytes = address;
	uint64_t offset;

	for (offset = 0; offset < length; offset += (uint64_t)page_size)
		bytes[offset] = 1;
}

/* Reads one byte of every page, as a program reading a device's output. */
static void read_pages(const void *address, uint64_t length, long page_size)
{
	const volatile unsigned char *bytes = address;
	unsigned char sum = 0;
	uint64_t offset;

	for (offset = 0; offset < length; offset += (uint64_t)page_size)
		sum += bytes[offset];
	/* Used, so the reads are not optimised away. */
	__asm__ volatile("" : : "r"(sum));
}

/* Page faults this process took so far, minor and major. */
static uint64_t page_faults(void)
{
	struct rusage usage;

	if (getrusage(RUSAGE_SELF, &usage))
		return 0;
	return (uint64_t)usage.ru_minflt + (uint64_t)usage.ru_majflt;
}

/*
 * Called through a volatile pointer, so the compiler can neither drop a
 * copy into memory that is never read again nor turn it into something
 * else.
 */
static void *(*volatile copy_memory)(void *, const void *, size_t) = memcpy;

/* The allocator that goes first in trial @trial: each takes its turn. */
static enum bench_backend backend_in_turn(unsigned int trial,
					  unsigned int position)
{
	return (enum bench_backend)((trial + position) % BENCH_BACKENDS);
}

/* Copies a string, cut to fit: for names that never come near the limit. */
static void copy_string(char *destination, size_t size, const char *source)
{
	size_t length = strnlen(source, size - 1);

	memcpy(destination, source, length);
	destination[length] = '\0';
}

static void progress(const struct bench_context *context, const char *format,
		     const char *detail)
{
	if (!context->options.progress)
		return;
	fprintf(stderr, "cmamem bench: ");
	fprintf(stderr, format, detail);
	fputc('\n', stderr);
}

/* --- measurements 1 and 2: latency per size -------------------------- */

/* One allocate (+ map + touch + unmap) + free cycle, timed. */
static int latency_cycle(struct bench_context *context,
			 enum bench_backend backend, uint64_t size,
			 bool map_and_touch, double *nanoseconds)
{
	struct bench_buffer buffer;
	void *address = NULL;
	uint64_t start, end;
	int err, free_err;

	start = now_ns();
	err = buffer_alloc(context, backend, "bench-latency", size, &buffer);
	if (err)
		return err;
	if (map_and_touch) {
		err = buffer_map(context, backend, &buffer, &address);
		if (!err) {
			touch_pages(address, buffer.length,
				    context->results.page_size);
			if (munmap(address, (size_t)buffer.length))
				err = -errno;
		}
	}
	free_err = buffer_free(context, backend, &buffer);
	end = now_ns();
	if (err)
		return err;
	if (free_err)
		return free_err;
	*nanoseconds = (double)(end - start);
	return 0;
}

static unsigned int trials_for_size(const struct bench_options *options,
				    uint64_t size)
{
	if (size <= SMALL_SIZE_LIMIT)
		return options->trials * options->small_trial_factor;
	return options->trials;
}

static int measure_latency(struct bench_context *context, bool map_and_touch)
{
	const struct bench_options *options = &context->options;
	struct bench_results *results = &context->results;
	unsigned int size_index, trial, position;
	double nanoseconds;
	int err;

	for (size_index = 0; size_index < options->size_count; size_index++) {
		uint64_t size = options->sizes[size_index];
		unsigned int trials = trials_for_size(options, size);

		/* One untimed round first: the first use warms caches. */
		for (trial = 0; trial <= trials; trial++) {
			for (position = 0; position < BENCH_BACKENDS; position++) {
				enum bench_backend backend =
					backend_in_turn(trial, position);
				struct bench_series *series = map_and_touch ?
					&results->map_touch[backend][size_index] :
					&results->alloc_free[backend][size_index];

				if (!results->available[backend] ||
				    !series_open(series))
					continue;
				err = latency_cycle(context, backend, size,
						    map_and_touch, &nanoseconds);
				if (err) {
					series->error = err;
					continue;
				}
				if (trial == 0)
					continue;
				err = series_append(series, nanoseconds);
				if (err)
					return err;
			}
		}
	}
	return 0;
}

/* --- measurement 3: first touch -------------------------------------- */

/**
 * struct first_touch_sample - one mapping's first use, measured
 * @whole: nanoseconds for mmap() and the first access to every page
 * @access_only: nanoseconds for the accesses alone
 * @faults: page faults taken by mmap() and the accesses
 */
struct first_touch_sample {
	double whole;
	double access_only;
	double faults;
};

/* Allocates (untimed), then times mmap() and a write or read of every page. */
static int first_touch_cycle(struct bench_context *context,
			     enum bench_backend backend, bool write,
			     struct first_touch_sample *sample)
{
	uint64_t bytes = context->options.first_touch_bytes;
	long page_size = context->results.page_size;
	uint64_t start, mapped, touched, faults;
	struct bench_buffer buffer;
	void *address;
	int err;

	err = buffer_alloc(context, backend, "bench-first-touch", bytes,
			   &buffer);
	if (err)
		return err;
	faults = page_faults();
	start = now_ns();
	err = buffer_map(context, backend, &buffer, &address);
	if (!err) {
		mapped = now_ns();
		if (write)
			touch_pages(address, buffer.length, page_size);
		else
			read_pages(address, buffer.length, page_size);
		touched = now_ns();
		sample->faults = (double)(page_faults() - faults);
		munmap(address, (size_t)buffer.length);
		sample->whole = (double)(touched - start);
		sample->access_only = (double)(touched - mapped);
	}
	buffer_free(context, backend, &buffer);
	return err;
}

static int measure_first_touch(struct bench_context *context)
{
	struct bench_results *results = &context->results;
	struct first_touch_sample sample;
	unsigned int trial, position;
	int err;

	for (trial = 0; trial <= context->options.trials; trial++) {
		for (position = 0; position < BENCH_BACKENDS; position++) {
			enum bench_backend backend = backend_in_turn(trial, position);
			struct bench_series *touch = &results->first_touch[backend];
			struct bench_series *read = &results->first_read[backend];

			if (!results->available[backend])
				continue;
			if (series_open(touch)) {
				err = first_touch_cycle(context, backend, true,
							&sample);
				if (err) {
					touch->error = err;
					results->touch_only[backend].error = err;
					results->touch_faults[backend].error = err;
				} else if (trial > 0) {
					err = series_append(touch, sample.whole);
					if (!err)
						err = series_append(&results->touch_only[backend],
								    sample.access_only);
					if (!err)
						err = series_append(&results->touch_faults[backend],
								    sample.faults);
					if (err)
						return err;
				}
			}
			if (series_open(read)) {
				err = first_touch_cycle(context, backend, false,
							&sample);
				if (err) {
					read->error = err;
					results->read_faults[backend].error = err;
				} else if (trial > 0) {
					err = series_append(read, sample.whole);
					if (!err)
						err = series_append(&results->read_faults[backend],
								    sample.faults);
					if (err)
						return err;
				}
			}
		}
	}
	return 0;
}

/* --- measurement 4: memcpy bandwidth --------------------------------- */

static double mebibytes_per_second(uint64_t bytes, uint64_t nanoseconds)
{
	if (!nanoseconds)
		nanoseconds = 1;
	return (double)bytes / MEBIBYTE / ((double)nanoseconds / 1e9);
}

static double timed_copy(void *destination, const void *source, size_t bytes)
{
	uint64_t start = now_ns();

	copy_memory(destination, source, bytes);
	return mebibytes_per_second(bytes, now_ns() - start);
}

/*
 * Page-aligned like a mapping, so that the malloc'd reference differs from
 * the mappings in nothing but where the memory comes from.
 */
static void *aligned_buffer(size_t bytes, long page_size)
{
	void *buffer;

	if (posix_memalign(&buffer, (size_t)page_size, bytes))
		return NULL;
	return buffer;
}

static int measure_copy(struct bench_context *context)
{
	struct bench_results *results = &context->results;
	long page_size = results->page_size;
	size_t bytes = (size_t)context->options.copy_bytes;
	struct bench_buffer buffers[BENCH_BACKENDS];
	/* One slot per backend, and the last for the malloc'd reference. */
	void *targets[BENCH_BACKENDS + 1] = { NULL };
	unsigned int trial, position;
	unsigned char *source, *destination;
	int backend, err = 0;

	source = aligned_buffer(bytes, page_size);
	destination = aligned_buffer(bytes, page_size);
	targets[BENCH_BACKENDS] = aligned_buffer(bytes, page_size);
	if (!source || !destination || !targets[BENCH_BACKENDS]) {
		err = -ENOMEM;
		goto out_free;
	}
	/* Fault everything in first: only copying is timed. */
	memset(source, 0x5a, bytes);
	memset(destination, 0xa5, bytes);
	memset(targets[BENCH_BACKENDS], 0x3c, bytes);

	for (backend = 0; backend < BENCH_BACKENDS; backend++) {
		char name[CMAMEM_NAME_SIZE];

		if (!results->available[backend])
			continue;
		/* All of them live at once: each needs a name of its own. */
		snprintf(name, sizeof(name), "bench-copy-%d", backend);
		err = buffer_alloc(context, backend, name, bytes,
				   &buffers[backend]);
		if (!err) {
			err = buffer_map(context, backend, &buffers[backend],
					 &targets[backend]);
			if (err)
				buffer_free(context, backend, &buffers[backend]);
		}
		if (err) {
			results->copy_in[backend].error = err;
			results->copy_out[backend].error = err;
			targets[backend] = NULL;
			continue;
		}
		memset(targets[backend], 0x3c, bytes);
	}

	err = 0;
	for (trial = 0; trial <= context->options.trials && !err; trial++) {
		for (position = 0; position <= BENCH_BACKENDS && !err; position++) {
			unsigned int slot = (trial + position) % (BENCH_BACKENDS + 1);
			struct bench_series *in = slot == BENCH_BACKENDS ?
				&results->copy_malloc_in : &results->copy_in[slot];
			struct bench_series *out = slot == BENCH_BACKENDS ?
				&results->copy_malloc_out : &results->copy_out[slot];
			double in_rate, out_rate;

			if (!targets[slot])
				continue;
			in_rate = timed_copy(targets[slot], source, bytes);
			out_rate = timed_copy(destination, targets[slot], bytes);
			if (trial == 0)
				continue;
			err = series_append(in, in_rate);
			if (!err)
				err = series_append(out, out_rate);
		}
	}

	for (backend = 0; backend < BENCH_BACKENDS; backend++) {
		if (!targets[backend])
			continue;
		munmap(targets[backend], (size_t)buffers[backend].length);
		buffer_free(context, backend, &buffers[backend]);
	}
out_free:
	free(source);
	free(destination);
	free(targets[BENCH_BACKENDS]);
	return err;
}

/* --- measurement 5: attach by name ----------------------------------- */

static void attach_name(char *name, size_t size, unsigned int index)
{
	snprintf(name, size, "bench-attach-%u", index);
}

/* A small generator with a fixed seed: every run attaches the same names. */
static uint32_t next_random(uint32_t *state)
{
	*state = *state * 1664525u + 1013904223u;
	return *state >> 8;
}

/*
 * Grows or shrinks the set of live blocks to @count. Return: 0, or the
 * allocation's error (the cell then says why).
 */
static int attach_set_live(struct bench_context *context,
			   enum bench_backend backend, uint32_t *handles,
			   unsigned int *live, unsigned int count)
{
	char name[CMAMEM_NAME_SIZE];
	struct bench_buffer buffer;
	int err;

	while (*live < count) {
		attach_name(name, sizeof(name), *live);
		err = buffer_alloc(context, backend, name,
				   (uint64_t)context->results.page_size,
				   &buffer);
		if (err)
			return err;
		handles[(*live)++] = buffer.handle;
	}
	while (*live > count)
		cmamem_free(context->pool_fd, handles[--*live]);
	return 0;
}

/* Times @samples attaches of random live blocks. */
static int attach_samples(int attach_fd, unsigned int live, unsigned int samples,
			  uint32_t *random_state, struct bench_series *series)
{
	char name[CMAMEM_NAME_SIZE];
	struct cmamem_attach reply;
	uint64_t start, end;
	unsigned int sample;
	int err;

	for (sample = 0; sample < samples; sample++) {
		attach_name(name, sizeof(name), next_random(random_state) % live);
		start = now_ns();
		err = cmamem_attach(attach_fd, name, 0, &reply);
		end = now_ns();
		if (err) {
			series->error = err;
			return 0;
		}
		cmamem_free(attach_fd, reply.handle);
		err = series_append(series, (double)(end - start));
		if (err)
			return err;
	}
	return 0;
}

static int measure_attach(struct bench_context *context)
{
	const struct bench_options *options = &context->options;
	struct bench_results *results = &context->results;
	unsigned int largest = 0, live = 0, round, step;
	enum bench_backend backend = BENCH_CACHED;
	uint32_t random_state = 12345;
	uint32_t *handles;
	int attach_fd, err = 0;

	if (!results->available[backend])
		backend = BENCH_COHERENT;
	for (step = 0; step < options->attach_count_count; step++)
		if (options->attach_counts[step] > largest)
			largest = options->attach_counts[step];
	if (!largest)
		return 0;
	handles = calloc(largest, sizeof(*handles));
	if (!handles)
		return -ENOMEM;
	/* A second open file attaches, as another process would. */
	attach_fd = open(results->pool_path, O_RDWR | O_CLOEXEC);
	if (attach_fd < 0) {
		err = -errno;
		free(handles);
		return err;
	}

	for (round = 0; round < options->attach_rounds && !err; round++) {
		for (step = 0; step < options->attach_count_count && !err; step++) {
			/* Up through the counts, then down, then up... */
			unsigned int index = round % 2 ?
				options->attach_count_count - 1 - step : step;
			struct bench_series *series = &results->attach[index];
			int cell_err;

			if (!series_open(series))
				continue;
			cell_err = attach_set_live(context, backend, handles,
						   &live,
						   options->attach_counts[index]);
			if (cell_err) {
				series->error = cell_err;
				continue;
			}
			err = attach_samples(attach_fd, live,
					     options->attach_samples,
					     &random_state, series);
		}
	}
	attach_set_live(context, backend, handles, &live, 0);
	close(attach_fd);
	free(handles);
	return err;
}

/* --- measurement 6: throughput ----------------------------------------- */

/**
 * struct start_gate - lets every thread of a trial start at once
 * @lock: protects @open
 * @opened: signalled when @open is set
 * @open: the threads may start
 */
struct start_gate {
	pthread_mutex_t lock;
	pthread_cond_t opened;
	bool open;
};

static void gate_wait(struct start_gate *gate)
{
	pthread_mutex_lock(&gate->lock);
	while (!gate->open)
		pthread_cond_wait(&gate->opened, &gate->lock);
	pthread_mutex_unlock(&gate->lock);
}

static void gate_open(struct start_gate *gate)
{
	pthread_mutex_lock(&gate->lock);
	gate->open = true;
	pthread_cond_broadcast(&gate->opened);
	pthread_mutex_unlock(&gate->lock);
}

/**
 * struct throughput_worker - one thread of a throughput trial
 * @context: the run
 * @backend: the allocator
 * @index: the thread's number, for its block name
 * @gate: all threads start together
 * @stop: set by the main thread when the time is up
 * @operations: allocate + free cycles done
 * @nanoseconds: how long the thread ran
 * @error: the first error, which ends the thread's loop
 */
struct throughput_worker {
	struct bench_context *context;
	enum bench_backend backend;
	unsigned int index;
	struct start_gate *gate;
	atomic_bool *stop;
	uint64_t operations;
	uint64_t nanoseconds;
	int error;
};

static void *throughput_thread(void *argument)
{
	struct throughput_worker *worker = argument;
	uint64_t bytes = worker->context->options.throughput_bytes;
	char name[CMAMEM_NAME_SIZE];
	uint64_t start;

	snprintf(name, sizeof(name), "bench-throughput-%u", worker->index);
	gate_wait(worker->gate);
	start = now_ns();
	/*
	 * At least one cycle, however short the trial: on a loaded machine
	 * (software emulation, two VMs on two cores) a thread may not even
	 * finish one inside the trial's time, and a rate of 0 would say the
	 * allocator did nothing.
	 */
	do {
		struct bench_buffer buffer;

		worker->error = buffer_alloc(worker->context, worker->backend,
					     name, bytes, &buffer);
		if (worker->error)
			break;
		worker->error = buffer_free(worker->context, worker->backend,
					    &buffer);
		if (worker->error)
			break;
		worker->operations++;
	} while (!atomic_load_explicit(worker->stop, memory_order_relaxed));
	worker->nanoseconds = now_ns() - start;
	return NULL;
}

/* Runs @threads threads for the trial's time: operations per second. */
static int throughput_trial(struct bench_context *context,
			    enum bench_backend backend, unsigned int threads,
			    double *rate)
{
	struct throughput_worker workers[BENCH_MAX_THREADS];
	pthread_t ids[BENCH_MAX_THREADS];
	unsigned int milliseconds = context->options.throughput_milliseconds;
	struct timespec duration = {
		.tv_sec = milliseconds / 1000,
		.tv_nsec = (long)(milliseconds % 1000) * 1000000L,
	};
	struct start_gate gate = {
		.lock = PTHREAD_MUTEX_INITIALIZER,
		.opened = PTHREAD_COND_INITIALIZER,
	};
	atomic_bool stop = false;
	unsigned int index, started;
	int err = 0;

	if (threads > BENCH_MAX_THREADS)
		return -EINVAL;
	for (started = 0; started < threads; started++) {
		workers[started] = (struct throughput_worker) {
			.context = context,
			.backend = backend,
			.index = started,
			.gate = &gate,
			.stop = &stop,
		};
		err = -pthread_create(&ids[started], NULL, throughput_thread,
				      &workers[started]);
		if (err)
			break;
	}
	if (err) {
		/* No trial without all its threads: let the others go. */
		atomic_store(&stop, true);
		gate_open(&gate);
		for (index = 0; index < started; index++)
			pthread_join(ids[index], NULL);
		return err;
	}
	gate_open(&gate);
	while (nanosleep(&duration, &duration) && errno == EINTR)
		;
	atomic_store(&stop, true);
	*rate = 0;
	for (index = 0; index < threads; index++) {
		pthread_join(ids[index], NULL);
		if (workers[index].error && !err)
			err = workers[index].error;
		if (workers[index].nanoseconds)
			*rate += (double)workers[index].operations * 1e9 /
				 (double)workers[index].nanoseconds;
	}
	return err;
}

static int measure_throughput(struct bench_context *context)
{
	const struct bench_options *options = &context->options;
	struct bench_results *results = &context->results;
	unsigned int trial, position, step;
	double rate;
	int err;

	for (trial = 0; trial < options->trials; trial++) {
		for (step = 0; step < options->thread_count_count; step++) {
			for (position = 0; position < BENCH_BACKENDS; position++) {
				enum bench_backend backend =
					backend_in_turn(trial, position);
				struct bench_series *series =
					&results->throughput[backend][step];

				if (!results->available[backend] ||
				    !series_open(series))
					continue;
				err = throughput_trial(context, backend,
						       options->thread_counts[step],
						       &rate);
				if (err) {
					series->error = err;
					continue;
				}
				err = series_append(series, rate);
				if (err)
					return err;
			}
		}
	}
	return 0;
}

/* --- measurement 7: kernel memory per block ---------------------------- */

/**
 * struct kernel_memory - the kernel's own memory, from /proc/meminfo
 * @slab_kib: Slab
 * @vmalloc_kib: VmallocUsed
 * @folded: the per-CPU deltas were folded in first, so the figures are exact
 */
struct kernel_memory {
	long long slab_kib;
	long long vmalloc_kib;
	bool folded;
};

/*
 * Each CPU keeps a delta of the kernel's memory counters that /proc/meminfo
 * does not see until it passes a threshold: up to hundreds of kilobytes per
 * CPU, as much as thousands of blocks would cost. Writing vm.stat_refresh
 * (root) folds them in, so that two readings compare exactly.
 */
static bool fold_memory_counters(void)
{
	int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY | O_CLOEXEC);
	bool folded;

	if (fd < 0)
		return false;
	folded = write(fd, "1\n", 2) == 2;
	close(fd);
	return folded;
}

/* Sets @memory->folded when the per-CPU deltas could be folded in. */
static int read_kernel_memory(struct kernel_memory *memory)
{
	char line[256], key[64];
	long long value;
	int found = 0;
	FILE *file;

	memset(memory, 0, sizeof(*memory));
	memory->folded = fold_memory_counters();
	file = fopen("/proc/meminfo", "re");
	if (!file)
		return -errno;
	while (fgets(line, sizeof(line), file)) {
		if (sscanf(line, "%63s %lld", key, &value) != 2)
			continue;
		if (strcmp(key, "Slab:") == 0) {
			memory->slab_kib = value;
			found++;
		} else if (strcmp(key, "VmallocUsed:") == 0) {
			memory->vmalloc_kib = value;
			found++;
		}
	}
	fclose(file);
	return found == 2 ? 0 : -ENODATA;
}

/*
 * Frees of the previous trial finish later, in the background: lazily
 * freed vmap areas (coherent and wc blocks) are purged by a worker once
 * enough pile up, and a dma-buf's file, dentry and inode go after an RCU
 * grace period. Landing in the next reading they would make the next
 * allocator look cheaper. Waits until two readings 100 ms apart agree to
 * within a page (at most 3 s), and returns the last.
 */
static int settled_kernel_memory(struct kernel_memory *memory)
{
	const struct timespec pause = { .tv_nsec = 100 * 1000 * 1000 };
	struct kernel_memory previous;
	unsigned int attempt;
	int err;

	err = read_kernel_memory(&previous);
	for (attempt = 0; !err && attempt < 30; attempt++) {
		nanosleep(&pause, NULL);
		err = read_kernel_memory(memory);
		if (err)
			break;
		if (llabs(memory->slab_kib - previous.slab_kib) <= 4 &&
		    llabs(memory->vmalloc_kib - previous.vmalloc_kib) <= 4)
			return 0;
		previous = *memory;
	}
	if (!err)
		*memory = previous;
	return err;
}

/**
 * struct slab_cache - one line of /proc/slabinfo
 * @name: the cache
 * @active_objects: objects in use
 * @object_size: bytes per object
 */
struct slab_cache {
	char name[BENCH_NAME_SIZE];
	long long active_objects;
	long long object_size;
};

/* /proc/slabinfo (root only, and only with SLUB_DEBUG): NULL without it. */
static struct slab_cache *read_slabinfo(unsigned int *count)
{
	struct slab_cache *caches = NULL, entry;
	unsigned int capacity = 0;
	char line[512];
	FILE *file = fopen("/proc/slabinfo", "re");

	*count = 0;
	if (!file)
		return NULL;
	while (fgets(line, sizeof(line), file)) {
		long long total;

		if (line[0] == '#' || strncmp(line, "slabinfo", 8) == 0)
			continue;
		if (sscanf(line, "%63s %lld %lld %lld", entry.name,
			   &entry.active_objects, &total,
			   &entry.object_size) != 4)
			continue;
		if (*count == capacity) {
			struct slab_cache *bigger;

			capacity = capacity ? capacity * 2 : 256;
			bigger = realloc(caches, capacity * sizeof(*caches));
			if (!bigger) {
				free(caches);
				fclose(file);
				*count = 0;
				return NULL;
			}
			caches = bigger;
		}
		caches[(*count)++] = entry;
	}
	fclose(file);
	return caches;
}

/* Keeps the BENCH_SLAB_TOP caches that grew most between two readings. */
static void slab_growth(const struct slab_cache *before,
			unsigned int before_count,
			const struct slab_cache *after, unsigned int after_count,
			struct bench_slab_growth *top)
{
	unsigned int index, other, slot;

	memset(top, 0, BENCH_SLAB_TOP * sizeof(*top));
	for (index = 0; index < after_count; index++) {
		long long objects = after[index].active_objects;
		long long bytes;

		for (other = 0; other < before_count; other++) {
			if (strcmp(before[other].name, after[index].name) == 0) {
				objects -= before[other].active_objects;
				break;
			}
		}
		bytes = objects * after[index].object_size;
		for (slot = 0; slot < BENCH_SLAB_TOP; slot++)
			if (bytes > top[slot].bytes)
				break;
		if (slot == BENCH_SLAB_TOP)
			continue;
		memmove(&top[slot + 1], &top[slot],
			(BENCH_SLAB_TOP - 1 - slot) * sizeof(*top));
		snprintf(top[slot].cache, sizeof(top[slot].cache), "%s",
			 after[index].name);
		top[slot].bytes = bytes;
		top[slot].objects = objects;
	}
}

/* One dma-buf per block costs a file descriptor: make room for them. */
static unsigned int room_for_descriptors(unsigned int wanted)
{
	struct rlimit limit;
	rlim_t needed = (rlim_t)wanted + 64;

	if (getrlimit(RLIMIT_NOFILE, &limit))
		return 0;
	if (limit.rlim_cur < needed) {
		struct rlimit raised = limit;

		raised.rlim_cur = needed;
		if (raised.rlim_max < needed)
			raised.rlim_max = needed;
		/* Raising the hard limit needs CAP_SYS_RESOURCE. */
		if (setrlimit(RLIMIT_NOFILE, &raised)) {
			raised.rlim_cur = limit.rlim_max;
			raised.rlim_max = limit.rlim_max;
			setrlimit(RLIMIT_NOFILE, &raised);
		}
		getrlimit(RLIMIT_NOFILE, &limit);
	}
	if (limit.rlim_cur >= needed)
		return wanted;
	return limit.rlim_cur > 64 ? (unsigned int)(limit.rlim_cur - 64) : 0;
}

/*
 * One trial: reads the kernel's memory, allocates @blocks one-page blocks,
 * reads it again and frees them. A failed allocation or reading stops the
 * cell (its error says why); only running out of memory for the samples
 * themselves is returned.
 */
static int memory_trial(struct bench_context *context,
			enum bench_backend backend, unsigned int blocks,
			struct bench_buffer *buffers, bool last_trial)
{
	struct bench_results *results = &context->results;
	struct bench_series *slab_series = &results->memory_slab[backend];
	struct bench_series *total_series = &results->memory_total[backend];
	struct slab_cache *slabs_before = NULL, *slabs_after;
	unsigned int slab_count_before = 0, slab_count_after, held = 0;
	struct kernel_memory before, after;
	char name[CMAMEM_NAME_SIZE];
	int err;

	err = settled_kernel_memory(&before);
	if (last_trial)
		slabs_before = read_slabinfo(&slab_count_before);
	while (!err && held < blocks) {
		snprintf(name, sizeof(name), "bench-memory-%u", held);
		err = buffer_alloc(context, backend, name,
				   (uint64_t)results->page_size, &buffers[held]);
		if (!err)
			held++;
	}
	if (!err)
		err = read_kernel_memory(&after);
	if (!err && last_trial) {
		slabs_after = read_slabinfo(&slab_count_after);
		if (slabs_before && slabs_after)
			slab_growth(slabs_before, slab_count_before,
				    slabs_after, slab_count_after,
				    results->slab_top[backend]);
		free(slabs_after);
	}
	while (held > 0)
		buffer_free(context, backend, &buffers[--held]);
	free(slabs_before);
	if (err) {
		slab_series->error = err;
		total_series->error = err;
		return 0;
	}
	if (!before.folded || !after.folded)
		results->memory_inexact = true;

	err = series_append(slab_series,
			    (double)(after.slab_kib - before.slab_kib) * 1024 /
			    blocks);
	if (!err)
		err = series_append(total_series,
				    (double)(after.slab_kib - before.slab_kib +
					     after.vmalloc_kib -
					     before.vmalloc_kib) * 1024 /
				    blocks);
	return err;
}

static int measure_memory(struct bench_context *context)
{
	const struct bench_options *options = &context->options;
	struct bench_results *results = &context->results;
	unsigned int trial, position, heap_blocks;
	struct bench_buffer *buffers;
	int err = 0;

	if (!options->memory_blocks)
		return 0;
	buffers = calloc(options->memory_blocks, sizeof(*buffers));
	if (!buffers)
		return -ENOMEM;
	heap_blocks = room_for_descriptors(options->memory_blocks);

	for (trial = 0; trial < options->memory_trials && !err; trial++) {
		for (position = 0; position < BENCH_BACKENDS && !err; position++) {
			enum bench_backend backend = backend_in_turn(trial, position);
			unsigned int blocks = backend == BENCH_HEAP ?
				heap_blocks : options->memory_blocks;

			if (!results->available[backend] ||
			    !series_open(&results->memory_total[backend]))
				continue;
			if (!blocks) {
				results->memory_total[backend].error = -EMFILE;
				results->memory_slab[backend].error = -EMFILE;
				continue;
			}
			results->memory_blocks[backend] = blocks;
			err = memory_trial(context, backend, blocks, buffers,
					   trial + 1 == options->memory_trials);
		}
	}
	free(buffers);
	return err;
}

/* --- setting up ---------------------------------------------------------- */

/* The CMA heap among /dev/dma_heap's entries: not the system heap. */
static void find_heap(struct bench_context *context)
{
	static const char *const preferred[] = {
		"linux,cma", "reserved", "default_cma_region",
	};
	struct bench_results *results = &context->results;
	const char *asked = context->options.heap;
	char chosen[BENCH_NAME_SIZE] = "";
	struct dirent *entry;
	unsigned int index;
	DIR *directory;

	results->heap_path[0] = '\0';
	if (asked && !asked[0]) {
		snprintf(results->why_unavailable[BENCH_HEAP],
			 sizeof(results->why_unavailable[BENCH_HEAP]),
			 "not asked for (--heap none)");
		return;
	}
	if (asked) {
		if (asked[0] == '/')
			snprintf(results->heap_path, sizeof(results->heap_path),
				 "%s", asked);
		else
			snprintf(results->heap_path, sizeof(results->heap_path),
				 "%s/%s", DMA_HEAP_DIRECTORY, asked);
		return;
	}
	directory = opendir(DMA_HEAP_DIRECTORY);
	if (!directory) {
		snprintf(results->why_unavailable[BENCH_HEAP],
			 sizeof(results->why_unavailable[BENCH_HEAP]),
			 "no %s: kernel without CONFIG_DMABUF_HEAPS",
			 DMA_HEAP_DIRECTORY);
		return;
	}
	while ((entry = readdir(directory))) {
		if (entry->d_name[0] == '.' ||
		    strncmp(entry->d_name, "system", 6) == 0)
			continue;
		for (index = 0; index < ARRAY_SIZE(preferred); index++)
			if (strcmp(entry->d_name, preferred[index]) == 0)
				break;
		/* A well-known CMA heap name wins over any other. */
		if (!chosen[0] || index < ARRAY_SIZE(preferred))
			copy_string(chosen, sizeof(chosen), entry->d_name);
	}
	closedir(directory);
	if (!chosen[0]) {
		snprintf(results->why_unavailable[BENCH_HEAP],
			 sizeof(results->why_unavailable[BENCH_HEAP]),
			 "no CMA heap in %s: kernel without CONFIG_DMABUF_HEAPS_CMA, or no CMA area",
			 DMA_HEAP_DIRECTORY);
		return;
	}
	snprintf(results->heap_path, sizeof(results->heap_path), "%s/%s",
		 DMA_HEAP_DIRECTORY, chosen);
}

int bench_open(struct bench_context *context)
{
	struct bench_results *results = &context->results;
	struct cmamem_pool_info info;
	struct utsname system;
	int backend, err;

	context->pool_fd = -1;
	context->heap_fd = -1;
	results->page_size = sysconf(_SC_PAGESIZE);
	results->cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (!uname(&system)) {
		snprintf(results->kernel, sizeof(results->kernel), "%s %s",
			 system.release, system.version);
		copy_string(results->machine, sizeof(results->machine),
			    system.machine);
	}

	err = cmamem_pool_path(context->options.pool, results->pool_path,
			       sizeof(results->pool_path));
	if (err)
		return err;
	context->pool_fd = open(results->pool_path, O_RDWR | O_CLOEXEC);
	if (context->pool_fd < 0)
		return -errno;
	err = cmamem_pool_info(context->pool_fd, &info);
	if (err)
		return err;
	/* The kernel's name field always ends in a NUL. */
	memcpy(results->pool_name, info.name, CMAMEM_NAME_SIZE);
	results->pool_name[CMAMEM_NAME_SIZE - 1] = '\0';
	results->pool_flags = info.pool_flags;
	for (backend = BENCH_COHERENT; backend <= BENCH_CACHED; backend++)
		results->available[backend] = true;
	if (!(info.pool_flags & CMAMEM_POOL_CACHED)) {
		results->available[BENCH_CACHED] = false;
		snprintf(results->why_unavailable[BENCH_CACHED],
			 sizeof(results->why_unavailable[BENCH_CACHED]),
			 "pool %s has no cached blocks (a carveout)", info.name);
	}

	find_heap(context);
	if (results->heap_path[0]) {
		context->heap_fd = open(results->heap_path, O_RDONLY | O_CLOEXEC);
		if (context->heap_fd < 0)
			snprintf(results->why_unavailable[BENCH_HEAP],
				 sizeof(results->why_unavailable[BENCH_HEAP]),
				 "cannot open %s: %s",
				 results->heap_path, strerror(errno));
		else
			results->available[BENCH_HEAP] = true;
	}
	return 0;
}

void bench_close(struct bench_context *context)
{
	struct bench_results *results = &context->results;
	unsigned int backend, index;

	if (context->pool_fd >= 0)
		close(context->pool_fd);
	if (context->heap_fd >= 0)
		close(context->heap_fd);
	context->pool_fd = -1;
	context->heap_fd = -1;
	for (backend = 0; backend < BENCH_BACKENDS; backend++) {
		for (index = 0; index < BENCH_MAX_SIZES; index++) {
			series_free(&results->alloc_free[backend][index]);
			series_free(&results->map_touch[backend][index]);
		}
		for (index = 0; index < BENCH_MAX_THREAD_COUNTS; index++)
			series_free(&results->throughput[backend][index]);
		series_free(&results->first_touch[backend]);
		series_free(&results->touch_only[backend]);
		series_free(&results->touch_faults[backend]);
		series_free(&results->first_read[backend]);
		series_free(&results->read_faults[backend]);
		series_free(&results->copy_in[backend]);
		series_free(&results->copy_out[backend]);
		series_free(&results->memory_slab[backend]);
		series_free(&results->memory_total[backend]);
	}
	series_free(&results->copy_malloc_in);
	series_free(&results->copy_malloc_out);
	for (index = 0; index < BENCH_MAX_ATTACH_COUNTS; index++)
		series_free(&results->attach[index]);
}

int bench_run(struct bench_context *context, enum bench_measurement measurement)
{
	progress(context, "measuring %s", bench_measurement_title(measurement));
	switch (measurement) {
	case BENCH_ALLOC_FREE:
		return measure_latency(context, false);
	case BENCH_MAP_TOUCH:
		return measure_latency(context, true);
	case BENCH_FIRST_TOUCH:
		return measure_first_touch(context);
	case BENCH_COPY:
		return measure_copy(context);
	case BENCH_ATTACH:
		return measure_attach(context);
	case BENCH_THROUGHPUT:
		return measure_throughput(context);
	case BENCH_MEMORY:
		return measure_memory(context);
	default:
		return -EINVAL;
	}
}

/* --- targets ------------------------------------------------------------- */

enum target_state { TARGET_UNKNOWN, TARGET_MET, TARGET_MISSED };

/**
 * struct bench_target - one target and how the run did against it
 * @key: short name, for JSON
 * @description: the target, in words
 * @value: the measured figure compared with @limit
 * @limit: the target's threshold
 * @state: met, missed, or not measured
 * @detail: where the figure comes from, or why there is none
 */
struct bench_target {
	const char *key;
	char description[128];
	double value;
	double limit;
	enum target_state state;
	char detail[256];
};

#define BENCH_TARGETS 5

static const char *size_text(uint64_t bytes, char *buffer, size_t size)
{
	if (bytes >= MIB(1) && bytes % MIB(1) == 0)
		snprintf(buffer, size, "%" PRIu64 " MiB", bytes >> 20);
	else if (bytes >= KIB(1) && bytes % KIB(1) == 0)
		snprintf(buffer, size, "%" PRIu64 " KiB", bytes >> 10);
	else
		snprintf(buffer, size, "%" PRIu64 " B", bytes);
	return buffer;
}

static const char *error_name(int error)
{
	if (error < 0)
		error = -error;
	switch (error) {
	case ENOMEM:
		return "ENOMEM";
	case EMFILE:
		return "EMFILE";
	case EFBIG:
		return "EFBIG";
	case EDQUOT:
		return "EDQUOT";
	case ENODATA:
		return "ENODATA";
	case EPERM:
		return "EPERM";
	case EACCES:
		return "EACCES";
	case EINVAL:
		return "EINVAL";
	case ENFILE:
		return "ENFILE";
	}
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 32)
	{
		/* Unlike strerror(), a constant string: thread safe. */
		const char *name = strerrorname_np(error);

		if (name)
			return name;
	}
#endif
	return "error";
}

static void compute_targets(const struct bench_context *context,
			    struct bench_target *targets)
{
	const struct bench_options *options = &context->options;
	const struct bench_results *results = &context->results;
	struct bench_stats stats;
	char text[32];
	unsigned int index, smallest = 0, largest = 0;
	int backend;
	struct bench_target *target;

	memset(targets, 0, BENCH_TARGETS * sizeof(*targets));

	target = &targets[0];
	target->key = "cached_map_touch_vs_heap";
	snprintf(target->description, sizeof(target->description),
		 "cached allocate+map+touch+free ≤ %.1f× dma-heap at every size (aim %.1f×)",
		 TARGET_MAP_TOUCH_RATIO, TARGET_MAP_TOUCH_AIM);
	target->limit = TARGET_MAP_TOUCH_RATIO;
	target->state = TARGET_MET;
	target->value = 0;
	for (index = 0; index < options->size_count; index++) {
		const struct bench_series *cached = &results->map_touch[BENCH_CACHED][index];
		const struct bench_series *heap = &results->map_touch[BENCH_HEAP][index];

		size_text(options->sizes[index], text, sizeof(text));
		if (!ratio_stats(cached, heap, &stats)) {
			target->state = TARGET_UNKNOWN;
			snprintf(target->detail, sizeof(target->detail),
				 "not measured at %s (%s)", text,
				 !results->available[BENCH_HEAP] ?
				 "no dma-heap" :
				 cached->error ? error_name(cached->error) :
				 heap->error ? error_name(heap->error) : "no samples");
			break;
		}
		if (stats.median > target->value) {
			target->value = stats.median;
			snprintf(target->detail, sizeof(target->detail),
				 "worst at %s", text);
		}
	}
	if (target->state == TARGET_MET && target->value > target->limit)
		target->state = TARGET_MISSED;

	target = &targets[1];
	target->key = "first_touch_speedup";
	size_text(options->first_touch_bytes, text, sizeof(text));
	snprintf(target->description, sizeof(target->description),
		 "mmap + first write of every page of %s ≥ %.0f× faster than dma-heap (cached)",
		 text, TARGET_FIRST_TOUCH_SPEEDUP);
	target->limit = TARGET_FIRST_TOUCH_SPEEDUP;
	if (ratio_stats(&results->first_touch[BENCH_HEAP],
			&results->first_touch[BENCH_CACHED], &stats)) {
		target->value = stats.median;
		target->state = stats.median >= target->limit ?
				TARGET_MET : TARGET_MISSED;
		snprintf(target->detail, sizeof(target->detail),
			 "dma-heap time / cached time");
	} else {
		snprintf(target->detail, sizeof(target->detail), "not measured");
	}

	target = &targets[2];
	target->key = "copy_into_cached_vs_malloc";
	snprintf(target->description, sizeof(target->description),
		 "memcpy into a cached mapping ≥ %.2f× malloc", TARGET_COPY_RATIO);
	target->limit = TARGET_COPY_RATIO;
	if (ratio_stats(&results->copy_in[BENCH_CACHED],
			&results->copy_malloc_in, &stats)) {
		target->value = stats.median;
		target->state = stats.median >= target->limit ?
				TARGET_MET : TARGET_MISSED;
		snprintf(target->detail, sizeof(target->detail),
			 "bandwidth into cached / into malloc'd memory");
	} else {
		snprintf(target->detail, sizeof(target->detail), "not measured");
	}

	target = &targets[3];
	target->key = "attach_growth";
	for (index = 0; index < options->attach_count_count; index++) {
		if (options->attach_counts[index] < options->attach_counts[smallest])
			smallest = index;
		if (options->attach_counts[index] > options->attach_counts[largest])
			largest = index;
	}
	snprintf(target->description, sizeof(target->description),
		 "attach with %u live blocks ≤ %.1f× attach with %u",
		 options->attach_counts[largest], TARGET_ATTACH_GROWTH,
		 options->attach_counts[smallest]);
	target->limit = TARGET_ATTACH_GROWTH;
	{
		struct bench_stats few, many;

		if (options->attach_count_count &&
		    series_stats(&results->attach[smallest], &few) &&
		    series_stats(&results->attach[largest], &many) &&
		    few.median > 0) {
			target->value = many.median / few.median;
			target->state = target->value <= target->limit ?
					TARGET_MET : TARGET_MISSED;
			snprintf(target->detail, sizeof(target->detail),
				 "ratio of median attach latencies");
		} else {
			snprintf(target->detail, sizeof(target->detail),
				 "not measured");
		}
	}

	target = &targets[4];
	target->key = "memory_per_block";
	snprintf(target->description, sizeof(target->description),
		 "≤ %.0f bytes of kernel memory per block (every cmamem mode)",
		 TARGET_BYTES_PER_BLOCK);
	target->limit = TARGET_BYTES_PER_BLOCK;
	target->state = TARGET_UNKNOWN;
	target->value = 0;
	for (backend = BENCH_COHERENT; backend <= BENCH_CACHED; backend++) {
		size_t used = strlen(target->detail);

		if (!series_stats(&results->memory_total[backend], &stats))
			continue;
		if (target->state == TARGET_UNKNOWN || stats.median > target->value)
			target->value = stats.median;
		target->state = TARGET_MET;
		snprintf(target->detail + used, sizeof(target->detail) - used,
			 "%s%s %.0f B", used ? ", " : "",
			 bench_backend_name(backend), stats.median);
	}
	if (target->state == TARGET_MET && target->value > target->limit)
		target->state = TARGET_MISSED;
	if (target->state == TARGET_UNKNOWN)
		snprintf(target->detail, sizeof(target->detail), "not measured");
}

/* --- text output --------------------------------------------------------- */

/* A value at about three significant digits. */
static void format_number(char *buffer, size_t size, double value)
{
	double magnitude = fabs(value);

	if (magnitude >= 100 || magnitude == 0)
		snprintf(buffer, size, "%.0f", value);
	else if (magnitude >= 10)
		snprintf(buffer, size, "%.1f", value);
	else
		snprintf(buffer, size, "%.2f", value);
}

/* Unit of a time, chosen by the median so a cell shares one unit. */
static double time_unit(double nanoseconds, const char **unit)
{
	if (nanoseconds >= 1e9) {
		*unit = "s";
		return 1e9;
	}
	if (nanoseconds >= 1e6) {
		*unit = "ms";
		return 1e6;
	}
	if (nanoseconds >= 1e3) {
		*unit = "µs";
		return 1e3;
	}
	*unit = "ns";
	return 1;
}

enum cell_kind { CELL_TIME, CELL_RATE, CELL_BANDWIDTH, CELL_BYTES, CELL_COUNT };

/* "12.3 µs (11.8–13.0)": median and interquartile range. */
static const char *cell_text(const struct bench_context *context,
			     enum bench_backend backend,
			     const struct bench_series *series,
			     enum cell_kind kind, char *buffer, size_t size)
{
	char median[32], low[32], high[32];
	struct bench_stats stats;
	const char *unit = "";
	double scale = 1;

	if (backend < BENCH_BACKENDS && !context->results.available[backend])
		return "n/a";
	if (!series_stats(series, &stats)) {
		if (series->error == -ENOMEM)
			return "no room (ENOMEM)";
		if (series->error) {
			snprintf(buffer, size, "failed (%s)",
				 error_name(series->error));
			return buffer;
		}
		return "not measured";
	}
	switch (kind) {
	case CELL_TIME:
		scale = time_unit(stats.median, &unit);
		break;
	case CELL_RATE:
		unit = "/s";
		break;
	case CELL_BANDWIDTH:
		unit = "MiB/s";
		break;
	case CELL_BYTES:
		unit = "B";
		break;
	case CELL_COUNT:
		break;
	}
	format_number(median, sizeof(median), stats.median / scale);
	format_number(low, sizeof(low), stats.low / scale);
	format_number(high, sizeof(high), stats.high / scale);
	snprintf(buffer, size, "%s%s%s (%s–%s)%s", median, unit[0] ? " " : "",
		 unit, low, high, series->error ? " stopped" : "");
	return buffer;
}

static const char *ratio_text(const struct bench_series *numerator,
			      const struct bench_series *denominator,
			      char *buffer, size_t size)
{
	struct bench_stats stats;

	if (!ratio_stats(numerator, denominator, &stats))
		return "–";
	snprintf(buffer, size, "%.2f× (%.2f–%.2f)", stats.median, stats.low,
		 stats.high);
	return buffer;
}

static const char *plural(unsigned int count)
{
	return count == 1 ? "" : "s";
}

static const char *verdict_text(enum target_state state)
{
	switch (state) {
	case TARGET_MET:
		return "met";
	case TARGET_MISSED:
		return "**MISSED**";
	default:
		return "not measured";
	}
}

static void print_latency_table(const struct bench_context *context,
				FILE *stream, bool map_and_touch)
{
	const struct bench_options *options = &context->options;
	const struct bench_results *results = &context->results;
	const struct bench_series (*table)[BENCH_MAX_SIZES] = map_and_touch ?
		results->map_touch : results->alloc_free;
	char cell[160], size[32];
	unsigned int index;
	int backend;

	fprintf(stream, "| size | trials |");
	for (backend = 0; backend < BENCH_BACKENDS; backend++)
		fprintf(stream, " %s |", bench_backend_name(backend));
	for (backend = BENCH_COHERENT; backend <= BENCH_CACHED; backend++)
		fprintf(stream, " %s ÷ dma-heap |", bench_backend_name(backend));
	if (map_and_touch)
		fprintf(stream, " target: cached ≤ %.1f× |", TARGET_MAP_TOUCH_RATIO);
	fprintf(stream, "\n|---|---:|");
	for (backend = 0; backend < BENCH_BACKENDS + 3; backend++)
		fprintf(stream, "---:|");
	fprintf(stream, "%s\n", map_and_touch ? "---|" : "");

	for (index = 0; index < options->size_count; index++) {
		fprintf(stream, "| %s | %u |",
			size_text(options->sizes[index], size, sizeof(size)),
			trials_for_size(options, options->sizes[index]));
		for (backend = 0; backend < BENCH_BACKENDS; backend++)
			fprintf(stream, " %s |",
				cell_text(context, backend,
					  &table[backend][index],
					  CELL_TIME, cell, sizeof(cell)));
		for (backend = BENCH_COHERENT; backend <= BENCH_CACHED; backend++)
			fprintf(stream, " %s |",
				ratio_text(&table[backend][index],
					   &table[BENCH_HEAP][index],
					   cell, sizeof(cell)));
		if (map_and_touch) {
			struct bench_stats stats;

			if (ratio_stats(&table[BENCH_CACHED][index],
					&table[BENCH_HEAP][index],
					&stats))
				fprintf(stream, " %s |",
					verdict_text(stats.median <= TARGET_MAP_TOUCH_RATIO ?
						     TARGET_MET : TARGET_MISSED));
			else
				fprintf(stream, " not measured |");
		}
		fprintf(stream, "\n");
	}
}

static void print_first_touch_table(const struct bench_context *context,
				    FILE *stream)
{
	const struct bench_results *results = &context->results;
	char cell[160], ratio[64];
	int backend;

	fprintf(stream,
		"| allocator | mmap + write every page | the writes alone | page faults | dma-heap ÷ this | mmap + read every page | page faults | dma-heap ÷ this |\n"
		"|---|---:|---:|---:|---:|---:|---:|---:|\n");
	for (backend = 0; backend < BENCH_BACKENDS; backend++) {
		fprintf(stream, "| %s | %s |", bench_backend_name(backend),
			cell_text(context, backend, &results->first_touch[backend],
				  CELL_TIME, cell, sizeof(cell)));
		fprintf(stream, " %s |",
			cell_text(context, backend, &results->touch_only[backend],
				  CELL_TIME, cell, sizeof(cell)));
		fprintf(stream, " %s |",
			cell_text(context, backend, &results->touch_faults[backend],
				  CELL_COUNT, cell, sizeof(cell)));
		fprintf(stream, " %s |",
			backend == BENCH_HEAP ? "1" :
			ratio_text(&results->first_touch[BENCH_HEAP],
				   &results->first_touch[backend], ratio,
				   sizeof(ratio)));
		fprintf(stream, " %s |",
			cell_text(context, backend, &results->first_read[backend],
				  CELL_TIME, cell, sizeof(cell)));
		fprintf(stream, " %s |",
			cell_text(context, backend, &results->read_faults[backend],
				  CELL_COUNT, cell, sizeof(cell)));
		fprintf(stream, " %s |\n",
			backend == BENCH_HEAP ? "1" :
			ratio_text(&results->first_read[BENCH_HEAP],
				   &results->first_read[backend], ratio,
				   sizeof(ratio)));
	}
}

static void print_copy_table(const struct bench_context *context, FILE *stream)
{
	const struct bench_results *results = &context->results;
	char cell[160], ratio[64];
	int backend;

	fprintf(stream,
		"| memory | into it | out of it | into ÷ malloc | out ÷ malloc |\n"
		"|---|---:|---:|---:|---:|\n");
	fprintf(stream, "| malloc (the limit) | %s |",
		cell_text(context, BENCH_BACKENDS, &results->copy_malloc_in,
			  CELL_BANDWIDTH, cell, sizeof(cell)));
	fprintf(stream, " %s | 1 | 1 |\n",
		cell_text(context, BENCH_BACKENDS, &results->copy_malloc_out,
			  CELL_BANDWIDTH, cell, sizeof(cell)));
	for (backend = 0; backend < BENCH_BACKENDS; backend++) {
		fprintf(stream, "| %s mapping | %s |", bench_backend_name(backend),
			cell_text(context, backend, &results->copy_in[backend],
				  CELL_BANDWIDTH, cell, sizeof(cell)));
		fprintf(stream, " %s |",
			cell_text(context, backend, &results->copy_out[backend],
				  CELL_BANDWIDTH, cell, sizeof(cell)));
		fprintf(stream, " %s |",
			ratio_text(&results->copy_in[backend],
				   &results->copy_malloc_in, ratio, sizeof(ratio)));
		fprintf(stream, " %s |\n",
			ratio_text(&results->copy_out[backend],
				   &results->copy_malloc_out, ratio,
				   sizeof(ratio)));
	}
}

static void print_attach_table(const struct bench_context *context,
			       FILE *stream)
{
	const struct bench_options *options = &context->options;
	const struct bench_results *results = &context->results;
	struct bench_stats first, stats;
	char cell[160];
	unsigned int index;
	bool have_first;

	have_first = options->attach_count_count &&
		     series_stats(&results->attach[0], &first) &&
		     first.median > 0;
	fprintf(stream,
		"| live blocks | attaches timed | attach latency | ÷ attach with %u |\n"
		"|---:|---:|---:|---:|\n",
		options->attach_count_count ? options->attach_counts[0] : 0);
	for (index = 0; index < options->attach_count_count; index++) {
		fprintf(stream, "| %u | %u | %s |", options->attach_counts[index],
			results->attach[index].count,
			cell_text(context, BENCH_BACKENDS, &results->attach[index],
				  CELL_TIME, cell, sizeof(cell)));
		if (have_first && series_stats(&results->attach[index], &stats))
			fprintf(stream, " %.2f× |\n", stats.median / first.median);
		else
			fprintf(stream, " – |\n");
	}
}

static void print_throughput_table(const struct bench_context *context,
				   FILE *stream)
{
	const struct bench_options *options = &context->options;
	const struct bench_results *results = &context->results;
	char cell[160], ratio[64];
	unsigned int step;
	int backend;

	fprintf(stream, "| allocator |");
	for (step = 0; step < options->thread_count_count; step++)
		fprintf(stream, " %u thread%s |", options->thread_counts[step],
			options->thread_counts[step] == 1 ? "" : "s");
	for (step = 1; step < options->thread_count_count; step++)
		fprintf(stream, " %u ÷ %u threads |", options->thread_counts[step],
			options->thread_counts[0]);
	for (step = 0; step < options->thread_count_count; step++)
		fprintf(stream, " ÷ dma-heap, %u thread%s |",
			options->thread_counts[step],
			options->thread_counts[step] == 1 ? "" : "s");
	fprintf(stream, "\n|---|");
	for (step = 0; step < options->thread_count_count * 3 - 1; step++)
		fprintf(stream, "---:|");
	fprintf(stream, "\n");
	for (backend = 0; backend < BENCH_BACKENDS; backend++) {
		fprintf(stream, "| %s |", bench_backend_name(backend));
		for (step = 0; step < options->thread_count_count; step++)
			fprintf(stream, " %s |",
				cell_text(context, backend,
					  &results->throughput[backend][step],
					  CELL_RATE, cell, sizeof(cell)));
		for (step = 1; step < options->thread_count_count; step++)
			fprintf(stream, " %s |",
				ratio_text(&results->throughput[backend][step],
					   &results->throughput[backend][0],
					   ratio, sizeof(ratio)));
		for (step = 0; step < options->thread_count_count; step++)
			fprintf(stream, " %s |",
				backend == BENCH_HEAP ? "1" :
				ratio_text(&results->throughput[backend][step],
					   &results->throughput[BENCH_HEAP][step],
					   ratio, sizeof(ratio)));
		fprintf(stream, "\n");
	}
}

static void print_memory_table(const struct bench_context *context,
			       FILE *stream)
{
	const struct bench_results *results = &context->results;
	char cell[160];
	unsigned int slot;
	int backend;

	fprintf(stream,
		"| allocator | blocks held | slab per block | slab + vmalloc per block | target ≤ %.0f B | caches that grew most (bytes per block) |\n"
		"|---|---:|---:|---:|---|---|\n", TARGET_BYTES_PER_BLOCK);
	for (backend = 0; backend < BENCH_BACKENDS; backend++) {
		struct bench_stats stats;
		unsigned int blocks = results->memory_blocks[backend];

		fprintf(stream, "| %s | %u | %s |", bench_backend_name(backend),
			blocks,
			cell_text(context, backend, &results->memory_slab[backend],
				  CELL_BYTES, cell, sizeof(cell)));
		fprintf(stream, " %s |",
			cell_text(context, backend, &results->memory_total[backend],
				  CELL_BYTES, cell, sizeof(cell)));
		if (backend == BENCH_HEAP)
			fprintf(stream, " (reference) |");
		else if (series_stats(&results->memory_total[backend], &stats))
			fprintf(stream, " %s |",
				verdict_text(stats.median <= TARGET_BYTES_PER_BLOCK ?
					     TARGET_MET : TARGET_MISSED));
		else
			fprintf(stream, " not measured |");
		for (slot = 0; slot < BENCH_SLAB_TOP && blocks; slot++) {
			const struct bench_slab_growth *growth =
				&results->slab_top[backend][slot];

			if (!growth->cache[0])
				break;
			fprintf(stream, "%s %s %.0f", slot ? "," : "",
				growth->cache, (double)growth->bytes / blocks);
		}
		fprintf(stream, "%s |\n", slot ? "" : " –");
	}
}

void bench_print_text(const struct bench_context *context, FILE *stream)
{
	const struct bench_options *options = &context->options;
	const struct bench_results *results = &context->results;
	struct bench_target targets[BENCH_TARGETS];
	char size[32], threads[64];
	unsigned int index;
	int backend;

	fprintf(stream, "Kernel %s (%s), page size %ld, %ld CPUs. cmamem pool `%s` (%s), dma-heap `%s`.\n\n",
		results->kernel, results->machine, results->page_size,
		results->cpus, results->pool_name, results->pool_path,
		results->heap_path[0] ? results->heap_path : "none");
	for (backend = 0; backend < BENCH_BACKENDS; backend++)
		if (!results->available[backend])
			fprintf(stream, "- %s: not measured: %s\n",
				bench_backend_name(backend),
				results->why_unavailable[backend]);
	fprintf(stream,
		"\nEach cell: median (first quartile–third quartile) over the trials. "
		"Ratios: median (quartiles) of the per-trial ratios; the allocators "
		"take turns inside each trial.\n");

	if (options->only & (1u << BENCH_ALLOC_FREE)) {
		fprintf(stream, "\n### 1. %s\n\n",
			bench_measurement_title(BENCH_ALLOC_FREE));
		print_latency_table(context, stream, false);
	}
	if (options->only & (1u << BENCH_MAP_TOUCH)) {
		fprintf(stream, "\n### 2. %s\n\n",
			bench_measurement_title(BENCH_MAP_TOUCH));
		print_latency_table(context, stream, true);
	}
	if (options->only & (1u << BENCH_FIRST_TOUCH)) {
		fprintf(stream, "\n### 3. %s of %s, %u trial%s\n\n",
			bench_measurement_title(BENCH_FIRST_TOUCH),
			size_text(options->first_touch_bytes, size, sizeof(size)),
			options->trials, plural(options->trials));
		print_first_touch_table(context, stream);
	}
	if (options->only & (1u << BENCH_COPY)) {
		fprintf(stream, "\n### 4. %s, %s buffers, %u trial%s\n\n",
			bench_measurement_title(BENCH_COPY),
			size_text(options->copy_bytes, size, sizeof(size)),
			options->trials, plural(options->trials));
		print_copy_table(context, stream);
	}
	if (options->only & (1u << BENCH_ATTACH)) {
		fprintf(stream, "\n### 5. %s (%u rounds up and down through the counts)\n\n",
			bench_measurement_title(BENCH_ATTACH),
			options->attach_rounds);
		print_attach_table(context, stream);
	}
	if (options->only & (1u << BENCH_THROUGHPUT)) {
		threads[0] = '\0';
		for (index = 0; index < options->thread_count_count; index++)
			snprintf(threads + strlen(threads),
				 sizeof(threads) - strlen(threads), "%s%u",
				 index ? "/" : "", options->thread_counts[index]);
		fprintf(stream, "\n### 6. %s of %s blocks, operations per second, %u trial%s of %u ms per thread count\n\n",
			bench_measurement_title(BENCH_THROUGHPUT),
			size_text(options->throughput_bytes, size, sizeof(size)),
			options->trials, plural(options->trials),
			options->throughput_milliseconds);
		print_throughput_table(context, stream);
	}
	if (options->only & (1u << BENCH_MEMORY)) {
		fprintf(stream, "\n### 7. %s (%u one-page blocks, %u trial%s)\n\n",
			bench_measurement_title(BENCH_MEMORY),
			options->memory_blocks, options->memory_trials,
			plural(options->memory_trials));
		print_memory_table(context, stream);
		if (results->memory_inexact)
			fprintf(stream, "\nThe kernel's per-CPU counters could not be folded in (vm.stat_refresh needs root): these figures may be off by a few hundred kilobytes over all the blocks.\n");
	}

	compute_targets(context, targets);
	fprintf(stream, "\n### Targets\n\n| target | measured | verdict |\n|---|---|---|\n");
	for (index = 0; index < BENCH_TARGETS; index++) {
		char value[32] = "–";

		if (targets[index].state != TARGET_UNKNOWN) {
			if (index == BENCH_TARGETS - 1)
				snprintf(value, sizeof(value), "%.0f B",
					 targets[index].value);
			else
				snprintf(value, sizeof(value), "%.2f×",
					 targets[index].value);
		}
		fprintf(stream, "| %s | %s (%s) | %s |\n",
			targets[index].description, value, targets[index].detail,
			verdict_text(targets[index].state));
	}
}

/* --- JSON output ------------------------------------------------------- */

/* Whole numbers (sizes, counts) exactly; others to six digits. */
static void json_double(FILE *stream, double value)
{
	if (!isfinite(value))
		fprintf(stream, "null");
	else if (value == floor(value) && fabs(value) < 1e15)
		fprintf(stream, "%.0f", value);
	else
		fprintf(stream, "%.6g", value);
}

/*
 * One cell: {"measurement": ..., "backend": ..., <parameter>, "unit": ...,
 * statistics or "error"}.
 */
static void json_cell(FILE *stream, bool *first, const char *measurement,
		      const char *backend, const char *parameter,
		      double parameter_value, const char *unit,
		      const struct bench_series *series)
{
	struct bench_stats stats;

	fprintf(stream, "%s\n    {\"measurement\": ", *first ? "" : ",");
	*first = false;
	json_string(stream, measurement);
	fprintf(stream, ", \"backend\": ");
	json_string(stream, backend);
	if (parameter) {
		fprintf(stream, ", ");
		json_string(stream, parameter);
		fprintf(stream, ": ");
		json_double(stream, parameter_value);
	}
	fprintf(stream, ", \"unit\": ");
	json_string(stream, unit);
	fprintf(stream, ", \"count\": %u", series->count);
	if (series_stats(series, &stats)) {
		fprintf(stream, ", \"median\": ");
		json_double(stream, stats.median);
		fprintf(stream, ", \"p25\": ");
		json_double(stream, stats.low);
		fprintf(stream, ", \"p75\": ");
		json_double(stream, stats.high);
		fprintf(stream, ", \"min\": ");
		json_double(stream, stats.minimum);
		fprintf(stream, ", \"max\": ");
		json_double(stream, stats.maximum);
	}
	fprintf(stream, ", \"error\": ");
	if (series->error)
		json_string(stream, error_name(series->error));
	else
		fprintf(stream, "null");
	fprintf(stream, "}");
}

/* A paired ratio: {"ratio": ..., "of": ..., "to": ..., statistics}. */
static void json_ratio(FILE *stream, bool *first, const char *name,
		       const char *parameter, double parameter_value,
		       const struct bench_series *numerator,
		       const struct bench_series *denominator)
{
	struct bench_stats stats;

	if (!ratio_stats(numerator, denominator, &stats))
		return;
	fprintf(stream, "%s\n    {\"ratio\": ", *first ? "" : ",");
	*first = false;
	json_string(stream, name);
	if (parameter) {
		fprintf(stream, ", ");
		json_string(stream, parameter);
		fprintf(stream, ": ");
		json_double(stream, parameter_value);
	}
	fprintf(stream, ", \"median\": ");
	json_double(stream, stats.median);
	fprintf(stream, ", \"p25\": ");
	json_double(stream, stats.low);
	fprintf(stream, ", \"p75\": ");
	json_double(stream, stats.high);
	fprintf(stream, "}");
}

void bench_print_json(const struct bench_context *context, FILE *stream)
{
	const struct bench_options *options = &context->options;
	const struct bench_results *results = &context->results;
	struct bench_target targets[BENCH_TARGETS];
	char name[96];
	unsigned int index, slot;
	bool first;
	int backend;

	fprintf(stream, "{\n  \"format\": 1,\n  \"kernel\": ");
	json_string(stream, results->kernel);
	fprintf(stream, ",\n  \"machine\": ");
	json_string(stream, results->machine);
	fprintf(stream, ",\n  \"page_size\": %ld,\n  \"cpus\": %ld,\n  \"pool\": ",
		results->page_size, results->cpus);
	json_string(stream, results->pool_name);
	fprintf(stream, ",\n  \"pool_path\": ");
	json_string(stream, results->pool_path);
	fprintf(stream, ",\n  \"pool_flags\": %" PRIu32 ",\n  \"heap_path\": ",
		results->pool_flags);
	if (results->heap_path[0])
		json_string(stream, results->heap_path);
	else
		fprintf(stream, "null");
	fprintf(stream, ",\n  \"backends\": [");
	for (backend = 0; backend < BENCH_BACKENDS; backend++) {
		fprintf(stream, "%s\n    {\"name\": ", backend ? "," : "");
		json_string(stream, bench_backend_name(backend));
		fprintf(stream, ", \"available\": %s, \"reason\": ",
			results->available[backend] ? "true" : "false");
		json_string(stream, results->why_unavailable[backend]);
		fprintf(stream, "}");
	}
	fprintf(stream, "\n  ],\n  \"options\": {\"trials\": %u, \"small_trial_factor\": %u, \"first_touch_bytes\": %" PRIu64
		", \"copy_bytes\": %" PRIu64 ", \"attach_samples\": %u, \"attach_rounds\": %u, \"throughput_bytes\": %" PRIu64
		", \"throughput_milliseconds\": %u, \"memory_blocks\": %u, \"memory_trials\": %u},\n",
		options->trials, options->small_trial_factor,
		options->first_touch_bytes, options->copy_bytes,
		options->attach_samples, options->attach_rounds,
		options->throughput_bytes, options->throughput_milliseconds,
		options->memory_blocks, options->memory_trials);

	fprintf(stream, "  \"cells\": [");
	first = true;
	for (backend = 0; backend < BENCH_BACKENDS; backend++) {
		const char *label = bench_backend_name(backend);

		if (!results->available[backend])
			continue;
		for (index = 0; index < options->size_count; index++) {
			if (options->only & (1u << BENCH_ALLOC_FREE))
				json_cell(stream, &first, measurement_keys[BENCH_ALLOC_FREE],
					  label, "bytes", (double)options->sizes[index],
					  "ns", &results->alloc_free[backend][index]);
			if (options->only & (1u << BENCH_MAP_TOUCH))
				json_cell(stream, &first, measurement_keys[BENCH_MAP_TOUCH],
					  label, "bytes", (double)options->sizes[index],
					  "ns", &results->map_touch[backend][index]);
		}
		if (options->only & (1u << BENCH_FIRST_TOUCH)) {
			json_cell(stream, &first, measurement_keys[BENCH_FIRST_TOUCH],
				  label, "bytes", (double)options->first_touch_bytes,
				  "ns", &results->first_touch[backend]);
			json_cell(stream, &first, "touch_only", label, "bytes",
				  (double)options->first_touch_bytes, "ns",
				  &results->touch_only[backend]);
			json_cell(stream, &first, "touch_faults", label, "bytes",
				  (double)options->first_touch_bytes, "faults",
				  &results->touch_faults[backend]);
			json_cell(stream, &first, "first_read", label, "bytes",
				  (double)options->first_touch_bytes, "ns",
				  &results->first_read[backend]);
			json_cell(stream, &first, "read_faults", label, "bytes",
				  (double)options->first_touch_bytes, "faults",
				  &results->read_faults[backend]);
		}
		if (options->only & (1u << BENCH_COPY)) {
			json_cell(stream, &first, "copy_in", label, "bytes",
				  (double)options->copy_bytes, "MiB/s",
				  &results->copy_in[backend]);
			json_cell(stream, &first, "copy_out", label, "bytes",
				  (double)options->copy_bytes, "MiB/s",
				  &results->copy_out[backend]);
		}
		if (options->only & (1u << BENCH_THROUGHPUT))
			for (index = 0; index < options->thread_count_count; index++)
				json_cell(stream, &first, measurement_keys[BENCH_THROUGHPUT],
					  label, "threads",
					  options->thread_counts[index],
					  "operations/s",
					  &results->throughput[backend][index]);
		if (options->only & (1u << BENCH_MEMORY)) {
			json_cell(stream, &first, "memory_slab_per_block", label,
				  "blocks", results->memory_blocks[backend],
				  "bytes", &results->memory_slab[backend]);
			json_cell(stream, &first, measurement_keys[BENCH_MEMORY],
				  label, "blocks", results->memory_blocks[backend],
				  "bytes", &results->memory_total[backend]);
		}
	}
	if (options->only & (1u << BENCH_COPY)) {
		json_cell(stream, &first, "copy_in", "malloc", "bytes",
			  (double)options->copy_bytes, "MiB/s",
			  &results->copy_malloc_in);
		json_cell(stream, &first, "copy_out", "malloc", "bytes",
			  (double)options->copy_bytes, "MiB/s",
			  &results->copy_malloc_out);
	}
	if (options->only & (1u << BENCH_ATTACH))
		for (index = 0; index < options->attach_count_count; index++)
			json_cell(stream, &first, measurement_keys[BENCH_ATTACH],
				  results->available[BENCH_CACHED] ? "cached" : "coherent",
				  "live_blocks", options->attach_counts[index],
				  "ns", &results->attach[index]);
	fprintf(stream, "\n  ],\n  \"ratios\": [");

	first = true;
	for (backend = BENCH_COHERENT; backend <= BENCH_CACHED; backend++) {
		const char *label = bench_backend_name(backend);

		for (index = 0; index < options->size_count; index++) {
			snprintf(name, sizeof(name), "alloc_free %s / dma-heap", label);
			json_ratio(stream, &first, name, "bytes",
				   (double)options->sizes[index],
				   &results->alloc_free[backend][index],
				   &results->alloc_free[BENCH_HEAP][index]);
			snprintf(name, sizeof(name), "alloc_map_touch_free %s / dma-heap", label);
			json_ratio(stream, &first, name, "bytes",
				   (double)options->sizes[index],
				   &results->map_touch[backend][index],
				   &results->map_touch[BENCH_HEAP][index]);
		}
		snprintf(name, sizeof(name), "first_touch dma-heap / %s", label);
		json_ratio(stream, &first, name, NULL, 0,
			   &results->first_touch[BENCH_HEAP],
			   &results->first_touch[backend]);
		snprintf(name, sizeof(name), "first_read dma-heap / %s", label);
		json_ratio(stream, &first, name, NULL, 0,
			   &results->first_read[BENCH_HEAP],
			   &results->first_read[backend]);
		for (index = 0; index < options->thread_count_count; index++) {
			snprintf(name, sizeof(name), "throughput %s / dma-heap", label);
			json_ratio(stream, &first, name, "threads",
				   options->thread_counts[index],
				   &results->throughput[backend][index],
				   &results->throughput[BENCH_HEAP][index]);
		}
	}
	for (backend = 0; backend < BENCH_BACKENDS; backend++) {
		snprintf(name, sizeof(name), "copy_in %s / malloc",
			 bench_backend_name(backend));
		json_ratio(stream, &first, name, NULL, 0,
			   &results->copy_in[backend], &results->copy_malloc_in);
		snprintf(name, sizeof(name), "copy_out %s / malloc",
			 bench_backend_name(backend));
		json_ratio(stream, &first, name, NULL, 0,
			   &results->copy_out[backend], &results->copy_malloc_out);
	}
	fprintf(stream, "\n  ],\n  \"slab_growth\": [");
	first = true;
	for (backend = 0; backend < BENCH_BACKENDS; backend++) {
		for (slot = 0; slot < BENCH_SLAB_TOP; slot++) {
			const struct bench_slab_growth *growth =
				&results->slab_top[backend][slot];

			if (!growth->cache[0])
				break;
			fprintf(stream, "%s\n    {\"backend\": ", first ? "" : ",");
			first = false;
			json_string(stream, bench_backend_name(backend));
			fprintf(stream, ", \"cache\": ");
			json_string(stream, growth->cache);
			fprintf(stream, ", \"bytes\": %lld, \"objects\": %lld, \"blocks\": %u}",
				growth->bytes, growth->objects,
				results->memory_blocks[backend]);
		}
	}
	fprintf(stream, "\n  ],\n  \"targets\": [");
	compute_targets(context, targets);
	for (index = 0; index < BENCH_TARGETS; index++) {
		fprintf(stream, "%s\n    {\"target\": ", index ? "," : "");
		json_string(stream, targets[index].key);
		fprintf(stream, ", \"description\": ");
		json_string(stream, targets[index].description);
		fprintf(stream, ", \"value\": ");
		if (targets[index].state == TARGET_UNKNOWN)
			fprintf(stream, "null");
		else
			json_double(stream, targets[index].value);
		fprintf(stream, ", \"limit\": ");
		json_double(stream, targets[index].limit);
		fprintf(stream, ", \"met\": %s, \"detail\": ",
			targets[index].state == TARGET_UNKNOWN ? "null" :
			targets[index].state == TARGET_MET ? "true" : "false");
		json_string(stream, targets[index].detail);
		fprintf(stream, "}");
	}
	fprintf(stream, "\n  ]\n}\n");
}

/* --- the subcommand ------------------------------------------------------ */

const char bench_usage[] =
"usage: cmamem bench [--pool P] [--heap NAME|none] [--trials N]\n"
"                    [--sizes LIST] [--first-touch SIZE] [--copy SIZE]\n"
"                    [--blocks N] [--threads LIST] [--duration MS]\n"
"                    [--only LIST] [--json] [--json-file FILE] [--quiet]\n"
"\n"
"Measures what cmamem costs on top of the memory itself, against the\n"
"dma-buf heap of the same CMA area and against malloc'd memory:\n"
"  1 allocate + free latency per size\n"
"  2 allocate + mmap + touch every page + munmap + free latency per size\n"
"  3 mmap + first write, and first read, of every page of a fresh mapping\n"
"  4 memcpy bandwidth into and out of a mapping, and of malloc'd memory\n"
"  5 attach-by-name latency with few and many live blocks\n"
"  6 allocate + free throughput from one and more threads\n"
"  7 kernel memory per live block (slab + vmalloc growth; root)\n"
"for cmamem blocks in each mode (coherent, wc, cached) and the heap.\n"
"Prints Markdown tables with medians, quartiles, ratios and the verdict on\n"
"each of the project's targets; --json prints every statistic instead.\n"
"\n"
"  --pool P          cmamem pool (default: the default pool, /dev/cmamem)\n"
"  --heap NAME       dma-buf heap in /dev/dma_heap, or a path; 'none' for\n"
"                    no heap (default: the CMA heap found there)\n"
"  --trials N        trials per measurement (default 15; sizes up to 1 MiB\n"
"                    take 4 times as many)\n"
"  --sizes LIST      block sizes of 1 and 2 (default 4K,64K,1M,16M,64M)\n"
"  --first-touch S   mapping size of 3 (default 64M)\n"
"  --copy S          buffer size of 4 (default 16M)\n"
"  --blocks N        live blocks of 7 and largest count of 5 (default 10000)\n"
"  --threads LIST    thread counts of 6 (default 1,2)\n"
"  --duration MS     length of each throughput trial (default 500)\n"
"  --only LIST       measurements to run, e.g. 1,2,5 (default all)\n"
"  --json            print JSON instead of tables\n"
"  --json-file FILE  also write the JSON to FILE\n"
"  --quiet           no progress messages on stderr\n"
"\n"
"Use the pool and the heap of the same CMA area (on most boards the default\n"
"pool and the heap named after the default CMA area), and a quiet system:\n"
"other programs' load shows up in the quartiles. Kernel memory (7) needs\n"
"/proc/meminfo, and /proc/slabinfo (root) for the per-cache breakdown.\n";

static int parse_unsigned(const char *text, unsigned long long *value)
{
	char *end;

	if (!text || text[0] < '0' || text[0] > '9')
		return -EINVAL;
	errno = 0;
	*value = strtoull(text, &end, 10);
	if (errno || *end)
		return -EINVAL;
	return 0;
}

/* A non-zero byte count, as the command reads every size. */
static int parse_bytes(const char *text, uint64_t *bytes)
{
	if (parse_size(text, bytes) || !*bytes)
		return -EINVAL;
	return 0;
}

/* A comma-separated list of at most @max sizes. */
static int parse_size_list(const char *text, uint64_t *sizes,
			   unsigned int max, unsigned int *count)
{
	char *copy = strdup(text), *item, *state = NULL;
	int err = 0;

	if (!copy)
		return -ENOMEM;
	*count = 0;
	for (item = strtok_r(copy, ",", &state); item && !err;
	     item = strtok_r(NULL, ",", &state)) {
		if (*count == max)
			err = -E2BIG;
		else
			err = parse_bytes(item, &sizes[(*count)++]);
	}
	free(copy);
	return err ? err : (*count ? 0 : -EINVAL);
}

static int parse_count_list(const char *text, unsigned int *values,
			    unsigned int max, unsigned int *count,
			    unsigned int limit)
{
	char *copy = strdup(text), *item, *state = NULL;
	unsigned long long value;
	int err = 0;

	if (!copy)
		return -ENOMEM;
	*count = 0;
	for (item = strtok_r(copy, ",", &state); item && !err;
	     item = strtok_r(NULL, ",", &state)) {
		err = parse_unsigned(item, &value);
		if (!err && (value == 0 || value > limit))
			err = -ERANGE;
		if (!err && *count == max)
			err = -E2BIG;
		if (!err)
			values[(*count)++] = (unsigned int)value;
	}
	free(copy);
	return err ? err : (*count ? 0 : -EINVAL);
}

#define __noreturn __attribute__((noreturn))

static void __noreturn bench_usage_error(const char *format,
					 const char *argument)
{
	fprintf(stderr, "cmamem bench: ");
	fprintf(stderr, format, argument);
	fprintf(stderr, "\nTry 'cmamem bench --help'.\n");
	exit(2);
}

/* Attach counts 10, 1000, 10000 up to @blocks, and @blocks itself. */
static void attach_counts_up_to(struct bench_options *options,
				unsigned int blocks)
{
	static const unsigned int steps[] = { 10, 1000 };
	unsigned int index;

	options->attach_count_count = 0;
	for (index = 0; index < ARRAY_SIZE(steps); index++)
		if (steps[index] < blocks)
			options->attach_counts[options->attach_count_count++] =
				steps[index];
	options->attach_counts[options->attach_count_count++] = blocks;
}

int bench_command(int argc, char **argv)
{
	static const struct option long_options[] = {
		{ "pool", required_argument, NULL, 'p' },
		{ "heap", required_argument, NULL, 'H' },
		{ "trials", required_argument, NULL, 't' },
		{ "sizes", required_argument, NULL, 's' },
		{ "first-touch", required_argument, NULL, 'f' },
		{ "copy", required_argument, NULL, 'c' },
		{ "blocks", required_argument, NULL, 'b' },
		{ "threads", required_argument, NULL, 'T' },
		{ "duration", required_argument, NULL, 'd' },
		{ "only", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "json-file", required_argument, NULL, 'J' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct bench_context *context;
	struct bench_options *options;
	const char *json_file = NULL;
	unsigned int measurements[BENCH_MEASUREMENTS], count, index;
	unsigned long long number;
	bool json = false;
	int option, err, status = 0;
	enum bench_measurement measurement;

	context = calloc(1, sizeof(*context));
	if (!context) {
		fprintf(stderr, "cmamem bench: out of memory\n");
		return 1;
	}
	options = &context->options;
	bench_default_options(options);
	while ((option = getopt_long(argc, argv, "p:h", long_options, NULL)) != -1) {
		switch (option) {
		case 'p':
			options->pool = optarg;
			break;
		case 'H':
			options->heap = strcmp(optarg, "none") ? optarg : "";
			break;
		case 't':
			if (parse_unsigned(optarg, &number) || !number ||
			    number > 100000)
				bench_usage_error("bad trial count '%s'", optarg);
			options->trials = (unsigned int)number;
			break;
		case 's':
			if (parse_size_list(optarg, options->sizes,
					    BENCH_MAX_SIZES, &options->size_count))
				bench_usage_error("bad size list '%s' (e.g. 4K,64K,1M; at most 8)",
						  optarg);
			break;
		case 'f':
			if (parse_bytes(optarg, &options->first_touch_bytes))
				bench_usage_error("bad size '%s'", optarg);
			break;
		case 'c':
			if (parse_bytes(optarg, &options->copy_bytes) ||
			    options->copy_bytes > SIZE_MAX / 4)
				bench_usage_error("bad size '%s'", optarg);
			break;
		case 'b':
			if (parse_unsigned(optarg, &number) || !number ||
			    number > 1000000)
				bench_usage_error("bad block count '%s'", optarg);
			options->memory_blocks = (unsigned int)number;
			attach_counts_up_to(options, (unsigned int)number);
			break;
		case 'T':
			if (parse_count_list(optarg, options->thread_counts,
					     BENCH_MAX_THREAD_COUNTS,
					     &options->thread_count_count,
					     BENCH_MAX_THREADS))
				bench_usage_error("bad thread list '%s' (e.g. 1,2,4; at most 4 counts of 1 to 64)",
						  optarg);
			break;
		case 'd':
			if (parse_unsigned(optarg, &number) || !number ||
			    number > 600000)
				bench_usage_error("bad duration '%s'", optarg);
			options->throughput_milliseconds = (unsigned int)number;
			break;
		case 'o':
			if (parse_count_list(optarg, measurements,
					     BENCH_MEASUREMENTS, &count,
					     BENCH_MEASUREMENTS))
				bench_usage_error("bad measurement list '%s' (numbers 1 to 7)",
						  optarg);
			options->only = 0;
			for (index = 0; index < count; index++)
				options->only |= 1u << (measurements[index] - 1);
			break;
		case 'j':
			json = true;
			break;
		case 'J':
			json_file = optarg;
			break;
		case 'q':
			options->progress = false;
			break;
		case 'h':
			fputs(bench_usage, stdout);
			free(context);
			return 0;
		default:
			fprintf(stderr, "Try 'cmamem bench --help'.\n");
			free(context);
			return 2;
		}
	}
	if (optind != argc)
		bench_usage_error("unexpected argument '%s'", argv[optind]);

	err = bench_open(context);
	if (err) {
		fprintf(stderr, "cmamem bench: cannot open pool %s: %s\n",
			context->results.pool_path[0] ?
			context->results.pool_path : options->pool,
			cmamem_strerror(err));
		bench_close(context);
		free(context);
		return 1;
	}
	for (measurement = 0; measurement < BENCH_MEASUREMENTS; measurement++) {
		if (!(options->only & (1u << measurement)))
			continue;
		err = bench_run(context, measurement);
		if (err) {
			fprintf(stderr, "cmamem bench: %s: %s\n",
				bench_measurement_title(measurement),
				cmamem_strerror(err));
			status = 1;
		}
	}

	if (json_file) {
		FILE *file = fopen(json_file, "w");

		if (!file) {
			fprintf(stderr, "cmamem bench: cannot write %s: %s\n",
				json_file, strerror(errno));
			status = 1;
		} else {
			bench_print_json(context, file);
			if (fclose(file)) {
				fprintf(stderr, "cmamem bench: writing %s: %s\n",
					json_file, strerror(errno));
				status = 1;
			}
		}
	}
	if (json)
		bench_print_json(context, stdout);
	else
		bench_print_text(context, stdout);
	bench_close(context);
	free(context);
	return status;
}
