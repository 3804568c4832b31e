"""OMA ETS LwM2M 1.1, composite operations (section 6.3 and 6.4).

Read-Composite (int-229, int-235, int-236, int-280, int-281), Write-Composite (int-230,
int-257) and Observe-Composite (int-304, int-305, int-308, int-309, int-310).

The ETS text of int-308 to int-310 was not at hand: their steps follow the case titles
and a public implementation of the ETS procedure (the Zephyr interoperability suite),
with the ETS periods (pmin 30 s, pmax 45 s) shortened, and their pass criteria are those
of Core 1.1 section 6.4.3 (Observe-Composite) and RFC 7641. Object 19 stands in for the
ETS's Portfolio object (16), as in the rest of the rig.
"""

from __future__ import annotations

import asyncio
import json
import time

import aiocoap
import cbor2
import pytest
from ets_rig import BINARY_VALUES, DEVICE_VALUES, ENDPOINT, SERVER_VALUES
from test_ets_observe import reusing_token

from lwm2m_client.core.content import CF_LWM2M_CBOR, CF_SENML_CBOR, CF_SENML_JSON, CF_TLV
from lwm2m_client.server import Response

COMPOSITE_FORMATS = [CF_SENML_CBOR, CF_SENML_JSON, CF_LWM2M_CBOR]
# A composite answer larger than one block is served with Block2, and the server's
# CoAP stack (aiocoap) sends the FETCH body with the first block request only; the
# client keeps that body for the later blocks (test_int_235_..._in_several_blocks).
# The other cases use 1024-byte blocks so that their answers fit one message.
ONE_BLOCK = 1024


def names(response: Response) -> list:
    """Every resolved SenML name in a composite answer, read with cbor2 / json (an
    independent reader), in order and with repetitions."""
    labels: tuple = ("bn", "n")
    if response.content_format == CF_SENML_JSON:
        records = json.loads(response.payload)
    else:
        records, labels = cbor2.loads(response.payload), (-2, 0)
    out, base = [], ""
    for record in records:
        base = record.get(labels[0], base)
        out.append(base + record.get(labels[1], ""))
    return out


def path_list(cf, paths):
    # A Read-Composite body: SenML records with names only (Core 1.1 section 6.3.8).
    if cf == CF_SENML_JSON:
        return json.dumps([{"n": p} for p in paths]).encode()
    return cbor2.dumps([{0: p} for p in paths])


# -- Read-Composite ------------------------------------------------------------------


@pytest.mark.parametrize("cf", COMPOSITE_FORMATS)
async def test_int_280_successful_read_composite(ets, cf):
    # Precondition: C.1, registered as 1.1.
    # Step 1: FETCH / with exactly /3/0/16, /3/0/11/0 and /1/0.
    rig = await ets()
    response = await rig.server.read_composite(ENDPOINT, ["/3/0/16", "/3/0/11/0", "/1/0"],
                                               format=cf)
    # Pass: 2.05 in the requested format with those values and nothing else:
    # /3/0/11/0 = 0, /3/0/16 = "U" and every readable resource of /1/0.
    assert (response.code, response.content_format) == ("2.05", cf)
    assert response.values == {(3, 0, 16): "U", (3, 0, 11, 0): 0, **SERVER_VALUES}
    if cf != CF_LWM2M_CBOR:
        assert len(names(response)) == len(response.values)


@pytest.mark.parametrize("cf", [CF_SENML_CBOR, CF_SENML_JSON])
async def test_int_229_read_composite_operation(ets, cf):
    # (Voided by ETS 1.2.1 in favour of int-280; kept for 1.1.) Step 1: FETCH / with
    # /3, /1/0, /1/0/1 and /3/0/11/0 -- overlapping paths.
    rig = await ets(block_size=ONE_BLOCK)
    response = await rig.server.read_composite(
        ENDPOINT, ["/3", "/1/0", "/1/0/1", "/3/0/11/0"], format=cf)
    # Pass: 2.05 with the requested data; a resource named twice (inside /3 and on
    # its own) is reported once.
    assert (response.code, response.content_format) == ("2.05", cf)
    assert response.values == {**DEVICE_VALUES, **SERVER_VALUES}
    found = names(response)
    assert len(found) == len(set(found)) == len(DEVICE_VALUES) + len(SERVER_VALUES)


