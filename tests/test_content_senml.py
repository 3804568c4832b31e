"""SenML CBOR (112) and SenML JSON (110), with their ETCH uses (320/322).

Spec vectors byte for byte; cbor2 and the json module as independent oracles in both
directions; Hypothesis round trips and fuzzing of both decoders.
"""

import base64
import json

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spec_vectors import (
    COMPOSITE_RECORDS,
    DEVICE_RECORDS,
    DEVICE_SENML_CBOR_HEX,
    DEVICE_SENML_JSON,
)

from lwm2m_client.core.content import json_text, senml_cbor, senml_json
from lwm2m_client.core.dm.types import (
    T_BOOLEAN,
    T_CORELNK,
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
from tests.test_content_cbor import TYPES, mutated, values_for

SENML_CBOR_3_0 = bytes.fromhex(DEVICE_SENML_CBOR_HEX)
SENML_JSON_3_0 = DEVICE_SENML_JSON.encode()

FORMATS = [senml_cbor, senml_json]
VECTORS = [(senml_cbor, SENML_CBOR_3_0), (senml_json, SENML_JSON_3_0)]


def encode(mod, records, base=(), size=8192):
    buf = bytearray(size)
    n = mod.encode_into(buf, records, base)
    return bytes(buf[:n])


def pairs(records):
    return [(r[0], r[2]) for r in records if r[2] is not None]


def pack(mod, records):
    """Encode a list of SenML records given as JSON-style dicts with the oracle."""
    if mod is senml_json:
        return json.dumps(records).encode()
    labels = {"bver": -1, "bn": -2, "bt": -3, "bu": -4, "bv": -5, "bs": -6, "n": 0, "u": 1,
              "v": 2, "vs": 3, "vb": 4, "s": 5, "t": 6, "ut": 7, "vd": 8}
    if not isinstance(records, list):
        return cbor2.dumps(records)
    return cbor2.dumps([{labels.get(k, k): v for k, v in rec.items()}
                        if isinstance(rec, dict) else rec for rec in records])


# ------------------------------------------------------------------ spec vectors


@pytest.mark.parametrize("mod,vector", VECTORS)
def test_device_vector_encode(mod, vector):
    assert encode(mod, DEVICE_RECORDS, (3, 0)) == vector


def test_device_vector_sizes_and_integer_encoding():
    assert len(SENML_CBOR_3_0) == 196
    # Integers are CBOR ints (C1.2 section 7.4.7), not floats.
    assert cbor2.loads(SENML_CBOR_3_0)[13] == {0: "13", 2: 1367491215}


@pytest.mark.parametrize("mod,vector", VECTORS)
def test_device_vector_decode(mod, vector):
    assert mod.decode(vector) == pairs(DEVICE_RECORDS)


@pytest.mark.parametrize("mod,vector", VECTORS)
def test_buffer_one_byte_short(mod, vector):
    with pytest.raises(BufferFull):
        mod.encode_into(bytearray(len(vector) - 1), DEVICE_RECORDS, (3, 0))
    with pytest.raises(BufferFull):
        mod.encode_into(memoryview(bytearray(len(vector) - 1)), DEVICE_RECORDS, (3, 0))
    assert mod.encode_into(memoryview(bytearray(len(vector))), DEVICE_RECORDS, (3, 0)) \
        == len(vector)


@pytest.mark.parametrize("records,base", [
    ([((3, 0, 0), T_STRING, "x")], (3, 0, 0)),
    ([((3, 0, 0), T_STRING, "x"), ((3, 0, 9), T_INTEGER, 100), ((1, 0, 1), T_INTEGER, 86400)],
     ()),
    ([((65, 0, 0, 0), T_OBJLNK, Objlnk(66, 0)), ((65, 0, 1), T_OPAQUE, b"\xfb\xff\x01"),
      ((65, 0, 2), T_BOOLEAN, False), ((65, 0, 3), T_FLOAT, 22.5, 1700000000)], (65, 0)),
])
@pytest.mark.parametrize("mod", FORMATS)
def test_every_prefix_of_the_buffer_is_too_short(mod, records, base):
    data = encode(mod, records, base)
    for size in range(len(data)):
        with pytest.raises(BufferFull):
            mod.encode_into(bytearray(size), records, base)
    assert mod.encode_into(bytearray(len(data)), records, base) == len(data)


def test_json_naming_forms():
    # Single resource: bn only (C1.2 Table 7.4.6-5); composite: full names, no bn.
    assert encode(senml_json, [((3, 0, 0), T_STRING, "x")], (3, 0, 0)) == \
        b'[{"bn":"/3/0/0","vs":"x"}]'
    assert encode(senml_json, COMPOSITE_RECORDS, ()) == (
        b'[{"n":"/3/0/0","vs":"Open Mobile Alliance"},{"n":"/3/0/9","v":100},'
        b'{"n":"/1/0/1","v":86400}]')
    # A multiple resource read keeps bn at the resource.
    assert encode(senml_json, DEVICE_RECORDS[4:6], (3, 0, 6)) == \
        b'[{"bn":"/3/0/6/","n":"0","v":1},{"n":"1","v":5}]'
    # Records that do not all sit below base get full names.
    assert encode(senml_json, [((4, 0, 2), T_INTEGER, -49)], (3, 0)) == \
        b'[{"n":"/4/0/2","v":-49}]'


def test_cbor_naming_forms():
    data = encode(senml_cbor, [((3, 0, 0), T_STRING, "x")], (3, 0, 0))
    assert cbor2.loads(data) == [{-2: "/3/0/0", 3: "x"}]
    data = encode(senml_cbor, [((65535, 65535, 65535, 65535), T_BOOLEAN, True)])
    assert cbor2.loads(data) == [{0: "/65535/65535/65535/65535", 4: True}]


def test_time_written_per_record():
    records = [((72, 1, 2), T_FLOAT, 22.4, 25462629), ((72, 1, 2), T_FLOAT, 22.9, -30)]
    data = encode(senml_json, records, (72,))
    assert data == (b'[{"bn":"/72/","n":"1/2","v":22.4,"t":25462629},'
                    b'{"n":"1/2","v":22.9,"t":-30}]')
    for mod in FORMATS:
        assert mod.decode_timed(encode(mod, records, (72,))) == [
            ((72, 1, 2), 22.4, 25462629), ((72, 1, 2), 22.9, -30)]


def test_empty_multiple_resource_and_empty_pack():
    records = [((3, 0, 0), T_STRING, "a"), ((3, 0, 6), T_INTEGER, None)]
    assert encode(senml_json, records, (3, 0)) == b'[{"bn":"/3/0/","n":"0","vs":"a"}]'
    assert encode(senml_cbor, [], (3,)) == b"\x80"
    assert encode(senml_json, [], (3,)) == b"[]"


@pytest.mark.parametrize("mod", FORMATS)
@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_floats_are_not_acceptable(mod, value):
    with pytest.raises(NotAcceptable):
        encode(mod, [((3, 0, 1), T_FLOAT, value)], (3, 0))


@pytest.mark.parametrize("mod", FORMATS)
def test_valueless_type_is_not_acceptable(mod):
    with pytest.raises(NotAcceptable):
        encode(mod, [((3, 0, 4), 0, b"")], (3, 0))


# ------------------------------------------------------------ decoding rules


@pytest.mark.parametrize("mod", FORMATS)
def test_spec_examples_decode(mod):
    send = [{"n": "/6/0/0", "v": 43.61092}, {"n": "/6/0/1", "v": 3.87723},
            {"n": "/4/0/2", "v": -49}]
    assert mod.decode(pack(mod, send)) == [((6, 0, 0), 43.61092), ((6, 0, 1), 3.87723),
                                           ((4, 0, 2), -49)]
    history = [{"bn": "/72/", "bt": 25462634, "n": "1/2", "v": 22.4, "t": -5},
               {"n": "1/2", "v": 22.9, "t": -30}, {"n": "1/2", "v": 24.1, "t": -50}]
    assert mod.decode_timed(pack(mod, history)) == [
        ((72, 1, 2), 22.4, 25462629), ((72, 1, 2), 22.9, 25462604), ((72, 1, 2), 24.1, 25462584)]
    objlnk = [{"bn": "/", "n": "65/0/0/0", "vlo": "66:0"},
              {"n": "65/0/0/1", "vlo": "FFFF:FFFF"}, {"n": "65/0/0/2", "vlo": "65535:65535"}]
    assert mod.decode(pack(mod, objlnk)) == [((65, 0, 0, 0), Objlnk(66, 0)),
                                             ((65, 0, 0, 1), Objlnk(65535, 65535)),
                                             ((65, 0, 0, 2), Objlnk(65535, 65535))]


@pytest.mark.parametrize("mod", FORMATS)
def test_composite_request_paths(mod):
    body = [{"n": "/3/0/0"}, {"n": "/3/0/9"}, {"n": "/1/0/1"}, {"bn": "/5/", "n": "0"},
            {"bn": "", "n": "/"}]
    assert mod.decode_paths(pack(mod, body)) == [(3, 0, 0), (3, 0, 9), (1, 0, 1), (5, 0), ()]
    with pytest.raises(DecodeError):
        mod.decode_paths(pack(mod, [{"n": "/3/x"}]))


@pytest.mark.parametrize("mod", FORMATS)
def test_etch_null_deletes(mod):
    body = [{"n": "/3/0/6/1", "v": None}, {"n": "/3/0/7/0", "vs": None}, {"n": "/3/0/9", "v": 1}]
    assert mod.decode(pack(mod, body)) == [((3, 0, 6, 1), None), ((3, 0, 7, 0), None),
                                           ((3, 0, 9), 1)]


@pytest.mark.parametrize("mod", FORMATS)
def test_base_fields(mod):
    body = [{"bver": 10, "bn": "/3/0/", "bv": 100, "n": "9", "v": 5, "u": "%", "zz": 1},
            {"bn": "/4/0/", "n": "2", "v": -49},  # repeated bn
            {"bn": "/5/0/"},  # base fields only: no value, nothing reported
            {"n": "3", "vb": True}]
    assert mod.decode(pack(mod, body)) == [((3, 0, 9), 105), ((4, 0, 2), 51), ((5, 0, 3), True)]


@pytest.mark.parametrize("mod", FORMATS)
@pytest.mark.parametrize("body", [
    [{"n": "/3/0/1", "v": 1}, {"n": "/3/0/1", "v": 2}],  # duplicate name
    [{"n": "/3/0/1", "v": 1, "vs": "x"}],  # two values
    [{"n": "/3/0/1", "v": 1, "foo_": 1}],  # must-understand field
    [{"bver": 11, "n": "/3/0/1", "v": 1}],  # newer SenML version
    [{"n": "/3/0", "v": 1}],  # value above resource level
    [{"n": "/3/0/1"}],  # no value in a write
    [{"n": "3/0/1/2/3", "v": 1}],
    [{"n": "/3/0/70000", "v": 1}],
    [{"n": "/3/0/01", "v": 1}],
    [{"n": "/a/0/1", "v": 1}],
    [{"n": "/3/0/1", "v": "1"}],
    [{"n": "/3/0/1", "vb": 1}],
    [{"n": "/3/0/1", "vs": 1}],
    [{"n": "/3/0/1", "vlo": "66"}],
    [{"n": "/3/0/1", "vlo": "66:70000"}],
    [{"n": 5, "v": 1}],
    [{"bn": 5, "n": "/3/0/1", "v": 1}],
    [{"n": "/3/0/1", "v": 1, "t": "now"}],
    [{"n": "/3/0/1", "v": True}],
    [[{"n": "/3/0/1", "v": 1}]],
    {"n": "/3/0/1", "v": 1},
])
def test_decode_rejects(mod, body):
    with pytest.raises(DecodeError):
        mod.decode(pack(mod, body))


def test_cbor_specific_rejects():
    for body in ([{0: "/3/0/1", 8: "AQ=="}],  # vd must be a byte string in CBOR
                 [{0: "/3/0/1", 2: cbor2.CBORTag(1, 5)}]):
        with pytest.raises(DecodeError):
            senml_cbor.decode(cbor2.dumps(body))
    # [{0: "/3/0/1", 2: 1, 2.0: 3}]: keys 2 and 2.0 collide, a duplicate key.
    with pytest.raises(DecodeError):
        senml_cbor.decode(bytes.fromhex("81A300662F332F302F310201F9400003"))
    # A float-typed label is not a SenML label: ignored.
    assert senml_cbor.decode(cbor2.dumps([{0: "/3/0/1", 2: 1, 3.5: 3}])) == [((3, 0, 1), 1)]


def test_json_vd_alphabets():
    for text in ("-_8", "+/8=", "+/8", "-_8="):
        body = json.dumps([{"n": "/3/0/1", "vd": text}]).encode()
        assert senml_json.decode(body) == [((3, 0, 1), b"\xfb\xff")]
    with pytest.raises(DecodeError):
        senml_json.decode(b'[{"n":"/3/0/1","vd":"a b"}]')
    with pytest.raises(DecodeError):
        senml_json.decode(b'[{"n":"/3/0/1","vd":5}]')


@pytest.mark.parametrize("mod", FORMATS)
def test_type_of_refines_numbers(mod):
    kinds = {1: T_FLOAT, 2: T_INTEGER, 3: T_UNSIGNED, 4: T_TIME, 5: T_OBJLNK, 6: T_INTEGER}
    body = [{"n": "/9/0/1", "v": 3}, {"n": "/9/0/2", "v": 7.0}, {"n": "/9/0/3", "v": 8.0},
            {"n": "/9/0/4", "v": 1.7e9}, {"n": "/9/0/5/0", "vlo": "66:0"},
            {"n": "/9/0/6", "v": 7.5}]
    got = mod.decode(pack(mod, body), (), lambda p: kinds[p[2]])
    assert got == [((9, 0, 1), 3.0), ((9, 0, 2), 7), ((9, 0, 3), 8), ((9, 0, 4), 1700000000),
                   ((9, 0, 5, 0), Objlnk(66, 0)), ((9, 0, 6), 7.5)]
    assert [type(v) for _p, v in got] == [float, int, int, int, Objlnk, float]


def test_json_numbers_keep_their_written_kind():
    body = b'[{"n":"/1/0/1","v":5},{"n":"/1/0/2","v":5.0},{"n":"/1/0/3","v":5e0}]'
    got = senml_json.decode(body)
    assert [type(v) for _p, v in got] == [int, float, float]


# ------------------------------------------------------------------- JSON text


@pytest.mark.parametrize("text", [
    "", " ", "[", "[1,]", "[,1]", "{}x", '{"a"}', '{"a":}', "{1:2}", "[01]", "[1.]", "[.5]",
    "[1e]", "[-]", "[+1]", "[0x10]", "[NaN]", "[Infinity]", "[1e999]", "[tru]", "[nul]",
    '["\\x"]', '["\\u12"]', '["\\ud800"]', '["\\udc00"]', '["\\ud800\\u0041"]', '["a\nb"]',
    '["a', "[" * 9 + "]" * 9, '{"a":1,"a":1}', "[1" + "0" * 80 + "]", "'a'",
])
def test_json_parser_rejects(text):
    with pytest.raises(DecodeError):
        json_text.loads(text.encode())


def test_json_parser_rejects_bad_utf8():
    with pytest.raises(DecodeError):
        json_text.loads(b'["\xc3\x28"]')


def test_json_parser_accepts():
    text = ' {"a" : [ 0 , -0.5e-3 , 1E+2, "\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00" ,' \
           ' true , false , null , {} , [] ] } '
    assert json_text.loads(text.encode()) == {
        "a": [0, -0.0005, 100.0, '"\\/\b\f\n\r\t\u00e9\U0001F600', True, False, None, {}, []]}
    assert json_text.loads(b"[" * 8 + b"]" * 8) == [[[[[[[[]]]]]]]]


@settings(max_examples=300)
@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=15), st.booleans())
def test_json_parser_matches_json_module(obj, ascii_only):
    text = json.dumps(obj, ensure_ascii=ascii_only)
    try:
        ours = json_text.loads(text.encode())
    except DecodeError:
        # Only the documented limits may refuse valid JSON: depth and number length.
        assert text.count("[") + text.count("{") > json_text.MAX_DEPTH or any(
            len(tok) > json_text.MAX_NUMBER for tok in _numbers(text))
        return
    assert ours == json.loads(text)


