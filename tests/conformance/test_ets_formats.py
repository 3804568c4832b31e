"""OMA ETS LwM2M 1.1, Device Management: querying and setting in every content format
(section 6.3): plain text, opaque, TLV, LwM2M 1.0 JSON, CBOR (int-201 to int-220),
SenML JSON and SenML CBOR -- and LwM2M CBOR with the same steps -- (int-231 to
int-234), and Read without Accept (int-237).

Values read back are compared with the configuration the client was built with
(ets_rig); the /3/0 payloads with the byte vectors of the specification.
"""

from __future__ import annotations

import json

import aiocoap
import cbor2
import pytest
from ets_rig import (
    BINARY_VALUES,
    DEVICE_VALUES,
    ENDPOINT,
    SENML_CBOR_3_0,
    SENML_JSON_3_0,
    SERVER_VALUES,
    TLV_1_0,
    TLV_3,
    TLV_3_0,
)

from lwm2m_client.core.content import (
    CF_CBOR,
    CF_LWM2M_CBOR,
    CF_LWM2M_JSON,
    CF_OPAQUE,
    CF_SENML_CBOR,
    CF_SENML_JSON,
    CF_TEXT,
    CF_TLV,
)

# -- Querying and setting basic information (int-201 to int-220) ------------------


async def test_int_201_querying_basic_information_in_plain_text(ets):
    # Precondition: C.1, registered, plain text supported.
    rig = await ets()
    # Step 1: GET /3/0/0, /3/0/1, /3/0/2 with Accept 0 (text/plain).
    # Pass: 2.05 each, Content-Format 0, the UTF-8 string and nothing else.
    for rid, expected in ((0, b"Open Mobile Alliance"), (1, b"Lightweight M2M Client"),
                          (2, b"345000123")):
        response = await rig.server.read(ENDPOINT, (3, 0, rid), format=CF_TEXT)
        assert (response.code, response.content_format) == ("2.05", CF_TEXT)
        assert response.payload == expected


async def test_int_202_querying_basic_information_in_opaque(ets):
    # The ETS leaves this case as a placeholder. Steps used here: GET on an opaque
    # resource instance and on an opaque single-value path with Accept 42; pass: 2.05,
    # Content-Format 42, the raw bytes. A non-opaque resource cannot be rendered as
    # opaque (4.06), nor can a whole instance.
    rig = await ets()
    response = await rig.server.read(ENDPOINT, (19, 0, 0, 0), format=CF_OPAQUE)
    assert (response.code, response.content_format) == ("2.05", CF_OPAQUE)
    assert response.payload == BINARY_VALUES[0]
    assert (await rig.server.read(ENDPOINT, (3, 0, 9), format=CF_OPAQUE)).code == "4.06"
    assert (await rig.server.read(ENDPOINT, (19, 0), format=CF_OPAQUE)).code == "4.06"


async def test_int_203_querying_basic_information_in_tlv(ets):
    # Step 1: GET /3/0 with Accept 11542.
    rig = await ets()
    response = await rig.server.read(ENDPOINT, "/3/0", format=CF_TLV)
    # Pass: 2.05 in TLV with Manufacturer, Model, Serial, Firmware Version, Error Code
    # and Supported Binding "U". The request names the instance, so the body is the
    # resource TLVs themselves (type bits 11 or 10), byte for byte the Core example.
    assert (response.code, response.content_format) == ("2.05", CF_TLV)
    assert response.payload == TLV_3_0
    assert response.payload[0] >> 6 == 0b11
    assert response.values == DEVICE_VALUES


async def test_int_204_querying_basic_information_in_json(ets):
    # Step 1: GET /3/0 with Accept 11543 (the LwM2M 1.0 JSON format).
    rig = await ets()
    response = await rig.server.read(ENDPOINT, "/3/0", format=CF_LWM2M_JSON)
    assert (response.code, response.content_format) == ("2.05", CF_LWM2M_JSON)
    # Pass: 2.05 with the Device resources; parsed here with the json module as an
    # independent reader: base name /3/0/, one entry per (multiple) resource value.
    body = json.loads(response.payload)
    assert body["bn"] == "/3/0/"
    entries = {e["n"]: e.get("sv", e.get("v")) for e in body["e"]}
    assert entries["0"] == "Open Mobile Alliance" and entries["1"] == "Lightweight M2M Client"
    assert entries["2"] == "345000123" and entries["3"] == "1.0"
    assert entries["11/0"] == 0 and entries["16"] == "U"
    assert response.values == DEVICE_VALUES


