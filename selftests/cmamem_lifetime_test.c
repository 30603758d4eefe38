// SPDX-License-Identifier: GPL-2.0
/*
 * cmamem lifetime tests: when a block's name goes away (its last handle)
 * and when its memory goes away (its last handle, mapping and dma-buf);
 * how handles travel with the open file (fork, SCM_RIGHTS); attaching by
 * name across files, processes and users; and who may see DMA addresses.
 */
#include "kselftest_harness.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include "cmamem_util.h"

#define BLOCK_PAGES 4

FIXTURE(lifetime) {
	int fd;
	size_t page_size;
	size_t length;
	struct cmamem_tracker tracker;
};

FIXTURE_SETUP(lifetime)
{
	cmamem_tracker_init(&self->tracker);
	self->page_size = cmamem_page_size();
	self->length = BLOCK_PAGES * self->page_size;
	self->fd = open(CMAMEM_DEFAULT_POOL_PATH, O_RDWR);
	if (self->fd < 0)
		SKIP(return, "%s: %s", CMAMEM_DEFAULT_POOL_PATH,
		     strerror(errno));
	cmamem_track_fd(&self->tracker, self->fd);
}

FIXTURE_TEARDOWN(lifetime)
{
	/* Closing the files drops every handle the test took. */
	cmamem_tracker_release(&self->tracker);
}

static __u8 *map_tracked(FIXTURE_DATA(lifetime) *self, int fd,
			 __u64 offset, size_t length, int protection)
{
	return cmamem_track_map(&self->tracker,
				cmamem_map(fd, offset, length, protection),
				length);
}

static int open_tracked(FIXTURE_DATA(lifetime) *self, int flags)
{
	return cmamem_track_fd(&self->tracker,
			       open(CMAMEM_DEFAULT_POOL_PATH, flags));
}

/* Allocates a block of self->length and maps all of it read/write. */
static __u8 *alloc_and_map(struct __test_metadata *_metadata,
			   FIXTURE_DATA(lifetime) *self, int fd,
			   const char *tag, __u32 mode,
			   struct cmamem_alloc *alloc)
{
	__u8 *address;

	ASSERT_EQ(0, cmamem_alloc_block(fd, tag, self->length, mode, alloc));
	address = map_tracked(self, fd, alloc->mmap_offset, self->length,
			      PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, address);
	return address;
}

static void pool_usage(struct __test_metadata *_metadata, int fd,
		       __u64 *used_bytes, __u32 *blocks)
{
	struct cmamem_pool_info info;

	ASSERT_EQ(0, cmamem_pool_info(fd, &info));
	*used_bytes = info.used_bytes;
	*blocks = info.blocks;
}

/*
 * FREE with a live mapping: the mapping keeps working, the name is free at
 * once, the offset stops working at once, and the memory stays in use
 * until munmap().
 */
/*
 * A page of a cached block still referenced from outside when the block's
 * last reference goes (here a pipe buffer vmsplice() filled from the
 * mapping; an O_DIRECT transfer in flight does the same): the memory must
 * stay out of the pool until the page is let go, and then come back.
 * Freeing it at once made cma_release() warn about pages still in use.
 */
TEST_F(lifetime, free_while_page_held_by_pipe)
{
	__u64 used_before, used;
	__u32 blocks_before, blocks;
	struct cmamem_alloc alloc;
	struct iovec iov;
	int pipe_fds[2], tries;
	__u8 *address, *copy;

	pool_usage(_metadata, self->fd, &used_before, &blocks_before);
	/* vmsplice() pins: a block in CMA must ask for it. */
	ASSERT_EQ(0, cmamem_alloc_named(self->fd, "spliced", self->length,
					CMAMEM_MODE_CACHED, CMAMEM_PINNABLE,
					0, &alloc));
	address = map_tracked(self, self->fd, alloc.mmap_offset, self->length,
			      PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, address);
	cmamem_fill(address, self->page_size, 0x5e);
	ASSERT_EQ(0, pipe(pipe_fds));
	iov = (struct iovec) { .iov_base = address, .iov_len = self->page_size };
	ASSERT_EQ((ssize_t)self->page_size, vmsplice(pipe_fds[1], &iov, 1, 0));

	ASSERT_EQ(0, cmamem_unmap(&self->tracker, address));
	ASSERT_EQ(0, cmamem_free(self->fd, alloc.handle));
	/* The pipe still holds a page: the block is not back yet. */
	pool_usage(_metadata, self->fd, &used, &blocks);
	ASSERT_EQ(used_before + self->length, used);
	ASSERT_EQ(blocks_before + 1, blocks);

	copy = malloc(self->page_size);
	ASSERT_NE(NULL, copy);
	ASSERT_EQ((ssize_t)self->page_size,
		  read(pipe_fds[0], copy, self->page_size));
	EXPECT_EQ(-1, cmamem_check(copy, self->page_size, 0x5e));
	free(copy);
	close(pipe_fds[0]);
	close(pipe_fds[1]);

	/* The driver checks again every 100 ms. */
	for (tries = 0; tries < 50; tries++) {
		pool_usage(_metadata, self->fd, &used, &blocks);
		if (used == used_before)
			break;
		usleep(100 * 1000);
	}
	ASSERT_EQ(used_before, used);
	ASSERT_EQ(blocks_before, blocks);
}

