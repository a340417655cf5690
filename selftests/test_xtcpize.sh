#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_xtcpize.sh - unmodified programs over xtcp with tools/xtcpize.
#
# python3's http.server and curl, both run by `xtcpize run`, move a random
# 1 MiB file over loopback on xtcp, untouched by Linux TCP.
#
# Cases:
#	sockets_converted	under xtcpize, socket(AF_INET or AF_INET6,
#				SOCK_STREAM, 0 or IPPROTO_TCP, with or without
#				SOCK_NONBLOCK and SOCK_CLOEXEC) gives an xtcp
#				socket (SO_PROTOCOL); UDP and AF_UNIX sockets
#				stay as they were
#	server_on_xtcp		the xtcpized http.server listens in
#				/proc/net/xtcp (state 0A)
#	server_not_on_tcp	... and not in /proc/net/tcp
#	fetch			the xtcpized curl gets the file, byte for byte
#	counters		ActiveOpens and PassiveOpens in
#				/proc/net/xtcp_stats went up
#	server6_on_xtcp		an xtcpized http.server bound to :: listens in
#				/proc/net/xtcp6 (state 0A)
#	fetch6			the xtcpized curl gets the file from [::1]
#	fetch_v4_from_v6	... and from 127.0.0.1, to the same server
#				(dual stack: an IPv4-mapped client)
#	xtcp_to_tcp_fails	an xtcpized curl cannot reach a plain TCP
#				server (a plain curl can)
#	unsupported_message	with a protocol number the kernel does not
#				know (XTCPIZE_PROTO=252), socket() fails and
#				one "xtcpize: xtcp module not loaded" line
#				is printed
#	fallback		... and with --fallback curl gets the file
#				over plain TCP
#	systemd_dropin		xtcpize enable/disable write and remove the
#				drop-in (under XTCPIZE_SYSTEMD_DIR)
#	usage			an unknown subcommand exits 2
#
# Needs root (run.sh gives it fresh namespaces), python3 and curl.

set -uo pipefail

# shellcheck source=selftests/lib.sh
source "${XTCP_LIB:-$(dirname "$0")/lib.sh}"

HERE=$(cd "$(dirname "$0")" && pwd)
# build/selftests/test_xtcpize.sh -> build/tools/xtcpize/xtcpize
XTCPIZE=${XTCPIZE:-$HERE/../tools/xtcpize/xtcpize}
XTCP_PORT=18080
TCP_PORT=18081
V6_PORT=18082
SIZE=$((1024 * 1024))
# Slow (debug) kernels scale the waits with XTCP_TIMEOUT_SCALE: python3
# alone takes seconds to start there.
SCALE=${XTCP_TIMEOUT_SCALE:-1}
WAIT_MS=$((30000 * SCALE))

log() {
	echo "# $*"
}

trap bg_cleanup EXIT

counter() {
	awk -v name="Xtcp$1" '$1 == name { print $2 }' /proc/net/xtcp_stats
}

# serve PORT [xtcpize]: python3's http.server on 127.0.0.1:PORT serving
# $BG_TMP/www, in the background.
serve() {
	local -a pre=()

	[[ ${2:-} != xtcpize ]] || pre=("$XTCPIZE" run)
	"${pre[@]}" python3 -m http.server --bind 127.0.0.1 \
		--directory "$BG_TMP/www" "$1" >"$BG_TMP/server-$1.log" 2>&1 &
	BG_PIDS+=($!)
}

# fetch PORT OUT [CURL_PREFIX...]: curl the file from $FETCH_HOST (default
# 127.0.0.1) at PORT into OUT; curl's stderr goes to OUT.err.
fetch() {
	local port=$1 out=$2

	shift 2
	"$@" curl -q -sS -g --noproxy '*' --connect-timeout $((10 * SCALE)) \
		--max-time $((60 * SCALE)) \
		-o "$out" "http://${FETCH_HOST:-127.0.0.1}:$port/blob" \
		2>"$out.err"
}

# listening6 FILE PORT: FILE (/proc/net/tcp6 layout) has a listener (0A)
# on [::]:PORT.
listening6() {
	awk -v want="$(printf '%032d:%04X' 0 "$2")" '
		$2 == want && $4 == "0A" { found = 1 }
		END { exit !found }' "$1"
}

# An xtcpized http.server on :: (IPv4 clients too: it clears
# IPV6_V6ONLY), fetched from over IPv6 and over IPv4.
case_dual_stack() {
	"$XTCPIZE" run python3 -m http.server --bind :: \
		--directory "$BG_TMP/www" "$V6_PORT" \
		>"$BG_TMP/server-$V6_PORT.log" 2>&1 &
	BG_PIDS+=($!)
	if ! wait_for "listening6 /proc/net/xtcp6 $V6_PORT" "$WAIT_MS"; then
		sed 's/^/#   /' "$BG_TMP/server-$V6_PORT.log"
		ktap_fail server6_on_xtcp "no xtcp listener on [::]:$V6_PORT"
		ktap_fail fetch6 "no server"
		ktap_fail fetch_v4_from_v6 "no server"
		return
	fi
	if listening6 /proc/net/tcp6 "$V6_PORT"; then
		ktap_fail server6_on_xtcp "a TCP listener on [::]:$V6_PORT"
	else
		ktap_ok server6_on_xtcp
	fi
	if FETCH_HOST='[::1]' fetch "$V6_PORT" "$BG_TMP/got6" "$XTCPIZE" run &&
		cmp -s "$BG_TMP/www/blob" "$BG_TMP/got6"; then
		ktap_ok fetch6
	else
		sed 's/^/#   /' "$BG_TMP/got6.err"
		ktap_fail fetch6 "curl over xtcp and IPv6 did not get the file"
	fi
	if fetch "$V6_PORT" "$BG_TMP/got4" "$XTCPIZE" run &&
		cmp -s "$BG_TMP/www/blob" "$BG_TMP/got4"; then
		ktap_ok fetch_v4_from_v6
	else
		sed 's/^/#   /' "$BG_TMP/got4.err"
		ktap_fail fetch_v4_from_v6 "no IPv4 fetch from the :: server"
	fi
}

