"""Bad input against a registered client core: it answers, resets or drops, never breaks.

Every datagram goes straight into ``ClientCore.receive_datagram`` from the server's address
(or from a stranger's). Whatever comes out must be a CoAP response with a 4.xx/5.00 code
(the exact one where the spec names it, Transport 1.1 section 6.7), an RST, or nothing;
the client never raises, a rejected request leaves the object tree and the attribute
store exactly as they were (deep snapshot compare), and the registration stays as it
was: same state, same location, no new Register: a peer never leaves half-applied state.
"""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lwm2m_client.core.client import events as ev
from lwm2m_client.core.client import registration as reg_fsm
from lwm2m_client.core.client import setup
from lwm2m_client.core.client.dm_handler import DMHandler
from lwm2m_client.core.client.engine import ClientConfig, ClientCore
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.coap import options as o
from lwm2m_client.core.coap.message import Message, decode, to_bytes
from lwm2m_client.core.content import (
    CF_LINK,
    CF_OPAQUE,
    CF_SENML_CBOR,
    CF_SENML_JSON,
    CF_TEXT,
    CF_TLV,
)
from lwm2m_client.core.dm.tree import ObjectTree
from lwm2m_client.models import shipped_objects

SERVER = ("10.0.0.2", 5683)
STRANGER = ("10.9.9.9", 5683)
LOCATION = ["rd", "7"]
OBJECTS = shipped_objects()
T0 = 1000


class Meter:
    """A registered client core plus the counters its Execute handlers bump."""

    def __init__(self) -> None:
        tree = ObjectTree([OBJECTS[i] for i in (0, 1, 3, 4, 19, 3305)])
        setup.add_security(tree, 0, "coap://server", ssid=1)
        setup.add_server(tree, 0, 1, lifetime=600)
        self.calls: list[tuple[str, Any]] = []
        setup.add_device(tree, "ACME", "M1", "SN1", "1.0",
                         reboot=lambda: self.calls.append(("reboot", None)))
        setup.add_connectivity(tree)
        tree.create_instance(19, 0, {0: {0: b"\x01\x02"}})
        tree.create_instance(3305, 0, {5800: 1.5})
        tree.on_execute((3305, 0, 5605), lambda path, args: self.calls.append(("reset", args)))
        self.tree = tree
        self.core = ClientCore(ClientConfig("fuzz-1", block_size=64, max_body=1024,
                                            jitter=0), tree, random.Random(5))
        self.core.set_address(1, SERVER)
        self.now = T0
        self._register()

    def _register(self) -> None:
        core = self.core
        core.start(self.now)
        core.handle_timer(core.get_timer())
        while True:
            (data, addr), = core.datagrams_to_send()
            req = decode(data)
            assert addr == SERVER and req.uri_path == "/rd"
            block1 = req.block1
            if block1 is not None and block1[1]:
                # The object list goes in 64-byte blocks: take each (RFC 7959 2.31).
                ack = Message(m.ACK, m.CONTINUE, req.mid, req.token)
                ack.block1 = block1
                core.receive_datagram(to_bytes(ack), SERVER, self.now)
                continue
            ack = Message(m.ACK, m.CREATED, req.mid, req.token)
            ack.location_path = LOCATION
            ack.block1 = block1
            core.receive_datagram(to_bytes(ack), SERVER, self.now)
            break
        assert core.next_event() == ev.Registered(1, LOCATION)
        self.registration = core.registration(1)
        assert self.registration.state == reg_fsm.ST_REGISTERED

    def snapshot(self) -> Any:
        return copy.deepcopy((self.tree._data, self.core.client.attributes._entries))

    def feed(self, data: bytes, src: tuple[str, int] = SERVER) -> list[Message]:
        """Deliver ``data``; return what the client sent back (all of it to ``src``)."""
        self.now += 10
        self.core.receive_datagram(data, src, self.now)
        out = []
        for reply, dst in self.core.datagrams_to_send():
            assert dst == src, f"a reply went to {dst!r}, not to the sender"
            out.append(decode(reply))  # the client only sends well-formed CoAP
        return out


