"""Simulated time for virtual meters, and the device clock behind Current Time ``/3/0/13``.

A meter computes its readings when they are read, from the time its :class:`Clock`
gives (Unix seconds, read as UTC by the load profiles). Two clocks:

- :class:`SimClock` runs with the host's monotonic clock, ``speed`` times as fast: at
  speed 60 a simulated minute passes every real second. It drives a meter that talks to
  a real server (``lwm2m-meter client --speed``). Only the readings and the device's
  calendar time follow it; CoAP retransmissions, the registration lifetime and Updates
  are the client core's and stay in real time.
- :class:`ManualClock` stands still until told to move: tests and scripted scenarios
  step it, and the same steps give the same readings.

Both only move forward. A meter's cumulative registers are functions of the time that
never decrease, so a clock that could go back would make a later read show less than an
earlier one; :meth:`Clock.advance_to` with an earlier time leaves the clock as it is.

A real meter keeps calendar time in a real-time clock that a server may set: after a
Write of Current Time ``T`` (Object 3 resource 13 is RW) the device counts on from
``T``. :class:`DeviceClock` computes Current Time on read from the meter's clock and
keeps what a server wrote as an offset from it: a Write of ``T`` at simulated time ``W``
makes every later read ``now + (T - W)``.

UTC Offset ``/3/0/14`` and Timezone ``/3/0/15`` are settings the device only stores (it
reports Unix time, which no offset changes); nothing here writes them, so what a server
writes stays.
"""

from __future__ import annotations

import math
import time
from typing import Any, Callable

from lwm2m_client.core.dm.tree import ObjectTree

CURRENT_TIME = (3, 0, 13)


def check_speed(speed: Any) -> float:
    """``speed`` as a float, or ValueError saying why it cannot be a clock's speed (it
    must be a finite number above zero: simulated seconds per real second)."""
    if isinstance(speed, bool) or not isinstance(speed, (int, float)):
        raise ValueError(f"speed {speed!r} is not a number")
    value = float(speed)
    if not math.isfinite(value) or value <= 0.0:
        raise ValueError(f"speed {speed!r} must be a finite number above 0 "
                         f"(simulated seconds per real second)")
    return value


class Clock:
    """Simulated Unix seconds that never go backwards. Calling the clock is ``now()``."""

    def now(self) -> float:
        raise NotImplementedError

    def advance_to(self, t_s: float) -> None:
        """Move forward to ``t_s``; an earlier time leaves the clock as it is."""
        raise NotImplementedError

    def __call__(self) -> float:
        return self.now()


class ManualClock(Clock):
    """A clock that moves only when told: :meth:`advance` and :meth:`advance_to`."""

    def __init__(self, start_s: float = 0.0) -> None:
        self._now = float(start_s)

    def __repr__(self) -> str:
        return f"<ManualClock {self._now:.3f}>"

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if not seconds >= 0:  # also refuses NaN
            raise ValueError(f"a clock cannot go back (advance by {seconds!r} s)")
        self._now += seconds

    def advance_to(self, t_s: float) -> None:
        if t_s > self._now:
            self._now = float(t_s)


class SimClock(Clock):
    """Simulated time that starts at ``start_s`` (Unix seconds; default: the host's time
    now) and runs ``speed`` times as fast as the host's ``monotonic`` clock.

    Elapsed time comes from the monotonic clock, so a step of the host's calendar
    clock (NTP, a user setting the date) does not move the meters. Changing
    :attr:`speed` takes effect from the moment of the change.
    """

    def __init__(self, start_s: float | None = None, speed: float = 1.0,
                 monotonic: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time) -> None:
        self._speed = check_speed(speed)
        self._monotonic = monotonic
        self._real0 = monotonic()
        self._sim0 = wall() if start_s is None else float(start_s)
        self._last = self._sim0

    def __repr__(self) -> str:
        return f"<SimClock x{self._speed:g} {self._last:.3f}>"

    def now(self) -> float:
        t = self._sim0 + (self._monotonic() - self._real0) * self._speed
        # Float rounding of the product must not show a moment earlier than one
        # already given out.
        if t < self._last:
            t = self._last
        self._last = t
        return t

    @property
    def speed(self) -> float:
        """Simulated seconds per real second."""
        return self._speed

    @speed.setter
    def speed(self, value: float) -> None:
        speed = check_speed(value)
        self._sim0 = self.now()
        self._real0 = self._monotonic()
        self._speed = speed

    def advance_to(self, t_s: float) -> None:
        """Jump forward to ``t_s`` and run on from there at the same speed."""
        now = self.now()
        if t_s > now:
            self._sim0 += t_s - now
            self._last = float(t_s)


class DeviceClock:
    """Current Time ``/3/0/13`` of the Device object in ``tree``, computed on read from
    ``source`` (the meter's clock: Unix seconds) and set by a server's Write.

    The offset a Write leaves lives as long as the object: a reboot keeps it (a meter's
    real-time clock runs on through a reboot), :meth:`reset` drops it.
    """

    def __init__(self, tree: ObjectTree, source: Callable[[], float]) -> None:
        self.tree = tree
        self.source = source
        self.offset = 0.0
        tree.on_read(CURRENT_TIME, self._read)
        tree.on_written(CURRENT_TIME, self._written)

    def __repr__(self) -> str:
        return f"<DeviceClock offset {self.offset:+.3f} s>"

    def now(self) -> float:
        """The device's time (Unix seconds)."""
        return self.source() + self.offset

    def reset(self) -> None:
        """Follow the meter's clock again."""
        self.offset = 0.0

    def _read(self, path: tuple[int, ...]) -> int:
        return math.floor(self.now())

    def _written(self, path: tuple[int, ...], value: Any) -> None:
        # The hook runs right after the server's Write was applied, at simulated time W.
        # A Write that removed the value (a replace of /3/0 without it) leaves the
        # device on the meter's clock.
        if value is None:
            self.offset = 0.0
        else:
            self.offset = float(value) - self.source()
