"""Checks of tests/integration/test_mirroring.sh over what the client got
(load_client.py results) and what each httpbin recorded (recording_app.py).

Prints "ok - ..." / "not ok - ..." per check and "# ..." notes with figures;
the calling script counts the lines. Exit status: 0 when every check passed.

  verify.py primary --results R --records V1 --host H --expect N
      all N requests answered 200 by v1 and echoed; v1 recorded each id
      once, as sent; no SPOE error.
  verify.py mirror --results R --primary V1 --records M --host H --percent P
                   [--sigmas S] [--marker NAME] [--hop-headers]
      the copies at the mirror for this run: count within the binomial
      bounds, equal to (and the same ids as) the X-Mirrored: 1 answers, each
      one a faithful copy with Host H and no hop-by-hop header.
  verify.py latency --base R1 --down R2
      latency with the mirror down is within noise of the baseline.
"""

import argparse
import collections
import math
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from loadlib import binomial_bounds, check, checks, load, note  # noqa: E402  (tests/integration/loadlib.py)

# Headers that describe one connection only (RFC 9110 7.6.1, plus the
# obsolete Proxy-Connection): a copy must never carry them. TE is one too,
# but "TE: trailers" is forwarded, by HAProxy to the primary and by the agent
# to the copy (gRPC needs it): a copy carries TE exactly when its original did.
HOP_BY_HOP = {"connection", "keep-alive", "trailer", "transfer-encoding", "upgrade", "proxy-connection"}
# What load_client.py --hop-headers sends: its Connection header also names
# X-Hop-Token, which makes that header hop-by-hop as well; its TE is "trailers".
SENT_HOP_HEADERS = {"connection", "keep-alive", "x-hop-token"}
SENT_TE = "te"

def prefix_of(res):
    return res[0]["id"].rsplit("-", 1)[0] + "-" if res else "?"


def of_run(records, res):
    """The records whose x-test-id belongs to the run <res>."""
    prefix = prefix_of(res)
    return [r for r in records if (r.get("id") or "").startswith(prefix)]


def sample(bad, limit=3):
    return "; e.g. " + ", ".join(str(b) for b in bad[:limit]) if bad else ""


def cmd_primary(a):
    res = load(a.results)
    recs = of_run(load(a.records), res)
    n = len(res)
    bad = [r["id"] + ":" + str(r["error"] or r["status"]) for r in res if r["status"] != 200 or r["error"]]
    check(n == a.expect and not bad, "%s: %d/%d requests answered 200%s" % (prefix_of(res), n - len(bad), a.expect,
                                                                             sample(bad)))
    bad = [r["id"] + ":" + str(r["served_by"]) for r in res if r["served_by"] != "v1"]
    check(n > 0 and not bad, "every answer came from v1 (X-Recorded-By: v1)%s" % sample(bad))
    bad = [r["id"] for r in res if not r["echo_ok"]]
    check(n > 0 and not bad, "httpbin echoed each request's X-Test-Id and each POST's exact body%s" % sample(bad))
    bad = [r["id"] + ":" + repr((r["mirrored"], r["spoe_err"])) for r in res
           if r["mirrored"] not in ("0", "1") or r["spoe_err"]]
    check(n > 0 and not bad, "the agent answered every request (X-Mirrored 0 or 1, X-Spoe-Err empty)%s" % sample(bad))

    seen = collections.Counter(r["id"] for r in recs)
    ids = {r["id"] for r in res}
    bad = [i for i in ids if seen[i] != 1] + [i for i in seen if i not in ids]
    check(n > 0 and not bad, "v1 recorded every x-test-id exactly once (%d records)%s" % (len(recs), sample(bad)))
    by_id = {r["id"]: r for r in recs}
    bad = [r["id"] for r in res if r["id"] in by_id and (by_id[r["id"]]["method"], by_id[r["id"]]["path"],
                                                         by_id[r["id"]]["body_sha256"]) != (
                                                             r["method"], r["path"], r["body_sha256"])]
    check(n > 0 and not bad, "v1 received each request's method, path+query and body (sha256) as sent%s" % sample(bad))
    bad = [r["id"] + ":" + str(r["host"]) for r in recs if r["host"] != a.host or "x-shadow" in r["headers"]]
    check(n > 0 and not bad, "v1 saw Host %s and never the mirror-only x-shadow header%s" % (a.host, sample(bad)))
    return res