def request(method: int, path: str | list[bytes], payload: bytes = b"", cf: int | None = None,
            accept: int | None = None, query: tuple[str, ...] = (), mtype: int = m.CON,
            options: tuple[tuple[int, bytes], ...] = ()) -> Message:
    msg = Message(mtype, method, 0x1234, b"\x0a\x0b", payload=payload)
    if isinstance(path, str):
        msg.uri_path = path
    else:
        for seg in path:
            msg.add_option(o.URI_PATH, seg)
    for q in query:
        msg.add_option(o.URI_QUERY, q)
    if cf is not None:
        msg.content_format = cf
    if accept is not None:
        msg.accept = accept
    for number, value in options:
        msg.add_option(number, value)
    return msg


# The codes a client may answer a DM request with: the success codes of Transport 1.1
# section 6.4.4 (2.31 for a Block1 block, RFC 7959), the 4.xx of its error tables, 4.02
# for options (RFC 7252 section 5.4.1) and 5.00 for everything else (section 6.7).
@pytest.fixture(autouse=True)
def strict_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 5.00 here must be a deliberate answer, never a bug the handler swallowed."""
    monkeypatch.setattr(DMHandler, "strict", True)


ANSWER_CODES = (m.CREATED, m.DELETED, m.CHANGED, m.CONTENT, m.CONTINUE, m.BAD_REQUEST,
                m.UNAUTHORIZED, m.BAD_OPTION, m.NOT_FOUND, m.METHOD_NOT_ALLOWED,
                m.NOT_ACCEPTABLE, m.REQUEST_ENTITY_INCOMPLETE, m.REQUEST_ENTITY_TOO_LARGE,
                m.UNSUPPORTED_CONTENT_FORMAT, m.INTERNAL_SERVER_ERROR)


def check(meter: Meter, data: bytes, src: tuple[str, int] = SERVER) -> list[Message]:
    """Feed one datagram and check the invariants of this file; returns the replies."""
    before = meter.snapshot()
    reg = meter.registration
    state, location, deadline = reg.state, reg.location, reg.deadline
    try:
        sent = decode(data)
    except Exception:  # noqa: BLE001 - undecodable input is simply not a request
        sent = None
    replies = meter.feed(data, src)
    succeeded = False
    for reply in replies:
        if reply.mtype == m.RST:
            assert reply.code == m.EMPTY
            continue
        # Answers to the request it got, never requests of its own (no Register, and an
        # Update or De-register only after an accepted Write or Execute).
        if m.is_request(reply.code):
            assert succeeded and reply.uri_path == "/rd/7", reply
            continue
        assert reply.mtype in (m.ACK, m.NON), reply
        assert sent is not None and m.is_request(sent.code)
        assert bytes(reply.token) == bytes(sent.token)
        assert reply.code in ANSWER_CODES, reply
        if reply.mtype == m.ACK:
            assert sent.mtype == m.CON and reply.mid == sent.mid
        succeeded = succeeded or m.code_class(reply.code) == 2
    event = meter.core.next_event()
    while event is not None:
        assert not isinstance(event, (ev.Registered, ev.RegistrationFailed)), event
        event = meter.core.next_event()
    if src != SERVER:
        assert not succeeded, "a stranger's request was served"
    if not succeeded:
        assert meter.snapshot() == before, "a rejected request changed the tree"
        assert (reg.state, reg.location, reg.deadline) == (state, location, deadline)
    else:
        # Only Disable (/1/0/4) may take the client off the server, and through a
        # De-register: still no Register.
        assert reg.state in (reg_fsm.ST_REGISTERED, reg_fsm.ST_UPDATING,
                             reg_fsm.ST_DEREGISTERING)
    return replies


def only_reply(meter: Meter, msg: Message, src: tuple[str, int] = SERVER) -> Message:
    replies = check(meter, to_bytes(msg), src)
    assert len(replies) == 1, replies
    return replies[0]


# -- specific malformed requests, exact codes ------------------------------------------

TLV_LIFETIME_TRUNCATED = bytes([0xC2, 0x01, 0x78])  # length 2, one value byte
SENML_STRING_FOR_INT = b'[{"n":"/1/0/2","vs":"x"}]'
BAD_REQUESTS = [
    # Uri-Path that is no LwM2M path (T1.1 section 6.4.4 / C1.1 section 6): 4.00.
    ("letters", request(m.GET, "/3/zero"), m.BAD_REQUEST),
    ("negative", request(m.GET, [b"3", b"-1"]), m.BAD_REQUEST),
    ("above 65535", request(m.GET, "/3/65536"), m.BAD_REQUEST),
    ("leading zero", request(m.GET, "/3/00"), m.BAD_REQUEST),
    ("empty segment", request(m.GET, [b"3", b""]), m.BAD_REQUEST),
    ("not UTF-8", request(m.GET, [b"3", b"\xff\xfe"]), m.BAD_REQUEST),
    ("too deep", request(m.GET, "/3/0/11/0/1"), m.BAD_REQUEST),
    # Targets that do not exist: 4.04; Security object: 4.01 (C1.1 section 6.3).
    ("unknown object", request(m.GET, "/9999"), m.NOT_FOUND),
    ("unknown instance", request(m.GET, "/3/7"), m.NOT_FOUND),
    ("unknown resource", request(m.GET, "/3/0/99"), m.NOT_FOUND),
    ("read security", request(m.GET, "/0/0"), m.UNAUTHORIZED),
    ("write security", request(m.PUT, "/0/0/0", b"coap://evil", CF_TEXT), m.UNAUTHORIZED),
    # Wrong types and out-of-range values: 4.00 (T1.1 section 6.4.4 Write).
    ("text not a time", request(m.PUT, "/3/0/13", b"noon", CF_TEXT), m.BAD_REQUEST),
    ("text not an int", request(m.PUT, "/1/0/2", b"12x", CF_TEXT), m.BAD_REQUEST),
    ("above range", request(m.PUT, "/1/0/26", b"5", CF_TEXT), m.BAD_REQUEST),
    ("unsigned range", request(m.PUT, "/1/0/27", b"256", CF_TEXT), m.BAD_REQUEST),
    ("bool text", request(m.PUT, "/1/0/6", b"2", CF_TEXT), m.BAD_REQUEST),
    ("senml string for int", request(m.PUT, "/1/0/2", SENML_STRING_FOR_INT, CF_SENML_JSON),
     m.BAD_REQUEST),
    ("senml garbage", request(m.PUT, "/1/0", b'[{"n":', CF_SENML_JSON), m.BAD_REQUEST),
    ("senml cbor garbage", request(m.PUT, "/1/0", b"\x81\xa1\x00", CF_SENML_CBOR),
     m.BAD_REQUEST),
    ("tlv bool 2", request(m.PUT, "/1/0/6", bytes([0xC1, 0x06, 0x02]), CF_TLV),
     m.BAD_REQUEST),
    ("tlv int 3 bytes", request(m.PUT, "/1/0/2", bytes([0xC3, 0x02, 1, 2, 3]), CF_TLV),
     m.BAD_REQUEST),
    ("tlv above range", request(m.PUT, "/1/0/26", bytes([0xC1, 0x1A, 0x05]), CF_TLV),
     m.BAD_REQUEST),
    ("tlv string not UTF-8", request(m.PUT, "/3/0/14", bytes([0xC1, 0x0E, 0xFF]), CF_TLV),
     m.BAD_REQUEST),
    ("tlv id mismatch", request(m.PUT, "/1/0/2", bytes([0xC1, 0x03, 0x05]), CF_TLV),
     m.BAD_REQUEST),
    ("truncated tlv", request(m.PUT, "/1/0/1", TLV_LIFETIME_TRUNCATED, CF_TLV),
     m.BAD_REQUEST),
    ("truncated tlv create", request(m.POST, "/19", bytes([0x08, 0x00, 0x05, 0xC1]), CF_TLV),
     m.BAD_REQUEST),
    ("read-only resource", request(m.PUT, "/3/0/0", b"EVIL", CF_TEXT), m.METHOD_NOT_ALLOWED),
    ("write on an object", request(m.PUT, "/3", b"1", CF_TEXT), m.METHOD_NOT_ALLOWED),
    # Content formats: unknown -> 4.15; unsupported Accept -> 4.06.
    ("unknown format", request(m.PUT, "/1/0/2", b"1", 9999), m.UNSUPPORTED_CONTENT_FORMAT),
    ("unknown accept", request(m.GET, "/3/0", accept=9999), m.NOT_ACCEPTABLE),
    ("composite wrong format", request(m.FETCH, "/", b"/3/0", CF_TEXT),
     m.UNSUPPORTED_CONTENT_FORMAT),
    ("composite into security",
     request(m.IPATCH, "/", b'[{"n":"/0/0/0","vs":"coap://x"}]', CF_SENML_JSON),
     m.UNAUTHORIZED),
    # Unknown critical options (RFC 7252 section 5.4.1): 4.02.
    ("critical option 9", request(m.GET, "/3/0", options=((9, b"x"),)), m.BAD_OPTION),
    ("critical option 2049", request(m.GET, "/3/0", options=((2049, b""),)), m.BAD_OPTION),
    # Malformed values of known critical options are unrecognized options (RFC 7252
    # section 5.4.3): 4.02.
    ("accept too long", request(m.GET, "/3/0", options=((o.ACCEPT, b"\x00" * 5),)),
     m.BAD_OPTION),
    ("block2 szx 7", request(m.GET, "/3/0", options=((o.BLOCK2, b"\x07"),)), m.BAD_OPTION),
    ("block2 too long", request(m.GET, "/3/0", options=((o.BLOCK2, b"\x00" * 4),)),
     m.BAD_OPTION),
    ("block1 szx 7", request(m.PUT, "/3/0/14", b"+01", CF_TEXT,
                             options=((o.BLOCK1, b"\x0f"),)), m.BAD_OPTION),
    # Block-wise (RFC 7959 sections 2.2, 2.5, 2.9): a block with no transfer -> 4.08,
    # too large -> 4.13, a Block2 past the end of the body -> 4.02.
    ("huge block1 num", request(m.PUT, "/3/0/14", b"+" * 16, CF_TEXT,
                                options=((o.BLOCK1, o.encode_block(0xFFFFF, True, 0)),)),
     m.REQUEST_ENTITY_INCOMPLETE),
    ("block1 over max", request(m.PUT, "/3/0/14", b"+" * 16, CF_TEXT,
                                options=((o.BLOCK1, o.encode_block(0, True, 0)),
                                         (o.SIZE1, o.encode_uint(10 ** 6)))),
     m.REQUEST_ENTITY_TOO_LARGE),
    ("block2 past end", request(m.GET, "/3/0",
                                options=((o.BLOCK2, o.encode_block(999, False, 0)),)),
     m.BAD_OPTION),
    # Write-Attributes and Discover queries (C1.1 section 6.3.4, C1.2 section 6.3.2).
    ("attr not a number", request(m.PUT, "/3305/0/5800", query=("pmin=abc",)), m.BAD_REQUEST),
    ("attr unknown", request(m.PUT, "/3305/0/5800", query=("foo=1",)), m.BAD_REQUEST),
    ("attr gt on instance", request(m.PUT, "/3305/0", query=("gt=1",)), m.BAD_REQUEST),
    ("attr lt above gt", request(m.PUT, "/3305/0/5800", query=("gt=5", "lt=10")),
     m.BAD_REQUEST),
    ("attr epmin above epmax", request(m.PUT, "/3305/0/5800", query=("epmin=9", "epmax=3")),
     m.BAD_REQUEST),
    ("attr repeated", request(m.PUT, "/3305/0/5800", query=("pmin=1", "pmin=2")), m.BAD_REQUEST),
    ("attr not UTF-8", request(m.PUT, "/3305/0/5800", options=((o.URI_QUERY, b"pmin=\xff"),)),
     m.BAD_REQUEST),
    ("discover depth 9", request(m.GET, "/3/0", accept=CF_LINK, query=("depth=9",)),
     m.BAD_REQUEST),
    ("discover depth text", request(m.GET, "/3/0", accept=CF_LINK, query=("depth=x",)),
     m.BAD_REQUEST),
    ("discover unknown query", request(m.GET, "/3", accept=CF_LINK, query=("pmin=1",)),
     m.BAD_REQUEST),
    # Execute (C1.1 section 6.3.5): bad arguments 4.00, not executable 4.05.
    ("exec arg letter", request(m.POST, "/3305/0/5605", b"a"), m.BAD_REQUEST),
    ("exec arg unterminated", request(m.POST, "/3305/0/5605", b"0='x"), m.BAD_REQUEST),
    ("exec arg trailing comma", request(m.POST, "/3305/0/5605", b"0,"), m.BAD_REQUEST),
    ("exec not executable", request(m.POST, "/3/0/0"), m.METHOD_NOT_ALLOWED),
    ("exec instance level", request(m.POST, "/3/0/11/0"), m.METHOD_NOT_ALLOWED),
    # Create and Delete that the model forbids.
    ("create device", request(m.POST, "/3", b'[{"n":"/3/1/14","vs":"Z"}]', CF_SENML_JSON),
     m.METHOD_NOT_ALLOWED),
    ("delete device", request(m.DELETE, "/3/0"), m.METHOD_NOT_ALLOWED),
    ("delete object", request(m.DELETE, "/19"), m.METHOD_NOT_ALLOWED),
    ("delete missing", request(m.DELETE, "/19/5"), m.NOT_FOUND),
    ("unknown method", request(0x1F, "/3/0"), m.METHOD_NOT_ALLOWED),
]


@pytest.mark.parametrize("name, msg, code", BAD_REQUESTS, ids=[c[0] for c in BAD_REQUESTS])
def test_malformed_request_gets_exact_error(name: str, msg: Message, code: int) -> None:
    meter = Meter()
    reply = only_reply(meter, msg)
    assert reply.mtype == m.ACK
    assert m.code_name(reply.code) == m.code_name(code)
    assert meter.calls == []
    if code == m.REQUEST_ENTITY_TOO_LARGE:
        assert reply.size1 == 1024  # the client's maximum (RFC 7959 section 2.9.3)


def test_non_request_with_unknown_critical_option_is_dropped() -> None:
    # RFC 7252 section 5.4.1: a NON request with an unrecognized critical option is
    # silently rejected.
    meter = Meter()
    assert check(meter, to_bytes(request(m.GET, "/3/0", mtype=m.NON,
                                         options=((9, b""),)))) == []


def test_observe_garbage_is_an_elective_option_ignored() -> None:
    # Observe (6) is elective: a malformed value is ignored (RFC 7252 section 5.4.3) and
    # the GET is answered as a Read.
    meter = Meter()
    reply = only_reply(meter, request(m.GET, "/3/0/0",
                                      options=((o.OBSERVE, b"\x01\x02\x03\x04\x05"),)))
    assert reply.code == m.CONTENT and bytes(reply.payload) != b""


def test_accepted_requests_still_work_after_the_garbage() -> None:
    """The same client serves good requests after every bad one of the table."""
    meter = Meter()
    for _, msg, _ in BAD_REQUESTS:
        msg = copy.deepcopy(msg)
        msg.mid = (meter.now // 10) & 0xFFFF  # fresh MIDs: no dedup between them
        only_reply(meter, msg)
    good = request(m.GET, "/3/0/0", accept=CF_TEXT)
    good.mid = 0x7777
    reply = only_reply(meter, good)
    assert (reply.code, bytes(reply.payload)) == (m.CONTENT, b"ACME")
    write = request(m.PUT, "/3/0/14", b"+02:00", CF_TEXT)
    write.mid = 0x7778
    assert only_reply(meter, write).code == m.CHANGED
    assert meter.tree.get((3, 0, 14)) == "+02:00"
    assert meter.calls == []


@pytest.mark.parametrize("msg", [
    request(m.GET, "/3/0"),
    request(m.POST, "/3/0/4"),
    request(m.PUT, "/3/0/14", b"+01:00", CF_TEXT),
    request(m.DELETE, "/19/0"),
    request(m.PUT, "/3305/0/5800", query=("pmin=5",)),
    request(m.PUT, "/3/0/14", b"+" * 16, CF_TEXT,
            options=((o.BLOCK1, o.encode_block(0, True, 0)),)),
    request(m.GET, "/3/0", options=((o.BLOCK2, b"\x07"),)),
], ids=["read", "execute", "write", "delete", "write-attributes", "block1", "bad-block2"])
def test_stranger_requests_are_ignored(msg: Message) -> None:
    # C1.1 section 6.3: DM requests from a server without a registration are ignored.
    meter = Meter()
    assert check(meter, to_bytes(msg), STRANGER) == []
    assert meter.calls == []


# -- Hypothesis: random and mutated datagrams ----------------------------------------

VALID = [
    request(m.GET, "/3/0"),
    request(m.GET, "/3/0/11", accept=CF_TLV),
    request(m.GET, "/3305/0", accept=CF_SENML_JSON, options=((o.OBSERVE, b""),)),
    request(m.GET, "/3", accept=CF_LINK, query=("depth=2",)),
    request(m.GET, "/3/0", options=((o.BLOCK2, o.encode_block(1, False, 0)),)),
    request(m.PUT, "/3/0/14", b"+01:00", CF_TEXT),
    request(m.PUT, "/1/0/2", bytes([0xC1, 0x02, 0x0A]), CF_TLV),
    request(m.PUT, "/19/0/0/1", b"\xde\xad", CF_OPAQUE),
    request(m.POST, "/19/0", b'[{"n":"/19/0/3","vs":"x"}]', CF_SENML_JSON),
    request(m.POST, "/19", b'[{"n":"/19/1/0/0","vd":"AQI"}]', CF_SENML_JSON),
    request(m.POST, "/3305/0/5605", b"0,1='x'"),
    request(m.PUT, "/3305/0/5800", query=("pmin=1", "pmax=9", "gt=2.5")),
    request(m.FETCH, "/", b'[{"n":"/3/0/0"},{"n":"/3305/0"}]', CF_SENML_JSON),
    request(m.IPATCH, "/", b'[{"n":"/3/0/14","vs":"Z"}]', CF_SENML_JSON),
    request(m.DELETE, "/19/0"),
    request(m.PUT, "/3/0/14", b"+" * 16, CF_TEXT,
            options=((o.BLOCK1, o.encode_block(0, True, 0)),)),
]
VALID_BYTES = [to_bytes(msg) for msg in VALID]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A valid request with a few bytes flipped, inserted, deleted or cut off."""
    data = bytearray(draw(st.sampled_from(VALID_BYTES)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif kind == "insert":
            data.insert(pos, draw(st.integers(0, 255)))
        elif kind == "delete" and len(data) > 1:
            del data[pos]
        elif kind == "truncate":
            del data[max(pos, 1):]
    return bytes(data)


OPTION_NUMBERS = [o.IF_MATCH, o.URI_HOST, o.ETAG, o.IF_NONE_MATCH, o.OBSERVE, o.URI_PORT,
                  o.URI_PATH, o.CONTENT_FORMAT, o.URI_QUERY, o.ACCEPT, o.BLOCK2, o.BLOCK1,
                  o.SIZE1, o.SIZE2, o.NO_RESPONSE, 9, 10, 2049, 65000]
PATH_SEGMENTS = [b"0", b"1", b"3", b"4", b"5", b"8", b"11", b"14", b"19", b"3305",
                 b"5605", b"5800", b"", b"x", b"65536", b"\xff"]


@st.composite
def structured(draw: st.DrawFn) -> bytes:
    """A well-formed CoAP message with LwM2M-looking but arbitrary parts."""
    msg = Message(draw(st.sampled_from([m.CON, m.CON, m.NON, m.ACK, m.RST])),
                  draw(st.sampled_from([m.GET, m.POST, m.PUT, m.DELETE, m.FETCH, m.IPATCH,
                                        m.CONTENT, m.CHANGED, m.NOT_FOUND, 0x1F, 0xE1])),
                  draw(st.integers(0, 0xFFFF)), draw(st.binary(max_size=8)))
    for seg in draw(st.lists(st.sampled_from(PATH_SEGMENTS), max_size=5)):
        msg.add_option(o.URI_PATH, seg)
    for _ in range(draw(st.integers(0, 3))):
        number = draw(st.sampled_from(OPTION_NUMBERS))
        value = draw(st.one_of(
            st.binary(max_size=5),
            st.sampled_from([CF_TEXT, CF_TLV, CF_SENML_JSON, CF_SENML_CBOR, CF_LINK,
                             9999]).map(o.encode_uint),
            st.sampled_from([b"pmin=1", b"gt=x", b"depth=3", b"depth=7", b"epmax=2"])))
        msg.add_option(number, value)
    msg.payload = draw(st.one_of(
        st.binary(max_size=40),
        st.sampled_from([b"1", b"0='a'", b'[{"n":"/3/0/14","vs":"Q"}]',
                         bytes([0xC1, 0x02, 0x0A]), bytes([0xC8, 0x0E, 0x20]), b"\xa0"])))
    if msg.code == m.EMPTY:
        msg.token, msg.options, msg.payload = b"", [], b""
    return to_bytes(msg)


# A fresh registered client per example (building one takes well under a millisecond),
# so no example sees what an earlier one changed or the CoAP duplicate cache it filled.
FUZZ = settings(max_examples=400, deadline=None)


@FUZZ
@given(data=st.binary(max_size=96))
def test_random_bytes_from_the_server(data: bytes) -> None:
    check(Meter(), data)


@FUZZ
@given(data=st.one_of(st.binary(max_size=64), mutated(), structured()))
def test_anything_from_a_stranger(data: bytes) -> None:
    check(Meter(), data, STRANGER)


@FUZZ
@given(data=mutated())
def test_mutated_valid_requests(data: bytes) -> None:
    check(Meter(), data)


@FUZZ
@given(data=structured())
def test_structured_garbage(data: bytes) -> None:
    check(Meter(), data)


@settings(max_examples=200, deadline=None)
@given(datagrams=st.lists(st.one_of(mutated(), structured()), min_size=2, max_size=8))
def test_sequences_of_bad_input(datagrams: list[bytes]) -> None:
    meter = Meter()
    for i, data in enumerate(datagrams):
        if len(data) >= 4:
            # A message ID of its own, so the CoAP layer does not take it for a duplicate.
            data = data[:2] + (0x5000 + i).to_bytes(2, "big") + data[4:]
        check(meter, data)
    # Still registered and serving.
    good = request(m.GET, "/3/0/1", accept=CF_TEXT)
    good.mid = 0x4242
    reply = only_reply(meter, good)
    if meter.registration.is_registered:
        assert (reply.code, bytes(reply.payload)) == (m.CONTENT, b"M1")
