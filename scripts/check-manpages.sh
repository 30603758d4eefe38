#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Check the man pages in man/:
#
# 1. groff (-ww) and man --warnings find nothing to say about any of them;
# 2. cmamem(4) agrees with uapi/linux/cmamem.h: one ".SS CMAMEM_IOCTL_X"
#    per ioctl of the header, holding the struct exactly as the header
#    declares it, a ".TP/.I field" description of each of its fields and a
#    ".TP/.B ERRNO" entry for each errno the header's kernel-doc names for
#    it (no more, no fewer); the common errors under ERRORS and mmap()'s
#    under MEMORY MAPPING likewise; every CMAMEM_* name of the header
#    appears in the page, and the page names none the header lacks;
# 3. libcmamem(3) has a ".SS f()" and the exact prototype in its SYNOPSIS
#    for every function of include/cmamem/libcmamem.h, and names no other;
# 4. cmamem(1) has a ".SS" for every subcommand "cmamem --help" lists and
#    mentions every long option that subcommand's --help lists;
# 5. the EXAMPLES of libcmamem(3) and cmamem(4) compile with -Werror.
#
# Usage: check-manpages.sh
# Environment: CMAMEM_COMMAND (a host build of the command to ask for its
# help; default: built here), CC (default gcc).
# Prints one line per check and exits non-zero if any failed.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MAN=$ROOT/man
CC=${CC:-gcc}

work=$(mktemp -d "${TMPDIR:-/tmp}/cmamem-man.XXXXXX")
trap 'rm -rf "$work"' EXIT

failed=0
passed=0
report() { # status message
	if [ "$1" = 0 ]; then
		passed=$((passed + 1))
		echo "ok - $2"
	else
		failed=$((failed + 1))
		echo "not ok - $2"
	fi
}

for tool in groff man python3 "$CC"; do
	command -v "$tool" >/dev/null || {
		echo "check-manpages: $tool is missing (scripts/deps.sh installs groff-base and man-db)" >&2
		exit 1
	}
done

