#!/usr/bin/env python3
"""Puts the end-to-end results of several HAProxy versions side by side.

    versions_md.py RESULTS_JSON... > e2e-versions.md

Each RESULTS_JSON is one run of bench/run_e2e.sh (`make bench` writes
bench/results/e2e-haproxy2.6-results.json and e2e-haproxy3.4-results.json).
For every scenario that all of them measured, the table gives per version:
saturation throughput against the scenario's reference, HAProxy's CPU per
request, the agent's CPU per mirrored request (per NOTIFY when nothing was
mirrored), the half-load p99 and the mirror's delivery. Then the HAProxy 3.x
targets, checked on every version: 100% mirroring keeps at least 0.6 x the
throughput of HAProxy alone, the agent spends at most 10 us per mirror, and
at least 99.9 % of the copies arrive.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report_md import fmt  # noqa: E402  (the same cell format as each version's report)

TARGET_RATIO = 0.6
TARGET_AGENT_US = 10.0
TARGET_DELIVERY = 0.999


def agent_us(mode):
    a = (mode or {}).get("agent") or {}
    if a.get("cpu_us_per_mirrored") is not None:
        return a["cpu_us_per_mirrored"]
    if a.get("cpu_us_per_notify") is not None:
        return a["cpu_us_per_notify"]
    return None


def version_label(res):
    """2.6.12 of "2.6.12-1+deb12u4", 3.4.0 of "3.4.0-64a335366"."""
    return res["environment"].get("haproxy", "?").split("-")[0]


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    results = [json.load(open(path)) for path in sys.argv[1:]]
    labels = [version_label(r) for r in results]
    common = [s for s in results[0]["scenarios"] if all(s in r["scenarios"] for r in results)]

    print("# End to end, HAProxy versions side by side")
    print()
    for r, label in zip(results, labels):
        env = r["environment"]
        print(f"- HAProxy {label}: {env['date']}, {'quick' if env.get('quick') else 'full'} mode, "
              f"{env['rounds']} round(s) of {env['run_seconds']} s runs, "
              f"{env['cpus']} × {env['cpu_model']}, Linux {env['kernel']}")
    print()
    print("Each cell: the median over rounds (ratios per round against the reference of the same "
          "round and version). `sat`: closed loop, 256 connections; `half`: paced at half of the "
          "reference's saturation throughput. Agent CPU is per mirrored request, or per NOTIFY "
          "(in brackets) when nothing is mirrored.")
    print()
    print("| scenario | HAProxy | × ref | req/s | HAProxy CPU µs/req | agent CPU µs | half p99 ms | delivery |")
    print("|---|---|---|---|---|---|---|---|")
    for sid in common:
        for r, label in zip(results, labels):
            sc = r["scenarios"][sid]
            sat, half = sc.get("sat") or {}, sc.get("half") or {}
            a = agent_us(sat)
            mirrored = (sat.get("agent") or {}).get("cpu_us_per_mirrored") is not None
            deliv = sat.get("delivery")
            print(f"| {sat.get('label') or half.get('label') or sid} | {label} "
                  f"| {fmt(sat.get('rps_ratio'), 3)} | {fmt(sat.get('rps'), 0)} "
                  f"| {fmt(sat.get('proxy_cpu_us_per_request'))} "
                  f"| {fmt(a) if a is None or mirrored else '(' + fmt(a) + ')'} "
                  f"| {fmt(half['p99_us'] / 1000.0) if half.get('p99_us') is not None else '–'} "
                  f"| {f'{deliv * 100:.2f} %' if isinstance(deliv, (int, float)) else '–'} |")
    print()
    print("## HAProxy 3.x targets, per version")
    print()
    print("| version | s3 throughput × s1 (≥ 0.6) | agent CPU µs per mirror, s3, worse mode (≤ 10) "
          "| s3 delivery (≥ 99.9 %) |")
    print("|---|---|---|---|")
    for r, label in zip(results, labels):
        s3 = r["scenarios"].get("s3", {})
        ratio = (s3.get("sat") or {}).get("rps_ratio")
        cpus = [agent_us(s3.get(m)) for m in ("sat", "half")]
        cpus = [c for c in cpus if c is not None]
        worst = max(cpus) if cpus else None
        delivs = [(s3.get(m) or {}).get("delivery") for m in ("sat", "half")]
        delivs = [d for d in delivs if isinstance(d, (int, float))]
        deliv = min(delivs) if delivs else None

        def verdict(ok):
            return "pass" if ok else "**MISS**"

        print(f"| HAProxy {label} "
              f"| {fmt(ratio, 3)} {verdict(ratio is not None and ratio >= TARGET_RATIO)} "
              f"| {fmt(worst)} {verdict(worst is not None and worst <= TARGET_AGENT_US)} "
              f"| {fmt(deliv * 100 if deliv is not None else None)} % "
              f"{verdict(deliv is not None and deliv >= TARGET_DELIVERY)} |")


if __name__ == "__main__":
    main()
