"""Fault injection between the simulator and lwm2m-node-lib (plain CoAP through
faultproxy.FaultProxy).  The bootstrap (aiocoap, DTLS-PSK) goes direct and hands out the proxy's
address with a 30 s lifetime, so Updates come every 15 s (TS 1.0: lifetime minus the client's
update margin).

FaultTests runs the short scenarios; LinkLossTest (about 4 minutes: retransmission span plus
the 2-minute retry) is its own class so that run_tests.sh can run it in parallel.
"""

import os
import time
import unittest

from common import EP, EVENT_RE, BootstrapServer, InteropCase, NodeServer, Sim, require_peers_and_sim, wait_for
from faultproxy import C2S, S2C, FaultProxy

LIFETIME = 30
SEED = int(os.environ.get("INTEROP_FAULT_SEED", "20240611"))
# RFC 7252 §4.8.2 MAX_TRANSMIT_WAIT with the default parameters: 2 s * 1.5 * (2^(4+1) - 1).
MAX_TRANSMIT_WAIT = 93


def setUpModule():
    require_peers_and_sim()


class FaultCase(InteropCase):
    def start(self, lifetime=LIFETIME, battery=None, **faults):
        """node server, proxy in front of it, DTLS bootstrap server handing out the proxy, sim."""
        self.node = NodeServer()
        self.proxy = FaultProxy(self.node.coap_port, seed=SEED, **faults)
        self.addCleanup(self.proxy.stop)
        self.extra_logs.append(self.proxy.log_text)
        self.bs = BootstrapServer("coap://127.0.0.1:%d" % self.proxy.port, lifetime=lifetime)
        extra = ["--battery-level", str(battery)] if battery is not None else []
        self.sim = Sim(self.bs.uri, self.state_dir(), timeout=330, extra=extra)
        return self.sim

    def registered(self, node=None, since=0):
        node = node or self.node
        return [e for e in node.events_of("registered", endpoint=EP) if e["seq"] > since]

    def updates(self, location, node=None):
        return (node or self.node).events_of("updated", endpoint=EP, location=location)


