"""Summary of bench/large_body_bench.sh: reads the runs it left in RUNS_DIR
and writes large-body.json (every run, and the medians) and large-body.md
to OUT_DIR.

usage: large_body_report.py RUNS_DIR OUT_DIR CLK_TCK NCPU BODY_BYTES CONNECTIONS RUN_SECONDS HAPROXY_VERSION
                            DISCARDED_RUNS DISTURBED_PCT
"""

import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "e2e"))
from summarize import med, msum, read_env, read_metrics  # noqa: E402  (bench/e2e/summarize.py)

CONFIGS = ["plain", "buffered", "sliced"]
MODES = ["sat", "half"]
DESCRIPTIONS = {
    "plain": "HAProxy 3.4 alone, the body streamed to the primary",
    "buffered": "tune.bufsize.large + wait-for-body use-large-buffer, no SPOE",
    "sliced": "the shipped large-body configuration: 18 slices + the mirror message, 100% mirrored",
}


def wrk_result(path):
    with open(path) as f:
        for line in f:
            if line.startswith("E2E_RESULT "):
                return json.loads(line[len("E2E_RESULT "):])
    return None


def one_run(d, tick, ncpu):
    env = read_env(os.path.join(d, "run.env"))
    w = wrk_result(os.path.join(d, "wrk.out"))
    if w is None:
        return None
    n = w["requests"]
    secs = w["duration_us"] / 1e6
    ms = int(env["ms"])

    def per_req_us(ticks):
        return round(int(ticks) / tick * 1e6 / n, 1) if n else None

    ours = (int(env["haproxy_ticks"]) + int(env["agent_ticks"]) + int(env["primary_ticks"]) +
            int(env["mirror_ticks"])) / tick + float(env["wrk_cpu_s"])
    busy = int(env["busy_ticks"]) / tick
    run = {
        "config": env["config"], "mode": env["mode"], "round": int(env["round"]), "rate_target": int(env["rate"]),
        "requests": n, "rps": round(n / secs, 1),
        "p50_ms": w["latency_us"]["p50"] / 1000, "p99_ms": w["latency_us"]["p99"] / 1000,
        "errors": sum(w["errors"].values()),
        "cpu_us_per_request": {"haproxy": per_req_us(env["haproxy_ticks"]), "agent": per_req_us(env["agent_ticks"]),
                               "primary": per_req_us(env["primary_ticks"])},
        # Busy CPU time of the machine that none of the benchmark's processes was billed for.
        "unbilled_cpu_pct": round(max(0.0, busy - ours) / (ncpu * ms / 1000) * 100, 1),
        "spoe_errors": int(env["spoe_errors"]),
    }
    if env["config"] == "sliced":
        b, a = read_metrics(os.path.join(d, "before.prom")), read_metrics(os.path.join(d, "after.prom"))

        def delta(name):
            return int(msum(a, name) - msum(b, name))

        run["agent"] = {
            "slices_received": delta("spoa_shadow_body_parts_received_total"),
            "slices_dropped": delta("spoa_shadow_body_parts_dropped_total"),
            "bodies_assembled": delta("spoa_shadow_body_parts_assembled_total"),
            "copies_sent": delta("spoa_shadow_mirror_sent_total"),
            "copies_dropped": delta("spoa_shadow_mirror_dropped_total"),
            "copies_skipped": delta("spoa_shadow_mirror_skipped_total"),
        }
        run["mirror_requests"] = int(env["mirror_requests"])
    return run


def summarize(runs):
    summary = {}
    for c in CONFIGS:
        for m in MODES:
            rs = [r for r in runs if r["config"] == c and r["mode"] == m]
            if not rs:
                continue
            s = {
                "runs": len(rs),
                "rps": med([r["rps"] for r in rs]),
                "p50_ms": med([r["p50_ms"] for r in rs]),
                "p99_ms": med([r["p99_ms"] for r in rs]),
                "cpu_us_per_request": {k: med([r["cpu_us_per_request"][k] for r in rs])
                                       for k in ("haproxy", "agent", "primary")},
                "errors": sum(r["errors"] for r in rs),
                "spoe_errors": sum(r["spoe_errors"] for r in rs),
                "unbilled_cpu_pct": med([r["unbilled_cpu_pct"] for r in rs]),
            }
            if c == "sliced":
                s["agent"] = {k: sum(r["agent"][k] for r in rs) for k in rs[0]["agent"]}
                s["requests"] = sum(r["requests"] for r in rs)
                s["mirror_requests"] = sum(r["mirror_requests"] for r in rs)
            summary.setdefault(c, {})[m] = s
    return summary


def fmt(v, nd=1):
    return "–" if v is None else ("%.*f" % (nd, v))


