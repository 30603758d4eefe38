// SPDX-License-Identifier: GPL-2.0
/*
 * cmamem blocks: the layer above pools. A block is one allocation of a
 * pool in one cache mode, with a name, a lifetime and cache maintenance.
 *
 * A block is reference counted (&cmamem_block.ref): every handle, every VMA
 * and every dma-buf holds one reference, and the memory goes back
 * to the pool when the last one is dropped. Independently, the block
 * counts its handles under the pool lock; when the last handle goes the
 * name is unpublished at once, so it can be reused while old mappings of
 * the block are still alive. The handles themselves belong to open files
 * (file.c); this file only counts them.
 */

#include <linux/capability.h>
#include <linux/cc_platform.h>
#include <linux/cred.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/gfp.h>
#include <linux/llist.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/overflow.h>
#include <linux/page_ref.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/swiotlb.h>
#include <linux/vmalloc.h>
#include <linux/vmstat.h>

#include <asm/barrier.h>

#include "cmamem.h"

unsigned long long cmamem_max_block_size;
module_param_named(max_block_size, cmamem_max_block_size, ullong, 0644);
MODULE_PARM_DESC(max_block_size,
		 "Largest block in bytes; larger requests fail with EFBIG (0 = no limit, the default)");

static unsigned long long cmamem_user_quota_bytes;
module_param_named(user_quota_bytes, cmamem_user_quota_bytes, ullong, 0644);
MODULE_PARM_DESC(user_quota_bytes,
		 "Bytes of live blocks one user may have allocated in one pool, however they are kept alive; more fails with EDQUOT (0 = no limit, the default)");

static unsigned int cmamem_user_max_blocks;
module_param_named(user_max_blocks, cmamem_user_max_blocks, uint, 0644);
MODULE_PARM_DESC(user_max_blocks,
		 "Live blocks one user may have allocated in one pool; more fails with EDQUOT (0 = no limit, the default)");

/*
 * Blocks come from a cache of their own: a kmalloc() object of their size
 * is 256 bytes on arm64 Linux 6.1, and every live block costs one.
 */
static struct kmem_cache *cmamem_block_cache;

/*
 * The block modes, one row each: everything that differs between modes is
 * here, so adding a mode is adding a row (and its uapi number).
 */
static const struct cmamem_mode_info cmamem_modes[] = {
	[CMAMEM_MODE_COHERENT] = {
		.name = "coherent",
		.cpu_sync = CMAMEM_CPU_SYNC_NONE,
	},
	[CMAMEM_MODE_WRITECOMBINE] = {
		.name = "writecombine",
		.dma_attrs = DMA_ATTR_WRITE_COMBINE,
		.cpu_sync = CMAMEM_CPU_SYNC_DRAIN,
	},
	[CMAMEM_MODE_CACHED] = {
		.name = "cached",
		.page_backed = true,
		.cpu_sync = CMAMEM_CPU_SYNC_CACHES,
		.pool_flags = CMAMEM_POOL_CACHED,
	},
};

/**
 * cmamem_mode_info() - the row of a block mode
 * @mode: an &enum cmamem_mode, from user space (any value)
 *
 * Return: the mode's row, or NULL for a value that is no mode.
 */
const struct cmamem_mode_info *cmamem_mode_info(u32 mode)
{
	if (mode >= ARRAY_SIZE(cmamem_modes) || !cmamem_modes[mode].name)
		return NULL;
	return &cmamem_modes[mode];
}

/**
 * cmamem_block_mode() - the row of a block's mode
 * @block: the block
 *
 * A block's mode was validated (cmamem_mode_info()) when it was asked for,
 * so it has a row: no check again at every use.
 *
 * Return: the row of @block's &enum cmamem_mode.
 */
const struct cmamem_mode_info *
cmamem_block_mode(const struct cmamem_block *block)
{
	return &cmamem_modes[block->mode];
}

/**
 * cmamem_pool_serves_mode() - can a pool allocate blocks in a mode?
 * @pool: the pool
 * @mode: the mode's row
 *
 * Return: true if the pool has every capability the mode needs.
 */
