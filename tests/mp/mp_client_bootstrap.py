# The Bootstrap interface's operations under MicroPython (core/client/bs_interface.py):
# Bootstrap-Write of resources no server may write, an object-level write of two
# instances, a bad write changing nothing, Bootstrap-Delete of / keeping the
# Bootstrap-Server account and /3/0, Bootstrap-Discover, and check_configuration.
from lwm2m_client.core.client import setup
from lwm2m_client.core.client.bs_interface import (
    BootstrapHandler,
    bootstrap_account,
    check_configuration,
)
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.dm import types as t
from lwm2m_client.core.dm.model import OP_E, OP_NONE, OP_R, OP_RW, ObjectDef, Range, ResourceDef
from lwm2m_client.core.dm.tree import ObjectTree

CF_TEXT = 0
CF_LINK = 40
CF_TLV = 11542


def _res(rid, ops, typ, multiple=False, mandatory=False, range_=None):
    return ResourceDef(rid, "r%d" % rid, ops, multiple, mandatory, typ, range_)


def _defs():
    # Security resources carry no operations: only a Bootstrap-Server writes them.
    security = ObjectDef(0, "Security", resources={
        0: _res(0, OP_NONE, t.T_STRING, mandatory=True),
        1: _res(1, OP_NONE, t.T_BOOLEAN, mandatory=True),
        2: _res(2, OP_NONE, t.T_INTEGER, mandatory=True, range_=Range("num", 0, 4)),
        3: _res(3, OP_NONE, t.T_OPAQUE, mandatory=True),
        4: _res(4, OP_NONE, t.T_OPAQUE, mandatory=True),
        5: _res(5, OP_NONE, t.T_OPAQUE, mandatory=True),
        10: _res(10, OP_NONE, t.T_INTEGER, range_=Range("num", 1, 65534)),
        11: _res(11, OP_NONE, t.T_INTEGER),
    })
    server = ObjectDef(1, "Server", resources={
        0: _res(0, OP_R, t.T_INTEGER, mandatory=True, range_=Range("num", 1, 65534)),
        1: _res(1, OP_RW, t.T_INTEGER, mandatory=True),
        6: _res(6, OP_RW, t.T_BOOLEAN, mandatory=True),
        7: _res(7, OP_RW, t.T_STRING, mandatory=True),
        8: _res(8, OP_E, t.T_NONE, mandatory=True),
    })
    acl = ObjectDef(2, "Access Control", resources={
        0: _res(0, OP_R, t.T_INTEGER, mandatory=True, range_=Range("num", 1, 65534)),
        1: _res(1, OP_R, t.T_INTEGER, mandatory=True, range_=Range("num", 0, 65535)),
        2: _res(2, OP_RW, t.T_INTEGER, multiple=True, range_=Range("num", 0, 31)),
        3: _res(3, OP_RW, t.T_INTEGER, mandatory=True, range_=Range("num", 0, 65535)),
    })
    device = ObjectDef(3, "Device", multiple=False, resources={
        0: _res(0, OP_R, t.T_STRING),
        1: _res(1, OP_R, t.T_STRING),
        2: _res(2, OP_R, t.T_STRING),
        3: _res(3, OP_R, t.T_STRING),
        4: _res(4, OP_E, t.T_NONE, mandatory=True),
        11: _res(11, OP_R, t.T_INTEGER, multiple=True, mandatory=True),
        12: _res(12, OP_E, t.T_NONE),
        16: _res(16, OP_R, t.T_STRING, mandatory=True),
    })
    return [security, server, acl, device]


def _meter():
    tree = ObjectTree(_defs())
    setup.add_security(tree, 0, "coap://bs.example.com", bootstrap=True)
    setup.add_device(tree, "ACME", "M-1", "0001", "1.0")
    return tree, BootstrapHandler(tree, bytearray(512))


def _tlv(kind, ident, value):
    # One TLV with an 8-bit identifier and a value under 256 bytes.
    n = len(value)
    if n < 8:
        return bytes([(kind << 6) | n, ident]) + value
    return bytes([(kind << 6) | 0x08, ident, n]) + value


def _send(handler, method, path, payload=b"", cf=None, accept=None):
    msg = m.Message(m.CON, method, 1, b"\x01", payload=payload)
    msg.uri_path = path
    if cf is not None:
        msg.content_format = cf
    if accept is not None:
        msg.accept = accept
    return handler.handle(msg, "1.1", payload)


def _state(tree):
    out = []
    for oid in tree.objects():
        for iid in tree.instances(oid):
            out.append((oid, iid, tree.read((oid, iid))))
    return out


