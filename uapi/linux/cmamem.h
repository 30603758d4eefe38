/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * cmamem: physically contiguous memory from CMA for user space.
 *
 * Every pool is a character device: /dev/cmamem for the kernel's default
 * CMA area and /dev/cmamem-<name> for each device-tree pool. A process opens
 * a pool, allocates named blocks in it, maps them with mmap(MAP_SHARED) at
 * the offset the driver returns, and hands the block's DMA address to a
 * hardware engine.
 *
 * All ioctls are extensible in the way iommufd's are: every argument struct
 * starts with a __u32 @size that user space sets to sizeof() of the struct
 * it was compiled with. The kernel accepts any @size from the first
 * release's struct size upwards; bytes beyond what the kernel knows must be
 * zero, or the ioctl fails with E2BIG. Output fields are written only as far
 * as @size reaches. Reserved fields and unknown flags must be zero.
 *
 * Errors common to every ioctl:
 *
 * - ENOTTY: the command is not a cmamem command.
 * - EFAULT: the argument pointer, or part of the struct, is not accessible.
 * - EINVAL: @size is smaller than the first release's struct, a flag not
 *   defined here is set, or a __reserved field is not zero.
 * - E2BIG: @size is larger than the kernel's struct and the extra bytes are
 *   not all zero, or @size is larger than %CMAMEM_STRUCT_SIZE_MAX (so that
 *   checking the extra bytes is bounded work, as for openat2 and clone3).
 *
 * mmap() of a pool fd maps (part of) one block: the offset is a handle's
 * @mmap_offset plus a multiple of the page size, and the range must end
 * inside the same block. Offsets belong to the open file that holds the
 * handle. A mapping keeps its block alive after the handle is freed and the
 * fd is closed. mmap() fails with:
 *
 * - EINVAL: the mapping is not MAP_SHARED.
 * - EPERM: PROT_EXEC was asked (blocks are never executable).
 * - ENXIO: the offset is not inside a block this file holds a handle on, or
 *   the range runs past the end of that block.
 * - EACCES: PROT_WRITE on a file not open for writing.
 *
 * A mapping cannot grow with mremap(), and is left out of core dumps.
 */
#ifndef _UAPI_LINUX_CMAMEM_H
#define _UAPI_LINUX_CMAMEM_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Not claimed in Documentation/userspace-api/ioctl/ioctl-number.rst. */
#define CMAMEM_TYPE 0xB2

/*
 * Largest @size any ioctl accepts, whatever the struct: no cmamem struct
 * will ever grow this large, and the kernel never scans more user memory
 * than this for non-zero bytes it does not know.
 */
#define CMAMEM_STRUCT_SIZE_MAX 4096

/*
 * Size of every name field, including the terminating NUL: a name is 1 to
 * 31 printable ASCII characters (0x21..0x7e, so no spaces), followed by NUL
 * bytes up to the end of the field.
 */
#define CMAMEM_NAME_SIZE 32

/**
 * enum cmamem_mode - how the CPU sees a block
 * @CMAMEM_MODE_COHERENT: dma_alloc_coherent(). No cache maintenance is ever
 *	needed. On systems where DMA is not cache-coherent the CPU mapping is
 *	uncached, which makes CPU reads slow.
 * @CMAMEM_MODE_WRITECOMBINE: dma_alloc_wc(). Writes are buffered and
 *	combined; reads are uncached. Good for buffers the CPU fills and a
 *	device reads. %CMAMEM_IOCTL_SYNC with %CMAMEM_SYNC_FOR_DEVICE drains
 *	the write buffer.
 * @CMAMEM_MODE_CACHED: cacheable pages with struct pages behind them
 *	(dma_alloc_pages()). CPU access is fast; the caller must call
 *	%CMAMEM_IOCTL_SYNC around device access. The mapping is page-backed,
 *	so get_user_pages() works on it (O_DIRECT, V4L2 USERPTR). Not
 *	available on carveout pools, which have no struct pages.
 *
 * Zero is not a mode: every allocation names its mode explicitly.
 */
enum cmamem_mode {
	CMAMEM_MODE_COHERENT = 1,
	CMAMEM_MODE_WRITECOMBINE = 2,
	CMAMEM_MODE_CACHED = 3,
};

