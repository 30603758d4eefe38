#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make bench`: boot the bench kernels (arm64-bench: Debian's
# linux-source-6.1, arm64-bench-6.12: linux-source-6.12, each built by
# build-kernel.sh from kernel-configs/ without the debug options) on the
# emulated arm64 board once per CPU model, run "cmamem bench" there and
# then bench/guest-pressure.sh (allocation latency with the CMA areas full
# of movable pages), and write docs/benchmarks.md and one latency plot per
# run (docs/benchmarks-latency-RUN.png) from what they printed. A run is
# named after its CPU model, with "-6.12" for the 6.12 kernel.
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
# instead of the defaults), CMAMEM_BENCH_PRESSURE_ARGS (arguments for
# cmamem_bench_pressure instead of the defaults), CMAMEM_BENCH_MODELS (the
# CPU models to run, default "a57 hafdbs"), CMAMEM_BENCH_KERNELS (the
# kernels, default "6.1 6.12"), CMAMEM_BENCH_KERNEL_ARGS (more kernel command
# line), CMAMEM_VM_TIMEOUT (seconds per boot, default 1500), CMAMEM_VM_LOCK
# (a lock file vm-run.sh holds with flock(1) while QEMU runs, for a machine
# whose VMs take turns; the builds and the report run outside it).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

case "${1:-}" in
"")
	mode=full
	# cmamem bench's defaults (4K..64M, 10 000 blocks) with more trials
	# than its 15: the emulator on a shared host is noisy.
	arguments="--trials 21"
	# 100 allocations per pool, size and condition: the fewest for which
	# p99 is not simply the largest sample (bench/guest-pressure.sh). The
	# anonymous memory and the file fill the 1 GiB board: the file is
	# larger than memory, so reading it on keeps reclaiming.
	pressure_arguments="--trials 100 --sizes 16M,64M --anon 256M"
	pressure_file_mib=1280
	out=$BUILD/bench/full
	doc=$ROOT/docs/benchmarks.md
	plot_dir=$ROOT/docs
	;;
--smoke)
	mode=smoke
	arguments="--trials 1 --sizes 4K,64K,1M --first-touch 1M --copy 1M --blocks 100 --duration 50 --random-read 1M"
	pressure_arguments="--trials 2 --sizes 1M,4M --anon 16M"
	pressure_file_mib=64
	out=$BUILD/bench/smoke
	doc=$out/benchmarks.md
	plot_dir=$out
	;;
*)
	die "usage: bench.sh [--smoke]"
	;;
esac
arguments=${CMAMEM_BENCH_ARGS:-$arguments}
pressure_arguments=${CMAMEM_BENCH_PRESSURE_ARGS:-$pressure_arguments}
# The default CMA area is 64 MiB in kernel-configs/qemu-arm64.config; a
# 64 MiB block would need all of it. The kernel's cma= parameter sizes it
# for this boot only, as on a real board's command line.
cma=${CMAMEM_BENCH_CMA:-256M}
models=${CMAMEM_BENCH_MODELS:-a57 hafdbs}
kernels=${CMAMEM_BENCH_KERNELS:-6.1 6.12}

# kernel_target KERNEL: the bench kernel's target (scripts/lib.sh);
# run_name MODEL KERNEL: the run's name, its directory and plot.
kernel_target() {
	case "$1" in
	6.1) echo arm64-bench ;;
	6.12) echo arm64-bench-6.12 ;;
	*) die "unknown bench kernel '$1' (known: 6.1 6.12)" ;;
	esac
}
run_name() {
	if [ "$2" = 6.1 ]; then echo "$1"; else echo "$1-$2"; fi
}
for kernel in $kernels; do kernel_target "$kernel" >/dev/null; done

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
# Build the kernels before any boot, outside the lock: vm-run.sh would build
# them inside.
for kernel in $kernels; do
	"$ROOT/scripts/fetch-kernel.sh" "$(kernel_target "$kernel")"
done

# The host may be shared: note, every 5 s while a run goes, the load
# average and how many other virtual machines ran (QEMU processes not
# booted from this run's directory, build/vm/arm64-bench.*).
sample_load() {
	while :; do
		echo "$(cut -d' ' -f1 /proc/loadavg) $(ps -e -o args= | grep '^qemu-system' |
			grep -vc -- "$BUILD/vm/arm64-bench[-0-9.]*\.")"
		sleep 5
	done
}

