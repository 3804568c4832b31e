"""Deterministic test harness: a virtual clock and a virtual lossy datagram network.

Anything with the sans-IO shape (bytes and time in; bytes, deadlines and events out)
plugs in as a *node*. A node is any object with these four methods::

    receive(data, src, now_ms)      # a datagram arrived from address ``src``
    outgoing(now_ms) -> iterable    # drain datagrams to send: (data, dst) pairs
    timer() -> int | None           # next deadline in ms
    on_timer(now_ms)                # the deadline passed

``EndpointNode`` adapts a CoAP ``Endpoint``; a client core gets a similar few-line adapter.
``Simulation`` owns the clock and the network and runs every node until a condition holds.
The network draws loss, duplication and delay from its own seeded ``random.Random``, so
the same seed gives the same run, byte for byte.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Hashable, Iterable
from typing import Any, Protocol

from lwm2m_client.core.coap.events import RequestReceived
from lwm2m_client.core.coap.messaging import Endpoint

Addr = Hashable


class Node(Protocol):
    def receive(self, data: bytes, src: Addr, now_ms: int) -> None: ...
    def outgoing(self, now_ms: int) -> Iterable[tuple[bytes, Addr]]: ...
    def timer(self) -> int | None: ...
    def on_timer(self, now_ms: int) -> None: ...


class Sent:
    """One datagram handed to the network, and what the network did with it."""

    def __init__(self, time_ms: int, src: Addr, dst: Addr, data: bytes, fate: str):
        self.time_ms = time_ms
        self.src = src
        self.dst = dst
        self.data = data
        self.fate = fate  # "delivered", "lost", "duplicated" or "filtered"

    def __repr__(self) -> str:
        return f"<Sent t={self.time_ms} {self.src}->{self.dst} {self.fate} {self.data.hex()}>"


class VirtualNetwork:
    """Datagrams between addresses with random loss, duplication and delay.

    Each datagram is lost with probability ``loss``; a delivered one is duplicated with
    probability ``duplicate``; each copy takes a delay drawn uniformly from
    ``delay_ms`` = (low, high), so copies and neighbours arrive reordered whenever the
    range is wide. ``drop`` is an optional predicate ``(sent) -> bool`` for scripted
    losses ("lose the first ACK"). ``trace`` records every datagram.
    """

    def __init__(self, seed: int = 0, loss: float = 0.0, duplicate: float = 0.0,
                 delay_ms: tuple[int, int] = (5, 5),
                 drop: Callable[[Sent], bool] | None = None):
        self.rng = random.Random(seed)
        self.loss = loss
        self.duplicate = duplicate
        self.delay_ms = delay_ms
        self.drop = drop
        self.trace: list[Sent] = []
        self._queue: list[tuple[int, int, bytes, Addr, Addr]] = []
        self._seq = 0

    def send(self, data: bytes, src: Addr, dst: Addr, now_ms: int) -> None:
        sent = Sent(now_ms, src, dst, bytes(data), "delivered")
        self.trace.append(sent)
        if self.drop is not None and self.drop(sent):
            sent.fate = "filtered"
            return
        if self.rng.random() < self.loss:
            sent.fate = "lost"
            return
        copies = 1
        if self.rng.random() < self.duplicate:
            sent.fate = "duplicated"
            copies = 2
        for _ in range(copies):
            self._seq += 1
            at = now_ms + self.rng.randint(*self.delay_ms)
            heapq.heappush(self._queue, (at, self._seq, sent.data, src, dst))

    def next_time(self) -> int | None:
        return self._queue[0][0] if self._queue else None

    def pop_due(self, now_ms: int) -> list[tuple[bytes, Addr, Addr]]:
        due = []
        while self._queue and self._queue[0][0] <= now_ms:
            _, _, data, src, dst = heapq.heappop(self._queue)
            due.append((data, src, dst))
        return due

    def sent_by(self, src: Addr) -> list[Sent]:
        return [s for s in self.trace if s.src == src]


class Simulation:
    """A virtual clock driving nodes over a VirtualNetwork; no real time passes."""

    def __init__(self, network: VirtualNetwork | None = None, start_ms: int = 0):
        self.network = network or VirtualNetwork()
        self.now_ms = start_ms
        self.nodes: dict[Addr, Node] = {}

    def add(self, addr: Addr, node: Node) -> Node:
        self.nodes[addr] = node
        return node

    def flush(self) -> None:
        """Move every node's outgoing datagrams into the network."""
        for addr, node in self.nodes.items():
            for data, dst in node.outgoing(self.now_ms):
                self.network.send(data, addr, dst, self.now_ms)

    def next_time(self) -> int | None:
        times = [t for t in (node.timer() for node in self.nodes.values()) if t is not None]
        net = self.network.next_time()
        if net is not None:
            times.append(net)
        return min(times) if times else None

    def step(self) -> bool:
        """Advance to the next delivery or deadline and process it; False when idle."""
        self.flush()
        t = self.next_time()
        if t is None:
            return False
        self.now_ms = max(self.now_ms, t)
        for data, src, dst in self.network.pop_due(self.now_ms):
            node = self.nodes.get(dst)
            if node is not None:  # datagrams to unknown addresses vanish
                node.receive(data, src, self.now_ms)
        for node in list(self.nodes.values()):
            deadline = node.timer()
            if deadline is not None and deadline <= self.now_ms:
                node.on_timer(self.now_ms)
        self.flush()
        return True

    def run(self, until: Callable[[], bool] | None = None, max_ms: int = 10_000_000) -> bool:
        """Step until ``until()`` holds (True), or until idle / ``max_ms`` (False)."""
        limit = self.now_ms + max_ms
        while not (until is not None and until()):
            nxt = self.next_time()
            if nxt is None or nxt > limit or not self.step():
                return until is None
        return True


