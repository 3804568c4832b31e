"""RFC 7252 §4 messaging: retransmission, matching, dedup, rejection, over the virtual network."""

import random

import pytest
from harness import EndpointNode, Simulation, VirtualNetwork
from hypothesis import given, settings
from hypothesis import strategies as st

from lwm2m_client.core.coap import message as m
from lwm2m_client.core.coap.events import (
    Acknowledged,
    RequestReceived,
    RequestTimedOut,
    Reset,
    ResponseReceived,
)
from lwm2m_client.core.coap.message import Message, decode, to_bytes
from lwm2m_client.core.coap.messaging import DedupCache, Endpoint, EndpointBusy, Tuning
from lwm2m_client.core.errors import DecodeError

CLIENT = ("10.0.0.1", 56830)
SERVER = ("10.0.0.2", 5683)


class RecordingRandom(random.Random):
    """A seeded Random that remembers every getrandbits draw."""

    def __init__(self, seed):
        super().__init__(seed)
        self.draws = []

    def getrandbits(self, k):
        value = super().getrandbits(k)
        self.draws.append((k, value))
        return value


def answer_content(node, event, now_ms):
    """A server that answers every request with 2.05 echoing the path."""
    if isinstance(event, RequestReceived):
        resp = Message(code=m.CONTENT, payload=event.msg.uri_path.encode())
        node.endpoint.respond(event.msg, event.addr, resp, now_ms)


def get(path, mtype=m.CON):
    msg = Message(mtype, m.GET)
    msg.uri_path = path
    return msg


def pair(seed=1, network=None, tuning=None, handler=answer_content):
    sim = Simulation(network or VirtualNetwork(seed))
    client = sim.add(CLIENT, EndpointNode(Endpoint(random.Random(seed), tuning)))
    server = sim.add(SERVER, EndpointNode(Endpoint(random.Random(seed + 1000), tuning),
                                          handler))
    return sim, client, server


# --- retransmission timing (RFC 7252 §4.2) --------------------------------------------

@pytest.mark.parametrize("seed", [0, 7, 2024])
def test_retransmission_schedule_matches_rfc(seed):
    rng = RecordingRandom(seed)
    sim = Simulation(VirtualNetwork(seed), start_ms=1000)
    client = sim.add(CLIENT, EndpointNode(Endpoint(rng)))  # nobody listens at SERVER
    token = client.endpoint.request(get("/3/0"), SERVER, sim.now_ms)
    assert sim.run(lambda: client.of_type(RequestTimedOut))
    # The initial timeout is the one 16-bit draw: ACK_TIMEOUT + span * r / 2**16.
    (r,) = [v for k, v in rng.draws if k == 16][1:]  # the first 16-bit draw is the MID
    t = 2000 + (1000 * r >> 16)
    assert 2000 <= t < 3000
    sends = [s.time_ms for s in sim.network.sent_by(CLIENT)]
    assert sends == [1000, 1000 + t, 1000 + 3 * t, 1000 + 7 * t, 1000 + 15 * t]
    assert len({s.data for s in sim.network.sent_by(CLIENT)}) == 1  # same MID each time
    assert client.events == [(1000 + 31 * t, RequestTimedOut(token, SERVER))]
    assert client.endpoint.get_timer() is None


def test_initial_timeout_spans_the_random_interval():
    tuning = Tuning()
    rng = random.Random(5)
    values = [tuning.initial_timeout(rng) for _ in range(2000)]
    assert min(values) >= 2000 and max(values) < 3000
    assert min(values) < 2050 and max(values) > 2950  # uniform, not a constant


def test_shrunk_tuning_for_tests():
    tuning = Tuning(ack_timeout=100, ack_random_factor=1.0, max_retransmit=2)
    sim = Simulation(VirtualNetwork(1))
    client = sim.add(CLIENT, EndpointNode(Endpoint(random.Random(1), tuning)))
    client.endpoint.request(get("/"), SERVER, 0)
    sim.run(lambda: client.of_type(RequestTimedOut))
    assert [s.time_ms for s in sim.network.trace] == [0, 100, 300]
    assert client.events[0][0] == 700


# --- request / response matching ------------------------------------------------------

