#!/usr/bin/env python3
"""A tiny DNS server for tests: answers A queries for the names it is given.

Usage: dns_stub.py ADDR PORT LOG SECONDS NAME=IPV4...

Listens on UDP ADDR:PORT; an A query for a known name gets that address,
an AAAA query for it an empty answer, anything else NXDOMAIN. Each query is
appended to LOG as "TYPE NAME". Exits by itself after SECONDS.
"""
import socket
import sys
import time


def parse_question(msg):
    labels, i = [], 12
    while msg[i] != 0:
        n = msg[i]
        labels.append(msg[i + 1:i + 1 + n].decode("ascii", "replace").lower())
        i += 1 + n
    qtype = int.from_bytes(msg[i + 1:i + 3], "big")
    return ".".join(labels), qtype, i + 5


def answer(msg, names):
    name, qtype, end = parse_question(msg)
    question = msg[12:end]
    known = name in names
    flags = 0x8180 if known else 0x8183  # response, RD+RA; NXDOMAIN if unknown
    ancount = 1 if known and qtype == 1 else 0
    head = msg[:2] + flags.to_bytes(2, "big") + b"\x00\x01" + ancount.to_bytes(2, "big") + b"\x00\x00\x00\x00"
    body = question
    if ancount:
        body += b"\xc0\x0c\x00\x01\x00\x01" + (30).to_bytes(4, "big") + b"\x00\x04" + socket.inet_aton(names[name])
    return name, qtype, head + body


def main():
    addr, port, log, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
    names = dict(a.lower().split("=", 1) for a in sys.argv[5:])
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((addr, port))
    deadline = time.monotonic() + seconds
    with open(log, "a") as out:
        out.write("listening\n")
        out.flush()
        while time.monotonic() < deadline:
            sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                msg, peer = sock.recvfrom(512)
            except socket.timeout:
                continue
            try:
                name, qtype, reply = answer(msg, names)
            except (IndexError, ValueError):
                continue
            out.write(f"{ {1: 'A', 28: 'AAAA'}.get(qtype, qtype)} {name}\n")
            out.flush()
            sock.sendto(reply, peer)


if __name__ == "__main__":
    main()
