// SPDX-License-Identifier: GPL-2.0
/*
 * libcmamem: a thin C library over the cmamem ioctls. See
 * include/cmamem/libcmamem.h for the contract of each function.
 *
 * Nothing here keeps state between calls: every function works only on
 * its arguments and the kernel, which is what makes the library safe to use
 * from several threads at once.
 */
#define _GNU_SOURCE
/* mmap offsets are 64-bit even for 32-bit programs. */
#define _FILE_OFFSET_BITS 64

#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmamem/libcmamem.h>

#define DEVICE_DIR "/dev"
#define DEVICE_BASE "cmamem"

int cmamem_pool_path(const char *pool, char *path, size_t size)
{
	int written;

	if (pool && pool[0] == '/') {
		written = snprintf(path, size, "%s", pool);
	} else if (!pool || strcmp(pool, CMAMEM_DEFAULT_POOL) == 0) {
		written = snprintf(path, size, "%s/%s", DEVICE_DIR, DEVICE_BASE);
	} else {
		/* A name, not a path: keep it inside /dev. */
		if (!pool[0] || strchr(pool, '/') ||
		    strlen(pool) >= CMAMEM_NAME_SIZE)
			return -EINVAL;
		written = snprintf(path, size, "%s/%s-%s", DEVICE_DIR,
				   DEVICE_BASE, pool);
	}
	if (written < 0)
		return -EINVAL;
	if ((size_t)written >= size)
		return -ENAMETOOLONG;
	return 0;
}

