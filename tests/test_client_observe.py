"""Observe and notify (RFC 7641; LwM2M Core 1.1 sections 5.1 and 6.4) on the datagram-level
core with a virtual clock, and over real UDP against the embedded server.

The virtual-clock tests feed the core the server's datagrams and read what it sends:
each names the clause whose behaviour it checks.
"""

from __future__ import annotations

import random

import pytest

from lwm2m_client.aio.udp import UdpClient
from lwm2m_client.core.client import setup
from lwm2m_client.core.client.engine import ClientConfig, ClientCore
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.coap.message import Message, decode, to_bytes
from lwm2m_client.core.content import CF_SENML_CBOR, CF_TEXT
from lwm2m_client.core.dm.tree import ObjectTree
from lwm2m_client.models import shipped_objects
from lwm2m_client.server import LwM2MServer

SERVER = ("10.0.0.9", 5683)
POWER = (3305, 0, 5800)  # Instantaneous active power, Float, R
OBJECTS = shipped_objects()


class Meter:
    def __init__(self, default_pmin=None, default_pmax=None, max_observations=8,
                 storing=True):
        tree = ObjectTree([OBJECTS[i] for i in (0, 1, 3, 3305)])
        setup.add_security(tree, 0, "coap://server", ssid=1)
        setup.add_server(tree, 0, 1, lifetime=172800, default_pmin=default_pmin,
                         default_pmax=default_pmax, notification_storing=storing)
        setup.add_device(tree, "ACME", "M1", "SN1", "1.0")
        tree.create_instance(3305, 0, {5800: 1.0})
        self.tree = tree
        self.core = ClientCore(ClientConfig("obs-1", jitter=0,
                                            max_observations=max_observations),
                               tree, random.Random(3))
        self.core.set_address(1, SERVER)
        self.now = 0
        self.core.start(0)
        self.core.handle_timer(self.core.get_timer())
        ((req, _),) = self.sent()
        ack = Message(m.ACK, m.CREATED, req.mid, req.token)
        ack.location_path = ["rd", "1"]
        self.core.receive_datagram(to_bytes(ack), SERVER, 0)
        self.mid = 0x100

    def sent(self):
        return [(decode(d), a) for d, a in self.core.datagrams_to_send()]

    def request(self, code, path, token=b"\x0b", observe=None, payload=b"", cf=None,
                query=()):
        self.mid += 1
        msg = Message(m.CON, code, self.mid, token, payload=payload)
        msg.uri_path = path
        for q in query:
            msg.add_option(15, q)
        if observe is not None:
            msg.observe = observe
        if cf is not None:
            msg.content_format = cf
        msg.accept = CF_TEXT if code == m.GET else None
        self.core.receive_datagram(to_bytes(msg), SERVER, self.now)
        return [msg for msg, _ in self.sent()]

    def run_until(self, t_ms):
        """Advance the virtual clock, firing the core's timers; the notifications sent
        (responses on an observation's token; the client's own requests, such as the
        Update near the end of a long lifetime, are left out)."""
        out = []
        while True:
            deadline = self.core.get_timer()
            if deadline is None or deadline > t_ms:
                break
            self.now = max(self.now, deadline)
            self.core.handle_timer(self.now)
            out += [msg for msg, _ in self.sent() if m.code_class(msg.code) >= 2]
        self.now = t_ms
        return out

    def set_power(self, value):
        self.tree.set(POWER, value)


def observe(meter, path="/3305/0/5800", token=b"\x0b"):
    (answer,) = meter.request(m.GET, path, token=token, observe=0)
    assert answer.code == m.CONTENT and answer.observe is not None
    return answer


def test_observe_answers_with_an_observe_value_and_notifies_a_change():
    # RFC 7641 section 3.2: the answer carries Observe; a change is notified at once
    # when no pmin is in force (Core 1.1 section 5.1.1: pmin defaults to 0).
    meter = Meter()
    first = observe(meter)
    assert first.payload == b"1.0"
    meter.now = 1000
    meter.set_power(2.5)
    (note,) = meter.run_until(1000)
    assert note.token == b"\x0b" and note.code == m.CONTENT and note.payload == b"2.5"
    assert note.mtype == m.NON and note.observe > first.observe


def test_no_change_no_notification_without_pmax():
    meter = Meter()
    observe(meter)
    assert meter.run_until(3_600_000) == []


