#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_bpftrace.sh - the bpftrace tools of tools/bpftrace on real traffic
# (Documentation/xtcp.rst, "Tracepoints").
#
# Each tool runs under bpftrace while python3 makes xtcp traffic it must
# report: a connection on loopback that carries 50,000 bytes one way and
# 20,000 the other, established for at least 300 ms, closed by its client
# (TIME_WAIT); and a connect() to an address that never answers, whose SYN
# is retransmitted.
#
# Cases:
#	xtcpstates	the client's and the child's state changes, from
#			CLOSED -> SYN_SENT and LISTEN -> SYN_RCVD to the
#			hand-over to TIME_WAIT, with the time spent
#			ESTABLISHED (>= 300 ms) on the change that leaves it
#	xtcplife	one line per end of the connection, with its ports,
#			KB each way (48 sent and 19 received by the client),
#			the connecting process (python3) and a lifetime of
#			at least 300 ms
#	xtcpretrans	the SYN's retransmissions, to the address that
#			never answers, in SYN_SENT, and their count per
#			connection at the end
#
# Needs root (run.sh gives it fresh namespaces), python3, bpftrace and the
# dummy network device.

set -uo pipefail

# shellcheck source=selftests/lib.sh
source "${XTCP_LIB:-$(dirname "$0")/lib.sh}"

HERE=$(cd "$(dirname "$0")" && pwd)
# build/selftests/test_bpftrace.sh -> tools/bpftrace (copied by make)
TOOLS=${XTCP_BPFTRACE_TOOLS:-$HERE/bpftrace}
XTCP_PROTO=253
PORT=19300
NOWHERE=10.123.0.2

log() {
	echo "# $*"
}

trap bg_cleanup EXIT

# trace TOOL: run tools/bpftrace/TOOL.bt in the background, output in
# $BG_TMP/TOOL.out; returns once all its probes are attached. The header
# is no sign of that: bpftrace runs BEGIN before it attaches the other
# probes, one at a time. It starts a -c command only once all are
# attached, so that command signals readiness: it creates a file, then
# waits to be stopped with the tracer.
trace() {
	local out=$BG_TMP/$1.out ready=$BG_TMP/$1.ready

	# $BG_TMP may be mounted noexec: the shell reads the script.
	printf 'touch "%s"\nexec sleep 600\n' "$ready" >"$BG_TMP/$1.sh"
	bpftrace -c "/bin/sh $BG_TMP/$1.sh" "$TOOLS/$1.bt" >"$out" \
		2>"$out.err" &
	TRACER=$!
	BG_PIDS+=("$TRACER")
	# bpftrace compiles the program first: seconds in the test VM.
	# shellcheck disable=SC2016 # evaluated by wait_for
	if ! wait_for '[[ -e $ready ]] || ! kill -0 "$TRACER"' 120000 ||
		[[ ! -e $ready ]]; then
		log "$1: $(cat "$out.err")"
		return 1
	fi
}

# running PID: the process is neither gone nor a zombie.
# shellcheck disable=SC2317 # called through wait_for
running() {
	! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null &&
		[[ -e /proc/$1 ]]
}

# stop: end the tracer with SIGINT, as Ctrl-C would (END runs). bpftrace
# 0.17 misses a SIGINT that arrives while it is printing events rather than
# waiting for them (its loop looks for the signal only when epoll_wait() is
# interrupted), so one still running a second later gets SIGTERM, which it
# handles the same way, every second; unlike SIGINT, SIGTERM does not kill
# it once it is printing its maps. One still running after 30 s is killed,
# and the case fails.
stop() {
	local try

	kill -INT "$TRACER" 2>/dev/null
	for ((try = 0; try < 30; try++)); do
		# shellcheck disable=SC2016 # evaluated by wait_for
		wait_for '! running "$TRACER"' 1000 2>/dev/null && break
		((try)) || log "bpftrace still running 1 s after SIGINT"
		kill -TERM "$TRACER" 2>/dev/null
	done
	if running "$TRACER"; then
		log "bpftrace did not end on SIGINT or SIGTERM"
		kill -KILL "$TRACER" 2>/dev/null
		wait "$TRACER" 2>/dev/null
		return 1
	fi
	wait "$TRACER" 2>/dev/null
	return 0
}

show() {
	local line

	while read -r line; do
		log "  $line"
	done <"$BG_TMP/$1.out"
}

# has TOOL REGEX: a line of TOOL's output matches the extended REGEX.
has() {
	grep -Eq "$2" "$BG_TMP/$1.out"
}

