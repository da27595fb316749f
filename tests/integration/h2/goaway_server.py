"""HTTP/2 (h2c, prior knowledge) server of tests/integration/test_mirror_h2.sh
that goes away in the middle of the run: on each connection it answers
requests with 200, and right after answering the GOAWAY_AFTER-th one it
sends GOAWAY naming that stream as the last it processed. Requests the
client had already opened above it are never answered (the client must
treat them as not processed). Counts what it did on stdout when stopped:
"answered=N refused=M goaways=G connections=C" (refused: requests that
arrived whole with the one that ended the run; those arriving after the
GOAWAY are not parsed at all).

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
                if isinstance(ev, h2.events.DataReceived):
                    conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                elif isinstance(ev, h2.events.StreamEnded) and gone:
                    count("refused")  # came with the request that ended the run: above the last stream
                elif isinstance(ev, h2.events.StreamEnded):
                    conn.send_headers(ev.stream_id, [(":status", "200"), ("content-length", "3")])
                    conn.send_data(ev.stream_id, b"ok\n", end_stream=True)
                    answered += 1
                    last = max(last, ev.stream_id)
                    count("answered")
                    if answered == after:
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
