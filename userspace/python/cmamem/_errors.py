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
    errno.E2BIG: "this program's structs are newer than the driver",
    errno.EEXIST: "a block of that name already exists in this pool",
    errno.EFBIG: "block larger than the pool or the module's max_block_size",
    errno.EDQUOT: "this open file reached the module's fd_quota_bytes",
    errno.EMFILE: "this open file holds fd_max_blocks handles, or the process has "
                  "no free file descriptor",
    errno.EOPNOTSUPP: "carveout pools have no cached blocks and export no dma-bufs",
    errno.ENOMEM: "no free contiguous run that large in the pool",
    errno.EACCES: "pool not open for writing, or no access to it",
    errno.EPERM: "another user's block, or an executable mapping",
    errno.ENXIO: "the range is not inside a block this file holds",
    errno.ENOTTY: "not a cmamem device, or too old a driver",
    errno.ENODEV: "the pool's driver is gone",
    errno.EBADF: "the pool was closed",
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
