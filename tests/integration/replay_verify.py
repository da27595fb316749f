#!/usr/bin/python3
"""Helpers of tests/integration/test_replay.sh, reading capture files with
python3-msgpack (an independent reader of docs/capture-format.md).

  replay_verify.py expect AUTH BASE ROUTE FILE...
      What replaying FILE... should deliver to mirror_test_server.py, one TSV
      line per request, sorted: method, path, Host, body length, FNV-1a 64 of
      the body. AUTH is "keep", "shadow" or a literal Host value; BASE the
      target's base path ("" for none); ROUTE a route to keep ("" for all).
  replay_verify.py offsets FILE
      The byte offset of each whole record, one per line, then "end N" with
      the offset where whole records stop ("torn" appended for a torn tail).
  replay_verify.py dump FILE JSONL
      Checks that JSONL (capture-dump's output) holds exactly FILE's records,
      field by field (body decoded from base64); prints "# N records match" or
      "# " and the problem.
"""

import base64
import json
import sys

import msgpack


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def records(path):
    """(offset, record) for each whole record, then the end offset and torn flag."""
    with open(path, "rb") as f:
        data = f.read()
    unpacker = msgpack.Unpacker(raw=False)
    unpacker.feed(data)
    out, offset = [], 0
    for rec in unpacker:
        out.append((offset, rec))
        offset = unpacker.tell()
    return out, offset, offset < len(data)


def expect(auth, base, route, paths):
    lines = []
    for p in paths:
        recs, _, _ = records(p)
        for _, r in recs:
            if route and r["route"] != route:
                continue
            host = {"keep": r["authority"], "shadow": r["shadow_authority"]}.get(auth, auth)
            lines.append("%s\t%s\t%s\t%d\t%s" % (r["method"], base + r["path"], host or "-", len(r["body"]),
                                                fnv1a64(r["body"])))
    for line in sorted(lines):
        print(line)


def offsets(path):
    recs, end, torn = records(path)
    for off, _ in recs:
        print(off)
    print("end %d%s" % (end, " torn" if torn else ""))


def dump(path, jsonl):
    recs, _, _ = records(path)
    with open(jsonl, encoding="utf-8") as f:
        lines = [json.loads(line) for line in f if line.strip()]
    if len(lines) != len(recs):
        print("# %d JSON lines for %d records" % (len(lines), len(recs)))
        return 1
    keys = ["v", "ts", "route", "mirror", "method", "path", "authority", "shadow_authority", "http_version"]
    for i, ((off, r), j) in enumerate(zip(recs, lines)):
        for k in keys:
            if j[k] != r[k]:
                print("# record %d: %s: %r != %r" % (i, k, j[k], r[k]))
                return 1
        if j["offset"] != off or base64.b64decode(j["body"]) != r["body"] or j["body_len"] != len(r["body"]):
            print("# record %d: offset or body differs" % i)
            return 1
        if j["headers"] != [list(h) for h in r["headers"]]:
            print("# record %d: headers differ" % i)
            return 1
        for k in ("id", "src"):
            if j.get(k) != r.get(k):
                print("# record %d: %s differs" % (i, k))
                return 1
    print("# %d records match" % len(lines))
    return 0


def main(argv):
    if len(argv) >= 6 and argv[1] == "expect":
        expect(argv[2], argv[3], argv[4], argv[5:])
        return 0
    if len(argv) == 3 and argv[1] == "offsets":
        offsets(argv[2])
        return 0
    if len(argv) == 4 and argv[1] == "dump":
        return dump(argv[2], argv[3])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
