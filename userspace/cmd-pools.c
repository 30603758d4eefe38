// SPDX-License-Identifier: GPL-2.0
/*
 * cmamem pools and cmamem list: what pools there are, and what blocks
 * they hold (the driver's debugfs table).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "commands.h"
#include "tools-common.h"

#define DEBUGFS_ROOT "/sys/kernel/debug"
#define DEBUGFS_DIR DEBUGFS_ROOT "/cmamem"
/* From <linux/magic.h>, which not every libc's headers carry. */
#define DEBUGFS_SUPER_MAGIC 0x64626720

#define MAX_POOLS 64

/* --- pools ------------------------------------------------------------ */

/**
 * enum pool_figures - what a pool's TOTAL and FREE describe
 * @FIGURES_POOL: the pool's own region (device-tree pools)
 * @FIGURES_DERIVED: the default pool's CMA area: the kernel's CmaTotal and
 *	CmaFree less the device-tree CMA pools (the kernel tells modules
 *	nothing of the default area, /proc/meminfo tells everyone the sum)
 * @FIGURES_SYSTEM: FREE is the free CMA memory of the whole system, TOTAL
 *	unknown (the derivation was not possible)
 * @FIGURES_NONE: neither is known (no CMA: the page allocator serves)
 */
enum pool_figures {
	FIGURES_POOL,
	FIGURES_DERIVED,
	FIGURES_SYSTEM,
	FIGURES_NONE,
};

static const char *const figures_names[] = {
	[FIGURES_POOL] = "pool",
	[FIGURES_DERIVED] = "derived",
	[FIGURES_SYSTEM] = "system",
	[FIGURES_NONE] = "none",
};

/**
 * struct pool_report - what pools prints about one pool
 * @name: the pool's name
 * @device: its device path
 * @error: 0, or the negative errno that kept its POOL_INFO unread
 * @info: its POOL_INFO, when @error is 0 (for the default pool with
 *	@figures FIGURES_DERIVED, total_bytes and free_bytes as derived)
 * @figures: what @info's total_bytes and free_bytes describe
 */
struct pool_report {
	char name[CMAMEM_NAME_SIZE];
	char device[CMAMEM_PATH_SIZE];
	int error;
	struct cmamem_pool_info info;
	enum pool_figures figures;
};

static const char *pool_kind(uint32_t pool_flags)
{
	if (pool_flags & CMAMEM_POOL_CARVEOUT)
		return "carveout";
	if (pool_flags & CMAMEM_POOL_DEFAULT)
		return pool_flags & CMAMEM_POOL_CMA ? "default-cma" :
						      "default-buddy";
	if (pool_flags & CMAMEM_POOL_CMA)
		return "cma";
	return "unknown";
}

static void json_pool(struct json_writer *json,
		      const struct pool_report *pool)
{
	const struct cmamem_pool_info *info = &pool->info;
	bool known = info->pool_flags & CMAMEM_POOL_TOTAL_KNOWN;
	bool total = pool->figures <= FIGURES_DERIVED;

	json_object_begin(json, stdout);
	json_text(json, "name", pool->name);
	json_text(json, "device", pool->device);
	if (pool->error) {
		json_text(json, "error", cmamem_strerror(pool->error));
		json_object_end(json);
		return;
	}
	json_text(json, "kind", pool_kind(info->pool_flags));
	json_bool(json, "default", info->pool_flags & CMAMEM_POOL_DEFAULT);
	json_bool(json, "cma", info->pool_flags & CMAMEM_POOL_CMA);
	json_bool(json, "carveout", info->pool_flags & CMAMEM_POOL_CARVEOUT);
	json_bool(json, "cached_allowed", info->pool_flags & CMAMEM_POOL_CACHED);
	json_bool(json, "total_known", known);
	json_text(json, "figures", figures_names[pool->figures]);
	json_optional_number(json, "total_bytes", info->total_bytes, total);
	json_number(json, "used_bytes", info->used_bytes);
	json_optional_number(json, "free_bytes", info->free_bytes,
			     pool->figures != FIGURES_NONE);
	json_optional_number(json, "largest_free_bytes",
			     info->largest_free_bytes, known);
	json_number(json, "peak_bytes", info->peak_bytes);
	json_number(json, "blocks", info->blocks);
	json_number(json, "allocations", info->allocations);
	json_number(json, "failures", info->failures);
	/* 0 is "no limit" (the table's "none"). */
	json_optional_number(json, "max_block_bytes", info->max_block_bytes,
			     info->max_block_bytes);
	json_number(json, "page_size", info->page_size);
	json_object_end(json);
}

