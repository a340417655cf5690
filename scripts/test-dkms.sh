#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build and install xtcp through DKMS into a scratch tree, against the test
# VM's kernel (the newest installed Debian 6.12 build tree), then boot the
# VM with the DKMS-built modules and check that they load, xtcp reports the
# version from the VERSION file and serves socket(AF_INET, SOCK_STREAM, 253).
# Also checks that make deb's package holds dkms.conf and the sources.
# Needs dkms on the host (scripts/deps.sh); writes only under the scratch
# directory. Run by `make check-dkms`.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
KVER=${KVER:-$(find /lib/modules -maxdepth 1 -name '6.12.*[0-9]-amd64' \
	-printf '%f\n' | sort -V | tail -n 1)}
KDIR=${KDIR:-/lib/modules/$KVER/build}
VERSION=$(cat "$TOP/VERSION")
SCRATCH=$BUILD/dkms

die() { echo "test-dkms: $*" >&2; exit 1; }

command -v dkms >/dev/null || die "dkms not installed; run scripts/deps.sh"
[[ -d $KDIR ]] || die "no kernel build tree $KDIR"

rm -rf "$SCRATCH"
mkdir -p "$SCRATCH/tree" "$SCRATCH/install/$KVER"
make -s -C "$TOP" DKMS_SRC="$SCRATCH/src/xtcp-$VERSION" dkms-src

dk=(--dkmstree "$SCRATCH/tree" --sourcetree "$SCRATCH/src"
    --installtree "$SCRATCH/install" -k "$KVER" --kernelsourcedir "$KDIR")
dkms add "${dk[@]}" "xtcp/$VERSION"
dkms build "${dk[@]}" "xtcp/$VERSION"
dkms install --force "${dk[@]}" "xtcp/$VERSION"
dkms status "${dk[@]}" "xtcp/$VERSION"

KO=$(find "$SCRATCH/install" -name 'xtcp.ko*' | head -n 1)
[[ -n $KO ]] || die "dkms installed no xtcp.ko under $SCRATCH/install"
case $KO in
*.xz) xz -dkf "$KO"; KO=${KO%.xz} ;;
*.zst) zstd -qdf "$KO"; KO=${KO%.zst} ;;
esac
DIAG=$(find "$SCRATCH/install" -name 'xtcp_diag.ko*' | head -n 1)
[[ -n $DIAG ]] || die "dkms installed no xtcp_diag.ko under $SCRATCH/install"
case $DIAG in
*.xz) xz -dkf "$DIAG"; DIAG=${DIAG%.xz} ;;
*.zst) zstd -qdf "$DIAG"; DIAG=${DIAG%.zst} ;;
esac
got=$(modinfo -F version "$KO")
[[ $got == "$VERSION" ]] || die "modinfo version '$got', VERSION file '$VERSION'"
echo "test-dkms: $KO version $got"

# The package carries dkms.conf and the sources.
make -s -C "$TOP" BUILD="$BUILD" deb >/dev/null
deb=$BUILD/xtcp-dkms_${VERSION}_all.deb
list=$(dpkg-deb -c "$deb")
for f in dkms.conf Kbuild VERSION module/main.c include/uapi/linux/xtcp.h; do
	grep -q "usr/src/xtcp-$VERSION/$f\$" <<<"$list" ||
		die "$deb lacks usr/src/xtcp-$VERSION/$f"
done
# dh_dkms wrote the scripts that register the sources with dkms.
dpkg-deb -I "$deb" postinst | grep -q 'DKMS_NAME=xtcp' ||
	die "$deb: no dh_dkms postinst"
dpkg-deb -f "$deb" Depends | grep -q dkms || die "$deb: no dependency on dkms"
echo "test-dkms: $(basename "$deb") has dkms.conf, the sources and dh_dkms's scripts"

"$TOP/scripts/vm.sh" --timeout 120 --module "$KO" -- bash -c "
	set -e
	v=\$(cat /sys/module/xtcp/version)
	[[ \$v == $VERSION ]] || { echo \"version \$v\"; exit 1; }
	python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_STREAM, 253).close()'
	echo 'test-dkms: guest: xtcp' \$v 'loaded, socket(AF_INET, SOCK_STREAM, 253) ok'
	modprobe inet_diag
	insmod $DIAG
	rmmod xtcp_diag
	echo 'test-dkms: guest: xtcp_diag loaded and unloaded'
"
echo "test-dkms: PASS"
