"""CBOR, SenML, LwM2M CBOR, LwM2M JSON and CF 60 checks that run under MicroPython too.

Spec vectors (LWM2M-FACTS section 11) byte for byte, and a few round trips.
"""

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
    T_TIME,
    Objlnk,
)
from lwm2m_client.core.errors import BufferFull, DecodeError, NotAcceptable

S = T_STRING
I = T_INTEGER  # noqa: E741

DEVICE = [
    ((3, 0, 0), S, "Open Mobile Alliance"),
    ((3, 0, 1), S, "Lightweight M2M Client"),
    ((3, 0, 2), S, "345000123"),
    ((3, 0, 3), S, "1.0"),
    ((3, 0, 6, 0), I, 1),
    ((3, 0, 6, 1), I, 5),
    ((3, 0, 7, 0), I, 3800),
    ((3, 0, 7, 1), I, 5000),
    ((3, 0, 8, 0), I, 125),
    ((3, 0, 8, 1), I, 900),
    ((3, 0, 9), I, 100),
    ((3, 0, 10), I, 15),
    ((3, 0, 11, 0), I, 0),
    ((3, 0, 13), T_TIME, 1367491215),
    ((3, 0, 14), S, "+02:00"),
    ((3, 0, 16), S, "U"),
]

SENML_CBOR_3_0 = (
    "90A321652F332F302F00613003744F70656E204D6F62696C6520416C6C69616E6365A20061310376"
    "4C69676874776569676874204D324D20436C69656E74A20061320369333435303030313233A20061"
    "330363312E30A20063362F300201A20063362F310205A20063372F3002190ED8A20063372F310219"
    "1388A20063382F3002187DA20063382F3102190384A2006139021864A200623130020FA200643131"
    "2F300200A200623133021A5182428FA20062313403662B30323A3030A200623136036155"
)
SENML_JSON_3_0 = (
    '[{"bn":"/3/0/","n":"0","vs":"Open Mobile Alliance"},{"n":"1","vs":"Lightweight M2M'
    ' Client"},{"n":"2","vs":"345000123"},{"n":"3","vs":"1.0"},{"n":"6/0","v":1},{"n":"'
    '6/1","v":5},{"n":"7/0","v":3800},{"n":"7/1","v":5000},{"n":"8/0","v":125},{"n":"8/'
    '1","v":900},{"n":"9","v":100},{"n":"10","v":15},{"n":"11/0","v":0},{"n":"13","v":1'
    '367491215},{"n":"14","vs":"+02:00"},{"n":"16","vs":"U"}]'
)
LWM2M_CBOR_3_0 = (
    "A1820300AD00744F70656E204D6F62696C6520416C6C69616E636501764C69676874776569676874"
    "204D324D20436C69656E7402693334353030303132330363312E3006A20001010507A200190ED801"
    "19138808A200187D011903840918640A0F0BA100000D1A5182428F0E662B30323A3030106155"
)
LWM2M_CBOR_COMPOSITE = (
    "A2820300A200744F70656E204D6F62696C6520416C6C69616E6365091864830100011A00015180"
)


def _hex(s):
    return bytes.fromhex(s)


def _encode(mod, records, base, size=512):
    buf = bytearray(size)
    n = mod.encode_into(buf, records, base)
    return bytes(buf[:n])


def _pairs(records):
    return [(r[0], r[2]) for r in records]


def test_senml_cbor_device_vector():
    data = _encode(senml_cbor, DEVICE, (3, 0))
    assert data == _hex(SENML_CBOR_3_0)
    assert len(data) == 196
    assert senml_cbor.decode(data) == _pairs(DEVICE)


def test_senml_json_device_vector():
    data = _encode(senml_json, DEVICE, (3, 0))
    assert data == SENML_JSON_3_0.encode()
    assert senml_json.decode(data) == _pairs(DEVICE)


def test_lwm2m_cbor_vectors():
    assert _encode(lwm2m_cbor, DEVICE, (3, 0)) == _hex(LWM2M_CBOR_3_0)
    composite = [((3, 0, 0), S, "Open Mobile Alliance"), ((3, 0, 9), I, 100),
                 ((1, 0, 1), I, 86400)]
    assert _encode(lwm2m_cbor, composite, ()) == _hex(LWM2M_CBOR_COMPOSITE)
    got = lwm2m_cbor.decode(_hex(LWM2M_CBOR_3_0))
    assert sorted(got) == sorted(_pairs(DEVICE))
    nested = _hex("A103A100A100744F70656E204D6F62696C6520416C6C69616E6365")
    assert lwm2m_cbor.decode(nested) == [((3, 0, 0), "Open Mobile Alliance")]


def test_buffer_one_byte_short():
    data = _hex(SENML_CBOR_3_0)
    try:
        senml_cbor.encode_into(bytearray(len(data) - 1), DEVICE, (3, 0))
        raise AssertionError("no BufferFull")
    except BufferFull:
        pass
    assert senml_cbor.encode_into(memoryview(bytearray(len(data))), DEVICE, (3, 0)) == 196


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
        _encode(cbor_single, DEVICE[:2], (3, 0))
        raise AssertionError("two values in CF 60")
    except NotAcceptable:
        pass
