# SPDX-License-Identifier: GPL-2.0
"""The cmamem user-space API, <linux/cmamem.h>, for Python.

The ioctl numbers, the constants, and one ctypes structure per ioctl
argument, field for field as in the C header. The module checks every
structure's size and field offsets when it is imported (a mismatch raises
ImportError), so a binding that disagrees with the kernel's ABI never gets
as far as an ioctl. The field lists are public (FIELDS) so that tests can
compare them with the header text and with a C compiler's offsetof().

Every structure starts with its own size, which the kernel uses to tell
releases apart; new_request() sets it.
"""

import ctypes
import platform

CMAMEM_TYPE = 0xB2
CMAMEM_NAME_SIZE = 32
# Largest struct size any ioctl accepts (E2BIG above).
CMAMEM_STRUCT_SIZE_MAX = 4096

# enum cmamem_mode
CMAMEM_MODE_COHERENT = 1
CMAMEM_MODE_WRITECOMBINE = 2
CMAMEM_MODE_CACHED = 3

# enum cmamem_alloc_flags
CMAMEM_MAP = 1 << 0
CMAMEM_PINNABLE = 1 << 1
CMAMEM_OWNER = 1 << 2

# enum cmamem_reply_flags
CMAMEM_ADDRESS_WITHHELD = 1 << 0
CMAMEM_REPLY_PINNABLE = 1 << 1

# enum cmamem_sync_flags
CMAMEM_SYNC_FOR_CPU = 1 << 0
CMAMEM_SYNC_FOR_DEVICE = 1 << 1

# enum cmamem_pool_flags
CMAMEM_POOL_DEFAULT = 1 << 0
CMAMEM_POOL_CMA = 1 << 1
CMAMEM_POOL_CARVEOUT = 1 << 2
CMAMEM_POOL_TOTAL_KNOWN = 1 << 3
CMAMEM_POOL_CACHED = 1 << 4

CMAMEM_CMD_BASE = 0x80
CMAMEM_CMD_ALLOC = CMAMEM_CMD_BASE
CMAMEM_CMD_ATTACH = CMAMEM_CMD_BASE + 1
CMAMEM_CMD_FREE = CMAMEM_CMD_BASE + 2
CMAMEM_CMD_SYNC = CMAMEM_CMD_BASE + 3
CMAMEM_CMD_BLOCK_INFO = CMAMEM_CMD_BASE + 4
CMAMEM_CMD_POOL_INFO = CMAMEM_CMD_BASE + 5
CMAMEM_CMD_EXPORT = CMAMEM_CMD_BASE + 6
CMAMEM_CMD_IMPORT = CMAMEM_CMD_BASE + 7

# _IO() of <asm-generic/ioctl.h>. The "no data" direction is 0 in the bits
# above the size on most architectures, and 1 in the top three bits on
# those with their own <asm/ioctl.h> (alpha, mips, powerpc, sparc).
_MACHINE = platform.machine().lower()
if _MACHINE.startswith(("alpha", "mips", "ppc", "powerpc", "sparc")):
    _IOC_NONE, _IOC_DIRSHIFT = 1, 29
else:
    _IOC_NONE, _IOC_DIRSHIFT = 0, 30
_IOC_TYPESHIFT = 8


def _IO(ioctl_type, number):
    """The ioctl number of a command without a size, as _IO() in C."""
    return (_IOC_NONE << _IOC_DIRSHIFT) | (ioctl_type << _IOC_TYPESHIFT) | number


CMAMEM_IOCTL_ALLOC = _IO(CMAMEM_TYPE, CMAMEM_CMD_ALLOC)
CMAMEM_IOCTL_ATTACH = _IO(CMAMEM_TYPE, CMAMEM_CMD_ATTACH)
CMAMEM_IOCTL_FREE = _IO(CMAMEM_TYPE, CMAMEM_CMD_FREE)
CMAMEM_IOCTL_SYNC = _IO(CMAMEM_TYPE, CMAMEM_CMD_SYNC)
CMAMEM_IOCTL_BLOCK_INFO = _IO(CMAMEM_TYPE, CMAMEM_CMD_BLOCK_INFO)
CMAMEM_IOCTL_POOL_INFO = _IO(CMAMEM_TYPE, CMAMEM_CMD_POOL_INFO)
CMAMEM_IOCTL_EXPORT = _IO(CMAMEM_TYPE, CMAMEM_CMD_EXPORT)
CMAMEM_IOCTL_IMPORT = _IO(CMAMEM_TYPE, CMAMEM_CMD_IMPORT)

