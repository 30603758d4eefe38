#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Host-side checks of cmamem's user space and packaging (no VM, no driver):
#
#   build    libcmamem (shared + static) and the command with -Werror for
#            gcc, aarch64 and armhf; SONAME, links, exported symbols; a
#            program linked against the shared library runs
#   cli      the command's argument errors: usage errors exit 2 with a
#            message, --help of every subcommand exits 0, a missing pool 1
#   python   the Python binding's uapi against the C compilers' layout and
#            ioctl numbers; the binding's driverless tests
#   install  make install DESTDIR=<tmp> (as nobody when run as root) with
#            the arm64-6.1 headers, the exact listing of what it installed,
#            then make uninstall
#   dkms     Debian's dkms: add/build/install/remove in temporary trees
#            against the amd64-6.1 headers, and a cross build for arm64-6.1
#   man      scripts/check-manpages.sh
#
# Usage: check-userspace.sh [SECTION...]   (default: all, in that order)
# Prints "ok - ..." / "not ok - ..." per check and "N passed, N failed";
# exits non-zero if anything failed. Fetches the two kernels' headers with
# scripts/fetch-kernel.sh (cached) and needs the packages of scripts/deps.sh.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

ALL_SECTIONS="build cli python install dkms man"
sections=${*:-$ALL_SECTIONS}
for section in $sections; do
	case " $ALL_SECTIONS " in
	*" $section "*) ;;
	*) echo "usage: $0 [SECTION...]; sections: $ALL_SECTIONS" >&2; exit 2 ;;
	esac
done

"$ROOT/scripts/deps.sh" || exit 1

work=$(mktemp -d "${TMPDIR:-/tmp}/cmamem-userspace.XXXXXX")
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
check() { # description command...: one check, its output shown on failure
	local description=$1 output status
	shift
	output=$("$@" 2>&1)
	status=$?
	if [ $status = 0 ]; then
		passed=$((passed + 1))
		echo "ok - $description"
	else
		failed=$((failed + 1))
		echo "not ok - $description"
		[ -n "$output" ] && echo "$output" | tail -n 40 | sed 's/^/#   /'
	fi
	return $status
}

# Expect COMMAND to exit with STATUS and print something matching REGEX
# (extended, on stdout+stderr).
expect() { # status regex command...
	local want=$1 regex=$2 output status
	shift 2
	output=$("$@" 2>&1)
	status=$?
	if [ "$status" != "$want" ]; then
		echo "exit status $status, expected $want; output:"
		echo "$output"
		return 1
	fi
	# Not "echo | grep -q": grep may exit at the first match, and echo's
	# next write then fails the pipeline (pipefail).
	if ! grep -Eq -- "$regex" <<<"$output"; then
		echo "output does not match /$regex/:"
		echo "$output"
		return 1
	fi
}

COMPILERS="gcc aarch64-linux-gnu-gcc arm-linux-gnueabihf-gcc"
# The library's version (userspace/Makefile): libcmamem.so.$LIBRARY_VERSION.
LIBRARY_VERSION=$(sed -n 's/^VERSION := //p' "$ROOT/userspace/Makefile")
LIBRARY=libcmamem.so.$LIBRARY_VERSION
# Debian's python3, which has python3-numpy (the binding imports numpy).
PYTHON=python3
[ -x /usr/bin/python3 ] && PYTHON=/usr/bin/python3
# No __pycache__ directories in the source tree.
export PYTHONDONTWRITEBYTECODE=1
host_build=$work/build/gcc

build_userspace() { # compiler
	make -s -C "$ROOT/userspace" CC="$1" OUTPUT="$work/build/$1" all
}

# ---- build -------------------------------------------------------------
section_build() {
	local cc out machine
	for cc in $COMPILERS; do
		out=$work/build/$cc
		check "build: libcmamem and cmamem with $cc, -Werror" build_userspace "$cc" || continue
		case $cc in
		gcc) machine="X86-64" ;;
		aarch64-*) machine="AArch64" ;;
		arm-*) machine="ARM" ;;
		esac
		check "build ($cc): $LIBRARY is a $machine shared object with SONAME libcmamem.so.1" \
			bash -c "readelf -h '$out/$LIBRARY' | grep -q 'Machine:.*$machine' &&
				 readelf -d '$out/$LIBRARY' | grep -q 'SONAME.*\[libcmamem.so.1\]'"
		check "build ($cc): libcmamem.so.1 -> $LIBRARY, libcmamem.so -> libcmamem.so.1" \
			bash -c "[ \"\$(readlink '$out/libcmamem.so.1')\" = $LIBRARY ] &&
				 [ \"\$(readlink '$out/libcmamem.so')\" = libcmamem.so.1 ]"
		check "build ($cc): the shared library exports exactly the header's functions, each with its version node of libcmamem.map" \
			exported_symbols_match "$out/$LIBRARY"
		check "build ($cc): libcmamem.a holds the library" \
			bash -c "${cc%gcc}nm --defined-only '$out/libcmamem.a' | grep -q ' T cmamem_alloc$'"
		check "build ($cc): cmamem is a static $machine program" \
			bash -c "readelf -h '$out/cmamem' | grep -q 'Machine:.*$machine' &&
				 ! readelf -l '$out/cmamem' | grep -q INTERP"
	done
	check "build: a program linked against libcmamem.so runs its checks" library_program
}

header_functions() {
	sed -e 's|/\*.*\*/||' "$ROOT/userspace/include/cmamem/libcmamem.h" |
		grep -oE '^[a-z][a-z _*]*\bcmamem_[a-z_]+\(' | grep -oE 'cmamem_[a-z_]+' | sort
}

# "function@@VERSION" for every function of the version script, in the
# node (CMAMEM_1.0 { ... }; CMAMEM_1.1 { ... } CMAMEM_1.0;) that lists it.
map_versions() {
	sed -e 's|/\*.*\*/||' "$ROOT/userspace/lib/libcmamem.map" |
		awk '/^[A-Z0-9_.]+ *\{/ { node = $1 }
		     /^\tcmamem_[a-z_]+;$/ { sub(/;$/, "", $1); print $1 "@@" node }' | sort
}

