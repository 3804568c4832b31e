"""Read hooks, changed(), hook lifetimes and misuse of the hook registrations."""

import pytest
from dm_objects import TEST_OID, make_tree
from hypothesis import given, settings
from hypothesis import strategies as st

from lwm2m_client.core.dm import types as t
from lwm2m_client.core.errors import (
    BadRequest,
    InternalServerError,
    MethodNotAllowed,
    NotFound,
    UsageError,
)

OID = TEST_OID


@pytest.fixture
def tree():
    return make_tree()


class Power:
    """A fast-changing reading the tree does not store: every read asks."""

    def __init__(self, value=1.5):
        self.value = value
        self.calls = []

    def __call__(self, path):
        self.calls.append(path)
        return self.value


# -- read hooks without cache --------------------------------------------------------


def test_read_hook_computes_every_read(tree):
    power = Power()
    tree.on_read((OID, 1, 3), power)  # Float, no stored value
    assert tree.read((OID, 1, 3)) == [((OID, 1, 3), t.T_FLOAT, 1.5)]
    power.value = 2  # an int for a Float passes the checks of set
    assert tree.get((OID, 1, 3)) == 2.0 and type(tree.get((OID, 1, 3))) is float
    assert ((OID, 1, 3), t.T_FLOAT, 2.0) in tree.read((OID, 1))
    assert ((OID, 1, 3), t.T_FLOAT, 2.0) in tree.read((OID,))
    assert len(power.calls) == 5 and set(power.calls) == {(OID, 1, 3)}


def test_uncached_hook_stores_nothing_and_records_nothing(tree):
    power = Power()
    tree.on_read((OID, 1, 3), power)
    for value in (1.0, 2.0, 3.0):
        power.value = value
        tree.read((OID, 1, 3))
    assert tree.drain_changes() == []
    assert 3 not in tree._data[OID][1]


def test_hooked_resource_exists_without_a_value(tree):
    tree.on_read((OID, 1, 3), Power())
    assert tree.has((OID, 1, 3))
    assert 3 in tree.resource_ids(OID, 1)
    assert not tree.has((OID, 0, 3))  # the hook is for instance 1 only
    assert tree.resource_ids(OID, 1) == [3, 9, 12]


def test_hook_on_every_instance(tree):
    tree.on_read((OID, None, 6), lambda path: 1000 + path[1])
    assert tree.get((OID, 0, 6)) == 1000 and tree.get((OID, 1, 6)) == 1001
    iid = tree.create_instance(OID, values={9: 0, 12: 0})
    assert tree.read((OID, iid, 6)) == [((OID, iid, 6), t.T_TIME, 1000 + iid)]
    # An instance's own hook wins over the hook for every instance.
    tree.on_read((OID, 1, 6), lambda path: 7)
    assert tree.get((OID, 1, 6)) == 7 and tree.get((OID, 0, 6)) == 1000


def test_read_hook_wins_over_a_stored_value(tree):
    tree.on_read((OID, 0, 1), lambda path: -3)  # /9000/0/1 holds 5
    assert tree.read((OID, 0, 1)) == [((OID, 0, 1), t.T_INTEGER, -3)]
    assert tree.get((OID, 0, 1)) == -3


def test_read_hook_on_a_multiple_resource(tree):
    tree.on_read((OID, 1, 8), lambda path: {2: 20, 0: 5})
    assert tree.read((OID, 1, 8)) == [((OID, 1, 8, 0), t.T_INTEGER, 5),
                                      ((OID, 1, 8, 2), t.T_INTEGER, 20)]
    assert tree.read((OID, 1, 8, 2)) == [((OID, 1, 8, 2), t.T_INTEGER, 20)]
    assert tree.get((OID, 1, 8)) == {0: 5, 2: 20} and tree.get((OID, 1, 8, 0)) == 5
    assert tree.has((OID, 1, 8, 2)) and not tree.has((OID, 1, 8, 1))
    with pytest.raises(NotFound):
        tree.read((OID, 1, 8, 1))
    tree.on_read((OID, 1, 8), lambda path: {})
    assert tree.read((OID, 1, 8)) == [((OID, 1, 8), t.T_INTEGER, None)]


