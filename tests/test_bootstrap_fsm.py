"""The client's bootstrap state machine (LwM2M Core 1.1 section 6.1), on its own and in
the client core, on a virtual clock: the test plays the Bootstrap-Server."""

from __future__ import annotations

import random

import pytest

from lwm2m_client.core.client import bootstrap as bs
from lwm2m_client.core.client import events as ev
from lwm2m_client.core.client import setup
from lwm2m_client.core.client.engine import ClientConfig, ClientCore
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.coap.message import Message, decode, to_bytes
from lwm2m_client.core.dm.tree import ObjectTree
from lwm2m_client.models import shipped_objects

BS_ADDR = ("10.0.0.5", 5683)
SERVER = ("10.0.0.9", 5683)
OBJECTS = shipped_objects()


def requests(out):
    return [x for x in out if not isinstance(x, ev.Event)]


def events(out):
    return [x for x in out if isinstance(x, ev.Event)]


def test_the_table_has_a_row_per_state_and_a_column_per_event():
    assert len(bs.TRANSITIONS) == len(bs.STATE_NAMES)
    for row in bs.TRANSITIONS:
        assert len(row) == bs.EV_STOP + 1
        for action in row:
            assert action is None or hasattr(bs.Bootstrap, action)


def test_bootstrap_request_names_the_endpoint_and_the_preferred_format():
    # Core 1.1 section 6.1.3 / Transport 1.1 section 6.4.2: POST /bs?ep=&pct= (pct 1.1+).
    machine = bs.Bootstrap("meter-1", "1.1", pct=112)
    (req,) = requests(machine.start(0))
    assert (req.method, req.uri_path, req.uri_query) == (2, ["bs"], ["ep=meter-1", "pct=112"])
    (req,) = requests(bs.Bootstrap("meter-1", "1.0", pct=112).start(0))
    assert req.uri_query == ["ep=meter-1"]


def test_client_hold_off_waits_for_a_server_initiated_bootstrap():
    # Core 1.1 section 6.1.4: during the Client Hold Off Time the Bootstrap-Server may
    # begin on its own; the client asks only when it did not.
    machine = bs.Bootstrap("m")
    assert machine.start(0, hold_off_s=10) == []
    assert machine.state == bs.BS_HOLD_OFF and machine.get_timer() == 10_000
    out = machine.handle(bs.EV_CONTACT, 4_000)
    assert events(out) == [ev.BootstrapStarted(0)] and requests(out) == []
    assert machine.state == bs.BS_WAITING
    other = bs.Bootstrap("m")
    other.start(0, hold_off_s=10)
    assert requests(other.handle_timer(10_000))  # nobody came: it asks


def test_failed_requests_back_off_with_jitter_and_a_cap():
    machine = bs.Bootstrap("m", rng=random.Random(1), retry_ms=1000, max_retry_ms=8000)
    machine.start(0)
    now = 0
    waits = []
    for _ in range(6):
        (failed,) = events(machine.handle(bs.EV_ERROR, now, m.BAD_REQUEST))
        assert failed.code == m.BAD_REQUEST
        waits.append(failed.retry_ms)
        now = machine.get_timer()
        assert requests(machine.handle_timer(now))
    nominal = [1000, 2000, 4000, 8000, 8000, 8000]
    for wait, top in zip(waits, nominal, strict=True):
        assert top // 2 <= wait <= top


def test_no_finish_in_time_is_a_failure_and_a_new_request():
    machine = bs.Bootstrap("m", wait_ms=5000, retry_ms=1000)
    machine.start(0)
    machine.handle(bs.EV_SUCCESS, 100, m.CHANGED)
    assert machine.state == bs.BS_WAITING and machine.get_timer() == 5100
    machine.handle(bs.EV_CONTACT, 3000)  # every request of the server renews the wait
    assert machine.get_timer() == 8000
    (failed,) = events(machine.handle_timer(8000))
    assert failed.code is None and machine.state == bs.BS_RETRY_WAIT


