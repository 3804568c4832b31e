"""Spec example data shared by the CPython tests and the MicroPython scripts.

Plain data only, so that it imports under MicroPython too (tests/mp/run_mp.mjs copies
every .py file here into the interpreter's path; tests/conftest.py puts this directory
on sys.path for CPython). Not a test script: only mp_*.py files are run as such.

Byte vectors are hex text (``bytes.fromhex``), text payloads are ``str``. They are the
LWM2M-FACTS section 11 versions: the spec's examples with its errata corrected.
"""

from lwm2m_client.core.dm.types import T_INTEGER, T_STRING, T_TIME

# -- The /3/0 Device example (LwM2M Core 1.2 section 7.4.5 and its siblings) ----------

# The example's values as (path, type, value) records; types per OMA registry object 3.
DEVICE_RECORDS = [
    ((3, 0, 0), T_STRING, "Open Mobile Alliance"),
    ((3, 0, 1), T_STRING, "Lightweight M2M Client"),
    ((3, 0, 2), T_STRING, "345000123"),
    ((3, 0, 3), T_STRING, "1.0"),
    ((3, 0, 6, 0), T_INTEGER, 1),
    ((3, 0, 6, 1), T_INTEGER, 5),
    ((3, 0, 7, 0), T_INTEGER, 3800),
    ((3, 0, 7, 1), T_INTEGER, 5000),
    ((3, 0, 8, 0), T_INTEGER, 125),
    ((3, 0, 8, 1), T_INTEGER, 900),
    ((3, 0, 9), T_INTEGER, 100),
    ((3, 0, 10), T_INTEGER, 15),
    ((3, 0, 11, 0), T_INTEGER, 0),
    ((3, 0, 13), T_TIME, 1367491215),
    ((3, 0, 14), T_STRING, "+02:00"),
    ((3, 0, 16), T_STRING, "U"),
]
# Resource ID -> type of the resources in DEVICE_RECORDS.
DEVICE_TYPES = dict((path[2], typ) for path, typ, _ in DEVICE_RECORDS)

# TLV /3/0, 121 B (Core 1.2 section 7.4.5, with the missing 68 of "Lightweight" restored).
DEVICE_TLV_HEX = (
    "C800144F70656E204D6F62696C6520416C6C69616E6365C801164C69676874776569676874204D324D"
    "20436C69656E74C80209333435303030313233C303312E30860641000141010588070842000ED84201"
    "1388870841007D42010384C10964C10A0F830B410000C40D5182428FC60E2B30323A3030C11055"
)
# TLV /3, 124 B: DEVICE_TLV_HEX inside an Object Instance TLV (Core 1.2 section 7.4.5).
DEVICE_TLV_OBJECT_HEX = "080079" + DEVICE_TLV_HEX

# SenML JSON /3/0 (Core 1.2 section 7.4.6).
DEVICE_SENML_JSON = (
    '[{"bn":"/3/0/","n":"0","vs":"Open Mobile Alliance"},{"n":"1","vs":"Lightweight M2M'
    ' Client"},{"n":"2","vs":"345000123"},{"n":"3","vs":"1.0"},{"n":"6/0","v":1},{"n":"'
    '6/1","v":5},{"n":"7/0","v":3800},{"n":"7/1","v":5000},{"n":"8/0","v":125},{"n":"8/'
    '1","v":900},{"n":"9","v":100},{"n":"10","v":15},{"n":"11/0","v":0},{"n":"13","v":1'
    '367491215},{"n":"14","vs":"+02:00"},{"n":"16","vs":"U"}]'
)

# SenML CBOR /3/0, 196 B, integers as CBOR ints (Core 1.2 section 7.4.7).
DEVICE_SENML_CBOR_HEX = (
    "90A321652F332F302F00613003744F70656E204D6F62696C6520416C6C69616E6365A20061310376"
    "4C69676874776569676874204D324D20436C69656E74A20061320369333435303030313233A20061"
    "330363312E30A20063362F300201A20063362F310205A20063372F3002190ED8A20063372F310219"
    "1388A20063382F3002187DA20063382F3102190384A2006139021864A200623130020FA200643131"
    "2F300200A200623133021A5182428FA20062313403662B30323A3030A200623136036155"
)

