"""Virtual utility meters: plausible, deterministic readings in an object tree.

Each meter owns one instance of its object in an
:class:`~lwm2m_client.core.dm.tree.ObjectTree` and advances with :meth:`Meter.tick`,
which publishes the new readings with ``tree.set`` (the tree records a change, and the
client core later notifies observers, only for values that really changed). Readings
come from a daily load profile (:mod:`lwm2m_client.sim.profiles`) and a
``random.Random(seed)``: the same seed and the same tick times give the same values.

``now_s`` is Unix seconds (a float). The first tick only takes readings unless the meter
was built with ``start_s``; afterwards cumulative registers (energy, volume, pulses)
integrate over the time since the previous tick and never decrease, except on the
server's Execute of a reset resource. A tick with an earlier time than the last one
refreshes the instantaneous readings and integrates nothing.

Objects: 10243 single-phase power meter, 10242 three-phase power meter (every resource
set), 3423 gas meter, 3424 water meter. :func:`build_meter_tree` builds a whole device.
"""

from __future__ import annotations

import cmath
import math
import random
import zlib
from typing import Any, ClassVar

from lwm2m_client import __version__
from lwm2m_client.core.client import setup
from lwm2m_client.core.dm.tree import ObjectTree
from lwm2m_client.core.errors import BadRequest
from lwm2m_client.models import shipped_objects
from lwm2m_client.sim.profiles import (
    COMMERCIAL_ELECTRICITY,
    GAS_HEATING,
    RESIDENTIAL_ELECTRICITY,
    WATER_RESIDENTIAL,
    DailyProfile,
)

MANUFACTURER = "lwm2m_client"

# EN 50160: low-voltage supply within 230 V +-10 % and 50 Hz +-1 % (the +-0.2 Hz used
# here is what an interconnected grid actually shows).
NOMINAL_V = 230.0
V_MIN = 207.0
V_MAX = 253.0
NOMINAL_HZ = 50.0
HZ_SWING = 0.2

# Angles of the three phase voltages R, S, T.
_PHASE_ANGLES = (0.0, -2.0 * math.pi / 3.0, 2.0 * math.pi / 3.0)

# Continuous flow for this long makes a volume meter suspect, then detect, a leak.
LEAK_SUSPECT_S = 24 * 3600
LEAK_DETECT_S = 72 * 3600


def _clamp(value: float, lo: float, hi: float) -> float:
    return lo if value < lo else hi if value > hi else value


class Meter:
    """Base class: one instance of ``oid`` in ``tree``, advanced by :meth:`tick`."""

    oid: ClassVar[int]
    kind: ClassVar[str]
    model: ClassVar[str]
    # Object 3 values that describe the device this meter is (power sources etc.).
    device_values: ClassVar[dict[int, Any]] = {}

    def __init__(self, tree: ObjectTree, seed: int = 0, iid: int | None = None,
                 start_s: float | None = None, serial: str = ""):
        self.tree = tree
        self.rng = random.Random(seed)
        self.last_s = start_s
        self.serial = serial
        self._configure()
        values = self._static_values()
        values.update(self._advance(start_s or 0.0, 0.0))
        self.iid: int = tree.create_instance(self.oid, iid, values)
        self._install_hooks()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} /{self.oid}/{self.iid}>"

    def path(self, rid: int) -> tuple[int, int, int]:
        return (self.oid, self.iid, rid)

    def tick(self, now_s: float) -> None:
        """Take readings at ``now_s`` and publish them into the tree."""
        dt = 0.0 if self.last_s is None else max(0.0, now_s - self.last_s)
        if self.last_s is None or now_s > self.last_s:
            self.last_s = now_s
        for rid, value in self._advance(now_s, dt).items():
            self.tree.set((self.oid, self.iid, rid), value)

    # Subclasses: draw their parameters, name their static values, compute readings.

    def _configure(self) -> None:
        raise NotImplementedError

    def _static_values(self) -> dict[int, Any]:
        raise NotImplementedError

    def _advance(self, now_s: float, dt: float) -> dict[int, Any]:
        """The readings at ``now_s``, after integrating ``dt`` seconds."""
        raise NotImplementedError

    def _install_hooks(self) -> None:
        """Register tree hooks for the instance (Execute, Write checks); none by default."""


