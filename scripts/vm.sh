#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vm.sh - run a command as root in a throwaway qemu VM with xtcp.ko loaded.
#
# The build host cannot load modules, so every run boots Debian's kernel in
# qemu. The guest sees the host's root file system read-only over 9p and
# runs the host's own bash, tools, module and test binaries; a second,
# writable 9p share (the "out" directory, mounted at the same path as on
# the host) carries results back. A run passes only on a positive signal:
# the guest writes a verdict byte to the isa-debug-exit port after CMD has
# finished and its status is on the out share. Panics, reboots, timeouts
# and kernel log errors (oops, warning, KFENCE, ...) fail the run.
#
# See usage() for the interface.

set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$(realpath -m "${BUILD:-$REPO/build}")
VMDIR=$BUILD/vm
# shellcheck source-path=SCRIPTDIR/..
# shellcheck source=selftests/lib.sh disable=SC1091
source "$REPO/selftests/lib.sh"

# isa-debug-exit: qemu exits with (byte << 1) | 1 when the guest writes a
# byte to port 0xf4. 42 gives 85, which neither qemu (0/1), timeout(1)
# (124/137) nor a signal produce.
VERDICT_BYTE=42
VERDICT_RC=$(((VERDICT_BYTE << 1) | 1))
# Modules the initramfs loads (where not built in): virtio_pci (a module
# on 6.1) and 9p to mount the host's root, and overlay
# for guest-init.sh's writable /lib/modules (a static busybox insmod is
# cheaper than modprobe over 9p). Dependencies come from modules.dep.
INITRAMFS_MODULES=(virtio_pci netfs 9pnet 9pnet_virtio 9p overlay)
# 9p's largest message for the virtio transport in 6.12; larger values are
# clamped with a warning.
MSIZE=512000
# Page-cache mode of the read-only root share. Measured in the guest:
# cache=loose runs a dynamically linked program in ~0.2 s and reads 100 MB
# in 0.7 s; cache=mmap takes 1.5x and 2x as long, cache=none 2x and 45x.
# loose never revalidates, which is fine: the host does not change the
# files a run uses while it runs. The out share always uses cache=none so
# that every write reaches the host at once.
ROOT_CACHE=${XTCP_VM_9P_CACHE:-loose}
KEEP_RUNS=10

usage() {
	cat <<EOF
Usage: scripts/vm.sh [options] -- CMD [ARGS...]

Boot the test VM, load the module, run CMD as root in the repository's top
directory and exit with CMD's status.

Options:
  --timeout SEC   kill the VM after SEC seconds (default 600)
  --kernel FILE   kernel image (default /boot/vmlinuz-KVER, or
                  KDIR/arch/x86/boot/bzImage with --kdir)
  --kdir DIR      build tree of that kernel (for its release and built-in
                  module list)
  --modules DIR   the guest kernel's modules (default /lib/modules/KVER)
  --module FILE   module to insmod (default \$BUILD/xtcp.ko)
  --no-module     do not load any module
  --icount        deterministic guest clock: -icount shift=0,sleep=off
  --accel A       kvm, tcg or auto (default auto: KVM if a probe boot works)
  --tcg-single    one host thread for all vCPUs (default: one per vCPU)
  --smp N         virtual CPUs (default 2)
  --mem SIZE      guest memory (default 2G)
  --append ARGS   extra kernel command line arguments
  --nic NETDEV    one virtio-net interface on qemu's -netdev NETDEV (for
                  example dgram,local.type=unix,...: scripts/run-pair.sh);
                  default: no network interface
  --mac ADDR      its MAC address (default 52:54:00:12:34:56)
  --out DIR       writable share for results (default a fresh
                  \$BUILD/vm/run.XXXXXX)
  --log FILE      console log (default OUT/console.log)
  -q, --quiet     console only to the log; print CMD's output afterwards
  -h, --help      this text

