#!/usr/bin/env python3
"""Prints, from bench/results/e2e-results.json, the table gnuplot draws
bench/results/e2e-chart.svg from (bench/e2e/chart.gp), tab-separated:

    chart_data.py RESULTS_JSON sat    index, "label", req/s, p50 ms, p99 ms
    chart_data.py RESULTS_JSON half   the same for the half-load runs

One line per scenario that ran in that load mode, in scenario order (that
of summarize.py's LABELS: s1 to s9, s1p before s7, then the nginx peer),
labelled with the LABELS text ("8. 100% to a 4 GiB answer", ...).
"""
import json
import sys


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in ("sat", "half"):
        sys.exit(__doc__)
    res = json.load(open(sys.argv[1]))
    i = 0
    for modes in res["scenarios"].values():
        g = modes.get(sys.argv[2])
        if not g:
            continue
        label = g["label"].replace('"', "'")
        print(f'{i}\t"{label}"\t{g["rps"]:.0f}\t{g["p50_us"] / 1000:.3f}\t{g["p99_us"] / 1000:.3f}')
        i += 1


if __name__ == "__main__":
    main()
