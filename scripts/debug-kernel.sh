#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (once) and locate a debug kernel for the xtcp test VM: Debian's
# linux-source-6.12 configured with KASAN (generic, inline), lockdep,
# kmemleak, KFENCE and everything the test VM needs built in.
#
# Usage:
#   scripts/debug-kernel.sh                  build the kernel if needed
#   scripts/debug-kernel.sh --print-kernel   path of the bzImage
#   scripts/debug-kernel.sh --print-kdir     build tree (make -C KDIR M=...)
#   scripts/debug-kernel.sh --print-modules  /lib/modules/<release>-style dir
#
# Environment:
#   XTCP_DEBUG_KERNEL_DIR  cache directory (default:
#                          ${XDG_CACHE_HOME:-$HOME/.cache}/xtcp/linux-debug-<version>)
#   XTCP_DEBUG_KERNEL_JOBS parallel jobs for the build (default: 2)
#
# The build is kept in the cache directory and reused. It is redone only
# when the source package version or the configuration changes (the
# fragments scripts/debug-kernel.config and scripts/debug-kernel-trim.config,
# and the recipe below): the stamp file records both. An interrupted build
# resumes where it stopped.

set -euo pipefail

readonly SRC_PKG=linux-source-6.12
readonly SRC_TARBALL=/usr/src/linux-source-6.12.tar.xz
readonly ME=debug-kernel

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# The option lines of a config fragment file: "CONFIG_X=..." and
# "# CONFIG_X is not set", without the license header and other comments
# (the stamp hashes exactly these lines).
read_fragment() {
	[[ -r $1 ]] || { printf '%s: error: %s missing\n' "$ME" "$1" >&2; exit 1; }
	grep -E '^(CONFIG_|# CONFIG_[A-Za-z0-9_]+ is not set$)' "$1" || true
}

# Options the debug lane depends on. Each one is checked in the final
# .config; the build stops if any of them did not take.
CONFIG_REQUIRED=$(read_fragment "$HERE/debug-kernel.config")

# Subsystems a headless qemu guest never uses, left out to shorten the
# build. Not checked: if something selects one of them it stays.
CONFIG_TRIM=$(read_fragment "$HERE/debug-kernel-trim.config")

# Bump when the build steps change in a way that needs a rebuild.
readonly RECIPE=1

say() { printf '%s: %s\n' "$ME" "$*"; }
die() { printf '%s: error: %s\n' "$ME" "$*" >&2; exit 1; }

fmt_secs() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

usage() {
	sed -n '/^# Usage:/,/^# Environment:/p' "${BASH_SOURCE[0]}" |
		sed '$d; s/^# \{0,1\}//'
}

source_version() {
	local v
	if v=$(dpkg-query -W -f="\${Version}" "$SRC_PKG" 2>/dev/null) &&
	   [[ -n $v ]]; then
		printf '%s\n' "$v"
	elif [[ -f $SRC_TARBALL ]]; then
		stat -c 'unpackaged-%s-%Y' "$SRC_TARBALL"
	else
		echo none
	fi
}

# --- locations --------------------------------------------------------------

