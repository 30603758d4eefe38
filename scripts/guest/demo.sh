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

step "A bus-master DMA engine on the board's PCI bus (QEMU's edu device, standing in for an FPGA engine), driven by root from user space through sysfs, as over UIO"
run engine-demo engine

step "Two cached 128 KiB frame buffers in the camera pool, held: 'cam-in' for the camera, 'cam-out' for the engine"
cmamem alloc cam-in 128K --mode cached --pool camera --hold </dev/null >/tmp/cam-in.out 2>&1 &
cam_in_holder=$!
cmamem alloc cam-out 128K --mode cached --pool camera --hold </dev/null >/tmp/cam-out.out 2>&1 &
cam_out_holder=$!
sleep 1
run cat /tmp/cam-in.out /tmp/cam-out.out

step "The camera (V4L2 vivid, its instance whose vb2-dma-contig maps buffers for its device) captures a frame into cam-in, given as a dma-buf (V4L2_MEMORY_DMABUF)"
run engine-demo capture cam-in --pool camera --device /dev/video1 --width 320 --height 180

step "The engine copies the frame (320x180 YUYV, 115200 bytes) by DMA address into cam-out, through its 4 KiB buffer; the CPU syncs around it, then compares"
run engine-demo copy cam-in cam-out --pool camera --length 115200

step "The same bytes in both blocks, as the cmamem command shows them"
run cmamem dump cam-in --pool camera --offset 57600 --length 32
run cmamem dump cam-out --pool camera --offset 57600 --length 32
kill -TERM "$cam_in_holder" "$cam_out_holder"
wait "$cam_in_holder" "$cam_out_holder"

step "The holder lets go: the name is free at once, the memory back in the pool"
kill -TERM "$holder"
wait "$holder"
run cat /tmp/holder.out
run cmamem pools
