"""Queue mode and notification storing on the datagram-level core, on a virtual clock.

Transport 1.1 section 6.5 (queue mode: the awake window, an Update on waking), Object 1
resource 6 (Notification Storing When Disabled or Offline), Core 1.2 section 5.1.1
(``hqmax``), RFC 7641 sections 3.6 and 4.5 (Reset and unacknowledged notifications).
The test plays the server: it reads what the core sends and answers by hand.
"""

from __future__ import annotations

import random

import pytest

from lwm2m_client.core.client import events as ev
from lwm2m_client.core.client import setup
from lwm2m_client.core.client.engine import ClientConfig, ClientCore
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.coap.message import Message, decode, to_bytes
from lwm2m_client.core.content import CF_TEXT
from lwm2m_client.core.dm.tree import ObjectTree
from lwm2m_client.core.errors import UsageError
from lwm2m_client.models import shipped_objects

SERVER = ("10.0.0.9", 5683)
POWER = (3305, 0, 5800)
OBJECTS = shipped_objects()
AWAKE = 10_000


class Meter:
    """A registered meter whose server is the test: ``out`` collects what it sent."""

    def __init__(self, binding="UQ", storing=True, **config):
        tree = ObjectTree([OBJECTS[i] for i in (0, 1, 3, 3305)])
        setup.add_security(tree, 0, "coap://server", ssid=1)
        setup.add_server(tree, 0, 1, lifetime=86400, binding=binding,
                         notification_storing=storing)
        setup.add_device(tree, "ACME", "M1", "SN1", "1.0")
        tree.create_instance(3305, 0, {5800: 1.0})
        self.tree = tree
        config.setdefault("awake_ms", AWAKE)
        self.core = ClientCore(ClientConfig("q-1", jitter=0, **config), tree,
                               random.Random(5))
        self.core.set_address(1, SERVER)
        self.now = 0
        self.mid = 0x100
        self.events: list = []
        self.core.start(0)
        self.core.handle_timer(self.core.get_timer())
        (register,) = self.sent()
        self.register_query = register.strings(15)
        self.answer(register, m.CREATED, location=["rd", "1"])

    def sent(self):
        out = [decode(d) for d, _ in self.core.datagrams_to_send()]
        while True:
            e = self.core.next_event()
            if e is None:
                return out
            self.events.append(e)

    def answer(self, req, code=m.EMPTY, location=None):
        """ACK ``req`` (piggybacking ``code`` when it is a request)."""
        ack = Message(m.ACK, code, req.mid, req.token if code else b"")
        if location:
            ack.location_path = location
        self.core.receive_datagram(to_bytes(ack), SERVER, self.now)

    def request(self, code, path, token=b"\x0b", observe=None, query=()):
        self.mid += 1
        msg = Message(m.CON, code, self.mid, token)
        msg.uri_path = path
        for q in query:
            msg.add_option(15, q)
        if observe is not None:
            msg.observe = observe
        msg.accept = CF_TEXT if code == m.GET else None
        self.core.receive_datagram(to_bytes(msg), SERVER, self.now)
        return self.sent()

    def observe(self, path="/3305/0/5800", token=b"\x0b"):
        (answer,) = self.request(m.GET, path, token=token, observe=0)
        assert answer.code == m.CONTENT and answer.observe is not None
        return answer

    def run_until(self, t_ms):
        """Advance the clock to ``t_ms`` firing the core's timers; what it sent."""
        out = []
        while True:
            deadline = self.core.get_timer()
            if deadline is None or deadline > t_ms:
                break
            self.now = max(self.now, deadline)
            self.core.handle_timer(self.now)
            out += self.sent()
        self.now = max(self.now, t_ms)
        return out

    def change(self, value):
        """The application has a new reading; what the core sends for it at once."""
        self.tree.set(POWER, value)
        return self.run_until(self.now)

    def of(self, kind):
        return [e for e in self.events if isinstance(e, kind)]


def updates(msgs):
    return [x for x in msgs if x.code == m.POST and x.uri_path.startswith("/rd/")]


def notes(msgs):
    return [x for x in msgs if m.code_class(x.code) >= 2]


def asleep_meter(**kw):
    meter = Meter(**kw)
    meter.observe()
    assert meter.run_until(AWAKE) == []
    assert meter.core.asleep and meter.of(ev.WentToSleep) == [ev.WentToSleep(1)]
    return meter


