"""Lean asyncio adapter: one UDP socket and one timer per client, the core's own CoAP.

This is the adapter the fleet simulator runs by the thousand, so it owns no task of
its own: the socket's ``datagram_received`` and a single ``loop.call_at`` timer drive
the core, and the clock is read once per wake-up, the one time the core is given.

Queue mode (Transport 1.1 section 6.5): when the core says it is asleep the socket is
closed (a modem would switch its receiver off); the timer stays armed, and when the
core has something to send again the socket is opened anew -- on the same local port
when it is still free, else on a new one, which the core's wake-up Update announces.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Optional, Tuple

from lwm2m_client.aio.common import AdapterBase, Addr, EventCallback, normalise
from lwm2m_client.core.client.engine import ClientCore
from lwm2m_client.core.coap import message
from lwm2m_client.core.errors import DecodeError

log = logging.getLogger("lwm2m_client.udp")


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, runner: UdpClient) -> None:
        self.runner = runner

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.runner._receive(data, normalise(addr))

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable and the like: CoAP retransmission deals with loss.
        log.debug("%s: socket error %s", self.runner.core.config.endpoint, exc)


class UdpClient(AdapterBase):
    """Runs ``core`` over a UDP socket bound to ``local_addr``.

    ``on_event`` receives every core event (after it was logged). ``await start()``
    binds and starts registration; ``await stop()`` de-registers (waiting up to
    ``timeout`` seconds for the answers) and closes the socket.
    """

    core: ClientCore

    def __init__(self, core: ClientCore, local_addr: Tuple[str, int] = ("127.0.0.1", 0),
                 on_event: Optional[EventCallback] = None) -> None:
        super().__init__(core, local_addr, on_event)
        self.transport: Optional[asyncio.DatagramTransport] = None
        self.asleep = False  # the socket is closed while the core sleeps
        self.sleeps = 0  # how many times it was
        self._reopening: Optional[asyncio.Task[None]] = None
        self._last_local: Optional[Tuple[str, int]] = None

    @property
    def address(self) -> Addr:
        assert self.transport is not None, "not started"
        return normalise(self.transport.get_extra_info("sockname"))

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        await self._open(self.local_addr)
        try:
            await self._start_core()
        except BaseException:
            self.close()
            raise

    async def _open(self, local_addr: Tuple[str, int]) -> None:
        assert self._loop is not None
        self.transport, _ = await self._loop.create_datagram_endpoint(
            lambda: _Protocol(self), local_addr=local_addr)
        self._last_local = self.transport.get_extra_info("sockname")[:2]

    def close(self) -> None:
        self._cancel_timer()
        self.asleep = False
        if self._reopening is not None:
            self._reopening.cancel()
            self._reopening = None
        if self.transport is not None:
            self.transport.close()
            self.transport = None

    def _sleep(self) -> None:
        assert self.transport is not None
        self.transport.close()
        self.transport = None
        self.asleep = True
        self.sleeps += 1
        log.debug("%s: asleep, socket closed", self.core.config.endpoint)

    async def _wake(self) -> None:
        assert self._last_local is not None
        try:
            try:
                await self._open(self._last_local)
            except OSError:  # the port was taken meanwhile: a new one
                await self._open((self._last_local[0], 0))
        except OSError as exc:
            log.error("%s: cannot open a socket on waking: %s", self.core.config.endpoint,
                      exc)
            return
        finally:
            self._reopening = None
        self.asleep = False
        log.debug("%s: awake on %s", self.core.config.endpoint, self._last_local)
        self._pump()

    # -- driving the core -----------------------------------------------------------

    def _trace(self, arrow: str, data: bytes, addr: Addr) -> None:
        """Log one datagram at DEBUG (``lwm2m-meter client -v``)."""
        try:
            text = repr(message.decode(data))
        except DecodeError:
            text = f"<{len(data)} undecodable bytes>"
        log.debug("%s: %s %s:%d %s", self.core.config.endpoint, arrow, addr[0], addr[1], text)

    def _receive(self, data: bytes, addr: Addr) -> None:
        if log.isEnabledFor(logging.DEBUG):
            self._trace("<-", data, addr)
        self.core.receive_datagram(data, addr, self.now_ms())
        self._pump()

    def _running(self) -> bool:
        return self.transport is not None or self.asleep

    def _flush(self) -> None:
        if self.transport is None:
            # Asleep: the core's datagrams wait in its queue until the socket is back.
            if not self.core.asleep and self._reopening is None:
                self._reopening = asyncio.ensure_future(self._wake())
            return
        for data, addr in self.core.datagrams_to_send():
            if log.isEnabledFor(logging.DEBUG):
                self._trace("->", data, addr)
            self.transport.sendto(data, addr)
        if self.core.asleep:
            self._sleep()
