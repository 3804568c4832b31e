"""CBOR, SenML, LwM2M CBOR, LwM2M JSON and CF 60 checks that run under MicroPython too.

Spec vectors byte for byte, and a few round trips.
"""

from struct import unpack

from mpcheck import raises
from spec_vectors import (
    COMPOSITE_LWM2M_CBOR_HEX,
    COMPOSITE_RECORDS,
    DEVICE_0_LWM2M_CBOR_NESTED_HEX,
    DEVICE_LWM2M_CBOR_HEX,
    DEVICE_RECORDS,
    DEVICE_SENML_CBOR_HEX,
    DEVICE_SENML_JSON,
)

from lwm2m_client.core.content import (
    cbor,
    cbor_single,
    json_text,
    lwm2m_cbor,
    lwm2m_json,
    senml_cbor,
    senml_json,
)
from lwm2m_client.core.content.floats import SINGLE, double_bits
from lwm2m_client.core.dm.types import (
    T_BOOLEAN,
    T_FLOAT,
    T_INTEGER,
    T_OBJLNK,
    T_OPAQUE,
    T_STRING,
    Objlnk,
)
from lwm2m_client.core.errors import BufferFull, DecodeError, NotAcceptable

S = T_STRING
I = T_INTEGER  # noqa: E741


def _hex(s):
    return bytes.fromhex(s)


def _encode(mod, records, base, size=512):
    buf = bytearray(size)
    n = mod.encode_into(buf, records, base)
    return bytes(buf[:n])


def _pairs(records):
    return [(r[0], r[2]) for r in records]


def _f32(hexed):
    """The float whose IEEE-754 binary32 bits are ``hexed``: exact on every build."""
    return unpack(">f", bytes.fromhex(hexed))[0]


def _same(a, b):
    # Equal floats with the same sign, so -0.0 is not 0.0.
    return a == b and str(a)[:1] == str(b)[:1]


# (value on a single-precision build as binary32 bits, its literal on a double build,
#  shortest text (the same on both), CBOR on a single build, CBOR on a double build).
# A double build writes the shortest of half, single, double that keeps the exact value; a
# single-precision build writes the double the shortest text means, as a double build does
# (230.1, not 230.10000610351562), and a half or a single only when that is exact.
FLOAT_CASES = (
    ("4366199A", 230.1, "230.1", "FB406CC33333333333", "FB406CC33333333333"),
    ("3DCCCCCD", 0.1, "0.1", "FB3FB999999999999A", "FB3FB999999999999A"),
    ("33D6BF95", 1e-7, "1e-07", "FB3E7AD7F29ABCAF48", "FB3E7AD7F29ABCAF48"),
    ("7F7FC99E", 3.4e38, "3.4e+38", "FB47EFF933C78CDFAD", "FB47EFF933C78CDFAD"),
    ("43660000", 230.0, "230.0", "F95B30", "F95B30"),
    ("3F000000", 0.5, "0.5", "F93800", "F93800"),
    ("4B7FFFFF", 16777215.0, "16777215.0", "FA4B7FFFFF", "FA4B7FFFFF"),
    ("80000000", -0.0, "-0.0", "F98000", "F98000"),
    ("41B40000", 22.5, "22.5", "F94DA0", "F94DA0"),
    ("C0D00000", -6.5, "-6.5", "F9C680", "F9C680"),
)


def _float_case(case):
    """``(value, text, cbor hex)`` of a FLOAT_CASES row for the running build."""
    if SINGLE:
        return _f32(case[0]), case[2], case[3]
    return case[1], case[2], case[4]


def test_senml_cbor_device_vector():
    data = _encode(senml_cbor, DEVICE_RECORDS, (3, 0))
    assert data == _hex(DEVICE_SENML_CBOR_HEX)
    assert len(data) == 196
    assert senml_cbor.decode(data) == _pairs(DEVICE_RECORDS)


def test_senml_json_device_vector():
    data = _encode(senml_json, DEVICE_RECORDS, (3, 0))
    assert data == DEVICE_SENML_JSON.encode()
    assert senml_json.decode(data) == _pairs(DEVICE_RECORDS)


