#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_iperf3.sh - iperf3 over xtcp with tools/xtcpize, against TCP.
#
# An unmodified iperf3 server (-s -1) and client (-c -t 2 -J) measure a
# 2-second transfer over loopback, once over plain TCP (the oracle) and
# once with both ends run by `xtcpize run`. iperf3 reads TCP_INFO and
# TCP_CONGESTION on its data socket, so its JSON report also shows that
# xtcp answers those options as TCP does. The throughput of both is
# printed; it is not judged.
#
# Cases, for PROTO tcp and xtcp:
#	PROTO_listener		the server listens in /proc/net/PROTO (0A)
#	xtcp_not_on_tcp		the xtcpized server is not in /proc/net/tcp
#	PROTO_completed		the client's JSON report has no error and an
#				end.sum_sent and end.sum_received
#	PROTO_bytes		end.sum_received.bytes (what the server read)
#				is above 0 and at most end.sum_sent.bytes
#				(what the client wrote; iperf3 3.12 does not
#				count what is still in the socket buffers
#				when the test ends, so the two may differ)
#	PROTO_tcp_info		end.sum_sent.retransmits is a number >= 0,
#				and the sender's max_snd_cwnd and max_rtt,
#				from TCP_INFO, are above 0
#	xtcp_congestion		end.sender_tcp_congestion, from TCP_CONGESTION,
#				is "reno"
#	xtcp_on_wire		tcpdump on lo captures IP protocol 253 (the
#				module's proto) packets during the transfer
#
# Needs root (run.sh gives it fresh namespaces), iperf3, tcpdump, python3.

set -uo pipefail

# shellcheck source=selftests/lib.sh
source "${XTCP_LIB:-$(dirname "$0")/lib.sh}"

HERE=$(cd "$(dirname "$0")" && pwd)
# build/selftests/test_iperf3.sh -> build/tools/xtcpize/xtcpize
XTCPIZE=${XTCPIZE:-$HERE/../tools/xtcpize/xtcpize}
TCP_PORT=15201
XTCP_PORT=15202

log() {
	echo "# $*"
}

trap bg_cleanup EXIT

# gone PID: the process has exited.
# shellcheck disable=SC2317 # called through wait_for
gone() {
	! kill -0 "$1" 2>/dev/null
}

# report FILE: read iperf3's JSON; print "sent received retransmits
# bits_per_second congestion max_snd_cwnd max_rtt" (a field iperf3 left
# out as "none"), or an error message and fail.
report() {
	python3 - "$1" <<'EOF'
import json
import sys

try:
    with open(sys.argv[1]) as f:
        d = json.load(f)
except (OSError, ValueError) as e:
    print("no JSON report: %s" % e)
    sys.exit(1)
if d.get("error"):
    print("iperf3 error: %s" % d["error"])
    sys.exit(1)
end = d.get("end", {})
sent = end.get("sum_sent")
recv = end.get("sum_received")
if not sent or not recv:
    print("no end.sum_sent or end.sum_received")
    sys.exit(1)
streams = end.get("streams") or [{}]
snd = streams[0].get("sender", {})


def val(v):
    return "none" if v is None else str(v)


print(" ".join(val(v) for v in (
    sent.get("bytes"), recv.get("bytes"), sent.get("retransmits"),
    int(recv.get("bits_per_second", 0)), end.get("sender_tcp_congestion"),
    snd.get("max_snd_cwnd"), snd.get("max_rtt"))))
EOF
}

# is_uint VALUE
is_uint() {
	[[ $1 =~ ^[0-9]+$ ]]
}

