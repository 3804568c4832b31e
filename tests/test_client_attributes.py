"""Write-Attributes parsing and the per-server attribute store (C1.1 sections 5.1, 6.3.4)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lwm2m_client.core.client.attributes import (
    ATTR_ORDER,
    MAX_INT_ATTR,
    AttributeStore,
    check_consistency,
    parse_query,
)
from lwm2m_client.core.dm import types as t
from lwm2m_client.core.errors import BadRequest, InternalServerError, MethodNotAllowed

# -- parse_query ----------------------------------------------------------------------


def test_parse_brief_example() -> None:
    parsed = parse_query(["pmin=10", "pmax=60", "gt=50.5", "lt", "st=1"])
    assert parsed == {"pmin": 10, "pmax": 60, "gt": 50.5, "lt": None, "st": 1.0}
    assert type(parsed["pmin"]) is int and type(parsed["st"]) is float


def test_parse_every_attribute() -> None:
    parsed = parse_query([
        "pmin=0", "pmax=86400", "gt=-3", "lt=-10.25", "st=0.5", "epmin=1", "epmax=30",
        "edge=1", "con=0", "hqmax=12",
    ])
    assert parsed == {
        "pmin": 0, "pmax": 86400, "gt": -3.0, "lt": -10.25, "st": 0.5, "epmin": 1,
        "epmax": 30, "edge": 1, "con": 0, "hqmax": 12,
    }
    assert set(parsed) == set(ATTR_ORDER)


def test_parse_accepts_bytes() -> None:
    assert parse_query([b"pmin=5", bytearray(b"gt=1.5"), memoryview(b"con")]) == {
        "pmin": 5, "gt": 1.5, "con": None,
    }


@pytest.mark.parametrize("text, value", [
    ("1", 1.0), ("-3", -3.0), ("+2.5", 2.5), (".5", 0.5), ("5.", 5.0), ("1e3", 1000.0),
    ("1E-2", 0.01), ("-0", 0.0), ("42.2", 42.2), ("6.02e+23", 6.02e23),
])
def test_parse_float_forms(text: str, value: float) -> None:
    assert parse_query(["gt=" + text]) == {"gt": value}


@pytest.mark.parametrize("query", [
    # PROPERTIES attributes are read-only (C1.1 section 5.1.1); unknown names.
    "dim=2", "ssid=1", "uri=coap://x", "ver=1.1", "lwm2m=1.1", "foo=1", "PMIN=1", "",
    "=1", "dim",
    # Malformed values.
    "pmin=", "pmin=-1", "pmin=1.5", "pmin=abc", "pmin= 1", "pmin=0x10", "pmin=1e3",
    f"pmax={MAX_INT_ATTR + 1}", "epmax=99999999999", "hqmax=+1",
    "gt=", "gt=nan", "gt=inf", "gt=-Infinity", "gt=1e999", "gt=1_0", "gt= 1",
    "gt=.", "gt=e5", "gt=1e", "gt=1e+", "gt=--1", "gt=1-2", "gt=1.2.3", "gt=0x1",
    "lt=5 ", "st=-1", "st=-0.001",
    "edge=2", "edge=true", "edge=", "con=01", "con=-0",
])
def test_parse_rejects(query: str) -> None:
    with pytest.raises(BadRequest):
        parse_query([query])


def test_parse_rejects_repeats_and_empty() -> None:
    with pytest.raises(BadRequest):
        parse_query(["pmin=1", "pmin=2"])
    with pytest.raises(BadRequest):
        parse_query(["pmin", "pmin=1"])
    # A PUT with neither payload nor query: not a Write-Attributes.
    with pytest.raises(BadRequest):
        parse_query([])
    with pytest.raises(BadRequest):
        parse_query([b"\xff\xfe=1"])


_TEXT = st.text(alphabet="pmingaxtlsedcohq=0123456789.-+eE _\x00é", max_size=14)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(_TEXT, st.text(max_size=12), st.binary(max_size=12)), max_size=5))
def test_parse_fuzz_only_bad_request(queries: list) -> None:
    try:
        parsed = parse_query(queries)
    except BadRequest:
        return
    assert parsed and set(parsed) <= set(ATTR_ORDER)
    for value in parsed.values():
        assert value is None or isinstance(value, (int, float))
        if isinstance(value, float):
            assert math.isfinite(value)


_INT = st.integers(0, MAX_INT_ATTR)
_FLOAT = st.floats(allow_nan=False, allow_infinity=False, width=64)
_VALUES = {
    "pmin": _INT, "pmax": _INT, "epmin": _INT, "epmax": _INT, "hqmax": _INT,
    "gt": _FLOAT, "lt": _FLOAT, "st": _FLOAT.map(abs), "edge": st.sampled_from([0, 1]),
    "con": st.sampled_from([0, 1]),
}
_ATTRS = st.fixed_dictionaries({}, optional={
    name: st.one_of(st.none(), strat) for name, strat in _VALUES.items()
})


def _queries(attrs: dict) -> list[str]:
    return [name if value is None else f"{name}={value!r}" for name, value in attrs.items()]


@settings(max_examples=300, deadline=None)
@given(_ATTRS.filter(bool))
def test_parse_round_trip(attrs: dict) -> None:
    parsed = parse_query(_queries(attrs))
    assert parsed == attrs
    for name, value in parsed.items():
        if value is not None:
            assert type(value) is (float if name in ("gt", "lt", "st") else int)


# -- AttributeStore -------------------------------------------------------------------


def test_write_get_unset() -> None:
    store = AttributeStore()
    store.write(1, (3, 0), parse_query(["pmin=10", "pmax=60"]))
    assert store.get(1, (3, 0)) == {"pmin": 10, "pmax": 60}
    assert store.get(1, [3, 0]) == {"pmin": 10, "pmax": 60}
    assert store.get(2, (3, 0)) == {}
    assert store.get(1, (3,)) == {}
    store.write(1, (3, 0), parse_query(["pmin", "pmax=30"]))
    assert store.get(1, (3, 0)) == {"pmax": 30}
    # get returns a copy.
    store.get(1, (3, 0))["pmax"] = 1
    assert store.get(1, (3, 0)) == {"pmax": 30}
    store.write(1, (3, 0), {"pmax": None})
    assert store.get(1, (3, 0)) == {} and len(store) == 0
    # Unsetting what is not set is fine and stores nothing.
    store.write(1, (3, 0, 1), {"pmin": None})
    assert len(store) == 0


@pytest.mark.parametrize("path, attrs, typ", [
    ((3,), {"pmin": 1, "pmax": 2, "epmin": 1, "epmax": 2, "con": 1, "hqmax": 3}, None),
    ((3, 0), {"pmin": 1, "pmax": 2, "epmin": 1, "epmax": 2, "con": 0, "hqmax": 3}, None),
    ((3, 0, 7), {"pmin": 1, "gt": 5.0, "lt": 1.0, "st": 1.0}, t.T_INTEGER),
    ((3, 0, 7), {"gt": 5.0}, t.T_UNSIGNED),
    ((3, 0, 7), {"lt": 5.0}, t.T_FLOAT),
    ((3, 0, 13), {"st": 60.0}, t.T_TIME),
    ((3, 0, 7, 1), {"lt": 45.0, "pmin": 2, "epmax": 9}, t.T_INTEGER),
    ((9, 0, 1), {"edge": 1, "con": 1}, t.T_BOOLEAN),
    ((9, 0, 1, 0), {"edge": 0}, t.T_BOOLEAN),
    ((9, 0, 0), {"pmin": 5, "pmax": 10, "hqmax": 2}, t.T_STRING),
])
def test_level_rules_accept(path: tuple, attrs: dict, typ: int | None) -> None:
    store = AttributeStore()
    store.write(7, path, attrs, typ)
    assert store.get(7, path) == attrs


@pytest.mark.parametrize("path, attrs, typ", [
    ((3,), {"gt": 1.0}, None),
    ((3, 0), {"lt": 1.0}, None),
    ((3, 0), {"st": None}, None),  # even unsetting names the wrong level
    ((3, 0), {"edge": 1}, None),
    ((3,), {"edge": None}, None),
    ((3, 0, 0), {"gt": 1.0}, t.T_STRING),
    ((3, 0, 0), {"st": 1.0}, t.T_OPAQUE),
    ((3, 0, 0), {"lt": 1.0}, t.T_BOOLEAN),
    ((3, 0, 0), {"gt": 1.0}, t.T_OBJLNK),
    ((3, 0, 0), {"gt": 1.0}, None),  # type unknown: cannot be checked numeric
    ((3, 0, 0), {"edge": 1}, t.T_INTEGER),
    ((3, 0, 0, 1), {"edge": 0}, t.T_STRING),
    ((3, 0, 0), {"edge": 1}, None),
])
def test_level_rules_reject(path: tuple, attrs: dict, typ: int | None) -> None:
    store = AttributeStore()
    with pytest.raises(BadRequest):
        store.write(1, path, attrs, typ)
    assert len(store) == 0


def test_paths_outside_levels() -> None:
    store = AttributeStore()
    with pytest.raises(MethodNotAllowed):
        store.write(1, (), {"pmin": 1})
    with pytest.raises(MethodNotAllowed):
        store.write(1, (3, 0, 1, 0, 0), {"pmin": 1})
    with pytest.raises(BadRequest):
        store.write(1, (3, 0), {})


@pytest.mark.parametrize("attrs", [
    {"gt": 10.0, "lt": 10.0},
    {"gt": 10.0, "lt": 20.0},
    {"gt": 10.0, "lt": 4.0, "st": 3.0},  # 4 + 6 == 10: must be strictly below
    {"gt": -1.0, "lt": -5.0, "st": 2.5},
    {"epmin": 5, "epmax": 5},
    {"epmin": 6, "epmax": 5},
])
def test_inconsistent_request(attrs: dict) -> None:
    store = AttributeStore()
    with pytest.raises(BadRequest):
        store.write(1, (3, 0, 7), attrs, t.T_FLOAT)
    with pytest.raises(BadRequest):
        check_consistency(attrs)
    assert store.get(1, (3, 0, 7)) == {}


def test_consistent_request() -> None:
    store = AttributeStore()
    store.write(1, (3, 0, 7), {"gt": 10.0, "lt": 3.9, "st": 3.0, "epmin": 1, "epmax": 2},
                t.T_FLOAT)
    # st alone, gt with st, epmin alone: nothing to compare.
    store.write(1, (3, 0, 8), {"st": 100.0, "gt": 1.0, "epmin": 50}, t.T_FLOAT)
    assert store.get(1, (3, 0, 8)) == {"st": 100.0, "gt": 1.0, "epmin": 50}


def test_merged_result_is_validated_all_or_nothing() -> None:
    store = AttributeStore()
    store.write(1, (3, 0, 7), {"gt": 50.0, "pmin": 5}, t.T_INTEGER)
    # lt=60 alone is valid, but not with the stored gt=50.
    with pytest.raises(BadRequest):
        store.write(1, (3, 0, 7), {"lt": 60.0, "pmin": 9, "pmax": 1}, t.T_INTEGER)
    assert store.get(1, (3, 0, 7)) == {"gt": 50.0, "pmin": 5}
    store.write(1, (3, 0, 7), {"lt": 40.0}, t.T_INTEGER)
    with pytest.raises(BadRequest):
        store.write(1, (3, 0, 7), {"st": 5.0}, t.T_INTEGER)  # 40 + 10 = 50
    # Unsetting gt in the same request makes the new lt acceptable.
    store.write(1, (3, 0, 7), {"gt": None, "lt": 60.0}, t.T_INTEGER)
    assert store.get(1, (3, 0, 7)) == {"pmin": 5, "lt": 60.0}
    store.write(1, (3, 0), {"epmax": 10})
    with pytest.raises(BadRequest):
        store.write(1, (3, 0), {"epmin": 10})
    assert store.get(1, (3, 0)) == {"epmax": 10}


def test_pmax_below_pmin_is_stored() -> None:
    # Not an error: the notification logic ignores pmax then (C1.1 section 5.1.1).
    store = AttributeStore()
    store.write(1, (3, 0), parse_query(["pmin=60", "pmax=10"]))
    assert store.get(1, (3, 0)) == {"pmin": 60, "pmax": 10}


def test_capacity_is_enforced() -> None:
    store = AttributeStore(capacity=2)
    store.write(1, (3,), {"pmin": 1})
    store.write(2, (3,), {"pmin": 2})
    with pytest.raises(InternalServerError) as info:
        store.write(1, (3, 0), {"pmin": 3})
    assert info.value.code == 0xA0
    assert store.get(1, (3, 0)) == {} and len(store) == 2
    store.write(1, (3,), {"pmax": 9})  # an existing entry can still change
    assert store.get(1, (3,)) == {"pmin": 1, "pmax": 9}
    store.write(2, (3,), {"pmin": None})  # unsetting frees the entry
    store.write(1, (3, 0), {"pmin": 3})
    assert len(store) == 2 and "2/2" in repr(store)


def test_effective_precedence() -> None:
    store = AttributeStore()
    store.write(1, (3,), {"pmin": 1, "pmax": 100, "con": 1})
    store.write(1, (3, 0), {"pmin": 2, "epmax": 50})
    store.write(1, (3, 0, 7), {"pmin": 3, "gt": 9.0}, t.T_INTEGER)
    store.write(1, (3, 0, 7, 1), {"pmin": 4}, t.T_INTEGER)
    store.write(2, (3, 0, 7), {"pmin": 99}, t.T_INTEGER)
    defaults = {"pmin": 0, "pmax": 300}
    assert store.effective(1, (3, 0, 7, 1), defaults) == {
        "pmin": 4, "pmax": 100, "con": 1, "epmax": 50, "gt": 9.0}
    assert store.effective(1, (3, 0, 7, 0), defaults)["pmin"] == 3
    assert store.effective(1, (3, 0, 7), defaults)["pmin"] == 3
    assert store.effective(1, (3, 0, 6), defaults) == {
        "pmin": 2, "pmax": 100, "con": 1, "epmax": 50}
    assert store.effective(1, (3, 1), defaults) == {"pmin": 1, "pmax": 100, "con": 1}
    assert store.effective(1, (4, 0, 1), defaults) == defaults
    assert store.effective(2, (3, 0, 7, 1), defaults) == {"pmin": 99, "pmax": 300}
    assert store.effective(3, (3,)) == {}
    assert defaults == {"pmin": 0, "pmax": 300}


def test_drop_path_and_server() -> None:
    store = AttributeStore()
    for ssid in (1, 2):
        store.write(ssid, (3,), {"pmin": 1})
        store.write(ssid, (3, 0), {"pmin": 1})
        store.write(ssid, (3, 0, 1), {"pmin": 1}, t.T_STRING)
        store.write(ssid, (3, 0, 6, 0), {"gt": 1.0}, t.T_INTEGER)
        store.write(ssid, (3, 1), {"pmin": 1})
        store.write(ssid, (30, 0), {"pmin": 1})
    store.drop_path((3, 0))
    for ssid in (1, 2):
        assert store.get(ssid, (3, 0)) == {} and store.get(ssid, (3, 0, 1)) == {}
        assert store.get(ssid, (3, 0, 6, 0)) == {}
        assert store.get(ssid, (3,)) and store.get(ssid, (3, 1)) and store.get(ssid, (30, 0))
    assert len(store) == 6
    store.drop_path((3, 1, 0))  # nothing below: no change
    assert len(store) == 6
    store.drop_server(1)
    assert len(store) == 3 and store.get(1, (3,)) == {} and store.get(2, (3,)) == {"pmin": 1}


# -- the store under random request sequences -----------------------------------------

_PATHS = [(3,), (3, 0), (3, 0, 7), (3, 0, 7, 1), (3, 0, 1), (4, 0, 2)]
_TYPES = {(3, 0, 7): t.T_FLOAT, (3, 0, 7, 1): t.T_FLOAT, (3, 0, 1): t.T_BOOLEAN,
          (4, 0, 2): t.T_INTEGER}
_SMALL_FLOAT = st.integers(-20, 20).map(float)
_SMALL = {
    "pmin": st.integers(0, 5), "pmax": st.integers(0, 5), "epmin": st.integers(0, 5),
    "epmax": st.integers(0, 5), "hqmax": st.integers(0, 5), "gt": _SMALL_FLOAT,
    "lt": _SMALL_FLOAT, "st": st.integers(0, 5).map(float), "edge": st.sampled_from([0, 1]),
    "con": st.sampled_from([0, 1]),
}
_REQUEST = st.tuples(
    st.sampled_from([1, 2]), st.sampled_from(_PATHS),
    st.fixed_dictionaries({}, optional={
        name: st.one_of(st.none(), strat) for name, strat in _SMALL.items()}),
)


def _snapshot(store: AttributeStore) -> dict:
    return {(s, p): store.get(s, p) for s in (1, 2) for p in _PATHS}


@settings(max_examples=300, deadline=None)
@given(st.lists(_REQUEST, max_size=12), st.integers(1, 8))
def test_store_invariants(requests: list, capacity: int) -> None:
    store = AttributeStore(capacity)
    for ssid, path, parsed in requests:
        before = _snapshot(store)
        try:
            store.write(ssid, path, parsed, _TYPES.get(path))
        except (BadRequest, InternalServerError):
            assert _snapshot(store) == before  # all or nothing
            continue
        expected = dict(before[(ssid, path)])
        for name, value in parsed.items():
            if value is None:
                expected.pop(name, None)
            else:
                expected[name] = value
        assert store.get(ssid, path) == expected
        others = {k: v for k, v in _snapshot(store).items() if k != (ssid, path)}
        assert others == {k: v for k, v in before.items() if k != (ssid, path)}
    assert len(store) <= capacity
    for attrs in _snapshot(store).values():
        check_consistency(attrs)
