"""The Bootstrap interface, client side (LwM2M Core 1.1 section 6.1.7, Transport 1.1
section 6.4.2): BootstrapHandler driven with real CoAP messages on a tree built from the
shipped object models, check_configuration rule by rule, and the Bootstrap-Pack.

The meter in every test: a Bootstrap-Server account /0/0 (PSK), one LwM2M Server
account (/0/1 and /1/0, Short Server ID 101), Device /3/0 and Connectivity /4/0.
"""

from __future__ import annotations

import json
from typing import Any

import cbor2
import pytest
from dm_objects import snapshot
from hypothesis import given, settings
from hypothesis import strategies as st

from lwm2m_client.core.client import setup
from lwm2m_client.core.client.access import BOOTSTRAP_OWNER, OBJECT_LEVEL, add_access_control
from lwm2m_client.core.client.bs_interface import (
    PACK_FORMATS,
    BootstrapHandler,
    apply_pack,
    bootstrap_account,
    check_configuration,
    kept_instances,
)
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.coap import options as o
from lwm2m_client.core.coap.message import Message
from lwm2m_client.core.content import (
    CF_LINK,
    CF_LWM2M_CBOR,
    CF_OPAQUE,
    CF_SENML_CBOR,
    CF_SENML_JSON,
    CF_TEXT,
    CF_TLV,
    formats,
)
from lwm2m_client.core.dm import types as t
from lwm2m_client.core.dm.model import obj, resource
from lwm2m_client.core.dm.tree import ObjectTree
from lwm2m_client.core.dm.types import Objlnk
from lwm2m_client.core.errors import BadRequest, MethodNotAllowed
from lwm2m_client.models import shipped_objects

OBJECTS = shipped_objects()
SERVER_URI = "coaps://server_1.example.com"
OSCORE = obj(21, "OSCORE", [resource(0, "Master Secret", "Opaque", ""),
                            resource(1, "Sender ID", "Opaque", "")])
FORMATS = (CF_TLV, CF_SENML_JSON, CF_SENML_CBOR, CF_LWM2M_CBOR)


def make_tree(oids: tuple[int, ...] = (0, 1, 2, 3, 4, 5), extra: tuple[Any, ...] = ()
              ) -> ObjectTree:
    tree = ObjectTree([OBJECTS[i] for i in oids] + list(extra))
    setup.add_security(tree, 0, "coaps://bs.example.com", bootstrap=True,
                       mode=setup.SEC_PSK, identity="bs-id", secret_key=b"bs-key")
    setup.add_security(tree, 1, SERVER_URI, ssid=101, mode=setup.SEC_PSK,
                       identity="meter-1", secret_key=bytes(range(16)))
    setup.add_server(tree, 0, 101, lifetime=300)
    setup.add_device(tree, "ACME", "M-1", "0001", "1.0")
    setup.add_connectivity(tree)
    return tree


def request(method: int, path: str, payload: bytes = b"", cf: int | None = None,
            accept: int | None = None) -> Message:
    msg = Message(m.CON, method, 0x1234, b"\x01", payload=payload)
    msg.uri_path = path
    if cf is not None:
        msg.content_format = cf
    if accept is not None:
        msg.accept = accept
    return msg


class Meter:
    def __init__(self, tree: ObjectTree | None = None, version: str = "1.1",
                 **kw: Any) -> None:
        self.tree = make_tree() if tree is None else tree
        self.handler = BootstrapHandler(self.tree, bytearray(2048), **kw)
        self.handler.strict = True
        self.version = version

    def send(self, method: int, path: str, payload: bytes = b"", cf: int | None = None,
             accept: int | None = None) -> Any:
        msg = request(method, path, payload, cf, accept)
        return self.handler.handle(msg, self.version, payload)

    def code(self, *args: Any, **kw: Any) -> int:
        return int(self.send(*args, **kw).code)

    def body(self, *args: Any, **kw: Any) -> bytes:
        reply = self.send(*args, **kw)
        assert reply.code == m.CONTENT, m.code_name(reply.code)
        return bytes(reply.body)


@pytest.fixture
def meter() -> Meter:
    return Meter()


def encode(cf: int, records: list[Any], base: tuple[int, ...]) -> bytes:
    buf = bytearray(1024)
    codec = formats.codec(cf)
    assert codec is not None
    n = codec.encode_into(buf, records, base)
    return bytes(buf[:n])


def tlv(kind: int, ident: int, value: bytes) -> bytes:
    """One TLV (LwM2M Core 1.1 section 7.4.3): kind 0 object instance, 1 resource
    instance, 2 multiple resource, 3 resource with value."""
    head = kind << 6
    ident_bytes = bytes([ident]) if ident < 256 else ident.to_bytes(2, "big")
    if ident >= 256:
        head |= 0x20
    n = len(value)
    if n < 8:
        head |= n
        length = b""
    else:
        head |= 0x08
        length = bytes([n])
    return bytes([head]) + ident_bytes + length + value


# -- operation names ------------------------------------------------------------------


