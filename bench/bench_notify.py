"""Observe/notify at fleet scale: many clients in one process, one observer in another.

N single-phase meters (objects 0, 1, 3, 4, 10243), each a ``UdpClient`` (the lean adapter,
one socket and one timer per client) in this process, register with a receiving server
in a child process of its own: a raw asyncio UDP endpoint that answers Register and
Update with crafted answers (``common.answer_registration``), observes ``/10243/0`` of
every client (GET with Observe=0, SenML CBOR by default), writes the attributes each
run needs, acknowledges confirmable notifications with an Empty ACK and counts the
notifications it receives. Nothing but loopback addresses is used.

Runs, one after the other, each ``--seconds`` long:

``changes, NON``
    The meters take new readings in waves, as fast as the event loop takes them: each
    wave moves every meter's simulated clock one second on (``meter.tick``, which
    reports its computed resources as changed) and wakes its client
    (``client.changed()``); no pmin is attached, so each wave is notified at once, one
    non-confirmable notification per meter with the readings its model computes.
``changes, CON``
    The same with ``con=1`` attached to ``/10243/0`` (Core 1.2 section 5.1.1): every
    notification waits for the server's ACK.
``pmax=1 s, NON``
    No changes; ``pmax=1`` on ``/10243/0``: each meter notifies its unchanged reading
    once a second (Core 1.1 section 5.1.1).

Columns: notifications the clients made (the observations' Observe counts moved on by
that many), how many of those made around the run never reached the server (NON
notifications the server's socket had no room for), notifications per second made, the client
process's CPU time per notification (``time.process_time``: user and system, so the
kernel's socket work is in it, and so are the meter model's tick and readings, printed
apart below the table, and the adapter's wake-ups) and its CPU use over the run; the
server's CPU use shows whether it kept up.

Memory per observation, measured before the runs: the resident set size of the client
process before and after the server observed every meter (pages the allocator took
from the system, so coarse; a Read of every meter before it has already written into
the clients' preallocated buffers), then, after the server cancelled those observations with
Observe=1, ``tracemalloc`` over a second round of Observe requests: the bytes the
lwm2m_client modules still hold afterwards, per observation, split into the
observation itself (observe.py) and the rest (mostly the duplicate-detection entry of
the Observe request, which holds its encoded answer for EXCHANGE_LIFETIME, 247 s).

Run: ``python bench/bench_notify.py [--clients N] [--seconds S] [--format CF]``
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing
import os
import random
import sys
import time
import tracemalloc
from multiprocessing.connection import Connection
from typing import Any, Callable, Dict, List, Optional, Tuple, cast

from common import answer_registration, machine

from lwm2m_client.aio.udp import UdpClient
from lwm2m_client.core.client import events as ev
from lwm2m_client.core.client.engine import ClientConfig, ClientCore
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.coap import options as o
from lwm2m_client.core.content import CF_SENML_CBOR, CF_SENML_JSON, CF_TLV
from lwm2m_client.sim.meters import build_meter_tree

HOST = "127.0.0.1"
PATH = "/10243/0"
START_S = 1_700_000_000.0  # the meters' simulated start (Unix seconds)
WINDOW = 64  # server requests in flight at once
ANSWER_TIMEOUT_S = 2.0
SETTLE_S = 0.5  # after a run: let the last notifications reach the server
FORMAT_NAMES = {CF_SENML_CBOR: "SenML CBOR", CF_SENML_JSON: "SenML JSON", CF_TLV: "TLV"}


# -- the receiving server, in its own process -------------------------------------------

class Receiver(asyncio.DatagramProtocol):
    """Registrar, observer and notification counter for every client."""

    def __init__(self) -> None:
        self.transport: Optional[asyncio.DatagramTransport] = None
        self.clients: List[Any] = []  # addresses, in the order they registered
        self.known: set[Any] = set()
        self.registered = asyncio.Event()
        self.expected = 0
        self.mid = 0
        self.waiting: Dict[Tuple[Any, int], asyncio.Future[m.Message]] = {}
        self.notifications = 0
        self.confirmable = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def error_received(self, exc: Exception) -> None:
        pass

    def datagram_received(self, data: bytes, addr: Any) -> None:
        assert self.transport is not None
        if len(data) < 4:
            return
        mtype = (data[0] >> 4) & 3
        code = data[1]
        if code == m.CONTENT and mtype != m.ACK:
            # A notification: count it, acknowledge it when confirmable (RFC 7641 §4.5).
            self.notifications += 1
            if mtype == m.CON:
                self.confirmable += 1
                self.transport.sendto(bytes((0x60, 0, data[2], data[3])), addr)
            return
        if mtype == m.ACK:
            fut = self.waiting.pop((addr, data[2] << 8 | data[3]), None)
            if fut is not None and not fut.done():
                fut.set_result(m.decode(data))
            return
        reply = answer_registration(data)
        if reply is not None:
            self.transport.sendto(reply, addr)
            if addr not in self.known:
                self.known.add(addr)
                self.clients.append(addr)
                if len(self.clients) >= self.expected:
                    self.registered.set()

    async def _exchange(self, msg: m.Message, addr: Any) -> Optional[m.Message]:
        """One CON request, retransmitted with the same message ID when unanswered."""
        assert self.transport is not None
        self.mid = (self.mid + 1) & 0xFFFF
        msg.mid = self.mid
        data = m.to_bytes(msg)
        loop = asyncio.get_running_loop()
        for _ in range(4):
            fut = self.waiting[(addr, msg.mid)] = loop.create_future()
            self.transport.sendto(data, addr)
            try:
                return await asyncio.wait_for(fut, ANSWER_TIMEOUT_S)
            except asyncio.TimeoutError:
                self.waiting.pop((addr, msg.mid), None)
        return None

    async def fan_out(self, build: Callable[[int], m.Message],
                      ok: Callable[[m.Message], bool]) -> int:
        """Send ``build(i)`` to every client, WINDOW at a time; the number of answers
        ``ok`` accepts."""
        sem = asyncio.Semaphore(WINDOW)
        good = 0

        async def one(i: int, addr: Any) -> None:
            nonlocal good
            async with sem:
                answer = await self._exchange(build(i), addr)
            if answer is not None and ok(answer):
                good += 1

        await asyncio.gather(*(one(i, addr) for i, addr in enumerate(self.clients)))
        return good


def _token(i: int) -> bytes:
    return i.to_bytes(4, "big")


def _get(accept: int, observe: Optional[int]) -> Callable[[int], m.Message]:
    """GET /10243/0 on client i's own token: a Read (``observe`` None), an Observe (0)
    or its cancellation (1)."""
    def build(i: int) -> m.Message:
        msg = m.Message(m.CON, m.GET, 0, _token(i))
        msg.uri_path = PATH
        if observe is not None:
            msg.observe = observe
        msg.accept = accept
        return msg
    return build


def _write_attributes(query: Tuple[str, ...]) -> Callable[[int], m.Message]:
    def build(i: int) -> m.Message:
        msg = m.Message(m.CON, m.PUT, 0, b"\xaa")
        msg.uri_path = PATH
        for q in query:
            msg.add_option(o.URI_QUERY, q)
        return msg
    return build


def server_process(conn: Connection, expected: int) -> None:
    asyncio.run(_server_main(conn, expected))


async def _server_main(conn: Connection, expected: int) -> None:
    loop = asyncio.get_running_loop()
    transport, rx = await loop.create_datagram_endpoint(Receiver, local_addr=(HOST, 0))
    sock = transport.get_extra_info("socket")
    try:  # room for a burst of notifications from every client at once
        import socket
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    except OSError:
        pass
    rx.expected = expected
    conn.send(transport.get_extra_info("sockname")[1])
    while True:
        # The pipe is read in a worker thread so the event loop keeps receiving.
        command, *args = await loop.run_in_executor(None, conn.recv)
        if command == "registered":
            await asyncio.wait_for(rx.registered.wait(), 120)
            conn.send(len(rx.clients))
        elif command == "read":
            conn.send(await rx.fan_out(_get(args[0], None), lambda a: a.code == m.CONTENT))
        elif command == "observe":
            conn.send(await rx.fan_out(
                _get(args[0], 0), lambda a: a.code == m.CONTENT and a.observe is not None))
        elif command == "cancel":
            conn.send(await rx.fan_out(_get(args[0], 1), lambda a: a.code == m.CONTENT))
        elif command == "attributes":
            conn.send(await rx.fan_out(_write_attributes(tuple(args)),
                                       lambda a: a.code == m.CHANGED))
        elif command == "count":
            conn.send((rx.notifications, rx.confirmable, time.process_time()))
        else:
            transport.close()
            conn.send("stopped")
            return


class Server:
    """The parent's handle on the server process."""

    def __init__(self, clients: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=server_process, args=(child, clients), daemon=True)
        self.process.start()
        self.port = int(self.conn.recv())

    async def call(self, *command: Any) -> Any:
        loop = asyncio.get_running_loop()
        self.conn.send(command)
        return await loop.run_in_executor(None, self.conn.recv)

    async def stop(self) -> None:
        await self.call("stop")
        self.process.join(5)


