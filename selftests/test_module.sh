#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The module itself: loaded by the runner, refuses to unload while a
# socket exists, unloads cleanly, accepts only proto=253 or 254, refuses a
# number another module owns, and loads on demand through its
# MODULE_ALIAS when socket() asks for protocol 253. xtcp.ko does not
# depend on inet_diag; xtcp_diag.ko, the sock_diag handler, is loaded by
# inet_diag on the first request for protocol 253 and holds xtcp.ko.
#
# This unloads the module every other test needs: it is loaded again
# before the test ends, whatever happens. Needs root; selftests/run.sh
# gives it namespaces of its own; /lib/modules is a writable overlay in
# the test VM (scripts/guest-init.sh).

set -uo pipefail

# shellcheck source=selftests/lib.sh
source "${XTCP_LIB:-$(dirname "$0")/lib.sh}"

HERE=$(cd "$(dirname "$0")" && pwd)
MODULE=${XTCP_MODULE:-$HERE/../xtcp.ko}
SQUAT=$HERE/xtcp_squat.ko
DIAG=${XTCP_DIAG_MODULE:-$(dirname "$MODULE")/xtcp_diag.ko}
MODDIR=/lib/modules/$(uname -r)
EXTRA=$MODDIR/extra
SAVED=$(mktemp -d)

log() {
	echo "# $*"
}

# Leave the machine as found: no helper module, no installed copy, our
# module loaded with the default number.
# shellcheck disable=SC2317 # run by the EXIT trap
restore() {
	rmmod xtcp_squat 2>/dev/null
	rmmod xtcp_diag 2>/dev/null
	if [[ -e $EXTRA/xtcp.ko ]]; then
		rm -f "$EXTRA/xtcp.ko" "$EXTRA/xtcp_diag.ko"
		# The indexes as they were before the copy: quicker than a
		# second depmod -a over the whole tree.
		if compgen -G "$SAVED/modules.*" >/dev/null; then
			cp -p "$SAVED"/modules.* "$MODDIR"/
		else
			depmod -a
		fi
	fi
	rm -rf "$SAVED"
	if [[ -d /sys/module/xtcp ]] &&
	   [[ $(cat /sys/module/xtcp/parameters/proto) != 253 ]]; then
		rmmod xtcp
	fi
	[[ -d /sys/module/xtcp ]] || insmod "$MODULE" ||
		log "could not load $MODULE again"
}
trap restore EXIT

# try_socket PROTO: exit status 0 if socket(AF_INET, SOCK_STREAM, PROTO)
# works; prints the errno name otherwise.
try_socket() {
	python3 - "$1" <<'PY'
import errno, socket, sys
try:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, int(sys.argv[1]))
    assert s.getsockopt(socket.SOL_SOCKET, socket.SO_PROTOCOL) == int(sys.argv[1])
except OSError as e:
    print(errno.errorcode[e.errno])
    sys.exit(1)
PY
}

unload() {
	rmmod xtcp && wait_for '[[ ! -d /sys/module/xtcp ]]' 5000
}

# diag_dump PROTO: exit status 0 if a NETLINK_SOCK_DIAG dump of AF_INET
# sockets of protocol PROTO succeeds; prints the errno name otherwise.
diag_dump() {
	python3 - "$1" <<'PY'
import errno, socket, struct, sys
NETLINK_SOCK_DIAG, SOCK_DIAG_BY_FAMILY = 4, 20
NLMSG_ERROR, NLMSG_DONE = 2, 3
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_SOCK_DIAG)
# struct inet_diag_req_v2: family, protocol, ext, pad, states, sockid
req = struct.pack("=BBBBI", socket.AF_INET, int(sys.argv[1]), 0, 0,
                  0xffffffff) + bytes(48)
# NLM_F_REQUEST | NLM_F_DUMP
s.send(struct.pack("=IHHII", 16 + len(req), SOCK_DIAG_BY_FAMILY,
                   0x301, 1, 0) + req)
while True:
    data = s.recv(1 << 16)
    off = 0
    while off < len(data):
        length, kind = struct.unpack_from("=IH", data, off)
        if kind in (NLMSG_ERROR, NLMSG_DONE):
            err = struct.unpack_from("=i", data, off + 16)[0]
            if err:
                print(errno.errorcode[-err])
            sys.exit(1 if err else 0)
        off += (length + 3) & ~3
PY
}

ktap_plan 12

# Loadable with a plain insmod: no dependency on inet_diag or anything.
deps=$(modinfo -F depends "$MODULE")
if [[ -z $deps ]] && [[ $(modinfo -F depends "$DIAG") == *xtcp* ]]; then
	ktap_ok no_dependencies
else
	ktap_fail no_dependencies "xtcp.ko depends on '$deps'"
