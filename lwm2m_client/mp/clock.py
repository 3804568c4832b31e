"""Time and randomness for the core on MicroPython (the core has neither of its own).

:class:`Clock` turns ``time.ticks_ms`` into the ever-growing integer milliseconds the
core wants (``now_ms``). The ticks counter wraps (after 2**30 ms, about 12.4 days, on most
ports); ``ticks_diff`` gives the right difference as long as the clock is read at least
once per half period, which the client loop guarantees by never sleeping longer than
:data:`MAX_SLEEP_MS`.

:class:`UrandomRng` gives ``getrandbits`` from ``os.urandom``: tokens and message IDs
must not repeat after a restart (RFC 7252 section 5.3.1 asks for unpredictable tokens),
which a fixed seed of the ``random`` module would not ensure on every port.
"""

# The longest the loop sleeps between two readings of the clock: far below half the
# ticks period of any port, and short enough for a timer the core sets while asleep.
MAX_SLEEP_MS = 60000


class Clock:
    """Monotonic milliseconds since the clock was made. ``ticks_ms`` and ``ticks_diff``
    default to the ``time`` module's; tests pass their own."""

    def __init__(self, ticks_ms=None, ticks_diff=None):
        if ticks_ms is None or ticks_diff is None:
            import time

            ticks_ms = ticks_ms or time.ticks_ms
            ticks_diff = ticks_diff or time.ticks_diff
        self._ticks_ms = ticks_ms
        self._ticks_diff = ticks_diff
        self._last = ticks_ms()
        self._now = 0

    def __repr__(self):
        return "<Clock %d ms>" % self._now

    def now_ms(self):
        t = self._ticks_ms()
        step = self._ticks_diff(t, self._last)
        if step > 0:  # never backwards, whatever the port's ticks do
            self._now += step
        self._last = t
        return self._now


class UrandomRng:
    """``getrandbits(n)`` from the platform's entropy source (``os.urandom``)."""

    def __init__(self, urandom=None):
        if urandom is None:
            import os

            urandom = os.urandom
        self._urandom = urandom

    def getrandbits(self, n):
        data = self._urandom((n + 7) // 8)
        value = 0
        for b in data:
            value = (value << 8) | b
        return value & ((1 << n) - 1)
