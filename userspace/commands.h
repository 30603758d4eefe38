/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The subcommands of the cmamem command, one group per file:
 * cmd-pools.c (pools, list), cmd-block.c (alloc, attach, info, free),
 * cmd-data.c (fill, dump), cmd-dmabuf.c (export, import), bench*.c.
 * Each takes its arguments with argv[0] naming it and returns the exit
 * status; its usage text is what --help prints.
 */
#ifndef CMAMEM_COMMANDS_H
#define CMAMEM_COMMANDS_H

int command_pools(int argc, char **argv);
int command_list(int argc, char **argv);
int command_alloc(int argc, char **argv);
int command_attach(int argc, char **argv);
int command_info(int argc, char **argv);
int command_free(int argc, char **argv);
int command_fill(int argc, char **argv);
int command_dump(int argc, char **argv);
int command_export(int argc, char **argv);
int command_import(int argc, char **argv);

extern const char usage_pools[];
extern const char usage_list[];
extern const char usage_alloc[];
extern const char usage_attach[];
extern const char usage_info[];
extern const char usage_free[];
extern const char usage_fill[];
extern const char usage_dump[];
extern const char usage_export[];
extern const char usage_import[];

#endif /* CMAMEM_COMMANDS_H */
