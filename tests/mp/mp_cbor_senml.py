"""CBOR, SenML, LwM2M CBOR, LwM2M JSON and CF 60 checks that run under MicroPython too.

Spec vectors (LWM2M-FACTS section 11) byte for byte, and a few round trips.
"""

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
    for value, hexed in ((1.5, "F93E00"), (0.0, "F90000"), (100000.0, "FA47C35000"),
                         (1.1, "FB3FF199999999999A"), (-4.0, "F9C400")):
        n = cbor.write_float(buf, 0, value)
        assert bytes(buf[:n]) == _hex(hexed), value
        assert cbor.loads(buf[:n]) == value


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
