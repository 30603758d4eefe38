#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot one kernel of the matrix in QEMU (software emulation) with cmamem and
# its selftests in a busybox initramfs.
#
# Usage: vm-run.sh TARGET check|demo|shell|bench
#
# check: runs every selftest suite, unloads the module, checks CmaFree and
#	the kernel log, and writes build/results/TARGET.result with the
#	counts. Exits non-zero when anything failed, the kernel printed a
#	report, or the guest did not report back in time.
# demo:  runs scripts/guest/demo.sh with the cmamem command and engine-demo.
# shell: an interactive shell on the board (on x86_64 with python3 and the
#	binding, as the check has them).
# bench: boots with CMAMEM_BENCH_DIR (made by scripts/bench.sh) as /bench
#	and /bench/init as init, and prints what the guest printed between
#	CMAMEM-BENCH-BEGIN and CMAMEM-BENCH-END.
#
# Environment: CMAMEM_VM_TIMEOUT (seconds, default 900), CMAMEM_PARAMS
# (extra module parameters, space separated), CMAMEM_KERNEL_IMAGE,
# CMAMEM_MODULE (override the kernel image / module, for custom kernels;
# an overridden module is not measured for coverage),
# CMAMEM_QEMU_CPU (QEMU's -cpu model instead of the target's, e.g. "max"),
# CMAMEM_KERNEL_ARGS (more kernel command line), CMAMEM_ONLY (check: run only
# the test programs matching these comma-separated patterns, e.g.
# '*engine*,cli/*'; the harness's leak checks still run), CMAMEM_VM_LOCK (a
# lock file: boot only while holding it, so that runs sharing a machine build
# side by side but emulate one at a time), CMAMEM_SCRATCH_SIZE (the scratch
# disk, /dev/vda on arm64, default 16M).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

target=${1:?usage: vm-run.sh TARGET check|demo|shell|bench}
mode=${2:?usage: vm-run.sh TARGET check|demo|shell|bench}
target_info "$target"
"$ROOT/scripts/deps.sh"
"$ROOT/scripts/fetch-tools.sh"
"$ROOT/scripts/fetch-kernel.sh" "$target"
. "$(kernel_dir "$target")/env"
IMAGE=${CMAMEM_KERNEL_IMAGE:-$IMAGE}
QEMU_CPU=${CMAMEM_QEMU_CPU:-$QEMU_CPU}

# Every run has directories of its own, so runs can go on side by side.
mkdir -p "$BUILD/vm" "$BUILD/results" "$BUILD/logs"
vm=$(mktemp -d "$BUILD/vm/$target.XXXXXX")
trap 'rm -rf "$vm"' EXIT
mkdir -p "$vm/initramfs"/{bin,cmamem,lib/modules,selftests,usr/bin}
result_file=${CMAMEM_RESULT_FILE:-$BUILD/results/$target.result}

# The debug kernel (CONFIG_GCOV_KERNEL) measures the module's coverage in
# every check: the module is built with GCOV_PROFILE, the guest writes the
# counters to the scratch disk at the end, and scripts/coverage.sh reads
# them with the .gcno files of this build (a board variant's run adds to
# the debug run's). The stock kernels cannot load such a module.
coverage=
[ "$KERNEL_OF" = arm64-debug ] && [ "$mode" = check ] && [ -z "${CMAMEM_MODULE:-}" ] && coverage=1
module=${CMAMEM_MODULE:-$(CMAMEM_OBJ_DIR="$vm/obj" CMAMEM_GCOV=$coverage "$ROOT/scripts/build-module.sh" "$target")}
cp "$module" "$vm/initramfs/cmamem/cmamem.ko"

case "$ARCH" in
arm64)
	cp "$BUILD/busybox-arm64/bin/busybox" "$vm/initramfs/bin/busybox"
	# armhf binaries exercise compat_ioctl on the 64-bit kernel.
	suites="aarch64 armhf"
	tool_arch=aarch64
	;;
arm)
	# A 32-bit kernel: the armhf suite runs natively, no compat layer.
	cp "$BUILD/busybox-armhf/bin/busybox" "$vm/initramfs/bin/busybox"
	suites="armhf"
	tool_arch=armhf
	;;
x86_64)
	cp /bin/busybox "$vm/initramfs/bin/busybox"
	suites="x86_64"
	tool_arch=x86_64
	;;
esac