exported_symbols_match() { # library
	local exported wanted mapped
	exported=$(nm -D --defined-only "$1" | awk '$2 == "T" { print $3 }' | sort)
	mapped=$(map_versions)
	# Every function of the header is in the map, and nothing else is.
	if [ "$(echo "$mapped" | sed 's/@@.*//' | sort)" != "$(header_functions)" ]; then
		echo "libcmamem.map and libcmamem.h disagree on the functions:"
		diff <(header_functions) <(echo "$mapped" | sed 's/@@.*//' | sort)
		return 1
	fi
	wanted=$mapped
	if [ "$exported" != "$wanted" ]; then
		diff <(echo "$wanted") <(echo "$exported")
		return 1
	fi
}

library_program() {
	cat >"$work/library-test.c" <<'EOF'
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmamem/libcmamem.h>

static int failures;

#define CHECK(condition)						\
	do {								\
		if (!(condition)) {					\
			fprintf(stderr, "line %d: %s\n", __LINE__,	\
				#condition);				\
			failures++;					\
		}							\
	} while (0)

int main(void)
{
	static const char long_name[] = "0123456789abcdef0123456789abcdef";
	char path[CMAMEM_PATH_SIZE], small[8];
	struct cmamem_alloc block;
	struct cmamem_import import;
	void *address;
	int fd;

	CHECK(cmamem_pool_path(NULL, path, sizeof(path)) == 0 &&
	      !strcmp(path, "/dev/cmamem"));
	CHECK(cmamem_pool_path("default", path, sizeof(path)) == 0 &&
	      !strcmp(path, "/dev/cmamem"));
	CHECK(cmamem_pool_path("camera", path, sizeof(path)) == 0 &&
	      !strcmp(path, "/dev/cmamem-camera"));
	CHECK(cmamem_pool_path("/dev/other", path, sizeof(path)) == 0 &&
	      !strcmp(path, "/dev/other"));
	CHECK(cmamem_pool_path("a/b", path, sizeof(path)) == -EINVAL);
	CHECK(cmamem_pool_path("", path, sizeof(path)) == -EINVAL);
	CHECK(cmamem_pool_path(long_name, path, sizeof(path)) == -EINVAL);
	CHECK(cmamem_pool_path("camera", small, sizeof(small)) == -ENAMETOOLONG);

	CHECK(cmamem_check_name("frame0") == 0);
	CHECK(cmamem_check_name(long_name + 1) == 0);
	CHECK(cmamem_check_name(long_name) == -EINVAL);
	CHECK(cmamem_check_name("") == -EINVAL);
	CHECK(cmamem_check_name("two words") == -EINVAL);
	CHECK(cmamem_check_name("del\x7f") == -EINVAL);

	CHECK(cmamem_parse_mode("coherent") == CMAMEM_MODE_COHERENT);
	CHECK(cmamem_parse_mode("wc") == CMAMEM_MODE_WRITECOMBINE);
	CHECK(cmamem_parse_mode("writecombine") == CMAMEM_MODE_WRITECOMBINE);
	CHECK(cmamem_parse_mode("cached") == CMAMEM_MODE_CACHED);
	CHECK(cmamem_parse_mode("uncached") == -EINVAL);
	CHECK(!strcmp(cmamem_mode_name(CMAMEM_MODE_CACHED), "cached"));
	CHECK(!strcmp(cmamem_mode_name(0), "unknown"));

	CHECK(strstr(cmamem_strerror(-EFBIG), "max_block_size") != NULL);
	CHECK(cmamem_strerror(EFBIG) == cmamem_strerror(-EFBIG));
	CHECK(strstr(cmamem_strerror(-EEXIST), "already have a block of that name") != NULL);
	CHECK(cmamem_strerror(-EHWPOISON) != NULL);
	CHECK(cmamem_strerror(-100000) != NULL);

	CHECK(cmamem_open("no-such-pool-here", O_RDWR) == -ENOENT);
	CHECK(cmamem_open("a/b", O_RDWR) == -EINVAL);
	CHECK(cmamem_pool_list(NULL, 0) >= 0);

	/* Refused before any ioctl, or by the kernel for a non-cmamem fd. */
	CHECK(cmamem_alloc(-1, long_name, 4096, CMAMEM_MODE_COHERENT, 0, 0,
			   &block) == -EINVAL);
	CHECK(cmamem_alloc(-1, "x", 4096, CMAMEM_MODE_COHERENT, 0, 0,
			   &block) == -EBADF);
	CHECK(cmamem_free(-1, 1) == -EBADF);
	fd = open("/dev/null", O_RDWR);
	CHECK(fd >= 0 && cmamem_sync(fd, 1, CMAMEM_SYNC_FOR_CPU, 0, 1) == -ENOTTY);
	CHECK(cmamem_map(fd, 0, 1, 4096, PROT_READ, &address) == -EINVAL);
	CHECK(cmamem_map(fd, 0, 0, 0, PROT_READ, &address) == -EINVAL);
	CHECK(cmamem_export(fd, 1, O_RDWR | O_CLOEXEC) == -ENOTTY);
	CHECK(cmamem_import(fd, fd, &import) == -ENOTTY);
	close(fd);
	CHECK(cmamem_export(-1, 1, O_RDWR) == -EBADF);
	CHECK(cmamem_import(-1, 0, &import) == -EBADF);
	CHECK(strstr(cmamem_strerror(-EBADF), "dma-buf") != NULL);
	CHECK(strstr(cmamem_strerror(-EOPNOTSUPP), "dma-bufs") != NULL);

	CHECK(cmamem_alloc_below(-1, long_name, 4096, CMAMEM_MODE_COHERENT, 0,
				 0, 0xffffffff, &block) == -EINVAL);
	CHECK(cmamem_alloc_below(-1, "x", 4096, CMAMEM_MODE_COHERENT, 0, 0,
				 0xffffffff, &block) == -EBADF);
	CHECK(strstr(cmamem_strerror(-ERANGE), "below the DMA address limit") != NULL);
	CHECK(strstr(cmamem_strerror(-ERANGE), "dma-buf") != NULL);
	CHECK(strstr(cmamem_strerror(-EADDRNOTAVAIL), "only above the DMA address limit") != NULL);
	CHECK(strstr(cmamem_strerror(-EPERM), "may not see addresses") != NULL);

	if (failures)
		fprintf(stderr, "%d checks failed\n", failures);
	return failures ? 1 : 0;
}
EOF
	gcc -Wall -Wextra -Werror -I"$ROOT/userspace/include" -I"$ROOT/uapi" \
		-o "$work/library-test" "$work/library-test.c" \
		-L"$host_build" -lcmamem -Wl,-rpath,"$host_build" || return 1
	readelf -d "$work/library-test" | grep -q 'NEEDED.*\[libcmamem.so.1\]' || {
		echo "the program does not need libcmamem.so.1"
		return 1
	}
	"$work/library-test"
}

# Run a command with a private /dev holding two character devices named as
# pools that are not cmamem's (/dev/null's numbers: every ioctl fails), the
# second root-only: what "pools" meets when it cannot read a pool. Needs
# root for the mount namespace.
with_fake_pools() { # command...
	unshare -m sh -c 'mount -t tmpfs none /dev && mknod /dev/cmamem c 1 3 &&
		mknod -m 600 /dev/cmamem-camera c 1 3 && chmod 666 /dev/cmamem &&
		exec "$@"' sh "$@"
}

# pools with no readable pool: the errors, and no table on stdout.
pools_unreadable() { # command
	local out=$work/pools.out err=$work/pools.err
	with_fake_pools "$1" pools >"$out" 2>"$err"
	[ $? = 1 ] && [ ! -s "$out" ] && grep -q 'POOL_INFO of /dev/cmamem' "$err" || {
		echo "stdout:"; cat "$out"; echo "stderr:"; cat "$err"
		return 1
	}
}

# pools --json lists the unreadable pools with their errors, as JSON.
pools_unreadable_json() { # command
	with_fake_pools "$1" pools --json >"$work/pools.json" 2>/dev/null
	[ $? = 1 ] || return 1
	"$PYTHON" - "$work/pools.json" <<'EOF'
import json, sys
pools = json.load(open(sys.argv[1]))
assert [pool["name"] for pool in pools] == ["default", "camera"], pools
assert all(pool["error"] for pool in pools), pools
EOF
}

# A pool device (a file here: the command takes a device path) that only
# root may open, opened by nobody (or by us, when we are not root).
pool_without_permission() { # command
	local as_nobody=
	touch "$work/root-only-pool"
	chmod 600 "$work/root-only-pool"
	if [ "$(id -u)" = 0 ]; then
		as_nobody="setpriv --reuid=65534 --regid=65534 --clear-groups"
	else
		chmod 000 "$work/root-only-pool"
	fi
	expect 1 'no permission to open .*root-only-pool[:,] .*(udev rule 60-cmamem.rules.*group cmamem|group cmamem.*udev rule 60-cmamem.rules)' \
		$as_nobody "$1" info frame0 --pool "$work/root-only-pool"
}

# The wait of --hold (userspace/tools-hold.c) in a program of its own: the
# command reaches it only after the driver allocated a block.
build_hold_program() {
	cat >"$work/hold-test.c" <<'EOF'
#include <stdio.h>
#include "tools-common.h"

int main(void)
{
	int err = hold_until_told(stdout);

	printf("released %d\n", err);
	return err ? 1 : 0;
}
EOF
	gcc -Wall -Wextra -Werror -I"$ROOT/userspace" -I"$ROOT/userspace/include" \
		-I"$ROOT/uapi" -o "$work/hold-test" "$work/hold-test.c" \
		"$host_build/tools-hold.o" "$host_build/tools-common.o" \
		"$host_build/libcmamem.a"
}

# Run the hold program as a job of a shell on a pseudo-terminal, as
# "cmamem alloc ... --hold &" runs from an interactive shell, and let go
# of it the way SCENARIO says:
#   background  typing at the shell's prompt must not stop it (it may not
#               read the terminal), and SIGTERM ends it
#   stopped     stopped (Ctrl-Z) and sent SIGTERM, it ends once continued
#   foreground  as the foreground job, Ctrl-D (end of input) ends it
hold_job() { # program scenario
	"$PYTHON" - "$@" <<'EOF'
import os, pty, re, select, signal, sys, time

program, scenario = sys.argv[1:3]


def state(pid):
    with open("/proc/%d/stat" % pid) as stat:
        return stat.read().rsplit(")", 1)[1].split()[0]


pid, master = pty.fork()
if pid == 0:
    # The shell: session leader, the terminal's foreground job.
    job = os.fork()
    if job == 0:
        os.setpgid(0, 0)
        if scenario == "foreground":
            # Before the exec, so that the job never sees itself behind.
            signal.signal(signal.SIGTTOU, signal.SIG_IGN)
            os.tcsetpgrp(0, os.getpid())
            signal.signal(signal.SIGTTOU, signal.SIG_DFL)
        os.execv(program, [program])
    os.setpgid(job, job)
    print("job %d" % job, flush=True)
    _, status = os.waitpid(job, 0)
    print("job status %d" % status, flush=True)
    os._exit(0)

text = ""


def read_until(pattern, seconds=5):
    global text
    deadline = time.time() + seconds
    while not re.search(pattern, text) and time.time() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                text += os.read(master, 4096).decode(errors="replace")
            except OSError:
                break
    if not re.search(pattern, text):
        sys.exit("no /%s/ within %d s; the terminal showed:\n%s" % (pattern, seconds, text))


read_until(r"job \d+")
read_until(r"waiting for")
job = int(re.search(r"job (\d+)", text).group(1))
if scenario == "background":
    os.write(master, b"ls\n")
    time.sleep(1)
    seen = state(job)
    if seen in "Tt":
        os.kill(job, signal.SIGKILL)
        sys.exit("the held job stopped on terminal input (state %s):\n%s" % (seen, text))
    os.kill(job, signal.SIGTERM)
elif scenario == "stopped":
    os.kill(job, signal.SIGTSTP)
    while state(job) not in "Tt":
        time.sleep(0.05)
    os.kill(job, signal.SIGTERM)
    time.sleep(0.2)
    os.kill(job, signal.SIGCONT)
else:
    os.write(master, b"\x04")
read_until(r"job status \d+")
expected = [r"released 0", r"job status 0"]
if scenario != "foreground":
    expected.append(r"got Terminated")
for pattern in expected:
    if not re.search(pattern, text):
        sys.exit("no /%s/; the terminal showed:\n%s" % (pattern, text))
EOF
}

# Every JSON document the command prints, from its printing functions fed
# with results the driver could give (unknown sizes, withheld addresses,
# unreadable pools, unnamed blocks, odd names), since the driver is not
# here. The program includes the subcommands' files to reach their static
# printers. Then a JSON parser reads each document and checks the shared
# vocabulary.
json_documents() {
	cat >"$work/json-test.c" <<'EOF'
#include "cmd-pools.c"
#include "cmd-block.c"
#include "cmd-dmabuf.c"

static void next(const char *subcommand)
{
	fflush(stdout);
	printf("--- %s\n", subcommand);
}

int main(void)
{
	struct pool_report pools[3] = {
		{ .name = "default", .device = "/dev/cmamem", .info = {
			.pool_flags = CMAMEM_POOL_DEFAULT | CMAMEM_POOL_CMA |
				      CMAMEM_POOL_CACHED,
			.free_bytes = 1 << 20, .page_size = 4096,
			.name = "default" } },
		{ .name = "camera", .device = "/dev/cmamem-camera", .info = {
			.pool_flags = CMAMEM_POOL_CMA | CMAMEM_POOL_TOTAL_KNOWN,
			.total_bytes = 32 << 20, .max_block_bytes = 8 << 20,
			.page_size = 4096, .name = "camera" } },
		{ .name = "fpga", .device = "/dev/cmamem-fpga", .error = -EACCES },
	};
	struct debugfs_block blocks[2] = {
		{ .pool = "camera", .name = "a\"b\\c", .length = 4096,
		  .mode = "cached", .handles = 1, .uid = 1000, .pid = 42,
		  .comm = "cmamem", .dma_address = 0x48000000 },
		{ .pool = "camera", .name = "-", .length = 8192,
		  .mode = "coherent", .mappings = 1, .pid = -1, .comm = "-" },
	};
	struct block_list list = { .blocks = blocks, .count = 2 };
	struct block_list empty = { 0 };
	struct cmamem_block_info info = {
		.name = "frame0", .pool = "camera", .length = 4096,
		.alignment = 4096, .handles = 2, .owner_uid = 1000,
		.out_flags = CMAMEM_ADDRESS_WITHHELD,
	};
	struct block_report block = {
		.origin = BLOCK_ALLOCATED, .name = "frame0", .pool = "camera",
		.handle = 1, .length = 4096, .dma_address = 0x48000000,
	};
	struct free_report freed = { .name = "frame0", .pool = "camera" };
	struct free_report held = { .name = "frame0", .pool = "camera",
				    .other_handles = 1, .mappings = 2 };
	struct export_report exported = {
		.info = info, .withheld = true, .dmabuf = { .fd = 4,
			.size = 4096, .inode = 77, .exporter = "cmamem" },
		.contents_equal = true, .imported = true,
		.import = { .handle = 3, .length = 4096 },
		.import_agrees = true,
	};
	struct export_report differing = {
		.info = info, .dmabuf = { .fd = 4, .size = 4096 },
		.difference = 12,
	};
	struct import_report imported = {
		.pool = "fpga", .dmabuf = { .fd = 3, .size = 4096 },
		.import = { .handle = 1, .length = 4096,
			    .dma_address = 0x50000000 },
	};

	next("pools");
	print_pools(pools, 3, true);
	next("list");
	print_block_list(&list, true);
	next("list");
	print_block_list(&empty, true);
	next("alloc");
	print_block_report(&block, true);
	block.origin = BLOCK_ATTACHED;
	block.withheld = true;
	next("attach");
	print_block_report(&block, true);
	block = BLOCK_REPORT(info, BLOCK_DESCRIBED, info.name, info.pool);
	block.info = &info;
	next("info");
	print_block_report(&block, true);
	next("free");
	print_free_report(&freed, true);
	next("free");
	print_free_report(&held, true);
	next("export");
	print_export_report(&exported, true);
	next("export");
	print_export_report(&differing, true);
	next("import");
	print_import_report(&imported, true);
	return 0;
}
EOF
	gcc -O2 -Wall -Wextra -Werror -Wno-unused-function -I"$ROOT/userspace" \
		-I"$ROOT/userspace/include" -I"$ROOT/uapi" \
		-o "$work/json-test" "$work/json-test.c" \
		"$host_build/tools-common.o" "$host_build/tools-hold.o" \
		"$host_build/libcmamem.a" || return 1
	"$work/json-test" 2>/dev/null >"$work/json-documents" || return 1
	"$PYTHON" - "$work/json-documents" "$ROOT/man/cmamem.1" <<'EOF'
import json, re, sys

text = open(sys.argv[1]).read()
# cmamem(1)'s JSON OUTPUT: a ".TP" entry per subcommand, naming its members.
page = open(sys.argv[2]).read().replace("\\-", "-")
section = page.split(".SH JSON OUTPUT\n", 1)[1].split("\n.SH ", 1)[0]
schemas = {}
for entry in section.split("\n.TP\n")[1:]:
    tag, body = entry.split("\n", 1)
    for subcommand in re.findall(r"[a-z]+", tag):
        if subcommand not in ("B", "BR"):
            schemas[subcommand] = set(re.findall(r"[a-z_]+", body))
parts = re.split(r"^--- (\w+)\n", text, flags=re.M)[1:]
documents = list(zip(parts[0::2], parts[1::2]))
failures = []
for subcommand, document in documents:
    try:
        value = json.loads(document)
    except ValueError as error:
        failures.append("%s: not JSON (%s):\n%s" % (subcommand, error, document))
        continue
    objects = value if isinstance(value, list) else [value]
    for item in objects:
        undocumented = set(item) - schemas.get(subcommand, set())
        if undocumented:
            failures.append("%s: members %s are not in cmamem(1), JSON OUTPUT"
                            % (subcommand, ", ".join(sorted(undocumented))))
        if "uid" in item:
            failures.append("%s: 'uid' where the vocabulary says 'owner_uid'" % subcommand)
        if subcommand in ("alloc", "attach", "info", "export") and item.get("address_withheld"):
            for key in ("dma_address", "physical_address", "import_dma_address"):
                if item.get(key) is not None:
                    failures.append("%s: withheld %s is not null" % (subcommand, key))
        if subcommand == "pools" and "error" not in item:
            limit = item["max_block_bytes"]
            if limit is not None and limit <= 0:
                failures.append("pools: max_block_bytes %r, not null, for no limit" % limit)
        if subcommand == "list" and item["name"] == "-":
            failures.append("list: an unnamed block's name is '-', not null")
names = [subcommand for subcommand, _ in documents]
for wanted in ("pools", "list", "alloc", "attach", "info", "free", "export", "import"):
    if wanted not in names:
        failures.append("no %s document" % wanted)
print("\n".join(failures))
sys.exit(1 if failures else 0)
EOF
}

# ---- cli ---------------------------------------------------------------
section_cli() {
	local command=$host_build/cmamem subcommand subcommands
	[ -x "$command" ] || check "cli: build the host command" build_userspace gcc || return
	check "cli: no arguments: usage on stderr, exit 2" \
		expect 2 '^usage: cmamem COMMAND' "$command"
	check "cli: an unknown command exits 2 and names it" \
		expect 2 "unknown command 'frobnicate'" "$command" frobnicate
	check "cli: --help exits 0 and lists the commands" \
		expect 0 'Commands:' "$command" --help
	check "cli: help COMMAND prints its usage" \
		expect 0 '^usage: cmamem alloc' "$command" help alloc
	subcommands=$("$command" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z]*\) .*/\1/p')
	check "cli: --help lists subcommands ($(echo $subcommands))" test -n "$subcommands"
	for subcommand in $subcommands; do
		check "cli: $subcommand --help exits 0 with its usage" \
			expect 0 "^usage: cmamem $subcommand" "$command" "$subcommand" --help
		check "cli: $subcommand -h exits 0" \
			expect 0 "^usage: cmamem $subcommand" "$command" "$subcommand" -h
		check "cli: $subcommand with an unknown option exits 2" \
			expect 2 "unrecognized option|--help" "$command" "$subcommand" --no-such-option
	done
	check "cli: alloc without SIZE exits 2" \
		expect 2 'needs NAME and SIZE' "$command" alloc frame0
	check "cli: alloc SIZE 0 exits 2 and says it is zero" \
		expect 2 "bad SIZE '0': zero" "$command" alloc frame0 0
	check "cli: alloc SIZE 12Q exits 2 and names the suffix as the fault" \
		expect 2 "bad SIZE '12Q': unknown suffix" "$command" alloc frame0 12Q
	check "cli: alloc SIZE -4K after '--' exits 2 and says negative" \
		expect 2 "bad SIZE '-4K': negative" "$command" alloc frame0 -- -4K
	check "cli: alloc SIZE -1 exits 2 and says negative, not 'invalid option'" \
		expect 2 "bad SIZE '-1': negative" "$command" alloc frame0 -1
	check "cli: alloc SIZE -4K before an option exits 2 and says negative" \
		expect 2 "bad SIZE '-4K': negative" "$command" alloc frame0 -4K --hold
	check "cli: alloc SIZE that overflows exits 2 and says so" \
		expect 2 "bad SIZE '99999999999T': too large" "$command" alloc frame0 99999999999T
	check "cli: alloc 4 K exits 2 and names the extra argument" \
		expect 2 "unexpected argument 'K'" "$command" alloc frame0 4 K
	check "cli: an option without its argument exits 2 and names it" \
		expect 2 "option '--pool' needs an argument" "$command" alloc frame0 4K --pool
	check "cli: a flag given an argument exits 2 and says so" \
		expect 2 "option '--hold' takes no argument" "$command" alloc frame0 4K --hold=yes
	check "cli: a negative number where no number goes is an unknown option" \
		expect 2 "unknown option '-1'" "$command" info -1
	check "cli: alloc with an unknown mode exits 2" \
		expect 2 "unknown mode 'uncached'" "$command" alloc frame0 4K --mode uncached
	check "cli: alloc with a non-power-of-two alignment exits 2" \
		expect 2 "alignment '3000' is not a power of two" "$command" alloc frame0 4K --align 3000
	check "cli: alloc with an alignment below the page size exits 2 and says so" \
		expect 2 "alignment '1K' is below the page size" "$command" alloc frame0 4K --align 1K
	check "cli: alloc with alignment 0 exits 2" \
		expect 2 "alignment '0' is below the page size" "$command" alloc frame0 4K --align 0
	check "cli: alloc with an alignment that is no size exits 2 and says why" \
		expect 2 "bad alignment 'x': not a number" "$command" alloc frame0 4K --align x
	check "cli: alloc --max-address 0 exits 2: leaving it out is no limit" \
		expect 2 "bad address '0': leave --max-address out" "$command" alloc frame0 4K --max-address 0
	check "cli: alloc --max-address with a size suffix exits 2: an address is no size" \
		expect 2 "bad address '4G': not a number" "$command" alloc frame0 4K --max-address 4G
	check "cli: alloc --max-address past 64 bits exits 2 and says so" \
		expect 2 "bad address '0x10000000000000000': too large for 64 bits" \
		"$command" alloc frame0 4K --max-address 0x10000000000000000
	check "cli: alloc --address-bits 65 exits 2 and gives the range" \
		expect 2 "bad address width '65': a number of bits from 1 to 64" \
		"$command" alloc frame0 4K --address-bits 65
	check "cli: alloc with both --max-address and --address-bits exits 2" \
		expect 2 "give --max-address or --address-bits once, not both" \
		"$command" alloc frame0 4K --address-bits 32 --max-address 0xffffffff
	check "cli: alloc with a name with a space exits 2" \
		expect 2 "bad block name 'two words': no spaces" "$command" alloc 'two words' 4K
	check "cli: alloc with a 32-character name exits 2 and gives the limit" \
		expect 2 "bad block name '0123456789abcdef0123456789abcdef': 32 characters, at most 31" \
		"$command" alloc 0123456789abcdef0123456789abcdef 4K
	check "cli: alloc with a non-ASCII name exits 2: printable ASCII only" \
		expect 2 "bad block name .*: printable ASCII only" "$command" alloc "$(printf 'caf\303\251')" 4K
	check "cli: alloc with a control character in the name exits 2 and says so" \
		expect 2 "no control characters" "$command" alloc "$(printf 'a\tb')" 4K
	check "cli: alloc with a pool name holding '/' exits 2" \
		expect 2 "bad pool name 'a/b'" "$command" alloc frame0 4K --pool a/b
	check "cli: a pool this user may not open says to join group cmamem" \
		pool_without_permission "$command"
	if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
		check "cli: pools prints no table when it can read no pool" \
			pools_unreadable "$command"
		check "cli: pools --json lists unreadable pools with their errors, as JSON" \
			pools_unreadable_json "$command"
		check "cli: pools says to join group cmamem for a pool only root may open" \
			expect 1 'no permission to open /dev/cmamem-camera.*group cmamem' \
			with_fake_pools setpriv --reuid=65534 --regid=65534 --clear-groups \
			"$command" pools
	else
		echo "# cli: the checks of pools in a private /dev need root (skipped)"
	fi
	check "cli: alloc in a pool that does not exist exits 1 and says why" \
		expect 1 'no pool "no-such-pool".*does not exist' "$command" alloc frame0 4K --pool no-such-pool
	check "cli: attach needs exactly one NAME" \
		expect 2 'needs exactly one NAME' "$command" attach
	check "cli: attach --owner takes a numeric uid, not -1" \
		expect 2 "bad owner '-1'" "$command" attach frame0 --owner -1
	check "cli: info with two names exits 2 and names the extra one" \
		expect 2 "unexpected argument 'b'" "$command" info a b
	check "cli: free with a bad name exits 2" \
		expect 2 "bad block name" "$command" free 'x y'
	check "cli: fill with a bad pattern exits 2" \
		expect 2 "bad PATTERN 'zz'" "$command" fill frame0 zz
	check "cli: fill without a pattern exits 2" \
		expect 2 'needs NAME and PATTERN' "$command" fill frame0
	check "cli: dump with a bad offset exits 2" \
		expect 2 "bad offset 'abc'" "$command" dump frame0 --offset abc
	check "cli: dump with a zero length exits 2" \
		expect 2 "bad length '0'" "$command" dump frame0 --length 0
	check "cli: pools with an extra argument exits 2" \
		expect 2 "unexpected argument 'extra'" "$command" pools extra
	check "cli: list with a bad pool name exits 2" \
		expect 2 "bad pool name" "$command" list --pool a/b
	check "cli: export without a NAME exits 2" \
		expect 2 'needs exactly one NAME' "$command" export
	check "cli: export with two names exits 2 and names the extra one" \
		expect 2 "unexpected argument 'b'" "$command" export a b
	check "cli: export with a bad name exits 2" \
		expect 2 "bad block name 'x y'" "$command" export 'x y'
	check "cli: export with nothing after '--' exits 2" \
		expect 2 "no COMMAND after '--'" "$command" export frame0 --
	check "cli: export --hold with a COMMAND exits 2" \
		expect 2 "--hold and a COMMAND" "$command" export frame0 --hold -- true
	check "cli: export leaves the options after '--' to the COMMAND" \
		expect 1 'no pool "no-such-pool"' "$command" export frame0 --pool no-such-pool -- cat --no-such-option
	check "cli: export with a pool name holding '/' exits 2" \
		expect 2 "bad pool name 'a/b'" "$command" export frame0 --pool a/b
	check "cli: export from a pool that does not exist exits 1 and says why" \
		expect 1 'no pool "no-such-pool".*does not exist' "$command" export frame0 --pool no-such-pool
	check "cli: import without --fd exits 2" \
		expect 2 'needs --fd N' "$command" import
	check "cli: import with a --fd that is no number exits 2" \
		expect 2 "bad file descriptor 'x'" "$command" import --fd x
	check "cli: import with a negative --fd exits 2" \
		expect 2 "bad file descriptor '-1'" "$command" import --fd -1
	check "cli: import with a --fd that overflows exits 2" \
		expect 2 "bad file descriptor" "$command" import --fd 99999999999
	check "cli: import with an extra argument exits 2" \
		expect 2 "unexpected argument 'extra'" "$command" import --fd 0 extra
	check "cli: import with a bad pool name exits 2, even for a closed --fd" \
		expect 2 "bad pool name 'a/b'" "$command" import --fd 57 --pool a/b
	check "cli: import of a descriptor that is not open exits 1 and says why" \
		expect 1 'file descriptor 57 is not open' "$command" import --fd 57
	check "cli: import into a pool that does not exist exits 1" \
		expect 1 'no pool "no-such-pool"' "$command" import --fd 0 --pool no-such-pool </dev/null
	check "cli: the JSON of pools, list, alloc, attach, info, free, export and import parses, with one vocabulary" \
		json_documents
	if check "cli: build the --hold wait into a test program" build_hold_program; then
		for scenario in background stopped foreground; do
			check "cli: --hold as a $scenario job of an interactive shell lets go when told" \
				hold_job "$work/hold-test" $scenario
		done
	fi
}

