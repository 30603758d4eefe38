// SPDX-License-Identifier: GPL-2.0
/*
 * cmamem bench: the report as text. Markdown tables of every measurement
 * with medians, quartiles and ratios, and the verdict on each of the
 * project's targets (issue 7), which the JSON report gives too.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench-internal.h"
#include "tools-common.h"

/* The thresholds of the targets the project set itself (issue 7). */
#define TARGET_MAP_TOUCH_RATIO 1.0
#define TARGET_MAP_TOUCH_AIM 0.8
#define TARGET_FIRST_TOUCH_SPEEDUP 2.0
#define TARGET_COPY_RATIO 0.95
#define TARGET_ATTACH_GROWTH 1.2
#define TARGET_BYTES_PER_BLOCK 256.0

/* --- targets ------------------------------------------------------------- */

/**
 * bench_size_text() - a byte count as people write it
 * @bytes: the count
 * @buffer: room for the text
 * @size: bytes in @buffer
 *
 * Return: @buffer, holding "64 MiB", "4 KiB" or "100 B".
 */
const char *bench_size_text(uint64_t bytes, char *buffer, size_t size)
{
	if (bytes >= MIB(1) && bytes % MIB(1) == 0)
		snprintf(buffer, size, "%" PRIu64 " MiB", bytes >> 20);
	else if (bytes >= KIB(1) && bytes % KIB(1) == 0)
		snprintf(buffer, size, "%" PRIu64 " KiB", bytes >> 10);
	else
		snprintf(buffer, size, "%" PRIu64 " B", bytes);
	return buffer;
}

/**
 * bench_error_name() - the symbolic name of an errno, for a cell that failed
 * @error: the errno, negative or positive
 *
 * Return: a constant string such as "ENOMEM", or "error".
 */
const char *bench_error_name(int error)
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

/*
 * A target on the median of the per-trial ratios of two cells, met at its
 * limit or above; @detail says what the ratio is.
 */
static void ratio_target(struct bench_target *target,
			 const struct bench_series *numerator,
			 const struct bench_series *denominator,
			 const char *detail)
{
	struct bench_stats stats;

	if (!bench_ratio_stats(numerator, denominator, &stats)) {
		snprintf(target->detail, sizeof(target->detail), "not measured");
		return;
	}
	target->value = stats.median;
	target->state = stats.median >= target->limit ?
			TARGET_MET : TARGET_MISSED;
	snprintf(target->detail, sizeof(target->detail), "%s", detail);
}

/**
 * bench_compute_targets() - how the run did against each target
 * @context: a run
 * @targets: BENCH_TARGETS entries, filled in
 */
