#!/usr/bin/env python3
"""Self-test of the interop peers with hand-made clients.  Run through selftest.sh.

Checks, each printed as "ok"/"FAIL"; exit status 1 if any failed:
  node     lwm2m-node-lib server: loopback-only sockets, Register/Update/De-register events,
           control API read/write/execute/discover/observe/notifications/error codes (aiocoap
           client), then raw-UDP edge cases (CON notification ACK, cancel -> RST, expiry).
  bs-dtls  aiocoap bootstrap server over DTLS-PSK: full sequence, wrong key, unknown identity.
  bs-plain the same server with --plain.
  libcoap  coap_server.sh: right key (tinydtls CCM_8 client and coap-client-openssl), wrong key.
"""

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
PY = sys.executable
IMEI = "356938035643809"
EP = "urn:imei:" + IMEI
KEY_HEX = "73656372657450534b31"  # "secretPSK1" (printable: libcoap 4.3.1 takes string keys)

failures = []
procs = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


class Proc:
    """A child process whose stdout JSON lines are collected in a thread."""

    def __init__(self, name, argv, cwd=HERE):
        self.name = name
        self.lines = []
        self.events = []
        self.err = open(os.path.join("/tmp", "interop-selftest-%s-%d.err" % (name, os.getpid())), "w")
        self.p = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=self.err, text=True)
        procs.append(self)
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for line in self.p.stdout:
            self.lines.append(line.rstrip("\n"))
            try:
                self.events.append(json.loads(line))
            except ValueError:
                pass

    def wait_event(self, pred, timeout):
        end = time.time() + timeout
        while time.time() < end:
            for e in list(self.events):
                if pred(e):
                    return e
            if self.p.poll() is not None and not self.t.is_alive():
                break
            time.sleep(0.05)
        for e in list(self.events):
            if pred(e):
                return e
        return None

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.t.join(2)
        self.err.close()


def free_udp_port(pair=False):
    """A free loopback UDP port (and port-1 free too when pair=True)."""
    for _ in range(50):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        if not pair:
            s.close()
            return port
        try:
            s2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s2.bind(("127.0.0.1", port - 1))
            s2.close()
            s.close()
            return port
        except OSError:
            s.close()
    raise RuntimeError("no free port")


def bound_addresses(port, proto):
    """Local addresses (ip strings) bound to a port, from /proc/net/{udp,tcp,udp6,tcp6}."""
    found = []
    for fam in (proto, proto + "6"):
        try:
            with open("/proc/net/" + fam) as f:
                next(f)
                for line in f:
                    local = line.split()[1]
                    ip_hex, port_hex = local.split(":")
                    if int(port_hex, 16) != port:
                        continue
                    if proto == "tcp" and line.split()[3] != "0A":  # LISTEN only
                        continue
                    if len(ip_hex) == 8:
                        ip = socket.inet_ntop(socket.AF_INET, bytes.fromhex(ip_hex)[::-1])
                    else:
                        raw = bytes.fromhex(ip_hex)
                        ip = socket.inet_ntop(socket.AF_INET6, b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4)))
                    found.append(ip)
        except FileNotFoundError:
            pass
    return found


def check_loopback(port, proto, what):
    addrs = bound_addresses(port, proto)
    check(bool(addrs) and all(a == "127.0.0.1" for a in addrs),
          "%s bound to loopback only (%s %d: %s)" % (what, proto, port, addrs))


def http(port, path, timeout=40):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=timeout) as r:
        return json.loads(r.read())


# ------------------------------------------------------------------------------------------