# ---- python ------------------------------------------------------------
python_layout_asserts() { # file: C static assertions from cmamem.uapi
	PYTHONPATH="$ROOT/userspace/python" "$PYTHON" - >"$1" <<'EOF'
import ctypes
from cmamem import dmabuf, uapi

print("#include <stddef.h>\n#include <linux/cmamem.h>\n#include <linux/dma-buf.h>\n")
for name, fields in uapi.FIELDS.items():
    size = ctypes.sizeof(uapi.STRUCTURES[name])
    print('_Static_assert(sizeof(struct %s) == %d, "sizeof(struct %s)");' % (name, size, name))
    for field, ctype, offset in fields:
        print('_Static_assert(offsetof(struct %s, %s) == %d, "offset of %s.%s");'
              % (name, field, offset, name, field))
        print('_Static_assert(sizeof(((struct %s *)0)->%s) == %d, "size of %s.%s");'
              % (name, field, ctypes.sizeof(ctype), name, field))
for name in sorted(dir(uapi)):
    if name.startswith("CMAMEM_"):
        print('_Static_assert(%s == %d, "%s");' % (name, getattr(uapi, name), name))
for name in sorted(dir(dmabuf)):
    if name.startswith("DMA_BUF_"):
        print('_Static_assert(%s == %d, "%s");' % (name, getattr(dmabuf, name), name))
EOF
}

