// SPDX-License-Identifier: GPL-2.0
/*
 * cmamem ioctls, dispatched in the way iommufd dispatches its own.
 *
 * Every argument struct starts with its __u32 size. The kernel reads the
 * size, accepts anything from the first release's size up, copies the
 * struct with copy_struct_from_user() (which fails with E2BIG on non-zero
 * bytes it does not know) and writes results back only as far as the
 * caller's size reaches. None of the helpers below holds a cmamem lock
 * while user memory is touched or the caller's mappings change.
 */

#include <linux/dma-buf.h>
#include <linux/err.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/minmax.h>
#include <linux/uaccess.h>
#include <linux/uidgid.h>

#include "cmamem.h"

/**
 * struct cmamem_ucmd - one ioctl call
 * @cfile: the open file
 * @ubuffer: the caller's struct
 * @user_size: the size the caller says its struct has
 * @cmd: the kernel's copy of the struct
 */
struct cmamem_ucmd {
	struct cmamem_file *cfile;
	void __user *ubuffer;
	u32 user_size;
	void *cmd;
};

static int cmamem_ucmd_respond(struct cmamem_ucmd *ucmd, size_t length)
{
	if (copy_to_user(ucmd->ubuffer, ucmd->cmd,
			 min_t(size_t, ucmd->user_size, length)))
		return -EFAULT;
	return 0;
}

static bool cmamem_mode_valid(u32 mode)
{
	return mode == CMAMEM_MODE_COHERENT ||
	       mode == CMAMEM_MODE_WRITECOMBINE ||
	       mode == CMAMEM_MODE_CACHED;
}

/* %CMAMEM_MAP maps the block readable and writable. */
static int cmamem_check_mappable(struct cmamem_file *cfile)
{
	fmode_t both = FMODE_READ | FMODE_WRITE;

	return (cfile->file->f_mode & both) == both ? 0 : -EACCES;
}

/*
 * A dma-buf gives no more access than the pool file it came from: its
 * mmap() would otherwise map writable a block the file may only read.
 */
static int cmamem_check_export_access(struct cmamem_file *cfile, u32 fd_flags)
{
	fmode_t mode = cfile->file->f_mode;
	u32 access = fd_flags & O_ACCMODE;

	if (access != O_RDONLY && !(mode & FMODE_WRITE))
		return -EACCES;
	if (access != O_WRONLY && !(mode & FMODE_READ))
		return -EACCES;
	return 0;
}

static void cmamem_fill_addresses(struct cmamem_block *block,
				  __u64 *dma_address,
				  __u64 *physical_address, __u32 *out_flags)
{
	if (cmamem_may_see_addresses()) {
		*dma_address = block->dma_address;
		*physical_address = block->physical_address;
		*out_flags = 0;
	} else {
		*dma_address = 0;
		*physical_address = 0;
		*out_flags = CMAMEM_ADDRESS_WITHHELD;
	}
}

/**
 * cmamem_handle_open() - give the file a handle and maybe map the block
 * @cfile: the open file, with a cmamem_file_reserve() of the block's
 *	length done
 * @block: the block, with the handle count and reference the new handle
 *	takes over; the caller holds a reference of its own as well
 * @map: also map the whole block into the caller
 * @handle: the new handle, on success
 *
 * On failure nothing of it is left: no handle, no reservation, no mapping.
 * Must be called without any cmamem lock held.
 *
 * Return: 0, an error of cmamem_handle_install(), or mmap()'s error.
 */
int cmamem_handle_open(struct cmamem_file *cfile, struct cmamem_block *block,
		       bool map, struct cmamem_new_handle *handle)
{
	unsigned long address;
	int ret;

	ret = cmamem_handle_install(cfile, block, &handle->id, &handle->pgoff);
	if (ret)
		return ret;
	handle->address = 0;
	if (!map)
		return 0;

	address = cmamem_map_into_caller(cfile, handle->pgoff, block->length);
	if (IS_ERR_VALUE(address)) {
		cmamem_handle_free(cfile, handle->id, block);
		return (int)address;
	}
	handle->address = address;
	return 0;
}

