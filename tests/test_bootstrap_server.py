"""The embedded Bootstrap-Server (:mod:`lwm2m_client.server.bootstrap`) over real loopback UDP.

The project's own client-side bootstrap is being written separately, so these tests drive
the server with a small fake client built on aiocoap here: one UDP socket that sends the
Bootstrap-Request (or Pack-Request) and serves the server's Discover/Read/Delete/Write/Finish
requests, recording each one, applying the writes to a dict, and answering 2.05/2.02/2.04 --
or 4.06 to the Finish to play a client that finds the configuration inconsistent, or
nothing at all to play one that stopped answering. Payloads are decoded with the server's
codec (the core's content formats) and with cbor2/json for the Pack.
"""

from __future__ import annotations

import asyncio
import json
import pathlib
import re
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

import aiocoap
import aiocoap.resource
import cbor2
import pytest

from lwm2m_client.core.content import (
    CF_LINK,
    CF_LWM2M_CBOR,
    CF_SENML_CBOR,
    CF_SENML_JSON,
    CF_TLV,
)
from lwm2m_client.models import shipped_objects
from lwm2m_client.server import (
    AclInstance,
    BootstrapConfig,
    BootstrapConfigError,
    BootstrapServer,
    CredentialStore,
    ServerAccount,
    load_configs,
)
from lwm2m_client.server.codec import Codec

OBJECTS = shipped_objects()
CODEC = Codec(OBJECTS)
WAIT = 20.0  # generous: the machines are shared
Path = Tuple[int, ...]
EXAMPLE = pathlib.Path(__file__).resolve().parents[1] / "examples" / "bootstrap.yaml"


class Received(NamedTuple):
    method: str
    path: str
    content_format: Optional[int]
    accept: Optional[int]
    payload: bytes
    #: whether the client had its answer to the Bootstrap-Request when this arrived
    after_answer: bool


