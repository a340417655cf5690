#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_nginx.sh - nginx and ab over xtcp with tools/xtcpize, against TCP.
#
# An unmodified nginx, with a minimal configuration of its own under a
# temporary directory, serves a 4 KiB static file on 127.0.0.1; ab fetches
# it 500 times, 10 at a time, once with a connection per request and once
# with keep-alive. Both run once over plain TCP (the oracle) and once under
# `xtcpize run`. The request rates are printed; they are not judged.
#
# Cases, for PROTO tcp and xtcp:
#	PROTO_server		nginx listens in /proc/net/PROTO (state 0A);
#				for xtcp, and not in /proc/net/tcp
#	PROTO_close		ab without -k: every request completes, none
#				fails, the document length is the file's
#	xtcp_time_wait		... and the connections nginx closed left
#				TIME_WAIT entries (state 06) on its port in
#				/proc/net/xtcp
#	PROTO_keepalive		ab -k: the same, with keep-alive requests
#
# Needs root (run.sh gives it fresh namespaces), nginx and ab
# (apache2-utils).

set -uo pipefail

# shellcheck source=selftests/lib.sh
source "${XTCP_LIB:-$(dirname "$0")/lib.sh}"

HERE=$(cd "$(dirname "$0")" && pwd)
# build/selftests/test_nginx.sh -> build/tools/xtcpize/xtcpize
XTCPIZE=${XTCPIZE:-$HERE/../tools/xtcpize/xtcpize}
TCP_PORT=18090
XTCP_PORT=18091
SIZE=4096
REQUESTS=500
CONCURRENCY=10

log() {
	echo "# $*"
}

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	local pidfile

	for pidfile in "$BG_TMP"/*/nginx.pid; do
		[[ -r $pidfile ]] && kill "$(cat "$pidfile" 2>/dev/null)" 2>/dev/null
	done
	bg_cleanup
}
trap cleanup EXIT

# hexport PORT: the port as /proc/net/tcp writes it.
hexport() {
	printf '%04X' "$1"
}

# time_wait FILE PORT: print the number of TIME_WAIT entries (06) in FILE
# with PORT as the local port (the server's), then as the remote port
# (the client's).
time_wait() {
	awk -v port=":$(hexport "$2")" '
		$4 == "06" && substr($2, 9) == port { server++ }
		$4 == "06" && substr($3, 9) == port { client++ }
		END { print server + 0, client + 0 }' "$1"
}

# bench NAME PORT [-k] [-- PREFIX...]: ab against 127.0.0.1:PORT; its
# output goes to $BG_TMP/NAME.ab. Fails unless every request completed, none
# failed and the document length is the file's.
bench() {
	local name=$1 port=$2 out=$BG_TMP/$1.ab complete failed length
	local -a opts=() pre=()

	shift 2
	if [[ ${1:-} == -k ]]; then
		opts=(-k)
		shift
	fi
	[[ ${1:-} != -- ]] || pre=("${@:2}")
	"${pre[@]}" timeout 300 ab -q -s 60 "${opts[@]}" -n "$REQUESTS" \
		-c "$CONCURRENCY" "http://127.0.0.1:$port/blob" >"$out" 2>&1
	log "$name: ab exited with $?"
	complete=$(awk '/^Complete requests:/ { print $3 }' "$out")
	failed=$(awk '/^Failed requests:/ { print $3 }' "$out")
	length=$(awk '/^Document Length:/ { print $3 }' "$out")
	log "$name: complete $complete, failed $failed, length $length," \
		"$(grep -E '^(Requests per second|Keep-Alive requests):' "$out" |
			tr -s ' ' | paste -sd ',')"
	if [[ $complete == "$REQUESTS" && $failed == 0 && $length == "$SIZE" ]] &&
		! grep -q '^Non-2xx responses:' "$out"; then
		return 0
	fi
	sed 's/^/#   /' "$out"
	return 1
}

# run PROTO PORT: nginx and ab over PROTO (tcp, or xtcp under xtcpize),
# with the cases above.
run() {
	local proto=$1 port=$2 dir=$BG_TMP/$1 tw_server tw_client
	local -a pre=()

	[[ $proto == tcp ]] || pre=(-- "$XTCPIZE" run)
	nginx_configure "$dir" "$BG_TMP/www" "$port"
	"${pre[@]:1}" nginx -c "$dir/nginx.conf" -p "$dir" -e \
		"$dir/logs/error.log" -g 'daemon off;' >"$dir/nginx.out" 2>&1 &
	BG_PIDS+=($!)
	if ! wait_for "listening /proc/net/$proto $port" 30000; then
		sed 's/^/#   /' "$dir/nginx.out" "$dir/logs/error.log"
		ktap_fail "${proto}_server" "no listener in /proc/net/$proto"
	elif [[ $proto == xtcp ]] && listening /proc/net/tcp "$port"; then
		ktap_fail "${proto}_server" "a TCP listener on port $port"
	else
		ktap_ok "${proto}_server"
	fi

	if bench "$proto-close" "$port" "${pre[@]}"; then
		ktap_ok "${proto}_close"
	else
		ktap_fail "${proto}_close" "ab without keep-alive"
	fi
	read -r tw_server tw_client < <(time_wait "/proc/net/$proto" "$port")
	log "$proto: TIME_WAIT entries on port $port: $tw_server on the" \
		"server's side, $tw_client on the client's"
	if [[ $proto == xtcp ]]; then
		if ((tw_server + tw_client > 0)); then
			ktap_ok xtcp_time_wait
		else
			ktap_fail xtcp_time_wait "no TIME_WAIT entry in /proc/net/xtcp"
		fi
	fi

	if bench "$proto-keepalive" "$port" -k "${pre[@]}" &&
		grep -q '^Keep-Alive requests: *[1-9]' "$BG_TMP/$proto-keepalive.ab"; then
		ktap_ok "${proto}_keepalive"
	else
		ktap_fail "${proto}_keepalive" "ab with keep-alive"
	fi
	if [[ -r $dir/nginx.pid ]]; then
		kill "$(cat "$dir/nginx.pid" 2>/dev/null)" 2>/dev/null
		wait_for "[[ ! -e '$dir/nginx.pid' ]]" 30000 ||
			log "nginx over $proto did not stop"
	fi
}

main() {
	ktap_plan 7
	require_programs "$XTCPIZE" nginx ab timeout
	BG_TMP=$(mktemp -d)
	mkdir "$BG_TMP/www"
	head -c "$SIZE" /dev/urandom >"$BG_TMP/www/blob"
	log "$(nginx -v 2>&1)"

	run tcp "$TCP_PORT"
	run xtcp "$XTCP_PORT"
	ktap_finished
}

main "$@"