/**
 * enum cmamem_alloc_flags - flags for &struct cmamem_alloc and
 *	&struct cmamem_attach
 * @CMAMEM_MAP: also map the whole block into the caller, shared and
 *	readable and writable, and return the address in @user_address.
 *	The fd must then be open for reading and writing.
 * @CMAMEM_OWNER: ATTACH only: look @name up among the names of the user
 *	@owner_uid gives rather than the caller's own (see &struct
 *	cmamem_attach)
 * @CMAMEM_PINNABLE: ALLOC of a %CMAMEM_MODE_CACHED block only: let
 *	get_user_pages() pin the block's pages through its mappings even
 *	when they lie in a CMA area. The price: Linux (6.1 to at least 6.12)
 *	tries to migrate CMA pages away before a long-term pin (io_uring
 *	fixed buffers, RDMA registration, vfio, V4L2 USERPTR), cannot move
 *	these, and retries until the pinning task is killed. Without the
 *	flag, the mappings of such a block refuse with EFAULT every pin the
 *	kernel looks up through the mapping: every long-term pin, and
 *	short-term pins (O_DIRECT, vmsplice) that its page-table fast path
 *	does not serve (on Linux 6.12 every pin that writes into the pages,
 *	such as an O_DIRECT read; on 6.1 pins of pages not mapped at the
 *	moment, after MADV_DONTNEED). Cached
 *	blocks outside CMA are always pinnable, long-term too (see
 *	%CMAMEM_REPLY_PINNABLE); coherent and write-combine blocks never are.
 */
enum cmamem_alloc_flags {
	CMAMEM_MAP = 1 << 0,
	CMAMEM_PINNABLE = 1 << 1,
	CMAMEM_OWNER = 1 << 2,
};

/**
 * enum cmamem_reply_flags - flags the kernel reports in @out_flags
 * @CMAMEM_ADDRESS_WITHHELD: the caller may not see DMA or physical
 *	addresses (it lacks CAP_SYS_RAWIO and is not in the module's
 *	address_group), so @dma_address and @physical_address are 0.
 * @CMAMEM_REPLY_PINNABLE: the block's mappings accept get_user_pages():
 *	a cached block outside CMA, or one allocated with %CMAMEM_PINNABLE.
 */
enum cmamem_reply_flags {
	CMAMEM_ADDRESS_WITHHELD = 1 << 0,
	CMAMEM_REPLY_PINNABLE = 1 << 1,
};

