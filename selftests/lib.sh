# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Helpers for the xtcp shell selftests and the test runners.
#
# Source it, do not run it. It only defines variables and functions, so it
# is safe under `set -euo pipefail`. The test programs live in
# $BUILD/selftests while this file stays in the source tree; selftests/run.sh
# exports its path as XTCP_LIB:
#
#	# shellcheck source=selftests/lib.sh
#	source "${XTCP_LIB:-$(dirname "$0")/lib.sh}"
#
# Contents:
#	XTCP_KERNEL_ERROR_RE	kernel log lines that fail a test or a VM run
#	ktap_plan N, ktap_ok NAME, ktap_fail NAME [REASON],
#	ktap_skip NAME REASON, ktap_finished
#				TAP output with kselftest exit codes
#	wait_for CMD TIMEOUT_MS	poll a condition until a deadline
#	netns_pair, netns_pair_cleanup
#				two namespaces joined by a veth pair
#	netns_pair_ipv6		IPv6 addresses on that pair
#	xtcp_sysctl_get NAME [NETNS], xtcp_sysctl_set NAME VALUE [NETNS]
#				net.xtcp.* knobs, optionally in a named netns
#	require_tools TOOL...	skip unless installed and xtcp loaded
#	known_sockets PROTO PORT [FAMILY], ss_norm PORT CPORT TWPORT...
#				sockets in known states, and ss lines of
#				them that compare across protocols
#	EXCHANGE_PY		one connection with known bytes each way
#	sockets_converted CMD...
#				the xtcpize case: which sockets CMD converts

# Kernel log patterns that mean the kernel or the module misbehaved: oopses,
# warnings, memory debugging (KFENCE, slub_debug poisoning, KASAN, UBSAN,
# kmemleak), lockdep, hung tasks and RCU stalls, and the leak message of
# kmem_cache_destroy() at rmmod time. Extended regular expression.
XTCP_KERNEL_ERROR_RE='BUG:|WARNING:|Oops|KFENCE:|Call Trace:'
XTCP_KERNEL_ERROR_RE+='|Poison overwritten|blocked for more than'
XTCP_KERNEL_ERROR_RE+='|general protection fault|kernel BUG'
XTCP_KERNEL_ERROR_RE+='|Slab cache still has objects|UBSAN:|KASAN:'
XTCP_KERNEL_ERROR_RE+='|possible circular locking|unreferenced object'
XTCP_KERNEL_ERROR_RE+='|suspected memory leak|RCU stall'
XTCP_KERNEL_ERROR_RE+='|rcu_(sched|preempt|bh) self-detected stall'
XTCP_KERNEL_ERROR_RE+='|rcu: INFO: .*detected stall|Kernel panic'
# The kselftest exit code for "skipped".
KSFT_SKIP=4

# --- KTAP output ---------------------------------------------------------

KTAP_NUM=0
KTAP_PASS=0
KTAP_FAIL=0
KTAP_SKIP=0

# ktap_plan N: the header and the number of cases that will follow.
ktap_plan() {
	echo "TAP version 13"
	echo "1..$1"
}

ktap_ok() {
	KTAP_NUM=$((KTAP_NUM + 1))
	KTAP_PASS=$((KTAP_PASS + 1))
	echo "ok $KTAP_NUM $1"
}

# ktap_fail NAME [REASON]
ktap_fail() {
	KTAP_NUM=$((KTAP_NUM + 1))
	KTAP_FAIL=$((KTAP_FAIL + 1))
	echo "not ok $KTAP_NUM $1${2:+ # $2}"
}

# ktap_skip NAME REASON
ktap_skip() {
	KTAP_NUM=$((KTAP_NUM + 1))
	KTAP_SKIP=$((KTAP_SKIP + 1))
	echo "ok $KTAP_NUM $1 # SKIP ${2:-}"
}

# ktap_finished: print the totals and exit like a kselftest: 1 if any case
# failed, 4 (skip) if every case was skipped, else 0.
ktap_finished() {
	echo "# Totals: pass:$KTAP_PASS fail:$KTAP_FAIL skip:$KTAP_SKIP"
	if ((KTAP_FAIL > 0)); then
		exit 1
	elif ((KTAP_PASS == 0 && KTAP_SKIP > 0)); then
		exit "$KSFT_SKIP"
	fi
	exit 0
}

# --- Waiting -------------------------------------------------------------

