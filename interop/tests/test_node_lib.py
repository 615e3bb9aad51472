"""lwm2m-node-lib 1.4.0 (interop/node/server.js) as the LwM2M 1.0 management server.

The simulator bootstraps over DTLS-PSK from the aiocoap bootstrap server (as carriers do), which
hands out the node server's coap://127.0.0.1:PORT; the device then registers there and the test
drives the Device Management & Service Enablement interface through the node server's control API.
"""

import re
import struct
import unittest

from common import EP, IMEI, BootstrapServer, InteropCase, NodeServer, Sim, require_peers_and_sim

BATTERY = 87


def setUpModule():
    require_peers_and_sim()


def tlv_decode(data):
    """OMA-TS-LightweightM2M-V1_0 §6.4.3 TLV: [(type, id, value bytes)], type 0..3
    (0 object instance, 1 resource instance, 2 multiple resource, 3 resource with value)."""
    out, i = [], 0
    while i < len(data):
        t = data[i]
        kind = (t >> 6) & 3
        i += 1
        if t & 0x20:
            ident = struct.unpack(">H", data[i:i + 2])[0]
            i += 2
        else:
            ident = data[i]
            i += 1
        ltype = (t >> 3) & 3
        if ltype == 0:
            length = t & 7
        else:
            length = int.from_bytes(data[i:i + ltype], "big")
            i += ltype
        out.append((kind, ident, data[i:i + length]))
        i += length
    return out


def tlv_int(b):
    return int.from_bytes(b, "big", signed=True)


class NodeLibManagementServer(InteropCase):
    def test_register_read_write_observe_discover_execute(self):
        """OMA-ETS-LightweightM2M-V1_0 interoperability cases against a third-party server:
        LightweightM2M-1.0-int-101 (Initial Registration; TS §5.3.1: endpoint urn:imei:, no
        Security object /0 in the links), -int-203 (Querying basic information in TLV format:
        Read /3/0), -int-201 (... in Plain Text format: Read /3/0/9), -int-205 (Setting basic
        information in Plain Text format: Write /3/0/14 and /1/0/1, read back), -int-102
        (Registration Update: a written Lifetime triggers an Update, TS §5.3.2), -int-660/-int-301
        (Observation and notification with Write-Attributes pmin/pmax, RFC 7641), -int-260
        (Discover /3/0, RFC 6690 link format with the attributes), -int-241/-int-655 (Execute
        Reboot /3/0/4: the REBOOT event)."""
        node = NodeServer()
        bs = BootstrapServer("coap://127.0.0.1:%d" % node.coap_port, lifetime=300)
        sim = Sim(bs.uri, self.state_dir(), timeout=150, extra=["--battery-level", str(BATTERY)])

        self.assertSimEvent(sim, "BOOTSTRAPPED", 40)
        self.assertSimEvent(sim, "READY", 30)

        # -- Register (int-101) ------------------------------------------------------------
        reg = self.assertNodeEvent(node, lambda e: e.get("event") == "registered", 10, "registered event")
        self.assertEqual(reg["endpoint"], EP)
        self.assertEqual(EP, "urn:imei:" + IMEI)
        self.assertEqual(reg["lifetime"], 300, reg)
        self.assertEqual(reg["version"], "1.0", reg)
        # b= is optional in 1.0 (TS §5.3.1.1: default U); if present it must say U.
        self.assertEqual(reg["query"].get("b", "U"), "U", reg)
        links = reg["links"] or ""
        self.assertIn("</3/0>", links)
        self.assertIn("</1/0>", links)
        self.assertIsNone(re.search(r"</0[/>]", links), "Security object listed in Register: %s" % links)
        devices = node.api("devices")
        self.assertEqual([d["endpoint"] for d in devices], [EP])

        # -- Read /3/0 (TLV) ---------------------------------------------------------------
        r = node.api("read", path="/3/0", accept="tlv")
        self.assertEqual((r["ok"], r["code"], r["content_format"]), (True, "2.05", 11542), r)
        items = tlv_decode(bytes.fromhex(r["payload_hex"]))
        res = {ident: val for kind, ident, val in items if kind == 3}
        self.assertIn(9, res, "no resource 9 in /3/0 TLV: %s" % items)
        self.assertEqual(tlv_int(res[9]), BATTERY, items)
        self.assertIn(0, res, "no Manufacturer (/3/0/0) in /3/0 TLV")
        self.assertNotIn(4, res, "executable /3/0/4 must not be read (TS §5.4.1)")

        # -- Read /3/0/9 (text) -------------------------------------------------------------
        r = node.api("read", path="/3/0/9", accept="text")
        self.assertEqual((r["ok"], r["code"], r["content_format"], r["value"]), (True, "2.05", 0, str(BATTERY)), r)

        # -- Write /3/0/14 (UTC offset) and read back ---------------------------------------
        r = node.api("write", path="/3/0/14", value="+02:00", format="text")
        self.assertEqual((r["ok"], r["code"]), (True, "2.04"), r)
        r = node.api("read", path="/3/0/14", accept="text")
        self.assertEqual((r["code"], r["value"]), ("2.05", "+02:00"), r)

        # -- Write /1/0/1 (lifetime) and read back; the device must send an Update -----------
        since = max(e["seq"] for e in node.events)
        r = node.api("write", path="/1/0/1", value="240", format="text")
        self.assertEqual((r["ok"], r["code"]), (True, "2.04"), r)
        r = node.api("read", path="/1/0/1", accept="text")
        self.assertEqual((r["code"], r["value"]), ("2.05", "240"), r)
        upd = self.assertNodeEvent(node, lambda e: e.get("event") == "updated" and e["seq"] > since, 15,
                                   "Update after the lifetime write")
        self.assertEqual(upd["query"].get("lt"), "240", upd)
        self.assertEqual(upd["location"], reg["location"], upd)

        # -- Observe /3/0/9 with pmin/pmax: notifications -----------------------------------
        r = node.api("write-attributes", path="/3/0/9", pmin="1", pmax="2")
        self.assertEqual((r["ok"], r["code"]), (True, "2.04"), r)
        r = node.api("observe", path="/3/0/9")
        self.assertEqual((r["ok"], r["code"], r["value"]), (True, "2.05", str(BATTERY)), r)
        note = self.assertNodeEvent(node, lambda e: e.get("event") == "notification" and e["path"] == "/3/0/9",
                                    12, "notification for /3/0/9")
        self.assertEqual((note["code"], note["value"], note["endpoint"]), ("2.05", str(BATTERY), EP), note)
        self.assertIsNotNone(note["observe"], note)
        self.assertTrue(note["accepted"], note)
        r = node.api("cancel-observe", path="/3/0/9")

        # -- Discover /3/0 -----------------------------------------------------------------
        r = node.api("discover", path="/3/0")
        self.assertEqual((r["ok"], r["code"], r["content_format"]), (True, "2.05", 40), r)
        self.assertIn("</3/0/9>", r["value"])
        self.assertIn("</3/0/4>", r["value"])
        self.assertRegex(r["value"], r"</3/0/9>;[^,]*pmax=2", "attributes written above not in Discover")

        # -- Execute /3/0/4 (Reboot) --------------------------------------------------------
        before = len(sim.sim_events())
        r = node.api("execute", path="/3/0/4")
        self.assertEqual((r["ok"], r["code"]), (True, "2.04"), r)
        self.assertSimEvent(sim, "REBOOT", 10, after=before)


if __name__ == "__main__":
    unittest.main(verbosity=2)
