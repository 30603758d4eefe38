/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cmamem: internal structures shared by the files of the module.
 *
 * The files are layers, each calling only the ones above it in this list
 * (docs/design.md has the diagram and which file owns which structure):
 *
 *   pool.c  >  block.c  >  mmap.c  >  dmabuf.c  >  stats.c  >  file.c  >
 *   ioctl.c, legacy.c  >  main.c
 *
 * Lock order, outermost first (see docs/design.md):
 *
 *   mmap_lock  >  cmamem_file.lock  >  cmamem_pool.lock
 *
 * The mm core calls our .mmap and vm_operations with mmap_lock held, so
 * no cmamem mutex may ever be held across anything that takes mmap_lock:
 * copy_to_user(), copy_from_user(), vm_mmap(), vm_munmap().
 */
#ifndef _CMAMEM_INTERNAL_H
#define _CMAMEM_INTERNAL_H

#include <linux/atomic.h>
#include <linux/cmamem.h>
#include <linux/dma-mapping.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/llist.h>
#include <linux/maple_tree.h>
#include <linux/miscdevice.h>
#include <linux/mutex.h>
#include <linux/rhashtable-types.h>
#include <linux/sched.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/xarray.h>

struct dentry;
struct dma_buf;
struct dma_buf_attachment;
struct file;
struct sg_table;
struct vm_area_struct;

/*
 * Huge mappings: pfn-mapped blocks get PMD entries where block, alignment
 * and address allow (see mmap.c). That takes a special PMD bit, without
 * which get_user_pages_fast() would take the memory for a normal page,
 * and the architecture's support for PFN maps of that size.
 */
#if defined(CMAMEM_HAVE_PMD_SPECIAL) && \
	defined(CMAMEM_HAVE_MM_GET_UNMAPPED_AREA) && \
	defined(CONFIG_ARCH_SUPPORTS_PMD_PFNMAP)
#define CMAMEM_HUGE_PFNMAP
#endif

/* "default" is the name of the pool behind /dev/cmamem. */
#define CMAMEM_DEFAULT_POOL_NAME	"default"
/* Longest device-tree pool label, so "cmamem-<label>" fits a name field. */
#define CMAMEM_LABEL_MAX		24

/* Module parameter of block.c, read by POOL_INFO; use READ_ONCE(). */
extern unsigned long long cmamem_max_block_size;

/**
 * struct cmamem_pool_stats - counters of one pool, under &cmamem_pool.lock
 * @used_bytes: sum of the lengths of the live blocks
 * @peak_bytes: highest @used_bytes since the pool was created
 * @allocations: blocks allocated successfully
 * @failures: allocations the pool had no memory for
 * @blocks: live blocks, including unnamed ones kept alive by mappings
 */
struct cmamem_pool_stats {
	u64 used_bytes;
	u64 peak_bytes;
	u64 allocations;
	u64 failures;
	u32 blocks;
};

/**
 * struct cmamem_user_usage - what one user's blocks take of one pool
 * @bytes: lengths of the live blocks the user allocated
 * @blocks: how many there are
 *
 * A block counts from its allocation until its memory goes back to the
 * pool, however long handles, mappings, dma-bufs or a deferred free keep
 * it; it counts for the user who allocated it (&cmamem_block.owner).
 */
struct cmamem_user_usage {
	u64 bytes;
	unsigned int blocks;
};