def test_piggybacked_response():
    sim, client, server = pair()
    token = client.endpoint.request(get("/3/0/1"), SERVER, 0)
    assert sim.run(lambda: client.of_type(ResponseReceived))
    (ev,) = client.of_type(ResponseReceived)
    assert ev.token == token and ev.addr == SERVER and ev.msg.mtype == m.ACK
    assert bytes(ev.msg.payload) == b"/3/0/1" and ev.msg.code == m.CONTENT
    assert len(server.requests()) == 1
    assert client.endpoint.get_timer() is None  # nothing left to retransmit
    assert len(sim.network.sent_by(CLIENT)) == 1


def test_tokens_and_mids_come_from_the_rng():
    a = Endpoint(random.Random(3))
    b = Endpoint(random.Random(3))
    c = Endpoint(random.Random(4))
    ta = a.request(get("/"), SERVER, 0)
    assert ta == b.request(get("/"), SERVER, 0) != c.request(get("/"), SERVER, 0)
    assert len(ta) == 4
    mids = [decode(d).mid for d, _ in a.datagrams_to_send()]
    a.request(get("/", m.NON), SERVER, 0)
    mids += [decode(d).mid for d, _ in a.datagrams_to_send()]
    assert mids[1] == (mids[0] + 1) & 0xFFFF


def test_separate_response_con_and_duplicate():
    ep = Endpoint(random.Random(1))
    token = ep.request(get("/x"), SERVER, 0)
    (data, _), = ep.datagrams_to_send()
    mid = decode(data).mid
    # Empty ACK: retransmission stops, the request waits for its response (§5.2.2).
    assert ep.receive(to_bytes(Message(m.ACK, m.EMPTY, mid)), SERVER, 100) == []
    assert ep.get_timer() == 100 + 247000
    assert ep.handle_timer(50000) == [] and ep.datagrams_to_send() == []
    sep = to_bytes(Message(m.CON, m.CONTENT, 0x4242, token, payload=b"late"))
    (ev,) = ep.receive(sep, SERVER, 60000)
    assert isinstance(ev, ResponseReceived) and ev.token == token
    assert bytes(ev.msg.payload) == b"late"
    assert ep.datagrams_to_send() == [(bytes.fromhex("60004242"), SERVER)]
    # Its duplicate is ACKed again and not delivered twice.
    assert ep.receive(sep, SERVER, 61000) == []
    assert ep.datagrams_to_send() == [(bytes.fromhex("60004242"), SERVER)]
    assert ep.get_timer() is None


def test_separate_response_non_and_con_response_before_ack():
    ep = Endpoint(random.Random(2))
    t1 = ep.request(get("/a"), SERVER, 0)
    ep.datagrams_to_send()
    # The CON response arrives and the ACK was lost: it also ends retransmission.
    (ev,) = ep.receive(to_bytes(Message(m.NON, m.CONTENT, 9, t1)), SERVER, 10)
    assert ev.token == t1 and ep.get_timer() is None
    assert ep.datagrams_to_send() == []  # NON is not acknowledged
    assert ep.receive(to_bytes(Message(m.NON, m.CONTENT, 9, t1)), SERVER, 11) == []


def test_response_timeout_after_empty_ack():
    # EXCHANGE_LIFETIME = 1000 * (2**1 - 1) * 1.0 + 2 * 1500 + 1000 = 5000 (RFC 7252 §4.8.2).
    tuning = Tuning(ack_timeout=1000, ack_random_factor=1.0, max_retransmit=1, max_latency=1500)
    assert tuning.exchange_lifetime == 5000
    ep = Endpoint(random.Random(1), tuning)
    token = ep.request(get("/x"), SERVER, 0)
    mid = decode(ep.datagrams_to_send()[0][0]).mid
    ep.receive(to_bytes(Message(m.ACK, m.EMPTY, mid)), SERVER, 10)
    assert ep.handle_timer(5010) == [RequestTimedOut(token, SERVER)]


def test_non_request_with_non_response():
    sim, client, server = pair()
    token = client.endpoint.request(get("/n", m.NON), SERVER, 0)
    assert sim.run(lambda: client.of_type(ResponseReceived))
    (ev,) = client.of_type(ResponseReceived)
    assert ev.token == token and ev.msg.mtype == m.NON
    assert server.requests()[0].msg.mtype == m.NON


