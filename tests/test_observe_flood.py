"""Observe registrations past the client's limit, over real loopback UDP.

A raw UDP socket in the test is the client's LwM2M server: it acknowledges the Register
and then sends hand-made CoAP requests, several at once where the point is a flood. The
client runs on the lean adapter (``UdpClient``, the core's own CoAP layer).

What is checked here and nowhere else over a real socket:

- more Observe registrations than ``ClientConfig(max_observations=N)``, each with its own
  token, all sent before the first answer arrives: exactly N are taken (2.05 with an
  Observe option), every other one is answered 5.03 Service Unavailable without Observe
  (``observe.ObservationStore``: "one more observation than it holds is refused");
  only the N taken ones notify, the store holds N, and a plain Read still works;
- cancelling (GET with Observe=1) and flooding again, many times over: the store, and
  the memory the client's modules hold, stay where they were after the first rounds;
- Observe of an Execute-only resource (4.05) and of paths that do not exist (4.04)
  sets up no observation;
- an invalid Write-Attributes (refused with 4.00, see
  tests/conformance/test_ets_discover.py for the invalid combinations themselves) leaves
  a running observation with the attributes it had.

The last tests cover what the client does when its CoAP endpoint's fixed tables (8
exchanges, the recent NON messages) are smaller than what its observations need: an RST
still cancels the right observation, a burst of confirmable notifications still ends
with the latest value at the server, and an Update still finds room.
"""

from __future__ import annotations

import asyncio
import gc
import random
import tracemalloc
from typing import Any, Callable, Dict, List, Optional, Sequence

import pytest

from lwm2m_client.aio.udp import UdpClient
from lwm2m_client.core.client import setup
from lwm2m_client.core.client.engine import ClientConfig, ClientCore
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.coap import options as o
from lwm2m_client.core.content import CF_LINK, CF_TEXT
from lwm2m_client.core.dm.tree import ObjectTree
from lwm2m_client.models import shipped_objects

pytestmark = pytest.mark.interop

HOST = "127.0.0.1"
POWER = (3305, 0, 5800)  # Instantaneous active power, Float, R
LOCATION = ["rd", "flood"]
# Generous: the suite runs on a shared two-core machine.
ANSWER_TIMEOUT_S = 2.0
RETRANSMISSIONS = 5
WAIT_S = 15.0


