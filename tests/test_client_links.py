"""Discover answers and the Register/Update object list (C1.1 sections 6.2.1, 6.3.2)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spec_vectors import (
    DEVICE_DISCOVER,
    DEVICE_DISCOVER_RESOURCES,
    REGISTER_PAYLOAD,
    SERVER_DISCOVER,
)

from lwm2m_client.core.client.attributes import MAX_INT_ATTR, AttributeStore, parse_query
from lwm2m_client.core.client.links import (
    discover_links,
    enabler_object_version,
    register_links,
)
from lwm2m_client.core.content.link import decode_links, encode_links
from lwm2m_client.core.dm import types as t
from lwm2m_client.core.dm.model import OP_E, OP_R, OP_RW, ObjectDef, ResourceDef
from lwm2m_client.core.dm.tree import ObjectTree
from lwm2m_client.core.errors import BadRequest, MethodNotAllowed, NotFound


def _res(rid: int, typ: int, multiple: bool = False, ops: int = OP_R) -> ResourceDef:
    return ResourceDef(rid, f"r{rid}", ops, multiple, False, typ)


def _obj(oid: int, version: str = "1.0", multiple: bool = True, resources=None) -> ObjectDef:
    return ObjectDef(oid, f"o{oid}", object_version=version, multiple=multiple,
                     resources=resources or {0: _res(0, t.T_INTEGER, ops=OP_RW)})


def _device(version: str = "1.0") -> ObjectDef:
    # Resource 11 is single-instance here because the spec's Discover example prints
    # </3/0/11> without dim; the registry's multiple Error Code would carry dim=1.
    return _obj(3, version, multiple=False, resources={
        0: _res(0, t.T_STRING), 1: _res(1, t.T_STRING), 2: _res(2, t.T_STRING),
        3: _res(3, t.T_STRING), 4: _res(4, t.T_NONE, ops=OP_E),
        5: _res(5, t.T_NONE, ops=OP_E), 6: _res(6, t.T_INTEGER, True),
        7: _res(7, t.T_INTEGER, True), 8: _res(8, t.T_INTEGER, True),
        11: _res(11, t.T_INTEGER), 16: _res(16, t.T_STRING), 17: _res(17, t.T_STRING),
        18: _res(18, t.T_INTEGER, True), 20: _res(20, t.T_BOOLEAN),
    })


def _encode(links: list) -> str:
    buf = bytearray(2048)
    n = encode_links(buf, links)
    return bytes(buf[:n]).decode()


def _device_tree() -> tuple[ObjectTree, AttributeStore]:
    tree = ObjectTree([_device()])
    tree.create_instance(3, 0, DEVICE_DISCOVER_RESOURCES)
    tree.on_execute((3, 0, 4), lambda path, args: None)  # 5 has no handler: absent
    store = AttributeStore()
    store.write(1, (3, 0), parse_query(["pmin=10", "pmax=60"]))
    store.write(1, (3, 0, 7), parse_query(["gt=50", "lt=42.2"]), t.T_INTEGER)
    store.write(1, (3, 0, 7, 1), parse_query(["lt=45"]), t.T_INTEGER)
    return tree, store


def test_discover_instance_facts_vector() -> None:
    tree, store = _device_tree()
    assert _encode(discover_links(tree, store, 1, (3, 0))) == DEVICE_DISCOVER
    assert _encode(discover_links(tree, store, 1, (3, 0), depth=2)) == DEVICE_DISCOVER
    assert _encode(discover_links(tree, store, 1, (3, 0), depth=3)) == DEVICE_DISCOVER


def test_discover_object_depth_1_facts_vector() -> None:
    # A 1.0 Server object in a 1.0 client carries no ver, as in the spec's example.
    tree = ObjectTree([_obj(1)])
    tree.create_instance(1, 4, {0: 1})
    tree.create_instance(1, 0, {0: 2})
    store = AttributeStore()
    store.write(1, (1, 4), parse_query(["pmax=300"]))
    links = discover_links(tree, store, 1, (1,), depth=1, version="1.0")
    assert _encode(links) == SERVER_DISCOVER


def test_discover_shows_only_the_callers_attributes() -> None:
    tree, store = _device_tree()
    store.write(2, (3, 0, 1), {"pmin": 7}, t.T_STRING)
    text = _encode(discover_links(tree, store, 2, (3, 0), depth=1))
    assert text == ("</3/0>,</3/0/1>;pmin=7,</3/0/2>,</3/0/3>,</3/0/4>,</3/0/6>;dim=2,"
                    "</3/0/7>;dim=2,</3/0/8>;dim=2,</3/0/11>,</3/0/16>")


def test_discover_depths() -> None:
    tree, store = _device_tree()
    store.write(1, (3,), {"pmin": 1})
    assert _encode(discover_links(tree, store, 1, (3,), depth=0)) == "</3>;pmin=1"
    assert _encode(discover_links(tree, store, 1, (3,), depth=1)) == (
        "</3>;pmin=1,</3/0>;pmin=10;pmax=60")
    # The default on an object: object, instances, resources (no resource instances).
    default = discover_links(tree, store, 1, (3,))
    assert default == discover_links(tree, store, 1, (3,), depth=2)
    assert [target for target, _ in default] == [(3,), (3, 0)] + [
        (3, 0, rid) for rid in (1, 2, 3, 4, 6, 7, 8, 11, 16)]
    assert default[7] == ((3, 0, 7), [("dim", 2), ("gt", 50), ("lt", 42.2)])
    deep = discover_links(tree, store, 1, (3,), depth=3)
    assert _encode(deep) == "</3>;pmin=1," + DEVICE_DISCOVER
    assert _encode(discover_links(tree, store, 1, (3, 0), depth=0)) == (
        "</3/0>;pmin=10;pmax=60")


def test_discover_resource() -> None:
    tree, store = _device_tree()
    # The target resource shows the pmin/pmax it inherits from /3/0 (ETS int-260).
    assert _encode(discover_links(tree, store, 1, (3, 0, 7))) == (
        "</3/0/7>;dim=2;pmin=10;pmax=60;gt=50;lt=42.2,</3/0/7/0>,</3/0/7/1>;lt=45")
    assert _encode(discover_links(tree, store, 1, (3, 0, 7), depth=0)) == (
        "</3/0/7>;dim=2;pmin=10;pmax=60;gt=50;lt=42.2")
    assert _encode(discover_links(tree, store, 1, (3, 0, 16), depth=3)) == (
        "</3/0/16>;pmin=10;pmax=60")
    assert _encode(discover_links(tree, store, 1, (3, 0, 4))) == "</3/0/4>"
    tree.set((3, 0, 18), {})
    assert _encode(discover_links(tree, store, 1, (3, 0, 18))) == (
        "</3/0/18>;dim=0;pmin=10;pmax=60")


def test_discover_object_version_and_empty_object() -> None:
    # Firmware Update 1.2 is in no Core TS yet: a 1.2 client announces 1.1, a 1.1
    # client 1.0 (which needs no ver), a 1.0 client nothing at all.
    tree = ObjectTree([_device("1.1"), _obj(5, "1.2")])
    store = AttributeStore()
    store.write(1, (5,), {"pmax": 30})
    assert _encode(discover_links(tree, store, 1, (5,), version="1.2")) == (
        "</5>;ver=1.1;pmax=30")
    assert _encode(discover_links(tree, store, 1, (5,), version="1.1")) == "</5>;pmax=30"
    assert _encode(discover_links(tree, store, 1, (5,), version="1.0")) == "</5>;pmax=30"
    tree.create_instance(3, 0, {16: "U"})
    for version in ("1.1", "1.2"):
        assert _encode(discover_links(tree, store, 1, (3,), version=version)) == (
            "</3>;ver=1.1,</3/0>,</3/0/16>")
    assert _encode(discover_links(tree, store, 1, (3,), version="1.0")) == (
        "</3>,</3/0>,</3/0/16>")


def test_discover_errors() -> None:
    tree, store = _device_tree()
    with pytest.raises(NotFound):
        discover_links(tree, store, 1, (4,))
    with pytest.raises(NotFound):
        discover_links(tree, store, 1, (3, 1))
    with pytest.raises(NotFound):
        discover_links(tree, store, 1, (3, 1, 0))
    with pytest.raises(NotFound):
        discover_links(tree, store, 1, (3, 0, 0))  # defined, no value
    with pytest.raises(NotFound):
        discover_links(tree, store, 1, (3, 0, 5))  # executable without a handler
    with pytest.raises(NotFound):
        discover_links(tree, store, 1, (3, 0, 99))  # not defined
    with pytest.raises(MethodNotAllowed):
        discover_links(tree, store, 1, ())
    with pytest.raises(MethodNotAllowed):
        discover_links(tree, store, 1, (3, 0, 6, 0))
    for depth in (-1, 4, 100):
        with pytest.raises(BadRequest):
            discover_links(tree, store, 1, (3, 0), depth=depth)
    with pytest.raises(ValueError):
        discover_links(tree, store, 1, (3, 0), version="2.0")


def test_discover_attribute_values_round_trip() -> None:
    tree, store = _device_tree()
    store.write(1, (3, 0, 6), {"gt": 1e-7, "lt": -1e20, "st": 0.1}, t.T_INTEGER)
    (target, attrs), = decode_links(_encode(discover_links(tree, store, 1, (3, 0, 6), 0)))
    assert target == "/3/0/6"
    assert attrs == {"dim": "2", "pmin": "10", "pmax": "60", "gt": "1e-07", "lt": "-1e+20",
                     "st": "0.1"}
    assert float(attrs["lt"]) == -1e20


# -- Register ---------------------------------------------------------------------------


def _register_tree(server_version: str = "1.0") -> ObjectTree:
    tree = ObjectTree([
        _obj(0), _obj(1, server_version), _obj(2), _obj(3, multiple=False), _obj(4),
        _obj(5), _obj(21),
    ])
    for oid, iids in ((0, (0, 1)), (1, (1, 0)), (2, (4, 3, 2, 1, 0)), (3, (0,)),
                      (4, (0,)), (21, (0,))):
        for iid in iids:
            tree.create_instance(oid, iid, {0: 1})
    return tree


def test_register_facts_vector() -> None:
    tree = _register_tree()
    assert _encode(register_links(tree, "1.0")) == REGISTER_PAYLOAD
    assert _encode(register_links(tree, "1.0", content_formats=[110, 112, 60])) == (
        '</>;ct="110 112 60",' + REGISTER_PAYLOAD)
    assert _encode(register_links(tree, "1.0", content_formats=[112])) == (
        "</>;ct=112," + REGISTER_PAYLOAD)


def test_register_server_object_version() -> None:
    # C1.1 section 6.2.1 example: a 1.1 client with a 1.0 Server object says so.
    tree = _register_tree("1.0")
    assert _encode(register_links(tree)).startswith("</1>;ver=1.0,</1/0>,</1/1>,</2/0>")
    tree = _register_tree("1.1")
    # A 1.1 Server object: the version of 1.1 (and so also announced as 1.1 by a 1.2
    # client, where a missing ver would mean 1.2); LwM2M 1.0 has no ver at all.
    for version in ("1.1", "1.2"):
        assert _encode(register_links(tree, version)).startswith(
            "</1>;ver=1.1,</1/0>,</1/1>,</2/0>")
    assert _encode(register_links(tree, "1.0")).startswith("</1/0>,</1/1>,</2/0>")
    # A 1.2 Server object registered as 1.1 announces the 1.1 it is compatible with.
    tree = _register_tree("1.2")
    assert _encode(register_links(tree, "1.1")).startswith("</1>;ver=1.1,</1/0>")
    assert _encode(register_links(tree, "1.2")).startswith("</1>;ver=1.2,</1/0>")


def test_register_leshan_shape() -> None:
    tree = ObjectTree([_obj(1, "1.1"), _obj(2), _obj(3, "1.1"), _obj(3442)])
    tree.create_instance(1, 0, {0: 1})
    tree.create_instance(3, 0, {0: 1})
    tree.create_instance(3442, 0, {0: 1})
    links = register_links(tree, "1.1", content_formats=[60, 110, 112, 1542, 1543, 11542])
    assert _encode(links) == (
        '</>;ct="60 110 112 1542 1543 11542",'
        "</1>;ver=1.1,</1/0>,</2>,</3>;ver=1.1,</3/0>,</3442/0>")


def test_register_alternate_path() -> None:
    tree = _register_tree()
    text = _encode(register_links(tree, "1.0", root="/lwm2m"))
    assert text == '</lwm2m>;rt="oma.lwm2m",' + REGISTER_PAYLOAD.replace("</", "</lwm2m/")
    text = _encode(register_links(tree, "1.0", [110, 112], "/a/b"))
    assert text.startswith('</a/b>;rt="oma.lwm2m";ct="110 112",</a/b/1/0>,')
    assert _encode(register_links(tree, "1.0", root="/")) == REGISTER_PAYLOAD
    for root in ("lwm2m", "/lwm2m/", "/1", "/a/2", "/a//b", "/a b", "/a;b", "/<x>", "", 5):
        with pytest.raises(ValueError):
            register_links(tree, "1.0", root=root)


def test_register_never_lists_security_or_oscore() -> None:
    tree = ObjectTree([_obj(0), _obj(21, "1.1")])
    tree.create_instance(0, 0, {0: 1})
    assert register_links(tree) == []
    assert register_links(tree, content_formats=[112]) == [((), [("ct", 112)])]
    with pytest.raises(ValueError):
        register_links(tree, "1.3")


_OIDS = st.lists(st.one_of(st.integers(0, 8), st.integers(0, 40000)), unique=True,
                 max_size=8)


def _major_minor(ver: str) -> tuple[int, int]:
    major, minor = ver.split(".")
    return int(major), int(minor)


@settings(max_examples=200, deadline=None)
@given(_OIDS, st.data())
def test_register_shapes(oids: list, data: st.DataObject) -> None:
    versions = {oid: data.draw(st.sampled_from(["1.0", "1.0", "1.1", "1.3", "2.3"]))
                for oid in oids}
    tree = ObjectTree([_obj(oid, versions[oid]) for oid in oids])
    instances = {}
    for oid in oids:
        instances[oid] = data.draw(st.lists(st.integers(0, 65534), unique=True, max_size=4))
        for iid in instances[oid]:
            tree.create_instance(oid, iid, {0: 1})
    version = data.draw(st.sampled_from(["1.0", "1.1", "1.2"]))
    decoded = decode_links(_encode(register_links(tree, version)))
    expected = []
    for oid in sorted(oids):
        if oid in (0, 21):
            continue
        ver = versions[oid]
        published = enabler_object_version(version, oid)
        if published is not None and _major_minor(ver)[0] == _major_minor(published)[0] \
                and _major_minor(ver) > _major_minor(published):
            ver = published
        announce = version != "1.0" and (
            ver != "1.0" or (oid in (0, 1) and ver != published))
        if announce or not instances[oid]:
            expected.append((f"/{oid}", {"ver": ver} if announce else {}))
        expected += [(f"/{oid}/{iid}", {}) for iid in sorted(instances[oid])]
    assert decoded == expected


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_discover_attributes_round_trip(data: st.DataObject) -> None:
    tree, _ = _device_tree()
    store = AttributeStore()
    written = {}
    for path in ((3,), (3, 0), (3, 0, 7), (3, 0, 7, 1), (3, 0, 16)):
        attrs: dict[str, float] = data.draw(st.fixed_dictionaries({}, optional={
            "pmin": st.integers(0, MAX_INT_ATTR), "epmax": st.integers(1, 1000),
            "con": st.sampled_from([0, 1]),
        }))
        if len(path) >= 3 and path[2] == 7:
            attrs["gt"] = data.draw(st.floats(allow_nan=False, allow_infinity=False))
        if attrs:
            store.write(1, path, attrs, t.T_INTEGER if len(path) > 2 else None)
            written["/".join([""] + [str(i) for i in path])] = attrs
    links = decode_links(_encode(discover_links(tree, store, 1, (3,), depth=3)))
    seen = {}
    for target, params in links:
        params.pop("dim", None)
        if params:
            seen[target] = {k: (float(v) if k == "gt" else int(v)) for k, v in params.items()}
    assert seen == written
