"""One client on the lean UDP adapter over real loopback sockets: requests/s and latency.

The client (a three-phase meter: objects 0, 1, 3, 4, 10242) runs ``UdpClient`` in a
child process of its own, so the load generator does not share its CPU; the child
reports its CPU time, which gives the client's CPU cost per request including the
kernel's socket work.

Two load generators, one after the other, each with its own freshly registered client:

``raw UDP``
    A minimal asyncio UDP endpoint in this process that is the client's LwM2M server:
    it answers the Register with 2.01 (the client ignores requests from any address it
    is not registered with, Core 1.1 §6.3), then sends CON GET requests built once with
    the core's CoAP codec, patching only message ID and token, and keeps K of them in
    flight. A response is matched by its message ID; nothing else is parsed, so the
    generator stays much cheaper than the client.
``aiocoap server``
    The embedded LwM2MServer (aiocoap): K tasks calling ``server.read`` in a loop, for
    comparison; here the server side is usually the bottleneck.

K=1 gives the round-trip latency; K=8 and K=16 the throughput. Each run lasts at most
``--seconds`` and ``--number`` requests. A request not answered within one second is
counted as lost and replaced; lost requests and answers other than 2.05 make the
``failed`` column. Only loopback addresses are used.

Run: ``python bench/bench_loopback.py [--seconds S] [--number N] [--concurrency 1,8,16]``
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import time
from multiprocessing.connection import Connection
from typing import Any, cast

from common import answer_registration, machine, meter_core, percentile

from lwm2m_client.aio.udp import UdpClient
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.content import CF_TEXT
from lwm2m_client.server import LwM2MServer

HOST = "127.0.0.1"
LOST_AFTER_NS = 1_000_000_000
WARMUP_S = 0.3


# -- the client, in its own process ---------------------------------------------------

def client_process(conn: Connection, endpoint: str, block_size: int) -> None:
    """Child process: wait for the server address, run the client until told to stop,
    answering CPU-time queries in between."""
    _, uri, port = conn.recv()
    asyncio.run(_client_main(conn, endpoint, uri, (HOST, port), block_size))


async def _client_main(conn: Connection, endpoint: str, uri: str, addr: tuple[str, int],
                       block_size: int) -> None:
    client = UdpClient(meter_core(endpoint, uri, addr, block_size))
    await client.start()
    loop = asyncio.get_running_loop()
    while True:
        # The pipe is read in a worker thread so the event loop keeps serving requests.
        command = await loop.run_in_executor(None, conn.recv)
        if command == "cpu":
            conn.send(time.process_time())
        else:
            break
    await client.stop(timeout=2.0)
    conn.send("stopped")


class Client:
    """The parent's handle on the client process."""

    def __init__(self, endpoint: str, block_size: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.endpoint = endpoint
        self.process = ctx.Process(target=client_process, args=(child, endpoint, block_size),
                                   daemon=True)
        self.process.start()

    def connect(self, uri: str, port: int) -> None:
        self.conn.send(("start", uri, port))

    async def cpu(self) -> float:
        loop = asyncio.get_running_loop()
        self.conn.send("cpu")
        return float(await loop.run_in_executor(None, self.conn.recv))

    async def stop(self) -> None:
        loop = asyncio.get_running_loop()
        self.conn.send("stop")
        await loop.run_in_executor(None, self.conn.recv)
        self.process.join(5)


class Run:
    """What one measurement collected."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.latencies_us: list[float] = []
        self.lost = 0
        self.errors = 0
        self.elapsed = 0.0
        self.cpu = 0.0

    def line(self, label: str) -> str:
        lat = sorted(self.latencies_us)
        n = len(lat)
        rate = n / self.elapsed if self.elapsed else 0.0
        cpu = self.cpu / n * 1e6 if n else float("nan")
        return (f"{label:<15} {self.k:>3} {n:>8} {rate:>9.0f} {percentile(lat, 0.5):>9.0f} "
                f"{percentile(lat, 0.99):>9.0f} {cpu:>10.1f} {self.lost + self.errors:>6}")


HEADER = (f"{'generator':<15} {'K':>3} {'answers':>8} {'req/s':>9} {'p50 µs':>9} "
          f"{'p99 µs':>9} {'client CPU':>10} {'failed':>6}\n"
          f"{'':<57}{'µs/req':>10}")


# -- the raw UDP load generator -------------------------------------------------------

class RawGenerator(asyncio.DatagramProtocol):
    """The client's registrar and a CON GET sender with K requests in flight."""

    def __init__(self, template: bytes) -> None:
        self.template = template
        self.transport: asyncio.DatagramTransport | None = None
        self.client_addr: Any = None
        self.registered = asyncio.Event()
        self.mid = 0
        self.sent: dict[int, int] = {}  # MID -> send time, ns
        self.run: Run | None = None
        self.remaining = 0
        self.deadline_ns = 0
        self.done: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: Any) -> None:
        assert self.transport is not None
        if len(data) >= 4 and (data[0] >> 4) & 3 == m.ACK:
            self._answered(data)
            return
        reply = answer_registration(data)
        if reply is not None:
            self.transport.sendto(reply, addr)
            self.client_addr = addr
            self.registered.set()

    def _answered(self, data: bytes) -> None:
        sent_ns = self.sent.pop(data[2] << 8 | data[3], None)
        if sent_ns is None or self.run is None:
            return  # an answer to a request already counted as lost
        if data[1] == m.CONTENT:
            self.run.latencies_us.append((time.perf_counter_ns() - sent_ns) / 1000)
        else:
            self.run.errors += 1
        self._fire()

    def _fire(self) -> None:
        """Send one more request if the run has budget left, else finish when idle."""
        now = time.perf_counter_ns()
        if self.remaining > 0 and now < self.deadline_ns:
            self.remaining -= 1
            mid = self.mid = (self.mid + 1) & 0xFFFF
            data = bytearray(self.template)
            # Message ID and the 2-byte token (RFC 7252 §3): every request is distinct.
            data[2] = data[4] = mid >> 8
            data[3] = data[5] = mid & 0xFF
            self.sent[mid] = now
            assert self.transport is not None
            self.transport.sendto(data, self.client_addr)
        elif not self.sent and self.done is not None and not self.done.done():
            self.done.set_result(None)

    async def measure(self, k: int, seconds: float, number: int) -> Run:
        run = self.run = Run(k)
        self.remaining = number
        self.done = asyncio.get_running_loop().create_future()
        start = time.perf_counter_ns()
        self.deadline_ns = start + int(seconds * 1e9)
        for _ in range(k):
            self._fire()
        while not self.done.done():
            await asyncio.wait([self.done], timeout=0.25)
            self._expire()
        run.elapsed = (time.perf_counter_ns() - start) / 1e9
        return run

    def _expire(self) -> None:
        """Requests unanswered for a second count as lost; others take their place."""
        assert self.run is not None
        limit = time.perf_counter_ns() - LOST_AFTER_NS
        for mid in [mid for mid, t in self.sent.items() if t < limit]:
            del self.sent[mid]
            self.run.lost += 1
            self._fire()


