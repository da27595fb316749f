#!/usr/bin/python3
"""Mirrors that misbehave the way real servers can, for
tests/integration/test_mirror_faults.sh and the fault scenarios of
bench/run_e2e.sh. Each fault listens on its own 127.0.0.1 port:

  huge      reads the request, answers 200 with a 4 GiB Content-Length and
            sends zeros as fast as the socket takes them, until the client
            closes or 4 GiB went out
  trickle   reads the request, then sends a valid response one byte a second
  reset     reads the request, then resets the connection (RST)
  midclose  reads the request, announces 100000 bytes, sends 1000, closes
  flood1xx  reads the request, then sends "100 Continue" interim responses
            without end, as fast as the socket takes them
  garbage   reads the request, answers bytes that are not HTTP, closes
  noread    accepts and never reads; holds the connection until the client
            closes it
  ok        reads the request, answers 200 with a small body, keep-alive

Usage: faulty_mirror.py --max-seconds S FAULT=PORT [FAULT=PORT ...]
Prints "ready" once every port listens. Every connection is served on its
own thread and held at most S seconds, after which the server exits by
itself. On exit (SIGTERM, or S elapsed) it prints one line per fault:
"<fault> connections=N requests=N bytes_out=N".
"""

import signal
import socket
import struct
import sys
import threading
import time

CHUNK = 256 * 1024
HUGE_BYTES = 4 << 30
STATS = {}
LOCK = threading.Lock()
DEADLINE = [0.0]


def count(fault, key, n=1):
    with LOCK:
        STATS.setdefault(fault, {"connections": 0, "requests": 0, "bytes_out": 0})[key] += n


def read_request(conn, fault):
    """Reads one request (head and Content-Length body). False at EOF."""
    data = b""
    while b"\r\n\r\n" not in data:
        b = conn.recv(65536)
        if not b:
            return False
        data += b
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        b = conn.recv(65536)
        if not b:
            return False
        rest += b
    count(fault, "requests")
    return True


def send(conn, fault, data):
    conn.sendall(data)
    count(fault, "bytes_out", len(data))


def serve(conn, fault):
    conn.settimeout(max(0.1, DEADLINE[0] - time.monotonic()))
    if fault == "noread":
        while time.monotonic() < DEADLINE[0]:
            # Never reads: only waits for the client to go away.
            try:
                if conn.recv(1, socket.MSG_PEEK) == b"":
                    return
            except socket.timeout:
                return
            time.sleep(0.2)
        return
    while read_request(conn, fault):
        if fault == "ok":
            send(conn, fault, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            continue
        if fault == "huge":
            send(conn, fault, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % HUGE_BYTES)
            zeros, sent = bytes(CHUNK), 0
            while sent < HUGE_BYTES:
                send(conn, fault, zeros)
                sent += CHUNK
        elif fault == "trickle":
            for i in range(len(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")):
                send(conn, fault, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"[i:i + 1])
                time.sleep(1)
        elif fault == "reset":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif fault == "midclose":
            send(conn, fault, b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 1000)
        elif fault == "flood1xx":
            burst = b"HTTP/1.1 100 Continue\r\n\r\n" * 2000
            while True:
                send(conn, fault, burst)
        elif fault == "garbage":
            send(conn, fault, b"\x00\x01\x02 this is not HTTP \xff\xfe\r\n\r\n" * 64)
        return


def handle(conn, fault):
    try:
        serve(conn, fault)
    except OSError:
        pass
    finally:
        conn.close()


def listen(fault, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(512)
    s.settimeout(0.2)
    return s


def accept_loop(s, fault, handler):
    """Serves each connection of listening socket <s> on its own thread with
    handler(conn, fault), until DEADLINE."""
    while time.monotonic() < DEADLINE[0]:
        try:
            conn, _ = s.accept()
        except socket.timeout:
            continue
        except OSError:
            return
        count(fault, "connections")
        threading.Thread(target=handler, args=(conn, fault), daemon=True).start()


def report(*_):
    """Prints "<fault> key=N ..." for every fault, its counters in order, and exits."""
    with LOCK:
        for fault in sorted(STATS):
            print(fault + "".join(" %s=%d" % kv for kv in STATS[fault].items()), flush=True)
    sys.exit(0)


def run(argv, usage, known, keys, handler):
    """The command line of a faulty server ("--max-seconds S FAULT=PORT
    ..."): each FAULT in <known> listens on its PORT, each connection served
    by handler(conn, fault), counters <keys> per fault; prints "ready",
    and report() on SIGTERM or when S elapsed."""
    if len(argv) < 4 or argv[1] != "--max-seconds":
        sys.exit(usage)
    DEADLINE[0] = time.monotonic() + float(argv[2])
    faults = [a.split("=", 1) for a in argv[3:]]
    for fault, _ in faults:
        if fault not in known:
            sys.exit("unknown fault %r (known: %s)" % (fault, ", ".join(known)))
        STATS[fault] = dict.fromkeys(keys, 0)
    signal.signal(signal.SIGTERM, report)
    threads = []
    for fault, port in faults:
        t = threading.Thread(target=accept_loop, args=(listen(fault, int(port)), fault, handler), daemon=True)
        t.start()
        threads.append(t)
    print("ready", flush=True)
    for t in threads:
        t.join()
    report()


if __name__ == "__main__":
    run(sys.argv, __doc__, ("huge", "trickle", "reset", "midclose", "flood1xx", "garbage", "noread", "ok"),
        ("connections", "requests", "bytes_out"), handle)
