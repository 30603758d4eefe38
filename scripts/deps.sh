#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install the host packages cmamem's build and tests need, from Debian only.
# Idempotent and quiet when everything is there already.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

FOREIGN_ARCHES="arm64 armhf"
PACKAGES="make gcc libc6-dev qemu-system-arm qemu-system-x86 busybox-static
	gcc-aarch64-linux-gnu libc6-dev-arm64-cross
	gcc-arm-linux-gnueabihf libc6-dev-armhf-cross
	device-tree-compiler dt-schema cpio sparse flex bison bc
	libssl-dev libelf-dev xz-utils perl python3 python3-numpy gzip kmod dwarves
	gnuplot-nox dkms groff-base man-db lcov"

missing=
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done
# arm64 and armhf packages (kernel images, headers, busybox) are
# downloaded, not installed: apt only offers them once the architecture is
# known.
# (Read once: grep -q leaving a pipe early would fail it under pipefail.)
foreign=$(dpkg --print-foreign-architectures)
need_arch=
for arch in $FOREIGN_ARCHES; do
	grep -qx "$arch" <<<"$foreign" || need_arch="$need_arch $arch"
done

if [ -z "$missing" ] && [ -z "$need_arch" ] && [ "${1:-}" != --update ]; then
	exit 0
fi
[ "$(id -u)" = 0 ] || die "missing packages:$missing; run 'make deps' as root"
for arch in $need_arch; do
	dpkg --add-architecture "$arch"
done
log "installing host packages:${missing:- (none; refreshing package lists)}"
# A mirror mid-sync can fail one index; the install below tells whether
# what we need was reachable.
apt-get update -qq || log "apt-get update reported errors; trying anyway"
if [ -n "$missing" ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
fi
