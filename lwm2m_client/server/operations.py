"""Device Management and Information Reporting requests to a registered client.

Mapping per LwM2M Transport 1.1 §6.4.4-6.4.5. Every request goes to the
address the client registered from, through the server's one aiocoap context, under the
client's alternate path when it announced one (Core 1.1 §6.2.1.1). aiocoap does the block-wise
transfers (RFC 7959) both ways.

Results: see :mod:`lwm2m_client.server.response` -- error codes are returned in the Response,
``discover`` and ``create`` raise :class:`LwM2MServerError` for them.
"""

from __future__ import annotations

import asyncio
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

import aiocoap

from lwm2m_client.core.content import (
    CF_LINK,
    CF_LWM2M_CBOR,
    CF_SENML_CBOR,
    CF_SENML_ETCH_JSON,
    CF_SENML_JSON,
    CF_TEXT,
    CF_TLV,
    formats,
)
from lwm2m_client.server.codec import Codec, CodecError, Path, PathLike, as_path, decode_links
from lwm2m_client.server.observe import Observation
from lwm2m_client.server.queue import QueueModeHold
from lwm2m_client.server.registry import Registration, Registry
from lwm2m_client.server.response import LwM2MServerError, Response

Link = Tuple[str, Dict[str, Any]]

# Write-Attributes parameters in the order they are sent (Core 1.1 §5.1.1, 1.2 adds
# edge, con and hqmax).
_ATTRIBUTES = ("pmin", "pmax", "gt", "lt", "st", "epmin", "epmax", "edge", "con", "hqmax")

# Formats that carry several values under absolute paths: what Read-/Write-/Observe-Composite
# can use (Transport 1.1 §6.4.4, 1.2 adds LwM2M CBOR).
COMPOSITE_FORMATS = (CF_SENML_JSON, CF_SENML_CBOR, CF_LWM2M_CBOR)
# SenML formats whose path lists are JSON (the rest are CBOR).
_JSON_PATH_LISTS = (CF_SENML_JSON, CF_SENML_ETCH_JSON)


def choose_format(version: str, advertised: Sequence[int], composite: bool = False) -> int:
    """The content format to ask of a client when neither caller nor server names one.

    ``advertised`` is the client's ``ct`` list from its Register root link, in the client's
    order, the first being its preference (Core 1.1 §6.2.1.1). The first one that can carry
    several values (an instance or an object) and that the server can encode wins; without
    one, TLV for LwM2M 1.0 and SenML CBOR for 1.1 and later. ``composite`` operations only
    take SenML JSON, SenML CBOR or LwM2M CBOR: the first of those advertised, else SenML CBOR.
    """
    for cf in advertised:
        if composite:
            if cf in COMPOSITE_FORMATS:
                return cf
        elif cf in formats.HIERARCHICAL and cf in formats.MODULES:
            return cf
    if composite:
        return CF_SENML_CBOR
    return CF_TLV if version == "1.0" else CF_SENML_CBOR


def path_list_format(content_format: int, advertised: Sequence[int]) -> int:
    """The SenML format of a Read-/Observe-Composite path list answered in ``content_format``:
    JSON for a JSON answer, CBOR for a CBOR one; for another answer format (LwM2M CBOR) the
    first SenML format the client advertised, else SenML CBOR (Core 1.1 §6.3.8)."""
    if content_format in _JSON_PATH_LISTS:
        return CF_SENML_JSON
    if content_format in formats.PATH_LIST:
        return CF_SENML_CBOR
    for cf in advertised:
        if cf in (CF_SENML_JSON, CF_SENML_CBOR):
            return cf
    return CF_SENML_CBOR


