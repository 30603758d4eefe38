#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Line and branch coverage of the module's sources (src/) by the selftests,
# measured on the debug kernel (arm64-debug, CONFIG_GCOV_KERNEL): the only
# kernel of the matrix that can run a module built with GCOV_PROFILE.
# docs/testing.md says what is counted and what is not.
#
# Usage:
#   coverage.sh          `make coverage`: boots arm64-debug with the whole
#                        suite (vm-run.sh arm64-debug check, which measures),
#                        and arm64-debug-bounce (swiotlb=force) with its
#                        suites, which adds to it, then `report`; fails when
#                        the tests failed
#   coverage.sh report   `make coverage-report`: the reports of the last
#                        measured run (make check's debug run counts) without
#                        booting: build/coverage/summary.txt, unreached.txt
#                        and html/index.html (genhtml)
#   coverage.sh capture TARGET OBJDIR GCDADIR
#                        (vm-run.sh, after a check boot) the .gcda files the
#                        guest wrote, with the .gcno files of the module build
#                        in OBJDIR, into build/coverage/cmamem.info with a copy
#                        of the sources measured, and the text reports; prints
#                        the one-line summary
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=$BUILD/coverage
# lcov 1.x's name for it (lcov 2 calls it branch_coverage).
lcov_rc=(--rc lcov_branch_coverage=1)
# The branches of a lockdep_assert_held() line are not counted: its sides
# not taken are lockdep switched off by an earlier report and the WARN that
# the lock is not held, both of which fail make check (docs/testing.md).
# Its line still counts.
exclude_branches=(--rc 'lcov_excl_br_line=LCOV_EXCL_BR_LINE|^\s*lockdep_assert_held\(')

# The gcov of the compiler that built the kernel, and so the module:
# gcov reads only the .gcno and .gcda format of its own gcc version.
gcov_tool() { # KDIR
	local version
	version=$(sed -n 's/^CONFIG_GCC_VERSION=\([0-9]*\)$/\1/p' "$1/.config")
	[ -n "$version" ] || die "$1/.config names no CONFIG_GCC_VERSION"
	local tool=${CROSS_COMPILE}gcov-$((version / 10000))
	command -v "$tool" >/dev/null || die "$tool is missing (make deps)"
	echo "$tool"
}

capture() { # TARGET OBJDIR GCDADIR
	local target=$1 objdir=$2 gcda=$3 data count=0
	target_info "$target"
	. "$(kernel_dir "$target")/env"
	for data in "$gcda"/*.gcda; do
		[ -f "$objdir/$(basename "$data" .gcda).gcno" ] || continue
		cp "$data" "$objdir/"
		count=$((count + 1))
	done
	[ "$count" -gt 0 ] || die "$target: none of the guest's .gcda files belongs to the module"
	mkdir -p "$BUILD"
	local new
	new=$(mktemp -d "$BUILD/coverage.new.XXXXXX")
	# lcov 1.16's geninfo warns of its own redefined subroutines under
	# Debian 12's perl: its messages are shown only when it fails.
	lcov --quiet "${lcov_rc[@]}" "${exclude_branches[@]}" \
		--gcov-tool "$(gcov_tool "$KDIR")" --capture --directory "$objdir" --output-file "$new/all.info" \
		>"$new/lcov.log" 2>&1 || { cat "$new/lcov.log" >&2; die "lcov --capture failed"; }
	# The module's own files only (not the kernel headers' inline
	# functions), as they will be found: the copy kept beside them.
	lcov --quiet "${lcov_rc[@]}" --extract "$new/all.info" "$objdir/*" \
		--output-file "$new/src.info" >&2
	rm "$new/lcov.log"
	mkdir "$new/src"
	cp "$objdir"/*.c "$objdir"/*.h "$new/src/"
	rm -f "$new/src/"*.mod.c
	sed "s|^SF:$objdir/|SF:$out/src/|" "$new/src.info" >"$new/cmamem.info"
	rm "$new/all.info" "$new/src.info"
	# A CMAMEM_ONLY run measured only some programs: the label says so.
	local label="$target${CMAMEM_ONLY:+ only=$CMAMEM_ONLY}"
	# A board variant of the debug kernel (arm64-debug-bounce) adds its
	# counts to the last run of the debug kernel itself, when that run
	# measured the same sources: make check runs them one after the other.
	if [ "$target" != arm64-debug ] && [ -f "$out/cmamem.info" ] &&
		! grep -q ' + ' "$out/target" && diff -rq "$out/src" "$new/src" >/dev/null; then
		lcov --quiet "${lcov_rc[@]}" --add-tracefile "$out/cmamem.info" \
			--add-tracefile "$new/cmamem.info" --output-file "$new/merged.info" >&2
		mv "$new/merged.info" "$new/cmamem.info"
		label="$(cat "$out/target") + $label"
	fi
	echo "$label" >"$new/target"
	rm -rf "$out.old"
	[ -d "$out" ] && mv "$out" "$out.old"
	mv "$new" "$out"
	rm -rf "$out.old"
	python3 "$ROOT/scripts/coverage-summary.py" "$out/cmamem.info" \
		"$out/summary.txt" "$out/unreached.txt" "$label"
}

report() {
	"$ROOT/scripts/deps.sh"
	[ -f "$out/cmamem.info" ] ||
		die "no coverage measured yet: run 'make coverage' (or make check on arm64-debug)"
	local target
	target=$(cat "$out/target")
	rm -rf "$out/html"
	genhtml --quiet "${lcov_rc[@]}" --branch-coverage --legend \
		--title "cmamem src/ on $target" --prefix "$out/src" \
		--output-directory "$out/html" "$out/cmamem.info" >&2
	cat "$out/summary.txt"
	echo
	echo "every line and branch not reached: ${out#"$ROOT"/}/unreached.txt"
	echo "HTML report: ${out#"$ROOT"/}/html/index.html"
}

case "${1:-}" in
capture)
	shift
	capture "$@"
	;;
report)
	report
	;;
"")
	# Never the figures of an earlier run.
	rm -rf "$out"
	status=0
	for target in arm64-debug arm64-debug-bounce; do
		"$ROOT/scripts/vm-run.sh" "$target" check || status=1
	done
	report
	[ "$status" = 0 ] || die "the tests failed (see above); the figures are those of these runs"
	;;
*)
	die "usage: coverage.sh [report | capture TARGET OBJDIR GCDADIR]"
	;;
esac
