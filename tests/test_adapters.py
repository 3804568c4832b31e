"""The same client behaviour on both asyncio adapters, against the embedded LwM2M server.

Every test runs twice (the ``adapter`` fixture of conftest.py): once on the lean UDP
adapter, where the core's own CoAP layer (messaging, Block1, Block2) talks to aiocoap in
the server, and once on the aiocoap adapter, where aiocoap is on both sides and the core
only maps requests onto the object tree. Real loopback UDP throughout.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any, Dict, List, Tuple

import aiocoap
import pytest
from aiocoap.optiontypes import BlockOption

from lwm2m_client.aio.aiocoap_client import AiocoapClient, peer_address, to_aiocoap, to_core
from lwm2m_client.aio.udp import UdpClient
from lwm2m_client.core.client import events as ev
from lwm2m_client.core.client.client import LwM2MClient
from lwm2m_client.core.client.engine import ClientConfig, ClientCore
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.coap import options as o
from lwm2m_client.core.content import (
    CF_LWM2M_CBOR,
    CF_OPAQUE,
    CF_SENML_CBOR,
    CF_SENML_JSON,
    CF_TEXT,
    CF_TLV,
)
from lwm2m_client.core.dm.tree import ObjectTree
from lwm2m_client.server import LwM2MServer
from lwm2m_client.sim.meters import build_meter_tree

pytestmark = pytest.mark.interop

EP = "meter-1"


def tree_values(client: Any, path: Tuple[int, ...]) -> Dict[Tuple[int, ...], Any]:
    """What the client's tree holds under ``path``, shaped like ``Response.values``."""
    return {p: v for p, _, v in client.core.tree.read(path) if v is not None}


async def test_register_record(start_client, lwm2m_server: LwM2MServer):
    client = await start_client(EP, version="1.1")
    reg = lwm2m_server.registration(EP)
    assert reg is not None
    assert (reg.endpoint, reg.lwm2m_version) == (EP, "1.1")
    assert reg.lifetime == client.core.tree.get((1, 0, 1)) == 300
    assert reg.binding == "U" and not reg.queue_mode
    # Security (/0) is never announced (Core 1.1 §6.2.1); instances are.
    assert reg.objects == {1: [0], 3: [0], 4: [0], 19: [0], 10242: [0]}
    assert reg.root_path == "/"
    # The server reaches the client at the address it registered from.
    assert reg.remote.hostinfo == "{}:{}".format(*client.address)
    location = client.core.registration(1).location
    assert list(location) == list(reg.location_path)


@pytest.mark.parametrize("cf", [CF_TLV, CF_SENML_CBOR, CF_SENML_JSON, CF_LWM2M_CBOR])
async def test_read_device_in_every_format(start_client, lwm2m_server, cf):
    client = await start_client(EP, version="1.2")
    response = await lwm2m_server.read(EP, "/3/0", format=cf)
    assert response.code == "2.05" and response.content_format == cf
    expected = tree_values(client, (3, 0))
    assert expected[(3, 0, 0)] == "lwm2m_client" and expected[(3, 0, 9)] == 80
    assert response.values == expected


async def test_read_single_resource_as_plain_text(start_client, lwm2m_server):
    await start_client(EP)
    response = await lwm2m_server.read(EP, "/3/0/2", format=CF_TEXT)
    assert (response.code, response.content_format, response.payload) == \
        ("2.05", CF_TEXT, b"SN-0001")
    response = await lwm2m_server.read(EP, "/3/0/9", format=CF_TEXT)
    assert response.payload == b"80" and response.value == 80


async def test_write_then_read_back(start_client, lwm2m_server):
    client = await start_client(EP)
    response = await lwm2m_server.write(EP, "/3/0/14", "+02:00", format=CF_SENML_CBOR)
    assert response.code == "2.04"
    assert client.core.tree.get((3, 0, 14)) == "+02:00"
    assert (await lwm2m_server.read(EP, "/3/0/14", format=CF_TEXT)).value == "+02:00"
    # A read-only resource refuses a Write (Core 1.1 §6.3.3: 4.05).
    assert (await lwm2m_server.write(EP, "/3/0/0", "evil", format=CF_TLV)).code == "4.05"
    assert client.core.tree.get((3, 0, 0)) == "lwm2m_client"


async def test_execute_registration_update_trigger(start_client, lwm2m_server):
    client = await start_client(EP)
    seen: List[Any] = []
    client.on_event = seen.append
    response = await lwm2m_server.execute(EP, "/1/0/8")
    assert response.code == "2.04"
    reg = await lwm2m_server.wait_updated(EP)
    assert reg.endpoint == EP
    if not any(isinstance(e, ev.RegistrationUpdated) for e in seen):
        await client.wait_for(ev.RegistrationUpdated, 5.0)
    performed = [e for e in seen if isinstance(e, ev.OperationPerformed)]
    assert [(e.op, e.path, e.code) for e in performed] == [("execute", "/1/0/8", "2.04")]
    # Executing a readable resource is 4.05.
    assert (await lwm2m_server.execute(EP, "/3/0/0")).code == "4.05"


