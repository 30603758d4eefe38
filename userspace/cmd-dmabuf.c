// SPDX-License-Identifier: GPL-2.0
/*
 * cmamem export and import: a block as a dma-buf, checked against the
 * block's own mapping, and a dma-buf from anywhere imported into a pool.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/dma-buf.h>

#include "commands.h"
#include "tools-common.h"

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
	char size[HUMAN_SIZE_LENGTH];

	print_field("dma-buf fd", "%d", report->fd);
	print_field("dma-buf size", "%llu (%s)",
		    (unsigned long long)report->size,
		    human_size(report->size, size, sizeof(size)));
	print_field("dma-buf inode", "%llu", (unsigned long long)report->inode);
	print_field("exporter", "%s",
		    report->exporter[0] ? report->exporter : "unknown");
}

static void json_dmabuf_report(struct json_writer *json,
			       const struct dmabuf_report *report)
{
	json_number(json, "dmabuf_fd", (uint64_t)report->fd);
	json_number(json, "dmabuf_size", report->size);
	json_number(json, "dmabuf_inode", report->inode);
	json_optional_text(json, "exporter",
			   report->exporter[0] ? report->exporter : NULL);
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
				program_name, command[0], strerror(errno));
			_exit(EXIT_CANNOT_EXECUTE);
		}
		setenv("CMAMEM_DMABUF_FD", DMABUF_COMMAND_FD_TEXT, 1);
		execvp(command[0], command);
		fprintf(stderr, "%s export: cannot run %s: %s\n", program_name,
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

const char usage_export[] =
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

/**
 * struct export_report - what export found
 * @info: the block's BLOCK_INFO
 * @withheld: the kernel withheld the block's addresses
 * @dmabuf: the dma-buf
 * @contents_equal: the dma-buf's mapping shows the block's bytes
 * @difference: the first byte that differs, when the sizes agree and
 *	@contents_equal is false
 * @imported: the dma-buf was imported back (--import) without an error
 * @import: the import, when @imported
 * @import_agrees: the import's length and DMA address are the block's
 */
struct export_report {
	struct cmamem_block_info info;
	bool withheld;
	struct dmabuf_report dmabuf;
	bool contents_equal;
	uint64_t difference;
	bool imported;
	struct cmamem_import import;
	bool import_agrees;
};

static void json_export_report(const struct export_report *report)
{
	const struct cmamem_block_info *info = &report->info;
	struct json_writer writer = { 0 };
	bool sizes_agree = report->dmabuf.size == info->length;

	json_object_begin(&writer, stdout);
	json_block_identity(&writer, info->name, info->pool, info->length,
			    info->mode);
	json_bool(&writer, "address_withheld", report->withheld);
	json_optional_number(&writer, "dma_address", info->dma_address,
			     !report->withheld);
	json_dmabuf_report(&writer, &report->dmabuf);
	json_bool(&writer, "contents_equal", report->contents_equal);
	json_optional_number(&writer, "first_difference", report->difference,
			     !report->contents_equal && sizes_agree);
	json_bool(&writer, "imported", report->imported);
	if (report->imported) {
		json_number(&writer, "import_handle", report->import.handle);
		json_number(&writer, "import_length", report->import.length);
		json_optional_number(&writer, "import_dma_address",
				     report->import.dma_address,
				     !report->withheld);
		json_bool(&writer, "import_agrees", report->import_agrees);
	}
	json_object_end(&writer);
}

