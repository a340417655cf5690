#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_xtcp_ss.sh - tools/xtcp-ss lists xtcp's sockets over sock_diag as
# ss(8) lists TCP's.
#
# The same sockets are opened over TCP and over xtcp (known_sockets in
# lib.sh): a listener with a backlog of 8, an established connection with
# 100 bytes unread at the server, and a connection the client closed
# first, in TIME_WAIT. ss on TCP is the oracle twice: xtcp-ss --proto 6 must print
# what ss prints for TCP's sockets, and xtcp-ss on xtcp's the same lines.
#
# Cases:
#	tool_like_ss	xtcp-ss --proto 6 -a: ss -tan's lines for TCP's
#			sockets (state, queues, addresses)
#	lists		xtcp-ss -a: the same lines for xtcp's sockets
#	filters		default (no listener, no TIME-WAIT), -l, and
#			"state time-wait", as ss for TCP's
#	summary		-s: Total 4, ESTAB 2, LISTEN 1, TIME-WAIT 1
#	timer		-o: the TIME_WAIT entry's timer, within 2 * msl
#	extended	-e: the listener's inode is the one /proc/net/xtcp
#			shows
#	info_memory	-i and -m on the connection: its MSS and cwnd, and
#			skmem with the 100 unread bytes' memory in r
#
# Then the same sockets over IPv6 (::1), and once more with an AF_INET6
# listener on :: whose clients are AF_INET ones over 127.0.0.1 (its
# server sides IPv4-mapped), over both protocols. These compare the
# lines of the new sockets (the first ones' TIME_WAIT entries may expire
# meanwhile):
#
#	ipv6		xtcp-ss -6 -a: ss -6 -tan's lines ([::1]:port, *:port
#			for the dual-stack listener, [::ffff:127.0.0.1]:port)
#	ipv6_only	no IPv4 address in xtcp-ss -6's lines, the IPv6
#			TIME-WAIT entry and the IPv4-mapped connection there
#	ipv4_only	xtcp-ss -4 -a: ss -4 -tan's lines, no IPv6 address
#	both		xtcp-ss -a: ss -tan's lines, both families
#
# Needs root (run.sh gives it fresh namespaces), python3, ss and the
# xtcp_diag module (next to xtcp.ko in the build directory).

set -uo pipefail

# shellcheck source=selftests/lib.sh
source "${XTCP_LIB:-$(dirname "$0")/lib.sh}"

HERE=$(cd "$(dirname "$0")" && pwd)
# build/selftests/test_xtcp_ss.sh -> build/xtcp_diag.ko
DIAG_MODULE=${XTCP_DIAG_MODULE:-$HERE/../xtcp_diag.ko}
XTCP_SS=${XTCP_SS:-$HERE/xtcp-ss}
XTCP_PROTO=253
PORT=19400
LOADED_DIAG=

log() {
	echo "# $*"
}

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	bg_cleanup
	[[ -z $LOADED_DIAG ]] || rmmod xtcp_diag 2>/dev/null
}
trap cleanup EXIT

xss() {
	"$XTCP_SS" "$@"
}

# shows CASE GOT WANT: ok if equal and not empty, else both printed.
shows() {
	if [[ -n $2 && $2 == "$3" ]]; then
		ktap_ok "$1"
	else
		log "$1: got:"
		while read -r line; do log "  $line"; done <<<"$2"
		log "$1: wanted:"
		while read -r line; do log "  $line"; done <<<"$3"
		ktap_fail "$1"
	fi
}

case_lists() {
	local tcp tool xtcp

	tcp=$(ss -tan | ss_norm "$((PORT + 1))" "$T_CPORT" "$T_TWPORT")
	tool=$(xss --proto 6 -a | ss_norm "$((PORT + 1))" "$T_CPORT" "$T_TWPORT")
	xtcp=$(xss -a | ss_norm "$PORT" "$X_CPORT" "$X_TWPORT")
	shows tool_like_ss "$tool" "$tcp"
	shows lists "$xtcp" "$tcp"
}

