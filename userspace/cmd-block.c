// SPDX-License-Identifier: GPL-2.0
/*
 * cmamem alloc, attach, info and free: blocks by name, and holding them.
 *
 * A block lives only while some open file holds a handle on it (or a
 * mapping or dma-buf uses it), and each run of this command opens the pool
 * afresh. So "alloc" without --hold allocates, reports and frees; "alloc
 * --hold" keeps the block until it is told to stop, so that other commands
 * can attach to it by name meanwhile.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "tools-common.h"

/* How a command came by the block it reports on. */
enum block_origin {
	BLOCK_ALLOCATED,	/* alloc made it */
	BLOCK_ATTACHED,		/* attach found it */
	BLOCK_DESCRIBED,	/* info found it and read its BLOCK_INFO */
};

/**
 * struct block_report - what alloc, attach and info print about a block
 * @origin: how this command came by it
 * @name: the block's name
 * @pool: its pool's name
 * @handle: this command's handle on it
 * @mode: its mode (enum cmamem_mode)
 * @length: its length in bytes
 * @mmap_offset: the handle's mmap() offset in the pool's file
 * @dma_address: its DMA address, unless @withheld
 * @physical_address: its physical address, unless @withheld
 * @withheld: the kernel withheld the addresses from this process
 * @info: its BLOCK_INFO, for BLOCK_DESCRIBED only (alignment, holders,
 *	owner)
 */
struct block_report {
	enum block_origin origin;
	const char *name;
	const char *pool;
	uint32_t handle;
	uint32_t mode;
	uint64_t length;
	uint64_t mmap_offset;
	uint64_t dma_address;
	uint64_t physical_address;
	bool withheld;
	const struct cmamem_block_info *info;
};

static void json_block_report(const struct block_report *block)
{
	const struct cmamem_block_info *info = block->info;
	struct json_writer writer = { 0 };

	json_object_begin(&writer, stdout);
	json_block_identity(&writer, block->name, block->pool, block->length,
			    block->mode);
	json_number(&writer, "mmap_offset", block->mmap_offset);
	json_bool(&writer, "address_withheld", block->withheld);
	json_optional_number(&writer, "dma_address", block->dma_address,
			     !block->withheld);
	json_optional_number(&writer, "physical_address",
			     block->physical_address, !block->withheld);
	if (info) {
		json_number(&writer, "alignment", info->alignment);
		json_number(&writer, "handles", info->handles);
		json_number(&writer, "mappings", info->mappings);
		json_number(&writer, "dma_bufs", info->dma_bufs);
		json_number(&writer, "owner_uid", info->owner_uid);
	} else {
		json_bool(&writer, "allocated",
			  block->origin == BLOCK_ALLOCATED);
		json_number(&writer, "handle", block->handle);
	}
	json_object_end(&writer);
}

static void print_block_report(const struct block_report *block, bool json)
{
	static const char *const headings[] = {
		[BLOCK_ALLOCATED] = "allocated block",
		[BLOCK_ATTACHED] = "attached to block",
		[BLOCK_DESCRIBED] = "block",
	};
	const struct cmamem_block_info *info = block->info;
	char size[HUMAN_SIZE_LENGTH];

	if (json) {
		json_block_report(block);
		return;
	}
	printf("%s \"%s\"\n", headings[block->origin], block->name);
	print_field("name", "%s", block->name);
	print_field("pool", "%s", block->pool);
	if (!info)
		print_field("handle", "%u", block->handle);
	print_field("length", "%llu (%s)", (unsigned long long)block->length,
		    human_size(block->length, size, sizeof(size)));
	print_field("mode", "%s", cmamem_mode_name(block->mode));
	if (info)
		print_field("alignment", "0x%llx",
			    (unsigned long long)info->alignment);
	print_field("mmap offset", "0x%llx",
		    (unsigned long long)block->mmap_offset);
	print_address("dma address", block->dma_address, block->withheld);
	print_address("physical address", block->physical_address,
		      block->withheld);
	if (!info)
		return;
	print_field("handles", "%u (one is this command's)", info->handles);
	print_field("mappings", "%u", info->mappings);
	print_field("dma-bufs", "%u", info->dma_bufs);
	print_field("owner uid", "%u", info->owner_uid);
}