@pytest.mark.parametrize("method,path,accept,op", [
    (m.GET, "/", CF_LINK, "bs-discover"),
    (m.GET, "/", None, "bs-discover"),
    (m.GET, "/3", None, "bs-discover"),
    (m.GET, "/1", None, "bs-discover"),
    (m.GET, "/1", CF_LINK, "bs-discover"),
    (m.GET, "/1", CF_TLV, "bs-read"),
    (m.GET, "/1/0", None, "bs-read"),
    (m.PUT, "/1/0", None, "bs-write"),
    (m.DELETE, "/", None, "bs-delete"),
    (m.POST, "/bs", None, "unknown"),
    (m.FETCH, "/", None, "unknown"),
])
def test_op_names(meter: Meter, method: int, path: str, accept: int | None,
                  op: str) -> None:
    assert meter.handler.op_name(request(method, path, accept=accept)) == op


def test_other_methods_are_not_bootstrap_operations(meter: Meter) -> None:
    before = snapshot(meter.tree)
    assert meter.code(m.POST, "/1/0", b"\xc1\x01\x05", CF_TLV) == m.METHOD_NOT_ALLOWED
    assert meter.code(m.POST, "/bs") == m.METHOD_NOT_ALLOWED  # Finish is the machine's
    assert meter.code(m.IPATCH, "/") == m.METHOD_NOT_ALLOWED
    assert snapshot(meter.tree) == before


def test_malformed_accept_is_a_bad_option(meter: Meter) -> None:
    msg = request(m.GET, "/1")
    msg.add_option(o.ACCEPT, b"\x01\x02\x03\x04\x05")
    reply = meter.handler.handle(msg, "1.1", b"")
    assert (reply.op, reply.code) == ("unknown", m.BAD_OPTION)


# -- Bootstrap-Write ------------------------------------------------------------------


def _server_records(iid: int, ssid: int) -> list[Any]:
    return [((1, iid, 0), t.T_INTEGER, ssid), ((1, iid, 1), t.T_INTEGER, 600),
            ((1, iid, 6), t.T_BOOLEAN, False), ((1, iid, 7), t.T_STRING, "UQ")]


@pytest.mark.parametrize("cf", FORMATS)
def test_write_object_with_several_instances(meter: Meter, cf: int) -> None:
    records = _server_records(1, 102) + _server_records(2, 103)
    reply = meter.send(m.PUT, "/1", encode(cf, records, (1,)), cf)
    assert (reply.op, reply.code, reply.objects_changed) == ("bs-write", m.CHANGED, True)
    assert meter.tree.instances(1) == [0, 1, 2]
    assert [meter.tree.get((1, i, 0)) for i in (1, 2)] == [102, 103]
    assert meter.tree.get((1, 2, 7)) == "UQ"
    assert not meter.tree.has((1, 1, 2))  # absent optional resources are not made


@pytest.mark.parametrize("cf", FORMATS)
def test_write_instance_that_does_not_exist(meter: Meter, cf: int) -> None:
    assert meter.code(m.PUT, "/1/4", encode(cf, _server_records(4, 104), (1, 4)),
                      cf) == m.CHANGED
    assert meter.tree.get((1, 4, 0)) == 104 and meter.tree.get((1, 4, 6)) is False


@pytest.mark.parametrize("cf", FORMATS + (CF_TEXT,))
def test_write_resource_of_a_missing_instance(meter: Meter, cf: int) -> None:
    payload = b"120" if cf == CF_TEXT else encode(
        cf, [((1, 7, 1), t.T_INTEGER, 120)], (1, 7, 1))
    reply = meter.send(m.PUT, "/1/7/1", payload, cf)
    assert reply.code == m.CHANGED and reply.objects_changed
    assert meter.tree.get((1, 7, 1)) == 120
    assert meter.tree.instances(1) == [0, 7]
    assert not meter.tree.has((1, 7, 0))  # only what was written


def test_write_read_only_resources_of_the_security_object(meter: Meter) -> None:
    # A hand-made TLV of a new Security instance: URI, Bootstrap-Server false, PSK,
    # identity, key, Short Server ID 102.
    body = (tlv(3, 0, b"coaps://s2.example.com") + tlv(3, 1, b"\x00") + tlv(3, 2, b"\x00")
            + tlv(3, 3, b"meter-2") + tlv(3, 5, b"0123456789abcdef") + tlv(3, 10, b"\x66"))
    assert meter.code(m.PUT, "/0/2", body, CF_TLV) == m.CHANGED
    tree = meter.tree
    assert tree.get((0, 2, 0)) == "coaps://s2.example.com"
    assert tree.get((0, 2, 3)) == b"meter-2" and tree.get((0, 2, 10)) == 102
    assert tree.get((0, 2, 1)) is False and not tree.has((0, 2, 11))
    # The SSID of /1 is read-only to a server, not to the Bootstrap-Server.
    assert meter.code(m.PUT, "/1/0/0", b"105", CF_TEXT) == m.CHANGED
    assert tree.get((1, 0, 0)) == 105


def test_write_replaces_only_what_the_payload_holds(meter: Meter) -> None:
    binding = meter.tree.get((1, 0, 7))
    payload = json.dumps([{"bn": "/1/0/", "n": "1", "v": 900}]).encode()
    assert meter.code(m.PUT, "/1/0", payload, CF_SENML_JSON) == m.CHANGED
    assert meter.tree.get((1, 0, 1)) == 900 and meter.tree.get((1, 0, 7)) == binding


