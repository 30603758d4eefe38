// SPDX-License-Identifier: GPL-2.0
/*
 * cmamem pools: the lowest layer. A pool is one DMA device, the memory it
 * allocates from, one misc character device, its name index and its
 * counters:
 *
 * - the default pool, /dev/cmamem, allocates for the misc device itself,
 *   whose DMA mask is set to dma_mask_bits; dma-direct serves it from the
 *   kernel's default CMA area, or from the page allocator on kernels
 *   without one (x86_64 has no CMA area and no device tree);
 * - every device-tree node compatible with "cmamem,pool" becomes
 *   /dev/cmamem-<label>, allocating for its platform device, to which
 *   of_reserved_mem_device_init() attached the node's memory-region: a
 *   reusable shared-dma-pool (a CMA area of its own) or a no-map one (a
 *   carveout served by the device's coherent memory pool).
 *
 * The layers above fill in what the character device does (main.c sets
 * &cmamem_pool.misc's fops before cmamem_pool_publish()); nothing here
 * calls into them.
 */

#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/of.h>
#include <linux/of_reserved_mem.h>
#include <linux/rhashtable.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmstat.h>

#include "cmamem.h"

/*
 * Every published pool, so that two pools never get the same name.
 * cmamem_pools_lock protects the list; it is taken outside misc_mtx
 * (misc_register()) and never inside any other cmamem lock.
 */
static LIST_HEAD(cmamem_pools);
static DEFINE_MUTEX(cmamem_pools_lock);

/*
 * The name index: blocks keyed on their owner and whole zero-padded name
 * field, so that each user has names of their own in a pool: nobody can
 * take a name another user's program expects, or learn which names
 * another user has.
 */
static_assert(offsetof(struct cmamem_block, name) -
	      offsetof(struct cmamem_block, owner) ==
	      offsetof(struct cmamem_name_key, name));
static const struct rhashtable_params cmamem_name_params = {
	.key_len = sizeof(struct cmamem_name_key),
	.key_offset = offsetof(struct cmamem_block, owner),
	.head_offset = offsetof(struct cmamem_block, name_node),
	.automatic_shrinking = true,
};

/**
 * cmamem_pool_name_insert() - publish a block's name in its pool
 * @pool: the pool, whose &cmamem_pool.lock the caller holds
 * @block: the block, with its name set
 *
 * Return: 0, -EEXIST if another block of the same owner has the name, or
 * -ENOMEM.
 */
int cmamem_pool_name_insert(struct cmamem_pool *pool,
			    struct cmamem_block *block)
{
	int ret;

	lockdep_assert_held(&pool->lock);
	ret = rhashtable_lookup_insert_fast(&pool->names, &block->name_node,
					    cmamem_name_params);
	/* Anything but a taken name is a failure to grow the table. */
	if (ret && ret != -EEXIST)
		ret = -ENOMEM;
	return ret;
}

/**
 * cmamem_pool_name_remove() - unpublish a block's name
 * @pool: the pool, whose &cmamem_pool.lock the caller holds
 * @block: a block whose name cmamem_pool_name_insert() published
 */
void cmamem_pool_name_remove(struct cmamem_pool *pool,
			     struct cmamem_block *block)
{
	lockdep_assert_held(&pool->lock);
	rhashtable_remove_fast(&pool->names, &block->name_node,
			       cmamem_name_params);
}

/**
 * cmamem_pool_name_lookup() - find the block a user has given a name
 * @pool: the pool, whose &cmamem_pool.lock the caller holds
 * @key: the owner and the zero-padded %CMAMEM_NAME_SIZE byte name
 *
 * Return: the block, valid while the lock is held, or NULL.
 */
struct cmamem_block *
cmamem_pool_name_lookup(struct cmamem_pool *pool,
			const struct cmamem_name_key *key)
{
	lockdep_assert_held(&pool->lock);
	return rhashtable_lookup_fast(&pool->names, key, cmamem_name_params);
}

/**
 * cmamem_pool_get() - take a reference on a pool
 * @pool: a pool the caller already holds a reference on
 */
void cmamem_pool_get(struct cmamem_pool *pool)
{
	kref_get(&pool->ref);
}

static void cmamem_pool_release(struct kref *ref)
{
	struct cmamem_pool *pool = container_of(ref, struct cmamem_pool, ref);

	/* Only now: the last block has given its memory back. */
	if (pool->has_reserved_mem)
		of_reserved_mem_device_release(pool->dma_dev);
	put_device(pool->dma_dev);
	rhashtable_destroy(&pool->names);
	/* Empty: every block uncharged its user before the pool went. */
	xa_destroy(&pool->users);
	mutex_destroy(&pool->import_lock);
	mutex_destroy(&pool->lock);
	kfree(pool);
}

