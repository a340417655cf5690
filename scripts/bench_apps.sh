#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench_apps.sh - the unmodified-program part of `make bench`, in the VM
# that scripts/bench.sh boots: after CMD (xtcp_bench suite), iperf3 and
# nginx with ab, each over Linux TCP and over xtcp under xtcpize run, in a
# fresh network namespace on loopback, the server on CPU 1 and the client
# on CPU 0 as xtcp_bench pins its threads; then iperf3 between two
# namespaces joined by a veth pair with a 1,500-byte MTU, clean and
# under netem loss.
#
# Usage: bench_apps.sh XTCPIZE OUT.json -- CMD [ARGS...]
#
# Workloads, in OUT.json as {"results": {NAME: {"tcp": {"value": V},
# "xtcp": ...}}} (null for a run that failed):
#	iperf3		one stream for IPERF_SECONDS, Gbit/s the receiver saw
#	nginx_close	ab, AB_REQUESTS requests of a 4 KiB file, 8 at a time,
#			one connection per request: requests/s
#	nginx_keepalive	the same with keep-alive (ab -k)
#	veth_1500	iperf3 over the veth pair, the devices' offloads as
#			they come (TCP moves 64 KiB GSO/GRO packets) and
#			xtcp's segmentation offload on (net.xtcp.gso =
#			XTCP_GSO, default 1)
#	veth_1500_nooffload
#			the same with TSO, GSO, GRO and tx-sctp-segmentation
#			(xtcp's GSO type) off on the veths: the receiver gets
#			wire-sized segments and every xtcp segment is an skb
#			of its own; Linux TCP still builds GSO packets, which
#			the sending veth cuts
#	loss_1, loss_5	iperf3 for LOSS_SECONDS through a router namespace
#			between two veth pairs (offloads off), whose netem
#			adds 5 ms delay each way (a 10 ms round trip) and 1
#			or 5 % loss each way: netem there sees wire-sized
#			segments of both protocols; on the sender's own
#			device it would drop TCP's GSO packets whole
#
# Exit status: CMD's if it failed, else 1 if a workload failed, else 0.

# shellcheck disable=SC2317 # the *_ns functions run through --in-netns
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=selftests/lib.sh
source "$REPO/selftests/lib.sh"

IPERF_SECONDS=3
XTCP_GSO=${XTCP_GSO:-1}
LOSS_SECONDS=5
LINK_A=10.77.0.1
LINK_B=10.77.0.2
# The router's two sides, for the loss rows: A and R_A on one veth pair,
# R_B and B on the other.
ROUTED_A=10.77.1.1
ROUTED_RA=10.77.1.254
ROUTED_RB=10.77.0.254
AB_REQUESTS=3000
PORT=5201
HTTP_PORT=18080

# in_netns FUNCTION PROTO: this script's FUNCTION in a new network
# namespace with lo up, over PROTO.
in_netns() {
	unshare --net "${BASH_SOURCE[0]}" --in-netns "$XTCPIZE" "$TMP" "$@"
}

# prefix PROTO: sets PRE, what runs a program over PROTO.
prefix() {
	PRE=()
	[[ $1 == tcp ]] || PRE=("$XTCPIZE" run)
}

# wait_listener PROTO PORT
wait_listener() {
	wait_for "listening /proc/net/$1 $2" 30000
}

# iperf3_gbps JSON: the receiver's Gbit/s in iperf3's -J output JSON,
# nothing if it has none.
iperf3_gbps() {
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print("%.3f" % (d["end"]["sum_received"]["bits_per_second"] / 1e9))
' "$1" 2>/dev/null
}

# iperf3_ns PROTO: the receiver's Gbit/s, nothing on failure.
iperf3_ns() {
	local server

	prefix "$1"
	"${PRE[@]}" taskset -c 1 timeout 120 iperf3 -s -1 -B 127.0.0.1 \
		-p "$PORT" >/dev/null 2>&1 &
	server=$!
	wait_listener "$1" "$PORT" || return 1
	"${PRE[@]}" taskset -c 0 timeout 120 iperf3 -c 127.0.0.1 -p "$PORT" \
		-t "$IPERF_SECONDS" -J >"$TMP/iperf3-$1.json"
	wait "$server"
	iperf3_gbps "$TMP/iperf3-$1.json"
}

# link_listening PROTO: xbench-b has a PROTO listener on LINK_B:PORT.
link_listening() {
	# shellcheck disable=SC2016 # awk's own variables
	ip netns exec xbench-b awk -v w="$(printf '02004D0A:%04X' "$PORT")" '
		$2 == w && $4 == "0A" { f = 1 } END { exit !f }' "/proc/net/$1"
}

