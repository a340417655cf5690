#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# style.sh - the style gate: checkpatch.pl --strict on the kernel code,
# ShellCheck on every shell script, and sparse with the compiler's W=1
# warnings on the module (against the build tree KDIR names).
#
# checkpatch.pl and its data files come from Debian's linux-source-6.12
# tarball, extracted once into $BUILD/checkpatch (never into the repo).
# Every ERROR, WARNING and CHECK counts; the exit status is non-zero if
# there is any.

set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$(realpath -m "${BUILD:-$REPO/build}")
CHECKPATCH_DIR=$BUILD/checkpatch
SOURCE_TARBALL=${XTCP_LINUX_SOURCE:-/usr/src/linux-source-6.12.tar.xz}
CHECKPATCH_FILES=(checkpatch.pl spelling.txt const_structs.checkpatch)

# checkpatch findings that do not apply to an out-of-tree module. Each one
# needs a reason here; none so far.
CHECKPATCH_IGNORE=()

# Extract checkpatch.pl and the files it reads from its own directory.
# Reading the whole xz tarball takes a while, hence once only.
fetch_checkpatch() {
	local file top

	for file in "${CHECKPATCH_FILES[@]}" ''; do
		[[ -n $file ]] || return 0
		[[ -r $CHECKPATCH_DIR/$file ]] || break
	done
	[[ -r $SOURCE_TARBALL ]] || {
		echo "style: $SOURCE_TARBALL not found; run scripts/deps.sh" >&2
		exit 2
	}
	echo "style: extracting checkpatch.pl from $SOURCE_TARBALL (once)"
	# Debian's tarball holds one directory named like the file.
	top=$(basename "$SOURCE_TARBALL" .tar.xz)
	mkdir -p "$CHECKPATCH_DIR"
	tar -xJf "$SOURCE_TARBALL" -C "$CHECKPATCH_DIR" --strip-components=2 \
		"${CHECKPATCH_FILES[@]/#/$top/scripts/}"
}

# Print the C sources and headers of the module and the UAPI header.
kernel_sources() {
	local dir

	for dir in module include; do
		[[ -d $REPO/$dir ]] || continue
		find "$REPO/$dir" -type f \( -name '*.c' -o -name '*.h' \) \
			! -name '*.mod.c'
	done | LC_ALL=C sort
}

# Print every shell script in scripts/, selftests/, tools/ and .ci/: *.sh files
# and files whose first line names a shell.
shell_scripts() {
	local dir file

	for dir in scripts selftests tools .ci; do
		[[ -d $REPO/$dir ]] || continue
		while read -r file; do
			if [[ $file == *.sh ]] ||
				head -n 1 "$file" | grep -q -E '^#!.*/(env )?(ba|da)?sh\b'; then
				echo "$file"
			fi
		done < <(find "$REPO/$dir" -type f ! -name '*.[choa]' ! -name '*.ko')
	done | LC_ALL=C sort
}

# Run checkpatch over the kernel sources; sets CP_FILES and CP_ISSUES.
run_checkpatch() {
	local -a files ignore=()
	local out

	mapfile -t files < <(kernel_sources)
	CP_FILES=${#files[@]}
	CP_ISSUES=0
	((CP_FILES)) || return 0
	fetch_checkpatch
	if ((${#CHECKPATCH_IGNORE[@]})); then
		ignore=(--ignore "$(
			IFS=,
			echo "${CHECKPATCH_IGNORE[*]}"
		)")
	fi
	out=$(cd "$REPO" && "$CHECKPATCH_DIR/checkpatch.pl" --strict --no-tree \
		--terse --show-types "${ignore[@]}" -f "${files[@]#"$REPO"/}" 2>&1) || true
	if [[ -n $out ]]; then
		grep -v -E '^total: 0 errors, 0 warnings' <<<"$out" || true
	fi
	CP_ISSUES=$(grep -c -E ': (ERROR|WARNING|CHECK):' <<<"$out") || true
}

# Run shellcheck over the scripts; sets SC_FILES and SC_ISSUES.
run_shellcheck() {
	local -a files
	local out

	mapfile -t files < <(shell_scripts)
	SC_FILES=${#files[@]}
	SC_ISSUES=0
	((SC_FILES)) || return 0
	command -v shellcheck >/dev/null || {
		echo "style: shellcheck not found; run scripts/deps.sh" >&2
		exit 2
	}
	# -x follows `source`; gcc format gives one line per finding.
	out=$(cd "$REPO" && shellcheck -x -f gcc "${files[@]#"$REPO"/}" 2>&1) || true
	[[ -z $out ]] || echo "$out"
	SC_ISSUES=$(grep -c -E ': (error|warning|note):' <<<"$out") || true
}

# sparse (C=2: every source file, whether or not it needs rebuilding) and
# the compiler's W=1 warnings on the module, against KDIR's build tree.
run_sparse() {
	local out

	SP_ISSUES=0
	if [[ -z ${KDIR:-} || ! -d $KDIR ]]; then
		echo "style: no kernel build tree (KDIR); run scripts/deps.sh" >&2
		exit 2
	fi
	command -v sparse >/dev/null || {
		echo "style: sparse not found; run scripts/deps.sh" >&2
		exit 2
	}
	out=$(make -s -C "$KDIR" M="$REPO" W=1 C=2 modules 2>&1 >/dev/null) ||
		SP_ISSUES=1
	[[ -z $out ]] || echo "$out"
	SP_ISSUES=$((SP_ISSUES + $(grep -c -E ': (error|warning):' <<<"$out"))) ||
		true
}

main() {
	run_checkpatch
	run_shellcheck
	run_sparse
	echo "style: checkpatch --strict: $CP_FILES files, $CP_ISSUES issues;" \
		"shellcheck: $SC_FILES scripts, $SC_ISSUES issues;" \
		"sparse and W=1: $SP_ISSUES issues"
	((CP_ISSUES == 0 && SC_ISSUES == 0 && SP_ISSUES == 0))
}

main "$@"
