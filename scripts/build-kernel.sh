#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build one of the project's own arm64 kernels from Debian's linux-source-6.1
# (or linux-source-6.12 for bench-6.12): allnoconfig plus the fragments in
# kernel-configs/. Cached under build/custom-kernels/ by a hash of the
# fragments and the source package, so it is built once; about 7 minutes on
# 2 cores.
#
# Usage: build-kernel.sh debug|bench|bench-6.12
#   debug:      qemu-arm64.config + debug.config (KASAN, lockdep, DMA-API
#               debug, kmemleak, fault injection, UBSAN, ...)
#   bench:      qemu-arm64.config + bench.config (the ARMv8.1 features
#               Debian's kernels enable, hardware dirty-bit management above
#               all, and the function-graph tracer)
#   bench-6.12: the same fragments on linux-source-6.12, the newest LTS,
#               so that its own dma-buf CMA heap is measured too
# Writes build/kernels/arm64-<flavour>/env like fetch-kernel.sh does.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

flavour=${1:?usage: build-kernel.sh debug|bench|bench-6.12}
version=6.1
case "$flavour" in
debug) fragments="qemu-arm64.config debug.config" ;;
bench) fragments="qemu-arm64.config bench.config" ;;
bench-6.12)
	fragments="qemu-arm64.config bench.config"
	version=6.12
	;;
*) die "unknown kernel flavour '$flavour'" ;;
esac
source_pkg=linux-source-$version

mkdir -p "$DEBS"
deb=$(ls -t "$DEBS/${source_pkg}_"*.deb 2>/dev/null | head -n 1 || true)
if [ -z "$deb" ]; then
	(cd "$DEBS" && apt-get download -q -o APT::Sandbox::User=root "$source_pkg" >/dev/null)
	deb=$(ls -t "$DEBS/${source_pkg}_"*.deb | head -n 1)
fi

fragment_paths=$(for f in $fragments; do echo "$ROOT/kernel-configs/$f"; done)
hash=$( (basename "$deb"; cat $fragment_paths) | sha256sum | cut -c1-12)
out=$BUILD/custom-kernels/$flavour-$hash
envdir=$(kernel_dir "arm64-$flavour")
if [ -f "$out/.built" ] && [ -f "$envdir/env" ] && grep -q "$hash" "$envdir/env"; then
	exit 0
fi
kmake() {
	make -s -C "$src" O="$out" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- "$@"
}
# The env file names one build; worktrees with other fragments share the
# build directory, so a kernel already built for these fragments is only
# named again, not rebuilt.
write_env() {
	mkdir -p "$envdir"
	cat >"$envdir/env.$$" <<EOT
# config hash $hash
RELEASE=$(kmake -s kernelrelease)
KDIR=$out
IMAGE=$out/arch/arm64/boot/Image
MODDIR=$out/modroot
EOT
	mv "$envdir/env.$$" "$envdir/env"
}
src=$BUILD/$source_pkg
if [ -f "$out/.built" ]; then
	write_env
	exit 0
fi

if [ ! -f "$src/.unpacked" ]; then
	log "unpacking $(basename "$deb")"
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$src.tmp" --wildcards '*.tar.xz'
	tar -xJf "$src.tmp/usr/src/$source_pkg.tar.xz" -C "$src.tmp"
	mv "$src.tmp/$source_pkg" "$src"
	rm -rf "$src.tmp"
	touch "$src/.unpacked"
fi

rm -rf "$out"
mkdir -p "$out"
cat $fragment_paths >"$out/fragment.config"
KCONFIG_ALLCONFIG="$out/fragment.config" kmake allnoconfig >/dev/null
# Kconfig drops an option whose dependencies are not met, silently: say so.
dropped=$(grep -E '^CONFIG_' "$out/fragment.config" | while read -r line; do
	grep -qxF "$line" "$out/.config" || echo "$line"
done)
[ -z "$dropped" ] || die "kernel-configs: these did not survive into .config:
$dropped"

log "building the $flavour kernel in ${out#$ROOT/} (about 7 minutes on 2 cores)"
start=$(date +%s)
kmake -j"$(nproc)" Image modules >"$out/build.log" 2>&1 ||
	{ tail -n 30 "$out/build.log" >&2; die "the $flavour kernel did not build"; }
log "built in $(( $(date +%s) - start ))s"
touch "$out/.built"

# No kernel modules are needed in the guest: everything is built in.
mkdir -p "$out/modroot"
: >"$out/modroot/modules.dep"
write_env
