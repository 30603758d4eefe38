#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Sharing blocks: attach() by name from a second open file and from
another process, Pool objects (adopting an fd, closing), and threads.
Runs as root with the module loaded (TAP output; see tap.py)."""

import errno
import os
import sys
import threading

import numpy

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import cmamem  # noqa: E402
from tap import check, equal, expect_error, run, device_missing  # noqa: E402

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def used_bytes():
    with cmamem.Pool(writable=False) as pool:
        return pool.info().used_bytes


def test_attach_second_open_file():
    with cmamem.allocate((100, 100), numpy.uint16, name="py-share") as first:
        first[:] = numpy.arange(10000, dtype=numpy.uint16).reshape(100, 100)
        first.flush()
        second_pool = cmamem.Pool()
        with cmamem.attach("py-share", (100, 100), numpy.uint16, pool=second_pool) as second:
            check(second.pool is not first.pool, "attach used the allocator's open file")
            check(not numpy.may_share_memory(first, second), "the same mapping, not a second one")
            check(numpy.array_equal(first, second), "the attached array shows other values")
            second[50, 50] = 4242
            equal(int(first[50, 50]), 4242, "a write through the attached array")
            equal(second.dma_address, first.dma_address, "DMA address")
            info = first.info()
            equal((info.handles, info.mappings), (2, 2), "handles and mappings")
        equal(first.info().handles, 1, "handles after the attacher freed")
        second_pool.close()


def test_attach_other_dtype():
    with cmamem.allocate(4, numpy.uint32, name="py-reinterpret") as words:
        words[:] = [0x04030201, 0x08070605, 0, 0xFFFFFFFF]
        with cmamem.attach("py-reinterpret", pool=cmamem.Pool()) as raw:
            equal(raw.dtype, numpy.dtype(numpy.uint8), "default dtype")
            equal(raw.shape, (words.block_length,), "default shape (the whole block)")
            equal(list(raw[:8]), [1, 2, 3, 4, 5, 6, 7, 8], "bytes of the words")


def test_block_outlives_its_allocator():
    before = used_bytes()
    first = cmamem.allocate(PAGE_SIZE, name="py-outlive")
    first[:] = 99
    second = cmamem.attach("py-outlive", pool=cmamem.Pool())
    first.freebuffer()
    check(used_bytes() > before, "the block went while another handle held it")
    equal(int(second[PAGE_SIZE - 1]), 99, "data after the allocator freed")
    third = cmamem.attach("py-outlive")     # the name lives while a handle does
    third.freebuffer()
    second.freebuffer()
    equal(used_bytes(), before, "used_bytes after the last handle went")
    expect_error(FileNotFoundError, errno.ENOENT, cmamem.attach, "py-outlive")


def test_attach_from_another_process():
    with cmamem.allocate(PAGE_SIZE, numpy.uint8, name="py-child") as buffer:
        buffer[:] = 0
        pid = os.fork()
        if pid == 0:
            status = 1
            try:
                # The child's own open file (the shared pools were reset).
                with cmamem.attach("py-child") as mine:
                    if mine.pool is not buffer.pool:
                        mine[:] = numpy.arange(PAGE_SIZE) % 256
                        mine.flush()
                        status = 0
            finally:
                os._exit(status)
        _, status = os.waitpid(pid, 0)
        equal(os.waitstatus_to_exitcode(status), 0, "child's exit status")
        buffer.invalidate()
        check(numpy.array_equal(buffer, numpy.arange(PAGE_SIZE) % 256),
              "the child's writes are not in the block")
        equal(buffer.info().handles, 1, "handles after the child exited")


def test_pool_from_fd():
    with cmamem.Pool() as pool:
        adopted = cmamem.Pool.from_fd(pool.fileno())
        check(adopted.fileno() != pool.fileno(), "from_fd() did not duplicate the fd")
        equal(adopted.name, "default", "name of the adopted pool")
        with pool.allocate(PAGE_SIZE, name="py-adopted") as buffer:
            # The same open file: the handle is valid on both.
            equal(adopted.block_info(buffer.handle).name, "py-adopted", "BLOCK_INFO")
        adopted.close()
        check(adopted.closed and not pool.closed, "closing the copy closed the original")
        expect_error(OSError, errno.EBADF, adopted.info)


def test_pool_close_drops_handles():
    before = used_bytes()
    pool = cmamem.Pool()
    buffer = pool.allocate((8, PAGE_SIZE), numpy.uint8, name="py-closed-pool")
    buffer[:] = 5
    pool.close()
    # The mapping keeps the block; the handle is gone with the file.
    equal(int(buffer[7, PAGE_SIZE - 1]), 5, "data after the pool was closed")
    expect_error(OSError, errno.EBADF, buffer.flush)
    expect_error(FileNotFoundError, errno.ENOENT, cmamem.attach, "py-closed-pool")
    buffer.freebuffer()
    equal(used_bytes(), before, "used_bytes after the unmap")


def test_read_only_pool():
    with cmamem.allocate(PAGE_SIZE, name="py-read-only") as buffer:
        buffer[:] = 17
        with cmamem.Pool(writable=False) as pool:
            with pool.attach("py-read-only") as reader:
                check(not reader.flags.writeable, "an array of a read-only pool is writable")
                equal(int(reader[0]), 17, "read through a read-only pool")
                expect_error(ValueError, None, reader.__setitem__, 0, 1)


def test_threads():
    before = used_bytes()
    errors = []

    def worker(number):
        try:
            for round_number in range(20):
                name = "py-thread-%d-%d" % (number, round_number)
                with cmamem.allocate(PAGE_SIZE * (1 + number % 3), name=name) as buffer:
                    buffer[:] = number
                    buffer.flush()
                    if int(buffer.sum()) != number * buffer.size:
                        errors.append("%s holds other bytes" % name)
        except Exception as exception:  # reported by the main thread
            errors.append("thread %d: %s" % (number, exception))

    threads = [threading.Thread(target=worker, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    check(not errors, "; ".join(errors[:5]))
    equal(used_bytes(), before, "used_bytes after the threads")


if __name__ == "__main__":
    run([test_attach_second_open_file, test_attach_other_dtype,
         test_block_outlives_its_allocator, test_attach_from_another_process,
         test_pool_from_fd, test_pool_close_drops_handles, test_read_only_pool,
         test_threads],
        skip_all=device_missing())
