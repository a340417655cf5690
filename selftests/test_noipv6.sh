#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_noipv6.sh - xtcp in a kernel booted with ipv6.disable=1
# (Documentation/xtcp.rst, "IPv6"): the module loads and serves IPv4
# alone, as Linux TCP does there. Linux TCP is the oracle.
#
# Cases (skipped, all of them, where IPv6 is enabled: make check runs
# this program once more in a VM booted with ipv6.disable=1):
#	socket6_refused	socket(AF_INET6, SOCK_STREAM, proto) fails with
#			EAFNOSUPPORT for TCP and for xtcp
#	ipv4_works	a connection over 127.0.0.1 carries data both ways,
#			for TCP and for xtcp
#	proc_files	/proc/net/xtcp is there and /proc/net/xtcp6 is not,
#			as /proc/net/tcp and /proc/net/tcp6

set -uo pipefail

# shellcheck source=selftests/lib.sh
source "${XTCP_LIB:-$(dirname "$0")/lib.sh}"

PROTO=$(cat /sys/module/xtcp/parameters/proto 2>/dev/null || echo 253)
CASES=(socket6_refused ipv4_works proc_files)

ktap_plan "${#CASES[@]}"
if [[ -d /proc/sys/net/ipv6 ]]; then
	for c in "${CASES[@]}"; do
		ktap_skip "$c" "IPv6 is enabled (boot with ipv6.disable=1)"
	done
	ktap_finished
fi

# socket6_errno PROTO: the errno name of socket(AF_INET6, SOCK_STREAM,
# PROTO), or "ok".
socket6_errno() {
	python3 - "$1" <<'PY'
import errno
import socket
import sys

try:
    socket.socket(socket.AF_INET6, socket.SOCK_STREAM, int(sys.argv[1]))
    print("ok")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
PY
}

tcp=$(socket6_errno 6)
xtcp=$(socket6_errno "$PROTO")
if [[ $tcp == EAFNOSUPPORT && $xtcp == "$tcp" ]]; then
	ktap_ok socket6_refused
else
	ktap_fail socket6_refused "TCP: $tcp, xtcp: $xtcp"
fi

if echo_works 6 && echo_works "$PROTO"; then
	ktap_ok ipv4_works
else
	ktap_fail ipv4_works "an echo over 127.0.0.1 failed"
fi

if [[ -e /proc/net/tcp && ! -e /proc/net/tcp6 &&
	-e /proc/net/xtcp && ! -e /proc/net/xtcp6 ]]; then
	ktap_ok proc_files
else
	ktap_fail proc_files "present: $(cd /proc/net && echo tcp* xtcp*)"
fi

ktap_finished
