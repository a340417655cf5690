#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_capture.sh - a capture of xtcp traffic decodes as TCP
# (Documentation/xtcp.rst, "Wire format": tshark -d ip.proto==253,tcp).
#
# tcpdump -w captures one connection over xtcp and one over TCP on
# loopback, each the same exchange made by python3: handshake, 3000 bytes
# from the client, 1000 back, the client's FIN, the server's. tshark
# decodes both files, xtcp's with -d ip.proto==253,tcp; Linux TCP's
# capture is the oracle.
#
# Cases:
#	decoded		every packet of xtcp's capture decodes as TCP
#	handshake	SYN, SYN-ACK, ACK, with relative sequence numbers 0,
#			0 and 1 and the ACKs each one's
#	data		3000 bytes one way and 1000 the other, the sequence
#			numbers following on (tcp.seq + tcp.len is the next
#			segment's tcp.seq), as in TCP's capture
#	fin		a FIN each way, each acknowledged
#	analysis	tshark's sequence analysis finds nothing wrong (no
#			retransmission, lost or unseen segment, bad ACK):
#			as many findings as in TCP's capture, none
#
# Needs root (run.sh gives it fresh namespaces), python3, tcpdump and
# tshark.

set -uo pipefail

# shellcheck source=selftests/lib.sh
source "${XTCP_LIB:-$(dirname "$0")/lib.sh}"

XTCP_PROTO=253
PORT=19200

log() {
	echo "# $*"
}

trap bg_cleanup EXIT

# out_segs PROTO: segments sent so far by PROTO in this namespace.
out_segs() {
	if (($1 == XTCP_PROTO)); then
		awk '$1 == "XtcpOutSegs" { print $2 }' /proc/net/xtcp_stats
	else
		awk '$1 == "Tcp:" && $2 ~ /^[0-9]+$/ { print $12 }' /proc/net/snmp
	fi
}

# capture PROTO PORT FILE: the exchange over PROTO on PORT, into FILE.
capture() {
	local proto=$1 port=$2 file=$3 filter pid before sent

	if ((proto == XTCP_PROTO)); then
		filter="ip proto $XTCP_PROTO"
	else
		filter="tcp port $port"
	fi
	tcpdump -U -ni lo -w "$file" "$filter" 2>"$file.err" &
	pid=$!
	BG_PIDS+=("$pid")
	# shellcheck disable=SC2016 # evaluated by wait_for
	wait_for 'grep -q "listening on" "$file.err"' 20000 || return 1
	before=$(out_segs "$proto")
	python3 -c "$EXCHANGE_PY" "$proto" "$port" 3000 1000 0 || return 1
	sent=$(($(out_segs "$proto") - before))
	# Every segment sent written, then tcpdump stopped.
	log "$sent segments sent"
	# shellcheck disable=SC2016 # evaluated by wait_for
	wait_for '(($(tcpdump -r "$file" 2>/dev/null | wc -l) >= sent))' 5000
	kill -INT "$pid"
	wait "$pid" 2>/dev/null
	return 0
}

# segments FILE [DECODE_AS...]: one line per packet: "DIR FLAGS SEQ ACK
# LEN", DIR being c (from the client) or s, flags in tshark's hex.
segments() {
	local file=$1 port=$2

	shift 2
	tshark -n -r "$file" "$@" -T fields -e tcp.srcport -e tcp.flags \
		-e tcp.seq -e tcp.ack -e tcp.len 2>/dev/null |
		awk -v port="$port" '{
			print ($1 == port ? "s" : "c"), $2, $3, $4, $5
		}'
}

# awk functions on tshark's tcp.flags ("0x0012"): FIN and SYN set.
FLAGS_AWK='
function hex(s,  i, v) {
	s = tolower(s)
	sub(/^0x/, "", s)
	for (i = 1; i <= length(s); i++)
		v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
	return v
}
function fin(f) { return hex(f) % 2 }
function syn(f) { return int(hex(f) / 2) % 2 }
'

