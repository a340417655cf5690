#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Plot the TIME_WAIT populations that selftests/test_nginx_tw.sh samples.

  plot_timewait.py SAMPLES.tsv OUT.png

SAMPLES.tsv has one line per sample: time in ms, phase, TCP's TIME_WAIT
entries, xtcp's. The plot shows both over time, the phases shaded and
named, and the knobs each phase sets.
"""

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

PHASES = {
    "load": "ab, one connection per request,\nboth protocols; xtcp msl = 1 s",
    "drain": "load over",
    "cap-evict": "max_tw_buckets = 200\ntw_overflow = 1",
    "cap-keep": "tw_overflow = 0",
    "reuse-off": "tw_reuse = 0",
    "reuse-on": "tw_reuse = 1",
}


def read(path):
    rows = []
    with open(path, encoding="ascii") as f:
        for line in f:
            parts = line.split()
            if len(parts) != 4:
                continue
            rows.append((int(parts[0]) / 1000.0, parts[1], int(parts[2]),
                         int(parts[3])))
    return rows


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    rows = read(sys.argv[1])
    if not rows:
        sys.exit(f"plot_timewait: no samples in {sys.argv[1]}")
    t = [r[0] for r in rows]
    fig, ax = plt.subplots(figsize=(11, 5.5), dpi=100)
    ax.plot(t, [r[2] for r in rows], color="tab:blue", linewidth=1.8,
            label="Linux TCP (TIME_WAIT a fixed 60 s)")
    ax.plot(t, [r[3] for r in rows], color="tab:red", linewidth=1.8,
            label="xtcp (net.xtcp.msl = 1000 ms, TIME_WAIT 2 s, during the "
            "load; 30 s after it)")

    # Shade every other phase and name it at the top.
    spans = []
    for when, phase, _, _ in rows:
        if not spans or spans[-1][0] != phase:
            spans.append([phase, when, when])
        spans[-1][2] = when
    top = max(max(r[2], r[3]) for r in rows) or 1
    ax.set_ylim(0, top * 1.6)
    width = (t[-1] - t[0]) or 1
    for i, (phase, start, end) in enumerate(spans):
        if phase not in PHASES:
            continue
        if i % 2 == 0:
            ax.axvspan(start, end, color="0.90", zorder=0)
        if end - start > 0.15 * width:
            ax.text((start + end) / 2, top * 1.55, PHASES[phase],
                    ha="center", va="top", fontsize=8, color="0.25")
        else:
            # Too narrow for the text across: upright, inside the span.
            ax.text((start + end) / 2, top * 1.55,
                    PHASES[phase].replace("\n", " "), ha="center", va="top",
                    rotation=90, fontsize=7.5, color="0.25")

    ax.set_xlabel("time (s)")
    ax.set_ylabel("TIME_WAIT entries")
    ax.set_title("TIME_WAIT entries of nginx + ab over time, Linux TCP and "
                 "xtcp (ss -tan state time-wait, /proc/net/xtcp)")
    ax.legend(loc="upper left", bbox_to_anchor=(0.0, 0.86))
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(sys.argv[2])
    print(f"plot_timewait: {len(rows)} samples -> {sys.argv[2]}")


if __name__ == "__main__":
    main()
