"""CoRE link format (CF 40): Register and Discover payloads, parsing, fuzzing."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spec_vectors import DEVICE_DISCOVER, REGISTER_LINKS, REGISTER_PAYLOAD, SERVER_DISCOVER

from lwm2m_client.core.content import link
from lwm2m_client.core.errors import BufferFull, DecodeError

# LWM2M-FACTS sections 2 and 11 (REGISTER_LINKS: REGISTER as links).
REGISTER = REGISTER_PAYLOAD.encode()
ROOT_PREFIX = b'</>;ct="110 112 60",'
LESHAN = (
    b'</>;rt="oma.lwm2m";ct="60 110 112 1542 1543 11542 11543",</1>;ver=1.1,</1/0>,</2>,'
    b"</3>;ver=1.1,</3/0>,</3442/0>"
)
LESHAN_LINKS = [
    ((), [("rt", "oma.lwm2m"), ("ct", "60 110 112 1542 1543 11542 11543")]),
    ((1,), [("ver", "1.1")]), ((1, 0), []), ((2,), []), ((3,), [("ver", "1.1")]),
    ((3, 0), []), ((3442, 0), []),
]
DISCOVER_3_0 = DEVICE_DISCOVER.encode()
DISCOVER_1 = SERVER_DISCOVER.encode()
DISCOVER_1_LINKS = [((1,), []), ((1, 0), []), ((1, 4), [("pmax", 300)])]


def encode(links, size=1024):
    buf = bytearray(size)
    return bytes(buf[: link.encode_links(buf, links)])


@pytest.mark.parametrize(
    "links,wire",
    [
        (REGISTER_LINKS, REGISTER),
        ([((), [("ct", "110 112 60")])] + REGISTER_LINKS, ROOT_PREFIX + REGISTER),
        (LESHAN_LINKS, LESHAN),
        (DISCOVER_1_LINKS, DISCOVER_1),
    ],
    ids=["register", "register with root link", "leshan", "discover /1"],
)
def test_encode_reproduces_vectors_and_not_one_byte_less(links, wire):
    assert encode(links, len(wire)) == wire
    with pytest.raises(BufferFull):
        link.encode_links(bytearray(len(wire) - 1), links)


def test_discover_with_typed_attribute_values():
    links = [
        ((3, 0), [("pmin", 10), ("pmax", 60)]), ((3, 0, 1), []), ((3, 0, 2), []),
        ((3, 0, 3), []), ((3, 0, 4), []), ((3, 0, 6), [("dim", 2)]), ((3, 0, 6, 0), []),
        ((3, 0, 6, 3), []), ((3, 0, 7), [("dim", 2), ("gt", 50), ("lt", 42.2)]),
        ((3, 0, 7, 0), []), ((3, 0, 7, 1), [("lt", 45)]), ((3, 0, 8), [("dim", 2)]),
        ((3, 0, 8, 1), []), ((3, 0, 8, 2), []), ((3, 0, 11), []), ((3, 0, 16), []),
    ]
    assert encode(links, len(DISCOVER_3_0)) == DISCOVER_3_0
    with pytest.raises(BufferFull):
        link.encode_links(bytearray(len(DISCOVER_3_0) - 1), links)


@pytest.mark.parametrize("wire", [REGISTER, ROOT_PREFIX + REGISTER, LESHAN, DISCOVER_3_0,
                                  DISCOVER_1])
def test_decoded_vectors_re_encode_byte_for_byte(wire):
    decoded = link.decode_links(wire)
    assert encode([(target, list(attrs.items())) for target, attrs in decoded]) == wire


def test_decode_leshan_vector():
    assert link.decode_links(LESHAN) == [
        ("/", {"rt": "oma.lwm2m", "ct": "60 110 112 1542 1543 11542 11543"}),
        ("/1", {"ver": "1.1"}), ("/1/0", {}), ("/2", {}), ("/3", {"ver": "1.1"}),
        ("/3/0", {}), ("/3442/0", {}),
    ]
    assert link.decode_links(DISCOVER_3_0)[8] == ("/3/0/7", {"dim": "2", "gt": "50",
                                                            "lt": "42.2"})


def test_decode_is_liberal_in_what_peers_send():
    text = ' </1>;ver="1.1" ,\r\n <a,b;c> ; Title = "x, y; \\"z\\"" ; Q ;x=1;x=2,</2>'
    assert link.decode_links(text) == [
        ("/1", {"ver": "1.1"}),
        ("a,b;c", {"title": 'x, y; "z"', "q": None, "x": "1"}),
        ("/2", {}),
    ]
    assert link.decode_links(b"") == [] and link.decode_links(b"  ") == []


def test_quoting_choice():
    assert not link.needs_quotes("1.1")
    assert not link.needs_quotes("60")
    assert not link.needs_quotes("-5")
    for text in ("110 112", "oma.lwm2m", "", "1.", ".5", "1.1.1", "-", "a"):
        assert link.needs_quotes(text), text
    assert encode([("/lwm2m", [("rt", "oma.lwm2m"), ("Q", None), ("t", 'a"b\\')])]) == (
        b'</lwm2m>;rt="oma.lwm2m";Q;t="a\\"b\\\\"'
    )


BAD = [
    "x", "<1", "</1>;", "</1>;=3", "</1>;a=", '</1>;a="x', '</1>;a="x\\', "</1>,", ",</1>",
    "</1> </2>", "</1>;a=1 b", "<<1>", "</1>;a=\"x\"y",
]


@pytest.mark.parametrize("bad", BAD)
def test_bad_input_raises_decode_error(bad):
    with pytest.raises(DecodeError):
        link.decode_links(bad)


def test_bad_utf8_raises_decode_error():
    with pytest.raises(DecodeError):
        link.decode_links(b"</\xff>")


names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.", min_size=1, max_size=6)
values = st.one_of(
    st.none(), st.integers(-(10**6), 10**6), st.text(max_size=12),
    st.from_regex(r"\A[0-9]{1,4}(\.[0-9]{1,3})?\Z"),
)
paths = st.lists(st.integers(0, 65535), max_size=4).map(tuple)


@settings(max_examples=300)
@given(st.lists(st.tuples(paths, st.dictionaries(names, values, max_size=4)), max_size=6))
def test_round_trip(links):
    wire = encode([(path, list(attrs.items())) for path, attrs in links], 4096)
    expected = []
    for path, attrs in links:
        target = "/" + "/".join(str(i) for i in path)
        expected.append((target, {k: None if v is None else str(v) for k, v in attrs.items()}))
    assert link.decode_links(wire) == expected


@settings(max_examples=400)
@given(st.binary(max_size=60))
def test_fuzz_random_bytes(data):
    try:
        out = link.decode_links(data)
    except DecodeError:
        return
    assert isinstance(out, list)


@settings(max_examples=400)
@given(st.sampled_from([REGISTER, LESHAN, DISCOVER_3_0]), st.data())
def test_fuzz_mutated_vectors(wire, data):
    mutated = bytearray(wire)
    for _ in range(data.draw(st.integers(1, 3))):
        pos = data.draw(st.integers(0, len(mutated) - 1))
        mutated[pos] = data.draw(st.sampled_from(b'<>,;="\\ x\xff'))
    try:
        link.decode_links(bytes(mutated))
    except DecodeError:
        pass
