#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# deps.sh - install the Debian packages xtcp needs to build, test and check.
#
# Idempotent and quick when everything is present: each package is checked
# with dpkg-query first, and apt-get runs only for the missing ones.
#
# Usage: scripts/deps.sh [KERNEL...]
#
# Each KERNEL adds the image and headers of one more kernel to test on
# (README.md, "Supported kernels"), only when asked for:
#	6.1		Debian 12's default kernel: the newest 6.1 ABI
#			(linux-image-amd64, linux-headers-amd64)
#	6.12-rt		Debian's 6.12 with PREEMPT_RT: the newest 6.12 rt
#			build (linux-image-6.12-rt-amd64, linux-headers-...)
#	6.12		the target kernel, always installed
#	RELEASE		one exact kernel release, e.g. 6.1.0-57-amd64
# Meta-packages rather than pinned releases: a point release or an ABI
# bump then brings the new kernel, and the Makefile picks the newest one
# installed of each series.

set -euo pipefail

# Everything the project needs from Debian (12, bookworm). Add new needs
# here.
PACKAGES=(
	# The target kernel, its build tree and source (checkpatch.pl, the
	# kselftest headers, the debug kernel).
	linux-image-6.12-amd64 linux-headers-6.12-amd64 linux-source-6.12
	# The test VM.
	qemu-system-x86 busybox-static iproute2 kmod cpio xz-utils
	# Style gate.
	shellcheck sparse
	# Packaging (make dkms, make deb) and the man pages (make man).
	dkms debhelper dh-dkms python3-docutils
	# Building the module, the tests and the debug kernel.
	gcc make python3 bc flex bison libelf-dev libssl-dev
	# Used by tests inside the VM (ethtool: the netem test turns
	# segmentation offloads off on its veth pair; curl: the xtcpize
	# test fetches a file with it).
	tcpdump ethtool curl
	# Real programs over xtcp and over TCP in the selftests (iperf3:
	# test_iperf3.sh, a bulk transfer reading TCP_INFO; nginx-light and
	# ab from apache2-utils: test_nginx.sh, short and keep-alive HTTP
	# connections). apt-get does not leave nginx running here (no init
	# system); the test starts its own with its own configuration.
	iperf3 nginx-light apache2-utils
	# The tools operators observe xtcp with, tested in the VM (tshark:
	# test_capture.sh decodes a capture; bpftrace: test_bpftrace.sh runs
	# tools/bpftrace/).
	tshark bpftrace
	# xtcpize run --bpf: its BPF program (clang, vmlinux.h and the
	# skeleton from bpftool) and its loader (libbpf).
	clang libbpf-dev bpftool
	# make bench: the plot of the results.
	python3-matplotlib
)

# Add the packages of the kernels named on the command line to PACKAGES.
add_kernels() {
	local k

	for k in "$@"; do
		case $k in
		6.1) PACKAGES+=(linux-image-amd64 linux-headers-amd64) ;;
		6.12-rt) PACKAGES+=(linux-image-6.12-rt-amd64 linux-headers-6.12-rt-amd64) ;;
		6.12) ;;
		[0-9]*-amd64) PACKAGES+=("linux-image-$k" "linux-headers-$k") ;;
		*)
			echo "deps: unknown kernel '$k' (6.1, 6.12, 6.12-rt or a release)" >&2
			exit 2
			;;
		esac
	done
}

# Print the packages that are not installed (one dpkg-query for all).
missing_packages() {
	local pkg
	local -A installed=()

	while read -r pkg; do
		installed[$pkg]=1
	done < <(dpkg-query -W -f '${Package} ${db:Status-Status}\n' \
		"${PACKAGES[@]}" 2>/dev/null | awk '$2 == "installed" { print $1 }')
	for pkg in "${PACKAGES[@]}"; do
		[[ -n ${installed[$pkg]:-} ]] || echo "$pkg"
	done
}

# Run a command as root: directly, or through sudo.
as_root() {
	if ((EUID == 0)); then
		"$@"
	elif command -v sudo >/dev/null; then
		sudo "$@"
	else
		echo "deps: need root or sudo to run: $*" >&2
		exit 1
	fi
}

main() {
	local -a missing

	add_kernels "$@"
	command -v dpkg-query >/dev/null || {
		echo "deps: dpkg-query not found; this script supports Debian only" >&2
		exit 1
	}
	mapfile -t missing < <(missing_packages)
	if ((${#missing[@]} == 0)); then
		echo "deps: all ${#PACKAGES[@]} packages present"
		return 0
	fi

	echo "deps: missing ${#missing[@]} of ${#PACKAGES[@]}: ${missing[*]}"
	as_root apt-get update
	as_root env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y --no-install-recommends "${missing[@]}"

	mapfile -t missing < <(missing_packages)
	if ((${#missing[@]})); then
		echo "deps: still missing after apt-get: ${missing[*]}" >&2
		exit 1
	fi
	echo "deps: all ${#PACKAGES[@]} packages present"
}

main "$@"
