#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh - run the xtcp selftests, kselftest style, inside the test VM.
#
# Usage: selftests/run.sh [--list FILE | TEST...]
#        selftests/run.sh --print-tests [--list FILE | TEST...]
#
# Runs the executable files named test_* in $BUILD/selftests (C programs or
# scripts; all of them in sorted order unless TESTs or a list file, one name
# per line, are given) one at a time, each in fresh network, PID and mount
# namespaces with lo up, under a timeout (XTCP_TEST_TIMEOUT seconds,
# default 300). Their output is streamed with a "# " prefix and framed by
# top-level TAP lines:
#
#	ok N name
#	ok N name # SKIP reason		(exit status 4)
#	not ok N name # reason[; reason...]
#
# where a reason is one of "exit=STATUS", "signal=SIG", "TIMEOUT SEC s",
# "kernel log: LINE" (a new kernel message matching XTCP_KERNEL_ERROR_RE)
# or "taint=HEX" (taint bits other than O and E appeared). A last entry,
# module_unload, checks that xtcp.ko (if loaded) can be removed once the
# tests are done and, where kmemleak exists, that nothing leaked.
# scripts/run-tests.sh counts the individual cases from this output.
#
# Everything printed also goes to $XTCP_OUT/results.tap when XTCP_OUT is set
# (scripts/vm.sh sets it to the out share). Exits 0 only if every test
# passed or was skipped. Needs root.

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$HERE")
BUILD=${BUILD:-$REPO/build}
TEST_DIR=${XTCP_TEST_DIR:-$BUILD/selftests}
TIMEOUT=${XTCP_TEST_TIMEOUT:-300}
RESULTS=${XTCP_OUT:+$XTCP_OUT/results.tap}
# Taint bits an out-of-tree (O, 4096), unsigned (E, 8192) module sets.
ALLOWED_TAINT=$((4096 | 8192))
# How long rmmod may wait for namespaces being torn down to drop their
# last references to the module.
UNLOAD_WAIT_MS=30000

export XTCP_LIB=$HERE/lib.sh
# shellcheck source=selftests/lib.sh disable=SC1091
source "$XTCP_LIB"

usage() {
	sed -n '4,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	exit 2
}

# Print to stdout and the results file.
emit() {
	echo "$*"
	[[ -z $RESULTS ]] || echo "$*" >>"$RESULTS"
}

# Mark a point in the kernel log so that the lines after it can be found
# again; level 6 (info) keeps it off the console.
kmsg_mark() {
	echo "<6>xtcp-run: $*" >/dev/kmsg
}

# Kernel log lines after the last mark containing TEXT (all lines if the
# mark has been overwritten in the ring buffer).
kernel_log_since() {
	dmesg | awk -v mark="xtcp-run: $1" '
		{ line[NR] = $0 }
		index($0, mark) { start = NR }
		END { for (i = start + 1; i <= NR; i++) print line[i] }'
}

tainted() {
	cat /proc/sys/kernel/tainted
}