def test_read_of_a_non_readable_hooked_resource_is_405(tree):
    tree.on_read((OID, 0, 10), lambda path: "w")  # W-only
    with pytest.raises(MethodNotAllowed):
        tree.read((OID, 0, 10))
    assert (OID, 0, 10) not in [r[0] for r in tree.read((OID, 0))]
    assert tree.get((OID, 0, 10)) == "w"  # the application may still ask


# -- hook errors -----------------------------------------------------------------------


@pytest.mark.parametrize("fn", [
    lambda path: 1 / 0,  # a bug in the hook
    lambda path: "not a number",  # wrong type
    lambda path: 11,  # out of range -10..10
    lambda path: None,  # no value is not a value
    lambda path: {0: 1},  # a dict for a single resource
    lambda path: (_ for _ in ()).throw(UsageError("the hook misused the API")),
])
def test_failing_read_hook_answers_500(tree, fn):
    tree.on_read((OID, 0, 1), fn)
    for path in [(OID, 0, 1), (OID, 0), (OID,)]:
        with pytest.raises(InternalServerError):
            tree.read(path)
    with pytest.raises(InternalServerError):
        tree.get((OID, 0, 1))
    assert not tree.has((OID, 0, 1, 0))
    assert tree.drain_changes() == []


def test_bad_multiple_value_answers_500(tree):
    for bad in ([1, 2], {0: 101}, {-1: 1}, {"0": 1}):
        tree.on_read((OID, 0, 8), lambda path, bad=bad: bad)
        with pytest.raises(InternalServerError):
            tree.read((OID, 0, 8))


def test_hook_may_answer_its_own_code(tree):
    tree.on_read((OID, 0, 1), lambda path: (_ for _ in ()).throw(NotFound("not measured")))
    with pytest.raises(NotFound):
        tree.read((OID, 0, 1))
    # In an instance or object Read, the resource is left out.
    assert (OID, 0, 1) not in [r[0] for r in tree.read((OID, 0))]
    assert tree.read((OID, 0, 0)) == [((OID, 0, 0), t.T_STRING, "abc")]
    tree.on_read((OID, 0, 1), lambda path: (_ for _ in ()).throw(BadRequest("busy")))
    with pytest.raises(BadRequest):
        tree.read((OID, 0))


# -- read hooks with cache ----------------------------------------------------------


def test_cached_hook_stores_and_records_only_real_changes(tree):
    power = Power(1.0)
    tree.on_read((OID, 1, 3), power, cache=True)
    assert tree.read((OID, 1, 3)) == [((OID, 1, 3), t.T_FLOAT, 1.0)]
    assert tree._data[OID][1][3] == 1.0
    assert tree.drain_changes() == [(OID, 1, 3)]
    tree.read((OID, 1))
    assert tree.drain_changes() == []  # same value: no change
    power.value = 2.5
    assert tree.get((OID, 1, 3)) == 2.5
    assert tree.drain_changes() == [(OID, 1, 3)]


def test_cached_hook_failure_keeps_the_old_value(tree):
    values = iter([4, 99])
    tree.on_read((OID, 0, 1), lambda path: next(values), cache=True)
    assert tree.get((OID, 0, 1)) == 4
    with pytest.raises(InternalServerError):
        tree.get((OID, 0, 1))  # 99 is out of range
    assert tree._data[OID][0][1] == 4


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.integers(-20, 20), st.text(max_size=2)), min_size=1, max_size=8))
def test_cached_hook_invariants(values):
    # Whatever a hook returns: a valid value is stored and recorded when it differs, an
    # invalid one answers 5.00 and changes nothing.
    tree = make_tree()
    feed = iter(values)
    tree.on_read((OID, 0, 1), lambda path: next(feed), cache=True)
    stored = 5
    for value in values:
        if type(value) is int and -10 <= value <= 10:
            assert tree.read((OID, 0, 1)) == [((OID, 0, 1), t.T_INTEGER, value)]
            assert tree.drain_changes() == ([(OID, 0, 1)] if value != stored else [])
            stored = value
        else:
            with pytest.raises(InternalServerError):
                tree.read((OID, 0, 1))
            assert tree.drain_changes() == []
        assert tree._data[OID][0][1] == stored


