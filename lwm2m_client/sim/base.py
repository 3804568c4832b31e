"""The base of every virtual meter: one object instance, advanced by ``tick``."""

from __future__ import annotations

import random
from typing import Any, ClassVar

from lwm2m_client.core.dm.tree import ObjectTree

MANUFACTURER = "lwm2m_client"


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
