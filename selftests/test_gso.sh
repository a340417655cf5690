#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_gso.sh - segmentation offload: bulk transfers over a veth pair
# with MTU 1500, xtcp sending skbs of several segments or one segment
# each, with the device summing them or not.
#
# Two network namespaces joined by a veth pair (10.0.1.1/24, 10.0.1.2/24).
# In each case xtcp_xfer runs CONNS connections carrying BYTES in both
# directions at once; every byte is regenerated and compared at the
# receiver (Documentation/xtcp-internals.rst, "Segmentation offload").
#
# Cases:
#	gso_transfer	net.xtcp.gso=1: every byte arrives; both ends sent
#			GSO skbs (XtcpOutGsoSkbs) and veth0 carried fewer
#			than half as many packets as segments were sent
#			(veth hands a GSO skb on whole)
#	nogso_transfer	net.xtcp.gso=0: every byte arrives, no GSO skb,
#			veth0 carried a packet per segment
#	csum_off	ethtool -K veth0 tx off: the device sums nothing, so
#			the stack cuts each GSO skb through xtcp's callback,
#			which sums every segment in software: every byte
#			arrives, GSO skbs were sent, veth0 carried a packet
#			per segment and no segment failed its checksum
#			(XtcpInCsumErrors)
#	mtu_drop	the MTU of both veths falls from 1500 to 1280 in the
#			middle of a transfer: every byte arrives, more
#			segments than MSS 1448 needs were sent (the MSS
#			fell), and veth0 still carried fewer than half as
#			many packets as segments (GSO went on)
#	gso6_transfer	gso_transfer between AF_INET6 sockets over the
#			pair's IPv6 addresses (fd00:0:0:1::1, ::2)
#	csum6_off	csum_off over IPv6: ipv6_gso_segment() calls the
#			same callback, which sums each segment with the
#			IPv6 pseudo-header
#	gro_transfer	net.xtcp.gso=0, so that every segment leaves as its
#			own skb, and GRO on both veths (ethtool -K veth0
#			gro on tso off, which gives veth a NAPI poll and
#			hands it what veth0 sends): every byte
#			arrives, both ends received skbs of several
#			segments (XtcpInGsoSkbs), which only GRO can have
#			built, and fewer skbs than the peer sent segments
#			(how many fewer depends on how many arrive within
#			one NAPI poll: a fifth under TCG, three quarters on
#			a debugging kernel)
#	gro_corrupt	gro_transfer with netem corrupting 2% of the
#			packets veth0 sends, checksummed in software: GRO
#			must sum each segment before it merges it, so the
#			bad ones are dropped and counted (XtcpInCsumErrors)
#			and retransmitted, and every byte arrives intact
#	gro6_transfer	gro_transfer over IPv6
#	rightsize	every offload off on both veths (TSO, GSO, GRO, SCTP
#			segmentation), so veth0 cuts each GSO skb itself,
#			and skb_segment() gives the last segment the whole
#			skb's truesize: every byte arrives and the
#			receivers copied such segments
#			(XtcpInTruesizeCopies). The drops for want of
#			buffer (XtcpOFODrop, XtcpRcvQDrop, XtcpBacklogDrop)
#			are shown, not asserted: a 6.1 run once had 94 of
#			8,073 segments
#	early_demux	net.xtcp.early_demux=1: every byte arrives and most
#			skbs B received were routed by their socket's
#			cached route (XtcpInEarlyDemux); with 0, or with the
#			IP layer's net.ipv4.ip_early_demux=0, every byte
#			arrives and none was
#	edemux_flush	the route cache of B is flushed in the middle of a
#			transfer, which makes every cached route stale:
#			every byte arrives, and skbs were routed by a
#			cached route again after the flush (the socket
#			cached the new route)
#	early_demux6	early_demux over IPv6 (checked against the route's
#			cookie)

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=selftests/lib.sh disable=SC1091
source "${XTCP_LIB:-$HERE/lib.sh}"

