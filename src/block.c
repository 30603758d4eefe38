// SPDX-License-Identifier: GPL-2.0
/*
 * cmamem blocks: allocation, names, handles and lifetime.
 *
 * A block is reference counted (&cmamem_block.ref): every handle, every VMA
 * and every dma-buf holds one reference, and the memory goes back
 * to the pool when the last one is dropped. Independently, the block
 * counts its handles under the pool lock; when the last handle goes the
 * name is unpublished at once, so it can be reused while old mappings of
 * the block are still alive.
 */

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/file.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/page_ref.h>
#include <linux/rhashtable.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include <asm/barrier.h>

#include "cmamem.h"

/*
 * Last page offset a handle's mmap range may use: the byte offset just
 * past it must fit the file offset mmap() accepts for a character device
 * and the unsigned long that vm_mmap() takes.
 */
#define CMAMEM_PGOFF_LAST \
	((unsigned long)(min_t(u64, MAX_LFS_FILESIZE, ULONG_MAX) >> \
			 PAGE_SHIFT) - 1)

static const struct rhashtable_params cmamem_name_params = {
	.key_len = CMAMEM_NAME_SIZE,
	.key_offset = offsetof(struct cmamem_block, name),
	.head_offset = offsetof(struct cmamem_block, name_node),
	.automatic_shrinking = true,
};

/**
 * cmamem_pool_names_init() - set up a pool's name index
 * @pool: the pool
 *
 * Return: 0 or a negative errno.
 */
int cmamem_pool_names_init(struct cmamem_pool *pool)
{
	return rhashtable_init(&pool->names, &cmamem_name_params);
}

/**
 * cmamem_pool_names_destroy() - free a pool's (empty) name index
 * @pool: the pool
 */
void cmamem_pool_names_destroy(struct cmamem_pool *pool)
{
	rhashtable_destroy(&pool->names);
}

/**
 * cmamem_mode_name() - the name debugfs shows for a block mode
 * @mode: an &enum cmamem_mode
 *
 * Return: "coherent", "writecombine" or "cached".
 */
const char *cmamem_mode_name(u32 mode)
{
	switch (mode) {
	case CMAMEM_MODE_WRITECOMBINE:
		return "writecombine";
	case CMAMEM_MODE_CACHED:
		return "cached";
	default:
		return "coherent";
	}
}

/**
 * cmamem_name_valid() - check a name field as the uapi defines it
 * @name: a %CMAMEM_NAME_SIZE byte field
 *
 * Return: true for 1 to 31 characters in 0x21..0x7e followed by NUL bytes
 * up to the end of the field.
 */
bool cmamem_name_valid(const char *name)
{
	size_t length = strnlen(name, CMAMEM_NAME_SIZE);
	size_t index;

	if (!length || length == CMAMEM_NAME_SIZE)
		return false;
	for (index = 0; index < length; index++) {
		unsigned char character = name[index];

		if (character < 0x21 || character > 0x7e)
			return false;
	}
	return !memchr_inv(name + length, 0, CMAMEM_NAME_SIZE - length);
}

/**
 * cmamem_length_check() - validate a requested length and alignment
 * @pool: the pool the block is for
 * @length: bytes asked for (from user space, any value)
 * @alignment: alignment asked for (from user space, any value)
 * @rounded: the length rounded up to whole pages, on success
 *
 * The limits apply to the length rounded up to pages and to the
 * alignment, computed without overflow on 32-bit kernels too.
 *
 * Return: 0, -EINVAL for a zero length or a bad alignment, or -EFBIG when
 * the block cannot fit the caller's address space, max_block_size or the
 * pool.
 */
int cmamem_length_check(struct cmamem_pool *pool, u64 length, u64 alignment,
			u64 *rounded)
{
	u64 max_block = READ_ONCE(cmamem_max_block_size);
	u64 granule, footprint;

	if (!length)
		return -EINVAL;
	if (alignment && (alignment < PAGE_SIZE ||
			  (alignment & (alignment - 1))))
		return -EINVAL;

	granule = max_t(u64, alignment, PAGE_SIZE);
	if (length > U64_MAX - (granule - 1))
		return -EFBIG;
	footprint = round_up(length, granule);
	/* One mapping of the caller's address space must be able to hold it. */
	if (footprint > TASK_SIZE)
		return -EFBIG;
	if (max_block && footprint > max_block)
		return -EFBIG;
	if (pool->region_size && footprint > pool->region_size)
		return -EFBIG;

	*rounded = round_up(length, (u64)PAGE_SIZE);
	return 0;
}