/**
 * struct cmamem_alloc - ioctl(CMAMEM_IOCTL_ALLOC)
 * @size: sizeof(struct cmamem_alloc)
 * @flags: 0, %CMAMEM_MAP, %CMAMEM_PINNABLE, or both
 * @length: in: bytes wanted, not 0; out: rounded up to whole pages
 * @alignment: in: alignment of the DMA address in bytes: 0 for one page, or
 *	a power of two at least the page size
 * @mode: in: an &enum cmamem_mode
 * @handle: out: the caller's handle on the block, valid on this open file
 * @mmap_offset: out: pass to mmap() to map the block (or a part of it)
 * @dma_address: out: the address a device uses to reach the block
 * @physical_address: out: the CPU physical address of the block
 * @user_address: out: with %CMAMEM_MAP, where the block is mapped; else 0
 * @out_flags: out: &enum cmamem_reply_flags
 * @__reserved: must be 0
 * @name: in: the block's name, unique among the caller's user's blocks in
 *	the pool (see %CMAMEM_NAME_SIZE): every user has names of their own
 * @max_dma_address: in: the highest DMA address any byte of the block may
 *	have, for an engine with fewer address bits than the pool's device
 *	(0xffffffff for a 32-bit engine); 0 for no limit. Callers built
 *	before this field existed pass a shorter @size and get no limit.
 *
 * Allocates a physically contiguous block from the pool and gives the
 * caller a handle on it. The block is freed when its last handle is freed
 * and its last mapping and dma-buf are gone.
 *
 * Errors:
 *
 * - EINVAL: @length is 0, @alignment is not 0 or a power of two of at
 *   least the page size, @mode is not an &enum cmamem_mode,
 *   %CMAMEM_PINNABLE was asked for a mode other than cached, or @name is
 *   empty, not NUL-terminated within its field, holds a character outside
 *   0x21..0x7e, or has non-zero bytes after its NUL.
 * - EEXIST: the caller's user (effective uid) already has a block of that
 *   name in this pool. Other users' names never collide with it.
 * - EFBIG: @length (rounded to pages and to @alignment) is larger than the
 *   module's max_block_size, than the pool's size, or than the address
 *   space can hold.
 * - EDQUOT: the block would take this open file past the module's
 *   fd_quota_bytes, or the caller's user past user_quota_bytes or
 *   user_max_blocks in this pool (a user's blocks count, in every file,
 *   until their memory is freed, whatever keeps them alive: handles,
 *   mappings, dma-bufs).
 * - EMFILE: this open file already holds fd_max_blocks handles.
 * - EOPNOTSUPP: %CMAMEM_MODE_CACHED was asked of a carveout pool.
 * - EPERM: @max_dma_address was given by a caller that may not see DMA
 *   addresses (see %CMAMEM_ADDRESS_WITHHELD): the answers would tell it
 *   where the pool's memory lies.
 * - ERANGE: no block of that length and alignment can end at or below
 *   @max_dma_address in this pool: the pool lies above the limit, or too
 *   little of it lies below (checked before allocating wherever the pool's
 *   region is known; the kernel log gives the pool's lowest address).
 * - EADDRNOTAVAIL: the pool has room, but only above @max_dma_address: the
 *   lowest free run that fits ends beyond it (the kernel log says where).
 *   Freeing blocks in the low part of the pool, or a pool below the limit,
 *   helps; the memory found is given back at once.
 * - ENOMEM: the pool has no contiguous run that large (the kernel log says
 *   how much was asked and how much the pool has), or kernel memory ran out,
 *   or a cached block of the default pool, its CMA area full, would come
 *   from memory the device does not reach directly (beyond its mask, or
 *   bounced by swiotlb; the kernel log says so).
 * - EACCES: %CMAMEM_MAP was asked on a file not open for writing.
 * - EFAULT: with %CMAMEM_MAP, the struct cannot be written; this is found
 *   before anything is allocated (the reply is pinned, so that a mapping,
 *   once made, is never undone).
 * - On a %CMAMEM_MAP failure, mmap()'s errors; the block is then freed.
 */
struct cmamem_alloc {
	__u32 size;
	__u32 flags;
	__aligned_u64 length;
	__aligned_u64 alignment;
	__u32 mode;
	__u32 handle;
	__aligned_u64 mmap_offset;
	__aligned_u64 dma_address;
	__aligned_u64 physical_address;
	__aligned_u64 user_address;
	__u32 out_flags;
	__u32 __reserved;
	char name[CMAMEM_NAME_SIZE];
	__aligned_u64 max_dma_address;
};

/**
 * struct cmamem_attach - ioctl(CMAMEM_IOCTL_ATTACH)
 * @size: sizeof(struct cmamem_attach)
 * @flags: 0, %CMAMEM_MAP, %CMAMEM_OWNER, or both
 * @name: in: name of an existing block in this pool
 * @handle: out: the caller's new handle on the block
 * @mode: out: the block's &enum cmamem_mode
 * @length: out: the block's length in bytes
 * @mmap_offset: out: pass to mmap() to map the block
 * @dma_address: out: as in &struct cmamem_alloc
 * @physical_address: out: as in &struct cmamem_alloc
 * @user_address: out: with %CMAMEM_MAP, where the block is mapped; else 0
 * @out_flags: out: &enum cmamem_reply_flags
 * @__reserved: must be 0
 * @owner_uid: in: with %CMAMEM_OWNER, the user (a uid of the caller's user
 *	namespace) among whose names @name is looked up; out: the block's
 *	owner, so that a caller can check whose block it got
 * @__reserved2: must be 0
 *
 * Gives the caller a new handle on a block another handle (maybe in another
 * process) created. Each ATTACH returns a new handle, which the caller
 * frees like any other.
 *
 * Names are per user: ALLOC files a block under its allocator's effective
 * uid, and ATTACH looks @name up among the caller's own names. So no user
 * can take a name another user's program expects, see which names other
 * users have, or hand a program that attaches by name a block of its own.
 * A privileged program (CAP_SYS_ADMIN) that attaches to other users'
 * blocks names the owner it expects with %CMAMEM_OWNER; blocks are shared
 * across users that way, or as dma-bufs (%CMAMEM_IOCTL_EXPORT). Callers
 * built before @owner_uid existed pass a shorter @size and look in their
 * own names.
 *
 * Errors:
 *
 * - EINVAL: @name is not a valid name (as in &struct cmamem_alloc), or
 *   @owner_uid is not a valid uid in the caller's user namespace.
 * - ENOENT: the user looked in (the caller, or @owner_uid) has no block of
 *   that name in this pool.
 * - EPERM: %CMAMEM_OWNER names another user and the caller lacks
 *   CAP_SYS_ADMIN; whether that user has such a block is not looked at.
 * - EMFILE, EDQUOT: as in &struct cmamem_alloc; an attached block counts
 *   against the attaching file's quotas.
 * - ENOMEM, EACCES: as in &struct cmamem_alloc.
 */