def test_pmin_holds_changes_back_and_sends_the_latest_value():
    # Core 1.1 section 5.1.1.1: not more often than pmin; the value sent is the current
    # one when the period ends.
    meter = Meter()
    meter.request(m.PUT, "/3305/0/5800", query=("pmin=10",))
    observe(meter)
    meter.now = 2000
    meter.set_power(2.0)
    meter.now = 4000
    meter.set_power(3.0)
    assert meter.run_until(9999) == []
    (note,) = meter.run_until(10_000)
    assert note.payload == b"3.0"


def test_pmax_notifies_without_a_change():
    meter = Meter()
    meter.request(m.PUT, "/3305/0/5800", query=("pmax=60",))
    first = observe(meter)
    notes = meter.run_until(180_000)
    assert [bytes(n.payload) for n in notes] == [b"1.0"] * 3
    seqs = [first.observe] + [n.observe for n in notes]
    assert seqs == sorted(seqs) and len(set(seqs)) == 4  # RFC 7641 section 4.4


def test_default_periods_come_from_the_server_object():
    # Core 1.1 section 5.1.1: /1/x/2 and /1/x/3 apply when no attribute is attached.
    meter = Meter(default_pmin=5, default_pmax=30)
    observe(meter)
    meter.now = 1000
    meter.set_power(9.0)
    assert meter.run_until(4999) == []
    assert [bytes(n.payload) for n in meter.run_until(5000)] == [b"9.0"]
    assert [bytes(n.payload) for n in meter.run_until(35_000)] == [b"9.0"]


def test_attached_pmax_shorter_than_the_default_wins():
    meter = Meter(default_pmax=300)
    meter.request(m.PUT, "/3305/0", query=("pmax=20",))
    observe(meter)
    assert len(meter.run_until(20_000)) == 1


def test_step_is_measured_from_the_last_notified_value():
    # Core 1.1 section 5.1.2: st compares with the value last notified, not the last
    # sampled: two small steps add up to one that is notified.
    meter = Meter()
    meter.request(m.PUT, "/3305/0/5800", query=("st=1",))
    observe(meter)
    meter.now = 1000
    meter.set_power(1.6)
    assert meter.run_until(1000) == []
    meter.now = 2000
    meter.set_power(2.1)
    (note,) = meter.run_until(2000)
    assert note.payload == b"2.1"


def test_gt_and_lt_crossings_in_both_directions():
    meter = Meter()
    meter.request(m.PUT, "/3305/0/5800", query=("gt=5", "lt=2"))
    observe(meter)
    sent = []
    for t, value in ((1, 3.0), (2, 6.0), (3, 7.0), (4, 4.0), (5, 1.0), (6, 1.5), (7, 2.5)):
        meter.now = t * 1000
        meter.set_power(value)
        sent += [bytes(n.payload) for n in meter.run_until(t * 1000)]
    # From 1.0 (observed): 3.0 crosses lt up; 6.0 gt up; 7.0 nothing; 4.0 gt down;
    # 1.0 lt down; 1.5 nothing; 2.5 lt up (Core 1.1 section 5.1.2).
    assert sent == [b"3.0", b"6.0", b"4.0", b"1.0", b"2.5"]


def test_cancel_by_observe_1_and_by_reset():
    meter = Meter()
    observe(meter, token=b"\x01")
    (answer,) = meter.request(m.GET, "/3305/0/5800", token=b"\x01", observe=1)
    assert answer.code == m.CONTENT and answer.observe is None
    meter.set_power(2.0)
    assert meter.run_until(1000) == []
    observe(meter, token=b"\x02")
    meter.set_power(3.0)
    (note,) = meter.run_until(2000)
    rst = Message(m.RST, 0, note.mid, b"")
    meter.core.receive_datagram(to_bytes(rst), SERVER, 2100)
    meter.set_power(4.0)
    assert meter.run_until(3000) == []  # RFC 7641 section 3.6: the RST cancelled it


def test_deleted_target_ends_the_observation_with_4_04():
    meter = Meter()
    observe(meter, path="/3305/0")
    meter.tree.delete_instance(3305, 0)
    (note,) = meter.run_until(1000)
    assert note.code == m.NOT_FOUND and note.observe is None
    assert meter.run_until(100_000) == []


