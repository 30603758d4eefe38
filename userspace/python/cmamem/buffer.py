# SPDX-License-Identifier: GPL-2.0
"""Buffer: a numpy array over a cmamem block, PYNQ style.

A Buffer is an ordinary numpy ndarray whose memory is the CPU mapping of a
physically contiguous block, with what a program needs to hand it to a
device: physical_address and dma_address, flush() and invalidate() for
the caches, freebuffer() and the with statement to let it go.

Slices and other views of a Buffer are Buffers of the same block (their
addresses are their own first byte's). Copies and results of arithmetic
are new memory, hence plain numpy arrays. Once the block is freed, every
Buffer over it refuses to be read or written.
"""

import errno
import itertools
import operator
import os

import numpy

from . import _errors
from . import _lifetime
from . import uapi
from .dmabuf import DmaBuf

try:
    _byte_bounds = numpy.lib.array_utils.byte_bounds
except AttributeError:
    _byte_bounds = numpy.byte_bounds


def normalize_shape(shape):
    """@shape as a tuple of non-negative ints (an int is a 1-D shape)."""
    try:
        dimensions = (operator.index(shape),)
    except TypeError:
        try:
            dimensions = tuple(shape)
        except TypeError:
            raise TypeError("shape must be an int or a tuple of ints, not %s"
                            % type(shape).__name__) from None
        for dimension in dimensions:
            try:
                operator.index(dimension)
            except TypeError:
                raise TypeError("shape %r: %r is not an int; shape must be an int or "
                                "a tuple of ints" % (shape, dimension)) from None
        dimensions = tuple(operator.index(dimension) for dimension in dimensions)
    for dimension in dimensions:
        if dimension < 0:
            raise ValueError("negative dimension in shape %s" % (dimensions,))
    return dimensions


def array_dtype(dtype):
    """@dtype as a numpy.dtype that can describe the bytes of a block.

    TypeError for a dtype that holds Python objects (object, or a
    structured dtype with an object field): its elements are pointers into
    this process's heap, meaningless to devices and to every other process
    that attaches the block (which crashes on them). And for a dtype
    without a size ("S", "U", "V"), which gives an array no bytes.
    """
    try:
        dtype = numpy.dtype(dtype)
    except TypeError as exception:
        raise TypeError("dtype %r: %s" % (dtype, exception)) from None
    if dtype.hasobject:
        raise TypeError("dtype %s holds Python objects: their pointers into this "
                        "process's memory mean nothing to devices and other processes "
                        "that share the block; use numbers, bytes or fixed-size "
                        "strings" % (dtype,))
    if dtype.itemsize == 0:
        raise TypeError("dtype %s has no size: give one (such as 'S16' or 'U8')"
                        % (dtype,))
    return dtype


def byte_count(shape, dtype):
    """Bytes an array of @shape and @dtype takes (without overflow)."""
    count = dtype.itemsize
    for dimension in shape:
        count *= dimension
    return count


class _Block(_lifetime.Owner):
    """One handle on a block, and the block's mapping in this process."""

    def __init__(self, pool, name, reply):
        self.pool = pool
        self.name = name
        self.handle = reply.handle
        self.mode = reply.mode
        self.length = reply.length
        self.mmap_offset = reply.mmap_offset
        self.withheld = bool(reply.out_flags & uapi.CMAMEM_ADDRESS_WITHHELD)
        self.dma_address = reply.dma_address
        self.physical_address = reply.physical_address
        self.mapping = None
        self._own(_lifetime.free_quietly, pool, self.handle, os.getpid())

    @property
    def freed(self):
        return self._released

    def offset_of(self, array):
        """(offset, length) of @array's memory in the block.

        Raises ValueError if @array does not lie inside the block's mapping.
        """
        low, high = _byte_bounds(array)
        if not self.mapping.contains(low, high):
            raise ValueError("this array is not a view of cmamem block %r"
                             % self.name)
        return low - self.mapping.address, high - low

    def check_live(self, what):
        if self.freed:
            raise _errors.error(errno.ENOENT, "%s of block %r" % (what, self.name),
                                "the buffer was freed")

    def free(self):
        """Unmap the block from this process and drop the handle."""
        if not self._disown():
            raise _errors.error(errno.ENOENT, "freeing block %r" % self.name,
                                "the buffer was already freed")
        try:
            self.mapping.release()
        finally:
            # A closed pool already dropped the handle with its file.
            if not self.pool.closed:
                self.pool.free(self.handle)

    close = free


