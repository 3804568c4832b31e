"""Virtual power meters: single-phase (object 10243) and three-phase (10242)."""

from __future__ import annotations

import cmath
import math
from typing import Any, ClassVar

from lwm2m_client.core.client import setup
from lwm2m_client.sim.base import MANUFACTURER, Meter, _clamp
from lwm2m_client.sim.profiles import (
    COMMERCIAL_ELECTRICITY,
    RESIDENTIAL_ELECTRICITY,
    DailyProfile,
)

# EN 50160: low-voltage supply within 230 V +-10 % and 50 Hz +-1 % (the +-0.2 Hz used
# here is what an interconnected grid actually shows).
NOMINAL_V = 230.0
V_MIN = 207.0
V_MAX = 253.0
NOMINAL_HZ = 50.0
HZ_SWING = 0.2

# Angles of the three phase voltages R, S, T.
_PHASE_ANGLES = (0.0, -2.0 * math.pi / 3.0, 2.0 * math.pi / 3.0)


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
