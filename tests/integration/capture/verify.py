"""Checks of tests/integration/test_capture.sh, on the capture files read
back with Python's msgpack (Debian python3-msgpack), independently of the
agent's own reader. Prints "ok - ..." / "not ok - ..." lines.

  verify.py capture --dir D --results R [--results R2] --host H --shadow S
                    --route NAME --mirror URL --rotate-bytes N --body-size N
      every request answered 200 and mirrored; the files finished, whole
      and rotated; every request captured once with its fields and the
      default redaction; names in time order.
  verify.py diskfull --dir D --results R --host H --written N --dropped N
                     --body-size N
      every request answered 200 quickly with no SPOE error while the disk
      was full; the files hold whole records only, as many as the agent
      counted; written + dropped = requests.
  verify.py replay --dir D --received J --results R [--results R2] --host H
                   --body-size N
      J (replay_sink.py's JSON lines) holds exactly one request per record
      of D's finished files, joined on X-Test-Id to the client's original
      request: same method, path and body hash, Host H (--authority keep),
      no redacted header and no "<redacted>" value sent on.
"""

import argparse
import calendar
import json
import os
import re
import sys
import time

import msgpack

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from traffic import body_for  # noqa: E402

NAME_RE = re.compile(r"^capture-(\d{8}T\d{6})\.(\d{3})Z-(\d{6})\.msgpack$")
REDACTED = "<redacted>"
failures = 0


def check(ok, desc, detail=""):
    global failures
    if ok:
        print("ok - " + desc)
    else:
        failures += 1
        print("not ok - " + desc + (": " + detail if detail else ""))


def read_capture(path):
    """(records, problem): every whole record, and a description of a torn
    tail or corrupt record (None when the file is whole records only)."""
    with open(path, "rb") as f:
        data = f.read()
    unpacker = msgpack.Unpacker(raw=False, strict_map_key=False)
    unpacker.feed(data)
    offset, records = 0, []
    while True:
        try:
            rec = unpacker.unpack()
        except msgpack.OutOfData:
            break
        except (msgpack.ExtraData, ValueError) as e:
            return records, "corrupt record at byte %d: %s" % (offset, e)
        if not isinstance(rec, dict) or rec.get("v") != 1 or not isinstance(rec.get("body"), bytes):
            return records, "corrupt record at byte %d" % offset
        records.append(rec)
        offset = unpacker.tell()
    if offset < len(data):
        return records, "truncated record at byte %d of %d" % (offset, len(data))
    return records, None


def name_ms(name):
    m = NAME_RE.match(name)
    t = time.strptime(m.group(1), "%Y%m%dT%H%M%S")
    return calendar.timegm(t) * 1000 + int(m.group(2))


def load_results(paths):
    res = []
    for p in paths:
        with open(p) as f:
            res += [json.loads(line) for line in f if line.strip()]
    return res


def scan(d):
    """(finished names sorted, other names)."""
    names = sorted(os.listdir(d))
    return [n for n in names if NAME_RE.match(n)], [n for n in names if not NAME_RE.match(n)]


def headers_of(rec):
    h = rec.get("headers")
    if not isinstance(h, list) or not all(isinstance(p, list) and len(p) == 2 for p in h):
        return None
    return h


def percentile(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, max(0, int(round(q * len(v) + 0.5)) - 1))] if v else 0.0


def answered(results, what):
    bad = [r for r in results if r["status"] != 200 or r["error"] or r["mirrored"] != "1" or r["spoe_err"]]
    check(results and not bad, "%s: all %d requests answered 200, mirrored=1, no SPOE error" % (what, len(results)),
          "%d bad, first %s" % (len(bad), bad[:1]))


def read_all(d, what):
    """Reads every finished file; checks each is whole records. Returns
    (names, {name: records})."""
    names, others = scan(d)
    per_file, problems = {}, []
    for n in names:
        recs, problem = read_capture(os.path.join(d, n))
        per_file[n] = recs
        if problem:
            problems.append("%s: %s" % (n, problem))
    check(not problems, "%s: every finished file is whole records (python msgpack reads each to its last byte)" % what,
          "; ".join(problems[:3]))
    check(not [o for o in others if o.endswith(".open")],
          "%s: no .open file left after the agent stopped" % what, " ".join(others))
    return names, per_file