def _unwrapped(value, what):
    """@value for numpy's own code: a Buffer as a plain ndarray view of the
    same memory (if its block is live), anything else as it is."""
    if isinstance(value, Buffer):
        value._check_not_freed(what)
        return value.view(numpy.ndarray)
    return value


def _new_memory_plain(result):
    """@result with every Buffer that is not a view of a block (a copy, a
    result in new memory) as a plain ndarray."""
    if isinstance(result, Buffer) and getattr(result, "_block", None) is None:
        return result.view(numpy.ndarray)
    if isinstance(result, tuple):
        return tuple(_new_memory_plain(item) for item in result)
    if isinstance(result, list):
        return [_new_memory_plain(item) for item in result]
    return result


def _checked_method(name):
    """numpy.ndarray's method @name for a Buffer: refused on a freed block,
    its results in new memory plain arrays."""
    method = getattr(numpy.ndarray, name)

    what = "Buffer.%s()" % name

    def checked(self, *arguments, **keywords):
        self._check_not_freed(what)
        for argument in arguments:
            if isinstance(argument, Buffer):
                argument._check_not_freed(what)
        return _new_memory_plain(method(self, *arguments, **keywords))

    checked.__name__ = checked.__qualname__ = name
    checked.__doc__ = method.__doc__
    return checked


# The ndarray methods that read or write the elements in C, without a ufunc
# or a numpy function that Buffer's __array_ufunc__ or __array_function__
# would see, or that return new memory.
_CHECKED_METHODS = (
    "__getitem__", "__setitem__", "__bool__", "__int__", "__float__",
    "__complex__", "__index__", "__copy__", "__deepcopy__", "copy", "astype",
    "tobytes", "tolist", "item", "fill", "sort", "argsort", "partition",
    "argpartition", "argmax", "argmin", "byteswap", "flatten", "ravel",
    "take", "put", "repeat", "compress", "choose", "searchsorted", "nonzero",
    "dot", "tofile", "getfield", "setfield", "itemset",
)


def _block_of(array):
    """The _Block an array is a view of, or None."""
    block = getattr(array, "_block", None)
    if block is None or block.mapping is None:
        return None
    low, high = _byte_bounds(array)
    return block if block.mapping.contains(low, high) else None