KVER is the newest /lib/modules/6.12.*-amd64 of the generic flavour (not
-rt or -cloud); --kernel /boot/vmlinuz-RELEASE boots another installed
Debian kernel with its modules. Environment variables named XTCP_* and
BUILD are passed to CMD. In the guest, XTCP_OUT names the out directory.

Exit status: CMD's status; 1 if the VM failed (panic, timeout, no verdict)
or the kernel log shows errors while CMD succeeded; 2 for setup errors.
OUT/verdict holds one word for callers: pass, cmd-failed, kernel-errors
or vm-failed.
EOF
}

# Setup errors are one line and exit 2, distinct from test failures.
die() {
	echo "vm.sh: $*" >&2
	exit 2
}

say() {
	echo "vm: $*"
}

# --- Options -------------------------------------------------------------

TIMEOUT=600
KERNEL=
KDIR=
MODDIR=
MODULE=$BUILD/xtcp.ko
ICOUNT=0
ACCEL=auto
TCG_SINGLE=0
SMP=2
MEM=2G
APPEND=
NIC=
MAC=52:54:00:12:34:56
OUT=
LOG=
QUIET=0
CMD=()

parse_args() {
	while (($#)); do
		case $1 in
		--timeout) TIMEOUT=${2:?}; shift ;;
		--kernel) KERNEL=${2:?}; shift ;;
		--kdir) KDIR=${2:?}; shift ;;
		--modules) MODDIR=${2:?}; shift ;;
		--module) MODULE=${2:?}; shift ;;
		--no-module) MODULE= ;;
		--icount) ICOUNT=1 ;;
		--accel) ACCEL=${2:?}; shift ;;
		--tcg-single) TCG_SINGLE=1 ;;
		--smp) SMP=${2:?}; shift ;;
		--mem) MEM=${2:?}; shift ;;
		--append) APPEND=${2?}; shift ;;
		--nic) NIC=${2:?}; shift ;;
		--mac) MAC=${2:?}; shift ;;
		--out) OUT=${2:?}; shift ;;
		--log) LOG=${2:?}; shift ;;
		-q | --quiet) QUIET=1 ;;
		-h | --help) usage; exit 0 ;;
		--) shift; CMD=("$@"); break ;;
		*) usage >&2; exit 2 ;;
		esac
		shift
	done
	((${#CMD[@]})) || { usage >&2; exit 2; }
	[[ $TIMEOUT =~ ^[0-9]+$ ]] || die "--timeout wants seconds, got '$TIMEOUT'"
	[[ $SMP =~ ^[0-9]+$ ]] || die "--smp wants a number, got '$SMP'"
	case $ACCEL in kvm | tcg | auto) ;; *) die "--accel: kvm, tcg or auto" ;; esac
	if ((ICOUNT)); then
		[[ $ACCEL != kvm ]] || die "--icount needs TCG"
		ACCEL=tcg
	fi
	return 0
}

# --- Kernel, modules and tools -------------------------------------------

# The release string embedded in a bzImage: the setup header holds, at
# offset 0x20e, a pointer (relative to 0x200) to the version string.
kernel_release_of() {
	local ptr

	ptr=$(od -An -tu2 -j $((0x20e)) -N2 "$1" | tr -d ' ')
	[[ $ptr =~ ^[0-9]+$ ]] || return 1
	dd if="$1" bs=1 skip=$((ptr + 0x200)) count=128 status=none |
		tr '\0' '\n' | head -n 1 | cut -d ' ' -f 1
}

