#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# pair.sh - one machine of the two-kernel lane (scripts/run-pair.sh).
#
#	pair.sh server | client
#
# Two VMs, each with its own kernel and its own xtcp module, joined by a
# virtio-net link (qemu's dgram netdev: a 1,500-byte Ethernet between two
# host sockets). The client machine (10.99.0.2) runs the cases; the server
# machine (10.99.0.1) runs selftests/pair_agent.py, which echoes on port 7,
# runs xtcp_xfer servers on request and answers control commands on TCP
# port 7000.
#
# The server machine is also a router to a narrower path:
#
#	client 10.99.0.2 --1500-- 10.99.0.1 server --1280-- 10.99.1.2 rt
#		--1500-- 10.99.2.2 far
#
# (rt and far are network namespaces of the server machine; the server's
# main namespace forwards.) A full-sized segment between the client and
# far crosses the 1,280-byte link with DF set: the router that cannot
# forward it answers with ICMP "fragmentation needed" (RFC 1191), in both
# directions.
#
# Cases (client), each for Linux TCP (the oracle) and for xtcp:
#	link			the server machine answers on the link
#	handshake_*		a connection across the link carries data
#	bulk_*			4 connections x 4 MiB each way, every byte
#				checked (xtcp_xfer); for xtcp, virtio-net's
#				GRO (on by default) handed the client skbs of
#				several segments (XtcpInGsoSkbs: neither side
#				sends any, virtio-net takes no xtcp GSO skb)
#	time_wait_*		the client closes first: it holds TIME_WAIT
#				(xtcp: 2 * net.xtcp.msl, then gone; TCP: still
#				there then), the server machine holds nothing
#	keepalive_*		probes answered while the link is up keep an
#				idle connection; with the server machine's
#				link down they go unanswered and the
#				connection fails with ETIMEDOUT
#	pmtu_*			transfers to far across the 1,280-byte link
#				complete; the client's route to far learns
#				MTU 1280 from the ICMP error
#	quit			the agent stops on request

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=selftests/lib.sh disable=SC1091
source "${XTCP_LIB:-$HERE/lib.sh}"

ROLE=${1:?usage: pair.sh server|client}
XFER=$HERE/xtcp_xfer
AGENT=$HERE/pair_agent.py
SERVER=10.99.0.1
CLIENT=10.99.0.2
FAR=10.99.2.2
IPPROTO_XTCP=253
SCALE=${XTCP_TIMEOUT_SCALE:-1}
MSL_MS=500

# The one virtio-net interface.
link_dev() {
	local dev

	modprobe virtio_net 2>/dev/null || true
	for dev in /sys/class/net/*; do
		dev=${dev##*/}
		[[ $dev == lo ]] && continue
		[[ -e /sys/class/net/$dev/device ]] || continue
		echo "$dev"
		return 0
	done
	return 1
}

# Short timers for the module in netns $1 (empty: this one).
knobs() {
	xtcp_sysctl_set msl "$MSL_MS" "${1:-}"
	xtcp_sysctl_set fin_timeout 2 "${1:-}"
}

server_setup() {
	local dev=$1

	ip addr add "$SERVER/24" dev "$dev"
	ip link set "$dev" up
	sysctl -q -w net.ipv4.ip_forward=1
	ip netns add rt
	ip netns add far
	ip link add m1 type veth peer name m2 netns rt
	ip addr add 10.99.1.1/24 dev m1
	ip link set m1 mtu 1280 up
	ip -n rt link set lo up
	ip -n rt addr add 10.99.1.2/24 dev m2
	ip -n rt link set m2 mtu 1280 up
	ip netns exec rt sysctl -q -w net.ipv4.ip_forward=1
	ip -n rt link add f1 type veth peer name f2 netns far
	ip -n rt addr add 10.99.2.1/24 dev f1
	ip -n rt link set f1 up
	ip -n rt route add default via 10.99.1.1
	ip -n far link set lo up
	ip -n far addr add "$FAR/24" dev f2
	ip -n far link set f2 up
	ip -n far route add default via 10.99.2.1
	ip route add 10.99.2.0/24 via 10.99.1.2
	knobs
	knobs far
}

server() {
	local dev

	dev=$(link_dev) || { echo "pair: no network interface"; exit 1; }
	server_setup "$dev"
	echo "# server: $dev up, routing to $FAR over a 1280-byte link"
	exec python3 "$AGENT" "$XFER" $((900 * SCALE)) "$dev"
}

# --- Client --------------------------------------------------------------

# ctl COMMAND...: one command to the agent on the control connection
# (fd 3); the reply in REPLY.
ctl() {
	echo "$*" >&3
	read -r -t $((200 * SCALE)) REPLY <&3
	echo "# ctl: $* -> $REPLY"
}