class RawServer(asyncio.DatagramProtocol):
    """The client's LwM2M server as a bare UDP socket.

    It answers the client's Register (2.01 with a Location-Path), Update (2.04) and
    De-register (2.02), sends CON requests with retransmission (matching the piggybacked
    answer by message ID), and keeps every notification (a 2.xx-5.xx CON or NON), which
    it acknowledges when confirmable."""

    def __init__(self) -> None:
        self.transport: Optional[asyncio.DatagramTransport] = None
        self.client_addr: Any = None
        self.registered = asyncio.Event()
        self.mid = 0x4000
        self.waiting: Dict[int, asyncio.Future[m.Message]] = {}
        self.notes: List[m.Message] = []
        self.noted = asyncio.Event()
        self.hold_acks = False  # CON notifications wait for release_acks()
        self.held: List[int] = []
        self.updates = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def error_received(self, exc: Exception) -> None:
        pass  # ICMP from a closed port: retransmission deals with it

    def datagram_received(self, data: bytes, addr: Any) -> None:
        assert self.transport is not None
        try:
            msg = m.decode(data)
        except m.CoapDecodeError:
            return
        if msg.mtype in (m.ACK, m.RST):
            fut = self.waiting.pop(msg.mid, None)
            if fut is not None and not fut.done():
                fut.set_result(msg)
            return
        if m.code_class(msg.code) == 0:
            self._registration(msg, addr)
            return
        if msg.mtype == m.CON:
            if self.hold_acks:
                self.held.append(msg.mid)
            else:
                self.ack(msg.mid)
        self.notes.append(msg)
        self.noted.set()

    def ack(self, mid: int) -> None:
        assert self.transport is not None
        self.transport.sendto(m.to_bytes(m.Message(m.ACK, m.EMPTY, mid, b"")),
                              self.client_addr)

    def reject(self, mid: int) -> None:
        assert self.transport is not None
        self.transport.sendto(m.to_bytes(m.Message(m.RST, m.EMPTY, mid, b"")),
                              self.client_addr)

    def release_acks(self) -> None:
        """Acknowledge the held CON notifications, and every later one at once."""
        self.hold_acks = False
        for mid in self.held:
            self.ack(mid)
        self.held.clear()

    def _registration(self, msg: m.Message, addr: Any) -> None:
        assert self.transport is not None
        path = msg.uri_path
        if msg.code == m.POST and path == "/rd":
            answer = m.Message(m.ACK, m.CREATED, msg.mid, msg.token)
            answer.location_path = LOCATION
            self.client_addr = addr
            self.registered.set()
        elif msg.code == m.POST and path == "/" + "/".join(LOCATION):
            answer = m.Message(m.ACK, m.CHANGED, msg.mid, msg.token)
            self.updates += 1
        elif msg.code == m.DELETE and path == "/" + "/".join(LOCATION):
            answer = m.Message(m.ACK, m.DELETED, msg.mid, msg.token)
        else:
            answer = m.Message(m.ACK, m.NOT_FOUND, msg.mid, msg.token)
        self.transport.sendto(m.to_bytes(answer), addr)

    async def request(self, msg: m.Message) -> m.Message:
        """Send ``msg`` as CON (its token as given) and return the piggybacked answer."""
        assert self.transport is not None
        self.mid = (self.mid + 1) & 0xFFFF
        msg.mtype = m.CON
        msg.mid = self.mid
        data = m.to_bytes(msg)
        fut = self.waiting[msg.mid] = asyncio.get_running_loop().create_future()
        try:
            for _ in range(RETRANSMISSIONS + 1):
                self.transport.sendto(data, self.client_addr)
                done, _ = await asyncio.wait([fut], timeout=ANSWER_TIMEOUT_S)
                if done:
                    return fut.result()
        finally:
            self.waiting.pop(msg.mid, None)
        raise AssertionError(f"no answer to {msg!r}")

    async def notes_for(self, tokens: Sequence[bytes], count: int) -> List[m.Message]:
        """Wait until ``count`` notifications on ``tokens`` came; return them."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_S
        while True:
            found = [n for n in self.notes if n.token in tokens]
            if len(found) >= count or loop.time() > deadline:
                return found
            self.noted.clear()
            try:
                await asyncio.wait_for(self.noted.wait(), deadline - loop.time())
            except asyncio.TimeoutError:
                pass


def get(path: str, token: bytes, observe: Optional[int] = None,
        accept: Optional[int] = CF_TEXT) -> m.Message:
    msg = m.Message(m.CON, m.GET, 0, token)
    msg.uri_path = path
    if observe is not None:
        msg.observe = observe
    if accept is not None:
        msg.accept = accept
    return msg


def put_attributes(path: str, *query: str) -> m.Message:
    msg = m.Message(m.CON, m.PUT, 0, b"\xa7")
    msg.uri_path = path
    for q in query:
        msg.add_option(o.URI_QUERY, q)
    return msg


class Rig:
    """A registered client (``max_observations`` as given) and its raw server."""

    def __init__(self, server: RawServer, transport: asyncio.DatagramTransport,
                 client: UdpClient, tree: ObjectTree) -> None:
        self.server = server
        self.transport = transport
        self.client = client
        self.tree = tree

    @property
    def store(self) -> Any:
        return self.client.core.client.observations

    def set_power(self, value: float) -> None:
        self.tree.set(POWER, value)
        self.client.changed()

    async def flood(self, tokens: Sequence[bytes], path: str = "/3305/0/5800"
                    ) -> List[m.Message]:
        """One Observe per token, all sent at once; the answers in token order."""
        return list(await asyncio.gather(
            *(self.server.request(get(path, token, observe=0)) for token in tokens)))

    async def cancel(self, tokens: Sequence[bytes], path: str = "/3305/0/5800") -> None:
        for token in tokens:
            answer = await self.server.request(get(path, token, observe=1))
            assert answer.code == m.CONTENT and answer.observe is None


@pytest.fixture
async def rig_factory():
    rigs: List[Rig] = []

    async def start(max_observations: int) -> Rig:
        loop = asyncio.get_running_loop()
        transport, server = await loop.create_datagram_endpoint(RawServer,
                                                                local_addr=(HOST, 0))
        port = transport.get_extra_info("sockname")[1]
        objects = shipped_objects()
        tree = ObjectTree([objects[oid] for oid in (0, 1, 3, 3305)])
        setup.add_security(tree, 0, f"coap://{HOST}:{port}", ssid=1)
        setup.add_server(tree, 0, 1, lifetime=600)
        setup.add_device(tree, "ACME", "M1", "SN1", "1.0", reboot=lambda: None)
        tree.create_instance(3305, 0, {5800: 1.0})
        tree.drain_changes()
        config = ClientConfig("flood-1", jitter=0, max_observations=max_observations)
        client = UdpClient(ClientCore(config, tree, random.Random(5)), (HOST, 0))
        rig = Rig(server, transport, client, tree)
        rigs.append(rig)
        await client.start()
        await until(lambda: client.core.serves((HOST, port)))
        assert server.registered.is_set()
        return rig

    yield start
    for rig in rigs:
        await rig.client.stop(timeout=2.0)
        rig.transport.close()


async def until(condition: Callable[[], bool]) -> None:
    """Poll ``condition`` until it holds (generous limit: a busy machine)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_S
    while not condition():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.02)