# state_col FILTER: the lines on stdin, with a State column put back if
# FILTER names a single state (ss and xtcp-ss leave it out then).
state_col() {
	if [[ $1 == state* ]]; then
		sed 's/^/- /'
	else
		cat
	fi
}

case_filters() {
	local got want f

	got='' want=''
	for f in "" "-l" "state time-wait"; do
		# shellcheck disable=SC2086 # the filter's words
		got+="[$f] $(xss $f | state_col "$f" | ss_norm "$PORT" "$X_CPORT" "$X_TWPORT" | tr '\n' ';')"
		# shellcheck disable=SC2086
		want+="[$f] $(ss -tn $f | state_col "$f" | ss_norm "$((PORT + 1))" "$T_CPORT" "$T_TWPORT" | tr '\n' ';')"
	done
	shows filters "$got" "$want"
}

case_summary() {
	shows summary "$(xss -s | tr '\n' ';' | tr -s ' ')" \
		"Total: 4;ESTAB 2;TIME-WAIT 1;LISTEN 1;"
}

case_timer() {
	local msl secs

	msl=$(sysctl -n net.xtcp.msl)
	secs=$(xss -o state time-wait |
		sed -n 's/.*timer:(timewait,\([0-9]*\)sec,0).*/\1/p')
	log "TIME_WAIT timer: ${secs:-none} s, msl $msl ms"
	if [[ -n $secs ]] && ((secs > 0 && secs * 1000 <= 2 * msl)); then
		ktap_ok timer
	else
		log "$(xss -o state time-wait)"
		ktap_fail timer
	fi
}

case_extended() {
	local ino proc_ino

	ino=$(xss -le | sed -n 's/.* ino:\([0-9]*\) .*/\1/p')
	proc_ino=$(awk -v p="$(printf ':%04X' "$PORT")" \
		'$2 ~ p"$" && $4 == "0A" { print $10 }' /proc/net/xtcp)
	log "listener inode: xtcp-ss $ino, /proc/net/xtcp $proc_ino"
	if [[ -n $ino && $ino == "$proc_ino" && $ino != 0 ]]; then
		ktap_ok extended
	else
		ktap_fail extended
	fi
}

# The IPv6 and IPv4-mapped sets of known_sockets, for xtcp and TCP.
start_v6_sockets() {
	known_sockets "$XTCP_PROTO" "$((PORT + 2))" 6 || return 1
	X6=("$((PORT + 2))" "$CPORT" "$TWPORT")
	known_sockets 6 "$((PORT + 3))" 6 || return 1
	T6=("$((PORT + 3))" "$CPORT" "$TWPORT")
	known_sockets "$XTCP_PROTO" "$((PORT + 4))" mapped || return 1
	XM=("$((PORT + 4))" "$CPORT" "$TWPORT")
	known_sockets 6 "$((PORT + 5))" mapped || return 1
	TM=("$((PORT + 5))" "$CPORT" "$TWPORT")
	# shellcheck disable=SC2016 # evaluated by wait_for
	wait_for 'tw_ready xss "${X6[2]}" "${XM[2]}" &&
		tw_ready "ss -t" "${T6[2]}" "${TM[2]}"' 10000 || {
		log "xtcp-ss: $(xss -a | tr '\n' ';')"
		log "ss: $(ss -tan | tr '\n' ';')"
		return 1
	}
}

# tw_ready CMD PORT6 PORT4: CMD lists the TIME_WAIT entries of an IPv6
# set's and of a mapped set's closed client ports.
# shellcheck disable=SC2317 # run by wait_for
tw_ready() {
	local tw

	tw=$($1 -Hn state time-wait)
	grep -qF "]:$2 " <<<"$tw" && grep -qF "127.0.0.1:$3 " <<<"$tw"
}

# The lines of the sets ss_norm was given: the first set's, opened at
# the start, are left out here, as its TIME_WAIT entries may be expiring.
named() {
	awk '$4 ~ /(server|client|closed)$/ || $5 ~ /(server|client|closed)$/'
}

