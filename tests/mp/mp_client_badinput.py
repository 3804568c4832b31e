# A registered client core fed bad requests under MicroPython: the exact error codes, the
# tree left as it was, duplicates answered from the cache, strangers ignored.
from lwm2m_client.core.client import events as ev
from lwm2m_client.core.client import setup
from lwm2m_client.core.client.engine import ClientConfig, ClientCore
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.coap import options as o
from lwm2m_client.core.dm import types as t
from lwm2m_client.core.dm.model import OP_E, OP_R, OP_RW, ObjectDef, Range, ResourceDef
from lwm2m_client.core.dm.tree import ObjectTree

SERVER = ("10.0.0.2", 5683)
STRANGER = ("10.9.9.9", 5683)


class _Lcg:
    """A deterministic rng with getrandbits (MicroPython's random may lack Random)."""

    def __init__(self, seed):
        self.state = seed

    def getrandbits(self, n):
        self.state = (self.state * 1103515245 + 12345) & 0x7FFFFFFF
        return (self.state ^ (self.state << 7)) & ((1 << n) - 1)


def _res(rid, ops, typ, multiple=False, mandatory=False, range_=None):
    return ResourceDef(rid, "r%d" % rid, ops, multiple, mandatory, typ, range_)


def _defs():
    security = ObjectDef(0, "Security", resources={
        0: _res(0, OP_R, t.T_STRING), 1: _res(1, OP_R, t.T_BOOLEAN),
        2: _res(2, OP_R, t.T_INTEGER), 3: _res(3, OP_R, t.T_OPAQUE),
        4: _res(4, OP_R, t.T_OPAQUE), 5: _res(5, OP_R, t.T_OPAQUE),
        10: _res(10, OP_R, t.T_INTEGER),
    })
    server = ObjectDef(1, "Server", resources={
        0: _res(0, OP_R, t.T_INTEGER, mandatory=True, range_=Range("num", 1, 65534)),
        1: _res(1, OP_RW, t.T_INTEGER, mandatory=True),
        4: _res(4, OP_E, t.T_NONE), 5: _res(5, OP_RW, t.T_INTEGER),
        6: _res(6, OP_RW, t.T_BOOLEAN), 7: _res(7, OP_RW, t.T_STRING),
        8: _res(8, OP_E, t.T_NONE),
        26: _res(26, OP_RW, t.T_INTEGER, range_=Range("num", 0, 1)),
    })
    device = ObjectDef(3, "Device", multiple=False, resources={
        0: _res(0, OP_R, t.T_STRING), 1: _res(1, OP_R, t.T_STRING),
        2: _res(2, OP_R, t.T_STRING), 3: _res(3, OP_R, t.T_STRING),
        4: _res(4, OP_E, t.T_NONE, mandatory=True),
        11: _res(11, OP_R, t.T_INTEGER, multiple=True, mandatory=True),
        12: _res(12, OP_E, t.T_NONE), 13: _res(13, OP_RW, t.T_TIME),
        14: _res(14, OP_RW, t.T_STRING), 16: _res(16, OP_R, t.T_STRING),
    })
    return [security, server, device]


class _Meter:
    def __init__(self):
        tree = ObjectTree(_defs())
        setup.add_security(tree, 0, "coap://server", ssid=1)
        setup.add_server(tree, 0, 1, lifetime=600)
        self.reboots = [0]
        setup.add_device(tree, "ACME", "M1", "SN1", "1.0", reboot=self._reboot)
        self.tree = tree
        self.core = ClientCore(ClientConfig("mp-1", jitter=0), tree, _Lcg(11))
        self.core.set_address(1, SERVER)
        self.now = 0
        self.core.start(0)
        self.core.handle_timer(self.core.get_timer())
        data, addr = self.core.datagrams_to_send()[0]
        req = m.decode(data)
        ack = m.Message(m.ACK, m.CREATED, req.mid, req.token)
        ack.location_path = "rd/1"
        self.core.receive_datagram(m.to_bytes(ack), SERVER, 0)
        assert self.core.next_event() == ev.Registered(1, ["rd", "1"])

    def _reboot(self):
        self.reboots[0] += 1

    def state(self):
        return (self.tree.read((1, 0)), self.tree.read((3, 0)),
                self.core.registration(1).state)

    def feed(self, msg, src=SERVER):
        self.now += 10
        self.core.receive_datagram(m.to_bytes(msg), src, self.now)
        return [m.decode(d) for d, _ in self.core.datagrams_to_send()]


