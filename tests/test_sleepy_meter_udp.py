"""The sleepy meter of test_sleepy_meter.py on the real stack: the lean adapter over
loopback UDP against the embedded aiocoap server, 24 simulated hours in about half a
minute, 20% of the datagrams the meter sends or receives lost.

The client's clock runs ``SPEED`` times faster than real time (``clock_speed``: every
timer of the core shrinks with it -- retransmission, lifetime, awake window); the
server's registration expiry and queue-mode awake window are scaled to match. The
server observes the meter's power with confirmable notifications (Default Notification
Mode ``/1/x/26`` = 1) after every Register. Every reading reported while observed must
arrive exactly once and in order, or be counted as dropped.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any, List, Optional, Tuple

import pytest

from lwm2m_client.aio.udp import UdpClient
from lwm2m_client.core.client import setup
from lwm2m_client.core.client.engine import ClientConfig, ClientCore
from lwm2m_client.core.content import CF_TEXT
from lwm2m_client.core.dm.tree import ObjectTree
from lwm2m_client.models import shipped_objects
from lwm2m_client.server import LwM2MServer, LwM2MServerError
from lwm2m_client.server.server import REGISTERED, ServerEvent

SPEED = 3600  # one simulated hour per real second
POWER = (3305, 0, 5800)
QUARTER_S = 15 * 60 / SPEED  # a reading every simulated quarter hour
LOSS = 0.2

pytestmark = pytest.mark.interop


class LossyTransport:
    """The adapter's transport, losing a share of what is sent."""

    def __init__(self, inner: Any, rng: random.Random) -> None:
        self.inner = inner
        self.rng = rng

    def sendto(self, data: bytes, addr: Any) -> None:
        if self.rng.random() >= LOSS:
            self.inner.sendto(data, addr)

    def close(self) -> None:
        self.inner.close()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.inner.get_extra_info(name, default)


class LossyClient(UdpClient):
    clock_speed = SPEED

    def __init__(self, core: ClientCore, seed: int) -> None:
        super().__init__(core)
        self.rng = random.Random(seed)

    async def _open(self, local_addr: Tuple[str, int]) -> None:
        await super()._open(local_addr)
        self.transport = LossyTransport(self.transport, self.rng)  # type: ignore[assignment]

    def _receive(self, data: bytes, addr: Any) -> None:
        if self.rng.random() >= LOSS:
            super()._receive(data, addr)


def meter(server: LwM2MServer, seed: int) -> LossyClient:
    objects = shipped_objects()
    tree = ObjectTree([objects[i] for i in (0, 1, 3, 3305)])
    setup.add_security(tree, 0, server.uri, ssid=1)
    setup.add_server(tree, 0, 1, lifetime=3600, binding="UQ")
    tree.set((1, 0, 26), 1)  # Default Notification Mode: confirmable
    setup.add_device(tree, "ACME", "M1", "SN1", "1.0")
    tree.create_instance(3305, 0, {5800: 0.0})
    config = ClientConfig("sleepy-udp", store_capacity=8)
    return LossyClient(ClientCore(config, tree, random.Random(seed)), seed)


class Observer:
    """Observes POWER after every Register (retrying a lost Observe) and keeps each
    notification once, by observation and Observe value."""

    def __init__(self, server: LwM2MServer) -> None:
        self.server = server
        self.values: List[float] = []
        self.seen: set[Tuple[int, Optional[int]]] = set()
        self.tasks: List[asyncio.Task[None]] = []
        self.generation = 0
        server.add_listener(self._on_event)

    def _on_event(self, event: ServerEvent) -> None:
        if event.kind == REGISTERED:
            self.generation += 1
            self.tasks.append(asyncio.ensure_future(self._observe(self.generation)))

    async def _observe(self, generation: int) -> None:
        obs = None
        while obs is None and generation == self.generation:
            try:
                obs = await self.server.observe("sleepy-udp", "/3305/0/5800",
                                                format=CF_TEXT)
            except LwM2MServerError:
                await asyncio.sleep(0.05)  # lost: ask again
        while obs is not None and obs.active and generation == self.generation:
            try:
                note = await obs.next(timeout=1.0)
            except (asyncio.TimeoutError, LwM2MServerError):
                continue
            key = (generation, note.observe)
            if note.ok and key not in self.seen:
                self.seen.add(key)
                self.values.append(float(note.payload.decode()))

    def close(self) -> None:
        self.generation = -1
        for task in self.tasks:
            task.cancel()


@pytest.mark.xfail(strict=False, reason=(
    "open defect: on the real stack some runs miss one reading more than the client "
    "counts as dropped (e.g. 67 owed, 64 received, 2 counted); the virtual-harness "
    "version (test_sleepy_meter.py) holds for every seed. Not yet traced: the "
    "aiocoap observation on the server side or the client's accounting around a "
    "re-Register"))
async def test_sleepy_meter_over_a_simulated_day_with_20_percent_loss_on_real_udp():
    async with LwM2MServer(queue_awake=60 / SPEED, time_scale=1 / SPEED, expiry_grace=0.5,
                           request_timeout=3) as server:
        observer = Observer(server)
        client = meter(server, 5)
        await client.start()
        core = client.core
        owed: List[float] = []
        try:
            loop = asyncio.get_running_loop()
            start = loop.time()
            for i in range(1, 97):
                await asyncio.sleep(max(0.0, start + i * QUARTER_S - loop.time()))
                value = float(i)
                core.tree.set(POWER, value)
                if len(core.client.observations):
                    owed.append(value)
                client.changed()
            await asyncio.sleep(1.0)  # the last reading's delivery
        finally:
            observer.close()
            client.close()
        got = observer.values
        assert len(owed) >= 48, "observed for less than half the day"
        assert client.sleeps >= 24  # it really slept between readings
        assert len(got) == len(set(got)), "a reading arrived twice"
        assert got == sorted(got), "readings arrived out of order"
        assert set(got) <= set(owed)
        assert len(owed) - len(got) <= core.notifications_dropped + core.stored_notifications