# Choose kernel image, release (KREL) and the guest's module directory.
find_kernel() {
	if [[ -n $KDIR ]]; then
		[[ -d $KDIR ]] || die "no kernel build tree at $KDIR"
		KDIR=$(realpath "$KDIR")
		KERNEL=${KERNEL:-$KDIR/arch/x86/boot/bzImage}
		if [[ -r $KDIR/include/config/kernel.release ]]; then
			KREL=$(<"$KDIR/include/config/kernel.release")
		fi
	fi
	if [[ -z $KERNEL ]]; then
		KREL=$(find /lib/modules -maxdepth 1 -name '6.12.*[0-9]-amd64' \
			-printf '%f\n' 2>/dev/null | sort -V | tail -n 1)
		[[ -n $KREL ]] || die "no Debian 6.12 kernel in /lib/modules; run scripts/deps.sh"
		KERNEL=/boot/vmlinuz-$KREL
	fi
	[[ -r $KERNEL ]] || die "kernel image $KERNEL missing or unreadable; run scripts/deps.sh"
	KERNEL=$(realpath "$KERNEL")
	if [[ -z ${KREL:-} ]]; then
		KREL=$(kernel_release_of "$KERNEL") ||
			die "cannot read the release of $KERNEL; pass --kdir"
	fi
	if [[ -z $MODDIR && -d /lib/modules/$KREL/kernel ]]; then
		MODDIR=/lib/modules/$KREL
	fi
	if [[ -n $MODDIR ]]; then
		[[ -d $MODDIR ]] || die "no module directory $MODDIR"
		MODDIR=$(realpath "$MODDIR")
	fi
	return 0
}

check_tools() {
	local tool

	for tool in qemu-system-x86_64 timeout cpio xz busybox; do
		command -v "$tool" >/dev/null ||
			die "$tool not found; run scripts/deps.sh"
	done
	# The initramfs has no C library: busybox must be the static build.
	BUSYBOX=$(command -v busybox)
	if ldd "$BUSYBOX" >/dev/null 2>&1; then
		die "$BUSYBOX is dynamically linked; install busybox-static"
	fi
	if [[ -n $MODULE ]]; then
		[[ -r $MODULE ]] || die "module $MODULE not found; run make (or pass --no-module)"
		MODULE=$(realpath "$MODULE")
	fi
	return 0
}

# Is module NAME built into the guest kernel?
module_builtin() {
	local name=$1 list

	for list in "${MODDIR:+$MODDIR/modules.builtin}" \
		"${KDIR:+$KDIR/modules.builtin}"; do
		[[ -n $list && -r $list ]] || continue
		grep -q -E "(^|/)${name}\.ko\$" "$list" && return 0
	done
	return 1
}

