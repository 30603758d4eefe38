// SPDX-License-Identifier: GPL-2.0
/*
 * cmamem: physically contiguous memory from CMA for user space.
 *
 * The top layer, as iommufd's main.c: the file operations of the device
 * nodes, the platform driver that turns device-tree nodes into pools, and
 * module init/exit. The layers below, each calling only the ones under
 * it (docs/design.md):
 *
 *	pool.c		devices and the memory behind them
 *	block.c		allocations: modes, names, lifetime, sync
 *	mmap.c		a block mapped into user space
 *	dmabuf.c	a block as a dma-buf; foreign dma-bufs imported
 *	stats.c		sysfs and debugfs views of pools and blocks
 *	file.c		an open file's handles, quotas and mmap offsets
 *	ioctl.c		the cmamem ABI
 *	legacy.c	the cma_mem ABI of /dev/cma_mem
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/fs.h>
#include <linux/init.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/of.h>
#include <linux/platform_device.h>

#include "cmamem.h"

static unsigned int dma_mask_bits = 32;
module_param(dma_mask_bits, uint, 0444);
MODULE_PARM_DESC(dma_mask_bits,
		 "Address bits the pools' devices can drive, 12 to 64 (default 32)");

static bool legacy;
module_param(legacy, bool, 0444);
MODULE_PARM_DESC(legacy, "Also create /dev/cma_mem with the cma_mem driver's ABI");

/* The pool behind /dev/cmamem and /dev/cma_mem, while the module is loaded. */
static struct cmamem_pool *cmamem_default_pool;

static int cmamem_fops_open(struct inode *inode, struct file *file)
{
	/* misc_open() left our miscdevice in private_data. */
	struct cmamem_pool *pool = container_of(file->private_data,
						struct cmamem_pool, misc);

	return cmamem_file_open(pool, file);
}

static int cmamem_fops_release(struct inode *inode, struct file *file)
{
	cmamem_file_close(file->private_data);
	return 0;
}

static const struct file_operations cmamem_pool_fops = {
	.owner = THIS_MODULE,
	.open = cmamem_fops_open,
	.release = cmamem_fops_release,
	.mmap = cmamem_file_mmap,
#ifdef CMAMEM_HUGE_PFNMAP
	.get_unmapped_area = cmamem_file_get_unmapped_area,
#endif
	.unlocked_ioctl = cmamem_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static int cmamem_legacy_fops_open(struct inode *inode, struct file *file)
{
	return cmamem_file_open(cmamem_default_pool, file);
}

static const struct file_operations cmamem_legacy_fops = {
	.owner = THIS_MODULE,
	.open = cmamem_legacy_fops_open,
	.release = cmamem_fops_release,
	.mmap = cmamem_file_mmap,
#ifdef CMAMEM_HUGE_PFNMAP
	.get_unmapped_area = cmamem_file_get_unmapped_area,
#endif
	.unlocked_ioctl = cmamem_legacy_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice cmamem_legacy_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "cma_mem",
	.fops = &cmamem_legacy_fops,
};

/* Creates the pool's device node, with its sysfs and debugfs files. */
static int cmamem_publish(struct cmamem_pool *pool, struct device *parent)
{
	int ret;

	pool->misc.fops = &cmamem_pool_fops;
	pool->misc.groups = cmamem_pool_groups;
	pool->misc.parent = parent;
	ret = cmamem_pool_publish(pool);
	if (ret)
		return ret;
	cmamem_debugfs_add_pool(pool);
	return 0;
}

static void cmamem_unpublish(void *pool)
{
	cmamem_debugfs_remove_pool(pool);
	cmamem_pool_unpublish(pool);
}

static int cmamem_pool_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct cmamem_pool *pool;
	int ret;

	pool = cmamem_pool_create_of(dev, dma_mask_bits);
	if (IS_ERR(pool))
		return PTR_ERR(pool);
	ret = cmamem_publish(pool, dev);
	if (ret) {
		dev_err_probe(dev, ret, "cannot create /dev/%s\n",
			      pool->device_name);
		cmamem_pool_put(pool);
		return ret;
	}
	dev_info(dev, "pool %s: %llu bytes of %s\n", pool->name,
		 pool->region_size,
		 pool->pool_flags & CMAMEM_POOL_CMA ? "CMA" : "carveout");
	return devm_add_action_or_reset(dev, cmamem_unpublish, pool);
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

static int cmamem_default_pool_init(void)
{
	struct cmamem_pool *pool;
	int ret;

	pool = cmamem_pool_create_default();
	if (!pool)
		return -ENOMEM;
	ret = cmamem_publish(pool, NULL);
	if (ret) {
		cmamem_pool_put(pool);
		return ret;
	}
	ret = cmamem_pool_set_default_device(pool, dma_mask_bits);
	if (ret) {
		cmamem_unpublish(pool);
		return ret;
	}
	cmamem_default_pool = pool;
	return 0;
}

static void cmamem_default_pool_exit(void)
{
	cmamem_unpublish(cmamem_default_pool);
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

	ret = cmamem_block_init();
	if (ret)
		return ret;
	ret = cmamem_file_init();
	if (ret)
		goto err_block;
	cmamem_debugfs_init();
	ret = cmamem_default_pool_init();
	if (ret)
		goto err_debugfs;
	if (legacy) {
		ret = misc_register(&cmamem_legacy_misc);
		if (ret)
			goto err_default_pool;
	}
	ret = platform_driver_register(&cmamem_pool_driver);
	if (ret)
		goto err_legacy;
	return 0;

err_legacy:
	if (legacy)
		misc_deregister(&cmamem_legacy_misc);
err_default_pool:
	cmamem_default_pool_exit();
err_debugfs:
	cmamem_debugfs_exit();
	cmamem_file_exit();
err_block:
	cmamem_block_exit();
	return ret;
}

static void __exit cmamem_exit(void)
{
	platform_driver_unregister(&cmamem_pool_driver);
	if (legacy)
		misc_deregister(&cmamem_legacy_misc);
	cmamem_default_pool_exit();
	cmamem_block_exit();
	cmamem_file_exit();
	cmamem_debugfs_exit();
}

module_init(cmamem_init);
module_exit(cmamem_exit);

MODULE_DESCRIPTION("Physically contiguous memory from CMA for user space");
MODULE_LICENSE("GPL");