/**
 * cmamem_handle_undo() - take back a cmamem_handle_open()
 * @cfile: the open file
 * @block: the block, still referenced by the caller
 * @handle: what cmamem_handle_open() returned
 *
 * For when the reply cannot be written. Another thread may have freed the
 * handle or unmapped the block already; that is fine. Must be called
 * without any cmamem lock held.
 */
void cmamem_handle_undo(struct cmamem_file *cfile, struct cmamem_block *block,
			const struct cmamem_new_handle *handle)
{
	if (handle->address)
		cmamem_unmap_from_caller(block, handle->address,
					 block->length);
	cmamem_handle_free(cfile, handle->id, block);
}

static int cmamem_ioctl_alloc(struct cmamem_ucmd *ucmd)
{
	struct cmamem_alloc *cmd = ucmd->cmd;
	struct cmamem_file *cfile = ucmd->cfile;
	struct cmamem_pool *pool = cfile->pool;
	bool map = cmd->flags & CMAMEM_MAP;
	struct cmamem_new_handle handle;
	struct cmamem_block *block;
	u64 length;
	int ret;

	if ((cmd->flags & ~CMAMEM_MAP) || cmd->__reserved)
		return -EINVAL;
	if (!cmamem_mode_valid(cmd->mode) || !cmamem_name_valid(cmd->name))
		return -EINVAL;
	ret = cmamem_length_check(pool, cmd->length, cmd->alignment, &length);
	if (ret)
		return ret;
	if (cmd->mode == CMAMEM_MODE_CACHED &&
	    !(pool->pool_flags & CMAMEM_POOL_CACHED))
		return -EOPNOTSUPP;
	if (map) {
		ret = cmamem_check_mappable(cfile);
		if (ret)
			return ret;
	}

	ret = cmamem_file_reserve(cfile, length);
	if (ret)
		return ret;
	block = cmamem_block_create(pool, cmd->name, length, cmd->alignment,
				    cmd->mode);
	if (IS_ERR(block)) {
		cmamem_file_unreserve(cfile, length);
		return PTR_ERR(block);
	}
	/* Ours until we return, whatever other threads do to the handle. */
	cmamem_block_get(block);
	ret = cmamem_handle_open(cfile, block, map, &handle);
	if (ret)
		goto out_put_block;

	cmd->length = length;
	cmd->handle = handle.id;
	cmd->mmap_offset = (u64)handle.pgoff << PAGE_SHIFT;
	cmd->user_address = handle.address;
	cmamem_fill_addresses(block, &cmd->dma_address,
			      &cmd->physical_address, &cmd->out_flags);
	ret = cmamem_ucmd_respond(ucmd, sizeof(*cmd));
	if (ret)
		cmamem_handle_undo(cfile, block, &handle);
out_put_block:
	cmamem_block_put(block);
	return ret;
}

static int cmamem_ioctl_attach(struct cmamem_ucmd *ucmd)
{
	struct cmamem_attach *cmd = ucmd->cmd;
	struct cmamem_file *cfile = ucmd->cfile;
	bool map = cmd->flags & CMAMEM_MAP;
	struct cmamem_new_handle handle;
	struct cmamem_block *block;
	int ret;

	if ((cmd->flags & ~CMAMEM_MAP) || cmd->__reserved)
		return -EINVAL;
	if (!cmamem_name_valid(cmd->name))
		return -EINVAL;
	if (map) {
		ret = cmamem_check_mappable(cfile);
		if (ret)
			return ret;
	}

	block = cmamem_block_attach(cfile->pool, cmd->name);
	if (IS_ERR(block))
		return PTR_ERR(block);
	ret = cmamem_file_reserve(cfile, block->length);
	if (ret) {
		cmamem_block_put_handle(block);
		return ret;
	}
	cmamem_block_get(block);
	ret = cmamem_handle_open(cfile, block, map, &handle);
	if (ret)
		goto out_put_block;

	cmd->handle = handle.id;
	cmd->mode = block->mode;
	cmd->length = block->length;
	cmd->mmap_offset = (u64)handle.pgoff << PAGE_SHIFT;
	cmd->user_address = handle.address;
	cmamem_fill_addresses(block, &cmd->dma_address,
			      &cmd->physical_address, &cmd->out_flags);
	ret = cmamem_ucmd_respond(ucmd, sizeof(*cmd));
	if (ret)
		cmamem_handle_undo(cfile, block, &handle);
out_put_block:
	cmamem_block_put(block);
	return ret;
}