fi

if [[ -d /sys/module/xtcp ]] && grep -q '^XTCP ' /proc/net/protocols &&
   [[ $(cat /sys/module/xtcp/parameters/proto) == 253 ]] &&
   try_socket 253; then
	ktap_ok loaded_and_socket_253
else
	ktap_fail loaded_and_socket_253
fi

# A socket holds a module reference: rmmod must fail until it is closed.
if python3 - <<'PY'
import socket, subprocess, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 253)
busy = subprocess.run(["rmmod", "xtcp"], capture_output=True)
if busy.returncode == 0:
    sys.exit("rmmod succeeded with a socket open")
s.close()
PY
then
	ktap_ok rmmod_refused_with_socket_open
else
	ktap_fail rmmod_refused_with_socket_open
fi

if unload && [[ ! -e /proc/sys/net/xtcp ]] && [[ ! -e /proc/net/xtcp ]] &&
   ! grep -q '^XTCP ' /proc/net/protocols; then
	ktap_ok unload_removes_everything
else
	ktap_fail unload_removes_everything
fi

# Only the RFC 3692 numbers; never TCP's, UDP's or anything else.
refused=1
for p in 6 17 0 252 255 -1; do
	if insmod "$MODULE" "proto=$p" 2>/dev/null; then
		log "proto=$p was accepted"
		refused=0
		rmmod xtcp
	fi
done
if ((refused)) && dmesg | grep -q 'xtcp: proto=6 refused'; then
	ktap_ok other_numbers_refused
else
	ktap_fail other_numbers_refused
fi

# proto=254 serves 254 and only 254.
if insmod "$MODULE" proto=254 && try_socket 254 &&
   [[ $(try_socket 253) == EPROTONOSUPPORT ]]; then
	ktap_ok proto_254
else
	ktap_fail proto_254
fi
[[ -d /sys/module/xtcp ]] && unload

# A number another module owns: loading fails cleanly, the other works.
if insmod "$SQUAT" proto=253; then
	if ! insmod "$MODULE" 2>/dev/null && [[ ! -d /sys/module/xtcp ]] &&
	   dmesg | grep -q 'xtcp: IP protocol 253 is already registered' &&
	   insmod "$MODULE" proto=254 && try_socket 254; then
		ktap_ok number_taken_refused
	else
		ktap_fail number_taken_refused
	fi
	[[ -d /sys/module/xtcp ]] && unload
	rmmod xtcp_squat
else
	ktap_fail number_taken_refused "cannot load $SQUAT"
fi

# socket() loads the module through its alias once it is installed.
mkdir -p "$EXTRA"
cp -p "$MODDIR"/modules.* "$SAVED"/
cp "$MODULE" "$EXTRA/xtcp.ko"
cp "$DIAG" "$EXTRA/xtcp_diag.ko"
depmod -a
if modinfo -F alias xtcp | grep -qx 'net-pf-2-proto-253-type-1' &&
   [[ ! -d /sys/module/xtcp ]] && try_socket 253 &&
   [[ -d /sys/module/xtcp ]]; then
	ktap_ok autoload_on_socket
else
	ktap_fail autoload_on_socket
fi

# A sock_diag request for protocol 253 has inet_diag load xtcp_diag
# through its alias, as "ss" has tcp_diag loaded.
if modinfo -F alias xtcp_diag | grep -qx 'net-pf-16-proto-4-type-2-253' &&
   [[ ! -d /sys/module/xtcp_diag ]] && diag_dump 253 &&
   [[ -d /sys/module/xtcp_diag ]]; then
	ktap_ok diag_autoload
else
	ktap_fail diag_autoload
fi

# xtcp_diag uses xtcp's symbols: xtcp stays until it is removed.
if [[ -d /sys/module/xtcp_diag ]] && ! rmmod xtcp 2>/dev/null &&
   [[ -d /sys/module/xtcp ]] && rmmod xtcp_diag &&
   [[ ! -d /sys/module/xtcp_diag ]]; then
	ktap_ok diag_holds_module
else
	ktap_fail diag_holds_module
fi

# The autoloaded copy is the same file; unloading it works too, and the
# test ends with the module from the build loaded (restore()).
if unload; then
	ktap_ok autoloaded_module_unloads
else
	ktap_fail autoloaded_module_unloads
fi

# modprobe xtcp_diag, as after "make install", loads xtcp first; with
# proto=254 the handler serves 254.
if modprobe xtcp proto=254 && modprobe xtcp_diag && diag_dump 254 &&
   [[ $(diag_dump 253) == ENOENT ]] && rmmod xtcp_diag && unload; then
	ktap_ok diag_modprobe_254
else
	ktap_fail diag_modprobe_254
fi

ktap_finished
