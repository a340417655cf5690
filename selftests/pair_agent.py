#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""pair_agent.py - the server machine's side of scripts/run-pair.sh.

Runs on the server VM of the two-kernel lane (see selftests/pair.sh). It
serves, until told to quit or until its deadline:

  - an echo service on port 7 over TCP (6) and over xtcp (253): every
    connection gets back what it sends, and is closed after the peer's
    FIN, so that the peer closes first and holds the TIME_WAIT;
  - a control connection on TCP port 7000, one command a line, one reply
    line each (several such connections at once):

      xfer NETNS PROTO PORT CONNS BYTES
                        start "xtcp_xfer --server" in NETNS ("-": this
                        one); the reply "ready" comes once it listens
      wait PORT         "rc N": the exit status of that xtcp_xfer
      states PROTO PORT RPORT
                        "ST ST ..." or "none": the states (hex, as in
                        /proc/net/tcp) of this machine's sockets from local
                        port PORT to remote port RPORT
      flush             "ok" once the route caches of every namespace of
                        this machine are flushed: learnt path MTUs go
      silence SEC       "ok", then the link goes down for SEC seconds
      quit              "bye", and the agent exits 0

Usage: pair_agent.py XFER DEADLINE_S LINK_DEV
"""

import os
import socket
import subprocess
import sys
import threading
import time

XFER = sys.argv[1]
DEADLINE = time.monotonic() + float(sys.argv[2])
LINK = sys.argv[3]
IPPROTO_XTCP = 253
XFERS = {}


def log(*args):
    print("# agent:", *args, flush=True)


def echo_conn(conn):
    with conn:
        conn.settimeout(60)
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                conn.sendall(data)
        except OSError as err:
            log("echo:", err)


def echo_server(proto):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM, proto)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", 7))
    ls.listen(64)
    while True:
        conn, _ = ls.accept()
        threading.Thread(target=echo_conn, args=(conn,), daemon=True).start()


def states(proto, port, rport):
    name = "/proc/net/xtcp" if proto == IPPROTO_XTCP else "/proc/net/tcp"
    out = []
    with open(name) as f:
        next(f)
        for line in f:
            fields = line.split()
            if (int(fields[1].split(":")[1], 16) == port and
                    int(fields[2].split(":")[1], 16) == rport):
                out.append(fields[3])
    return " ".join(out) or "none"


def start_xfer(netns, proto, port, conns, nbytes):
    cmd = [XFER, "--server", "--proto", proto, "--port", port,
           "--conns", conns, "--bytes", nbytes, "--timeout", "150"]
    if netns != "-":
        cmd = ["ip", "netns", "exec", netns] + cmd
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    for line in proc.stdout:
        print("# xfer server:", line.rstrip(), flush=True)
        if "listening" in line:
            break
    XFERS[port] = proc
    return "ready"


def wait_xfer(port):
    proc = XFERS.pop(port)
    for line in proc.stdout:
        print("# xfer server:", line.rstrip(), flush=True)
    return "rc %d" % proc.wait()


def flush():
    for netns in ([], ["ip", "netns", "exec", "rt"],
                  ["ip", "netns", "exec", "far"]):
        subprocess.run(netns + ["ip", "route", "flush", "cache"], check=True)
    return "ok"


def silence(sec):
    def run():
        subprocess.run(["ip", "link", "set", LINK, "down"], check=True)
        log(LINK, "down")
        time.sleep(sec)
        subprocess.run(["ip", "link", "set", LINK, "up"], check=True)
        log(LINK, "up")
    threading.Thread(target=run, daemon=True).start()
    return "ok"


def control(conn):
    f = conn.makefile("rw")
    conn.settimeout(300)
    for line in f:
        words = line.split()
        log("command:", " ".join(words))
        if not words:
            continue
        if words[0] == "xfer":
            reply = start_xfer(*words[1:6])
        elif words[0] == "wait":
            reply = wait_xfer(words[1])
        elif words[0] == "states":
            reply = states(int(words[1]), int(words[2]), int(words[3]))
        elif words[0] == "flush":
            reply = flush()
        elif words[0] == "silence":
            reply = silence(float(words[1]))
        elif words[0] == "quit":
            f.write("bye\n")
            f.flush()
            return True
        else:
            reply = "unknown command"
        f.write(reply + "\n")
        f.flush()
    return False


def serve_control(conn):
    with conn:
        try:
            done = control(conn)
        except OSError as err:
            log("control:", err)
            return
    if done:
        log("done")
        os._exit(0)


def main():
    for proto in (socket.IPPROTO_TCP, IPPROTO_XTCP):
        threading.Thread(target=echo_server, args=(proto,),
                         daemon=True).start()
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", 7000))
    ls.listen(4)
    log("ready")
    while time.monotonic() < DEADLINE:
        ls.settimeout(max(DEADLINE - time.monotonic(), 0.1))
        try:
            conn, _ = ls.accept()
        except socket.timeout:
            break
        threading.Thread(target=serve_control, args=(conn,),
                         daemon=True).start()
    log("deadline passed without quit")
    os._exit(1)


main()
