#!/usr/bin/env python3
"""Reads the diff log of the compare test (every finished file in DIR) and
checks it: one record per differing request, kind "compare", and for each
path the verdict and the differing JSON path or header the shadow injected.
Prints "ok - ..." / "not ok - ..." lines. Usage: check_diffs.py DIR N_PER_PATH"""
import collections
import os
import sys

import msgpack

d, n = sys.argv[1], int(sys.argv[2])
records = []
for name in sorted(os.listdir(d)):
    if name.startswith("capture-") and name.endswith(".msgpack"):
        with open(os.path.join(d, name), "rb") as f:
            records.extend(msgpack.Unpacker(f, raw=False))


def check(cond, what):
    print(("ok - " if cond else "not ok - ") + what)


check(all(r.get("kind") == "compare" and r.get("v") == 1 for r in records), "diff log: every record is a compare record")
by_path = collections.defaultdict(list)
noise = [r for r in records if r.get("role") == "noise"]
for r in records:
    if r.get("role") != "noise":
        by_path[r["path"].split("?")[0]].append(r)
check(len(noise) == n and all(r["path"].startswith("/uuid") and [j[1] for j in r["json"]] == ["$.uuid"] for r in noise),
      "diff log: %d records of the noise mirror, each $.uuid (want %d)" % (len(noise), n))
check(all(r.get("role") == "candidate" for r in records if r.get("role") != "noise"), "diff log: the others are the candidate's")
want = {
    "/anything/status": ("status_differs", None),
    "/anything/header": ("headers_differ", "content-type"),
    "/anything/extra": ("body_differs", ("extra", "$.extra")),
    "/anything/missing": ("body_differs", ("missing", "$.args")),
    "/anything/changed": ("body_differs", ("changed", "$.method")),
}
check(len(records) - len(noise) == n * len(want), "diff log: %d candidate records (want %d)" % (len(records) - len(noise), n * len(want)))
check(set(by_path) == set(want), "diff log: records only for the differing paths (%s)" % sorted(by_path))
for path, (result, detail) in want.items():
    rs = by_path.get(path, [])
    ok = len(rs) == n and all(r["result"] == result for r in rs)
    if result == "status_differs":
        ok = ok and all(r["status_primary"] == 200 and r["status_shadow"] == 500 for r in rs)
    elif result == "headers_differ":
        ok = ok and all([h[0] for h in r["headers"]] == [detail] and r["headers"][0][2] == "text/plain" for r in rs)
    else:
        ok = ok and all([j[0] for j in r["json"]] == [detail[0]] and r["json"][0][1] == detail[1] for r in rs)
    ok = ok and all(r["id"] and r["method"] == "GET" and r["digest_primary"] and r["latency_shadow_us"] > 0 for r in rs)
    check(ok, "diff log: %s: %d records, %s %s" % (path, len(rs), result, detail or ""))
