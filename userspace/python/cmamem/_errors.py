# SPDX-License-Identifier: GPL-2.0
"""OSError with what an errno means for cmamem (as libcmamem's
cmamem_strerror() says it)."""

import errno
import os

# What each errno of <linux/cmamem.h> means here.
_MEANINGS = {
    errno.ENOENT: "no such pool, block or handle",
    errno.EINVAL: "bad name, length, alignment, mode, flags or range, or not a "
                  "dma-buf the pool's device can reach contiguously",
    errno.E2BIG: "this program's structs are newer than the driver (a DMA "
                 "address limit needs a newer driver)",
    errno.EEXIST: "a block of that name already exists in this pool",
    errno.EFBIG: "block larger than the pool or the module's max_block_size",
    errno.EDQUOT: "this open file reached the module's fd_quota_bytes",
    errno.EMFILE: "this open file holds fd_max_blocks handles, or the process has "
                  "no free file descriptor",
    errno.EOPNOTSUPP: "carveout pools have no cached blocks and export no dma-bufs",
    errno.ENOMEM: "no free contiguous run that large in the pool",
    errno.EACCES: "pool not open for writing, or no access to it",
    errno.EPERM: "another user's block, an executable mapping, or a DMA address "
                 "limit asked by a caller that may not see addresses",
    errno.ERANGE: "the pool cannot hold the block below the DMA address limit, or "
                  "the pool's device does not reach the dma-buf directly",
    errno.EADDRNOTAVAIL: "the pool has room for the block only above the DMA "
                         "address limit",
    errno.ENXIO: "the range is not inside a block this file holds",
    errno.ENOTTY: "not a cmamem device, or too old a driver",
    errno.ENODEV: "the pool's driver is gone",
    errno.EBADF: "the pool was closed",
}


def alloc_meanings(max_dma_address):
    """What ALLOC's errors of a DMA address limit mean, and what to do,
    for a request with limit @max_dma_address (0: none, and then nothing
    beyond the usual meanings)."""
    if not max_dma_address:
        return {}
    limit = "%#x" % max_dma_address
    return {
        errno.EPERM: "max_address needs CAP_SYS_RAWIO or the module's address_group, "
                     "as seeing DMA addresses does (where a block may lie tells where "
                     "the pool lies)",
        errno.ERANGE: "no block that long can end at or below %s in this pool: it "
                      "lies above the limit, or too little of it lies below (the "
                      "kernel log gives its lowest address); use a pool in low "
                      "memory" % limit,
        errno.EADDRNOTAVAIL: "the pool has room only above %s: free blocks in its "
                             "low part, or use a pool in low memory" % limit,
        errno.E2BIG: "the cmamem driver is too old for max_address",
    }


def error(number, what, meaning=None):
    """An OSError for @number: "<what>: <strerror>: <meaning>".

    Built as OSError itself, so Python picks the matching subclass
    (FileExistsError for EEXIST, PermissionError for EPERM and EACCES,
    FileNotFoundError for ENOENT) and except clauses work as usual.
    """
    if meaning is None:
        meaning = _MEANINGS.get(number)
    message = "%s: %s" % (what, os.strerror(number))
    if meaning:
        message += ": " + meaning
    return OSError(number, message)


def from_oserror(exception, what, meaning=None):
    """The error() of an OSError that a system call raised."""
    return error(exception.errno, what, meaning)
