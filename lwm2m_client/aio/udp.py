"""Lean asyncio adapter: one UDP socket and one timer per client, the core's own CoAP.

This is the adapter the fleet simulator runs by the thousand, so it owns no task of
its own: the socket's ``datagram_received`` and a single ``loop.call_at`` timer drive
the core, and the clock is read once per wake-up, the one time the core is given.
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

    @property
    def address(self) -> Addr:
        assert self.transport is not None, "not started"
        return normalise(self.transport.get_extra_info("sockname"))

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.transport, _ = await self._loop.create_datagram_endpoint(
            lambda: _Protocol(self), local_addr=self.local_addr)
        try:
            await self._start_core()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        self._cancel_timer()
        if self.transport is not None:
            self.transport.close()
            self.transport = None

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
        return self.transport is not None

    def _flush(self) -> None:
        assert self.transport is not None
        for data, addr in self.core.datagrams_to_send():
            if log.isEnabledFor(logging.DEBUG):
                self._trace("->", data, addr)
            self.transport.sendto(data, addr)
