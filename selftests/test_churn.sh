#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Churn around the module's life:
#  1. rmmod with established connections held by a process and TIME_WAIT
#     entries: refused while the process lives; once it is killed and no
#     socket is left, rmmod succeeds with the entries still there, and
#     the slab caches go with the module; loaded again, it works.
#  2. CHURN_NETNS network namespaces created and destroyed, each with a
#     listener, established connections with data in flight and TIME_WAIT
#     entries when its name is deleted and its last process killed;
#     afterwards no socket is left anywhere and the module still works.
#  3. rmmod/insmod racing socket(AF_INET, SOCK_STREAM, 253) with the
#     module installed, so that socket() may load it through its alias:
#     socket() succeeds or fails with EPROTONOSUPPORT, nothing else.
#
# The kernel log must stay clean (selftests/run.sh checks it). This
# unloads the module every other test needs: it is loaded again before
# the test ends, whatever happens. Needs root; selftests/run.sh gives it
# namespaces of its own; /lib/modules is a writable overlay in the test VM
# (scripts/guest-init.sh).

set -uo pipefail

# shellcheck source=selftests/lib.sh
source "${XTCP_LIB:-$(dirname "$0")/lib.sh}"

CHURN_NETNS=${XTCP_CHURN_NETNS:-20}
RACE_ROUNDS=${XTCP_CHURN_RACE:-30}
HERE=$(cd "$(dirname "$0")" && pwd)
MODULE=${XTCP_MODULE:-$HERE/../xtcp.ko}
MODDIR=/lib/modules/$(uname -r)
EXTRA=$MODDIR/extra
NS=xtcp-churn-$$
PROTO=253
HOLDER=
SOCKLOOP=
WORK=$(mktemp -d)

log() {
	echo "# $*"
}

# uninstall: remove the installed copy and put back the module indexes
# saved before it was installed (quicker than a second depmod -a over the
# whole tree, which takes minutes on a loaded host).
uninstall() {
	rm -f "$EXTRA/xtcp.ko"
	if compgen -G "$WORK/modules.*" >/dev/null; then
		cp -p "$WORK"/modules.* "$MODDIR"/
	else
		depmod -a
	fi
}

# Leave the machine as found: no background process, no namespace, no
# installed copy, the module loaded with the number it had.
# shellcheck disable=SC2317 # run by the EXIT trap
restore() {
	[[ -n $HOLDER ]] && kill -9 "$HOLDER" 2>/dev/null
	[[ -n $SOCKLOOP ]] && kill -9 "$SOCKLOOP" 2>/dev/null
	wait 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	[[ ! -e $EXTRA/xtcp.ko ]] || uninstall
	if [[ -d /sys/module/xtcp ]] &&
	   [[ $(cat /sys/module/xtcp/parameters/proto) != "$PROTO" ]]; then
		rmmod xtcp
	fi
	[[ -d /sys/module/xtcp ]] || insmod "$MODULE" "proto=$PROTO" ||
		log "could not load $MODULE again"
	rm -rf "$WORK"
}
trap restore EXIT

# counter NAME [NETNS]
# shellcheck disable=SC2016 # an awk program
counter() {
	_xtcp_in_netns "${2:-}" awk -v name="Xtcp$1" '$1 == name { print $2 }' \
		/proc/net/xtcp_stats
}

# count_state ST [NETNS]: sockets in /proc/net/xtcp in state ST (hex).
# shellcheck disable=SC2016 # an awk program
count_state() {
	_xtcp_in_netns "${2:-}" awk -v st="$1" \
		'NR > 1 && $4 == st { n++ } END { print n + 0 }' /proc/net/xtcp
}

slab_listed() {
	grep -q -E '^(XTCP|xtcp_tw) ' /proc/slabinfo
}

# The workload of a namespace, in Python: a listener, NCONN established
# connections with unread data both ways, NTW TIME_WAIT entries (the
# client closes first). Writes "ready" to the file READY, then holds
# everything until killed. Usage: python3 - PROTO NCONN NTW READY
HOLD_PY='
import os, socket, sys, time

