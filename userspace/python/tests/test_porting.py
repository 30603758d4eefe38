#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Porting from PYNQ and u-dma-buf: allocate()'s cacheable= and target=,
the attributes and methods PYNQ code uses, and the cmamem examples of
docs/userspace.md's porting section, run as they are printed there. Runs
as root with the module loaded (TAP output; see tap.py)."""

import os
import re
import sys

import numpy

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import cmamem  # noqa: E402
from tap import Skip, check, equal, expect_error, run, device_missing  # noqa: E402

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
DOCUMENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                        "docs", "userspace.md")
MARKER = "<!-- userspace/python/tests/test_porting.py runs the code block below. -->"


def used_bytes():
    with cmamem.Pool(writable=False) as pool:
        return pool.info().used_bytes


def cached_allowed():
    with cmamem.Pool(writable=False) as pool:
        return pool.info().cached_allowed


def test_cacheable_chooses_the_mode():
    if not cached_allowed():
        raise Skip("the default pool has no cached blocks")
    for cacheable, mode in ((True, "cached"), (1, "cached"), (False, "writecombine"),
                            (0, "writecombine")):
        with cmamem.allocate((4, 256), "u4", cacheable=cacheable) as buffer:
            equal(buffer.mode, mode, "mode of cacheable=%r" % cacheable)
            equal(buffer.cacheable, mode == "cached", "cacheable of cacheable=%r" % cacheable)
            equal(buffer.coherent, mode != "cached", "coherent of cacheable=%r" % cacheable)
    with cmamem.allocate(16, "u4") as buffer:
        equal((buffer.mode, buffer.coherent), ("coherent", True), "without cacheable")


def test_target_is_the_pool():
    with cmamem.allocate(16, "u4", target="default") as buffer:
        equal(buffer.pool.name, "default", "pool of target='default'")
    with cmamem.Pool() as pool:
        with cmamem.allocate(16, "u4", target=pool) as buffer:
            check(buffer.pool is pool, "target=Pool did not allocate through that Pool")
        # PYNQ code calls target.allocate(shape, dtype, cacheable=...).
        with pool.allocate((2, 8), "u4", cacheable=False) as buffer:
            equal(buffer.mode, "writecombine", "mode of Pool.allocate(cacheable=False)")
            equal(buffer.shape, (2, 8), "shape")


def test_pynq_argument_errors():
    expect_error(TypeError, None, cmamem.allocate, 16, "u4", mode="cached", cacheable=True)
    expect_error(TypeError, None, cmamem.allocate, 16, "u4", cacheable=2)
    expect_error(TypeError, None, cmamem.allocate, 16, "u4", cacheable="yes")
    # (pool="default" is the default itself, so it cannot clash.)
    expect_error(TypeError, None, cmamem.allocate, 16, "u4", pool="fpga", target="default")
    error = expect_error(TypeError, None, cmamem.allocate, 16, "u4", target=object())
    check("target" in str(error), "the message does not name target: %s" % error)


def test_pynq_buffer_interface():
    before = used_bytes()
    buffer = cmamem.allocate((64, 64), numpy.uint32, cacheable=False)
    view = buffer[32:]
    equal(buffer.device_address, buffer.dma_address, "device_address")
    check(buffer.physical_address > 0, "physical_address %r" % buffer.physical_address)
    equal(buffer.virtual_address, buffer.__array_interface__["data"][0], "virtual_address")
    equal(view.virtual_address - buffer.virtual_address, 32 * 64 * 4,
          "virtual_address of a view")
    equal(view.device_address - buffer.device_address, 32 * 64 * 4,
          "device_address of a view")
    check(buffer.coherent and not buffer.cacheable, "a writecombine buffer is not coherent")
    buffer[:] = 7
    for method in (buffer.flush, buffer.invalidate, buffer.sync_to_device,
                   buffer.sync_from_device, view.flush):
        method()
    buffer.close()                      # frees, as freebuffer() does
    check(buffer.freed and view.freed, "close() did not free")
    equal(used_bytes(), before, "used_bytes after close()")
    with cmamem.allocate(PAGE_SIZE, "u1", cacheable=False) as buffer:
        buffer.freebuffer()
    equal(used_bytes(), before, "used_bytes after freebuffer() in a with block")


def examples():
    """The code blocks docs/userspace.md marks as run by this test."""
    with open(DOCUMENT) as stream:
        text = stream.read()
    return re.findall(re.escape(MARKER) + r"\n```python\n(.*?)```", text, flags=re.S)


def test_documented_examples():
    found = examples()
    equal(len(found), 2, "marked examples in %s" % DOCUMENT)
    if not cached_allowed():
        raise Skip("the default pool has no cached blocks")
    before = used_bytes()
    for number, code in enumerate(found, 1):
        transfers = []

        def dma_transfer(address, length):
            # The engine's driver: given a device address and a length.
            transfers.append((address, length))

        namespace = {"__name__": "porting_example_%d" % number, "dma_transfer": dma_transfer}
        exec(compile(code, "%s, example %d" % (DOCUMENT, number), "exec"), namespace)
        equal(len(transfers), 1, "example %d: transfers" % number)
        address, length = transfers[0]
        check(address > 0 and address % PAGE_SIZE == 0,
              "example %d: device address 0x%x" % (number, address))
        equal(length, 480 * 640 * 2, "example %d: length" % number)
        equal(namespace["checksum"], 0x1234 * 480 * 640, "example %d: checksum" % number)
        del namespace
        equal(used_bytes(), before, "example %d: used_bytes afterwards" % number)


if __name__ == "__main__":
    run([test_cacheable_chooses_the_mode, test_target_is_the_pool, test_pynq_argument_errors,
         test_pynq_buffer_interface, test_documented_examples],
        skip_all=device_missing())
