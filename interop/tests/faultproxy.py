"""A UDP fault proxy for plain CoAP between the device simulator and a server.

    device  <->  127.0.0.1:proxy.port  [FaultProxy]  upstream socket  <->  server 127.0.0.1:PORT

The device is pointed at ``proxy.port``; the server sees the device at an upstream socket of
the proxy, so server-initiated requests (Read, Execute, Observe) come back through the proxy too.
Like a NAT, the proxy opens one upstream socket per device address (ip, port): after the device
reboots onto a new local port, the server sees a new source port, and what the server still sends
to the old one goes to the old device address.

Faults, all drawn from one seeded ``random.Random`` so a run can be replayed:
  loss        probability that a datagram is dropped
  duplicate   probability that a datagram is sent twice (the copy 10..200 ms later)
  reorder     probability that a datagram is held back 100..400 ms, so later ones overtake it
  delay       every datagram is delayed uniformly in [0, delay] seconds
  link_down(s)  drops everything, both ways, for s seconds ("link loss")
  rules       callables (direction, CoapMsg) -> list of extra copy delays, for targeted
              duplication (e.g. of one Execute)
  rewrites    callables (direction, bytes, CoapMsg) -> bytes, applied before forwarding

Every datagram is logged with what was done to it; ``log_text()`` renders the log.
"""

import heapq
import random
import select
import socket
import struct
import threading
import time

TYPES = ("CON", "NON", "ACK", "RST")
C2S = "dev->srv"
S2C = "srv->dev"


class CoapMsg:
    """The parts of a CoAP message (RFC 7252 §3) the tests look at.  ``None`` if unparsable."""

    __slots__ = ("type", "code", "mid", "token", "options", "payload")

    @staticmethod
    def parse(data):
        if len(data) < 4 or data[0] >> 6 != 1:
            return None
        m = CoapMsg()
        m.type = TYPES[(data[0] >> 4) & 3]
        tkl = data[0] & 0x0F
        m.code = "%d.%02d" % (data[1] >> 5, data[1] & 0x1F)
        m.mid = struct.unpack(">H", data[2:4])[0]
        m.token = data[4:4 + tkl]
        m.options = []
        i, num = 4 + tkl, 0
        m.payload = b""
        while i < len(data):
            if data[i] == 0xFF:
                m.payload = data[i + 1:]
                break
            delta, length = data[i] >> 4, data[i] & 0x0F
            i += 1
            if delta == 13:
                delta = data[i] + 13
                i += 1
            elif delta == 14:
                delta = struct.unpack(">H", data[i:i + 2])[0] + 269
                i += 2
            if length == 13:
                length = data[i] + 13
                i += 1
            elif length == 14:
                length = struct.unpack(">H", data[i:i + 2])[0] + 269
                i += 2
            num += delta
            m.options.append((num, data[i:i + length]))
            i += length
        return m

    @property
    def is_request(self):
        return self.code.startswith("0.") and self.code != "0.00"

    @property
    def method(self):
        return {"0.01": "GET", "0.02": "POST", "0.03": "PUT", "0.04": "DELETE"}.get(self.code, self.code)

    @property
    def path(self):
        return "/" + "/".join(v.decode("utf-8", "replace") for n, v in self.options if n == 11)

    @property
    def query(self):
        return "&".join(v.decode("utf-8", "replace") for n, v in self.options if n == 15)

    @property
    def observe(self):
        for n, v in self.options:
            if n == 6:
                return int.from_bytes(v, "big")
        return None

    def summary(self):
        s = "%s mid=%d tok=%s" % (self.type, self.mid, self.token.hex() or "-")
        if self.is_request:
            s += " %s %s" % (self.method, self.path)
            if self.query:
                s += "?" + self.query
        else:
            s += " " + self.code
        if self.observe is not None:
            s += " obs=%d" % self.observe
        if self.payload:
            s += " len=%d" % len(self.payload)
        return s