class FakeClient:
    """A bootstrap client stand-in on one aiocoap UDP socket (see the module docstring)."""

    def __init__(self, endpoint: str, finish_code: str = "2.04",
                 hang_on: Optional[Tuple[str, str]] = None,
                 write_code: Optional[str] = None) -> None:
        self.endpoint = endpoint
        self.finish_code = finish_code
        self.hang_on = hang_on
        self.write_code = write_code
        self.received: List[Received] = []
        self.finished = asyncio.Event()
        self.hung = asyncio.Event()
        self._release = asyncio.Event()
        self._answered = False
        # The factory state: the Bootstrap-Server account /0/0, an old server /0/1 + /1/5.
        self.store: Dict[Path, Any] = {
            (0, 0, 0): "coap://127.0.0.1:5783", (0, 0, 1): True, (0, 0, 2): 3,
            (0, 1, 0): "coap://old.example:5683", (0, 1, 10): 7,
            (1, 5, 0): 7, (1, 5, 1): 60, (1, 5, 7): "U",
            (3, 0, 0): "maker",
        }
        self.ctx: Optional[aiocoap.Context] = None

    async def start(self) -> FakeClient:
        site = _FakeSite(self)
        self.ctx = await aiocoap.Context.create_server_context(
            site, bind=("127.0.0.1", 0), transports=["udp6"])
        return self

    async def stop(self) -> None:
        self._release.set()
        if self.ctx is not None:
            await self.ctx.shutdown()
            self.ctx = None

    @property
    def port(self) -> int:
        assert self.ctx is not None
        return _port(self.ctx)

    async def request(self, bs: BootstrapServer, query: Optional[str] = None,
                      pct: Optional[int] = None) -> str:
        """Send the Bootstrap-Request; returns the answer code."""
        assert self.ctx is not None
        if query is None:
            query = f"ep={self.endpoint}" + ("" if pct is None else f"&pct={pct}")
        msg = aiocoap.Message(code=aiocoap.POST, uri=f"{bs.uri}/bs?{query}")
        answer = await asyncio.wait_for(self.ctx.request(msg).response, WAIT)
        self._answered = True
        return str(answer.code.dotted)

    async def pack(self, bs: BootstrapServer, accept: Optional[int] = CF_SENML_CBOR,
                   query: Optional[str] = None) -> aiocoap.Message:
        assert self.ctx is not None
        msg = aiocoap.Message(code=aiocoap.GET,
                              uri=f"{bs.uri}/bspack?{query or 'ep=' + self.endpoint}")
        if accept is not None:
            msg.opt.accept = accept
        return await asyncio.wait_for(self.ctx.request(msg).response, WAIT)

    def operations(self) -> List[Tuple[str, str]]:
        return [(r.method, r.path) for r in self.received]

    def objects(self, oid: int) -> Dict[Path, Any]:
        return {p: v for p, v in self.store.items() if p[0] == oid}

    # -- the server side of the fake client -----------------------------------------------

    async def handle(self, request: aiocoap.Message) -> aiocoap.Message:
        method = {aiocoap.GET: "GET", aiocoap.PUT: "PUT", aiocoap.POST: "POST",
                  aiocoap.DELETE: "DELETE"}[request.code]
        segments = tuple(request.opt.uri_path)
        path = "/" + "/".join(segments)
        cf = request.opt.content_format
        accept = request.opt.accept
        self.received.append(Received(method, path, None if cf is None else int(cf),
                                      None if accept is None else int(accept),
                                      bytes(request.payload), self._answered))
        if self.hang_on == (method, path):
            self.hang_on = None  # once: a later bootstrap gets its answers
            self.hung.set()
            await self._release.wait()  # never answers while the test runs
        if method == "POST" and segments == ("bs",):
            self.finished.set()
            return _message(self.finish_code)
        ids = tuple(int(s) for s in segments)
        if method == "GET" and accept == CF_LINK:
            links = ",".join(f"</{o}/{i}>" for o, i in sorted({p[:2] for p in self.store}))
            return _message("2.05", f"</>;lwm2m=1.1,{links}".encode(), CF_LINK)
        if method == "GET":
            chosen = int(accept) if accept is not None else CF_SENML_CBOR
            records = CODEC.records((), {p: v for p, v in self.store.items()
                                         if p[:len(ids)] == ids})
            return _message("2.05", CODEC.encode(chosen, ids, records), chosen)
        if method == "DELETE":
            # Everything under the path except the Bootstrap-Server account and /3/0.
            for p in [p for p in self.store if p[:len(ids)] == ids]:
                if p[:2] not in ((0, 0), (3, 0)):
                    del self.store[p]
            return _message("2.02")
        if method == "PUT":
            if self.write_code is not None:
                return _message(self.write_code)
            values = CODEC.decode(int(cf), request.payload, ids)
            # Replace every instance the payload names (Core 1.1 §6.1.7.5).
            for inst in {p[:2] for p in values}:
                for p in [p for p in self.store if p[:2] == inst]:
                    del self.store[p]
            self.store.update(values)
            return _message("2.04")
        return _message("4.05")


class _FakeSite(aiocoap.resource.Resource):  # type: ignore[misc]
    def __init__(self, client: FakeClient) -> None:
        super().__init__()
        self.client = client

    async def render(self, request: aiocoap.Message) -> aiocoap.Message:
        return await self.client.handle(request)


def _port(ctx: aiocoap.Context) -> int:
    from lwm2m_client.server.server import LwM2MServer

    return LwM2MServer._bound_port(ctx)


def _message(code: str, payload: bytes = b"", cf: Optional[int] = None) -> aiocoap.Message:
    major, minor = code.split(".")
    msg = aiocoap.Message(code=aiocoap.numbers.codes.Code(int(major) << 5 | int(minor)),
                          payload=payload)
    if cf is not None:
        msg.opt.content_format = cf
    return msg


def flat(values: Dict[Path, Any]) -> Dict[Path, Any]:
    """Configuration values with the multiple ACL resource spread into resource instances."""
    out: Dict[Path, Any] = {}
    for path, value in values.items():
        if isinstance(value, dict):
            out.update({path + (riid,): v for riid, v in value.items()})
        else:
            out[path] = value
    return out


def account(uri: str = "coaps://127.0.0.1:5684", ssid: int = 101, **kw: Any) -> ServerAccount:
    return ServerAccount(uri, ssid, **kw)


def config(**kw: Any) -> BootstrapConfig:
    kw.setdefault("servers", [account(lifetime=300)])
    return BootstrapConfig(**kw)


