"""Virtual volume meters: gas (object 3423) and water (3424)."""

from __future__ import annotations

import math
from typing import Any, ClassVar

from lwm2m_client.core.client import setup
from lwm2m_client.core.dm.tree import ObjectTree
from lwm2m_client.core.errors import BadRequest
from lwm2m_client.sim.base import Meter
from lwm2m_client.sim.profiles import (
    GAS_HEATING,
    WATER_RESIDENTIAL,
    DailyProfile,
)

# Continuous flow for this long makes a volume meter suspect, then detect, a leak.
LEAK_SUSPECT_S = 24 * 3600
LEAK_DETECT_S = 72 * 3600


class VolumeMeter(Meter):
    """Shared by the gas (3423) and water (3424) meters, whose resource IDs agree.

    Demand is on/off (a boiler firing, a tap open): each tick samples the flow at
    ``SAMPLES`` points of the interval, running with the probability the profile gives.
    The mean flow makes the volume; the lowest and highest samples are Minimum and
    Maximum flow rate "since the last reading". ``leak_m3s`` adds a constant flow that
    never stops, which the meter notices (Leak suspected, then detected).
    """

    profile: ClassVar[DailyProfile]
    meter_type: ClassVar[str]
    default_pulse_ratio: ClassVar[int]
    # (low, high) flow in m3/s while demand is running.
    flow_range: ClassVar[tuple[float, float]]
    initial_volume: ClassVar[tuple[float, float]]
    # Boolean alarm resources beyond Leak suspected/detected, all false.
    alarm_rids: ClassVar[tuple[int, ...]]
    SAMPLES = 4

    def __init__(self, tree: ObjectTree, seed: int = 0, iid: int | None = None,
                 start_s: float | None = None, serial: str = "", leak_m3s: float = 0.0):
        self.leak_m3s = leak_m3s
        super().__init__(tree, seed, iid, start_s, serial)

    def _configure(self) -> None:
        rng = self.rng
        self.rate = rng.uniform(*self.flow_range)
        self.volume = rng.uniform(*self.initial_volume)
        self.pulse_ratio = self.default_pulse_ratio
        self.pulses = self.volume * self.pulse_ratio
        self.flowing_s = 0.0

    def _static_values(self) -> dict[int, Any]:
        values: dict[int, Any] = {3: self.meter_type, 6: self.pulse_ratio, 6042: 0, 6049: 100}
        for rid in self.alarm_rids:
            values[rid] = False
        return values

    def _sample(self, t: float) -> float:
        rng = self.rng
        running = rng.random() < self.profile.share(t)
        return (self.rate * rng.uniform(0.6, 1.2) if running else 0.0) + self.leak_m3s

    def _advance(self, now_s: float, dt: float) -> dict[int, Any]:
        n = self.SAMPLES if dt > 0 else 1
        flows = [self._sample(now_s - dt + dt * (k + 1) / n) for k in range(n)]
        dv = sum(flows) / n * dt
        self.volume += dv
        self.pulses += dv * self.pulse_ratio
        self.flowing_s = self.flowing_s + dt if min(flows) > 0.0 else 0.0
        return {
            1: round(self.volume, 4),
            4: int(self.pulses),
            7: round(min(flows), 7),
            8: round(max(flows), 7),
            9: self.flowing_s >= LEAK_SUSPECT_S,
            10: self.flowing_s >= LEAK_DETECT_S,
            5518: int(now_s),
            6050: round(now_s - math.floor(now_s), 3),
        }

    def _install_hooks(self) -> None:
        tree = self.tree
        tree.on_execute(self.path(2), self._reset_volume)
        tree.on_execute(self.path(5), self._reset_pulses)
        tree.on_write(self.path(6), self._check_pulse_ratio)
        tree.on_written(self.path(6), self._pulse_ratio_written)

    def _reset_volume(self, path: tuple[int, ...], args: list[tuple[int, Any]]) -> None:
        self.volume = 0.0
        self.tree.set(self.path(1), 0.0)

    def _reset_pulses(self, path: tuple[int, ...], args: list[tuple[int, Any]]) -> None:
        self.pulses = 0.0
        self.tree.set(self.path(4), 0)

    def _check_pulse_ratio(self, path: tuple[int, ...], value: Any) -> None:
        if value is None or value <= 0:
            raise BadRequest("the meter needs a positive pulse ratio (pulses per m3)")

    def _pulse_ratio_written(self, path: tuple[int, ...], value: Any) -> None:
        self.pulse_ratio = value

    def _settings_restored(self) -> None:
        # Pulse ratio and Type of meter are the settings (the writable resources); the
        # pulse count already made stays, counted on at the factory ratio.
        self.pulse_ratio = self.tree.get(self.path(6))


class GasMeter(VolumeMeter):
    """A household gas meter, Object 3423: heating with a strong seasonal swing."""

    oid = 3423
    kind = "gas"
    model = "SIM-G4"
    profile = GAS_HEATING
    meter_type = "diaphragm"
    default_pulse_ratio = 100  # one pulse per 10 litres
    flow_range = (0.6 / 3600.0, 1.2 / 3600.0)  # a modulating boiler: 0.6-1.2 m3/h
    initial_volume = (100.0, 8000.0)
    alarm_rids = (11,)  # High temperature
    device_values = {6: {0: setup.POWER_INTERNAL_BATTERY}, 9: 97, 20: 0,
                     17: "gas meter"}


class WaterMeter(VolumeMeter):
    """A household water meter, Object 3424."""

    oid = 3424
    kind = "water"
    model = "SIM-W1"
    profile = WATER_RESIDENTIAL
    meter_type = "ultrasonic"
    default_pulse_ratio = 1000  # one pulse per litre
    flow_range = (5.0 / 60000.0, 10.0 / 60000.0)  # a tap or shower: 5-10 l/min
    initial_volume = (10.0, 900.0)
    alarm_rids = (11, 12, 13)  # Back flow, Blocked meter, Fraud detected
    device_values = {6: {0: setup.POWER_INTERNAL_BATTERY}, 9: 98, 20: 0,
                     17: "water meter"}
