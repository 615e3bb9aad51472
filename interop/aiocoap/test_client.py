#!/usr/bin/env python3
"""Tiny hand-made LwM2M 1.0 client (aiocoap) used only to self-test the interop peers.

  test_client.py bootstrap --uri coaps://127.0.0.1:5684 --identity ID --key HEX --ep NAME
      POST /bs?ep=NAME over DTLS-PSK (or coap:// without --identity), then serves the
      bootstrap server's Delete/Write/Finish; prints each as a JSON line, exits 0 after
      Bootstrap-Finish (1 on timeout).
  test_client.py register --server coap://127.0.0.1:5683 --ep NAME [--lifetime 60]
      Registers, serves Device object /3/0 (read 9 battery, write 14 utc offset, execute 4
      reboot, observe 9, discover), prints each request as a JSON line; sends an Update after
      --update-after seconds and a De-register after --duration seconds, then exits.
"""

import argparse
import asyncio
import json
import sys
import time
import os

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import aiocoap  # noqa: E402
import aiocoap.resource as resource  # noqa: E402
from aiocoap import Message, Code  # noqa: E402

import lwm2m_tlv  # noqa: E402

TLV = 11542
LINK = 40


def emit(event, **kw):
    d = {"event": event, "time": time.time()}
    d.update(kw)
    sys.stdout.write(json.dumps(d) + "\n")
    sys.stdout.flush()


def code_str(code):
    return "%d.%02d" % (int(code) >> 5, int(code) & 0x1F)


# ------------------------------------------------------------------------------------------
# bootstrap


class BsCatchAll(resource.Resource):
    """Receives every bootstrap-server request (any path)."""

    def __init__(self, finished):
        super().__init__()
        self.finished = finished

    async def needs_blockwise_assembly(self, request):
        return True

    async def render(self, request):
        path = "/" + "/".join(request.opt.uri_path)
        method = request.code.name
        emit("bs_server_request", method=method, path=path, content_format=request.opt.content_format,
             payload_hex=request.payload.hex(),
             tlv=repr(lwm2m_tlv.decode(request.payload)) if request.opt.content_format == TLV else None)
        if request.code == Code.DELETE:
            return Message(code=Code.DELETED)
        if request.code == Code.PUT:
            return Message(code=Code.CHANGED)
        if request.code == Code.POST and path == "/bs":
            asyncio.get_running_loop().call_later(0.1, self.finished.set)
            return Message(code=Code.CHANGED)
        return Message(code=Code.METHOD_NOT_ALLOWED)


async def do_bootstrap(a):
    finished = asyncio.Event()
    site = BsCatchAll(finished)  # a bare Resource as serversite sees every path
    transports = ["tinydtls", "udp6"] if a.identity else ["udp6"]
    ctx = await aiocoap.Context.create_client_context(transports=transports)
    ctx.serversite = site
    if a.identity:
        ctx.client_credentials.load_from_dict({
            a.uri.rstrip("/") + "/*": {"dtls": {"psk": {"hex": a.key}, "client-identity": {"ascii": a.identity}}}
        })
    req = Message(code=Code.POST, uri=a.uri.rstrip("/") + "/bs?ep=" + a.ep)
    try:
        resp = await asyncio.wait_for(ctx.request(req).response, a.timeout)
        emit("bs_request_response", code=code_str(resp.code))
    except Exception as e:  # noqa: BLE001
        emit("bs_request_response", code=None, error="%s: %s" % (type(e).__name__, e))
        await ctx.shutdown()
        return 1
    try:
        await asyncio.wait_for(finished.wait(), a.timeout)
        rc = 0
    except asyncio.TimeoutError:
        emit("bs_timeout")
        rc = 1
    await ctx.shutdown()
    return rc


# ------------------------------------------------------------------------------------------
# registration / device management


class DeviceResource(resource.ObservableResource):
    """One resource of /3/0 with a text value."""

    def __init__(self, rid, value, writable=False, executable=False):
        super().__init__()
        self.rid = rid
        self.value = value
        self.writable = writable
        self.executable = executable

    def get_link_description(self):
        return {}

    async def render_get(self, request):
        emit("server_request", method="GET", path="/3/0/%d" % self.rid,
             accept=request.opt.accept, observe=request.opt.observe)
        if request.opt.accept == LINK:
            return Message(code=Code.CONTENT, payload=("</3/0/%d>" % self.rid).encode(), content_format=LINK)
        if request.opt.accept not in (None, 0):
            return Message(code=Code.NOT_ACCEPTABLE)
        return Message(code=Code.CONTENT, payload=str(self.value).encode(), content_format=0)

    async def render_put(self, request):
        q = list(request.opt.uri_query)
        emit("server_request", method="PUT", path="/3/0/%d" % self.rid, query=q,
             content_format=request.opt.content_format, payload=request.payload.decode("utf-8", "replace"))
        if q:  # Write-Attributes
            return Message(code=Code.CHANGED)
        if not self.writable:
            return Message(code=Code.METHOD_NOT_ALLOWED)
        if request.opt.content_format not in (0, None):
            return Message(code=Code.UNSUPPORTED_CONTENT_FORMAT)
        self.value = request.payload.decode()
        return Message(code=Code.CHANGED)

    async def render_post(self, request):
        emit("server_request", method="POST", path="/3/0/%d" % self.rid,
             payload=request.payload.decode("utf-8", "replace"))
        if not self.executable:
            return Message(code=Code.METHOD_NOT_ALLOWED)
        return Message(code=Code.CHANGED)

    def set(self, value):
        self.value = value
        self.updated_state()


