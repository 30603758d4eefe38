// SPDX-License-Identifier: GPL-2.0
/*
 * cmamem_bench_pressure: how long a large allocation takes when the CMA
 * area is full of movable pages, the moment a camera pipeline starts on a
 * busy board. "make bench" runs it in the guest (bench/guest-pressure.sh
 * makes the file and the filesystem it needs) and report.py turns its JSON
 * into the "latency under memory pressure" section of docs/benchmarks.md.
 *
 * For each pool given (the default CMA pool, a device-tree CMA pool, a
 * carveout) and the dma-buf CMA heap, it times the allocation alone (the
 * ALLOC ioctl; the heap's ALLOC) of each size, in two conditions:
 *
 *   idle: right after boot, CMA nearly empty: the allocator only takes
 *         free pages;
 *   busy: after --anon bytes of anonymous memory were written and --file
 *         was read whole, so page cache fills what is left of memory and
 *         the kernel has put movable pages into the CMA areas (it does, as
 *         soon as CMA holds more than half of the free memory). Before
 *         every allocation from CMA the next size bytes of the file are
 *         read: the page cache churns, reclaim frees pages everywhere, and
 *         the hole the previous allocation left in CMA (cma_alloc() takes
 *         the first free range, so the same one each time) fills up again,
 *         so each sample meets a full area rather than the one before it
 *         freed. A carveout's allocations need no such refill: nothing
 *         but its blocks ever lives there. CmaFree (/proc/meminfo) is
 *         recorded before each allocation.
 *
 * Allocators take turns within a trial in an order that rotates from trial
 * to trial, so drifts of the emulator's speed hit them alike. Blocks are
 * coherent: the one mode every pool kind has (a carveout has no cached
 * blocks). The raw samples are printed; report.py computes p50, p99, max.
 *
 * Usage: cmamem_bench_pressure [--trials N] [--sizes LIST]
 *        [--pool KEY=POOL]... [--heap KEY] [--file PATH] [--anon SIZE]
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmamem/libcmamem.h>

#include "bench-internal.h"
#include "tools-common.h"

#define MAX_POOLS 4
#define MAX_ALLOCATORS (MAX_POOLS + 1)
#define MAX_SIZES 4
#define KEY_SIZE 32

/* The /proc/meminfo fields the report shows, in kB. */
static const char *const meminfo_fields[] = {
	"MemTotal", "MemFree", "MemAvailable", "Cached", "AnonPages",
	"CmaTotal", "CmaFree",
};
#define MEMINFO_FIELDS ARRAY_SIZE(meminfo_fields)

/**
 * struct allocator - one allocator under test
 * @key: its name in the JSON (from --pool KEY=POOL or --heap KEY)
 * @context: the bench run that opened its pool or heap
 * @backend: BENCH_COHERENT for a pool, BENCH_HEAP for the heap
 * @from_cma: it allocates from a CMA area (not a carveout)
 */
struct allocator {
	char key[KEY_SIZE];
	struct bench_context *context;
	enum bench_backend backend;
	bool from_cma;
};

/**
 * struct cell - the samples of one allocator, size and condition
 * @nanoseconds: allocation times of the allocations that succeeded
 * @cma_free_kib: CmaFree before each allocation, failed ones too
 * @failures: allocations that failed
 * @error: the last failure's errno, negative
 */
struct cell {
	struct bench_series nanoseconds;
	struct bench_series cma_free_kib;
	unsigned int failures;
	int error;
};

/**
 * struct pressure - the whole run
 * @allocators: what is measured, in table order
 * @allocator_count: entries in @allocators
 * @sizes: allocation sizes
 * @size_count: entries in @sizes
 * @trials: allocations per allocator, size and condition
 * @file: the file whose page cache fills memory, or NULL (no busy runs)
 * @file_fd: @file, open
 * @file_size: its size
 * @file_offset: where the next read of @file starts
 * @anon_bytes: anonymous memory written before the busy condition
 * @buffer: what reads of @file go into
 * @cells: [condition][allocator][size]
 */
