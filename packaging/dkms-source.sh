#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Put the cmamem sources DKMS needs into DIRECTORY/cmamem-<version> (the
# version is dkms.conf's PACKAGE_VERSION), ready for "dkms add":
#
#   sudo packaging/dkms-source.sh /usr/src && sudo dkms add cmamem/1.0.0
#
# Copies dkms.conf, src/ (without build outputs) and uapi/. Prints the
# directory it filled. An existing directory of that version is replaced.
set -eu

usage() {
	echo "usage: $0 DIRECTORY" >&2
	exit 2
}
[ $# -eq 1 ] || usage
destination=$1
root=$(cd "$(dirname "$0")/.." && pwd)

version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$root/dkms.conf")
[ -n "$version" ] || { echo "$0: no PACKAGE_VERSION in $root/dkms.conf" >&2; exit 1; }
[ -d "$destination" ] || { echo "$0: $destination is not a directory" >&2; exit 1; }

tree=$destination/cmamem-$version
rm -rf "$tree"
mkdir -p "$tree/src" "$tree/uapi/linux"
cp "$root/dkms.conf" "$tree/"
# Sources only: a tree someone built in keeps objects next to them.
for file in "$root"/src/*.c "$root"/src/*.h "$root/src/Kbuild"; do
	[ -f "$file" ] && cp "$file" "$tree/src/"
done
[ -f "$root/src/Makefile" ] && cp "$root/src/Makefile" "$tree/src/"
cp "$root/uapi/linux/cmamem.h" "$tree/uapi/linux/"
echo "$tree"
