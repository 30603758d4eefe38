// SPDX-License-Identifier: GPL-2.0
/*
 * cmamem bench, measurements 5 to 7: how cmamem scales. Attach by name
 * with few and many live blocks, allocate + free throughput from one and
 * more threads, and the kernel's memory per live block. Throughput and
 * memory supply their cycles; bench_take_turns() runs the trials.
 */
#define _GNU_SOURCE
/* mmap offsets are 64-bit even in 32-bit builds. */
#define _FILE_OFFSET_BITS 64

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cmamem/libcmamem.h>

#include "bench-internal.h"
#include "tools-common.h"

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
		err = bench_buffer_alloc(context, backend, name,
					 (uint64_t)context->results.page_size,
					 0, &buffer);
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
		start = bench_now_ns();
		err = cmamem_attach(attach_fd, name, 0, &reply);
		end = bench_now_ns();
		if (err) {
			series->error = err;
			return 0;
		}
		cmamem_free(attach_fd, reply.handle);
		err = bench_series_append(series, (double)(end - start));
		if (err)
			return err;
	}
	return 0;
}

/**
 * bench_measure_attach() - measurement 5
 * @context: an opened run
 *
 * One allocator only (cached blocks, else coherent ones): the name lookup
 * is the same for every mode. Sweeps up and down through the live-block
 * counts, timing attaches of random live blocks from a second open file.
 *
 * Return: 0, or a negative errno when the measurement could not run.
 */
int bench_measure_attach(struct bench_context *context)
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

			if (!bench_series_open(series))
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
	start = bench_now_ns();
	/*
	 * At least one cycle, however short the trial: on a loaded machine
	 * (software emulation, two VMs on two cores) a thread may not even
	 * finish one inside the trial's time, and a rate of 0 would say the
	 * allocator did nothing.
	 */
	do {
		struct bench_buffer buffer;

		worker->error = bench_buffer_alloc(worker->context,
						   worker->backend, name,
						   bytes, 0, &buffer);
		if (worker->error)
			break;
		worker->error = bench_buffer_free(worker->context,
						  worker->backend, &buffer);
		if (worker->error)
			break;
		worker->operations++;
	} while (!atomic_load_explicit(worker->stop, memory_order_relaxed));
	worker->nanoseconds = bench_now_ns() - start;
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

static int throughput_turn(struct bench_context *context,
			   const struct bench_turn *turn, void *data)
{
	struct bench_series *series =
		&context->results.throughput[turn->backend][turn->step];
	double rate = 0;
	int err;

	(void)data;
	if (!bench_series_open(series))
		return 0;
	err = throughput_trial(context, turn->backend,
			       context->options.thread_counts[turn->step],
			       &rate);
	return bench_record(&series, &rate, 1, err, turn->timed);
}

/**
 * bench_measure_throughput() - measurement 6
 * @context: an opened run
 *
 * Each trial runs every thread count, and at each the allocators take
 * turns.
 *
 * Return: 0, or -ENOMEM when samples could not be stored.
 */
int bench_measure_throughput(struct bench_context *context)
{
	const struct bench_rounds rounds = {
		.trials = context->options.trials,
		.steps = context->options.thread_count_count,
		.cycle = throughput_turn,
	};

	return bench_take_turns(context, &rounds);
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

/**
 * struct memory_state - the blocks of measurement 7
 * @buffers: room for as many blocks as any allocator holds
 * @heap_blocks: blocks the heap holds, one file descriptor each
 */
struct memory_state {
	struct bench_buffer *buffers;
	unsigned int heap_blocks;
};

/*
 * One trial: reads the kernel's memory, allocates the one-page blocks,
 * reads it again and frees them. A failed allocation or reading stops the
 * cell (its error says why); only running out of memory for the samples
 * themselves is returned.
 */
static int memory_turn(struct bench_context *context,
		       const struct bench_turn *turn, void *data)
{
	struct memory_state *state = data;
	struct bench_results *results = &context->results;
	enum bench_backend backend = turn->backend;
	struct bench_series *const cells[] = {
		&results->memory_slab[backend],
		&results->memory_total[backend],
	};
	unsigned int blocks = backend == BENCH_HEAP ?
		state->heap_blocks : context->options.memory_blocks;
	struct bench_buffer *buffers = state->buffers;
	struct slab_cache *slabs_before = NULL, *slabs_after;
	unsigned int slab_count_before = 0, slab_count_after, held = 0;
	struct kernel_memory before, after;
	double samples[ARRAY_SIZE(cells)] = { 0 };
	char name[CMAMEM_NAME_SIZE];
	int err;

	if (!bench_series_open(&results->memory_total[backend]))
		return 0;
	if (!blocks)
		return bench_record(cells, samples, ARRAY_SIZE(cells), -EMFILE,
				    turn->timed);
	results->memory_blocks[backend] = blocks;

	err = settled_kernel_memory(&before);
	if (turn->last)
		slabs_before = read_slabinfo(&slab_count_before);
	while (!err && held < blocks) {
		snprintf(name, sizeof(name), "bench-memory-%u", held);
		err = bench_buffer_alloc(context, backend, name,
					 (uint64_t)results->page_size, 0,
					 &buffers[held]);
		if (!err)
			held++;
	}
	if (!err)
		err = read_kernel_memory(&after);
	if (!err && turn->last) {
		slabs_after = read_slabinfo(&slab_count_after);
		if (slabs_before && slabs_after)
			slab_growth(slabs_before, slab_count_before,
				    slabs_after, slab_count_after,
				    results->slab_top[backend]);
		free(slabs_after);
	}
	while (held > 0)
		bench_buffer_free(context, backend, &buffers[--held]);
	free(slabs_before);
	if (!err) {
		if (!before.folded || !after.folded)
			results->memory_inexact = true;
		samples[0] = (double)(after.slab_kib - before.slab_kib) *
			     1024 / blocks;
		samples[1] = (double)(after.slab_kib - before.slab_kib +
				      after.vmalloc_kib - before.vmalloc_kib) *
			     1024 / blocks;
	}
	return bench_record(cells, samples, ARRAY_SIZE(cells), err,
			    turn->timed);
}

/**
 * bench_measure_memory() - measurement 7
 * @context: an opened run
 *
 * Return: 0, or -ENOMEM when the blocks' bookkeeping or samples could not
 * be had.
 */
int bench_measure_memory(struct bench_context *context)
{
	const struct bench_options *options = &context->options;
	struct memory_state state;
	const struct bench_rounds rounds = {
		.trials = options->memory_trials,
		.steps = 1,
		.cycle = memory_turn,
		.data = &state,
	};
	int err;

	if (!options->memory_blocks)
		return 0;
	state.buffers = calloc(options->memory_blocks, sizeof(*state.buffers));
	if (!state.buffers)
		return -ENOMEM;
	state.heap_blocks = room_for_descriptors(options->memory_blocks);
	err = bench_take_turns(context, &rounds);
	free(state.buffers);
	return err;
}
