"""Fixtures for the OMA ETS 1.1 conformance cases; the rig itself is in ets_rig.py."""

from __future__ import annotations

from typing import Any, AsyncIterator, Awaitable, Callable, List

import pytest
from ets_rig import ENDPOINT, RecordingServer, Rig

Start = Callable[..., Awaitable[Rig]]


@pytest.fixture
async def ets() -> AsyncIterator[Start]:
    """``await ets(lifetime=..., version=..., block_size=..., **server_options)`` -> a
    registered Rig.

    Each call starts its own embedded server and client; both are closed afterwards
    (without De-register: the server goes away with them).
    """
    rigs: List[Rig] = []
    servers: List[RecordingServer] = []

    async def start(lifetime: int = 86400, version: str = "1.1", block_size: int = 512,
                    **server_options: Any) -> Rig:
        server_options.setdefault("request_timeout", 5.0)
        server = RecordingServer(**server_options)
        await server.start()
        servers.append(server)
        rig = Rig(server, lifetime, version, block_size)
        rigs.append(rig)
        await rig.client.start()
        await server.wait_registered(ENDPOINT)
        return rig

    yield start
    for rig in rigs:
        for client in rig.clients:
            client.close()
    for server in servers:
        await server.stop()