/* @bytes as text, "~" before a derived figure, "-" for an unknown one. */
static const char *figure_text(uint64_t bytes, bool known, bool derived,
			       char *buffer, size_t size)
{
	char number[HUMAN_SIZE_LENGTH];

	if (!known)
		snprintf(buffer, size, "-");
	else
		snprintf(buffer, size, "%s%s", derived ? "~" : "",
			 human_size(bytes, number, sizeof(number)));
	return buffer;
}

static void print_pool_row(const struct pool_report *pool)
{
	const struct cmamem_pool_info *info = &pool->info;
	bool derived = pool->figures == FIGURES_DERIVED;
	char total[HUMAN_SIZE_LENGTH + 1], used[HUMAN_SIZE_LENGTH];
	char free_text[HUMAN_SIZE_LENGTH + 1], peak[HUMAN_SIZE_LENGTH];
	char max_block[HUMAN_SIZE_LENGTH], page[HUMAN_SIZE_LENGTH];
	char largest[HUMAN_SIZE_LENGTH + 1];

	figure_text(info->total_bytes, pool->figures <= FIGURES_DERIVED,
		    derived, total, sizeof(total));
	figure_text(info->free_bytes, pool->figures != FIGURES_NONE, derived,
		    free_text, sizeof(free_text));
	figure_text(info->largest_free_bytes,
		    info->pool_flags & CMAMEM_POOL_TOTAL_KNOWN, false, largest,
		    sizeof(largest));
	if (info->max_block_bytes)
		human_size(info->max_block_bytes, max_block, sizeof(max_block));
	else
		snprintf(max_block, sizeof(max_block), "none");
	printf("%-24s %-13s %10s %10s %10s %10s %10s %7u %8llu %8llu %10s %6s %s\n",
	       info->name, pool_kind(info->pool_flags), total,
	       human_size(info->used_bytes, used, sizeof(used)), free_text,
	       largest, human_size(info->peak_bytes, peak, sizeof(peak)),
	       info->blocks, (unsigned long long)info->allocations,
	       (unsigned long long)info->failures, max_block,
	       human_size(info->page_size, page, sizeof(page)),
	       info->pool_flags & CMAMEM_POOL_CACHED ?
	       "coherent,writecombine,cached" : "coherent,writecombine");
}

/* The pools as a table, or as a JSON array (unreadable ones included). */
static void print_pools(const struct pool_report *pools, int count, bool json)
{
	struct json_writer writer;
	int i;

	if (json) {
		json_array_begin(&writer, stdout);
		for (i = 0; i < count; i++)
			json_pool(&writer, &pools[i]);
		json_array_end(&writer);
		return;
	}
	printf("%-24s %-13s %10s %10s %10s %10s %10s %7s %8s %8s %10s %6s %s\n",
	       "POOL", "KIND", "TOTAL", "USED", "FREE", "LARGEST", "PEAK",
	       "BLOCKS", "ALLOCS", "FAILS", "MAX-BLOCK", "PAGE", "MODES");
	for (i = 0; i < count; i++)
		if (!pools[i].error)
			print_pool_row(&pools[i]);
	/* Say plainly what the default pool's figures are. */
	for (i = 0; i < count; i++) {
		if (pools[i].error)
			continue;
		if (pools[i].figures == FIGURES_DERIVED)
			printf("%s: ~ TOTAL and FREE are the kernel's CMA (CmaTotal, CmaFree) less the device-tree CMA pools\n",
			       pools[i].name);
		else if (pools[i].figures == FIGURES_SYSTEM)
			printf("%s: FREE is all free CMA memory of the system, not what this pool can give\n",
			       pools[i].name);
	}
}

