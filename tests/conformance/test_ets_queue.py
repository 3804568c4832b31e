"""OMA ETS 1.1 queue-mode cases over real loopback UDP: the lean adapter against the
embedded server (Transport 1.1 section 6.5).

int-108 (Turn on Queue Mode) uses the usual rig: the server writes a Binding with ``Q``
and the client's Update asks for queue mode. int-109 (Behaviour in Queue Mode) needs a
short awake window, so it builds its own meter: it sleeps (the adapter closes its
socket), the server holds its Read, a new reading wakes the client with an Update, and
the held Read and the kept notification both arrive.
"""

from __future__ import annotations

import asyncio
import random
import socket
from typing import Any, Callable, List

from ets_rig import ENDPOINT

from lwm2m_client.aio.udp import UdpClient
from lwm2m_client.core.client import events as ev
from lwm2m_client.core.client import setup
from lwm2m_client.core.client.engine import ClientConfig, ClientCore
from lwm2m_client.core.content import CF_SENML_CBOR
from lwm2m_client.core.dm.tree import ObjectTree
from lwm2m_client.models import shipped_objects
from lwm2m_client.server import LwM2MServer

POWER = (3305, 0, 5800)


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll ``condition`` (generous timeout: a loaded machine)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_int_108_turn_on_queue_mode(ets):
    rig = await ets(version="1.1")
    assert not rig.server.registration(ENDPOINT).queue_mode
    assert (await rig.server.write(ENDPOINT, "/1/0/7", "UQ")).ok
    update = await rig.update_with(("b=U", "Q"))
    assert update.query == ("b=U", "Q")  # 1.1: Q flag next to the transports
    assert rig.server.registration(ENDPOINT).queue_mode


async def test_int_108_a_1_0_client_puts_queue_mode_in_the_binding(ets):
    rig = await ets(version="1.0")
    assert (await rig.server.write(ENDPOINT, "/1/0/7", "UQ")).ok
    await rig.update_with(("b=UQ",))
    assert rig.server.registration(ENDPOINT).queue_mode


def queue_meter(server: LwM2MServer, name: str, events: List[Any]) -> UdpClient:
    objects = shipped_objects()
    tree = ObjectTree([objects[i] for i in (0, 1, 3, 3305)])
    setup.add_security(tree, 0, server.uri, ssid=1)
    setup.add_server(tree, 0, 1, lifetime=300, binding="UQ")
    setup.add_device(tree, "ACME", "M1", "SN1", "1.0")
    tree.create_instance(3305, 0, {5800: 1.0})
    config = ClientConfig(name, awake_ms=600, jitter=0)
    return UdpClient(ClientCore(config, tree, random.Random(4)), on_event=events.append)


async def test_int_109_behaviour_in_queue_mode():
    events: List[Any] = []
    async with LwM2MServer(queue_awake=0.3, request_timeout=10) as server:
        client = queue_meter(server, "queue-109", events)
        await client.start()
        try:
            reg = await server.wait_registered("queue-109")
            assert reg.queue_mode
            observation = await server.observe("queue-109", "/3305/0/5800",
                                               format=CF_SENML_CBOR)
            assert observation.active
            await until(lambda: client.asleep)  # the awake window passed: socket closed
            assert client.transport is None and client.core.asleep
            read = asyncio.ensure_future(server.read("queue-109", "/3/0/0"))
            await until(lambda: server.held_requests("queue-109") == 1)
            assert not read.done()  # held while the client sleeps
            client.core.tree.set(POWER, 2.5)  # a new reading is due: the client wakes
            client.changed()
            await server.wait_updated("queue-109")  # it announced itself with an Update
            answer = await asyncio.wait_for(read, 10)
            assert answer.ok and answer.value == "ACME"
            note = await observation.next(timeout=10)
            assert note.value == 2.5  # kept while asleep, delivered after the Update
            kinds = [type(e) for e in events]
            assert kinds.index(ev.WentToSleep) < kinds.index(ev.WokeUp)
            assert client.sleeps >= 1 and server.held_requests("queue-109") == 0
        finally:
            await client.stop()


async def test_queue_mode_client_on_a_new_port_after_waking():
    # Transport 1.1 section 6.5 / 6.4.3: a new source address after waking is what
    # the Update tells the server; the held request goes to the new address.
    events: List[Any] = []
    async with LwM2MServer(queue_awake=0.3, request_timeout=10) as server:
        client = queue_meter(server, "queue-port", events)
        await client.start()
        blocker = None
        try:
            await server.wait_registered("queue-port")
            old = server.registration("queue-port").remote
            port = client.address[1]
            await until(lambda: client.asleep)
            blocker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            blocker.bind(("127.0.0.1", port))  # the old port is taken meanwhile
            read = asyncio.ensure_future(server.read("queue-port", "/3/0/1"))
            await until(lambda: server.held_requests("queue-port") == 1)
            client.core.trigger_update(client.now_ms())  # e.g. the lifetime timer
            client.changed()
            answer = await asyncio.wait_for(read, 10)
            assert answer.ok and answer.value == "M1"
            assert client.address[1] != port
            assert server.registration("queue-port").remote != old
        finally:
            if blocker is not None:
                blocker.close()
            await client.stop()
