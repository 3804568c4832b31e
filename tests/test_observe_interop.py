"""Observe/notify with an independent CoAP stack: libcoap's ``coap-client``.

The client runs on the lean adapter (``UdpClient``: the core's own CoAP layer) over
real loopback UDP. It answers only a server it is registered with (Core 1.1 section
6.3), so each test first registers it with a minimal registrar, a UDP socket in the test
bound to a loopback port that acknowledges the Register with 2.01 and a Location-Path
(and may send a Write-Attributes). The registrar then closes its socket and
``coap-client -p <that port>`` takes the port over: to the client, libcoap's requests
come from its server. ``coap-client -s 5`` observes for five seconds, prints every
notification (``-v 7`` dumps each PDU received, with its Observe value and payload), and
when the time is up cancels with a GET carrying Observe=1 (libcoap 4.3), which must
leave the client's observation store empty.

Debian's libcoap3-bin (installed by .ci/setup.sh) names the binary
``coap-client-notls`` (and -gnutls, -openssl); a plain ``coap-client`` is used where
that is all there is.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import shutil
from typing import Any, Callable, List, Optional, Sequence, Tuple

import pytest

from lwm2m_client.aio.udp import UdpClient
from lwm2m_client.core.client import setup
from lwm2m_client.core.client.engine import ClientConfig, ClientCore
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.coap import options as o
from lwm2m_client.core.dm.tree import ObjectTree
from lwm2m_client.models import shipped_objects

COAP_CLIENT = shutil.which("coap-client-notls") or shutil.which("coap-client")

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(COAP_CLIENT is None, reason="libcoap's coap-client is not installed "
                       "(Debian package libcoap3-bin; .ci/setup.sh installs it)"),
]

HOST = "127.0.0.1"
POWER = (3305, 0, 5800)  # Instantaneous active power, Float, R
CURRENT_TIME = (3, 0, 13)
LOCATION = ["rd", "interop"]
OBSERVE_S = 5
# Generous limits: the suite runs on a shared two-core machine.
WAIT_S = 20.0
PROCESS_TIMEOUT_S = 60.0


class Registrar(asyncio.DatagramProtocol):
    """Acknowledges the client's Register (2.01 + Location-Path) and sends the odd CON
    request of its own (answer matched by message ID, retransmitted when lost)."""

    def __init__(self) -> None:
        self.transport: Optional[asyncio.DatagramTransport] = None
        self.client_addr: Any = None
        self.mid = 0x7000
        self.waiting: dict[int, asyncio.Future[m.Message]] = {}
        self.closed = asyncio.Event()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Optional[Exception]) -> None:
        self.closed.set()  # the socket is closed now, not at close()

    def error_received(self, exc: Exception) -> None:
        pass

    def datagram_received(self, data: bytes, addr: Any) -> None:
        assert self.transport is not None
        try:
            msg = m.decode(data)
        except m.CoapDecodeError:
            return
        if msg.mtype == m.ACK:
            fut = self.waiting.pop(msg.mid, None)
            if fut is not None and not fut.done():
                fut.set_result(msg)
        elif msg.mtype == m.CON and msg.code == m.POST and msg.uri_path == "/rd":
            answer = m.Message(m.ACK, m.CREATED, msg.mid, msg.token)
            answer.location_path = LOCATION
            self.client_addr = addr
            self.transport.sendto(m.to_bytes(answer), addr)

    async def write_attributes(self, path: str, *query: str) -> int:
        assert self.transport is not None and self.client_addr is not None
        self.mid += 1
        msg = m.Message(m.CON, m.PUT, self.mid, b"\x3a")
        msg.uri_path = path
        for q in query:
            msg.add_option(o.URI_QUERY, q)
        fut = self.waiting[self.mid] = asyncio.get_running_loop().create_future()
        for _ in range(6):
            self.transport.sendto(m.to_bytes(msg), self.client_addr)
            done, _ = await asyncio.wait([fut], timeout=2.0)
            if done:
                return fut.result().code
        raise AssertionError(f"no answer to Write-Attributes {path}")


class Device:
    """A registered client whose server port is free again for coap-client."""

    def __init__(self, client: UdpClient, tree: ObjectTree, server_port: int) -> None:
        self.client = client
        self.tree = tree
        self.server_port = server_port

    @property
    def store(self) -> Any:
        return self.client.core.client.observations

    def uri(self, path: str) -> str:
        return f"coap://{HOST}:{self.client.address[1]}{path}"


Prepare = Callable[[Registrar], Any]
Configure = Callable[[ObjectTree], None]


@pytest.fixture
async def device_factory():
    devices: List[Device] = []

    async def start(default_pmax: Optional[int] = None, configure: Optional[Configure] = None,
                    prepare: Optional[Prepare] = None) -> Device:
        """A registered client; ``configure(tree)`` runs before it starts, ``await
        prepare(registrar)`` once it is registered, before the registrar closes."""
        loop = asyncio.get_running_loop()
        transport, registrar = await loop.create_datagram_endpoint(
            Registrar, local_addr=(HOST, 0))
        port = transport.get_extra_info("sockname")[1]
        try:
            objects = shipped_objects()
            tree = ObjectTree([objects[oid] for oid in (0, 1, 3, 3305)])
            setup.add_security(tree, 0, f"coap://{HOST}:{port}", ssid=1)
            # A long lifetime: no Update goes to the port while coap-client holds it.
            setup.add_server(tree, 0, 1, lifetime=3600, default_pmax=default_pmax)
            setup.add_device(tree, "ACME", "M1", "SN1", "1.0")
            tree.create_instance(3305, 0, {5800: 1.0})
            if configure is not None:
                configure(tree)
            tree.drain_changes()
            core = ClientCore(ClientConfig("interop-1", jitter=0), tree, random.Random(11))
            client = UdpClient(core, (HOST, 0))
            await client.start()
            devices.append(Device(client, tree, port))
            deadline = loop.time() + WAIT_S
            while not core.serves((HOST, port)):
                assert loop.time() < deadline, "the client did not register"
                await asyncio.sleep(0.02)
            if prepare is not None:
                await prepare(registrar)
        finally:
            transport.close()  # the port is coap-client's from here on
            await asyncio.wait_for(registrar.closed.wait(), WAIT_S)
        return devices[-1]

    yield start
    for device in devices:
        device.client.close()


# -- coap-client and what it prints ----------------------------------------------------

# One PDU as libcoap 4.3 dumps it at verbosity 7, e.g.
#   v:1 t:NON c:2.05 i:2268 {01} [ Observe:2, Content-Format:text/plain ] :: '2.0'
# A payload it takes for binary follows on its own line as <<hex>>.
PDU = re.compile(r"^v:1 t:(CON|NON|ACK|RST) c:(\S+) i:([0-9a-f]+) \{([0-9a-f]*)\} "
                 r"\[(.*?)\](?: :: (.*))?$")
HEX = re.compile(r"^<<([0-9a-f]*)>>$")


class Pdu:
    def __init__(self, mtype: str, code: str, mid: int, options: str, payload: bytes):
        self.mtype = mtype
        self.code = code
        self.mid = mid
        self.options = options
        self.payload = payload

    @property
    def observe(self) -> Optional[int]:
        found = re.search(r"\bObserve:(\d+)", self.options)
        return None if found is None else int(found.group(1))

    def __repr__(self) -> str:
        return f"<{self.mtype} {self.code} {self.mid:#x} [{self.options}] {self.payload!r}>"


def received(output: str) -> List[Pdu]:
    """The 2.05 responses and notifications coap-client dumped, in order."""
    lines = output.splitlines()
    out = []
    for i, line in enumerate(lines):
        found = PDU.match(line.strip())
        if found is None or found.group(2) != "2.05":
            continue
        mtype, code, mid, _, options, rest = found.groups()
        payload = b""
        if rest and rest.startswith("'") and rest.endswith("'"):
            payload = rest[1:-1].encode()
        elif rest and rest.startswith("binary data") and i + 1 < len(lines):
            data = HEX.match(lines[i + 1].strip())
            if data is not None:
                payload = bytes.fromhex(data.group(1))
        out.append(Pdu(mtype, code, int(mid, 16), options.strip(), payload))
    return out


async def observe_with_libcoap(device: Device, path: str, accept: str,
                               extra: Sequence[str] = (),
                               while_observing: Optional[Callable[[], Any]] = None
                               ) -> Tuple[int, str]:
    """Run ``coap-client -s 5`` from the server's port against ``path``; while it runs,
    call ``while_observing()`` (a coroutine function) once the client holds the
    observation. Returns coap-client's exit status and output."""
    assert COAP_CLIENT is not None
    proc = await asyncio.create_subprocess_exec(
        COAP_CLIENT, "-a", HOST, "-p", str(device.server_port), "-s", str(OBSERVE_S),
        "-B", str(int(PROCESS_TIMEOUT_S)), "-v", "7", "-w", "-A", accept, *extra,
        device.uri(path),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    communicate = asyncio.ensure_future(proc.communicate())
    try:
        if while_observing is not None:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + WAIT_S
            while len(device.store) == 0 and not communicate.done() and \
                    loop.time() < deadline:
                await asyncio.sleep(0.05)
            if len(device.store) == 1:
                worker = asyncio.ensure_future(while_observing())
                await asyncio.wait([communicate], timeout=PROCESS_TIMEOUT_S)
                worker.cancel()
        out, _ = await asyncio.wait_for(communicate, PROCESS_TIMEOUT_S)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    return proc.returncode or 0, out.decode("utf-8", "replace")


async def store_empties(device: Device) -> bool:
    """Poll until the client holds no observation (coap-client's cancel arrived)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_S
    while len(device.store) and loop.time() < deadline:
        await asyncio.sleep(0.05)
    return len(device.store) == 0


def check_sequence(pdus: List[Pdu], first_type: str) -> None:
    """The first answer (piggybacked, or NON to a NON request) and the notifications
    after it all carry Observe, strictly increasing (RFC 7641 sections 3.2, 4.4)."""
    assert pdus[0].mtype == first_type
    observes = [p.observe for p in pdus]
    assert all(n is not None for n in observes), pdus
    numbers = [n for n in observes if n is not None]
    assert numbers == sorted(set(numbers)), numbers


# -- the tests -------------------------------------------------------------------------

async def test_libcoap_observes_a_resource_the_application_changes(device_factory):
    # Plain text, CON registration, NON notifications; no pmin: each change reported
    # by the application is notified at once (Core 1.1 section 5.1.1).
    device = await device_factory()
    values = [f"{20 + i * 0.5:.1f}" for i in range(1, 200)]

    async def change() -> None:
        for value in values:
            device.tree.set(POWER, float(value))
            device.client.changed()
            await asyncio.sleep(0.25)

    rc, out = await observe_with_libcoap(device, "/3305/0/5800", "0",
                                         while_observing=change)
    assert rc == 0, out
    pdus = received(out)
    assert len(pdus) >= 4, out
    check_sequence(pdus, "ACK")
    assert pdus[0].payload == b"1.0"
    notes = pdus[1:]
    assert {p.mtype for p in notes} == {"NON"}
    seen = [p.payload.decode() for p in notes]
    assert len(set(seen)) >= 3 and set(seen) <= set(values), seen
    assert seen == [v for v in values if v in seen]  # in the order they were set
    assert await store_empties(device), out


async def test_libcoap_observes_current_time_with_pmax_from_write_attributes(device_factory):
    # Current Time /3/0/13 computed on each read (the application never reports it);
    # the registrar attaches pmax=1 and con=1 with a Write-Attributes before handing the
    # port over, so a confirmable notification goes out every second (Core 1.1 section
    # 5.1.1 pmax; Core 1.2 section 5.1.1 con), each acknowledged by libcoap; SenML JSON.
    ticks = [1_700_000_000]

    def read_clock(path: Any) -> int:
        ticks[0] += 1  # a clock that moves on with every read
        return ticks[0]

    async def attach(registrar: Registrar) -> None:
        assert await registrar.write_attributes("/3/0/13", "pmax=1", "con=1") == m.CHANGED

    device = await device_factory(
        configure=lambda tree: tree.on_read(CURRENT_TIME, read_clock), prepare=attach)
    rc, out = await observe_with_libcoap(device, "/3/0/13", "110")
    assert rc == 0, out
    pdus = received(out)
    assert len(pdus) >= 3, out
    check_sequence(pdus, "ACK")
    assert {p.mtype for p in pdus[1:]} == {"CON"}
    times = []
    for pdu in pdus:
        (record,) = json.loads(pdu.payload)
        assert record.get("bn", "") + record.get("n", "") == "/3/0/13"
        times.append(record["v"])
    assert times == sorted(times) and len(set(times)) == len(times), times
    assert await store_empties(device), out


async def test_libcoap_non_observe_of_an_instance_with_the_server_default_pmax(
        device_factory):
    # A NON Observe of /3305/0 (the whole instance); the period is the Server object's
    # Default Maximum Period /1/0/3 = 1 s (Core 1.1 section 5.1.1): notifications of the
    # unchanged instance every second, then libcoap's NON cancel.
    device = await device_factory(default_pmax=1)
    rc, out = await observe_with_libcoap(device, "/3305/0", "110", extra=("-N",))
    assert rc == 0, out
    pdus = received(out)
    assert len(pdus) >= 3, out
    check_sequence(pdus, "NON")
    for pdu in pdus:
        records = json.loads(pdu.payload)
        values = {r.get("bn", records[0].get("bn", "")) + r["n"]: r["v"] for r in records}
        assert values == {"/3305/0/5800": 1.0}
    assert await store_empties(device), out
