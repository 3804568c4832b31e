"""Shared fixtures: an embedded LwM2M server and clients on either asyncio adapter.

- ``lwm2m_server``: an :class:`~lwm2m_client.server.LwM2MServer` on loopback, port 0.
- ``adapter``: "udp" (the lean adapter, the core's own CoAP) or "aiocoap"; a test that
  uses it (directly or through ``start_client``) runs once per adapter.
- ``start_client``: ``await start_client(endpoint="meter-1", **config)`` builds a client
  tree (:func:`build_client_tree`) whose one server account points at ``lwm2m_server``,
  starts it on the ``adapter`` and waits until both sides consider it registered.
  ``config`` goes to :class:`ClientConfig` (``version``, ``block_size`` ...). Every
  client still running at the end of the test is stopped (so it de-registers).
"""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable, List, Union

import pytest
from hypothesis import settings

from lwm2m_client.aio.aiocoap_client import AiocoapClient
from lwm2m_client.aio.udp import UdpClient
from lwm2m_client.core.client import events as ev
from lwm2m_client.core.client import setup
from lwm2m_client.core.client.client import LwM2MClient
from lwm2m_client.core.client.engine import ClientConfig, ClientCore
from lwm2m_client.core.dm.tree import ObjectTree
from lwm2m_client.models import shipped_objects
from lwm2m_client.server import LwM2MServer

# tests/mp/spec_vectors.py holds the spec example data shared by
# the CPython tests and the MicroPython scripts: on sys.path, every test module can
# `from spec_vectors import ...` (run_mp.mjs puts it on MicroPython's path the same way).
sys.path.insert(0, str(Path(__file__).resolve().parent / "mp"))

# The machines running the suite are shared and have two cores: Hypothesis judges inputs,
# not speed, so no example fails for being slow (timings belong to bench/).
settings.register_profile("lwm2m", deadline=None)
settings.load_profile("lwm2m")

ADAPTERS = ("udp", "aiocoap")
Client = Union[UdpClient, AiocoapClient]

# Objects of the test client: the mandatory ones, Binary App Data Container (multi-instance,
# writable: Create/Delete) and a three-phase meter (an instance larger than one block).
CLIENT_OBJECTS = (0, 1, 3, 4, 19, 10242)
LIFETIME = 300


def build_client_tree(server_uri: str) -> ObjectTree:
    """/0/0 and /1/0 for SSID 1 at ``server_uri`` (NoSec), /3/0, /4/0, /19/0, /10242/0."""
    from lwm2m_client.sim.meters import make_meter  # imported here: only these tests need it

    defs = shipped_objects()
    tree = ObjectTree([defs[oid] for oid in CLIENT_OBJECTS])
    setup.add_security(tree, 0, server_uri, ssid=1)
    setup.add_server(tree, 0, 1, lifetime=LIFETIME)
    setup.add_device(tree, "lwm2m_client", "test-meter", "SN-0001", "1.0",
                     values={9: 80, 10: 128})
    setup.add_connectivity(tree, signal=-85, ip="10.0.0.7")
    tree.create_instance(19, 0, {0: {0: b"\x01\x02\x03"}})
    make_meter("3phase", tree, seed=7, start_s=1_700_000_000.0)
    tree.drain_changes()
    return tree


@pytest.fixture
async def lwm2m_server() -> AsyncIterator[LwM2MServer]:
    async with LwM2MServer(host="127.0.0.1", port=0, request_timeout=5) as server:
        yield server


@pytest.fixture(params=ADAPTERS)
def adapter(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def until_registered(client: Client, ssid: int = 1, timeout: float = 10.0) -> None:
    """Wait until the client core has its 2.01 from server ``ssid``."""
    registration = client.core.registration(ssid)
    while not registration.is_registered:
        await client.wait_for(ev.Registered, timeout)


@pytest.fixture
async def start_client(lwm2m_server: LwM2MServer, adapter: str
                       ) -> AsyncIterator[Callable[..., Awaitable[Client]]]:
    started: List[Client] = []

    async def start(endpoint: str = "meter-1", **config: Any) -> Client:
        tree = build_client_tree(lwm2m_server.uri)
        # The aiocoap adapter drives the message-level client; the lean one the
        # datagram-level core. Either resolves the account's URI from /0/0/0 itself.
        layer = LwM2MClient if adapter == "aiocoap" else ClientCore
        core = layer(ClientConfig(endpoint, **config), tree, random.Random(endpoint))
        client: Client = AiocoapClient(core) if adapter == "aiocoap" else UdpClient(core)
        started.append(client)
        await client.start()
        await until_registered(client)
        await lwm2m_server.wait_registered(endpoint)
        return client

    yield start
    for client in started:
        await client.stop(timeout=2.0)
