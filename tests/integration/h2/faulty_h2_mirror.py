#!/usr/bin/python3
"""HTTP/2 mirrors (cleartext, prior knowledge) that misbehave the way real
servers can, for tests/integration/test_mirror_faults.sh and the HTTP/2
fault scenarios of bench/run_e2e.sh. Each fault listens on its own
127.0.0.1 port and answers every stream of every connection the same way:

  huge      200 with a 4 GiB content-length, then DATA as fast as flow
            control lets it, until the client resets the stream or the
            connection goes
  endless   200 without content-length, then DATA without end, likewise
  reset     RST_STREAM (INTERNAL_ERROR) once the request is in
  flood1xx  100 interim responses (103 Early Hints) and never a final one
  stall     a stream window of 0 (request bodies cannot be sent) and no
            answer at all
  garbage   bytes that are not HTTP/2 instead of its preface, then closes

Usage: faulty_h2_mirror.py --max-seconds S FAULT=PORT [FAULT=PORT ...]
Prints "ready" once every port listens. Each connection is served on its
own thread; after S seconds the server exits by itself. On exit (SIGTERM,
or S elapsed) it prints one line per fault: "<fault> connections=N
streams=N resets_received=N bytes_out=N".
"""

import os
import select
import sys
import time

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import faulty_mirror as base  # noqa: E402  (its command line, listener, accept loop and counters)

HUGE_BYTES = 4 << 30
CHUNK = 16384
FAULTS = ("huge", "endless", "reset", "flood1xx", "stall", "garbage")
count = base.count


class Streamer:
    """The streams of one connection whose body is still being sent."""

    def __init__(self, fault):
        self.fault = fault
        self.sent = {}  # stream id -> bytes of DATA sent

    def start(self, conn, sid):
        headers = [(":status", "200"), ("content-type", "application/octet-stream")]
        if self.fault == "huge":
            headers.append(("content-length", str(HUGE_BYTES)))
        conn.send_headers(sid, headers)
        self.sent[sid] = 0

    def pump(self, conn):
        """Sends what the flow-control windows allow, a chunk per stream in turn."""
        progress = True
        while progress and self.sent:
            progress = False
            for sid in list(self.sent):
                try:
                    room = min(conn.local_flow_control_window(sid), conn.max_outbound_frame_size, CHUNK)
                except h2.exceptions.StreamClosedError:
                    del self.sent[sid]
                    continue
                if room <= 0:
                    continue
                if self.fault == "huge":
                    room = min(room, HUGE_BYTES - self.sent[sid])
                last = self.fault == "huge" and self.sent[sid] + room >= HUGE_BYTES
                conn.send_data(sid, bytes(room), end_stream=last)
                self.sent[sid] += room
                if last:
                    del self.sent[sid]
                progress = True


def serve(sock, fault):
    if fault == "garbage":
        data = b"\x00\x01\x02 this is not HTTP/2 \xff\xfe\r\n\r\n" * 64
        sock.sendall(data)
        count(fault, "bytes_out", len(data))
        return
    settings = {}
    if fault == "stall":
        settings[h2.settings.SettingCodes.INITIAL_WINDOW_SIZE] = 0
    conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=False))
    conn.local_settings = h2.settings.Settings(client=False, initial_values=settings)
    conn.initiate_connection()
    streamer = Streamer(fault)

    def flush():
        out = conn.data_to_send()
        if out:
            sock.sendall(out)
            count(fault, "bytes_out", len(out))

    flush()
    while time.monotonic() < base.DEADLINE[0]:
        writable = [sock] if streamer.sent else []
        r, w, _ = select.select([sock], writable, [], 0.2)
        if r:
            data = sock.recv(65536)
            if not data:
                return
            for ev in conn.receive_data(data):
                if isinstance(ev, h2.events.RequestReceived):
                    count(fault, "streams")
                    if fault == "reset":
                        conn.reset_stream(ev.stream_id, h2.errors.ErrorCodes.INTERNAL_ERROR)
                    elif fault == "flood1xx":
                        for _ in range(100):
                            conn.send_headers(ev.stream_id, [(":status", "103"), ("link", "</a.css>; rel=preload")])
                    elif fault in ("huge", "endless"):
                        streamer.start(conn, ev.stream_id)
                elif isinstance(ev, h2.events.DataReceived):
                    if fault != "stall":
                        conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                elif isinstance(ev, h2.events.StreamReset):
                    count(fault, "resets_received")
                    streamer.sent.pop(ev.stream_id, None)
                elif isinstance(ev, h2.events.ConnectionTerminated):
                    flush()
                    return
        if w or streamer.sent:
            streamer.pump(conn)
        flush()


def handle(sock, fault):
    try:
        serve(sock, fault)
    except (OSError, h2.exceptions.ProtocolError):
        pass
    finally:
        sock.close()


if __name__ == "__main__":
    base.run(sys.argv, __doc__, FAULTS, ("connections", "streams", "resets_received", "bytes_out"), handle)