async def test_int_205_setting_basic_information_in_plain_text(ets):
    # Precondition: C.3, registered.
    rig = await ets()
    # Step 1: PUT /1/0/2 = 101, /1/0/3 = 1010, /1/0/5 = 2000 in plain text; pass: 2.04.
    for rid, text in ((2, b"101"), (3, b"1010"), (5, b"2000")):
        response = await rig.request(aiocoap.PUT, (1, 0, rid), text, content_format=CF_TEXT)
        assert response.code == "2.04"
    # Step 2: GET /1/0 in TLV; pass: 2.05 with the new values.
    response = await rig.server.read(ENDPOINT, "/1/0", format=CF_TLV)
    assert response.code == "2.05"
    assert response.values == {**SERVER_VALUES, (1, 0, 2): 101, (1, 0, 3): 1010,
                               (1, 0, 5): 2000}
    # Step 3: write the C.3 values back and read again; pass: C.3 restored, byte for
    # byte.
    for rid, text in ((2, b"1"), (3, b"10"), (5, b"86400")):
        response = await rig.request(aiocoap.PUT, (1, 0, rid), text, content_format=CF_TEXT)
        assert response.code == "2.04"
    response = await rig.server.read(ENDPOINT, "/1/0", format=CF_TLV)
    assert response.payload == TLV_1_0


async def test_int_210_setting_basic_information_in_opaque(ets):
    # The ETS leaves this case as a placeholder. Steps used here: PUT an opaque
    # resource instance with Content-Format 42, then read it back; pass: 2.04, and
    # the read returns exactly the bytes written, the other instances untouched.
    rig = await ets()
    blob = bytes(range(256))
    response = await rig.request(aiocoap.PUT, "/19/0/0/2", blob, content_format=CF_OPAQUE)
    assert response.code == "2.04"
    assert (await rig.server.read(ENDPOINT, "/19/0/0/2", format=CF_OPAQUE)).payload == blob
    values = (await rig.server.read(ENDPOINT, "/19/0/0")).values
    assert values == {(19, 0, 0, 0): b"\x01\x02", (19, 0, 0, 1): b"\x03",
                      (19, 0, 0, 2): blob, (19, 0, 0, 3): b"\xff"}


async def test_int_211_querying_basic_information_in_cbor(ets):
    # Precondition: registered as 1.1, CBOR (60) supported.
    # Step 1: GET /1/0/0, /1/0/6, /1/0/7 with Accept 60.
    # Pass: 2.05 with one CBOR data item each: 1, false, "U" (RFC 8949 encodings).
    rig = await ets()
    for rid, cbor in ((0, b"\x01"), (6, b"\xf4"), (7, b"\x61U")):
        response = await rig.server.read(ENDPOINT, (1, 0, rid), format=CF_CBOR)
        assert (response.code, response.content_format) == ("2.05", CF_CBOR)
        assert response.payload == cbor


async def test_int_212_setting_basic_information_in_cbor(ets):
    # Precondition: C.3, registered as 1.1.
    rig = await ets()
    # Step 1: PUT /1/0/2 = 101, /1/0/3 = 1010, /1/0/6 = true as CBOR; pass: 2.04 each.
    for rid, cbor in ((2, b"\x18\x65"), (3, b"\x19\x03\xf2"), (6, b"\xf5")):
        response = await rig.request(aiocoap.PUT, (1, 0, rid), cbor, content_format=CF_CBOR)
        assert response.code == "2.04"
    # Step 2: GET /1/0 in the client's preferred format; pass: 2.05 with the values.
    response = await rig.request(aiocoap.GET, "/1/0")
    assert (response.code, response.content_format) == ("2.05", CF_SENML_CBOR)
    assert response.values == {**SERVER_VALUES, (1, 0, 2): 101, (1, 0, 3): 1010,
                               (1, 0, 6): True}


