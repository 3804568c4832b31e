# Compiled object models under MicroPython: objects_from_tuples and Range.check.
from lwm2m_client.core.dm import compiled
from lwm2m_client.core.dm import types as t
from lwm2m_client.core.dm.model import OP_E, OP_R, OP_RW, Range

# Two objects in the layout a compiled module carries (lwm2m_client.core.dm.compiled).
DATA = (
    (3, "Device", "urn:oma:lwm2m:oma:3:1.2", "1.1", "1.2", 0, 1, (
        (4, "Reboot", OP_E, 0, 1, t.T_NONE, None, "", ""),
        (9, "Battery Level", OP_R, 0, 0, t.T_INTEGER, ("num", 0, 100, None, "0..100"),
         "/100", ""),
        (13, "Current Time", OP_RW, 0, 0, t.T_TIME, None, "", ""),
    ), ""),
    (5, "Firmware Update", "urn:oma:lwm2m:oma:5:1.2", "1.1", "1.2", 0, 0, (
        (1, "Package URI", OP_RW, 0, 1, t.T_STRING, ("len", 0, 255, None, "0..255"), "", ""),
        (3, "State", OP_R, 0, 1, t.T_INTEGER, ("num", 0, 3, None, "0..3"), "", "state"),
        (11, "Severity", OP_RW, 0, 0, t.T_INTEGER, ("enum", None, None, (0, 1, 2), "0,1,2"),
         "", ""),
    ), "firmware"),
)


def test_objects_from_tuples():
    objects = compiled.objects_from_tuples(DATA)
    assert sorted(objects) == [3, 5]
    dev = objects[3]
    assert dev.name == "Device" and dev.object_version == "1.2" and dev.lwm2m_version == "1.1"
    assert dev.multiple is False and dev.mandatory is True
    reboot = dev.resource(4)
    assert reboot.executable and not reboot.readable and reboot.type == t.T_NONE
    assert dev.resource(9).units == "/100"
    assert dev.resource(13).readable and dev.resource(13).writable
    assert dev.resource(99) is None
    fw = objects[5]
    assert fw.description == "firmware" and fw.resource(3).description == "state"
    assert fw.resource(3).range == Range("num", 0, 3)
    assert fw.resource(11).range.values == (0, 1, 2)


def test_round_trip_to_tuples():
    objects = compiled.objects_from_tuples(DATA)
    for item in DATA:
        assert compiled.object_to_tuple(objects[item[0]], True) == item
    lean = compiled.object_to_tuple(objects[5])
    assert lean[8] == "" and lean[7][1][8] == ""


def test_wrong_format_is_refused():
    try:
        compiled.objects_from_tuples(DATA, compiled.FORMAT + 1)
    except ValueError:
        return
    raise AssertionError("a module compiled for another layout must be refused")


def test_range_check():
    state = Range("num", 0, 3)
    assert state.check(t.T_INTEGER, 0) and state.check(t.T_INTEGER, 3)
    assert not state.check(t.T_INTEGER, -1) and not state.check(t.T_INTEGER, 4)
    low = Range("num", 0.0, None)
    assert low.check(t.T_FLOAT, 1e300) and not low.check(t.T_FLOAT, -0.1)
    uri = Range("len", 0, 4)
    assert uri.check(t.T_STRING, "abcd") and not uri.check(t.T_STRING, "abcde")
    # UTF-8 length, not characters: two 2-byte characters fill 4 bytes.
    assert uri.check(t.T_STRING, "\u00e9\u00e9") and not uri.check(t.T_STRING, "\u00e9\u00e9a")
    assert Range("len", 16, 48).check(t.T_OPAQUE, b"k" * 16)
    assert not Range("len", 16, 48).check(t.T_OPAQUE, b"k" * 15)
    sev = Range("enum", values=(0, 1, 2))
    assert sev.check(t.T_INTEGER, 2) and not sev.check(t.T_INTEGER, 5)
    assert Range("text", text="8-Bits").check(t.T_INTEGER, 12345)
    # A numeric range on a non-numeric type checks nothing.
    assert Range("num", 0, 1).check(t.T_BOOLEAN, True)
    big = Range("num", 0, 18446744073709551615)
    assert big.check(t.T_UNSIGNED, 18446744073709551615)
    assert not big.check(t.T_UNSIGNED, 18446744073709551616)