int cmamem_open(const char *pool, int flags)
{
	char path[4096];
	int err, fd;

	err = cmamem_pool_path(pool, path, sizeof(path));
	if (err)
		return err;
	fd = open(path, flags | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return fd;
}

/* "default" first, then by name. */
static int compare_pool_names(const void *a, const void *b)
{
	const char *left = a, *right = b;
	int left_default = strcmp(left, CMAMEM_DEFAULT_POOL) == 0;
	int right_default = strcmp(right, CMAMEM_DEFAULT_POOL) == 0;

	if (left_default != right_default)
		return right_default - left_default;
	return strcmp(left, right);
}

/*
 * The pool name of a /dev entry, or NULL if the entry is not a pool:
 * "cmamem" is the default pool, "cmamem-NAME" is pool NAME.
 */
static const char *pool_name_of_entry(const char *entry)
{
	size_t base_length = strlen(DEVICE_BASE);

	if (strncmp(entry, DEVICE_BASE, base_length) != 0)
		return NULL;
	if (entry[base_length] == '\0')
		return CMAMEM_DEFAULT_POOL;
	if (entry[base_length] != '-' || entry[base_length + 1] == '\0')
		return NULL;
	if (strlen(entry + base_length + 1) >= CMAMEM_NAME_SIZE)
		return NULL;
	return entry + base_length + 1;
}

int cmamem_pool_list(char (*names)[CMAMEM_NAME_SIZE], int max)
{
	struct dirent *entry;
	int found = 0;
	DIR *dir;

	dir = opendir(DEVICE_DIR);
	if (!dir)
		return -errno;
	while ((entry = readdir(dir))) {
		const char *name = pool_name_of_entry(entry->d_name);
		struct stat status;

		if (!name)
			continue;
		if (fstatat(dirfd(dir), entry->d_name, &status, 0) != 0 ||
		    !S_ISCHR(status.st_mode))
			continue;
		if (names && found < max)
			snprintf(names[found], CMAMEM_NAME_SIZE, "%s", name);
		found++;
	}
	closedir(dir);
	if (names && max > 0)
		qsort(names, found < max ? found : max, CMAMEM_NAME_SIZE,
		      compare_pool_names);
	return found;
}

int cmamem_check_name(const char *name)
{
	size_t i;

	if (!name || !name[0])
		return -EINVAL;
	for (i = 0; name[i]; i++) {
		if (i >= CMAMEM_NAME_SIZE - 1)
			return -EINVAL;
		if (name[i] < 0x21 || name[i] > 0x7e)
			return -EINVAL;
	}
	return 0;
}

/*
 * Copy @name into a zero-filled name field. The kernel rejects bad names
 * itself; this only refuses what the field cannot hold.
 */
static int copy_name(char field[CMAMEM_NAME_SIZE], const char *name)
{
	size_t length;

	if (!name)
		return -EINVAL;
	length = strlen(name);
	if (length >= CMAMEM_NAME_SIZE)
		return -EINVAL;
	memset(field, 0, CMAMEM_NAME_SIZE);
	memcpy(field, name, length);
	return 0;
}

/* ioctl() with the errno as the negative result. */
static int do_ioctl(int fd, unsigned long command, void *argument)
{
	if (ioctl(fd, command, argument) != 0)
		return -errno;
	return 0;
}

/*
 * What cmamem_alloc() and cmamem_alloc_below() write of their reply: the
 * struct as their callers were compiled with it. The first release's
 * struct ended with its name; libcmamem 1.3's with max_dma_address.
 */
#define ALLOC_SIZE_V1 (offsetof(struct cmamem_alloc, name) + CMAMEM_NAME_SIZE)
#define ALLOC_SIZE_V2 \
	(offsetof(struct cmamem_alloc, max_dma_address) + sizeof(uint64_t))

static int alloc_block(int fd, const char *name, uint64_t length,
		       enum cmamem_mode mode, uint64_t alignment,
		       uint32_t flags, uint64_t max_dma_address,
		       struct cmamem_alloc *result, size_t result_size)
{
	struct cmamem_alloc request;
	int err;

	memset(&request, 0, sizeof(request));
	request.size = sizeof(request);
	request.flags = flags;
	request.length = length;
	request.alignment = alignment;
	request.mode = mode;
	request.max_dma_address = max_dma_address;
	err = copy_name(request.name, name);
	if (err)
		return err;
	err = do_ioctl(fd, CMAMEM_IOCTL_ALLOC, &request);
	if (err)
		return err;
	memcpy(result, &request, result_size);
	return 0;
}

int cmamem_alloc(int fd, const char *name, uint64_t length,
		 enum cmamem_mode mode, uint64_t alignment, uint32_t flags,
		 struct cmamem_alloc *result)
{
	/* Programs linked before 1.3 may pass the first release's struct. */
	return alloc_block(fd, name, length, mode, alignment, flags, 0, result,
			   ALLOC_SIZE_V1);
}

int cmamem_alloc_below(int fd, const char *name, uint64_t length,
		       enum cmamem_mode mode, uint64_t alignment,
		       uint32_t flags, uint64_t max_dma_address,
		       struct cmamem_alloc *result)
{
	return alloc_block(fd, name, length, mode, alignment, flags,
			   max_dma_address, result, ALLOC_SIZE_V2);
}

/*
 * What cmamem_attach() and cmamem_attach_owned() write of their reply: the
 * struct as their callers were compiled with it. The first release's
 * struct ended with __reserved; libcmamem 1.3's with __reserved2.
 */
#define ATTACH_SIZE_V1 (offsetof(struct cmamem_attach, __reserved) + \
			sizeof(uint32_t))
#define ATTACH_SIZE_V2 (offsetof(struct cmamem_attach, __reserved2) + \
			sizeof(uint32_t))

static int attach_block(int fd, const char *name, uint32_t flags,
			uint32_t owner_uid, struct cmamem_attach *result,
			size_t result_size)
{
	struct cmamem_attach request;
	int err;

	memset(&request, 0, sizeof(request));
	request.size = sizeof(request);
	request.flags = flags;
	request.owner_uid = owner_uid;
	err = copy_name(request.name, name);
	if (err)
		return err;
	err = do_ioctl(fd, CMAMEM_IOCTL_ATTACH, &request);
	if (err)
		return err;
	memcpy(result, &request, result_size);
	return 0;
}

