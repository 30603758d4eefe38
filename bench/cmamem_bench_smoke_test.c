// SPDX-License-Identifier: GPL-2.0
/*
 * The benchmark's smoke test, for "make check": runs each of the eight
 * measurements of "cmamem bench" (userspace/bench-*.c, the same code) once,
 * at tiny sizes, and prints TAP. It checks that every measurement runs,
 * yields positive finite samples for every allocator present, and leaves
 * no block behind in the pool; and that both reports render. It takes a
 * few seconds even under emulation; the numbers themselves mean nothing.
 *
 * Exit status: 0 when everything passed or skipped, 1 on a failure, 4
 * (kselftest's "skip") when there is no cmamem pool to test.
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmamem/libcmamem.h>

#include "bench.h"

#define KSFT_SKIP 4
#define __printf(format_index, first_argument) \
	__attribute__((format(printf, format_index, first_argument)))

static unsigned int test_number;
static unsigned int failures;

static void __printf(2, 3) report(bool passed, const char *format, ...)
{
	va_list arguments;

	printf("%s %u - ", passed ? "ok" : "not ok", ++test_number);
	va_start(arguments, format);
	vprintf(format, arguments);
	va_end(arguments);
	putchar('\n');
	if (!passed)
		failures++;
}

static void __printf(1, 2) diagnostic(const char *format, ...)
{
	va_list arguments;

	printf("# ");
	va_start(arguments, format);
	vprintf(format, arguments);
	va_end(arguments);
	putchar('\n');
}

/* The options of the smoke run: every loop runs, nothing takes long. */
static void smoke_options(struct bench_options *options, long page_size)
{
	bench_default_options(options);
	options->trials = 2;
	options->small_trial_factor = 1;
	options->sizes[0] = (uint64_t)page_size;
	options->sizes[1] = 64 << 10;
	options->size_count = 2;
	options->first_touch_bytes = 256 << 10;
	options->copy_bytes = 256 << 10;
	options->attach_counts[0] = 2;
	options->attach_counts[1] = 16;
	options->attach_count_count = 2;
	options->attach_samples = 4;
	options->attach_rounds = 2;
	options->throughput_bytes = 64 << 10;
	options->throughput_milliseconds = 20;
	options->memory_blocks = 32;
	options->memory_trials = 1;
	options->random_read_bytes = 256 << 10;
	options->progress = false;
}

/*
 * A cell of a present allocator must hold the expected number of samples,
 * all finite (and positive where @positive). Says what is wrong in @why.
 */
static bool series_sane(const struct bench_series *series,
			unsigned int expected, bool positive, const char *what,
			char *why, size_t size)
{
	unsigned int index;

	if (series->error) {
		snprintf(why, size, "%s: %s", what,
			 cmamem_strerror(series->error));
		return false;
	}
	if (series->count != expected) {
		snprintf(why, size, "%s: %u samples, not %u", what,
			 series->count, expected);
		return false;
	}
	for (index = 0; index < series->count; index++) {
		double value = series->values[index];

		if (!isfinite(value) || (positive && value <= 0)) {
			snprintf(why, size, "%s: sample %u is %g", what, index,
				 value);
			return false;
		}
	}
	return true;
}

/* Every cell of measurement @measurement, for every allocator present. */
static bool measurement_sane(const struct bench_context *context,
			     enum bench_measurement measurement, char *why,
			     size_t size)
{
	const struct bench_options *options = &context->options;
	const struct bench_results *results = &context->results;
	unsigned int index, backend;

	for (backend = 0; backend < BENCH_BACKENDS; backend++) {
		if (!results->available[backend])
			continue;
		switch (measurement) {
		case BENCH_ALLOC_FREE:
		case BENCH_MAP_TOUCH:
			for (index = 0; index < options->size_count; index++) {
				const struct bench_series *series =
					measurement == BENCH_ALLOC_FREE ?
					&results->alloc_free[backend][index] :
					&results->map_touch[backend][index];

				if (!series_sane(series, options->trials, true,
						 bench_backend_name(backend), why, size))
					return false;
			}
			break;
		case BENCH_FIRST_TOUCH:
			/* Fault counts may be 0: mmap() may map every page. */
			if (!series_sane(&results->first_touch[backend],
					 options->trials, true,
					 bench_backend_name(backend), why, size) ||
			    !series_sane(&results->touch_only[backend],
					 options->trials, true,
					 bench_backend_name(backend), why, size) ||
			    !series_sane(&results->touch_faults[backend],
					 options->trials, false,
					 bench_backend_name(backend), why, size) ||
			    !series_sane(&results->first_read[backend],
					 options->trials, true,
					 bench_backend_name(backend), why, size) ||
			    !series_sane(&results->read_faults[backend],
					 options->trials, false,
					 bench_backend_name(backend), why, size))
				return false;
			break;
		case BENCH_COPY:
			if (!series_sane(&results->copy_in[backend],
					 options->trials, true,
					 bench_backend_name(backend), why, size) ||
			    !series_sane(&results->copy_out[backend],
					 options->trials, true,
					 bench_backend_name(backend), why, size))
				return false;
			break;
		case BENCH_THROUGHPUT:
			for (index = 0; index < options->thread_count_count; index++)
				if (!series_sane(&results->throughput[backend][index],
						 options->trials, true,
						 bench_backend_name(backend), why, size))
					return false;
			break;
		case BENCH_RANDOM_READ:
			if (!series_sane(&results->random_read[backend],
					 options->trials, true,
					 bench_backend_name(backend), why, size))
				return false;
			break;
		case BENCH_MEMORY:
			/* Few blocks: the kernel's kB counters may not move. */
			if (!series_sane(&results->memory_total[backend],
					 options->memory_trials, false,
					 bench_backend_name(backend), why, size) ||
			    !series_sane(&results->memory_slab[backend],
					 options->memory_trials, false,
					 bench_backend_name(backend), why, size))
				return false;
			break;
		default:
			break;
		}
	}
	if (measurement == BENCH_COPY)
		return series_sane(&results->copy_malloc_in, options->trials,
				   true, "malloc", why, size) &&
		       series_sane(&results->copy_malloc_out, options->trials,
				   true, "malloc", why, size);
	if (measurement == BENCH_RANDOM_READ)
		return series_sane(&results->random_read_malloc,
				   options->trials, true, "malloc", why, size);
	if (measurement == BENCH_ATTACH)
		for (index = 0; index < options->attach_count_count; index++)
			if (!series_sane(&results->attach[index],
					 options->attach_samples *
					 options->attach_rounds, true,
					 "attach", why, size))
				return false;
	return true;
}