/**
 * cmamem_file_reserve() - account a new handle against the file's quotas
 * @cfile: the open file
 * @bytes: the length of the block the handle will be on
 *
 * The reservation becomes the handle's once cmamem_handle_install()
 * succeeds; until then cmamem_file_unreserve() takes it back.
 *
 * Return: 0, -EMFILE when the file holds fd_max_blocks handles already, or
 * -EDQUOT when @bytes would take it past fd_quota_bytes.
 */
int cmamem_file_reserve(struct cmamem_file *cfile, u64 bytes)
{
	u64 quota = READ_ONCE(cmamem_fd_quota_bytes);
	unsigned int max_handles = READ_ONCE(cmamem_fd_max_blocks);
	int ret = 0;

	mutex_lock(&cfile->lock);
	if (cfile->quota_handles >= max_handles) {
		ret = -EMFILE;
	} else if (quota && (bytes > quota ||
			     cfile->quota_bytes > quota - bytes)) {
		ret = -EDQUOT;
	} else {
		cfile->quota_handles++;
		cfile->quota_bytes += bytes;
	}
	mutex_unlock(&cfile->lock);
	return ret;
}

/**
 * cmamem_file_unreserve() - take back a cmamem_file_reserve()
 * @cfile: the open file
 * @bytes: the bytes that were reserved
 */
void cmamem_file_unreserve(struct cmamem_file *cfile, u64 bytes)
{
	mutex_lock(&cfile->lock);
	cfile->quota_handles--;
	cfile->quota_bytes -= bytes;
	mutex_unlock(&cfile->lock);
}

/*
 * Allocation flags: failures are a clean ENOMEM, never a warning. For a
 * device-tree pool, whatever dma-direct's page-allocator fallback returns
 * lies outside the region and is refused, so that fallback is told not to
 * try hard (reclaim, compaction) for memory it cannot use.
 */
static gfp_t cmamem_gfp(struct cmamem_pool *pool)
{
	gfp_t gfp = GFP_KERNEL | __GFP_NOWARN;

	if (pool->region_size)
		gfp |= __GFP_NORETRY;
	return gfp;
}

/*
 * True if every page of the run has a reference count of its own, which
 * vm_insert_pages() and get_user_pages() rely on. CMA hands out runs of
 * individually refcounted pages; the buddy allocator, which dma-direct
 * falls back to, hands out one high-order page whose tail pages have a
 * count of 0. Mapping such a tail page would let the last unmap free it
 * to the page allocator while the block still owns it.
 */
static bool cmamem_pages_refcounted(struct page *page, unsigned long count)
{
	unsigned long index;

	for (index = 0; index < count; index++)
		if (!page_ref_count(nth_page(page, index)))
			return false;
	return true;
}

static void cmamem_free_backing(struct cmamem_block *block)
{
	struct device *dev = block->pool->dma_dev;

	switch (block->backing) {
	case CMAMEM_BACKING_COHERENT:
		dma_free_attrs(dev, block->alloc_size, block->cpu_address,
			       block->alloc_dma, block->attrs);
		break;
	case CMAMEM_BACKING_PAGES:
		dma_free_pages(dev, block->alloc_size, block->first_page,
			       block->alloc_dma, DMA_BIDIRECTIONAL);
		break;
	case CMAMEM_BACKING_STREAMING:
		dma_unmap_page_attrs(dev, block->alloc_dma, block->alloc_size,
				     DMA_BIDIRECTIONAL, 0);
		free_pages_exact(block->cpu_address, block->alloc_size);
		break;
	}
}

/*
 * Coherent and write-combine blocks: dma_alloc_attrs(). On a carveout pool
 * the memory comes from the device's coherent pool, which
 * rmem_dma_device_init() declares with device address == physical
 * address, and has no struct pages. Otherwise dma-direct allocated pages
 * and returned either their linear-map address or (non-coherent devices,
 * DMA_DIRECT_REMAP) a vmap() of them; the struct page gives the physical
 * address in both cases, independent of any dma-ranges offset.
 */
static int cmamem_alloc_coherent(struct cmamem_block *block, size_t size)
{
	struct cmamem_pool *pool = block->pool;
	struct device *dev = pool->dma_dev;
	unsigned long attrs = 0;
	phys_addr_t phys;
	dma_addr_t dma;
	void *cpu;

	if (block->mode == CMAMEM_MODE_WRITECOMBINE)
		attrs = DMA_ATTR_WRITE_COMBINE;
	cpu = dma_alloc_attrs(dev, size, &dma, cmamem_gfp(pool), attrs);
	if (!cpu)
		return -ENOMEM;

	if (pool->pool_flags & CMAMEM_POOL_CARVEOUT) {
		phys = dma;
	} else if (is_vmalloc_addr(cpu)) {
		phys = page_to_phys(vmalloc_to_page(cpu));
	} else if (virt_addr_valid(cpu)) {
		phys = virt_to_phys(cpu);
	} else {
		/* No architecture this module supports gets here. */
		dma_free_attrs(dev, size, cpu, dma, attrs);
		return -ENOMEM;
	}

	block->backing = CMAMEM_BACKING_COHERENT;
	block->attrs = attrs;
	block->alloc_size = size;
	block->cpu_address = cpu;
	block->alloc_dma = dma;
	block->alloc_phys = phys;
	return 0;
}