@pytest.mark.parametrize("cf", [CF_SENML_CBOR, CF_SENML_JSON])
async def test_int_235_read_composite_on_root_path(ets, cf):
    # Step 1: FETCH / with the root path "/" alone, Content-Format and Accept SenML.
    rig = await ets(block_size=ONE_BLOCK)
    response = await rig.server.read_composite(ENDPOINT, ["/"], format=cf)
    # Pass: 2.05 with every readable resource of every object the server may see:
    # the Security object (/0) is absent.
    assert (response.code, response.content_format) == ("2.05", cf)
    binary = {(19, 0, 0, i): v for i, v in BINARY_VALUES.items()}
    assert response.values == {**SERVER_VALUES, **DEVICE_VALUES, **binary}
    assert not [n for n in names(response) if n.startswith("/0/")]


async def test_int_235_read_composite_answer_in_several_blocks(ets):
    # The int-235 answer in SenML JSON is about 700 bytes: with 512-byte blocks it
    # takes two FETCH exchanges, and the second one arrives without the path list.
    rig = await ets()
    response = await rig.server.read_composite(ENDPOINT, ["/"], format=CF_SENML_JSON)
    assert response.code == "2.05"


@pytest.mark.parametrize("cf", [CF_SENML_CBOR, CF_SENML_JSON])
async def test_int_236_read_composite_partial_presence(ets, cf):
    # Step 1: FETCH / with /1/0, /1/0/1, /3/0/11/0 and two paths of objects the client
    # does not have (/3339/0/5522, /3353/0/6030).
    rig = await ets()
    response = await rig.server.read_composite(
        ENDPOINT, ["/1/0", "/1/0/1", "/3/0/11/0", "/3339/0/5522", "/3353/0/6030"], format=cf)
    # Pass: 2.05; the operation is best effort, the missing paths are left out.
    assert response.code == "2.05"
    assert response.values == {**SERVER_VALUES, (3, 0, 11, 0): 0}
    assert len(names(response)) == len(SERVER_VALUES) + 1


async def test_int_236_nothing_present_is_not_found(ets):
    # When none of the paths exists there is nothing to report: 4.04.
    rig = await ets()
    response = await rig.server.read_composite(ENDPOINT, ["/3339/0/5522", "/3/0/99"])
    assert response.code == "4.04"


@pytest.mark.parametrize("cf", [CF_SENML_CBOR, CF_SENML_JSON])
async def test_int_281_partially_successful_read_composite(ets, cf):
    # Step 1: FETCH / with /1/0/1, /1/0/7 and /1/0/8 (Registration Update Trigger,
    # an executable resource).
    rig = await ets()
    response = await rig.server.read_composite(ENDPOINT, ["/1/0/1", "/1/0/7", "/1/0/8"],
                                               format=cf)
    # Pass: 2.05 with /1/0/1 = 86400 and /1/0/7 = "U" only; /1/0/8 MUST NOT appear.
    assert response.code == "2.05"
    assert response.values == {(1, 0, 1): 86400, (1, 0, 7): "U"}
    assert names(response) == ["/1/0/1", "/1/0/7"]


# -- Write-Composite -----------------------------------------------------------------


@pytest.mark.parametrize("cf", COMPOSITE_FORMATS)
async def test_int_230_write_composite(ets, cf):
    # Precondition: C.1 plus the Portfolio stand-in /19/0 with four Data instances.
    rig = await ets()
    # Step 1: one iPATCH / setting /1/0/1 = 61, /1/0/6 = true and /19/0/0/0..3 =
    # "aa", "bb", "cc", "dd". Pass: 2.04, and an Update with the new lifetime.
    identity = {f"/19/0/0/{i}": v for i, v in enumerate((b"aa", b"bb", b"cc", b"dd"))}
    response = await rig.server.write_composite(
        ENDPOINT, {"/1/0/1": 61, "/1/0/6": True, **identity}, format=cf)
    assert response.code == "2.04"
    await rig.update_with(("lt=61",))
    # Step 2: GET /1/0 and GET /19; pass: 2.05 matching what was written.
    response = await rig.server.read(ENDPOINT, "/1/0")
    assert response.values == {**SERVER_VALUES, (1, 0, 1): 61, (1, 0, 6): True}
    response = await rig.server.read(ENDPOINT, "/19")
    assert response.values == {(19, 0, 0, 0): b"aa", (19, 0, 0, 1): b"bb",
                               (19, 0, 0, 2): b"cc", (19, 0, 0, 3): b"dd"}