# Milliseconds on the wall clock, from bash itself (no fork per poll).
_xtcp_now_ms() {
	local us=${EPOCHREALTIME//[!0-9]/}

	echo $((us / 1000))
}

# wait_for CMD TIMEOUT_MS: evaluate the shell command CMD until it succeeds
# or TIMEOUT_MS milliseconds have passed. Under TCG a fixed sleep is either
# too short on a loaded host or wastes time on an idle one, so tests wait
# on the condition they need. Polls every 10 ms at first, backing off to
# 100 ms. Returns 0 when CMD succeeded, 1 on timeout.
wait_for() {
	local cmd=$1 timeout_ms=${2:-5000}
	local deadline delay delay_ms=10

	deadline=$(($(_xtcp_now_ms) + timeout_ms))
	until eval "$cmd"; do
		if (($(_xtcp_now_ms) >= deadline)); then
			echo "# wait_for: no success within ${timeout_ms} ms: $cmd" >&2
			return 1
		fi
		printf -v delay '0.%03d' "$delay_ms"
		sleep "$delay"
		delay_ms=$((delay_ms * 2 > 100 ? 100 : delay_ms * 2))
	done
	return 0
}

# --- Network namespaces --------------------------------------------------

NS_A_ADDR=10.0.1.1
NS_B_ADDR=10.0.1.2
NS_A_ADDR6=fd00:0:0:1::1
NS_B_ADDR6=fd00:0:0:1::2

# netns_pair: create two network namespaces, $NS_A and $NS_B (unique names
# unless set before the call), bring lo up in both and join them with a
# veth pair named veth0 on both sides: A has 10.0.1.1/24 ($NS_A_ADDR), B
# 10.0.1.2/24 ($NS_B_ADDR). These addresses exist only inside the test
# VM's private namespaces. Pair it with `trap netns_pair_cleanup EXIT`;
# selftests/run.sh also drops whatever a test leaves behind.
netns_pair() {
	NS_A=${NS_A:-xtcp-a-$$}
	NS_B=${NS_B:-xtcp-b-$$}

	ip netns add "$NS_A"
	ip netns add "$NS_B"
	ip -n "$NS_A" link set lo up
	ip -n "$NS_B" link set lo up
	ip -n "$NS_A" link add veth0 type veth peer name veth0 netns "$NS_B"
	ip -n "$NS_A" addr add "$NS_A_ADDR/24" dev veth0
	ip -n "$NS_B" addr add "$NS_B_ADDR/24" dev veth0
	ip -n "$NS_A" link set veth0 up
	ip -n "$NS_B" link set veth0 up
}

# netns_pair_ipv6: after netns_pair, fd00:0:0:1::1/64 ($NS_A_ADDR6) on A's
# veth0 and fd00:0:0:1::2/64 ($NS_B_ADDR6) on B's (unique local addresses,
# RFC 4193), without duplicate address detection (nodad), so that they
# are usable at once rather than tentative for a second or more.
netns_pair_ipv6() {
	ip -n "$NS_A" addr add "$NS_A_ADDR6/64" dev veth0 nodad
	ip -n "$NS_B" addr add "$NS_B_ADDR6/64" dev veth0 nodad
}

netns_pair_cleanup() {
	[[ -n ${NS_A:-} ]] && ip netns del "$NS_A" 2>/dev/null
	[[ -n ${NS_B:-} ]] && ip netns del "$NS_B" 2>/dev/null
	return 0
}

# --- Sysctls -------------------------------------------------------------

# Run a command in the named netns, or here when the name is empty.
_xtcp_in_netns() {
	local ns=$1

	shift
	if [[ -n $ns ]]; then
		ip netns exec "$ns" "$@"
	else
		"$@"
	fi
}

# xtcp_sysctl_get NAME [NETNS]: print net.xtcp.NAME.
xtcp_sysctl_get() {
	_xtcp_in_netns "${2:-}" cat "/proc/sys/net/xtcp/$1"
}

# xtcp_sysctl_set NAME VALUE [NETNS]: set net.xtcp.NAME; fails if the
# kernel rejects the value.
xtcp_sysctl_set() {
	echo "$2" | _xtcp_in_netns "${3:-}" tee "/proc/sys/net/xtcp/$1" >/dev/null
}

# echo_works PROTO: a connection over loopback carries data both ways.
echo_works() {
	python3 - "$@" <<'EOF'
import socket
import sys

proto = int(sys.argv[1])
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM, proto)
ls.bind(("127.0.0.1", 0))
ls.listen(1)
c = socket.socket(socket.AF_INET, socket.SOCK_STREAM, proto)
c.settimeout(5)
c.connect(ls.getsockname())
s, _ = ls.accept()
s.settimeout(5)
c.sendall(b"ping")
assert s.recv(4) == b"ping"
s.sendall(b"pong")
assert c.recv(4) == b"pong"
EOF
}

# --- Real programs in the background ---------------------------------------

# Processes a test started in the background, and its scratch directory:
# bg_cleanup (the EXIT trap of such a test) kills and reaps them and
# removes it.
BG_PIDS=()
BG_TMP=

