#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_nginx_tw.sh - TIME_WAIT under a real server: nginx and ab, over TCP
# and over xtcp (tools/xtcpize), many short connections.
#
# Two unmodified nginx serve a 512-byte file on 127.0.0.1, one over TCP,
# one under `xtcpize run`. A sampler records the number of TIME_WAIT
# entries every 200 ms (TCP: `ss -tan state time-wait`; xtcp: state 06 in
# /proc/net/xtcp) into $XTCP_OUT/nginx_tw.tsv (t_ms, phase, tcp, xtcp),
# which `make demo` plots.
#
# Cases:
#	load			ab without keep-alive, LOAD requests over each
#				protocol at the same time, net.xtcp.msl = 1000
#				(TIME_WAIT of 2 s): every request completes
#	msl_drain		after its load ends, the xtcp population is 0
#				within 2 * msl plus slack; while the load ran
#				it was at least 20 and at most three times
#				what the mean rate makes in 2 * msl + 1 s
#				(entries expire as fast as they come)
#	tcp_tw_stays		at that moment TCP, whose TIME_WAIT is a fixed
#				60 s, still holds at least half the entries it
#				had when its load ended, and LOAD / 10 at least
#	overflow_evict		net.xtcp.max_tw_buckets = CAP, tw_overflow = 1,
#				msl 30 s: a first load fills the table to CAP, a
#				second of 2 * CAP connections replaces every
#				entry (no 4-tuple of the first set is left),
#				TWOverflow grows by at least 2 * CAP
#	overflow_keep		tw_overflow = 0 on the full table: after CAP
#				more connections the set of entries is exactly
#				the one before, TWOverflow grows by at least
#				CAP
#	cap_held		no sample of the two cases above saw more than
#				CAP xtcp entries
#	counts_agree		the sampler's sources count what ss and
#				/proc/net/xtcp list: ss's count of the draining
#				TCP entries lies between /proc/net/sockstat's
#				tw before and after; with the cap, XtcpTimeWait
#				is the number of entries in /proc/net/xtcp
#	reuse_off		a client under xtcpize that closes first (HTTP
#				keep-alive, so nginx waits for it) from a range
#				of PORTS local ports, net.xtcp.tw_reuse = 0:
#				connect() fails with EADDRNOTAVAIL once its own
#				TIME_WAIT entries hold every port
#	reuse_on		tw_reuse = 1, tw_reuse_delay = 10 ms: REUSE
#				connections from the same ports all succeed and
#				TWReused grows by at least REUSE - PORTS
#
# Linux TCP is the oracle only for the first phase: its TIME_WAIT length
# is not a knob, and its cap drops new entries (tw_overflow = 0).
#
# XTCP_TW_VERBOSE=1 prints the populations once a second (`make demo`).
# Needs root (run.sh gives it fresh namespaces), nginx, ab, ss, python3.

set -uo pipefail

# shellcheck source=selftests/lib.sh
source "${XTCP_LIB:-$(dirname "$0")/lib.sh}"

HERE=$(cd "$(dirname "$0")" && pwd)
# build/selftests/test_nginx_tw.sh -> build/tools/xtcpize/xtcpize
XTCPIZE=${XTCPIZE:-$HERE/../tools/xtcpize/xtcpize}
TCP_PORT=18092
MSL_PORT=18093
CAP_PORT=18094
REUSE_PORT=18095
SIZE=512
LOAD=${XTCP_TW_LOAD:-10000}
CONCURRENCY=8
MSL_MS=1000
# Time for the timer to run and the sampler to see it, beyond 2 * msl.
SLACK_MS=3000
CAP=200
PORTS=50
REUSE=500
VERBOSE=${XTCP_TW_VERBOSE:-0}
BG_PIDS=()
BG_TMP=