TEST_F(lifetime, free_while_mapped)
{
	struct cmamem_alloc alloc, reuse;
	struct cmamem_block_info info;
	__u64 used_before, used;
	__u32 blocks_before, blocks;
	__u8 *address;
	void *stale;

	pool_usage(_metadata, self->fd, &used_before, &blocks_before);
	address = alloc_and_map(_metadata, self, self->fd, "freemap",
				CMAMEM_MODE_COHERENT, &alloc);
	cmamem_fill(address, self->length, 0xf1);
	ASSERT_EQ(0, cmamem_free(self->fd, alloc.handle));

	ASSERT_EQ(-1, cmamem_check(address, self->length, 0xf1));
	cmamem_fill(address, self->length, 0xf2);
	ASSERT_EQ(-1, cmamem_check(address, self->length, 0xf2));
	ASSERT_EQ(-ENOENT, cmamem_block_info(self->fd, alloc.handle, &info));

	pool_usage(_metadata, self->fd, &used, &blocks);
	ASSERT_EQ(used_before + self->length, used);
	ASSERT_EQ(blocks_before + 1, blocks);

	stale = mmap(NULL, self->page_size, PROT_READ, MAP_SHARED, self->fd,
		     (off_t)alloc.mmap_offset);
	if (stale != MAP_FAILED)
		munmap(stale, self->page_size);
	ASSERT_EQ(MAP_FAILED, stale);
	ASSERT_EQ(ENXIO, errno);

	ASSERT_EQ(0, cmamem_alloc_named(self->fd, alloc.name, self->page_size,
					CMAMEM_MODE_CACHED, 0, 0, &reuse));
	ASSERT_EQ(0, cmamem_free(self->fd, reuse.handle));

	ASSERT_EQ(0, cmamem_unmap(&self->tracker, address));
	pool_usage(_metadata, self->fd, &used, &blocks);
	ASSERT_EQ(used_before, used);
	ASSERT_EQ(blocks_before, blocks);
}

/* Closing the file keeps a mapping (and its memory) alive until munmap. */
TEST_F(lifetime, close_with_live_mapping)
{
	__u32 blocks_before, blocks;
	__u64 used_before, used;
	struct cmamem_attach attach;
	struct cmamem_alloc alloc;
	__u8 *address;
	int other_fd;

	pool_usage(_metadata, self->fd, &used_before, &blocks_before);
	other_fd = open_tracked(self, O_RDWR);
	ASSERT_LE(0, other_fd);
	address = alloc_and_map(_metadata, self, other_fd, "closemap",
				CMAMEM_MODE_CACHED, &alloc);
	cmamem_fill(address, self->length, 0xc1);
	ASSERT_EQ(0, cmamem_close(&self->tracker, other_fd));

	ASSERT_EQ(-1, cmamem_check(address, self->length, 0xc1));
	cmamem_fill(address, self->length, 0xc2);
	ASSERT_EQ(-1, cmamem_check(address, self->length, 0xc2));
	/* The last handle went with the file: the name is unpublished. */
	ASSERT_EQ(-ENOENT, cmamem_attach(self->fd, alloc.name, 0, &attach));
	pool_usage(_metadata, self->fd, &used, &blocks);
	ASSERT_EQ(used_before + self->length, used);
	ASSERT_EQ(blocks_before + 1, blocks);

	ASSERT_EQ(0, cmamem_unmap(&self->tracker, address));
	pool_usage(_metadata, self->fd, &used, &blocks);
	ASSERT_EQ(used_before, used);
	ASSERT_EQ(blocks_before, blocks);
}

/* Unmapping part of a mapping leaves the rest valid (and counted). */
TEST_F(lifetime, partial_munmap)
{
	const size_t page = self->page_size;
	struct cmamem_block_info info;
	__u32 blocks_before, blocks;
	__u64 used_before, used;
	struct cmamem_alloc alloc;
	__u8 *address, *expected;

	expected = malloc(self->length);
	ASSERT_NE(NULL, expected);
	cmamem_fill(expected, self->length, 0x9a);
	pool_usage(_metadata, self->fd, &used_before, &blocks_before);
	address = alloc_and_map(_metadata, self, self->fd, "partial",
				CMAMEM_MODE_WRITECOMBINE, &alloc);
	cmamem_fill(address, self->length, 0x9a);
	/* Punch out page 1; teardown must know the two pieces left. */
	cmamem_forget_map(&self->tracker, address);
	cmamem_track_map(&self->tracker, address, page);
	cmamem_track_map(&self->tracker, address + 2 * page, 2 * page);
	ASSERT_EQ(0, munmap(address + page, page));
	ASSERT_EQ(0, memcmp(address, expected, page));
	ASSERT_EQ(0, memcmp(address + 2 * page, expected + 2 * page,
			    2 * page));
	ASSERT_EQ(0, cmamem_block_info(self->fd, alloc.handle, &info));
	ASSERT_EQ(2, info.mappings);

	ASSERT_EQ(0, cmamem_unmap(&self->tracker, address));
	ASSERT_EQ(0, cmamem_block_info(self->fd, alloc.handle, &info));
	ASSERT_EQ(1, info.mappings);

	/* Without a handle, the last piece alone holds the block. */
	ASSERT_EQ(0, cmamem_free(self->fd, alloc.handle));
	ASSERT_EQ(0, memcmp(address + 2 * page, expected + 2 * page,
			    2 * page));
	pool_usage(_metadata, self->fd, &used, &blocks);
	ASSERT_EQ(used_before + self->length, used);
	ASSERT_EQ(0, cmamem_unmap(&self->tracker, address + 2 * page));
	pool_usage(_metadata, self->fd, &used, &blocks);
	ASSERT_EQ(used_before, used);
	ASSERT_EQ(blocks_before, blocks);
	free(expected);
}