def attribute_value(value: Any) -> str:
    """Render an attribute value without exponent: ``gt=45``, ``st=0.5`` (Core 1.1 §5.1.2)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return str(int(value))
    text = repr(float(value))
    if "e" in text or "E" in text:
        text = (f"{value:.20f}").rstrip("0")
    return text


class Operations:
    """The DM/IR operations of :class:`~lwm2m_client.server.server.LwM2MServer`."""

    codec: Codec
    default_format: Optional[int]
    request_timeout: float
    registry: Registry
    _context: Optional[aiocoap.Context]
    _observations: Dict[str, Set[Observation]]
    queue_hold: QueueModeHold

    # -- plumbing ----------------------------------------------------------------------

    def _registration_of(self, endpoint: str) -> Registration:
        reg = self.registry.by_endpoint(endpoint)
        if reg is None:
            raise LwM2MServerError(f"{endpoint!r} is not registered")
        return reg

    def format_for(self, reg: Registration, content_format: Optional[int],
                   composite: bool = False) -> int:
        """The format of a request: the caller's, else the server's ``default_format`` (for a
        composite operation only when it is one of :data:`COMPOSITE_FORMATS`), else the one
        :func:`choose_format` picks from what the client advertised and its version."""
        if content_format is not None:
            return content_format
        default = self.default_format
        if default is not None and (not composite or default in COMPOSITE_FORMATS):
            return default
        return choose_format(reg.lwm2m_version, reg.content_formats, composite)

    def _message(self, reg: Registration, code: aiocoap.numbers.codes.Code, path: Path, *,
                 payload: bytes = b"", content_format: Optional[int] = None,
                 accept: Optional[int] = None, query: Sequence[str] = (),
                 observe: Optional[int] = None) -> aiocoap.Message:
        msg = aiocoap.Message(code=code, payload=payload,
                              uri_path=reg.root_segments + tuple(str(i) for i in path),
                              uri_query=tuple(query))
        if content_format is not None:
            msg.opt.content_format = content_format
        if accept is not None:
            msg.opt.accept = accept
        if observe is not None:
            msg.opt.observe = observe
        # Same context, same socket, the address the client registered from.
        msg.remote = reg.remote
        return msg

    async def _exchange(self, reg: Registration, msg: aiocoap.Message) -> Tuple[Any, Any]:
        if self._context is None:
            raise LwM2MServerError("server not started")
        if not reg.queue_mode:
            return await self._transmit(reg, msg)
        # Queue mode (Transport 1.1 section 6.5): held until the client is awake, then
        # sent one at a time to the address it last talked from.
        try:
            async with self.queue_hold.turn(reg) as current:
                msg.remote = current.remote
                return await self._transmit(current, msg)
        except LookupError as exc:
            raise LwM2MServerError(str(exc)) from None

    async def _transmit(self, reg: Registration, msg: aiocoap.Message) -> Tuple[Any, Any]:
        assert self._context is not None
        request = self._context.request(msg)
        try:
            answer = await asyncio.wait_for(request.response, self.request_timeout)
        except asyncio.TimeoutError:
            raise LwM2MServerError(f"{msg.code}: no answer from {reg.endpoint!r} "
                                   f"within {self.request_timeout}s") from None
        except aiocoap.error.Error as exc:
            raise LwM2MServerError(f"{msg.code} to {reg.endpoint!r} failed: {exc}"
                                   ) from exc
        return request, answer

    async def _call(self, endpoint: str, code: aiocoap.numbers.codes.Code, path: Path,
                    **options: Any) -> Response:
        reg = self._registration_of(endpoint)
        _, answer = await self._exchange(reg, self._message(reg, code, path, **options))
        return Response.from_message(answer, path, self.codec)

    def _encode(self, content_format: int, base: Path, records: List[Any]) -> bytes:
        try:
            return self.codec.encode(content_format, base, records)
        except CodecError as exc:
            raise LwM2MServerError(str(exc)) from exc

    def _records(self, base: Path, values: Any) -> List[Any]:
        try:
            return self.codec.records(base, values)
        except CodecError as exc:
            raise LwM2MServerError(str(exc)) from exc

    # -- Device Management (Transport 1.1 §6.4.4) --------------------------------------

    async def read(self, endpoint: str, path: PathLike, format: Optional[int] = None
                   ) -> Response:
        """Read: GET with Accept. ``Response.values`` holds the decoded payload."""
        reg = self._registration_of(endpoint)
        return await self._call(endpoint, aiocoap.GET, as_path(path),
                                accept=self.format_for(reg, format))

    async def discover(self, endpoint: str, path: PathLike, depth: Optional[int] = None
                       ) -> List[Link]:
        """Discover: GET with Accept 40 (``?depth`` is LwM2M 1.2); returns the links."""
        query = () if depth is None else (f"depth={depth}",)
        response = await self._call(endpoint, aiocoap.GET, as_path(path), accept=CF_LINK,
                                    query=query)
        response.raise_for_status()
        try:
            return decode_links(response.payload)
        except CodecError as exc:
            raise LwM2MServerError(str(exc), response) from exc

    async def write(self, endpoint: str, path: PathLike, values: Any,
                    format: Optional[int] = None, replace: bool = True) -> Response:
        """Write: PUT (replace) or POST (partial update) with values typed by the object
        definitions; see :meth:`Codec.records` for the shapes ``values`` may take."""
        reg = self._registration_of(endpoint)
        base = as_path(path)
        cf = self.format_for(reg, format)
        payload = self._encode(cf, base, self._records(base, values))
        return await self._call(endpoint, aiocoap.PUT if replace else aiocoap.POST, base,
                                payload=payload, content_format=cf)

    async def write_attributes(self, endpoint: str, path: PathLike,
                               unset: Iterable[str] = (), **attributes: Any) -> Response:
        """Write-Attributes: PUT with the attributes as query and no payload.

        Keyword arguments are pmin, pmax, gt, lt, st, epmin, epmax, edge, con, hqmax; a name
        in ``unset`` is sent without a value, which removes it (Core 1.1 §6.3.4).
        """
        unknown = (set(attributes) | set(unset)) - set(_ATTRIBUTES)
        if unknown:
            raise ValueError(f"unknown attributes {sorted(unknown)}")
        query = []
        for name in _ATTRIBUTES:
            if attributes.get(name) is not None:
                query.append(f"{name}={attribute_value(attributes[name])}")
            elif name in unset:
                query.append(name)
        return await self._call(endpoint, aiocoap.PUT, as_path(path), query=query)

    async def execute(self, endpoint: str, path: PathLike,
                      args: Optional[str | bytes] = None) -> Response:
        """Execute: POST, arguments as text (``"0,1='x'"``, Core 1.1 §6.3.5)."""
        if args is None:
            return await self._call(endpoint, aiocoap.POST, as_path(path))
        payload = args.encode() if isinstance(args, str) else bytes(args)
        return await self._call(endpoint, aiocoap.POST, as_path(path), payload=payload,
                                content_format=CF_TEXT)

    async def create(self, endpoint: str, oid: int, values: Mapping[Any, Any],
                     iid: Optional[int] = None, format: Optional[int] = None) -> int:
        """Create: POST /oid; returns the new instance id (from Location-Path when the client
        picked it). Without ``iid`` the payload is bare resources, which only TLV can express,
        so TLV is used unless a format is given (Transport 1.1 §6.4.4)."""
        reg = self._registration_of(endpoint)
        if iid is None and format is None:
            format = CF_TLV
        cf = self.format_for(reg, format)
        inst = (oid, 0 if iid is None else iid)
        # With an iid the body is a whole instance (an Object Instance TLV for TLV); without
        # one it is the resources alone, encoded as if for an instance path.
        base = (oid,) if iid is not None else inst
        payload = self._encode(cf, base, self._records(inst, values))
        response = await self._call(endpoint, aiocoap.POST, (oid,), payload=payload,
                                    content_format=cf)
        response.raise_for_status()
        if response.location:
            try:
                return int(response.location[-1])
            except ValueError:
                raise LwM2MServerError(f"bad Location-Path {response.location!r}",
                                       response) from None
        if iid is None:
            raise LwM2MServerError("2.01 without Location-Path", response)
        return iid

    async def delete(self, endpoint: str, path: PathLike) -> Response:
        return await self._call(endpoint, aiocoap.DELETE, as_path(path))

    async def read_composite(self, endpoint: str, paths: Iterable[PathLike],
                             format: Optional[int] = None) -> Response:
        """Read-Composite: FETCH / with a SenML path list (Core 1.1 §6.3.8)."""
        reg = self._registration_of(endpoint)
        accept = self.format_for(reg, format, composite=True)
        request_cf = path_list_format(accept, reg.content_formats)
        payload = self.codec.encode_paths(request_cf, [as_path(p) for p in paths])
        _, answer = await self._exchange(reg, self._message(
            reg, aiocoap.FETCH, (), payload=payload, content_format=request_cf, accept=accept))
        return Response.from_message(answer, (), self.codec)

    async def write_composite(self, endpoint: str, values: Mapping[PathLike, Any],
                              format: Optional[int] = None) -> Response:
        """Write-Composite: iPATCH / with absolute paths (Core 1.1 §6.3.7)."""
        reg = self._registration_of(endpoint)
        cf = self.format_for(reg, format, composite=True)
        payload = self._encode(cf, (), self._records((), values))
        return await self._call(endpoint, aiocoap.iPATCH, (), payload=payload,
                                content_format=cf)

    # -- Information Reporting (Transport 1.1 §6.4.5) ----------------------------------

    async def observe(self, endpoint: str, path: PathLike, format: Optional[int] = None,
                      attributes: Optional[Mapping[str, Any]] = None) -> Observation:
        """Observe: GET with Observe=0. ``attributes`` go in the query (LwM2M 1.2 §6.4.1).
        The returned Observation's ``response`` is the first notification."""
        reg = self._registration_of(endpoint)
        base = as_path(path)
        query = [f"{k}={attribute_value(v)}" for k, v in (attributes or {}).items()]
        msg = self._message(reg, aiocoap.GET, base, accept=self.format_for(reg, format),
                            query=query, observe=0)
        return await self._observe(reg, msg, base, composite=False)

    async def observe_composite(self, endpoint: str, paths: Iterable[PathLike],
                                format: Optional[int] = None) -> Observation:
        """Observe-Composite: FETCH / with Observe=0 and a SenML path list (Core 1.1 §6.4.3)."""
        reg = self._registration_of(endpoint)
        accept = self.format_for(reg, format, composite=True)
        request_cf = path_list_format(accept, reg.content_formats)
        payload = self.codec.encode_paths(request_cf, [as_path(p) for p in paths])
        msg = self._message(reg, aiocoap.FETCH, (), payload=payload, content_format=request_cf,
                            accept=accept, observe=0)
        return await self._observe(reg, msg, (), composite=True)

    async def _observe(self, reg: Registration, msg: aiocoap.Message, base: Path,
                       composite: bool) -> Observation:
        request, answer = await self._exchange(reg, msg)
        first = Response.from_message(answer, base, self.codec)
        obs = Observation(reg.endpoint, base, request, first, self.codec, composite)
        self._track(obs, reg)
        return obs

    def _track(self, obs: Observation, reg: Registration) -> None:
        # Kept per registration so a new Register or a De-register can end them.
        if obs.active:
            self._observations.setdefault(reg.location, set()).add(obs)

    def cancel_observe(self, obs: Observation) -> None:
        """Cancel an observation locally (the client gets an RST, see Observation.cancel)."""
        obs.cancel()
        for observations in self._observations.values():
            observations.discard(obs)