def tokens(first: int, count: int) -> List[bytes]:
    return [(first + i).to_bytes(4, "big") for i in range(count)]


async def test_flood_past_the_limit_takes_exactly_n(rig_factory):
    n, extra = 5, 20
    rig = await rig_factory(n)
    flood = tokens(0x1000, n + extra)
    answers = await rig.flood(flood)

    taken = [t for t, a in zip(flood, answers, strict=True) if a.code == m.CONTENT]
    refused = [t for t, a in zip(flood, answers, strict=True) if a.code != m.CONTENT]
    assert len(taken) == n and len(refused) == extra
    for answer in answers:
        if answer.code == m.CONTENT:
            assert answer.observe is not None and answer.payload == b"1.0"
        else:
            # observe.py: a full store answers 5.03, with nothing to observe.
            assert answer.code == m.SERVICE_UNAVAILABLE
            assert answer.observe is None and answer.payload == b""
    assert len(rig.store) == n
    assert sorted(obs.token for obs in rig.store.items) == sorted(taken)

    # A second wave of new tokens while the store is full: every one refused.
    more = await rig.flood(tokens(0x2000, extra))
    assert {a.code for a in more} == {m.SERVICE_UNAVAILABLE}
    assert all(a.observe is None for a in more)
    assert len(rig.store) == n

    # Only the taken observations notify: one notification each, none on a refused
    # token (the server may wait a while on a busy machine).
    rig.set_power(7.5)
    notes = await rig.server.notes_for(flood, n)
    assert sorted(note.token for note in notes) == sorted(taken)
    assert all(note.payload == b"7.5" and note.observe is not None for note in notes)

    # The client still answers a plain Read.
    answer = await rig.server.request(get("/3/0/0", b"\x52"))
    assert answer.code == m.CONTENT and answer.payload == b"ACME"
    assert len(rig.store) == n


async def test_reobserve_of_a_taken_token_is_no_new_observation(rig_factory):
    # RFC 7641 section 4.1: the same token from the same server replaces its entry, so
    # a server repeating its registrations cannot push a full store's others out.
    n = 3
    rig = await rig_factory(n)
    first = tokens(0x3000, n)
    assert {a.code for a in await rig.flood(first)} == {m.CONTENT}
    again = await rig.flood(first + tokens(0x3100, 2))
    assert [a.code for a in again] == [m.CONTENT] * n + [m.SERVICE_UNAVAILABLE] * 2
    assert len(rig.store) == n