static void print_export_report(const struct export_report *report, bool json)
{
	const struct cmamem_block_info *info = &report->info;
	const struct cmamem_import *import = &report->import;
	char size[HUMAN_SIZE_LENGTH];

	if (json) {
		json_export_report(report);
		return;
	}
	printf("exported block \"%s\" of pool %s as a dma-buf\n", info->name,
	       info->pool);
	print_field("length", "%llu (%s)", (unsigned long long)info->length,
		    human_size(info->length, size, sizeof(size)));
	print_field("mode", "%s", cmamem_mode_name(info->mode));
	print_address("dma address", info->dma_address, report->withheld);
	print_dmabuf_report(&report->dmabuf);
	if (report->dmabuf.size != info->length)
		print_field("contents", "DIFFERENT: the dma-buf is %llu bytes, the block %llu",
			    (unsigned long long)report->dmabuf.size,
			    (unsigned long long)info->length);
	else if (report->contents_equal)
		print_field("contents", "the dma-buf's mapping equals the block's (%llu bytes)",
			    (unsigned long long)info->length);
	else
		print_field("contents", "DIFFERENT from the block's mapping from byte %llu on",
			    (unsigned long long)report->difference);
	if (!report->imported)
		return;
	printf("imported the dma-buf back into pool %s\n", info->pool);
	print_field("handle", "%u", import->handle);
	print_field("length", "%llu (%s)", (unsigned long long)import->length,
		    import->length == info->length ?
		    "the block's" : "DIFFERENT from the block's");
	if (report->withheld)
		print_field("dma address", "%s", WITHHELD_TEXT);
	else
		print_field("dma address", "0x%llx (%s)",
			    (unsigned long long)import->dma_address,
			    import->dma_address == info->dma_address ?
			    "the block's" : "DIFFERENT from the block's");
}

/* What export's own option and its COMMAND say. */
struct export_arguments {
	bool import;
	char **command;
};

static void export_option(int option, const char *argument, void *context)
{
	struct export_arguments *arguments = context;

	(void)argument;
	if (option == 'i')
		arguments->import = true;
}

static const struct option export_options[] = {
	{ "import", no_argument, NULL, 'i' },
	{ NULL, 0, NULL, 0 },
};

static const struct subcommand_syntax export_syntax = {
	.name = "export", .usage = usage_export, .operands = "NAME",
	.common = COMMON_POOL | COMMON_HOLD | COMMON_JSON,
	.options = export_options, .own_option = export_option,
};

/*
 * Export, describe, compare and (with --import) import back: fills
 * @report. Returns the dma-buf's descriptor, or a negative errno
 * (reported). *@import_error is the import's error, if any.
 */
static int export_and_check(int fd, bool import, bool writable,
			    struct export_report *report, int *import_error)
{
	const struct cmamem_block_info *info = &report->info;
	int dmabuf, err;

	*import_error = 0;
	dmabuf = cmamem_export(fd, info->handle,
			       (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (dmabuf < 0) {
		report_error(dmabuf, "export: exporting \"%s\" of pool %s",
			     info->name, info->pool);
		return dmabuf;
	}
	err = describe_dmabuf(dmabuf, &report->dmabuf);
	if (err) {
		report_error(err, "export: the dma-buf of \"%s\"", info->name);
		close(dmabuf);
		return err;
	}
	err = compare_dmabuf_with_block(fd, info, dmabuf, &report->difference);
	if (err < 0) {
		close(dmabuf);
		return err;
	}
	report->contents_equal = err == 0 && report->dmabuf.size == info->length;
	if (import) {
		*import_error = cmamem_import(fd, dmabuf, &report->import);
		report->imported = !*import_error;
		report->import_agrees = report->imported &&
			report->import.length == info->length &&
			(report->withheld ||
			 report->import.dma_address == info->dma_address);
	}
	return dmabuf;
}

/* Say what export found wrong; returns the exit status so far. */
static int export_verdict(const struct export_report *report, bool import,
			  int import_error)
{
	const struct cmamem_block_info *info = &report->info;
	int status = 0;

	if (!report->contents_equal) {
		report_error(0, "export: the dma-buf of \"%s\" does not show the block's bytes",
			     info->name);
		status = EXIT_RUNTIME;
	}
	if (import_error) {
		report_error(import_error, "export: importing the dma-buf of \"%s\" into pool %s",
			     info->name, info->pool);
		status = EXIT_RUNTIME;
	} else if (import && !report->import_agrees) {
		report_error(0, "export: the import of \"%s\" (%llu bytes at 0x%llx) is not the block (%llu bytes at 0x%llx)",
			     info->name,
			     (unsigned long long)report->import.length,
			     (unsigned long long)report->import.dma_address,
			     (unsigned long long)info->length,
			     (unsigned long long)info->dma_address);
		status = EXIT_RUNTIME;
	}
	return status;
}

int command_export(int argc, char **argv)
{
	struct export_arguments arguments = { 0 };
	struct export_report report = { 0 };
	struct common_options common;
	const char *name;
	int fd, dmabuf, err, i, import_error, status;

	/* What follows "--" is the COMMAND, never options of ours. */
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			arguments.command = argv + i + 1;
			argv[i] = NULL;
			argc = i;
			break;
		}
	}
	name = argv[parse_command_line(&export_syntax, argc, argv, &common,
				       &arguments)];
	check_block_name("export", name);
	if (arguments.command && !arguments.command[0])
		usage_error("export", "no COMMAND after '--'");
	if (arguments.command && common.hold)
		usage_error("export", "--hold and a COMMAND exclude each other: the COMMAND holds the dma-buf");

