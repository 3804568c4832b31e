"""Objects defined in Python (model.resource/obj) and instances written as classes (dm.app)."""

import inspect

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lwm2m_client.core.dm import types as t
from lwm2m_client.core.dm.app import Instance, attach, obj, resource
from lwm2m_client.core.dm.model import OP_E, OP_R, OP_RW, ObjectDef, Range
from lwm2m_client.core.dm.tree import ObjectTree
from lwm2m_client.core.errors import (
    BadRequest,
    InternalServerError,
    MethodNotAllowed,
    NotFound,
    UsageError,
)

# -- the vendor's example: a custom object in Python, under 25 lines ------------------


def example():
    TARIFF = obj(32769, "Tariff", [
        resource(0, "Active tariff", "Integer", "RW", mandatory=True, range_=(1, 2)),
        resource(1, "Power", "Float", "R", mandatory=True, units="W"),
        resource(2, "Next tariff", None, "E"),
    ], multiple=False)

    class Tariff(Instance):
        reads = (1,)
        executes = (2,)

        def __init__(self, meter):
            self.meter = meter

        def read(self, rid):
            return self.meter["power"]

        def check(self, rid, value):
            if value == 2 and self.meter["locked"]:
                raise BadRequest("tariff 2 is locked")

        def write(self, rid, value):
            self.meter["tariff"] = value

        def execute(self, rid, args):
            self.meter["tariff"] = 3 - self.meter["tariff"]
            self.tree.set((self.oid, self.iid, 0), self.meter["tariff"])
    return TARIFF, Tariff


def test_example_fits_in_25_lines():
    lines = [line for line in inspect.getsource(example).splitlines()[1:-1] if line.strip()]
    assert len(lines) < 25


def make():
    TARIFF, Tariff = example()
    meter = {"power": 230.5, "tariff": 1, "locked": False}
    tree = ObjectTree([TARIFF])
    tariff = Tariff(meter)
    assert attach(tree, 32769, 0, tariff, values={0: 1}) == 0
    tree.drain_changes()
    return tree, meter, tariff


def test_class_read_write_execute_end_to_end():
    tree, meter, tariff = make()
    assert repr(tariff) == "<Tariff /32769/0>"
    assert tree.read((32769, 0)) == [((32769, 0, 0), t.T_INTEGER, 1),
                                     ((32769, 0, 1), t.T_FLOAT, 230.5)]
    meter["power"] = 100  # an int reading is a Float value
    assert tree.read((32769, 0, 1)) == [((32769, 0, 1), t.T_FLOAT, 100.0)]
    tree.write((32769, 0, 0), [((32769, 0, 0), 2)])
    assert meter["tariff"] == 2 and tree.get((32769, 0, 0)) == 2
    tree.execute((32769, 0, 2), b"")
    assert meter["tariff"] == 1 and tree.get((32769, 0, 0)) == 1
    assert tree.resource_ids(32769, 0) == [0, 1, 2]
    tariff.changed(1)
    assert tree.drain_changes() == [(32769, 0, 0), (32769, 0, 1)]


def test_class_check_vetoes_and_nothing_is_applied():
    tree, meter, _ = make()
    meter["locked"] = True
    with pytest.raises(BadRequest):
        tree.write((32769, 0, 0), [((32769, 0, 0), 2)])
    assert meter["tariff"] == 1 and tree.get((32769, 0, 0)) == 1
    with pytest.raises(BadRequest):  # the tree's own range check comes first
        tree.write((32769, 0, 0), [((32769, 0, 0), 3)])
    with pytest.raises(MethodNotAllowed):
        tree.write((32769, 0, 1), [((32769, 0, 1), 1.0)])  # R-only


def test_class_failures_answer_500():
    tree, meter, _ = make()
    meter["power"] = "broken"
    with pytest.raises(InternalServerError):
        tree.read((32769, 0))
    del meter["tariff"]
    with pytest.raises(InternalServerError):
        tree.execute((32769, 0, 2))


def test_base_instance_defaults():
    tree = ObjectTree([obj(5000, "Bare", [resource(0, "v", "String", "R"),
                                           resource(1, "run", None, "E")])])
    inst = Instance()
    inst.reads = (0,)
    inst.executes = (1,)
    attach(tree, 5000, None, inst)
    with pytest.raises(NotFound):
        tree.read((5000, 0, 0))  # read() not overridden: no value
    assert tree.read((5000, 0)) == []
    with pytest.raises(NotFound):
        tree.execute((5000, 0, 1))
    assert attach(tree, 5000, None, Instance()) == 1


def test_deleting_an_attached_instance_drops_the_wiring():
    tree, meter, _ = make()
    tree.delete_instance(32769, 0)
    tree.create_instance(32769, 0, {0: 2}, check_mandatory=False)
    assert not tree.has((32769, 0, 1))
    tree.write((32769, 0, 0), [((32769, 0, 0), 1)])
    assert meter["tariff"] == 1 and tree.get((32769, 0, 0)) == 1
    tree.write((32769, 0, 0), [((32769, 0, 0), 2)])
    assert meter["tariff"] == 1  # no longer wired: the server's Write does not reach it


