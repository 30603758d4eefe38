// SPDX-License-Identifier: GPL-2.0
/*
 * cma-probe: print the free CMA memory exactly, in kB.
 *
 * CmaFree does not count free pages that wait in the per-CPU page lists,
 * and how many wait there varies from run to run (Linux 6.12 keeps more
 * than 6.1), so two readings of an idle system can differ by several
 * pages. A CMA allocation empties those lists first (alloc_contig_range()
 * calls drain_all_pages()), so this allocates a small block through the
 * default pool and frees it again. Right after, the lists hold exactly the
 * block's own pages: reading CmaFree then and adding the block back gives
 * the same number on every reading of the same system, and differs by
 * exactly what leaked. (Reading while the block is held is not stable:
 * alloc_contig_range() claims whole buddy blocks and frees the excess
 * around the request back through the per-CPU lists, by an amount that
 * depends on the buddy layout.)
 *
 * CMA areas also lend free pages to movable allocations: a freed CMA page
 * may end up in a process's memory or the page cache and stay there. Given
 * the CMA areas' physical ranges, the page flags of each of their pages
 * (/proc/kpageflags) tell which are lent so (LRU, anonymous or mapped);
 * those are added back too. A page a kernel leak holds has none of those
 * flags, so it still shows, to the page.
 *
 * Usage: cma-probe [START-END...]   (hexadecimal physical ranges; the
 *	  cmamem module must be loaded). Prints free plus lent, in kB.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/cmamem.h>

/* More than one page, which the default area would not serve from CMA. */
#define PROBE_PAGES 16

/* /proc/kpageflags bits (Documentation/admin-guide/mm/pagemap.rst) */
#define KPF_LRU		5
#define KPF_MMAP	11
#define KPF_ANON	12
#define KPF_SWAPBACKED	14
#define KPF_LENT	(1ULL << KPF_LRU | 1ULL << KPF_MMAP | 1ULL << KPF_ANON | \
			 1ULL << KPF_SWAPBACKED)

/* Pages of the ranges in @argv lent to processes or the page cache, or -1. */
static long count_lent_pages(int count, char **ranges, long page_size)
{
	long lent = 0;
	int flags, i;

	flags = open("/proc/kpageflags", O_RDONLY);
	if (flags < 0)
		return -1;
	for (i = 0; i < count; i++) {
		unsigned long long start, end, pfn, bits;

		if (sscanf(ranges[i], "%llx-%llx", &start, &end) != 2 ||
		    end <= start) {
			fprintf(stderr, "cma-probe: bad range '%s'\n", ranges[i]);
			close(flags);
			return -1;
		}
		for (pfn = start / page_size; pfn < end / page_size; pfn++) {
			if (pread(flags, &bits, sizeof(bits), pfn * sizeof(bits)) !=
			    sizeof(bits)) {
				close(flags);
				return -1;
			}
			if (bits & KPF_LENT)
				lent++;
		}
	}
	close(flags);
	return lent;
}

static char meminfo[8192];

static long read_cma_free_kb(void)
{
	int fd = open("/proc/meminfo", O_RDONLY);
	ssize_t length;
	char *line;

	if (fd < 0)
		return -1;
	length = read(fd, meminfo, sizeof(meminfo) - 1);
	close(fd);
	if (length <= 0)
		return -1;
	meminfo[length] = '\0';
	line = strstr(meminfo, "\nCmaFree:");
	return line ? strtol(line + strlen("\nCmaFree:"), NULL, 10) : -1;
}

int main(int argc, char **argv)
{
	struct cmamem_alloc alloc = {
		.size = sizeof(alloc),
		.length = 0,
		.mode = CMAMEM_MODE_COHERENT,
		.name = "cma-probe",
	};
	struct cmamem_free release = { .size = sizeof(release) };
	long page_size = sysconf(_SC_PAGESIZE);
	long probe_kb, free_kb, lent_pages;
	int fd;

	probe_kb = PROBE_PAGES * (page_size / 1024);
	alloc.length = (unsigned long long)probe_kb * 1024;
	fd = open("/dev/cmamem", O_RDWR);
	if (fd < 0) {
		perror("cma-probe: /dev/cmamem");
		return 1;
	}
	if (ioctl(fd, CMAMEM_IOCTL_ALLOC, &alloc)) {
		perror("cma-probe: allocating the probe block");
		return 1;
	}
	release.handle = alloc.handle;
	if (ioctl(fd, CMAMEM_IOCTL_FREE, &release)) {
		perror("cma-probe: freeing the probe block");
		return 1;
	}
	free_kb = read_cma_free_kb();
	lent_pages = count_lent_pages(argc - 1, argv + 1, page_size);
	if (free_kb < 0) {
		fprintf(stderr, "cma-probe: no CmaFree in /proc/meminfo\n");
		return 1;
	}
	if (lent_pages < 0) {
		fprintf(stderr, "cma-probe: cannot read /proc/kpageflags\n");
		return 1;
	}
	printf("%ld\n", free_kb + probe_kb + lent_pages * (page_size / 1024));
	return 0;
}
