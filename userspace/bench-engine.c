// SPDX-License-Identifier: GPL-2.0
/*
 * cmamem bench: what cmamem costs on top of the memory itself, measured
 * against the dma-buf heap of the same CMA area and against malloc.
 *
 * The same code runs as "cmamem bench" on a real board and inside the
 * emulated board of "make bench"; bench.h lists the eight measurements,
 * bench-internal.h which file holds what. Every timing is one
 * clock_gettime(CLOCK_MONOTONIC) pair around the operations a program
 * would really do, from user space, so it includes the system calls.
 * Nothing is tuned per allocator: both sides do the same steps in the same
 * order, and the allocators take turns inside every trial (starting with a
 * different one each trial), so load from other programs falls on all of
 * them alike.
 *
 * This file is the engine: the table of allocators under test, the one
 * loop in which they take turns, the samples and their statistics, and
 * opening, running and closing a benchmark run.
 */
#define _GNU_SOURCE
/* mmap offsets are 64-bit even in 32-bit builds. */
#define _FILE_OFFSET_BITS 64

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <cmamem/libcmamem.h>

#include "bench-internal.h"
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

/**
 * struct measurement_name - how the reports name a measurement
 * @title: its heading in the text report
 * @key: its key in the JSON report
 */
struct measurement_name {
	const char *title;
	const char *key;
};

static const struct measurement_name measurement_names[BENCH_MEASUREMENTS] = {
	[BENCH_ALLOC_FREE] = { "Allocate + free", "alloc_free" },
	[BENCH_MAP_TOUCH] = {
		"Allocate + mmap + touch every page + munmap + free",
		"alloc_map_touch_free",
	},
	[BENCH_FIRST_TOUCH] = {
		"First touch of a fresh mapping", "first_touch",
	},
	[BENCH_COPY] = { "memcpy bandwidth", "copy" },
	[BENCH_ATTACH] = { "Attach by name", "attach" },
	[BENCH_THROUGHPUT] = { "Allocate + free throughput", "throughput" },
	[BENCH_MEMORY] = { "Kernel memory per live block", "memory_per_block" },
	[BENCH_RANDOM_READ] = {
		"Random reads across a mapping (TLB reach)", "random_read",
	},
};

/* --- the allocators under test ------------------------------------------ */

/**
 * struct bench_allocator - one allocator under test, a row of allocators[]
 * @name: its short name in every report
 * @mode: cmamem: the mode of its blocks
 * @alloc: allocates @length bytes, the block named @name (cmamem), its
 *	DMA address a multiple of @alignment (cmamem; 0 for a page)
 * @free: frees what @alloc allocated
 */
struct bench_allocator {
	const char *name;
	enum cmamem_mode mode;
	int (*alloc)(struct bench_context *context,
		     const struct bench_allocator *allocator, const char *name,
		     uint64_t length, uint64_t alignment,
		     struct bench_buffer *buffer);
	int (*free)(struct bench_context *context, struct bench_buffer *buffer);
};

static int cmamem_buffer_alloc(struct bench_context *context,
			       const struct bench_allocator *allocator,
			       const char *name, uint64_t length,
			       uint64_t alignment, struct bench_buffer *buffer)
{
	struct cmamem_alloc reply;
	int err;

	err = cmamem_alloc(context->pool_fd, name, length, allocator->mode,
			   alignment, 0, &reply);
	if (err)
		return err;
	buffer->length = reply.length;
	buffer->handle = reply.handle;
	buffer->fd = context->pool_fd;
	buffer->mmap_offset = reply.mmap_offset;
	return 0;
}

static int cmamem_buffer_free(struct bench_context *context,
			      struct bench_buffer *buffer)
{
	return cmamem_free(context->pool_fd, buffer->handle);
}

static uint64_t page_round(const struct bench_context *context,
			   uint64_t length)
{
	uint64_t page = (uint64_t)context->results.page_size;

	return (length + page - 1) / page * page;
}

