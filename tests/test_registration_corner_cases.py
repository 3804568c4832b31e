"""Registration corner cases: a Lifetime written while an Update is in flight, stop()
while a Disable's De-register is in flight, and the MicroPython loop's life cycle."""

from __future__ import annotations

import time

import pytest
from test_client_engine import Client

from lwm2m_client.core.client import registration as reg_fsm
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.content import CF_TEXT
from lwm2m_client.core.errors import UsageError


def test_lifetime_written_while_an_update_is_in_flight_gets_its_own_update():
    client = Client()
    client.register()
    client.core.trigger_update(client.now)
    (update,) = client.sent()
    assert update.uri_query == []
    (answer,) = client.request(m.PUT, "/1/0/1", b"300", CF_TEXT)
    assert answer.code == m.CHANGED
    client.answer(update, m.CHANGED)
    (follow_up,) = client.sent()
    assert follow_up.uri_query == ["lt=300"]  # the first Update did not carry it


def test_stop_while_disable_deregisters_does_not_register_again():
    client = Client()
    client.register()
    answer, deregister = client.request(m.POST, "/1/0/4")
    assert answer.code == m.CHANGED and deregister.code == m.DELETE
    client.core.stop(client.now)
    assert client.sent() == []
    client.answer(deregister, m.DELETED)
    reg = client.core.registration(1)
    assert reg.state == reg_fsm.ST_DEREGISTERED and client.core.get_timer() is None


def test_mp_client_start_twice_and_step_before_start_are_usage_errors():
    import random

    from lwm2m_client.core.client import setup
    from lwm2m_client.core.client.engine import ClientConfig, ClientCore
    from lwm2m_client.core.dm.tree import ObjectTree
    from lwm2m_client.models import shipped_objects
    from lwm2m_client.mp.clock import Clock
    from lwm2m_client.mp.udp import MpClient

    objects = shipped_objects()
    tree = ObjectTree([objects[i] for i in (0, 1, 3)])
    setup.add_security(tree, 0, "coap://127.0.0.1:9", ssid=1)
    setup.add_server(tree, 0, 1)
    setup.add_device(tree, "ACME", "M1", "SN1", "1.0")
    core = ClientCore(ClientConfig("c1", jitter=0), tree, random.Random(1))
    clock = Clock(lambda: int(time.monotonic() * 1000), lambda a, b: a - b)
    client = MpClient(core, clock=clock)
    with pytest.raises(UsageError):
        client.step(0)
    client.start()
    sock = client.sock
    try:
        with pytest.raises(UsageError):
            client.start()
        assert client.sock is sock  # no second socket, the first one still in use
    finally:
        client.close()
    assert sock.fileno() == -1
