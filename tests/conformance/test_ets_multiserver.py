"""OMA ETS LwM2M 1.0, multiple LwM2M Servers: int-950 and int-951.

The wording of these two ETS 1.0 cases was not at hand, so each case checks what the
multi-server part of the specification requires of a client, under the case ID it is
filed under: int-950, registration with two servers and the rights each then has
(Core 1.1 sections 6.2.1, 8.2.1); int-951, Access Control enforced across the two
servers (Core 1.1 sections 6.3.6, 8.1.2, 8.2).

The real client core runs over the lean UDP adapter against two embedded servers
(aiocoap) on loopback, Short Server IDs 1 and 2. The tree is what a Bootstrap-Server
would leave (Core 1.1 section 8.1.2): each server owns the Access Control instance of
its own Server object instance; server 1 owns those of the Device (every server may
read it: ACL entry 0 = R) and of the data container /19/0 (server 2: R only); the
object-level instance of /19 (owner 65535) lets server 2 alone create.
"""

from __future__ import annotations

import random
from typing import Any, AsyncIterator, List, Tuple

import pytest
from ets_rig import RecordingServer

from lwm2m_client.aio.udp import UdpClient
from lwm2m_client.core.client import setup
from lwm2m_client.core.client.access import (
    BOOTSTRAP_OWNER,
    OBJECT_LEVEL,
    C,
    R,
    W,
    add_access_control,
)
from lwm2m_client.core.client.engine import ClientConfig, ClientCore
from lwm2m_client.core.content import CF_TEXT, CF_TLV
from lwm2m_client.core.dm.tree import ObjectTree
from lwm2m_client.models import shipped_objects
from lwm2m_client.server import LwM2MServer
from lwm2m_client.server.response import LwM2MServerError

ENDPOINT = "ms-client"
DATA = 19  # BinaryAppDataContainer: multiple instances, writable multiple resource 0


class TwoServers:
    """One client registered with two servers; ``acl`` maps a name to its /2 instance."""

    def __init__(self, servers: List[RecordingServer]) -> None:
        self.servers = servers
        objects = shipped_objects()
        tree = ObjectTree([objects[oid] for oid in (0, 1, 2, 3, DATA)])
        for ssid in (1, 2):
            setup.add_security(tree, ssid - 1, f"coap://127.0.0.1:{servers[ssid - 1].port}",
                               ssid=ssid)
            setup.add_server(tree, ssid - 1, ssid, lifetime=86400,
                             notification_storing=False)
        setup.add_device(tree, "Open Mobile Alliance", "Lightweight M2M Client",
                         "345000123", "1.0")
        tree.create_instance(DATA, 0, {0: {0: b"\x01\x02"}})
        self.acl = {
            "server-1": add_access_control(tree, 1, 0, 1),
            "server-2": add_access_control(tree, 1, 1, 2),
            "device": add_access_control(tree, 3, 0, 1, {0: R}),
            "data": add_access_control(tree, DATA, 0, 1, {2: R}),
            "create": add_access_control(tree, DATA, OBJECT_LEVEL, BOOTSTRAP_OWNER, {2: C}),
        }
        tree.drain_changes()
        self.tree = tree
        self.events: List[Any] = []
        core = ClientCore(ClientConfig(ENDPOINT, version="1.1", jitter=0.0), tree,
                          random.Random(5))
        for ssid in (1, 2):
            core.set_address(ssid, ("127.0.0.1", servers[ssid - 1].port))
        self.client = UdpClient(core, on_event=self.events.append)

    def server(self, ssid: int) -> LwM2MServer:
        return self.servers[ssid - 1]

    async def code_of_create(self, ssid: int, values: Any) -> Tuple[str, int | None]:
        try:
            iid = await self.server(ssid).create(ENDPOINT, DATA, values, format=CF_TLV)
        except LwM2MServerError as exc:
            assert exc.response is not None
            return exc.response.code, None
        return "2.01", iid


@pytest.fixture
async def two_servers() -> AsyncIterator[TwoServers]:
    servers = [RecordingServer(request_timeout=5.0) for _ in range(2)]
    for server in servers:
        await server.start()
    rig = TwoServers(servers)
    await rig.client.start()
    try:
        for server in servers:
            await server.wait_registered(ENDPOINT)
        yield rig
    finally:
        rig.client.close()
        for server in servers:
            await server.stop()


