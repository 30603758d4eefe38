#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The arguments allocate() and attach() refuse before any system call,
with a ValueError or TypeError that names the argument and says why: the
kernel would answer a bare EINVAL, or accept what must not be (a dtype of
Python objects). Every call names a pool that does not exist, so a check
made after opening it would raise FileNotFoundError instead. Needs no
driver: runs on the host (scripts/check-userspace.sh python) and in the
guest (TAP output; see tap.py)."""

import os
import sys

import numpy

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import cmamem  # noqa: E402
from tap import check, expect_error, run  # noqa: E402

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
NO_POOL = "no-such-pool-for-arguments"


def refused(exception_type, words, function, *arguments, **keywords):
    """@function raises @exception_type whose message holds each of @words."""
    error = expect_error(exception_type, None, function, *arguments, pool=NO_POOL, **keywords)
    for word in words:
        check(word in str(error), "%s: the message lacks %r" % (error, word))


def test_dtypes_holding_objects():
    # Object arrays keep pointers into the allocating process's heap; a
    # second process attaching the block with dtype=object crashed on them.
    why = ["Python objects", "other processes"]
    refused(TypeError, why, cmamem.allocate, 4, dtype=object)
    refused(TypeError, why, cmamem.allocate, 4, numpy.dtype([("x", "i4"), ("o", "O")]))
    refused(TypeError, why, cmamem.allocate, (2, 2), dtype=numpy.dtype(("O", (3,))))
    refused(TypeError, why, cmamem.attach, "py-objects", dtype=object)
    refused(TypeError, why, cmamem.attach, "py-objects", 4, [("o", "O")])


def test_dtypes_without_a_size():
    refused(TypeError, ["no size"], cmamem.allocate, 4, dtype=str)
    refused(TypeError, ["no size"], cmamem.allocate, 4, dtype="V")
    refused(TypeError, ["no size"], cmamem.attach, "py-unsized", dtype=bytes)


def test_shape_not_ints():
    int_or_tuple = ["shape must be an int or a tuple of ints"]
    refused(TypeError, int_or_tuple + ["float"], cmamem.allocate, 1.5)
    refused(TypeError, int_or_tuple + ["1.5"], cmamem.allocate, (2, 1.5))
    refused(TypeError, int_or_tuple + ["NoneType"], cmamem.allocate, None)
    refused(TypeError, int_or_tuple, cmamem.attach, "py-shape", 2.0)
    refused(ValueError, ["negative"], cmamem.allocate, (-1, 4))


def test_empty_shape():
    refused(ValueError, ["shape (0,)", "at least one byte"], cmamem.allocate, 0)
    refused(ValueError, ["shape (3, 0)", "at least one byte"], cmamem.allocate, (3, 0))


def test_alignment():
    why = ["align=", "power of two", "page size (%d bytes)" % PAGE_SIZE]
    refused(ValueError, why, cmamem.allocate, 10, align=1024)
    refused(ValueError, why, cmamem.allocate, 10, align=3 * PAGE_SIZE)
    refused(ValueError, why, cmamem.allocate, 10, align=-PAGE_SIZE)
    refused(TypeError, ["align must be an int"], cmamem.allocate, 10, align=4096.0)


def test_max_address():
    why = ["max_address=", "1 to 2**64 - 1", "None for no limit"]
    refused(ValueError, why + ["max_address=0"], cmamem.allocate, 10, max_address=0)
    refused(ValueError, why, cmamem.allocate, 10, max_address=-1)
    refused(ValueError, why, cmamem.allocate, 10, max_address=1 << 64)
    refused(TypeError, ["max_address must be an int", "float"], cmamem.allocate, 10,
            max_address=4e9)
    refused(TypeError, ["max_address must be an int", "bool"], cmamem.allocate, 10,
            max_address=True)


def test_owner():
    why = ["owner=", "a uid is 0 to 2**32 - 2"]
    refused(ValueError, why, cmamem.attach, "frame0", owner=-1)
    refused(ValueError, why, cmamem.attach, "frame0", owner=(1 << 32) - 1)
    refused(TypeError, ["owner must be an int", "str"], cmamem.attach, "frame0",
            owner="root")


def test_names():
    rule = "1 to 31 printable ASCII characters, no spaces"
    refused(ValueError, ["'two words'", "a space", rule], cmamem.allocate, 10, name="two words")
    refused(ValueError, ["'tab\\there'", rule], cmamem.allocate, 10, name="tab\there")
    refused(ValueError, ["32 characters", rule], cmamem.allocate, 10, name="x" * 32)
    refused(ValueError, ["empty", rule], cmamem.allocate, 10, name="")
    refused(ValueError, ["not ASCII", rule], cmamem.allocate, 10, name="caf\u00e9")
    refused(ValueError, ["\\x7f", rule], cmamem.allocate, 10, name=b"del\x7f")
    refused(TypeError, ["name must be a str"], cmamem.allocate, 10, name=7)
    refused(ValueError, ["a space", rule], cmamem.attach, "two words")


def test_modes():
    refused(ValueError, ["mode 'uncached'", "'writecombine'"], cmamem.allocate, 10,
            mode="uncached")
    refused(ValueError, ["mode None"], cmamem.allocate, 10, mode=None)


def test_good_arguments_reach_the_pool():
    # The checks above are no blanket refusal: these get as far as open().
    for keywords in ({}, {"mode": "wc"}, {"mode": "writecombine", "align": 2 * PAGE_SIZE},
                     {"name": "x" * 31, "align": 0}, {"dtype": "S16"},
                     {"max_address": (1 << 64) - 1}, {"max_address": 0xffffffff},
                     {"max_address": None}):
        error = expect_error(FileNotFoundError, None, cmamem.allocate, (2, 3),
                             pool=NO_POOL, **keywords)
        check(NO_POOL in str(error), "%s: %s" % (keywords, error))
    expect_error(FileNotFoundError, None, cmamem.attach, "~!x", (2, 3), "<u4", pool=NO_POOL)


if __name__ == "__main__":
    run([test_dtypes_holding_objects, test_dtypes_without_a_size, test_shape_not_ints,
         test_empty_shape, test_alignment, test_max_address, test_names, test_modes,
         test_good_arguments_reach_the_pool])
