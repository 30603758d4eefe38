# SPDX-License-Identifier: GPL-2.0
"""dma-bufs: blocks exported to other drivers, buffers imported into pools.

Buffer.export() turns the block behind a Buffer into a dma-buf
(CMAMEM_IOCTL_EXPORT), the file descriptor that V4L2
(V4L2_MEMORY_DMABUF), DRM (PRIME) and codecs import; a DmaBuf owns that
descriptor and closes it. The dma-buf holds the block alive after the
Buffer is freed, until the descriptor (and every mapping of it) is gone.

cmamem.import_dmabuf() (or Pool.import_dmabuf()) goes the other way
(CMAMEM_IOCTL_IMPORT): it attaches a dma-buf from any exporter to a pool's
device and maps it there, for an engine that takes a DMA address the way
blocks' addresses are given. The Import it returns has the buffer's
length, its dma_address, free() and the with statement. An import has no
mapping of its own: map the buffer through the dma-buf (DmaBuf.map()),
with DmaBuf.cpu_access() around what the CPU reads or writes.
"""

import contextlib
import errno
import fcntl
import mmap
import operator
import os
import struct

from . import _errors
from . import _lifetime
from . import uapi

# <linux/dma-buf.h>: struct dma_buf_sync and DMA_BUF_IOCTL_SYNC.
DMA_BUF_SYNC_READ = 1 << 0
DMA_BUF_SYNC_WRITE = 2 << 0
DMA_BUF_SYNC_RW = DMA_BUF_SYNC_READ | DMA_BUF_SYNC_WRITE
DMA_BUF_SYNC_START = 0 << 2
DMA_BUF_SYNC_END = 1 << 2
DMA_BUF_BASE = ord("b")
_DMA_BUF_SYNC_SIZE = struct.calcsize("=Q")

# _IOW() of <asm-generic/ioctl.h>: "write" is 1 in the two bits above a
# 14-bit size on most architectures, and 4 in the three bits above a
# 13-bit size on those with their own <asm/ioctl.h> (see uapi._IOC_NONE).
_IOC_WRITE = 4 if uapi._IOC_NONE == 1 else 1


def _IOW(ioctl_type, number, size):
    """The ioctl number of a command that passes @size bytes in, as _IOW()."""
    return ((_IOC_WRITE << uapi._IOC_DIRSHIFT) | (size << 16)
            | (ioctl_type << uapi._IOC_TYPESHIFT) | number)


DMA_BUF_IOCTL_SYNC = _IOW(DMA_BUF_BASE, 0, _DMA_BUF_SYNC_SIZE)


def descriptor(dmabuf):
    """The file descriptor of @dmabuf: an int, or an object with fileno()."""
    if isinstance(dmabuf, bool):
        raise TypeError("a dma-buf is a file descriptor or has fileno(), not a bool")
    try:
        return operator.index(dmabuf)
    except TypeError:
        pass
    fileno = getattr(dmabuf, "fileno", None)
    if fileno is None:
        raise TypeError("a dma-buf is a file descriptor or has fileno(), not %s"
                        % type(dmabuf).__name__)
    return fileno()


