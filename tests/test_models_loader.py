"""The OMA object XML loader: every registry file, the shipped models, and broken input."""

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lwm2m_client.core.dm import types as t
from lwm2m_client.core.dm.model import OP_E, OP_NONE, OP_R, OP_RW, OP_W, ObjectDef
from lwm2m_client.models import (
    ModelError,
    load_file,
    load_objects,
    parse_xml,
    shipped_models_dir,
    shipped_objects,
)

ROOT = Path(__file__).resolve().parents[1]
REGISTRY = ROOT.parent / "shared" / "lwm2m-registry"

# The project's own object_models/.
SHIPPED_IDS = [0, 1, 2, 3, 4, 5, 9, 19, 501, 504, 3305, 3331, 3423, 3424, 10242, 10243]


@pytest.fixture(scope="module")
def registry():
    if not REGISTRY.is_dir():
        pytest.skip(f"OMA registry copy not found at {REGISTRY}")
    return REGISTRY


@pytest.fixture(scope="module")
def newest(registry):
    return load_objects(registry)


def test_every_registry_file_loads(registry):
    top = sorted(registry.glob("*.xml"))
    older = sorted((registry / "versions").glob("*.xml"))
    assert (len(top), len(older)) == (327, 97)
    loaded = {}
    for f in top + older:
        objects = load_file(f)
        assert len(objects) == 1, f
        loaded[f] = objects[0]
    assert len(loaded) == 424
    for f, obj in loaded.items():
        # The file name carries the ObjectID (and, in versions/, the version).
        assert f.name.split("-")[0].split(".")[0] == str(obj.oid)
        if f.parent.name == "versions":
            assert f.stem.split("-")[1].replace("_", ".") == obj.object_version
        assert obj.resources, f
        for rid, res in obj.resources.items():
            assert rid == res.rid and 0 <= rid <= 65535
            assert res.name == res.name.strip() and res.name
            assert res.units == res.units.strip()


def test_directory_keeps_the_newest_version(registry, newest):
    assert len(newest) == 327
    versions = load_objects(registry / "versions")
    assert versions[5].object_version == "1.1"
    assert newest[5].object_version == "1.2"
    # Recursion reaches meta/Common.xml, which is not an object definition.
    with pytest.raises(ModelError, match="^Common.xml: ObjectID: missing$"):
        load_objects(registry, recursive=True)


def test_known_facts(newest):
    state = newest[5].resources[3]
    assert (state.name, state.operations, state.type) == ("State", OP_R, t.T_INTEGER)
    assert (state.range.kind, state.range.lo, state.range.hi) == ("num", 0, 3)
    assert state.mandatory and not state.multiple
    reboot = newest[3].resources[4]
    assert (reboot.name, reboot.operations, reboot.type) == ("Reboot", OP_E, t.T_NONE)
    matching = newest[0].resources[13]
    assert matching.type == t.T_UNSIGNED and matching.operations == OP_NONE
    assert newest[0].resources[0].range.kind == "len"  # 0..255 on the server URI
    pkg_name = newest[9].resources[0]
    assert pkg_name.range.text == "0..255 bytes"
    assert (pkg_name.range.kind, pkg_name.range.lo, pkg_name.range.hi) == ("len", 0, 255)
    assert newest[5].resources[0].operations == OP_W
    assert newest[1].resources[1].operations == OP_RW and newest[1].resources[1].units == "s"
    dev = newest[3]
    assert (dev.name, dev.multiple, dev.mandatory) == ("Device", False, True)
    assert dev.urn == "urn:oma:lwm2m:oma:3:1.2" and dev.lwm2m_version == "1.1"
    assert list(newest[501].resources) == sorted(newest[501].resources)  # 5750 came before 5


def test_quirky_files(registry):
    # 19.xml starts with a BOM; 10241.xml has a BOM and no XML declaration.
    assert (registry / "19.xml").read_bytes().startswith(b"\xef\xbb\xbf")
    (obj,) = load_file(registry / "19.xml")
    assert obj.oid == 19 and obj.resources[0].type == t.T_OPAQUE
    raw = (registry / "10241.xml").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"<?xml" not in raw[:10]
    assert load_file(registry / "10241.xml")[0].oid == 10241
    # The oldest versions have no ObjectVersion or LWM2MVersion: 1.0 by default.
    (old_device,) = load_file(registry / "versions" / "3-1_0.xml")
    assert (old_device.object_version, old_device.lwm2m_version) == ("1.0", "1.0")
    # Trailing blanks in names are dropped ("rsrp-Result ").
    names = [r.name for r in load_file(registry / "10256.xml")[0].resources.values()]
    assert "rsrp-Result" in names
    # Labelled values on their own lines become an enumeration.
    button = load_file(registry / "3395.xml")[0]
    assert any(r.range is not None and r.range.kind == "enum" and 255 in r.range.values
               for r in button.resources.values())


def _fields(obj):
    return (obj.oid, obj.name, obj.urn, obj.lwm2m_version, obj.object_version, obj.multiple,
            obj.mandatory, sorted(obj.resources))


