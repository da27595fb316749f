"""Client and checks of tests/integration/test_large_bodies.sh.

  bodies.py send --port P --out FILE --prefix ID [--parallel K] [--chunked] SIZE...
      POSTs one body of random bytes per SIZE ("N" or "NxCOUNT" for COUNT
      bodies of N bytes) to 127.0.0.1:P, from K threads each on its own
      keep-alive connection (Content-Length, or chunked with --chunked), with
      Host bodies.test, and
      writes one JSON line per request: id, size, sha256, status, mirrored
      (X-Mirrored), spoe_err (X-Spoe-Err), error. Every request carries
      "X-Test-Id: <ID>-<i>".
  bodies.py send-h2 --port P --out FILE --prefix ID SIZE
      the same for one body over HTTP/2 (prior knowledge), with curl.
  bodies.py verify --results R... --primary V1 --mirror M --max N --host H
      every request answered 200; the primary recorded each one once, body
      byte for byte (length and sha256); the bodies of at most N bytes were
      mirrored (X-Mirrored: 1), each copied once, byte for byte, with Host
      H; the larger ones were not mirrored and reached the mirror not at all.

Prints "ok - ..." / "not ok - ..." per check and "# ..." notes; the calling
script counts the lines. Exit status: 0 when every check passed.
"""

import argparse
import collections
import hashlib
import os
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import loadlib  # noqa: E402  (tests/integration/loadlib.py)
from loadlib import check, checks, load, note  # noqa: E402
# The Host of every request; its copies carry HOST-shadow.
HOST = "bodies.test"


def sizes_of(specs):
    """The body sizes of "N" and "NxCOUNT" items, in order."""
    out = []
    for spec in specs:
        size, _, count = spec.partition("x")
        out += [int(size)] * int(count or 1)
    return out


def chunked(body, size=16384):
    """<body> in chunked transfer coding (http.client sends it as is)."""
    for i in range(0, len(body), size):
        part = body[i:i + size]
        yield b"%x\r\n" % len(part) + part + b"\r\n"
    yield b"0\r\n\r\n"


def cmd_send(args):
    sizes = sizes_of(args.sizes)

    def send(conn, i):
        rid = "%s-%d" % (args.prefix, i)
        body = os.urandom(sizes[i])
        headers = {"Host": HOST, "X-Test-Id": rid, "Content-Type": "application/octet-stream"}
        payload = body
        if args.chunked:
            headers["Transfer-Encoding"] = "chunked"
            payload = chunked(body)
        res = loadlib.result(id=rid, size=len(body), sha256=hashlib.sha256(body).hexdigest(),
                             chunked=args.chunked)
        conn.exchange(res, "POST", "/status/200?id=%s" % rid, headers, payload)
        return res

    out = loadlib.run_numbered(len(sizes), args.parallel, args.port, 30, send, 120)
    loadlib.write_results(args.out, out, lambda r: r["id"])


