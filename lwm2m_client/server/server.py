"""The embedded LwM2M server: lifecycle, Registration interface, Send, events.

It runs on aiocoap, an independent CoAP stack, so the project's own CoAP layer is tested
against someone else's. One aiocoap context (one UDP socket) receives the Register and carries
every later request to that client (:mod:`lwm2m_client.server.operations`), which is what NATs
and a client with a single socket need (LwM2M Transport 1.1 §6.4.3).

Events are delivered two ways: listeners added with :meth:`LwM2MServer.add_listener` are called
with every :class:`ServerEvent`, and ``wait_*`` coroutines each take the oldest event of their
kind and endpoint that no earlier ``wait_*`` call has taken, so a test never misses an event that
happened before it started waiting.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Deque, Dict, List, Mapping, Optional, Sequence, Set, Tuple

import aiocoap
import aiocoap.resource

from lwm2m_client.core.content import CF_LINK, CF_LWM2M_CBOR, CF_SENML_CBOR, CF_SENML_JSON
from lwm2m_client.core.dm.model import ObjectDef
from lwm2m_client.server.base import ContextServer
from lwm2m_client.server.codec import Codec, CodecError
from lwm2m_client.server.observe import Observation
from lwm2m_client.server.operations import Operations
from lwm2m_client.server.queue import QueueModeHold
from lwm2m_client.server.registry import (
    Registration,
    RegistrationRejected,
    Registry,
    parse_object_links,
    parse_register_query,
    parse_update_query,
)

log = logging.getLogger(__name__)

REGISTERED = "registered"
UPDATED = "updated"
DEREGISTERED = "deregistered"
EXPIRED = "expired"
SENT = "send"

# Content formats a Send may use (Transport 1.1 §6.4.5; 1.2 adds LwM2M CBOR).
_SEND_FORMATS = (CF_SENML_JSON, CF_SENML_CBOR, CF_LWM2M_CBOR)
# Events kept per (kind, endpoint) until a wait_* call takes them.
_EVENT_BACKLOG = 256


@dataclass
class ServerEvent:
    kind: str
    registration: Registration
    #: for ``send`` events: (path, value, time) records of the Send payload.
    records: List[Tuple[Tuple[int, ...], Any, Optional[float]]] = field(default_factory=list)


def _coap_code(text: str) -> aiocoap.numbers.codes.Code:
    major, minor = text.split(".")
    return aiocoap.numbers.codes.Code(int(major) << 5 | int(minor))


def _answer(code: str, payload: str = "") -> aiocoap.Message:
    # A diagnostic payload on errors is allowed and helps debugging (RFC 7252 §5.5.2).
    return aiocoap.Message(code=_coap_code(code), payload=payload.encode())


class _Site(aiocoap.resource.Resource):  # type: ignore[misc]  # aiocoap has no type hints
    """Routes every incoming request to the server (aiocoap assembles Block1 for us)."""

    def __init__(self, server: LwM2MServer) -> None:
        super().__init__()
        self._server = server

    async def render(self, request: aiocoap.Message) -> aiocoap.Message:
        return await self._server._handle(request)


class LwM2MServer(ContextServer, Operations):
    """A small LwM2M server on the loopback interface for demos and client tests.

    ``objects`` maps oid -> ObjectDef for typing TLV and plain-text payloads (default: the
    project's shipped object models).

    Content format of a read, write, observe, create or composite operation called without
    ``format``: the server's ``default_format`` when set (even one the client did not
    advertise: the caller asked for it; composite operations use it only when it is SenML
    JSON, SenML CBOR or LwM2M CBOR). Otherwise it is chosen per registration from the ``ct``
    list of the client's Register root link (``</>;ct="11542 110"``), taken in the client's
    order, the first being its preference (Core 1.1 §6.2.1.1): the first advertised format
    that carries several values and that the server can encode (TLV, SenML JSON/CBOR, LwM2M
    JSON/CBOR); with none of those advertised, TLV for a 1.0 client and SenML CBOR for 1.1 and
    later. Read-, Write- and Observe-Composite take the first advertised of SenML JSON, SenML
    CBOR and LwM2M CBOR, else SenML CBOR; a Create without an instance id sends TLV (only TLV
    carries bare resources). See :func:`~lwm2m_client.server.operations.choose_format`.

    Options that make it behave like other servers:

    - ``default_format``: content format for reads and writes when none is given (None:
      chosen per client, as above);
    - ``reject_register_ct``: answer 4.00 to a Register whose root link has ``ct``;
    - ``register_response_code``: answer every Register with this code (e.g. "4.03");
    - ``lwm2m_versions``: the LwM2M versions it accepts (default: all); a Register of another
      version is answered 4.12 Precondition Failed (Core 1.2 section 6.2.1);
    - ``response_delay``: seconds to wait before answering Register/Update/De-register/Send,
      which makes aiocoap send an empty ACK first and a separate response later;
    - ``expiry_grace`` and ``time_scale``: a registration expires ``lifetime * time_scale +
      expiry_grace`` seconds after its last Register/Update (tests shrink ``time_scale``);
    - ``request_timeout``: seconds to wait for the client's answer to a DM/IR request;
    - ``queue_awake``: seconds a queue-mode client is taken to listen after its last
      Register, Update or Send; requests to it outside that window are held until its
      next Update (Transport 1.1 section 6.5; :meth:`held_requests` counts them).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        objects: Optional[Mapping[int, ObjectDef]] = None,
        *,
        default_format: Optional[int] = None,
        reject_register_ct: bool = False,
        register_response_code: Optional[str] = None,
        lwm2m_versions: Optional[Sequence[str]] = None,
        response_delay: float = 0.0,
        expiry_grace: float = 2.0,
        time_scale: float = 1.0,
        request_timeout: float = 30.0,
        queue_awake: float = 93.0,
    ) -> None:
        if objects is None:
            from lwm2m_client.models import shipped_objects

            objects = shipped_objects()
        self.host = host
        self.codec = Codec(objects)
        self.default_format = default_format
        self.reject_register_ct = reject_register_ct
        self.register_response_code = register_response_code
        self.lwm2m_versions = None if lwm2m_versions is None else tuple(lwm2m_versions)
        self.response_delay = response_delay
        self.expiry_grace = expiry_grace
        self.time_scale = time_scale
        self.request_timeout = request_timeout
        self.registry = Registry()
        self.queue_hold = QueueModeHold(self.registry, queue_awake)
        self._requested_port = port
        self._port: Optional[int] = None
        self._context: Optional[aiocoap.Context] = None
        self._timers: Dict[str, asyncio.TimerHandle] = {}
        self._observations: Dict[str, Set[Observation]] = {}
        self._listeners: List[Callable[[ServerEvent], None]] = []
        self._events: Dict[Tuple[str, str], Deque[ServerEvent]] = {}
        self._event_signal = asyncio.Event()

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        # udp6 alone: the default server transports would also open TCP/TLS listeners.
        self._context = await aiocoap.Context.create_server_context(
            _Site(self), bind=(self.host, self._requested_port), transports=["udp6"])
        self._port = self._bound_port(self._context)
        log.info("LwM2M server listening on %s", self.uri)

    @staticmethod
    def _bound_port(context: aiocoap.Context) -> int:
        # aiocoap has no public accessor for the port picked for port 0; its UDP transport
        # keeps the asyncio transport whose socket knows it.
        for interface in context.request_interfaces:
            message_interface = interface.token_interface.message_interface
            sock = message_interface.transport.get_extra_info("socket")
            return int(sock.getsockname()[1])
        raise RuntimeError("aiocoap context has no UDP transport")

    async def stop(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        for observations in list(self._observations.values()):
            for obs in list(observations):
                obs.cancel()
        self._observations.clear()
        if self._context is not None:
            await self._context.shutdown()
            self._context = None

    # -- registrations and events ------------------------------------------------------

    def registration(self, endpoint: str) -> Optional[Registration]:
        return self.registry.by_endpoint(endpoint)

    @property
    def registrations(self) -> List[Registration]:
        return self.registry.all()

    def held_requests(self, endpoint: str) -> int:
        """Requests to the queue-mode client ``endpoint`` waiting for it to wake up."""
        return self.queue_hold.held(endpoint)

    def add_listener(self, callback: Callable[[ServerEvent], None]) -> None:
        self._listeners.append(callback)

    def _publish(self, event: ServerEvent) -> None:
        log.info("%s %s", event.kind, event.registration.endpoint)
        key = (event.kind, event.registration.endpoint)
        self._events.setdefault(key, collections.deque(maxlen=_EVENT_BACKLOG)).append(event)
        self._event_signal.set()
        for callback in self._listeners:
            callback(event)

    async def wait_event(self, kind: str, endpoint: str, timeout: Optional[float] = 5.0
                         ) -> ServerEvent:
        """Take the oldest untaken ``kind`` event of ``endpoint``; TimeoutError if none comes."""
        key = (kind, endpoint)

        async def take() -> ServerEvent:
            while not self._events.get(key):
                self._event_signal.clear()
                await self._event_signal.wait()
            return self._events[key].popleft()

        try:
            return await asyncio.wait_for(take(), timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"no {kind} event for {endpoint!r} within {timeout}s"
                               ) from None

    async def wait_registered(self, endpoint: str, timeout: Optional[float] = 5.0
                              ) -> Registration:
        return (await self.wait_event(REGISTERED, endpoint, timeout)).registration

    async def wait_updated(self, endpoint: str, timeout: Optional[float] = 5.0) -> Registration:
        return (await self.wait_event(UPDATED, endpoint, timeout)).registration

    async def wait_deregistered(self, endpoint: str, timeout: Optional[float] = 5.0
                                ) -> Registration:
        return (await self.wait_event(DEREGISTERED, endpoint, timeout)).registration

    async def wait_expired(self, endpoint: str, timeout: Optional[float] = 5.0) -> Registration:
        return (await self.wait_event(EXPIRED, endpoint, timeout)).registration

    async def wait_send(self, endpoint: str, timeout: Optional[float] = 5.0
                        ) -> List[Tuple[Tuple[int, ...], Any, Optional[float]]]:
        """The (path, value, time) records of the endpoint's next untaken Send."""
        return (await self.wait_event(SENT, endpoint, timeout)).records

    def _end(self, reg: Registration, kind: Optional[str]) -> None:
        """Drop a registration: its timer and its observations (Core 1.1 §6.4.1)."""
        self.registry.remove(reg)
        self.queue_hold.ended(reg)
        timer = self._timers.pop(reg.location, None)
        if timer is not None:
            timer.cancel()
        for obs in self._observations.pop(reg.location, set()):
            obs.cancel()
        if kind is not None:
            self._publish(ServerEvent(kind, reg))

    def _arm_expiry(self, reg: Registration) -> None:
        old = self._timers.pop(reg.location, None)
        if old is not None:
            old.cancel()
        delay = reg.lifetime * self.time_scale + self.expiry_grace
        loop = asyncio.get_running_loop()
        self._timers[reg.location] = loop.call_later(delay, self._end, reg, EXPIRED)

    # -- incoming requests ---------------------------------------------------------------

    async def _handle(self, request: aiocoap.Message) -> aiocoap.Message:
        if self.response_delay:
            await asyncio.sleep(self.response_delay)
        path = tuple(request.opt.uri_path)
        code = request.code
        try:
            if path == ("rd",) and code == aiocoap.POST:
                return self._register(request)
            if len(path) == 2 and path[0] == "rd":
                reg = self.registry.by_location(path[1])
                if reg is None:
                    # 4.04 tells the client to Register again (Transport 1.1 §6.4.3).
                    return _answer("4.04", "unknown registration")
                if code == aiocoap.POST:
                    return self._update(reg, request)
                if code == aiocoap.DELETE:
                    self._end(reg, DEREGISTERED)
                    return _answer("2.02")
                return _answer("4.05")
            if path == ("dp",) and code == aiocoap.POST:
                return self._send(request)
        except RegistrationRejected as exc:
            log.info("rejected %s %s: %s", code, "/".join(path), exc)
            return _answer(exc.code, exc.reason)
        return _answer("4.04")

    def _register(self, request: aiocoap.Message) -> aiocoap.Message:
        if self.register_response_code is not None:
            return _answer(self.register_response_code)
        self._check_link_payload(request)
        fields = parse_register_query(request.opt.uri_query)
        version = fields["lwm2m_version"]
        if self.lwm2m_versions is not None and version not in self.lwm2m_versions:
            raise RegistrationRejected("4.12", f"LwM2M {version} is not supported")
        links = parse_object_links(request.payload)
        if self.reject_register_ct and links["content_formats"]:
            raise RegistrationRejected("4.00", "ct in the root link is not accepted")
        now = asyncio.get_running_loop().time()
        reg = Registration(location=self.registry.new_location(), remote=request.remote,
                           registered_at=now, updated_at=now, **fields, **links)
        replaced = self.registry.add(reg)
        if replaced is not None:
            # Observations do not survive a new Register (Core 1.1 §6.4.1).
            self._end(replaced, None)
        self._arm_expiry(reg)
        self.queue_hold.heard(reg)
        self._publish_after_answer(ServerEvent(REGISTERED, reg))
        return aiocoap.Message(code=aiocoap.CREATED, location_path=reg.location_path)

    def _update(self, reg: Registration, request: aiocoap.Message) -> aiocoap.Message:
        self._check_link_payload(request)
        changes = parse_update_query(request.opt.uri_query, reg.lwm2m_version)
        if request.payload:
            changes.update(parse_object_links(request.payload))
        for name, value in changes.items():
            setattr(reg, name, value)
        # The client's address may have changed behind a NAT (Transport 1.1 §6.4.3).
        reg.remote = request.remote
        reg.updated_at = asyncio.get_running_loop().time()
        self._arm_expiry(reg)
        self.queue_hold.heard(reg)
        self._publish_after_answer(ServerEvent(UPDATED, reg))
        return _answer("2.04")

    @staticmethod
    def _check_link_payload(request: aiocoap.Message) -> None:
        cf = request.opt.content_format
        if request.payload and cf is not None and int(cf) != CF_LINK:
            raise RegistrationRejected("4.00", "object list must be link format")

    def _publish_after_answer(self, event: ServerEvent) -> None:
        # A client ignores DM requests until it has its 2.01 (Core 1.1 §6.3), so a test
        # woken by this event must not overtake the answer: publish after it is sent.
        asyncio.get_running_loop().call_soon(self._publish, event)

    def _send(self, request: aiocoap.Message) -> aiocoap.Message:
        reg = self.registry.by_remote(request.remote)
        if reg is None:
            return _answer("4.00", "Send from an unregistered peer")
        cf = request.opt.content_format
        if cf is None or int(cf) not in _SEND_FORMATS:
            return _answer("4.15")
        try:
            records = self.codec.decode_timed(int(cf), request.payload)
        except CodecError as exc:
            return _answer("4.00", str(exc))
        self.queue_hold.heard(reg)
        self._publish(ServerEvent(SENT, reg, records))
        return _answer("2.04")