def _res_fields(r):
    return (r.rid, r.name, r.operations, r.multiple, r.mandatory, r.type, r.range, r.units)


def _words(text):
    return "".join(c for c in text.lower() if c.isalnum() or c == " ").split()


def test_shipped_models_agree_with_the_registry(newest):
    shipped = shipped_objects()
    assert sorted(shipped) == SHIPPED_IDS
    for oid, mine in shipped.items():
        theirs = newest[oid]
        assert _fields(mine) == _fields(theirs), oid
        for rid, res in mine.resources.items():
            assert _res_fields(res) == _res_fields(theirs.resources[rid]), (oid, rid)
            assert res.description, (oid, rid)
            # The descriptions are the project's own, not the registry's.
            assert _words(res.description) != _words(theirs.resources[rid].description), \
                (oid, rid)
        assert mine.description and _words(mine.description) != _words(theirs.description)


def test_shipped_files_are_named_by_id():
    directory = shipped_models_dir()
    assert sorted(int(p.stem) for p in directory.glob("*.xml")) == SHIPPED_IDS
    for p in directory.glob("*.xml"):
        assert [o.oid for o in load_file(p)] == [int(p.stem)]
    assert shipped_objects() is shipped_objects()


MINIMAL = """<?xml version="1.0" encoding="UTF-8"?>
<LWM2M>
  <Object ObjectType="MODefinition">
    <Name>Test</Name>
    <ObjectID>%(oid)s</ObjectID>
    <MultipleInstances>Multiple</MultipleInstances>
    <Mandatory>Optional</Mandatory>
    <Resources>
      <Item ID="%(rid)s">
        <Name>Value</Name><Operations>%(ops)s</Operations>
        <MultipleInstances>Single</MultipleInstances><Mandatory>Mandatory</Mandatory>
        <Type>%(type)s</Type><RangeEnumeration>0..10</RangeEnumeration><Units>m</Units>
      </Item>%(extra)s
    </Resources>
  </Object>
</LWM2M>
"""


def doc(oid="42", rid="3", ops="RW", type="Integer", extra=""):
    return MINIMAL % {"oid": oid, "rid": rid, "ops": ops, "type": type, "extra": extra}


def test_sources_string_bytes_file_and_directory(tmp_path):
    text = doc()
    expected = load_objects(text)
    assert list(expected) == [42]
    res = expected[42].resources[3]
    assert (res.operations, res.type, res.units, res.range.hi) == (OP_RW, t.T_INTEGER, "m", 10)
    assert load_objects(text.encode())[42].resources[3] is not None
    assert load_objects("\ufeff" + text)[42].name == "Test"
    (tmp_path / "42.xml").write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert list(load_objects(tmp_path / "42.xml")) == [42]
    assert list(load_objects(str(tmp_path))) == [42]


def test_namespaces_and_element_order():
    text = """<x:LWM2M xmlns:x="urn:example:lwm2m"><x:Object>
      <x:Resources><x:Item ID="0"><x:Type>String</x:Type><x:Mandatory>Optional</x:Mandatory>
        <x:MultipleInstances>Multiple</x:MultipleInstances><x:Name>N</x:Name></x:Item>
      </x:Resources>
      <x:Mandatory>Mandatory</x:Mandatory><x:MultipleInstances>Single</x:MultipleInstances>
      <x:ObjectID>7</x:ObjectID><x:Name>Ns</x:Name></x:Object></x:LWM2M>"""
    (obj,) = parse_xml(text)
    assert isinstance(obj, ObjectDef)
    assert (obj.oid, obj.multiple, obj.mandatory, obj.object_version) == (7, False, True, "1.0")
    res = obj.resources[0]
    assert (res.operations, res.type, res.multiple, res.range) == (OP_NONE, t.T_STRING, True, None)


BROKEN = [
    ("not xml", "this is not XML", "not well-formed XML"),
    ("truncated", doc()[:200], "not well-formed XML"),
    ("wrong root", "<Objects><Object/></Objects>", "root element is <Objects>"),
    ("no object", "<LWM2M></LWM2M>", "no <Object>"),
    ("no ObjectID", doc().replace("<ObjectID>42</ObjectID>", ""), "ObjectID: missing"),
    ("text ObjectID", doc(oid="abc"), "ObjectID: not a number 'abc'"),
    ("big ObjectID", doc(oid="70000"), "ObjectID: 70000 is out of range"),
    ("text resource ID", doc(rid="x"), "Item ID: not a number 'x'"),
    ("duplicate ID", doc(extra=doc().split("<Resources>")[1].split("</Resources>")[0]),
     "Item ID=3: duplicate resource ID"),
    ("unknown type", doc(type="Strng"), "Item ID=3: unknown Type 'Strng'"),
    ("unknown ops", doc(ops="RX"), "Item ID=3: unknown Operations 'RX'"),
    ("bad multiplicity", doc().replace("<MultipleInstances>Single", "<MultipleInstances>Two"),
     "Item ID=3: <MultipleInstances> is 'Two'"),
    ("no resource name", doc().replace("<Name>Value</Name>", ""), "Item ID=3: missing <Name>"),
]