async def test_execute_disable_answers_then_deregisters(start_client, lwm2m_server):
    client = await start_client(EP)
    response = await lwm2m_server.execute(EP, "/1/0/4")
    assert response.code == "2.04"
    await lwm2m_server.wait_deregistered(EP)
    assert not client.core.registration(1).is_registered


async def test_discover_device(start_client, lwm2m_server):
    await start_client(EP)
    links = dict(await lwm2m_server.discover(EP, "/3/0"))
    assert "/3/0" in links
    for rid in (0, 1, 2, 3, 9, 10, 16):
        assert f"/3/0/{rid}" in links
    assert "/3/0/11/0" in links  # Core 1.1 §6.3.2 lists resource instances
    assert "/3/0/15" not in links  # not set in this tree


async def test_write_attributes_then_discover(start_client, lwm2m_server):
    await start_client(EP)
    response = await lwm2m_server.write_attributes(EP, "/3/0/9", pmin=10, pmax=60, gt=50.5)
    assert response.code == "2.04"
    links = dict(await lwm2m_server.discover(EP, "/3/0"))
    assert links["/3/0/9"] == {"pmin": "10", "pmax": "60", "gt": "50.5"}
    response = await lwm2m_server.write_attributes(EP, "/3/0/9", unset=["gt"])
    assert response.code == "2.04"
    links = dict(await lwm2m_server.discover(EP, "/3/0/9"))
    assert links["/3/0/9"] == {"pmin": "10", "pmax": "60"}


async def test_create_and_delete_instance(start_client, lwm2m_server):
    client = await start_client(EP)
    iid = await lwm2m_server.create(EP, 19, {0: {0: b"\xca\xfe"}, 3: "readings"}, iid=5,
                                    format=CF_SENML_CBOR)
    assert iid == 5
    assert client.core.tree.get((19, 5, 0)) == {0: b"\xca\xfe"}
    # The new object list follows in an Update (Core 1.1 §6.2.2).
    assert (await lwm2m_server.wait_updated(EP)).objects[19] == [0, 5]
    response = await lwm2m_server.read(EP, "/19/5/3", format=CF_TEXT)
    assert response.value == "readings"
    # Without an instance ID the client picks one and names it in Location-Path.
    picked = await lwm2m_server.create(EP, 19, {0: {0: b"\x00"}})
    assert picked not in (0, 5) and client.core.tree.has((19, picked))

    assert (await lwm2m_server.delete(EP, "/19/5")).code == "2.02"
    assert not client.core.tree.has((19, 5))
    assert (await lwm2m_server.read(EP, "/19/5")).code == "4.04"
    # Device is single-instance: no Delete (Core 1.1 §6.3.6).
    assert (await lwm2m_server.delete(EP, "/3/0")).code in ("4.00", "4.05")
    assert client.core.tree.has((3, 0))


async def test_security_object_is_unauthorized(start_client, lwm2m_server):
    await start_client(EP)
    response = await lwm2m_server.read(EP, "/0", format=CF_TLV)
    assert response.code == "4.01" and response.payload == b""
    assert (await lwm2m_server.read(EP, "/0/0/0", format=CF_TEXT)).code == "4.01"


async def test_large_reads_go_block_wise(start_client, lwm2m_server):
    # Both bodies exceed one datagram (message_size 1152): only Block2 can carry them.
    client = await start_client(EP, block_size=64)
    big = bytes(range(256)) * 5
    client.core.tree.set((19, 0, 0), {0: big})
    response = await lwm2m_server.read(EP, "/19/0", format=CF_TLV)
    assert response.code == "2.05" and len(response.payload) > 1152
    assert response.values[(19, 0, 0, 0)] == big

    response = await lwm2m_server.read(EP, "/10242/0", format=CF_SENML_JSON)
    assert response.code == "2.05" and len(response.payload) > 1024
    assert response.values == tree_values(client, (10242, 0))


async def test_large_write_goes_block_wise(start_client, lwm2m_server):
    # The server sends the body in Block1 blocks of aiocoap's 1024 bytes.
    client = await start_client(EP)
    text = "".join(chr(0x41 + i % 26) for i in range(3000))
    response = await lwm2m_server.write(EP, "/3/0/15", text, format=CF_TEXT)
    assert response.code == "2.04"
    assert client.core.tree.get((3, 0, 15)) == text
    data = bytes(range(256)) * 8
    response = await lwm2m_server.write(EP, "/19/0/0", {0: data}, format=CF_SENML_CBOR)
    assert response.code == "2.04"
    assert client.core.tree.get((19, 0, 0)) == {0: data}
    response = await lwm2m_server.read(EP, "/19/0/0/0", format=CF_OPAQUE)
    assert response.payload == data


