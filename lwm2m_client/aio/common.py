"""What both asyncio adapters share: server URIs, address normalisation, event logging."""

from __future__ import annotations

import asyncio
import logging
import random
import socket
from typing import TYPE_CHECKING, Any, Callable, Optional, Tuple, TypeVar, Union

from lwm2m_client.core.client import events as ev
from lwm2m_client.core.errors import code_str
from lwm2m_client.core.uri import UriError, parse_uri

if TYPE_CHECKING:
    from lwm2m_client.core.client.client import LwM2MClient
    from lwm2m_client.core.client.engine import ClientCore

log = logging.getLogger("lwm2m_client")

Addr = Tuple[str, int]
EventCallback = Callable[[Any], None]
_E = TypeVar("_E")

class ServerUriError(ValueError):
    """A server URI the client cannot use; the message names the URI and the problem."""


def parse_server_uri(uri: str) -> Tuple[str, str, int]:
    """Split ``coap://host:port`` into (scheme, host, port) with the core's parser; only
    plain UDP is served by these adapters (coaps:// needs DTLS, coap+tcp:// TCP)."""
    try:
        scheme, host, port = parse_uri(uri)
    except UriError as exc:
        raise ServerUriError(str(exc)) from None
    if scheme != "coap":
        raise ServerUriError(f"bad server URI {uri!r}: scheme must be coap:// "
                             f"({scheme}:// is not supported by this adapter)")
    return scheme, host, port


async def resolve_uri(uri: str) -> Addr:
    """The transport address of a server URI (``coap://host:port``)."""
    _, host, port = parse_server_uri(uri)
    return await resolve(host, port)


async def resolve(host: str, port: int) -> Addr:
    """Resolve once, preferring IPv4; the result matches what ``datagram_received``
    reports for that peer, so the core can compare addresses."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except OSError as exc:
        raise ServerUriError(f"cannot resolve {host!r}: {exc}") from None
    infos.sort(key=lambda info: info[0] != socket.AF_INET)
    return normalise(infos[0][4])


def normalise(addr: Any) -> Addr:
    """(host, port) of an IPv4 or IPv6 socket address (IPv6 flow info dropped)."""
    return (str(addr[0]), int(addr[1]))


def log_event(endpoint: str, event: Any) -> None:
    """One line per client event (standard logging, one line per operation)."""
    if isinstance(event, ev.OperationPerformed):
        log.info("%s: %s %s -> %s", endpoint, event.op, event.path, event.code)
    elif isinstance(event, ev.Registered):
        log.info("%s: registered with server %d at /%s", endpoint, event.ssid,
                 "/".join(event.location or []))
    elif isinstance(event, ev.RegistrationUpdated):
        log.info("%s: registration updated with server %d", endpoint, event.ssid)
    elif isinstance(event, ev.RegistrationFailed):
        log.warning("%s: registration with server %d failed (last code %s)", endpoint,
                    event.ssid, "none" if event.code is None else code_str(event.code))
    elif isinstance(event, ev.Deregistered):
        log.info("%s: de-registered from server %d%s", endpoint, event.ssid,
                 " (disabled)" if event.disabled else "")
    elif isinstance(event, ev.VersionFallback):
        log.warning("%s: server %d refused LwM2M %s (%s); registering as LwM2M %s",
                    endpoint, event.ssid, event.refused, code_str(event.code), event.version)
    elif isinstance(event, ev.AddressNeeded):
        log.info("%s: resolving server %d at %s", endpoint, event.ssid, event.uri)
    else:
        log.info("%s: %r", endpoint, event)


def dispatch_events(core: Union[ClientCore, LwM2MClient], endpoint: str,
                    callback: Optional[EventCallback]) -> None:
    """Drain the core's events to the log and to ``callback``."""
    while True:
        event = core.next_event()
        if event is None:
            return
        log_event(endpoint, event)
        if callback is not None:
            callback(event)


def default_rng(seed: Optional[int] = None) -> random.Random:
    """The random source for message IDs, tokens and jitter: unpredictable by default
    (RFC 7252 section 5.3.1: a restarted client must not repeat its tokens and message
    IDs), seeded only when reproducible traffic is asked for."""
    return random.SystemRandom() if seed is None else random.Random(seed)


