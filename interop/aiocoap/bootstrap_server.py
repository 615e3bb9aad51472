#!/usr/bin/env python3
"""LwM2M 1.0 bootstrap server on aiocoap, DTLS-PSK (tinydtls: TLS_PSK_WITH_AES_128_CCM_8 only)
or plain CoAP (--plain), bound to one loopback address.

On POST /bs?ep=NAME it answers 2.04, then, over the same (DTLS) association, sends
  DELETE /            (unless --no-delete)
  PUT /0/0  TLV       bootstrap account: URI (this server), Bootstrap-Server=true, mode 0 (PSK),
                      identity, key, Short Server ID (--bs-short-server-id)
  PUT /0/1  TLV       management account: --server-uri, Bootstrap-Server=false, mode 3 (NoSec)
                      (or 0 with --server-psk-identity/--server-psk-key), Short Server ID
  PUT /1/0  TLV       Short Server ID, Lifetime, Notification Storing=false, Binding
  POST /bs            Bootstrap-Finish
and prints one JSON line per step on stdout:
  {"event":"listening",...}
  {"event":"bootstrap_request","endpoint":...,"psk_identity":...,"source":...,"code":"2.04"}
  {"event":"step","endpoint":...,"op":"delete","path":"/","code":"2.02","payload_hex":""}
  ...
  {"event":"bootstrap_done","endpoint":...,"ok":true}
A step that gets no response prints "code": null and "error"; the sequence stops there
unless --continue-on-error.
"""

import argparse
import asyncio
import json
import logging
import signal
import sys
import time
import os

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import aiocoap  # noqa: E402
import aiocoap.resource as resource  # noqa: E402
from aiocoap import Message, Code  # noqa: E402
from aiocoap.numbers import ContentFormat  # noqa: E402
from aiocoap.credentials import CredentialsMap  # noqa: E402

import lwm2m_tlv  # noqa: E402

TLV = 11542


def emit(event, **kw):
    line = {"event": event, "time": time.time()}
    line.update(kw)
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=5684, help="UDP port (default 5684)")
    p.add_argument("--plain", action="store_true",
                   help="plain CoAP instead of DTLS-PSK (fallback; the bootstrap account is then "
                        "written with coap:// and security mode 3)")
    p.add_argument("--psk-identity", default=None,
                   help="PSK identity the client must use (ASCII), e.g. urn:imei:356...")
    p.add_argument("--psk-key", default=None, help="PSK as hex")
    p.add_argument("--bootstrap-uri", default=None,
                   help="URI written to /0/0/0 (default coaps://HOST:PORT, or coap:// with --plain)")
    p.add_argument("--bs-short-server-id", type=int, default=100,
                   help="/0/0/10 of the bootstrap account (default 100, Verizon style); -1 to omit")
    p.add_argument("--server-uri", default="coap://127.0.0.1:5683",
                   help="management server URI for /0/1/0 (default coap://127.0.0.1:5683)")
    p.add_argument("--server-psk-identity", default=None,
                   help="if given with --server-psk-key, /0/1 uses mode 0 (PSK) with this identity")
    p.add_argument("--server-psk-key", default=None, help="hex PSK for the management account")
    p.add_argument("--short-server-id", type=int, default=102, help="management short server id (102)")
    p.add_argument("--lifetime", type=int, default=86400, help="/1/0/1 lifetime in seconds")
    p.add_argument("--binding", default="U", help="/1/0/7 binding (default U)")
    p.add_argument("--no-delete", action="store_true", help="skip the initial Delete /")
    p.add_argument("--no-finish", action="store_true", help="never send Bootstrap-Finish")
    p.add_argument("--bs-response", default="2.04",
                   help="code to answer POST /bs with (e.g. 4.00 to refuse); the sequence runs only on 2.04")
    p.add_argument("--start-delay", type=float, default=0.2,
                   help="seconds between answering POST /bs and the first request")
    p.add_argument("--continue-on-error", action="store_true")
    p.add_argument("--once", action="store_true", help="exit after the first bootstrap sequence")
    p.add_argument("--log", default="warning", help="python log level for aiocoap (to stderr)")
    a = p.parse_args(argv)
    if not a.plain and (a.psk_identity is None or a.psk_key is None):
        p.error("--psk-identity and --psk-key are required unless --plain")
    if (a.server_psk_identity is None) != (a.server_psk_key is None):
        p.error("--server-psk-identity and --server-psk-key go together")
    return a


def code_from_str(s):
    cls, detail = s.split(".")
    return Code((int(cls) << 5) | int(detail))


def code_str(code):
    return "%d.%02d" % (int(code) >> 5, int(code) & 0x1F)


def accounts(args):
    bs_uri = args.bootstrap_uri or ("%s://%s:%d" % ("coap" if args.plain else "coaps", args.host, args.port))
    bs = [(0, bs_uri), (1, True)]
    if args.plain:
        bs += [(2, 3), (3, b""), (4, b""), (5, b"")]
    else:
        bs += [(2, 0), (3, args.psk_identity.encode("ascii")), (4, b""), (5, bytes.fromhex(args.psk_key))]
    if args.bs_short_server_id >= 0:
        bs.append((10, args.bs_short_server_id))
    bs.append((11, 0))  # Client Hold Off Time
    srv = [(0, args.server_uri), (1, False)]
    if args.server_psk_identity is not None:
        srv += [(2, 0), (3, args.server_psk_identity.encode("ascii")), (4, b""),
                (5, bytes.fromhex(args.server_psk_key))]
    else:
        srv += [(2, 3), (3, b""), (4, b""), (5, b"")]
    srv.append((10, args.short_server_id))
    server = [(0, args.short_server_id), (1, args.lifetime), (6, False), (7, args.binding)]
    return bs, srv, server