bool cmamem_pool_serves_mode(const struct cmamem_pool *pool,
			     const struct cmamem_mode_info *mode)
{
	return (pool->pool_flags & mode->pool_flags) == mode->pool_flags;
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
 * cmamem_limit_check() - can a block lie below a DMA address limit here
 * @pool: the pool
 * @length: the length, validated by cmamem_length_check()
 * @alignment: the alignment, validated likewise
 * @max_dma_address: the highest DMA address any byte may have, 0 for none
 *
 * An engine with fewer address bits than the pool's device reaches only
 * the low part of the pool, or none of it. Where the pool's region is
 * known and its DMA addresses are its physical ones (no dma-ranges
 * offset), a block that cannot fit below the limit is refused here, before
 * anything is allocated; elsewhere only the allocation itself can tell.
 *
 * Only callers that may see DMA addresses get this far (ALLOC answers
 * EPERM to others), so the refusals are logged without a rate limit: a
 * board team reads why in the log of the very call that failed.
 *
 * Return: 0, or -ERANGE (logged) when no block of @length bytes at
 * @alignment can end at or below @max_dma_address in @pool.
 */
int cmamem_limit_check(struct cmamem_pool *pool, u64 length, u64 alignment,
		       u64 max_dma_address)
{
	u64 granule = max_t(u64, alignment, PAGE_SIZE);
	u64 lowest_start = 0;

	if (!max_dma_address)
		return 0;
	if (pool->region_size && !pool->dma_dev->dma_range_map)
		lowest_start = round_up((u64)pool->region_base, granule);
	if (lowest_start > max_dma_address ||
	    length - 1 > max_dma_address - lowest_start) {
		dev_info(pool->dma_dev,
			 "pool %s: a block of %llu bytes cannot end at or below DMA address %#llx: the pool's lowest block would start at %#llx\n",
			 pool->name, length, max_dma_address, lowest_start);
		return -ERANGE;
	}
	return 0;
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

/*
 * Whether dma-direct honours DMA_ATTR_NO_KERNEL_MAPPING for the pool's
 * device by returning the first page (see cmamem_alloc_coherent()). It
 * does not for a carveout (a device coherent pool), a device with
 * dma_map_ops (an IOMMU), a restricted DMA pool, or memory encryption
 * (dma-direct then ignores the attribute and returns a kernel address).
 *
 * The DMA attributes of a coherent or write-combine block's
 * dma_alloc_attrs() and dma_free_attrs() are the mode's, and no kernel
 * mapping wherever it is honoured.
 */
static bool cmamem_pool_allocates_unmapped(const struct cmamem_pool *pool)
{
	struct device *dev = pool->dma_dev;

	return !(pool->pool_flags & CMAMEM_POOL_CARVEOUT) && !get_dma_ops(dev) &&
	       !is_swiotlb_for_alloc(dev) &&
	       !cc_platform_has(CC_ATTR_MEM_ENCRYPT);
}

static unsigned long cmamem_coherent_attrs(const struct cmamem_block *block)
{
	unsigned long attrs = cmamem_block_mode(block)->dma_attrs;

	if (cmamem_pool_allocates_unmapped(block->pool))
		attrs |= DMA_ATTR_NO_KERNEL_MAPPING;
	return attrs;
}

static void cmamem_free_backing(struct cmamem_block *block)
{
	struct device *dev = block->pool->dma_dev;

	switch (block->backing) {
	case CMAMEM_BACKING_COHERENT:
		/* Without a kernel mapping, the cookie is the first page. */
		dma_free_attrs(dev, block->alloc_size,
			       block->cpu_address ?: block->first_page,
			       block->alloc_dma, cmamem_coherent_attrs(block));
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
	case CMAMEM_BACKING_ZEROED_PAGES:
		dma_unmap_page_attrs(dev, block->alloc_dma, block->alloc_size,
				     DMA_BIDIRECTIONAL, DMA_ATTR_SKIP_CPU_SYNC);
		fallthrough;
	case CMAMEM_BACKING_HIGHMEM_PAGES:
		/* The allocation's cookie is its first page. */
		dma_free_attrs(dev, block->alloc_size, block->first_page,
			       block->alloc_dma, DMA_ATTR_NO_KERNEL_MAPPING);
		break;
	}
}

/* Records the allocation behind a block. */
static void cmamem_block_set_backing(struct cmamem_block *block,
				     enum cmamem_backing backing, size_t size,
				     void *cpu_address, struct page *first_page,
				     dma_addr_t dma)
{
	block->backing = backing;
	block->alloc_size = size;
	block->cpu_address = cpu_address;
	block->first_page = first_page;
	block->alloc_dma = dma;
}

/* Whether the page allocator zeroes every page it hands out, CMA's too. */
static bool cmamem_allocator_zeroes(void)
{
	/* With init_on_free too, the allocator leaves zeroing to the free. */
	return want_init_on_alloc(GFP_KERNEL) && !want_init_on_free();
}

/*
 * Whether dma-direct cleaned and invalidated the caches of a run it
 * allocated without a kernel mapping, starting at @page.
 */
static bool cmamem_dma_direct_cleaned(struct page *page)
{
	return IS_ENABLED(CONFIG_ARCH_HAS_DMA_PREP_COHERENT) &&
	       !PageHighMem(page);
}

/*
 * Memory dma_alloc_attrs() returned with DMA_ATTR_NO_KERNEL_MAPPING under
 * dma-direct comes zeroed only if the kernel runs with init_on_alloc
 * (Debian's default): then the page allocator zeroed every page, CMA's
 * included (post_alloc_hook()), and zeroing them again would double the
 * cost. dma-direct has then already cleaned and invalidated the caches of
 * a lowmem run, after that zeroing (arch_dma_prep_coherent(), which
 * modules cannot call, on the architectures that have it: arm64, not
 * 32-bit ARM), so the memory is ready as it is: no line of the kernel's
 * cacheable alias is left for an uncached user mapping or a device to
 * disagree with.
 *
 * Otherwise each page is cleared through a temporary mapping (highmem
 * pages have no other), and a streaming mapping of the whole run, made and
 * undone at once, cleans the caches to memory and invalidates them.
 * The streaming mapping, unlike a sync of the allocation, is one DMA-API
 * debugging knows of.
 */
static int cmamem_clear_unmapped(struct device *dev, struct page *page,
				 size_t size)
{
	bool zeroed = cmamem_allocator_zeroes();
	unsigned long index;
	dma_addr_t dma;

	if (zeroed && cmamem_dma_direct_cleaned(page))
		return 0;
	if (!zeroed)
		for (index = 0; index < size >> PAGE_SHIFT; index++)
			clear_highpage(nth_page(page, index));
	dma = dma_map_page_attrs(dev, page, 0, size, DMA_BIDIRECTIONAL, 0);
	if (dma_mapping_error(dev, dma))
		return -ENOMEM;
	dma_unmap_page_attrs(dev, dma, size, DMA_BIDIRECTIONAL, 0);
	return 0;
}

/*
 * Coherent and write-combine blocks: dma_alloc_attrs().
 *
 * On a carveout pool the memory comes from the device's coherent pool,
 * which rmem_dma_device_init() declares with device address == physical
 * address, and has no struct pages; it is mapped into the kernel already.
 *
 * Otherwise, under dma-direct (no dma_map_ops: no IOMMU), the block asks
 * for DMA_ATTR_NO_KERNEL_MAPPING: nothing in the kernel reads or writes a
 * coherent block (users map it, devices reach it by its DMA address, and a
 * dma-buf vmap() maps it when asked), while the kernel mapping dma-direct
 * would make for a non-coherent device (DMA_DIRECT_REMAP, a vmap() of the
 * pages) costs a vm_struct and a vmap_area, about 190 bytes, for every
 * live block, and a TLB flush when it goes. The cookie returned is the
 * first page; cmamem_clear_unmapped() does the zeroing and cleaning that
 * dma-direct then leaves out.
 *
 * A device with dma_map_ops gets the kernel mapping it makes; the struct
 * page behind its linear or vmalloc address gives the physical address,
 * independent of any dma-ranges offset.
 */
static int cmamem_alloc_coherent(struct cmamem_block *block, size_t size)
{
	struct cmamem_pool *pool = block->pool;
	struct device *dev = pool->dma_dev;
	unsigned long attrs = cmamem_coherent_attrs(block);
	struct page *page;
	dma_addr_t dma;
	void *cpu;

	cpu = dma_alloc_attrs(dev, size, &dma, cmamem_gfp(pool), attrs);
	if (!cpu)
		return -ENOMEM;

	if (pool->pool_flags & CMAMEM_POOL_CARVEOUT) {
		page = NULL;
	} else if (attrs & DMA_ATTR_NO_KERNEL_MAPPING) {
		page = cpu;
		cpu = NULL;
		if (cmamem_clear_unmapped(dev, page, size)) {
			dma_free_attrs(dev, size, page, dma, attrs);
			return -ENOMEM;
		}
	} else if (is_vmalloc_addr(cpu)) {
		page = vmalloc_to_page(cpu);
	} else if (virt_addr_valid(cpu)) {
		page = virt_to_page(cpu);
	} else {
		/* No architecture this module supports gets here. */
		dma_free_attrs(dev, size, cpu, dma, attrs);
		return -ENOMEM;
	}

	cmamem_block_set_backing(block, CMAMEM_BACKING_COHERENT, size, cpu,
				 page, dma);
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

	/* A refusal says why below; swiotlb need not warn that it is full. */
	dma = dma_map_page_attrs(dev, virt_to_page(cpu), 0, size,
				 DMA_BIDIRECTIONAL, DMA_ATTR_NO_WARN);
	if (dma_mapping_error(dev, dma))
		goto err_free_pages;
	if (dma != phys)
		goto err_unmap;

	cmamem_block_set_backing(block, CMAMEM_BACKING_STREAMING, size, cpu,
				 virt_to_page(cpu), dma);
	return 0;

err_unmap:
	dma_unmap_page_attrs(dev, dma, size, DMA_BIDIRECTIONAL, 0);
err_free_pages:
	free_pages_exact(cpu, size);
	dev_info_ratelimited(dev,
			     "pool %s: a cached block of %zu bytes outside CMA would be out of the device's direct reach (beyond its mask, or bounced by swiotlb): not allocated\n",
			     block->pool->name, size);
	return -ENOMEM;
}

/*
 * Whether any of a device-tree pool's region is highmem (only 32-bit
 * kernels have it): memory the kernel has no linear address for, at the
 * top of RAM, so the region's last page tells.
 */
static bool cmamem_pool_in_highmem(const struct cmamem_pool *pool)
{
	if (!IS_ENABLED(CONFIG_HIGHMEM) || !pool->region_size)
		return false;
	return PageHighMem(pfn_to_page(PHYS_PFN(pool->region_base +
						 pool->region_size - 1)));
}

/*
 * Cached blocks of a CMA pool in highmem. dma_alloc_pages() never returns
 * highmem pages (it hands back page_address() of what it allocated): it
 * gives the CMA pages back and tries the page allocator, whose lowmem
 * pages lie outside the region. dma_alloc_attrs() with
 * DMA_ATTR_NO_KERNEL_MAPPING takes the pool's CMA pages wherever they are
 * and maps nothing, which is what a cached block wants: the only CPU
 * mappings are the users' cacheable ones (and a dma-buf's vmap()), never
 * an uncached kernel alias of the same memory. Under dma-direct (a device
 * without dma_map_ops, as every pool's is without an IOMMU) the returned
 * cookie is the first page, and cmamem_clear_unmapped() zeroes the
 * memory.
 */
static int cmamem_alloc_highmem_pages(struct cmamem_block *block,
				      size_t size)
{
	struct cmamem_pool *pool = block->pool;
	struct device *dev = pool->dma_dev;
	struct page *page;
	dma_addr_t dma;

	if (get_dma_ops(dev))
		return -ENOMEM;
	page = dma_alloc_attrs(dev, size, &dma, cmamem_gfp(pool),
			       DMA_ATTR_NO_KERNEL_MAPPING);
	if (!page)
		return -ENOMEM;
	if (!cmamem_pages_refcounted(page, size >> PAGE_SHIFT) ||
	    cmamem_clear_unmapped(dev, page, size)) {
		dma_free_attrs(dev, size, page, dma,
			       DMA_ATTR_NO_KERNEL_MAPPING);
		return -ENOMEM;
	}

	cmamem_block_set_backing(block, CMAMEM_BACKING_HIGHMEM_PAGES, size,
				 NULL, page, dma);
	return 0;
}

/*
 * Cached blocks where the page allocator zeroes what it hands out
 * (init_on_alloc, Debian's default) and dma-direct cleans the caches of
 * what it allocates without a kernel mapping (arm64): dma_alloc_attrs()
 * with DMA_ATTR_NO_KERNEL_MAPPING then returns memory that is zeroed and
 * clean already (see cmamem_clear_unmapped()), where dma_alloc_pages()
 * would zero it a second time (dma_direct_alloc_pages() clears what it
 * returns). A streaming mapping made without cache maintenance lives as
 * long as the block: it is the mapping SYNC syncs, as dma_alloc_pages()
 * makes one (DMA-API debugging checks syncs against mappings).
 *
 * Return: 0, -ENOMEM, or -EAGAIN where this does not apply, or gave pages
 * without counts of their own (the buddy allocator's, with CMA full), for
 * dma_alloc_pages() to try.
 */
static int cmamem_alloc_zeroed_pages(struct cmamem_block *block, size_t size)
{
	struct cmamem_pool *pool = block->pool;
	struct device *dev = pool->dma_dev;
	dma_addr_t dma, mapped;
	struct page *page;
	int ret = -EAGAIN;

	/*
	 * With swiotlb forced (swiotlb=force, or a platform that bounces
	 * every streaming mapping) the block's streaming mapping would be a
	 * bounce slot; dma_alloc_pages() maps nothing through swiotlb.
	 */
	if (!IS_ENABLED(CONFIG_ARCH_HAS_DMA_PREP_COHERENT) ||
	    !cmamem_allocator_zeroes() ||
	    !cmamem_pool_allocates_unmapped(pool) ||
	    is_swiotlb_force_bounce(dev))
		return -EAGAIN;
	page = dma_alloc_attrs(dev, size, &dma, cmamem_gfp(pool),
			       DMA_ATTR_NO_KERNEL_MAPPING);
	if (!page)
		return -ENOMEM;
	if (!cmamem_dma_direct_cleaned(page) ||
	    !cmamem_pages_refcounted(page, size >> PAGE_SHIFT))
		goto err_free;
	mapped = dma_map_page_attrs(dev, page, 0, size, DMA_BIDIRECTIONAL,
				    DMA_ATTR_SKIP_CPU_SYNC);
	ret = -ENOMEM;
	if (dma_mapping_error(dev, mapped))
		goto err_free;
	/* Not a bounce buffer: the device must see the block itself. */
	if (mapped != dma) {
		dma_unmap_page_attrs(dev, mapped, size, DMA_BIDIRECTIONAL,
				     DMA_ATTR_SKIP_CPU_SYNC);
		goto err_free;
	}

	cmamem_block_set_backing(block, CMAMEM_BACKING_ZEROED_PAGES, size,
				 page_address(page), page, dma);
	return 0;

err_free:
	dma_free_attrs(dev, size, page, dma, DMA_ATTR_NO_KERNEL_MAPPING);
	return ret;
}

/*
 * Cached blocks: pages zeroed once where the kernel allows it (above),
 * otherwise dma_alloc_pages(), which gives CMA pages when it can.
 */
static int cmamem_alloc_pages(struct cmamem_block *block, size_t size)
{
	struct cmamem_pool *pool = block->pool;
	struct device *dev = pool->dma_dev;
	struct page *page;
	dma_addr_t dma;
	int ret;

	if (cmamem_pool_in_highmem(pool))
		return cmamem_alloc_highmem_pages(block, size);
	ret = cmamem_alloc_zeroed_pages(block, size);
	if (ret != -EAGAIN)
		return ret;
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

	cmamem_block_set_backing(block, CMAMEM_BACKING_PAGES, size,
				 page_address(page), page, dma);
	return 0;
}

/*
 * The physical address of the allocation: a carveout's DMA address is its
 * physical address (see cmamem_alloc_coherent()); everything else has a
 * first page.
 */
static phys_addr_t cmamem_block_alloc_phys(const struct cmamem_block *block)
{
	if (!block->first_page)
		return block->alloc_dma;
	return page_to_phys(block->first_page);
}

/**
 * cmamem_block_physical_address() - where a block starts in memory
 * @block: a block whose memory is allocated
 *
 * Return: the physical address of the block's first byte.
 */
phys_addr_t cmamem_block_physical_address(const struct cmamem_block *block)
{
	return cmamem_block_alloc_phys(block) + block->window_offset;
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
	phys_addr_t phys;
	u64 offset;
	int ret;

	if (cmamem_block_mode(block)->page_backed)
		ret = cmamem_alloc_pages(block, size);
	else
		ret = cmamem_alloc_coherent(block, size);
	if (ret || !pool->region_size)
		return ret;

	phys = cmamem_block_alloc_phys(block);
	offset = (u64)phys - pool->region_base;
	if (phys < pool->region_base ||
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
static int cmamem_block_alloc_memory(struct cmamem_block *block,
				     u64 max_dma_address)
{
	u64 alignment = cmamem_block_alignment(block);
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
	/*
	 * CMA and carveouts hand out the lowest free run that fits (their
	 * bitmaps are searched from the start), so there a block beyond the
	 * limit means that no run below it is free. The page allocator
	 * behind a default pool without CMA keeps no such order; there it
	 * means only that the memory it gave was out of reach.
	 */
	if (max_dma_address &&
	    cmamem_block_dma_address(block) + (block->length - 1) >
	    max_dma_address) {
		dev_info(block->pool->dma_dev,
			 "pool %s: the lowest free run of %llu bytes starts at DMA address %#llx, above the limit %#llx\n",
			 block->pool->name, block->length,
			 (u64)cmamem_block_dma_address(block), max_dma_address);
		cmamem_free_backing(block);
		return -EADDRNOTAVAIL;
	}

	if (block->backing == CMAMEM_BACKING_COHERENT)
		return 0;

	/*
	 * A one-page block that starts where its allocation does needs no
	 * array: the array of one is the block's own first_page (an array of
	 * its own would take a whole kmalloc-128 object on arm64 Linux 6.1).
	 */
	count = block->length >> PAGE_SHIFT;
	if (count == 1 && !block->window_offset) {
		block->pages = &block->first_page;
		return 0;
	}
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

/* Where a block's allocation lies in its pool's region. */
struct cmamem_extent {
	u64 start;
	u64 end;
};

static int cmamem_extent_compare(const void *a, const void *b)
{
	const struct cmamem_extent *first = a, *second = b;

	if (first->start == second->start)
		return 0;
	return first->start < second->start ? -1 : 1;
}

/*
 * The bytes of the region a block's allocation occupies: a carveout's
 * coherent pool hands out naturally aligned power-of-two runs of pages
 * (bitmap_find_free_region()), a CMA area exactly the pages asked for.
 */
static u64 cmamem_block_footprint(const struct cmamem_block *block)
{
	if (block->pool->pool_flags & CMAMEM_POOL_CARVEOUT)
		return PAGE_SIZE << get_order(block->alloc_size);
	return block->alloc_size;
}

/*
 * The longest run of a device-tree pool's region that none of its blocks
 * occupies, from the blocks themselves (the region is the pool's alone).
 * Called with &cmamem_pool.lock held; 0 if the scratch array cannot be had.
 */
static u64 cmamem_pool_largest_free(struct cmamem_pool *pool)
{
	/* u64: a region may end at 4 GiB where phys_addr_t is 32 bits. */
	u64 cursor = pool->region_base;
	u64 end = pool->region_base + pool->region_size;
	struct cmamem_extent *extents;
	struct cmamem_block *block;
	unsigned int count = 0, index;
	u64 largest = 0;

	lockdep_assert_held(&pool->lock);
	extents = kvmalloc_array(max(pool->stats.blocks, 1U),
				 sizeof(*extents), GFP_KERNEL);
	if (!extents)
		return 0;
	list_for_each_entry(block, &pool->blocks, pool_node) {
		if (count == pool->stats.blocks)
			break;
		extents[count].start = cmamem_block_alloc_phys(block);
		extents[count].end = extents[count].start +
				     cmamem_block_footprint(block);
		count++;
	}
	sort(extents, count, sizeof(*extents), cmamem_extent_compare, NULL);
	for (index = 0; index < count; index++) {
		if (extents[index].start > cursor)
			largest = max_t(u64, largest,
					extents[index].start - cursor);
		cursor = max(cursor, extents[index].end);
	}
	if (end > cursor)
		largest = max_t(u64, largest, end - cursor);
	kvfree(extents);
	return largest;
}

/**
 * cmamem_pool_snapshot() - a consistent copy of a pool's counters
 * @pool: the pool
 * @snapshot: the copy
 *
 * The kernel tells modules neither the size of its default CMA area nor
 * its largest free run; for the default pool @free_bytes is the free CMA
 * memory of the whole system (CmaFree) and @largest_free_bytes 0. For
 * device-tree pools, whose regions hold only their own blocks, both come
 * from the blocks.
 */
void cmamem_pool_snapshot(struct cmamem_pool *pool,
			  struct cmamem_pool_snapshot *snapshot)
{
	bool known = pool->pool_flags & CMAMEM_POOL_TOTAL_KNOWN;

	mutex_lock(&pool->lock);
	snapshot->stats = pool->stats;
	snapshot->largest_free_bytes = known ?
				       cmamem_pool_largest_free(pool) : 0;
	mutex_unlock(&pool->lock);

	snapshot->total_bytes = pool->region_size;
	if (known)
		snapshot->free_bytes = snapshot->total_bytes -
			min(snapshot->total_bytes, snapshot->stats.used_bytes);
	else
		snapshot->free_bytes =
			(u64)global_zone_page_state(NR_FREE_CMA_PAGES) <<
			PAGE_SHIFT;
}

/*
 * Charges a new block of @bytes to its owner's usage of the pool, under
 * &cmamem_pool.lock: -EDQUOT past user_quota_bytes or user_max_blocks,
 * -ENOMEM if the user's entry cannot be made.
 */
static int cmamem_user_charge(struct cmamem_pool *pool, kuid_t owner,
			      u64 bytes)
{
	u64 quota = READ_ONCE(cmamem_user_quota_bytes);
	unsigned int max_blocks = READ_ONCE(cmamem_user_max_blocks);
	unsigned long key = __kuid_val(owner);
	struct cmamem_user_usage *usage;

	lockdep_assert_held(&pool->lock);
	usage = xa_load(&pool->users, key);
	if (!usage) {
		usage = kzalloc(sizeof(*usage), GFP_KERNEL);
		if (!usage)
			return -ENOMEM;
		if (xa_is_err(xa_store(&pool->users, key, usage, GFP_KERNEL))) {
			kfree(usage);
			return -ENOMEM;
		}
	}
	if ((max_blocks && usage->blocks >= max_blocks) ||
	    (quota && (bytes > quota || usage->bytes > quota - bytes))) {
		if (!usage->blocks) {
			xa_erase(&pool->users, key);
			kfree(usage);
		}
		return -EDQUOT;
	}
	usage->bytes += bytes;
	usage->blocks++;
	return 0;
}

/* Gives a block's charge back, under &cmamem_pool.lock. */
static void cmamem_user_uncharge(struct cmamem_pool *pool, kuid_t owner,
				 u64 bytes)
{
	unsigned long key = __kuid_val(owner);
	struct cmamem_user_usage *usage;

	lockdep_assert_held(&pool->lock);
	usage = xa_load(&pool->users, key);
	usage->bytes -= bytes;
	if (!--usage->blocks) {
		xa_erase(&pool->users, key);
		kfree(usage);
	}
}

/*
 * Whether the block's pages lie in a CMA area. Modules cannot ask a page's
 * migrate type, but the allocation says it: only CMA hands out runs of
 * individually refcounted pages (the buddy allocator's runs are one
 * high-order page, and such blocks get streaming backing), and dma-direct
 * takes a single page from CMA only for a device with a CMA area of its
 * own (a device-tree CMA pool), never from the default area.
 */
static bool cmamem_block_in_cma(const struct cmamem_block *block)
{
	const struct cmamem_pool *pool = block->pool;

	if (block->backing == CMAMEM_BACKING_HIGHMEM_PAGES)
		return true;	/* a device-tree CMA pool's pages */
	return (block->backing == CMAMEM_BACKING_PAGES ||
		block->backing == CMAMEM_BACKING_ZEROED_PAGES) &&
	       (pool->pool_flags & CMAMEM_POOL_CMA) &&
	       (block->alloc_size > PAGE_SIZE || pool->region_size);
}

/*
 * Whether get_user_pages() may pin the block's pages through its mappings.
 * Pfn-mapped blocks cannot be pinned at all. A long-term pin of a CMA page
 * makes the kernel migrate it out of CMA first; a driver's pages are not
 * on the LRU and cannot move, and __gup_longterm_locked() then retries
 * forever (Linux 6.1, 6.12). A module cannot tell a long-term pin from a
 * short-term one (O_DIRECT), so the mappings of a block in CMA refuse
 * every pin (VM_IO) unless its allocator asked otherwise.
 */
static bool cmamem_block_pinnable(const struct cmamem_block *block,
				  bool asked)
{
	if (block->backing == CMAMEM_BACKING_COHERENT)
		return false;
	return asked || !cmamem_block_in_cma(block);
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
				     "pool %s: no room for %llu bytes (%s): %llu of %llu bytes in use, largest free run %llu bytes%s\n",
				     pool->name, block->length,
				     cmamem_block_mode(block)->name,
				     snapshot.stats.used_bytes,
				     snapshot.total_bytes,
				     snapshot.largest_free_bytes,
				     snapshot.largest_free_bytes < block->length &&
				     snapshot.free_bytes >= block->length ?
				     ": the pool is fragmented" : "");
	else
		dev_info_ratelimited(pool->dma_dev,
				     "pool %s: no room for %llu bytes (%s): %llu bytes in use, %llu bytes of CMA free\n",
				     pool->name, block->length,
				     cmamem_block_mode(block)->name,
				     snapshot.stats.used_bytes,
				     snapshot.free_bytes);
}

/**
 * cmamem_block_create() - allocate a named block
 * @pool: the pool to allocate from
 * @request: what to create: name, length, alignment, mode, whether it may
 *	be pinned and the DMA address limit, validated (see &struct
 *	cmamem_block_request)
 *
 * The name is reserved before the memory is allocated, so two concurrent
 * allocations of one name cannot both allocate; ATTACH does not see the
 * block until it is ready.
 *
 * The block is charged to the caller's usage of the pool (see &struct
 * cmamem_user_usage) until its memory goes back.
 *
 * Return: the block, holding one handle count and the reference that goes
 * with it, or ERR_PTR(-EEXIST), ERR_PTR(-EDQUOT) past the caller's
 * user_quota_bytes or user_max_blocks, ERR_PTR(-EADDRNOTAVAIL) when the
 * pool has room only above the request's DMA address limit, or
 * ERR_PTR(-ENOMEM).
 */
struct cmamem_block *
cmamem_block_create(struct cmamem_pool *pool,
		    const struct cmamem_block_request *request)
{
	u64 length = request->length;
	struct cmamem_block *block;
	int ret;

	block = kmem_cache_zalloc(cmamem_block_cache, GFP_KERNEL);
	if (!block)
		return ERR_PTR(-ENOMEM);
	kref_init(&block->ref);
	block->pool = pool;
	/* Its owner and name are its key in the pool's name index. */
	block->owner = current_euid();
	memcpy(block->name, request->name, CMAMEM_NAME_SIZE);
	block->handles = 1;
	atomic_set(&block->mappings, 0);
	atomic_set(&block->dma_bufs, 0);
	INIT_LIST_HEAD(&block->pool_node);
	block->mode = request->mode;
	block->length = length;
	/*
	 * What the block gets, and BLOCK_INFO reports: at least a page.
	 * cmamem_length_check() let through only powers of two.
	 */
	block->alignment_order =
		ilog2(max_t(u64, request->alignment, PAGE_SIZE));
	block->pid = task_tgid_nr(current);
	cmamem_block_set_comm(block);

	mutex_lock(&pool->lock);
	ret = cmamem_pool_name_insert(pool, block);
	if (!ret) {
		ret = cmamem_user_charge(pool, block->owner, length);
		if (ret)
			cmamem_pool_name_remove(pool, block);
	}
	block->published = !ret;
	mutex_unlock(&pool->lock);
	if (ret) {
		kmem_cache_free(cmamem_block_cache, block);
		return ERR_PTR(ret);
	}

	ret = cmamem_block_alloc_memory(block, request->max_dma_address);
	if (!ret)
		block->pinnable = cmamem_block_pinnable(block,
							request->pinnable);

	mutex_lock(&pool->lock);
	if (ret) {
		cmamem_pool_name_remove(pool, block);
		cmamem_user_uncharge(pool, block->owner, length);
		pool->stats.failures++;
		mutex_unlock(&pool->lock);
		/* A run above the limit was found and logged already. */
		if (ret != -EADDRNOTAVAIL)
			cmamem_log_failure(pool, block);
		kmem_cache_free(cmamem_block_cache, block);
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
 * @owner: the user whose names to look in: the caller's effective uid, or
 *	(CAP_SYS_ADMIN only) another user's, as the caller checked
 * @name: a valid, zero-padded %CMAMEM_NAME_SIZE byte name
 *
 * Return: the block, with one more handle count and the reference that
 * goes with it, or ERR_PTR(-ENOENT) if @owner has no ready block of that
 * name.
 */
struct cmamem_block *cmamem_block_attach(struct cmamem_pool *pool,
					 kuid_t owner, const char *name)
{
	struct cmamem_name_key key = { .owner = owner };
	struct cmamem_block *block;

	memcpy(key.name, name, CMAMEM_NAME_SIZE);
	mutex_lock(&pool->lock);
	block = cmamem_pool_name_lookup(pool, &key);
	if (!block || !block->ready) {
		block = ERR_PTR(-ENOENT);
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
 * reference meanwhile, so the module cannot be unloaded before. The list
 * is lock-free: any number of releases add to it, the one work item takes
 * it whole.
 */
static LLIST_HEAD(cmamem_deferred_blocks);
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
	if (block->pages != &block->first_page)
		kvfree(block->pages);
	if (block->file)
		fput(block->file);

	mutex_lock(&pool->lock);
	list_del(&block->pool_node);
	cmamem_user_uncharge(pool, block->owner, block->length);
	pool->stats.used_bytes -= block->length;
	pool->stats.blocks--;
	mutex_unlock(&pool->lock);

	kmem_cache_free(cmamem_block_cache, block);
	cmamem_pool_put(pool);
}

static void cmamem_deferred_free(struct work_struct *work)
{
	struct llist_node *blocks = llist_del_all(&cmamem_deferred_blocks);
	struct cmamem_block *block, *next;
	bool waiting = false;

	llist_for_each_entry_safe(block, next, blocks, deferred_node) {
		if (cmamem_block_pages_busy(block)) {
			llist_add(&block->deferred_node,
				  &cmamem_deferred_blocks);
			waiting = true;
			continue;
		}
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
	llist_add(&block->deferred_node, &cmamem_deferred_blocks);
	schedule_delayed_work(&cmamem_deferred_work, HZ / 10);
}

/**
 * cmamem_block_init() - create the blocks' slab cache at module load
 *
 * Return: 0 or -ENOMEM.
 */
int cmamem_block_init(void)
{
	cmamem_block_cache = KMEM_CACHE(cmamem_block, 0);
	return cmamem_block_cache ? 0 : -ENOMEM;
}

/**
 * cmamem_block_exit() - wait for the deferred-free work at module exit
 *
 * Every waiting block holds a module reference, so none is left when the
 * module goes; the work may still be returning from freeing the last one.
 * Then no block is left and the cache goes.
 */
void cmamem_block_exit(void)
{
	cancel_delayed_work_sync(&cmamem_deferred_work);
	kmem_cache_destroy(cmamem_block_cache);
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
		cmamem_pool_name_remove(pool, block);
		block->published = false;
	}
	mutex_unlock(&pool->lock);
	cmamem_block_put(block);
}

/*
 * Whether a sync may invalidate CPU cache lines, which discards dirty ones.
 * The DMA API lets an architecture invalidate on a sync for the CPU of
 * anything but DMA_TO_DEVICE (arm64 and 32-bit ARM do), and on a sync for
 * the device of DMA_FROM_DEVICE (32-bit ARM does; arm64 cleans).
 */
static bool cmamem_sync_may_invalidate(bool for_device,
				       enum dma_data_direction direction)
{
	if (for_device)
		return direction == DMA_FROM_DEVICE;
	return direction != DMA_TO_DEVICE;
}

/**
 * cmamem_block_sync() - cache maintenance for a range of a block
 * @block: the block
 * @offset: first byte of the range, validated against the block
 * @length: bytes in the range, validated against the block
 * @for_device: true to make CPU writes visible to devices, false to make
 *	device writes visible to the CPU
 * @direction: the way the data went, for the DMA API: DMA_TO_DEVICE (the
 *	CPU wrote), DMA_FROM_DEVICE (a device wrote) or DMA_BIDIRECTIONAL
 * @writable: the caller's file is open for writing
 *
 * Cached blocks get the DMA API's sync (the block's mapping is
 * bidirectional, so any @direction is allowed). Write-combine blocks only
 * need their write buffers drained before a device reads; coherent blocks
 * need nothing.
 *
 * An invalidation discards the dirty cache lines of the range: data
 * another process wrote through its own mapping and has not synced yet.
 * A caller that cannot write the block must not be able to destroy it,
 * so for such a caller every sync that may invalidate is preceded by a
 * clean (a sync for the device, DMA_TO_DEVICE) of the same range: it
 * reads what a device wrote, and the writer's data reaches memory instead
 * of vanishing.
 */
void cmamem_block_sync(struct cmamem_block *block, u64 offset, u64 length,
		       bool for_device, enum dma_data_direction direction,
		       bool writable)
{
	struct device *dev = block->pool->dma_dev;
	dma_addr_t address = cmamem_block_dma_address(block) + offset;

	switch (cmamem_block_mode(block)->cpu_sync) {
	case CMAMEM_CPU_SYNC_CACHES:
		if (!writable && cmamem_sync_may_invalidate(for_device,
							    direction))
			dma_sync_single_for_device(dev, address, length,
						   DMA_TO_DEVICE);
		if (for_device)
			dma_sync_single_for_device(dev, address, length,
						   direction);
		else
			dma_sync_single_for_cpu(dev, address, length,
						direction);
		break;
	case CMAMEM_CPU_SYNC_DRAIN:
		if (for_device) {
			/* Drain the CPU's write-combine buffers to memory. */
			wmb();
		}
		break;
	case CMAMEM_CPU_SYNC_NONE:
		break;
	}
}
