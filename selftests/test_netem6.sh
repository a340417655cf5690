#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_netem6.sh - test_netem.sh over IPv6: TCP6 (the oracle) and xtcp's
# AF_INET6 sockets carry bulk transfers over the same lossy, duplicating,
# reordering veth link, every byte checked, and xtcp's retransmission
# counter must move in both namespaces. A test program of its own so
# that it has its own time limit in run.sh; the code is test_netem.sh's
# (see its header for the link, the knobs and the cases).

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec "$HERE/test_netem.sh" --ipv6