proto_name() {
	[[ $1 == "$IPPROTO_XTCP" ]] && echo xtcp || echo tcp
}

proc_file() {
	[[ $1 == "$IPPROTO_XTCP" ]] && echo /proc/net/xtcp || echo /proc/net/tcp
}

# has_state PROTO LPORT STATE: this machine has a socket from local port
# LPORT to the server's port 7 in STATE (hex).
has_state() {
	awk -v lp="$(printf '%04X' "$2")" -v st="$3" '
		{ split($2, l, ":"); split($3, r, ":") }
		l[2] == lp && r[2] == "0007" && $4 == st { found = 1 }
		END { exit !found }' "$(proc_file "$1")"
}

# exchange PROTO: one connection to the echo service, closed first by us
# after the echo came back; prints its local port.
exchange() {
	python3 - "$1" "$SERVER" <<'EOF'
import socket
import sys

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, int(sys.argv[1]))
s.settimeout(30)
s.connect((sys.argv[2], 7))
msg = b"across the link " * 64
s.sendall(msg)
got = b""
while len(got) < len(msg):
    data = s.recv(65536)
    assert data, "EOF before the echo"
    got += data
assert got == msg, "echo differs"
s.shutdown(socket.SHUT_WR)
assert s.recv(1) == b"", "no EOF after the echo"
print(s.getsockname()[1])
s.close()
EOF
}

case_handshake() {
	local proto=$1 name

	name=handshake_$(proto_name "$proto")
	if exchange "$proto" >/dev/null; then
		ktap_ok "$name"
	else
		ktap_fail "$name"
	fi
}

# xfer NETNS ADDR PROTO PORT CONNS BYTES: a checked transfer both ways.
xfer() {
	local netns=$1 addr=$2 proto=$3 port=$4 conns=$5 bytes=$6 rc=0

	ctl xfer "$netns" "$proto" "$port" "$conns" "$bytes"
	[[ $REPLY == ready ]] || return 1
	"$XFER" --client "$addr" --port "$port" --proto "$proto" \
		--conns "$conns" --bytes "$bytes" --timeout $((120 * SCALE)) |
		sed 's/^/# client: /' || rc=1
	ctl wait "$port"
	[[ $REPLY == "rc 0" ]] || rc=1
	return "$rc"
}

# in_gso_skbs: the client's XtcpInGsoSkbs.
in_gso_skbs() {
	awk '$1 == "XtcpInGsoSkbs" { print $2 }' /proc/net/xtcp_stats
}

case_bulk() {
	local proto=$1 port=$2 name gro0 gro

	name=bulk_$(proto_name "$proto")
	gro0=$(in_gso_skbs)
	if ! xfer - "$SERVER" "$proto" "$port" 4 $((4 << 20)); then
		ktap_fail "$name"
		return
	fi
	gro=$(($(in_gso_skbs) - gro0))
	echo "# $name: XtcpInGsoSkbs +$gro"
	if [[ $proto == "$IPPROTO_XTCP" ]] && ((gro == 0)) &&
	   ethtool -k "$(link_dev)" | grep -q '^generic-receive-offload: on'; then
		ktap_fail "$name" "GRO on, yet no skb of several segments"
	else
		ktap_ok "$name"
	fi
}

# The client closes first: its sockets are in TIME_WAIT (06), the server
# machine's are gone. xtcp's entry goes after 2 * msl; TCP's stays (60 s,
# fixed) after that.
case_time_wait() {
	local tport xport

	if ! tport=$(exchange 6) || ! xport=$(exchange "$IPPROTO_XTCP"); then
		ktap_fail time_wait_tcp "exchange failed"
		ktap_fail time_wait_xtcp "exchange failed"
		return
	fi
	if ! has_state "$IPPROTO_XTCP" "$xport" 06; then
		ktap_fail time_wait_xtcp "no TIME_WAIT entry for port $xport"
	elif ! wait_for "ctl states $IPPROTO_XTCP 7 $xport; [[ \$REPLY == none ]]" \
		$((5000 * SCALE)); then
		ktap_fail time_wait_xtcp "the server machine still holds it"
	elif ! wait_for "! has_state $IPPROTO_XTCP $xport 06" \
		$((2 * MSL_MS + 3000 * SCALE)); then
		ktap_fail time_wait_xtcp "TIME_WAIT outlived 2 * msl + 3 s"
	else
		ktap_ok time_wait_xtcp
	fi
	if ! has_state 6 "$tport" 06; then
		ktap_fail time_wait_tcp "no TIME_WAIT entry for port $tport"
	elif ! wait_for "ctl states 6 7 $tport; [[ \$REPLY == none ]]" \
		$((5000 * SCALE)); then
		ktap_fail time_wait_tcp "the server machine still holds it"
	else
		ktap_ok time_wait_tcp
	fi
}