def test_lwm2m_cbor_vectors():
    assert _encode(lwm2m_cbor, DEVICE_RECORDS, (3, 0)) == _hex(DEVICE_LWM2M_CBOR_HEX)
    assert _encode(lwm2m_cbor, COMPOSITE_RECORDS, ()) == _hex(COMPOSITE_LWM2M_CBOR_HEX)
    got = lwm2m_cbor.decode(_hex(DEVICE_LWM2M_CBOR_HEX))
    assert sorted(got) == sorted(_pairs(DEVICE_RECORDS))
    nested = _hex(DEVICE_0_LWM2M_CBOR_NESTED_HEX)
    assert lwm2m_cbor.decode(nested) == [((3, 0, 0), "Open Mobile Alliance")]


def test_buffer_one_byte_short():
    data = _hex(DEVICE_SENML_CBOR_HEX)
    try:
        senml_cbor.encode_into(bytearray(len(data) - 1), DEVICE_RECORDS, (3, 0))
        raise AssertionError("no BufferFull")
    except BufferFull:
        pass
    assert senml_cbor.encode_into(memoryview(bytearray(len(data))), DEVICE_RECORDS, (3, 0)) == 196


def test_float_widths():
    buf = bytearray(9)
    cases = [(1.5, "F93E00"), (0.0, "F90000"), (100000.0, "FA47C35000"), (-4.0, "F9C400"),
             (65504.0, "F97BFF"), (float("inf"), "F97C00"), (float("-inf"), "F9FC00"),
             (1.1, "FB3FF199999999999A")]
    if SINGLE:
        # A single goes out as the double its shortest text means, unless it is that
        # double: 2**-24 as 5.9604645e-08, 0.33333334, 1e-45, 3.4028235e+38.
        cases += [(_f32("3F8CCCCD"), "FB3FF199999999999A"),
                  (2.0 ** -24, "FB3E7000000102F4FD"), (_f32("3EAAAAAB"), "FB3FD555555C7DDA4B"),
                  (_f32("00000001"), "FB3696D601AD376AB9"),
                  (_f32("7F7FFFFF"), "FB47EFFFFFE54DAFF8")]
    else:
        # A value a single holds exactly is a 4-byte float here.
        cases += [(_f32("3F8CCCCD"), "FA3F8CCCCD"), (_f32("00000001"), "FA00000001"),
                  (_f32("7F7FFFFF"), "FA7F7FFFFF"), (_f32("3EAAAAAB"), "FA3EAAAAAB"),
                  (2.0 ** -24, "F90001"), (2.0 ** -1074, "FB0000000000000001"),
                  (1e300, "FB7E37E43C8800759C")]
    for value, hexed in cases:
        n = cbor.write_float(buf, 0, value)
        assert bytes(buf[:n]) == _hex(hexed), value
        assert _same(cbor.loads(buf[:n]), value), value
    n = cbor.write_float(buf, 0, float("nan"))
    assert bytes(buf[:n]) == _hex("F97E00")
    nan = cbor.loads(buf[:n])
    assert nan != nan


def test_float_writer_needs_room_only_for_the_item():
    # A half fits in 3 bytes, a single in 5; BufferFull otherwise.
    assert cbor.write_float(bytearray(3), 0, 1.5) == 3
    assert cbor.write_float(bytearray(5), 0, 100000.0) == 5
    assert raises(BufferFull, cbor.write_float, bytearray(4), 0, 100000.0)
    assert raises(BufferFull, cbor.write_float, bytearray(2), 0, 1.5)
    assert raises(BufferFull, cbor.write_float, bytearray(8), 0, 0.1)


def test_cbor_reader_takes_every_float_width():
    for hexed in ("F93E00", "FA3FC00000", "FB3FF8000000000000"):
        assert cbor.loads(_hex(hexed)) == 1.5
    assert cbor.loads(_hex("FA3F8CCCCD")) == _f32("3F8CCCCD")
    assert cbor.loads(_hex("FB7FF0000000000000")) == float("inf")
    assert cbor.loads(_hex("F90001")) == 2.0 ** -24
    if SINGLE:
        # A double becomes the nearest single: 1.1 -> 0x3F8CCCCD, 1/3 -> 0x3EAAAAAB,
        # 2.5e-300 -> 0.0; beyond the single range it is refused.
        assert cbor.loads(_hex("FB3FF199999999999A")) == _f32("3F8CCCCD")
        assert cbor.loads(_hex("FB3FD5555555555555")) == _f32("3EAAAAAB")
        assert cbor.loads(_hex("FB01BAC9A7B3B7302F")) == 0.0
        assert raises(DecodeError, cbor.loads, _hex("FB7E37E43C8800759C"))
        assert raises(DecodeError, cbor.loads, _hex("FB47EFFFFFF0000000"))  # 2**128
    else:
        assert cbor.loads(_hex("FB3FF199999999999A")) == 1.1
        assert cbor.loads(_hex("FB01BAC9A7B3B7302F")) == 2.5e-300
        assert cbor.loads(_hex("FB7E37E43C8800759C")) == 1e300