/**
 * struct cmamem_pool - one character device and the memory behind it
 * @ref: the pool's lifetime: one reference while it is published, one per
 *	open file and one per block, so the DMA device outlives every block
 *	even if the device-tree node goes away under open files
 * @misc: the character device, /dev/cmamem or /dev/cmamem-<name>
 * @dma_dev: the device blocks are allocated for (its DMA mask is set,
 *	its CMA area or coherent pool is the pool's memory); NULL until the
 *	pool is ready. A reference is held on it.
 * @name: the pool's name, "default" or the device-tree label
 * @device_name: the misc device's name
 * @pool_flags: &enum cmamem_pool_flags
 * @region_base: physical base of the device-tree region (0 for default)
 * @region_size: size of the device-tree region, 0 when unknown (default)
 * @has_reserved_mem: of_reserved_mem_device_init() succeeded on @dma_dev
 * @lock: protects @names, @blocks, @stats, @users and, in every block of the
 *	pool, &cmamem_block.handles, .published and .pool_node. Taken
 *	inside &cmamem_file.lock and inside mmap_lock, never around them.
 * @names: published block names, keyed on the whole zero-padded name
 *	(pool.c's cmamem_pool_name_*() functions)
 * @blocks: every live block of the pool, for debugfs
 * @stats: counters
 * @users: uid -> &struct cmamem_user_usage of every user with live blocks
 *	in the pool (under @lock)
 * @import_lock: protects @imports; held across attaching and detaching
 *	a dma-buf (so two IMPORTs of one dma-buf share one attachment), with
 *	no other cmamem lock held, and outside the dma-buf's reservation lock
 * @imports: the &struct cmamem_dmabuf_import of every dma-buf imported
 *	into the pool, one per dma-buf
 * @huge_faults: page faults on the pool's blocks' mappings that mapped
 *	PMD_SIZE at once with one PMD entry (debugfs summary)
 * @debugfs_dir: /sys/kernel/debug/cmamem/<name>
 * @list_node: in the list of all pools, under cmamem_pools_lock
 */
struct cmamem_pool {
	struct kref ref;
	struct miscdevice misc;
	struct device *dma_dev;
	char name[CMAMEM_NAME_SIZE];
	char device_name[CMAMEM_NAME_SIZE + 8];
	u32 pool_flags;
	phys_addr_t region_base;
	u64 region_size;
	bool has_reserved_mem;

	/* Inside cmamem_file.lock and mmap_lock; see @lock above. */
	struct mutex lock;
	struct rhashtable names;
	struct list_head blocks;
	struct cmamem_pool_stats stats;
	struct xarray users;

	/* Outside the exporter's locks; see @import_lock above. */
	struct mutex import_lock;
	struct list_head imports;

	atomic64_t huge_faults;
	struct dentry *debugfs_dir;
	struct list_head list_node;
};

/**
 * enum cmamem_backing - how a block's memory was obtained
 * @CMAMEM_BACKING_COHERENT: dma_alloc_attrs() (coherent and writecombine)
 * @CMAMEM_BACKING_PAGES: dma_alloc_pages(), every page refcounted
 * @CMAMEM_BACKING_STREAMING: alloc_pages_exact() with a streaming mapping,
 *	for cached blocks the buddy allocator serves (see block.c)
 * @CMAMEM_BACKING_HIGHMEM_PAGES: dma_alloc_attrs() with
 *	%DMA_ATTR_NO_KERNEL_MAPPING, every page refcounted: cached blocks of a
 *	device-tree CMA pool in highmem (32-bit kernels), whose pages have
 *	no kernel address (see block.c)
 * @CMAMEM_BACKING_ZEROED_PAGES: dma_alloc_attrs() with
 *	%DMA_ATTR_NO_KERNEL_MAPPING and a streaming mapping for the block's
 *	life, every page refcounted: cached blocks where the page allocator
 *	zeroed the pages already (init_on_alloc; see block.c)
 */
enum cmamem_backing {
	CMAMEM_BACKING_COHERENT,
	CMAMEM_BACKING_PAGES,
	CMAMEM_BACKING_STREAMING,
	CMAMEM_BACKING_HIGHMEM_PAGES,
	CMAMEM_BACKING_ZEROED_PAGES,
};

/**
 * enum cmamem_cpu_sync - what keeps the CPU's and devices' views of a
 * block's memory the same
 * @CMAMEM_CPU_SYNC_NONE: nothing: the memory is coherent
 * @CMAMEM_CPU_SYNC_DRAIN: the CPU's write-combine buffers are drained
 *	before a device reads
 * @CMAMEM_CPU_SYNC_CACHES: the CPU caches are cleaned before a device
 *	reads and invalidated before the CPU reads what a device wrote
 */
enum cmamem_cpu_sync {
	CMAMEM_CPU_SYNC_NONE,
	CMAMEM_CPU_SYNC_DRAIN,
	CMAMEM_CPU_SYNC_CACHES,
};

