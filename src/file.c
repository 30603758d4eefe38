// SPDX-License-Identifier: GPL-2.0
/*
 * cmamem open files: the layer between the views of a block (mmap.c,
 * dmabuf.c) and the two ABIs (ioctl.c, legacy.c).
 *
 * An open pool file (&struct cmamem_file) holds handles: numbered
 * references on blocks or on imported dma-bufs. Each block handle owns a
 * range of mmap page offsets in the file. This file keeps that table, the
 * per-file quotas, and the one sequence every way of adding a block
 * follows (pin the reply if the block is to be mapped, reserve the quota,
 * allocate or attach, install the handle, check, map, reply), so that
 * ALLOC, ATTACH and CMEM_ALLOCATE cannot drift apart. A mapping, once
 * made, is never undone (see cmamem_file_add_block()).
 */

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/maple_tree.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>

#include "cmamem.h"

static unsigned long long cmamem_fd_quota_bytes;
module_param_named(fd_quota_bytes, cmamem_fd_quota_bytes, ullong, 0644);
MODULE_PARM_DESC(fd_quota_bytes,
		 "Bytes of blocks one open file may hold handles on; more fails with EDQUOT (0 = no limit, the default)");

static unsigned int cmamem_fd_max_blocks = 16384;
module_param_named(fd_max_blocks, cmamem_fd_max_blocks, uint, 0644);
MODULE_PARM_DESC(fd_max_blocks,
		 "Handles one open file may hold; more fails with EMFILE (default 16384)");

static int cmamem_address_group = -1;
module_param_named(address_group, cmamem_address_group, int, 0644);
MODULE_PARM_DESC(address_group,
		 "Group whose members see DMA and physical addresses besides CAP_SYS_RAWIO holders (-1 = none, the default)");

/*
 * Handles come from a cache of their own: every live block has at least
 * one, and a kmalloc() object of their size is 128 bytes on arm64 Linux
 * 6.1.
 */
static struct kmem_cache *cmamem_handle_cache;

/**
 * cmamem_file_init() - create the handles' slab cache at module load
 *
 * Return: 0 or -ENOMEM.
 */
int cmamem_file_init(void)
{
	cmamem_handle_cache = KMEM_CACHE(cmamem_handle, 0);
	return cmamem_handle_cache ? 0 : -ENOMEM;
}

/**
 * cmamem_file_exit() - destroy the handles' slab cache at module exit
 *
 * Every open file, and so every handle, is gone by then.
 */
void cmamem_file_exit(void)
{
	kmem_cache_destroy(cmamem_handle_cache);
}

/* The block a handle is on, or NULL for an import handle. */
static struct cmamem_block *cmamem_handle_block(const struct cmamem_handle *handle)
{
	return handle->is_import ? NULL : handle->block;
}

/*
 * Last page offset a handle's mmap range may use: the byte offset just
 * past it must fit the file offset mmap() accepts for a character device
 * and the unsigned long that vm_mmap() takes.
 */
#define CMAMEM_PGOFF_LAST \
	((unsigned long)(min_t(u64, MAX_LFS_FILESIZE, ULONG_MAX) >> \
			 PAGE_SHIFT) - 1)

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
 * cmamem_file_open() - set up an open pool file
 * @pool: the pool
 * @file: the file being opened, /dev/cmamem* or /dev/cma_mem
 *
 * Return: 0, -ENODEV if the pool is not ready yet, or -ENOMEM.
 */
int cmamem_file_open(struct cmamem_pool *pool, struct file *file)
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
	mutex_init(&cfile->lock);
	xa_init_flags(&cfile->handles, XA_FLAGS_ALLOC1);
	mt_init_flags(&cfile->offsets, MT_FLAGS_ALLOC_RANGE);
	file->private_data = cfile;
	return 0;
}

/*
 * Accounts a new handle against the file's quotas. The reservation
 * becomes the handle's once it is installed; until then
 * cmamem_file_unreserve() takes it back. Returns 0, -EMFILE when the file
 * holds fd_max_blocks handles already, or -EDQUOT when @bytes would take
 * it past fd_quota_bytes.
 */
static int cmamem_file_reserve(struct cmamem_file *cfile, u64 bytes)
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

