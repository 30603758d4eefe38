// SPDX-License-Identifier: GPL-2.0
/*
 * cmamem statistics, a view of pools and their blocks: sysfs attributes on
 * each pool's misc device (anyone may read them; they hold no addresses)
 * and, for root, a debugfs directory per pool with the block table and a
 * summary.
 */

#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/seq_file.h>
#include <linux/sysfs.h>
#include <linux/uidgid.h>
#include <linux/user_namespace.h>

#include "cmamem.h"

/* /sys/kernel/debug/cmamem, or an error pointer debugfs ignores. */
static struct dentry *cmamem_debugfs_root;

static struct cmamem_pool *cmamem_device_pool(struct device *dev)
{
	struct miscdevice *misc = dev_get_drvdata(dev);

	return container_of(misc, struct cmamem_pool, misc);
}

/*
 * One read-only file per counter. Each read takes a fresh snapshot, so a
 * file never mixes two moments.
 */
#define CMAMEM_POOL_ATTR_RO(_name, _format, _field)			\
static ssize_t _name##_show(struct device *dev,				\
			    struct device_attribute *attr, char *buf)	\
{									\
	struct cmamem_pool_snapshot snapshot;				\
									\
	cmamem_pool_snapshot(cmamem_device_pool(dev), &snapshot);	\
	return sysfs_emit(buf, _format "\n", snapshot._field);		\
}									\
static DEVICE_ATTR_RO(_name)

CMAMEM_POOL_ATTR_RO(total_bytes, "%llu", total_bytes);
CMAMEM_POOL_ATTR_RO(used_bytes, "%llu", stats.used_bytes);
CMAMEM_POOL_ATTR_RO(peak_bytes, "%llu", stats.peak_bytes);
CMAMEM_POOL_ATTR_RO(allocations, "%llu", stats.allocations);
CMAMEM_POOL_ATTR_RO(failures, "%llu", stats.failures);
CMAMEM_POOL_ATTR_RO(blocks, "%u", stats.blocks);
CMAMEM_POOL_ATTR_RO(largest_free_bytes, "%llu", largest_free_bytes);

static struct attribute *cmamem_pool_attrs[] = {
	&dev_attr_total_bytes.attr,
	&dev_attr_used_bytes.attr,
	&dev_attr_peak_bytes.attr,
	&dev_attr_allocations.attr,
	&dev_attr_failures.attr,
	&dev_attr_blocks.attr,
	&dev_attr_largest_free_bytes.attr,
	NULL
};

static const struct attribute_group cmamem_pool_group = {
	.attrs = cmamem_pool_attrs,
};

/* The misc devices' attribute groups (&miscdevice.groups). */
const struct attribute_group *cmamem_pool_groups[] = {
	&cmamem_pool_group,
	NULL
};

/*
 * debugfs blocks table: a header line, then one line per live block, in
 * the order the `cmamem list` command parses. The pool lock is held from
 * start() to stop(); seq_file copies to user space only after stop().
 */
static void *cmamem_blocks_start(struct seq_file *m, loff_t *pos)
{
	struct cmamem_pool *pool = m->private;

	mutex_lock(&pool->lock);
	return seq_list_start_head(&pool->blocks, *pos);
}

static void *cmamem_blocks_next(struct seq_file *m, void *v, loff_t *pos)
{
	struct cmamem_pool *pool = m->private;

	return seq_list_next(v, &pool->blocks, pos);
}

static void cmamem_blocks_stop(struct seq_file *m, void *v)
{
	struct cmamem_pool *pool = m->private;

	mutex_unlock(&pool->lock);
}

static int cmamem_blocks_show(struct seq_file *m, void *v)
{
	struct cmamem_pool *pool = m->private;
	struct cmamem_block *block;

	if (v == &pool->blocks) {
		seq_puts(m, "name length mode handles mappings dma_bufs uid pid comm dma_address\n");
		return 0;
	}

	block = list_entry(v, struct cmamem_block, pool_node);
	seq_printf(m, "%s %llu %s %u %d %d %u %d %s 0x%llx\n",
		   block->published ? block->name : "-", block->length,
		   cmamem_mode_name(block->mode), block->handles,
		   atomic_read(&block->mappings),
		   atomic_read(&block->dma_bufs),
		   from_kuid_munged(&init_user_ns, block->owner), block->pid,
		   block->comm, (u64)cmamem_block_dma_address(block));
	return 0;
}

