"""HTTP/2 (h2c, prior knowledge) server of tests/integration/test_mirror_h2.sh
that goes away in the middle of the run: on each connection it answers
requests with 200, and once it has answered GOAWAY_AFTER of them it sends
GOAWAY naming as the last stream it processed the highest one below every
request it has not answered. Those, and requests the client opened above
it, are never answered (the client must treat them as not processed).
Counts what it did on stdout when stopped: "answered=N refused=M goaways=G
connections=C" (refused: requests started and not answered at the GOAWAY;
those arriving after it are not parsed at all).

usage: goaway_server.py PORT GOAWAY_AFTER
"""

import signal
import socket
import sys
import threading

import h2.config
import h2.connection
import h2.events
import h2.exceptions

LOCK = threading.Lock()
STATS = {"answered": 0, "refused": 0, "goaways": 0, "connections": 0}


def count(key, n=1):
    with LOCK:
        STATS[key] += n


def serve(sock, after):
    conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=False))
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    answered, last, gone = 0, 0, False
    pending = set()  # streams whose request started and is not answered
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                break
            if gone:
                # h2 takes no input after its GOAWAY; what comes is for streams
                # above the last one, which the client must treat as refused.
                continue
            for ev in conn.receive_data(data):
                if isinstance(ev, h2.events.RequestReceived):
                    pending.add(ev.stream_id)
                if isinstance(ev, h2.events.DataReceived):
                    conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                elif isinstance(ev, h2.events.StreamEnded):
                    pending.discard(ev.stream_id)
                    conn.send_headers(ev.stream_id, [(":status", "200"), ("content-length", "3")])
                    conn.send_data(ev.stream_id, b"ok\n", end_stream=True)
                    answered += 1
                    last = max(last, ev.stream_id)
                    count("answered")
            if answered >= after:
                # The last stream processed: below every request not answered
                # (those are refused: the client may send them again).
                below = [sid for sid in pending if sid < last]
                if below:
                    last = min(below) - 2
                count("refused", sum(1 for sid in pending if sid > last))
                conn.close_connection(last_stream_id=last)
                gone = True
                count("goaways")
            sock.sendall(conn.data_to_send())
    except (OSError, h2.exceptions.ProtocolError):
        pass
    finally:
        sock.close()


def main():
    port, after = int(sys.argv[1]), int(sys.argv[2])
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(64)

    def stop(*_):
        with LOCK:
            print("answered=%(answered)d refused=%(refused)d goaways=%(goaways)d connections=%(connections)d" % STATS,
                  flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    print("port=%d" % port, flush=True)
    while True:
        sock, _ = srv.accept()
        count("connections")
        threading.Thread(target=serve, args=(sock, after), daemon=True).start()


if __name__ == "__main__":
    main()
