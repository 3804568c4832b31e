"""ObjectTree: application API, server operations and their response codes, hooks."""

import pytest
from dm_objects import TEST_OID, device_def, make_tree, sample_def, server_def, snapshot

from lwm2m_client.core.dm import types as t
from lwm2m_client.core.dm.path import path_str
from lwm2m_client.core.dm.tree import ObjectTree
from lwm2m_client.core.dm.types import Objlnk
from lwm2m_client.core.errors import (
    BadRequest,
    InternalServerError,
    LwM2MError,
    MethodNotAllowed,
    NotFound,
    RequestEntityTooLarge,
    UsageError,
)

OID = TEST_OID


@pytest.fixture
def tree():
    return make_tree()


# -- application API -----------------------------------------------------------------


def test_objects_and_instances(tree):
    assert tree.objects() == [1, 3, OID]
    assert tree.instances(OID) == [0, 1]
    assert tree.instances(3) == [0]
    with pytest.raises(NotFound):
        tree.instances(42)


def test_defs_as_dict():
    tree = ObjectTree({1: server_def(), 3: device_def()})
    assert tree.objects() == [1, 3]
    with pytest.raises(UsageError, match="add_object /1: object already added"):
        tree.add_object(server_def())
    with pytest.raises(UsageError, match="not an ObjectDef"):
        tree.add_object({"oid": 5})


def test_create_instance_takes_lowest_free_iid(tree):
    tree.delete_instance(OID, 0)
    assert tree.create_instance(OID, values={9: 1, 12: 2}) == 0
    assert tree.create_instance(OID, values={9: 1, 12: 2}) == 2
    assert tree.instances(OID) == [0, 1, 2]


def test_create_instance_single_instance_object():
    tree = ObjectTree([device_def()])
    with pytest.raises(UsageError, match="/3/1: object 3 is single-instance"):
        tree.create_instance(3, 1, {11: {}})
    assert tree.free_iid(3) == 0
    assert tree.create_instance(3, None, {11: {}}) == 0
    assert tree.free_iid(3) is None
    with pytest.raises(UsageError, match="create_instance /3: no free instance id"):
        tree.create_instance(3, None, {11: {}})
    with pytest.raises(UsageError, match="create_instance /3/0: the instance exists"):
        tree.create_instance(3, 0, {11: {}})


def test_create_instance_mandatory_check(tree):
    with pytest.raises(UsageError, match="/9000/5/9: mandatory resource missing"):
        tree.create_instance(OID, 5, {12: 0})  # /9000/x/9 is mandatory
    assert not tree.has((OID, 5))
    assert tree.create_instance(OID, 5, {12: 0}, check_mandatory=False) == 5
    tree.set((OID, 5, 9), 3)
    assert tree.get((OID, 5, 9)) == 3


@pytest.mark.parametrize("args, message", [
    ((42,), "create_instance /42: object 42 is not supported"),
    ((OID, 7, {99: 1}, False), "create_instance /9000/7/99: resource 99 is not defined"),
    ((OID, 7, {9: "seven", 12: 0}), "create_instance /9000/7/9: Integer value expected"),
    ((OID, 7, {9: 1, 12: 3}), "create_instance /9000/7/12: .* out of range"),  # enum 0..2
    ((OID, 7, {9: 1, 12: 0, 8: [1, 2]}), "/9000/7/8: resource 8 is multiple"),
    ((OID, 7, {9: 1, 12: 0, 11: None}), "/9000/7/11: resource 11 is executable"),
    ((OID, 7, [(9, 1)]), "create_instance /9000/7: values must be a dict"),
    ((OID, 65535, {9: 1, 12: 0}), "/9000/65535: 65535 is not a valid instance id"),
    ((OID, -1), r"create_instance \(9000, -1\): -1 is not an id"),
    ((OID, "1"), "create_instance .*'1' is not an id"),
    (("9000",), "create_instance .*'9000' is not an id"),
])
def test_create_instance_misuse(tree, args, message):
    with pytest.raises(UsageError, match=message):
        tree.create_instance(*args)
    assert tree.instances(OID) == [0, 1]
    assert tree.drain_changes() == []