/*
 * Cached blocks the buddy allocator serves (no CMA, or CMA exhausted, on
 * the default pool): whole individually refcounted pages from
 * alloc_pages_exact(), handed to the device with a streaming mapping that
 * stays for the block's life. dma_alloc_pages() cannot be told to return
 * a compound page (Linux 6.12 warns on __GFP_COMP), and pages it returns
 * from the buddy allocator must not be mapped (see
 * cmamem_pages_refcounted()).
 *
 * The pages come from the zone the device's mask needs, and the mapping
 * must not be a swiotlb bounce buffer: the device has to see the block's
 * own memory. The default pool's device has no DMA offset, so an address
 * equal to the physical one proves that; anything else is refused.
 */
static int cmamem_alloc_streaming(struct cmamem_block *block, size_t size)
{
	struct device *dev = block->pool->dma_dev;
	gfp_t gfp = GFP_KERNEL | __GFP_NOWARN | __GFP_ZERO;
	u64 mask = dma_get_mask(dev);
	phys_addr_t phys;
	dma_addr_t dma;
	void *cpu;

	if (mask <= DMA_BIT_MASK(32))
		gfp |= GFP_DMA32;
	cpu = alloc_pages_exact(size, gfp);
	if (!cpu)
		return -ENOMEM;
	phys = virt_to_phys(cpu);
	if (phys + size - 1 > mask)
		goto err_free_pages;

	dma = dma_map_page_attrs(dev, virt_to_page(cpu), 0, size,
				 DMA_BIDIRECTIONAL, 0);
	if (dma_mapping_error(dev, dma))
		goto err_free_pages;
	if (dma != phys)
		goto err_unmap;

	block->backing = CMAMEM_BACKING_STREAMING;
	block->alloc_size = size;
	block->cpu_address = cpu;
	block->first_page = virt_to_page(cpu);
	block->alloc_dma = dma;
	block->alloc_phys = phys;
	return 0;

err_unmap:
	dma_unmap_page_attrs(dev, dma, size, DMA_BIDIRECTIONAL, 0);
err_free_pages:
	free_pages_exact(cpu, size);
	return -ENOMEM;
}

/* Cached blocks: dma_alloc_pages(), which gives CMA pages when it can. */
static int cmamem_alloc_pages(struct cmamem_block *block, size_t size)
{
	struct cmamem_pool *pool = block->pool;
	struct device *dev = pool->dma_dev;
	struct page *page;
	dma_addr_t dma;

	page = dma_alloc_pages(dev, size, &dma, DMA_BIDIRECTIONAL,
			       cmamem_gfp(pool));
	if (!page)
		return -ENOMEM;
	/*
	 * dma_alloc_pages() registers a streaming mapping with dma-debug,
	 * which insists that its address is checked like any other.
	 */
	if (dma_mapping_error(dev, dma)) {
		dma_free_pages(dev, size, page, dma, DMA_BIDIRECTIONAL);
		return -ENOMEM;
	}
	if (!cmamem_pages_refcounted(page, size >> PAGE_SHIFT)) {
		dma_free_pages(dev, size, page, dma, DMA_BIDIRECTIONAL);
		/* Buddy pages never lie inside a device-tree region. */
		if (pool->region_size)
			return -ENOMEM;
		return cmamem_alloc_streaming(block, size);
	}

	block->backing = CMAMEM_BACKING_PAGES;
	block->alloc_size = size;
	block->cpu_address = page_address(page);
	block->first_page = page;
	block->alloc_dma = dma;
	block->alloc_phys = page_to_phys(page);
	return 0;
}

/*
 * Allocates @size bytes in the block's mode. For a device-tree pool, the
 * memory must lie inside the pool's region: dma-direct silently falls back
 * to the page allocator when the region's CMA area is full, and the
 * hardware may only reach the region.
 */
static int cmamem_alloc_backing(struct cmamem_block *block, size_t size)
{
	struct cmamem_pool *pool = block->pool;
	u64 offset;
	int ret;

	if (block->mode == CMAMEM_MODE_CACHED)
		ret = cmamem_alloc_pages(block, size);
	else
		ret = cmamem_alloc_coherent(block, size);
	if (ret || !pool->region_size)
		return ret;

	offset = (u64)block->alloc_phys - pool->region_base;
	if (block->alloc_phys < pool->region_base ||
	    offset > pool->region_size ||
	    block->alloc_size > pool->region_size - offset) {
		cmamem_free_backing(block);
		return -ENOMEM;
	}
	return 0;
}

