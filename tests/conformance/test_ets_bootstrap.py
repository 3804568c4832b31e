"""OMA ETS 1.1 bootstrap cases over real loopback UDP: the lean adapter against the
embedded Bootstrap-Server and LwM2M Server (LwM2M Core 1.1 section 6.1, Transport 1.1
section 6.4.2).

The ETS text of the bootstrap cases was not at hand: each test follows the case title
and the pass criteria of the Core clauses it cites. int-1 (PSK) asserts the credentials
written to the client and that they are per meter; the DTLS handshake with them comes
with the security transports.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any, Callable, List

from lwm2m_client.aio.udp import UdpClient
from lwm2m_client.core.client import events as ev
from lwm2m_client.core.client import setup
from lwm2m_client.core.client.engine import ClientConfig, ClientCore
from lwm2m_client.core.dm.tree import ObjectTree
from lwm2m_client.models import shipped_objects
from lwm2m_client.server import (
    AclInstance,
    BootstrapConfig,
    BootstrapServer,
    LwM2MServer,
    ServerAccount,
)

OBJECTS = shipped_objects()


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def device_tree(bs_uri: str, hold_off: int = 0, version: str = "1.1") -> ObjectTree:
    """A meter out of the factory: only its Bootstrap-Server account and /3."""
    tree = ObjectTree([OBJECTS[i] for i in (0, 1, 2, 3)])
    setup.add_security(tree, None, bs_uri, bootstrap=True, hold_off=hold_off)
    setup.add_device(tree, "ACME", "M1", "SN1", "1.0")
    return tree


def client(tree: ObjectTree, ep: str, events: List[Any], version: str = "1.1",
           **config: Any) -> UdpClient:
    core = ClientCore(ClientConfig(ep, version=version, jitter=0, **config), tree,
                      random.Random(2))
    return UdpClient(core, on_event=events.append)


def kinds(events: List[Any]) -> List[type]:
    return [type(e) for e in events]


async def test_int_0_client_initiated_bootstrap():
    # Core 1.1 section 6.1.3: POST /bs?ep=, the server's writes, Finish; then the
    # client registers with the LwM2M Server it was given.
    events: List[Any] = []
    async with LwM2MServer() as server, BootstrapServer(configs={
            "bs-0": BootstrapConfig(servers=[ServerAccount(server.uri, 101, lifetime=300)])
    }) as bs:
        meter = client(device_tree(bs.uri), "bs-0", events)
        await meter.start()
        try:
            outcome = await bs.wait_finished("bs-0", 15)
            assert outcome.ok and outcome.initiator == "client"
            reg = await server.wait_registered("bs-0", 15)
            assert reg.lifetime == 300
            request = bs.requests("bs-0")[0]
            assert (request.direction, request.method, request.path) == ("in", "POST", "/bs")
            assert "ep=bs-0" in request.query
            assert kinds(events).index(ev.BootstrapStarted) < \
                kinds(events).index(ev.BootstrapFinished) < kinds(events).index(ev.Registered)
            assert meter.core.tree.get((1, meter.core.tree.instances(1)[0], 0)) == 101
        finally:
            await meter.stop()


async def test_int_1_client_initiated_bootstrap_full_psk_credentials_per_meter():
    # Object 0: Security Mode 0 (PSK) with identity /0/x/3 and key /0/x/5, each meter
    # its own (no universal password).
    keys = []
    async with BootstrapServer(default=BootstrapConfig(servers=[
            ServerAccount("coaps://127.0.0.1:5684", 1, security="psk")])) as bs:
        for ep in ("psk-a", "psk-b"):
            tree = device_tree(bs.uri)
            meter = client(tree, ep, [])
            await meter.start()
            try:
                assert (await bs.wait_finished(ep, 15)).ok
                (sec,) = [i for i in tree.instances(0) if not tree.get((0, i, 1))]
                creds = bs.credentials(ep)[1]
                assert tree.get((0, sec, 2)) == 0  # PSK
                assert tree.get((0, sec, 3)) == creds.identity.encode()
                assert tree.get((0, sec, 5)) == creds.key
                keys.append(creds.key)
            finally:
                meter.close()
    assert keys[0] != keys[1] and all(len(k) >= 16 for k in keys)


async def test_int_4_bootstrap_delete_keeps_the_bootstrap_account_and_the_device():
    # Core 1.1 section 6.1.7.6: Delete / removes everything but the Bootstrap-Server
    # account and /3; a factory LwM2M account is gone after the bootstrap.
    async with LwM2MServer() as server, LwM2MServer(register_response_code="4.03") as old, \
            BootstrapServer(configs={
                "bs-4": BootstrapConfig(servers=[ServerAccount(server.uri, 7)], delete="/")
            }) as bs:
        tree = device_tree(bs.uri)
        setup.add_security(tree, None, old.uri, ssid=3)
        setup.add_server(tree, None, 3, lifetime=60, retry_count=1,
                         sequence_retry_count=1, bootstrap_on_failure=True)
        meter = client(tree, "bs-4", [])
        await meter.start()
        try:
            assert (await bs.wait_finished("bs-4", 30)).ok
            assert sorted(tree.get((1, i, 0)) for i in tree.instances(1)) == [7]
            assert tree.instances(3) == [0]
            assert [i for i in tree.instances(0) if tree.get((0, i, 1))]  # BS account kept
            await server.wait_registered("bs-4", 15)
        finally:
            await meter.stop()


async def test_int_5_server_initiated_bootstrap():
    # Core 1.1 section 6.1.4: within the Client Hold Off Time the Bootstrap-Server
    # configures the client on its own; the client sends no Bootstrap-Request.
    async with LwM2MServer() as server, BootstrapServer(configs={
            "bs-5": BootstrapConfig(servers=[ServerAccount(server.uri, 5)])}) as bs:
        meter = client(device_tree(bs.uri, hold_off=30), "bs-5", [])
        await meter.start()
        try:
            outcome = await bs.bootstrap("bs-5", meter.address)
            assert outcome.ok and outcome.initiator == "server"
            await server.wait_registered("bs-5", 15)
            assert [r for r in bs.requests("bs-5") if r.direction == "in"] == []
        finally:
            await meter.stop()


async def test_int_6_bootstrap_sequence_discover_read_delete_write_finish():
    async with LwM2MServer() as server, BootstrapServer(configs={
            "bs-6": BootstrapConfig(servers=[ServerAccount(server.uri, 6)], discover=True,
                                    read="/1")}) as bs:
        meter = client(device_tree(bs.uri), "bs-6", [])
        await meter.start()
        try:
            outcome = await bs.wait_finished("bs-6", 15)
            assert outcome.ok
            sent = [(r.operation, r.code) for r in bs.requests("bs-6") if r.direction == "out"]
            ops = [op for op, _ in sent]
            assert ops[0] == "discover" and ops[-1] == "finish"
            assert ops.index("delete") < ops.index("write")
            assert all(code is not None and code.startswith("2.") for _, code in sent)
            assert any(link[0] == "/3/0" or link[0].startswith("</3") or "3" in link[0]
                       for link in outcome.discovered)
            await server.wait_registered("bs-6", 15)
        finally:
            await meter.stop()


async def test_int_7_fallback_to_bootstrap_after_a_failed_registration():
    # Object 1 resource 16 true: the factory server refuses, the client bootstraps and
    # registers with the server it was given.
    async with LwM2MServer(register_response_code="4.03") as refusing, \
            LwM2MServer() as good, \
            BootstrapServer(configs={"bs-7": BootstrapConfig(
                servers=[ServerAccount(good.uri, 2)])}) as bs:
        tree = device_tree(bs.uri)
        setup.add_security(tree, None, refusing.uri, ssid=1)
        setup.add_server(tree, None, 1, lifetime=60, retry_count=1, retry_timer=1,
                         sequence_retry_count=1, bootstrap_on_failure=True)
        events: List[Any] = []
        meter = client(tree, "bs-7", events)
        await meter.start()
        try:
            assert (await bs.wait_finished("bs-7", 30)).ok
            await good.wait_registered("bs-7", 15)
            failed = [e for e in events if isinstance(e, ev.RegistrationFailed)]
            assert failed and failed[0].bootstrap
        finally:
            await meter.stop()


async def test_int_8_bootstrap_read_of_the_server_object():
    # Core 1.1 section 6.1.7.4: the Bootstrap-Server may read /1 (and /2) before it
    # rewrites it; here the factory account is read during the fall-back bootstrap.
    async with LwM2MServer(register_response_code="4.03") as old, LwM2MServer() as server, \
            BootstrapServer(configs={"bs-8": BootstrapConfig(
                servers=[ServerAccount(server.uri, 8, lifetime=123)], read="/1")}) as bs:
        tree = device_tree(bs.uri)
        setup.add_security(tree, None, old.uri, ssid=4)
        setup.add_server(tree, None, 4, lifetime=99, retry_count=1,
                         sequence_retry_count=1, bootstrap_on_failure=True)
        meter = client(tree, "bs-8", [])
        await meter.start()
        try:
            outcome = await bs.wait_finished("bs-8", 30)
            assert outcome.ok
            assert outcome.read[(1, 0, 1)] == 99 and outcome.read[(1, 0, 0)] == 4
            assert (await server.wait_registered("bs-8", 15)).lifetime == 123
        finally:
            await meter.stop()


async def test_int_9_an_inconsistent_configuration_is_refused_with_4_06():
    # Core 1.1 section 6.1.7.7: a Finish whose configuration does not hold together (an
    # ACL owned by a server the client does not know) is answered 4.06 and the client
    # stays in bootstrap; a consistent one then gets through.
    bad = BootstrapConfig(servers=[ServerAccount("coap://127.0.0.1:5683", 9)],
                          acls=[AclInstance(3, 0, {77: 1}, owner=77)])
    async with LwM2MServer() as server, BootstrapServer(configs={"bs-9": bad}) as bs:
        events: List[Any] = []
        meter = client(device_tree(bs.uri, hold_off=30), "bs-9", events)
        await meter.start()
        try:
            outcome = await bs.bootstrap("bs-9", meter.address)
            assert not outcome.ok and outcome.inconsistent
            await until(lambda: any(isinstance(e, ev.BootstrapRefused) for e in events))
            assert meter.core.client._bs.machine.active  # still in bootstrap
            assert not any(isinstance(e, ev.BootstrapFinished) for e in events)
            bs.set_config("bs-9", BootstrapConfig(servers=[ServerAccount(server.uri, 9)]))
            assert (await bs.bootstrap("bs-9", meter.address)).ok
            await server.wait_registered("bs-9", 15)
        finally:
            await meter.stop()


async def test_bootstrap_pack_request_of_a_1_2_client():
    # Core 1.2 section 6.1.7.7: GET /bspack brings the whole configuration at once.
    async with LwM2MServer() as server, BootstrapServer(configs={
            "bs-p": BootstrapConfig(servers=[ServerAccount(server.uri, 12)],
                                    lwm2m_version="1.2")}) as bs:
        meter = client(device_tree(bs.uri), "bs-p", [], version="1.2", bootstrap_pack=True)
        await meter.start()
        try:
            await server.wait_registered("bs-p", 15)
            inbound = [(r.method, r.path) for r in bs.requests("bs-p") if r.direction == "in"]
            assert inbound == [("GET", "/bspack")]
        finally:
            await meter.stop()