def test_max_instances():
    tree = ObjectTree([sample_def()], max_instances=2)
    tree.create_instance(OID, values={9: 0, 12: 0})
    tree.create_instance(OID, values={9: 0, 12: 0})
    with pytest.raises(UsageError, match="/9000/2: object 9000 is full"):
        tree.create_instance(OID, values={9: 0, 12: 0})


def test_get_and_has(tree):
    assert tree.get((OID, 0, 0)) == "abc"
    assert tree.get((OID, 0, 8)) == {0: 10, 1: 20}
    assert tree.get((OID, 0, 8, 1)) == 20
    tree.get((OID, 0, 8))[5] = 1  # a copy: the tree is not touched
    assert tree.get((OID, 0, 8)) == {0: 10, 1: 20}
    for missing, why in [((OID, 0, 2), "no value"),
                         ((OID, 0, 8, 9), "no such resource instance"),
                         ((OID, 0, 0, 0), "no such resource instance"),
                         ((OID, 0, 99), "resource 99 is not defined in object 9000"),
                         ((OID, 9, 0), "no instance /9000/9"),
                         ((42, 0, 0), "object 42 is not supported")]:
        with pytest.raises(UsageError, match=f"get {path_str(missing)}: {why}"):
            tree.get(missing)
    with pytest.raises(UsageError, match="get /9000/0: a path of 3 to 4 ids is expected"):
        tree.get((OID, 0))
    with pytest.raises(UsageError, match="get: path '/9000/0/0' is not a tuple"):
        tree.get("/9000/0/0")
    assert tree.get([OID, 0, 0]) == "abc"  # a list is taken as a path
    assert tree.has(()) and tree.has((OID,)) and tree.has((OID, 1)) and tree.has((OID, 0, 8, 0))
    assert not tree.has((42,)) and not tree.has((OID, 7)) and not tree.has((OID, 0, 2))
    assert not tree.has((OID, 0, 8, 7)) and not tree.has((OID, 0, 0, 0))


def test_set_checks_type_and_range_but_not_operations(tree):
    tree.set((OID, 0, 9), 42)  # R-only: the application owns its readings
    assert tree.get((OID, 0, 9)) == 42
    tree.set((OID, 0, 3), 2)  # an int for a Float resource is converted
    assert tree.get((OID, 0, 3)) == 2.0 and type(tree.get((OID, 0, 3))) is float
    tree.set((OID, 0, 7), "66:0")
    assert tree.get((OID, 0, 7)) == Objlnk(66, 0)
    for path, value in [((OID, 0, 1), 11), ((OID, 0, 1), "1"), ((OID, 0, 0), "123456789"),
                        ((OID, 0, 4), 1), ((OID, 0, 2), -1), ((OID, 0, 8, 0), 101),
                        ((OID, 0, 11), 1), ((OID, 0, 8), {0: 1, 70000: 2}), ((OID, 0, 0, 0), "x"),
                        ((OID, 0), 1), ((OID, 0, 99), 1), ((OID, 4, 1), 1), ((OID, 0, 70000), 1)]:
        with pytest.raises(UsageError) as info:
            tree.set(path, value)
        message = str(info.value)
        assert message.startswith("set ") and "\n" not in message
        assert path_str(path) in message or repr(path) in message
    assert tree.drain_changes() == [(OID, 0, 9), (OID, 0, 3), (OID, 0, 7)]


def test_set_multiple_and_remove(tree):
    tree.set((OID, 0, 8), {3: 30})
    assert tree.get((OID, 0, 8)) == {3: 30}
    tree.set((OID, 0, 8, 4), 40)
    assert tree.get((OID, 0, 8)) == {3: 30, 4: 40}
    tree.set((OID, 0, 8, 3), None)
    assert tree.get((OID, 0, 8)) == {4: 40}
    tree.set((OID, 0, 0), None)
    assert not tree.has((OID, 0, 0))


