"""Client cores against the simulated LwM2M server on the virtual clock and network.

No sleeping: time is the harness's virtual clock and the network draws loss,
duplication and delay from a seed, so every run here is the same run, byte for byte.
Covers registration under loss (Core 1.2 section 6.2.1.1), RFC 7252 section 4.2
retransmission timing, duplicate detection (RFC 7252 section 4.5), the Update schedule
and re-Register after 4.04 (Transport 1.1 section 6.4.3), Disable (Object 1 resource 4)
and several clients on one network.
"""

from __future__ import annotations

import random
from functools import partial

import pytest
from harness import ClientNode, Sent, Simulation, VirtualNetwork
from sim_server import SimServer

from lwm2m_client.core.client import events as ev
from lwm2m_client.core.client import registration as reg_fsm
from lwm2m_client.core.client import setup
from lwm2m_client.core.client.engine import ClientConfig, ClientCore
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.coap.message import Message, decode
from lwm2m_client.core.coap.messaging import Tuning
from lwm2m_client.core.content import CF_TEXT
from lwm2m_client.core.dm.tree import ObjectTree
from lwm2m_client.models import shipped_objects

OBJECTS = shipped_objects()
SERVER = ("10.0.0.2", 5683)
CLIENT = ("10.0.0.1", 56830)


class RecordingRandom(random.Random):
    """A seeded Random that remembers every getrandbits draw."""

    def __init__(self, seed: int):
        super().__init__(seed)
        self.draws: list[tuple[int, int]] = []

    def getrandbits(self, k: int) -> int:
        value = super().getrandbits(k)
        self.draws.append((k, value))
        return value


class Meter:
    """A client core with Objects 0, 1, 3, 4 whose Reboot (/3/0/4) counts its calls."""

    def __init__(self, ep: str, rng: random.Random, lifetime: int = 300,
                 jitter: float = 0.1, **server: int):
        tree = ObjectTree([OBJECTS[i] for i in (0, 1, 3, 4)])
        setup.add_security(tree, 0, "coap://server", ssid=1)
        setup.add_server(tree, 0, 1, lifetime=lifetime, **server)
        self.reboots = 0
        setup.add_device(tree, "ACME", "M1", ep, "1.0", reboot=self._reboot)
        setup.add_connectivity(tree)
        self.tree = tree
        self.core = ClientCore(ClientConfig(ep, jitter=jitter), tree, rng)
        self.core.set_address(1, SERVER)

    def _reboot(self) -> None:
        self.reboots += 1


def world(seed: int = 1, **net: object) -> tuple[Simulation, SimServer]:
    sim = Simulation(VirtualNetwork(seed, **net))  # type: ignore[arg-type]
    server = sim.add(SERVER, SimServer(seed + 500))
    assert isinstance(server, SimServer)
    return sim, server


def attach(sim: Simulation, meter: Meter, addr: tuple[str, int] = CLIENT) -> ClientNode:
    node = ClientNode(meter.core, start_ms=sim.now_ms)
    sim.add(addr, node)
    return node


def registered(node: ClientNode) -> bool:
    return bool(node.of_type(ev.Registered))


def requests_to(sent: list[Sent], method: int, path: str) -> list[tuple[Sent, Message]]:
    """The datagrams in ``sent`` that are ``method`` requests on Uri-Path ``path``."""
    out = []
    for s in sent:
        msg = decode(s.data)
        if msg.code == method and msg.uri_path == path:
            out.append((s, msg))
    return out


def arrived(s: Sent) -> bool:
    return s.fate in ("delivered", "duplicated")


# -- registration under loss ------------------------------------------------------------

LOSSY_SEEDS = list(range(30))


