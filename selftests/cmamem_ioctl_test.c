// SPDX-License-Identifier: GPL-2.0
/*
 * cmamem ioctl tests: the success path of every ioctl and every validation
 * error the uapi header documents, each as its own test. All of them run on
 * the default pool, /dev/cmamem, which exists on every kernel.
 *
 * The checks every ioctl shares (argument pointer, struct size, trailing
 * bytes, flags, reserved fields) are one fixture with a variant per ioctl,
 * so each ioctl gets each check as a separate test. A request that fails
 * must leave nothing behind: no block, no handle, no bytes used, no file
 * descriptor, no dma-buf; one that succeeds is undone and checked the same
 * way.
 */
#include "kselftest_harness.h"

#include <pthread.h>
#include <sched.h>

#include <termios.h>

#include "cmamem_flipper.h"
#include "cmamem_util.h"

/* Room for the largest struct plus a tail the kernel does not know. */
#define REQUEST_BUFFER_SIZE	512
#define TAIL_BYTES		64
#define CANARY_BYTE		0xa5

enum request_kind {
	REQUEST_ALLOC,
	REQUEST_ATTACH,
	REQUEST_FREE,
	REQUEST_SYNC,
	REQUEST_BLOCK_INFO,
	REQUEST_POOL_INFO,
	REQUEST_EXPORT,
	REQUEST_IMPORT,
};

FIXTURE(common) {
	int fd;
	size_t page_size;
	/*
	 * The block ATTACH, FREE, SYNC, BLOCK_INFO and EXPORT requests refer
	 * to.
	 */
	struct cmamem_alloc target;
	/* The target exported, for IMPORT requests to name; else -1. */
	int dmabuf;
	/* The lowest free fd once set up: a request must not take it. */
	int free_fd;
	/* The name the last prepared ALLOC request asks for. */
	char request_name[CMAMEM_NAME_SIZE];
	__u32 blocks_before;
	__u64 used_bytes_before;
	__u64 request[REQUEST_BUFFER_SIZE / sizeof(__u64)];
	void *pages;
	size_t pages_length;
};

FIXTURE_VARIANT(common) {
	enum request_kind kind;
	unsigned long command;
	__u32 first_release_size;
	__u32 header_size;
	size_t flags_offset;
	size_t reserved_offset;
	__u32 lowest_unknown_flag;
	/* The ioctl writes results back into the struct. */
	bool has_outputs;
};

/*
 * One variant per ioctl, all named alike: REQUEST_<IOCTL>,
 * CMAMEM_IOCTL_<IOCTL>, CMAMEM_<IOCTL>_SIZE_V1 and struct cmamem_<ioctl>,
 * whose flags and __reserved fields the checks spoil.
 */
