#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# vm-init.sh - /init of the test VM's initramfs (busybox sh): load 9p,
# mount the host root read-only plus tmpfs for the writable system
# directories and the out share, then switch_root into
# scripts/guest-init.sh. It also answers the KVM probe.
#
# scripts/vm.sh copies it into the initramfs, replacing @MSIZE@ with the
# 9p message size; it runs nowhere else.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t devtmpfs dev /dev
# Without a /dev/console node in the archive the kernel started us with no
# standard streams.
[ -t 1 ] || exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sys /sys

fail() {
	echo "xtcp-vm initramfs: $*"
	poweroff -f
}

# Write byte $1 to the isa-debug-exit port; the format is that byte as an
# octal escape.
verdict() {
	# shellcheck disable=SC2059
	printf "\\$(printf %03o "$1")" |
		dd of=/dev/port bs=1 seek=244 count=1 conv=notrunc 2>/dev/null
}

read -r cmdline </proc/cmdline
for arg in $cmdline; do
	case $arg in
	xtcp_vm_out=*) out=${arg#*=} ;;
	xtcp_vm_init=*) init=${arg#*=} ;;
	xtcp_vm_cache=*) cache=${arg#*=} ;;
	xtcp_vm_keep=*) keep=$(echo "${arg#*=}" | tr ':' ' ') ;;
	xtcp_vm_verdict=*) vbyte=${arg#*=} ;;
	xtcp_vm_probe=1) verdict "$vbyte"; fail "probe: no debug-exit device" ;;
	esac
done
if [ -z "$out" ] || [ -z "$init" ]; then
	fail "missing xtcp_vm_out/xtcp_vm_init"
fi

while read -r ko; do
	insmod "/modules/$ko" || fail "insmod $ko failed"
done </modules.order
opts=trans=virtio,version=9p2000.L,msize=@MSIZE@
mount -t 9p -o "$opts,cache=$cache,ro" hostroot /newroot ||
	fail "cannot mount the host root over 9p"
# Host paths below /tmp, /var/tmp or /run that the run needs (a checkout
# or build directory there): held aside while the tmpfs mounts cover
# those directories, then put back at the same path.
i=0
for p in $keep; do
	mkdir -p "/keep/$i"
	mount --bind "/newroot$p" "/keep/$i" || fail "cannot keep $p"
	i=$((i + 1))
done
mount -t tmpfs -o mode=1777 tmpfs /newroot/tmp
mount -t tmpfs -o mode=1777 tmpfs /newroot/var/tmp
mount -t tmpfs -o mode=0755 tmpfs /newroot/run
i=0
for p in $keep; do
	mkdir -p "/newroot$p"
	mount --move "/keep/$i" "/newroot$p" || fail "cannot put back $p"
	i=$((i + 1))
done
# After the tmpfs mounts, so an out directory below /tmp stays visible.
mkdir -p "/newroot$out"
mount -t 9p -o "$opts,cache=none" xtcpout "/newroot$out" ||
	fail "cannot mount the out share at $out"
# The system mounts guest-init.sh would make (and lo up), done here where
# each is a static busybox applet instead of a dynamically linked program
# read over 9p (0.1-0.2 s each under TCG). guest-init.sh skips what exists.
for fs in dev proc sys; do
	mount --move "/$fs" "/newroot/$fs"
done
cd /newroot/dev || fail "no /newroot/dev"
mkdir -p pts shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts pts
mount -t tmpfs -o mode=1777 tmpfs shm
ln -sfn /proc/self/fd fd
ln -sfn /proc/self/fd/0 stdin
ln -sfn /proc/self/fd/1 stdout
ln -sfn /proc/self/fd/2 stderr
mount -t debugfs debugfs /newroot/sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /newroot/sys/kernel/tracing 2>/dev/null
ip link set lo up
cd /
exec switch_root /newroot /bin/bash "$init" "$out"