static int cmamem_ioctl_free(struct cmamem_ucmd *ucmd)
{
	struct cmamem_free *cmd = ucmd->cmd;

	if (cmd->flags || cmd->__reserved)
		return -EINVAL;
	return cmamem_handle_free(ucmd->cfile, cmd->handle, NULL);
}

static int cmamem_ioctl_sync(struct cmamem_ucmd *ucmd)
{
	struct cmamem_sync *cmd = ucmd->cmd;
	struct cmamem_block *block;
	int ret = 0;

	if (cmd->__reserved)
		return -EINVAL;
	if (cmd->flags != CMAMEM_SYNC_FOR_CPU &&
	    cmd->flags != CMAMEM_SYNC_FOR_DEVICE)
		return -EINVAL;
	if (!cmd->length)
		return -EINVAL;

	block = cmamem_handle_lookup(ucmd->cfile, cmd->handle, NULL);
	if (IS_ERR(block))
		return PTR_ERR(block);
	if (cmd->offset > block->length ||
	    cmd->length > block->length - cmd->offset)
		ret = -EINVAL;
	else
		cmamem_block_sync(block, cmd->offset, cmd->length,
				  cmd->flags == CMAMEM_SYNC_FOR_DEVICE);
	cmamem_block_put(block);
	return ret;
}

static int cmamem_ioctl_block_info(struct cmamem_ucmd *ucmd)
{
	struct cmamem_block_info *cmd = ucmd->cmd;
	struct cmamem_block *block;
	struct cmamem_pool *pool;
	unsigned long pgoff;

	if (cmd->flags || cmd->__reserved)
		return -EINVAL;

	block = cmamem_handle_lookup(ucmd->cfile, cmd->handle, &pgoff);
	if (IS_ERR(block))
		return PTR_ERR(block);
	pool = block->pool;

	cmd->mode = block->mode;
	cmd->length = block->length;
	cmd->alignment = block->alignment;
	cmd->mmap_offset = (u64)pgoff << PAGE_SHIFT;
	cmamem_fill_addresses(block, &cmd->dma_address,
			      &cmd->physical_address, &cmd->out_flags);
	mutex_lock(&pool->lock);
	cmd->handles = block->handles;
	mutex_unlock(&pool->lock);
	cmd->mappings = atomic_read(&block->mappings);
	cmd->dma_bufs = atomic_read(&block->dma_bufs);
	cmd->owner_uid = from_kuid_munged(current_user_ns(), block->owner);
	memcpy(cmd->name, block->name, CMAMEM_NAME_SIZE);
	memcpy(cmd->pool, pool->name, CMAMEM_NAME_SIZE);
	cmamem_block_put(block);

	return cmamem_ucmd_respond(ucmd, sizeof(*cmd));
}

