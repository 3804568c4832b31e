"""OMA-TLV (content format 11542): spec vectors, round trips, error cases and fuzzing."""

import math
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spec_vectors import (
    DEVICE_RECORDS,
    DEVICE_TLV_HEX,
    DEVICE_TLV_OBJECT_HEX,
    DEVICE_TYPES,
    OBJ66_TLV_HEX,
    SERVER_TLV_HEX,
)

from lwm2m_client.core.content import tlv
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

# Resource types of the objects in the vectors (OMA registry objects 1, 2 and 3; 65
# and 66 are the spec's example objects of Core 1.1 section 7.4.4).
TYPES = {
    1: {0: T_INTEGER, 1: T_INTEGER, 6: T_BOOLEAN, 7: T_STRING},
    2: {0: T_INTEGER, 1: T_INTEGER, 2: T_INTEGER, 3: T_INTEGER},
    3: DEVICE_TYPES,
    65: {0: T_OBJLNK, 1: T_STRING, 2: T_INTEGER},
    66: {0: T_STRING, 1: T_STRING, 2: T_OBJLNK},
    65000: {5: T_INTEGER},  # a test object for the single-value vector of res 5
}


def type_of(path):
    return TYPES.get(path[0], {}).get(path[2])


def h(text):
    return bytes.fromhex(text)


# LWM2M-FACTS section 11, the corrected vectors.
DEVICE = h(DEVICE_TLV_HEX)
DEVICE_VALUES = [(path, value) for path, _, value in DEVICE_RECORDS]
ACL = h("08000EC10001C101008302417F07C1037F080212C10003C101008702417F0761013601C1037F")
ACL_VALUES = [
    ((2, 0, 0), 1), ((2, 0, 1), 0), ((2, 0, 2, 127), 7), ((2, 0, 3), 127),
    ((2, 2, 0), 3), ((2, 2, 1), 0), ((2, 2, 2, 127), 7), ((2, 2, 2, 310), 1), ((2, 2, 3), 127),
]
SERVER = h(SERVER_TLV_HEX)
SERVER_VALUES = [((1, 0, 0), 1), ((1, 0, 1), 86400), ((1, 0, 6), True), ((1, 0, 7), "U")]
OBJ65 = h("88000C440000420000440100420001C8010D38363133383030373535353030C40212345678")
OBJ65_VALUES = [
    ((65, 0, 0, 0), Objlnk(66, 0)), ((65, 0, 0, 1), Objlnk(66, 1)),
    ((65, 0, 1), "8613800755500"), ((65, 0, 2), 0x12345678),
]
OBJ66 = h(OBJ66_TLV_HEX)
OBJ66_VALUES = [
    ((66, 0, 0), "myService 1"), ((66, 0, 1), "Internet.15.234"), ((66, 0, 2), Objlnk(67, 0)),
    ((66, 1, 0), "myService 2"), ((66, 1, 1), "Internet.15.235"),
    ((66, 1, 2), Objlnk(0xFFFF, 0xFFFF)),
]

# (name, base, bytes, decoded values)
VECTORS = [
    ("/3/0", (3, 0), DEVICE, DEVICE_VALUES),
    ("/3", (3,), h(DEVICE_TLV_OBJECT_HEX), DEVICE_VALUES),
    ("/2", (2,), ACL, ACL_VALUES),
    ("/1", (1,), SERVER, SERVER_VALUES),
    ("/65/0", (65, 0), OBJ65, OBJ65_VALUES),
    ("/66", (66,), OBJ66, OBJ66_VALUES),
    ("-750", (65000, 0, 5), h("C205FD12"), [((65000, 0, 5), -750)]),
    ("300", (3, 0, 9), h("C209012C"), [((3, 0, 9), 300)]),
    ("128", (3, 0, 9), h("C2090080"), [((3, 0, 9), 128)]),
    ("true", (1, 0, 6), h("C10601"), [((1, 0, 6), True)]),
    ("objlnk", (66, 0, 2), h("C40200420000"), [((66, 0, 2), Objlnk(66, 0))]),
    ("empty multiple", (3, 0, 11), h("800B"), [((3, 0, 11), None)]),
]

FLOAT_TYPES = {5700: T_FLOAT, 1: T_FLOAT}


def float_type(path):
    return FLOAT_TYPES.get(path[2])


def records_for(values, types=type_of):
    out = []
    for path, value in values:
        out.append((path, types(path), value))
    return out


@pytest.mark.parametrize("name,base,data,values", VECTORS, ids=[v[0] for v in VECTORS])
def test_vector_decodes(name, base, data, values):
    assert tlv.decode(data, base, type_of) == values