def _held_by_client_modules() -> int:
    """Bytes currently allocated from lwm2m_client's own source files."""
    snapshot = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(True, "*lwm2m_client*")])
    return sum(stat.size for stat in snapshot.statistics("filename"))


async def test_repeated_floods_and_cancels_do_not_grow(rig_factory):
    n, extra, rounds = 4, 12, 12
    rig = await rig_factory(n)
    held = []
    tracemalloc.start()
    try:
        for r in range(rounds):
            flood = tokens(0x10000 * (r + 1), n + extra)
            answers = await rig.flood(flood)
            taken = [t for t, a in zip(flood, answers, strict=True) if a.code == m.CONTENT]
            assert len(taken) == n and len(rig.store) == n
            assert sum(a.code == m.SERVICE_UNAVAILABLE for a in answers) == extra
            rig.set_power(float(r))
            assert len(await rig.server.notes_for(taken, n)) == n
            await rig.cancel(taken)
            assert len(rig.store) == 0
            rig.server.notes.clear()  # the test's own record, decoded by the core's codec
            gc.collect()
            held.append(_held_by_client_modules())
    finally:
        tracemalloc.stop()
    # After the first rounds filled the bounded caches (duplicate detection, recent
    # NON messages), what the client's modules hold levels off: later rounds add no
    # more than noise, nowhere near one round's worth of observations per round.
    settled = held[3]
    assert max(held[3:]) - settled < 4096, held
    answer = await rig.server.request(get("/3/0/0", b"\x53"))
    assert answer.code == m.CONTENT


@pytest.mark.parametrize("path, code", [
    ("/3/0/4", m.METHOD_NOT_ALLOWED),  # Reboot: Execute only
    ("/3/0/99", m.NOT_FOUND),  # no such resource in Object 3
    ("/3/7", m.NOT_FOUND),  # no such instance
    ("/3/7/0", m.NOT_FOUND),
    ("/3305/0/5801", m.NOT_FOUND),  # defined resource, no value
    ("/9999/0", m.NOT_FOUND),  # object not supported
])
async def test_observe_of_what_cannot_be_read_sets_up_nothing(rig_factory, path, code):
    rig = await rig_factory(4)
    answer = await rig.server.request(get(path, b"\x61", observe=0, accept=None))
    assert answer.code == code and answer.observe is None
    assert len(rig.store) == 0
    # The refused token is free: the same token observes a readable resource.
    answer = await rig.server.request(get("/3305/0/5800", b"\x61", observe=0))
    assert answer.code == m.CONTENT and answer.observe is not None
    assert len(rig.store) == 1


async def test_refused_write_attributes_leave_a_running_observation_alone(rig_factory):
    rig = await rig_factory(4)
    ok = await rig.server.request(put_attributes("/3305/0/5800", "st=2", "gt=50"))
    assert ok.code == m.CHANGED
    discover = get("/3305/0/5800", b"\x71", accept=CF_LINK)
    before = (await rig.server.request(discover)).payload
    assert bytes(before) == b"</3305/0/5800>;gt=50;st=2"
    token = b"\x72"
    assert (await rig.server.request(get("/3305/0/5800", token, observe=0))).observe

    # Each refused in the Write-Attributes request as a whole (C1.1 section 5.1.2,
    # T1.1 section 6.4.4): 4.00, nothing stored.
    for path, query in (
        ("/3305/0/5800", ("lt=60",)),  # lt above the gt in force
        ("/3305/0/5800", ("lt=10", "st=30")),  # lt + 2*st not below gt
        ("/3305/0/5800", ("epmin=9", "epmax=3")),
        ("/3305/0/5800", ("st=1", "pmin=x")),
        ("/3/0/0", ("gt=1",)),  # a string resource
    ):
        answer = await rig.server.request(put_attributes(path, *query))
        assert answer.code == m.BAD_REQUEST, (path, query)
    assert (await rig.server.request(get("/3305/0/5800", b"\x73",
                                         accept=CF_LINK))).payload == before
    assert rig.client.core.client.attributes.get(1, POWER) == {"st": 2.0, "gt": 50.0}

    # The observation still works by st=2 and gt=50: 1.0 -> 2.0 is below the step,
    # 3.5 is 2.5 away from the last notified 1.0.
    rig.set_power(2.0)
    await asyncio.sleep(0.5)  # lets the client look at 2.0 on its own first
    rig.set_power(3.5)
    (note,) = await rig.server.notes_for([token], 1)
    assert note.payload == b"3.5"
    assert len(rig.store) == 1