# dump_tasks: what the processes of a test are doing (those in another PID
# namespace than ours: the tests run in their own), with their kernel
# stacks; printed just before a test's time limit, so that a test that
# hangs says where. Run with errexit off.
dump_tasks() {
	local dir pid state wchan cmd line

	# Builtins only until a process is the test's: forks are slow here.
	for dir in /proc/[0-9]*; do
		[[ ! $dir/ns/pid -ef /proc/self/ns/pid ]] || continue
		[[ -e $dir/ns/pid ]] || continue
		pid=${dir#/proc/}
		# The process may be gone by now: no value then.
		state=$(awk '/^State:/ { print $2 }' "$dir/status" 2>/dev/null)
		wchan=$(cat "$dir/wchan" 2>/dev/null)
		cmd=$(tr '\0\n' '  ' <"$dir/cmdline" 2>/dev/null | cut -c 1-100)
		[[ -n $cmd ]] || continue
		emit "# task $pid $state ${wchan:-0}: $cmd"
		while read -r line; do
			emit "#   $line"
		done < <(cat "$dir/stack" 2>/dev/null)
	done
}

# --- Selecting tests -----------------------------------------------------

# Fill TESTS with paths, from the arguments or the test directory.
select_tests() {
	local list='' name

	TESTS=()
	if [[ ${1:-} == --list ]]; then
		list=${2:?--list needs a file}
		while read -r name; do
			name=${name%%#*}
			name=${name//[[:space:]]/}
			if [[ -n $name ]]; then
				TESTS+=("$(test_path "$name")")
			fi
		done <"$list"
	elif (($#)); then
		for name; do
			TESTS+=("$(test_path "$name")")
		done
	elif [[ -d $TEST_DIR ]]; then
		while read -r name; do
			TESTS+=("$name")
		done < <(find "$TEST_DIR" -maxdepth 1 -name 'test_*' -type f \
			-perm -u+x | LC_ALL=C sort)
	fi
	return 0
}

test_path() {
	if [[ $1 == */* ]]; then
		echo "$1"
	else
		echo "$TEST_DIR/$1"
	fi
}

# --- Running one test ----------------------------------------------------

# The command each test runs under: new network, PID and mount namespaces
# (so leftover processes die with the test and the netns is fresh), lo
# up, /sys remounted to show this netns, debugfs and tracefs back on it.
# bash stays PID 1 of the namespace (the explicit exit keeps it from
# exec'ing the test) so the test itself is an ordinary process with
# ordinary signal handling.
NS_WRAPPER='
ip link set lo up
mount -t sysfs sysfs /sys
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
"$@"
exit $?
'

# The reason for a SKIP, as the test printed it.
skip_reason() {
	local reason

	reason=$(grep -m 1 -o -E 'SKIP.*' "$1" | sed -E 's/^SKIP:?[[:space:]]*//') || true
	echo "${reason:-exit status 4}"
}

join_reasons() {
	local out

	out=$(printf '%s; ' "$@")
	echo "${out%; }"
}

# run_one NUM PATH: run a test and print its top-level TAP line. Returns 1
# if it failed.
run_one() {
	local num=$1 path=$2 name=${2##*/}
	local log=$WORK/$num.log rc=0 limit taint_before taint_new errors line
	local watchdog early
	local -a reasons=()

	if [[ ! -x $path || -d $path ]]; then
		emit "# $path: no such test program"
		emit "not ok $num $name # missing"
		return 1
	fi
	emit "# selftests: xtcp: $name"
	# test_nginx_tw.sh's loads are sized in requests, not seconds: both
	# protocols' 10,000 requests take 120 to 260 s depending on the
	# host, so it gets twice the others' limit.
	limit=$TIMEOUT
	[[ $name != test_nginx_tw.sh ]] || limit=$((TIMEOUT * 2))
	taint_before=$(tainted)
	kmsg_mark "begin $num $name"
	# A watchdog: if the test is still running 20 s before its limit,
	# show where it is stuck (listing takes seconds here).
	early=$((limit > 40 ? limit - 20 : limit / 2))
	(
		trap 'kill "$nap" 2>/dev/null; exit 0' TERM
		sleep "$early" &
		nap=$!
		wait "$nap"
		set +e +o pipefail
		emit "# $name: still running after $early s:"
		dump_tasks
	) &
	watchdog=$!
	# Straight into the results file too: if the kernel dies during the
	# test, its output so far is still there.
	# Fd 9 stays open on the initial network namespace, for tests of the
	# host-wide knobs (XTCP_INIT_NETNS_FD).
	(cd "$(dirname "$path")" &&
		XTCP_INIT_NETNS_FD=9 timeout -k 10 "$limit" \
			unshare --net --pid --fork --mount-proc \
			bash -c "$NS_WRAPPER" bash stdbuf -oL -eL "$path" \
			9</proc/self/ns/net) 2>&1 |
		sed -u 's/^/# /' | tee -a "$log" ${RESULTS:+"$RESULTS"} ||
		rc=${PIPESTATUS[0]}
	kmsg_mark "end $num $name"
	kill "$watchdog" 2>/dev/null
	wait "$watchdog" 2>/dev/null || true

	case $rc in
	0 | "$KSFT_SKIP") ;;
	124 | 137) reasons+=("TIMEOUT $limit s") ;;
	*) if ((rc > 128)); then
		reasons+=("signal=$((rc - 128))")
	else
		reasons+=("exit=$rc")
	fi ;;
	esac
	errors=$(kernel_log_since "begin $num $name" |
		grep -a -E "$XTCP_KERNEL_ERROR_RE") || true
	if [[ -n $errors ]]; then
		emit "# kernel log errors during $name:"
		while read -r line; do
			emit "# | $line"
		done <<<"$errors"
		reasons+=("kernel log: $(head -n 1 <<<"$errors" | cut -c 1-100)")
	fi
	taint_new=$(($(tainted) & ~taint_before & ~ALLOWED_TAINT))
	if ((taint_new)); then
		reasons+=("$(printf 'taint=0x%x' "$taint_new")")
	fi

	if ((${#reasons[@]})); then
		emit "not ok $num $name # $(join_reasons "${reasons[@]}")"
		return 1
	elif ((rc == KSFT_SKIP)); then
		emit "ok $num $name # SKIP $(skip_reason "$log")"
	else
		emit "ok $num $name"
	fi
	return 0
}

# --- Final checks --------------------------------------------------------

# The module must unload once the tests are done: a refcount leak keeps it
# in use, and kmem_cache_destroy() reports leaked objects (a WARN, which
# panics the VM and fails the run). Namespaces of finished tests are torn
# down asynchronously, so rmmod is retried for a while. With kmemleak
# (debug kernel), its report must be empty as well.
check_unload() {
	local num=$1 errors line loaded=0
	local -a reasons=()

	kmsg_mark "begin $num module_unload"
	# test_diag removes xtcp_diag.ko, which holds xtcp, when it ends; if
	# it did not get that far, remove it here.
	if grep -q '^xtcp_diag ' /proc/modules &&
	   ! wait_for 'rmmod xtcp_diag 2>/dev/null' "$UNLOAD_WAIT_MS"; then
		emit "# rmmod xtcp_diag: $(rmmod xtcp_diag 2>&1)"
		reasons+=("rmmod xtcp_diag failed")
	fi
	if grep -q '^xtcp ' /proc/modules; then
		loaded=1
		if ! wait_for 'rmmod xtcp 2>/dev/null' "$UNLOAD_WAIT_MS"; then
			emit "# rmmod xtcp: $(rmmod xtcp 2>&1)"
			emit "# $(grep '^xtcp ' /proc/modules)"
			reasons+=("rmmod failed")
		fi
	fi
	if [[ -w /sys/kernel/debug/kmemleak ]]; then
		# kmemleak reports an object only once it is older than 5 s and
		# a scan found it unreferenced: wait out that age, then scan.
		sleep 6
		echo scan >/sys/kernel/debug/kmemleak
		if [[ -s /sys/kernel/debug/kmemleak ]]; then
			while read -r line; do
				emit "# | $line"
			done </sys/kernel/debug/kmemleak
			reasons+=("kmemleak")
		fi
	fi
	errors=$(kernel_log_since "begin $num module_unload" |
		grep -a -E "$XTCP_KERNEL_ERROR_RE") || true
	if [[ -n $errors ]]; then
		while read -r line; do
			emit "# | $line"
		done <<<"$errors"
		reasons+=("kernel log: $(head -n 1 <<<"$errors" | cut -c 1-100)")
	fi

	if ((${#reasons[@]})); then
		emit "not ok $num module_unload # $(join_reasons "${reasons[@]}")"
		return 1
	elif ((loaded)); then
		emit "ok $num module_unload"
	elif ((MODULE_WAS_LOADED)); then
		emit "ok $num module_unload # unloaded by a test"
	else
		emit "ok $num module_unload # SKIP xtcp was not loaded"
	fi
	return 0
}

main() {
	local i failed=0 print=0

	case ${1:-} in
	-h | --help) usage ;;
	--print-tests) print=1; shift ;;
	esac
	select_tests "$@"
	if ((print)); then
		((${#TESTS[@]} == 0)) || printf '%s\n' "${TESTS[@]##*/}"
		return 0
	fi
	if [[ $(id -u) != 0 ]]; then
		echo "run.sh: needs root (run it in scripts/vm.sh)" >&2
		exit 2
	fi

	WORK=$(mktemp -d)
	trap 'rm -rf "$WORK"' EXIT
	[[ -z $RESULTS ]] || : >"$RESULTS"
	MODULE_WAS_LOADED=0
	if grep -q '^xtcp ' /proc/modules; then
		MODULE_WAS_LOADED=1
	fi
	# Only leaks from now on count.
	if [[ -w /sys/kernel/debug/kmemleak ]]; then
		echo clear >/sys/kernel/debug/kmemleak
	fi

	emit "TAP version 13"
	emit "1..$((${#TESTS[@]} + 1))"
	for ((i = 0; i < ${#TESTS[@]}; i++)); do
		run_one $((i + 1)) "${TESTS[i]}" || failed=1
	done
	check_unload $((${#TESTS[@]} + 1)) || failed=1
	return "$failed"
}

main "$@"