class Buffer(numpy.ndarray):
    """A numpy array over a cmamem block (see cmamem.allocate()).

    Attributes and methods beyond numpy's:

    physical_address, dma_address (alias device_address)
        The address of this array's first byte for the CPU's physical
        address space and for devices (virtual_address: in this
        process). When the kernel withholds addresses from this process
        (no CAP_SYS_RAWIO, not in the module's address_group) reading them
        raises PermissionError (EPERM); address_withheld says so
        beforehand.
    flush(), invalidate()
        Cache maintenance for this array's bytes: after the CPU wrote and
        before a device reads (flush), and after a device wrote and before
        the CPU reads (invalidate). Needed for mode "cached"; harmless and
        validated on the other modes. Alias: sync_to_device(),
        sync_from_device(). cacheable is True for mode "cached", coherent
        for the others.
    export()
        The block as a dma-buf (a DmaBuf) for V4L2, DRM or a codec.
    freebuffer() (alias close())
        Unmap the block and drop this handle; the block's memory returns to
        the pool when no other handle, mapping or dma-buf holds it. Every
        view of the block then raises FileNotFoundError (ENOENT) when it
        is read or written (indexing, numpy functions and ufuncs, methods)
        and says "freed" in its repr(); memory access that bypasses the
        array's methods (memoryview, ctypes, numpy.asarray()) reads zeros.
        Freeing twice raises FileNotFoundError (ENOENT).
    with statement
        ``with cmamem.allocate(...) as buffer:`` frees at the end.

    Copies and every other result in new memory (a.copy(), astype(),
    numpy.zeros_like(a), arithmetic, fancy indexing) are plain
    numpy.ndarray objects.
    """

    def __array_finalize__(self, obj):
        # Views keep the block; new memory (copies, results) does not, and
        # _new_memory_plain() turns it into a plain ndarray on its way out.
        self._block = getattr(obj, "_block", None)
        if self._block is not None and _block_of(self) is None:
            self._block = None

    def __array_wrap__(self, array, context=None, return_scalar=False):
        if isinstance(array, Buffer) and array._block is not None:
            return array            # written in place into a block
        result = array.view(numpy.ndarray)
        # Reductions (sum(), max()) give numbers, as on plain arrays.
        return result[()] if result.ndim == 0 else result

    def __array_ufunc__(self, ufunc, method, *inputs, **keywords):
        # numpy's own code runs on plain views of the same memory, once
        # every Buffer among the operands is known to be live; results are
        # then plain arrays (new memory), or the out= arrays as given.
        what = "numpy.%s()" % ufunc.__name__
        inputs = tuple(_unwrapped(value, what) for value in inputs)
        out = keywords.get("out")
        if out is not None:
            keywords["out"] = tuple(_unwrapped(value, what) for value in out)
        if "where" in keywords:
            keywords["where"] = _unwrapped(keywords["where"], what)
        result = getattr(ufunc, method)(*inputs, **keywords)
        if out is None or method == "at":
            return result
        return out[0] if len(out) == 1 else out

    def __array_function__(self, func, types, arguments, keywords):
        what = "numpy.%s()" % func.__name__
        for value in itertools.chain(arguments, keywords.values()):
            for array in value if isinstance(value, (list, tuple)) else (value,):
                if isinstance(array, Buffer):
                    array._check_not_freed(what)
        return _new_memory_plain(super().__array_function__(func, types, arguments,
                                                            keywords))

    def __reduce__(self):
        # A pickle holds the values, not the block.
        self._check_not_freed("pickling")
        return numpy.asarray(self).copy().__reduce__()

    def __repr__(self):
        block = getattr(self, "_block", None)
        if block is not None and block.freed:
            return "<cmamem.Buffer %s %s of block %r: freed>" % (
                self.shape, self.dtype, block.name)
        return super().__repr__()

    def __str__(self):
        block = getattr(self, "_block", None)
        if block is not None and block.freed:
            return repr(self)
        return super().__str__()

    def _check_not_freed(self, what):
        """Raise FileNotFoundError (ENOENT) if this is a view of a freed
        block: its bytes are gone, and writes would be lost."""
        block = getattr(self, "_block", None)
        if block is not None:
            block.check_live(what)

    @classmethod
    def _over_block(cls, pool, name, reply, shape, dtype):
        """A Buffer over the block of ALLOC or ATTACH reply @reply."""
        block = _Block(pool, name, reply)
        try:
            block.mapping = pool.map(reply.mmap_offset, reply.length)
        except BaseException:
            block._disown()
            pool.free(reply.handle)
            raise
        raw = numpy.asarray(block.mapping)
        array = numpy.ndarray.__new__(cls, shape, dtype=dtype, buffer=raw)
        array._block = block
        return array

    def _live_block(self, what):
        block = getattr(self, "_block", None)
        if block is None:
            raise ValueError("%s: this array is not a view of a cmamem block"
                             % what)
        block.check_live(what)
        return block

    def _address(self, what, base_attribute):
        block = self._live_block(what)
        if block.withheld:
            raise _errors.error(errno.EPERM, "%s of block %r" % (what, block.name),
                                "the kernel withholds addresses from this process "
                                "(it needs CAP_SYS_RAWIO or the cmamem module's "
                                "address_group)")
        offset, _ = block.offset_of(self)
        return getattr(block, base_attribute) + offset

    @property
    def physical_address(self):
        """The CPU physical address of this array's first byte."""
        return self._address("physical address", "physical_address")

    @property
    def dma_address(self):
        """The address devices use for this array's first byte."""
        return self._address("DMA address", "dma_address")

    device_address = dma_address

    @property
    def address_withheld(self):
        """True when the kernel withholds addresses from this process."""
        return self._live_block("address_withheld").withheld

    @property
    def name(self):
        """The block's name in its pool."""
        return self._live_block("name").name

    @property
    def virtual_address(self):
        """This process's address of this array's first byte (for ctypes,
        or a driver that takes a user pointer), as PYNQ's virtual_address."""
        self._live_block("virtual address")
        return self.__array_interface__["data"][0]

    @property
    def mode(self):
        """"coherent", "writecombine" or "cached" (cmamem.uapi.MODE_NAMES)."""
        return uapi.mode_name(self._live_block("mode").mode)

    @property
    def cacheable(self):
        """True for mode "cached" (flush() and invalidate() needed)."""
        return self._live_block("cacheable").mode == uapi.CMAMEM_MODE_CACHED

    @property
    def coherent(self):
        """True when the CPU's view needs no cache maintenance (modes
        "coherent" and "writecombine"), as PYNQ's coherent: not cacheable."""
        return not self.cacheable

    @property
    def pool(self):
        """The Pool (open file) that holds this buffer's handle."""
        return self._live_block("pool").pool

    @property
    def handle(self):
        """The handle on the block, valid on pool's open file."""
        return self._live_block("handle").handle

    @property
    def block_length(self):
        """Bytes in the whole block (whole pages)."""
        return self._live_block("block_length").length

    @property
    def freed(self):
        """True once freebuffer() ran on this buffer or any view of it."""
        block = getattr(self, "_block", None)
        return block is not None and block.freed

    def _sync(self, direction, what):
        block = self._live_block(what)
        offset, length = block.offset_of(self)
        if length:
            block.pool.sync(block.handle, direction, offset, length)

    def flush(self):
        """Make the CPU's writes to this array visible to devices."""
        self._sync(uapi.CMAMEM_SYNC_FOR_DEVICE, "flush")

    def invalidate(self):
        """Make what devices wrote into this array visible to the CPU."""
        self._sync(uapi.CMAMEM_SYNC_FOR_CPU, "invalidate")

    sync_to_device = flush
    sync_from_device = invalidate

    def info(self):
        """The block's BLOCK_INFO through this buffer's handle."""
        block = self._live_block("info")
        return block.pool.block_info(block.handle)

    def export(self, writable=True):
        """Export the whole block (whatever part of it this array views)
        as a dma-buf: a DmaBuf that owns the file descriptor.

        The dma-buf is what V4L2, DRM and codecs import. It keeps the block
        alive after freebuffer() until it is closed (and unmapped). With
        @writable False it is open read-only and cannot be mapped writable.
        The descriptor is close-on-exec (subprocess's pass_fds still passes
        it). Raises OSError EOPNOTSUPP for a block of a carveout pool.
        """
        block = self._live_block("export")
        flags = (os.O_RDWR if writable else os.O_RDONLY) | os.O_CLOEXEC
        return DmaBuf(block.pool.export(block.handle, flags))

    def freebuffer(self):
        """Unmap the block and drop this buffer's handle on it."""
        block = getattr(self, "_block", None)
        if block is None:
            raise ValueError("freebuffer: this array is not a view of a cmamem block")
        block.free()

    close = freebuffer

    def __enter__(self):
        return self

    def __exit__(self, *exception_info):
        block = getattr(self, "_block", None)
        if block is not None:
            block.__exit__(*exception_info)


for _name in _CHECKED_METHODS:
    if hasattr(numpy.ndarray, _name):       # itemset is gone in numpy 2
        setattr(Buffer, _name, _checked_method(_name))
del _name
