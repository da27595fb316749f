#!/usr/bin/python3
"""Load client of tests/integration/test_metrics.sh, test_lifecycle.sh and
test_mirror_readdress.sh.

Sends requests to 127.0.0.1:PORT from PARALLEL threads, each on its own
keep-alive connection, until DURATION seconds have passed or MAX requests
were sent, whichever comes first. Request n is "GET <path>&n=<n>" (or
"?n=<n>" when PATH has no query) with the Host header taken in turn from
HOSTS. With --stop-file, the clients also stop once that file exists.
Nothing is retried. Each request is written to OUT as one JSON line:
    n, host, start, end (Unix milliseconds), status, mirrored (X-Mirrored),
    spoe_err (X-Spoe-Err), error (null, or why there was no response).

usage: load.py --port P --path PATH --hosts H1[,H2...] --parallel K
               --duration SECONDS --max N --out FILE [--timeout SECONDS]
               [--rate PER-SECOND] [--stop-file PATH]
Exit status 0 when every request got a 200, 1 otherwise.
"""

import argparse
import itertools
import os
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import loadlib  # noqa: E402  (tests/integration/loadlib.py)


def now_ms():
    return int(time.time() * 1000)


def worker(args, counter, lock, results, deadline):
    """Sends requests numbered by <counter> until the deadline, the maximum or
    the stop file; with --rate, paces itself to its share of the rate."""
    conn = loadlib.KeepAlive(args.port, args.timeout)
    hosts = args.hosts.split(",")
    interval = args.parallel / args.rate if args.rate > 0 else 0.0
    next_at = time.monotonic()
    while time.monotonic() < deadline and not (args.stop_file and os.path.exists(args.stop_file)):
        with lock:
            n = next(counter)
        if n >= args.max:
            break
        host = hosts[n % len(hosts)]
        path = args.path + ("&" if "?" in args.path else "?") + "n=%d" % n
        res = loadlib.result(n=n, host=host, start=now_ms(), end=None)
        conn.exchange(res, "GET", path, {"Host": host})
        res["end"] = now_ms()
        results.append(res)
        next_at += interval
        pause = min(next_at - time.monotonic(), deadline - time.monotonic())
        if pause > 0:
            time.sleep(pause)
    conn.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--path", required=True)
    p.add_argument("--hosts", required=True)
    p.add_argument("--parallel", type=int, default=8)
    p.add_argument("--duration", type=float, required=True)
    p.add_argument("--max", type=int, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--timeout", type=float, default=5.0)
    p.add_argument("--rate", type=float, default=0.0)
    p.add_argument("--stop-file")
    args = p.parse_args()

    counter, lock, results = itertools.count(), threading.Lock(), []
    deadline = time.monotonic() + args.duration
    loadlib.run_threads(args.parallel, worker, (args, counter, lock, results, deadline),
                        args.duration + args.timeout + 5)
    loadlib.write_results(args.out, results, key=lambda r: r["n"])
    return 0 if results and all(r["status"] == 200 for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
