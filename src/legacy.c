// SPDX-License-Identifier: GPL-2.0
/*
 * cmamem legacy ABI: /dev/cma_mem with the ioctls of the classic cma_mem
 * driver, for programs that cannot be rebuilt (module parameter legacy=1).
 *
 * Blocks come from the default pool and share its names. CMEM_ALLOCATE
 * allocates a named block, maps it into the caller and returns the
 * address; CMEM_UNMAP finds one of the caller's blocks by name, unmaps
 * and frees it. Unlike the original driver, the blocks are the same
 * reference-counted blocks as everywhere else (memory stays allocated as
 * long as the caller still maps it), and DMA addresses are shown only to
 * privileged callers. Both the 64-bit and the 32-bit (compat) struct
 * layouts work.
 */

#include <linux/compat.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "cmamem.h"

#define CMEM_IOCTL_MAGIC	'm'
#define CMEM_UNMAP		_IOW(CMEM_IOCTL_MAGIC, 4, unsigned int)
#define CMEM_ALLOCATE		_IOW(CMEM_IOCTL_MAGIC, 5, unsigned int)

#define CMAMEM_LEGACY_NAME_SIZE	10

/**
 * struct cmamem_legacy_block - the cma_mem driver's struct mem_block
 * @name: in: NUL-terminated name
 * @is_use_buffer: in: non-zero for write-combine, zero for coherent
 * @id: out: the handle
 * @offset: out: the block's mmap offset on this file
 * @len: in: bytes wanted; out: rounded up to whole pages
 * @phy_base: out: the DMA address, or 0 for unprivileged callers
 * @mem_base: out: where the block is mapped into the caller
 * @kernel_base: out: always 0 (a void pointer in user space)
 */
struct cmamem_legacy_block {
	char name[CMAMEM_LEGACY_NAME_SIZE];
	char is_use_buffer;
	int id;
	unsigned long offset;
	unsigned long len;
	unsigned long phy_base;
	unsigned long mem_base;
	unsigned long kernel_base;
};

#ifdef CONFIG_COMPAT
/**
 * struct cmamem_legacy_block32 - struct mem_block of 32-bit programs
 * @name: as in &struct cmamem_legacy_block
 * @is_use_buffer: as in &struct cmamem_legacy_block
 * @id: as in &struct cmamem_legacy_block
 * @offset: as in &struct cmamem_legacy_block
 * @len: as in &struct cmamem_legacy_block
 * @phy_base: as in &struct cmamem_legacy_block
 * @mem_base: as in &struct cmamem_legacy_block
 * @kernel_base: as in &struct cmamem_legacy_block
 */
struct cmamem_legacy_block32 {
	char name[CMAMEM_LEGACY_NAME_SIZE];
	char is_use_buffer;
	compat_int_t id;
	compat_ulong_t offset;
	compat_ulong_t len;
	compat_ulong_t phy_base;
	compat_ulong_t mem_base;
	compat_uptr_t kernel_base;
};

static int cmamem_legacy_read32(void __user *argument,
				struct cmamem_legacy_block *request)
{
	struct cmamem_legacy_block32 request32;

	if (copy_from_user(&request32, argument, sizeof(request32)))
		return -EFAULT;
	memcpy(request->name, request32.name, sizeof(request->name));
	request->is_use_buffer = request32.is_use_buffer;
	request->id = request32.id;
	request->offset = request32.offset;
	request->len = request32.len;
	request->phy_base = request32.phy_base;
	request->mem_base = request32.mem_base;
	request->kernel_base = request32.kernel_base;
	return 0;
}

static int cmamem_legacy_write32(void __user *argument,
				 const struct cmamem_legacy_block *reply)
{
	struct cmamem_legacy_block32 reply32 = {};

	if (reply->offset > U32_MAX || reply->len > U32_MAX ||
	    reply->phy_base > U32_MAX || reply->mem_base > U32_MAX)
		return -EOVERFLOW;
	memcpy(reply32.name, reply->name, sizeof(reply32.name));
	reply32.is_use_buffer = reply->is_use_buffer;
	reply32.id = reply->id;
	reply32.offset = reply->offset;
	reply32.len = reply->len;
	reply32.phy_base = reply->phy_base;
	reply32.mem_base = reply->mem_base;
	reply32.kernel_base = 0;
	if (copy_to_user(argument, &reply32, sizeof(reply32)))
		return -EFAULT;
	return 0;
}
#endif /* CONFIG_COMPAT */

static int cmamem_legacy_read(void __user *argument,
			      struct cmamem_legacy_block *request)
{
#ifdef CONFIG_COMPAT
	if (in_compat_syscall())
		return cmamem_legacy_read32(argument, request);
#endif
	if (copy_from_user(request, argument, sizeof(*request)))
		return -EFAULT;
	return 0;
}

static int cmamem_legacy_write(void __user *argument,
			       const struct cmamem_legacy_block *reply)
{
#ifdef CONFIG_COMPAT
	if (in_compat_syscall())
		return cmamem_legacy_write32(argument, reply);
#endif
	if (copy_to_user(argument, reply, sizeof(*reply)))
		return -EFAULT;
	return 0;
}

/*
 * The name must end within its 10 bytes; what follows the NUL is ignored,
 * as the original driver did. It becomes a zero-padded pool name, which
 * must also be valid as one.
 */
static int cmamem_legacy_name(const struct cmamem_legacy_block *request,
			      char *name)
{
	size_t length = strnlen(request->name, CMAMEM_LEGACY_NAME_SIZE);

	if (length == CMAMEM_LEGACY_NAME_SIZE)
		return -EINVAL;
	memset(name, 0, CMAMEM_NAME_SIZE);
	memcpy(name, request->name, length);
	return cmamem_name_valid(name) ? 0 : -EINVAL;
}