/*
 * The block_report of @reply, a struct cmamem_alloc or cmamem_attach (they
 * share these fields), for block @block_name of pool @pool_name.
 */
#define BLOCK_REPORT(reply, block_origin, block_name, pool_name)	\
	((struct block_report) {					\
		.origin = (block_origin),				\
		.name = (block_name),					\
		.pool = pool_display_name(pool_name),			\
		.handle = (reply).handle,				\
		.mode = (reply).mode,					\
		.length = (reply).length,				\
		.mmap_offset = (reply).mmap_offset,			\
		.dma_address = (reply).dma_address,			\
		.physical_address = (reply).physical_address,		\
		.withheld = (reply).out_flags & CMAMEM_ADDRESS_WITHHELD, \
	})

/*
 * Report the block alloc or attach got, hold it if asked to, drop this
 * command's handle on it and close pool file @fd. @error is the failure
 * (reported) of the call that was to get the block; then there is nothing
 * to report. Returns the exit status.
 */
static int report_hold_and_drop(const char *command, int fd, int error,
				const struct block_report *block,
				const struct common_options *common)
{
	/* Stdout carries nothing but the JSON document, when asked for. */
	FILE *messages = common->json ? stderr : stdout;
	int err, status = 0;

	if (error) {
		close(fd);
		return EXIT_RUNTIME;
	}
	print_block_report(block, common->json);
	fflush(stdout);
	if (common->hold) {
		if (block->origin == BLOCK_ALLOCATED)
			fprintf(messages,
				"holding it; other processes can attach to it: cmamem attach %s%s%s\n",
				block->name, common->pool ? " --pool " : "",
				common->pool ? common->pool : "");
		err = hold_until_told(messages);
		if (err) {
			report_error(err, "%s: waiting", command);
			status = EXIT_RUNTIME;
		}
	} else if (block->origin == BLOCK_ALLOCATED) {
		fprintf(messages,
			"freeing it now that this command exits (use --hold to keep it)\n");
	}
	err = cmamem_free(fd, block->handle);
	if (err) {
		report_error(err, "%s: freeing handle %u of \"%s\"", command,
			     block->handle, block->name);
		status = EXIT_RUNTIME;
	} else {
		fprintf(messages, "dropped this command's handle on \"%s\"\n",
			block->name);
	}
	close(fd);
	return status;
}

const char usage_alloc[] =
"usage: cmamem alloc NAME SIZE [--mode coherent|writecombine|cached]\n"
"                    [--align A] [--max-address ADDR | --address-bits N]\n"
"                    [--pool P] [--hold] [--json]\n"
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
"stdin is a pipe or the terminal (Ctrl-D, in the foreground), then frees\n"
"it: meanwhile other commands can attach to it by name (cmamem\n"
"attach/info/fill/dump NAME). As a background job ('&') it never reads or\n"
"stops on the terminal: 'kill %1' or 'kill PID' frees the block.\n"
"\n"
"SIZE, A: bytes, decimal or 0x-hex, with an optional K, M, G or T suffix\n"
"(powers of 1024): 4096, 4K, 16M, 1G.\n"
"\n"
"  -m, --mode MODE  coherent (default): uncached CPU view where DMA is not\n"
"                   coherent, no syncs needed; writecombine (or wc):\n"
"                   write-combined, for buffers the CPU fills; cached: fast\n"
"                   CPU access, needs syncs (cmamem fill/dump do them); not\n"
"                   on carveouts\n"
"  -a, --align A    DMA address alignment: a power of two, at least the\n"
"                   page size (default: one page)\n"
"      --max-address ADDR\n"
"                   the highest DMA address any byte of the block may\n"
"                   have, decimal or 0x-hex (0xffffffff for an engine with\n"
"                   32 address bits); needs CAP_SYS_RAWIO (or the module's\n"
"                   address_group). Default: no limit\n"
"      --address-bits N\n"
"                   the same for an engine with N address bits (1 to 64):\n"
"                   --address-bits 32 is --max-address 0xffffffff\n"
"  -p, --pool P     pool name (default: \"default\", /dev/cmamem)\n"
"      --hold       keep the block until told to stop (see above)\n"
"      --json       print a JSON object (withheld addresses are null);\n"
"                   the other messages go to stderr\n"
"  -h, --help       show this help\n";