def cmd_capture(a):
    results = load_results(a.results)
    answered(results, a.route)
    names, per_file = read_all(a.dir, a.route)
    sizes = {n: os.path.getsize(os.path.join(a.dir, n)) for n in names}
    check(len(names) >= 2, "%s: rotation by size: %d finished files, names capture-<UTC>-<seq>.msgpack" % (
        a.route, len(names)))
    big = [n for n in names if sizes[n] > a.rotate_bytes and len(per_file[n]) > 1]
    check(not big, "%s: every file within rotate_bytes %d (largest %d bytes)" % (
        a.route, a.rotate_bytes, max(sizes.values()) if sizes else 0), " ".join(big[:3]))

    by_id, dups, bad_hdrs = {}, [], 0
    for n in names:
        for rec in per_file[n]:
            h = headers_of(rec)
            if h is None:
                bad_hdrs += 1
                continue
            ids = [v for k, v in h if k == "x-test-id"]
            rid = ids[0] if ids else None
            if rid in by_id:
                dups.append(rid)
            by_id[rid] = rec
    sent = {r["id"]: r for r in results}
    missing = [i for i in sent if i not in by_id]
    extra = [i for i in by_id if i not in sent]
    check(not missing and not extra and not dups and not bad_hdrs,
          "%s: each of the %d requests captured exactly once (%d records)" % (a.route, len(sent), len(by_id)),
          "missing %d %s, extra %d %s, duplicates %d, bad headers %d" % (
              len(missing), missing[:3], len(extra), extra[:3], len(dups), bad_hdrs))

    wrong = []
    for rid, r in sent.items():
        rec = by_id.get(rid)
        if rec is None:
            continue
        i = int(rid.rsplit("-", 1)[1])
        body = body_for(rid.rsplit("-", 1)[0], i, a.body_size) if r["method"] == "POST" else b""
        want = {"method": r["method"], "path": r["path"], "authority": a.host, "shadow_authority": a.shadow,
                "http_version": "1.1", "route": a.route, "mirror": a.mirror, "src": "127.0.0.1", "body": body}
        diff = [k for k, v in want.items() if rec.get(k) != v]
        if not isinstance(rec.get("ts"), int) or not isinstance(rec.get("id"), str) or not rec.get("id"):
            diff.append("ts/id")
        if diff:
            wrong.append("%s: %s" % (rid, ",".join(diff)))
    check(not wrong, "%s: method, path, authority, shadow_authority (%s), body, version, route, mirror, src, "
          "id, ts as sent" % (a.route, a.shadow), "; ".join(wrong[:3]))

    leaks = []
    for rid, rec in by_id.items():
        h = dict((k, v) for k, v in headers_of(rec))
        for secret in ("authorization", "cookie", "x-api-key"):
            if h.get(secret) != REDACTED:
                leaks.append("%s %s=%r" % (rid, secret, h.get(secret)))
        if h.get("x-test-id") != rid or h.get("user-agent") != "capture-test/1" or h.get("host") != a.host:
            leaks.append("%s kept headers %r" % (rid, h))
    check(not leaks, "%s: authorization, cookie, x-api-key redacted as %s; x-test-id, user-agent, host kept" % (
        a.route, REDACTED), "; ".join(leaks[:3]))

    # File k+1 was opened after every record of file k was written, which
    # was after the record's capture time: so each record's ts (in ms) is
    # at most the start time in the next file's name.
    late = []
    for k in range(len(names) - 1):
        nxt = name_ms(names[k + 1])
        late += ["%s in %s" % (rec["ts"], names[k]) for rec in per_file[names[k]] if rec["ts"] // 1000000 > nxt]
    starts = [name_ms(n) for n in names]
    check(not late and starts == sorted(starts),
          "%s: names sort by time: every record precedes the start of the next file" % a.route, " ".join(late[:3]))


def cmd_diskfull(a):
    results = load_results(a.results)
    answered(results, "disk full")
    ms = [r["ms"] for r in results if r["ms"] is not None]
    p99, worst = percentile(ms, 0.99), max(ms) if ms else 0
    check(ms and p99 < 250 and worst < 1000,
          "disk full: client latency p99 %.1f ms, max %.1f ms (ACKs never wait for the disk)" % (p99, worst))
    names, per_file = read_all(a.dir, "disk full")
    recs = [rec for n in names for rec in per_file[n]]
    ids = [dict((k, v) for k, v in headers_of(rec)).get("x-test-id") for rec in recs]
    sent = {r["id"] for r in results}
    check(len(recs) == a.written and len(set(ids)) == len(ids) and set(ids) <= sent,
          "disk full: %d whole records in the files, as counted in capture_records_total (%d)" % (
              len(recs), a.written))
    check(a.dropped > 0 and a.written > 0 and a.written + a.dropped == len(results),
          "disk full: written %d + dropped disk_full %d = %d requests" % (a.written, a.dropped, len(results)))
    bodies_ok = all(rec["body"] == body_for(i.rsplit("-", 1)[0], int(i.rsplit("-", 1)[1]), a.body_size)
                    for rec, i in zip(recs, ids) if rec["method"] == "POST")
    check(bodies_ok, "disk full: the records that were written hold their whole bodies")


def fnv1a64(data):
    """FNV-1a 64 of <data> as 16 hex digits (replay_sink.py's body hash)."""
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def cmd_replay(a):
    results = load_results(a.results)
    names, _ = scan(a.dir)
    captured = sum(len(read_capture(os.path.join(a.dir, n))[0]) for n in names)
    with open(a.received, encoding="utf-8") as f:
        got = [json.loads(line) for line in f if line.strip()]
    check(captured > 0 and len(got) == captured,
          "replay: the server received %d requests, as many as captured (%d in %d files)" % (
              len(got), captured, len(names)))
    by_id, dups, no_id = {}, [], 0
    for g in got:
        ids = [v for k, v in g["headers"] if k == "x-test-id"]
        if len(ids) != 1:
            no_id += 1
            continue
        if ids[0] in by_id:
            dups.append(ids[0])
        by_id[ids[0]] = g
    sent = {r["id"]: r for r in results}
    missing = sorted(set(sent) - set(by_id))
    extra = sorted(set(by_id) - set(sent))
    check(not missing and not extra and not dups and not no_id,
          "replay: each of the %d client requests arrived once, joined on X-Test-Id" % len(sent),
          "missing %d %s, extra %d %s, duplicates %d, without one id %d" % (
              len(missing), missing[:3], len(extra), extra[:3], len(dups), no_id))
    wrong, hosts = [], []
    for rid, g in by_id.items():
        r = sent.get(rid)
        if r is None:
            continue
        prefix, i = rid.rsplit("-", 1)
        body = body_for(prefix, int(i), a.body_size) if r["method"] == "POST" else b""
        if (g["method"], g["path"], g["body_len"], g["body_fnv"]) != (r["method"], r["path"], len(body),
                                                                         fnv1a64(body)):
            wrong.append("%s: %s %s %d %s" % (rid, g["method"], g["path"], g["body_len"], g["body_fnv"]))
        h = [v for k, v in g["headers"] if k == "host"]
        if h != [a.host]:
            hosts.append("%s: %r" % (rid, h))
    check(by_id and not wrong, "replay: method, path and body hash of every request as the client sent them",
          "; ".join(wrong[:3]))
    check(by_id and not hosts, "replay --authority keep: one Host %s on every request" % a.host,
          "; ".join(hosts[:3]))
    leaks = ["%s: %s=%r" % (ids, k, v) for ids, g in by_id.items() for k, v in g["headers"]
             if k in ("authorization", "cookie", "x-api-key") or v == REDACTED]
    check(by_id and not leaks, "replay: no authorization, cookie or x-api-key, no %s value sent" % REDACTED,
          "; ".join(leaks[:3]))
    kept = [rid for rid, g in by_id.items() if ["user-agent", "capture-test/1"] not in g["headers"]]
    check(by_id and not kept, "replay: the kept headers (user-agent) sent on", " ".join(kept[:3]))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("capture")
    c.add_argument("--dir", required=True)
    c.add_argument("--results", action="append", required=True)
    c.add_argument("--host", required=True)
    c.add_argument("--shadow", required=True)
    c.add_argument("--route", required=True)
    c.add_argument("--mirror", required=True)
    c.add_argument("--rotate-bytes", type=int, required=True)
    c.add_argument("--body-size", type=int, required=True)
    d = sub.add_parser("diskfull")
    d.add_argument("--dir", required=True)
    d.add_argument("--results", action="append", required=True)
    d.add_argument("--host", required=True)
    d.add_argument("--written", type=int, required=True)
    d.add_argument("--dropped", type=int, required=True)
    d.add_argument("--body-size", type=int, required=True)
    r = sub.add_parser("replay")
    r.add_argument("--dir", required=True)
    r.add_argument("--received", required=True)
    r.add_argument("--results", action="append", required=True)
    r.add_argument("--host", required=True)
    r.add_argument("--body-size", type=int, required=True)
    a = p.parse_args()
    if a.cmd == "capture":
        cmd_capture(a)
    elif a.cmd == "replay":
        cmd_replay(a)
    else:
        cmd_diskfull(a)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
