// SPDX-License-Identifier: GPL-2.0
/*
 * tools-common: helpers shared by the subcommands of the cmamem command
 * (bench included), so that each rule is implemented and tested once.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

#include "tools-common.h"

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
