// SPDX-License-Identifier: GPL-2.0
/*
 * cmamem: command-line access to cmamem pools and blocks.
 *
 *	cmamem pools | alloc | attach | info | list | free | fill | dump |
 *	       export | import | bench
 *
 * Exit status: 0 on success, 1 when something failed at run time (the
 * message says what and why), 2 for a usage error.
 *
 * A block lives only while some open file holds a handle on it (or a
 * mapping or dma-buf uses it), and each run of this command opens the pool
 * afresh. So "alloc" without --hold allocates, reports and frees; "alloc
 * --hold" keeps the block until it is told to stop, so that other commands
 * can attach to it by name meanwhile.
 */
#define _GNU_SOURCE
/* mmap offsets are 64-bit even in 32-bit builds. */
#define _FILE_OFFSET_BITS 64

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/ioctl.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/dma-buf.h>

#include <cmamem/libcmamem.h>

#include "bench.h"
#include "tools-common.h"

#define DEBUGFS_ROOT "/sys/kernel/debug"
#define DEBUGFS_DIR DEBUGFS_ROOT "/cmamem"
/* From <linux/magic.h>, which not every libc's headers carry. */
#define DEBUGFS_SUPER_MAGIC 0x64626720

#define MAX_POOLS 64
#define MAX_PATTERN_BYTES 256
#define WITHHELD_TEXT "withheld (needs CAP_SYS_RAWIO)"

static const char *program = "cmamem";

/* --- messages --------------------------------------------------------- */

/* A run-time failure: "cmamem: <what>: <why>". */
static void __printf(2, 3) report_error(int error, const char *format, ...)
{
	va_list arguments;

	fprintf(stderr, "%s: ", program);
	va_start(arguments, format);
	vfprintf(stderr, format, arguments);
	va_end(arguments);
	if (error)
		fprintf(stderr, ": %s", cmamem_strerror(error));
	fputc('\n', stderr);
}

/*
 * getopt_long() already said what was wrong with an option (as "cmamem
 * COMMAND: ..."): point at the help and exit 2.
 */
static void __noreturn option_error(const char *command)
{
	fprintf(stderr, "Try '%s %s --help'.\n", program, command);
	exit(EXIT_USAGE);
}

/* A usage error in subcommand @command: says so and exits 2. */
static void __noreturn __printf(2, 3) usage_error(const char *command, const char *format, ...)
{
	va_list arguments;

	fprintf(stderr, "%s %s: ", program, command);
	va_start(arguments, format);
	vfprintf(stderr, format, arguments);
	va_end(arguments);
	fprintf(stderr, "\nTry '%s %s --help'.\n", program, command);
	exit(EXIT_USAGE);
}

/* --- parsing ---------------------------------------------------------- */

/* Parse hex bytes "a5", "0xdeadbeef", "de:ad:be:ef" into @pattern. */
static int parse_pattern(const char *text, unsigned char *pattern)
{
	int count = 0;

	if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
		text += 2;
	while (*text) {
		char digits[3];

		if (*text == ':' && count > 0) {
			text++;
			continue;
		}
		if (!isxdigit((unsigned char)text[0]) ||
		    !isxdigit((unsigned char)text[1]))
			return -EINVAL;
		if (count == MAX_PATTERN_BYTES)
			return -E2BIG;
		digits[0] = text[0];
		digits[1] = text[1];
		digits[2] = '\0';
		pattern[count++] = (unsigned char)strtoul(digits, NULL, 16);
		text += 2;
	}
	return count ? count : -EINVAL;
}

/* --- output helpers --------------------------------------------------- */

/* "16 MiB", "1.5 KiB", "100 B": for people; JSON carries exact bytes. */
static const char *human_size(uint64_t bytes, char *buffer, size_t size)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	unsigned int unit = 0;
	uint64_t divisor = 1;

	while (unit + 1 < ARRAY_SIZE(units) &&
	       bytes >= divisor * 1024) {
		divisor *= 1024;
		unit++;
	}
	if (bytes % divisor == 0)
		snprintf(buffer, size, "%llu %s",
			 (unsigned long long)(bytes / divisor), units[unit]);
	else
		snprintf(buffer, size, "%.1f %s", (double)bytes / divisor,
			 units[unit]);
	return buffer;
}

static void json_key(bool *first, const char *key)
{
	printf("%s\n    ", *first ? "" : ",");
	*first = false;
	json_string(stdout, key);
	printf(": ");
}

static void json_number(bool *first, const char *key, uint64_t value)
{
	json_key(first, key);
	printf("%llu", (unsigned long long)value);
}

static void json_text(bool *first, const char *key, const char *value)
{
	json_key(first, key);
	json_string(stdout, value);
}

static void json_bool(bool *first, const char *key, bool value)
{
	json_key(first, key);
	printf("%s", value ? "true" : "false");
}

/* An address the caller may not be allowed to see: null when withheld. */
static void json_address(bool *first, const char *key, uint64_t value,
			 bool withheld)
{
	json_key(first, key);
	if (withheld)
		printf("null");
	else
		printf("%llu", (unsigned long long)value);
}

static void __printf(2, 3) print_field(const char *key, const char *format, ...)
{
	va_list arguments;

	printf("  %-18s", key);
	va_start(arguments, format);
	vprintf(format, arguments);
	va_end(arguments);
	putchar('\n');
}

static void print_address(const char *key, uint64_t value, bool withheld)
{
	if (withheld)
		print_field(key, "%s", WITHHELD_TEXT);
	else
		print_field(key, "0x%llx", (unsigned long long)value);
}

/* --- pools ------------------------------------------------------------ */

/* A pool name that cannot name a pool is a usage error of @command. */
static void check_pool_name(const char *command, const char *pool,
			    char *path, size_t size)
{
	if (cmamem_pool_path(pool, path, size))
		usage_error(command,
			    "bad pool name '%s': up to %d characters without '/', or a device path",
			    pool, CMAMEM_NAME_SIZE - 1);
}

/*
 * Open pool @pool (NULL for the default) for @command, reporting failures
 * in words. Returns the fd or a negative errno.
 */
static int open_pool(const char *command, const char *pool, int flags)
{
	char path[4096];
	int fd;

	/* Checked before anything is allocated, so exiting here is clean. */
	check_pool_name(command, pool, path, sizeof(path));
	fd = cmamem_open(pool, flags);
	if (fd == -ENOENT)
		report_error(0,
			     "%s: no pool \"%s\": %s does not exist (is the cmamem module loaded%s?)",
			     command, pool ? pool : CMAMEM_DEFAULT_POOL, path,
			     pool && strcmp(pool, CMAMEM_DEFAULT_POOL) ?
			     ", and does the device tree define this pool" : "");
	else if (fd < 0)
		report_error(fd, "%s: cannot open %s", command, path);
	return fd;
}

static const char *pool_display_name(const char *pool)
{
	return pool ? pool : CMAMEM_DEFAULT_POOL;
}

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

/*
 * A pool's free_bytes means something when the pool knows its size, or
 * when it is the default pool on a kernel with CMA (then it is the
 * system's CmaFree). Without CMA the page allocator serves the default
 * pool and free_bytes is 0: show nothing rather than a misleading 0.
 */
static bool free_known(uint32_t pool_flags)
{
	return pool_flags & (CMAMEM_POOL_TOTAL_KNOWN | CMAMEM_POOL_CMA);
}

static const char usage_pools[] =
"usage: cmamem pools [--json]\n"
"\n"
"List the pools on this system (/dev/cmamem and /dev/cmamem-*) with their\n"
"kind and usage, from each pool's POOL_INFO.\n"
"\n"
"Kinds: default-cma (the kernel's default CMA area), default-buddy (the\n"
"default pool of a kernel without CMA: the page allocator serves it), cma\n"
"(a reusable device-tree region), carveout (a no-map device-tree region,\n"
"no cached blocks). The default pool's size is not known to modules: its\n"
"TOTAL shows '-' and FREE is the free CMA memory of the whole system\n"
"('-' without CMA). In JSON, unknown values are null.\n"
"\n"
"  --json      print a JSON array instead of a table\n"
"  -h, --help  show this help\n";

