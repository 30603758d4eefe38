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
 * This file holds main() and the table of subcommands; commands.h says
 * which file holds each, and tools-common.c what they share.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "commands.h"
#include "tools-common.h"

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
			fprintf(stderr, "%s: unknown command '%s'\n", program_name,
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
				 program_name, commands[i].name);
			argv[1] = command_name;
			optind = 1;
			return commands[i].run(argc - 1, argv + 1);
		}
	}
	fprintf(stderr, "%s: unknown command '%s'\n", program_name, argv[1]);
	print_usage(stderr);
	return EXIT_USAGE;
}
