"""The plain-data codec lwm2m_client.core.statecodec against cbor2 as the oracle.

The same vectors run under MicroPython in tests/mp/mp_persist_codec.py."""

from __future__ import annotations

import math
import struct
from typing import Any

import cbor2
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from lwm2m_client.core import statecodec
from lwm2m_client.core.errors import BufferFull, DecodeError, UsageError

KEYS = st.one_of(st.integers(-(1 << 64), (1 << 64) - 1), st.text(max_size=8))
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),  # unbounded: > 64 bits become bignum tags
    st.integers(-(1 << 65), 1 << 65),
    st.text(),
    st.binary(),
)
FLOATS = st.floats(allow_nan=False)


def plain(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, max_size=5),
        st.lists(children, max_size=5).map(tuple),
        st.dictionaries(KEYS, children, max_size=5),
    )


VALUES = st.recursive(SCALARS, plain, max_leaves=25)
VALUES_WITH_FLOATS = st.recursive(st.one_of(SCALARS, FLOATS), plain, max_leaves=25)


def normal(value: Any) -> Any:
    """What a value reads back as: tuples become lists, bytes-likes bytes."""
    if isinstance(value, (list, tuple)):
        return [normal(v) for v in value]
    if isinstance(value, dict):
        return {k: normal(v) for k, v in value.items()}
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    return value


