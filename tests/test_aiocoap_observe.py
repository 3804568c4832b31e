"""Observe and notify (RFC 7641; LwM2M Core 1.1 sections 5.1 and 6.4) on the aiocoap
adapter against the embedded server: the message-level client decides when and what to
notify, aiocoap carries the notifications on the server's observation."""

from __future__ import annotations

import asyncio
import random
from typing import Callable

import pytest

from lwm2m_client.aio.aiocoap_client import AiocoapClient
from lwm2m_client.core.client import setup
from lwm2m_client.core.client.client import LwM2MClient
from lwm2m_client.core.client.engine import ClientConfig
from lwm2m_client.core.content import CF_SENML_CBOR
from lwm2m_client.core.dm.tree import ObjectTree
from lwm2m_client.models import shipped_objects
from lwm2m_client.server import LwM2MServer

POWER = (3305, 0, 5800)  # Instantaneous active power, Float, R
OBJECTS = shipped_objects()


def meter_tree(uri: str) -> ObjectTree:
    tree = ObjectTree([OBJECTS[i] for i in (0, 1, 3, 3305)])
    setup.add_security(tree, 0, uri, ssid=1)
    setup.add_server(tree, 0, 1, lifetime=300)
    setup.add_device(tree, "ACME", "M1", "SN1", "1.0")
    tree.create_instance(3305, 0, {5800: 1.0})
    return tree


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


@pytest.mark.interop
async def test_embedded_server_receives_notifications_over_aiocoap():
    async with LwM2MServer() as server:
        tree = meter_tree(server.uri)
        core = LwM2MClient(ClientConfig("obs-aiocoap"), tree, random.Random(8))
        client = AiocoapClient(core)
        await client.start()
        try:
            await server.wait_registered("obs-aiocoap")
            assert (await server.write_attributes("obs-aiocoap", "/3305/0/5800",
                                                  st=0.5, pmax=1)).ok
            observation = await server.observe("obs-aiocoap", "/3305/0/5800",
                                               format=CF_SENML_CBOR)
            assert observation.active and observation.response.value == 1.0
            assert observation.response.observe is not None
            assert len(core.observations) == 1

            tree.set(POWER, 1.2)  # below the step: no notification
            client.changed()
            with pytest.raises(asyncio.TimeoutError):
                await observation.next(timeout=0.5)

            tree.set(POWER, 2.0)  # above it: notified at once
            client.changed()
            note = await observation.next(timeout=5)
            assert note.value == 2.0

            # pmax: notified again without a change (Core 1.1 section 5.1.1.1).
            again = await observation.next(timeout=1.5)
            assert again.value == 2.0
            assert again.observe is not None and note.observe is not None
            assert again.observe > note.observe  # RFC 7641 section 4.4

            # The server forgets it: its Reset of a notification ends it in the core.
            observation.cancel()
            await until(lambda: len(core.observations) == 0)
            assert client._observations == {}
        finally:
            await client.stop()


@pytest.mark.interop
async def test_declined_observation_is_answered_as_a_read():
    # An Observe the core does not take (the store is full: 5.03) sets up nothing in
    # aiocoap either; the observation kept before notifies on.
    async with LwM2MServer() as server:
        tree = meter_tree(server.uri)
        core = LwM2MClient(ClientConfig("obs-full", max_observations=1), tree,
                           random.Random(9))
        client = AiocoapClient(core)
        await client.start()
        try:
            await server.wait_registered("obs-full")
            first = await server.observe("obs-full", "/3305/0/5800")
            assert first.active
            second = await server.observe("obs-full", "/3/0/0")
            assert not second.active and second.response.code_int == 0xA3  # 5.03
            assert len(core.observations) == 1 and len(client._observations) == 1
            tree.set(POWER, 4.0)
            client.changed()
            assert (await first.next(timeout=5)).value == 4.0
            first.cancel()
        finally:
            await client.stop()
