#!/usr/bin/env python3
"""An HTTP server standing in for the shadow services.

Usage: mirror_sink.py PORT_FILE LOG SECONDS

Listens on 127.0.0.1 on a free port, written to PORT_FILE; answers every
request 200 and appends "METHOD PATH HOST" to LOG. Exits after SECONDS.
"""
import http.server
import sys
import threading


def main():
    port_file, log, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])

    class Handler(http.server.BaseHTTPRequestHandler):
        def handle_one(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            with open(log, "a") as out:
                out.write(f"{self.command} {self.path} {self.headers.get('Host')}\n")
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_one

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(port_file, "w") as f:
        f.write(f"{server.server_address[1]}\n")
    threading.Timer(seconds, server.shutdown).start()
    server.serve_forever(poll_interval=0.1)


if __name__ == "__main__":
    main()