section_python() {
	local cc
	check "python: cmamem.uapi imports and describes every struct" \
		python_layout_asserts "$work/layout.c"
	for cc in $COMPILERS; do
		check "python: $cc agrees with cmamem.uapi (and cmamem.dmabuf's DMA_BUF_*) on every size, offset, constant and ioctl number" \
			"$cc" -std=c11 -Wall -Werror -I"$ROOT/uapi" -c -o "$work/layout-$cc.o" "$work/layout.c"
	done
	check "python: test_uapi.py (the binding against the header text)" \
		"$PYTHON" "$ROOT/userspace/python/tests/test_uapi.py"
	check "python: test_arguments.py (what allocate() and attach() refuse before any system call)" \
		"$PYTHON" "$ROOT/userspace/python/tests/test_arguments.py"
	check "python: every module of the binding and its tests compiles" \
		"$PYTHON" -c "
import pathlib
for path in pathlib.Path('$ROOT/userspace/python').rglob('*.py'):
    compile(path.read_text(), str(path), 'exec')
"
}

# ---- install -----------------------------------------------------------
as_builder() { # run as nobody when we are root, to prove no root is needed
	if [ "$(id -u)" = 0 ]; then
		setpriv --reuid=65534 --regid=65534 --clear-groups \
			env HOME="$work" PATH="$PATH" "$@"
	else
		"$@"
	fi
}

