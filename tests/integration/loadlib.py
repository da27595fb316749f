"""Plumbing shared by the load clients and checkers of the integration tests
(lifecycle/load.py, mirroring/load_client.py, mirroring/verify.py,
capture/traffic.py, large_bodies/bodies.py): a keep-alive connection to
127.0.0.1 that records each exchange in a result dict, worker threads, the
JSON-lines output and input, and the "ok - " / "not ok - " lines a checker
prints. What to send, when to stop and what to check stays in each script.
"""

import http.client
import json
import math
import threading

# What check() counted so far.
checks = {"passed": 0, "failed": 0}


def check(cond, desc):
    """Prints one check line, "ok - <desc>" or "not ok - <desc>", and counts it."""
    checks["passed" if cond else "failed"] += 1
    print("%s - %s" % ("ok" if cond else "not ok", desc))


def note(text):
    """Prints a "# <text>" comment line."""
    print("# " + text)


def load(path):
    """The JSON objects of the JSON-lines file <path>."""
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def binomial_bounds(n, p, sigmas):
    """[lo, hi] for a Binomial(n, p) count: the mean +- <sigmas> standard deviations."""
    mean = n * p
    sd = math.sqrt(n * p * (1 - p))
    return math.ceil(mean - sigmas * sd), math.floor(mean + sigmas * sd)


def result(**fields):
    """A result dict: <fields> plus status, mirrored, spoe_err and error, all None."""
    res = {"status": None, "mirrored": None, "spoe_err": None, "error": None}
    res.update(fields)
    return res


class KeepAlive:
    """One keep-alive HTTP/1.1 connection to 127.0.0.1:<port>, opened on
    first use and opened again after the server closed it or an error."""

    def __init__(self, port, timeout):
        self.port = port
        self.timeout = timeout
        self.conn = None

    def exchange(self, res, method, path, headers, body=None):
        """Sends one request and reads the whole answer; nothing is retried.
        Sets res["status"], res["mirrored"] (X-Mirrored) and res["spoe_err"]
        (X-Spoe-Err) and returns (response, payload); or sets res["error"]
        ("<exception type>: <message>") and returns (None, None)."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            self.conn.request(method, path, body=body, headers=headers)
            resp = self.conn.getresponse()
            payload = resp.read()
        except (OSError, http.client.HTTPException) as e:
            res["error"] = "%s: %s" % (type(e).__name__, e)
            self.close()
            return None, None
        res["status"] = resp.status
        res["mirrored"] = resp.getheader("X-Mirrored")
        res["spoe_err"] = resp.getheader("X-Spoe-Err")
        if resp.will_close:
            self.close()
        return resp, payload

    def close(self):
        """Closes the connection, if one is open."""
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def run_threads(count, target, args, join_seconds):
    """Runs target(*args) in <count> daemon threads and waits for each one at
    most <join_seconds>."""
    threads = [threading.Thread(target=target, args=args, daemon=True) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(join_seconds)


def run_numbered(count, parallel, port, timeout, send, join_seconds):
    """Sends requests number 0 to <count> - 1, in that order, from <parallel>
    threads, each on its own KeepAlive(port, timeout): a thread takes the next
    number i and appends send(conn, i), a result dict, to the list that is
    returned. Waits for each thread at most <join_seconds>."""
    # list.pop() and list.append() are atomic under the GIL.
    source = list(range(count - 1, -1, -1))
    results = []

    def work():
        conn = KeepAlive(port, timeout)
        while True:
            try:
                i = source.pop()
            except IndexError:
                break
            results.append(send(conn, i))
        conn.close()

    run_threads(parallel, work, (), join_seconds)
    return results


def write_results(path, results, key):
    """Writes <results> to <path>, sorted by key(result), as one compact JSON
    object (sorted keys) a line."""
    with open(path, "w") as f:
        for r in sorted(results, key=key):
            f.write(json.dumps(r, separators=(",", ":"), sort_keys=True) + "\n")
