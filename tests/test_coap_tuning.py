"""RFC 7252 §4.8 transmission parameters and the §4.8.2 values derived from them."""

import random

import pytest

from lwm2m_client.core.coap import message as m
from lwm2m_client.core.coap.events import RequestReceived, Reset
from lwm2m_client.core.coap.message import Message, to_bytes
from lwm2m_client.core.coap.messaging import MIN_MESSAGE_SIZE, Endpoint, Tuning
from lwm2m_client.core.errors import UsageError

PEER = ("10.0.0.2", 5683)


def test_defaults_are_the_rfc_values():
    t = Tuning()
    # §4.8 base parameters.
    assert (t.ack_timeout, t.ack_random_factor, t.max_retransmit, t.nstart) == (2000, 1.5, 4, 1)
    assert (t.default_leisure, t.probing_rate) == (5000, 1)
    # §4.8.2 assumptions and derived values: 45 s, 93 s, 100 s, 2 s, 202 s, 247 s, 145 s.
    assert t.max_transmit_span == 45000
    assert t.max_transmit_wait == 93000
    assert t.max_latency == 100000
    assert t.processing_delay == 2000
    assert t.max_rtt == 202000
    assert t.exchange_lifetime == 247000
    assert t.non_lifetime == 145000
    assert (t.max_message_size, t.token_length) == (1152, 4)
    derived = (t.max_transmit_span, t.max_transmit_wait, t.max_rtt, t.exchange_lifetime,
               t.non_lifetime)
    assert all(type(v) is int for v in derived)


# (kwargs, max_transmit_span, max_transmit_wait, max_rtt, exchange_lifetime, non_lifetime),
# each computed by hand from the §4.8.2 formulas.
SHRUNK = [
    # span = 100*(2**2-1)*1.0 = 300; wait = 100*(2**3-1)*1.0 = 700; PROCESSING_DELAY = 100;
    # rtt = 2*1000+100 = 2100; exchange = 300+2000+100 = 2400; non = 300+1000 = 1300.
    (dict(ack_timeout=100, ack_random_factor=1.0, max_retransmit=2, max_latency=1000),
     300, 700, 2100, 2400, 1300),
    # span = 400*7*1.25 = 3500; wait = 400*15*1.25 = 7500; rtt = 2*500+50 = 1050;
    # exchange = 3500+1000+50 = 4550; non = 3500+500 = 4000.
    (dict(ack_timeout=400, ack_random_factor=1.25, max_retransmit=3, max_latency=500,
          processing_delay=50),
     3500, 7500, 1050, 4550, 4000),
    # MAX_RETRANSMIT 0: span = 0; wait = 1000*1*1.5 = 1500; rtt = 0+1000;
    # exchange = 0+0+1000 = 1000; non = 0.
    (dict(ack_timeout=1000, max_retransmit=0, max_latency=0),
     0, 1500, 1000, 1000, 0),
    # span = 100*7*1.1 = 770 (770.0000000000001 in floating point); wait = 100*15*1.1 = 1650;
    # rtt = 2*100000+100 = 200100; exchange = 770+200000+100 = 200870; non = 100770.
    (dict(ack_timeout=100, ack_random_factor=1.1, max_retransmit=3),
     770, 1650, 200100, 200870, 100770),
    # span = 333*1*1.5 = 499.5, rounded to 500; wait = 333*3*1.5 = 1498.5 -> 1499;
    # rtt = 2*10+333 = 353; exchange = 500+20+333 = 853; non = 500+10 = 510.
    (dict(ack_timeout=333, max_retransmit=1, max_latency=10),
     500, 1499, 353, 853, 510),
]


@pytest.mark.parametrize("kwargs, span, wait, rtt, exchange, non", SHRUNK)
def test_shrunk_parameters_follow_the_formulas(kwargs, span, wait, rtt, exchange, non):
    t = Tuning(**kwargs)
    assert t.max_transmit_span == span
    assert t.max_transmit_wait == wait
    assert t.max_rtt == rtt
    assert t.exchange_lifetime == exchange
    assert t.non_lifetime == non


def test_processing_delay_defaults_to_ack_timeout():
    assert Tuning(ack_timeout=700).processing_delay == 700
    assert Tuning(ack_timeout=700, processing_delay=0).processing_delay == 0


def test_lifetimes_are_no_longer_set_directly():
    with pytest.raises(TypeError):
        Tuning(exchange_lifetime=5000)
    with pytest.raises(TypeError):
        Tuning(non_lifetime=1000)