struct cmamem_attach {
	__u32 size;
	__u32 flags;
	char name[CMAMEM_NAME_SIZE];
	__u32 handle;
	__u32 mode;
	__aligned_u64 length;
	__aligned_u64 mmap_offset;
	__aligned_u64 dma_address;
	__aligned_u64 physical_address;
	__aligned_u64 user_address;
	__u32 out_flags;
	__u32 __reserved;
	__u32 owner_uid;
	__u32 __reserved2;
};

/**
 * struct cmamem_free - ioctl(CMAMEM_IOCTL_FREE)
 * @size: sizeof(struct cmamem_free)
 * @flags: must be 0
 * @handle: in: the handle to drop
 * @__reserved: must be 0
 *
 * Drops the caller's handle, of a block or of an import
 * (%CMAMEM_IOCTL_IMPORT: the dma-buf is detached and its reference
 * dropped). A block handle's mmap offset stops working at once. When a
 * block's last handle is dropped its name is free for reuse at once; its
 * memory goes back to the pool when its last mapping and dma-buf are gone
 * too, so existing mappings stay valid until munmap().
 *
 * Errors:
 *
 * - ENOENT: @handle is not a handle of this open file.
 */
struct cmamem_free {
	__u32 size;
	__u32 flags;
	__u32 handle;
	__u32 __reserved;
};

/**
 * enum cmamem_sync_flags - direction of &struct cmamem_sync
 * @CMAMEM_SYNC_FOR_CPU: a device wrote the range; make it visible to the
 *	CPU (invalidate the CPU caches for it). Call before the CPU reads.
 * @CMAMEM_SYNC_FOR_DEVICE: the CPU wrote the range; make it visible to
 *	devices (write back the CPU caches, drain write-combine buffers).
 *	Call before a device reads.
 */
enum cmamem_sync_flags {
	CMAMEM_SYNC_FOR_CPU = 1 << 0,
	CMAMEM_SYNC_FOR_DEVICE = 1 << 1,
};

/**
 * struct cmamem_sync - ioctl(CMAMEM_IOCTL_SYNC)
 * @size: sizeof(struct cmamem_sync)
 * @flags: exactly one of &enum cmamem_sync_flags
 * @handle: in: the block
 * @__reserved: must be 0
 * @offset: in: first byte of the range, from the start of the block
 * @length: in: bytes in the range, not 0
 *
 * Does the cache maintenance a cached block needs around device access.
 * The range is widened to whole cache lines by the kernel. On coherent
 * blocks it does nothing; on write-combine blocks %CMAMEM_SYNC_FOR_DEVICE
 * drains the CPU's write buffers. It always validates its arguments, so a
 * program that works on a coherent block also works on a cached one.
 *
 * Invalidating discards what the CPU caches hold for the range, including
 * data another process wrote through its mapping and has not synced yet.
 * A caller whose fd is not open for writing must not be able to destroy
 * it: for such a caller %CMAMEM_SYNC_FOR_CPU first writes the range back
 * (as %CMAMEM_SYNC_FOR_DEVICE does) and then invalidates it, which costs
 * one more pass over the range and needs no permission (a read-only fd
 * gets no error of its own). A dma-buf opened read-only does the same in
 * DMA_BUF_IOCTL_SYNC. Where DMA is coherent (x86) there is nothing to
 * write back or invalidate.
 *
 * Errors:
 *
 * - EINVAL: @flags is not exactly one direction, @length is 0, the range
 *   does not lie inside the block (checked without overflow), or @handle
 *   is an import handle (sync those with DMA_BUF_IOCTL_SYNC).
 * - ENOENT: @handle is not a handle of this open file.
 */