async def test_write_larger_than_max_body_is_refused(start_client, lwm2m_server):
    # RFC 7959 section 2.9.3: 4.13 with Size1 = what the client takes; nothing written.
    client = await start_client(EP, max_body=2048)
    before = client.core.tree.get((19, 0, 0))
    response = await lwm2m_server.write(EP, "/19/0/0", {0: bytes(3000)}, format=CF_SENML_CBOR)
    assert response.code == "4.13"
    assert client.core.tree.get((19, 0, 0)) == before


async def test_requests_from_strangers_go_unanswered(start_client, lwm2m_server):
    client = await start_client(EP)
    stranger = await aiocoap.Context.create_client_context(transports=["udp6"])
    try:
        host, port = client.address
        request = aiocoap.Message(code=aiocoap.GET, uri=f"coap://{host}:{port}/3/0")
        request.opt.accept = CF_TLV
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(stranger.request(request).response, 1.0)
    finally:
        await stranger.shutdown()
    # The registered server still gets its answers.
    assert (await lwm2m_server.read(EP, "/3/0/2", format=CF_TEXT)).value == "SN-0001"


async def test_deregister_on_stop(start_client, lwm2m_server):
    client = await start_client(EP)
    seen = []
    client.on_event = seen.append
    await client.stop(timeout=5.0)
    reg = await lwm2m_server.wait_deregistered(EP)
    assert reg.endpoint == EP and lwm2m_server.registration(EP) is None
    assert [e.ssid for e in seen if isinstance(e, ev.Deregistered)] == [1]


# -- the aiocoap adapter's conversions, without a network ------------------------------


def test_peer_address_unmaps_ipv4_and_keeps_ipv6():
    class Remote:
        def __init__(self, sockaddr):
            self.sockaddr = sockaddr

    assert peer_address(Remote(("::ffff:127.0.0.1", 5683, 0, 0))) == ("127.0.0.1", 5683)
    assert peer_address(Remote(("::1", 61000, 0, 0))) == ("::1", 61000)
    assert peer_address(Remote(("10.1.2.3", 7))) == ("10.1.2.3", 7)


def test_message_conversions_keep_options_but_block_wise_ones():
    response = aiocoap.Message(code=aiocoap.CREATED, location_path=("rd", "5a3f"),
                               payload=b"x")
    response.opt.block1 = BlockOption.BlockwiseTuple(2, False, 6)
    response.opt.size1 = 2100
    msg = to_core(response)
    assert msg.code == m.CREATED and msg.payload == b"x"
    assert msg.strings(o.LOCATION_PATH) == ["rd", "5a3f"]
    assert msg.block1 is None and msg.size1 is None

    answer = m.Message(code=m.CONTENT, payload=b"\xc1\x09\x50")
    answer.content_format = CF_TLV
    answer.location_path = ["19", "7"]
    converted = to_aiocoap(answer)
    assert converted.code == aiocoap.CONTENT and converted.payload == b"\xc1\x09\x50"
    assert int(converted.opt.content_format) == CF_TLV
    assert converted.opt.location_path == ("19", "7")


def test_aiocoap_client_runs_the_message_level_client():
    # aiocoap brings its own CoAP layer: a ClientCore (the core's own CoAP endpoint
    # under the client) is refused with a message that says what to pass instead.
    core = ClientCore(ClientConfig("x"), ObjectTree([]), random.Random(0))
    with pytest.raises(TypeError, match="LwM2MClient"):
        AiocoapClient(core)  # type: ignore[arg-type]


async def test_version_fallback_against_a_server_that_speaks_1_1(adapter, caplog):
    # The server refuses LwM2M 1.2 with 4.12; the client registers as 1.1 at once and
    # says so in the log (Core 1.2 section 6.2.1).
    async with LwM2MServer(lwm2m_versions=("1.0", "1.1")) as server:
        tree, _ = build_meter_tree("electricity", "fallback-1", server.uri, seed=1)
        layer = LwM2MClient if adapter == "aiocoap" else ClientCore
        core = layer(ClientConfig("fallback-1", version="1.2"), tree, random.Random(4))
        client = AiocoapClient(core) if adapter == "aiocoap" else UdpClient(core)
        with caplog.at_level(logging.WARNING, logger="lwm2m_client"):
            await client.start()
            try:
                reg = await server.wait_registered("fallback-1")
                assert reg.lwm2m_version == "1.1"
                assert core.registration(1).version == "1.1"
                assert "server 1 refused LwM2M 1.2 (4.12); registering as LwM2M 1.1" \
                    in caplog.text
            finally:
                await client.stop()