def test_max_resource_instances():
    tree = ObjectTree([sample_def()], max_resource_instances=2)
    tree.create_instance(OID, 0, {9: 0, 12: 0, 8: {0: 1, 1: 2}})
    tree.set((OID, 0, 8, 1), 3)  # replacing an existing instance is fine
    with pytest.raises(UsageError, match="set /9000/0/8/2: more than 2 instances"):
        tree.set((OID, 0, 8, 2), 3)
    with pytest.raises(UsageError, match="set /9000/0/8: more than 2 instances"):
        tree.set((OID, 0, 8), {0: 1, 1: 2, 2: 3})
    with pytest.raises(RequestEntityTooLarge):
        tree.write((OID, 0, 8, 5), [((OID, 0, 8, 5), 1)])
    assert tree.get((OID, 0, 8)) == {0: 1, 1: 3}


def test_type_of(tree):
    assert tree.type_of((OID, 0, 3)) == t.T_FLOAT
    assert tree.type_of((OID, 7, 8, 2)) == t.T_INTEGER  # the type depends on the definition only
    assert tree.type_of((OID, 0, 99)) is None
    assert tree.type_of((42, 0, 0)) is None
    assert tree.type_of((OID, 0)) is None


# -- Read ----------------------------------------------------------------------------


def test_read_resource(tree):
    assert tree.read((OID, 0, 0)) == [((OID, 0, 0), t.T_STRING, "abc")]
    assert tree.read((OID, 0, 8)) == [
        ((OID, 0, 8, 0), t.T_INTEGER, 10),
        ((OID, 0, 8, 1), t.T_INTEGER, 20),
    ]
    assert tree.read((OID, 0, 8, 1)) == [((OID, 0, 8, 1), t.T_INTEGER, 20)]


def test_read_empty_multiple_resource(tree):
    tree.set((OID, 0, 8), {})
    assert tree.read((OID, 0, 8)) == [((OID, 0, 8), t.T_INTEGER, None)]
    assert ((OID, 0, 8), t.T_INTEGER, None) in tree.read((OID, 0))


def test_read_instance_skips_unreadable(tree):
    tree.set((OID, 0, 10), "secret")  # W-only
    tree.set((OID, 0, 13), "hidden")  # no operations
    assert tree.read((OID, 0)) == [
        ((OID, 0, 0), t.T_STRING, "abc"),
        ((OID, 0, 1), t.T_INTEGER, 5),
        ((OID, 0, 8, 0), t.T_INTEGER, 10),
        ((OID, 0, 8, 1), t.T_INTEGER, 20),
        ((OID, 0, 9), t.T_INTEGER, 7),
        ((OID, 0, 12), t.T_INTEGER, 1),
    ]


def test_read_object(tree):
    records = tree.read((OID,))
    assert [r[0] for r in records] == sorted(r[0] for r in records)
    assert records[-2:] == [((OID, 1, 9), t.T_INTEGER, 0), ((OID, 1, 12), t.T_INTEGER, 0)]
    assert ObjectTree([sample_def()]).read((OID,)) == []  # 2.05 with an empty body


def test_read_errors(tree):
    for path in [(42,), (OID, 7), (OID, 0, 99), (OID, 0, 2), (OID, 0, 8, 5), (OID, 0, 0, 0)]:
        with pytest.raises(NotFound):
            tree.read(path)
    for path in [(), (OID, 0, 10), (OID, 0, 11), (OID, 0, 13), (3, 0, 4)]:
        with pytest.raises(MethodNotAllowed):
            tree.read(path)


# -- Write ---------------------------------------------------------------------------


def test_write_replace_instance_resets_absent_optional_writable(tree):
    tree.set((OID, 0, 10), "w")
    changed = tree.write((OID, 0), [((OID, 0, 2), 3), ((OID, 0, 8, 7), 70)], replace=True)
    snap = snapshot(tree)
    assert snap[(OID, 0, 2)] == 3
    assert snap[(OID, 0, 8)] == {7: 70}  # a multiple resource is replaced whole
    assert (OID, 0, 0) not in snap and (OID, 0, 1) not in snap and (OID, 0, 10) not in snap
    assert snap[(OID, 0, 9)] == 7  # read-only: untouched
    assert snap[(OID, 0, 12)] == 1  # mandatory: keeps its value
    assert changed == [(OID, 0, 0), (OID, 0, 1), (OID, 0, 2), (OID, 0, 8), (OID, 0, 10)]


