"""Plain text (CF 0), opaque (CF 42) and the core's Base64 codec."""

import base64
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lwm2m_client.core.buffer import Writer
from lwm2m_client.core.content import b64, opaque, text
from lwm2m_client.core.dm.types import (
    INT64_MAX,
    INT64_MIN,
    T_BOOLEAN,
    T_CORELNK,
    T_FLOAT,
    T_INTEGER,
    T_NONE,
    T_OBJLNK,
    T_OPAQUE,
    T_STRING,
    T_TIME,
    T_UNSIGNED,
    UINT64_MAX,
    Objlnk,
)
from lwm2m_client.core.errors import BufferFull, DecodeError, NotAcceptable

PATH = (3, 0, 13)


def typed(typ):
    return lambda path: typ


# Plain-text vectors of LWM2M-FACTS section 11 (Core 1.1 Appendix C examples).
VECTORS = [
    (T_INTEGER, -750, b"-750"),
    (T_INTEGER, 18, b"18"),
    (T_UNSIGNED, 18, b"18"),
    (T_TIME, 1476186613, b"1476186613"),
    (T_BOOLEAN, False, b"0"),
    (T_BOOLEAN, True, b"1"),
    (T_OPAQUE, bytes([1, 2, 3, 4, 5]), b"AQIDBAU="),
    (T_OBJLNK, Objlnk(66, 0), b"66:0"),
    (T_OBJLNK, Objlnk(65535, 65535), b"65535:65535"),
    (T_STRING, "Open Mobile Alliance", b"Open Mobile Alliance"),
    (T_STRING, "\u00e9t\u00e9", "\u00e9t\u00e9".encode()),
    (T_CORELNK, "</3/0>", b"</3/0>"),
    (T_FLOAT, 22.5, b"22.5"),
]


@pytest.mark.parametrize("typ,value,wire", VECTORS)
def test_vectors_both_ways_and_buffer_full(typ, value, wire):
    records = [(PATH, typ, value)]
    buf = bytearray(len(wire))
    assert text.encode_into(buf, records, PATH) == len(wire)
    assert bytes(buf) == wire
    with pytest.raises(BufferFull):
        text.encode_into(bytearray(len(wire) - 1), records, PATH)
    assert text.decode(wire, PATH, typed(typ)) == [(PATH, value)]


def test_float_spellings():
    # The spec writes 6.667e-11 as 0.00000000006667; exponent form is accepted too.
    # We emit Python's shortest round-trip repr, which here is the exponent form.
    for wire in (b"0.00000000006667", b"6.667e-11", b"6.667E-11", b"66.67e-12"):
        assert text.decode(wire, PATH, typed(T_FLOAT)) == [(PATH, 6.667e-11)]
    buf = bytearray(32)
    n = text.encode_into(buf, [(PATH, T_FLOAT, 6.667e-11)], PATH)
    assert bytes(buf[:n]) == b"6.667e-11"
    for wire, value in [(b"5", 5.0), (b"-0.5", -0.5), (b".5", 0.5), (b"5.", 5.0),
                        (b"1e+3", 1000.0)]:
        assert text.decode(wire, PATH, typed(T_FLOAT)) == [(PATH, value)]


def test_null_object_link_in_hex_spelling():
    assert text.decode(b"FFFF:FFFF", PATH, typed(T_OBJLNK)) == [(PATH, Objlnk(65535, 65535))]


def test_untyped_and_resource_instance_paths():
    assert text.decode(b"abc", PATH) == [(PATH, "abc")]
    # A resource instance takes the type of its resource.
    seen = []

    def type_of(path):
        seen.append(path)
        return T_INTEGER

    assert text.decode(b"5", (3, 0, 6, 1), type_of) == [((3, 0, 6, 1), 5)]
    assert seen == [(3, 0, 6)]
    buf = bytearray(4)
    assert text.encode_into(buf, [((3, 0, 6, 1), T_INTEGER, 5)], (3, 0, 6, 1)) == 1


