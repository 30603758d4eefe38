#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make bench`: boot the bench kernel (arm64-bench: Debian's
# linux-source-6.1 built by build-kernel.sh from kernel-configs/ without the
# debug options) on the emulated arm64 board, run "cmamem bench" there, and
# write docs/benchmarks.md and docs/benchmarks-latency.png from what it
# printed.
#
# Usage: bench.sh [--smoke]
#   --smoke: one trial of every measurement at small sizes, written to
#            build/bench/smoke/ instead of docs/, after the TAP smoke test
#            (bench/cmamem_bench_smoke_test, which "make check" runs too):
#            proves the pipeline works, the numbers mean nothing.
#
# Environment: CMAMEM_BENCH_CMA (size of the default CMA area the board
# boots with, default 256M), CMAMEM_BENCH_ARGS (arguments for cmamem bench
# instead of the defaults), CMAMEM_VM_TIMEOUT (seconds, default 1500).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

target=arm64-bench
case "${1:-}" in
"")
	mode=full
	# cmamem bench's defaults (4K..64M, 10 000 blocks) with more trials
	# than its 15: the emulator on a shared host is noisy.
	arguments="--trials 21"
	out=$BUILD/bench/full
	doc=$ROOT/docs/benchmarks.md
	plot=$ROOT/docs/benchmarks-latency.png
	;;
--smoke)
	mode=smoke
	arguments="--trials 1 --sizes 4K,64K,1M --first-touch 1M --copy 1M --blocks 100 --duration 50 --random-read 1M"
	out=$BUILD/bench/smoke
	doc=$out/benchmarks.md
	plot=$out/benchmarks-latency.png
	;;
*)
	die "usage: bench.sh [--smoke]"
	;;
esac
arguments=${CMAMEM_BENCH_ARGS:-$arguments}
# The default CMA area is 64 MiB in kernel-configs/qemu-arm64.config; a
# 64 MiB block would need all of it. The kernel's cma= parameter sizes it
# for this boot only, as on a real board's command line.
cma=${CMAMEM_BENCH_CMA:-256M}

command -v gnuplot >/dev/null || "$ROOT/scripts/deps.sh"
mkdir -p "$out"
guest=$out/guest
rm -rf "$guest"
mkdir -p "$guest"
install -m 0755 "$ROOT/bench/guest-init.sh" "$guest/init"
echo "$arguments" >"$guest/arguments"
if [ "$mode" = smoke ]; then
	make -s -C "$ROOT/bench" CC=aarch64-linux-gnu-gcc OUTPUT="$out/smoke-test" \
		INSTALL_PATH="$guest" install >&2
fi

# The host may be shared: note, every 5 s while the run goes, the load
# average and how many other virtual machines ran (QEMU processes not
# booted from this run's directory, build/vm/arm64-bench.*).
sample_load() {
	while :; do
		echo "$(cut -d' ' -f1 /proc/loadavg) $(ps -e -o args= | grep '^qemu-system' |
			grep -vc -- "$BUILD/vm/$target\.")"
		sleep 5
	done
}
sample_load >"$out/load.txt" &
sampler=$!
trap 'kill "$sampler" 2>/dev/null || true' EXIT

start=$(date +%s)
status=0
# bash reads a script as it runs it, so an edit to vm-run.sh during the
# long VM run would derail this one: read it whole first ($0 stays its path).
CMAMEM_BENCH_DIR=$guest CMAMEM_KERNEL_ARGS="cma=$cma" \
	CMAMEM_VM_TIMEOUT=${CMAMEM_VM_TIMEOUT:-1500} \
	bash -c "$(cat "$ROOT/scripts/vm-run.sh")" "$ROOT/scripts/vm-run.sh" \
	"$target" bench >"$out/guest.log" || status=$?
elapsed=$(($(date +%s) - start))
kill "$sampler" 2>/dev/null || true
trap - EXIT
[ "$status" = 0 ] || die "the benchmark run failed (see build/logs/$target-bench.log)"

# Facts about the host for the report.
. "$(kernel_dir "$target")/env"
{
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
	echo "qemu: $(qemu-system-aarch64 --version | head -n 1)"
	echo "host_cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
	echo "host_cores: $(nproc)"
	echo "seconds: $elapsed"
	echo "kernel_build: $(basename "$KDIR")"
	echo "cma: $cma"
	echo "mode: $mode"
} >"$out/host.txt"

python3 "$ROOT/bench/report.py" --guest-log "$out/guest.log" \
	--host "$out/host.txt" --load "$out/load.txt" \
	--header "$ROOT/bench/header.md" --gnuplot "$ROOT/bench/latency.gp" \
	--work "$out" --output "$doc" --plot "$plot"
log "wrote ${doc#$ROOT/} and ${plot#$ROOT/} in ${elapsed}s"
