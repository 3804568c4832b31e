"""Access control (Object 2, LwM2M Core 1.1 section 8) enforced by the client core.

A client with two registered servers (Short Server IDs 1 and 2) is driven datagram by
datagram through the sans-IO ClientCore: every request is a real CoAP message from one
server's address, every answer is the ACK the core sends back. The test object (32770)
has two instances; server 1 owns the Access Control instance of each and grants
server 2 the rights a case needs, or every right but those.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import cbor2
import pytest

from lwm2m_client.core.client import access, setup
from lwm2m_client.core.client.access import BOOTSTRAP_OWNER, FULL, OBJECT_LEVEL, C, D, E, R, W
from lwm2m_client.core.client.engine import ClientConfig, ClientCore
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.coap import options as o
from lwm2m_client.core.coap.message import Message, decode, to_bytes
from lwm2m_client.core.content import CF_LINK, CF_SENML_JSON, CF_TEXT, CF_TLV
from lwm2m_client.core.dm.app import obj, resource
from lwm2m_client.core.dm.tree import ObjectTree
from lwm2m_client.core.errors import Unauthorized
from lwm2m_client.models import shipped_objects

ROOT = Path(__file__).resolve().parent.parent
OBJECTS = shipped_objects()
ADDR = {1: ("10.0.0.1", 5683), 2: ("10.0.0.2", 5683)}
VALVE = obj(32770, "Valve", [
    resource(0, "Setpoint", "Integer", "RW", mandatory=True),
    resource(1, "Label", "String", "R"),
    resource(2, "Flush", None, "E"),
    resource(3, "Limits", "Integer", "RW", multiple=True),
])
V = VALVE.oid
EMPTY = 19  # an object without instances


class Meter:
    """A registered client core with servers 1 and 2 and the Valve object.

    ``acl`` maps a Valve instance ID to the ACL entry of each server in ``grantees`` on
    it (None: no entry); ``owner`` owns the /2 instances (server 1, or 65535: the
    Bootstrap-Server). ``create`` is the grantees' entry in the object-level /2 instance
    (None: there is none); ``default`` the ACL entry 0. ``enabled`` False builds no /2
    instance at all.
    """

    def __init__(self, acl: dict[int, int | None] | None = None, create: int | None = None,
                 enabled: bool = True, default: int | None = None, owner: int = 1,
                 grantees: tuple[int, ...] = (2,)) -> None:
        tree = ObjectTree([OBJECTS[i] for i in (0, 1, 2, 3, EMPTY)] + [VALVE])
        for ssid in (1, 2):
            setup.add_security(tree, None, f"coap://server-{ssid}", ssid=ssid)
            setup.add_server(tree, None, ssid, lifetime=300)
        setup.add_device(tree, "ACME", "V1", "SN1", "1.0")
        tree.create_instance(V, 0, {0: 10, 1: "a", 3: {0: 1}})
        tree.create_instance(V, 1, {0: 20, 1: "b"})
        self.flushes: list[tuple[int, ...]] = []
        tree.on_execute((V, None, 2), lambda path, args: self.flushes.append(path))
        if enabled:
            for iid, entry in (acl or {0: None, 1: None}).items():
                entries = {} if entry is None else {s: entry for s in grantees}
                if default is not None:
                    entries[0] = default
                access.add_access_control(tree, V, iid, owner, entries)
            if create is not None:
                access.add_access_control(tree, V, OBJECT_LEVEL, BOOTSTRAP_OWNER,
                                          {s: create for s in grantees})
        tree.drain_changes()
        self.tree = tree
        self.core = ClientCore(ClientConfig("ep", version="1.1", jitter=0), tree,
                               random.Random(1))
        self.mid = 0x100
        self.now = 0
        for ssid in (1, 2):
            self.core.set_address(ssid, ADDR[ssid])
        self.core.start(0)
        self.core.handle_timer(self.core.get_timer())
        for data, addr in self.core.datagrams_to_send():
            req = decode(data)
            ack = Message(m.ACK, m.CREATED, req.mid, req.token)
            ack.location_path = ["rd", str(addr[0][-1])]
            self.core.receive_datagram(to_bytes(ack), addr, 5)
        assert self.core.serves(ADDR[1]) and self.core.serves(ADDR[2])
        while self.core.next_event() is not None:
            pass

    def request(self, ssid: int, code: int, path: str, payload: bytes = b"",
                cf: int | None = None, accept: int | None = None,
                query: tuple[str, ...] = (), observe: int | None = None) -> Message:
        """Send one request from server ``ssid``; return the ACK the core answers with."""
        self.mid += 1
        self.now += 10
        msg = Message(m.CON, code, self.mid, self.mid.to_bytes(2, "big"), payload=payload)
        msg.uri_path = path
        for q in query:
            msg.add_option(o.URI_QUERY, q)
        if cf is not None:
            msg.content_format = cf
        if accept is not None:
            msg.accept = accept
        if observe is not None:
            msg.observe = observe
        self.core.receive_datagram(to_bytes(msg), ADDR[ssid], self.now)
        answers = [decode(d) for d, a in self.core.datagrams_to_send()
                   if a == ADDR[ssid] and decode(d).mid == self.mid and decode(d).mtype == m.ACK]
        assert len(answers) == 1
        return answers[0]

    def state(self) -> tuple[Any, ...]:
        tree = self.tree
        data = tuple(tuple(tree.read((oid,))) for oid in tree.objects() if oid != 0)
        client = self.core.client
        return (data, len(client.observations), len(client.attributes), len(self.flushes))


def senml(records: list[dict[str, Any]]) -> bytes:
    return json.dumps(records).encode()


def names(answer: Message) -> list[str]:
    """The full names of the records of a SenML JSON answer."""
    base = ""
    out = []
    for rec in json.loads(bytes(answer.payload)):
        base = rec.get("bn", base)
        out.append(base + rec.get("n", ""))
    return out


# Every operation once: (name, right needed, method, path, payload, content format,
# accept, query, observe, success code). Write, partial Write and Execute target
# instance 0; a multiple resource's POST is a partial Write (needs W, not E).
OPERATIONS = [
    ("read", R, m.GET, f"/{V}/0", b"", None, CF_SENML_JSON, (), None, m.CONTENT),
    ("read-resource", R, m.GET, f"/{V}/0/0", b"", None, CF_TEXT, (), None, m.CONTENT),
    ("observe", R, m.GET, f"/{V}/0/0", b"", None, CF_TEXT, (), 0, m.CONTENT),
    ("write", W, m.PUT, f"/{V}/0/0", b"7", CF_TEXT, None, (), None, m.CHANGED),
    ("write-partial", W, m.POST, f"/{V}/0", bytes.fromhex("C10007"), CF_TLV, None, (),
     None, m.CHANGED),
    ("write-multiple-post", W, m.POST, f"/{V}/0/3", bytes.fromhex("410105"), CF_TLV,
     None, (), None, m.CHANGED),
    ("write-attributes", R, m.PUT, f"/{V}/0/0", b"", None, None, ("pmin=5",), None,
     m.CHANGED),
    ("discover", 0, m.GET, f"/{V}/0", b"", None, CF_LINK, (), None, m.CONTENT),
    ("execute", E, m.POST, f"/{V}/0/2", b"", None, None, (), None, m.CHANGED),
    ("create", C, m.POST, f"/{V}", bytes.fromhex("C10005"), CF_TLV, None, (), None,
     m.CREATED),
    ("delete", D, m.DELETE, f"/{V}/0", b"", None, None, (), None, m.DELETED),
    ("read-composite", R, m.FETCH, "/", senml([{"n": f"/{V}/0/0"}]), CF_SENML_JSON,
     CF_SENML_JSON, (), None, m.CONTENT),
    ("write-composite", W, m.IPATCH, "/", senml([{"n": f"/{V}/0/0", "v": 7}]),
     CF_SENML_JSON, None, (), None, m.CHANGED),
]
OP_IDS = [op[0] for op in OPERATIONS]
READ_ONLY = ("read", "read-resource", "discover", "read-composite")


def _send(meter: Meter, ssid: int, op: tuple[Any, ...]) -> Message:
    _, _, method, path, payload, cf, accept, query, observe, _ = op
    return meter.request(ssid, method, path, payload, cf, accept, query, observe)


@pytest.mark.parametrize("present", [True, False], ids=["granted", "withheld"])
@pytest.mark.parametrize("op", OPERATIONS, ids=OP_IDS)
@pytest.mark.parametrize("ssid", [1, 2], ids=["server-1", "server-2"])
def test_acl_matrix(ssid: int, op: tuple[Any, ...], present: bool) -> None:
    need, ok = op[1], op[9]
    # Both servers have an entry on every Valve instance and in the object-level
    # instance; the Bootstrap-Server owns them all. Granted: exactly the right the
    # operation needs; withheld: every other right.
    entry = need if present else FULL & ~need
    meter = Meter(acl={0: entry, 1: entry}, create=entry, owner=BOOTSTRAP_OWNER,
                  grantees=(1, 2))
    before = meter.state()
    answer = _send(meter, ssid, op)
    if present or need == 0:
        assert m.code_name(answer.code) == m.code_name(ok)
        assert (meter.state() != before) == (op[0] not in READ_ONLY)
        if op[0] == "observe":
            assert answer.observe is not None and len(meter.core.client.observations) == 1
    else:
        assert m.code_name(answer.code) == "4.01"
        assert answer.payload == b"" and meter.state() == before


@pytest.mark.parametrize("op", OPERATIONS, ids=OP_IDS)
def test_owner_without_an_entry_has_every_right_but_create(op: tuple[Any, ...]) -> None:
    # Core 1.1 section 8.2.1: the owner of /2/x has every right on its target; Create
    # comes only from the object-level instance, where server 1 has no entry.
    meter = Meter(acl={0: 0, 1: 0})
    answer = _send(meter, 1, op)
    expected = "4.01" if op[0] == "create" else m.code_name(op[9])
    assert m.code_name(answer.code) == expected


@pytest.mark.parametrize("default, code", [(R, "2.05"), (W, "4.01"), (None, "4.01")])
def test_default_entry_zero_applies_to_servers_without_their_own(default: int | None,
                                                                 code: str) -> None:
    meter = Meter(acl={0: None, 1: None}, default=default)
    assert m.code_name(meter.request(2, m.GET, f"/{V}/0/0", accept=CF_TEXT).code) == code
    # The owner keeps every right whatever entry 0 says.
    assert m.code_name(meter.request(1, m.PUT, f"/{V}/0/0", b"3", CF_TEXT).code) == "2.04"


def test_own_entry_wins_over_the_default_and_over_ownership() -> None:
    meter = Meter(acl={0: W, 1: W}, default=R)
    assert m.code_name(meter.request(2, m.GET, f"/{V}/0/0", accept=CF_TEXT).code) == "4.01"
    assert m.code_name(meter.request(2, m.PUT, f"/{V}/0/0", b"3", CF_TEXT).code) == "2.04"
    # An owner with an entry of its own gets what the entry says.
    meter.tree.set((2, 0, 2), {1: R})
    assert m.code_name(meter.request(1, m.PUT, f"/{V}/0/0", b"4", CF_TEXT).code) == "4.01"
    assert meter.tree.get((V, 0, 0)) == 3


@pytest.mark.parametrize("granted, code", [(0, "4.01"), (W | E, "4.05")])
def test_unsupported_operation_is_4_05_only_after_the_access_check(granted: int,
                                                                  code: str) -> None:
    meter = Meter(acl={0: granted, 1: granted})
    before = meter.state()
    for method, path, payload, cf in ((m.PUT, f"/{V}/0/1", b"x", CF_TEXT),  # R resource
                                      (m.POST, f"/{V}/0/1", b"", None)):  # not executable
        assert m.code_name(meter.request(2, method, path, payload, cf).code) == code
    assert meter.state() == before


def test_missing_instance_is_not_found_whatever_the_rights() -> None:
    meter = Meter(acl={0: 0, 1: 0})
    for method in (m.GET, m.DELETE):
        assert m.code_name(meter.request(2, method, f"/{V}/9").code) == "4.04"


# -- object level: Read, Observe, Write-Attributes (Core 1.1 section 8.2.3) -------------


def test_object_read_returns_only_the_readable_instances() -> None:
    meter = Meter(acl={0: W, 1: R})
    answer = meter.request(2, m.GET, f"/{V}", accept=CF_SENML_JSON)
    assert m.code_name(answer.code) == "2.05"
    assert names(answer) == [f"/{V}/1/0", f"/{V}/1/1"]
    # The owner reads both.
    owner = names(meter.request(1, m.GET, f"/{V}", accept=CF_SENML_JSON))
    assert [n for n in owner if n.startswith(f"/{V}/0/")] != []


@pytest.mark.parametrize("method, query, observe", [
    (m.GET, (), None), (m.GET, (), 0), (m.PUT, ("pmin=5",), None)],
    ids=["read", "observe", "write-attributes"])
def test_object_level_fails_only_when_no_instance_is_readable(
        method: int, query: tuple[str, ...], observe: int | None) -> None:
    meter = Meter(acl={0: W | E | D, 1: W})
    before = meter.state()
    answer = meter.request(2, method, f"/{V}", query=query, observe=observe,
                           accept=None if method == m.PUT else CF_SENML_JSON)
    assert m.code_name(answer.code) == "4.01" and meter.state() == before
    partly = Meter(acl={0: W, 1: R})
    answer = partly.request(2, method, f"/{V}", query=query, observe=observe,
                            accept=None if method == m.PUT else CF_SENML_JSON)
    assert m.code_name(answer.code) == ("2.04" if method == m.PUT else "2.05")


def test_object_without_instances_reads_empty() -> None:
    meter = Meter()
    answer = meter.request(2, m.GET, f"/{EMPTY}", accept=CF_SENML_JSON)
    assert m.code_name(answer.code) == "2.05"


def test_observe_of_an_object_sets_up_the_observation_for_the_readable_part() -> None:
    meter = Meter(acl={0: 0, 1: R})
    answer = meter.request(2, m.GET, f"/{V}", accept=CF_SENML_JSON, observe=0)
    assert m.code_name(answer.code) == "2.05" and answer.observe is not None
    assert names(answer) == [f"/{V}/1/0", f"/{V}/1/1"]


def test_notification_body_follows_the_rights_of_its_server() -> None:
    meter = Meter(acl={0: 0, 1: R})
    handler = meter.core.client.handler
    code, body = handler.notification((V,), CF_SENML_JSON, 2)
    assert m.code_name(code) == "2.05" and body is not None
    assert f"/{V}/0/" not in bytes(body).decode()
    code, body = handler.notification((V, 0, 0), CF_TEXT, 2)
    assert (m.code_name(code), body) == ("4.01", None)  # rights gone: the observation ends
    code, body = handler.notification((V, 0, 0), CF_TEXT)
    assert m.code_name(code) == "2.05"  # no server given: no access control


def test_notification_to_a_server_that_lost_read_ends_with_4_01() -> None:
    # Core 1.1 section 8.2: notifications follow the rights of the observing server.
    meter = Meter(acl={0: R, 1: R})
    answer = meter.request(2, m.GET, f"/{V}/0/0", accept=CF_TEXT, observe=0)
    assert answer.observe is not None and len(meter.core.client.observations) == 1
    ac_iid = next(i for i in meter.tree.instances(2) if meter.tree.get((2, i, 1)) == 0)
    meter.tree.set((2, ac_iid, 2), {2: 0})  # the owner took server 2's R away
    meter.tree.set((V, 0, 0), 11)
    meter.core.handle_timer(meter.now)
    (note,) = [decode(d) for d, a in meter.core.datagrams_to_send() if a == ADDR[2]]
    assert m.code_name(note.code) == "4.01"
    assert len(meter.core.client.observations) == 0


def test_send_carries_to_each_server_only_what_it_may_read() -> None:
    # Core 1.1 sections 6.4.6 and 8: a Send is a report like any other.
    meter = Meter(acl={0: R, 1: 0})
    meter.tree.set((1, 0, 23), False)
    meter.tree.set((1, 1, 23), False)
    sent = meter.core.send([(V, 0, 0), (V, 1, 0)], meter.now)
    assert sent == [1, 2]
    bodies = {a: bytes(decode(d).payload) for d, a in meter.core.datagrams_to_send()}
    assert cbor2.loads(bodies[ADDR[1]]) and len(cbor2.loads(bodies[ADDR[1]])) == 2
    assert len(cbor2.loads(bodies[ADDR[2]])) == 1  # /V/1 is not server 2's to read
    assert meter.core.send([(V, 1, 0)], meter.now) == [1]


# -- composite operations ----------------------------------------------------------------


def test_read_composite_skips_instances_without_read() -> None:
    meter = Meter(acl={0: W, 1: R})
    paths = senml([{"n": f"/{V}/0/0"}, {"n": f"/{V}/1/0"}])
    answer = meter.request(2, m.FETCH, "/", paths, CF_SENML_JSON, CF_SENML_JSON)
    assert m.code_name(answer.code) == "2.05" and names(answer) == [f"/{V}/1/0"]
    only_denied = senml([{"n": f"/{V}/0/0"}])
    answer = meter.request(2, m.FETCH, "/", only_denied, CF_SENML_JSON, CF_SENML_JSON)
    assert m.code_name(answer.code) == "4.01"
    missing = senml([{"n": f"/{V}/7/0"}])
    answer = meter.request(2, m.FETCH, "/", missing, CF_SENML_JSON, CF_SENML_JSON)
    assert m.code_name(answer.code) == "4.04"


def test_read_composite_of_the_root_covers_what_the_server_may_read() -> None:
    meter = Meter(acl={0: 0, 1: R})
    answer = meter.request(2, m.FETCH, "/", senml([{"n": "/"}]), CF_SENML_JSON,
                           CF_SENML_JSON)
    got = names(answer)
    assert m.code_name(answer.code) == "2.05"
    assert f"/{V}/1/0" in got and not [n for n in got if n.startswith(f"/{V}/0/")]
    # /1 and /3 have no /2 instance: nobody may read them; /2 every server may.
    assert not [n for n in got if n.startswith(("/0/", "/1/", "/3/"))]
    assert "/2/0/0" in got


def test_write_composite_needs_write_on_every_instance() -> None:
    meter = Meter(acl={0: W, 1: R})
    before = meter.state()
    body = senml([{"n": f"/{V}/0/0", "v": 1}, {"n": f"/{V}/1/0", "v": 2}])
    answer = meter.request(2, m.IPATCH, "/", body, CF_SENML_JSON)
    assert m.code_name(answer.code) == "4.01" and meter.state() == before
    meter.tree.set((2, 1, 2), {2: W})
    assert m.code_name(meter.request(2, m.IPATCH, "/", body, CF_SENML_JSON).code) == "2.04"
    assert (meter.tree.get((V, 0, 0)), meter.tree.get((V, 1, 0))) == (1, 2)


# -- Create and Delete (Core 1.1 sections 6.3.6, 8.1.2, 8.2.1) ---------------------------


def _acl_of(tree: ObjectTree, oid: int, iid: int) -> list[int]:
    return [x for x in tree.instances(2)
            if tree.get((2, x, 0)) == oid and tree.get((2, x, 1)) == iid]


def test_create_makes_an_access_control_instance_owned_by_the_creator() -> None:
    meter = Meter(acl={0: 0, 1: 0}, create=C)
    answer = meter.request(2, m.POST, f"/{V}", bytes.fromhex("C10005"), CF_TLV)
    assert m.code_name(answer.code) == "2.01" and answer.location_path == f"/{V}/2"
    (ac,) = _acl_of(meter.tree, V, 2)
    assert meter.tree.get((2, ac, 3)) == 2
    assert meter.tree.get((2, ac, 2)) == {2: R | W | E | D}
    # The creator may do everything with it, the other server nothing.
    assert m.code_name(meter.request(2, m.GET, f"/{V}/2/0", accept=CF_TEXT).code) == "2.05"
    assert m.code_name(meter.request(1, m.GET, f"/{V}/2/0", accept=CF_TEXT).code) == "4.01"
    # Deleting it removes its Access Control instance too.
    assert m.code_name(meter.request(2, m.DELETE, f"/{V}/2").code) == "2.02"
    assert _acl_of(meter.tree, V, 2) == [] and not meter.tree.has((V, 2))


def test_without_an_object_level_instance_nobody_creates() -> None:
    meter = Meter(acl={0: FULL, 1: FULL})
    before = meter.state()
    for ssid in (1, 2):
        answer = meter.request(ssid, m.POST, f"/{V}", bytes.fromhex("C10005"), CF_TLV)
        assert m.code_name(answer.code) == "4.01"
    assert meter.state() == before


def test_delete_by_a_server_removes_the_access_control_instance() -> None:
    meter = Meter(acl={0: D, 1: 0})
    assert _acl_of(meter.tree, V, 0) == [0]
    assert m.code_name(meter.request(2, m.DELETE, f"/{V}/0").code) == "2.02"
    assert _acl_of(meter.tree, V, 0) == [] and meter.tree.instances(2) == [1]


def test_create_replaces_a_stale_instance_pointing_at_a_missing_target() -> None:
    meter = Meter(acl={0: 0, 1: 0}, create=C)
    access.add_access_control(meter.tree, V, 7, 1, {0: FULL}, ac_iid=9)
    # The dangling /2/9 protects nothing: the target is missing, 4.04 for everyone.
    assert m.code_name(meter.request(2, m.GET, f"/{V}/7").code) == "4.04"
    tlv_7 = bytes.fromhex("0307" "C10005")  # Object Instance 7 holding resource 0
    answer = meter.request(2, m.POST, f"/{V}", tlv_7, CF_TLV)
    assert m.code_name(answer.code) == "2.01"
    (ac,) = _acl_of(meter.tree, V, 7)
    assert ac != 9 and meter.tree.get((2, ac, 3)) == 2
    assert m.code_name(meter.request(1, m.GET, f"/{V}/7/0", accept=CF_TEXT).code) == "4.01"


def test_create_is_all_or_nothing_when_object_2_is_full() -> None:
    meter = Meter(acl={0: 0, 1: 0}, create=C)
    meter.tree.max_instances = len(meter.tree.instances(2))
    before = meter.state()
    answer = meter.request(2, m.POST, f"/{V}", bytes.fromhex("C10005"), CF_TLV)
    assert m.code_name(answer.code) == "5.00" and meter.state() == before


# -- Object 2 itself ------------------------------------------------------------------------


def test_only_the_owner_writes_an_access_control_instance() -> None:
    meter = Meter(acl={0: R, 1: R})
    before = meter.state()
    acl_tlv = bytes.fromhex("8302" "410203")  # /2/0/2 = {2: R | W}
    answer = meter.request(2, m.PUT, "/2/0/2", acl_tlv, CF_TLV)
    assert m.code_name(answer.code) == "4.01" and meter.state() == before
    assert m.code_name(meter.request(2, m.PUT, "/2/0/2/2", b"3", CF_TEXT).code) == "4.01"
    assert meter.state() == before
    # The owner may; afterwards server 2 writes the valve.
    assert m.code_name(meter.request(1, m.PUT, "/2/0/2/2", b"3", CF_TEXT).code) == "2.04"
    assert meter.tree.get((2, 0, 2)) == {2: 3}
    assert m.code_name(meter.request(2, m.PUT, f"/{V}/0/0", b"9", CF_TEXT).code) == "2.04"


def test_every_server_reads_object_2_and_none_creates_or_deletes_it() -> None:
    meter = Meter(acl={0: 0, 1: 0}, create=C)
    for ssid in (1, 2):
        assert m.code_name(meter.request(ssid, m.GET, "/2", accept=CF_SENML_JSON).code) == \
            "2.05"
    before = meter.state()
    body = bytes.fromhex("C10001" "C10100" "C10301")
    for ssid in (1, 2):
        assert m.code_name(meter.request(ssid, m.POST, "/2", body, CF_TLV).code) == "4.01"
        assert m.code_name(meter.request(ssid, m.DELETE, "/2/0").code) == "4.01"
    assert meter.state() == before


def test_nobody_writes_the_bootstrap_owned_object_level_instance() -> None:
    meter = Meter(acl={0: 0, 1: 0}, create=C)
    (ac,) = _acl_of(meter.tree, V, OBJECT_LEVEL)
    for ssid in (1, 2):
        code = meter.request(ssid, m.PUT, f"/2/{ac}/2/{ssid}", b"31", CF_TEXT).code
        assert m.code_name(code) == "4.01"
    assert meter.tree.get((2, ac, 2)) == {2: C}


@pytest.mark.parametrize("path, payload, code", [
    ("/2/0/2/2", b"64", "4.00"),  # beyond the 5 defined bits (range 0..31)
    ("/2/0/2/2", b"-1", "4.00"),
    ("/2/0/2/2", b"rw", "4.00"),
    ("/2/0/3", b"70000", "4.00"),  # owner outside 0..65535
    ("/2/0/0", b"3", "4.05"),  # Object ID is read-only: 4.05 after the owner's check
], ids=["too-big", "negative", "not-a-number", "owner-range", "read-only"])
def test_malformed_acl_writes_by_the_owner_change_nothing(path: str, payload: bytes,
                                                          code: str) -> None:
    meter = Meter(acl={0: R, 1: R})
    before = meter.state()
    assert m.code_name(meter.request(1, m.PUT, path, payload, CF_TEXT).code) == code
    assert meter.state() == before


def test_malformed_access_control_instances_grant_nothing() -> None:
    meter = Meter(acl={1: FULL})  # no /2 instance names /V/0 yet
    tree = meter.tree
    # No Object Instance ID: skipped. One naming an unsupported object: harmless.
    tree.create_instance(2, 20, {0: V, 3: 2, 2: {2: FULL}}, check_mandatory=False)
    access.add_access_control(tree, 9999, 0, 2, {2: FULL})
    assert m.code_name(meter.request(2, m.GET, f"/{V}/0/0", accept=CF_TEXT).code) == "4.01"
    assert m.code_name(meter.request(2, m.GET, f"/{V}/1/0", accept=CF_TEXT).code) == "2.05"
    assert m.code_name(meter.request(1, m.GET, "/2", accept=CF_SENML_JSON).code) == "2.05"


def test_security_object_stays_closed_under_access_control() -> None:
    meter = Meter(acl={0: FULL, 1: FULL})
    access.add_access_control(meter.tree, 1, 0, 1)  # irrelevant to /0
    for ssid in (1, 2):
        assert m.code_name(meter.request(ssid, m.GET, "/0/0", accept=CF_TLV).code) == "4.01"
        answer = meter.request(ssid, m.FETCH, "/", senml([{"n": "/0/0"}]), CF_SENML_JSON,
                               CF_SENML_JSON)
        assert m.code_name(answer.code) == "4.01"


# -- AC-Disabled and the Bootstrap-Server --------------------------------------------------


@pytest.mark.parametrize("op", OPERATIONS, ids=OP_IDS)
def test_without_object_2_instances_every_server_has_every_right(op: tuple[Any, ...]) -> None:
    meter = Meter(enabled=False)
    assert m.code_name(_send(meter, 2, op).code) == m.code_name(op[9])
    if op[0] == "create":
        assert meter.tree.instances(2) == []  # no /2 instance: it stays AC-Disabled


# A two-server client without /2 instances (Object 2 supported but empty), driven
# through every operation in a fresh interpreter: the access module must stay unloaded.
_AC_DISABLED_SCRIPT = """
import json, random, sys
from lwm2m_client.core.client import setup
from lwm2m_client.core.client.client import LwM2MClient
from lwm2m_client.core.client.engine import ClientConfig
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.dm.tree import ObjectTree
from lwm2m_client.models import shipped_objects

