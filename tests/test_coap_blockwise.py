"""RFC 7959 block-wise transfers, both directions, over the virtual (lossy) network."""

import random

import pytest
from harness import EndpointNode, Simulation, VirtualNetwork

from lwm2m_client.core.coap import blockwise as bw
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.coap.events import RequestReceived, RequestTimedOut, ResponseReceived
from lwm2m_client.core.coap.message import Message
from lwm2m_client.core.coap.messaging import Endpoint

CLIENT = ("10.0.0.1", 56830)
SERVER = ("10.0.0.2", 5683)
BODY = random.Random(7).randbytes(5000)


def put(path, code=m.PUT):
    msg = Message(m.CON, code)
    msg.uri_path = path
    return msg


class Collector:
    """A sink that checks blocks arrive in order and keeps them; offset 0 restarts."""

    def __init__(self):
        self.data = bytearray()
        self.calls = 0

    def __call__(self, offset, chunk):
        if offset == 0:
            self.data = bytearray()
        assert offset == len(self.data)
        self.data += bytes(chunk)
        self.calls += 1


# --- server side Block2 ---------------------------------------------------------------

def test_serve_block2_splits_with_etag_and_size2():
    req = put("/5/0/0", m.GET)
    first = Message(code=m.CONTENT)
    assert bw.serve_block2(req, first, BODY, 6)
    assert first.block2 == (0, True, 6) and first.size2 == 5000
    assert bytes(first.payload) == BODY[:1024] and first.etag == bw.etag_of(BODY)
    req.block2 = (4, False, 6)
    last = Message(code=m.CONTENT)
    assert bw.serve_block2(req, last, BODY, 6)
    assert last.block2 == (4, False, 6) and last.size2 is None
    assert bytes(last.payload) == BODY[4096:]
    req.block2 = (5, False, 6)
    assert not bw.serve_block2(req, Message(), BODY, 6)  # past the end: 4.02


def test_serve_block2_uses_the_smaller_size():
    req = put("/x", m.GET)
    req.block2 = (1, False, 2)  # the client asks for 64-byte blocks
    resp = Message(code=m.CONTENT)
    bw.serve_block2(req, resp, BODY, 6)
    assert resp.block2 == (1, True, 2) and bytes(resp.payload) == BODY[64:128]
    req.block2 = (2, False, 6)  # bigger than the server's 256: offset 2048 in 256s
    bw.serve_block2(req, resp, BODY, 4)
    assert resp.block2 == (8, True, 4) and bytes(resp.payload) == BODY[2048:2304]


def test_etag_changes_with_the_body():
    assert bw.etag_of(b"abc") == bw.etag_of(bytearray(b"abc")) != bw.etag_of(b"abd")
    assert len(bw.etag_of(b"")) == 4 and bw.etag_of(b"x" * 2000) != bw.etag_of(b"x" * 1999)


# --- server side Block1 ---------------------------------------------------------------

def block1_request(num, more, szx, payload, size1=None, path="/5/0/0"):
    req = put(path)
    req.block1 = (num, more, szx)
    if size1 is not None:
        req.size1 = size1
    req.payload = payload
    return req


def test_block1_receiver_continue_then_final():
    rx = bw.Block1Receiver(max_size=4096, szx=6)
    sink = Collector()
    resp = Message()
    assert rx.receive(block1_request(0, True, 4, BODY[:256], 600), CLIENT, 0, resp,
                      sink) == m.CONTINUE
    assert resp.code == m.CONTINUE and resp.block1 == (0, True, 4)
    resp = Message()
    assert rx.receive(block1_request(1, True, 4, BODY[256:512]), CLIENT, 1, resp,
                      sink) == m.CONTINUE
    resp = Message()
    assert rx.receive(block1_request(2, False, 4, BODY[512:600]), CLIENT, 2, resp, sink) == 0
    assert resp.block1 == (2, False, 4) and resp.code == m.EMPTY
    assert bytes(sink.data) == BODY[:600] and not rx.active


def test_block1_missing_and_out_of_order_blocks_get_4_08():
    rx = bw.Block1Receiver(max_size=4096)
    sink = Collector()
    resp = Message()
    assert rx.receive(block1_request(2, True, 4, BODY[:256]), CLIENT, 0, resp, sink) == \
        m.REQUEST_ENTITY_INCOMPLETE
    assert resp.code == m.REQUEST_ENTITY_INCOMPLETE
    rx.receive(block1_request(0, True, 4, BODY[:256]), CLIENT, 0, Message(), sink)
    resp = Message()
    assert rx.receive(block1_request(2, True, 4, BODY[512:768]), CLIENT, 1, resp, sink) == \
        m.REQUEST_ENTITY_INCOMPLETE
    # Another peer or another path cannot continue the transfer either.
    rx.receive(block1_request(0, True, 4, BODY[:256]), CLIENT, 2, Message(), sink)
    assert rx.receive(block1_request(1, True, 4, BODY[256:512]), SERVER, 3, Message(),
                      sink) == m.REQUEST_ENTITY_INCOMPLETE
    rx.receive(block1_request(0, True, 4, BODY[:256]), CLIENT, 4, Message(), sink)
    assert rx.receive(block1_request(1, True, 4, BODY[256:512], path="/5/0/1"), CLIENT, 5,
                      Message(), sink) == m.REQUEST_ENTITY_INCOMPLETE


