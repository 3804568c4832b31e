"""OMA ETS LwM2M 1.1, Device Management and Service Enablement (section 6.3):
operations on the Security object (int-221), Read and Write at every depth (int-222 to
int-228), Execute Reboot (int-241) and Write failure (int-256).

The content formats are in test_ets_formats.py, Discover and Write-Attributes in
test_ets_discover.py, the composite operations in test_ets_composite.py.
"""

from __future__ import annotations

import aiocoap
import cbor2
import pytest
from ets_rig import (
    BINARY_VALUES,
    DEVICE_VALUES,
    ENDPOINT,
    LWM2M_CBOR_3_0,
    SENML_CBOR_3_0,
    SENML_JSON_3_0,
    SERVER_VALUES,
    TLV_1_0,
    TLV_3,
    TLV_3_0,
)

from lwm2m_client.core.content import (
    CF_CBOR,
    CF_LINK,
    CF_LWM2M_CBOR,
    CF_OPAQUE,
    CF_SENML_CBOR,
    CF_SENML_JSON,
    CF_TEXT,
    CF_TLV,
)

HIERARCHICAL = [CF_TLV, CF_SENML_JSON, CF_SENML_CBOR, CF_LWM2M_CBOR]
# /3/0 as each hierarchical format must render it.
DEVICE_VECTORS = {CF_TLV: TLV_3_0, CF_SENML_JSON: SENML_JSON_3_0,
                  CF_SENML_CBOR: SENML_CBOR_3_0, CF_LWM2M_CBOR: LWM2M_CBOR_3_0}


# -- Security object (int-221) ----------------------------------------------------


SECURITY_OPERATIONS = [
    # (operation, method, path, payload, content format, accept, query, observe)
    ("read", aiocoap.GET, "/0", b"", None, CF_TLV, (), None),
    ("read instance", aiocoap.GET, "/0/0", b"", None, CF_SENML_CBOR, (), None),
    ("read resource", aiocoap.GET, "/0/0/0", b"", None, CF_TEXT, (), None),
    ("discover", aiocoap.GET, "/0", b"", None, CF_LINK, (), None),
    ("observe", aiocoap.GET, "/0/0", b"", None, CF_TLV, (), 0),
    ("write resource", aiocoap.PUT, "/0/0/0", b"coap://evil:5683", CF_TEXT, None, (), None),
    ("write instance", aiocoap.POST, "/0/0", bytes.fromhex("C10101"), CF_TLV, None, (), None),
    ("write-attributes", aiocoap.PUT, "/0", b"", None, None, ("pmin=30", "pmax=45"), None),
    ("execute", aiocoap.POST, "/0/0/1", b"", None, None, (), None),
    ("create", aiocoap.POST, "/0", bytes.fromhex("C10101"), CF_TLV, None, (), None),
    ("delete", aiocoap.DELETE, "/0/0", b"", None, None, (), None),
    ("read-composite", aiocoap.FETCH, "/", cbor2.dumps([{0: "/0/0"}]), CF_SENML_CBOR,
     CF_SENML_CBOR, (), None),
    ("write-composite", aiocoap.iPATCH, "/", cbor2.dumps([{0: "/0/0/0", 3: "coap://evil"}]),
     CF_SENML_CBOR, None, (), None),
]


async def test_int_221_operations_on_security_object(ets):
    # Precondition: C.1. Steps: GET /0; PUT /0/0/0; Write-Attributes
    # PUT /0?pmin=30&pmax=45 -- extended here to every DM and IR operation.
    # Pass: each is answered 4.01 Unauthorized, and /0 is unchanged.
    rig = await ets()
    before = rig.tree.read((0,))
    for name, method, path, payload, cf, accept, query, observe in SECURITY_OPERATIONS:
        response = await rig.request(method, path, payload, content_format=cf, accept=accept,
                                     query=query, observe=observe)
        assert (name, response.code) == (name, "4.01")
        assert response.payload == b""
    assert rig.tree.read((0,)) == before


# -- Read and Write at every depth (int-222 to int-228) ---------------------------


