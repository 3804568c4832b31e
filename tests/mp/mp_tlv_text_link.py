"""TLV, plain text, opaque, Base64 and link format under MicroPython and CPython.

Plain script: every top-level ``test_*`` function is run by tests/test_micropython.py.
"""

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
        (T_FLOAT, 1 / 3, "C805083FD5555555555555"),
        (T_OPAQUE, b"\x00\xff", "C20500FF"),
    ]
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
        (T_FLOAT, 6.667e-11, b"6.667e-11"),
        (T_STRING, "\u00e9", b"\xc3\xa9"),
    ]
    buf = bytearray(32)
    for typ, value, wire in cases:
        n = text.encode_into(buf, [((3, 0, 1), typ, value)], (3, 0, 1))
        assert bytes(buf[:n]) == wire, wire
        assert text.decode(wire, (3, 0, 1), lambda p, t=typ: t) == [((3, 0, 1), value)]
    value = text.decode(b"0.00000000006667", (3, 0, 1), lambda p: T_FLOAT)[0][1]
    assert value == 6.667e-11
    assert raises(DecodeError, text.decode, b"1_000", (3, 0, 1), lambda p: T_INTEGER)
    assert raises(NotAcceptable, text.encode_into, buf, [], (3, 0))


def test_float_text_round_trip():
    buf = bytearray(32)
    for value in (0.1, 1 / 3, -2.5e-300, 1.7976931348623157e308, 123456789.125):
        n = text.encode_into(buf, [((3, 0, 1), T_FLOAT, value)], (3, 0, 1))
        assert text.decode(buf[:n], (3, 0, 1), lambda p: T_FLOAT)[0][1] == value


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
