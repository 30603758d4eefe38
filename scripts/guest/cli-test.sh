#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The cmamem command against the driver, in the guest, for what the host
# checks (scripts/check-userspace.sh, section cli) cannot reach without it:
# a background --hold freed by SIGTERM, free's exit status while another
# holder keeps the block, the --json of alloc, attach, info, free, pools and
# list (standard output holding the document and nothing else), the
# message for an alignment larger than the pool, a fragmented pool's
# largest free run in pools and in alloc's failure, alloc's DMA address
# limit (--max-address, --address-bits) met and refused with each of its
# errors' messages, and the default pool's figures derived from CmaTotal
# and CmaFree. Prints TAP; run by /init.

plan=22
number=0
ok() { # description: the last command's status is the verdict
	status=$?
	number=$((number + 1))
	if [ "$status" = 0 ]; then
		echo "ok $number - $1"
	else
		echo "not ok $number - $1"
		for file in /tmp/cli.out /tmp/cli.err; do
			[ -s "$file" ] && sed 's/^/#   /' "$file"
		done
	fi
	return 0
}
# One JSON document on stdout: it starts with $1 and ends with $2 (the
# host check parses the same printers' output with a JSON parser).
json_document() { # first last
	[ "$(head -c 1 /tmp/cli.out)" = "$1" ] &&
		[ "$(tail -n 1 /tmp/cli.out)" = "$2" ]
}

if ! command -v cmamem >/dev/null; then
	echo "1..0 # SKIP no cmamem command"
	exit 4
fi
echo "1..$plan"

cmamem alloc cli-held 64K --hold --json </dev/null >/tmp/cli.held 2>/tmp/cli.held-err &
holder=$!
tries=0
until cmamem info cli-held >/dev/null 2>&1 || [ $tries = 50 ]; do
	sleep 0.1
	tries=$((tries + 1))
done
cp /tmp/cli.held /tmp/cli.out
cp /tmp/cli.held-err /tmp/cli.err
json_document '{' '}' && grep -q '"allocated": true' /tmp/cli.out &&
	grep -q 'waiting for' /tmp/cli.err
ok "alloc --hold --json in the background: the JSON on stdout, the wait on stderr"

cmamem free cli-held >/tmp/cli.out 2>/tmp/cli.err
[ $? = 1 ] && grep -q 'is NOT freed: 1 other handle' /tmp/cli.err
ok "free of a block another process holds exits 1 and says it is not freed"

cmamem free cli-held --json >/tmp/cli.out 2>/tmp/cli.err
[ $? = 1 ] && json_document '{' '}' && grep -q '"freed": false' /tmp/cli.out
ok "free --json says freed: false"

cmamem attach cli-held --json >/tmp/cli.out 2>/tmp/cli.err
[ $? = 0 ] && json_document '{' '}' && grep -q '"allocated": false' /tmp/cli.out &&
	grep -q 'dropped' /tmp/cli.err
ok "attach --json: the JSON on stdout, the messages on stderr"

# Names are per user: root's block is found under its owner only.
cmamem attach cli-held --owner 0 >/tmp/cli.out 2>/tmp/cli.err &&
	! cmamem attach cli-held --owner 65534 >/tmp/cli.out 2>/tmp/cli.err &&
	grep -q 'No such file' /tmp/cli.err
ok "attach --owner finds the block under its owner and not under another user"

cmamem info cli-held --json >/tmp/cli.out 2>/tmp/cli.err
[ $? = 0 ] && json_document '{' '}' && grep -q '"owner_uid": 0' /tmp/cli.out &&
	grep -q '"handles": 2' /tmp/cli.out
ok "info --json counts the holder and this command"

cmamem list --json >/tmp/cli.out 2>/tmp/cli.err
[ $? = 0 ] && json_document '[' ']' && grep -q '"name": "cli-held"' /tmp/cli.out &&
	grep -q '"owner_uid"' /tmp/cli.out && ! grep -q '"uid"' /tmp/cli.out
ok "list --json names the owner owner_uid, as info does"

cmamem pools --json >/tmp/cli.out 2>/tmp/cli.err
[ $? = 0 ] && json_document '[' ']' && grep -q '"max_block_bytes": null' /tmp/cli.out
ok "pools --json: no max_block_size is null"

kill -TERM "$holder"
wait "$holder"
[ $? = 0 ] && grep -q 'got Terminated' /tmp/cli.held-err
ok "the background holder lets go on SIGTERM and exits 0"

cmamem info cli-held >/tmp/cli.out 2>/tmp/cli.err
[ $? = 1 ]
ok "the block is gone with its holder"

cmamem alloc cli-once 4K --json >/tmp/cli.out 2>/tmp/cli.err
[ $? = 0 ] && json_document '{' '}' && grep -q 'dropped' /tmp/cli.err
ok "alloc --json without --hold"

# Every block ends at or below the highest 64-bit address; a limit below
# the block's own length cannot be met in any pool (ERANGE).
cmamem alloc cli-limit-any 64K --address-bits 64 --json >/tmp/cli.out 2>/tmp/cli.err
[ $? = 0 ] && json_document '{' '}' && grep -q '"allocated": true' /tmp/cli.out
ok "alloc --address-bits 64: any block meets it, and the JSON is alloc's"
cmamem alloc cli-limit-small 64K --max-address 0xfff >/tmp/cli.out 2>/tmp/cli.err
[ $? = 1 ] && [ ! -s /tmp/cli.out ] &&
	grep -q 'alloc: "cli-limit-small": 64 KiB cannot lie at or below DMA address 0xfff: the limit is below the block' /tmp/cli.err