@pytest.mark.parametrize("name,base,data,values", VECTORS, ids=[v[0] for v in VECTORS])
def test_vector_encodes_byte_for_byte_and_not_one_byte_less(name, base, data, values):
    records = records_for(values)
    buf = bytearray(len(data))
    assert tlv.encode_into(buf, records, base) == len(data)
    assert bytes(buf) == data
    with pytest.raises(BufferFull):
        tlv.encode_into(bytearray(len(data) - 1), records, base)


def test_float_vectors_match_our_width_choice():
    # 22.5 is exact in binary32, so 4 bytes; 1/3 is not, so 8 (module docstring).
    f32 = h("E4164441B40000")
    f64 = h("C801083FD5555555555555")
    assert tlv.decode(f32, (3303, 0, 5700), float_type) == [((3303, 0, 5700), 22.5)]
    assert tlv.decode(f64, (3303, 0, 1), float_type) == [((3303, 0, 1), 1 / 3)]
    buf = bytearray(16)
    n = tlv.encode_into(buf, [((3303, 0, 5700), T_FLOAT, 22.5)], (3303, 0, 5700))
    assert bytes(buf[:n]) == f32
    n = tlv.encode_into(buf, [((3303, 0, 1), T_FLOAT, 1 / 3)], (3303, 0, 1))
    assert bytes(buf[:n]) == f64
    # A peer may send in 8 bytes a value we would send in 4: decoded all the same.
    assert tlv.decode(h("C801084036800000000000"), (3303, 0, 1), float_type) == [
        ((3303, 0, 1), 22.5)]


def test_long_string_uses_16_bit_length():
    buf = bytearray(304)
    n = tlv.encode_into(buf, [((3, 0, 0), T_STRING, "x" * 300)], (3, 0, 0))
    assert n == 304 and bytes(buf[:4]) == h("D000012C")
    assert tlv.decode(buf[:n], (3, 0, 0), type_of) == [((3, 0, 0), "x" * 300)]