# shellcheck disable=SC2317 # run by an EXIT trap
bg_cleanup() {
	local pid

	for pid in "${BG_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	[[ -z $BG_TMP ]] || rm -rf "$BG_TMP"
}

# nginx_configure DIR ROOT PORT...: a minimal nginx configuration in
# DIR/nginx.conf serving ROOT on 127.0.0.1:PORT for each PORT, one worker,
# no access log, every path it writes under DIR (the root filesystem may
# be read-only).
nginx_configure() {
	local dir=$1 root=$2 port listen=''

	shift 2
	for port in "$@"; do
		listen+="		listen 127.0.0.1:$port;"$'\n'
	done
	mkdir -p "$dir/logs"
	cat >"$dir/nginx.conf" <<EOF
user root;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/logs/error.log;
worker_rlimit_nofile 4096;
events {
	worker_connections 2048;
}
http {
	access_log off;
	keepalive_timeout 60s;
	keepalive_requests 100000;
	client_body_temp_path $dir/client_body;
	proxy_temp_path $dir/proxy;
	fastcgi_temp_path $dir/fastcgi;
	uwsgi_temp_path $dir/uwsgi;
	scgi_temp_path $dir/scgi;
	server {
$listen		root $root;
	}
}
EOF
}

# listening FILE PORT: FILE (/proc/net/tcp layout) has a listener (0A) on
# 127.0.0.1:PORT.
listening() {
	awk -v want="$(printf '0100007F:%04X' "$2")" '
		$2 == want && $4 == "0A" { found = 1 }
		END { exit !found }' "$1"
}

# require_programs XTCPIZE TOOL...: exit with the kselftest skip status
# unless every TOOL is installed, XTCPIZE is there and xtcp is loaded.
require_programs() {
	local xtcpize=$1 tool

	shift
	for tool in "$@"; do
		command -v "$tool" >/dev/null || {
			echo "# $tool not found; run scripts/deps.sh"
			exit "$KSFT_SKIP"
		}
	done
	[[ -x $xtcpize && -r /proc/net/xtcp_stats ]] || {
		echo "# no $xtcpize or xtcp module not loaded"
		exit "$KSFT_SKIP"
	}
}

# --- Known sockets for the tool tests ------------------------------------

# require_tools TOOL...: exit with the kselftest skip status unless every
# TOOL is installed and xtcp is loaded.
require_tools() {
	local tool

	for tool in "$@"; do
		command -v "$tool" >/dev/null || {
			echo "# $tool not found; run scripts/deps.sh"
			exit "$KSFT_SKIP"
		}
	done
	[[ -r /proc/net/xtcp_stats ]] || {
		echo "# xtcp module not loaded"
		exit "$KSFT_SKIP"
	}
}

# The sockets a listing tool is tested on (python3 -c "$KNOWN_SOCKETS_PY"
# PROTO PORT READY [FAMILY]): a listener on 127.0.0.1:PORT with a backlog
# of 8, an established connection with 100 bytes unread at the server,
# and a connection its client closed first, left in TIME_WAIT. Writes
# "CLIENT CLOSED", the two client ports, to READY, then holds them all.
# FAMILY 6: all of them AF_INET6 over ::1; mapped: the listener AF_INET6
# on :: (IPV6_V6ONLY off), the clients AF_INET over 127.0.0.1, so that
# the server sides are AF_INET6 with IPv4-mapped addresses.
KNOWN_SOCKETS_PY='
import os, socket, sys, time
proto, port, ready = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
family = sys.argv[4] if len(sys.argv) > 4 else "4"
lis_af, lis_addr, c_af, c_addr = {
    "4": (socket.AF_INET, "127.0.0.1", socket.AF_INET, "127.0.0.1"),
    "6": (socket.AF_INET6, "::1", socket.AF_INET6, "::1"),
    "mapped": (socket.AF_INET6, "::", socket.AF_INET, "127.0.0.1"),
}[family]
def sock(af):
    return socket.socket(af, socket.SOCK_STREAM, proto)
lis = sock(lis_af)
lis.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
if lis_af == socket.AF_INET6:
    lis.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
lis.bind((lis_addr, port))
lis.listen(8)
c1 = sock(c_af)
c1.connect((c_addr, port))
s1, _ = lis.accept()
c1.sendall(b"u" * 100)
c2 = sock(c_af)
c2.connect((c_addr, port))
s2, _ = lis.accept()
closed = c2.getsockname()[1]
c2.close()
s2.recv(1)
s2.close()
with open(ready + ".tmp", "w") as f:
    f.write("%d %d\n" % (c1.getsockname()[1], closed))
os.rename(ready + ".tmp", ready)
time.sleep(3600)
'

