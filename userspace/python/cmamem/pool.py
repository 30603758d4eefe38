# SPDX-License-Identifier: GPL-2.0
"""cmamem pools: the open device file, its ioctls, and what they report.

A Pool is one open file of /dev/cmamem (pool "default") or
/dev/cmamem-NAME. Handles, and so blocks and imports, belong to the open
file: closing the pool drops every handle it holds (the kernel frees a
block when its last handle, mapping and dma-buf are gone). Pool methods
may be called from several threads at once; close() waits for ioctls in
flight.
"""

import contextlib
import dataclasses
import errno
import fcntl
import itertools
import operator
import os
import stat
import threading

import numpy

from . import _errors
from . import _lifetime
from . import _mapping
from . import buffer
from . import uapi
from .dmabuf import Import, descriptor
from .uapi import mode_name, mode_number

DEFAULT_POOL = "default"
DEVICE_DIRECTORY = "/dev"
DEVICE_BASE = "cmamem"
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")

# Names for blocks allocated without one: unique in this process, and the
# pid keeps them apart from other processes'.
_block_numbers = itertools.count(1)


def pool_path(name=DEFAULT_POOL):
    """The device node of pool @name: /dev/cmamem or /dev/cmamem-NAME.

    An absolute path is returned as it is.
    """
    if name is None or name == DEFAULT_POOL:
        return os.path.join(DEVICE_DIRECTORY, DEVICE_BASE)
    if not isinstance(name, str):
        raise TypeError("pool name must be a str, not %s" % type(name).__name__)
    if name.startswith("/"):
        return name
    if not name or "/" in name or len(name) >= uapi.CMAMEM_NAME_SIZE:
        raise ValueError("bad pool name %r: 1 to %d characters without '/'"
                         % (name, uapi.CMAMEM_NAME_SIZE - 1))
    return os.path.join(DEVICE_DIRECTORY, "%s-%s" % (DEVICE_BASE, name))


def pool_names():
    """Names of the pools on this system, "default" first.

    Looks for /dev/cmamem and /dev/cmamem-* character devices without
    opening them.
    """
    names = []
    for entry in os.listdir(DEVICE_DIRECTORY):
        if entry == DEVICE_BASE:
            name = DEFAULT_POOL
        elif entry.startswith(DEVICE_BASE + "-") and len(entry) > len(DEVICE_BASE) + 1:
            name = entry[len(DEVICE_BASE) + 1:]
        else:
            continue
        try:
            if not stat.S_ISCHR(os.stat(os.path.join(DEVICE_DIRECTORY, entry)).st_mode):
                continue
        except OSError:
            continue
        names.append(name)
    return sorted(names, key=lambda name: (name != DEFAULT_POOL, name))


def _text(field):
    return field.decode("ascii", "replace")


# What the uapi allows in a block name: 1 to CMAMEM_NAME_SIZE - 1 printable
# ASCII characters other than space (the kernel's cmamem_name_valid(),
# libcmamem's cmamem_check_name()).
_NAME_RULE = "a block name is 1 to %d printable ASCII characters, no spaces" % (
    uapi.CMAMEM_NAME_SIZE - 1)


def name_field(name):
    """@name (str or bytes) as the bytes of a name field.

    Checked as the kernel checks it, so that a bad name raises ValueError
    (TypeError for what is no string) that says what is wrong with it,
    rather than the kernel's bare EINVAL.
    """
    if isinstance(name, str):
        try:
            encoded = name.encode("ascii")
        except UnicodeEncodeError:
            raise ValueError("name %r is not ASCII: %s" % (name, _NAME_RULE)) from None
    elif isinstance(name, bytes):
        encoded = name
    else:
        raise TypeError("name must be a str, not %s" % type(name).__name__)
    if not encoded:
        raise ValueError("name is empty: %s" % _NAME_RULE)
    if len(encoded) >= uapi.CMAMEM_NAME_SIZE:
        raise ValueError("name %r has %d characters: %s" % (name, len(encoded), _NAME_RULE))
    for character in encoded:
        if not 0x21 <= character <= 0x7e:
            raise ValueError("name %r holds %s: %s" % (
                name, "a space" if character == 0x20 else repr(chr(character)),
                _NAME_RULE))
    return encoded