#define COMMON_VARIANT(_name, _NAME, _unknown_flag, _outputs)		\
	FIXTURE_VARIANT_ADD(common, _name) {				\
		.kind = REQUEST_##_NAME,				\
		.command = CMAMEM_IOCTL_##_NAME,			\
		.first_release_size = CMAMEM_##_NAME##_SIZE_V1,		\
		.header_size = sizeof(struct cmamem_##_name),		\
		.flags_offset = offsetof(struct cmamem_##_name, flags),	\
		.reserved_offset = offsetof(struct cmamem_##_name,	\
					    __reserved),		\
		.lowest_unknown_flag = _unknown_flag,			\
		.has_outputs = _outputs,				\
	}

COMMON_VARIANT(alloc, ALLOC, CMAMEM_MAP << 1, true);
COMMON_VARIANT(attach, ATTACH, CMAMEM_MAP << 1, true);
COMMON_VARIANT(free, FREE, 1, false);
COMMON_VARIANT(sync, SYNC, CMAMEM_SYNC_FOR_DEVICE << 1, false);
COMMON_VARIANT(block_info, BLOCK_INFO, 1, true);
COMMON_VARIANT(pool_info, POOL_INFO, 1, true);
COMMON_VARIANT(export, EXPORT, 1, true);
COMMON_VARIANT(import, IMPORT, 1, true);

FIXTURE_SETUP(common)
{
	struct cmamem_pool_info pool;

	self->pages = MAP_FAILED;
	self->dmabuf = -1;
	self->page_size = cmamem_page_size();
	self->fd = open(CMAMEM_DEFAULT_POOL_PATH, O_RDWR);
	if (self->fd < 0)
		SKIP(return, "%s: %s", CMAMEM_DEFAULT_POOL_PATH,
		     strerror(errno));
	ASSERT_EQ(0, cmamem_alloc_block(self->fd, "target", self->page_size,
					CMAMEM_MODE_COHERENT, &self->target));
	if (variant->kind == REQUEST_IMPORT)
		ASSERT_EQ(0, cmamem_export(self->fd, self->target.handle,
					   O_RDWR | O_CLOEXEC, &self->dmabuf));
	ASSERT_EQ(0, cmamem_pool_info(self->fd, &pool));
	self->blocks_before = pool.blocks;
	self->used_bytes_before = pool.used_bytes;
	self->free_fd = cmamem_lowest_free_fd();
	ASSERT_LE(0, self->free_fd);
}

FIXTURE_TEARDOWN(common)
{
	if (self->pages != MAP_FAILED)
		munmap(self->pages, self->pages_length);
	if (self->dmabuf >= 0)
		close(self->dmabuf);
	if (self->fd >= 0)
		close(self->fd);	/* drops every handle of the test */
}

/* Writes a request that would succeed into @request, size = header size. */
static void prepare_request(FIXTURE_DATA(common) *self,
			    const FIXTURE_VARIANT(common) *variant,
			    void *request)
{
	memset(request, 0, variant->header_size);
	switch (variant->kind) {
	case REQUEST_ALLOC: {
		struct cmamem_alloc *alloc = request;

		alloc->length = self->page_size;
		alloc->mode = CMAMEM_MODE_COHERENT;
		cmamem_unique_name(self->request_name, "common");
		cmamem_set_name(alloc->name, self->request_name);
		break;
	}
	case REQUEST_ATTACH: {
		struct cmamem_attach *attach = request;

		memcpy(attach->name, self->target.name, CMAMEM_NAME_SIZE);
		break;
	}
	case REQUEST_FREE:
		((struct cmamem_free *)request)->handle = self->target.handle;
		break;
	case REQUEST_SYNC: {
		struct cmamem_sync *sync = request;

		sync->flags = CMAMEM_SYNC_FOR_DEVICE;
		sync->handle = self->target.handle;
		sync->length = self->page_size;
		break;
	}
	case REQUEST_BLOCK_INFO:
		((struct cmamem_block_info *)request)->handle =
			self->target.handle;
		break;
	case REQUEST_POOL_INFO:
		break;
	case REQUEST_EXPORT: {
		struct cmamem_export *export = request;

		export->handle = self->target.handle;
		export->fd_flags = O_RDWR | O_CLOEXEC;
		break;
	}
	case REQUEST_IMPORT:
		((struct cmamem_import *)request)->fd = self->dmabuf;
		break;
	}
	*(__u32 *)request = variant->header_size;
}

static __u32 *request_word(void *request, size_t offset)
{
	return (__u32 *)((__u8 *)request + offset);
}

static void check_nothing_changed(struct __test_metadata *_metadata,
				  FIXTURE_DATA(common) *self,
				  const FIXTURE_VARIANT(common) *variant);

/* A handle on the target (ATTACH) or its dma-buf (IMPORT): new, then freed. */
static void check_new_handle_and_free(struct __test_metadata *_metadata,
				      FIXTURE_DATA(common) *self,
				      __u32 handle, __u64 length)
{
	ASSERT_NE(0, handle);
	ASSERT_NE(self->target.handle, handle);
	ASSERT_EQ(self->target.length, length);
	ASSERT_EQ(0, cmamem_free(self->fd, handle));
}

/*
 * Checks the replies of a request that succeeded and undoes what it did,
 * then that the fixture's counters hold again.
 */
static void check_success_and_undo(struct __test_metadata *_metadata,
				   FIXTURE_DATA(common) *self,
				   const FIXTURE_VARIANT(common) *variant,
				   void *request)
{
	struct cmamem_block_info info;

	switch (variant->kind) {
	case REQUEST_ALLOC: {
		struct cmamem_alloc *alloc = request;

		ASSERT_NE(0, alloc->handle);
		ASSERT_NE(self->target.handle, alloc->handle);
		ASSERT_EQ(self->page_size, alloc->length);
		ASSERT_EQ(0, cmamem_block_info(self->fd, alloc->handle, &info));
		ASSERT_STREQ(self->request_name, info.name);
		ASSERT_EQ(0, cmamem_free(self->fd, alloc->handle));
		break;
	}
	case REQUEST_ATTACH: {
		struct cmamem_attach *attach = request;

		ASSERT_EQ(CMAMEM_MODE_COHERENT, attach->mode);
		check_new_handle_and_free(_metadata, self, attach->handle,
					  attach->length);
		break;
	}
	case REQUEST_FREE:
		ASSERT_EQ(-ENOENT, cmamem_block_info(self->fd,
						     self->target.handle,
						     &info));
		/* Put a block back so the counters below still hold. */
		ASSERT_EQ(0, cmamem_alloc_block(self->fd, "target",
						self->page_size,
						CMAMEM_MODE_COHERENT,
						&self->target));
		break;
	case REQUEST_SYNC:
		break;
	case REQUEST_BLOCK_INFO: {
		struct cmamem_block_info *reply = request;

		ASSERT_EQ(self->target.length, reply->length);
		ASSERT_EQ(CMAMEM_MODE_COHERENT, reply->mode);
		ASSERT_EQ(1, reply->handles);
		ASSERT_STREQ(self->target.name, reply->name);
		ASSERT_STREQ(CMAMEM_DEFAULT_POOL_NAME, reply->pool);
		break;
	}
	case REQUEST_POOL_INFO: {
		struct cmamem_pool_info *reply = request;

		ASSERT_EQ(self->page_size, reply->page_size);
		ASSERT_EQ(self->blocks_before, reply->blocks);
		ASSERT_EQ(self->used_bytes_before, reply->used_bytes);
		ASSERT_STREQ(CMAMEM_DEFAULT_POOL_NAME, reply->name);
		break;
	}
	case REQUEST_EXPORT: {
		struct cmamem_export *reply = request;

		/* The new fd is the lowest free one, and the block's. */
		ASSERT_EQ(self->free_fd, (int)reply->fd);
		ASSERT_EQ(self->target.length,
			  (__u64)lseek((int)reply->fd, 0, SEEK_END));
		ASSERT_EQ(0, cmamem_block_info(self->fd, self->target.handle,
					       &info));
		ASSERT_EQ(1, info.dma_bufs);
		ASSERT_EQ(0, close((int)reply->fd));
		break;
	}
	case REQUEST_IMPORT: {
		struct cmamem_import *reply = request;

		ASSERT_EQ(self->target.dma_address, reply->dma_address);
		check_new_handle_and_free(_metadata, self, reply->handle,
					  reply->length);
		break;
	}
	}
	check_nothing_changed(_metadata, self, variant);
}

/*
 * After a refused or undone request: no block, handle, byte, file
 * descriptor or dma-buf came or went. An import handle left behind would
 * keep the target's dma-buf alive after the IMPORT fixture closes its fd.
 */
static void check_nothing_changed(struct __test_metadata *_metadata,
				  FIXTURE_DATA(common) *self,
				  const FIXTURE_VARIANT(common) *variant)
{
	struct cmamem_block_info info;
	struct cmamem_pool_info pool;
	struct cmamem_attach attach;

	ASSERT_EQ(self->free_fd, cmamem_lowest_free_fd());
	ASSERT_EQ(0, cmamem_pool_info(self->fd, &pool));
	ASSERT_EQ(self->blocks_before, pool.blocks);
	ASSERT_EQ(self->used_bytes_before, pool.used_bytes);
	ASSERT_EQ(0, cmamem_block_info(self->fd, self->target.handle, &info));
	ASSERT_EQ(1, info.handles);
	ASSERT_EQ(self->dmabuf >= 0 ? 1 : 0, info.dma_bufs);
	if (variant->kind == REQUEST_ALLOC)
		ASSERT_EQ(-ENOENT, cmamem_attach(self->fd, self->request_name,
						 0, &attach));
	if (variant->kind == REQUEST_IMPORT) {
		ASSERT_EQ(0, close(self->dmabuf));
		self->dmabuf = -1;
		ASSERT_EQ(0, cmamem_block_info(self->fd, self->target.handle,
					       &info));
		ASSERT_EQ(0, info.dma_bufs);
	}
}

static int call(FIXTURE_DATA(common) *self,
		const FIXTURE_VARIANT(common) *variant, void *request)
{
	return cmamem_ioctl(self->fd, variant->command, request);
}

TEST_F(common, success)
{
	prepare_request(self, variant, self->request);
	ASSERT_EQ(0, call(self, variant, self->request));
	check_success_and_undo(_metadata, self, variant, self->request);
}

TEST_F(common, null_pointer_efault)
{
	prepare_request(self, variant, self->request);
	ASSERT_EQ(-EFAULT, call(self, variant, NULL));
	check_nothing_changed(_metadata, self, variant);
}

TEST_F(common, unmapped_pointer_efault)
{
	void *hole = mmap(NULL, self->page_size, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, hole);
	ASSERT_EQ(0, munmap(hole, self->page_size));
	prepare_request(self, variant, self->request);
	ASSERT_EQ(-EFAULT, call(self, variant, hole));
	check_nothing_changed(_metadata, self, variant);
}

/* @size and @flags are readable, the rest of the struct is not. */
TEST_F(common, struct_crosses_into_unmapped_efault)
{
	__u8 *request;

	self->pages_length = 2 * self->page_size;
	self->pages = mmap(NULL, self->pages_length, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->pages);
	ASSERT_EQ(0, mprotect((__u8 *)self->pages + self->page_size,
			      self->page_size, PROT_NONE));
	request = (__u8 *)self->pages + self->page_size - 8;
	prepare_request(self, variant, self->request);
	memcpy(request, self->request, 8);
	ASSERT_EQ(-EFAULT, call(self, variant, request));
	check_nothing_changed(_metadata, self, variant);
}

/*
 * A struct the kernel can read but not write: ioctls with results must
 * fail with EFAULT and undo their work (no block or handle left behind);
 * ioctls without results never write and must work.
 */
TEST_F(common, readonly_struct)
{
	self->pages_length = self->page_size;
	self->pages = mmap(NULL, self->pages_length, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->pages);
	prepare_request(self, variant, self->pages);
	ASSERT_EQ(0, mprotect(self->pages, self->pages_length, PROT_READ));
	if (variant->has_outputs) {
		ASSERT_EQ(-EFAULT, call(self, variant, self->pages));
		check_nothing_changed(_metadata, self, variant);
	} else {
		ASSERT_EQ(0, call(self, variant, self->pages));
		check_success_and_undo(_metadata, self, variant, self->pages);
	}
}

/*
 * The struct's first bytes are writable, the rest only readable: as with a
 * read-only struct, but a request that maps a block pins the writable page
 * before it finds the read-only one, and must let it go again.
 */
TEST_F(common, struct_crosses_into_readonly)
{
	__u8 *request;

	self->pages_length = 2 * self->page_size;
	self->pages = mmap(NULL, self->pages_length, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->pages);
	request = (__u8 *)self->pages + self->page_size - 8;
	prepare_request(self, variant, request);
	ASSERT_EQ(0, mprotect((__u8 *)self->pages + self->page_size,
			      self->page_size, PROT_READ));
	if (variant->has_outputs) {
		ASSERT_EQ(-EFAULT, call(self, variant, request));
		check_nothing_changed(_metadata, self, variant);
	} else {
		ASSERT_EQ(0, call(self, variant, request));
		check_success_and_undo(_metadata, self, variant, request);
	}
}

TEST_F(common, size_zero_einval)
{
	prepare_request(self, variant, self->request);
	*request_word(self->request, 0) = 0;
	ASSERT_EQ(-EINVAL, call(self, variant, self->request));
	check_nothing_changed(_metadata, self, variant);
}

TEST_F(common, size_below_first_release_einval)
{
	prepare_request(self, variant, self->request);
	*request_word(self->request, 0) = variant->first_release_size - 1;
	ASSERT_EQ(-EINVAL, call(self, variant, self->request));
	check_nothing_changed(_metadata, self, variant);
}

TEST_F(common, size_below_first_release_by_eight_einval)
{
	prepare_request(self, variant, self->request);
	*request_word(self->request, 0) = variant->first_release_size - 8;
	ASSERT_EQ(-EINVAL, call(self, variant, self->request));
	check_nothing_changed(_metadata, self, variant);
}

/*
 * A program built against the first release passes exactly that size; the
 * kernel must accept it and must not write past it (the canary).
 */
TEST_F(common, first_release_size_and_canary)
{
	__u8 *bytes = (__u8 *)self->request;
	size_t index;

	prepare_request(self, variant, self->request);
	*request_word(self->request, 0) = variant->first_release_size;
	memset(bytes + variant->first_release_size, CANARY_BYTE,
	       REQUEST_BUFFER_SIZE - variant->first_release_size);
	ASSERT_EQ(0, call(self, variant, self->request));
	for (index = variant->first_release_size; index < REQUEST_BUFFER_SIZE;
	     index++)
		ASSERT_EQ(CANARY_BYTE, bytes[index])
			TH_LOG("byte %zu past the struct was written", index);
	ASSERT_EQ(variant->first_release_size,
		  *request_word(self->request, 0));
	check_success_and_undo(_metadata, self, variant, self->request);
}

/* A newer program's bigger struct with all-zero extra bytes works. */
TEST_F(common, larger_size_zero_tail_accepted)
{
	__u8 *bytes = (__u8 *)self->request;
	size_t index;

	prepare_request(self, variant, self->request);
	*request_word(self->request, 0) = variant->header_size + TAIL_BYTES;
	ASSERT_EQ(0, call(self, variant, self->request));
	for (index = variant->header_size;
	     index < variant->header_size + TAIL_BYTES; index++)
		ASSERT_EQ(0, bytes[index]);
	check_success_and_undo(_metadata, self, variant, self->request);
}

TEST_F(common, larger_size_nonzero_last_tail_byte_e2big)
{
	__u8 *bytes = (__u8 *)self->request;

	prepare_request(self, variant, self->request);
	*request_word(self->request, 0) = variant->header_size + TAIL_BYTES;
	bytes[variant->header_size + TAIL_BYTES - 1] = 1;
	ASSERT_EQ(-E2BIG, call(self, variant, self->request));
	check_nothing_changed(_metadata, self, variant);
}

TEST_F(common, larger_size_nonzero_first_tail_byte_e2big)
{
	__u8 *bytes = (__u8 *)self->request;

	prepare_request(self, variant, self->request);
	*request_word(self->request, 0) = variant->header_size + TAIL_BYTES;
	bytes[variant->header_size] = 0x80;
	ASSERT_EQ(-E2BIG, call(self, variant, self->request));
	check_nothing_changed(_metadata, self, variant);
}

/*
 * A request in zeroed memory of @size bytes: the kernel's scan of the
 * tail for non-zero bytes is bounded by CMAMEM_STRUCT_SIZE_MAX.
 */
static void *prepare_large_request(FIXTURE_DATA(common) *self,
				   const FIXTURE_VARIANT(common) *variant,
				   __u32 size)
{
	self->pages_length = 2 * CMAMEM_STRUCT_SIZE_MAX;
	self->pages = mmap(NULL, self->pages_length, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (self->pages == MAP_FAILED)
		return NULL;
	prepare_request(self, variant, self->pages);
	*request_word(self->pages, 0) = size;
	return self->pages;
}

TEST_F(common, size_at_struct_size_max_accepted)
{
	void *request = prepare_large_request(self, variant,
					      CMAMEM_STRUCT_SIZE_MAX);

	ASSERT_NE(NULL, request);
	ASSERT_EQ(0, call(self, variant, request));
	check_success_and_undo(_metadata, self, variant, request);
}

/* Even all-zero: otherwise one ioctl could scan 4 GiB of user memory. */
TEST_F(common, size_above_struct_size_max_e2big)
{
	void *request = prepare_large_request(self, variant,
					      CMAMEM_STRUCT_SIZE_MAX + 1);

	ASSERT_NE(NULL, request);
	ASSERT_EQ(-E2BIG, call(self, variant, request));
	check_nothing_changed(_metadata, self, variant);
}

TEST_F(common, size_u32_max_e2big)
{
	void *request = prepare_large_request(self, variant, UINT32_MAX);

	ASSERT_NE(NULL, request);
	ASSERT_EQ(-E2BIG, call(self, variant, request));
	check_nothing_changed(_metadata, self, variant);
}

TEST_F(common, unknown_flag_lowest_einval)
{
	prepare_request(self, variant, self->request);
	*request_word(self->request, variant->flags_offset) |=
		variant->lowest_unknown_flag;
	ASSERT_EQ(-EINVAL, call(self, variant, self->request));
	check_nothing_changed(_metadata, self, variant);
}

TEST_F(common, unknown_flag_highest_einval)
{
	prepare_request(self, variant, self->request);
	*request_word(self->request, variant->flags_offset) |= 1u << 31;
	ASSERT_EQ(-EINVAL, call(self, variant, self->request));
	check_nothing_changed(_metadata, self, variant);
}

TEST_F(common, reserved_nonzero_einval)
{
	prepare_request(self, variant, self->request);
	*request_word(self->request, variant->reserved_offset) = 1;
	ASSERT_EQ(-EINVAL, call(self, variant, self->request));
	check_nothing_changed(_metadata, self, variant);
}

TEST_F(common, reserved_high_bit_einval)
{
	prepare_request(self, variant, self->request);
	*request_word(self->request, variant->reserved_offset) = 1u << 31;
	ASSERT_EQ(-EINVAL, call(self, variant, self->request));
	check_nothing_changed(_metadata, self, variant);
}

/*
 * The single-purpose tests below share one open file and free what they
 * allocated in teardown (closing the file drops any handle left).
 */
#define MAX_TRACKED_HANDLES 64

FIXTURE(pool) {
	int fd;
	size_t page_size;
	struct cmamem_pool_info info;
	__u32 handles[MAX_TRACKED_HANDLES];
	unsigned int handle_count;
};

FIXTURE_SETUP(pool)
{
	self->page_size = cmamem_page_size();
	self->fd = open(CMAMEM_DEFAULT_POOL_PATH, O_RDWR);
	if (self->fd < 0)
		SKIP(return, "%s: %s", CMAMEM_DEFAULT_POOL_PATH,
		     strerror(errno));
	ASSERT_EQ(0, cmamem_pool_info(self->fd, &self->info));
}

FIXTURE_TEARDOWN(pool)
{
	unsigned int index;

	if (self->fd < 0)
		return;
	for (index = 0; index < self->handle_count; index++)
		cmamem_free(self->fd, self->handles[index]);
	close(self->fd);
}

static void track(FIXTURE_DATA(pool) *self, __u32 handle)
{
	if (self->handle_count < MAX_TRACKED_HANDLES)
		self->handles[self->handle_count++] = handle;
}

/* Allocates and remembers the handle for teardown. */
static int alloc_tracked(FIXTURE_DATA(pool) *self, const char *name,
			 __u64 length, __u32 mode, __u32 flags,
			 __u64 alignment, struct cmamem_alloc *alloc)
{
	int result = cmamem_alloc_named(self->fd, name, length, mode, flags,
					alignment, alloc);

	if (!result)
		track(self, alloc->handle);
	return result;
}

/*
 * Asks for a block with a raw name field and expects @error; then checks
 * that nothing was created.
 */
static void expect_alloc_error(struct __test_metadata *_metadata,
			       FIXTURE_DATA(pool) *self,
			       struct cmamem_alloc *alloc, int error)
{
	struct cmamem_pool_info after;
	int result;

	alloc->size = sizeof(*alloc);
	result = cmamem_ioctl(self->fd, CMAMEM_IOCTL_ALLOC, alloc);
	if (!result)
		track(self, alloc->handle);
	ASSERT_EQ(error, result);
	ASSERT_EQ(0, cmamem_pool_info(self->fd, &after));
	ASSERT_EQ(self->info.blocks, after.blocks);
	ASSERT_EQ(self->info.used_bytes, after.used_bytes);
}

static void valid_alloc(FIXTURE_DATA(pool) *self, struct cmamem_alloc *alloc,
			const char *tag)
{
	memset(alloc, 0, sizeof(*alloc));
	alloc->size = sizeof(*alloc);
	alloc->length = self->page_size;
	alloc->mode = CMAMEM_MODE_COHERENT;
	cmamem_unique_name(alloc->name, tag);
}

/* --- unknown commands --- */

TEST_F(pool, unknown_command_after_last_enotty)
{
	struct cmamem_pool_info info = { .size = sizeof(info) };

	ASSERT_EQ(-ENOTTY, cmamem_ioctl(self->fd,
					_IO(CMAMEM_TYPE,
					    CMAMEM_CMD_IMPORT + 1),
					&info));
}

TEST_F(pool, unknown_command_before_first_enotty)
{
	struct cmamem_pool_info info = { .size = sizeof(info) };

	ASSERT_EQ(-ENOTTY, cmamem_ioctl(self->fd,
					_IO(CMAMEM_TYPE, CMAMEM_CMD_BASE - 1),
					&info));
}

/* The commands are _IO(); the same number with size/direction bits is not. */
TEST_F(pool, command_with_direction_bits_enotty)
{
	struct cmamem_alloc alloc;
	struct cmamem_attach attach;
	char name[CMAMEM_NAME_SIZE];

	valid_alloc(self, &alloc, "iowr");
	memcpy(name, alloc.name, sizeof(name));
	ASSERT_EQ(-ENOTTY, cmamem_ioctl(self->fd,
					_IOWR(CMAMEM_TYPE, CMAMEM_CMD_ALLOC,
					      struct cmamem_alloc),
					&alloc));
	ASSERT_EQ(-ENOENT, cmamem_attach(self->fd, name, 0, &attach));
}

TEST_F(pool, other_type_enotty)
{
	struct cmamem_pool_info info = { .size = sizeof(info) };

	ASSERT_EQ(-ENOTTY, cmamem_ioctl(self->fd,
					_IO(CMAMEM_TYPE + 1,
					    CMAMEM_CMD_POOL_INFO),
					&info));
}

TEST_F(pool, terminal_ioctl_enotty)
{
	struct termios settings;

	ASSERT_EQ(-1, tcgetattr(self->fd, &settings));
	ASSERT_EQ(ENOTTY, errno);
}

/* --- ALLOC --- */

static void check_alloc_in_mode(struct __test_metadata *_metadata,
				FIXTURE_DATA(pool) *self, __u32 mode)
{
	struct cmamem_block_info info;
	struct cmamem_alloc alloc;
	char name[CMAMEM_NAME_SIZE];

	cmamem_unique_name(name, "mode");
	ASSERT_EQ(0, alloc_tracked(self, name, self->page_size + 1, mode, 0,
				   0, &alloc));
	ASSERT_NE(0, alloc.handle);
	ASSERT_EQ(2 * self->page_size, alloc.length);
	ASSERT_NE(0, alloc.mmap_offset);
	ASSERT_EQ(0, alloc.mmap_offset % self->page_size);
	ASSERT_EQ(0, alloc.user_address);
	ASSERT_EQ(mode, alloc.mode);
	ASSERT_STREQ(name, alloc.name);
	ASSERT_EQ(0, cmamem_block_info(self->fd, alloc.handle, &info));
	ASSERT_EQ(mode, info.mode);
	ASSERT_EQ(2 * self->page_size, info.length);
}

TEST_F(pool, alloc_coherent)
{
	check_alloc_in_mode(_metadata, self, CMAMEM_MODE_COHERENT);
}

TEST_F(pool, alloc_writecombine)
{
	check_alloc_in_mode(_metadata, self, CMAMEM_MODE_WRITECOMBINE);
}

TEST_F(pool, alloc_cached)
{
	ASSERT_TRUE(self->info.pool_flags & CMAMEM_POOL_CACHED)
		TH_LOG("the default pool must offer cached blocks");
	check_alloc_in_mode(_metadata, self, CMAMEM_MODE_CACHED);
}

TEST_F(pool, alloc_first_handle_is_one)
{
	struct cmamem_alloc alloc;
	char name[CMAMEM_NAME_SIZE];

	cmamem_unique_name(name, "first");
	ASSERT_EQ(0, alloc_tracked(self, name, self->page_size,
				   CMAMEM_MODE_COHERENT, 0, 0, &alloc));
	ASSERT_EQ(1, alloc.handle);
}

TEST_F(pool, alloc_length_rounded_to_pages)
{
	const __u64 page = self->page_size;
	const __u64 asked[] = { 1, page - 1, page, page + 1, 3 * page - 1 };
	const __u64 rounded[] = { page, page, page, 2 * page, 3 * page };
	struct cmamem_alloc alloc;
	char name[CMAMEM_NAME_SIZE];
	unsigned int index;

	for (index = 0; index < ARRAY_SIZE(asked); index++) {
		cmamem_unique_name(name, "round");
		ASSERT_EQ(0, alloc_tracked(self, name, asked[index],
					   CMAMEM_MODE_COHERENT, 0, 0,
					   &alloc));
		ASSERT_EQ(rounded[index], alloc.length)
			TH_LOG("asked %llu", asked[index]);
	}
}

TEST_F(pool, alloc_handles_and_offsets_distinct)
{
	struct cmamem_alloc first, second;
	char name[CMAMEM_NAME_SIZE];

	cmamem_unique_name(name, "one");
	ASSERT_EQ(0, alloc_tracked(self, name, 3 * self->page_size,
				   CMAMEM_MODE_COHERENT, 0, 0, &first));
	cmamem_unique_name(name, "two");
	ASSERT_EQ(0, alloc_tracked(self, name, 2 * self->page_size,
				   CMAMEM_MODE_COHERENT, 0, 0, &second));
	ASSERT_NE(first.handle, second.handle);
	/* The mmap offset ranges of two blocks must not overlap. */
	ASSERT_TRUE(first.mmap_offset + first.length <= second.mmap_offset ||
		    second.mmap_offset + second.length <= first.mmap_offset);
}

TEST_F(pool, alloc_length_zero_einval)
{
	struct cmamem_alloc alloc;

	valid_alloc(self, &alloc, "len0");
	alloc.length = 0;
	expect_alloc_error(_metadata, self, &alloc, -EINVAL);
}

TEST_F(pool, alloc_alignment_not_power_of_two_einval)
{
	struct cmamem_alloc alloc;

	valid_alloc(self, &alloc, "align3");
	alloc.alignment = 3 * self->page_size;
	expect_alloc_error(_metadata, self, &alloc, -EINVAL);
}

TEST_F(pool, alloc_alignment_below_page_size_einval)
{
	struct cmamem_alloc alloc;

	valid_alloc(self, &alloc, "alignhalf");
	alloc.alignment = self->page_size / 2;
	expect_alloc_error(_metadata, self, &alloc, -EINVAL);
	valid_alloc(self, &alloc, "align1");
	alloc.alignment = 1;
	expect_alloc_error(_metadata, self, &alloc, -EINVAL);
}

TEST_F(pool, alloc_alignment_valid_values_accepted)
{
	const __u64 alignments[] = {
		0, self->page_size, 4 * self->page_size
	};
	struct cmamem_block_info info;
	struct cmamem_alloc alloc;
	char name[CMAMEM_NAME_SIZE];
	unsigned int index;

	for (index = 0; index < ARRAY_SIZE(alignments); index++) {
		cmamem_unique_name(name, "align");
		ASSERT_EQ(0, alloc_tracked(self, name, self->page_size,
					   CMAMEM_MODE_COHERENT, 0,
					   alignments[index], &alloc));
		ASSERT_EQ(0, cmamem_block_info(self->fd, alloc.handle, &info));
		/* Asking for 0 gets, and reports, page alignment. */
		ASSERT_EQ(alignments[index] ? alignments[index] :
			  self->page_size, info.alignment);
	}
}

TEST_F(pool, alloc_mode_zero_einval)
{
	struct cmamem_alloc alloc;

	valid_alloc(self, &alloc, "mode0");
	alloc.mode = 0;
	expect_alloc_error(_metadata, self, &alloc, -EINVAL);
}

TEST_F(pool, alloc_mode_four_einval)
{
	struct cmamem_alloc alloc;

	valid_alloc(self, &alloc, "mode4");
	alloc.mode = 4;
	expect_alloc_error(_metadata, self, &alloc, -EINVAL);
}

TEST_F(pool, alloc_mode_all_ones_einval)
{
	struct cmamem_alloc alloc;

	valid_alloc(self, &alloc, "modeff");
	alloc.mode = UINT32_MAX;
	expect_alloc_error(_metadata, self, &alloc, -EINVAL);
}

TEST_F(pool, alloc_name_empty_einval)
{
	struct cmamem_alloc alloc;

	valid_alloc(self, &alloc, "x");
	memset(alloc.name, 0, sizeof(alloc.name));
	expect_alloc_error(_metadata, self, &alloc, -EINVAL);
}

TEST_F(pool, alloc_name_not_terminated_einval)
{
	struct cmamem_alloc alloc;

	valid_alloc(self, &alloc, "x");
	memset(alloc.name, 'n', sizeof(alloc.name));
	expect_alloc_error(_metadata, self, &alloc, -EINVAL);
}

TEST_F(pool, alloc_name_control_character_einval)
{
	struct cmamem_alloc alloc;

	valid_alloc(self, &alloc, "ctl");
	alloc.name[2] = 0x01;
	expect_alloc_error(_metadata, self, &alloc, -EINVAL);
}

TEST_F(pool, alloc_name_delete_character_einval)
{
	struct cmamem_alloc alloc;

	valid_alloc(self, &alloc, "del");
	alloc.name[2] = 0x7f;
	expect_alloc_error(_metadata, self, &alloc, -EINVAL);
}

TEST_F(pool, alloc_name_non_ascii_einval)
{
	struct cmamem_alloc alloc;

	valid_alloc(self, &alloc, "utf8");
	alloc.name[2] = (char)0xc3;
	alloc.name[3] = (char)0xa9;
	expect_alloc_error(_metadata, self, &alloc, -EINVAL);
}

TEST_F(pool, alloc_name_space_einval)
{
	struct cmamem_alloc alloc;

	valid_alloc(self, &alloc, "space");
	alloc.name[2] = ' ';
	expect_alloc_error(_metadata, self, &alloc, -EINVAL);
}

TEST_F(pool, alloc_name_garbage_after_nul_einval)
{
	struct cmamem_alloc alloc;

	valid_alloc(self, &alloc, "garbage");
	alloc.name[CMAMEM_NAME_SIZE - 1] = 'g';
	expect_alloc_error(_metadata, self, &alloc, -EINVAL);
}

TEST_F(pool, alloc_name_longest_accepted)
{
	struct cmamem_alloc alloc;
	char name[CMAMEM_NAME_SIZE];
	int length;

	length = snprintf(name, sizeof(name), "long-%d-", (int)getpid());
	memset(name + length, 'L', CMAMEM_NAME_SIZE - 1 - length);
	name[CMAMEM_NAME_SIZE - 1] = '\0';
	ASSERT_EQ(CMAMEM_NAME_SIZE - 1, strlen(name));
	ASSERT_EQ(0, alloc_tracked(self, name, self->page_size,
				   CMAMEM_MODE_COHERENT, 0, 0, &alloc));
}

/* Every character from '!' to '~' is allowed in a name. */
TEST_F(pool, alloc_name_every_printable_accepted)
{
	struct cmamem_alloc alloc;
	char name[CMAMEM_NAME_SIZE];
	int character = 0x21, length;

	while (character <= 0x7e) {
		length = snprintf(name, sizeof(name), "%d.", (int)getpid());
		while (length < CMAMEM_NAME_SIZE - 1 && character <= 0x7e)
			name[length++] = (char)character++;
		name[length] = '\0';
		ASSERT_EQ(0, alloc_tracked(self, name, self->page_size,
					   CMAMEM_MODE_COHERENT, 0, 0,
					   &alloc))
			TH_LOG("name \"%s\" refused", name);
	}
}

TEST_F(pool, alloc_duplicate_name_eexist)
{
	struct cmamem_alloc first, second;
	struct cmamem_block_info info;
	char name[CMAMEM_NAME_SIZE];

	cmamem_unique_name(name, "dup");
	ASSERT_EQ(0, alloc_tracked(self, name, self->page_size,
				   CMAMEM_MODE_COHERENT, 0, 0, &first));
	ASSERT_EQ(0, cmamem_pool_info(self->fd, &self->info));
	valid_alloc(self, &second, "x");
	cmamem_set_name(second.name, name);
	second.length = 2 * self->page_size;
	second.mode = CMAMEM_MODE_CACHED;
	expect_alloc_error(_metadata, self, &second, -EEXIST);
	/* The first block is untouched. */
	ASSERT_EQ(0, cmamem_block_info(self->fd, first.handle, &info));
	ASSERT_EQ(self->page_size, info.length);
	ASSERT_EQ(CMAMEM_MODE_COHERENT, info.mode);
	ASSERT_EQ(1, info.handles);
}

/* Even with no memory limit the length cannot be represented. */
TEST_F(pool, alloc_length_two_to_the_62_efbig)
{
	struct cmamem_alloc alloc;

	valid_alloc(self, &alloc, "huge62");
	alloc.length = 1ULL << 62;
	expect_alloc_error(_metadata, self, &alloc, -EFBIG);
}

TEST_F(pool, alloc_length_uint64_max_efbig)
{
	struct cmamem_alloc alloc;

	valid_alloc(self, &alloc, "hugemax");
	alloc.length = UINT64_MAX;
	expect_alloc_error(_metadata, self, &alloc, -EFBIG);
}

/* Rounding this length up to a page wraps past 2^64 if done naively. */
TEST_F(pool, alloc_length_rounding_overflow_efbig)
{
	struct cmamem_alloc alloc;

	valid_alloc(self, &alloc, "hugewrap");
	alloc.length = UINT64_MAX - self->page_size + 2;
	expect_alloc_error(_metadata, self, &alloc, -EFBIG);
}

TEST_F(pool, alloc_alignment_two_to_the_63_efbig)
{
	struct cmamem_alloc alloc;

	valid_alloc(self, &alloc, "align63");
	alloc.alignment = 1ULL << 63;
	expect_alloc_error(_metadata, self, &alloc, -EFBIG);
}

TEST_F(pool, alloc_map_on_readonly_file_eacces)
{
	struct cmamem_alloc alloc;
	struct cmamem_attach attach;
	int readonly_fd;

	readonly_fd = open(CMAMEM_DEFAULT_POOL_PATH, O_RDONLY);
	ASSERT_LE(0, readonly_fd);
	valid_alloc(self, &alloc, "romap");
	alloc.flags = CMAMEM_MAP;
	ASSERT_EQ(-EACCES, cmamem_ioctl(readonly_fd, CMAMEM_IOCTL_ALLOC,
					&alloc));
	close(readonly_fd);
	ASSERT_EQ(-ENOENT, cmamem_attach(self->fd, alloc.name, 0, &attach));
}

/* --- ATTACH --- */

TEST_F(pool, attach_same_file)
{
	struct cmamem_block_info info;
	struct cmamem_attach attach;
	struct cmamem_alloc alloc;
	char name[CMAMEM_NAME_SIZE];

	cmamem_unique_name(name, "attach");
	ASSERT_EQ(0, alloc_tracked(self, name, 2 * self->page_size,
				   CMAMEM_MODE_WRITECOMBINE, 0, 0, &alloc));
	ASSERT_EQ(0, cmamem_attach(self->fd, name, 0, &attach));
	track(self, attach.handle);
	ASSERT_NE(0, attach.handle);
	ASSERT_NE(alloc.handle, attach.handle);
	ASSERT_EQ(CMAMEM_MODE_WRITECOMBINE, attach.mode);
	ASSERT_EQ(alloc.length, attach.length);
	ASSERT_EQ(alloc.dma_address, attach.dma_address);
	ASSERT_EQ(alloc.physical_address, attach.physical_address);
	ASSERT_EQ(alloc.out_flags, attach.out_flags);
	ASSERT_NE(0, attach.mmap_offset);
	ASSERT_EQ(0, attach.mmap_offset % self->page_size);
	ASSERT_EQ(0, attach.user_address);
	ASSERT_EQ(0, cmamem_block_info(self->fd, attach.handle, &info));
	ASSERT_EQ(2, info.handles);
	ASSERT_STREQ(name, info.name);
}

TEST_F(pool, attach_unknown_name_enoent)
{
	struct cmamem_attach attach;
	char name[CMAMEM_NAME_SIZE];

	cmamem_unique_name(name, "nosuch");
	ASSERT_EQ(-ENOENT, cmamem_attach(self->fd, name, 0, &attach));
}

TEST_F(pool, attach_after_last_handle_freed_enoent)
{
	struct cmamem_attach attach;
	struct cmamem_alloc alloc;
	char name[CMAMEM_NAME_SIZE];

	cmamem_unique_name(name, "gone");
	ASSERT_EQ(0, cmamem_alloc_named(self->fd, name, self->page_size,
					CMAMEM_MODE_COHERENT, 0, 0, &alloc));
	ASSERT_EQ(0, cmamem_free(self->fd, alloc.handle));
	ASSERT_EQ(-ENOENT, cmamem_attach(self->fd, name, 0, &attach));
}

static void expect_attach_error(struct __test_metadata *_metadata,
				FIXTURE_DATA(pool) *self,
				struct cmamem_attach *attach, int error)
{
	int result;

	attach->size = sizeof(*attach);
	result = cmamem_ioctl(self->fd, CMAMEM_IOCTL_ATTACH, attach);
	if (!result)
		track(self, attach->handle);
	ASSERT_EQ(error, result);
}

TEST_F(pool, attach_name_empty_einval)
{
	struct cmamem_attach attach = { 0 };

	expect_attach_error(_metadata, self, &attach, -EINVAL);
}

TEST_F(pool, attach_name_not_terminated_einval)
{
	struct cmamem_attach attach = { 0 };

	memset(attach.name, 'n', sizeof(attach.name));
	expect_attach_error(_metadata, self, &attach, -EINVAL);
}

TEST_F(pool, attach_name_space_einval)
{
	struct cmamem_attach attach = { 0 };

	cmamem_set_name(attach.name, "has space");
	expect_attach_error(_metadata, self, &attach, -EINVAL);
}

TEST_F(pool, attach_name_control_character_einval)
{
	struct cmamem_attach attach = { 0 };

	cmamem_set_name(attach.name, "tab\there");
	expect_attach_error(_metadata, self, &attach, -EINVAL);
}

/* Garbage after the NUL of an existing block's name is still invalid. */
TEST_F(pool, attach_name_garbage_after_nul_einval)
{
	struct cmamem_attach attach = { 0 };
	struct cmamem_alloc alloc;
	char name[CMAMEM_NAME_SIZE];

	cmamem_unique_name(name, "trail");
	ASSERT_EQ(0, alloc_tracked(self, name, self->page_size,
				   CMAMEM_MODE_COHERENT, 0, 0, &alloc));
	cmamem_set_name(attach.name, name);
	attach.name[CMAMEM_NAME_SIZE - 1] = 'x';
	expect_attach_error(_metadata, self, &attach, -EINVAL);
}

/* --- FREE --- */

TEST_F(pool, free_success)
{
	struct cmamem_pool_info before, after;
	struct cmamem_block_info info;
	struct cmamem_alloc alloc;
	char name[CMAMEM_NAME_SIZE];

	ASSERT_EQ(0, cmamem_pool_info(self->fd, &before));
	cmamem_unique_name(name, "free");
	ASSERT_EQ(0, cmamem_alloc_named(self->fd, name, self->page_size,
					CMAMEM_MODE_COHERENT, 0, 0, &alloc));
	ASSERT_EQ(0, cmamem_free(self->fd, alloc.handle));
	ASSERT_EQ(-ENOENT, cmamem_block_info(self->fd, alloc.handle, &info));
	ASSERT_EQ(0, cmamem_pool_info(self->fd, &after));
	ASSERT_EQ(before.blocks, after.blocks);
	ASSERT_EQ(before.used_bytes, after.used_bytes);
}

TEST_F(pool, free_unknown_handle_enoent)
{
	struct cmamem_alloc alloc;
	char name[CMAMEM_NAME_SIZE];

	cmamem_unique_name(name, "unknown");
	ASSERT_EQ(0, alloc_tracked(self, name, self->page_size,
				   CMAMEM_MODE_COHERENT, 0, 0, &alloc));
	ASSERT_EQ(-ENOENT, cmamem_free(self->fd, alloc.handle + 1000));
	ASSERT_EQ(-ENOENT, cmamem_free(self->fd, UINT32_MAX));
}

TEST_F(pool, free_handle_zero_enoent)
{
	ASSERT_EQ(-ENOENT, cmamem_free(self->fd, 0));
}

TEST_F(pool, free_twice_enoent)
{
	struct cmamem_alloc alloc;
	char name[CMAMEM_NAME_SIZE];

	cmamem_unique_name(name, "twice");
	ASSERT_EQ(0, cmamem_alloc_named(self->fd, name, self->page_size,
					CMAMEM_MODE_COHERENT, 0, 0, &alloc));
	ASSERT_EQ(0, cmamem_free(self->fd, alloc.handle));
	ASSERT_EQ(-ENOENT, cmamem_free(self->fd, alloc.handle));
}

/* Freeing one of two handles keeps the block and its name. */
TEST_F(pool, free_one_of_two_handles)
{
	struct cmamem_attach attach, again;
	struct cmamem_block_info info;
	struct cmamem_alloc alloc;
	char name[CMAMEM_NAME_SIZE];

	cmamem_unique_name(name, "half");
	ASSERT_EQ(0, cmamem_alloc_named(self->fd, name, self->page_size,
					CMAMEM_MODE_COHERENT, 0, 0, &alloc));
	ASSERT_EQ(0, cmamem_attach(self->fd, name, 0, &attach));
	track(self, attach.handle);
	ASSERT_EQ(0, cmamem_free(self->fd, alloc.handle));
	ASSERT_EQ(0, cmamem_block_info(self->fd, attach.handle, &info));
	ASSERT_EQ(1, info.handles);
	ASSERT_STREQ(name, info.name);
	ASSERT_EQ(0, cmamem_attach(self->fd, name, 0, &again));
	track(self, again.handle);
}

/* --- SYNC --- */

static void check_sync_in_mode(struct __test_metadata *_metadata,
			       FIXTURE_DATA(pool) *self, __u32 mode)
{
	struct cmamem_alloc alloc;
	char name[CMAMEM_NAME_SIZE];
	__u64 length;

	cmamem_unique_name(name, "sync");
	ASSERT_EQ(0, alloc_tracked(self, name, 3 * self->page_size, mode, 0, 0,
				   &alloc));
	length = alloc.length;
	ASSERT_EQ(0, cmamem_sync(self->fd, alloc.handle, CMAMEM_SYNC_FOR_CPU,
				 0, length));
	ASSERT_EQ(0, cmamem_sync(self->fd, alloc.handle,
				 CMAMEM_SYNC_FOR_DEVICE, 0, length));
	/* The last byte alone, and an unaligned range inside the block. */
	ASSERT_EQ(0, cmamem_sync(self->fd, alloc.handle, CMAMEM_SYNC_FOR_CPU,
				 length - 1, 1));
	ASSERT_EQ(0, cmamem_sync(self->fd, alloc.handle,
				 CMAMEM_SYNC_FOR_DEVICE, 3, 5));
	ASSERT_EQ(0, cmamem_sync(self->fd, alloc.handle,
				 CMAMEM_SYNC_FOR_DEVICE, self->page_size - 7,
				 self->page_size + 13));
}

TEST_F(pool, sync_coherent)
{
	check_sync_in_mode(_metadata, self, CMAMEM_MODE_COHERENT);
}

TEST_F(pool, sync_writecombine)
{
	check_sync_in_mode(_metadata, self, CMAMEM_MODE_WRITECOMBINE);
}

TEST_F(pool, sync_cached)
{
	check_sync_in_mode(_metadata, self, CMAMEM_MODE_CACHED);
}

/* A cached block, where SYNC does real work, for the error tests. */
static __u32 sync_target(struct __test_metadata *_metadata,
			 FIXTURE_DATA(pool) *self)
{
	struct cmamem_alloc alloc;
	char name[CMAMEM_NAME_SIZE];

	cmamem_unique_name(name, "syncerr");
	ASSERT_EQ(0, alloc_tracked(self, name, 2 * self->page_size,
				   CMAMEM_MODE_CACHED, 0, 0, &alloc));
	return alloc.handle;
}

TEST_F(pool, sync_length_zero_einval)
{
	__u32 handle = sync_target(_metadata, self);

	ASSERT_EQ(-EINVAL, cmamem_sync(self->fd, handle,
				       CMAMEM_SYNC_FOR_CPU, 0, 0));
}

TEST_F(pool, sync_both_directions_einval)
{
	__u32 handle = sync_target(_metadata, self);

	ASSERT_EQ(-EINVAL, cmamem_sync(self->fd, handle,
				       CMAMEM_SYNC_FOR_CPU |
				       CMAMEM_SYNC_FOR_DEVICE,
				       0, self->page_size));
}

TEST_F(pool, sync_no_direction_einval)
{
	__u32 handle = sync_target(_metadata, self);

	ASSERT_EQ(-EINVAL, cmamem_sync(self->fd, handle, 0, 0,
				       self->page_size));
}

TEST_F(pool, sync_offset_past_end_einval)
{
	__u32 handle = sync_target(_metadata, self);

	ASSERT_EQ(-EINVAL, cmamem_sync(self->fd, handle, CMAMEM_SYNC_FOR_CPU,
				       2 * self->page_size, 1));
	ASSERT_EQ(-EINVAL, cmamem_sync(self->fd, handle, CMAMEM_SYNC_FOR_CPU,
				       UINT64_MAX, 1));
}

/* offset + length wraps to a small number: must not pass as "inside". */
TEST_F(pool, sync_offset_plus_length_overflow_einval)
{
	__u32 handle = sync_target(_metadata, self);

	ASSERT_EQ(-EINVAL, cmamem_sync(self->fd, handle, CMAMEM_SYNC_FOR_CPU,
				       self->page_size,
				       UINT64_MAX - self->page_size + 2));
	ASSERT_EQ(-EINVAL, cmamem_sync(self->fd, handle,
				       CMAMEM_SYNC_FOR_DEVICE, 1,
				       UINT64_MAX));
}

TEST_F(pool, sync_length_past_end_einval)
{
	__u32 handle = sync_target(_metadata, self);

	ASSERT_EQ(-EINVAL, cmamem_sync(self->fd, handle, CMAMEM_SYNC_FOR_CPU,
				       0, 2 * self->page_size + 1));
	ASSERT_EQ(-EINVAL, cmamem_sync(self->fd, handle,
				       CMAMEM_SYNC_FOR_DEVICE,
				       self->page_size, self->page_size + 1));
}

TEST_F(pool, sync_unknown_handle_enoent)
{
	__u32 handle = sync_target(_metadata, self);

	ASSERT_EQ(-ENOENT, cmamem_sync(self->fd, handle + 1000,
				       CMAMEM_SYNC_FOR_CPU, 0, 1));
	ASSERT_EQ(-ENOENT, cmamem_sync(self->fd, 0, CMAMEM_SYNC_FOR_CPU, 0,
				       1));
}

/* --- BLOCK_INFO --- */

static bool name_field_clean(const char *field, const char *expected)
{
	size_t index, length = strlen(expected);

	if (memcmp(field, expected, length + 1))
		return false;
	for (index = length; index < CMAMEM_NAME_SIZE; index++)
		if (field[index])
			return false;
	return true;
}

TEST_F(pool, block_info_reply)
{
	struct cmamem_block_info info;
	struct cmamem_alloc alloc;
	char name[CMAMEM_NAME_SIZE];

	cmamem_unique_name(name, "info");
	ASSERT_EQ(0, alloc_tracked(self, name, 3 * self->page_size,
				   CMAMEM_MODE_WRITECOMBINE, 0,
				   2 * self->page_size, &alloc));
	ASSERT_EQ(0, cmamem_block_info(self->fd, alloc.handle, &info));
	ASSERT_EQ(sizeof(info), info.size);
	ASSERT_EQ(alloc.handle, info.handle);
	ASSERT_EQ(CMAMEM_MODE_WRITECOMBINE, info.mode);
	ASSERT_EQ(3 * self->page_size, info.length);
	ASSERT_EQ(2 * self->page_size, info.alignment);
	ASSERT_EQ(alloc.mmap_offset, info.mmap_offset);
	ASSERT_EQ(alloc.dma_address, info.dma_address);
	ASSERT_EQ(alloc.physical_address, info.physical_address);
	ASSERT_EQ(alloc.out_flags, info.out_flags);
	ASSERT_EQ(1, info.handles);
	ASSERT_EQ(0, info.mappings);
	ASSERT_EQ(0, info.dma_bufs);
	ASSERT_EQ(geteuid(), info.owner_uid);
	ASSERT_EQ(0, info.__reserved);
	ASSERT_TRUE(name_field_clean(info.name, name));
	ASSERT_TRUE(name_field_clean(info.pool, CMAMEM_DEFAULT_POOL_NAME));
}

TEST_F(pool, block_info_unknown_handle_enoent)
{
	struct cmamem_block_info info;

	ASSERT_EQ(-ENOENT, cmamem_block_info(self->fd, 0, &info));
	ASSERT_EQ(-ENOENT, cmamem_block_info(self->fd, 4242, &info));
}

/* --- POOL_INFO --- */

TEST_F(pool, pool_info_reply)
{
	struct cmamem_pool_info info;

	ASSERT_EQ(0, cmamem_pool_info(self->fd, &info));
	ASSERT_EQ(sizeof(info), info.size);
	ASSERT_EQ(cmamem_page_size(), info.page_size);
	ASSERT_TRUE(info.pool_flags & CMAMEM_POOL_DEFAULT);
	ASSERT_FALSE(info.pool_flags & CMAMEM_POOL_CARVEOUT);
	ASSERT_FALSE(info.pool_flags & CMAMEM_POOL_TOTAL_KNOWN);
	ASSERT_TRUE(info.pool_flags & CMAMEM_POOL_CACHED);
	ASSERT_EQ(0, info.pool_flags & ~(__u32)(CMAMEM_POOL_DEFAULT |
						   CMAMEM_POOL_CMA |
						   CMAMEM_POOL_CARVEOUT |
						   CMAMEM_POOL_TOTAL_KNOWN |
						   CMAMEM_POOL_CACHED));
	/* Without TOTAL_KNOWN the pool's own size is not reported. */
	ASSERT_EQ(0, info.total_bytes);
	ASSERT_GE(info.peak_bytes, info.used_bytes);
	ASSERT_EQ(0, info.__reserved);
	ASSERT_TRUE(name_field_clean(info.name, CMAMEM_DEFAULT_POOL_NAME));
}

TEST_F(pool, pool_info_tracks_allocations)
{
	struct cmamem_pool_info before, middle, after;
	struct cmamem_alloc big, small;
	char name[CMAMEM_NAME_SIZE];

	ASSERT_EQ(0, cmamem_pool_info(self->fd, &before));
	cmamem_unique_name(name, "big");
	ASSERT_EQ(0, cmamem_alloc_named(self->fd, name, 3 * self->page_size,
					CMAMEM_MODE_COHERENT, 0, 0, &big));
	track(self, big.handle);
	cmamem_unique_name(name, "small");
	ASSERT_EQ(0, cmamem_alloc_named(self->fd, name, self->page_size,
					CMAMEM_MODE_CACHED, 0, 0, &small));
	track(self, small.handle);
	ASSERT_EQ(0, cmamem_pool_info(self->fd, &middle));
	ASSERT_EQ(before.used_bytes + 4 * self->page_size, middle.used_bytes);
	ASSERT_EQ(before.blocks + 2, middle.blocks);
	ASSERT_EQ(before.allocations + 2, middle.allocations);
	ASSERT_EQ(before.failures, middle.failures);
	ASSERT_GE(middle.peak_bytes, middle.used_bytes);

	ASSERT_EQ(0, cmamem_free(self->fd, big.handle));
	ASSERT_EQ(0, cmamem_pool_info(self->fd, &after));
	ASSERT_EQ(before.used_bytes + self->page_size, after.used_bytes);
	ASSERT_EQ(before.blocks + 1, after.blocks);
	/* Peak remembers the high-water mark; allocations never go down. */
	ASSERT_GE(after.peak_bytes, middle.used_bytes);
	ASSERT_EQ(middle.allocations, after.allocations);

	ASSERT_EQ(0, cmamem_free(self->fd, small.handle));
	ASSERT_EQ(0, cmamem_pool_info(self->fd, &after));
	ASSERT_EQ(before.used_bytes, after.used_bytes);
	ASSERT_EQ(before.blocks, after.blocks);
}

TEST_F(pool, pool_info_attach_adds_no_block)
{
	struct cmamem_pool_info before, after;
	struct cmamem_attach attach;
	struct cmamem_alloc alloc;
	char name[CMAMEM_NAME_SIZE];

	cmamem_unique_name(name, "noadd");
	ASSERT_EQ(0, alloc_tracked(self, name, self->page_size,
				   CMAMEM_MODE_COHERENT, 0, 0, &alloc));
	ASSERT_EQ(0, cmamem_pool_info(self->fd, &before));
	ASSERT_EQ(0, cmamem_attach(self->fd, name, 0, &attach));
	track(self, attach.handle);
	ASSERT_EQ(0, cmamem_pool_info(self->fd, &after));
	ASSERT_EQ(before.blocks, after.blocks);
	ASSERT_EQ(before.used_bytes, after.used_bytes);
	ASSERT_EQ(before.allocations, after.allocations);
}

/*
 * An allocation the pool cannot serve (more than the machine's memory, yet
 * within every limit) fails with ENOMEM and counts as a failure; nothing
 * is used afterwards.
 */
TEST_F(pool, pool_info_counts_failures)
{
	struct cmamem_pool_info before, after;
	struct cmamem_alloc alloc;
	__u64 memory_bytes, length;

	memory_bytes = (__u64)sysconf(_SC_PHYS_PAGES) * self->page_size;
	length = 4 * memory_bytes;
	/*
	 * Stay addressable by a 32-bit caller too: 4 GiB on a 64-bit
	 * kernel, 3 GiB - 16 MiB (TASK_SIZE) on a 32-bit ARM kernel.
	 */
	if (sizeof(void *) == 4 && length > (5ULL << 29))
		length = 5ULL << 29;
	ASSERT_EQ(0, cmamem_pool_info(self->fd, &before));
	if (before.max_block_bytes && before.max_block_bytes < length)
		length = before.max_block_bytes;
	if (length <= memory_bytes)
		SKIP(return, "max_block_bytes %llu is below the RAM size: no ENOMEM",
		     before.max_block_bytes);
	valid_alloc(self, &alloc, "toomuch");
	alloc.length = length;
	ASSERT_EQ(-ENOMEM, cmamem_ioctl(self->fd, CMAMEM_IOCTL_ALLOC, &alloc))
		TH_LOG("asked %llu bytes", length);
	ASSERT_EQ(0, cmamem_pool_info(self->fd, &after));
	ASSERT_EQ(before.failures + 1, after.failures);
	ASSERT_EQ(before.allocations, after.allocations);
	ASSERT_EQ(before.used_bytes, after.used_bytes);
	ASSERT_EQ(before.blocks, after.blocks);
}

/*
 * ALLOC with CMAMEM_MAP pins the reply struct before it does anything, so
 * that the reply cannot fail once the block is mapped: the old undo (check
 * the VMA, then vm_munmap()) was two steps, and a mapping another thread
 * put at that address in between was destroyed. A struct that cannot be
 * written fails at once: nothing is allocated, not even for a moment.
 */
TEST_F(pool, alloc_map_unwritable_reply_allocates_nothing)
{
	struct cmamem_pool_info before, after;
	struct cmamem_alloc *alloc;

	alloc = mmap(NULL, self->page_size, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, alloc);
	valid_alloc(self, alloc, "unwritable");
	alloc->flags = CMAMEM_MAP;
	ASSERT_EQ(0, mprotect(alloc, self->page_size, PROT_READ));
	ASSERT_EQ(0, cmamem_pool_info(self->fd, &before));
	ASSERT_EQ(-EFAULT, cmamem_ioctl(self->fd, CMAMEM_IOCTL_ALLOC, alloc));
	ASSERT_EQ(0, cmamem_pool_info(self->fd, &after));
	ASSERT_EQ(before.allocations, after.allocations);
	ASSERT_EQ(before.blocks, after.blocks);
	ASSERT_EQ(0, munmap(alloc, self->page_size));
}

/*
 * A counter of /proc/vmstat, exactly, or -1: the counters live in per-CPU
 * parts that reach /proc/vmstat in batches, and writing stat_refresh
 * (root only) adds them up first.
 */
static long long vmstat_counter(const char *name)
{
	char key[64];
	long long value;
	FILE *vmstat;
	int refresh;

	refresh = open("/proc/sys/vm/stat_refresh", O_WRONLY);
	if (refresh < 0)
		return -1;
	if (write(refresh, "1", 1) != 1) {
		close(refresh);
		return -1;
	}
	close(refresh);
	vmstat = fopen("/proc/vmstat", "r");
	if (!vmstat)
		return -1;
	while (fscanf(vmstat, "%63s %lld", key, &value) == 2)
		if (!strcmp(key, name)) {
			fclose(vmstat);
			return value;
		}
	fclose(vmstat);
	return -1;
}

/*
 * A struct that spans two pages, the second read-only: the first page
 * pins, the second does not, and the first must be unpinned again (the
 * kernel counts every FOLL_PIN it takes and gives back), with nothing
 * allocated.
 */
TEST_F(pool, alloc_map_reply_across_an_unwritable_page_pins_nothing)
{
	long long acquired, released;
	struct cmamem_pool_info before, after;
	struct cmamem_alloc *alloc;
	__u8 *pages;
	int round;

	pages = mmap(NULL, 2 * self->page_size, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, pages);
	/* Its first 16 bytes on the first page, the rest on the second. */
	alloc = (struct cmamem_alloc *)(pages + self->page_size - 16);
	valid_alloc(self, alloc, "straddle");
	alloc->flags = CMAMEM_MAP;
	ASSERT_EQ(0, mprotect(pages + self->page_size, self->page_size,
			      PROT_READ));
	ASSERT_EQ(0, cmamem_pool_info(self->fd, &before));
	acquired = vmstat_counter("nr_foll_pin_acquired");
	released = vmstat_counter("nr_foll_pin_released");
	if (acquired < 0 || released < 0)
		SKIP(goto out, "no exact FOLL_PIN counters (/proc/vmstat, stat_refresh)");
	for (round = 0; round < 16; round++)
		ASSERT_EQ(-EFAULT, cmamem_ioctl(self->fd, CMAMEM_IOCTL_ALLOC,
						alloc));
	acquired = vmstat_counter("nr_foll_pin_acquired") - acquired;
	released = vmstat_counter("nr_foll_pin_released") - released;
	TH_LOG("%lld pins taken, %lld given back", acquired, released);
	ASSERT_EQ(acquired, released)
		TH_LOG("a page of the reply stayed pinned");
	ASSERT_EQ(0, cmamem_pool_info(self->fd, &after));
	ASSERT_EQ(before.allocations, after.allocations);
	ASSERT_EQ(before.blocks, after.blocks);
out:
	ASSERT_EQ(0, munmap(pages, 2 * self->page_size));
}

/*
 * The same with a thread that keeps turning the reply's page read-only
 * and back: every ALLOC with CMAMEM_MAP either fails with EFAULT having
 * allocated nothing, or succeeds with a reply that maps the block.
 */
TEST_F_TIMEOUT(pool, alloc_map_reply_racing_mprotect, 120)
{
	struct protection_flipper flipper;
	struct cmamem_pool_info before, after;
	struct cmamem_alloc request;
	int round, succeeded = 0, refused = 0, result;

	ASSERT_EQ(0, flipper_start(&flipper, self->page_size));
	for (round = 0; round < 200; round++) {
		valid_alloc(self, &request, "flipped");
		request.flags = CMAMEM_MAP;
		ASSERT_EQ(0, cmamem_pool_info(self->fd, &before));
		ASSERT_EQ(0, flipper_write(&flipper, &request,
					   sizeof(request)));
		result = cmamem_ioctl(self->fd, CMAMEM_IOCTL_ALLOC,
				      flipper.page);
		ASSERT_EQ(0, cmamem_pool_info(self->fd, &after));
		if (result == -EFAULT) {
			refused++;
			ASSERT_EQ(before.allocations, after.allocations);
			continue;
		}
		ASSERT_EQ(0, result);
		succeeded++;
		memcpy(&request, flipper.page, sizeof(request));
		ASSERT_NE(0, request.user_address);
		memset(cmamem_ptr(request.user_address), 0x3c, self->page_size);
		ASSERT_EQ(0, munmap(cmamem_ptr(request.user_address),
				    request.length));
		ASSERT_EQ(0, cmamem_free(self->fd, request.handle));
	}
	ASSERT_EQ(0, flipper_stop(&flipper));
	TH_LOG("%d replies written, %d refused before anything was done",
	       succeeded, refused);
	ASSERT_EQ(0, cmamem_pool_info(self->fd, &after));
	ASSERT_EQ(self->info.blocks, after.blocks);
}

TEST_HARNESS_MAIN