_u32 = ctypes.c_uint32
_s32 = ctypes.c_int32
_u64 = ctypes.c_uint64
_name = ctypes.c_char * CMAMEM_NAME_SIZE

# Field lists in header order: (name, ctypes type, offset in the C struct).
# The offsets are the C compiler's on every Linux ABI (all 64-bit fields
# are __aligned_u64 and already sit at multiples of 8), restated here so
# that the check below catches an edited list.
FIELDS = {
    "cmamem_alloc": [
        ("size", _u32, 0),
        ("flags", _u32, 4),
        ("length", _u64, 8),
        ("alignment", _u64, 16),
        ("mode", _u32, 24),
        ("handle", _u32, 28),
        ("mmap_offset", _u64, 32),
        ("dma_address", _u64, 40),
        ("physical_address", _u64, 48),
        ("user_address", _u64, 56),
        ("out_flags", _u32, 64),
        ("__reserved", _u32, 68),
        ("name", _name, 72),
        ("max_dma_address", _u64, 104),
    ],
    "cmamem_attach": [
        ("size", _u32, 0),
        ("flags", _u32, 4),
        ("name", _name, 8),
        ("handle", _u32, 40),
        ("mode", _u32, 44),
        ("length", _u64, 48),
        ("mmap_offset", _u64, 56),
        ("dma_address", _u64, 64),
        ("physical_address", _u64, 72),
        ("user_address", _u64, 80),
        ("out_flags", _u32, 88),
        ("__reserved", _u32, 92),
        ("owner_uid", _u32, 96),
        ("__reserved2", _u32, 100),
    ],
    "cmamem_free": [
        ("size", _u32, 0),
        ("flags", _u32, 4),
        ("handle", _u32, 8),
        ("__reserved", _u32, 12),
    ],
    "cmamem_sync": [
        ("size", _u32, 0),
        ("flags", _u32, 4),
        ("handle", _u32, 8),
        ("__reserved", _u32, 12),
        ("offset", _u64, 16),
        ("length", _u64, 24),
    ],
    "cmamem_block_info": [
        ("size", _u32, 0),
        ("flags", _u32, 4),
        ("handle", _u32, 8),
        ("mode", _u32, 12),
        ("length", _u64, 16),
        ("alignment", _u64, 24),
        ("mmap_offset", _u64, 32),
        ("dma_address", _u64, 40),
        ("physical_address", _u64, 48),
        ("handles", _u32, 56),
        ("mappings", _u32, 60),
        ("dma_bufs", _u32, 64),
        ("out_flags", _u32, 68),
        ("owner_uid", _u32, 72),
        ("__reserved", _u32, 76),
        ("name", _name, 80),
        ("pool", _name, 112),
    ],
    "cmamem_pool_info": [
        ("size", _u32, 0),
        ("flags", _u32, 4),
        ("pool_flags", _u32, 8),
        ("blocks", _u32, 12),
        ("total_bytes", _u64, 16),
        ("used_bytes", _u64, 24),
        ("peak_bytes", _u64, 32),
        ("free_bytes", _u64, 40),
        ("allocations", _u64, 48),
        ("failures", _u64, 56),
        ("max_block_bytes", _u64, 64),
        ("page_size", _u32, 72),
        ("__reserved", _u32, 76),
        ("name", _name, 80),
        ("largest_free_bytes", _u64, 112),
    ],
    "cmamem_export": [
        ("size", _u32, 0),
        ("flags", _u32, 4),
        ("handle", _u32, 8),
        ("fd_flags", _u32, 12),
        ("fd", _u32, 16),
        ("__reserved", _u32, 20),
    ],
    "cmamem_import": [
        ("size", _u32, 0),
        ("flags", _u32, 4),
        ("fd", _s32, 8),
        ("handle", _u32, 12),
        ("length", _u64, 16),
        ("dma_address", _u64, 24),
        ("out_flags", _u32, 32),
        ("__reserved", _u32, 36),
    ],
}

# sizeof() of each struct in the C header.
SIZES = {
    "cmamem_alloc": 112,
    "cmamem_attach": 104,
    "cmamem_free": 16,
    "cmamem_sync": 32,
    "cmamem_block_info": 144,
    "cmamem_pool_info": 120,
    "cmamem_export": 24,
    "cmamem_import": 40,
}