@pytest.mark.parametrize("args, message", [
    ((32769, 0, "meter"), "attach: 'meter' is not an Instance"),
    ((42, 0, None), "attach /42: object not supported"),
    ((32769, 1, None), "/32769/1: object 32769 is single-instance"),
    ((32769, 0, None, {0: 5}), "create_instance /32769/0/0: .*out of range"),
    ((32769, 0, None, {}), "create_instance /32769/0/0: mandatory resource missing"),
])
def test_attach_misuse_leaves_no_trace(args, message):
    TARIFF, Tariff = example()
    tree = ObjectTree([TARIFF])
    oid, iid, inst = args[:3]
    inst = Tariff({}) if inst is None else inst
    with pytest.raises(UsageError, match=message):
        attach(tree, oid, iid, inst, *args[3:])
    assert tree.instances(32769) == [] and tree._reads == {} and tree._exec == {}
    assert tree._checks == [] and tree._notifies == []


def test_attach_refuses_an_existing_instance_and_bad_lists():
    tree, _, _ = make()
    with pytest.raises(UsageError, match="attach /32769/0: the instance exists"):
        attach(tree, 32769, 0, Instance())
    assert tree.has((32769, 0, 1))  # the first attachment is untouched
    tree = ObjectTree([example()[0]])
    inst = Instance()
    inst.executes = (0,)
    with pytest.raises(UsageError, match="attach /32769/0/0: not an executable resource"):
        attach(tree, 32769, 0, inst)
    inst = Instance()
    inst.reads = (2,)
    with pytest.raises(UsageError, match="resource 2 of object 32769 is executable"):
        attach(tree, 32769, 0, inst)
    assert tree.instances(32769) == [] and tree._reads == {}


def test_cached_class_reads_record_changes():
    TARIFF, Tariff = example()
    tree = ObjectTree([TARIFF])
    meter = {"power": 1.0, "tariff": 1, "locked": False}
    tariff = Tariff(meter)
    tariff.cache = True
    attach(tree, 32769, 0, tariff, values={0: 1})
    tree.drain_changes()
    tree.read((32769, 0, 1))
    assert tree.drain_changes() == [(32769, 0, 1)]
    tree.read((32769, 0, 1))
    assert tree.drain_changes() == []


# -- model helpers ------------------------------------------------------------------


def test_resource_and_obj_build_definitions():
    odef = obj(32770, "Valve", [
        resource(0, "Open", t.T_BOOLEAN, OP_RW, mandatory=True),
        resource(1, "Label", "String", "RW", range_=(0, 8)),
        resource(2, "Flow", "float", " r ", range_=Range("num", 0, 10), units="l/min"),
        resource(3, "Close", "", "E"),
        resource(4, "Alarms", "Integer", "R", multiple=True, range_=(None, 9)),
    ], version="1.1")
    assert isinstance(odef, ObjectDef) and odef.multiple and odef.object_version == "1.1"
    assert sorted(odef.resources) == [0, 1, 2, 3, 4]
    assert odef.resources[1].range == Range("len", 0, 8)
    assert odef.resources[4].range == Range("num", None, 9) and odef.resources[4].multiple
    assert odef.resources[2].operations == OP_R and odef.resources[2].units == "l/min"
    assert odef.resources[3].operations == OP_E and odef.resources[3].type == t.T_NONE
    tree = ObjectTree([odef])
    tree.create_instance(32770, 0, {0: True, 1: "main"})
    with pytest.raises(UsageError, match="set /32770/0/1: .*out of range"):
        tree.set((32770, 0, 1), "much too long")


@pytest.mark.parametrize("make, message", [
    (lambda: resource(-1, "x", "Integer", "R"), "resource -1: the id must be"),
    (lambda: resource(0, "x", "Number", "R"), "resource 0: unknown LwM2M type 'Number'"),
    (lambda: resource(0, "x", 99, "R"), "resource 0: unknown type 99"),
    (lambda: resource(0, "x", "Integer", "RX"), "resource 0: unknown operations 'RX'"),
    (lambda: resource(0, "x", "Integer", 9), "resource 0: unknown operations 9"),
    (lambda: resource(0, "x", "Integer", "E"), "executable resources, and only they"),
    (lambda: resource(0, "x", None, "R"), "executable resources, and only they"),
    (lambda: resource(0, "x", "Integer", "R", range_=(1, 2, 3)), "a range is \\(lo, hi\\)"),
    (lambda: resource(0, "x", "Integer", "R", range_="1..2"), "range must be None"),
    (lambda: obj(70000, "x", []), "object 70000: the id must be"),
    (lambda: obj(1, "x", [resource(0, "a", "Integer", "R"), resource(0, "b", "Integer", "R")]),
     "object 1: resource 0 given twice"),
    (lambda: obj(1, "x", [(0, "a")]), "object 1: .* is not a ResourceDef"),
])
def test_model_helper_misuse(make, message):
    with pytest.raises(UsageError, match=message):
        make()


@settings(max_examples=100, deadline=None)
@given(lo=st.none() | st.integers(-100, 100), hi=st.none() | st.integers(-100, 100),
       value=st.integers(-200, 200))
def test_tuple_range_checks_like_set(lo, hi, value):
    tree = ObjectTree([obj(32771, "R", [resource(0, "n", "Integer", "RW", range_=(lo, hi))])])
    tree.create_instance(32771, 0)
    inside = (lo is None or value >= lo) and (hi is None or value <= hi)
    if inside:
        tree.set((32771, 0, 0), value)
        assert tree.get((32771, 0, 0)) == value
    else:
        with pytest.raises(UsageError):
            tree.set((32771, 0, 0), value)
