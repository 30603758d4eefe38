/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A thread that keeps turning one page read-only and back, for the tests
 * of requests whose reply must never fail once the block is mapped: they
 * write their request under @lock, then race the ioctl against the
 * flipping.
 */
#ifndef CMAMEM_FLIPPER_H
#define CMAMEM_FLIPPER_H

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/mman.h>

struct protection_flipper {
	void *page;
	size_t length;
	/* Held while flipping; the test takes it to write a request. */
	pthread_mutex_t lock;
	volatile bool stop;
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

#endif /* CMAMEM_FLIPPER_H */
