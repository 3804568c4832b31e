# The two client layers under MicroPython: the message-level LwM2MClient on its own, the
# accounts it reads from /0 and /1, the lazy import surface of lwm2m_client.core, version
# fallback, and Reset for a malformed CON through the datagram-level ClientCore.

from mp_client import SERVER, Lcg, _defs, register
from mpcheck import raises

from lwm2m_client import core as api
from lwm2m_client.core.client import events as ev
from lwm2m_client.core.client import setup
from lwm2m_client.core.client.client import LwM2MClient
from lwm2m_client.core.client.engine import ClientConfig, ClientCore
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.dm.tree import ObjectTree
from lwm2m_client.core.errors import UsageError


def _tree(*ssids):
    tree = ObjectTree(_defs())
    for ssid in ssids:
        setup.add_security(tree, None, "coap://10.0.0.%d:5683" % ssid, ssid=ssid)
        setup.add_server(tree, None, ssid, lifetime=300)
    tree.create_instance(3, 0, {0: "ACME", 1: "M1", 2: "SN-7", 3: "1.0",
                                11: {0: 0}, 14: "+01:00", 16: "U"})
    return tree


def test_import_surface_is_lazy_and_complete():
    assert api.ClientCore is ClientCore and api.LwM2MClient is LwM2MClient
    assert api.events.Registered is ev.Registered
    assert api.UsageError is UsageError
    raises(AttributeError, getattr, api, "NoSuchName")


def test_accounts_come_from_the_tree():
    client = LwM2MClient(ClientConfig("mp"), _tree(2, 1), Lcg(3))
    assert client.accounts() == [(1, "coap://10.0.0.1:5683", None),
                                 (2, "coap://10.0.0.2:5683", None)]
    raises(UsageError, LwM2MClient(ClientConfig("mp"), _tree(), Lcg(3)).start, 0)
    tree = _tree(1)
    tree.create_instance(1, 5, {0: 1, 1: 60, 6: True, 7: "U"})
    raises(UsageError, LwM2MClient(ClientConfig("mp"), tree, Lcg(3)).start, 0)


def test_message_level_register_and_read():
    client = LwM2MClient(ClientConfig("mp", block_size=16), _tree(1), Lcg(5))
    client.set_address(1, SERVER)
    client.start(0)
    client.handle_timer(client.get_timer())
    (key, msg, addr), = client.requests_to_send()
    assert addr == SERVER and msg.uri_path == "/rd" and msg.block1 is None
    reply = m.Message(code=m.CREATED)
    reply.location_path = ["rd", "9"]
    client.response_received(key, reply, 10)
    assert client.next_event() == ev.Registered(1, ["rd", "9"])
    req = m.Message(m.CON, m.GET)
    req.uri_path = "/3/0/0"
    req.accept = 0
    answer = client.handle_request(req, SERVER, 20)
    assert answer.code == m.CONTENT and bytes(answer.payload) == b"ACME"
    assert client.handle_request(req, ("10.9.9.9", 1), 20) is None


def test_version_fallback_on_4_12():
    core = ClientCore(ClientConfig("mp", version="1.2"), _tree(1), Lcg(9))
    core.set_address(1, SERVER)
    core.start(0)
    core.handle_timer(core.get_timer())
    (data, _), = core.datagrams_to_send()
    req = m.decode(data)
    assert "lwm2m=1.2" in req.uri_query
    core.receive_datagram(m.to_bytes(m.Message(m.ACK, m.PRECONDITION_FAILED, req.mid,
                                               req.token)), SERVER, 10)
    (data, _), = core.datagrams_to_send()
    assert "lwm2m=1.1" in m.decode(data).uri_query
    assert core.next_event() == ev.VersionFallback(1, "1.2", "1.1", m.PRECONDITION_FAILED)


def test_malformed_con_from_the_server_gets_a_reset():
    core = ClientCore(ClientConfig("mp"), _tree(1), Lcg(11))
    core.set_address(1, SERVER)
    # CON, token length 0, GET, MID 0x1234, then an option byte with the reserved
    # delta 15 (RFC 7252 section 3.1): a format error.
    core.receive_datagram(b"\x40\x01\x12\x34\xf1", SERVER, 0)
    (data, addr), = core.datagrams_to_send()
    assert addr == SERVER and data == b"\x70\x00\x12\x34"


def test_observe_notifies_a_change_and_reset_cancels():
    core = ClientCore(ClientConfig("mp", jitter=0), _tree(1), Lcg(13))
    core.set_address(1, SERVER)
    register(core, "5", 1)
    get = m.Message(m.CON, m.GET, 0x77, b"\x0c")
    get.uri_path = "/3/0/14"
    get.accept = 0
    get.observe = 0
    core.receive_datagram(m.to_bytes(get), SERVER, 2)
    (data, _), = core.datagrams_to_send()
    first = m.decode(data)
    assert first.code == m.CONTENT and first.observe == 1 and bytes(first.payload) == b"+01:00"
    core.tree.set((3, 0, 14), "+02:00")
    core.handle_timer(core.get_timer())
    (data, _), = core.datagrams_to_send()
    note = m.decode(data)
    assert note.token == b"\x0c" and note.observe == 2 and bytes(note.payload) == b"+02:00"
    rst = m.Message(m.RST, 0, note.mid, b"")
    core.receive_datagram(m.to_bytes(rst), SERVER, 3)
    core.tree.set((3, 0, 14), "+03:00")
    assert core.get_timer() is None or core.get_timer() > 3
    core.handle_timer(10)
    assert core.datagrams_to_send() == []


def test_observe_composite_notifies_every_path_and_observe_1_cancels():
    core = ClientCore(ClientConfig("mp", jitter=0), _tree(1), Lcg(17))
    core.set_address(1, SERVER)
    register(core, "6", 1)
    fetch = m.Message(m.CON, m.FETCH, 0x78, b"\x0d",
                      payload=b'[{"n":"/3/0/14"},{"n":"/3/0/16"}]')
    fetch.uri_path = "/"
    fetch.content_format = 110  # SenML JSON
    fetch.observe = 0
    core.receive_datagram(m.to_bytes(fetch), SERVER, 2)
    (data, _), = core.datagrams_to_send()
    first = m.decode(data)
    assert first.code == m.CONTENT and first.observe == 1 and first.content_format == 110
    assert b"+01:00" in bytes(first.payload) and b'"U"' in bytes(first.payload)
    core.tree.set((3, 0, 16), "UQ")
    core.handle_timer(core.get_timer())
    (data, _), = core.datagrams_to_send()
    note = m.decode(data)
    assert note.token == b"\x0d" and note.observe == 2 and note.content_format == 110
    assert b"+01:00" in bytes(note.payload) and b'"UQ"' in bytes(note.payload)
    fetch.mid = 0x79
    fetch.observe = 1
    core.receive_datagram(m.to_bytes(fetch), SERVER, 3)
    (data, _), = core.datagrams_to_send()
    answer = m.decode(data)
    assert answer.code == m.CONTENT and answer.observe is None
    assert len(core.client.observations) == 0
