// SPDX-License-Identifier: GPL-2.0
/*
 * cmamem and dma-bufs, a view of a block: exporting blocks to other
 * drivers, and importing other drivers' buffers for engines that take a
 * DMA address.
 *
 * A dma-buf exported from a block holds a reference on the block (and, as
 * the dma-buf core takes one on exp_info.owner, on the module) until its
 * release, so FREE and closing the pool file cannot free memory a device
 * or another process still uses. The dma_buf_ops follow the CMA heap's
 * (drivers/dma-buf/heaps/cma_heap.c), with one difference: CPU access of a
 * cached block does cache maintenance on the block itself even when no
 * device is attached, because its DMA address may have gone to an engine
 * directly.
 *
 * An import attaches a foreign dma-buf to the pool's device as a static
 * importer: the exporter pins the buffer for as long as it is mapped, which
 * is the life of the import handle.
 */

#include <linux/dma-buf.h>
#include <linux/dma-direct.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/iosys-map.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/swiotlb.h>
#include <linux/vmalloc.h>

#include "cmamem.h"

MODULE_IMPORT_NS(DMA_BUF);

/* The longest page-aligned run one scatterlist entry can describe. */
#define CMAMEM_SG_CHUNK	((unsigned int)(UINT_MAX & PAGE_MASK))

/**
 * struct cmamem_dmabuf - the private data of an exported dma-buf
 * @block: the block (a reference is held until the dma-buf is released)
 * @lock: protects @attachments and every attachment's &mapped
 * @attachments: the &struct cmamem_dmabuf_attachment of importers
 */
struct cmamem_dmabuf {
	struct cmamem_block *block;
	/* Taken inside the dma-buf's reservation lock; see @lock above. */
	struct mutex lock;
	struct list_head attachments;
};

/**
 * struct cmamem_dmabuf_attachment - one importing device
 * @dev: the importer's device
 * @table: the block's memory; mapped for @dev while @mapped
 * @node: in &cmamem_dmabuf.attachments
 * @mapped: @table is mapped for @dev (under &cmamem_dmabuf.lock)
 * @direction: the direction @table was mapped with, which every sync of
 *	that mapping must use (under &cmamem_dmabuf.lock)
 */
struct cmamem_dmabuf_attachment {
	struct device *dev;
	struct sg_table table;
	struct list_head node;
	bool mapped;
	enum dma_data_direction direction;
};

/*
 * The block's first page. Cached blocks keep their pages; coherent and
 * write-combine blocks outside carveouts were allocated from CMA or the
 * page allocator, so their physical address has a struct page.
 */
static struct page *cmamem_dmabuf_first_page(struct cmamem_block *block)
{
	if (block->pages)
		return block->pages[0];
	return pfn_to_page(PHYS_PFN(cmamem_block_physical_address(block)));
}

/* A table of the block's pages, in as few entries as the sizes allow. */
static int cmamem_dmabuf_fill_table(struct cmamem_block *block,
				    struct sg_table *table)
{
	struct page *page = cmamem_dmabuf_first_page(block);
	unsigned int count = DIV_ROUND_UP_ULL(block->length, CMAMEM_SG_CHUNK);
	struct scatterlist *entry;
	u64 remaining = block->length;
	unsigned long page_index = 0;
	unsigned int index;
	int ret;

	ret = sg_alloc_table(table, count, GFP_KERNEL);
	if (ret)
		return ret;
	for_each_sgtable_sg(table, entry, index) {
		unsigned int length = min_t(u64, remaining, CMAMEM_SG_CHUNK);

		sg_set_page(entry, nth_page(page, page_index), length, 0);
		page_index += length >> PAGE_SHIFT;
		remaining -= length;
	}
	return 0;
}

static int cmamem_dmabuf_attach(struct dma_buf *dmabuf,
				struct dma_buf_attachment *attachment)
{
	struct cmamem_dmabuf *exported = dmabuf->priv;
	struct cmamem_dmabuf_attachment *importer;
	int ret;

	importer = kzalloc(sizeof(*importer), GFP_KERNEL);
	if (!importer)
		return -ENOMEM;
	ret = cmamem_dmabuf_fill_table(exported->block, &importer->table);
	if (ret) {
		kfree(importer);
		return ret;
	}
	importer->dev = attachment->dev;
	INIT_LIST_HEAD(&importer->node);
	attachment->priv = importer;

