# What the OMA ETS 1.1 conformance cases needed from the core, under MicroPython:
# Read-Composite on "/" (int-235), overlapping and unreadable paths (int-229, int-281),
# and a Discover on a resource showing inherited attributes (int-260, int-261).

from lwm2m_client.core.client.attributes import AttributeStore, parse_query
from lwm2m_client.core.client.dm_handler import DMHandler
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.content import CF_LINK, CF_SENML_CBOR, senml_cbor
from lwm2m_client.core.dm import model
from lwm2m_client.core.dm import types as t
from lwm2m_client.core.dm.tree import ObjectTree


def _res(rid, ops, typ, multiple=False):
    return model.ResourceDef(rid, "r%d" % rid, ops, multiple, False, typ)


def _handler():
    r, rw, e = model.OP_R, model.OP_RW, model.OP_E
    sec = model.ObjectDef(0, "Security", resources={0: _res(0, 0, t.T_STRING)})
    srv = model.ObjectDef(1, "Server", resources={
        0: _res(0, r, t.T_INTEGER), 1: _res(1, rw, t.T_INTEGER), 8: _res(8, e, t.T_NONE)})
    dev = model.ObjectDef(3, "Device", multiple=False, resources={
        7: _res(7, r, t.T_INTEGER, True), 11: _res(11, r, t.T_INTEGER, True)})
    tree = ObjectTree([sec, srv, dev])
    tree.create_instance(0, 0, {0: "coap://h"})
    tree.create_instance(1, 0, {0: 1, 1: 86400})
    tree.create_instance(3, 0, {7: {0: 3800, 1: 5000}, 11: {0: 0}})
    tree.on_execute((1, 0, 8), lambda path, args: None)
    return DMHandler(tree, AttributeStore(), bytearray(512))


def _cbor_paths(paths):
    # [{0: "/1/0"}, ...] in CBOR: short arrays, one-entry maps, short text strings.
    out = bytearray([0x80 + len(paths)])
    for p in paths:
        out += bytes([0xA1, 0x00, 0x60 + len(p)]) + p.encode()
    return bytes(out)


def _fetch(handler, paths):
    msg = m.Message(m.CON, m.FETCH, 1, b"\x01")
    msg.content_format = CF_SENML_CBOR
    body = _cbor_paths(paths)
    reply = handler.handle(msg, 1, "1.1", body)
    values = None
    if reply.body is not None:
        values = senml_cbor.decode(bytes(reply.body), (), lambda path: t.T_INTEGER)
    return reply.code, values


def test_read_composite_on_root_leaves_out_security():
    code, values = _fetch(_handler(), ["/"])
    assert code == m.CONTENT
    assert [p for p, _ in values] == [(1, 0, 0), (1, 0, 1), (3, 0, 7, 0), (3, 0, 7, 1),
                                      (3, 0, 11, 0)]


def test_read_composite_overlapping_and_executable_paths():
    code, values = _fetch(_handler(), ["/1/0", "/1/0/1", "/3/0/11/0", "/3/0/11"])
    assert code == m.CONTENT
    assert values == [((1, 0, 0), 1), ((1, 0, 1), 86400), ((3, 0, 11, 0), 0)]
    code, values = _fetch(_handler(), ["/1/0/1", "/1/0/8", "/9/0/1"])
    assert (code, values) == (m.CONTENT, [((1, 0, 1), 86400)])
    assert _fetch(_handler(), ["/1/0/8"])[0] == m.NOT_FOUND


def test_discover_resource_shows_inherited_attributes():
    handler = _handler()
    handler.attributes.write(1, (3,), parse_query(["pmin=10", "pmax=200"]))
    handler.attributes.write(1, (3, 0), parse_query(["pmax=320"]))
    handler.attributes.write(1, (3, 0, 7), parse_query(["gt=6"]), t.T_INTEGER)
    msg = m.Message(m.CON, m.GET, 2, b"\x02")
    msg.uri_path = "/3/0/7"
    msg.accept = CF_LINK
    reply = handler.handle(msg, 1, "1.1", b"")
    assert reply.code == m.CONTENT
    assert bytes(reply.body) == b"</3/0/7>;dim=2;pmin=10;pmax=320;gt=6,</3/0/7/0>,</3/0/7/1>"
    msg.uri_path = "/3/0"
    reply = handler.handle(msg, 1, "1.1", b"")
    assert bytes(reply.body) == (b"</3/0>;pmax=320,</3/0/7>;dim=2;gt=6,</3/0/7/0>,"
                                 b"</3/0/7/1>,</3/0/11>;dim=1,</3/0/11/0>")