@pytest.fixture
async def clients():
    made: List[FakeClient] = []

    async def make(endpoint: str, **kw: Any) -> FakeClient:
        client = await FakeClient(endpoint, **kw).start()
        made.append(client)
        return client

    yield make
    for client in made:
        await client.stop()


# -- client-initiated bootstrap ----------------------------------------------------------

async def test_sequence_order_payloads_and_log(clients):
    async with BootstrapServer(configs={"meter-1": config()}, objects=OBJECTS) as bs:
        client = await clients("meter-1")
        assert await client.request(bs) == "2.04"
        outcome = await bs.wait_finished("meter-1", WAIT)

    assert outcome.ok and outcome.code == "2.04" and outcome.operation == "finish"
    assert outcome.initiator == "client" and not outcome.inconsistent
    assert client.operations() == [("DELETE", "/"), ("PUT", "/0/1"), ("PUT", "/1/0"),
                                   ("POST", "/bs")]
    # The sequence begins only after the client has its 2.04 to the Bootstrap-Request.
    assert all(r.after_answer for r in client.received)
    # No pct and a 1.1 configuration: SenML CBOR; Finish has no payload.
    assert [r.content_format for r in client.received] == [None, CF_SENML_CBOR,
                                                           CF_SENML_CBOR, None]
    assert client.received[-1].payload == b""
    expected = flat(bs.values("meter-1"))
    assert client.objects(0) == {**expected_of(expected, 0), **bs_account()}
    assert client.objects(1) == expected_of(expected, 1)
    assert client.store[(3, 0, 0)] == "maker"
    assert client.store[(1, 0, 1)] == 300 and client.store[(0, 1, 2)] == 0  # PSK mode
    assert client.store[(0, 1, 3)] == b"meter-1"  # identity: the endpoint name

    log = [(e.direction, e.operation, e.method, e.path, e.code) for e in bs.requests("meter-1")]
    assert log == [("in", "bootstrap-request", "POST", "/bs", "2.04"),
                   ("out", "delete", "DELETE", "/", "2.02"),
                   ("out", "write", "PUT", "/0/1", "2.04"),
                   ("out", "write", "PUT", "/1/0", "2.04"),
                   ("out", "finish", "POST", "/bs", "2.04")]
    assert bs.requests("meter-1")[0].query == ("ep=meter-1",)


def expected_of(values: Dict[Path, Any], oid: int) -> Dict[Path, Any]:
    return {p: v for p, v in values.items() if p[0] == oid}


def bs_account() -> Dict[Path, Any]:
    return {(0, 0, 0): "coap://127.0.0.1:5783", (0, 0, 1): True, (0, 0, 2): 3}


async def test_discover_read_delete_0_and_object_writes_with_acl(clients):
    cfg = config(servers=[account(ssid=101), account("coap://127.0.0.1:5683", 102,
                                                     security="nosec", binding="UQ")],
                 acls=[AclInstance(3, 0, {101: 1, 102: 3}, owner=101),
                       AclInstance(19, 65535, {101: 16})],
                 discover=True, read="/1", delete="/0", write="object")
    async with BootstrapServer(configs={"meter-2": cfg}, objects=OBJECTS) as bs:
        client = await clients("meter-2")
        assert await client.request(bs) == "2.04"
        outcome = await bs.wait_finished("meter-2", WAIT)
        expected = flat(bs.values("meter-2"))

    assert outcome.ok
    assert client.operations() == [("GET", "/"), ("GET", "/1"), ("DELETE", "/0"),
                                   ("PUT", "/0"), ("PUT", "/1"), ("PUT", "/2"),
                                   ("POST", "/bs")]
    assert client.received[0].accept == CF_LINK
    assert client.received[1].accept == CF_SENML_CBOR
    # What Discover and Read found before anything was deleted.
    assert ("/1/5", {}) in outcome.discovered and ("/0/0", {}) in outcome.discovered
    assert outcome.read == {(1, 5, 0): 7, (1, 5, 1): 60, (1, 5, 7): "U"}
    # One PUT /0 carries both Security instances.
    written = CODEC.decode(CF_SENML_CBOR, client.received[3].payload, (0,))
    assert {p[:2] for p in written} == {(0, 1), (0, 2)}
    assert written == expected_of(expected, 0)
    assert client.objects(0) == {**expected_of(expected, 0), **bs_account()}
    # (The fake client does not cascade DELETE /0 to /1/5, a real one would.)
    assert {p: v for p, v in client.objects(1).items() if p[1] != 5} == expected_of(expected, 1)
    assert client.objects(2) == expected_of(expected, 2)
    assert client.store[(2, 0, 2, 102)] == 3 and client.store[(2, 1, 1)] == 65535
    assert client.store[(0, 2, 2)] == 3 and client.store[(0, 2, 5)] == b""  # NoSec