class FaultTests(FaultCase):
    def test_lossy_link_stays_registered(self):
        """RFC 7252 §4.2/§4.5 (CON retransmission with exponential back-off; duplicate
        detection) under 20% loss, 10% duplication, reordering and up to 100 ms jitter in both
        directions: the client still bootstraps into the server, registers (OMA-ETS
        LightweightM2M-1.0-int-101) and keeps the registration alive with Updates (int-102) on the
        same location, without the server expiring it or the client re-registering, while the
        server reads (int-201) and observes (int-301, RFC 7641) through the same link."""
        sim = self.start(loss=0.2, duplicate=0.1, reorder=0.15, delay=0.1, battery=64)
        self.assertSimEvent(sim, "READY", 120)
        regs = self.registered()
        self.assertGreaterEqual(len(regs), 1, "no registration at the node server")
        loc = regs[0]["location"]
        self.assertEqual(regs[0]["lifetime"], LIFETIME, regs[0])
        t_registered = time.monotonic()

        # Traffic both ways while waiting for two Update periods (15 s each): an observation
        # with pmax=2 and a Read every second or so.
        r = self.node.api("write-attributes", path="/3/0/9", pmin="1", pmax="2", timeout=60)
        self.assertEqual(r["code"], "2.04", r)
        r = self.node.api("observe", path="/3/0/9", timeout=60)
        self.assertEqual((r["code"], r["value"]), ("2.05", "64"), r)
        reads = []
        while len(self.updates(loc)) < 2 and time.monotonic() - t_registered < 2 * LIFETIME + 10:
            reads.append(self.node.api("read", path="/3/0/9", accept="text", timeout=60))
            time.sleep(0.5)
        self.assertGreaterEqual(len(self.updates(loc)), 2, "fewer than 2 Updates on %s" % loc)
        ok_reads = [r for r in reads if r["code"] == "2.05"]
        # node-coap gives up a CON after 4 retransmissions: (1 - 0.8 * 0.8)^5 = 0.6% of Reads.
        self.assertGreaterEqual(len(ok_reads), 0.8 * len(reads), "Reads: %s" % [r["code"] for r in reads])
        self.assertEqual({r["value"] for r in ok_reads}, {"64"})
        notes = self.node.events_of("notification", path="/3/0/9")
        self.assertGreaterEqual(len(notes), 3, "notifications: %s" % notes)
        self.assertEqual({n["value"] for n in notes}, {"64"})

        self.assertEqual(self.node.events_of("expired"), [], "the server expired the registration")
        self.assertEqual([e["location"] for e in self.registered()], [loc], "client registered again")
        self.assertEqual(sim.names().count("READY"), 1, sim.names())
        self.assertNotIn("DEFERRED", sim.names())
        devices = self.node.api("devices")
        self.assertEqual([(d["endpoint"], d["location"]) for d in devices], [(EP, loc)])
        st = self.proxy.stats
        self.assertGreater(st["dropped"], 0, st)
        self.assertGreater(st["duplicated"], 0, st)
        self.assertGreater(st["reordered"], 0, st)
        print("fault proxy: %s; %d reads (%d ok), %d notifications, %d updates" % (
            st, len(reads), len(ok_reads), len(notes), len(self.updates(loc))))

    def test_duplicated_execute_runs_once(self):
        """RFC 7252 §4.5 (message deduplication: a duplicate CON is acknowledged again but not
        processed again) applied to Execute: the proxy delivers each Execute three times with
        the same Message ID.  /1/0/8 (Registration Update Trigger, TS 1.0 §5.4.5 / E.2) must
        cause exactly one Update; /3/0/4 (Reboot, OMA-ETS LightweightM2M-1.0-int-241/-int-655)
        exactly one REBOOT event, after which the device comes back and registers again."""
        sim = self.start(lifetime=300)  # no periodic Update during the counting windows
        self.assertSimEvent(sim, "READY", 60)
        reg = self.registered()[0]

        def triple(path, *delays):
            def rule(direction, msg):
                if direction == S2C and msg.type == "CON" and msg.method == "POST" and msg.path == path:
                    return list(delays)
                return []
            return rule

        # ---- Registration Update Trigger, three copies 50 ms and 400 ms apart --------------
        self.proxy.rules.append(triple("/1/0/8", 0.05, 0.4))
        r = self.node.api("execute", path="/1/0/8")
        self.assertEqual((r["ok"], r["code"]), (True, "2.04"), r)
        time.sleep(4)
        mid = self.only_execute("/1/0/8")
        got = sim.traffic("<-", mid)
        self.assertEqual(len(got), 3, "the device should have received 3 copies of mid %#06x: %s" % (mid, got))
        acks = sim.traffic("->", mid)
        self.assertEqual(len(acks), 3, "each copy must be acknowledged (RFC 7252 §4.5): %s" % acks)
        self.assertTrue(all(" ACK 2.04 " in a for a in acks), acks)
        updates = self.updates(reg["location"])
        self.assertEqual(len(updates), 1, "duplicate execution of /1/0/8: %d Updates" % len(updates))

        # ---- Reboot: copies 1 ms and 30 ms after the first --------------------------------
        self.proxy.rules.append(triple("/3/0/4", 0.001, 0.03))
        before = len(sim.sim_events())
        r = self.node.api("execute", path="/3/0/4", timeout=20)
        problems = []
        if (r["ok"], r["code"]) != (True, "2.04"):
            problems.append("the server got no 2.04 for Execute /3/0/4: %s" % r)
        came_back = sim.wait_sim_event("READY", 30, after=before + 1)
        if not came_back:
            problems.append("no READY after the REBOOT")
        time.sleep(3)  # a REBOOT loop would show here
        reboots = [line for n, _, line in sim.sim_events()[before:] if n == "REBOOT"]
        if len(reboots) != 1:
            problems.append("%d REBOOT events for one Execute (duplicate execution)" % len(reboots))
        mid = self.only_execute("/3/0/4")
        got = sim.traffic("<-", mid)
        sent = sim.traffic("->", mid)
        on_wire = [m.summary() for _, d, m, _ in self.proxy.messages(C2S) if m.mid == mid]
        print("Execute /3/0/4 mid %#06x: device received %d copies, logged %d replies; replies on the wire: %s"
              % (mid, len(got), len(sent), on_wire))
        if not on_wire:
            problems.append("no ACK for Execute /3/0/4 left the device (its --log debug shows %d sent: %s)"
                            % (len(sent), sent))
        if problems:
            self.fail("; ".join(problems))

    def only_execute(self, path):
        """The Message ID of the one Execute on `path` the server sent (before duplication)."""
        mids = {m.mid for _, _, m, _ in self.proxy.messages(S2C) if m.method == "POST" and m.path == path}
        self.assertEqual(len(mids), 1, "the server sent %d different Executes on %s" % (len(mids), path))
        return mids.pop()

    def test_server_restart_reregisters(self):
        """LwM2M TS 1.0 §5.3.2 (Update answered 4.04 Not Found: the client registers again) and
        OMA-ETS LightweightM2M-1.0-int-101/-int-102: the node server is killed and restarted on
        the same port, losing the registration; the client's next Update gets 4.04 and it
        registers again at the new server within one lifetime."""
        sim = self.start()
        self.assertSimEvent(sim, "READY", 60)
        regs = self.registered()
        self.assertEqual(len(regs), 1, regs)
        old_loc = regs[0]["location"]
        port = self.node.coap_port

        self.node.stop()
        restart_at = len(self.proxy.log)
        self.node = NodeServer(coap_port=port, name="node-restarted")

        reg = self.assertNodeEvent(self.node, lambda e: e.get("event") == "registered", LIFETIME + 5,
                                   "new registration at the restarted server within the lifetime")
        self.assertEqual((reg["endpoint"], reg["lifetime"]), (EP, LIFETIME), reg)
        # On the wire: Update to the old location -> 4.04, then a new Register.
        after = [(d, m) for _, d, m, _, _ in self.proxy.log[restart_at:] if m is not None]
        upd = [i for i, (d, m) in enumerate(after) if d == C2S and m.method == "POST" and m.path == "/" + old_loc]
        self.assertTrue(upd, "no Update to /%s after the restart" % old_loc)
        upd_mid = after[upd[0]][1].mid
        codes = [m.code for d, m in after if d == S2C and m.mid == upd_mid and m.type in ("ACK", "RST")]
        self.assertIn("4.04", codes, "the restarted server did not answer the Update with 4.04: %s" % codes)
        regs_on_wire = [i for i, (d, m) in enumerate(after) if d == C2S and m.method == "POST" and m.path == "/rd"]
        self.assertTrue(regs_on_wire and regs_on_wire[0] > upd[0], "no Register after the 4.04")
        self.assertNotIn("DEFERRED", sim.names())
        # And the new registration is kept up.
        ok = wait_for(lambda: self.updates(reg["location"], self.node), LIFETIME, interval=0.5)
        self.assertTrue(ok, "no Update on the new registration %s" % reg["location"])


