"""Virtual power meters: single-phase (object 10243) and three-phase (10242).

The demand of one phase (:class:`Load`) is, in whole milliwatts at millisecond times:

- a slow part, linear within each hour between hourly knots: the daily profile's
  share of the peak at the hour (seasonal factor included) on top of the base load,
  times a factor of 0.8 to 1.2 drawn for that hour;
- a ripple of appliances switching, one cubic wave per ten-second cell
  (``x (1 - x) (1 - 2x)`` over the cell) whose amplitude, drawn for the cell, is half
  to all of 30 % of the hour's lower knot. The wave is zero at both ends of its cell
  (the power has no jumps) and its integral over the cell is zero, so the ripple moves
  the power but never the energy of a whole cell.

The active energy register is the exact integral of that power: a whole hour adds
``(k0 + k1) / 2`` times the hour, and the hour in progress the polynomial's integral up
to now, all in integer milliwatt-milliseconds rounded down. Power is never negative, so
the register never decreases, whatever the times it is read at. Power factor, the
share of reactive power and the harmonic distortion are drawn per hour; reactive and
apparent power are then fixed multiples of the active power within the hour, and their
energies the same multiples of its integral: every energy register is the exact
integral of its power reading.

Reading a register costs one polynomial for the hour in progress, plus one sum per hour
since the last read (a cursor keeps the running total); a read earlier than the cursor
starts again from the meter's start.
"""

from __future__ import annotations

import cmath
import math
from typing import Any, ClassVar

from lwm2m_client.core.client import setup
from lwm2m_client.sim.base import MANUFACTURER, Meter, _clamp
from lwm2m_client.sim.noise import bell, mix, signed
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

HOUR_MS = 3_600_000
CELL_MS = 10_000
# Milliwatt-milliseconds in a kilowatt-hour: the unit of the energy registers.
MWMS_PER_KWH = 1_000_000 * HOUR_MS
# Reactive and apparent power as multiples of the active power, in millionths.
RATIO = 1_000_000

# The hour's factor on the profile, and the ripple's share of the lower knot.
KNOT_SPREAD = 0.2
RIPPLE_SHARE = 0.3
# 10 x (1 - x)(1 - 2x) peaks at 0.962: a ripple never exceeds its amplitude.
_WAVE = 10

# Noise streams (sim.noise).
_S_KNOT, _S_RIPPLE, _S_COS, _S_THDA, _S_THDV, _S_VOLT, _S_FREQ, _S_PHASE = range(1, 9)

# Angles of the three phase voltages R, S, T.
_PHASE_ANGLES = (0.0, -2.0 * math.pi / 3.0, 2.0 * math.pi / 3.0)

_D = 2 * HOUR_MS * CELL_MS ** 3  # the common denominator of the hour's partial integral


def kwh(value_mwms: int) -> float:
    """An energy register in kWh, to the Wh."""
    return round(value_mwms / MWMS_PER_KWH, 3)


def _lerp_noise(key: int, stream: int, t_ms: int, cell_ms: int) -> float:
    """Noise (``bell``) drawn at cell boundaries, linear in between: a wander without
    jumps."""
    c, off = divmod(t_ms, cell_ms)
    a = bell(key, stream, c)
    return a + (bell(key, stream, c + 1) - a) * (off / cell_ms)


class Phase:
    """The readings of one phase: voltage ``v`` (V), active power ``p_kw``, the signed
    ratio of reactive to active power ``tan_phi`` (negative: a capacitive, leading
    load), the true power factor ``pf`` (``P / S``, below the displacement factor
    ``cos(phi)`` by the harmonic current's distortion) and the THD of voltage and
    current in percent."""

    def __init__(self, v: float, p_kw: float, tan_phi: float, pf: float,
                 thd_v: float, thd_a: float):
        self.v = v
        self.p = p_kw
        self.phi = math.atan(tan_phi)
        self.q = p_kw * tan_phi
        self.pf = pf
        self.s = p_kw / pf
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


