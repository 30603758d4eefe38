#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs every cmamem selftest program and exits the kselftest way: 0 when
# all passed (or skipped), 1 when any failed, 4 (skip) when the suite
# cannot run here at all: not root, or the module is not loaded.
#
# Usage: run_cmamem.sh [directory holding the *_test programs]
# The default is this script's own directory (where "make install" puts
# both). The programs to run, in order, are those of the Makefile's
# TEST_GEN_PROGS, which "make" writes to cmamem_tests.list in that
# directory. CMAMEM_SCRATCH_BLOCK names the block device the O_DIRECT
# tests may overwrite (default /dev/vda).

ksft_skip=4
dir=${1:-$(dirname "$0")}
list=$dir/cmamem_tests.list

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: the cmamem selftests must run as root"
	exit $ksft_skip
fi
if [ ! -c /dev/cmamem ]; then
	echo "SKIP: /dev/cmamem is missing (is the cmamem module loaded?)"
	exit $ksft_skip
fi

if [ ! -r "$list" ]; then
	echo "not ok: $list is missing (\"make\" writes it)"
	exit 1
fi

result=0
ran=0
# In the list's order, which keeps the fault-injection test last (see the
# Makefile). Programs whose kernel features are missing (fault injection,
# vgem, vivid, udmabuf, device-tree pools) skip with the reason.
for test in $(cat "$list"); do
	if [ ! -x "$dir/$test" ]; then
		echo "not ok: $dir/$test is missing"
		result=1
		continue
	fi
	echo "# running $test"
	"$dir/$test"
	status=$?
	ran=$((ran + 1))
	case $status in
	0 | $ksft_skip) ;;
	*)
		echo "# $test failed with status $status"
		result=1
		;;
	esac
done
echo "# ran $ran cmamem test programs"
exit $result
