/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tools-common: what every subcommand of the cmamem command shares, so that
 * each is written once: size parsing, JSON output, messages.
 */
#ifndef CMAMEM_TOOLS_COMMON_H
#define CMAMEM_TOOLS_COMMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

#define ARRAY_SIZE(array) (sizeof(array) / sizeof((array)[0]))
#define __printf(format_index, first_argument) \
	__attribute__((format(printf, format_index, first_argument)))
#define __noreturn __attribute__((noreturn))

const char *parse_size(const char *text, uint64_t *bytes);
void json_string(FILE *stream, const char *text);

#endif /* CMAMEM_TOOLS_COMMON_H */