log() {
	echo "# $*"
}

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	local pidfile

	touch "$BG_TMP/stop"
	for pidfile in "$BG_TMP"/*/nginx.pid; do
		[[ -r $pidfile ]] && kill "$(cat "$pidfile" 2>/dev/null)" 2>/dev/null
	done
	bg_cleanup
}
trap cleanup EXIT

now_ms() {
	local us=${EPOCHREALTIME//[!0-9]/}

	echo $((us / 1000 - T0))
}

# tw_xtcp: TIME_WAIT entries in /proc/net/xtcp.
tw_xtcp() {
	awk 'NR > 1 && $4 == "06" { n++ } END { print n + 0 }' /proc/net/xtcp
}

# tw_tcp: TIME_WAIT entries of TCP.
tw_tcp() {
	ss -Htan state time-wait | wc -l
}

# tw_set FILE: the 4-tuples of the xtcp TIME_WAIT entries, sorted.
tw_set() {
	awk 'NR > 1 && $4 == "06" { print $2, $3 }' /proc/net/xtcp | sort >"$1"
}

# knob NAME VALUE: set net.xtcp.NAME, and say so.
knob() {
	xtcp_sysctl_set "$1" "$2" && log "sysctl net.xtcp.$1=$2"
}

# xstat NAME: a counter of /proc/net/xtcp_stats (XtcpNAME).
xstat() {
	awk -v n="Xtcp$1" '$1 == n { print $2 }' /proc/net/xtcp_stats
}

# phase NAME: the sampler's label from now on (renamed into place, so that
# it never reads a half-written file).
phase() {
	echo "$1" >"$BG_TMP/phase.new"
	mv "$BG_TMP/phase.new" "$BG_TMP/phase"
	log "phase $1 at $(now_ms) ms"
}

# The two populations without starting a process: TCP's from the "tw"
# field of /proc/net/sockstat (the namespace's TIME_WAIT sockets, what
# `ss -tan state time-wait` lists), xtcp's from the XtcpTimeWait gauge of
# /proc/net/xtcp_stats (the size of the table /proc/net/xtcp lists). Under
# TCG every process started costs milliseconds that the load would miss;
# main() checks that both agree with ss and /proc/net/xtcp.
# Sets TW_TCP and TW_XTCP.
read_populations() {
	local -a f

	TW_TCP=-1
	TW_XTCP=-1
	while read -ra f; do
		[[ ${f[0]:-} == TCP: ]] && TW_TCP=${f[6]}
	done </proc/net/sockstat
	while read -ra f; do
		[[ ${f[0]:-} == XtcpTimeWait ]] && TW_XTCP=${f[1]}
	done </proc/net/xtcp_stats
}

# sampler: one line "t_ms phase tcp xtcp" every 200 ms into $SAMPLES until
# $BG_TMP/stop exists. Builtins only: read -t on a FIFO nobody writes is
# the sleep.
sampler() {
	local t us ph last=-1000 fd

	mkfifo "$BG_TMP/tick"
	exec {fd}<>"$BG_TMP/tick"
	while [[ ! -e $BG_TMP/stop ]]; do
		us=${EPOCHREALTIME//[!0-9]/}
		t=$((us / 1000 - T0))
		read_populations
		read -r ph <"$BG_TMP/phase"
		# A reading that found no number is left out.
		((TW_TCP < 0 || TW_XTCP < 0)) ||
			echo "$t $ph $TW_TCP $TW_XTCP" >>"$SAMPLES"
		if ((VERBOSE && t - last >= 1000)); then
			printf '# t=%5d.%d s  TIME_WAIT entries: tcp %6d  xtcp %6d  (%s)\n' \
				$((t / 1000)) $((t % 1000 / 100)) "$TW_TCP" \
				"$TW_XTCP" "$ph"
			last=$t
		fi
		read -rt 0.2 -u "$fd"
	done
}

# between BEFORE N AFTER: a population that only shrinks was N between
# two readings, and not 0.
between() {
	(($1 >= $2 && $2 >= $3 && $2 > 0))
}

# samples_max PHASE COLUMN: the largest value of COLUMN (3 tcp, 4 xtcp)
# in the samples of PHASE.
samples_max() {
	awk -v p="$1" -v c="$2" '$2 == p && $c > m { m = $c } END { print m + 0 }' \
		"$SAMPLES"
}

# start PROTO PORT...: nginx over PROTO (tcp, or xtcp under xtcpize).
start() {
	local proto=$1 dir=$BG_TMP/$1
	local -a pre=()

	shift
	[[ $proto == tcp ]] || pre=("$XTCPIZE" run)
	nginx_configure "$dir" "$BG_TMP/www" "$@"
	"${pre[@]}" nginx -c "$dir/nginx.conf" -p "$dir" -e \
		"$dir/logs/error.log" -g 'daemon off;' >"$dir/nginx.out" 2>&1 &
	BG_PIDS+=($!)
	if ! wait_for "listening /proc/net/$proto $1" 30000; then
		sed 's/^/#   /' "$dir/nginx.out" "$dir/logs/error.log"
		return 1
	fi
}

# ab_run NAME PROTO PORT N: ab without keep-alive, N requests; output in
# $BG_TMP/NAME.ab. Fails unless all N completed and none failed.
ab_run() {
	local name=$1 proto=$2 port=$3 n=$4 out=$BG_TMP/$1.ab complete failed
	local -a pre=()

	[[ $proto == tcp ]] || pre=("$XTCPIZE" run)
	"${pre[@]}" timeout 600 ab -q -s 60 -r -n "$n" -c "$CONCURRENCY" \
		"http://127.0.0.1:$port/blob" >"$out" 2>&1
	complete=$(awk '/^Complete requests:/ { print $3 }' "$out")
	failed=$(awk '/^Failed requests:/ { print $3 }' "$out")
	log "$name: $complete of $n complete, $failed failed," \
		"$(awk '/^Requests per second:/ { print $4 }' "$out") requests/s"
	[[ $complete == "$n" && $failed == 0 ]] && return 0
	sed 's/^/#   /' "$out"
	return 1
}

# Phase 1: the same load over both protocols at once, xtcp with a short MSL.
phase_msl() {
	local tcp_rc xtcp_rc tcp_end xtcp_end tcp_at_end limit=$((2 * MSL_MS + SLACK_MS))
	local peak drained xtcp_now tcp_now bound load_start

	knob msl "$MSL_MS"
	phase load
	load_start=$(now_ms)
	ab_run tcp-load tcp "$TCP_PORT" "$LOAD" &
	tcp_rc=$!
	ab_run xtcp-load xtcp "$MSL_PORT" "$LOAD" &
	xtcp_rc=$!
	# Note when each ends; whichever does first.
	while [[ -z ${xtcp_end:-} || -z ${tcp_end:-} ]]; do
		if [[ -z ${xtcp_end:-} ]] && ! kill -0 "$xtcp_rc" 2>/dev/null; then
			xtcp_end=$(now_ms)
			wait "$xtcp_rc"
			xtcp_rc=$?
		fi
		if [[ -z ${tcp_end:-} ]] && ! kill -0 "$tcp_rc" 2>/dev/null; then
			tcp_end=$(now_ms)
			tcp_at_end=$(tw_tcp)
			wait "$tcp_rc"
			tcp_rc=$?
		fi
		sleep 0.1
	done
	phase drain
	log "load ended: xtcp at $xtcp_end ms, tcp at $tcp_end ms;" \
		"tcp then held $tcp_at_end TIME_WAIT entries"
	if ((tcp_rc == 0 && xtcp_rc == 0)); then
		ktap_ok load
	else
		ktap_fail load "ab over tcp: $tcp_rc, over xtcp: $xtcp_rc"
	fi

	# Both protocols get the same time after their load: 2 * msl + slack.
	while (($(now_ms) < (xtcp_end > tcp_end ? xtcp_end : tcp_end) + limit)); do
		sleep 0.2
	done
	xtcp_now=$(tw_xtcp)
	# TCP's entries expire while ss lists them: ss's count lies between
	# /proc/net/sockstat's before and after.
	read_populations
	SOCKSTAT_TW=$TW_TCP
	tcp_now=$(tw_tcp)
	read_populations
	SOCKSTAT_TW="$SOCKSTAT_TW $tcp_now $TW_TCP"
	peak=$(samples_max load 4)
	drained=$(awk -v t="$xtcp_end" '$1 >= t && $4 == 0 { print $1 - t; exit }' \
		"$SAMPLES")
	log "xtcp: peak $peak entries during the load, none left" \
		"${drained:-never} ms after its load ended (limit $limit ms)," \
		"$xtcp_now now; tcp: $tcp_now entries $limit ms after its load"
	# Entries live 2 * msl: at the load's mean rate the population stays
	# near rate * 2 * msl; three times that (plus a second) bounds it.
	bound=$((3 * LOAD * (2 * MSL_MS + 1000) / (xtcp_end - load_start + 1)))
	log "xtcp: the load's mean rate bounds the population to $bound"
	if [[ -n $drained ]] && ((drained <= limit && xtcp_now == 0 &&
				  peak >= 20 && peak <= bound)); then
		ktap_ok msl_drain
	else
		ktap_fail msl_drain "peak $peak, drained ${drained:-never}, $xtcp_now left"
	fi
	if ((tcp_now * 2 >= tcp_at_end && tcp_now >= LOAD / 10)); then
		ktap_ok tcp_tw_stays
	else
		ktap_fail tcp_tw_stays "tcp: $tcp_at_end at the end, $tcp_now later"
	fi
	# Let the reader of the samples see TCP's population stay a while.
	sleep 3
}

# Phase 2: a small cap, with each overflow policy.
phase_cap() {
	local before after max

	knob msl 30000
	knob max_tw_buckets "$CAP"
	knob tw_overflow 1
	phase cap-evict
	ab_run cap-fill xtcp "$CAP_PORT" $((CAP + CAP / 2)) || true
	tw_set "$BG_TMP/set1"
	before=$(xstat TWOverflow)
	ab_run cap-evict xtcp "$CAP_PORT" $((2 * CAP)) || true
	after=$(xstat TWOverflow)
	tw_set "$BG_TMP/set2"
	log "tw_overflow=1: $(wc -l <"$BG_TMP/set1") entries, then" \
		"$(wc -l <"$BG_TMP/set2"), $(comm -12 "$BG_TMP/set1" \
		"$BG_TMP/set2" | wc -l) in common; TWOverflow +$((after - before))"
	if [[ $(wc -l <"$BG_TMP/set1") == "$CAP" &&
	      $(wc -l <"$BG_TMP/set2") == "$CAP" ]] &&
	   (($(comm -12 "$BG_TMP/set1" "$BG_TMP/set2" | wc -l) == 0 &&
	     after - before >= 2 * CAP)); then
		ktap_ok overflow_evict
	else
		ktap_fail overflow_evict "the oldest entries were not replaced"
	fi

	knob tw_overflow 0
	phase cap-keep
	before=$(xstat TWOverflow)
	ab_run cap-keep xtcp "$CAP_PORT" "$CAP" || true
	after=$(xstat TWOverflow)
	tw_set "$BG_TMP/set3"
	log "tw_overflow=0: $(wc -l <"$BG_TMP/set3") entries, $(comm -3 \
		"$BG_TMP/set2" "$BG_TMP/set3" | wc -l) changed; TWOverflow" \
		"+$((after - before))"
	if [[ $(wc -l <"$BG_TMP/set3") == "$CAP" ]] &&
	   cmp -s "$BG_TMP/set2" "$BG_TMP/set3" && ((after - before >= CAP)); then
		ktap_ok overflow_keep
	else
		ktap_fail overflow_keep "the entries changed or no overflow"
	fi

	max=$(($(samples_max cap-evict 4) > $(samples_max cap-keep 4) ?
		$(samples_max cap-evict 4) : $(samples_max cap-keep 4)))
	read_populations
	log "TCP, /proc/net/sockstat, ss, /proc/net/sockstat: $SOCKSTAT_TW;" \
		"xtcp, /proc/net/xtcp and XtcpTimeWait: $(wc -l <"$BG_TMP/set3")" \
		"$TW_XTCP"
	# shellcheck disable=SC2086 # three numbers
	if between $SOCKSTAT_TW &&
	   (($(wc -l <"$BG_TMP/set3") == TW_XTCP && TW_XTCP > 0)); then
		ktap_ok counts_agree
	else
		ktap_fail counts_agree "the sampler does not count what ss and /proc/net/xtcp list"
	fi

	log "largest xtcp population sampled with the cap: $max (cap $CAP)"
	if ((max <= CAP && max > 0)); then
		ktap_ok cap_held
	else
		ktap_fail cap_held "$max entries sampled, cap $CAP"
	fi
	knob max_tw_buckets 18000
}

# The client of phase 3: N requests on as many connections, HTTP/1.1 with
# keep-alive so that nginx waits and the client closes first. Prints the
# number of successes and of EADDRNOTAVAIL failures; stops at the first.
CLIENT_PY='
import errno, socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
ok = 0
for _ in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(30)
    try:
        s.connect(("127.0.0.1", port))
    except OSError as e:
        if e.errno != errno.EADDRNOTAVAIL:
            raise
        print(ok, 1)
        sys.exit(0)
    s.sendall(b"GET /blob HTTP/1.1\r\nHost: x\r\n\r\n")
    buf = b""
    while b"\r\n\r\n" not in buf or len(buf.split(b"\r\n\r\n", 1)[1]) < 512:
        d = s.recv(4096)
        if not d:
            raise SystemExit("short response")
        buf += d
    assert buf.startswith(b"HTTP/1.1 200"), buf[:40]
    s.close()
    ok += 1
print(ok, 0)
'

# Phase 3: a client short of local ports, without and with tw_reuse.
phase_reuse() {
	local ok fail before after

	echo "40000 $((40000 + PORTS - 1))" >/proc/sys/net/ipv4/ip_local_port_range
	knob tw_reuse_delay 10
	knob tw_reuse 0
	phase reuse-off
	read -r ok fail < <("$XTCPIZE" run python3 -c "$CLIENT_PY" \
		"$REUSE_PORT" $((2 * PORTS)) 2>"$BG_TMP/reuse-off.err")
	log "tw_reuse=0: ${ok:-?} connections, then EADDRNOTAVAIL: ${fail:-?}"
	if [[ $fail == 1 ]] && ((ok >= PORTS / 2 && ok <= PORTS)); then
		ktap_ok reuse_off
	else
		sed 's/^/#   /' "$BG_TMP/reuse-off.err"
		ktap_fail reuse_off "the ports were not held"
	fi

	knob tw_reuse 1
	phase reuse-on
	before=$(xstat TWReused)
	read -r ok fail < <("$XTCPIZE" run python3 -c "$CLIENT_PY" \
		"$REUSE_PORT" "$REUSE" 2>"$BG_TMP/reuse-on.err")
	after=$(xstat TWReused)
	log "tw_reuse=1: ${ok:-?} of $REUSE connections from $PORTS ports," \
		"TWReused +$((after - before))"
	if [[ $ok == "$REUSE" && $fail == 0 ]] &&
	   ((after - before >= REUSE - PORTS)); then
		ktap_ok reuse_on
	else
		sed 's/^/#   /' "$BG_TMP/reuse-on.err"
		ktap_fail reuse_on "connections failed or no reuse counted"
	fi
}

main() {
	ktap_plan 9
	require_programs "$XTCPIZE" nginx ab ss python3 timeout
	BG_TMP=$(mktemp -d)
	SAMPLES=${XTCP_OUT:-$BG_TMP}/nginx_tw.tsv
	: >"$SAMPLES"
	mkdir "$BG_TMP/www"
	head -c "$SIZE" /dev/urandom >"$BG_TMP/www/blob"
	T0=0
	T0=$(now_ms)
	log "$(nginx -v 2>&1); $LOAD requests per protocol; samples in $SAMPLES"
	# Linux's cap depends on memory; let TCP keep all its entries.
	echo 1000000 >/proc/sys/net/ipv4/tcp_max_tw_buckets

	if ! start tcp "$TCP_PORT" ||
	   ! start xtcp "$MSL_PORT" "$CAP_PORT" "$REUSE_PORT"; then
		ktap_fail load "nginx did not start"
		ktap_finished
	fi
	phase idle
	sampler &
	BG_PIDS+=($!)

	phase_msl
	phase_cap
	phase_reuse
	phase end
	log "TIME_WAIT counters: $(grep -E '^Xtcp(TWOverflow|TWReused|TimeWait) ' \
		/proc/net/xtcp_stats | paste -sd ' ')"
	sleep 1
	touch "$BG_TMP/stop"
	log "$(wc -l <"$SAMPLES") samples in $(($(now_ms) / 1000)) s"
	ktap_finished
}

main "$@"