async def test_int_257_write_composite_server_and_device(ets):
    # Precondition: C.6 (Current Time /3/0/13 writable).
    rig = await ets()
    # Step 1: read /1 and /3; pass: the configured values.
    assert (await rig.server.read(ENDPOINT, "/1")).values == SERVER_VALUES
    assert (await rig.server.read(ENDPOINT, "/3")).values == DEVICE_VALUES
    # Step 2: iPATCH / with the ETS's SenML CBOR bytes: /1/0/2 = 101 (base name "/"),
    # /1/0/6 = true, /3/0/13 = 0. Pass: 2.04.
    body = bytes.fromhex("83" "A3" "21" "612F" "00" "65" + b"1/0/2".hex() + "02" "1865"
                         "A2" "00" "65" + b"1/0/6".hex() + "04" "F5"
                         "A2" "00" "66" + b"3/0/13".hex() + "02" "00")
    response = await rig.request(aiocoap.iPATCH, "/", body, content_format=CF_SENML_CBOR)
    assert response.code == "2.04"
    # Step 3: read again; pass: the 257 values, everything else as before.
    assert (await rig.server.read(ENDPOINT, "/1")).values == {
        **SERVER_VALUES, (1, 0, 2): 101, (1, 0, 6): True}
    assert (await rig.server.read(ENDPOINT, "/3")).values == {**DEVICE_VALUES, (3, 0, 13): 0}


@pytest.mark.parametrize("values, code", [
    ({"/1/0/1": 61, "/1/0/0": 5}, "4.05"),  # SSID is read-only
    ({"/1/0/1": 61, "/3/0/0": "ACME"}, "4.05"),  # Manufacturer is read-only
    ({"/1/0/1": 61, "/0/0/0": "coap://evil"}, "4.01"),  # the Security object
    ({"/1/0/1": 61, "/3/1/13": 0}, "4.04"),  # no such instance
    ({"/1/0/1": 61, "/3/0/13": "noon"}, "4.00"),  # not a time
])
async def test_int_230_write_composite_is_all_or_nothing(ets, values, code):
    # A Write-Composite with one bad item fails as a whole: the error code, and the
    # good items were not applied either (no new lifetime, no Update).
    rig = await ets()
    records = []
    for path, value in values.items():
        key = "vs" if isinstance(value, str) else "v"
        records.append({"n": path, key: value})
    response = await rig.request(aiocoap.iPATCH, "/", json.dumps(records).encode(),
                                 content_format=CF_SENML_JSON)
    assert response.code == code
    assert (await rig.server.read(ENDPOINT, "/1")).values == SERVER_VALUES
    assert (await rig.server.read(ENDPOINT, "/3")).values == DEVICE_VALUES
    assert rig.server.updates() == []


# -- Observe-Composite ---------------------------------------------------------------


async def _observe_composite(rig):
    # int-304 step 1: Write-Attributes /1/0/1?pmin=1&pmax=2 (the ETS uses 30 and 45
    # seconds); pass: 2.04. Step 2: FETCH / with Observe=0 on /1/0/1, /3/0/11/0 and
    # /3/0/16; pass: 2.05 with all three values.
    assert (await rig.server.write_attributes(ENDPOINT, "/1/0/1", pmin=1, pmax=2)).code \
        == "2.04"
    obs = await rig.server.observe_composite(ENDPOINT, ["/1/0/1", "/3/0/11/0", "/3/0/16"])
    assert (obs.response.code, obs.response.content_format) == ("2.05", CF_SENML_CBOR)
    assert obs.response.values == {(1, 0, 1): 86400, (3, 0, 11, 0): 0, (3, 0, 16): "U"}
    return obs