# LwM2M CBOR /3/0, 118 B (Core 1.2 section 7.4.4).
DEVICE_LWM2M_CBOR_HEX = (
    "A1820300AD00744F70656E204D6F62696C6520416C6C69616E636501764C69676874776569676874"
    "204D324D20436C69656E7402693334353030303132330363312E3006A20001010507A200190ED801"
    "19138808A200187D011903840918640A0F0BA100000D1A5182428F0E662B30323A3030106155"
)
# LwM2M CBOR /3/0/0 in the fully nested form, 27 B (Core 1.2 section 7.4.4).
DEVICE_0_LWM2M_CBOR_NESTED_HEX = "A103A100A100744F70656E204D6F62696C6520416C6C69616E6365"
# LwM2M CBOR /3/0/6 = {[3,0,6]: {0: 1, 1: 5}}, 10 B (Core 1.2 section 7.4.4).
DEVICE_6_LWM2M_CBOR_HEX = "A183030006A200010105"

# The composite example: /3/0/0, /3/0/9 and /1/0/1 (Core 1.2 section 7.4.4).
COMPOSITE_RECORDS = [
    ((3, 0, 0), T_STRING, "Open Mobile Alliance"),
    ((3, 0, 9), T_INTEGER, 100),
    ((1, 0, 1), T_INTEGER, 86400),
]
# LwM2M CBOR of COMPOSITE_RECORDS, 39 B (Core 1.2 section 7.4.4).
COMPOSITE_LWM2M_CBOR_HEX = (
    "A2820300A200744F70656E204D6F62696C6520416C6C69616E6365091864830100011A00015180"
)

# -- Other TLV examples (Core 1.2 section 7.4.5, corrected per LWM2M-FACTS section 11) --

# TLV /1, 18 B: {SSID 1, lifetime 86400, res 6 true, binding "U"} (length 0F, not 0D).
SERVER_TLV_HEX = "08000FC10001C40100015180C10601C10755"
# TLV /66, 82 B: two instances with an object link, the second the null link (26, not 23).
OBJ66_TLV_HEX = (
    "080026C8000B6D79536572766963652031C8010F496E7465726E65742E31352E323334C40200430000"
    "080126C8000B6D79536572766963652032C8010F496E7465726E65742E31352E323335C402FFFFFFFF"
)

# -- Link format (LWM2M-FACTS sections 2 and 11) ---------------------------------------

# Register payload of the Core 1.1 section 6.2.1 example.
REGISTER_PAYLOAD = "</1/0>,</1/1>,</2/0>,</2/1>,</2/2>,</2/3>,</2/4>,</3/0>,</4/0>,</5>"
# REGISTER_PAYLOAD as (path, attributes) links.
REGISTER_LINKS = [
    ((1, 0), ()), ((1, 1), ()), ((2, 0), ()), ((2, 1), ()), ((2, 2), ()), ((2, 3), ()),
    ((2, 4), ()), ((3, 0), ()), ((4, 0), ()), ((5,), ()),
]
# Discover /3/0 with its attributes (Core 1.1 section 6.3.2 example).
DEVICE_DISCOVER = (
    "</3/0>;pmin=10;pmax=60,</3/0/1>,</3/0/2>,</3/0/3>,</3/0/4>,</3/0/6>;dim=2,</3/0/6/0>,"
    "</3/0/6/3>,</3/0/7>;dim=2;gt=50;lt=42.2,</3/0/7/0>,</3/0/7/1>;lt=45,</3/0/8>;dim=2,"
    "</3/0/8/1>,</3/0/8/2>,</3/0/11>,</3/0/16>"
)
# The /3/0 resources behind DEVICE_DISCOVER (the instances it lists), for create_instance.
DEVICE_DISCOVER_RESOURCES = {
    1: "Lightweight M2M Client", 2: "345000123", 3: "1.0", 6: {0: 1, 3: 5},
    7: {0: 3800, 1: 5000}, 8: {1: 125, 2: 900}, 11: 0, 16: "U",
}
# Discover /1 at depth 1 of a 1.0 client (Core 1.1 section 6.3.2 example).
SERVER_DISCOVER = "</1>,</1/0>,</1/4>;pmax=300"