/*
 * The user-visible block is a window of @length bytes whose DMA address has
 * the asked alignment. Allocations are usually naturally aligned (CMA up to
 * its order limit, carveouts to their power-of-two size); when not, the
 * block is allocated again with enough slack to hold an aligned window.
 */
static int cmamem_block_alloc_memory(struct cmamem_block *block)
{
	u64 alignment = max_t(u64, block->alignment, PAGE_SIZE);
	size_t size = block->length;
	unsigned long count, index;
	int ret;

	ret = cmamem_alloc_backing(block, size);
	if (ret)
		return ret;
	if (!IS_ALIGNED(block->alloc_dma, alignment)) {
		cmamem_free_backing(block);
		if (check_add_overflow(size, (size_t)(alignment - PAGE_SIZE),
				       &size))
			return -ENOMEM;
		ret = cmamem_alloc_backing(block, size);
		if (ret)
			return ret;
		block->window_offset = ALIGN(block->alloc_dma, alignment) -
				       block->alloc_dma;
	}
	block->dma_address = block->alloc_dma + block->window_offset;
	block->physical_address = block->alloc_phys + block->window_offset;

	if (block->mode != CMAMEM_MODE_CACHED)
		return 0;

	count = block->length >> PAGE_SHIFT;
	block->pages = kvmalloc_array(count, sizeof(*block->pages),
				      GFP_KERNEL | __GFP_NOWARN);
	if (!block->pages) {
		cmamem_free_backing(block);
		return -ENOMEM;
	}
	for (index = 0; index < count; index++)
		block->pages[index] =
			nth_page(block->first_page,
				 (block->window_offset >> PAGE_SHIFT) + index);
	return 0;
}

/* A command name that cannot break the debugfs table's columns. */
static void cmamem_block_set_comm(struct cmamem_block *block)
{
	char *character;

	get_task_comm(block->comm, current);
	for (character = block->comm; *character; character++)
		if (*character <= ' ' || *character > '~')
			*character = '_';
	if (!block->comm[0])
		strscpy(block->comm, "-", sizeof(block->comm));
}

static void cmamem_log_failure(struct cmamem_pool *pool,
			       struct cmamem_block *block)
{
	struct cmamem_pool_snapshot snapshot;

	cmamem_pool_snapshot(pool, &snapshot);
	if (pool->pool_flags & CMAMEM_POOL_TOTAL_KNOWN)
		dev_info_ratelimited(pool->dma_dev,
				     "pool %s: no room for %llu bytes (%s): %llu of %llu bytes in use\n",
				     pool->name, block->length,
				     cmamem_mode_name(block->mode),
				     snapshot.stats.used_bytes,
				     snapshot.total_bytes);
	else
		dev_info_ratelimited(pool->dma_dev,
				     "pool %s: no room for %llu bytes (%s): %llu bytes in use, %llu bytes of CMA free\n",
				     pool->name, block->length,
				     cmamem_mode_name(block->mode),
				     snapshot.stats.used_bytes,
				     snapshot.free_bytes);
}

/**
 * cmamem_block_create() - allocate a named block
 * @pool: the pool to allocate from
 * @name: a valid, zero-padded %CMAMEM_NAME_SIZE byte name
 * @length: the length, validated by cmamem_length_check()
 * @alignment: the alignment, validated by cmamem_length_check()
 * @mode: a valid &enum cmamem_mode the pool supports
 *
 * The name is reserved before the memory is allocated, so two concurrent
 * allocations of one name cannot both allocate; ATTACH does not see the
 * block until it is ready.
 *
 * Return: the block, holding one handle count and the reference that goes
 * with it, or ERR_PTR(-EEXIST) or ERR_PTR(-ENOMEM).
 */
