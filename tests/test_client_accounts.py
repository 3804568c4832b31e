"""Server accounts come from /0 and /1 of the tree; the client layers; misuse errors.

Driven datagram by datagram through the sans-IO ClientCore (and the message-level
LwM2MClient under it), with the addresses the test gives: no network is involved, the
point is what the core derives from its tree and what it sends.
"""

from __future__ import annotations

import random

import pytest

from lwm2m_client.core.client import events as ev
from lwm2m_client.core.client import setup
from lwm2m_client.core.client.client import LwM2MClient
from lwm2m_client.core.client.engine import ClientConfig, ClientCore
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.coap.message import Message, decode, to_bytes
from lwm2m_client.core.coap.messaging import Tuning
from lwm2m_client.core.dm.tree import ObjectTree
from lwm2m_client.core.errors import LwM2MError, UsageError
from lwm2m_client.models import shipped_objects

OBJECTS = shipped_objects()
ADDR = {1: ("10.0.0.1", 5683), 2: ("10.0.0.2", 5683)}


def tree_with(*accounts: tuple[int, int], bootstrap: bool = False) -> ObjectTree:
    """A tree with one /0 + /1 pair per (ssid, lifetime)."""
    tree = ObjectTree([OBJECTS[i] for i in (0, 1, 3)])
    for ssid, lifetime in accounts:
        setup.add_security(tree, None, f"coap://server-{ssid}", ssid=ssid)
        setup.add_server(tree, None, ssid, lifetime=lifetime)
    if bootstrap:
        setup.add_security(tree, None, "coap://bootstrap", bootstrap=True)
    setup.add_device(tree, "ACME", "M1", "SN1", "1.0")
    return tree


def core_for(tree: ObjectTree, version: str = "1.1") -> ClientCore:
    return ClientCore(ClientConfig("ep", version=version, jitter=0), tree, random.Random(1))


def sent(core: ClientCore) -> list[tuple[Message, object]]:
    return [(decode(data), addr) for data, addr in core.datagrams_to_send()]


def answer(core: ClientCore, req: Message, addr: object, code: int, now: int,
           **options: object) -> None:
    ack = Message(m.ACK, code, req.mid, req.token)
    for name, value in options.items():
        setattr(ack, name, value)
    core.receive_datagram(to_bytes(ack), addr, now)


def events(core: ClientCore) -> list[object]:
    out = []
    while (event := core.next_event()) is not None:
        out.append(event)
    return out


def test_one_account_from_the_tree():
    core = core_for(tree_with((1, 300)))
    assert core.accounts() == [(1, "coap://server-1", None)]
    core.set_address(1, ADDR[1])
    core.start(0)
    core.handle_timer(core.get_timer())
    ((req, addr),) = sent(core)
    assert addr == ADDR[1] and req.uri_path == "/rd" and "lt=300" in req.uri_query


def test_two_accounts_register_each_with_its_own_lifetime():
    core = core_for(tree_with((2, 120), (1, 300)))
    assert [a[:2] for a in core.accounts()] == [(1, "coap://server-1"), (2, "coap://server-2")]
    for ssid in (1, 2):
        core.set_address(ssid, ADDR[ssid])
    core.start(0)
    core.handle_timer(core.get_timer())
    out = sent(core)
    assert sorted(addr for _, addr in out) == [ADDR[1], ADDR[2]]
    for req, addr in out:
        lifetime = 300 if addr == ADDR[1] else 120
        assert f"lt={lifetime}" in req.uri_query
        answer(core, req, addr, m.CREATED, 10, location_path=["rd", str(lifetime)])
    assert sorted(e.ssid for e in events(core) if isinstance(e, ev.Registered)) == [1, 2]
    assert core.serves(ADDR[1]) and core.serves(ADDR[2])


def test_set_address_twice_keeps_one_registration():
    core = core_for(tree_with((1, 300)))
    core.set_address(1, ADDR[2])
    core.set_address(1, ADDR[1])
    core.start(0)
    core.handle_timer(core.get_timer())
    ((_, addr),) = sent(core)
    assert addr == ADDR[1] and len(core.accounts()) == 1


@pytest.mark.parametrize("duplicate", ["server", "security"])
def test_duplicate_short_server_id_is_an_error_at_start(duplicate):
    tree = tree_with((1, 300))
    if duplicate == "server":
        tree.create_instance(1, 1, {0: 1, 1: 60, 6: True, 7: "U"})
    else:
        setup.add_security(tree, None, "coap://other", ssid=1)
    core = core_for(tree)
    oid = 1 if duplicate == "server" else 0
    with pytest.raises(UsageError, match=f"Short Server ID 1 is in /{oid}/0 and /{oid}/1"):
        core.start(0)


