# The object tree under MicroPython: app API, Read/Write/Create/Delete/Execute, the
# all-or-nothing rule, Execute arguments, the bounded change log, read hooks, objects
# defined in Python and instances written as classes.
from mpcheck import raises

from lwm2m_client.core.dm import types as t
from lwm2m_client.core.dm.app import Instance, attach, obj, resource
from lwm2m_client.core.dm.changes import ChangeLog
from lwm2m_client.core.dm.execargs import format_args, parse_args
from lwm2m_client.core.dm.model import OP_E, OP_R, OP_RW, ObjectDef, Range, ResourceDef
from lwm2m_client.core.dm.tree import ObjectTree
from lwm2m_client.core.dm.types import Objlnk
from lwm2m_client.core.errors import (
    BadRequest,
    InternalServerError,
    MethodNotAllowed,
    NotFound,
    UsageError,
)


def _res(rid, ops, typ, multiple=False, mandatory=False, range_=None):
    return ResourceDef(rid, "r%d" % rid, ops, multiple, mandatory, typ, range_)


def _tree():
    device = ObjectDef(3, "Device", multiple=False, resources={
        0: _res(0, OP_R, t.T_STRING),
        4: _res(4, OP_E, t.T_NONE, mandatory=True),
        13: _res(13, OP_RW, t.T_TIME),
    })
    meter = ObjectDef(9000, "Meter", resources={
        0: _res(0, OP_RW, t.T_STRING, range_=Range("len", 0, 8)),
        1: _res(1, OP_RW, t.T_INTEGER, mandatory=True, range_=Range("num", -10, 10)),
        2: _res(2, OP_RW, t.T_FLOAT),
        3: _res(3, OP_RW, t.T_OBJLNK),
        5: _res(5, OP_RW, t.T_OPAQUE),
        8: _res(8, OP_RW, t.T_INTEGER, multiple=True),
        9: _res(9, OP_R, t.T_INTEGER),
    })
    tree = ObjectTree([device, meter])
    tree.create_instance(3, 0, {0: "ACME", 13: 1700000000})
    tree.create_instance(9000, None, {0: "abc", 1: 1, 8: {0: 10, 1: 20}, 9: 7})
    tree.drain_changes()
    return tree


def _values(tree):
    snap = {}
    for iid in tree.instances(9000):
        for rid in (0, 1, 2, 3, 5, 8, 9):
            if tree.has((9000, iid, rid)):
                snap[(iid, rid)] = tree.get((9000, iid, rid))
    return snap


def test_app_api():
    tree = _tree()
    assert tree.objects() == [3, 9000]
    assert tree.create_instance(9000, None, {1: 2}) == 1
    tree.set((9000, 1, 2), 3)
    assert tree.get((9000, 1, 2)) == 3.0
    tree.set((9000, 1, 3), "66:0")
    assert tree.get((9000, 1, 3)) == Objlnk(66, 0)
    e = raises(UsageError, tree.set, (9000, 1, 1), 11)
    assert str(e).startswith("set /9000/1/1: value of resource 1 out of range"), str(e)
    assert isinstance(e, ValueError) and not hasattr(e, "code")
    e = raises(UsageError, tree.create_instance, 3, 1)
    assert str(e) == "create_instance /3/1: object 3 is single-instance: only instance 0"
    e = raises(UsageError, tree.create_instance, 9000, 5, {0: "x"})
    assert str(e) == "create_instance /9000/5/1: mandatory resource missing"
    e = raises(UsageError, tree.get, (9000, 1, 0))
    assert str(e) == "get /9000/1/0: no value"
    assert raises(UsageError, tree.set, (9000, 1, 99), 1)
    assert raises(UsageError, tree.delete_instance, 9000, 7)
    assert raises(UsageError, tree.on_read, (9000, 0), lambda path: 1)
    assert raises(UsageError, tree.free_iid, 42)
    assert tree.free_iid(3) is None
    assert tree.drain_changes() == [(9000, 1)]