def test_finish_and_the_bootstrap_server_account_timeout():
    # Object 0 resource 12: the Bootstrap-Server account goes that long after Finish.
    machine = bs.Bootstrap("m")
    machine.start(0, account_timeout_s=60)
    machine.handle(bs.EV_SUCCESS, 10, m.CHANGED)
    assert events(machine.handle(bs.EV_FINISHED, 1000)) == [ev.BootstrapFinished()]
    assert machine.get_timer() == 61_000
    assert machine.handle_timer(61_000) == [bs.PURGE]


def test_a_fleet_does_not_retry_in_step():
    waits = set()
    for seed in range(200):
        machine = bs.Bootstrap("m", rng=random.Random(seed), retry_ms=60_000)
        machine.start(0)
        (failed,) = events(machine.handle(bs.EV_ERROR, 0, m.SERVICE_UNAVAILABLE))
        waits.add(failed.retry_ms // 1000)
    assert len(waits) > 25  # spread over the 30 s between half and all of the wait


# -- in the client core -------------------------------------------------------------------


def client(lwm2m_server=False, hold_off=None, storing=True):
    tree = ObjectTree([OBJECTS[i] for i in (0, 1, 3)])
    setup.add_security(tree, None, "coap://bootstrap", bootstrap=True, hold_off=hold_off or 0)
    if lwm2m_server:
        setup.add_security(tree, None, "coap://server", ssid=1)
        setup.add_server(tree, None, 1, lifetime=300, retry_count=1,
                         sequence_retry_count=1, bootstrap_on_failure=True)
    setup.add_device(tree, "ACME", "M1", "SN1", "1.0")
    core = ClientCore(ClientConfig("bs-1", jitter=0), tree, random.Random(3))
    core.set_address(0, BS_ADDR)
    if lwm2m_server:
        core.set_address(1, SERVER)
    return core


def drain(core):
    out = []
    while (e := core.next_event()) is not None:
        out.append(e)
    return out


def test_registration_failure_falls_back_to_bootstrap():
    # Object 1 resource 16 true: a registration that failed for good bootstraps.
    core = client(lwm2m_server=True)
    core.start(0)
    now = 0
    for _ in range(10):
        sent = [(decode(d), a) for d, a in core.datagrams_to_send()]
        for msg, addr in sent:
            if addr == SERVER and msg.code == m.POST:
                core.receive_datagram(to_bytes(Message(m.ACK, m.FORBIDDEN, msg.mid,
                                                       msg.token)), SERVER, now)
            if addr == BS_ADDR:
                assert msg.uri_path == "/bs"
                kinds = [type(e) for e in drain(core)]
                assert ev.BootstrapStarted in kinds
                return
        now = core.get_timer()
        core.handle_timer(now)
    pytest.fail("no Bootstrap-Request after the registration failed")


def test_bootstrap_request_trigger_executes_a_bootstrap():
    # Object 1 resource 9 (Core 1.1 E.2): Execute asks the client to bootstrap.
    core = client(lwm2m_server=True)
    core.start(0)
    core.handle_timer(core.get_timer())
    (reg,) = [decode(d) for d, _ in core.datagrams_to_send()]
    ack = Message(m.ACK, m.CREATED, reg.mid, reg.token)
    ack.location_path = ["rd", "1"]
    core.receive_datagram(to_bytes(ack), SERVER, 10)
    execute = Message(m.CON, m.POST, 0x700, b"\x01")
    execute.uri_path = "/1/0/9"
    core.receive_datagram(to_bytes(execute), SERVER, 20)
    out = [(decode(d), a) for d, a in core.datagrams_to_send()]
    assert out[0][0].code == m.CHANGED
    assert [(x.uri_path, a) for x, a in out[1:]] == [("/bs", BS_ADDR)]
