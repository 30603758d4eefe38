# SPDX-License-Identifier: GPL-2.0
# Shared definitions for the cmamem build and VM scripts. Sourced, not run.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
DEBS=$BUILD/debs
KERNEL_CACHE=$BUILD/kernels

# The kernel matrix. Each target is a Debian kernel: its metapackage (which
# names the current ABI), its Debian architecture, and how QEMU boots it;
# or one of the project's own kernels (arm64-debug, arm64-bench) built from
# Debian's linux-source-6.1 by build-kernel.sh (arm64-bench-6.12: the bench
# kernel from linux-source-6.12). The armhf targets are 32-bit
# kernels: armhf-6.1-lpae (LPAE: 64-bit phys_addr_t and dma_addr_t, RAM and
# the default CMA area in highmem) and armhf-6.1 (classic 32-bit addresses).
#
# arm64-6.12-6g boots arm64-6.12's kernel on a board with 6 GiB of RAM,
# half of it above 4 GiB, with pools there too (dts/qemu-virt-cmamem-
# above4g.dtso): it runs only the suites about addresses (TARGET_ONLY).
# (The 32-bit board cannot have RAM above 4 GiB here: see docs/testing.md.)
#
# arm64-debug-bounce boots the debug kernel with swiotlb=force, which
# bounces every streaming DMA mapping: it runs the suites about what a
# device sees at a block's address (TARGET_ONLY), and adds to the debug
# run's coverage.
ALL_TARGETS="arm64-6.1 arm64-6.12 arm64-6.12-16k amd64-6.1 arm64-debug
	arm64-debug-bounce armhf-6.1-lpae armhf-6.1 arm64-6.12-6g"

die() { echo "error: $*" >&2; exit 1; }
log() { echo "==> $*" >&2; }