/* Renders both reports into memory; true if they look whole. */
static bool reports_render(const struct bench_context *context, char *why,
			   size_t size)
{
	char *text = NULL, *json = NULL;
	size_t text_size = 0, json_size = 0;
	FILE *stream;
	bool whole;

	stream = open_memstream(&text, &text_size);
	if (!stream)
		return false;
	bench_print_text(context, stream);
	fclose(stream);
	stream = open_memstream(&json, &json_size);
	if (!stream) {
		free(text);
		return false;
	}
	bench_print_json(context, stream);
	fclose(stream);

	whole = text && strstr(text, "### Targets") &&
		strstr(text, "### 7. ") && json && json_size > 2 &&
		json[0] == '{' && strcmp(json + json_size - 2, "}\n") == 0 &&
		strstr(json, "\"targets\"");
	if (!whole)
		snprintf(why, size, "text %zu bytes, JSON %zu bytes, incomplete",
			 text_size, json_size);
	free(text);
	free(json);
	return whole;
}

int main(void)
{
	struct cmamem_pool_info baseline, after;
	struct bench_context *context;
	enum bench_measurement measurement;
	long page_size = sysconf(_SC_PAGESIZE);
	char why[256];
	int err;

	printf("TAP version 13\n");
	context = calloc(1, sizeof(*context));
	if (!context) {
		printf("1..0 # SKIP out of memory\n");
		return 1;
	}
	smoke_options(&context->options, page_size);
	err = bench_open(context);
	if (err == -ENOENT) {
		printf("1..0 # SKIP no cmamem default pool (module not loaded)\n");
		free(context);
		return KSFT_SKIP;
	}
	printf("1..%d\n", 2 + BENCH_MEASUREMENTS);
	report(!err, "open the default pool%s%s", err ? ": " : "",
	       err ? cmamem_strerror(err) : "");
	if (err) {
		bench_close(context);
		free(context);
		return 1;
	}
	if (!context->results.available[BENCH_HEAP])
		diagnostic("dma-heap not measured: %s",
			   context->results.why_unavailable[BENCH_HEAP]);
	if (!context->results.available[BENCH_CACHED])
		diagnostic("cached mode not measured: %s",
			   context->results.why_unavailable[BENCH_CACHED]);

	err = cmamem_pool_info(context->pool_fd, &baseline);
	for (measurement = 0; measurement < BENCH_MEASUREMENTS; measurement++) {
		bool passed;

		why[0] = '\0';
		if (err) {
			report(false, "%s: POOL_INFO: %s",
			       bench_measurement_title(measurement),
			       cmamem_strerror(err));
			continue;
		}
		err = bench_run(context, measurement);
		if (err) {
			snprintf(why, sizeof(why), "%s", cmamem_strerror(err));
			passed = false;
			err = 0;
		} else {
			passed = measurement_sane(context, measurement, why,
						  sizeof(why));
		}
		err = cmamem_pool_info(context->pool_fd, &after);
		if (passed && !err && (after.blocks != baseline.blocks ||
				       after.used_bytes != baseline.used_bytes)) {
			snprintf(why, sizeof(why),
				 "left %u blocks, %llu bytes in the pool",
				 after.blocks - baseline.blocks,
				 (unsigned long long)(after.used_bytes -
						      baseline.used_bytes));
			passed = false;
		}
		report(passed, "%s%s%s", bench_measurement_title(measurement),
		       why[0] ? ": " : "", why);
	}
	why[0] = '\0';
	report(reports_render(context, why, sizeof(why)),
	       "text and JSON reports%s%s", why[0] ? ": " : "", why);

	bench_close(context);
	free(context);
	printf("# %u failed\n", failures);
	return failures ? 1 : 0;
}
