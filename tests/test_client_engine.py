"""The client core driven datagram by datagram: corner cases of registration requests,
conditional and block-wise requests, and values that cannot be the resource's type."""

from __future__ import annotations

import random

import pytest

from lwm2m_client.core.client import events as ev
from lwm2m_client.core.client import registration as reg_fsm
from lwm2m_client.core.client import setup
from lwm2m_client.core.client.engine import ClientConfig, ClientCore
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.coap import options as o
from lwm2m_client.core.coap.message import Message, decode, to_bytes
from lwm2m_client.core.content import CF_CBOR, CF_LINK, CF_SENML_JSON, CF_TEXT
from lwm2m_client.core.dm.tree import ObjectTree
from lwm2m_client.models import shipped_objects

SERVER = ("10.0.0.2", 5683)
OBJECTS = shipped_objects()


class Client:
    def __init__(self, block_size: int = 1024, version: str = "1.1") -> None:
        tree = ObjectTree([OBJECTS[i] for i in (0, 1, 3, 4, 19, 3305)])
        setup.add_security(tree, 0, "coap://server", ssid=1)
        setup.add_server(tree, 0, 1, lifetime=600)
        setup.add_device(tree, "ACME", "M1", "SN1", "1.0")
        setup.add_connectivity(tree)
        tree.create_instance(3305, 0, {5800: 1.5})
        self.tree = tree
        self.core = ClientCore(ClientConfig("c1", version=version, block_size=block_size,
                                            max_body=1024, jitter=0), tree, random.Random(5))
        self.core.set_address(1, SERVER)
        self.now = 1000
        self.core.start(self.now)
        self.core.handle_timer(self.core.get_timer())

    def sent(self) -> list[Message]:
        out = []
        for data, addr in self.core.datagrams_to_send():
            assert addr == SERVER
            out.append(decode(data))
        return out

    def answer(self, req: Message, code: int, **options: object) -> None:
        ack = Message(m.ACK, code, req.mid, req.token)
        for name, value in options.items():
            setattr(ack, name, value)
        self.now += 10
        self.core.receive_datagram(to_bytes(ack), SERVER, self.now)

    def register(self) -> None:
        (req,) = self.sent()
        self.answer(req, m.CREATED, location_path=["rd", "7"])
        assert self.core.next_event() == ev.Registered(1, ["rd", "7"])

    def request(self, code: int, path: str, payload: bytes = b"", cf: int | None = None,
                **options: object) -> list[Message]:
        msg = Message(m.CON, code, 0x4000 + self.now % 1000, b"\x05", payload=payload)
        msg.uri_path = path
        if cf is not None:
            msg.content_format = cf
        for name, value in options.items():
            setattr(msg, name, value)
        self.now += 10
        self.core.receive_datagram(to_bytes(msg), SERVER, self.now)
        return self.sent()


def test_malformed_block1_echo_fails_the_register_without_raising():
    client = Client(block_size=16)
    (req,) = client.sent()
    assert req.block1 == (0, True, 0)
    ack = Message(m.ACK, m.CONTINUE, req.mid, req.token)
    ack.options.append((o.BLOCK1, b"\0\0\0\0"))  # four bytes: no Block1 value (RFC 7959 2.2)
    client.core.receive_datagram(to_bytes(ack), SERVER, 1100)
    reg = client.core.registration(1)
    # The attempt failed and the failure procedure waits for the next one.
    assert reg.state == reg_fsm.ST_RETRY_WAIT and reg.get_timer() == 1100 + 60000


def test_success_before_the_last_block_is_no_registration():
    client = Client(block_size=16)
    (req,) = client.sent()
    client.answer(req, m.CREATED, location_path=["rd", "7"])
    assert client.core.registration(1).state == reg_fsm.ST_RETRY_WAIT
    assert client.core.next_event() is None


def test_register_object_list_in_blocks_completes():
    client = Client(block_size=32)
    body = b""
    while True:
        (req,) = client.sent()
        body += bytes(req.payload)
        num, more, szx = req.block1
        if not more:
            break
        client.answer(req, m.CONTINUE, block1=(num, True, szx))
    client.answer(req, m.CREATED, location_path=["rd", "9"], block1=(num, False, szx))
    assert client.core.next_event() == ev.Registered(1, ["rd", "9"])
    assert req.content_format == CF_LINK and b"</3305/0>" in body