NOT_ACCEPTABLE = [
    ("no record", [], PATH),
    ("two records", [((3, 0, 0), T_STRING, "a"), ((3, 0, 1), T_STRING, "b")], (3, 0)),
    ("multiple resource with one instance", [((3, 0, 6, 0), T_INTEGER, 1)], (3, 0, 6)),
    ("empty multiple resource", [((3, 0, 6), T_INTEGER, None)], (3, 0, 6)),
    ("no value type", [((3, 0, 4), T_NONE, 0)], (3, 0, 4)),
    ("nan", [((3303, 0, 5700), T_FLOAT, math.nan)], (3303, 0, 5700)),
    ("infinity", [((3303, 0, 5700), T_FLOAT, -math.inf)], (3303, 0, 5700)),
]


@pytest.mark.parametrize("name,records,base", NOT_ACCEPTABLE, ids=[n[0] for n in NOT_ACCEPTABLE])
def test_not_acceptable(name, records, base):
    with pytest.raises(NotAcceptable) as info:
        text.encode_into(bytearray(64), records, base)
    assert info.value.code == 0x86


BAD = [
    (T_INTEGER, b""), (T_INTEGER, b"+5"), (T_INTEGER, b" 5"), (T_INTEGER, b"5 "),
    (T_INTEGER, b"1_000"), (T_INTEGER, b"-"), (T_INTEGER, b"0x10"), (T_INTEGER, b"1.0"),
    (T_INTEGER, b"9223372036854775808"), (T_TIME, b"abc"),
    (T_UNSIGNED, b"-1"), (T_UNSIGNED, b"18446744073709551616"),
    (T_FLOAT, b""), (T_FLOAT, b"."), (T_FLOAT, b"1e"), (T_FLOAT, b"e5"), (T_FLOAT, b"inf"),
    (T_FLOAT, b"nan"), (T_FLOAT, b"1.2.3"), (T_FLOAT, b"1_0.0"), (T_FLOAT, b"--1"),
    (T_BOOLEAN, b"2"), (T_BOOLEAN, b"true"), (T_BOOLEAN, b""),
    (T_OPAQUE, b"AQIDBAU"[:5]), (T_OPAQUE, b"AQ==="), (T_OPAQUE, b"AQ ID"),
    (T_OBJLNK, b"66"), (T_OBJLNK, b"66:x"), (T_OBJLNK, b"70000:0"), (T_OBJLNK, b"1:2:3"),
    (T_OBJLNK, b":"), (T_STRING, b"\xff\xfe"), (T_NONE, b"1"),
]


@pytest.mark.parametrize("typ,wire", BAD)
def test_bad_input_raises_decode_error(typ, wire):
    with pytest.raises(DecodeError):
        text.decode(wire, PATH, typed(typ))


VALUES = {
    T_STRING: st.text(),
    T_CORELNK: st.text(),
    T_INTEGER: st.integers(INT64_MIN, INT64_MAX),
    T_TIME: st.integers(INT64_MIN, INT64_MAX),
    T_UNSIGNED: st.integers(0, UINT64_MAX),
    T_FLOAT: st.floats(allow_nan=False, allow_infinity=False),
    T_BOOLEAN: st.booleans(),
    T_OPAQUE: st.binary(max_size=200),
    T_OBJLNK: st.builds(Objlnk, st.integers(0, 0xFFFF), st.integers(0, 0xFFFF)),
}


@st.composite
def typed_values(draw):
    typ = draw(st.sampled_from(sorted(VALUES)))
    return typ, draw(VALUES[typ])


@settings(max_examples=400)
@given(typed_values())
def test_round_trip(tv):
    typ, value = tv
    big = bytearray(1200)
    n = text.encode_into(big, [(PATH, typ, value)], PATH)
    exact = bytearray(n)
    assert text.encode_into(exact, [(PATH, typ, value)], PATH) == n
    if n:
        with pytest.raises(BufferFull):
            text.encode_into(bytearray(n - 1), [(PATH, typ, value)], PATH)
    assert text.decode(exact, PATH, typed(typ)) == [(PATH, value)]


@settings(max_examples=400)
@given(st.binary(max_size=40), st.sampled_from([None] + sorted(VALUES) + [T_NONE]))
def test_fuzz_random_bytes(data, typ):
    try:
        out = text.decode(data, PATH, typed(typ))
    except DecodeError:
        return
    assert len(out) == 1 and out[0][0] == PATH


