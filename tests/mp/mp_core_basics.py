"""Core basics under MicroPython and CPython: errors, buffer, dm.types, dm.path, dm.model,
content.floats.

A plain script (no pytest): tests/mp/run_mp.mjs and tests/test_micropython.py call every
top-level ``test_*`` function.
"""

from struct import pack, unpack

from mpcheck import raises

from lwm2m_client.core import buffer, errors
from lwm2m_client.core.content import floats
from lwm2m_client.core.dm import model, path, types

# errors.py

def test_code_str_renders_class_and_detail():
    assert errors.code_str(0x84) == "4.04"
    assert errors.code_str(0xA0) == "5.00"
    assert errors.code_str(0x45) == "2.05"
    assert errors.code_str(0x8F) == "4.15"


def test_error_classes_carry_their_coap_codes():
    expected = (
        (errors.LwM2MError, "5.00"),
        (errors.BadRequest, "4.00"),
        (errors.Unauthorized, "4.01"),
        (errors.NotFound, "4.04"),
        (errors.MethodNotAllowed, "4.05"),
        (errors.NotAcceptable, "4.06"),
        (errors.RequestEntityIncomplete, "4.08"),
        (errors.RequestEntityTooLarge, "4.13"),
        (errors.UnsupportedContentFormat, "4.15"),
        (errors.InternalServerError, "5.00"),
        (errors.DecodeError, "4.00"),
    )
    for cls, code in expected:
        assert errors.code_str(cls.code) == code, (cls, code)
        assert issubclass(cls, errors.LwM2MError)


def test_misuse_and_buffer_errors_carry_no_coap_code():
    # Application misuse and a full encoder buffer are not the peer's errors: neither
    # maps to a response code.
    for cls in (errors.UsageError, errors.BufferFull):
        assert not issubclass(cls, errors.LwM2MError), cls
        assert not hasattr(cls, "code"), cls
    assert issubclass(errors.UsageError, ValueError)


def test_decode_error_is_caught_as_bad_request_and_keeps_message():
    e = raises(errors.BadRequest, _raise, errors.DecodeError("truncated TLV"))
    assert type(e) is errors.DecodeError
    assert e.code == 0x80
    assert str(e) == "truncated TLV"
    # The code lives on the class, so instances of one class all agree.
    assert errors.NotFound("a").code == errors.NotFound("b").code == 0x84


def _raise(exc):
    raise exc


# buffer.py

def test_writer_writes_bytes_text_and_big_endian_ints():
    buf = bytearray(12)
    w = buffer.Writer(buf)
    w.byte(0xC1)
    w.write(b"\x01\x02")
    w.uint_be(0x0A0B0C, 3)
    w.text("h\u00e9")  # 'é' is two bytes in UTF-8
    w.uint_be(0, 2)
    assert w.pos == 11
    assert bytes(buf[:11]) == b"\xc1\x01\x02\x0a\x0b\x0ch\xc3\xa9\x00\x00"
    assert buf[11] == 0
    assert repr(w) == "<Writer 11/12>"


def test_writer_uint_be_keeps_low_bytes_of_wide_values():
    buf = bytearray(8)
    w = buffer.Writer(buf)
    w.uint_be(0xFFFFFFFFFFFFFFFF, 8)
    assert bytes(buf) == b"\xff" * 8
    w = buffer.Writer(buf)
    w.uint_be(0x1234, 1)
    assert buf[0] == 0x34 and w.pos == 1


def test_writer_raises_buffer_full_without_writing():
    buf = bytearray(4)
    w = buffer.Writer(buf)
    w.write(b"ab")
    raises(errors.BufferFull, w.write, b"xyz")
    raises(errors.BufferFull, w.uint_be, 1, 3)
    raises(errors.BufferFull, w.text, "\u00e9\u00e9")
    raises(errors.BufferFull, w.room, 3)
    assert w.pos == 2
    assert bytes(buf) == b"ab\x00\x00"
    w.room(2)
    w.byte(1)
    w.byte(2)
    raises(errors.BufferFull, w.byte, 3)
    assert bytes(buf) == b"ab\x01\x02" and w.pos == 4


def test_writer_over_memoryview_slice_and_start_offset():
    backing = bytearray(b"--------")
    w = buffer.Writer(memoryview(backing)[2:6], 1)
    assert w.end == 4
    w.write(b"xyz")
    raises(errors.BufferFull, w.byte, 0)
    assert bytes(backing) == b"---xyz--"


# dm/types.py