static int cmamem_ioctl_pool_info(struct cmamem_ucmd *ucmd)
{
	struct cmamem_pool_info *cmd = ucmd->cmd;
	struct cmamem_pool *pool = ucmd->cfile->pool;
	struct cmamem_pool_snapshot snapshot;

	if (cmd->flags || cmd->__reserved)
		return -EINVAL;

	cmamem_pool_snapshot(pool, &snapshot);
	cmd->pool_flags = pool->pool_flags;
	cmd->blocks = snapshot.stats.blocks;
	cmd->total_bytes = snapshot.total_bytes;
	cmd->used_bytes = snapshot.stats.used_bytes;
	cmd->peak_bytes = snapshot.stats.peak_bytes;
	cmd->free_bytes = snapshot.free_bytes;
	cmd->allocations = snapshot.stats.allocations;
	cmd->failures = snapshot.stats.failures;
	cmd->max_block_bytes = min_not_zero((u64)READ_ONCE(cmamem_max_block_size),
					    pool->region_size);
	cmd->page_size = PAGE_SIZE;
	memcpy(cmd->name, pool->name, CMAMEM_NAME_SIZE);

	return cmamem_ucmd_respond(ucmd, sizeof(*cmd));
}

static int cmamem_ioctl_export(struct cmamem_ucmd *ucmd)
{
	struct cmamem_export *cmd = ucmd->cmd;
	struct cmamem_block *block;
	struct dma_buf *dmabuf;
	int fd, ret;

	if (cmd->flags || cmd->__reserved)
		return -EINVAL;
	if (cmd->fd_flags & ~(O_CLOEXEC | O_ACCMODE))
		return -EINVAL;
	ret = cmamem_check_export_access(ucmd->cfile, cmd->fd_flags);
	if (ret)
		return ret;

	block = cmamem_handle_lookup(ucmd->cfile, cmd->handle, NULL);
	if (IS_ERR(block))
		return PTR_ERR(block);
	/* On success the dma-buf owns the lookup's reference. */
	dmabuf = cmamem_dmabuf_export(block, cmd->fd_flags);
	if (IS_ERR(dmabuf)) {
		cmamem_block_put(block);
		return PTR_ERR(dmabuf);
	}

	/* The fd is installed only once the reply is written. */
	fd = get_unused_fd_flags(cmd->fd_flags);
	if (fd < 0) {
		ret = fd;
		goto err_put_dmabuf;
	}
	cmd->fd = fd;
	ret = cmamem_ucmd_respond(ucmd, sizeof(*cmd));
	if (ret) {
		put_unused_fd(fd);
		goto err_put_dmabuf;
	}
	fd_install(fd, dmabuf->file);
	return 0;

err_put_dmabuf:
	/* Releases the dma-buf, and with it the block reference. */
	dma_buf_put(dmabuf);
	return ret;
}

static int cmamem_ioctl_import(struct cmamem_ucmd *ucmd)
{
	struct cmamem_import *cmd = ucmd->cmd;
	struct cmamem_file *cfile = ucmd->cfile;
	struct cmamem_dmabuf_import *import;
	struct cmamem_handle *handle;
	int ret;

	if (cmd->flags || cmd->__reserved)
		return -EINVAL;

	handle = cmamem_import_handle_reserve(cfile);
	if (IS_ERR(handle))
		return PTR_ERR(handle);
	import = cmamem_dmabuf_import(cfile->pool, cmd->fd);
	if (IS_ERR(import)) {
		ret = PTR_ERR(import);
		goto cancel_handle;
	}

	cmd->handle = handle->id;
	cmd->length = import->length;
	if (cmamem_may_see_addresses()) {
		cmd->dma_address = import->dma_address;
		cmd->out_flags = 0;
	} else {
		cmd->dma_address = 0;
		cmd->out_flags = CMAMEM_ADDRESS_WITHHELD;
	}
	/* The handle becomes usable only once the caller can know it. */
	ret = cmamem_ucmd_respond(ucmd, sizeof(*cmd));
	if (ret)
		goto release_import;
	cmamem_import_handle_publish(cfile, handle, import);
	return 0;

release_import:
	cmamem_dmabuf_import_release(import);
cancel_handle:
	cmamem_import_handle_cancel(cfile, handle);
	return ret;
}

union cmamem_ucmd_buffer {
	struct cmamem_alloc alloc;
	struct cmamem_attach attach;
	struct cmamem_free free;
	struct cmamem_sync sync;
	struct cmamem_block_info block_info;
	struct cmamem_pool_info pool_info;
	struct cmamem_export export;
	struct cmamem_import import;
};