# target_info TARGET: sets META, DEB_ARCH, ARCH, CROSS_COMPILE, QEMU,
# QEMU_MACHINE, QEMU_CPU, CONSOLE, MEMORY_MB, (boards with a device tree)
# DT_OVERLAYS, the overlays in dts/ with the board's pools, applied in
# order, KERNEL_OF, the target whose kernel TARGET boots (itself but for
# board variants), and TARGET_ONLY, the test programs a board variant runs
# (CMAMEM_ONLY's patterns; empty for all), and BOOT_ARGS, kernel command
# line the target always boots with, for TARGET.
target_info() {
	KERNEL_OF=$1
	TARGET_ONLY=
	BOOT_ARGS=
	ENGINE32=
	case "$1" in
	arm64-6.1) META=linux-image-arm64 ;;
	arm64-6.12) META=linux-image-6.12-arm64 ;;
	arm64-6.12-6g)
		META=linux-image-6.12-arm64
		KERNEL_OF=arm64-6.12
		ENGINE32=1
		TARGET_ONLY='*_limit_test,*_engine_test,*_dmabuf_test,*_pool_test'
		;;
	arm64-6.12-16k) META=linux-image-6.12-arm64-16k ;;
	amd64-6.1) META=linux-image-amd64 ;;
	armhf-6.1-lpae) META=linux-image-armmp-lpae ;;
	armhf-6.1) META=linux-image-armmp ;;
	arm64-debug-bounce)
		META=
		KERNEL_OF=arm64-debug
		TARGET_ONLY='*_bounce_test,*_engine_test'
		;;
	arm64-debug | arm64-bench | arm64-bench-6.12) META= ;;
	*) die "unknown target '$1' (known: $ALL_TARGETS)" ;;
	esac
	case "$1" in
	arm64-*)
		DEB_ARCH=arm64
		ARCH=arm64
		CROSS_COMPILE=aarch64-linux-gnu-
		QEMU=qemu-system-aarch64
		QEMU_MACHINE=virt
		CONSOLE=ttyAMA0
		DT_OVERLAYS=qemu-virt-cmamem.dtso
		# The bench board's pools are large enough for 64 MiB blocks.
		case "$1" in
		arm64-bench*) DT_OVERLAYS=qemu-virt-cmamem-bench.dtso ;;
		esac
		MEMORY_MB=1024
		# KASAN keeps an eighth of memory as shadow. The debug kernel
		# zeroes pages on allocation as Debian's kernels do
		# (INIT_ON_ALLOC_DEFAULT_ON), so the allocation paths boards
		# take run under KASAN and DMA-API debugging too.
		if [ "$KERNEL_OF" = arm64-debug ]; then
			MEMORY_MB=2048
			BOOT_ARGS=init_on_alloc=1
		fi
		[ "$1" = arm64-debug-bounce ] && BOOT_ARGS="$BOOT_ARGS swiotlb=force"
		# RAM starts at 1 GiB: 6 GiB of it reach 7 GiB, 3 above 4 GiB.
		if [ "$1" = arm64-6.12-6g ]; then
			MEMORY_MB=6144
			DT_OVERLAYS="$DT_OVERLAYS qemu-virt-cmamem-above4g.dtso"
		fi
		# cortex-a57 has no 16 KiB granule; "max" without pointer
		# authentication's slow TCG emulation is the fast choice there.
		case "$1" in
		*-16k) QEMU_CPU=max,pauth-impdef=on ;;
		*) QEMU_CPU=cortex-a57 ;;
		esac
		;;
	armhf-*)
		DEB_ARCH=armhf
		ARCH=arm
		CROSS_COMPILE=arm-linux-gnueabihf-
		QEMU=qemu-system-arm
		QEMU_CPU=cortex-a15
		CONSOLE=ttyAMA0
		DT_OVERLAYS=qemu-virt-arm32-cmamem.dtso
		# highmem=on lets the LPAE kernel see the board's devices and
		# RAM above 4 GiB; the classic kernel can address neither, so
		# the board keeps everything below 4 GiB for it. Both kernels
		# keep 768 MiB as lowmem, so 2 GiB and 1 GiB both give highmem.
		case "$1" in
		*-lpae)
			QEMU_MACHINE=virt,highmem=on
			MEMORY_MB=2048
			;;
		*)
			QEMU_MACHINE=virt,highmem=off
			MEMORY_MB=1024
			;;
		esac
		;;
	amd64-*)
		DEB_ARCH=amd64
		ARCH=x86_64
		CROSS_COMPILE=
		QEMU=qemu-system-x86_64
		QEMU_MACHINE=q35
		QEMU_CPU=max
		CONSOLE=ttyS0
		MEMORY_MB=1024
		;;
	esac
}

# The bus-master DMA engine every board of the matrix has: QEMU's edu PCI
# device (selftests/cmamem_engine.h drives it), at a fixed PCI address so
# that tests and the demo can name it (the guest gets it as
# CMAMEM_ENGINE_SLOT). dma_mask: the engine reaches every bus address;
# with QEMU's default (256 MiB - 1) it rejects higher ones and QEMU
# aborts. The slot is free on both machines: the devices QEMU places
# itself take the lowest free slots (q35: VGA, NIC, virtio disk and 9p;
# virt: the NIC), and q35's chipset sits at 0x1f.
ENGINE_SLOT=0000:00:0a.0
ENGINE_QEMU_DEVICE=edu,addr=0a.0,dma_mask=0xffffffffffffffff
# Boards with RAM above 4 GiB (ENGINE32=1) also get an engine with 32
# address bits, as a 32-bit FPGA DMA has: only blocks ALLOC gave below a
# max_dma_address of 0xffffffff may go to it (CMAMEM_ENGINE32_SLOT).
ENGINE32_SLOT=0000:00:0b.0
ENGINE32_QEMU_DEVICE=edu,addr=0b.0,dma_mask=0xffffffff

# Selftest builds: name, compiler.
selftest_cc() {
	case "$1" in
	aarch64) echo aarch64-linux-gnu-gcc ;;
	armhf) echo arm-linux-gnueabihf-gcc ;;
	x86_64) echo gcc ;;
	*) die "unknown selftest arch '$1'" ;;
	esac
}

# The kernel directory of TARGET, once fetched.
kernel_dir() { target_info "$1"; echo "$KERNEL_CACHE/$KERNEL_OF"; }