struct pressure {
	struct allocator allocators[MAX_ALLOCATORS];
	unsigned int allocator_count;
	uint64_t sizes[MAX_SIZES];
	unsigned int size_count;
	unsigned int trials;
	const char *file;
	int file_fd;
	uint64_t file_size;
	uint64_t file_offset;
	uint64_t anon_bytes;
	char *buffer;
	struct cell cells[2][MAX_ALLOCATORS][MAX_SIZES];
};

#define READ_CHUNK MIB(1)

/* One /proc/meminfo field in kB, or -1 when the kernel has no such line. */
static long long meminfo_kib(const char *field)
{
	char line[256];
	size_t length = strlen(field);
	long long value = -1;
	FILE *file = fopen("/proc/meminfo", "r");

	if (!file)
		return -1;
	while (fgets(line, sizeof(line), file)) {
		if (!strncmp(line, field, length) && line[length] == ':') {
			value = strtoll(line + length + 1, NULL, 10);
			break;
		}
	}
	fclose(file);
	return value;
}

static void print_meminfo(const char *key, bool last)
{
	unsigned int index;

	printf("    \"%s\": {", key);
	for (index = 0; index < MEMINFO_FIELDS; index++)
		printf("%s\"%s\": %lld", index ? ", " : "",
		       meminfo_fields[index], meminfo_kib(meminfo_fields[index]));
	printf("}%s\n", last ? "" : ",");
}

/* Reads @bytes of the file from where the last read stopped, wrapping. */
static int read_file(struct pressure *run, uint64_t bytes)
{
	while (bytes) {
		size_t chunk = bytes < READ_CHUNK ? (size_t)bytes : READ_CHUNK;
		ssize_t got;

		if (run->file_offset >= run->file_size)
			run->file_offset = 0;
		got = pread(run->file_fd, run->buffer, chunk,
			    (off_t)run->file_offset);
		if (got < 0)
			return -errno;
		if (got == 0) {
			run->file_offset = run->file_size;
			continue;
		}
		run->file_offset += (uint64_t)got;
		bytes -= (uint64_t)got;
	}
	return 0;
}

/*
 * Writes every page of @bytes of anonymous memory, which stays until the
 * program exits: anonymous pages cannot be reclaimed without swap, so a
 * CMA allocation has to migrate those it finds.
 */
