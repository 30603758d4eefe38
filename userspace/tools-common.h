/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tools-common: what every subcommand of the cmamem command shares, so that
 * each is written once: option and argument parsing, size parsing, JSON
 * and text output, messages, opening pools, holding a block.
 */
#ifndef CMAMEM_TOOLS_COMMON_H
#define CMAMEM_TOOLS_COMMON_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <cmamem/libcmamem.h>

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

#define ARRAY_SIZE(array) (sizeof(array) / sizeof((array)[0]))
#define __printf(format_index, first_argument) \
	__attribute__((format(printf, format_index, first_argument)))
#define __noreturn __attribute__((noreturn))

#define WITHHELD_TEXT "withheld (needs CAP_SYS_RAWIO)"
/* Room for human_size()'s text. */
#define HUMAN_SIZE_LENGTH 32

extern const char program_name[];

/* --- messages --- */
void __printf(2, 3) report_error(int error, const char *format, ...);
void __noreturn __printf(2, 3) usage_error(const char *command,
					   const char *format, ...);

/* --- arguments --- */

/* Options that several subcommands take, with one meaning everywhere. */
#define COMMON_POOL (1u << 0)	/* -p, --pool P */
#define COMMON_JSON (1u << 1)	/* --json */
#define COMMON_HOLD (1u << 2)	/* --hold */

/**
 * struct common_options - the values of the common options
 * @pool: --pool, or NULL for the default pool
 * @json: --json was given
 * @hold: --hold was given
 */
struct common_options {
	const char *pool;
	bool json;
	bool hold;
};

/**
 * struct subcommand_syntax - what a subcommand accepts on its command line
 * @name: the subcommand, as messages name it ("alloc")
 * @usage: its --help text
 * @common: COMMON_* flags of the common options it takes
 * @options: its own long options (NULL-terminated), or NULL
 * @short_options: getopt letters of its own options ("m:a:"), or NULL
 * @own_option: called for each of its own options with the option's
 *	value and argument (NULL for none), and @context; exits through
 *	usage_error() for a bad argument
 * @operands: the operands it needs, in order ("NAME SIZE"), or NULL
 * @number_operand: what a negative number among its operands is meant
 *	to be ("SIZE"), or NULL when no operand is a number
 */
struct subcommand_syntax {
	const char *name;
	const char *usage;
	unsigned int common;
	const struct option *options;
	const char *short_options;
	void (*own_option)(int option, const char *argument, void *context);
	const char *operands;
	const char *number_operand;
};

int parse_command_line(const struct subcommand_syntax *syntax, int argc,
		       char **argv, struct common_options *common,
		       void *context);
const char *parse_size(const char *text, uint64_t *bytes);
uint64_t size_argument(const char *command, const char *what,
		       const char *text, bool zero_allowed);
uint64_t alignment_argument(const char *command, const char *text);
void check_block_name(const char *command, const char *name);

/* --- output --- */
const char *human_size(uint64_t bytes, char *buffer, size_t size);
void __printf(2, 3) print_field(const char *key, const char *format, ...);
void print_address(const char *key, uint64_t value, bool withheld);

/**
 * struct json_writer - state of one JSON document being written
 * @stream: where it goes
 * @first: no member written yet in the current object (or no element in
 *	the current array)
 * @in_array: the objects being written are elements of a top-level array
 */
struct json_writer {
	FILE *stream;
	bool first;
	bool in_array;
};

void json_string(FILE *stream, const char *text);
void json_array_begin(struct json_writer *json, FILE *stream);
void json_array_end(struct json_writer *json);
void json_object_begin(struct json_writer *json, FILE *stream);
void json_object_end(struct json_writer *json);
void json_key(struct json_writer *json, const char *key);
void json_number(struct json_writer *json, const char *key, uint64_t value);
void json_signed(struct json_writer *json, const char *key, int64_t value);
void json_optional_number(struct json_writer *json, const char *key,
			  uint64_t value, bool known);
void json_text(struct json_writer *json, const char *key, const char *value);
void json_optional_text(struct json_writer *json, const char *key,
			const char *value);
void json_bool(struct json_writer *json, const char *key, bool value);
void json_block_identity(struct json_writer *json, const char *name,
			 const char *pool, uint64_t length, uint32_t mode);

/* --- pools and blocks --- */
const char *pool_display_name(const char *pool);
void check_pool_name(const char *command, const char *pool, char *path,
		     size_t size);
void explain_open_error(const char *command, const char *path, int error);
int open_pool(const char *command, const char *pool, int flags);
int attach_and_describe(const char *command, const char *pool,
			const char *name, int flags, int *fd,
			struct cmamem_block_info *info);
int open_named_block(const struct subcommand_syntax *syntax, int argc,
		     char **argv, void *context, int flags,
		     struct common_options *common, int *fd,
		     struct cmamem_block_info *info);
int release_block(const char *command, int fd,
		  const struct cmamem_block_info *info);
int hold_until_told(FILE *messages);

#endif /* CMAMEM_TOOLS_COMMON_H */