# no_offloads NS DEV: TSO, GSO, GRO and SCTP segmentation (xtcp's GSO
# type) off on DEV in NS.
no_offloads() {
	ip netns exec "$1" ethtool -K "$2" tso off gso off gro off \
		tx-sctp-segmentation off >/dev/null 2>&1
}

# link_direct MODE: namespaces xbench-a and xbench-b joined by a veth
# pair with MTU 1500; MODE plain leaves the offloads on.
link_direct() {
	local ns

	ip netns add xbench-a && ip netns add xbench-b || return 1
	ip link add veth0 netns xbench-a type veth peer name veth0 \
		netns xbench-b
	ip -n xbench-a addr add "$LINK_A/24" dev veth0
	ip -n xbench-b addr add "$LINK_B/24" dev veth0
	for ns in xbench-a xbench-b; do
		ip -n "$ns" link set lo up
		ip -n "$ns" link set veth0 mtu 1500 up
		ip netns exec "$ns" sysctl -qw net.xtcp.gso="$XTCP_GSO" ||
			return 1
		[[ $1 == plain ]] || no_offloads "$ns" veth0 || return 1
	done
}

# link_routed LOSS: xbench-a and xbench-b joined through the router
# namespace xbench-r, whose netem delays each packet 5 ms and drops
# LOSS % of them, both ways. The sending veth cuts TCP's GSO packets
# (offloads off), so netem sees every segment of both protocols as a
# wire would; the router forwards them one by one (GRO off).
link_routed() {
	local ns dev

	for ns in xbench-a xbench-r xbench-b; do
		ip netns add "$ns" || return 1
		ip -n "$ns" link set lo up
	done
	ip link add veth0 netns xbench-a type veth peer name veth0 \
		netns xbench-r
	ip link add veth0 netns xbench-b type veth peer name veth1 \
		netns xbench-r
	ip -n xbench-a addr add "$ROUTED_A/24" dev veth0
	ip -n xbench-r addr add "$ROUTED_RA/24" dev veth0
	ip -n xbench-r addr add "$ROUTED_RB/24" dev veth1
	ip -n xbench-b addr add "$LINK_B/24" dev veth0
	for dev in xbench-a:veth0 xbench-r:veth0 xbench-r:veth1 \
		   xbench-b:veth0; do
		ip -n "${dev%:*}" link set "${dev#*:}" mtu 1500 up
		no_offloads "${dev%:*}" "${dev#*:}" || return 1
	done
	for ns in xbench-a xbench-b; do
		ip netns exec "$ns" sysctl -qw net.xtcp.gso="$XTCP_GSO" ||
			return 1
	done
	ip -n xbench-a route add default via "$ROUTED_RA"
	ip -n xbench-b route add default via "$ROUTED_RB"
	ip netns exec xbench-r sysctl -qw net.ipv4.ip_forward=1 || return 1
	for dev in veth0 veth1; do
		tc -n xbench-r qdisc add dev "$dev" root netem limit 100000 \
			delay 5ms loss "$1%" || return 1
	done
}

# link_iperf3 PROTO MODE: iperf3 from namespace xbench-a to xbench-b;
# MODE is plain or nooffload (link_direct) or lossN (link_routed).
# Prints the receiver's Gbit/s, nothing on failure.
link_iperf3() {
	local proto=$1 mode=$2 secs=$IPERF_SECONDS server

	if [[ $mode == loss* ]]; then
		link_routed "${mode#loss}" || return 1
		secs=$LOSS_SECONDS
	else
		link_direct "$mode" || return 1
	fi
	prefix "$proto"
	ip netns exec xbench-b "${PRE[@]}" taskset -c 1 timeout 300 \
		iperf3 -s -1 -B "$LINK_B" -p "$PORT" >/dev/null 2>&1 &
	server=$!
	wait_for "link_listening $proto" 30000 || return 1
	ip netns exec xbench-a "${PRE[@]}" taskset -c 0 timeout 300 \
		iperf3 -c "$LINK_B" -p "$PORT" -t "$secs" -J \
		>"$TMP/link-$proto-$mode.json"
	wait "$server"
	iperf3_gbps "$TMP/link-$proto-$mode.json"
}

# link_run PROTO MODE: link_iperf3, then the namespaces go.
link_run() {
	local ns

	link_iperf3 "$@"
	for ns in xbench-a xbench-r xbench-b; do
		ip netns del "$ns" 2>/dev/null
	done
}

