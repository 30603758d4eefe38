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
 *
 * Huge mappings (kernels with CMAMEM_HUGE_PFNMAP, see cmamem.h): a
 * mapping of a pfn-mapped block (coherent and write-combine, carveouts
 * included) that can hold a PMD entry, an aligned PMD_SIZE of the address
 * space over PMD_SIZE-aligned memory, is mapped by faults rather than all
 * at once, and a fault maps a whole PMD_SIZE with one PMD entry where the
 * VMA covers it; elsewhere it maps a page. .get_unmapped_area places
 * mappings so that their addresses line up with the physical addresses.
 * A mapping that cannot hold a PMD entry is filled at once, as on older
 * kernels. Page-backed (cached) blocks keep page entries: get_user_pages()
 * must see their pages.
 */

#include <linux/anon_inodes.h>
#include <linux/cc_platform.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/huge_mm.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/pfn_t.h>
#include <linux/sched/mm.h>

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
 * Whether the block's mappings may be mapped by faults, with PMD entries
 * where they fit (see the top of this file and cmamem_vma_maps_huge()):
 * pfn-mapped blocks on kernels that can map PFNs huge. Not where the CPU
 * encrypts memory: dma_mmap_attrs() then maps it decrypted for devices
 * that need that (force_dma_unencrypted(), which modules cannot ask), so
 * those blocks keep its mapping.
 */
static bool cmamem_block_maps_huge(const struct cmamem_block *block)
{
#ifdef CMAMEM_HUGE_PFNMAP
	return block->backing == CMAMEM_BACKING_COHERENT &&
	       !cc_platform_has(CC_ATTR_MEM_ENCRYPT);
#else
	return false;
#endif
}

/* The page frame number of the block's first page. */
static unsigned long cmamem_block_first_pfn(const struct cmamem_block *block)
{
	return PHYS_PFN(cmamem_block_physical_address(block));
}

/*
 * Whether a new mapping of the block from its page @first_page is mapped
 * by faults: where it can hold a PMD entry at all, an aligned PMD_SIZE of
 * its address space whose memory is PMD_SIZE-aligned too (mremap() keeps
 * the choice). Any other mapping gets page entries only, and
 * dma_mmap_attrs() fills those at once: no fault at all where the CPU
 * manages the dirty bit, and one at each first write where it does not,
 * instead of a fault that maps the page clean and a second one that sets
 * the dirty bit.
 */
static bool cmamem_vma_maps_huge(const struct cmamem_block *block,
				 const struct vm_area_struct *vma,
				 unsigned long first_page)
{
	unsigned long memory, first_pmd;

	if (!cmamem_block_maps_huge(block))
		return false;
	memory = PFN_PHYS(cmamem_block_first_pfn(block) + first_page);
	if ((vma->vm_start - memory) & (PMD_SIZE - 1))
		return false;
	first_pmd = ALIGN(vma->vm_start, PMD_SIZE);
	return first_pmd <= vma->vm_end && vma->vm_end - first_pmd >= PMD_SIZE;
}

/*
 * Maps a page of the block at a fault. Page-backed blocks: madvise(
 * MADV_DONTNEED), which allocators, sanitizers and garbage collectors
 * issue, zaps the entries vm_insert_pages() made, and the block's pages
 * stay the block's, so the next access finds the same data. Mappings made
 * by faults (cmamem_vma_maps_huge()): every first access, and accesses
 * after a huge entry was split (a partial munmap() or mprotect(), an
 * mremap() to an address that does not line up), since splitting a PFN
 * map's huge entry only clears it. vm_pgoff counts from the block's first
 * page (see cmamem_block_mmap()); an access past the block's end is a bus
 * error, never a page of someone else's. Other mappings of pfn-mapped
 * blocks were filled whole by dma_mmap_attrs(), refuse MADV_DONTNEED and
 * are never zapped while mapped: they never fault.
 */
static vm_fault_t cmamem_vm_fault(struct vm_fault *vmf)
{
	struct cmamem_block *block = vmf->vma->vm_private_data;

	if (vmf->pgoff >= block->length >> PAGE_SHIFT)
		return VM_FAULT_SIGBUS;
	if (block->pages)
		return vmf_insert_page(vmf->vma, vmf->address,
				       block->pages[vmf->pgoff]);
	if (cmamem_block_maps_huge(block))
		return vmf_insert_pfn(vmf->vma, vmf->address,
				      cmamem_block_first_pfn(block) +
				      vmf->pgoff);
	return VM_FAULT_SIGBUS;
}