def test_write_ignores_unknown_resources(meter: Meter) -> None:
    payload = cbor2.dumps([{-2: "/1/3/", 0: "0", 2: 110}, {0: "999", 3: "?"},
                           {0: "1", 2: 60}])
    reply = meter.send(m.PUT, "/1/3", payload, CF_SENML_CBOR)
    assert reply.code == m.CHANGED
    assert meter.tree.get((1, 3, 0)) == 110 and meter.tree.get((1, 3, 1)) == 60
    body = tlv(3, 1, b"\x3c") + tlv(3, 999, b"\x01\x02")  # TLV: unknown resource 999
    assert meter.code(m.PUT, "/1/0", body, CF_TLV) == m.CHANGED
    assert meter.tree.get((1, 0, 1)) == 60


def test_write_multiple_resource_replaces_its_instances(meter: Meter) -> None:
    records = [((4, 0, 4, 0), t.T_STRING, "10.0.0.9")]
    assert meter.code(m.PUT, "/4/0/4", encode(CF_TLV, records, (4, 0, 4)),
                      CF_TLV) == m.CHANGED
    assert meter.tree.get((4, 0, 4)) == {0: "10.0.0.9"}


@pytest.mark.parametrize("path", ["/9999", "/9999/0", "/9999/0/1", "/1/0/999"])
def test_write_to_what_the_client_does_not_have_is_4_04(meter: Meter, path: str) -> None:
    before = snapshot(meter.tree)
    assert meter.code(m.PUT, path, b"1", CF_TEXT) == m.NOT_FOUND
    assert snapshot(meter.tree) == before


@pytest.mark.parametrize("path,payload,cf", [
    ("/1/0", b"\xc1\x01", CF_TLV),  # truncated TLV
    ("/1/0", b"\xff\xff", CF_SENML_CBOR),  # not CBOR
    ("/1/0", b"[{\"n\":\"1\",\"vs\":\"x\"}]", CF_SENML_JSON),  # a string for an integer
    ("/1/0", b"[{\"bn\":\"/1/0/\",\"n\":\"0\",\"v\":0}]", CF_SENML_JSON),  # SSID range
    ("/1/0", b"[{\"bn\":\"/1/1/\",\"n\":\"1\",\"v\":5}]", CF_SENML_JSON),  # outside path
    ("/1/0", b"[{\"bn\":\"/1/0/\",\"n\":\"8\",\"vb\":true}]", CF_SENML_JSON),  # executable
    ("/3/1", b"[{\"bn\":\"/3/1/\",\"n\":\"14\",\"vs\":\"+01\"}]", CF_SENML_JSON),  # single
    ("/1/0/1", b"", CF_TEXT),  # no payload
    ("/1/0/1", b"60", None),  # no Content-Format
    ("/", b"60", CF_TEXT),  # root
    ("/4/0/4/0", b"10.0.0.1", CF_TEXT),  # resource instance
    ("/1/x", b"60", CF_TEXT),  # not a path
])
def test_bad_writes_are_4_00_and_change_nothing(meter: Meter, path: str, payload: bytes,
                                                cf: int | None) -> None:
    before = snapshot(meter.tree)
    reply = meter.send(m.PUT, path, payload, cf)
    assert (reply.op, reply.code) == ("bs-write", m.BAD_REQUEST)
    assert snapshot(meter.tree) == before


def test_object_write_is_all_or_nothing(meter: Meter) -> None:
    records = _server_records(1, 102) + _server_records(2, 0)  # SSID 0 is out of range
    before = snapshot(meter.tree)
    assert meter.code(m.PUT, "/1", encode(CF_SENML_CBOR, records, (1,)),
                      CF_SENML_CBOR) == m.BAD_REQUEST
    assert snapshot(meter.tree) == before and meter.tree.instances(1) == [0]


def test_unsupported_content_format_is_4_15(meter: Meter) -> None:
    assert meter.code(m.PUT, "/1/0/1", b"60", 9999) == m.UNSUPPORTED_CONTENT_FORMAT
    only_tlv = Meter(formats=(CF_TLV,))
    assert only_tlv.code(m.PUT, "/1/0/1", b"60", CF_TEXT) == m.UNSUPPORTED_CONTENT_FORMAT
    assert only_tlv.code(m.PUT, "/1/0", tlv(3, 1, b"\x3c"), CF_TLV) == m.CHANGED


def test_application_check_vetoes_a_write(meter: Meter) -> None:
    def check(path: tuple[int, ...], value: Any) -> None:
        if path == (1, 0, 1) and value < 60:
            raise BadRequest("lifetime too short")
    meter.tree.on_write((1,), check)
    assert meter.code(m.PUT, "/1/0/1", b"30", CF_TEXT) == m.BAD_REQUEST
    assert meter.tree.get((1, 0, 1)) == 300


# -- Bootstrap-Read -------------------------------------------------------------------


def test_read_server_object_and_instance(meter: Meter) -> None:
    body = meter.body(m.GET, "/1", accept=CF_SENML_JSON)
    assert ((1, 0, 0), 101) in formats.codec(CF_SENML_JSON).decode(body, (1,))
    reply = meter.send(m.GET, "/1/0", accept=CF_TLV)
    assert (reply.op, reply.cf) == ("bs-read", CF_TLV)
    assert formats.codec(CF_TLV).decode(bytes(reply.body), (1, 0), meter.tree.type_of)[0] \
        == ((1, 0, 0), 101)