# run_model MODEL KERNEL NAME INIT_ON_ALLOC ARGUMENTS: boots the board with
# the model's CPU, the kernel and init_on_alloc=INIT_ON_ALLOC, runs the
# benchmark there with ARGUMENTS (and, with init_on_alloc, the pressure
# measurement) and writes $out/NAME/{guest.log,host.txt,load.txt}.
run_model() {
	local model=$1 kernel=$2 name=$3 init_on_alloc=$4 run_arguments=$5
	local target cpu dir guest sampler start elapsed status=0 detected
	target=$(kernel_target "$kernel")
	cpu=$(model_cpu "$model")
	dir=$out/$name
	guest=$dir/guest
	mkdir -p "$guest"
	install -m 0755 "$ROOT/bench/guest-init.sh" "$guest/init"
	echo "$run_arguments" >"$guest/arguments"
	if [ "$init_on_alloc" = 1 ]; then
		install -m 0755 "$ROOT/bench/guest-pressure.sh" "$guest/pressure.sh"
		echo "$pressure_arguments" >"$guest/pressure-arguments"
		echo "$pressure_file_mib" >"$guest/pressure-file-mib"
		make -s -C "$ROOT/bench" CC=aarch64-linux-gnu-gcc OUTPUT="$dir/pressure" \
			INSTALL_PATH="$guest" install-pressure >&2
	fi
	if [ "$mode" = smoke ]; then
		make -s -C "$ROOT/bench" CC=aarch64-linux-gnu-gcc OUTPUT="$dir/smoke-test" \
			INSTALL_PATH="$guest" install >&2
	fi

	sample_load >"$dir/load.txt" &
	sampler=$!
	trap 'kill "$sampler" 2>/dev/null || true' EXIT
	log "$name: CPU $cpu, kernel $kernel, init_on_alloc=$init_on_alloc"
	start=$(date +%s)
	# bash reads a script as it runs it, so an edit to vm-run.sh during
	# the long VM run would derail this one: read it whole first ($0
	# stays its path).
	CMAMEM_BENCH_DIR=$guest CMAMEM_QEMU_CPU=$cpu \
		CMAMEM_KERNEL_ARGS="cma=$cma init_on_alloc=$init_on_alloc ${CMAMEM_BENCH_KERNEL_ARGS:-}" \
		CMAMEM_VM_TIMEOUT=${CMAMEM_VM_TIMEOUT:-1500} \
		CMAMEM_SCRATCH_SIZE=$((pressure_file_mib + 128))M \
		bash -c "$(cat "$ROOT/scripts/vm-run.sh")" "$ROOT/scripts/vm-run.sh" \
		"$target" bench >"$dir/guest.log" || status=$?
	elapsed=$(($(date +%s) - start))
	kill "$sampler" 2>/dev/null || true
	trap - EXIT
	[ "$status" = 0 ] || die "$name: the benchmark run failed (see build/logs/$target-bench.log)"

	# The model must be what it stands for: the kernel detected (or did
	# not detect) hardware dirty-bit management on this CPU.
	detected=no
	# (Linux 6.12 adds the CPUs: "... management on CPU0-1".)
	grep -qE '^CMAMEM-BENCH-INFO: cpu_detected: Hardware dirty bit management( on CPU.*)?$' \
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
		echo "target: $target"
		echo "kernel_build: $(basename "$KDIR")"
		echo "cma: $cma"
		echo "pressure_arguments: $pressure_arguments"
		echo "pressure_file_mib: $pressure_file_mib"
		echo "mode: $mode"
	} >"$dir/host.txt"
}

total_start=$(date +%s)
runs=()
for kernel in $kernels; do
	for model in $models; do
		name=$(run_name "$model" "$kernel")
		run_model "$model" "$kernel" "$name" 1 "$arguments"
		runs+=(--run "$name=$out/$name")
	done
done
# Allocation and freeing once more without init_on_alloc, on the first
# model and the first kernel: then nothing zeroes CMA's pages before the
# driver or the heap does.
if [ "$mode" = full ]; then
	first_model=${models%% *}
	run_model "$first_model" "${kernels%% *}" "$first_model-no-init-on-alloc" 0 \
		"$arguments --only 1"
	runs+=(--without-init-on-alloc "$first_model=$out/$first_model-no-init-on-alloc")
fi
total=$(($(date +%s) - total_start))

python3 "$ROOT/bench/report.py" "${runs[@]}" --seconds "$total" \
	--header "$ROOT/bench/header.md" --gnuplot "$ROOT/bench/latency.gp" \
	--output "$doc" --plot-dir "$plot_dir"
log "wrote ${doc#$ROOT/} and its plots in ${total}s"