# known_sockets PROTO PORT [FAMILY]: start them in the background
# (BG_PIDS, files in BG_TMP); sets CPORT and TWPORT, the client ports.
known_sockets() {
	local ready=$BG_TMP/ready-$1-$2

	python3 -c "$KNOWN_SOCKETS_PY" "$1" "$2" "$ready" "${3:-4}" \
		2>"$BG_TMP/py-$1-$2.err" &
	BG_PIDS+=($!)
	if ! wait_for "[[ -s $ready ]]" 10000; then
		echo "# python3 ($1): $(cat "$BG_TMP/py-$1-$2.err")"
		return 1
	fi
	# shellcheck disable=SC2034 # for the caller
	read -r CPORT TWPORT <"$ready"
}

# ss_norm PORT CPORT TWPORT [PORT CPORT TWPORT]...: ss-style lines on
# stdin (header first), sorted, as "STATE RECVQ SENDQ LOCAL PEER" with the
# ports of known_sockets named server, client and closed, so that two runs
# on other ports compare. IPv4 addresses are left out, IPv6 ones kept
# ("[::1]:server", "*:server" for the wildcard).
ss_norm() {
	awk -v ports="$*" '
		BEGIN {
			n = split(ports, v, " ")
			for (i = 1; i + 2 <= n; i += 3) {
				nm[v[i]] = "server"
				nm[v[i + 1]] = "client"
				nm[v[i + 2]] = "closed"
			}
		}
		function name(a,	pre) {
			sub(/^(127\.0\.0\.1|0\.0\.0\.0):/, "", a)
			pre = ""
			if (match(a, /:[^:]*$/)) {
				pre = substr(a, 1, RSTART)
				a = substr(a, RSTART + 1)
			}
			return pre ((a in nm) ? nm[a] : a)
		}
		NR > 1 { print $1, $2, $3, name($4), name($5) }' | sort
}

# A connection on 127.0.0.1 (python3 -c "$EXCHANGE_PY" PROTO PORT UP DOWN
# PAUSE_MS): UP bytes from the client, DOWN back, PAUSE_MS of quiet, then
# the client closes first and the server once it has read the FIN.
# shellcheck disable=SC2034 # for the tests
EXCHANGE_PY='
import socket, sys, time
proto, port, up, down, pause = [int(a) for a in sys.argv[1:6]]
def sock():
    return socket.socket(socket.AF_INET, socket.SOCK_STREAM, proto)
def recv_all(s, n):
    while n > 0:
        b = s.recv(n)
        if not b:
            sys.exit("short read")
        n -= len(b)
lis = sock()
lis.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
lis.bind(("127.0.0.1", port))
lis.listen(1)
c = sock()
c.connect(("127.0.0.1", port))
s, _ = lis.accept()
c.sendall(b"q" * up)
recv_all(s, up)
s.sendall(b"r" * down)
recv_all(c, down)
time.sleep(pause / 1000.0)
c.close()
if s.recv(1):
    sys.exit("data after FIN")
s.close()
'

# sockets_converted CMD...: the ktap case sockets_converted: under CMD (an
# xtcpize run), socket(AF_INET or AF_INET6, SOCK_STREAM, 0 or IPPROTO_TCP,
# with or without SOCK_NONBLOCK and SOCK_CLOEXEC) gives an xtcp socket
# (SO_PROTOCOL) and UDP and AF_UNIX sockets stay as they were.
sockets_converted() {
	local proto want got

	proto=$(cat /sys/module/xtcp/parameters/proto 2>/dev/null || echo 253)
	want="$proto $proto $proto 17 0 $proto 17"
	got=$("$@" python3 - <<'EOF'
import socket

cases = [
    (socket.AF_INET, socket.SOCK_STREAM, 0),
    (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP),
    (socket.AF_INET, socket.SOCK_STREAM | socket.SOCK_NONBLOCK
     | socket.SOCK_CLOEXEC, 0),
    (socket.AF_INET, socket.SOCK_DGRAM, 0),
    (socket.AF_UNIX, socket.SOCK_STREAM, 0),
    (socket.AF_INET6, socket.SOCK_STREAM, 0),
    (socket.AF_INET6, socket.SOCK_DGRAM, 0),
]
out = []
for family, type_, proto in cases:
    try:
        with socket.socket(family, type_, proto) as s:
            out.append(str(s.getsockopt(socket.SOL_SOCKET,
                                        socket.SO_PROTOCOL)))
    except OSError as e:
        out.append("errno%d" % e.errno)
print(" ".join(out))
EOF
	)
	echo "# SO_PROTOCOL: got '$got', want '$want'"
	if [[ $got == "$want" ]]; then
		ktap_ok sockets_converted
	else
		ktap_fail sockets_converted "got '$got'"
	fi
}
