#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build cmamem.ko for one kernel of the matrix with W=1 and sparse (C=1),
# failing on any compiler or sparse warning. The sources are copied to
# build/obj/<target>/ so that several kernels can be built side by side and
# no object lands in src/.
#
# Usage: build-module.sh TARGET [KDIR]   (KDIR overrides the fetched headers)
#
# CMAMEM_GCOV=1 builds the module with GCOV_PROFILE=y for coverage (only a
# kernel with CONFIG_GCOV_KERNEL can load it: the debug kernel); the .gcno
# files stay beside the objects for scripts/coverage.sh.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

target=${1:?usage: build-module.sh TARGET [KDIR]}
target_info "$target"
if [ -n "${2:-}" ]; then
	KDIR=$2
else
	"$ROOT/scripts/fetch-kernel.sh" "$target"
	. "$(kernel_dir "$target")/env"
fi

# CMAMEM_OBJ_DIR lets concurrent runs build in directories of their own.
obj=${CMAMEM_OBJ_DIR:-$BUILD/obj/$target}
rm -rf "$obj"
mkdir -p "$obj"
cp -r "$ROOT/src" "$ROOT/uapi" "$obj/"
gcov=
[ "${CMAMEM_GCOV:-}" = 1 ] && gcov="GCOV_PROFILE=y"
log "$target: building cmamem.ko (W=1, sparse${gcov:+, gcov})"
if ! make -s -C "$KDIR" M="$obj/src" ARCH="$ARCH" CROSS_COMPILE="$CROSS_COMPILE" \
	W=1 C=1 $gcov modules >"$obj/build.log" 2>&1; then
	cat "$obj/build.log" >&2
	die "$target: module build failed"
fi
# Kbuild notes that are not about our code: BTF needs vmlinux, which
# header packages do not ship.
if grep -v 'Skipping BTF generation' "$obj/build.log" | grep -Eq 'warning|error'; then
	cat "$obj/build.log" >&2
	die "$target: the module build printed warnings"
fi
echo "$obj/src/cmamem.ko"