def test_read():
    tree = _tree()
    assert tree.read((9000, 0, 8)) == [((9000, 0, 8, 0), t.T_INTEGER, 10),
                                       ((9000, 0, 8, 1), t.T_INTEGER, 20)]
    assert tree.read((3, 0)) == [((3, 0, 0), t.T_STRING, "ACME"),
                                 ((3, 0, 13), t.T_TIME, 1700000000)]
    tree.set((9000, 0, 8), {})
    assert tree.read((9000, 0, 8)) == [((9000, 0, 8), t.T_INTEGER, None)]
    assert raises(MethodNotAllowed, tree.read, (3, 0, 4))
    assert raises(NotFound, tree.read, (3, 0, 99))


def test_write_replace_and_partial():
    tree = _tree()
    tree.write((9000, 0), [((9000, 0, 8, 5), 50)], False)
    assert tree.get((9000, 0, 8)) == {0: 10, 1: 20, 5: 50}
    changed = tree.write((9000, 0), [((9000, 0, 2), 1.5)], True)
    assert changed == [(9000, 0, 0), (9000, 0, 2), (9000, 0, 8)]
    assert tree.get((9000, 0, 1)) == 1 and tree.get((9000, 0, 9)) == 7
    assert not tree.has((9000, 0, 0))


def test_write_all_or_nothing():
    tree = _tree()
    before = _values(tree)
    bad = [
        ([((9000, 0, 0), "new"), ((9000, 0, 9), 1)], MethodNotAllowed),
        ([((9000, 0, 0), "new"), ((9000, 0, 1), 99)], BadRequest),
        ([((9000, 0, 0), "new"), ((9000, 0, 77), 1)], NotFound),
        ([((9000, 0, 0), "new"), ((9000, 1, 1), 1)], BadRequest),
        ([((9000, 0, 8, 3), 3), ((9000, 0, 5), "not bytes")], BadRequest),
    ]
    for items, error in bad:
        assert raises(error, tree.write, (9000, 0), items, True)
        assert _values(tree) == before
    assert tree.drain_changes() == []