@pytest.mark.parametrize("seed", LOSSY_SEEDS)
def test_registration_completes_under_30_percent_loss(seed: int) -> None:
    # Each Register transmission and its ACK are lost with probability 0.3: one CON
    # exchange (5 transmissions) fails with 0.51**5 = 3.5 %, a whole failure procedure
    # of 5 attempts with 5e-8. Every seed must register within the procedure.
    sim, server = world(seed, loss=0.3, duplicate=0.2, delay_ms=(5, 400))
    meter = Meter(f"lossy-{seed}", random.Random(seed), retry_timer=1)
    node = attach(sim, meter)
    assert sim.run(lambda: registered(node), max_ms=600_000)
    assert not node.of_type(ev.RegistrationFailed)
    sim.run(max_ms=5_000)  # let copies still on the wire arrive
    ep = f"lossy-{seed}"
    record = server.record(ep)
    assert record is not None and record.addr == CLIENT
    assert meter.core.registration(1).location == record.location
    assert list(server.clients) == [ep]  # exactly one registration for this client
    # Retransmissions and duplicated copies of one Register reach the server's
    # application once: one processed Register per distinct message ID that arrived.
    registers = requests_to(sim.network.sent_by(CLIENT), m.POST, "/rd")
    mids = {msg.mid for s, msg in registers if arrived(s)}
    assert len(server.logged("register", ep)) == len(mids)
    assert node.of_type(ev.Registered) == [ev.Registered(1, record.location)] * len(
        node.of_type(ev.Registered))


def test_lossy_seeds_exercise_duplicates_and_retries() -> None:
    """The seeds above are not all easy: across them, Registers were duplicated on the
    wire, retransmitted, and at least one whole exchange timed out."""
    duplicated = retransmitted = timed_out = 0
    for seed in LOSSY_SEEDS:
        sim, _ = world(seed, loss=0.3, duplicate=0.2, delay_ms=(5, 400))
        node = attach(sim, Meter(f"lossy-{seed}", random.Random(seed), retry_timer=1))
        sim.run(partial(registered, node), max_ms=600_000)
        registers = requests_to(sim.network.sent_by(CLIENT), m.POST, "/rd")
        duplicated += sum(1 for s, _ in registers if s.fate == "duplicated")
        mids = [msg.mid for _, msg in registers]
        retransmitted += len(mids) - len(set(mids))
        timed_out += len(set(mids)) - 1
    assert duplicated > 0 and retransmitted > 0 and timed_out > 0


# -- RFC 7252 section 4.2 timing and the registration failure procedure -----------------


