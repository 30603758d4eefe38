#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make bench`: boot the bench kernel (arm64-bench: Debian's
# linux-source-6.1 built by build-kernel.sh from kernel-configs/ without the
# debug options) on the emulated arm64 board once per CPU model, run
# "cmamem bench" there, and write docs/benchmarks.md and one latency plot
# per model (docs/benchmarks-latency-MODEL.png) from what it printed.
# Those boots have init_on_alloc=1, as Debian's kernels default to
# (CONFIG_INIT_ON_ALLOC_DEFAULT_ON): the page allocator zeroes every page,
# CMA's too. A full run boots the first model once more with
# init_on_alloc=0 and measures allocation and freeing alone (measurement
# 1), the case in which the driver and the heap zero the memory themselves.
#
# The CPU models (QEMU's -cpu), each standing for a family of real cores
# (docs/benchmarks.md says which):
#   a57:    cortex-a57, ARMv8.0: no hardware dirty-bit management
#   hafdbs: max, which has FEAT_HAFDBS (ARMv8.1); the bench kernel enables
#           it (CONFIG_ARM64_HW_AFDBM), and the run fails unless the guest's
#           boot log says "Hardware dirty bit management"
#
# Usage: bench.sh [--smoke]
#   --smoke: one trial of every measurement at small sizes, written to
#            build/bench/smoke/ instead of docs/, after the TAP smoke test
#            (bench/cmamem_bench_smoke_test, which "make check" runs too):
#            proves the pipeline works, the numbers mean nothing.
#
# Environment: CMAMEM_BENCH_CMA (size of the default CMA area the board
# boots with, default 256M), CMAMEM_BENCH_ARGS (arguments for cmamem bench
# instead of the defaults), CMAMEM_BENCH_MODELS (the CPU models to run,
# default "a57 hafdbs"), CMAMEM_BENCH_KERNEL_ARGS (more kernel command
# line), CMAMEM_VM_TIMEOUT (seconds per boot, default 1500), CMAMEM_VM_LOCK
# (a lock file vm-run.sh holds with flock(1) while QEMU runs, for a machine
# whose VMs take turns; the builds and the report run outside it).
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
	plot_dir=$ROOT/docs
	;;
--smoke)
	mode=smoke
	arguments="--trials 1 --sizes 4K,64K,1M --first-touch 1M --copy 1M --blocks 100 --duration 50 --random-read 1M"
	out=$BUILD/bench/smoke
	doc=$out/benchmarks.md
	plot_dir=$out
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
models=${CMAMEM_BENCH_MODELS:-a57 hafdbs}

# model_cpu MODEL: QEMU's -cpu for a model; model_hafdbs MODEL: whether the
# guest must report hardware dirty-bit management (yes) or must not (no).
model_cpu() {
	case "$1" in
	a57) echo cortex-a57 ;;
	# Pointer authentication's architected algorithm is slow under TCG;
	# the bench kernel does not use it.
	hafdbs) echo max,pauth-impdef=on ;;
	*) die "unknown CPU model '$1' (known: a57 hafdbs)" ;;
	esac
}
model_hafdbs() {
	case "$1" in
	a57) echo no ;;
	hafdbs) echo yes ;;
	esac
}
for model in $models; do model_cpu "$model" >/dev/null; done

command -v gnuplot >/dev/null || "$ROOT/scripts/deps.sh"
rm -rf "$out"
mkdir -p "$out"
# Build the kernel before any boot, outside the lock: vm-run.sh would build
# it inside.
"$ROOT/scripts/fetch-kernel.sh" "$target"

# The host may be shared: note, every 5 s while a run goes, the load
# average and how many other virtual machines ran (QEMU processes not
# booted from this run's directory, build/vm/arm64-bench.*).
sample_load() {
	while :; do
		echo "$(cut -d' ' -f1 /proc/loadavg) $(ps -e -o args= | grep '^qemu-system' |
			grep -vc -- "$BUILD/vm/$target\.")"
		sleep 5
	done
}

