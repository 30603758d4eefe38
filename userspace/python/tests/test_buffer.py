#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""cmamem.allocate(): numpy arrays over blocks, their addresses, cache
maintenance, freeing, and the errors of bad requests. Runs as root with
the module loaded (TAP output; see tap.py)."""

import copy
import errno
import gc
import os
import sys

import numpy

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import cmamem  # noqa: E402
from cmamem import uapi  # noqa: E402
from tap import Skip, check, equal, expect_error, run, device_missing  # noqa: E402

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def used_bytes():
    """The default pool's used bytes, through a fresh open file."""
    with cmamem.Pool(writable=False) as pool:
        return pool.info().used_bytes


def test_write_read_uint8():
    with cmamem.allocate(10000, numpy.uint8, name="py-buffer-u8") as buffer:
        check(isinstance(buffer, cmamem.Buffer), "allocate() returned %s"
              % type(buffer).__name__)
        check(isinstance(buffer, numpy.ndarray), "a Buffer is not an ndarray")
        equal(buffer.shape, (10000,), "shape")
        equal(buffer.dtype, numpy.dtype(numpy.uint8), "dtype")
        check(buffer.flags.c_contiguous and buffer.flags.writeable,
              "the array is not C-contiguous and writable: %s" % buffer.flags)
        equal(buffer.block_length, -(-10000 // PAGE_SIZE) * PAGE_SIZE,
              "block length (whole pages)")
        equal(buffer.name, "py-buffer-u8", "name")
        pattern = (numpy.arange(10000) * 7 % 251).astype(numpy.uint8)
        buffer[:] = pattern
        check(numpy.array_equal(buffer, pattern), "read back differs from what was written")
        # The bytes are in the block: a second mapping of it sees them.
        with cmamem.attach("py-buffer-u8", pool=cmamem.Pool()) as other:
            check(numpy.array_equal(other[:10000], pattern),
                  "a second mapping of the block reads other bytes")


def test_image_uint8_2d():
    height, width = 480, 640
    with cmamem.allocate((height, width), numpy.uint8, mode="cached") as image:
        equal(image.shape, (height, width), "shape")
        equal(image.nbytes, height * width, "nbytes")
        check(image.block_length >= height * width, "block shorter than the image")
        rows = numpy.arange(height, dtype=numpy.uint32)[:, None]
        columns = numpy.arange(width, dtype=numpy.uint32)[None, :]
        image[:] = (rows + columns) % 256
        image.flush()
        image.invalidate()
        equal(int(image[479, 639]), (479 + 639) % 256, "pixel (479, 639)")
        equal(int(image[100, 3]), 103, "pixel (100, 3)")
        row = image[10]
        check(isinstance(row, cmamem.Buffer), "a row of the image is not a Buffer")
        equal(row.physical_address - image.physical_address, 10 * width,
              "physical address of row 10")


def test_float32_arithmetic_and_views():
    with cmamem.allocate(1000, numpy.float32) as values:
        values[:] = numpy.arange(1000, dtype=numpy.float32) * 0.5
        total = values.sum()
        check(numpy.isscalar(total) or numpy.ndim(total) == 0,
              "sum() is not a number: %r" % (total,))
        equal(float(total), 0.5 * 999 * 1000 / 2, "sum")
        result = values + 1
        check(type(result) is numpy.ndarray,
              "values + 1 is a %s, not new memory (numpy.ndarray)" % type(result).__name__)
        check(not numpy.may_share_memory(result, values), "values + 1 shares the block")
        view = values[10:20]
        check(isinstance(view, cmamem.Buffer), "a slice is not a Buffer")
        equal(view.dma_address - values.dma_address, 10 * 4, "DMA address of values[10:]")
        numpy.multiply(values, 2, out=values)
        equal(float(values[999]), 999.0, "in-place multiply")
        copy = values.copy()
        check(not numpy.may_share_memory(copy, values), "copy() shares the block")
        # A copy is not in the block: a plain array, without addresses.
        check(type(copy) is numpy.ndarray, "copy() is a %s" % type(copy).__name__)


def test_uint16_3d():
    with cmamem.allocate((4, 30, 50), numpy.uint16, mode="wc") as frames:
        equal(frames.nbytes, 4 * 30 * 50 * 2, "nbytes")
        frames[:] = numpy.arange(6000, dtype=numpy.uint16).reshape(4, 30, 50)
        frames.flush()
        equal(int(frames[3, 29, 49]), 5999, "last element")
        # "wc" is an alias: the name is the kernel's and libcmamem's.
        equal(frames.mode, "writecombine", "mode")
        equal(frames.info().mode, "writecombine", "BLOCK_INFO mode")


def test_modes():
    with cmamem.Pool() as pool:
        cached_allowed = pool.info().cached_allowed
    equal(sorted(uapi.MODE_NAMES.values()), ["cached", "coherent", "writecombine"],
          "mode names")
    for mode in uapi.MODE_NAMES.values():
        if mode == "cached" and not cached_allowed:
            continue
        with cmamem.allocate(3 * PAGE_SIZE, numpy.uint32, mode=mode) as buffer:
            equal(buffer.mode, mode, "mode")
            equal(buffer.info().mode, mode, "BLOCK_INFO mode")
            equal(buffer.cacheable, mode == "cached", "cacheable")
            equal(buffer.coherent, mode != "cached", "coherent")
            buffer[:] = 0xA5A5A5A5
            buffer.flush()
            buffer.invalidate()
            check(bool((buffer == 0xA5A5A5A5).all()), "%s: pattern not read back" % mode)
            buffer[PAGE_SIZE // 4:].flush()     # part of the block
            buffer.sync_to_device()
            buffer.sync_from_device()


def test_sync_validation():
    with cmamem.allocate(PAGE_SIZE) as buffer:
        pool, handle, length = buffer.pool, buffer.handle, buffer.block_length
        pool.sync(handle, uapi.CMAMEM_SYNC_FOR_DEVICE, 0, length)
        expect_error(OSError, errno.EINVAL, pool.sync, handle,
                     uapi.CMAMEM_SYNC_FOR_DEVICE, length, 1)
        expect_error(OSError, errno.EINVAL, pool.sync, handle,
                     uapi.CMAMEM_SYNC_FOR_DEVICE, 0, length + 1)
        expect_error(OSError, errno.EINVAL, pool.sync, handle,
                     uapi.CMAMEM_SYNC_FOR_DEVICE, 0, 0)
        expect_error(OSError, errno.EINVAL, pool.sync, handle,
                     uapi.CMAMEM_SYNC_FOR_DEVICE | uapi.CMAMEM_SYNC_FOR_CPU, 0, 1)
        expect_error(OSError, errno.EINVAL, pool.sync, handle, 0, 0, 1)
        expect_error(OSError, errno.ENOENT, pool.sync, handle + 1000,
                     uapi.CMAMEM_SYNC_FOR_CPU, 0, 1)


def test_addresses_and_info():
    with cmamem.allocate(2 * PAGE_SIZE, numpy.uint8, name="py-addresses") as buffer:
        check(not buffer.address_withheld, "root is refused addresses")
        physical, dma = buffer.physical_address, buffer.dma_address
        equal(buffer.virtual_address, buffer.ctypes.data, "virtual_address")
        equal(buffer[PAGE_SIZE:].virtual_address, buffer.ctypes.data + PAGE_SIZE,
              "virtual_address of the second page")
        check(isinstance(physical, int) and physical > 0, "physical address %r" % physical)
        check(dma > 0 and dma % PAGE_SIZE == 0, "DMA address 0x%x is not page aligned" % dma)
        equal(buffer.device_address, dma, "device_address")
        equal(buffer[PAGE_SIZE:].physical_address, physical + PAGE_SIZE,
              "physical address of the second page")
        info = buffer.info()
        equal((info.name, info.pool, info.length, info.mode),
              ("py-addresses", "default", 2 * PAGE_SIZE, "coherent"), "BLOCK_INFO")
        equal((info.handles, info.mappings), (1, 1), "handles and mappings")
        equal((info.dma_address, info.physical_address), (dma, physical),
              "BLOCK_INFO addresses")
        equal(info.owner_uid, 0, "owner")


def test_alignment():
    alignment = 1 << 20
    with cmamem.allocate(PAGE_SIZE, align=alignment) as buffer:
        equal(buffer.dma_address % alignment, 0, "DMA address modulo 1 MiB")
        equal(buffer.info().alignment, alignment, "BLOCK_INFO alignment")


def test_freebuffer():
    before = used_bytes()
    buffer = cmamem.allocate((64, 1024), numpy.uint8, name="py-freebuffer")
    view = buffer[1:]
    buffer[:] = 7
    check(used_bytes() >= before + 64 * 1024, "used_bytes did not grow")
    buffer.freebuffer()
    equal(used_bytes(), before, "used_bytes after freebuffer()")
    check(buffer.freed and view.freed, "freed is not set on the buffer and its view")
    # The views say so rather than show zeros or keep what is written.
    expect_error(OSError, errno.ENOENT, view.max)
    expect_error(OSError, errno.ENOENT, view.__setitem__, 0, 1)
    error = expect_error(OSError, errno.ENOENT, buffer.freebuffer)
    check("already freed" in str(error), "message of a second free: %s" % error)
    expect_error(OSError, errno.ENOENT, view.freebuffer)
    expect_error(OSError, errno.ENOENT, buffer.flush)
    expect_error(OSError, errno.ENOENT, buffer.invalidate)
    expect_error(OSError, errno.ENOENT, lambda: buffer.physical_address)
    # The name is free again.
    with cmamem.allocate(PAGE_SIZE, name="py-freebuffer"):
        pass


def test_copies_are_plain_arrays():
    # What lives in new memory is a plain ndarray: no block, no addresses,
    # nothing to free. Views of the block stay Buffers.
    with cmamem.allocate((8, 16), numpy.uint16, name="py-copies") as buffer:
        buffer[:] = numpy.arange(128, dtype=numpy.uint16).reshape(8, 16)
        new_memory = {
            "a.copy()": buffer.copy(),
            "numpy.zeros_like(a)": numpy.zeros_like(buffer),
            "numpy.empty_like(a)": numpy.empty_like(buffer),
            "numpy.full_like(a, 3)": numpy.full_like(buffer, 3),
            "a.astype(float)": buffer.astype(float),
            "a[[0, 2]]": buffer[[0, 2]],
            "a[a > 5]": buffer[buffer > 5],
            "a.T.flatten()": buffer.T.flatten(),
            "a * 2": buffer * 2,
            "numpy.concatenate": numpy.concatenate([buffer, buffer]),
            "copy.deepcopy(a)": copy.deepcopy(buffer),
        }
        for what, array in new_memory.items():
            check(type(array) is numpy.ndarray, "%s is a %s" % (what, type(array).__name__))
            check(not numpy.may_share_memory(array, buffer), "%s shares the block" % what)
        equal(int(new_memory["a.copy()"][7, 15]), 127, "last element of the copy")
        for what, view in {"a[1:]": buffer[1:], "a.T": buffer.T,
                           "a.reshape(16, 8)": buffer.reshape(16, 8),
                           "numpy.transpose(a)": numpy.transpose(buffer)}.items():
            check(type(view) is cmamem.Buffer, "%s is a %s" % (what, type(view).__name__))
            equal(view.name, "py-copies", "name of %s" % what)
        # Written in place: the out= array itself.
        check(numpy.add(buffer, 1, out=buffer) is buffer, "out= did not return the buffer")
        buffer += 1
        equal(int(buffer[0, 0]), 2, "after two in-place additions")


def test_freed_buffer_says_so():
    buffer = cmamem.allocate(64, numpy.uint32, name="py-freed")
    view = buffer[8:]
    buffer[:] = 5
    text = repr(view)
    check("freed" not in text and "5" in text, "repr of a live buffer: %s" % text)
    buffer.freebuffer()
    for array in (buffer, view):
        for text in (repr(array), str(array)):
            check("freed" in text and "py-freed" in text, "repr or str: %s" % text)
    # Reads and writes raise: written values would be lost, and read ones
    # are not the block's.
    for what, access in {"a[0]": lambda: buffer[0], "a[0] = 1": lambda: buffer.__setitem__(0, 1),
                         "view[:] = 2": lambda: view.__setitem__(slice(None), 2),
                         "a + 1": lambda: buffer + 1, "a += 1": lambda: view.__iadd__(1),
                         "a.sum()": buffer.sum, "numpy.mean(a)": lambda: numpy.mean(view),
                         "a.copy()": buffer.copy, "a.tolist()": buffer.tolist,
                         "a.fill(0)": lambda: buffer.fill(0), "list(a)": lambda: list(view),
                         "numpy.zeros_like(a)": lambda: numpy.zeros_like(buffer),
                         "a.virtual_address": lambda: buffer.virtual_address}.items():
        error = expect_error(OSError, errno.ENOENT, access)
        check("freed" in str(error), "%s: %s" % (what, error))


def test_context_manager():
    before = used_bytes()
    with cmamem.allocate(256 * 1024, numpy.uint8) as buffer:
        buffer[:] = 1
        check(used_bytes() >= before + 256 * 1024, "used_bytes did not grow")
    equal(used_bytes(), before, "used_bytes after the with block")
    check(buffer.freed, "the buffer is not marked freed")
    # Freeing inside the block is fine too.
    with cmamem.allocate(PAGE_SIZE) as buffer:
        buffer.freebuffer()
    equal(used_bytes(), before, "used_bytes after an explicit free in a with block")
    # An exception in the block still frees.
    try:
        with cmamem.allocate(PAGE_SIZE):
            raise RuntimeError("inside")
    except RuntimeError:
        pass
    equal(used_bytes(), before, "used_bytes after an exception in a with block")


def test_garbage_collected():
    before = used_bytes()
    buffer = cmamem.allocate(128 * 1024)
    view = buffer[100:]
    del buffer
    gc.collect()
    check(used_bytes() > before, "the block went while a view still used it")
    view[:] = 3
    del view
    gc.collect()
    equal(used_bytes(), before, "used_bytes once every array is gone")


def test_pools():
    pools = cmamem.pools()
    check(pools, "pools() found nothing")
    default = pools[0]
    equal(default.name, "default", "first pool")
    equal(default.device, "/dev/cmamem", "device of the default pool")
    equal(default.page_size, PAGE_SIZE, "page size")
    check(default.kind in ("default-cma", "default-buddy"), "kind %r" % default.kind)
    check(default.flags & uapi.CMAMEM_POOL_DEFAULT, "the default pool lacks POOL_DEFAULT")
    equal(default.total_bytes, None, "total_bytes of the default pool")
    equal(cmamem.pool_names()[0], "default", "pool_names()")


def test_bad_mode():
    expect_error(ValueError, None, cmamem.allocate, 10, mode="uncached")
    expect_error(ValueError, None, cmamem.allocate, 10, mode=None)


def test_huge_size():
    error = expect_error(OSError, {errno.EFBIG, errno.ENOMEM}, cmamem.allocate,
                         1 << 60, numpy.uint8)
    check("1152921504606846976 bytes" in str(error), "message lacks the size: %s" % error)
    expect_error(OSError, errno.EFBIG, cmamem.allocate, (1 << 40, 1 << 30), numpy.uint64)


def test_bad_names():
    # Refused before the ioctl, naming the argument (test_arguments.py
    # has the messages); the raw ioctl methods check the same way.
    expect_error(ValueError, None, cmamem.allocate, 10, name="bad name")
    expect_error(ValueError, None, cmamem.allocate, 10, name="x" * 32)
    expect_error(ValueError, None, cmamem.allocate, 10, name="")
    expect_error(ValueError, None, cmamem.allocate, 10, name="caf\u00e9")
    expect_error(ValueError, None, cmamem.allocate, 10, name="tab\there")
    expect_error(ValueError, None, cmamem.attach, "bad name")
    with cmamem.Pool() as pool:
        before = pool.info().allocations
        expect_error(ValueError, None, pool.alloc, "bad name", PAGE_SIZE)
        expect_error(ValueError, None, pool.alloc, "py-raw", 0)
        expect_error(ValueError, None, pool.alloc, "py-raw", PAGE_SIZE, alignment=1024)
        expect_error(ValueError, None, pool.attach_handle, "bad name")
        equal(pool.info().allocations, before, "allocations after refused requests")
    with cmamem.allocate(10, name="x" * 31):
        pass


def test_duplicate_name_and_missing_block():
    with cmamem.allocate(10, name="py-twice"):
        expect_error(FileExistsError, errno.EEXIST, cmamem.allocate, 10, name="py-twice")
    expect_error(FileNotFoundError, errno.ENOENT, cmamem.attach, "py-twice")


def test_other_bad_arguments():
    expect_error(ValueError, None, cmamem.allocate, 10, align=3000)
    expect_error(ValueError, None, cmamem.allocate, 0)
    expect_error(ValueError, None, cmamem.allocate, (-1, 4))
    expect_error(TypeError, None, cmamem.allocate, 10.5)
    with cmamem.allocate(PAGE_SIZE, name="py-small") as buffer:
        expect_error(ValueError, None, cmamem.attach, "py-small", PAGE_SIZE + 1)
        equal(buffer.info().handles, 1, "handles after a refused attach")


def test_object_dtype_refused():
    # An object array stores this process's pointers in shared memory: a
    # second process attaching the block as dtype=object crashed reading
    # them. Neither allocate() nor attach() gives one.
    before = used_bytes()
    expect_error(TypeError, None, cmamem.allocate, 4, dtype=object)
    expect_error(TypeError, None, cmamem.allocate, 4, [("n", "i4"), ("o", "O")])
    equal(used_bytes(), before, "used_bytes after a refused object dtype")
    with cmamem.allocate(8, numpy.uint64, name="py-objects") as buffer:
        buffer[:] = 0xDEADBEEF
        expect_error(TypeError, None, cmamem.attach, "py-objects", 4, object)
        with cmamem.Pool() as pool:
            expect_error(TypeError, None, pool.attach, "py-objects", dtype=object)
            expect_error(TypeError, None, pool.allocate, 4, object)
        equal(buffer.info().handles, 1, "handles after refused attaches")
        # numpy itself refuses object views of the block.
        expect_error(TypeError, None, buffer.view, object)


def test_max_address():
    # Every block ends at or below the highest 64-bit address.
    with cmamem.allocate(3 * PAGE_SIZE, max_address=(1 << 64) - 1) as buffer:
        check(buffer.dma_address + buffer.block_length - 1 < 1 << 64,
              "the block ends past 2**64 - 1")
    with cmamem.Pool() as pool:
        reply = pool.alloc("py-limit-raw", PAGE_SIZE, max_address=(1 << 64) - 1)
        equal(reply.max_dma_address, (1 << 64) - 1, "max_dma_address of the raw reply")
        pool.free(reply.handle)
        # No pool holds a block below a limit smaller than the block.
        error = expect_error(OSError, errno.ERANGE, pool.alloc, "py-limit-small",
                             4 * PAGE_SIZE, max_address=PAGE_SIZE - 1)
        check("py-limit-small" in str(error) and "%#x" % (PAGE_SIZE - 1) in str(error)
              and "use a pool in low memory" in str(error),
              "the message does not say what happened and what to do: %s" % error)
    error = expect_error(OSError, errno.ERANGE, cmamem.allocate, (4, PAGE_SIZE),
                         max_address=2 * PAGE_SIZE - 1)
    check("use a pool in low memory" in str(error),
          "allocate() does not say what to do: %s" % error)
    expect_error(FileNotFoundError, errno.ENOENT, cmamem.attach, "py-limit-small")


def test_missing_pool():
    error = expect_error(FileNotFoundError, errno.ENOENT, cmamem.allocate, 10,
                         pool="no-such-pool")
    check("/dev/cmamem-no-such-pool" in str(error), "message: %s" % error)
    expect_error(ValueError, None, cmamem.allocate, 10, pool="a/b")


if __name__ == "__main__":
    run([test_write_read_uint8, test_image_uint8_2d, test_float32_arithmetic_and_views,
         test_uint16_3d, test_modes, test_sync_validation, test_addresses_and_info,
         test_alignment, test_freebuffer, test_copies_are_plain_arrays,
         test_freed_buffer_says_so, test_context_manager, test_garbage_collected,
         test_pools, test_bad_mode, test_huge_size, test_bad_names,
         test_duplicate_name_and_missing_block, test_other_bad_arguments,
         test_object_dtype_refused, test_max_address, test_missing_pool],
        skip_all=device_missing())