def _configure(tree, handler):
    security = (_tlv(3, 0, b"coap://lwm2m.example.com") + _tlv(3, 1, b"\x00")
                + _tlv(3, 2, b"\x03") + _tlv(3, 10, b"\x65"))
    assert _send(handler, m.PUT, "/0/1", security, CF_TLV).code == m.CHANGED
    servers = b""
    for iid, ssid in ((0, 101), (1, 102)):
        body = (_tlv(3, 0, bytes([ssid])) + _tlv(3, 1, b"\x01\x2c") + _tlv(3, 6, b"\x00")
                + _tlv(3, 7, b"U"))
        servers += _tlv(0, iid, body)
    reply = _send(handler, m.PUT, "/1", servers, CF_TLV)
    assert (reply.op, reply.code, reply.objects_changed) == ("bs-write", m.CHANGED, True)


def test_write():
    tree, handler = _meter()
    _configure(tree, handler)
    assert tree.get((0, 1, 0)) == "coap://lwm2m.example.com" and tree.get((0, 1, 10)) == 101
    assert tree.instances(1) == [0, 1] and tree.get((1, 1, 0)) == 102
    assert tree.get((1, 0, 1)) == 300 and not tree.has((1, 0, 8))
    assert _send(handler, m.PUT, "/1/0/0", b"103", CF_TEXT).code == m.CHANGED
    assert tree.get((1, 0, 0)) == 103
    before = _state(tree)
    bad = _tlv(0, 2, _tlv(3, 0, b"\x69")) + _tlv(0, 3, _tlv(3, 0, b"\x00"))  # SSID 0
    assert _send(handler, m.PUT, "/1", bad, CF_TLV).code == m.BAD_REQUEST
    assert _send(handler, m.PUT, "/9", b"1", CF_TEXT).code == m.NOT_FOUND
    assert _send(handler, m.PUT, "/1/0/1", b"1", 9999).code == m.UNSUPPORTED_CONTENT_FORMAT
    assert _state(tree) == before


def test_read_and_discover():
    tree, handler = _meter()
    _configure(tree, handler)
    assert _send(handler, m.GET, "/1/0", accept=CF_TLV).code == m.CONTENT
    assert _send(handler, m.GET, "/3/0", accept=CF_TLV).code == m.UNAUTHORIZED
    reply = _send(handler, m.GET, "/", accept=CF_LINK)
    assert reply.code == m.CONTENT and reply.cf == CF_LINK
    # These definitions are version 1.0: Objects 0 and 1 say so, being older than
    # what LwM2M 1.1 comes with (Core 1.1 section 7.2.3).
    assert bytes(reply.body) == (b'</>;lwm2m=1.1,</0>;ver=1.0,</0/0>,</0/1>;ssid=101;'
                                 b'uri="coap://lwm2m.example.com",</1>;ver=1.0,'
                                 b'</1/0>;ssid=101,</1/1>;ssid=102,</2>,</3/0>')


def test_delete():
    tree, handler = _meter()
    _configure(tree, handler)
    assert _send(handler, m.DELETE, "/0/0").code == m.BAD_REQUEST  # the BS account
    assert _send(handler, m.DELETE, "/1/1").code == m.DELETED
    reply = _send(handler, m.DELETE, "/")
    assert (reply.op, reply.code, reply.objects_changed) == ("bs-delete", m.DELETED, True)
    assert tree.instances(0) == [0] and tree.instances(1) == [] and tree.instances(3) == [0]
    assert bootstrap_account(tree) == 0


def test_check_configuration():
    tree, handler = _meter()
    assert check_configuration(tree).startswith("no LwM2M Server account")
    _configure(tree, handler)
    assert check_configuration(tree) == "/1/1 (Short Server ID 102) has no /0 instance"
    assert _send(handler, m.DELETE, "/1/1").code == m.DELETED
    assert check_configuration(tree) is None
    acl = _tlv(3, 0, b"\x03") + _tlv(3, 1, b"\x00") + _tlv(3, 3, b"\x66")  # owner 102
    assert _send(handler, m.PUT, "/2/0", acl, CF_TLV).code == m.CHANGED
    assert check_configuration(tree) == "/2/0: owner 102 is no LwM2M Server"
    assert _send(handler, m.PUT, "/2/0/3", b"101", CF_TEXT).code == m.CHANGED
    assert check_configuration(tree) is None
    assert _send(handler, m.PUT, "/0/1/2", b"0", CF_TEXT).code == m.CHANGED  # PSK
    assert check_configuration(tree) == "/0/1: Security Mode PSK needs /0/1/3"