async def test_int_215_setting_basic_information_in_tlv(ets):
    # Precondition: C.3; the server saved the /1/0 values.
    rig = await ets()
    saved = await rig.server.read(ENDPOINT, "/1/0", format=CF_TLV)
    assert saved.payload == TLV_1_0
    # Step 1: partial update POST /1/0 with the ETS's TLV bytes: /1/0/2 = 101,
    # /1/0/3 = 1010, /1/0/5 = 2000, /1/0/6 = true, /1/0/7 = "U"; pass: 2.04.
    tlv_215 = bytes.fromhex("C10265" "C20303F2" "C20507D0" "C10601" "C10755")
    response = await rig.request(aiocoap.POST, "/1/0", tlv_215, content_format=CF_TLV)
    assert response.code == "2.04"
    # Step 2: GET /1/0; pass: 2.05 with the values written and the rest untouched.
    response = await rig.server.read(ENDPOINT, "/1/0", format=CF_TLV)
    assert response.values == {**SERVER_VALUES, (1, 0, 2): 101, (1, 0, 3): 1010,
                               (1, 0, 5): 2000, (1, 0, 6): True}
    # Step 3: replace PUT /1/0 with the saved values; step 4: GET /1/0.
    # Pass: 2.04, then exactly the saved instance. The saved read includes the
    # read-only SSID /1/0/0, which a Write must not carry (4.05, as int-256), so the
    # server sends the writable part: the read without its first TLV, C1 00 01.
    response = await rig.request(aiocoap.PUT, "/1/0", saved.payload, content_format=CF_TLV)
    assert response.code == "4.05"
    writable = saved.payload[3:]
    response = await rig.request(aiocoap.PUT, "/1/0", writable, content_format=CF_TLV)
    assert response.code == "2.04"
    assert (await rig.server.read(ENDPOINT, "/1/0", format=CF_TLV)).payload == TLV_1_0


async def test_int_220_setting_basic_information_in_json(ets):
    # Precondition: C.3; the server saved the /1/0 values.
    rig = await ets()
    # Step 1: partial update POST /1/0 in the LwM2M 1.0 JSON format (11543) with the
    # 220 values. The ETS prints them as SenML with "0101"; here the 11543 shape with
    # base name "/" and full paths.
    body = (b'{"bn":"/","e":[{"n":"1/0/2","v":101},{"n":"1/0/3","v":1010},'
            b'{"n":"1/0/5","v":2000},{"n":"1/0/6","bv":true},{"n":"1/0/7","sv":"U"}]}')
    response = await rig.request(aiocoap.POST, "/1/0", body, content_format=CF_LWM2M_JSON)
    assert response.code == "2.04"
    # Step 2: read the targeted resources; pass: the 220 values.
    response = await rig.server.read(ENDPOINT, "/1/0", format=CF_LWM2M_JSON)
    assert response.values == {**SERVER_VALUES, (1, 0, 2): 101, (1, 0, 3): 1010,
                               (1, 0, 5): 2000, (1, 0, 6): True}
    # Steps 3-4: PUT /1/0 with the saved values, GET /1/0; pass: C.3 again.
    restore = (b'{"bn":"/1/0/","e":[{"n":"0","v":1},{"n":"1","v":86400},{"n":"2","v":1},'
               b'{"n":"3","v":10},{"n":"5","v":86400},{"n":"6","bv":false},'
               b'{"n":"7","sv":"U"},{"n":"23","bv":false}]}')
    response = await rig.request(aiocoap.PUT, "/1/0", restore, content_format=CF_LWM2M_JSON)
    # SSID /1/0/0 is read-only, so a replace that carries it is refused...
    assert response.code == "4.05"
    restore = restore.replace(b'{"n":"0","v":1},', b"")
    # ...and one without it restores C.3.
    response = await rig.request(aiocoap.PUT, "/1/0", restore, content_format=CF_LWM2M_JSON)
    assert response.code == "2.04"
    assert (await rig.server.read(ENDPOINT, "/1/0", format=CF_TLV)).payload == TLV_1_0


# -- SenML JSON and SenML CBOR (int-231 to int-234) -------------------------------


