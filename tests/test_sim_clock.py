"""Simulated time (sim/clock.py): the running and the manual clock, the speed check, and
Current Time /3/0/13 computed on read from the meter's clock."""

from __future__ import annotations

import math

import pytest

from lwm2m_client.sim.clock import ManualClock, SimClock, check_speed
from lwm2m_client.sim.meters import TIMEZONE, UTC_OFFSET, build_meter_tree

T0 = 1704067200  # 2024-01-01 00:00 UTC


class FakeMonotonic:
    """The host's monotonic clock, moved by hand."""

    def __init__(self, now: float = 500.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_sim_clock_runs_speed_times_as_fast_as_the_host():
    host = FakeMonotonic()
    clock = SimClock(start_s=T0, speed=60, monotonic=host)
    assert clock.now() == T0 and clock() == T0
    host.now += 2.5
    assert clock.now() == T0 + 150.0  # two and a half real seconds: 150 simulated
    assert clock.speed == 60.0


def test_sim_clock_starts_at_the_hosts_calendar_time_by_default():
    clock = SimClock(monotonic=FakeMonotonic(), wall=lambda: 1.5e9)
    assert clock.now() == 1.5e9


def test_a_new_speed_applies_from_the_change_on():
    host = FakeMonotonic()
    clock = SimClock(start_s=T0, speed=10, monotonic=host)
    host.now += 1
    clock.speed = 1000
    host.now += 1
    assert clock.now() == T0 + 10 + 1000
    clock.speed = 0.5  # slower than real time is allowed
    host.now += 4
    assert clock.now() == T0 + 1012


def test_sim_clock_jumps_forward_never_back():
    host = FakeMonotonic()
    clock = SimClock(start_s=T0, speed=2, monotonic=host)
    clock.advance_to(T0 + 3600)
    assert clock.now() == T0 + 3600
    host.now += 1
    assert clock.now() == T0 + 3602  # runs on from the jump at the same speed
    clock.advance_to(T0)
    assert clock.now() == T0 + 3602


def test_sim_clock_never_shows_an_earlier_time():
    host = FakeMonotonic()
    clock = SimClock(start_s=T0, speed=1, monotonic=host)
    host.now += 10
    assert clock.now() == T0 + 10
    host.now -= 5  # a misbehaving host clock
    assert clock.now() == T0 + 10


def test_manual_clock_moves_only_forward():
    clock = ManualClock(T0)
    clock.advance(1.5)
    clock.advance(0)
    assert clock.now() == T0 + 1.5
    clock.advance_to(T0 + 10)
    clock.advance_to(T0 + 5)  # earlier: left as it is
    assert clock() == T0 + 10
    for bad in (-1, math.nan):
        with pytest.raises(ValueError, match="cannot go back"):
            clock.advance(bad)
    assert clock.now() == T0 + 10


@pytest.mark.parametrize("speed", [0, -1, -0.5, math.nan, math.inf, "60", None, True])
def test_check_speed_refuses_what_cannot_be_a_speed(speed):
    with pytest.raises(ValueError, match="speed"):
        check_speed(speed)
    with pytest.raises(ValueError, match="speed"):
        SimClock(speed=speed)


def test_check_speed_takes_positive_numbers():
    assert check_speed(60) == 60.0 and check_speed(0.25) == 0.25


# -- Current Time /3/0/13 ---------------------------------------------------------------


def test_current_time_is_computed_from_the_meters_clock():
    clock = ManualClock(T0 + 0.75)
    tree, meter = build_meter_tree("electricity", "ep", "coap://h", clock=clock)
    assert meter.device_clock is not None
    assert tree.get((3, 0, 13)) == T0  # whole seconds
    clock.advance(3600)
    assert tree.get((3, 0, 13)) == T0 + 3600
    assert tree.drain_changes() == []  # nothing stored, nothing recorded


def test_a_written_current_time_runs_on_from_the_written_value():
    clock = ManualClock(T0 + 10.25)
    tree, meter = build_meter_tree("gas", "ep", "coap://h", clock=clock)
    written = 1500000000
    tree.write((3, 0, 13), [((3, 0, 13), written)])
    assert meter.device_clock is not None
    assert meter.device_clock.offset == written - (T0 + 10.25)
    assert tree.get((3, 0, 13)) == written
    clock.advance(95.5)
    assert tree.get((3, 0, 13)) == written + 95  # the written time plus the time elapsed
    assert meter.device_clock.now() == pytest.approx(written + 95.5)
    # A reboot keeps the clock (a real-time clock runs on), so does a factory reset.
    tree.execute((3, 0, 4))
    tree.execute((3, 0, 5))
    assert tree.get((3, 0, 13)) == written + 95
    meter.device_clock.reset()
    assert tree.get((3, 0, 13)) == int(clock.now())


def test_current_time_follows_a_fast_clock():
    host = FakeMonotonic()
    clock = SimClock(start_s=T0, speed=60, monotonic=host)
    tree, _ = build_meter_tree("water", "ep", "coap://h", clock=clock)
    host.now += 1
    assert tree.get((3, 0, 13)) == T0 + 60


def test_utc_offset_and_timezone_writes_stay():
    clock = ManualClock(T0)
    tree, meter = build_meter_tree("water", "ep", "coap://h", clock=clock)
    assert (tree.get((3, 0, 14)), tree.get((3, 0, 15))) == (UTC_OFFSET, TIMEZONE)
    tree.write((3, 0, 14), [((3, 0, 14), "-05:00")])
    tree.write((3, 0, 15), [((3, 0, 15), "America/New_York")])
    for _ in range(3):
        clock.advance(60)
        meter.tick()
    assert (tree.get((3, 0, 14)), tree.get((3, 0, 15))) == ("-05:00", "America/New_York")
    assert tree.get((3, 0, 13)) == T0 + 180
