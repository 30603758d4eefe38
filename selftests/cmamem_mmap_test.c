// SPDX-License-Identifier: GPL-2.0
/*
 * cmamem mmap tests: mapping blocks in every mode, mapping parts of them,
 * and every refusal the uapi documents for mmap() (ENXIO, EINVAL, EPERM,
 * EACCES), plus what the VMA flags promise: no exec, no growth, moves
 * keep the data, every madvise() advice leaves a working mapping. The
 * O_DIRECT tests show why cached blocks are page-backed and coherent ones
 * are not.
 */
#include "kselftest_harness.h"

#include <linux/fs.h>
#include <linux/io_uring.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "cmamem_util.h"

#define BLOCK_PAGES	4

FIXTURE(mapping) {
	int fd;
	size_t page_size;
	size_t length;
	struct cmamem_alloc block;
	struct cmamem_tracker tracker;
};

FIXTURE_VARIANT(mapping) {
	__u32 mode;
};

CMAMEM_MODE_VARIANTS(mapping);

FIXTURE_SETUP(mapping)
{
	cmamem_tracker_init(&self->tracker);
	self->page_size = cmamem_page_size();
	self->fd = open(CMAMEM_DEFAULT_POOL_PATH, O_RDWR);
	if (self->fd < 0)
		SKIP(return, "%s: %s", CMAMEM_DEFAULT_POOL_PATH,
		     strerror(errno));
	cmamem_track_fd(&self->tracker, self->fd);
	ASSERT_EQ(0, cmamem_alloc_block(self->fd, "map",
					BLOCK_PAGES * self->page_size,
					variant->mode, &self->block));
	self->length = self->block.length;
	ASSERT_EQ(BLOCK_PAGES * self->page_size, self->length);
}

FIXTURE_TEARDOWN(mapping)
{
	/* Unmaps everything, then closing the file frees the blocks. */
	cmamem_tracker_release(&self->tracker);
}

static void *keep_map(FIXTURE_DATA(mapping) *self, void *address,
		      size_t length)
{
	return cmamem_track_map(&self->tracker, address, length);
}

static int keep_fd(FIXTURE_DATA(mapping) *self, int fd)
{
	return cmamem_track_fd(&self->tracker, fd);
}

static void *map_block(FIXTURE_DATA(mapping) *self, __u64 offset,
		       size_t length, int protection)
{
	return keep_map(self, cmamem_map(self->fd, offset, length, protection),
			length);
}

/* mmap() must fail with @error; a mapping that worked is undone. */
static int map_error(void *address, size_t length)
{
	if (address != MAP_FAILED) {
		munmap(address, length);
		return 0;
	}
	return -errno;
}

TEST_F(mapping, write_read_whole_block)
{
	__u8 *first, *second;

	first = map_block(self, self->block.mmap_offset, self->length,
			  PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, first);
	cmamem_fill(first, self->length, 0x1234);
	ASSERT_EQ(-1, cmamem_check(first, self->length, 0x1234));
	ASSERT_EQ(0, cmamem_unmap(&self->tracker, first));
	/* The memory outlives the mapping while the handle exists. */
	second = map_block(self, self->block.mmap_offset, self->length,
			   PROT_READ);
	ASSERT_NE(MAP_FAILED, second);
	ASSERT_EQ(-1, cmamem_check(second, self->length, 0x1234));
}

TEST_F(mapping, map_part_of_block)
{
	const size_t page = self->page_size;
	__u8 *whole, *middle, *last;

	whole = map_block(self, self->block.mmap_offset, self->length,
			  PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, whole);
	cmamem_fill(whole, self->length, 0xbeef);
	middle = map_block(self, self->block.mmap_offset + page, 2 * page,
			   PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, middle);
	ASSERT_EQ(0, memcmp(whole + page, middle, 2 * page));
	last = map_block(self, self->block.mmap_offset + 3 * page, page,
			 PROT_READ);
	ASSERT_NE(MAP_FAILED, last);
	ASSERT_EQ(0, memcmp(whole + 3 * page, last, page));
	/* Writes through the part show in the whole, at the right place. */
	cmamem_fill(middle, 2 * page, 0xf00d);
	ASSERT_EQ(-1, cmamem_check(whole + page, 2 * page, 0xf00d));
	ASSERT_EQ(-1, cmamem_check(whole, page, 0xbeef));
}