for suite in $suites; do
	out=$vm/selftests-build/$suite
	make -s -C "$ROOT/selftests" CC="$(selftest_cc "$suite")" OUTPUT="$out" \
		KSFT_INCLUDE="$BUILD/kernel-tools/include" UAPI_INCLUDE="$ROOT/uapi" all >&2
	make -s -C "$ROOT/selftests" OUTPUT="$out" INSTALL_PATH="$vm/initramfs/selftests/$suite" \
		KSFT_INCLUDE="$BUILD/kernel-tools/include" UAPI_INCLUDE="$ROOT/uapi" install >&2
	# A one-trial run of every benchmark, so that make bench cannot rot.
	make -s -C "$ROOT/bench" CC="$(selftest_cc "$suite")" OUTPUT="$out/bench" \
		INSTALL_PATH="$vm/initramfs/selftests/$suite" install >&2
done
if [ -f "$ROOT/userspace/Makefile" ]; then
	out=$vm/userspace-build/$tool_arch
	make -s -C "$ROOT/userspace" CC="$(selftest_cc "$tool_arch")" OUTPUT="$out" >&2
	cp "$out/cmamem" "$vm/initramfs/usr/bin/cmamem"
	# The demo's capture and DMA-engine steps: libcmamem and the engine
	# helper of the selftests.
	"$(selftest_cc "$tool_arch")" -Wall -Wextra -Werror -O2 -static -D_FILE_OFFSET_BITS=64 \
		-I"$ROOT/uapi" -I"$ROOT/userspace/include" -I"$ROOT/selftests" \
		-o "$vm/initramfs/usr/bin/engine-demo" "$ROOT/scripts/guest/engine-demo.c" \
		"$out/libcmamem.a" -Wl,-z,max-page-size=0x10000
fi
ln -s busybox "$vm/initramfs/bin/sh"
"$(selftest_cc "$tool_arch")" -Wall -Wextra -Werror -O2 -static -I"$ROOT/uapi" \
	-o "$vm/initramfs/bin/cma-probe" "$ROOT/scripts/guest/cma-probe.c"
cp "$ROOT/scripts/guest/init" "$vm/initramfs/init"
cp "$ROOT/scripts/guest/demo.sh" "$vm/initramfs/demo.sh"
cp "$ROOT/scripts/guest/cli-test.sh" "$vm/initramfs/cli-test.sh"
[ "$mode" = bench ] && cp -r "${CMAMEM_BENCH_DIR:?bench mode needs CMAMEM_BENCH_DIR}" "$vm/initramfs/bench"
chmod +x "$vm/initramfs/init"

# Kernel modules from the Debian image, with their dependencies, loaded by
# /init in dependency order (modules.dep lists a module's dependencies,
# nearest first; built-in ones are simply absent).
want="virtio_mmio virtio_pci virtio_blk vgem vivid ${CMAMEM_EXTRA_MODULES:-}"
# The host's root over 9p (x86_64): the Python tests, and python3 in the shell.
host_python=
[ "$ARCH" = x86_64 ] && { [ "$mode" = check ] || [ "$mode" = shell ]; } && host_python=1
[ -n "$host_python" ] && want="$want 9pnet_virtio 9p"
: >"$vm/order"
add_module() { # path relative to MODDIR
	local rel=$1 dep
	grep -qxF "$rel" "$vm/order" && return 0
	for dep in $(awk -v m="$rel:" '$1 == m { $1 = ""; print }' "$MODDIR/modules.dep"); do
		add_module "$dep"
	done
	echo "$rel" >>"$vm/order"
}
for name in $want; do
	rel=$(awk -F: -v n="$name" '{ f = $1; sub(".*/", "", f); sub("\\.ko.*", "", f); gsub("-", "_", f); if (f == n) print $1 }' "$MODDIR/modules.dep")
	[ -n "$rel" ] && add_module "$rel"
done
while read -r rel; do
	dest=$vm/initramfs/lib/modules/$(basename "${rel%.xz}")
	case "$rel" in
	*.xz) xz -dc "$MODDIR/$rel" >"$dest" ;;
	*) cp "$MODDIR/$rel" "$dest" ;;
	esac
	echo "/lib/modules/$(basename "$dest")" >>"$vm/initramfs/lib/modules/load-order"
done <"$vm/order"

