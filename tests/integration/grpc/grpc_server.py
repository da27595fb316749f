#!/usr/bin/python3
"""Real gRPC servers (python3-grpcio, generic handlers over raw bytes: no
protobuf) for tests/integration/test_grpc.sh, on 127.0.0.1.

Service "shadowtest.Echo":
  Unary    (unary -> unary)           Collect (client streaming -> unary)
  Chat     (bidirectional streaming, primary only)

  --role primary   answers every call: Unary with b"unary:" + sha256(message),
                   Collect with b"collect:<count>:" + sha256(every message,
                   concatenated), Chat with b"chat:" + each message as it
                   comes; the client checks them (grpc_client.py).
  --role shadow    answers with a known status per method, so that the agent's
                   grpc-status metric can be checked: Unary OK (b"shadow"),
                   Collect NOT_FOUND (5); any other method UNIMPLEMENTED (12).
                   Records every call it gets, known method or not, as one
                   JSON line appended to --records FILE (flushed at once):
                   method (the request path), metadata ([[key, value], ...],
                   "-bin" values in hex), messages (the sha256 of each message,
                   in order), sizes, count, code.

The bound port is printed on stdout as "port=N" once the server serves.
usage: grpc_server.py --role primary|shadow [--port N] [--records FILE]
"""

import argparse
import hashlib
import json
import sys
import threading
from concurrent import futures

import grpc

SERVICE = "shadowtest.Echo"
# The shadow's status per method: the metric's expected labels.
SHADOW_CODES = {"Unary": grpc.StatusCode.OK, "Collect": grpc.StatusCode.NOT_FOUND}


def primary_unary(message, _ctx):
    return b"unary:" + hashlib.sha256(message).hexdigest().encode()


def primary_collect(messages, _ctx):
    msgs = list(messages)
    return b"collect:%d:" % len(msgs) + hashlib.sha256(b"".join(msgs)).hexdigest().encode()


def primary_chat(messages, _ctx):
    for m in messages:
        yield b"chat:" + m


def metadata_list(md):
    """[[key, value], ...] with binary ("-bin") values in hex."""
    return [[k, v.hex() if isinstance(v, bytes) else v] for k, v in md]


class Recorder:
    """Appends one JSON line per call to a file, from any server thread."""

    def __init__(self, path):
        self.lock = threading.Lock()
        self.out = open(path, "a", encoding="utf-8")

    def record(self, method, md, msgs, code):
        line = json.dumps({"method": method, "metadata": metadata_list(md),
                           "messages": [hashlib.sha256(m).hexdigest() for m in msgs],
                           "sizes": [len(m) for m in msgs], "count": len(msgs), "code": code.value[0]})
        with self.lock:
            self.out.write(line + "\n")
            self.out.flush()


class ShadowHandler(grpc.GenericRpcHandler):
    """Every method of every service: records the call, answers its status."""

    def __init__(self, recorder):
        self.recorder = recorder

    def service(self, details):
        method = details.method
        name = method.rsplit("/", 1)[-1] if method.startswith("/%s/" % SERVICE) else ""
        code = SHADOW_CODES.get(name, grpc.StatusCode.UNIMPLEMENTED)
        md = list(details.invocation_metadata)

        def finish(msgs, ctx):
            self.recorder.record(method, md, msgs, code)
            if code != grpc.StatusCode.OK:
                ctx.abort(code, "shadow answers %s for %s" % (code.name, method))
            return b"shadow"

        if name == "Unary":
            return grpc.unary_unary_rpc_method_handler(lambda m, ctx: finish([m], ctx))
        # Collect and unknown methods: read the request stream whole.
        return grpc.stream_unary_rpc_method_handler(lambda it, ctx: finish(list(it), ctx))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--role", choices=["primary", "shadow"], required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--records")
    args = ap.parse_args()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    if args.role == "primary":
        server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(SERVICE, {
            "Unary": grpc.unary_unary_rpc_method_handler(primary_unary),
            "Collect": grpc.stream_unary_rpc_method_handler(primary_collect),
            "Chat": grpc.stream_stream_rpc_method_handler(primary_chat),
        })])
    else:
        if not args.records:
            sys.exit("--records is required for the shadow")
        server.add_generic_rpc_handlers([ShadowHandler(Recorder(args.records))])
    port = server.add_insecure_port("127.0.0.1:%d" % args.port)
    if port == 0:
        sys.exit("cannot bind 127.0.0.1:%d" % args.port)
    server.start()
    print("port=%d" % port, flush=True)
    server.wait_for_termination()


if __name__ == "__main__":
    main()