/**
 * struct cmamem_mode_info - everything that depends on a block's mode
 * @name: the name debugfs, the logs, the command and the Python binding
 *	use for the mode
 * @page_backed: allocated as refcounted pages (dma_alloc_pages()) and
 *	mapped page by page, so that get_user_pages() works on the mapping;
 *	otherwise dma_alloc_attrs() and dma_mmap_attrs()
 * @dma_attrs: the DMA attributes of dma_alloc_attrs() (not @page_backed)
 * @cpu_sync: &enum cmamem_cpu_sync, for SYNC and dma-buf CPU access
 * @pool_flags: the &enum cmamem_pool_flags a pool needs to serve the mode
 */
struct cmamem_mode_info {
	const char *name;
	bool page_backed;
	unsigned long dma_attrs;
	enum cmamem_cpu_sync cpu_sync;
	u32 pool_flags;
};

/**
 * struct cmamem_name_key - what a pool's name index is keyed on
 * @owner: the user whose name it is: every user has names of their own
 * @name: a valid, zero-padded %CMAMEM_NAME_SIZE byte name
 *
 * Laid out exactly as &cmamem_block.owner and &cmamem_block.name, which
 * are the key of a block in the index.
 */
struct cmamem_name_key {
	kuid_t owner;
	char name[CMAMEM_NAME_SIZE];
};

/**
 * struct cmamem_block - a physically contiguous block of a pool
 * @ref: the block's lifetime: one reference per handle, per VMA and per
 *	dma-buf (plus short-lived ones held by ioctls). The memory is freed
 *	when the last one goes.
 * @handles: handles on the block in every file (under &cmamem_pool.lock);
 *	the name is unpublished when it drops to zero
 * @pool: the pool it came from (a reference is held)
 * @name: zero-padded name; with @owner the key of &cmamem_pool.names.
 *	Never changes.
 * @name_node: link in &cmamem_pool.names while @published
 * @deferred_node: link in the list of blocks whose memory waits for a
 *	page reference to go (see cmamem_block_release()). Shares its
 *	storage with @name_node: a block gets there only after its last
 *	reference went, long after its last handle unpublished the name.
 * @mappings: VMAs that map the block
 * @dma_bufs: live dma-bufs exported from the block
 * @pool_node: link in &cmamem_pool.blocks while @ready
 * @length: length in bytes, a multiple of PAGE_SIZE
 * @owner: effective uid of the allocator
 * @pid: thread-group id of the allocator
 * @comm: command name of the allocator
 * @mode: &enum cmamem_mode
 * @backing: &enum cmamem_backing
 * @alignment_order: log2 of the alignment of the block's DMA address,
 *	at least PAGE_SHIFT (cmamem_block_alignment())
 * @published: the name can be found by ATTACH (under &cmamem_pool.lock)
 * @ready: the memory is allocated; until then ATTACH does not see the
 *	block although its name is reserved (under &cmamem_pool.lock)
 * @pinnable: get_user_pages() may pin the pages through the block's
 *	mappings (see cmamem_block_pinnable()); otherwise they are VM_IO
 * @alloc_size: bytes actually allocated (@length plus alignment slack)
 * @cpu_address: kernel address of the allocation; NULL for
 *	%CMAMEM_BACKING_HIGHMEM_PAGES, which has none
 * @first_page: first page of the allocation; NULL for a carveout pool's
 *	coherent blocks, whose memory may have no struct pages
 * @alloc_dma: DMA address of the allocation
 * @window_offset: where the block starts inside the allocation; the
 *	block's DMA and physical addresses are the allocation's plus this
 *	(cmamem_block_dma_address(), cmamem_block_physical_address())
 * @pages: the block's pages, for vm_insert_pages() (cached blocks only);
 *	points at @first_page for a one-page block that starts there
 * @file: anonymous file the block's VMAs point at instead of the pool
 *	file, so that a mapping does not keep the pool file (and its
 *	handles) open but does keep the module loaded; made by the first
 *	mmap(), released with the block
 *
 * Every live block costs this struct in a slab cache of its own (see
 * docs/design.md, "Memory per block"): nothing here is derived from
 * another field, and the small fields share words.
 */