def cmd_send_h2(args):
    rid = "%s-0" % args.prefix
    body = os.urandom(int(args.size))
    res = loadlib.result(id=rid, size=len(body), sha256=hashlib.sha256(body).hexdigest(), h2=True)
    with tempfile.NamedTemporaryFile() as f:
        f.write(body)
        f.flush()
        proc = subprocess.run(
            ["curl", "-s", "--http2-prior-knowledge", "--max-time", "30", "-o", "/dev/null", "-D", "-",
             "-H", "Host: " + HOST, "-H", "X-Test-Id: " + rid, "-H", "Content-Type: application/octet-stream",
             "--data-binary", "@" + f.name, "http://127.0.0.1:%d/status/200?id=%s" % (args.port, rid)],
            capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        name, _, value = line.partition(":")
        if line.startswith("HTTP/2 "):
            res["status"] = int(line.split()[1])
        elif name.lower() == "x-mirrored":
            res["mirrored"] = value.strip()
        elif name.lower() == "x-spoe-err":
            res["spoe_err"] = value.strip()
    if proc.returncode != 0:
        res["error"] = "curl exit %d" % proc.returncode
    loadlib.write_results(args.out, [res], lambda r: r["id"])


def cmd_verify(args):
    sent = []
    for path in args.results:
        sent += load(path)
    primary = collections.defaultdict(list)
    for r in load(args.primary):
        primary[r["id"]].append(r)
    mirror = collections.defaultdict(list)
    for r in load(args.mirror):
        mirror[r["id"]].append(r)
    big = [r for r in sent if r["size"] > args.max]
    small = [r for r in sent if r["size"] <= args.max]
    note("%d bodies sent (%s bytes), %d above %d bytes" %
         (len(sent), ", ".join(sorted({str(r["size"]) for r in sent}, key=int)), len(big), args.max))

    bad = [r["id"] for r in sent if r["status"] != 200 or r["error"]]
    check(not bad, "every request answered 200%s" % (" (not: %s)" % bad[:5] if bad else ""))
    errs = [r["id"] for r in sent if r["spoe_err"]]
    check(not errs, "no request has txn.mirror.err set%s" % (" (got: %s)" % errs[:5] if errs else ""))

    def same(rec, r):
        return rec["body_len"] == r["size"] and rec["body_sha256"] == r["sha256"]

    wrong = [r["id"] for r in sent if len(primary[r["id"]]) != 1 or not same(primary[r["id"]][0], r)]
    check(not wrong, "the primary received each of the %d bodies once, byte for byte (sha256)%s" %
          (len(sent), " (not: %s)" % wrong[:5] if wrong else ""))

    unmirrored = [r["id"] for r in small if r["mirrored"] != "1"]
    check(not unmirrored, "every body of at most %d bytes was mirrored (X-Mirrored: 1)%s" %
          (args.max, " (not: %s)" % unmirrored[:5] if unmirrored else ""))
    wrong = [r["id"] for r in small
             if len(mirror[r["id"]]) != 1 or not same(mirror[r["id"]][0], r)
             or mirror[r["id"]][0]["host"] != args.host or mirror[r["id"]][0]["method"] != "POST"]
    check(not wrong, "the mirror received each of the %d copies once, Host %s, body byte for byte (sha256)%s" %
          (len(small), args.host, " (not: %s)" % wrong[:5] if wrong else ""))
    matched = sum(1 for r in small if len(mirror[r["id"]]) == 1 and same(mirror[r["id"]][0], r))
    note("sha256 matches at the mirror: %d of %d (%d bytes in all)" %
         (matched, len(small), sum(r["size"] for r in small)))

    if big:
        leaked = [r["id"] for r in big if mirror[r["id"]] or r["mirrored"] != "0"]
        check(not leaked, "the %d bodies above %d bytes were not mirrored (X-Mirrored: 0, no copy)%s" %
              (len(big), args.max, " (not: %s)" % leaked[:5] if leaked else ""))
    return 0 if checks["failed"] == 0 else 1


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("send")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--prefix", required=True)
    s.add_argument("--parallel", type=int, default=1)
    s.add_argument("--chunked", action="store_true")
    s.add_argument("sizes", nargs="+")
    h = sub.add_parser("send-h2")
    h.add_argument("--port", type=int, required=True)
    h.add_argument("--out", required=True)
    h.add_argument("--prefix", required=True)
    h.add_argument("size")
    v = sub.add_parser("verify")
    v.add_argument("--results", nargs="+", required=True)
    v.add_argument("--primary", required=True)
    v.add_argument("--mirror", required=True)
    v.add_argument("--max", type=int, required=True)
    v.add_argument("--host", required=True)
    args = p.parse_args()
    if args.cmd == "send":
        cmd_send(args)
    elif args.cmd == "send-h2":
        cmd_send_h2(args)
    else:
        sys.exit(cmd_verify(args))


if __name__ == "__main__":
    main()
