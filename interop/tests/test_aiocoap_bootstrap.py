"""aiocoap 0.4.17 bootstrap server over DTLS-PSK (tinydtls: TLS_PSK_WITH_AES_128_CCM_8 only)
bootstraps the simulator into lwm2m-node-lib; a second run on the same state is a reboot.
"""

import unittest

from common import EP, BootstrapServer, InteropCase, NodeServer, Sim, require_peers_and_sim


def setUpModule():
    require_peers_and_sim()


class AiocoapBootstrap(InteropCase):
    def test_bootstrap_then_reboot_from_storage(self):
        """OMA-ETS LightweightM2M-1.0-int-0 (Client Initiated Bootstrap: Bootstrap-Request, Delete /,
        Write /0/0 /0/1 /1/0, Bootstrap-Finish; TS 1.0 §5.2.7) over int-401 (DTLS PSK with
        TLS_PSK_WITH_AES_128_CCM_8, RFC 6655/7925), then int-101 (Initial Registration) at the
        bootstrapped server.  A reboot with the same storage registers from the persisted
        bootstrap (TS §5.2.1: bootstrap only when no valid server account): READY without
        BOOTSTRAPPED and no second Bootstrap-Request."""
        node = NodeServer()
        bs = BootstrapServer("coap://127.0.0.1:%d" % node.coap_port, lifetime=120)
        state = self.state_dir()

        # ---- first boot: bootstrap --------------------------------------------------------
        sim1 = Sim(bs.uri, state, until="ready", timeout=90, name="sim-boot1")
        self.assertSimEvent(sim1, "READY", 90)
        rc = sim1.wait_exit(10)
        self.assertEqual(rc, 0, "first run did not reach READY (rc %s)" % rc)
        names = sim1.names()
        self.assertIn("BOOTSTRAPPED", names)
        self.assertIn("READY", names)
        self.assertLess(names.index("BOOTSTRAPPED"), names.index("READY"), names)
        self.assertNotIn("DEFERRED", names, names)
        # tinydtls offers only TLS_PSK_WITH_AES_128_CCM_8 (OpenSSL name PSK-AES128-CCM8).
        self.assertRegex("\n".join(sim1.lines(stderr=True)),
                         r"dtls: session with 127\.0\.0\.1:%d established \(PSK-AES128-CCM8\)" % bs.port)

        reqs = bs.events_of("bootstrap_request")
        self.assertEqual(len(reqs), 1, reqs)
        self.assertEqual((reqs[0]["endpoint"], reqs[0]["scheme"], reqs[0]["code"]), (EP, "coaps", "2.04"), reqs[0])
        done = bs.wait_event(lambda e: e.get("event") == "bootstrap_done", 5)
        self.assertIsNotNone(done, "no bootstrap_done")
        self.assertTrue(done["ok"], done)
        steps = [(e["op"], e["path"], e["code"]) for e in bs.events_of("step")]
        self.assertEqual(steps, [("delete", "/", "2.02"), ("write", "/0/0", "2.04"), ("write", "/0/1", "2.04"),
                                 ("write", "/1/0", "2.04"), ("finish", "/bs", "2.04")])

        reg1 = self.assertNodeEvent(node, lambda e: e.get("event") == "registered", 5, "registration")
        self.assertEqual((reg1["endpoint"], reg1["lifetime"]), (EP, 120), reg1)

        # ---- second boot: same state ------------------------------------------------------
        sim2 = Sim(bs.uri, state, until="ready", timeout=60, name="sim-boot2")
        self.assertSimEvent(sim2, "READY", 60)
        rc = sim2.wait_exit(10)
        self.assertEqual(rc, 0, "second run did not reach READY (rc %s)" % rc)
        names2 = sim2.names()
        self.assertIn("READY", names2)
        self.assertNotIn("BOOTSTRAPPED", names2)
        self.assertNotIn("DEFERRED", names2, names2)
        self.assertEqual(len(bs.events_of("bootstrap_request")), 1,
                         "the bootstrap server saw a second Bootstrap-Request")
        regs = self.assertNodeEvent(node, lambda e: e.get("event") == "registered" and e["seq"] > reg1["seq"],
                                    5, "registration after the reboot")
        self.assertEqual((regs["endpoint"], regs["lifetime"]), (EP, 120), regs)


if __name__ == "__main__":
    unittest.main(verbosity=2)
