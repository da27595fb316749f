#!/usr/bin/python3
"""Load client of tests/integration/test_metrics.sh and test_lifecycle.sh.

Sends requests to 127.0.0.1:PORT from PARALLEL threads, each on its own
keep-alive connection, until DURATION seconds have passed or MAX requests
were sent, whichever comes first. Request n is "GET <path>&n=<n>" (or
"?n=<n>" when PATH has no query) with the Host header taken in turn from
HOSTS. Nothing is retried. Each request is written to OUT as one JSON line:
    n, host, start, end (Unix milliseconds), status, mirrored (X-Mirrored),
    spoe_err (X-Spoe-Err), error (null, or why there was no response).

usage: load.py --port P --path PATH --hosts H1[,H2...] --parallel K
               --duration SECONDS --max N --out FILE [--timeout SECONDS]
               [--rate PER-SECOND]
Exit status 0 when every request got a 200, 1 otherwise.
"""

import argparse
import http.client
import itertools
import json
import threading
import time


def now_ms():
    return int(time.time() * 1000)


class Worker(threading.Thread):
    """Sends requests numbered by <counter> until the deadline or the maximum."""

    def __init__(self, args, counter, lock, results, deadline):
        super().__init__(daemon=True)
        self.args = args
        self.counter = counter
        self.lock = lock
        self.results = results
        self.deadline = deadline
        self.conn = None

    def next_number(self):
        with self.lock:
            n = next(self.counter)
        return n if n < self.args.max else None

    def one(self, n):
        a = self.args
        hosts = a.hosts.split(",")
        host = hosts[n % len(hosts)]
        path = a.path + ("&" if "?" in a.path else "?") + "n=%d" % n
        res = {"n": n, "host": host, "start": now_ms(), "end": None, "status": None, "mirrored": None,
               "spoe_err": None, "error": None}
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", a.port, timeout=a.timeout)
        try:
            self.conn.request("GET", path, headers={"Host": host})
            resp = self.conn.getresponse()
            resp.read()
            res["status"] = resp.status
            res["mirrored"] = resp.getheader("X-Mirrored")
            res["spoe_err"] = resp.getheader("X-Spoe-Err")
            if resp.will_close:
                self.conn.close()
                self.conn = None
        except (OSError, http.client.HTTPException) as e:
            res["error"] = "%s: %s" % (type(e).__name__, e)
            self.conn.close()
            self.conn = None
        res["end"] = now_ms()
        return res

    def run(self):
        # With --rate, each worker paces itself to its share of the rate.
        interval = self.args.parallel / self.args.rate if self.args.rate > 0 else 0.0
        next_at = time.monotonic()
        while time.monotonic() < self.deadline:
            n = self.next_number()
            if n is None:
                break
            self.results.append(self.one(n))
            next_at += interval
            pause = min(next_at - time.monotonic(), self.deadline - time.monotonic())
            if pause > 0:
                time.sleep(pause)
        if self.conn is not None:
            self.conn.close()


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
    args = p.parse_args()

    counter, lock, results = itertools.count(), threading.Lock(), []
    deadline = time.monotonic() + args.duration
    workers = [Worker(args, counter, lock, results, deadline) for _ in range(args.parallel)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(args.duration + args.timeout + 5)
    with open(args.out, "w") as f:
        for r in sorted(results, key=lambda r: r["n"]):
            f.write(json.dumps(r, separators=(",", ":"), sort_keys=True) + "\n")
    return 0 if results and all(r["status"] == 200 for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