static const struct seq_operations cmamem_blocks_sops = {
	.start = cmamem_blocks_start,
	.next = cmamem_blocks_next,
	.stop = cmamem_blocks_stop,
	.show = cmamem_blocks_show,
};
DEFINE_SEQ_ATTRIBUTE(cmamem_blocks);

static int cmamem_summary_show(struct seq_file *m, void *v)
{
	struct cmamem_pool *pool = m->private;
	struct cmamem_pool_snapshot snapshot;

	cmamem_pool_snapshot(pool, &snapshot);
	seq_printf(m, "total_bytes: %llu\n", snapshot.total_bytes);
	seq_printf(m, "used_bytes: %llu\n", snapshot.stats.used_bytes);
	seq_printf(m, "peak_bytes: %llu\n", snapshot.stats.peak_bytes);
	seq_printf(m, "free_bytes: %llu\n", snapshot.free_bytes);
	seq_printf(m, "largest_free_bytes: %llu\n",
		   snapshot.largest_free_bytes);
	seq_printf(m, "blocks: %u\n", snapshot.stats.blocks);
	seq_printf(m, "allocations: %llu\n", snapshot.stats.allocations);
	seq_printf(m, "failures: %llu\n", snapshot.stats.failures);
	/* Not a POOL_INFO counter: how the pool's blocks were mapped. */
	seq_printf(m, "huge_faults: %lld\n",
		   (long long)atomic64_read(&pool->huge_faults));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(cmamem_summary);

/* One line per user with live blocks in the pool: "uid bytes blocks". */
static int cmamem_users_show(struct seq_file *m, void *v)
{
	struct cmamem_pool *pool = m->private;
	struct cmamem_user_usage *usage;
	unsigned long key;

	seq_puts(m, "uid bytes blocks\n");
	mutex_lock(&pool->lock);
	xa_for_each(&pool->users, key, usage)
		seq_printf(m, "%u %llu %u\n",
			   from_kuid_munged(&init_user_ns, KUIDT_INIT(key)),
			   usage->bytes, usage->blocks);
	mutex_unlock(&pool->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(cmamem_users);

/**
 * cmamem_debugfs_init() - create /sys/kernel/debug/cmamem
 *
 * Like every debugfs user, the module works on without it.
 */
void cmamem_debugfs_init(void)
{
	cmamem_debugfs_root = debugfs_create_dir(KBUILD_MODNAME, NULL);
}

/**
 * cmamem_debugfs_exit() - remove /sys/kernel/debug/cmamem
 */
void cmamem_debugfs_exit(void)
{
	debugfs_remove_recursive(cmamem_debugfs_root);
}

/**
 * cmamem_debugfs_add_pool() - create a pool's debugfs directory
 * @pool: the pool; its files read it until cmamem_debugfs_remove_pool()
 *
 * The files are root-only (0400): the table shows DMA addresses.
 */
void cmamem_debugfs_add_pool(struct cmamem_pool *pool)
{
	pool->debugfs_dir = debugfs_create_dir(pool->name, cmamem_debugfs_root);
	debugfs_create_file("blocks", 0400, pool->debugfs_dir, pool,
			    &cmamem_blocks_fops);
	debugfs_create_file("summary", 0400, pool->debugfs_dir, pool,
			    &cmamem_summary_fops);
	debugfs_create_file("users", 0400, pool->debugfs_dir, pool,
			    &cmamem_users_fops);
}

/**
 * cmamem_debugfs_remove_pool() - remove a pool's debugfs directory
 * @pool: the pool
 *
 * Waits for readers of its files to finish.
 */
void cmamem_debugfs_remove_pool(struct cmamem_pool *pool)
{
	debugfs_remove_recursive(pool->debugfs_dir);
	pool->debugfs_dir = NULL;
}
