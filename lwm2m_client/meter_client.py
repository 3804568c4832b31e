"""One virtual meter on the network: object tree, client core, I/O adapter and a clock.

:class:`MeterClient` is what a script or a test needs to run a simulated meter against an
LwM2M server: it builds the device (:func:`lwm2m_client.sim.meters.build_meter_tree`), the
client core and an asyncio adapter, and de-registers on :meth:`MeterClient.stop`::

    async with MeterClient("coap://127.0.0.1:5683", "meter-1", "gas") as client:
        await client.wait_registered()
        ...

The meter's readings are computed when they are read, from a simulated clock
(:class:`~lwm2m_client.sim.clock.SimClock`) that runs ``speed`` times as fast as real
time; Current Time ``/3/0/13`` follows it too. The client core's own timers
(retransmission, lifetime, Updates, observation periods) stay in real time. No task
runs for the readings: an observation learns of new values when the core evaluates it,
at its ``pmax`` or ``epmax``, or when :meth:`MeterClient.tick` reports them.

Settings the meter cannot run with raise :class:`ConfigError` at once, with a message that
names the setting; an unresolvable host raises it from :meth:`MeterClient.start`.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import random
import zlib
from typing import Any, Callable, Iterable, Optional, Sequence

from lwm2m_client.aio.common import Addr, ServerUriError, parse_server_uri, resolve
from lwm2m_client.core.client import events as ev
from lwm2m_client.core.client.client import LwM2MClient
from lwm2m_client.core.client.engine import ClientConfig, ClientCore
from lwm2m_client.core.content import (
    CF_LWM2M_CBOR,
    CF_LWM2M_JSON,
    CF_SENML_CBOR,
    CF_SENML_JSON,
    CF_TEXT,
    CF_TLV,
)
from lwm2m_client.core.dm import types as t
from lwm2m_client.core.dm.model import ObjectDef
from lwm2m_client.core.dm.tree import ObjectTree
from lwm2m_client.core.errors import LwM2MError, UsageError, code_str
from lwm2m_client.models import shipped_objects
from lwm2m_client.sim.clock import Clock, SimClock, check_speed
from lwm2m_client.sim.meters import METERS, build_meter_tree

log = logging.getLogger("lwm2m_client.meter")

ADAPTERS = ("udp", "aiocoap")
KINDS = tuple(METERS)
VERSIONS = ("1.0", "1.1", "1.2")

# Content formats by the name users type, and the first LwM2M version that defines each
# (Core 1.1 section 7.4 adds SenML, Core 1.2 section 7.4 adds LwM2M CBOR).
FORMATS = {
    "tlv": CF_TLV,
    "senml-cbor": CF_SENML_CBOR,
    "senml-json": CF_SENML_JSON,
    "lwm2m-cbor": CF_LWM2M_CBOR,
    "text": CF_TEXT,
}
FORMAT_SINCE = {CF_TLV: "1.0", CF_SENML_CBOR: "1.1", CF_SENML_JSON: "1.1",
                CF_LWM2M_CBOR: "1.2", CF_TEXT: "1.0"}

# What the Register root link advertises (</>;ct="...", Core 1.1 section 6.2.1): the
# hierarchical formats the client answers in, per version.
_ADVERTISED = {
    "1.0": (CF_TLV, CF_LWM2M_JSON),
    "1.1": (CF_SENML_CBOR, CF_SENML_JSON, CF_TLV, CF_LWM2M_JSON),
    "1.2": (CF_SENML_CBOR, CF_SENML_JSON, CF_LWM2M_CBOR, CF_TLV, CF_LWM2M_JSON),
}

# Objects every meter tree already has: Security, Server, Device, Connectivity Monitoring.
_BASE_OBJECTS = (0, 1, 3, 4)

# The zero value of each type, used to start an extra object's mandatory resources.
_ZERO = {t.T_STRING: "", t.T_INTEGER: 0, t.T_UNSIGNED: 0, t.T_FLOAT: 0.0,
         t.T_BOOLEAN: False, t.T_OPAQUE: b"", t.T_TIME: 0}


class ConfigError(ValueError):
    """A setting the meter cannot run with; the message names the setting and the problem."""


class RegistrationError(RuntimeError):
    """The server refused the registration and the failure procedure gave up."""


def advertised_formats(version: str, preferred: Optional[int] = None) -> list[int]:
    """The root-link content formats for ``version``, the preferred one first."""
    formats = list(_ADVERTISED[version])
    if preferred is not None:
        if preferred in formats:
            formats.remove(preferred)
        formats.insert(0, preferred)
    return formats


def _zero_instance(odef: ObjectDef) -> Optional[dict[int, Any]]:
    """Values for an instance whose mandatory resources start at zero, or None when a
    zero would break a mandatory resource's range (an Access Control instance needs a
    real Object ID, say): such an object is better listed without instances."""
    values: dict[int, Any] = {}
    for rid, rdef in odef.resources.items():
        if not rdef.mandatory or rdef.executable:
            continue
        zero = _ZERO.get(rdef.type)
        if zero is None or (rdef.range is not None and not rdef.range.check(rdef.type, zero)):
            return None
        values[rid] = {0: zero} if rdef.multiple else zero
    return values


def add_extra_object(tree: ObjectTree, odef: ObjectDef) -> Optional[int]:
    """Add ``odef`` to ``tree`` with instance 0 when its mandatory resources can start at
    zero; otherwise without instances, which the Register lists as a bare object link
    (``</2>``, Core 1.1 section 6.2.1). Returns the instance ID or None."""
    tree.add_object(odef)
    values = _zero_instance(odef)
    if values is None:
        return None
    try:
        return tree.create_instance(odef.oid, 0, values)
    except UsageError:
        return None


def check_objects(oids: Iterable[int]) -> list[int]:
    """The extra object IDs to add, in order and without repeats; raises ConfigError for an
    ID the project ships no definition for. IDs the meter tree has anyway are dropped."""
    shipped = shipped_objects()
    out: list[int] = []
    for oid in oids:
        if oid not in shipped:
            known = ", ".join(str(o) for o in sorted(shipped))
            raise ConfigError(f"object {oid} is not a shipped object (shipped: {known})")
        if oid not in _BASE_OBJECTS and oid not in out:
            out.append(oid)
    return out


class MeterClient:
    """A virtual meter of ``kind`` (electricity, gas, water, 3phase) that registers as
    ``endpoint`` with the LwM2M server at ``server_uri``.

    ``preferred_format`` (a Content-Format number) answers requests without Accept;
    ``advertise_formats`` puts the supported formats in the Register root link; ``objects``
    adds shipped objects by ID (see :func:`add_extra_object`); ``adapter`` is "udp" (the
    core's own CoAP) or "aiocoap". ``speed`` is how fast the meter's simulated time runs
    (simulated seconds per real second: 60 makes a minute of readings pass every
    second); ``clock`` replaces that clock altogether (a
    :class:`~lwm2m_client.sim.clock.ManualClock` a test steps, or one clock shared by a
    fleet), and ``speed`` then does not apply. ``on_event`` receives every client event.
    ``bootstrap_uri`` gives the meter a Bootstrap-Server account; with ``server_uri``
    None it starts with that account alone and is onboarded by the Bootstrap-Server
    (LwM2M Core 1.1 section 6.1), which names its LwM2M Server.
    """

    def __init__(self, server_uri: Optional[str], endpoint: str, kind: str = "electricity", *,
                 lifetime: int = 300, binding: str = "U", version: str = "1.1",
                 preferred_format: Optional[int] = None, advertise_formats: bool = False,
                 objects: Sequence[int] = (), adapter: str = "udp", seed: Optional[int] = None,
                 speed: float = 1.0, clock: Optional[Clock] = None,
                 on_event: Optional[Callable[[Any], None]] = None,
                 bootstrap_uri: Optional[str] = None) -> None:
        if server_uri is None and bootstrap_uri is None:
            raise ConfigError("a meter needs an LwM2M Server or a Bootstrap-Server URI")
        # The account the meter starts with: its LwM2M Server (Short Server ID 1), else
        # its Bootstrap-Server (0), which gives it the LwM2M Server.
        self._first_ssid = 1 if server_uri is not None else 0
        first_uri = server_uri if server_uri is not None else bootstrap_uri
        assert first_uri is not None
        try:
            _, self.host, self.port = parse_server_uri(first_uri)
            if bootstrap_uri is not None:
                parse_server_uri(bootstrap_uri)
        except ServerUriError as exc:
            raise ConfigError(str(exc)) from None
        _check_choice("meter kind", kind, KINDS)
        _check_choice("LwM2M version", version, VERSIONS)
        _check_choice("adapter", adapter, ADAPTERS)
        if not endpoint:
            raise ConfigError("the endpoint name must not be empty")
        if lifetime < 1:
            raise ConfigError(f"lifetime {lifetime}: must be at least 1 second")
        try:
            self.speed = check_speed(speed)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        since = "1.0" if preferred_format is None else FORMAT_SINCE.get(preferred_format, "1.0")
        if version < since:
            raise ConfigError(f"content format {preferred_format} needs LwM2M {since} or "
                              f"later, not {version}")
        self.server_uri = first_uri
        self.bootstrap_uri = bootstrap_uri
        self.endpoint = endpoint
        self.kind = kind
        self.adapter_name = adapter
        self.on_event = on_event
        # The simulated time of the readings and of Current Time; the core's timers
        # use the event loop's clock.
        self.clock: Clock = SimClock(speed=self.speed) if clock is None else clock
        # Two kinds of randomness, kept apart. The simulated readings are simulation data:
        # seeded from the endpoint name unless a seed is given, so an endpoint is the same
        # meter in every run. Message IDs and tokens are protocol state: RFC 7252 section
        # 5.3.1 wants tokens unpredictable, and a client that starts again with the same
        # message IDs and tokens as its previous run can be taken for a duplicate of it,
        # so they come from the system's random source unless ``seed`` asks for a
        # reproducible run. One source serves every boot (see reboot()): a seeded run
        # still gets new message IDs and tokens after a reboot.
        self.seed = seed
        sim_seed = zlib.crc32(endpoint.encode("utf-8")) if seed is None else seed
        self._rng: Any = random.SystemRandom() if seed is None else random.Random(seed)
        try:
            self.tree, self.meter = build_meter_tree(kind, endpoint, server_uri, seed=sim_seed,
                                                     lifetime=lifetime, binding=binding,
                                                     clock=self.clock,
                                                     reboot=self._reboot_executed,
                                                     factory_reset=self._factory_reset_executed,
                                                     bootstrap_uri=bootstrap_uri)
        except (LwM2MError, UsageError) as exc:  # the binding, found bad by add_server
            raise ConfigError(str(exc)) from None
        defs = shipped_objects()
        self.extra_instances = {oid: add_extra_object(self.tree, defs[oid])
                                for oid in check_objects(objects)}
        self.tree.drain_changes()
        formats = advertised_formats(version, preferred_format) if advertise_formats else None
        self.config = ClientConfig(endpoint, version=version, preferred_format=preferred_format,
                                   advertise_formats=formats)
        layer = ClientCore if adapter == "udp" else LwM2MClient
        self.core = layer(self.config, self.tree, self._rng)
        self.adapter: Any = None
        self.server_addr: Optional[Addr] = None
        self.location: Optional[list[str]] = None
        self._registered = asyncio.Event()
        self._failed: Optional[Any] = None
        self._changed = asyncio.Event()

    def __repr__(self) -> str:
        return f"<MeterClient {self.endpoint} {self.kind} -> {self.server_uri}>"

    @property
    def registered(self) -> bool:
        return self._registered.is_set()

    @property
    def failure(self) -> Optional[Any]:
        """The RegistrationFailed event once the failure procedure gave up, else None."""
        return self._failed

    async def start(self) -> None:
        """Resolve the server, open the socket and start registering."""
        try:
            self.server_addr = await resolve(self.host, self.port)
        except ServerUriError as exc:
            raise ConfigError(f"server {self.server_uri}: {exc}") from None
        self.core.set_address(self._first_ssid, self.server_addr)
        # Listen on every interface of the server's address family: a remote server must
        # be reachable, and replies then come from the address the server was given.
        local = ("::" if ":" in self.server_addr[0] else "0.0.0.0", 0)
        self.adapter = _adapter_class(self.adapter_name)(self.core, local_addr=local,
                                                         on_event=self._event)
        log.info("%s: %s meter /%d/%d, serial %s, LwM2M %s -> %s (%s:%d)", self.endpoint,
                 self.kind, self.meter.oid, self.meter.iid, self.meter.serial,
                 self.config.version, self.server_uri, *self.server_addr)
        if isinstance(self.clock, SimClock) and self.clock.speed != 1.0:
            log.info("%s: simulated time runs %g times as fast as real time", self.endpoint,
                     self.clock.speed)
        await self.adapter.start()

    async def stop(self, timeout: float = 5.0) -> None:
        """De-register (waiting up to ``timeout`` seconds for the answer) and close."""
        if self.adapter is not None:
            await self.adapter.stop(timeout)
            self.adapter = None

    async def __aenter__(self) -> MeterClient:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def wait_registered(self, timeout: float = 10.0) -> None:
        """Return once registered; raise RegistrationError when the server refused for
        good, TimeoutError after ``timeout`` seconds."""
        async def registered() -> None:
            while not self._registered.is_set():
                if self._failed is not None:
                    last = self._failed.code
                    code = "no answer" if last is None else f"last answer {code_str(last)}"
                    raise RegistrationError(f"{self.endpoint}: registration failed ({code})")
                self._changed.clear()
                await self._changed.wait()

        try:
            await asyncio.wait_for(registered(), timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"{self.endpoint}: not registered within {timeout} s") from None

    async def wait_failed(self) -> Any:
        """Wait until the registration failure procedure gives up; returns its event."""
        while self._failed is None:
            self._changed.clear()
            await self._changed.wait()
        return self._failed

    def tick(self, now_s: Optional[float] = None) -> None:
        """Report the readings and Current Time ``/3/0/13`` as changed, so observations
        of them are evaluated now rather than at their next ``pmax`` or ``epmax``.
        Readings need no tick (they are computed when read); ``now_s`` (simulated Unix
        seconds) first moves the meter's clock forward to that time. A running adapter
        is told at once."""
        self.meter.tick(now_s)
        if self.adapter is not None:
            # Let the core compare the new readings with its observations now, not at
            # its next timer or request.
            self.adapter.changed()

    # -- Reboot /3/0/4 and Factory Reset /3/0/5 -----------------------------------------

    # The restart an Execute scheduled, while it runs.
    _restarting: Optional[asyncio.Task[None]] = None

    async def reboot(self) -> None:
        """Restart as a real meter does after Execute Reboot ``/3/0/4``: the simulated
        firmware restarts (:meth:`Meter.reboot`: registers and settings survive), the
        network session ends without a De-register, and the meter comes back as a new
        boot: a new client core (new message IDs and tokens; no observations, attributes
        or registration from before) on a new socket, which registers afresh. Before
        :meth:`start` only the core is replaced."""
        self.meter.reboot()
        await self._new_session()

    async def factory_reset(self) -> None:
        """Execute Factory Reset ``/3/0/5``: the settings go back to their factory
        values (:meth:`Meter.factory_reset`; the Server account's lifetime and binding
        too, which the new registration then uses), then the meter reboots."""
        self.meter.factory_reset()
        await self.reboot()

    def _reboot_executed(self) -> None:
        # The tree calls this before the 2.04 is queued: only schedule the restart.
        self._schedule_restart(factory=False)

    def _factory_reset_executed(self) -> None:
        self._schedule_restart(factory=True)

    def _schedule_restart(self, factory: bool) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            # No event loop (the tree driven directly): the meter alone restarts.
            if factory:
                self.meter.factory_reset()
            self.meter.reboot()
            return
        if self._restarting is not None:
            return  # already restarting: a repeated Execute changes nothing
        # The adapter sends the answer before the loop runs this callback, and the task
        # it starts runs later still.
        loop.call_soon(self._start_restart, factory)

    def _start_restart(self, factory: bool) -> None:
        if self._restarting is None:
            self._restarting = asyncio.ensure_future(self._run_restart(factory))

    async def _run_restart(self, factory: bool) -> None:
        try:
            await (self.factory_reset() if factory else self.reboot())
        except Exception:  # a failed restart must not vanish in an unawaited task
            log.exception("%s: restart failed", self.endpoint)
        finally:
            self._restarting = None

    async def _new_session(self) -> None:
        """End the network session without De-register and open a new one the way
        ``__init__`` and :meth:`start` do: a new core on the same tree, and once started
        a new adapter on a new socket that registers afresh."""
        old = self.adapter
        if old is not None:
            self.adapter = None
            await old.abort()  # no De-register: a rebooting device just drops off
        self._registered.clear()
        self.location = None
        self._failed = None
        self._changed.set()
        layer = ClientCore if self.adapter_name == "udp" else LwM2MClient
        self.core = layer(self.config, self.tree, self._rng)
        if old is None or self.server_addr is None:
            return  # not started: start() opens the first session with this core
        self.core.set_address(self._first_ssid, self.server_addr)
        local = ("::" if ":" in self.server_addr[0] else "0.0.0.0", 0)
        adapter = _adapter_class(self.adapter_name)(self.core, local_addr=local,
                                                    on_event=self._event)
        self.adapter = adapter
        await adapter.start()
        if self.adapter is not adapter:
            # stop() ran while the socket opened and found nothing to de-register.
            await adapter.abort()

    def _event(self, event: Any) -> None:
        if isinstance(event, ev.Registered):
            self.location = event.location
            self._registered.set()
        elif isinstance(event, ev.Deregistered):
            self._registered.clear()
        elif isinstance(event, ev.RegistrationFailed):
            if not (event.bootstrap and self.bootstrap_uri is not None):
                self._failed = event  # else the Bootstrap-Server is asked (/1/x/16)
        self._changed.set()
        if self.on_event is not None:
            self.on_event(event)


def _check_choice(what: str, value: str, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ConfigError(f"unknown {what} {value!r} (one of {', '.join(choices)})")


def available_adapters() -> tuple[str, ...]:
    """The adapters this installation has: "udp" always, "aiocoap" with its module."""
    if importlib.util.find_spec("lwm2m_client.aio.aiocoap_client") is None:
        return ("udp",)
    return ADAPTERS


def _adapter_class(name: str) -> Any:
    if name == "aiocoap":
        # Imported only when asked for: the lean adapter needs nothing from aiocoap.
        from lwm2m_client.aio.aiocoap_client import AiocoapClient

        return AiocoapClient
    from lwm2m_client.aio.udp import UdpClient

    return UdpClient