class DmaBuf(_lifetime.Owner):
    """A dma-buf file descriptor that this object owns.

    Buffer.export() returns one. DmaBuf(fd) takes over any dma-buf
    descriptor (one from another driver, or inherited); close(), the end
    of a with statement, or garbage collection closes it, and detach()
    gives it up without closing it. Pass fileno() to the driver that
    imports the buffer, or to a child (subprocess's pass_fds).
    """

    def __init__(self, fd):
        if isinstance(fd, bool):
            raise TypeError("a dma-buf descriptor is an int, not a bool")
        fd = operator.index(fd)
        if fd < 0:
            raise ValueError("bad file descriptor %d" % fd)
        self._fd = fd
        self._own(_lifetime.close_quietly, fd)

    def __repr__(self):
        if self.closed:
            return "<cmamem.DmaBuf closed>"
        return "<cmamem.DmaBuf fd %d>" % self._fd

    @property
    def closed(self):
        return self._fd < 0

    def fileno(self):
        """The dma-buf's file descriptor."""
        fd = self._fd
        if fd < 0:
            raise _errors.error(errno.EBADF, "using a dma-buf", "it was closed")
        return fd

    def close(self):
        """Close the descriptor (a second close() does nothing).

        The buffer itself goes when its last descriptor, mapping and
        importer are gone: an Import of it keeps it.
        """
        if self._disown():
            fd, self._fd = self._fd, -1
            os.close(fd)

    def detach(self):
        """Give the descriptor up without closing it, and return it."""
        if not self._disown():
            raise _errors.error(errno.EBADF, "detaching a dma-buf", "it was closed")
        fd, self._fd = self._fd, -1
        return fd

    def _stat(self):
        try:
            return os.fstat(self.fileno())
        except OSError as exception:
            raise _errors.from_oserror(exception, "fstat() of a dma-buf") from None

    @property
    def size(self):
        """The buffer's size in bytes."""
        return self._stat().st_size

    @property
    def inode(self):
        """The dma-buf's inode number, as /sys/kernel/debug/dma_buf/bufinfo
        shows it."""
        return self._stat().st_ino

    @property
    def exporter(self):
        """The exporting driver's name ("cmamem" for a block), from
        /proc/self/fdinfo; None when /proc does not say."""
        try:
            with open("/proc/self/fdinfo/%d" % self.fileno()) as stream:
                for line in stream:
                    key, _, value = line.partition(":")
                    if key == "exp_name":
                        return value.strip()
        except OSError:
            pass
        return None

    @property
    def writable(self):
        """True when the descriptor is open for writing (it can then be
        mapped writable)."""
        return fcntl.fcntl(self.fileno(), fcntl.F_GETFL) & os.O_ACCMODE == os.O_RDWR

    def map(self, writable=None):
        """mmap() the whole buffer, shared: an mmap.mmap object.

        numpy.frombuffer(dmabuf.map(), dtype) makes an array of it.
        @writable defaults to whether the descriptor is open for writing.
        Bracket CPU access with cpu_access() for buffers the CPU caches.
        """
        if writable is None:
            writable = self.writable
        prot = mmap.PROT_READ | (mmap.PROT_WRITE if writable else 0)
        try:
            return mmap.mmap(self.fileno(), self.size, flags=mmap.MAP_SHARED, prot=prot)
        except OSError as exception:
            raise _errors.from_oserror(exception, "mapping a dma-buf%s"
                                       % (" writable" if writable else "")) from None

    def sync(self, flags):
        """DMA_BUF_IOCTL_SYNC with @flags (DMA_BUF_SYNC_START or _END, with
        _READ, _WRITE or _RW). cpu_access() is the usual way to call it."""
        request = struct.pack("=Q", flags)
        while True:
            try:
                fcntl.ioctl(self.fileno(), DMA_BUF_IOCTL_SYNC, request)
                return
            except (InterruptedError, BlockingIOError):
                continue
            except OSError as exception:
                raise _errors.from_oserror(exception, "DMA_BUF_IOCTL_SYNC of a dma-buf",
                                           "" if exception.errno != errno.EINVAL else
                                           "bad sync flags") from None

    @contextlib.contextmanager
    def cpu_access(self, read=True, write=True):
        """``with dmabuf.cpu_access():`` the CPU reads or writes the mapping.

        Starts CPU access (the caches see what devices wrote) and ends it
        (devices see what the CPU wrote), with DMA_BUF_IOCTL_SYNC; for a
        cached cmamem block this does its cache maintenance.
        """
        flags = (DMA_BUF_SYNC_READ if read else 0) | (DMA_BUF_SYNC_WRITE if write else 0)
        if not flags:
            raise ValueError("cpu_access() needs read, write or both")
        self.sync(DMA_BUF_SYNC_START | flags)
        try:
            yield self
        finally:
            self.sync(DMA_BUF_SYNC_END | flags)


class Import(_lifetime.Owner):
    """A dma-buf attached to a pool's device (cmamem.import_dmabuf()).

    length
        The buffer's size in bytes.
    dma_address (alias device_address)
        Where the pool's device sees the buffer, one contiguous run. When
        the kernel withholds addresses from this process (no
        CAP_SYS_RAWIO, not in the module's address_group) reading it raises
        PermissionError (EPERM); address_withheld says so beforehand.
    handle, pool
        The import handle and the Pool (open file) holding it.
    free() (alias close()), with statement
        Detach the buffer from the device and drop the pool's reference on
        it. A second free() raises FileNotFoundError (ENOENT). An import
        nobody frees is freed when garbage collected, or when its pool is
        closed.

    The dma-buf's descriptor may be closed as soon as the import exists.
    """

    def __init__(self, pool, reply):
        self.pool = pool
        self.handle = reply.handle
        self.length = reply.length
        self.address_withheld = bool(reply.out_flags & uapi.CMAMEM_ADDRESS_WITHHELD)
        self._dma_address = reply.dma_address
        self._own(_lifetime.free_quietly, pool, self.handle, os.getpid())

    def __repr__(self):
        return "<cmamem.Import handle %d of pool %r, %d bytes%s>" % (
            self.handle, getattr(self.pool, "name", "?"), self.length,
            ", freed" if self.freed else "")

    @property
    def freed(self):
        """True once free() ran."""
        return self._released

    @property
    def dma_address(self):
        """The address the pool's device uses for the buffer's first byte."""
        what = "DMA address of import handle %d" % self.handle
        if self.freed:
            raise _errors.error(errno.ENOENT, what, "the import was freed")
        if self.address_withheld:
            raise _errors.error(errno.EPERM, what,
                                "the kernel withholds addresses from this process "
                                "(it needs CAP_SYS_RAWIO or the cmamem module's "
                                "address_group)")
        return self._dma_address

    device_address = dma_address

    def free(self):
        """Detach the buffer from the pool's device and drop the handle."""
        if not self._disown():
            raise _errors.error(errno.ENOENT, "freeing import handle %d" % self.handle,
                                "the import was already freed")
        # A closed pool already dropped the handle with its file.
        if not self.pool.closed:
            self.pool.free(self.handle)

    close = free