/* "CmaTotal:  16384 kB" of /proc/meminfo, in bytes. */
static bool meminfo_bytes(const char *key, uint64_t *bytes)
{
	unsigned long long kilobytes;
	char line[128];
	size_t length = strlen(key);
	bool found = false;
	FILE *meminfo;

	meminfo = fopen("/proc/meminfo", "r");
	if (!meminfo)
		return false;
	while (!found && fgets(line, sizeof(line), meminfo))
		found = !strncmp(line, key, length) && line[length] == ':' &&
			sscanf(line + length + 1, "%llu kB", &kilobytes) == 1;
	fclose(meminfo);
	if (found)
		*bytes = (uint64_t)kilobytes * 1024;
	return found;
}

/*
 * What the default pool's figures can say. The kernel tells modules
 * nothing of its default CMA area, so POOL_INFO gives the whole system's
 * free CMA memory; but when every pool was read, the area is CmaTotal and
 * CmaFree less the device-tree CMA pools (their free bytes as cmamem counts
 * them, which may include pages lent out: the estimate errs low).
 */
static void derive_default_figures(struct pool_report *pools, int count)
{
	struct pool_report *default_pool = NULL;
	uint64_t cma_total, cma_free, region_total = 0, region_free = 0;
	int i;

	for (i = 0; i < count; i++) {
		const struct cmamem_pool_info *info = &pools[i].info;

		pools[i].figures = FIGURES_POOL;
		if (pools[i].error)
			continue;
		if (info->pool_flags & CMAMEM_POOL_DEFAULT) {
			default_pool = &pools[i];
		} else if (info->pool_flags & CMAMEM_POOL_CMA) {
			region_total += info->total_bytes;
			region_free += info->free_bytes;
		}
	}
	if (!default_pool)
		return;
	if (!(default_pool->info.pool_flags & CMAMEM_POOL_CMA)) {
		default_pool->figures = FIGURES_NONE;
		return;
	}
	default_pool->figures = FIGURES_SYSTEM;
	for (i = 0; i < count; i++)
		if (pools[i].error)
			return;
	if (!meminfo_bytes("CmaTotal", &cma_total) ||
	    !meminfo_bytes("CmaFree", &cma_free) || cma_total <= region_total)
		return;
	default_pool->figures = FIGURES_DERIVED;
	default_pool->info.total_bytes = cma_total - region_total;
	cma_free = cma_free > region_free ? cma_free - region_free : 0;
	if (cma_free > default_pool->info.total_bytes)
		cma_free = default_pool->info.total_bytes;
	default_pool->info.free_bytes = cma_free;
}

const char usage_pools[] =
"usage: cmamem pools [--json]\n"
"\n"
"List the pools on this system (/dev/cmamem and /dev/cmamem-*) with their\n"
"kind and usage, from each pool's POOL_INFO.\n"
"\n"
"Kinds: default-cma (the kernel's default CMA area), default-buddy (the\n"
"default pool of a kernel without CMA: the page allocator serves it), cma\n"
"(a reusable device-tree region), carveout (a no-map device-tree region,\n"
"no cached blocks). LARGEST is the longest free run of a device-tree\n"
"pool: much less than FREE means the pool is fragmented.\n"
"\n"
"The kernel tells modules nothing of its default CMA area. When every pool\n"
"could be read, the default pool's TOTAL and FREE are marked '~': the\n"
"kernel's CmaTotal and CmaFree (/proc/meminfo) less the device-tree CMA\n"
"pools (other drivers' CMA regions, if any, count in). Otherwise its TOTAL\n"
"is '-' and FREE is the free CMA memory of the whole system, and a line\n"
"under the table says so ('-' without CMA). In JSON, \"figures\" says which\n"
"(\"pool\", \"derived\", \"system\" or \"none\") and unknown values are null.\n"
"\n"
"  --json      print a JSON array instead of a table (an unreadable pool\n"
"              has an \"error\" member instead of its figures)\n"
"  -h, --help  show this help\n";

