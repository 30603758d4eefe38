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
 * The drain is per zone (alloc_contig_range() drains its own zone only).
 * On a 32-bit kernel the CMA areas lie in two zones: a device-tree pool in
 * lowmem (Normal) and the default area in highmem. So every CMA pool gets
 * a probe block, one after the other: each allocation drains the blocks
 * freed before it in its zone, and each zone's per-CPU lists end up
 * holding exactly its last probe block. One block per zone is added back
 * (on a 64-bit kernel every area is in one zone: one block, as before).
 *
 * Usage: cma-probe [START-END...]   (hexadecimal physical ranges; the
 *	  cmamem module must be loaded). Prints free plus lent, in kB.
 */
#include <dirent.h>
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

/*
 * The start pfn of the zone holding @pfn, from /proc/zoneinfo (zones are
 * listed by address; the last one starting at or below @pfn whose span
 * covers it), or -1.
 */
static long long zone_of(unsigned long long pfn)
{
	unsigned long long start = 0, spanned = 0, value;
	long long zone = -1;
	char line[256];
	FILE *zoneinfo;

	zoneinfo = fopen("/proc/zoneinfo", "r");
	if (!zoneinfo)
		return -1;
	while (fgets(line, sizeof(line), zoneinfo)) {
		if (sscanf(line, " spanned %llu", &value) == 1)
			spanned = value;
		else if (sscanf(line, " start_pfn: %llu", &value) == 1) {
			start = value;
			if (start <= pfn && pfn < start + spanned)
				zone = (long long)start;
		}
	}
	fclose(zoneinfo);
	return zone;
}

/*
 * Allocates and frees a probe block of @kb kB through the pool at @path;
 * returns the zone (start pfn) its memory was in, or -1.
 */
static long long probe_pool(const char *path, long kb, long page_size)
{
	struct cmamem_alloc alloc = {
		.size = sizeof(alloc),
		.length = (unsigned long long)kb * 1024,
		.mode = CMAMEM_MODE_COHERENT,
		.name = "cma-probe",
	};
	struct cmamem_free release = { .size = sizeof(release) };
	int fd;

	fd = open(path, O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "cma-probe: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (ioctl(fd, CMAMEM_IOCTL_ALLOC, &alloc)) {
		fprintf(stderr, "cma-probe: allocating the probe block in %s: %s\n",
			path, strerror(errno));
		close(fd);
		return -1;
	}
	release.handle = alloc.handle;
	if (ioctl(fd, CMAMEM_IOCTL_FREE, &release)) {
		fprintf(stderr, "cma-probe: freeing the probe block in %s: %s\n",
			path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return zone_of(alloc.physical_address / page_size);
}

/* Whether the pool at @path is a device-tree CMA pool. */
static int is_cma_pool(const char *path)
{
	struct cmamem_pool_info info = { .size = sizeof(info) };
	int fd, cma;

	fd = open(path, O_RDWR);
	if (fd < 0)
		return 0;
	cma = !ioctl(fd, CMAMEM_IOCTL_POOL_INFO, &info) &&
	      (info.pool_flags & CMAMEM_POOL_CMA);
	close(fd);
	return cma;
}

int main(int argc, char **argv)
{
	long page_size = sysconf(_SC_PAGESIZE);
	long long zones[16], zone;
	long probe_kb, free_kb, lent_pages;
	int zone_count = 0, index, count, seen;
	struct dirent **entries;

	probe_kb = PROBE_PAGES * (page_size / 1024);
	zone = probe_pool("/dev/cmamem", probe_kb, page_size);
	if (zone < 0)
		return 1;
	zones[zone_count++] = zone;

	count = scandir("/dev", &entries, NULL, alphasort);
	for (index = 0; index < count; index++) {
		char path[300];

		snprintf(path, sizeof(path), "/dev/%s", entries[index]->d_name);
		free(entries[index]);
		if (strncmp(path, "/dev/cmamem-", 12) || !is_cma_pool(path))
			continue;
		zone = probe_pool(path, probe_kb, page_size);
		if (zone < 0)
			return 1;
		for (seen = 0; seen < zone_count && zones[seen] != zone; seen++)
			;
		if (seen == zone_count &&
		    zone_count < (int)(sizeof(zones) / sizeof(zones[0])))
			zones[zone_count++] = zone;
	}
	if (count >= 0)
		free(entries);

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
	/* Each zone's last probe block waits in its per-CPU lists. */
	printf("%ld\n", free_kb + zone_count * probe_kb +
	       lent_pages * (page_size / 1024));
	return 0;
}
