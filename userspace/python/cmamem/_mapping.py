# SPDX-License-Identifier: GPL-2.0
"""mmap() of a cmamem block, through the C library.

Python's mmap module cannot be used: its close() refuses while numpy
arrays export its buffer, so a block could never be let go while the user
still holds the array, which is exactly what freebuffer() has to do. Here
the mapping is an object with an __array_interface__, which numpy keeps as
the base of every array over it:

- release() (freebuffer()) replaces the block's pages with anonymous zero
  pages at the same address, in one mmap(MAP_FIXED) call. The kernel drops
  the block's mapping at once. Buffers over it then refuse access, and
  what reaches the memory around them (a memoryview, ctypes) reads zeros
  instead of crashing the interpreter.
- When the last array over the mapping is gone, the finalizer unmaps the
  address range (the block, or its zero placeholder).
"""

import ctypes
import errno
import mmap
import platform
import threading
import weakref

from . import _errors

_libc = ctypes.CDLL(None, use_errno=True)

# 64-bit file offsets in 32-bit processes too: mmap offsets of a pool file
# may exceed 2 GiB.
if hasattr(_libc, "mmap64"):
    _mmap = _libc.mmap64
    _mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int,
                      ctypes.c_int, ctypes.c_int, ctypes.c_int64]
else:
    _mmap = _libc.mmap
    _mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int,
                      ctypes.c_int, ctypes.c_int, ctypes.c_long]
_mmap.restype = ctypes.c_void_p
_munmap = _libc.munmap
_munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
_munmap.restype = ctypes.c_int

_MAP_FAILED = ctypes.c_void_p(-1).value
_OFFSET_LIMIT = 1 << (8 * ctypes.sizeof(_mmap.argtypes[5]) - 1)

# Not in Python's mmap module. 0x10 everywhere but alpha and parisc.
_MACHINE = platform.machine().lower()
if _MACHINE.startswith("alpha"):
    MAP_FIXED = 0x100
elif _MACHINE.startswith("parisc"):
    MAP_FIXED = 0x04
else:
    MAP_FIXED = 0x10


def _unmap(address, length):
    """Finalizer: unmap what is at [address, address + length)."""
    _munmap(address, length)


class Mapping:
    """A MAP_SHARED mapping of (part of) a block, as numpy's base object.

    Thread safe: release() may race with the finalizer of another thread's
    last array only through the lock.
    """

    def __init__(self, fd, offset, length, writable):
        """Map @length bytes of pool file @fd at file offset @offset."""
        if offset >= _OFFSET_LIMIT:
            raise _errors.error(errno.EOVERFLOW,
                                "mapping %d bytes at offset 0x%x" % (length, offset),
                                "the offset does not fit this process's off_t")
        prot = mmap.PROT_READ | (mmap.PROT_WRITE if writable else 0)
        address = _mmap(None, length, prot, mmap.MAP_SHARED, fd, offset)
        if address is None or address == _MAP_FAILED:
            number = ctypes.get_errno()
            raise _errors.error(number, "mapping %d bytes of the block at offset 0x%x"
                                % (length, offset))
        self.address = address
        self.length = length
        self.writable = writable
        self._prot = prot
        self._released = False
        self._lock = threading.Lock()
        self._finalizer = weakref.finalize(self, _unmap, address, length)

    @property
    def __array_interface__(self):
        return {
            "version": 3,
            "shape": (self.length,),
            "typestr": "|u1",
            "data": (self.address, not self.writable),
        }

    @property
    def released(self):
        return self._released

    def contains(self, low, high):
        """Whether [@low, @high) lies inside this mapping."""
        return self.address <= low and high <= self.address + self.length

    def release(self):
        """Let the block go: put anonymous zero pages in its place.

        Returns False if it was already released. Raises OSError if the
        kernel refused (the block then stays mapped).
        """
        with self._lock:
            if self._released:
                return False
            flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | MAP_FIXED
            address = _mmap(self.address, self.length, self._prot, flags, -1, 0)
            if address != self.address:
                number = ctypes.get_errno() or errno.EFAULT
                raise _errors.error(number, "unmapping the block at 0x%x"
                                    % self.address)
            self._released = True
            return True