def test_reset_of_a_request_and_of_a_non_notification():
    ep = Endpoint(random.Random(1))
    token = ep.request(get("/x"), SERVER, 0)
    mid = decode(ep.datagrams_to_send()[0][0]).mid
    assert ep.receive(bytes.fromhex(f"7000{mid:04x}"), SERVER, 5) == [Reset(token, SERVER)]
    assert ep.get_timer() is None
    note = Message(m.NON, m.CONTENT, token=b"obs1", payload=b"1")
    note.observe = 5
    nmid = ep.send(note, SERVER, 10)
    assert ep.receive(bytes.fromhex(f"7000{nmid:04x}"), SERVER, 20) == [Reset(b"obs1", SERVER)]
    assert ep.receive(bytes.fromhex(f"7000{nmid:04x}"), SERVER, 21) == []  # only once


def test_con_notification_is_acknowledged():
    sim, client, server = pair()
    note = Message(m.CON, m.CONTENT, token=b"obs2", payload=b"42")
    note.observe = 7
    client.endpoint.send(note, SERVER, 0)
    # SERVER's endpoint has no request with that token: it rejects it with RST (§4.2).
    sim.run()
    assert client.of_type(Reset) == [Reset(b"obs2", SERVER)]
    ep = Endpoint(random.Random(9))
    mid = ep.send(Message(m.CON, m.CONTENT, token=b"obs3"), SERVER, 0)
    assert ep.receive(bytes.fromhex(f"6000{mid:04x}"), SERVER, 1) == [
        Acknowledged(b"obs3", SERVER)]


# --- the receiving side ---------------------------------------------------------------

def test_duplicate_con_is_delivered_once_and_answered_from_cache():
    ep = Endpoint(random.Random(1))
    req = to_bytes(Message(m.CON, m.GET, 0x1111, b"t", [(11, b"3")]))
    (ev,) = ep.receive(req, CLIENT, 0)
    ep.respond(ev.msg, CLIENT, Message(code=m.CONTENT, payload=b"v"), 0)
    (first,) = ep.datagrams_to_send()
    assert decode(first[0]) == Message(m.ACK, m.CONTENT, 0x1111, b"t", payload=b"v")
    assert ep.receive(req, CLIENT, 1000) == []
    assert ep.datagrams_to_send() == [first]
    # The same MID from another peer is a different message.
    assert len(ep.receive(req, SERVER, 1000)) == 1
    # After EXCHANGE_LIFETIME the MID may be reused and means a new request.
    assert len(ep.receive(req, CLIENT, 247001)) == 1


def test_duplicate_before_the_response_is_ignored():
    ep = Endpoint(random.Random(1))
    req = to_bytes(Message(m.CON, m.GET, 0x2222, b"t"))
    assert len(ep.receive(req, CLIENT, 0)) == 1
    assert ep.receive(req, CLIENT, 10) == [] and ep.datagrams_to_send() == []


def test_non_dedup_within_non_lifetime():
    # NON_LIFETIME = 100 * (2**2 - 1) * 1.0 + 700 = 1000 (RFC 7252 §4.8.2).
    tuning = Tuning(ack_timeout=100, ack_random_factor=1.0, max_retransmit=2, max_latency=700)
    assert tuning.non_lifetime == 1000
    ep = Endpoint(random.Random(1), tuning)
    req = to_bytes(Message(m.NON, m.GET, 0x3333, b"t"))
    assert len(ep.receive(req, CLIENT, 0)) == 1
    assert ep.receive(req, CLIENT, 999) == []
    assert len(ep.receive(req, CLIENT, 1000)) == 1


def test_duplicates_over_a_duplicating_network():
    net = VirtualNetwork(11, duplicate=1.0, delay_ms=(1, 400))
    sim, client, server = pair(network=net)
    tokens = [client.endpoint.request(get(f"/d/{i}"), SERVER, 0) for i in range(3)]
    assert sim.run(lambda: len(client.of_type(ResponseReceived)) == 3)
    sim.run()
    assert [e.token for e in client.of_type(ResponseReceived)] == tokens
    assert [e.msg.uri_path for e in server.requests()] == ["/d/0", "/d/1", "/d/2"]


