#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_xtcpize_bpf.sh - `xtcpize run --bpf`: a static binary over xtcp
# through the BPF program on update_socket_protocol(), limited to a cgroup.
#
# A static busybox httpd, which LD_PRELOAD cannot reach, serves a random
# 1 MiB file over xtcp under `xtcpize run --bpf`; curl fetches it under
# --bpf (a second program on the hook) and under LD_PRELOAD, while
# processes outside both cgroups keep using TCP.
#
# Cases:
#	sockets_converted	under --bpf, socket(AF_INET or AF_INET6,
#				SOCK_STREAM, 0 or IPPROTO_TCP, with or without
#				SOCK_NONBLOCK and SOCK_CLOEXEC) gives an xtcp
#				socket (SO_PROTOCOL); UDP and AF_UNIX sockets
#				stay as they were
#	static_server_on_xtcp	the static httpd listens in /proc/net/xtcp
#				(state 0A) ...
#	static_server_not_on_tcp ... and not in /proc/net/tcp
#	in_own_cgroup		httpd runs in /xtcpize-PID (PID: the loader's)
#				and bpftool lists the attached program
#	fetch_bpf		curl under --bpf gets the file, byte for
#				byte
#	fetch_preload		curl under LD_PRELOAD gets it too
#	outside_stays_tcp	meanwhile, a socket made outside is TCP, and
#				a plain python3 server and plain curl talk
#				over TCP
#	two_programs		with a second xtcpize --bpf attached later
#				(its program runs first), the first one's
#				command still gets xtcp for IPPROTO_TCP: the
#				second program leaves that socket alone
#				without ending the chain
#	exit_status		the command's exit status comes back, and its
#				death by a signal too
#	cleanup			after SIGTERM to xtcpize, httpd is gone, the
#				program is no longer listed by bpftool and
#				the cgroup is removed
#	leftovers_waited	a process the command leaves behind keeps
#				xtcpize (and the program) until it ends
#	unsupported_message	with a protocol number the kernel does not
#				know, one "xtcpize: xtcp module not loaded"
#				line and exit status 1
#	fallback		... and with --fallback the command runs,
#				over TCP
#	needs_root		without CAP_BPF, a message saying it needs
#				root and exit status 1
#
# Needs root (run.sh gives it fresh namespaces), busybox-static, python3,
# curl, bpftool, setpriv; skips where the kernel has no BTF or no
# update_socket_protocol() hook (before Linux 6.6).

set -uo pipefail

# shellcheck source=selftests/lib.sh
source "${XTCP_LIB:-$(dirname "$0")/lib.sh}"

HERE=$(cd "$(dirname "$0")" && pwd)
# build/selftests/test_xtcpize_bpf.sh -> build/tools/xtcpize/xtcpize
XTCPIZE=${XTCPIZE:-$HERE/../tools/xtcpize/xtcpize}
BUSYBOX=${XTCP_BUSYBOX:-/bin/busybox}
XTCP_PORT=18090
TCP_PORT=18091
SIZE=$((1024 * 1024))
PROG=xtcpize_socket
CGROOT=/sys/fs/cgroup
SERVER_PID=

log() {
	echo "# $*"
}

trap bg_cleanup EXIT

# The ids of the programs named $PROG that are loaded.
prog_ids() {
	bpftool prog show 2>/dev/null |
		awk -v name="$PROG" '$3 == "name" && $4 == name { sub(":", "", $1); print $1 }'
}

# programs_at_least N: at least N programs named $PROG are loaded.
# shellcheck disable=SC2317 # called through wait_for
programs_at_least() {
	(($(prog_ids | wc -l) >= $1))
}

# fetch PORT OUT [CURL_PREFIX...]: curl the file from 127.0.0.1:PORT into
# OUT; curl's stderr goes to OUT.err.
fetch() {
	local port=$1 out=$2

	shift 2
	"$@" curl -q -sS --noproxy '*' --connect-timeout 10 --max-time 60 \
		-o "$out" "http://127.0.0.1:$port/blob" 2>"$out.err"
}

# The protocol of a socket(AF_INET, SOCK_STREAM, 0) made by [PREFIX...].
stream_proto() {
	"$@" python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
print(s.getsockopt(socket.SOL_SOCKET, socket.SO_PROTOCOL))'
}

