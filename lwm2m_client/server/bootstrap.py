"""An embedded LwM2M Bootstrap-Server on aiocoap (LwM2M Core 1.1/1.2 §6.1, Transport §6.4.2).

It answers a client's Bootstrap-Request ``POST /bs?ep=NAME[&pct=CF]`` with 2.04 and then,
as a CoAP client towards the address the request came from and from the same socket, runs
the sequence of its :class:`~lwm2m_client.server.bootstrap_config.BootstrapConfig`:

1. Bootstrap-Discover ``GET /`` with Accept 40 (when ``discover``);
2. Bootstrap-Read ``GET /1`` (or ``/2``) with Accept = the write format (when ``read``);
3. Bootstrap-Delete ``DELETE /`` (or ``/0``, ``/1``; none when ``delete`` is None);
4. Bootstrap-Write ``PUT /0/i`` for each Security instance, ``PUT /1/i`` for each Server
   instance, ``PUT /2/i`` for each ACL instance (``write="object"``: one ``PUT /0``,
   ``PUT /1``, ``PUT /2`` holding every instance), Content-Format = ``pct`` when the
   request named one, else the config's ``content_format``, else TLV for a 1.0 client and
   SenML CBOR for 1.1 and 1.2;
5. Bootstrap-Finish ``POST /bs`` with no payload.

A 2.04 to the Finish is a success; 4.06 means the client found the configuration
inconsistent (Core 1.1 §6.1.6). An error answer to the Delete or a Write ends the sequence
without Finish; an error to Discover or Read is only logged. Every step waits at most
``request_timeout`` seconds, so a client that stops answering ends in a recorded failure,
never a hang. :meth:`BootstrapServer.bootstrap` runs the same sequence without a
Bootstrap-Request, towards a known address (server-initiated bootstrap). ``GET
/bspack?ep=NAME`` (Core 1.2 §6.1.7.7) answers the whole configuration as one SenML CBOR,
SenML JSON or LwM2M CBOR pack (Accept 112, 110, 11544) with absolute paths.

How the tests and the demo use it::

    config = BootstrapConfig(servers=[ServerAccount("coaps://127.0.0.1:5684", ssid=1)])
    async with BootstrapServer(configs={"meter-1": config}) as bs:
        ...  # point the client's Bootstrap-Server account at bs.uri and start it
        outcome = await bs.wait_finished("meter-1", timeout=10)
        assert outcome.ok
        key = bs.credentials("meter-1")[1].key  # the PSK key drawn for this meter
        bs.requests("meter-1")                  # every request received and sent

``BootstrapServer.from_yaml("examples/bootstrap.yaml")`` loads ``endpoints:`` and
``default:`` from a file. Share ``credential_store`` with the LwM2M Server side to check
the keys a meter presents after bootstrap.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import Any, Callable, Deque, Dict, List, Mapping, Optional, Tuple, Union

import aiocoap
import aiocoap.resource

from lwm2m_client.core.content import CF_LINK, CF_LWM2M_CBOR, CF_SENML_CBOR, CF_SENML_JSON
from lwm2m_client.core.dm.model import ObjectDef
from lwm2m_client.core.dm.path import path_str
from lwm2m_client.server.base import ContextServer
from lwm2m_client.server.bootstrap_config import (
    WRITE_FORMATS,
    BootstrapConfig,
    ConfigError,
    CredentialStore,
    PskCredentials,
    load_configs,
)
from lwm2m_client.server.codec import Codec, CodecError, Path, Record, decode_links
from lwm2m_client.server.operations import choose_format
from lwm2m_client.server.registry import RegistrationRejected, _split_query
from lwm2m_client.server.response import Response, code_string
from lwm2m_client.server.server import LwM2MServer, _answer

log = logging.getLogger(__name__)

# Who started a bootstrap: the client (Bootstrap-Request), the server (bootstrap()), or a
# Bootstrap-Pack-Request.
CLIENT = "client"
SERVER = "server"
PACK = "pack"
# Operation names in the request log and in outcomes.
BOOTSTRAP_REQUEST, DISCOVER, READ, DELETE, WRITE, FINISH = (
    "bootstrap-request", "discover", "read", "delete", "write", "finish")
PACK_REQUEST = "pack-request"
# What a Bootstrap-Pack may be asked in (Core 1.2 §6.1.7.7).
PACK_FORMATS = (CF_SENML_CBOR, CF_SENML_JSON, CF_LWM2M_CBOR)
# Log entries and outcomes kept per endpoint.
_BACKLOG = 512
_METHODS = {aiocoap.GET: "GET", aiocoap.POST: "POST", aiocoap.PUT: "PUT",
            aiocoap.DELETE: "DELETE"}


@dataclass
class Exchange:
    """One request the Bootstrap-Server received (``direction`` "in") or sent ("out")."""

    direction: str
    operation: str
    method: str
    path: str
    query: Tuple[str, ...] = ()
    content_format: Optional[int] = None
    accept: Optional[int] = None
    payload: bytes = b""
    #: the answer's code ("2.04"); None while waiting or when no answer came.
    code: Optional[str] = None
    response_payload: bytes = b""


@dataclass
class BootstrapOutcome:
    """How one bootstrap ended. ``operation`` is the last one tried (FINISH once it got that
    far) and ``code`` the client's answer to it, None when none came."""

    endpoint: str
    initiator: str
    ok: bool
    operation: str
    code: Optional[str]
    reason: str = ""
    content_format: Optional[int] = None
    #: Bootstrap-Discover links and Bootstrap-Read values, when those steps ran and succeeded.
    discovered: List[Tuple[str, Dict[str, Any]]] = field(default_factory=list)
    read: Dict[Path, Any] = field(default_factory=dict)

    @property
    def inconsistent(self) -> bool:
        """The client answered 4.06 to Bootstrap-Finish (Core 1.1 §6.1.6)."""
        return self.operation == FINISH and self.code == "4.06"


