#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Rebuild modpost for a 32-bit kernel's headers (called by fetch-kernel.sh).
#
# Debian's amd64 linux-kbuild ships modpost.real-lsb-32 for 32-bit modules,
# but built with the host's 64-bit structure sizes: on an armhf module it
# stops with "sizeof(struct of_device_id)=200 is not a modulo of the size
# of section __mod_of__..._device_table" (196 bytes on armhf). modpost has
# to know the target's sizes at build time (scripts/mod/Makefile), so this
# builds it as the kernel does: devicetable-offsets.s and empty.o with the
# cross compiler through the headers' own Kbuild, then the host program
# from Debian's linux-source-6.1 (the same 6.1 series), and puts it in
# place of the headers' scripts/mod/modpost.
#
# Usage: build-modpost.sh KDIR ARCH CROSS_COMPILE
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kdir=${1:?usage: build-modpost.sh KDIR ARCH CROSS_COMPILE}
arch=${2:?usage: build-modpost.sh KDIR ARCH CROSS_COMPILE}
cross=${3:?usage: build-modpost.sh KDIR ARCH CROSS_COMPILE}

work=$(mktemp -d "$BUILD/modpost.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The few source files, from the unpacked tree build-kernel.sh keeps, or
# straight from the package.
members="scripts/mod/modpost.c scripts/mod/file2alias.c
	scripts/mod/sumversion.c scripts/mod/modpost.h scripts/mod/list.h
	scripts/mod/mk_elfconfig.c scripts/mod/devicetable-offsets.c
	scripts/mod/empty.c include/linux/mod_devicetable.h
	include/linux/license.h"
src=$BUILD/linux-source-6.1
if [ ! -f "$src/.unpacked" ]; then
	mkdir -p "$DEBS"
	deb=$(ls -t "$DEBS"/linux-source-6.1_*.deb 2>/dev/null | head -n 1 || true)
	if [ -z "$deb" ]; then
		(cd "$DEBS" && apt-get download -q -o APT::Sandbox::User=root linux-source-6.1 >/dev/null)
		deb=$(ls -t "$DEBS"/linux-source-6.1_*.deb | head -n 1)
	fi
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work" --wildcards '*.tar.xz'
	tar -xJf "$work"/usr/src/linux-source-6.1.tar.xz -C "$work" \
		$(for m in $members; do echo "linux-source-6.1/$m"; done)
	src=$work/linux-source-6.1
fi
mkdir -p "$work/tree/scripts/mod" "$work/tree/include/linux" "$work/target"
for m in $members; do
	cp "$src/$m" "$work/tree/$m"
done

# The target's side, compiled like any external module's files.
cp "$src/scripts/mod/devicetable-offsets.c" "$src/scripts/mod/empty.c" "$work/target/"
echo 'obj-m := devicetable-offsets.o empty.o' >"$work/target/Kbuild"
make -s -C "$kdir" M="$work/target" ARCH="$arch" CROSS_COMPILE="$cross" \
	devicetable-offsets.s empty.o

mod=$work/tree/scripts/mod
# scripts/Makefile.lib's sed-offsets.
{
	echo "#ifndef __DEVICETABLE_OFFSETS_H__"
	echo "#define __DEVICETABLE_OFFSETS_H__"
	sed -ne 's:^[[:space:]]*\.ascii[[:space:]]*"\(.*\)".*:\1:; /^->/{s:->#\(.*\):/* \1 */:; s:^->\([^ ]*\) [\$#]*\([^ ]*\) \(.*\):#define \1 \2 /* \3 */:; s:->::; p;}' \
		"$work/target/devicetable-offsets.s"
	echo "#endif"
} >"$mod/devicetable-offsets.h"
grep -q '^#define SIZE_of_device_id ' "$mod/devicetable-offsets.h" ||
	die "no structure sizes in $work/target/devicetable-offsets.s"
gcc -O2 -o "$mod/mk_elfconfig" "$mod/mk_elfconfig.c"
"$mod/mk_elfconfig" <"$work/target/empty.o" >"$mod/elfconfig.h"
gcc -O2 -o "$mod/modpost" "$mod/modpost.c" "$mod/file2alias.c" "$mod/sumversion.c"

install -m 0755 "$mod/modpost" "$kdir/scripts/mod/modpost"
log "$(basename "$kdir"): modpost rebuilt for $arch ($(sed -n 's/^#define SIZE_of_device_id \([0-9]*\).*/\1/p' "$mod/devicetable-offsets.h")-byte of_device_id)"
