#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-init.sh - PID 1 of the test VM.
#
# Started by the initramfs of scripts/vm.sh after switch_root into the
# host's root (read-only over 9p, tmpfs on /tmp, /run and /var/tmp, the
# writable out share mounted at its host path). Usage: guest-init.sh OUT.
#
# It finishes the system setup, loads the module, runs the command from
# OUT/params in the repository, stores its status and the kernel log in OUT
# and only then sends the verdict through the isa-debug-exit port. Any
# failure on the way powers the VM off without a verdict, which the host
# reports as a failed run.

set -Eeuo pipefail

OUT=${1:?usage: guest-init.sh OUT}
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
umask 022
# shellcheck disable=SC2034 # read by the EXIT trap
VERDICT_SENT=0

log() {
	echo "xtcp-vm: $*"
}

# Power off at once. PID 1 must never exit: the kernel would panic.
power_off() {
	sync
	"${XTCP_VM_BUSYBOX:-busybox}" poweroff -f 2>/dev/null ||
		echo o >/proc/sysrq-trigger
	while :; do sleep 60; done
}

# Report why the guest gives up, on the console and for the host, then stop
# without a verdict.
fatal() {
	log "FATAL: $*"
	echo "$*" >"$OUT/guest-error" 2>/dev/null || true
	dmesg >"$OUT/dmesg" 2>/dev/null || true
	power_off
}

trap 'fatal "line $LINENO: \"$BASH_COMMAND\" failed"' ERR
trap '((VERDICT_SENT)) || fatal "guest-init.sh exited early"' EXIT

# Written by vm.sh: XTCP_VM_CMD (array), XTCP_VM_ENV (array of NAME=value),
# XTCP_VM_REPO, XTCP_VM_MODULE, XTCP_VM_MODULES_DIR, XTCP_VM_KDIR,
# XTCP_VM_BUSYBOX, XTCP_VM_VERDICT. Sourced at top level so that the
# arrays stay global.
# shellcheck source=/dev/null
source "$OUT/params"

# Is $1 a mount point? Reads the mount table with builtins only.
is_mounted() {
	local _dev mnt _rest

	while read -r _dev mnt _rest; do
		[[ $mnt == "$1" ]] && return 0
	done </proc/self/mounts
	return 1
}

# Mount FSTYPE on DIR unless something is mounted there already (the
# initramfs does most of these cheaply).
ensure_mount() {
	local fstype=$1 dir=$2 opts=${3:-defaults}

	is_mounted "$dir" && return 0
	mkdir -p "$dir"
	mount -t "$fstype" -o "$opts" "$fstype" "$dir"
}

mount_system() {
	[[ -r /proc/self/mounts ]] || mount -t proc proc /proc
	ensure_mount sysfs /sys
	ensure_mount devtmpfs /dev
	ensure_mount devpts /dev/pts gid=5,mode=620,ptmxmode=666
	ensure_mount tmpfs /dev/shm mode=1777
	ensure_mount tmpfs /tmp mode=1777
	ensure_mount tmpfs /var/tmp mode=1777
	ensure_mount tmpfs /run mode=0755
	# Optional: tests may use tracepoints.
	ensure_mount debugfs /sys/kernel/debug 2>/dev/null || true
	ensure_mount tracefs /sys/kernel/tracing 2>/dev/null || true
	# devtmpfs lacks these; bash needs /dev/fd for <(...).
	if [[ ! -e /dev/fd/0 ]]; then
		ln -sfn /proc/self/fd /dev/fd
		ln -sfn /proc/self/fd/0 /dev/stdin
		ln -sfn /proc/self/fd/1 /dev/stdout
		ln -sfn /proc/self/fd/2 /dev/stderr
	fi
}

