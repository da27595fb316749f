#!/usr/bin/python3
"""A real gRPC client (python3-grpcio, raw bytes) for
tests/integration/test_grpc.sh: makes UNARY calls of /shadowtest.Echo/Unary
and STREAMING calls of /shadowtest.Echo/Collect (client streaming) over h2c
to 127.0.0.1:PORT (HAProxy), PARALLEL at a time on one channel (one HTTP/2
connection), and writes one JSON line per call to OUT, in call order:
    id, method, metadata (what the call sent, "-bin" values in hex),
    messages (the sha256 of each message sent, in order), sizes,
    code (the gRPC status name), answer_ok (the primary's exact answer),
    mirrored / spoe_err (HAProxy's X-Mirrored / X-Spoe-Err response headers,
    which reach a gRPC client as initial metadata), error.

Every call carries "x-call-id: <prefix>-<i>", an ASCII metadata entry, a
binary ("-bin") one unique to the call, and a deadline. Messages are random
bytes of 0 to MAX_BYTES bytes (an empty message included), so the body is
a few length-prefixed messages that fit one HAProxy buffer. Nothing is
retried; calls not started by --deadline seconds are not made (the run then
exits 1).

With --authority the calls carry that :authority (HAProxy's Host). With
--big, one more unary call and one more streaming call each carry more
bytes than HAProxy's buffer holds (20,000 and 3 x 7,000 bytes). With
--bidi N, N bidirectional-streaming calls of /shadowtest.Echo/Chat follow,
each interactive: a message, its answer, a second message, its answer, and
only then the end of the request stream.

usage: grpc_client.py --port P --prefix ID --unary N --streaming M --out FILE
                      [--authority A] [--big] [--bidi N] [--parallel K] [--max-bytes B]
                      [--deadline SECONDS]
"""

import argparse
import concurrent.futures
import hashlib
import json
import os
import queue
import random
import sys
import time

import grpc

UNARY = "/shadowtest.Echo/Unary"
COLLECT = "/shadowtest.Echo/Collect"
CHAT = "/shadowtest.Echo/Chat"


def expected(method, msgs):
    """The primary's answer to <msgs> (grpc_server.py --role primary)."""
    if method == UNARY:
        return b"unary:" + hashlib.sha256(msgs[0]).hexdigest().encode()
    if method == CHAT:
        return [b"chat:" + m for m in msgs]
    return b"collect:%d:" % len(msgs) + hashlib.sha256(b"".join(msgs)).hexdigest().encode()


def messages(rng, method, i, max_bytes):
    """The messages of call <i>; call 0 of each kind sends an empty one; a
    call numbered "big" more than one HAProxy buffer."""
    if i == "big":
        return [os.urandom(20000)] if method == UNARY else [os.urandom(7000) for _ in range(3)]
    n = 1 if method == UNARY else 2 if method == CHAT else rng.randint(1, 5)
    sizes = [0 if i == 0 and k == 0 else rng.randint(1, max_bytes) for k in range(n)]
    return [os.urandom(s) for s in sizes]


def chat(channel, msgs, md, timeout):
    """One interactive bidirectional call: each message is sent only once the
    answer to the one before arrived. Returns (answers, call)."""
    outbox = queue.Queue()

    def requests():
        while True:
            m = outbox.get()
            if m is None:
                return
            yield m

    c = channel.stream_stream(CHAT)(requests(), metadata=md, timeout=timeout)
    answers = []
    for m in msgs:
        outbox.put(m)
        answers.append(next(c))
    outbox.put(None)
    answers.extend(c)
    return answers, c


def call(channel, method, rid, msgs, timeout):
    """Makes one call; returns its JSON record."""
    md = [("x-call-id", rid), ("x-tenant", "acme"), ("trace-bin", hashlib.sha256(rid.encode()).digest()[:12])]
    rec = {"id": rid, "method": method, "metadata": [[k, v.hex() if isinstance(v, bytes) else v] for k, v in md],
           "messages": [hashlib.sha256(m).hexdigest() for m in msgs], "sizes": [len(m) for m in msgs],
           "code": None, "answer_ok": False, "mirrored": None, "spoe_err": None, "error": None}
    try:
        if method == UNARY:
            answer, c = channel.unary_unary(method).with_call(msgs[0], metadata=md, timeout=timeout)
        elif method == COLLECT:
            answer, c = channel.stream_unary(method).with_call(iter(msgs), metadata=md, timeout=timeout)
        else:
            answer, c = chat(channel, msgs, md, timeout)
        rec["code"] = c.code().name
        rec["answer_ok"] = answer == expected(method, msgs)
        initial = dict(c.initial_metadata())
        rec["mirrored"] = initial.get("x-mirrored")
        rec["spoe_err"] = initial.get("x-spoe-err")
    except grpc.RpcError as e:
        rec["code"] = e.code().name
        rec["error"] = e.details()
    return rec


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--prefix", required=True)
    ap.add_argument("--unary", type=int, default=0)
    ap.add_argument("--streaming", type=int, default=0)
    ap.add_argument("--authority")
    ap.add_argument("--big", action="store_true")
    ap.add_argument("--bidi", type=int, default=0)
    ap.add_argument("--parallel", type=int, default=1)
    ap.add_argument("--max-bytes", type=int, default=1500)
    ap.add_argument("--deadline", type=float, default=60)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    rng = random.Random(args.prefix)
    stop = time.monotonic() + args.deadline
    plan = [(UNARY, i) for i in range(args.unary)] + [(COLLECT, i) for i in range(args.streaming)]
    if args.big:
        plan += [(UNARY, "big"), (COLLECT, "big")]
    plan += [(CHAT, i) for i in range(args.bidi)]
    options = [("grpc.default_authority", args.authority)] if args.authority else []
    calls = [("%s-%s-%s" % (args.prefix, {UNARY: "u", COLLECT: "s", CHAT: "b"}[method], i), method,
              messages(rng, method, i, args.max_bytes)) for method, i in plan]

    def one(channel, rid, method, msgs):
        if time.monotonic() > stop:
            return None
        return call(channel, method, rid, msgs, 5)

    with grpc.insecure_channel("127.0.0.1:%d" % args.port, options=options) as channel, \
            concurrent.futures.ThreadPoolExecutor(args.parallel) as pool:
        results = [pool.submit(one, channel, *c) for c in calls]
        records = [r.result() for r in results]
    with open(args.out, "w") as out:
        for rec in records:
            if rec is not None:
                out.write(json.dumps(rec) + "\n")
    if None in records:
        sys.exit("deadline reached: %d calls not made" % records.count(None))


if __name__ == "__main__":
    main()