static const struct vm_operations_struct cmamem_vm_ops = {
	.open = cmamem_vm_open,
	.close = cmamem_vm_close,
	.fault = cmamem_vm_fault,
};

#ifdef CMAMEM_HUGE_PFNMAP
/*
 * The page protection dma_mmap_attrs() would give the block's mapping:
 * dma_pgprot() (kernel/dma/mapping.c), which modules cannot call.
 */
static pgprot_t cmamem_dma_pgprot(const struct cmamem_block *block,
				  pgprot_t protection)
{
	const struct cmamem_mode_info *mode = cmamem_block_mode(block);

	if (dev_is_dma_coherent(block->pool->dma_dev))
		return protection;
	if (IS_ENABLED(CONFIG_ARCH_HAS_DMA_WRITE_COMBINE) &&
	    (mode->dma_attrs & DMA_ATTR_WRITE_COMBINE))
		return pgprot_writecombine(protection);
	return pgprot_dmacoherent(protection);
}

/*
 * Maps the PMD_SIZE around the faulting address with one PMD entry, if
 * the VMA covers all of it and its memory is PMD_SIZE-aligned; otherwise
 * the core falls back to cmamem_vm_fault(), page by page. Larger (PUD)
 * entries are not tried: no block a CMA area holds is that large.
 */
static vm_fault_t cmamem_vm_huge_fault(struct vm_fault *vmf,
				       unsigned int order)
{
	struct vm_area_struct *vma = vmf->vma;
	struct cmamem_block *block = vma->vm_private_data;
	unsigned long address = ALIGN_DOWN(vmf->address, PMD_SIZE);
	unsigned long pgoff;
	unsigned long pfn;
	vm_fault_t ret;

	if (order != PMD_ORDER || address < vma->vm_start ||
	    address + PMD_SIZE > vma->vm_end)
		return VM_FAULT_FALLBACK;
	pgoff = vma->vm_pgoff + ((address - vma->vm_start) >> PAGE_SHIFT);
	pfn = cmamem_block_first_pfn(block) + pgoff;
	if (!IS_ALIGNED(pfn, 1UL << PMD_ORDER) ||
	    pgoff + (1UL << PMD_ORDER) > block->length >> PAGE_SHIFT)
		return VM_FAULT_FALLBACK;
	/*
	 * As vfio-pci: a special entry, writable as the VMA allows. A first
	 * access that writes gets the entry dirty at once: a CPU without
	 * hardware dirty-bit management (Cortex-A57, A72) would otherwise
	 * fault once more, for every PMD, to set the dirty bit.
	 */
	ret = vmf_insert_pfn_pmd(vmf, __pfn_to_pfn_t(pfn, PFN_DEV),
				 vmf->flags & FAULT_FLAG_WRITE);
	if (ret == VM_FAULT_NOPAGE)
		atomic64_inc(&block->pool->huge_faults);
	return ret;
}

static const struct vm_operations_struct cmamem_huge_vm_ops = {
	.open = cmamem_vm_open,
	.close = cmamem_vm_close,
	.fault = cmamem_vm_fault,
	.huge_fault = cmamem_vm_huge_fault,
};

/**
 * cmamem_block_get_unmapped_area() - place a mapping of a block
 * @block: the block, kept alive by the caller
 * @first_page: the block's page the mapping would start at
 * @file: the file being mapped
 * @address: the caller's hint (or the MAP_FIXED address)
 * @length: the mapping's length
 * @pgoff: the mmap() page offset
 * @flags: the mmap() flags
 *
 * For a block mapped huge, thp_get_unmapped_area() finds a free range
 * whose distance to a PMD boundary is that of the page offset it is given,
 * when the mapping can hold a whole PMD_SIZE at all and the process is
 * 64-bit; otherwise any free range. What has to line up for a PMD entry is
 * the physical address, so that is the offset it is given: the file
 * offset only names a handle. Architectures with huge PFN maps do not
 * colour mappings by offset, so the fallback does not care either.
 *
 * Return: the address, or a negative errno (test with IS_ERR_VALUE()).
 */
