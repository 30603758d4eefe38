#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""cmamem.uapi against uapi/linux/cmamem.h, read as text: every struct
field (name, type, offset, size), every constant, every ioctl number and
which struct each ioctl takes. Needs no driver (TAP output; see tap.py).
scripts/check-userspace.sh also compares the layout with a C compiler's."""

import ctypes
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from cmamem import uapi  # noqa: E402
from tap import check, equal, run  # noqa: E402

HEADER = os.environ.get("CMAMEM_UAPI_HEADER", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "uapi", "linux",
    "cmamem.h"))

# C type -> (ctypes type, size and alignment in bytes)
C_TYPES = {
    "__u32": (ctypes.c_uint32, 4),
    "__s32": (ctypes.c_int32, 4),
    "__aligned_u64": (ctypes.c_uint64, 8),
}


def header_text():
    with open(HEADER) as stream:
        return stream.read()


def without_comments(text):
    return re.sub(r"/\*.*?\*/", " ", text, flags=re.S)


def constants():
    """{name: value} of every enum member and #define of the header."""
    code = without_comments(header_text())
    values = {}
    for body in re.findall(r"\benum\s*\w*\s*\{(.*?)\}", code, flags=re.S):
        following = 0
        for member in body.split(","):
            member = member.strip()
            if not member:
                continue
            name, _, expression = member.partition("=")
            name = name.strip()
            if expression:
                following = evaluate(expression, values)
            values[name] = following
            following += 1
    for name, expression in re.findall(r"^#define\s+(CMAMEM_\w+)\s+(.+)$", code, flags=re.M):
        call = re.match(r"_IO\((\w+),\s*(\w+)\)", expression.strip())
        if call:
            values[name] = uapi._IO(values[call.group(1)], values[call.group(2)])
        else:
            values[name] = evaluate(expression, values)
    return values


def evaluate(expression, known):
    """An integer expression of the header: numbers, names, << and +."""
    tokens = re.findall(r"0x[0-9a-fA-F]+|\d+|[A-Za-z_]\w*|<<|\+|\(|\)", expression)
    text = ""
    for token in tokens:
        if re.match(r"[A-Za-z_]", token):
            text += str(known[token])
        else:
            text += token
    check(text, "cannot evaluate %r" % expression)
    return int(eval(text, {"__builtins__": {}}))  # digits and operators only


def structs():
    """{struct name: [(field, ctypes type, offset)]} laid out as C does."""
    code = without_comments(header_text())
    values = constants()
    result = {}
    for name, body in re.findall(r"\bstruct\s+(cmamem_\w+)\s*\{(.*?)\};", code, flags=re.S):
        offset, fields, largest = 0, [], 1
        for declaration in body.split(";"):
            declaration = declaration.strip()
            if not declaration:
                continue
            array = re.match(r"char\s+(\w+)\[(\w+)\]$", declaration)
            if array:
                field, count = array.group(1), values.get(array.group(2), None)
                if count is None:
                    count = int(array.group(2))
                ctype, size, alignment = ctypes.c_char * count, count, 1
            else:
                c_type, field = declaration.split()
                ctype, size = C_TYPES[c_type]
                alignment = size
            offset = -(-offset // alignment) * alignment
            fields.append((field, ctype, offset))
            offset += size
            largest = max(largest, alignment)
        result[name] = (fields, -(-offset // largest) * largest)
    return result


def test_struct_fields():
    header_structs = structs()
    equal(sorted(header_structs), sorted(uapi.FIELDS), "structs")
    for name, (fields, _) in header_structs.items():
        mine = uapi.FIELDS[name]
        equal([field for field, _, _ in mine], [field for field, _, _ in fields],
              "fields of struct %s" % name)
        for (field, ctype, offset), (_, my_type, my_offset) in zip(fields, mine):
            equal(ctypes.sizeof(my_type), ctypes.sizeof(ctype), "size of %s.%s" % (name, field))
            equal(my_offset, offset, "offset of %s.%s" % (name, field))
            equal(getattr(uapi.STRUCTURES[name], field).offset, offset,
                  "ctypes offset of %s.%s" % (name, field))


def test_struct_sizes():
    for name, (_, size) in structs().items():
        equal(uapi.SIZES[name], size, "sizeof(struct %s)" % name)
        equal(ctypes.sizeof(uapi.STRUCTURES[name]), size, "ctypes size of struct %s" % name)
        equal(uapi.new_request(uapi.STRUCTURES[name]).size, size,
              "size field of a new struct %s" % name)


def test_constants():
    header = constants()
    check(len(header) > 20, "found only %d constants in %s" % (len(header), HEADER))
    for name, value in header.items():
        check(hasattr(uapi, name), "cmamem.uapi lacks %s" % name)
        equal(getattr(uapi, name), value, name)
    mine = {name for name in dir(uapi) if name.startswith("CMAMEM_")}
    equal(sorted(mine - set(header)), [], "constants of cmamem.uapi the header lacks")


def test_ioctl_structs():
    text = header_text()
    pairs = dict(re.findall(r"\*\s+struct\s+(cmamem_\w+)\s+-\s+ioctl\((CMAMEM_IOCTL_\w+)\)", text))
    check(pairs, "no 'struct X - ioctl(Y)' kernel-doc lines in the header")
    equal(sorted(pairs.values()), sorted(uapi.IOCTLS), "ioctls")
    for struct_name, ioctl_name in pairs.items():
        number, structure = uapi.IOCTLS[ioctl_name]
        equal(structure, uapi.STRUCTURES[struct_name], "struct of %s" % ioctl_name)
        equal(number, getattr(uapi, ioctl_name), "number of %s" % ioctl_name)


def test_ioctl_numbers_on_this_machine():
    # _IO(0xB2, nr) is 0xB2nn wherever "no data" is direction 0.
    if uapi._IOC_NONE == 0:
        equal(uapi.CMAMEM_IOCTL_ALLOC, 0xB280, "CMAMEM_IOCTL_ALLOC")
        equal(uapi.CMAMEM_IOCTL_POOL_INFO, 0xB285, "CMAMEM_IOCTL_POOL_INFO")
    else:
        equal(uapi.CMAMEM_IOCTL_ALLOC, 0x2000B280, "CMAMEM_IOCTL_ALLOC")


if __name__ == "__main__":
    run([test_struct_fields, test_struct_sizes, test_constants, test_ioctl_structs,
         test_ioctl_numbers_on_this_machine])
