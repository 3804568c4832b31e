"""Write-Attributes and the Discover / Register link lists under MicroPython and CPython.

Plain script: every top-level ``test_*`` function is run by tests/test_micropython.py.
"""

from mpcheck import raises
from spec_vectors import (
    DEVICE_DISCOVER,
    DEVICE_DISCOVER_RESOURCES,
    REGISTER_PAYLOAD,
    SERVER_DISCOVER,
)

from lwm2m_client.core.client.attributes import AttributeStore, parse_query
from lwm2m_client.core.client.links import discover_links, register_links
from lwm2m_client.core.content.link import decode_links, encode_links
from lwm2m_client.core.dm import types as t
from lwm2m_client.core.dm.model import OP_E, OP_R, OP_RW, ObjectDef, ResourceDef
from lwm2m_client.core.dm.tree import ObjectTree
from lwm2m_client.core.errors import BadRequest, InternalServerError, NotFound


def _res(rid, typ, multiple=False, ops=OP_R):
    return ResourceDef(rid, "r%d" % rid, ops, multiple, False, typ)


def _obj(oid, version="1.0"):
    return ObjectDef(oid, "o%d" % oid, object_version=version,
                     resources={0: _res(0, t.T_INTEGER, ops=OP_RW)})


def _encode(links):
    buf = bytearray(1024)
    n = encode_links(buf, links)
    return bytes(buf[:n]).decode()


def _device_tree():
    device = ObjectDef(3, "Device", multiple=False, resources={
        1: _res(1, t.T_STRING), 2: _res(2, t.T_STRING), 3: _res(3, t.T_STRING),
        4: _res(4, t.T_NONE, ops=OP_E), 6: _res(6, t.T_INTEGER, True),
        7: _res(7, t.T_INTEGER, True), 8: _res(8, t.T_INTEGER, True),
        11: _res(11, t.T_INTEGER), 16: _res(16, t.T_STRING),
    })
    tree = ObjectTree([device])
    tree.create_instance(3, 0, DEVICE_DISCOVER_RESOURCES)
    tree.on_execute((3, 0, 4), lambda path, args: None)
    store = AttributeStore()
    store.write(1, (3, 0), parse_query(["pmin=10", "pmax=60"]))
    store.write(1, (3, 0, 7), parse_query([b"gt=50", b"lt=42.2"]), t.T_INTEGER)
    store.write(1, (3, 0, 7, 1), parse_query(["lt=45"]), t.T_INTEGER)
    return tree, store


def test_parse_query():
    parsed = parse_query(["pmin=10", "pmax=60", "gt=50.5", "lt", "st=1"])
    assert parsed == {"pmin": 10, "pmax": 60, "gt": 50.5, "lt": None, "st": 1.0}
    assert parse_query(["edge=1", "con=0", "hqmax=3", "epmin=1", "epmax=2"]) == {
        "edge": 1, "con": 0, "hqmax": 3, "epmin": 1, "epmax": 2}
    assert parse_query(["gt=-1.5e2"]) == {"gt": -150.0}
    for bad in (["dim=2"], ["ver=1.1"], ["pmin=-1"], ["gt=nan"], ["gt=1e999"], ["st=-1"],
                ["edge=2"], ["pmin=1", "pmin=2"], [], ["gt=1-2"], ["gt=1e"]):
        assert raises(BadRequest, parse_query, bad), bad


def test_store_rules():
    store = AttributeStore(capacity=2)
    assert raises(BadRequest, store.write, 1, (3, 0), {"gt": 1.0})
    assert raises(BadRequest, store.write, 1, (3, 0, 1), {"gt": 1.0}, t.T_STRING)
    assert raises(BadRequest, store.write, 1, (3, 0, 1), {"edge": 1}, t.T_INTEGER)
    store.write(1, (3, 0, 7), {"gt": 50.0}, t.T_INTEGER)
    assert raises(BadRequest, store.write, 1, (3, 0, 7), {"lt": 60.0}, t.T_INTEGER)
    assert raises(BadRequest, store.write, 1, (3, 0, 7), {"lt": 40.0, "st": 5.0},
                   t.T_INTEGER)
    assert store.get(1, (3, 0, 7)) == {"gt": 50.0}
    store.write(1, (3,), {"pmin": 5, "pmax": 1})
    assert raises(InternalServerError, store.write, 2, (3,), {"pmin": 1})
    store.write(1, (3,), {"pmin": None, "pmax": None})
    store.write(2, (3,), {"epmin": 1})
    assert raises(BadRequest, store.write, 2, (3,), {"epmax": 1})
    assert len(store) == 2


