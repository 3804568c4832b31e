"""Observe-Composite (LwM2M Core 1.1 section 6.4.1; Transport 1.1 section 6.4.5: FETCH /
with Observe=0 and a SenML path list) on the datagram-level core with a virtual clock.

One observation holds every path of the list; a change of any of them is notified with
the composite read of all, in the format of the first answer. Its periods: the largest
pmin and the smallest pmax in force at its paths (see lwm2m_client.core.client.observe).
"""

from __future__ import annotations

import json

import cbor2
from test_client_observe import SERVER, Meter

from lwm2m_client.core.coap import message as m
from lwm2m_client.core.coap.message import Message, to_bytes
from lwm2m_client.core.content import CF_SENML_CBOR, CF_SENML_JSON

PATHS = ["/3305/0/5800", "/3/0/16"]


def path_list(paths, cf=CF_SENML_CBOR):
    if cf == CF_SENML_JSON:
        return json.dumps([{"n": p} for p in paths]).encode()
    return cbor2.dumps([{0: p} for p in paths])


def fetch(meter, paths=PATHS, token=b"\x0c", observe=0, cf=CF_SENML_CBOR):
    (answer,) = meter.request(m.FETCH, "/", token=token, observe=observe,
                              payload=path_list(paths, cf), cf=cf)
    return answer


def values(msg):
    """Resolved SenML name -> value of a SenML CBOR body (cbor2: an independent reader)."""
    out, base = {}, ""
    for record in cbor2.loads(bytes(msg.payload)):
        base = record.get(-2, base)
        value = [record[k] for k in (2, 3, 4, 8) if k in record]
        out[base + record.get(0, "")] = value[0] if value else None
    return out


def observe_composite(meter, paths=PATHS, token=b"\x0c"):
    answer = fetch(meter, paths, token)
    assert answer.code == m.CONTENT and answer.observe is not None
    return answer


def test_observe_composite_registers_one_observation_of_every_path():
    meter = Meter()
    first = observe_composite(meter)
    assert first.content_format == CF_SENML_CBOR
    assert values(first) == {"/3305/0/5800": 1.0, "/3/0/16": "U"}
    (obs,) = meter.core.client.observations.items
    assert obs.composite and obs.path == () and obs.paths == ((3305, 0, 5800), (3, 0, 16))


def test_a_change_of_one_path_notifies_all_paths():
    meter = Meter()
    first = observe_composite(meter)
    meter.now = 1000
    meter.set_power(2.5)
    (note,) = meter.run_until(1000)
    assert note.token == b"\x0c" and note.code == m.CONTENT and note.observe > first.observe
    assert note.content_format == CF_SENML_CBOR
    assert values(note) == {"/3305/0/5800": 2.5, "/3/0/16": "U"}
    meter.tree.set((3, 0, 16), "UQ")
    (note,) = meter.run_until(2000)
    assert values(note) == {"/3305/0/5800": 2.5, "/3/0/16": "UQ"}


def test_the_format_of_the_first_answer_is_kept():
    meter = Meter()
    (answer,) = meter.request(m.FETCH, "/", token=b"\x0c", observe=0,
                              payload=path_list(PATHS, CF_SENML_JSON), cf=CF_SENML_JSON)
    assert answer.code == m.CONTENT and answer.content_format == CF_SENML_JSON
    meter.set_power(3.0)
    (note,) = meter.run_until(0)
    assert note.content_format == CF_SENML_JSON and b"3.0" in bytes(note.payload)


def test_a_change_elsewhere_notifies_nothing():
    meter = Meter()
    observe_composite(meter)
    meter.tree.set((3, 0, 14), "+02:00")
    assert meter.run_until(3_600_000) == []


def test_largest_pmin_and_smallest_pmax_of_the_paths():
    meter = Meter()
    meter.request(m.PUT, "/3305/0/5800", query=("pmin=10", "pmax=100"))
    meter.request(m.PUT, "/3/0", query=("pmin=5", "pmax=40"))
    observe_composite(meter)
    meter.now = 1000
    meter.set_power(2.0)
    assert meter.run_until(9999) == []  # pmin 10 (not 5)
    (note,) = meter.run_until(10_000)
    assert values(note)["/3305/0/5800"] == 2.0
    assert meter.run_until(49_999) == []
    (note,) = meter.run_until(50_000)  # pmax 40 (not 100) after the last one
    assert values(note) == {"/3305/0/5800": 2.0, "/3/0/16": "U"}