def test_create_delete_execute():
    tree = _tree()
    tree.deny_delete((3, 0))
    assert tree.create(9000, None, [((9000, 1, 1), 0), ((9000, 1, 5), b"\x01")]) == 1
    assert tree.get((9000, 1, 5)) == b"\x01"
    assert raises(BadRequest, tree.create, 9000, 2, [((9000, 2, 0), "x")])
    assert raises(MethodNotAllowed, tree.create, 3, None, [])
    assert raises(MethodNotAllowed, tree.delete, (3, 0))
    assert tree.delete((9000, 1)) == [(9000, 1)]
    calls = []
    tree.on_execute((3, 0, 4), lambda path, args: calls.append(args))
    tree.execute((3, 0, 4), b"1='x',2")
    assert calls == [[(1, "x"), (2, None)]]
    tree.on_execute((3, 0, 4), lambda path, args: 1 // 0)
    assert raises(InternalServerError, tree.execute, (3, 0, 4), b"")
    assert raises(MethodNotAllowed, tree.execute, (3, 0, 13), b"")


def test_hooks():
    tree = _tree()
    seen = []

    def check(path, value):
        if value == "veto":
            raise BadRequest("no")

    tree.on_write((9000,), check)
    tree.on_written((9000,), lambda path, value: seen.append((path, value)))
    assert raises(BadRequest, tree.write, (9000, 0, 0), [((9000, 0, 0), "veto")], True)
    tree.write((9000, 0, 0), [((9000, 0, 0), "ok")], True)
    assert seen == [((9000, 0, 0), "ok")]


def test_execute_args():
    assert parse_args(b"5") == [(5, None)]
    assert parse_args(b"2='10.3'") == [(2, "10.3")]
    assert parse_args(b"0,1,2,3,4") == [(0, None), (1, None), (2, None), (3, None), (4, None)]
    for bad in (b"10", b"1='a", b"1=x", b"1,,2", b"a", b"1,", b"1='a b'"):
        assert raises(BadRequest, parse_args, bad)
    args = [(0, None), (7, "a=b&c"), (9, "")]
    assert parse_args(format_args(args)) == args


def test_change_log():
    log = ChangeLog(2)
    log.add((3, 0, 1))
    log.add((3, 0, 2))
    log.add((3, 0, 3))
    assert log.drain() == [(3, 0)]
    log.add((1, 0, 1))
    log.add((3, 0, 1))
    log.add((5, 0, 1))
    assert log.drain() == [()]


def test_read_hooks():
    tree = _tree()
    live = [1.5]
    tree.on_read((9000, 0, 2), lambda path: live[0])
    assert tree.read((9000, 0, 2)) == [((9000, 0, 2), t.T_FLOAT, 1.5)]
    live[0] = 2
    assert tree.get((9000, 0, 2)) == 2.0
    assert tree.has((9000, 0, 2)) and 2 in tree.resource_ids(9000, 0)
    assert ((9000, 0, 2), t.T_FLOAT, 2.0) in tree.read((9000,))
    assert tree.drain_changes() == []  # uncached: nothing stored, nothing recorded
    tree.changed((9000, 0, 2))
    assert tree.drain_changes() == [(9000, 0, 2)]
    tree.on_read((9000, None, 9), lambda path: 100 + path[1], cache=True)
    assert tree.get((9000, 0, 9)) == 100
    assert tree.drain_changes() == [(9000, 0, 9)]  # 7 -> 100 stored
    tree.get((9000, 0, 9))
    assert tree.drain_changes() == []
    tree.on_read((9000, 0, 8), lambda path: {1: 5})
    assert tree.read((9000, 0, 8, 1)) == [((9000, 0, 8, 1), t.T_INTEGER, 5)]
    for bad in (lambda path: 1 // 0, lambda path: "x", lambda path: 11):
        tree.on_read((9000, 0, 1), bad)
        assert raises(InternalServerError, tree.read, (9000, 0, 1))
        assert raises(InternalServerError, tree.read, (9000, 0))
    tree.on_read((9000, 0, 1), lambda path: raises(ValueError, int, "x") and _no_value())
    assert raises(NotFound, tree.read, (9000, 0, 1))
    assert (9000, 0, 1) not in [r[0] for r in tree.read((9000, 0))]
    assert raises(UsageError, tree.set, (9000, 0, 1), 1)
    tree.delete_instance(9000, 0)
    tree.create_instance(9000, 0, {1: 1})
    assert tree.get((9000, 0, 1)) == 1  # the instance's hooks went with it


def _no_value():
    raise NotFound("not measured now")


def test_class_instance():
    tariff_def = obj(32769, "Tariff", [
        resource(0, "Active tariff", "Integer", "RW", mandatory=True, range_=(1, 2)),
        resource(1, "Power", "Float", "R", mandatory=True, units="W"),
        resource(2, "Next tariff", None, "E"),
    ], multiple=False)

    class Tariff(Instance):
        reads = (1,)
        executes = (2,)

        def __init__(self):
            self.power = 230.5
            self.tariff = 1
            self.calls = []

        def read(self, rid):
            return self.power

        def check(self, rid, value):
            if value == 2 and self.power > 1000:
                raise BadRequest("no tariff 2 under load")

        def write(self, rid, value):
            self.tariff = value

        def execute(self, rid, args):
            self.calls.append(args)

    tree = ObjectTree([tariff_def])
    tariff = Tariff()
    assert attach(tree, 32769, None, tariff, values={0: 1}) == 0
    assert tree.read((32769, 0)) == [((32769, 0, 0), t.T_INTEGER, 1),
                                     ((32769, 0, 1), t.T_FLOAT, 230.5)]
    tree.write((32769, 0, 0), [((32769, 0, 0), 2)])
    assert tariff.tariff == 2 and tree.get((32769, 0, 0)) == 2
    tariff.power = 2000
    tree.write((32769, 0, 0), [((32769, 0, 0), 1)])
    assert raises(BadRequest, tree.write, (32769, 0, 0), [((32769, 0, 0), 2)])
    assert tariff.tariff == 1 and tree.get((32769, 0, 0)) == 1
    tree.execute((32769, 0, 2), b"1='x'")
    assert tariff.calls == [[(1, "x")]]
    tree.drain_changes()
    tariff.changed(1)
    assert tree.drain_changes() == [(32769, 0, 1)]
    assert repr(tariff) == "<Tariff /32769/0>"
    e = raises(UsageError, attach, tree, 32769, 0, Tariff())
    assert str(e) == "attach /32769/0: the instance exists"
    assert raises(UsageError, resource, 0, "x", "Number", "R")
    assert raises(UsageError, obj, 1, "x", [resource(0, "a", "Integer", "R")] * 2)
