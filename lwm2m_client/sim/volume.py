"""Virtual volume meters: gas (object 3423) and water (3424).

Demand is on or off (a boiler firing, a tap open). Time is cut into quarter-hour slots
aligned to the hour; in each slot the demand runs once, for a share of the slot drawn
around the daily profile's share at that time (at most :data:`MAX_DUTY`, so it always
stops for a while), starting at a drawn moment, at a flow drawn for the slot. A leak
adds a constant flow that never stops.

Volume is the exact integral of that flow, in integer units of 10^-15 m3 at
millisecond times: a whole slot adds its flow times its run, the slot in progress the
part of its run so far. Flow is never negative, so the volume never decreases; reading
it costs the slot in progress plus one sum per slot since the last read.

Minimum and Maximum flow rate are "since the last reading": here the lowest and highest
flow since the start of the quarter hour in progress, a meter's metering interval.
Leak suspected and Leak detected follow continuous flow: a flow that has not stopped
for :data:`LEAK_SUSPECT_S` or :data:`LEAK_DETECT_S`, which only a leak gives.
"""

from __future__ import annotations

from typing import Any, ClassVar

from lwm2m_client.core.client import setup
from lwm2m_client.core.dm.tree import ObjectTree
from lwm2m_client.core.errors import BadRequest
from lwm2m_client.sim.base import Meter
from lwm2m_client.sim.clock import Clock
from lwm2m_client.sim.noise import unit
from lwm2m_client.sim.profiles import (
    GAS_HEATING,
    WATER_RESIDENTIAL,
    DailyProfile,
)

# Continuous flow for this long makes a volume meter suspect, then detect, a leak.
LEAK_SUSPECT_S = 24 * 3600
LEAK_DETECT_S = 72 * 3600

SLOT_MS = 900_000
# The longest share of a slot the demand runs.
MAX_DUTY = 0.9
# Volume units in a cubic metre, and flow units (volume units per ms) in one m3/s.
UNITS_PER_M3 = 10 ** 15
FLOW_PER_M3S = 10 ** 12

_S_DUTY, _S_START, _S_FLOW = range(1, 4)


class Slot:
    """One quarter hour: the run starts ``off`` ms into the slot and lasts ``run`` ms at
    ``flow`` units per ms."""

    __slots__ = ("off", "run", "flow")

    def __init__(self, off: int, run: int, flow: int):
        self.off = off
        self.run = run
        self.flow = flow

    def used(self, u: int) -> int:
        """Volume units of the run in the first ``u`` ms of the slot."""
        ran = u - self.off
        return self.flow * (0 if ran <= 0 else self.run if ran >= self.run else ran)