objects = shipped_objects()
tree = ObjectTree([objects[i] for i in (0, 1, 2, 3, 19)])
for ssid in (1, 2):
    setup.add_security(tree, None, "coap://s%d" % ssid, ssid=ssid)
    setup.add_server(tree, None, ssid)
setup.add_device(tree, "ACME", "V1", "SN1", "1.0")
client = LwM2MClient(ClientConfig("ep"), tree, random.Random(1))
client.set_address(1, "s1")
client.start(0)
client.handle_timer(client.get_timer())
((key, _, _),) = client.requests_to_send()
created = m.Message(code=m.CREATED)
created.location_path = ["rd", "1"]
client.response_received(key, created, 5)
assert client.serves("s1")
senml = json.dumps([{"n": "/3/0/0"}]).encode()
for code, path, payload, cf, accept in (
        (m.GET, "/3/0", b"", None, 110), (m.GET, "/3", b"", None, 110),
        (m.PUT, "/3/0/14", b"+01:00", 0, None), (m.POST, "/19", bytes.fromhex("8300410001"), 11542,
        None), (m.DELETE, "/19/0", b"", None, None), (m.FETCH, "/", senml, 110, 110),
        (m.IPATCH, "/", json.dumps([{"n": "/3/0/14", "vs": "Z"}]).encode(), 110, None)):
    msg = m.Message(m.CON, code, payload=payload)
    msg.uri_path = path
    if cf is not None:
        msg.content_format = cf
    if accept is not None:
        msg.accept = accept
    answer = client.handle_request(msg, "s1", 10)
    assert m.code_class(answer.code) == 2, (path, m.code_name(answer.code))