proto, nconn, ntw, ready = int(sys.argv[1]), int(sys.argv[2]), \
	int(sys.argv[3]), sys.argv[4]
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM, proto)
ls.bind(("127.0.0.1", 0))
ls.listen(64)
addr = ls.getsockname()
for i in range(ntw):
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM, proto)
    c.connect(addr)
    s, _ = ls.accept()
    c.close()
    if s.recv(1) != b"":
        sys.exit("connection %d: data instead of EOF" % i)
    s.close()
held = []
for i in range(nconn):
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM, proto)
    c.connect(addr)
    s, _ = ls.accept()
    c.sendall(b"x" * 1000)
    s.sendall(b"y" * 1000)
    held += [c, s]
with open(ready + ".tmp", "w") as f:
    f.write("ready\n")
os.rename(ready + ".tmp", ready)
while True:
    time.sleep(3600)
'

ktap_plan 8

if [[ ! -d /sys/module/xtcp || ! -r $MODULE ]]; then
	for name in refused_while_held rmmod_with_entries slabs_gone \
		    reload_works netns_churn nothing_left race_socket_rmmod \
		    loaded_and_working; do
		ktap_skip "$name" "xtcp is not loaded or $MODULE is missing"
	done
	ktap_finished
fi
PROTO=$(cat /sys/module/xtcp/parameters/proto)

# --- 1. rmmod with connections and TIME_WAIT entries -----------------

ip netns add "$NS"
ip -n "$NS" link set lo up
xtcp_sysctl_set msl 600000 "$NS"	# nothing expires meanwhile
xtcp_sysctl_set max_tw_buckets 1000 "$NS"
ip netns exec "$NS" python3 -c "$HOLD_PY" "$PROTO" 8 20 "$WORK/ready" &
HOLDER=$!
if wait_for "[[ -e $WORK/ready ]]" 60000; then
	est=$(count_state 01 "$NS")
	tw=$(counter TimeWait "$NS")
	log "held: $est established, $tw TIME_WAIT entries"
	if ! rmmod xtcp 2>/dev/null && [[ -d /sys/module/xtcp ]] &&
	   ((est == 16 && tw == 20)) && slab_listed; then
		ktap_ok refused_while_held
	else
		ktap_fail refused_while_held "rmmod succeeded, or not all held"
	fi
else
	ktap_fail refused_while_held "the holder never got ready"
fi

kill -9 "$HOLDER"
wait "$HOLDER" 2>/dev/null
HOLDER=
# Closed sockets are freed after an RCU grace period, each holding the
# module until then; the connections' RSTs end their peers at once.
if wait_for 'rmmod xtcp 2>/dev/null' 30000; then
	ktap_ok rmmod_with_entries
else
	log "$(rmmod xtcp 2>&1)"
	log "$(grep '^xtcp ' /proc/modules)"
	ktap_fail rmmod_with_entries
fi

if [[ ! -d /sys/module/xtcp ]] && ! slab_listed &&
   [[ ! -e /sys/kernel/slab/xtcp_tw && ! -e /sys/kernel/slab/XTCP ]]; then
	ktap_ok slabs_gone
else
	log "$(grep -E '^(XTCP|xtcp_tw) ' /proc/slabinfo)"
	ktap_fail slabs_gone
fi
ip netns del "$NS"

if { [[ -d /sys/module/xtcp ]] || insmod "$MODULE" "proto=$PROTO"; } &&
   [[ $(counter TimeWait) == 0 ]] && echo_works "$PROTO"; then
	ktap_ok reload_works
else
	ktap_fail reload_works
fi

# --- 2. Namespaces come and go with everything in them ---------------

CHURN_PY='
import ctypes, os, signal, subprocess, sys, time

proto, rounds, prefix, hold = int(sys.argv[1]), int(sys.argv[2]), \
	sys.argv[3], sys.argv[4]
libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000

def ip(*args):
    subprocess.run(["ip"] + list(args), check=True)

