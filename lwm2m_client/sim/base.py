"""The base of every virtual meter: one object instance whose readings are computed
when they are read.

A meter's readings are functions of the simulated time its clock gives
(:mod:`lwm2m_client.sim.clock`): the tree calls the meter's read hooks at every read
(a server's Read, Observe evaluation, Send, the application's ``tree.get``), and the
meter computes the values at the clock's time then. Nothing advances the meter between
reads, so a fleet of meters costs nothing while nobody reads them.

Readings are taken on whole multiples of :attr:`Meter.sample_ms` (one second) of
simulated time, like a meter's metrology that refreshes its registers once a second;
the resources of one sample are computed together and kept until the next sample, so a
Read of the whole instance is one computation and its values belong to one moment.

Besides readings, a meter has what a device's firmware does on the server's Execute of
Reboot ``/3/0/4`` and Factory Reset ``/3/0/5``: :meth:`Meter.reboot` and
:meth:`Meter.factory_reset`, with :class:`FactorySettings` holding the factory values
of the configuration resources.
"""

from __future__ import annotations

import math
import random
import time
from typing import TYPE_CHECKING, Any, ClassVar, Iterable

from lwm2m_client.core.dm.tree import ObjectTree
from lwm2m_client.core.errors import UsageError
from lwm2m_client.sim.clock import CURRENT_TIME, Clock, ManualClock

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
    """Base class: one instance of ``oid`` in ``tree`` whose :attr:`computed` resources
    a read hook computes from :attr:`clock`.

    ``clock`` is a :class:`~lwm2m_client.sim.clock.Clock`; without one the meter gets a
    :class:`~lwm2m_client.sim.clock.ManualClock` standing at ``start_s`` (or the host's
    time now), so its readings hold still until the clock moves. ``start_s`` is when
    the meter starts measuring (default: the clock's time now): its registers have their
    initial values then and grow from there; a read at an earlier time shows the
    readings of the start.
    """

    oid: ClassVar[int]
    kind: ClassVar[str]
    model: ClassVar[str]
    # The resources the meter computes when they are read.
    computed: ClassVar[tuple[int, ...]]
    # Object 3 values that describe the device this meter is (power sources etc.).
    device_values: ClassVar[dict[int, Any]] = {}
    # Readings are taken at whole multiples of this many simulated milliseconds.
    sample_ms: ClassVar[int] = 1000

    def __init__(self, tree: ObjectTree, seed: int = 0, iid: int | None = None,
                 start_s: float | None = None, serial: str = "",
                 clock: Clock | None = None):
        self.tree = tree
        self.rng = random.Random(seed)
        self.serial = serial
        # How often the meter's firmware restarted (Reboot, Factory Reset).
        self.boots = 0
        if clock is None:
            clock = ManualClock(time.time() if start_s is None else start_s)
        self.clock: Clock = clock
        self.start_ms = self.sample_of(clock.now() if start_s is None else start_s)
        self._last_ms = self.start_ms
        self._sample_at: int | None = None
        self._sample: dict[int, Any] = {}
        # Current Time /3/0/13 when the meter is a whole device (build_meter_tree sets
        # it); None for a meter in a tree of its own.
        self.device_clock: DeviceClock | None = None
        self._configure()
        if iid is None:
            iid = tree.free_iid(self.oid)
            if iid is None:
                raise UsageError(f"/{self.oid}: no free instance id for the meter")
        self.iid: int = iid
        try:
            for rid in self.computed:
                tree.on_read(self.path(rid), self._read)
            tree.create_instance(self.oid, iid, self._static_values())
        except UsageError:
            tree.drop_hooks(self.oid, iid)
            raise
        # The factory values of the meter's settings; build_meter_tree adds the device's.
        self.settings = FactorySettings(tree)
        self.settings.capture(configuration_paths(tree, self.oid, self.iid))
        self._install_hooks()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} /{self.oid}/{self.iid}>"

    def path(self, rid: int) -> tuple[int, int, int]:
        return (self.oid, self.iid, rid)

    # -- time and readings ---------------------------------------------------------

    def sample_of(self, t_s: float) -> int:
        """The sample that ``t_s`` (Unix seconds) falls in, as Unix milliseconds."""
        t_ms = math.floor(t_s * 1000)
        return t_ms - t_ms % self.sample_ms

    def now_ms(self) -> int:
        """The clock's time as a sample (Unix milliseconds), never before the meter's
        start nor before a time it already read: registers cannot go back even with a
        clock that does."""
        t = self.sample_of(self.clock.now())
        if t < self._last_ms:
            return self._last_ms
        self._last_ms = t
        return t

    def readings(self) -> dict[int, Any]:
        """Every computed resource at the clock's time, as the tree would give it."""
        t = self.now_ms()
        if t != self._sample_at:
            self._sample = self._readings(t)
            self._sample_at = t
        return self._sample

    def readings_at(self, t_s: float) -> dict[int, Any]:
        """Every computed resource at simulated time ``t_s``, without moving the clock
        or the meter's notion of now: the values a read at ``t_s`` gives."""
        return self._readings(max(self.sample_of(t_s), self.start_ms))

    def _read(self, path: tuple[int, ...]) -> Any:
        return self.readings()[path[2]]

    def _forget_sample(self) -> None:
        """The meter's state changed (a register reset, a new setting): the next read
        computes afresh."""
        self._sample_at = None

    def report_changes(self) -> None:
        """Record a change of every computed resource (and of Current Time) in the tree,
        so the client core evaluates the observations of the meter now rather than at
        their next ``pmax`` or ``epmax``."""
        tree = self.tree
        for rid in self.computed:
            tree.changed(self.path(rid))
        if self.device_clock is not None:
            tree.changed(CURRENT_TIME)

    def tick(self, now_s: float | None = None) -> None:
        """Readings need no tick; this moves the clock forward to ``now_s`` when given
        (an earlier time leaves it) and reports the readings as changed
        (:meth:`report_changes`)."""
        if now_s is not None:
            self.clock.advance_to(now_s)
        self.report_changes()

    # -- firmware --------------------------------------------------------------------

    def reboot(self) -> None:
        """What the meter's firmware does on Execute Reboot ``/3/0/4``: it restarts and
        carries on measuring. The cumulative registers survive, since a real meter keeps
        them in non-volatile memory, and so do the settings (the metrology keeps
        integrating through a restart); what lives only in working memory starts afresh
        (:meth:`_restart`)."""
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

    def _readings(self, t_ms: int) -> dict[int, Any]:
        """The computed resources at ``t_ms`` (a sample, Unix milliseconds, not before
        :attr:`start_ms`)."""
        raise NotImplementedError

    def _install_hooks(self) -> None:
        """Register tree hooks for the instance (Execute, Write checks); none by default."""

    def _restart(self) -> None:
        """Reset what the firmware keeps only in working memory: the sample in hand.
        Everything else is computed from the clock at every read anyway."""
        self._forget_sample()

    def _settings_restored(self) -> None:
        """Take over the restored settings into the meter's own state; nothing by
        default."""
