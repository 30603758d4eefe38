// SPDX-License-Identifier: GPL-2.0
/*
 * cmamem bench: the report as JSON, every statistic of every cell, the
 * paired ratios, the slab caches that grew most and the targets' verdicts.
 * bench/report.py turns it into the plot of docs/benchmarks.md.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include "bench-internal.h"
#include "tools-common.h"

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

/* ', "key": value', as every number in an entry of a list is written. */
static void json_field(FILE *stream, const char *key, double value)
{
	fprintf(stream, ", ");
	json_string(stream, key);
	fprintf(stream, ": ");
	json_double(stream, value);
}

static void json_quartiles(FILE *stream, const struct bench_stats *stats)
{
	json_field(stream, "median", stats->median);
	json_field(stream, "p25", stats->low);
	json_field(stream, "p75", stats->high);
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
	if (parameter)
		json_field(stream, parameter, parameter_value);
	fprintf(stream, ", \"unit\": ");
	json_string(stream, unit);
	fprintf(stream, ", \"count\": %u", series->count);
	if (bench_series_stats(series, &stats)) {
		json_quartiles(stream, &stats);
		json_field(stream, "min", stats.minimum);
		json_field(stream, "max", stats.maximum);
	}
	fprintf(stream, ", \"error\": ");
	if (series->error)
		json_string(stream, bench_error_name(series->error));
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

	if (!bench_ratio_stats(numerator, denominator, &stats))
		return;
	fprintf(stream, "%s\n    {\"ratio\": ", *first ? "" : ",");
	*first = false;
	json_string(stream, name);
	if (parameter)
		json_field(stream, parameter, parameter_value);
	json_quartiles(stream, &stats);
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
	fprintf(stream, ",\n  \"page_size\": %ld,\n  \"huge_alignment\": %" PRIu64
		",\n  \"cpus\": %ld,\n  \"pool\": ",
		results->page_size, results->huge_alignment, results->cpus);
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
		", \"throughput_milliseconds\": %u, \"memory_blocks\": %u, \"memory_trials\": %u"
		", \"random_read_bytes\": %" PRIu64 "},\n",
		options->trials, options->small_trial_factor,
		options->first_touch_bytes, options->copy_bytes,
		options->attach_samples, options->attach_rounds,
		options->throughput_bytes, options->throughput_milliseconds,
		options->memory_blocks, options->memory_trials,
		options->random_read_bytes);

	fprintf(stream, "  \"cells\": [");
	first = true;
	for (backend = 0; backend < BENCH_BACKENDS; backend++) {
		const char *label = bench_backend_name(backend);

		if (!results->available[backend])
			continue;
		for (index = 0; index < options->size_count; index++) {
			if (options->only & (1u << BENCH_ALLOC_FREE))
				json_cell(stream, &first,
					  bench_measurement_key(BENCH_ALLOC_FREE),
					  label, "bytes", (double)options->sizes[index],
					  "ns", &results->alloc_free[backend][index]);
			if (options->only & (1u << BENCH_MAP_TOUCH))
				json_cell(stream, &first,
					  bench_measurement_key(BENCH_MAP_TOUCH),
					  label, "bytes", (double)options->sizes[index],
					  "ns", &results->map_touch[backend][index]);
		}
		if (options->only & (1u << BENCH_FIRST_TOUCH)) {
			json_cell(stream, &first,
				  bench_measurement_key(BENCH_FIRST_TOUCH), label,
				  "bytes", (double)options->first_touch_bytes, "ns",
				  &results->first_touch[backend]);
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
				json_cell(stream, &first,
					  bench_measurement_key(BENCH_THROUGHPUT),
					  label, "threads",
					  options->thread_counts[index],
					  "operations/s",
					  &results->throughput[backend][index]);
		if (options->only & (1u << BENCH_RANDOM_READ))
			json_cell(stream, &first,
				  bench_measurement_key(BENCH_RANDOM_READ),
				  label, "bytes",
				  (double)options->random_read_bytes, "ns",
				  &results->random_read[backend]);
		if (options->only & (1u << BENCH_MEMORY)) {
			json_cell(stream, &first, "memory_slab_per_block", label,
				  "blocks", results->memory_blocks[backend],
				  "bytes", &results->memory_slab[backend]);
			json_cell(stream, &first,
				  bench_measurement_key(BENCH_MEMORY), label, "blocks", results->memory_blocks[backend],
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
	if (options->only & (1u << BENCH_RANDOM_READ))
		json_cell(stream, &first,
			  bench_measurement_key(BENCH_RANDOM_READ), "malloc",
			  "bytes", (double)options->random_read_bytes, "ns",
			  &results->random_read_malloc);
	if (options->only & (1u << BENCH_ATTACH))
		for (index = 0; index < options->attach_count_count; index++)
			json_cell(stream, &first,
				  bench_measurement_key(BENCH_ATTACH),
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
	bench_compute_targets(context, targets);
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

