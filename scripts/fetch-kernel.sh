#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Fetch one Debian kernel of the matrix: the unsigned image (kernel + its
# modules) and the headers to build out-of-tree modules against it, all
# unpacked under build/kernels/<target>/, nothing installed system-wide.
#
# The ABI comes from the target's metapackage, so image and headers always
# match. A second run finds build/kernels/<target>/env and fetches nothing.
#
# Usage: fetch-kernel.sh TARGET
set -euo pipefail
. "$(dirname "$0")/lib.sh"

target=${1:?usage: fetch-kernel.sh TARGET}
target_info "$target"
if [ -z "$META" ]; then
	exec "$ROOT/scripts/build-kernel.sh" "${KERNEL_OF#arm64-}"
fi
dir=$(kernel_dir "$target")
if [ -f "$dir/env" ]; then
	. "$dir/env"
	[ -f "$IMAGE" ] && [ -f "$KDIR/Makefile" ] && exit 0
fi

mkdir -p "$DEBS"
deps_of() { apt-cache depends "$1" | awk '$1 == "Depends:" { print $2 }' | tr -d '<>'; }

# linux-image-arm64 -> linux-image-6.1.0-56-arm64: the release is the rest.
image_pkg=$(deps_of "$META:$DEB_ARCH" | grep '^linux-image-' | head -n 1)
release=${image_pkg#linux-image-}
release=${release%%:*}
[ -n "$release" ] || die "cannot resolve the kernel behind $META (run 'make deps')"
headers_pkg=linux-headers-$release
# The arch headers name the arch-independent -common headers and the kbuild
# tools; the tools must be the build host's (amd64) build of them.
common_pkg=$(deps_of "$headers_pkg:$DEB_ARCH" | grep -- '-common' | sed 's/:.*//' | head -n 1)
kbuild_pkg=$(deps_of "$headers_pkg:$DEB_ARCH" | grep '^linux-kbuild-' | sed 's/:.*//' | head -n 1)
[ -n "$common_pkg" ] && [ -n "$kbuild_pkg" ] || die "cannot resolve the headers of $release"

# Architectures with Secure Boot (amd64, arm64) ship the image unsigned
# in a package of its own; armhf has only the one image package.
image_pkg=linux-image-$release-unsigned
apt-cache show "$image_pkg:$DEB_ARCH" >/dev/null 2>&1 || image_pkg=linux-image-$release

log "$target: kernel $release"
(cd "$DEBS" && apt-get download -q -o APT::Sandbox::User=root \
	"$image_pkg:$DEB_ARCH" "$headers_pkg:$DEB_ARCH" \
	"$common_pkg" "$kbuild_pkg" >/dev/null)

rm -rf "$dir"
mkdir -p "$dir/root"
for pkg in "$image_pkg" "$headers_pkg" "$common_pkg" "$kbuild_pkg"; do
	deb=$(ls -t "$DEBS/${pkg}_"*.deb | head -n 1)
	dpkg-deb -x "$deb" "$dir/root"
done

# The arch headers include the common ones by absolute path.
KDIR=$dir/root/usr/src/$headers_pkg
sed -i "s|^include /usr/src/|include $dir/root/usr/src/|" "$KDIR/Makefile"

IMAGE=$dir/root/boot/vmlinuz-$release
MODDIR=$dir/root/lib/modules/$release
[ -f "$IMAGE" ] || die "no kernel image in the $release package"
# Debian's cross modpost only knows 64-bit structure sizes.
if [ "$DEB_ARCH" = armhf ]; then
	"$ROOT/scripts/build-modpost.sh" "$KDIR" "$ARCH" "$CROSS_COMPILE"
fi
# Packages leave modules.dep to depmod at install time.
depmod -b "$dir/root" "$release"
cat >"$dir/env" <<EOT
RELEASE=$release
KDIR=$KDIR
IMAGE=$IMAGE
MODDIR=$MODDIR
EOT
