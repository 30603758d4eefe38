#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Fetch what comes from the kernel source but is not ours to commit: the
# kselftest harness headers, checkpatch.pl with its data files, and
# kernel-doc, from Debian's linux-source-6.12; and arm64 and armhf
# busyboxes for those initramfs. Everything lands in build/; a second run fetches nothing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

tools=$BUILD/kernel-tools
if [ ! -f "$tools/.done" ]; then
	mkdir -p "$DEBS" "$tools"
	(cd "$DEBS" && apt-get download -q -o APT::Sandbox::User=root linux-source-6.12 >/dev/null)
	deb=$(ls -t "$DEBS"/linux-source-6.12_*.deb | head -n 1)
	tmp=$(mktemp -d)
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" --wildcards '*.tar.xz'
	members="tools/testing/selftests/kselftest_harness.h
		tools/testing/selftests/kselftest.h
		scripts/checkpatch.pl scripts/spelling.txt
		scripts/const_structs.checkpatch scripts/kernel-doc"
	tar -xJf "$tmp"/usr/src/linux-source-6.12.tar.xz -C "$tmp" \
		$(for m in $members; do echo "linux-source-6.12/$m"; done)
	mkdir -p "$tools/include" "$tools/scripts"
	cp "$tmp"/linux-source-6.12/tools/testing/selftests/kselftest*.h "$tools/include/"
	cp "$tmp"/linux-source-6.12/scripts/{checkpatch.pl,spelling.txt,const_structs.checkpatch,kernel-doc} "$tools/scripts/"
	rm -rf "$tmp"
	touch "$tools/.done"
fi

# Static busyboxes for the arm64 and armhf initramfs (the amd64 one is the
# host's own).
for arch in arm64 armhf; do
	busybox=$BUILD/busybox-$arch/bin/busybox
	[ -x "$busybox" ] && continue
	mkdir -p "$DEBS"
	(cd "$DEBS" && apt-get download -q -o APT::Sandbox::User=root "busybox-static:$arch" >/dev/null)
	deb=$(ls -t "$DEBS"/busybox-static_*_"$arch".deb | head -n 1)
	rm -rf "$BUILD/busybox-$arch"
	dpkg-deb -x "$deb" "$BUILD/busybox-$arch"
done
