#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-tests.sh - run the selftests in the test VM and count the results.
#
# What `make check` runs after building: boots scripts/vm.sh with
# selftests/run.sh, then counts from the TAP that run.sh leaves in the out
# share. It builds nothing itself.
#
# Counting: every test case counts (kselftest_harness "ok N name" lines in
# a program's output, "# SKIP" marking skips); a program that prints no
# cases counts once, by its exit status; a program-level failure (crash,
# timeout, kernel log error, taint, or a non-zero exit without a failing
# case) adds one failure; so does a VM that died or gave no verdict, and
# every planned program that did not run counts as failed. The last line
# is "N passed, N failed, N skipped". Exit status 0 only if nothing failed
# and at least one test program ran.

set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-}
TIMEOUT=3000
DEBUG=0
# One host thread for the vCPUs: multi-threaded TCG occasionally races the
# guest kernel patching its own code (a spurious "Oops: int3" at a static
# key, about one boot in forty here); a test run must not depend on luck.
VM_ARGS=(--tcg-single)
TEST_ARGS=()
KVER=

usage() {
	cat <<EOF
Usage: scripts/run-tests.sh [--debug | --kver RELEASE] [--timeout SEC] [-q]
                            [--append ARGS] [TEST... | --list FILE]

  --debug        use the debug kernel (KASAN, lockdep, kmemleak) from
                 scripts/debug-kernel.sh and \$BUILD/debug; longer timeouts
  --kver RELEASE boot the installed Debian kernel RELEASE (e.g.
                 6.1.0-57-amd64) with the module and tests built for it
                 (make all KVER=RELEASE; \$BUILD default build/RELEASE)
  --timeout SEC  limit for the whole VM run (default 3000, debug 12000)
  --append ARGS  extra kernel command line arguments (e.g. ipv6.disable=1
                 for test_noipv6.sh)
  -q             console only to the log file
  TEST...        test program names (default: all of \$BUILD/selftests/test_*)

Per-test timeout: XTCP_TEST_TIMEOUT (seconds; default 300, debug 1500).
EOF
}

parse_args() {
	local timeout=''

	while (($#)); do
		case $1 in
		--debug) DEBUG=1 ;;
		--kver) KVER=${2:?}; shift ;;
		--timeout) timeout=${2:?}; shift ;;
		-q | --quiet) VM_ARGS+=(-q) ;;
		--append) VM_ARGS+=(--append "${2:?}"); shift ;;
		-h | --help) usage; exit 0 ;;
		--list) TEST_ARGS+=("$1" "${2:?}"); shift ;;
		-*) usage >&2; exit 2 ;;
		*) TEST_ARGS+=("$1") ;;
		esac
		shift
	done
	if ((DEBUG)); then
		# The debug kernel runs the stack 50-100 times slower.
		TIMEOUT=12000
		export XTCP_TEST_TIMEOUT=${XTCP_TEST_TIMEOUT:-1500}
	fi
	TIMEOUT=${timeout:-$TIMEOUT}
	if [[ -n $KVER ]]; then
		((!DEBUG)) || { usage >&2; exit 2; }
		[[ -r /boot/vmlinuz-$KVER ]] || {
			echo "run-tests: no /boot/vmlinuz-$KVER; run scripts/deps.sh $KVER" >&2
			exit 2
		}
		VM_ARGS+=(--kernel "/boot/vmlinuz-$KVER")
		BUILD=${BUILD:-$REPO/build/$KVER}
	fi
	BUILD=$(realpath -m "${BUILD:-$REPO/build}")
}

# The debug lane: kernel image and build tree come from debug-kernel.sh,
# the module and tests from $BUILD/debug (see the Makefile's check-debug).
setup_debug() {
	local kernel kdir mods

	if ! kernel=$("$REPO/scripts/debug-kernel.sh" --print-kernel) ||
		! kdir=$("$REPO/scripts/debug-kernel.sh" --print-kdir); then
		echo "run-tests: scripts/debug-kernel.sh did not name a debug kernel"
		summary 0 1 0
		exit 2
	fi
	BUILD=$BUILD/debug
	VM_ARGS+=(--kernel "$kernel" --kdir "$kdir")
	# Its installed modules, if it has any (everything the VM needs is
	# built in).
	if mods=$("$REPO/scripts/debug-kernel.sh" --print-modules 2>/dev/null) &&
		[[ -d $mods ]]; then
		VM_ARGS+=(--modules "$mods")
	fi
}

# The last line of every run.
summary() {
	echo "$1 passed, $2 failed, $3 skipped"
}