int cmamem_attach(int fd, const char *name, uint32_t flags,
		  struct cmamem_attach *result)
{
	/* Programs linked before 1.3 may pass the first release's struct. */
	return attach_block(fd, name, flags, 0, result, ATTACH_SIZE_V1);
}

int cmamem_attach_owned(int fd, const char *name, uint32_t flags,
			uint32_t owner_uid, struct cmamem_attach *result)
{
	return attach_block(fd, name, flags | CMAMEM_OWNER, owner_uid, result,
			    ATTACH_SIZE_V2);
}

int cmamem_free(int fd, uint32_t handle)
{
	struct cmamem_free request;

	memset(&request, 0, sizeof(request));
	request.size = sizeof(request);
	request.handle = handle;
	return do_ioctl(fd, CMAMEM_IOCTL_FREE, &request);
}

int cmamem_sync(int fd, uint32_t handle, uint32_t direction,
		uint64_t offset, uint64_t length)
{
	struct cmamem_sync request;

	memset(&request, 0, sizeof(request));
	request.size = sizeof(request);
	request.flags = direction;
	request.handle = handle;
	request.offset = offset;
	request.length = length;
	return do_ioctl(fd, CMAMEM_IOCTL_SYNC, &request);
}

int cmamem_block_info(int fd, uint32_t handle, struct cmamem_block_info *info)
{
	struct cmamem_block_info request;
	int err;

	memset(&request, 0, sizeof(request));
	request.size = sizeof(request);
	request.handle = handle;
	err = do_ioctl(fd, CMAMEM_IOCTL_BLOCK_INFO, &request);
	if (err)
		return err;
	*info = request;
	return 0;
}

/* The first release's struct cmamem_pool_info ended with its name. */
#define POOL_INFO_SIZE_V1 \
	(offsetof(struct cmamem_pool_info, name) + CMAMEM_NAME_SIZE)

int cmamem_pool_query(int fd, struct cmamem_pool_info *info, size_t size)
{
	struct cmamem_pool_info request;
	int err;

	if (size < POOL_INFO_SIZE_V1)
		return -EINVAL;
	memset(&request, 0, sizeof(request));
	request.size = sizeof(request);
	err = do_ioctl(fd, CMAMEM_IOCTL_POOL_INFO, &request);
	if (err)
		return err;
	memcpy(info, &request,
	       size < sizeof(request) ? size : sizeof(request));
	return 0;
}

int cmamem_pool_info(int fd, struct cmamem_pool_info *info)
{
	/* Programs linked before 1.2 may pass the first release's struct. */
	return cmamem_pool_query(fd, info, POOL_INFO_SIZE_V1);
}

int cmamem_export(int fd, uint32_t handle, int fd_flags)
{
	struct cmamem_export request;
	int err;

	memset(&request, 0, sizeof(request));
	request.size = sizeof(request);
	request.handle = handle;
	request.fd_flags = (uint32_t)fd_flags;
	err = do_ioctl(fd, CMAMEM_IOCTL_EXPORT, &request);
	if (err)
		return err;
	return (int)request.fd;
}

int cmamem_import(int fd, int dmabuf_fd, struct cmamem_import *result)
{
	struct cmamem_import request;
	int err;

	memset(&request, 0, sizeof(request));
	request.size = sizeof(request);
	request.fd = dmabuf_fd;
	err = do_ioctl(fd, CMAMEM_IOCTL_IMPORT, &request);
	if (err)
		return err;
	*result = request;
	return 0;
}

