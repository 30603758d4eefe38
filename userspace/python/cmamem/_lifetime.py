# SPDX-License-Identifier: GPL-2.0
"""What the binding owns and lets go of exactly once: file descriptors
(Pool, DmaBuf) and handles (a Buffer's block, an Import).

An Owner registers a finalizer that quietly lets go of what a program
forgot (garbage collection, interpreter exit) and detaches it when the
program lets go itself, so that nothing is closed or freed twice; the with
statement lets go at its end unless the body already did.
"""

import os
import threading
import weakref


def close_quietly(fd):
    """Finalizer of a file descriptor nobody closed."""
    try:
        os.close(fd)
    except OSError:
        pass


def free_quietly(pool, handle, pid):
    """Finalizer of a handle nobody freed: drop it.

    Only in the process that took the handle: a forked child shares the
    parent's open file, and freeing there would free the parent's handle.
    """
    if os.getpid() != pid:
        return
    try:
        pool.free(handle)
    except OSError:
        pass


class Owner:
    """Base of the objects that own one file descriptor or handle.

    A subclass calls _own(finalizer, *arguments) once it holds the
    resource, defines close() (which starts with ``if not self._disown():``)
    and gets the with statement.
    """

    _released = False

    def _own(self, finalizer, *arguments):
        """Own the resource: @finalizer(*arguments) lets go of it if the
        program never does."""
        self._release_lock = threading.Lock()
        self._released = False
        self._finalizer = weakref.finalize(self, finalizer, *arguments)

    def _disown(self):
        """Decide who lets go: True for the first caller (the finalizer is
        then detached), False for every later one, in any thread."""
        with self._release_lock:
            if self._released:
                return False
            self._released = True
        self._finalizer.detach()
        return True

    def __enter__(self):
        return self

    def __exit__(self, *exception_info):
        # Letting go inside the with block is fine.
        if not self._released:
            self.close()