class LinkLossTest(FaultCase):
    def test_link_loss_defers_then_recovers(self):
        """RFC 7252 §4.2 (a CON exchange is given up after MAX_RETRANSMIT, MAX_TRANSMIT_WAIT 93 s)
        and the carrier retry schedule (first retry after 120 s): a link-loss window longer
        than the retransmission span swallows the Update; the client reports DEFERRED
        SERVER_REGISTRATION timeout=120, and after the link is back it registers again
        (OMA-ETS LightweightM2M-1.0-int-101) at the retry and reports READY."""
        sim = self.start()
        self.assertSimEvent(sim, "READY", 60)
        regs = self.registered()
        self.assertEqual(len(regs), 1, regs)
        # The Update goes out ~15 s after registering and is given up at most 93 s later.
        window = LIFETIME / 2 + MAX_TRANSMIT_WAIT + 10
        self.proxy.link_down(window)
        before = len(sim.sim_events())
        i, data, line = self.assertSimEvent(sim, "DEFERRED", window + 5, after=before)
        self.assertEqual(data.get("reason"), "LWM2M_CARRIER_DEFERRED_SERVER_REGISTRATION", line)
        self.assertEqual(data.get("timeout"), "120", line)
        # Nothing new registered while deferred; recovery at the retry (120 s) once the link is back.
        last_seq = max(e["seq"] for e in self.node.events)
        self.assertSimEvent(sim, "READY", 120 + 30, after=i + 1)
        reg = self.assertNodeEvent(self.node, lambda e: e.get("event") == "registered" and e["seq"] > last_seq, 5,
                                   "new registration after the retry")
        self.assertEqual(reg["endpoint"], EP)
        t_deferred = [t for t, l in sim.out if l == line][0]
        t_ready = [t for t, l in sim.out if EVENT_RE.search(l) and EVENT_RE.search(l).group(1) == "READY"][-1]
        self.assertGreaterEqual(t_ready - t_deferred, 115, "re-registered before the 120 s retry")
        self.assertLessEqual(t_ready - t_deferred, 150, "re-registered late")


if __name__ == "__main__":
    unittest.main(verbosity=2)
