"""Object versions in the Register/Update object list and in Discover follow the
registered LwM2M version (C1.1 section 7.2.3; links.ENABLER_OBJECT_VERSIONS).

A 1.0 client once announced ``</1>;ver=1.2,</3>;ver=1.2,</4>;ver=1.3``: versions of
objects from later enablers, in a syntax LwM2M 1.0 does not have. The form emitted now:
LwM2M 1.0 links carry no ``ver`` at all (1.0 has no object versioning; LWM2M-FACTS
section 2 "Missing ver = 1.0"); 1.1 and 1.2 links carry ``ver`` on every object that
is not 1.0, the version being the newest one published with that enabler, unquoted
(``ver=1.1``, C1.1 section 5.1.2).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lwm2m_client.core.client.attributes import AttributeStore
from lwm2m_client.core.client.links import (
    ENABLER_OBJECT_VERSIONS,
    announced_version,
    discover_links,
    register_links,
)
from lwm2m_client.core.content.link import encode_links
from lwm2m_client.sim.meters import METERS, build_meter_tree

REGISTRY = Path(__file__).resolve().parents[2] / "shared" / "lwm2m-registry"

# The meter objects' own versions (object_models/): 10243 is 2.0, 10242 1.0, 3423 and
# 3424 1.1. They are not core objects: they announce their own version.
METER_VER = {"electricity": ";ver=2.0", "3phase": "", "gas": ";ver=1.1", "water": ";ver=1.1"}

EXPECTED = {
    "1.0": "</1/0>,</3/0>,</4/0>,</{oid}/0>",
    "1.1": "</1>;ver=1.1,</1/0>,</3>;ver=1.1,</3/0>,</4>;ver=1.2,</4/0>,"
           "</{oid}>{mver},</{oid}/0>",
    "1.2": "</1>;ver=1.2,</1/0>,</3>;ver=1.2,</3/0>,</4>;ver=1.3,</4/0>,"
           "</{oid}>{mver},</{oid}/0>",
}


def _encode(links: list) -> str:
    buf = bytearray(2048)
    n = encode_links(buf, links)
    return bytes(buf[:n]).decode()


def _expected(version: str, kind: str) -> str:
    mver = METER_VER[kind]
    text = EXPECTED[version].format(oid=METERS[kind].oid, mver=mver)
    # An object link without parameters is left out when the object has instances.
    return text.replace(f"</{METERS[kind].oid}>,", "")


@pytest.mark.parametrize("kind", sorted(METERS))
@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_meter_tree_register_links(version, kind):
    # The shipped definitions are the newest: Server 1.2, Device 1.2, Connectivity
    # Monitoring 1.3. Each enabler announces its own versions of them.
    tree, _ = build_meter_tree(kind, "ep", "coap://h")
    assert _encode(register_links(tree, version)) == _expected(version, kind)


def test_meter_tree_register_links_exactly():
    # The same, spelt out once for the single-phase meter.
    tree, _ = build_meter_tree("electricity", "ep", "coap://h")
    assert _encode(register_links(tree, "1.0")) == "</1/0>,</3/0>,</4/0>,</10243/0>"
    assert _encode(register_links(tree, "1.1")) == (
        "</1>;ver=1.1,</1/0>,</3>;ver=1.1,</3/0>,</4>;ver=1.2,</4/0>,"
        "</10243>;ver=2.0,</10243/0>")
    assert _encode(register_links(tree, "1.2")) == (
        "</1>;ver=1.2,</1/0>,</3>;ver=1.2,</3/0>,</4>;ver=1.3,</4/0>,"
        "</10243>;ver=2.0,</10243/0>")
    # With a root link, as `--advertise-formats` sends it.
    assert _encode(register_links(tree, "1.0", content_formats=[11542, 11543])) == (
        '</>;ct="11542 11543",</1/0>,</3/0>,</4/0>,</10243/0>')


@pytest.mark.parametrize("version,device,connectivity", [
    ("1.0", "</3>", "</4>"),
    ("1.1", "</3>;ver=1.1", "</4>;ver=1.2"),
    ("1.2", "</3>;ver=1.2", "</4>;ver=1.3"),
])
def test_meter_tree_discover_object_links(version, device, connectivity):
    tree, _ = build_meter_tree("gas", "ep", "coap://h")
    store = AttributeStore()
    assert _encode(discover_links(tree, store, 1, (3,), depth=0, version=version)) == device
    assert _encode(discover_links(tree, store, 1, (4,), depth=0,
                                  version=version)) == connectivity
    meter = _encode(discover_links(tree, store, 1, (3423,), depth=0, version=version))
    assert meter == ("</3423>" if version == "1.0" else "</3423>;ver=1.1")


def test_announced_version_rules():
    # Never newer than the enabler's version of a core object ...
    assert announced_version(4, "1.3", "1.1") == "1.2"
    assert announced_version(5, "1.2", "1.2") == "1.1"  # 1.2 is in no Core TS yet
    # ... never newer than the object the client has ...
    assert announced_version(3, "1.0", "1.2") == "1.0"
    # ... and a different major version is no compatible stand-in.
    assert announced_version(5, "2.0", "1.1") == "2.0"
    # Objects outside the table keep their own version.
    assert announced_version(10243, "2.0", "1.1") == "2.0"
    assert announced_version(3303, "1.1", "1.0") == "1.1"


# -- the table against the registry ---------------------------------------------------

_TS_LINE = {"1.1": "Core-V1_1", "1.2": "Core-V1_2"}


def _registry_versions(oid: int) -> dict[str, str]:
    """version -> the file's header comment, for every registry file of ``oid``."""
    files = [REGISTRY / f"{oid}.xml"] + sorted((REGISTRY / "versions").glob(f"{oid}-*.xml"))
    out = {}
    for path in files:
        if not path.exists():
            continue
        text = path.read_text(encoding="utf-8-sig")
        found = re.search(r"<ObjectVersion>\s*([0-9.]+)\s*<", text)
        if found:
            version = found.group(1)
        else:  # the oldest files predate the element: name them by the file name
            version = path.stem.split("-", 1)[1].replace("_", ".")
        out[version] = text[:text.find("-->")]
    return out


@pytest.mark.parametrize("enabler", ["1.0", "1.1", "1.2"])
def test_table_is_the_newest_version_published_with_each_enabler(enabler):
    if not REGISTRY.is_dir():
        pytest.skip(f"OMA registry copy not found at {REGISTRY}")
    for oid, announced in enumerate(ENABLER_OBJECT_VERSIONS[enabler]):
        versions = _registry_versions(oid)
        assert announced in versions, (oid, announced)
        if enabler == "1.0":
            assert announced == "1.0"  # no object versioning before 1.1
            continue
        # The newest version whose header names a Core TS of the enabler's line.
        line = [v for v, header in versions.items() if _TS_LINE[enabler] in header]
        newest = max(line, key=lambda v: tuple(int(x) for x in v.split(".")), default="1.0")
        assert announced == newest, (enabler, oid)