struct cmamem_sync {
	__u32 size;
	__u32 flags;
	__u32 handle;
	__u32 __reserved;
	__aligned_u64 offset;
	__aligned_u64 length;
};

/**
 * struct cmamem_block_info - ioctl(CMAMEM_IOCTL_BLOCK_INFO)
 * @size: sizeof(struct cmamem_block_info)
 * @flags: must be 0
 * @handle: in: the block
 * @mode: out: its &enum cmamem_mode
 * @length: out: its length in bytes
 * @alignment: out: the alignment its DMA address has: what ALLOC asked
 *	for, or the page size when ALLOC asked for 0
 * @mmap_offset: out: this handle's mmap offset
 * @dma_address: out: as in &struct cmamem_alloc
 * @physical_address: out: as in &struct cmamem_alloc
 * @handles: out: handles on the block, in every process
 * @mappings: out: mappings (VMAs) of the block, in every process
 * @dma_bufs: out: live dma-bufs exported from the block
 * @out_flags: out: &enum cmamem_reply_flags
 * @owner_uid: out: the user who allocated it
 * @__reserved: must be 0
 * @name: out: its name
 * @pool: out: the name of its pool ("default" for /dev/cmamem)
 *
 * Errors:
 *
 * - EINVAL: @handle is an import handle, not a block.
 * - ENOENT: @handle is not a handle of this open file.
 */
struct cmamem_block_info {
	__u32 size;
	__u32 flags;
	__u32 handle;
	__u32 mode;
	__aligned_u64 length;
	__aligned_u64 alignment;
	__aligned_u64 mmap_offset;
	__aligned_u64 dma_address;
	__aligned_u64 physical_address;
	__u32 handles;
	__u32 mappings;
	__u32 dma_bufs;
	__u32 out_flags;
	__u32 owner_uid;
	__u32 __reserved;
	char name[CMAMEM_NAME_SIZE];
	char pool[CMAMEM_NAME_SIZE];
};

/**
 * enum cmamem_pool_flags - what a pool is, in &struct cmamem_pool_info
 * @CMAMEM_POOL_DEFAULT: the kernel's default DMA area (/dev/cmamem)
 * @CMAMEM_POOL_CMA: blocks come from a CMA area (for the default pool: the
 *	kernel has CMA; without it the page allocator serves blocks)
 * @CMAMEM_POOL_CARVEOUT: blocks come from a no-map carveout
 * @CMAMEM_POOL_TOTAL_KNOWN: @total_bytes and @free_bytes are the pool's
 *	own. When clear (the default pool), the kernel does not tell modules
 *	the size of its default CMA area: @total_bytes is 0 and @free_bytes
 *	is the free CMA memory of the whole system (CmaFree).
 * @CMAMEM_POOL_CACHED: %CMAMEM_MODE_CACHED blocks can be allocated here
 */
enum cmamem_pool_flags {
	CMAMEM_POOL_DEFAULT = 1 << 0,
	CMAMEM_POOL_CMA = 1 << 1,
	CMAMEM_POOL_CARVEOUT = 1 << 2,
	CMAMEM_POOL_TOTAL_KNOWN = 1 << 3,
	CMAMEM_POOL_CACHED = 1 << 4,
};

/**
 * struct cmamem_pool_info - ioctl(CMAMEM_IOCTL_POOL_INFO)
 * @size: sizeof(struct cmamem_pool_info)
 * @flags: must be 0
 * @pool_flags: out: &enum cmamem_pool_flags
 * @blocks: out: live blocks in the pool
 * @total_bytes: out: size of the pool, see %CMAMEM_POOL_TOTAL_KNOWN
 * @used_bytes: out: bytes held by live blocks
 * @peak_bytes: out: highest @used_bytes since the pool was created
 * @free_bytes: out: bytes not in use, see %CMAMEM_POOL_TOTAL_KNOWN;
 *	fragmentation may keep a large block from fitting
 * @allocations: out: successful allocations since the pool was created
 * @failures: out: failed allocations since the pool was created
 * @max_block_bytes: out: the largest length an allocation may ask for
 *	(the module's max_block_size, or the pool size if smaller; 0 when
 *	neither limits it)
 * @page_size: out: the kernel's page size
 * @__reserved: must be 0
 * @name: out: the pool's name ("default" for /dev/cmamem)
 * @largest_free_bytes: out: with %CMAMEM_POOL_TOTAL_KNOWN, the longest run
 *	of the pool's region that no block occupies (a block's alignment may
 *	still keep a request of that length from fitting); when @free_bytes
 *	is much larger, the pool is fragmented. 0 for the default pool, whose
 *	CMA area the kernel does not describe to modules. (Added after the
 *	first release: older kernels leave it untouched.)
 *
 * Errors: only the common ones.
 */
