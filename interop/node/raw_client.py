#!/usr/bin/env python3
"""Raw-UDP CoAP check of the node server's edge cases (no dependencies beyond CPython):

1. Register (CON POST /rd) -> 2.01 with Location-Path rd/N.
2. Ask the control API to observe /3/0/9; answer the GET(Observe=0) with a piggybacked 2.05.
3. Send a *confirmable* notification and require an empty ACK from the server's CoAP port
   (node-coap's proxy would drop it; server.js acknowledges it itself).
4. Cancel the observation through the control API; the next notification must get RST.
5. Register a second endpoint with lt=2 and never update it: the server must report "expired".

usage: raw_client.py COAP_PORT HTTP_PORT     (exit status 0 = all checks passed)
"""

import json
import os
import socket
import struct
import sys
import threading
import time
import urllib.request

COAP_PORT = int(sys.argv[1])
HTTP_PORT = int(sys.argv[2])
SERVER = ("127.0.0.1", COAP_PORT)
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def opt_bytes(number, value, prev):
    delta = number - prev
    length = len(value)

    def nib(n):
        if n < 13:
            return n, b""
        if n < 269:
            return 13, bytes([n - 13])
        return 14, struct.pack(">H", n - 269)

    d, dx = nib(delta)
    ln, lx = nib(length)
    return bytes([(d << 4) | ln]) + dx + lx + value


def encode(mtype, code, mid, token=b"", options=(), payload=b""):
    out = bytes([0x40 | (mtype << 4) | len(token), code]) + struct.pack(">H", mid) + token
    prev = 0
    for number, value in sorted(options, key=lambda o: o[0]):
        out += opt_bytes(number, value, prev)
        prev = number
    if payload:
        out += b"\xff" + payload
    return out


def decode(data):
    b0, code, mid = data[0], data[1], struct.unpack(">H", data[2:4])[0]
    tkl = b0 & 0x0F
    token = data[4:4 + tkl]
    pos = 4 + tkl
    opts = []
    number = 0
    while pos < len(data) and data[pos] != 0xFF:
        d, ln = data[pos] >> 4, data[pos] & 0x0F
        pos += 1
        if d == 13:
            d = data[pos] + 13
            pos += 1
        elif d == 14:
            d = struct.unpack(">H", data[pos:pos + 2])[0] + 269
            pos += 2
        if ln == 13:
            ln = data[pos] + 13
            pos += 1
        elif ln == 14:
            ln = struct.unpack(">H", data[pos:pos + 2])[0] + 269
            pos += 2
        number += d
        opts.append((number, data[pos:pos + ln]))
        pos += ln
    payload = data[pos + 1:] if pos < len(data) else b""
    return {"type": (b0 >> 4) & 0x03, "code": code, "mid": mid, "token": token, "options": opts,
            "payload": payload}


def code_str(c):
    return "%d.%02d" % (c >> 5, c & 0x1F)


CON, NON, ACK, RST = 0, 1, 2, 3
URI_PATH, CONTENT_FORMAT, URI_QUERY, OBSERVE, LOCATION_PATH, ACCEPT = 11, 12, 15, 6, 8, 17


def http(path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (HTTP_PORT, path), timeout=40) as r:
        return json.loads(r.read())


def register(sock, ep, lt, mid):
    sock.sendto(encode(CON, 0x02, mid, os.urandom(4),
                       [(URI_PATH, b"rd"), (URI_QUERY, ("ep=" + ep).encode()),
                        (URI_QUERY, b"lt=%d" % lt), (URI_QUERY, b"lwm2m=1.0"), (URI_QUERY, b"b=U"),
                        (CONTENT_FORMAT, bytes([40]))],
                       b"</1/0>,</3/0>"), SERVER)
    m = decode(sock.recv(2048))
    loc = "/".join(v.decode() for n, v in m["options"] if n == LOCATION_PATH)
    return m, loc


def main():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)

    m, loc = register(sock, "raw-client", 60, 0x1000)
    check(m["type"] == ACK and code_str(m["code"]) == "2.01" and loc.startswith("rd/"),
          "register -> ACK 2.01 Location-Path %s" % loc)

    result = {}
    t = threading.Thread(target=lambda: result.update(http("/observe?ep=raw-client&path=/3/0/9")))
    t.start()
    req = decode(sock.recv(2048))
    path = "/" + "/".join(v.decode() for n, v in req["options"] if n == URI_PATH)
    obs = [v for n, v in req["options"] if n == OBSERVE]
    check(code_str(req["code"]) == "0.01" and path == "/3/0/9" and obs in ([b""], [b"\x00"]),
          "server sends GET /3/0/9 Observe=0 (got %s %s %r)" % (code_str(req["code"]), path, obs))
    token = req["token"]
    sock.sendto(encode(ACK, 0x45, req["mid"], token, [(OBSERVE, b"\x01"), (CONTENT_FORMAT, b"")], b"50"),
                SERVER)
    t.join(40)
    check(result.get("ok") and result.get("value") == "50", "observe result via HTTP: %r" % result)

    sock.sendto(encode(CON, 0x45, 0x2000, token, [(OBSERVE, b"\x02"), (CONTENT_FORMAT, b"")], b"49"), SERVER)
    try:
        a = decode(sock.recv(2048))
        check(a["type"] == ACK and a["mid"] == 0x2000 and a["code"] == 0, "CON notification is ACKed")
    except socket.timeout:
        check(False, "CON notification is ACKed (timeout)")
    time.sleep(0.3)
    notes = http("/notifications?ep=raw-client")
    check(any(n["value"] == "49" and n["observe"] == 2 for n in notes), "notification reported: %r" % notes)

    r = http("/cancel-observe?ep=raw-client&path=/3/0/9")
    check(r.get("ok"), "cancel-observe: %r" % r)
    sock.sendto(encode(NON, 0x45, 0x2001, token, [(OBSERVE, b"\x03"), (CONTENT_FORMAT, b"")], b"48"), SERVER)
    try:
        a = decode(sock.recv(2048))
        check(a["type"] == RST and a["mid"] == 0x2001, "notification after cancel gets RST")
    except socket.timeout:
        check(False, "notification after cancel gets RST (timeout)")

    # Update with no payload, then De-register.
    sock.sendto(encode(CON, 0x02, 0x1001, os.urandom(2),
                       [(URI_PATH, p.encode()) for p in loc.split("/")] + [(URI_QUERY, b"lt=60")]), SERVER)
    m = decode(sock.recv(2048))
    check(code_str(m["code"]) == "2.04", "update -> 2.04")
    sock.sendto(encode(CON, 0x04, 0x1002, os.urandom(2), [(URI_PATH, p.encode()) for p in loc.split("/")]),
                SERVER)
    m = decode(sock.recv(2048))
    check(code_str(m["code"]) == "2.02", "de-register -> 2.02")

    sock2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock2.bind(("127.0.0.1", 0))
    sock2.settimeout(5)
    m, loc2 = register(sock2, "raw-expiring", 2, 0x3000)
    check(code_str(m["code"]) == "2.01", "second register (lt=2) -> 2.01 %s" % loc2)
    deadline = time.time() + 8
    expired = []
    while time.time() < deadline and not expired:
        time.sleep(0.5)
        expired = http("/events?event=expired&ep=raw-expiring")
    check(bool(expired), "lifetime expiry reported as 'expired'")

    ev = http("/events?event=deregistered&ep=raw-client")
    check(bool(ev), "de-registration reported")
    print("raw_client: %d failure(s)" % len(failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