/* A dma-buf has no name, and the heap takes no alignment. */
static int heap_buffer_alloc(struct bench_context *context,
			     const struct bench_allocator *allocator,
			     const char *name, uint64_t length,
			     uint64_t alignment, struct bench_buffer *buffer)
{
	struct dma_heap_allocation_data request = {
		.len = length,
		.fd_flags = O_RDWR | O_CLOEXEC,
	};

	(void)allocator;
	(void)name;
	(void)alignment;
	if (ioctl(context->heap_fd, DMA_HEAP_IOCTL_ALLOC, &request))
		return -errno;
	buffer->length = page_round(context, length);
	buffer->handle = 0;
	buffer->fd = (int)request.fd;
	buffer->mmap_offset = 0;
	return 0;
}

static int heap_buffer_free(struct bench_context *context,
			    struct bench_buffer *buffer)
{
	(void)context;
	return close(buffer->fd) ? -errno : 0;
}

/* The row of cmamem blocks of one mode. */
#define CMAMEM_ALLOCATOR(allocator_name, block_mode) {	\
	.name = (allocator_name),			\
	.mode = (block_mode),				\
	.alloc = cmamem_buffer_alloc,			\
	.free = cmamem_buffer_free,			\
}

/* In the order of &enum bench_backend, which is every table's order. */
static const struct bench_allocator allocators[BENCH_BACKENDS] = {
	[BENCH_COHERENT] = CMAMEM_ALLOCATOR("coherent", CMAMEM_MODE_COHERENT),
	[BENCH_WRITECOMBINE] = CMAMEM_ALLOCATOR("wc", CMAMEM_MODE_WRITECOMBINE),
	[BENCH_CACHED] = CMAMEM_ALLOCATOR("cached", CMAMEM_MODE_CACHED),
	[BENCH_HEAP] = {
		.name = "dma-heap",
		.alloc = heap_buffer_alloc,
		.free = heap_buffer_free,
	},
};

/**
 * bench_buffer_alloc() - allocate a buffer from one allocator under test
 * @context: the run
 * @backend: the allocator
 * @name: the block's name (cmamem); names of live blocks must differ
 * @length: bytes
 * @alignment: what the DMA address of a cmamem block must be a multiple
 *	of: 0 for a page, or bench_map_alignment() for a buffer measured
 *	mapped; the heap takes none
 * @buffer: filled in
 *
 * Return: 0 or a negative errno.
 */
int bench_buffer_alloc(struct bench_context *context,
		       enum bench_backend backend, const char *name,
		       uint64_t length, uint64_t alignment,
		       struct bench_buffer *buffer)
{
	const struct bench_allocator *allocator = &allocators[backend];

	return allocator->alloc(context, allocator, name, length, alignment,
				buffer);
}

/**
 * bench_map_alignment() - the alignment a block to be mapped is asked for
 * @context: the run
 * @length: the block's length
 *
 * What a program does that maps a large block: a block of at least the
 * kernel's PMD size, asked for that alignment, is mapped with PMD entries
 * throughout where the kernel maps cmamem blocks huge (see
 * &bench_results.huge_alignment). CMA alone aligns large blocks to 1 MiB
 * only, and the first and last MiB of a block that lies 1 MiB off take a
 * fault per page.
 *
 * Return: &bench_results.huge_alignment, or 0 (a page) for a shorter block
 * or a kernel without transparent huge pages.
 */
uint64_t bench_map_alignment(const struct bench_context *context,
			     uint64_t length)
{
	uint64_t pmd = context->results.huge_alignment;

	return pmd && length >= pmd ? pmd : 0;
}

/**
 * bench_buffer_free() - free a buffer of bench_buffer_alloc()
 * @context: the run
 * @backend: the allocator that allocated it
 * @buffer: the buffer
 *
 * Return: 0 or a negative errno.
 */
int bench_buffer_free(struct bench_context *context,
		      enum bench_backend backend, struct bench_buffer *buffer)
{
	return allocators[backend].free(context, buffer);
}