@pytest.mark.parametrize("cf", HIERARCHICAL)
async def test_int_222_read_on_object(ets, cf):
    # Steps: GET /1, then GET /3 (the ETS leaves the format open: each one here).
    # Pass: 2.05 with the instance and all its readable resources.
    rig = await ets()
    response = await rig.server.read(ENDPOINT, "/1", format=cf)
    assert (response.code, response.content_format) == ("2.05", cf)
    assert response.values == SERVER_VALUES
    response = await rig.server.read(ENDPOINT, "/3", format=cf)
    assert (response.code, response.content_format) == ("2.05", cf)
    assert response.values == DEVICE_VALUES
    if cf == CF_TLV:
        # An object read wraps each instance in an Object Instance TLV.
        assert response.payload == TLV_3


@pytest.mark.parametrize("cf", HIERARCHICAL)
async def test_int_223_read_on_object_instance(ets, cf):
    # Steps: GET /1/0, then GET /3/0. Pass: 2.05 with all readable resources; /3/0
    # matches the specification's example byte for byte in every format.
    rig = await ets()
    response = await rig.server.read(ENDPOINT, "/1/0", format=cf)
    assert (response.code, response.content_format) == ("2.05", cf)
    assert response.values == SERVER_VALUES
    response = await rig.server.read(ENDPOINT, "/3/0", format=cf)
    assert (response.code, response.content_format) == ("2.05", cf)
    assert response.payload == DEVICE_VECTORS[cf]


async def test_int_224_read_on_resource(ets):
    # Steps: GET /1/0/0, /1/0/1, /1/0/6, /1/0/7, then /3/0/16.
    # Pass: 2.05 with each value alone.
    rig = await ets()
    for path in ((1, 0, 0), (1, 0, 1), (1, 0, 6), (1, 0, 7)):
        response = await rig.server.read(ENDPOINT, path)
        assert response.code == "2.05"
        assert response.values == {path: SERVER_VALUES[path]}
    response = await rig.server.read(ENDPOINT, "/3/0/16", format=CF_TEXT)
    assert (response.code, response.payload) == ("2.05", b"U")
    # A multiple resource reads as all its instances.
    response = await rig.server.read(ENDPOINT, "/3/0/7", format=CF_TLV)
    assert response.values == {(3, 0, 7, 0): 3800, (3, 0, 7, 1): 5000}


@pytest.mark.parametrize("cf", [CF_TEXT, CF_CBOR] + HIERARCHICAL)
async def test_int_225_read_on_resource_instance(ets, cf):
    # Step: GET /3/0/11/0. Pass: 2.05 containing the value of that instance only.
    rig = await ets()
    response = await rig.server.read(ENDPOINT, "/3/0/11/0", format=cf)
    assert (response.code, response.content_format) == ("2.05", cf)
    assert response.values == {(3, 0, 11, 0): 0}
    if cf == CF_TLV:
        assert response.payload == bytes.fromhex("410000")  # one Resource Instance TLV
    response = await rig.server.read(ENDPOINT, "/3/0/7/1", format=cf)
    assert response.values == {(3, 0, 7, 1): 5000}


async def test_int_226_write_partial_update_on_object_instance(ets):
    rig = await ets()
    # Step 1: one POST /1/0 setting Lifetime 61 and Notification Storing true.
    # Pass: 2.04, and the client sends an Update with the new lifetime.
    response = await rig.server.write(ENDPOINT, "/1/0", {1: 61, 6: True}, replace=False)
    assert response.code == "2.04"
    await rig.update_with(("lt=61",))
    # Step 2: GET /1/0; pass: the new values, the others unchanged.
    response = await rig.server.read(ENDPOINT, "/1/0")
    assert response.values == {**SERVER_VALUES, (1, 0, 1): 61, (1, 0, 6): True}
    # Step 3: POST /1/0 with the previous values; pass: 2.04 (and another Update).
    response = await rig.server.write(ENDPOINT, "/1/0", {1: 86400, 6: False}, replace=False)
    assert response.code == "2.04"
    await rig.update_with(("lt=86400",))
    assert (await rig.server.read(ENDPOINT, "/1/0")).values == SERVER_VALUES


async def test_int_227_write_replace_on_resource(ets):
    rig = await ets()
    # Step 1: PUT /1/0/1 = 63; pass: 2.04 and an Update with lt=63.
    assert (await rig.server.write(ENDPOINT, "/1/0/1", 63)).code == "2.04"
    await rig.update_with(("lt=63",))
    assert rig.server.registration(ENDPOINT).lifetime == 63
    # Step 2: GET /1/0/1; pass: 2.05 with 63.
    assert (await rig.server.read(ENDPOINT, "/1/0/1")).value == 63
    # Step 3: write the old value back; pass: 2.04 and another Update.
    assert (await rig.server.write(ENDPOINT, "/1/0/1", 86400)).code == "2.04"
    await rig.update_with(("lt=86400",))
    assert (await rig.server.read(ENDPOINT, "/1/0/1")).value == 86400