def test_write_partial_update_instance_merges(tree):
    tree.write((OID, 0), [((OID, 0, 1), -3), ((OID, 0, 8, 5), 50)], replace=False)
    assert tree.get((OID, 0, 0)) == "abc"
    assert tree.get((OID, 0, 1)) == -3
    assert tree.get((OID, 0, 8)) == {0: 10, 1: 20, 5: 50}


def test_write_resource_replace_and_partial(tree):
    tree.write((OID, 0, 8), [((OID, 0, 8, 2), 2), ((OID, 0, 8, 3), 3)], replace=False)
    assert tree.get((OID, 0, 8)) == {0: 10, 1: 20, 2: 2, 3: 3}
    tree.write((OID, 0, 8), [((OID, 0, 8, 9), 9)], replace=True)
    assert tree.get((OID, 0, 8)) == {9: 9}
    tree.write((OID, 0, 8), [], replace=True)
    assert tree.get((OID, 0, 8)) == {}
    tree.write((OID, 0, 0), [((OID, 0, 0), "xyz")])
    assert tree.get((OID, 0, 0)) == "xyz"


def test_write_empty_multiple_resource_record(tree):
    # An empty Multiple Resource TLV decodes to (path3, None).
    tree.write((OID, 0), [((OID, 0, 8), None)], replace=True)
    assert tree.get((OID, 0, 8)) == {}


def test_write_resource_instance_and_etch_delete(tree):
    tree.write((OID, 0, 8, 1), [((OID, 0, 8, 1), 21)])
    assert tree.get((OID, 0, 8)) == {0: 10, 1: 21}
    tree.write((OID, 0), [((OID, 0, 8, 0), None)], replace=False)  # SenML-ETCH null
    assert tree.get((OID, 0, 8)) == {1: 21}


def test_write_coerces_every_type(tree):
    items = [((OID, 0, 0), "s"), ((OID, 0, 1), -2.0), ((OID, 0, 2), 2**64 - 1), ((OID, 0, 3), 1),
             ((OID, 0, 4), True), ((OID, 0, 5), bytearray(b"\x00\xff")), ((OID, 0, 6), 5.0),
             ((OID, 0, 7), "1:2"), ((OID, 0, 10), "w")]
    tree.write((OID, 0), items, replace=False)
    snap = snapshot(tree)
    assert [snap[p] for p, _ in items] == ["s", -2, 2**64 - 1, 1.0, True, b"\x00\xff", 5,
                                          Objlnk(1, 2), "w"]
    assert type(snap[(OID, 0, 1)]) is int and type(snap[(OID, 0, 5)]) is bytes


@pytest.mark.parametrize("path, items, error", [
    ((OID,), [((OID, 0, 1), 1)], MethodNotAllowed),  # PUT /o is Create's path
    ((), [], MethodNotAllowed),
    ((OID, 0), [((OID, 0, 9), 1)], MethodNotAllowed),  # R-only
    ((OID, 0, 9), [((OID, 0, 9), 1)], MethodNotAllowed),
    ((OID, 0), [((OID, 0, 11), 1)], MethodNotAllowed),  # executable
    ((OID, 0), [((OID, 0, 13), "x")], MethodNotAllowed),  # no operations
    ((OID, 0), [((OID, 0, 99), 1)], NotFound),
    ((OID, 0, 99), [((OID, 0, 99), 1)], NotFound),
    ((OID, 7), [((OID, 7, 1), 1)], NotFound),
    ((42, 0), [((42, 0, 1), 1)], NotFound),
    ((OID, 0, 1, 0), [((OID, 0, 1, 0), 1)], NotFound),  # no instances on a single resource
    ((OID, 0), [((OID, 1, 1), 1)], BadRequest),  # outside the path
    ((OID, 0, 1), [((OID, 0, 2), 1)], BadRequest),
    ((OID, 0), [((OID, 0), 1)], BadRequest),
    ((OID, 0), [((OID, 0, 1), "1")], BadRequest),  # wrong type
    ((OID, 0), [((OID, 0, 1), 11)], BadRequest),  # out of range
    ((OID, 0), [((OID, 0, 0), "123456789")], BadRequest),  # too long
    ((OID, 0), [((OID, 0, 12), 5)], BadRequest),  # not in the enumeration
    ((OID, 0), [((OID, 0, 1, 0), 1)], BadRequest),  # instance of a single resource
    ((OID, 0), [((OID, 0, 8), 1)], BadRequest),  # multiple resource without instance id
    ((OID, 0), [((OID, 0, 1), None)], BadRequest),
    ((OID, 0, 1), [], BadRequest),
])
def test_write_errors_leave_tree_unchanged(tree, path, items, error):
    before = snapshot(tree)
    with pytest.raises(error):
        tree.write(path, [((OID, 0, 0), "new")] + items if len(path) == 2 else items)
    assert snapshot(tree) == before
    assert tree.drain_changes() == []


