#!/usr/bin/python3
"""Regenerates the seed corpus of the fuzz_h2_client target with python3-h2:
what an HTTP/2 server sends to the client's first copies (streams 1, 3, 5,
7: GET, POST, GET, POST), each seed prefixed with the target's cfg byte
(how many copies, EOF, timers, body limit: see fuzz_h2_client.c) and one split point, after the server's preface;
the "-deferred" seeds set the cuts byte's bit 4 too (the transport defers
work to sweeps and the client delays its writes). Run from the repository root:
    python3 tests/fuzz/make_h2_corpus.py
"""
import os

import h2.config
import h2.connection
import h2.errors
import h2.settings

OUT = "tests/fuzz/corpus/fuzz_h2_client"


def server(max_streams=None):
    """A server that has seen the client's preface and requests 1, 3, 5, 7."""
    client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    client.initiate_connection()
    for sid in (1, 3, 5, 7):
        client.send_headers(sid, [(":method", "GET"), (":scheme", "http"), (":authority", "m"), (":path", "/")],
                            end_stream=True)
    srv = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False, validate_inbound_headers=False))
    srv.initiate_connection()
    if max_streams:
        srv.update_settings({h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: max_streams})
    srv.receive_data(client.data_to_send())
    return srv, srv.data_to_send()


def emit(name, cfg, preface, data, deferred=False):
    """A seed whose stream is split after the server's preface (SETTINGS and
    its ACK): the client opens its queued streams in between, as it would
    with a real server."""
    with open(os.path.join(OUT, name + ".bin"), "wb") as f:
        f.write(bytes([cfg, 0x11 if deferred else 1]) + len(preface).to_bytes(2, "big") + preface + data)


def main():
    os.makedirs(OUT, exist_ok=True)
    s, pre = server()
    s.send_headers(1, [(":status", "200"), ("content-length", "2")])
    s.send_data(1, b"ok", end_stream=True)
    emit("one-200", 0x00, pre, s.data_to_send())

    s, pre = server()
    for sid in (1, 3, 5, 7):
        s.send_headers(sid, [(":status", "200")])
        s.send_data(sid, b"x" * 40, end_stream=True)
    data = s.data_to_send()
    emit("four-bodies-cut-at-16", 0x23, pre, data)
    emit("four-bodies-deferred", 0x23, pre, data, deferred=True)

    s, pre = server()
    s.send_headers(1, [(":status", "100")])
    s.send_headers(1, [(":status", "204")], end_stream=True)
    s.send_headers(3, [(":status", "200"), ("content-type", "application/grpc")])
    s.send_data(3, b"\0\0\0\0\0")
    s.send_headers(3, [("grpc-status", "14")], end_stream=True)
    emit("interim-and-grpc-trailers", 0x01, pre, s.data_to_send())

    s, pre = server()
    s.send_headers(1, [(":status", "200"), ("grpc-status", "0")], end_stream=True)
    s.reset_stream(3, h2.errors.ErrorCodes.REFUSED_STREAM)
    s.reset_stream(5, h2.errors.ErrorCodes.INTERNAL_ERROR)
    emit("grpc-ok-refused-reset", 0x02, pre, s.data_to_send())

    s, pre = server()
    s.send_headers(1, [(":status", "200")], end_stream=True)
    s.close_connection(last_stream_id=1)
    data = s.data_to_send()
    emit("goaway-after-first", 0x03, pre, data)
    emit("goaway-after-first-deferred", 0x0b, pre, data, deferred=True)

    s, pre = server(max_streams=1)
    s.send_headers(1, [(":status", "503")])
    emit("one-stream-body-never-ends", 0x0d, pre, s.data_to_send())


if __name__ == "__main__":
    main()
