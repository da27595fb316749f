#!/usr/bin/python3
"""Checks one run of grpc_client.py (CALLS) against what the shadow gRPC
server recorded (RECORDS, grpc_server.py --role shadow), for
tests/integration/test_grpc.sh. Prints "ok - " / "not ok - " lines and
writes to SUMMARY the number of calls the shadow should have answered, per
method, as shell assignments (unary=N streaming=M).

  - every call succeeded with the primary's own answer, and no call saw an
    SPOE error (X-Spoe-Err empty);
  - --percent 100: every call that fits a buffer was mirrored (X-Mirrored
    1) and the "big" ones were not (0); otherwise the mirrored count lies
    within binomial bounds (--sigmas); the bidirectional-streaming calls
    (ids "<prefix>-b-<n>") never reached the agent (X-Mirrored empty);
  - the shadow got exactly the calls answered X-Mirrored: 1 (joined on their
    x-call-id metadata), each once, with the same method path, every
    metadata entry the client sent ("-bin" ones compared as bytes), the
    --marker entry the agent adds, and the same messages (sha256 of each,
    in order): the length-prefixed messages arrived intact.

usage: grpc_verify.py CALLS RECORDS SUMMARY [--percent P] [--sigmas S] [--marker K:V]
"""

import argparse
import collections
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from loadlib import binomial_bounds, check, load, note  # noqa: E402  (tests/integration/loadlib.py)


def sample(bad):
    return " (e.g. %s)" % ", ".join(map(str, bad[:3])) if bad else ""


def call_id(record):
    return next((v for k, v in record["metadata"] if k == "x-call-id"), None)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("calls")
    ap.add_argument("records")
    ap.add_argument("summary")
    ap.add_argument("--percent", type=float, default=100)
    ap.add_argument("--sigmas", type=float, default=4.5)
    ap.add_argument("--marker")
    a = ap.parse_args()
    calls = load(a.calls)
    ids = {c["id"] for c in calls}
    records = [r for r in load(a.records) if call_id(r) in ids] if os.path.exists(a.records) else []
    bidi = [c for c in calls if "-b-" in c["id"]]
    big = [c for c in calls if c["id"].endswith("-big")]
    small = [c for c in calls if c not in big and c not in bidi]

    bad = [c["id"] + ":" + str(c["code"]) for c in calls if c["code"] != "OK" or not c["answer_ok"]]
    check(calls and not bad, "all %d calls succeeded with the primary's answer%s" % (len(calls), sample(bad)))
    bad = [c["id"] + ":" + str(c["spoe_err"]) for c in calls if c["spoe_err"] != ""]
    check(not bad, "no call saw an SPOE error (X-Spoe-Err empty)%s" % sample(bad))
    mirrored = {c["id"] for c in calls if c["mirrored"] == "1"}
    bad = [c["id"] + ":" + str(c["mirrored"]) for c in calls if c not in bidi and c["mirrored"] not in ("0", "1")]
    check(not bad, "the agent answered every call (X-Mirrored 0 or 1)%s" % sample(bad))
    if bidi:
        bad = [c["id"] + ":" + str(c["mirrored"]) for c in bidi if c["mirrored"] != ""]
        check(not bad, "the %d interactive bidirectional calls were left alone (X-Mirrored empty)%s" %
              (len(bidi), sample(bad)))
    if a.percent == 100:
        bad = [c["id"] for c in small if c["id"] not in mirrored]
        check(not bad, "every call that fits a buffer was mirrored (%d)%s" % (len(small), sample(bad)))
    else:
        lo, hi = binomial_bounds(len(small), a.percent / 100.0, a.sigmas)
        k = len([c for c in small if c["id"] in mirrored])
        check(lo <= k <= hi, "%d of %d calls mirrored at %g%%: within [%d, %d]" % (k, len(small), a.percent, lo, hi))
    if big:
        bad = [c["id"] for c in big if c["id"] in mirrored]
        check(not bad, "the %d calls larger than a buffer were not mirrored (X-Mirrored: 0)%s" % (len(big), sample(bad)))

    seen = collections.Counter(call_id(r) for r in records)
    bad = sorted(set(seen) ^ mirrored) + [i for i, n in seen.items() if n > 1]
    check(not bad, "the shadow got exactly the %d calls answered X-Mirrored: 1, each once (got %d)%s" %
          (len(mirrored), len(records), sample(bad)))
    by_id = {c["id"]: c for c in calls}
    bad = [call_id(r) for r in records if r["method"] != by_id[call_id(r)]["method"]]
    check(records and not bad, "every copy called the same method%s" % sample(bad))
    bad = [call_id(r) for r in records
           if not all(kv in r["metadata"] for kv in by_id[call_id(r)]["metadata"])]
    check(records and not bad, "every copy carried the call's metadata (x-call-id, x-tenant, trace-bin)%s" %
          sample(bad))
    if a.marker:
        marker = a.marker.split(":", 1)
        bad = [call_id(r) for r in records if marker not in r["metadata"]]
        check(records and not bad, "every copy carried the metadata the agent adds (%s)%s" % (a.marker, sample(bad)))
    bad = [call_id(r) for r in records
           if (r["messages"], r["sizes"]) != (by_id[call_id(r)]["messages"], by_id[call_id(r)]["sizes"])]
    n_msgs = sum(r["count"] for r in records)
    check(records and not bad, "every copy carried the same messages, byte for byte (%d messages, sha256 each)%s" %
          (n_msgs, sample(bad)))
    kinds = collections.Counter("unary" if by_id[i]["method"].endswith("/Unary") else "streaming" for i in mirrored)
    note("%d calls, %d mirrored (%d unary, %d client-streaming)" %
         (len(calls), len(mirrored), kinds["unary"], kinds["streaming"]))
    with open(a.summary, "w") as f:
        f.write("unary=%d streaming=%d\n" % (kinds["unary"], kinds["streaming"]))


if __name__ == "__main__":
    main()
