#!/usr/bin/python3
"""A real HTTP/1.1 server on 127.0.0.1 for the mirror client's integration
test. The request path selects the behaviour:

  /ok                200 with Content-Length, keep-alive
  /ok?drop=1         the same response, then the connection is closed without
                     any "Connection: close" (a keep-alive server going away)
  /ok?drop=rst       the same, then after 50 ms the connection is reset (RST)
  /chunked?n=N&size=S  200, Transfer-Encoding: chunked, N chunks of S bytes
  /close             200, "Connection: close", body delimited by the close
  /close?cl=1        the same with a Content-Length
  /hang              never answers; holds the connection until the client
                     closes it (at most HANG_LIMIT_S)
  /close-mid         headers announcing 1000 bytes, 500 of them, then close
  /status/NNN        status NNN (204/304 with no body; ?cl=N adds
                     "Content-Length: N" to a body-less status anyway)
  /interim           "100 Continue" then a 200
  /upgrade           "101 Switching Protocols", then the connection is held
                     like /hang (it no longer speaks HTTP)
  /slow?ms=N         200 after N milliseconds
  /__records?t=TAG&r=RUN  the records (below) whose query has t=TAG and
                     r=RUN (each optional), as TSV

Every request but /__records is recorded: method, path, Host header, body
length, FNV-1a 64 hash of the body, and the client port of its TCP
connection (so connection reuse is visible). A HEAD request gets the headers
the GET would have, without the body.

Usage: mirror_test_server.py [PORT] [--records FILE]
PORT 0 (default) picks a free port; the bound port is printed on stdout as
"port=N". With --records, each record is also appended to FILE as JSON.
"""

import http.server
import json
import os
import select
import socket
import struct
import sys
import threading
import time
import urllib.parse

HANG_LIMIT_S = 30.0
RECORDS = []
RECORDS_LOCK = threading.Lock()
RECORDS_FILE = None


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def record(rec):
    with RECORDS_LOCK:
        RECORDS.append(rec)
        if RECORDS_FILE is not None:
            RECORDS_FILE.write(json.dumps(rec) + "\n")
            RECORDS_FILE.flush()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mirror-test/1"

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        self.dispatch()

    def do_HEAD(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        chunks, left = [], n
        while left > 0:
            b = self.rfile.read(min(left, 65536))
            if not b:
                break
            chunks.append(b)
            left -= len(b)
        return b"".join(chunks)

    def body_out(self, data):
        if self.command != "HEAD":
            self.wfile.write(data)

    def reply(self, status, body=b"", extra=()):
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.body_out(body)

    def hold(self):
        """Waits, without answering, until the client closes the connection."""
        self.wfile.flush()
        deadline = time.monotonic() + HANG_LIMIT_S
        conn = self.connection
        while time.monotonic() < deadline:
            r, _, _ = select.select([conn], [], [], 0.2)
            if r:
                try:
                    if not conn.recv(65536):
                        break
                except OSError:
                    break
        self.close_connection = True

    def reset_later(self, delay):
        """Closes the connection with a RST (SO_LINGER 0) after <delay> s."""
        self.wfile.flush()
        time.sleep(delay)
        conn = self.connection
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        os.close(conn.detach())
        self.close_connection = True

    def dispatch(self):
        body = self.read_body()
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        path = url.path
        if path == "/__records":
            self.send_records(q.get("t"), q.get("r"))
            return
        record(
            {
                "method": self.command,
                "path": self.path,
                "host": self.headers.get("Host", ""),
                "body_len": len(body),
                "body_fnv": fnv1a64(body),
                "client_port": self.client_address[1],
                "t": q.get("t", ""),
                "r": q.get("r", ""),
            }
        )
        if path == "/ok":
            self.reply(200, b"ok\n" * 10)
            if q.get("drop") == "1":
                self.close_connection = True
            elif q.get("drop") == "rst":
                self.reset_later(0.05)
        elif path == "/chunked":
            n, size = int(q.get("n", "5")), int(q.get("size", "10"))
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            if self.command != "HEAD":
                for i in range(n):
                    self.wfile.write(b"%x\r\n" % size + bytes([65 + i % 26]) * size + b"\r\n")
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
        elif path == "/close":
            self.send_response(200)
            self.send_header("Connection", "close")
            body_bytes = b"closing\n" * 100
            if q.get("cl") == "1":
                self.send_header("Content-Length", str(len(body_bytes)))
            self.end_headers()
            self.body_out(body_bytes)
            self.close_connection = True
        elif path == "/hang":
            self.hold()
        elif path == "/close-mid":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.body_out(b"x" * 500)
            self.close_connection = True
        elif path.startswith("/status/"):
            status = int(path[len("/status/"):])
            if status in (204, 304):
                self.send_response(status)
                if "cl" in q:
                    self.send_header("Content-Length", q["cl"])
                self.end_headers()
            else:
                self.reply(status, b"status %d\n" % status)
        elif path == "/interim":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.wfile.flush()
            self.reply(200, b"after interim\n")
        elif path == "/upgrade":
            self.send_response(101)
            self.send_header("Connection", "Upgrade")
            self.send_header("Upgrade", "mirror-test")
            self.end_headers()
            self.hold()
        elif path == "/slow":
            time.sleep(int(q.get("ms", "100")) / 1000.0)
            self.reply(200, b"slow\n")
        else:
            self.reply(404, b"no such behaviour\n")

    def send_records(self, tag, run):
        with RECORDS_LOCK:
            rows = [r for r in RECORDS if (tag is None or r["t"] == tag) and (run is None or r["r"] == run)]
            lines = [
                "%s\t%s\t%s\t%d\t%s\t%d\n"
                % (r["method"], r["path"], r["host"] or "-", r["body_len"], r["body_fnv"], r["client_port"])
                for r in rows
            ]
        body = "".join(lines).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/tab-separated-values")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True


def main(argv):
    global RECORDS_FILE
    port = 0
    args = list(argv[1:])
    while args:
        a = args.pop(0)
        if a == "--records" and args:
            RECORDS_FILE = open(args.pop(0), "a", encoding="utf-8")
        else:
            port = int(a)
    srv = Server(("127.0.0.1", port), Handler)
    srv.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    print("port=%d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()


if __name__ == "__main__":
    main(sys.argv)
