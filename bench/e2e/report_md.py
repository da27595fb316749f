#!/usr/bin/env python3
"""Renders bench/results/<name>-results.json as the markdown report.

    report_md.py RESULTS_JSON [PROFILE_TXT] > <name>-results.md

PROFILE_TXT (bench/results/<name>-profile.txt, written by the harness when it
profiled the agent) is summarised when it exists. bench/e2e/README.md
explains every column.
"""
import json
import os
import sys


def ms(us):
    return "–" if us is None else f"{us / 1000:.2f}"


def fmt(v, digits=2):
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def drops_text(agent):
    if not agent or not agent.get("dropped"):
        return "0"
    return ", ".join(f"{k} {v}" for k, v in sorted(agent["dropped"].items(), key=lambda kv: -kv[1]))


def mirror_text(g):
    if "mirror_received" not in g:
        return "–"
    if "mirror_sampled" not in g:
        return f"{g['mirror_received']} / (agent killed)"
    d = g.get("delivery")
    pct = "" if d is None else f" ({100 * d:.2f} %)"
    return f"{g['mirror_received']} / {g['mirror_sampled']}{pct}"


def rss_text(agent):
    if not agent:
        return "–"
    flat = {True: "flat", False: "GROWS", None: "?"}[agent.get("rss_flat")]
    return f"{agent['vmhwm_kb'] / 1024:.1f} ({flat}, +{agent.get('rss_growth_kb') or 0:.0f} kB)"


def busy_text(g, env):
    b = g.get("cpu_busy_pct") or {}
    return (f"{fmt(b.get('cpu' + env['load_cpu']), 0)} / {fmt(b.get('cpu' + env['sut_cpu']), 0)}, "
            f"{fmt(g.get('wrk_cpu_pct'), 0)}, {other_text(g)}")


def stagger_text(env):
    """How the half-load runs' first requests leave (bench/e2e/wrk_pace.lua)."""
    ms_ = env.get("stagger_ms")
    if ms_ is None:
        return ""
    if not ms_:
        return "; at half load, every connection's first request at once"
    return f"; at half load, the connections' first requests spread over {ms_} ms"


def other_text(g):
    return f"{fmt(g.get('foreign_cpu_pct'), 0)} (≤ {fmt(g.get('foreign_cpu_pct_max'), 0)})"


def agent_keys_text(env):
    keys = env.get("agent_mirror_keys")
    if keys is None:
        return ""
    return f", mirror `{keys}`" if keys else ", no max_response_bytes: not accepted by this agent"


def verdict(met):
    return {True: "pass", False: "**MISS**", None: "n/a"}[met]


def bytes_text(n):
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