# -- changed() ---------------------------------------------------------------------------


def test_changed_records_without_storing(tree):
    power = Power()
    tree.on_read((OID, 1, 3), power)
    tree.changed((OID, 1, 3))
    assert tree.drain_changes() == [(OID, 1, 3)]
    assert power.calls == [] and 3 not in tree._data[OID][1]
    tree.changed((OID, 0))
    tree.changed((OID, 0, 8, 1))
    tree.note_change((1, 0, 1))  # the earlier name of the same call
    assert tree.drain_changes() == [(OID, 0), (1, 0, 1)]


def test_changed_refreshes_a_cached_hook(tree):
    power = Power(3.0)
    tree.on_read((OID, 1, 3), power, cache=True)
    tree.changed((OID, 1, 3))
    assert power.calls == [(OID, 1, 3)] and tree._data[OID][1][3] == 3.0
    assert tree.drain_changes() == [(OID, 1, 3)]


@pytest.mark.parametrize("path, message", [
    ((42, 0, 1), "changed /42/0/1: object 42 is not supported"),
    ((OID, 7, 1), "changed /9000/7/1: no instance /9000/7"),
    ((OID, 0, 99), "changed /9000/0/99: resource 99 is not defined"),
    ((), "changed /: a path of 1 to 4 ids is expected"),
    ("/9000/0/1", "changed: path '/9000/0/1' is not a tuple"),
])
def test_changed_misuse(tree, path, message):
    with pytest.raises(UsageError, match=message):
        tree.changed(path)
    assert tree.drain_changes() == []


def test_set_refuses_a_hooked_resource(tree):
    tree.on_read((OID, None, 3), Power())
    with pytest.raises(UsageError, match="set /9000/0/3: a read hook computes"):
        tree.set((OID, 0, 3), 1.0)


# -- mandatory resources, Create and hook lifetime ------------------------------------------


def test_hooked_mandatory_resource_counts_as_present(tree):
    tree.on_read((OID, None, 9), lambda path: 42)  # /9000/x/9 is mandatory and R-only
    iid = tree.create_instance(OID, values={12: 0})
    assert tree.get((OID, iid, 9)) == 42
    iid = tree.create(OID, None, [((OID, 3, 12), 1)])
    assert tree.read((OID, iid, 9)) == [((OID, iid, 9), t.T_INTEGER, 42)]


def test_deleting_an_instance_drops_its_hooks(tree):
    calls = []
    tree.on_read((OID, 1, 3), lambda path: 1.0)
    tree.on_read((OID, None, 6), lambda path: 5)
    tree.on_execute((OID, 1, 11), lambda path, args: calls.append("one"))
    tree.on_execute((OID, None, 11), lambda path, args: calls.append("every"))
    tree.on_write((OID, 1), lambda path, value: calls.append("check"))
    tree.on_written((OID,), lambda path, value: calls.append("object"))
    tree.on_delete((OID, 1), lambda path: calls.append("delete"))
    tree.delete((OID, 1))
    assert calls == ["delete"]
    tree.create(OID, 1, [((OID, 1, 12), 0)])
    assert calls == ["delete", "object"]  # the object's hook stays
    assert not tree.has((OID, 1, 3)) and tree.get((OID, 1, 6)) == 5
    tree.execute((OID, 1, 11))
    assert calls[-1] == "every"
    tree.on_read((OID, 1, 3), lambda path: 1.0)
    tree.delete_instance(OID, 1)
    tree.create_instance(OID, 1, {9: 0, 12: 0})
    assert not tree.has((OID, 1, 3))


