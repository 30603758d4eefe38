// SPDX-License-Identifier: GPL-2.0
/*
 * cmamem: physically contiguous memory from CMA for user space.
 *
 * This file holds the pools and the module itself. A pool is one DMA
 * device plus one misc character device:
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
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/init.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/of.h>
#include <linux/of_reserved_mem.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmstat.h>

#include "cmamem.h"

unsigned long long cmamem_max_block_size;
module_param_named(max_block_size, cmamem_max_block_size, ullong, 0644);
MODULE_PARM_DESC(max_block_size,
		 "Largest block in bytes; larger requests fail with EFBIG (0 = no limit, the default)");

unsigned long long cmamem_fd_quota_bytes;
module_param_named(fd_quota_bytes, cmamem_fd_quota_bytes, ullong, 0644);
MODULE_PARM_DESC(fd_quota_bytes,
		 "Bytes of blocks one open file may hold handles on; more fails with EDQUOT (0 = no limit, the default)");

unsigned int cmamem_fd_max_blocks = 16384;
module_param_named(fd_max_blocks, cmamem_fd_max_blocks, uint, 0644);
MODULE_PARM_DESC(fd_max_blocks,
		 "Handles one open file may hold; more fails with EMFILE (default 16384)");

int cmamem_address_group = -1;
module_param_named(address_group, cmamem_address_group, int, 0644);
MODULE_PARM_DESC(address_group,
		 "Group whose members see DMA and physical addresses besides CAP_SYS_RAWIO holders (-1 = none, the default)");

static unsigned int dma_mask_bits = 32;
module_param(dma_mask_bits, uint, 0444);
MODULE_PARM_DESC(dma_mask_bits,
		 "Address bits the pools' devices can drive, 12 to 64 (default 32)");

static bool legacy;
module_param(legacy, bool, 0444);
MODULE_PARM_DESC(legacy, "Also create /dev/cma_mem with the cma_mem driver's ABI");

/* The pool behind /dev/cmamem; set while the module is loaded. */
struct cmamem_pool *cmamem_default_pool;

/*
 * Every published pool, so that two pools never get the same name.
 * cmamem_pools_lock protects the list; it is taken outside misc_mtx
 * (misc_register()) and never inside any other cmamem lock.
 */
static LIST_HEAD(cmamem_pools);
static DEFINE_MUTEX(cmamem_pools_lock);

/**
 * cmamem_may_see_addresses() - may the caller see DMA/physical addresses?
 *
 * Addresses let a process aim a DMA engine at any memory, so only holders
 * of CAP_SYS_RAWIO and members of the module's address_group see them.
 *
 * Return: true if the current task may see them.
 */