@pytest.mark.parametrize("pct", [CF_TLV, CF_SENML_JSON, CF_SENML_CBOR, CF_LWM2M_CBOR])
async def test_pct_chooses_the_write_format(clients, pct):
    cfg = config(acls=[AclInstance(3, 0, {101: 1})])
    async with BootstrapServer(configs={"m": cfg}, objects=OBJECTS) as bs:
        client = await clients("m")
        assert await client.request(bs, pct=pct) == "2.04"
        outcome = await bs.wait_finished("m", WAIT)
        expected = flat(bs.values("m"))
    assert outcome.ok and outcome.content_format == pct
    writes = [r for r in client.received if r.method == "PUT"]
    assert [r.path for r in writes] == ["/0/1", "/1/0", "/2/0"]
    assert {r.content_format for r in writes} == {pct}
    for oid in (0, 1, 2):
        got = client.objects(oid)
        if oid == 0:
            got = {p: v for p, v in got.items() if p[:2] != (0, 0)}
        assert got == expected_of(expected, oid)


@pytest.mark.parametrize("version, content_format, expected", [
    ("1.0", None, CF_TLV), ("1.2", None, CF_SENML_CBOR), ("1.1", CF_SENML_JSON, CF_SENML_JSON),
])
async def test_format_without_pct(clients, version, content_format, expected):
    cfg = config(lwm2m_version=version, content_format=content_format)
    async with BootstrapServer(configs={"m": cfg}, objects=OBJECTS) as bs:
        client = await clients("m")
        assert await client.request(bs) == "2.04"
        assert (await bs.wait_finished("m", WAIT)).ok
    assert {r.content_format for r in client.received if r.method == "PUT"} == {expected}
    assert client.store[(1, 0, 1)] == 300


@pytest.mark.parametrize("query, code", [
    ("ep=m&pct=50", "4.15"),      # a format that cannot carry a bootstrap
    ("ep=m&pct=tlv", "4.00"),
    ("ep=nobody", "4.00"),        # unknown endpoint, no default
    ("pct=112", "4.00"),          # no endpoint name
    ("ep=m&lt=60", "4.00"),       # not a Bootstrap-Request parameter
])
async def test_refused_bootstrap_requests(clients, query, code):
    async with BootstrapServer(configs={"m": config()}, objects=OBJECTS) as bs:
        client = await clients("m")
        assert await client.request(bs, query=query) == code
        # A valid request afterwards: the client sees exactly one sequence, so the refused
        # one started nothing.
        assert await client.request(bs) == "2.04"
        assert (await bs.wait_finished("m", WAIT)).ok
    assert client.operations() == [("DELETE", "/"), ("PUT", "/0/1"), ("PUT", "/1/0"),
                                   ("POST", "/bs")]
    if query.startswith("ep=m&pct"):  # refused after the endpoint was read: logged
        assert [(e.operation, e.code) for e in bs.requests("m")][0] == ("bootstrap-request",
                                                                       code)


async def test_default_config_serves_unknown_endpoints(clients):
    async with BootstrapServer(default=config(), objects=OBJECTS) as bs:
        client = await clients("anyone")
        assert await client.request(bs) == "2.04"
        assert (await bs.wait_finished("anyone", WAIT)).ok
    assert client.store[(0, 1, 3)] == b"anyone"


async def test_other_paths_and_methods():
    async with BootstrapServer(configs={"m": config()}, objects=OBJECTS) as bs:
        ctx = await aiocoap.Context.create_client_context()
        try:
            for code, path, expected in [(aiocoap.GET, "bs?ep=m", "4.05"),
                                         (aiocoap.POST, "rd?ep=m", "4.04")]:
                msg = aiocoap.Message(code=code, uri=f"{bs.uri}/{path}")
                answer = await asyncio.wait_for(ctx.request(msg).response, WAIT)
                assert answer.code.dotted == expected
        finally:
            await ctx.shutdown()


