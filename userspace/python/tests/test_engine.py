#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The DMA-engine example (userspace/python/examples/edu_engine.py): run as
a program, as its users run it, and its EduEngine given the addresses of
buffers and of views into them, with poison around every transfer. Runs
as root with the module loaded, in the guest with QEMU's edu engine; skips
without one (TAP output; see tap.py)."""

import os
import subprocess
import sys

import numpy

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.join(HERE, "..", "examples")
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, EXAMPLES)
import cmamem  # noqa: E402
import edu_engine  # noqa: E402
from tap import Skip, check, equal, expect_error, run, device_missing  # noqa: E402

POISON = 0xA5


def open_engine():
    try:
        return edu_engine.EduEngine()
    except edu_engine.NoEngine as reason:
        raise Skip(str(reason)) from None


def used_bytes():
    with cmamem.Pool(writable=False) as pool:
        return pool.info().used_bytes


def test_example_runs_as_a_program():
    open_engine().close()
    before = used_bytes()
    done = subprocess.run([sys.executable, os.path.join(EXAMPLES, "edu_engine.py")],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)
    equal(done.returncode, 0, "exit status of the example (output: %r)" % done.stdout)
    check("the buffers agree" in done.stdout, "the example said: %r" % done.stdout)
    equal(used_bytes(), before, "used_bytes after the example")


def test_views_carry_their_own_addresses():
    """The engine reads a slice of one buffer and writes into a slice of
    another, each by the view's own physical_address: the bytes land
    exactly there, and nothing around them changes."""
    with open_engine() as engine:
        for mode in ("coherent", "writecombine", "cached"):
            with cmamem.allocate(3 * 4096, numpy.uint8, mode=mode) as source, \
                    cmamem.allocate(3 * 4096, numpy.uint8, mode=mode) as destination:
                source[:] = POISON
                destination[:] = POISON
                source[4000:5001] = numpy.arange(1001) % 127 + 1
                source.flush()
                destination.flush()
                engine.to_engine(source[4000:].physical_address, 7, 1001)
                engine.to_ram(7, destination[8191:].physical_address, 1001)
                destination.invalidate()
                expected = numpy.full(destination.shape, POISON, numpy.uint8)
                expected[8191:9192] = source[4000:5001]
                mismatch = numpy.flatnonzero(destination != expected)
                check(mismatch.size == 0, "%s: byte %s of the destination is %#x, expected %#x"
                      % (mode, mismatch[:1], destination[mismatch[:1]].sum(),
                         expected[mismatch[:1]].sum()))
                check(bool((source[:4000] == POISON).all() and (source[5001:] == POISON).all()),
                      "%s: the engine changed the source" % mode)


def test_refuses_what_would_abort_qemu():
    with open_engine() as engine, cmamem.allocate(4096, numpy.uint8) as buffer:
        address = buffer.physical_address
        expect_error(ValueError, None, engine.to_engine, address, 0, 0)
        expect_error(ValueError, None, engine.to_engine, address, 0, 4096)
        expect_error(ValueError, None, engine.to_ram, 1, address, 4095)
        limited = edu_engine.EduEngine(engine.slot, dma_limit=address)
        try:
            expect_error(ValueError, None, limited.to_ram, 0, address, 2)
        finally:
            limited.close()


missing = device_missing()
run([test_example_runs_as_a_program, test_views_carry_their_own_addresses,
     test_refuses_what_would_abort_qemu], skip_all=missing)