# Skip unless the running kernel can take the program; mount cgroup2 in
# this test's own mount namespace when nothing is there.
require_bpf() {
	[[ -r /sys/kernel/btf/vmlinux ]] || {
		echo "# SKIP: the kernel has no BTF (/sys/kernel/btf/vmlinux)"
		exit "$KSFT_SKIP"
	}
	grep -q "FUNC 'update_socket_protocol'" < <(bpftool btf dump \
		file /sys/kernel/btf/vmlinux format raw) || {
		echo "# SKIP: the kernel has no update_socket_protocol() hook"
		exit "$KSFT_SKIP"
	}
	if [[ $(stat -f -c %T "$CGROOT" 2>/dev/null) != cgroup2fs ]]; then
		mount -t cgroup2 none "$CGROOT" || {
			echo "# SKIP: cannot mount cgroup2 on $CGROOT"
			exit "$KSFT_SKIP"
		}
	fi
	"$BUSYBOX" httpd --help 2>&1 | grep -q 'Usage: httpd' || {
		echo "# SKIP: $BUSYBOX has no httpd; install busybox-static"
		exit "$KSFT_SKIP"
	}
}

case_static_server() {
	"$XTCPIZE" run --bpf "$BUSYBOX" httpd -f -p "127.0.0.1:$XTCP_PORT" \
		-h "$BG_TMP/www" >"$BG_TMP/httpd.log" 2>&1 &
	SERVER_PID=$!
	BG_PIDS+=("$SERVER_PID")
	if wait_for "listening /proc/net/xtcp $XTCP_PORT" 30000; then
		ktap_ok static_server_on_xtcp
	else
		sed 's/^/#   /' "$BG_TMP/httpd.log"
		ktap_fail static_server_on_xtcp "no xtcp listener on $XTCP_PORT"
	fi
	if listening /proc/net/tcp "$XTCP_PORT"; then
		ktap_fail static_server_not_on_tcp "a TCP listener on $XTCP_PORT"
	else
		ktap_ok static_server_not_on_tcp
	fi
}

case_cgroup() {
	local httpd cg ids

	httpd=$(pgrep -P "$SERVER_PID" -x busybox)
	cg=$(cat "/proc/$httpd/cgroup" 2>/dev/null)
	ids=$(prog_ids)
	log "httpd $httpd in '$cg'; programs $PROG: ${ids//$'\n'/ }"
	if [[ $cg == "0::/xtcpize-$SERVER_PID" && -n $ids ]]; then
		ktap_ok in_own_cgroup
	else
		ktap_fail in_own_cgroup "cgroup '$cg', programs '$ids'"
	fi
}

case_fetch() {
	if fetch "$XTCP_PORT" "$BG_TMP/got" "$XTCPIZE" run --bpf &&
		cmp -s "$BG_TMP/www/blob" "$BG_TMP/got"; then
		ktap_ok fetch_bpf
	else
		sed 's/^/#   /' "$BG_TMP/got.err"
		ktap_fail fetch_bpf "curl under --bpf did not get the file"
	fi
	if fetch "$XTCP_PORT" "$BG_TMP/got2" "$XTCPIZE" run &&
		cmp -s "$BG_TMP/www/blob" "$BG_TMP/got2"; then
		ktap_ok fetch_preload
	else
		sed 's/^/#   /' "$BG_TMP/got2.err"
		ktap_fail fetch_preload "curl under LD_PRELOAD did not get the file"
	fi
}

case_outside() {
	local proto

	proto=$(stream_proto)
	python3 -m http.server --bind 127.0.0.1 --directory "$BG_TMP/www" \
		"$TCP_PORT" >"$BG_TMP/plain.log" 2>&1 &
	BG_PIDS+=($!)
	if [[ $proto == 6 ]] &&
		wait_for "listening /proc/net/tcp $TCP_PORT" 30000 &&
		fetch "$TCP_PORT" "$BG_TMP/plain" &&
		cmp -s "$BG_TMP/www/blob" "$BG_TMP/plain"; then
		ktap_ok outside_stays_tcp
	else
		ktap_fail outside_stays_tcp "protocol '$proto' or no TCP fetch"
	fi
}

case_two_programs() {
	local first second proto

	"$XTCPIZE" run --bpf python3 - "$BG_TMP/go" >"$BG_TMP/first.out" \
		2>&1 <<'EOF' &
import os
import socket
import sys
import time

deadline = time.monotonic() + 30
while not os.path.exists(sys.argv[1]) and time.monotonic() < deadline:
    time.sleep(0.01)
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
print(s.getsockopt(socket.SOL_SOCKET, socket.SO_PROTOCOL))
EOF
	first=$!
	BG_PIDS+=("$first")
	wait_for "programs_at_least 2" 30000
	"$XTCPIZE" run --bpf sleep 600 &
	second=$!
	BG_PIDS+=("$second")
	wait_for "programs_at_least 3" 30000
	touch "$BG_TMP/go"
	wait "$first"
	kill -TERM "$second"
	wait "$second"
	proto=$(cat "$BG_TMP/first.out")
	log "IPPROTO_TCP socket of the first of two: $proto"
	if [[ $proto == "$(cat /sys/module/xtcp/parameters/proto)" ]]; then
		ktap_ok two_programs
	else
		ktap_fail two_programs "got '$proto'"
	fi
}

