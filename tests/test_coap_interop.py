"""Interop of the core CoAP layer with libcoap over real loopback UDP.

A small asyncio driver (test-only) moves the sans-IO Endpoint's datagrams through a real
socket. libcoap's ``coap-server-notls`` serves our requests (plain and block-wise), and
``coap-client-notls`` sends requests to a responder built on the Endpoint.
"""

import asyncio
import random
import shutil
import socket

import pytest

from lwm2m_client.core.coap import blockwise as bw
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.coap.events import RequestReceived
from lwm2m_client.core.coap.message import Message
from lwm2m_client.core.coap.messaging import Endpoint, Tuning

SERVER_BIN = shutil.which("coap-server-notls")
CLIENT_BIN = shutil.which("coap-client-notls")

pytestmark = pytest.mark.interop

BIG = bytes((i * 7 + i // 251) % 26 + 65 for i in range(3000))  # printable, no period


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class UdpDriver(asyncio.DatagramProtocol):
    """Runs an Endpoint on an asyncio UDP socket: reads the clock once per wake-up."""

    def __init__(self, endpoint, handler=None):
        self.endpoint = endpoint
        self.handler = handler
        self.loop = asyncio.get_running_loop()
        self.transport = None
        self.waiters = {}
        self.timer = None

    def now(self):
        return int(self.loop.time() * 1000)

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        now = self.now()
        self.dispatch(self.endpoint.receive(data, addr, now), now)

    def error_received(self, exc):
        pass  # ICMP port unreachable before the peer is up; retransmission covers it

    def dispatch(self, events, now):
        for event in events:
            if isinstance(event, RequestReceived):
                self.handler(self, event, now)
            else:
                fut = self.waiters.pop(event.token, None)
                if fut is not None and not fut.done():
                    fut.set_result(event)
        self.pump()

    def pump(self):
        for data, addr in self.endpoint.datagrams_to_send():
            self.transport.sendto(data, addr)
        if self.timer is not None:
            self.timer.cancel()
        deadline = self.endpoint.get_timer()
        if deadline is not None:
            self.timer = self.loop.call_at(deadline / 1000, self.on_timer)

    def on_timer(self):
        self.timer = None
        now = self.now()
        self.dispatch(self.endpoint.handle_timer(now), now)

    async def request(self, msg, addr):
        token = self.endpoint.request(msg, addr, self.now())
        fut = self.waiters[token] = self.loop.create_future()
        self.pump()
        return await asyncio.wait_for(fut, 30)


async def open_driver(handler=None, port=0):
    loop = asyncio.get_running_loop()
    ep = Endpoint(random.Random(4), Tuning(ack_timeout=500))
    _, driver = await loop.create_datagram_endpoint(
        lambda: UdpDriver(ep, handler), local_addr=("127.0.0.1", port))
    return driver


def get(path, mtype=m.CON):
    msg = Message(mtype, m.GET)
    msg.uri_path = path
    return msg


@pytest.fixture
async def libcoap_server():
    if SERVER_BIN is None:
        pytest.skip("coap-server-notls not installed (Debian package libcoap3-bin)")
    port = free_udp_port()
    proc = await asyncio.create_subprocess_exec(
        SERVER_BIN, "-A", "127.0.0.1", "-p", str(port), "-d", "10",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    try:
        yield ("127.0.0.1", port)
    finally:
        proc.terminate()
        await proc.wait()


async def test_get_from_libcoap_server(libcoap_server):
    driver = await open_driver()
    try:
        ev = await driver.request(get("/"), libcoap_server)
        assert ev.msg.code == m.CONTENT and b"libcoap" in bytes(ev.msg.payload)
        ev = await driver.request(get("/time"), libcoap_server)
        assert ev.msg.code == m.CONTENT and len(ev.msg.payload) > 0
        ev = await driver.request(get("/time", m.NON), libcoap_server)
        assert ev.msg.code == m.CONTENT and ev.msg.mtype == m.NON
        ev = await driver.request(get("/no/such/thing"), libcoap_server)
        assert ev.msg.code == m.NOT_FOUND
    finally:
        driver.transport.close()


async def test_blockwise_put_then_get_with_libcoap_server(libcoap_server):
    driver = await open_driver()
    try:
        tx = bw.Block1Sender(BIG, 6)
        while True:
            req = tx.fill(Message(m.CON, m.PUT))
            req.uri_path = "/meter/blob"
            req.content_format = 42
            ev = await driver.request(req, libcoap_server)
            result = tx.on_response(ev.msg)
            if result != bw.CONTINUE:
                break
        assert result == bw.DONE and ev.msg.code in (m.CREATED, m.CHANGED)

        rx = bw.Block2Receiver(szx=4)
        body = bytearray()
        blocks = 0
        while True:
            ev = await driver.request(rx.fill(get("/meter/blob")), libcoap_server)
            result = rx.on_response(ev.msg, lambda off, chunk: body.extend(chunk))
            blocks += 1
            if result != bw.CONTINUE:
                break
        assert result == bw.DONE and bytes(body) == BIG
        assert blocks == 12  # 3000 bytes in 256-byte blocks
    finally:
        driver.transport.close()


class Responder:
    """A test responder on the Endpoint: /3/0/0 text, /big via Block2, /upload via Block1."""

    def __init__(self):
        self.rx = bw.Block1Receiver(max_size=8192, szx=6)
        self.uploaded = bytearray()
        self.requests = 0

    def store(self, offset, chunk):
        del self.uploaded[offset:]
        self.uploaded += bytes(chunk)

    def __call__(self, driver, event, now):
        req = event.msg
        self.requests += 1
        resp = Message(code=m.CONTENT)
        path = req.uri_path
        if path == "/3/0/0" and req.code == m.GET:
            resp.content_format = 0
            resp.payload = b"Open Mobile Alliance"
        elif path == "/big" and req.code == m.GET:
            if not bw.serve_block2(req, resp, BIG, 4):
                resp = Message(code=m.BAD_OPTION)
        elif path == "/upload" and req.code == m.PUT:
            if req.block1 is None:
                self.store(0, req.payload)
                resp.code = m.CHANGED
            elif self.rx.receive(req, event.addr, now, resp, self.store) == 0:
                resp.code = m.CHANGED
        else:
            resp.code = m.NOT_FOUND
        driver.endpoint.respond(req, event.addr, resp, now)


async def run_client(*args):
    proc = await asyncio.create_subprocess_exec(
        CLIENT_BIN, "-B", "20", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 40)
    return proc.returncode, out, err


@pytest.fixture
async def responder():
    if CLIENT_BIN is None:
        pytest.skip("coap-client-notls not installed (Debian package libcoap3-bin)")
    handler = Responder()
    driver = await open_driver(handler)
    port = driver.transport.get_extra_info("sockname")[1]
    try:
        yield handler, f"coap://127.0.0.1:{port}"
    finally:
        driver.transport.close()


async def test_libcoap_client_gets_from_our_endpoint(responder):
    handler, base = responder
    rc, out, err = await run_client("-m", "get", base + "/3/0/0")
    assert rc == 0, err
    assert out.strip() == b"Open Mobile Alliance"
    rc, out, err = await run_client("-N", "-m", "get", base + "/3/0/0")
    assert rc == 0 and out.strip() == b"Open Mobile Alliance"
    rc, out, err = await run_client("-m", "get", base + "/nothing")
    assert b"4.04" in out + err


async def test_libcoap_client_block2_get_from_our_endpoint(responder):
    handler, base = responder
    rc, out, err = await run_client("-m", "get", base + "/big")
    assert rc == 0, err
    assert out.strip() == BIG
    assert handler.requests >= 12  # 3000 bytes in 256-byte blocks


async def test_libcoap_client_block1_put_to_our_endpoint(responder, tmp_path):
    handler, base = responder
    src = tmp_path / "body.bin"
    src.write_bytes(BIG)
    rc, out, err = await run_client("-m", "put", "-b", "64", "-f", str(src), base + "/upload")
    assert rc == 0, err
    assert bytes(handler.uploaded) == BIG
    assert handler.requests == 47  # ceil(3000 / 64) blocks, each answered once
