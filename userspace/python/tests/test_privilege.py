#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""An unprivileged process and the binding: a child of a root parent drops
to nobody (uid and gid 65534, no groups), keeps the pool file it inherited,
and uses it through cmamem.Pool(fd=...). The kernel withholds addresses
from it (of its blocks and of its imports), refuses it root's blocks, and
refuses it a DMA address limit on its allocations.
Runs as root with the module loaded (TAP output; see tap.py): each check
of the child is one test."""

import errno
import json
import os
import sys

import numpy

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import cmamem  # noqa: E402
from tap import Skip, check, equal, expect_error, run, device_missing  # noqa: E402

NOBODY = 65534
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
ROOT_BLOCK = "py-root-block"


def child_checks(fd):
    """What the unprivileged child checks, in order: (name, function).

    Each function returns None (pass), a string starting with "SKIP " (skip
    with the reason), or raises (fail). State passes between them in
    @state.
    """
    state = {}

    def cannot_open_device():
        mode = os.stat("/dev/cmamem").st_mode & 0o777
        if mode & 0o006:
            return "SKIP /dev/cmamem is mode %o: anyone may open it" % mode
        error = expect_error(PermissionError, errno.EACCES, cmamem.Pool)
        check("/dev/cmamem" in str(error) and "group" in str(error),
              "the message does not explain the refusal: %s" % error)

    def adopt_inherited_fd():
        pool = cmamem.Pool(fd=fd)
        equal(pool.name, "default", "name of the adopted pool")
        state["pool"] = pool
        state["used_before"] = pool.info().used_bytes

    def allocate_and_use():
        buffer = state["pool"].allocate((16, 256), numpy.uint16, name="py-nobody")
        buffer[:] = numpy.arange(4096, dtype=numpy.uint16).reshape(16, 256)
        equal(int(buffer[15, 255]), 4095, "last element")
        equal(buffer.info().owner_uid, NOBODY, "owner of the child's block")
        state["buffer"] = buffer

    def addresses_withheld():
        buffer = state["buffer"]
        check(buffer.address_withheld, "address_withheld is False for nobody")
        error = expect_error(PermissionError, errno.EPERM, lambda: buffer.physical_address)
        check("CAP_SYS_RAWIO" in str(error), "the message does not say why: %s" % error)
        expect_error(PermissionError, errno.EPERM, lambda: buffer.dma_address)
        info = buffer.info()
        check(info.address_withheld, "BLOCK_INFO does not report the withheld address")
        equal((info.dma_address, info.physical_address), (None, None),
              "addresses in BLOCK_INFO")

    def flush_and_invalidate():
        state["buffer"].flush()
        state["buffer"].invalidate()

    def export_own_block():
        dmabuf = state["buffer"].export()
        equal(dmabuf.size, state["buffer"].block_length, "size of the child's dma-buf")
        equal(state["buffer"].info().dma_bufs, 1, "dma_bufs of the child's block")
        state["dmabuf"] = dmabuf

    def import_address_withheld():
        with state["pool"].import_dmabuf(state["dmabuf"]) as imported:
            check(imported.address_withheld, "address_withheld is False for nobody's import")
            equal(imported.length, state["buffer"].block_length, "length of the import")
            error = expect_error(PermissionError, errno.EPERM, lambda: imported.dma_address)
            check("CAP_SYS_RAWIO" in str(error), "the message does not say why: %s" % error)
        state["dmabuf"].close()

    def root_block_refused():
        # Names are per user: nobody has no block of root's name, and
        # naming root as the owner needs CAP_SYS_ADMIN.
        expect_error(FileNotFoundError, errno.ENOENT, state["pool"].attach, ROOT_BLOCK)
        expect_error(PermissionError, errno.EPERM, state["pool"].attach, ROOT_BLOCK,
                     owner=0)

    def address_limit_refused():
        # Where a block may lie would tell where the pool lies.
        used = state["pool"].info().used_bytes
        error = expect_error(PermissionError, errno.EPERM, state["pool"].allocate,
                             PAGE_SIZE, max_address=(1 << 64) - 1)
        check("max_address" in str(error) and "CAP_SYS_RAWIO" in str(error),
              "the message does not say why: %s" % error)
        equal(state["pool"].info().used_bytes, used, "used_bytes after the refusal")

    def free_own_block():
        state["buffer"].freebuffer()
        equal(state["pool"].info().used_bytes, state["used_before"],
              "used_bytes after the child freed its block")
        state["pool"].close()

    return [cannot_open_device, adopt_inherited_fd, allocate_and_use,
            addresses_withheld, flush_and_invalidate, export_own_block,
            import_address_withheld, root_block_refused, address_limit_refused,
            free_own_block]


CHECK_NAMES = [function.__name__ for function in child_checks(-1)]
_results = None


def unprivileged_results():
    """Run the child once; {check name: (status, message)}."""
    global _results
    if _results is not None:
        return _results
    pool = cmamem.Pool()
    used_before = pool.info().used_bytes
    root_block = pool.allocate(PAGE_SIZE, name=ROOT_BLOCK)
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(reader)
        results = {}
        try:
            os.setgroups([])
            os.setresgid(NOBODY, NOBODY, NOBODY)
            os.setresuid(NOBODY, NOBODY, NOBODY)
            for function in child_checks(pool.fileno()):
                try:
                    outcome = function()
                    if isinstance(outcome, str) and outcome.startswith("SKIP "):
                        results[function.__name__] = ("skip", outcome[5:])
                    else:
                        results[function.__name__] = ("ok", "")
                except BaseException as exception:
                    results[function.__name__] = ("fail", "%s: %s" % (
                        type(exception).__name__, exception))
        finally:
            with os.fdopen(writer, "w") as stream:
                json.dump(results, stream)
            os._exit(0)
    os.close(writer)
    with os.fdopen(reader) as stream:
        text = stream.read()
    _, status = os.waitpid(pid, 0)
    root_block.freebuffer()
    pool.close()
    try:
        _results = {name: tuple(value) for name, value in json.loads(text).items()}
    except ValueError:
        _results = {}
    _results["exit status"] = os.waitstatus_to_exitcode(status)
    _results["used before"] = used_before
    return _results


def make_test(name):
    def test():
        results = unprivileged_results()
        equal(results["exit status"], 0, "the child's exit status")
        check(name in results, "the child did not get as far as %s" % name)
        status, message = results[name]
        if status == "skip":
            raise Skip(message)
        check(status == "ok", message)
    test.__name__ = "nobody_" + name
    return test


def test_names_are_per_user():
    """Root's block is found under its owner, not under another user."""
    with cmamem.Pool() as pool:
        with pool.allocate(PAGE_SIZE, name="py-owned") as buffer:
            with pool.attach("py-owned", owner=0) as again:
                equal(again.dma_address, buffer.dma_address, "the attached block's address")
            try:
                pool.attach("py-owned", owner=65534)
            except FileNotFoundError:
                pass
            else:
                check(False, "attach with owner=65534 found root's block")


def test_root_sees_addresses():
    with cmamem.Pool() as pool:
        with pool.allocate(PAGE_SIZE) as buffer:
            check(not buffer.address_withheld, "root is refused addresses")
            check(buffer.dma_address > 0, "root's DMA address is 0")


def test_nothing_left():
    used_before = unprivileged_results()["used before"]
    with cmamem.Pool(writable=False) as pool:
        equal(pool.info().used_bytes, used_before, "used_bytes after the test")


if __name__ == "__main__":
    run([test_root_sees_addresses] + [make_test(name) for name in CHECK_NAMES]
        + [test_nothing_left], skip_all=device_missing())