XFER=$HERE/xtcp_xfer
IPPROTO_XTCP=253
CONNS=2
BYTES=$((4 << 20))
MTU_BYTES=$((32 << 20))
PORT=5001
SCALE=${XTCP_TIMEOUT_SCALE:-1}
TIMEOUT=$((60 * SCALE))
CASES=(gso_transfer nogso_transfer csum_off mtu_drop gro_transfer gro_corrupt
	rightsize early_demux edemux_flush gso6_transfer csum6_off gro6_transfer
	early_demux6)
# The server's address: IPv4, or IPv6 for the *6 cases.
DST=''

TMP=''
SERVER_PID=''
CLIENT_PID=''

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	local pid

	for pid in "$CLIENT_PID" "$SERVER_PID"; do
		if [[ -n $pid ]]; then
			kill "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
		fi
	done
	netns_pair_cleanup
	[[ -z $TMP ]] || rm -rf "$TMP"
}

skip_all() {
	local c

	echo "# SKIP: $1"
	ktap_plan ${#CASES[@]}
	for c in "${CASES[@]}"; do
		ktap_skip "$c" "$1"
	done
	ktap_finished
}

show() {
	sed 's/^/# /' "$1"
}

# counter NETNS NAME: an xtcp counter of the namespace.
# shellcheck disable=SC2016 # an awk program
counter() {
	ip netns exec "$1" awk -v n="Xtcp$2" '$1 == n { print $2 }' \
		/proc/net/xtcp_stats
}

# both NAME: the sum of an xtcp counter over both namespaces.
both() {
	echo $(($(counter "$NS_A" "$1") + $(counter "$NS_B" "$1")))
}

# tx_packets NETNS: the packets veth0 of NETNS sent.
tx_packets() {
	ip netns exec "$1" cat /sys/class/net/veth0/statistics/tx_packets
}

# sent PID: the bytes veth0 sent in the namespace of process PID, read
# without entering the namespace, so that polling it is cheap.
# shellcheck disable=SC2317 # run by wait_for
sent() {
	local f

	while read -r -a f; do
		if [[ ${f[0]} == veth0: ]]; then
			echo "${f[9]}"
			return
		fi
	done <"/proc/$1/net/dev"
	echo 0
}

# Counters of both namespaces, before a transfer.
snapshot() {
	GSO_A0=$(counter "$NS_A" OutGsoSkbs)
	GSO_B0=$(counter "$NS_B" OutGsoSkbs)
	SEGS_A0=$(counter "$NS_A" OutSegs)
	CSUM_A0=$(counter "$NS_A" InCsumErrors)
	CSUM_B0=$(counter "$NS_B" InCsumErrors)
	PKTS_A0=$(tx_packets "$NS_A")
	GRO_A0=$(counter "$NS_A" InGsoSkbs)
	GRO_B0=$(counter "$NS_B" InGsoSkbs)
	INSEGS_B0=$(counter "$NS_B" InSegs)
	ED_B0=$(counter "$NS_B" InEarlyDemux)
	COPIES0=$(both InTruesizeCopies)
	OFOD0=$(both OFODrop)
	RCVQD0=$(both RcvQDrop)
	BLD0=$(both BacklogDrop)
}

# ... and what they moved by since.
deltas() {
	GSO_A=$(($(counter "$NS_A" OutGsoSkbs) - GSO_A0))
	GSO_B=$(($(counter "$NS_B" OutGsoSkbs) - GSO_B0))
	SEGS_A=$(($(counter "$NS_A" OutSegs) - SEGS_A0))
	CSUM=$(($(counter "$NS_A" InCsumErrors) - CSUM_A0 +
		$(counter "$NS_B" InCsumErrors) - CSUM_B0))
	PKTS_A=$(($(tx_packets "$NS_A") - PKTS_A0))
	GRO_A=$(($(counter "$NS_A" InGsoSkbs) - GRO_A0))
	GRO_B=$(($(counter "$NS_B" InGsoSkbs) - GRO_B0))
	INSEGS_B=$(($(counter "$NS_B" InSegs) - INSEGS_B0))
	COPIES=$(($(both InTruesizeCopies) - COPIES0))
	OFOD=$(($(both OFODrop) - OFOD0))
	RCVQD=$(($(both RcvQDrop) - RCVQD0))
	BLD=$(($(both BacklogDrop) - BLD0))
	echo "# $1: OutGsoSkbs $NS_A +$GSO_A, $NS_B +$GSO_B;" \
		"OutSegs $NS_A +$SEGS_A; veth0 tx_packets $NS_A +$PKTS_A;" \
		"InCsumErrors +$CSUM; InGsoSkbs $NS_A +$GRO_A," \
		"$NS_B +$GRO_B; InSegs $NS_B +$INSEGS_B;" \
		"InTruesizeCopies +$COPIES; OFODrop +$OFOD, RcvQDrop +$RCVQD," \
		"BacklogDrop +$BLD"
}

# start_server NAME BYTES: the server in B, listening.
start_server() {
	local slog=$TMP/$1-server.log

	ip netns exec "$NS_B" "$XFER" --server --bind "$DST" \
		--port "$PORT" --proto "$IPPROTO_XTCP" --conns "$CONNS" \
		--bytes "$2" --timeout "$TIMEOUT" >"$slog" 2>&1 &
	SERVER_PID=$!
	if ! wait_for "grep -q '^listening' '$slog' ||
		       ! kill -0 $SERVER_PID 2>/dev/null" 10000 ||
	   ! grep -q '^listening' "$slog"; then
		echo "# $1: the server did not start"
		show "$slog"
		return 1
	fi
}

# finish NAME: wait for both ends; 0 only if both verified every byte.
finish() {
	local rc=0 src=0

	wait "$CLIENT_PID" || rc=$?
	CLIENT_PID=''
	wait "$SERVER_PID" || src=$?
	SERVER_PID=''
	echo "# $1 client (exit $rc):"
	show "$TMP/$1-client.log"
	echo "# $1 server (exit $src):"
	show "$TMP/$1-server.log"
	((rc == 0 && src == 0))
}

# transfer NAME BYTES: one exchange, client in A.
transfer() {
	start_server "$1" "$2" || return 1
	ip netns exec "$NS_A" "$XFER" --client "$DST" --port "$PORT" \
		--proto "$IPPROTO_XTCP" --conns "$CONNS" --bytes "$2" \
		--timeout "$TIMEOUT" >"$TMP/$1-client.log" 2>&1 &
	CLIENT_PID=$!
	finish "$1"
}

set_gso() {
	xtcp_sysctl_set gso "$1" "$NS_A"
	xtcp_sysctl_set gso "$1" "$NS_B"
}

# case_gso [NAME]: gso_transfer, or NAME over the current DST.
case_gso() {
	local ok=0 name=${1:-gso_transfer}

	set_gso 1
	snapshot
	transfer "$name" "$BYTES" || ok=$?
	deltas "$name"
	if ((ok)); then
		ktap_fail "$name" "not every byte arrived intact in time"
	elif ((GSO_A == 0 || GSO_B == 0)); then
		ktap_fail "$name" "no GSO skb sent"
	elif ((PKTS_A * 2 >= SEGS_A)); then
		ktap_fail "$name" "veth0 carried a packet per segment"
	else
		ktap_ok "$name"
	fi
}

case_nogso() {
	local ok=0

	set_gso 0
	snapshot
	transfer nogso "$BYTES" || ok=$?
	deltas nogso
	set_gso 1
	if ((ok)); then
		ktap_fail nogso_transfer "not every byte arrived intact in time"
	elif ((GSO_A != 0 || GSO_B != 0)); then
		ktap_fail nogso_transfer "GSO skbs sent with net.xtcp.gso=0"
	elif ((PKTS_A * 2 < SEGS_A)); then
		ktap_fail nogso_transfer "fewer packets than segments"
	else
		ktap_ok nogso_transfer
	fi
}

# case_csum_off [NAME]: csum_off, or NAME over the current DST.
case_csum_off() {
	local ok=0 ns name=${1:-csum_off}

	for ns in "$NS_A" "$NS_B"; do
		if ! ip netns exec "$ns" ethtool -K veth0 tx off >/dev/null 2>&1 ||
		   ip netns exec "$ns" ethtool -k veth0 |
		   grep -q '^tx-checksum-ip-generic: on'; then
			ktap_skip "$name" "cannot turn checksum offload off"
			return
		fi
	done
	snapshot
	transfer "$name" "$BYTES" || ok=$?
	deltas "$name"
	for ns in "$NS_A" "$NS_B"; do
		ip netns exec "$ns" ethtool -K veth0 tx on >/dev/null 2>&1 || true
	done
	if ((ok)); then
		ktap_fail "$name" "not every byte arrived intact in time"
	elif ((CSUM != 0)); then
		ktap_fail "$name" "$CSUM segments with a bad checksum"
	elif ((GSO_A == 0 || GSO_B == 0)); then
		ktap_fail "$name" "no GSO skb sent"
	elif ((PKTS_A * 2 < SEGS_A)); then
		ktap_fail "$name" "veth0 took GSO skbs it cannot sum"
	else
		ktap_ok "$name"
	fi
}

# offloads on|off: TSO, GSO, GRO and SCTP segmentation (xtcp's GSO
# type) on both veths; 1 if the device refuses.
offloads() {
	local ns out

	for ns in "$NS_A" "$NS_B"; do
		if ! out=$(ip netns exec "$ns" ethtool -K veth0 tso "$1" \
			   gso "$1" gro "$1" tx-sctp-segmentation "$1" 2>&1); then
			echo "# ethtool -K veth0 ... $1 in $ns: $out"
			return 1
		fi
	done
}

# case_early_demux [NAME]: early_demux, or NAME over the current DST.
case_early_demux() {
	local ok=0 ed1 segs1 ed0 edip name=${1:-early_demux}

	snapshot
	transfer edemux1 "$BYTES" || ok=$?
	deltas edemux1
	ed1=$(($(counter "$NS_B" InEarlyDemux) - ED_B0))
	segs1=$INSEGS_B
	xtcp_sysctl_set early_demux 0 "$NS_B"
	snapshot
	transfer edemux0 "$BYTES" || ok=$?
	deltas edemux0
	ed0=$(($(counter "$NS_B" InEarlyDemux) - ED_B0))
	xtcp_sysctl_set early_demux 1 "$NS_B"
	ip netns exec "$NS_B" sysctl -qw net.ipv4.ip_early_demux=0
	snapshot
	transfer edemuxip "$BYTES" || ok=$?
	deltas edemuxip
	edip=$(($(counter "$NS_B" InEarlyDemux) - ED_B0))
	ip netns exec "$NS_B" sysctl -qw net.ipv4.ip_early_demux=1
	echo "# $name: InEarlyDemux $NS_B +$ed1 of $segs1 skbs on," \
		"+$ed0 off, +$edip with net.ipv4.ip_early_demux=0"
	if ((ok)); then
		ktap_fail "$name" "not every byte arrived intact in time"
	elif ((ed1 * 2 <= segs1)); then
		ktap_fail "$name" "$ed1 of $segs1 skbs routed by the socket"
	elif ((ed0 != 0)); then
		ktap_fail "$name" "$ed0 skbs routed by the socket, knob off"
	elif ((edip != 0)); then
		ktap_fail "$name" "$edip skbs routed by the socket," \
			"net.ipv4.ip_early_demux=0"
	else
		ktap_ok "$name"
	fi
}

# case_edemux_flush: edemux_flush.
case_edemux_flush() {
	local ok=0 ed_flush=0

	snapshot
	start_server flush "$MTU_BYTES" || ok=1
	if ((ok == 0)); then
		ip netns exec "$NS_A" "$XFER" --client "$DST" \
			--port "$PORT" --proto "$IPPROTO_XTCP" \
			--conns "$CONNS" --bytes "$MTU_BYTES" \
			--timeout "$TIMEOUT" >"$TMP/flush-client.log" 2>&1 &
		CLIENT_PID=$!
		wait_for "(( \$(counter $NS_B InEarlyDemux) - ED_B0 > 100 )) ||
			  ! kill -0 $CLIENT_PID 2>/dev/null" \
			$((TIMEOUT * 1000)) || true
		ip -n "$NS_B" route flush cache
		ed_flush=$(counter "$NS_B" InEarlyDemux)
		finish flush || ok=$?
	fi
	deltas flush
	ed_flush=$(($(counter "$NS_B" InEarlyDemux) - ed_flush))
	echo "# edemux_flush: InEarlyDemux $NS_B +$ed_flush after the flush"
	if ((ok)); then
		ktap_fail edemux_flush "not every byte arrived intact in time"
	elif ((ed_flush == 0)); then
		ktap_fail edemux_flush "no skb routed by a cached route after"
	else
		ktap_ok edemux_flush
	fi
}

# case_rightsize: rightsize.
case_rightsize() {
	local ok=0

	if ! offloads off; then
		offloads on || true
		ktap_skip rightsize "cannot turn the offloads off"
		return
	fi
	set_gso 1
	snapshot
	transfer rightsize "$BYTES" || ok=$?
	deltas rightsize
	offloads on || true
	# GRO was off before (the veth default)
	set_gro off || true
	if ((ok)); then
		ktap_fail rightsize "not every byte arrived intact in time"
	elif ((GSO_A == 0 || GSO_B == 0)); then
		ktap_fail rightsize "no GSO skb sent"
	elif ((COPIES == 0)); then
		ktap_fail rightsize "no segment was copied to its own size"
	else
		ktap_ok rightsize
	fi
}

# set_gro on|off: GRO on both veths; 1 if it cannot be turned on. veth
# hands the peer's NAPI only skbs from a sender without TSO
# (veth_skb_is_eligible_for_gro()), so TSO goes off meanwhile.
set_gro() {
	if [[ $1 == off ]]; then
		gro_try off on
	else
		# Asked right after it went off, veth has once kept GRO off:
		# ask again until both ends report it on.
		wait_for "gro_try on off && gro_is_on $NS_A && gro_is_on $NS_B" \
			5000
	fi
}

# gro_try on|off TSO: ethtool -K veth0 gro on|off tso TSO in both
# namespaces.
# shellcheck disable=SC2317 # run by wait_for
gro_try() {
	local ns out

	for ns in "$NS_A" "$NS_B"; do
		if ! out=$(ip netns exec "$ns" ethtool -K veth0 gro "$1" \
			   tso "$2" 2>&1); then
			echo "# ethtool -K veth0 gro $1 tso $2 in $ns: $out"
			return 1
		fi
	done
}

# gro_is_on NETNS: veth0 of NETNS reports GRO on.
# shellcheck disable=SC2317 # run by wait_for
gro_is_on() {
	ip netns exec "$1" ethtool -k veth0 |
		grep -q '^generic-receive-offload: on'
}

# netem_del: no qdisc on either veth.
netem_del() {
	local ns

	for ns in "$NS_A" "$NS_B"; do
		ip netns exec "$ns" tc qdisc del dev veth0 root 2>/dev/null ||
			true
	done
}

# case_gro NAME [corrupt]: gro_transfer, gro6_transfer or gro_corrupt.
# A NAPI poll coalesces what arrived since the last one; segments sent
# one by one from process context are each polled at once, as a card's
# interrupt moderation would not allow. netem's 1 ms delay releases them
# in bursts from its timer, as a real link delivers them.
case_gro() {
	local ok=0 name=$1 corrupt=''

	[[ ${2:-} != corrupt ]] || corrupt='corrupt 2%'
	if ! set_gro on; then
		set_gro off || true
		ktap_skip "$name" "cannot turn GRO on"
		return
	fi
	# shellcheck disable=SC2086 # corrupt is two words or none
	if ! ip netns exec "$NS_A" tc qdisc add dev veth0 root netem \
		delay 1ms $corrupt 2>/dev/null ||
	   ! ip netns exec "$NS_B" tc qdisc add dev veth0 root netem \
		delay 1ms 2>/dev/null; then
		netem_del
		set_gro off || true
		ktap_skip "$name" "no netem"
		return
	fi
	set_gso 0
	snapshot
	transfer "$name" "$BYTES" || ok=$?
	deltas "$name"
	netem_del
	set_gso 1
	set_gro off || true
	if ((ok)); then
		ktap_fail "$name" "not every byte arrived intact in time"
	elif ((GSO_A != 0 || GSO_B != 0)); then
		ktap_fail "$name" "GSO skbs sent with net.xtcp.gso=0"
	elif ((GRO_A == 0 || GRO_B == 0)); then
		ktap_fail "$name" "no skb of several segments received"
	elif ((INSEGS_B >= SEGS_A)); then
		ktap_fail "$name" "$INSEGS_B skbs for $SEGS_A segments sent"
	elif [[ ${2:-} == corrupt ]] && ((CSUM == 0)); then
		ktap_fail "$name" "no corrupted segment was caught"
	elif [[ ${2:-} != corrupt ]] && ((CSUM != 0)); then
		ktap_fail "$name" "$CSUM segments with a bad checksum"
	else
		ktap_ok "$name"
	fi
}

case_mtu_drop() {
	local ok=0 ns sent0 full

	snapshot
	start_server mtu "$MTU_BYTES" || ok=1
	if ((ok == 0)); then
		ip netns exec "$NS_A" "$XFER" --client "$DST" \
			--port "$PORT" --proto "$IPPROTO_XTCP" \
			--conns "$CONNS" --bytes "$MTU_BYTES" \
			--timeout "$TIMEOUT" >"$TMP/mtu-client.log" 2>&1 &
		CLIENT_PID=$!
		sent0=$(sent "$CLIENT_PID")
		# An eighth of the data sent, at least.
		wait_for "(( \$(sent $CLIENT_PID) - sent0 > \
			     MTU_BYTES * CONNS / 8 )) ||
			  ! kill -0 $CLIENT_PID 2>/dev/null" \
			$((TIMEOUT * 1000)) || true
		for ns in "$NS_A" "$NS_B"; do
			ip -n "$ns" link set veth0 mtu 1280
		done
		echo "# mtu: veth0 MTU 1280 after $(($(sent "$CLIENT_PID") - \
			sent0)) bytes"
		finish mtu || ok=$?
	fi
	deltas mtu
	# Segments of 1448 bytes (MTU 1500 with timestamps) for all of it.
	full=$((MTU_BYTES * CONNS / 1448))
	if ((ok)); then
		ktap_fail mtu_drop "not every byte arrived intact in time"
	elif ((SEGS_A * 100 < full * 102)); then
		ktap_fail mtu_drop "$SEGS_A segments: the MSS did not fall"
	elif ((PKTS_A * 2 >= SEGS_A)); then
		ktap_fail mtu_drop "veth0 carried a packet per segment"
	else
		ktap_ok mtu_drop
	fi
}

main() {
	[[ $(id -u) == 0 ]] || skip_all "needs root"
	[[ -x $XFER ]] || skip_all "$XFER missing (make selftests)"
	[[ -r /proc/net/xtcp_stats ]] || skip_all "xtcp.ko is not loaded"
	modprobe -q veth 2>/dev/null || true
	command -v ethtool >/dev/null || skip_all "ethtool not found"

	TMP=$(mktemp -d)
	trap cleanup EXIT
	netns_pair
	netns_pair_ipv6
	ktap_plan ${#CASES[@]}

	DST=$NS_B_ADDR
	case_gso
	case_nogso
	case_csum_off
	case_mtu_drop
	case_gro gro_transfer
	case_gro gro_corrupt corrupt
	case_rightsize
	case_early_demux
	case_edemux_flush
	DST=$NS_B_ADDR6
	case_gso gso6_transfer
	case_csum_off csum6_off
	case_gro gro6_transfer
	case_early_demux early_demux6
	ktap_finished
}

main "$@"