pages=$(ls "$MAN"/*.[1-8] 2>/dev/null)
[ -n "$pages" ] || { echo "check-manpages: no man pages in $MAN" >&2; exit 1; }

# 1. Formatting warnings.
for page in $pages; do
	name=${page#"$ROOT"/}
	out=$(groff -man -ww -z "$page" 2>&1)
	status=$?
	[ -n "$out" ] && echo "$out" | sed "s|^|    |"
	[ $status = 0 ] && [ -z "$out" ]
	report $? "$name: groff -man -ww -z is silent"
	out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null)
	[ -n "$out" ] && echo "$out" | sed "s|^|    |"
	[ -z "$out" ]
	report $? "$name: man --warnings is silent"
done

# The command and library, for their help texts and the examples.
if [ -n "${CMAMEM_COMMAND:-}" ]; then
	command=$CMAMEM_COMMAND
	library_dir=$(dirname "$command")
else
	if ! make -s -C "$ROOT/userspace" CC="$CC" OUTPUT="$work/build" all >"$work/build.log" 2>&1; then
		cat "$work/build.log"
		report 1 "building the cmamem command for its help texts"
		echo "$passed passed, $failed failed"
		exit 1
	fi
	command=$work/build/cmamem
	library_dir=$work/build
fi

# 2-4. Contents, in Python: the parsing is easier to read there.
python3 - "$ROOT" "$command" "$work" <<'PYTHON'
import errno
import re
import subprocess
import sys

root, command, work = sys.argv[1:4]
failures = []
passes = []


def result(ok, message):
    (passes if ok else failures).append(message)
    print(("ok - " if ok else "not ok - ") + message)


def read(path):
    with open(path) as stream:
        return stream.read()


def unescape(text):
    """roff source text as it reads: \\- is -, \\e is a backslash."""
    text = re.sub(r"\\f[BIRP]|\\f\(..|\\&|\\c", "", text)
    return text.replace("\\-", "-").replace("\\e", "\\").replace("\\(dq", '"')


def roff_lines(path):
    """Lines of a page without its comment lines."""
    return [line for line in read(path).splitlines() if not line.startswith('.\\"')]


def sections(lines, level):
    """{heading: [lines]} for .SH (level 'SH') or .SS headings."""
    result, current = {}, None
    for line in lines:
        match = re.match(r"^\.(SH|SS)\s+(.*)$", line)
        if match:
            if match.group(1) == level or level == "SS" and match.group(1) == "SH":
                current = match.group(2).strip().strip('"')
                if match.group(1) == "SH" and level == "SS":
                    current = None
                else:
                    result[current] = []
                continue
        if current is not None:
            result[current].append(line)
    return result


def tagged(lines, request, pattern):
    """Words of ".TP" items whose tag line is ".<request> WORD"."""
    words = []
    for first, second in zip(lines, lines[1:]):
        match = re.match(r"^\.%s (%s)$" % (request, pattern), second)
        if first == ".TP" and match:
            words.append(match.group(1))
    return words


def errnos_in(text):
    return {word for word in re.findall(r"\bE[A-Z0-9]+\b", text) if hasattr(errno, word)}


def normalize(text):
    return re.sub(r"\s+", " ", text).strip()


def without_comments(code):
    return re.sub(r"/\*.*?\*/", " ", code, flags=re.S)


# ---- the header ------------------------------------------------------
uapi_path = root + "/uapi/linux/cmamem.h"
header = read(uapi_path)
code = without_comments(header)
header_names = set(re.findall(r"\bCMAMEM_[A-Z0-9_]+\b", code))
header_ioctls = set(re.findall(r"^#define\s+(CMAMEM_IOCTL_\w+)", code, flags=re.M))
header_structs = {}
for name, body in re.findall(r"\bstruct\s+(cmamem_\w+)\s*\{(.*?)\};", code, flags=re.S):
    header_structs[name] = [normalize(d) for d in body.split(";") if d.strip()]
ioctl_struct, ioctl_errnos = {}, {}
for doc in re.findall(r"/\*\*(.*?)\*/", header, flags=re.S):
    title = re.search(r"\*\s+struct\s+(cmamem_\w+)\s+-\s+ioctl\((CMAMEM_IOCTL_\w+)\)", doc)
    if not title:
        continue
    struct, ioctl = title.groups()
    ioctl_struct[ioctl] = struct
    errors = doc.split("Errors:", 1)[1] if "Errors:" in doc else ""
    ioctl_errnos[ioctl] = errnos_in(errors)
top = re.search(r"/\*(.*?)\*/", header.split("\n", 1)[1], flags=re.S).group(1)
common_text = top.split("Errors common to every ioctl:", 1)[1].split("mmap()", 1)[0]
mmap_text = top.split("fails with:", 1)[1].split("A mapping cannot grow", 1)[0]
common_errnos = errnos_in(common_text)
mmap_errnos = errnos_in(mmap_text)
result(header_ioctls and set(ioctl_struct) == header_ioctls,
       "uapi: every CMAMEM_IOCTL_* has a 'struct X - ioctl(Y)' kernel-doc "
       "(ioctls %s, documented %s)" % (sorted(header_ioctls), sorted(ioctl_struct)))
result(common_errnos and mmap_errnos,
       "uapi: the common and mmap() errors are found in the header's first comment")

# ---- cmamem(4) ---------------------------------------------------------
page4 = "man/cmamem.4"
lines4 = roff_lines(root + "/" + page4)
text4 = "\n".join(lines4)
subsections = sections(lines4, "SS")
top_sections = sections(lines4, "SH")

page_ioctls = {name for name in subsections if name.startswith("CMAMEM_IOCTL_")}
result(page_ioctls == header_ioctls,
       "%s: one .SS per ioctl (missing %s, unknown %s)"
       % (page4, sorted(header_ioctls - page_ioctls), sorted(page_ioctls - header_ioctls)))

for ioctl in sorted(header_ioctls & page_ioctls):
    section = subsections[ioctl]
    struct = ioctl_struct.get(ioctl)
    # The struct listing between .EX and .EE.
    listing = []
    inside = False
    for line in section:
        if line == ".EX":
            inside = True
        elif line == ".EE":
            inside = False
        elif inside:
            listing.append(unescape(line))
    listing_text = "\n".join(listing)
    declared = re.search(r"struct\s+(\w+)\s*\{(.*?)\};", listing_text, flags=re.S)
    if not declared:
        result(False, "%s: %s shows no struct in an .EX block" % (page4, ioctl))
        continue
    page_fields = [normalize(d) for d in declared.group(2).split(";") if d.strip()]
    result(declared.group(1) == struct and page_fields == header_structs.get(struct),
           "%s: %s shows struct %s as the header declares it%s"
           % (page4, ioctl, struct, "" if page_fields == header_structs.get(struct)
              else " (page: %s; header: %s)" % (page_fields, header_structs.get(struct))))
    field_names = [d.split()[-1].split("[")[0] for d in header_structs.get(struct, [])]
    described = tagged(section, "I", r"\w+")
    result(sorted(described) == sorted(field_names),
           "%s: %s describes every field of struct %s once (missing %s, unknown %s)"
           % (page4, ioctl, struct, sorted(set(field_names) - set(described)),
              sorted(set(described) - set(field_names)
                     | {f for f in described if described.count(f) > 1})))
    page_errnos = set(tagged(section, "B", r"E[A-Z0-9]+"))
    wanted = ioctl_errnos.get(ioctl, set())
    result(page_errnos == wanted,
           "%s: %s lists the header's errors %s (missing %s, not in the header %s)"
           % (page4, ioctl, sorted(wanted), sorted(wanted - page_errnos),
              sorted(page_errnos - wanted)))

for heading, wanted in (("ERRORS", common_errnos), ("MEMORY MAPPING", mmap_errnos)):
    listed = set(tagged(top_sections.get(heading, []), "B", r"E[A-Z0-9]+"))
    result(heading in top_sections and listed == wanted,
           "%s: %s lists the header's %s (missing %s, not in the header %s)"
           % (page4, heading, sorted(wanted), sorted(wanted - listed),
              sorted(listed - wanted)))

page_names = set(re.findall(r"\bCMAMEM_[A-Z0-9_]+\b", unescape(text4)))
result(not header_names - page_names,
       "%s: names every CMAMEM_* constant of the header (missing %s)"
       % (page4, sorted(header_names - page_names)))
result(not page_names - header_names,
       "%s: names no CMAMEM_* constant the header lacks (%s)"
       % (page4, sorted(page_names - header_names)))

# ---- libcmamem(3) --------------------------------------------------------
page3 = "man/libcmamem.3"
library_header = without_comments(read(root + "/userspace/include/cmamem/libcmamem.h"))
prototypes = {}
for match in re.finditer(r"^([a-z][\w \*]*?\**\b(cmamem_\w+)\(([^;{]*?)\));", library_header,
                         flags=re.M | re.S):
    prototypes[match.group(2)] = normalize(match.group(1)) + ";"
lines3 = roff_lines(root + "/" + page3)
function_sections = {name[:-2] for name in sections(lines3, "SS") if name.endswith("()")}
result(prototypes and function_sections == set(prototypes),
       "%s: one .SS per function of libcmamem.h (missing %s, unknown %s)"
       % (page3, sorted(set(prototypes) - function_sections),
          sorted(function_sections - set(prototypes))))
rendered = subprocess.run(["groff", "-man", "-Tascii", "-P-cbou", root + "/" + page3],
                          capture_output=True, text=True).stdout
synopsis = normalize(rendered.split("SYNOPSIS", 1)[1].split("DESCRIPTION", 1)[0])
synopsis = synopsis.replace("( ", "(").replace(" )", ")").replace(" ,", ",")
missing = [name for name, prototype in sorted(prototypes.items())
           if prototype.replace("( ", "(") not in synopsis]
result(not missing, "%s: SYNOPSIS has the header's prototype of every function (wrong: %s)"
       % (page3, missing))
uapi_types = set(re.findall(r"\b(?:struct|enum)\s+(cmamem_\w+)", code))
named = set(re.findall(r"\b(cmamem_[a-z_]+)\b", unescape("\n".join(lines3))))
unknown = named - set(prototypes) - uapi_types
result(not unknown, "%s: names no function the header lacks (%s)" % (page3, sorted(unknown)))

# ---- cmamem(1) -------------------------------------------------------------
page1 = "man/cmamem.1"
lines1 = roff_lines(root + "/" + page1)
command_sections = sections(lines1, "SS")
help_text = subprocess.run([command, "--help"], capture_output=True, text=True).stdout
listed = help_text.split("Commands:", 1)[1] if "Commands:" in help_text else ""
subcommands = re.findall(r"^  (\w+)\s", listed.split("\n\n", 1)[0], flags=re.M)
result(subcommands, "cmamem --help lists subcommands (%s)" % subcommands)
result(set(command_sections) == set(subcommands),
       "%s: one .SS per subcommand (missing %s, unknown %s)"
       % (page1, sorted(set(subcommands) - set(command_sections)),
          sorted(set(command_sections) - set(subcommands))))
rendered1 = subprocess.run(["groff", "-man", "-Tascii", "-P-cbou", root + "/" + page1],
                           capture_output=True, text=True).stdout
synopsis1 = rendered1.split("SYNOPSIS", 1)[1].split("DESCRIPTION", 1)[0]
for subcommand in subcommands:
    run = subprocess.run([command, subcommand, "--help"], capture_output=True, text=True)
    options = sorted(set(re.findall(r"(?<![\w-])--([a-z][a-z-]*)", run.stdout)) - {"help"})
    section = unescape("\n".join(command_sections.get(subcommand, [])))
    missing = [option for option in options
               if not re.search(r"--%s(?![a-z-])" % re.escape(option), section)]
    result(run.returncode == 0 and not missing and "cmamem " + subcommand in synopsis1,
           "%s: %s is in the SYNOPSIS and its section documents %s (missing %s)"
           % (page1, subcommand, ["--" + o for o in options], missing))

with open(work + "/counts", "w") as stream:
    stream.write("%d %d\n" % (len(passes), len(failures)))
PYTHON
if [ -f "$work/counts" ]; then
	read -r more_passed more_failed <"$work/counts"
	passed=$((passed + more_passed))
	failed=$((failed + more_failed))
else
	report 1 "the man page contents check ran to its end"
fi

# 5. The examples compile.
extract_example() { # page marker: the .EX block holding marker, unescaped
	awk -v marker="$2" '
		/^\.EX$/ { inside = 1; block = ""; next }
		/^\.EE$/ { if (inside && index(block, marker)) { printf "%s", block; exit }
			   inside = 0; next }
		inside { block = block $0 "\n" }' "$1" |
		sed -e 's/\\-/-/g' -e 's/\\e/\\/g'
}
extract_example "$MAN/libcmamem.3" "int main" >"$work/library-example.c"
if [ -s "$work/library-example.c" ] &&
	$CC -Wall -Wextra -Werror -I"$ROOT/userspace/include" -I"$ROOT/uapi" \
		-o "$work/library-example" "$work/library-example.c" \
		"$library_dir/libcmamem.a" 2>"$work/cc.log"; then
	report 0 "man/libcmamem.3: the example program compiles and links"
else
	cat "$work/cc.log" 2>/dev/null
	report 1 "man/libcmamem.3: the example program compiles and links"
fi
{
	printf '#include <err.h>\n#include <fcntl.h>\n#include <string.h>\n'
	printf '#include <sys/ioctl.h>\n#include <sys/mman.h>\n#include <linux/cmamem.h>\n'
	printf 'int main(void)\n{\n'
	extract_example "$MAN/cmamem.4" "CMAMEM_IOCTL_ALLOC, &alloc"
	printf 'return 0;\n}\n'
} >"$work/device-example.c"
if grep -q CMAMEM_IOCTL_ALLOC "$work/device-example.c" &&
	$CC -Wall -Wextra -Werror -I"$ROOT/uapi" -o "$work/device-example" \
		"$work/device-example.c" 2>"$work/cc.log"; then
	report 0 "man/cmamem.4: the example compiles"
else
	cat "$work/cc.log" 2>/dev/null
	report 1 "man/cmamem.4: the example compiles"
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