struct cmamem_block {
	struct kref ref;
	unsigned int handles;
	struct cmamem_pool *pool;
	/* The name index's key: owner, then name (struct cmamem_name_key). */
	kuid_t owner;
	char name[CMAMEM_NAME_SIZE];
	pid_t pid;
	union {
		struct rhash_head name_node;
		struct llist_node deferred_node;
	};
	atomic_t mappings;
	atomic_t dma_bufs;
	struct list_head pool_node;

	u64 length;
	char comm[TASK_COMM_LEN];

	u8 mode;
	u8 backing;
	u8 alignment_order;
	bool published;
	bool ready;
	bool pinnable;
	size_t alloc_size;
	void *cpu_address;
	struct page *first_page;
	dma_addr_t alloc_dma;
	size_t window_offset;
	struct page **pages;
	struct file *file;
};

/**
 * struct cmamem_dmabuf_import - a dma-buf attached to a pool's device
 * @ref: import handles sharing the import, in any file: importing one
 *	dma-buf into one pool again reuses its attachment and mapping, so
 *	that repeated IMPORTs never stack overlapping DMA mappings of the
 *	same memory (dma-debug allows seven)
 * @pool: the pool whose device is attached
 * @pool_node: in &cmamem_pool.imports, under &cmamem_pool.import_lock
 * @dmabuf: the dma-buf (a reference is held)
 * @attachment: its attachment to the pool's device; NULL for a block of
 *	the same pool, which the device reaches at its own DMA address
 * @table: the attachment's mapping for that device (NULL likewise)
 * @dma_address: where the pool's device sees the buffer, which is one
 *	contiguous run of DMA addresses
 * @length: the dma-buf's size in bytes
 */
struct cmamem_dmabuf_import {
	struct kref ref;
	struct cmamem_pool *pool;
	struct list_head pool_node;
	struct dma_buf *dmabuf;
	struct dma_buf_attachment *attachment;
	struct sg_table *table;
	dma_addr_t dma_address;
	u64 length;
};

/**
 * struct cmamem_handle - an open file's handle on a block or an import
 * @block: the block (the handle holds one reference and one handle
 *	count), unless @is_import
 * @import: the import (the handle owns it) when @is_import
 * @id: the handle's number in &cmamem_file.handles, from 1
 * @is_import: the handle is on an import; read @block only through
 *	cmamem_handle_block()
 * @pgoff: first page of the handle's range in &cmamem_file.offsets (block
 *	handles only: imports have no mmap offsets)
 * @user_address: where adding the handle mapped the block into the caller
 *	(%CMAMEM_MAP, CMEM_ALLOCATE), for CMEM_UNMAP to unmap; 0 otherwise
 *
 * Kept small in a slab cache of its own: every live block has one.
 */
struct cmamem_handle {
	union {
		struct cmamem_block *block;
		struct cmamem_dmabuf_import *import;
	};
	u32 id;
	bool is_import;
	unsigned long pgoff;
	unsigned long user_address;
};

/**
 * struct cmamem_file - an open pool file
 * @pool: the pool (a reference is held)
 * @file: the file itself, for vm_mmap()
 * @lock: protects @handles, @offsets (for changes and for lookups whose
 *	result is used), @quota_bytes, @quota_handles and every handle's
 *	&cmamem_handle.user_address. Taken inside mmap_lock (our .mmap) and outside
 *	&cmamem_pool.lock. Never held across copy_to_user(),
 *	copy_from_user(), vm_mmap() or vm_munmap(): those take mmap_lock.
 * @handles: handle id -> &struct cmamem_handle; an id reserved for an
 *	import being made reads as NULL until the import is published
 * @offsets: mmap page offset range -> &struct cmamem_handle; ranges
 *	never start at 0
 * @quota_bytes: bytes of the blocks this file holds handles on, plus
 *	reservations of allocations in progress
 * @quota_handles: handles this file holds, plus reservations
 */
struct cmamem_file {
	struct cmamem_pool *pool;
	struct file *file;

	/* Inside mmap_lock, outside cmamem_pool.lock; see @lock above. */
	struct mutex lock;
	struct xarray handles;
	struct maple_tree offsets;
	u64 quota_bytes;
	unsigned int quota_handles;
};