def _optional_int(value, argument, unit):
    """@value as an int, or None; a TypeError naming @argument (an int of
    @unit, or None) for anything else, a bool included."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError("%s must be an int (%s) or None, not a bool" % (argument, unit))
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError("%s must be an int (%s) or None, not %s"
                        % (argument, unit, type(value).__name__)) from None


def alignment_field(align):
    """@align (bytes, or None or 0 for the kernel's default of one page)
    as the alignment field; ValueError unless it is a power of two of at
    least the page size, which is what the kernel accepts."""
    align = _optional_int(align, "align", "bytes")
    if align is None:
        return 0
    if align and (align < PAGE_SIZE or align & (align - 1)):
        raise ValueError("align=%d: the DMA address alignment must be a power of two "
                         "of at least the page size (%d bytes)" % (align, PAGE_SIZE))
    return align


def max_address_field(max_address):
    """@max_address (the highest DMA address any byte of the block may
    have, or None for no limit) as the max_dma_address field; TypeError
    for no int, ValueError outside 1 to 2**64 - 1 (0 would read as no
    limit: None says that)."""
    max_address = _optional_int(max_address, "max_address", "a DMA address")
    if max_address is None:
        return 0
    if not 0 < max_address < 1 << 64:
        raise ValueError("max_address=%d: the highest DMA address of the block must be "
                         "1 to 2**64 - 1 (None for no limit; 2**32 - 1 for an engine "
                         "with 32 address bits)" % max_address)
    return max_address


def owner_field(owner):
    """@owner (the uid whose block ATTACH must find, or None for the
    caller's own) as (flags, owner_uid); TypeError for no int, ValueError
    outside 0 to 2**32 - 2 ((uid_t)-1 is no user)."""
    owner = _optional_int(owner, "owner", "a uid")
    if owner is None:
        return 0, 0
    if not 0 <= owner < (1 << 32) - 1:
        raise ValueError("owner=%d: a uid is 0 to 2**32 - 2" % owner)
    return uapi.CMAMEM_OWNER, owner


def length_field(length):
    """@length (bytes) as the length field; ValueError for nothing."""
    length = operator.index(length)
    if length <= 0:
        raise ValueError("length %d: a block holds at least one byte" % length)
    return length


def cacheable_mode(mode, cacheable):
    """The mode of an allocation given @mode and PYNQ's @cacheable (None
    when not given): cacheable=True is "cached", False "writecombine" (the
    mapping PYNQ gives a buffer that is not cacheable)."""
    if cacheable is None:
        return mode
    if mode != "coherent":
        raise TypeError("give mode=%r or PYNQ's cacheable=%r, not both" % (mode, cacheable))
    if not isinstance(cacheable, (bool, int)) or cacheable not in (0, 1):
        raise TypeError("cacheable must be True or False (or 1 or 0), not %r" % (cacheable,))
    return "cached" if cacheable else "writecombine"


def allocation(shape, dtype, mode, name, align, cacheable=None):
    """The checked arguments of allocate(): (shape, dtype, length, mode
    name, name field or None, alignment field).

    Everything the kernel would refuse with a bare EINVAL is refused here
    first, naming the argument; what only the pool knows (its size, its
    free memory, whether it has cached blocks) is left to the kernel.
    """
    dtype = buffer.array_dtype(dtype)
    shape = buffer.normalize_shape(shape)
    length = buffer.byte_count(shape, dtype)
    if length == 0:
        raise ValueError("shape %s of %s is 0 bytes: a block holds at least one byte"
                         % (shape, dtype))
    mode = cacheable_mode(mode, cacheable)
    mode_number(mode)
    return (shape, dtype, length, mode,
            None if name is None else name_field(name), alignment_field(align))


def attachment(name, shape, dtype):
    """The checked arguments of attach(): (name field, shape or None,
    dtype)."""
    dtype = buffer.array_dtype(dtype)
    if shape is not None:
        shape = buffer.normalize_shape(shape)
    return name_field(name), shape, dtype


@dataclasses.dataclass(frozen=True)
class PoolInfo:
    """What CMAMEM_IOCTL_POOL_INFO says about a pool.

    total_bytes is None when the kernel does not tell modules the pool's
    size (the default pool); free_bytes is then the free CMA memory of the
    whole system, or None on a kernel without CMA. max_block_bytes is None
    when nothing limits a block's size.
    """

    name: str
    device: str
    kind: str
    flags: int
    total_bytes: object
    used_bytes: int
    peak_bytes: int
    free_bytes: object
    blocks: int
    allocations: int
    failures: int
    max_block_bytes: object
    page_size: int
    cached_allowed: bool

    @classmethod
    def _from_reply(cls, reply, device):
        flags = reply.pool_flags
        if flags & uapi.CMAMEM_POOL_CARVEOUT:
            kind = "carveout"
        elif flags & uapi.CMAMEM_POOL_DEFAULT:
            kind = "default-cma" if flags & uapi.CMAMEM_POOL_CMA else "default-buddy"
        elif flags & uapi.CMAMEM_POOL_CMA:
            kind = "cma"
        else:
            kind = "unknown"
        total_known = bool(flags & uapi.CMAMEM_POOL_TOTAL_KNOWN)
        free_known = bool(flags & (uapi.CMAMEM_POOL_TOTAL_KNOWN | uapi.CMAMEM_POOL_CMA))
        return cls(name=_text(reply.name), device=device, kind=kind, flags=flags,
                   total_bytes=reply.total_bytes if total_known else None,
                   used_bytes=reply.used_bytes, peak_bytes=reply.peak_bytes,
                   free_bytes=reply.free_bytes if free_known else None,
                   blocks=reply.blocks, allocations=reply.allocations,
                   failures=reply.failures,
                   max_block_bytes=reply.max_block_bytes or None,
                   page_size=reply.page_size,
                   cached_allowed=bool(flags & uapi.CMAMEM_POOL_CACHED))


@dataclasses.dataclass(frozen=True)
class BlockInfo:
    """What CMAMEM_IOCTL_BLOCK_INFO says about a block, through one handle.

    dma_address and physical_address are None when the kernel withholds
    them (address_withheld: the caller lacks CAP_SYS_RAWIO and is not in
    the module's address_group).
    """

    name: str
    pool: str
    handle: int
    mode: str
    length: int
    alignment: int
    mmap_offset: int
    dma_address: object
    physical_address: object
    address_withheld: bool
    handles: int
    mappings: int
    dma_bufs: int
    owner_uid: int

    @classmethod
    def _from_reply(cls, reply):
        withheld = bool(reply.out_flags & uapi.CMAMEM_ADDRESS_WITHHELD)
        return cls(name=_text(reply.name), pool=_text(reply.pool),
                   handle=reply.handle, mode=mode_name(reply.mode),
                   length=reply.length, alignment=reply.alignment,
                   mmap_offset=reply.mmap_offset,
                   dma_address=None if withheld else reply.dma_address,
                   physical_address=None if withheld else reply.physical_address,
                   address_withheld=withheld, handles=reply.handles,
                   mappings=reply.mappings, dma_bufs=reply.dma_bufs,
                   owner_uid=reply.owner_uid)


class Pool(_lifetime.Owner):
    """One open file of a cmamem pool.

    Pool(name) opens /dev/cmamem (name "default", the default) or
    /dev/cmamem-NAME, or the absolute device path given, read-write unless
    writable=False. Pool(fd=FD) uses an already-open pool file instead (it
    keeps a duplicate of FD: the same open file, so the same handles),
    which is how a process that can no longer open the device (it dropped
    its privileges, or it runs in a sandbox) keeps using it.

    Every Pool opened by name is a new open file: blocks allocated through
    one are not handles of another (attach() by name reaches them).
    """

    def __init__(self, name=DEFAULT_POOL, *, fd=None, writable=True):
        self._lock = threading.Condition()
        self._users = 0
        self._fd = -1
        if fd is not None:
            self.device = "fd %d" % fd
            try:
                access = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE
                own_fd = os.dup(fd)
            except OSError as exception:
                raise _errors.from_oserror(exception, "using %s as a cmamem pool"
                                           % self.device) from None
            self.writable = access == os.O_RDWR
        else:
            self.device = pool_path(name)
            flags = (os.O_RDWR if writable else os.O_RDONLY) | os.O_CLOEXEC
            try:
                own_fd = os.open(self.device, flags)
            except FileNotFoundError:
                raise _errors.error(errno.ENOENT, "opening pool %r" % name,
                                    "%s does not exist (is the cmamem module loaded%s?)"
                                    % (self.device,
                                       "" if self.device == pool_path() else
                                       ", and does the device tree define this pool")) from None
            except PermissionError as exception:
                raise _errors.error(exception.errno, "opening %s" % self.device,
                                    "only root and the group of the device (cmamem, with "
                                    "the packaged udev rule) may use it") from None
            except OSError as exception:
                raise _errors.from_oserror(exception, "opening %s" % self.device) from None
            self.writable = writable
        self._fd = own_fd
        self._own(_lifetime.close_quietly, own_fd)
        try:
            info = self.info()
        except OSError:
            self.close()
            raise
        self.name = info.name
        self.page_size = info.page_size
        if fd is not None:
            self.device = pool_path(self.name)

    @classmethod
    def from_fd(cls, fd):
        """Pool(fd=fd): use an already-open pool file."""
        return cls(fd=fd)

    def __repr__(self):
        state = "closed" if self.closed else "fd %d" % self._fd
        return "<cmamem.Pool %r (%s, %s)>" % (getattr(self, "name", "?"),
                                              self.device, state)

    @property
    def closed(self):
        return self._fd < 0

    def fileno(self):
        """The pool's file descriptor (for inheriting, or select())."""
        if self._fd < 0:
            raise _errors.error(errno.EBADF, "pool %r" % getattr(self, "name", "?"))
        return self._fd

    def close(self):
        """Close the pool file: every handle it holds is dropped.

        Blocks still mapped stay readable and writable through their
        arrays (the mapping keeps them alive) until they are freed or
        garbage collected; their flush(), invalidate() and info() then fail
        with EBADF. Waits for ioctls other threads have in flight.
        """
        if not self._disown():
            return
        with self._lock:
            fd = self._fd
            self._fd = -1
            while self._users:
                self._lock.wait()
        os.close(fd)

    @contextlib.contextmanager
    def _using_fd(self, what):
        """The fd, kept open (and its number not reused) while in use."""
        with self._lock:
            if self._fd < 0:
                raise _errors.error(errno.EBADF, what)
            self._users += 1
            fd = self._fd
        try:
            yield fd
        finally:
            with self._lock:
                self._users -= 1
                if not self._users:
                    self._lock.notify_all()

    def _ioctl(self, command, request, what, meanings=None):
        """ioctl() @command with @request; an OSError says @what failed,
        and why: @meanings ({errno: text}) overrides the usual meanings."""
        with self._using_fd(what) as fd:
            try:
                fcntl.ioctl(fd, command, request, True)
            except OSError as exception:
                meaning = (meanings or {}).get(exception.errno)
                raise _errors.from_oserror(exception, what, meaning) from None
        return request

    # The ioctls, one method each.

    def info(self):
        """CMAMEM_IOCTL_POOL_INFO: the pool's kind and usage (PoolInfo)."""
        reply = self._ioctl(uapi.CMAMEM_IOCTL_POOL_INFO,
                            uapi.new_request(uapi.CmamemPoolInfo),
                            "POOL_INFO of %s" % self.device)
        return PoolInfo._from_reply(reply, self.device)

    def alloc(self, name, length, mode="coherent", alignment=0, max_address=None):
        """CMAMEM_IOCTL_ALLOC: allocate block @name; the raw reply.

        @max_address: the highest DMA address any byte of the block may
        have, for an engine with fewer address bits than the pool's device
        (2**32 - 1 for 32 bits); None for no limit. Most programs want
        allocate(), which also maps the block. Bad arguments raise
        ValueError or TypeError before the ioctl, as there.
        """
        request = uapi.new_request(uapi.CmamemAlloc)
        request.name = name_field(name)
        request.mode = mode_number(mode)
        length = length_field(length)
        request.alignment = alignment_field(alignment)
        request.max_dma_address = max_address_field(max_address)
        what = "allocating block %r (%d bytes, %s) in pool %r" % (
            name, length, mode, getattr(self, "name", self.device))
        if length >= 1 << 64:
            raise _errors.error(errno.EFBIG, what, "larger than any pool can be")
        request.length = length
        return self._ioctl(uapi.CMAMEM_IOCTL_ALLOC, request, what,
                           _errors.alloc_meanings(request.max_dma_address))

    def attach_handle(self, name, owner=None):
        """CMAMEM_IOCTL_ATTACH: a new handle on block @name; the raw reply.

        Names are per user: @name is one of the caller's own blocks, or,
        with @owner (a uid; another user's needs CAP_SYS_ADMIN), that
        user's block and no other. Most programs want attach(), which also
        maps the block.
        """
        request = uapi.new_request(uapi.CmamemAttach)
        request.flags, request.owner_uid = owner_field(owner)
        request.name = name_field(name)
        return self._ioctl(uapi.CMAMEM_IOCTL_ATTACH, request,
                           "attaching to block %r in pool %r" % (name, self.name))

    def free(self, handle):
        """CMAMEM_IOCTL_FREE: drop handle @handle of this pool file."""
        request = uapi.new_request(uapi.CmamemFree)
        request.handle = handle
        self._ioctl(uapi.CMAMEM_IOCTL_FREE, request,
                    "freeing handle %d of pool %r" % (handle, self.name))

    def sync(self, handle, direction, offset, length):
        """CMAMEM_IOCTL_SYNC: cache maintenance for a range of a block.

        @direction is CMAMEM_SYNC_FOR_DEVICE (after the CPU wrote) or
        CMAMEM_SYNC_FOR_CPU (before the CPU reads what a device wrote);
        @offset and @length are bytes from the start of the block.
        """
        request = uapi.new_request(uapi.CmamemSync)
        request.flags = direction
        request.handle = handle
        request.offset = offset
        request.length = length
        what = "syncing bytes %d+%d of handle %d for the %s" % (
            offset, length, handle,
            "device" if direction == uapi.CMAMEM_SYNC_FOR_DEVICE else "CPU")
        self._ioctl(uapi.CMAMEM_IOCTL_SYNC, request, what)

    def block_info(self, handle):
        """CMAMEM_IOCTL_BLOCK_INFO of handle @handle (a BlockInfo)."""
        request = uapi.new_request(uapi.CmamemBlockInfo)
        request.handle = handle
        reply = self._ioctl(uapi.CMAMEM_IOCTL_BLOCK_INFO, request,
                            "BLOCK_INFO of handle %d of pool %r" % (handle, self.name))
        return BlockInfo._from_reply(reply)

    def export(self, handle, fd_flags=os.O_RDWR | os.O_CLOEXEC):
        """CMAMEM_IOCTL_EXPORT: block handle @handle as a dma-buf; the raw
        file descriptor (an int the caller closes).

        @fd_flags: the access mode (os.O_RDWR, or os.O_RDONLY for a dma-buf
        that cannot be mapped writable), with os.O_CLOEXEC unless a program
        this process executes itself is to inherit it. Most programs want
        Buffer.export(), which returns a DmaBuf that closes it.
        """
        request = uapi.new_request(uapi.CmamemExport)
        request.handle = handle
        request.fd_flags = fd_flags
        self._ioctl(uapi.CMAMEM_IOCTL_EXPORT, request,
                    "exporting handle %d of pool %r as a dma-buf" % (handle, self.name),
                    {errno.EINVAL: "bad fd_flags, or an import handle, not a block",
                     errno.EOPNOTSUPP: "a carveout block has no struct pages for importers",
                     errno.EMFILE: "the process has no free file descriptor"})
        return request.fd

    def import_handle(self, dmabuf):
        """CMAMEM_IOCTL_IMPORT: attach dma-buf @dmabuf (a file descriptor,
        or an object with fileno()) to the pool's device; the raw reply.

        Most programs want import_dmabuf(), which returns an Import.
        """
        fd = descriptor(dmabuf)
        request = uapi.new_request(uapi.CmamemImport)
        request.fd = fd
        return self._ioctl(uapi.CMAMEM_IOCTL_IMPORT, request,
                           "importing the dma-buf on fd %d into pool %r" % (fd, self.name),
                           {errno.EBADF: "not an open file descriptor",
                            errno.EINVAL: "not a dma-buf, or not one contiguous run of "
                                          "DMA addresses for the pool's device",
                            errno.EMFILE: "this open file holds fd_max_blocks handles"})

    def import_dmabuf(self, dmabuf):
        """Attach dma-buf @dmabuf to the pool's device: an Import.

        See cmamem.import_dmabuf().
        """
        return Import(self, self.import_handle(dmabuf))

    # Blocks as numpy arrays.

    def allocate(self, shape, dtype=numpy.uint8, mode="coherent", name=None,
                 align=None, *, cacheable=None, max_address=None):
        """Allocate a block and return a Buffer (numpy array) over it.

        See cmamem.allocate(); with cacheable=, a Pool also serves as the
        target= of PYNQ code (which calls target.allocate()).
        """
        shape, dtype, length, mode, _, alignment = allocation(shape, dtype, mode, name,
                                                              align, cacheable)
        max_address_field(max_address)
        if name is None:
            # A generated name can only clash with a block of another
            # process that reused our pid's names: take the next one.
            for _ in range(64):
                generated = "py%d-%d" % (os.getpid(), next(_block_numbers))
                try:
                    reply = self.alloc(generated, length, mode, alignment,
                                       max_address)
                    break
                except FileExistsError:
                    continue
            else:
                raise _errors.error(errno.EEXIST, "allocating a block in pool %r"
                                    % self.name, "no free generated name")
            name = generated
        else:
            reply = self.alloc(name, length, mode, alignment, max_address)
        return buffer.Buffer._over_block(self, name, reply, shape, dtype)

    def attach(self, name, shape=None, dtype=numpy.uint8, *, owner=None):
        """Take a new handle on block @name and return a Buffer over it.

        See cmamem.attach().
        """
        _, shape, dtype = attachment(name, shape, dtype)
        owner_field(owner)
        reply = self.attach_handle(name, owner)
        if isinstance(name, bytes):
            name = name.decode("ascii")
        try:
            if shape is None:
                shape = (reply.length // dtype.itemsize,)
            needed = buffer.byte_count(shape, dtype)
            if needed > reply.length:
                raise ValueError("shape %s of %s needs %d bytes; block %r has %d"
                                 % (shape, dtype, needed, name, reply.length))
            return buffer.Buffer._over_block(self, name, reply, shape, dtype)
        except BaseException:
            self.free(reply.handle)
            raise

    def map(self, mmap_offset, length, writable=None):
        """mmap() @length bytes of the pool file at @mmap_offset (internal)."""
        if writable is None:
            writable = self.writable
        with self._using_fd("mapping a block of pool %r" % self.name) as fd:
            return _mapping.Mapping(fd, mmap_offset, length, writable)
