"""Daily and seasonal load profiles for the virtual meters.

A profile gives the share (0..1) of a meter's peak demand at a time of day, read from 24
hourly points with linear interpolation; a seasonal factor scales it over the year. Time
is Unix seconds and profiles read it as UTC: a simulated fleet shares one clock, and a
scenario that wants local time gives its meters a clock shifted by the UTC offset.

The shapes are plain typical curves (a morning and an evening peak for homes, office
hours for a commercial site, heating hours for gas), not measured data.
"""

from __future__ import annotations

import math

DAY_S = 86400
YEAR_S = 365.2425 * DAY_S
# Day of the year (from 1 January) of the coldest days in the northern hemisphere.
_COLDEST_DAY = 15


class DailyProfile:
    """Share of peak demand by time of day, from 24 hourly points (hour 0 = midnight)."""

    def __init__(self, name: str, hourly: tuple[float, ...], seasonal: float = 0.0):
        if len(hourly) != 24 or not all(0.0 <= p <= 1.0 for p in hourly):
            raise ValueError("a daily profile is 24 shares between 0 and 1")
        self.name = name
        self.hourly = hourly
        # Relative swing over the year: the factor runs from 1 - seasonal in summer to
        # 1 + seasonal in winter.
        self.seasonal = seasonal

    def __repr__(self) -> str:
        return f"DailyProfile({self.name!r})"

    def share(self, now_s: float) -> float:
        """The share of peak demand at ``now_s``, seasonal factor included (may exceed
        1 in winter by at most ``seasonal``)."""
        hour = (now_s % DAY_S) / 3600.0
        i = int(hour)
        frac = hour - i
        here = self.hourly[i]
        after = self.hourly[(i + 1) % 24]
        return (here + (after - here) * frac) * self.season(now_s)

    def season(self, now_s: float) -> float:
        if not self.seasonal:
            return 1.0
        day = (now_s % YEAR_S) / DAY_S
        return 1.0 + self.seasonal * math.cos(2.0 * math.pi * (day - _COLDEST_DAY) / 365.2425)


# A household: low at night, a breakfast peak, a low midday, the evening peak at 19-20 h.
RESIDENTIAL_ELECTRICITY = DailyProfile("residential electricity", (
    0.18, 0.15, 0.14, 0.13, 0.13, 0.15, 0.28, 0.48, 0.52, 0.40, 0.34, 0.33,
    0.38, 0.35, 0.32, 0.33, 0.40, 0.58, 0.80, 0.95, 1.00, 0.85, 0.55, 0.30,
), seasonal=0.15)

# An office or shop on three phases: base load at night, busy from 8 to 18 h.
COMMERCIAL_ELECTRICITY = DailyProfile("commercial electricity", (
    0.22, 0.20, 0.20, 0.20, 0.20, 0.22, 0.35, 0.60, 0.85, 0.95, 1.00, 0.98,
    0.90, 0.95, 1.00, 0.97, 0.92, 0.80, 0.55, 0.40, 0.32, 0.28, 0.25, 0.23,
), seasonal=0.10)

# Gas heating and hot water, as the boiler's duty cycle: night set-back, and a strong
# seasonal swing that leaves only hot water in summer.
GAS_HEATING = DailyProfile("gas heating", (
    0.05, 0.04, 0.04, 0.04, 0.05, 0.20, 0.75, 1.00, 0.70, 0.40, 0.30, 0.28,
    0.28, 0.26, 0.26, 0.30, 0.45, 0.70, 0.90, 0.85, 0.70, 0.50, 0.25, 0.10,
), seasonal=0.8)

# Household water, as the share of time a tap or shower runs: showers in the morning,
# cooking and washing in the evening; about 0.4 m3 a day.
WATER_RESIDENTIAL = DailyProfile("residential water", (
    0.002, 0.001, 0.001, 0.001, 0.002, 0.010, 0.070, 0.120, 0.080, 0.040, 0.030, 0.030,
    0.040, 0.030, 0.020, 0.020, 0.030, 0.050, 0.070, 0.080, 0.070, 0.050, 0.030, 0.010,
), seasonal=0.1)