(cd "$vm/initramfs" && find . | cpio -o -H newc -R 0:0 --quiet | gzip -1) >"$vm/initramfs.cpio.gz"
truncate -s "${CMAMEM_SCRATCH_SIZE:-16M}" "$vm/scratch.img"

qemu_args=(-M "$QEMU_MACHINE" -cpu "$QEMU_CPU" -smp 2 -m "$MEMORY_MB" -nographic -no-reboot)
case "$ARCH" in
arm64 | arm)
	# QEMU's own DTB for exactly this machine, our pools on top, repacked
	# (the dumped blob is padded to 1 MiB and the kernel hangs on it).
	"$QEMU" "${qemu_args[@]}" -machine dumpdtb="$vm/virt.dtb" >/dev/null 2>&1
	dtbos=()
	for overlay in $DT_OVERLAYS; do
		dtbos+=("$vm/${overlay%.dtso}.dtbo")
		dtc -@ -q -I dts -O dtb -o "${dtbos[-1]}" "$ROOT/dts/$overlay"
	done
	fdtoverlay -i "$vm/virt.dtb" -o "$vm/merged.dtb" "${dtbos[@]}"
	dtc -q -I dtb -O dtb -o "$vm/board.dtb" "$vm/merged.dtb"
	qemu_args+=(-dtb "$vm/board.dtb"
		-drive if=none,file="$vm/scratch.img",format=raw,id=scratch
		-device virtio-blk-device,drive=scratch)
	;;
x86_64)
	qemu_args+=(-drive if=virtio,file="$vm/scratch.img",format=raw)
	if [ -n "$host_python" ]; then
		# The host's root, read-only, for the Python binding.
		qemu_args+=(-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap)
		host_root="cmamem_repo=$ROOT"
	fi
	;;
esac

# The DMA engine the engine tests and the demo drive (see lib.sh); the
# benchmark's board stays as it was measured.
if [ "$mode" != bench ]; then
	qemu_args+=(-device "$ENGINE_QEMU_DEVICE")
	engine_slot="CMAMEM_ENGINE_SLOT=$ENGINE_SLOT"
	if [ -n "$ENGINE32" ]; then
		qemu_args+=(-device "$ENGINE32_QEMU_DEVICE")
		engine_slot="$engine_slot CMAMEM_ENGINE32_SLOT=$ENGINE32_SLOT"
	fi
fi

params=$(echo "legacy=1 ${CMAMEM_PARAMS:-}" | xargs | tr ' ' ',')
# The debug kernel gets the long stress run (the stock kernels' default
# is 10 s); init passes unknown name=value parameters on as environment.
[ "$target" = arm64-debug ] && stress_seconds="CMAMEM_STRESS_SECONDS=${CMAMEM_STRESS_SECONDS:-60}"
# vivid as two capture-only instances, importing dma-bufs with vb2-vmalloc
# and with vb2-dma-contig (cmamem_v4l2_test). Given as name.param=value:
# built-in vivid (the project's own kernels) takes them from the command
# line, and /init passes them to insmod.
vivid_params="vivid.n_devs=2 vivid.node_types=0x1,0x1 vivid.allocators=0,1"
append="console=$CONSOLE panic_on_warn=1 oops=panic panic=-1 cmamem_harness=$mode cmamem_params=$params $vivid_params ${host_root:-} ${stress_seconds:-} ${engine_slot:-}"
[ "$mode" = check ] || append="$append quiet"
# The check reads the kernel's log for reports (scripts/guest/init): all of
# it, from boot. The debug kernel's run logs about 220 KB, more than its
# 128 KiB ring buffer; then the start is lost, and with it early reports.
[ "$mode" = check ] && append="$append log_buf_len=4M"
[ "$mode" = bench ] && append="$append rdinit=/bench/init"
# A board variant runs only its own suites unless told otherwise.
only=${CMAMEM_ONLY:-$TARGET_ONLY}
[ -n "$only" ] && append="$append cmamem_only=$only"
[ -n "$coverage" ] && append="$append cmamem_gcov=1"
append="$append $BOOT_ARGS ${CMAMEM_KERNEL_ARGS:-}"
qemu_args+=(-kernel "$IMAGE" -initrd "$vm/initramfs.cpio.gz" -append "$append")

log=$vm/console.log
kept_log=$BUILD/logs/$target-$mode.log
if [ "$mode" = shell ]; then
	"$QEMU" "${qemu_args[@]}"
	exit
