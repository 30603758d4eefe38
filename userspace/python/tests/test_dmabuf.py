#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""dma-bufs from Python: Buffer.export() and its DmaBuf (size, exporter,
the block's bytes through the dma-buf's own mapping, cpu_access(), read-only
and close-on-exec descriptors, lifetime against freebuffer()),
cmamem.import_dmabuf() and its Import (length and DMA address agreeing with
the block's, free() and the with statement, lifetime against the
descriptor and the block, what an import handle refuses, closing its
pool), import errors, a child importing an inherited dma-buf, a foreign
exporter (DRM vgem), and the cmamem command's export and import
subcommands when the command is at hand. Runs as root with the module
loaded (TAP output; see tap.py)."""

import ctypes
import errno
import fcntl
import json
import os
import shutil
import subprocess
import sys

import numpy

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import cmamem  # noqa: E402
from cmamem import uapi  # noqa: E402
from tap import Skip, check, equal, expect_error, run, device_missing  # noqa: E402

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def used_bytes():
    with cmamem.Pool(writable=False) as pool:
        return pool.info().used_bytes


def test_export_shows_the_block():
    with cmamem.allocate(4 * PAGE_SIZE, name="py-export") as buffer:
        buffer[:] = numpy.arange(buffer.size) % 251
        buffer.flush()
        with buffer.export() as dmabuf:
            equal(dmabuf.size, buffer.block_length, "the dma-buf's size")
            equal(dmabuf.exporter, "cmamem", "the dma-buf's exporter")
            check(dmabuf.inode > 0, "the dma-buf has no inode number")
            check(dmabuf.writable, "the default export is not open for writing")
            mapping = dmabuf.map()
            view = numpy.frombuffer(mapping, numpy.uint8)
            with dmabuf.cpu_access():
                check(numpy.array_equal(view, buffer),
                      "the dma-buf's mapping shows other bytes than the block's")
                view[7] = 200
            buffer.invalidate()
            equal(int(buffer[7]), 200, "a write through the dma-buf, read through the block")
            del view
            mapping.close()


def test_export_of_a_view_is_the_whole_block():
    with cmamem.allocate((8, PAGE_SIZE), numpy.uint8, name="py-export-view") as buffer:
        with buffer[4:6].export() as dmabuf:
            equal(dmabuf.size, buffer.block_length, "size of a view's dma-buf")


def test_export_counts_and_outlives_free():
    before = used_bytes()
    buffer = cmamem.allocate(PAGE_SIZE, name="py-export-life")
    buffer[:] = 77
    buffer.flush()
    dmabuf = buffer.export()
    equal(buffer.info().dma_bufs, 1, "dma_bufs of the block")
    buffer.freebuffer()
    check(used_bytes() > before, "the block went while its dma-buf lived")
    mapping = dmabuf.map(writable=False)
    with dmabuf.cpu_access(write=False):
        equal(mapping[PAGE_SIZE - 1], 77, "the last byte through the dma-buf after FREE")
    mapping.close()
    dmabuf.close()
    equal(used_bytes(), before, "used_bytes once the dma-buf is closed")
    dmabuf.close()          # a second close does nothing
    check(dmabuf.closed, "closed is False after close()")
    expect_error(OSError, errno.EBADF, dmabuf.fileno)


def test_read_only_export():
    with cmamem.allocate(PAGE_SIZE, name="py-export-ro") as buffer:
        with buffer.export(writable=False) as dmabuf:
            check(not dmabuf.writable, "a read-only export is open for writing")
            expect_error(PermissionError, errno.EACCES, dmabuf.map, writable=True)
            mapping = dmabuf.map()
            equal(len(mapping), buffer.block_length, "length of the read-only mapping")
            mapping.close()


def test_export_is_close_on_exec_and_detachable():
    with cmamem.allocate(PAGE_SIZE, name="py-export-fd") as buffer:
        dmabuf = buffer.export()
        check(fcntl.fcntl(dmabuf.fileno(), fcntl.F_GETFD) & fcntl.FD_CLOEXEC,
              "the dma-buf is not close-on-exec")
        fd = dmabuf.detach()
        check(dmabuf.closed, "a detached DmaBuf is not closed")
        equal(os.fstat(fd).st_size, buffer.block_length, "size of the detached descriptor")
        expect_error(OSError, errno.EBADF, dmabuf.detach)
        with cmamem.DmaBuf(fd) as adopted:
            equal(adopted.fileno(), fd, "an adopted descriptor")
        expect_error(OSError, errno.EBADF, os.fstat, fd)


def test_raw_export_flags():
    with cmamem.allocate(PAGE_SIZE, name="py-export-raw") as buffer:
        pool = buffer.pool
        expect_error(OSError, errno.EINVAL, pool.export, buffer.handle,
                     os.O_RDWR | os.O_NONBLOCK)
        fd = pool.export(buffer.handle, os.O_RDWR)
        try:
            check(not fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC,
                  "an export without O_CLOEXEC is close-on-exec")
        finally:
            os.close(fd)
        expect_error(FileNotFoundError, errno.ENOENT, pool.export, 0xFFFFFF)


def test_import_back_agrees():
    with cmamem.allocate(3 * PAGE_SIZE, name="py-import-back") as buffer:
        used = buffer.pool.info().used_bytes
        with buffer.export() as dmabuf, cmamem.import_dmabuf(dmabuf) as imported:
            equal(imported.length, buffer.block_length, "length of the import")
            check(not imported.address_withheld, "root is refused the import's address")
            equal(imported.dma_address, buffer.dma_address,
                  "the import's DMA address against the block's")
            equal(imported.device_address, imported.dma_address, "device_address")
            check(imported.pool is buffer.pool, "import_dmabuf() used another shared pool")
            equal(buffer.pool.info().used_bytes, used,
                  "used_bytes with an import (its memory is the block's)")
        check(imported.freed, "the with statement did not free the import")
        equal(buffer.info().dma_bufs, 0, "dma_bufs after the import and the descriptor went")


def test_import_outlives_descriptor_and_block():
    before = used_bytes()
    other = cmamem.Pool()
    buffer = cmamem.allocate(PAGE_SIZE, name="py-import-life")
    dmabuf = buffer.export()
    imported = other.import_dmabuf(dmabuf.fileno())
    dmabuf.close()
    equal(buffer.info().dma_bufs, 1, "dma_bufs while only the import holds the dma-buf")
    buffer.freebuffer()
    check(used_bytes() > before, "the block went while an import held its dma-buf")
    imported.free()
    equal(used_bytes(), before, "used_bytes once the import is freed")
    other.close()


def test_import_free_twice():
    with cmamem.allocate(PAGE_SIZE, name="py-import-twice") as buffer:
        with buffer.export() as dmabuf:
            imported = cmamem.import_dmabuf(dmabuf)
            handle = imported.handle
            imported.free()
            error = expect_error(FileNotFoundError, errno.ENOENT, imported.free)
            check("already freed" in str(error), "message of a second free: %s" % error)
            expect_error(FileNotFoundError, errno.ENOENT, lambda: imported.dma_address)
            expect_error(FileNotFoundError, errno.ENOENT, buffer.pool.free, handle)


def test_import_handle_is_not_a_block():
    with cmamem.allocate(PAGE_SIZE, name="py-import-handle") as buffer:
        pool = buffer.pool
        with buffer.export() as dmabuf, pool.import_dmabuf(dmabuf) as imported:
            expect_error(OSError, errno.EINVAL, pool.block_info, imported.handle)
            expect_error(OSError, errno.EINVAL, pool.sync, imported.handle,
                         uapi.CMAMEM_SYNC_FOR_CPU, 0, PAGE_SIZE)
            error = expect_error(OSError, errno.EINVAL, pool.export, imported.handle)
            check("import handle" in str(error), "message: %s" % error)


def test_closing_the_pool_drops_imports():
    with cmamem.allocate(PAGE_SIZE, name="py-import-close") as buffer:
        pool = cmamem.Pool()
        with buffer.export() as dmabuf:
            imported = pool.import_dmabuf(dmabuf)
        equal(buffer.info().dma_bufs, 1, "dma_bufs held by the import")
        pool.close()
        equal(buffer.info().dma_bufs, 0, "dma_bufs after the import's pool closed")
        imported.free()         # nothing left to drop, and no error
        check(imported.freed, "freed")


def test_import_errors():
    with cmamem.Pool() as pool:
        reader, writer = os.pipe()
        error = expect_error(OSError, errno.EINVAL, pool.import_dmabuf, reader)
        check("not a dma-buf" in str(error), "message: %s" % error)
        os.close(reader)
        os.close(writer)
        error = expect_error(OSError, errno.EBADF, pool.import_dmabuf, reader)
        check("not an open file descriptor" in str(error), "message: %s" % error)
        expect_error(OSError, errno.EINVAL, pool.import_dmabuf, pool)   # a pool file
        with open("/dev/null") as null:
            expect_error(OSError, errno.EINVAL, pool.import_dmabuf, null)
        expect_error(TypeError, None, pool.import_dmabuf, "3")
        expect_error(TypeError, None, pool.import_dmabuf, True)
        expect_error(ValueError, None, cmamem.DmaBuf, -1)


def test_child_imports_inherited_dmabuf():
    with cmamem.allocate(2 * PAGE_SIZE, name="py-import-child") as buffer:
        buffer[:] = 0x3C
        buffer.flush()
        with buffer.export() as dmabuf:
            pid = os.fork()
            if pid == 0:
                status = 1
                try:
                    # The child's own shared pool (its own open file).
                    with cmamem.import_dmabuf(dmabuf) as imported:
                        mapping = dmabuf.map(writable=False)
                        if (imported.pool is not buffer.pool
                                and imported.length == buffer.block_length
                                and imported.dma_address == buffer.dma_address
                                and mapping[PAGE_SIZE] == 0x3C):
                            status = 0
                        mapping.close()
                finally:
                    os._exit(status)
            _, status = os.waitpid(pid, 0)
            equal(os.waitstatus_to_exitcode(status), 0, "the child's exit status")


# DRM vgem, a foreign exporter (include/uapi/drm/drm.h, drm_mode.h).
class _DrmVersion(ctypes.Structure):
    _fields_ = [("version_major", ctypes.c_int), ("version_minor", ctypes.c_int),
                ("version_patchlevel", ctypes.c_int),
                ("name_len", ctypes.c_size_t), ("name", ctypes.c_char_p),
                ("date_len", ctypes.c_size_t), ("date", ctypes.c_char_p),
                ("desc_len", ctypes.c_size_t), ("desc", ctypes.c_char_p)]


class _DrmCreateDumb(ctypes.Structure):
    _fields_ = [("height", ctypes.c_uint32), ("width", ctypes.c_uint32),
                ("bpp", ctypes.c_uint32), ("flags", ctypes.c_uint32),
                ("handle", ctypes.c_uint32), ("pitch", ctypes.c_uint32),
                ("size", ctypes.c_uint64)]


class _DrmPrimeHandle(ctypes.Structure):
    _fields_ = [("handle", ctypes.c_uint32), ("flags", ctypes.c_uint32),
                ("fd", ctypes.c_int32)]


def _drm_iowr(number, structure):
    return (3 << 30) | (ctypes.sizeof(structure) << 16) | (ord("d") << 8) | number


def _open_vgem():
    """A file of the vgem DRM device, or Skip."""
    if uapi._IOC_NONE != 0:
        raise Skip("the DRM ioctl numbers here are those of the generic encoding")
    directory = "/dev/dri"
    cards = sorted(name for name in os.listdir(directory)
                   if name.startswith("card")) if os.path.isdir(directory) else []
    for name in cards:
        fd = os.open(os.path.join(directory, name), os.O_RDWR | os.O_CLOEXEC)
        text = ctypes.create_string_buffer(64)
        version = _DrmVersion(name_len=len(text), name=ctypes.cast(text, ctypes.c_char_p))
        try:
            fcntl.ioctl(fd, _drm_iowr(0x00, _DrmVersion), version, True)
            if text.value == b"vgem":
                return fd
        except OSError:
            pass
        os.close(fd)
    raise Skip("no vgem DRM device (modprobe vgem)")


def _vgem_dmabuf(card, pages):
    """A dma-buf of a new vgem buffer of @pages pages (its GEM handle is
    closed with the card)."""
    dumb = _DrmCreateDumb(height=pages, width=PAGE_SIZE // 4, bpp=32)
    fcntl.ioctl(card, _drm_iowr(0xB2, _DrmCreateDumb), dumb, True)
    prime = _DrmPrimeHandle(handle=dumb.handle, flags=os.O_RDWR | os.O_CLOEXEC, fd=-1)
    fcntl.ioctl(card, _drm_iowr(0x2D, _DrmPrimeHandle), prime, True)
    return cmamem.DmaBuf(prime.fd)


def test_import_from_vgem():
    card = _open_vgem()
    try:
        with _vgem_dmabuf(card, 1) as dmabuf:
            # DRM's PRIME helpers call themselves "drm".
            check(dmabuf.exporter not in (None, "cmamem"),
                  "exporter of the vgem buffer: %r" % dmabuf.exporter)
            with cmamem.import_dmabuf(dmabuf) as imported:
                equal(imported.length, PAGE_SIZE, "length of a one-page vgem import")
                check(imported.dma_address > 0, "DMA address 0")
        # Many shmem pages: imported when they happen to be contiguous for
        # the device (or an IOMMU makes them so), else refused with EINVAL.
        with _vgem_dmabuf(card, 64) as dmabuf:
            try:
                with cmamem.import_dmabuf(dmabuf) as imported:
                    equal(imported.length, 64 * PAGE_SIZE, "length of a 64-page vgem import")
                print("# a 64-page vgem buffer was contiguous for the device")
            except OSError as error:
                equal(error.errno, errno.EINVAL, "errno of a scattered vgem buffer")
                print("# a 64-page vgem buffer was refused: %s" % error)
    finally:
        os.close(card)


# The cmamem command, from this tree: the x86_64 guest of make check runs
# these tests in a chroot of the host, where its own /usr/bin/cmamem is
# /proc/1/root/usr/bin/cmamem.
def _command():
    candidates = [os.environ.get("CMAMEM_COMMAND"), "/proc/1/root/usr/bin/cmamem",
                  shutil.which("cmamem")]
    for candidate in candidates:
        if not candidate or not os.access(candidate, os.X_OK):
            continue
        try:
            probe = subprocess.run([candidate, "import", "--help"], capture_output=True)
        except OSError:
            continue
        if probe.returncode == 0:
            return candidate
    raise Skip("no cmamem command with export and import (set CMAMEM_COMMAND)")


def _run(arguments, **keywords):
    return subprocess.run(arguments, capture_output=True, text=True, timeout=60, **keywords)


def _json_objects(text):
    """Every JSON object printed one after the other in @text."""
    decoder, objects, position = json.JSONDecoder(), [], 0
    text = text.strip()
    while position < len(text):
        value, end = decoder.raw_decode(text, position)
        objects.append(value)
        position = end
        while position < len(text) and text[position].isspace():
            position += 1
    return objects


def test_command_export_and_import_back():
    command = _command()
    with cmamem.allocate(2 * PAGE_SIZE, name="py-cli-export") as buffer:
        buffer[:] = 0x42
        buffer.flush()
        result = _run([command, "export", "py-cli-export", "--import", "--json"])
        equal(result.returncode, 0, "exit status of export --import (%s)" % result.stderr)
        report = json.loads(result.stdout)
        equal((report["contents_equal"], report["imported"], report["import_agrees"]),
              (True, True, True), "contents_equal, imported, import_agrees")
        equal(report["dmabuf_size"], buffer.block_length, "dmabuf_size")
        equal(report["exporter"], "cmamem", "exporter")
        equal(report["dma_address"], buffer.dma_address, "the block's dma_address")
        equal(report["import_dma_address"], buffer.dma_address, "import_dma_address")
        equal(buffer.info().dma_bufs, 0, "dma_bufs after the command")


def test_command_export_runs_import():
    command = _command()
    with cmamem.allocate(PAGE_SIZE, name="py-cli-run") as buffer:
        result = _run([command, "export", "py-cli-run", "--json", "--",
                       command, "import", "--fd", "3", "--json"])
        equal(result.returncode, 0, "exit status (%s)" % result.stderr)
        exported, imported = _json_objects(result.stdout)
        equal(imported["dmabuf_inode"], exported["dmabuf_inode"], "the child's dma-buf inode")
        equal(imported["length"], buffer.block_length, "length of the child's import")
        equal(imported["dma_address"], buffer.dma_address, "the child's import address")
        result = _run([command, "export", "py-cli-run", "--", "sh", "-c",
                       'test "$CMAMEM_DMABUF_FD" = 3 && exit 7'])
        equal(result.returncode, 7, "the COMMAND's exit status passed on")
        result = _run([command, "export", "py-cli-run", "--", "/no/such/program"])
        equal(result.returncode, 127, "exit status for a COMMAND not found")


def test_command_import_inherited_fd():
    command = _command()
    with cmamem.allocate(PAGE_SIZE, name="py-cli-import") as buffer:
        with buffer.export() as dmabuf:
            fd = dmabuf.fileno()
            result = _run([command, "import", "--fd", str(fd), "--json"], pass_fds=(fd,))
            equal(result.returncode, 0, "exit status (%s)" % result.stderr)
            report = json.loads(result.stdout)
            equal((report["length"], report["dma_address"], report["exporter"]),
                  (buffer.block_length, buffer.dma_address, "cmamem"),
                  "length, dma_address and exporter")
        reader, writer = os.pipe()
        try:
            result = _run([command, "import", "--fd", str(reader)], pass_fds=(reader,))
            equal(result.returncode, 1, "exit status for a pipe")
            check("is not a dma-buf" in result.stderr, "message: %s" % result.stderr)
        finally:
            os.close(reader)
            os.close(writer)
        result = _run([command, "import", "--fd", "1000"])
        equal(result.returncode, 1, "exit status for a descriptor that is not open")
        check("is not open" in result.stderr, "message: %s" % result.stderr)


def test_command_export_hold():
    command = _command()
    with cmamem.allocate(PAGE_SIZE, name="py-cli-hold") as buffer:
        holder = subprocess.Popen([command, "export", "py-cli-hold", "--import",
                                   "--hold", "--json"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
        try:
            lines = []
            while not lines or lines[-1] != "}\n":
                line = holder.stdout.readline()
                if not line:
                    raise AssertionError("export --hold ended early: %s"
                                         % holder.stderr.read())
                lines.append(line)
            report = json.loads("".join(lines))
            check(report["import_agrees"], "the held import disagrees")
            equal(buffer.info().dma_bufs, 1, "dma_bufs while export --hold holds one")
            equal(buffer.info().handles, 2, "handles while export --hold holds one")
        finally:
            holder.stdin.close()            # end of input: it lets go
            try:
                status = holder.wait(timeout=30)
            except subprocess.TimeoutExpired:
                holder.kill()
                holder.wait()
                raise
            holder.stdout.close()
            holder.stderr.close()
        equal(status, 0, "exit status of export --hold")
        equal(buffer.info().dma_bufs, 0, "dma_bufs after export --hold let go")


def test_command_export_errors():
    command = _command()
    result = _run([command, "export", "py-no-such-block"])
    equal(result.returncode, 1, "exit status for a missing block")
    check("py-no-such-block" in result.stderr, "message: %s" % result.stderr)


if __name__ == "__main__":
    run([test_export_shows_the_block, test_export_of_a_view_is_the_whole_block,
         test_export_counts_and_outlives_free, test_read_only_export,
         test_export_is_close_on_exec_and_detachable, test_raw_export_flags,
         test_import_back_agrees, test_import_outlives_descriptor_and_block,
         test_import_free_twice, test_import_handle_is_not_a_block,
         test_closing_the_pool_drops_imports, test_import_errors,
         test_child_imports_inherited_dmabuf, test_import_from_vgem,
         test_command_export_and_import_back, test_command_export_runs_import,
         test_command_import_inherited_fd, test_command_export_hold,
         test_command_export_errors], skip_all=device_missing())
