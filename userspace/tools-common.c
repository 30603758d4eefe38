// SPDX-License-Identifier: GPL-2.0
/*
 * tools-common: helpers shared by the subcommands of the cmamem command
 * (bench included), so that each rule is implemented and tested once.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools-common.h"

const char program_name[] = "cmamem";

/* --- messages --------------------------------------------------------- */

/**
 * report_error() - say that something failed at run time
 * @error: a negative errno, whose meaning for cmamem follows; 0 for none
 * @format: printf() format of what failed, naming the call that failed
 *
 * Prints "cmamem: <what>: <why>" on stderr. For EINVAL, whose
 * cmamem_strerror() text lists every reason any call has for it, <why> is
 * the plain "Invalid argument": <what> names the call, and the command
 * checks its arguments before any call so as to say which one is wrong.
 */
void report_error(int error, const char *format, ...)
{
	va_list arguments;

	fprintf(stderr, "%s: ", program_name);
	va_start(arguments, format);
	vfprintf(stderr, format, arguments);
	va_end(arguments);
	if (error == -EINVAL)
		fprintf(stderr, ": %s", strerror(EINVAL));
	else if (error)
		fprintf(stderr, ": %s", cmamem_strerror(error));
	fputc('\n', stderr);
}

/**
 * usage_error() - reject a command line and exit 2
 * @command: the subcommand ("alloc")
 * @format: printf() format of what is wrong with the command line
 *
 * Prints "cmamem <command>: <what>" and where to find help on stderr.
 */
void usage_error(const char *command, const char *format, ...)
{
	va_list arguments;

	fprintf(stderr, "%s %s: ", program_name, command);
	va_start(arguments, format);
	vfprintf(stderr, format, arguments);
	va_end(arguments);
	fprintf(stderr, "\nTry '%s %s --help'.\n", program_name, command);
	exit(EXIT_USAGE);
}

/* --- arguments -------------------------------------------------------- */

/* The common options, selected by COMMON_* flags. */
static const struct {
	unsigned int flag;
	struct option option;
	const char *short_option;
} common_option_table[] = {
	{ COMMON_POOL, { "pool", required_argument, NULL, 'p' }, "p:" },
	{ COMMON_JSON, { "json", no_argument, NULL, 'j' }, "" },
	{ COMMON_HOLD, { "hold", no_argument, NULL, 'H' }, "" },
	{ 0, { "help", no_argument, NULL, 'h' }, "h" },
};

#define MAX_OPTIONS 16

/* How many words @text (NULL: none) has, separated by single spaces. */
static int count_words(const char *text)
{
	int words = text && *text ? 1 : 0;

	for (; text && *text; text++)
		words += *text == ' ';
	return words;
}

/*
 * getopt_long() found an option it does not know: say which, and exit 2.
 * An operand that starts with '-' reads as options to it, and a negative
 * number is the one such operand people write ("alloc x -1"): that gets
 * "negative" rather than "invalid option -- '1'".
 */
static void __noreturn bad_option(const struct subcommand_syntax *syntax,
				  int argc, char **argv)
{
	const char *argument = NULL;

	if (optopt && isdigit(optopt)) {
		/*
		 * A digit is the first letter getopt tried in "-1K": optind
		 * still points at it, unless it was the only letter.
		 */
		if (optind < argc && argv[optind][0] == '-' &&
		    argv[optind][1] == optopt)
			argument = argv[optind];
		else if (argv[optind - 1][0] == '-' &&
			 argv[optind - 1][1] == optopt)
			argument = argv[optind - 1];
	}
	if (argument && syntax->number_operand)
		usage_error(syntax->name, "bad %s '%s': negative",
			    syntax->number_operand, argument);
	if (argument)
		usage_error(syntax->name, "unknown option '%s' (no argument here is a number)",
			    argument);
	/* A letter of a cluster ("-zq") that getopt has not finished. */
	if (optopt && optind < argc && argv[optind][0] == '-' &&
	    argv[optind][1] != '-' && strchr(argv[optind] + 1, optopt))
		usage_error(syntax->name, "unknown option '-%c'", optopt);
	if (strncmp(argv[optind - 1], "--", 2) != 0)
		usage_error(syntax->name, "unknown option '-%c'", optopt);
	/* optopt is set for a long option given an argument it lacks. */
	if (optopt && strchr(argv[optind - 1], '='))
		usage_error(syntax->name, "option '%.*s' takes no argument",
			    (int)strcspn(argv[optind - 1], "="),
			    argv[optind - 1]);
	usage_error(syntax->name, "unknown or ambiguous option '%s'",
		    argv[optind - 1]);
}