def test_no_account_is_an_error_at_start():
    with pytest.raises(UsageError, match="neither an LwM2M Server nor a Bootstrap-Server"):
        core_for(tree_with()).start(0)


def test_a_bootstrap_server_account_alone_bootstraps_at_start():
    # Core 1.1 section 6.1.3: with no LwM2M Server account the client asks its
    # Bootstrap-Server; the account is listed with Short Server ID 0.
    core = core_for(tree_with(bootstrap=True))
    ((ssid, uri, addr),) = core.accounts()
    assert ssid == 0 and addr is None
    core.set_address(0, ("10.0.0.7", 5683))
    core.start(0)  # jitter 0: at once
    (data, addr), = core.datagrams_to_send()
    request = decode(data)
    assert addr == ("10.0.0.7", 5683) and request.code == m.POST
    assert request.uri_path == "/bs" and "ep=" + core.config.endpoint in request.strings(15)


def test_half_account_is_an_error_at_start():
    tree = tree_with((1, 300))
    setup.add_server(tree, None, 7)
    with pytest.raises(UsageError, match="Short Server ID 7.* has no /0 instance"):
        core_for(tree).accounts()


def test_account_without_address_asks_for_one_and_registers_when_given():
    core = core_for(tree_with((1, 300)))
    core.start(0)
    assert events(core) == [ev.AddressNeeded(1, "coap://server-1")]
    assert core.get_timer() is None and sent(core) == []
    core.set_address(1, ADDR[1], 50)
    core.handle_timer(core.get_timer())
    ((req, addr),) = sent(core)
    assert addr == ADDR[1] and req.uri_path == "/rd"


def registered(core: ClientCore, ssid: int = 1) -> None:
    core.set_address(ssid, ADDR[ssid])
    core.start(0)
    core.handle_timer(core.get_timer())
    ((req, addr),) = sent(core)
    answer(core, req, addr, m.CREATED, 5, location_path=["rd", "a"])
    events(core)


def server_request(core: ClientCore, code: int, path: str, now: int,
                   payload: bytes = b"", cf: int | None = None) -> list[Message]:
    msg = Message(m.CON, code, 0x100 + now, b"\x09", payload=payload)
    msg.uri_path = path
    if cf is not None:
        msg.content_format = cf
    core.receive_datagram(to_bytes(msg), ADDR[1], now)
    return [req for req, _ in sent(core)]


def test_server_write_of_lifetime_replaces_the_snapshot_and_updates_once():
    core = core_for(tree_with((1, 300)))
    registered(core)
    before = core.registration(1).params
    ack, update = server_request(core, m.PUT, "/1/0/1", 100, b"90", cf=0)
    assert ack.code == m.CHANGED and update.uri_path == "/rd/a"
    assert update.uri_query == ["lt=90"]
    assert before.lifetime == 300 and core.registration(1).params.lifetime == 90


def test_update_trigger_and_disable_follow_the_answer():
    core = core_for(tree_with((1, 300)))
    registered(core)
    ack, update = server_request(core, m.POST, "/1/0/8", 100)
    assert ack.code == m.CHANGED and update.code == m.POST and update.uri_path == "/rd/a"
    ack, dereg = server_request(core, m.POST, "/1/0/4", 200)
    assert ack.code == m.CHANGED and dereg.code == m.DELETE and dereg.uri_path == "/rd/a"


@pytest.mark.parametrize("code", [m.PRECONDITION_FAILED, m.BAD_REQUEST])
def test_refused_version_falls_back_at_once(code):
    core = core_for(tree_with((1, 300)), version="1.2")
    core.set_address(1, ADDR[1])
    core.start(0)
    core.handle_timer(core.get_timer())
    ((req, addr),) = sent(core)
    assert "lwm2m=1.2" in req.uri_query
    answer(core, req, addr, code, 10)
    ((req, addr),) = sent(core)
    assert "lwm2m=1.1" in req.uri_query
    answer(core, req, addr, m.CREATED, 20, location_path=["rd", "b"])
    got = events(core)
    assert got[0] == ev.VersionFallback(1, "1.2", "1.1", code)
    assert got[1] == ev.Registered(1, ["rd", "b"]) and got[1].version == "1.1"
    assert core.registration(1).version == "1.1"