def _req(method, path, payload=b"", cf=None, mid=0x100, options=()):
    msg = m.Message(m.CON, method, mid, b"\x01\x02", payload=payload)
    msg.uri_path = path
    if cf is not None:
        msg.content_format = cf
    for number, value in options:
        msg.add_option(number, value)
    return msg


def _code(meter, msg):
    before = meter.state()
    replies = meter.feed(msg)
    assert len(replies) == 1 and replies[0].mtype == m.ACK
    assert meter.state() == before
    return replies[0].code


def test_bad_paths_and_values():
    meter = _Meter()
    assert _code(meter, _req(m.GET, "/3/zero")) == m.BAD_REQUEST
    assert _code(meter, _req(m.GET, "/3/0/11/0/1", mid=2)) == m.BAD_REQUEST
    assert _code(meter, _req(m.GET, "/9999", mid=3)) == m.NOT_FOUND
    assert _code(meter, _req(m.GET, "/0/0", mid=4)) == m.UNAUTHORIZED
    assert _code(meter, _req(m.PUT, "/3/0/13", b"noon", 0, mid=5)) == m.BAD_REQUEST
    assert _code(meter, _req(m.PUT, "/1/0/26", b"5", 0, mid=6)) == m.BAD_REQUEST
    assert _code(meter, _req(m.PUT, "/1/0/1", b"\xc2\x01\x78", 11542, mid=7)) == \
        m.BAD_REQUEST
    assert _code(meter, _req(m.PUT, "/1/0/1", b"1", 9999, mid=8)) == \
        m.UNSUPPORTED_CONTENT_FORMAT
    assert _code(meter, _req(m.PUT, "/3/0/0", b"X", 0, mid=9)) == m.METHOD_NOT_ALLOWED
    assert meter.reboots == [0]


def test_bad_options():
    meter = _Meter()
    assert _code(meter, _req(m.GET, "/3/0", options=((9, b""),))) == m.BAD_OPTION
    assert _code(meter, _req(m.GET, "/3/0", mid=2, options=((o.ACCEPT, b"\0" * 5),))) == \
        m.BAD_OPTION
    assert _code(meter, _req(m.GET, "/3/0", mid=3, options=((o.BLOCK2, b"\x07"),))) == \
        m.BAD_OPTION
    huge = o.encode_block(0xFFFFF, True, 0)
    assert _code(meter, _req(m.PUT, "/3/0/14", b"+" * 16, 0, mid=4,
                             options=((o.BLOCK1, huge),))) == m.REQUEST_ENTITY_INCOMPLETE
    past = o.encode_block(999, False, 0)
    assert _code(meter, _req(m.GET, "/3/0", mid=5, options=((o.BLOCK2, past),))) == \
        m.BAD_OPTION
    # Observe is elective: garbage in it is ignored and the GET is a Read.
    assert _code(meter, _req(m.GET, "/3/0/0", mid=6,
                             options=((o.OBSERVE, b"\1\2\3\4\5"),))) == m.CONTENT


def test_bad_execute_arguments():
    meter = _Meter()
    assert _code(meter, _req(m.POST, "/3/0/4", b"a")) == m.BAD_REQUEST
    assert _code(meter, _req(m.POST, "/3/0/4", b"0='x", mid=2)) == m.BAD_REQUEST
    assert meter.reboots == [0]


def test_duplicate_execute_runs_once():
    meter = _Meter()
    first = meter.feed(_req(m.POST, "/3/0/4", mid=0x4242))
    again = meter.feed(_req(m.POST, "/3/0/4", mid=0x4242))
    assert meter.reboots == [1]
    assert first[0].code == m.CHANGED and m.to_bytes(first[0]) == m.to_bytes(again[0])


def test_stranger_is_ignored():
    meter = _Meter()
    assert meter.feed(_req(m.POST, "/3/0/4"), STRANGER) == []
    assert meter.feed(_req(m.PUT, "/3/0/14", b"+1", 0, mid=2), STRANGER) == []
    assert meter.reboots == [0] and not meter.tree.has((3, 0, 14))


def test_random_garbage_never_raises():
    meter = _Meter()
    rng = _Lcg(7)
    for _ in range(300):
        n = rng.getrandbits(6)
        data = bytes([rng.getrandbits(8) for _ in range(n)])
        meter.now += 1
        meter.core.receive_datagram(data, SERVER, meter.now)
        meter.core.datagrams_to_send()
    assert meter.core.registration(1).is_registered