fi

log "$target: booting ($mode); console log in ${kept_log#$ROOT/}"
start=$(date +%s)
vm_lock=()
[ -n "${CMAMEM_VM_LOCK:-}" ] && vm_lock=(flock "$CMAMEM_VM_LOCK")
"${vm_lock[@]}" timeout -s KILL "${CMAMEM_VM_TIMEOUT:-900}" "$QEMU" "${qemu_args[@]}" </dev/null >"$log" 2>&1 || true
elapsed=$(( $(date +%s) - start ))
tr -d '\r' <"$log" >"$kept_log.$$" && mv "$kept_log.$$" "$kept_log"
log=$kept_log

if [ "$mode" = bench ]; then
	sed -n '/^CMAMEM-BENCH-BEGIN/,/^CMAMEM-BENCH-END/p' "$log"
	grep -q '^CMAMEM-BENCH-END' "$log" || die "the benchmark did not finish (see ${log#$ROOT/})"
	exit 0
fi
if [ "$mode" = demo ]; then
	sed -n '/^CMAMEM-DEMO-BEGIN/,/^CMAMEM-DEMO-END/p' "$log" | grep -v '^CMAMEM-DEMO-'
	grep -q '^CMAMEM-DEMO-END' "$log" || die "the demo did not finish (see ${log#$ROOT/})"
	exit 0
fi

# The start of what went wrong, for check.sh to quote under its totals,
# where a CI log's tail shows it: the first LINES lines of the log that
# match PATTERN.
why() { # PATTERN LINES
	grep -a -E "$1" "$log" | head -n "$2" | sed "s/^/why: [$target] /" >>"$result_file" || true
}

result=$(grep -a '^CMAMEM-RESULT:' "$log" | tail -n 1 || true)
grep -a -E '^(CMAMEM-TESTS|CMAMEM-FAIL|CMAMEM-LEDGER|not ok)' "$log" | sed "s/^/  [$target] /" >&2 || true
if [ -z "$result" ]; then
	# No report: the guest panicked, hung or was killed. Say which.
	echo "passed=0 failed=1 skipped=0" >"$result_file"
	why 'Kernel panic|BUG:|WARNING:|Oops' 8
	sed -n 's/^why: /  /p' "$result_file" >&2
	die "$target: the guest gave no result after ${elapsed}s: it panicked, hung or was killed at the ${CMAMEM_VM_TIMEOUT:-900}s limit (see ${log#$ROOT/})"
fi
passed=$(echo "$result" | sed -n 's/.* passed=\([0-9]*\).*/\1/p')
failed=$(echo "$result" | sed -n 's/.* failed=\([0-9]*\).*/\1/p')
skipped=$(echo "$result" | sed -n 's/.* skipped=\([0-9]*\).*/\1/p')
verdict=$(echo "$result" | sed -n 's/.* verdict=\([A-Z]*\).*/\1/p')
coverage_line=
if [ -n "$coverage" ]; then
	# The guest's tar of .gcda files starts the scratch disk; GNU tar
	# stops at its end-of-archive blocks, before what the O_DIRECT tests
	# left further on.
	mkdir -p "$vm/gcda"
	if grep -aq '^CMAMEM-COVERAGE:' "$log" &&
		tar -x -f "$vm/scratch.img" -C "$vm/gcda" &&
		coverage_line=$("$ROOT/scripts/coverage.sh" capture "$target" "$vm/obj/src" "$vm/gcda"); then
		log "$target: $coverage_line"
	else
		log "$target: no coverage measured (see ${log#$ROOT/})"
		verdict=FAIL
	fi
fi
# A harness-level failure (report, leak, rmmod) counts as one more failure.
[ "$verdict" = PASS ] || [ "$failed" -gt 0 ] || failed=1
echo "passed=$passed failed=$failed skipped=$skipped" >"$result_file"
[ -n "$coverage_line" ] && echo "$coverage_line" >>"$result_file"
if [ "$verdict" != PASS ]; then
	# The tests that failed, the guest's reasons, the start of a kernel
	# report or kmemleak record.
	why '^not ok' 6
	why '^CMAMEM-FAIL' 6
	why '^CMAMEM-(REPORT|KMEMLEAK)' 10
fi
log "$target: $passed passed, $failed failed, $skipped skipped in ${elapsed}s ($verdict)"
[ "$verdict" = PASS ]
