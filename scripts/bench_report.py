#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the JSON of "xtcp_bench suite" into the benchmark report.

  bench_report.py RAW.json OUTDIR [--vm TEXT] [--date YYYY-MM-DD]

Prints one table with Linux TCP, xtcp and the ratio xtcp/TCP for every
workload, checks each goal (PASS or MISS) and writes OUTDIR/results.json
and OUTDIR/bench.png. Missing goals are reported, never an error: the exit
status is 1 only when the raw results are missing or a workload failed.
"""

import argparse
import datetime
import json
import sys
import textwrap

# (key in the raw results, label, unit, how to read the value)
THROUGHPUT = [
    ("bulk_64k", "bulk transfer, 64 KiB writes", "Gbit/s"),
    ("bulk_1m", "bulk transfer, 1 MiB writes", "Gbit/s"),
    ("rr", "1-byte request/response", "transactions/s"),
    ("crr_server_close", "connect+rr+close, server closes first",
     "connections/s"),
    ("crr_client_close", "connect+rr+close, client closes first",
     "connections/s"),
    ("rr_same_cpu", "1-byte request/response, one CPU", "transactions/s"),
    ("bulk_64k_unpinned", "bulk transfer, 64 KiB writes, unpinned",
     "Gbit/s"),
    ("rr_unpinned", "1-byte request/response, unpinned", "transactions/s"),
]

# Goals: ratio xtcp/TCP at least this much.
RATIO_GOALS = {
    "bulk_64k": 1.0,
    "bulk_1m": 1.0,
    "rr": 1.0,
    "crr_server_close": 1.2,
    "crr_client_close": 1.2,
    "rr_same_cpu": 1.0,
    "bulk_64k_unpinned": 1.0,
    "rr_unpinned": 1.0,
}
# The same over IPv6 on ::1, TCP6 against xtcp's AF_INET6 sockets: for
# reference, no goals.
IPV6 = [
    ("bulk_64k_v6", "IPv6: bulk transfer, 64 KiB writes", "Gbit/s"),
    ("rr_v6", "IPv6: 1-byte request/response", "transactions/s"),
    ("crr_client_close_v6",
     "IPv6: connect+rr+close, client closes first", "connections/s"),
]
# Unmodified programs, xtcp under xtcpize run; no goals.
APPS = [
    ("iperf3", "iperf3, one stream", "Gbit/s"),
    ("nginx_close", "nginx + ab, one connection per request",
     "requests/s"),
    ("nginx_keepalive", "nginx + ab, keep-alive", "requests/s"),
]
# iperf3 between two namespaces over a veth pair with MTU 1500, xtcp under
# xtcpize run: (key, label, unit, goal for xtcp/TCP).
LINK = [
    ("veth_1500", "iperf3 over veth, MTU 1500", "Gbit/s", 0.8),
    ("veth_1500_nooffload",
     "  the same, TSO/GSO/GRO off on the veths", "Gbit/s", 1.0),
    ("loss_1", "  through netem, 10 ms RTT, 1 % loss", "Gbit/s", 0.9),
    ("loss_5", "  through netem, 10 ms RTT, 5 % loss", "Gbit/s", 0.9),
]
TW_ENTRY_MAX = 128          # bytes per TIME_WAIT entry
TW_RATE_MIN = 0.95          # rate with the entries / rate without


def fmt(val, unit):
    if val is None:
        return "-"
    if unit == "Gbit/s":
        return f"{val:.2f}" if val >= 1 else f"{val:.3f}"
    if unit == "ratio":
        return f"{val:.3f}"
    if unit == "bytes":
        return f"{val:.0f}"
    return f"{val:,.0f}"


def get(raw, workload, proto, *path):
    """raw["results"][workload][proto][path...], None when absent."""
    node = raw.get("results", {}).get(workload, {}).get(proto)
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def build_rows(raw):
    """One row per line of the table: label, unit, TCP, xtcp, ratio, goal."""
    rows = []
    for key, label, unit in THROUGHPUT:
        tcp = get(raw, key, "tcp", "value")
        xtcp = get(raw, key, "xtcp", "value")
        r = ratio(xtcp, tcp)
        goal = RATIO_GOALS[key]
        # Which placement the scheduler gave a ping-pong: the share of
        # answers read on the CPU they were sent from.
        tshare = get(raw, key, "tcp", "same_cpu")
        xshare = get(raw, key, "xtcp", "same_cpu")
        if key.endswith("_unpinned") and None not in (tshare, xshare):
            label = (f"{label} (same CPU: TCP {tshare:.0%}, "
                     f"xtcp {xshare:.0%})")
        rows.append({
            "key": key, "label": label, "unit": unit, "tcp": tcp,
            "xtcp": xtcp, "ratio": r,
            "goal": f"xtcp/TCP >= {goal}",
            "status": None if r is None else ("PASS" if r >= goal else "MISS"),
        })

    ntw = get(raw, "twrate", "xtcp", "tw_entries_loaded")
    tw_label = f"{ntw:,}" if ntw else "N"
    for field, label in (("rate_none", "connect+rr+close, no TIME_WAIT"),
                         ("rate_loaded",
                          f"connect+rr+close, {tw_label} TIME_WAIT")):
        tcp = get(raw, "twrate", "tcp", field)
        xtcp = get(raw, "twrate", "xtcp", field)
        rows.append({
            "key": "twrate_" + field, "label": label,
            "unit": "connections/s", "tcp": tcp, "xtcp": xtcp,
            "ratio": ratio(xtcp, tcp), "goal": None, "status": None,
        })
    tcp = get(raw, "twrate", "tcp", "value")
    xtcp = get(raw, "twrate", "xtcp", "value")
    rows.append({
        "key": "twrate", "label": "  rate with TIME_WAIT / without",
        "unit": "ratio", "tcp": tcp, "xtcp": xtcp,
        "ratio": ratio(xtcp, tcp), "goal": f"xtcp >= {TW_RATE_MIN}",
        "status": None if xtcp is None else
        ("PASS" if xtcp >= TW_RATE_MIN else "MISS"),
    })

    for key, label, src, field in (
            ("sock_objsize", "socket object (slab objsize)", "sockmem",
             "objsize"),
            ("sock_bytes", "  slab bytes per socket (measured)", "sockmem",
             "bytes_per_socket"),
            ("tw_objsize", "TIME_WAIT entry (slab objsize)", "twrate",
             ("tw_memory", "objsize")),
            ("tw_bytes", "  slab bytes per entry (measured)", "twrate",
             ("tw_memory", "slab_bytes_per_entry"))):
        path = field if isinstance(field, tuple) else (field,)
        tcp = get(raw, src, "tcp", *path)
        xtcp = get(raw, src, "xtcp", *path)
        row = {"key": key, "label": label, "unit": "bytes", "tcp": tcp,
               "xtcp": xtcp, "ratio": ratio(xtcp, tcp), "goal": None,
               "status": None}
        if key == "tw_objsize":
            row["goal"] = f"xtcp <= {TW_ENTRY_MAX} bytes"
            row["status"] = None if xtcp is None else \
                ("PASS" if xtcp <= TW_ENTRY_MAX else "MISS")
        rows.append(row)

    for key, label, unit in IPV6:
        tcp = get(raw, key, "tcp", "value")
        xtcp = get(raw, key, "xtcp", "value")
        rows.append({"key": key, "label": label, "unit": unit, "tcp": tcp,
                     "xtcp": xtcp, "ratio": ratio(xtcp, tcp),
                     "goal": None, "status": None,
                     "note": "reference only"})
    for key, label, unit in APPS:
        tcp = get(raw, key, "tcp", "value")
        xtcp = get(raw, key, "xtcp", "value")
        rows.append({"key": key, "label": label, "unit": unit, "tcp": tcp,
                     "xtcp": xtcp, "ratio": ratio(xtcp, tcp), "goal": None,
                     "status": None})
    for key, label, unit, goal in LINK:
        tcp = get(raw, key, "tcp", "value")
        xtcp = get(raw, key, "xtcp", "value")
        r = ratio(xtcp, tcp)
        rows.append({"key": key, "label": label, "unit": unit, "tcp": tcp,
                     "xtcp": xtcp, "ratio": r,
                     "goal": f"xtcp/TCP >= {goal}",
                     "status": None if r is None else
                     ("PASS" if r >= goal else "MISS")})
    return rows


def print_table(rows, header):
    print(header)
    width = max(len(r["label"]) + len(r["unit"]) + 3 for r in rows)
    print(f"{'workload':<{width}} {'TCP':>12} {'xtcp':>12} {'xtcp/TCP':>9}"
          f"  goal")
    for r in rows:
        name = f"{r['label']} ({r['unit']})"
        goal = ""
        if r["goal"]:
            goal = f"{r['goal']:<22} {r['status'] or 'n/a'}"
        elif r.get("note"):
            goal = r["note"]
        print(f"{name:<{width}} {fmt(r['tcp'], r['unit']):>12} "
              f"{fmt(r['xtcp'], r['unit']):>12} "
              f"{fmt(r['ratio'], 'ratio') if r['ratio'] else '-':>9}  {goal}")
    goals = [r for r in rows if r["goal"]]
    met = sum(r["status"] == "PASS" for r in goals)
    print(f"goals met: {met} of {len(goals)}")


def plot(rows, header, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    speed = [r for r in rows if r["key"] in RATIO_GOALS or
             r["key"] in ("twrate_rate_loaded", "twrate")]
    mem = [r for r in rows if r["key"] in ("sock_objsize", "tw_objsize")]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5),
                                   gridspec_kw={"width_ratios": [3, 1.3]})

    def bar(r):
        # The TIME_WAIT bar compares xtcp with itself, not with TCP.
        return r["xtcp"] if r["key"] == "twrate" else r["ratio"]

    short = {
        "bulk_64k": "bulk\n64 KiB writes", "bulk_1m": "bulk\n1 MiB writes",
        "rr": "1-byte\nrequest/response",
        "crr_server_close": "conn+rr+close\nserver closes",
        "crr_client_close": "conn+rr+close\nclient closes",
        "twrate_rate_loaded": "conn+rr+close\nwith TIME_WAIT",
        "bulk_64k_unpinned": "bulk 64 KiB\nunpinned",
        "rr_unpinned": "request/response\nunpinned",
        "rr_same_cpu": "request/response\none CPU",
        "twrate": "xtcp alone:\nwith TIME_WAIT\n/ without",
    }
    labels = [short[r["key"]] for r in speed]
    vals = [bar(r) or 0 for r in speed]
    colors = ["tab:green" if r["status"] == "PASS" else
              "tab:red" if r["status"] == "MISS" else "tab:blue"
              for r in speed]
    xs = range(len(speed))
    ax1.bar(xs, vals, color=colors)
    for x, r in zip(xs, speed):
        g = RATIO_GOALS.get(r["key"],
                            TW_RATE_MIN if r["key"] == "twrate" else None)
        if g:
            ax1.hlines(g, x - 0.4, x + 0.4, colors="black",
                       linestyles="dashed")
        ax1.text(x, (bar(r) or 0) + 0.02, fmt(bar(r), "ratio"),
                 ha="center", va="bottom", fontsize=9)
    ax1.axhline(1.0, color="grey", linewidth=0.8)
    ax1.set_xticks(list(xs))
    ax1.set_xticklabels(labels, fontsize=8)
    ax1.set_ylabel("ratio (higher is better)")
    ax1.set_title("xtcp / Linux TCP (dashed: goal)")

    mlabels = ["socket", "TIME_WAIT entry"]
    w = 0.38
    for i, (proto, color) in enumerate((("tcp", "tab:grey"),
                                        ("xtcp", "tab:blue"))):
        v = [r[proto] or 0 for r in mem]
        pos = [x + (i - 0.5) * w for x in range(len(mem))]
        ax2.bar(pos, v, w, label="Linux TCP" if proto == "tcp" else "xtcp",
                color=color)
        for p, val in zip(pos, v):
            ax2.text(p, val, f"{val:.0f}", ha="center", va="bottom",
                     fontsize=8)
    ax2.axhline(TW_ENTRY_MAX, color="black", linestyle="dashed",
                linewidth=0.8)
    ax2.set_yscale("log")
    ax2.set_xticks(range(len(mem)))
    ax2.set_xticklabels(mlabels)
    ax2.set_ylabel("bytes per object (slab objsize, log)")
    ax2.set_title(f"Memory (dashed: {TW_ENTRY_MAX} B goal)")
    ax2.legend(fontsize=8)

    fig.suptitle("\n".join(textwrap.fill(line, 150)
                           for line in header.split("\n")), fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("raw")
    ap.add_argument("outdir")
    ap.add_argument("--vm", default="", help="VM setup, for the header")
    ap.add_argument("--date", default=datetime.date.today().isoformat())
    ap.add_argument("--no-plot", action="store_true")
    args = ap.parse_args()

    try:
        with open(args.raw) as f:
            raw = json.load(f)
    except (OSError, ValueError) as e:
        print(f"bench_report: no usable results in {args.raw}: {e}",
              file=sys.stderr)
        return 1

    header = (f"xtcp benchmark {args.date}: Linux TCP vs xtcp "
              f"(IP protocol {raw.get('xtcp_proto', 253)}) on loopback, "
              f"guest kernel {raw.get('kernel', '?')}, "
              f"{raw.get('nr_cpus', '?')} vCPUs")
    ccpu, scpu = raw.get("client_cpu", -1), raw.get("server_cpu", -1)
    if ccpu >= 0 and scpu >= 0:
        header += f", client thread on CPU {ccpu}, server thread on CPU {scpu}"
    if args.vm:
        header += f"\n{args.vm}"
    rows = build_rows(raw)
    print_table(rows, header)

    failed = bool(raw.get("failed"))
    missing = [w for w in raw.get("results", {})
               for p in ("tcp", "xtcp") if raw["results"][w].get(p) is None]
    if missing:
        failed = True
        print("workloads that failed: " + ", ".join(sorted(set(missing))))

    result = {
        "date": args.date,
        "vm": args.vm,
        "kernel": raw.get("kernel"),
        "nr_cpus": raw.get("nr_cpus"),
        "client_cpu": raw.get("client_cpu"),
        "server_cpu": raw.get("server_cpu"),
        "goals": {
            "ratio_min": RATIO_GOALS,
            "tw_entry_bytes_max": TW_ENTRY_MAX,
            "tw_rate_loaded_over_none_min": TW_RATE_MIN,
        },
        "rows": rows,
        "goals_met": sum(r["status"] == "PASS" for r in rows if r["goal"]),
        "goals_total": sum(1 for r in rows if r["goal"]),
        "failed": failed,
        "raw": raw,
    }
    with open(f"{args.outdir}/results.json", "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    print(f"results: {args.outdir}/results.json")
    if not args.no_plot:
        plot(rows, header, f"{args.outdir}/bench.png")
        print(f"plot:    {args.outdir}/bench.png")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