def test_type_from_name_accepts_registry_spellings():
    assert types.type_from_name("String") == types.T_STRING
    assert types.type_from_name(" unsigned integer ") == types.T_UNSIGNED
    assert types.type_from_name("OBJLNK") == types.T_OBJLNK
    assert types.type_from_name("") == types.T_NONE
    assert types.type_from_name("none") == types.T_NONE
    for code in range(1, len(types.TYPE_NAMES)):
        assert types.type_from_name(types.TYPE_NAMES[code]) == code
    raises(ValueError, types.type_from_name, "Decimal")


def test_objlnk_equality_hash_text_and_range():
    a = types.Objlnk(66, 0)
    assert a == types.Objlnk(66, 0)
    assert a != types.Objlnk(66, 1)
    assert not (a == (66, 0))
    assert str(a) == "66:0" and repr(a) == "Objlnk(66, 0)"
    assert len({a, types.Objlnk(66, 0), types.Objlnk(0, 66)}) == 2
    raises(errors.BadRequest, types.Objlnk, 65536, 0)
    raises(errors.BadRequest, types.Objlnk, 0, -1)


def test_objlnk_parse_accepts_decimal_and_spec_hex_null_link():
    assert types.Objlnk.parse("3:0") == types.Objlnk(3, 0)
    assert types.Objlnk.parse("65535:65535") == types.Objlnk(0xFFFF, 0xFFFF)
    assert types.Objlnk.parse("FFFF:FFFF") == types.Objlnk(0xFFFF, 0xFFFF)
    assert types.Objlnk.parse("ffff:ffff") == types.Objlnk(0xFFFF, 0xFFFF)
    for bad in ("3", "3:0:1", "a:b", ":", "70000:0"):
        raises(errors.BadRequest, types.Objlnk.parse, bad)


def test_coerce_integer_family():
    assert types.coerce(types.T_INTEGER, 5) == 5
    v = types.coerce(types.T_INTEGER, 3.0)
    assert v == 3 and type(v) is int
    assert types.coerce(types.T_TIME, 1700000000.0) == 1700000000
    assert types.coerce(types.T_INTEGER, types.INT64_MIN) == -(1 << 63)
    raises(errors.BadRequest, types.coerce, types.T_INTEGER, types.INT64_MAX + 1)
    raises(errors.BadRequest, types.coerce, types.T_INTEGER, 3.5)
    raises(errors.BadRequest, types.coerce, types.T_INTEGER, "3")
    # A bool is not an Integer (type() is checked, not isinstance()).
    raises(errors.BadRequest, types.coerce, types.T_INTEGER, True)
    assert types.coerce(types.T_UNSIGNED, types.UINT64_MAX) == (1 << 64) - 1
    raises(errors.BadRequest, types.coerce, types.T_UNSIGNED, -1)
    raises(errors.BadRequest, types.coerce, types.T_UNSIGNED, 1 << 64)


def test_coerce_other_types():
    v = types.coerce(types.T_FLOAT, 2)
    assert v == 2.0 and type(v) is float
    assert types.coerce(types.T_FLOAT, -0.5) == -0.5
    assert types.coerce(types.T_BOOLEAN, False) is False
    raises(errors.BadRequest, types.coerce, types.T_BOOLEAN, 0)
    assert types.coerce(types.T_STRING, "x") == "x"
    assert types.coerce(types.T_CORELNK, "</3/0>") == "</3/0>"
    raises(errors.BadRequest, types.coerce, types.T_STRING, b"x")
    v = types.coerce(types.T_OPAQUE, bytearray(b"\x00\xff"))
    assert v == b"\x00\xff" and type(v) is bytes
    assert types.coerce(types.T_OPAQUE, memoryview(b"abc")[1:]) == b"bc"
    raises(errors.BadRequest, types.coerce, types.T_OPAQUE, "abc")
    assert types.coerce(types.T_OBJLNK, "1:2") == types.Objlnk(1, 2)
    link = types.Objlnk(4, 5)
    assert types.coerce(types.T_OBJLNK, link) is link
    raises(errors.BadRequest, types.coerce, types.T_OBJLNK, 12)
    raises(errors.BadRequest, types.coerce, types.T_NONE, "")


# dm/path.py

def test_parse_path_levels():
    assert path.parse_path("") == ()
    assert path.parse_path("/") == ()
    assert path.parse_path("/3") == (3,)
    assert path.parse_path("3/0") == (3, 0)
    assert path.parse_path("/3/0/1/") == (3, 0, 1)
    assert path.parse_path("/3/0/6/0") == (3, 0, 6, 0)
    assert path.parse_path("/65535/0") == (65535, 0)


def test_parse_path_rejects_bad_segments():
    for bad in ("/3//1", "/03", "/a", "/-1", "/65536", "/1/2/3/4/5", "//", "/3/ 0", "/3/0x1"):
        raises(errors.BadRequest, path.parse_path, bad)