def test_int_108_queue_mode_is_asked_for_in_the_register():
    # Transport 1.1 section 6.5: 1.1 signals queue mode with the Q flag, b lists
    # the transports only.
    meter = Meter()
    assert "Q" in meter.register_query and "b=U" in meter.register_query


def test_queue_mode_client_sleeps_after_the_awake_window_only():
    # Transport 1.1 section 6.5: awake at least the window after the last message.
    meter = Meter()
    meter.run_until(AWAKE - 1)
    assert not meter.core.asleep
    meter.request(m.GET, "/3/0/0")  # the server talks: the window starts again
    meter.run_until(meter.now + AWAKE - 1)
    assert not meter.core.asleep
    meter.run_until(meter.now + 1)
    assert meter.core.asleep


def test_client_without_queue_mode_never_sleeps():
    meter = Meter(binding="U")
    meter.run_until(10 * AWAKE)
    assert not meter.core.asleep and meter.of(ev.WentToSleep) == []


def test_a_change_while_asleep_wakes_with_an_update_then_delivers():
    # Transport 1.1 section 6.5: the client announces it is awake with a CON Update;
    # the kept notification follows once the server answered it.
    meter = asleep_meter()
    out = meter.change(7.5)
    (update,) = updates(out)
    assert notes(out) == [] and meter.core.stored_notifications == 1
    assert update.mtype == m.CON and meter.of(ev.WokeUp) == [ev.WokeUp(1)]
    assert not meter.core.asleep
    meter.answer(update, m.CHANGED)
    (note,) = notes(meter.sent())
    assert note.payload == b"7.5" and note.mtype == m.CON
    meter.answer(note)
    assert meter.core.stored_notifications == 0


def test_kept_notifications_go_out_in_order_one_at_a_time():
    meter = asleep_meter()
    out = []
    for value in (2.0, 3.0, 4.0):
        out += meter.change(value)
    (update,) = updates(out)
    meter.answer(update, m.CHANGED)
    seen = []
    while True:
        sent = notes(meter.sent())
        if not sent:
            break
        assert len(sent) == 1
        seen.append(sent[0])
        meter.answer(sent[0])
    assert [n.payload for n in seen] == [b"2.0", b"3.0", b"4.0"]
    assert [n.observe for n in seen] == sorted(n.observe for n in seen)
    assert meter.core.notifications_dropped == 0


def test_unacknowledged_notification_is_kept_and_sent_again_after_an_update():
    # RFC 7641 section 4.5 with /1/x/6 true: the observation stays and the reading
    # is delivered once the server is reachable again, with its Observe value.
    meter = Meter(binding="U")
    meter.request(m.PUT, "/3305/0/5800", query=("con=1",))
    meter.observe()
    (note,) = notes(meter.change(5.0))
    # Every retransmission goes unanswered (MAX_TRANSMIT_WAIT is 93 s).
    out = meter.run_until(100_000)
    assert len(meter.core.client.observations) == 1
    update = updates(out)[0]
    meter.answer(update, m.CHANGED)
    (again,) = notes(meter.sent())
    assert (again.payload, again.observe, again.mtype) == (note.payload, note.observe, m.CON)
    meter.answer(again)
    assert meter.core.stored_notifications == 0 and meter.core.notifications_dropped == 0


@pytest.mark.parametrize("policy, kept", [("drop-oldest", [b"3.0", b"4.0"]),
                                          ("refuse-new", [b"2.0", b"3.0"])])
def test_overflow_follows_the_policy_and_is_counted(policy, kept):
    meter = asleep_meter(store_capacity=2, store_policy=policy)
    out = []
    for value in (2.0, 3.0, 4.0):
        out += meter.change(value)
    assert meter.core.notifications_dropped == 1
    (drop,) = meter.of(ev.NotificationsDropped)
    assert (drop.reason, drop.count, drop.total) == ("overflow", 1, 1)
    meter.answer(updates(out)[0], m.CHANGED)
    got = []
    for _ in range(2):
        (note,) = notes(meter.sent())
        got.append(note.payload)
        meter.answer(note)
    assert got == kept


def test_store_bytes_bound_the_payload_kept():
    meter = asleep_meter(store_bytes=6)
    for value in (2.0, 3.0, 4.0):  # three bytes each
        meter.change(value)
    assert meter.core.stored_notifications == 2 and meter.core.notifications_dropped == 1


