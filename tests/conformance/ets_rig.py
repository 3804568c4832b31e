"""The rig for the OMA ETS 1.1 interoperability cases (OMA-ETS-LightweightM2M_INT).

Every case runs the real client core over the lean UDP adapter against the embedded
LwM2M server (aiocoap, an independent CoAP stack) on loopback. The device is the
ETS configuration C.4 (C.1 + C.3 + battery resources) with the values of the Device
example of LwM2M Core 1.2 section 7.4.5, so that reads can be compared byte for byte
with the specification's own vectors. Object 19
(BinaryAppDataContainer) stands in for the ETS's Portfolio object (16): it has the same
shape -- multiple instances, a writable multiple resource 0 -- and the project ships it.

The server records every request the client sends it, so a case can check the exact
Register / Update query and payload the ETS pass criteria name.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Any, Callable, List, Optional, Sequence, Tuple

import aiocoap
from spec_vectors import (
    DEVICE_LWM2M_CBOR_HEX,
    DEVICE_RECORDS,
    DEVICE_SENML_CBOR_HEX,
    DEVICE_SENML_JSON,
    DEVICE_TLV_HEX,
    DEVICE_TLV_OBJECT_HEX,
)

from lwm2m_client.aio.udp import UdpClient
from lwm2m_client.core.client import setup
from lwm2m_client.core.client.engine import ClientConfig, ClientCore
from lwm2m_client.core.dm.tree import ObjectTree
from lwm2m_client.models import shipped_objects
from lwm2m_client.server import LwM2MServer, Response, ServerEvent
from lwm2m_client.server.codec import PathLike, as_path

ENDPOINT = "ets-client"
SSID = 1

# Device values of the Core 1.2 section 7.4.5 example (TLV vector 1 of LWM2M-FACTS).
MANUFACTURER = "Open Mobile Alliance"
MODEL = "Lightweight M2M Client"
SERIAL = "345000123"
FIRMWARE = "1.0"
DEVICE_EXTRA = {6: {0: 1, 1: 5}, 7: {0: 3800, 1: 5000}, 8: {0: 125, 1: 900}, 9: 100,
                10: 15, 13: 1367491215, 14: "+02:00"}
# What a read of /3/0 must return: the example's values (tests/mp/spec_vectors.py).
DEVICE_VALUES = {path: value for path, _, value in DEVICE_RECORDS}
# Configuration C.3's Server object (SRV-EXT): SSID 1, lifetime, default pmin 1 and
# pmax 10, Disable Timeout 86400, Notification Storing false, Binding "U".
SERVER_VALUES = {
    (1, 0, 0): 1, (1, 0, 1): 86400, (1, 0, 2): 1, (1, 0, 3): 10, (1, 0, 5): 86400,
    (1, 0, 6): False, (1, 0, 7): "U", (1, 0, 23): False,
}
# The Portfolio stand-in: /19/0/0 holds four opaque resource instances.
BINARY_VALUES = {0: b"\x01\x02", 1: b"\x03", 2: b"", 3: b"\xff"}

# LWM2M-FACTS section 11: TLV vector 1 (/3/0, 121 B) and its /3 form, SenML CBOR /3/0
# (196 B), LwM2M CBOR /3/0 (118 B) and SenML JSON /3/0 (Core 1.2 sections 7.4.4-7.4.7).
TLV_3_0 = bytes.fromhex(DEVICE_TLV_HEX)
TLV_3 = bytes.fromhex(DEVICE_TLV_OBJECT_HEX)
SENML_CBOR_3_0 = bytes.fromhex(DEVICE_SENML_CBOR_HEX)
LWM2M_CBOR_3_0 = bytes.fromhex(DEVICE_LWM2M_CBOR_HEX)
SENML_JSON_3_0 = DEVICE_SENML_JSON.encode()
# /1/0 of configuration C.3 in TLV, resource by resource (derived, C1.1 section 7.4.3).
TLV_1_0 = bytes.fromhex("C10001" "C40100015180" "C10201" "C1030A" "C40500015180"
                        "C10600" "C10755" "C11700")  # ... and Mute Send /1/0/23 = false


@dataclass
class Received:
    """One request the client sent to the server, as it arrived."""

    method: str
    path: Tuple[str, ...]
    query: Tuple[str, ...]
    payload: bytes
    content_format: Optional[int]


class RecordingServer(LwM2MServer):
    """The embedded server, remembering every request that reaches it."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.received: List[Received] = []

    async def _handle(self, request: aiocoap.Message) -> aiocoap.Message:
        cf = request.opt.content_format
        self.received.append(Received(
            str(request.code).split(" ")[0], tuple(request.opt.uri_path),
            tuple(request.opt.uri_query), bytes(request.payload),
            None if cf is None else int(cf)))
        return await super()._handle(request)

    def registers(self) -> List[Received]:
        return [r for r in self.received if r.method == "POST" and r.path == ("rd",)]

    def updates(self) -> List[Received]:
        return [r for r in self.received
                if r.method == "POST" and len(r.path) == 2 and r.path[0] == "rd"]

    def deregisters(self) -> List[Received]:
        return [r for r in self.received if r.method == "DELETE" and r.path[:1] == ("rd",)]