def test_path_from_uri_path_segments():
    assert path.path_from_segments([b"3", b"0", b"1"]) == (3, 0, 1)
    assert path.path_from_segments([bytearray(b"5"), "0"]) == (5, 0)
    assert path.path_from_segments([]) == ()
    raises(errors.BadRequest, path.path_from_segments, [b"\xff"])
    raises(errors.BadRequest, path.path_from_segments, [b""])


def test_path_str_round_trips_and_orders_like_the_tree():
    for p in ((), (0,), (3, 0), (3, 0, 13), (65535, 65534, 1, 0)):
        assert path.parse_path(path.path_str(p)) == p
    assert path.path_str(()) == "/"
    assert path.path_str((3, 0, 1)) == "/3/0/1"
    assert sorted([(3, 0, 1), (3,), (1, 0), (3, 0)]) == [(1, 0), (3,), (3, 0), (3, 0, 1)]


def test_is_prefix():
    assert path.is_prefix((), (3, 0))
    assert path.is_prefix((3,), (3, 0, 1))
    assert path.is_prefix((3, 0, 1), (3, 0, 1))
    assert not path.is_prefix((3, 1), (3, 0, 1))
    assert not path.is_prefix((3, 0, 1), (3, 0))


# dm/model.py

def test_operations_names_round_trip():
    assert model.ops_from_name(" rw ") == model.OP_RW
    assert model.ops_from_name("") == model.OP_NONE
    assert model.ops_from_name("E") == model.OP_E
    for name in ("R", "W", "RW", "E"):
        assert model.ops_name(model.ops_from_name(name)) == name
    assert model.ops_name(model.OP_NONE) == ""
    assert model.OP_RW == model.OP_R | model.OP_W
    raises(ValueError, model.ops_from_name, "RWE")


def test_range_numeric_and_enum():
    r = model.Range("num", 0, 100, text="0..100")
    assert r.check(types.T_INTEGER, 0) and r.check(types.T_INTEGER, 100)
    assert not r.check(types.T_INTEGER, 101)
    assert not r.check(types.T_FLOAT, -0.5)
    assert r.check(types.T_STRING, "1000")  # numeric bounds never apply to strings
    open_lo = model.Range("num", None, 10)
    assert open_lo.check(types.T_INTEGER, -(1 << 62)) and not open_lo.check(types.T_TIME, 11)
    e = model.Range("enum", values=(1, 2, 5))
    assert e.check(types.T_UNSIGNED, 5) and not e.check(types.T_UNSIGNED, 3)
    assert model.Range("text", text="see spec").check(types.T_INTEGER, -1)


def test_range_length_counts_utf8_bytes_and_opaque_bytes():
    r = model.Range("len", 0, 3)
    assert r.check(types.T_STRING, "abc")
    assert not r.check(types.T_STRING, "ab\u00e9")  # 4 bytes in UTF-8
    assert r.check(types.T_OPAQUE, b"\x00\x01\x02")
    assert not r.check(types.T_OPAQUE, b"1234")
    assert r.check(types.T_INTEGER, 123456)  # lengths only constrain strings and opaque


def test_range_equality_ignores_wording():
    assert model.Range("num", 0, 5, text="0..5") == model.Range("num", 0, 5, text="0-5")
    assert model.Range("num", 0, 5) != model.Range("len", 0, 5)
    assert model.Range("enum", values=(1,)) != model.Range("enum", values=(2,))
    assert not (model.Range("num", 0, 5) == (0, 5))
    assert repr(model.Range("num", 0, 5)) == "Range(num 0..5)"


def test_resource_and_object_definitions():
    r = model.ResourceDef(1, "Manufacturer", model.OP_R, False, False, types.T_STRING)
    w = model.ResourceDef(2, "Period", model.OP_RW, False, True, types.T_INTEGER,
                          model.Range("num", 1, 3600), "s")
    x = model.ResourceDef(4, "Reboot", model.OP_E, False, True, types.T_NONE)
    assert r.readable and not r.writable and not r.executable
    assert w.readable and w.writable and not w.executable and w.units == "s"
    assert x.executable and not x.readable and not x.writable
    assert repr(r) == "<ResourceDef 1 Manufacturer R String>"
    assert repr(x) == "<ResourceDef 4 Reboot E none>"
    obj = model.ObjectDef(3, "Device", multiple=False, mandatory=True,
                          resources={1: r, 2: w, 4: x}, object_version="1.2")
    assert obj.resource(2) is w and obj.resource(99) is None
    assert repr(obj) == "<ObjectDef 3 Device v1.2>"
    empty = model.ObjectDef(10, "Empty")
    assert empty.resources == {} and empty.multiple and not empty.mandatory
    # Each definition gets its own resource dict, never a shared default.
    assert model.ObjectDef(11, "Other").resources is not empty.resources