/**
 * bench_buffer_map() - map a whole buffer, shared, for reading and writing
 * @buffer: from bench_buffer_alloc(), of any allocator: each maps a file
 *	at an offset
 * @address: where the mapping starts, on success
 *
 * Return: 0 or a negative errno.
 */
int bench_buffer_map(const struct bench_buffer *buffer, void **address)
{
	void *mapping = mmap(NULL, (size_t)buffer->length,
			     PROT_READ | PROT_WRITE, MAP_SHARED, buffer->fd,
			     (off_t)buffer->mmap_offset);

	if (mapping == MAP_FAILED)
		return -errno;
	*address = mapping;
	return 0;
}

const char *bench_backend_name(enum bench_backend backend)
{
	return backend < BENCH_BACKENDS ? allocators[backend].name : "unknown";
}

const char *bench_measurement_title(enum bench_measurement measurement)
{
	return measurement < BENCH_MEASUREMENTS ?
	       measurement_names[measurement].title : "unknown";
}

/**
 * bench_measurement_key() - a measurement's key in the JSON report
 * @measurement: which one
 *
 * Return: a constant string.
 */
const char *bench_measurement_key(enum bench_measurement measurement)
{
	return measurement < BENCH_MEASUREMENTS ?
	       measurement_names[measurement].key : "unknown";
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
	options->random_read_bytes = MIB(64);
	options->only = (1u << BENCH_MEASUREMENTS) - 1;
	options->progress = true;
}

/**
 * bench_trials_for_size() - timed trials of measurements 1 and 2 at a size
 * @options: the run's options
 * @size: the block size
 *
 * Return: the trials, more for small blocks: they are cheap and noisier.
 */
unsigned int bench_trials_for_size(const struct bench_options *options,
				   uint64_t size)
{
	if (size <= SMALL_SIZE_LIMIT)
		return options->trials * options->small_trial_factor;
	return options->trials;
}

/* --- the allocators' turns ----------------------------------------------- */

/**
 * bench_take_turns() - run a measurement's cycles, the allocators taking
 *	turns
 * @context: the run
 * @rounds: the measurement's layout and its cycle
 *
 * In every round, for each step, each allocator that is available (and
 * the reference, if the measurement has one) runs one cycle; the one that
 * goes first moves on by one each round, so that load from other programs
 * falls on all of them alike.
 *
 * Return: 0, or the first error a cycle returned (which ends the
 * measurement).
 */
int bench_take_turns(struct bench_context *context,
		     const struct bench_rounds *rounds)
{
	unsigned int takers = BENCH_BACKENDS + (rounds->with_reference ? 1 : 0);
	unsigned int total = rounds->trials + (rounds->warm_up ? 1 : 0);
	unsigned int round, step, position;
	struct bench_turn turn;
	int err;

	for (round = 0; round < total; round++) {
		for (step = 0; step < rounds->steps; step++) {
			for (position = 0; position < takers; position++) {
				turn = (struct bench_turn) {
					.backend = (enum bench_backend)
						((round + position) % takers),
					.round = round,
					.step = step,
					.timed = !rounds->warm_up || round > 0,
					.last = round + 1 == total,
				};
				if (turn.backend < BENCH_BACKENDS &&
				    !context->results.available[turn.backend])
					continue;
				err = rounds->cycle(context, &turn,
						    rounds->data);
				if (err)
					return err;
			}
		}
	}
	return 0;
}

/* --- time and samples ---------------------------------------------------- */

/**
 * bench_now_ns() - the monotonic clock
 *
 * Return: nanoseconds since some fixed point.
 */
uint64_t bench_now_ns(void)
{
	struct timespec time;

	clock_gettime(CLOCK_MONOTONIC, &time);
	return (uint64_t)time.tv_sec * 1000000000u + (uint64_t)time.tv_nsec;
}

/**
 * bench_series_append() - add a sample to a cell
 * @series: the cell
 * @value: the sample
 *
 * Return: 0, or -ENOMEM.
 */