def test_length_field_widths():
    buf = bytearray(70010)
    for size, head in [(7, "C700"), (8, "C80008"), (255, "C800FF"), (256, "D0000100"),
                       (65536, "D800010000")]:
        n = tlv.encode_into(buf, [((3, 0, 0), T_OPAQUE, bytes(size))], (3, 0, 0))
        assert bytes(buf[: len(head) // 2]) == h(head)
        assert n == len(head) // 2 + size


def test_value_beyond_the_24_bit_length_field_is_refused():
    records = [((19, 0, 0), T_OPAQUE, bytes(1 << 24))]
    with pytest.raises(NotAcceptable):
        tlv.encode_into(bytearray(64), records, (19, 0, 0))


def test_unsigned_width_choice():
    # Up to 2**63-1 as Integer would be (reads back the same signed or unsigned),
    # beyond that 8 bytes that only an unsigned reader can hold.
    buf = bytearray(16)
    for value, wire in [(0, "C10000"), (127, "C1007F"), (200, "C20000C8"),
                        (2**63, "C800088000000000000000"),
                        (UINT64_MAX, "C80008FFFFFFFFFFFFFFFF")]:
        n = tlv.encode_into(buf, [((3, 0, 0), T_UNSIGNED, value)], (3, 0, 0))
        assert bytes(buf[:n]) == h(wire)
    # The decoder reads Unsigned as unsigned at every width, the peer's choice.
    assert tlv.decode(h("C100C8"), (3, 0, 0), lambda p: T_UNSIGNED) == [((3, 0, 0), 200)]
    assert tlv.decode(h("C100C8"), (3, 0, 0), lambda p: T_INTEGER) == [((3, 0, 0), -56)]


def test_resource_instance_paths():
    # Read of /3/0/6/1: a bare Resource Instance TLV.
    buf = bytearray(8)
    n = tlv.encode_into(buf, [((3, 0, 6, 1), T_INTEGER, 5)], (3, 0, 6, 1))
    assert bytes(buf[:n]) == h("410105")
    assert tlv.decode(buf[:n], (3, 0, 6, 1), type_of) == [((3, 0, 6, 1), 5)]
    # A multiple resource always gets its Multiple Resource TLV, even with one instance.
    n = tlv.encode_into(buf, [((3, 0, 6, 1), T_INTEGER, 5)], (3, 0, 6))
    assert bytes(buf[:n]) == h("8306410105")
    # Write on /3/0/6 with bare Resource Instance TLVs anchors them at the base.
    assert tlv.decode(h("410001410105"), (3, 0, 6), type_of) == [
        ((3, 0, 6, 0), 1), ((3, 0, 6, 1), 5)]


def test_records_of_several_instances_are_wrapped_even_under_an_instance_base():
    records = [((1, 0, 0), T_INTEGER, 1), ((1, 1, 0), T_INTEGER, 2)]
    buf = bytearray(16)
    n = tlv.encode_into(buf, records, (1, 0))
    assert bytes(buf[:n]) == h("0300C100010301C10002")  # 3-byte bodies: inline length


def test_instance_tlv_under_an_instance_base_keeps_its_own_id():
    # Create on /1 after the handler picked iid 4: the body may or may not carry the
    # instance TLV; the path tells the caller which instance the peer meant.
    assert tlv.decode(h("080103C10005"), (1, 4), type_of) == [((1, 1, 0), 5)]
    assert tlv.decode(h("C10005"), (1, 4), type_of) == [((1, 4, 0), 5)]


def test_unknown_type_gives_raw_bytes():
    assert tlv.decode(h("C2050102"), (9999, 0, 5)) == [((9999, 0, 5), b"\x01\x02")]
    assert tlv.decode(h("C2050102"), (9999, 0, 5), lambda p: None) == [
        ((9999, 0, 5), b"\x01\x02")]


def test_accepts_non_minimal_header_forms():
    # 16-bit ID for a small ID and an 8-bit length field for a short value are legal.
    assert tlv.decode(h("E8000001FF"), (3, 0), lambda p: T_INTEGER) == [((3, 0, 0), -1)]
    # With a length field present, bits 2-0 of the type byte are ignored.
    assert tlv.decode(h("C9090164"), (3, 0), type_of) == [((3, 0, 9), 100)]
    assert tlv.decode(h("E00005"), (3, 0), type_of) == [((3, 0, 5), b"")]


def test_empty_body_and_empty_records():
    assert tlv.decode(b"", (3, 0), type_of) == []
    assert tlv.encode_into(bytearray(0), [], (3,)) == 0


def test_encoder_refusals():
    buf = bytearray(32)
    with pytest.raises(NotAcceptable):
        tlv.encode_into(buf, [((1, 0, 0), T_INTEGER, 1), ((2, 0, 0), T_INTEGER, 1)], ())
    with pytest.raises(NotAcceptable):
        tlv.encode_into(buf, [((3, 0, 4), T_NONE, 0)], (3, 0, 4))
    with pytest.raises(ValueError):
        tlv.encode_into(buf, [((3, 0, 9), T_INTEGER, INT64_MAX + 1)], (3, 0, 9))
    with pytest.raises(ValueError):
        tlv.encode_into(buf, [((3, 0, 9), T_UNSIGNED, -1)], (3, 0, 9))


BAD = [
    ("integer of 3 bytes", (3, 0), "C3090102 03"),
    ("integer of 0 bytes", (3, 0), "C009"),
    ("float of 5 bytes", (3303, 0), "E5164441B4000000"),
    ("boolean of 2 bytes", (1, 0), "C2060001"),
    ("boolean value 2", (1, 0), "C10602"),
    ("objlnk of 3 bytes", (66, 0), "C302004200"),
    ("bad utf-8", (3, 0), "C200FFFE"),
    ("truncated 16-bit id", (3, 0), "E000"),
    ("truncated id", (3, 0), "C1"),
    ("truncated length", (3, 0), "C800"),
    ("truncated 24-bit length", (3, 0), "D8000001"),
    ("value past the end", (3, 0), "C80005414243"),
    ("instance length past the end", (3,), "080005C10901"),
    ("resource overruns its instance", (3,), "080003C2090102"),
    ("trailing byte", (3, 0), "C10964C1"),
    ("instance inside an instance", (3,), "080003080100"),
    ("resource instance in an instance body", (3,), "080003410001"),
    ("resource inside a multiple resource", (3, 0), "8306C10001"),
    ("multiple resource inside a multiple resource", (3, 0), "8206800B"),
    ("resources at the top of an object body", (3,), "C10964"),
    ("mixed levels at the top", (3,), "080000C10964"),
    ("resource under a resource-instance path", (3, 0, 6, 0), "C10601"),
    ("instance under a resource path", (3, 0, 9), "080003C10964"),
    ("no object in the path", (), "080003C10964"),
]


@pytest.mark.parametrize("name,base,hexdata", BAD, ids=[b[0] for b in BAD])
def test_bad_input_raises_decode_error(name, base, hexdata):
    with pytest.raises(DecodeError):
        tlv.decode(h(hexdata), base, lambda p: type_of(p) or float_type(p))


# ----------------------------------------------------------------- Hypothesis round trips

VALUE_STRATEGIES = {
    T_STRING: st.text(max_size=40),
    T_CORELNK: st.text(max_size=40),
    T_INTEGER: st.integers(INT64_MIN, INT64_MAX),
    T_TIME: st.integers(INT64_MIN, INT64_MAX),
    T_UNSIGNED: st.integers(0, UINT64_MAX),
    T_FLOAT: st.one_of(st.floats(allow_nan=False), st.floats(width=32, allow_nan=False)),
    T_BOOLEAN: st.booleans(),
    T_OPAQUE: st.binary(max_size=300),
    T_OBJLNK: st.builds(Objlnk, st.integers(0, 0xFFFF), st.integers(0, 0xFFFF)),
}
ids = st.integers(0, 0xFFFF)


@st.composite
def objects(draw):
    """An object: resource types, then instances of single and multiple resources."""
    oid = draw(ids)
    types = draw(st.dictionaries(ids, st.sampled_from(sorted(VALUE_STRATEGIES)),
                                 min_size=1, max_size=5))
    multiple = {rid: draw(st.booleans()) for rid in types}
    records = []
    for iid in sorted(draw(st.sets(ids, min_size=1, max_size=3))):
        for rid in sorted(draw(st.sets(st.sampled_from(sorted(types)), min_size=1))):
            typ = types[rid]
            if not multiple[rid]:
                records.append(((oid, iid, rid), typ, draw(VALUE_STRATEGIES[typ])))
                continue
            riids = sorted(draw(st.sets(ids, max_size=3)))
            if not riids:
                records.append(((oid, iid, rid), typ, None))
            for riid in riids:
                records.append(((oid, iid, rid, riid), typ, draw(VALUE_STRATEGIES[typ])))
    return types, records


def check_round_trip(records, base, types):
    def typer(path):
        return types.get(path[2])

    big = bytearray(70000)
    n = tlv.encode_into(big, records, base)
    data = bytes(big[:n])
    # The size pass is exact: the right buffer fits, one byte less never half-succeeds.
    exact = bytearray(n)
    assert tlv.encode_into(exact, records, base) == n and bytes(exact) == data
    if n:
        with pytest.raises(BufferFull):
            tlv.encode_into(bytearray(n - 1), records, base)
    assert tlv.decode(data, base, typer) == [(r[0], r[2]) for r in records]
    return data


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(objects())
def test_round_trip_object(obj):
    types, records = obj
    check_round_trip(records, records[0][0][:1], types)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(objects())
def test_round_trip_instance_resource_and_resource_instance(obj):
    types, records = obj
    first = records[0][0]
    check_round_trip([r for r in records if r[0][:2] == first[:2]], first[:2], types)
    one_resource = [r for r in records if r[0][:3] == first[:3]]
    check_round_trip(one_resource, first[:3], types)
    if len(first) == 4:
        check_round_trip(records[:1], first, types)


def test_nan_survives_as_float64():
    buf = bytearray(16)
    n = tlv.encode_into(buf, [((3303, 0, 1), T_FLOAT, math.nan)], (3303, 0, 1))
    assert n == 11
    assert math.isnan(tlv.decode(buf[:n], (3303, 0, 1), float_type)[0][1])
    n = tlv.encode_into(buf, [((3303, 0, 1), T_FLOAT, math.inf)], (3303, 0, 1))
    assert n == 6 and struct.unpack(">f", bytes(buf[2:6]))[0] == math.inf


# ------------------------------------------------------------------------- fuzzing

BASES = [(), (3,), (3, 0), (3, 0, 6), (3, 0, 6, 0), (66,), (65, 0), (1, 0, 6)]
ALL_TYPES = [None, T_NONE] + sorted(VALUE_STRATEGIES)


def decode_only_decode_error(data, base, typ):
    try:
        out = tlv.decode(data, base, lambda p: typ)
    except DecodeError:
        return
    assert isinstance(out, list)


@settings(max_examples=500)
@given(st.binary(max_size=64), st.sampled_from(BASES), st.sampled_from(ALL_TYPES))
def test_fuzz_random_bytes(data, base, typ):
    decode_only_decode_error(data, base, typ)


@settings(max_examples=500)
@given(st.sampled_from(VECTORS), st.data())
def test_fuzz_mutated_vectors(vector, data):
    wire = bytearray(vector[2])
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        pos = data.draw(st.integers(0, max(len(wire) - 1, 0)))
        if op == "flip" and wire:
            wire[pos] ^= data.draw(st.integers(1, 255))
        elif op == "insert":
            wire.insert(pos, data.draw(st.integers(0, 255)))
        elif op == "delete" and wire:
            del wire[pos]
        else:
            del wire[pos:]
    base = data.draw(st.sampled_from(BASES + [vector[1]]))
    try:
        tlv.decode(bytes(wire), base, type_of if base and base[0] in TYPES else None)
    except DecodeError:
        pass