def test_write_returns_only_changed_paths(tree):
    items = [((OID, 0, 0), "abc"), ((OID, 0, 1), 6)]
    assert tree.write((OID, 0), items, replace=False) == [(OID, 0, 1)]
    assert tree.drain_changes() == [(OID, 0, 1)]


def test_bootstrap_write(tree):
    changed = tree.write((OID,), [((OID, 4, 9), 1), ((OID, 4, 12), 2), ((OID, 4, 99), 1),
                                ((OID, 0, 13), "cfg")], bootstrap=True)
    assert changed == [(OID, 4), (OID, 0, 13), (OID, 4, 9), (OID, 4, 12)]
    assert tree.get((OID, 4, 9)) == 1  # R-only and no-operation resources are written
    assert tree.get((OID, 0, 13)) == "cfg"
    assert tree.get((OID, 0, 0)) == "abc"  # absent resources are kept
    tree.write((1, 3), [((1, 3, 1), 60)], bootstrap=True)  # mandatory ones may come later
    assert tree.get((1, 3, 1)) == 60
    with pytest.raises(BadRequest):
        tree.write((3, 1), [((3, 1, 13), 1)], bootstrap=True)  # single-instance object
    with pytest.raises(MethodNotAllowed):
        tree.write((OID, 0), [((OID, 0, 11), 1)], bootstrap=True)


def test_write_composite(tree):
    changed = tree.write_composite([((1, 0, 1), 600), ((OID, 1, 8, 0), 1), ((3, 0, 14), "+01")])
    assert changed == [(1, 0, 1), (3, 0, 14), (OID, 1, 8)]
    assert tree.get((1, 0, 1)) == 600 and tree.get((OID, 1, 8)) == {0: 1}
    tree.write_composite([((OID, 0, 8, 0), None)])
    assert tree.get((OID, 0, 8)) == {1: 20}


@pytest.mark.parametrize("items, error", [
    ([((1, 0, 1), 1), ((3, 0, 0), "x")], MethodNotAllowed),
    ([((1, 0, 1), 1), ((3, 1, 13), 1)], NotFound),
    ([((1, 0, 1), 1), ((42, 0, 0), 1)], NotFound),
    ([((1, 0, 1), 1), ((OID, 0, 1), 99)], BadRequest),
    ([((1, 0, 1), 1), ((OID, 0), 1)], BadRequest),
])
def test_write_composite_all_or_nothing(tree, items, error):
    before = snapshot(tree)
    with pytest.raises(error):
        tree.write_composite(items)
    assert snapshot(tree) == before


# -- Create --------------------------------------------------------------------------


def test_create(tree):
    assert tree.create(OID, None, [((OID, 2, 12), 2), ((OID, 2, 0), "n")]) == 2
    assert tree.get((OID, 2, 0)) == "n"
    assert tree.create(OID, 9, [((OID, 9, 12), 0)]) == 9
    assert tree.drain_changes() == [(OID, 2), (OID, 9)]