class Bootstrapper:
    def __init__(self, args, ctx_holder, done_event):
        self.args = args
        self.ctx_holder = ctx_holder
        self.done_event = done_event
        self.running = set()

    async def request(self, remote, ep, op, code, path, payload=b"", fmt=None):
        msg = Message(code=code, payload=payload)  # confirmable by default
        msg.opt.uri_path = [s for s in path.split("/") if s]
        if fmt is not None:
            msg.opt.content_format = fmt
        msg.remote = remote
        try:
            resp = await asyncio.wait_for(self.ctx_holder[0].request(msg).response, 120)
        except Exception as e:  # noqa: BLE001 - report whatever the stack raised
            emit("step", endpoint=ep, op=op, path=path, code=None, error="%s: %s" % (type(e).__name__, e),
                 request_hex=payload.hex())
            return None
        c = code_str(resp.code)
        emit("step", endpoint=ep, op=op, path=path, code=c, payload_hex=resp.payload.hex(),
             request_hex=payload.hex())
        return c

    async def run(self, remote, ep):
        bs, srv, server = accounts(self.args)
        ok = True
        await asyncio.sleep(self.args.start_delay)
        steps = []
        if not self.args.no_delete:
            steps.append(("delete", Code.DELETE, "/", b"", None, "2.02"))
        steps += [
            ("write", Code.PUT, "/0/0", lwm2m_tlv.encode_resources(bs), TLV, "2.04"),
            ("write", Code.PUT, "/0/1", lwm2m_tlv.encode_resources(srv), TLV, "2.04"),
            ("write", Code.PUT, "/1/0", lwm2m_tlv.encode_resources(server), TLV, "2.04"),
        ]
        if not self.args.no_finish:
            steps.append(("finish", Code.POST, "/bs", b"", None, "2.04"))
        for op, code, path, payload, fmt, expect in steps:
            got = await self.request(remote, ep, op, code, path, payload, fmt)
            if got != expect:
                ok = False
                if not self.args.continue_on_error:
                    break
        emit("bootstrap_done", endpoint=ep, ok=ok)
        if self.args.once:
            self.done_event.set()


class BootstrapRequest(resource.Resource):
    def __init__(self, bootstrapper, args):
        super().__init__()
        self.bootstrapper = bootstrapper
        self.args = args

    async def render_post(self, request):
        query = dict(q.split("=", 1) if "=" in q else (q, "") for q in request.opt.uri_query)
        ep = query.get("ep")
        claims = [str(c) for c in getattr(request.remote, "authenticated_claims", []) if c is not None]
        code = self.args.bs_response if ep else "4.00"
        emit("bootstrap_request", endpoint=ep, query=query, psk_claims=claims,
             source=request.remote.hostinfo, scheme=request.remote.scheme, code=code)
        if code == "2.04":
            t = asyncio.ensure_future(self.bootstrapper.run(request.remote, ep))
            self.bootstrapper.running.add(t)
            t.add_done_callback(self.bootstrapper.running.discard)
        return Message(code=code_from_str(code))


def patch_dtls_server_recognize_remote():
    """aiocoap's tinydtls_server only answers requests; its recognize_remote() checks for the
    plain simplesocketserver address class, so a request addressed to a DTLS peer that
    connected to us is refused ("no transport").  Accept our own DTLS addresses so that the
    bootstrap server can send Delete/Write/Finish back over the client's DTLS session."""
    from aiocoap.transports import tinydtls_server

    async def recognize_remote(self, remote):
        return isinstance(remote, tinydtls_server._AddressDTLS) and remote._protocol is self._pool

    tinydtls_server.MessageInterfaceTinyDTLSServer.recognize_remote = recognize_remote

    # Report DTLS alerts (wrong key, unknown identity, close_notify) as JSON lines.
    orig_event = tinydtls_server._AddressDTLS._event

    def _event(self, level, code):
        if level != 0:
            emit("dtls_alert", level=level, code=code, source=self.hostinfo)
        return orig_event(self, level, code)

    tinydtls_server._AddressDTLS._event = _event


async def main(args):
    logging.basicConfig(level=getattr(logging, args.log.upper()), stream=sys.stderr)
    done = asyncio.Event()
    ctx_holder = [None]
    boot = Bootstrapper(args, ctx_holder, done)
    root = resource.Site()
    root.add_resource(["bs"], BootstrapRequest(boot, args))

    if args.plain:
        transports = ["simplesocketserver"]
        bind = (args.host, args.port)
        creds = None
    else:
        patch_dtls_server_recognize_remote()
        transports = ["tinydtls_server"]
        # tinydtls_server adds (5684 - 5683) to the given port
        bind = (args.host, args.port - 1)
        creds = CredentialsMap()
        creds.load_from_dict({
            ":client": {"dtls": {"psk": {"hex": args.psk_key},
                                 "client-identity": {"ascii": args.psk_identity}}}
        })
    ctx = await aiocoap.Context.create_server_context(root, bind=bind, transports=transports,
                                                      server_credentials=creds)
    ctx_holder[0] = ctx
    emit("listening", host=args.host, port=args.port, dtls=not args.plain,
         psk_identity=args.psk_identity, server_uri=args.server_uri,
         aiocoap=aiocoap.meta.version if hasattr(aiocoap, "meta") else None)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, done.set)
    await done.wait()
    await asyncio.sleep(0.2)
    await ctx.shutdown()


if __name__ == "__main__":
    import aiocoap.meta  # noqa: F401
    asyncio.run(main(parse_args()))