expected_listing() { # release python-version: what make install must leave
	local release=$1 python=$2 function
	cat <<EOF
lib/modules/$release/updates/cmamem.ko
lib/udev/rules.d/60-cmamem.rules
usr/lib/sysusers.d/cmamem.conf
usr/local/bin/cmamem
usr/local/include/cmamem/libcmamem.h
usr/local/include/linux/cmamem.h
usr/local/lib/libcmamem.a
usr/local/lib/libcmamem.so -> libcmamem.so.1
usr/local/lib/libcmamem.so.1 -> $LIBRARY
usr/local/lib/$LIBRARY
usr/local/lib/pkgconfig/cmamem.pc
usr/local/lib/python$python/dist-packages/cmamem/__init__.py
usr/local/lib/python$python/dist-packages/cmamem/_errors.py
usr/local/lib/python$python/dist-packages/cmamem/_lifetime.py
usr/local/lib/python$python/dist-packages/cmamem/_mapping.py
usr/local/lib/python$python/dist-packages/cmamem/buffer.py
usr/local/lib/python$python/dist-packages/cmamem/dmabuf.py
usr/local/lib/python$python/dist-packages/cmamem/pool.py
usr/local/lib/python$python/dist-packages/cmamem/uapi.py
usr/local/share/doc/cmamem/README.md
usr/local/share/doc/cmamem/devicetree.md
usr/local/share/doc/cmamem/examples/devicetree/cmamem,pool.yaml
usr/local/share/doc/cmamem/examples/devicetree/qemu-virt-arm32-cmamem.dtso
usr/local/share/doc/cmamem/examples/devicetree/qemu-virt-cmamem.dtso
usr/local/share/doc/cmamem/examples/modprobe.d/cmamem.conf
usr/local/share/doc/cmamem/userspace.md
usr/local/share/man/man1/cmamem.1
usr/local/share/man/man3/libcmamem.3
usr/local/share/man/man4/cmamem.4
EOF
	for function in $(header_functions); do
		echo "usr/local/share/man/man3/$function.3"
	done
}