@pytest.mark.parametrize("oid, iid, items, error", [
    (OID, 0, [((OID, 0, 12), 0)], BadRequest),  # the instance exists
    (OID, 5, [((OID, 5, 0), "x")], BadRequest),  # mandatory writable /9000/x/12 missing
    (OID, 5, [((OID, 6, 12), 0)], BadRequest),  # outside the new instance
    (OID, 5, [((OID, 5, 12), 0), ((OID, 5, 9), 1)], MethodNotAllowed),  # R-only
    (OID, 5, [((OID, 5, 12), 0), ((OID, 5, 99), 1)], NotFound),
    (OID, 5, [((OID, 5, 12), 7)], BadRequest),
    (3, None, [], MethodNotAllowed),  # single-instance object with its instance
    (42, None, [], NotFound),
])
def test_create_errors(tree, oid, iid, items, error):
    before = snapshot(tree)
    with pytest.raises(error):
        tree.create(oid, iid, items)
    assert snapshot(tree) == before


def test_create_denied(tree):
    tree.deny_create(1)
    with pytest.raises(MethodNotAllowed):
        tree.create(1, None, [])


def test_create_hook_fills_read_only_values(tree):
    seen = []

    def hook(path, values):
        seen.append((path, dict(values)))
        values[9] = 0

    tree.on_create(OID, hook)
    iid = tree.create(OID, None, [((OID, 2, 12), 1)])
    assert seen == [((OID, 2), {12: 1})]
    assert tree.get((OID, iid, 9)) == 0


@pytest.mark.parametrize("action, error", [
    (lambda values: (_ for _ in ()).throw(BadRequest("no")), BadRequest),
    (lambda values: 1 / 0, InternalServerError),
    (lambda values: values.update({9: "not an int"}), InternalServerError),
])
def test_create_hook_veto(tree, action, error):
    tree.on_create(OID, lambda path, values: action(values))
    with pytest.raises(error):
        tree.create(OID, None, [((OID, 2, 12), 1)])
    assert tree.instances(OID) == [0, 1]


def test_create_full_object():
    tree = ObjectTree([sample_def()], max_instances=1)
    tree.create(OID, None, [((OID, 0, 12), 0)])
    with pytest.raises(InternalServerError):
        tree.create(OID, None, [((OID, 1, 12), 0)])


# -- Delete --------------------------------------------------------------------------


def test_delete_instance(tree):
    assert tree.delete((OID, 1)) == [(OID, 1)]
    assert tree.instances(OID) == [0]
    assert tree.drain_changes() == [(OID, 1)]
    with pytest.raises(NotFound):
        tree.delete((OID, 1))


def test_delete_protected(tree):
    tree.deny_delete((3, 0))
    tree.deny_delete((1,))
    for path in [(3, 0), (1, 0)]:
        with pytest.raises(MethodNotAllowed):
            tree.delete(path)
    assert tree.instances(3) == [0] and tree.instances(1) == [0]


def test_delete_bad_paths(tree):
    for path in [(), (OID,), (OID, 0, 1)]:
        with pytest.raises(MethodNotAllowed):
            tree.delete(path)


def test_delete_resource_instance(tree):
    assert tree.delete((OID, 0, 8, 0)) == [(OID, 0, 8)]
    assert tree.get((OID, 0, 8)) == {1: 20}
    with pytest.raises(NotFound):
        tree.delete((OID, 0, 8, 0))
    with pytest.raises(MethodNotAllowed):
        tree.delete((3, 0, 11, 0))  # R-only resource


def test_delete_hook_veto(tree):
    tree.on_delete(OID, lambda path: (_ for _ in ()).throw(MethodNotAllowed("busy")))
    with pytest.raises(MethodNotAllowed):
        tree.delete((OID, 0))
    assert tree.instances(OID) == [0, 1]


def test_bootstrap_delete_keeps_protected(tree):
    tree.deny_delete((3, 0))
    assert tree.delete((), bootstrap=True) == [(1, 0), (OID, 0), (OID, 1)]
    assert tree.instances(3) == [0]
    tree.create_instance(1, 0, {0: 1, 1: 1, 6: True, 7: "U"})
    tree.create_instance(OID, 3, {9: 1, 12: 1})
    assert tree.delete((OID,), bootstrap=True) == [(OID, 3)]
    assert tree.instances(1) == [0]


