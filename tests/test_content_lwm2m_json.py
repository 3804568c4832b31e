"""Legacy LwM2M JSON, Content-Format 11543 (LwM2M 1.0 section 6.4.4)."""

import base64
import json

import pytest
from hypothesis import given, settings
from spec_vectors import DEVICE_RECORDS

from lwm2m_client.core.content import lwm2m_json
from lwm2m_client.core.dm.types import (
    T_BOOLEAN,
    T_CORELNK,
    T_FLOAT,
    T_INTEGER,
    T_OBJLNK,
    T_OPAQUE,
    T_STRING,
    Objlnk,
)
from lwm2m_client.core.errors import BufferFull, DecodeError, NotAcceptable
from tests.test_content_cbor import mutated
from tests.test_content_senml import senml_records

# The /3/0 example in its 1.0 form: SenML entries in "e", sv.
DEVICE_JSON = (
    b'{"bn":"/3/0/","e":[{"n":"0","sv":"Open Mobile Alliance"},{"n":"1","sv":"Lightweight M'
    b'2M Client"},{"n":"2","sv":"345000123"},{"n":"3","sv":"1.0"},{"n":"6/0","v":1},{"n":"6/'
    b'1","v":5},{"n":"7/0","v":3800},{"n":"7/1","v":5000},{"n":"8/0","v":125},{"n":"8/1","v"'
    b':900},{"n":"9","v":100},{"n":"10","v":15},{"n":"11/0","v":0},{"n":"13","v":1367491215}'
    b',{"n":"14","sv":"+02:00"},{"n":"16","sv":"U"}]}')


def encode(records, base=(), size=8192):
    buf = bytearray(size)
    n = lwm2m_json.encode_into(buf, records, base)
    return bytes(buf[:n])


def test_device_vector():
    assert encode(DEVICE_RECORDS, (3, 0)) == DEVICE_JSON
    assert lwm2m_json.decode(DEVICE_JSON) == [(r[0], r[2]) for r in DEVICE_RECORDS]


def test_buffer_one_byte_short():
    with pytest.raises(BufferFull):
        lwm2m_json.encode_into(bytearray(len(DEVICE_JSON) - 1), DEVICE_RECORDS, (3, 0))
    assert lwm2m_json.encode_into(memoryview(bytearray(len(DEVICE_JSON))), DEVICE_RECORDS, (3, 0)) \
        == len(DEVICE_JSON)


def test_single_resource_and_objlnk_forms():
    assert encode([((3, 0, 0), T_STRING, "Nordic")], (3, 0, 0)) == \
        b'{"bn":"/3/0/0","e":[{"sv":"Nordic"}]}'
    assert lwm2m_json.decode(b'{"bn":"/3/0/0","e":[{"sv":"Nordic"}]}') == [((3, 0, 0), "Nordic")]
    data = encode([((65, 0, 0, 0), T_OBJLNK, Objlnk(66, 0)), ((65, 0, 1), T_BOOLEAN, True)],
                  (65, 0))
    assert data == b'{"bn":"/65/0/","e":[{"n":"0/0","ov":"66:0"},{"n":"1","bv":true}]}'
    assert lwm2m_json.decode(data) == [((65, 0, 0, 0), Objlnk(66, 0)), ((65, 0, 1), True)]


def test_composite_has_no_bn():
    data = encode([((3, 0, 9), T_INTEGER, 100), ((1, 0, 1), T_INTEGER, 86400)])
    assert data == b'{"e":[{"n":"/3/0/9","v":100},{"n":"/1/0/1","v":86400}]}'


def test_opaque_in_sv_as_base64():
    data = encode([((5, 0, 0), T_OPAQUE, b"\x01\x02\x03\x04\x05")], (5, 0))
    assert data == b'{"bn":"/5/0/","e":[{"n":"0","sv":"AQIDBAU="}]}'
    assert lwm2m_json.decode(data, (5, 0), lambda p: T_OPAQUE) == [((5, 0, 0), b"\x01\x02\x03"
                                                                     b"\x04\x05")]
    assert lwm2m_json.decode(data) == [((5, 0, 0), "AQIDBAU=")]  # type unknown: text


