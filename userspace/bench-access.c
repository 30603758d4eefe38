// SPDX-License-Identifier: GPL-2.0
/*
 * cmamem bench, measurements 1 to 4 and 8: what one buffer costs to get
 * and to use. Latency of allocate + free and of allocate + mmap + touch +
 * munmap + free per size, the first touch of a fresh mapping, memcpy
 * bandwidth into and out of a mapping against malloc'd memory, and random
 * reads across a mapping (TLB reach). Each supplies its cycle;
 * bench_take_turns() runs the trials.
 */
#define _GNU_SOURCE
/* mmap offsets are 64-bit even in 32-bit builds. */
#define _FILE_OFFSET_BITS 64

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include <cmamem/libcmamem.h>

#include "bench-internal.h"
#include "tools-common.h"

#define MEBIBYTE (1024.0 * 1024.0)

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

	start = bench_now_ns();
	err = bench_buffer_alloc(context, backend, "bench-latency", size, 0,
				 &buffer);
	if (err)
		return err;
	if (map_and_touch) {
		err = bench_buffer_map(&buffer, &address);
		if (!err) {
			touch_pages(address, buffer.length,
				    context->results.page_size);
			if (munmap(address, (size_t)buffer.length))
				err = -errno;
		}
	}
	free_err = bench_buffer_free(context, backend, &buffer);
	end = bench_now_ns();
	if (err)
		return err;
	if (free_err)
		return free_err;
	*nanoseconds = (double)(end - start);
	return 0;
}

/**
 * struct latency_state - what a latency cycle measures
 * @size_index: the size's index in the options' sizes
 * @map_and_touch: measurement 2 rather than 1
 */
struct latency_state {
	unsigned int size_index;
	bool map_and_touch;
};

static int latency_turn(struct bench_context *context,
			const struct bench_turn *turn, void *data)
{
	const struct latency_state *state = data;
	struct bench_results *results = &context->results;
	struct bench_series *series = state->map_and_touch ?
		&results->map_touch[turn->backend][state->size_index] :
		&results->alloc_free[turn->backend][state->size_index];
	double nanoseconds = 0;
	int err;

	if (!bench_series_open(series))
		return 0;
	err = latency_cycle(context, turn->backend,
			    context->options.sizes[state->size_index],
			    state->map_and_touch, &nanoseconds);
	return bench_record(&series, &nanoseconds, 1, err, turn->timed);
}

/**
 * bench_measure_latency() - measurement 1 or 2, at every size in turn
 * @context: an opened run
 * @map_and_touch: measurement 2 (map, touch every page, unmap between
 *	allocating and freeing) rather than 1
 *
 * Return: 0, or -ENOMEM when samples could not be stored.
 */
int bench_measure_latency(struct bench_context *context, bool map_and_touch)
{
	const struct bench_options *options = &context->options;
	struct latency_state state = { .map_and_touch = map_and_touch };
	struct bench_rounds rounds = {
		/* One untimed round first: the first use warms caches. */
		.warm_up = true,
		.steps = 1,
		.cycle = latency_turn,
		.data = &state,
	};
	int err;

	for (state.size_index = 0; state.size_index < options->size_count;
	     state.size_index++) {
		uint64_t size = options->sizes[state.size_index];

		rounds.trials = bench_trials_for_size(options, size);
		err = bench_take_turns(context, &rounds);
		if (err)
			return err;
	}
	return 0;
}

/* --- measurement 3: first touch -------------------------------------- */

/* Page faults this process took so far, minor and major. */
static uint64_t page_faults(void)
{
	struct rusage usage;

	if (getrusage(RUSAGE_SELF, &usage))
		return 0;
	return (uint64_t)usage.ru_minflt + (uint64_t)usage.ru_majflt;
}

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

	err = bench_buffer_alloc(context, backend, "bench-first-touch", bytes,
				 bench_map_alignment(context, bytes), &buffer);
	if (err)
		return err;
	faults = page_faults();
	start = bench_now_ns();
	err = bench_buffer_map(&buffer, &address);
	if (!err) {
		mapped = bench_now_ns();
		if (write)
			touch_pages(address, buffer.length, page_size);
		else
			read_pages(address, buffer.length, page_size);
		touched = bench_now_ns();
		sample->faults = (double)(page_faults() - faults);
		munmap(address, (size_t)buffer.length);
		sample->whole = (double)(touched - start);
		sample->access_only = (double)(touched - mapped);
	}
	bench_buffer_free(context, backend, &buffer);
	return err;
}