def test_message_level_client_hands_out_whole_requests():
    client = LwM2MClient(ClientConfig("ep", block_size=16, jitter=0), tree_with((1, 300)),
                         random.Random(2))
    client.set_address(1, ADDR[1])
    client.start(0)
    client.handle_timer(client.get_timer())
    ((key, msg, addr),) = client.requests_to_send()
    # No block-wise at this level: the whole object list, however small the blocks.
    assert addr == ADDR[1] and msg.block1 is None and len(msg.payload) > 16
    client.response_received(key, Message(code=m.CREATED, options=[]), 10)
    # No Location-Path: no registration; the failure procedure goes on.
    assert not client.serves(ADDR[1])


def test_a_newer_request_cancels_the_one_in_flight():
    client = LwM2MClient(ClientConfig("ep", jitter=0), tree_with((1, 300)), random.Random(2))
    client.set_address(1, ADDR[1])
    client.start(0)
    client.handle_timer(client.get_timer())
    ((key, _, _),) = client.requests_to_send()
    client.stop(5)  # a Register in flight: De-register once it is answered
    reply = Message(code=m.CREATED)
    reply.location_path = ["rd", "c"]
    client.response_received(key, reply, 10)
    ((_, dereg, _),) = client.requests_to_send()
    assert dereg.code == m.DELETE and client.requests_to_cancel() == []


def test_stranger_gets_no_answer_at_the_message_level():
    client = LwM2MClient(ClientConfig("ep"), tree_with((1, 300)), random.Random(2))
    client.set_address(1, ADDR[1])
    msg = Message(m.CON, m.GET)
    msg.uri_path = "/3/0"
    assert client.handle_request(msg, ADDR[2], 0) is None


@pytest.mark.parametrize("kwargs, match", [
    ({"version": "2.0"}, "LwM2M version"),
    ({"block_size": 8}, "block_size"),
    ({"block_size": 1024, "message_size": 512}, "does not fit message_size"),
    ({"message_size": 600, "tuning": Tuning(max_message_size=1152)}, "differs"),
    ({"max_body": 100}, "max_body"),
    ({"jitter": 2}, "jitter"),
    ({"preferred_format": 12345}, "content format 12345"),
    ({"advertise_formats": [112, 9999]}, "content format 9999"),
])
def test_config_misuse_is_a_usage_error(kwargs, match):
    with pytest.raises(UsageError, match=match):
        ClientConfig("ep", **kwargs)
    assert not issubclass(UsageError, LwM2MError) and issubclass(UsageError, ValueError)


def test_message_size_comes_from_the_tuning():
    tuning = Tuning(max_message_size=600)
    assert ClientConfig("ep", tuning=tuning, block_size=512).message_size == 600
    assert ClientConfig("ep", message_size=600).tuning.max_message_size == 600


def test_start_twice_is_a_usage_error():
    core = core_for(tree_with((1, 300)))
    core.start(0)
    with pytest.raises(UsageError, match="already started"):
        core.start(1)


def test_resource_changed_feeds_the_change_log():
    # A value the application computes (a read hook) is reported with resource_changed;
    # the tree's change log is what the notification machinery reads.
    tree = tree_with((1, 300))
    tree.on_read((3, 0, 9), lambda path: 87)
    core = core_for(tree)
    tree.drain_changes()
    core.resource_changed((3, 0, 9), 10)
    assert tree.drain_changes() == [(3, 0, 9)]


@pytest.mark.parametrize("path, payload", [("/1/0/1", b"-5"), ("/1/0/7", b"X"),
                                           ("/1/0/7", b"Q")])
def test_server_write_registration_cannot_use_is_refused(path, payload):
    core = core_for(tree_with((1, 300)))
    registered(core)
    (ack,) = server_request(core, m.PUT, path, 100, payload, cf=0)
    assert ack.code == m.BAD_REQUEST
    assert core.tree.get((1, 0, 1)) == 300 and core.tree.get((1, 0, 7)) == "U"


def test_a_new_client_on_the_same_tree_adds_no_second_check():
    # A simulated reboot makes a new core on the same tree: its hooks replace or match
    # the old ones, so the tree's hook lists do not grow with each boot.
    tree = tree_with((1, 300))
    core_for(tree)
    before = len(tree._checks)
    for _ in range(3):
        core_for(tree)
    assert len(tree._checks) == before