def test_ping_gets_rst():
    ep = Endpoint(random.Random(1))
    assert ep.receive(bytes.fromhex("40001234"), CLIENT, 0) == []
    assert ep.datagrams_to_send() == [(bytes.fromhex("70001234"), CLIENT)]


def test_unexpected_ack_rst_and_non_empty_are_ignored():
    ep = Endpoint(random.Random(1))
    for hexdata in ("60001234", "70001234", "50001234", "60451234"):
        assert ep.receive(bytes.fromhex(hexdata), CLIENT, 0) == []
    assert ep.datagrams_to_send() == []


def test_unmatched_con_response_gets_rst_non_is_dropped():
    ep = Endpoint(random.Random(1))
    assert ep.receive(bytes.fromhex("41455555aa"), CLIENT, 0) == []
    assert ep.receive(bytes.fromhex("51455556aa"), CLIENT, 0) == []
    assert ep.datagrams_to_send() == [(bytes.fromhex("70005555"), CLIENT)]


def test_reserved_code_class_in_con_gets_rst():
    ep = Endpoint(random.Random(1))
    assert ep.receive(bytes.fromhex("40210001"), CLIENT, 0) == []  # class 1
    assert ep.receive(bytes.fromhex("40e10002"), CLIENT, 0) == []  # class 7
    assert ep.datagrams_to_send() == [(bytes.fromhex("70000001"), CLIENT),
                                      (bytes.fromhex("70000002"), CLIENT)]


def test_bad_critical_option_gets_4_02():
    ep = Endpoint(random.Random(1))
    req = Message(m.CON, m.GET, 0x10, b"k")
    req.uri_path = "/3"
    req.add_option(2049, b"x")
    assert ep.receive(to_bytes(req), CLIENT, 0) == []
    (out,) = ep.datagrams_to_send()
    assert decode(out[0]) == Message(m.ACK, m.BAD_OPTION, 0x10, b"k")
    req.mtype = m.NON
    req.mid = 0x11
    assert ep.receive(to_bytes(req), CLIENT, 0) == [] and ep.datagrams_to_send() == []
    req.options = [(2050, b"x")]  # elective: ignored, request delivered
    req.mid = 0x12
    assert len(ep.receive(to_bytes(req), CLIENT, 0)) == 1


# --- malformed messages (RFC 7252 §3, §4.1, §4.2, §4.3) -----------------------------

MALFORMED_CON = [
    "40011234f0",      # option delta nibble 15 without being the payload marker (§3.1)
    "400112340f",      # option length nibble 15 (§3.1)
    "40011234ff",      # payload marker with a zero-length payload (§3)
    "40011234d1",      # extended option delta missing (§3.1)
    "40011234b5616263",  # option value runs past the end
    "40011234e0ffff",  # option number 65535 + 269: above the 16-bit range
    "42011234aa",      # token runs past the end
    "49011234",        # token length 9-15 is reserved: a format error (§3)
    "4f0112340102030405060708090a0b0c0d0e0f",
    "41001234aa",      # Empty message with a token (§4.1)
    "40001234ff01",    # Empty message with bytes after the message ID (§4.1)
]


@pytest.mark.parametrize("hexdata", MALFORMED_CON)
def test_malformed_con_is_rejected_with_rst(hexdata):
    # §4.2: a CON that has a message format error is rejected with a matching Reset.
    ep = Endpoint(random.Random(1))
    assert ep.receive(bytes.fromhex(hexdata), CLIENT, 0) == []
    assert ep.datagrams_to_send() == [(bytes.fromhex("70001234"), CLIENT)]


def test_con_with_malformed_option_answers_a_4_byte_rst_with_its_mid():
    ep = Endpoint(random.Random(1))
    req = to_bytes(Message(m.CON, m.GET, 0xBEEF, b"tok", [(11, b"3")])) + b"\xf0"
    assert ep.receive(req, SERVER, 0) == []
    ((data, addr),) = ep.datagrams_to_send()
    assert addr == SERVER and len(data) == 4
    assert decode(data) == Message(m.RST, m.EMPTY, 0xBEEF)  # Empty: no token, 0.00