# -- per-meter credentials ---------------------------------------------------------------

async def test_each_endpoint_gets_its_own_stable_key(clients):
    async with BootstrapServer(default=config(), objects=OBJECTS) as bs:
        one, two = await clients("meter-a"), await clients("meter-b")
        for client in (one, two):
            assert await client.request(bs) == "2.04"
            assert (await bs.wait_finished(client.endpoint, WAIT)).ok
        key_a = bs.credentials("meter-a")[101].key
        key_b = bs.credentials("meter-b")[101].key
        assert len(key_a) == len(key_b) == 16 and key_a != key_b
        assert one.store[(0, 1, 5)] == key_a and two.store[(0, 1, 5)] == key_b
        assert bs.credentials("meter-a")[101].identity == "meter-a"
        assert bs.credential_store.by_identity("meter-b") == [("meter-b", 101, key_b)]
        # Bootstrapped again: the same key.
        assert await one.request(bs) == "2.04"
        assert (await bs.wait_finished("meter-a", WAIT)).ok
        assert one.store[(0, 1, 5)] == key_a == bs.credentials("meter-a")[101].key
        assert "key=<16 bytes>" in repr(bs.credentials("meter-a")[101])


async def test_fixed_keys_identity_template_and_shared_store(clients):
    store = CredentialStore()
    cfg = config(servers=[account(psk_key=bytes(range(8)), psk_identity="util/{ep}"),
                          account("coaps://127.0.0.1:5685", 102, key_length=32)])
    async with BootstrapServer(configs={"m": cfg}, objects=OBJECTS,
                               credential_store=store) as bs:
        client = await clients("m")
        assert await client.request(bs) == "2.04"
        assert (await bs.wait_finished("m", WAIT)).ok
    assert client.store[(0, 1, 3)] == b"util/m" and client.store[(0, 1, 5)] == bytes(range(8))
    assert len(client.store[(0, 2, 5)]) == 32 and store.get("m", 102) is not None
    assert store.get("m", 102).key == client.store[(0, 2, 5)]  # type: ignore[union-attr]


def test_a_default_with_a_fixed_key_is_refused():
    with pytest.raises(BootstrapConfigError, match="default: servers.0..psk_key"):
        BootstrapServer(default=config(servers=[account(psk_key=b"secret")]), objects=OBJECTS)


# -- Bootstrap-Pack ----------------------------------------------------------------------

async def test_pack_holds_the_whole_configuration(clients):
    cfg = config(servers=[account(), account("coap://127.0.0.1:5683", 102)],
                 acls=[AclInstance(3, 0, {101: 1})])
    async with BootstrapServer(configs={"m": cfg}, objects=OBJECTS) as bs:
        client = await clients("m")
        answer = await client.pack(bs)
        assert answer.code.dotted == "2.05"
        assert answer.opt.content_format == CF_SENML_CBOR
        records = cbor2.loads(answer.payload)
        names = [r[0] for r in records if 0 in r]
        assert "/0/1/0" in names and "/0/2/0" in names and "/1/0/1" in names
        assert "/1/1/0" in names and "/2/0/2/101" in names
        assert CODEC.decode(CF_SENML_CBOR, answer.payload, ()) == flat(bs.values("m"))
        # The key in the pack is the endpoint's own, the same a bootstrap writes.
        key = bs.credentials("m")[101].key
        assert {0: "/0/1/5", 8: key} in records
        outcome = await bs.wait_finished("m", WAIT)
        assert outcome.ok and outcome.initiator == "pack" and outcome.code == "2.05"

        as_json = await client.pack(bs, CF_SENML_JSON)
        assert as_json.opt.content_format == CF_SENML_JSON
        assert {r.get("n") for r in json.loads(as_json.payload)} >= {"/0/1/0", "/1/0/0"}
        as_cbor = await client.pack(bs, CF_LWM2M_CBOR)
        assert CODEC.decode(CF_LWM2M_CBOR, as_cbor.payload, ()) == flat(bs.values("m"))
        default = await client.pack(bs, None)
        assert default.opt.content_format == CF_SENML_CBOR
    assert client.received == []  # a pack needs no requests to the client