def test_block1_replayed_block_is_answered_without_redelivery():
    rx = bw.Block1Receiver(max_size=4096)
    sink = Collector()
    rx.receive(block1_request(0, True, 4, BODY[:256]), CLIENT, 0, Message(), sink)
    rx.receive(block1_request(1, True, 4, BODY[256:512]), CLIENT, 1, Message(), sink)
    resp = Message()
    assert rx.receive(block1_request(1, True, 4, BODY[256:512]), CLIENT, 2, resp,
                      sink) == m.CONTINUE
    assert sink.calls == 2 and resp.block1 == (1, True, 4)


def test_block1_too_large_gets_4_13_with_size1():
    rx = bw.Block1Receiver(max_size=1000)
    resp = Message()
    assert rx.receive(block1_request(0, True, 4, BODY[:256], size1=5000), CLIENT, 0, resp,
                      Collector()) == m.REQUEST_ENTITY_TOO_LARGE
    assert resp.code == m.REQUEST_ENTITY_TOO_LARGE and resp.size1 == 1000
    # Without Size1 it is noticed when the data passes the maximum.
    sink = Collector()
    for num in range(3):
        rx.receive(block1_request(num, True, 4, BODY[num * 256:(num + 1) * 256]), CLIENT,
                   num, Message(), sink)
    resp = Message()
    assert rx.receive(block1_request(3, True, 4, BODY[768:1024]), CLIENT, 3, resp, sink) == \
        m.REQUEST_ENTITY_TOO_LARGE
    assert resp.size1 == 1000 and len(sink.data) == 768 and not rx.active


def test_block1_short_non_final_block_and_expiry():
    rx = bw.Block1Receiver(max_size=4096, lifetime_ms=1000)
    sink = Collector()
    assert rx.receive(block1_request(0, True, 4, BODY[:100]), CLIENT, 0, Message(), sink) \
        == m.BAD_REQUEST
    rx.receive(block1_request(0, True, 4, BODY[:256]), CLIENT, 0, Message(), sink)
    assert rx.receive(block1_request(1, True, 4, BODY[256:512]), CLIENT, 1000, Message(),
                      sink) == m.REQUEST_ENTITY_INCOMPLETE  # the transfer expired


def test_block1_sink_error_abandons_the_transfer():
    rx = bw.Block1Receiver(max_size=4096)

    def failing(offset, chunk):
        raise OSError("flash full")

    with pytest.raises(OSError):
        rx.receive(block1_request(0, True, 4, BODY[:256]), CLIENT, 0, Message(), failing)
    assert not rx.active


# --- client side sender / receiver, end to end ------------------------------------------

class Block1Server:
    """A test server taking Block1 PUTs into a Block1Receiver."""

    def __init__(self, max_size=8192, szx=4):
        self.rx = bw.Block1Receiver(max_size, szx)
        self.sink = Collector()
        self.completed = 0

    def __call__(self, node, event, now_ms):
        if not isinstance(event, RequestReceived):
            return
        resp = Message()
        if self.rx.receive(event.msg, event.addr, now_ms, resp, self.sink) == 0:
            resp.code = m.CHANGED
            self.completed += 1
        node.endpoint.respond(event.msg, event.addr, resp, now_ms)


def run_block1_upload(body, seed, loss=0.0, client_szx=6, server=None):
    net = VirtualNetwork(seed, loss=loss, duplicate=0.05 if loss else 0.0, delay_ms=(1, 300))
    sim = Simulation(net)
    server = server or Block1Server()
    sim.add(SERVER, EndpointNode(Endpoint(random.Random(seed + 1)), server))
    tx = bw.Block1Sender(body, client_szx)
    outcome = []

    def on_client_event(node, event, now_ms):
        if isinstance(event, ResponseReceived):
            result = tx.on_response(event.msg)
            if result == bw.CONTINUE:
                node.endpoint.request(tx.fill(put("/5/0/0")), SERVER, now_ms)
            else:
                outcome.append((result, event.msg.code))
        elif isinstance(event, RequestTimedOut):
            outcome.append((bw.FAILED, None))

    client = sim.add(CLIENT, EndpointNode(Endpoint(random.Random(seed)), on_client_event))
    client.endpoint.request(tx.fill(put("/5/0/0")), SERVER, 0)
    sim.run(lambda: outcome)
    return outcome[0], server, tx