TEST_F(mapping, offset_past_end_enxio)
{
	size_t page = self->page_size;

	ASSERT_EQ(-ENXIO, map_error(cmamem_map(self->fd,
					       self->block.mmap_offset +
					       self->length, page,
					       PROT_READ), page));
}

TEST_F(mapping, length_past_end_enxio)
{
	size_t page = self->page_size;

	ASSERT_EQ(-ENXIO, map_error(cmamem_map(self->fd,
					       self->block.mmap_offset,
					       self->length + page,
					       PROT_READ), self->length + page));
	ASSERT_EQ(-ENXIO, map_error(cmamem_map(self->fd,
					       self->block.mmap_offset + page,
					       self->length, PROT_READ),
				    self->length));
}

/* The driver never hands out offset 0. */
TEST_F(mapping, offset_zero_enxio)
{
	ASSERT_EQ(-ENXIO, map_error(cmamem_map(self->fd, 0, self->page_size,
					       PROT_READ), self->page_size));
}

/* A freed handle's offset belongs to nobody at once. */
TEST_F(mapping, offset_of_freed_handle_enxio)
{
	struct cmamem_alloc other;

	ASSERT_EQ(0, cmamem_alloc_block(self->fd, "freed", self->page_size,
					variant->mode, &other));
	ASSERT_EQ(0, cmamem_free(self->fd, other.handle));
	ASSERT_EQ(-ENXIO, map_error(cmamem_map(self->fd, other.mmap_offset,
					       self->page_size, PROT_READ),
				    self->page_size));
}

/*
 * Offsets belong to the open file holding the handle. Find an offset the
 * other file handed out that lies in no block of ours (offsets are per
 * file, so the first ones may well coincide) and map it through our fd.
 */
TEST_F(mapping, offset_of_other_file_enxio)
{
	struct cmamem_alloc other;
	int other_fd, attempt;
	bool found = false;
	void *works;

	other_fd = keep_fd(self, open(CMAMEM_DEFAULT_POOL_PATH, O_RDWR));
	ASSERT_LE(0, other_fd);
	for (attempt = 0; attempt < 8 && !found; attempt++) {
		ASSERT_EQ(0, cmamem_alloc_block(other_fd, "other",
						self->page_size,
						variant->mode, &other));
		found = other.mmap_offset >= self->block.mmap_offset +
						 self->length ||
			other.mmap_offset + other.length <=
				self->block.mmap_offset;
	}
	ASSERT_TRUE(found);
	ASSERT_EQ(-ENXIO, map_error(cmamem_map(self->fd, other.mmap_offset,
					       self->page_size, PROT_READ),
				    self->page_size));
	/* The owner of the offset can map it. */
	works = keep_map(self, cmamem_map(other_fd, other.mmap_offset,
					  self->page_size, PROT_READ),
			 self->page_size);
	ASSERT_NE(MAP_FAILED, works);
}

TEST_F(mapping, map_private_einval)
{
	void *address = mmap(NULL, self->length, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE, self->fd,
			     (off_t)self->block.mmap_offset);

	ASSERT_EQ(-EINVAL, map_error(address, self->length));
}

TEST_F(mapping, prot_exec_eperm)
{
	ASSERT_EQ(-EPERM, map_error(cmamem_map(self->fd,
					       self->block.mmap_offset,
					       self->length,
					       PROT_READ | PROT_EXEC),
				    self->length));
	ASSERT_EQ(-EPERM, map_error(cmamem_map(self->fd,
					       self->block.mmap_offset,
					       self->length, PROT_EXEC),
				    self->length));
}

TEST_F(mapping, mprotect_exec_fails)
{
	__u8 *address;

	address = map_block(self, self->block.mmap_offset, self->length,
			    PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, address);
	ASSERT_EQ(-1, mprotect(address, self->length, PROT_READ | PROT_EXEC));
	ASSERT_EQ(EACCES, errno);
	/* Still an ordinary read/write mapping. */
	cmamem_fill(address, self->length, 0x77);
	ASSERT_EQ(-1, cmamem_check(address, self->length, 0x77));
}