	mutex_lock(&exported->lock);
	list_add(&importer->node, &exported->attachments);
	mutex_unlock(&exported->lock);
	return 0;
}

static void cmamem_dmabuf_detach(struct dma_buf *dmabuf,
				 struct dma_buf_attachment *attachment)
{
	struct cmamem_dmabuf *exported = dmabuf->priv;
	struct cmamem_dmabuf_attachment *importer = attachment->priv;

	mutex_lock(&exported->lock);
	list_del(&importer->node);
	mutex_unlock(&exported->lock);
	sg_free_table(&importer->table);
	kfree(importer);
}

/*
 * Bounce buffers and dma-bufs do not mix. dma-direct maps what a device
 * cannot reach (past its DMA mask or bus limit, or anything when swiotlb is
 * forced) through a swiotlb bounce slot, and without swiotlb it WARNs and
 * fails. An engine handed a bounce slot's address never touches the
 * buffer; an importer's mapping of a block skips CPU syncs, so nothing
 * would ever be copied between the slot and the block. Such mappings are
 * refused with -ERANGE instead of being made.
 */
static bool cmamem_dev_reaches(struct device *dev, phys_addr_t phys,
			       u64 length)
{
	dma_addr_t start = phys_to_dma(dev, phys);
	u64 limit = min_not_zero(dma_get_mask(dev), dev->bus_dma_limit);

	return !is_swiotlb_force_bounce(dev) && start <= limit &&
	       length - 1 <= limit - start;
}

/* Whether @dev reaches every page of memory, so dma-direct never bounces. */
static bool cmamem_dev_reaches_all_memory(struct device *dev)
{
	return dma_get_mask(dev) >= dma_get_required_mask(dev);
}

/*
 * Whether @dev's mapping of @table is the buffer's own memory, entry by
 * entry, as dma-direct maps it when it does not bounce. An entry without a
 * page cannot be checked; it is trusted only where nothing bounces: the
 * device reaches all of memory and swiotlb is not forced.
 */
static bool cmamem_mapped_in_place(struct device *dev, struct sg_table *table)
{
	struct scatterlist *entry;
	unsigned int index;

	for_each_sgtable_dma_sg(table, entry, index) {
		if (!sg_page(entry))
			return !is_swiotlb_force_bounce(dev) &&
			       cmamem_dev_reaches_all_memory(dev);
		if (sg_dma_address(entry) != phys_to_dma(dev, sg_phys(entry)))
			return false;
	}
	return true;
}

/*
 * Importers' mappings skip the DMA API's implicit cache maintenance: a
 * cached block already has a streaming mapping of the pool's device for
 * its whole life, and dma-debug refuses overlapping mappings that sync the
 * CPU caches. For cached blocks the maintenance a plain map and unmap
 * would do is done explicitly on the importer's mapping instead; coherent
 * and write-combine blocks are not in the CPU caches and need none.
 */
static struct sg_table *
cmamem_dmabuf_map(struct dma_buf_attachment *attachment,
		  enum dma_data_direction direction)
{
	struct cmamem_dmabuf *exported = attachment->dmabuf->priv;
	struct cmamem_dmabuf_attachment *importer = attachment->priv;
	struct cmamem_block *block = exported->block;
	phys_addr_t phys = cmamem_block_physical_address(block);
	int ret;

	if (!cmamem_dev_reaches(attachment->dev, phys, block->length)) {
		dev_info_ratelimited(attachment->dev,
				     "cmamem: block at %pa is out of this device's direct reach (it would bounce): not mapped\n",
				     &phys);
		return ERR_PTR(-ERANGE);
	}
	ret = dma_map_sgtable(attachment->dev, &importer->table, direction,
			      DMA_ATTR_SKIP_CPU_SYNC);
	if (ret)
		return ERR_PTR(ret);
	if (cmamem_block_cpu_sync(exported->block) == CMAMEM_CPU_SYNC_CACHES)
		dma_sync_sgtable_for_device(attachment->dev, &importer->table,
					    direction);
	mutex_lock(&exported->lock);
	importer->mapped = true;
	importer->direction = direction;
	mutex_unlock(&exported->lock);
	return &importer->table;
}