def _numbers(text):
    tok = ""
    for c in text + " ":
        if c in "0123456789+-.eE":
            tok += c
        else:
            if tok:
                yield tok
            tok = ""


@settings(max_examples=200)
@given(st.text())
def test_json_string_writer_matches_json_module(s):
    buf = bytearray(len(s) * 6 + 2)
    n = json_text.put_string(buf, 0, s)
    assert json.loads(bytes(buf[:n])) == s
    assert json_text.loads(buf[:n]) == s


# ----------------------------------------------------- Hypothesis: the oracles


@st.composite
def senml_records(draw):
    """(base, records): one instance's resources, some multiple, some with a time."""
    oid = draw(st.integers(0, 65534))
    iid = draw(st.integers(0, 65534))
    rids = sorted(draw(st.sets(st.integers(0, 65534), min_size=1, max_size=6)))
    records = []
    for rid in rids:
        typ = draw(st.sampled_from(TYPES))
        floats = st.floats(allow_nan=False, allow_infinity=False)
        value = values_for(typ) if typ != T_FLOAT else floats
        riids = sorted(draw(st.sets(st.integers(0, 65534), min_size=1, max_size=3))) \
            if draw(st.booleans()) else [None]
        for riid in riids:
            path = (oid, iid, rid) if riid is None else (oid, iid, rid, riid)
            rec = (path, typ, draw(value))
            if draw(st.booleans()):
                rec += (draw(st.integers(-(1 << 31), 1 << 33) | floats),)
            records.append(rec)
    return (oid, iid), records


