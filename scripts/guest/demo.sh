#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The `make demo` scenario, run by /init on the emulated arm64 board with
# the module loaded. Every command is echoed before it runs, so the console
# reads as a transcript.

step() {
	echo
	echo "# $1"
}
run() {
	echo "\$ $*"
	"$@"
	status=$?
	[ "$status" = 0 ] || echo "(exit status $status)"
	return 0
}

echo CMAMEM-DEMO-BEGIN
step "The pools this board offers: the kernel's default CMA area, and two from the device tree"
run ls -l /dev/cmamem /dev/cmamem-camera /dev/cmamem-fpga
run cmamem pools

step "A capture process allocates a 4 MiB cached frame buffer named 'frame0' in the camera pool and holds it"
cmamem alloc frame0 4M --mode cached --pool camera --hold </dev/null >/tmp/holder.out 2>&1 &
holder=$!
sleep 1
run cat /tmp/holder.out

step "Another process finds it by name, writes a pattern through its mapping and syncs it for the device"
run cmamem fill frame0 0x5a --pool camera --length 64K
step "...and a third reads it back (syncing for the CPU first)"
run cmamem dump frame0 --pool camera --length 64

step "Its details: mode, size, handles and mappings across processes, and the DMA address an engine would use"
run cmamem info frame0 --pool camera

step "Every live block of the pool (root-only debugfs table)"
run cmamem list --pool camera

step "frame0 as a dma-buf (what V4L2, DRM or a codec takes), imported back into the camera pool: the dma-buf's own mapping shows the block's bytes, and the pool's device sees the import at the block's DMA address"
run cmamem export frame0 --pool camera --import

step "A dma-buf goes by descriptor, not by name: a second program inherits it (as fd 3) and imports it for the fpga pool's device"
run cmamem export frame0 --pool camera -- cmamem import --fd 3 --pool fpga

step "A write-combine block from the no-map carveout, for an FPGA engine"
run cmamem alloc fpga-desc 64K --mode writecombine --pool fpga

step "The holder lets go: the name is free at once, the memory back in the pool"
kill -TERM "$holder"
wait "$holder"
run cat /tmp/holder.out
run cmamem pools