static void cmamem_dmabuf_unmap(struct dma_buf_attachment *attachment,
				struct sg_table *table,
				enum dma_data_direction direction)
{
	struct cmamem_dmabuf *exported = attachment->dmabuf->priv;
	struct cmamem_dmabuf_attachment *importer = attachment->priv;

	mutex_lock(&exported->lock);
	importer->mapped = false;
	mutex_unlock(&exported->lock);
	if (cmamem_block_cpu_sync(exported->block) == CMAMEM_CPU_SYNC_CACHES)
		dma_sync_sgtable_for_cpu(attachment->dev, table, direction);
	dma_unmap_sgtable(attachment->dev, table, direction,
			  DMA_ATTR_SKIP_CPU_SYNC);
}

/*
 * Whether the dma-buf's file is open for writing: a read-only dma-buf
 * must not discard what a writer left in the CPU caches (see
 * cmamem_block_sync()).
 */
static bool cmamem_dmabuf_writable(struct dma_buf *dmabuf)
{
	return dmabuf->file->f_mode & FMODE_WRITE;
}

/*
 * The block itself first (the pool device's view, which is also the one an
 * engine given the DMA address directly has), in the direction of the CPU
 * access; then every importer's mapping, in the direction it was mapped
 * with (a capture device maps DMA_FROM_DEVICE, and the DMA API wants each
 * sync of a mapping to say the same).
 */
static int cmamem_dmabuf_begin_cpu_access(struct dma_buf *dmabuf,
					  enum dma_data_direction direction)
{
	struct cmamem_dmabuf *exported = dmabuf->priv;
	struct cmamem_block *block = exported->block;
	struct cmamem_dmabuf_attachment *importer;

	cmamem_block_sync(block, 0, block->length, false, direction,
			  cmamem_dmabuf_writable(dmabuf));
	if (cmamem_block_cpu_sync(block) != CMAMEM_CPU_SYNC_CACHES)
		return 0;
	mutex_lock(&exported->lock);
	list_for_each_entry(importer, &exported->attachments, node)
		if (importer->mapped)
			dma_sync_sgtable_for_cpu(importer->dev,
						 &importer->table,
						 importer->direction);
	mutex_unlock(&exported->lock);
	return 0;
}

static int cmamem_dmabuf_end_cpu_access(struct dma_buf *dmabuf,
					enum dma_data_direction direction)
{
	struct cmamem_dmabuf *exported = dmabuf->priv;
	struct cmamem_block *block = exported->block;
	struct cmamem_dmabuf_attachment *importer;

	cmamem_block_sync(block, 0, block->length, true, direction,
			  cmamem_dmabuf_writable(dmabuf));
	if (cmamem_block_cpu_sync(block) != CMAMEM_CPU_SYNC_CACHES)
		return 0;
	mutex_lock(&exported->lock);
	list_for_each_entry(importer, &exported->attachments, node)
		if (importer->mapped)
			dma_sync_sgtable_for_device(importer->dev,
						    &importer->table,
						    importer->direction);
	mutex_unlock(&exported->lock);
	return 0;
}

static int cmamem_dmabuf_mmap(struct dma_buf *dmabuf,
			      struct vm_area_struct *vma)
{
	struct cmamem_dmabuf *exported = dmabuf->priv;
	int ret;

	ret = cmamem_mmap_check(vma);
	if (ret)
		return ret;
	return cmamem_block_mmap_vma(exported->block, vma, vma->vm_pgoff);
}

/*
 * The kernel mapping of a coherent or write-combine block that has none of
 * its own (see cmamem_alloc_coherent()): the attributes the users'
 * mappings get from dma_mmap_attrs() (dma_pgprot(), which modules cannot
 * call), through an array of its pages that vmap() needs only while it
 * maps them.
 */