async def _query_every_level(rig, cf):
    # GET /1, /3/0, /3/0/16 and /3/0/11/0 with Accept cf: object, instance, resource
    # and resource instance level. Pass: 2.05 in cf with the values of that level.
    expected = {"/1": SERVER_VALUES, "/3/0": DEVICE_VALUES,
                "/3/0/16": {(3, 0, 16): "U"}, "/3/0/11/0": {(3, 0, 11, 0): 0}}
    for path, values in expected.items():
        response = await rig.server.read(ENDPOINT, path, format=cf)
        assert (response.code, response.content_format) == ("2.05", cf)
        assert response.values == values
    return (await rig.server.read(ENDPOINT, "/3/0", format=cf)).payload


async def test_int_231_querying_basic_information_in_senml_json(ets):
    rig = await ets()
    assert await _query_every_level(rig, CF_SENML_JSON) == SENML_JSON_3_0


async def test_int_232_querying_basic_information_in_senml_cbor(ets):
    rig = await ets()
    assert await _query_every_level(rig, CF_SENML_CBOR) == SENML_CBOR_3_0


async def _set_in_format(rig, cf):
    # Step 1: POST /1/0 in cf with Lifetime 61 and Notification Storing true.
    # Pass: 2.04 and an Update with lt=61.
    response = await rig.server.write(ENDPOINT, "/1/0", {1: 61, 6: True}, format=cf,
                                      replace=False)
    assert response.code == "2.04"
    await rig.update_with(("lt=61",))
    # Step 2: GET /1; pass: the values of step 1.
    response = await rig.server.read(ENDPOINT, "/1", format=cf)
    assert response.values == {**SERVER_VALUES, (1, 0, 1): 61, (1, 0, 6): True}
    # Step 3: write "test_value" into the first Identity-like instance /19/0/0/0;
    # step 4: GET /19; pass: 2.04, then the new value next to the untouched ones.
    response = await rig.server.write(ENDPOINT, "/19/0/0/0", b"test_value", format=cf)
    assert response.code == "2.04"
    response = await rig.server.read(ENDPOINT, "/19", format=cf)
    assert response.values == {**{(19, 0, 0, i): v for i, v in BINARY_VALUES.items()},
                               (19, 0, 0, 0): b"test_value"}
    # Step 5: write /1/0/1 = 63; pass: 2.04 and an Update with lt=63.
    assert (await rig.server.write(ENDPOINT, "/1/0/1", 63, format=cf)).code == "2.04"
    await rig.update_with(("lt=63",))
    # Step 6: GET /1/0/1; pass: 63.
    response = await rig.server.read(ENDPOINT, "/1/0/1", format=cf)
    assert (response.content_format, response.value) == (cf, 63)


@pytest.mark.parametrize("cf", [CF_SENML_CBOR, CF_LWM2M_CBOR])
async def test_int_233_setting_basic_information_in_senml_cbor(ets, cf):
    # The same steps run in LwM2M CBOR (11544), the 1.2 format for which the ETS has
    # no case of its own.
    rig = await ets()
    await _set_in_format(rig, cf)


async def test_int_234_setting_basic_information_in_senml_json(ets):
    rig = await ets()
    await _set_in_format(rig, CF_SENML_JSON)


# -- Read without Accept (int-237) ------------------------------------------------


async def test_int_237_read_on_object_without_content_type(ets):
    # Steps: GET /1 and GET /3 without an Accept option.
    # Pass: 2.05; the Content-Format is the client's choice and is present, so the
    # server can decode the payload. A 1.1 client picks SenML CBOR (Core 1.1 7.4:
    # TLV is not recommended any more); cbor2 reads it independently.
    rig = await ets()
    for path, values in (("/1", SERVER_VALUES), ("/3", DEVICE_VALUES)):
        response = await rig.request(aiocoap.GET, path)
        assert (response.code, response.content_format) == ("2.05", CF_SENML_CBOR)
        records = cbor2.loads(response.payload)
        assert isinstance(records, list) and len(records) == len(values)
        assert records[0][-2].startswith(path + "/")  # the base name
        assert response.values == values


async def test_int_237_read_without_accept_from_a_1_0_client(ets):
    # A 1.0 client has no SenML: without Accept it answers in TLV, which 1.0 makes
    # mandatory (LwM2M 1.0 section 6.4).
    rig = await ets(version="1.0")
    response = await rig.request(aiocoap.GET, "/3")
    assert (response.code, response.content_format) == ("2.05", CF_TLV)
    assert response.payload == TLV_3