bool cmamem_may_see_addresses(void)
{
	int group = READ_ONCE(cmamem_address_group);

	if (group >= 0) {
		kgid_t gid = make_kgid(&init_user_ns, group);

		if (gid_valid(gid) && in_group_p(gid))
			return true;
	}
	return capable(CAP_SYS_RAWIO);
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
	cmamem_pool_names_destroy(pool);
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
	if (cmamem_pool_names_init(pool)) {
		kfree(pool);
		return NULL;
	}
	kref_init(&pool->ref);
	mutex_init(&pool->lock);
	INIT_LIST_HEAD(&pool->blocks);
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

static int cmamem_pool_open(struct inode *inode, struct file *file)
{
	/* misc_open() left our miscdevice in private_data. */
	struct cmamem_pool *pool = container_of(file->private_data,
						struct cmamem_pool, misc);

	return cmamem_file_open(pool, file, false);
}

static int cmamem_pool_release_file(struct inode *inode, struct file *file)
{
	cmamem_file_close(file->private_data);
	return 0;
}

static const struct file_operations cmamem_pool_fops = {
	.owner = THIS_MODULE,
	.open = cmamem_pool_open,
	.release = cmamem_pool_release_file,
	.mmap = cmamem_mmap,
	.unlocked_ioctl = cmamem_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

/**
 * cmamem_file_open() - set up an open pool file
 * @pool: the pool
 * @file: the file being opened
 * @legacy: it is /dev/cma_mem
 *
 * Return: 0, -ENODEV if the pool is not ready yet, or -ENOMEM.
 */
int cmamem_file_open(struct cmamem_pool *pool, struct file *file,
		     bool legacy)
{
	struct cmamem_file *cfile;

	/* The default pool's device exists only once it is registered. */
	if (!smp_load_acquire(&pool->dma_dev))
		return -ENODEV;

	cfile = kzalloc(sizeof(*cfile), GFP_KERNEL);
	if (!cfile)
		return -ENOMEM;
	cmamem_pool_get(pool);
	cfile->pool = pool;
	cfile->file = file;
	cfile->legacy = legacy;
	mutex_init(&cfile->lock);
	xa_init_flags(&cfile->handles, XA_FLAGS_ALLOC1);
	mt_init_flags(&cfile->offsets, MT_FLAGS_ALLOC_RANGE);
	file->private_data = cfile;
	return 0;
}

/**
 * cmamem_file_close() - release an open pool file
 * @cfile: the file's state
 *
 * Drops every handle the file still holds, which unpublishes the names of
 * blocks nobody else has a handle on. Mappings made through the file stay
 * valid: they hold their blocks themselves.
 */
void cmamem_file_close(struct cmamem_file *cfile)
{
	struct cmamem_pool *pool = cfile->pool;

	cmamem_file_drop_handles(cfile);
	mtree_destroy(&cfile->offsets);
	xa_destroy(&cfile->handles);
	mutex_destroy(&cfile->lock);
	kfree(cfile);
	cmamem_pool_put(pool);
}

static int cmamem_pool_publish(struct cmamem_pool *pool, struct device *parent)
{
	struct cmamem_pool *other;
	int ret = 0;

	pool->misc.minor = MISC_DYNAMIC_MINOR;
	pool->misc.name = pool->device_name;
	pool->misc.fops = &cmamem_pool_fops;
	pool->misc.groups = cmamem_pool_groups;
	pool->misc.parent = parent;

	mutex_lock(&cmamem_pools_lock);
	list_for_each_entry(other, &cmamem_pools, list_node) {
		if (!strcmp(other->name, pool->name)) {
			ret = -EEXIST;
			goto out_unlock;
		}
	}
	ret = misc_register(&pool->misc);
	if (ret)
		goto out_unlock;
	list_add_tail(&pool->list_node, &cmamem_pools);
out_unlock:
	mutex_unlock(&cmamem_pools_lock);
	if (!ret)
		cmamem_debugfs_add_pool(pool);
	return ret;
}

/* Removes the device node and drops the reference publishing held. */
static void cmamem_pool_unpublish(struct cmamem_pool *pool)
{
	cmamem_debugfs_remove_pool(pool);
	mutex_lock(&cmamem_pools_lock);
	list_del(&pool->list_node);
	misc_deregister(&pool->misc);
	mutex_unlock(&cmamem_pools_lock);
	cmamem_pool_put(pool);
}

static void cmamem_pool_unpublish_action(void *pool)
{
	cmamem_pool_unpublish(pool);
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

static int cmamem_pool_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct cmamem_pool *pool;
	unsigned int mask_bits;
	const char *label;
	int ret;

	if (of_property_read_string(dev->of_node, "label", &label))
		label = dev->of_node->name;
	if (!cmamem_label_valid(label))
		return dev_err_probe(dev, -EINVAL,
				     "pool name \"%s\" is not 1 to %d characters of a-z, 0-9, '_' and '-', or is \"%s\"\n",
				     label, CMAMEM_LABEL_MAX,
				     CMAMEM_DEFAULT_POOL_NAME);
	/* Blocks must be contiguous for the device, not just in IOVA space. */
	if (device_iommu_mapped(dev))
		return dev_err_probe(dev, -EINVAL,
				     "pools behind an IOMMU are not supported\n");

	pool = cmamem_pool_alloc(label);
	if (!pool)
		return -ENOMEM;
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
	mask_bits = max_t(unsigned int, dma_mask_bits,
			  fls64(pool->region_base + pool->region_size - 1));
	ret = dma_coerce_mask_and_coherent(dev, DMA_BIT_MASK(mask_bits));
	if (ret) {
		dev_err_probe(dev, ret, "cannot set a %u-bit DMA mask\n",
			      mask_bits);
		goto err_put_pool;
	}

	ret = cmamem_pool_publish(pool, dev);
	if (ret) {
		dev_err_probe(dev, ret, "cannot create /dev/%s\n",
			      pool->device_name);
		goto err_put_pool;
	}
	dev_info(dev, "pool %s: %llu bytes of %s\n", pool->name,
		 pool->region_size,
		 pool->pool_flags & CMAMEM_POOL_CMA ? "CMA" : "carveout");
	return devm_add_action_or_reset(dev, cmamem_pool_unpublish_action,
					pool);

err_put_pool:
	cmamem_pool_put(pool);
	return ret;
}

static const struct of_device_id cmamem_of_match[] = {
	{ .compatible = "cmamem,pool" },
	{ }
};
MODULE_DEVICE_TABLE(of, cmamem_of_match);

static struct platform_driver cmamem_pool_driver = {
	.probe = cmamem_pool_probe,
	.driver = {
		.name = "cmamem-pool",
		.of_match_table = cmamem_of_match,
		/* Unbinding would pull the pool from under open files. */
		.suppress_bind_attrs = true,
	},
};

static int cmamem_default_pool_create(void)
{
	struct cmamem_pool *pool;
	struct device *dev;
	int ret;

	pool = cmamem_pool_alloc(CMAMEM_DEFAULT_POOL_NAME);
	if (!pool)
		return -ENOMEM;
	/*
	 * dma-direct prefers the default CMA area for this device; modules
	 * cannot ask whether there is one, but free CMA pages say so.
	 */
	pool->pool_flags = CMAMEM_POOL_DEFAULT | CMAMEM_POOL_CACHED;
	if (IS_ENABLED(CONFIG_DMA_CMA) &&
	    global_zone_page_state(NR_FREE_CMA_PAGES))
		pool->pool_flags |= CMAMEM_POOL_CMA;

	ret = cmamem_pool_publish(pool, NULL);
	if (ret)
		goto err_put_pool;

	dev = pool->misc.this_device;
	ret = dma_coerce_mask_and_coherent(dev, DMA_BIT_MASK(dma_mask_bits));
	if (ret)
		goto err_unpublish;
	/* Opening works from here on (see cmamem_file_open()). */
	smp_store_release(&pool->dma_dev, get_device(dev));
	cmamem_default_pool = pool;
	return 0;

err_unpublish:
	cmamem_pool_unpublish(pool);
	return ret;
err_put_pool:
	cmamem_pool_put(pool);
	return ret;
}

static void cmamem_default_pool_destroy(void)
{
	cmamem_pool_unpublish(cmamem_default_pool);
	cmamem_default_pool = NULL;
}

static int __init cmamem_init(void)
{
	int ret;

	if (dma_mask_bits < 12 || dma_mask_bits > 64) {
		pr_err("dma_mask_bits must be 12 to 64, not %u\n",
		       dma_mask_bits);
		return -EINVAL;
	}

	cmamem_debugfs_init();
	ret = cmamem_default_pool_create();
	if (ret)
		goto err_debugfs;
	if (legacy) {
		ret = cmamem_legacy_init();
		if (ret)
			goto err_default_pool;
	}
	ret = platform_driver_register(&cmamem_pool_driver);
	if (ret)
		goto err_legacy;
	return 0;

err_legacy:
	if (legacy)
		cmamem_legacy_exit();
err_default_pool:
	cmamem_default_pool_destroy();
err_debugfs:
	cmamem_debugfs_exit();
	return ret;
}

static void __exit cmamem_exit(void)
{
	platform_driver_unregister(&cmamem_pool_driver);
	if (legacy)
		cmamem_legacy_exit();
	cmamem_default_pool_destroy();
	cmamem_block_exit();
	cmamem_debugfs_exit();
}

module_init(cmamem_init);
module_exit(cmamem_exit);

MODULE_DESCRIPTION("Physically contiguous memory from CMA for user space");
MODULE_LICENSE("GPL");
