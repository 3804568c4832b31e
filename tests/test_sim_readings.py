"""Readings computed when read (sim/base.py, power.py, volume.py): counters that never
decrease whatever the read times, the same values for the same seed and time whatever
was read before, energy that is the integral of power, volume that is the integral of
flow, the daily profile's shape, and a cost per read that does not grow with the time
since the meter's start."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lwm2m_client.core.dm.tree import ObjectTree
from lwm2m_client.models import shipped_objects
from lwm2m_client.sim import power
from lwm2m_client.sim.clock import Clock, ManualClock
from lwm2m_client.sim.meters import VolumeMeter, build_meter_tree, make_meter
from lwm2m_client.sim.power import HOUR_MS, MWMS_PER_KWH, RATIO, Load
from lwm2m_client.sim.profiles import RESIDENTIAL_ELECTRICITY
from lwm2m_client.sim.volume import FLOW_PER_M3S, SLOT_MS, UNITS_PER_M3

KINDS = ("electricity", "3phase", "gas", "water")
T0 = 1704067200  # 2024-01-01 00:00 UTC
JULY = 1719792000  # 2024-07-01 00:00 UTC
CUMULATIVE = {"electricity": (14, 15, 16), "3phase": (41, 42, 43, 44, 45),
              "gas": (1, 4), "water": (1, 4)}

# Steps between reads: none (the same moment read again), under a second (the same
# sample), minutes, hours, days.
steps = st.lists(st.one_of(st.just(0.0), st.floats(0.0, 1.0), st.floats(0.0, 900.0),
                           st.floats(0.0, 36 * 3600.0)), max_size=25)


def counters(tree, meter):
    return [tree.get(meter.path(rid)) for rid in CUMULATIVE[meter.kind]]


# -- monotonic counters -----------------------------------------------------------------


@settings(max_examples=60)
@given(kind=st.sampled_from(KINDS), seed=st.integers(0, 2 ** 32),
       start=st.floats(T0, T0 + 365 * 86400.0), steps=steps)
def test_counters_never_decrease_whatever_the_read_times(kind, seed, start, steps):
    clock = ManualClock(start)
    tree, meter = build_meter_tree(kind, "ep", "coap://h", seed=seed, clock=clock)
    before = counters(tree, meter)
    for dt in steps:
        clock.advance(dt)
        now = counters(tree, meter)
        assert all(b <= a for a, b in zip(now, before, strict=True))
        assert counters(tree, meter) == now  # the same moment read twice: the same values
        before = now


@settings(max_examples=40)
@given(kind=st.sampled_from(KINDS), seed=st.integers(0, 2 ** 32),
       times=st.lists(st.floats(T0, T0 + 4 * 86400.0), min_size=2, max_size=20))
def test_counters_are_a_function_of_time_whatever_was_read_before(kind, seed, times):
    """Read at times in any order (readings_at does not move the clock): each time gives
    the value a fresh meter gives, and later times never give less."""
    _, meter = build_meter_tree(kind, "ep", "coap://h", seed=seed, start_s=T0)
    rids = CUMULATIVE[kind]
    got = {t: [meter.readings_at(t)[rid] for rid in rids] for t in times}
    for t in times:
        _, fresh = build_meter_tree(kind, "ep", "coap://h", seed=seed, start_s=T0)
        assert [fresh.readings_at(t)[rid] for rid in rids] == got[t]
    ordered = [got[t] for t in sorted(times)]
    for earlier, later in zip(ordered, ordered[1:], strict=False):
        assert all(a <= b for a, b in zip(earlier, later, strict=True))


class BackwardsClock(Clock):
    """A clock that does what it is told, even going back."""

    def __init__(self, now: float) -> None:
        self.t = now

    def now(self) -> float:
        return self.t

    def advance_to(self, t_s: float) -> None:
        self.t = t_s


@pytest.mark.parametrize("kind", KINDS)
def test_a_clock_going_back_cannot_make_a_read_show_less(kind):
    clock = BackwardsClock(T0)
    tree, meter = build_meter_tree(kind, "ep", "coap://h", seed=2, clock=clock)
    clock.t = T0 + 10 * 3600
    at_10 = counters(tree, meter)
    assert counters(tree, meter) == at_10
    clock.t = T0 + 5 * 3600
    assert counters(tree, meter) == at_10  # the meter stays at the latest time it read
    assert meter.readings_at(T0 + 5 * 3600) != meter.readings_at(T0 + 10 * 3600)


def test_a_manual_clock_cannot_go_from_10_to_5():
    clock = ManualClock(T0 + 10)
    clock.advance_to(T0 + 5)
    assert clock.now() == T0 + 10


@pytest.mark.parametrize("kind", KINDS)
def test_before_its_start_a_meter_shows_its_start(kind):
    clock = ManualClock(T0)
    tree, meter = build_meter_tree(kind, "ep", "coap://h", seed=4, clock=clock,
                                   start_s=T0 + 3600)
    first = counters(tree, meter)
    clock.advance(1800)
    assert counters(tree, meter) == first
    clock.advance(3600)
    assert counters(tree, meter)[0] > first[0]


# -- determinism ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_and_time_same_readings_different_seed_different_readings(kind):
    def read_at(seed, reads):
        clock = ManualClock(T0)
        tree, meter = build_meter_tree(kind, "ep", "coap://h", seed=seed, clock=clock)
        for t in reads:  # different histories of reads before the common time
            clock.advance_to(t)
            meter.readings()
        clock.advance_to(T0 + 86400 + 0.5)
        return dict(meter.readings())

    a = read_at(5, [])
    assert a == read_at(5, [T0 + 60, T0 + 3600.5, T0 + 43210])
    assert a != read_at(6, [])


# -- energy is the integral of power --------------------------------------------------


def simpson(f, a_ms, b_ms, step_ms):
    """Simpson's rule on an even number of ``step_ms`` steps: exact for the load's power,
    a cubic within each ten-second cell when the steps fit the cells."""
    n = (b_ms - a_ms) // step_ms
    assert n % 2 == 0
    total = f(a_ms) + f(b_ms)
    for k in range(1, n):
        total += (4 if k % 2 else 2) * f(a_ms + k * step_ms)
    return total * step_ms / 3


@pytest.mark.parametrize("start_h, hours", [(0, 2), (17, 3), (7 * 24 + 5, 1)])
def test_each_energy_register_is_the_exact_integral_of_its_power(start_h, hours):
    load = Load(key=12345, profile=RESIDENTIAL_ELECTRICITY, peak_kw=1.1, base_kw=0.15)
    origin = T0 * 1000 - 7 * HOUR_MS - 4321  # anywhere, not on an hour or a cell
    load.start(origin)
    a = T0 * 1000 + start_h * HOUR_MS + 30_000
    b = a + hours * HOUR_MS - 10_000
    energy_a, energy_b = load.energy(a), load.energy(b)
    active = simpson(load.power_mw, a, b, 1000)
    assert energy_b[0] - energy_a[0] == pytest.approx(active, rel=1e-9)

    # Reactive and apparent power are fixed multiples of the active power in each hour:
    # integrate hour by hour, with the multiples of that hour up to its end.
    cuts = [a] + [h * HOUR_MS for h in range(a // HOUR_MS + 1, b // HOUR_MS + 1)] + [b]
    q = s = 0.0
    for x, y in zip(cuts, cuts[1:], strict=False):
        rec = load.hour(x // HOUR_MS)
        used = simpson(load.power_mw, x, y, 1000)
        q += used * rec.rq / RATIO
        s += used * rec.rs / RATIO
    assert (energy_b[1] + energy_b[2]) - (energy_a[1] + energy_a[2]) == pytest.approx(q, rel=1e-8)
    assert energy_b[3] - energy_a[3] == pytest.approx(s, rel=1e-8)


def test_the_ripple_moves_the_power_but_not_the_energy_of_a_cell():
    load = Load(key=7, profile=RESIDENTIAL_ELECTRICITY, peak_kw=1.0, base_kw=0.2)
    load.start(T0 * 1000)
    cell = T0 * 1000 + 5 * HOUR_MS + 40 * power.CELL_MS
    rec = load.hour(cell // HOUR_MS)
    slope = (rec.k1 - rec.k0) / HOUR_MS
    powers = [load.power_mw(cell + k * 1000) for k in range(11)]
    slow = [rec.k0 + slope * (cell + k * 1000 - (cell // HOUR_MS) * HOUR_MS) for k in range(11)]
    assert powers[0] == pytest.approx(slow[0]) and powers[10] == pytest.approx(slow[10])
    assert max(abs(p - s) for p, s in zip(powers, slow, strict=True)) > 0.1 * rec.amax
    used = load.energy(cell + power.CELL_MS)[0] - load.energy(cell)[0]
    assert abs(used - (slow[0] + slow[10]) / 2 * power.CELL_MS) <= 1


@pytest.mark.parametrize("kind, power_rid, energy_rid", [
    ("electricity", 6, 14), ("3phase", 34, 41),
])
def test_the_registers_read_follow_the_power_read(kind, power_rid, energy_rid):
    """Through the tree, to the readings' resolution: an hour of power read every second
    integrates to the energy register's growth."""
    clock = ManualClock(T0 + 18 * 3600)
    tree, meter = build_meter_tree(kind, "ep", "coap://h", seed=3, clock=clock)
    e0 = tree.get(meter.path(energy_rid))
    samples = []
    for _ in range(3600):
        samples.append(tree.get(meter.path(power_rid)))
        clock.advance(1)
    samples.append(tree.get(meter.path(power_rid)))
    used = simpson(lambda k: samples[k], 0, 3600, 1) / 3600  # kWh
    # Power to 1 W, energy to 1 Wh: within a few Wh.
    assert tree.get(meter.path(energy_rid)) - e0 == pytest.approx(used, abs=0.003)


