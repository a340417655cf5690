#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh - benchmark xtcp against Linux TCP in the test VM.
#
# Builds tools/xtcp_bench, boots the VM with qemu's instruction-counting
# clock (vm.sh --icount: -icount shift=0,sleep=off, so the guest clock
# advances one nanosecond per executed instruction and the figures are a
# repeatable measure of CPU cost whatever the host does) and runs every
# workload for TCP and xtcp in the same boot, then iperf3 and nginx with
# ab over each (scripts/bench_apps.sh, xtcp through xtcpize run). The
# results come back over the out share as JSON; bench_report.py prints the
# table with the goals and writes $BUILD/bench/results.json and
# $BUILD/bench/bench.png.
#
# Usage: scripts/bench.sh [--timeout SEC] [--no-apps]
#                         [-- EXTRA xtcp_bench OPTIONS]
#
# --no-apps leaves out bench_apps.sh's programs (their rows stay empty);
# with "-- --only NAME,..." only those xtcp_bench workloads run, e.g.
# "scripts/bench.sh --no-apps -- --only bulk_64k_v6,rr_v6,crr_client_close_v6"
# for the IPv6 rows alone.
#
# Exit status: 0 when every workload ran (goals missed are reported, not
# failures), 1 when a workload or the VM failed, 2 for setup errors.

set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$(realpath -m "${BUILD:-$REPO/build}")
BENCH=$BUILD/bench
TOOL=$BUILD/tools/xtcp_bench
TIMEOUT=1800
# Debian's python3, which has python3-matplotlib (scripts/deps.sh), even
# when another python3 comes first in PATH.
PYTHON=${PYTHON:-/usr/bin/python3}
# The guest runs without the debugging the test suite wants: slub_debug
# pads and poisons every object (wrong sizes, slower), page poisoning and
# KFENCE cost time. slab_nomerge keeps the xtcp_tw and XTCP caches apart
# from look-alike caches so /proc/slabinfo shows them by name.
# clearcpuid=cx16: qemu 7.2's TCG under -icount sometimes leaves garbage
# in EFLAGS after the CMPXCHG16B of SLUB's lock-free fast path (guest
# double faults and stray debug traps right after that instruction, in
# code unrelated to xtcp); without CX16, SLUB takes its locked path.
BENCH_APPEND="slub_debug=- page_poison=0 kfence.sample_interval=0 slab_nomerge clearcpuid=cx16"

usage() {
	sed -n '3,24p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

die() {
	echo "bench: $*" >&2
	exit 2
}

parse_args() {
	EXTRA=()
	APPS=1
	while (($#)); do
		case $1 in
		--timeout) TIMEOUT=${2:?}; shift ;;
		--no-apps) APPS=0 ;;
		-h | --help) usage; exit 0 ;;
		--) shift; EXTRA=("$@"); break ;;
		*) usage >&2; exit 2 ;;
		esac
		shift
	done
	[[ $TIMEOUT =~ ^[0-9]+$ ]] || die "--timeout wants seconds"
}

# What the figures depend on, for the report header and results.json.
vm_setup() {
	local qemu krel

	qemu=$(qemu-system-x86_64 --version | head -n 1 | awk '{ print $4 }')
	krel=$(find /lib/modules -maxdepth 1 -name '6.12.*[0-9]-amd64' \
		-printf '%f\n' | sort -V | tail -n 1)
	echo "VM: qemu $qemu TCG, -icount shift=0,sleep=off (1 ns per" \
		"guest instruction), q35, qemu64 CPU, 2 vCPUs, 2 GiB," \
		"Debian $krel guest; $BENCH_APPEND"
}

main() {
	local start=$SECONDS rc=0 setup date apps=()

	parse_args "$@"
	"$PYTHON" -c 'import matplotlib' 2>/dev/null ||
		die "python3-matplotlib missing; run scripts/deps.sh"
	[[ -r $BUILD/xtcp.ko ]] || die "no $BUILD/xtcp.ko; run make module"

	make -s -C "$REPO/tools" BUILD="$BUILD"
	make -s -C "$REPO/tools/xtcpize" BUILD="$BUILD"
	mkdir -p "$BENCH"
	rm -rf "$BENCH/vm"
	mkdir -p "$BENCH/vm"
	rm -f "$BENCH/results.json" "$BENCH/bench.png"
	# A copy, so that a rebuild during the run cannot change what runs.
	cp "$BUILD/xtcp.ko" "$BENCH/xtcp.ko"

	setup=$(vm_setup)
	date=$(date -u +%F)
	echo "bench: $setup"
	if ((APPS)); then
		apps=("$REPO/scripts/bench_apps.sh"
		      "$BUILD/tools/xtcpize/xtcpize" "$BENCH/vm/apps.json" --)
	fi
	"$REPO/scripts/vm.sh" --icount --quiet --timeout "$TIMEOUT" \
		--module "$BENCH/xtcp.ko" --out "$BENCH/vm" \
		--append "$BENCH_APPEND" -- "${apps[@]}" \
		"$TOOL" suite --json "$BENCH/vm/raw.json" "${EXTRA[@]}" || rc=$?
	if [[ ! -s $BENCH/vm/raw.json ]]; then
		echo "bench: no results (vm.sh status $rc); see $BENCH/vm/console.log" >&2
		exit 1
	fi
	# The programs' results join xtcp_bench's; absent ones count as failed
	# (unless --no-apps left them out).
	"$PYTHON" - "$BENCH/vm/raw.json" "$BENCH/vm/apps.json" \
		"$BENCH/raw.json" "$APPS" <<'EOF'
import json, sys
raw = json.load(open(sys.argv[1]))
if sys.argv[4] == "0":
    json.dump(raw, open(sys.argv[3], "w"), indent=2)
    sys.exit(0)
try:
    apps = json.load(open(sys.argv[2]))["results"]
except (OSError, ValueError, KeyError):
    apps = {k: {"tcp": None, "xtcp": None}
            for k in ("iperf3", "nginx_close", "nginx_keepalive",
                      "veth_1500", "veth_1500_nooffload", "loss_1",
                      "loss_5")}
raw.setdefault("results", {}).update(apps)
json.dump(raw, open(sys.argv[3], "w"), indent=2)
EOF
	echo
	"$PYTHON" "$REPO/scripts/bench_report.py" --vm "$setup" --date "$date" \
		"$BENCH/raw.json" "$BENCH" || rc=1
	echo "bench: wall time $((SECONDS - start)) s"
	if ((rc)); then
		echo "bench: FAILED: a workload or the VM failed (status $rc)" >&2
		exit 1
	fi
}

main "$@"
