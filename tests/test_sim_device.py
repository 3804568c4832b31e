"""The device side of a virtual meter: Reboot and Factory Reset (/3/0/4, /3/0/5), on the
tree build_meter_tree makes (Current Time /3/0/13: tests/test_sim_clock.py)."""

from __future__ import annotations

import pytest

from lwm2m_client.core.client.attributes import AttributeStore
from lwm2m_client.core.client.links import discover_links
from lwm2m_client.core.dm.tree import ObjectTree
from lwm2m_client.models import shipped_objects
from lwm2m_client.sim.base import FactorySettings, configuration_paths
from lwm2m_client.sim.clock import ManualClock
from lwm2m_client.sim.meters import TIMEZONE, UTC_OFFSET, build_meter_tree, make_meter

KINDS = ("electricity", "3phase", "gas", "water")
T0 = 1704067200  # 2024-01-01 00:00 UTC
CUMULATIVE = {"electricity": (14, 15, 16), "3phase": (41, 42, 43, 44, 45),
              "gas": (1, 4), "water": (1, 4)}


def run(meter, start, seconds, step):
    """Move the meter's clock to ``start``, then on by ``step`` up to ``start + seconds``,
    reading every resource at each step."""
    meter.clock.advance_to(start)
    for _ in range(seconds // step):
        meter.clock.advance(step)
        meter.readings()


# -- Reboot and Factory Reset are always there ------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_reboot_and_factory_reset_are_wired_and_discovered(kind):
    # Both are Mandatory in Object 3: without a handler they answered 4.04 and were
    # missing from Discover.
    tree, meter = build_meter_tree(kind, "ep", "coap://h", seed=1, start_s=T0)
    assert tree.has((3, 0, 4)) and tree.has((3, 0, 5))
    rids = [target[2] for target, _ in discover_links(tree, AttributeStore(), 1, (3, 0))
            if len(target) == 3]
    assert 4 in rids and 5 in rids
    assert tree.execute((3, 0, 4)) is None  # 2.04, nothing raised
    assert tree.execute((3, 0, 5)) is None
    assert meter.boots == 2  # a factory reset ends in a reboot


def test_the_owners_callables_replace_the_meters_own_restart():
    calls = []
    tree, meter = build_meter_tree("gas", "ep", "coap://h", seed=1, start_s=T0,
                                   reboot=lambda: calls.append("reboot"),
                                   factory_reset=lambda: calls.append("factory reset"))
    tree.write(meter.path(6), [(meter.path(6), 10)])
    tree.execute((3, 0, 4))
    tree.execute((3, 0, 5))
    assert calls == ["reboot", "factory reset"]
    # Only scheduled: the owner does the work later, the meter is untouched.
    assert meter.boots == 0 and tree.get(meter.path(6)) == 10


@pytest.mark.parametrize("kind", KINDS)
def test_reboot_keeps_the_registers_and_readings_carry_on(kind):
    morning = T0 + 6 * 3600  # the breakfast peak: every meter measures something
    tree, meter = build_meter_tree(kind, "ep", "coap://h", seed=2, start_s=morning)
    run(meter, morning, 3600, 60)
    paths = [meter.path(rid) for rid in CUMULATIVE[kind]]
    before = [tree.get(p) for p in paths]
    tree.execute((3, 0, 4))
    assert [tree.get(p) for p in paths] == before
    run(meter, morning + 3600, 7200, 60)
    after = [tree.get(p) for p in paths]
    assert all(a >= b for a, b in zip(after, before, strict=True))
    assert after[0] > before[0]


def test_reboot_does_not_change_the_readings_of_an_unrebooted_twin():
    # Same seed, same reads: a reboot in between changes nothing the meter measures.
    trees = []
    for reboot in (False, True):
        tree, meter = build_meter_tree("water", "ep", "coap://h", seed=3, start_s=T0)
        run(meter, T0, 3600, 60)
        if reboot:
            tree.execute((3, 0, 4))
        run(meter, T0 + 3600, 3600, 60)
        trees.append({rid: tree.get(meter.path(rid)) for rid in (1, 4, 7, 8, 9, 10)})
    assert trees[0] == trees[1]


@pytest.mark.parametrize("kind", ["gas", "water"])
def test_factory_reset_restores_settings_and_keeps_registers(kind):
    tree, meter = build_meter_tree(kind, "ep", "coap://h", seed=4, start_s=T0,
                                   lifetime=300, binding="U")
    factory_ratio = tree.get(meter.path(6))
    factory_type = tree.get(meter.path(3))
    run(meter, T0, 3600, 60)
    # A server changes the settings...
    tree.write(meter.path(6), [(meter.path(6), 7)])
    tree.write(meter.path(3), [(meter.path(3), "turbine")])
    tree.write((1, 0, 1), [((1, 0, 1), 3600)])
    tree.write((1, 0, 3), [((1, 0, 3), 600)])  # Default Maximum Period: none before
    tree.write((3, 0, 14), [((3, 0, 14), "+02:00")])
    tree.write((3, 0, 15), [((3, 0, 15), "Europe/Berlin")])
    run(meter, T0 + 3600, 600, 60)
    registers = [tree.get(meter.path(rid)) for rid in CUMULATIVE[kind]]
    tree.execute((3, 0, 5))
    # ...and the factory reset puts them back, removing what the factory did not set.
    assert tree.get(meter.path(6)) == factory_ratio and meter.pulse_ratio == factory_ratio
    assert tree.get(meter.path(3)) == factory_type
    assert tree.get((1, 0, 1)) == 300 and not tree.has((1, 0, 3))
    assert (tree.get((3, 0, 14)), tree.get((3, 0, 15))) == (UTC_OFFSET, TIMEZONE)
    # The billing registers are untouched, and count on at the factory pulse ratio.
    assert [tree.get(meter.path(rid)) for rid in CUMULATIVE[kind]] == registers
    volume, pulses = registers
    run(meter, T0 + 4200, 86400, 600)
    dv = tree.get(meter.path(1)) - volume
    assert abs((tree.get(meter.path(4)) - pulses) - dv * factory_ratio) <= 2


@pytest.mark.parametrize("kind", ["electricity", "3phase"])
def test_factory_reset_of_a_power_meter_keeps_its_energy(kind):
    tree, meter = build_meter_tree(kind, "ep", "coap://h", seed=5, start_s=T0)
    run(meter, T0, 3600, 60)
    energy = [tree.get(meter.path(rid)) for rid in CUMULATIVE[kind]]
    tree.execute((3, 0, 5))
    assert [tree.get(meter.path(rid)) for rid in CUMULATIVE[kind]] == energy


def test_configuration_paths_are_the_writable_resources():
    tree, meter = build_meter_tree("water", "ep", "coap://h")
    assert configuration_paths(tree, 3424, 0) == [(3424, 0, 3), (3424, 0, 6)]
    assert configuration_paths(tree, 3, 0, exclude=(13,)) == [(3, 0, 14), (3, 0, 15)]
    assert configuration_paths(tree, 4, 0) == []
    assert (1, 0, 1) in meter.settings.values and (1, 0, 7) in meter.settings.values
    assert (3, 0, 13) not in meter.settings.values  # a clock, not a setting


def test_factory_settings_restore_multiple_resources_as_copies():
    defs = shipped_objects()
    tree = ObjectTree([defs[1]])
    tree.create_instance(1, 0, {0: 1, 1: 60, 6: True, 7: "U", 25: {0: "1.1"}})
    settings = FactorySettings(tree)
    settings.capture([(1, 0, 25), (1, 0, 2)])
    tree.set((1, 0, 25), {0: "1.0", 1: "1.2"})
    tree.set((1, 0, 2), 5)
    settings.restore()
    assert tree.get((1, 0, 25)) == {0: "1.1"} and not tree.has((1, 0, 2))
    tree.set((1, 0, 25, 1), "1.2")
    settings.restore()
    assert tree.get((1, 0, 25)) == {0: "1.1"}


def test_a_bare_meter_reboots_and_resets_too():
    defs = shipped_objects()
    tree = ObjectTree([defs[3423]])
    meter = make_meter("gas", tree, seed=1, start_s=T0)
    assert meter.device_clock is None and isinstance(meter.clock, ManualClock)
    tree.write(meter.path(6), [(meter.path(6), 5)])
    meter.factory_reset()
    meter.reboot()
    assert tree.get(meter.path(6)) == 100 and meter.boots == 1
