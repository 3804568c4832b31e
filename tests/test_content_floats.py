"""Floats as text and on the wire at single and double precision (content/floats.py).

CPython is double precision; the single-precision paths of the codecs (taken on
MicroPython ports built with ``MICROPY_FLOAT_IMPL_FLOAT``) are run here by switching
``SINGLE`` on in the modules that read it, with float32 values as the inputs. The same
checks run under a real single-precision MicroPython in tests/mp/.
"""

from __future__ import annotations

import contextlib
import math
import struct
from fractions import Fraction

import cbor2
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lwm2m_client.core.content import (
    cbor,
    cbor_single,
    floats,
    link,
    lwm2m_cbor,
    lwm2m_json,
    senml_cbor,
    senml_json,
    text,
    tlv,
)
from lwm2m_client.core.dm.types import T_FLOAT
from lwm2m_client.core.errors import DecodeError

F32_MAX = struct.unpack(">f", bytes.fromhex("7F7FFFFF"))[0]


def f32(hexed: str) -> float:
    return struct.unpack(">f", bytes.fromhex(hexed))[0]


def bits32(value: float) -> int:
    return struct.unpack(">I", struct.pack(">f", value))[0]


def rounds_to(x: Fraction, value: float, single: bool) -> bool:
    """Whether the number ``x`` rounds to ``value`` (ties to even), exactly."""
    if (x < 0) != (math.copysign(1, value) < 0) and x != 0:
        return False
    x = abs(x)
    a = abs(value)
    if single:
        b = bits32(a)
        up = Fraction(2) ** 128 if b == 0x7F7FFFFF else Fraction(f32(f"{b + 1:08X}"))
        down = Fraction(f32(f"{b - 1:08X}")) if b else -Fraction(a)
    else:
        b = struct.unpack(">Q", struct.pack(">d", a))[0]
        up = Fraction(2) ** 1024 if a == 1.7976931348623157e308 else \
            Fraction(math.nextafter(a, math.inf))
        down = Fraction(math.nextafter(a, 0.0)) if a else -Fraction(a)
    hi = (Fraction(a) + up) / 2
    lo = (Fraction(a) + down) / 2
    if b & 1:
        return lo < x < hi
    return lo <= x <= hi


def digits(dec: str) -> int:
    """Significant digits of a decimal text."""
    mant = dec.lstrip("-").split("e")[0].replace(".", "").strip("0")
    return max(len(mant), 1)


@contextlib.contextmanager
def single_mode():
    """The codecs as on a single-precision interpreter."""
    mods = (floats, cbor, text, tlv)
    for mod in mods:
        mod.SINGLE = True
    floats._REPR_SHORTEST = False
    try:
        yield
    finally:
        for mod in mods:
            mod.SINGLE = False
        floats._REPR_SHORTEST = True


@pytest.fixture
def single():
    with single_mode():
        yield


floats32 = st.floats(width=32, allow_nan=False, allow_infinity=False)


# ------------------------------------------------------------------- detection


def test_cpython_is_double_precision_with_a_shortest_repr():
    assert floats.SINGLE is False
    assert floats._REPR_SHORTEST is True
    assert floats.float_text(556.416) == repr(556.416) == "556.416"


# ------------------------------------------------------- shortest text, exactly


@settings(max_examples=2000)
@given(st.floats(allow_nan=False))
@example(5e-324)
@example(2.2250738585072014e-308)
@example(1.7976931348623157e308)
@example(-0.0)
@example(1e16)
@example(1e-5)
@example(9007199254740993.0)
def test_shortest_text_of_a_double_is_its_repr(value):
    assert floats.shortest_text(value, False) == repr(value)