# followed SEGMENTS DIR: the sequence numbers of DIR's segments follow on:
# each with data starts where the sequence space sent before ended.
followed() {
	awk -v dir="$2" "$FLAGS_AWK"'$1 == dir {
		if (seen && $5 > 0 && $3 != next_seq)
			bad = 1
		end_seq = $3 + $5 + syn($2) + fin($2)
		if (!seen || end_seq > next_seq)
			next_seq = end_seq
		seen = 1
	} END { exit bad }' <<<"$1"
}

# fins SEGMENTS: the number of segments with FIN.
fins() {
	awk "$FLAGS_AWK"'fin($2) { n++ } END { print n + 0 }' <<<"$1"
}

main() {
	local xseg tseg xn hs xbytes tbytes last xfind tfind tool line

	ktap_plan 5
	require_tools python3 tcpdump tshark
	BG_TMP=$(mktemp -d)
	# tshark keeps its profile under HOME.
	export HOME=$BG_TMP

	capture "$XTCP_PROTO" "$PORT" "$BG_TMP/xtcp.pcap" || {
		log "capture failed: $(cat "$BG_TMP/xtcp.pcap.err")"
		exit 1
	}
	capture 6 "$((PORT + 1))" "$BG_TMP/tcp.pcap" || exit 1

	xseg=$(segments "$BG_TMP/xtcp.pcap" "$PORT" -d "ip.proto==$XTCP_PROTO,tcp")
	tseg=$(segments "$BG_TMP/tcp.pcap" "$((PORT + 1))")
	log "xtcp, as tshark decodes it (from, flags, seq, ack, len):"
	while read -r line; do log "  $line"; done <<<"$xseg"

	xn=$(tcpdump -r "$BG_TMP/xtcp.pcap" 2>/dev/null | wc -l)
	if (($(grep -c '^[cs] 0x' <<<"$xseg") == xn && xn >= 8)); then
		ktap_ok decoded
	else
		ktap_fail decoded "$xn packets"
	fi

	hs=$(head -n 3 <<<"$xseg" | awk '{ printf "%s %s %s %s;", $1, $2, $3, $4 }')
	if [[ $hs == "c 0x0002 0 0;s 0x0012 0 1;c 0x0010 1 1;" ]]; then
		ktap_ok handshake
	else
		ktap_fail handshake "$hs"
	fi

	xbytes=$(awk '{ b[$1] += $5 } END { print b["c"], b["s"] }' <<<"$xseg")
	tbytes=$(awk '{ b[$1] += $5 } END { print b["c"], b["s"] }' <<<"$tseg")
	log "payload bytes (client, server): xtcp $xbytes, TCP $tbytes"
	if [[ $xbytes == "3000 1000" && $tbytes == "$xbytes" ]] &&
		followed "$xseg" c && followed "$xseg" s; then
		ktap_ok data
	else
		ktap_fail data
	fi

	# A FIN each way, and the client's last ACK acknowledges the server's
	# FIN: 1 (SYN) + 1000 + 1.
	last=$(tail -n 1 <<<"$xseg" | awk '{ print $1, $2, $4 }')
	if (($(fins "$xseg") == 2 && $(fins "$tseg") == 2)) &&
		[[ $last == "c 0x0010 1002" ]]; then
		ktap_ok fin
	else
		ktap_fail fin "last segment: $last"
	fi

	xfind=$(tshark -n -r "$BG_TMP/xtcp.pcap" -d "ip.proto==$XTCP_PROTO,tcp" \
		-Y 'tcp.analysis.flags && !tcp.analysis.window_update' 2>/dev/null)
	tfind=$(tshark -n -r "$BG_TMP/tcp.pcap" \
		-Y 'tcp.analysis.flags && !tcp.analysis.window_update' 2>/dev/null)
	[[ -z $xfind ]] || log "xtcp: $xfind"
	[[ -z $tfind ]] || log "TCP: $tfind"
	if [[ -z $xfind && -z $tfind ]]; then
		ktap_ok analysis
	else
		ktap_fail analysis
	fi
	ktap_finished
}

main "$@"