# exchange: the connection; fails if it has not ended within 60 s.
exchange() {
	timeout 60 python3 -c "$EXCHANGE_PY" "$XTCP_PROTO" "$PORT" \
		50000 20000 300 || log "exchange failed: status $?"
}

case_states() {
	local est_ms

	if ! trace xtcpstates; then
		ktap_fail xtcpstates "bpftrace did not start"
		return
	fi
	exchange
	# shellcheck disable=SC2016 # evaluated by wait_for
	wait_for 'has xtcpstates "FIN_WAIT_2 +-> TIME_WAIT"' 10000
	if ! stop; then
		show xtcpstates
		ktap_fail xtcpstates "bpftrace did not end"
		return
	fi
	show xtcpstates
	# The client leaves ESTABLISHED after the 300 ms pause.
	est_ms=$(awk -v p=":$PORT" '$3 ~ p"$" && $4 == "ESTABLISHED" &&
		$6 == "FIN_WAIT_1" { print $7 }' "$BG_TMP/xtcpstates.out")
	if has xtcpstates "CLOSED +-> SYN_SENT" &&
		has xtcpstates "SYN_SENT +-> ESTABLISHED" &&
		has xtcpstates "LISTEN +-> SYN_RCVD" &&
		has xtcpstates "SYN_RCVD +-> ESTABLISHED" &&
		has xtcpstates "CLOSE_WAIT +-> LAST_ACK" &&
		has xtcpstates "FIN_WAIT_2 +-> TIME_WAIT" &&
		[[ -n $est_ms ]] && ((est_ms >= 300)); then
		ktap_ok xtcpstates
	else
		ktap_fail xtcpstates "ESTABLISHED for '${est_ms}' ms"
	fi
}

case_life() {
	local client server

	if ! trace xtcplife; then
		ktap_fail xtcplife "bpftrace did not start"
		return
	fi
	exchange
	# shellcheck disable=SC2016 # evaluated by wait_for
	wait_for '(($(wc -l <"$BG_TMP/xtcplife.out") >= 3))' 10000
	if ! stop; then
		show xtcplife
		ktap_fail xtcplife "bpftrace did not end"
		return
	fi
	show xtcplife
	# PID COMM LADDR LPORT RADDR RPORT TX_KB RX_KB MS
	client=$(awk -v p="$PORT" '$6 == p { print $2, $7, $8, $9 }' \
		"$BG_TMP/xtcplife.out")
	server=$(awk -v p="$PORT" '$4 == p { print $7, $8, $9 }' \
		"$BG_TMP/xtcplife.out")
	log "client: $client; server: $server"
	if [[ $client =~ ^python3\ 48\ 19\ ([0-9]+)$ ]] &&
		((BASH_REMATCH[1] >= 300)) &&
		[[ $server =~ ^19\ 48\ ([0-9]+)$ ]] &&
		((BASH_REMATCH[1] >= 300)); then
		ktap_ok xtcplife
	else
		ktap_fail xtcplife
	fi
}

case_retrans() {
	if ! ip link add xtcp-nowhere type dummy 2>/dev/null ||
		! ip addr add 10.123.0.1/24 dev xtcp-nowhere ||
		! ip link set xtcp-nowhere up; then
		ktap_skip xtcpretrans "no dummy network device"
		return
	fi
	if ! trace xtcpretrans; then
		ktap_fail xtcpretrans "bpftrace did not start"
		return
	fi
	# A SYN into the dummy device goes nowhere: retransmitted after the
	# initial RTO (1 s).
	python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, int(sys.argv[1]))
s.setblocking(False)
try:
    s.connect((sys.argv[2], 9))
except BlockingIOError:
    pass
time.sleep(float(sys.argv[3]))' "$XTCP_PROTO" "$NOWHERE" 10 &
	BG_PIDS+=($!)
	# shellcheck disable=SC2016 # evaluated by wait_for
	wait_for 'has xtcpretrans "$NOWHERE:9 +SYN_SENT"' 10000
	if ! stop; then
		show xtcpretrans
		ktap_fail xtcpretrans "bpftrace did not end"
		return
	fi
	show xtcpretrans
	if has xtcpretrans "10\.123\.0\.1:[0-9]+ +-> +$NOWHERE:9 +SYN_SENT" &&
		has xtcpretrans "^@retransmits\[10\.123\.0\.1, [0-9]+, $NOWHERE, 9\]: [1-9]"; then
		ktap_ok xtcpretrans
	else
		ktap_fail xtcpretrans
	fi
}

main() {
	ktap_plan 3
	require_tools python3 bpftrace
	modprobe -q dummy 2>/dev/null
	BG_TMP=$(mktemp -d)

	case_states
	case_life
	case_retrans
	ktap_finished
}

main "$@"
