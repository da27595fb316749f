#!/usr/bin/python3
"""HTTP/1.1 sink of tests/integration/test_capture.sh for the replayed
capture: answers every request 200 on 127.0.0.1 and appends one JSON line
per request to OUT: method, path, headers (a list of [lower-case name,
value], in arrival order), body length and FNV-1a 64 of the body.
mirror_test_server.py keeps only the Host header; the round-trip check
needs them all (the request id, and that no redacted header came back).

usage: replay_sink.py PORT OUT   (PORT 0 picks one; prints "port=N")
"""

import http.server
import json
import socket
import sys
import threading

sys.dont_write_bytecode = True
LOCK = threading.Lock()
OUT = None


def fnv1a64(data):
    """FNV-1a 64 of <data> as 16 hex digits."""
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def handle_one(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n > 0 else b""
        rec = {
            "method": self.command,
            "path": self.path,
            "headers": [[k.lower(), v] for k, v in self.headers.items()],
            "body_len": len(body),
            "body_fnv": fnv1a64(body),
        }
        with LOCK:
            OUT.write(json.dumps(rec) + "\n")
            OUT.flush()
        self.send_response(200)
        self.send_header("Content-Length", "3")
        self.end_headers()
        self.wfile.write(b"ok\n")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_one

    def do_HEAD(self):
        self.handle_one()


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


def main(argv):
    global OUT
    OUT = open(argv[2], "a", encoding="utf-8")
    srv = Server(("127.0.0.1", int(argv[1])), Handler)
    srv.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    print("port=%d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main(sys.argv)