ok "alloc with a limit below the block's length exits 1 and says so"

# The camera pool of the arm64 board's device tree, 32 MiB: no alignment
# larger than the pool can be met (1T passes the address-space limit of
# 32-bit processes and the module's max_block_size, which is 0).
if [ -c /dev/cmamem-camera ]; then
	cmamem alloc cli-aligned 4K --align 1T --pool camera >/tmp/cli.out 2>/tmp/cli.err
	[ $? = 1 ] && grep -q 'an alignment of 1 TiB cannot be met in pool camera, which is 32 MiB' /tmp/cli.err
	ok "alloc with an alignment larger than the pool says so"
	cmamem alloc cli-large 64M --pool camera >/tmp/cli.out 2>/tmp/cli.err
	[ $? = 1 ] && grep -q '64 MiB is larger than pool camera (32 MiB)' /tmp/cli.err
	ok "alloc larger than the pool says so"
	# Fill the pool with eight 4 MiB blocks, let every other one go:
	# 16 MiB free in runs of 4 MiB at most.
	holders=""
	for index in 0 1 2 3 4 5 6 7; do
		cmamem alloc cli-frag$index 4M --pool camera --hold </dev/null \
			>/dev/null 2>&1 &
		holders="$holders $!"
		tries=0
		until cmamem info cli-frag$index --pool camera >/dev/null 2>&1 ||
			[ $tries = 50 ]; do
			sleep 0.1
			tries=$((tries + 1))
		done
	done
	set -- $holders
	kill -TERM "$1" "$3" "$5" "$7"
	wait "$1" "$3" "$5" "$7"
	cmamem pools >/tmp/cli.out 2>/tmp/cli.err
	grep -Eq '^camera +cma +32 MiB +16 MiB +16 MiB +4 MiB ' /tmp/cli.out
	ok "pools shows the camera pool's largest free run beside its free bytes"
	cmamem alloc cli-frag 8M --pool camera >/tmp/cli.out 2>/tmp/cli.err
	[ $? = 1 ] && grep -q 'no room for 8 MiB in pool camera: 16 MiB of 32 MiB free, but the largest free run is 4 MiB: the pool is fragmented' /tmp/cli.err
	ok "alloc in a fragmented pool says it is fragmented"
	kill -TERM "$2" "$4" "$6" "$8"
	wait "$2" "$4" "$6" "$8"

	# DMA address limits in the empty camera pool: its first block lies
	# at the pool's lowest address, LOW. Another 4 MiB block fits below
	# LOW + 8 MiB; below LOW + 6 MiB only in the room the first block
	# takes (EADDRNOTAVAIL); below LOW + 2 MiB nowhere (ERANGE).
	cmamem alloc cli-low 4M --pool camera --hold --json </dev/null \
		>/tmp/cli.low 2>/dev/null &
	holder=$!
	tries=0
	until cmamem info cli-low --pool camera >/dev/null 2>&1 ||
		[ $tries = 50 ]; do
		sleep 0.1
		tries=$((tries + 1))
	done
	low=$(sed -n 's/^ *"dma_address": \([0-9]*\),*$/\1/p' /tmp/cli.low)
	[ -n "$low" ]
	ok "alloc --json in the camera pool gives root the DMA address"
	limit=$(printf '%#x' $((${low:-0} + (8 << 20) - 1)))
	cmamem alloc cli-limited 4M --pool camera --max-address "$limit" --json \
		>/tmp/cli.out 2>/tmp/cli.err
	address=$(sed -n 's/^ *"dma_address": \([0-9]*\),*$/\1/p' /tmp/cli.out)
	[ -n "$address" ] && [ $((address + (4 << 20) - 1)) -le $((limit)) ]
	ok "alloc --max-address LOW+8M-1 places the block below the limit"
	limit=$(printf '%#x' $((${low:-0} + (6 << 20) - 1)))
	cmamem alloc cli-limited 4M --pool camera --max-address "$limit" \
		>/tmp/cli.out 2>/tmp/cli.err
	[ $? = 1 ] && grep -q "alloc: \"cli-limited\": pool camera has no room for 4 MiB at or below DMA address $limit, only above it: free blocks in the low part of the pool" /tmp/cli.err
	ok "alloc with room only above the limit says to free blocks below it"
	limit=$(printf '%#x' $((${low:-0} + (2 << 20) - 1)))
	cmamem alloc cli-limited 4M --pool camera --max-address "$limit" \
		>/tmp/cli.out 2>/tmp/cli.err
	[ $? = 1 ] && grep -q "alloc: \"cli-limited\": pool camera cannot hold 4 MiB at or below DMA address $limit: it lies above the limit, or too little of it lies below.*: use a pool in low memory" /tmp/cli.err
	ok "alloc with a limit the pool cannot meet says to use a pool in low memory"
	kill -TERM "$holder"
	wait "$holder"
else
	for skipped in 1 2 3 4 5 6 7 8; do
		echo "ok $((number + skipped)) # SKIP no camera pool (the arm64 board's device tree has one)"
	done
fi
cmamem pools >/tmp/cli.out 2>/tmp/cli.err
if grep -q '^default  *default-cma ' /tmp/cli.out; then
	grep -q '^default: ~ TOTAL and FREE are the kernel' /tmp/cli.out &&
		grep -Eq '^default +default-cma +~' /tmp/cli.out
	ok "pools marks the default pool's figures as derived from CmaTotal and CmaFree"
else
	grep -q '^default ' /tmp/cli.out && ! grep -q '^default:' /tmp/cli.out
	ok "pools: the default pool without CMA has no derived figures"
fi
exit 0