@pytest.mark.parametrize("name, value", [
    ("ack_timeout", 0),
    ("ack_timeout", -100),
    ("ack_random_factor", 0.99),
    ("ack_random_factor", 0),
    ("max_retransmit", -1),
    ("nstart", 0),
    ("token_length", 0),
    ("token_length", 9),
    ("max_message_size", MIN_MESSAGE_SIZE - 1),
    ("max_message_size", 0),
    ("max_latency", -1),
    ("processing_delay", -1),
    ("default_leisure", -1),
    ("probing_rate", 0),
])
def test_invalid_values_raise_usage_error(name, value):
    with pytest.raises(UsageError, match=name) as info:
        Tuning(**{name: value})
    assert isinstance(info.value, ValueError)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("name, value", [
    ("ack_timeout", 1), ("ack_random_factor", 1), ("max_retransmit", 0), ("nstart", 1),
    ("token_length", 1), ("token_length", 8), ("max_message_size", MIN_MESSAGE_SIZE),
    ("max_latency", 0), ("processing_delay", 0), ("default_leisure", 0),
])
def test_boundary_values_are_accepted(name, value):
    assert getattr(Tuning(**{name: value}), name) == value


def test_min_message_size_fits_the_smallest_block():
    # 4-byte header + 8-byte token + Block2 option (2-byte header, delta 23, + 3-byte
    # value) + marker + 16-byte block (RFC 7959 §2.2, SZX 0) fits, with room to spare.
    ep = Endpoint(random.Random(1), Tuning(max_message_size=MIN_MESSAGE_SIZE))
    req = Message(m.CON, m.GET, 1, b"12345678")
    (ev,) = ep.receive(to_bytes(req), PEER, 0)
    resp = Message(code=m.CONTENT, payload=bytes(16))
    resp.block2 = (65535, True, 0)
    ep.respond(ev.msg, PEER, resp, 0)
    ((data, _),) = ep.datagrams_to_send()
    assert len(data) == 4 + 8 + 5 + 1 + 16 < MIN_MESSAGE_SIZE


def test_repr_names_the_lifetimes():
    text = repr(Tuning())
    assert "exchange_lifetime=247000" in text and "non_lifetime=145000" in text


# --- the endpoint's caches follow the derived lifetimes --------------------------------

SMALL = dict(ack_timeout=100, ack_random_factor=1.0, max_retransmit=2, max_latency=1000)


def _request(mtype, mid):
    return to_bytes(Message(mtype, m.GET, mid, b"t"))


def test_con_dedup_lasts_exchange_lifetime():
    tuning = Tuning(**SMALL)
    assert tuning.exchange_lifetime == 2400
    ep = Endpoint(random.Random(1), tuning)
    req = _request(m.CON, 0x0101)
    assert len(ep.receive(req, PEER, 0)) == 1
    assert ep.receive(req, PEER, 2399) == []  # still a duplicate
    (ev,) = ep.receive(req, PEER, 2400)        # the MID may be reused: a new request
    assert isinstance(ev, RequestReceived)


def test_non_dedup_lasts_non_lifetime():
    tuning = Tuning(**SMALL)
    assert tuning.non_lifetime == 1300
    ep = Endpoint(random.Random(1), tuning)
    req = _request(m.NON, 0x0202)
    assert len(ep.receive(req, PEER, 0)) == 1
    assert ep.receive(req, PEER, 1299) == []
    assert len(ep.receive(req, PEER, 1300)) == 1


def test_default_con_dedup_lasts_247_s():
    ep = Endpoint(random.Random(1))
    req = _request(m.CON, 0x0303)
    assert len(ep.receive(req, PEER, 0)) == 1
    assert ep.receive(req, PEER, 246999) == []
    assert len(ep.receive(req, PEER, 247000)) == 1


def test_rst_to_a_non_matches_for_non_lifetime():
    # RFC 7641 §3.6: an RST to a NON notification is matched by MID for NON_LIFETIME.
    ep = Endpoint(random.Random(1), Tuning(**SMALL))
    mid = ep.send(Message(m.NON, m.CONTENT, token=b"obs1"), PEER, 0)
    assert ep.receive(bytes.fromhex(f"7000{mid:04x}"), PEER, 1299) == [Reset(b"obs1", PEER)]
    mid = ep.send(Message(m.NON, m.CONTENT, token=b"obs2"), PEER, 2000)
    assert ep.receive(bytes.fromhex(f"7000{mid:04x}"), PEER, 3300) == []


def test_separate_response_wait_lasts_exchange_lifetime():
    ep = Endpoint(random.Random(1), Tuning(**SMALL))
    ep.request(Message(m.CON, m.GET), PEER, 0)
    mid = m.decode(ep.datagrams_to_send()[0][0]).mid
    ep.receive(bytes.fromhex(f"6000{mid:04x}"), PEER, 50)
    assert ep.get_timer() == 50 + 2400