class Phase:
    """The readings of one phase, from its voltage, active power and power factors.

    ``cos_phi`` is the displacement factor; a capacitive load leads (negative reactive
    power). Harmonic current (``thd_a`` percent) adds distortion power, so the true power
    factor ``P / S`` is ``cos_phi / sqrt(1 + THD_A^2)`` and below the displacement one.
    """

    def __init__(self, v: float, p_kw: float, cos_phi: float, capacitive: bool,
                 thd_v: float, thd_a: float):
        self.v = v
        self.p = p_kw
        self.phi = -math.acos(cos_phi) if capacitive else math.acos(cos_phi)
        self.q = p_kw * math.tan(self.phi)
        self.pf = cos_phi / math.sqrt(1.0 + (thd_a / 100.0) ** 2)
        self.s = p_kw / self.pf
        self.i = self.s * 1000.0 / v
        self.thd_v = thd_v
        self.thd_a = thd_a

    def values(self, first_rid: int) -> dict[int, float]:
        """Resources Tension .. THD-A, numbered from ``first_rid`` as 10242/10243 do."""
        return {
            first_rid: round(self.v, 1),
            first_rid + 1: round(self.i, 3),
            first_rid + 2: round(self.p, 3),
            first_rid + 3: round(self.q, 3),
            first_rid + 4: round(max(self.q, 0.0), 3),
            first_rid + 5: round(max(-self.q, 0.0), 3),
            first_rid + 6: round(self.s, 3),
            first_rid + 7: round(self.pf, 3),
            first_rid + 8: round(self.thd_v, 2),
            first_rid + 9: round(self.thd_a, 2),
        }


class _PowerMeter(Meter):
    """Shared by the electricity meters: the supply and one phase's load."""

    profile: ClassVar[DailyProfile]
    description: ClassVar[str]

    def _static_values(self) -> dict[int, Any]:
        return {0: MANUFACTURER, 1: self.model, 2: self.serial, 3: self.description}

    def _frequency(self) -> float:
        return _clamp(NOMINAL_HZ + self.rng.gauss(0.0, 0.02), NOMINAL_HZ - HZ_SWING,
                      NOMINAL_HZ + HZ_SWING)

    def _phase(self, now_s: float, peak_kw: float, base_kw: float) -> Phase:
        rng = self.rng
        share = self.profile.share(now_s)
        # The feeder voltage sags when the whole neighbourhood draws its evening peak.
        grid = RESIDENTIAL_ELECTRICITY.share(now_s)
        v = _clamp(234.0 - 8.0 * grid + rng.gauss(0.0, 0.8), V_MIN, V_MAX)
        p = max(base_kw + peak_kw * share * (1.0 + rng.gauss(0.0, 0.1)), base_kw * 0.5)
        load = p / (base_kw + peak_kw)
        # Motors and compressors make a loaded line inductive; a lightly loaded one is
        # dominated by the capacitive input filters of electronics.
        capacitive = load < 0.12
        if capacitive:
            cos_phi = _clamp(0.97 + rng.gauss(0.0, 0.01), 0.9, 0.999)
        else:
            cos_phi = _clamp(0.92 + rng.gauss(0.0, 0.02), 0.75, 0.999)
        thd_v = _clamp(2.5 + rng.gauss(0.0, 0.4), 0.5, 8.0)
        thd_a = _clamp(8.0 + 25.0 * (1.0 - load) + rng.gauss(0.0, 2.0), 2.0, 60.0)
        return Phase(v, p, cos_phi, capacitive, thd_v, thd_a)


