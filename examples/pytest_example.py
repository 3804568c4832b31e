"""Scripting one virtual meter in a pytest test, against the embedded LwM2M server.

    pytest examples/pytest_example.py

The server plays the back office: it reads, writes and executes on the meter the way
a head-end system would. To test your own LwM2M server instead, point ``MeterClient``
at its URI and drive the server through its own API.
"""

from __future__ import annotations

from typing import AsyncIterator

import pytest
import pytest_asyncio

from lwm2m_client.meter_client import MeterClient
from lwm2m_client.server import LwM2MServer

ENDPOINT = "water-meter-1"
VOLUME = "/3424/0/1"  # Cumulated water volume, m3
PULSE_RATIO = "/3424/0/6"  # pulses per m3
RESET_VOLUME = "/3424/0/2"  # Cumulated water meter value reset


@pytest_asyncio.fixture
async def server() -> AsyncIterator[LwM2MServer]:
    async with LwM2MServer() as server:
        yield server


@pytest_asyncio.fixture
async def meter(server: LwM2MServer) -> AsyncIterator[MeterClient]:
    async with MeterClient(server.uri, ENDPOINT, "water") as meter:
        await server.wait_registered(ENDPOINT)
        yield meter
    # Leaving the block de-registered the meter.
    await server.wait_deregistered(ENDPOINT)


@pytest.mark.asyncio
async def test_server_reads_the_volume(server: LwM2MServer, meter: MeterClient) -> None:
    response = await server.read(ENDPOINT, VOLUME)
    assert response.code == "2.05"
    assert response.value == meter.tree.get(meter.meter.path(1)) > 0


@pytest.mark.asyncio
async def test_meter_refuses_a_zero_pulse_ratio(server: LwM2MServer,
                                                meter: MeterClient) -> None:
    assert (await server.write(ENDPOINT, PULSE_RATIO, 0)).code == "4.00"
    assert (await server.write(ENDPOINT, PULSE_RATIO, 10)).code == "2.04"
    assert meter.tree.get(meter.meter.path(6)) == 10


@pytest.mark.asyncio
async def test_reset_sets_the_volume_to_zero(server: LwM2MServer, meter: MeterClient) -> None:
    assert (await server.execute(ENDPOINT, RESET_VOLUME)).code == "2.04"
    assert (await server.read(ENDPOINT, VOLUME)).value == 0.0