class _Abort(Exception):
    def __init__(self, operation: str, code: Optional[str], reason: str) -> None:
        super().__init__(reason)
        self.operation, self.code, self.reason = operation, code, reason


class _Session:
    """One run of the sequence towards one client."""

    def __init__(self, endpoint: str, config: BootstrapConfig, remote: Any,
                 content_format: int, initiator: str) -> None:
        self.endpoint = endpoint
        self.config = config
        self.remote = remote  # an aiocoap remote, or "host:port" to resolve
        self.content_format = content_format
        self.initiator = initiator
        self.outcome = BootstrapOutcome(endpoint, initiator, False, BOOTSTRAP_REQUEST, None,
                                        content_format=content_format)
        #: why the server ended it early ("" while it runs)
        self.stopped = ""

    def stop(self, reason: str) -> None:
        self.stopped = reason


class _Site(aiocoap.resource.Resource):  # type: ignore[misc]  # aiocoap has no type hints
    def __init__(self, server: BootstrapServer) -> None:
        super().__init__()
        self._server = server

    async def render(self, request: aiocoap.Message) -> aiocoap.Message:
        return self._server._handle(request)


class BootstrapServer(ContextServer):
    """A Bootstrap-Server on the loopback interface for demos and client tests.

    ``configs`` maps endpoint names to configurations; ``default`` serves any other
    endpoint (None: such a Bootstrap-Request is answered 4.00). ``objects`` types TLV
    payloads (default: the shipped object models). ``request_timeout`` bounds the wait for
    each answer of the sequence. ``credential_store`` keeps the PSK keys handed out.
    """

    _name = "bootstrap server"

    def __init__(self, host: str = "127.0.0.1", port: int = 0,
                 configs: Optional[Mapping[str, BootstrapConfig]] = None,
                 default: Optional[BootstrapConfig] = None,
                 objects: Optional[Mapping[int, ObjectDef]] = None, *,
                 request_timeout: float = 30.0,
                 credential_store: Optional[CredentialStore] = None) -> None:
        if objects is None:
            from lwm2m_client.models import shipped_objects

            objects = shipped_objects()
        self.host = host
        self.codec = Codec(objects)
        self.request_timeout = request_timeout
        self.credential_store = credential_store if credential_store is not None \
            else CredentialStore()
        self.configs: Dict[str, BootstrapConfig] = {}
        self.default: Optional[BootstrapConfig] = None
        for name, config in (configs or {}).items():
            self.set_config(name, config)
        if default is not None:
            self.set_default(default)
        self._requested_port = port
        self._port: Optional[int] = None
        self._context: Optional[aiocoap.Context] = None
        self._sessions: Dict[str, Tuple[_Session, asyncio.Task[BootstrapOutcome]]] = {}
        self._log: Dict[str, Deque[Exchange]] = {}
        self._outcomes: Dict[str, Deque[BootstrapOutcome]] = {}
        self._last: Dict[str, BootstrapOutcome] = {}
        self._signal = asyncio.Event()
        self._listeners: List[Callable[[BootstrapOutcome], None]] = []

    @classmethod
    def from_yaml(cls, path: Union[str, FilePath], **kwargs: Any) -> BootstrapServer:
        """A server with the ``endpoints:`` and ``default:`` of a YAML file."""
        loaded = load_configs(path)
        try:
            return cls(configs=loaded.configs, default=loaded.default, **kwargs)
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from None

    # -- configurations ----------------------------------------------------------------

    def set_config(self, endpoint: str, config: BootstrapConfig) -> None:
        self._check(f"endpoints.{endpoint}", config)
        self.configs[endpoint] = config

    def set_default(self, config: Optional[BootstrapConfig]) -> None:
        if config is not None:
            # A key in the default would be the same for every meter it serves.
            for n, account in enumerate(config.servers):
                if account.psk_key is not None:
                    raise ConfigError(f"default: servers[{n}].psk_key: a fixed key would be "
                                      "shared by every endpoint; leave it out to draw one "
                                      "per endpoint")
            self._check("default", config)
        self.default = config

    def _check(self, name: str, config: BootstrapConfig) -> None:
        # Type every value once with throwaway keys, so a bad extra resource fails here
        # rather than in the middle of a bootstrap.
        try:
            self.codec.records((), config.values("check", CredentialStore()))
        except (CodecError, ConfigError) as exc:
            raise ConfigError(f"{name}: {exc}") from None

    def config_for(self, endpoint: str) -> Optional[BootstrapConfig]:
        return self.configs.get(endpoint, self.default)

    def credentials(self, endpoint: str) -> Dict[int, PskCredentials]:
        """SSID -> PSK identity and key handed to ``endpoint`` so far."""
        return self.credential_store.of_endpoint(endpoint)

    def values(self, endpoint: str) -> Dict[Path, Any]:
        """Everything the configuration of ``endpoint`` writes, path -> value (the ACL
        resource /2/x/2 as riid -> bits); draws the endpoint's keys if not drawn yet."""
        config = self.config_for(endpoint)
        if config is None:
            raise KeyError(f"no bootstrap configuration for {endpoint!r}")
        return config.values(endpoint, self.credential_store)

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        self._context = await aiocoap.Context.create_server_context(
            _Site(self), bind=(self.host, self._requested_port), transports=["udp6"])
        self._port = LwM2MServer._bound_port(self._context)
        log.info("Bootstrap-Server listening on %s", self.uri)

    async def stop(self) -> None:
        running = list(self._sessions.values())
        for session, task in running:
            session.stop("the Bootstrap-Server stopped")
            task.cancel()
        await asyncio.gather(*(task for _, task in running), return_exceptions=True)
        if self._context is not None:
            await self._context.shutdown()
            self._context = None

    # -- log, outcomes, waiting --------------------------------------------------------

    def requests(self, endpoint: str) -> List[Exchange]:
        """Every request received from and sent to ``endpoint``, oldest first."""
        return list(self._log.get(endpoint, ()))

    def outcome(self, endpoint: str) -> Optional[BootstrapOutcome]:
        """The latest outcome of ``endpoint`` (taken by wait_finished or not)."""
        return self._last.get(endpoint)

    def add_listener(self, callback: Callable[[BootstrapOutcome], None]) -> None:
        self._listeners.append(callback)

    def _record(self, endpoint: str, exchange: Exchange) -> Exchange:
        self._log.setdefault(endpoint, collections.deque(maxlen=_BACKLOG)).append(exchange)
        return exchange

    def _publish(self, outcome: BootstrapOutcome) -> None:
        log.info("bootstrap of %s (%s): %s", outcome.endpoint, outcome.initiator,
                 "ok" if outcome.ok else f"failed: {outcome.reason}")
        self._last[outcome.endpoint] = outcome
        self._outcomes.setdefault(outcome.endpoint, collections.deque(maxlen=_BACKLOG)
                                  ).append(outcome)
        self._signal.set()
        for callback in self._listeners:
            callback(outcome)

    async def wait_finished(self, endpoint: str, timeout: Optional[float] = 10.0
                            ) -> BootstrapOutcome:
        """Take the oldest outcome of ``endpoint`` no earlier call took; TimeoutError if
        none comes within ``timeout`` seconds."""
        async def take() -> BootstrapOutcome:
            while not self._outcomes.get(endpoint):
                self._signal.clear()
                await self._signal.wait()
            return self._outcomes[endpoint].popleft()

        try:
            return await asyncio.wait_for(take(), timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"no bootstrap outcome for {endpoint!r} within {timeout}s"
                               ) from None

    # -- incoming requests -------------------------------------------------------------

    def _handle(self, request: aiocoap.Message) -> aiocoap.Message:
        path = tuple(request.opt.uri_path)
        if path == ("bs",) and request.code == aiocoap.POST:
            return self._bootstrap_request(request)
        if path == ("bspack",) and request.code == aiocoap.GET:
            return self._pack_request(request)
        if path in (("bs",), ("bspack",)):
            return _answer("4.05")
        return _answer("4.04")

    def _incoming(self, request: aiocoap.Message, operation: str, allowed: Tuple[str, ...]
                  ) -> Tuple[Optional[str], Dict[str, Optional[str]], Optional[aiocoap.Message]]:
        """Parse the query; returns (endpoint, params, error answer or None) and logs it."""
        try:
            params = _split_query(request.opt.uri_query, allowed)
        except RegistrationRejected as exc:
            return None, {}, _answer(exc.code, exc.reason)
        endpoint = params.get("ep")
        if not endpoint:
            # Without DTLS there is no certificate to take the name from (Core 1.1 §6.1.7.1).
            return None, params, _answer("4.00", "missing endpoint name")
        cf, accept = request.opt.content_format, request.opt.accept
        self._record(endpoint, Exchange(
            "in", operation, _METHODS.get(request.code, str(request.code)),
            "/" + "/".join(request.opt.uri_path), tuple(request.opt.uri_query),
            None if cf is None else int(cf), None if accept is None else int(accept),
            bytes(request.payload)))
        return endpoint, params, None

    def _answered(self, endpoint: Optional[str], answer: aiocoap.Message) -> aiocoap.Message:
        if endpoint is not None:
            entry = self._log[endpoint][-1]
            entry.code = code_string(int(answer.code))
            entry.response_payload = bytes(answer.payload)
        return answer

    def _bootstrap_request(self, request: aiocoap.Message) -> aiocoap.Message:
        endpoint, params, error = self._incoming(request, BOOTSTRAP_REQUEST, ("ep", "pct"))
        if error is not None or endpoint is None:
            return self._answered(endpoint, error or _answer("4.00"))
        config = self.config_for(endpoint)
        if config is None:
            return self._answered(endpoint, _answer("4.00", "unknown endpoint"))
        pct = params.get("pct")
        if pct is not None:
            if not pct.isdigit():
                return self._answered(endpoint, _answer("4.00", f"bad pct {pct!r}"))
            if int(pct) not in WRITE_FORMATS:
                return self._answered(endpoint, _answer("4.15", f"pct {pct} not supported"))
        cf = self._format(config, None if pct is None else int(pct))
        session = _Session(endpoint, config, request.remote, cf, CLIENT)
        # The 2.04 goes out when this returns; the sequence starts after it.
        asyncio.get_running_loop().call_soon(self._launch, session)
        return self._answered(endpoint, _answer("2.04"))

    @staticmethod
    def _format(config: BootstrapConfig, wanted: Optional[int]) -> int:
        if wanted is not None:
            return wanted
        if config.content_format is not None:
            return config.content_format
        return choose_format(config.lwm2m_version, ())

    def _pack_request(self, request: aiocoap.Message) -> aiocoap.Message:
        endpoint, _, error = self._incoming(request, PACK_REQUEST, ("ep",))
        if error is not None or endpoint is None:
            return self._answered(endpoint, error or _answer("4.00"))
        config = self.config_for(endpoint)
        if config is None:
            return self._answered(endpoint, _answer("4.04", "unknown endpoint"))
        accept = request.opt.accept
        cf = CF_SENML_CBOR if accept is None else int(accept)
        if cf not in PACK_FORMATS:
            return self._answered(endpoint, _answer("4.06", f"no pack as {cf}"))
        try:
            values = config.values(endpoint, self.credential_store)
            payload = self.codec.encode(cf, (), self.codec.records((), values))
        except (CodecError, ConfigError) as exc:
            return self._answered(endpoint, _answer("5.00", str(exc)))
        answer = aiocoap.Message(code=aiocoap.CONTENT, payload=payload)
        answer.opt.content_format = cf
        self._publish(BootstrapOutcome(endpoint, PACK, True, PACK_REQUEST, "2.05",
                                       content_format=cf))
        return self._answered(endpoint, answer)

    # -- the sequence ------------------------------------------------------------------

    async def bootstrap(self, endpoint: str, address: Union[str, Tuple[str, int]],
                        content_format: Optional[int] = None) -> BootstrapOutcome:
        """Server-initiated bootstrap: run the sequence towards ``address`` ("host:port" or
        (host, port)) with no Bootstrap-Request; returns the outcome (also published)."""
        config = self.config_for(endpoint)
        if config is None:
            raise KeyError(f"no bootstrap configuration for {endpoint!r}")
        if content_format is not None and content_format not in WRITE_FORMATS:
            raise ValueError(f"content format {content_format} cannot carry a bootstrap")
        if not isinstance(address, str):
            host, port = address
            address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        self.context  # noqa: B018  (raises when not started)
        session = _Session(endpoint, config, address, self._format(config, content_format),
                           SERVER)
        return await self._launch(session)

    def _launch(self, session: _Session) -> asyncio.Task[BootstrapOutcome]:
        # A new bootstrap of the same endpoint replaces one still running.
        old = self._sessions.get(session.endpoint)
        if old is not None and not old[1].done():
            old[0].stop("superseded by a new bootstrap of the same endpoint")
            old[1].cancel()
        task = asyncio.get_running_loop().create_task(
            self._run(session), name=f"bootstrap {session.endpoint}")
        self._sessions[session.endpoint] = (session, task)
        task.add_done_callback(lambda t: self._forget(session.endpoint, t))
        return task

    def _forget(self, endpoint: str, task: asyncio.Task[BootstrapOutcome]) -> None:
        if endpoint in self._sessions and self._sessions[endpoint][1] is task:
            del self._sessions[endpoint]

    async def _run(self, session: _Session) -> BootstrapOutcome:
        outcome = session.outcome
        try:
            code = await self._sequence(session)
            outcome.operation, outcome.code = FINISH, code
            outcome.ok = code == "2.04"
            if code == "4.06":
                outcome.reason = "the client found the configuration inconsistent"
            elif not outcome.ok:
                outcome.reason = f"Bootstrap-Finish answered {code}"
        except _Abort as exc:
            outcome.operation, outcome.code, outcome.reason = exc.operation, exc.code, exc.reason
        except Exception as exc:  # a bug here must still end in an outcome, not a hang
            log.exception("bootstrap of %s", session.endpoint)
            outcome.reason = f"internal error: {exc!r}"
        except asyncio.CancelledError:
            outcome.reason = session.stopped or "cancelled"
            if not session.stopped:
                self._publish(outcome)
                raise  # someone else's cancellation (a bootstrap() caller): pass it on
        self._publish(outcome)
        return outcome

    async def _sequence(self, s: _Session) -> Optional[str]:
        config, cf = s.config, s.content_format
        if config.discover:
            answer = await self._send(s, DISCOVER, aiocoap.GET, (), accept=CF_LINK)
            if answer.ok:
                try:
                    s.outcome.discovered = decode_links(answer.payload)
                except CodecError as exc:
                    log.info("%s: bad Bootstrap-Discover answer: %s", s.endpoint, exc)
        if config.read is not None:
            answer = await self._send(s, READ, aiocoap.GET, (int(config.read.strip("/")),),
                                      accept=cf)
            if answer.ok:
                try:
                    s.outcome.read = dict(answer.values)
                except Exception as exc:  # a bad payload is the client's problem: log it
                    log.info("%s: bad Bootstrap-Read answer: %s", s.endpoint, exc)
        if config.delete is not None:
            target = tuple(int(p) for p in config.delete.strip("/").split("/") if p)
            self._check_answer(DELETE, await self._send(s, DELETE, aiocoap.DELETE, target))
        for path, payload in self._writes(s):
            answer = await self._send(s, WRITE, aiocoap.PUT, path, payload=payload,
                                      content_format=cf)
            self._check_answer(WRITE, answer)
        answer = await self._send(s, FINISH, aiocoap.POST, ("bs",))
        return answer.code

    @staticmethod
    def _check_answer(operation: str, answer: Response) -> None:
        if not answer.ok:
            raise _Abort(operation, answer.code,
                         f"{operation} {path_str(answer.path)} answered {answer.code}")

    def _writes(self, s: _Session) -> List[Tuple[Path, bytes]]:
        """(path, payload) of each Bootstrap-Write: Security, then Server, then ACL."""
        try:
            records = self.codec.records((), s.config.values(s.endpoint,
                                                             self.credential_store))
        except (CodecError, ConfigError) as exc:
            raise _Abort(WRITE, None, str(exc)) from None
        targets: List[Path] = []
        for oid, instances in ((0, s.config.security_instances()),
                               (1, s.config.server_instances()),
                               (2, s.config.acl_instances())):
            if not instances:
                continue
            if s.config.write == "object":
                targets.append((oid,))
            else:
                targets.extend((oid, iid) for iid, _ in instances)
        writes = []
        for base in targets:
            part: List[Record] = [r for r in records if r[0][:len(base)] == base]
            try:
                writes.append((base, self.codec.encode(s.content_format, base, part)))
            except CodecError as exc:
                raise _Abort(WRITE, None, f"{path_str(base)}: {exc}") from None
        return writes

    async def _send(self, s: _Session, operation: str, code: aiocoap.numbers.codes.Code,
                    path: Tuple[Union[int, str], ...], *, payload: bytes = b"",
                    content_format: Optional[int] = None, accept: Optional[int] = None
                    ) -> Response:
        msg = aiocoap.Message(code=code, payload=payload, uri_path=tuple(str(p) for p in path))
        if content_format is not None:
            msg.opt.content_format = content_format
        if accept is not None:
            msg.opt.accept = accept
        if isinstance(s.remote, str):
            msg.unresolved_remote = s.remote
        else:
            msg.remote = s.remote
        entry = self._record(s.endpoint, Exchange(
            "out", operation, _METHODS[code], "/" + "/".join(str(p) for p in path),
            content_format=content_format, accept=accept, payload=payload))
        s.outcome.operation, s.outcome.code = operation, None
        request = self.context.request(msg)
        try:
            answer = await asyncio.wait_for(request.response, self.request_timeout)
        except asyncio.TimeoutError:
            raise _Abort(operation, None, f"{operation} {entry.path}: no answer within "
                                          f"{self.request_timeout}s") from None
        except aiocoap.error.Error as exc:
            raise _Abort(operation, None, f"{operation} {entry.path} failed: {exc}"
                         ) from None
        response = Response.from_message(answer, tuple(p for p in path if isinstance(p, int)),
                                         self.codec)
        entry.code, entry.response_payload = response.code, response.payload
        return response