def test_read_without_accept_takes_the_clients_format(meter: Meter) -> None:
    reply = meter.send(m.GET, "/1/0")
    assert reply.code == m.CONTENT and reply.cf == CF_SENML_CBOR
    assert Meter(preferred_format=CF_LWM2M_CBOR).send(m.GET, "/1/0").cf == CF_LWM2M_CBOR


def test_read_access_control_object(meter: Meter) -> None:
    add_access_control(meter.tree, 4, 0, 101, {0: 1, 101: 15})
    items = formats.codec(CF_SENML_JSON).decode(
        meter.body(m.GET, "/2", accept=CF_SENML_JSON), (2,))
    assert ((2, 0, 0), 4) in items and ((2, 0, 2, 101), 15) in items
    assert meter.code(m.GET, "/2/0", accept=CF_SENML_CBOR) == m.CONTENT


@pytest.mark.parametrize("path,code", [
    ("/3", m.UNAUTHORIZED), ("/3/0", m.UNAUTHORIZED), ("/0", m.UNAUTHORIZED),
    ("/0/1", m.UNAUTHORIZED), ("/9999", m.UNAUTHORIZED), ("/1/7", m.NOT_FOUND),
    ("/2/0", m.NOT_FOUND), ("/1/0/1", m.METHOD_NOT_ALLOWED), ("/", m.METHOD_NOT_ALLOWED),
])
def test_read_refused(meter: Meter, path: str, code: int) -> None:
    reply = meter.send(m.GET, path, accept=CF_TLV)
    assert (reply.op, reply.code, reply.body) == ("bs-read", code, None)


def test_read_in_an_unsupported_format_is_4_06(meter: Meter) -> None:
    assert meter.code(m.GET, "/1", accept=CF_OPAQUE) == m.NOT_ACCEPTABLE
    assert meter.code(m.GET, "/1", accept=9999) == m.NOT_ACCEPTABLE


def test_read_is_not_in_lwm2m_1_0() -> None:
    assert Meter(version="1.0").code(m.GET, "/1", accept=CF_TLV) == m.METHOD_NOT_ALLOWED


# -- Bootstrap-Discover ---------------------------------------------------------------


def test_discover_root_1_1(meter: Meter) -> None:
    body = meter.body(m.GET, "/", accept=CF_LINK)
    assert body == (
        b'</>;lwm2m=1.1,</0>;ver=1.1,</0/0>,'
        b'</0/1>;ssid=101;uri="coaps://server_1.example.com",'
        b'</1>;ver=1.1,</1/0>;ssid=101,</2>,</3>;ver=1.1,</3/0>,</4>;ver=1.2,</4/0>,</5>')
    assert meter.body(m.GET, "/") == body  # no Accept: a Discover of / all the same


def test_discover_root_1_0_has_no_object_versions() -> None:
    # The shape of the example of Core 1.1 section 6.1.7.3.
    assert Meter(version="1.0").body(m.GET, "/", accept=CF_LINK) == (
        b'</>;lwm2m=1.0,</0/0>,</0/1>;ssid=101;uri="coaps://server_1.example.com",'
        b'</1/0>;ssid=101,</2>,</3/0>,</4/0>,</5>')


def test_discover_object(meter: Meter) -> None:
    setup.add_security(meter.tree, 5, "coap://plain.example.com", ssid=7)
    reply = meter.send(m.GET, "/0", accept=CF_LINK)
    assert (reply.op, reply.cf) == ("bs-discover", CF_LINK)
    assert bytes(reply.body) == (
        b'</0>;ver=1.1,</0/0>,</0/1>;ssid=101;uri="coaps://server_1.example.com",'
        b'</0/5>;ssid=7;uri="coap://plain.example.com"')
    assert Meter(version="1.2").body(m.GET, "/5") == b"</5>;ver=1.1"


def test_discover_oscore_instances_carry_the_ssid() -> None:
    tree = make_tree(extra=(OSCORE,))
    tree.create_instance(21, 0, {0: b"bs-secret"})
    tree.create_instance(21, 3, {0: b"secret"})
    tree.set((0, 0, 17), Objlnk(21, 0))
    tree.set((0, 1, 17), Objlnk(21, 3))
    assert Meter(tree).body(m.GET, "/21", accept=CF_LINK) == b"</21/0>,</21/3>;ssid=101"


@pytest.mark.parametrize("path,code", [
    ("/1/0", m.BAD_REQUEST), ("/1/0/1", m.BAD_REQUEST), ("/9999", m.NOT_FOUND),
])
def test_discover_refused(meter: Meter, path: str, code: int) -> None:
    reply = meter.send(m.GET, path, accept=CF_LINK)
    assert (reply.op, reply.code) == ("bs-discover", code)


def test_discover_too_large_for_the_buffer_is_5_00(meter: Meter) -> None:
    small = BootstrapHandler(meter.tree, bytearray(40))
    reply = small.handle(request(m.GET, "/", accept=CF_LINK), "1.1", b"")
    assert reply.code == m.INTERNAL_SERVER_ERROR