/**
 * struct cmamem_new_handle - a handle cmamem_file_add_block() made
 * @id: its number
 * @pgoff: first page offset of its mmap range
 * @address: where the block was mapped into the caller, 0 if not mapped
 */
struct cmamem_new_handle {
	u32 id;
	unsigned long pgoff;
	unsigned long address;
};

/**
 * struct cmamem_block_request - the block cmamem_file_add_block() adds
 * @name: a valid, zero-padded %CMAMEM_NAME_SIZE byte name
 * @create: allocate a new block (ALLOC, CMEM_ALLOCATE) rather than attach
 *	to the published block of that name (ATTACH)
 * @owner: for ATTACH: the user among whose names @name is looked up
 * @length: for @create: the length, validated by cmamem_length_check()
 * @alignment: for @create: the alignment, validated likewise
 * @mode: for @create: a valid &enum cmamem_mode the pool serves
 * @pinnable: for @create: %CMAMEM_PINNABLE (a cached @mode only)
 * @max_dma_address: for @create: the highest DMA address any byte of the
 *	block may have, 0 for none (&struct cmamem_alloc)
 * @map: also map the whole block into the caller
 */
struct cmamem_block_request {
	const char *name;
	bool create;
	kuid_t owner;
	u64 length;
	u64 alignment;
	u32 mode;
	bool pinnable;
	u64 max_dma_address;
	bool map;
};

/**
 * struct cmamem_pool_snapshot - a consistent copy of a pool's counters
 * @stats: the counters
 * @total_bytes: the pool's size, 0 when unknown
 * @free_bytes: @total_bytes minus used bytes, or the system's free CMA
 *	memory when the size is unknown
 * @largest_free_bytes: the longest run of the region no block occupies;
 *	0 when the size is unknown
 */
struct cmamem_pool_snapshot {
	struct cmamem_pool_stats stats;
	u64 total_bytes;
	u64 free_bytes;
	u64 largest_free_bytes;
};

/* pool.c: devices and the memory behind them */
void cmamem_pool_get(struct cmamem_pool *pool);
void cmamem_pool_put(struct cmamem_pool *pool);
struct cmamem_pool *cmamem_pool_create_default(void);
int cmamem_pool_set_default_device(struct cmamem_pool *pool,
				   unsigned int mask_bits);
struct cmamem_pool *cmamem_pool_create_of(struct device *dev,
					  unsigned int mask_bits);
int cmamem_pool_publish(struct cmamem_pool *pool);
void cmamem_pool_unpublish(struct cmamem_pool *pool);
int cmamem_pool_name_insert(struct cmamem_pool *pool,
			    struct cmamem_block *block);
void cmamem_pool_name_remove(struct cmamem_pool *pool,
			     struct cmamem_block *block);
struct cmamem_block *
cmamem_pool_name_lookup(struct cmamem_pool *pool,
			const struct cmamem_name_key *key);

/* block.c: allocations, their modes, names, lifetime and sync */
const struct cmamem_mode_info *cmamem_mode_info(u32 mode);
const char *cmamem_mode_name(u32 mode);
bool cmamem_pool_serves_mode(const struct cmamem_pool *pool,
			     const struct cmamem_mode_info *mode);
bool cmamem_name_valid(const char *name);
int cmamem_length_check(struct cmamem_pool *pool, u64 length, u64 alignment,
			u64 *rounded);
int cmamem_limit_check(struct cmamem_pool *pool, u64 length, u64 alignment,
		       u64 max_dma_address);
struct cmamem_block *
cmamem_block_create(struct cmamem_pool *pool,
		    const struct cmamem_block_request *request);
struct cmamem_block *cmamem_block_attach(struct cmamem_pool *pool,
					 kuid_t owner, const char *name);
void cmamem_block_get(struct cmamem_block *block);
void cmamem_block_put(struct cmamem_block *block);
void cmamem_block_put_handle(struct cmamem_block *block);
void cmamem_block_sync(struct cmamem_block *block, u64 offset, u64 length,
		       bool for_device, enum dma_data_direction direction,
		       bool writable);
int cmamem_block_init(void);
void cmamem_block_exit(void);
phys_addr_t cmamem_block_physical_address(const struct cmamem_block *block);
void cmamem_pool_snapshot(struct cmamem_pool *pool,
			  struct cmamem_pool_snapshot *snapshot);

