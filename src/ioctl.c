// SPDX-License-Identifier: GPL-2.0
/*
 * cmamem ioctls, dispatched in the way iommufd dispatches its own: the
 * cmamem ABI on top of the file layer (file.c).
 *
 * Every argument struct starts with its __u32 size. The kernel reads the
 * size, accepts anything from the first release's size up to
 * CMAMEM_STRUCT_SIZE_MAX, copies the
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
#include <linux/mm.h>
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
 * @reply: where the reply goes (@ubuffer)
 */
struct cmamem_ucmd {
	struct cmamem_file *cfile;
	void __user *ubuffer;
	u32 user_size;
	void *cmd;
	struct cmamem_reply reply;
};

/* Replies go to the caller's struct, as much of @length as it passed. */
static void cmamem_ucmd_set_reply(struct cmamem_ucmd *ucmd, size_t length)
{
	ucmd->reply.buffer = ucmd->ubuffer;
	ucmd->reply.length = min_t(size_t, ucmd->user_size, length);
}

static int cmamem_ucmd_respond(struct cmamem_ucmd *ucmd, size_t length)
{
	cmamem_ucmd_set_reply(ucmd, length);
	return cmamem_reply_write(&ucmd->reply, ucmd->cmd);
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

/* The addresses the caller may see, and the reply flags of a block. */
static void cmamem_fill_addresses(struct cmamem_block *block,
				  __u64 *dma_address,
				  __u64 *physical_address, __u32 *out_flags)
{
	*out_flags = block->pinnable ? CMAMEM_REPLY_PINNABLE : 0;
	if (cmamem_may_see_addresses()) {
		*dma_address = cmamem_block_dma_address(block);
		*physical_address = cmamem_block_physical_address(block);
	} else {
		*dma_address = 0;
		*physical_address = 0;
		*out_flags |= CMAMEM_ADDRESS_WITHHELD;
	}
}

/*
 * ALLOC and ATTACH: a request that maps the block has its reply of
 * @reply_size bytes pinned first (see cmamem_file_add_block()).
 */
static int cmamem_ucmd_add_block(struct cmamem_ucmd *ucmd,
				 const struct cmamem_block_request *request,
				 size_t reply_size,
				 const struct cmamem_reply_ops *ops)
{
	cmamem_ucmd_set_reply(ucmd, reply_size);
	return cmamem_file_add_block(ucmd->cfile, request, ops, &ucmd->reply,
				     ucmd);
}

static int cmamem_alloc_respond(void *context, struct cmamem_block *block,
				const struct cmamem_new_handle *new)
{
	struct cmamem_ucmd *ucmd = context;
	struct cmamem_alloc *cmd = ucmd->cmd;

	cmd->length = block->length;
	cmd->handle = new->id;
	cmd->mmap_offset = (u64)new->pgoff << PAGE_SHIFT;
	cmd->user_address = new->address;
	cmamem_fill_addresses(block, &cmd->dma_address,
			      &cmd->physical_address, &cmd->out_flags);
	/* To the reply cmamem_ucmd_add_block() set (and maybe pinned). */
	return cmamem_reply_write(&ucmd->reply, cmd);
}

static const struct cmamem_reply_ops cmamem_alloc_reply_ops = {
	.respond = cmamem_alloc_respond,
};

static int cmamem_ioctl_alloc(struct cmamem_ucmd *ucmd)
{
	struct cmamem_alloc *cmd = ucmd->cmd;
	struct cmamem_pool *pool = ucmd->cfile->pool;
	const struct cmamem_mode_info *mode = cmamem_mode_info(cmd->mode);
	struct cmamem_block_request request = {
		.name = cmd->name,
		.create = true,
		.alignment = cmd->alignment,
		.mode = cmd->mode,
		.pinnable = cmd->flags & CMAMEM_PINNABLE,
		.max_dma_address = cmd->max_dma_address,
		.map = cmd->flags & CMAMEM_MAP,
	};
	int ret;

	if ((cmd->flags & ~(CMAMEM_MAP | CMAMEM_PINNABLE)) || cmd->__reserved)
		return -EINVAL;
	if (!mode || !cmamem_name_valid(cmd->name))
		return -EINVAL;
	/* Only page-backed blocks can be pinned at all. */
	if (request.pinnable && !mode->page_backed)
		return -EINVAL;
	ret = cmamem_length_check(pool, cmd->length, cmd->alignment,
				  &request.length);
	if (ret)
		return ret;
	if (!cmamem_pool_serves_mode(pool, mode))
		return -EOPNOTSUPP;
	/*
	 * Where a block may lie says where it lies: a caller that may not
	 * see addresses could find them out by bisecting with the limit.
	 */
	if (cmd->max_dma_address && !cmamem_may_see_addresses())
		return -EPERM;
	ret = cmamem_limit_check(pool, request.length, cmd->alignment,
				 cmd->max_dma_address);
	if (ret)
		return ret;
	return cmamem_ucmd_add_block(ucmd, &request, sizeof(*cmd),
				     &cmamem_alloc_reply_ops);
}

static int cmamem_attach_respond(void *context, struct cmamem_block *block,
				 const struct cmamem_new_handle *new)
{
	struct cmamem_ucmd *ucmd = context;
	struct cmamem_attach *cmd = ucmd->cmd;

	cmd->handle = new->id;
	cmd->mode = block->mode;
	cmd->length = block->length;
	cmd->mmap_offset = (u64)new->pgoff << PAGE_SHIFT;
	cmd->user_address = new->address;
	cmd->owner_uid = from_kuid_munged(current_user_ns(), block->owner);
	cmamem_fill_addresses(block, &cmd->dma_address,
			      &cmd->physical_address, &cmd->out_flags);
	/* To the reply cmamem_ucmd_add_block() set (and maybe pinned). */
	return cmamem_reply_write(&ucmd->reply, cmd);
}

static const struct cmamem_reply_ops cmamem_attach_reply_ops = {
	.respond = cmamem_attach_respond,
};

static int cmamem_ioctl_attach(struct cmamem_ucmd *ucmd)
{
	struct cmamem_attach *cmd = ucmd->cmd;
	struct cmamem_block_request request = {
		.name = cmd->name,
		.owner = current_euid(),
		.map = cmd->flags & CMAMEM_MAP,
	};

	if ((cmd->flags & ~(CMAMEM_MAP | CMAMEM_OWNER)) || cmd->__reserved ||
	    cmd->__reserved2)
		return -EINVAL;
	if (!cmamem_name_valid(cmd->name))
		return -EINVAL;
	if (cmd->flags & CMAMEM_OWNER) {
		request.owner = make_kuid(current_user_ns(), cmd->owner_uid);
		if (!uid_valid(request.owner))
			return -EINVAL;
		/*
		 * Refused whether or not the user has such a block, so that
		 * the answer tells nothing about another user's names.
		 */
		if (!uid_eq(request.owner, current_euid()) &&
		    !capable(CAP_SYS_ADMIN))
			return -EPERM;
	}
	return cmamem_ucmd_add_block(ucmd, &request, sizeof(*cmd),
				     &cmamem_attach_reply_ops);
}

static int cmamem_ioctl_free(struct cmamem_ucmd *ucmd)
{
	struct cmamem_free *cmd = ucmd->cmd;

	if (cmd->flags || cmd->__reserved)
		return -EINVAL;
	return cmamem_file_free_handle(ucmd->cfile, cmd->handle);
}

static int cmamem_ioctl_sync(struct cmamem_ucmd *ucmd)
{
	struct cmamem_sync *cmd = ucmd->cmd;
	bool for_device = cmd->flags == CMAMEM_SYNC_FOR_DEVICE;
	struct cmamem_block *block;
	int ret = 0;

	if (cmd->__reserved)
		return -EINVAL;
	if (cmd->flags != CMAMEM_SYNC_FOR_CPU &&
	    cmd->flags != CMAMEM_SYNC_FOR_DEVICE)
		return -EINVAL;
	if (!cmd->length)
		return -EINVAL;

	block = cmamem_file_lookup_block(ucmd->cfile, cmd->handle, NULL);
	if (IS_ERR(block))
		return PTR_ERR(block);
	if (cmd->offset > block->length ||
	    cmd->length > block->length - cmd->offset)
		ret = -EINVAL;
	else
		cmamem_block_sync(block, cmd->offset, cmd->length, for_device,
				  for_device ? DMA_TO_DEVICE : DMA_FROM_DEVICE,
				  ucmd->cfile->file->f_mode & FMODE_WRITE);
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

	block = cmamem_file_lookup_block(ucmd->cfile, cmd->handle, &pgoff);
	if (IS_ERR(block))
		return PTR_ERR(block);
	pool = block->pool;

	cmd->mode = block->mode;
	cmd->length = block->length;
	cmd->alignment = cmamem_block_alignment(block);
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
	cmd->largest_free_bytes = snapshot.largest_free_bytes;

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

	block = cmamem_file_lookup_block(ucmd->cfile, cmd->handle, NULL);
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

static int cmamem_import_respond(void *context,
				 const struct cmamem_dmabuf_import *import,
				 u32 id)
{
	struct cmamem_ucmd *ucmd = context;
	struct cmamem_import *cmd = ucmd->cmd;

	cmd->handle = id;
	cmd->length = import->length;
	if (cmamem_may_see_addresses()) {
		cmd->dma_address = import->dma_address;
		cmd->out_flags = 0;
	} else {
		cmd->dma_address = 0;
		cmd->out_flags = CMAMEM_ADDRESS_WITHHELD;
	}
	return cmamem_ucmd_respond(ucmd, sizeof(*cmd));
}

static int cmamem_ioctl_import(struct cmamem_ucmd *ucmd)
{
	struct cmamem_import *cmd = ucmd->cmd;

	if (cmd->flags || cmd->__reserved)
		return -EINVAL;
	return cmamem_file_add_import(ucmd->cfile, cmd->fd,
				      cmamem_import_respond, ucmd);
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
	/* copy_struct_from_user() scans the tail without rescheduling. */
	if (ucmd.user_size > CMAMEM_STRUCT_SIZE_MAX)
		return -E2BIG;

	ucmd.cmd = &buffer;
	ret = copy_struct_from_user(ucmd.cmd, op->size, ucmd.ubuffer,
				    ucmd.user_size);
	if (ret)
		return ret;
	return op->execute(&ucmd);
}