class VolumeMeter(Meter):
    """Shared by the gas (3423) and water (3424) meters, whose resource IDs agree.

    ``leak_m3s`` is a constant flow from the meter's start on, which the meter notices
    (Leak suspected, then detected); it is part of the meter's history, so it is fixed
    when the meter is built.

    A register reset or a new pulse ratio applies from the moment it happened: a read
    at an earlier time (:meth:`~lwm2m_client.sim.base.Meter.readings_at`) shows that
    moment.
    """

    profile: ClassVar[DailyProfile]
    meter_type: ClassVar[str]
    default_pulse_ratio: ClassVar[int]
    # (low, high) flow in m3/s while demand is running.
    flow_range: ClassVar[tuple[float, float]]
    initial_volume: ClassVar[tuple[float, float]]
    # Boolean alarm resources beyond Leak suspected/detected, all false.
    alarm_rids: ClassVar[tuple[int, ...]]
    computed = (1, 4, 7, 8, 9, 10, 5518, 6050)

    def __init__(self, tree: ObjectTree, seed: int = 0, iid: int | None = None,
                 start_s: float | None = None, serial: str = "", leak_m3s: float = 0.0,
                 clock: Clock | None = None):
        if not leak_m3s >= 0.0:
            raise ValueError(f"leak_m3s {leak_m3s!r}: a leak is a flow of 0 m3/s or more")
        self.leak_m3s = leak_m3s
        super().__init__(tree, seed, iid, start_s, serial, clock)

    def _configure(self) -> None:
        rng = self.rng
        self.rate = rng.uniform(*self.flow_range)
        self.key = rng.getrandbits(64)
        self.leak = round(self.leak_m3s * FLOW_PER_M3S)
        self.pulse_ratio = self.default_pulse_ratio
        self._slots: dict[int, Slot] = {}
        start = self.start_ms
        self._start_used = self.slot(start // SLOT_MS).used(start % SLOT_MS)
        self._cursor_j = start // SLOT_MS
        self._cursor = -self._start_used
        self.initial = round(rng.uniform(*self.initial_volume) * UNITS_PER_M3)
        # The registers: Cumulated volume counts from ``_volume_base`` (a reset sets
        # it), the pulses from ``_pulses_at`` pulses x 10^15 when the volume was
        # ``_pulses_from``, at the pulse ratio since then.
        self._volume_base = 0
        self._pulses_at = self.initial * self.pulse_ratio
        self._pulses_from = self.initial
        # When the registers or the ratio last changed: a read never looks earlier.
        self._changed_ms = start

    def _static_values(self) -> dict[int, Any]:
        values: dict[int, Any] = {3: self.meter_type, 6: self.pulse_ratio, 6042: 0, 6049: 100}
        for rid in self.alarm_rids:
            values[rid] = False
        return values

    # -- the model -----------------------------------------------------------------

    def slot(self, j: int) -> Slot:
        """The demand in quarter hour ``j`` (quarter hours since the epoch)."""
        found = self._slots.get(j)
        if found is not None:
            return found
        key = self.key
        share = self.profile.share((j + 0.5) * SLOT_MS / 1000.0)
        duty = min(MAX_DUTY, share * (0.5 + unit(key, _S_DUTY, j)))
        run = int(duty * SLOT_MS)
        off = int(unit(key, _S_START, j) * (SLOT_MS - run))
        flow = round(self.rate * (0.6 + 0.6 * unit(key, _S_FLOW, j)) * FLOW_PER_M3S)
        found = Slot(off, run, flow)
        if len(self._slots) >= 8:
            self._slots.clear()  # reads move forward: old slots are rarely asked again
        self._slots[j] = found
        return found

    def volume_units(self, t_ms: int) -> int:
        """Everything that flowed through the meter up to ``t_ms`` (not before its
        start), initial volume included, in 10^-15 m3."""
        j, u = divmod(t_ms, SLOT_MS)
        if j < self._cursor_j:
            self._cursor_j = self.start_ms // SLOT_MS
            self._cursor = -self._start_used
        while self._cursor_j < j:
            s = self.slot(self._cursor_j)
            self._cursor += s.flow * s.run
            self._cursor_j += 1
        demand = self._cursor + self.slot(j).used(u)
        return self.initial + demand + self.leak * (t_ms - self.start_ms)

    def flow_range_since(self, t_ms: int) -> tuple[int, int]:
        """The lowest and highest flow (units per ms) from the start of ``t_ms``'s
        quarter hour up to ``t_ms``."""
        j, u = divmod(t_ms, SLOT_MS)
        s = self.slot(j)
        ran = s.run > 0 and s.off <= u
        always = s.run > 0 and s.off == 0 and u < s.run
        return (self.leak + (s.flow if always else 0), self.leak + (s.flow if ran else 0))

    def _readings(self, t_ms: int) -> dict[int, Any]:
        t_ms = max(t_ms, self._changed_ms)
        v = self.volume_units(t_ms)
        low, high = self.flow_range_since(t_ms)
        pulses = (self._pulses_at + (v - self._pulses_from) * self.pulse_ratio) // UNITS_PER_M3
        flowing_s = (t_ms - self.start_ms) / 1000.0 if self.leak > 0 else 0.0
        return {
            1: round((v - self._volume_base) / UNITS_PER_M3, 4),
            4: pulses,
            7: round(low / FLOW_PER_M3S, 7),
            8: round(high / FLOW_PER_M3S, 7),
            9: flowing_s >= LEAK_SUSPECT_S,
            10: flowing_s >= LEAK_DETECT_S,
            5518: t_ms // 1000,
            6050: (t_ms % 1000) / 1000.0,
        }

    # -- the server's operations -----------------------------------------------------

    def _install_hooks(self) -> None:
        tree = self.tree
        tree.on_execute(self.path(2), self._reset_volume)
        tree.on_execute(self.path(5), self._reset_pulses)
        tree.on_write(self.path(6), self._check_pulse_ratio)
        tree.on_written(self.path(6), self._pulse_ratio_written)

    def _event(self) -> int:
        """The volume now, after which the registers change; the next read computes
        afresh."""
        t = self.now_ms()
        self._changed_ms = max(t, self._changed_ms)
        self._forget_sample()
        return self.volume_units(self._changed_ms)

    def _reset_volume(self, path: tuple[int, ...], args: list[tuple[int, Any]]) -> None:
        self._volume_base = self._event()
        self.tree.changed(self.path(1))

    def _reset_pulses(self, path: tuple[int, ...], args: list[tuple[int, Any]]) -> None:
        self._pulses_from = self._event()
        self._pulses_at = 0
        self.tree.changed(self.path(4))

    def _check_pulse_ratio(self, path: tuple[int, ...], value: Any) -> None:
        if value is None or value <= 0:
            raise BadRequest("the meter needs a positive pulse ratio (pulses per m3)")

    def _pulse_ratio_written(self, path: tuple[int, ...], value: Any) -> None:
        self._set_pulse_ratio(value)

    def _set_pulse_ratio(self, ratio: int) -> None:
        # The pulses made so far stay; from now on they count at the new ratio.
        v = self._event()
        self._pulses_at += (v - self._pulses_from) * self.pulse_ratio
        self._pulses_from = v
        self.pulse_ratio = ratio

    def _settings_restored(self) -> None:
        # Pulse ratio and Type of meter are the settings (the writable resources); the
        # pulse count already made stays, counted on at the factory ratio.
        self._set_pulse_ratio(self.tree.get(self.path(6)))


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
