# Access control (Object 2, LwM2M Core 1.1 section 8) under MicroPython: a client core
# registered with two servers, their requests refused 4.01 or served by the ACL, Create
# making the creator's /2 instance and Delete removing it.
from lwm2m_client.core.client import access, setup
from lwm2m_client.core.client.engine import ClientConfig, ClientCore
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.dm import types as t
from lwm2m_client.core.dm.model import OP_E, OP_R, OP_RW, ObjectDef, Range, ResourceDef
from lwm2m_client.core.dm.tree import ObjectTree

ADDR = {1: ("10.0.0.1", 5683), 2: ("10.0.0.2", 5683)}
VALVE = 32770


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
        6: _res(6, OP_RW, t.T_BOOLEAN), 7: _res(7, OP_RW, t.T_STRING),
    })
    acl = ObjectDef(2, "Access Control", resources={
        0: _res(0, OP_R, t.T_INTEGER, mandatory=True, range_=Range("num", 1, 65534)),
        1: _res(1, OP_R, t.T_INTEGER, mandatory=True, range_=Range("num", 0, 65535)),
        2: _res(2, OP_RW, t.T_INTEGER, multiple=True, range_=Range("num", 0, 31)),
        3: _res(3, OP_RW, t.T_INTEGER, mandatory=True, range_=Range("num", 0, 65535)),
    })
    valve = ObjectDef(VALVE, "Valve", resources={
        0: _res(0, OP_RW, t.T_INTEGER, mandatory=True),
        1: _res(1, OP_R, t.T_STRING),
        2: _res(2, OP_E, t.T_NONE),
    })
    return [security, server, acl, valve]


class _Meter:
    def __init__(self, entry, create=None):
        tree = ObjectTree(_defs())
        for ssid in (1, 2):
            setup.add_security(tree, ssid - 1, "coap://s%d" % ssid, ssid=ssid)
            setup.add_server(tree, ssid - 1, ssid, lifetime=600)
        tree.create_instance(VALVE, 0, {0: 10, 1: "a"})
        self.flushes = []
        tree.on_execute((VALVE, 0, 2), lambda path, args: self.flushes.append(path))
        access.add_access_control(tree, VALVE, 0, 1, {2: entry})
        if create is not None:
            access.add_access_control(tree, VALVE, access.OBJECT_LEVEL,
                                      access.BOOTSTRAP_OWNER, {2: create})
        self.tree = tree
        self.core = ClientCore(ClientConfig("mp-acl", jitter=0), tree, _Lcg(3))
        for ssid in (1, 2):
            self.core.set_address(ssid, ADDR[ssid])
        self.core.start(0)
        self.core.handle_timer(self.core.get_timer())
        for data, addr in self.core.datagrams_to_send():
            req = m.decode(data)
            ack = m.Message(m.ACK, m.CREATED, req.mid, req.token)
            ack.location_path = "rd/%d" % addr[0][-1:].encode()[0]
            self.core.receive_datagram(m.to_bytes(ack), addr, 5)
        assert self.core.serves(ADDR[1]) and self.core.serves(ADDR[2])
        self.mid = 0x200
        self.now = 10

    def code(self, ssid, method, path, payload=b"", cf=None):
        self.mid += 1
        self.now += 10
        msg = m.Message(m.CON, method, self.mid, b"\x07", payload=payload)
        msg.uri_path = path
        if cf is not None:
            msg.content_format = cf
        self.core.receive_datagram(m.to_bytes(msg), ADDR[ssid], self.now)
        for data, addr in self.core.datagrams_to_send():
            answer = m.decode(data)
            if addr == ADDR[ssid] and answer.mid == self.mid:
                return answer.code
        raise AssertionError("no answer to %s" % path)

    def state(self):
        return (self.tree.read((2,)), self.tree.read((VALVE,)), len(self.flushes))


def test_rights_order():
    meter = _Meter(access.R)
    tree = meter.tree
    assert access.rights(tree, 1, VALVE, 0) == access.FULL  # the owner, no own entry
    assert access.rights(tree, 2, VALVE, 0) == access.R  # its own entry
    assert access.rights(tree, 3, VALVE, 0) == 0  # no entry, no default
    assert access.rights(tree, None, VALVE, 0) == access.FULL  # the Bootstrap-Server
    assert access.rights(tree, 2, 1, 0) == 0  # no /2 instance for /1/0


def test_refused_operations_change_nothing():
    meter = _Meter(access.R)
    before = meter.state()
    for method, path, payload, cf in ((m.PUT, "/32770/0/0", b"7", 0),
                                      (m.POST, "/32770/0/2", b"", None),
                                      (m.DELETE, "/32770/0", b"", None),
                                      (m.POST, "/32770", b"\xc1\x00\x05", 11542),
                                      (m.PUT, "/2/0/2/2", b"31", 0),
                                      (m.GET, "/1/0", b"", None),
                                      (m.GET, "/0/0", b"", None)):
        assert meter.code(2, method, path, payload, cf) == m.UNAUTHORIZED, path
    assert meter.state() == before
    assert meter.code(2, m.GET, "/32770/0/0") == m.CONTENT
    assert meter.code(2, m.GET, "/32770/0/1") == m.CONTENT
    assert meter.code(2, m.PUT, "/32770/0/1", b"x", 0) == m.UNAUTHORIZED  # 4.01 first
    assert meter.code(1, m.PUT, "/32770/0/1", b"x", 0) == m.METHOD_NOT_ALLOWED


def test_owner_grants_and_create_delete_keep_object_2_in_step():
    meter = _Meter(access.R, create=access.C)
    assert meter.code(1, m.PUT, "/2/0/2/2", b"3", 0) == m.CHANGED
    assert meter.code(2, m.PUT, "/32770/0/0", b"7", 0) == m.CHANGED
    assert meter.tree.get((VALVE, 0, 0)) == 7
    assert meter.code(2, m.POST, "/32770", b"\xc1\x00\x05", 11542) == m.CREATED
    made = [x for x in meter.tree.instances(2) if meter.tree.get((2, x, 1)) == 1]
    assert len(made) == 1 and meter.tree.get((2, made[0], 3)) == 2
    assert meter.code(1, m.GET, "/32770/1") == m.UNAUTHORIZED
    assert meter.code(2, m.DELETE, "/32770/1") == m.DELETED
    assert not meter.tree.has((2, made[0])) and not meter.tree.has((VALVE, 1))