def expected_pack(records, base, json_form):
    """The SenML structure documented in senml_common, built independently."""
    out = []
    bn = f"/{base[0]}/{base[1]}/"
    for path, typ, value, *t in records:
        rec = {}
        if not out:
            rec["bn"] = bn
        rec["n"] = "/".join(str(x) for x in path[2:])
        if typ in (T_STRING, T_CORELNK):
            rec["vs"] = value
        elif typ == T_BOOLEAN:
            rec["vb"] = value
        elif typ == T_OPAQUE:
            rec["vd"] = base64.urlsafe_b64encode(value).rstrip(b"=").decode() \
                if json_form else value
        elif typ == T_OBJLNK:
            rec["vlo"] = str(value)
        else:
            rec["v"] = value
        if t:
            rec["t"] = t[0]
        out.append(rec)
    if json_form:
        return out
    labels = {"bn": -2, "n": 0, "v": 2, "vs": 3, "vb": 4, "t": 6, "vd": 8}
    return [{labels.get(k, k): v for k, v in rec.items()} for rec in out]


def wire_pairs(records):
    return [(r[0], r[2]) for r in records]


def timed(records):
    return [(r[0], r[2], r[3] if len(r) > 3 else None) for r in records]


@settings(max_examples=300)
@given(senml_records())
def test_cbor_encode_matches_cbor2(case):
    base, records = case
    data = encode(senml_cbor, records, base)
    assert cbor2.loads(data) == expected_pack(records, base, False)