static const struct subcommand_syntax pools_syntax = {
	.name = "pools", .usage = usage_pools,
	.common = COMMON_JSON,
};

int command_pools(int argc, char **argv)
{
	static struct pool_report pools[MAX_POOLS];
	char names[MAX_POOLS][CMAMEM_NAME_SIZE];
	struct common_options common;
	int count, i, readable = 0, status = 0;

	parse_command_line(&pools_syntax, argc, argv, &common, NULL);
	count = cmamem_pool_list(names, MAX_POOLS);
	if (count < 0) {
		report_error(count, "pools: cannot read /dev");
		return EXIT_RUNTIME;
	}
	if (count == 0) {
		report_error(0,
			     "pools: no /dev/cmamem or /dev/cmamem-* device: is the cmamem module loaded?");
		return EXIT_RUNTIME;
	}
	if (count > MAX_POOLS)
		count = MAX_POOLS;

	for (i = 0; i < count; i++) {
		struct pool_report *pool = &pools[i];
		int fd;

		memcpy(pool->name, names[i], sizeof(pool->name));
		cmamem_pool_path(names[i], pool->device, sizeof(pool->device));
		fd = cmamem_open(names[i], O_RDONLY);
		if (fd < 0) {
			explain_open_error("pools", pool->device, fd);
			pool->error = fd;
			continue;
		}
		pool->error = cmamem_pool_query(fd, &pool->info,
						sizeof(pool->info));
		close(fd);
		if (pool->error)
			report_error(pool->error, "pools: POOL_INFO of %s",
				     pool->device);
	}
	/*
	 * The errors came first, on stderr; a table of no pool at all would
	 * only hide them. JSON lists every pool, with its error.
	 */
	for (i = 0; i < count; i++) {
		if (pools[i].error)
			status = EXIT_RUNTIME;
		else
			readable++;
	}
	derive_default_figures(pools, count);
	if (readable || common.json)
		print_pools(pools, count, common.json);
	return status;
}

/* --- list (debugfs) --------------------------------------------------- */

/* One block line of debugfs .../blocks, in the driver's field order. */
struct debugfs_block {
	char pool[CMAMEM_NAME_SIZE];
	char name[CMAMEM_NAME_SIZE];
	unsigned long long length;
	char mode[16];
	unsigned long handles;
	unsigned long mappings;
	unsigned long dma_bufs;
	unsigned long uid;
	long pid;
	char comm[64];
	unsigned long long dma_address;
};

/**
 * struct block_list - the blocks list found
 * @blocks: the blocks, in the pools' order
 * @count: how many
 * @capacity: how many @blocks has room for
 */
struct block_list {
	struct debugfs_block *blocks;
	size_t count;
	size_t capacity;
};

/*
 * Parse "name length mode handles mappings dma_bufs uid pid comm dma", the
 * numbers decimal but for the 0x-hex DMA address.
 */
static bool parse_debugfs_line(const char *line, struct debugfs_block *block)
{
	int end = 0;

	/* The widths are the fields' sizes less one (the NUL). */
	if (sscanf(line, "%31s %llu %15s %lu %lu %lu %lu %ld %63s 0x%llx %n",
		   block->name, &block->length, block->mode, &block->handles,
		   &block->mappings, &block->dma_bufs, &block->uid, &block->pid,
		   block->comm, &block->dma_address, &end) != 10)
		return false;
	/* Every field read, each within its width, and nothing after. */
	return end > 0 && line[end] == '\0' && !isspace((unsigned char)line[0]);
}

/*
 * Explain why debugfs' cmamem directory (or @path in it) cannot be read:
 * not root, debugfs not mounted, or no module/pool.
 */
