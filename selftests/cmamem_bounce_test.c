// SPDX-License-Identifier: GPL-2.0
/*
 * cmamem on a kernel that bounces every streaming DMA mapping through
 * swiotlb (swiotlb=force on the command line; confidential-computing
 * guests do the same). A bounce slot is not the block: an engine given its
 * address never touches the block's memory, and nothing would copy between
 * the two. So every block must still be its own memory at the DMA address
 * the reply gives, and whatever would be bounced (a cached block the page
 * allocator served with the CMA area full, an importer's mapping of a
 * block, a dma-buf bounced for the pool's device) is refused with a clear
 * error, leaving nothing behind.
 *
 * Target arm64-debug-bounce boots the debug kernel with swiotlb=force and
 * runs this program and the engine test; everywhere else it skips.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cmamem_dmabuf_util.h"
#include "cmamem_util.h"
#include "kselftest_harness.h"

#define BOUNCE_BLOCK_LENGTH	(1 * CMAMEM_MIB)
/*
 * Filling the default CMA area: 1 MiB blocks until CMA has no such range,
 * then 64 KiB ones. swiotlb maps at most 256 KiB at a time
 * (IO_TLB_SEGSIZE slots of 2 KiB), so a 1 MiB block from the page
 * allocator cannot be mapped at all and a 64 KiB one gets a bounce slot:
 * the two ways the pool sees that the device would not reach it.
 */
#define FILL_LARGE_BYTES	(1 * CMAMEM_MIB)
#define FILL_SMALL_BYTES	(64 * 1024)
#define FILL_MAX_BLOCKS		4096

FIXTURE(bounce) {
	int fd;
	struct cmamem_pool_info before;
};

FIXTURE_VARIANT(bounce) {
	__u32 mode;
};

CMAMEM_MODE_VARIANTS(bounce);