# -- the clients, in this process ----------------------------------------------------------

class Meter:
    def __init__(self, i: int, port: int) -> None:
        endpoint = f"notify-{i:05d}"
        self.tree, self.model = build_meter_tree("electricity", endpoint,
                                                 f"coap://{HOST}:{port}", seed=i,
                                                 start_s=START_S)
        core = ClientCore(ClientConfig(endpoint), self.tree, random.Random(i))
        core.set_address(1, (HOST, port))  # resolved already: no lookup per client
        self.client = UdpClient(core, (HOST, 0), self._event)
        self.registered = False

    def _event(self, event: Any) -> None:
        if isinstance(event, ev.Registered):
            self.registered = True

    @property
    def observations(self) -> Any:
        return self.client.core.client.observations


def made(meters: List[Meter]) -> int:
    """Notifications made so far: the Observe counts of every observation."""
    return sum(obs.seq for meter in meters for obs in meter.observations.items)


def rss_bytes() -> int:
    """The resident set size of this process (Linux /proc; else the peak, from
    getrusage)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class Run:
    def __init__(self, name: str) -> None:
        self.name = name
        self.made = 0
        self.lost = 0
        self.elapsed = 0.0
        self.cpu = 0.0
        self.server_cpu = 0.0

    def line(self) -> str:
        rate = self.made / self.elapsed if self.elapsed else 0.0
        per = self.cpu / self.made * 1e6 if self.made else float("nan")
        return (f"{self.name:<16} {self.made:>9} {self.lost:>6} {rate:>9.0f} "
                f"{per:>9.1f} {self.cpu / self.elapsed * 100:>6.0f}% "
                f"{self.server_cpu / self.elapsed * 100:>6.0f}%")


HEADER = (f"{'run':<16} {'made':>9} {'lost':>6} {'notif/s':>9} {'CPU µs':>9} "
          f"{'client':>7} {'server':>7}\n"
          f"{'':<16} {'':>9} {'':>6} {'':>9} {'/notif':>9} {'CPU':>7} {'CPU':>7}")


def pending(meters: List[Meter]) -> bool:
    """True while a reported change still waits for its notification."""
    return any(obs.changed for meter in meters for obs in meter.observations.items)


async def measure(name: str, meters: List[Meter], server: Server,
                  drive: Callable[[float], Any], seconds: float) -> Run:
    """One run: rate and CPU over ``drive`` and the notifications its last changes
    cause; loss over a window from before it to after the stragglers arrived."""
    run = Run(name)
    received0, _, server_cpu0 = await server.call("count")
    window0 = made(meters)
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    await drive(seconds)
    end = time.perf_counter() + 2.0
    while pending(meters) and time.perf_counter() < end:
        await asyncio.sleep(0)
    run.elapsed = time.perf_counter() - t0
    run.cpu = time.process_time() - cpu0
    run.made = made(meters) - window0
    await asyncio.sleep(SETTLE_S)
    window1 = made(meters)
    received1, _, server_cpu1 = await server.call("count")
    run.lost = (window1 - window0) - (received1 - received0)
    run.server_cpu = server_cpu1 - server_cpu0
    return run


class SimTime:
    """The meters' simulated time: each wave of changes is one second later."""

    def __init__(self) -> None:
        self.now_s = START_S

    def next(self) -> float:
        self.now_s += 1.0
        return self.now_s