@pytest.mark.parametrize("accept, query, code", [
    (CF_TLV, None, "4.06"), (CF_LINK, None, "4.06"),
    (CF_SENML_CBOR, "ep=nobody", "4.04"), (CF_SENML_CBOR, "x=1", "4.00"),
    (CF_SENML_CBOR, "pct=112", "4.00"),
])
async def test_pack_errors(clients, accept, query, code):
    async with BootstrapServer(configs={"m": config()}, objects=OBJECTS) as bs:
        client = await clients("m")
        assert (await client.pack(bs, accept, query)).code.dotted == code


# -- failures ----------------------------------------------------------------------------

async def test_a_client_that_stops_answering_ends_in_failure(clients):
    async with BootstrapServer(configs={"m": config()}, objects=OBJECTS,
                               request_timeout=1.0) as bs:
        client = await clients("m", hang_on=("PUT", "/1/0"))
        assert await client.request(bs) == "2.04"
        outcome = await bs.wait_finished("m", WAIT)
    assert not outcome.ok and outcome.operation == "write" and outcome.code is None
    assert "no answer" in outcome.reason and "/1/0" in outcome.reason
    assert client.operations() == [("DELETE", "/"), ("PUT", "/0/1"), ("PUT", "/1/0")]
    assert bs.requests("m")[-1].code is None


async def test_a_new_request_supersedes_a_running_bootstrap(clients):
    async with BootstrapServer(configs={"m": config()}, objects=OBJECTS,
                               request_timeout=WAIT * 10) as bs:
        client = await clients("m", hang_on=("PUT", "/1/0"))
        assert await client.request(bs) == "2.04"
        await asyncio.wait_for(client.hung.wait(), WAIT)
        assert await client.request(bs) == "2.04"
        first = await bs.wait_finished("m", WAIT)
        second = await bs.wait_finished("m", WAIT)
    assert not first.ok and "superseded" in first.reason and first.operation == "write"
    assert second.ok
    assert client.operations() == [("DELETE", "/"), ("PUT", "/0/1"), ("PUT", "/1/0")] * 2 \
        + [("POST", "/bs")]


async def test_stopping_the_server_ends_running_bootstraps(clients):
    bs = BootstrapServer(configs={"m": config()}, objects=OBJECTS, request_timeout=WAIT * 10)
    await bs.start()
    try:
        client = await clients("m", hang_on=("PUT", "/0/1"))
        assert await client.request(bs) == "2.04"
        await asyncio.wait_for(client.hung.wait(), WAIT)
    finally:
        await bs.stop()
    outcome = await bs.wait_finished("m", WAIT)
    assert not outcome.ok and "stopped" in outcome.reason


async def test_cancelling_a_server_initiated_bootstrap(clients):
    async with BootstrapServer(configs={"m": config()}, objects=OBJECTS,
                               request_timeout=WAIT * 10) as bs:
        client = await clients("m", hang_on=("DELETE", "/"))
        task = asyncio.ensure_future(bs.bootstrap("m", f"127.0.0.1:{client.port}"))
        await asyncio.wait_for(client.hung.wait(), WAIT)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        outcome = await bs.wait_finished("m", WAIT)
    assert not outcome.ok and outcome.reason == "cancelled" and outcome.operation == "delete"


async def test_a_client_that_is_gone_ends_in_failure(clients):
    async with BootstrapServer(configs={"m": config()}, objects=OBJECTS,
                               request_timeout=2.0) as bs:
        client = await clients("m")
        address = ("127.0.0.1", client.port)
        await client.stop()
        outcome = await bs.bootstrap("m", address)
    assert not outcome.ok and outcome.operation == "delete" and outcome.code is None
    assert outcome.reason


async def test_inconsistent_configuration_4_06_on_finish(clients):
    async with BootstrapServer(configs={"m": config()}, objects=OBJECTS) as bs:
        client = await clients("m", finish_code="4.06")
        assert await client.request(bs) == "2.04"
        outcome = await bs.wait_finished("m", WAIT)
    assert not outcome.ok and outcome.inconsistent
    assert outcome.operation == "finish" and outcome.code == "4.06"
    assert "inconsistent" in outcome.reason
    assert bs.outcome("m") is outcome


