"""Send (LwM2M Core 1.1 section 6.4.6): POST /dp with the current values, Mute Send, and
the outcome as an event; sans-IO and over real UDP against the embedded server."""

from __future__ import annotations

import asyncio
import random

import cbor2
import pytest

from lwm2m_client.aio.udp import UdpClient
from lwm2m_client.core.client import events as ev
from lwm2m_client.core.client import setup
from lwm2m_client.core.client.engine import ClientConfig, ClientCore
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.coap.message import Message, decode, to_bytes
from lwm2m_client.core.content import CF_SENML_CBOR, CF_SENML_JSON, CF_TLV
from lwm2m_client.core.dm.tree import ObjectTree
from lwm2m_client.core.errors import UsageError
from lwm2m_client.models import shipped_objects
from lwm2m_client.server import LwM2MServer

SERVER = ("10.0.0.9", 5683)
OBJECTS = shipped_objects()


def make_tree(uri="coap://server"):
    tree = ObjectTree([OBJECTS[i] for i in (0, 1, 3, 3305)])
    setup.add_security(tree, 0, uri, ssid=1)
    setup.add_server(tree, 0, 1, lifetime=300)
    setup.add_device(tree, "ACME", "M1", "SN1", "1.0")
    tree.create_instance(3305, 0, {5800: 2.5})
    return tree


def registered(version="1.1", **config):
    tree = make_tree()
    core = ClientCore(ClientConfig("send-1", version=version, jitter=0, **config), tree,
                      random.Random(2))
    core.set_address(1, SERVER)
    core.start(0)
    core.handle_timer(core.get_timer())
    ((data, _),) = core.datagrams_to_send()
    req = decode(data)
    ack = Message(m.ACK, m.CREATED, req.mid, req.token)
    ack.location_path = ["rd", "1"]
    core.receive_datagram(to_bytes(ack), SERVER, 1)
    assert core.next_event() == ev.Registered(1, ["rd", "1"])
    return core, tree


def test_send_posts_the_current_values_to_dp_and_reports_the_answer():
    core, _ = registered()
    assert core.send([(3305, 0, 5800), (3, 0, 0)], 10) == [1]
    ((data, addr),) = core.datagrams_to_send()
    req = decode(data)
    assert addr == SERVER and req.mtype == m.CON and req.code == m.POST
    assert req.uri_path == "/dp" and req.content_format == CF_SENML_CBOR
    records = cbor2.loads(bytes(req.payload))
    assert {r.get(0, "") + r.get(-2, "") for r in records} >= {"/3/0/0", "/3305/0/5800"}
    core.receive_datagram(to_bytes(Message(m.ACK, m.CHANGED, req.mid, req.token)),
                          SERVER, 20)
    sent = core.next_event()
    assert sent == ev.Sent(1, m.CHANGED) and sent.ok


def test_send_in_senml_json_when_the_client_prefers_it():
    core, _ = registered(preferred_format=CF_SENML_JSON)
    core.send([(3305, 0, 5800)], 10)
    ((data, _),) = core.datagrams_to_send()
    assert decode(data).content_format == CF_SENML_JSON


def test_unanswered_send_is_reported():
    core, _ = registered()
    core.send([(3305, 0, 5800)], 10)
    core.datagrams_to_send()
    t = 10
    while (deadline := core.get_timer()) is not None and deadline < 300_000:
        t = deadline
        core.handle_timer(t)
        core.datagrams_to_send()
    events = []
    while (e := core.next_event()) is not None:
        events.append(e)
    assert ev.Sent(1, None) in events


def test_muted_server_and_lwm2m_1_0_get_no_send():
    core, tree = registered()
    tree.set((1, 0, 23), True)  # Mute Send
    assert core.send([(3305, 0, 5800)], 10) == []
    assert core.datagrams_to_send() == []
    core10, _ = registered(version="1.0")
    assert core10.send([(3305, 0, 5800)], 10) == []


def test_send_misuse_is_a_usage_error():
    core, _ = registered()
    with pytest.raises(UsageError, match="3305, 0, 9999"):
        core.send([(3305, 0, 9999)], 10)
    only_tlv, _ = registered(formats=(CF_TLV,))
    with pytest.raises(UsageError, match="SenML"):
        only_tlv.send([(3305, 0, 5800)], 10)


@pytest.mark.interop
async def test_embedded_server_receives_a_send_over_udp():
    async with LwM2MServer() as server:
        tree = make_tree(server.uri)
        events: list[object] = []
        client = UdpClient(ClientCore(ClientConfig("send-udp"), tree, random.Random(5)),
                           on_event=events.append)
        await client.start()
        try:
            await server.wait_registered("send-udp")
            assert client.core.send([(3305, 0, 5800)], client.now_ms()) == [1]
            client.changed()
            records = await server.wait_send("send-udp")
            assert [(path, value) for path, value, _ in records] == [((3305, 0, 5800), 2.5)]
            for _ in range(50):  # the answer may come before or after the server's event
                if any(isinstance(e, ev.Sent) for e in events):
                    break
                await asyncio.sleep(0.05)
            assert [e for e in events if isinstance(e, ev.Sent)] == [ev.Sent(1, m.CHANGED)]
        finally:
            await client.stop()
