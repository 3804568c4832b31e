"""Observations the server holds on a client (LwM2M Core 1.1 §6.4.1-6.4.4, RFC 7641).

An :class:`Observation` is an async iterator of notifications: each one is a
:class:`~lwm2m_client.server.response.Response` whose ``observe`` is the sequence number. The
answer to the Observe request itself (the first notification, RFC 7641 §3.1) is
:attr:`Observation.response` and is not repeated by the iterator.
"""

from __future__ import annotations

import asyncio
import collections
import warnings
from typing import Any, Deque, Optional

import aiocoap

from lwm2m_client.server.codec import Codec, Path
from lwm2m_client.server.response import Response

# Notifications nobody has read yet; the oldest are dropped beyond this, as observe is
# "eventually consistent" and only the newest state matters (RFC 7641 §1.3).
MAX_PENDING = 1024


class Observation:
    """One Observe (or Observe-Composite) relationship with a registered client."""

    def __init__(self, endpoint: str, path: Path, request: Any, response: Response,
                 codec: Codec, composite: bool = False) -> None:
        self.endpoint = endpoint
        self.path = path
        self.composite = composite
        self.response = response
        self._codec = codec
        self._request = request
        self._pending: Deque[Optional[Response]] = collections.deque(maxlen=MAX_PENDING)
        self._wakeup = asyncio.Event()
        self.active = response.ok and response.observe is not None
        if self.active:
            # aiocoap's own async iterator keeps only the newest notification; callbacks
            # see every one, so nothing is lost between two reads of a slow consumer.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                request.observation.register_callback(self._on_notification)
                request.observation.register_errback(self._on_error)
        else:
            self._pending.append(None)

    def _on_notification(self, message: aiocoap.Message) -> None:
        notification = Response.from_message(message, self.path, self._codec)
        self._pending.append(notification)
        self._wakeup.set()
        if not notification.ok:
            # A non-2.xx notification ends the observation (RFC 7641 §3.2).
            self._finish()

    def _on_error(self, exc: Exception) -> None:
        self._finish()

    def _finish(self) -> None:
        if self.active:
            self.active = False
            self._pending.append(None)
            self._wakeup.set()

    def cancel(self) -> None:
        """Forget the observation locally.

        aiocoap cannot repeat the original token, which a GET with Observe=1 would need,
        so the client learns of the cancellation from an RST (RFC 7641 §3.6; LwM2M
        Transport 1.1 §6.4.5 allows both ways). aiocoap still acknowledges the first
        notification after the cancellation and resets the one after it.
        """
        if self.active:
            observation = self._request.observation
            if not observation.cancelled:
                observation.cancel()
            self._finish()

    def __aiter__(self) -> Observation:
        return self

    async def __anext__(self) -> Response:
        while not self._pending:
            self._wakeup.clear()
            await self._wakeup.wait()
        item = self._pending.popleft()
        if item is None:
            self._pending.appendleft(None)  # stay ended for every later call
            raise StopAsyncIteration
        return item

    async def next(self, timeout: Optional[float] = None) -> Response:
        """The next notification; TimeoutError after ``timeout`` seconds, StopAsyncIteration
        when the observation has ended."""
        try:
            return await asyncio.wait_for(self.__anext__(), timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"no notification for {self.endpoint} within {timeout}s") from None

    def __repr__(self) -> str:
        state = "active" if self.active else "ended"
        return f"<Observation {self.endpoint} {self.path} {state}>"