# -- Bootstrap-Delete -----------------------------------------------------------------


def test_delete_root_keeps_the_bootstrap_account_and_the_device(meter: Meter) -> None:
    add_access_control(meter.tree, 4, 0, 101)
    reply = meter.send(m.DELETE, "/")
    assert (reply.op, reply.code, reply.objects_changed) == ("bs-delete", m.DELETED, True)
    tree = meter.tree
    assert tree.instances(0) == [0] and tree.get((0, 0, 1)) is True
    assert tree.instances(3) == [0]
    assert tree.instances(1) == [] and tree.instances(2) == [] and tree.instances(4) == []


def test_delete_root_keeps_the_device_instance_without_deny_delete() -> None:
    tree = ObjectTree([OBJECTS[i] for i in (0, 1, 3)])
    tree.create_instance(3, 0, {}, check_mandatory=False)  # no add_device, no deny
    assert kept_instances(tree) == [(3, 0)]
    assert Meter(tree).code(m.DELETE, "/") == m.DELETED
    assert tree.instances(3) == [0]
    assert Meter(tree).code(m.DELETE, "/3/0") == m.BAD_REQUEST


def test_delete_security_object_keeps_the_bootstrap_account(meter: Meter) -> None:
    setup.add_security(meter.tree, 4, "coap://other.example.com", ssid=9)
    assert meter.code(m.DELETE, "/0") == m.DELETED
    assert meter.tree.instances(0) == [0]
    assert meter.tree.instances(1) == [0]  # Server instances stay: Finish finds them


def test_delete_root_keeps_the_bootstrap_accounts_oscore_instance() -> None:
    tree = make_tree(extra=(OSCORE,))
    tree.create_instance(21, 0, {0: b"bs-secret"})
    tree.create_instance(21, 1, {0: b"secret"})
    tree.set((0, 0, 17), Objlnk(21, 0))
    tree.set((0, 1, 17), Objlnk(21, 1))
    assert Meter(tree).code(m.DELETE, "/21") == m.DELETED
    assert tree.instances(21) == [0]
    assert Meter(tree).code(m.DELETE, "/21/0") == m.BAD_REQUEST


def test_delete_single_instances(meter: Meter) -> None:
    assert meter.code(m.DELETE, "/1/0") == m.DELETED
    assert meter.code(m.DELETE, "/4/0") == m.DELETED
    assert meter.code(m.DELETE, "/0/1") == m.DELETED
    assert meter.tree.instances(1) == [] and meter.tree.instances(0) == [0]


def test_delete_of_an_object_without_instances(meter: Meter) -> None:
    reply = meter.send(m.DELETE, "/5")
    assert reply.code == m.DELETED and not reply.objects_changed
    assert meter.code(m.DELETE, "/3") == m.DELETED and meter.tree.instances(3) == [0]


@pytest.mark.parametrize("path", ["/0/0", "/3/0", "/1/0/1", "/4/0/4/0", "/1/7", "/9999",
                                  "/9999/0", "/x"])
def test_delete_refused_with_4_00(meter: Meter, path: str) -> None:
    before = snapshot(meter.tree)
    reply = meter.send(m.DELETE, path)
    assert (reply.op, reply.code) == ("bs-delete", m.BAD_REQUEST)
    assert snapshot(meter.tree) == before


def test_delete_keeps_what_the_application_protects(meter: Meter) -> None:
    meter.tree.deny_delete((4, 0))
    assert meter.code(m.DELETE, "/4/0") == m.BAD_REQUEST
    assert meter.code(m.DELETE, "/") == m.DELETED
    assert meter.tree.instances(4) == [0] and meter.tree.instances(1) == []


def test_delete_is_all_or_nothing_under_a_veto(meter: Meter) -> None:
    def veto(path: tuple[int, ...]) -> None:
        raise MethodNotAllowed("connectivity is busy")
    meter.tree.on_delete((4,), veto)
    before = snapshot(meter.tree)
    assert meter.code(m.DELETE, "/") == m.BAD_REQUEST  # 4.00: the only error code
    assert snapshot(meter.tree) == before


# -- bootstrap_account ----------------------------------------------------------------


def test_bootstrap_account(meter: Meter) -> None:
    assert bootstrap_account(meter.tree) == 0
    tree = ObjectTree([OBJECTS[i] for i in (0, 1, 3)])
    assert bootstrap_account(tree) is None
    setup.add_security(tree, 3, SERVER_URI, ssid=1, mode=setup.SEC_PSK, identity="i",
                       secret_key=b"k")
    assert bootstrap_account(tree) is None
    body = tlv(3, 0, b"coap://bs") + tlv(3, 1, b"\x01") + tlv(3, 2, b"\x03")
    assert Meter(tree).code(m.PUT, "/0/7", body, CF_TLV) == m.CHANGED
    assert bootstrap_account(tree) == 7
    assert bootstrap_account(ObjectTree([OBJECTS[3]])) is None


# -- check_configuration --------------------------------------------------------------


def test_configuration_consistent(meter: Meter) -> None:
    assert check_configuration(meter.tree) is None
    add_access_control(meter.tree, 4, 0, 101, {0: 1, 101: 15})
    add_access_control(meter.tree, 5, OBJECT_LEVEL, BOOTSTRAP_OWNER, {101: 16})
    assert check_configuration(meter.tree) is None