# nginx_ns PROTO: the requests/s of ab without and with keep-alive, "-"
# for a run with a failed or incomplete request.
nginx_ns() {
	local dir=$TMP/nginx-$1 k

	prefix "$1"
	nginx_configure "$dir" "$TMP/www" "$HTTP_PORT"
	"${PRE[@]}" taskset -c 1 nginx -c "$dir/nginx.conf" -p "$dir" \
		-e "$dir/logs/error.log" -g "daemon off;" >"$dir/nginx.out" 2>&1 &
	if ! wait_listener "$1" "$HTTP_PORT"; then
		echo "- -"
		return 1
	fi
	for k in -r -k; do
		"${PRE[@]}" taskset -c 0 timeout 600 ab -q -s 60 "$k" \
			-n "$AB_REQUESTS" -c 8 "http://127.0.0.1:$HTTP_PORT/blob" \
			>"$dir/ab$k.out" 2>&1
		awk -v n="$AB_REQUESTS" '
			/^Complete requests:/ { c = $3 }
			/^Failed requests:/ { f = $3 }
			/^Requests per second:/ { r = $4 }
			END { printf "%s ", (c == n && f == 0 && r) ? r : "-" }' \
			"$dir/ab$k.out"
	done
	echo
	kill "$(cat "$dir/nginx.pid")"
	wait
}

# json_value V: V as a JSON result, null when V is not a number.
json_value() {
	if [[ $1 =~ ^[0-9.]+$ ]]; then
		echo "{\"value\": $1}"
	else
		echo null
	fi
}

main() {
	local rc=0 proto close keep mode
	local -A iperf close_rps keep_rps link

	if [[ ${1:-} == --in-netns ]]; then
		XTCPIZE=$2
		TMP=$3
		ip link set lo up
		"$4" "$5"
		exit
	fi
	if (($# < 4)) || [[ $3 != -- ]]; then
		sed -n '10p' "${BASH_SOURCE[0]}" | sed 's/^# //' >&2
		exit 2
	fi
	XTCPIZE=$1
	OUT=$2
	shift 3
	"$@" || rc=$?

	TMP=$(mktemp -d)
	mkdir "$TMP/www"
	head -c 4096 /dev/urandom >"$TMP/www/blob"
	for proto in tcp xtcp; do
		iperf[$proto]=$(in_netns iperf3_ns "$proto")
		read -r close keep < <(in_netns nginx_ns "$proto")
		close_rps[$proto]=$close
		keep_rps[$proto]=$keep
		echo "bench_apps: $proto: iperf3 ${iperf[$proto]:--} Gbit/s," \
			"nginx ${close:--} requests/s one connection per request," \
			"${keep:--} with keep-alive"
		[[ ${iperf[$proto]} =~ ^[0-9.]+$ && $close =~ ^[0-9.]+$ &&
		   $keep =~ ^[0-9.]+$ ]] || ((rc)) || rc=1
		modprobe -q veth
		modprobe -q sch_netem
		for mode in plain nooffload loss1 loss5; do
			link[$proto-$mode]=$(link_run "$proto" "$mode")
			echo "bench_apps: $proto: iperf3 over veth, $mode:" \
				"${link[$proto-$mode]:--} Gbit/s"
			[[ ${link[$proto-$mode]} =~ ^[0-9.]+$ ]] || ((rc)) || rc=1
		done
	done
	cat >"$OUT" <<EOF
{"results": {
 "iperf3": {"tcp": $(json_value "${iperf[tcp]}"), "xtcp": $(json_value "${iperf[xtcp]}")},
 "nginx_close": {"tcp": $(json_value "${close_rps[tcp]}"), "xtcp": $(json_value "${close_rps[xtcp]}")},
 "nginx_keepalive": {"tcp": $(json_value "${keep_rps[tcp]}"), "xtcp": $(json_value "${keep_rps[xtcp]}")},
 "veth_1500": {"tcp": $(json_value "${link[tcp-plain]}"), "xtcp": $(json_value "${link[xtcp-plain]}")},
 "veth_1500_nooffload": {"tcp": $(json_value "${link[tcp-nooffload]}"), "xtcp": $(json_value "${link[xtcp-nooffload]}")},
 "loss_1": {"tcp": $(json_value "${link[tcp-loss1]}"), "xtcp": $(json_value "${link[xtcp-loss1]}")},
 "loss_5": {"tcp": $(json_value "${link[tcp-loss5]}"), "xtcp": $(json_value "${link[xtcp-loss5]}")}
}}
EOF
	rm -rf "$TMP"
	exit "$rc"
}

main "$@"