@pytest.mark.parametrize("hexdata", [
    "50011234f0", "50011234ff", "51001234aa", "59011234",  # NON: silently ignored (§4.3)
    "60451234f0", "61001234aa", "69451234",                # ACK: silently ignored (§4.2)
    "70001234ff01", "71001234aa", "79001234",              # RST: silently ignored (§4.2)
])
def test_malformed_non_ack_rst_get_nothing(hexdata):
    ep = Endpoint(random.Random(1))
    assert ep.receive(bytes.fromhex(hexdata), CLIENT, 0) == []
    assert ep.datagrams_to_send() == []


@pytest.mark.parametrize("hexdata", [
    "", "40", "4001", "400112",           # shorter than the header: no MID to echo
    "80011234f0", "00011234", "c0001234",  # version not 1: silently ignored (§3)
])
def test_unreadable_header_gets_nothing(hexdata):
    ep = Endpoint(random.Random(1))
    assert ep.receive(bytes.fromhex(hexdata), CLIENT, 0) == []
    assert ep.datagrams_to_send() == []


def test_malformed_con_is_not_remembered_as_seen():
    # Each copy is rejected again (§4.5: duplicates get the same Reset), and a
    # well-formed CON reusing the MID is a new message, not a duplicate.
    ep = Endpoint(random.Random(1))
    bad = bytes.fromhex("40011234f0")
    ep.receive(bad, CLIENT, 0)
    ep.receive(bad, CLIENT, 1)
    assert ep.datagrams_to_send() == [(bytes.fromhex("70001234"), CLIENT)] * 2
    (ev,) = ep.receive(to_bytes(Message(m.CON, m.GET, 0x1234, b"t")), CLIENT, 2)
    assert isinstance(ev, RequestReceived)


def test_rst_flood_is_bounded_by_the_send_queue():
    ep = Endpoint(random.Random(1), send_capacity=3)
    sent = 0
    for mid in range(10):
        data = bytes.fromhex(f"4001{mid:04x}f0")
        sent += len(data)
        ep.receive(data, CLIENT, 0)
    out = ep.datagrams_to_send()
    assert [d for d, _ in out] == [bytes.fromhex(f"7000{mid:04x}") for mid in range(3)]
    assert ep.dropped == 7
    assert sum(len(d) for d, _ in out) < sent  # never more bytes out than in


def _header_then_garbage(spec):
    mtype, tkl, code, mid, rest = spec
    return bytes((0x40 | mtype << 4 | tkl, code, mid >> 8, mid & 0xFF)) + rest


GARBAGE = st.one_of(
    st.binary(max_size=24),
    st.tuples(st.integers(0, 3), st.integers(0, 15), st.integers(0, 255),
              st.integers(0, 0xFFFF), st.binary(max_size=24)).map(_header_then_garbage),
)


@settings(max_examples=500)
@given(GARBAGE)
def test_any_garbage_gets_at_most_one_rst_or_nothing(data):
    ep = Endpoint(random.Random(1))
    ep.receive(data, CLIENT, 0)  # never raises
    out = ep.datagrams_to_send()
    assert len(out) <= 1 and all(addr == CLIENT for _, addr in out)
    con = len(data) >= 4 and data[0] >> 4 == 0x4  # version 1, type CON
    try:
        msg = decode(data)
    except DecodeError:
        # Undecodable: exactly the 4-byte RST echoing the MID for a CON, else nothing.
        assert out == ([(bytes((0x70, 0, data[2], data[3])), CLIENT)] if con else [])
        return
    if not con:
        assert out == []  # NON, ACK and RST are never answered by an idle endpoint
    elif out:
        reply = decode(out[0][0])
        assert reply.mid == msg.mid
        if len(out[0][0]) == 4 and reply.mtype == m.RST:
            assert reply == Message(m.RST, m.EMPTY, msg.mid)
        else:
            # The only other answer: 4.02 to a CON request with an unknown critical
            # option, piggybacked on the ACK (RFC 7252 §5.4.1).
            assert reply == Message(m.ACK, m.BAD_OPTION, msg.mid, msg.token)


def test_garbage_never_raises():
    ep = Endpoint(random.Random(1))
    rng = random.Random(99)
    for _ in range(2000):
        data = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 20)))
        ep.receive(data, CLIENT, 0)
    for data, _ in ep.datagrams_to_send():
        decode(data)  # whatever it answered is well-formed