async def test_int_950_registration_with_two_servers_and_their_rights(two_servers):
    rig = two_servers
    # Each server got one Register, listing both Server instances and the /2 instances.
    for server in rig.servers:
        (register,) = server.registers()
        assert f"ep={ENDPOINT}" in register.query
        reg = server.registration(ENDPOINT)
        assert reg is not None
        assert reg.instances(1) == [0, 1] and reg.instances(2) == sorted(rig.acl.values())
    s1, s2 = rig.server(1), rig.server(2)
    # Both may read the Device (entry 0 = R); neither may write it.
    for server in (s1, s2):
        assert (await server.read(ENDPOINT, "/3/0/0")).code == "2.05"
    assert (await s2.write(ENDPOINT, "/3/0/14", "+01:00", format=CF_TEXT)).code == "4.01"
    assert (await s1.write(ENDPOINT, "/3/0/14", "+01:00", format=CF_TEXT)).code == "2.04"
    # Each owns its own Server object instance and nothing of the other's.
    assert (await s1.read(ENDPOINT, "/1/0")).code == "2.05"
    assert (await s1.read(ENDPOINT, "/1/1")).code == "4.01"
    assert (await s2.read(ENDPOINT, "/1/1")).code == "2.05"
    assert (await s2.write(ENDPOINT, "/1/0/1", 600, format=CF_TEXT)).code == "4.01"
    assert rig.tree.get((1, 0, 1)) == 86400
    # A Read of /1 gives each server only its own instance (Core 1.1 section 8.2.3).
    assert {p[:2] for p in (await s2.read(ENDPOINT, "/1")).values} == {(1, 1)}
    # Discover needs no right.
    assert [link for link, _ in await s2.discover(ENDPOINT, "/1")][:1] == ["/1"]
    # The owner changes its lifetime: the Update goes to that server alone.
    assert (await s1.write(ENDPOINT, "/1/0/1", 600, format=CF_TEXT)).code == "2.04"
    update = await s1.wait_updated(ENDPOINT)
    assert update.lifetime == 600 and s2.updates() == []


async def test_int_951_access_control_enforced_across_two_servers(two_servers):
    rig = two_servers
    s1, s2 = rig.server(1), rig.server(2)
    before = rig.tree.get((DATA, 0, 0))
    # Server 2 reads the container but may not write it or its Access Control instance.
    assert (await s2.read(ENDPOINT, f"/{DATA}/0")).code == "2.05"
    assert (await s2.write(ENDPOINT, f"/{DATA}/0/0", {0: b"\xff"})).code == "4.01"
    acl = rig.acl["data"]
    assert (await s2.write(ENDPOINT, f"/2/{acl}/2/2", R | W, format=CF_TEXT)).code == "4.01"
    assert rig.tree.get((DATA, 0, 0)) == before
    # The owner grants Write; now server 2 writes.
    assert (await s1.write(ENDPOINT, f"/2/{acl}/2/2", R | W, format=CF_TEXT)).code == "2.04"
    assert (await s2.write(ENDPOINT, f"/{DATA}/0/0", {0: b"\xff"})).code == "2.04"
    assert rig.tree.get((DATA, 0, 0)) == {0: b"\xff"}
    # Only server 2 has C in the object-level instance.
    assert (await rig.code_of_create(1, {0: {0: b"a"}})) == ("4.01", None)
    code, iid = await rig.code_of_create(2, {0: {0: b"b"}})
    assert code == "2.01" and iid == 1
    await s2.wait_updated(ENDPOINT)
    # The new instance's Access Control instance belongs to its creator.
    (new_acl,) = [x for x in rig.tree.instances(2)
                  if (rig.tree.get((2, x, 0)), rig.tree.get((2, x, 1))) == (DATA, 1)]
    owner = await s2.read(ENDPOINT, f"/2/{new_acl}/3")
    assert owner.code == "2.05" and owner.value == 2
    assert (await s1.read(ENDPOINT, f"/{DATA}/1")).code == "4.01"
    assert (await s2.read(ENDPOINT, f"/{DATA}/1")).code == "2.05"
    # Server 1 cannot delete it; server 2 can, and its /2 instance goes with it.
    assert (await s1.delete(ENDPOINT, f"/{DATA}/1")).code == "4.01"
    assert (await s2.delete(ENDPOINT, f"/{DATA}/1")).code == "2.02"
    assert not rig.tree.has((DATA, 1)) and not rig.tree.has((2, new_acl))
    # Security stays closed to both.
    for server in (s1, s2):
        assert (await server.read(ENDPOINT, "/0/0")).code == "4.01"