def model_cost(meters: List[Meter], sim: SimTime) -> float:
    """Seconds of CPU the meter model takes per meter and wave (a tick and the readings
    it computes), measured with nothing observed."""
    cpu0 = time.process_time()
    for _ in range(3):
        now_s = sim.next()
        for meter in meters:
            meter.model.tick(now_s)
            meter.model.readings()
    return (time.process_time() - cpu0) / (3 * len(meters))


def change_waves(meters: List[Meter], sim: SimTime) -> Callable[[float], Any]:
    async def drive(seconds: float) -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            now_s = sim.next()
            for meter in meters:
                # New readings: the model reports every computed resource as changed.
                meter.model.tick(now_s)
                meter.client.changed()
            # One pass of the event loop: the timers the changes set run (their
            # notifications go out) and the ACKs that came in are read.
            await asyncio.sleep(0)
    return drive


async def idle(seconds: float) -> None:
    await asyncio.sleep(seconds)


async def bench(args: argparse.Namespace) -> None:
    n = args.clients
    server = Server(n)
    rss_start = rss_bytes()
    meters = [Meter(i, server.port) for i in range(n)]
    try:
        t0 = time.perf_counter()
        await asyncio.gather(*(meter.client.start() for meter in meters))
        registered = await server.call("registered")
        while not all(meter.registered for meter in meters):
            await asyncio.sleep(0.05)
        setup_s = time.perf_counter() - t0
        sim = SimTime()
        model_s = model_cost(meters, sim)
        # One Read of /10243/0 each first: it writes into each client's preallocated
        # buffers and loads the codec, pages that are no cost of observing.
        assert await server.call("read", args.format) == n
        gc.collect()
        rss_registered = rss_bytes()

        # Memory per observation: RSS over a first round ...
        observed = await server.call("observe", args.format)
        gc.collect()
        rss_observed = rss_bytes()
        assert observed == n, f"{observed} of {n} observations set up"
        cancelled = await server.call("cancel", args.format)
        assert cancelled == n and made(meters) == 0
        # ... and tracemalloc over a second one.
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.take_snapshot()
        observed = await server.call("observe", args.format)
        gc.collect()
        after = tracemalloc.take_snapshot()
        tracemalloc.stop()
        assert observed == n and sum(len(mt.observations) for mt in meters) == n
        held: Dict[str, int] = {}
        for stat in after.compare_to(before, "filename"):
            name = stat.traceback[0].filename
            if "lwm2m_client" in name:
                key = "observe" if name.endswith("observe.py") else "other"
                held[key] = held.get(key, 0) + stat.size_diff

        print(f"{n} clients registered in {setup_s:.1f} s "
              f"(the server saw {registered} registrations)")
        print()
        print(f"{'memory':<44} {'bytes':>9}")
        print(f"{'RSS per registered client, after one Read':<44} "
              f"{(rss_registered - rss_start) / n:>9.0f}")
        print(f"{'RSS per observation':<44} {(rss_observed - rss_registered) / n:>9.0f}")
        total = held.get("observe", 0) + held.get("other", 0)
        print(f"{'tracemalloc per observation, lwm2m_client':<44} {total / n:>9.0f}")
        print(f"{'  of which the observation (observe.py)':<44} "
              f"{held.get('observe', 0) / n:>9.0f}")
        print(f"{'  of which the rest (dedup entry, ...)':<44} "
              f"{held.get('other', 0) / n:>9.0f}")
        print()

        runs = [await measure("changes, NON", meters, server, change_waves(meters, sim),
                              args.seconds)]
        assert await server.call("attributes", "con=1") == n
        runs.append(await measure("changes, CON", meters, server, change_waves(meters, sim),
                                  args.seconds))
        assert await server.call("attributes", "con", "pmax=1") == n
        runs.append(await measure("pmax=1 s, NON", meters, server, idle, args.seconds))
        print(HEADER)
        for run in runs:
            print(run.line())
        print(f"(the meter model's tick and readings, in the changes runs' CPU: "
              f"{model_s * 1e6:.1f} µs per meter and wave)")
    finally:
        await asyncio.gather(*(meter.client.stop(timeout=2.0) for meter in meters))
        await server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000, help="number of clients")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each run")
    parser.add_argument("--format", type=int, default=CF_SENML_CBOR,
                        choices=sorted(FORMAT_NAMES),
                        help="content format the server observes in (default SenML CBOR)")
    args = parser.parse_args()
    if args.clients < 1 or args.seconds <= 0:
        parser.error("--clients and --seconds must be positive")
    print(machine())
    print(f"{args.clients} clients (UdpClient, one process) on {HOST}; the server (another "
          f"process) observes {PATH} as {FORMAT_NAMES[args.format]}; runs of "
          f"{args.seconds:.1f} s")
    asyncio.run(bench(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