def test_server_defaults_apply_and_value_conditions_do_not():
    meter = Meter(default_pmin=5, default_pmax=30)
    meter.request(m.PUT, "/3305/0/5800", query=("st=10",))
    observe_composite(meter)
    meter.now = 1000
    meter.set_power(1.5)  # below the step: it would hold a single Observe back
    assert meter.run_until(4999) == []
    assert [values(n)["/3305/0/5800"] for n in meter.run_until(5000)] == [1.5]
    assert len(meter.run_until(35_000)) == 1


def test_cancel_by_fetch_with_observe_1():
    meter = Meter()
    observe_composite(meter, token=b"\x01")
    answer = fetch(meter, token=b"\x01", observe=1)
    assert answer.code == m.CONTENT and answer.observe is None
    assert values(answer) == {"/3305/0/5800": 1.0, "/3/0/16": "U"}
    assert len(meter.core.client.observations) == 0
    meter.set_power(2.0)
    assert meter.run_until(1000) == []


def test_cancel_by_reset():
    meter = Meter()
    observe_composite(meter)
    meter.set_power(3.0)
    (note,) = meter.run_until(0)
    rst = Message(m.RST, 0, note.mid, b"")
    meter.core.receive_datagram(to_bytes(rst), SERVER, 100)
    assert len(meter.core.client.observations) == 0
    meter.set_power(4.0)
    assert meter.run_until(3000) == []  # RFC 7641 section 3.6


def test_bad_path_list_gets_4_00_and_no_observation():
    meter = Meter()
    (answer,) = meter.request(m.FETCH, "/", token=b"\x0c", observe=0,
                              payload=b"\xff\x00", cf=CF_SENML_CBOR)
    assert answer.code == m.BAD_REQUEST and answer.observe is None
    assert len(meter.core.client.observations) == 0


def test_missing_paths_or_the_security_object_set_up_nothing():
    meter = Meter()
    answer = fetch(meter, ["/3305/1/5800"])
    assert answer.code == m.NOT_FOUND and answer.observe is None
    answer = fetch(meter, ["/0/0/0", "/3/0/16"])
    assert answer.code == m.UNAUTHORIZED and answer.observe is None
    assert len(meter.core.client.observations) == 0


def test_a_path_gone_leaves_the_others_and_none_left_ends_it_with_4_04():
    meter = Meter()
    observe_composite(meter, ["/3305/0", "/3/0/16"])
    meter.tree.delete_instance(3305, 0)
    (note,) = meter.run_until(1000)
    assert note.code == m.CONTENT and values(note) == {"/3/0/16": "U"}
    meter2 = Meter()
    observe_composite(meter2, ["/3305/0"])
    meter2.tree.delete_instance(3305, 0)
    (note,) = meter2.run_until(1000)
    assert note.code == m.NOT_FOUND and note.observe is None
    assert meter2.run_until(100_000) == []


def test_composite_observations_count_against_the_bound():
    meter = Meter(max_observations=2)
    observe_composite(meter, token=b"\x01")
    observe_composite(meter, token=b"\x01")  # the same token again: replaced
    meter.request(m.GET, "/3305/0/5800", token=b"\x02", observe=0)
    answer = fetch(meter, token=b"\x03")
    assert answer.code == m.SERVICE_UNAVAILABLE
    assert len(meter.core.client.observations) == 2


def test_a_read_composite_without_observe_sets_up_nothing():
    meter = Meter()
    answer = fetch(meter, observe=None)
    assert answer.code == m.CONTENT and answer.observe is None
    assert len(meter.core.client.observations) == 0


def test_an_answer_in_blocks_is_observed_and_its_later_blocks_use_the_kept_path_list():
    # RFC 7959 section 2.6 / RFC 8132 section 2.3.2: block 0 carries Observe; the
    # server's follow-up FETCHes for the later blocks may come without the body.
    meter = Meter()
    whole = fetch(meter, ["/"], token=b"\x0d", observe=None)
    assert whole.code == m.CONTENT and len(whole.payload) > 64
    blocks, num = [], 0
    while True:
        meter.mid += 1
        msg = Message(m.CON, m.FETCH, meter.mid, b"\x0c",
                      payload=path_list(["/"]) if num == 0 else b"")
        msg.uri_path = "/"
        msg.content_format = CF_SENML_CBOR
        if num == 0:
            msg.observe = 0
        msg.block2 = (num, False, 2)
        meter.core.receive_datagram(to_bytes(msg), SERVER, meter.now)
        ((answer, _),) = meter.sent()
        assert answer.code == m.CONTENT
        assert (answer.observe is not None) == (num == 0)
        blocks.append(bytes(answer.payload))
        if not answer.block2[1]:
            break
        num += 1
    assert b"".join(blocks) == bytes(whole.payload)
    assert len(meter.core.client.observations) == 1
    meter.set_power(7.0)
    (note,) = meter.run_until(0)
    assert note.token == b"\x0c" and note.observe is not None