/**
 * parse_command_line() - parse a subcommand's options and count operands
 * @syntax: what the subcommand accepts
 * @argc: argument count, argv[0] being the subcommand
 * @argv: the arguments
 * @common: where the common options' values go
 * @context: passed to @syntax->own_option
 *
 * Prints the usage and exits 0 for --help; exits 2 through usage_error()
 * for anything the command line gets wrong.
 *
 * Return: the index in @argv of the first operand (optind).
 */
int parse_command_line(const struct subcommand_syntax *syntax, int argc,
		       char **argv, struct common_options *common,
		       void *context)
{
	struct option options[MAX_OPTIONS];
	/* ':' first: a missing argument is ':', not '?'. */
	char short_options[32] = ":";
	size_t count = 0, i;
	int option, operands, wanted;

	memset(common, 0, sizeof(*common));
	for (i = 0; i < ARRAY_SIZE(common_option_table); i++) {
		if (common_option_table[i].flag &&
		    !(syntax->common & common_option_table[i].flag))
			continue;
		options[count++] = common_option_table[i].option;
		strcat(short_options, common_option_table[i].short_option);
	}
	for (i = 0; syntax->options && syntax->options[i].name; i++)
		options[count++] = syntax->options[i];
	memset(&options[count], 0, sizeof(options[count]));
	if (syntax->short_options)
		strcat(short_options, syntax->short_options);

	optind = 1;
	/* The messages are ours: they say "cmamem COMMAND:" and why. */
	opterr = 0;
	while ((option = getopt_long(argc, argv, short_options, options,
				     NULL)) != -1) {
		switch (option) {
		case 'p':
			common->pool = optarg;
			break;
		case 'j':
			common->json = true;
			break;
		case 'H':
			common->hold = true;
			break;
		case 'h':
			fputs(syntax->usage, stdout);
			exit(0);
		case ':':
			usage_error(syntax->name, "option '%s' needs an argument",
				    argv[optind - 1]);
		case '?':
			bad_option(syntax, argc, argv);
		default:
			syntax->own_option(option, optarg, context);
		}
	}
	wanted = count_words(syntax->operands);
	operands = argc - optind;
	if (operands > wanted)
		usage_error(syntax->name, "unexpected argument '%s'",
			    argv[optind + wanted]);
	if (operands < wanted && wanted == 1)
		usage_error(syntax->name, "needs exactly one %s",
			    syntax->operands);
	if (operands < wanted)
		usage_error(syntax->name, "needs %.*s and %s",
			    (int)(strrchr(syntax->operands, ' ') -
				  syntax->operands), syntax->operands,
			    strrchr(syntax->operands, ' ') + 1);
	return optind;
}

/**
 * parse_size() - parse a byte count
 * @text: decimal or 0x-hex digits, optionally followed by K, M, G or T
 *	(powers of 1024, either case), which may be written KiB or KB
 * @bytes: where the value goes on success
 *
 * Zero is a valid size here (an offset of 0); callers that need a length
 * check for it themselves and say "zero".
 *
 * Return: NULL on success, otherwise why @text is not a size, ready to
 * follow "bad SIZE '...': ".
 */
