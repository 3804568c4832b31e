"""The bounded change log: never more than its capacity, never a missed path."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lwm2m_client.core.dm.changes import ChangeLog
from lwm2m_client.core.dm.path import is_prefix


def test_deduplicates_and_keeps_order():
    log = ChangeLog(8)
    for path in [(3, 0, 1), (3, 0, 2), (3, 0, 1), (1, 0, 1)]:
        log.add(path)
    assert log.drain() == [(3, 0, 1), (3, 0, 2), (1, 0, 1)]
    assert log.drain() == []


def test_wider_path_absorbs_narrower_ones():
    log = ChangeLog(8)
    log.add((3, 0, 1))
    log.add((3, 0, 6, 0))
    log.add((3, 0))
    log.add((3, 0, 7))
    assert log.drain() == [(3, 0)]


def test_overflow_widens_to_instance_then_object_then_root():
    log = ChangeLog(2)
    log.add((3, 0, 1))
    log.add((3, 0, 2))
    log.add((3, 0, 3))  # full: the instance covers all three
    assert log.drain() == [(3, 0)]
    log.add((3, 0, 1))
    log.add((3, 1, 1))
    log.add((3, 2, 1))  # no sibling in /3/2: widen to the object
    assert log.drain() == [(3,)]
    log.add((1, 0, 1))
    log.add((3, 0, 1))
    log.add((5, 0, 1))  # three objects in two slots: the root
    assert log.drain() == [()]


def test_capacity_must_be_positive():
    with pytest.raises(ValueError):
        ChangeLog(0)


_PATHS = st.lists(st.integers(0, 3), min_size=1, max_size=4).map(tuple)


@settings(max_examples=400)
@given(st.integers(1, 6), st.lists(_PATHS, max_size=40))
def test_bounded_and_covering(capacity, paths):
    log = ChangeLog(capacity)
    for path in paths:
        log.add(path)
        assert len(log) <= capacity
    drained = log.drain()
    for path in paths:
        assert any(is_prefix(p, path) for p in drained), path
    for a in drained:  # no entry is covered by another
        assert not any(a != b and is_prefix(b, a) for b in drained)
