/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cmamem bench: the benchmark engine behind "cmamem bench", "make bench"
 * and the benchmark's smoke test (bench/cmamem_bench_smoke_test.c).
 *
 * It measures cmamem blocks in each mode against the dma-buf heap that
 * serves the same CMA area (the kernel's own alternative) and against
 * plain malloc'd memory (the bandwidth limit), in one process:
 *
 *	1. allocate + free latency, per size
 *	2. allocate + mmap + touch every page + munmap + free latency, per size
 *	3. mmap + first write (and, apart, first read) of every page of a
 *	   fresh large mapping
 *	4. memcpy bandwidth into and out of a mapping, and between two
 *	   malloc'd buffers
 *	5. attach-by-name latency with few and many live blocks
 *	6. allocate + free throughput from one and more threads
 *	7. kernel memory per live block (slab and vmalloc growth)
 *
 * Every measurement takes repeated trials; the allocators under test take
 * turns inside each trial, so that a burst of load from other programs
 * hits all of them alike, and ratios are the medians of per-trial ratios.
 */
#ifndef CMAMEM_BENCH_H
#define CMAMEM_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* The allocators under test, in the order of every table. */
enum bench_backend {
	BENCH_COHERENT,
	BENCH_WRITECOMBINE,
	BENCH_CACHED,
	BENCH_HEAP,
	BENCH_BACKENDS
};

#define BENCH_MAX_SIZES 8
#define BENCH_MAX_ATTACH_COUNTS 4
#define BENCH_MAX_THREAD_COUNTS 4
#define BENCH_MAX_THREADS 64
#define BENCH_SLAB_TOP 3
#define BENCH_NAME_SIZE 64
#define BENCH_PATH_SIZE 256

/* The eight measurements, for bench_options.only and the report. */
enum bench_measurement {
	BENCH_ALLOC_FREE,
	BENCH_MAP_TOUCH,
	BENCH_FIRST_TOUCH,
	BENCH_COPY,
	BENCH_ATTACH,
	BENCH_THROUGHPUT,
	BENCH_MEMORY,
	BENCH_RANDOM_READ,
	BENCH_MEASUREMENTS
};

/**
 * struct bench_options - what to measure and how often
 * @pool: cmamem pool name or device path; NULL for the default pool
 * @heap: dma-buf heap name (under /dev/dma_heap) or path; NULL to find
 *	the CMA heap; "" for none
 * @trials: trials per measurement (sizes of at most 1 MiB take
 *	@small_trial_factor times as many: they are cheap and noisier)
 * @small_trial_factor: see @trials
 * @sizes: block sizes of measurements 1 and 2
 * @size_count: entries in @sizes
 * @first_touch_bytes: mapping size of measurement 3
 * @copy_bytes: buffer size of measurement 4
 * @attach_counts: live blocks at which measurement 5 attaches, ascending
 * @attach_count_count: entries in @attach_counts
 * @attach_samples: attaches timed at each count in each round
 * @attach_rounds: sweeps up and down through @attach_counts
 * @throughput_bytes: block size of measurement 6
 * @throughput_milliseconds: length of each throughput trial
 * @thread_counts: threads of measurement 6
 * @thread_count_count: entries in @thread_counts
 * @memory_blocks: live blocks of measurement 7
 * @memory_trials: trials of measurement 7
 * @random_read_bytes: mapping size of measurement 8
 * @only: measurements to run (bit n = &enum bench_measurement n)
 * @progress: say on stderr what is being measured
 */
struct bench_options {
	const char *pool;
	const char *heap;
	unsigned int trials;
	unsigned int small_trial_factor;
	uint64_t sizes[BENCH_MAX_SIZES];
	unsigned int size_count;
	uint64_t first_touch_bytes;
	uint64_t copy_bytes;
	unsigned int attach_counts[BENCH_MAX_ATTACH_COUNTS];
	unsigned int attach_count_count;
	unsigned int attach_samples;
	unsigned int attach_rounds;
	uint64_t throughput_bytes;
	unsigned int throughput_milliseconds;
	unsigned int thread_counts[BENCH_MAX_THREAD_COUNTS];
	unsigned int thread_count_count;
	unsigned int memory_blocks;
	unsigned int memory_trials;
	uint64_t random_read_bytes;
	unsigned int only;
	bool progress;
};

/**
 * struct bench_series - the samples of one cell of a table
 * @values: one value per trial (nanoseconds, MiB/s, operations/s or
 *	bytes, as the measurement says), in trial order
 * @count: samples taken
 * @capacity: room in @values
 * @error: 0, or the negative errno that stopped the cell (for example
 *	-ENOMEM when the pool has no room for a size)
 */
struct bench_series {
	double *values;
	unsigned int count;
	unsigned int capacity;
	int error;
};

/**
 * struct bench_slab_growth - one slab cache's growth in measurement 7
 * @cache: the cache's name in /proc/slabinfo
 * @bytes: growth of its active objects times the object size
 * @objects: growth of its active objects
 */
struct bench_slab_growth {
	char cache[BENCH_NAME_SIZE];
	long long bytes;
	long long objects;
};

/**
 * struct bench_results - everything one run measured
 * @available: the backend could be opened (and, for cmamem modes, the
 *	pool offers the mode)
 * @why_unavailable: the reason when not @available
 * @pool_path: the cmamem pool's device
 * @pool_name: the pool's name from POOL_INFO
 * @pool_flags: POOL_INFO's pool_flags
 * @heap_path: the dma-buf heap's device, "" when there is none
 * @page_size: the kernel's page size
 * @huge_alignment: the kernel's PMD size (hpage_pmd_size), which the
 *	measurements of mappings (3 and 8) ask as the alignment of cmamem
 *	blocks at least that long; 0 without transparent huge pages
 * @kernel: uname -r
 * @machine: uname -m
 * @cpus: online CPUs
 * @alloc_free: measurement 1, nanoseconds, per backend and size
 * @map_touch: measurement 2, nanoseconds
 * @first_touch: measurement 3, mmap and a write into every page,
 *	nanoseconds
 * @touch_only: measurement 3, the writing alone, nanoseconds
 * @touch_faults: measurement 3, page faults taken by mmap and writing
 * @first_read: measurement 3, mmap and a read of every page, nanoseconds
 * @read_faults: measurement 3, page faults taken by mmap and reading
 * @copy_in: measurement 4, memcpy from malloc'd memory into a mapping,
 *	MiB/s
 * @copy_out: measurement 4, memcpy from a mapping into malloc'd memory
 * @copy_malloc_in: measurement 4, the same copy into a malloc'd buffer
 *	instead of the mapping, in the same trials (the limit)
 * @copy_malloc_out: measurement 4, the same copy out of that buffer
 * @attach: measurement 5, nanoseconds per attach, per live-block count
 * @throughput: measurement 6, operations per second, per backend and
 *	thread count
 * @memory_slab: measurement 7, slab bytes per block
 * @memory_total: measurement 7, slab plus vmalloc bytes per block
 * @memory_blocks: measurement 7, blocks actually held per backend
 * @memory_inexact: measurement 7 could not fold the kernel's per-CPU
 *	counters in first (vm.stat_refresh needs root)
 * @slab_top: measurement 7, the caches that grew most (last trial)
 * @random_read: measurement 8, nanoseconds per read at a random place of
 *	a mapping
 * @random_read_malloc: measurement 8, the same reads of malloc'd memory
 */
struct bench_results {
	bool available[BENCH_BACKENDS];
	char why_unavailable[BENCH_BACKENDS][2 * BENCH_PATH_SIZE];
	char pool_path[BENCH_PATH_SIZE];
	char pool_name[BENCH_NAME_SIZE];
	uint32_t pool_flags;
	char heap_path[BENCH_PATH_SIZE];
	long page_size;
	uint64_t huge_alignment;
	char kernel[BENCH_PATH_SIZE];
	char machine[BENCH_NAME_SIZE];
	long cpus;

	struct bench_series alloc_free[BENCH_BACKENDS][BENCH_MAX_SIZES];
	struct bench_series map_touch[BENCH_BACKENDS][BENCH_MAX_SIZES];
	struct bench_series first_touch[BENCH_BACKENDS];
	struct bench_series touch_only[BENCH_BACKENDS];
	struct bench_series touch_faults[BENCH_BACKENDS];
	struct bench_series first_read[BENCH_BACKENDS];
	struct bench_series read_faults[BENCH_BACKENDS];
	struct bench_series copy_in[BENCH_BACKENDS];
	struct bench_series copy_out[BENCH_BACKENDS];
	struct bench_series copy_malloc_in;
	struct bench_series copy_malloc_out;
	struct bench_series attach[BENCH_MAX_ATTACH_COUNTS];
	struct bench_series throughput[BENCH_BACKENDS][BENCH_MAX_THREAD_COUNTS];
	struct bench_series memory_slab[BENCH_BACKENDS];
	struct bench_series memory_total[BENCH_BACKENDS];
	unsigned int memory_blocks[BENCH_BACKENDS];
	bool memory_inexact;
	struct bench_slab_growth slab_top[BENCH_BACKENDS][BENCH_SLAB_TOP];
	struct bench_series random_read[BENCH_BACKENDS];
	struct bench_series random_read_malloc;
};

/**
 * struct bench_context - one benchmark run
 * @options: what to measure
 * @results: what was measured
 * @pool_fd: the cmamem pool, open read-write
 * @heap_fd: the dma-buf heap, or -1
 */
struct bench_context {
	struct bench_options options;
	struct bench_results results;
	int pool_fd;
	int heap_fd;
};

/**
 * bench_default_options() - the measurements "make bench" takes
 * @options: filled in
 */
void bench_default_options(struct bench_options *options);

/**
 * bench_open() - open the pool and the heap and describe the system
 * @context: zeroed by the caller except for @context->options
 *
 * A missing heap is not an error (its cells say why); a pool that cannot
 * be opened is.
 *
 * Return: 0 or a negative errno.
 */
int bench_open(struct bench_context *context);

/**
 * bench_close() - close what bench_open() opened and free every sample
 * @context: the run
 */
void bench_close(struct bench_context *context);

/**
 * bench_run() - take one measurement
 * @context: an opened run
 * @measurement: which one
 *
 * A cell that cannot be measured (no room for a size, an allocator that is
 * not there) records why and the others go on.
 *
 * Return: 0, or a negative errno when the measurement as a whole could not
 * run or left blocks behind in the pool.
 */
int bench_run(struct bench_context *context, enum bench_measurement measurement);

/**
 * bench_measurement_title() - a measurement's heading
 * @measurement: which one
 *
 * Return: a constant string.
 */
const char *bench_measurement_title(enum bench_measurement measurement);

/**
 * bench_backend_name() - the short name of an allocator under test
 * @backend: which one
 *
 * Return: "coherent", "wc", "cached" or "dma-heap".
 */
const char *bench_backend_name(enum bench_backend backend);

/**
 * bench_print_text() - the results as Markdown tables, with ratios and
 *	the verdict on each target
 * @context: a run
 * @stream: where to write
 */
void bench_print_text(const struct bench_context *context, FILE *stream);

/**
 * bench_print_json() - the results, every statistic, as JSON
 * @context: a run
 * @stream: where to write
 */
void bench_print_json(const struct bench_context *context, FILE *stream);

/**
 * bench_command() - the "cmamem bench" subcommand
 * @argc: argument count, argv[0] being the command's name
 * @argv: the arguments
 *
 * Return: the process exit status: 0, 1 for a run-time failure, 2 for a
 * usage error.
 */
int bench_command(int argc, char **argv);

/* "cmamem bench --help". */
extern const char bench_usage[];

#endif /* CMAMEM_BENCH_H */
