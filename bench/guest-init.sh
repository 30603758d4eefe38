#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# /bench/init of the benchmark's initramfs: scripts/bench.sh hands this
# directory to "vm-run.sh arm64-bench bench", which boots with
# rdinit=/bench/init. It describes the board, loads cmamem, runs
# "cmamem bench" with the arguments in /bench/arguments, and prints:
#
#   CMAMEM-BENCH-BEGIN
#   CMAMEM-BENCH-INFO: key: value        (kernel, command line, CPU, CMA, heaps)
#   CMAMEM-BENCH-SMOKE-BEGIN ... END status=N seconds=N (the smoke test's TAP, when
#                                        /bench/cmamem_bench_smoke_test exists)
#   CMAMEM-BENCH-TABLES-BEGIN ... END    (the Markdown tables)
#   CMAMEM-BENCH-JSON-BEGIN ... END      (every statistic)
#   CMAMEM-BENCH-PRESSURE-BEGIN ... END  (latency under memory pressure,
#                                        when /bench/pressure.sh exists)
#   CMAMEM-BENCH-STDERR: ...             (cmamem bench's progress, errors)
#   CMAMEM-BENCH-REPORT: ...             (kernel warnings, if any)
#   CMAMEM-BENCH-END status=N
#
# The kernel passes unknown boot parameters to init's environment:
# cmamem_params= (commas for spaces) are insmod parameters.

/bin/busybox --install -s /bin
export PATH=/bin:/usr/bin
mkdir -p /proc /sys /dev /tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t debugfs debugfs /sys/kernel/debug
# Kernel messages would interleave with the tables on the console; the
# kernel log is checked at the end instead.
dmesg -n 1

params=$(echo "${cmamem_params:-}" | tr ',' ' ')
arguments=$(cat /bench/arguments 2>/dev/null)

info() { echo "CMAMEM-BENCH-INFO: $1: $2"; }

# A line of its own: firmware may leave escape sequences on the console.
echo
echo "CMAMEM-BENCH-BEGIN"
info kernel "$(uname -r) $(uname -v)"
info cmdline "$(cat /proc/cmdline)"
info cpus "$(grep -c ^processor /proc/cpuinfo)"
# The CPU as the guest sees it: the ID registers' fields, the feature
# flags, and what the kernel detected and enabled at boot (arm64 prints
# "CPU features: detected: ...", e.g. "Hardware dirty bit management").
for field in "CPU implementer" "CPU architecture" "CPU variant" "CPU part" "CPU revision" Features; do
	info "cpuinfo $field" "$(sed -n "s/^$field[[:space:]]*: //p" /proc/cpuinfo | head -n 1)"
done
dmesg | sed -n 's/.*CPU features: detected: //p' | sort -u | while read -r feature; do
	info cpu_detected "$feature"
done
info memory "$(sed -n 's/^MemTotal: *//p' /proc/meminfo)"
info page_size "$(getconf PAGESIZE 2>/dev/null || echo unknown)"
# Each CMA area: its name and size (debugfs counts pages).
page_size=$(getconf PAGESIZE 2>/dev/null || echo 4096)
for area in /sys/kernel/debug/cma/*; do
	[ -f "$area/count" ] || continue
	pages=$(cat "$area/count")
	info cma_area "$(basename "$area") $((pages * page_size / 1048576)) MiB"
done
info dma_heaps "$(ls /dev/dma_heap 2>/dev/null | tr '\n' ' ')"
info arguments "$arguments"

status=0
if ! insmod /cmamem/cmamem.ko $params; then
	echo "CMAMEM-BENCH-REPORT: insmod cmamem.ko failed"
	status=1
else
	if [ -x /bench/cmamem_bench_smoke_test ]; then
		echo "CMAMEM-BENCH-SMOKE-BEGIN"
		smoke_start=$(date +%s)
		/bench/cmamem_bench_smoke_test
		echo "CMAMEM-BENCH-SMOKE-END status=$? seconds=$(($(date +%s) - smoke_start))"
	fi
	start=$(date +%s)
	echo "CMAMEM-BENCH-TABLES-BEGIN"
	# The tables go to the console as they are; progress and error
	# messages (stderr) get a prefix of their own.
	exec 3>&1
	{
		# shellcheck disable=SC2086 # the arguments are words
		cmamem bench --json-file /tmp/bench.json $arguments 2>&1 1>&3 3>&-
		echo $? >/tmp/bench.status
	} | sed 's/^/CMAMEM-BENCH-STDERR: /'
	exec 3>&-
	status=$(cat /tmp/bench.status)
	echo "CMAMEM-BENCH-TABLES-END"
	info seconds "$(($(date +%s) - start))"
	echo "CMAMEM-BENCH-JSON-BEGIN"
	cat /tmp/bench.json
	echo "CMAMEM-BENCH-JSON-END"
	# Allocation latency with memory full: last, as it fills memory.
	if [ -x /bench/pressure.sh ] && ! /bench/pressure.sh; then
		status=1
	fi
	for pool in /sys/class/misc/cmamem*; do
		[ -f "$pool/used_bytes" ] || continue
		[ "$(cat "$pool/used_bytes")" = 0 ] ||
			echo "CMAMEM-BENCH-REPORT: $(basename "$pool") still has used bytes"
	done
	rmmod cmamem || echo "CMAMEM-BENCH-REPORT: rmmod failed"
fi
# What the kernel said while pressure.sh filled memory on purpose (its
# allocation-failure reports and their call traces) is that script's to
# report; a bug there it reports as a failure itself.
dmesg | sed '/cmamem-bench: pressure begins/,/cmamem-bench: pressure ends/d' |
	grep -E 'WARNING:|BUG:|Oops|Unable to handle|KASAN|UBSAN|Call trace:|Bad page' |
	sed 's/^/CMAMEM-BENCH-REPORT: /'
echo "CMAMEM-BENCH-END status=$status"
sync
poweroff -f