# -- the endpoint's tables under a burst of notifications --------------------------------

async def con_burst(rig: Rig, token: bytes, count: int) -> List[float]:
    """Observe /3305/0/5800 with con=1 on ``token``, then report ``count`` new values
    while the server holds back its ACKs (a slow server): each value is handled by the
    core (the observation's count moves on) before the next. Returns the values; the
    server's ACKs stay held until ``rig.server.release_acks()``."""
    answer = await rig.server.request(put_attributes("/3305/0/5800", "con=1"))
    assert answer.code == m.CHANGED
    assert (await rig.server.request(get("/3305/0/5800", token, observe=0))).observe
    (obs,) = rig.store.items
    rig.server.hold_acks = True
    values = [10.0 + i for i in range(count)]
    loop = asyncio.get_running_loop()
    for value in values:
        seq = obs.seq
        rig.set_power(value)
        deadline = loop.time() + WAIT_S
        while obs.seq == seq and loop.time() < deadline:
            await asyncio.sleep(0.01)
        assert obs.seq != seq
    return values


async def test_reset_cancels_an_observation_among_many(rig_factory):
    n = 12  # max_observations above the endpoint's 8 exchanges
    rig = await rig_factory(n)
    taken = tokens(0x5000, n)
    assert {a.code for a in await rig.flood(taken)} == {m.CONTENT}
    rig.set_power(9.0)
    notes = await rig.server.notes_for(taken, n)
    assert len(notes) == n and {note.mtype for note in notes} == {m.NON}
    # The server has forgotten the first observation and rejects its notification.
    (first,) = [note for note in notes if note.token == taken[0]]
    rig.server.reject(first.mid)
    # A request sent after the RST on the same socket is handled after it.
    assert (await rig.server.request(get("/3/0/0", b"\x99"))).code == m.CONTENT
    assert taken[0] not in [obs.token for obs in rig.store.items]
    assert len(rig.store) == n - 1


async def test_latest_value_reaches_the_server_after_a_burst_of_con_notifications(
        rig_factory):
    rig = await rig_factory(4)
    token = b"\x81"
    values = await con_burst(rig, token, 20)
    rig.server.release_acks()
    # Wait for the last value, or until the client has had nothing in flight for a
    # second: then nothing more is coming.
    loop = asyncio.get_running_loop()
    final = str(values[-1]).encode()
    idle_since = None
    deadline = loop.time() + WAIT_S
    while loop.time() < deadline:
        got = [bytes(n.payload) for n in rig.server.notes if n.token == token]
        if got and got[-1] == final:
            break
        if rig.client.core.endpoint.get_timer() is None:
            idle_since = idle_since or loop.time()
            if loop.time() - idle_since > 1.0:
                break
        else:
            idle_since = None
        await asyncio.sleep(0.05)
    got = [bytes(n.payload) for n in rig.server.notes if n.token == token]
    assert got and got[-1] == final, got


async def test_update_due_during_a_burst_of_con_notifications_keeps_the_registration(
        rig_factory):
    rig = await rig_factory(4)
    await con_burst(rig, b"\x82", 10)  # more than the endpoint's 8 exchanges
    server_addr = rig.transport.get_extra_info("sockname")
    rig.client.core.trigger_update(rig.client.now_ms())  # or the lifetime's own timer
    rig.client.changed()
    assert rig.client.core.serves(server_addr)
    rig.server.release_acks()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_S
    while rig.server.updates == 0 and loop.time() < deadline:
        await asyncio.sleep(0.05)
    assert rig.server.updates == 1 and rig.client.core.serves(server_addr)
    assert len(rig.store) == 1