struct cmamem_block *cmamem_block_create(struct cmamem_pool *pool,
					 const char *name, u64 length,
					 u64 alignment, u32 mode)
{
	struct cmamem_block *block;
	int ret;

	block = kzalloc(sizeof(*block), GFP_KERNEL);
	if (!block)
		return ERR_PTR(-ENOMEM);
	kref_init(&block->ref);
	block->pool = pool;
	memcpy(block->name, name, CMAMEM_NAME_SIZE);
	block->handles = 1;
	atomic_set(&block->mappings, 0);
	atomic_set(&block->dma_bufs, 0);
	INIT_LIST_HEAD(&block->pool_node);
	block->mode = mode;
	block->length = length;
	/* What the block gets, and BLOCK_INFO reports: at least a page. */
	block->alignment = max_t(u64, alignment, PAGE_SIZE);
	block->owner = current_euid();
	block->pid = task_tgid_nr(current);
	cmamem_block_set_comm(block);

	mutex_lock(&pool->lock);
	ret = rhashtable_lookup_insert_fast(&pool->names, &block->name_node,
					    cmamem_name_params);
	block->published = !ret;
	mutex_unlock(&pool->lock);
	if (ret) {
		kfree(block);
		return ERR_PTR(ret == -EEXIST ? -EEXIST : -ENOMEM);
	}

	ret = cmamem_block_alloc_memory(block);

	mutex_lock(&pool->lock);
	if (ret) {
		rhashtable_remove_fast(&pool->names, &block->name_node,
				       cmamem_name_params);
		pool->stats.failures++;
		mutex_unlock(&pool->lock);
		cmamem_log_failure(pool, block);
		kfree(block);
		return ERR_PTR(ret);
	}
	block->ready = true;
	list_add_tail(&block->pool_node, &pool->blocks);
	pool->stats.used_bytes += length;
	pool->stats.peak_bytes = max(pool->stats.peak_bytes,
				     pool->stats.used_bytes);
	pool->stats.allocations++;
	pool->stats.blocks++;
	mutex_unlock(&pool->lock);

	cmamem_pool_get(pool);
	return block;
}

/**
 * cmamem_block_attach() - find a published block and add a handle count
 * @pool: the pool
 * @name: a valid, zero-padded %CMAMEM_NAME_SIZE byte name
 *
 * Return: the block, with one more handle count and the reference that
 * goes with it, ERR_PTR(-ENOENT) if no ready block has that name, or
 * ERR_PTR(-EPERM) if it belongs to another user and the caller lacks
 * CAP_SYS_ADMIN.
 */
struct cmamem_block *cmamem_block_attach(struct cmamem_pool *pool,
					 const char *name)
{
	struct cmamem_block *block;

	mutex_lock(&pool->lock);
	block = rhashtable_lookup_fast(&pool->names, name, cmamem_name_params);
	if (!block || !block->ready) {
		block = ERR_PTR(-ENOENT);
	} else if (!uid_eq(current_euid(), block->owner) &&
		   !capable(CAP_SYS_ADMIN)) {
		block = ERR_PTR(-EPERM);
	} else {
		block->handles++;
		kref_get(&block->ref);
	}
	mutex_unlock(&pool->lock);
	return block;
}

/**
 * cmamem_block_get() - take a reference on a block
 * @block: a block the caller already holds a reference on, directly or
 *	through a handle it looked up under &cmamem_file.lock
 */
void cmamem_block_get(struct cmamem_block *block)
{
	kref_get(&block->ref);
}

/*
 * Blocks whose last reference went while a page of theirs was still
 * referenced from outside: a get_user_pages() pin (an O_DIRECT transfer
 * still in flight in another thread when the block was unmapped) or a
 * pipe buffer that vmsplice() filled from the mapping. Their memory must
 * not go back to the pool yet: cma_release() would warn, and the pages
 * would be handed out again while still in use. cmamem_deferred_work
 * frees them once those references are gone; each holds a module
 * reference meanwhile, so the module cannot be unloaded before.
 */
static LIST_HEAD(cmamem_deferred_blocks);
/* Protects cmamem_deferred_blocks. */
static DEFINE_MUTEX(cmamem_deferred_lock);
static void cmamem_deferred_free(struct work_struct *work);
static DECLARE_DELAYED_WORK(cmamem_deferred_work, cmamem_deferred_free);

/* Whether a page of the block is referenced from outside the block. */
static bool cmamem_block_pages_busy(struct cmamem_block *block)
{
	unsigned long page, count = block->alloc_size >> PAGE_SHIFT;

	/* Mapped as pfns: get_user_pages() cannot reach them. */
	if (block->backing == CMAMEM_BACKING_COHERENT)
		return false;
	for (page = 0; page < count; page++)
		if (page_count(block->first_page + page) != 1)
			return true;
	return false;
}

static void cmamem_block_destroy(struct cmamem_block *block)
{
	struct cmamem_pool *pool = block->pool;

	cmamem_free_backing(block);
	kvfree(block->pages);
	if (block->file)
		fput(block->file);

	mutex_lock(&pool->lock);
	list_del(&block->pool_node);
	pool->stats.used_bytes -= block->length;
	pool->stats.blocks--;
	mutex_unlock(&pool->lock);

	kfree(block);
	cmamem_pool_put(pool);
}