Handler = Callable[["EndpointNode", Any, int], None]


class EndpointNode:
    """Adapts a CoAP Endpoint to the node shape; records every event with its time.

    ``handler(node, event, now_ms)`` is called for each event; by default a
    RequestReceived is left unanswered (the test responds via ``node.endpoint``).
    """

    def __init__(self, endpoint: Endpoint, handler: Handler | None = None):
        self.endpoint = endpoint
        self.handler = handler
        self.events: list[tuple[int, Any]] = []

    def _dispatch(self, events: list[Any], now_ms: int) -> None:
        for event in events:
            self.events.append((now_ms, event))
            if self.handler is not None:
                self.handler(self, event, now_ms)

    def receive(self, data: bytes, src: Addr, now_ms: int) -> None:
        self._dispatch(self.endpoint.receive(data, src, now_ms), now_ms)

    def outgoing(self, now_ms: int) -> list[tuple[bytes, Addr]]:
        return self.endpoint.datagrams_to_send()

    def timer(self) -> int | None:
        return self.endpoint.get_timer()

    def on_timer(self, now_ms: int) -> None:
        self._dispatch(self.endpoint.handle_timer(now_ms), now_ms)

    def of_type(self, cls: type) -> list[Any]:
        return [e for _, e in self.events if isinstance(e, cls)]

    def requests(self) -> list[RequestReceived]:
        return self.of_type(RequestReceived)


class ClientNode:
    """Adapts a ``ClientCore`` to the node shape; records its events with their time.

    ``start_ms`` (when given) starts the core at that time on the first clock tick, so
    the client's first Register goes out through the simulation like any datagram.
    """

    def __init__(self, core: Any, start_ms: int | None = 0):
        self.core = core
        self.events: list[tuple[int, Any]] = []
        if start_ms is not None:
            core.start(start_ms)

    def _drain(self, now_ms: int) -> None:
        while True:
            event = self.core.next_event()
            if event is None:
                return
            self.events.append((now_ms, event))

    def receive(self, data: bytes, src: Addr, now_ms: int) -> None:
        self.core.receive_datagram(data, src, now_ms)
        self._drain(now_ms)

    def outgoing(self, now_ms: int) -> list[tuple[bytes, Addr]]:
        return self.core.datagrams_to_send()

    def timer(self) -> int | None:
        return self.core.get_timer()

    def on_timer(self, now_ms: int) -> None:
        self.core.handle_timer(now_ms)
        self._drain(now_ms)

    def of_type(self, cls: type) -> list[Any]:
        return [e for _, e in self.events if isinstance(e, cls)]

    def times_of(self, cls: type) -> list[int]:
        return [t for t, e in self.events if isinstance(e, cls)]
