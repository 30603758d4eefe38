/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libcmamem: a thin C library over the cmamem ioctls (<linux/cmamem.h>).
 *
 * Every function returns 0 (or a non-negative result) on success and a
 * negative errno on failure; none of them keeps state, so they are safe to
 * call from any number of threads at once (the kernel serialises what needs
 * serialising). cmamem_strerror() turns a negative errno into a message
 * that says what it means for cmamem.
 *
 * Handles and mmap offsets belong to the open file they came from: a block
 * lives while some open file holds a handle on it (or some mapping or
 * dma-buf still uses it). Close the fd, or cmamem_free() the handle, to let
 * it go.
 *
 * Linking: pkg-config --cflags --libs cmamem (add --static for
 * libcmamem.a). The shared library's SONAME is libcmamem.so.1. Its first
 * functions carry the symbol version CMAMEM_1.0, the dma-buf ones
 * (cmamem_export(), cmamem_import()) CMAMEM_1.1, cmamem_pool_query()
 * CMAMEM_1.2, cmamem_alloc_below() and cmamem_attach_owned() CMAMEM_1.3
 * (see lib/libcmamem.map in
 * the sources), so a program built against a newer library refuses to load
 * with an older one.
 * The manual is libcmamem(3); the ioctls themselves are in cmamem(4).
 *
 * Typical use:
 *
 *	struct cmamem_alloc block;
 *	void *cpu;
 *	int fd = cmamem_open("camera", O_RDWR);
 *
 *	if (fd < 0)
 *		return fd;
 *	err = cmamem_alloc(fd, "frame0", 4 << 20, CMAMEM_MODE_CACHED, 0, 0,
 *			   &block);
 *	err = cmamem_map(fd, block.mmap_offset, 0, block.length,
 *			 PROT_READ | PROT_WRITE, &cpu);
 *	... write to cpu ...
 *	err = cmamem_sync(fd, block.handle, CMAMEM_SYNC_FOR_DEVICE, 0,
 *			  block.length);
 *	... hand block.dma_address to the device ...
 */
#ifndef CMAMEM_LIBCMAMEM_H
#define CMAMEM_LIBCMAMEM_H

#include <stddef.h>
#include <stdint.h>
#include <linux/cmamem.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Name of the kernel's default pool, /dev/cmamem. */
#define CMAMEM_DEFAULT_POOL "default"

/* Longest path cmamem_pool_path() produces, with its NUL. */
#define CMAMEM_PATH_SIZE (sizeof("/dev/cmamem-") + CMAMEM_NAME_SIZE)

/**
 * cmamem_pool_path() - device node of a pool
 * @pool: pool name: NULL or "default" for /dev/cmamem, NAME for
 *	/dev/cmamem-NAME, or an absolute path, used as it is
 * @path: where to write the path
 * @size: size of @path; %CMAMEM_PATH_SIZE is always enough for a name
 *
 * Return: 0, -EINVAL if @pool is empty or holds a '/' (other than as an
 * absolute path) or is longer than a pool name can be, -ENAMETOOLONG if
 * @path is too small.
 */
int cmamem_pool_path(const char *pool, char *path, size_t size);

/**
 * cmamem_open() - open a pool
 * @pool: as for cmamem_pool_path()
 * @flags: O_RDONLY or O_RDWR, optionally with other open(2) flags;
 *	O_CLOEXEC is always added. Mapping blocks writable, and %CMAMEM_MAP,
 *	need O_RDWR.
 *
 * Return: a file descriptor, or a negative errno: -ENOENT when the pool's
 * device node does not exist (no such pool, or the module is not loaded).
 */
int cmamem_open(const char *pool, int flags);

/**
 * cmamem_pool_list() - names of the pools on this system
 * @names: array that receives up to @max names, "default" first, the others
 *	sorted; may be NULL when @max is 0
 * @max: entries in @names
 *
 * Looks for /dev/cmamem and /dev/cmamem-* character devices; it does not
 * open them.
 *
 * Return: the number of pools found (which may be more than @max: only
 * the first @max are stored), or a negative errno if /dev cannot be read.
 */
int cmamem_pool_list(char (*names)[CMAMEM_NAME_SIZE], int max);