/*
 * Say why pool @fd refused (EFBIG) a block of @size bytes aligned to
 * @alignment: the footprint (the size rounded up to the alignment) against
 * the pool's size, then against POOL_INFO's max_block_bytes (the smaller
 * of the module's max_block_size and the pool's size). Returns false when
 * POOL_INFO does not tell (then the size did not fit this process's
 * address space).
 */
static bool explain_too_big(int fd, const char *name, uint64_t size,
			    uint64_t alignment, const char *pool)
{
	char size_text[HUMAN_SIZE_LENGTH], limit_text[HUMAN_SIZE_LENGTH];
	char alignment_text[HUMAN_SIZE_LENGTH];
	struct cmamem_pool_info info;
	uint64_t granule, footprint;

	if (cmamem_pool_info(fd, &info))
		return false;
	granule = alignment > info.page_size ? alignment : info.page_size;
	if (!granule || size > UINT64_MAX - (granule - 1))
		return false;
	footprint = (size + granule - 1) / granule * granule;
	human_size(size, size_text, sizeof(size_text));
	human_size(alignment, alignment_text, sizeof(alignment_text));
	if (info.pool_flags & CMAMEM_POOL_TOTAL_KNOWN &&
	    alignment > info.total_bytes) {
		report_error(0, "alloc: \"%s\": an alignment of %s cannot be met in pool %s, which is %s",
			     name, alignment_text, pool,
			     human_size(info.total_bytes, limit_text,
					sizeof(limit_text)));
		return true;
	}
	if (info.pool_flags & CMAMEM_POOL_TOTAL_KNOWN &&
	    footprint > info.total_bytes) {
		report_error(0, "alloc: \"%s\": %s%s%s is larger than pool %s (%s)",
			     name, size_text, alignment ? " aligned to " : "",
			     alignment ? alignment_text : "", pool,
			     human_size(info.total_bytes, limit_text,
					sizeof(limit_text)));
		return true;
	}
	if (info.max_block_bytes && footprint > info.max_block_bytes) {
		report_error(0, "alloc: \"%s\": %s%s%s is larger than the largest block the module allows (max_block_size, %s)",
			     name, size_text, alignment ? " aligned to " : "",
			     alignment ? alignment_text : "",
			     human_size(info.max_block_bytes, limit_text,
					sizeof(limit_text)));
		return true;
	}
	return false;
}

/*
 * Say why pool @fd had no room (ENOMEM) for a block of @size bytes, where
 * the pool knows its size: how much is free and, when that would hold the
 * block, that no free run is long enough (the pool is fragmented).
 */