/**
 * cmamem_pool_put() - drop a reference on a pool
 * @pool: the pool; the last reference releases its DMA device
 */
void cmamem_pool_put(struct cmamem_pool *pool)
{
	kref_put(&pool->ref, cmamem_pool_release);
}

/* A pool with its first reference, which publishing takes over. */
static struct cmamem_pool *cmamem_pool_alloc(const char *name)
{
	struct cmamem_pool *pool;

	pool = kzalloc(sizeof(*pool), GFP_KERNEL);
	if (!pool)
		return NULL;
	if (rhashtable_init(&pool->names, &cmamem_name_params)) {
		kfree(pool);
		return NULL;
	}
	kref_init(&pool->ref);
	mutex_init(&pool->lock);
	INIT_LIST_HEAD(&pool->blocks);
	xa_init(&pool->users);
	mutex_init(&pool->import_lock);
	INIT_LIST_HEAD(&pool->imports);
	INIT_LIST_HEAD(&pool->list_node);
	strscpy(pool->name, name, sizeof(pool->name));
	if (strcmp(name, CMAMEM_DEFAULT_POOL_NAME))
		snprintf(pool->device_name, sizeof(pool->device_name),
			 KBUILD_MODNAME "-%s", name);
	else
		strscpy(pool->device_name, KBUILD_MODNAME,
			sizeof(pool->device_name));
	return pool;
}

/* Whether a published pool has @name; under cmamem_pools_lock. */
static bool cmamem_pool_name_taken(const char *name)
{
	struct cmamem_pool *pool;

	lockdep_assert_held(&cmamem_pools_lock);
	list_for_each_entry(pool, &cmamem_pools, list_node)
		if (!strcmp(pool->name, name))
			return true;
	return false;
}

/**
 * cmamem_pool_publish() - create a pool's device node
 * @pool: the pool, with &cmamem_pool.misc's fops, groups and parent set
 *
 * Return: 0, -EEXIST when a pool of that name exists, or misc_register()'s
 * error.
 */
int cmamem_pool_publish(struct cmamem_pool *pool)
{
	int ret;

	pool->misc.minor = MISC_DYNAMIC_MINOR;
	pool->misc.name = pool->device_name;

	mutex_lock(&cmamem_pools_lock);
	ret = cmamem_pool_name_taken(pool->name) ? -EEXIST :
						    misc_register(&pool->misc);
	if (!ret)
		list_add_tail(&pool->list_node, &cmamem_pools);
	mutex_unlock(&cmamem_pools_lock);
	return ret;
}

/**
 * cmamem_pool_unpublish() - remove the device node of a published pool
 * @pool: the pool; the reference publishing held is dropped
 */
void cmamem_pool_unpublish(struct cmamem_pool *pool)
{
	mutex_lock(&cmamem_pools_lock);
	list_del(&pool->list_node);
	misc_deregister(&pool->misc);
	mutex_unlock(&cmamem_pools_lock);
	cmamem_pool_put(pool);
}

/**
 * cmamem_pool_create_default() - the pool behind /dev/cmamem
 *
 * Its DMA device is its own misc device, so it becomes usable only with
 * cmamem_pool_set_default_device() once published.
 *
 * Return: the pool with its first reference, or NULL.
 */
struct cmamem_pool *cmamem_pool_create_default(void)
{
	struct cmamem_pool *pool;

	pool = cmamem_pool_alloc(CMAMEM_DEFAULT_POOL_NAME);
	if (!pool)
		return NULL;
	/*
	 * dma-direct prefers the default CMA area for this device; modules
	 * cannot ask whether there is one, but free CMA pages say so.
	 */
	pool->pool_flags = CMAMEM_POOL_DEFAULT | CMAMEM_POOL_CACHED;
	if (IS_ENABLED(CONFIG_DMA_CMA) &&
	    global_zone_page_state(NR_FREE_CMA_PAGES))
		pool->pool_flags |= CMAMEM_POOL_CMA;
	return pool;
}

/**
 * cmamem_pool_set_default_device() - make the published default pool usable
 * @pool: from cmamem_pool_create_default(), published
 * @mask_bits: the DMA mask's width
 *
 * Return: 0 or dma_coerce_mask_and_coherent()'s error.
 */
int cmamem_pool_set_default_device(struct cmamem_pool *pool,
				   unsigned int mask_bits)
{
	struct device *dev = pool->misc.this_device;
	int ret;

	ret = dma_coerce_mask_and_coherent(dev, DMA_BIT_MASK(mask_bits));
	if (ret)
		return ret;
	/* Opening works from here on (see cmamem_file_open()). */
	smp_store_release(&pool->dma_dev, get_device(dev));
	return 0;
}