	/* Read-write only for a COMMAND, which may fill the buffer. */
	if (attach_and_describe("export", common.pool, name,
				arguments.command ? O_RDWR : O_RDONLY, &fd,
				&report.info))
		return EXIT_RUNTIME;
	report.withheld = report.info.out_flags & CMAMEM_ADDRESS_WITHHELD;
	dmabuf = export_and_check(fd, arguments.import, arguments.command,
				  &report, &import_error);
	if (dmabuf < 0) {
		status = EXIT_RUNTIME;
		goto free_block;
	}
	print_export_report(&report, common.json);
	fflush(stdout);
	status = export_verdict(&report, arguments.import, import_error);

	if (common.hold) {
		err = hold_until_told(common.json ? stderr : stdout);
		if (err) {
			report_error(err, "export: waiting");
			status = EXIT_RUNTIME;
		}
	} else if (arguments.command && !status) {
		err = run_with_dmabuf(arguments.command, dmabuf);
		status = err < 0 ? EXIT_RUNTIME : err;
	}
	if (report.imported) {
		err = cmamem_free(fd, report.import.handle);
		if (err) {
			report_error(err, "export: dropping import handle %u",
				     report.import.handle);
			status = status ? status : EXIT_RUNTIME;
		}
	}
	close(dmabuf);
free_block:
	cmamem_free(fd, report.info.handle);
	close(fd);
	return status;
}

const char usage_import[] =
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

/**
 * struct import_report - what import got
 * @pool: the pool's name
 * @dmabuf: the dma-buf imported
 * @import: the import
 * @withheld: the kernel withheld its DMA address
 */
struct import_report {
	const char *pool;
	struct dmabuf_report dmabuf;
	struct cmamem_import import;
	bool withheld;
};

static void print_import_report(const struct import_report *report,
				bool json)
{
	char size[HUMAN_SIZE_LENGTH];
	struct json_writer writer = { 0 };

	if (json) {
		json_object_begin(&writer, stdout);
		json_text(&writer, "pool", report->pool);
		json_dmabuf_report(&writer, &report->dmabuf);
		json_number(&writer, "handle", report->import.handle);
		json_number(&writer, "length", report->import.length);
		json_bool(&writer, "address_withheld", report->withheld);
		json_optional_number(&writer, "dma_address",
				     report->import.dma_address,
				     !report->withheld);
		json_object_end(&writer);
		return;
	}
	printf("imported the dma-buf on file descriptor %d into pool %s\n",
	       report->dmabuf.fd, report->pool);
	print_dmabuf_report(&report->dmabuf);
	print_field("handle", "%u", report->import.handle);
	print_field("length", "%llu (%s)",
		    (unsigned long long)report->import.length,
		    human_size(report->import.length, size, sizeof(size)));
	print_address("dma address", report->import.dma_address,
		      report->withheld);
}

