#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# /bench/pressure.sh: allocation latency with the CMA areas full of movable
# pages (bench/cmamem_bench_pressure.c says how it measures). guest-init.sh
# runs it last, because it fills memory. scripts/bench.sh boots the board
# with a scratch disk of CMAMEM_SCRATCH_SIZE and writes, into /bench:
#
#   pressure-file-mib    the size of the file whose page cache fills memory:
#                        larger than memory, so that reading it on and on
#                        always misses the cache and makes the kernel reclaim
#   pressure-arguments   cmamem_bench_pressure's --trials, --sizes, --anon
#
# The file lives on ext2 on the scratch disk, a real block-backed
# filesystem: its page cache is clean and reclaimable, as on a board that
# reads a video or a model from flash (tmpfs pages could only be moved).
# It prints:
#
#   CMAMEM-BENCH-PRESSURE-BEGIN
#   (the JSON of cmamem_bench_pressure)
#   CMAMEM-BENCH-PRESSURE-STDERR: ...     (its errors, the setup's)
#   CMAMEM-BENCH-PRESSURE-KERNEL: ...     (what the kernel logged meanwhile:
#                                         with memory full on purpose, an
#                                         allocation may fail and say so)
#   CMAMEM-BENCH-PRESSURE-KERNEL-LINES: N (how many)
#   CMAMEM-BENCH-PRESSURE-END status=N seconds=N
#
# The pools are the bench board's (dts/qemu-virt-cmamem-bench.dtso): the
# default CMA area (cmamem's default pool, and the heap), the device-tree
# CMA area "camera" and the carveout "fpga".

disk=/dev/vda
mountpoint=/mnt/pressure
file=$mountpoint/fill
file_mib=$(cat /bench/pressure-file-mib)
arguments=$(cat /bench/pressure-arguments)

echo "CMAMEM-BENCH-PRESSURE-BEGIN"
start=$(date +%s)
# Marks in the kernel log around the run: guest-init.sh leaves what lies
# between them to this script.
echo "cmamem-bench: pressure begins" >/dev/kmsg
# The JSON goes to the console as it is; error messages (stderr) get a
# prefix of their own.
exec 3>&1
{
	{
		mkdir -p "$mountpoint" &&
		mke2fs -q "$disk" >/dev/null &&
		mount -t ext2 "$disk" "$mountpoint" &&
		dd if=/dev/zero of="$file" bs=1M count="$file_mib" 2>/dev/null &&
		sync &&
		# Start from an empty page cache: the program's reading
		# fills it.
		echo 3 >/proc/sys/vm/drop_caches &&
		# shellcheck disable=SC2086 # the arguments are words
		/bench/cmamem_bench_pressure $arguments \
			--pool default-cma=default --pool dt-cma=camera \
			--pool carveout=fpga --heap dma-heap --file "$file"
	} 2>&1 1>&3 3>&-
	echo $? >/tmp/pressure.status
} | sed 's/^/CMAMEM-BENCH-PRESSURE-STDERR: /'
exec 3>&-
status=$(cat /tmp/pressure.status)
umount "$mountpoint" 2>/dev/null
echo "cmamem-bench: pressure ends" >/dev/kmsg
dmesg | sed -n '/cmamem-bench: pressure begins/,/cmamem-bench: pressure ends/p' |
	grep -v 'cmamem-bench: pressure' >/tmp/pressure.kernel
sed 's/^/CMAMEM-BENCH-PRESSURE-KERNEL: /' /tmp/pressure.kernel
echo "CMAMEM-BENCH-PRESSURE-KERNEL-LINES: $(wc -l </tmp/pressure.kernel)"
# Allocation failures are expected here; a kernel bug is not (with
# panic_on_warn=1 and oops=panic it would rather have stopped the board).
if grep -qE 'WARNING:|BUG:|Oops|Unable to handle|KASAN|UBSAN|Bad page' /tmp/pressure.kernel; then
	echo "CMAMEM-BENCH-PRESSURE-STDERR: the kernel reported a bug during the run"
	status=1
fi
echo "CMAMEM-BENCH-PRESSURE-END status=$status seconds=$(($(date +%s) - start))"
exit "$status"