# Count the results file. Prints "FAIL ..." lines for each failure, then
# "COUNTS pass fail skip programs missing klog", where programs excludes
# the module_unload check, missing is the number of planned entries
# without a result, and klog is 1 if some program failed for kernel log
# errors.
count_results() {
	awk '
	function add_cases() {
		pass += cp; fail += cf; skip += cs
	}
	function reset_cases() {
		cp = cf = cs = np = 0
	}
	/^1\.\.[0-9]+/ && !plan { plan = substr($0, 4) + 0; next }
	/^# selftests: xtcp: / { current = $4; next }
	# A case inside a program: its output is prefixed with "# ".
	/^# (not )?ok [0-9]+([ \t]|$)/ {
		line = substr($0, 3)
		if (line ~ /^not ok/) {
			cf++
			pending[++np] = line
		} else if (line ~ /#[ \t]*(SKIP|skip)/) {
			cs++
		} else {
			cp++
		}
		next
	}
	# A program result from run.sh.
	/^(not )?ok [0-9]+ / {
		ok = ($1 == "ok")
		name = ok ? $3 : $4
		reason = ""
		if ((i = index($0, " # ")))
			reason = substr($0, i + 3)
		seen++
		finished[name] = 1
		if (name != "module_unload")
			programs++
		if (cp + cf + cs == 0) {
			if (!ok) {
				fail++
				print "FAIL " name ": " reason
			} else if (reason ~ /^SKIP/) {
				skip++
			} else {
				pass++
			}
		} else {
			add_cases()
			for (j = 1; j <= np; j++)
				print "FAIL " name ": " pending[j]
			# A plain non-zero exit is explained by failing cases;
			# anything else is a failure of its own.
			if (!ok && (reason !~ /^exit=[0-9]+$/ || cf == 0)) {
				fail++
				print "FAIL " name ": " reason
			}
		}
		if (!ok && reason ~ /kernel log/)
			klog = 1
		reset_cases()
		next
	}
	END {
		# The program running when the VM died or the run timed out:
		# keep the cases it finished; it counts as missing below.
		if (current != "" && !(current in finished)) {
			add_cases()
			for (j = 1; j <= np; j++)
				print "FAIL " current ": " pending[j]
			print "FAIL " current ": did not finish"
		}
		missing = plan - seen
		if (missing < 0)
			missing = 0
		printf "COUNTS %d %d %d %d %d %d\n", pass, fail, skip, programs, missing, klog + 0
	}' "$1"
}

main() {
	local start=$SECONDS out results verdict vm_rc=0 planned
	local pass fail skip programs missing klog line
	local -a failures=()

	parse_args "$@"
	if ((DEBUG)); then
		setup_debug
	fi
	export BUILD
	mkdir -p "$BUILD/vm"
	out=$(mktemp -d "$BUILD/vm/run.XXXXXX")
	results=$out/results.tap
	# What should run, should the VM never get as far as run.sh.
	planned=$(selftests_list | wc -l)
	planned=$((planned + 1))

	"$REPO/scripts/vm.sh" --timeout "$TIMEOUT" --out "$out" "${VM_ARGS[@]}" \
		-- selftests/run.sh "${TEST_ARGS[@]}" || vm_rc=$?
	verdict=$(cat "$out/verdict" 2>/dev/null || echo setup-failed)

	pass=0 fail=0 skip=0 programs=0 missing=$planned klog=0
	if [[ -s $results ]]; then
		while read -r line; do
			case $line in
			COUNTS\ *) read -r _ pass fail skip programs missing klog <<<"$line" ;;
			*) failures+=("${line#FAIL }") ;;
			esac
		done < <(count_results "$results")
	fi
	if ((missing)); then
		fail=$((fail + missing))
		failures+=("$missing planned test program(s) did not run or finish")
	fi
	case $verdict in
	vm-failed | setup-failed)
		fail=$((fail + 1))
		failures+=("the VM failed ($verdict, vm.sh status $vm_rc)")
		;;
	kernel-errors)
		# Already counted when run.sh blamed a test for it.
		if ((!klog)); then
			fail=$((fail + 1))
			failures+=("kernel log errors outside any test")
		fi
		;;
	cmd-failed)
		if ((fail == 0)); then
			fail=1
			failures+=("selftests/run.sh failed (status $vm_rc)")
		fi
		;;
	esac

	if ((${#failures[@]})); then
		echo "run-tests: failures:"
		printf '  %s\n' "${failures[@]}"
	fi
	echo "run-tests: results in $out; wall time $((SECONDS - start)) s"
	if ((programs == 0)); then
		echo "run-tests: no test program ran"
	fi
	summary "$pass" "$fail" "$skip"
	((fail == 0 && programs > 0))
}

selftests_list() {
	"$REPO/selftests/run.sh" --print-tests "${TEST_ARGS[@]}"
}

main "$@"