# Keepalive over the link, TCP and xtcp at once: 1 s idle, 1 s between
# probes, 2 probes. Idle for 3 s with the link up, both connections still
# work (the probes were answered); then the server machine's link goes
# down for longer than idle + 2 probes and both fail with ETIMEDOUT.
case_keepalive() {
	local out line rc=0

	out=$(python3 - "$SERVER" "$IPPROTO_XTCP" "$SCALE" <<'EOF'
import errno
import socket
import sys
import time

server, xtcp, scale = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
conns = {}
for name, proto in (("tcp", socket.IPPROTO_TCP), ("xtcp", xtcp)):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, proto)
    s.settimeout(30)
    s.connect((server, 7))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 2)
    conns[name] = s


def echo(s):
    s.sendall(b"x")
    return s.recv(1) == b"x"


# Idle longer than the keepalive time: probes go out and are answered.
time.sleep(3)
for name, s in conns.items():
    print(name, "alive" if echo(s) else "dead")
ctl = socket.create_connection((server, 7000), timeout=30)
ctl.sendall(b"silence %d\n" % (12 * scale))
assert ctl.recv(16).startswith(b"ok")
start = time.monotonic()
for name, s in conns.items():
    s.settimeout(12 * scale)
    try:
        data = s.recv(1)
        print(name, "recv returned", data)
    except OSError as err:
        # socket.timeout is TimeoutError: a kernel ETIMEDOUT raises it too,
        # the socket's own timeout without an errno.
        info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
        print(name, errno.errorcode.get(err.errno, "no error"),
              "after %.1f s: state %d, probes %d" %
              (time.monotonic() - start, info[0], info[3]))
EOF
	) || rc=1
	while read -r line; do echo "# keepalive: $line"; done <<<"$out"
	for p in tcp xtcp; do
		if ((rc == 0)) && grep -q "^$p alive" <<<"$out" &&
			grep -q "^$p ETIMEDOUT" <<<"$out"; then
			ktap_ok "keepalive_$p"
		else
			ktap_fail "keepalive_$p"
		fi
	done
	# The link is back before the next case.
	wait_for "busybox ping -c 1 -W 1 $SERVER >/dev/null 2>&1" \
		$((60000 * SCALE)) || true
}

# Across the 1,280-byte link: the route caches of both machines are
# flushed first (a path MTU learnt on far's side would also shrink the MSS
# it announces), so the path MTU is learnt during this transfer from the
# routers' ICMP errors.
case_pmtu() {
	local proto=$1 port=$2 name mtu

	name=pmtu_$(proto_name "$proto")
	ip route flush cache
	ctl flush
	if ! xfer far "$FAR" "$proto" "$port" 2 $((2 << 20)); then
		ktap_fail "$name" "transfer failed"
		return
	fi
	mtu=$(ip route get "$FAR" | grep -o 'mtu [0-9]*' || true)
	echo "# $name: route to $FAR: ${mtu:-no mtu learnt}"
	if [[ $mtu == "mtu 1280" ]]; then
		ktap_ok "$name"
	else
		ktap_fail "$name" "path MTU not learnt"
	fi
}

client() {
	local dev

	dev=$(link_dev) || { echo "pair: no network interface"; exit 1; }
	ip addr add "$CLIENT/24" dev "$dev"
	ip link set "$dev" up
	ip route add 10.99.2.0/24 via "$SERVER"
	knobs

	ktap_plan 12
	trap 'ctl quit >/dev/null 2>&1 || true' EXIT
	# The other machine may boot later: allow it a minute.
	if wait_for "busybox ping -c 1 -W 1 $SERVER >/dev/null 2>&1" \
		$((90000 * SCALE)) &&
		wait_for "exec 3<>/dev/tcp/$SERVER/7000" $((30000 * SCALE)) 2>/dev/null; then
		ktap_ok link
	else
		ktap_fail link "no answer from $SERVER"
		ktap_finished
	fi
	case_handshake 6
	case_handshake "$IPPROTO_XTCP"
	case_bulk 6 5001
	case_bulk "$IPPROTO_XTCP" 5002
	case_time_wait
	case_keepalive
	case_pmtu "$IPPROTO_XTCP" 5003
	case_pmtu 6 5004
	trap - EXIT
	ctl quit
	if [[ $REPLY == bye ]]; then
		ktap_ok quit
	else
		ktap_fail quit
	fi
	ktap_finished
}

case $ROLE in
server) server ;;
client) client ;;
*) echo "usage: pair.sh server|client" >&2; exit 2 ;;
esac