for i in range(rounds):
    name = "%s-%d" % (prefix, i)
    ready = "/tmp/%s.ready" % name
    ip("netns", "add", name)
    ip("-n", name, "link", "set", "lo", "up")
    pid = os.fork()
    if pid == 0:
        fd = os.open("/run/netns/" + name, os.O_RDONLY)
        if libc.setns(fd, CLONE_NEWNET):
            os._exit(1)
        with open("/proc/sys/net/xtcp/msl", "w") as f:
            f.write("600000")
        sys.argv = ["hold", str(proto), str(1 + i % 3), str(i % 5), ready]
        try:
            exec(hold)
        finally:
            os._exit(1)
    deadline = time.monotonic() + 30
    while not os.path.exists(ready):
        if os.waitpid(pid, os.WNOHANG)[0] or time.monotonic() > deadline:
            sys.exit("round %d: the namespace workload failed" % i)
        time.sleep(0.01)
    os.unlink(ready)
    # Its name goes, then its last process: the namespace is torn down
    # with the listener, the connections and the entries in it.
    ip("netns", "del", name)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
print("# %d namespaces" % rounds)
'

start=$(_xtcp_now_ms)
if python3 -c "$CHURN_PY" "$PROTO" "$CHURN_NETNS" "$NS" "$HOLD_PY"; then
	log "$CHURN_NETNS namespaces in $(($(_xtcp_now_ms) - start)) ms"
	ktap_ok netns_churn
else
	ktap_fail netns_churn
fi

# Every namespace goes (asynchronously): then no socket holds the module.
# shellcheck disable=SC2016 # evaluated by wait_for
if wait_for '[[ $(cat /sys/module/xtcp/refcnt) == 0 ]]' 60000 &&
   echo_works "$PROTO"; then
	ktap_ok nothing_left
else
	log "refcnt $(cat /sys/module/xtcp/refcnt 2>&1)"
	ktap_fail nothing_left
fi

# --- 3. rmmod and insmod racing socket() -----------------------------

# Installed, socket() loads the module through its alias when it is not
# there (test_module.sh checks that this works).
mkdir -p "$EXTRA"
cp -p "$MODDIR"/modules.* "$WORK"/
cp "$MODULE" "$EXTRA/xtcp.ko"
depmod -a

SOCK_PY='
import errno, os, socket, sys, time

proto, stop = int(sys.argv[1]), sys.argv[2]
ok = refused = 0
deadline = time.monotonic() + 120
while not os.path.exists(stop) or ok == 0:
    if time.monotonic() > deadline:
        sys.exit("socket(): never created one")
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, proto)
        s.bind(("127.0.0.1", 0))
        s.close()
        ok += 1
        # Bursts with short gaps: rmmod finds the module unused at times,
        # and the next socket() loads it again through its alias.
        if ok % 8 == 0:
            time.sleep(0.05)
    except OSError as e:
        if e.errno != errno.EPROTONOSUPPORT:
            sys.exit("socket(): %s" % os.strerror(e.errno))
        refused += 1
print("# socket(): %d created, %d EPROTONOSUPPORT" % (ok, refused))
'
python3 -c "$SOCK_PY" "$PROTO" "$WORK/stop" &
SOCKLOOP=$!
unloads=0
loads=0
for ((i = 0; i < RACE_ROUNDS; i++)); do
	rmmod xtcp 2>/dev/null && unloads=$((unloads + 1))
	insmod "$MODULE" 2>/dev/null && loads=$((loads + 1))
done
touch "$WORK/stop"
wait "$SOCKLOOP"
rc=$?
SOCKLOOP=
log "$RACE_ROUNDS rounds: $unloads unloads, $loads loads by insmod"
if ((rc == 0 && unloads > 0)); then
	ktap_ok race_socket_rmmod
else
	ktap_fail race_socket_rmmod "socket loop status $rc, $unloads unloads"
fi

uninstall
if { [[ -d /sys/module/xtcp ]] || insmod "$MODULE" "proto=$PROTO"; } &&
   grep -q '^XTCP ' /proc/net/protocols && echo_works "$PROTO"; then
	ktap_ok loaded_and_working
else
	ktap_fail loaded_and_working
fi

ktap_finished