async def test_int_304_observe_composite_initial_response(ets):
    # The first response is the composite read with an Observe option: the server holds
    # an observation (RFC 7641 section 3.2).
    rig = await ets()
    obs = await _observe_composite(rig)
    assert obs.response.observe is not None and obs.active
    (held,) = rig.core.client.observations.items
    assert held.composite and held.paths == ((1, 0, 1), (3, 0, 11, 0), (3, 0, 16))
    rig.server.cancel_observe(obs)


async def test_int_304_observe_composite_notification(ets):
    # Step 3 / pass: the response carries an Observe option, and a composite
    # notification with all three values arrives no later than pmax.
    rig = await ets()
    obs = await _observe_composite(rig)
    assert obs.response.observe is not None
    notification = await obs.next(timeout=4)
    assert notification.values == obs.response.values
    # A change of one path is notified with all three values (after pmin).
    rig.tree.set((1, 0, 1), 3600)
    rig.client.changed()
    notification = await obs.next(timeout=4)
    assert notification.values == {(1, 0, 1): 3600, (3, 0, 11, 0): 0, (3, 0, 16): "U"}
    rig.server.cancel_observe(obs)


async def test_int_305_cancel_observe_composite(ets):
    # Step 1: Observe-Composite as int-304. Step 2: the server cancels it by resetting
    # the next (confirmable: /1/0/26 = 1) notification (RFC 7641 section 3.6), the way
    # aiocoap forgets an observation; the FETCH with Observe=1 form follows below.
    # Pass: the client forgets the observation and notifies no more.
    rig = await ets()
    assert (await rig.server.write(ENDPOINT, "/1/0/26", 1, format=CF_TLV)).ok
    obs = await _observe_composite(rig)
    await obs.next(timeout=4)
    rig.server.cancel_observe(obs)
    deadline = time.monotonic() + 8
    while rig.core.client.observations.items and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    assert not rig.core.client.observations.items


async def test_int_305_cancel_by_fetch_with_observe_1(ets):
    # Step 2 in its FETCH form (Transport 1.1 section 6.4.5): FETCH / with Observe=1,
    # the same path list and the observation's token. Pass: 2.05 with the values and
    # no Observe option; the client holds the observation no more.
    rig = await ets()
    obs = await _observe_composite(rig)
    (held,) = rig.core.client.observations.items
    paths = ["/1/0/1", "/3/0/11/0", "/3/0/16"]
    with reusing_token(rig.server, held.token):
        response = await rig.request(aiocoap.FETCH, "/", path_list(CF_SENML_CBOR, paths),
                                     content_format=CF_SENML_CBOR, accept=CF_SENML_CBOR,
                                     observe=1)
    assert (response.code, response.observe) == ("2.05", None)
    assert response.values == {(1, 0, 1): 86400, (3, 0, 11, 0): 0, (3, 0, 16): "U"}
    assert rig.core.client.observations.items == []
    rig.server.cancel_observe(obs)


async def test_int_305_fetch_with_observe_1_is_answered_as_a_read_composite(ets):
    # A FETCH with Observe=1 (on a token that observes nothing) is answered 2.05 with
    # the values and no Observe option.
    rig = await ets()
    paths = ["/1/0/1", "/3/0/11/0", "/3/0/16"]
    response = await rig.request(aiocoap.FETCH, "/", path_list(CF_SENML_CBOR, paths),
                                 content_format=CF_SENML_CBOR, accept=CF_SENML_CBOR,
                                 observe=1)
    assert (response.code, response.content_format) == ("2.05", CF_SENML_CBOR)
    assert response.values == {(1, 0, 1): 86400, (3, 0, 11, 0): 0, (3, 0, 16): "U"}
    assert response.observe is None
    assert not rig.core.client.observations.items


# -- Observe-Composite with instances created, deleted, values modified -----------------


