"""A sleepy meter for 24 simulated hours on a network that loses 20% of all datagrams.

The meter registers in queue mode (Transport 1.1 section 6.5), sleeps between readings,
and reports a new reading every quarter hour; the server observes it with ``con=1``.
Every reading the application reported while observed must reach the server exactly
once and in order, or be counted as dropped (Object 1 resource 6, the notification
store's overflow policy, an observation that a new Register ended): nothing may vanish
silently. Virtual clock and virtual lossy network (``harness``), so the day takes a
second and the same seed gives the same run.
"""

from __future__ import annotations

import random

import pytest
from harness import EndpointNode, Simulation, VirtualNetwork

from lwm2m_client.core.client import events as ev
from lwm2m_client.core.client import setup
from lwm2m_client.core.client.engine import ClientConfig, ClientCore
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.coap.events import RequestReceived, RequestTimedOut, ResponseReceived
from lwm2m_client.core.coap.message import Message
from lwm2m_client.core.coap.messaging import Endpoint
from lwm2m_client.core.content import CF_TEXT
from lwm2m_client.core.dm.tree import ObjectTree
from lwm2m_client.models import shipped_objects

SERVER = ("server", 5683)
METER = ("meter", 40000)
POWER = (3305, 0, 5800)
QUARTER = 15 * 60_000
DAY = 24 * 3_600_000


class ObservingServer(EndpointNode):
    """Answers Register/Update, then (again after every Register) sets ``con=1`` and
    observes POWER, retrying what got no answer; records notifications by Observe
    value, as a server judging freshness does (RFC 7641 section 3.4)."""

    def __init__(self, seed: int) -> None:
        super().__init__(Endpoint(random.Random(seed)), self._on_event)
        self.location = 0
        self.obs_token: bytes | None = None
        self.pending: dict[bytes, str] = {}
        self.seen: set[tuple[bytes, int]] = set()
        self.values: list[float] = []

    def receive(self, data: bytes, src, now_ms: int) -> None:
        msg = m.decode(data)
        if m.code_class(msg.code) == 2 and msg.mtype in (m.CON, m.NON) and \
                msg.token == self.obs_token:
            if msg.mtype == m.CON:
                self.endpoint._queue(m.to_bytes(Message(m.ACK, m.EMPTY, msg.mid, b"")), src)
            key = (msg.token, msg.observe)
            if key not in self.seen:  # a retransmission or a kept one sent again
                self.seen.add(key)
                self.values.append(float(bytes(msg.payload).decode()))
            return
        super().receive(data, src, now_ms)

    def _observe(self, now_ms: int) -> None:
        put = Message(m.CON, m.PUT)
        put.uri_path = "/3305/0/5800"
        put.add_option(15, "con=1")
        self.pending[self.endpoint.request(put, METER, now_ms)] = "attributes"
        get = Message(m.CON, m.GET)
        get.uri_path = "/3305/0/5800"
        get.observe = 0
        get.accept = CF_TEXT
        token = self.endpoint.request(get, METER, now_ms)
        self.pending[token] = "observe"
        self.obs_token = token

    def _on_event(self, node, event, now_ms: int) -> None:
        if isinstance(event, RequestReceived):
            msg = event.msg
            if msg.uri_path == "/rd":
                self.location += 1
                answer = Message(code=m.CREATED)
                answer.location_path = ["rd", str(self.location)]
                self.endpoint.respond(msg, event.addr, answer, now_ms)
                self._observe(now_ms)
            elif msg.uri_path == f"/rd/{self.location}":
                self.endpoint.respond(msg, event.addr, Message(code=m.CHANGED), now_ms)
            else:
                self.endpoint.respond(msg, event.addr, Message(code=m.NOT_FOUND), now_ms)
        elif isinstance(event, ResponseReceived):
            self.pending.pop(event.token, None)
        elif isinstance(event, RequestTimedOut):
            if self.pending.pop(event.token, None) == "observe":
                self._observe(now_ms)  # ask again: the observation may not exist


def meter_core(seed: int) -> ClientCore:
    objects = shipped_objects()
    tree = ObjectTree([objects[i] for i in (0, 1, 3, 3305)])
    setup.add_security(tree, 0, "coap://server", ssid=1)
    setup.add_server(tree, 0, 1, lifetime=3600, binding="UQ")
    setup.add_device(tree, "ACME", "M1", "SN1", "1.0")
    tree.create_instance(3305, 0, {5800: 0.0})
    core = ClientCore(ClientConfig("sleepy", store_capacity=8), tree, random.Random(seed))
    core.set_address(1, SERVER)
    return core


class Meter(EndpointNode):
    """The client core as a harness node."""

    def __init__(self, core: ClientCore) -> None:
        self.core = core
        self.events: list = []
        core.start(0)

    def receive(self, data, src, now_ms):
        self.core.receive_datagram(data, src, now_ms)
        self._drain()

    def outgoing(self, now_ms):
        return self.core.datagrams_to_send()

    def timer(self):
        return self.core.get_timer()

    def on_timer(self, now_ms):
        self.core.handle_timer(now_ms)
        self._drain()

    def _drain(self):
        while (e := self.core.next_event()) is not None:
            self.events.append(e)


@pytest.mark.parametrize("seed", range(1, 9))
def test_sleepy_meter_loses_nothing_silently_over_a_day_with_20_percent_loss(seed):
    sim = Simulation(VirtualNetwork(seed=seed, loss=0.2, delay_ms=(5, 80)))
    server = sim.add(SERVER, ObservingServer(seed))
    meter = sim.add(METER, Meter(meter_core(seed)))
    core = meter.core
    owed = []
    t = QUARTER
    while t <= DAY:
        sim.run(max_ms=t - sim.now_ms)  # everything due before the next reading
        sim.now_ms = t
        value = float(t // QUARTER)
        core.tree.set(POWER, value)  # the application's new reading
        if len(core.client.observations):
            owed.append(value)
        t += QUARTER
    sim.run(max_ms=QUARTER)  # the last reading's delivery
    got = server.values
    sleeps = [e for e in meter.events if isinstance(e, ev.WentToSleep)]
    trace = sim.network.trace
    lost = sum(1 for sent in trace if sent.fate == "lost")
    assert 0.15 < lost / len(trace) < 0.25  # the network really lost a fifth
    assert len(sleeps) >= 90  # it really slept between readings
    assert len(got) == len(set(got)), "a reading arrived twice"
    assert got == sorted(got), "readings arrived out of order"
    assert set(got) <= set(owed) and len(owed) >= 90
    missing = len(owed) - len(got)
    assert missing <= core.notifications_dropped, (missing, core.notifications_dropped)
    assert core.stored_notifications == 0