def test_bootstrap_delete_is_all_or_nothing_under_veto(tree):
    tree.on_delete(OID, lambda path: (_ for _ in ()).throw(BadRequest("keep")))
    with pytest.raises(BadRequest):
        tree.delete((), bootstrap=True)
    assert tree.instances(1) == [0] and tree.instances(OID) == [0, 1]


# -- Execute -------------------------------------------------------------------------


def test_execute_calls_handler_with_parsed_args(tree):
    calls = []
    tree.on_execute((3, 0, 4), lambda path, args: calls.append((path, args)))
    tree.execute((3, 0, 4), b"0,1='x'")
    tree.execute((3, 0, 4))
    assert calls == [((3, 0, 4), [(0, None), (1, "x")]), ((3, 0, 4), [])]


def test_execute_wildcard_and_exact_handler(tree):
    calls = []
    tree.on_execute((1, None, 8), lambda path, args: calls.append(("any", path)))
    tree.create_instance(1, 1, {0: 2, 1: 60, 6: True, 7: "U"})
    tree.on_execute((1, 1, 8), lambda path, args: calls.append(("one", path)))
    tree.execute((1, 0, 8))
    tree.execute((1, 1, 8))
    assert calls == [("any", (1, 0, 8)), ("one", (1, 1, 8))]
    assert tree.has((1, 0, 8)) and 8 in tree.resource_ids(1, 0)


@pytest.mark.parametrize("path, error", [
    ((3,), MethodNotAllowed),
    ((3, 0), MethodNotAllowed),
    ((3, 0, 4, 0), MethodNotAllowed),
    ((), MethodNotAllowed),
    ((3, 0, 0), MethodNotAllowed),  # readable, not executable
    ((1, 0, 8), NotFound),  # executable but no handler: not implemented
    ((3, 0, 99), NotFound),
    ((3, 1, 4), NotFound),
    ((42, 0, 4), NotFound),
])
def test_execute_errors(tree, path, error):
    tree.on_execute((3, 0, 4), lambda path, args: None)
    with pytest.raises(error):
        tree.execute(path)


def test_execute_bad_arguments_do_not_reach_the_handler(tree):
    calls = []
    tree.on_execute((3, 0, 4), lambda path, args: calls.append(args))
    with pytest.raises(BadRequest):
        tree.execute((3, 0, 4), b"1='a")
    assert calls == []


def test_execute_handler_failures(tree):
    tree.on_execute((3, 0, 4), lambda path, args: {}["missing"])
    with pytest.raises(InternalServerError):
        tree.execute((3, 0, 4))
    tree.on_execute((3, 0, 4), lambda path, args: (_ for _ in ()).throw(NotFound("gone")))
    with pytest.raises(NotFound):
        tree.execute((3, 0, 4))


def test_on_execute_needs_resource_path(tree):
    with pytest.raises(UsageError, match=r"on_execute \(3, 0\): a resource path"):
        tree.on_execute((3, 0), lambda path, args: None)
    with pytest.raises(UsageError, match="on_execute /3/0/0: resource 0 of object 3 is not"):
        tree.on_execute((3, 0, 0), lambda path, args: None)


# -- hooks and change tracking -------------------------------------------------------


def test_on_write_sees_changed_resources_and_can_veto(tree):
    seen = []

    def check(path, value):
        seen.append((path, value))
        if value == 99:
            raise BadRequest("veto")

    tree.on_write((OID, 0), check)
    tree.write((OID, 0), [((OID, 0, 1), 5), ((OID, 0, 2), 3.0), ((OID, 0, 8, 4), 4)], replace=False)
    assert seen == [((OID, 0, 2), 3), ((OID, 0, 8), {0: 10, 1: 20, 4: 4})]
    before = snapshot(tree)
    with pytest.raises(BadRequest):
        tree.write((OID, 0), [((OID, 0, 1), 1), ((OID, 0, 2), 99)], replace=False)
    assert snapshot(tree) == before
    tree.write((OID, 1), [((OID, 1, 2), 99)], replace=False)  # outside the prefix


def test_on_write_sees_removals(tree):
    seen = []
    tree.on_write((OID,), lambda path, value: seen.append((path, value)))
    tree.write((OID, 0), [((OID, 0, 1), 1)], replace=True)
    assert seen == [((OID, 0, 0), None), ((OID, 0, 1), 1), ((OID, 0, 8), None)]