/**
 * cmamem_check_name() - check a block name the way the kernel does
 * @name: the name
 *
 * Return: 0 if @name is 1 to %CMAMEM_NAME_SIZE - 1 characters, all in
 * 0x21..0x7e; -EINVAL otherwise.
 */
int cmamem_check_name(const char *name);

/**
 * cmamem_alloc() - allocate a named block (%CMAMEM_IOCTL_ALLOC)
 * @fd: an open pool
 * @name: the block's name, unique in the pool (see cmamem_check_name())
 * @length: bytes wanted; the kernel rounds up to whole pages
 * @mode: an &enum cmamem_mode
 * @alignment: alignment of the DMA address: 0 for a page, or a power of
 *	two no smaller than the page size
 * @flags: 0 or %CMAMEM_MAP (also map the block; needs O_RDWR)
 * @result: receives the kernel's reply: handle, length, mmap_offset,
 *	dma_address (0 with %CMAMEM_ADDRESS_WITHHELD in out_flags when the
 *	caller may not see it), user_address with %CMAMEM_MAP. Only the
 *	first release's fields, up to @name, are written (programs built
 *	before the struct grew pass a smaller one).
 *
 * Return: 0 or a negative errno, as listed in <linux/cmamem.h>
 * (-EINVAL when @name does not fit the name field).
 */
int cmamem_alloc(int fd, const char *name, uint64_t length,
		 enum cmamem_mode mode, uint64_t alignment, uint32_t flags,
		 struct cmamem_alloc *result);

/**
 * cmamem_alloc_below() - allocate a named block that an engine with fewer
 *	address bits than the pool's device reaches (%CMAMEM_IOCTL_ALLOC;
 *	libcmamem 1.3)
 * @fd: an open pool
 * @name: as for cmamem_alloc()
 * @length: as for cmamem_alloc()
 * @mode: as for cmamem_alloc()
 * @alignment: as for cmamem_alloc()
 * @flags: as for cmamem_alloc()
 * @max_dma_address: the highest DMA address any byte of the block may
 *	have: 0xffffffff for an engine with 32 address bits, in general
 *	(1 << bits) - 1 (UINT64_MAX for 64); 0 for no limit, which is
 *	cmamem_alloc()
 * @result: receives the kernel's reply as for cmamem_alloc(), up to and
 *	including @max_dma_address (which keeps the limit asked)
 *
 * Only callers that may see DMA addresses may give a limit: the answers
 * would tell the others where the pool's memory lies.
 *
 * Return: 0 or a negative errno of cmamem_alloc(), and: -EPERM when the
 * caller may not see DMA addresses (no CAP_SYS_RAWIO, not in the
 * module's address_group); -ERANGE when the pool cannot hold the block
 * below the limit at all (it lies above the limit, or too little of it
 * lies below; the kernel log gives the pool's lowest address);
 * -EADDRNOTAVAIL when the pool has room only above the limit at the
 * moment (freeing blocks in its low part may help); -E2BIG from a driver
 * that predates the limit.
 */
int cmamem_alloc_below(int fd, const char *name, uint64_t length,
		       enum cmamem_mode mode, uint64_t alignment,
		       uint32_t flags, uint64_t max_dma_address,
		       struct cmamem_alloc *result);

/**
 * cmamem_attach() - take a handle on an existing block (%CMAMEM_IOCTL_ATTACH)
 * @fd: an open pool
 * @name: the block's name
 * @flags: 0 or %CMAMEM_MAP
 * @result: receives the kernel's reply, as far as the first release's
 *	struct reaches (its @owner_uid is left as it was)
 *
 * The new handle keeps the block alive until it is freed or @fd is closed.
 * Names are per user: @name is looked up among the caller's own blocks.
 *
 * Return: 0 or a negative errno: -ENOENT when the caller's user has no
 * block of that name.
 */
int cmamem_attach(int fd, const char *name, uint32_t flags,
		  struct cmamem_attach *result);