static bool explain_no_room(int fd, const char *name, uint64_t size,
			    const char *pool)
{
	char size_text[HUMAN_SIZE_LENGTH], free_text[HUMAN_SIZE_LENGTH];
	char total_text[HUMAN_SIZE_LENGTH], run_text[HUMAN_SIZE_LENGTH];
	struct cmamem_pool_info info;

	if (cmamem_pool_query(fd, &info, sizeof(info)) ||
	    !(info.pool_flags & CMAMEM_POOL_TOTAL_KNOWN))
		return false;
	human_size(size, size_text, sizeof(size_text));
	human_size(info.free_bytes, free_text, sizeof(free_text));
	human_size(info.total_bytes, total_text, sizeof(total_text));
	human_size(info.largest_free_bytes, run_text, sizeof(run_text));
	if (info.free_bytes >= size && info.largest_free_bytes < size)
		report_error(0, "alloc: \"%s\": no room for %s in pool %s: %s of %s free, but the largest free run is %s: the pool is fragmented",
			     name, size_text, pool, free_text, total_text,
			     run_text);
	else
		report_error(0, "alloc: \"%s\": no room for %s in pool %s: %s of %s free, largest free run %s",
			     name, size_text, pool, free_text, total_text,
			     run_text);
	return true;
}

/* What alloc's own options say. */
struct alloc_arguments {
	int mode;
	uint64_t alignment;
	uint64_t max_address;		/* 0: no limit */
	const char *limit_option;	/* which option set it, or NULL */
};

/*
 * Say why pool @fd refused a block of @size bytes under the DMA address
 * limit of @arguments (EPERM, ERANGE, EADDRNOTAVAIL, E2BIG), and what to
 * do about it.
 */
static bool explain_limit_refused(int err, const char *name, uint64_t size,
				  const struct alloc_arguments *arguments,
				  const char *pool)
{
	unsigned long long limit = arguments->max_address;
	uint64_t page_size = (uint64_t)sysconf(_SC_PAGESIZE);
	char size_text[HUMAN_SIZE_LENGTH];

	human_size(size, size_text, sizeof(size_text));
	switch (err) {
	case -EPERM:
		report_error(0, "alloc: \"%s\": %s needs CAP_SYS_RAWIO or the module's address_group, as seeing DMA addresses does (where a block may lie tells where the pool lies): run with that privilege, or leave the limit out",
			     name, arguments->limit_option);
		return true;
	case -ERANGE:
		/* The kernel rounds the block up to whole pages. */
		if (size > UINT64_MAX - (page_size - 1) ||
		    (size + page_size - 1) / page_size * page_size - 1 > limit)
			report_error(0, "alloc: \"%s\": %s cannot lie at or below DMA address %#llx: the limit is below the block's own length (in whole pages)",
				     name, size_text, limit);
		else
			report_error(0, "alloc: \"%s\": pool %s cannot hold %s at or below DMA address %#llx: it lies above the limit, or too little of it lies below (the kernel log gives its lowest address): use a pool in low memory",
				     name, pool, size_text, limit);
		return true;
	case -EADDRNOTAVAIL:
		report_error(0, "alloc: \"%s\": pool %s has no room for %s at or below DMA address %#llx, only above it: free blocks in the low part of the pool, or use a pool in low memory",
			     name, pool, size_text, limit);
		return true;
	case -E2BIG:
		report_error(0, "alloc: \"%s\": the cmamem driver is too old for %s: load a newer module, or leave the limit out",
			     name, arguments->limit_option);
		return true;
	}
	return false;
}

/* Explains an ALLOC failure the library's text would leave vague. */
static bool explain_alloc_error(int err, int fd, const char *name,
				uint64_t size,
				const struct alloc_arguments *arguments,
				const char *pool)
{
	if (err == -EFBIG)
		return explain_too_big(fd, name, size, arguments->alignment,
				       pool);
	if (err == -ENOMEM)
		return explain_no_room(fd, name, size, pool);
	if (arguments->max_address)
		return explain_limit_refused(err, name, size, arguments, pool);
	return false;
}

/*
 * The value of --max-address: decimal, or hex after 0x (not octal after a
 * 0, nor a size suffix: an address is no size); or exit 2.
 */