/* Remembers where CMEM_ALLOCATE mapped the block, for CMEM_UNMAP. */
static void cmamem_legacy_set_address(struct cmamem_file *cfile,
				      struct cmamem_block *block, u32 id,
				      unsigned long address)
{
	struct cmamem_handle *handle;

	mutex_lock(&cfile->lock);
	handle = xa_load(&cfile->handles, id);
	if (handle && handle->block == block)
		handle->legacy_address = address;
	mutex_unlock(&cfile->lock);
}

static int cmamem_legacy_allocate(struct cmamem_file *cfile,
				  void __user *argument)
{
	struct cmamem_pool *pool = cfile->pool;
	struct cmamem_legacy_block request;
	struct cmamem_new_handle handle;
	char name[CMAMEM_NAME_SIZE];
	struct cmamem_block *block;
	u32 mode;
	u64 length;
	int ret;

	ret = cmamem_legacy_read(argument, &request);
	if (ret)
		return ret;
	ret = cmamem_legacy_name(&request, name);
	if (ret)
		return ret;
	ret = cmamem_length_check(pool, request.len, 0, &length);
	if (ret)
		return ret;
	if ((cfile->file->f_mode & (FMODE_READ | FMODE_WRITE)) !=
	    (FMODE_READ | FMODE_WRITE))
		return -EACCES;
	mode = request.is_use_buffer ? CMAMEM_MODE_WRITECOMBINE :
				       CMAMEM_MODE_COHERENT;

	ret = cmamem_file_reserve(cfile, length);
	if (ret)
		return ret;
	block = cmamem_block_create(pool, name, length, 0, mode);
	if (IS_ERR(block)) {
		cmamem_file_unreserve(cfile, length);
		return PTR_ERR(block);
	}
	cmamem_block_get(block);
	ret = cmamem_handle_open(cfile, block, true, &handle);
	if (ret)
		goto out_put_block;
	cmamem_legacy_set_address(cfile, block, handle.id, handle.address);

	request.id = handle.id;
	request.offset = handle.pgoff << PAGE_SHIFT;
	request.len = length;
	request.phy_base = cmamem_may_see_addresses() ? block->dma_address : 0;
	request.mem_base = handle.address;
	request.kernel_base = 0;
	ret = cmamem_legacy_write(argument, &request);
	if (ret)
		cmamem_handle_undo(cfile, block, &handle);
out_put_block:
	cmamem_block_put(block);
	return ret;
}

static int cmamem_legacy_unmap(struct cmamem_file *cfile,
			       void __user *argument)
{
	struct cmamem_legacy_block request;
	struct cmamem_block *block = NULL;
	struct cmamem_handle *handle;
	struct cmamem_block *removed;
	char name[CMAMEM_NAME_SIZE];
	unsigned long address, id;
	int ret;

	ret = cmamem_legacy_read(argument, &request);
	if (ret)
		return ret;
	ret = cmamem_legacy_name(&request, name);
	if (ret)
		return ret;

	/* A legacy file holds only blocks its own CMEM_ALLOCATE made. */
	mutex_lock(&cfile->lock);
	xa_for_each(&cfile->handles, id, handle) {
		if (!memcmp(handle->block->name, name, CMAMEM_NAME_SIZE)) {
			block = handle->block;
			cmamem_block_get(block);
			break;
		}
	}
	mutex_unlock(&cfile->lock);
	if (!block)
		return -ENOENT;

	removed = cmamem_handle_remove(cfile, id, block, &address);
	if (IS_ERR(removed)) {
		/* Another thread's CMEM_UNMAP got there first. */
		ret = PTR_ERR(removed);
		goto out_put_block;
	}
	if (address)
		cmamem_unmap_from_caller(block, address, block->length);
	cmamem_block_put_handle(removed);
out_put_block:
	cmamem_block_put(block);
	return ret;
}

static long cmamem_legacy_ioctl(struct file *file, unsigned int command,
				unsigned long argument)
{
	struct cmamem_file *cfile = file->private_data;

	switch (command) {
	case CMEM_ALLOCATE:
		return cmamem_legacy_allocate(cfile, (void __user *)argument);
	case CMEM_UNMAP:
		return cmamem_legacy_unmap(cfile, (void __user *)argument);
	default:
		return -ENOTTY;
	}
}

static int cmamem_legacy_open(struct inode *inode, struct file *file)
{
	return cmamem_file_open(cmamem_default_pool, file, true);
}

static int cmamem_legacy_release(struct inode *inode, struct file *file)
{
	cmamem_file_close(file->private_data);
	return 0;
}

static const struct file_operations cmamem_legacy_fops = {
	.owner = THIS_MODULE,
	.open = cmamem_legacy_open,
	.release = cmamem_legacy_release,
	.mmap = cmamem_mmap,
	.unlocked_ioctl = cmamem_legacy_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice cmamem_legacy_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "cma_mem",
	.fops = &cmamem_legacy_fops,
};

/**
 * cmamem_legacy_init() - create /dev/cma_mem on the default pool
 *
 * Return: 0 or misc_register()'s error.
 */
int cmamem_legacy_init(void)
{
	return misc_register(&cmamem_legacy_misc);
}

/**
 * cmamem_legacy_exit() - remove /dev/cma_mem
 */
void cmamem_legacy_exit(void)
{
	misc_deregister(&cmamem_legacy_misc);
}
