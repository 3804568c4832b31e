"""The device clock behind Current Time ``/3/0/13``.

A real meter keeps calendar time in a real-time clock that a server may set: after a
Write of Current Time ``T`` (Object 3 resource 13 is RW), the device counts on from
``T``. A simulated meter takes its time from the host, so :class:`DeviceClock` keeps
what a server wrote as an offset from the host's clock: a Write of ``T`` at host time
``W`` makes every later reading ``now + (T - W)``. Ticks then publish the device's time
instead of the host's, and a Read returns the written time plus the time elapsed since.

UTC Offset ``/3/0/14`` and Timezone ``/3/0/15`` are settings the device only stores (it
reports Unix time, which no offset changes); nothing here writes them, so what a server
writes stays.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from lwm2m_client.core.dm.tree import ObjectTree

CURRENT_TIME = (3, 0, 13)


class DeviceClock:
    """Current Time of the Device object in ``tree``, set by a server's Write.

    ``wall`` gives the host's time in Unix seconds (``time.time`` by default); the
    ``now_s`` given to :meth:`now` and :meth:`publish` must come from the same clock.
    The offset lives as long as the object: a reboot keeps it (a meter's real-time clock
    runs on through a reboot), :meth:`reset` drops it.
    """

    def __init__(self, tree: ObjectTree, wall: Callable[[], float] = time.time) -> None:
        self.tree = tree
        self.wall = wall
        self.offset = 0.0
        tree.on_written(CURRENT_TIME, self._written)

    def __repr__(self) -> str:
        return f"<DeviceClock offset {self.offset:+.3f} s>"

    def now(self, now_s: float | None = None) -> float:
        """The device's time (Unix seconds) at host time ``now_s`` (default: now)."""
        return (self.wall() if now_s is None else now_s) + self.offset

    def publish(self, now_s: float | None = None) -> None:
        """Set Current Time to the device's time at host time ``now_s``, in whole seconds
        (the tree records a change only when the second differs)."""
        self.tree.set(CURRENT_TIME, int(self.now(now_s)))

    def reset(self) -> None:
        """Follow the host's clock again."""
        self.offset = 0.0

    def _written(self, path: tuple[int, ...], value: Any) -> None:
        # The hook runs right after the server's Write was applied: the host's time now
        # is W. A Write that removed the value (a replace of /3/0 without it) leaves the
        # device on the host's clock.
        if value is None:
            self.offset = 0.0
        else:
            self.offset = float(value) - self.wall()
