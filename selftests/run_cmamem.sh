#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs every cmamem selftest program and exits the kselftest way: 0 when
# all passed (or skipped), 1 when any failed, 4 (skip) when the suite
# cannot run here at all: not root, or the module is not loaded.
#
# Usage: run_cmamem.sh [directory holding the *_test programs]
# The default is this script's own directory (where "make install" puts
# both). CMAMEM_SCRATCH_BLOCK names the block device the O_DIRECT tests
# may overwrite (default /dev/vda).

ksft_skip=4
dir=${1:-$(dirname "$0")}

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: the cmamem selftests must run as root"
	exit $ksft_skip
fi
if [ ! -c /dev/cmamem ]; then
	echo "SKIP: /dev/cmamem is missing (is the cmamem module loaded?)"
	exit $ksft_skip
fi

result=0
ran=0
# Every program of the Makefile's TEST_GEN_PROGS. The fault-injection
# test runs last: it may leave DMA-API debugging off for the rest of the
# boot. Programs whose kernel features are missing (fault injection,
# vgem, vivid, udmabuf, device-tree pools) skip with the reason.
for test in cmamem_ioctl_test cmamem_mmap_test cmamem_lifetime_test \
	    cmamem_pool_test cmamem_legacy_test cmamem_security_test \
	    cmamem_dmabuf_test cmamem_v4l2_test cmamem_highmem_test \
	    cmamem_stress_test \
	    cmamem_fuzz_test cmamem_fault_test; do
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