def build_tree(reboot: Callable[[], None], lifetime: int) -> ObjectTree:
    """Configuration C.4 plus a Portfolio stand-in (see the module docstring)."""
    objects = shipped_objects()
    tree = ObjectTree([objects[oid] for oid in (0, 1, 3, 19)])
    # The URI is only stored here: the adapter is handed the server's address directly.
    setup.add_security(tree, 0, "coap://127.0.0.1:5683", ssid=SSID)
    setup.add_server(tree, 0, SSID, lifetime=lifetime, notification_storing=False,
                     default_pmin=1, default_pmax=10, disable_timeout=86400)
    setup.add_device(tree, MANUFACTURER, MODEL, SERIAL, FIRMWARE, reboot=reboot,
                     values=DEVICE_EXTRA)
    tree.create_instance(19, 0, {0: dict(BINARY_VALUES)})
    tree.drain_changes()
    return tree


class Rig:
    """One registered client and its server; what each ETS case drives."""

    def __init__(self, server: RecordingServer, lifetime: int, version: str,
                 block_size: int = 512) -> None:
        self.server = server
        self.version = version
        self.block_size = block_size
        self.reboots = 0
        self.tree = build_tree(self._reboot, lifetime)
        self.events: List[Any] = []  # client events, in order
        self.server_events: List[ServerEvent] = []
        server.add_listener(self.server_events.append)
        self.clients: List[UdpClient] = []
        self.core = self._new_core()
        self.client = UdpClient(self.core, on_event=self.events.append)
        self.clients.append(self.client)

    def _new_core(self) -> ClientCore:
        config = ClientConfig(ENDPOINT, version=self.version, block_size=self.block_size,
                              jitter=0.0)
        core = ClientCore(config, self.tree, random.Random(7))
        core.set_address(SSID, ("127.0.0.1", self.server.port))
        return core

    def _reboot(self) -> None:
        # The handler only schedules the restart: the 2.04 must leave first
        # (setup.add_device). A reboot loses the CoAP state, so a new core on a new
        # socket registers afresh with the same object tree, without De-register.
        self.reboots += 1
        asyncio.get_running_loop().call_soon(self._restart)

    def _restart(self) -> None:
        self.client.close()
        self.core = self._new_core()
        self.client = UdpClient(self.core, on_event=self.events.append)
        self.clients.append(self.client)
        asyncio.ensure_future(self.client.start())

    async def request(self, method: aiocoap.numbers.codes.Code, path: PathLike,
                      payload: bytes = b"", content_format: Optional[int] = None,
                      accept: Optional[int] = None, query: Sequence[str] = (),
                      observe: Optional[int] = None) -> Response:
        """Send exactly this request to the client (raw payload, any options)."""
        reg = self.server.registration(ENDPOINT)
        assert reg is not None, "client not registered"
        target = as_path(path)
        msg = aiocoap.Message(code=method, payload=payload,
                              uri_path=tuple(str(i) for i in target), uri_query=tuple(query))
        if content_format is not None:
            msg.opt.content_format = content_format
        if accept is not None:
            msg.opt.accept = accept
        if observe is not None:
            msg.opt.observe = observe
        msg.remote = reg.remote
        answer = await asyncio.wait_for(self.server.context.request(msg).response, 5)
        return Response.from_message(answer, target, self.server.codec)

    async def next_update(self) -> Received:
        """Wait for the server to accept the next Update; return that request."""
        await self.server.wait_updated(ENDPOINT)
        return self.server.updates()[-1]

    async def update_with(self, query: Tuple[str, ...], limit: int = 3) -> Received:
        """Wait for the Update carrying exactly ``query``; a periodic Update may come
        first on a short lifetime, so up to ``limit`` Updates are looked at."""
        for _ in range(limit):
            update = await self.next_update()
            if update.query == query:
                return update
        raise AssertionError(f"no Update with {query!r} among the last {limit}")

    def client_events(self, kind: type) -> List[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    def server_kinds(self) -> List[str]:
        return [e.kind for e in self.server_events]