async def test_a_refused_write_ends_without_finish(clients):
    async with BootstrapServer(configs={"m": config()}, objects=OBJECTS) as bs:
        client = await clients("m", write_code="4.00")
        assert await client.request(bs) == "2.04"
        outcome = await bs.wait_finished("m", WAIT)
    assert not outcome.ok and outcome.operation == "write" and outcome.code == "4.00"
    assert client.operations() == [("DELETE", "/"), ("PUT", "/0/1")]
    assert not client.finished.is_set()


async def test_an_identity_too_long_for_psk_ends_in_failure(clients):
    endpoint = "m" * 130  # the default identity is the endpoint name: over 128 bytes
    async with BootstrapServer(default=config(), objects=OBJECTS) as bs:
        client = await clients(endpoint)
        assert await client.request(bs) == "2.04"
        outcome = await bs.wait_finished(endpoint, WAIT)
        assert (await client.pack(bs)).code.dotted == "5.00"
    assert not outcome.ok and outcome.operation == "write" and "psk_identity" in outcome.reason
    assert client.operations() == [("DELETE", "/")]


async def test_wait_finished_times_out_without_a_bootstrap():
    async with BootstrapServer(configs={"m": config()}, objects=OBJECTS) as bs:
        with pytest.raises(TimeoutError, match="'m'"):
            await bs.wait_finished("m", 0.2)


# -- server-initiated bootstrap and many clients -----------------------------------------

async def test_server_initiated_bootstrap(clients):
    async with BootstrapServer(configs={"m": config(delete="/1")}, objects=OBJECTS) as bs:
        client = await clients("m")
        outcome = await bs.bootstrap("m", ("127.0.0.1", client.port),
                                     content_format=CF_TLV)
        assert outcome.ok and outcome.initiator == "server"
        assert await bs.wait_finished("m", WAIT) is outcome
        with pytest.raises(KeyError):
            await bs.bootstrap("nobody", ("127.0.0.1", client.port))
    assert client.operations() == [("DELETE", "/1"), ("PUT", "/0/1"), ("PUT", "/1/0"),
                                   ("POST", "/bs")]
    assert {r.content_format for r in client.received if r.method == "PUT"} == {CF_TLV}
    assert client.store[(0, 1, 10)] == 101  # the old /0/1 (SSID 7) was replaced
    assert client.store[(1, 0, 0)] == 101 and (1, 5, 0) not in client.store
    assert [e.direction for e in bs.requests("m")] == ["out"] * 4


async def test_twenty_endpoints_at_once(clients):
    async with BootstrapServer(default=config(), objects=OBJECTS) as bs:
        fleet = [await clients(f"meter-{n:02d}") for n in range(20)]
        codes = await asyncio.gather(*(c.request(bs) for c in fleet))
        assert codes == ["2.04"] * 20
        outcomes = await asyncio.gather(*(bs.wait_finished(c.endpoint, WAIT) for c in fleet))
        assert all(o.ok for o in outcomes)
        keys = {bs.credentials(c.endpoint)[101].key for c in fleet}
        assert len(keys) == 20
        for client in fleet:
            assert client.store[(0, 1, 5)] == bs.credentials(client.endpoint)[101].key
            assert client.store[(0, 1, 3)] == client.endpoint.encode()
            assert client.operations()[-1] == ("POST", "/bs")


# -- configurations ----------------------------------------------------------------------

def test_example_yaml_loads():
    loaded = load_configs(EXAMPLE)
    assert set(loaded.configs) == {"meter-1", "legacy-meter"}
    meter = loaded.configs["meter-1"]
    assert meter.discover and meter.read == "/1" and meter.delete == "/"
    assert meter.servers[0].ssid == 101 and meter.servers[0].security == "psk"
    assert meter.servers[0].security_resources == {11: 5}
    assert meter.acls[0].acl == {101: 1}
    assert loaded.configs["legacy-meter"].servers[0].mode == 3
    assert loaded.default is not None and loaded.default.servers[0].lifetime == 86400
    bs = BootstrapServer.from_yaml(EXAMPLE, objects=OBJECTS)
    assert bs.config_for("someone") == loaded.default
    values = bs.values("meter-1")
    assert values[(0, 1, 3)] == b"utility-meter-1" and values[(1, 0, 23)] is False