struct fork_check {
	int fd;
	__u32 handle;
	__u8 *address;
	size_t length;
};

/* Child: reads the parent's first half, writes the second half. */
static int child_reads_and_writes(void *argument)
{
	struct fork_check *check = argument;
	struct cmamem_block_info info;
	size_t half = check->length / 2;

	if (cmamem_check(check->address, half, 0x1f) != -1)
		return 1;
	cmamem_fill(check->address + half, half, 0x2f);
	if (cmamem_block_info(check->fd, check->handle, &info))
		return 2;
	/* The parent's mapping and the copy fork() made. */
	if (info.mappings != 2)
		return 3;
	return 0;
}

TEST_F(lifetime, fork_child_shares_mapping)
{
	struct cmamem_block_info info;
	struct cmamem_alloc alloc;
	struct fork_check check;
	size_t half = self->length / 2;
	__u8 *address;

	address = alloc_and_map(_metadata, self, self->fd, "fork",
				CMAMEM_MODE_COHERENT, &alloc);
	cmamem_fill(address, half, 0x1f);
	check = (struct fork_check) {
		.fd = self->fd, .handle = alloc.handle,
		.address = address, .length = self->length,
	};
	ASSERT_EQ(0, cmamem_run_child(child_reads_and_writes, &check));
	ASSERT_EQ(-1, cmamem_check(address + half, half, 0x2f));
	ASSERT_EQ(0, cmamem_block_info(self->fd, alloc.handle, &info));
	ASSERT_EQ(1, info.mappings);
}

static int child_frees(void *argument)
{
	struct fork_check *check = argument;

	return cmamem_free(check->fd, check->handle) ? 1 : 0;
}

/* The child's fd is the same open file: its FREE drops the handle. */
TEST_F(lifetime, fork_child_frees_through_inherited_fd)
{
	struct cmamem_block_info info;
	struct cmamem_alloc alloc;
	struct fork_check check;

	ASSERT_EQ(0, cmamem_alloc_block(self->fd, "forkfree", self->length,
					CMAMEM_MODE_COHERENT, &alloc));
	check = (struct fork_check) { .fd = self->fd, .handle = alloc.handle };
	ASSERT_EQ(0, cmamem_run_child(child_frees, &check));
	ASSERT_EQ(-ENOENT, cmamem_block_info(self->fd, alloc.handle, &info));
	ASSERT_EQ(-ENOENT, cmamem_free(self->fd, alloc.handle));
}

struct handle_report {
	int fd;
	int pipe_fd;
	size_t length;
};

/* Child: allocates on the inherited fd and reports the reply. */
static int child_allocates(void *argument)
{
	struct handle_report *report = argument;
	struct cmamem_alloc alloc;

	if (cmamem_alloc_block(report->fd, "child", report->length,
			       CMAMEM_MODE_CACHED, &alloc))
		return 1;
	if (write(report->pipe_fd, &alloc, sizeof(alloc)) != sizeof(alloc))
		return 2;
	return 0;
}

/* A handle made by a child outlives it: it belongs to the open file. */
TEST_F(lifetime, fork_handles_travel_with_file)
{
	struct cmamem_block_info info;
	struct handle_report report;
	struct cmamem_alloc alloc;
	int pipe_fds[2];
	__u8 *address;

	ASSERT_EQ(0, pipe(pipe_fds));
	cmamem_track_fd(&self->tracker, pipe_fds[0]);
	cmamem_track_fd(&self->tracker, pipe_fds[1]);
	report = (struct handle_report) {
		.fd = self->fd, .pipe_fd = pipe_fds[1], .length = self->length,
	};
	ASSERT_EQ(0, cmamem_run_child(child_allocates, &report));
	ASSERT_EQ(sizeof(alloc), read(pipe_fds[0], &alloc, sizeof(alloc)));
	ASSERT_EQ(0, cmamem_block_info(self->fd, alloc.handle, &info));
	ASSERT_STREQ(alloc.name, info.name);
	ASSERT_EQ(self->length, info.length);
	address = map_tracked(self, self->fd, alloc.mmap_offset, self->length,
			      PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, address);
	cmamem_fill(address, self->length, 0x7a);
	ASSERT_EQ(-1, cmamem_check(address, self->length, 0x7a));
	ASSERT_EQ(0, cmamem_free(self->fd, alloc.handle));
}

struct fd_message {
	__u64 mmap_offset;
	__u64 length;
};

struct scm_receiver {
	int socket_fd;
	int inherited_fd;
	void *inherited_map;
	size_t inherited_length;
};

