// SPDX-License-Identifier: GPL-2.0
/*
 * cmamem legacy ABI: /dev/cma_mem with the ioctls of the classic cma_mem
 * driver, for programs that cannot be rebuilt (module parameter legacy=1),
 * on top of the file layer (file.c) as the cmamem ABI (ioctl.c) is.
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

/**
 * struct cmamem_legacy_reply - what CMEM_ALLOCATE answers with
 * @argument: the caller's struct
 * @request: the request as read, completed into the reply
 */
struct cmamem_legacy_reply {
	void __user *argument;
	struct cmamem_legacy_block *request;
};

static int cmamem_legacy_allocate_respond(void *context,
					  struct cmamem_block *block,
					  const struct cmamem_new_handle *new)
{
	struct cmamem_legacy_reply *reply = context;
	struct cmamem_legacy_block *request = reply->request;
	bool see_addresses = cmamem_may_see_addresses();

	/*
	 * On a 32-bit LPAE kernel a block above 4 GiB has an address the
	 * native struct's unsigned long cannot hold: refuse it (the block is
	 * then taken back) rather than report a truncated one, as the compat
	 * layout does with its 32-bit fields.
	 */
	if (see_addresses && (u64)block->dma_address > ULONG_MAX)
		return -EOVERFLOW;
	request->id = new->id;
	request->offset = new->pgoff << PAGE_SHIFT;
	request->len = block->length;
	request->phy_base = see_addresses ? block->dma_address : 0;
	request->mem_base = new->address;
	request->kernel_base = 0;
	return cmamem_legacy_write(reply->argument, request);
}

static int cmamem_legacy_allocate(struct cmamem_file *cfile,
				  void __user *argument)
{
	struct cmamem_legacy_block request;
	struct cmamem_legacy_reply reply = {
		.argument = argument,
		.request = &request,
	};
	char name[CMAMEM_NAME_SIZE];
	struct cmamem_block_request block_request = {
		.name = name,
		.create = true,
		.map = true,
	};
	int ret;

	ret = cmamem_legacy_read(argument, &request);
	if (ret)
		return ret;
	ret = cmamem_legacy_name(&request, name);
	if (ret)
		return ret;
	ret = cmamem_length_check(cfile->pool, request.len, 0,
				  &block_request.length);
	if (ret)
		return ret;
	block_request.mode = cmamem_mode_info(request.is_use_buffer ?
					      CMAMEM_MODE_WRITECOMBINE :
					      CMAMEM_MODE_COHERENT);
	return cmamem_file_add_block(cfile, &block_request,
				     cmamem_legacy_allocate_respond, &reply);
}

static int cmamem_legacy_unmap(struct cmamem_file *cfile,
			       void __user *argument)
{
	struct cmamem_legacy_block request;
	char name[CMAMEM_NAME_SIZE];
	int ret;

	ret = cmamem_legacy_read(argument, &request);
	if (ret)
		return ret;
	ret = cmamem_legacy_name(&request, name);
	if (ret)
		return ret;
	return cmamem_file_free_named(cfile, name);
}

/**
 * cmamem_legacy_ioctl() - the .unlocked_ioctl of /dev/cma_mem
 * @file: the open file
 * @command: CMEM_ALLOCATE or CMEM_UNMAP
 * @argument: user pointer to a &struct cmamem_legacy_block (or its 32-bit
 *	layout from a compat caller)
 *
 * Return: 0 or a negative errno as docs/design.md and cmamem(4) document.
 */
long cmamem_legacy_ioctl(struct file *file, unsigned int command,
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
