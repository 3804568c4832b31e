"""Requests held for clients in queue mode (LwM2M Transport 1.1 section 6.5).

A client that registered with queue mode (``Q``, or ``UQ`` in 1.0) listens only for a
while after it last talked to the server. The server therefore sends a request only
while the client is awake -- within ``awake`` seconds of its last Register, Update or
Send -- and otherwise holds it until the client next announces itself with an Update.
Held requests go out one at a time, in the order they were made (the spec's "serial
fashion"); a request whose registration ends while it waits fails.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import AsyncIterator, Dict

from lwm2m_client.server.registry import Registration, Registry


class QueueModeHold:
    """Holds DM requests to sleeping queue-mode clients of one server."""

    def __init__(self, registry: Registry, awake: float) -> None:
        self.registry = registry
        self.awake = awake
        self._heard: Dict[str, float] = {}  # endpoint -> loop time last heard from
        self._wake: Dict[str, asyncio.Event] = {}
        self._turns: Dict[str, asyncio.Lock] = {}
        self._waiting: Dict[str, int] = {}

    def heard(self, reg: Registration) -> None:
        """The client ``reg`` sent a Register, an Update or a Send: it is awake."""
        loop = asyncio.get_running_loop()
        self._heard[reg.endpoint] = loop.time()
        event = self._wake.get(reg.endpoint)
        if event is not None:
            # After the answer to that message has gone out, as _publish_after_answer.
            loop.call_soon(event.set)

    def ended(self, reg: Registration) -> None:
        """``reg`` is gone: waiting requests wake up to fail."""
        self._heard.pop(reg.endpoint, None)
        event = self._wake.get(reg.endpoint)
        if event is not None:
            event.set()

    def held(self, endpoint: str) -> int:
        """How many requests to ``endpoint`` wait for it to wake up now."""
        return self._waiting.get(endpoint, 0)

    def is_awake(self, endpoint: str) -> bool:
        last = self._heard.get(endpoint)
        return last is not None and asyncio.get_running_loop().time() - last < self.awake

    @contextlib.asynccontextmanager
    async def turn(self, reg: Registration) -> AsyncIterator[Registration]:
        """Wait until the client is awake and no other held request to it is in
        flight; yields its current registration (its address may have changed on
        waking). Raises LookupError when the registration ended meanwhile."""
        endpoint = reg.endpoint
        lock = self._turns.setdefault(endpoint, asyncio.Lock())
        async with lock:
            current = await self._until_awake(reg)
            yield current

    async def _until_awake(self, reg: Registration) -> Registration:
        endpoint = reg.endpoint
        self._waiting[endpoint] = self._waiting.get(endpoint, 0) + 1
        try:
            while True:
                current = self.registry.by_endpoint(endpoint)
                if current is None or current.location != reg.location:
                    raise LookupError(f"{endpoint!r} is no longer registered")
                if self.is_awake(endpoint):
                    return current
                event = self._wake.setdefault(endpoint, asyncio.Event())
                event.clear()
                await event.wait()
        finally:
            self._waiting[endpoint] -= 1
