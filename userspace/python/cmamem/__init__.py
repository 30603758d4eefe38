# SPDX-License-Identifier: GPL-2.0
"""cmamem: physically contiguous memory for devices, as numpy arrays.

    import numpy, cmamem

    with cmamem.allocate((480, 640), numpy.uint8, mode="cached") as frame:
        frame[:] = 0x80                 # the CPU fills it
        frame.flush()                   # caches written back
        engine.start(frame.dma_address) # the device reads it
        ...
        frame.invalidate()              # before the CPU reads its output

allocate() and attach() return a Buffer, a numpy.ndarray subclass whose
memory is the block (see cmamem.buffer.Buffer). Blocks come from pools:
"default" is /dev/cmamem, NAME is /dev/cmamem-NAME (from the device tree).

Errors the kernel reports raise OSError with its errno and a message that
says what it means for cmamem (EFBIG: larger than the pool or the module's
max_block_size, and so on); Python picks the usual subclass
(FileExistsError for a name in use, PermissionError, FileNotFoundError).
Bad arguments are refused before any system call, with ValueError or
TypeError naming the argument and what is wrong with it: a shape that is
no int or tuple of ints, an empty shape, a dtype holding Python objects
(pointers mean nothing in shared memory), a bad name, mode or alignment,
a shape larger than an attached block.

Addresses: reading physical_address or dma_address of a buffer raises
PermissionError (EPERM) when the kernel withholds addresses from the
process (it lacks CAP_SYS_RAWIO and is not in the module's
address_group); buffer.address_withheld tells beforehand, and the info
records (BlockInfo) show None.

Open files: the module-level functions use one shared Pool per pool name
and process (a forked child opens its own on first use). A Pool object is
an open file of its own, and Pool(fd=FD) adopts one that is already open,
for a process that may no longer open the device itself.

dma-bufs: buffer.export() gives the block to other drivers as a dma-buf
(a DmaBuf, which owns the file descriptor); import_dmabuf(fd) attaches a
dma-buf from any exporter to a pool's device and returns an Import with
its length and dma_address, free() and the with statement.
"""

import os
import threading

import numpy

from . import uapi
from .buffer import Buffer
from .dmabuf import DmaBuf, Import
from .pool import (DEFAULT_POOL, BlockInfo, Pool, PoolInfo, allocation, attachment,
                   max_address_field, owner_field, pool_names, pool_path)

__all__ = [
    "allocate", "attach", "import_dmabuf", "pools", "pool_names", "pool_path",
    "Pool", "PoolInfo", "BlockInfo", "Buffer", "DmaBuf", "Import",
    "DEFAULT_POOL", "uapi",
]

__version__ = "1.2.0"

_shared_pools = {}
_shared_pools_lock = threading.Lock()


def _forget_shared_pools():
    # The child of a fork shares the parent's open files: blocks it
    # allocated there would outlive the child. It opens its own instead.
    global _shared_pools_lock
    _shared_pools.clear()
    _shared_pools_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_shared_pools)


def _pool(pool):
    """@pool as a Pool: a Pool is used as it is, a name through the
    process's shared Pool of that name."""
    if isinstance(pool, Pool):
        return pool
    if pool is not None and not isinstance(pool, str):
        raise TypeError("pool (PYNQ's target) must be a pool name or a cmamem.Pool, "
                        "not %s" % type(pool).__name__)
    path = pool_path(pool)
    with _shared_pools_lock:
        shared = _shared_pools.get(path)
        if shared is None or shared.closed:
            shared = Pool(pool)
            _shared_pools[path] = shared
        return shared