/* Child: receives a pool fd, maps the sender's offset, answers in it. */
static int child_receives_fd(void *argument)
{
	struct scm_receiver *receiver = argument;
	char control[CMSG_SPACE(sizeof(int))];
	struct fd_message message;
	struct iovec vector = { &message, sizeof(message) };
	struct msghdr header = {
		.msg_iov = &vector, .msg_iovlen = 1,
		.msg_control = control, .msg_controllen = sizeof(control),
	};
	struct cmsghdr *cmsg;
	__u8 *address;
	size_t half;
	int fd;

	/* Only the received descriptor may give access to the block. */
	close(receiver->inherited_fd);
	munmap(receiver->inherited_map, receiver->inherited_length);
	if (recvmsg(receiver->socket_fd, &header, 0) != sizeof(message))
		return 1;
	cmsg = CMSG_FIRSTHDR(&header);
	if (!cmsg || cmsg->cmsg_type != SCM_RIGHTS)
		return 2;
	memcpy(&fd, CMSG_DATA(cmsg), sizeof(fd));
	address = cmamem_map(fd, message.mmap_offset, message.length,
			     PROT_READ | PROT_WRITE);
	if (address == MAP_FAILED)
		return 3;
	half = message.length / 2;
	if (cmamem_check(address, half, 0x5c) != -1)
		return 4;
	cmamem_fill(address + half, half, 0x5d);
	munmap(address, message.length);
	close(fd);
	return 0;
}

TEST_F(lifetime, scm_rights_receiver_maps_sender_offset)
{
	char control[CMSG_SPACE(sizeof(int))] = { 0 };
	struct scm_receiver receiver;
	struct fd_message message;
	struct iovec vector = { &message, sizeof(message) };
	struct msghdr header = {
		.msg_iov = &vector, .msg_iovlen = 1,
		.msg_control = control, .msg_controllen = sizeof(control),
	};
	struct cmamem_alloc alloc;
	struct cmsghdr *cmsg;
	size_t half = self->length / 2;
	__u8 *address;
	int sockets[2];

	address = alloc_and_map(_metadata, self, self->fd, "scm",
				CMAMEM_MODE_WRITECOMBINE, &alloc);
	cmamem_fill(address, half, 0x5c);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sockets));
	cmamem_track_fd(&self->tracker, sockets[0]);
	cmamem_track_fd(&self->tracker, sockets[1]);

	message.mmap_offset = alloc.mmap_offset;
	message.length = self->length;
	cmsg = CMSG_FIRSTHDR(&header);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &self->fd, sizeof(int));
	/* Queue the message first; the child reads it after closing its fd. */
	ASSERT_EQ(sizeof(message), sendmsg(sockets[0], &header, 0));

	receiver.socket_fd = sockets[1];
	receiver.inherited_fd = self->fd;
	receiver.inherited_map = address;
	receiver.inherited_length = self->length;
	ASSERT_EQ(0, cmamem_run_child(child_receives_fd, &receiver));
	ASSERT_EQ(-1, cmamem_check(address + half, half, 0x5d));
}

/* Another open file attaches by name and sees the same bytes. */
TEST_F(lifetime, attach_from_second_file)
{
	struct cmamem_block_info info;
	struct cmamem_attach attach;
	struct cmamem_alloc alloc;
	__u8 *first, *second;
	int other_fd;

	first = alloc_and_map(_metadata, self, self->fd, "second",
			      CMAMEM_MODE_CACHED, &alloc);
	cmamem_fill(first, self->length, 0x2a);
	other_fd = open_tracked(self, O_RDWR);
	ASSERT_LE(0, other_fd);
	ASSERT_EQ(0, cmamem_attach(other_fd, alloc.name, 0, &attach));
	ASSERT_EQ(self->length, attach.length);
	ASSERT_EQ(CMAMEM_MODE_CACHED, attach.mode);
	second = map_tracked(self, other_fd, attach.mmap_offset, self->length,
			     PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, second);
	ASSERT_EQ(-1, cmamem_check(second, self->length, 0x2a));
	cmamem_fill(second, self->length, 0x2b);
	ASSERT_EQ(-1, cmamem_check(first, self->length, 0x2b));
	ASSERT_EQ(0, cmamem_block_info(other_fd, attach.handle, &info));
	ASSERT_EQ(2, info.handles);
	ASSERT_EQ(2, info.mappings);
}

struct attach_check {
	const char *name;
	size_t length;
	__u32 expect_seed;
	__u32 write_seed;
};

/* Child: opens its own file, attaches, checks and rewrites the bytes. */
static int child_attaches(void *argument)
{
	struct attach_check *check = argument;
	struct cmamem_attach attach;
	__u8 *address;
	int fd;

	fd = open(CMAMEM_DEFAULT_POOL_PATH, O_RDWR);
	if (fd < 0)
		return 1;
	if (cmamem_attach(fd, check->name, 0, &attach))
		return 2;
	address = cmamem_map(fd, attach.mmap_offset, check->length,
			     PROT_READ | PROT_WRITE);
	if (address == MAP_FAILED)
		return 3;
	if (cmamem_check(address, check->length, check->expect_seed) != -1)
		return 4;
	cmamem_fill(address, check->length, check->write_seed);
	munmap(address, check->length);
	close(fd);
	return 0;
}

TEST_F(lifetime, attach_from_second_process)
{
	struct attach_check check;
	struct cmamem_alloc alloc;
	__u8 *address;

	address = alloc_and_map(_metadata, self, self->fd, "process",
				CMAMEM_MODE_COHERENT, &alloc);
	cmamem_fill(address, self->length, 0x3c);
	check = (struct attach_check) {
		.name = alloc.name, .length = self->length,
		.expect_seed = 0x3c, .write_seed = 0x3d,
	};
	ASSERT_EQ(0, cmamem_run_child(child_attaches, &check));
	ASSERT_EQ(-1, cmamem_check(address, self->length, 0x3d));
}