def get_template(path: str, cf: int) -> bytes:
    """A CON GET with a 2-byte token, encoded by the core's codec (RFC 7252 §3)."""
    msg = m.Message(m.CON, m.GET, 0, b"\x00\x00")
    msg.uri_path = path
    msg.accept = cf
    return m.to_bytes(msg)


async def raw_udp(args: argparse.Namespace) -> list[Run]:
    loop = asyncio.get_running_loop()
    template = get_template(args.path, args.format)
    transport, gen = await loop.create_datagram_endpoint(
        lambda: RawGenerator(template), local_addr=(HOST, 0))
    port = transport.get_extra_info("sockname")[1]
    client = Client("bench-raw", args.block_size)
    client.connect(f"coap://{HOST}:{port}", port)
    try:
        await asyncio.wait_for(gen.registered.wait(), 30)
        await gen.measure(1, WARMUP_S, args.number)
        runs = []
        for k in args.concurrency:
            before = await client.cpu()
            run = await gen.measure(k, args.seconds, args.number)
            run.cpu = await client.cpu() - before
            runs.append(run)
    finally:
        await client.stop()
        transport.close()
    return runs


# -- the embedded aiocoap server as the load generator ------------------------------

async def server_reads(server: LwM2MServer, endpoint: str, args: argparse.Namespace,
                       k: int, seconds: float) -> Run:
    run = Run(k)
    budget = [args.number]
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        while budget[0] > 0 and time.perf_counter() < deadline:
            budget[0] -= 1
            t0 = time.perf_counter_ns()
            try:
                response = await asyncio.wait_for(
                    server.read(endpoint, args.path, format=args.format), 1.0)
            except asyncio.TimeoutError:
                run.lost += 1
                continue
            if response.code_int == m.CONTENT:
                run.latencies_us.append((time.perf_counter_ns() - t0) / 1000)
            else:
                run.errors += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(k)))
    run.elapsed = time.perf_counter() - start
    return run


async def via_aiocoap(args: argparse.Namespace) -> list[Run]:
    endpoint = "bench-aiocoap"
    async with LwM2MServer(HOST) as server:
        client = Client(endpoint, args.block_size)
        client.connect(server.uri, server.port)
        try:
            await server.wait_registered(endpoint, timeout=30)
            first = await server.read(endpoint, args.path, format=args.format)
            if first.code_int != m.CONTENT or not first.values:
                raise RuntimeError(f"read {args.path} answered {first.code_int:#x}")
            await server_reads(server, endpoint, args, 1, WARMUP_S)
            runs = []
            for k in args.concurrency:
                before = await client.cpu()
                run = await server_reads(server, endpoint, args, k, args.seconds)
                run.cpu = await client.cpu() - before
                runs.append(run)
        finally:
            await client.stop()
    return runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="time limit of each run")
    parser.add_argument("--number", type=int, default=100_000,
                        help="request limit of each run")
    parser.add_argument("--concurrency", default="1,8,16",
                        help="requests in flight, one run each (comma-separated)")
    parser.add_argument("--path", default="/10242/0", help="what the generators read")
    parser.add_argument("--format", type=int, default=11542,
                        help="Accept content format (default TLV; 0 is plain text)")
    parser.add_argument("--block-size", type=int, default=1024, help="client block size")
    parser.add_argument("--skip-aiocoap", action="store_true",
                        help="only the raw UDP generator")
    args = parser.parse_args()
    args.concurrency = [int(k) for k in args.concurrency.split(",")]
    if args.format == CF_TEXT and args.path.count("/") != 3:
        parser.error("plain text carries a single resource: give --path /o/i/r")

    print(machine())
    print(f"one client (UdpClient, own process) on {HOST}; GET {args.path} Accept "
          f"{args.format}; runs of at most {args.seconds:.1f} s / {args.number} requests")
    print(HEADER)
    for run in asyncio.run(raw_udp(args)):
        print(run.line("raw UDP"))
    if not args.skip_aiocoap:
        for run in asyncio.run(via_aiocoap(args)):
            print(run.line("aiocoap server"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