struct cmamem_pool_info {
	__u32 size;
	__u32 flags;
	__u32 pool_flags;
	__u32 blocks;
	__aligned_u64 total_bytes;
	__aligned_u64 used_bytes;
	__aligned_u64 peak_bytes;
	__aligned_u64 free_bytes;
	__aligned_u64 allocations;
	__aligned_u64 failures;
	__aligned_u64 max_block_bytes;
	__u32 page_size;
	__u32 __reserved;
	char name[CMAMEM_NAME_SIZE];
	__aligned_u64 largest_free_bytes;
};

/**
 * struct cmamem_export - ioctl(CMAMEM_IOCTL_EXPORT)
 * @size: sizeof(struct cmamem_export)
 * @flags: must be 0
 * @handle: in: the block to export
 * @fd_flags: in: flags of the new file descriptor, as dma-heaps take them:
 *	O_CLOEXEC and the access mode (O_RDONLY, O_WRONLY or O_RDWR) only,
 *	which the pool fd's own mode must allow. A dma-buf is mapped
 *	writable only when open for writing.
 * @fd: out: the new dma-buf file descriptor (unsigned, as in
 *	&struct dma_heap_allocation_data)
 * @__reserved: must be 0
 *
 * Exports the whole block as a dma-buf that other drivers (V4L2, DRM, ...)
 * import. The dma-buf holds a reference on the block: the block stays
 * allocated after %CMAMEM_IOCTL_FREE and after the pool fd is closed, until
 * the last reference to the dma-buf goes, and the module cannot be unloaded
 * meanwhile. &struct cmamem_block_info.dma_bufs counts the live dma-bufs.
 *
 * The dma-buf can be mmap()ed (MAP_SHARED only, never PROT_EXEC, as a pool
 * fd) and DMA_BUF_IOCTL_SYNC does the cache maintenance of a
 * %CMAMEM_MODE_CACHED block even when no device is attached to it, so it
 * may stand in for %CMAMEM_IOCTL_SYNC. Each importing device gets the block
 * as one contiguous run mapped for it.
 *
 * Errors:
 *
 * - EINVAL: @fd_flags has a bit other than O_CLOEXEC and O_ACCMODE, or
 *   @handle is an import handle (the dma-buf exists already).
 * - EACCES: @fd_flags asks for write access and the pool fd is not open
 *   for writing, or for read access and it is not open for reading: a
 *   dma-buf gives no more access than the pool fd it came from.
 * - ENOENT: @handle is not a handle of this open file.
 * - EOPNOTSUPP: the block is in a carveout pool (%CMAMEM_POOL_CARVEOUT),
 *   whose memory has no struct pages for importers to map.
 * - EMFILE: the process has no free file descriptor.
 * - ENFILE: the system has no free file.
 * - ENOMEM: no memory for the dma-buf.
 */
struct cmamem_export {
	__u32 size;
	__u32 flags;
	__u32 handle;
	__u32 fd_flags;
	__u32 fd;
	__u32 __reserved;
};