@settings(max_examples=300)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 255), st.integers(0, 3),
                          st.binary(max_size=3), st.binary(max_size=8)), max_size=12))
def test_any_message_sequence_is_handled(specs):
    # Well-formed datagrams of every type and code, some matching a pending exchange
    # (MID/token of our request), some not: the endpoint never raises and only sends
    # well-formed CoAP.
    ep = Endpoint(random.Random(1))
    token = ep.request(get("/x"), SERVER, 0)
    mid = decode(ep.datagrams_to_send()[0][0]).mid
    for now, (mtype, code, which, tok, payload) in enumerate(specs):
        msg = Message(mtype, code, mid if which == 0 else which)
        if code:
            msg.token = token if which < 2 else tok
            msg.payload = payload
        for event in ep.receive(to_bytes(msg), SERVER, now):
            assert event.token == token if hasattr(event, "token") else event.msg == msg
        ep.handle_timer(now)
    for data, _ in ep.datagrams_to_send():
        decode(data)


# --- NSTART, capacities -----------------------------------------------------------------

def test_nstart_one_serialises_cons_per_peer():
    ep = Endpoint(random.Random(1))
    t1 = ep.request(get("/1"), SERVER, 0)
    t2 = ep.request(get("/2"), SERVER, 0)
    ep.request(get("/3"), CLIENT, 0)  # another peer is not held back
    sent = ep.datagrams_to_send()
    assert [(decode(d).uri_path, a) for d, a in sent] == [("/1", SERVER), ("/3", CLIENT)]
    mid1 = decode(sent[0][0]).mid
    ep.receive(to_bytes(Message(m.ACK, m.CONTENT, mid1, t1)), SERVER, 10)
    (d, a), = ep.datagrams_to_send()
    assert decode(d).uri_path == "/2" and decode(d).token == t2


def test_exchange_table_capacity():
    ep = Endpoint(random.Random(1), max_exchanges=2)
    ep.request(get("/1"), SERVER, 0)
    ep.request(get("/2"), SERVER, 0)
    with pytest.raises(EndpointBusy):
        ep.request(get("/3"), SERVER, 0)


def test_send_queue_capacity_drops_and_counts():
    ep = Endpoint(random.Random(1), send_capacity=2)
    for mid in range(4):
        ep.receive(bytes.fromhex(f"4000{mid:04x}"), CLIENT, 0)
    assert len(ep.datagrams_to_send()) == 2 and ep.dropped == 2


def test_dedup_cache_is_bounded_and_evicts_oldest():
    cache = DedupCache(3, 100)
    for i in range(5):
        cache.add(("a", i), i)
    assert len(cache) == 3
    assert cache.get(("a", 0), 5) is None and cache.get(("a", 1), 5) is None
    assert cache.get(("a", 4), 5) == [104, None]
    assert cache.get(("a", 2), 102) is None  # expired
    assert len(cache) == 2


def test_cancel_frees_the_slot_and_starts_the_next():
    ep = Endpoint(random.Random(1))
    t1 = ep.request(get("/1"), SERVER, 0)
    ep.request(get("/2"), SERVER, 0)
    ep.datagrams_to_send()
    ep.cancel(t1, 50)
    (d, _), = ep.datagrams_to_send()
    assert decode(d).uri_path == "/2"
    assert ep.get_timer() >= 2050


# --- lossy network --------------------------------------------------------------------

def test_exchange_completes_under_30_percent_loss():
    # An attempt succeeds when the request and its ACK both get through: p = 0.7**2.
    # With MAX_RETRANSMIT 4 there are 5 attempts, so P(timeout) = (1 - 0.49)**5 = 3.5%.
    seeds = range(50)
    done = 0
    for seed in seeds:
        net = VirtualNetwork(seed, loss=0.3, duplicate=0.1, delay_ms=(1, 800))
        sim, client, server = pair(seed, network=net)
        client.endpoint.request(get("/3/0/0"), SERVER, 0)
        sim.run(lambda c=client: c.events)
        sim.run()
        assert len(client.events) == 1
        done += isinstance(client.events[0][1], ResponseReceived)
        assert len(server.requests()) <= 1  # never delivered twice
    # Binomial(50, 0.035): P(more than 6 timeouts) < 0.1%.
    assert done >= 44
