// SPDX-License-Identifier: GPL-2.0
/*
 * cmamem mmap: mapping blocks into user space, a view of a block.
 *
 * mmap() of a pool file maps (part of) one block: the page offset selects a
 * handle's range in the file's offset tree (file.c finds it). Every VMA holds a reference on
 * its block and counts in &cmamem_block.mappings; the vm_operations keep
 * both right when a VMA is copied (fork), split (partial munmap or
 * mprotect) or moved (mremap), so a mapping can never outlive its memory.
 *
 * A VMA does not point at the pool file it was made through, but at an
 * anonymous file of its block (as dma-buf importers point theirs at the
 * dma-buf's file). Closing the pool file thus drops its handles, and
 * unpublishes names, even while blocks are still mapped; the block's file
 * keeps the module loaded for as long as the vm_operations are in use.
 */

#include <linux/anon_inodes.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/mman.h>

#include "cmamem.h"

static void cmamem_vma_flags_mod(struct vm_area_struct *vma,
				 vm_flags_t set, vm_flags_t clear)
{
#ifdef CMAMEM_HAVE_VM_FLAGS_MOD
	vm_flags_mod(vma, set, clear);
#else
	vma->vm_flags = (vma->vm_flags | set) & ~clear;
#endif
}

/* A new VMA of the block: fork, or the second half of a split. */
static void cmamem_vm_open(struct vm_area_struct *vma)
{
	struct cmamem_block *block = vma->vm_private_data;

	cmamem_block_get(block);
	atomic_inc(&block->mappings);
}

/* Called after the VMA's page table entries are gone. */
static void cmamem_vm_close(struct vm_area_struct *vma)
{
	struct cmamem_block *block = vma->vm_private_data;

	atomic_dec(&block->mappings);
	cmamem_block_put(block);
}

/*
 * Maps a page of a page-backed block again after the kernel dropped it
 * from the page tables: madvise(MADV_DONTNEED), which allocators,
 * sanitizers and garbage collectors issue, zaps the entries
 * vm_insert_pages() made, and the block's pages stay the block's, so the
 * next access finds the same data. vm_pgoff counts from the block's first
 * page (see cmamem_block_mmap()); an access past the block's end is a bus
 * error, never a page of someone else's. Pfn-mapped blocks (coherent and
 * write-combine) refuse MADV_DONTNEED and are never zapped while mapped.
 */
static vm_fault_t cmamem_vm_fault(struct vm_fault *vmf)
{
	struct cmamem_block *block = vmf->vma->vm_private_data;

	if (!block->pages || vmf->pgoff >= block->length >> PAGE_SHIFT)
		return VM_FAULT_SIGBUS;
	return vmf_insert_page(vmf->vma, vmf->address,
			       block->pages[vmf->pgoff]);
}

static const struct vm_operations_struct cmamem_vm_ops = {
	.open = cmamem_vm_open,
	.close = cmamem_vm_close,
	.fault = cmamem_vm_fault,
};

/* Nothing can open these files; they only pin the module. */
static const struct file_operations cmamem_block_fops = {
	.owner = THIS_MODULE,
};

/* The block's anonymous file, made on first use; may sleep. */
static struct file *cmamem_block_file(struct cmamem_block *block)
{
	struct file *file;

	/* Pairs with the cmpxchg_release() that published the file. */
	file = smp_load_acquire(&block->file);
	if (file)
		return file;
	file = anon_inode_getfile(KBUILD_MODNAME, &cmamem_block_fops, block,
				  O_RDWR);
	if (IS_ERR(file))
		return file;
	/* Two first mappings may race; one file wins, the other goes. */
	if (cmpxchg_release(&block->file, NULL, file)) {
		fput(file);
		/* Pairs with the winner's cmpxchg_release(). */
		file = smp_load_acquire(&block->file);
	}
	return file;
}

/*
 * Maps @first_page.. of the block. Both paths leave vm_pgoff relative to
 * the block's own memory, as drm_gem_dma_mmap() does: the file offset only
 * served to find the block.
 *
 * Coherent and write-combine blocks go through dma_mmap_attrs(), which
 * picks the page protection the device needs and maps the allocation's
 * pfns. Cached blocks are mapped page by page with vm_insert_pages(), so
 * the pages are normal and refcounted, and reachable by get_user_pages()
 * (O_DIRECT, pinning) when the block is pinnable; their pages are never
 * tail pages without a count of their own (see cmamem_pages_refcounted()).
 */
