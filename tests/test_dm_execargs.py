"""Execute argument grammar (LwM2M Core 1.1 section 6.3.5)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lwm2m_client.core.dm.execargs import format_args, parse_args
from lwm2m_client.core.errors import BadRequest

# The grammar's CHAR: "!" / %x23-26 / %x28-5B / %x5D-7E.
CHARS = "!" + "".join(chr(c) for c in range(0x23, 0x27)) + "".join(
    chr(c) for c in range(0x28, 0x5C)) + "".join(chr(c) for c in range(0x5D, 0x7F))


@pytest.mark.parametrize("payload, args", [
    (b"", []),
    (b"5", [(5, None)]),  # the spec's examples
    (b"2='10.3'", [(2, "10.3")]),
    (b"0,1,2,3,4", [(0, None), (1, None), (2, None), (3, None), (4, None)]),
    (b"7=''", [(7, "")]),
    (b"1='https://x.example/fw?a=1&b=2',9", [(1, "https://x.example/fw?a=1&b=2"), (9, None)]),
    (b"3,3", [(3, None), (3, None)]),  # repeated digits accepted (1.2.1 is unconfirmed)
    ("4='a'", [(4, "a")]),
    (memoryview(b"0"), [(0, None)]),
])
def test_valid_vectors(payload, args):
    assert parse_args(payload) == args


@pytest.mark.parametrize("payload", [
    b"10", b"1='a", b"1=x", b"1,,2", b"a", b",", b"1,", b",1", b"1=", b"1='a'b",
    b"1='a b'", b"1='a\"b'", b"1='a\\b'", b"1=''''", b" 1", b"1 ", b"1='\xff'", b"\x00",
    b"1='a',", b"12='x'",
])
def test_invalid_vectors(payload):
    with pytest.raises(BadRequest):
        parse_args(payload)


def test_format_args():
    assert format_args([(0, None), (2, "10.3")]) == b"0,2='10.3'"
    assert format_args([]) == b""
    for bad in [[(10, None)], [(-1, None)], [(1, "a b")], [(1, "it's")], [("1", None)]]:
        with pytest.raises(ValueError):
            format_args(bad)


_ARGS = st.lists(st.tuples(st.integers(0, 9), st.one_of(st.none(), st.text(CHARS))))


@settings(max_examples=300)
@given(_ARGS)
def test_round_trip(args):
    assert parse_args(format_args(args)) == args


@settings(max_examples=500)
@given(st.binary(max_size=40))
def test_fuzz_random_bytes(data):
    try:
        args = parse_args(data)
    except BadRequest:
        return
    assert format_args(args) == data  # whatever parses is canonical


@settings(max_examples=500)
@given(_ARGS, st.integers(0, 200), st.integers(0, 255), st.sampled_from(["flip", "cut", "insert"]))
def test_fuzz_mutated_valid_inputs(args, pos, byte, how):
    data = bytearray(format_args(args))
    pos = pos % (len(data) + 1)
    if how == "flip" and pos < len(data):
        data[pos] = byte
    elif how == "cut":
        del data[pos:]
    else:
        data.insert(pos, byte)
    try:
        parse_args(bytes(data))
    except BadRequest:
        pass
