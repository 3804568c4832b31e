"""TLV, plain text, opaque, Base64 and link format under MicroPython and CPython.

Plain script: every top-level ``test_*`` function is run by tests/test_micropython.py.
"""

from struct import unpack

from mpcheck import raises
from spec_vectors import (
    DEVICE_TLV_HEX,
    DEVICE_TLV_OBJECT_HEX,
    DEVICE_TYPES,
    OBJ66_TLV_HEX,
    REGISTER_LINKS,
    REGISTER_PAYLOAD,
)

from lwm2m_client.core.content import b64, link, opaque, text, tlv
from lwm2m_client.core.content.floats import SINGLE
from lwm2m_client.core.dm.types import (
    T_BOOLEAN,
    T_FLOAT,
    T_INTEGER,
    T_OBJLNK,
    T_OPAQUE,
    T_STRING,
    T_TIME,
    T_UNSIGNED,
    Objlnk,
)
from lwm2m_client.core.errors import BufferFull, DecodeError, NotAcceptable

DEVICE = bytes.fromhex(DEVICE_TLV_HEX)
OBJ66 = bytes.fromhex(OBJ66_TLV_HEX)
OBJ66_TYPES = {0: T_STRING, 1: T_STRING, 2: T_OBJLNK}


def f32(hexed):
    """The float whose IEEE-754 binary32 bits are ``hexed``: exact on every build."""
    return unpack(">f", bytes.fromhex(hexed))[0]


# 6.667e-11, the spec's plain-text Float example. A single build's float() and literals
# land one unit off the nearest single for it, so that is taken from its bits there.
SMALL = f32("2E929BE0") if SINGLE else 6.667e-11


def same(a, b):
    # Equal floats with the same sign, so -0.0 is not 0.0.
    return a == b and str(a)[:1] == str(b)[:1]


def device_type(path):
    return DEVICE_TYPES.get(path[2])


def obj66_type(path):
    return OBJ66_TYPES.get(path[2])


def reencode(values, types, base, size):
    records = [(p, types(p), v) for p, v in values]
    buf = bytearray(size)
    n = tlv.encode_into(buf, records, base)
    assert raises(BufferFull, tlv.encode_into, bytearray(size - 1), records, base)
    return bytes(buf[:n])


def test_tlv_device_vector():
    values = tlv.decode(DEVICE, (3, 0), device_type)
    assert len(values) == 16
    assert values[0] == ((3, 0, 0), "Open Mobile Alliance")
    assert values[5] == ((3, 0, 6, 1), 5)
    assert values[13] == ((3, 0, 13), 1367491215)
    assert reencode(values, device_type, (3, 0), 121) == DEVICE
    wrapped = reencode(values, device_type, (3,), 124)
    assert wrapped == bytes.fromhex(DEVICE_TLV_OBJECT_HEX)


def test_tlv_object_link_vector():
    values = tlv.decode(OBJ66, (66,), obj66_type)
    assert values[2] == ((66, 0, 2), Objlnk(67, 0))
    assert values[5] == ((66, 1, 2), Objlnk(65535, 65535))
    assert reencode(values, obj66_type, (66,), 82) == OBJ66


def test_tlv_single_values_and_widths():
    cases = [
        (T_INTEGER, -750, "C205FD12"),
        (T_INTEGER, 128, "C2050080"),
        (T_INTEGER, -(1 << 63), "C805088000000000000000"),
        (T_UNSIGNED, (1 << 64) - 1, "C80508FFFFFFFFFFFFFFFF"),
        (T_BOOLEAN, True, "C10501"),
        (T_FLOAT, 22.5, "C40541B40000"),
        (T_FLOAT, 230.0, "C40543660000"),
        (T_OPAQUE, b"\x00\xff", "C20500FF"),
    ]
    if SINGLE:
        # A single goes out as the double its shortest text means, unless it is that
        # double: the single nearest 1/3 (0.33333334) as the double 0.33333334.
        cases.append((T_FLOAT, f32("3EAAAAAB"), "C805083FD555555C7DDA4B"))
    else:
        # The single nearest 1/3 is a 4-byte float here, 1/3 itself 8 bytes.
        cases.append((T_FLOAT, f32("3EAAAAAB"), "C4053EAAAAAB"))
        cases.append((T_FLOAT, 1 / 3, "C805083FD5555555555555"))
    buf = bytearray(16)
    for typ, value, wire in cases:
        n = tlv.encode_into(buf, [((9, 0, 5), typ, value)], (9, 0, 5))
        assert bytes(buf[:n]) == bytes.fromhex(wire), (typ, value)
        assert tlv.decode(buf[:n], (9, 0, 5), lambda p, t=typ: t) == [((9, 0, 5), value)]


def test_tlv_empty_multiple_resource():
    buf = bytearray(4)
    n = tlv.encode_into(buf, [((3, 0, 11), T_INTEGER, None)], (3, 0, 11))
    assert bytes(buf[:n]) == b"\x80\x0b"
    assert tlv.decode(buf[:n], (3, 0, 11), device_type) == [((3, 0, 11), None)]