static void cmamem_file_unreserve(struct cmamem_file *cfile, u64 bytes)
{
	mutex_lock(&cfile->lock);
	cfile->quota_handles--;
	cfile->quota_bytes -= bytes;
	mutex_unlock(&cfile->lock);
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

/*
 * Takes @handle's range of mmap offsets out of the file's tree. Erasing a
 * range can need a new node, and mtree_erase() gives up without a word
 * when it cannot get one (the retry failing too), which would leave the
 * offsets pointing at a handle about to be freed: the next mmap() there
 * would read freed memory. A node is a few hundred bytes, so this waits
 * for one rather than fail FREE, which must not fail. Called with
 * &cmamem_file.lock held.
 */
static void cmamem_offset_free(struct cmamem_file *cfile,
			       struct cmamem_handle *handle)
{
	unsigned long pages = handle->block->length >> PAGE_SHIFT;

	lockdep_assert_held(&cfile->lock);
	WARN_ON_ONCE(mtree_store_range(&cfile->offsets, handle->pgoff,
				       handle->pgoff + pages - 1, NULL,
				       GFP_KERNEL | __GFP_NOFAIL));
}

/*
 * Gives the file a handle on @block, which comes with the handle count and
 * reference the handle takes over, and a reservation of its length. On
 * failure the handle count, its reference and the reservation are
 * dropped. Returns 0, -EMFILE if the file has no handle numbers left, or
 * -ENOMEM.
 */
static int cmamem_handle_install(struct cmamem_file *cfile,
				 struct cmamem_block *block,
				 struct cmamem_new_handle *new)
{
	struct cmamem_handle *handle;
	int ret;

	handle = kmem_cache_zalloc(cmamem_handle_cache, GFP_KERNEL);
	if (!handle) {
		ret = -ENOMEM;
		goto err_drop_block;
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
		goto err_erase_id;
	new->id = handle->id;
	new->pgoff = handle->pgoff;
	new->address = 0;
	mutex_unlock(&cfile->lock);
	return 0;

err_erase_id:
	xa_erase(&cfile->handles, handle->id);
err_unlock:
	mutex_unlock(&cfile->lock);
	kmem_cache_free(cmamem_handle_cache, handle);
err_drop_block:
	cmamem_file_unreserve(cfile, block->length);
	cmamem_block_put_handle(block);
	return ret;
}

/**
 * cmamem_file_lookup_block() - find the block behind a handle
 * @cfile: the open file
 * @id: the handle number
 * @pgoff: if not NULL, the handle's first mmap page offset
 *
 * Return: the block with a reference the caller must drop with
 * cmamem_block_put(), ERR_PTR(-ENOENT) when there is no such handle, or
 * ERR_PTR(-EINVAL) when it is an import handle.
 */
struct cmamem_block *cmamem_file_lookup_block(struct cmamem_file *cfile,
					      u32 id, unsigned long *pgoff)
{
	struct cmamem_handle *handle;
	struct cmamem_block *block;

	mutex_lock(&cfile->lock);
	handle = xa_load(&cfile->handles, id);
	if (!handle) {
		block = ERR_PTR(-ENOENT);
	} else if (handle->is_import) {
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
	if (!handle ||
	    (expected && cmamem_handle_block(handle) != expected)) {
		mutex_unlock(&cfile->lock);
		return NULL;
	}
	xa_erase(&cfile->handles, id);
	cfile->quota_handles--;
	if (!handle->is_import) {
		cmamem_offset_free(cfile, handle);
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
	if (handle->is_import)
		cmamem_dmabuf_import_release(handle->import);
	else
		cmamem_block_put_handle(handle->block);
	kmem_cache_free(cmamem_handle_cache, handle);
}

/* Drops handle @id if it is on @expected (any handle if NULL). */
static int cmamem_handle_free(struct cmamem_file *cfile, u32 id,
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
 * cmamem_file_free_handle() - drop one of an open file's handles
 * @cfile: the open file
 * @id: the handle number, of a block or an import
 *
 * Must be called without any cmamem lock held.
 *
 * Return: 0 or -ENOENT.
 */
int cmamem_file_free_handle(struct cmamem_file *cfile, u32 id)
{
	return cmamem_handle_free(cfile, id, NULL);
}

/* Remembers where the block was mapped into the caller, for CMEM_UNMAP. */
static void cmamem_handle_set_address(struct cmamem_file *cfile,
				      struct cmamem_block *block,
				      const struct cmamem_new_handle *new)
{
	struct cmamem_handle *handle;

	mutex_lock(&cfile->lock);
	handle = xa_load(&cfile->handles, new->id);
	/* Another thread may have freed the handle and reused the number. */
	if (handle && cmamem_handle_block(handle) == block)
		handle->user_address = new->address;
	mutex_unlock(&cfile->lock);
}

/*
 * Maps the whole block into the caller at the handle's offsets and
 * remembers where. If mapping fails, nothing is mapped.
 */
static int cmamem_handle_map(struct cmamem_file *cfile,
			     struct cmamem_block *block,
			     struct cmamem_new_handle *new)
{
	unsigned long address;

	address = cmamem_map_into_caller(cfile->file, new->pgoff,
					 block->length);
	if (IS_ERR_VALUE(address))
		return (int)address;
	new->address = address;
	cmamem_handle_set_address(cfile, block, new);
	return 0;
}

/*
 * Pins the caller's struct for a request that maps a block into the
 * caller: once the block is mapped, the reply must not be able to fail.
 * Undoing the mapping would take a check of the VMA and a vm_munmap() that
 * modules cannot make one step (do_munmap() is not exported), and another
 * thread could put a mapping of its own at that address in between. A
 * struct that cannot be written fails here, before anything is done.
 */
static int cmamem_reply_pin(struct cmamem_reply *reply)
{
	unsigned long start = (unsigned long)reply->buffer;
	unsigned long first = start >> PAGE_SHIFT;
	unsigned long last = (start + reply->length - 1) >> PAGE_SHIFT;
	/* At most CMAMEM_REPLY_PAGES: no reply is longer than a page. */
	int count = last - first + 1, pinned;

	pinned = pin_user_pages_fast(first << PAGE_SHIFT, count, FOLL_WRITE,
				     reply->pages);
	if (pinned == count) {
		reply->pinned = count;
		return 0;
	}
	if (pinned > 0)
		unpin_user_pages(reply->pages, pinned);
	return -EFAULT;
}

static void cmamem_reply_unpin(struct cmamem_reply *reply)
{
	unpin_user_pages_dirty_lock(reply->pages, reply->pinned, true);
	reply->pinned = 0;
}

/* Writes the reply through the pinned pages: it cannot fail. */
static void cmamem_reply_write_pinned(const struct cmamem_reply *reply,
				      const void *data)
{
	size_t offset = offset_in_page((unsigned long)reply->buffer);
	size_t length = reply->length;
	const u8 *source = data;
	unsigned int index = 0;

	while (length) {
		size_t chunk = min_t(size_t, length, PAGE_SIZE - offset);
		void *page = kmap_local_page(reply->pages[index]);

		memcpy(page + offset, source, chunk);
		kunmap_local(page);
		flush_dcache_page(reply->pages[index]);
		source += chunk;
		length -= chunk;
		offset = 0;
		index++;
	}
}

/**
 * cmamem_reply_write() - write a request's reply into the caller's struct
 * @reply: where it goes, and how many bytes
 * @data: the reply, @reply->length bytes
 *
 * A reply that cmamem_file_add_block() pinned (the block was mapped) is
 * written through its pages and cannot fail; any other is copied.
 *
 * Return: 0, or -EFAULT when an unpinned struct cannot be written.
 */
int cmamem_reply_write(const struct cmamem_reply *reply, const void *data)
{
	if (reply->pinned) {
		cmamem_reply_write_pinned(reply, data);
		return 0;
	}
	if (copy_to_user(reply->buffer, data, reply->length))
		return -EFAULT;
	return 0;
}

/* %CMAMEM_MAP and CMEM_ALLOCATE map the block readable and writable. */
static int cmamem_file_check_mappable(struct cmamem_file *cfile)
{
	fmode_t both = FMODE_READ | FMODE_WRITE;

	return (cfile->file->f_mode & both) == both ? 0 : -EACCES;
}

/*
 * The block of @request, with a handle count, its reference, and the
 * file's quota reserved for it. A new block is reserved for before it is
 * allocated, so a full quota allocates nothing; an attached block's length
 * is known only once it is found.
 */
static struct cmamem_block *
cmamem_file_get_block(struct cmamem_file *cfile,
		      const struct cmamem_block_request *request)
{
	struct cmamem_block *block;
	int ret;

	if (request->create) {
		ret = cmamem_file_reserve(cfile, request->length);
		if (ret)
			return ERR_PTR(ret);
		block = cmamem_block_create(cfile->pool, request);
		if (IS_ERR(block))
			cmamem_file_unreserve(cfile, request->length);
		return block;
	}

	block = cmamem_block_attach(cfile->pool, request->owner, request->name);
	if (IS_ERR(block))
		return block;
	ret = cmamem_file_reserve(cfile, block->length);
	if (ret) {
		cmamem_block_put_handle(block);
		return ERR_PTR(ret);
	}
	return block;
}

/**
 * cmamem_file_add_block() - give an open file a handle on a block
 * @cfile: the open file
 * @request: which block, and whether to map it
 * @ops: checks the block and writes the reply to the caller; called with
 *	no cmamem lock held, the block referenced and the handle installed
 * @reply: the caller's struct; pinned here first when @request maps
 * @context: for @ops
 *
 * This is the one sequence ALLOC, ATTACH and CMEM_ALLOCATE share. The
 * handle is usable by other threads as soon as it is installed, so @ops
 * must not assume it still exists. Whatever fails before the block is
 * mapped (@ops->check included) takes the handle back and leaves the
 * caller as it was. A mapping is never undone: its reply goes through
 * pinned pages and cannot fail, so there is no check of the caller's VMA
 * followed by a vm_munmap() that another thread could slip a mapping of
 * its own between.
 *
 * Return: 0; -EACCES when @request maps a file not open for reading and
 * writing; -EFAULT when the struct of such a request cannot be written;
 * an error of cmamem_block_create(), cmamem_block_attach() or the quotas
 * (-EMFILE, -EDQUOT); @ops->check's error; mmap()'s error; or, for a
 * request that does not map, @ops->respond's error.
 */
int cmamem_file_add_block(struct cmamem_file *cfile,
			  const struct cmamem_block_request *request,
			  const struct cmamem_reply_ops *ops,
			  struct cmamem_reply *reply, void *context)
{
	struct cmamem_new_handle new;
	struct cmamem_block *block;
	int ret;

	if (request->map) {
		ret = cmamem_file_check_mappable(cfile);
		if (ret)
			return ret;
		ret = cmamem_reply_pin(reply);
		if (ret)
			return ret;
	}
	block = cmamem_file_get_block(cfile, request);
	if (IS_ERR(block)) {
		ret = PTR_ERR(block);
		goto out_unpin;
	}

	/* Ours until we return, whatever other threads do to the handle. */
	cmamem_block_get(block);
	ret = cmamem_handle_install(cfile, block, &new);
	if (ret)
		goto out_put;
	if (ops->check) {
		ret = ops->check(context, block, &new);
		if (ret)
			goto err_free_handle;
	}
	if (request->map) {
		ret = cmamem_handle_map(cfile, block, &new);
		if (ret)
			goto err_free_handle;
	}
	ret = ops->respond(context, block, &new);
	if (ret)
		goto err_free_handle;
	goto out_put;

err_free_handle:
	/* A mapped block's reply cannot fail: there is no mapping here. */
	cmamem_handle_free(cfile, new.id, block);
out_put:
	cmamem_block_put(block);
out_unpin:
	if (reply->pinned)
		cmamem_reply_unpin(reply);
	return ret;
}

/**
 * cmamem_file_free_named() - drop the handle on a named block, and unmap
 * what adding it mapped
 * @cfile: the open file
 * @name: a valid, zero-padded %CMAMEM_NAME_SIZE byte name
 *
 * For CMEM_UNMAP. A mapping the process changed itself is left alone
 * (see cmamem_unmap_from_caller()). Must be called without any cmamem lock
 * held.
 *
 * Return: 0, or -ENOENT when the file holds no handle on a block of that
 * name (or another thread dropped it first).
 */
int cmamem_file_free_named(struct cmamem_file *cfile, const char *name)
{
	struct cmamem_block *block = NULL;
	struct cmamem_handle *handle;
	unsigned long id;

	mutex_lock(&cfile->lock);
	xa_for_each(&cfile->handles, id, handle) {
		if (!handle->is_import &&
		    !memcmp(handle->block->name, name, CMAMEM_NAME_SIZE)) {
			block = handle->block;
			cmamem_block_get(block);
			break;
		}
	}
	mutex_unlock(&cfile->lock);
	if (!block)
		return -ENOENT;

	handle = cmamem_handle_take(cfile, id, block);
	if (handle) {
		if (handle->user_address)
			cmamem_unmap_from_caller(block, handle->user_address,
						 block->length);
		cmamem_handle_release(handle);
	}
	cmamem_block_put(block);
	/* Without a handle, another thread's CMEM_UNMAP got there first. */
	return handle ? 0 : -ENOENT;
}

/*
 * A handle number for an import. The number counts against fd_max_blocks
 * at once but stays invisible (lookups and FREE see no handle) until it is
 * published, so no other thread can free the handle while IMPORT writes
 * its reply.
 */
static struct cmamem_handle *cmamem_import_handle_reserve(struct cmamem_file *cfile)
{
	struct cmamem_handle *handle;
	int ret;

	handle = kmem_cache_zalloc(cmamem_handle_cache, GFP_KERNEL);
	if (!handle)
		return ERR_PTR(-ENOMEM);
	handle->is_import = true;
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
	kmem_cache_free(cmamem_handle_cache, handle);
	return ERR_PTR(ret);
}

static void cmamem_import_handle_publish(struct cmamem_file *cfile,
					 struct cmamem_handle *handle,
					 struct cmamem_dmabuf_import *import)
{
	handle->import = import;
	mutex_lock(&cfile->lock);
	/* The slot exists already, so this store allocates nothing. */
	xa_store(&cfile->handles, handle->id, handle, GFP_KERNEL);
	mutex_unlock(&cfile->lock);
}

static void cmamem_import_handle_cancel(struct cmamem_file *cfile,
					struct cmamem_handle *handle)
{
	mutex_lock(&cfile->lock);
	xa_release(&cfile->handles, handle->id);
	mutex_unlock(&cfile->lock);
	cmamem_file_unreserve(cfile, 0);
	kmem_cache_free(cmamem_handle_cache, handle);
}

/**
 * cmamem_file_add_import() - give an open file a handle on a dma-buf
 * @cfile: the open file
 * @fd: a dma-buf file descriptor of the calling process
 * @respond: writes the reply to the caller; called with no cmamem lock
 *	held, before the handle becomes usable
 * @context: for @respond
 *
 * The handle is published only once @respond succeeded, so no other
 * thread can use or free a handle the caller may never learn of.
 *
 * Return: 0; -EMFILE at fd_max_blocks; an error of cmamem_dmabuf_import();
 * -ENOMEM; or @respond's error.
 */
int cmamem_file_add_import(struct cmamem_file *cfile, int fd,
			   int (*respond)(void *context,
					  const struct cmamem_dmabuf_import *import,
					  u32 id),
			   void *context)
{
	struct cmamem_dmabuf_import *import;
	struct cmamem_handle *handle;
	int ret;

	handle = cmamem_import_handle_reserve(cfile);
	if (IS_ERR(handle))
		return PTR_ERR(handle);
	import = cmamem_dmabuf_import(cfile->pool, fd);
	if (IS_ERR(import)) {
		ret = PTR_ERR(import);
		goto err_cancel_handle;
	}
	ret = respond(context, import, handle->id);
	if (ret)
		goto err_release_import;
	cmamem_import_handle_publish(cfile, handle, import);
	return 0;

err_release_import:
	cmamem_dmabuf_import_release(import);
err_cancel_handle:
	cmamem_import_handle_cancel(cfile, handle);
	return ret;
}

/*
 * The block a mapping of @count pages at page offset @pgoff would map,
 * with a reference the caller drops, and the block's page it starts at;
 * NULL when the range is not inside a block this file holds a handle on.
 */
static struct cmamem_block *cmamem_file_mmap_block(struct cmamem_file *cfile,
						   unsigned long pgoff,
						   unsigned long count,
						   unsigned long *first_page)
{
	struct cmamem_handle *handle;
	struct cmamem_block *block = NULL;

	mutex_lock(&cfile->lock);
	handle = mtree_load(&cfile->offsets, pgoff);
	/* The handle's range covers exactly the block's pages. */
	if (handle && count <= (handle->block->length >> PAGE_SHIFT) -
			       (pgoff - handle->pgoff)) {
		block = handle->block;
		*first_page = pgoff - handle->pgoff;
		cmamem_block_get(block);
	}
	mutex_unlock(&cfile->lock);
	return block;
}

/**
 * cmamem_file_mmap() - the .mmap of pool files and of /dev/cma_mem
 * @file: the open pool file
 * @vma: the new mapping; its page offset must lie in a handle's range and
 *	the whole mapping inside that handle's block
 *
 * Runs with mmap_lock held for writing; takes &cmamem_file.lock inside it.
 *
 * Return: 0, -EINVAL for a private mapping, -EPERM for an executable one,
 * -ENXIO when the range is not inside a block this file holds a handle on,
 * or the error of the mapping itself.
 */
int cmamem_file_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct cmamem_block *block;
	unsigned long first_page;
	int ret;

	ret = cmamem_mmap_check(vma);
	if (ret)
		return ret;

	block = cmamem_file_mmap_block(file->private_data, vma->vm_pgoff,
				       vma_pages(vma), &first_page);
	if (!block)
		return -ENXIO;
	ret = cmamem_block_mmap_detached(block, vma, first_page);
	cmamem_block_put(block);
	return ret;
}

#ifdef CMAMEM_HUGE_PFNMAP
/**
 * cmamem_file_get_unmapped_area() - the .get_unmapped_area of pool files
 *	and of /dev/cma_mem
 * @file: the open pool file
 * @address: the caller's hint (or the MAP_FIXED address)
 * @length: the mapping's length
 * @pgoff: its page offset, which selects a block as for cmamem_file_mmap()
 * @flags: the mmap() flags
 *
 * Places a mapping of a block mapped huge where its PMD entries can be
 * used (see cmamem_block_get_unmapped_area()). Runs with mmap_lock held
 * for writing, before .mmap; takes &cmamem_file.lock inside it.
 *
 * Return: the address, or a negative errno (test with IS_ERR_VALUE()).
 */
unsigned long cmamem_file_get_unmapped_area(struct file *file,
					    unsigned long address,
					    unsigned long length,
					    unsigned long pgoff,
					    unsigned long flags)
{
	struct cmamem_block *block;
	unsigned long first_page;

	block = cmamem_file_mmap_block(file->private_data, pgoff,
				       length >> PAGE_SHIFT, &first_page);
	/* The range is no block's: .mmap refuses it, after this. */
	if (!block)
		return mm_get_unmapped_area(current->mm, file, address, length,
					    pgoff, flags);
	address = cmamem_block_get_unmapped_area(block, first_page, file,
						 address, length, pgoff,
						 flags);
	cmamem_block_put(block);
	return address;
}
#endif

/**
 * cmamem_file_close() - release an open pool file
 * @cfile: the file's state; nothing else can use it any more
 *
 * Drops every handle the file still holds, which unpublishes the names of
 * blocks nobody else has a handle on. Mappings made through the file stay
 * valid: they hold their blocks themselves.
 */
void cmamem_file_close(struct cmamem_file *cfile)
{
	struct cmamem_pool *pool = cfile->pool;
	struct cmamem_handle *handle;
	unsigned long id;

	/* Nothing looks offsets up any more: the tree goes as a whole. */
	xa_for_each(&cfile->handles, id, handle) {
		xa_erase(&cfile->handles, id);
		cmamem_handle_release(handle);
	}
	mtree_destroy(&cfile->offsets);
	xa_destroy(&cfile->handles);
	mutex_destroy(&cfile->lock);
	kfree(cfile);
	cmamem_pool_put(pool);
}