# content/floats.py


def _f32(hexed):
    return unpack(">f", bytes.fromhex(hexed))[0]


def test_float_precision_is_detected_from_the_mantissa():
    assert floats.SINGLE == ((1.0 + 2.0 ** -30) == 1.0)
    assert floats.SINGLE == (_f32("3DCCCCCD") == 0.1)  # 0.1 is a single only there
    assert floats.fits_single(_f32("3EAAAAAB")) and floats.fits_single(-0.0)
    assert floats.fits_single(0.1) == floats.SINGLE
    assert floats.fits_single(float("inf"))


def test_shortest_text_of_singles_is_the_same_on_every_build():
    # From the bits with integer arithmetic, so a double build gives the same text.
    for bits, text in (("4366199A", "230.1"), ("3DCCCCCD", "0.1"), ("33D6BF95", "1e-07"),
                       ("7F7FC99E", "3.4e+38"), ("80000000", "-0.0"), ("00000000", "0.0"),
                       ("3EAAAAAB", "0.33333334"), ("7F7FFFFF", "3.4028235e+38"),
                       ("00800000", "1.1754944e-38"), ("007FFFFF", "1.1754942e-38"),
                       ("00000001", "1e-45"), ("4CEB79A3", "123456790.0"),
                       ("4B800000", "16777216.0"), ("49742400", "1000000.0"),
                       ("38D1B717", "0.0001"), ("3727C5AC", "1e-05"),
                       ("5A0E1BCA", "1e+16"), ("0F800000", "1.2621775e-29"),
                       ("7F800000", "inf"), ("FF800000", "-inf"), ("7FC00000", "nan")):
        assert floats.shortest_text(_f32(bits), True) == text, (bits, text)
    # The single 230.1 as a double: what a double-precision peer prints for it.
    assert floats.shortest_text(_f32("4366199A"), False) == "230.10000610351562"


def test_shortest_text_of_doubles():
    assert floats.shortest_text(-0.0, False) == "-0.0"
    if floats.SINGLE:
        assert floats.float_text(0.1) == "0.1" and floats.float_text(1 / 3) == "0.33333334"
        return
    for value, text in ((0.1, "0.1"), (1 / 3, "0.3333333333333333"), (556.416, "556.416"),
                        (2.0 ** -1074, "5e-324"), (1e16, "1e+16"), (1e15, "1000000000000000.0"),
                        (1.7976931348623157e308, "1.7976931348623157e+308"),
                        (2.2250738585072014e-308, "2.2250738585072014e-308"),
                        (123456789.125, "123456789.125"), (-2.5e-300, "-2.5e-300")):
        assert floats.shortest_text(value, False) == text, text
        assert floats.float_text(value) == text, text


def test_parse_decimal_rounds_to_the_nearest_float():
    for text, bits, literal in (("230.1", "4366199A", 230.1), ("-0.0", "80000000", -0.0),
                                (".5", "3F000000", 0.5), ("5.", "40A00000", 5.0),
                                ("1E2", "42C80000", 100.0), ("0.1e+1", "3F800000", 1.0)):
        got = floats.parse_decimal(text)
        assert got == (_f32(bits) if floats.SINGLE else literal), text
    assert str(floats.parse_decimal("-0.0")) == "-0.0"
    if not floats.SINGLE:
        assert floats.parse_decimal("230.10000610351562") == 230.10000610351562
        return
    # Exact where the interpreter's float() is not (see content/floats.py).
    for text, bits in (("230.10000610351562", "4366199A"), ("6.667e-11", "2E929BE0"),
                       ("3.4028234e+38", "7F7FFFFF"), ("3.4028235677973366e38", "7F7FFFFF"),
                       # Halfway above the largest single: ties to even, up to inf.
                       ("340282356779733661637539395458142568448", "7F800000"),
                       ("1e-45", "00000001"), ("7.006492321624085e-46", "00000000"),
                       ("7.0064923216240862e-46", "00000001"), ("16777217", "4B800000"),
                       ("16777219", "4B800002"), ("1.17549428e-38", "007FFFFF"),
                       ("1" + "0" * 130 + "1e-170", "000AE398"), ("1e39", "7F800000"),
                       ("0." + "0" * 60 + "1", "00000000"), ("-1e-300", "80000000")):
        assert pack(">f", floats.parse_decimal(text)) == bytes.fromhex(bits), text
