#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The cmamem command against the driver, in the guest, for what the host
# checks (scripts/check-userspace.sh, section cli) cannot reach without it:
# a background --hold freed by SIGTERM, free's exit status while another
# holder keeps the block, the --json of alloc, attach, info, free, pools and
# list (standard output holding the document and nothing else), the
# message for an alignment larger than the pool, a fragmented pool's
# largest free run in pools and in alloc's failure, and the default pool's
# figures derived from CmaTotal and CmaFree. Prints TAP; run by /init.

plan=15
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
else
	for skipped in 1 2 3 4; do
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