print("lwm2m_client.core.client.access" in sys.modules)
"""


def test_access_module_is_not_loaded_without_object_2_instances() -> None:
    out = subprocess.run([sys.executable, "-c", _AC_DISABLED_SCRIPT], capture_output=True,
                         text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_bootstrap_server_is_subject_to_no_access_control() -> None:
    meter = Meter(acl={0: 0, 1: 0})
    tree = meter.tree
    assert access.rights(tree, None, V, 0) == FULL
    assert access.allowed(tree, None, 2, 0, D)
    access.authorize(tree, None, "delete", (2, 0))
    access.authorize(tree, None, "create", (V,))
    with pytest.raises(Unauthorized):
        access.authorize(tree, 2, "delete", (2, 0))


def test_rights_follow_the_order_of_section_8_2_1() -> None:
    meter = Meter(acl={0: None, 1: E}, default=R)
    tree = meter.tree
    tab = access.table(tree)
    assert access.rights(tree, 1, V, 0, tab) == FULL  # owner, no entry of its own
    assert access.rights(tree, 2, V, 0, tab) == R  # default entry 0
    assert access.rights(tree, 2, V, 1, tab) == E  # its own entry
    assert access.rights(tree, 3, V, 1, tab) == R  # an unknown server: the default
    assert access.rights(tree, 2, 3, 0, tab) == 0  # no /2 instance: no rights
    assert access.rights(tree, 2, V, OBJECT_LEVEL, tab) == 0  # no Create instance
