#!/usr/bin/env python3
"""The shadow of the compare test: answers like the primary (it forwards
each request to the primary httpbin) but differs in known ways on known
paths, so that the test knows every verdict in advance:

  /anything/status    status 500 instead of 200            -> status_differs
  /anything/header    Content-Type text/plain              -> headers_differ
  /anything/extra     an extra JSON member "$.extra"        -> body_differs
  /anything/missing   the member "$.args" removed           -> body_differs
  /anything/changed   "$.method" changed to "PUT"           -> body_differs
  /anything/slow      the same answer, 300 ms later         -> match (slower)
  anything else       the same answer                       -> match
  /uuid               httpbin's own random uuid, as the primary's: differs
                      on every request, and so does the noise mirror's -> noise

With --noise it is the noise mirror: the same version as the primary (every
answer forwarded unchanged).

Usage: shadow.py PORT PRIMARY_PORT [--noise]. Prints "port=N" once listening."""
import http.client
import http.server
import json
import sys
import time


class Shadow(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        conn = http.client.HTTPConnection("127.0.0.1", PRIMARY, timeout=5)
        conn.request("GET", self.path, headers={"Host": self.headers.get("Host", "x")})
        r = conn.getresponse()
        body, status, ctype = r.read(), r.status, r.getheader("Content-Type", "")
        conn.close()
        path = self.path.split("?")[0]
        if NOISE:
            pass
        elif path == "/anything/status":
            status = 500
        elif path == "/anything/header":
            ctype = "text/plain"
        elif path in ("/anything/extra", "/anything/missing", "/anything/changed"):
            doc = json.loads(body)
            if path.endswith("extra"):
                doc["extra"] = 1
            elif path.endswith("missing"):
                del doc["args"]
            else:
                doc["method"] = "PUT"
            body = json.dumps(doc).encode()
        elif path == "/anything/slow":
            time.sleep(0.3)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


PRIMARY = int(sys.argv[2])
NOISE = "--noise" in sys.argv[3:]
server = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Shadow)
print("port=%d" % server.server_address[1], flush=True)
server.serve_forever()
