#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Small xtcp client/server exchanges for the demo.

  xtcp_demo.py echo PORT            one echo exchange; prints what it sees
  xtcp_demo.py churn PORT COUNT     COUNT short connections, client closes
                                    first, so each leaves a TIME_WAIT entry
"""

import os
import socket
import sys


def module_proto():
    """The protocol number the loaded module uses (its proto= parameter)."""
    try:
        with open("/sys/module/xtcp/parameters/proto") as f:
            return int(f.read())
    except (OSError, ValueError):
        return 253


IPPROTO_XTCP = module_proto()
# tm->when in /proc/net/xtcp counts clock ticks, as in /proc/net/tcp.
TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def proc_lines():
    with open("/proc/net/xtcp") as f:
        return f.read().rstrip("\n").split("\n")


STATES = {
    "01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RCVD",
    "04": "FIN_WAIT_1", "05": "FIN_WAIT_2", "06": "TIME_WAIT",
    "07": "CLOSED", "08": "CLOSE_WAIT", "09": "LAST_ACK", "0A": "LISTEN",
    "0B": "CLOSING",
}


def addr(hexaddr):
    ip, port = hexaddr.split(":")
    raw = bytes.fromhex(ip)[::-1]
    return "%s:%d" % (socket.inet_ntoa(raw), int(port, 16))


def show(title):
    print("--- /proc/net/xtcp: %s" % title)
    lines = proc_lines()
    print(lines[0])
    for line in lines[1:]:
        f = line.split()
        timer = f[5]
        tr, when = timer.split(":")
        print("%s    # %s -> %s %s%s" % (
            line, addr(f[1]), addr(f[2]), STATES.get(f[3], f[3]),
            "" if tr == "00" else ", timer %s: %d ms left" % (
                tr, int(when, 16) * 1000 // TICKS_PER_S)))


def listener(port):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_XTCP)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(128)
    return ls


def echo(port):
    ls = listener(port)
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_XTCP)
    c.settimeout(10)
    c.connect(("127.0.0.1", port))
    s, peer = ls.accept()
    print("client %s connected to server %s over IP protocol %d" %
          (c.getsockname(), c.getpeername(),
           c.getsockopt(socket.SOL_SOCKET, socket.SO_PROTOCOL)))
    c.sendall(b"hello over protocol %d" % IPPROTO_XTCP)
    msg = s.recv(100)
    s.sendall(msg.upper())
    print("server got %r, client got back %r" % (msg, c.recv(100)))
    show("both ends ESTABLISHED")
    c.close()
    s.recv(1)
    show("client closed first: FIN_WAIT_2 and CLOSE_WAIT")
    s.close()
    ls.close()
    show("both closed: only the active closer is in TIME_WAIT")


def churn(port, count):
    ls = listener(port)
    for _ in range(count):
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_XTCP)
        c.settimeout(10)
        c.connect(("127.0.0.1", port))
        s, _ = ls.accept()
        c.sendall(b"x")
        s.recv(1)
        c.close()
        s.recv(1)
        s.close()
    ls.close()


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "echo":
        echo(int(sys.argv[2]))
    elif len(sys.argv) >= 4 and sys.argv[1] == "churn":
        churn(int(sys.argv[2]), int(sys.argv[3]))
    elif len(sys.argv) >= 2 and sys.argv[1] == "show":
        show(" ".join(sys.argv[2:]) or "now")
    else:
        print(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