def test_configuration_needs_a_server_account(meter: Meter) -> None:
    meter.tree.delete_instance(0, 1)
    meter.tree.delete_instance(1, 0)
    assert "no LwM2M Server account" in check_configuration(meter.tree)


def test_configuration_server_instance_needs_its_security_instance(meter: Meter) -> None:
    setup.add_server(meter.tree, 1, 102)
    assert check_configuration(meter.tree) == "/1/1 (Short Server ID 102) has no /0 instance"


def test_configuration_security_instance_needs_its_server_instance(meter: Meter) -> None:
    setup.add_security(meter.tree, 2, "coap://s2", ssid=102)
    assert check_configuration(meter.tree) == "/0/2 (Short Server ID 102) has no /1 instance"


def test_configuration_duplicate_ssid_in_server_object(meter: Meter) -> None:
    setup.add_server(meter.tree, 1, 101)
    assert check_configuration(meter.tree) == "Short Server ID 101 is in /1/0 and /1/1"


def test_configuration_duplicate_ssid_in_security_object(meter: Meter) -> None:
    setup.add_security(meter.tree, 2, "coap://s2", ssid=101)
    assert check_configuration(meter.tree) == "Short Server ID 101 is in /0/1 and /0/2"


def test_configuration_server_account_needs_uri_and_ssid(meter: Meter) -> None:
    meter.tree.set((0, 1, 0), None)
    assert "/0/1 needs a Server URI" in check_configuration(meter.tree)
    meter.tree.set((0, 1, 0), SERVER_URI)
    meter.tree.set((0, 1, 10), None)
    assert "/0/1 needs a Server URI and a Short Server ID" in check_configuration(meter.tree)


def test_configuration_needs_a_security_mode(meter: Meter) -> None:
    meter.tree.set((0, 0, 2), None)
    assert check_configuration(meter.tree) == "/0/0 has no Security Mode"


def test_configuration_security_mode_must_be_supported() -> None:
    # Object 0 limits the mode to 0..4; a definition without that range lets 7 in.
    security = obj(0, "Security", [
        resource(0, "URI", "String", ""), resource(1, "BS", "Boolean", ""),
        resource(2, "Mode", "Integer", ""), resource(10, "SSID", "Integer", "")])
    tree = ObjectTree([security, OBJECTS[1]])
    tree.create_instance(0, 0, {0: "coaps://s", 1: False, 2: 7, 10: 1})
    setup.add_server(tree, 0, 1)
    assert check_configuration(tree) == "/0/0: Security Mode 7 is not supported"


@pytest.mark.parametrize("mode,rid", [
    (setup.SEC_PSK, 3), (setup.SEC_PSK, 5), (setup.SEC_RPK, 4),
    (setup.SEC_CERTIFICATE, 3), (setup.SEC_CERTIFICATE, 5),
])
def test_configuration_security_mode_needs_its_credentials(meter: Meter, mode: int,
                                                           rid: int) -> None:
    tree = meter.tree
    tree.set((0, 1, 2), mode)
    for r in (3, 4, 5):
        tree.set((0, 1, r), b"x")
    tree.set((0, 1, rid), b"")
    name = ("PSK", "RPK", "Certificate")[mode]
    assert check_configuration(tree) == f"/0/1: Security Mode {name} needs /0/1/{rid}"
    tree.set((0, 1, rid), b"credential")
    assert check_configuration(tree) is None


@pytest.mark.parametrize("mode,uri", [
    (setup.SEC_NOSEC, "coaps://server_1.example.com"),
    (setup.SEC_PSK, "coap://server_1.example.com"),
    (setup.SEC_EST, "coap+tcp://server_1.example.com"),
])
def test_configuration_security_mode_must_fit_the_uri(meter: Meter, mode: int,
                                                      uri: str) -> None:
    meter.tree.set((0, 1, 2), mode)
    meter.tree.set((0, 1, 0), uri)
    assert f"does not go with {uri}" in check_configuration(meter.tree)
    meter.tree.set((0, 1, 0), uri.replace("coaps", "coap") if "coaps" in uri
                   else uri.replace("coap", "coaps"))
    assert check_configuration(meter.tree) is None


def test_configuration_nosec_needs_no_credentials(meter: Meter) -> None:
    tree = meter.tree
    tree.set((0, 1, 2), setup.SEC_NOSEC)
    tree.set((0, 1, 0), "coap://server_1.example.com")
    tree.set((0, 1, 3), b"")
    tree.set((0, 1, 5), b"")
    assert check_configuration(tree) is None


def test_configuration_acl_object_must_exist(meter: Meter) -> None:
    add_access_control(meter.tree, 9, 0, 101)
    assert check_configuration(meter.tree) == \
        "/2/0 is for object 9, which the client does not have"


def test_configuration_acl_instance_must_exist(meter: Meter) -> None:
    add_access_control(meter.tree, 5, 0, 101)
    assert check_configuration(meter.tree) == "/2/0 is for /5/0, which does not exist"


def test_configuration_acl_owner_must_be_a_server(meter: Meter) -> None:
    add_access_control(meter.tree, 4, 0, 102)
    assert check_configuration(meter.tree) == "/2/0: owner 102 is no LwM2M Server"


