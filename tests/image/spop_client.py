#!/usr/bin/env python3
"""Talks SPOP to an agent with frames captured from a real HAProxy.

Usage: spop_client.py PORT HELLO.hex [NOTIFY.hex]

Sends the HAPROXY-HELLO and checks that an AGENT-HELLO with version "2.0",
a max-frame-size and capabilities comes back; then, if given, sends the
NOTIFY and checks for the ACK of the same stream-id and frame-id. Prints
"ok"/"not ok" lines; exits 1 if any check failed.
"""
import socket
import sys

AGENT_HELLO, ACK = 101, 103


def varint(buf, i):
    """Decodes an SPOP varint at buf[i]; returns (value, next index)."""
    if i >= len(buf):
        raise ValueError("varint past the end")
    v = buf[i]
    i += 1
    if v < 240:
        return v, i
    shift = 4
    for _ in range(9):
        if i >= len(buf):
            raise ValueError("varint past the end")
        b = buf[i]
        i += 1
        v += b << shift
        shift += 7
        if b < 128:
            return v, i
    raise ValueError("varint longer than 10 bytes")


def typed(buf, i):
    """Decodes one typed value; returns (value, next index)."""
    t = buf[i] & 0x0F
    i += 1
    if t == 0:
        return None, i
    if t == 1:
        return bool(buf[i - 1] & 0x10), i
    if t in (2, 3, 4, 5):
        return varint(buf, i)
    if t in (6, 7):
        n = 4 if t == 6 else 16
        return bytes(buf[i:i + n]), i + n
    if t in (8, 9):
        n, i = varint(buf, i)
        raw = bytes(buf[i:i + n])
        return (raw.decode() if t == 8 else raw), i + n
    raise ValueError(f"unknown type {t}")


def read_frame(sock):
    """Reads one frame; returns (type, flags, stream-id, frame-id, payload)."""
    head = recv_exact(sock, 4)
    body = recv_exact(sock, int.from_bytes(head, "big"))
    ftype, flags = body[0], int.from_bytes(body[1:5], "big")
    sid, i = varint(body, 5)
    fid, i = varint(body, i)
    return ftype, flags, sid, fid, body[i:]


def recv_exact(sock, n):
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            raise ConnectionError(f"connection closed after {len(out)} of {n} bytes")
        out += chunk
    return out


def kv_list(payload):
    out, i = {}, 0
    while i < len(payload):
        n, i = varint(payload, i)
        key = bytes(payload[i:i + n]).decode()
        val, i = typed(payload, i + n)
        out[key] = val
    return out


def hexfile(path):
    with open(path) as f:
        return bytes.fromhex("".join(f.read().split()))


def main():
    port, hello = int(sys.argv[1]), hexfile(sys.argv[2])
    notify = hexfile(sys.argv[3]) if len(sys.argv) > 3 else None
    failed = 0

    def check(cond, name, detail=""):
        nonlocal failed
        print(f"ok - {name}" if cond else f"not ok - {name}: {detail}")
        failed += 0 if cond else 1

    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(hello)
        ftype, flags, sid, fid, payload = read_frame(s)
        kv = kv_list(payload) if ftype == AGENT_HELLO else {}
        check(ftype == AGENT_HELLO and flags == 1 and sid == 0 and fid == 0,
              "AGENT-HELLO answers the HAProxy 2.6 HELLO", f"type={ftype} flags={flags} sid={sid} fid={fid}")
        check(kv.get("version") == "2.0" and isinstance(kv.get("max-frame-size"), int)
              and 256 <= kv["max-frame-size"] <= 16380 and isinstance(kv.get("capabilities"), str),
              "AGENT-HELLO has version 2.0, max-frame-size and capabilities", repr(kv))
        if notify is not None:
            want_sid, i = varint(notify, 9)
            want_fid, _ = varint(notify, i)
            s.sendall(notify)
            ftype, flags, sid, fid, _ = read_frame(s)
            check(ftype == ACK and flags == 1 and (sid, fid) == (want_sid, want_fid),
                  "ACK answers the captured NOTIFY",
                  f"type={ftype} flags={flags} sid={sid}/{want_sid} fid={fid}/{want_fid}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
