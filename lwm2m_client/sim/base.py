"""The base of every virtual meter: one object instance, advanced by ``tick``.

Besides readings, a meter has what a device's firmware does on the server's Execute of
Reboot ``/3/0/4`` and Factory Reset ``/3/0/5``: :meth:`Meter.reboot` and
:meth:`Meter.factory_reset`, with :class:`FactorySettings` holding the factory values
of the configuration resources.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any, ClassVar, Iterable

from lwm2m_client.core.dm.tree import ObjectTree

if TYPE_CHECKING:
    from lwm2m_client.sim.clock import DeviceClock

MANUFACTURER = "lwm2m_client"

Path = tuple[int, ...]


def _clamp(value: float, lo: float, hi: float) -> float:
    return lo if value < lo else hi if value > hi else value


def configuration_paths(tree: ObjectTree, oid: int, iid: int,
                        exclude: Iterable[int] = ()) -> list[Path]:
    """The configuration resources of ``/oid/iid``: every resource its object defines
    as writable (operations W or RW), present or not, except the IDs in ``exclude``.
    A server changes a device's settings only by writing them, so the writable
    resources are what a factory reset puts back; readings are read-only."""
    skip = set(exclude)
    odef = tree.definition(oid)
    return [(oid, iid, rid) for rid, rdef in sorted(odef.resources.items())
            if rdef.writable and rid not in skip]


def _copy(value: Any) -> Any:
    # A multiple resource is a dict: keep a copy of its own.
    return dict(value) if isinstance(value, dict) else value


class FactorySettings:
    """The factory values of a device's configuration resources.

    :meth:`capture` records the values the resources have now (absent ones as None);
    :meth:`restore` puts them back with ``tree.set``, removing a value the factory did
    not set. Capture right after the device is built, before any server writes.
    """

    def __init__(self, tree: ObjectTree) -> None:
        self.tree = tree
        self.values: dict[Path, Any] = {}

    def __repr__(self) -> str:
        return f"<FactorySettings {len(self.values)} resources>"

    def capture(self, paths: Iterable[Path]) -> None:
        tree = self.tree
        for path in paths:
            self.values[path] = _copy(tree.get(path)) if tree.has(path) else None

    def restore(self) -> None:
        tree = self.tree
        for path, value in self.values.items():
            if value is not None:
                tree.set(path, _copy(value))
            elif tree.has(path):
                tree.set(path, None)


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
        # How often the meter's firmware restarted (Reboot, Factory Reset).
        self.boots = 0
        # The device clock behind /3/0/13 when the meter is a whole device
        # (build_meter_tree sets it); None for a meter in a tree of its own.
        self.clock: DeviceClock | None = None
        self._configure()
        values = self._static_values()
        values.update(self._advance(start_s or 0.0, 0.0))
        self.iid: int = tree.create_instance(self.oid, iid, values)
        # The factory values of the meter's settings; build_meter_tree adds the device's.
        self.settings = FactorySettings(tree)
        self.settings.capture(configuration_paths(tree, self.oid, self.iid))
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

    def reboot(self) -> None:
        """What the meter's firmware does on Execute Reboot ``/3/0/4``: it restarts and
        carries on measuring. The cumulative registers survive, since a real meter keeps
        them in non-volatile memory, and so do the settings and the time of the last
        reading (the metrology keeps integrating through a restart); what lives only in
        working memory starts afresh (:meth:`_restart`)."""
        self.boots += 1
        self._restart()

    def factory_reset(self) -> None:
        """What Execute Factory Reset ``/3/0/5`` does to the device's configuration:
        every captured setting (:attr:`settings`) goes back to its factory value. The
        reboot that follows a factory reset is the caller's (:meth:`reboot`).

        The cumulative registers (energy, volume, pulses) are not reset. On a billing
        meter they are the legally relevant measurements: a bill is the difference of
        two register readings, so a register that went back to zero would corrupt every
        bill, and legal metrology does not let a configuration reset touch them. Object
        3's Factory Reset restores the device's configuration; the meter objects have
        their own Execute resources for an authorised register reset (3423 and 3424
        resources 2 and 5). The device clock is not a setting either and runs on.
        """
        self.settings.restore()
        self._settings_restored()

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

    def _restart(self) -> None:
        """Reset what the firmware keeps only in working memory; nothing by default:
        the instantaneous readings are taken afresh by the next tick anyway."""

    def _settings_restored(self) -> None:
        """Take over the restored settings into the meter's own state; nothing by
        default."""