# -- volume is the integral of flow --------------------------------------------------


@pytest.mark.parametrize("kind, leak", [("gas", 0.0), ("water", 0.0), ("water", 3e-6)])
def test_volume_is_the_integral_of_the_flow(kind, leak):
    defs = shipped_objects()
    tree = ObjectTree([defs[3423], defs[3424]])
    meter = make_meter(kind, tree, seed=8, start_s=T0 + 123.456, leak_m3s=leak)
    assert isinstance(meter, VolumeMeter)
    a = T0 * 1000 + 6 * 3_600_000 + 77_000
    b = a + 5 * SLOT_MS + 12_345
    # The flow is piecewise constant: integrate it between its changes exactly.
    edges = {a, b}
    for j in range(a // SLOT_MS, b // SLOT_MS + 1):
        slot = meter.slot(j)
        for t in (j * SLOT_MS, j * SLOT_MS + slot.off, j * SLOT_MS + slot.off + slot.run):
            if a < t < b:
                edges.add(t)
    cuts = sorted(edges)
    flowed = 0
    for x, y in zip(cuts, cuts[1:], strict=False):
        j, u = divmod(x, SLOT_MS)
        slot = meter.slot(j)
        running = slot.off <= u < slot.off + slot.run
        flowed += (meter.leak + (slot.flow if running else 0)) * (y - x)
    assert meter.volume_units(b) - meter.volume_units(a) == flowed
    assert flowed > 0


def test_min_and_max_flow_are_those_of_the_quarter_hour_so_far():
    clock = ManualClock(T0 + 7 * 3600)
    tree, meter = build_meter_tree("water", "ep", "coap://h", seed=1, clock=clock)
    j = (T0 + 7 * 3600) * 1000 // SLOT_MS
    slot = meter.slot(j)
    assert slot.run > 0 and slot.off > 1000  # a morning tap, opened after the slot began
    assert (tree.get(meter.path(7)), tree.get(meter.path(8))) == (0.0, 0.0)
    clock.advance((slot.off + 1000) / 1000)
    flow = round(slot.flow / FLOW_PER_M3S, 7)
    assert (tree.get(meter.path(7)), tree.get(meter.path(8))) == (0.0, flow)
    clock.advance(SLOT_MS / 1000)  # the next quarter hour
    assert tree.get(meter.path(8)) <= round(meter.slot(j + 1).flow / FLOW_PER_M3S, 7)


def test_resets_and_pulse_ratio_keep_the_registers_consistent():
    clock = ManualClock(T0 + 6 * 3600)
    tree, meter = build_meter_tree("water", "ep", "coap://h", seed=2, clock=clock)
    clock.advance(3 * 3600)
    tree.execute(meter.path(2))
    assert tree.get(meter.path(1)) == 0.0
    assert tree.drain_changes() == [meter.path(1)]  # observers learn of the reset
    clock.advance(3600)
    volume = tree.get(meter.path(1))
    assert volume > 0
    tree.execute(meter.path(5))
    assert tree.get(meter.path(4)) == 0
    tree.write(meter.path(6), [(meter.path(6), 10)])  # ten pulses per m3
    clock.advance(12 * 3600)
    grown = tree.get(meter.path(1)) - volume
    assert grown > 0
    assert abs(tree.get(meter.path(4)) - grown * 10) <= 1
    # The registers changed at the pulse ratio's Write: no read looks before it.
    assert meter.readings_at(T0) == meter.readings_at(T0 + 6 * 3600 + 4 * 3600)


def test_the_daily_profile_shapes_the_readings():
    """A week of each meter, read every ten minutes: when each one is busy."""
    by_hour: dict[str, list[list[float]]] = {}
    for kind, rid in (("electricity", 6), ("3phase", 34), ("gas", 1), ("water", 1)):
        clock = ManualClock(T0)
        tree, meter = build_meter_tree(kind, "ep", "coap://h", seed=4, clock=clock)
        hours: list[list[float]] = [[] for _ in range(24)]
        last = tree.get(meter.path(rid))
        for _ in range(7 * 144):
            clock.advance(600)
            value = tree.get(meter.path(rid))
            hour = int((clock.now() - 300) % 86400 // 3600)
            hours[hour].append(value if rid != 1 else value - last)
            last = value
        by_hour[kind] = hours

    def mean(kind, lo, hi):
        cells = [v for h in range(lo, hi) for v in by_hour[kind][h]]
        return sum(cells) / len(cells)

    assert mean("electricity", 18, 21) > 2 * mean("electricity", 2, 5)  # the evening peak
    assert mean("3phase", 9, 16) > 2.5 * mean("3phase", 0, 5)  # office hours
    assert mean("gas", 6, 9) > 5 * mean("gas", 0, 4)  # heating up in the morning
    assert mean("water", 6, 9) > 10 * mean("water", 1, 4)  # showers, not at night


def test_gas_follows_the_seasons():
    used = {}
    for name, start in (("winter", T0), ("summer", JULY)):
        clock = ManualClock(start)
        tree, meter = build_meter_tree("gas", "ep", "coap://h", seed=9, clock=clock)
        v0 = tree.get(meter.path(1))
        clock.advance(3 * 86400)
        used[name] = tree.get(meter.path(1)) - v0
    assert used["winter"] > 3 * used["summer"] > 0


# -- cost per read ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_read_costs_the_time_since_the_last_read_not_since_the_start(kind, monkeypatch):
    """Count the hours (power) or quarter hours (volume) a read works through."""
    clock = ManualClock(T0)
    tree, meter = build_meter_tree(kind, "ep", "coap://h", seed=1, clock=clock)
    calls = []
    cls = Load if kind in ("electricity", "3phase") else type(meter)
    name = "hour" if cls is Load else "slot"
    original = getattr(cls, name)

    def counted(self, index):
        calls.append(index)
        return original(self, index)

    monkeypatch.setattr(cls, name, counted)
    clock.advance(30 * 86400)  # a month later: the first read works through it once
    tree.get(meter.path(CUMULATIVE[kind][0]))
    assert len(calls) >= 30 * 24
    for _ in range(5):
        calls.clear()
        clock.advance(60)
        tree.read((meter.oid, meter.iid))  # every resource of the instance
        assert len(calls) <= 3 * (len(meter.loads) if kind == "3phase" else 1) * 4
    calls.clear()
    tree.read((meter.oid, meter.iid))  # the same sample again: nothing recomputed
    assert calls == []


def test_energy_units():
    assert MWMS_PER_KWH == 3_600_000_000_000  # mW x ms in a kWh
    assert UNITS_PER_M3 // FLOW_PER_M3S == 1000  # a flow unit is per millisecond