/* Pool names come from the device tree: a-z, 0-9, '_' and '-' only. */
static bool cmamem_label_valid(const char *label)
{
	size_t length = strlen(label);
	size_t index;

	if (!length || length > CMAMEM_LABEL_MAX ||
	    !strcmp(label, CMAMEM_DEFAULT_POOL_NAME))
		return false;
	for (index = 0; index < length; index++) {
		char character = label[index];

		if (!(character >= 'a' && character <= 'z') &&
		    !(character >= '0' && character <= '9') &&
		    character != '_' && character != '-')
			return false;
	}
	return true;
}

/*
 * Reads the pool's memory-region: a reserved-memory "shared-dma-pool" that
 * is either reusable (CMA) or no-map (carveout).
 */
static int cmamem_pool_parse_region(struct device *dev,
				    struct cmamem_pool *pool)
{
	struct device_node *region;
	struct reserved_mem *rmem;
	bool shared, reusable, no_map;

	region = of_parse_phandle(dev->of_node, "memory-region", 0);
	if (!region)
		return dev_err_probe(dev, -EINVAL, "no memory-region\n");
	rmem = of_reserved_mem_lookup(region);
	shared = of_device_is_compatible(region, "shared-dma-pool");
	reusable = of_property_read_bool(region, "reusable");
	no_map = of_property_read_bool(region, "no-map");
	of_node_put(region);

	if (!rmem)
		return dev_err_probe(dev, -ENODEV,
				     "memory-region was not reserved at boot\n");
	if (!shared || reusable == no_map)
		return dev_err_probe(dev, -EINVAL,
				     "memory-region must be a shared-dma-pool that is either reusable or no-map\n");
	if (!rmem->size)
		return dev_err_probe(dev, -EINVAL, "memory-region is empty\n");

	pool->region_base = rmem->base;
	pool->region_size = rmem->size;
	pool->pool_flags = CMAMEM_POOL_TOTAL_KNOWN;
	if (reusable)
		pool->pool_flags |= CMAMEM_POOL_CMA | CMAMEM_POOL_CACHED;
	else
		pool->pool_flags |= CMAMEM_POOL_CARVEOUT;
	return 0;
}

/**
 * cmamem_pool_create_of() - the pool of a "cmamem,pool" device-tree node
 * @dev: the node's platform device
 * @mask_bits: the DMA mask's width, widened to cover the region
 *
 * Return: the pool with its first reference and its memory attached, not
 * yet published; or an ERR_PTR, with the reason logged.
 */
struct cmamem_pool *cmamem_pool_create_of(struct device *dev,
					  unsigned int mask_bits)
{
	struct cmamem_pool *pool;
	const char *label;
	int ret;

	if (of_property_read_string(dev->of_node, "label", &label))
		label = dev->of_node->name;
	if (!cmamem_label_valid(label))
		return ERR_PTR(dev_err_probe(dev, -EINVAL,
					     "pool name \"%s\" is not 1 to %d characters of a-z, 0-9, '_' and '-', or is \"%s\"\n",
					     label, CMAMEM_LABEL_MAX,
					     CMAMEM_DEFAULT_POOL_NAME));
	/* Blocks must be contiguous for the device, not just in IOVA space. */
	if (device_iommu_mapped(dev))
		return ERR_PTR(dev_err_probe(dev, -EINVAL,
					     "pools behind an IOMMU are not supported\n"));

	pool = cmamem_pool_alloc(label);
	if (!pool)
		return ERR_PTR(-ENOMEM);
	ret = cmamem_pool_parse_region(dev, pool);
	if (ret)
		goto err_put_pool;

	ret = of_reserved_mem_device_init(dev);
	if (ret) {
		dev_err_probe(dev, ret, "cannot attach the memory-region\n");
		goto err_put_pool;
	}
	pool->dma_dev = get_device(dev);
	pool->has_reserved_mem = true;

	/* The region is what the device tree says the hardware reaches. */
	mask_bits = max_t(unsigned int, mask_bits,
			  fls64(pool->region_base + pool->region_size - 1));
	ret = dma_coerce_mask_and_coherent(dev, DMA_BIT_MASK(mask_bits));
	if (ret) {
		dev_err_probe(dev, ret, "cannot set a %u-bit DMA mask\n",
			      mask_bits);
		goto err_put_pool;
	}
	return pool;

err_put_pool:
	cmamem_pool_put(pool);
	return ERR_PTR(ret);
}