static void cmamem_deferred_free(struct work_struct *work)
{
	struct cmamem_block *block, *next;
	LIST_HEAD(unused);
	bool waiting;

	mutex_lock(&cmamem_deferred_lock);
	list_for_each_entry_safe(block, next, &cmamem_deferred_blocks,
				 deferred_node)
		if (!cmamem_block_pages_busy(block))
			list_move_tail(&block->deferred_node, &unused);
	waiting = !list_empty(&cmamem_deferred_blocks);
	mutex_unlock(&cmamem_deferred_lock);

	list_for_each_entry_safe(block, next, &unused, deferred_node) {
		cmamem_block_destroy(block);
		/* cmamem_block_exit() waits for this work to return. */
		module_put(THIS_MODULE);
	}
	if (waiting)
		schedule_delayed_work(&cmamem_deferred_work, HZ / 10);
}

static void cmamem_block_release(struct kref *ref)
{
	struct cmamem_block *block = container_of(ref, struct cmamem_block,
						  ref);

	if (!cmamem_block_pages_busy(block)) {
		cmamem_block_destroy(block);
		return;
	}
	/* Still counted as used: the memory is not back in the pool. */
	__module_get(THIS_MODULE);
	mutex_lock(&cmamem_deferred_lock);
	list_add_tail(&block->deferred_node, &cmamem_deferred_blocks);
	mutex_unlock(&cmamem_deferred_lock);
	schedule_delayed_work(&cmamem_deferred_work, HZ / 10);
}

/**
 * cmamem_block_exit() - wait for the deferred-free work at module exit
 *
 * Every waiting block holds a module reference, so none is left when the
 * module goes; the work may still be returning from freeing the last one.
 */
void cmamem_block_exit(void)
{
	cancel_delayed_work_sync(&cmamem_deferred_work);
}

/**
 * cmamem_block_put() - drop a reference; the last one frees the memory
 * @block: the block
 *
 * May sleep. Takes &cmamem_pool.lock, so callers must not hold it.
 */
void cmamem_block_put(struct cmamem_block *block)
{
	kref_put(&block->ref, cmamem_block_release);
}

/**
 * cmamem_block_put_handle() - drop a handle count and its reference
 * @block: the block
 *
 * When the last handle goes, the name is unpublished at once; mappings
 * and dma-bufs may keep the memory alive a while longer.
 */
void cmamem_block_put_handle(struct cmamem_block *block)
{
	struct cmamem_pool *pool = block->pool;

	mutex_lock(&pool->lock);
	if (!--block->handles && block->published) {
		rhashtable_remove_fast(&pool->names, &block->name_node,
				       cmamem_name_params);
		block->published = false;
	}
	mutex_unlock(&pool->lock);
	cmamem_block_put(block);
}

/*
 * Gives @handle the lowest free range of page offsets that fits the block,
 * starting at 1 so that offset 0 never maps anything. The maple tree keeps
 * the free gaps, so the search does not walk every handle. Called with
 * &cmamem_file.lock held, which serializes every change to the tree, so
 * the range found is still free when it is inserted.
 */
static int cmamem_offset_alloc(struct cmamem_file *cfile,
			       struct cmamem_handle *handle,
			       unsigned long pages)
{
	MA_STATE(mas, &cfile->offsets, 0, 0);
	unsigned long first;
	int ret;

	lockdep_assert_held(&cfile->lock);
	mtree_lock(&cfile->offsets);
	ret = mas_empty_area(&mas, 1, CMAMEM_PGOFF_LAST, pages);
	first = mas.index;
	mtree_unlock(&cfile->offsets);
	if (ret || first < 1 || first > CMAMEM_PGOFF_LAST - (pages - 1))
		return -ENOMEM;

	ret = mtree_insert_range(&cfile->offsets, first, first + pages - 1,
				 handle, GFP_KERNEL);
	if (ret)
		return -ENOMEM;
	handle->pgoff = first;
	return 0;
}

/**
 * cmamem_handle_install() - give an open file a handle on a block
 * @cfile: the open file, with a cmamem_file_reserve() of the block's
 *	length done
 * @block: the block, with the handle count and reference the new handle
 *	takes over
 * @id: the new handle's number, on success
 * @pgoff: the first page offset of the new handle's mmap range, on success
 *
 * On failure the handle count, its reference and the reservation are
 * dropped: the caller must hold a reference of its own if it still uses
 * @block.
 *
 * Return: 0, -EMFILE if the file has no handle numbers left, or -ENOMEM.
 */
