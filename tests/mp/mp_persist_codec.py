"""The plain-data codec for persisted state (lwm2m_client.core.statecodec) under
MicroPython: RFC 8949 Appendix A vectors byte for byte, round trips of the kinds of
state a meter keeps, the limits and the errors. (CPython checks it against cbor2 in
tests/test_persist_codec.py; the storage backends run in tests/mp/unix_persist.py.)
"""

from mpcheck import raises

from lwm2m_client.core import statecodec
from lwm2m_client.core.content.floats import SINGLE
from lwm2m_client.core.errors import BufferFull, DecodeError, UsageError

# RFC 8949 Appendix A, the items the codec carries (value, encoding).
VECTORS = (
    (0, "00"), (23, "17"), (24, "1818"), (1000000, "1a000f4240"),
    (1000000000000, "1b000000e8d4a51000"), (18446744073709551615, "1bffffffffffffffff"),
    (18446744073709551616, "c249010000000000000000"),
    (-18446744073709551616, "3bffffffffffffffff"),
    (-18446744073709551617, "c349010000000000000000"), (-1, "20"), (-1000, "3903e7"),
    (0.0, "f90000"), (1.5, "f93e00"), (100000.0, "fa47c35000"), (-4.0, "f9c400"),
    (False, "f4"), (True, "f5"), (None, "f6"), (b"", "40"),
    (b"\x01\x02\x03\x04", "4401020304"), ("", "60"), ("IETF", "6449455446"),
    ("\u00fc", "62c3bc"), ([], "80"), ([1, [2, 3], [4, 5]], "8301820203820405"),
    ({}, "a0"), ({1: 2}, "a10102"), ({"a": [2, 3]}, "a16161820203"),
)


def _same(a, b):
    """Equal and of the same types all the way down (True is not 1 here)."""
    if type(a) is not type(b):
        return False
    if type(a) is list:
        if len(a) != len(b):
            return False
        for i in range(len(a)):
            if not _same(a[i], b[i]):
                return False
        return True
    if type(a) is dict:
        if len(a) != len(b):
            return False
        for k in a:
            if k not in b or not _same(a[k], b[k]):
                return False
        return True
    return a == b


def test_rfc_8949_vectors():
    for value, hexed in VECTORS:
        data = bytes.fromhex(hexed)
        assert statecodec.dumps(value) == data, (value, statecodec.dumps(value), hexed)
        assert _same(statecodec.loads(data), value), (hexed, statecodec.loads(data))


def test_double_that_is_no_single():
    # 1.1 goes out as the double nearest 1.1 on double and on single-precision builds.
    assert statecodec.dumps(1.1) == bytes.fromhex("fb3ff199999999999a")
    assert statecodec.loads(statecodec.dumps(1.1)) == 1.1
    assert statecodec.loads(statecodec.dumps(230.1)) == 230.1
    if not SINGLE:
        assert statecodec.loads(statecodec.dumps(1e300)) == 1e300


def test_meter_state_round_trips():
    state = {
        "accounts": [{"ssid": 1, "uri": "coaps://lwm2m.example.net:5684", "psk": b"\x00" * 16,
                      "lifetime": 86400, "binding": "UQ"}],
        "reg": {1: {"location": ["rd", "a1b2"], "registered": True, "updated_ms": -5}},
        "observations": [[1, [3, 0, 9], b"\x12\x34", {"pmin": 10, "gt": 5.5}]],
        "counters": {"msg_id": 65535, "token": 0xFFFFFFFFFF, "energy_wh": 1 << 70},
        "none": None,
    }
    back = statecodec.loads(statecodec.dumps(state))
    assert _same(back, state), back
    # Tuples come back as lists, bytearray and memoryview as bytes.
    assert statecodec.loads(statecodec.dumps((1, (2,)))) == [1, [2]]
    assert statecodec.loads(statecodec.dumps(bytearray(b"ab"))) == b"ab"
    assert statecodec.loads(statecodec.dumps(memoryview(b"abc")[1:])) == b"bc"


def test_big_integers_both_signs():
    for n in (1 << 31, 1 << 32, (1 << 63) - 1, 1 << 63, (1 << 64) - 1, 1 << 64, 1 << 200):
        for v in (n, -n, -n - 1):
            assert statecodec.loads(statecodec.dumps(v)) == v, v
            assert statecodec.loads(statecodec.dumps([v, {"k": v}])) == [v, {"k": v}], v


def test_nesting_limit():
    value = 0
    for _ in range(statecodec.MAX_DEPTH):
        value = [value]
    assert statecodec.loads(statecodec.dumps(value)) == value
    raises(UsageError, statecodec.dumps, [value])
    raises(DecodeError, statecodec.loads, b"\x81" + statecodec.dumps(value))


def test_misuse_and_bad_input():
    for bad in ({1.5: 1}, {True: 1}, {None: 1}, {(1,): 2}, {1 << 64: 1}, set(), object()):
        raises(UsageError, statecodec.dumps, bad)
    for hexed in ("", "0000", "f7", "c1f6", "c26161", "a1f501", "a201f601f6", "ff", "5b"):
        raises(DecodeError, statecodec.loads, bytes.fromhex(hexed))


def test_limits_and_the_callers_buffer():
    value = {"pad": b"x" * 100}
    data = statecodec.dumps(value)
    assert len(data) == 107 and statecodec.dumps(value, 107) == data
    raises(BufferFull, statecodec.dumps, value, 106)
    buf = bytearray(120)
    end = statecodec.dump_into(buf, 2, value)
    assert bytes(buf[2:end]) == data
    raises(BufferFull, statecodec.dump_into, bytearray(40), 0, value)
