"""The client on a MicroPython UDP socket inside an application's ``asyncio`` loop.

::

    client = AsyncMpClient(core)
    await client.start()         # resolves, binds, registers; serves in two tasks
    ...                          # the application's own tasks run alongside
    await client.stop()          # de-registers

Same wiring as :class:`~lwm2m_client.mp.udp.MpClient` (which it uses for the socket, the
reading and the sending); only the waiting differs: a reader task sleeps until the socket
is readable, a timer task until the core's next deadline or until the reader says that
the deadline may have moved.
"""

import asyncio
from asyncio import core as _aio_core

from lwm2m_client.mp.udp import MpClient


def _readable(sock):
    # MicroPython's asyncio parks a task on its I/O queue this way (its own streams do).
    yield _aio_core._io_queue.queue_read(sock)


class AsyncMpClient:
    """Runs ``core`` on a UDP socket in the running asyncio loop; arguments as for
    :class:`~lwm2m_client.mp.udp.MpClient`."""

    def __init__(self, core, local_port=0, clock=None, on_event=None, on_tick=None):
        # The socket stays open in queue mode: the loop's reader task waits on it.
        self.loop_client = MpClient(core, local_port, clock, on_event, on_tick,
                                    close_when_asleep=False)
        self.core = core
        self._wake = asyncio.Event()
        self._tasks = []

    def __repr__(self):
        return "<AsyncMpClient %s>" % self.core.config.endpoint

    async def start(self):
        self.loop_client.start()
        self._tasks = [asyncio.create_task(self._read()), asyncio.create_task(self._time())]

    async def stop(self, timeout_ms=5000):
        """De-register (waiting up to ``timeout_ms``), then close the socket."""
        client = self.loop_client
        if client.sock is None:
            return
        self.core.stop(client.clock.now_ms())
        client._flush()
        end = client.clock.now_ms() + timeout_ms
        while self.core.deregistering() and client.clock.now_ms() < end:
            self._wake.set()
            await asyncio.sleep_ms(10)
        self.close()

    def close(self):
        """Close at once, without De-register."""
        for task in self._tasks:
            task.cancel()
        self._tasks = []
        self.loop_client.close()

    async def _read(self):
        client = self.loop_client
        while client.sock is not None:
            await _readable(client.sock)
            client._receive_all()
            client._flush()
            self._wake.set()  # an answer may have moved the core's deadline

    async def _time(self):
        client = self.loop_client
        while client.sock is not None:
            try:
                await asyncio.wait_for_ms(self._wake.wait(), client.wait_ms())
            except asyncio.TimeoutError:
                pass
            self._wake.clear()
            if client.sock is None:
                return
            client.wake_up()