int cmamem_handle_install(struct cmamem_file *cfile,
			  struct cmamem_block *block, u32 *id,
			  unsigned long *pgoff)
{
	struct cmamem_handle *handle;
	int ret;

	handle = kzalloc(sizeof(*handle), GFP_KERNEL);
	if (!handle) {
		ret = -ENOMEM;
		goto err_drop;
	}
	handle->block = block;

	mutex_lock(&cfile->lock);
	ret = xa_alloc(&cfile->handles, &handle->id, handle, xa_limit_32b,
		       GFP_KERNEL);
	if (ret) {
		ret = ret == -EBUSY ? -EMFILE : ret;
		goto err_unlock;
	}
	ret = cmamem_offset_alloc(cfile, handle, block->length >> PAGE_SHIFT);
	if (ret)
		goto err_erase;
	*id = handle->id;
	*pgoff = handle->pgoff;
	mutex_unlock(&cfile->lock);
	return 0;

err_erase:
	xa_erase(&cfile->handles, handle->id);
err_unlock:
	mutex_unlock(&cfile->lock);
	kfree(handle);
err_drop:
	cmamem_file_unreserve(cfile, block->length);
	cmamem_block_put_handle(block);
	return ret;
}

/**
 * cmamem_handle_lookup() - find the block behind a handle
 * @cfile: the open file
 * @id: the handle number
 * @pgoff: if not NULL, the handle's first mmap page offset
 *
 * Return: the block with a reference the caller must drop with
 * cmamem_block_put(), ERR_PTR(-ENOENT) when there is no such handle, or
 * ERR_PTR(-EINVAL) when it is an import handle.
 */
struct cmamem_block *cmamem_handle_lookup(struct cmamem_file *cfile, u32 id,
					  unsigned long *pgoff)
{
	struct cmamem_handle *handle;
	struct cmamem_block *block;

	mutex_lock(&cfile->lock);
	handle = xa_load(&cfile->handles, id);
	if (!handle) {
		block = ERR_PTR(-ENOENT);
	} else if (!handle->block) {
		block = ERR_PTR(-EINVAL);
	} else {
		block = handle->block;
		cmamem_block_get(block);
		if (pgoff)
			*pgoff = handle->pgoff;
	}
	mutex_unlock(&cfile->lock);
	return block;
}

/*
 * Takes handle @id out of the file, if it is on @expected (any handle,
 * block or import, when @expected is NULL), and gives its quota back. Its
 * mmap offsets stop working at once. The caller owns the handle then.
 */
static struct cmamem_handle *cmamem_handle_take(struct cmamem_file *cfile,
						u32 id,
						struct cmamem_block *expected)
{
	struct cmamem_handle *handle;

	mutex_lock(&cfile->lock);
	handle = xa_load(&cfile->handles, id);
	if (!handle || (expected && handle->block != expected)) {
		mutex_unlock(&cfile->lock);
		return NULL;
	}
	xa_erase(&cfile->handles, id);
	cfile->quota_handles--;
	if (handle->block) {
		mtree_erase(&cfile->offsets, handle->pgoff);
		cfile->quota_bytes -= handle->block->length;
	}
	mutex_unlock(&cfile->lock);
	return handle;
}

/*
 * Drops what a handle taken out of its file held. Must be called without
 * any cmamem lock held: detaching an import calls into its exporter.
 */
static void cmamem_handle_release(struct cmamem_handle *handle)
{
	if (handle->block)
		cmamem_block_put_handle(handle->block);
	else
		cmamem_dmabuf_import_release(handle->import);
	kfree(handle);
}

/**
 * cmamem_handle_remove() - take a block handle out of an open file
 * @cfile: the open file
 * @id: the handle number
 * @expected: remove the handle only if it is on this block (not NULL)
 * @legacy_address: if not NULL, where CMEM_ALLOCATE mapped the block
 *
 * The handle's mmap offsets stop working at once and its quota is given
 * back.
 *
 * Return: the block, whose handle count and reference the caller must drop
 * with cmamem_block_put_handle(), or ERR_PTR(-ENOENT).
 */
struct cmamem_block *cmamem_handle_remove(struct cmamem_file *cfile, u32 id,
					  struct cmamem_block *expected,
					  unsigned long *legacy_address)
{
	struct cmamem_handle *handle;
	struct cmamem_block *block;

	handle = cmamem_handle_take(cfile, id, expected);
	if (!handle)
		return ERR_PTR(-ENOENT);
	block = handle->block;
	if (legacy_address)
		*legacy_address = handle->legacy_address;
	kfree(handle);
	return block;
}

/**
 * cmamem_handle_free() - drop one of an open file's handles
 * @cfile: the open file
 * @id: the handle number
 * @expected: if not NULL, drop the handle only if it is on this block
 *	(for undoing a handle another thread may have freed and reused);
 *	if NULL, drop any handle, block or import
 *
 * Must be called without any cmamem lock held.
 *
 * Return: 0 or -ENOENT.
 */
int cmamem_handle_free(struct cmamem_file *cfile, u32 id,
		       struct cmamem_block *expected)
{
	struct cmamem_handle *handle;