def cmd_mirror(a):
    res = load(a.results)
    originals = {r["id"]: r for r in of_run(load(a.primary), res)}
    copies = of_run(load(a.records), res)
    n, k = len(res), len(copies)
    acked = {r["id"] for r in res if r["mirrored"] == "1"}
    lo, hi = binomial_bounds(n, a.percent / 100.0, a.sigmas)
    note("%s: %d requests at %g%%, %d copies arrived, %d answered X-Mirrored: 1, bounds [%d, %d]" %
         (prefix_of(res), n, a.percent, k, len(acked), lo, hi))
    check(n > 0 and lo <= k <= hi, "%d copies for %d requests at %g%%: within [%d, %d]" % (k, n, a.percent, lo, hi))
    check(k == len(acked), "copies at the mirror (%d) == answers with X-Mirrored: 1 (%d)" % (k, len(acked)))
    seen = collections.Counter(c["id"] for c in copies)
    bad = sorted(set(seen) ^ acked) + [i for i, c in seen.items() if c > 1]
    check(not bad, "the mirror got exactly the ids answered X-Mirrored: 1, each once%s" % sample(bad))
    bad = [c["id"] + ":" + str(c["host"]) for c in copies if c["host"] != a.host]
    check(k > 0 and not bad if a.percent > 0 else not bad, "every copy has Host %s%s" % (a.host, sample(bad)))
    key = ("method", "path", "body_sha256", "body_len")
    bad = [c["id"] for c in copies
           if c["id"] not in originals or tuple(c[x] for x in key) != tuple(originals[c["id"]][x] for x in key)]
    check(not bad, "every copy has the original's method, path+query and body sha256 (joined on x-test-id)%s" %
          sample(bad))
    hop = HOP_BY_HOP | (SENT_HOP_HEADERS if a.hop_headers else set())
    bad = [c["id"] + ":" + ",".join(sorted(hop & set(c["headers"]))) for c in copies if hop & set(c["headers"])]
    check(not bad, "no copy carries a hop-by-hop header (%s)%s" % (", ".join(sorted(hop)), sample(bad)))
    bad = [c["id"] for c in copies if c["id"] in originals and
           (SENT_TE in c["headers"]) != (SENT_TE in originals[c["id"]]["headers"])]
    check(not bad, "a copy carries TE (trailers) exactly when its original did%s" % sample(bad))
    if a.hop_headers:
        # The absence above only means something if the originals had them.
        bad = [i for i, o in originals.items() if not SENT_HOP_HEADERS | {SENT_TE} <= set(o["headers"])]
        check(originals and not bad, "v1 did receive the hop-by-hop headers the client sent (%s)%s" %
              (", ".join(sorted(SENT_HOP_HEADERS | {SENT_TE})), sample(bad)))
    if a.marker:
        bad = [c["id"] for c in copies if a.marker not in c["headers"]]
        check(not bad, "every copy carries the configured %s header%s" % (a.marker, sample(bad)))


def percentile(values, q):
    """Nearest-rank percentile <q> (0..100) of <values>."""
    v = sorted(values)
    return v[max(0, math.ceil(q / 100.0 * len(v)) - 1)]


def cmd_latency(a):
    base = [r["ms"] for r in load(a.base) if r["ms"] is not None]
    down = [r["ms"] for r in load(a.down) if r["ms"] is not None]
    if not base or not down:
        check(False, "latency samples present (baseline %d, mirror down %d)" % (len(base), len(down)))
        return
    b50, b99 = percentile(base, 50), percentile(base, 99)
    d50, d99 = percentile(down, 50), percentile(down, 99)
    note("latency ms, mirror up:   p50 %.2f p99 %.2f (n=%d)" % (b50, b99, len(base)))
    note("latency ms, mirror down: p50 %.2f p99 %.2f (n=%d)" % (d50, d99, len(down)))
    # The copies go out after the ACK, so a dead mirror must not slow the
    # client. The bound tolerates a doubling (scheduling noise on a small
    # shared machine moves tail latencies by that much) or 20 ms, whichever
    # is larger, since a sub-millisecond baseline doubles from one stray
    # context switch. A client that waited on the mirror's connect or
    # timeout (500 ms/1000 ms here) would exceed it by far.
    for name, up, dn in (("p50", b50, d50), ("p99", b99, d99)):
        bound = max(2 * up, up + 20.0)
        check(dn < bound, "mirror down: %s %.2f ms < max(2 x %.2f, %.2f + 20) = %.2f ms" % (name, dn, up, up, bound))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("primary")
    s.add_argument("--results", required=True)
    s.add_argument("--records", required=True)
    s.add_argument("--host", required=True)
    s.add_argument("--expect", type=int, required=True)
    s = sub.add_parser("mirror")
    s.add_argument("--results", required=True)
    s.add_argument("--primary", required=True)
    s.add_argument("--records", required=True)
    s.add_argument("--host", required=True)
    s.add_argument("--percent", type=float, required=True)
    s.add_argument("--sigmas", type=float, default=4.5)
    s.add_argument("--marker")
    s.add_argument("--hop-headers", action="store_true")
    s = sub.add_parser("latency")
    s.add_argument("--base", required=True)
    s.add_argument("--down", required=True)
    a = p.parse_args()
    try:
        {"primary": cmd_primary, "mirror": cmd_mirror, "latency": cmd_latency}[a.cmd](a)
    except (OSError, ValueError, KeyError) as e:
        check(False, "verify.py %s could not run: %s: %s" % (a.cmd, type(e).__name__, e))
    return 0 if checks["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