def test_tlv_bad_input():
    for data, base in [
        (b"\xc3\x09\x01\x02\x03", (3, 0)),
        (b"\xc2\x00\xff\xfe", (3, 0)),
        (b"\xc8\x00", (3, 0)),
        (b"\x08\x00\x03\x41\x00\x01", (3,)),
        (b"\xc1\x09\x64", (3,)),
        (b"\xc1\x09\x64\xc1", (3, 0)),
    ]:
        assert raises(DecodeError, tlv.decode, data, base, device_type), data


def test_plain_text_vectors():
    cases = [
        (T_INTEGER, -750, b"-750"),
        (T_TIME, 1476186613, b"1476186613"),
        (T_BOOLEAN, True, b"1"),
        (T_OPAQUE, b"\x01\x02\x03\x04\x05", b"AQIDBAU="),
        (T_OBJLNK, Objlnk(66, 0), b"66:0"),
        (T_FLOAT, SMALL, b"6.667e-11"),
        (T_STRING, "\u00e9", b"\xc3\xa9"),
    ]
    buf = bytearray(32)
    for typ, value, wire in cases:
        n = text.encode_into(buf, [((3, 0, 1), typ, value)], (3, 0, 1))
        assert bytes(buf[:n]) == wire, wire
        assert text.decode(wire, (3, 0, 1), lambda p, t=typ: t) == [((3, 0, 1), value)]
    value = text.decode(b"0.00000000006667", (3, 0, 1), lambda p: T_FLOAT)[0][1]
    assert value == SMALL
    assert raises(DecodeError, text.decode, b"1_000", (3, 0, 1), lambda p: T_INTEGER)
    assert raises(NotAcceptable, text.encode_into, buf, [], (3, 0))


def test_float_text_round_trip():
    buf = bytearray(32)
    values = [0.1, 1 / 3, 123456789.125, -0.0, 230.1, 1e-7, 3.4e38, f32("7F7FFFFF"),
              f32("00800000"), f32("007FFFFF"), f32("00000001"), f32("80000001"),
              f32("7F7FFFFE"), f32("0B000000")]
    if not SINGLE:
        values += [-2.5e-300, 1.7976931348623157e308, 2.0 ** -1074, 556.416]
    for value in values:
        n = text.encode_into(buf, [((3, 0, 1), T_FLOAT, value)], (3, 0, 1))
        assert same(text.decode(buf[:n], (3, 0, 1), lambda p: T_FLOAT)[0][1], value), value


# (value on a single-precision build as binary32 bits, its literal on a double build,
#  plain text (the same on both), TLV value on a single build, TLV value on a double build).
# A single build sends the double its text means, as a double build does, unless the
# single is exactly that double: a server reads 230.1, not 230.10000610351562.
FLOAT_CASES = (
    ("4366199A", 230.1, b"230.1", "406CC33333333333", "406CC33333333333"),
    ("3DCCCCCD", 0.1, b"0.1", "3FB999999999999A", "3FB999999999999A"),
    ("33D6BF95", 1e-7, b"1e-07", "3E7AD7F29ABCAF48", "3E7AD7F29ABCAF48"),
    ("7F7FC99E", 3.4e38, b"3.4e+38", "47EFF933C78CDFAD", "47EFF933C78CDFAD"),
    ("43660000", 230.0, b"230.0", "43660000", "43660000"),
    ("3F000000", 0.5, b"0.5", "3F000000", "3F000000"),
    ("80000000", -0.0, b"-0.0", "80000000", "80000000"),
    ("C2C80000", -100.0, b"-100.0", "C2C80000", "C2C80000"),
    ("4B800000", 16777216.0, b"16777216.0", "4B800000", "4B800000"),
)


def test_floats_as_text_and_tlv():
    buf = bytearray(16)
    for bits, literal, wire, tlv_single, tlv_double in FLOAT_CASES:
        value = f32(bits) if SINGLE else literal
        rec = [((3, 0, 1), T_FLOAT, value)]
        n = text.encode_into(buf, rec, (3, 0, 1))
        assert bytes(buf[:n]) == wire, (wire, bytes(buf[:n]))
        assert same(text.decode(wire, (3, 0, 1), lambda p: T_FLOAT)[0][1], value), wire
        hexed = tlv_single if SINGLE else tlv_double
        head = "C401" if len(hexed) == 8 else "C80108"
        n = tlv.encode_into(buf, rec, (3, 0, 1))
        assert bytes(buf[:n]) == bytes.fromhex(head + hexed), (wire, bytes(buf[:n]))
        assert same(tlv.decode(buf[:n], (3, 0, 1), lambda p: T_FLOAT)[0][1], value), wire


