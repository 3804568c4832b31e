"""What the embedded LwM2M Server and Bootstrap-Server share: an aiocoap server context
bound to ``host`` and a port, used as an async context manager."""

from __future__ import annotations

from typing import Optional, TypeVar

import aiocoap

_S = TypeVar("_S", bound="ContextServer")


class ContextServer:
    """A subclass sets ``host``, ``_port`` and ``_context`` in its ``start``."""

    host: str
    _port: Optional[int]
    _context: Optional[aiocoap.Context]
    _name = "server"

    async def start(self) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError

    async def __aenter__(self: _S) -> _S:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError(f"{self._name} not started")
        return self._port

    @property
    def uri(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"coap://{host}:{self.port}"

    @property
    def context(self) -> aiocoap.Context:
        if self._context is None:
            raise RuntimeError(f"{self._name} not started")
        return self._context
