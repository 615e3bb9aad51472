"""Shared helpers of the interop tests: process handling, free ports, the three peers and the
device simulator.  Standard library only (the aiocoap peer runs in interop/.venv as a child).

Every process started here is registered with the running TestCase (``InteropCase.spawn``) and
stopped in its cleanup, so no peer outlives its test.  When a test fails or errors, the output of
every process it started is printed (``InteropCase.run``).
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse
import urllib.request

TESTS = os.path.dirname(os.path.abspath(__file__))
INTEROP = os.path.dirname(TESTS)
REPO = os.path.dirname(INTEROP)
VENV_PY = os.path.join(INTEROP, ".venv", "bin", "python")
NODE_SERVER = os.path.join(INTEROP, "node", "server.js")
BOOTSTRAP_SERVER = os.path.join(INTEROP, "aiocoap", "bootstrap_server.py")
COAP_SERVER_SH = os.path.join(INTEROP, "libcoap", "coap_server.sh")

IMEI = "356938035643809"
EP = "urn:imei:" + IMEI
# Printable: libcoap 4.3.1 takes string keys (no 00, 0a, 0d, 2c bytes).
PSK_HEX = "73656372657450534b31"  # "secretPSK1"

EVENT_PREFIX = "LWM2M_CARRIER_EVENT_"

# Every Proc ever started in this interpreter, in order; InteropCase stops the ones its test
# started (also those whose constructor failed half-way).
LIVE = []


def sim_binary():
    """Path of lwm2m-carrier-sim: $LWM2M_CARRIER_SIM, else $CARGO_TARGET_DIR (or target/)/release."""
    explicit = os.environ.get("LWM2M_CARRIER_SIM")
    if explicit:
        return explicit
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(REPO, "target")
    if not os.path.isabs(target):
        target = os.path.join(REPO, target)
    return os.path.join(target, "release", "lwm2m-carrier-sim")


def require_peers_and_sim():
    """Called from setUpModule: a missing prerequisite is an error, not a skip."""
    missing = []
    if not os.access(sim_binary(), os.X_OK):
        missing.append("simulator %s (cargo build --release -p lwm2m-carrier-host --bin lwm2m-carrier-sim)"
                       % sim_binary())
    if not os.access(VENV_PY, os.X_OK):
        missing.append("%s (run interop/install.sh)" % VENV_PY)
    if not os.path.isdir(os.path.join(INTEROP, "node", "node_modules", "lwm2m-node-lib")):
        missing.append("interop/node/node_modules (run interop/install.sh)")
    if missing:
        raise RuntimeError("missing: " + "; ".join(missing))


def free_udp_port(pair=False):
    """A free loopback UDP port; with pair=True port-1 is free as well (DTLS peers that also
    bind port-1)."""
    for _ in range(100):
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
    raise RuntimeError("no free UDP port")


def wait_for(pred, timeout, interval=0.05):
    """Polls pred() until it returns something truthy (returned) or timeout (returns None)."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= end:
            return None
        time.sleep(interval)