/**
 * struct cmamem_ioctl_op - how one ioctl is called
 * @size: the kernel's size of the struct
 * @min_size: the first release's size of the struct
 * @execute: the helper, with the struct copied in
 *
 * Every cmamem ioctl number is _IO(CMAMEM_TYPE, nr): the size lives in
 * the struct, not in the number.
 */
struct cmamem_ioctl_op {
	unsigned int size;
	unsigned int min_size;
	int (*execute)(struct cmamem_ucmd *ucmd);
};

#define CMAMEM_IOCTL_OP(_nr, _fn, _struct, _last)			\
	[(_nr) - CMAMEM_CMD_BASE] = {					\
		.size = sizeof(_struct) +				\
			BUILD_BUG_ON_ZERO(sizeof(union cmamem_ucmd_buffer) < \
					  sizeof(_struct)),		\
		.min_size = offsetofend(_struct, _last),		\
		.execute = _fn,						\
	}

static const struct cmamem_ioctl_op cmamem_ioctl_ops[] = {
	CMAMEM_IOCTL_OP(CMAMEM_CMD_ALLOC, cmamem_ioctl_alloc,
			struct cmamem_alloc, name),
	CMAMEM_IOCTL_OP(CMAMEM_CMD_ATTACH, cmamem_ioctl_attach,
			struct cmamem_attach, __reserved),
	CMAMEM_IOCTL_OP(CMAMEM_CMD_FREE, cmamem_ioctl_free,
			struct cmamem_free, __reserved),
	CMAMEM_IOCTL_OP(CMAMEM_CMD_SYNC, cmamem_ioctl_sync,
			struct cmamem_sync, length),
	CMAMEM_IOCTL_OP(CMAMEM_CMD_BLOCK_INFO, cmamem_ioctl_block_info,
			struct cmamem_block_info, pool),
	CMAMEM_IOCTL_OP(CMAMEM_CMD_POOL_INFO, cmamem_ioctl_pool_info,
			struct cmamem_pool_info, name),
	CMAMEM_IOCTL_OP(CMAMEM_CMD_EXPORT, cmamem_ioctl_export,
			struct cmamem_export, __reserved),
	CMAMEM_IOCTL_OP(CMAMEM_CMD_IMPORT, cmamem_ioctl_import,
			struct cmamem_import, __reserved),
};

/**
 * cmamem_ioctl() - the .unlocked_ioctl of pool files
 * @file: the open pool file
 * @command: a CMAMEM_IOCTL_* number
 * @argument: user pointer to the command's struct
 *
 * The structs have the same layout for 32-bit and 64-bit callers, so
 * compat_ptr_ioctl() serves compat callers with this same function.
 *
 * Return: 0 or a negative errno as the uapi header documents.
 */
long cmamem_ioctl(struct file *file, unsigned int command,
		  unsigned long argument)
{
	const struct cmamem_ioctl_op *op;
	union cmamem_ucmd_buffer buffer;
	struct cmamem_ucmd ucmd = {};
	unsigned int nr = _IOC_NR(command);
	int ret;

	if (nr < CMAMEM_CMD_BASE ||
	    nr - CMAMEM_CMD_BASE >= ARRAY_SIZE(cmamem_ioctl_ops))
		return -ENOTTY;
	if (command != _IO(CMAMEM_TYPE, nr))
		return -ENOTTY;
	op = &cmamem_ioctl_ops[nr - CMAMEM_CMD_BASE];

	ucmd.cfile = file->private_data;
	ucmd.ubuffer = (void __user *)argument;
	if (get_user(ucmd.user_size, (u32 __user *)ucmd.ubuffer))
		return -EFAULT;
	if (ucmd.user_size < op->min_size)
		return -EINVAL;

	ucmd.cmd = &buffer;
	ret = copy_struct_from_user(ucmd.cmd, op->size, ucmd.ubuffer,
				    ucmd.user_size);
	if (ret)
		return ret;
	return op->execute(&ucmd);
}
