#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_observe.sh - the iproute2 tools on xtcp: ss reads /proc/net/xtcp,
# nstat reads /proc/net/xtcp_stats (Documentation/xtcp.rst, "Observing
# xtcp with ss and nstat").
#
# The same sockets are opened over TCP and over xtcp (known_sockets in
# lib.sh): a listener on 127.0.0.1, an established connection to it, and
# a connection the client closed first, left in TIME_WAIT. Linux TCP is the
# oracle: `ss -tan` lists its sockets through netlink, and
# `PROC_NET_TCP=/proc/net/xtcp ss -tan` must list xtcp's alike.
#
# Cases:
#	ss_lists		ss shows xtcp's listener, both ends of the
#				connection and the TIME_WAIT entry, with the
#				local ports the program reported
#	ss_like_tcp		... state for state, queue for queue, as ss
#				shows TCP's own sockets
#	ss_filters		-l shows only the listener, "state
#				time-wait" only the entry, as for TCP
#	ss_timer		-o shows the TIME_WAIT entry's timer in
#				seconds, within 2 * net.xtcp.msl, counting
#				down (the tm->when column is in clock ticks)
#	nstat_absolute		nstat -a shows the Xtcp counters with the
#				values of /proc/net/xtcp_stats
#	nstat_delta		nstat shows what a new connection added:
#				XtcpActiveOpens +1, XtcpPassiveOpens +1
#
# Needs root (run.sh gives it fresh namespaces), python3, ss and nstat.

set -uo pipefail

# shellcheck source=selftests/lib.sh
source "${XTCP_LIB:-$(dirname "$0")/lib.sh}"

XTCP_PROTO=253
PORT=19000

log() {
	echo "# $*"
}

trap bg_cleanup EXIT

# ss_xtcp ARGS...: ss on xtcp's sockets.
ss_xtcp() {
	PROC_NET_TCP=/proc/net/xtcp ss "$@"
}

case_ss() {
	local xtcp tcp line

	xtcp=$(ss_xtcp -tan | ss_norm "$PORT" "$X_CPORT" "$X_TWPORT")
	tcp=$(ss -tan | ss_norm "$((PORT + 1))" "$T_CPORT" "$T_TWPORT")
	log "xtcp, by ss:"
	while read -r line; do log "  $line"; done <<<"$xtcp"
	if grep -q '^LISTEN 0 8 server \*$' <<<"$xtcp" &&
		grep -q '^ESTAB 0 0 client server$' <<<"$xtcp" &&
		grep -q '^ESTAB 100 0 server client$' <<<"$xtcp" &&
		grep -q '^TIME-WAIT 0 0 closed server$' <<<"$xtcp"; then
		ktap_ok ss_lists
	else
		ktap_fail ss_lists "see the lines above"
	fi
	# TCP's sockets, with the ports of TCP's run named alike.
	if [[ -n $xtcp && $xtcp == "$tcp" ]]; then
		ktap_ok ss_like_tcp
	else
		log "TCP, by ss:"
		while read -r line; do log "  $line"; done <<<"$tcp"
		ktap_fail ss_like_tcp "ss shows xtcp unlike TCP"
	fi
}

case_ss_filters() {
	local xl tl xtw ttw

	xl=$(ss_xtcp -tln | ss_norm "$PORT" "$X_CPORT" "$X_TWPORT")
	tl=$(ss -tln | ss_norm "$((PORT + 1))" "$T_CPORT" "$T_TWPORT")
	xtw=$(ss_xtcp -tan state time-wait | tail -n +2 | awk '{ print $3, $4 }')
	ttw=$(ss -tan state time-wait | tail -n +2 | awk '{ print $3, $4 }')
	if [[ $xl == 'LISTEN 0 8 server *' && $tl == "$xl" &&
		$xtw == "127.0.0.1:$X_TWPORT 127.0.0.1:$PORT" &&
		$ttw == "127.0.0.1:$T_TWPORT 127.0.0.1:$((PORT + 1))" ]]; then
		ktap_ok ss_filters
	else
		log "listeners: xtcp '$xl', TCP '$tl'"
		log "time-wait: xtcp '$xtw', TCP '$ttw'"
		ktap_fail ss_filters
	fi
}

