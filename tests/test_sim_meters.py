"""Virtual meters (sim/meters.py) and their load profiles (sim/profiles.py), read through
the tree as a server reads them, on a manual clock (the model's invariants under any read
times: tests/test_sim_readings.py)."""

import math

import cbor2
import pytest

from lwm2m_client.core.client import setup
from lwm2m_client.core.content import senml_cbor
from lwm2m_client.core.dm.path import is_prefix
from lwm2m_client.core.dm.tree import ObjectTree
from lwm2m_client.core.errors import BadRequest
from lwm2m_client.models import shipped_objects
from lwm2m_client.sim import meters, profiles
from lwm2m_client.sim.clock import ManualClock
from lwm2m_client.sim.meters import build_meter_tree, make_meter

KINDS = ("electricity", "3phase", "gas", "water")
T0 = 1704067200  # 2024-01-01 00:00 UTC
JULY = 1719792000  # 2024-07-01 00:00 UTC
CUMULATIVE = {"electricity": (14, 15, 16), "3phase": (41, 42, 43, 44, 45),
              "gas": (1, 4), "water": (1, 4)}


def values(tree, oid, iid):
    """Every value of /oid/iid through the public API."""
    rdefs = tree.definition(oid).resources
    return {rid: tree.get((oid, iid, rid)) for rid in tree.resource_ids(oid, iid)
            if not rdefs[rid].executable}