/**
 * struct cmamem_import - ioctl(CMAMEM_IOCTL_IMPORT)
 * @size: sizeof(struct cmamem_import)
 * @flags: must be 0
 * @fd: in: a dma-buf file descriptor, from any exporter (cmamem, a DMA-BUF
 *	heap, DRM PRIME, V4L2 VIDIOC_EXPBUF, ...)
 * @handle: out: the new import handle
 * @length: out: the dma-buf's size in bytes
 * @dma_address: out: where the pool's device sees the buffer; 0 when
 *	%CMAMEM_ADDRESS_WITHHELD is set in @out_flags
 * @out_flags: out: &enum cmamem_reply_flags
 * @__reserved: must be 0
 *
 * Attaches the dma-buf to the pool's device and maps it for that device,
 * so that an engine given @dma_address (the way blocks' addresses are
 * given) reaches the buffer. The buffer must be one contiguous run of DMA
 * addresses for that device. The import handle holds a reference on the
 * dma-buf, its attachment and its mapping until %CMAMEM_IOCTL_FREE drops
 * the handle or the pool fd is closed; closing @fd meanwhile changes
 * nothing. Who sees @dma_address follows the rule of &struct cmamem_alloc.
 * Importing a dma-buf the pool has imported already (through any open
 * file) shares that attachment and mapping, and so its address: the
 * buffer stays imported until the last of those handles goes.
 *
 * An import handle counts against fd_max_blocks, not against
 * fd_quota_bytes (the memory is the exporter's). It has no mmap offset:
 * map and sync the buffer through the dma-buf fd itself (mmap() and
 * DMA_BUF_IOCTL_SYNC, which also syncs the pool device's mapping).
 * %CMAMEM_IOCTL_SYNC, %CMAMEM_IOCTL_BLOCK_INFO and %CMAMEM_IOCTL_EXPORT
 * fail with EINVAL on it.
 *
 * Errors:
 *
 * - EBADF: @fd is not an open file descriptor.
 * - EINVAL: @fd is not a dma-buf, or the buffer is not one contiguous run
 *   of DMA addresses for the pool's device (an IOMMU may make a scattered
 *   buffer contiguous; without one, the pages themselves must be).
 * - EMFILE: this open file already holds fd_max_blocks handles.
 * - ENOMEM: no memory for the handle, the attachment or the mapping.
 * - ERANGE: the pool's device does not reach the buffer's memory directly
 *   (past its DMA mask, the pool module's dma_mask_bits for /dev/cmamem,
 *   or swiotlb forced): the DMA API would bounce it through a buffer of its
 *   own, whose address is useless to an engine. Also when the device
 *   reaches only part of memory and the kernel has no bounce buffers, so
 *   that mapping a buffer out of reach would fail with a kernel warning.
 *   A block of a cmamem pool exported to a device that does not reach it
 *   directly is refused the same way by the exporter's map callback.
 * - Any other error the exporter's attach or map callback returns (for
 *   example EBUSY), unchanged.
 */
struct cmamem_import {
	__u32 size;
	__u32 flags;
	__s32 fd;
	__u32 handle;
	__aligned_u64 length;
	__aligned_u64 dma_address;
	__u32 out_flags;
	__u32 __reserved;
};

enum {
	CMAMEM_CMD_BASE = 0x80,
	CMAMEM_CMD_ALLOC = CMAMEM_CMD_BASE,
	CMAMEM_CMD_ATTACH,
	CMAMEM_CMD_FREE,
	CMAMEM_CMD_SYNC,
	CMAMEM_CMD_BLOCK_INFO,
	CMAMEM_CMD_POOL_INFO,
	CMAMEM_CMD_EXPORT,
	CMAMEM_CMD_IMPORT,
};

#define CMAMEM_IOCTL_ALLOC	_IO(CMAMEM_TYPE, CMAMEM_CMD_ALLOC)
#define CMAMEM_IOCTL_ATTACH	_IO(CMAMEM_TYPE, CMAMEM_CMD_ATTACH)
#define CMAMEM_IOCTL_FREE	_IO(CMAMEM_TYPE, CMAMEM_CMD_FREE)
#define CMAMEM_IOCTL_SYNC	_IO(CMAMEM_TYPE, CMAMEM_CMD_SYNC)
#define CMAMEM_IOCTL_BLOCK_INFO	_IO(CMAMEM_TYPE, CMAMEM_CMD_BLOCK_INFO)
#define CMAMEM_IOCTL_POOL_INFO	_IO(CMAMEM_TYPE, CMAMEM_CMD_POOL_INFO)
#define CMAMEM_IOCTL_EXPORT	_IO(CMAMEM_TYPE, CMAMEM_CMD_EXPORT)
#define CMAMEM_IOCTL_IMPORT	_IO(CMAMEM_TYPE, CMAMEM_CMD_IMPORT)

#endif /* _UAPI_LINUX_CMAMEM_H */