def test_single_config_from_yaml(tmp_path):
    path = tmp_path / "one.yaml"
    path.write_text("servers:\n  - {uri: 'coap://h:5683', ssid: 3}\ndelete: null\n")
    cfg = BootstrapConfig.from_yaml(path)
    assert cfg.delete is None and cfg.servers[0].security == "nosec"


@pytest.mark.parametrize("text, message", [
    ("endpoints:\n  m: [unclosed\n", r"invalid YAML at line \d+, column \d+"),
    ("endpoints:\n  m:\n    servers:\n      - {uri: 'coap://h', ssid: 0}\n",
     r"endpoints\.m\.servers\[0\]\.ssid: must be an integer 1\.\.65534, got 0"),
    ("endpoints:\n  m:\n    servers:\n      - {uri: 'coap://h', ssid: 1, lifetme: 5}\n",
     r"endpoints\.m\.servers\[0\]\.lifetme: unknown field"),
    ("endpoints:\n  m:\n    servers:\n      - {ssid: 1}\n",
     r"endpoints\.m\.servers\[0\]: missing field\(s\) uri"),
    ("endpoints:\n  m:\n    servers:\n      - {uri: 'http://h', ssid: 1}\n",
     r"endpoints\.m\.servers\[0\]\.uri: must be a coap"),
    ("endpoints:\n  m:\n    servers:\n      - {uri: 'coap://h', ssid: 1, security: psk}\n",
     r"servers\[0\]\.security: psk does not fit"),
    ("endpoints:\n  m:\n    servers: []\n", r"endpoints\.m\.servers: at least one"),
    ("endpoints:\n  m:\n    delete: /3\n    servers: [{uri: 'coap://h', ssid: 1}]\n",
     r"endpoints\.m\.delete: must be one of"),
    ("default:\n  servers: [{uri: 'coaps://h', ssid: 1, psk_key: 'zz'}]\n",
     r"default\.servers\[0\]\.psk_key: must be bytes or a hex string"),
    ("default:\n  servers: [{uri: 'coap://h', ssid: 1}, {uri: 'coap://g', ssid: 1}]\n",
     r"default\.ssid: 1 is used twice"),
    ("endpoint: {}\n", r"endpoint: unknown field"),
    ("- a\n", r"top level must be a mapping"),
])
def test_yaml_errors_are_one_line_naming_file_and_field(tmp_path, text, message):
    path = tmp_path / "bs.yaml"
    path.write_text(text)
    with pytest.raises(BootstrapConfigError) as info:
        load_configs(path)
    text = str(info.value)
    assert "\n" not in text and text.startswith(f"{path}: "), text
    assert re.search(message, text), text
    # No chained traceback behind the one line.
    assert info.value.__cause__ is None
    assert info.value.__context__ is None or info.value.__suppress_context__


def test_missing_yaml_file_is_a_config_error(tmp_path):
    with pytest.raises(BootstrapConfigError, match="cannot read"):
        load_configs(tmp_path / "none.yaml")


def test_bad_extra_resource_is_refused_when_configured(tmp_path):
    cfg = config(servers=[account(server_resources={1: "not a number"})])
    with pytest.raises(BootstrapConfigError, match=r"^endpoints\.m: /1/0/1: "):
        BootstrapServer(configs={"m": cfg}, objects=OBJECTS)
    path = tmp_path / "bs.yaml"
    path.write_text("endpoints:\n  m:\n    servers:\n"
                    "      - {uri: 'coap://h', ssid: 1, server_resources: {1: abc}}\n")
    with pytest.raises(BootstrapConfigError) as info:
        BootstrapServer.from_yaml(path, objects=OBJECTS)
    assert str(info.value).startswith(f"{path}: endpoints.m: /1/0/1: ")
    assert "\n" not in str(info.value)


def test_python_config_errors_name_the_field():
    with pytest.raises(BootstrapConfigError, match="^binding: "):
        ServerAccount("coap://h", 1, binding="X")
    with pytest.raises(BootstrapConfigError, match="^read: "):
        config(read="/3")
    with pytest.raises(BootstrapConfigError, match="^content_format: "):
        config(content_format=CF_LINK)
    with pytest.raises(BootstrapConfigError, match="^acl.1: "):
        AclInstance(3, 0, {1: 99})