class ElectricityMeter(_PowerMeter):
    """A household single-phase meter, Object 10243."""

    oid = 10243
    kind = "electricity"
    model = "SIM-E1P"
    description = "Simulated single-phase household meter"
    profile = RESIDENTIAL_ELECTRICITY
    device_values = {6: {0: setup.POWER_MAINS}, 17: "electricity meter"}

    def _configure(self) -> None:
        rng = self.rng
        self.peak_kw = rng.uniform(0.6, 1.4)
        self.base_kw = rng.uniform(0.08, 0.25)
        self.active_kwh = rng.uniform(1000.0, 30000.0)
        self.reactive_kvarh = self.active_kwh * rng.uniform(0.2, 0.35)
        self.apparent_kvah = self.active_kwh * rng.uniform(1.08, 1.15)

    def _advance(self, now_s: float, dt: float) -> dict[int, Any]:
        ph = self._phase(now_s, self.peak_kw, self.base_kw)
        hours = dt / 3600.0
        self.active_kwh += ph.p * hours
        self.reactive_kvarh += abs(ph.q) * hours
        self.apparent_kvah += ph.s * hours
        values: dict[int, Any] = ph.values(4)
        values[14] = round(self.active_kwh, 3)
        values[15] = round(self.reactive_kvarh, 3)
        values[16] = round(self.apparent_kvah, 3)
        values[17] = round(self._frequency(), 2)
        return values


class ThreePhaseMeter(_PowerMeter):
    """A commercial three-phase meter, Object 10242, with every resource set."""

    oid = 10242
    kind = "3phase"
    model = "SIM-E3P"
    description = "Simulated three-phase commercial meter"
    profile = COMMERCIAL_ELECTRICITY
    device_values = {6: {0: setup.POWER_MAINS}, 17: "electricity meter"}

    def _configure(self) -> None:
        rng = self.rng
        peak = rng.uniform(2.5, 8.0)
        # Single-phase loads never share out evenly: a fixed imbalance per site.
        self.peaks = [peak * rng.uniform(0.85, 1.15) for _ in range(3)]
        self.bases = [peak * rng.uniform(0.03, 0.06) for _ in range(3)]
        self.active_kwh = rng.uniform(20000.0, 400000.0)
        self.inductive_kvarh = self.active_kwh * rng.uniform(0.2, 0.35)
        self.capacitive_kvarh = self.active_kwh * rng.uniform(0.01, 0.03)
        self.apparent_kvah = self.active_kwh * rng.uniform(1.08, 1.15)

    def _advance(self, now_s: float, dt: float) -> dict[int, Any]:
        phases = [self._phase(now_s, self.peaks[k], self.bases[k]) for k in range(3)]
        values: dict[int, Any] = {}
        for k, ph in enumerate(phases):
            values.update(ph.values(4 + 10 * k))
        p = sum(ph.p for ph in phases)
        q = sum(ph.q for ph in phases)
        q_ind = sum(max(ph.q, 0.0) for ph in phases)
        q_cap = sum(max(-ph.q, 0.0) for ph in phases)
        s = sum(ph.s for ph in phases)
        hours = dt / 3600.0
        self.active_kwh += p * hours
        self.inductive_kvarh += q_ind * hours
        self.capacitive_kvarh += q_cap * hours
        self.apparent_kvah += s * hours
        # Phasors: line voltages and the neutral current (the vector sum of the phase
        # currents, zero only for a balanced load).
        volts = [cmath.rect(ph.v, a) for ph, a in zip(phases, _PHASE_ANGLES, strict=True)]
        amps = [cmath.rect(ph.i, a - ph.phi) for ph, a in zip(phases, _PHASE_ANGLES, strict=True)]
        values.update({
            34: round(p, 3),
            35: round(q, 3),
            36: round(q_ind, 3),
            37: round(q_cap, 3),
            38: round(s, 3),
            39: round(p / s, 3),
            40: round(p / math.hypot(p, q), 3),
            41: round(self.active_kwh, 3),
            42: round(self.inductive_kvarh + self.capacitive_kvarh, 3),
            43: round(self.inductive_kvarh, 3),
            44: round(self.capacitive_kvarh, 3),
            45: round(self.apparent_kvah, 3),
            46: round(abs(volts[0] - volts[1]), 1),
            47: round(abs(volts[1] - volts[2]), 1),
            48: round(abs(volts[2] - volts[0]), 1),
            49: round(self._frequency(), 2),
            50: round(abs(sum(amps)), 3),
        })
        return values


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