static uint64_t max_address_argument(const char *text)
{
	unsigned long long address;
	int base = 10;
	char *end;

	if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
		base = 16;
	if (!isxdigit((unsigned char)text[base == 16 ? 2 : 0]))
		usage_error("alloc", "bad address '%s': not a number (decimal, or hex after 0x)",
			    text);
	errno = 0;
	address = strtoull(text, &end, base);
	if (errno == ERANGE)
		usage_error("alloc", "bad address '%s': too large for 64 bits",
			    text);
	if (*end || errno)
		usage_error("alloc", "bad address '%s': not a number (decimal, or hex after 0x)",
			    text);
	if (!address)
		usage_error("alloc", "bad address '0': leave --max-address out for no limit");
	return address;
}

/* The value of --address-bits as a highest address; or exit 2. */
static uint64_t address_bits_argument(const char *text)
{
	unsigned long bits;
	char *end;

	errno = 0;
	bits = isdigit((unsigned char)text[0]) ? strtoul(text, &end, 10) : 0;
	if (!bits || errno || *end || bits > 64)
		usage_error("alloc", "bad address width '%s': a number of bits from 1 to 64",
			    text);
	return bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
}

static void alloc_option(int option, const char *argument, void *context)
{
	struct alloc_arguments *arguments = context;

	switch (option) {
	case 'm':
		arguments->mode = cmamem_parse_mode(argument);
		if (arguments->mode < 0)
			usage_error("alloc", "unknown mode '%s' (coherent, writecombine or cached)",
				    argument);
		break;
	case 'a':
		arguments->alignment = alignment_argument("alloc", argument);
		break;
	case 'L':
	case 'B':
		/* One limit: two would leave the reader guessing which. */
		if (arguments->limit_option)
			usage_error("alloc", "give --max-address or --address-bits once, not both");
		if (option == 'L') {
			arguments->limit_option = "--max-address";
			arguments->max_address = max_address_argument(argument);
		} else {
			arguments->limit_option = "--address-bits";
			arguments->max_address =
				address_bits_argument(argument);
		}
		break;
	}
}

/* --max-address and --address-bits are long only: no letter says them. */
static const struct option alloc_options[] = {
	{ "mode", required_argument, NULL, 'm' },
	{ "align", required_argument, NULL, 'a' },
	{ "max-address", required_argument, NULL, 'L' },
	{ "address-bits", required_argument, NULL, 'B' },
	{ NULL, 0, NULL, 0 },
};

static const struct subcommand_syntax alloc_syntax = {
	.name = "alloc", .usage = usage_alloc, .operands = "NAME SIZE",
	.common = COMMON_POOL | COMMON_HOLD | COMMON_JSON,
	.options = alloc_options, .short_options = "m:a:",
	.own_option = alloc_option, .number_operand = "SIZE",
};

int command_alloc(int argc, char **argv)
{
	struct alloc_arguments arguments = { .mode = CMAMEM_MODE_COHERENT };
	struct common_options common;
	struct cmamem_alloc block = { 0 };
	struct block_report report;
	const char *name;
	char size_text[HUMAN_SIZE_LENGTH];
	uint64_t size;
	int first, fd, err;

	first = parse_command_line(&alloc_syntax, argc, argv, &common,
				   &arguments);
	name = argv[first];
	check_block_name("alloc", name);
	size = size_argument("alloc", "SIZE", argv[first + 1], false);

	fd = open_pool("alloc", common.pool, O_RDWR);
	if (fd < 0)
		return EXIT_RUNTIME;
	err = cmamem_alloc_below(fd, name, size, arguments.mode,
				 arguments.alignment, 0, arguments.max_address,
				 &block);
	if (err && !explain_alloc_error(err, fd, name, size, &arguments,
					pool_display_name(common.pool)))
		report_error(err, "alloc: CMAMEM_IOCTL_ALLOC of \"%s\" (%s, %s) in pool %s",
			     name, human_size(size, size_text, sizeof(size_text)),
			     cmamem_mode_name(arguments.mode),
			     pool_display_name(common.pool));
	report = BLOCK_REPORT(block, BLOCK_ALLOCATED, name, common.pool);
	return report_hold_and_drop("alloc", fd, err, &report, &common);
}

