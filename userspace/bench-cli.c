// SPDX-License-Identifier: GPL-2.0
/*
 * cmamem bench: the "cmamem bench" subcommand. Reads the options, opens a
 * run, takes the measurements asked for and prints the report.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmamem/libcmamem.h>

#include "bench.h"
#include "tools-common.h"

const char bench_usage[] =
"usage: cmamem bench [--pool P] [--heap NAME|none] [--trials N]\n"
"                    [--sizes LIST] [--first-touch SIZE] [--copy SIZE]\n"
"                    [--blocks N] [--threads LIST] [--duration MS]\n"
"                    [--random-read SIZE] [--only LIST] [--json]\n"
"                    [--json-file FILE] [--quiet]\n"
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
"  8 random reads across a 64 MiB mapping (TLB reach), and of malloc'd memory\n"
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
"  --random-read S   mapping size of 8 (default 64M)\n"
"  --only LIST       measurements to run, e.g. 1,2,5 (default all)\n"
"  --json            print JSON instead of tables\n"
"  --json-file FILE  also write the JSON to FILE\n"
"  --quiet           no progress messages on stderr\n"
"\n"
"Use the pool and the heap of the same CMA area (on most boards the default\n"
"pool and the heap named after the default CMA area), and a quiet system:\n"
"other programs' load shows up in the quartiles. Kernel memory (7) needs\n"
"/proc/meminfo, and /proc/slabinfo (root) for the per-cache breakdown.\n";

/* A whole number from 1 to @limit, in decimal. */
static int parse_count(const char *text, unsigned int limit,
		       unsigned int *value)
{
	unsigned long long number;
	char *end;

	if (!text || text[0] < '0' || text[0] > '9')
		return -EINVAL;
	errno = 0;
	number = strtoull(text, &end, 10);
	if (errno || *end)
		return -EINVAL;
	if (number == 0 || number > limit)
		return -ERANGE;
	*value = (unsigned int)number;
	return 0;
}

/* A non-zero byte count, as the command reads every size. */
static int parse_bytes(const char *text, uint64_t *bytes)
{
	if (parse_size(text, bytes) || !*bytes)
		return -EINVAL;
	return 0;
}

/*
 * A comma-separated list of one to @max items, each read by @parse into
 * slot @index of the caller's array. Return: 0 or a negative errno.
 */
static int parse_list(const char *text, unsigned int max, unsigned int *count,
		      int (*parse)(const char *item, unsigned int index,
				   void *data),
		      void *data)
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
			err = parse(item, (*count)++, data);
	}
	free(copy);
	return err ? err : (*count ? 0 : -EINVAL);
}

static int parse_size_item(const char *item, unsigned int index, void *data)
{
	uint64_t *sizes = data;

	return parse_bytes(item, &sizes[index]);
}

/**
 * struct count_list - where parse_count_item() puts the counts
 * @values: the counts
 * @limit: the largest count allowed
 */
struct count_list {
	unsigned int *values;
	unsigned int limit;
};

static int parse_count_item(const char *item, unsigned int index, void *data)
{
	struct count_list *list = data;

	return parse_count(item, list->limit, &list->values[index]);
}

/* A comma-separated list of at most @max sizes. */
static int parse_size_list(const char *text, uint64_t *sizes,
			   unsigned int max, unsigned int *count)
{
	return parse_list(text, max, count, parse_size_item, sizes);
}

/* A comma-separated list of at most @max counts from 1 to @limit. */
static int parse_count_list(const char *text, unsigned int *values,
			    unsigned int max, unsigned int *count,
			    unsigned int limit)
{
	struct count_list list = { .values = values, .limit = limit };

	return parse_list(text, max, count, parse_count_item, &list);
}

static void __noreturn bench_usage_error(const char *format,
					 const char *argument)
{
	fprintf(stderr, "cmamem bench: ");
	fprintf(stderr, format, argument);
	fprintf(stderr, "\nTry 'cmamem bench --help'.\n");
	exit(EXIT_USAGE);
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
		{ "random-read", required_argument, NULL, 'r' },
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
	bool json = false;
	int option, err, status = 0;
	enum bench_measurement measurement;

	context = calloc(1, sizeof(*context));
	if (!context) {
		fprintf(stderr, "cmamem bench: out of memory\n");
		return EXIT_RUNTIME;
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
			if (parse_count(optarg, 100000, &options->trials))
				bench_usage_error("bad trial count '%s'", optarg);
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
		case 'r':
			if (parse_bytes(optarg, &options->random_read_bytes) ||
			    options->random_read_bytes > SIZE_MAX)
				bench_usage_error("bad size '%s'", optarg);
			break;
		case 'c':
			if (parse_bytes(optarg, &options->copy_bytes) ||
			    options->copy_bytes > SIZE_MAX / 4)
				bench_usage_error("bad size '%s'", optarg);
			break;
		case 'b':
			if (parse_count(optarg, 1000000,
					&options->memory_blocks))
				bench_usage_error("bad block count '%s'", optarg);
			attach_counts_up_to(options, options->memory_blocks);
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
			if (parse_count(optarg, 600000,
					&options->throughput_milliseconds))
				bench_usage_error("bad duration '%s'", optarg);
			break;
		case 'o':
			if (parse_count_list(optarg, measurements,
					     BENCH_MEASUREMENTS, &count,
					     BENCH_MEASUREMENTS))
				bench_usage_error("bad measurement list '%s' (numbers 1 to 8)",
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
			return EXIT_USAGE;
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
		return EXIT_RUNTIME;
	}
	for (measurement = 0; measurement < BENCH_MEASUREMENTS; measurement++) {
		if (!(options->only & (1u << measurement)))
			continue;
		err = bench_run(context, measurement);
		if (err) {
			fprintf(stderr, "cmamem bench: %s: %s\n",
				bench_measurement_title(measurement),
				cmamem_strerror(err));
			status = EXIT_RUNTIME;
		}
	}

	if (json_file) {
		FILE *file = fopen(json_file, "w");

		if (!file) {
			fprintf(stderr, "cmamem bench: cannot write %s: %s\n",
				json_file, strerror(errno));
			status = EXIT_RUNTIME;
		} else {
			bench_print_json(context, file);
			if (fclose(file)) {
				fprintf(stderr, "cmamem bench: writing %s: %s\n",
					json_file, strerror(errno));
				status = EXIT_RUNTIME;
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