static void explain_debugfs_error(int error, const char *path)
{
	struct statfs filesystem;

	if (error == -EACCES || error == -EPERM) {
		report_error(0,
			     "list: cannot read %s: the block table is in debugfs, which only root can read (try sudo)",
			     path);
		return;
	}
	if (error == -ENOENT) {
		if (statfs(DEBUGFS_ROOT, &filesystem) != 0) {
			if (errno == EACCES || errno == EPERM)
				report_error(0,
					     "list: cannot reach %s: debugfs is root-only (try sudo)",
					     DEBUGFS_ROOT);
			else
				report_error(-errno, "list: %s", DEBUGFS_ROOT);
		} else if ((unsigned long)filesystem.f_type !=
			   DEBUGFS_SUPER_MAGIC) {
			report_error(0,
				     "list: debugfs is not mounted on %s (mount -t debugfs none %s)",
				     DEBUGFS_ROOT, DEBUGFS_ROOT);
		} else if (strcmp(path, DEBUGFS_DIR) == 0) {
			report_error(0, "list: no %s: is the cmamem module loaded?",
				     DEBUGFS_DIR);
		} else {
			report_error(0, "list: no %s: no such pool", path);
		}
		return;
	}
	report_error(error, "list: %s", path);
}

static struct debugfs_block *new_block(struct block_list *list)
{
	if (list->count == list->capacity) {
		size_t capacity = list->capacity ? 2 * list->capacity : 16;
		struct debugfs_block *blocks;

		blocks = realloc(list->blocks, capacity * sizeof(*blocks));
		if (!blocks)
			return NULL;
		list->blocks = blocks;
		list->capacity = capacity;
	}
	return &list->blocks[list->count];
}

/* Add the blocks of pool @pool to @list; errors are reported. */
static int read_pool_blocks(const char pool[CMAMEM_NAME_SIZE],
			    struct block_list *list)
{
	char path[4096];
	char line[512];
	unsigned int line_number = 0;
	int status = 0;
	FILE *table;

	snprintf(path, sizeof(path), "%s/%s/blocks", DEBUGFS_DIR, pool);
	table = fopen(path, "re");
	if (!table) {
		int err = -errno;

		if (err == -ENOENT) {
			char directory[4096];

			snprintf(directory, sizeof(directory), "%s/%s",
				 DEBUGFS_DIR, pool);
			explain_debugfs_error(err, directory);
		} else {
			explain_debugfs_error(err, path);
		}
		return EXIT_RUNTIME;
	}
	while (fgets(line, sizeof(line), table)) {
		struct debugfs_block *block;

		line_number++;
		if (line_number == 1)
			continue;	/* the header */
		block = new_block(list);
		if (!block) {
			report_error(-ENOMEM, "list: reading %s", path);
			status = EXIT_RUNTIME;
			break;
		}
		if (!parse_debugfs_line(line, block)) {
			report_error(0,
				     "list: %s line %u is not in the expected format (name length mode handles mappings dma_bufs uid pid comm dma_address)",
				     path, line_number);
			status = EXIT_RUNTIME;
			continue;
		}
		memcpy(block->pool, pool, sizeof(block->pool));
		list->count++;
	}
	if (ferror(table)) {
		report_error(-EIO, "list: reading %s", path);
		status = EXIT_RUNTIME;
	}
	fclose(table);
	return status;
}

static void json_block(struct json_writer *json,
		       const struct debugfs_block *block)
{
	json_object_begin(json, stdout);
	json_text(json, "pool", block->pool);
	/* "-": no handle left, kept alive by a mapping or dma-buf. */
	json_optional_text(json, "name",
			   strcmp(block->name, "-") ? block->name : NULL);
	json_number(json, "length", block->length);
	json_text(json, "mode", block->mode);
	json_number(json, "handles", block->handles);
	json_number(json, "mappings", block->mappings);
	json_number(json, "dma_bufs", block->dma_bufs);
	json_number(json, "owner_uid", block->uid);
	json_signed(json, "pid", block->pid);
	json_text(json, "comm", block->comm);
	json_number(json, "dma_address", block->dma_address);
	json_object_end(json);
}

