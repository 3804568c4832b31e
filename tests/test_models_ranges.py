"""RangeEnumeration parsing: the shapes that occur in the OMA registry, and never raising."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lwm2m_client.core.dm import types as t
from lwm2m_client.core.dm.model import Range
from lwm2m_client.models.ranges import parse_range

CASES = [
    # (text, type, kind, lo, hi, values)
    ("0..3", t.T_INTEGER, "num", 0, 3, None),
    ("1...15", t.T_INTEGER, "num", 1, 15, None),
    ("0-100", t.T_INTEGER, "num", 0, 100, None),
    ("1-65534", t.T_INTEGER, "num", 1, 65534, None),
    ("-110..-48", t.T_INTEGER, "num", -110, -48, None),
    ("-30..-120", t.T_INTEGER, "num", -120, -30, None),  # written high to low
    ("0..18446744073709551615", t.T_UNSIGNED, "num", 0, 18446744073709551615, None),
    ("-1..1", t.T_FLOAT, "num", -1.0, 1.0, None),
    ("0.000001..1.0", t.T_FLOAT, "num", 0.000001, 1.0, None),
    ("0.00..100.00", t.T_FLOAT, "num", 0.0, 100.0, None),
    ("0,1,2", t.T_INTEGER, "enum", None, None, (0, 1, 2)),
    ("5, 10, 15, 20", t.T_INTEGER, "enum", None, None, (5, 10, 15, 20)),
    ("0: RELEASED\n\t\t1: PRESSED\n\t\t2: FAULT", t.T_UNSIGNED, "enum", None, None, (0, 1, 2)),
    ("0..255", t.T_STRING, "len", 0, 255, None),
    ("0..255 bytes", t.T_STRING, "len", 0, 255, None),
    ("0-255 bytes", t.T_STRING, "len", 0, 255, None),
    ("1..64 Bytes", t.T_STRING, "len", 1, 64, None),
    ("32 bytes", t.T_STRING, "len", 0, 32, None),
    ("15", t.T_STRING, "len", 0, 15, None),
    ("16,32,48", t.T_OPAQUE, "len", 16, 48, None),
    ("10 or 26 Bytes", t.T_STRING, "len", 10, 26, None),
    ("1 bytes", t.T_INTEGER, "len", 0, 1, None),
]


@pytest.mark.parametrize("text,typ,kind,lo,hi,values", CASES)
def test_registry_shapes(text, typ, kind, lo, hi, values):
    r = parse_range(text, typ)
    assert (r.kind, r.lo, r.hi, r.values) == (kind, lo, hi, values)
    assert r.text == text.strip()


def test_integer_bounds_are_ints_and_float_bounds_floats():
    assert type(parse_range("0..100", t.T_INTEGER).hi) is int
    assert type(parse_range("0..100", t.T_FLOAT).hi) is float
    assert type(parse_range("0.0..86400.0", t.T_INTEGER).hi) is int
    assert parse_range("3.8..20.5", t.T_INTEGER).lo == 3.8


@pytest.mark.parametrize("text,typ", [
    ("<7 to >12.5", t.T_INTEGER),
    ("8-Bits", t.T_INTEGER),
    ("16-bit", t.T_INTEGER),
    ("2 Instances", t.T_INTEGER),
    ("0..247, 255", t.T_INTEGER),
    ("0; 3.8..20.5", t.T_FLOAT),
    ("ON;OFF", t.T_FLOAT),
    ("[1:4]", t.T_INTEGER),
    ("255", t.T_INTEGER),  # a maximum or the only value: not knowable
    ("16-32-48 bytes", t.T_OPAQUE),
    ("0..65535", t.T_BOOLEAN),
    ("The possible values are those listed in the LwM2M Core Specification", t.T_STRING),
])
def test_unreadable_ranges_keep_their_text(text, typ):
    r = parse_range(text, typ)
    assert r.kind == "text"
    assert r.text == text
    assert r.check(typ, 12345) if typ != t.T_STRING else r.check(typ, "x" * 300)


@pytest.mark.parametrize("text", [None, "", "  \n\t "])
def test_empty_is_none(text):
    assert parse_range(text, t.T_INTEGER) is None


def test_checks_follow_the_range():
    state = parse_range("0..3", t.T_INTEGER)
    assert state.check(t.T_INTEGER, 3) and not state.check(t.T_INTEGER, 4)
    uri = parse_range("0..255", t.T_STRING)
    assert uri.check(t.T_STRING, "c" * 255) and not uri.check(t.T_STRING, "c" * 256)
    # The length of a String is counted in UTF-8 bytes.
    assert not uri.check(t.T_STRING, "\u00e9" * 128)
    keys = parse_range("16,32,48", t.T_OPAQUE)
    assert keys.check(t.T_OPAQUE, b"k" * 32) and not keys.check(t.T_OPAQUE, b"k" * 49)
    enum = parse_range("0,1,2", t.T_INTEGER)
    assert enum.check(t.T_INTEGER, 2) and not enum.check(t.T_INTEGER, 3)
    pf = parse_range("-1..1", t.T_FLOAT)
    assert pf.check(t.T_FLOAT, -0.5) and not pf.check(t.T_FLOAT, 1.01)


_TYPES = st.sampled_from(range(len(t.TYPE_NAMES)))


@settings(max_examples=400)
@given(st.text(max_size=40), _TYPES)
def test_never_raises(text, typ):
    r = parse_range(text, typ)
    assert r is None or isinstance(r, Range)
    if r is not None:
        assert r.text == text.strip()
        assert r.kind in ("num", "enum", "len", "text")


@settings(max_examples=300)
@given(st.integers(-10**6, 10**6), st.integers(-10**6, 10**6),
       st.sampled_from(["..", "...", "-", " .. "]))
def test_integer_intervals(a, b, sep):
    r = parse_range(f"{a}{sep}{b}", t.T_INTEGER)
    assert (r.kind, r.lo, r.hi) == ("num", min(a, b), max(a, b))
    assert r.check(t.T_INTEGER, a) and r.check(t.T_INTEGER, b)
    assert not r.check(t.T_INTEGER, max(a, b) + 1)