def test_update_answer_arriving_after_disable_is_not_the_deregister_answer():
    client = Client()
    client.register()
    reg = client.core.registration(1)
    client.core.trigger_update(client.now)
    (update,) = client.sent()
    # The server executes Disable (/1/0/4) while its answer to the Update is on the way.
    answer, deregister = client.request(m.POST, "/1/0/4")
    assert answer.code == m.CHANGED and deregister.code == m.DELETE
    client.answer(update, m.CHANGED)
    assert reg.state == reg_fsm.ST_DEREGISTERING and client.core.deregistering()
    client.answer(deregister, m.DELETED)
    assert reg.state == reg_fsm.ST_DISABLED
    events = list(iter(client.core.next_event, None))
    assert events[-1] == ev.Deregistered(1, True)
    assert ev.Deregistered(1, True) not in events[:-1]


def test_one_write_of_lifetime_and_binding_sends_one_update():
    client = Client()
    client.register()
    body = b'[{"bn":"/1/0/","n":"1","v":300},{"n":"7","vs":"UQ"}]'
    answer, update = client.request(m.POST, "/1/0", body, CF_SENML_JSON)
    assert answer.code == m.CHANGED
    assert update.uri_path == "/rd/7" and update.uri_query == ["lt=300", "b=U", "Q"]
    client.answer(update, m.CHANGED)
    assert client.sent() == []  # no second, empty Update


@pytest.mark.parametrize("num", [0, 3])
def test_write_with_block2_option_is_answered_plainly(num):
    client = Client()
    client.register()
    (answer,) = client.request(m.PUT, "/1/0/2", b"42", CF_TEXT, block2=(num, False, 2))
    assert answer.code == m.CHANGED and answer.block2 is None and answer.etag is None
    assert client.tree.get((1, 0, 2)) == 42


@pytest.mark.parametrize("payload", [b"\xf9\x7c\x00", b"\xf9\x7e\x00", b"\xfb\x7f\xf0" + bytes(6)])
def test_infinite_or_nan_float_for_an_integer_resource_is_a_bad_request(payload):
    client = Client()
    client.register()
    (answer,) = client.request(m.PUT, "/1/0/2", payload, CF_CBOR)
    assert answer.code == m.BAD_REQUEST
    assert not client.tree.has((1, 0, 2))


def test_conditional_request_is_refused_not_applied():
    client = Client()
    client.register()
    msg_options = {"if_none_match": True}
    (answer,) = client.request(m.PUT, "/1/0/2", b"77", CF_TEXT, **msg_options)
    assert answer.code == m.BAD_OPTION and not client.tree.has((1, 0, 2))


@pytest.mark.parametrize("depth", ["\u00b3", "\u0663", "4", "10"])
def test_discover_depth_takes_ascii_digits_0_to_3(depth):
    client = Client()
    client.register()
    (answer,) = client.request(m.GET, "/3/0", accept=CF_LINK)
    assert answer.code == m.CONTENT
    msg = Message(m.CON, m.GET, 0x6000, b"\x06")
    msg.uri_path = "/3/0"
    msg.accept = CF_LINK
    msg.add_option(o.URI_QUERY, "depth=" + depth)
    client.core.receive_datagram(to_bytes(msg), SERVER, 2000)
    (answer,) = client.sent()
    assert answer.code == m.BAD_REQUEST


@pytest.mark.parametrize("version,code", [("1.1", m.METHOD_NOT_ALLOWED), ("1.2", m.DELETED)])
def test_resource_instance_delete_is_for_lwm2m_1_2(version, code):
    client = Client(version=version)
    client.register()
    client.tree.create_instance(19, 0, {0: {0: b"a", 1: b"b"}})
    (answer,) = client.request(m.DELETE, "/19/0/0/1")
    assert answer.code == code
    assert client.tree.get((19, 0, 0)) == ({0: b"a"} if code == m.DELETED else
                                           {0: b"a", 1: b"b"})
    # Deleting a resource instance leaves the object list as it was: no Update.
    assert client.sent() == []