/* The DMA address of the block's first byte, for its pool's device. */
static inline dma_addr_t
cmamem_block_dma_address(const struct cmamem_block *block)
{
	return block->alloc_dma + block->window_offset;
}

/* The alignment of the block's DMA address, at least PAGE_SIZE. */
static inline u64 cmamem_block_alignment(const struct cmamem_block *block)
{
	return (u64)1 << block->alignment_order;
}

/* What keeping the CPU's and devices' views of @block alike takes. */
static inline enum cmamem_cpu_sync
cmamem_block_cpu_sync(const struct cmamem_block *block)
{
	return cmamem_mode_info(block->mode)->cpu_sync;
}

/* mmap.c: a block mapped into user space */
int cmamem_mmap_check(struct vm_area_struct *vma);
int cmamem_block_mmap_vma(struct cmamem_block *block,
			  struct vm_area_struct *vma, unsigned long first_page);
int cmamem_block_mmap_detached(struct cmamem_block *block,
			       struct vm_area_struct *vma,
			       unsigned long first_page);
#ifdef CMAMEM_HUGE_PFNMAP
unsigned long cmamem_block_get_unmapped_area(struct cmamem_block *block,
					     unsigned long first_page,
					     struct file *file,
					     unsigned long address,
					     unsigned long length,
					     unsigned long pgoff,
					     unsigned long flags);
#endif
unsigned long cmamem_map_into_caller(struct file *file, unsigned long pgoff,
				     u64 length);
void cmamem_unmap_from_caller(struct cmamem_block *block,
			      unsigned long address, u64 length);

/* dmabuf.c: a block as a dma-buf, and foreign dma-bufs imported */
struct dma_buf *cmamem_dmabuf_export(struct cmamem_block *block,
				     u32 fd_flags);
struct cmamem_dmabuf_import *cmamem_dmabuf_import(struct cmamem_pool *pool,
						  int fd);
void cmamem_dmabuf_import_release(struct cmamem_dmabuf_import *import);

/* stats.c: sysfs and debugfs views of pools and blocks */
extern const struct attribute_group *cmamem_pool_groups[];
void cmamem_debugfs_init(void);
void cmamem_debugfs_exit(void);
void cmamem_debugfs_add_pool(struct cmamem_pool *pool);
void cmamem_debugfs_remove_pool(struct cmamem_pool *pool);

/* file.c: an open file's handles, quotas and mmap offsets */
int cmamem_file_init(void);
void cmamem_file_exit(void);
bool cmamem_may_see_addresses(void);
int cmamem_file_open(struct cmamem_pool *pool, struct file *file);
void cmamem_file_close(struct cmamem_file *cfile);
int cmamem_file_mmap(struct file *file, struct vm_area_struct *vma);
#ifdef CMAMEM_HUGE_PFNMAP
unsigned long cmamem_file_get_unmapped_area(struct file *file,
					    unsigned long address,
					    unsigned long length,
					    unsigned long pgoff,
					    unsigned long flags);
#endif
int cmamem_file_add_block(struct cmamem_file *cfile,
			  const struct cmamem_block_request *request,
			  int (*respond)(void *context,
					 struct cmamem_block *block,
					 const struct cmamem_new_handle *new),
			  void *context);
int cmamem_file_add_import(struct cmamem_file *cfile, int fd,
			   int (*respond)(void *context,
					  const struct cmamem_dmabuf_import *import,
					  u32 id),
			   void *context);
struct cmamem_block *cmamem_file_lookup_block(struct cmamem_file *cfile,
					      u32 id, unsigned long *pgoff);
int cmamem_file_free_handle(struct cmamem_file *cfile, u32 id);
int cmamem_file_free_named(struct cmamem_file *cfile, const char *name);

/* ioctl.c: the cmamem ABI */
long cmamem_ioctl(struct file *file, unsigned int command,
		  unsigned long argument);

/* legacy.c: the cma_mem ABI */
long cmamem_legacy_ioctl(struct file *file, unsigned int command,
			 unsigned long argument);

#endif /* _CMAMEM_INTERNAL_H */