static int nobody_attach_refused(int fd, void *argument)
{
	struct cmamem_attach attach;
	int result = cmamem_attach(fd, argument, 0, &attach);

	/* Names are per user: nobody has no block of root's name. */
	if (result != -ENOENT) {
		fprintf(stderr, "# attach as nobody returned %d, not -ENOENT\n",
			result);
		return 1;
	}
	/* Naming root as the owner needs CAP_SYS_ADMIN. */
	result = cmamem_attach_owned(fd, argument, 0, &attach);
	if (result != -EPERM) {
		fprintf(stderr, "# attach of root's block as nobody returned %d, not -EPERM\n",
			result);
		return 2;
	}
	return 0;
}

/* A block root allocated cannot be attached by another, plain, user. */
TEST_F(lifetime, attach_from_other_user_refused)
{
	struct cmamem_alloc alloc;

	if (!cmamem_is_root())
		SKIP(return, "needs root to switch users");
	ASSERT_EQ(0, cmamem_alloc_block(self->fd, "rootonly", self->length,
					CMAMEM_MODE_COHERENT, &alloc));
	ASSERT_EQ(0, cmamem_run_as_nobody(self->fd, nobody_attach_refused,
					  alloc.name));
	ASSERT_EQ(0, cmamem_free(self->fd, alloc.handle));
}

struct nobody_owner {
	char name[CMAMEM_NAME_SIZE];
	size_t length;
	int ready_fd;	/* child writes one byte when the block is filled */
	int done_fd;	/* child waits for one byte before exiting */
};

static int nobody_allocates_and_waits(int fd, void *argument)
{
	struct nobody_owner *owner = argument;
	struct cmamem_alloc alloc;
	__u8 *address;
	char byte = 'r';

	if (cmamem_alloc_named(fd, owner->name, owner->length,
			       CMAMEM_MODE_COHERENT, 0, 0, &alloc))
		return 1;
	address = cmamem_map(fd, alloc.mmap_offset, owner->length,
			     PROT_READ | PROT_WRITE);
	if (address == MAP_FAILED)
		return 2;
	cmamem_fill(address, owner->length, 0x65534);
	if (write(owner->ready_fd, &byte, 1) != 1)
		return 3;
	if (read(owner->done_fd, &byte, 1) != 1)
		return 4;
	munmap(address, owner->length);
	return 0;
}

struct nobody_owner_run {
	int fd;
	struct nobody_owner *owner;
};

static int run_nobody_owner(void *argument)
{
	struct nobody_owner_run *run = argument;

	return cmamem_run_as_nobody(run->fd, nobody_allocates_and_waits,
				    run->owner);
}

/* CAP_SYS_ADMIN may attach another user's block, naming its owner. */
TEST_F(lifetime, root_attaches_block_of_other_user)
{
	struct nobody_owner_run run;
	struct cmamem_block_info info;
	struct nobody_owner owner;
	struct cmamem_attach attach;
	int ready[2], done[2], status;
	__u8 *address;
	pid_t child;
	char byte;

	if (!cmamem_is_root())
		SKIP(return, "needs root to switch users");
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(done));
	cmamem_track_fd(&self->tracker, ready[0]);
	cmamem_track_fd(&self->tracker, ready[1]);
	cmamem_track_fd(&self->tracker, done[0]);
	cmamem_track_fd(&self->tracker, done[1]);
	cmamem_unique_name(owner.name, "nobody");
	owner.length = self->length;
	owner.ready_fd = ready[1];
	owner.done_fd = done[0];
	/* The block's owner opens its own file, then becomes nobody. */
	run.fd = -1;
	run.owner = &owner;
	fflush(stderr);
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		/* Keep only our ends, so a dead peer means EOF. */
		close(ready[0]);
		close(done[1]);
		run.fd = open(CMAMEM_DEFAULT_POOL_PATH, O_RDWR);
		_exit(run.fd < 0 ? 100 : run_nobody_owner(&run));
	}
	ASSERT_EQ(0, cmamem_close(&self->tracker, ready[1]));
	ASSERT_EQ(0, cmamem_close(&self->tracker, done[0]));
	if (read(ready[0], &byte, 1) != 1) {
		waitpid(child, &status, 0);
		ASSERT_TRUE(false) TH_LOG("owner exited with status %d",
					  WEXITSTATUS(status));
	}
	/* Root's own names do not have it; naming the owner finds it. */
	ASSERT_EQ(-ENOENT, cmamem_attach(self->fd, owner.name, 0, &attach));
	ASSERT_EQ(0, cmamem_attach_owned(self->fd, owner.name,
					 CMAMEM_NOBODY_ID, &attach));
	ASSERT_EQ(CMAMEM_NOBODY_ID, attach.owner_uid);
	ASSERT_EQ(0, cmamem_block_info(self->fd, attach.handle, &info));
	ASSERT_EQ(CMAMEM_NOBODY_ID, info.owner_uid);
	ASSERT_EQ(2, info.handles);
	address = map_tracked(self, self->fd, attach.mmap_offset, self->length,
			      PROT_READ);
	ASSERT_NE(MAP_FAILED, address);
	ASSERT_EQ(-1, cmamem_check(address, self->length, 0x65534));
	ASSERT_EQ(0, cmamem_free(self->fd, attach.handle));
	ASSERT_EQ(1, write(done[1], "d", 1));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
}

/* --- names are per user --- */

#define SECOND_USER_ID	(CMAMEM_NOBODY_ID - 1)

static int user_allocates_name(int fd, void *argument)
{
	struct cmamem_alloc alloc;

	return cmamem_alloc_named(fd, argument, cmamem_page_size(),
				  CMAMEM_MODE_COHERENT, 0, 0, &alloc) ? 1 : 0;
}

