"""libcoap 4.3.1 `coap-server` (OpenSSL 3.0 and GnuTLS 3.7.9 builds) as a DTLS 1.2 PSK peer standing
in for the bootstrap server.  coap-server is no LwM2M bootstrap server: it answers the
Bootstrap-Request (POST /bs) with 4.04, so a completed handshake shows as DEFERRED with
BOOTSTRAP_SEQUENCE, while a failed one shows as DEFERRED with BOOTSTRAP_CONNECT.
"""

import unittest

from common import EP, PSK_HEX, CoapServer, InteropCase, Sim, require_peers_and_sim

DEFERRED_SEQUENCE = "LWM2M_CARRIER_DEFERRED_BOOTSTRAP_SEQUENCE"
DEFERRED_CONNECT = "LWM2M_CARRIER_DEFERRED_BOOTSTRAP_CONNECT"
# The carrier retry schedule starts at 2 minutes (120, 240, 360, 480 s, then daily).
FIRST_RETRY_S = "120"


def setUpModule():
    require_peers_and_sim()


class LibcoapDtlsPsk(InteropCase):
    def run_against(self, tls, wrong_key):
        srv = CoapServer(identity=EP, key_hex=PSK_HEX, wrong_key=wrong_key, tls=tls, name="coap-server-" + tls)
        # The wrong key may only be noticed at the handshake timeout: be generous.
        sim = Sim(srv.uri, self.state_dir(tls + ("-wrong" if wrong_key else "")), timeout=100,
                  name="sim-" + tls)
        _, data, line = self.assertSimEvent(sim, "DEFERRED", 90)
        return srv, sim, data, line

    def right_key(self, tls):
        srv, sim, data, line = self.run_against(tls, wrong_key=False)
        self.assertEqual(data.get("reason"), DEFERRED_SEQUENCE,
                         "right key: the handshake must complete and the Bootstrap-Request get an answer "
                         "(4.04); got: %s" % line)
        self.assertEqual(data.get("timeout"), FIRST_RETRY_S, line)
        self.assertNotIn("BOOTSTRAPPED", sim.names())
        self.assertNotIn("READY", sim.names())
        # The --log debug trace (stderr): handshake done, Bootstrap-Request out, 4.04 back.
        log = "\n".join(sim.lines(stderr=True))
        self.assertRegex(log, r"dtls: session with 127\.0\.0\.1:%d established \(PSK-[A-Z0-9-]+\)" % srv.port)
        self.assertRegex(log, r"-> conn\d+ CON 0\.02 POST mid=0x[0-9a-f]{4} token=[0-9a-f]* path=/bs "
                              r"query=ep=%s\b" % EP)
        self.assertRegex(log, r"<- conn\d+ ACK 4\.04 mid=0x[0-9a-f]{4}")

    def wrong_key(self, tls):
        srv, sim, data, line = self.run_against(tls, wrong_key=True)
        self.assertEqual(data.get("reason"), DEFERRED_CONNECT, "wrong key: %s" % line)
        self.assertEqual(data.get("timeout"), FIRST_RETRY_S, line)
        self.assertNotIn("BOOTSTRAPPED", sim.names())
        log = "\n".join(sim.lines(stderr=True))
        self.assertNotRegex(log, r"dtls: session with .* established", "handshake succeeded with the wrong key")
        self.assertNotIn("path=/bs", log, "a Bootstrap-Request went out without a DTLS session")
        self.assertTrue(srv.alive(), "coap-server died")

    def test_right_key_openssl(self):
        """OMA-ETS LightweightM2M-1.0-int-401 (UDP Channel Security, Pre-shared Key mode; RFC 6347
        DTLS 1.2, RFC 7925 PSK profile): the handshake with coap-server-openssl completes with the
        right key, and the Bootstrap-Request's 4.04 (TS 1.0 §5.2.7.1) surfaces as DEFERRED
        BOOTSTRAP_SEQUENCE with the first retry at 120 s."""
        self.right_key("openssl")

    def test_right_key_gnutls(self):
        """As test_right_key_openssl (int-401, RFC 6347) with coap-server-gnutls."""
        self.right_key("gnutls")

    def test_wrong_key_openssl(self):
        """int-401 negative case: the server holds a different PSK for our identity (RFC 4279 §2:
        the Finished check fails); the client reports DEFERRED BOOTSTRAP_CONNECT, retry at 120 s."""
        self.wrong_key("openssl")

    def test_wrong_key_gnutls(self):
        """As test_wrong_key_openssl (int-401 negative, RFC 4279) with coap-server-gnutls."""
        self.wrong_key("gnutls")


if __name__ == "__main__":
    unittest.main(verbosity=2)