class Hour:
    """What one hour of a load is made of: the knots ``k0``, ``k1`` (mW at its start and
    end), the ripple's amplitude bound ``amax`` (mW), the reactive share ``rq`` and the
    apparent ratio ``rs`` (millionths of the active power; ``capacitive`` gives the
    reactive power's sign), the harmonic distortion, and the energy of the whole hour
    per register: active, inductive, capacitive, apparent (mW ms)."""

    __slots__ = ("k0", "k1", "amax", "rq", "rs", "capacitive", "thd_v", "thd_a", "totals")

    def __init__(self, k0: int, k1: int, rq: int, rs: int, capacitive: bool,
                 thd_v: float, thd_a: float):
        self.k0 = k0
        self.k1 = k1
        self.amax = min(k0, k1) * RIPPLE_SHARE
        self.rq = rq
        self.rs = rs
        self.capacitive = capacitive
        self.thd_v = thd_v
        self.thd_a = thd_a
        area = (k0 + k1) * HOUR_MS // 2  # exact: HOUR_MS is even
        ind = 0 if capacitive else area * rq // RATIO
        cap = area * rq // RATIO if capacitive else 0
        self.totals = (area, ind, cap, area * rs // RATIO)

    @property
    def tan_phi(self) -> float:
        return (-self.rq if self.capacitive else self.rq) / RATIO


class Load:
    """The demand on one phase: ``peak_kw`` at the profile's full share on top of
    ``base_kw``, with its noise drawn from ``key``. :meth:`start` sets the moment its
    energy counts from."""

    def __init__(self, key: int, profile: DailyProfile, peak_kw: float, base_kw: float):
        self.key = key
        self.profile = profile
        self.peak_kw = peak_kw
        self.base_kw = base_kw
        self._hours: dict[int, Hour] = {}
        self.start_ms = 0
        self._start_partial = (0, 0, 0, 0)
        self._cursor_h = 0
        self._cursor = [0, 0, 0, 0]

    def __repr__(self) -> str:
        return f"<Load {self.profile.name} peak {self.peak_kw:.2f} kW>"

    # -- the model -----------------------------------------------------------------

    def knot_mw(self, h: int) -> int:
        """The slow demand at the start of hour ``h`` (hours since the epoch), in mW."""
        share = self.profile.share(h * 3600.0)
        factor = 1.0 + KNOT_SPREAD * signed(self.key, _S_KNOT, h)
        return round((self.base_kw + self.peak_kw * share * factor) * 1e6)

    def hour(self, h: int) -> Hour:
        found = self._hours.get(h)
        if found is not None:
            return found
        key = self.key
        k0, k1 = self.knot_mw(h), self.knot_mw(h + 1)
        load = (k0 + k1) / 2e6 / (self.base_kw + self.peak_kw)
        # Motors and compressors make a loaded line inductive; a lightly loaded one is
        # dominated by the capacitive input filters of electronics.
        capacitive = load < 0.12
        if capacitive:
            cos_phi = _clamp(0.97 + 0.01 * bell(key, _S_COS, h), 0.9, 0.999)
        else:
            cos_phi = _clamp(0.92 + 0.02 * bell(key, _S_COS, h), 0.75, 0.999)
        thd_a = _clamp(8.0 + 25.0 * (1.0 - load) + 2.0 * bell(key, _S_THDA, h), 2.0, 60.0)
        thd_v = _clamp(2.5 + 0.4 * bell(key, _S_THDV, h), 0.5, 8.0)
        rq = round(math.tan(math.acos(cos_phi)) * RATIO)
        # Harmonic current adds distortion power: P / S = cos(phi) / sqrt(1 + THD_A^2).
        rs = round(RATIO * math.sqrt(1.0 + (thd_a / 100.0) ** 2) / cos_phi)
        found = Hour(k0, k1, rq, rs, capacitive, thd_v, thd_a)
        if len(self._hours) >= 8:
            self._hours.clear()  # reads move forward: old hours are rarely asked again
        self._hours[h] = found
        return found

    def ripple_mw(self, cell: int, amax: float) -> int:
        """The signed amplitude of the ripple in ten-second cell ``cell``."""
        x = mix(self.key, _S_RIPPLE, cell)
        size = (0.5 + 0.5 * (x >> 1) / 2.0 ** 63) * amax
        return -round(size) if x & 1 else round(size)

    def power_mw(self, t_ms: int) -> float:
        """Active power at ``t_ms`` (Unix milliseconds), in mW."""
        h, u = divmod(t_ms, HOUR_MS)
        rec = self.hour(h)
        cell, v = divmod(t_ms, CELL_MS)
        x = v / CELL_MS
        slow = rec.k0 + (rec.k1 - rec.k0) * (u / HOUR_MS)
        return slow + self.ripple_mw(cell, rec.amax) * _WAVE * x * (1.0 - x) * (1.0 - 2.0 * x)

    def partial(self, t_ms: int) -> tuple[int, int, int, int]:
        """The energy per register from the start of ``t_ms``'s hour to ``t_ms``, mW ms
        rounded down.

        With ``u`` the time into the hour and ``v`` into the cell, the slow part gives
        ``k0 u + (k1 - k0) u^2 / 2H`` and the ripple of the cell in progress (whole
        cells add nothing) ``5 A v^2 (C - v)^2 / C^3``; over the common denominator
        ``2 H C^3`` everything is an integer."""
        h, u = divmod(t_ms, HOUR_MS)
        rec = self.hour(h)
        cell, v = divmod(t_ms, CELL_MS)
        c3 = CELL_MS ** 3
        n = (rec.k0 * u * 2 * HOUR_MS * c3 + (rec.k1 - rec.k0) * u * u * c3
             + _WAVE * self.ripple_mw(cell, rec.amax) * HOUR_MS * (v * (CELL_MS - v)) ** 2)
        share = n * rec.rq // (_D * RATIO)
        return (n // _D, 0 if rec.capacitive else share, share if rec.capacitive else 0,
                n * rec.rs // (_D * RATIO))

    # -- registers -------------------------------------------------------------------

    def start(self, t_ms: int) -> None:
        """Count energy from ``t_ms``."""
        self.start_ms = t_ms
        self._start_partial = self.partial(t_ms)
        self._rewind()

    def _rewind(self) -> None:
        self._cursor_h = self.start_ms // HOUR_MS
        self._cursor = [-e for e in self._start_partial]

    def energy(self, t_ms: int) -> list[int]:
        """Energy since :meth:`start` up to ``t_ms`` (not before the start), per register
        (active, inductive, capacitive, apparent), in mW ms."""
        h = t_ms // HOUR_MS
        if h < self._cursor_h:
            self._rewind()
        cursor = self._cursor
        while self._cursor_h < h:
            totals = self.hour(self._cursor_h).totals
            for k in range(4):
                cursor[k] += totals[k]
            self._cursor_h += 1
        part = self.partial(t_ms)
        return [cursor[k] + part[k] for k in range(4)]

    def phase(self, t_ms: int, grid_share: float) -> Phase:
        """The phase's readings at ``t_ms``; ``grid_share`` is the neighbourhood's demand,
        which makes the feeder voltage sag."""
        rec = self.hour(t_ms // HOUR_MS)
        v = _clamp(234.0 - 8.0 * grid_share + 0.8 * _lerp_noise(self.key, _S_VOLT, t_ms, CELL_MS),
                   V_MIN, V_MAX)
        return Phase(v, self.power_mw(t_ms) / 1e6, rec.tan_phi, RATIO / rec.rs,
                     rec.thd_v, rec.thd_a)


class _PowerMeter(Meter):
    """Shared by the electricity meters: the supply and the loads of the phases."""

    profile: ClassVar[DailyProfile]
    description: ClassVar[str]
    # The meter's noise key, drawn from its seed.
    key: int

    def _static_values(self) -> dict[int, Any]:
        return {0: MANUFACTURER, 1: self.model, 2: self.serial, 3: self.description}

    def _new_load(self, index: int, peak_kw: float, base_kw: float) -> Load:
        load = Load(mix(self.key, _S_PHASE, index), self.profile, peak_kw, base_kw)
        load.start(self.start_ms)
        return load

    def _frequency(self, t_ms: int) -> float:
        wander = _lerp_noise(self.key, _S_FREQ, t_ms, 60_000)
        return _clamp(NOMINAL_HZ + 0.02 * wander, NOMINAL_HZ - HZ_SWING,
                      NOMINAL_HZ + HZ_SWING)

    @staticmethod
    def _grid(t_ms: int) -> float:
        # The feeder voltage sags when the whole neighbourhood draws its evening peak.
        return RESIDENTIAL_ELECTRICITY.share(t_ms / 1000.0)


def _register(kwh_value: float) -> int:
    return round(kwh_value * MWMS_PER_KWH)


class ElectricityMeter(_PowerMeter):
    """A household single-phase meter, Object 10243."""

    oid = 10243
    kind = "electricity"
    model = "SIM-E1P"
    description = "Simulated single-phase household meter"
    profile = RESIDENTIAL_ELECTRICITY
    device_values = {6: {0: setup.POWER_MAINS}, 17: "electricity meter"}
    computed = tuple(range(4, 18))

    def _configure(self) -> None:
        rng = self.rng
        self.peak_kw = rng.uniform(0.6, 1.4)
        self.base_kw = rng.uniform(0.08, 0.25)
        active = rng.uniform(1000.0, 30000.0)
        # Registers at the start: active, reactive (inductive and capacitive together,
        # as resource 15 counts them) and apparent energy.
        self.initial = (_register(active), _register(active * rng.uniform(0.2, 0.35)),
                        _register(active * rng.uniform(1.08, 1.15)))
        self.key = rng.getrandbits(64)
        self.load = self._new_load(0, self.peak_kw, self.base_kw)

    def _readings(self, t_ms: int) -> dict[int, Any]:
        ph = self.load.phase(t_ms, self._grid(t_ms))
        active, ind, cap, apparent = self.load.energy(t_ms)
        e0 = self.initial
        values: dict[int, Any] = ph.values(4)
        values[14] = kwh(e0[0] + active)
        values[15] = kwh(e0[1] + ind + cap)
        values[16] = kwh(e0[2] + apparent)
        values[17] = round(self._frequency(t_ms), 2)
        return values


class ThreePhaseMeter(_PowerMeter):
    """A commercial three-phase meter, Object 10242, with every resource set."""

    oid = 10242
    kind = "3phase"
    model = "SIM-E3P"
    description = "Simulated three-phase commercial meter"
    profile = COMMERCIAL_ELECTRICITY
    device_values = {6: {0: setup.POWER_MAINS}, 17: "electricity meter"}
    computed = tuple(range(4, 51))

    def _configure(self) -> None:
        rng = self.rng
        peak = rng.uniform(2.5, 8.0)
        # Single-phase loads never share out evenly: a fixed imbalance per site.
        self.peaks = [peak * rng.uniform(0.85, 1.15) for _ in range(3)]
        self.bases = [peak * rng.uniform(0.03, 0.06) for _ in range(3)]
        active = rng.uniform(20000.0, 400000.0)
        # Registers at the start: active, inductive, capacitive, apparent energy.
        self.initial = (_register(active), _register(active * rng.uniform(0.2, 0.35)),
                        _register(active * rng.uniform(0.01, 0.03)),
                        _register(active * rng.uniform(1.08, 1.15)))
        self.key = rng.getrandbits(64)
        self.loads = [self._new_load(k, self.peaks[k], self.bases[k]) for k in range(3)]

    def _readings(self, t_ms: int) -> dict[int, Any]:
        grid = self._grid(t_ms)
        phases = [load.phase(t_ms, grid) for load in self.loads]
        values: dict[int, Any] = {}
        for k, ph in enumerate(phases):
            values.update(ph.values(4 + 10 * k))
        p = sum(ph.p for ph in phases)
        q = sum(ph.q for ph in phases)
        q_ind = sum(max(ph.q, 0.0) for ph in phases)
        q_cap = sum(max(-ph.q, 0.0) for ph in phases)
        s = sum(ph.s for ph in phases)
        energy = list(self.initial)
        for load in self.loads:
            for k, e in enumerate(load.energy(t_ms)):
                energy[k] += e
        active, inductive, capacitive, apparent = energy
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
            41: kwh(active),
            42: kwh(inductive + capacitive),
            43: kwh(inductive),
            44: kwh(capacitive),
            45: kwh(apparent),
            46: round(abs(volts[0] - volts[1]), 1),
            47: round(abs(volts[1] - volts[2]), 1),
            48: round(abs(volts[2] - volts[0]), 1),
            49: round(self._frequency(t_ms), 2),
            50: round(abs(sum(amps)), 3),
        })
        return values