const char *parse_size(const char *text, uint64_t *bytes)
{
	unsigned long long number;
	unsigned int shift = 0;
	char *end;

	if (!text || !*text)
		return "empty";
	if (text[0] == '-')
		return "negative";
	if (!isdigit((unsigned char)text[0]))
		return "not a number";
	errno = 0;
	number = strtoull(text, &end, 0);
	if (errno == ERANGE)
		return "too large for 64 bits";
	if (errno)
		return "not a number";
	switch (toupper((unsigned char)*end)) {
	case 'K':
		shift = 10;
		break;
	case 'M':
		shift = 20;
		break;
	case 'G':
		shift = 30;
		break;
	case 'T':
		shift = 40;
		break;
	}
	if (shift) {
		end++;
		if (*end == 'i')
			end++;
		if (*end == 'B')
			end++;
	}
	if (*end)
		return "unknown suffix (use K, M, G or T)";
	if (shift && number > (UINT64_MAX >> shift))
		return "too large for 64 bits";
	*bytes = (uint64_t)number << shift;
	return NULL;
}

/**
 * size_argument() - parse a size given on the command line, or exit 2
 * @command: the subcommand, for the message
 * @what: what the size is, for the message ("SIZE", "offset")
 * @text: the argument
 * @zero_allowed: whether 0 is a valid value (an offset) or not (a length)
 *
 * Return: the size in bytes.
 */
uint64_t size_argument(const char *command, const char *what,
		       const char *text, bool zero_allowed)
{
	const char *reason;
	uint64_t bytes;

	reason = parse_size(text, &bytes);
	if (!reason && bytes == 0 && !zero_allowed)
		reason = "zero";
	if (reason)
		usage_error(command, "bad %s '%s': %s", what, text, reason);
	return bytes;
}

/**
 * alignment_argument() - parse an --align argument, or exit 2
 * @command: the subcommand, for the message
 * @text: the argument
 *
 * The driver takes a power of two no smaller than the page size; checked
 * here so that the message can say which rule the value breaks.
 *
 * Return: the alignment in bytes.
 */
uint64_t alignment_argument(const char *command, const char *text)
{
	uint64_t page_size = (uint64_t)sysconf(_SC_PAGESIZE);
	char page[HUMAN_SIZE_LENGTH];
	const char *reason;
	uint64_t alignment;

	reason = parse_size(text, &alignment);
	if (reason)
		usage_error(command, "bad alignment '%s': %s", text, reason);
	if (alignment & (alignment - 1))
		usage_error(command, "alignment '%s' is not a power of two",
			    text);
	if (alignment < page_size)
		usage_error(command,
			    "alignment '%s' is below the page size (%s): leave --align out for page alignment",
			    text, human_size(page_size, page, sizeof(page)));
	return alignment;
}

/**
 * check_block_name() - reject a block name the driver would refuse
 * @command: the subcommand, for the message
 * @name: the name given
 *
 * The rules are the driver's: 1 to CMAMEM_NAME_SIZE - 1 bytes of
 * printable ASCII other than the space. Exits 2 through usage_error(),
 * saying which rule @name breaks.
 */
void check_block_name(const char *command, const char *name)
{
	size_t length = strlen(name), i;

	if (!length)
		usage_error(command, "bad block name '': empty");
	for (i = 0; i < length; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == ' ')
			usage_error(command, "bad block name '%s': no spaces",
				    name);
		if (c < 0x20 || c == 0x7f)
			usage_error(command,
				    "bad block name '%s': no control characters",
				    name);
		if (c > 0x7f)
			usage_error(command,
				    "bad block name '%s': printable ASCII only",
				    name);
	}
	if (length > CMAMEM_NAME_SIZE - 1)
		usage_error(command,
			    "bad block name '%s': %zu characters, at most %d",
			    name, length, CMAMEM_NAME_SIZE - 1);
	/* The library's check is the reference: no rule may be missing. */
	if (cmamem_check_name(name))
		usage_error(command, "bad block name '%s'", name);
}

