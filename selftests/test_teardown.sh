#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# TIME_WAIT entries do not pin the module (Documentation/xtcp.rst, "Unloading"): with
# 10,000 of them held in this namespace and no socket left, rmmod xtcp
# succeeds, the entries and their slab cache go with the module, and the
# module loaded again works.
#
# This unloads the module every other test needs: it is loaded again
# before the test ends, whatever happens. Needs root; selftests/run.sh
# gives it a network namespace of its own.

set -uo pipefail

# shellcheck source=selftests/lib.sh
source "${XTCP_LIB:-$(dirname "$0")/lib.sh}"

MANY=10000
HERE=$(cd "$(dirname "$0")" && pwd)
# build/selftests/test_teardown.sh -> build/xtcp.ko
MODULE=${XTCP_MODULE:-$HERE/../xtcp.ko}
PROTO=
UNLOADED=0

log() {
	echo "# $*"
}

# Load the module again if this test took it away.
# shellcheck disable=SC2317 # run by the EXIT trap
restore_module() {
	if ((UNLOADED)) && [[ ! -d /sys/module/xtcp ]]; then
		insmod "$MODULE" "proto=$PROTO" ||
			log "could not load $MODULE again"
	fi
}
trap restore_module EXIT

counter() {
	awk -v name="Xtcp$1" '$1 == name { print $2 }' /proc/net/xtcp_stats
}

# fill N PROTO: N connections over loopback, each closed client first,
# so that each leaves a TIME_WAIT entry; every socket is closed on exit.
fill() {
	python3 - "$@" <<'EOF'
import socket
import sys

n, proto = int(sys.argv[1]), int(sys.argv[2])
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM, proto)
ls.bind(("127.0.0.1", 0))
ls.listen(64)
addr = ls.getsockname()
for i in range(n):
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM, proto)
    c.connect(addr)
    s, _ = ls.accept()
    c.close()
    # The server reads the EOF first: its close is the passive one.
    if s.recv(1) != b"":
        sys.exit("connection %d: data instead of EOF" % i)
    s.close()
ls.close()
EOF
}

# Build IDs of the loaded module and of $MODULE (empty if unknown), so
# that the module put back is the one taken away.
build_id_loaded() {
	od -An -tx1 -v /sys/module/xtcp/notes/.note.gnu.build-id 2>/dev/null |
		tr -d ' \n' | tail -c 40
}

build_id_file() {
	readelf -n "$MODULE" 2>/dev/null | awk '/Build ID:/ { print $3 }'
}

slab_listed() {
	grep -q '^xtcp_tw ' /proc/slabinfo
}

ktap_plan 5

if [[ ! -d /sys/module/xtcp ]]; then
	for name in fill rmmod_with_entries module_state_gone reload_works \
		    kernel_log_clean; do
		ktap_skip "$name" "xtcp is not loaded"
	done
	ktap_finished
fi
PROTO=$(cat /sys/module/xtcp/parameters/proto)
loaded=$(build_id_loaded)
file=$(build_id_file)
if [[ ! -r $MODULE || (-n $loaded && -n $file && $loaded != "$file") ]]; then
	for name in fill rmmod_with_entries module_state_gone reload_works \
		    kernel_log_clean; do
		ktap_skip "$name" "the loaded module is not $MODULE"
	done
	ktap_finished
fi

echo "<6>xtcp-test: teardown begins" >/dev/kmsg

# 1. The entries, and no socket left.
xtcp_sysctl_set msl 600000	# the maximum: nothing expires meanwhile
xtcp_sysctl_set max_tw_buckets $((2 * MANY))
xtcp_sysctl_set tw_reuse 0
echo "1024 65535" >/proc/sys/net/ipv4/ip_local_port_range
start=$(_xtcp_now_ms)
# shellcheck disable=SC2016 # wait_for evaluates the condition each time
if fill "$MANY" "$PROTO" &&
	wait_for '[[ $(counter TimeWait) == "$MANY" ]]' 10000; then
	took=$(($(_xtcp_now_ms) - start))
	log "$MANY entries in $took ms ($((MANY * 1000 / (took + 1))) per second)"
	ktap_ok fill
else
	log "TimeWait $(counter TimeWait), wanted $MANY"
	ktap_fail fill
fi
log "$(grep '^xtcp_tw ' /proc/slabinfo || echo 'xtcp_tw not in /proc/slabinfo')"

# 2. rmmod while they are there. Closed sockets are freed after an RCU
# grace period, and each holds the module until then: retry briefly.
held=$(counter TimeWait)
if wait_for 'rmmod xtcp 2>/dev/null' 30000; then
	UNLOADED=1
	log "rmmod with $held TIME_WAIT entries held"
	if ((held == MANY)); then
		ktap_ok rmmod_with_entries
	else
		ktap_fail rmmod_with_entries "only $held entries were held"
	fi
else
	log "$(rmmod xtcp 2>&1)"
	log "$(grep '^xtcp ' /proc/modules)"
	ktap_fail rmmod_with_entries "rmmod failed"
fi

# 3. Nothing of it is left: module, proc files, the bucket cache.
if ((UNLOADED)) && [[ ! -d /sys/module/xtcp && ! -e /proc/net/xtcp &&
	! -e /proc/net/xtcp_stats && ! -e /sys/kernel/slab/xtcp_tw ]] &&
	! slab_listed; then
	ktap_ok module_state_gone
else
	ktap_fail module_state_gone
fi

# 4. Loaded again, a fresh module works.
if ((UNLOADED)) && insmod "$MODULE" "proto=$PROTO"; then
	UNLOADED=0
	if [[ $(counter TimeWait) == 0 ]] && echo_works "$PROTO"; then
		ktap_ok reload_works
	else
		ktap_fail reload_works "no working socket after insmod"
	fi
else
	ktap_fail reload_works "insmod $MODULE failed"
fi

# 5. No complaint from the kernel on the way (a leaked bucket would make
# kmem_cache_destroy() warn).
errors=$(dmesg | awk '/xtcp-test: teardown begins/ { on = 1; next } on' |
	grep -a -E "$XTCP_KERNEL_ERROR_RE" || true)
if [[ -z $errors ]]; then
	ktap_ok kernel_log_clean
else
	while read -r line; do
		log "| $line"
	done <<<"$errors"
	ktap_fail kernel_log_clean
fi

ktap_finished