class AdapterBase:
    """What every asyncio adapter does around the core: one ``loop.call_at`` timer on
    ``core.get_timer()``, event dispatch, waiting for events, and de-registering on stop.

    ``core`` is a :class:`~lwm2m_client.core.client.engine.ClientCore` (datagram level)
    or a :class:`~lwm2m_client.core.client.client.LwM2MClient` (message level): both
    have the life-cycle, timer and event methods used here. Server accounts come from
    the core's tree; the adapter resolves their URIs (at start, and again when an
    :class:`~lwm2m_client.core.client.events.AddressNeeded` event asks).

    A subclass provides ``_running()`` (its socket or context is open), ``_flush()``
    (hand the core's outgoing traffic to the network), ``close()`` and optionally
    ``_closed()`` (await the end of an asynchronous shutdown).
    """

    def __init__(self, core: Union[ClientCore, LwM2MClient], local_addr: Tuple[str, int],
                 on_event: Optional[EventCallback]) -> None:
        self.core = core
        self.local_addr = local_addr
        self.on_event = on_event
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._timer: Optional[asyncio.TimerHandle] = None
        self._timer_at: Optional[int] = None
        self._changed = asyncio.Event()
        self._resolving: set[asyncio.Task[None]] = set()

    #: How many times faster than the event loop's clock the core's clock runs: every
    #: timer of the core (CoAP retransmission, lifetime, pmin/pmax, the queue-mode awake
    #: window) shrinks by it. 1 for real use; tests compress a day into seconds.
    clock_speed: float = 1.0

    def now_ms(self) -> int:
        assert self._loop is not None, "not started"
        return int(self._loop.time() * 1000 * self.clock_speed)

    def _running(self) -> bool:
        raise NotImplementedError

    def _flush(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    async def _closed(self) -> None:
        return None

    async def _resolve_accounts(self) -> None:
        """Resolve every account's server URI that has no address yet; an unusable or
        unresolvable URI raises ServerUriError naming it."""
        for ssid, uri, addr in self.core.accounts():
            if addr is None:
                self.core.set_address(ssid, await resolve_uri(uri))

    async def _start_core(self) -> None:
        await self._resolve_accounts()
        self.core.start(self.now_ms())
        self._pump()

    def _on_core_event(self, event: Any) -> None:
        if isinstance(event, ev.AddressNeeded):
            task = asyncio.ensure_future(self._resolve_later(event.ssid, event.uri))
            self._resolving.add(task)
            task.add_done_callback(self._resolving.discard)
        if self.on_event is not None:
            self.on_event(event)

    async def _resolve_later(self, ssid: int, uri: str) -> None:
        try:
            addr = await resolve_uri(uri)
        except ServerUriError as exc:
            log.error("%s: server %d: %s", self.core.config.endpoint, ssid, exc)
            return
        if self._running():
            self.core.set_address(ssid, addr, self.now_ms())
            self._pump()

    async def abort(self) -> None:
        """Close at once, without De-register (a power cut, a reboot), and wait until
        the socket is closed."""
        self.close()
        await self._closed()

    async def stop(self, timeout: float = 5.0) -> None:
        """De-register from every server (waiting up to ``timeout`` s), then close."""
        if not self._running():
            return
        self.core.stop(self.now_ms())
        self._pump()
        try:
            await asyncio.wait_for(self._all_settled(), timeout)
        except asyncio.TimeoutError:
            log.warning("%s: de-registration not confirmed within %.1f s",
                        self.core.config.endpoint, timeout)
        self.close()
        await self._closed()

    async def wait_for(self, kind: type[_E], timeout: float = 10.0) -> _E:
        """Wait for the next event of class ``kind`` (e.g. ``events.Registered``)."""
        found: list[_E] = []
        previous = self.on_event

        def watch(event: Any) -> None:
            if previous is not None:
                previous(event)
            if isinstance(event, kind) and not found:
                found.append(event)
                self._changed.set()

        self.on_event = watch
        try:
            while not found:
                self._changed.clear()
                await asyncio.wait_for(self._changed.wait(), timeout)
        finally:
            self.on_event = previous
        return found[0]

    def changed(self) -> None:
        """The application changed values (``tree.set``, ``resource_changed``, or a
        value its read hook computes): let the core look at its observations now, from
        the event loop's thread, rather than at its next timer or request."""
        self._pump()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timer_at = None

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = None
        self.core.handle_timer(self.now_ms())
        self._pump()

    def _pump(self) -> None:
        """Send what the core wants sent, hand out events, re-arm the one timer."""
        if not self._running():
            return
        self._flush()
        dispatch_events(self.core, self.core.config.endpoint, self._on_core_event)
        self._changed.set()
        deadline = self.core.get_timer()
        if deadline == self._timer_at:
            return
        self._cancel_timer()
        self._timer_at = deadline
        if deadline is not None:
            assert self._loop is not None
            self._timer = self._loop.call_at(deadline / (1000.0 * self.clock_speed),
                                             self._on_timer)

    async def _all_settled(self) -> None:
        while self.core.deregistering():
            self._changed.clear()
            await self._changed.wait()