static void *cmamem_dmabuf_vmap_coherent(struct cmamem_block *block)
{
	unsigned long index, count = block->length >> PAGE_SHIFT;
	struct page *first = cmamem_dmabuf_first_page(block);
	struct device *dev = block->pool->dma_dev;
	pgprot_t prot = PAGE_KERNEL;
	struct page **pages;
	void *address;

	if (!dev_is_dma_coherent(dev))
		prot = cmamem_mode_info(block->mode)->dma_attrs &
		       DMA_ATTR_WRITE_COMBINE ? pgprot_writecombine(prot) :
		       pgprot_dmacoherent(prot);

	pages = kvmalloc_array(count, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return NULL;
	for (index = 0; index < count; index++)
		pages[index] = nth_page(first, index);
	address = vmap(pages, count, VM_MAP, prot);
	kvfree(pages);
	return address;
}

/*
 * Blocks with a kernel address (a carveout's coherent blocks, page-backed
 * ones from lowmem in the linear map) are mapped for the block's life.
 * The others are mapped here until the dma-buf core's last vunmap (it
 * counts vmap() calls and maps each dma-buf once): cached blocks of
 * highmem pages cacheable like the users' mappings, coherent and
 * write-combine blocks as their users map them.
 */
static int cmamem_dmabuf_vmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct cmamem_dmabuf *exported = dmabuf->priv;
	struct cmamem_block *block = exported->block;
	void *address;

	if (block->cpu_address) {
		iosys_map_set_vaddr(map,
				    block->cpu_address + block->window_offset);
		return 0;
	}
	if (block->pages)
		address = vmap(block->pages, block->length >> PAGE_SHIFT,
			       VM_MAP, PAGE_KERNEL);
	else
		address = cmamem_dmabuf_vmap_coherent(block);
	if (!address)
		return -ENOMEM;
	iosys_map_set_vaddr(map, address);
	return 0;
}

static void cmamem_dmabuf_vunmap(struct dma_buf *dmabuf,
				 struct iosys_map *map)
{
	struct cmamem_dmabuf *exported = dmabuf->priv;

	if (!exported->block->cpu_address)
		vunmap(map->vaddr);
}

static void cmamem_dmabuf_release(struct dma_buf *dmabuf)
{
	struct cmamem_dmabuf *exported = dmabuf->priv;
	struct cmamem_block *block = exported->block;

	atomic_dec(&block->dma_bufs);
	mutex_destroy(&exported->lock);
	kfree(exported);
	cmamem_block_put(block);
}

static const struct dma_buf_ops cmamem_dmabuf_ops = {
	.attach = cmamem_dmabuf_attach,
	.detach = cmamem_dmabuf_detach,
	.map_dma_buf = cmamem_dmabuf_map,
	.unmap_dma_buf = cmamem_dmabuf_unmap,
	.begin_cpu_access = cmamem_dmabuf_begin_cpu_access,
	.end_cpu_access = cmamem_dmabuf_end_cpu_access,
	.mmap = cmamem_dmabuf_mmap,
	.vmap = cmamem_dmabuf_vmap,
	.vunmap = cmamem_dmabuf_vunmap,
	.release = cmamem_dmabuf_release,
};

/**
 * cmamem_dmabuf_export() - make a dma-buf of a block
 * @block: the block, with a reference the dma-buf takes over on success
 * @fd_flags: O_CLOEXEC and O_ACCMODE bits, validated by the caller
 *
 * Return: the dma-buf, or an ERR_PTR: -EOPNOTSUPP for a carveout block,
 * -ENOMEM, or another error of dma_buf_export(). On failure the caller
 * still owns its reference.
 */
struct dma_buf *cmamem_dmabuf_export(struct cmamem_block *block,
				     u32 fd_flags)
{
	DEFINE_DMA_BUF_EXPORT_INFO(info);
	struct cmamem_dmabuf *exported;
	struct dma_buf *dmabuf;

	if (block->pool->pool_flags & CMAMEM_POOL_CARVEOUT)
		return ERR_PTR(-EOPNOTSUPP);

	exported = kzalloc(sizeof(*exported), GFP_KERNEL);
	if (!exported)
		return ERR_PTR(-ENOMEM);
	exported->block = block;
	mutex_init(&exported->lock);
	INIT_LIST_HEAD(&exported->attachments);

	info.ops = &cmamem_dmabuf_ops;
	info.size = block->length;
	info.flags = fd_flags;
	info.priv = exported;
	dmabuf = dma_buf_export(&info);
	if (IS_ERR(dmabuf)) {
		mutex_destroy(&exported->lock);
		kfree(exported);
		return dmabuf;
	}
	atomic_inc(&block->dma_bufs);
	return dmabuf;
}

/*
 * From Linux 6.2 on, mapping an attachment needs the reservation lock,
 * which the _unlocked helpers take; before, static importers mapped
 * without it.
 */
