// SPDX-License-Identifier: GPL-2.0
/*
 * cmamem fill and dump: a block's bytes through a CPU mapping, synced for
 * the device after writing and for the CPU before reading.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "commands.h"
#include "tools-common.h"

#define MAX_PATTERN_BYTES 256

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

/* The options fill and dump share. */
struct range_options {
	uint64_t offset;
	uint64_t length;
	bool have_length;
	const char *command;
};

static void range_option(int option, const char *argument, void *context)
{
	struct range_options *range = context;

	switch (option) {
	case 'o':
		range->offset = size_argument(range->command, "offset",
					      argument, true);
		break;
	case 'l':
		range->length = size_argument(range->command, "length",
					      argument, false);
		range->have_length = true;
		break;
	}
}

static const struct option range_long_options[] = {
	{ "offset", required_argument, NULL, 'o' },
	{ "length", required_argument, NULL, 'l' },
	{ NULL, 0, NULL, 0 },
};

/* The syntax of fill and dump but for name, usage and operands. */
#define RANGE_SYNTAX							\
	.common = COMMON_POOL, .options = range_long_options,		\
	.short_options = "o:l:", .own_option = range_option

const char usage_fill[] =
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

static const struct subcommand_syntax fill_syntax = {
	.name = "fill", .usage = usage_fill, .operands = "NAME PATTERN",
	RANGE_SYNTAX,
};

int command_fill(int argc, char **argv)
{
	struct range_options range = { .command = "fill" };
	unsigned char pattern[MAX_PATTERN_BYTES];
	struct cmamem_block_info info;
	struct common_options common;
	int first, pattern_length, fd, err, status = 0;
	const char *name, *pattern_text;
	unsigned char *data;
	uint64_t mapped, i;
	void *mapping;

	first = parse_command_line(&fill_syntax, argc, argv, &common, &range);
	name = argv[first];
	pattern_text = argv[first + 1];
	check_block_name("fill", name);
	pattern_length = parse_pattern(pattern_text, pattern);
	if (pattern_length < 0)
		usage_error("fill", "bad PATTERN '%s': 1 to %d hex bytes, e.g. a5 or de:ad:be:ef",
			    pattern_text, MAX_PATTERN_BYTES);

	if (attach_and_describe("fill", common.pool, name, O_RDWR, &fd, &info))
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
		printf("filled \"%s\" bytes %llu..%llu (%llu bytes, %s) with %s, synced for device\n",
		       name, (unsigned long long)range.offset,
		       (unsigned long long)(range.offset + range.length),
		       (unsigned long long)range.length,
		       cmamem_mode_name(info.mode), pattern_text);
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

const char usage_dump[] =
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

/* Hex dump @length bytes at @data, which are the block's from @offset. */
static void print_dump(const unsigned char *data, uint64_t offset,
		       uint64_t length)
{
	bool have_previous = false, skipping = false;
	unsigned char previous[16];
	uint64_t position;

	for (position = 0; position < length; position += 16) {
		uint64_t left = length - position;
		unsigned int count = left < 16 ? (unsigned int)left : 16;
		unsigned char line[16];

		/* Copy first: uncached memory is slow to read twice. */
		memcpy(line, data + position, count);
		if (count == 16 && have_previous &&
		    memcmp(line, previous, 16) == 0 &&
		    position + 16 < length) {
			if (!skipping)
				printf("*\n");
			skipping = true;
			continue;
		}
		skipping = false;
		dump_line(offset + position, line, count);
		memcpy(previous, line, sizeof(previous));
		have_previous = count == 16;
	}
	printf("%08llx\n", (unsigned long long)(offset + length));
}

static const struct subcommand_syntax dump_syntax = {
	.name = "dump", .usage = usage_dump, .operands = "NAME",
	RANGE_SYNTAX,
};

int command_dump(int argc, char **argv)
{
	struct range_options range = { .command = "dump" };
	struct cmamem_block_info info;
	struct common_options common;
	unsigned char *data;
	uint64_t mapped;
	void *mapping;
	int fd, err, status = EXIT_RUNTIME;

	if (open_named_block(&dump_syntax, argc, argv, &range, O_RDONLY,
			     &common, &fd, &info) < 0)
		return EXIT_RUNTIME;
	if (resolve_range("dump", info.name, info.length, range.offset,
			  range.have_length, &range.length))
		goto out;
	err = cmamem_sync(fd, info.handle, CMAMEM_SYNC_FOR_CPU, range.offset,
			  range.length);
	if (err) {
		report_error(err, "dump: syncing \"%s\" for the CPU", info.name);
		goto out;
	}
	if (map_range("dump", fd, &info, range.offset, range.length,
		      PROT_READ, &mapping, &mapped, &data))
		goto out;
	print_dump(data, range.offset, range.length);
	cmamem_unmap(mapping, mapped);
	status = 0;
out:
	cmamem_free(fd, info.handle);
	close(fd);
	return status;
}