class Proc:
    """A child process whose stdout and stderr lines are collected (with arrival times) in
    threads.  JSON lines on stdout are parsed into ``events``."""

    def __init__(self, name, argv, cwd=INTEROP, env=None):
        self.name = name
        self.argv = argv
        self.out = []      # (monotonic time, line)
        self.err = []
        self.events = []   # parsed JSON objects from stdout
        self.started = time.monotonic()
        self.p = None
        self._threads = []
        LIVE.append(self)
        self.p = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, errors="replace", start_new_session=True)
        self._threads = [threading.Thread(target=self._read, args=(self.p.stdout, self.out, True), daemon=True),
                         threading.Thread(target=self._read, args=(self.p.stderr, self.err, False), daemon=True)]
        for t in self._threads:
            t.start()

    def _read(self, stream, into, parse):
        for line in stream:
            line = line.rstrip("\n")
            into.append((time.monotonic(), line))
            if parse and line.startswith("{"):
                try:
                    self.events.append(json.loads(line))
                except ValueError:
                    pass

    @property
    def pid(self):
        return self.p.pid

    def alive(self):
        return self.p.poll() is None

    def finished_reading(self):
        return self.p.poll() is not None and not any(t.is_alive() for t in self._threads)

    def lines(self, stderr=False):
        return [l for _, l in (self.err if stderr else self.out)]

    def wait_event(self, pred, timeout):
        """First JSON event satisfying pred, waiting up to timeout seconds (None if none)."""
        def look():
            for e in list(self.events):
                if pred(e):
                    return e
            return None
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            e = look()
            if e is not None:
                return e
            if self.finished_reading():
                break
            time.sleep(0.05)
        return look()

    def events_of(self, kind, **match):
        return [e for e in list(self.events) if e.get("event") == kind
                and all(e.get(k) == v for k, v in match.items())]

    def wait_exit(self, timeout):
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self):
        """SIGTERM (then SIGKILL) this process; its own session group only (start_new_session)."""
        if self.p is None:
            return
        if self.p.poll() is None:
            try:
                os.killpg(self.p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.p.wait()
        else:
            # The leader may be gone while a child of its group lives on (e.g. a shell wrapper).
            try:
                os.killpg(self.p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        for t in self._threads:
            t.join(2)

    def dump(self):
        t0 = self.started
        if self.p is None:
            return "----- %s: did not start: %s" % (self.name, " ".join(self.argv))
        rc = self.p.poll()
        parts = ["----- %s (pid %d, rc %s): %s" % (self.name, self.p.pid, rc, " ".join(self.argv))]
        for label, lines in (("out", self.out), ("err", self.err)):
            for t, line in lines:
                parts.append("%s %7.3f %s| %s" % (self.name, t - t0, label, line))
        return "\n".join(parts)


# ---------------------------------------------------------------------------------------------
# Peers


class NodeServer(Proc):
    """interop/node/server.js: lwm2m-node-lib management server (plain CoAP) + HTTP control API."""

    def __init__(self, coap_port=0, http_port=0, name="node", lifetime_check_ms=500):
        super().__init__(name, ["node", NODE_SERVER, "--coap-port", str(coap_port), "--http-port",
                                str(http_port), "--lifetime-check-ms", str(lifetime_check_ms)])
        ready = self.wait_event(lambda e: e.get("event") == "listening", 20)
        if ready is None:
            raise AssertionError("node server did not print 'listening'")
        self.coap_port = ready["coap_port"]
        self.http_port = ready["http_port"]

    def api(self, op, timeout=30, **params):
        """GET /op?params on the control API; returns the decoded JSON.  `timeout` is how long
        the server waits for the device (its own `timeout` parameter)."""
        params["timeout"] = str(timeout)
        q = urllib.parse.urlencode(params)
        url = "http://127.0.0.1:%d/%s%s" % (self.http_port, op, "?" + q if q else "")
        with urllib.request.urlopen(url, timeout=timeout + 15) as r:
            return json.loads(r.read())


class BootstrapServer(Proc):
    """interop/aiocoap/bootstrap_server.py (aiocoap; tinydtls DTLS-PSK, or --plain)."""

    def __init__(self, server_uri, lifetime=None, plain=False, identity=EP, key_hex=PSK_HEX, name="bootstrap",
                 extra=()):
        self.port = free_udp_port(pair=True)
        argv = [VENV_PY, BOOTSTRAP_SERVER, "--port", str(self.port), "--server-uri", server_uri]
        if lifetime is not None:
            argv += ["--lifetime", str(lifetime)]
        if plain:
            argv.append("--plain")
        else:
            argv += ["--psk-identity", identity, "--psk-key", key_hex]
        argv += list(extra)
        super().__init__(name, argv)
        if self.wait_event(lambda e: e.get("event") == "listening", 20) is None:
            raise AssertionError("bootstrap server did not print 'listening'")
        self.uri = "%s://127.0.0.1:%d" % ("coap" if plain else "coaps", self.port)


class CoapServer(Proc):
    """interop/libcoap/coap_server.sh: libcoap coap-server with DTLS-PSK."""

    def __init__(self, identity=EP, key_hex=PSK_HEX, wrong_key=False, tls="openssl", name="coap-server"):
        self.port = free_udp_port(pair=True)
        argv = [COAP_SERVER_SH, "--port", str(self.port), "--identity", identity, "--key-hex", key_hex,
                "--tls", tls]
        if wrong_key:
            argv.append("--wrong-key")
        super().__init__(name, argv)
        if self.wait_event(lambda e: e.get("event") == "starting", 10) is None:
            raise AssertionError("coap_server.sh did not print 'starting'")
        # coap-server binds after exec; wait until the DTLS port is taken.
        if not wait_for(lambda: _udp_port_bound(self.port), 10):
            raise AssertionError("coap-server did not bind UDP %d" % self.port)
        self.uri = "coaps://127.0.0.1:%d" % self.port


def _udp_port_bound(port):
    for fam in ("udp", "udp6"):
        try:
            with open("/proc/net/" + fam) as f:
                next(f)
                for line in f:
                    if int(line.split()[1].split(":")[1], 16) == port:
                        return True
        except FileNotFoundError:
            pass
    return False


# ---------------------------------------------------------------------------------------------
# The device simulator

EVENT_RE = re.compile(r"\b" + EVENT_PREFIX + r"([A-Z0-9_]+)\b(.*)$")


class Sim(Proc):
    """lwm2m-carrier-sim.  ``sim_events()`` are the event lines, parsed into (NAME, {key: value})
    with NAME without the LWM2M_CARRIER_EVENT_ prefix."""

    def __init__(self, bootstrap_uri, state_dir, psk_hex=PSK_HEX, imei=IMEI, until=None, timeout=None,
                 name="sim", extra=()):
        argv = [sim_binary(), "--bootstrap-uri", bootstrap_uri, "--psk", psk_hex, "--imei", imei,
                "--state", state_dir, "--log", "debug"]
        if until:
            argv += ["--until", until]
        if timeout:
            argv += ["--timeout", str(timeout)]
        argv += list(extra)
        env = dict(os.environ)
        env.setdefault("RUST_BACKTRACE", "1")
        super().__init__(name, argv, cwd=REPO, env=env)

    def sim_events(self):
        """Event lines from stdout, in order: [(NAME, {k: v}, raw line)]."""
        found = []
        for _, line in list(self.out):
            m = EVENT_RE.search(line)
            if m:
                data = dict(kv.split("=", 1) for kv in m.group(2).split() if "=" in kv)
                found.append((m.group(1), data, line))
        return found

    def names(self):
        return [n for n, _, _ in self.sim_events()]

    def traffic(self, arrow, mid):
        """--log debug lines (stderr) with this direction ("->" sent, "<-" received) and
        Message ID, e.g. "<- conn1 CON 0.02 POST mid=0x1a2b token=.. path=/3/0/4 payload=0B"."""
        tag = "mid=%#06x " % mid
        return [l for l in self.lines(stderr=True) if (arrow + " conn") in l and tag in l]

    def wait_sim_event(self, name, timeout, after=0, fail_on=(), **data):
        """The first event `name` (with the given data values) at index >= after; returns
        (index, data, line), or None after `timeout` or as soon as an event in `fail_on`
        (e.g. DEFERRED while waiting for READY) shows up first."""
        def look():
            for i, (n, d, line) in enumerate(self.sim_events()):
                if i >= after and n == name and all(d.get(k) == str(v) for k, v in data.items()):
                    return (i, d, line)
                if i >= after and n in fail_on:
                    return False
            return None
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            r = look()
            if r is not None:
                return r or None
            if self.finished_reading():
                break
            time.sleep(0.05)
        return look() or None


# ---------------------------------------------------------------------------------------------
# TestCase base


class InteropCase(unittest.TestCase):
    """Stops the processes a test started (in cleanup) and prints their output when it fails."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="lwm2m-interop-")
        self.addCleanup(self._stop_all)

    def procs(self):
        return LIVE[self._live_from:]

    def _stop_all(self):
        for p in reversed(self.procs()):
            try:
                p.stop()
            except Exception as e:  # noqa: BLE001 - clean up as much as possible
                print("cleanup of %s: %s" % (p.name, e))
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run(self, result=None):
        if result is None:
            return super().run(result)
        before = len(result.failures) + len(result.errors)
        self._live_from = len(LIVE)
        self.extra_logs = []  # callables returning text (e.g. the fault proxy's packet log)
        t0 = time.monotonic()
        out = super().run(result)
        print("\n[%s took %.1f s]" % (self.id(), time.monotonic() - t0), flush=True)
        if len(result.failures) + len(result.errors) > before:
            print("\n===== logs of %s =====" % self.id())
            for p in self.procs():
                print(p.dump())
            for f in self.extra_logs:
                print(f())
            print("===== end of logs of %s =====" % self.id(), flush=True)
        return out

    # helpers -------------------------------------------------------------------------------

    def state_dir(self, name="state"):
        d = os.path.join(self.tmp, name)
        os.makedirs(d, exist_ok=True)
        return d

    def assertSimEvent(self, sim, name, timeout, after=0, fail_on=None, **data):
        """Waits for the event; by default a DEFERRED or ERROR first fails at once when waiting
        for READY or BOOTSTRAPPED (they would not come before the 2-minute retry)."""
        if fail_on is None:
            fail_on = ("DEFERRED", "ERROR") if name in ("READY", "BOOTSTRAPPED") else ()
        r = sim.wait_sim_event(name, timeout, after=after, fail_on=fail_on, **data)
        if r is None:
            self.fail("simulator did not print %s%s%s within %ss; its events: %s" % (
                EVENT_PREFIX, name, "".join(" %s=%s" % kv for kv in data.items()), timeout,
                [line for _, _, line in sim.sim_events()]))
        return r

    def assertNodeEvent(self, node, pred, timeout, what):
        e = node.wait_event(pred, timeout)
        if e is None:
            self.fail("node server: no %s within %ss" % (what, timeout))
        return e