def allocate(shape, dtype=numpy.uint8, mode="coherent", pool=DEFAULT_POOL,
             name=None, align=None, *, cacheable=None, target=None, max_address=None):
    """Allocate a physically contiguous block as a numpy array.

    @shape and @dtype as for numpy.ndarray; the block is rounded up to
    whole pages. @mode: "coherent" (the default: no cache maintenance
    needed, uncached CPU view where DMA is not coherent), "writecombine"
    (write-combined, for buffers the CPU fills; "wc" is accepted too) or
    "cached" (fast CPU access, needs flush() and invalidate(); not on
    carveout pools).
    @pool: a pool name ("default" is /dev/cmamem) or a Pool. @name: the
    block's name in the pool, for other processes to attach() to (1 to 31
    printable ASCII characters, no spaces); None makes one up. @align:
    alignment of the DMA address in bytes, a power of two of at least the
    page size (None: one page). @max_address: the highest DMA address any
    byte of the block may have, for an engine with fewer address bits than
    the pool's device (2**32 - 1 for a 32-bit engine); None for no limit.
    Giving one needs CAP_SYS_RAWIO or the module's address_group.

    PYNQ's spelling works too, for porting: @cacheable=True is
    mode="cached", False mode="writecombine" (give mode or cacheable, not
    both); @target is @pool (a pool name or a Pool). PYNQ's default dtype
    is "u4"; here it is uint8, so give the dtype.

    Returns a Buffer. Raises TypeError for a shape that is no int or tuple
    of ints and for a dtype that holds Python objects or has no size;
    ValueError for a shape of no bytes, a bad name, an unknown mode, an
    alignment that is no power of two of at least the page size. Raises
    OSError for what the kernel refuses: EEXIST (name in use), EFBIG
    (larger than the pool or max_block_size), ENOMEM (no contiguous run
    that large), EDQUOT/EMFILE (the open file's limits), EOPNOTSUPP
    (cached on a carveout); with @max_address, PermissionError (EPERM:
    the caller may not see addresses), ERANGE (the pool cannot hold the
    block below the limit: use a pool in low memory) and EADDRNOTAVAIL
    (the pool has room only above it now: free blocks in its low part).
    """
    if target is not None:
        if pool != DEFAULT_POOL:
            raise TypeError("give pool=%r or PYNQ's target=%r, not both" % (pool, target))
        pool = target
    # Arguments first: a bad one must not cost an open().
    allocation(shape, dtype, mode, name, align, cacheable)
    max_address_field(max_address)
    return _pool(pool).allocate(shape, dtype, mode=mode, name=name, align=align,
                                cacheable=cacheable, max_address=max_address)


def attach(name, shape=None, dtype=numpy.uint8, pool=DEFAULT_POOL, *, owner=None):
    """A new handle on block @name, as a numpy array.

    Names are per user: the block was allocated by this or another
    process of the same user, unless @owner names the user (a uid) whose
    block it must be (another user's needs CAP_SYS_ADMIN). @shape and
    @dtype describe the array: by default the whole block as 1-D @dtype; a
    shape larger than the block raises ValueError, as do a bad name or
    owner, and a dtype holding Python objects TypeError. Raises
    FileNotFoundError (ENOENT) when that user has no such block,
    PermissionError (EPERM) for another user's @owner without the
    capability.
    """
    attachment(name, shape, dtype)
    owner_field(owner)
    return _pool(pool).attach(name, shape, dtype, owner=owner)


def import_dmabuf(dmabuf, pool=DEFAULT_POOL):
    """Attach a dma-buf to a pool's device: an Import.

    @dmabuf is a dma-buf file descriptor from any exporter (a DmaBuf of
    Buffer.export(), a DMA-BUF heap, DRM PRIME, V4L2 VIDIOC_EXPBUF, ...) or
    an object with fileno(). @pool: a pool name or a Pool; the import
    belongs to that open file. The Import's dma_address is where the pool's
    device sees the buffer; free() (or the end of a with statement) lets it
    go, and closing the descriptor meanwhile changes nothing.

    Raises OSError EBADF (not an open descriptor), EINVAL (not a dma-buf,
    or a buffer the pool's device cannot reach as one contiguous run of DMA
    addresses), EMFILE (the open file holds fd_max_blocks handles), or what
    the exporter refuses with.
    """
    return _pool(pool).import_dmabuf(dmabuf)


def pools():
    """PoolInfo of every pool on this system, "default" first."""
    result = []
    for name in pool_names():
        with Pool(name, writable=False) as pool:
            result.append(pool.info())
    return result