def test_floats_in_senml_and_lwm2m_formats():
    for case in FLOAT_CASES:
        value, text, cbor_hex = _float_case(case)
        rec = [((3, 0, 1), T_FLOAT, value)]
        js = _encode(senml_json, rec, (3, 0, 1))
        assert js == ('[{"bn":"/3/0/1","v":%s}]' % text).encode(), js
        assert _same(senml_json.decode(js)[0][1], value), js
        data = _encode(senml_cbor, rec, (3, 0, 1))
        assert data == _hex("81A221662F332F302F3102" + cbor_hex), data
        assert _same(senml_cbor.decode(data)[0][1], value), data
        # The fast path of an instance read ({n: "<rid>", v: float} under bn "/3/0/").
        two = [((3, 0, 1), T_FLOAT, value), ((3, 0, 12), T_FLOAT, value)]
        data = _encode(senml_cbor, two, (3, 0))
        assert data == _hex("82A321652F332F302F00613102" + cbor_hex
                            + "A20062313202" + cbor_hex), data
        data = _encode(lwm2m_cbor, rec, (3, 0, 1))
        assert data == _hex("A183030001" + cbor_hex), data
        assert _same(lwm2m_cbor.decode(data)[0][1], value), data
        data = _encode(cbor_single, rec, (3, 0, 1))
        assert data == _hex(cbor_hex), data
        assert _same(cbor_single.decode(data, (3, 0, 1))[0][1], value)
        data = _encode(lwm2m_json, rec, (3, 0, 1))
        assert data == ('{"bn":"/3/0/1","e":[{"v":%s}]}' % text).encode(), data
        assert _same(lwm2m_json.decode(data)[0][1], value), data


def test_float_text_at_the_ends_of_the_range():
    # Values a single holds exactly: the text is the shortest for the build's precision;
    # in CBOR a double build writes the single, a single build the double of its text
    # unless that is the single.
    cases = (
        ("7F7FFFFF", "3.4028235e+38", "3.4028234663852886e+38", "47EFFFFFE54DAFF8"),
        ("00800000", "1.1754944e-38", "1.1754943508222875e-38", "381000000B3AEEAB"),
        ("00000001", "1e-45", "1.401298464324817e-45", "3696D601AD376AB9"),
        ("4CEB79A3", "123456790.0", "123456792.0", "419D6F3458000000"),
        ("4B800000", "16777216.0", "16777216.0", None),
    )
    for bits, single_text, double_text, double in cases:
        value = _f32(bits)
        text = single_text if SINGLE else double_text
        data = _encode(senml_json, [((3, 0, 1), T_FLOAT, value)], (3, 0, 1))
        assert data == ('[{"bn":"/3/0/1","v":%s}]' % text).encode(), data
        assert senml_json.decode(data)[0][1] == value, data
        data = _encode(senml_cbor, [((3, 0, 1), T_FLOAT, value)], (3, 0, 1))
        item = "FB" + double if SINGLE and double else "FA" + bits
        assert data == _hex("81A221662F332F302F3102" + item), data
    if not SINGLE:
        for value, text in ((1e300, "1e+300"), (2.0 ** -1074, "5e-324"),
                            (1.7976931348623157e308, "1.7976931348623157e+308")):
            data = _encode(senml_json, [((3, 0, 1), T_FLOAT, value)], (3, 0, 1))
            assert data == ('[{"bn":"/3/0/1","v":%s}]' % text).encode(), data


def test_json_numbers_at_the_build_precision():
    # What a double-precision server prints for the single 230.1 reads back as it.
    long = b'[{"n":"/3/0/1","v":230.10000610351562}]'
    got = senml_json.decode(long)[0][1]
    assert got == (_f32("4366199A") if SINGLE else 230.10000610351562)
    big = b'[{"n":"/3/0/1","v":1e300}]'
    if SINGLE:
        assert raises(DecodeError, senml_json.decode, big)
        assert senml_json.decode(b'[{"n":"/3/0/1","v":2.5e-300}]')[0][1] == 0.0
    else:
        assert senml_json.decode(big)[0][1] == 1e300