/*
 * The second user takes the name the first one uses, finds its own block
 * by it, and may neither attach the first user's block by naming its
 * owner nor learn whether a name exists among that user's names.
 */
static int second_user_uses_the_same_name(int fd, void *argument)
{
	struct cmamem_attach attach;

	if (cmamem_alloc_named(fd, argument, cmamem_page_size(),
			       CMAMEM_MODE_COHERENT, 0, 0,
			       &(struct cmamem_alloc){ 0 }))
		return 1;
	if (cmamem_attach(fd, argument, 0, &attach) ||
	    attach.owner_uid != SECOND_USER_ID)
		return 2;
	if (cmamem_attach_owned(fd, argument, CMAMEM_NOBODY_ID, &attach) !=
	    -EPERM)
		return 3;
	if (cmamem_attach_owned(fd, "st-no-such-name", CMAMEM_NOBODY_ID,
				&attach) != -EPERM)
		return 4;
	/* Naming oneself is allowed to anyone. */
	if (cmamem_attach_owned(fd, argument, SECOND_USER_ID, &attach))
		return 5;
	return 0;
}

/*
 * Two unprivileged users use one name in one pool: neither can squat on
 * the other's, and a privileged attacher gets exactly the owner's block
 * it names, never the other user's.
 */
TEST_F(lifetime, names_are_per_user)
{
	struct cmamem_attach mine, first, second;
	__u64 used_before, used;
	__u32 blocks_before, blocks;
	char name[CMAMEM_NAME_SIZE];
	int fd;

	if (!cmamem_is_root())
		SKIP(return, "needs root to switch users");
	pool_usage(_metadata, self->fd, &used_before, &blocks_before);
	fd = open_tracked(self, O_RDWR);
	ASSERT_LE(0, fd);
	cmamem_unique_name(name, "shared");
	ASSERT_EQ(0, cmamem_run_as_user(fd, CMAMEM_NOBODY_ID,
					user_allocates_name, name));
	ASSERT_EQ(0, cmamem_run_as_user(fd, SECOND_USER_ID,
					second_user_uses_the_same_name, name));

	/* Root has no block of that name; naming an owner picks one. */
	ASSERT_EQ(-ENOENT, cmamem_attach(self->fd, name, 0, &mine));
	ASSERT_EQ(0, cmamem_attach_owned(self->fd, name, CMAMEM_NOBODY_ID,
					 &first));
	ASSERT_EQ(CMAMEM_NOBODY_ID, first.owner_uid);
	ASSERT_EQ(0, cmamem_attach_owned(self->fd, name, SECOND_USER_ID,
					 &second));
	ASSERT_EQ(SECOND_USER_ID, second.owner_uid);
	ASSERT_NE(first.dma_address, second.dma_address);
	ASSERT_EQ(-EINVAL, cmamem_attach_owned(self->fd, name, (__u32)-1,
					       &mine));
	ASSERT_EQ(0, cmamem_free(self->fd, first.handle));
	ASSERT_EQ(0, cmamem_free(self->fd, second.handle));

	/* The users' handles were in the file: closing it frees both. */
	ASSERT_EQ(0, cmamem_close(&self->tracker, fd));
	pool_usage(_metadata, self->fd, &used, &blocks);
	ASSERT_EQ(used_before, used);
	ASSERT_EQ(blocks_before, blocks);
}

/*
 * Closing a file drops all its handles at once: its blocks go back to the
 * pool, their names are unpublished, blocks it only attached survive.
 */
TEST_F(lifetime, close_drops_all_handles)
{
	__u32 blocks_before, blocks;
	__u64 used_before, used;
	struct cmamem_alloc mine, theirs[3];
	struct cmamem_block_info info;
	struct cmamem_attach attach;
	int other_fd, index;

	ASSERT_EQ(0, cmamem_alloc_block(self->fd, "mine", self->page_size,
					CMAMEM_MODE_COHERENT, &mine));
	pool_usage(_metadata, self->fd, &used_before, &blocks_before);
	other_fd = open_tracked(self, O_RDWR);
	ASSERT_LE(0, other_fd);
	for (index = 0; index < 3; index++)
		ASSERT_EQ(0, cmamem_alloc_block(other_fd, "theirs",
						(index + 1) * self->page_size,
						CMAMEM_MODE_CACHED,
						&theirs[index]));
	ASSERT_EQ(0, cmamem_attach(other_fd, theirs[0].name, 0, &attach));
	ASSERT_EQ(0, cmamem_attach(other_fd, mine.name, 0, &attach));
	pool_usage(_metadata, self->fd, &used, &blocks);
	ASSERT_EQ(blocks_before + 3, blocks);
	ASSERT_EQ(used_before + 6 * self->page_size, used);
	ASSERT_EQ(0, cmamem_block_info(self->fd, mine.handle, &info));
	ASSERT_EQ(2, info.handles);

	ASSERT_EQ(0, cmamem_close(&self->tracker, other_fd));
	pool_usage(_metadata, self->fd, &used, &blocks);
	ASSERT_EQ(blocks_before, blocks);
	ASSERT_EQ(used_before, used);
	for (index = 0; index < 3; index++)
		ASSERT_EQ(-ENOENT, cmamem_attach(self->fd, theirs[index].name,
						 0, &attach));
	ASSERT_EQ(0, cmamem_block_info(self->fd, mine.handle, &info));
	ASSERT_EQ(1, info.handles);
	ASSERT_EQ(0, cmamem_free(self->fd, mine.handle));
}

