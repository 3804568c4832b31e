"""A MemoryError while handling a request answers 5.00 (4.13 for a request body whose
values do not fit) and leaves the client running.

On a microcontroller a fragmented heap can fail any allocation. Here MemoryError is
injected on CPython by monkeypatching one function to raise it once (a codec's encoder,
a decoder, the endpoint's respond, ...); the real thing, MicroPython with a heap too
small, is exercised by the MicroPython heap benchmarks. After each failure the next
request must succeed.
"""

from __future__ import annotations

import itertools
import random

import pytest

from lwm2m_client.core.client import client as client_mod
from lwm2m_client.core.client import client as client_module
from lwm2m_client.core.client import registration as reg_fsm
from lwm2m_client.core.client import setup
from lwm2m_client.core.client.dm_handler import DMHandler
from lwm2m_client.core.client.engine import ClientConfig, ClientCore
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.coap import messaging
from lwm2m_client.core.coap.message import Message, decode, to_bytes
from lwm2m_client.core.content import CF_SENML_CBOR, CF_TEXT, CF_TLV, senml_cbor, text, tlv
from lwm2m_client.core.dm.tree import ObjectTree
from lwm2m_client.mp.meter_models import OBJECTS

SERVER = ("10.0.0.1", 5683)
_MIDS = itertools.count(0x300)


def fail_once(monkeypatch: pytest.MonkeyPatch, owner: object, name: str,
              times: int = 1) -> list[int]:
    """Make ``owner.name`` raise MemoryError on its next ``times`` calls, then behave.
    Returns a one-item list counting the calls that raised."""
    real = getattr(owner, name)
    raised = [0]

    def wrapper(*args: object, **kwargs: object) -> object:
        if raised[0] < times:
            raised[0] += 1
            raise MemoryError
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, wrapper)
    return raised


def meter() -> ClientCore:
    tree = ObjectTree([OBJECTS[oid] for oid in (0, 1, 3, 5, 10243)])
    setup.add_security(tree, 0, "coap://10.0.0.1:5683", ssid=1)
    setup.add_server(tree, 0, 1, lifetime=300)
    setup.add_device(tree, "ACME", "E1", "SN-1", "1.0")
    tree.create_instance(10243, 0, {4: 230.5, 5: 1.25, 14: 1234.5})
    core = ClientCore(ClientConfig("meter", formats=(CF_SENML_CBOR, CF_TLV, CF_TEXT)), tree,
                      random.Random(1))
    core.set_address(1, SERVER)
    core.start(0)
    core.handle_timer(core.get_timer() or 0)
    ((data, _),) = core.datagrams_to_send()
    reg = decode(data)
    ack = Message(m.ACK, m.CREATED, reg.mid, reg.token)
    ack.location_path = ["rd", "1"]
    core.receive_datagram(to_bytes(ack), SERVER, 10)
    assert core.registration(1).is_registered
    return core


def send(core: ClientCore, code: int, path: str, accept: int | None = None,
         cf: int | None = None, payload: bytes = b"") -> list[Message]:
    req = Message(m.CON, code, next(_MIDS), b"\x09", payload=payload)
    req.uri_path = path
    if accept is not None:
        req.accept = accept
    if cf is not None:
        req.content_format = cf
    core.receive_datagram(to_bytes(req), SERVER, 100)
    return [decode(data) for data, _ in core.datagrams_to_send()]


def read(core: ClientCore, path: str = "/10243/0", accept: int = CF_SENML_CBOR) -> Message:
    (resp,) = send(core, m.GET, path, accept)
    return resp


@pytest.mark.parametrize("strict", [False, True])
def test_encoder_out_of_memory_answers_5_00_then_reads_work(monkeypatch, strict):
    # MemoryError is no bug: 5.00 also when DMHandler.strict lets other exceptions out.
    monkeypatch.setattr(DMHandler, "strict", strict)
    core = meter()
    raised = fail_once(monkeypatch, senml_cbor, "encode_into")
    assert read(core).code == m.INTERNAL_SERVER_ERROR
    assert raised == [1]
    resp = read(core)
    assert resp.code == m.CONTENT and resp.content_format == CF_SENML_CBOR
    assert dict(senml_cbor.decode(resp.payload))[(10243, 0, 4)] == 230.5


def test_request_body_out_of_memory_answers_4_13(monkeypatch):
    core = meter()
    fail_once(monkeypatch, text, "decode")
    (resp,) = send(core, m.PUT, "/1/0/1", cf=CF_TEXT, payload=b"120")
    assert resp.code == m.REQUEST_ENTITY_TOO_LARGE
    assert core.tree.get((1, 0, 1)) == 300  # nothing applied
    (resp, update) = send(core, m.PUT, "/1/0/1", cf=CF_TEXT, payload=b"120")
    assert resp.code == m.CHANGED and update.code == m.POST  # the Update with lt=120
    assert core.tree.get((1, 0, 1)) == 120