static struct sg_table *
cmamem_map_attachment(struct dma_buf_attachment *attachment)
{
#ifdef CMAMEM_HAVE_MAP_ATTACHMENT_UNLOCKED
	return dma_buf_map_attachment_unlocked(attachment, DMA_BIDIRECTIONAL);
#else
	return dma_buf_map_attachment(attachment, DMA_BIDIRECTIONAL);
#endif
}

static void cmamem_unmap_attachment(struct dma_buf_attachment *attachment,
				    struct sg_table *table)
{
#ifdef CMAMEM_HAVE_MAP_ATTACHMENT_UNLOCKED
	dma_buf_unmap_attachment_unlocked(attachment, table, DMA_BIDIRECTIONAL);
#else
	dma_buf_unmap_attachment(attachment, table, DMA_BIDIRECTIONAL);
#endif
}

/*
 * The DMA address of a mapping that is one run of DMA addresses covering
 * at least @length bytes, or -EINVAL. An IOMMU may have merged scattered
 * pages into one run; entries need not be merged, only adjacent.
 */
static int cmamem_contiguous_address(struct sg_table *table, u64 length,
				     dma_addr_t *address)
{
	struct scatterlist *entry;
	dma_addr_t next = 0;
	unsigned int index;
	u64 mapped = 0;

	for_each_sgtable_dma_sg(table, entry, index) {
		if (!index)
			*address = sg_dma_address(entry);
		else if (sg_dma_address(entry) != next)
			return -EINVAL;
		next = sg_dma_address(entry) + sg_dma_len(entry);
		mapped += sg_dma_len(entry);
	}
	return mapped && mapped >= length ? 0 : -EINVAL;
}

/*
 * Whether @dmabuf is a block of @pool exported: the pool's device reaches
 * it at the block's own DMA address already. Mapping it again would give
 * the device two mappings of the same memory, and DMA-API debugging, asked
 * to sync part of it, finds both, neither a perfect fit, and reports the
 * memory as never mapped (a WARN, a panic with panic_on_warn).
 */
static bool cmamem_dmabuf_own_block(struct dma_buf *dmabuf,
				    struct cmamem_pool *pool)
{
	struct cmamem_dmabuf *exported = dmabuf->priv;

	return dmabuf->ops == &cmamem_dmabuf_ops &&
	       exported->block->pool == pool;
}

/* The pool's import of @dmabuf, with a new reference, or NULL. */
static struct cmamem_dmabuf_import *
cmamem_import_find(struct cmamem_pool *pool, struct dma_buf *dmabuf)
{
	struct cmamem_dmabuf_import *import;

	lockdep_assert_held(&pool->import_lock);
	list_for_each_entry(import, &pool->imports, pool_node) {
		if (import->dmabuf == dmabuf) {
			kref_get(&import->ref);
			return import;
		}
	}
	return NULL;
}

/*
 * Attaches @dmabuf to the pool's device and maps it; the new import owns
 * the caller's reference on @dmabuf on success.
 */