BINARY_0 = {(19, 0, 0, i): v for i, v in BINARY_VALUES.items()}
BINARY_1 = {(19, 1, 0, 0): b"11", (19, 1, 0, 1): b"22", (19, 1, 0, 2): b"33",
            (19, 1, 0, 3): b"44"}


def configuration_c1(rig):
    """Configuration C.1: the Server object has no Default Minimum/Maximum Period
    (/1/0/2, /1/0/3), so only the attributes the case attaches make periods."""
    for rid in (2, 3):
        rig.tree.set((1, 0, rid), None)


async def create_binary_1(rig):
    values = {0: {i: v for (_, _, _, i), v in BINARY_1.items()}}
    assert await rig.server.create(ENDPOINT, 19, values, iid=1) == 1


async def next_with(obs, expected, timeout=10.0, skip=2):
    """The notification with values ``expected``, allowing for at most ``skip`` older
    ones that were on the way (sent by pmax before the change took effect)."""
    seen = []
    for _ in range(skip + 1):
        note = await obs.next(timeout=timeout)
        if note.values == expected:
            return note
        seen.append(note.values)
    raise AssertionError(f"no notification with {expected!r}; got {seen!r}")


async def silent(obs, seconds=3.0):
    """True when no notification arrives for ``seconds`` (longer than any period the
    case has in force)."""
    try:
        await obs.next(timeout=seconds)
    except TimeoutError:
        return True
    return False


async def until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_int_308_observe_composite_and_creating_object_instance(ets):
    # Precondition: C.1; /19/0 exists with four Data instances, /19/1 does not.
    rig = await ets()
    configuration_c1(rig)
    # Step 1: Write-Attributes /19/0?pmin=1&pmax=2; pass: 2.04.
    assert (await rig.server.write_attributes(ENDPOINT, "/19/0", pmin=1, pmax=2)).code \
        == "2.04"
    # Step 2: Observe-Composite on /19/0 and /19/1. Pass: 2.05 with an Observe option
    # and the content of /19/0 only: a path without data yet is no error (the
    # operation is best effort, as Read-Composite, Core 1.1 section 6.4.3).
    obs = await rig.server.observe_composite(ENDPOINT, ["/19/0", "/19/1"])
    assert obs.response.code == "2.05" and obs.response.observe is not None
    assert obs.response.values == BINARY_0
    # Step 3: pass: a notification with the same content within pmax.
    assert (await obs.next(timeout=10)).values == BINARY_0
    # Step 4: the server creates /19/1. Pass: the next notification (after pmin)
    # carries both instances -- the new one is under an observed path.
    await create_binary_1(rig)
    note = await next_with(obs, {**BINARY_0, **BINARY_1})
    assert note.observe is not None
    # And it goes on: the following pmax notification has both too.
    assert (await obs.next(timeout=10)).values == {**BINARY_0, **BINARY_1}
    rig.server.cancel_observe(obs)


async def test_int_308_an_instance_created_under_an_observed_object(ets):
    # The same with the object itself observed: /19 (and /3/0/9) observed, no
    # periods at all (C.1, no attributes) -- the Create alone triggers the
    # notification, since the object's content changed.
    rig = await ets()
    configuration_c1(rig)
    obs = await rig.server.observe_composite(ENDPOINT, ["/19", "/3/0/9"])
    assert obs.response.values == {**BINARY_0, (3, 0, 9): 100}
    await create_binary_1(rig)
    note = await obs.next(timeout=10)
    assert note.values == {**BINARY_0, **BINARY_1, (3, 0, 9): 100}
    rig.server.cancel_observe(obs)