class FaultProxy:
    def __init__(self, upstream_port, seed=1, loss=0.0, duplicate=0.0, reorder=0.0, delay=0.0):
        self.upstream = ("127.0.0.1", upstream_port)
        self.rng = random.Random(seed)
        self.loss, self.duplicate, self.reorder, self.delay = loss, duplicate, reorder, delay
        self.rules = []
        self.rewrites = []
        self._down_until = 0.0
        self.front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.front.bind(("127.0.0.1", 0))
        self.port = self.front.getsockname()[1]
        self.nat = {}       # device address -> upstream socket
        self.device = None  # the device's address of the latest datagram
        self.t0 = time.monotonic()
        self.log = []       # (t, direction, CoapMsg or None, raw bytes, action)
        self.stats = {"forwarded": 0, "dropped": 0, "duplicated": 0, "reordered": 0, "link_down_dropped": 0}
        self._queue = []    # heap of (due, seq, sock, data, addr)
        self.sent = []      # (t, addr, mid hex, error or None) of every datagram sent
        self._seq = 0
        self._cv = threading.Condition()
        self._stop = False
        self._threads = [threading.Thread(target=self._recv_loop, daemon=True),
                         threading.Thread(target=self._send_loop, daemon=True)]
        for t in self._threads:
            t.start()

    # control -----------------------------------------------------------------------------

    def set_faults(self, loss=None, duplicate=None, reorder=None, delay=None):
        with self._cv:
            if loss is not None:
                self.loss = loss
            if duplicate is not None:
                self.duplicate = duplicate
            if reorder is not None:
                self.reorder = reorder
            if delay is not None:
                self.delay = delay

    def link_down(self, seconds):
        """Drop everything, both ways, for `seconds` from now."""
        with self._cv:
            self._down_until = time.monotonic() + seconds
        self._note(None, None, b"", "LINK DOWN for %.0f s" % seconds)

    def link_is_down(self):
        return time.monotonic() < self._down_until

    def set_upstream_port(self, port):
        self.upstream = ("127.0.0.1", port)

    def stop(self):
        with self._cv:
            self._stop = True
            self._cv.notify_all()
        for t in self._threads:
            t.join(2)
        self.front.close()
        for sock in list(self.nat.values()):
            sock.close()

    # queries -----------------------------------------------------------------------------

    def messages(self, direction=None):
        """[(t, direction, CoapMsg, action)] of parsed datagrams, optionally one direction."""
        return [(t, d, m, a) for t, d, m, _, a in list(self.log)
                if m is not None and (direction is None or d == direction)]

    def log_text(self):
        errors = [(t - self.t0, a, m, e) for t, a, m, e in list(self.sent) if e]
        lines = ["----- fault proxy :%d -> :%d, stats %s, %d sent, send errors: %s" % (
            self.port, self.upstream[1], self.stats, len(self.sent), errors)]
        for t, d, m, raw, action in list(self.log):
            what = m.summary() if m is not None else (raw.hex() if raw else "")
            lines.append("proxy %8.3f %s %-40s %s" % (t - self.t0, d or "", what, action))
        return "\n".join(lines)

    # internals ---------------------------------------------------------------------------

    def _note(self, direction, msg, raw, action):
        self.log.append((time.monotonic(), direction, msg, raw, action))

    def _recv_loop(self):
        while not self._stop:
            back = {sock: dev for dev, sock in list(self.nat.items())}
            try:
                ready, _, _ = select.select([self.front] + list(back), [], [], 0.1)
            except (OSError, ValueError):
                return
            for sock in ready:
                try:
                    data, addr = sock.recvfrom(65535)
                except OSError:
                    continue  # e.g. ICMP port unreachable from a device socket that is gone
                if sock is self.front:
                    self.device = addr
                    up = self.nat.get(addr)
                    if up is None:
                        up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                        up.bind(("127.0.0.1", 0))
                        self.nat[addr] = up
                        self._note(None, None, b"", "NAT %s:%d <-> :%d" % (addr[0], addr[1], up.getsockname()[1]))
                    self._handle(C2S, data, up, self.upstream)
                else:
                    self._handle(S2C, data, self.front, back[sock])

    def _handle(self, direction, data, out_sock, addr):
        msg = CoapMsg.parse(data)
        for rewrite in self.rewrites:
            if msg is not None:
                data = rewrite(direction, data, msg)
                msg = CoapMsg.parse(data)
        now = time.monotonic()
        with self._cv:
            if now < self._down_until:
                self.stats["link_down_dropped"] += 1
                self._note(direction, msg, data, "DROP (link down)")
                return
            extra = []
            for rule in self.rules:
                if msg is not None:
                    extra += rule(direction, msg) or []
            if not extra and self.rng.random() < self.loss:
                self.stats["dropped"] += 1
                self._note(direction, msg, data, "DROP")
                return
            delay = self.rng.uniform(0, self.delay) if self.delay else 0.0
            action = "fwd"
            if self.rng.random() < self.reorder:
                delay += self.rng.uniform(0.1, 0.4)
                self.stats["reordered"] += 1
                action = "fwd HELD %.0f ms (reorder)" % (delay * 1000)
            elif delay:
                action = "fwd +%.0f ms" % (delay * 1000)
            copies = [delay]
            if self.rng.random() < self.duplicate:
                copies.append(delay + self.rng.uniform(0.01, 0.2))
            copies += [delay + e for e in extra]
            if len(copies) > 1:
                self.stats["duplicated"] += len(copies) - 1
                action += " DUP x%d (+%s ms)" % (len(copies), ",".join("%.0f" % ((c - delay) * 1000)
                                                                    for c in copies[1:]))
            self.stats["forwarded"] += 1
            self._note(direction, msg, data, action)
            for c in copies:
                self._seq += 1
                heapq.heappush(self._queue, (now + c, self._seq, out_sock, data, addr))
            self._cv.notify_all()

    def _send_loop(self):
        with self._cv:
            while not self._stop:
                if not self._queue:
                    self._cv.wait(0.1)
                    continue
                due = self._queue[0][0]
                now = time.monotonic()
                if due > now:
                    self._cv.wait(due - now)
                    continue
                _, _, sock, data, addr = heapq.heappop(self._queue)
                try:
                    sock.sendto(data, addr)
                    self.sent.append((time.monotonic(), addr, data[2:4].hex(), None))
                except OSError as e:
                    self.sent.append((time.monotonic(), addr, data[2:4].hex(), str(e)))