def test_node():
    print("== node: lwm2m-node-lib management server", flush=True)
    srv = Proc("node", ["node", os.path.join(HERE, "node", "server.js"), "--coap-port", "0", "--http-port", "0",
                        "--lifetime-check-ms", "500"])
    ready = srv.wait_event(lambda e: e.get("event") == "listening", 15)
    if not check(ready is not None, "node server prints 'listening'"):
        return
    cp, hp = ready["coap_port"], ready["http_port"]
    check_loopback(cp, "udp", "node CoAP socket")
    check_loopback(hp, "tcp", "node control HTTP")
    check(http(hp, "/health").get("ok") is True, "GET /health")

    cli = Proc("node-client", [PY, os.path.join(HERE, "aiocoap", "test_client.py"), "register",
                               "--server", "coap://127.0.0.1:%d" % cp, "--ep", EP, "--lifetime", "60",
                               "--duration", "9", "--update-after", "6", "--notify-every", "1"])
    reg = srv.wait_event(lambda e: e.get("event") == "registered", 10)
    if not check(reg is not None, "registered event"):
        return
    check(reg["endpoint"] == EP and reg["location"] == "rd/1" and reg["lifetime"] == 60
          and "</3/0>" in (reg.get("links") or "") and reg.get("binding") == "U" and reg.get("version") == "1.0",
          "registered: endpoint, location rd/1, lifetime, binding, links: %s" % json.dumps(reg))
    devs = http(hp, "/devices")
    check(len(devs) == 1 and devs[0]["endpoint"] == EP, "GET /devices")

    r = http(hp, "/read?ep=%s&path=/3/0/9" % EP)
    check(r["ok"] and r["code"] == "2.05" and r["value"].isdigit() and r["content_format"] == 0,
          "read /3/0/9: %s" % json.dumps(r))
    r = http(hp, "/write?path=/3/0/14&value=%2B02:00")
    check(r["ok"] and r["code"] == "2.04", "write /3/0/14 +02:00: %s" % json.dumps(r))
    r = http(hp, "/read?path=/3/0/14")
    check(r["ok"] and r["value"] == "+02:00", "read back /3/0/14: %s" % r["value"])
    r = http(hp, "/execute?path=/3/0/4")
    check(r["ok"] and r["code"] == "2.04", "execute /3/0/4: %s" % json.dumps(r))
    r = http(hp, "/discover?path=/3/0")
    check(r["ok"] and r["code"] == "2.05" and "</3/0/9>" in r["value"], "discover /3/0: %s" % r["value"])
    r = http(hp, "/read?path=/3/0&accept=tlv")
    check(r["ok"] and r["content_format"] == 11542 and r["payload_hex"].startswith("c8"),
          "read /3/0 (TLV): %s" % r["payload_hex"][:40])
    r = http(hp, "/observe?path=/3/0/9")
    check(r["ok"] and r["code"] == "2.05", "observe /3/0/9: %s" % json.dumps(r))
    time.sleep(3)
    notes = http(hp, "/notifications?path=/3/0/9")
    check(len(notes) >= 2 and all(n["code"] == "2.05" for n in notes),
          "GET /notifications: %d notification(s), values %s" % (len(notes), [n["value"] for n in notes]))
    r = http(hp, "/write?path=/3/0/9&value=5")
    check(not r["ok"] and r["code"] == "4.05", "write read-only /3/0/9 -> 4.05 (%s)" % r["code"])
    r = http(hp, "/read?path=/5/0/1")
    check(not r["ok"] and r["code"] == "4.04", "read absent /5/0/1 -> 4.04 (%s)" % r["code"])
    r = http(hp, "/read?path=/3/0/9&ep=nobody")
    check(not r["ok"] and r["code"] is None and "nobody" in (r["error"] or ""), "unknown ep -> error")

    upd = srv.wait_event(lambda e: e.get("event") == "updated", 10)
    check(upd is not None and upd["location"] == "rd/1" and upd["lifetime"] == 60, "updated event")
    dereg = srv.wait_event(lambda e: e.get("event") == "deregistered", 10)
    check(dereg is not None and dereg["endpoint"] == EP, "deregistered event")
    cli.p.wait(15)
    check(cli.p.returncode == 0, "aiocoap client exit 0")

    raw = subprocess.run([PY, os.path.join(HERE, "node", "raw_client.py"), str(cp), str(hp)],
                         capture_output=True, text=True, timeout=60)
    for line in raw.stdout.splitlines():
        print("     raw: " + line)
    check(raw.returncode == 0, "raw_client.py edge cases")
    srv.stop()


def test_bootstrap(plain):
    tag = "bs-plain" if plain else "bs-dtls"
    print("== %s: aiocoap bootstrap server" % tag, flush=True)
    port = free_udp_port()
    argv = [PY, os.path.join(HERE, "aiocoap", "bootstrap_server.py"), "--port", str(port),
            "--server-uri", "coap://127.0.0.1:5683", "--lifetime", "120"]
    if plain:
        argv.append("--plain")
    else:
        argv += ["--psk-identity", EP, "--psk-key", KEY_HEX]
    srv = Proc(tag, argv)
    if not check(srv.wait_event(lambda e: e.get("event") == "listening", 15) is not None, "listening"):
        return
    check_loopback(port, "udp", tag)
    scheme = "coap" if plain else "coaps"
    cargs = [PY, os.path.join(HERE, "aiocoap", "test_client.py"), "bootstrap", "--uri",
             "%s://127.0.0.1:%d" % (scheme, port), "--ep", EP, "--timeout", "15"]
    if not plain:
        cargs += ["--identity", EP, "--key", KEY_HEX]
    c = subprocess.run(cargs, capture_output=True, text=True, timeout=40)
    seen = [json.loads(x) for x in c.stdout.splitlines() if x.startswith("{")]
    check(c.returncode == 0, "client completes bootstrap (rc %d)" % c.returncode)
    reqs = [(e["method"], e["path"]) for e in seen if e["event"] == "bs_server_request"]
    check(reqs == [("DELETE", "/"), ("PUT", "/0/0"), ("PUT", "/0/1"), ("PUT", "/1/0"), ("POST", "/bs")],
          "client saw Delete /, Write /0/0 /0/1 /1/0, Finish: %s" % reqs)
    done = srv.wait_event(lambda e: e.get("event") == "bootstrap_done", 5)
    steps = [(e["op"], e["path"], e["code"]) for e in srv.events if e.get("event") == "step"]
    check(done is not None and done["ok"] and len(steps) == 5, "server steps: %s" % steps)
    breq = [e for e in srv.events if e.get("event") == "bootstrap_request"]
    check(len(breq) == 1 and breq[0]["endpoint"] == EP and breq[0]["code"] == "2.04",
          "bootstrap_request line (ep, 2.04)")
    writes = {e["path"]: e for e in seen if e["event"] == "bs_server_request" and e["method"] == "PUT"}
    if "/0/0" in writes:
        tlv = writes["/0/0"]["tlv"] or ""
        want_uri = "%s://127.0.0.1:%d" % (scheme, port)
        check(want_uri in tlv and (plain or EP in tlv), "/0/0 carries own URI and identity")
    if "/0/1" in writes:
        check("coap://127.0.0.1:5683" in (writes["/0/1"]["tlv"] or ""), "/0/1 carries management URI")

    if not plain:
        wrong = KEY_HEX[:-2] + "30"
        c = subprocess.run(cargs[:-1] + [wrong, "--timeout", "6"], capture_output=True, text=True, timeout=40)
        check(c.returncode != 0, "wrong PSK: client fails (rc %d)" % c.returncode)
        other = [a if a != EP else "urn:imei:000000000000000" for a in cargs]
        other[other.index("--ep") + 1] = EP
        c = subprocess.run(other + ["--timeout", "6"], capture_output=True, text=True, timeout=40)
        check(c.returncode != 0, "unknown PSK identity: client fails (rc %d)" % c.returncode)
        n = len([e for e in srv.events if e.get("event") == "bootstrap_request"])
        check(n == 1, "no bootstrap_request from failed handshakes (%d total)" % n)
    srv.stop()