/**
 * cmamem_attach_owned() - take a handle on another user's block, naming
 *	the owner expected (%CMAMEM_IOCTL_ATTACH with %CMAMEM_OWNER;
 *	libcmamem 1.3)
 * @fd: an open pool
 * @name: the block's name among @owner_uid's blocks
 * @flags: 0 or %CMAMEM_MAP
 * @owner_uid: the user whose block it must be
 * @result: receives the kernel's reply, @owner_uid included
 *
 * What a privileged daemon uses to attach the block a client named: it
 * never gets a block of the same name that another user made.
 *
 * Return: 0 or a negative errno of cmamem_attach(), and -EPERM when
 * @owner_uid is another user and the caller lacks CAP_SYS_ADMIN (whether
 * that user has such a block or not), -EINVAL for a uid that is not valid.
 */
int cmamem_attach_owned(int fd, const char *name, uint32_t flags,
			uint32_t owner_uid, struct cmamem_attach *result);

/**
 * cmamem_free() - drop a handle (%CMAMEM_IOCTL_FREE)
 * @fd: the open pool the handle belongs to
 * @handle: the handle, of a block or of an import (cmamem_import())
 *
 * A block itself goes when its last handle, mapping and dma-buf are gone.
 * Freeing an import handle detaches the dma-buf from the pool's device
 * and drops the pool's reference on it.
 *
 * Return: 0, or -ENOENT if @handle is not a handle of @fd.
 */
int cmamem_free(int fd, uint32_t handle);

/**
 * cmamem_sync() - cache maintenance around device access (%CMAMEM_IOCTL_SYNC)
 * @fd: the open pool
 * @handle: the block
 * @direction: %CMAMEM_SYNC_FOR_DEVICE after the CPU wrote, or
 *	%CMAMEM_SYNC_FOR_CPU before the CPU reads what a device wrote
 * @offset: first byte of the range, from the start of the block
 * @length: bytes in the range, not 0
 *
 * Return: 0 or a negative errno.
 */
int cmamem_sync(int fd, uint32_t handle, uint32_t direction,
		uint64_t offset, uint64_t length);

/**
 * cmamem_block_info() - describe a block (%CMAMEM_IOCTL_BLOCK_INFO)
 * @fd: the open pool
 * @handle: a handle of @fd
 * @info: receives the description
 *
 * Return: 0 or a negative errno.
 */
int cmamem_block_info(int fd, uint32_t handle, struct cmamem_block_info *info);

/**
 * cmamem_pool_info() - describe the pool @fd is open on
 *	(%CMAMEM_IOCTL_POOL_INFO)
 * @fd: the open pool
 * @info: receives the fields of the first release, up to @name; the
 *	fields after it keep what @info held (programs built before they
 *	existed pass a smaller struct). cmamem_pool_query() fills them all.
 *
 * Return: 0 or a negative errno.
 */
int cmamem_pool_info(int fd, struct cmamem_pool_info *info);

/**
 * cmamem_pool_query() - describe the pool @fd is open on, every field
 *	this header knows (%CMAMEM_IOCTL_POOL_INFO; libcmamem 1.2)
 * @fd: the open pool
 * @info: receives the description
 * @size: sizeof(*info) as the caller was compiled: no byte past it is
 *	written, so a program keeps working with a newer library
 *
 * Fields the running kernel does not know yet read 0 (@largest_free_bytes
 * before the kernel reported it).
 *
 * Return: 0, -EINVAL if @size is below the first release's struct, or a
 * negative errno of the ioctl.
 */
int cmamem_pool_query(int fd, struct cmamem_pool_info *info, size_t size);

/**
 * cmamem_export() - export a block as a dma-buf (%CMAMEM_IOCTL_EXPORT)
 * @fd: the open pool holding @handle
 * @handle: a block handle of @fd (not an import handle)
 * @fd_flags: flags of the new file descriptor: its access mode (O_RDWR,
 *	or O_RDONLY for a dma-buf that cannot be mapped writable), with
 *	O_CLOEXEC unless the descriptor is meant for a program this process
 *	executes. Nothing else.
 *
 * The dma-buf is what V4L2 (V4L2_MEMORY_DMABUF), DRM (PRIME) and codecs
 * import. It holds the block alive after cmamem_free() and after @fd is
 * closed, until its last file descriptor and mapping are gone. Close it
 * with close(). It can be mapped with mmap(MAP_SHARED) at offset 0, or
 * with cmamem_map(dmabuf, 0, offset, length, prot, &address), and its
 * DMA_BUF_IOCTL_SYNC does the cache maintenance of a cached block.
 *
 * Return: the dma-buf's file descriptor, or a negative errno: -EINVAL for
 * @fd_flags other than O_CLOEXEC and an access mode, or an import handle;
 * -ENOENT if @handle is not a handle of @fd; -EOPNOTSUPP for a block of a
 * carveout pool; -EMFILE when the process has no free file descriptor.
 */