TEST_F(mapping, mremap_grow_fails)
{
	__u8 *address;
	void *grown;

	address = map_block(self, self->block.mmap_offset,
			    self->length - self->page_size,
			    PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, address);
	cmamem_fill(address, self->length - self->page_size, 0x99);
	grown = mremap(address, self->length - self->page_size, self->length,
		       MREMAP_MAYMOVE);
	if (grown != MAP_FAILED) {
		cmamem_forget_map(&self->tracker, address);
		keep_map(self, grown, self->length);
	}
	ASSERT_EQ(MAP_FAILED, grown);
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, cmamem_check(address, self->length - self->page_size,
				   0x99));
}

TEST_F(mapping, mremap_move_keeps_data)
{
	__u8 *address, *target, *moved, *check;

	address = map_block(self, self->block.mmap_offset, self->length,
			    PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, address);
	cmamem_fill(address, self->length, 0xabc);
	/* A free spot to move to, reserved so nothing else lands there. */
	target = keep_map(self, mmap(NULL, self->length, PROT_NONE,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
			  self->length);
	ASSERT_NE(MAP_FAILED, target);
	moved = mremap(address, self->length, self->length,
		       MREMAP_MAYMOVE | MREMAP_FIXED, target);
	ASSERT_EQ(target, moved);
	cmamem_forget_map(&self->tracker, address);
	ASSERT_EQ(-1, cmamem_check(moved, self->length, 0xabc));
	cmamem_fill(moved, self->length, 0xdef);
	check = map_block(self, self->block.mmap_offset, self->length,
			  PROT_READ);
	ASSERT_NE(MAP_FAILED, check);
	ASSERT_EQ(-1, cmamem_check(check, self->length, 0xdef));
}

TEST_F(mapping, two_mappings_share_bytes)
{
	__u8 *first, *second;

	first = map_block(self, self->block.mmap_offset, self->length,
			  PROT_READ | PROT_WRITE);
	second = map_block(self, self->block.mmap_offset, self->length,
			   PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, first);
	ASSERT_NE(MAP_FAILED, second);
	ASSERT_NE(first, second);
	cmamem_fill(first, self->length, 0x5151);
	ASSERT_EQ(-1, cmamem_check(second, self->length, 0x5151));
	cmamem_fill(second, self->length, 0x6262);
	ASSERT_EQ(-1, cmamem_check(first, self->length, 0x6262));
}

TEST_F(mapping, alloc_map_flag_user_address)
{
	struct cmamem_block_info info;
	struct cmamem_alloc alloc;
	char name[CMAMEM_NAME_SIZE];
	__u8 *user, *check;

	cmamem_unique_name(name, "mapflag");
	ASSERT_EQ(0, cmamem_alloc_named(self->fd, name, 2 * self->page_size,
					variant->mode, CMAMEM_MAP, 0, &alloc));
	user = keep_map(self, cmamem_ptr(alloc.user_address), alloc.length);
	ASSERT_NE(NULL, user);
	ASSERT_EQ(0, alloc.user_address % self->page_size);
	ASSERT_EQ(0, cmamem_block_info(self->fd, alloc.handle, &info));
	ASSERT_EQ(1, info.mappings);
	cmamem_fill(user, alloc.length, 0x4d4150);
	check = map_block(self, alloc.mmap_offset, alloc.length, PROT_READ);
	ASSERT_NE(MAP_FAILED, check);
	ASSERT_EQ(-1, cmamem_check(check, alloc.length, 0x4d4150));
	ASSERT_EQ(0, cmamem_free(self->fd, alloc.handle));
}

TEST_F(mapping, attach_map_flag_user_address)
{
	struct cmamem_attach attach;
	__u8 *whole, *user;

	whole = map_block(self, self->block.mmap_offset, self->length,
			  PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, whole);
	cmamem_fill(whole, self->length, 0xa77ac4);
	ASSERT_EQ(0, cmamem_attach(self->fd, self->block.name, CMAMEM_MAP,
				   &attach));
	user = keep_map(self, cmamem_ptr(attach.user_address), attach.length);
	ASSERT_NE(NULL, user);
	ASSERT_NE(whole, user);
	ASSERT_EQ(0, attach.user_address % self->page_size);
	ASSERT_EQ(self->length, attach.length);
	ASSERT_EQ(-1, cmamem_check(user, self->length, 0xa77ac4));
	ASSERT_EQ(0, cmamem_free(self->fd, attach.handle));
}

/* A read-only file can map for reading only. */
TEST_F(mapping, readonly_file_prot_write_eacces)
{
	struct cmamem_attach attach;
	__u8 *whole, *readable;
	int readonly_fd;

	whole = map_block(self, self->block.mmap_offset, self->length,
			  PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, whole);
	cmamem_fill(whole, self->length, 0x20);
	readonly_fd = keep_fd(self, open(CMAMEM_DEFAULT_POOL_PATH, O_RDONLY));
	ASSERT_LE(0, readonly_fd);
	ASSERT_EQ(0, cmamem_attach(readonly_fd, self->block.name, 0, &attach));
	ASSERT_EQ(-EACCES, map_error(cmamem_map(readonly_fd,
						attach.mmap_offset,
						self->length,
						PROT_READ | PROT_WRITE),
				     self->length));
	readable = keep_map(self, cmamem_map(readonly_fd, attach.mmap_offset,
					     self->length, PROT_READ),
			    self->length);
	ASSERT_NE(MAP_FAILED, readable);
	ASSERT_EQ(-1, cmamem_check(readable, self->length, 0x20));
	/* Nor can it be made writable later. */
	ASSERT_EQ(-1, mprotect(readable, self->length,
			       PROT_READ | PROT_WRITE));
	ASSERT_EQ(EACCES, errno);
}

/*
 * The last byte of a mapping works, the byte after it faults. The mapping
 * is placed in front of a reserved guard so the next page is never some
 * other mapping.
 */
TEST_F(mapping, access_past_end_faults)
{
	size_t reserve = self->length + 2 * self->page_size;
	__u8 *area, *block;
	int signal_number;

	area = keep_map(self, mmap(NULL, reserve, PROT_NONE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
			reserve);
	ASSERT_NE(MAP_FAILED, area);
	/* Map only the first three pages of the four-page block. */
	block = mmap(area, self->length - self->page_size,
		     PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, self->fd,
		     (off_t)self->block.mmap_offset);
	ASSERT_EQ(area, block);
	block[self->length - self->page_size - 1] = 1;
	ASSERT_EQ(0, cmamem_access_signal(block + self->length -
					  self->page_size - 1, true));
	signal_number = cmamem_access_signal(block + self->length -
					     self->page_size, false);
	ASSERT_TRUE(signal_number == SIGSEGV || signal_number == SIGBUS)
		TH_LOG("access past the end gave signal %d", signal_number);
}

/*
 * Every madvise() advice a program can pass on a block's mapping, through
 * the pool fd and through an exported dma-buf, in every mode: the kernel
 * may refuse the advice (EINVAL for pfn-mapped blocks, EOPNOTSUPP for
 * MADV_REMOVE), but the mapping must keep working afterwards and keep
 * showing the block's own bytes. MADV_DONTNEED zaps a cached block's page
 * table entries, so the next access must fault the same pages back in
 * rather than raise SIGBUS.
 */
FIXTURE(advice) {
	int fd;
	size_t length;
	struct cmamem_tracker tracker;
};

FIXTURE_VARIANT(advice) {
	int advice;
};

/* Named in lower case: the harness would print MADV_* as numbers. */
#define ADVICE_VARIANT(_name, _advice)				\
	FIXTURE_VARIANT_ADD(advice, _name) {			\
		.advice = _advice,				\
	}

ADVICE_VARIANT(normal, MADV_NORMAL);
ADVICE_VARIANT(random, MADV_RANDOM);
ADVICE_VARIANT(sequential, MADV_SEQUENTIAL);
ADVICE_VARIANT(willneed, MADV_WILLNEED);
ADVICE_VARIANT(dontneed, MADV_DONTNEED);
ADVICE_VARIANT(free, MADV_FREE);
ADVICE_VARIANT(remove, MADV_REMOVE);
ADVICE_VARIANT(dontfork, MADV_DONTFORK);
ADVICE_VARIANT(dofork, MADV_DOFORK);
ADVICE_VARIANT(mergeable, MADV_MERGEABLE);
ADVICE_VARIANT(unmergeable, MADV_UNMERGEABLE);
ADVICE_VARIANT(hugepage, MADV_HUGEPAGE);
ADVICE_VARIANT(nohugepage, MADV_NOHUGEPAGE);
ADVICE_VARIANT(dontdump, MADV_DONTDUMP);
ADVICE_VARIANT(dodump, MADV_DODUMP);
ADVICE_VARIANT(wipeonfork, MADV_WIPEONFORK);
ADVICE_VARIANT(keeponfork, MADV_KEEPONFORK);
ADVICE_VARIANT(cold, MADV_COLD);
ADVICE_VARIANT(pageout, MADV_PAGEOUT);
ADVICE_VARIANT(populate_read, MADV_POPULATE_READ);
ADVICE_VARIANT(populate_write, MADV_POPULATE_WRITE);
ADVICE_VARIANT(dontneed_locked, MADV_DONTNEED_LOCKED);

FIXTURE_SETUP(advice)
{
	cmamem_tracker_init(&self->tracker);
	self->length = BLOCK_PAGES * cmamem_page_size();
	self->fd = open(CMAMEM_DEFAULT_POOL_PATH, O_RDWR);
	if (self->fd < 0)
		SKIP(return, "%s: %s", CMAMEM_DEFAULT_POOL_PATH,
		     strerror(errno));
	cmamem_track_fd(&self->tracker, self->fd);
}

FIXTURE_TEARDOWN(advice)
{
	cmamem_tracker_release(&self->tracker);
}

/*
 * Advises @area, then checks that every page can still be read and
 * written, that it still holds @seed's pattern, and that what is written
 * through it reaches the block (seen through @other, a second mapping).
 */
static void advise_and_check(struct __test_metadata *_metadata,
			     FIXTURE_DATA(advice) *self, int advice,
			     __u8 *area, __u8 *other, __u32 seed)
{
	size_t page = cmamem_page_size();
	size_t offset;

	cmamem_fill(area, self->length, seed);
	/* The kernel may refuse the advice; the mapping must not care. */
	madvise(area, self->length, advice);
	/*
	 * The signal checks run in children, which must see the mapping; a
	 * pfn mapping (VM_IO) cannot be given back to them after
	 * MADV_DONTFORK, so the parent's own reads below are the check.
	 */
	if (advice != MADV_DONTFORK ||
	    !madvise(area, self->length, MADV_DOFORK)) {
		for (offset = 0; offset < self->length; offset += page)
			ASSERT_EQ(0, cmamem_access_signal(area + offset,
							  false))
				TH_LOG("page %zu: signal after advice %d",
				       offset / page, advice);
	}
	ASSERT_EQ(-1, cmamem_check(area, self->length, seed));
	cmamem_fill(area, self->length, seed + 1);
	ASSERT_EQ(-1, cmamem_check(other, self->length, seed + 1));
}

/*
 * For a block in each mode: advise a mapping of it made through the pool
 * fd or (@through_dmabuf) through an exported dma-buf, and check it with a
 * second mapping through the pool fd.
 */
static void advise_every_mode(struct __test_metadata *_metadata,
			      FIXTURE_DATA(advice) *self, int advice,
			      bool through_dmabuf)
{
	static const __u32 modes[] = {
		CMAMEM_MODE_COHERENT, CMAMEM_MODE_WRITECOMBINE,
		CMAMEM_MODE_CACHED,
	};
	struct cmamem_alloc block;
	__u8 *area, *other;
	int index, dmabuf = -1;

	for (index = 0; index < (int)ARRAY_SIZE(modes); index++) {
		TH_LOG("mode %s", cmamem_mode_name(modes[index]));
		ASSERT_EQ(0, cmamem_alloc_block(self->fd, "advice",
						self->length, modes[index],
						&block));
		if (through_dmabuf) {
			ASSERT_EQ(0, cmamem_export(self->fd, block.handle,
						   O_RDWR | O_CLOEXEC,
						   &dmabuf));
			cmamem_track_fd(&self->tracker, dmabuf);
			area = mmap(NULL, self->length, PROT_READ | PROT_WRITE,
				    MAP_SHARED, dmabuf, 0);
		} else {
			area = cmamem_map(self->fd, block.mmap_offset,
					  self->length,
					  PROT_READ | PROT_WRITE);
		}
		area = cmamem_track_map(&self->tracker, area, self->length);
		other = cmamem_track_map(&self->tracker,
					 cmamem_map(self->fd,
						    block.mmap_offset,
						    self->length, PROT_READ),
					 self->length);
		ASSERT_NE(MAP_FAILED, area);
		ASSERT_NE(MAP_FAILED, other);
		advise_and_check(_metadata, self, advice, area, other,
				 0x5100 + 0x100 * through_dmabuf + index);
		ASSERT_EQ(0, cmamem_unmap(&self->tracker, area));
		ASSERT_EQ(0, cmamem_unmap(&self->tracker, other));
		if (dmabuf >= 0)
			ASSERT_EQ(0, cmamem_close(&self->tracker, dmabuf));
		ASSERT_EQ(0, cmamem_free(self->fd, block.handle));
	}
}

TEST_F(advice, pool_mapping_keeps_working)
{
	advise_every_mode(_metadata, self, variant->advice, false);
}

TEST_F(advice, dmabuf_mapping_keeps_working)
{
	advise_every_mode(_metadata, self, variant->advice, true);
}

/*
 * O_DIRECT against a scratch block device: the device reads into, or
 * writes from, the block's mapping with get_user_pages().
 */
FIXTURE(direct_io) {
	int fd;
	int device_fd;
	int direct_fd;
	size_t page_size;
	size_t length;
	struct cmamem_alloc block;
	bool allocated;
	__u8 *map;
	void *bounce;
	const char *device;
};

FIXTURE_SETUP(direct_io)
{
	struct stat status;
	__u64 device_bytes;

	self->device_fd = -1;
	self->direct_fd = -1;
	self->map = MAP_FAILED;
	self->page_size = cmamem_page_size();
	self->length = 2 * self->page_size;
	self->fd = open(CMAMEM_DEFAULT_POOL_PATH, O_RDWR);
	if (self->fd < 0)
		SKIP(return, "%s: %s", CMAMEM_DEFAULT_POOL_PATH,
		     strerror(errno));
	self->device = getenv("CMAMEM_SCRATCH_BLOCK");
	if (!self->device || !*self->device)
		self->device = "/dev/vda";
	if (stat(self->device, &status) || !S_ISBLK(status.st_mode))
		SKIP(return, "no scratch block device %s (set CMAMEM_SCRATCH_BLOCK)",
		     self->device);
	self->device_fd = open(self->device, O_RDWR);
	ASSERT_LE(0, self->device_fd);
	ASSERT_EQ(0, ioctl(self->device_fd, BLKGETSIZE64, &device_bytes));
	if (device_bytes < 2 * self->length)
		SKIP(return, "%s holds only %llu bytes", self->device,
		     device_bytes);
	self->direct_fd = open(self->device, O_RDWR | O_DIRECT);
	ASSERT_LE(0, self->direct_fd);
	ASSERT_EQ(0, posix_memalign(&self->bounce, self->page_size,
				    self->length));
}

FIXTURE_TEARDOWN(direct_io)
{
	/*
	 * Drop the device's page cache: those pages may sit in CMA and
	 * would show as CMA memory still in use after the suite.
	 */
	if (self->device_fd >= 0) {
		fsync(self->device_fd);
		posix_fadvise(self->device_fd, 0, 0, POSIX_FADV_DONTNEED);
		ioctl(self->device_fd, BLKFLSBUF, 0);
	}
	if (self->map != MAP_FAILED)
		munmap(self->map, self->length);
	if (self->allocated)
		cmamem_free(self->fd, self->block.handle);
	if (self->direct_fd >= 0)
		close(self->direct_fd);
	if (self->device_fd >= 0)
		close(self->device_fd);
	if (self->fd >= 0)
		close(self->fd);
}

static void map_new_block(struct __test_metadata *_metadata,
			  FIXTURE_DATA(direct_io) *self, __u32 mode,
			  __u32 flags)
{
	char name[CMAMEM_NAME_SIZE];

	cmamem_unique_name(name, "odirect");
	ASSERT_EQ(0, cmamem_alloc_named(self->fd, name, self->length, mode,
					flags, 0, &self->block));
	self->allocated = true;
	self->map = cmamem_map(self->fd, self->block.mmap_offset,
			       self->length, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, self->map);
}

/* Puts a known pattern on the device with ordinary, cached writes. */
static void write_device_pattern(struct __test_metadata *_metadata,
				 FIXTURE_DATA(direct_io) *self, __u32 seed)
{
	cmamem_fill(self->bounce, self->length, seed);
	ASSERT_EQ((ssize_t)self->length,
		  pwrite(self->device_fd, self->bounce, self->length, 0));
	ASSERT_EQ(0, fsync(self->device_fd));
}

TEST_F(direct_io, cached_block_receives_odirect_read)
{
	map_new_block(_metadata, self, CMAMEM_MODE_CACHED, CMAMEM_PINNABLE);
	ASSERT_TRUE(self->block.out_flags & CMAMEM_REPLY_PINNABLE);
	write_device_pattern(_metadata, self, 0xd15c);
	cmamem_fill(self->map, self->length, 0x0);
	ASSERT_EQ((ssize_t)self->length,
		  pread(self->direct_fd, self->map, self->length, 0))
		TH_LOG("O_DIRECT read into a cached block: %s",
		       strerror(errno));
	ASSERT_EQ(0, cmamem_sync(self->fd, self->block.handle,
				 CMAMEM_SYNC_FOR_CPU, 0, self->length));
	ASSERT_EQ(-1, cmamem_check(self->map, self->length, 0xd15c));
}

TEST_F(direct_io, cached_block_feeds_odirect_write)
{
	map_new_block(_metadata, self, CMAMEM_MODE_CACHED, CMAMEM_PINNABLE);
	cmamem_fill(self->map, self->length, 0x3417e);
	ASSERT_EQ(0, cmamem_sync(self->fd, self->block.handle,
				 CMAMEM_SYNC_FOR_DEVICE, 0, self->length));
	ASSERT_EQ((ssize_t)self->length,
		  pwrite(self->direct_fd, self->map, self->length,
			 self->length))
		TH_LOG("O_DIRECT write from a cached block: %s",
		       strerror(errno));
	memset(self->bounce, 0, self->length);
	ASSERT_EQ((ssize_t)self->length,
		  pread(self->direct_fd, self->bounce, self->length,
			self->length));
	ASSERT_EQ(-1, cmamem_check(self->bounce, self->length, 0x3417e));
}

/*
 * A coherent block is mapped with VM_PFNMAP (no struct pages behind the
 * mapping as far as get_user_pages() is concerned), so O_DIRECT cannot
 * pin it: the documented outcome is EFAULT, and the block is unchanged.
 */
TEST_F(direct_io, coherent_block_refuses_odirect_read)
{
	map_new_block(_metadata, self, CMAMEM_MODE_COHERENT, 0);
	write_device_pattern(_metadata, self, 0xc0c0);
	cmamem_fill(self->map, self->length, 0x1111);
	ASSERT_EQ(-1, pread(self->direct_fd, self->map, self->length, 0));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, cmamem_check(self->map, self->length, 0x1111));
}

/*
 * O_DIRECT's short-term pins. A pinnable block takes them, mapped or not
 * (after MADV_DONTNEED the kernel faults the pages back in). A block in CMA
 * without CMAMEM_PINNABLE refuses every pin the kernel looks up through the
 * VMA with EFAULT (as it refuses every long-term pin): after MADV_DONTNEED
 * always; while mapped, Linux 6.1's page-table fast path may still serve a
 * pin, 6.12's leaves writing pins of such pages to the VMA lookup. The
 * reply says which kind the block is.
 */
TEST_F(direct_io, cached_block_odirect_as_its_reply_says)
{
	bool pinnable;
	ssize_t done;

	map_new_block(_metadata, self, CMAMEM_MODE_CACHED, 0);
	pinnable = self->block.out_flags & CMAMEM_REPLY_PINNABLE;
	write_device_pattern(_metadata, self, 0xfe11);
	cmamem_fill(self->map, self->length, 0);
	done = pread(self->direct_fd, self->map, self->length, 0);
	if (pinnable || done >= 0) {
		ASSERT_EQ((ssize_t)self->length, done);
	} else {
		ASSERT_EQ(EFAULT, errno);
	}
	ASSERT_EQ(0, madvise(self->map, self->length, MADV_DONTNEED));
	done = pread(self->direct_fd, self->map, self->length, 0);
	if (pinnable) {
		ASSERT_EQ((ssize_t)self->length, done);
		ASSERT_EQ(0, cmamem_sync(self->fd, self->block.handle,
					 CMAMEM_SYNC_FOR_CPU, 0,
					 self->length));
		ASSERT_EQ(-1, cmamem_check(self->map, self->length, 0xfe11));
	} else {
		ASSERT_EQ(-1, done);
		ASSERT_EQ(EFAULT, errno);
	}
}

/* PINNABLE means something only for cached (page-backed) blocks. */
TEST_F(direct_io, pinnable_coherent_block_einval)
{
	struct cmamem_alloc alloc;
	char name[CMAMEM_NAME_SIZE];

	cmamem_unique_name(name, "pincoh");
	ASSERT_EQ(-EINVAL, cmamem_alloc_named(self->fd, name, self->length,
					      CMAMEM_MODE_COHERENT,
					      CMAMEM_PINNABLE, 0, &alloc));
}

/*
 * A long-term pin: registering the mapping as an io_uring fixed buffer
 * (open to any user). It must fail promptly with EFAULT for a block that
 * is not pinnable; before, it looped in the kernel until the task was
 * killed when the block lay in CMA. A pinnable block registers (Linux 6.1's
 * io_uring then refuses file-backed memory itself, EOPNOTSUPP). The
 * harness's timeout catches a hang.
 */
static int io_uring_register_mapping(void *address, size_t length)
{
	struct io_uring_params params = { 0 };
	struct iovec buffer = { .iov_base = address, .iov_len = length };
	int ring, result;

	ring = syscall(__NR_io_uring_setup, 1, &params);
	if (ring < 0)
		return -ENOSYS;
	result = syscall(__NR_io_uring_register, ring,
			 IORING_REGISTER_BUFFERS, &buffer, 1);
	result = result ? -errno : 0;
	if (!result)
		syscall(__NR_io_uring_register, ring,
			IORING_UNREGISTER_BUFFERS, NULL, 0);
	close(ring);
	return result;
}

TEST_F_TIMEOUT(direct_io, io_uring_fixed_buffer_never_hangs, 60)
{
	int result;

	map_new_block(_metadata, self, CMAMEM_MODE_CACHED, 0);
	result = io_uring_register_mapping(self->map, self->length);
	if (result == -ENOSYS)
		SKIP(return, "io_uring is not available");
	if (self->block.out_flags & CMAMEM_REPLY_PINNABLE) {
		/* Linux 6.1's io_uring refuses file-backed memory itself. */
		ASSERT_TRUE(result == 0 || result == -EOPNOTSUPP)
			TH_LOG("registering a pinnable block: %s",
			       strerror(-result));
	} else {
		ASSERT_EQ(-EFAULT, result);
	}
}

TEST_F_TIMEOUT(direct_io, io_uring_coherent_mapping_efault, 60)
{
	int result;

	map_new_block(_metadata, self, CMAMEM_MODE_COHERENT, 0);
	result = io_uring_register_mapping(self->map, self->length);
	if (result == -ENOSYS)
		SKIP(return, "io_uring is not available");
	ASSERT_EQ(-EFAULT, result);
}

TEST_HARNESS_MAIN
