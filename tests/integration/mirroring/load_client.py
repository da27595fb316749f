"""Load client of tests/integration/test_mirroring.sh.

Sends COUNT requests to 127.0.0.1:PORT from PARALLEL threads, each thread on
its own keep-alive connection, and writes one JSON line per request to OUT:
    id, method, path, body_sha256, status, mirrored (X-Mirrored header),
    spoe_err (X-Spoe-Err), served_by (X-Recorded-By), echo_ok, ms, error.
Request i is "GET /headers?n=i" when i is even and "POST /anything?n=i" with
a JSON body unique to the request when i is odd; every request carries
"X-Test-Id: <prefix>-<i>" and the given Host. echo_ok tells whether httpbin's
answer echoes that request (its X-Test-Id, and for a POST the exact body).
Nothing is retried: an error is recorded as it happened.

usage: load_client.py --port P --host H --prefix ID --count N --parallel K
                      --out FILE [--hop-headers] [--post-bytes N] [--deadline SECONDS]
"""

import argparse
import hashlib
import json
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import loadlib  # noqa: E402  (tests/integration/loadlib.py)

# Hop-by-hop headers a client may send; none may reach a mirror. HAProxy
# consumes the "keep-alive" token of Connection and passes the rest on, so
# Connection also names a custom header, which is then hop-by-hop too.
HOP_HEADERS = [("Connection", "keep-alive, X-Hop-Token"), ("Keep-Alive", "timeout=5"), ("TE", "trailers"),
               ("X-Hop-Token", "1")]


def build_request(prefix, i, host, hop, pad=0):
    """The request number <i>: (id, method, path, headers, body); a POST's
    JSON body is padded with <pad> bytes."""
    rid = "%s-%d" % (prefix, i)
    headers = {"Host": host, "X-Test-Id": rid}
    if hop:
        headers.update(HOP_HEADERS)
    if i % 2 == 0:
        return rid, "GET", "/headers?n=%d" % i, headers, b""
    doc = {"id": rid, "n": i, "nonce": os.urandom(12).hex()}
    if pad:
        doc["pad"] = "p" * pad
    body = json.dumps(doc).encode()
    headers["Content-Type"] = "application/json"
    return rid, "POST", "/anything?n=%d" % i, headers, body


def echoes(method, rid, body, payload):
    """True when httpbin's JSON answer <payload> echoes the request."""
    try:
        doc = json.loads(payload)
    except ValueError:
        return False
    if doc.get("headers", {}).get("X-Test-Id") != rid:
        return False
    return method == "GET" or doc.get("data") == body.decode()


def one(args, conn, i, deadline):
    """Sends request number <i> (unless the deadline has passed) and returns its result."""
    rid, method, path, headers, body = build_request(args.prefix, i, args.host, args.hop_headers, args.post_bytes)
    res = loadlib.result(id=rid, method=method, path=path, body_sha256=hashlib.sha256(body).hexdigest(),
                         served_by=None, echo_ok=False, ms=None)
    if time.monotonic() > deadline:
        res["error"] = "not sent: deadline passed"
        return res
    t0 = time.perf_counter()
    resp, payload = conn.exchange(res, method, path, headers, body if method == "POST" else None)
    if resp is not None:
        res["ms"] = (time.perf_counter() - t0) * 1000.0
        res["served_by"] = resp.getheader("X-Recorded-By")
        res["echo_ok"] = resp.status == 200 and echoes(method, rid, body, payload)
    return res


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--host", required=True)
    p.add_argument("--prefix", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--parallel", type=int, default=8)
    p.add_argument("--out", required=True)
    p.add_argument("--hop-headers", action="store_true")
    p.add_argument("--post-bytes", type=int, default=0, help="pad POST bodies with this many bytes")
    p.add_argument("--timeout", type=float, default=5.0)
    p.add_argument("--deadline", type=float, default=30.0)
    args = p.parse_args()

    deadline = time.monotonic() + args.deadline
    results = loadlib.run_numbered(args.count, args.parallel, args.port, args.timeout,
                                   lambda conn, i: one(args, conn, i, deadline), args.deadline + args.timeout + 5)
    loadlib.write_results(args.out, results, key=lambda r: int(r["id"].rsplit("-", 1)[1]))
    return 0 if len(results) == args.count and all(r["status"] == 200 for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