const char usage_attach[] =
"usage: cmamem attach NAME [--owner UID] [--pool P] [--hold] [--json]\n"
"\n"
"Attach to the existing block NAME and print what this new handle sees:\n"
"mmap offset, length, mode and DMA address (or \"" WITHHELD_TEXT "\").\n"
"Names are per user: NAME is one of your own blocks, unless --owner names\n"
"the user whose block it must be (another user's needs CAP_SYS_ADMIN).\n"
"\n"
"Without --hold the handle is dropped when the command exits. With --hold\n"
"the command keeps it until SIGINT, SIGTERM or SIGHUP (or end of input on\n"
"a pipe, or on the terminal in the foreground), which keeps the block\n"
"alive even after its allocator lets go.\n"
"\n"
"  -u, --owner UID  the block's owner, a numeric uid: attach that user's\n"
"                   block NAME and no other\n"
"  -p, --pool P  pool name (default: \"default\", /dev/cmamem)\n"
"      --hold    keep the handle until told to stop\n"
"      --json    print a JSON object (withheld addresses are null); the\n"
"                other messages go to stderr\n"
"  -h, --help    show this help\n";

struct attach_arguments {
	bool owned;
	uint32_t owner;
};

static void attach_option(int option, const char *argument, void *context)
{
	struct attach_arguments *arguments = context;
	unsigned long owner;
	char *end;

	if (option != 'u')
		return;
	errno = 0;
	owner = isdigit((unsigned char)argument[0]) ?
		strtoul(argument, &end, 10) : ULONG_MAX;
	/* (uid_t)-1 means "no user" to the kernel: never an owner. */
	if (owner >= UINT32_MAX || errno || *end)
		usage_error("attach", "bad owner '%s': a numeric uid below 4294967295",
			    argument);
	arguments->owned = true;
	arguments->owner = (uint32_t)owner;
}

static const struct option attach_options[] = {
	{ "owner", required_argument, NULL, 'u' },
	{ NULL, 0, NULL, 0 },
};

static const struct subcommand_syntax attach_syntax = {
	.name = "attach", .usage = usage_attach, .operands = "NAME",
	.common = COMMON_POOL | COMMON_HOLD | COMMON_JSON,
	.options = attach_options, .short_options = "u:",
	.own_option = attach_option,
};

int command_attach(int argc, char **argv)
{
	struct attach_arguments arguments = { 0 };
	struct common_options common;
	struct cmamem_attach block = { 0 };
	struct block_report report;
	const char *name;
	int fd, err;

	name = argv[parse_command_line(&attach_syntax, argc, argv, &common,
				       &arguments)];
	check_block_name("attach", name);

	fd = open_pool("attach", common.pool, O_RDONLY);
	if (fd < 0)
		return EXIT_RUNTIME;
	err = arguments.owned ?
	      cmamem_attach_owned(fd, name, 0, arguments.owner, &block) :
	      cmamem_attach(fd, name, 0, &block);
	if (err)
		report_error(err, "attach: attaching to \"%s\" in pool %s",
			     name, pool_display_name(common.pool));
	report = BLOCK_REPORT(block, BLOCK_ATTACHED, name, common.pool);
	return report_hold_and_drop("attach", fd, err, &report, &common);
}

const char usage_info[] =
"usage: cmamem info NAME [--pool P] [--json]\n"
"\n"
"Describe block NAME: attaches to it for a moment (so the counts include\n"
"this command's own handle), prints its BLOCK_INFO and lets go.\n"
"\n"
"  -p, --pool P  pool name (default: \"default\", /dev/cmamem)\n"
"      --json    print a JSON object; withheld addresses are null\n"
"  -h, --help    show this help\n";

static const struct subcommand_syntax info_syntax = {
	.name = "info", .usage = usage_info, .operands = "NAME",
	.common = COMMON_POOL | COMMON_JSON,
};