def test_times_and_bt():
    data = encode([((3, 0, 9), T_FLOAT, 1.5, 7)], (3, 0))
    assert data == b'{"bn":"/3/0/","e":[{"n":"9","v":1.5,"t":7}]}'
    body = b'{"bn":"/3/0/","bt":100,"e":[{"n":"9","v":1,"t":-5}]}'
    assert lwm2m_json.decode(body, (3, 0), lambda p: T_FLOAT) == [((3, 0, 9), 1.0)]


def test_not_acceptable():
    with pytest.raises(NotAcceptable):
        encode([((3, 0, 9), T_FLOAT, float("nan"))], (3, 0))
    with pytest.raises(NotAcceptable):
        encode([((3, 0, 4), 0, b"")], (3, 0))


@pytest.mark.parametrize("body", [
    b"[]", b'{"bn":"/3/0/"}', b'{"bn":5,"e":[]}', b'{"e":{}}', b'{"e":[5]}',
    b'{"bn":"/3/0/","e":[{"n":"1"}]}',
    b'{"bn":"/3/0/","e":[{"n":"1","v":1,"sv":"x"}]}',
    b'{"bn":"/3/0/","e":[{"n":"1","v":"1"}]}',
    b'{"bn":"/3/0/","e":[{"n":"1","bv":1}]}',
    b'{"bn":"/3/0/","e":[{"n":"1","sv":1}]}',
    b'{"bn":"/3/0/","e":[{"n":"1","ov":"1"}]}',
    b'{"bn":"/3/0/","e":[{"n":1,"v":1}]}',
    b'{"bn":"/3/","e":[{"n":"0","v":1}]}',
    b'{"bn":"/3/0/","e":[{"n":"1","v":1},{"n":"1","v":2}]}',
    b'{"bn":"/3/0/","e":[{"n":"x","v":1}]}',
])
def test_decode_rejects(body):
    with pytest.raises(DecodeError):
        lwm2m_json.decode(body)


def test_opaque_sv_must_be_base64():
    with pytest.raises(DecodeError):
        lwm2m_json.decode(b'{"bn":"/5/0/","e":[{"n":"0","sv":"a b"}]}', (5, 0),
                          lambda p: T_OPAQUE)


def expected(records, base):
    entries = []
    for path, typ, value, *t in records:
        entry = {"n": "/".join(str(x) for x in path[2:])}
        if typ in (T_STRING, T_CORELNK):
            entry["sv"] = value
        elif typ == T_OPAQUE:
            entry["sv"] = base64.b64encode(value).decode()
        elif typ == T_OBJLNK:
            entry["ov"] = str(value)
        elif typ == T_BOOLEAN:
            entry["bv"] = value
        else:
            entry["v"] = value
        if t:
            entry["t"] = t[0]
        entries.append(entry)
    return {"bn": f"/{base[0]}/{base[1]}/", "e": entries}


@settings(max_examples=300)
@given(senml_records())
def test_encode_matches_json_module_and_round_trips(case):
    base, records = case
    data = encode(records, base)
    assert json.loads(data) == expected(records, base)
    kinds = {r[0][:3]: r[1] for r in records}
    assert lwm2m_json.decode(data, base, kinds.get) == [(r[0], r[2]) for r in records]
    reencoded = json.dumps(expected(records, base)).encode()
    assert lwm2m_json.decode(reencoded, base, kinds.get) == [(r[0], r[2]) for r in records]


@settings(max_examples=500)
@given(mutated([DEVICE_JSON, b'{"bn":"/5/0/","bt":5,"e":[{"n":"0","sv":"AQ==","t":1}]}',
                b'{"e":[{"n":"/65/0/0/0","ov":"66:0"},{"n":"/1/0/1","bv":false}]}']))
def test_fuzz_decode(data):
    for type_of in (None, lambda p: T_OPAQUE, lambda p: T_OBJLNK, lambda p: T_FLOAT):
        try:
            lwm2m_json.decode(data, (5, 0), type_of)
        except DecodeError:
            pass
