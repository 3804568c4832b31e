"""All-or-nothing writes: a batch with one bad item leaves every value as it was."""

from dm_objects import TEST_OID, make_tree, snapshot
from hypothesis import given, settings
from hypothesis import strategies as st

from lwm2m_client.core.dm.types import Objlnk
from lwm2m_client.core.errors import BadRequest, LwM2MError, MethodNotAllowed, NotFound

OID = TEST_OID

# Valid values for the writable resources of the test object (dm_objects.sample_def).
_VALUES = {
    0: st.text(max_size=8).filter(lambda s: len(s.encode("utf-8")) <= 8),
    1: st.integers(-10, 10),
    2: st.integers(0, 2**64 - 1),
    3: st.floats(allow_nan=False),
    4: st.booleans(),
    5: st.binary(max_size=16),
    6: st.integers(0, 2**40),
    7: st.builds(Objlnk, st.integers(0, 65535), st.integers(0, 65535)),
    12: st.sampled_from([0, 1, 2]),
}


def _valid_item(iid):
    single = st.sampled_from(sorted(_VALUES)).flatmap(
        lambda rid: _VALUES[rid].map(lambda v: ((OID, iid, rid), v)))
    multiple = st.tuples(st.integers(0, 5), st.one_of(st.none(), st.integers(0, 100))).map(
        lambda p: ((OID, iid, 8, p[0]), p[1]))
    return st.one_of(single, multiple)


# Items that must make the whole operation fail, with the error they cause.
_BAD_ITEMS = [
    (((OID, 0, 1), "1"), BadRequest),
    (((OID, 0, 1), 11), BadRequest),
    (((OID, 0, 0), "too long!"), BadRequest),
    (((OID, 0, 12), 3), BadRequest),
    (((OID, 0, 8, 0), 101), BadRequest),
    (((OID, 0, 8), 1), BadRequest),
    (((OID, 0, 1, 0), 1), BadRequest),
    (((OID, 0, 4), None), BadRequest),
    (((OID, 0, 9), 1), MethodNotAllowed),
    (((OID, 0, 11), 1), MethodNotAllowed),
    (((OID, 0, 13), "x"), MethodNotAllowed),
    (((OID, 0, 99), 1), NotFound),
    (((OID, 0, 10), "veto"), BadRequest),  # refused by the application's validator
]


def _veto(path, value):
    if value == "veto":
        raise BadRequest("vetoed")


def _fresh_tree():
    tree = make_tree()
    tree.on_write((), _veto)
    return tree


@settings(max_examples=300, deadline=None)
@given(st.lists(_valid_item(0), max_size=12), st.sampled_from(_BAD_ITEMS),
       st.integers(0, 12), st.booleans())
def test_write_with_one_bad_item_changes_nothing(items, bad, position, replace):
    tree = _fresh_tree()
    before = snapshot(tree)
    bad_item, error = bad
    items = list(items)
    items.insert(min(position, len(items)), bad_item)
    try:
        tree.write((OID, 0), items, replace=replace)
    except error:
        pass
    else:
        raise AssertionError(f"the bad item {bad_item!r} was accepted")
    assert snapshot(tree) == before
    assert tree.drain_changes() == []


@settings(max_examples=300, deadline=None)
@given(st.lists(_valid_item(0), max_size=12))
def test_partial_update_applies_every_item(items):
    tree = _fresh_tree()
    before = snapshot(tree)
    tree.write((OID, 0), items, replace=False)
    expected = dict(before)
    for path, value in items:
        if len(path) == 4:
            res = dict(expected.get(path[:3], {}))
            if value is None:
                res.pop(path[3], None)
            else:
                res[path[3]] = value
            expected[path[:3]] = res
        else:
            expected[path] = 1.0 * value if path[2] == 3 else value
    assert snapshot(tree) == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_valid_item(0), _valid_item(1)), max_size=10),
       st.sampled_from(_BAD_ITEMS), st.integers(0, 10))
def test_write_composite_with_one_bad_item_changes_nothing(items, bad, position):
    tree = _fresh_tree()
    items = [((1, 0, 1), 3600)] + list(items)
    items.insert(min(position, len(items)), bad[0])
    before = snapshot(tree)
    try:
        tree.write_composite(items)
    except LwM2MError as exc:
        assert isinstance(exc, bad[1])
    else:
        raise AssertionError("accepted")
    assert snapshot(tree) == before


@settings(max_examples=200, deadline=None)
@given(st.lists(_valid_item(5), max_size=8), st.sampled_from(_BAD_ITEMS), st.booleans())
def test_create_with_one_bad_item_creates_nothing(items, bad, with_bad):
    tree = _fresh_tree()
    items = [((OID, 5, 12), 0)] + list(items)
    bad_path, bad_value = bad[0]
    if with_bad:
        items.append(((OID, 5) + bad_path[2:], bad_value))
    before = snapshot(tree)
    try:
        tree.create(OID, 5, items)
    except LwM2MError:
        assert with_bad
        assert snapshot(tree) == before
    else:
        assert not with_bad
        assert tree.instances(OID) == [0, 1, 5]
