#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh - what `make demo` runs inside the test VM (scripts/vm.sh loaded
# the freshly built xtcp.ko already): the knobs, the procfs files, an echo
# over IP protocol 253 with its states, TIME_WAIT entries with their
# remaining time, a lower MSL making them expire sooner, and the counters;
# then nginx under many short connections over TCP and over xtcp, with the
# TIME_WAIT populations over time and the TIME_WAIT knobs at work
# (selftests/test_nginx_tw.sh, whose samples `make demo` plots into
# build/demo/timewait.png).

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
demo=tools/xtcp_demo.py

say() {
	printf '\n=== %s\n' "$*"
}

# TIME_WAIT entries whose remote port is $1 (hex, as /proc/net/xtcp shows).
count_tw_to() {
	awk -v p=":$1" 'NR > 1 && $4 == "06" && substr($3, 9) == p' \
		/proc/net/xtcp | wc -l
}

say "xtcp.ko is loaded; its module parameter:"
grep -E '^xtcp ' /proc/modules
echo "proto=$(cat /sys/module/xtcp/parameters/proto)"

say "Per-namespace knobs (sysctl net.xtcp):"
sysctl net.xtcp

say "Capturing the exchange with tcpdump -ni lo 'ip proto 253'"
tcpdump -ni lo -l "ip proto $(cat /sys/module/xtcp/parameters/proto)" >/tmp/capture.txt 2>/tmp/tcpdump.err &
capture=$!
# tcpdump needs a moment to open the device; wait until it says so.
for _ in $(seq 100); do
	grep -q listening /tmp/tcpdump.err && break
	sleep 0.1
done

say "A client and a server exchange data over protocol 253:"
python3 "$demo" echo 5001

sleep 0.5	# let the last segments reach the capture
kill -INT "$capture"
wait "$capture" || true
say "The segments on the wire (tcpdump shows the protocol raw; decode with"
echo "    tshark -d ip.proto==$(cat /sys/module/xtcp/parameters/proto),tcp):"
cat /tmp/capture.txt

say "Ten more connections, client closing first: ten TIME_WAIT entries,"
echo "each with 2 x msl = $((2 * $(sysctl -n net.xtcp.msl))) ms to live:"
python3 "$demo" churn 5002 10
python3 "$demo" show "after 10 client-first closes"

say "Lower the MSL to 3 s: new entries live 6 s, the old ones keep theirs"
sysctl -w net.xtcp.msl=3000
python3 "$demo" churn 5003 5
python3 "$demo" show "5 new entries at msl=3000"
deadline=$((SECONDS + 30))
while [ "$(count_tw_to 138B)" -gt 0 ] && [ $SECONDS -lt $deadline ]; do
	sleep 0.1
done
python3 "$demo" show "the msl=3000 entries are gone, the msl=30000 ones remain"

say "Counters (/proc/net/xtcp_stats):"
cat /proc/net/xtcp_stats

say "nginx and ab, one connection per request, over TCP and over xtcp at once"
echo "(xtcpize run nginx; TIME_WAIT entries sampled every 200 ms: TCP as"
echo "ss -tan state time-wait counts them, xtcp as /proc/net/xtcp lists them)."
echo "Then max_tw_buckets with each tw_overflow policy, and tw_reuse, with"
echo "their counters. In a fresh network namespace: fresh knobs and counters."
# shellcheck disable=SC2016 # $0 is for the inner shell
XTCP_TW_VERBOSE=1 XTCP_TW_LOAD=${XTCP_TW_LOAD:-20000} unshare --net \
	sh -c 'ip link set lo up && exec "$0"' \
	"${BUILD:-$PWD/build}/selftests/test_nginx_tw.sh"
echo
echo "demo: done"
