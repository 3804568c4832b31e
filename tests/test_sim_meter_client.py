"""A MeterClient against the embedded LwM2M server (real loopback UDP): what a server
found when it observed readings on a fast simulated clock, executed Reboot and Factory
Reset, wrote Current Time, and saw the same endpoint start twice."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any, AsyncIterator, Optional

import pytest

from lwm2m_client.core.coap import message as m
from lwm2m_client.meter_client import MeterClient, available_adapters
from lwm2m_client.server import LwM2MServer
from lwm2m_client.sim.clock import ManualClock

pytestmark = pytest.mark.interop


@pytest.fixture
async def server() -> AsyncIterator[LwM2MServer]:
    async with LwM2MServer() as srv:
        yield srv


async def _no_deregister(server: LwM2MServer, endpoint: str) -> None:
    with pytest.raises(TimeoutError):
        await server.wait_deregistered(endpoint, timeout=0.3)


@pytest.mark.parametrize("adapter", available_adapters())
async def test_execute_reboot_answers_then_the_meter_registers_afresh(server, adapter):
    ep = f"reboot-{adapter}"
    async with MeterClient(server.uri, ep, "gas", adapter=adapter) as client:
        first = await server.wait_registered(ep)
        await client.wait_registered()
        volume = (await server.read(ep, "/3423/0/1")).value
        session = client.adapter
        response = await server.execute(ep, "/3/0/4")
        assert response.code == "2.04"
        # A new boot: the session ended without De-register, and a new Register came
        # from a new socket for a new registration.
        second = await server.wait_registered(ep, timeout=10)
        assert second.location != first.location
        await _no_deregister(server, ep)
        await client.wait_registered()
        assert client.location == list(second.location_path)
        assert client.meter.boots == 1 and client.adapter is not session
        # Reads work again, and the register survived the reboot.
        after = await server.read(ep, "/3423/0/1")
        assert after.code == "2.05" and after.value >= volume
        assert (await server.read(ep, "/3/0/4")).code == "4.05"  # executable, not readable
    assert (await server.wait_deregistered(ep)).location == second.location


async def test_execute_factory_reset_restores_settings_and_registers_afresh(server):
    ep = "factory-reset"
    async with MeterClient(server.uri, ep, "water", lifetime=300) as client:
        await server.wait_registered(ep)
        assert (await server.write(ep, "/1/0/1", 600)).code == "2.04"
        assert (await server.wait_updated(ep)).lifetime == 600
        assert (await server.write(ep, "/3424/0/6", 10)).code == "2.04"
        assert (await server.write(ep, "/3/0/14", "+01:00")).code == "2.04"
        volume = (await server.read(ep, "/3424/0/1")).value
        assert (await server.execute(ep, "/3/0/5")).code == "2.04"
        reg = await server.wait_registered(ep, timeout=10)
        assert reg.lifetime == 300  # the factory lifetime
        await _no_deregister(server, ep)
        await client.wait_registered()
        assert (await server.read(ep, "/3424/0/6")).value == 1000
        assert (await server.read(ep, "/3/0/14")).value == "+00:00"
        assert (await server.read(ep, "/3424/0/1")).value >= volume  # not reset
        assert client.meter.boots == 1


async def test_reboot_before_start_only_replaces_the_core(server):
    client = MeterClient(server.uri, "early-reboot")
    core = client.core
    await client.reboot()
    assert client.core is not core and client.adapter is None
    async with client:
        await server.wait_registered("early-reboot")


async def test_a_written_current_time_runs_on_with_the_meters_clock(server):
    ep = "clock"
    clock = ManualClock(1704067200.0)
    async with MeterClient(server.uri, ep, "electricity", clock=clock) as client:
        await server.wait_registered(ep)
        written = 1500000000
        assert (await server.write(ep, "/3/0/13", written)).code == "2.04"
        assert (await server.read(ep, "/3/0/13")).value == written
        # An hour of the meter's time later: the written time plus the hour.
        clock.advance(3600)
        assert (await server.read(ep, "/3/0/13")).value == written + 3600
        assert (await server.write(ep, "/3/0/15", "Europe/Paris")).code == "2.04"
        client.tick(1704067200.0 + 7200)  # tick moves a manual clock and reports
        assert (await server.read(ep, "/3/0/15")).value == "Europe/Paris"
        assert (await server.read(ep, "/3/0/13")).value == written + 7200


# -- readings computed on read, observed ------------------------------------------------


async def test_observed_energy_grows_on_a_fast_clock(server):
    """An hour of readings every real second. Active Energy notifies at pmax; Apparent
    Energy has no pmax, and epmax makes the client evaluate it every second and notify
    because it moved. Nothing reports the readings: the core evaluates them."""
    ep = "fast-meter"
    speed = 3600
    async with MeterClient(server.uri, ep, "electricity", speed=speed):
        await server.wait_registered(ep)
        for path, attrs in (("/10243/0/14", {"pmax": 1}), ("/10243/0/16", {"epmax": 1})):
            assert (await server.write_attributes(ep, path, **attrs)).code == "2.04"
        energy = await server.observe(ep, "/10243/0/14")
        apparent = await server.observe(ep, "/10243/0/16")
        seen = {"energy": [energy.response.value], "apparent": [apparent.response.value]}

        async def collect(name: str, obs: Any) -> None:
            for _ in range(2):
                seen[name].append((await obs.next(timeout=10)).value)

        await asyncio.gather(collect("energy", energy), collect("apparent", apparent))
        for values in seen.values():
            # Each notification about an hour of consumption after the one before.
            assert all(a < b for a, b in zip(values, values[1:], strict=False)), values
        # Current Time runs at the same pace, at least `speed` times the real time
        # between the two reads.
        first = (await server.read(ep, "/3/0/13")).value
        after_first = time.monotonic()
        await asyncio.sleep(0.5)
        before_second = time.monotonic()
        second = (await server.read(ep, "/3/0/13")).value
        assert second - first >= int(speed * (before_second - after_first)) - 1
        server.cancel_observe(energy)
        server.cancel_observe(apparent)


# -- message IDs and tokens -----------------------------------------------------------


class _Catcher(asyncio.DatagramProtocol):
    """A silent stand-in for the server: it only collects what arrives."""

    def __init__(self) -> None:
        self.received: asyncio.Queue[bytes] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.received.put_nowait(data)


async def _next_register(catcher: _Catcher) -> tuple[int, bytes]:
    while True:
        msg = m.decode(await asyncio.wait_for(catcher.received.get(), 5))
        if msg.code == m.POST and msg.uri_path == "/rd":
            return msg.mid, bytes(msg.token)


async def _first_registers(seed: Optional[int], boots: int = 1) -> list[tuple[int, bytes]]:
    """The message ID and token of the first Register of each boot of a new client
    for one endpoint (the lean adapter: the core's own messaging picks them)."""
    loop = asyncio.get_running_loop()
    transport, catcher = await loop.create_datagram_endpoint(_Catcher,
                                                             local_addr=("127.0.0.1", 0))
    port = transport.get_extra_info("sockname")[1]
    client = MeterClient(f"coap://127.0.0.1:{port}", "same-endpoint", seed=seed)
    seen = []
    try:
        await client.start()
        seen.append(await _next_register(catcher))
        for _ in range(boots - 1):
            await client.reboot()
            seen.append(await _next_register(catcher))
    finally:
        await client.stop(timeout=0.1)
        transport.close()
    return seen


async def test_every_run_of_an_endpoint_uses_new_message_ids_and_tokens():
    # RFC 7252 section 5.3.1: a restarted client must not look like a duplicate.
    (a,), (b,) = await _first_registers(None), await _first_registers(None)
    assert a[0] != b[0] and a[1] != b[1]


async def test_a_seed_makes_the_traffic_reproducible():
    assert await _first_registers(7, boots=2) == await _first_registers(7, boots=2)


async def test_a_reboot_starts_with_new_message_ids_and_tokens_even_when_seeded():
    first, second = await _first_registers(7, boots=2)
    assert first[0] != second[0] and first[1] != second[1]


def test_protocol_randomness_and_simulation_data_are_separate():
    # Unseeded: the readings still follow the endpoint (simulation data), the protocol
    # uses the system's random source.
    a = MeterClient("coap://127.0.0.1:5683", "ep-x", "gas")
    b = MeterClient("coap://127.0.0.1:5683", "ep-x", "gas")
    assert a.tree.get((3423, 0, 1)) == b.tree.get((3423, 0, 1))
    assert isinstance(a._rng, random.SystemRandom) and isinstance(b._rng, random.SystemRandom)
    seeded = MeterClient("coap://127.0.0.1:5683", "ep-x", "gas", seed=3)
    again = MeterClient("coap://127.0.0.1:5683", "ep-x", "gas", seed=3)
    assert not isinstance(seeded._rng, random.SystemRandom)
    assert seeded._rng.getrandbits(32) == again._rng.getrandbits(32)
    # A seed also seeds the readings, as before.
    assert seeded.tree.get((3423, 0, 1)) == again.tree.get((3423, 0, 1))