FIXTURE_SETUP(bounce)
{
	self->fd = -1;
	if (!cmamem_is_root())
		SKIP(return, "needs root to see DMA and physical addresses");
	if (!cmamem_swiotlb_forced())
		SKIP(return, "swiotlb is not forced (target arm64-debug-bounce boots with swiotlb=force)");
	self->fd = open(CMAMEM_DEFAULT_POOL_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("no /dev/cmamem (is cmamem loaded?)");
	ASSERT_EQ(0, cmamem_pool_info(self->fd, &self->before));
}

/* Every test gives back every block it allocated. */
FIXTURE_TEARDOWN(bounce)
{
	if (self->fd < 0)
		return;
	CMAMEM_EXPECT_POOL_AS_BEFORE(self->fd, &self->before);
	close(self->fd);
}

/*
 * A block of every mode is allocated, and its DMA address is its physical
 * address (the test board's pool device has no DMA offset): the block
 * itself, not a bounce slot. A cached block's mapping shows root the same
 * page frames; pagemap reports the pfn mappings of coherent and wc blocks
 * as not present. Data written through the mapping and synced is there.
 */
TEST_F(bounce, block_is_its_own_memory)
{
	struct cmamem_alloc alloc;
	void *view;

	ASSERT_EQ(0, cmamem_alloc_block(self->fd, "bounce", BOUNCE_BLOCK_LENGTH,
					variant->mode, &alloc))
		TH_LOG("%s block: %s", cmamem_mode_name(variant->mode),
		       strerror(errno));
	EXPECT_EQ(alloc.physical_address, alloc.dma_address);
	view = cmamem_map(self->fd, alloc.mmap_offset, BOUNCE_BLOCK_LENGTH,
			  PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, view);
	if (variant->mode == CMAMEM_MODE_CACHED)
		EXPECT_EQ(-1, cmamem_pages_not_at(view, BOUNCE_BLOCK_LENGTH,
						  alloc.dma_address));
	cmamem_fill(view, BOUNCE_BLOCK_LENGTH, 0xb0c0);
	EXPECT_EQ(0, cmamem_sync(self->fd, alloc.handle,
				 CMAMEM_SYNC_FOR_DEVICE, 0,
				 BOUNCE_BLOCK_LENGTH));
	EXPECT_EQ(0, cmamem_sync(self->fd, alloc.handle, CMAMEM_SYNC_FOR_CPU,
				 0, BOUNCE_BLOCK_LENGTH));
	EXPECT_EQ(-1, cmamem_check(view, BOUNCE_BLOCK_LENGTH, 0xb0c0));
	EXPECT_EQ(0, munmap(view, BOUNCE_BLOCK_LENGTH));
	EXPECT_EQ(0, cmamem_free(self->fd, alloc.handle));
}

/*
 * Allocates @length-byte cached blocks into @handles (from *@count on)
 * until one is refused; returns that error. Every block given must lie in
 * CMA (not pinnable) at its physical address.
 */
static int fill_until_refused(struct __test_metadata *_metadata, int fd,
			      __u64 length, __u32 *handles, int *count)
{
	struct cmamem_alloc alloc;
	int result = 0;

	while (*count < FILL_MAX_BLOCKS) {
		result = cmamem_alloc_block(fd, "bounce-fill", length,
					    CMAMEM_MODE_CACHED, &alloc);
		if (result)
			break;
		handles[(*count)++] = alloc.handle;
		EXPECT_FALSE(alloc.out_flags & CMAMEM_REPLY_PINNABLE)
			TH_LOG("block %d of %llu bytes outside CMA at DMA address %#llx, physical %#llx",
			       *count, (unsigned long long)length,
			       (unsigned long long)alloc.dma_address,
			       (unsigned long long)alloc.physical_address);
		EXPECT_EQ(alloc.physical_address, alloc.dma_address);
	}
	return result;
}

/*
 * With the default CMA area full, dma-direct serves cached blocks from the
 * page allocator, and the pool would hand the device a streaming mapping
 * of them: under forced swiotlb that is no mapping at all (1 MiB) or a
 * bounce slot (64 KiB). Both are refused with ENOMEM, where the same fill
 * on other kernels gives a block outside CMA
 * (pool.default_pool_cached_block_after_its_cma_area_is_full).
 */
TEST_F(bounce, cached_block_outside_cma_is_refused)
{
	static __u32 handles[FILL_MAX_BLOCKS];
	int count = 0, index;

	if (variant->mode != CMAMEM_MODE_CACHED)
		SKIP(return, "only cached blocks can come from outside CMA");
	if (!(self->before.pool_flags & CMAMEM_POOL_CACHED))
		SKIP(return, "the default pool serves no cached blocks");
	EXPECT_EQ(-ENOMEM, fill_until_refused(_metadata, self->fd,
					      FILL_LARGE_BYTES, handles,
					      &count));
	EXPECT_EQ(-ENOMEM, fill_until_refused(_metadata, self->fd,
					      FILL_SMALL_BYTES, handles,
					      &count));
	EXPECT_LT(count, FILL_MAX_BLOCKS);
	for (index = 0; index < count; index++)
		EXPECT_EQ(0, cmamem_free(self->fd, handles[index]));
}

/*
 * An importer's mapping of a block would be bounced (every device's is),
 * and it skips the CPU syncs that would copy: vgem's import of the
 * block's dma-buf fails with ERANGE, and the block is freed as usual.
 */
TEST_F(bounce, export_to_a_bouncing_importer_is_refused)
{
	struct cmamem_alloc alloc;
	int card, dmabuf;
	__u32 gem;

	card = open_vgem();
	if (card < 0)
		SKIP(return, "no vgem (CONFIG_DRM_VGEM)");
	ASSERT_EQ(0, cmamem_alloc_block(self->fd, "bounce-export",
					BOUNCE_BLOCK_LENGTH, variant->mode,
					&alloc));
	ASSERT_EQ(0, cmamem_export(self->fd, alloc.handle, O_RDWR | O_CLOEXEC,
				   &dmabuf));
	EXPECT_EQ(-ERANGE, vgem_import(card, dmabuf, &gem));
	EXPECT_EQ(0, close(dmabuf));
	EXPECT_EQ(0, cmamem_free(self->fd, alloc.handle));
	close(card);
}

/*
 * A dma-buf of ordinary pages (udmabuf, one page, so contiguous) that the
 * pool's device would see through a bounce slot is not imported: ERANGE,
 * and the pool holds nothing of it.
 */
TEST_F(bounce, bounced_dmabuf_is_not_imported)
{
	struct cmamem_import import;
	int dmabuf;

	if (variant->mode != CMAMEM_MODE_CACHED)
		SKIP(return, "an import has no mode: run once");
	dmabuf = udmabuf_new_one_page(cmamem_page_size());
	if (dmabuf == -ENOENT)
		SKIP(return, "no /dev/udmabuf (CONFIG_UDMABUF)");
	ASSERT_LE(0, dmabuf) TH_LOG("udmabuf: %s", strerror(-dmabuf));
	EXPECT_EQ(-ERANGE, cmamem_import(self->fd, dmabuf, &import));
	EXPECT_EQ(0, close(dmabuf));
}

TEST_HARNESS_MAIN
