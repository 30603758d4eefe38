#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A DMA engine copying between cmamem buffers, PYNQ style.

The engine's registers are a numpy array over an mmap of its PCI BAR (as
PYNQ's MMIO class maps an IP's registers), and the buffers' addresses go
into them. The engine is QEMU's edu device (PCI 1234:11e8), the one the
selftests drive from C (selftests/cmamem_engine.h, which explains the
registers and the limits): it copies between memory and a 4 KiB buffer of
its own. An FPGA engine on a board is driven the same way, with its own
registers.

Run as root on the emulated boards (make shell): it copies a pattern from
one cached buffer to another through the engine and checks it. Imported,
EduEngine does single transfers. userspace/python/tests/test_engine.py
runs both, so this example cannot rot.
"""

import mmap
import os
import sys

import numpy

import cmamem

PCI_DEVICES = "/sys/bus/pci/devices"


class NoEngine(LookupError):
    """There is no edu engine here (a real board): nothing to drive."""


class EduEngine:
    """QEMU's edu DMA engine, driven from user space through sysfs."""

    VENDOR, DEVICE = 0x1234, 0x11E8
    BUFFER_ADDRESS = 0x40000       # the engine's buffer, in its own address space
    BUFFER_SIZE = 4096
    # QEMU 7.2 aborts on a transfer that ends exactly at the buffer's end.
    MAX_TRANSFER = BUFFER_SIZE - 1
    SOURCE, DESTINATION, COUNT, COMMAND = 0x80, 0x88, 0x90, 0x98   # 64-bit registers
    START, TO_RAM = 0x1, 0x2
    TIMEOUT = 10.0                 # seconds; each transfer takes 100 ms of guest time

    def __init__(self, slot=None, dma_limit=2**64 - 1):
        """Find (by PCI address @slot, default $CMAMEM_ENGINE_SLOT or the
        first edu), enable and map the engine. @dma_limit: the highest bus
        address it reaches (its DMA mask)."""
        self.slot = slot or os.environ.get("CMAMEM_ENGINE_SLOT") or self._first_edu()
        self.path = os.path.join(PCI_DEVICES, self.slot)
        self.dma_limit = dma_limit
        if not self._is_edu(self.path):
            raise NoEngine("no edu DMA engine at PCI address %s" % self.slot)
        self._write(os.path.join(self.path, "enable"), b"1")
        # Memory space and bus master bits of the PCI command register.
        config = os.path.join(self.path, "config")
        with open(config, "r+b", buffering=0) as space:
            command = int.from_bytes(space.read(6)[4:6], "little")
            space.seek(4)
            space.write((command | 0x6).to_bytes(2, "little"))
        fd = os.open(os.path.join(self.path, "resource0"), os.O_RDWR | os.O_SYNC)
        try:
            self._map = mmap.mmap(fd, mmap.PAGESIZE, mmap.MAP_SHARED,
                                  mmap.PROT_READ | mmap.PROT_WRITE)
        finally:
            os.close(fd)
        # One aligned 8-byte load or store per register access, as the
        # engine wants (numpy indexing does exactly that; slicing the mmap
        # would copy bytes in whatever sizes memcpy likes).
        self.registers = numpy.frombuffer(self._map, numpy.uint64)

    @classmethod
    def _is_edu(cls, path):
        try:
            with open(os.path.join(path, "vendor")) as vendor, \
                    open(os.path.join(path, "device")) as device:
                return (int(vendor.read(), 16), int(device.read(), 16)) == (cls.VENDOR,
                                                                            cls.DEVICE)
        except OSError:
            return False

    @classmethod
    def _first_edu(cls):
        for slot in sorted(os.listdir(PCI_DEVICES)) if os.path.isdir(PCI_DEVICES) else []:
            if cls._is_edu(os.path.join(PCI_DEVICES, slot)):
                return slot
        raise NoEngine("no edu DMA engine (PCI 1234:11e8) in %s" % PCI_DEVICES)

    @staticmethod
    def _write(path, data):
        with open(path, "wb", buffering=0) as sysfs:
            sysfs.write(data)

    def _register(self, offset, value=None):
        if value is None:
            return int(self.registers[offset // 8])
        self.registers[offset // 8] = value
        return value

    def transfer(self, address, offset, count, to_ram):
        """Copy @count bytes between bus address @address and the engine's
        buffer at @offset (into memory when @to_ram), and wait."""
        if count < 1 or offset < 0 or offset + count > self.MAX_TRANSFER:
            raise ValueError("%d bytes at engine offset %d: a transfer must end before byte "
                             "%d of the engine's buffer (QEMU 7.2 aborts otherwise)"
                             % (count, offset, self.MAX_TRANSFER))
        if address < 0 or address + count - 1 > self.dma_limit:
            raise ValueError("bus address %#x + %d is beyond what the engine reaches (%#x)"
                             % (address, count, self.dma_limit))
        engine_address = self.BUFFER_ADDRESS + offset
        self._register(self.SOURCE, engine_address if to_ram else address)
        self._register(self.DESTINATION, address if to_ram else engine_address)
        self._register(self.COUNT, count)
        self._register(self.COMMAND, self.START | (self.TO_RAM if to_ram else 0))
        deadline = os.times().elapsed + self.TIMEOUT
        while self._register(self.COMMAND) & self.START:
            if os.times().elapsed > deadline:
                raise TimeoutError("the engine at %s did not finish" % self.slot)

    def to_engine(self, address, offset, count):
        """The engine reads @count bytes at bus address @address."""
        self.transfer(address, offset, count, to_ram=False)

    def to_ram(self, offset, address, count):
        """The engine writes @count bytes of its buffer at bus address @address."""
        self.transfer(address, offset, count, to_ram=True)

    def close(self):
        del self.registers
        self._map.close()

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        self.close()


def copy(engine, source, destination):
    """Copy buffer @source into @destination through the engine, as a
    program does: flush before the engine reads, invalidate before the
    CPU reads what it wrote."""
    source.flush()
    destination.flush()        # no dirty line may land on the engine's bytes later
    done = 0
    while done < source.nbytes:
        count = min(source.nbytes - done, 4032)
        # physical_address, as PYNQ code passes it; on these boards it is
        # the DMA address too (use device_address behind an IOMMU).
        engine.to_engine(source.physical_address + done, 0, count)
        engine.to_ram(0, destination.physical_address + done, count)
        done += count
    destination.invalidate()


def main():
    try:
        engine = EduEngine()
    except NoEngine as reason:
        print("nothing to do: %s" % reason)
        return 0
    with engine, \
            cmamem.allocate(6000, numpy.uint8, mode="cached") as source, \
            cmamem.allocate(6000, numpy.uint8, mode="cached") as destination:
        source[:] = numpy.arange(source.size) % 251
        destination[:] = 0
        copy(engine, source, destination)
        print("engine %s: %d bytes from %#x to %#x" % (engine.slot, source.nbytes,
                                                      source.physical_address,
                                                      destination.physical_address))
        if not numpy.array_equal(source, destination):
            print("the copy differs from the source")
            return 1
        print("the buffers agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