@settings(max_examples=300)
@given(senml_records(), st.booleans())
def test_cbor_decodes_cbor2_output(case, canonical):
    base, records = case
    data = cbor2.dumps(expected_pack(records, base, False), canonical=canonical)
    assert senml_cbor.decode_timed(data) == timed(records)
    assert senml_cbor.decode(data) == wire_pairs(records)


@settings(max_examples=300)
@given(senml_records())
def test_json_encode_matches_json_module(case):
    base, records = case
    data = encode(senml_json, records, base)
    assert json.loads(data) == expected_pack(records, base, True)


@settings(max_examples=300)
@given(senml_records(), st.booleans())
def test_json_decodes_json_module_output(case, ascii_only):
    base, records = case
    data = json.dumps(expected_pack(records, base, True), ensure_ascii=ascii_only).encode()
    assert senml_json.decode_timed(data) == timed(records)


@settings(max_examples=300)
@given(senml_records(), st.sampled_from(FORMATS))
def test_round_trip_with_types(case, mod):
    base, records = case
    kinds = {r[0][:3]: r[1] for r in records}
    data = encode(mod, records, base)
    got = mod.decode_timed(data, base, kinds.get)
    assert got == timed(records)
    assert [type(v) for _p, v, _t in got] == [type(r[2]) for r in records]