def test_observations_are_bounded_and_a_reobserve_replaces():
    meter = Meter(max_observations=2)
    observe(meter, token=b"\x01")
    observe(meter, token=b"\x01")  # the same token again: replaced, not added
    observe(meter, token=b"\x02")
    (answer,) = meter.request(m.GET, "/3305/0/5800", token=b"\x03", observe=0)
    assert answer.code == m.SERVICE_UNAVAILABLE
    assert len(meter.core.client.observations) == 2


@pytest.mark.interop
async def test_embedded_server_receives_notifications_over_udp():
    async with LwM2MServer() as server:
        tree = ObjectTree([OBJECTS[i] for i in (0, 1, 3, 3305)])
        setup.add_security(tree, 0, server.uri, ssid=1)
        setup.add_server(tree, 0, 1, lifetime=300)
        setup.add_device(tree, "ACME", "M1", "SN1", "1.0")
        tree.create_instance(3305, 0, {5800: 1.0})
        client = UdpClient(ClientCore(ClientConfig("obs-udp"), tree, random.Random(8)))
        await client.start()
        try:
            await server.wait_registered("obs-udp")
            assert (await server.write_attributes("obs-udp", "/3305/0/5800", st=0.5)).ok
            observation = await server.observe("obs-udp", "/3305/0/5800",
                                               format=CF_SENML_CBOR)
            assert observation.active and observation.response.value == 1.0
            tree.set(POWER, 1.2)  # below the step: no notification
            tree.set(POWER, 2.0)
            client.changed()  # the application's change reaches the core's timer
            note = await observation.next(timeout=5)
            assert note.value == 2.0
            observation.cancel()
        finally:
            await client.stop()


def test_con_attribute_and_one_confirmable_notification_a_day():
    # RFC 7641 section 4.5: at least one CON every 24 h; con=1 (Core 1.2 section 5.1.1)
    # makes every notification confirmable.
    meter = Meter()
    meter.request(m.PUT, "/3305/0/5800", query=("pmax=3600",))
    observe(meter)
    notes = meter.run_until(24 * 3_600_000 - 1)
    assert len(notes) == 23 and {n.mtype for n in notes} == {m.NON}
    (note,) = meter.run_until(24 * 3_600_000)
    assert note.mtype == m.CON  # the first in 24 hours
    ack = Message(m.ACK, 0, note.mid, b"")
    meter.core.receive_datagram(to_bytes(ack), SERVER, meter.now)
    meter.request(m.PUT, "/3305/0/5800", query=("con=1",))
    (note,) = meter.run_until(25 * 3_600_000)
    assert note.mtype == m.CON
    ack = Message(m.ACK, 0, note.mid, b"")
    meter.core.receive_datagram(to_bytes(ack), SERVER, meter.now)
    assert len(meter.core.client.observations) == 1  # acknowledged: it goes on


def test_unacknowledged_confirmable_notification_ends_the_observation_without_storing():
    # RFC 7641 section 4.5; /1/x/6 false: nothing is kept for later.
    meter = Meter(storing=False)
    meter.request(m.PUT, "/3305/0/5800", query=("con=1",))
    observe(meter)
    meter.set_power(5.0)
    (note,) = meter.run_until(0)
    assert note.mtype == m.CON
    meter.run_until(300_000)  # every retransmission goes unanswered (RFC 7252 4.2)
    assert len(meter.core.client.observations) == 0


def test_epmax_evaluates_a_value_computed_on_read_that_is_never_reported():
    # Core 1.1 section 5.1.1: the maximum evaluation period makes the client look at the
    # value itself; a read hook without cache never records a change.
    meter = Meter()
    reading = [1.0]
    meter.tree.on_read(POWER, lambda path: reading[0])
    meter.request(m.PUT, "/3305/0/5800", query=("epmax=10", "st=1"))
    observe(meter)
    reading[0] = 1.5  # below the step: evaluated at 10 s, not notified
    assert meter.run_until(10_000) == []
    reading[0] = 2.2
    (note,) = meter.run_until(20_000)
    assert bytes(note.payload) == b"2.2"
    assert meter.run_until(30_000) == []  # evaluated again, unchanged


def test_epmin_spaces_evaluations_of_reported_changes():
    meter = Meter()
    meter.request(m.PUT, "/3305/0/5800", query=("epmin=5", "epmax=60"))
    observe(meter)
    meter.now = 1000
    meter.set_power(2.0)
    assert meter.run_until(4999) == []
    (note,) = meter.run_until(5000)
    assert bytes(note.payload) == b"2.0"