def same(a: Any, b: Any) -> bool:
    """Equal and of the same types all the way down (1 == True == 1.0 would not do);
    floats compared bit for bit (-0.0 is not 0.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        if list(a) != list(b):
            return False
        keys_alike = all(type(k) is type(k2) for k, k2 in zip(a, b, strict=True))
        return keys_alike and all(same(a[k], b[k]) for k in a)
    if isinstance(a, float):
        return struct.pack(">d", a) == struct.pack(">d", b)
    return bool(a == b)


def depth(value: Any) -> int:
    """Levels of containers, bignum tags counting as one (the reader's count)."""
    if isinstance(value, (list, tuple)):
        return 1 + max((depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, int) and not -(1 << 64) <= value < 1 << 64:
        return 1
    return 0


@given(VALUES)
def test_round_trip_and_cbor2_agree_byte_for_byte(value: Any) -> None:
    assume(depth(value) <= statecodec.MAX_DEPTH)
    data = statecodec.dumps(value)
    # Without floats, both write the same preferred serialization (RFC 8949 4.2.2).
    assert data == cbor2.dumps(value)
    assert same(statecodec.loads(data), normal(value))
    assert same(cbor2.loads(data), normal(value))


@given(VALUES_WITH_FLOATS)
def test_round_trip_with_floats_both_ways(value: Any) -> None:
    assume(depth(value) <= statecodec.MAX_DEPTH)
    data = statecodec.dumps(value)
    assert same(statecodec.loads(data), normal(value))
    assert same(cbor2.loads(data), normal(value))  # cbor2 reads ours
    assert same(statecodec.loads(cbor2.dumps(value)), normal(value))  # we read cbor2's


@given(st.floats())
def test_floats_take_the_shortest_exact_form(f: float) -> None:
    data = statecodec.dumps(f)
    assert data == cbor2.dumps(f, canonical=True)
    back = statecodec.loads(data)
    assert (math.isnan(back) and math.isnan(f)) or same(back, f)


@given(st.binary(max_size=60))
def test_loads_raises_only_decode_error(data: bytes) -> None:
    try:
        value = statecodec.loads(data)
    except DecodeError:
        return
    statecodec.dumps(value)  # whatever it accepts is plain data again


# RFC 8949 Appendix A, the items this codec carries.
VECTORS = [
    (0, "00"), (23, "17"), (24, "1818"), (1000000, "1a000f4240"),
    (1000000000000, "1b000000e8d4a51000"), (18446744073709551615, "1bffffffffffffffff"),
    (18446744073709551616, "c249010000000000000000"), (-18446744073709551616,
                                                       "3bffffffffffffffff"),
    (-18446744073709551617, "c349010000000000000000"), (-1, "20"), (-1000, "3903e7"),
    (0.0, "f90000"), (-0.0, "f98000"), (1.5, "f93e00"), (100000.0, "fa47c35000"),
    (1.1, "fb3ff199999999999a"), (float("inf"), "f97c00"), (False, "f4"), (True, "f5"),
    (None, "f6"), (b"", "40"), (b"\x01\x02\x03\x04", "4401020304"), ("", "60"),
    ("IETF", "6449455446"), ("\u00fc", "62c3bc"), ([], "80"), ([1, [2, 3], [4, 5]],
                                                           "8301820203820405"),
    ({}, "a0"), ({1: 2, 3: 4}, "a201020304"), ({"a": 1, "b": [2, 3]}, "a26161016162820203"),
]


@pytest.mark.parametrize("value,hexed", VECTORS, ids=[h for _, h in VECTORS])
def test_rfc_8949_vectors(value: Any, hexed: str) -> None:
    assert statecodec.dumps(value).hex() == hexed
    assert same(statecodec.loads(bytes.fromhex(hexed)), value)


def test_nesting_limit_is_the_readers() -> None:
    value: Any = 0
    for _ in range(statecodec.MAX_DEPTH):
        value = [value]
    assert statecodec.loads(statecodec.dumps(value)) == value
    with pytest.raises(UsageError, match="nested deeper"):
        statecodec.dumps([value])
    with pytest.raises(DecodeError):
        statecodec.loads(cbor2.dumps([value]))
    bignum: Any = 1 << 64
    for _ in range(statecodec.MAX_DEPTH - 1):
        bignum = [bignum]
    assert statecodec.loads(statecodec.dumps(bignum)) == bignum
    with pytest.raises(UsageError):
        statecodec.dumps([bignum])
    with pytest.raises(UsageError):
        statecodec.dumps({"k": value})


@pytest.mark.parametrize("value", [
    {1.5: 1}, {True: 1}, {None: 1}, {(1, 2): 3}, {1 << 64: 1}, {-(1 << 64) - 1: 1},
    {1, 2}, object(), 1j, [bytes, 1], {"ok": {b"k": 1}},
])
def test_values_it_cannot_carry_are_usage_errors(value: Any) -> None:
    with pytest.raises(UsageError):
        statecodec.dumps(value)


@pytest.mark.parametrize("hexed", [
    "",  # nothing
    "0000",  # trailing bytes
    "f7",  # undefined
    "c1f6",  # a tag that is no bignum
    "c26161",  # a bignum tag on text
    "a1f501",  # a bool key
    "a1f93e0001",  # a float key
    "a1820102f6",  # an array key
    "a201f601f6",  # a duplicate key
    "5f4101ff",  # fine so far ... (indefinite bytes are read)
])
def test_loads_refuses(hexed: str) -> None:
    if hexed == "5f4101ff":
        assert statecodec.loads(bytes.fromhex(hexed)) == b"\x01"
        return
    with pytest.raises(DecodeError):
        statecodec.loads(bytes.fromhex(hexed))


def test_bignums_in_maps_and_lists_are_converted() -> None:
    value = {"a": [1 << 100, {"b": -(1 << 100)}], 7: 1 << 64}
    assert statecodec.loads(cbor2.dumps(value)) == value
    assert statecodec.loads(statecodec.dumps(value)) == value


def test_limits_and_the_callers_buffer() -> None:
    value = {"pad": b"x" * 100}
    assert len(statecodec.dumps(value)) == 107
    assert statecodec.dumps(value, limit=107) == statecodec.dumps(value)
    with pytest.raises(BufferFull):
        statecodec.dumps(value, limit=106)
    buf = bytearray(200)
    end = statecodec.dump_into(buf, 3, value)
    assert bytes(buf[3:end]) == statecodec.dumps(value)
    with pytest.raises(BufferFull):
        statecodec.dump_into(bytearray(50), 0, value)
    big = list(range(20000))
    assert statecodec.loads(statecodec.dumps(big)) == big
    assert statecodec.dumps(bytearray(b"ab")) == statecodec.dumps(memoryview(b"ab")) == b"\x42ab"