int cmamem_map(int fd, uint64_t mmap_offset, uint64_t offset, uint64_t length,
	       int prot, void **address)
{
	long page_size = sysconf(_SC_PAGESIZE);
	uint64_t file_offset;
	void *mapping;

	if (length == 0 || page_size <= 0 || offset % (uint64_t)page_size)
		return -EINVAL;
	/* Both the length and the file offset must fit their C types. */
	if (length > SIZE_MAX || mmap_offset + offset < mmap_offset ||
	    mmap_offset + offset > (uint64_t)INT64_MAX)
		return -EOVERFLOW;
	file_offset = mmap_offset + offset;
	mapping = mmap(NULL, (size_t)length, prot, MAP_SHARED, fd,
		       (off_t)file_offset);
	if (mapping == MAP_FAILED)
		return -errno;
	*address = mapping;
	return 0;
}

int cmamem_unmap(void *address, uint64_t length)
{
	if (length > SIZE_MAX)
		return -EINVAL;
	if (munmap(address, (size_t)length) != 0)
		return -errno;
	return 0;
}

const char *cmamem_mode_name(uint32_t mode)
{
	switch (mode) {
	case CMAMEM_MODE_COHERENT:
		return "coherent";
	case CMAMEM_MODE_WRITECOMBINE:
		return "writecombine";
	case CMAMEM_MODE_CACHED:
		return "cached";
	}
	return "unknown";
}

int cmamem_parse_mode(const char *text)
{
	if (!text)
		return -EINVAL;
	if (strcmp(text, "coherent") == 0)
		return CMAMEM_MODE_COHERENT;
	if (strcmp(text, "wc") == 0 || strcmp(text, "writecombine") == 0)
		return CMAMEM_MODE_WRITECOMBINE;
	if (strcmp(text, "cached") == 0)
		return CMAMEM_MODE_CACHED;
	return -EINVAL;
}

const char *cmamem_strerror(int error)
{
	if (error < 0)
		error = -error;
	/* What each errno of <linux/cmamem.h> means here. */
	switch (error) {
	case 0:
		return "Success";
	case ENOENT:
		return "No such file or directory: no such pool, block or handle";
	case EINVAL:
		return "Invalid argument: bad name, length, alignment, mode, flags or range, or not a dma-buf the pool's device can reach contiguously";
	case E2BIG:
		return "Argument list too long: this program's structs are newer than the driver (a DMA address limit needs a newer driver)";
	case EEXIST:
		return "File exists: you already have a block of that name in this pool";
	case EFBIG:
		return "File too large: block larger than the pool or the module's max_block_size";
	case EDQUOT:
		return "Disk quota exceeded: this open file reached the module's fd_quota_bytes";
	case EMFILE:
		return "Too many open files: this file holds fd_max_blocks handles, or the process has no free file descriptor";
	case EOPNOTSUPP:
		return "Operation not supported: carveout pools have no cached blocks and export no dma-bufs";
	case ENOMEM:
		return "Cannot allocate memory: no free contiguous run that large in the pool";
	case EACCES:
		return "Permission denied: pool not open for writing, or no access to it";
	case EPERM:
		return "Operation not permitted: another user's block without CAP_SYS_ADMIN, an executable mapping, or a DMA address limit asked by a caller that may not see addresses";
	case ERANGE:
		return "Numerical result out of range: the pool cannot hold the block below the DMA address limit, or the pool's device does not reach the dma-buf directly";
	case EADDRNOTAVAIL:
		return "Cannot assign requested address: the pool has room for the block only above the DMA address limit";
	case ENXIO:
		return "No such device or address: the range is not inside a block this file holds";
	case ENOTTY:
		return "Inappropriate ioctl for device: not a cmamem device, or too old a driver";
	case EFAULT:
		return "Bad address";
	case EBADF:
		return "Bad file descriptor: not an open file (a pool, or the dma-buf to import)";
	case ENODEV:
		return "No such device: the pool's driver is gone";
	case EOVERFLOW:
		return "Value too large for defined data type: the range does not fit this process";
	case ENAMETOOLONG:
		return "File name too long";
	case EINTR:
		return "Interrupted system call";
	}
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 32)
	{
		/* Unlike strerror(), a constant string: thread safe. */
		const char *description = strerrordesc_np(error);

		if (description)
			return description;
	}
#endif
	return "Unknown error";
}
