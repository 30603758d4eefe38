/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The original cma_mem driver's interface, exactly as its users declare
 * it: the struct and ioctl numbers of /dev/cma_mem (cmamem's legacy=1),
 * nothing from the cmamem uapi header. For the tests that are written
 * the way such a program is.
 */
#ifndef CMAMEM_LEGACY_H
#define CMAMEM_LEGACY_H

#include <sys/ioctl.h>

struct mem_block {
	char name[10];
	char is_use_buffer;
	int id;
	unsigned long offset;
	unsigned long len;
	unsigned long phy_base;
	unsigned long mem_base;
	void *kernel_base;
};

#define CMEM_ALLOCATE	_IOW('m', 5, unsigned int)
#define CMEM_UNMAP	_IOW('m', 4, unsigned int)

#define LEGACY_DEVICE	"/dev/cma_mem"

/* Both layouts the driver must understand: LP64 and ILP32. */
_Static_assert(sizeof(struct mem_block) == (sizeof(long) == 8 ? 56 : 36),
	       "struct mem_block has the original driver's layout");

#endif /* CMAMEM_LEGACY_H */