installed_listing() { # root: files and links, links with their targets
	(cd "$1" && find . \( -type f -printf '%P\n' \) -o \( -type l -printf '%P -> %l\n' \) |
		sort)
}

uninstall_leaves_nothing() { # tree root
	local left
	as_builder make -C "$1" uninstall DESTDIR="$2" KDIR="$KDIR" ARCH=arm64 \
		CROSS_COMPILE=aarch64-linux-gnu- PYTHON="$PYTHON" || return 1
	left=$(find "$2" -type f -o -type l)
	[ -z "$left" ] || { echo "left behind:"; echo "$left"; return 1; }
}

section_install() {
	local tree=$work/install-tree root=$work/install-root python
	"$ROOT/scripts/fetch-kernel.sh" arm64-6.1 >&2 || { check "install: fetch the arm64-6.1 headers" false; return; }
	# shellcheck disable=SC1091
	. "$(kernel_dir arm64-6.1)/env"
	mkdir -p "$tree"
	# A copy without build outputs, so the module builds outside src/.
	tar -C "$ROOT" --exclude=./build --exclude=./.git -cf - . | tar -C "$tree" -xf -
	chown -R 65534:65534 "$tree" 2>/dev/null
	mkdir -p "$root" && chown 65534:65534 "$root" 2>/dev/null
	python=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
	check "install: make install DESTDIR=... KDIR=<arm64-6.1 headers> ARCH=arm64, without root" \
		as_builder make -C "$tree" install DESTDIR="$root" KDIR="$KDIR" ARCH=arm64 \
			CROSS_COMPILE=aarch64-linux-gnu- PYTHON="$PYTHON" || return
	check "install: installed exactly the expected files" \
		diff -u <(expected_listing "$RELEASE" "$python" | sort) <(installed_listing "$root")
	check "install: the module is for arm64 and kernel $RELEASE" \
		bash -c "readelf -h '$root/lib/modules/$RELEASE/updates/cmamem.ko' | grep -q 'Machine:.*AArch64' &&
			 modinfo -F vermagic '$root/lib/modules/$RELEASE/updates/cmamem.ko' | grep -q '^$RELEASE '"
	check "install: the command and the library are arm64 builds" \
		bash -c "readelf -h '$root/usr/local/bin/cmamem' | grep -q 'Machine:.*AArch64' &&
			 readelf -h '$root/usr/local/lib/$LIBRARY' | grep -q 'Machine:.*AArch64' &&
			 readelf -d '$root/usr/local/lib/$LIBRARY' | grep -q 'SONAME.*libcmamem.so.1'"
	check "install: the uapi header is the tree's" \
		cmp "$ROOT/uapi/linux/cmamem.h" "$root/usr/local/include/linux/cmamem.h"
	check "install: cmamem.pc names /usr/local" \
		bash -c "grep -qx 'prefix=/usr/local' '$root/usr/local/lib/pkgconfig/cmamem.pc' &&
			 PKG_CONFIG_PATH='$root/usr/local/lib/pkgconfig' pkg-config --variable=libdir cmamem | grep -qx /usr/local/lib &&
			 PKG_CONFIG_PATH='$root/usr/local/lib/pkgconfig' pkg-config --modversion cmamem | grep -qx '$LIBRARY_VERSION'"
	check "install: a program builds against the staged tree with pkg-config and needs libcmamem.so.1" \
		pkgconfig_program "$root"
	check "install: man3 links include libcmamem.3" \
		grep -qx '.so man3/libcmamem.3' "$root/usr/local/share/man/man3/cmamem_alloc.3"
	check "install: the installed Python package imports" \
		env PYTHONPATH="$root/usr/local/lib/python$python/dist-packages" \
			"$PYTHON" -c 'import cmamem; assert cmamem.uapi.CMAMEM_IOCTL_ALLOC; assert cmamem.__file__.startswith("'"$root"'")'
	check "install: the udev rule gives every cmamem node to group cmamem, mode 0660" \
		bash -c "for node in cmamem 'cmamem-\\*' cma_mem; do
				grep -q \"KERNEL==\\\"\$node\\\", GROUP=\\\"cmamem\\\", MODE=\\\"0660\\\"\" '$root/lib/udev/rules.d/60-cmamem.rules' || exit 1
			 done"
	check "install: make uninstall removes every file" uninstall_leaves_nothing "$tree" "$root"
}