	handle = cmamem_handle_take(cfile, id, expected);
	if (!handle)
		return -ENOENT;
	cmamem_handle_release(handle);
	return 0;
}

/**
 * cmamem_import_handle_reserve() - a handle number for an import
 * @cfile: the open file
 *
 * The number counts against fd_max_blocks at once but stays invisible
 * (lookups and FREE see no handle) until cmamem_import_handle_publish(),
 * so no other thread can free the handle while IMPORT writes its reply.
 *
 * Return: the handle, with its &cmamem_handle.id set, or ERR_PTR(-EMFILE)
 * or ERR_PTR(-ENOMEM).
 */
struct cmamem_handle *cmamem_import_handle_reserve(struct cmamem_file *cfile)
{
	struct cmamem_handle *handle;
	int ret;

	handle = kzalloc(sizeof(*handle), GFP_KERNEL);
	if (!handle)
		return ERR_PTR(-ENOMEM);
	/* The memory is the exporter's: an import counts no bytes. */
	ret = cmamem_file_reserve(cfile, 0);
	if (ret)
		goto err_free_handle;

	mutex_lock(&cfile->lock);
	/* Storing NULL reserves the number without publishing anything. */
	ret = xa_alloc(&cfile->handles, &handle->id, NULL, xa_limit_32b,
		       GFP_KERNEL);
	mutex_unlock(&cfile->lock);
	if (ret) {
		ret = ret == -EBUSY ? -EMFILE : ret;
		goto err_unreserve;
	}
	return handle;

err_unreserve:
	cmamem_file_unreserve(cfile, 0);
err_free_handle:
	kfree(handle);
	return ERR_PTR(ret);
}

/**
 * cmamem_import_handle_publish() - make a reserved import handle usable
 * @cfile: the open file
 * @handle: from cmamem_import_handle_reserve()
 * @import: the import, which the handle owns from now on
 */
void cmamem_import_handle_publish(struct cmamem_file *cfile,
				  struct cmamem_handle *handle,
				  struct cmamem_dmabuf_import *import)
{
	handle->import = import;
	mutex_lock(&cfile->lock);
	/* The slot exists already, so this store allocates nothing. */
	xa_store(&cfile->handles, handle->id, handle, GFP_KERNEL);
	mutex_unlock(&cfile->lock);
}

/**
 * cmamem_import_handle_cancel() - give back a reserved import handle
 * @cfile: the open file
 * @handle: from cmamem_import_handle_reserve(), never published
 */
void cmamem_import_handle_cancel(struct cmamem_file *cfile,
				 struct cmamem_handle *handle)
{
	mutex_lock(&cfile->lock);
	xa_release(&cfile->handles, handle->id);
	mutex_unlock(&cfile->lock);
	cmamem_file_unreserve(cfile, 0);
	kfree(handle);
}

/**
 * cmamem_file_drop_handles() - drop every handle of a file being released
 * @cfile: the open file; nothing else can use it any more
 */
void cmamem_file_drop_handles(struct cmamem_file *cfile)
{
	struct cmamem_handle *handle;
	unsigned long id;

	xa_for_each(&cfile->handles, id, handle) {
		xa_erase(&cfile->handles, id);
		if (handle->block)
			mtree_erase(&cfile->offsets, handle->pgoff);
		cmamem_handle_release(handle);
	}
	cfile->quota_handles = 0;
	cfile->quota_bytes = 0;
}

/**
 * cmamem_block_sync() - cache maintenance for a range of a block
 * @block: the block
 * @offset: first byte of the range, validated against the block
 * @length: bytes in the range, validated against the block
 * @for_device: true to make CPU writes visible to devices, false to make
 *	device writes visible to the CPU
 *
 * Cached blocks get the DMA API's sync (the mapping is bidirectional, the
 * direction of each sync says which way the data went). Write-combine
 * blocks only need their write buffers drained before a device reads;
 * coherent blocks need nothing.
 */
void cmamem_block_sync(struct cmamem_block *block, u64 offset, u64 length,
		       bool for_device)
{
	struct device *dev = block->pool->dma_dev;
	dma_addr_t address = block->dma_address + offset;

	switch (block->mode) {
	case CMAMEM_MODE_CACHED:
		if (for_device)
			dma_sync_single_for_device(dev, address, length,
						   DMA_TO_DEVICE);
		else
			dma_sync_single_for_cpu(dev, address, length,
						DMA_FROM_DEVICE);
		break;
	case CMAMEM_MODE_WRITECOMBINE:
		if (for_device) {
			/* Drain the CPU's write-combine buffers to memory. */
			wmb();
		}
		break;
	default:
		break;
	}
}