def test_configuration_acl_entries_must_name_servers(meter: Meter) -> None:
    add_access_control(meter.tree, 4, 0, BOOTSTRAP_OWNER, {0: 1, 102: 3})
    assert check_configuration(meter.tree) == \
        "/2/0: ACL entry for 102, which is no LwM2M Server"


def test_configuration_acl_instance_must_name_its_target(meter: Meter) -> None:
    body = tlv(3, 0, b"\x04") + tlv(3, 3, b"\x65")  # no Object Instance ID /2/x/1
    assert meter.code(m.PUT, "/2/3", body, CF_TLV) == m.CHANGED
    assert check_configuration(meter.tree) == "/2/3 names no object or no instance"


def test_configuration_acl_instance_needs_an_owner(meter: Meter) -> None:
    body = tlv(3, 0, b"\x04") + tlv(3, 1, b"\x00")
    assert meter.code(m.PUT, "/2/3", body, CF_TLV) == m.CHANGED
    assert check_configuration(meter.tree) == "/2/3 has no owner"


# -- Bootstrap-Pack ---------------------------------------------------------------------


def _pack_records() -> list[Any]:
    return [
        ((0, 0, 11), t.T_INTEGER, 30),  # the Bootstrap-Server account, written over
        ((0, 4, 0), t.T_STRING, "coaps://new.example.com"), ((0, 4, 1), t.T_BOOLEAN, False),
        ((0, 4, 2), t.T_INTEGER, 0), ((0, 4, 3), t.T_OPAQUE, b"meter-1"),
        ((0, 4, 5), t.T_OPAQUE, b"new-key"), ((0, 4, 10), t.T_INTEGER, 202),
        ((1, 0, 0), t.T_INTEGER, 202), ((1, 0, 1), t.T_INTEGER, 3600),
        ((1, 0, 6), t.T_BOOLEAN, True), ((1, 0, 7), t.T_STRING, "U"),
        ((3, 0, 14), t.T_STRING, "+02:00"),
    ]


@pytest.mark.parametrize("cf", (CF_SENML_CBOR, CF_SENML_JSON, CF_LWM2M_CBOR))
def test_pack_replaces_the_objects_it_holds(meter: Meter, cf: int) -> None:
    tree = meter.tree
    connectivity = snapshot(tree)[(4, 0, 0)]
    assert apply_pack(tree, cf, encode(cf, _pack_records(), ())) is None
    assert tree.instances(0) == [0, 4]  # /0/1 went, the BS account stayed
    assert tree.get((0, 0, 11)) == 30 and tree.get((0, 0, 1)) is True
    assert tree.instances(1) == [0] and tree.get((1, 0, 0)) == 202
    assert not tree.has((1, 0, 23))  # /1/0 holds the pack's values only
    assert tree.get((3, 0, 14)) == "+02:00" and tree.get((3, 0, 0)) == "ACME"
    assert tree.get((4, 0, 0)) == connectivity  # not in the pack
    assert check_configuration(tree) is None


@pytest.mark.parametrize("cf,payload", [
    (CF_TLV, b"\xc1\x01\x05"),  # no pack format
    (CF_SENML_JSON, b"[{"),
    (CF_SENML_JSON, b'[{"n":"/9999/0/1","v":1}]'),  # object the client does not have
    (CF_SENML_JSON, b'[{"n":"/1","v":1}]'),  # no resource
    (CF_SENML_JSON, b'[{"n":"/1/0/0","v":202},{"n":"/1/0/1","vs":"x"}]'),  # bad value
    (CF_SENML_JSON, b'[{"n":"/3/1/14","vs":"+01"}]'),  # single-instance object
    (CF_SENML_CBOR, b"\xff"),
    (9999, b"[]"),
])
def test_bad_pack_changes_nothing(meter: Meter, cf: int, payload: bytes) -> None:
    before = snapshot(meter.tree)
    reason = apply_pack(meter.tree, cf, payload)
    assert isinstance(reason, str) and "\n" not in reason
    assert snapshot(meter.tree) == before


def test_pack_in_a_format_the_client_does_not_speak(meter: Meter) -> None:
    payload = encode(CF_SENML_JSON, _pack_records(), ())
    assert apply_pack(meter.tree, CF_SENML_JSON, payload, formats=(CF_SENML_CBOR,))
    assert apply_pack(meter.tree, CF_SENML_JSON, payload, formats=(CF_SENML_JSON,)) is None


def test_pack_vetoed_by_a_delete_hook_changes_nothing(meter: Meter) -> None:
    def veto(path: tuple[int, ...]) -> None:
        raise BadRequest("keep it")
    meter.tree.on_delete((0, 1), veto)
    before = snapshot(meter.tree)
    reason = apply_pack(meter.tree, CF_SENML_CBOR,
                        encode(CF_SENML_CBOR, _pack_records(), ()))
    assert reason == "4.00 keep it"
    assert snapshot(meter.tree) == before


def test_pack_vetoed_by_a_write_check_changes_nothing(meter: Meter) -> None:
    def check(path: tuple[int, ...], value: Any) -> None:
        if path == (1, 0, 1):
            raise BadRequest("lifetime is fixed")
    meter.tree.on_write((1,), check)
    before = snapshot(meter.tree)
    assert apply_pack(meter.tree, CF_SENML_CBOR,
                      encode(CF_SENML_CBOR, _pack_records(), ())) == "4.00 lifetime is fixed"
    assert snapshot(meter.tree) == before


