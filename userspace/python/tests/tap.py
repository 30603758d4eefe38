# SPDX-License-Identifier: GPL-2.0
"""A small TAP producer for the binding's tests (no pytest in the guest).

Each test file lists its test functions and calls run(tests): the plan
line first, then "ok N name", "not ok N name" (with the failure as "#"
lines) or "ok N name # SKIP reason" per test. The exit status is 1 when a
test failed, else 0.

A test passes by returning, fails by raising (check() and
expect_error() raise AssertionError with what was wrong), and skips by
raising Skip(reason).
"""

import errno
import os
import sys
import traceback


class Skip(Exception):
    """Raised by a test that cannot run here; the message says why."""


def check(condition, message):
    """Fail the test with @message unless @condition holds."""
    if not condition:
        raise AssertionError(message)


def equal(actual, expected, what):
    """Fail unless @actual == @expected."""
    if actual != expected:
        raise AssertionError("%s: expected %r, got %r" % (what, expected, actual))


def expect_error(exception_type, error_number, function, *arguments, **keywords):
    """Call @function and fail unless it raises @exception_type (an
    OSError subclass with errno @error_number when that is not None, or a
    member of it when it is a set). Returns the exception."""
    try:
        function(*arguments, **keywords)
    except exception_type as exception:
        if error_number is None:
            return exception
        wanted = error_number if isinstance(error_number, (set, frozenset)) else {error_number}
        check(getattr(exception, "errno", None) in wanted,
              "%s raised errno %s (%s), expected %s" % (
                  getattr(function, "__name__", function),
                  errno.errorcode.get(getattr(exception, "errno", None), None),
                  exception, " or ".join(errno.errorcode[n] for n in sorted(wanted))))
        check(str(exception), "the exception has no message")
        return exception
    except Exception as exception:
        raise AssertionError("%s raised %s: %s, expected %s" % (
            getattr(function, "__name__", function), type(exception).__name__,
            exception, exception_type.__name__)) from None
    raise AssertionError("%s did not raise %s" % (
        getattr(function, "__name__", function), exception_type.__name__))


def run(tests, skip_all=None):
    """Run @tests, a list of functions, as one TAP stream and exit.

    @skip_all: a reason to skip every test (the plan is still printed, so
    the counts show what was not run).
    """
    print("1..%d" % len(tests), flush=True)
    failed = 0
    for number, test in enumerate(tests, 1):
        name = test.__name__
        if name.startswith("test_"):
            name = name[len("test_"):]
        if skip_all:
            print("ok %d %s # SKIP %s" % (number, name, skip_all), flush=True)
            continue
        try:
            test()
        except Skip as reason:
            print("ok %d %s # SKIP %s" % (number, name, reason), flush=True)
        except BaseException as exception:  # a test must not end the run
            if isinstance(exception, KeyboardInterrupt):
                raise
            failed += 1
            print("not ok %d %s" % (number, name))
            if isinstance(exception, AssertionError):
                lines = str(exception).splitlines() or ["assertion failed"]
            else:
                lines = traceback.format_exc().splitlines()
            for line in lines:
                print("#  " + line)
            sys.stdout.flush()
        else:
            print("ok %d %s" % (number, name), flush=True)
    sys.exit(1 if failed else 0)


def device_missing():
    """Why the driver cannot be tested here, or None if it can."""
    if not os.path.exists("/dev/cmamem"):
        # A loaded module without its device is a failure to report.
        if os.path.exists("/sys/module/cmamem"):
            return None
        return "no /dev/cmamem: the cmamem module is not loaded"
    if os.geteuid() != 0:
        return "these tests run as root (they also drop privileges in a child)"
    return None