def _structure(c_name):
    fields = FIELDS[c_name]
    class_name = "".join(part.capitalize() for part in c_name.split("_"))
    structure = type(class_name, (ctypes.Structure,),
                     {"_fields_": [(name, ctype) for name, ctype, _ in fields],
                      "__doc__": "struct %s of <linux/cmamem.h>" % c_name})
    # Checked without assert, which python -O would drop.
    if ctypes.sizeof(structure) != SIZES[c_name]:
        raise ImportError("cmamem: struct %s is %d bytes here, %d in the uapi"
                          % (c_name, ctypes.sizeof(structure), SIZES[c_name]))
    for name, _, offset in fields:
        if getattr(structure, name).offset != offset:
            raise ImportError("cmamem: %s.%s is at offset %d here, %d in the uapi"
                              % (c_name, name, getattr(structure, name).offset,
                                 offset))
    return structure


CmamemAlloc = _structure("cmamem_alloc")
CmamemAttach = _structure("cmamem_attach")
CmamemFree = _structure("cmamem_free")
CmamemSync = _structure("cmamem_sync")
CmamemBlockInfo = _structure("cmamem_block_info")
CmamemPoolInfo = _structure("cmamem_pool_info")
CmamemExport = _structure("cmamem_export")
CmamemImport = _structure("cmamem_import")

STRUCTURES = {
    "cmamem_alloc": CmamemAlloc,
    "cmamem_attach": CmamemAttach,
    "cmamem_free": CmamemFree,
    "cmamem_sync": CmamemSync,
    "cmamem_block_info": CmamemBlockInfo,
    "cmamem_pool_info": CmamemPoolInfo,
    "cmamem_export": CmamemExport,
    "cmamem_import": CmamemImport,
}

# Which structure each ioctl takes.
IOCTLS = {
    "CMAMEM_IOCTL_ALLOC": (CMAMEM_IOCTL_ALLOC, CmamemAlloc),
    "CMAMEM_IOCTL_ATTACH": (CMAMEM_IOCTL_ATTACH, CmamemAttach),
    "CMAMEM_IOCTL_FREE": (CMAMEM_IOCTL_FREE, CmamemFree),
    "CMAMEM_IOCTL_SYNC": (CMAMEM_IOCTL_SYNC, CmamemSync),
    "CMAMEM_IOCTL_BLOCK_INFO": (CMAMEM_IOCTL_BLOCK_INFO, CmamemBlockInfo),
    "CMAMEM_IOCTL_POOL_INFO": (CMAMEM_IOCTL_POOL_INFO, CmamemPoolInfo),
    "CMAMEM_IOCTL_EXPORT": (CMAMEM_IOCTL_EXPORT, CmamemExport),
    "CMAMEM_IOCTL_IMPORT": (CMAMEM_IOCTL_IMPORT, CmamemImport),
}


def new_request(structure):
    """A zeroed instance of an ioctl structure with its size field set."""
    request = structure()
    request.size = ctypes.sizeof(structure)
    return request


# The names of enum cmamem_mode, as the kernel (BLOCK_INFO's text, debugfs)
# and libcmamem's cmamem_mode_name() spell them: the one table of the
# binding.
MODE_NAMES = {
    CMAMEM_MODE_COHERENT: "coherent",
    CMAMEM_MODE_WRITECOMBINE: "writecombine",
    CMAMEM_MODE_CACHED: "cached",
}
# Accepted on input only, as cmamem_parse_mode() and the cmamem command
# accept it ("--mode wc"), and the spelling earlier releases of the binding
# reported.
MODE_ALIASES = {"wc": CMAMEM_MODE_WRITECOMBINE}
_MODE_NUMBERS = {name: number for number, name in MODE_NAMES.items()}
_MODE_NUMBERS.update(MODE_ALIASES)


def mode_number(mode):
    """The enum cmamem_mode of a mode name: "coherent", "writecombine"
    (or its alias "wc") or "cached". ValueError for anything else."""
    try:
        return _MODE_NUMBERS[mode]
    except (KeyError, TypeError):
        raise ValueError("mode %r: unknown cmamem mode; use %s (or 'wc' for "
                         "'writecombine')"
                         % (mode, ", ".join(repr(name) for name in MODE_NAMES.values()))) from None


def mode_name(number):
    """The name of an enum cmamem_mode value ("unknown" for others)."""
    return MODE_NAMES.get(number, "unknown")