/* BLOCK_INFO's handle and mapping counts follow attach/mmap/munmap. */
TEST_F(lifetime, block_info_counts_follow_use)
{
	struct cmamem_attach same_file, other_file;
	struct cmamem_block_info info;
	struct cmamem_alloc alloc;
	__u8 *first, *second;
	int other_fd;

	ASSERT_EQ(0, cmamem_alloc_block(self->fd, "counts", self->length,
					CMAMEM_MODE_COHERENT, &alloc));
	ASSERT_EQ(0, cmamem_block_info(self->fd, alloc.handle, &info));
	ASSERT_EQ(1, info.handles);
	ASSERT_EQ(0, info.mappings);

	ASSERT_EQ(0, cmamem_attach(self->fd, alloc.name, 0, &same_file));
	other_fd = open_tracked(self, O_RDWR);
	ASSERT_LE(0, other_fd);
	ASSERT_EQ(0, cmamem_attach(other_fd, alloc.name, 0, &other_file));
	ASSERT_EQ(0, cmamem_block_info(self->fd, alloc.handle, &info));
	ASSERT_EQ(3, info.handles);

	first = map_tracked(self, self->fd, alloc.mmap_offset, self->length,
			    PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, first);
	second = map_tracked(self, other_fd, other_file.mmap_offset,
			     self->page_size, PROT_READ);
	ASSERT_NE(MAP_FAILED, second);
	ASSERT_EQ(0, cmamem_block_info(self->fd, alloc.handle, &info));
	ASSERT_EQ(2, info.mappings);

	ASSERT_EQ(0, cmamem_unmap(&self->tracker, second));
	ASSERT_EQ(0, cmamem_free(self->fd, same_file.handle));
	ASSERT_EQ(0, cmamem_block_info(self->fd, alloc.handle, &info));
	ASSERT_EQ(1, info.mappings);
	ASSERT_EQ(2, info.handles);

	ASSERT_EQ(0, cmamem_close(&self->tracker, other_fd));
	ASSERT_EQ(0, cmamem_unmap(&self->tracker, first));
	ASSERT_EQ(0, cmamem_block_info(self->fd, alloc.handle, &info));
	ASSERT_EQ(1, info.handles);
	ASSERT_EQ(0, info.mappings);
	ASSERT_EQ(0, cmamem_free(self->fd, alloc.handle));
}

#define RACERS 4
#define RACE_ROUNDS 10

struct race {
	char name[CMAMEM_NAME_SIZE];
	size_t length;
	int go_fd;	/* one byte per racer starts the race */
	int result_fd;	/* each racer writes 's', 'e' (EEXIST) or 'x' */
	int done_fd;	/* racers keep their block until this closes */
};

static int race_for_name(struct race *race)
{
	struct cmamem_alloc alloc;
	char byte = 'x';
	int fd, result;

	fd = open(CMAMEM_DEFAULT_POOL_PATH, O_RDWR);
	if (fd < 0 || read(race->go_fd, &byte, 1) != 1)
		return 1;
	result = cmamem_alloc_named(fd, race->name, race->length,
				    CMAMEM_MODE_COHERENT, 0, 0, &alloc);
	byte = !result ? 's' : result == -EEXIST ? 'e' : 'x';
	if (write(race->result_fd, &byte, 1) != 1)
		return 2;
	/* Hold the block (if any) until the parent has counted. */
	while (read(race->done_fd, &byte, 1) > 0)
		;
	close(fd);
	return 0;
}

/* Processes racing to allocate one name: exactly one of them gets it. */
TEST_F(lifetime, racing_allocations_of_one_name)
{
	int go[2], results[2], done[2], round, index, winners, losers;
	pid_t children[RACERS];
	struct race race;
	char byte;

	for (round = 0; round < RACE_ROUNDS; round++) {
		ASSERT_EQ(0, pipe(go));
		ASSERT_EQ(0, pipe(results));
		ASSERT_EQ(0, pipe(done));
		cmamem_unique_name(race.name, "race");
		race.length = self->page_size;
		race.go_fd = go[0];
		race.result_fd = results[1];
		race.done_fd = done[0];
		fflush(stderr);
		for (index = 0; index < RACERS; index++) {
			children[index] = fork();
			ASSERT_LE(0, children[index]);
			if (children[index] == 0) {
				close(go[1]);
				close(results[0]);
				close(done[1]);
				_exit(race_for_name(&race));
			}
		}
		close(go[0]);
		close(results[1]);
		close(done[0]);
		for (index = 0; index < RACERS; index++)
			ASSERT_EQ(1, write(go[1], "g", 1));
		winners = 0;
		losers = 0;
		for (index = 0; index < RACERS; index++) {
			ASSERT_EQ(1, read(results[0], &byte, 1));
			winners += byte == 's';
			losers += byte == 'e';
		}
		close(go[1]);
		close(results[0]);
		close(done[1]);
		for (index = 0; index < RACERS; index++) {
			int status;

			ASSERT_EQ(children[index],
				  waitpid(children[index], &status, 0));
			ASSERT_TRUE(WIFEXITED(status));
			ASSERT_EQ(0, WEXITSTATUS(status));
		}
		ASSERT_EQ(1, winners) TH_LOG("round %d", round);
		ASSERT_EQ(RACERS - 1, losers) TH_LOG("round %d", round);
	}
}