# -------------------------------------------------------------------------- fuzz

JSON_VALID = [SENML_JSON_3_0, b'[{"bn":"/72/","bt":25462634,"n":"1/2","v":22.4,"t":-5}]',
              b'[{"n":"/3/0/1","vd":"AQIDBAU="},{"n":"/3/0/6/1","v":null}]',
              b'[{"n":"/3/0/0"},{"n":"/3/0/9"}]', b'[{"n":"/1/0/1","vs":"\\u00e9\\ud83d\\ude00"}]']
CBOR_VALID = [SENML_CBOR_3_0, cbor2.dumps([{-2: "/72/", -3: 25462634.5, 0: "1/2", 2: 22.4}]),
              cbor2.dumps([{0: "/3/0/1", 8: b"\x01"}, {0: "/3/0/6/1", 2: None}]),
              cbor2.dumps([{0: "/3/0/0", "vlo": "1:2"}])]


def _check_decoders(mod, data):
    for call in (mod.decode, mod.decode_timed, mod.decode_paths):
        try:
            call(data)
        except DecodeError:
            pass


@settings(max_examples=500)
@given(mutated(CBOR_VALID))
def test_fuzz_senml_cbor(data):
    _check_decoders(senml_cbor, data)


@settings(max_examples=500)
@given(mutated(JSON_VALID) | st.text(alphabet='[]{}",:0123456789.eE+-nvbt/\\u ').map(str.encode))
def test_fuzz_senml_json(data):
    _check_decoders(senml_json, data)