def test_pack_with_a_failing_post_write_hook_still_replaces_whole_objects(
        meter: Meter) -> None:
    def notify(path: tuple[int, ...], value: Any) -> None:
        raise BadRequest("told too late")
    meter.tree.on_written((1,), notify)
    reason = apply_pack(meter.tree, CF_SENML_CBOR,
                        encode(CF_SENML_CBOR, _pack_records(), ()))
    assert reason == "4.00 told too late"
    assert meter.tree.instances(0) == [0, 4]  # applied as a whole, /0/1 gone too


# -- fuzzing ----------------------------------------------------------------------------

SEGMENTS = st.one_of(
    st.sampled_from(["0", "1", "2", "3", "4", "5", "7", "21", "65535", "99999", "", "bs",
                     "01", "x"]),
    st.text(max_size=4))
CFS = st.one_of(st.none(), st.sampled_from([CF_TEXT, CF_LINK, CF_OPAQUE, 60, CF_SENML_JSON,
                                            CF_SENML_CBOR, 320, CF_TLV, 1542, 11543,
                                            CF_LWM2M_CBOR, 9999]))
# Requests that succeed as they are: the fuzzer changes bytes of their bodies.
GOOD_REQUESTS = [
    (m.PUT, "/1/1", CF_TLV, encode(CF_TLV, _server_records(1, 102), (1, 1))),
    (m.PUT, "/1", CF_SENML_JSON, encode(CF_SENML_JSON, _server_records(1, 102), (1,))),
    (m.PUT, "/1", CF_LWM2M_CBOR, encode(CF_LWM2M_CBOR, _server_records(2, 103), (1,))),
    (m.PUT, "/0/5", CF_TLV, tlv(3, 0, b"coap://x") + tlv(3, 2, b"\x03") + tlv(3, 10, b"\x09")),
    (m.PUT, "/1/0/1", CF_TEXT, b"60"),
    (m.PUT, "/4/0/4", CF_SENML_CBOR,
     encode(CF_SENML_CBOR, [((4, 0, 4, 0), t.T_STRING, "10.1.1.1")], (4, 0, 4))),
    (m.GET, "/1", None, b""),
    (m.GET, "/1/0", None, b""),
    (m.GET, "/", None, b""),
    (m.DELETE, "/", None, b""),
    (m.DELETE, "/1/0", None, b""),
]


@st.composite
def mutated(draw: Any, body: bytes) -> bytes:
    out = bytearray(body)
    if out and draw(st.booleans()):
        for _ in range(draw(st.integers(1, 4))):
            out[draw(st.integers(0, len(out) - 1))] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(out)))
        out = out[:cut]
    return bytes(out)


@st.composite
def requests(draw: Any) -> tuple[Message, bytes]:
    if draw(st.booleans()):
        method, path, cf, body = draw(st.sampled_from(GOOD_REQUESTS))
        body = draw(mutated(body))
        msg = request(method, path, body, cf, draw(CFS) if method == m.GET else None)
        return msg, body
    method = draw(st.sampled_from([m.GET, m.PUT, m.DELETE, m.POST, m.FETCH, m.IPATCH]))
    body = bytes(draw(st.binary(max_size=64)))
    msg = Message(m.CON, method, 1, b"", payload=body)
    for seg in draw(st.lists(SEGMENTS, max_size=5)):
        msg.add_option(o.URI_PATH, seg)
    cf = draw(CFS)
    if cf is not None:
        msg.content_format = cf
    accept = draw(CFS)
    if accept is not None:
        msg.accept = accept
    return msg, body


@settings(max_examples=500, deadline=None)
@given(req=requests(), version=st.sampled_from(["1.0", "1.1", "1.2"]))
def test_fuzz_handle_answers_and_leaves_the_tree_alone_on_errors(
        req: tuple[Message, bytes], version: str) -> None:
    msg, body = req
    meter = Meter(version=version)  # strict: a bug raises instead of answering 5.00
    before = snapshot(meter.tree)
    reply = meter.handler.handle(msg, version, body)
    assert m.code_class(reply.code) in (2, 4, 5)
    if m.code_class(reply.code) != 2 or msg.code == m.GET:
        assert snapshot(meter.tree) == before
    if reply.code == m.CONTENT:
        assert reply.body is not None and reply.cf is not None


PACKS = [encode(cf, _pack_records(), ()) for cf in PACK_FORMATS]


@settings(max_examples=200, deadline=None)
@given(cf=st.one_of(CFS, st.sampled_from(PACK_FORMATS)),
       body=st.one_of(st.binary(max_size=64), st.sampled_from(PACKS).flatmap(mutated)))
def test_fuzz_pack_applies_whole_or_not_at_all(cf: int | None, body: bytes) -> None:
    meter = Meter()
    before = snapshot(meter.tree)
    reason = apply_pack(meter.tree, cf, body)  # type: ignore[arg-type]
    assert reason is None or (isinstance(reason, str) and "internal" not in reason)
    if reason is not None:
        assert snapshot(meter.tree) == before
