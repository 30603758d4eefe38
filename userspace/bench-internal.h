/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the files of "cmamem bench" share among themselves, and no other
 * program sees (bench.h is the interface):
 *
 *	bench-engine.c	the allocators under test, the trials in which they
 *			take turns, samples and their statistics, setting up
 *	bench-access.c	measurements 1 to 4 and 8: latency per size, first touch,
 *			memcpy bandwidth, random reads
 *	bench-scale.c	measurements 5 to 7: attach with many live blocks,
 *			throughput from several threads, kernel memory per
 *			block
 *	bench-report.c	the targets' verdicts and the text tables
 *	bench-json.c	the JSON report
 *	bench-cli.c	"cmamem bench": its options and its run
 */
#ifndef CMAMEM_BENCH_INTERNAL_H
#define CMAMEM_BENCH_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "bench.h"

#define KIB(n) ((uint64_t)(n) << 10)
#define MIB(n) ((uint64_t)(n) << 20)

/* Reads per trial of measurement 8: 16 per page of 64 MiB of 4 KiB pages. */
#define BENCH_RANDOM_READS (1u << 18)

/* Blocks of measurements 1 and 2 this size or smaller get more trials. */
#define SMALL_SIZE_LIMIT MIB(1)

/* --- samples and statistics (bench-engine.c) ----------------------------- */

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

uint64_t bench_now_ns(void);
int bench_series_append(struct bench_series *series, double value);
bool bench_series_open(const struct bench_series *series);
int bench_record(struct bench_series *const *cells, const double *samples,
		 unsigned int count, int error, bool timed);
bool bench_series_stats(const struct bench_series *series,
			struct bench_stats *stats);
bool bench_ratio_stats(const struct bench_series *numerator,
		       const struct bench_series *denominator,
		       struct bench_stats *stats);
unsigned int bench_trials_for_size(const struct bench_options *options,
				   uint64_t size);

/* --- the allocators under test (bench-engine.c) ------------------------ */

/**
 * struct bench_buffer - one allocation of any allocator under test
 * @length: its length, whole pages
 * @handle: cmamem: the block's handle
 * @fd: the file mmap() maps: the pool for cmamem, the dma-buf itself for
 *	the heap
 * @mmap_offset: where in @fd the buffer is mapped
 */
struct bench_buffer {
	uint64_t length;
	uint32_t handle;
	int fd;
	uint64_t mmap_offset;
};

int bench_buffer_alloc(struct bench_context *context,
		       enum bench_backend backend, const char *name,
		       uint64_t length, uint64_t alignment,
		       struct bench_buffer *buffer);
uint64_t bench_map_alignment(const struct bench_context *context,
			     uint64_t length);
int bench_buffer_free(struct bench_context *context,
		      enum bench_backend backend, struct bench_buffer *buffer);
int bench_buffer_map(const struct bench_buffer *buffer, void **address);

/**
 * struct bench_turn - where one cycle of a measurement stands
 * @backend: whose turn it is: an allocator, or BENCH_BACKENDS for the
 *	measurement's reference that is no allocator (malloc'd memory)
 * @round: the round, from 0
 * @step: the cycle's parameter within the round (a thread count's index)
 * @timed: false in the untimed warm-up round, whose samples are dropped
 * @last: the last round
 */
struct bench_turn {
	enum bench_backend backend;
	unsigned int round;
	unsigned int step;
	bool timed;
	bool last;
};

/**
 * struct bench_rounds - how a measurement lays out its cycles
 * @trials: timed rounds
 * @warm_up: one untimed round first
 * @steps: cycles of each allocator in each round, one per parameter
 * @with_reference: a reference that is no allocator takes turns too
 * @cycle: one cycle: measures, records its samples or why it failed, and
 *	returns 0, or an error that ends the measurement (no memory for the
 *	samples)
 * @data: the measurement's own state, for @cycle
 */
struct bench_rounds {
	unsigned int trials;
	bool warm_up;
	unsigned int steps;
	bool with_reference;
	int (*cycle)(struct bench_context *context,
		     const struct bench_turn *turn, void *data);
	void *data;
};

int bench_take_turns(struct bench_context *context,
		     const struct bench_rounds *rounds);

/* --- the measurements (bench-access.c, bench-scale.c) ------------------ */

const char *bench_measurement_key(enum bench_measurement measurement);

int bench_measure_latency(struct bench_context *context, bool map_and_touch);
int bench_measure_first_touch(struct bench_context *context);
int bench_measure_copy(struct bench_context *context);
int bench_measure_random_read(struct bench_context *context);
int bench_measure_attach(struct bench_context *context);
int bench_measure_throughput(struct bench_context *context);
int bench_measure_memory(struct bench_context *context);

/* --- the reports (bench-report.c) -------------------------------------- */

enum bench_target_state { TARGET_UNKNOWN, TARGET_MET, TARGET_MISSED };

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
	enum bench_target_state state;
	char detail[256];
};

#define BENCH_TARGETS 5

void bench_compute_targets(const struct bench_context *context,
			   struct bench_target *targets);
const char *bench_size_text(uint64_t bytes, char *buffer, size_t size);
const char *bench_error_name(int error);

#endif /* CMAMEM_BENCH_INTERNAL_H */