/* --- output ----------------------------------------------------------- */

/**
 * human_size() - a byte count for people: "16 MiB", "1.5 KiB", "100 B"
 * @bytes: the count
 * @buffer: where the text goes
 * @size: size of @buffer (HUMAN_SIZE_LENGTH is enough)
 *
 * JSON carries exact bytes instead.
 *
 * Return: @buffer.
 */
const char *human_size(uint64_t bytes, char *buffer, size_t size)
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

/**
 * print_field() - print one "  key  value" line of a text report
 * @key: the field's name
 * @format: printf() format of its value
 */
void print_field(const char *key, const char *format, ...)
{
	va_list arguments;

	printf("  %-18s", key);
	va_start(arguments, format);
	vprintf(format, arguments);
	va_end(arguments);
	putchar('\n');
}

/**
 * print_address() - print an address field, or say that it is withheld
 * @key: the field's name
 * @value: the address
 * @withheld: the kernel withheld it from this process
 */
void print_address(const char *key, uint64_t value, bool withheld)
{
	if (withheld)
		print_field(key, "%s", WITHHELD_TEXT);
	else
		print_field(key, "0x%llx", (unsigned long long)value);
}

/**
 * json_string() - write @text as a JSON string
 * @stream: where to write
 * @text: NUL-terminated bytes
 *
 * Quotes and backslashes are escaped, and so is every byte outside
 * printable ASCII (as \u00XX): block names are printable ASCII, and any
 * other text (a kernel name, an error) must not break a JSON parser.
 */
void json_string(FILE *stream, const char *text)
{
	fputc('"', stream);
	for (; *text; text++) {
		unsigned char c = (unsigned char)*text;

		if (c == '"' || c == '\\')
			fprintf(stream, "\\%c", c);
		else if (c < 0x20 || c > 0x7e)
			fprintf(stream, "\\u%04x", c);
		else
			fputc(c, stream);
	}
	fputc('"', stream);
}

/*
 * The JSON of every subcommand has one layout: an object, or an array of
 * objects, each member on a line of its own.
 */

/**
 * json_array_begin() - start a top-level array of objects
 * @json: the writer
 * @stream: where the document goes
 */
void json_array_begin(struct json_writer *json, FILE *stream)
{
	json->stream = stream;
	json->first = true;
	json->in_array = true;
	fputc('[', stream);
}

/**
 * json_array_end() - end the array json_array_begin() started
 * @json: the writer
 */
void json_array_end(struct json_writer *json)
{
	fprintf(json->stream, "%s]\n", json->first ? "" : "\n");
}

/**
 * json_object_begin() - start an object: the document, or an array element
 * @json: the writer (of an array, or a new one)
 * @stream: where the document goes (ignored inside an array)
 */
void json_object_begin(struct json_writer *json, FILE *stream)
{
	if (json->in_array) {
		fprintf(json->stream, "%s\n  {", json->first ? "" : ",");
	} else {
		json->stream = stream;
		fputc('{', stream);
	}
	json->first = true;
}

/**
 * json_object_end() - end the object json_object_begin() started
 * @json: the writer
 */
void json_object_end(struct json_writer *json)
{
	if (json->in_array) {
		fputs("\n  }", json->stream);
		json->first = false;	/* the next element needs a comma */
	} else {
		fputs("\n}\n", json->stream);
	}
}

/**
 * json_key() - start a member of the current object
 * @json: the writer
 * @key: the member's name; its value is written next
 */
void json_key(struct json_writer *json, const char *key)
{
	fprintf(json->stream, "%s\n    ", json->first ? "" : ",");
	json->first = false;
	json_string(json->stream, key);
	fputs(": ", json->stream);
}

/**
 * json_number() - write a member whose value is an unsigned number
 * @json: the writer
 * @key: the member's name
 * @value: its value
 */
