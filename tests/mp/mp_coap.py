"""CoAP layer checks that run under MicroPython and CPython alike (plain asserts)."""

from lwm2m_client.core.coap import blockwise as bw
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.coap import options as o
from lwm2m_client.core.coap.events import RequestReceived, RequestTimedOut, ResponseReceived
from lwm2m_client.core.coap.message import Message, decode, encode_into, to_bytes
from lwm2m_client.core.coap.messaging import Endpoint, Tuning
from lwm2m_client.core.errors import BufferFull, DecodeError, UsageError

A = ("10.0.0.1", 5683)
B = ("10.0.0.2", 5683)


class Lcg:
    """A tiny deterministic rng with getrandbits (MicroPython's random may be absent)."""

    def __init__(self, seed):
        self.state = seed

    def getrandbits(self, n):
        self.state = (self.state * 1103515245 + 12345) & 0x7FFFFFFF
        value = self.state ^ (self.state << 7)
        return value & ((1 << n) - 1)


def unhex(text):
    return bytes([int(text[i:i + 2], 16) for i in range(0, len(text), 2)])


def test_appendix_a_get_and_response():
    req = Message(m.CON, m.GET, 0x7D34)
    req.uri_path = "/temperature"
    wire = unhex("40017d34bb") + b"temperature"
    assert to_bytes(req) == wire
    assert decode(wire) == req
    resp = decode(unhex("60457d34ff") + b"22.3 C")
    assert resp.mtype == m.ACK and resp.code == m.CONTENT and bytes(resp.payload) == b"22.3 C"


def test_extended_option_forms():
    msg = Message(m.CON, m.POST, 1)
    msg.add_option(o.SIZE1, 300)
    msg.add_option(o.NO_RESPONSE, 2)
    msg.add_option(2000, b"x" * 20)
    wire = to_bytes(msg)
    assert wire == unhex("40020001d22f012cd1b902ed05c107") + b"x" * 20
    assert decode(wire) == msg


def test_block_vectors():
    cases = ((0, True, 6, "0e"), (2, True, 6, "2e"), (16, True, 6, "010e"),
             (0, True, 2, "0a"), (4096, False, 6, "010006"), (0, False, 0, ""))
    for num, more, szx, enc in cases:
        assert o.encode_block(num, more, szx) == unhex(enc)
        assert o.decode_block(unhex(enc)) == (num, more, szx)


def test_decode_errors():
    for text in ("", "400100", "00010000", "4f010000", "40010000b1", "40010000f0",
                 "40010000ff", "41000000aa", "40010000e0ff0000"):
        try:
            decode(unhex(text))
        except DecodeError:
            continue
        raise AssertionError(text)


def test_buffer_full_and_repr():
    msg = Message(m.CON, m.GET, 0x1234, unhex("abcd"))
    msg.uri_path = "/3/0"
    msg.accept = 11542
    assert repr(msg) == "<CON GET mid=0x1234 token=abcd /3/0 Accept:11542>"
    n = encode_into(msg, bytearray(64))
    try:
        encode_into(msg, bytearray(n - 1))
    except BufferFull:
        pass
    else:
        raise AssertionError("no BufferFull")


def test_exchange_and_dedup():
    client = Endpoint(Lcg(1))
    server = Endpoint(Lcg(2))
    token = client.request(Message(m.CON, m.GET, options=[(11, b"3")]), B, 0)
    (data, addr), = client.datagrams_to_send()
    assert addr == B
    (ev,) = server.receive(data, A, 5)
    assert isinstance(ev, RequestReceived)
    server.respond(ev.msg, A, Message(code=m.CONTENT, payload=b"v"), 5)
    (reply, _), = server.datagrams_to_send()
    assert server.receive(data, A, 6) == []
    assert server.datagrams_to_send() == [(reply, A)]
    (got,) = client.receive(reply, B, 10)
    assert isinstance(got, ResponseReceived) and got.token == token
    assert client.get_timer() is None


def test_retransmission_doubles():
    ep = Endpoint(Lcg(3), Tuning(ack_timeout=100, ack_random_factor=1.0, max_retransmit=2))
    ep.request(Message(m.CON, m.GET), B, 0)
    times = [0]
    ep.datagrams_to_send()
    events = []
    while ep.get_timer() is not None:
        now = ep.get_timer()
        events += ep.handle_timer(now)
        if ep.datagrams_to_send():
            times.append(now)
    assert times == [0, 100, 300]
    assert len(events) == 1 and isinstance(events[0], RequestTimedOut)


def test_ping_rst():
    ep = Endpoint(Lcg(4))
    assert ep.receive(unhex("40001234"), A, 0) == []
    assert ep.datagrams_to_send() == [(unhex("70001234"), A)]


def test_malformed_con_gets_rst():
    # RFC 7252 §4.2: a CON with a message format error is rejected with an Empty RST
    # echoing its MID; a malformed NON is silently ignored (§4.3); under 4 bytes there
    # is no MID to echo.
    ep = Endpoint(Lcg(5))
    for text in ("40011234f0", "40011234ff", "41001234aa", "49011234"):
        assert ep.receive(unhex(text), A, 0) == []
        assert ep.datagrams_to_send() == [(unhex("70001234"), A)], text
    for text in ("50011234f0", "60451234f0", "70001234aa", "400112", "80011234f0"):
        assert ep.receive(unhex(text), A, 0) == []
        assert ep.datagrams_to_send() == [], text


def test_tuning_derived_values():
    t = Tuning()
    assert (t.max_transmit_span, t.max_transmit_wait, t.max_rtt) == (45000, 93000, 202000)
    assert (t.exchange_lifetime, t.non_lifetime) == (247000, 145000)
    t = Tuning(ack_timeout=100, ack_random_factor=1.1, max_retransmit=3)
    assert (t.max_transmit_span, t.max_transmit_wait, t.exchange_lifetime) == (770, 1650, 200870)
    for kwargs in ({"ack_timeout": 0}, {"ack_random_factor": 0.5}, {"nstart": 0},
                   {"max_retransmit": -1}, {"token_length": 9}, {"max_message_size": 63}):
        try:
            Tuning(**kwargs)
        except UsageError as e:
            assert list(kwargs)[0] in str(e)
            continue
        raise AssertionError(kwargs)


def test_blockwise_round_trip():
    body = bytes([i & 0xFF for i in range(700)])
    tx = bw.Block1Sender(body, 6)
    rx = bw.Block1Receiver(4096, szx=4)
    got = bytearray()

    def sink(offset, chunk):
        got.extend(bytes(chunk))

    while True:
        req = tx.fill(Message(m.CON, m.PUT, options=[(11, b"5")]))
        resp = Message()
        if rx.receive(req, A, 0, resp, sink) == 0:
            resp.code = m.CHANGED
        if tx.on_response(resp) != bw.CONTINUE:
            break
    assert bytes(got) == body
    out = Message(code=m.CONTENT)
    assert bw.serve_block2(Message(m.CON, m.GET), out, body, 4)
    assert out.block2 == (0, True, 4) and out.size2 == 700
    assert bw.etag_of(b"ab") == bw.etag_of(bytearray(b"ab")) != bw.etag_of(b"ba")