static struct cmamem_dmabuf_import *
cmamem_import_create(struct cmamem_pool *pool, struct dma_buf *dmabuf)
{
	struct cmamem_dmabuf_import *import;
	int ret;

	lockdep_assert_held(&pool->import_lock);
	import = kzalloc(sizeof(*import), GFP_KERNEL);
	if (!import)
		return ERR_PTR(-ENOMEM);
	kref_init(&import->ref);
	import->pool = pool;
	import->dmabuf = dmabuf;
	import->length = dmabuf->size;

	if (cmamem_dmabuf_own_block(dmabuf, pool)) {
		struct cmamem_dmabuf *exported = dmabuf->priv;

		import->dma_address = cmamem_block_dma_address(exported->block);
		list_add(&import->pool_node, &pool->imports);
		return import;
	}

	/*
	 * A device that cannot reach all of memory and has no swiotlb makes
	 * dma-direct WARN on a buffer out of reach, before anything here
	 * could look at the buffer's pages: such a pool imports nothing.
	 * The DMA API caps a mapping's size only when it can bounce, which
	 * is how a module can tell (is_swiotlb_active() is not exported).
	 */
	if (!cmamem_dev_reaches_all_memory(pool->dma_dev) &&
	    dma_max_mapping_size(pool->dma_dev) == SIZE_MAX) {
		dev_info_ratelimited(pool->dma_dev,
				     "pool %s: its device reaches only part of memory and cannot bounce: dma-bufs are not imported\n",
				     pool->name);
		ret = -ERANGE;
		goto err_free_import;
	}
	import->attachment = dma_buf_attach(dmabuf, pool->dma_dev);
	if (IS_ERR(import->attachment)) {
		ret = PTR_ERR(import->attachment);
		goto err_free_import;
	}
	import->table = cmamem_map_attachment(import->attachment);
	if (IS_ERR(import->table)) {
		ret = PTR_ERR(import->table);
		goto err_detach;
	}
	if (!cmamem_mapped_in_place(pool->dma_dev, import->table)) {
		dev_info_ratelimited(pool->dma_dev,
				     "pool %s: the dma-buf is out of the device's direct reach (it was bounced): not imported\n",
				     pool->name);
		ret = -ERANGE;
		goto err_unmap;
	}
	ret = cmamem_contiguous_address(import->table, import->length,
					&import->dma_address);
	if (ret)
		goto err_unmap;
	list_add(&import->pool_node, &pool->imports);
	return import;

err_unmap:
	cmamem_unmap_attachment(import->attachment, import->table);
err_detach:
	dma_buf_detach(dmabuf, import->attachment);
err_free_import:
	kfree(import);
	return ERR_PTR(ret);
}

/**
 * cmamem_dmabuf_import() - attach a dma-buf to a pool's device
 * @pool: the pool whose device will access the buffer
 * @fd: a dma-buf file descriptor of the calling process
 *
 * A dma-buf already imported into @pool, by any file, shares that import:
 * its attachment and mapping, and so its DMA address.
 *
 * Must be called without any cmamem lock held: the exporter's callbacks
 * run, and may take the dma-buf's reservation lock.
 *
 * Return: the import, with a reference dropped by
 * cmamem_dmabuf_import_release(); the import holds a reference on the
 * dma-buf, its attachment and its mapping until the last one goes. Or an
 * ERR_PTR: -EBADF when @fd is not open, -EINVAL when it is not a dma-buf or
 * the buffer is not contiguous for the device, -ERANGE when the device
 * does not reach the buffer directly (it would be bounced), -ENOMEM, or an
 * error of the exporter's attach or map callback.
 */
struct cmamem_dmabuf_import *cmamem_dmabuf_import(struct cmamem_pool *pool,
						  int fd)
{
	struct cmamem_dmabuf_import *import;
	struct dma_buf *dmabuf;

	dmabuf = dma_buf_get(fd);
	if (IS_ERR(dmabuf))
		return ERR_CAST(dmabuf);

	mutex_lock(&pool->import_lock);
	import = cmamem_import_find(pool, dmabuf);
	if (!import)
		import = cmamem_import_create(pool, dmabuf);
	else
		dma_buf_put(dmabuf);	/* the shared import holds one */
	mutex_unlock(&pool->import_lock);
	if (IS_ERR(import))
		dma_buf_put(dmabuf);
	return import;
}

/* The last import handle went: unmap, detach and drop the dma-buf. */
static void cmamem_import_destroy(struct kref *ref)
{
	struct cmamem_dmabuf_import *import =
		container_of(ref, struct cmamem_dmabuf_import, ref);

	list_del(&import->pool_node);
	/* A block of the pool itself was never attached. */
	if (import->attachment) {
		cmamem_unmap_attachment(import->attachment, import->table);
		dma_buf_detach(import->dmabuf, import->attachment);
	}
	dma_buf_put(import->dmabuf);
	kfree(import);
}

/**
 * cmamem_dmabuf_import_release() - drop a reference on an import
 * @import: from cmamem_dmabuf_import()
 *
 * The last reference unmaps, detaches and drops the dma-buf. Must be
 * called without any cmamem lock held, as cmamem_dmabuf_import().
 */
void cmamem_dmabuf_import_release(struct cmamem_dmabuf_import *import)
{
	struct cmamem_pool *pool = import->pool;

	mutex_lock(&pool->import_lock);
	kref_put(&import->ref, cmamem_import_destroy);
	mutex_unlock(&pool->import_lock);
}