def test_on_delete_for_one_instance_and_for_the_object(tree):
    calls = []
    tree.on_delete(OID, lambda path: calls.append(("object", path)))
    tree.on_delete((OID, 1), lambda path: calls.append(("instance", path)))
    tree.delete((OID, 0))
    tree.delete((OID, 1))
    assert calls == [("object", (OID, 0)), ("instance", (OID, 1)), ("object", (OID, 1))]


def test_on_delete_instance_veto(tree):
    tree.on_delete((OID, 1), lambda path: (_ for _ in ()).throw(MethodNotAllowed("busy")))
    with pytest.raises(MethodNotAllowed):
        tree.delete((), bootstrap=True)
    assert tree.instances(OID) == [0, 1] and tree.instances(1) == [0]
    tree.delete((OID, 0))


def test_per_instance_and_per_object_write_hooks(tree):
    seen = []
    tree.on_write((OID,), lambda path, value: seen.append(("object", path)))
    tree.on_write((OID, 1), lambda path, value: seen.append(("instance", path)))
    tree.on_written((OID, 0, 1), lambda path, value: seen.append(("resource", path)))
    tree.write_composite([((OID, 0, 1), 2), ((OID, 1, 1), 3)])
    assert seen == [("object", (OID, 0, 1)), ("object", (OID, 1, 1)),
                    ("instance", (OID, 1, 1)), ("resource", (OID, 0, 1))]


# -- registration misuse --------------------------------------------------------------


@pytest.mark.parametrize("call, message", [
    (lambda tr: tr.on_read((OID, 0), lambda p: 1), r"on_read \(9000, 0\): a resource path"),
    (lambda tr: tr.on_read((42, 0, 1), lambda p: 1), "on_read /42/0/1: object 42 is not"),
    (lambda tr: tr.on_read((OID, None, 99), lambda p: 1),
     r"on_read /9000/\*/99: resource 99 of object 9000 is not defined"),
    (lambda tr: tr.on_read((OID, 0, 11), lambda p: 1), "resource 11 of object 9000 is executable"),
    (lambda tr: tr.on_read((OID, -1, 1), lambda p: 1), r"on_read \(9000, -1, 1\): ids are"),
    (lambda tr: tr.on_read((OID, 0, 1), 5), "on_read .*5 is not callable"),
    (lambda tr: tr.on_execute((OID, 0, 1), lambda p, a: 1), "on_execute /9000/0/1: .*not exec"),
    (lambda tr: tr.on_execute("/3/0/4", lambda p, a: 1), "on_execute '/3/0/4': a resource"),
    (lambda tr: tr.on_write((OID, "0"), lambda p, v: 1), "on_write .*'0' is not an id"),
    (lambda tr: tr.on_write((OID, 0, 1, 0), lambda p, v: 1), "on_write /9000/0/1/0: a path"),
    (lambda tr: tr.on_written(OID, lambda p, v: 1), "on_written: path 9000 is not a tuple"),
    (lambda tr: tr.on_create((OID,), lambda p, v: 1), r"on_create .*\(9000,\) is not an id"),
    (lambda tr: tr.on_delete((OID, 0, 1), lambda p: 1), "on_delete /9000/0/1: a path of 1 to 2"),
    (lambda tr: tr.deny_delete(()), "deny_delete /: a path of 1 to 2"),
    (lambda tr: tr.free_iid(42), "free_iid /42: object 42 is not supported"),
    (lambda tr: tr.delete_instance(OID, 5), "delete_instance /9000/5: no instance /9000/5"),
])
def test_registration_and_app_misuse(tree, call, message):
    with pytest.raises(UsageError, match=message):
        call(tree)


def test_misuse_is_a_value_error_without_a_coap_code(tree):
    with pytest.raises(ValueError) as info:
        tree.set((OID, 0, 99), 1)
    assert not hasattr(info.value, "code")