case_ipv6() {
	local xtcp tcp

	xtcp=$(xss -6 -a | ss_norm "${X6[@]}" "${XM[@]}" | named)
	tcp=$(ss -6 -tan | ss_norm "${T6[@]}" "${TM[@]}" | named)
	shows ipv6 "$xtcp" "$tcp"
}

case_ipv6_only() {
	local out line

	out=$(xss -6 -a -H)
	while read -r line; do log "  $line"; done <<<"$out"
	if ! grep -qE '(^| )[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+:' <<<"$out" &&
		grep -qE "^TIME-WAIT .*\[::1\]:${X6[2]} +\[::1\]:${X6[0]}" <<<"$out" &&
		grep -qE "^ESTAB .*\[::ffff:127\.0\.0\.1\]:${XM[0]} +\[::ffff:127\.0\.0\.1\]:${XM[1]}" <<<"$out" &&
		grep -qE "^LISTEN .* \*:${XM[0]} +\*:\*" <<<"$out"; then
		ktap_ok ipv6_only
	else
		ktap_fail ipv6_only
	fi
}

case_ipv4_only() {
	local xtcp tcp

	xtcp=$(xss -4 -a | ss_norm "${XM[@]}")
	tcp=$(ss -4 -tan | ss_norm "${TM[@]}")
	if grep -qE '\[|\*:' <<<"$xtcp"; then
		log "an IPv6 address in xtcp-ss -4's lines"
		shows ipv4_only "$xtcp" ""
	else
		shows ipv4_only "$(named <<<"$xtcp")" "$(named <<<"$tcp")"
	fi
}

case_both() {
	local xtcp tcp

	xtcp=$(xss -a | ss_norm "${X6[@]}" "${XM[@]}" | named)
	tcp=$(ss -tan | ss_norm "${T6[@]}" "${TM[@]}" | named)
	shows both "$xtcp" "$tcp"
}

case_info_memory() {
	local out info mem

	# The server's end: 100 bytes unread.
	out=$(xss -im state established |
		grep -E -A1 "^[0-9]+ +[0-9]+ +127\.0\.0\.1:$PORT ")
	log "$out"
	info=$(tail -n 1 <<<"$out")
	mem=$(sed -n 's/.*skmem:(r\([0-9]*\),rb[0-9]*,.*/\1/p' <<<"$out")
	if [[ $info =~ mss:([0-9]+) ]] && ((BASH_REMATCH[1] > 0)) &&
		[[ $info =~ cwnd:([0-9]+) ]] && ((BASH_REMATCH[1] >= 2)) &&
		[[ -n $mem ]] && ((mem >= 100)); then
		ktap_ok info_memory
	else
		ktap_fail info_memory "skmem r '${mem}'"
	fi
}

main() {
	ktap_plan 11
	require_tools python3 ss
	[[ -x $XTCP_SS ]] || {
		echo "# no $XTCP_SS"
		exit "$KSFT_SKIP"
	}
	if [[ ! -d /sys/module/xtcp_diag ]]; then
		[[ -r $DIAG_MODULE ]] || {
			echo "# no $DIAG_MODULE (kernel without CONFIG_INET_DIAG?)"
			exit "$KSFT_SKIP"
		}
		modprobe -q inet_diag
		insmod "$DIAG_MODULE" || exit 1
		LOADED_DIAG=1
	fi
	BG_TMP=$(mktemp -d)

	known_sockets "$XTCP_PROTO" "$PORT" || exit 1
	X_CPORT=$CPORT X_TWPORT=$TWPORT
	known_sockets 6 "$((PORT + 1))" || exit 1
	T_CPORT=$CPORT T_TWPORT=$TWPORT
	# shellcheck disable=SC2016 # evaluated by wait_for
	wait_for '[[ -n $(xss -H state time-wait) &&
		-n $(ss -Htn state time-wait) ]]' 10000

	case_lists
	case_filters
	case_summary
	case_timer
	case_extended
	case_info_memory
	start_v6_sockets || exit 1
	case_ipv6
	case_ipv6_only
	case_ipv4_only
	case_both
	ktap_finished
}

main "$@"