/* The blocks as a table, or as a JSON array. */
static void print_block_list(const struct block_list *list, bool json)
{
	struct json_writer writer;
	char size[HUMAN_SIZE_LENGTH];
	size_t i;

	if (json) {
		json_array_begin(&writer, stdout);
		for (i = 0; i < list->count; i++)
			json_block(&writer, &list->blocks[i]);
		json_array_end(&writer);
		return;
	}
	printf("%-12s %-31s %10s %-12s %7s %8s %8s %6s %7s %-16s %s\n",
	       "POOL", "NAME", "LENGTH", "MODE", "HANDLES", "MAPPINGS",
	       "DMA-BUFS", "UID", "PID", "COMM", "DMA-ADDRESS");
	for (i = 0; i < list->count; i++) {
		const struct debugfs_block *block = &list->blocks[i];

		printf("%-12s %-31s %10s %-12s %7lu %8lu %8lu %6lu %7ld %-16s 0x%llx\n",
		       block->pool, block->name,
		       human_size(block->length, size, sizeof(size)),
		       block->mode, block->handles, block->mappings,
		       block->dma_bufs, block->uid, block->pid, block->comm,
		       block->dma_address);
	}
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The pools debugfs has a directory for, sorted; -1 when unreadable. */
static int debugfs_pools(char (*pools)[CMAMEM_NAME_SIZE])
{
	struct dirent *entry;
	DIR *directory = opendir(DEBUGFS_DIR);
	int count = 0;

	if (!directory) {
		explain_debugfs_error(-errno, DEBUGFS_DIR);
		return -1;
	}
	while ((entry = readdir(directory)) && count < MAX_POOLS) {
		/* One directory per pool; skip anything else. */
		if (entry->d_name[0] == '.' ||
		    (entry->d_type != DT_DIR && entry->d_type != DT_UNKNOWN) ||
		    strlen(entry->d_name) >= CMAMEM_NAME_SIZE)
			continue;
		snprintf(pools[count++], CMAMEM_NAME_SIZE, "%s", entry->d_name);
	}
	closedir(directory);
	qsort(pools, count, CMAMEM_NAME_SIZE, compare_strings);
	return count;
}

const char usage_list[] =
"usage: cmamem list [--pool P] [--json]\n"
"\n"
"List every live block of every pool (or of pool P) from the driver's\n"
"debugfs table, " DEBUGFS_DIR "/<pool>/blocks: name, length, mode,\n"
"handles, mappings, dma-bufs, owner uid, pid and command of the allocator,\n"
"DMA address. Needs root, with debugfs mounted on " DEBUGFS_ROOT ".\n"
"A block whose name is shown as '-' has no handle left and is kept alive\n"
"by a mapping or dma-buf.\n"
"\n"
"  -p, --pool P  only this pool\n"
"      --json    print a JSON array of blocks (an unnamed block's name is\n"
"                null)\n"
"  -h, --help    show this help\n";

static const struct subcommand_syntax list_syntax = {
	.name = "list", .usage = usage_list,
	.common = COMMON_POOL | COMMON_JSON,
};

int command_list(int argc, char **argv)
{
	char pools[MAX_POOLS][CMAMEM_NAME_SIZE];
	struct block_list list = { 0 };
	struct common_options common;
	const char *pool;
	int count, i, status = 0;

	parse_command_line(&list_syntax, argc, argv, &common, NULL);
	pool = common.pool;
	if (pool && (!pool[0] || strchr(pool, '/') ||
		     strlen(pool) >= CMAMEM_NAME_SIZE))
		usage_error("list", "bad pool name '%s'", pool);

	if (pool) {
		snprintf(pools[0], sizeof(pools[0]), "%s", pool);
		count = 1;
	} else {
		count = debugfs_pools(pools);
		if (count < 0)
			return EXIT_RUNTIME;
	}
	for (i = 0; i < count; i++)
		if (read_pool_blocks(pools[i], &list))
			status = EXIT_RUNTIME;
	/* Nothing but the errors when no pool could be read. */
	if (!status || list.count)
		print_block_list(&list, common.json);
	free(list.blocks);
	return status;
}