/*
 * Who may see DMA and physical addresses: CAP_SYS_RAWIO, or members of the
 * module's address_group. The fixture pins address_group to -1 (nobody)
 * and puts the old value back afterwards.
 */
FIXTURE(addresses) {
	int fd;
	size_t page_size;
	struct cmamem_saved_params saved;
};

FIXTURE_SETUP(addresses)
{
	self->page_size = cmamem_page_size();
	if (!cmamem_is_root())
		SKIP(return, "needs root to switch users and set parameters");
	self->fd = open(CMAMEM_DEFAULT_POOL_PATH, O_RDWR);
	if (self->fd < 0)
		SKIP(return, "%s: %s", CMAMEM_DEFAULT_POOL_PATH,
		     strerror(errno));
	ASSERT_EQ(0, cmamem_params_save(&self->saved, "address_group"));
	ASSERT_EQ(0, cmamem_param_write("address_group", "-1"));
}

FIXTURE_TEARDOWN(addresses)
{
	EXPECT_EQ(0, cmamem_params_restore(&self->saved));
	close(self->fd);
}

/* Child check: every reply hides the addresses, or shows them. */
static int check_addresses(int fd, bool visible)
{
	struct cmamem_block_info info;
	struct cmamem_attach attach;
	struct cmamem_alloc alloc;
	bool withheld;

	if (cmamem_alloc_block(fd, "addr", cmamem_page_size(),
			       CMAMEM_MODE_COHERENT, &alloc))
		return 1;
	withheld = alloc.out_flags & CMAMEM_ADDRESS_WITHHELD;
	if (visible ? (withheld || !alloc.dma_address ||
		       !alloc.physical_address) :
		      (!withheld || alloc.dma_address ||
		       alloc.physical_address))
		return 2;
	if (cmamem_block_info(fd, alloc.handle, &info))
		return 3;
	withheld = info.out_flags & CMAMEM_ADDRESS_WITHHELD;
	if (visible ? (withheld || info.dma_address != alloc.dma_address) :
		      (!withheld || info.dma_address ||
		       info.physical_address))
		return 4;
	if (cmamem_attach(fd, alloc.name, 0, &attach))
		return 5;
	withheld = attach.out_flags & CMAMEM_ADDRESS_WITHHELD;
	if (visible ? (withheld || attach.dma_address != alloc.dma_address) :
		      (!withheld || attach.dma_address ||
		       attach.physical_address))
		return 6;
	cmamem_free(fd, attach.handle);
	cmamem_free(fd, alloc.handle);
	return 0;
}

static int addresses_withheld(int fd, void *argument)
{
	(void)argument;
	return check_addresses(fd, false);
}

static int addresses_visible(int fd, void *argument)
{
	(void)argument;
	return check_addresses(fd, true);
}

TEST_F(addresses, withheld_from_unprivileged_caller)
{
	ASSERT_EQ(0, cmamem_run_as_nobody(self->fd, addresses_withheld, NULL));
}

TEST_F(addresses, address_group_member_sees_addresses)
{
	ASSERT_EQ(0, cmamem_param_write_u64("address_group",
					    CMAMEM_NOBODY_ID));
	ASSERT_EQ(0, cmamem_run_as_nobody(self->fd, addresses_visible, NULL));
}

TEST_F(addresses, present_for_root)
{
	struct cmamem_alloc alloc;

	ASSERT_EQ(0, check_addresses(self->fd, true));
	ASSERT_EQ(0, cmamem_alloc_block(self->fd, "rootaddr", self->page_size,
					CMAMEM_MODE_CACHED, &alloc));
	ASSERT_NE(0, alloc.dma_address);
	ASSERT_EQ(0, alloc.dma_address % self->page_size);
	ASSERT_EQ(0, alloc.physical_address % self->page_size);
	ASSERT_EQ(0, alloc.out_flags & CMAMEM_ADDRESS_WITHHELD);
	ASSERT_EQ(0, cmamem_free(self->fd, alloc.handle));
}

/* Several blocks, so a lucky placement cannot pass by chance. */
TEST_F(addresses, alignment_honoured)
{
	const __u64 alignments[] = {
		CMAMEM_MIB, CMAMEM_MIB, CMAMEM_MIB, 2 * CMAMEM_MIB,
		16 * self->page_size,
	};
	__u32 handles[ARRAY_SIZE(alignments)];
	struct cmamem_block_info info;
	struct cmamem_alloc alloc;
	char name[CMAMEM_NAME_SIZE];
	unsigned int index;

	for (index = 0; index < ARRAY_SIZE(alignments); index++) {
		cmamem_unique_name(name, "aligned");
		ASSERT_EQ(0, cmamem_alloc_named(self->fd, name,
						self->page_size,
						CMAMEM_MODE_COHERENT, 0,
						alignments[index], &alloc));
		handles[index] = alloc.handle;
		ASSERT_NE(0, alloc.dma_address);
		ASSERT_EQ(0, alloc.dma_address % alignments[index])
			TH_LOG("dma address 0x%llx, alignment 0x%llx",
			       alloc.dma_address,
			       alignments[index]);
		ASSERT_EQ(0, cmamem_block_info(self->fd, alloc.handle, &info));
		ASSERT_EQ(alignments[index], info.alignment);
	}
	for (index = 0; index < ARRAY_SIZE(alignments); index++)
		ASSERT_EQ(0, cmamem_free(self->fd, handles[index]));
}

TEST_HARNESS_MAIN