class DeviceInstance(resource.Resource):
    def __init__(self, resources):
        super().__init__()
        self.resources = resources

    async def render_get(self, request):
        emit("server_request", method="GET", path="/3/0", accept=request.opt.accept)
        if request.opt.accept == LINK:
            links = ",".join(["</3/0>"] + ["</3/0/%d>" % r for r in sorted(self.resources)])
            return Message(code=Code.CONTENT, payload=links.encode(), content_format=LINK)
        items = []
        for rid in sorted(self.resources):
            v = self.resources[rid].value
            items.append((rid, v))
        return Message(code=Code.CONTENT, payload=lwm2m_tlv.encode_resources(items), content_format=TLV)


async def do_register(a):
    res = {
        0: DeviceResource(0, "lwm2m-carrier interop selftest"),
        4: DeviceResource(4, "", executable=True),
        9: DeviceResource(9, 87),
        14: DeviceResource(14, "+01:00", writable=True),
    }
    site = resource.Site()
    for rid, r in res.items():
        site.add_resource(["3", "0", str(rid)], r)
    site.add_resource(["3", "0"], DeviceInstance(res))
    # A server context bound to loopback: requests from the LwM2M server arrive on the socket the
    # Register was sent from.
    ctx = await aiocoap.Context.create_server_context(site, bind=("127.0.0.1", 0), transports=["udp6"])
    links = "</>;rt=\"oma.lwm2m\",</1/0>,</3/0>"
    uri = "%s/rd?ep=%s&lt=%d&lwm2m=1.0&b=U" % (a.server.rstrip("/"), a.ep, a.lifetime)
    try:
        resp = await asyncio.wait_for(ctx.request(Message(code=Code.POST, uri=uri, payload=links.encode(),
                                                          content_format=LINK)).response, 30)
    except Exception as e:  # noqa: BLE001
        emit("register_response", code=None, error=str(e))
        await ctx.shutdown()
        return 1
    location = "/".join(resp.opt.location_path)
    emit("register_response", code=code_str(resp.code), location=location)
    if resp.code != Code.CREATED:
        await ctx.shutdown()
        return 1

    async def battery_drain():
        level = 87
        while True:
            await asyncio.sleep(a.notify_every)
            level -= 1
            res[9].set(level)

    drain = asyncio.ensure_future(battery_drain())
    start = time.time()
    if a.update_after:
        await asyncio.sleep(a.update_after)
        r = await ctx.request(Message(code=Code.POST, uri="%s/%s?lt=%d" % (a.server.rstrip("/"), location,
                                                                          a.lifetime))).response
        emit("update_response", code=code_str(r.code))
    await asyncio.sleep(max(0.0, a.duration - (time.time() - start)))
    drain.cancel()
    if not a.no_deregister:
        r = await ctx.request(Message(code=Code.DELETE, uri="%s/%s" % (a.server.rstrip("/"), location))).response
        emit("deregister_response", code=code_str(r.code))
    await ctx.shutdown()
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("bootstrap")
    b.add_argument("--uri", required=True)
    b.add_argument("--identity")
    b.add_argument("--key")
    b.add_argument("--ep", required=True)
    b.add_argument("--timeout", type=float, default=20)
    r = sub.add_parser("register")
    r.add_argument("--server", required=True)
    r.add_argument("--ep", required=True)
    r.add_argument("--lifetime", type=int, default=60)
    r.add_argument("--duration", type=float, default=30)
    r.add_argument("--update-after", type=float, default=0)
    r.add_argument("--notify-every", type=float, default=1.0)
    r.add_argument("--no-deregister", action="store_true")
    a = p.parse_args()
    rc = asyncio.run(do_bootstrap(a) if a.cmd == "bootstrap" else do_register(a))
    sys.exit(rc)


if __name__ == "__main__":
    main()