# Sets CACHE, TREE, STAMP, LOG, MODS, BZIMAGE and STAMP_WANT.
locate() {
	local hash
	SRC_VERSION=$(source_version)
	if [[ -n ${XTCP_DEBUG_KERNEL_DIR:-} ]]; then
		CACHE=$XTCP_DEBUG_KERNEL_DIR
	else
		CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/xtcp/linux-debug-${SRC_VERSION//[^A-Za-z0-9._+-]/_}
	fi
	CACHE=$(realpath -m -- "$CACHE")
	TREE=$CACHE/linux
	STAMP=$CACHE/stamp
	LOG=$CACHE/build.log
	MODS=$CACHE/mods
	BZIMAGE=$TREE/arch/x86/boot/bzImage
	hash=$(printf '%s\n%s\nrecipe %s\n' "$CONFIG_REQUIRED" "$CONFIG_TRIM" \
		"$RECIPE" | sha256sum | cut -d' ' -f1)
	STAMP_WANT="source $SRC_VERSION
config $hash"
}

is_built() {
	[[ -f $STAMP && -f $BZIMAGE && -f $TREE/Module.symvers ]] &&
		[[ $(head -n 2 "$STAMP") == "$STAMP_WANT" ]]
}

kernel_release() { cat "$TREE/include/config/kernel.release"; }

require_built() {
	is_built && return 0
	if [[ -f $STAMP ]]; then
		die "the debug kernel in $CACHE is out of date" \
			"(source or config changed); run scripts/debug-kernel.sh"
	fi
	die "no debug kernel built in $CACHE; run scripts/debug-kernel.sh" \
		"(takes about half an hour)"
}

# --- build ------------------------------------------------------------------

as_root() {
	if [[ $(id -u) -eq 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null; then
		sudo "$@"
	else
		die "need root to run: $*"
	fi
}

install_deps() {
	local -a pkgs=()
	command -v make >/dev/null || pkgs+=(make)
	command -v gcc >/dev/null || pkgs+=(gcc)
	command -v flex >/dev/null || pkgs+=(flex)
	command -v bison >/dev/null || pkgs+=(bison)
	command -v bc >/dev/null || pkgs+=(bc)
	command -v xz >/dev/null || pkgs+=(xz-utils)
	command -v depmod >/dev/null || [[ -x /sbin/depmod ]] || pkgs+=(kmod)
	[[ -f /usr/include/libelf.h ]] || pkgs+=(libelf-dev)
	[[ -f /usr/include/openssl/opensslv.h ]] || pkgs+=(libssl-dev)
	[[ -f $SRC_TARBALL ]] || pkgs+=("$SRC_PKG")
	((${#pkgs[@]})) || return 0
	say "installing ${pkgs[*]}"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y \
		--no-install-recommends "${pkgs[@]}" ||
		die "could not install ${pkgs[*]}"
	[[ -f $SRC_TARBALL ]] || die "$SRC_TARBALL still missing"
}

kmake() { make -C "$TREE" "$@"; }

unpack() {
	if [[ -f $TREE/.xtcp-source && $(cat "$TREE/.xtcp-source") == "$SRC_VERSION" ]]; then
		return 0
	fi
	say "unpacking $SRC_TARBALL ($SRC_VERSION)"
	rm -rf "$TREE" "$TREE.tmp" "$STAMP" "$MODS"
	mkdir -p "$TREE.tmp"
	tar -xJf "$SRC_TARBALL" -C "$TREE.tmp" --strip-components=1
	printf '%s\n' "$SRC_VERSION" > "$TREE.tmp/.xtcp-source"
	mv "$TREE.tmp" "$TREE"
}

# Apply a fragment (lines as in .config) with scripts/config.
apply_fragment() {
	local line sym val
	local -a args=()
	while IFS= read -r line; do
		if [[ $line =~ ^#\ CONFIG_([A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
			args+=(--disable "${BASH_REMATCH[1]}")
		elif [[ $line =~ ^CONFIG_([A-Za-z0-9_]+)=(.*)$ ]]; then
			sym=${BASH_REMATCH[1]}
			val=${BASH_REMATCH[2]}
			case $val in
			y) args+=(--enable "$sym") ;;
			m) args+=(--module "$sym") ;;
			\"*\") val=${val#\"}; args+=(--set-str "$sym" "${val%\"}") ;;
			*) args+=(--set-val "$sym" "$val") ;;
			esac
		elif [[ -n $line ]]; then
			die "bad config fragment line: $line"
		fi
	done <<< "$1"
	"$TREE/scripts/config" --file "$TREE/.config" --keep-case "${args[@]}"
}

# Print the lines of a fragment that the final .config does not satisfy.
config_mismatches() {
	local line sym
	while IFS= read -r line; do
		[[ -n $line ]] || continue
		if [[ $line =~ ^#\ CONFIG_([A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
			sym=${BASH_REMATCH[1]}
			if grep -q "^CONFIG_$sym=" "$TREE/.config"; then
				printf '  want "%s", got "%s"\n' "$line" \
					"$(grep "^CONFIG_$sym=" "$TREE/.config")"
			fi
		elif ! grep -qxF -- "$line" "$TREE/.config"; then
			sym=${line%%=*}
			printf '  want "%s", got "%s"\n' "$line" \
				"$(grep -E "^$sym=|^# $sym is not set" "$TREE/.config" ||
					echo unset)"
		fi
	done <<< "$1"
}

configure() {
	local bad
	say "configuring: defconfig + kvm_guest.config + debug options"
	{
		kmake defconfig &&
		kmake kvm_guest.config &&
		apply_fragment "$CONFIG_REQUIRED" &&
		apply_fragment "$CONFIG_TRIM" &&
		kmake olddefconfig
	} >> "$LOG" 2>&1 || die "configuration failed; see $LOG"

	bad=$(config_mismatches "$CONFIG_REQUIRED")
	if [[ -n $bad ]]; then
		printf '%s: error: required options missing from %s:\n%s\n' \
			"$ME" "$TREE/.config" "$bad" >&2
		exit 1
	fi
	bad=$(config_mismatches "$CONFIG_TRIM")
	if [[ -n $bad ]]; then
		say "note: some trimmed options stayed on (harmless):"
		printf '%s\n' "$bad"
	fi
	say "config checked: all $(grep -c . <<< "$CONFIG_REQUIRED") required options set"
}

# Read make's output, print a progress line a minute and the milestones.
progress() {
	local line n=0 last=$SECONDS cur=
	while IFS= read -r line; do
		case $line in
		"  CC "*) n=$((n + 1)); cur=${line##* } ;;
		"Kernel: "*" is ready"*) say "${line%%  (*}" ;;
		*"error:"* | *"Error "*) printf '%s\n' "$line" ;;
		esac
		if ((SECONDS - last >= 60)); then
			last=$SECONDS
			say "$(fmt_secs $((SECONDS - T0))) elapsed, $n files compiled${cur:+, at $cur}"
		fi
	done
}

build() {
	local jobs=${XTCP_DEBUG_KERNEL_JOBS:-2}
	[[ $jobs =~ ^[1-9][0-9]*$ ]] || die "XTCP_DEBUG_KERNEL_JOBS must be a number"
	say "building bzImage and modules (make -j$jobs, nice 19); full log: $LOG"
	say "this takes about half an hour on 2 cores"
	if ! nice -n 19 make -C "$TREE" -j"$jobs" bzImage modules 2>&1 |
		tee -a "$LOG" | progress; then
		printf '%s: error: kernel build failed after %s; last lines of %s:\n' \
			"$ME" "$(fmt_secs $((SECONDS - T0)))" "$LOG" >&2
		tail -n 30 "$LOG" >&2
		exit 1
	fi
	{
		kmake modules_prepare &&
		rm -rf "$MODS" &&
		kmake modules_install INSTALL_MOD_PATH="$MODS"
	} >> "$LOG" 2>&1 || die "modules_prepare/modules_install failed; see $LOG"
}

do_build() {
	local repo
	T0=$SECONDS
	install_deps
	locate
	repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
	case $CACHE/ in
	"$repo"/*) die "cache directory $CACHE is inside the source tree $repo;" \
			"set XTCP_DEBUG_KERNEL_DIR elsewhere" ;;
	esac

	mkdir -p "$CACHE"
	exec 9> "$CACHE/.lock"
	if ! flock -n 9; then
		say "another build is running in $CACHE; waiting for it"
		flock 9
	fi

	if is_built; then
		say "up to date: $BZIMAGE"
		return 0
	fi

	# Values from a calling make (command-line variables, jobserver) must
	# not leak into the kernel build.
	unset MAKEFLAGS MFLAGS MAKEOVERRIDES MAKELEVEL GNUMAKEFLAGS
	unset ARCH CROSS_COMPILE KBUILD_OUTPUT O M KCONFIG_CONFIG LOCALVERSION

	rm -f "$STAMP"
	unpack
	: > "$LOG"
	configure
	build
	printf '%s\n' "$STAMP_WANT" > "$STAMP"
	say "built $(kernel_release) in $(fmt_secs $((SECONDS - T0)))"
	say "kernel:  $BZIMAGE"
	say "kdir:    $TREE"
	say "modules: $MODS/lib/modules/$(kernel_release)"
}

case ${1:-} in
"")
	do_build ;;
--print-kernel)
	locate; require_built; printf '%s\n' "$BZIMAGE" ;;
--print-kdir)
	locate; require_built; printf '%s\n' "$TREE" ;;
--print-modules)
	locate; require_built; printf '%s\n' "$MODS/lib/modules/$(kernel_release)" ;;
-h | --help)
	usage ;;
*)
	usage >&2; exit 2 ;;
esac