@settings(max_examples=2000)
@given(floats32)
@example(f32("00000001"))
@example(f32("007FFFFF"))
@example(f32("00800000"))
@example(f32("7F7FFFFF"))
@example(f32("0F800000"))
@example(f32("4CEB79A3"))
@example(-0.0)
def test_shortest_text_of_a_single_is_shortest_and_exact(value):
    dec = floats.shortest_text(value, True)
    assert rounds_to(Fraction(dec), value, True)
    assert math.copysign(1, float(dec)) == math.copysign(1, value)
    n = digits(dec)
    if n > 1:
        # No decimal of fewer digits rounds to the value: neither neighbour of it with
        # n - 1 significant digits does.
        x = Fraction(value)
        k = math.floor(math.log10(abs(value)))
        scale = Fraction(10) ** (n - 2 - k)
        for rounding in (math.floor, math.ceil):
            assert not rounds_to(Fraction(rounding(x * scale)) / scale, value, True)
    # The shape of CPython's repr: positional from 1e-4 up to 1e16, else an exponent.
    assert ("e" in dec) == (value != 0 and not 1e-4 <= abs(value) < 1e16)
    assert "." in dec or "e" in dec


def test_shortest_text_agrees_with_numpy_for_singles():
    np = pytest.importorskip("numpy")
    for b in list(range(0, 0x7F800000, 0x7F800000 // 20011)) + [1, 2, 0x7F7FFFFF]:
        value = f32(f"{b:08X}")
        ours = floats.shortest_text(value, True)
        theirs = np.format_float_scientific(np.float32(value), unique=True)
        assert Fraction(ours) == Fraction(theirs), (hex(b), ours, theirs)


@pytest.mark.parametrize("value, dec", [
    (float("inf"), "inf"), (float("-inf"), "-inf"), (float("nan"), "nan"),
    (0.0, "0.0"), (-0.0, "-0.0"), (f32("4366199A"), "230.1"), (f32("3DCCCCCD"), "0.1"),
    (f32("33D6BF95"), "1e-07"), (f32("7F7FC99E"), "3.4e+38"), (f32("7F7FFFFF"), "3.4028235e+38"),
    (f32("00000001"), "1e-45"), (f32("00800000"), "1.1754944e-38"),
    (f32("3EAAAAAB"), "0.33333334"), (f32("4CEB79A3"), "123456790.0"),
    (16777216.0, "16777216.0"), (1e10, "10000000000.0"), (f32("5A0E1BCA"), "1e+16"),
])
def test_shortest_text_of_singles(value, dec):
    assert floats.shortest_text(value, True) == dec


# ---------------------------------------------------------------- exact parsing


def nearest_single(dec: str) -> bytes:
    """The float32 nearest to ``dec``, ties to even, by exact search."""
    x = Fraction(dec)
    neg = dec.strip().startswith("-")
    x = abs(x)
    lo, hi = 0, 0x7F800000
    while lo < hi:  # the largest finite or infinite bit pattern not above x
        mid = (lo + hi + 1) // 2
        vm = Fraction(2) ** 128 if mid == 0x7F800000 else Fraction(f32(f"{mid:08X}"))
        if vm <= x:
            lo = mid
        else:
            hi = mid - 1
    b = lo
    if b < 0x7F800000:
        below = Fraction(f32(f"{b:08X}"))
        above = Fraction(2) ** 128 if b + 1 == 0x7F800000 else Fraction(f32(f"{b + 1:08X}"))
        if x - below > above - x or (x - below == above - x and b & 1):
            b += 1
    return struct.pack(">I", b | (0x80000000 if neg else 0))


decimal_texts = st.builds(
    lambda sign, whole, frac, exp: (sign + whole + ("." + frac if frac else "")
                                    + ("" if exp is None else f"e{exp}")),
    st.sampled_from(["", "-"]),
    st.integers(0, 10**20).map(str),
    st.text("0123456789", max_size=25),
    st.none() | st.integers(-70, 60),
)


# The fixture only switches SINGLE on, the same for every example.
SINGLE_FIXTURE = [HealthCheck.function_scoped_fixture]


@settings(max_examples=1500, suppress_health_check=SINGLE_FIXTURE)
@given(decimal_texts | floats32.map(repr) | floats32.map(lambda v: f"{v:.17g}"))
@example("230.10000610351562")
@example("6.667e-11")
@example("3.4028235677973366e38")
@example("340282356779733661637539395458142568448")
@example("7.006492321624085e-46")
@example("7.0064923216240862e-46")
@example("1" + "0" * 130 + "1e-170")
@example("16777217")
def test_parse_decimal_at_single_precision_is_correctly_rounded(single, dec):
    assert struct.pack(">f", floats.parse_decimal(dec)) == nearest_single(dec)


@settings(max_examples=1000, suppress_health_check=SINGLE_FIXTURE)
@given(floats32)
def test_single_text_round_trips(single, value):
    back = floats.parse_decimal(floats.float_text(value))
    assert struct.pack(">f", back) == struct.pack(">f", value)


HALF_MIN = ("2." + "4703282292062327208828439643411068618252990130716238221279284125033775"
            "3635104375932649918180817996189898282347722858865463328355177969898199387398"
            "0053909390631503565951557022639229085839244910518443593180284993653615250031"
            "9370457678249219365623669863658480757001585769269903706311928279558551332927"
            "8343384093519780155312465972635795746227664652728272200563740064854999770965"
            "9947045402082816622623785739345073633900796776193057750674017632467360096895"
            "1340535537458516661134223766678604162159680461914467291840300530057530849048"
            "7653917113865916462395249126236538818796362393732804238910186723484976682350"
            "8986338858792562830275599565752445550725518931369083625477918694866799496832"
            "4049705821028513185451396213837722826145437693412532098591327667236328125e-324")

double_texts = st.builds(
    lambda sign, mant, point, exp: (sign + mant[:point] + "." + mant[point:] + f"e{exp}"),
    st.sampled_from(["", "-"]),
    st.text("0123456789", min_size=1, max_size=40),
    st.integers(0, 40),
    st.integers(-380, 340),
)
finite = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=3000)
@given(double_texts | decimal_texts | finite.map(repr)
       | finite.map(lambda v: f"{v:.17e}"))
@example("230.1")
@example("0e5")
@example("-0.0")
@example("4.9406564584124654e-324")
@example("2.2250738585072011e-308")
@example("2.2250738585072012e-308")
@example("1.7976931348623158e308")
@example("1.7976931348623159e308")
@example("1e-400")
@example(HALF_MIN)
@example(HALF_MIN[:-5] + "1e-324")
@example(HALF_MIN[:-5] + "0000001e-324")
@example("9007199254740993")
def test_double_bits_are_those_of_cpython_float(dec):
    want = struct.unpack(">Q", struct.pack(">d", float(dec)))[0]
    assert floats.double_bits(dec) == want


def test_parse_decimal_at_double_precision_is_float():
    assert floats.parse_decimal("230.10000610351562") == 230.10000610351562
    assert floats.parse_decimal("1e400") == math.inf


# ----------------------------------------------- the codecs at single precision


# value (float32 bits), text, CBOR item. A single that is not the double its text means
# goes out as that double (8 bytes, in TLV too), so a server reads the text.
SINGLE_CASES = [
    ("4366199A", "230.1", "FB406CC33333333333"),
    ("3DCCCCCD", "0.1", "FB3FB999999999999A"),
    ("33D6BF95", "1e-07", "FB3E7AD7F29ABCAF48"),
    ("7F7FC99E", "3.4e+38", "FB47EFF933C78CDFAD"),
    ("80000000", "-0.0", "F98000"),
    ("41B40000", "22.5", "F94DA0"),
    ("43660000", "230.0", "F95B30"),
    ("3F000000", "0.5", "F93800"),
    ("4B7FFFFF", "16777215.0", "FA4B7FFFFF"),
    ("7F7FFFFF", "3.4028235e+38", "FB47EFFFFFE54DAFF8"),
    ("00000001", "1e-45", "FB3696D601AD376AB9"),
    ("33800000", "5.9604645e-08", "FB3E7000000102F4FD"),  # 2**-24, a half, but not its text
]


def encode_one(mod, value):
    rec = [((3, 0, 1), T_FLOAT, value)]
    buf = bytearray(64)
    return bytes(buf[:mod.encode_into(buf, rec, (3, 0, 1))])


@pytest.mark.parametrize("bits, dec, item", SINGLE_CASES)
def test_single_precision_codecs(single, bits, dec, item):
    value = f32(bits)
    assert enc_text(value) == dec
    assert encode_one(senml_json, value) == b'[{"bn":"/3/0/1","v":%s}]' % dec.encode()
    assert encode_one(lwm2m_json, value) == b'{"bn":"/3/0/1","e":[{"v":%s}]}' % dec.encode()
    assert encode_one(senml_cbor, value) == bytes.fromhex("81A221662F332F302F3102" + item)
    assert encode_one(lwm2m_cbor, value) == bytes.fromhex("A183030001" + item)
    assert encode_one(tlv, value) == bytes.fromhex(
        "C80108" + item[2:] if item[:2] == "FB" else "C401" + bits)
    if item[:2] == "FB":
        assert bytes.fromhex(item) == cbor2.dumps(float(dec))
    for mod in (text, tlv):
        got = mod.decode(encode_one(mod, value), (3, 0, 1), lambda p: T_FLOAT)[0][1]
        assert struct.pack(">f", got) == bytes.fromhex(bits)
    for mod in (senml_json, senml_cbor, lwm2m_cbor, lwm2m_json):
        got = mod.decode(encode_one(mod, value), (3, 0, 1))[0][1]
        assert struct.pack(">f", got) == bytes.fromhex(bits)
    out = bytearray(64)
    n = link.encode_links(out, [((3, 0, 1), [("st", value)])])
    assert bytes(out[:n]) == b"</3/0/1>;st=" + dec.encode()


def enc_text(value):
    return encode_one(text, value).decode()


def test_single_precision_230_1_is_the_double_230_1(single):
    value = f32("4366199A")  # the single nearest 230.1, 230.10000610351562 as a double
    double = struct.pack(">d", 230.1)
    assert cbor2.dumps(230.1) == b"\xfb" + double
    assert floats.single_as_double(value) == struct.unpack(">Q", double)[0]
    buf = bytearray(9)
    assert bytes(buf[:cbor.write_float(buf, 0, value)]) == cbor2.dumps(230.1)
    assert encode_one(senml_cbor, value)[-9:] == cbor2.dumps(230.1)
    assert encode_one(lwm2m_cbor, value) == bytes.fromhex("A183030001") + cbor2.dumps(230.1)
    assert encode_one(tlv, value) == b"\xc8\x01\x08" + double
    for exact, item in ((0.5, "F93800"), (230.0, "F95B30"), (1.25, "F93D00")):
        assert floats.single_as_double(exact) == -1
        assert encode_one(lwm2m_cbor, exact) == bytes.fromhex("A183030001" + item)
        assert encode_one(tlv, exact) == b"\xc4\x01" + struct.pack(">f", exact)


# The codecs that write floats in binary.
BINARY = (senml_cbor, cbor_single, lwm2m_cbor, tlv)


@settings(max_examples=1000)
@given(floats32 | st.sampled_from([math.inf, -math.inf]))
@example(f32("4366199A"))
@example(f32("00000001"))
@example(f32("007FFFFF"))
@example(f32("7F7FFFFF"))
@example(f32("33800000"))
@example(-0.0)
def test_single_build_sends_what_a_double_build_sends_for_the_text(value):
    # The server reads the single's shortest text: every binary encoder writes what a
    # double build writes for float(float_text(x)); a half or a single only when that
    # is the single's own value.
    mods = BINARY if not math.isinf(value) else BINARY[2:]  # SenML refuses infinity
    with single_mode():
        dec = floats.float_text(value)
        got = [encode_one(mod, value) for mod in mods]
        buf = bytearray(9)
        item = bytes(buf[:cbor.write_float(buf, 0, value)])
        assert cbor.write_float(bytearray(len(item)), 0, value) == len(item)
    meant = float(dec)
    assert got == [encode_one(mod, meant) for mod in mods]
    assert struct.pack(">d", cbor2.loads(item)) == struct.pack(">d", meant)
    got_tlv = tlv.decode(got[-1], (3, 0, 1), lambda p: T_FLOAT)[0][1]
    assert struct.pack(">d", got_tlv) == struct.pack(">d", meant)
    if len(item) < 9:
        assert struct.pack(">d", meant) == struct.pack(">d", value)
    if not math.isinf(value):
        assert floats.double_bits(dec) == struct.unpack(">Q", struct.pack(">d", meant))[0]


def test_single_precision_cbor_nan_and_room(single):
    buf = bytearray(5)
    assert bytes(buf[:cbor.write_float(buf, 0, math.nan)]) == bytes.fromhex("F97E00")
    from lwm2m_client.core.errors import BufferFull

    with pytest.raises(BufferFull):
        cbor.write_float(bytearray(4), 0, f32("3DCCCCCD"))
    assert cbor.write_float(bytearray(3), 0, 1.5) == 3


def test_single_precision_text_decoders(single):
    # Decimal text becomes the nearest single; beyond the single range it is refused.
    as_float = lambda p: T_FLOAT  # noqa: E731
    third = struct.unpack(">f", struct.pack(">f", 1 / 3))[0]
    assert text.decode(b"0.3333333333333333", (3, 0, 1), as_float)[0][1] == third
    long = b'[{"n":"/3/0/1","v":230.10000610351562}]'
    assert senml_json.decode(long)[0][1] == f32("4366199A")
    with pytest.raises(DecodeError):
        text.decode(b"1e39", (3, 0, 1), as_float)
    with pytest.raises(DecodeError):
        senml_json.decode(b'[{"n":"/3/0/1","v":1e39}]')


def test_single_precision_double_check():
    # What struct.unpack(">d") leaves on a single-precision interpreter (CPython cannot
    # narrow it here; tests/mp/ run the real thing): infinity from a finite double is
    # refused, infinity and NaN from the wire pass.
    big = bytes.fromhex("7E37E43C8800759C")
    assert floats.check_double(big, 0, math.inf) == math.inf  # double build: not reached
    floats.SINGLE = True
    try:
        with pytest.raises(DecodeError):
            floats.check_double(big, 0, math.inf)
        with pytest.raises(DecodeError):
            floats.check_double(bytes.fromhex("C7EFFFFFF0000000"), 0, -math.inf)
        assert floats.check_double(bytes.fromhex("7FF0000000000000"), 0, math.inf) == math.inf
        nan = floats.check_double(bytes.fromhex("7FF8000000000000"), 0, math.nan)
        assert nan != nan
        assert floats.check_double(bytes.fromhex("3FF8000000000000"), 0, 1.5) == 1.5
    finally:
        floats.SINGLE = False


def test_double_precision_decoders_keep_doubles():
    assert cbor.loads(bytes.fromhex("FB7E37E43C8800759C")) == 1e300
    assert text.decode(b"1e39", (3, 0, 1), lambda p: T_FLOAT)[0][1] == 1e39
    data = bytes.fromhex("C801087E37E43C8800759C")
    assert tlv.decode(data, (3, 0, 1), lambda p: T_FLOAT)[0][1] == 1e300


def test_tlv_float_width_follows_fits_single():
    assert floats.fits_single(F32_MAX) and not floats.fits_single(3.5e38)
    assert not floats.fits_single(0.1) and floats.fits_single(f32("3DCCCCCD"))
    assert not floats.fits_single(math.nan)  # as before: 8 bytes on a double build