# Print the module files (relative to MODDIR) needed for NAME, dependencies
# first. modules.dep lists a module's whole dependency closure, the module
# loaded last by modprobe first, so the list is reversed.
module_load_order() {
	local name=$1 line deps i

	line=$(grep -E "(^|/)${name}\.ko(\.xz|\.zst|\.gz)?:" \
		"$MODDIR/modules.dep" 2>/dev/null) || return 1
	read -r -a deps <<<"${line#*:}"
	for ((i = ${#deps[@]} - 1; i >= 0; i--)); do
		echo "${deps[i]}"
	done
	echo "${line%%:*}"
}

# Fill INITRAMFS_KOS with the module files the initramfs must load, in
# order, without built-ins and duplicates.
resolve_initramfs_modules() {
	local name ko base order
	local -A seen=()

	INITRAMFS_KOS=()
	for name in "${INITRAMFS_MODULES[@]}"; do
		module_builtin "$name" && continue
		[[ -n $MODDIR ]] ||
			die "$name: not built in and no module directory (--modules)"
		order=$(module_load_order "$name") ||
			die "$name: not built in and not in $MODDIR/modules.dep"
		for ko in $order; do
			base=${ko##*/}
			base=${base%%.ko*}
			[[ -z ${seen[$ko]:-} ]] || continue
			seen[$ko]=1
			module_builtin "$base" || INITRAMFS_KOS+=("$ko")
		done
	done
	return 0
}

# --- Initramfs -----------------------------------------------------------

# The initramfs /init, with @MSIZE@ still to be replaced.
VM_INIT=$REPO/scripts/vm-init.sh

# Build (or reuse) the initramfs for this kernel. It is rebuilt whenever an
# input changes: /init, busybox or one of the module files.
build_initramfs() {
	local key stage ko name

	mkdir -p "$VMDIR"
	# Named by release and module directory, so that runs with different
	# --modules do not rebuild each other's archive.
	INITRAMFS=$VMDIR/initramfs-$KREL-$(echo "$MODDIR" | sha256sum | cut -c 1-8).cpio
	key=$({
		cat "$VM_INIT"
		echo "$KREL $MSIZE"
		stat -L -c '%n %s %Y' "$BUSYBOX"
		for ko in "${INITRAMFS_KOS[@]}"; do
			stat -L -c '%n %s %Y' "$MODDIR/$ko"
		done
	} | sha256sum | cut -d ' ' -f 1)
	if [[ -r $INITRAMFS && "$(cat "$INITRAMFS.key" 2>/dev/null)" == "$key" ]]; then
		return 0
	fi

	say "building initramfs for $KREL (modules: ${INITRAMFS_KOS[*]##*/})"
	stage=$(mktemp -d "$VMDIR/initramfs.XXXXXX")
	mkdir -p "$stage"/{bin,dev,proc,sys,newroot,modules}
	cp "$BUSYBOX" "$stage/bin/busybox"
	sed "s/@MSIZE@/$MSIZE/" "$VM_INIT" >"$stage/init"
	chmod 755 "$stage/init"
	# Lets the kernel hand /init its console; /init copes without it when
	# mknod is not allowed.
	mknod "$stage/dev/console" c 5 1 2>/dev/null || true
	: >"$stage/modules.order"
	for ko in "${INITRAMFS_KOS[@]}"; do
		name=${ko##*/}
		name=${name%%.ko*}.ko
		case $ko in
		*.xz) xz -dc "$MODDIR/$ko" >"$stage/modules/$name" ;;
		*.zst) zstd -qdc "$MODDIR/$ko" >"$stage/modules/$name" ;;
		*.gz) gzip -dc "$MODDIR/$ko" >"$stage/modules/$name" ;;
		*) cp "$MODDIR/$ko" "$stage/modules/$name" ;;
		esac
		echo "$name" >>"$stage/modules.order"
	done
	# Uncompressed: unpacking is faster than decompressing under TCG.
	(cd "$stage" && find . | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --quiet) >"$INITRAMFS.tmp"
	rm -rf "$stage"
	mv "$INITRAMFS.tmp" "$INITRAMFS"
	echo "$key" >"$INITRAMFS.key"
}

# --- Acceleration --------------------------------------------------------

# /dev/kvm may exist and still fail (nested virtualization refusing the
# guest), so KVM is used only after a probe boot reached the initramfs and
# delivered a verdict. The answer is cached per host kernel, qemu and
# guest kernel.
choose_accel() {
	local probe=$VMDIR/kvm-probe key result

	if [[ $ACCEL != auto ]]; then
		return 0
	fi
	ACCEL=tcg
	[[ -r /dev/kvm && -w /dev/kvm ]] || return 0

	key="$(uname -r) $(qemu-system-x86_64 --version | head -n 1)"
	key+=" $(stat -c '%n %s %Y' "$KERNEL")"
	if [[ -r $probe && "$(head -n 1 "$probe")" == "$key" ]]; then
		result=$(sed -n 2p "$probe")
	else
		say "probing KVM (cached in $probe)"
		result=no
		if timeout -k 5 30 qemu-system-x86_64 -machine q35,accel=kvm \
			-m 256M -nodefaults -no-reboot -display none -nic none \
			-serial none -device isa-debug-exit,iobase=0xf4,iosize=4 \
			-kernel "$KERNEL" -initrd "$INITRAMFS" \
			-append "panic=-1 xtcp_vm_verdict=$VERDICT_BYTE xtcp_vm_probe=1" \
			</dev/null >/dev/null 2>&1; then
			:
		elif (($? == VERDICT_RC)); then
			result=yes
		fi
		printf '%s\n%s\n' "$key" "$result" >"$probe"
	fi
	[[ $result == yes ]] && ACCEL=kvm
	return 0
}

# --- The run -------------------------------------------------------------

# Create the out directory, clear what a previous run may have left and
# write the parameters guest-init.sh sources.
prepare_out() {
	local var
	local -a env=()

	mkdir -p "$VMDIR"
	[[ -n $OUT ]] || OUT=$(mktemp -d "$VMDIR/run.XXXXXX")
	mkdir -p "$OUT"
	OUT=$(realpath "$OUT")
	prune_runs
	# Paths travel on the kernel command line.
	[[ $OUT != *[[:space:]]* && $REPO != *[[:space:]]* ]] ||
		die "paths with white space are not supported: $OUT"
	rm -f "$OUT"/{status,verdict,guest-error,dmesg,cmd.log,params} \
		"$OUT"/{boot-time,boot-wall,cmd-time}
	LOG=$(realpath -m "${LOG:-$OUT/console.log}")

	env+=("BUILD=$BUILD")
	while read -r var; do
		env+=("$var=${!var}")
	done < <(compgen -e | grep '^XTCP_' || true)

	local XTCP_VM_CMD=("${CMD[@]}") XTCP_VM_ENV=("${env[@]}")
	local XTCP_VM_REPO=$REPO XTCP_VM_MODULE=$MODULE
	local XTCP_VM_MODULES_DIR=$MODDIR XTCP_VM_KDIR=$KDIR
	local XTCP_VM_BUSYBOX=$BUSYBOX XTCP_VM_VERDICT=$VERDICT_BYTE
	declare -p XTCP_VM_CMD XTCP_VM_ENV XTCP_VM_REPO XTCP_VM_MODULE \
		XTCP_VM_MODULES_DIR XTCP_VM_KDIR XTCP_VM_BUSYBOX XTCP_VM_VERDICT \
		>"$OUT/params"
}

# Keep the newest KEEP_RUNS out directories named run.* in $BUILD/vm.
prune_runs() {
	local old

	while read -r old; do
		[[ -n $old && $old != "$OUT" ]] && rm -rf -- "$old"
	done < <(find "$VMDIR" -maxdepth 1 -name 'run.*' -type d -printf '%T@ %p\n' |
		sort -rn | tail -n +$((KEEP_RUNS + 1)) | cut -d ' ' -f 2-)
}

# Host paths the guest's tmpfs mounts would hide, colon-separated: the
# repository, the build directory and the module's directory when they lie
# below /tmp, /var/tmp or /run (a CI checkout, say), outermost first.
keep_paths() {
	local p k
	local -a keep=()

	for p in "$REPO" "$BUILD" ${MODULE:+"$(dirname "$MODULE")"}; do
		case $p in
		/tmp/* | /var/tmp/* | /run/*) ;;
		*) continue ;;
		esac
		for k in "${keep[@]}"; do
			[[ $p == "$k" || $p == "$k"/* ]] && continue 2
		done
		keep+=("$p")
	done
	(
		IFS=:
		echo "${keep[*]}"
	)
}

kernel_cmdline() {
	local keep
	keep=$(keep_paths)
	local args=(
		console=ttyS0 printk.time=1
		# Warnings and worse reach the console; all of it is in dmesg.
		loglevel=5
		panic=-1 oops=panic panic_on_warn=1 softlockup_panic=1
		hung_task_panic=1 kfence.sample_interval=100
		slub_debug=FZPU page_poison=1
		# Test runners mark test boundaries in the kernel log.
		printk.devkmsg=on
		xtcp_vm_verdict="$VERDICT_BYTE"
		xtcp_vm_out="$OUT" xtcp_vm_init="$REPO/scripts/guest-init.sh"
		xtcp_vm_cache="$ROOT_CACHE"
		${keep:+xtcp_vm_keep="$keep"}
	)
	echo "${args[*]}${APPEND:+ $APPEND}"
}

# qemu's -accel value. Multi-threaded TCG (one host thread per vCPU) is
# qemu's default; --tcg-single runs all vCPUs on one thread, which avoids
# TCG's rare cross-CPU code patching races (an "Oops: int3" at a static
# key while the kernel patches code, about 1 in 40 boots here) at the cost
# of parallelism.
accel_option() {
	if [[ $ACCEL == tcg && $TCG_SINGLE == 1 ]]; then
		echo tcg,thread=single
	else
		echo "$ACCEL"
	fi
}

# Boot and wait. Sets QEMU_RC. The console goes to the terminal and LOG, or
# only to LOG with --quiet. qemu's stdin is /dev/null: the terminal stays
# usable and Ctrl-C still stops qemu.
run_qemu() {
	local console qemu=()

	if ((QUIET)); then
		console=file,id=con0,path=$LOG
	else
		console=stdio,id=con0,signal=on,logfile=$LOG
	fi
	qemu=(qemu-system-x86_64
		-machine q35 -accel "$(accel_option)" -smp "$SMP" -m "$MEM"
		-nodefaults -no-reboot -display none
		-chardev "$console" -serial chardev:con0
		-device "isa-debug-exit,iobase=0xf4,iosize=4"
		-fsdev "local,id=root,path=/,security_model=none,readonly=on,multidevs=remap"
		-device "virtio-9p-pci,fsdev=root,mount_tag=hostroot"
		-fsdev "local,id=out,path=$OUT,security_model=none,multidevs=remap"
		-device "virtio-9p-pci,fsdev=out,mount_tag=xtcpout"
		-kernel "$KERNEL" -initrd "$INITRAMFS"
		-append "$(kernel_cmdline)")
	((ICOUNT)) && qemu+=(-icount "shift=0,sleep=off")
	if [[ -n $NIC ]]; then
		qemu+=(-netdev "$NIC,id=net0"
			-device "virtio-net-pci,netdev=net0,mac=$MAC")
	else
		qemu+=(-nic none)
	fi

	say "booting $KREL ($ACCEL, $SMP CPUs, $MEM), out $OUT"
	QEMU_RC=0
	watch_boot &
	WATCHER=$!
	timeout --foreground -k 10 "$TIMEOUT" "${qemu[@]}" </dev/null || QEMU_RC=$?
	kill "$WATCHER" 2>/dev/null || true
	wait "$WATCHER" 2>/dev/null || true
}

# Host-side boot time: from qemu's start until guest-init.sh writes
# OUT/boot-time just before CMD. The guest's own clock is not enough: its
# TSC calibration goes wrong on a loaded host and it then runs slow.
watch_boot() {
	local start=${EPOCHREALTIME/./} now

	while [[ ! -e $OUT/boot-time ]]; do
		kill -0 "$$" 2>/dev/null || return 0
		sleep 0.2
	done
	now=${EPOCHREALTIME/./}
	printf '%d.%d\n' $(((now - start) / 1000000)) $(((now - start) / 100000 % 10)) \
		>"$OUT/boot-wall"
}

# --- Judging -------------------------------------------------------------

# Lines of FILE that are kernel messages matching the error patterns. On
# the console only lines starting with a kernel timestamp count, so that
# CMD's own output (a tool's "WARNING: ...", a test quoting the kernel log)
# cannot fail the run; the saved dmesg is complete anyway.
kernel_errors_in() {
	local file=$1 console=$2

	[[ -r $file ]] || return 0
	if ((console)); then
		local stamp=$'^\r?\\[ *[0-9]+\\.[0-9]+\\] '

		grep -a -n -E "$stamp.*($XTCP_KERNEL_ERROR_RE)" "$file" || true
	else
		grep -a -n -E "$XTCP_KERNEL_ERROR_RE" "$file" || true
	fi
}

# Print the first hits of FILE with context so the failure is readable
# without opening the log.
show_errors() {
	local file=$1 hits=$2 first

	echo "vm: kernel log errors in $file:"
	head -n 10 <<<"$hits" | tr -d '\r' | sed 's/^/vm:   /'
	first=${hits%%:*}
	echo "vm: context:"
	sed -n "$((first > 5 ? first - 5 : 1)),$((first + 30))p" "$file" |
		tr -d '\r' | sed 's/^/vm: | /'
}

# Decide the run's outcome. Sets VERDICT and returns the exit status.
judge() {
	local status hits any=0

	if [[ $QEMU_RC == "$VERDICT_RC" && -r $OUT/status ]]; then
		status=$(<"$OUT/status")
		VERDICT=pass
		((status == 0)) || VERDICT="cmd-failed"
	else
		status=1
		VERDICT=vm-failed
		if ((QEMU_RC == 124 || QEMU_RC == 137)); then
			say "FAIL: timeout after $TIMEOUT s, VM killed"
		elif grep -a -q 'Kernel panic' "$LOG" 2>/dev/null; then
			say "FAIL: kernel panic (no verdict)"
		elif [[ -s $OUT/guest-error ]]; then
			say "FAIL: guest setup failed: $(<"$OUT/guest-error")"
		elif ((QEMU_RC == 0)); then
			say "FAIL: the guest stopped without a verdict (reboot or power off)"
		else
			say "FAIL: qemu exited with status $QEMU_RC, no verdict"
		fi
	fi

	hits=$(kernel_errors_in "$LOG" 1)
	if [[ -n $hits ]]; then
		show_errors "$LOG" "$hits"
		any=1
	fi
	# The saved kernel log also has what the console level filtered out;
	# show it in full only when the console had nothing.
	hits=$(kernel_errors_in "$OUT/dmesg" 0)
	if [[ -n $hits ]] && ((any)); then
		say "and $(wc -l <<<"$hits") matching lines in $OUT/dmesg"
	elif [[ -n $hits ]]; then
		show_errors "$OUT/dmesg" "$hits"
		any=1
	fi
	if ((any)); then
		say "FAIL: kernel log errors; full console log: $LOG"
		[[ $VERDICT == vm-failed ]] || VERDICT=kernel-errors
		((status != 0)) || status=1
	elif [[ $VERDICT == vm-failed ]]; then
		say "full console log: $LOG"
	fi
	echo "$VERDICT" >"$OUT/verdict"
	return "$status"
}

# One line of timing: kernel start to CMD by the guest's clock, qemu start
# to CMD by the host's, CMD's own duration and the whole run.
report_times() {
	local boot='?' wall='?' cmd='?'

	[[ -r $OUT/boot-time ]] && boot=$(<"$OUT/boot-time")
	[[ -r $OUT/boot-wall ]] && wall=$(<"$OUT/boot-wall")
	[[ -r $OUT/cmd-time ]] && cmd=$(<"$OUT/cmd-time")
	say "boot ${boot} s (kernel start to CMD; ${wall} s from qemu start)," \
		"CMD ${cmd} s, total $((SECONDS - START)) s, $ACCEL"
}

main() {
	local rc=0

	START=$SECONDS
	parse_args "$@"
	find_kernel
	check_tools
	resolve_initramfs_modules
	build_initramfs
	choose_accel
	prepare_out
	run_qemu
	if ((QUIET)) && [[ -r $OUT/cmd.log ]]; then
		cat "$OUT/cmd.log"
	fi
	judge || rc=$?
	report_times
	if [[ $VERDICT == pass || $VERDICT == cmd-failed ]]; then
		say "CMD exited with status $rc"
	fi
	exit "$rc"
}

main "$@"