def test_store_effective_and_drop():
    store = AttributeStore()
    store.write(1, (3,), {"pmin": 1, "pmax": 100})
    store.write(1, (3, 0), {"pmin": 2})
    store.write(1, (3, 0, 7), {"pmin": 3}, t.T_INTEGER)
    store.write(1, (3, 0, 7, 1), {"pmin": 4}, t.T_INTEGER)
    store.write(2, (3, 0), {"pmax": 7})
    defaults = {"pmin": 0, "pmax": 300}
    assert store.effective(1, (3, 0, 7, 1), defaults) == {"pmin": 4, "pmax": 100}
    assert store.effective(1, (3, 0, 6), defaults) == {"pmin": 2, "pmax": 100}
    assert store.effective(2, (3, 0, 7), defaults) == {"pmin": 0, "pmax": 7}
    store.drop_path((3, 0))
    assert store.effective(1, (3, 0, 7, 1), defaults) == {"pmin": 1, "pmax": 100}
    assert store.get(2, (3, 0)) == {}
    store.drop_server(1)
    assert len(store) == 0


def test_discover_vectors():
    tree, store = _device_tree()
    assert _encode(discover_links(tree, store, 1, (3, 0))) == DEVICE_DISCOVER
    # A resource target also shows what it inherits from the instance (ETS int-260).
    assert _encode(discover_links(tree, store, 1, (3, 0, 7), 0)) == (
        "</3/0/7>;dim=2;pmin=10;pmax=60;gt=50;lt=42.2")
    assert _encode(discover_links(tree, store, 1, (3,), 1)) == "</3>,</3/0>;pmin=10;pmax=60"
    assert raises(NotFound, discover_links, tree, store, 1, (3, 1))
    assert raises(BadRequest, discover_links, tree, store, 1, (3, 0), 4)
    server = ObjectTree([_obj(1)])
    server.create_instance(1, 0, {0: 1})
    server.create_instance(1, 4, {0: 1})
    store.write(1, (1, 4), {"pmax": 300})
    links = discover_links(server, store, 1, (1,), 1, "1.0")
    assert _encode(links) == SERVER_DISCOVER


def test_attribute_values_round_trip():
    tree, store = _device_tree()
    for value in (0.1, -2.5, 1e-07, 123456.75, 3.0):
        store.write(1, (3, 0, 6), {"st": value}, t.T_INTEGER)
        (target, attrs), = decode_links(_encode(discover_links(tree, store, 1, (3, 0, 6), 0)))
        assert float(attrs["st"]) == value, attrs


def test_register_vectors():
    tree = ObjectTree([_obj(0), _obj(1), _obj(2), _obj(3), _obj(4), _obj(5), _obj(21)])
    for oid, iids in ((0, (0,)), (1, (1, 0)), (2, (4, 3, 2, 1, 0)), (3, (0,)), (4, (0,)),
                      (21, (0,))):
        for iid in iids:
            tree.create_instance(oid, iid, {0: 1})
    assert _encode(register_links(tree, "1.0")) == REGISTER_PAYLOAD
    assert _encode(register_links(tree, "1.0", [110, 112, 60])) == (
        '</>;ct="110 112 60",' + REGISTER_PAYLOAD)
    assert _encode(register_links(tree, "1.1", [112])).startswith(
        "</>;ct=112,</1>;ver=1.0,</1/0>,</1/1>,</2/0>")
    text = _encode(register_links(tree, "1.0", None, "/lwm2m"))
    assert text == '</lwm2m>;rt="oma.lwm2m",' + REGISTER_PAYLOAD.replace("</", "</lwm2m/")
    versioned = ObjectTree([_obj(3, "1.1"), _obj(5, "2.0")])
    versioned.create_instance(3, 0, {0: 1})
    assert _encode(register_links(versioned)) == "</3>;ver=1.1,</3/0>,</5>;ver=2.0"