def test_double_bits_of_decimal_text():
    # Exact on every build, ties to even: the double a server reads for the text.
    for dec, hexed in (("230.1", "406CC33333333333"), ("-0.0", "8000000000000000"),
                       ("5e-324", "0000000000000001"), ("2.4703282292062327e-324", "0"),
                       ("2.4703282292062328e-324", "0000000000000001"),
                       ("2.2250738585072011e-308", "000FFFFFFFFFFFFF"),
                       ("1.7976931348623158e308", "7FEFFFFFFFFFFFFF"),
                       ("1.7976931348623159e308", "7FF0000000000000"),
                       ("-1e400", "FFF0000000000000"), ("9007199254740993", "4340000000000000"),
                       ("0.33333334", "3FD555555C7DDA4B")):
        assert double_bits(dec) == int(hexed, 16), dec


def test_reader_rejects_huge_count():
    for bad in ("9B7FFFFFFFFFFFFFFF", "BB7FFFFFFFFFFFFFFF00", "5B000000010000000041", "FF",
                "A20101", "1C", "F8"):
        try:
            cbor.loads(_hex(bad))
            raise AssertionError(bad)
        except DecodeError:
            pass


def test_round_trip_types():
    recs = [
        ((5, 0, 0), T_OPAQUE, b"\x00\xffab"),
        ((5, 0, 1), T_FLOAT, 22.5),
        ((5, 0, 2), T_FLOAT, 0.1),
        ((5, 0, 3), T_BOOLEAN, True),
        ((5, 0, 4), T_OBJLNK, Objlnk(66, 0)),
        ((5, 0, 5), I, -750),
        ((5, 0, 6), S, "caf\u00e9 \"q\" \\ \n"),
    ]
    for mod in (senml_cbor, senml_json, lwm2m_json):
        data = _encode(mod, recs, (5, 0))
        assert mod.decode(data, (5, 0), lambda p: recs[p[2]][1]) == _pairs(recs), mod
    got = lwm2m_cbor.decode(_encode(lwm2m_cbor, recs, (5, 0)), (5, 0))
    assert got[4] == ((5, 0, 4), "66:0")
    assert got[:4] == _pairs(recs)[:4]


def test_senml_timed_and_paths():
    data = (b'[{"bn":"/72/","bt":25462634,"n":"1/2","v":22.4,"t":-5},'
            b'{"n":"1/2","v":22.9,"t":-30}]')
    assert senml_json.decode_timed(data) == [((72, 1, 2), 22.4, 25462629),
                                             ((72, 1, 2), 22.9, 25462604)]
    paths = b'[{"n":"/3/0/0"},{"n":"/3/0/9"},{"n":"/1/0/1"}]'
    assert senml_json.decode_paths(paths) == [(3, 0, 0), (3, 0, 9), (1, 0, 1)]


def test_json_parser():
    assert json_text.loads(b' {"a": [1, -2.5e1, "\\ud83d\\ude00", null, true]} ') == {
        "a": [1, -25.0, "\U0001F600", None, True]}
    for bad in (b"[1,]", b"01", b'"\\ud800"', b"[" * 20 + b"]" * 20, b'{"a":1,"a":2}'):
        try:
            json_text.loads(bad)
            raise AssertionError(bad)
        except DecodeError:
            pass


def test_cbor_single():
    assert _encode(cbor_single, [((3, 0, 9), I, 100)], (3, 0, 9)) == _hex("1864")
    assert cbor_single.decode(_hex("1864"), (3, 0, 9)) == [((3, 0, 9), 100)]
    epoch = cbor_single.decode(_hex("C074323031332D30332D32315432303A30343A30305A"), (3, 0, 13))
    assert epoch == [((3, 0, 13), 1363896240)]
    assert cbor_single.decode(_hex("C11A514B67B0"), (3, 0, 13)) == [((3, 0, 13), 1363896240)]
    try:
        _encode(cbor_single, DEVICE_RECORDS[:2], (3, 0))
        raise AssertionError("two values in CF 60")
    except NotAcceptable:
        pass