int cmamem_export(int fd, uint32_t handle, int fd_flags);

/**
 * cmamem_import() - attach a dma-buf to a pool's device (%CMAMEM_IOCTL_IMPORT)
 * @fd: an open pool
 * @dmabuf_fd: a dma-buf file descriptor, from any exporter (cmamem_export(),
 *	a DMA-BUF heap, DRM PRIME, V4L2 VIDIOC_EXPBUF, ...)
 * @result: receives the kernel's reply: the import handle, the dma-buf's
 *	length, and the dma_address where the pool's device sees it (0, with
 *	%CMAMEM_ADDRESS_WITHHELD in out_flags, when the caller may not see
 *	addresses, as for blocks)
 *
 * Maps the buffer for the pool's device, so that an engine that takes a
 * DMA address (the way blocks' addresses are given) reaches it. The import
 * handle keeps the dma-buf attached and mapped until cmamem_free() drops
 * it or @fd is closed; closing @dmabuf_fd meanwhile changes nothing. An
 * import handle has no mmap offset: map and sync the buffer through the
 * dma-buf itself. cmamem_sync(), cmamem_block_info() and cmamem_export()
 * fail with -EINVAL on it.
 *
 * Return: 0 or a negative errno: -EBADF when @dmabuf_fd is not open,
 * -EINVAL when it is not a dma-buf or the buffer is not one contiguous run
 * of DMA addresses for the pool's device, -EMFILE when @fd holds
 * fd_max_blocks handles, or an error of the exporter (-EBUSY, ...).
 */
int cmamem_import(int fd, int dmabuf_fd, struct cmamem_import *result);

/**
 * cmamem_map() - map (part of) a block with mmap(MAP_SHARED)
 * @fd: the open pool holding a handle on the block
 * @mmap_offset: the handle's mmap_offset
 * @offset: where in the block the mapping starts: a multiple of the page
 *	size
 * @length: bytes to map; the range must end inside the block
 * @prot: PROT_READ, PROT_WRITE or both (never PROT_EXEC)
 * @address: receives where the mapping starts
 *
 * The mapping keeps the block alive until cmamem_unmap(), even after the
 * handle is freed and @fd is closed.
 *
 * Return: 0 or a negative errno: -EINVAL for an unaligned @offset or a
 * zero @length, -EOVERFLOW if the range does not fit this process's
 * address space, else mmap()'s errors listed in <linux/cmamem.h>.
 */
int cmamem_map(int fd, uint64_t mmap_offset, uint64_t offset, uint64_t length,
	       int prot, void **address);

/**
 * cmamem_unmap() - undo cmamem_map()
 * @address: what cmamem_map() returned
 * @length: the length given to cmamem_map()
 *
 * Return: 0 or a negative errno.
 */
int cmamem_unmap(void *address, uint64_t length);

/**
 * cmamem_mode_name() - the name of an &enum cmamem_mode
 * @mode: the mode
 *
 * Return: "coherent", "writecombine", "cached", or "unknown".
 */
const char *cmamem_mode_name(uint32_t mode);

/**
 * cmamem_parse_mode() - parse a mode name
 * @text: "coherent", "wc" or "writecombine", or "cached"
 *
 * Return: the &enum cmamem_mode, or -EINVAL.
 */
int cmamem_parse_mode(const char *text);

/**
 * cmamem_strerror() - what an error from this library means for cmamem
 * @error: a negative (or positive) errno
 *
 * Return: a constant string, never NULL: the system's description followed
 * by what the error means for cmamem where the uapi gives it a meaning
 * (for example -EFBIG: "File too large: block larger than the pool or the
 * module's max_block_size").
 */
const char *cmamem_strerror(int error);

#ifdef __cplusplus
}
#endif

#endif /* CMAMEM_LIBCMAMEM_H */