int bench_series_append(struct bench_series *series, double value)
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

/**
 * bench_series_open() - whether a cell still takes samples
 * @series: the cell
 *
 * A cell that stopped (its allocator failed) keeps its samples but takes
 * no more.
 *
 * Return: true if it takes samples.
 */
bool bench_series_open(const struct bench_series *series)
{
	return series->error == 0;
}

/**
 * bench_record() - record one cycle's outcome in the cells it measured
 * @cells: the cells
 * @samples: one sample per cell, read only when @error is 0 and @timed
 * @count: entries in @cells and @samples
 * @error: 0, or the cycle's error, which then stops every cell
 * @timed: false for a warm-up cycle, whose samples are dropped
 *
 * Return: 0, or -ENOMEM when a sample could not be stored (which ends the
 * measurement).
 */
int bench_record(struct bench_series *const *cells, const double *samples,
		 unsigned int count, int error, bool timed)
{
	unsigned int index;
	int err = 0;

	if (error) {
		for (index = 0; index < count; index++)
			cells[index]->error = error;
		return 0;
	}
	for (index = 0; index < count && timed && !err; index++)
		err = bench_series_append(cells[index], samples[index]);
	return err;
}

static void series_free(struct bench_series *series)
{
	free(series->values);
	memset(series, 0, sizeof(*series));
}

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

/**
 * bench_series_stats() - summarise a cell
 * @series: the cell
 * @stats: its median, quartiles and extremes
 *
 * Return: false when the cell has no samples (or no memory to sort them).
 */
bool bench_series_stats(const struct bench_series *series,
			struct bench_stats *stats)
{
	return stats_of(series->values, series->count, stats);
}

/**
 * bench_ratio_stats() - the ratio of two cells measured in the same trials
 * @numerator: one cell
 * @denominator: the other
 * @stats: the median and quartiles of the per-trial ratios, which cancels
 *	load that hit both sides of one trial
 *
 * Return: false when there is no ratio to take.
 */
bool bench_ratio_stats(const struct bench_series *numerator,
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

/* --- setting up ---------------------------------------------------------- */

/* Copies a string, cut to fit: for names that never come near the limit. */
static void copy_string(char *destination, size_t size, const char *source)
{
	size_t length = strnlen(source, size - 1);

	memcpy(destination, source, length);
	destination[length] = '\0';
}

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

/* The kernel's PMD size, which it reports with transparent huge pages. */
static uint64_t huge_page_size(void)
{
	FILE *file = fopen("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size",
			   "re");
	unsigned long long bytes = 0;

	if (!file)
		return 0;
	if (fscanf(file, "%llu", &bytes) != 1)
		bytes = 0;
	fclose(file);
	return bytes;
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
	results->huge_alignment = huge_page_size();
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
		series_free(&results->random_read[backend]);
		series_free(&results->memory_total[backend]);
	}
	series_free(&results->copy_malloc_in);
	series_free(&results->copy_malloc_out);
	series_free(&results->random_read_malloc);
	for (index = 0; index < BENCH_MAX_ATTACH_COUNTS; index++)
		series_free(&results->attach[index]);
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

int bench_run(struct bench_context *context, enum bench_measurement measurement)
{
	progress(context, "measuring %s", bench_measurement_title(measurement));
	switch (measurement) {
	case BENCH_ALLOC_FREE:
		return bench_measure_latency(context, false);
	case BENCH_MAP_TOUCH:
		return bench_measure_latency(context, true);
	case BENCH_FIRST_TOUCH:
		return bench_measure_first_touch(context);
	case BENCH_COPY:
		return bench_measure_copy(context);
	case BENCH_ATTACH:
		return bench_measure_attach(context);
	case BENCH_THROUGHPUT:
		return bench_measure_throughput(context);
	case BENCH_MEMORY:
		return bench_measure_memory(context);
	case BENCH_RANDOM_READ:
		return bench_measure_random_read(context);
	default:
		return -EINVAL;
	}
}