def test_float_text_at_the_ends_of_the_range():
    # Exact singles: the text is the shortest at the build's precision.
    cases = (
        ("7F7FFFFF", b"3.4028235e+38", b"3.4028234663852886e+38"),
        ("00800000", b"1.1754944e-38", b"1.1754943508222875e-38"),
        ("00000001", b"1e-45", b"1.401298464324817e-45"),
        ("3EAAAAAB", b"0.33333334", b"0.3333333432674408"),
        ("4CEB79A3", b"123456790.0", b"123456792.0"),
    )
    buf = bytearray(32)
    for bits, single_text, double_text in cases:
        n = text.encode_into(buf, [((3, 0, 1), T_FLOAT, f32(bits))], (3, 0, 1))
        assert bytes(buf[:n]) == (single_text if SINGLE else double_text), bytes(buf[:n])
    if not SINGLE:
        for value, wire in ((1e300, b"1e+300"), (2.0 ** -1074, b"5e-324"),
                            (-2.5e-300, b"-2.5e-300"), (556.416, b"556.416")):
            n = text.encode_into(buf, [((3, 0, 1), T_FLOAT, value)], (3, 0, 1))
            assert bytes(buf[:n]) == wire, bytes(buf[:n])


def test_float_decoders_at_the_build_precision():
    def as_float(p):
        return T_FLOAT

    # An 8-byte TLV float and long text: the nearest single on a single build.
    third = bytes.fromhex("C801083FD5555555555555")
    got = tlv.decode(third, (3, 0, 1), as_float)[0][1]
    assert got == (f32("3EAAAAAB") if SINGLE else 1 / 3)
    long = text.decode(b"230.10000610351562", (3, 0, 1), as_float)[0][1]
    assert long == (f32("4366199A") if SINGLE else 230.10000610351562)
    tiny = tlv.decode(bytes.fromhex("C8010801BAC9A7B3B7302F"), (3, 0, 1), as_float)[0][1]
    assert tiny == (0.0 if SINGLE else 2.5e-300)
    assert tlv.decode(bytes.fromhex("C4017F800000"), (3, 0, 1), as_float)[0][1] == float("inf")
    big_tlv = bytes.fromhex("C801087E37E43C8800759C")  # 1e300
    if SINGLE:
        assert raises(DecodeError, tlv.decode, big_tlv, (3, 0, 1), as_float)
        assert raises(DecodeError, text.decode, b"1e39", (3, 0, 1), as_float)
        assert text.decode(b"3.4028235e38", (3, 0, 1), as_float)[0][1] == f32("7F7FFFFF")
        assert text.decode(b"1e-46", (3, 0, 1), as_float)[0][1] == 0.0
    else:
        assert tlv.decode(big_tlv, (3, 0, 1), as_float)[0][1] == 1e300
        assert text.decode(b"1e39", (3, 0, 1), as_float)[0][1] == 1e39


def test_opaque_and_base64():
    buf = bytearray(3)
    assert opaque.encode_into(buf, [((5, 0, 0), T_OPAQUE, b"abc")], (5, 0, 0)) == 3
    assert opaque.decode(buf, (5, 0, 0)) == [((5, 0, 0), b"abc")]
    assert b64.b64encode(b"foobar") == "Zm9vYmFy"
    assert b64.b64encode(b"\xfb\xff", url=True, pad=False) == "-_8"
    assert b64.b64decode("+/8=") == b"\xfb\xff"
    assert b64.b64decode("-_8") == b"\xfb\xff"
    assert raises(DecodeError, b64.b64decode, "A===")


def test_link_format():
    register = REGISTER_PAYLOAD.encode()
    links = REGISTER_LINKS
    buf = bytearray(len(register))
    assert link.encode_links(buf, links) == len(register) and bytes(buf) == register
    assert raises(BufferFull, link.encode_links, bytearray(len(register) - 1), links)
    out = bytearray(64)
    n = link.encode_links(out, [((), [("rt", "oma.lwm2m"), ("ct", "110 112")]),
                                ((1,), [("ver", "1.1")]), ((3, 0, 7), [("lt", 42.2)])])
    wire = b'</>;rt="oma.lwm2m";ct="110 112",</1>;ver=1.1,</3/0/7>;lt=42.2'
    assert bytes(out[:n]) == wire
    assert link.decode_links(wire) == [
        ("/", {"rt": "oma.lwm2m", "ct": "110 112"}),
        ("/1", {"ver": "1.1"}),
        ("/3/0/7", {"lt": "42.2"}),
    ]
    assert link.decode_links('</1>;ver="1.1";q="a,b"') == [("/1", {"ver": "1.1", "q": "a,b"})]
    assert raises(DecodeError, link.decode_links, "</1>;a=")


def test_link_format_float_attributes():
    # gt/lt/st values are written as the shortest text at the build's precision.
    out = bytearray(96)
    third = f32("3EAAAAAB")
    value = f32("4366199A") if SINGLE else 230.1
    n = link.encode_links(out, [((3, 0, 7), [("gt", value), ("lt", -0.5), ("st", third)]),
                                ((3, 0, 8), [("st", 1e-7), ("gt", f32("7F7FFFFF"))])])
    wire = (b"</3/0/7>;gt=230.1;lt=-0.5;st="
            + (b"0.33333334" if SINGLE else b"0.3333333432674408")
            + b",</3/0/8>;st=1e-07;gt="
            + (b"3.4028235e+38" if SINGLE else b"3.4028234663852886e+38"))
    assert bytes(out[:n]) == wire, bytes(out[:n])
