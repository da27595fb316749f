"""Client of tests/integration/test_capture.sh.

Sends COUNT requests to 127.0.0.1:PORT from PARALLEL threads (one keep-alive
connection each) and writes one JSON line per request to OUT: id, method,
path, status, mirrored (X-Mirrored), spoe_err (X-Spoe-Err), ms, error.
Request i is "GET /get?n=i" when i is even, "POST /anything?n=i" with the
body body_for(prefix, i, size) when i is odd; each carries the Host, the
secrets the capture must redact (Authorization, Cookie, X-Api-Key) and
headers it must keep (X-Test-Id, User-Agent). Nothing is retried.

usage: traffic.py --port P --host H --prefix ID --count N --parallel K
                  --body-size BYTES --out FILE
"""

import argparse
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import loadlib  # noqa: E402  (tests/integration/loadlib.py)


def body_for(prefix, i, size):
    """The body of POST number <i>: unique, binary (NUL, 0xff), <size> bytes."""
    head = ("%s-%d:" % (prefix, i)).encode()
    fill = bytes((i * 7 + k) % 256 for k in range(max(0, size - len(head))))
    return (head + fill)[:size]


def build_request(prefix, i, host, size):
    """Request number <i>: (id, method, path, headers, body)."""
    rid = "%s-%d" % (prefix, i)
    headers = {
        "Host": host,
        "X-Test-Id": rid,
        "User-Agent": "capture-test/1",
        "Authorization": "Bearer secret-" + rid,
        "Cookie": "sid=secret-" + rid,
        "X-Api-Key": "key-" + rid,
    }
    if i % 2 == 0:
        return rid, "GET", "/get?n=%d" % i, headers, b""
    headers["Content-Type"] = "application/octet-stream"
    return rid, "POST", "/anything?n=%d" % i, headers, body_for(prefix, i, size)


def one(args, conn, i):
    """Sends request number <i> and returns its result."""
    rid, method, path, headers, body = build_request(args.prefix, i, args.host, args.body_size)
    rec = loadlib.result(id=rid, method=method, path=path, ms=None)
    t = time.monotonic()
    conn.exchange(rec, method, path, headers, body if method == "POST" else None)
    rec["ms"] = (time.monotonic() - t) * 1000.0
    return rec


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--host", required=True)
    p.add_argument("--prefix", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--parallel", type=int, default=4)
    p.add_argument("--body-size", type=int, default=600)
    p.add_argument("--out", required=True)
    args = p.parse_args()
    results = loadlib.run_numbered(args.count, args.parallel, args.port, 10, lambda conn, i: one(args, conn, i), 60)
    loadlib.write_results(args.out, results, key=lambda r: int(r["id"].rsplit("-", 1)[1]))


if __name__ == "__main__":
    main()