def ratio(a, b):
    return "–" if not a or not b else "%.2f" % (a / b)


def markdown(meta, summary):
    out = []
    w = out.append
    w("# Mirroring large bodies in slices: what it costs (HAProxy %s)" % meta["haproxy"])
    w("")
    w("`bench/large_body_bench.sh`: wrk POSTs %d-byte bodies over %d connections to HAProxy, which "
      "forwards them to nginx; the three configurations run side by side, %d rounds, %d s per run, "
      "medians over the rounds. HAProxy, the agent (1 thread) and the primary share one CPU; wrk and "
      "the mirror (nginx) the other. \"sat\": closed loop (throughput); \"half\": paced at half of "
      "the slowest configuration's saturated rate (%d req/s), below every one's capacity, where "
      "latency means something." %
      (meta["body_bytes"], meta["connections"], meta["rounds"], meta["run_seconds"], meta["half_rate"]))
    w("")
    for c in CONFIGS:
        w("- **%s**: %s" % (c, DESCRIPTIONS[c]))
    w("")
    w("| configuration | sat req/s | × plain | half: p50 / p99 ms | HAProxy CPU µs/req | agent CPU µs/req "
      "| primary CPU µs/req | errors | CPU not billed |")
    w("|---|---|---|---|---|---|---|---|---|")
    base = summary.get("plain", {}).get("sat", {}).get("rps")
    for c in CONFIGS:
        sat, half = summary.get(c, {}).get("sat", {}), summary.get(c, {}).get("half", {})
        cpu = half.get("cpu_us_per_request", {})
        w("| %s | %s | %s | %s / %s | %s | %s | %s | %d | %s%% |" % (
            c, fmt(sat.get("rps"), 0), ratio(sat.get("rps"), base), fmt(half.get("p50_ms"), 2),
            fmt(half.get("p99_ms"), 2), fmt(cpu.get("haproxy")), fmt(cpu.get("agent")), fmt(cpu.get("primary")),
            sat.get("errors", 0) + half.get("errors", 0) + sat.get("spoe_errors", 0) + half.get("spoe_errors", 0),
            fmt(med([sat.get("unbilled_cpu_pct"), half.get("unbilled_cpu_pct")]), 0)))
    w("")
    w("CPU per request is taken from the half-load runs (the saturated runs give the same order; see the "
      "JSON). \"errors\": wrk errors plus failed SPOE exchanges HAProxy logged during the runs (\"timeout processing\" "
      "is the shipped 100 ms). \"CPU not billed\": the share of both CPUs busy during the runs but not in "
      "the benchmark's processes: other tenants of this shared machine, and the kernel's loopback work "
      "done outside any process (softirq), which grows with the bytes moved. %d runs disturbed by other "
      "load (more than %d %% of the CPUs unbilled) were run again and left out." %
      (meta["discarded_runs"], meta["disturbed_pct"]))
    for m in MODES:
        s = summary.get("sliced", {}).get(m)
        if not s:
            continue
        a = s["agent"]
        w("")
        w("sliced, %s: %d requests; the agent received %d slices, discarded %d, assembled %d bodies, "
          "sent %d copies (%d dropped, %d skipped); the mirror answered %d requests." % (
              m, s["requests"], a["slices_received"], a["slices_dropped"], a["bodies_assembled"],
              a["copies_sent"], a["copies_dropped"], a["copies_skipped"], s["mirror_requests"]))
    w("")
    return "\n".join(out)


def main():
    runs_dir, out_dir = sys.argv[1], sys.argv[2]
    tick, ncpu = int(sys.argv[3]), int(sys.argv[4])
    runs = []
    for name in sorted(os.listdir(runs_dir)):
        r = one_run(os.path.join(runs_dir, name), tick, ncpu)
        if r is None:
            sys.exit("large-body: no wrk result in %s" % name)
        runs.append(r)
    half = [r["rate_target"] for r in runs if r["mode"] == "half"]
    meta = {"haproxy": sys.argv[8], "body_bytes": int(sys.argv[5]), "connections": int(sys.argv[6]),
            "run_seconds": int(sys.argv[7]), "rounds": max(r["round"] for r in runs),
            "half_rate": half[0] if half else 0, "cpus": ncpu, "discarded_runs": int(sys.argv[9]),
            "disturbed_pct": int(sys.argv[10])}
    summary = summarize(runs)
    with open(os.path.join(out_dir, "large-body.json"), "w") as f:
        json.dump({"meta": meta, "summary": summary, "runs": runs}, f, indent=1, sort_keys=True)
        f.write("\n")
    with open(os.path.join(out_dir, "large-body.md"), "w") as f:
        f.write(markdown(meta, summary))


if __name__ == "__main__":
    main()