void bench_compute_targets(const struct bench_context *context,
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

		bench_size_text(options->sizes[index], text, sizeof(text));
		if (!bench_ratio_stats(cached, heap, &stats)) {
			target->state = TARGET_UNKNOWN;
			snprintf(target->detail, sizeof(target->detail),
				 "not measured at %s (%s)", text,
				 !results->available[BENCH_HEAP] ?
				 "no dma-heap" :
				 cached->error ? bench_error_name(cached->error) :
				 heap->error ? bench_error_name(heap->error) : "no samples");
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
	bench_size_text(options->first_touch_bytes, text, sizeof(text));
	snprintf(target->description, sizeof(target->description),
		 "mmap + first write of every page of %s ≥ %.0f× faster than dma-heap (cached)",
		 text, TARGET_FIRST_TOUCH_SPEEDUP);
	target->limit = TARGET_FIRST_TOUCH_SPEEDUP;
	ratio_target(target, &results->first_touch[BENCH_HEAP],
		     &results->first_touch[BENCH_CACHED],
		     "dma-heap time / cached time");

	target = &targets[2];
	target->key = "copy_into_cached_vs_malloc";
	snprintf(target->description, sizeof(target->description),
		 "memcpy into a cached mapping ≥ %.2f× malloc", TARGET_COPY_RATIO);
	target->limit = TARGET_COPY_RATIO;
	ratio_target(target, &results->copy_in[BENCH_CACHED],
		     &results->copy_malloc_in,
		     "bandwidth into cached / into malloc'd memory");

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
		    bench_series_stats(&results->attach[smallest], &few) &&
		    bench_series_stats(&results->attach[largest], &many) &&
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

		if (!bench_series_stats(&results->memory_total[backend], &stats))
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
	if (!bench_series_stats(series, &stats)) {
		if (series->error == -ENOMEM)
			return "no room (ENOMEM)";
		if (series->error) {
			snprintf(buffer, size, "failed (%s)",
				 bench_error_name(series->error));
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

	if (!bench_ratio_stats(numerator, denominator, &stats))
		return "–";
	snprintf(buffer, size, "%.2f× (%.2f–%.2f)", stats.median, stats.low,
		 stats.high);
	return buffer;
}

/* " <cell> |": a cell of a table row. */
static void print_cell(const struct bench_context *context, FILE *stream,
		       enum bench_backend backend,
		       const struct bench_series *series, enum cell_kind kind)
{
	char cell[160];

	fprintf(stream, " %s |",
		cell_text(context, backend, series, kind, cell, sizeof(cell)));
}

/* " <ratio> |"; a cell against itself is 1 whatever it holds. */
static void print_ratio(FILE *stream, const struct bench_series *numerator,
			const struct bench_series *denominator)
{
	char ratio[64];

	fprintf(stream, " %s |", numerator == denominator ? "1" :
		ratio_text(numerator, denominator, ratio, sizeof(ratio)));
}

static const char *plural(unsigned int count)
{
	return count == 1 ? "" : "s";
}

static const char *verdict_text(enum bench_target_state state)
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

/* " <verdict> |": met, missed or, when not @measured, not measured. */
static void print_verdict(FILE *stream, bool measured, bool met)
{
	fprintf(stream, " %s |",
		verdict_text(!measured ? TARGET_UNKNOWN :
			     met ? TARGET_MET : TARGET_MISSED));
}

static void print_latency_table(const struct bench_context *context,
				FILE *stream, bool map_and_touch)
{
	const struct bench_options *options = &context->options;
	const struct bench_results *results = &context->results;
	const struct bench_series (*table)[BENCH_MAX_SIZES] = map_and_touch ?
		results->map_touch : results->alloc_free;
	char size[32];
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
			bench_size_text(options->sizes[index], size, sizeof(size)),
			bench_trials_for_size(options, options->sizes[index]));
		for (backend = 0; backend < BENCH_BACKENDS; backend++)
			print_cell(context, stream, backend,
				   &table[backend][index], CELL_TIME);
		for (backend = BENCH_COHERENT; backend <= BENCH_CACHED; backend++)
			print_ratio(stream, &table[backend][index],
				    &table[BENCH_HEAP][index]);
		if (map_and_touch) {
			struct bench_stats stats;
			bool measured;

			measured = bench_ratio_stats(&table[BENCH_CACHED][index],
						     &table[BENCH_HEAP][index],
						     &stats);
			print_verdict(stream, measured,
				      stats.median <= TARGET_MAP_TOUCH_RATIO);
		}
		fprintf(stream, "\n");
	}
}

static void print_first_touch_table(const struct bench_context *context,
				    FILE *stream)
{
	const struct bench_results *results = &context->results;
	int backend;

	fprintf(stream,
		"| allocator | mmap + write every page | the writes alone | page faults | dma-heap ÷ this | mmap + read every page | page faults | dma-heap ÷ this |\n"
		"|---|---:|---:|---:|---:|---:|---:|---:|\n");
	for (backend = 0; backend < BENCH_BACKENDS; backend++) {
		fprintf(stream, "| %s |", bench_backend_name(backend));
		print_cell(context, stream, backend,
			   &results->first_touch[backend], CELL_TIME);
		print_cell(context, stream, backend,
			   &results->touch_only[backend], CELL_TIME);
		print_cell(context, stream, backend,
			   &results->touch_faults[backend], CELL_COUNT);
		print_ratio(stream, &results->first_touch[BENCH_HEAP],
			    &results->first_touch[backend]);
		print_cell(context, stream, backend,
			   &results->first_read[backend], CELL_TIME);
		print_cell(context, stream, backend,
			   &results->read_faults[backend], CELL_COUNT);
		print_ratio(stream, &results->first_read[BENCH_HEAP],
			    &results->first_read[backend]);
		fprintf(stream, "\n");
	}
}

static void print_copy_table(const struct bench_context *context, FILE *stream)
{
	const struct bench_results *results = &context->results;
	int backend;

	fprintf(stream,
		"| memory | into it | out of it | into ÷ malloc | out ÷ malloc |\n"
		"|---|---:|---:|---:|---:|\n");
	fprintf(stream, "| malloc (the limit) |");
	print_cell(context, stream, BENCH_BACKENDS, &results->copy_malloc_in,
		   CELL_BANDWIDTH);
	print_cell(context, stream, BENCH_BACKENDS, &results->copy_malloc_out,
		   CELL_BANDWIDTH);
	fprintf(stream, " 1 | 1 |\n");
	for (backend = 0; backend < BENCH_BACKENDS; backend++) {
		fprintf(stream, "| %s mapping |", bench_backend_name(backend));
		print_cell(context, stream, backend, &results->copy_in[backend],
			   CELL_BANDWIDTH);
		print_cell(context, stream, backend, &results->copy_out[backend],
			   CELL_BANDWIDTH);
		print_ratio(stream, &results->copy_in[backend],
			    &results->copy_malloc_in);
		print_ratio(stream, &results->copy_out[backend],
			    &results->copy_malloc_out);
		fprintf(stream, "\n");
	}
}

static void print_random_read_table(const struct bench_context *context,
				    FILE *stream)
{
	const struct bench_results *results = &context->results;
	int backend;

	fprintf(stream,
		"| memory | per read | ÷ malloc |\n"
		"|---|---:|---:|\n"
		"| malloc |");
	print_cell(context, stream, BENCH_BACKENDS,
		   &results->random_read_malloc, CELL_TIME);
	fprintf(stream, " 1 |\n");
	for (backend = 0; backend < BENCH_BACKENDS; backend++) {
		fprintf(stream, "| %s mapping |", bench_backend_name(backend));
		print_cell(context, stream, backend,
			   &results->random_read[backend], CELL_TIME);
		print_ratio(stream, &results->random_read[backend],
			    &results->random_read_malloc);
		fprintf(stream, "\n");
	}
}

static void print_attach_table(const struct bench_context *context,
			       FILE *stream)
{
	const struct bench_options *options = &context->options;
	const struct bench_results *results = &context->results;
	struct bench_stats first, stats;
	unsigned int index;
	bool have_first;

	have_first = options->attach_count_count &&
		     bench_series_stats(&results->attach[0], &first) &&
		     first.median > 0;
	fprintf(stream,
		"| live blocks | attaches timed | attach latency | ÷ attach with %u |\n"
		"|---:|---:|---:|---:|\n",
		options->attach_count_count ? options->attach_counts[0] : 0);
	for (index = 0; index < options->attach_count_count; index++) {
		fprintf(stream, "| %u | %u |", options->attach_counts[index],
			results->attach[index].count);
		print_cell(context, stream, BENCH_BACKENDS,
			   &results->attach[index], CELL_TIME);
		if (have_first && bench_series_stats(&results->attach[index], &stats))
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
			print_cell(context, stream, backend,
				   &results->throughput[backend][step],
				   CELL_RATE);
		for (step = 1; step < options->thread_count_count; step++)
			print_ratio(stream, &results->throughput[backend][step],
				    &results->throughput[backend][0]);
		for (step = 0; step < options->thread_count_count; step++)
			print_ratio(stream, &results->throughput[backend][step],
				    &results->throughput[BENCH_HEAP][step]);
		fprintf(stream, "\n");
	}
}

static void print_memory_table(const struct bench_context *context,
			       FILE *stream)
{
	const struct bench_results *results = &context->results;
	unsigned int slot;
	int backend;

	fprintf(stream,
		"| allocator | blocks held | slab per block | slab + vmalloc per block | target ≤ %.0f B | caches that grew most (bytes per block) |\n"
		"|---|---:|---:|---:|---|---|\n", TARGET_BYTES_PER_BLOCK);
	for (backend = 0; backend < BENCH_BACKENDS; backend++) {
		struct bench_stats stats;
		unsigned int blocks = results->memory_blocks[backend];

		fprintf(stream, "| %s | %u |", bench_backend_name(backend),
			blocks);
		print_cell(context, stream, backend,
			   &results->memory_slab[backend], CELL_BYTES);
		print_cell(context, stream, backend,
			   &results->memory_total[backend], CELL_BYTES);
		if (backend == BENCH_HEAP)
			fprintf(stream, " (reference) |");
		else if (bench_series_stats(&results->memory_total[backend],
					    &stats))
			print_verdict(stream, true,
				      stats.median <= TARGET_BYTES_PER_BLOCK);
		else
			print_verdict(stream, false, false);
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
			bench_size_text(options->first_touch_bytes, size, sizeof(size)),
			options->trials, plural(options->trials));
		print_first_touch_table(context, stream);
	}
	if (options->only & (1u << BENCH_COPY)) {
		fprintf(stream, "\n### 4. %s, %s buffers, %u trial%s\n\n",
			bench_measurement_title(BENCH_COPY),
			bench_size_text(options->copy_bytes, size, sizeof(size)),
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
			bench_size_text(options->throughput_bytes, size, sizeof(size)),
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

	if (options->only & (1u << BENCH_RANDOM_READ)) {
		fprintf(stream, "\n### 8. %s of %s, %u reads, %u trial%s\n\n",
			bench_measurement_title(BENCH_RANDOM_READ),
			bench_size_text(options->random_read_bytes, size,
					sizeof(size)),
			BENCH_RANDOM_READS, options->trials, plural(options->trials));
		print_random_read_table(context, stream);
	}

	bench_compute_targets(context, targets);
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