METERS: dict[str, type[Meter]] = {
    "electricity": ElectricityMeter,
    "3phase": ThreePhaseMeter,
    "gas": GasMeter,
    "water": WaterMeter,
}

# Bearer per kind: mains meters on LTE-M (LTE-FDD), battery meters on NB-IoT.
_BEARERS = {"electricity": setup.BEARER_LTE_FDD, "3phase": setup.BEARER_LTE_FDD,
            "gas": setup.BEARER_NB_IOT, "water": setup.BEARER_NB_IOT}


def meter_class(kind: str) -> type[Meter]:
    try:
        return METERS[kind]
    except KeyError:
        raise ValueError(f"unknown meter kind {kind!r}; one of {sorted(METERS)}") from None


def make_meter(kind: str, tree: ObjectTree, seed: int = 0, **kwargs: Any) -> Meter:
    """A meter of ``kind`` ("electricity", "gas", "water", "3phase") in ``tree``, which
    must hold its object's definition; ``kwargs`` go to the meter's constructor."""
    return meter_class(kind)(tree, seed=seed, **kwargs)


def serial_for(kind: str, endpoint: str) -> str:
    """A stable serial number derived from the endpoint name."""
    return f"{meter_class(kind).model}-{zlib.crc32(endpoint.encode('utf-8')):08X}"


def build_meter_tree(kind: str, endpoint: str, server_uri: str, seed: int = 0,
                     lifetime: int = 300, binding: str = "U", start_s: float | None = None,
                     psk_identity: str | None = None, psk_key: bytes | None = None,
                     ) -> tuple[ObjectTree, Meter]:
    """A whole virtual device: Security and Server accounts for SSID 1 (PSK when
    ``psk_key`` is given, its identity defaulting to the endpoint; NoSec otherwise),
    Device, Connectivity Monitoring and the meter instance; the change log is empty.

    Reboot and Factory Reset have no handler (the runner that owns the client wires
    them); Current Time is set only when ``start_s`` is given.
    """
    cls = meter_class(kind)
    defs = shipped_objects()
    tree = ObjectTree([defs[oid] for oid in (0, 1, 3, 4, cls.oid)])
    if psk_key is not None:
        setup.add_security(tree, 0, server_uri, ssid=1, mode=setup.SEC_PSK,
                           identity=psk_identity or endpoint, secret_key=psk_key)
    else:
        setup.add_security(tree, 0, server_uri, ssid=1)
    setup.add_server(tree, 0, 1, lifetime=lifetime, binding=binding)
    serial = serial_for(kind, endpoint)
    clock = None if start_s is None else (lambda: start_s)
    setup.add_device(tree, MANUFACTURER, cls.model, serial, __version__, clock=clock,
                     binding=binding, values=cls.device_values)
    rng = random.Random(f"connectivity:{seed}")
    setup.add_connectivity(
        tree, bearer=_BEARERS[kind], signal=rng.randint(-110, -70),
        ip=f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
        link_quality=rng.randint(0, 100), apn="meters.iot", cell_id=rng.randint(1, 0xFFFFFFF),
        mnc=1, mcc=1)
    meter = cls(tree, seed=seed, start_s=start_s, serial=serial)
    tree.drain_changes()
    return tree, meter