CCM8_CLIENT = r"""
import asyncio, sys, aiocoap
async def main(port, ident, key):
    ctx = await aiocoap.Context.create_client_context(transports=["tinydtls"])
    ctx.client_credentials.load_from_dict({"coaps://127.0.0.1:%d/*" % port: {"dtls": {
        "psk": {"hex": key}, "client-identity": {"ascii": ident}}}})
    try:
        r = await asyncio.wait_for(ctx.request(aiocoap.Message(code=aiocoap.GET,
            uri="coaps://127.0.0.1:%d/" % port)).response, 6)
        print(r.code); rc = 0 if str(r.code).startswith("2.05") else 1
    except Exception as e:
        print("error", type(e).__name__, e); rc = 1
    await ctx.shutdown()
    sys.exit(rc)
asyncio.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3]))
"""


def test_libcoap():
    print("== libcoap: coap_server.sh", flush=True)
    script = os.path.join(HERE, "libcoap", "coap_server.sh")
    for tls in ("openssl", "gnutls"):
        for wrong in (False, True):
            port = free_udp_port(pair=True)
            argv = [script, "--port", str(port), "--identity", EP, "--key-hex", KEY_HEX, "--tls", tls]
            if wrong:
                argv.append("--wrong-key")
            srv = Proc("libcoap-%s" % tls, argv)
            st = srv.wait_event(lambda e: e.get("event") == "starting", 5)
            time.sleep(0.5)
            label = "%s%s" % (tls, " --wrong-key" if wrong else "")
            if not check(st is not None and srv.p.poll() is None, "coap-server-%s running" % label):
                srv.stop()
                continue
            if not wrong:
                check_loopback(port, "udp", "coap-server-%s DTLS" % tls)
                check_loopback(port - 1, "udp", "coap-server-%s CoAP" % tls)
            c = subprocess.run([PY, "-c", CCM8_CLIENT, str(port), EP, KEY_HEX], capture_output=True, text=True,
                               timeout=30)
            ok = c.returncode == 0
            check(ok != wrong, "%s: tinydtls (AES_128_CCM_8) client %s (%s)" %
                  (label, "fails" if wrong else "gets 2.05", c.stdout.strip() or c.stderr.strip()[-200:]))
            c = subprocess.run(["coap-client-%s" % tls, "-B", "6", "-m", "get", "-u", EP, "-k",
                                bytes.fromhex(KEY_HEX).decode(), "coaps://127.0.0.1:%d/" % port],
                               capture_output=True, text=True, timeout=30)
            ok = "libcoap" in c.stdout
            check(ok != wrong, "%s: coap-client-%s %s" % (label, tls, "fails" if wrong else "gets the index"))
            srv.stop()


def main():
    only = sys.argv[1:] or ["node", "bs-dtls", "bs-plain", "libcoap"]
    try:
        if "node" in only:
            test_node()
        if "bs-dtls" in only:
            test_bootstrap(plain=False)
        if "bs-plain" in only:
            test_bootstrap(plain=True)
        if "libcoap" in only:
            test_libcoap()
    finally:
        for p in procs:
            p.stop()
    print("selftest: %d failure(s)%s" % (len(failures), "" if not failures else ": " + "; ".join(failures)))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