def test_register_retransmission_and_failure_schedule() -> None:
    rng = RecordingRandom(42)
    sim = Simulation(VirtualNetwork(42))  # nobody listens at SERVER
    meter = Meter("lonely", rng, jitter=0, retry_count=3, retry_timer=1,
                  sequence_retry_count=1)
    node = attach(sim, meter)
    assert sim.run(lambda: bool(node.of_type(ev.RegistrationFailed)), max_ms=10_000_000)
    sends = requests_to(sim.network.sent_by(CLIENT), m.POST, "/rd")
    attempts: dict[int, list[int]] = {}
    for s, msg in sends:
        attempts.setdefault(msg.mid, []).append(s.time_ms)
    assert len(attempts) == 3  # Communication Retry Count
    # The initial timeout of each exchange is its one 16-bit draw (the first 16-bit
    # draw is the message ID seed): ACK_TIMEOUT + (ACK_TIMEOUT/2 * r) / 2**16.
    tuning = Tuning()
    drawn = [v for k, v in rng.draws if k == 16][1:]
    assert len(drawn) == 3
    timeouts = [tuning.ack_timeout + ((tuning.ack_timeout // 2) * r >> 16) for r in drawn]
    start = 0  # no initial delay, no jitter
    for n, (times, t) in enumerate(zip(attempts.values(), timeouts, strict=True), 1):
        assert 2000 <= t < 3000
        assert times == [start, start + t, start + 3 * t, start + 7 * t, start + 15 * t]
        failed_at = start + 31 * t  # the last wait doubles once more, then it gives up
        # Core 1.2 section 6.2.1.1: after failed attempt n wait RetryTimer * 2**(n-1).
        start = failed_at + 1000 * (1 << (n - 1))
    assert node.events[-1] == (failed_at, ev.RegistrationFailed(1, None, True))
    assert meter.core.registration(1).state == reg_fsm.ST_FAILED
    assert meter.core.get_timer() is None
    assert sim.network.trace[-1].time_ms == failed_at - 16 * timeouts[-1]


# -- duplicate requests from the server (RFC 7252 section 4.5) ---------------------------


def registered_world(seed: int = 3, **kw: int) -> tuple[Simulation, SimServer, Meter,
                                                         ClientNode]:
    sim, server = world(seed)
    meter = Meter("dup-1", random.Random(seed), **kw)
    node = attach(sim, meter)
    assert sim.run(lambda: registered(node))
    return sim, server, meter, node


def replay_last_request(sim: Simulation) -> bytes:
    """Send the server's last request datagram to the client once more."""
    data = [s.data for s in sim.network.sent_by(SERVER) if decode(s.data).mtype == m.CON][-1]
    sim.network.send(data, SERVER, CLIENT, sim.now_ms)
    return data


def client_replies(sim: Simulation, mid: int) -> list[bytes]:
    return [s.data for s in sim.network.sent_by(CLIENT) if decode(s.data).mid == mid
            and decode(s.data).mtype == m.ACK]


def test_duplicate_execute_runs_once_and_gets_the_cached_answer() -> None:
    sim, server, meter, _ = registered_world()
    token = server.request(sim.now_ms, "dup-1", m.POST, "/3/0/4")
    assert sim.run(lambda: token in server.responses)
    assert server.responses[token].code == m.CHANGED
    data = replay_last_request(sim)
    sim.run(max_ms=1_000)
    assert meter.reboots == 1
    first, again = client_replies(sim, decode(data).mid)
    assert again == first  # the cached ACK, byte for byte


def test_duplicate_write_is_not_applied_twice() -> None:
    sim, server, meter, _ = registered_world()
    token = server.request(sim.now_ms, "dup-1", m.PUT, "/3/0/14", b"+01:00", cf=CF_TEXT)
    assert sim.run(lambda: token in server.responses)
    assert server.responses[token].code == m.CHANGED
    assert meter.tree.get((3, 0, 14)) == "+01:00"
    meter.tree.set((3, 0, 14), "+05:00")  # the meter moves on
    data = replay_last_request(sim)
    sim.run(max_ms=1_000)
    assert meter.tree.get((3, 0, 14)) == "+05:00"  # the old Write did not come back
    first, again = client_replies(sim, decode(data).mid)
    assert again == first


def test_every_datagram_duplicated() -> None:
    """A network that delivers everything twice, reordered: one registration, and each
    of five Executes runs once."""
    sim, server = world(9, duplicate=1.0, delay_ms=(1, 80))
    meter = Meter("twice", random.Random(9))
    node = attach(sim, meter)
    assert sim.run(lambda: registered(node))
    tokens = []
    for _ in range(5):
        tokens.append(server.request(sim.now_ms, "twice", m.POST, "/3/0/4"))
        assert sim.run(lambda: tokens[-1] in server.responses)
    sim.run(max_ms=5_000)
    assert meter.reboots == 5
    assert len(server.logged("register")) == 1
    assert len(node.of_type(ev.Registered)) == 1
    assert [server.responses[t].code for t in tokens] == [m.CHANGED] * 5


# -- Update schedule and re-Register (Transport 1.1 section 6.4.3) ------------------------


@pytest.mark.parametrize("lifetime, due_s", [(60, 30), (300, 207), (86400, 86307)])
def test_update_at_lifetime_minus_margin(lifetime: int, due_s: int) -> None:
    # Margin min(lifetime/2, MAX_TRANSMIT_WAIT = 93 s).
    sim, server, meter, node = registered_world(lifetime=lifetime)
    t_reg = node.times_of(ev.Registered)[0]
    assert sim.run(lambda: len(node.of_type(ev.RegistrationUpdated)) == 2,
                   max_ms=3 * lifetime * 1000)
    updates = requests_to(sim.network.sent_by(CLIENT), m.POST, "/rd/1")
    t_first, t_second = [s.time_ms for s, _ in updates]
    assert t_first == t_reg + due_s * 1000
    t_updated = node.times_of(ev.RegistrationUpdated)[0]
    assert t_second == t_updated + due_s * 1000
    # An Update that changes nothing carries no parameters and no payload.
    assert [msg.uri_query for _, msg in updates] == [[], []]
    assert [bytes(msg.payload) for _, msg in updates] == [b"", b""]
    record = server.record("dup-1")
    assert record is not None and record.updates == 2


def test_update_answered_404_leads_to_register() -> None:
    sim, server, meter, node = registered_world(lifetime=60)
    server.update_replies.append(m.NOT_FOUND)
    assert sim.run(lambda: len(node.of_type(ev.Registered)) == 2, max_ms=100_000)
    client_sent = sim.network.sent_by(CLIENT)
    (update, _), = requests_to(client_sent, m.POST, "/rd/1")
    register_times = [s.time_ms for s, _ in requests_to(client_sent, m.POST, "/rd")]
    # The Register goes out the moment the 4.04 arrives (one hop of 5 ms each way).
    assert len(register_times) == 2 and register_times[1] == update.time_ms + 10
    assert not node.of_type(ev.RegistrationUpdated)
    assert list(server.clients) == ["dup-1"]
    record = server.record("dup-1")
    assert record is not None
    assert meter.core.registration(1).location == ["rd", "2"] == record.location
    # And life goes on under the new location.
    assert sim.run(lambda: bool(node.of_type(ev.RegistrationUpdated)), max_ms=100_000)
    assert requests_to(sim.network.sent_by(CLIENT), m.POST, "/rd/2")


# -- Disable (/1/x/4): De-register, silence, Register again ------------------------------


def test_disable_deregisters_stays_silent_then_registers() -> None:
    sim, server, meter, node = registered_world(lifetime=3600, disable_timeout=30)
    token = server.request(sim.now_ms, "dup-1", m.POST, "/1/0/4")
    assert sim.run(lambda: bool(node.of_type(ev.Deregistered)))
    assert server.responses[token].code == m.CHANGED
    t_dereg = node.times_of(ev.Deregistered)[0]
    assert node.of_type(ev.Deregistered) == [ev.Deregistered(1, True)]
    assert server.record("dup-1") is None
    assert [e.kind for e in server.log] == ["register", "deregister"]
    # The Execute is answered before the De-register goes out (Object 1 resource 4).
    sent = sim.network.sent_by(CLIENT)
    kinds = [(decode(s.data).mtype, decode(s.data).code) for s in sent]
    assert kinds[-2:] == [(m.ACK, m.CHANGED), (m.CON, m.DELETE)]
    assert meter.core.registration(1).state == reg_fsm.ST_DISABLED
    # A request while disabled is ignored (Core 1.1 section 6.3: no registration), and
    # so are its retransmissions, even those arriving after the client registered again.
    ignored = server.request(sim.now_ms, "dup-1", m.GET, "/3/0", addr=CLIENT)
    assert sim.run(lambda: len(node.of_type(ev.Registered)) == 2, max_ms=60_000)
    after = [s for s in sim.network.sent_by(CLIENT) if s.time_ms > t_dereg]
    assert after[0].time_ms == t_dereg + 30_000  # silent for the Disable Timeout
    assert decode(after[0].data).uri_path == "/rd"
    assert server.record("dup-1") is not None
    assert sim.run(lambda: ignored in server.failed, max_ms=300_000)
    assert ignored not in server.responses
    assert not [s for s in sim.network.sent_by(CLIENT)
                if decode(s.data).token == ignored]


# -- a fleet on one network --------------------------------------------------------------


def test_ten_clients_register_on_one_network() -> None:
    sim, server = world(21, loss=0.1, delay_ms=(2, 40))
    nodes = {}
    for i in range(10):
        addr = (f"10.0.1.{i + 1}", 56830)
        meter = Meter(f"meter-{i:02d}", random.Random(100 + i), retry_timer=1)
        nodes[addr] = (meter, attach(sim, meter, addr))
    assert sim.run(lambda: all(registered(n) for _, n in nodes.values()), max_ms=600_000)
    assert sorted(server.clients) == [f"meter-{i:02d}" for i in range(10)]
    assert {r.addr for r in server.clients.values()} == set(nodes)
    locations = [tuple(r.location) for r in server.clients.values()]
    assert len(set(locations)) == 10
    for addr, (meter, _) in nodes.items():
        record = server.record(meter.core.config.endpoint)
        assert record is not None and record.addr == addr
        assert meter.core.registration(1).location == record.location