/* The first write of every page, then (on a fresh mapping) the first read. */
static int first_touch_turn(struct bench_context *context,
			    const struct bench_turn *turn, void *data)
{
	struct bench_results *results = &context->results;
	enum bench_backend backend = turn->backend;
	struct bench_series *const touch[] = {
		&results->first_touch[backend],
		&results->touch_only[backend],
		&results->touch_faults[backend],
	};
	struct bench_series *const read[] = {
		&results->first_read[backend],
		&results->read_faults[backend],
	};
	struct first_touch_sample sample = { 0 };
	int err;

	(void)data;
	if (bench_series_open(touch[0])) {
		err = first_touch_cycle(context, backend, true, &sample);
		err = bench_record(touch, (const double[]) {
					   sample.whole, sample.access_only,
					   sample.faults },
				   ARRAY_SIZE(touch), err, turn->timed);
		if (err)
			return err;
	}
	if (bench_series_open(read[0])) {
		err = first_touch_cycle(context, backend, false, &sample);
		err = bench_record(read, (const double[]) {
					   sample.whole, sample.faults },
				   ARRAY_SIZE(read), err, turn->timed);
		if (err)
			return err;
	}
	return 0;
}

/**
 * bench_measure_first_touch() - measurement 3
 * @context: an opened run
 *
 * Return: 0, or -ENOMEM when samples could not be stored.
 */
int bench_measure_first_touch(struct bench_context *context)
{
	const struct bench_rounds rounds = {
		.trials = context->options.trials,
		.warm_up = true,
		.steps = 1,
		.cycle = first_touch_turn,
	};

	return bench_take_turns(context, &rounds);
}

/* --- measurement 4: memcpy bandwidth --------------------------------- */

/*
 * Called through a volatile pointer, so the compiler can neither drop a
 * copy into memory that is never read again nor turn it into something
 * else.
 */
static void *(*volatile copy_memory)(void *, const void *, size_t) = memcpy;

static double mebibytes_per_second(uint64_t bytes, uint64_t nanoseconds)
{
	if (!nanoseconds)
		nanoseconds = 1;
	return (double)bytes / MEBIBYTE / ((double)nanoseconds / 1e9);
}