def run(meter, start, seconds, step):
    """Move the meter's clock to ``start``, then on by ``step`` up to ``start + seconds``;
    yield the time after each step."""
    meter.clock.advance_to(start)
    for k in range(1, seconds // step + 1):
        meter.clock.advance(step)
        yield start + k * step


# -- the device tree ------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_build_meter_tree_holds_a_whole_device(kind):
    tree, meter = build_meter_tree(kind, "urn:dev:ep-7", "coap://lwm2m.example", seed=4)
    assert tree.objects() == sorted([0, 1, 3, 4, meter.oid])
    assert setup.server_accounts(tree) == [(1, "coap://lwm2m.example", 0, 0)]
    p = setup.server_params(tree, 0)
    assert (p.ssid, p.lifetime, p.binding) == (1, 300, "U")
    assert tree.get((3, 0, 0)) == meters.MANUFACTURER
    assert tree.get((3, 0, 1)) == meters.METERS[kind].model
    assert tree.get((3, 0, 2)) == meters.serial_for(kind, "urn:dev:ep-7")
    assert tree.get((4, 0, 0)) in (setup.BEARER_LTE_FDD, setup.BEARER_NB_IOT)
    assert tree.instances(meter.oid) == [meter.iid]
    assert tree.drain_changes() == []
    # Every mandatory resource of the meter object has a value.
    odef = tree.definition(meter.oid)
    for rid, rdef in odef.resources.items():
        if rdef.mandatory and not rdef.executable:
            assert tree.has(meter.path(rid)), rid


def test_build_meter_tree_psk_and_queue():
    tree, _ = build_meter_tree("gas", "gas-1", "coaps://h:5684", psk_key=b"0123456789abcdef",
                               binding="UQ", lifetime=3600)
    assert tree.get((0, 0, 2)) == setup.SEC_PSK
    assert tree.get((0, 0, 3)) == b"gas-1"
    assert tree.get((3, 0, 16)) == "UQ"
    p = setup.server_params(tree, 0)
    assert (p.lifetime, p.binding, p.queue) == (3600, "U", True)


def test_serial_numbers_differ_per_endpoint_and_are_stable():
    a = meters.serial_for("water", "ep-1")
    assert a == meters.serial_for("water", "ep-1")
    assert a != meters.serial_for("water", "ep-2")
    assert a.startswith("SIM-W1-")


def test_unknown_kind():
    with pytest.raises(ValueError):
        build_meter_tree("steam", "ep", "coap://h")
    with pytest.raises(ValueError):
        make_meter("steam", ObjectTree(), 0)


def test_three_phase_meter_sets_every_resource():
    tree, meter = build_meter_tree("3phase", "ep", "coap://h", seed=1)
    assert sorted(values(tree, meter.oid, meter.iid)) == list(range(51))


def test_electricity_meter_sets_every_resource():
    tree, meter = build_meter_tree("electricity", "ep", "coap://h", seed=1)
    assert sorted(values(tree, meter.oid, meter.iid)) == list(range(18))


def test_make_meter_in_a_tree_of_its_own():
    defs = shipped_objects()
    tree = ObjectTree([defs[3423], defs[3424]])
    gas = make_meter("gas", tree, seed=1)
    water = make_meter("water", tree, seed=1, iid=5, leak_m3s=1e-6)
    assert (gas.path(1), water.path(1)) == ((3423, 0, 1), (3424, 5, 1))
    assert water.leak_m3s == 1e-6


# -- readings -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_cumulative_registers_never_decrease(kind):
    tree, meter = build_meter_tree(kind, "ep", "coap://h", seed=11, start_s=T0)
    rids = CUMULATIVE[kind]
    before = [tree.get(meter.path(r)) for r in rids]
    first = list(before)
    for _ in run(meter, T0, 2 * 86400, 300):
        now = [tree.get(meter.path(r)) for r in rids]
        assert all(b <= a for a, b in zip(now, before, strict=True))
        before = now
    assert before[0] > first[0]  # two days always use something


@pytest.mark.parametrize("kind", ["electricity", "3phase"])
def test_power_readings_are_consistent_and_in_range(kind):
    tree, meter = build_meter_tree(kind, "ep", "coap://h", seed=5, start_s=T0)
    blocks = (4,) if kind == "electricity" else (4, 14, 24)
    freq_rid = 17 if kind == "electricity" else 49
    for _ in run(meter, T0, 86400, 600):
        for b in blocks:
            v, i, p, q, qi, qc, s, pf, thdv, thda = (
                tree.get(meter.path(b + k)) for k in range(10))
            assert meters.V_MIN <= v <= meters.V_MAX
            assert 0 < pf <= 1
            assert p > 0 and s >= p
            assert math.isclose(p, v * i * pf / 1000, rel_tol=0.01, abs_tol=0.002)
            assert math.isclose(s, v * i / 1000, rel_tol=0.005, abs_tol=0.002)
            assert qi >= 0 and qc >= 0 and (qi == 0 or qc == 0)
            assert math.isclose(q, qi - qc, abs_tol=0.002)
            assert 0 < thdv < 10 and 0 < thda <= 60
        assert abs(tree.get(meter.path(freq_rid)) - 50.0) <= meters.HZ_SWING


def test_three_phase_totals_and_phasors():
    tree, meter = build_meter_tree("3phase", "ep", "coap://h", seed=8, start_s=T0)
    for _ in run(meter, T0, 86400, 1800):
        def get(rid):
            return tree.get(meter.path(rid))
        assert math.isclose(get(34), get(6) + get(16) + get(26), abs_tol=0.003)
        assert math.isclose(get(38), get(10) + get(20) + get(30), abs_tol=0.003)
        assert math.isclose(get(39), get(34) / get(38), abs_tol=0.002)
        assert get(39) <= get(40) <= 1  # distortion makes PF below cos(phi)
        for line in (46, 47, 48):  # about sqrt(3) x 230 V
            assert 360 < get(line) < 440
        # The neutral carries at most the sum of the phase currents.
        assert 0 <= get(50) <= get(5) + get(15) + get(25)
        assert math.isclose(get(42), get(43) + get(44), abs_tol=0.002)


def test_electricity_follows_the_daily_profile():
    """Evening peak above the small hours, over a week of one meter."""
    tree, meter = build_meter_tree("electricity", "ep", "coap://h", seed=2, start_s=T0)
    night, evening = [], []
    for now in run(meter, T0, 7 * 86400, 900):
        hour = (now % 86400) // 3600
        power = tree.get(meter.path(6))
        if 2 <= hour < 5:
            night.append(power)
        elif 18 <= hour < 21:
            evening.append(power)
    assert sum(evening) / len(evening) > 2 * sum(night) / len(night)


@pytest.mark.parametrize("kind,low,high", [
    ("electricity", 3.0, 30.0),  # kWh a day
    ("gas", 1.0, 30.0),  # m3 a day in January
    ("water", 0.05, 1.5),  # m3 a day
])
def test_daily_consumption_is_plausible(kind, low, high):
    for seed in range(3):
        tree, meter = build_meter_tree(kind, "ep", "coap://h", seed=seed, start_s=T0)
        rid = CUMULATIVE[kind][0]
        start = tree.get(meter.path(rid))
        for _ in run(meter, T0, 86400, 120):
            pass
        assert low < tree.get(meter.path(rid)) - start < high


def test_gas_use_is_seasonal():
    used = {}
    for name, start in (("winter", T0), ("summer", JULY)):
        tree, meter = build_meter_tree("gas", "ep", "coap://h", seed=9, start_s=start)
        v0 = tree.get(meter.path(1))
        for _ in run(meter, start, 3 * 86400, 300):
            pass
        used[name] = tree.get(meter.path(1)) - v0
    assert used["winter"] > 3 * used["summer"]


@pytest.mark.parametrize("kind", ["gas", "water"])
def test_volume_meter_readings(kind):
    tree, meter = build_meter_tree(kind, "ep", "coap://h", seed=3, start_s=T0)
    ratio = tree.get(meter.path(6))
    for now in run(meter, T0, 86400, 600):
        def get(rid):
            return tree.get(meter.path(rid))
        assert 0 <= get(7) <= get(8)
        # Pulses count the volume at the pulse ratio (both started together).
        assert abs(get(4) - get(1) * ratio) <= ratio * 1e-4 + 1
        assert get(5518) == int(now) and 0 <= get(6050) <= 1
        assert get(9) is False and get(10) is False
        assert (get(6042), get(6049)) == (0, 100)


def test_a_leak_is_suspected_then_detected():
    defs = shipped_objects()
    tree = ObjectTree([defs[3424]])
    meter = make_meter("water", tree, seed=1, start_s=T0, leak_m3s=2e-6)
    states = []
    for now in run(meter, T0, 4 * 86400, 3600):
        states.append((now - T0, tree.get(meter.path(9)), tree.get(meter.path(10))))
        assert tree.get(meter.path(7)) >= 2e-6  # it never stops flowing
    suspected = [t for t, s, _ in states if s]
    detected = [t for t, _, d in states if d]
    assert suspected[0] == meters.LEAK_SUSPECT_S
    assert detected[0] == meters.LEAK_DETECT_S


def test_a_meter_without_a_clock_stands_still_until_its_clock_moves():
    tree, meter = build_meter_tree("electricity", "ep", "coap://h", seed=1, start_s=T0)
    assert isinstance(meter.clock, ManualClock) and meter.clock.now() == T0
    first = values(tree, meter.oid, meter.iid)
    assert values(tree, meter.oid, meter.iid) == first
    meter.clock.advance(3600)
    assert 0 < tree.get(meter.path(14)) - first[14] < 5


def test_time_going_back_changes_nothing():
    tree, meter = build_meter_tree("gas", "ep", "coap://h", seed=1, start_s=T0)
    meter.tick(T0 + 7 * 3600)  # tick still moves a manual clock, forward only
    seen = values(tree, meter.oid, meter.iid)
    meter.tick(T0 + 3600)
    assert values(tree, meter.oid, meter.iid) == seen
    meter.tick(T0 + 7 * 3600 + 600)
    assert tree.get(meter.path(1)) >= seen[1]


# -- determinism ----------------------------------------------------------------------


def snapshot_after(kind, seed, ticks=200):
    tree, meter = build_meter_tree(kind, "ep", "coap://h", seed=seed, start_s=T0)
    for _ in run(meter, T0, ticks * 60, 60):
        pass
    return {oid: values(tree, oid, 0) for oid in tree.objects()}


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_same_values(kind):
    assert snapshot_after(kind, 21) == snapshot_after(kind, 21)


@pytest.mark.parametrize("kind", KINDS)
def test_other_seed_other_values(kind):
    a, b = snapshot_after(kind, 21), snapshot_after(kind, 22)
    oid = meters.METERS[kind].oid
    assert a[oid] != b[oid]
    assert a[4] != b[4]  # connectivity follows the seed too


# -- the server's side ----------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_readings_are_computed_on_read_and_tick_reports_them(kind):
    tree, meter = build_meter_tree(kind, "ep", "coap://h", seed=1, start_s=T0)
    register = meter.path(CUMULATIVE[kind][0])
    before = tree.get(register)
    meter.clock.advance(6 * 3600)
    # Nothing is stored or recorded: the core learns of computed values by evaluating
    # them (pmax, epmax) or from a reported change.
    assert tree.drain_changes() == []
    assert tree.get(register) > before
    assert tree.read(register)[0][2] == tree.get(register)
    meter.tick()
    changed = tree.drain_changes()
    assert all(path[:2] == (meter.oid, meter.iid) or path == (3, 0, 13) for path in changed)
    # The bounded change log may widen many resource paths to their instance.
    assert any(is_prefix(path, register) for path in changed)
    assert any(is_prefix(path, (3, 0, 13)) for path in changed)


def test_server_resets_and_pulse_ratio_write():
    tree, meter = build_meter_tree("water", "ep", "coap://h", seed=1, start_s=T0)
    for _ in run(meter, T0, 86400, 600):
        pass
    tree.execute(meter.path(2))
    assert tree.get(meter.path(1)) == 0.0
    tree.execute(meter.path(5))
    assert tree.get(meter.path(4)) == 0
    with pytest.raises(BadRequest):
        tree.write(meter.path(6), [(meter.path(6), 0)])
    assert tree.get(meter.path(6)) == 1000  # the veto left it as it was
    tree.write(meter.path(6), [(meter.path(6), 10)])
    for _ in run(meter, T0 + 86400, 86400, 600):
        pass
    volume, pulses = tree.get(meter.path(1)), tree.get(meter.path(4))
    assert volume > 0 and abs(pulses - volume * 10) <= 1


@pytest.mark.parametrize("kind", KINDS)
def test_a_read_of_the_meter_encodes_and_decodes_with_cbor2(kind):
    tree, meter = build_meter_tree(kind, "ep", "coap://h", seed=6, start_s=T0)
    for _ in run(meter, T0, 3600, 60):
        pass
    base = (meter.oid, meter.iid)
    buf = bytearray(2048)
    n = senml_cbor.encode_into(buf, tree.read(base), base)
    records = cbor2.loads(bytes(buf[:n]))
    assert records[0][-2] == f"/{meter.oid}/{meter.iid}/"  # SenML CBOR label -2 = bn
    got = {}
    for rec in records:
        # Labels (RFC 8428 section 6): 0 n, 2 v, 3 vs, 4 vb.
        (label,) = set(rec) & {2, 3, 4}
        got[int(rec[0])] = rec[label]
    expect = values(tree, *base)
    assert got.keys() == expect.keys()
    for rid, value in expect.items():
        if isinstance(value, float):
            assert math.isclose(got[rid], value, rel_tol=1e-6)
        else:
            assert got[rid] == value


# -- profiles -------------------------------------------------------------------------


def test_profile_interpolates_hourly_points():
    p = profiles.DailyProfile("t", tuple(float(h % 2) for h in range(24)))
    assert p.share(0) == 0.0
    assert p.share(3600) == 1.0
    assert p.share(1800) == 0.5
    assert p.share(23.5 * 3600) == 0.5  # wraps to midnight
    assert p.share(86400 + 3600) == 1.0


def test_profile_seasonal_factor():
    p = profiles.GAS_HEATING
    jan15 = T0 + 14 * 86400
    assert math.isclose(p.season(jan15), 1.0 + p.seasonal, rel_tol=1e-3)
    assert math.isclose(p.season(jan15 + 182.6 * 86400), 1.0 - p.seasonal, rel_tol=1e-3)


def test_profile_rejects_bad_shapes():
    with pytest.raises(ValueError):
        profiles.DailyProfile("short", (0.5,) * 23)
    with pytest.raises(ValueError):
        profiles.DailyProfile("big", (0.5,) * 23 + (1.5,))