void json_number(struct json_writer *json, const char *key, uint64_t value)
{
	json_key(json, key);
	fprintf(json->stream, "%llu", (unsigned long long)value);
}

/**
 * json_signed() - write a member whose value is a signed number
 * @json: the writer
 * @key: the member's name
 * @value: its value
 */
void json_signed(struct json_writer *json, const char *key, int64_t value)
{
	json_key(json, key);
	fprintf(json->stream, "%lld", (long long)value);
}

/**
 * json_optional_number() - write a number that may be unknown or withheld
 * @json: the writer
 * @key: the member's name
 * @value: its value
 * @known: false writes null instead of @value
 */
void json_optional_number(struct json_writer *json, const char *key,
			  uint64_t value, bool known)
{
	json_key(json, key);
	if (known)
		fprintf(json->stream, "%llu", (unsigned long long)value);
	else
		fputs("null", json->stream);
}

/**
 * json_text() - write a member whose value is a string
 * @json: the writer
 * @key: the member's name
 * @value: its value
 */
void json_text(struct json_writer *json, const char *key, const char *value)
{
	json_key(json, key);
	json_string(json->stream, value);
}

/**
 * json_optional_text() - write a string member that may be unknown
 * @json: the writer
 * @key: the member's name
 * @value: its value, or NULL for null
 */
void json_optional_text(struct json_writer *json, const char *key,
			const char *value)
{
	json_key(json, key);
	if (value)
		json_string(json->stream, value);
	else
		fputs("null", json->stream);
}

/**
 * json_bool() - write a member whose value is true or false
 * @json: the writer
 * @key: the member's name
 * @value: its value
 */
void json_bool(struct json_writer *json, const char *key, bool value)
{
	json_key(json, key);
	fputs(value ? "true" : "false", json->stream);
}

/**
 * json_block_identity() - write the members that say which block it is
 * @json: the writer
 * @name: the block's name
 * @pool: its pool's name
 * @length: its length in bytes
 * @mode: its mode (enum cmamem_mode)
 *
 * Every document about one block starts with these, under these names.
 */
void json_block_identity(struct json_writer *json, const char *name,
			 const char *pool, uint64_t length, uint32_t mode)
{
	json_text(json, "name", name);
	json_text(json, "pool", pool);
	json_number(json, "length", length);
	json_text(json, "mode", cmamem_mode_name(mode));
}

/* --- pools and blocks ------------------------------------------------- */

/**
 * pool_display_name() - the name of pool @pool (NULL: the default pool)
 * @pool: a pool name, or NULL
 *
 * Return: @pool, or "default".
 */
const char *pool_display_name(const char *pool)
{
	return pool ? pool : CMAMEM_DEFAULT_POOL;
}

/**
 * check_pool_name() - reject a pool name that cannot name a pool
 * @command: the subcommand, for the message
 * @pool: the name (NULL for the default pool) or a device path
 * @path: where the pool's device path goes
 * @size: size of @path
 *
 * Exits 2 through usage_error() for a bad name.
 */
void check_pool_name(const char *command, const char *pool, char *path,
		     size_t size)
{
	if (cmamem_pool_path(pool, path, size))
		usage_error(command,
			    "bad pool name '%s': up to %d characters without '/', or a device path",
			    pool, CMAMEM_NAME_SIZE - 1);
}

/**
 * explain_open_error() - say why pool device @path could not be opened
 * @command: the subcommand, for the message
 * @path: the device path
 * @error: the negative errno of the open
 *
 * A permission error says what to do about it: the devices belong to
 * group cmamem through the udev rule, or to root alone without it.
 */