def test_create_body_out_of_memory_answers_4_13(monkeypatch):
    core = meter()
    raised = fail_once(monkeypatch, tlv, "decode")
    payload = bytes([0xC4, 4]) + b"\x43\x66\x80\x00"  # /10243/x/4 = 230.5 (float32)
    (resp,) = send(core, m.POST, "/10243", cf=CF_TLV, payload=payload)
    assert resp.code == m.REQUEST_ENTITY_TOO_LARGE and raised == [1]
    assert core.tree.instances(10243) == [0]
    assert read(core).code == m.CONTENT


def test_handler_out_of_memory_is_5_00_at_the_message_level(monkeypatch):
    core = meter()
    fail_once(monkeypatch, DMHandler, "handle")
    assert read(core).code == m.INTERNAL_SERVER_ERROR
    assert read(core).code == m.CONTENT


def test_no_heap_even_for_the_5_00_message_means_no_answer(monkeypatch):
    # LwM2MClient.handle_request: the handler fails, and so does the 5.00 Message.
    core = meter()
    fail_once(monkeypatch, DMHandler, "handle")
    real = m.Message
    raised = []

    def no_5_00(*args: object, **kwargs: object) -> Message:
        if kwargs.get("code") == m.INTERNAL_SERVER_ERROR and not raised:
            raised.append(1)
            raise MemoryError
        return real(*args, **kwargs)

    monkeypatch.setattr(client_mod.m, "Message", no_5_00)
    assert send(core, m.GET, "/10243/0", CF_SENML_CBOR) == []
    assert raised == [1]
    assert read(core).code == m.CONTENT


def test_follow_up_out_of_memory_keeps_the_answer(monkeypatch):
    # The Write took effect, so its 2.04 stands even though the event and the Update
    # that follow could not be made.
    core = meter()
    fail_once(monkeypatch, client_mod.ev, "OperationPerformed")
    (resp,) = send(core, m.PUT, "/1/0/1", cf=CF_TEXT, payload=b"90")
    assert resp.code == m.CHANGED and core.tree.get((1, 0, 1)) == 90
    assert read(core).code == m.CONTENT


def test_respond_out_of_memory_retries_with_5_00(monkeypatch):
    core = meter()
    fail_once(monkeypatch, core.endpoint, "respond")
    assert read(core).code == m.INTERNAL_SERVER_ERROR
    assert read(core).code == m.CONTENT


def test_no_heap_for_any_answer_drops_the_request(monkeypatch):
    core = meter()
    raised = fail_once(monkeypatch, core.endpoint, "respond", times=2)
    assert send(core, m.GET, "/10243/0", CF_SENML_CBOR) == []
    assert raised == [2]
    assert read(core).code == m.CONTENT


def test_undecodable_for_lack_of_heap_is_dropped(monkeypatch):
    core = meter()
    fail_once(monkeypatch, messaging.m, "decode")
    assert send(core, m.GET, "/10243/0", CF_SENML_CBOR) == []
    assert read(core).code == m.CONTENT


def test_block1_transfer_abandoned_by_out_of_memory_starts_afresh(monkeypatch):
    core = meter()
    body = b"\x00" * 40
    req = Message(m.CON, m.PUT, next(_MIDS), b"\x03", payload=body[:16])
    req.uri_path = "/5/0/0"
    req.content_format = CF_TEXT
    req.block1 = (0, True, 0)
    core.receive_datagram(to_bytes(req), SERVER, 100)
    ((data, _),) = core.datagrams_to_send()
    assert decode(data).code == m.CONTINUE
    fail_once(monkeypatch, core, "_block1_sink")
    req = Message(m.CON, m.PUT, next(_MIDS), b"\x03", payload=body[16:32])
    req.uri_path = "/5/0/0"
    req.content_format = CF_TEXT
    req.block1 = (1, True, 0)
    core.receive_datagram(to_bytes(req), SERVER, 101)
    ((data, _),) = core.datagrams_to_send()
    assert decode(data).code == m.INTERNAL_SERVER_ERROR
    assert core._block1 is not None and not core._block1.active
    assert read(core).code == m.CONTENT


def test_response_out_of_memory_counts_as_no_response(monkeypatch):
    # The client's own request: an answer it cannot process is handled as a timeout by
    # the registration failure procedure, not waited for in vain.
    core = meter()
    core.trigger_update(200)
    ((data, _),) = core.datagrams_to_send()
    update = decode(data)
    assert core.registration(1).state == reg_fsm.ST_UPDATING
    fail_once(monkeypatch, client_module, "answer_outputs")
    core.receive_datagram(to_bytes(Message(m.ACK, m.CHANGED, update.mid, update.token)),
                          SERVER, 210)
    # An Update that got no answer means: register afresh (Transport 1.1 6.4.3).
    ((data, _),) = core.datagrams_to_send()
    again = decode(data)
    assert again.code == m.POST and again.uri_path == "/rd"
    assert core.registration(1).state == reg_fsm.ST_REGISTERING


def test_own_request_without_heap_fails_and_is_retried(monkeypatch):
    # An Update that cannot be handed to the endpoint fails at once; the failure
    # procedure (register afresh after a failed Update) takes over at once too.
    core = meter()
    fail_once(monkeypatch, core.endpoint, "request")
    core.trigger_update(200)
    ((data, _),) = core.datagrams_to_send()
    again = decode(data)
    assert again.code == m.POST and again.uri_path == "/rd"