static double timed_copy(void *destination, const void *source, size_t bytes)
{
	uint64_t start = bench_now_ns();

	copy_memory(destination, source, bytes);
	return mebibytes_per_second(bytes, bench_now_ns() - start);
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

/**
 * struct copy_state - the buffers of measurement 4
 * @bytes: bytes each copy moves
 * @source: malloc'd memory copied into each target
 * @destination: malloc'd memory each target is copied into
 * @buffers: each allocator's buffer
 * @targets: each allocator's mapping of its buffer (NULL when it has
 *	none), and last the malloc'd reference
 */
struct copy_state {
	size_t bytes;
	unsigned char *source;
	unsigned char *destination;
	struct bench_buffer buffers[BENCH_BACKENDS];
	void *targets[BENCH_BACKENDS + 1];
};

/* One copy into the target, then one out of it. */
static int copy_turn(struct bench_context *context,
		     const struct bench_turn *turn, void *data)
{
	struct bench_results *results = &context->results;
	struct copy_state *state = data;
	unsigned int slot = turn->backend;
	void *target = state->targets[slot];
	struct bench_series *const cells[] = {
		slot == BENCH_BACKENDS ?
			&results->copy_malloc_in : &results->copy_in[slot],
		slot == BENCH_BACKENDS ?
			&results->copy_malloc_out : &results->copy_out[slot],
	};
	double rates[ARRAY_SIZE(cells)];

	if (!target)
		return 0;
	rates[0] = timed_copy(target, state->source, state->bytes);
	rates[1] = timed_copy(state->destination, target, state->bytes);
	return bench_record(cells, rates, ARRAY_SIZE(cells), 0, turn->timed);
}

/* Allocates and maps a buffer of every allocator: all live at once. */
static void copy_targets_map(struct bench_context *context,
			     struct copy_state *state)
{
	struct bench_results *results = &context->results;
	char name[CMAMEM_NAME_SIZE];
	int backend, err;

	for (backend = 0; backend < BENCH_BACKENDS; backend++) {
		if (!results->available[backend])
			continue;
		/* All of them live at once: each needs a name of its own. */
		snprintf(name, sizeof(name), "bench-copy-%d", backend);
		err = bench_buffer_alloc(context, backend, name, state->bytes,
					 0, &state->buffers[backend]);
		if (!err) {
			err = bench_buffer_map(&state->buffers[backend],
					       &state->targets[backend]);
			if (err)
				bench_buffer_free(context, backend,
						  &state->buffers[backend]);
		}
		if (err) {
			results->copy_in[backend].error = err;
			results->copy_out[backend].error = err;
			state->targets[backend] = NULL;
			continue;
		}
		memset(state->targets[backend], 0x3c, state->bytes);
	}
}

static void copy_targets_unmap(struct bench_context *context,
			       struct copy_state *state)
{
	int backend;

	for (backend = 0; backend < BENCH_BACKENDS; backend++) {
		if (!state->targets[backend])
			continue;
		munmap(state->targets[backend],
		       (size_t)state->buffers[backend].length);
		bench_buffer_free(context, backend, &state->buffers[backend]);
	}
}

/**
 * bench_measure_copy() - measurement 4
 * @context: an opened run
 *
 * The mappings of every allocator and the malloc'd reference take turns.
 *
 * Return: 0, or -ENOMEM when the malloc'd buffers or samples could not be
 * had.
 */
int bench_measure_copy(struct bench_context *context)
{
	long page_size = context->results.page_size;
	struct copy_state state = {
		.bytes = (size_t)context->options.copy_bytes,
	};
	const struct bench_rounds rounds = {
		.trials = context->options.trials,
		.warm_up = true,
		.steps = 1,
		.with_reference = true,
		.cycle = copy_turn,
		.data = &state,
	};
	void **reference = &state.targets[BENCH_BACKENDS];
	int err;

	state.source = aligned_buffer(state.bytes, page_size);
	state.destination = aligned_buffer(state.bytes, page_size);
	*reference = aligned_buffer(state.bytes, page_size);
	if (!state.source || !state.destination || !*reference) {
		err = -ENOMEM;
		goto out_free;
	}
	/* Fault everything in first: only copying is timed. */
	memset(state.source, 0x5a, state.bytes);
	memset(state.destination, 0xa5, state.bytes);
	memset(*reference, 0x3c, state.bytes);

	copy_targets_map(context, &state);
	err = bench_take_turns(context, &rounds);
	copy_targets_unmap(context, &state);
out_free:
	free(state.source);
	free(state.destination);
	free(*reference);
	return err;
}

/* --- measurement 8: random reads, TLB reach --------------------------- */

/*
 * Reads BENCH_RANDOM_READS bytes at random places of the @length bytes at
 * @address, mostly a page apart: what they cost beyond a cache miss is the
 * translations the TLB cannot hold, so it shows the TLB's reach: one PMD
 * entry covers 2 MiB (4 KiB pages), a page entry one page. Every buffer
 * gets the same places. Returns nanoseconds per read.
 */
static double random_reads(const void *address, uint64_t length)
{
	const volatile unsigned char *bytes = address;
	uint64_t state = 0x9e3779b97f4a7c15u, start, end;
	unsigned char sum = 0;
	unsigned int index;

	start = bench_now_ns();
	for (index = 0; index < BENCH_RANDOM_READS; index++) {
		/* xorshift64: cheap next to the read it places. */
		state ^= state << 13;
		state ^= state >> 7;
		state ^= state << 17;
		sum += bytes[state % length];
	}
	end = bench_now_ns();
	/* Used, so the reads are not optimised away. */
	__asm__ volatile("" : : "r"(sum));
	return (double)(end - start) / BENCH_RANDOM_READS;
}

/* One allocator's buffer, mapped and faulted in untimed, then read. */
static int random_read_cycle(struct bench_context *context,
			     enum bench_backend backend, double *nanoseconds)
{
	uint64_t bytes = context->options.random_read_bytes;
	struct bench_buffer buffer;
	void *address;
	int err;

	err = bench_buffer_alloc(context, backend, "bench-random-read", bytes,
				 bench_map_alignment(context, bytes), &buffer);
	if (err)
		return err;
	err = bench_buffer_map(&buffer, &address);
	if (!err) {
		read_pages(address, buffer.length, context->results.page_size);
		*nanoseconds = random_reads(address, buffer.length);
		munmap(address, (size_t)buffer.length);
	}
	bench_buffer_free(context, backend, &buffer);
	return err;
}

static int random_read_turn(struct bench_context *context,
			    const struct bench_turn *turn, void *data)
{
	struct bench_results *results = &context->results;
	const void *reference = data;
	struct bench_series *series;
	double nanoseconds = 0;
	int err = 0;

	if (turn->backend == BENCH_BACKENDS) {
		series = &results->random_read_malloc;
		nanoseconds = random_reads(reference,
					   context->options.random_read_bytes);
	} else {
		series = &results->random_read[turn->backend];
		if (!bench_series_open(series))
			return 0;
		err = random_read_cycle(context, turn->backend, &nanoseconds);
	}
	return bench_record(&series, &nanoseconds, 1, err, turn->timed);
}

/**
 * bench_measure_random_read() - measurement 8
 * @context: an opened run
 *
 * Each allocator's buffer is allocated, mapped and faulted in for each
 * trial, so that only one lives at a time; the malloc'd reference (with
 * whatever transparent huge pages the system gives it) lives throughout.
 *
 * Return: 0, or -ENOMEM when the malloc'd buffer or samples could not be
 * had.
 */
int bench_measure_random_read(struct bench_context *context)
{
	size_t bytes = (size_t)context->options.random_read_bytes;
	struct bench_rounds rounds = {
		.trials = context->options.trials,
		.warm_up = true,
		.steps = 1,
		.with_reference = true,
		.cycle = random_read_turn,
	};
	void *reference;
	int err;

	reference = aligned_buffer(bytes, context->results.page_size);
	if (!reference)
		return -ENOMEM;
	memset(reference, 0x3c, bytes);
	rounds.data = reference;
	err = bench_take_turns(context, &rounds);
	free(reference);
	return err;
}