unsigned long cmamem_block_get_unmapped_area(struct cmamem_block *block,
					     unsigned long first_page,
					     struct file *file,
					     unsigned long address,
					     unsigned long length,
					     unsigned long pgoff,
					     unsigned long flags)
{
	if (cmamem_block_maps_huge(block))
		return thp_get_unmapped_area(file, address, length,
					     cmamem_block_first_pfn(block) +
					     first_page, flags);
	return mm_get_unmapped_area(current->mm, file, address, length, pgoff,
				    flags);
}
#endif

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
 * Maps @first_page.. of the block. Every path leaves vm_pgoff relative to
 * the block's own memory, as drm_gem_dma_mmap() does: the file offset only
 * served to find the block.
 *
 * Mappings made by faults (@huge, see cmamem_vma_maps_huge()) get no
 * entries yet, only what dma_mmap_attrs() would set up (its page
 * protection, and the flags of remap_pfn_range()). Other mappings of
 * coherent and write-combine blocks go through dma_mmap_attrs(), which
 * picks the page protection the device needs and maps the allocation's
 * pfns. Cached blocks are mapped page by page with
 * vm_insert_pages(), so the pages are normal and refcounted, and reachable
 * by get_user_pages() (O_DIRECT, pinning) when the block is pinnable;
 * their pages are never tail pages without a count of their own (see
 * cmamem_pages_refcounted()).
 */
static int cmamem_block_mmap(struct cmamem_block *block,
			     struct vm_area_struct *vma,
			     unsigned long first_page, bool huge)
{
	unsigned long count = vma_pages(vma);

#ifdef CMAMEM_HUGE_PFNMAP
	if (huge) {
		vma->vm_pgoff = first_page;
		vma->vm_page_prot = cmamem_dma_pgprot(block, vma->vm_page_prot);
		cmamem_vma_flags_mod(vma, VM_IO | VM_PFNMAP, 0);
		return 0;
	}
#endif
	if (block->backing == CMAMEM_BACKING_COHERENT) {
		vma->vm_pgoff = (block->window_offset >> PAGE_SHIFT) +
				first_page;
		return dma_mmap_attrs(block->pool->dma_dev, vma,
				      block->cpu_address, block->alloc_dma,
				      block->alloc_size,
				      cmamem_block_mode(block)->dma_attrs);
	}

	vma->vm_pgoff = first_page;
	/* VM_IO: get_user_pages() refuses the VMA (cmamem_block_pinnable()). */
	cmamem_vma_flags_mod(vma, VM_MIXEDMAP | (block->pinnable ? 0 : VM_IO),
			     0);
	return vm_insert_pages(vma, vma->vm_start, block->pages + first_page,
			       &count);
}

/* The vm_operations of a mapping made by faults (@huge) or not. */
static const struct vm_operations_struct *cmamem_vm_ops_of(bool huge)
{
#ifdef CMAMEM_HUGE_PFNMAP
	if (huge)
		return &cmamem_huge_vm_ops;
#endif
	return &cmamem_vm_ops;
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
	bool huge = cmamem_vma_maps_huge(block, vma, first_page);
	int ret;

	/* Never executable, never grown by mremap(), never in a core dump. */
	cmamem_vma_flags_mod(vma, VM_DONTEXPAND | VM_DONTDUMP, VM_MAYEXEC);
	/* The core unmaps whatever was inserted on failure. */
	ret = cmamem_block_mmap(block, vma, first_page, huge);
	if (ret)
		return ret;
	cmamem_block_get(block);
	vma->vm_private_data = block;
	vma->vm_ops = cmamem_vm_ops_of(huge);
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
 * cmamem_unmap_from_caller() - unmap what cmamem_map_into_caller() mapped,
 * for the legacy CMEM_UNMAP
 * @block: the block
 * @address: where it was mapped
 * @length: the block's length
 *
 * The process may have unmapped the range and put something else there
 * since, so the VMA is checked first: only a mapping of exactly this
 * block, starting at @address and @length long, is unmapped. A range the
 * process changed itself is left alone (it then keeps the block alive
 * until it unmaps it). The check and vm_munmap() are not one step (no
 * exported call unmaps under a lock the caller holds): a thread that
 * replaces this very mapping while another thread asks CMEM_UNMAP to
 * unmap it races with itself, as with munmap(). Nothing that adds a block
 * ever needs this (see cmamem_file_add_block()).
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
	       (vma->vm_ops == cmamem_vm_ops_of(false) ||
		vma->vm_ops == cmamem_vm_ops_of(true)) &&
	       vma->vm_private_data == block;
	mmap_read_unlock(mm);
	if (ours)
		vm_munmap(address, length);
}