case_exit_status() {
	local rc1=0 rc2=0

	"$XTCPIZE" run --bpf sh -c 'exit 3' || rc1=$?
	"$XTCPIZE" run --bpf sh -c 'kill -USR1 $$' || rc2=$?
	log "exit 3 -> $rc1; SIGUSR1 -> $rc2"
	if ((rc1 == 3 && rc2 == 128 + 10)); then
		ktap_ok exit_status
	else
		ktap_fail exit_status "got $rc1 and $rc2"
	fi
}

case_cleanup() {
	local httpd rc=0 ids proto

	httpd=$(pgrep -P "$SERVER_PID" -x busybox)
	kill -TERM "$SERVER_PID"
	wait "$SERVER_PID" || rc=$?
	ids=$(prog_ids)
	proto=$(stream_proto)
	log "xtcpize exited with $rc; programs $PROG: '${ids//$'\n'/ }'"
	if [[ -n $httpd ]] && ! kill -0 "$httpd" 2>/dev/null &&
		[[ -z $ids && ! -e $CGROOT/xtcpize-$SERVER_PID && $proto == 6 ]] &&
		! listening /proc/net/xtcp "$XTCP_PORT"; then
		ktap_ok cleanup
	else
		ktap_fail cleanup "httpd '$httpd', programs '$ids', protocol $proto"
	fi
}

case_leftovers() {
	local pid ok=1

	"$XTCPIZE" run --bpf sh -c 'sleep 600 & exit 0' \
		>"$BG_TMP/left.log" 2>&1 &
	pid=$!
	BG_PIDS+=("$pid")
	wait_for "grep -q 'waiting for the processes left' $BG_TMP/left.log" \
		30000 || ok=0
	# The command has exited; xtcpize and its program must still be there.
	if ((ok)) && kill -0 "$pid" && [[ -n $(prog_ids) ]] &&
		[[ -n $(cat "$CGROOT/xtcpize-$pid/cgroup.procs") ]]; then
		kill -TERM "$pid"
		wait "$pid"
		[[ -z $(prog_ids) && ! -e $CGROOT/xtcpize-$pid ]] || ok=0
	else
		ok=0
	fi
	if ((ok)); then
		ktap_ok leftovers_waited
	else
		sed 's/^/#   /' "$BG_TMP/left.log"
		ktap_fail leftovers_waited "xtcpize did not wait for the leftover"
	fi
}

case_unsupported() {
	local rc=0 lines proto

	XTCPIZE_PROTO=252 "$XTCPIZE" run --bpf true 2>"$BG_TMP/unsup.err" || rc=$?
	sed 's/^/#   /' "$BG_TMP/unsup.err"
	lines=$(grep -c '^xtcpize: xtcp module not loaded' "$BG_TMP/unsup.err")
	if ((rc == 1 && lines == 1)); then
		ktap_ok unsupported_message
	else
		ktap_fail unsupported_message "exit status $rc, $lines lines"
	fi
	proto=$(XTCPIZE_PROTO=252 stream_proto "$XTCPIZE" run --bpf --fallback \
		2>"$BG_TMP/fb.err")
	if [[ $proto == 6 ]] &&
		grep -q '^xtcpize: xtcp module not loaded' "$BG_TMP/fb.err"; then
		ktap_ok fallback
	else
		ktap_fail fallback "protocol '$proto' with --fallback"
	fi
}

case_needs_root() {
	local rc=0

	setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$XTCPIZE" run --bpf true 2>"$BG_TMP/root.err" || rc=$?
	sed 's/^/#   /' "$BG_TMP/root.err"
	if ((rc == 1)) && grep -q '^xtcpize: run --bpf needs root' \
		"$BG_TMP/root.err"; then
		ktap_ok needs_root
	else
		ktap_fail needs_root "exit status $rc"
	fi
}

main() {
	ktap_plan 14
	require_programs "$XTCPIZE" python3 curl cmp bpftool setpriv pgrep
	require_bpf
	BG_TMP=$(mktemp -d)
	mkdir "$BG_TMP/www"
	head -c "$SIZE" /dev/urandom >"$BG_TMP/www/blob"

	sockets_converted "$XTCPIZE" run --bpf
	case_static_server
	case_cgroup
	case_fetch
	case_outside
	case_two_programs
	case_exit_status
	case_cleanup
	case_leftovers
	case_unsupported
	case_needs_root
	ktap_finished
}

main "$@"