static int fill_anonymous(uint64_t bytes)
{
	long page = sysconf(_SC_PAGESIZE);
	char *memory;
	uint64_t offset;

	if (!bytes)
		return 0;
	memory = mmap(NULL, (size_t)bytes, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (memory == MAP_FAILED)
		return -errno;
	for (offset = 0; offset < bytes; offset += (uint64_t)page)
		memory[offset] = 1;
	return 0;
}

/* One timed allocation, then its free; the samples go to @cell. */
static int measure_one(struct allocator *allocator, uint64_t size,
		       struct cell *cell)
{
	struct bench_buffer buffer;
	uint64_t start, end;
	int err;

	err = bench_series_append(&cell->cma_free_kib,
				  (double)meminfo_kib("CmaFree"));
	if (err)
		return err;
	start = bench_now_ns();
	err = bench_buffer_alloc(allocator->context, allocator->backend,
				 "pressure", size, 0, &buffer);
	end = bench_now_ns();
	if (err) {
		cell->failures++;
		cell->error = err;
		return 0;
	}
	err = bench_buffer_free(allocator->context, allocator->backend,
				&buffer);
	if (err)
		return err;
	return bench_series_append(&cell->nanoseconds, (double)(end - start));
}

/* Every trial of one condition: 0 idle, 1 busy (the file churns). */
static int measure_condition(struct pressure *run, unsigned int condition)
{
	unsigned int trial, size, turn, index;
	int err;

	for (trial = 0; trial < run->trials; trial++) {
		for (size = 0; size < run->size_count; size++) {
			for (turn = 0; turn < run->allocator_count; turn++) {
				index = (turn + trial) % run->allocator_count;
				if (condition &&
				    run->allocators[index].from_cma) {
					err = read_file(run, run->sizes[size]);
					if (err)
						return err;
				}
				err = measure_one(&run->allocators[index],
						  run->sizes[size],
						  &run->cells[condition][index][size]);
				if (err)
					return err;
			}
		}
	}
	return 0;
}

static void print_series(const char *key, const struct bench_series *series,
			 const char *end)
{
	unsigned int index;

	printf("\"%s\": [", key);
	for (index = 0; index < series->count; index++)
		printf("%s%.0f", index ? ", " : "", series->values[index]);
	printf("]%s", end);
}

static const char *pool_kind(const struct bench_results *results,
			     enum bench_backend backend)
{
	if (backend == BENCH_HEAP)
		return "dma-buf CMA heap";
	if (results->pool_flags & CMAMEM_POOL_CARVEOUT)
		return "carveout";
	if (results->pool_flags & CMAMEM_POOL_DEFAULT)
		return "default CMA pool";
	if (results->pool_flags & CMAMEM_POOL_CMA)
		return "device-tree CMA pool";
	return "unknown";
}

static void print_allocators(const struct pressure *run)
{
	unsigned int index;

	printf("  \"allocators\": [\n");
	for (index = 0; index < run->allocator_count; index++) {
		const struct allocator *allocator = &run->allocators[index];
		const struct bench_results *results =
			&allocator->context->results;
		bool heap = allocator->backend == BENCH_HEAP;

		printf("    {\"key\": \"%s\", \"kind\": \"%s\", \"device\": \"%s\", \"pool\": \"%s\", \"available\": %s, \"why\": \"%s\"}%s\n",
		       allocator->key, pool_kind(results, allocator->backend),
		       heap ? results->heap_path : results->pool_path,
		       heap ? "" : results->pool_name,
		       results->available[allocator->backend] ? "true" : "false",
		       results->why_unavailable[allocator->backend],
		       index + 1 < run->allocator_count ? "," : "");
	}
	printf("  ],\n");
}

static void print_cells(const struct pressure *run, unsigned int condition)
{
	unsigned int index, size;
	bool first = true;

	for (index = 0; index < run->allocator_count; index++) {
		for (size = 0; size < run->size_count; size++) {
			const struct cell *cell =
				&run->cells[condition][index][size];

			printf("%s      {\"allocator\": \"%s\", \"size\": %llu, \"failures\": %u, \"error\": \"%s\", ",
			       first ? "" : ",\n", run->allocators[index].key,
			       (unsigned long long)run->sizes[size],
			       cell->failures,
			       cell->failures ? bench_error_name(cell->error) : "");
			print_series("cma_free_kib", &cell->cma_free_kib, ", ");
			print_series("nanoseconds", &cell->nanoseconds, "}");
			first = false;
		}
	}
	printf("\n");
}

static void __noreturn bad_argument(const char *format, const char *argument)
{
	fprintf(stderr, "cmamem_bench_pressure: ");
	fprintf(stderr, format, argument);
	fprintf(stderr, "\n");
	exit(EXIT_USAGE);
}

/* Opens a bench run on @pool (NULL: the default pool) and @heap. */
static struct bench_context *open_context(const char *pool, const char *heap)
{
	struct bench_context *context = calloc(1, sizeof(*context));
	int err;

	if (!context) {
		fprintf(stderr, "cmamem_bench_pressure: out of memory\n");
		exit(EXIT_RUNTIME);
	}
	bench_default_options(&context->options);
	context->options.pool = pool;
	context->options.heap = heap;
	err = bench_open(context);
	if (err) {
		fprintf(stderr, "cmamem_bench_pressure: cannot open pool %s: %s\n",
			pool ? pool : "default", cmamem_strerror(err));
		exit(EXIT_RUNTIME);
	}
	return context;
}

static void add_allocator(struct pressure *run, const char *key,
			  struct bench_context *context,
			  enum bench_backend backend)
{
	struct allocator *allocator;

	if (run->allocator_count == MAX_ALLOCATORS)
		bad_argument("at most %s pools", "4");
	if (strlen(key) >= KEY_SIZE || !key[0])
		bad_argument("bad key '%s'", key);
	allocator = &run->allocators[run->allocator_count++];
	strcpy(allocator->key, key);
	allocator->context = context;
	allocator->backend = backend;
	allocator->from_cma = backend == BENCH_HEAP ||
			      !(context->results.pool_flags & CMAMEM_POOL_CARVEOUT);
}

/* --pool KEY=POOL: a cmamem pool, measured with coherent blocks. */
static void add_pool(struct pressure *run, char *argument)
{
	char *pool = strchr(argument, '=');

	if (!pool)
		bad_argument("bad pool '%s' (KEY=POOL)", argument);
	*pool++ = '\0';
	add_allocator(run, argument,
		      open_context(strcmp(pool, "default") ? pool : NULL, ""),
		      BENCH_COHERENT);
}

int main(int argc, char **argv)
{
	static const struct option long_options[] = {
		{ "trials", required_argument, NULL, 't' },
		{ "sizes", required_argument, NULL, 's' },
		{ "pool", required_argument, NULL, 'p' },
		{ "heap", required_argument, NULL, 'H' },
		{ "file", required_argument, NULL, 'f' },
		{ "anon", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 }
	};
	static struct pressure run = { .trials = 100, .file_fd = -1 };
	unsigned int condition, conditions = 1;
	char *item, *state = NULL;
	int option, err;

	while ((option = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		switch (option) {
		case 't':
			run.trials = (unsigned int)strtoul(optarg, NULL, 10);
			if (!run.trials || run.trials > 100000)
				bad_argument("bad trial count '%s'", optarg);
			break;
		case 's':
			run.size_count = 0;
			for (item = strtok_r(optarg, ",", &state); item;
			     item = strtok_r(NULL, ",", &state)) {
				if (run.size_count == MAX_SIZES ||
				    parse_size(item, &run.sizes[run.size_count]) ||
				    !run.sizes[run.size_count])
					bad_argument("bad size '%s'", item);
				run.size_count++;
			}
			break;
		case 'p':
			add_pool(&run, optarg);
			break;
		case 'H':
			/* The heap that serves the default CMA area. */
			add_allocator(&run, optarg, open_context(NULL, NULL),
				      BENCH_HEAP);
			break;
		case 'f':
			run.file = optarg;
			break;
		case 'a':
			if (parse_size(optarg, &run.anon_bytes))
				bad_argument("bad size '%s'", optarg);
			break;
		default:
			exit(EXIT_USAGE);
		}
	}
	if (optind != argc)
		bad_argument("unexpected argument '%s'", argv[optind]);
	if (!run.size_count) {
		run.sizes[0] = MIB(16);
		run.sizes[1] = MIB(64);
		run.size_count = 2;
	}
	if (!run.allocator_count)
		bad_argument("nothing to measure: give --pool and %s", "--heap");
	run.buffer = malloc(READ_CHUNK);
	if (!run.buffer)
		return EXIT_RUNTIME;

	printf("{\n  \"trials\": %u,\n  \"mode\": \"coherent\",\n", run.trials);
	print_allocators(&run);
	printf("  \"meminfo\": {\n");
	print_meminfo("idle", false);
	err = measure_condition(&run, 0);
	if (!err && run.file) {
		run.file_fd = open(run.file, O_RDONLY | O_CLOEXEC);
		if (run.file_fd < 0) {
			err = -errno;
		} else {
			run.file_size = (uint64_t)lseek(run.file_fd, 0, SEEK_END);
			err = fill_anonymous(run.anon_bytes);
			if (!err)
				err = read_file(&run, run.file_size);
		}
		if (!err) {
			print_meminfo("filled", false);
			err = measure_condition(&run, 1);
			conditions = 2;
		}
	}
	print_meminfo("end", true);
	printf("  },\n  \"conditions\": {\n");
	for (condition = 0; condition < conditions; condition++) {
		printf("    \"%s\": [\n", condition ? "busy" : "idle");
		print_cells(&run, condition);
		printf("    ]%s\n", condition + 1 < conditions ? "," : "");
	}
	printf("  }\n}\n");
	if (err)
		fprintf(stderr, "cmamem_bench_pressure: %s\n",
			cmamem_strerror(err));
	return err ? EXIT_RUNTIME : 0;
}