# run PROTO PORT: one iperf3 server and client over PROTO (tcp, or xtcp
# under xtcpize), with the cases above.
run() {
	local proto=$1 port=$2 xproto spid dpid=
	local sent recv retrans bps cong cwnd rtt out
	local -a pre=()

	[[ $proto == tcp ]] || pre=("$XTCPIZE" run)
	"${pre[@]}" iperf3 -s -1 -B 127.0.0.1 -p "$port" \
		>"$BG_TMP/server-$proto.log" 2>&1 &
	spid=$!
	BG_PIDS+=("$spid")
	if wait_for "listening /proc/net/$proto $port" 30000; then
		ktap_ok "${proto}_listener"
	else
		sed 's/^/#   /' "$BG_TMP/server-$proto.log"
		ktap_fail "${proto}_listener" "no listener in /proc/net/$proto"
	fi

	if [[ $proto == xtcp ]]; then
		if listening /proc/net/tcp "$port"; then
			ktap_fail xtcp_not_on_tcp "a TCP listener on port $port"
		else
			ktap_ok xtcp_not_on_tcp
		fi
		xproto=$(cat /sys/module/xtcp/parameters/proto 2>/dev/null ||
			echo 253)
		timeout 120 tcpdump -i lo -nn -l -c 5 "ip proto $xproto" \
			>"$BG_TMP/tcpdump.out" 2>"$BG_TMP/tcpdump.err" &
		dpid=$!
		BG_PIDS+=("$dpid")
		wait_for "grep -q 'listening on' '$BG_TMP/tcpdump.err'" 30000 ||
			log "tcpdump did not say it was listening"
	fi

	"${pre[@]}" timeout 120 iperf3 -c 127.0.0.1 -p "$port" -t 2 -J \
		>"$BG_TMP/client-$proto.json" 2>"$BG_TMP/client-$proto.err"
	log "iperf3 client over $proto exited with $?"
	wait_for "gone $spid" 30000 || log "the $proto server is still running"

	if ! out=$(report "$BG_TMP/client-$proto.json"); then
		log "$out"
		sed 's/^/#   /' "$BG_TMP/client-$proto.err" "$BG_TMP/server-$proto.log"
		ktap_fail "${proto}_completed" "$out"
		ktap_fail "${proto}_bytes" "no report"
		ktap_fail "${proto}_tcp_info" "no report"
		[[ $proto == tcp ]] || ktap_fail xtcp_congestion "no report"
	else
		read -r sent recv retrans bps cong cwnd rtt <<<"$out"
		ktap_ok "${proto}_completed"
		log "$proto: sent $sent bytes, received $recv bytes," \
			"retransmits $retrans, max_snd_cwnd $cwnd, max_rtt $rtt us," \
			"congestion $cong"
		log "$proto throughput: $((bps / 1000000)) Mbit/s"
		if is_uint "$sent" && is_uint "$recv" && ((recv > 0)) &&
			((recv <= sent)); then
			ktap_ok "${proto}_bytes"
		else
			ktap_fail "${proto}_bytes" "sent $sent, received $recv"
		fi
		if is_uint "$retrans" && is_uint "$cwnd" && is_uint "$rtt" &&
			((cwnd > 0 && rtt > 0)); then
			ktap_ok "${proto}_tcp_info"
		else
			ktap_fail "${proto}_tcp_info" \
				"retransmits $retrans, max_snd_cwnd $cwnd, max_rtt $rtt"
		fi
		if [[ $proto == xtcp ]]; then
			if [[ $cong == reno ]]; then
				ktap_ok xtcp_congestion
			else
				ktap_fail xtcp_congestion "congestion '$cong'"
			fi
		fi
	fi

	if [[ -n $dpid ]]; then
		wait_for "gone $dpid" 30000 || log "tcpdump is still running"
		log "tcpdump: $(wc -l <"$BG_TMP/tcpdump.out") packets, first:" \
			"$(head -n 1 "$BG_TMP/tcpdump.out")"
		if (($(wc -l <"$BG_TMP/tcpdump.out") >= 5)); then
			ktap_ok xtcp_on_wire
		else
			sed 's/^/#   /' "$BG_TMP/tcpdump.err"
			ktap_fail xtcp_on_wire "tcpdump saw no protocol $xproto"
		fi
	fi
}

main() {
	ktap_plan 11
	require_programs "$XTCPIZE" iperf3 tcpdump python3 timeout
	BG_TMP=$(mktemp -d)
	log "$(iperf3 --version | head -n 1)"

	run tcp "$TCP_PORT"
	run xtcp "$XTCP_PORT"
	ktap_finished
}

main "$@"