void explain_open_error(const char *command, const char *path, int error)
{
	struct stat device;

	if (error != -EACCES && error != -EPERM) {
		report_error(error, "%s: cannot open %s", command, path);
		return;
	}
	if (stat(path, &device) == 0 &&
	    (device.st_gid == 0 || !(device.st_mode & S_IRGRP)))
		report_error(0,
			     "%s: no permission to open %s, which only root may open: install the udev rule 60-cmamem.rules that gives the pools to group cmamem (make install does; see docs/userspace.md, \"Device permissions\"), join that group, or run as root",
			     command, path);
	else
		report_error(0,
			     "%s: no permission to open %s: join group cmamem, which the udev rule 60-cmamem.rules gives the pools to (sudo usermod -aG cmamem $USER, then log in again), or run as root",
			     command, path);
}

/**
 * open_pool() - open a pool for a subcommand, saying why it cannot be
 * @command: the subcommand, for messages
 * @pool: the pool's name, NULL for the default pool
 * @flags: open() flags (O_RDONLY or O_RDWR)
 *
 * A bad pool name exits 2 through usage_error(): call it before anything
 * is allocated.
 *
 * Return: the file descriptor, or a negative errno (reported).
 */
int open_pool(const char *command, const char *pool, int flags)
{
	char path[4096];
	int fd;

	check_pool_name(command, pool, path, sizeof(path));
	fd = cmamem_open(pool, flags);
	if (fd == -ENOENT)
		report_error(0,
			     "%s: no pool \"%s\": %s does not exist (is the cmamem module loaded%s?)",
			     command, pool_display_name(pool), path,
			     pool && strcmp(pool, CMAMEM_DEFAULT_POOL) ?
			     ", and does the device tree define this pool" : "");
	else if (fd < 0)
		explain_open_error(command, path, fd);
	return fd;
}

/**
 * attach_and_describe() - attach to a block by name and read its BLOCK_INFO
 * @command: the subcommand, for messages
 * @pool: the block's pool, NULL for the default pool
 * @name: the block's name
 * @flags: open() flags for the pool
 * @fd: where the pool's file descriptor goes
 * @info: where the BLOCK_INFO goes (info->handle is the new handle)
 *
 * On success the caller owns *@fd and the handle; on failure the error
 * has been reported and *@fd is closed.
 *
 * Return: 0 or a negative errno.
 */
int attach_and_describe(const char *command, const char *pool,
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

/**
 * open_named_block() - parse a subcommand's command line, whose first
 *	operand names a block, and attach to that block
 * @syntax: what the subcommand accepts
 * @argc: argument count, argv[0] being the subcommand
 * @argv: the arguments
 * @context: passed to @syntax->own_option
 * @flags: open() flags for the pool
 * @common: where the common options' values go
 * @fd: where the pool's file descriptor goes
 * @info: where the block's BLOCK_INFO goes (info->handle is the new handle)
 *
 * Usage errors exit 2, before anything is opened.
 *
 * Return: the index in @argv of the block's name, or -1 when the block
 * could not be attached to (reported; nothing is left open).
 */
int open_named_block(const struct subcommand_syntax *syntax, int argc,
		     char **argv, void *context, int flags,
		     struct common_options *common, int *fd,
		     struct cmamem_block_info *info)
{
	int first = parse_command_line(syntax, argc, argv, common, context);

	check_block_name(syntax->name, argv[first]);
	if (attach_and_describe(syntax->name, common->pool, argv[first],
				flags, fd, info))
		return -1;
	return first;
}

/**
 * release_block() - drop this command's handle on a block, close its pool
 * @command: the subcommand, for the message
 * @fd: the pool's file descriptor, which is closed
 * @info: the block's BLOCK_INFO, as open_named_block() read it
 *
 * Return: 0, or EXIT_RUNTIME when the handle could not be freed
 * (reported).
 */
int release_block(const char *command, int fd,
		  const struct cmamem_block_info *info)
{
	int err = cmamem_free(fd, info->handle);

	close(fd);
	if (err) {
		report_error(err, "%s: freeing handle %u of \"%s\"", command,
			     info->handle, info->name);
		return EXIT_RUNTIME;
	}
	return 0;
}