@pytest.mark.parametrize("text,needle", [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_broken_input_names_file_and_element(tmp_path, text, needle):
    path = tmp_path / "5.xml"
    path.write_text(text)
    with pytest.raises(ModelError) as info:
        load_objects(path)
    message = str(info.value)
    assert message.startswith("5.xml: ")
    assert needle in message
    assert "\n" not in message
    with pytest.raises(ModelError, match="^<string>: "):
        load_objects(text) if text.startswith("<") else parse_xml(text)


def test_broken_file_in_a_directory_is_named(tmp_path):
    (tmp_path / "1.xml").write_text(doc(oid="1"))
    (tmp_path / "2.xml").write_text(doc(oid="2", type="Number"))
    with pytest.raises(ModelError, match=r"^2\.xml: Item ID=3: unknown Type 'Number'$"):
        load_objects(tmp_path)


def test_missing_path():
    with pytest.raises(ModelError, match="no such file or directory"):
        load_objects("/nonexistent/models")


def test_duplicate_object_in_directory_keeps_higher_version(tmp_path):
    v10 = doc().replace("<Mandatory>Optional</Mandatory>\n    <Resources>",
                        "<Mandatory>Optional</Mandatory><ObjectVersion>1.0</ObjectVersion>"
                        "<Resources>")
    v12 = v10.replace("1.0</ObjectVersion>", "1.10</ObjectVersion>")
    (tmp_path / "a.xml").write_text(v12)
    (tmp_path / "b.xml").write_text(v10)
    assert load_objects(tmp_path)[42].object_version == "1.10"  # 1.10 > 1.2 > 1.0
    sub = tmp_path / "newer"
    sub.mkdir()
    (sub / "c.xml").write_text(v10.replace("1.0</ObjectVersion>", "2.0</ObjectVersion>"))
    assert load_objects(tmp_path)[42].object_version == "1.10"
    assert load_objects(tmp_path, recursive=True)[42].object_version == "2.0"


def test_duplicate_names_are_allowed():
    second = doc().split("<Resources>")[1].split("</Resources>")[0].replace('ID="3"', 'ID="4"')
    obj = load_objects(doc(extra=second))[42]
    assert sorted(obj.resources) == [3, 4]
    assert obj.resources[3].name == obj.resources[4].name == "Value"


@settings(max_examples=300)
@given(st.binary(max_size=300))
def test_fuzz_random_bytes(data):
    try:
        parse_xml(data, "fuzz.xml")
    except ModelError as exc:
        assert str(exc).startswith("fuzz.xml: ")


@settings(max_examples=400)
@given(st.data())
def test_fuzz_mutated_documents(data):
    text = doc(extra=doc(rid="9").split("<Resources>")[1].split("</Resources>")[0])
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(text)))
        cut = data.draw(st.integers(0, 8))
        insert = data.draw(st.text(alphabet='<>/="ID 0123456789aZ-.\ufeff', max_size=6))
        text = text[:pos] + insert + text[pos + cut:]
    try:
        objects = parse_xml(text, "m.xml")
    except ModelError as exc:
        assert str(exc).startswith("m.xml: ") and "\n" not in str(exc)
    else:
        for obj in objects:
            assert isinstance(obj, ObjectDef) and 0 <= obj.oid <= 65535


def _xsd_sequence(xsd_root, name):
    """The child element names, in order, of the element ``name`` in the schema."""
    xs = "{http://www.w3.org/2001/XMLSchema}"
    for elem in xsd_root.iter(xs + "element"):
        if elem.get("name") == name and elem.find(xs + "complexType") is not None:
            seq = elem.find(f"{xs}complexType/{xs}sequence")
            return [child.get("name") for child in seq.findall(xs + "element")]
    raise AssertionError(name)


def test_shipped_files_follow_the_schema_layout(registry):
    xsd = ET.parse(registry / "LWM2M-v1_1.xsd").getroot()
    object_seq = _xsd_sequence(xsd, "Object")
    item_seq = _xsd_sequence(xsd, "Item")
    assert object_seq[:3] == ["Name", "Description1", "ObjectID"]
    item_values = {"Operations": {"R", "W", "RW", "E", ""}, "Type": {
        "String", "Integer", "Unsigned Integer", "Float", "Boolean", "Opaque", "Time",
        "Objlnk", "Corelnk", ""}, "MultipleInstances": {"Single", "Multiple"},
        "Mandatory": {"Mandatory", "Optional"}}
    for path in sorted(shipped_models_dir().glob("*.xml")):
        raw = path.read_bytes()
        assert raw.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<!-- lwm2m_client')
        root = ET.fromstring(raw)
        (obj,) = list(root)
        assert [c.tag for c in obj] == object_seq, path.name
        for item in obj.find("Resources"):
            assert [c.tag for c in item] == item_seq, (path.name, item.get("ID"))
            for tag, allowed in item_values.items():
                assert (item.findtext(tag) or "") in allowed, (path.name, item.get("ID"), tag)