def test_block1_upload_follows_the_servers_smaller_size():
    (result, code), server, tx = run_block1_upload(BODY, 1)
    assert (result, code) == (bw.DONE, m.CHANGED)
    assert bytes(server.sink.data) == BODY and server.completed == 1
    assert tx.szx == 4
    # First block 1024 bytes, then 256-byte blocks: 1 + ceil(3976 / 256) = 17 calls.
    assert server.sink.calls == 17


def test_block1_upload_over_a_lossy_network():
    completed = 0
    for seed in range(10):
        (result, _), server, _ = run_block1_upload(BODY[:3000], seed, loss=0.15)
        if result == bw.DONE:
            completed += 1
            assert bytes(server.sink.data) == BODY[:3000]
    assert completed >= 8


def test_block1_upload_refused_with_4_13():
    (result, code), server, _ = run_block1_upload(BODY, 2, server=Block1Server(max_size=2000))
    assert (result, code) == (bw.FAILED, m.REQUEST_ENTITY_TOO_LARGE)
    assert server.sink.calls == 0


def test_block1_sender_restarts_smaller_after_4_13_with_block1():
    tx = bw.Block1Sender(BODY[:100], 6)
    tx.fill(put("/x"))
    resp = Message(code=m.REQUEST_ENTITY_TOO_LARGE)
    resp.block1 = (0, False, 2)
    assert tx.on_response(resp) == bw.CONTINUE
    req = tx.fill(put("/x"))
    assert req.block1 == (0, True, 2) and bytes(req.payload) == BODY[:64]
    assert tx.on_response(Message(code=m.NOT_FOUND)) == bw.FAILED


def block2_server(body):
    def handler(node, event, now_ms):
        if isinstance(event, RequestReceived):
            resp = Message(code=m.CONTENT)
            if not bw.serve_block2(event.msg, resp, body, 5):
                resp = Message(code=m.BAD_OPTION)
            node.endpoint.respond(event.msg, event.addr, resp, now_ms)
    return handler


@pytest.mark.parametrize("seed,loss", [(1, 0.0), (2, 0.2), (3, 0.2)])
def test_block2_download(seed, loss):
    net = VirtualNetwork(seed, loss=loss, delay_ms=(1, 200))
    sim = Simulation(net)
    sim.add(SERVER, EndpointNode(Endpoint(random.Random(seed + 1)), block2_server(BODY)))
    rx = bw.Block2Receiver(szx=6)
    sink = Collector()
    outcome = []

    def on_client_event(node, event, now_ms):
        if isinstance(event, ResponseReceived):
            result = rx.on_response(event.msg, sink)
            if result == bw.CONTINUE:
                node.endpoint.request(rx.fill(put("/5/0/0", m.GET)), SERVER, now_ms)
            else:
                outcome.append(result)
        elif isinstance(event, RequestTimedOut):
            outcome.append(bw.FAILED)

    client = sim.add(CLIENT, EndpointNode(Endpoint(random.Random(seed)), on_client_event))
    client.endpoint.request(rx.fill(put("/5/0/0", m.GET)), SERVER, 0)
    sim.run(lambda: outcome)
    assert outcome == [bw.DONE]
    assert bytes(sink.data) == BODY and sink.calls == 10  # server caps blocks at 512


def test_block2_receiver_detects_a_changed_representation():
    rx = bw.Block2Receiver(szx=4)
    sink = Collector()
    req = put("/x", m.GET)
    r0 = Message(code=m.CONTENT)
    bw.serve_block2(rx.fill(req), r0, BODY, 4)
    assert rx.on_response(r0, sink) == bw.CONTINUE
    changed = bytes([BODY[0] ^ 1]) + BODY[1:]
    r1 = Message(code=m.CONTENT)
    bw.serve_block2(rx.fill(put("/x", m.GET)), r1, changed, 4)
    assert rx.on_response(r1, sink) == bw.FAILED


def test_block2_receiver_whole_body_and_limits():
    rx = bw.Block2Receiver(max_size=100)
    sink = Collector()
    assert rx.on_response(Message(code=m.CONTENT, payload=b"small"), sink) == bw.DONE
    assert bytes(sink.data) == b"small"
    rx = bw.Block2Receiver(max_size=100)
    big = Message(code=m.CONTENT)
    bw.serve_block2(put("/x", m.GET), big, BODY, 4)
    assert rx.on_response(big, Collector()) == bw.FAILED  # Size2 5000 > 100
    assert rx.on_response(Message(code=m.NOT_FOUND), Collector()) == bw.FAILED