# tw_secs: the seconds ss -o shows left on xtcp's TIME_WAIT entry.
tw_secs() {
	ss_xtcp -tano state time-wait |
		sed -n 's/.*timer:(timewait,\([0-9.]*\)\(m\?s\)\(ec\)\?,0).*/\1 \2/p' |
		awk '{ print $2 == "ms" ? $1 / 1000 : $1 }'
}

case_ss_timer() {
	local msl first later

	msl=$(sysctl -n net.xtcp.msl)
	first=$(tw_secs)
	if [[ -z $first ]]; then
		log "$(ss_xtcp -tano state time-wait)"
		ktap_fail ss_timer "no timewait timer shown"
		return
	fi
	# It counts down by the second: wait for the next value.
	# shellcheck disable=SC2016 # evaluated by wait_for
	if ! wait_for '[[ $(tw_secs) != "$first" ]]' 3000; then
		ktap_fail ss_timer "stuck at ${first}s"
		return
	fi
	later=$(tw_secs)
	log "TIME_WAIT timer: ${first}s, then ${later}s (msl ${msl} ms)"
	if awk -v a="$first" -v b="$later" -v msl="$msl" \
		'BEGIN { exit !(a > 0 && a <= 2 * msl / 1000 && b < a) }'; then
		ktap_ok ss_timer
	else
		ktap_fail ss_timer "${first}s then ${later}s, 2 * msl = $((2 * msl)) ms"
	fi
}

# nstat_xtcp ARGS...: nstat on xtcp's counters, with its own history file.
nstat_xtcp() {
	PROC_NET_SCTP_SNMP=/proc/net/xtcp_stats \
		NSTAT_HISTORY=$BG_TMP/nstat.history nstat "$@"
}

# counter NAME: NAME's value in /proc/net/xtcp_stats.
counter() {
	awk -v name="$1" '$1 == name { print $2 }' /proc/net/xtcp_stats
}

case_nstat() {
	local out name want got bad=0 delta line

	out=$(nstat_xtcp -asz 'Xtcp*')
	for name in XtcpActiveOpens XtcpPassiveOpens XtcpCurrEstab \
		XtcpTimeWait XtcpInSegs; do
		want=$(counter "$name")
		got=$(awk -v n="$name" '$1 == n { print $2 }' <<<"$out")
		log "$name: nstat $got, /proc/net/xtcp_stats $want"
		[[ -n $got && $got == "$want" ]] || bad=1
	done
	if ((bad == 0)) && ! grep -qv '^\(#\|Xtcp\)' <<<"$out"; then
		ktap_ok nstat_absolute
	else
		log "$out"
		ktap_fail nstat_absolute
	fi

	# History now, then one more connection: nstat shows the difference.
	nstat_xtcp -n
	python3 -c '
import socket, sys
l = socket.socket(socket.AF_INET, socket.SOCK_STREAM, int(sys.argv[1]))
l.bind(("127.0.0.1", 0)); l.listen(1)
c = socket.socket(socket.AF_INET, socket.SOCK_STREAM, int(sys.argv[1]))
c.connect(l.getsockname()); l.accept()' "$XTCP_PROTO"
	delta=$(nstat_xtcp 'XtcpActiveOpens' 'XtcpPassiveOpens')
	log "nstat after one more connection:"
	while read -r line; do log "  $line"; done <<<"$delta"
	if grep -q '^XtcpActiveOpens  *1 ' <<<"$delta" &&
		grep -q '^XtcpPassiveOpens  *1 ' <<<"$delta"; then
		ktap_ok nstat_delta
	else
		ktap_fail nstat_delta
	fi
}

main() {
	ktap_plan 6
	require_tools python3 ss nstat
	BG_TMP=$(mktemp -d)

	known_sockets "$XTCP_PROTO" "$PORT" || exit 1
	X_CPORT=$CPORT X_TWPORT=$TWPORT
	known_sockets 6 "$((PORT + 1))" || exit 1
	T_CPORT=$CPORT T_TWPORT=$TWPORT
	# Both closed connections reach TIME_WAIT.
	# shellcheck disable=SC2016 # evaluated by wait_for
	wait_for '[[ -n $(ss_xtcp -tan state time-wait | tail -n +2) &&
		-n $(ss -tan state time-wait | tail -n +2) ]]' 10000

	case_ss
	case_ss_filters
	case_ss_timer
	case_nstat
	ktap_finished
}

main "$@"