@pytest.mark.parametrize("cf", [CF_TEXT, CF_OPAQUE, CF_CBOR] + HIERARCHICAL)
async def test_int_228_write_on_resource_instance(ets, cf):
    # Precondition: a multiple resource with at least two instances (/19/0/0 here,
    # where the ETS uses the Portfolio object's Identity /16/0/0).
    rig = await ets()
    # Step 1: PUT /19/0/0/1 = "test"; pass: the payload carries instance 1 only, 2.04.
    response = await rig.server.write(ENDPOINT, "/19/0/0/1", b"test", format=cf)
    assert response.code == "2.04"
    # Step 2: GET /19/0/0/1; pass: 2.05 with only that instance and the new value.
    response = await rig.server.read(ENDPOINT, "/19/0/0/1", format=CF_SENML_CBOR)
    assert response.values == {(19, 0, 0, 1): b"test"}
    # The other instances were not touched.
    values = (await rig.server.read(ENDPOINT, "/19/0/0")).values
    assert values == {(19, 0, 0, i): (b"test" if i == 1 else v)
                      for i, v in BINARY_VALUES.items()}


# -- Execute (int-241) and Write failure (int-256) --------------------------------


async def test_int_241_executable_resource_rebooting_the_device(ets):
    # Precondition: registered (C.1).
    rig = await ets()
    first = rig.server.registration(ENDPOINT)
    # Step 1: POST /3/0/4 (Reboot); pass: 2.04, and the application's reboot handler
    # ran once.
    response = await rig.server.execute(ENDPOINT, "/3/0/4")
    assert response.code == "2.04"
    assert rig.reboots == 1
    # Step 2: the device comes back and registers again (int-101) from a new socket;
    # pass: the registration succeeds and replaces the old one on the server.
    second = await rig.server.wait_registered(ENDPOINT)
    assert second is rig.server.registration(ENDPOINT)
    assert second.location != first.location and second.remote != first.remote
    assert len(rig.server.registrations) == 1
    assert rig.server.registers()[1].query == rig.server.registers()[0].query
    # The new registration answers DM requests.
    assert (await rig.server.read(ENDPOINT, "/3/0/0", format=CF_TEXT)).payload == \
        b"Open Mobile Alliance"


async def test_int_256_write_operation_failure(ets):
    # Precondition: registered as 1.1.
    rig = await ets()
    # Step 1: write Short Server ID /1/0/0 = 123. Pass: 4.05, SSID is read-only.
    assert (await rig.server.write(ENDPOINT, "/1/0/0", 123)).code == "4.05"
    # Step 2: GET /1/0/0; pass: 2.05 with the unchanged value 1.
    assert (await rig.server.read(ENDPOINT, "/1/0/0")).value == 1


@pytest.mark.parametrize("method, payload, code", [
    # Lifetime 61 is fine, SSID 123 is not writable: 4.05.
    (aiocoap.POST, "C1003D" "C1017B", "4.05"),
    (aiocoap.POST, "C1013D" "C1007B", "4.05"),
    # Lifetime 61 with a Boolean that is not 0 or 1: 4.00 (bad data).
    (aiocoap.POST, "C1013D" "C10602", "4.00"),
    (aiocoap.PUT, "C1013D" "C10602" "C10755", "4.00"),
    # A resource the Server object does not define: 4.04.
    (aiocoap.POST, "C1013D" "C16301", "4.04"),
    # A truncated TLV after a valid one: 4.00.
    (aiocoap.PUT, "C1013D" "C807", "4.00"),
])
async def test_int_256_write_failure_leaves_nothing_changed(ets, method, payload, code):
    # One request writes several resources of /1/0, one of them bad. Pass: the error
    # code, and NOTHING changed: every value reads back as before and no Update
    # announces the lifetime that was part of the failed write.
    rig = await ets()
    response = await rig.request(method, "/1/0", bytes.fromhex(payload),
                                 content_format=CF_TLV)
    assert response.code == code
    response = await rig.server.read(ENDPOINT, "/1/0", format=CF_TLV)
    assert response.payload == TLV_1_0
    assert response.values == SERVER_VALUES
    assert rig.server.updates() == []
    assert rig.server.registration(ENDPOINT).lifetime == 86400