# run_model MODEL NAME INIT_ON_ALLOC ARGUMENTS: boots the board with the
# model's CPU and init_on_alloc=INIT_ON_ALLOC, runs the benchmark there with
# ARGUMENTS and writes $out/NAME/{guest.log,host.txt,load.txt}.
run_model() {
	local model=$1 name=$2 init_on_alloc=$3 run_arguments=$4
	local cpu dir guest sampler start elapsed status=0 detected
	cpu=$(model_cpu "$model")
	dir=$out/$name
	guest=$dir/guest
	mkdir -p "$guest"
	install -m 0755 "$ROOT/bench/guest-init.sh" "$guest/init"
	echo "$run_arguments" >"$guest/arguments"
	if [ "$mode" = smoke ]; then
		make -s -C "$ROOT/bench" CC=aarch64-linux-gnu-gcc OUTPUT="$dir/smoke-test" \
			INSTALL_PATH="$guest" install >&2
	fi

	sample_load >"$dir/load.txt" &
	sampler=$!
	trap 'kill "$sampler" 2>/dev/null || true' EXIT
	log "$name: CPU $cpu, init_on_alloc=$init_on_alloc"
	start=$(date +%s)
	# bash reads a script as it runs it, so an edit to vm-run.sh during
	# the long VM run would derail this one: read it whole first ($0
	# stays its path).
	CMAMEM_BENCH_DIR=$guest CMAMEM_QEMU_CPU=$cpu \
		CMAMEM_KERNEL_ARGS="cma=$cma init_on_alloc=$init_on_alloc ${CMAMEM_BENCH_KERNEL_ARGS:-}" \
		CMAMEM_VM_TIMEOUT=${CMAMEM_VM_TIMEOUT:-1500} \
		bash -c "$(cat "$ROOT/scripts/vm-run.sh")" "$ROOT/scripts/vm-run.sh" \
		"$target" bench >"$dir/guest.log" || status=$?
	elapsed=$(($(date +%s) - start))
	kill "$sampler" 2>/dev/null || true
	trap - EXIT
	[ "$status" = 0 ] || die "$name: the benchmark run failed (see build/logs/$target-bench.log)"

	# The model must be what it stands for: the kernel detected (or did
	# not detect) hardware dirty-bit management on this CPU.
	detected=no
	grep -qx 'CMAMEM-BENCH-INFO: cpu_detected: Hardware dirty bit management' \
		"$dir/guest.log" && detected=yes
	[ "$detected" = "$(model_hafdbs "$model")" ] ||
		die "$name: CPU $cpu: the guest's kernel reports hardware dirty-bit management: $detected, expected $(model_hafdbs "$model") (is CONFIG_ARM64_HW_AFDBM in kernel-configs/bench.config?)"

	# Facts about the host for the report.
	. "$(kernel_dir "$target")/env"
	{
		echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
		echo "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
		echo "qemu: $(qemu-system-aarch64 --version | head -n 1)"
		echo "qemu_cpu: $cpu"
		echo "host_cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
		echo "host_cores: $(nproc)"
		echo "seconds: $elapsed"
		echo "kernel_build: $(basename "$KDIR")"
		echo "cma: $cma"
		echo "mode: $mode"
	} >"$dir/host.txt"
}

total_start=$(date +%s)
runs=()
for model in $models; do
	run_model "$model" "$model" 1 "$arguments"
	runs+=(--run "$model=$out/$model")
done
# Allocation and freeing once more without init_on_alloc, on the first
# model: then nothing zeroes CMA's pages before the driver or the heap does.
if [ "$mode" = full ]; then
	first_model=${models%% *}
	run_model "$first_model" "$first_model-no-init-on-alloc" 0 "$arguments --only 1"
	runs+=(--without-init-on-alloc "$first_model=$out/$first_model-no-init-on-alloc")
fi
total=$(($(date +%s) - total_start))

python3 "$ROOT/bench/report.py" "${runs[@]}" --seconds "$total" \
	--header "$ROOT/bench/header.md" --gnuplot "$ROOT/bench/latency.gp" \
	--output "$doc" --plot-dir "$plot_dir"
log "wrote ${doc#$ROOT/} and its plots in ${total}s"