static void import_option(int option, const char *argument, void *context)
{
	int *dmabuf = context;
	char *end;
	long number;

	if (option != 'f')
		return;
	errno = 0;
	number = strtol(argument, &end, 10);
	if (!isdigit((unsigned char)argument[0]) || *end || errno ||
	    number > INT32_MAX)
		usage_error("import", "bad file descriptor '%s': a number such as 3",
			    argument);
	*dmabuf = (int)number;
}

static const struct option import_options[] = {
	{ "fd", required_argument, NULL, 'f' },
	{ NULL, 0, NULL, 0 },
};

static const struct subcommand_syntax import_syntax = {
	.name = "import", .usage = usage_import,
	.common = COMMON_POOL | COMMON_HOLD | COMMON_JSON,
	.options = import_options, .short_options = "f:",
	.own_option = import_option,
};

/* Say why pool @pool refused dma-buf @report (import gave -EINVAL). */
static void explain_refused_import(const char *pool,
				   const struct dmabuf_report *report)
{
	char link_path[64], target[256];
	ssize_t length;

	if (report->fdinfo_read && !report->exporter[0]) {
		snprintf(link_path, sizeof(link_path), "/proc/self/fd/%d",
			 report->fd);
		length = readlink(link_path, target, sizeof(target) - 1);
		target[length > 0 ? length : 0] = '\0';
		report_error(0, "import: file descriptor %d is not a dma-buf (it is %s)",
			     report->fd, target[0] ? target : "something else");
		return;
	}
	report_error(0,
		     "import: pool %s refuses the dma-buf on file descriptor %d (%s, %llu bytes): its device cannot reach it as one contiguous run of DMA addresses",
		     pool, report->fd,
		     report->exporter[0] ? report->exporter : "unknown exporter",
		     (unsigned long long)report->size);
}

int command_import(int argc, char **argv)
{
	struct import_report report = { 0 };
	struct common_options common;
	int fd, err, dmabuf = -1, status = 0;
	char path[4096];

	parse_command_line(&import_syntax, argc, argv, &common, &dmabuf);
	if (dmabuf < 0)
		usage_error("import", "needs --fd N, the dma-buf's file descriptor");
	check_pool_name("import", common.pool, path, sizeof(path));
	report.pool = pool_display_name(common.pool);

	/* Before the pool is opened, which could take the number. */
	if (describe_dmabuf(dmabuf, &report.dmabuf)) {
		report_error(0,
			     "import: file descriptor %d is not open: a dma-buf must be inherited, as in 'cmamem export NAME -- cmamem import --fd 3'",
			     dmabuf);
		return EXIT_RUNTIME;
	}
	fd = open_pool("import", common.pool, O_RDONLY);
	if (fd < 0)
		return EXIT_RUNTIME;
	err = cmamem_import(fd, dmabuf, &report.import);
	if (err) {
		if (err == -EINVAL)
			explain_refused_import(report.pool, &report.dmabuf);
		else
			report_error(err, "import: importing the dma-buf on file descriptor %d into pool %s",
				     dmabuf, report.pool);
		close(fd);
		return EXIT_RUNTIME;
	}
	report.withheld = report.import.out_flags & CMAMEM_ADDRESS_WITHHELD;
	print_import_report(&report, common.json);
	fflush(stdout);
	if (common.hold) {
		err = hold_until_told(common.json ? stderr : stdout);
		if (err) {
			report_error(err, "import: waiting");
			status = EXIT_RUNTIME;
		}
	}
	err = cmamem_free(fd, report.import.handle);
	if (err) {
		report_error(err, "import: dropping import handle %u",
			     report.import.handle);
		status = EXIT_RUNTIME;
	} else if (!common.json) {
		printf("dropped the import (handle %u)\n", report.import.handle);
	}
	close(fd);
	return status;
}
