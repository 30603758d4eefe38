/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A thread that keeps turning one page read-only and back, for the tests
 * of requests whose reply must never fail once the block is mapped: they
 * write their request under @lock, then race the ioctl against the
 * flipping.
 */
#ifndef CMAMEM_FLIPPER_H
#define CMAMEM_FLIPPER_H

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>

struct protection_flipper {
	void *page;
	size_t length;
	/* Held while flipping; the test takes it to write a request. */
	pthread_mutex_t lock;
	volatile bool stop;
	pthread_t thread;
};

static inline void *flip_protection(void *argument)
{
	struct protection_flipper *flipper = argument;

	/* Under the lock, so the test never writes a read-only page itself. */
	while (!flipper->stop) {
		pthread_mutex_lock(&flipper->lock);
		mprotect(flipper->page, flipper->length, PROT_READ);
		mprotect(flipper->page, flipper->length,
			 PROT_READ | PROT_WRITE);
		pthread_mutex_unlock(&flipper->lock);
		/* Mutexes are not fair: let the test take the lock. */
		sched_yield();
	}
	return NULL;
}

/* Maps a page of @length bytes and starts flipping it: 0 or -errno. */
static inline int flipper_start(struct protection_flipper *flipper,
				size_t length)
{
	int ret;

	flipper->length = length;
	flipper->stop = false;
	pthread_mutex_init(&flipper->lock, NULL);
	flipper->page = mmap(NULL, length, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (flipper->page == MAP_FAILED)
		return -errno;
	ret = pthread_create(&flipper->thread, NULL, flip_protection, flipper);
	if (ret) {
		munmap(flipper->page, length);
		return -ret;
	}
	return 0;
}

/*
 * Copies @request (@size bytes) to the start of the page while the
 * flipper waits, the page made writable first: 0 or -errno. The ioctl
 * that reads it then races the flipping.
 */
static inline int flipper_write(struct protection_flipper *flipper,
				const void *request, size_t size)
{
	int ret = 0;

	pthread_mutex_lock(&flipper->lock);
	if (mprotect(flipper->page, flipper->length, PROT_READ | PROT_WRITE))
		ret = -errno;
	else
		memcpy(flipper->page, request, size);
	pthread_mutex_unlock(&flipper->lock);
	return ret;
}

/* Stops the flipping and unmaps the page: 0 or -errno. */
static inline int flipper_stop(struct protection_flipper *flipper)
{
	flipper->stop = true;
	pthread_join(flipper->thread, NULL);
	return munmap(flipper->page, flipper->length) ? -errno : 0;
}

#endif /* CMAMEM_FLIPPER_H */