async def test_int_309_observe_composite_and_deleting_object_instance(ets):
    # Precondition: C.1; /19/0 and /19/1 exist.
    rig = await ets()
    configuration_c1(rig)
    await create_binary_1(rig)
    # Step 1: Write-Attributes /19/0?pmin=1&pmax=2; pass: 2.04.
    assert (await rig.server.write_attributes(ENDPOINT, "/19/0", pmin=1, pmax=2)).ok
    # Step 2: Observe-Composite on /19/0 and /19/1; pass: 2.05 with both instances.
    obs = await rig.server.observe_composite(ENDPOINT, ["/19/0", "/19/1"])
    assert obs.response.values == {**BINARY_0, **BINARY_1}
    # Step 3: pass: a notification with both within pmax.
    assert (await obs.next(timeout=10)).values == {**BINARY_0, **BINARY_1}
    # Step 4: the server deletes /19/1; pass: 2.02, and the next notification carries
    # /19/0 alone: the deleted instance is no longer reported, the observation goes on.
    assert (await rig.server.delete(ENDPOINT, "/19/1")).code == "2.02"
    note = await next_with(obs, BINARY_0)
    assert note.code == "2.05" and obs.active
    assert (await obs.next(timeout=10)).values == BINARY_0
    (held,) = rig.core.client.observations.items
    assert held.paths == ((19, 0), (19, 1))  # the path stays observed
    # Step 5: /19/1 is created again: it is reported again (int-308 in reverse).
    await create_binary_1(rig)
    await next_with(obs, {**BINARY_0, **BINARY_1})
    rig.server.cancel_observe(obs)


async def test_int_309_an_observation_whose_only_target_is_deleted_ends_with_4_04(ets):
    # When nothing observed is left, the observation cannot go on: the client sends
    # a 4.04 notification without Observe, which ends it (RFC 7641 sections 3.2 and
    # 4.2), for an Observe and an Observe-Composite alike.
    rig = await ets()
    configuration_c1(rig)
    await create_binary_1(rig)
    single = await rig.server.observe(ENDPOINT, "/19/1")
    composite = await rig.server.observe_composite(ENDPOINT, ["/19/1"])
    assert single.active and composite.active
    assert single.response.values == composite.response.values == BINARY_1
    assert (await rig.server.delete(ENDPOINT, "/19/1")).code == "2.02"
    for obs in (single, composite):
        note = await obs.next(timeout=10)
        assert (note.code, note.observe) == ("4.04", None)
        with pytest.raises(StopAsyncIteration):
            await obs.next(timeout=10)
        assert not obs.active
    await until(lambda: not rig.core.client.observations.items)


async def test_int_310_observe_composite_and_modification_of_parameter_values(ets):
    # Precondition: C.1 (no default periods).
    rig = await ets()
    configuration_c1(rig)
    # Step 1: Observe-Composite on /1/0/1 and /3/0; pass: 2.05 with both.
    obs = await rig.server.observe_composite(ENDPOINT, ["/1/0/1", "/3/0"])
    expected = {(1, 0, 1): 86400, **DEVICE_VALUES}
    assert obs.response.values == expected
    assert await silent(obs)  # nothing attached, no defaults: no period yet
    # Step 2: Write-Attributes /3?pmax=2 (the ETS uses 5 s); pass: 2.04, and from
    # now on the existing observation notifies within pmax, every notification with
    # every observed value.
    assert (await rig.server.write_attributes(ENDPOINT, "/3", pmax=2)).code == "2.04"
    assert (await obs.next(timeout=10)).values == expected
    assert (await obs.next(timeout=10)).values == expected
    # Step 3: the server modifies an observed value: Write /1/0/1 = 3600 (which also
    # brings an Update with the new lifetime). Pass: 2.04 and a notification with the
    # new value and all the others.
    assert (await rig.server.write(ENDPOINT, "/1/0/1", 3600, format=CF_TLV)).code == "2.04"
    await next_with(obs, {**expected, (1, 0, 1): 3600})
    # Step 4: the device application modifies one: the battery level drops to 87.
    rig.tree.set((3, 0, 9), 87)
    rig.client.changed()
    await next_with(obs, {**expected, (1, 0, 1): 3600, (3, 0, 9): 87})
    # Step 5: Write-Attributes /3?pmax (unset): no period any more; a value change
    # is still notified.
    assert (await rig.server.write_attributes(ENDPOINT, "/3", unset=["pmax"])).ok
    rig.tree.set((3, 0, 9), 80)
    rig.client.changed()
    await next_with(obs, {**expected, (1, 0, 1): 3600, (3, 0, 9): 80})
    assert await silent(obs)
    rig.server.cancel_observe(obs)