static int command_pools(int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char names[MAX_POOLS][CMAMEM_NAME_SIZE];
	bool json = false, first_pool = true;
	int count, i, option, status = 0;

	while ((option = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (option) {
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(usage_pools, stdout);
			return 0;
		default:
			option_error("pools");
		}
	}
	if (optind != argc)
		usage_error("pools", "unexpected argument '%s'", argv[optind]);

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

	if (json)
		printf("[");
	else
		printf("%-24s %-13s %10s %10s %10s %10s %7s %8s %8s %10s %6s %s\n",
		       "POOL", "KIND", "TOTAL", "USED", "FREE", "PEAK",
		       "BLOCKS", "ALLOCS", "FAILS", "MAX-BLOCK", "PAGE",
		       "MODES");
	for (i = 0; i < count; i++) {
		struct cmamem_pool_info info;
		char path[CMAMEM_PATH_SIZE];
		char total[32], used[32], free_text[32], peak[32];
		char max_block[32], page[32];
		bool first = true;
		int fd, err;

		cmamem_pool_path(names[i], path, sizeof(path));
		fd = cmamem_open(names[i], O_RDONLY);
		err = fd < 0 ? fd : cmamem_pool_info(fd, &info);
		if (fd >= 0)
			close(fd);
		if (err) {
			report_error(err, "pools: %s", path);
			status = EXIT_RUNTIME;
			if (json) {
				printf("%s\n  {", first_pool ? "" : ",");
				first_pool = false;
				json_text(&first, "name", names[i]);
				json_text(&first, "device", path);
				json_text(&first, "error", cmamem_strerror(err));
				printf("\n  }");
			}
			continue;
		}
		if (json) {
			bool known = info.pool_flags & CMAMEM_POOL_TOTAL_KNOWN;

			printf("%s\n  {", first_pool ? "" : ",");
			first_pool = false;
			json_text(&first, "name", info.name);
			json_text(&first, "device", path);
			json_text(&first, "kind", pool_kind(info.pool_flags));
			json_bool(&first, "default",
				  info.pool_flags & CMAMEM_POOL_DEFAULT);
			json_bool(&first, "cma", info.pool_flags & CMAMEM_POOL_CMA);
			json_bool(&first, "carveout",
				  info.pool_flags & CMAMEM_POOL_CARVEOUT);
			json_bool(&first, "cached_allowed",
				  info.pool_flags & CMAMEM_POOL_CACHED);
			json_bool(&first, "total_known", known);
			json_key(&first, "total_bytes");
			if (known)
				printf("%llu", (unsigned long long)info.total_bytes);
			else
				printf("null");
			json_number(&first, "used_bytes", info.used_bytes);
			json_key(&first, "free_bytes");
			if (free_known(info.pool_flags))
				printf("%llu", (unsigned long long)info.free_bytes);
			else
				printf("null");
			json_number(&first, "peak_bytes", info.peak_bytes);
			json_number(&first, "blocks", info.blocks);
			json_number(&first, "allocations", info.allocations);
			json_number(&first, "failures", info.failures);
			json_number(&first, "max_block_bytes",
				    info.max_block_bytes);
			json_number(&first, "page_size", info.page_size);
			printf("\n  }");
			continue;
		}
		if (info.pool_flags & CMAMEM_POOL_TOTAL_KNOWN)
			human_size(info.total_bytes, total, sizeof(total));
		else
			snprintf(total, sizeof(total), "-");
		if (free_known(info.pool_flags))
			human_size(info.free_bytes, free_text,
				   sizeof(free_text));
		else
			snprintf(free_text, sizeof(free_text), "-");
		if (info.max_block_bytes)
			human_size(info.max_block_bytes, max_block,
				   sizeof(max_block));
		else
			snprintf(max_block, sizeof(max_block), "none");
		printf("%-24s %-13s %10s %10s %10s %10s %7u %8llu %8llu %10s %6s %s\n",
		       info.name, pool_kind(info.pool_flags), total,
		       human_size(info.used_bytes, used, sizeof(used)),
		       free_text,
		       human_size(info.peak_bytes, peak, sizeof(peak)),
		       info.blocks, (unsigned long long)info.allocations,
		       (unsigned long long)info.failures, max_block,
		       human_size(info.page_size, page, sizeof(page)),
		       info.pool_flags & CMAMEM_POOL_CACHED ?
		       "coherent,wc,cached" : "coherent,wc");
	}
	if (json)
		printf("\n]\n");
	return status;
}

/* --- blocks: alloc, attach, info, free -------------------------------- */

/* What alloc and attach print about the block they got. */
struct block_report {
	const char *name;
	const char *pool;
	uint32_t handle;
	uint32_t mode;
	uint64_t length;
	uint64_t mmap_offset;
	uint64_t dma_address;
	uint64_t physical_address;
	bool withheld;
};

static void print_block_report(const struct block_report *block)
{
	char size[32];

	print_field("name", "%s", block->name);
	print_field("pool", "%s", block->pool);
	print_field("handle", "%u", block->handle);
	print_field("length", "%llu (%s)", (unsigned long long)block->length,
		    human_size(block->length, size, sizeof(size)));
	print_field("mode", "%s", cmamem_mode_name(block->mode));
	print_field("mmap offset", "0x%llx",
		    (unsigned long long)block->mmap_offset);
	print_address("dma address", block->dma_address, block->withheld);
	print_address("physical address", block->physical_address,
		      block->withheld);
}

/*
 * Set by the signal handler, read by the waiting loop: volatile
 * sig_atomic_t is the type C guarantees for exactly this.
 */
static volatile sig_atomic_t stop_signal;

static void note_stop_signal(int signal_number)
{
	stop_signal = signal_number;
}

/*
 * Wait until SIGINT, SIGTERM or SIGHUP, or end of input when stdin is a
 * terminal or a pipe. Stdin that is /dev/null or a file (as for a
 * background job of a script) would end at once, so it is not watched:
 * then only a signal ends the wait. SIGINT is caught even when inherited as
 * ignored (as shells do for background jobs), so that "kill -INT" works as
 * documented; SIGHUP inherited as ignored (nohup) stays ignored. What it
 * says about the wait goes to @messages (stderr when stdout carries JSON).
 */
static int hold_until_told(FILE *messages)
{
	static const int stop_signals[] = { SIGINT, SIGTERM, SIGHUP };
	sigset_t blocked, wait_mask;
	struct stat input;
	bool watch_input;
	unsigned int i;
	int err = 0;

	sigemptyset(&blocked);
	for (i = 0; i < ARRAY_SIZE(stop_signals); i++)
		sigaddset(&blocked, stop_signals[i]);
	/* Blocked except inside ppoll(), so no signal slips in between. */
	if (sigprocmask(SIG_BLOCK, &blocked, &wait_mask) != 0)
		return -errno;
	for (i = 0; i < ARRAY_SIZE(stop_signals); i++) {
		struct sigaction action, previous;

		if (stop_signals[i] == SIGHUP &&
		    sigaction(SIGHUP, NULL, &previous) == 0 &&
		    previous.sa_handler == SIG_IGN)
			continue;
		memset(&action, 0, sizeof(action));
		action.sa_handler = note_stop_signal;
		sigemptyset(&action.sa_mask);
		sigaction(stop_signals[i], &action, NULL);
		sigdelset(&wait_mask, stop_signals[i]);
	}

	watch_input = fstat(STDIN_FILENO, &input) == 0 &&
		      (isatty(STDIN_FILENO) || S_ISFIFO(input.st_mode) ||
		       S_ISSOCK(input.st_mode));
	if (watch_input)
		fprintf(messages,
			"waiting for Ctrl-C, SIGTERM, SIGHUP or end of input (pid %ld)\n",
			(long)getpid());
	else
		fprintf(messages,
			"waiting for SIGINT, SIGTERM or SIGHUP (pid %ld)\n",
			(long)getpid());
	fflush(messages);

	while (!stop_signal) {
		struct pollfd input_poll = { .fd = STDIN_FILENO, .events = POLLIN };
		int ready = ppoll(watch_input ? &input_poll : NULL,
				  watch_input ? 1 : 0, NULL, &wait_mask);

		if (ready < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (ready > 0) {
			char discard[256];
			ssize_t got = read(STDIN_FILENO, discard,
					   sizeof(discard));

			if (got == 0)
				break;
			if (got < 0 && errno != EINTR && errno != EAGAIN) {
				/* Unreadable input cannot tell us to stop. */
				watch_input = false;
			}
			if (input_poll.revents & (POLLHUP | POLLERR) &&
			    got <= 0)
				break;
		}
	}
	sigprocmask(SIG_UNBLOCK, &blocked, NULL);
	if (stop_signal)
		fprintf(messages, "got %s\n", strsignal(stop_signal));
	return err;
}

static const char usage_alloc[] =
"usage: cmamem alloc NAME SIZE [--mode coherent|wc|cached] [--align A]\n"
"                    [--pool P] [--hold]\n"
"\n"
"Allocate a physically contiguous block called NAME of SIZE bytes (rounded\n"
"up to whole pages) and print its handle, mmap offset and DMA address.\n"
"The DMA and physical addresses are shown only to CAP_SYS_RAWIO (or the\n"
"module's address_group); others see \"" WITHHELD_TEXT "\".\n"
"\n"
"A block lives only while some process holds it. Without --hold the block\n"
"is freed again when this command exits, which makes alloc a test of\n"
"whether the pool can serve the request. With --hold the command keeps\n"
"the block until SIGINT (Ctrl-C), SIGTERM or SIGHUP, or end of input when\n"
"stdin is a terminal or pipe, then frees it: meanwhile other commands can\n"
"attach to it by name (cmamem attach/info/fill/dump NAME).\n"
"\n"
"SIZE, A: bytes, decimal or 0x-hex, with an optional K, M, G or T suffix\n"
"(powers of 1024): 4096, 4K, 16M, 1G.\n"
"\n"
"  -m, --mode MODE  coherent (default): uncached CPU view where DMA is not\n"
"                   coherent, no syncs needed; wc: write-combined, for\n"
"                   buffers the CPU fills; cached: fast CPU access, needs\n"
"                   syncs (cmamem fill/dump do them); not on carveouts\n"
"  -a, --align A    DMA address alignment: a power of two, at least the\n"
"                   page size (default: one page)\n"
"  -p, --pool P     pool name (default: \"default\", /dev/cmamem)\n"
"      --hold       keep the block until told to stop (see above)\n"
"  -h, --help       show this help\n";

static int command_alloc(int argc, char **argv)
{
	static const struct option options[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "align", required_argument, NULL, 'a' },
		{ "pool", required_argument, NULL, 'p' },
		{ "hold", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int mode = CMAMEM_MODE_COHERENT;
	struct cmamem_alloc block;
	struct block_report report;
	uint64_t size, alignment = 0;
	const char *pool = NULL, *name;
	bool hold = false;
	int option, fd, err, status = 0;
	char size_text[32];

	while ((option = getopt_long(argc, argv, "m:a:p:h", options,
				     NULL)) != -1) {
		switch (option) {
		case 'm':
			mode = cmamem_parse_mode(optarg);
			if (mode < 0)
				usage_error("alloc", "unknown mode '%s' (coherent, wc or cached)",
					    optarg);
			break;
		case 'a':
			if (parse_size(optarg, &alignment) ||
			    (alignment & (alignment - 1)))
				usage_error("alloc", "alignment '%s' is not a power of two",
					    optarg);
			break;
		case 'p':
			pool = optarg;
			break;
		case 'H':
			hold = true;
			break;
		case 'h':
			fputs(usage_alloc, stdout);
			return 0;
		default:
			option_error("alloc");
		}
	}
	if (argc - optind != 2)
		usage_error("alloc", "needs NAME and SIZE");
	name = argv[optind];
	if (cmamem_check_name(name))
		usage_error("alloc",
			    "bad block name '%s': 1 to %d characters, no spaces or control characters",
			    name, CMAMEM_NAME_SIZE - 1);
	if (parse_size(argv[optind + 1], &size) || size == 0)
		usage_error("alloc", "bad SIZE '%s' (e.g. 4096, 64K, 16M)",
			    argv[optind + 1]);

	fd = open_pool("alloc", pool, O_RDWR);
	if (fd < 0)
		return EXIT_RUNTIME;
	err = cmamem_alloc(fd, name, size, mode, alignment, 0, &block);
	if (err) {
		report_error(err, "alloc: allocating \"%s\" (%s, %s) in pool %s",
			     name, human_size(size, size_text, sizeof(size_text)),
			     cmamem_mode_name(mode), pool_display_name(pool));
		close(fd);
		return EXIT_RUNTIME;
	}
	report = (struct block_report) {
		.name = name,
		.pool = pool_display_name(pool),
		.handle = block.handle,
		.mode = block.mode,
		.length = block.length,
		.mmap_offset = block.mmap_offset,
		.dma_address = block.dma_address,
		.physical_address = block.physical_address,
		.withheld = block.out_flags & CMAMEM_ADDRESS_WITHHELD,
	};
	printf("allocated block \"%s\"\n", name);
	print_block_report(&report);
	if (hold) {
		printf("holding it; from another shell: cmamem attach %s%s%s\n",
		       name, pool ? " --pool " : "", pool ? pool : "");
		err = hold_until_told(stdout);
		if (err) {
			report_error(err, "alloc: waiting");
			status = EXIT_RUNTIME;
		}
	} else {
		printf("freeing it now that this command exits (use --hold to keep it)\n");
	}
	err = cmamem_free(fd, block.handle);
	if (err) {
		report_error(err, "alloc: freeing handle %u of \"%s\"",
			     block.handle, name);
		status = EXIT_RUNTIME;
	} else {
		printf("dropped this command's handle on \"%s\"\n", name);
	}
	close(fd);
	return status;
}

static const char usage_attach[] =
"usage: cmamem attach NAME [--pool P] [--hold]\n"
"\n"
"Attach to the existing block NAME (allocated by a process of the same\n"
"user, or by anyone if you have CAP_SYS_ADMIN) and print what this new\n"
"handle sees: mmap offset, length, mode and DMA address (or\n"
"\"" WITHHELD_TEXT "\").\n"
"\n"
"Without --hold the handle is dropped when the command exits. With --hold\n"
"the command keeps it until SIGINT, SIGTERM or SIGHUP (or end of input on\n"
"a terminal or pipe), which keeps the block alive even after its\n"
"allocator lets go.\n"
"\n"
"  -p, --pool P  pool name (default: \"default\", /dev/cmamem)\n"
"      --hold    keep the handle until told to stop\n"
"  -h, --help    show this help\n";

static int command_attach(int argc, char **argv)
{
	static const struct option options[] = {
		{ "pool", required_argument, NULL, 'p' },
		{ "hold", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cmamem_attach block;
	struct block_report report;
	const char *pool = NULL, *name;
	bool hold = false;
	int option, fd, err, status = 0;

	while ((option = getopt_long(argc, argv, "p:h", options, NULL)) != -1) {
		switch (option) {
		case 'p':
			pool = optarg;
			break;
		case 'H':
			hold = true;
			break;
		case 'h':
			fputs(usage_attach, stdout);
			return 0;
		default:
			option_error("attach");
		}
	}
	if (argc - optind != 1)
		usage_error("attach", "needs exactly one NAME");
	name = argv[optind];
	if (cmamem_check_name(name))
		usage_error("attach", "bad block name '%s'", name);

	fd = open_pool("attach", pool, O_RDONLY);
	if (fd < 0)
		return EXIT_RUNTIME;
	err = cmamem_attach(fd, name, 0, &block);
	if (err) {
		report_error(err, "attach: attaching to \"%s\" in pool %s",
			     name, pool_display_name(pool));
		close(fd);
		return EXIT_RUNTIME;
	}
	report = (struct block_report) {
		.name = name,
		.pool = pool_display_name(pool),
		.handle = block.handle,
		.mode = block.mode,
		.length = block.length,
		.mmap_offset = block.mmap_offset,
		.dma_address = block.dma_address,
		.physical_address = block.physical_address,
		.withheld = block.out_flags & CMAMEM_ADDRESS_WITHHELD,
	};
	printf("attached to block \"%s\"\n", name);
	print_block_report(&report);
	if (hold) {
		err = hold_until_told(stdout);
		if (err) {
			report_error(err, "attach: waiting");
			status = EXIT_RUNTIME;
		}
	}
	err = cmamem_free(fd, block.handle);
	if (err) {
		report_error(err, "attach: freeing handle %u of \"%s\"",
			     block.handle, name);
		status = EXIT_RUNTIME;
	} else {
		printf("dropped this command's handle on \"%s\"\n", name);
	}
	close(fd);
	return status;
}

/*
 * Attach to @name in @pool for @command and read its BLOCK_INFO. On
 * success the caller owns *@fd and the handle in @info; on failure the
 * error has been reported and *@fd is closed.
 */
static int attach_and_describe(const char *command, const char *pool,
			       const char *name, int flags, int *fd,
			       struct cmamem_block_info *info)
{
	struct cmamem_attach block;
	int err;

	*fd = open_pool(command, pool, flags);
	if (*fd < 0)
		return *fd;
	err = cmamem_attach(*fd, name, 0, &block);
	if (err) {
		report_error(err, "%s: attaching to \"%s\" in pool %s", command,
			     name, pool_display_name(pool));
		close(*fd);
		return err;
	}
	err = cmamem_block_info(*fd, block.handle, info);
	if (err) {
		report_error(err, "%s: BLOCK_INFO of \"%s\"", command, name);
		close(*fd);
		return err;
	}
	return 0;
}

static const char usage_info[] =
"usage: cmamem info NAME [--pool P] [--json]\n"
"\n"
"Describe block NAME: attaches to it for a moment (so the counts include\n"
"this command's own handle), prints its BLOCK_INFO and lets go.\n"
"\n"
"  -p, --pool P  pool name (default: \"default\", /dev/cmamem)\n"
"      --json    print a JSON object; withheld addresses are null\n"
"  -h, --help    show this help\n";

static int command_info(int argc, char **argv)
{
	static const struct option options[] = {
		{ "pool", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cmamem_block_info info;
	const char *pool = NULL, *name;
	bool json = false, withheld;
	int option, fd, err, status = 0;
	char size[32];

	while ((option = getopt_long(argc, argv, "p:h", options, NULL)) != -1) {
		switch (option) {
		case 'p':
			pool = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(usage_info, stdout);
			return 0;
		default:
			option_error("info");
		}
	}
	if (argc - optind != 1)
		usage_error("info", "needs exactly one NAME");
	name = argv[optind];
	if (cmamem_check_name(name))
		usage_error("info", "bad block name '%s'", name);

	if (attach_and_describe("info", pool, name, O_RDONLY, &fd, &info))
		return EXIT_RUNTIME;
	withheld = info.out_flags & CMAMEM_ADDRESS_WITHHELD;
	if (json) {
		bool first = true;

		printf("{");
		json_text(&first, "name", info.name);
		json_text(&first, "pool", info.pool);
		json_number(&first, "length", info.length);
		json_text(&first, "mode", cmamem_mode_name(info.mode));
		json_number(&first, "alignment", info.alignment);
		json_number(&first, "mmap_offset", info.mmap_offset);
		json_bool(&first, "address_withheld", withheld);
		json_address(&first, "dma_address", info.dma_address, withheld);
		json_address(&first, "physical_address", info.physical_address,
			     withheld);
		json_number(&first, "handles", info.handles);
		json_number(&first, "mappings", info.mappings);
		json_number(&first, "dma_bufs", info.dma_bufs);
		json_number(&first, "owner_uid", info.owner_uid);
		printf("\n}\n");
	} else {
		printf("block \"%s\"\n", info.name);
		print_field("pool", "%s", info.pool);
		print_field("length", "%llu (%s)",
			    (unsigned long long)info.length,
			    human_size(info.length, size, sizeof(size)));
		print_field("mode", "%s", cmamem_mode_name(info.mode));
		print_field("alignment", "0x%llx",
			    (unsigned long long)info.alignment);
		print_address("dma address", info.dma_address, withheld);
		print_address("physical address", info.physical_address,
			      withheld);
		print_field("handles", "%u (one is this command's)",
			    info.handles);
		print_field("mappings", "%u", info.mappings);
		print_field("dma-bufs", "%u", info.dma_bufs);
		print_field("owner uid", "%u", info.owner_uid);
	}
	err = cmamem_free(fd, info.handle);
	if (err) {
		report_error(err, "info: freeing handle %u", info.handle);
		status = EXIT_RUNTIME;
	}
	close(fd);
	return status;
}

static const char usage_free[] =
"usage: cmamem free NAME [--pool P]\n"
"\n"
"Attach to block NAME and free that handle. A block is not owned by any\n"
"one command: it goes when its LAST holder lets go (every handle freed or\n"
"its file closed, every mapping unmapped, every dma-buf released). This\n"
"command can only drop the handle it took itself, so it frees the block\n"
"only if nothing else holds it; to free a block kept by 'cmamem alloc\n"
"--hold', stop that command (Ctrl-C or kill). It prints how many holders\n"
"remain, and fails if there is no block NAME.\n"
"\n"
"  -p, --pool P  pool name (default: \"default\", /dev/cmamem)\n"
"  -h, --help    show this help\n";

static int command_free(int argc, char **argv)
{
	static const struct option options[] = {
		{ "pool", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cmamem_block_info info;
	const char *pool = NULL, *name;
	int option, fd, err;

	while ((option = getopt_long(argc, argv, "p:h", options, NULL)) != -1) {
		switch (option) {
		case 'p':
			pool = optarg;
			break;
		case 'h':
			fputs(usage_free, stdout);
			return 0;
		default:
			option_error("free");
		}
	}
	if (argc - optind != 1)
		usage_error("free", "needs exactly one NAME");
	name = argv[optind];
	if (cmamem_check_name(name))
		usage_error("free", "bad block name '%s'", name);

	if (attach_and_describe("free", pool, name, O_RDONLY, &fd, &info))
		return EXIT_RUNTIME;
	err = cmamem_free(fd, info.handle);
	close(fd);
	if (err) {
		report_error(err, "free: freeing handle %u of \"%s\"",
			     info.handle, name);
		return EXIT_RUNTIME;
	}
	if (info.handles <= 1 && info.mappings == 0 && info.dma_bufs == 0) {
		printf("freed block \"%s\": nothing else held it\n", name);
	} else {
		printf("dropped this command's handle on \"%s\"; ", name);
		printf("%u other handle(s), %u mapping(s), %u dma-buf(s) still hold it\n",
		       info.handles - 1, info.mappings, info.dma_bufs);
	}
	return 0;
}

/* --- fill and dump ---------------------------------------------------- */

/*
 * Resolve --offset/--length against a block of @block_length bytes. A
 * missing length means "to the end of the block".
 */
static int resolve_range(const char *command, const char *name,
			 uint64_t block_length, uint64_t offset,
			 bool have_length, uint64_t *length)
{
	if (!have_length) {
		if (offset >= block_length) {
			report_error(0, "%s: offset %llu is past the end of \"%s\" (%llu bytes)",
				     command, (unsigned long long)offset, name,
				     (unsigned long long)block_length);
			return -EINVAL;
		}
		*length = block_length - offset;
	}
	if (*length == 0 || offset >= block_length ||
	    *length > block_length - offset) {
		report_error(0, "%s: range %llu+%llu is not inside \"%s\" (%llu bytes)",
			     command, (unsigned long long)offset,
			     (unsigned long long)*length, name,
			     (unsigned long long)block_length);
		return -EINVAL;
	}
	return 0;
}

/*
 * Map the pages of block @info that cover [@offset, @offset + @length).
 * On success *@mapping is the start of the mapping, *@mapped its length
 * and *@data points at @offset inside it.
 */
static int map_range(const char *command, int fd,
		     const struct cmamem_block_info *info, uint64_t offset,
		     uint64_t length, int prot, void **mapping,
		     uint64_t *mapped, unsigned char **data)
{
	uint64_t page_size = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t start = offset - offset % page_size;
	int err;

	*mapped = offset + length - start;
	err = cmamem_map(fd, info->mmap_offset, start, *mapped, prot, mapping);
	if (err) {
		report_error(err, "%s: mapping \"%s\" bytes %llu..%llu", command,
			     info->name, (unsigned long long)start,
			     (unsigned long long)(start + *mapped));
		return err;
	}
	*data = (unsigned char *)*mapping + (offset - start);
	return 0;
}

/* Options fill and dump share. */
struct range_options {
	const char *pool;
	uint64_t offset;
	uint64_t length;
	bool have_length;
};

static void parse_range_options(const char *command, const char *usage,
				int argc, char **argv,
				struct range_options *range)
{
	static const struct option options[] = {
		{ "pool", required_argument, NULL, 'p' },
		{ "offset", required_argument, NULL, 'o' },
		{ "length", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int option;

	memset(range, 0, sizeof(*range));
	while ((option = getopt_long(argc, argv, "p:o:l:h", options,
				     NULL)) != -1) {
		switch (option) {
		case 'p':
			range->pool = optarg;
			break;
		case 'o':
			if (parse_size(optarg, &range->offset))
				usage_error(command, "bad offset '%s'", optarg);
			break;
		case 'l':
			if (parse_size(optarg, &range->length) ||
			    range->length == 0)
				usage_error(command, "bad length '%s'", optarg);
			range->have_length = true;
			break;
		case 'h':
			fputs(usage, stdout);
			exit(0);
		default:
			option_error(command);
		}
	}
}

static const char usage_fill[] =
"usage: cmamem fill NAME PATTERN [--offset O] [--length L] [--pool P]\n"
"\n"
"Write PATTERN, repeated, over bytes O..O+L of block NAME through a CPU\n"
"mapping, then sync the range for the device (writes back CPU caches of a\n"
"cached block, drains write-combine buffers), so a device reading the\n"
"block sees the data.\n"
"\n"
"PATTERN: 1 to 256 bytes in hex: a5, 0xdeadbeef, de:ad:be:ef. The pattern\n"
"starts again at O: byte O+i gets PATTERN[i % length of PATTERN].\n"
"\n"
"  -o, --offset O  first byte (default 0); sizes as for alloc (4K, 1M)\n"
"  -l, --length L  bytes to fill (default: to the end of the block)\n"
"  -p, --pool P    pool name (default: \"default\", /dev/cmamem)\n"
"  -h, --help      show this help\n";

static int command_fill(int argc, char **argv)
{
	unsigned char pattern[MAX_PATTERN_BYTES];
	struct cmamem_block_info info;
	struct range_options range;
	int pattern_length, fd, err, status = 0;
	unsigned char *data;
	uint64_t mapped, i;
	const char *name;
	void *mapping;

	parse_range_options("fill", usage_fill, argc, argv, &range);
	if (argc - optind != 2)
		usage_error("fill", "needs NAME and PATTERN");
	name = argv[optind];
	if (cmamem_check_name(name))
		usage_error("fill", "bad block name '%s'", name);
	pattern_length = parse_pattern(argv[optind + 1], pattern);
	if (pattern_length < 0)
		usage_error("fill", "bad PATTERN '%s': 1 to %d hex bytes, e.g. a5 or de:ad:be:ef",
			    argv[optind + 1], MAX_PATTERN_BYTES);

	if (attach_and_describe("fill", range.pool, name, O_RDWR, &fd, &info))
		return EXIT_RUNTIME;
	if (resolve_range("fill", name, info.length, range.offset,
			  range.have_length, &range.length) ||
	    map_range("fill", fd, &info, range.offset, range.length,
		      PROT_READ | PROT_WRITE, &mapping, &mapped, &data)) {
		cmamem_free(fd, info.handle);
		close(fd);
		return EXIT_RUNTIME;
	}
	for (i = 0; i < range.length; i++)
		data[i] = pattern[i % (uint64_t)pattern_length];
	err = cmamem_sync(fd, info.handle, CMAMEM_SYNC_FOR_DEVICE,
			  range.offset, range.length);
	if (err) {
		report_error(err, "fill: syncing \"%s\" for the device", name);
		status = EXIT_RUNTIME;
	} else {
		printf("filled \"%s\" bytes %llu..%llu (%llu bytes, %s) with %s, ",
		       name, (unsigned long long)range.offset,
		       (unsigned long long)(range.offset + range.length),
		       (unsigned long long)range.length,
		       cmamem_mode_name(info.mode), argv[optind + 1]);
		printf("synced for device\n");
	}
	cmamem_unmap(mapping, mapped);
	cmamem_free(fd, info.handle);
	close(fd);
	return status;
}

/* One line of a hex dump: offset, 16 bytes in hex, the same as text. */
static void dump_line(uint64_t offset, const unsigned char *bytes,
		      unsigned int count)
{
	unsigned int i;

	printf("%08llx ", (unsigned long long)offset);
	for (i = 0; i < 16; i++) {
		if (i == 8)
			putchar(' ');
		if (i < count)
			printf(" %02x", bytes[i]);
		else
			printf("   ");
	}
	printf("  |");
	for (i = 0; i < count; i++)
		putchar(bytes[i] >= 0x20 && bytes[i] < 0x7f ? bytes[i] : '.');
	printf("|\n");
}

static const char usage_dump[] =
"usage: cmamem dump NAME [--offset O] [--length L] [--pool P]\n"
"\n"
"Hex dump bytes O..O+L of block NAME, after syncing the range for the CPU\n"
"(so the CPU sees what a device wrote to a cached block). Offsets are\n"
"from the start of the block; runs of identical lines are shown as '*'.\n"
"\n"
"  -o, --offset O  first byte (default 0); sizes as for alloc (4K, 1M)\n"
"  -l, --length L  bytes to show (default: to the end of the block)\n"
"  -p, --pool P    pool name (default: \"default\", /dev/cmamem)\n"
"  -h, --help      show this help\n";

static int command_dump(int argc, char **argv)
{
	struct cmamem_block_info info;
	struct range_options range;
	unsigned char previous[16];
	bool have_previous = false, skipping = false;
	unsigned char *data;
	uint64_t mapped, position;
	const char *name;
	void *mapping;
	int fd, err;

	parse_range_options("dump", usage_dump, argc, argv, &range);
	if (argc - optind != 1)
		usage_error("dump", "needs exactly one NAME");
	name = argv[optind];
	if (cmamem_check_name(name))
		usage_error("dump", "bad block name '%s'", name);

	if (attach_and_describe("dump", range.pool, name, O_RDONLY, &fd,
				&info))
		return EXIT_RUNTIME;
	if (resolve_range("dump", name, info.length, range.offset,
			  range.have_length, &range.length))
		goto fail;
	err = cmamem_sync(fd, info.handle, CMAMEM_SYNC_FOR_CPU, range.offset,
			  range.length);
	if (err) {
		report_error(err, "dump: syncing \"%s\" for the CPU", name);
		goto fail;
	}
	if (map_range("dump", fd, &info, range.offset, range.length,
		      PROT_READ, &mapping, &mapped, &data))
		goto fail;

	for (position = 0; position < range.length; position += 16) {
		uint64_t left = range.length - position;
		unsigned int count = left < 16 ? (unsigned int)left : 16;
		unsigned char line[16];

		/* Copy first: uncached memory is slow to read twice. */
		memcpy(line, data + position, count);
		if (count == 16 && have_previous &&
		    memcmp(line, previous, 16) == 0 &&
		    position + 16 < range.length) {
			if (!skipping)
				printf("*\n");
			skipping = true;
			continue;
		}
		skipping = false;
		dump_line(range.offset + position, line, count);
		memcpy(previous, line, sizeof(previous));
		have_previous = count == 16;
	}
	printf("%08llx\n", (unsigned long long)(range.offset + range.length));
	cmamem_unmap(mapping, mapped);
	cmamem_free(fd, info.handle);
	close(fd);
	return 0;

fail:
	cmamem_free(fd, info.handle);
	close(fd);
	return EXIT_RUNTIME;
}

/* --- dma-bufs: export and import -------------------------------------- */

/* The descriptor a COMMAND given to "export" finds the dma-buf on. */
#define DMABUF_COMMAND_FD 3
#define DMABUF_COMMAND_FD_TEXT "3"
/* Exit statuses of a COMMAND that could not be run, as shells give them. */
#define EXIT_CANNOT_EXECUTE 126
#define EXIT_NOT_FOUND 127

/**
 * struct dmabuf_report - what the kernel says about a dma-buf descriptor
 * @fd: the descriptor
 * @size: its size in bytes (the dma-buf's inode size)
 * @inode: its inode number, as /sys/kernel/debug/dma_buf/bufinfo shows it
 * @exporter: the exporting driver (exp_name in /proc/self/fdinfo), or ""
 * @fdinfo_read: /proc/self/fdinfo could be read, so an empty @exporter
 *	means the file is not a dma-buf
 */
struct dmabuf_report {
	int fd;
	uint64_t size;
	uint64_t inode;
	char exporter[64];
	bool fdinfo_read;
};

/* Describe descriptor @fd. Returns 0, or a negative errno (-EBADF). */
static int describe_dmabuf(int fd, struct dmabuf_report *report)
{
	char path[64], line[256];
	struct stat status;
	FILE *fdinfo;

	memset(report, 0, sizeof(*report));
	report->fd = fd;
	if (fstat(fd, &status) != 0)
		return -errno;
	report->size = (uint64_t)status.st_size;
	report->inode = (uint64_t)status.st_ino;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	fdinfo = fopen(path, "re");
	if (!fdinfo)
		return 0;
	report->fdinfo_read = true;
	while (fgets(line, sizeof(line), fdinfo)) {
		if (sscanf(line, "exp_name: %63s", report->exporter) == 1)
			break;
	}
	fclose(fdinfo);
	return 0;
}

static void print_dmabuf_report(const struct dmabuf_report *report)
{
	char size[32];

	print_field("dma-buf fd", "%d", report->fd);
	print_field("dma-buf size", "%llu (%s)",
		    (unsigned long long)report->size,
		    human_size(report->size, size, sizeof(size)));
	print_field("dma-buf inode", "%llu", (unsigned long long)report->inode);
	print_field("exporter", "%s",
		    report->exporter[0] ? report->exporter : "unknown");
}

static void json_dmabuf_report(bool *first, const struct dmabuf_report *report)
{
	json_number(first, "dmabuf_fd", (uint64_t)report->fd);
	json_number(first, "dmabuf_size", report->size);
	json_number(first, "dmabuf_inode", report->inode);
	json_key(first, "exporter");
	if (report->exporter[0])
		json_string(stdout, report->exporter);
	else
		printf("null");
}

/* DMA_BUF_IOCTL_SYNC, retried while a fence wait is interrupted. */
static int sync_dmabuf(int dmabuf, uint64_t flags)
{
	struct dma_buf_sync sync = { .flags = flags };

	while (ioctl(dmabuf, DMA_BUF_IOCTL_SYNC, &sync) != 0) {
		if (errno != EINTR && errno != EAGAIN)
			return -errno;
	}
	return 0;
}

/*
 * Compare block @info (a handle of pool @fd) with dma-buf @dmabuf, each
 * through a read-only mapping of its own and synced for the CPU first (the
 * block with CMAMEM_IOCTL_SYNC, the dma-buf with DMA_BUF_IOCTL_SYNC).
 * Returns 0 when the bytes are equal, 1 when they differ (*@difference is
 * the offset of the first differing byte), or a negative errno, reported.
 */
static int compare_dmabuf_with_block(int fd,
				     const struct cmamem_block_info *info,
				     int dmabuf, uint64_t *difference)
{
	const unsigned char *block_bytes, *dmabuf_bytes;
	void *block_mapping, *dmabuf_mapping;
	uint64_t offset, chunk;
	int err, result = 0;

	err = cmamem_sync(fd, info->handle, CMAMEM_SYNC_FOR_CPU, 0,
			  info->length);
	if (err) {
		report_error(err, "export: syncing \"%s\" for the CPU",
			     info->name);
		return err;
	}
	err = cmamem_map(fd, info->mmap_offset, 0, info->length, PROT_READ,
			 &block_mapping);
	if (err) {
		report_error(err, "export: mapping \"%s\"", info->name);
		return err;
	}
	/* A dma-buf maps at offset 0, like a pool file at a handle's offset. */
	err = cmamem_map(dmabuf, 0, 0, info->length, PROT_READ,
			 &dmabuf_mapping);
	if (err) {
		report_error(err, "export: mapping the dma-buf of \"%s\"",
			     info->name);
		goto unmap_block;
	}
	err = sync_dmabuf(dmabuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	if (err) {
		report_error(err, "export: DMA_BUF_IOCTL_SYNC (start) of the dma-buf of \"%s\"",
			     info->name);
		goto unmap_dmabuf;
	}
	block_bytes = block_mapping;
	dmabuf_bytes = dmabuf_mapping;
	for (offset = 0; offset < info->length; offset += chunk) {
		chunk = info->length - offset < 4096 ? info->length - offset :
						       4096;
		if (memcmp(block_bytes + offset, dmabuf_bytes + offset,
			   (size_t)chunk) == 0)
			continue;
		while (block_bytes[offset] == dmabuf_bytes[offset])
			offset++;
		*difference = offset;
		result = 1;
		break;
	}
	err = sync_dmabuf(dmabuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	if (err)
		report_error(err, "export: DMA_BUF_IOCTL_SYNC (end) of the dma-buf of \"%s\"",
			     info->name);
unmap_dmabuf:
	cmamem_unmap(dmabuf_mapping, info->length);
unmap_block:
	cmamem_unmap(block_mapping, info->length);
	return err ? err : result;
}

/*
 * Run @command with dma-buf @dmabuf as its descriptor DMABUF_COMMAND_FD
 * (and CMAMEM_DMABUF_FD set to that number in its environment), and wait
 * for it. Like system(), ignores SIGINT and SIGQUIT meanwhile: Ctrl-C goes
 * to the command, and this command cleans up after it. Returns the
 * command's exit status as a shell reports it (128 + N when signal N ended
 * it), or a negative errno, reported.
 */
static int run_with_dmabuf(char **command, int dmabuf)
{
	struct sigaction ignore, old_interrupt, old_quit;
	int status, err = 0;
	pid_t child;

	memset(&ignore, 0, sizeof(ignore));
	ignore.sa_handler = SIG_IGN;
	sigemptyset(&ignore.sa_mask);
	sigaction(SIGINT, &ignore, &old_interrupt);
	sigaction(SIGQUIT, &ignore, &old_quit);
	fflush(stdout);
	fflush(stderr);
	child = fork();
	if (child == 0) {
		sigaction(SIGINT, &old_interrupt, NULL);
		sigaction(SIGQUIT, &old_quit, NULL);
		/* dup2() leaves the copy without close-on-exec. */
		if (dmabuf == DMABUF_COMMAND_FD ?
		    fcntl(dmabuf, F_SETFD, 0) != 0 :
		    dup2(dmabuf, DMABUF_COMMAND_FD) < 0) {
			fprintf(stderr, "%s export: giving the dma-buf to %s: %s\n",
				program, command[0], strerror(errno));
			_exit(EXIT_CANNOT_EXECUTE);
		}
		setenv("CMAMEM_DMABUF_FD", DMABUF_COMMAND_FD_TEXT, 1);
		execvp(command[0], command);
		fprintf(stderr, "%s export: cannot run %s: %s\n", program,
			command[0], strerror(errno));
		_exit(errno == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXECUTE);
	}
	if (child < 0) {
		err = -errno;
		report_error(err, "export: starting %s", command[0]);
	} else {
		while (waitpid(child, &status, 0) < 0) {
			if (errno != EINTR) {
				err = -errno;
				report_error(err, "export: waiting for %s",
					     command[0]);
				break;
			}
		}
	}
	sigaction(SIGINT, &old_interrupt, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	if (err)
		return err;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static const char usage_export[] =
"usage: cmamem export NAME [--pool P] [--import] [--hold] [--json]\n"
"                     [-- COMMAND [ARGUMENT...]]\n"
"\n"
"Export block NAME as a dma-buf (CMAMEM_IOCTL_EXPORT), as a program does\n"
"to hand it to V4L2, DRM or a codec, and check it: print the dma-buf's\n"
"size, inode (as /sys/kernel/debug/dma_buf/bufinfo shows it) and exporter,\n"
"and compare its bytes, through a mapping of the dma-buf, with the block's\n"
"own mapping (both synced for the CPU first).\n"
"\n"
"With --import the dma-buf is also imported back into the block's pool\n"
"(CMAMEM_IOCTL_IMPORT), as a foreign buffer would be: the import's length\n"
"and DMA address must be the block's (the DMA addresses are compared only\n"
"when they are not withheld).\n"
"\n"
"A dma-buf cannot be opened by path: it lives while some process holds\n"
"it. Without --hold or a COMMAND, the dma-buf (and the import) go when\n"
"this command exits. --hold keeps them, and this command's handle on the\n"
"block, until SIGINT, SIGTERM or SIGHUP (or end of input on a terminal or\n"
"pipe). A COMMAND after '--' runs with the dma-buf open read-write on its\n"
"file descriptor " DMABUF_COMMAND_FD_TEXT " (CMAMEM_DMABUF_FD=" DMABUF_COMMAND_FD_TEXT " in its environment), for example\n"
"'cmamem export frame0 -- cmamem import --fd 3 --pool fpga'; without one\n"
"the dma-buf is read-only.\n"
"\n"
"Exit status: 1 when something failed or the two views differ; with a\n"
"COMMAND, otherwise the COMMAND's (128+N when signal N ended it, 127 when\n"
"it was not found).\n"
"\n"
"  -p, --pool P  the block's pool (default: \"default\", /dev/cmamem)\n"
"      --import  also import the dma-buf into the pool and compare\n"
"      --hold    keep the dma-buf until told to stop (not with a COMMAND)\n"
"      --json    print a JSON object; withheld addresses are null\n"
"  -h, --help    show this help\n";

static int command_export(int argc, char **argv)
{
	static const struct option options[] = {
		{ "pool", required_argument, NULL, 'p' },
		{ "import", no_argument, NULL, 'i' },
		{ "hold", no_argument, NULL, 'H' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool import = false, hold = false, json = false, withheld;
	bool contents_equal = false, addresses_agree = false, imported_ok;
	struct cmamem_import imported = { 0 };
	struct cmamem_block_info info;
	struct dmabuf_report report;
	const char *pool = NULL, *name;
	char **command = NULL;
	uint64_t difference = 0;
	int option, fd, dmabuf, err, i, import_error = 0, status = 0;
	char size[32];

	/* What follows "--" is the COMMAND, never options of ours. */
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			command = argv + i + 1;
			argv[i] = NULL;
			argc = i;
			break;
		}
	}
	while ((option = getopt_long(argc, argv, "p:h", options, NULL)) != -1) {
		switch (option) {
		case 'p':
			pool = optarg;
			break;
		case 'i':
			import = true;
			break;
		case 'H':
			hold = true;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(usage_export, stdout);
			return 0;
		default:
			option_error("export");
		}
	}
	if (argc - optind != 1)
		usage_error("export", "needs exactly one NAME (a COMMAND goes after '--')");
	name = argv[optind];
	if (cmamem_check_name(name))
		usage_error("export", "bad block name '%s'", name);
	if (command && !command[0])
		usage_error("export", "no COMMAND after '--'");
	if (command && hold)
		usage_error("export", "--hold and a COMMAND exclude each other: the COMMAND holds the dma-buf");

	/* Read-write only for a COMMAND, which may fill the buffer. */
	if (attach_and_describe("export", pool, name,
				command ? O_RDWR : O_RDONLY, &fd, &info))
		return EXIT_RUNTIME;
	withheld = info.out_flags & CMAMEM_ADDRESS_WITHHELD;
	dmabuf = cmamem_export(fd, info.handle,
			       (command ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (dmabuf < 0) {
		report_error(dmabuf, "export: exporting \"%s\" of pool %s",
			     name, pool_display_name(pool));
		status = EXIT_RUNTIME;
		goto free_block;
	}
	err = describe_dmabuf(dmabuf, &report);
	if (err) {
		report_error(err, "export: the dma-buf of \"%s\"", name);
		status = EXIT_RUNTIME;
		goto close_dmabuf;
	}
	err = compare_dmabuf_with_block(fd, &info, dmabuf, &difference);
	if (err < 0) {
		status = EXIT_RUNTIME;
		goto close_dmabuf;
	}
	contents_equal = err == 0 && report.size == info.length;
	if (import) {
		import_error = cmamem_import(fd, dmabuf, &imported);
		addresses_agree = !import_error &&
				  imported.length == info.length &&
				  (withheld ||
				   imported.dma_address == info.dma_address);
	}
	imported_ok = import && !import_error;

	if (json) {
		bool first = true;

		printf("{");
		json_text(&first, "name", info.name);
		json_text(&first, "pool", info.pool);
		json_number(&first, "length", info.length);
		json_text(&first, "mode", cmamem_mode_name(info.mode));
		json_bool(&first, "address_withheld", withheld);
		json_address(&first, "dma_address", info.dma_address, withheld);
		json_dmabuf_report(&first, &report);
		json_bool(&first, "contents_equal", contents_equal);
		json_key(&first, "first_difference");
		if (contents_equal || report.size != info.length)
			printf("null");
		else
			printf("%llu", (unsigned long long)difference);
		json_bool(&first, "imported", imported_ok);
		if (imported_ok) {
			json_number(&first, "import_handle", imported.handle);
			json_number(&first, "import_length", imported.length);
			json_address(&first, "import_dma_address",
				     imported.dma_address, withheld);
			json_bool(&first, "import_agrees", addresses_agree);
		}
		printf("\n}\n");
	} else {
		printf("exported block \"%s\" of pool %s as a dma-buf\n",
		       info.name, info.pool);
		print_field("length", "%llu (%s)",
			    (unsigned long long)info.length,
			    human_size(info.length, size, sizeof(size)));
		print_field("mode", "%s", cmamem_mode_name(info.mode));
		print_address("dma address", info.dma_address, withheld);
		print_dmabuf_report(&report);
		if (report.size != info.length)
			print_field("contents", "DIFFERENT: the dma-buf is %llu bytes, the block %llu",
				    (unsigned long long)report.size,
				    (unsigned long long)info.length);
		else if (contents_equal)
			print_field("contents", "the dma-buf's mapping equals the block's (%llu bytes)",
				    (unsigned long long)info.length);
		else
			print_field("contents", "DIFFERENT from the block's mapping from byte %llu on",
				    (unsigned long long)difference);
		if (imported_ok) {
			printf("imported the dma-buf back into pool %s\n",
			       info.pool);
			print_field("handle", "%u", imported.handle);
			print_field("length", "%llu (%s)",
				    (unsigned long long)imported.length,
				    imported.length == info.length ?
				    "the block's" : "DIFFERENT from the block's");
			if (withheld)
				print_field("dma address", "%s", WITHHELD_TEXT);
			else
				print_field("dma address", "0x%llx (%s)",
					    (unsigned long long)imported.dma_address,
					    imported.dma_address == info.dma_address ?
					    "the block's" : "DIFFERENT from the block's");
		}
	}
	fflush(stdout);
	if (!contents_equal) {
		report_error(0, "export: the dma-buf of \"%s\" does not show the block's bytes",
			     name);
		status = EXIT_RUNTIME;
	}
	if (import_error) {
		report_error(import_error, "export: importing the dma-buf of \"%s\" into pool %s",
			     name, pool_display_name(pool));
		status = EXIT_RUNTIME;
	} else if (import && !addresses_agree) {
		report_error(0, "export: the import of \"%s\" (%llu bytes at 0x%llx) is not the block (%llu bytes at 0x%llx)",
			     name, (unsigned long long)imported.length,
			     (unsigned long long)imported.dma_address,
			     (unsigned long long)info.length,
			     (unsigned long long)info.dma_address);
		status = EXIT_RUNTIME;
	}

	if (hold) {
		err = hold_until_told(json ? stderr : stdout);
		if (err) {
			report_error(err, "export: waiting");
			status = EXIT_RUNTIME;
		}
	} else if (command && !status) {
		err = run_with_dmabuf(command, dmabuf);
		status = err < 0 ? EXIT_RUNTIME : err;
	}
	if (imported_ok) {
		err = cmamem_free(fd, imported.handle);
		if (err) {
			report_error(err, "export: dropping import handle %u",
				     imported.handle);
			status = status ? status : EXIT_RUNTIME;
		}
	}
close_dmabuf:
	if (dmabuf >= 0)
		close(dmabuf);
free_block:
	cmamem_free(fd, info.handle);
	close(fd);
	return status;
}

static const char usage_import[] =
"usage: cmamem import --fd N [--pool P] [--hold] [--json]\n"
"\n"
"Import the dma-buf open on file descriptor N into pool P\n"
"(CMAMEM_IOCTL_IMPORT): attach it to the pool's device and map it there,\n"
"as for an engine that takes a DMA address, and print the dma-buf's size,\n"
"inode and exporter, and the import's handle, length and DMA address (or\n"
"\"" WITHHELD_TEXT "\").\n"
"\n"
"A dma-buf cannot be opened by path, so N must be inherited from the\n"
"process that runs this command: a program that allocates or exports the\n"
"buffer, or 'cmamem export NAME -- cmamem import --fd 3' for a block. The\n"
"kernel refuses (exit status 1) a file that is not a dma-buf, and a buffer\n"
"that the pool's device cannot reach as one contiguous run of DMA\n"
"addresses (scattered pages without an IOMMU).\n"
"\n"
"Without --hold the import is dropped when this command exits. With\n"
"--hold the command keeps it, attached and mapped for the pool's device,\n"
"until SIGINT, SIGTERM or SIGHUP (or end of input on a terminal or pipe).\n"
"\n"
"  -f, --fd N    the dma-buf's file descriptor (required)\n"
"  -p, --pool P  pool name (default: \"default\", /dev/cmamem)\n"
"      --hold    keep the import until told to stop\n"
"      --json    print a JSON object; a withheld address is null\n"
"  -h, --help    show this help\n";

static int command_import(int argc, char **argv)
{
	static const struct option options[] = {
		{ "fd", required_argument, NULL, 'f' },
		{ "pool", required_argument, NULL, 'p' },
		{ "hold", no_argument, NULL, 'H' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cmamem_import imported;
	struct dmabuf_report report;
	const char *pool = NULL;
	bool hold = false, json = false, withheld;
	int option, fd, err, dmabuf = -1, status = 0;
	char size[32], path[4096];

	while ((option = getopt_long(argc, argv, "f:p:h", options,
				     NULL)) != -1) {
		switch (option) {
		case 'f': {
			char *end;
			long number;

			errno = 0;
			number = strtol(optarg, &end, 10);
			if (!isdigit((unsigned char)optarg[0]) || *end ||
			    errno || number > INT32_MAX)
				usage_error("import", "bad file descriptor '%s': a number such as 3",
					    optarg);
			dmabuf = (int)number;
			break;
		}
		case 'p':
			pool = optarg;
			break;
		case 'H':
			hold = true;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(usage_import, stdout);
			return 0;
		default:
			option_error("import");
		}
	}
	if (optind != argc)
		usage_error("import", "unexpected argument '%s'", argv[optind]);
	if (dmabuf < 0)
		usage_error("import", "needs --fd N, the dma-buf's file descriptor");
	check_pool_name("import", pool, path, sizeof(path));

	/* Before the pool is opened, which could take the number. */
	if (describe_dmabuf(dmabuf, &report)) {
		report_error(0,
			     "import: file descriptor %d is not open: a dma-buf must be inherited, as in 'cmamem export NAME -- cmamem import --fd 3'",
			     dmabuf);
		return EXIT_RUNTIME;
	}
	fd = open_pool("import", pool, O_RDONLY);
	if (fd < 0)
		return EXIT_RUNTIME;
	err = cmamem_import(fd, dmabuf, &imported);
	if (err == -EINVAL && report.fdinfo_read && !report.exporter[0]) {
		char link_path[64], target[256];
		ssize_t length;

		snprintf(link_path, sizeof(link_path), "/proc/self/fd/%d",
			 dmabuf);
		length = readlink(link_path, target, sizeof(target) - 1);
		target[length > 0 ? length : 0] = '\0';
		report_error(0, "import: file descriptor %d is not a dma-buf (it is %s)",
			     dmabuf, target[0] ? target : "something else");
		status = EXIT_RUNTIME;
	} else if (err == -EINVAL) {
		report_error(0,
			     "import: pool %s refuses the dma-buf on file descriptor %d (%s, %llu bytes): its device cannot reach it as one contiguous run of DMA addresses",
			     pool_display_name(pool), dmabuf,
			     report.exporter[0] ? report.exporter : "unknown exporter",
			     (unsigned long long)report.size);
		status = EXIT_RUNTIME;
	} else if (err) {
		report_error(err, "import: importing the dma-buf on file descriptor %d into pool %s",
			     dmabuf, pool_display_name(pool));
		status = EXIT_RUNTIME;
	}
	if (status) {
		close(fd);
		return status;
	}

	withheld = imported.out_flags & CMAMEM_ADDRESS_WITHHELD;
	if (json) {
		bool first = true;

		printf("{");
		json_text(&first, "pool", pool_display_name(pool));
		json_dmabuf_report(&first, &report);
		json_number(&first, "handle", imported.handle);
		json_number(&first, "length", imported.length);
		json_bool(&first, "address_withheld", withheld);
		json_address(&first, "dma_address", imported.dma_address,
			     withheld);
		printf("\n}\n");
	} else {
		printf("imported the dma-buf on file descriptor %d into pool %s\n",
		       dmabuf, pool_display_name(pool));
		print_dmabuf_report(&report);
		print_field("handle", "%u", imported.handle);
		print_field("length", "%llu (%s)",
			    (unsigned long long)imported.length,
			    human_size(imported.length, size, sizeof(size)));
		print_address("dma address", imported.dma_address, withheld);
	}
	fflush(stdout);
	if (hold) {
		err = hold_until_told(json ? stderr : stdout);
		if (err) {
			report_error(err, "import: waiting");
			status = EXIT_RUNTIME;
		}
	}
	err = cmamem_free(fd, imported.handle);
	if (err) {
		report_error(err, "import: dropping import handle %u",
			     imported.handle);
		status = EXIT_RUNTIME;
	} else if (!json) {
		printf("dropped the import (handle %u)\n", imported.handle);
	}
	close(fd);
	return status;
}

/* --- list (debugfs) --------------------------------------------------- */

/* One block line of debugfs .../blocks, in the driver's field order. */
struct debugfs_block {
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

/* Parse "name length mode handles mappings dma_bufs uid pid comm dma". */
static bool parse_debugfs_line(char *line, struct debugfs_block *block)
{
	char *fields[11], *save = NULL, *end;
	int count = 0;
	char *field;

	static const char separators[] = { ' ', '\n', '\0' };

	for (field = strtok_r(line, separators, &save); field && count < 11;
	     field = strtok_r(NULL, separators, &save))
		fields[count++] = field;
	if (count != 10)
		return false;
	if (strlen(fields[0]) >= sizeof(block->name) ||
	    strlen(fields[2]) >= sizeof(block->mode) ||
	    strlen(fields[8]) >= sizeof(block->comm))
		return false;
	strcpy(block->name, fields[0]);
	strcpy(block->mode, fields[2]);
	strcpy(block->comm, fields[8]);
	errno = 0;
	block->length = strtoull(fields[1], &end, 10);
	if (*end)
		return false;
	block->handles = strtoul(fields[3], &end, 10);
	if (*end)
		return false;
	block->mappings = strtoul(fields[4], &end, 10);
	if (*end)
		return false;
	block->dma_bufs = strtoul(fields[5], &end, 10);
	if (*end)
		return false;
	block->uid = strtoul(fields[6], &end, 10);
	if (*end)
		return false;
	block->pid = strtol(fields[7], &end, 10);
	if (*end)
		return false;
	block->dma_address = strtoull(fields[9], &end, 16);
	if (*end || strncmp(fields[9], "0x", 2) != 0)
		return false;
	return errno == 0;
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

/* Print (or emit as JSON) the blocks of one pool. */
static int list_pool(const char *pool, bool json, bool *first_block)
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
		struct debugfs_block block;
		char size[32];

		line_number++;
		if (line_number == 1)
			continue;	/* the header */
		if (!parse_debugfs_line(line, &block)) {
			report_error(0,
				     "list: %s line %u is not in the expected format (name length mode handles mappings dma_bufs uid pid comm dma_address)",
				     path, line_number);
			status = EXIT_RUNTIME;
			continue;
		}
		if (json) {
			bool first = true;

			printf("%s\n  {", *first_block ? "" : ",");
			*first_block = false;
			json_text(&first, "pool", pool);
			json_key(&first, "name");
			if (strcmp(block.name, "-") == 0)
				printf("null");
			else
				json_string(stdout, block.name);
			json_number(&first, "length", block.length);
			json_text(&first, "mode", block.mode);
			json_number(&first, "handles", block.handles);
			json_number(&first, "mappings", block.mappings);
			json_number(&first, "dma_bufs", block.dma_bufs);
			json_number(&first, "uid", block.uid);
			json_key(&first, "pid");
			printf("%ld", block.pid);
			json_text(&first, "comm", block.comm);
			json_number(&first, "dma_address", block.dma_address);
			printf("\n  }");
		} else {
			printf("%-12s %-31s %10s %-12s %7lu %8lu %8lu %6lu %7ld %-16s 0x%llx\n",
			       pool, block.name,
			       human_size(block.length, size, sizeof(size)),
			       block.mode, block.handles, block.mappings,
			       block.dma_bufs, block.uid, block.pid,
			       block.comm, block.dma_address);
		}
	}
	if (ferror(table)) {
		report_error(-EIO, "list: reading %s", path);
		status = EXIT_RUNTIME;
	}
	fclose(table);
	return status;
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(a, b);
}

static const char usage_list[] =
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

static int command_list(int argc, char **argv)
{
	static const struct option options[] = {
		{ "pool", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char pools[MAX_POOLS][CMAMEM_NAME_SIZE];
	bool json = false, first_block = true;
	const char *pool = NULL;
	int option, count = 0, i, status = 0;

	while ((option = getopt_long(argc, argv, "p:h", options, NULL)) != -1) {
		switch (option) {
		case 'p':
			pool = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(usage_list, stdout);
			return 0;
		default:
			option_error("list");
		}
	}
	if (optind != argc)
		usage_error("list", "unexpected argument '%s'", argv[optind]);
	if (pool && (!pool[0] || strchr(pool, '/') ||
		     strlen(pool) >= CMAMEM_NAME_SIZE))
		usage_error("list", "bad pool name '%s'", pool);

	if (pool) {
		snprintf(pools[0], sizeof(pools[0]), "%s", pool);
		count = 1;
	} else {
		struct dirent *entry;
		DIR *directory = opendir(DEBUGFS_DIR);

		if (!directory) {
			explain_debugfs_error(-errno, DEBUGFS_DIR);
			return EXIT_RUNTIME;
		}
		while ((entry = readdir(directory)) && count < MAX_POOLS) {
			/* One directory per pool; skip anything else. */
			if (entry->d_name[0] == '.' ||
			    (entry->d_type != DT_DIR &&
			     entry->d_type != DT_UNKNOWN) ||
			    strlen(entry->d_name) >= CMAMEM_NAME_SIZE)
				continue;
			snprintf(pools[count++], CMAMEM_NAME_SIZE, "%s",
				 entry->d_name);
		}
		closedir(directory);
		qsort(pools, count, CMAMEM_NAME_SIZE, compare_strings);
	}

	if (json)
		printf("[");
	else
		printf("%-12s %-31s %10s %-12s %7s %8s %8s %6s %7s %-16s %s\n",
		       "POOL", "NAME", "LENGTH", "MODE", "HANDLES", "MAPPINGS",
		       "DMA-BUFS", "UID", "PID", "COMM", "DMA-ADDRESS");
	for (i = 0; i < count; i++)
		if (list_pool(pools[i], json, &first_block))
			status = EXIT_RUNTIME;
	if (json)
		printf("%s]\n", first_block ? "" : "\n");
	return status;
}

/* --- main ------------------------------------------------------------- */

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
	const char *usage;
};

static const struct command commands[] = {
	{ "pools", command_pools, "list pools and their usage", usage_pools },
	{ "alloc", command_alloc, "allocate a named block (--hold keeps it)",
	  usage_alloc },
	{ "attach", command_attach, "attach to a block by name", usage_attach },
	{ "info", command_info, "describe a block", usage_info },
	{ "list", command_list, "list all blocks (root, debugfs)", usage_list },
	{ "free", command_free, "drop a handle on a block", usage_free },
	{ "fill", command_fill, "write a byte pattern into a block", usage_fill },
	{ "dump", command_dump, "hex dump a block", usage_dump },
	{ "export", command_export, "export a block as a dma-buf and check it",
	  usage_export },
	{ "import", command_import, "import an inherited dma-buf into a pool",
	  usage_import },
	{ "bench", bench_command, "measure cmamem against dma-heap and malloc",
	  bench_usage },
};

static void print_usage(FILE *stream)
{
	size_t i;

	fprintf(stream,
		"usage: cmamem COMMAND [ARGUMENTS] [--help]\n"
		"\n"
		"Physically contiguous memory blocks for user-space DMA, from the\n"
		"cmamem pools /dev/cmamem (pool \"default\") and /dev/cmamem-NAME.\n"
		"\n"
		"Commands:\n");
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(stream, "  %-8s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(stream,
		"\n"
		"A block lives while some process holds a handle on it (or maps it);\n"
		"each cmamem command holds its handles only while it runs. Use\n"
		"'cmamem alloc NAME SIZE --hold' to keep a block for other commands.\n"
		"\n"
		"'cmamem COMMAND --help' describes each command. Exit status: 0 on\n"
		"success, 1 when an operation failed, 2 for a usage error.\n");
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		print_usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		if (argc > 2 && strcmp(argv[1], "help") == 0) {
			for (i = 0; i < ARRAY_SIZE(commands); i++) {
				if (strcmp(argv[2], commands[i].name) == 0) {
					fputs(commands[i].usage, stdout);
					return 0;
				}
			}
			fprintf(stderr, "%s: unknown command '%s'\n", program,
				argv[2]);
			return EXIT_USAGE;
		}
		print_usage(stdout);
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(commands); i++) {
		if (strcmp(argv[1], commands[i].name) == 0) {
			static char command_name[64];

			/* getopt's messages then start "cmamem COMMAND:". */
			snprintf(command_name, sizeof(command_name), "%s %s",
				 program, commands[i].name);
			argv[1] = command_name;
			optind = 1;
			return commands[i].run(argc - 1, argv + 1);
		}
	}
	fprintf(stderr, "%s: unknown command '%s'\n", program, argv[1]);
	print_usage(stderr);
	return EXIT_USAGE;
}