int command_info(int argc, char **argv)
{
	struct cmamem_block_info info;
	struct common_options common;
	struct block_report report;
	int fd;

	if (open_named_block(&info_syntax, argc, argv, NULL, O_RDONLY, &common,
			     &fd, &info) < 0)
		return EXIT_RUNTIME;
	report = BLOCK_REPORT(info, BLOCK_DESCRIBED, info.name, info.pool);
	report.info = &info;
	print_block_report(&report, common.json);
	return release_block("info", fd, &info);
}

const char usage_free[] =
"usage: cmamem free NAME [--pool P] [--json]\n"
"\n"
"Attach to block NAME and free that handle. A block is not owned by any\n"
"one command: it goes when its LAST holder lets go (every handle freed or\n"
"its file closed, every mapping unmapped, every dma-buf released). This\n"
"command can only drop the handle it took itself, so it frees the block\n"
"only if nothing else holds it; to free a block kept by 'cmamem alloc\n"
"--hold', stop that command (Ctrl-C or kill).\n"
"\n"
"Exit status: 0 when the block is freed; 1 when it is NOT, because other\n"
"holders remain (the message says how many of each) or there is no\n"
"block NAME.\n"
"\n"
"  -p, --pool P  pool name (default: \"default\", /dev/cmamem)\n"
"      --json    print a JSON object: \"freed\" true or false, and the\n"
"                holders that remain\n"
"  -h, --help    show this help\n";

/**
 * struct free_report - what free did
 * @name: the block's name
 * @pool: its pool
 * @other_handles: handles of other holders when this command let go
 * @mappings: its mappings then
 * @dma_bufs: its dma-bufs then
 */
struct free_report {
	const char *name;
	const char *pool;
	uint32_t other_handles;
	uint32_t mappings;
	uint32_t dma_bufs;
};

static bool block_freed(const struct free_report *report)
{
	return !report->other_handles && !report->mappings &&
	       !report->dma_bufs;
}

static void print_free_report(const struct free_report *report, bool json)
{
	struct json_writer writer = { 0 };

	if (json) {
		json_object_begin(&writer, stdout);
		json_text(&writer, "name", report->name);
		json_text(&writer, "pool", report->pool);
		json_bool(&writer, "freed", block_freed(report));
		json_number(&writer, "other_handles", report->other_handles);
		json_number(&writer, "mappings", report->mappings);
		json_number(&writer, "dma_bufs", report->dma_bufs);
		json_object_end(&writer);
	} else if (block_freed(report)) {
		printf("freed block \"%s\": nothing else held it\n",
		       report->name);
	}
	/* Not freed is a failure, said on stderr whatever stdout carries. */
	if (!block_freed(report))
		report_error(0, "free: block \"%s\" is NOT freed: %u other handle(s), %u mapping(s) and %u dma-buf(s) still hold it (this command dropped only its own handle)",
			     report->name, report->other_handles,
			     report->mappings, report->dma_bufs);
}

static const struct subcommand_syntax free_syntax = {
	.name = "free", .usage = usage_free, .operands = "NAME",
	.common = COMMON_POOL | COMMON_JSON,
};

int command_free(int argc, char **argv)
{
	struct cmamem_block_info info;
	struct common_options common;
	struct free_report report;
	const char *name;
	int first, fd;

	first = open_named_block(&free_syntax, argc, argv, NULL, O_RDONLY,
				 &common, &fd, &info);
	if (first < 0)
		return EXIT_RUNTIME;
	name = argv[first];
	if (release_block("free", fd, &info))
		return EXIT_RUNTIME;
	report = (struct free_report) {
		.name = name,
		.pool = pool_display_name(common.pool),
		/* BLOCK_INFO counted this command's own handle. */
		.other_handles = info.handles ? info.handles - 1 : 0,
		.mappings = info.mappings,
		.dma_bufs = info.dma_bufs,
	};
	print_free_report(&report, common.json);
	return block_freed(&report) ? 0 : EXIT_RUNTIME;
}