def test_on_write_non_lwm2m_error_becomes_500(tree):
    tree.on_write((1,), lambda path, value: int("x"))
    with pytest.raises(InternalServerError):
        tree.write((1, 0), [((1, 0, 1), 1)], replace=False)
    assert tree.get((1, 0, 1)) == 300


def test_on_written_after_apply(tree):
    seen = []
    tree.on_written((1, 0, 1), lambda path, value: seen.append((path, value, tree.get(path))))
    tree.write_composite([((1, 0, 1), 86400), ((1, 0, 2), 1)])
    assert seen == [((1, 0, 1), 86400, 86400)]


def test_on_written_failure_is_reported_after_all_hooks(tree):
    seen = []
    tree.on_written((1,), lambda path, value: 1 / 0)
    tree.on_written((1,), lambda path, value: seen.append(path))
    with pytest.raises(InternalServerError):
        tree.write((1, 0), [((1, 0, 1), 1), ((1, 0, 2), 2)], replace=False)
    assert seen == [(1, 0, 1), (1, 0, 2)]
    assert tree.get((1, 0, 1)) == 1  # applied: the notification came after the commit


def test_hooks_are_not_called_for_application_set(tree):
    seen = []
    tree.on_write((), lambda path, value: seen.append(path))
    tree.on_written((), lambda path, value: seen.append(path))
    tree.set((OID, 0, 1), 2)
    assert seen == []


def test_changes_from_set(tree):
    tree.set((OID, 0, 1), 5)  # same value: nothing changed
    assert tree.drain_changes() == []
    tree.set((OID, 0, 1), 6)
    tree.set((OID, 0, 8, 0), 11)
    tree.set((OID, 0, 1), 7)
    assert tree.drain_changes() == [(OID, 0, 1), (OID, 0, 8, 0)]
    assert tree.drain_changes() == []


def test_changes_are_bounded():
    tree = ObjectTree([sample_def()], change_capacity=4)
    for iid in range(3):
        tree.create_instance(OID, iid, {9: 0, 12: 0})
    tree.drain_changes()
    for iid in range(3):
        for rid in (0, 1, 2, 3, 4):
            tree.set((OID, iid, rid), {0: "v", 1: 1, 2: 1, 3: 1.5, 4: True}[rid])
    changes = tree.drain_changes()
    assert len(changes) <= 4
    for iid in range(3):
        for rid in (0, 1, 2, 3, 4):
            assert any(p == (OID, iid, rid)[:len(p)] for p in changes)


def test_resource_ids(tree):
    assert tree.resource_ids(OID, 0) == [0, 1, 8, 9, 12]
    tree.on_execute((OID, None, 11), lambda path, args: None)
    assert tree.resource_ids(OID, 1) == [9, 11, 12]
    with pytest.raises(NotFound):
        tree.resource_ids(OID, 5)


def test_error_codes():
    # The response codes of LWM2M-FACTS section 1, carried by the classes the tree raises.
    assert (BadRequest.code, NotFound.code, MethodNotAllowed.code) == (0x80, 0x84, 0x85)
    assert InternalServerError.code == 0xA0 and issubclass(InternalServerError, LwM2MError)


def test_shipped_device_object():
    models = pytest.importorskip("lwm2m_client.models")
    objects = models.shipped_objects()
    tree = ObjectTree(objects)
    tree.create_instance(3, 0, {11: {0: 0}, 16: "U"}, check_mandatory=False)
    tree.deny_delete((3, 0))
    reboots = []
    tree.on_execute((3, 0, 4), lambda path, args: reboots.append(args))
    tree.execute((3, 0, 4))
    assert reboots == [[]]
    with pytest.raises(MethodNotAllowed):
        tree.delete((3, 0))
    with pytest.raises(MethodNotAllowed):
        tree.write((3, 0, 11), [((3, 0, 11, 0), 1)])  # Error Code is read-only
    assert tree.read((3, 0, 16)) == [((3, 0, 16), t.T_STRING, "U")]
