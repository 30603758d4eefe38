/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A bus-master DMA engine driven from user space, the way a board team
 * drives an FPGA engine over UIO: the engine is given the bus addresses
 * cmamem reports and reads or writes memory there itself. The engine here
 * is QEMU's "edu" PCI device (QEMU docs/specs/edu.rst, PCI 1234:11e8): it
 * copies between memory at a bus address and a 4 KiB buffer of its own,
 * at engine address 0x40000.
 *
 * Root drives it through sysfs (/sys/bus/pci/devices/<slot>/): "enable"
 * (1 enables the device and its memory space), the command register in
 * "config" (memory space and bus master bits), and "resource0", its
 * register BAR, mapped with mmap(). A transfer is: source (0x80),
 * destination (0x88), count (0x90), then the command (0x98: bit 0 starts
 * it, bit 1 set = engine to memory); bit 0 clears when it is done. QEMU
 * does each transfer 100 ms (of the guest's clock) after the start.
 *
 * Two limits of the emulated engine are checked here before anything is
 * programmed, because QEMU aborts the whole VM when they are crossed:
 *
 *  - QEMU 7.2 checks the engine-buffer range off by one: a transfer that
 *    ends exactly at the end of the 4 KiB buffer aborts QEMU ("DMA range
 *    ... out of bounds"). So a transfer must end at least one byte short
 *    of it: at most CMAMEM_ENGINE_MAX_TRANSFER (4095) bytes, and offset +
 *    count below 4096.
 *  - The engine reaches bus addresses up to its "dma_mask" property (QEMU's
 *    default is 256 MiB - 1, and then it rejects higher addresses and
 *    aborts): the test boards give it dma_mask=0xffffffffffffffff, and a
 *    program opening a more limited engine says so with @dma_limit. A
 *    32-bit program can only write the low 32 bits of the 64-bit address
 *    registers (its 64-bit stores are two 32-bit ones, and the engine
 *    ignores a write to the upper half), so there the limit is 4 GiB - 1.
 *
 * Everything is static inline in this one file, so a test, the demo tool
 * and anyone else include it and carry only what they use. The Python
 * example userspace/python/examples/edu_engine.py does the same steps.
 *
 * Usage:
 *	struct cmamem_engine engine;
 *	int ret = cmamem_engine_open(&engine, NULL, CMAMEM_ENGINE_ANY_ADDRESS);
 *
 *	if (ret == -ENODEV)	skip: engine.error says why (no edu: a board)
 *	else if (ret)		fail: engine.error says which step failed
 *	cmamem_engine_to_engine(&engine, block_dma_address, 0, 4000);
 *	cmamem_engine_to_ram(&engine, 0, other_dma_address, 4000);
 *	cmamem_engine_close(&engine);
 */
#ifndef CMAMEM_ENGINE_H
#define CMAMEM_ENGINE_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/types.h>

#define CMAMEM_ENGINE_VENDOR		0x1234
#define CMAMEM_ENGINE_DEVICE		0x11e8
#define CMAMEM_ENGINE_PCI_DIR		"/sys/bus/pci/devices"

/* The engine's buffer: where it is in the engine's own address space. */
#define CMAMEM_ENGINE_BUFFER_ADDRESS	0x40000u
#define CMAMEM_ENGINE_BUFFER_SIZE	4096u
/* QEMU 7.2 aborts on a transfer ending exactly at the buffer's end. */
#define CMAMEM_ENGINE_MAX_TRANSFER	(CMAMEM_ENGINE_BUFFER_SIZE - 1)
/*
 * What cmamem_engine_copy() moves per pair of transfers: the most the
 * buffer takes in whole 64-byte lines.
 */
#define CMAMEM_ENGINE_COPY_CHUNK	4032u

/* BAR0 registers (all 64 bits wide; 32-bit accesses reach the low half). */
#define CMAMEM_ENGINE_REG_SOURCE	0x80
#define CMAMEM_ENGINE_REG_DESTINATION	0x88
#define CMAMEM_ENGINE_REG_COUNT		0x90
#define CMAMEM_ENGINE_REG_COMMAND	0x98
#define CMAMEM_ENGINE_REGISTERS_END	0xa0
#define CMAMEM_ENGINE_CMD_START		0x1
#define CMAMEM_ENGINE_CMD_TO_RAM	0x2

/* PCI command register (config space offset 4) bits the engine needs. */
#define CMAMEM_ENGINE_PCI_COMMAND	4
#define CMAMEM_ENGINE_PCI_MEMORY	0x2
#define CMAMEM_ENGINE_PCI_MASTER	0x4

/* Each transfer takes 100 ms of guest time; a loaded host stretches it. */
#define CMAMEM_ENGINE_TIMEOUT_MS	10000

/* The @dma_limit of an engine that reaches every bus address. */
#define CMAMEM_ENGINE_ANY_ADDRESS	(~(__u64)0)

struct cmamem_engine {
	char slot[32];			/* PCI address, "0000:00:0a.0" */
	char path[96];			/* its sysfs directory */
	volatile __u8 *registers;	/* BAR0, mapped */
	size_t map_length;
	__u64 dma_limit;		/* highest bus address it may be given */
	unsigned int transfers;		/* done so far, for the curious */
	char error[256];		/* what failed, in words */
};

static inline int cmamem_engine_fail(struct cmamem_engine *engine, int error,
				     const char *format, ...)
	__attribute__((format(printf, 3, 4)));

/* Records a message in engine->error; returns @error (a -errno). */
static inline int cmamem_engine_fail(struct cmamem_engine *engine, int error,
				     const char *format, ...)
{
	va_list arguments;

	va_start(arguments, format);
	vsnprintf(engine->error, sizeof(engine->error), format, arguments);
	va_end(arguments);
	return error;
}

#define CMAMEM_ENGINE_PATH_SIZE		160

/*
 * Opens the engine's sysfs file @file (its path goes to @path): the fd,
 * or -errno with engine->error naming the file.
 */
static inline int cmamem_engine_open_file(struct cmamem_engine *engine,
					  const char *file, int flags,
					  char *path)
{
	int fd;

	snprintf(path, CMAMEM_ENGINE_PATH_SIZE, "%s/%s", engine->path, file);
	fd = open(path, flags | O_CLOEXEC);
	if (fd < 0)
		return cmamem_engine_fail(engine, -errno, "open %s: %s", path,
					  strerror(errno));
	return fd;
}

/* Reads a small sysfs file of the engine, as text. */
static inline int cmamem_engine_read_file(struct cmamem_engine *engine,
					  const char *file, char *text,
					  size_t size)
{
	char path[CMAMEM_ENGINE_PATH_SIZE];
	ssize_t length;
	int fd, error;

	fd = cmamem_engine_open_file(engine, file, O_RDONLY, path);
	if (fd < 0)
		return fd;
	length = read(fd, text, size - 1);
	error = length < 0 ? -errno : 0;
	close(fd);
	if (error)
		return cmamem_engine_fail(engine, error, "read %s: %s", path,
					  strerror(-error));
	text[length] = '\0';
	return 0;
}

/* Whether the PCI device at engine->path is an edu engine. */
static inline bool cmamem_engine_is_edu(struct cmamem_engine *engine,
					unsigned int *vendor,
					unsigned int *device)
{
	char text[32];

	*vendor = 0;
	*device = 0;
	if (cmamem_engine_read_file(engine, "vendor", text, sizeof(text)))
		return false;
	*vendor = (unsigned int)strtoul(text, NULL, 0);
	if (cmamem_engine_read_file(engine, "device", text, sizeof(text)))
		return false;
	*device = (unsigned int)strtoul(text, NULL, 0);
	return *vendor == CMAMEM_ENGINE_VENDOR &&
	       *device == CMAMEM_ENGINE_DEVICE;
}

/* Names the device at PCI address @slot; false if the name is too long. */
static inline bool cmamem_engine_set_slot(struct cmamem_engine *engine,
					  const char *slot)
{
	if ((size_t)snprintf(engine->slot, sizeof(engine->slot), "%s", slot) >=
	    sizeof(engine->slot))
		return false;
	snprintf(engine->path, sizeof(engine->path), "%s/%s",
		 CMAMEM_ENGINE_PCI_DIR, engine->slot);
	return true;
}

/*
 * Finds the engine: the one at PCI address @slot ("0000:00:0a.0"), or
 * with @slot NULL the first edu in the order of the PCI addresses. Fills
 * engine->slot and engine->path. -ENODEV (engine->error says why) when
 * there is none: on a board without one, that is a reason to skip.
 */
static inline int cmamem_engine_find(struct cmamem_engine *engine,
				     const char *slot)
{
	unsigned int vendor, device;
	struct dirent **entries;
	int count, index, result;

	if (slot) {
		if (!cmamem_engine_set_slot(engine, slot) ||
		    access(engine->path, F_OK))
			return cmamem_engine_fail(engine, -ENODEV,
						  "no PCI device %s (%s)",
						  slot, engine->path);
		if (!cmamem_engine_is_edu(engine, &vendor, &device))
			return cmamem_engine_fail(engine, -ENODEV,
						  "PCI device %s is %04x:%04x, not an edu engine (%04x:%04x)",
						  slot, vendor, device,
						  CMAMEM_ENGINE_VENDOR,
						  CMAMEM_ENGINE_DEVICE);
		return 0;
	}
	count = scandir(CMAMEM_ENGINE_PCI_DIR, &entries, NULL, alphasort);
	if (count < 0)
		return cmamem_engine_fail(engine, -ENODEV,
					  "no PCI devices here (%s: %s)",
					  CMAMEM_ENGINE_PCI_DIR,
					  strerror(errno));
	result = -ENODEV;
	for (index = 0; index < count; index++) {
		if (result && entries[index]->d_name[0] != '.' &&
		    cmamem_engine_set_slot(engine, entries[index]->d_name) &&
		    cmamem_engine_is_edu(engine, &vendor, &device))
			result = 0;
		free(entries[index]);
	}
	free(entries);
	if (result)
		return cmamem_engine_fail(engine, -ENODEV,
					  "no edu DMA engine (PCI %04x:%04x) in %s",
					  CMAMEM_ENGINE_VENDOR,
					  CMAMEM_ENGINE_DEVICE,
					  CMAMEM_ENGINE_PCI_DIR);
	return 0;
}

/* Writes "1" to the engine's sysfs "enable": memory space on. */
static inline int cmamem_engine_enable(struct cmamem_engine *engine)
{
	char path[CMAMEM_ENGINE_PATH_SIZE];
	int fd, error = 0;

	fd = cmamem_engine_open_file(engine, "enable", O_WRONLY, path);
	if (fd < 0)
		return fd;
	if (write(fd, "1", 1) != 1)
		error = -errno;
	close(fd);
	if (error)
		return cmamem_engine_fail(engine, error, "write 1 to %s: %s",
					  path, strerror(-error));
	return 0;
}

/*
 * Sets the memory-space and bus-master bits of the PCI command register
 * through sysfs "config" (little-endian, offset 4). Without bus master
 * the engine's reads and writes of memory go nowhere.
 */
static inline int cmamem_engine_set_master(struct cmamem_engine *engine)
{
	char path[CMAMEM_ENGINE_PATH_SIZE];
	__u8 command[2];
	int fd, error = 0;

	fd = cmamem_engine_open_file(engine, "config", O_RDWR, path);
	if (fd < 0)
		return fd;
	if (pread(fd, command, sizeof(command), CMAMEM_ENGINE_PCI_COMMAND) !=
	    sizeof(command)) {
		error = errno ? -errno : -EIO;
		close(fd);
		return cmamem_engine_fail(engine, error,
					  "read the command register from %s: %s",
					  path, strerror(-error));
	}
	command[0] |= CMAMEM_ENGINE_PCI_MEMORY | CMAMEM_ENGINE_PCI_MASTER;
	if (pwrite(fd, command, sizeof(command), CMAMEM_ENGINE_PCI_COMMAND) !=
	    sizeof(command))
		error = errno ? -errno : -EIO;
	close(fd);
	if (error)
		return cmamem_engine_fail(engine, error,
					  "write the command register to %s: %s",
					  path, strerror(-error));
	return 0;
}

/* Maps the register BAR, sysfs "resource0". */
static inline int cmamem_engine_map(struct cmamem_engine *engine)
{
	size_t page_size = (size_t)sysconf(_SC_PAGESIZE);
	char path[CMAMEM_ENGINE_PATH_SIZE];
	void *view;
	int fd;

	fd = cmamem_engine_open_file(engine, "resource0", O_RDWR | O_SYNC,
				     path);
	if (fd < 0)
		return fd;
	engine->map_length = page_size > CMAMEM_ENGINE_REGISTERS_END ?
			     page_size : CMAMEM_ENGINE_REGISTERS_END;
	view = mmap(NULL, engine->map_length, PROT_READ | PROT_WRITE,
		    MAP_SHARED, fd, 0);
	if (view == MAP_FAILED) {
		int error = -errno;

		close(fd);
		return cmamem_engine_fail(engine, error, "mmap %s: %s", path,
					  strerror(-error));
	}
	close(fd);	/* the mapping keeps what it needs */
	engine->registers = view;
	return 0;
}

static inline __u32 cmamem_engine_read32(struct cmamem_engine *engine,
					 unsigned int offset)
{
	return *(volatile __u32 *)(engine->registers + offset);
}

static inline void cmamem_engine_write32(struct cmamem_engine *engine,
					 unsigned int offset, __u32 value)
{
	*(volatile __u32 *)(engine->registers + offset) = value;
}

/*
 * A 64-bit register: one 64-bit store where the CPU makes one; a 32-bit
 * program writes the low half, which the engine zero-extends (the caller
 * has refused addresses above 4 GiB there).
 */
static inline void cmamem_engine_write64(struct cmamem_engine *engine,
					 unsigned int offset, __u64 value)
{
	if (sizeof(long) == 8)
		*(volatile __u64 *)(engine->registers + offset) = value;
	else
		cmamem_engine_write32(engine, offset, (__u32)value);
}

static inline void cmamem_engine_close(struct cmamem_engine *engine)
{
	if (engine->registers)
		munmap((void *)engine->registers, engine->map_length);
	engine->registers = NULL;
}

/*
 * Finds, enables and maps the engine (see cmamem_engine_find() for
 * @slot). @dma_limit is the highest bus address the engine reaches (its
 * DMA mask; CMAMEM_ENGINE_ANY_ADDRESS for all). Returns 0, -ENODEV when
 * there is no such engine, or the -errno of the step that failed; either
 * way engine->error says what happened. Needs root (CAP_SYS_ADMIN for
 * config space, CAP_SYS_RAWIO for the BAR).
 */
static inline int cmamem_engine_open(struct cmamem_engine *engine,
				     const char *slot, __u64 dma_limit)
{
	int ret;

	memset(engine, 0, sizeof(*engine));
	engine->dma_limit = dma_limit;
	if (sizeof(long) < 8 && engine->dma_limit > 0xffffffffULL)
		engine->dma_limit = 0xffffffffULL;
	ret = cmamem_engine_find(engine, slot);
	if (!ret)
		ret = cmamem_engine_enable(engine);
	if (!ret)
		ret = cmamem_engine_set_master(engine);
	if (!ret)
		ret = cmamem_engine_map(engine);
	if (!ret && (cmamem_engine_read32(engine, CMAMEM_ENGINE_REG_COMMAND) &
		     CMAMEM_ENGINE_CMD_START))
		ret = cmamem_engine_fail(engine, -EBUSY,
					 "the engine at %s is busy with a transfer",
					 engine->slot);
	if (ret)
		cmamem_engine_close(engine);
	return ret;
}

/* Milliseconds of CLOCK_MONOTONIC, for the timeout. */
static inline long long cmamem_engine_now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/*
 * One transfer of @count bytes between memory at bus address @ram and
 * the engine's buffer at @offset, in the direction @to_ram says; waits
 * until the engine is done. Checks the limits above first: -EINVAL for a
 * count or range the engine's buffer cannot take, -ERANGE for memory the
 * engine cannot reach, -ETIMEDOUT if it never finishes.
 */
static inline int cmamem_engine_transfer(struct cmamem_engine *engine,
					 __u64 ram, __u32 offset,
					 __u32 count, bool to_ram)
{
	__u64 engine_address = CMAMEM_ENGINE_BUFFER_ADDRESS + offset;
	long long deadline;

	if (!engine->registers)
		return cmamem_engine_fail(engine, -EBADF,
					  "the engine is not open");
	if (!count || offset >= CMAMEM_ENGINE_MAX_TRANSFER ||
	    count > CMAMEM_ENGINE_MAX_TRANSFER - offset)
		return cmamem_engine_fail(engine, -EINVAL,
					  "%u bytes at engine offset %u: a transfer must end before byte %u of the engine's %u-byte buffer (QEMU 7.2 aborts otherwise)",
					  count, offset,
					  CMAMEM_ENGINE_MAX_TRANSFER,
					  CMAMEM_ENGINE_BUFFER_SIZE);
	if (ram > engine->dma_limit || count - 1 > engine->dma_limit - ram)
		return cmamem_engine_fail(engine, -ERANGE,
					  "bus address 0x%llx + %u is beyond what the engine at %s reaches (up to 0x%llx)",
					  (unsigned long long)ram, count,
					  engine->slot,
					  (unsigned long long)engine->dma_limit);
	if (cmamem_engine_read32(engine, CMAMEM_ENGINE_REG_COMMAND) &
	    CMAMEM_ENGINE_CMD_START)
		return cmamem_engine_fail(engine, -EBUSY,
					  "the engine at %s is busy with a transfer",
					  engine->slot);

	cmamem_engine_write64(engine, CMAMEM_ENGINE_REG_SOURCE,
			      to_ram ? engine_address : ram);
	cmamem_engine_write64(engine, CMAMEM_ENGINE_REG_DESTINATION,
			      to_ram ? ram : engine_address);
	cmamem_engine_write64(engine, CMAMEM_ENGINE_REG_COUNT, count);
	/*
	 * The CPU's writes to the memory (and the registers above) must be
	 * done before the engine starts: a full barrier, as a driver's
	 * writel() has one before the store.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	cmamem_engine_write32(engine, CMAMEM_ENGINE_REG_COMMAND,
			      CMAMEM_ENGINE_CMD_START |
			      (to_ram ? CMAMEM_ENGINE_CMD_TO_RAM : 0));
	deadline = cmamem_engine_now_ms() + CMAMEM_ENGINE_TIMEOUT_MS;
	while (cmamem_engine_read32(engine, CMAMEM_ENGINE_REG_COMMAND) &
	       CMAMEM_ENGINE_CMD_START) {
		if (cmamem_engine_now_ms() > deadline)
			return cmamem_engine_fail(engine, -ETIMEDOUT,
						  "the engine at %s did not finish a %u-byte transfer in %d ms",
						  engine->slot, count,
						  CMAMEM_ENGINE_TIMEOUT_MS);
		usleep(1000);
	}
	/* What the engine wrote is read only after it said it is done. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	engine->transfers++;
	return 0;
}

/* The engine reads @count bytes at bus address @source into its buffer. */
static inline int cmamem_engine_to_engine(struct cmamem_engine *engine,
					  __u64 source, __u32 offset,
					  __u32 count)
{
	return cmamem_engine_transfer(engine, source, offset, count, false);
}

/* The engine writes @count bytes of its buffer to bus address @dest. */
static inline int cmamem_engine_to_ram(struct cmamem_engine *engine,
				       __u32 offset, __u64 destination,
				       __u32 count)
{
	return cmamem_engine_transfer(engine, destination, offset, count,
				      true);
}

/*
 * Copies @length bytes from bus address @source to @destination through
 * the engine's buffer, CMAMEM_ENGINE_COPY_CHUNK bytes at a time (two
 * transfers, 200 ms of guest time, each).
 */
static inline int cmamem_engine_copy(struct cmamem_engine *engine,
				     __u64 source, __u64 destination,
				     __u64 length)
{
	__u64 done;
	int ret;

	for (done = 0; done < length; done += CMAMEM_ENGINE_COPY_CHUNK) {
		__u32 count = length - done < CMAMEM_ENGINE_COPY_CHUNK ?
			      (__u32)(length - done) :
			      CMAMEM_ENGINE_COPY_CHUNK;

		ret = cmamem_engine_to_engine(engine, source + done, 0, count);
		if (!ret)
			ret = cmamem_engine_to_ram(engine, 0,
						   destination + done, count);
		if (ret)
			return ret;
	}
	return 0;
}

#endif /* CMAMEM_ENGINE_H */