static int cmamem_block_mmap(struct cmamem_block *block,
			     struct vm_area_struct *vma,
			     unsigned long first_page)
{
	unsigned long count = vma_pages(vma);

	if (block->backing == CMAMEM_BACKING_COHERENT) {
		vma->vm_pgoff = (block->window_offset >> PAGE_SHIFT) +
				first_page;
		return dma_mmap_attrs(block->pool->dma_dev, vma,
				      block->cpu_address, block->alloc_dma,
				      block->alloc_size,
				      cmamem_mode_info(block->mode)->dma_attrs);
	}

	vma->vm_pgoff = first_page;
	/* VM_IO: get_user_pages() refuses the VMA (cmamem_block_pinnable()). */
	cmamem_vma_flags_mod(vma, VM_MIXEDMAP | (block->pinnable ? 0 : VM_IO),
			     0);
	return vm_insert_pages(vma, vma->vm_start, block->pages + first_page,
			       &count);
}

/**
 * cmamem_mmap_check() - may this new VMA map a block?
 * @vma: the new mapping
 *
 * Return: 0, -EINVAL for a private mapping, or -EPERM for an executable
 * one.
 */
int cmamem_mmap_check(struct vm_area_struct *vma)
{
	/*
	 * VM_MAYSHARE, not VM_SHARED: the core drops VM_SHARED from a
	 * MAP_SHARED mapping of a file not open for writing.
	 */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (vma->vm_flags & VM_EXEC)
		return -EPERM;
	return 0;
}

/**
 * cmamem_block_mmap_vma() - map a block into a new VMA
 * @block: the block, kept alive by the caller
 * @vma: the new mapping, checked by cmamem_mmap_check() and within the
 *	block (checked by the caller)
 * @first_page: the block's page the mapping starts at
 *
 * The VMA takes a reference on the block and counts in
 * &cmamem_block.mappings; it keeps the file it was made through (a
 * dma-buf's mapping keeps the dma-buf).
 *
 * Return: 0 or the error of the mapping itself.
 */
int cmamem_block_mmap_vma(struct cmamem_block *block,
			  struct vm_area_struct *vma, unsigned long first_page)
{
	int ret;

	/* Never executable, never grown by mremap(), never in a core dump. */
	cmamem_vma_flags_mod(vma, VM_DONTEXPAND | VM_DONTDUMP, VM_MAYEXEC);
	/* The core unmaps whatever was inserted on failure. */
	ret = cmamem_block_mmap(block, vma, first_page);
	if (ret)
		return ret;
	cmamem_block_get(block);
	vma->vm_private_data = block;
	vma->vm_ops = &cmamem_vm_ops;
	atomic_inc(&block->mappings);
	return 0;
}

/**
 * cmamem_block_mmap_detached() - map a block, detached from the pool file
 * @block: the block, kept alive by the caller
 * @vma: as for cmamem_block_mmap_vma(), made through a pool file
 * @first_page: the block's page the mapping starts at
 *
 * As cmamem_block_mmap_vma(), but the VMA points at the block's own file
 * instead of the pool file, so that the mapping does not keep the pool
 * file and its handles open.
 *
 * Return: 0, -ENOMEM, or the error of the mapping itself.
 */
int cmamem_block_mmap_detached(struct cmamem_block *block,
			       struct vm_area_struct *vma,
			       unsigned long first_page)
{
	struct file *block_file;
	int ret;

	block_file = cmamem_block_file(block);
	if (IS_ERR(block_file))
		return PTR_ERR(block_file);
	ret = cmamem_block_mmap_vma(block, vma, first_page);
	if (ret)
		return ret;
	vma_set_file(vma, block_file);
	return 0;
}

/**
 * cmamem_map_into_caller() - map a whole block into the calling process
 * @file: the open pool file holding a handle on the block
 * @pgoff: the handle's first mmap page offset
 * @length: the block's length
 *
 * Must be called without any cmamem lock held: vm_mmap() takes mmap_lock
 * and calls the file's .mmap.
 *
 * Return: the address of the shared, readable and writable mapping, or a
 * negative errno (test with IS_ERR_VALUE()).
 */
unsigned long cmamem_map_into_caller(struct file *file, unsigned long pgoff,
				     u64 length)
{
	return vm_mmap(file, 0, length, PROT_READ | PROT_WRITE,
		       MAP_SHARED, pgoff << PAGE_SHIFT);
}

/**
 * cmamem_unmap_from_caller() - undo cmamem_map_into_caller()
 * @block: the block
 * @address: where it was mapped
 * @length: the block's length
 *
 * Another thread of the process may have unmapped the range and put
 * something else there in the meantime, so the VMA is checked first:
 * only a mapping of exactly this block, starting at @address and @length
 * long, is unmapped. A range the process changed
 * itself is left alone (it then keeps the block alive until it unmaps it).
 * Must be called without any cmamem lock held.
 */
void cmamem_unmap_from_caller(struct cmamem_block *block,
			      unsigned long address, u64 length)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	bool ours;

	mmap_read_lock(mm);
	vma = vma_lookup(mm, address);
	ours = vma && vma->vm_start == address &&
	       vma->vm_end - vma->vm_start == length &&
	       vma->vm_ops == &cmamem_vm_ops &&
	       vma->vm_private_data == block;
	mmap_read_unlock(mm);
	if (ours)
		vm_munmap(address, length);
}