pkgconfig_program() { # staged root
	local root=$1 flags
	cat >"$work/pc-test.c" <<'EOF'
#include <errno.h>
#include <stdio.h>
#include <cmamem/libcmamem.h>

int main(void)
{
	puts(cmamem_strerror(-EFBIG));
	return cmamem_parse_mode("cached") == CMAMEM_MODE_CACHED ? 0 : 1;
}
EOF
	flags=$(PKG_CONFIG_PATH="$root/usr/local/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$root" \
		pkg-config --cflags --libs cmamem) || return 1
	echo "pkg-config: $flags"
	aarch64-linux-gnu-gcc -Wall -Werror -o "$work/pc-test" "$work/pc-test.c" $flags || return 1
	readelf -d "$work/pc-test" | grep -q 'NEEDED.*\[libcmamem.so.1\]'
}

# ---- dkms --------------------------------------------------------------
dkms_trees() { # directory: DKMS's source, dkms and install trees there
	mkdir -p "$1/source" "$1/dkms" "$1/install" || return 1
	"$ROOT/packaging/dkms-source.sh" "$1/source" >/dev/null
}

section_dkms() {
	local native=$work/dkms-amd64 cross=$work/dkms-arm64 version module
	command -v dkms >/dev/null || { check "dkms: dkms is installed (scripts/deps.sh)" false; return; }
	version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$ROOT/dkms.conf")
	# No signing: DKMS would otherwise make a MOK key in /var/lib/dkms.
	export sign_file=/nonexistent

	"$ROOT/scripts/fetch-kernel.sh" amd64-6.1 >&2 || { check "dkms: fetch the amd64-6.1 headers" false; return; }
	. "$(kernel_dir amd64-6.1)/env"
	DKMS_TREES="--sourcetree $native/source --dkmstree $native/dkms --installtree $native/install"
	check "dkms: a source tree from packaging/dkms-source.sh" dkms_trees "$native" &&
	{
		mkdir -p "$native/install/$RELEASE"
		module=$native/install/$RELEASE/updates/dkms/cmamem.ko
		check "dkms: add cmamem/$version (temporary trees)" \
			dkms add -m cmamem -v "$version" $DKMS_TREES
		check "dkms: build against the amd64-6.1 headers ($RELEASE)" \
			dkms build -m cmamem -v "$version" -k "$RELEASE" --kernelsourcedir "$KDIR" $DKMS_TREES
		check "dkms: install into <installtree>/$RELEASE/updates/dkms" \
			dkms install -m cmamem -v "$version" -k "$RELEASE" --kernelsourcedir "$KDIR" \
				$DKMS_TREES --no-depmod
		check "dkms: the installed module is for $RELEASE, x86-64" \
			bash -c "modinfo -F vermagic '$module' | grep -q '^$RELEASE ' &&
				 readelf -h '$module' | grep -q 'Machine:.*X86-64'"
		check "dkms: status says installed" \
			bash -c "dkms status -m cmamem $DKMS_TREES | grep -q 'cmamem/$version, $RELEASE, x86_64: installed'"
		check "dkms: remove --all takes it out again" \
			bash -c "dkms remove -m cmamem -v '$version' --all $DKMS_TREES --no-depmod >/dev/null &&
				 [ ! -e '$module' ]"
	}

	"$ROOT/scripts/fetch-kernel.sh" arm64-6.1 >&2 || { check "dkms: fetch the arm64-6.1 headers" false; return; }
	. "$(kernel_dir arm64-6.1)/env"
	DKMS_TREES="--sourcetree $cross/source --dkmstree $cross/dkms --installtree $cross/install"
	check "dkms: a second source tree for the cross build" dkms_trees "$cross" &&
	{
		# DKMS strips with plain strip: the cross one for an arm64 module.
		mkdir -p "$cross/bin"
		ln -s "$(command -v aarch64-linux-gnu-strip)" "$cross/bin/strip"
		module=$cross/dkms/cmamem/$version/$RELEASE/aarch64/module/cmamem.ko
		check "dkms: cross build for arm64-6.1 ($RELEASE, ARCH=arm64 -a aarch64)" \
			env PATH="$cross/bin:$PATH" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- \
				dkms build -m cmamem -v "$version" -k "$RELEASE" -a aarch64 \
				--kernelsourcedir "$KDIR" $DKMS_TREES
		check "dkms: the cross-built module is for $RELEASE, AArch64, stripped of debug info" \
			bash -c "modinfo -F vermagic '$module' | grep -q '^$RELEASE ' &&
				 readelf -h '$module' | grep -q 'Machine:.*AArch64' &&
				 ! readelf -S '$module' | grep -q '\.debug_info'"
	}
}

# ---- man ---------------------------------------------------------------
section_man() {
	[ -x "$host_build/cmamem" ] || check "man: build the host command" build_userspace gcc || return
	check "man: scripts/check-manpages.sh" \
		env CMAMEM_COMMAND="$host_build/cmamem" "$ROOT/scripts/check-manpages.sh"
}

for section in $sections; do
	echo "# $section"
	"section_$section"
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
