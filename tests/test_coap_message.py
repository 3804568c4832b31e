"""RFC 7252 message codec: RFC vectors, option formats, error cases, round trips, fuzzing."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lwm2m_client.core.coap import message as m
from lwm2m_client.core.coap import options as o
from lwm2m_client.core.coap.message import CoapDecodeError, Message, decode, encode_into, to_bytes
from lwm2m_client.core.errors import BufferFull, DecodeError

# --- RFC 7252 Appendix A, constructed from the figures ----------------------------------


def test_appendix_a_confirmable_get_and_piggybacked_response():
    # Figure 16 / A.1: CON GET mid=0x7d34 Uri-Path "temperature", no token;
    # ACK 2.05 mid=0x7d34 payload "22.3 C".
    req = Message(m.CON, m.GET, 0x7D34)
    req.uri_path = "/temperature"
    wire = bytes.fromhex("40017d34bb") + b"temperature"
    assert to_bytes(req) == wire
    assert decode(wire) == req
    resp = Message(m.ACK, m.CONTENT, 0x7D34, payload=b"22.3 C")
    wire = bytes.fromhex("60457d34ff") + b"22.3 C"
    assert to_bytes(resp) == wire
    got = decode(wire)
    assert got == resp and bytes(got.payload) == b"22.3 C" and got.uri_path == "/"


def test_appendix_a_token_and_separate_response():
    # §5.2.2 separate response (Figure 5): CON GET token 0x20 ... empty ACK, then
    # CON 2.05 mid=0x23bb token 0x20, and the client's empty ACK 0x23bb.
    req = Message(m.CON, m.GET, 0x7D38, b"\x20")
    req.uri_path = "temperature"
    assert to_bytes(req) == bytes.fromhex("41017d3820bb") + b"temperature"
    assert to_bytes(Message(m.ACK, m.EMPTY, 0x7D38)) == bytes.fromhex("60007d38")
    sep = Message(m.CON, m.CONTENT, 0x23BB, b"\x20", payload=b"22.5 C")
    assert to_bytes(sep) == bytes.fromhex("414523bb20ff") + b"22.5 C"
    assert to_bytes(Message(m.ACK, m.EMPTY, 0x23BB)) == bytes.fromhex("600023bb")


def test_reset_and_ping_are_four_bytes():
    assert to_bytes(Message(m.RST, m.EMPTY, 0x1234)) == bytes.fromhex("70001234")
    ping = decode(bytes.fromhex("40001234"))
    assert (ping.mtype, ping.code, ping.mid, ping.token, ping.options) == (
        m.CON, m.EMPTY, 0x1234, b"", [])


def test_option_extended_delta_and_length_forms():
    # Delta 13..268 uses nibble 13 + 1 byte, from 269 nibble 14 + 2 bytes (§3.1).
    msg = Message(m.CON, m.POST, 1)
    msg.add_option(o.SIZE1, 300)           # delta 60  -> 0xD2, ext 60-13=47
    msg.add_option(o.NO_RESPONSE, 2)       # delta 198 -> 0xD1, ext 185
    msg.add_option(2000, b"x" * 20)        # delta 1742 -> 0xED, ext 1473, len 20 -> ext 7
    wire = to_bytes(msg)
    assert wire == bytes.fromhex("40020001" "d22f012c" "d1b902" "ed05c107") + b"x" * 20
    assert decode(wire) == msg


def test_observe_option_values_rfc7641():
    # Observe register = 0 (empty value), deregister = 1, sequence numbers are 24-bit.
    msg = Message(m.CON, m.GET, 2, b"\x01")
    msg.observe = 0
    assert to_bytes(msg) == bytes.fromhex("4101000201" "60")
    for value, enc in ((1, "01"), (12, "0c"), (0x1234, "1234"), (0xFFFFFF, "ffffff")):
        msg.observe = value
        assert msg.opt(o.OBSERVE) == bytes.fromhex(enc)
        assert decode(to_bytes(msg)).observe == value


@pytest.mark.parametrize("num,more,szx,enc", [
    (0, True, 6, "0e"), (2, True, 6, "2e"), (16, True, 6, "010e"), (0, True, 2, "0a"),
    (4096, False, 6, "010006"), (0, False, 0, ""),
])
def test_block_option_vectors(num, more, szx, enc):
    assert o.encode_block(num, more, szx) == bytes.fromhex(enc)
    assert o.decode_block(bytes.fromhex(enc)) == (num, more, szx)


def test_block_option_limits():
    with pytest.raises(ValueError):
        o.encode_block(0, False, 7)
    with pytest.raises(ValueError):
        o.encode_block(1 << 20, False, 0)
    with pytest.raises(DecodeError):
        o.decode_block(b"\x07")  # SZX 7 = BERT, not over UDP
    with pytest.raises(DecodeError):
        o.decode_block(b"\x00\x00\x00\x06")
    assert [o.block_size(s) for s in range(7)] == [16, 32, 64, 128, 256, 512, 1024]
    assert o.size_to_szx(1024) == 6 and o.size_to_szx(1000) == 5 and o.size_to_szx(16) == 0


def test_uint_minimal_length():
    assert o.encode_uint(0) == b""
    assert o.encode_uint(255) == b"\xff"
    assert o.encode_uint(256) == b"\x01\x00"
    assert o.encode_uint(11542) == b"\x2d\x16"
    assert o.decode_uint(b"\x00\x2a") == 42  # non-minimal form is accepted on input
    with pytest.raises(DecodeError):
        o.decode_uint(b"\x01\x00\x00\x00\x00")
    with pytest.raises(ValueError):
        o.encode_uint(1 << 32)


def test_critical_and_elective():
    assert [o.is_critical(n) for n in (1, 4, 11, 12, 17, 23, 27, 28, 60, 258)] == [
        True, False, True, False, True, True, True, False, False, False]
    msg = Message(m.CON, m.GET, 1)
    msg.add_option(2049, b"?")
    msg.add_option(2050, b"!")
    assert msg.unknown_critical() == 2049
    msg.remove_option(2049)
    assert msg.unknown_critical() is None


def test_unknown_options_survive_decode_and_reencode():
    # Uri-Path "3", then unknown option 11+13+245 = 269 (odd: critical) of length 0,
    # then payload "a".
    wire = bytes.fromhex("4101abcd07b133d0f5ff61")
    msg = decode(wire)
    assert msg.options == [(11, b"3"), (269, b"")]
    assert msg.unknown_critical() == 269
    assert to_bytes(msg) == wire


def test_repeated_options_keep_order_and_sort_by_number():
    msg = Message(m.CON, m.POST, 1)
    msg.add_option(o.URI_QUERY, "ep=meter")
    msg.uri_path = "/rd"
    msg.add_option(o.URI_QUERY, "lt=300")
    msg.content_format = 40
    assert [n for n, _ in msg.options] == [11, 12, 15, 15]
    assert msg.uri_query == ["ep=meter", "lt=300"]
    assert decode(to_bytes(msg)).uri_query == ["ep=meter", "lt=300"]
    msg.location_path = ["rd", "5a3f"]
    assert msg.location_path == "/rd/5a3f"
    msg.content_format = None
    assert msg.opt(o.CONTENT_FORMAT) is None


def test_helper_properties_round_trip():
    msg = Message(m.CON, m.PUT, 9, b"tok")
    msg.uri_path = "/5/0/0"
    msg.block1 = (3, True, 4)
    msg.size1 = 4096
    msg.etag = b"\x01\x02"
    msg.if_none_match = True
    msg.accept = 11544
    msg.max_age = 60
    msg.uri_port = 5683
    msg.add_option(o.URI_HOST, "example.com")
    got = decode(to_bytes(msg))
    assert got.block1 == (3, True, 4) and got.size1 == 4096 and got.etag == b"\x01\x02"
    assert got.if_none_match and got.accept == 11544 and got.max_age == 60
    assert got.uri_port == 5683 and got.strings(o.URI_HOST) == ["example.com"]
    assert got.block2 is None and got.size2 is None and got.observe is None


def test_repr_is_readable():
    msg = Message(m.CON, m.GET, 0x1234, b"\xab\xcd")
    msg.uri_path = "/3/0"
    msg.accept = 11542
    assert repr(msg) == "<CON GET mid=0x1234 token=abcd /3/0 Accept:11542>"
    resp = Message(m.ACK, m.CONTINUE, 7, payload=b"12")
    resp.block1 = (1, True, 6)
    assert repr(resp) == "<ACK 2.31 mid=0x0007 Block1:1/1/1024 payload=2B>"
    assert m.code_class(m.CONTENT) == 2 and m.code_class(m.NOT_FOUND) == 4
    assert m.code_class(m.GET) == 0 and m.code_class(m.INTERNAL_SERVER_ERROR) == 5


@pytest.mark.parametrize("hexdata,why", [
    ("", "empty"),
    ("400100", "shorter than 4"),
    ("00010000", "version 0"),
    ("80010000", "version 2"),
    ("49010000" + "00" * 9, "token length 9"),
    ("4f010000", "token length 15"),
    ("42010000aa", "truncated token"),
    ("40010000b1", "truncated option value"),
    ("40010000d0", "truncated extended delta"),
    ("40010000e001", "truncated 2-byte delta"),
    ("40010000f0", "delta nibble 15"),
    ("40010000bf", "length nibble 15"),
    ("40010000ff", "payload marker with empty payload"),
    ("40000000ff00", "empty message with payload"),
    ("41000000aa", "empty message with token"),
    ("40000000b0", "empty message with an option"),
    ("40010000e0ff0000", "option number above 65535"),
])
def test_decode_errors(hexdata, why):
    with pytest.raises(CoapDecodeError):
        decode(bytes.fromhex(hexdata))


def test_encode_into_fixed_buffer():
    msg = Message(m.NON, m.CONTENT, 5, b"\x01", payload=b"x" * 10)
    n = len(to_bytes(msg))
    buf = bytearray(n)
    assert encode_into(msg, buf) == n
    with pytest.raises(BufferFull):
        encode_into(msg, bytearray(n - 1))
    with pytest.raises(BufferFull):
        encode_into(msg, bytearray(3))
    # into a memoryview window of a larger buffer
    big = bytearray(64)
    assert encode_into(msg, memoryview(big)[10:10 + n]) == n
    assert bytes(big[10:10 + n]) == to_bytes(msg)


def test_payload_marker_only_with_payload():
    assert to_bytes(Message(m.ACK, m.CHANGED, 1)) == bytes.fromhex("60440001")
    assert to_bytes(Message(m.ACK, m.CHANGED, 1, payload=b"\x00"))[-2:] == b"\xff\x00"


def test_encode_rejects_misuse():
    with pytest.raises(ValueError):
        to_bytes(Message(m.CON, m.GET, 1, b"123456789"))
    with pytest.raises(ValueError):
        to_bytes(Message(m.CON, m.GET, 1, options=[(12, b""), (11, b"a")]))
    with pytest.raises(ValueError):
        to_bytes(Message(m.ACK, m.EMPTY, 1, b"\x01"))


def test_decoded_payload_is_a_view_of_the_datagram():
    data = bytes.fromhex("60457d34ff") + b"22.3 C"
    msg = decode(data)
    assert isinstance(msg.payload, memoryview) and msg.payload.obj is data


def test_bad_utf8_in_string_option_is_a_decode_error():
    # A 2-byte Uri-Path value ff 41: 0xff inside an option value is not a payload marker.
    msg = decode(bytes.fromhex("40010000b2ff41"))
    assert msg.opts(o.URI_PATH) == [b"\xff\x41"]
    with pytest.raises(DecodeError):
        msg.uri_path  # noqa: B018
    assert "/" in repr(msg)  # repr never raises


# --- Hypothesis ---------------------------------------------------------------------

option_numbers = st.one_of(
    st.sampled_from([1, 3, 4, 5, 6, 7, 8, 11, 12, 14, 15, 17, 20, 23, 27, 28, 35, 60, 258]),
    st.integers(0, 65535))
option_lists = st.lists(st.tuples(option_numbers, st.binary(max_size=300)), max_size=12).map(
    lambda opts: sorted(opts, key=lambda opt: opt[0]))


@st.composite
def messages(draw):
    mtype = draw(st.integers(0, 3))
    code = draw(st.integers(0, 255))
    mid = draw(st.integers(0, 0xFFFF))
    if code == 0:
        return Message(mtype, 0, mid)
    return Message(mtype, code, mid, draw(st.binary(max_size=8)), draw(option_lists),
                   draw(st.binary(max_size=200)))


@settings(max_examples=400)
@given(messages())
def test_round_trip(msg):
    wire = to_bytes(msg)
    got = decode(wire)
    assert got == msg
    assert to_bytes(got) == wire


@settings(max_examples=400)
@given(st.binary(max_size=80))
def test_fuzz_decode_random_bytes(data):
    try:
        msg = decode(data)
    except DecodeError:
        return
    repr(msg)
    # The option header encoding is canonical (RFC 7252 §3.1), so whatever decodes
    # re-encodes to the very same bytes.
    assert to_bytes(msg) == data


@settings(max_examples=400)
@given(messages(), st.data())
def test_fuzz_decode_mutated(msg, data):
    wire = bytearray(to_bytes(msg))
    for _ in range(data.draw(st.integers(1, 4))):
        action = data.draw(st.integers(0, 2))
        if action == 0 and wire:
            i = data.draw(st.integers(0, len(wire) - 1))
            wire[i] = data.draw(st.integers(0, 255))
        elif action == 1 and wire:
            del wire[data.draw(st.integers(0, len(wire) - 1)):]
        else:
            wire.insert(data.draw(st.integers(0, len(wire))), data.draw(st.integers(0, 255)))
    try:
        got = decode(bytes(wire))
    except DecodeError:
        return
    repr(got)
    assert decode(to_bytes(got)) == got