# Does the kernel know file system type $1 (built in or loaded)?
fs_supported() {
	local line

	while read -r line; do
		[[ ${line##*[[:space:]]} == "$1" ]] && return 0
	done </proc/filesystems
	return 1
}

# Tests install xtcp.ko into /lib/modules/$(uname -r)/extra and run depmod
# to check autoloading through the module alias, so /lib/modules becomes an
# overlay: the host's directory below, tmpfs above.
writable_modules() {
	local krel dir=/run/xtcp-vm/modules

	read -r krel </proc/sys/kernel/osrelease
	fs_supported overlay || modprobe overlay
	mkdir -p "$dir/upper" "$dir/work" "$dir/upper2" "$dir/work2"
	mount -t overlay overlay \
		-o "lowerdir=/lib/modules,upperdir=$dir/upper,workdir=$dir/work" \
		/lib/modules
	[[ -d /lib/modules/$krel ]] || mkdir "/lib/modules/$krel"
	# A kernel whose modules live elsewhere (--modules): show them at the
	# usual place, writable as well.
	if [[ -n $XTCP_VM_MODULES_DIR &&
		! $XTCP_VM_MODULES_DIR -ef /lib/modules/$krel ]]; then
		mount -t overlay overlay \
			-o "lowerdir=$XTCP_VM_MODULES_DIR,upperdir=$dir/upper2,workdir=$dir/work2" \
			"/lib/modules/$krel"
	elif [[ -z $XTCP_VM_MODULES_DIR && -r $XTCP_VM_KDIR/modules.builtin ]]; then
		# A kernel with everything built in (the debug kernel): tell
		# modprobe so, or `modprobe veth` fails although veth is there.
		cp "$XTCP_VM_KDIR"/modules.{builtin,builtin.modinfo,order} \
			"/lib/modules/$krel/" 2>/dev/null || true
		depmod -a "$krel"
	fi
}

setup_system() {
	local var lo_flags

	echo xtcp-vm >/proc/sys/kernel/hostname
	read -r lo_flags </sys/class/net/lo/flags
	((lo_flags & 1)) || ip link set lo up
	ulimit -c 0
	export HOME=/tmp TERM=${TERM:-linux} XTCP_OUT=$OUT
	for var in "${XTCP_VM_ENV[@]}"; do
		export "${var?}"
	done
}

load_module() {
	[[ -n $XTCP_VM_MODULE ]] || return 0
	insmod "$XTCP_VM_MODULE" || fatal "insmod $XTCP_VM_MODULE failed"
}

# Seconds since the kernel started, with two decimals.
uptime_s() {
	local up _

	read -r up _ </proc/uptime
	echo "$up"
}

# Hundredths of a second since the kernel started.
uptime_cs() {
	local up

	up=$(uptime_s)
	echo $((10#${up//./}))
}

# Run the command with the console as output and a copy in OUT/cmd.log.
# stdbuf keeps C programs line-buffered although their stdout is a pipe.
run_cmd() {
	local start took status=0

	cd "$XTCP_VM_REPO"
	uptime_s >"$OUT/boot-time"
	start=$(uptime_cs)
	log "running: ${XTCP_VM_CMD[*]}"
	stdbuf -oL -eL "${XTCP_VM_CMD[@]}" </dev/null 2>&1 | tee "$OUT/cmd.log" ||
		status=${PIPESTATUS[0]}
	took=$(($(uptime_cs) - start))
	printf '%d.%02d\n' $((took / 100)) $((took % 100)) >"$OUT/cmd-time"
	echo "$status" >"$OUT/status"
}

# Status and kernel log are on the host; now say so through port 0xf4
# (qemu exits with (byte << 1) | 1).
send_verdict() {
	dmesg >"$OUT/dmesg"
	sync
	# shellcheck disable=SC2034 # read by the EXIT trap
	VERDICT_SENT=1
	# shellcheck disable=SC2059 # the format is the octal escape
	printf "\\$(printf '%03o' "$XTCP_VM_VERDICT")" |
		dd of=/dev/port bs=1 seek=244 count=1 conv=notrunc status=none
	# Still here: no isa-debug-exit device.
	fatal "the verdict port did not stop the VM"
}

mount_system
writable_modules
setup_system
load_module
run_cmd
send_verdict
