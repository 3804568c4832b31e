# Queue mode and notification storing under MicroPython (Transport 1.1 section 6.5,
# Object 1 resource 6): the client sleeps after its awake window, a change while
# asleep is kept and wakes it with an Update, and the kept notification follows the
# answer. Bytes in, bytes out, no sockets.

from mp_client import SERVER, Lcg, _defs

from lwm2m_client.core.client import events as ev
from lwm2m_client.core.client import setup
from lwm2m_client.core.client.engine import ClientConfig, ClientCore
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.content import CF_TEXT
from lwm2m_client.core.dm.tree import ObjectTree

UTC = (3, 0, 14)  # a writable string resource of the test Device object


def _events(core):
    out = []
    while True:
        e = core.next_event()
        if e is None:
            return out
        out.append(e)


def _queue_client(**config):
    tree = ObjectTree(_defs())
    setup.add_security(tree, 0, "coap://10.0.0.1:5683", ssid=1)
    setup.add_server(tree, 0, 1, lifetime=3600, binding="UQ")
    tree.create_instance(3, 0, {0: "ACME", 1: "M1", 2: "SN-7", 3: "1.0",
                                11: {0: 0}, 14: "+01:00", 16: "UQ"})
    core = ClientCore(ClientConfig("mp-q", awake_ms=5000, jitter=0, **config), tree,
                      Lcg(3))
    core.set_address(1, SERVER)
    core.start(0)
    core.handle_timer(core.get_timer())
    (data, _), = core.datagrams_to_send()
    reg = m.decode(data)
    assert "Q" in reg.strings(15)
    ack = m.Message(m.ACK, m.CREATED, reg.mid, reg.token)
    ack.location_path = ["rd", "q1"]
    core.receive_datagram(m.to_bytes(ack), SERVER, 10)
    obs = m.Message(m.CON, m.GET, 0x500, b"\x0b")
    obs.uri_path = "/3/0/14"
    obs.observe = 0
    obs.accept = CF_TEXT
    core.receive_datagram(m.to_bytes(obs), SERVER, 20)
    (data, _), = core.datagrams_to_send()
    assert m.decode(data).observe is not None
    return core, tree


def test_sleep_keep_wake_deliver():
    core, tree = _queue_client()
    core.handle_timer(core.get_timer())
    assert core.asleep
    assert isinstance(_events(core)[-1], ev.WentToSleep)
    tree.set(UTC, "+02:00")
    core.handle_timer(core.get_timer())
    (data, _), = core.datagrams_to_send()  # the Update, not the notification
    update = m.decode(data)
    assert update.code == m.POST and core.stored_notifications == 1
    assert not core.asleep
    ack = m.Message(m.ACK, m.CHANGED, update.mid, update.token)
    core.receive_datagram(m.to_bytes(ack), SERVER, 6000)
    (data, _), = core.datagrams_to_send()
    note = m.decode(data)
    assert note.mtype == m.CON and bytes(note.payload) == b"+02:00"
    core.receive_datagram(m.to_bytes(m.Message(m.ACK, 0, note.mid, b"")), SERVER, 6001)
    assert core.stored_notifications == 0 and core.notifications_dropped == 0


def test_overflow_is_counted():
    core, tree = _queue_client(store_capacity=1)
    core.handle_timer(core.get_timer())
    for value in ("+03:00", "+04:00"):
        tree.set(UTC, value)
        core.handle_timer(core.get_timer())
    assert core.stored_notifications == 1 and core.notifications_dropped == 1
    dropped = [e for e in _events(core) if isinstance(e, ev.NotificationsDropped)]
    assert dropped[0].reason == "overflow"
