"""A small sans-IO LwM2M Server node for the deterministic harness (tests only).

Built on the core's CoAP ``Endpoint`` so it plugs into ``harness.Simulation`` like any
node. It serves the Registration interface (Transport 1.1 section 6.4.3):

- ``POST /rd?ep=...`` -> 2.01 Created with Location-Path ``rd/<n>``; a Register from an
  endpoint name already registered replaces its registration, as a real server does;
- ``POST /rd/<n>`` (Update) -> 2.04, or 4.04 for an unknown location or when the test
  queued another code in ``update_replies``;
- ``DELETE /rd/<n>`` (De-register) -> 2.02, or 4.04 for an unknown location;

and sends Device Management requests to a registered client with :meth:`request`,
collecting the answers in ``responses`` (by token). Every Registration-interface request
it processed is logged in ``log``, so a test can count them after duplicates were
filtered by the CoAP layer.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from harness import Addr

from lwm2m_client.core.coap import blockwise
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.coap import options as o
from lwm2m_client.core.coap.events import (
    RequestReceived,
    RequestTimedOut,
    Reset,
    ResponseReceived,
)
from lwm2m_client.core.coap.message import Message
from lwm2m_client.core.coap.messaging import Endpoint, Tuning
from lwm2m_client.core.errors import DecodeError


class ClientRecord:
    """One registration the server holds."""

    def __init__(self, ep: str, location: list[str], addr: Addr, query: dict[str, str],
                 objects: bytes, now_ms: int):
        self.ep = ep
        self.location = location
        self.addr = addr
        self.query = query
        self.objects = objects
        self.registered_ms = now_ms
        self.updated_ms = now_ms
        self.updates = 0

    def __repr__(self) -> str:
        return f"<ClientRecord {self.ep} /{'/'.join(self.location)} at {self.addr}>"


class Logged:
    """One Registration-interface request the server processed, with its answer."""

    def __init__(self, time_ms: int, kind: str, ep: str | None, location: str,
                 code: int, addr: Addr, mid: int):
        self.time_ms = time_ms
        self.kind = kind  # "register", "update", "deregister" or "unknown"
        self.ep = ep
        self.location = location
        self.code = code
        self.addr = addr
        self.mid = mid

    def __repr__(self) -> str:
        return f"<{self.kind} t={self.time_ms} {self.ep} {self.location} {m.code_name(self.code)}>"


def _field(event: object, name: str) -> Any:
    # The core's event classes set their FIELDS at run time, out of mypy's sight.
    return getattr(event, name)


def _query_dict(query: Iterable[str]) -> dict[str, str]:
    out = {}
    for item in query:
        name, _, value = item.partition("=")
        out[name] = value
    return out


class SimServer:
    """The server node. ``seed`` drives its message IDs and tokens."""

    def __init__(self, seed: int = 0, tuning: Tuning | None = None):
        self.endpoint = Endpoint(random.Random(seed), tuning, max_exchanges=64,
                                 dedup_capacity=256)
        self.clients: dict[str, ClientRecord] = {}  # by endpoint name
        self.log: list[Logged] = []
        self.responses: dict[bytes, Message] = {}
        self.failed: set[bytes] = set()
        self.update_replies: list[int] = []  # codes for the next Updates, in order
        self._next_location = 0
        self._block1 = blockwise.Block1Receiver(65536)
        self._body = bytearray()

    def __repr__(self) -> str:
        return f"<SimServer clients={len(self.clients)} log={len(self.log)}>"

    # -- node shape (see harness.Node) --------------------------------------------

    def receive(self, data: bytes, src: Addr, now_ms: int) -> None:
        for event in self.endpoint.receive(data, src, now_ms):
            if isinstance(event, RequestReceived):
                self._on_request(_field(event, "msg"), _field(event, "addr"), now_ms)
            elif isinstance(event, ResponseReceived):
                self.responses[_field(event, "token")] = _field(event, "msg")
            elif isinstance(event, Reset):
                self.failed.add(_field(event, "token"))

    def outgoing(self, now_ms: int) -> list[tuple[bytes, Addr]]:
        return self.endpoint.datagrams_to_send()

    def timer(self) -> int | None:
        return self.endpoint.get_timer()

    def on_timer(self, now_ms: int) -> None:
        for event in self.endpoint.handle_timer(now_ms):
            if isinstance(event, RequestTimedOut):
                self.failed.add(_field(event, "token"))

    # -- queries for tests ------------------------------------------------------------

    def record(self, ep: str) -> ClientRecord | None:
        return self.clients.get(ep)

    def logged(self, kind: str, ep: str | None = None) -> list[Logged]:
        return [e for e in self.log if e.kind == kind and (ep is None or e.ep == ep)]

    # -- Device Management requests (Transport 1.1 section 6.4.4) -----------------

    def request(self, now_ms: int, ep: str, method: int, path: str, payload: bytes = b"",
                cf: int | None = None, accept: int | None = None,
                query: Iterable[str] = (), mtype: int = m.CON,
                options: Iterable[tuple[int, bytes]] = (), addr: Addr | None = None) -> bytes:
        """Send a request to the registered client ``ep`` (or to ``addr``, registered
        or not); returns its token. The answer appears in ``responses[token]``, or the
        token in ``failed`` after a timeout or an RST."""
        if addr is None:
            addr = self.clients[ep].addr
        msg = Message(mtype, method, payload=payload)
        msg.uri_path = path
        for q in query:
            msg.add_option(o.URI_QUERY, q)
        if cf is not None:
            msg.content_format = cf
        if accept is not None:
            msg.accept = accept
        for number, value in options:
            msg.add_option(number, value)
        return self.endpoint.request(msg, addr, now_ms)

    # -- Registration interface (Transport 1.1 section 6.4.3) --------------------

    def _on_request(self, msg: Message, addr: Addr, now_ms: int) -> None:
        response = Message(code=m.CHANGED)
        try:
            segments = msg.strings(o.URI_PATH)
            query = msg.uri_query
            payload = bytes(msg.payload)
            if msg.block1 is not None:
                step = self._block1.receive(msg, addr, now_ms, response, self._sink)
                if step != 0:
                    self.endpoint.respond(msg, addr, response, now_ms)
                    return
                payload = bytes(self._body)
        except DecodeError:
            response.code = m.BAD_REQUEST
            self.endpoint.respond(msg, addr, response, now_ms)
            return
        location = "/".join(segments)
        if msg.code == m.POST and segments == ["rd"]:
            kind, ep = "register", self._register(msg, addr, query, payload, now_ms, response)
        elif msg.code == m.POST and len(segments) == 2 and segments[0] == "rd":
            kind, ep = "update", self._update(location, query, now_ms, response)
        elif msg.code == m.DELETE and len(segments) == 2 and segments[0] == "rd":
            kind, ep = "deregister", self._deregister(location, response)
        else:
            kind, ep = "unknown", None
            response.code = m.NOT_FOUND
        self.log.append(Logged(now_ms, kind, ep, location, response.code, addr, msg.mid))
        self.endpoint.respond(msg, addr, response, now_ms)

    def _sink(self, offset: int, chunk: bytes) -> None:
        del self._body[offset:]
        self._body += bytes(chunk)

    def _register(self, msg: Message, addr: Addr, query: list[str], payload: bytes,
                  now_ms: int, response: Message) -> str | None:
        params = _query_dict(query)
        ep = params.get("ep")
        if not ep:
            response.code = m.BAD_REQUEST
            return None
        self._next_location += 1
        location = ["rd", str(self._next_location)]
        self.clients[ep] = ClientRecord(ep, location, addr, params, payload, now_ms)
        response.code = m.CREATED
        response.location_path = location
        return ep

    def _by_location(self, location: str) -> ClientRecord | None:
        for client in self.clients.values():
            if "/".join(client.location) == location:
                return client
        return None

    def _update(self, location: str, query: list[str], now_ms: int,
                response: Message) -> str | None:
        client = self._by_location(location)
        if client is None:
            response.code = m.NOT_FOUND
            return None
        if self.update_replies:
            response.code = self.update_replies.pop(0)
            if response.code == m.NOT_FOUND:
                del self.clients[client.ep]  # the server lost this registration
            return client.ep
        client.query.update(_query_dict(query))
        client.updated_ms = now_ms
        client.updates += 1
        response.code = m.CHANGED
        return client.ep

    def _deregister(self, location: str, response: Message) -> str | None:
        client = self._by_location(location)
        if client is None:
            response.code = m.NOT_FOUND
            return None
        del self.clients[client.ep]
        response.code = m.DELETED
        return client.ep
