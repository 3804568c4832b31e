"""Lean asyncio adapter: one UDP socket and one timer per client, the core's own CoAP.

This is the adapter the fleet simulator runs by the thousand, so it owns no task of
its own: the socket's ``datagram_received`` and a single ``loop.call_at`` timer drive
the core, and the clock is read once per wake-up (DESIGN.md section 3.2).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Optional, Tuple

from lwm2m_client.aio.common import Addr, EventCallback, dispatch_events, normalise
from lwm2m_client.core.client.engine import ClientCore

log = logging.getLogger("lwm2m_client.udp")


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, runner: UdpClient) -> None:
        self.runner = runner

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.runner._receive(data, normalise(addr))

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable and the like: CoAP retransmission deals with loss.
        log.debug("%s: socket error %s", self.runner.core.config.endpoint, exc)


class UdpClient:
    """Runs ``core`` over a UDP socket bound to ``local_addr``.

    ``on_event`` receives every core event (after it was logged). ``await start()``
    binds and starts registration; ``await stop()`` de-registers (waiting up to
    ``timeout`` seconds for the answers) and closes the socket.
    """

    def __init__(self, core: ClientCore, local_addr: Tuple[str, int] = ("127.0.0.1", 0),
                 on_event: Optional[EventCallback] = None) -> None:
        self.core = core
        self.local_addr = local_addr
        self.on_event = on_event
        self.transport: Optional[asyncio.DatagramTransport] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._timer: Optional[asyncio.TimerHandle] = None
        self._timer_at: Optional[int] = None
        self._changed = asyncio.Event()

    @property
    def address(self) -> Addr:
        assert self.transport is not None, "not started"
        return normalise(self.transport.get_extra_info("sockname"))

    def now_ms(self) -> int:
        assert self._loop is not None
        return int(self._loop.time() * 1000)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.transport, _ = await self._loop.create_datagram_endpoint(
            lambda: _Protocol(self), local_addr=self.local_addr)
        self.core.start(self.now_ms())
        self._pump()

    async def stop(self, timeout: float = 5.0) -> None:
        """De-register from every server, then close."""
        if self.transport is None:
            return
        self.core.stop(self.now_ms())
        self._pump()
        try:
            await asyncio.wait_for(self._all_settled(), timeout)
        except asyncio.TimeoutError:
            log.warning("%s: de-registration not confirmed within %.1f s",
                        self.core.config.endpoint, timeout)
        self.close()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.transport is not None:
            self.transport.close()
            self.transport = None

    async def wait_for(self, kind: type, timeout: float = 10.0) -> Any:
        """Wait for the next event of class ``kind`` (e.g. ``events.Registered``)."""
        found: list = []
        previous = self.on_event

        def watch(event: Any) -> None:
            if previous is not None:
                previous(event)
            if isinstance(event, kind) and not found:
                found.append(event)
                self._changed.set()

        self.on_event = watch
        try:
            while not found:
                self._changed.clear()
                await asyncio.wait_for(self._changed.wait(), timeout)
        finally:
            self.on_event = previous
        return found[0]

    # -- driving the core -----------------------------------------------------------

    def _receive(self, data: bytes, addr: Addr) -> None:
        self.core.receive_datagram(data, addr, self.now_ms())
        self._pump()

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = None
        self.core.handle_timer(self.now_ms())
        self._pump()

    def _pump(self) -> None:
        """Send what the core wants sent, hand out events, re-arm the one timer."""
        transport = self.transport
        if transport is None:
            return
        for data, addr in self.core.datagrams_to_send():
            transport.sendto(data, addr)
        dispatch_events(self.core, self.core.config.endpoint, self.on_event)
        self._changed.set()
        deadline = self.core.get_timer()
        if deadline == self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = deadline
        if deadline is not None:
            assert self._loop is not None
            self._timer = self._loop.call_at(deadline / 1000.0, self._on_timer)
        else:
            self._timer = None

    async def _all_settled(self) -> None:
        while self.core.deregistering():
            self._changed.clear()
            await self._changed.wait()