def print_faults(p, sc, env):
    """The misbehaving mirrors (s8, s9) against s3, and what the faulty
    mirror itself saw over the whole benchmark."""
    rows = [(sid, m, sc[sid][m]) for sid in ("s8", "s9", "s8c", "s9c") if sid in sc
            for m in ("sat", "half") if m in sc[sid]]
    if not rows:
        return
    keys = env.get("agent_mirror_keys")
    p("## Misbehaving mirrors (s8: a 4 GiB answer at loopback speed; s9: a reset after each request; "
      "s8c, s9c: the same over h2c, each stream answered with a 4 GiB content-length or reset)")
    p()
    p("tests/integration/faulty_mirror.py, one process for the whole benchmark. The agent's mirror was "
      + (f"configured with `{keys}`." if keys else
         "configured without `max_response_bytes` (this agent does not accept the key): it reads every "
         "answer whole.")
      + " The HTTP/2 faults: tests/integration/h2/faulty_h2_mirror.py, likewise. Ratios against s3 (s3c "
      "for s8c and s9c: the healthy mirror over the same protocol) of the same round and load mode; "
      "answered = responses "
      "read to their end; unaccounted = sampled − answered − dropped − skipped, after the drain; "
      "circuit wait: how long a run waited, after the warm-up, for the rest of the agent's circuit breaker "
      "to end (the warm-up had opened it), per run; faulty mirror CPU: its share of one CPU (the load CPU, "
      "which wrk shares) during the run.")
    p()
    p("| scenario | mode | req/s (× s3) | p99 ms (× s3) | client errors | sampled | sent | answered | drops "
      "| mirror connections opened | unaccounted | agent peak RSS MB | circuit wait ms | faulty mirror CPU % |")
    p("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for sid, m, g in rows:
        a = g.get("agent") or {}
        p(f"| {g['label']} | {m} | {g['rps']:.0f} ({fmt(g.get('rps_ratio_vs_s3'), 3)}) "
          f"| {ms(g['p99_us'])} ({fmt(g.get('p99_ratio_vs_s3'), 3)}) | {g['client_errors']} "
          f"| {fmt(a.get('sampled'))} | {fmt(a.get('sent'))} | {fmt(a.get('responses'))} | {drops_text(a)} "
          f"| {fmt(a.get('connections_opened'))} | {fmt(a.get('unaccounted'))} | {rss_text(a or None)} "
          f"| {g.get('circuit_wait_ms_per_run')} | {fmt(g.get('faulty_cpu_pct'), 0)} |")
    p()
    faulty = env.get("faulty_mirror") or {}
    if faulty:
        p("The faulty mirror over the whole benchmark: "
          + "; ".join(f"{f}: {v['connections']} connections, {v['requests']} requests read, "
                      f"{bytes_text(v['bytes_out'])} sent" for f, v in sorted(faulty.items()))
          + ".")
        p()
    faulty_h2 = env.get("faulty_h2_mirror") or {}
    if faulty_h2:
        p("The faulty HTTP/2 mirror over the whole benchmark: "
          + "; ".join(f"{f}: {v['connections']} connections, {v['streams']} streams, "
                      f"{v['resets_received']} reset by the agent, {bytes_text(v['bytes_out'])} sent"
                      for f, v in sorted(faulty_h2.items()))
          + ".")
        p()


def profile_sections(path):
    """A profile file (<name>-profile.txt) split at its "# <Title>..." headers:
    {"System calls": [lines], "CPU time by object": [...], ...}."""
    sections, cur = {}, None
    if not path or not os.path.exists(path):
        return sections
    for line in open(path):
        s = line.rstrip()
        for title in ("System calls", "CPU time by object", "Inclusive time", "Self time"):
            if s.startswith("# " + title):
                cur = title
                sections[cur] = []
                break
        else:
            if cur and s.strip() and not s.startswith("# ("):
                sections[cur].append(s[2:] if s.startswith("#   ") else s.strip())
    return sections


def print_profile(p, path):
    sec = profile_sections(path)
    if not sec:
        return
    p("## Where the agent's CPU goes (perf, one more scenario 3 run, saturation)")
    p()
    p(f"From bench/results/{os.path.basename(path)}, which has the full lists:")
    p()
    p("```")
    for title, pick, limit in (("System calls", lambda l: True, 10),
                               ("CPU time by object", lambda l: True, 8),
                               ("Inclusive time", lambda l: "[.]" in l, 16),
                               ("Self time", lambda l: True, 14)):
        lines = [l for l in sec.get(title, []) if pick(l)][:limit]
        if lines:
            p(f"{title}{' (agent and library functions)' if title == 'Inclusive time' else ''}:")
            for l in lines:
                p("  " + l.strip())
    p("```")
    p()


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    res = json.load(open(sys.argv[1]))
    env, sc, targets = res["environment"], res["scenarios"], res["targets"]
    p = print
    p("# End-to-end benchmark: does mirroring ever harm the primary?")
    p()
    p(f"{env['date']}, {'QUICK mode' if env['quick'] else 'full mode'}: {env['rounds']} round(s) of every "
      f"scenario, {env['run_seconds']} s per measured run after a {env['warmup_seconds']} s warm-up, "
      f"each figure the median over rounds, ratios taken per round against the reference of the same round. "
      f"{env['cpus']} × {env['cpu_model']}, Linux {env['kernel']}; HAProxy {env['haproxy']} (nbthread 1), "
      f"nginx {env['nginx']}, wrk {env['wrk']} (1 thread, {env['connections']} connections"
      f"{stagger_text(env)}); "
      f"{env['agent']} (--threads 1{agent_keys_text(env)}). CPU {env['load_cpu']}: wrk and the mirror backends; "
      f"CPU {env['sut_cpu']}: "
      f"HAProxy, the agent and the primary nginx (nice {env['nice']}). CPUs {env['idle_pct_before']} % idle "
      f"before the run; the run took {env['wall_seconds']} s. How to read this: bench/e2e/README.md.")
    p()
    disc = res.get("discarded_runs") or []
    p(f"Other load on the machine (CPU time neither idle nor used by the benchmark's processes) is "
      f"measured for every run; a run it took more than {env['disturbed_pct']} % of the CPUs from was run "
      f"again (at most {env['attempts']} attempts, while time allowed): {len(disc)} run(s) were "
      f"discarded this way (`discarded_runs` in the JSON). The \"other load\" columns give its median "
      f"(and largest) share over the runs kept.")
    p()
    p("## Targets")
    p()
    p("| target | measured | limit | verdict | detail |")
    p("|---|---|---|---|---|")
    for t in targets:
        p(f"| {t['target']} | {fmt(t['measured'], 3)} | {fmt(t['limit'])} | {verdict(t['met'])} | {t['note']} |")
    p()
    p("## Saturation: throughput (closed loop)")
    p()
    p("| scenario | req/s | × ref | p50 ms | p99 ms | max ms | client errors | HAProxy non-2xx "
      "| proxy CPU µs/req | agent CPU µs/mirrored (/NOTIFY) | mirror received / sampled | drops | "
      "agent peak RSS MB | CPU busy % (load / SUT), wrk %, other load % |")
    p("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for sid, modes in sc.items():
        g = modes.get("sat")
        if not g:
            continue
        a = g.get("agent")
        cpu = "–" if not a else f"{fmt(a['cpu_us_per_mirrored'])} ({fmt(a['cpu_us_per_notify'])})"
        p(f"| {g['label']} | {g['rps']:.0f} | {fmt(g['rps_ratio'], 3)} | {ms(g['p50_us'])} | {ms(g['p99_us'])} "
          f"| {ms(g['max_us'])} | {g['client_errors']} | {g['proxy_non_2xx']} | {fmt(g['proxy_cpu_us_per_request'])} "
          f"| {cpu} | {mirror_text(g)} | {drops_text(a)} | {rss_text(a)} | {busy_text(g, env)} |")
    p()
    json_rate = (f", {env['half_rate_json']} req/s for the 1 KB JSON GETs (half of s3j's)"
                 if env.get("half_rate_json") else "")
    p(f"## Half load: latency (paced at {env['half_rate_get']} req/s for GET, {env['half_rate_post']} req/s "
      f"for POST: half of the reference's saturation throughput{json_rate})")
    p()
    p("| scenario | achieved req/s | p50 ms | p90 ms | p99 ms (per round) | p99.9 ms | max ms | p99 × ref "
      "| client errors | agent CPU µs/mirrored (/NOTIFY) | mirror received / sampled | drops | agent peak RSS MB "
      "| other load % |")
    p("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for sid, modes in sc.items():
        g = modes.get("half")
        if not g:
            continue
        a = g.get("agent")
        cpu = "–" if not a else f"{fmt(a['cpu_us_per_mirrored'])} ({fmt(a['cpu_us_per_notify'])})"
        rounds = ", ".join(ms(v) for v in g.get("p99_us_per_round", []))
        p(f"| {g['label']} | {g['rps']:.0f} | {ms(g['p50_us'])} | {ms(g['p90_us'])} | {ms(g['p99_us'])} "
          f"({rounds}) | {ms(g['p999_us'])} | {ms(g['max_us'])} | {fmt(g['p99_ratio'], 3)} | {g['client_errors']} "
          f"| {cpu} | {mirror_text(g)} | {drops_text(a)} | {rss_text(a)} | {other_text(g)} |")
    p()
    kills = [(sid, m, g) for sid, modes in sc.items() for m, g in modes.items() if g.get("kill")]
    if kills:
        p("## Agent killed mid-run (fail-open)")
        p()
        p("From HAProxy's log of every request whose SPOE exchange failed (`txn.mirror.err` set): "
          "how many were delayed by 10 ms or more, and until when after the SIGKILL.")
        p()
        p("| scenario | mode | SPOE errors | delayed ≥ 10 ms, per run | marked DOWN, ms after the kill "
          "| first fast \"no agent\" error (err 2), ms after | last delayed request ends, ms after "
          "| longest ms | client errors |")
        p("|---|---|---|---|---|---|---|---|---|")
        for sid, m, g in kills:
            k = g["kill"]
            p(f"| {g['label']} | {m} | {k['spoe_errors']} | {k['delayed_10ms_per_run']} | "
              f"{k['down_ms_per_run']} | {k['first_fast_err2_ms_per_run']} | "
              f"{k['window_ms_per_run']} | {k['delayed_max_ms']} | {g['client_errors']} |")
        p()
    print_faults(p, sc, env)
    ngx, ngxm = sc.get("ngx", {}).get("sat"), sc.get("ngx_mirror", {}).get("sat")
    if ngx and ngxm:
        p("## Peer comparison: nginx's mirror module")
        p()
        s1, s3 = sc.get("s1", {}).get("sat"), sc.get("s3", {}).get("sat")
        p(f"nginx alone {ngx['rps']:.0f} req/s; with `mirror` (100 % to the same mirror backend) "
          f"{ngxm['rps']:.0f} req/s: **{fmt(ngxm['rps_ratio'], 3)} ×**, p99 {ms(ngxm['p99_us'])} ms against "
          f"{ms(ngx['p99_us'])} ms, mirror received / requests {mirror_text(ngxm)}, nginx CPU "
          f"{fmt(ngxm['proxy_cpu_us_per_request'])} µs/req against {fmt(ngx['proxy_cpu_us_per_request'])}."
          + (f" HAProxy + spoa-shadow: {fmt(s3['rps_ratio'], 3)} × HAProxy alone ({s3['rps']:.0f} against "
             f"{s1['rps']:.0f} req/s)." if s1 and s3 else ""))
        p()
    print_profile(p, sys.argv[2] if len(sys.argv) == 3 else None)


if __name__ == "__main__":
    main()