case_xtcp_server() {
	serve "$XTCP_PORT" xtcpize
	if wait_for "listening /proc/net/xtcp $XTCP_PORT" "$WAIT_MS"; then
		ktap_ok server_on_xtcp
	else
		log "server log:"
		sed 's/^/#   /' "$BG_TMP/server-$XTCP_PORT.log"
		ktap_fail server_on_xtcp "no xtcp listener on port $XTCP_PORT"
	fi
	if listening /proc/net/tcp "$XTCP_PORT"; then
		ktap_fail server_not_on_tcp "a TCP listener on port $XTCP_PORT"
	else
		ktap_ok server_not_on_tcp
	fi
}

case_fetch() {
	local active0 passive0 active1 passive1

	active0=$(counter ActiveOpens)
	passive0=$(counter PassiveOpens)
	if fetch "$XTCP_PORT" "$BG_TMP/got" "$XTCPIZE" run &&
		cmp -s "$BG_TMP/www/blob" "$BG_TMP/got"; then
		ktap_ok fetch
	else
		sed 's/^/#   /' "$BG_TMP/got.err"
		ktap_fail fetch "curl over xtcp did not get the file"
	fi
	active1=$(counter ActiveOpens)
	passive1=$(counter PassiveOpens)
	log "ActiveOpens $active0 -> $active1, PassiveOpens $passive0 -> $passive1"
	if ((active1 > active0 && passive1 > passive0)); then
		ktap_ok counters
	else
		ktap_fail counters "xtcp counters did not rise"
	fi
}

case_xtcp_to_tcp() {
	serve "$TCP_PORT"
	if ! wait_for "listening /proc/net/tcp $TCP_PORT" "$WAIT_MS" ||
		! fetch "$TCP_PORT" "$BG_TMP/plain" ||
		! cmp -s "$BG_TMP/www/blob" "$BG_TMP/plain"; then
		ktap_fail xtcp_to_tcp_fails "the plain TCP server does not serve"
		return
	fi
	if fetch "$TCP_PORT" "$BG_TMP/cross" "$XTCPIZE" run; then
		ktap_fail xtcp_to_tcp_fails "an xtcp client reached a TCP server"
	else
		log "as expected: $(head -n 1 "$BG_TMP/cross.err")"
		ktap_ok xtcp_to_tcp_fails
	fi
}

case_unsupported() {
	local lines

	if XTCPIZE_PROTO=252 fetch "$TCP_PORT" "$BG_TMP/unsup" "$XTCPIZE" run; then
		ktap_fail unsupported_message "curl succeeded with protocol 252"
	else
		sed 's/^/#   /' "$BG_TMP/unsup.err"
		lines=$(grep -c '^xtcpize: xtcp module not loaded' "$BG_TMP/unsup.err")
		if ((lines == 1)); then
			ktap_ok unsupported_message
		else
			ktap_fail unsupported_message "$lines message lines"
		fi
	fi

	if XTCPIZE_PROTO=252 fetch "$TCP_PORT" "$BG_TMP/fb" \
		"$XTCPIZE" run --fallback && cmp -s "$BG_TMP/www/blob" "$BG_TMP/fb" &&
		grep -q '^xtcpize: xtcp module not loaded' "$BG_TMP/fb.err"; then
		ktap_ok fallback
	else
		sed 's/^/#   /' "$BG_TMP/fb.err"
		ktap_fail fallback "no plain TCP fetch with --fallback"
	fi
}

case_systemd() {
	local dir=$BG_TMP/systemd conf lib

	conf=$dir/demo.service.d/xtcpize.conf
	lib=$(cd "$(dirname "$XTCPIZE")" && pwd)/libxtcpize.so
	if ! XTCPIZE_SYSTEMD_DIR=$dir "$XTCPIZE" enable demo >/dev/null ||
		! grep -qx '\[Service\]' "$conf" ||
		! grep -qxF "Environment=LD_PRELOAD=$lib" "$conf"; then
		ktap_fail systemd_dropin "enable: no drop-in $conf"
		return
	fi
	if XTCPIZE_SYSTEMD_DIR=$dir "$XTCPIZE" disable demo >/dev/null &&
		[[ ! -e $conf && ! -e $dir/demo.service.d ]]; then
		ktap_ok systemd_dropin
	else
		ktap_fail systemd_dropin "disable left $conf"
	fi
}

case_usage() {
	local rc=0

	"$XTCPIZE" frobnicate >/dev/null 2>"$BG_TMP/usage.err" || rc=$?
	if ((rc == 2)) && grep -q '^Usage:' "$BG_TMP/usage.err"; then
		ktap_ok usage
	else
		ktap_fail usage "exit status $rc"
	fi
}

main() {
	ktap_plan 13
	require_programs "$XTCPIZE" python3 curl cmp
	BG_TMP=$(mktemp -d)
	mkdir "$BG_TMP/www"
	head -c "$SIZE" /dev/urandom >"$BG_TMP/www/blob"

	sockets_converted "$XTCPIZE" run
	case_xtcp_server
	case_fetch
	case_dual_stack
	case_xtcp_to_tcp
	case_unsupported
	case_systemd
	case_usage
	ktap_finished
}

main "$@"
