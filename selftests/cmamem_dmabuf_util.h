/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dma-buf helpers shared by the cmamem selftests that export blocks and
 * hand them to DRM's vgem, or import vgem's and udmabuf's buffers: the few
 * DRM and udmabuf uapi definitions those tests need.
 */
#ifndef CMAMEM_DMABUF_UTIL_H
#define CMAMEM_DMABUF_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cmamem_util.h"

/*
 * The few DRM uapi definitions the vgem test needs (include/uapi/drm/
 * drm.h), spelled out because the host's x86_64 toolchain
 * ships no DRM headers.
 */
struct test_drm_version {
	int version_major;
	int version_minor;
	int version_patchlevel;
	size_t name_len;
	char *name;
	size_t date_len;
	char *date;
	size_t desc_len;
	char *desc;
};

struct test_drm_prime_handle {
	__u32 handle;
	__u32 flags;
	__s32 fd;
};

struct test_drm_gem_close {
	__u32 handle;
	__u32 pad;
};

struct test_drm_mode_create_dumb {
	__u32 height;
	__u32 width;
	__u32 bpp;
	__u32 flags;
	__u32 handle;
	__u32 pitch;
	__u64 size;
};

#define TEST_DRM_IOCTL_VERSION \
	_IOWR('d', 0x00, struct test_drm_version)
#define TEST_DRM_IOCTL_GEM_CLOSE \
	_IOW('d', 0x09, struct test_drm_gem_close)
#define TEST_DRM_IOCTL_PRIME_FD_TO_HANDLE \
	_IOWR('d', 0x2e, struct test_drm_prime_handle)
#define TEST_DRM_IOCTL_PRIME_HANDLE_TO_FD \
	_IOWR('d', 0x2d, struct test_drm_prime_handle)
#define TEST_DRM_IOCTL_MODE_CREATE_DUMB \
	_IOWR('d', 0xB2, struct test_drm_mode_create_dumb)

/*
 * udmabuf makes a dma-buf of a memfd's pages (include/uapi/linux/
 * udmabuf.h, CONFIG_UDMABUF).
 */
struct test_udmabuf_create {
	__u32 memfd;
	__u32 flags;
	__u64 offset;
	__u64 size;
};

#define TEST_UDMABUF_CREATE	_IOW('u', 0x42, struct test_udmabuf_create)
#define TEST_UDMABUF_PATH	"/dev/udmabuf"

static inline int open_udmabuf(void)
{
	return open(TEST_UDMABUF_PATH, O_RDWR | O_CLOEXEC);
}

/* A dma-buf of one page of a memfd, or -errno. */
static inline int udmabuf_new_one_page(size_t page)
{
	struct test_udmabuf_create create = { 0 };
	int device, memfd, dmabuf;

	device = open(TEST_UDMABUF_PATH, O_RDWR | O_CLOEXEC);
	if (device < 0)
		return -errno;
	memfd = memfd_create("cmamem-udmabuf", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, page) ||
	    fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
		dmabuf = -errno;
	} else {
		create.memfd = memfd;
		create.size = page;
		dmabuf = ioctl(device, TEST_UDMABUF_CREATE, &create);
		if (dmabuf < 0)
			dmabuf = -errno;
	}
	if (memfd >= 0)
		close(memfd);
	close(device);
	return dmabuf;
}

/* The first DRM card node whose driver is vgem, or -1. */
static inline int open_vgem(void)
{
	char path[32], name[16];
	int index, card;

	for (index = 0; index < 16; index++) {
		struct test_drm_version version = {
			.name_len = sizeof(name) - 1,
			.name = name,
		};

		snprintf(path, sizeof(path), "/dev/dri/card%d", index);
		card = open(path, O_RDWR | O_CLOEXEC);
		if (card < 0)
			continue;
		memset(name, 0, sizeof(name));
		if (!ioctl(card, TEST_DRM_IOCTL_VERSION, &version) &&
		    !strcmp(name, "vgem"))
			return card;
		close(card);
	}
	return -1;
}

/* vgem imports @dmabuf with PRIME: 0 and its GEM handle, or -errno. */
static inline int vgem_import(int card, int dmabuf, __u32 *handle)
{
	struct test_drm_prime_handle prime = { .fd = dmabuf };

	if (ioctl(card, TEST_DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime))
		return -errno;
	*handle = prime.handle;
	return 0;
}

/* The dma-buf fd vgem gives out for its GEM @handle, or -errno. */
static inline int vgem_export(int card, __u32 handle)
{
	struct test_drm_prime_handle prime = {
		.handle = handle,
		.flags = O_RDWR | O_CLOEXEC,
	};

	if (ioctl(card, TEST_DRM_IOCTL_PRIME_HANDLE_TO_FD, &prime))
		return -errno;
	return prime.fd;
}

/*
 * A dma-buf of a new vgem buffer of @length bytes (a multiple of 4; one
 * row of 32-bit pixels), whose GEM handle is closed again: the dma-buf
 * alone holds it. vgem's buffers are shmem pages, so only a buffer of one
 * page is sure to be contiguous. Returns the fd or -errno.
 */
static inline int vgem_new_dmabuf(int card, size_t length)
{
	struct test_drm_mode_create_dumb dumb = {
		.height = 1,
		.width = (__u32)(length / 4),
		.bpp = 32,
	};
	struct test_drm_gem_close gem_close = { 0 };
	int dmabuf;

	if (ioctl(card, TEST_DRM_IOCTL_MODE_CREATE_DUMB, &dumb))
		return -errno;
	dmabuf = vgem_export(card, dumb.handle);
	gem_close.handle = dumb.handle;
	if (ioctl(card, TEST_DRM_IOCTL_GEM_CLOSE, &gem_close) && dmabuf >= 0) {
		int error = -errno;

		close(dmabuf);
		return error;
	}
	return dmabuf;
}

/*
 * Hands a block's dma-buf over to vgem: vgem imports @dmabuf, then our fd
 * and our handle @handle on @pool are dropped, so that only vgem keeps the
 * block. Returns the fd vgem gives out for the object (which must be the
 * same dma-buf) and its GEM handle in *@gem, or -errno.
 */
static inline int vgem_take_over(int card, int dmabuf, int pool,
				 __u32 handle, __u32 *gem)
{
	int ret = vgem_import(card, dmabuf, gem);

	if (ret)
		return ret;
	if (close(dmabuf))
		return -errno;
	ret = cmamem_free(pool, handle);
	if (ret)
		return ret;
	return vgem_export(card, *gem);
}

#endif /* CMAMEM_DMABUF_UTIL_H */