@settings(max_examples=300)
@given(st.sampled_from(VECTORS), st.integers(0, 20), st.integers(0, 255))
def test_fuzz_mutated_vectors(vector, pos, byte):
    typ, _, wire = vector
    mutated = bytearray(wire)
    if pos < len(mutated):
        mutated[pos] = byte
    else:
        mutated.append(byte)
    try:
        text.decode(bytes(mutated), PATH, typed(typ))
    except DecodeError:
        pass


# ----------------------------------------------------------------------------- opaque


def test_opaque_both_ways():
    payload = bytes(range(256))
    records = [((5, 0, 0), T_OPAQUE, payload)]
    buf = bytearray(256)
    assert opaque.encode_into(buf, records, (5, 0, 0)) == 256 and bytes(buf) == payload
    with pytest.raises(BufferFull):
        opaque.encode_into(bytearray(255), records, (5, 0, 0))
    assert opaque.decode(memoryview(payload), (5, 0, 0)) == [((5, 0, 0), payload)]
    assert opaque.decode(b"", (19, 0, 0)) == [((19, 0, 0), b"")]


def test_opaque_refuses_other_types_and_several_values():
    with pytest.raises(NotAcceptable):
        opaque.encode_into(bytearray(8), [((3, 0, 0), T_STRING, "x")], (3, 0, 0))
    with pytest.raises(NotAcceptable):
        opaque.encode_into(
            bytearray(8),
            [((19, 0, 0, 0), T_OPAQUE, b"a"), ((19, 0, 0, 1), T_OPAQUE, b"b")],
            (19, 0, 0),
        )


# ----------------------------------------------------------------------------- base64

RFC4648 = [  # RFC 4648 section 10
    (b"", "", ""), (b"f", "Zg==", "Zg"), (b"fo", "Zm8=", "Zm8"), (b"foo", "Zm9v", "Zm9v"),
    (b"foob", "Zm9vYg==", "Zm9vYg"), (b"fooba", "Zm9vYmE=", "Zm9vYmE"),
    (b"foobar", "Zm9vYmFy", "Zm9vYmFy"),
]


@pytest.mark.parametrize("raw,padded,bare", RFC4648)
def test_base64_rfc4648_vectors(raw, padded, bare):
    assert b64.b64encode(raw) == padded
    assert b64.b64encode(raw, pad=False) == bare
    assert b64.b64decode(padded) == raw
    assert b64.b64decode(bare.encode()) == raw
    assert b64.encoded_length(len(raw)) == len(padded)
    assert b64.encoded_length(len(raw), pad=False) == len(bare)


@settings(max_examples=300)
@given(st.binary(max_size=100), st.booleans(), st.booleans())
def test_base64_against_the_standard_library(raw, url, pad):
    oracle = (base64.urlsafe_b64encode if url else base64.b64encode)(raw).decode()
    if not pad:
        oracle = oracle.rstrip("=")
    assert b64.b64encode(raw, url=url, pad=pad) == oracle
    assert b64.b64decode(oracle) == raw


def test_base64_write_into_a_writer_buffer():
    w = Writer(bytearray(5), pos=2)
    with pytest.raises(BufferFull):  # 4 characters padded, 3 bytes of room
        b64.write_b64(w, b"\xfb\xff")
    assert w.pos == 2
    w = Writer(bytearray(5), pos=2)
    assert b64.write_b64(w, b"\xfb\xff", url=True, pad=False) == 3
    assert bytes(w.buf[2:5]) == b"-_8" and w.pos == 5


@pytest.mark.parametrize(
    "bad", ["A", "AAAAA", "A===", "AA=", "AA=A", "====", "AA AA", "AA\nAA", "AA*A", "\u00e9AAA"]
)
def test_base64_bad_input(bad):
    with pytest.raises(DecodeError):
        b64.b64decode(bad)


@settings(max_examples=400)
@given(st.binary(max_size=40))
def test_base64_fuzz(data):
    try:
        out = b64.b64decode(data)
    except DecodeError:
        return
    assert isinstance(out, bytes)