def test_hqmax_keeps_only_the_newest_of_one_observation():
    # Core 1.2 section 5.1.1: hqmax bounds the historical queue of the observation.
    meter = Meter()
    meter.request(m.PUT, "/3305/0/5800", query=("hqmax=1",))
    meter.observe()
    meter.run_until(AWAKE)
    assert meter.core.asleep
    out = []
    for value in (2.0, 3.0, 4.0):
        out += meter.change(value)
    assert meter.core.stored_notifications == 1
    assert {e.reason for e in meter.of(ev.NotificationsDropped)} == {"hqmax"}
    meter.answer(updates(out)[0], m.CHANGED)
    (note,) = notes(meter.sent())
    assert note.payload == b"4.0"


def test_storing_off_drops_and_says_so():
    meter = asleep_meter(storing=False)
    meter.change(2.0)
    assert meter.core.stored_notifications == 0 and meter.core.notifications_dropped == 1
    (drop,) = meter.of(ev.NotificationsDropped)
    assert drop.reason == "storing-off"


def test_a_new_register_drops_what_was_kept_and_counts_it():
    # Core 1.1 section 6.4.1: observations end with a new Register, and what was
    # kept for them cannot be delivered any more.
    meter = asleep_meter()
    out = meter.change(2.0)
    meter.answer(updates(out)[0], m.NOT_FOUND)  # the server lost the registration
    (register,) = [x for x in meter.sent() if x.uri_path == "/rd"]
    meter.answer(register, m.CREATED, location=["rd", "2"])
    meter.sent()
    assert meter.core.stored_notifications == 0 and meter.core.notifications_dropped == 1
    assert meter.of(ev.NotificationsDropped)[-1].reason == "observation-ended"


def test_reset_of_a_kept_notification_ends_its_observation():
    # RFC 7641 section 3.6: an RST to a notification cancels the observation.
    meter = asleep_meter()
    out = meter.change(2.0)
    meter.change(3.0)
    meter.answer(updates(out)[0], m.CHANGED)
    (note,) = notes(meter.sent())
    rst = Message(m.RST, m.EMPTY, note.mid, b"")
    meter.core.receive_datagram(to_bytes(rst), SERVER, meter.now)
    assert len(meter.core.client.observations) == 0
    assert meter.core.stored_notifications == 0 and notes(meter.sent()) == []


def test_send_while_asleep_goes_after_the_wake_up_update():
    meter = asleep_meter()
    meter.core.send([POWER], meter.now)
    out = meter.sent()
    assert [x.uri_path for x in out][0].startswith("/rd/")
    meter.answer(out[0], m.CHANGED)
    (send,) = [x for x in meter.sent() if x.uri_path == "/dp"]
    assert send.code == m.POST


@pytest.mark.parametrize("bad", [dict(store_capacity=-1), dict(store_bytes="x"),
                                 dict(store_policy="drop-all"), dict(awake_ms=-5)])
def test_bad_storing_configuration_is_a_usage_error(bad):
    with pytest.raises(UsageError):
        ClientConfig("q", **bad)


def test_edge_notifies_only_the_transition_it_names():
    # Core 1.2 section 5.1.2: edge=1 reports false -> true, not true -> false.
    tree = ObjectTree([OBJECTS[i] for i in (0, 1, 3, 3424)])
    setup.add_security(tree, 0, "coap://server", ssid=1)
    setup.add_server(tree, 0, 1, lifetime=86400)
    setup.add_device(tree, "ACME", "M1", "SN1", "1.0")
    tree.create_instance(3424, 0, {1: 0.0, 10: False})
    meter = Meter.__new__(Meter)
    meter.tree = tree
    meter.core = ClientCore(ClientConfig("e-1", jitter=0, version="1.2"), tree,
                            random.Random(5))
    meter.core.set_address(1, SERVER)
    meter.now, meter.mid, meter.events = 0, 0x100, []
    meter.core.start(0)
    meter.core.handle_timer(meter.core.get_timer())
    (register,) = meter.sent()
    meter.answer(register, m.CREATED, location=["rd", "1"])
    assert meter.request(m.PUT, "/3424/0/10", query=("edge=1",))[0].code == m.CHANGED
    meter.observe("/3424/0/10")
    state = (3424, 0, 10)  # Leak detected
    tree.set(state, True)
    assert [n.payload for n in notes(meter.run_until(0))] == [b"1"]
    tree.set(state, False)
    assert notes(meter.run_until(0)) == []
    tree.set(state, True)
    assert [n.payload for n in notes(meter.run_until(0))] == [b"1"]
