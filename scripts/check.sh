#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make check`: the lint gates, then the selftests on every kernel of the
# matrix, then one line of totals across all of them:
#   N passed, N failed, N skipped
# Every gate and every kernel runs even after a failure, so one run shows
# everything that is wrong. Exits non-zero on any failure.
#
# Environment: KERNELS (space-separated subset of the matrix).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

"$ROOT/scripts/deps.sh" || exit 1
"$ROOT/scripts/fetch-tools.sh" || exit 1

passed=0
failed=0
skipped=0
failures=""
coverage=""
# What went wrong on each kernel, quoted under the totals (see vm-run.sh).
why=$BUILD/results/why.$$
mkdir -p "$BUILD/results" && : >"$why"
gate() { # name command...
	local name=$1
	shift
	if "$@"; then
		passed=$((passed + 1))
		echo "ok: $name"
	else
		failed=$((failed + 1))
		failures="$failures $name"
		echo "FAILED: $name"
	fi
}

tools=$BUILD/kernel-tools/scripts
# Not the files an in-tree build generates (cmamem.mod.c).
kernel_sources() {
	ls "$ROOT"/src/*.[ch] "$ROOT"/uapi/linux/cmamem.h | grep -v '\.mod\.c$'
}
checkpatch() {
	local out
	out=$(perl "$tools/checkpatch.pl" --strict --no-tree --quiet --show-types \
		-f $(kernel_sources) 2>&1)
	local status=$?
	[ -n "$out" ] && echo "$out"
	return $status
}
kerneldoc() {
	perl "$tools/kernel-doc" -none -Werror $(kernel_sources)
}

gate checkpatch checkpatch
gate kernel-doc kerneldoc
gate dt-schema "$ROOT/scripts/dt-check.sh" "" "$BUILD/dt"
# The 32-bit board's overlay, on its smaller (1 GiB) configuration.
gate dt-schema-arm32 env DT_TARGET=armhf-6.1 "$ROOT/scripts/dt-check.sh" "" "$BUILD/dt-arm32"
# The board with RAM above 4 GiB: both overlays, pools up there.
gate dt-schema-above4g env DT_TARGET=arm64-6.12-6g "$ROOT/scripts/dt-check.sh" "" "$BUILD/dt-above4g"
gate userspace "$ROOT/scripts/check-userspace.sh"

for target in ${KERNELS:-$ALL_TARGETS}; do
	result=$BUILD/results/$target.result.$$
	rm -f "$result"
	CMAMEM_RESULT_FILE=$result "$ROOT/scripts/vm-run.sh" "$target" check ||
		failures="$failures $target"
	if [ -f "$result" ]; then
		# passed=N failed=N skipped=N, written by vm-run.sh
		passed=$((passed + $(sed -n 's/.*passed=\([0-9]*\).*/\1/p' "$result")))
		failed=$((failed + $(sed -n 's/.*failed=\([0-9]*\).*/\1/p' "$result")))
		skipped=$((skipped + $(sed -n 's/.*skipped=\([0-9]*\).*/\1/p' "$result")))
		# The debug kernel's runs measure the module's coverage, each
		# adding to the last: the last line has them all.
		line=$(grep '^coverage of' "$result" || true)
		[ -n "$line" ] && coverage=$line
		sed -n 's/^why: //p' "$result" >>"$why"
		rm -f "$result"
	else
		# It failed before the guest booted (a fetch or a build).
		failed=$((failed + 1))
	fi
done

[ -n "$coverage" ] && echo "$coverage"
cat "$why" && rm -f "$why"
[ -n "$failures" ] && echo "failed:$failures"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ] && [ -z "$failures" ]
