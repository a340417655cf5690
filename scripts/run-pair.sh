#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-pair.sh - the two-kernel lane: two test VMs, each booting its own
# kernel and loading its own xtcp module, joined by a virtio-net link.
#
#	scripts/run-pair.sh [--debug] [--timeout SEC]
#
# The link is qemu's dgram netdev over two Unix datagram sockets on the
# host: each VM sends its Ethernet frames to the other's socket, so they
# may boot in either order. The server VM runs `selftests/pair.sh server`,
# the client VM `selftests/pair.sh client`, which prints the cases (TAP).
# The lane passes only if both VMs pass (a verdict, status 0, a clean
# kernel log on each).
#
# Prints the client's output, then the server's; the last line is
# "N passed, N failed, N skipped", as scripts/run-tests.sh.

set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$REPO/build}
export BUILD
TIMEOUT=1200
VM_ARGS=(--tcg-single -q)

usage() {
	sed -n '5,6p' "$0" | sed 's/^#\t*//'
}

while (($#)); do
	case $1 in
	--debug)
		kdir=$("$REPO/scripts/debug-kernel.sh" --print-kdir)
		VM_ARGS+=(--kernel "$("$REPO/scripts/debug-kernel.sh" --print-kernel)"
			--kdir "$kdir")
		BUILD=$BUILD/debug
		export XTCP_TIMEOUT_SCALE=${XTCP_TIMEOUT_SCALE:-10}
		TIMEOUT=12000
		;;
	--timeout) TIMEOUT=${2:?}; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done

[[ -x $BUILD/selftests/pair.sh && -x $BUILD/selftests/xtcp_xfer ]] || {
	echo "run-pair: $BUILD/selftests/pair.sh missing; run make" >&2
	exit 2
}

# The sockets of the link, the two VMs' out directories and their logs.
mkdir -p "$BUILD/vm"
DIR=$(mktemp -d "$BUILD/vm/pair.XXXXXX")

# netdev LOCAL REMOTE: the dgram link, seen from one side.
netdev() {
	echo "dgram,local.type=unix,local.path=$DIR/$1.sock,remote.type=unix,remote.path=$DIR/$2.sock"
}

# Wait until the server VM has started (its out directory has the guest's
# parameters): both VMs would otherwise build the same initramfs at once.
server_started() {
	local i

	for ((i = 0; i < 600; i++)); do
		[[ -e $DIR/server/params ]] && return 0
		kill -0 "$SERVER_PID" 2>/dev/null || return 1
		sleep 0.2
	done
	return 1
}

START=$SECONDS
setsid "$REPO/scripts/vm.sh" "${VM_ARGS[@]}" --timeout "$TIMEOUT" \
	--nic "$(netdev server client)" --mac 52:54:00:78:74:01 \
	--out "$DIR/server" \
	-- "$BUILD/selftests/pair.sh" server >"$DIR/server.log" 2>&1 &
SERVER_PID=$!
CLIENT_RC=0
if server_started; then
	"$REPO/scripts/vm.sh" "${VM_ARGS[@]}" --timeout "$TIMEOUT" \
		--nic "$(netdev client server)" --mac 52:54:00:78:74:02 \
		--out "$DIR/client" \
		-- "$BUILD/selftests/pair.sh" client >"$DIR/client.log" 2>&1 ||
		CLIENT_RC=$?
else
	echo "run-pair: the server VM did not start" >"$DIR/client.log"
	CLIENT_RC=1
fi
# The server stops when the client tells it to; if the client could not,
# it is stopped a minute later.
for ((i = 0; i < 300; i++)); do
	kill -0 "$SERVER_PID" 2>/dev/null || break
	sleep 0.2
done
if kill -0 "$SERVER_PID" 2>/dev/null; then
	echo "run-pair: stopping the server VM" >>"$DIR/server.log"
	kill -TERM -- "-$SERVER_PID" 2>/dev/null || true
fi
SERVER_RC=0
wait "$SERVER_PID" || SERVER_RC=$?

echo "--- client machine"
cat "$DIR/client.log"
echo "--- server machine"
cat "$DIR/server.log"

pass=$(grep -c -E '^ok [0-9]+ [^#]*$' "$DIR/client.log" || true)
skip=$(grep -c -E '^ok [0-9]+ .*# SKIP' "$DIR/client.log" || true)
fail=$(grep -c -E '^not ok [0-9]+' "$DIR/client.log" || true)
if ((CLIENT_RC || SERVER_RC)) && ((fail == 0)); then
	fail=1
	echo "run-pair: client VM status $CLIENT_RC, server VM status $SERVER_RC"
fi
echo "run-pair: wall time $((SECONDS - START)) s; logs in $DIR"
echo "$pass passed, $fail failed, $skip skipped"
((fail == 0))
