"""Content formats imported only when configured (the heap budget of a meter).

A meter that speaks SenML CBOR and TLV must never import the JSON codecs: each module
costs RAM on a device that loads ``.py`` or ``.mpy`` files. Checked in a fresh CPython
(``sys.modules``) and, when the unix port is built, in a fresh MicroPython. Also: what
a client not configured for a format answers, and ClientConfig's checks.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lwm2m_client.core.client import setup
from lwm2m_client.core.client.engine import ClientConfig, ClientCore
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.coap.message import Message, decode, to_bytes
from lwm2m_client.core.content import (
    CF_CBOR,
    CF_LWM2M_CBOR,
    CF_LWM2M_JSON,
    CF_LWM2M_JSON_OLD,
    CF_SENML_CBOR,
    CF_SENML_JSON,
    CF_TEXT,
    CF_TLV,
    CF_TLV_OLD,
    formats,
    senml_cbor,
    tlv,
)
from lwm2m_client.core.dm.tree import ObjectTree
from lwm2m_client.core.errors import UsageError
from lwm2m_client.mp.meter_models import OBJECTS

ROOT = Path(__file__).resolve().parent.parent
SERVER = ("10.0.0.1", 5683)
CONTENT = "lwm2m_client.core.content."
# The codecs a SenML CBOR + TLV meter has no use for (text/opaque/cbor_single included:
# a single resource is answered in the configured formats too).
UNUSED = ("senml_json", "lwm2m_json", "json_text", "lwm2m_cbor", "cbor_single", "text",
          "opaque", "b64")

# The example meter (lwm2m_client.mp.meter_models) registered and read in both of its
# formats, then asked for formats it does not speak; prints what it saw as JSON. Runs
# under CPython and MicroPython alike.
METER_SCRIPT = textwrap.dedent('''
    import json
    import sys

    from lwm2m_client.core.client import setup
    from lwm2m_client.core.client.engine import ClientConfig, ClientCore
    from lwm2m_client.core.coap import message as m
    from lwm2m_client.core.dm.tree import ObjectTree
    from lwm2m_client.mp.meter_models import OBJECTS

    SERVER = ("10.0.0.1", 5683)


    class Rng:
        def getrandbits(self, n):
            return 0x5A5A5A5A & ((1 << n) - 1)


    tree = ObjectTree([OBJECTS[oid] for oid in (0, 1, 3, 5, 10243)])
    setup.add_security(tree, 0, "coap://10.0.0.1:5683", ssid=1)
    setup.add_server(tree, 0, 1, lifetime=300)
    setup.add_device(tree, "ACME", "E1", "SN-1", "1.0")
    tree.create_instance(10243, 0, {4: 230.5, 5: 1.25, 14: 1234.5})
    core = ClientCore(ClientConfig("meter", formats=(112, 11542)), tree, Rng())
    core.set_address(1, SERVER)
    core.start(0)
    core.handle_timer(core.get_timer())
    (data, _), = core.datagrams_to_send()
    reg = m.decode(data)
    ack = m.Message(m.ACK, m.CREATED, reg.mid, reg.token)
    ack.location_path = ["rd", "1"]
    core.receive_datagram(m.to_bytes(ack), SERVER, 10)
    codes = []
    for mid, (code, path, accept, cf, payload) in enumerate((
            (m.GET, "/10243/0", 112, None, b""),
            (m.GET, "/3/0", 11542, None, b""),
            (m.GET, "/10243/0/4", None, None, b""),
            (m.GET, "/10243/0", 110, None, b""),
            (m.GET, "/10243/0/4", 0, None, b""),
            (m.PUT, "/1/0/1", None, 110, b'[{"n":"/1/0/1","v":60}]'),
            (m.PUT, "/1/0/1", None, 0, b"60"))):
        req = m.Message(m.CON, code, 0x100 + mid, b"\\x07")
        req.uri_path = path
        if accept is not None:
            req.accept = accept
        if cf is not None:
            req.content_format = cf
        req.payload = payload
        core.receive_datagram(m.to_bytes(req), SERVER, 20 + mid)
        (data, _), = core.datagrams_to_send()
        codes.append(m.code_name(m.decode(data).code))
    loaded = [name for name in sys.modules if name.startswith("lwm2m_client.core.content.")]
    print(json.dumps({"codes": codes, "loaded": loaded}))
''')
EXPECTED_CODES = ["2.05", "2.05", "2.05", "4.06", "4.06", "4.15", "4.15"]
_MIDS = itertools.count(0x200)  # a fresh message ID per request (no duplicates)


def _meter_client(**config: object) -> ClientCore:
    tree = ObjectTree([OBJECTS[oid] for oid in (0, 1, 3, 5, 10243)])
    setup.add_security(tree, 0, "coap://10.0.0.1:5683", ssid=1)
    setup.add_server(tree, 0, 1, lifetime=300)
    setup.add_device(tree, "ACME", "E1", "SN-1", "1.0")
    tree.create_instance(10243, 0, {4: 230.5, 5: 1.25})
    core = ClientCore(ClientConfig("meter", **config), tree, random.Random(3))
    core.set_address(1, SERVER)
    core.start(0)
    core.handle_timer(core.get_timer() or 0)
    ((data, _),) = core.datagrams_to_send()
    reg = decode(data)
    ack = Message(m.ACK, m.CREATED, reg.mid, reg.token)
    ack.location_path = ["rd", "1"]
    core.receive_datagram(to_bytes(ack), SERVER, 10)
    return core


def _ask(core: ClientCore, path: str, accept: int | None = None) -> Message:
    req = Message(m.CON, m.GET, next(_MIDS), b"\x01")
    req.uri_path = path
    if accept is not None:
        req.accept = accept
    core.receive_datagram(to_bytes(req), SERVER, 50)
    ((data, _),) = core.datagrams_to_send()
    return decode(data)


def test_cpython_meter_never_imports_the_codecs_it_does_not_speak():
    proc = subprocess.run([sys.executable, "-c", METER_SCRIPT], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout.splitlines()[-1])
    assert seen["codes"] == EXPECTED_CODES
    loaded = {name[len(CONTENT):] for name in seen["loaded"]}
    assert {"senml_cbor", "tlv", "cbor", "link", "formats"} <= loaded
    assert not loaded & set(UNUSED), sorted(loaded & set(UNUSED))


def test_block1_and_fetch_buffers_wait_for_the_first_request_that_needs_them():
    core = _meter_client(max_body=1024, fetch_size=64)
    assert _ask(core, "/3/0").code == m.CONTENT
    assert core._block1_buf is None and core._fetch_buf is None
    # A Block1 Write of two blocks (RFC 7959 section 2.5) makes the Block1 buffer.
    for num, more in ((0, True), (1, False)):
        req = Message(m.CON, m.PUT, next(_MIDS), b"\x02")
        req.uri_path = "/3/0/14"
        req.content_format = 0
        req.block1 = (num, more, 0)  # 16-byte blocks
        req.payload = b"+01:00" if num else b"0123456789abcdef"
        core.receive_datagram(to_bytes(req), SERVER, 60)
        ((data, _),) = core.datagrams_to_send()
    assert core._block1_buf is not None and len(core._block1_buf) == 1024
    req = Message(m.CON, m.FETCH, next(_MIDS), b"\x03")
    req.content_format = CF_SENML_CBOR
    req.accept = CF_SENML_CBOR
    req.payload = bytes.fromhex("81a100662f332f302f30")  # [{0: "/3/0/0"}]
    core.receive_datagram(to_bytes(req), SERVER, 70)
    ((data, _),) = core.datagrams_to_send()
    assert decode(data).code == m.CONTENT
    assert core._fetch_buf is not None and len(core._fetch_buf) == 64


def _block1_write(core: ClientCore, path: str, body: bytes, size: int = 256) -> Message:
    for offset in range(0, len(body), size):
        req = Message(m.CON, m.PUT, next(_MIDS), b"\x04")
        req.uri_path = path
        req.content_format = 42
        req.block1 = (offset // size, offset + size < len(body), (size // 16).bit_length() - 1)
        req.payload = body[offset:offset + size]
        core.receive_datagram(to_bytes(req), SERVER, 80)
        ((data, _),) = core.datagrams_to_send()
    return decode(data)


def test_config_max_request_body_bounds_block1_apart_from_the_body_buffer():
    core = _meter_client(max_body=512, block_size=256, max_request_body=1024)
    assert len(core.client._body) == 512
    core.tree.create_instance(5, 0, {0: b"", 1: "", 3: 0, 5: 0, 9: 2})
    assert _block1_write(core, "/5/0/0", bytes(range(256)) * 3).code == m.CHANGED
    assert core.tree.get((5, 0, 0)) == bytes(range(256)) * 3
    assert len(core._block1_buf) == 1024
    assert _block1_write(core, "/5/0/0", bytes(1100)).code == m.REQUEST_ENTITY_TOO_LARGE
    assert ClientConfig("m", max_body=2048).max_request_body == 2048
    with pytest.raises(UsageError, match="max_request_body"):
        ClientConfig("m", max_request_body=256)  # smaller than a block


def test_config_dedup_capacity_bounds_the_duplicate_caches():
    core = _meter_client(dedup_capacity=2)
    for _ in range(4):
        assert _ask(core, "/3/0/0").code == m.CONTENT
    assert len(core.endpoint._con_seen) == 2
    assert ClientConfig("m").dedup_capacity == 16
    with pytest.raises(UsageError, match="dedup_capacity"):
        ClientConfig("m", dedup_capacity=0)


def _unix_micropython() -> Path:
    """The 32-bit unix port .ci/setup.sh builds (the one a microcontroller resembles)."""
    for variant in ("std32", "standard"):
        path = ROOT / ".mp" / "unix" / variant / "micropython"
        if path.exists():
            return path
    if os.environ.get("CI") == "true":
        pytest.fail("the MicroPython unix port is missing: .ci/setup.sh builds it")
    pytest.skip("the MicroPython unix port is not built (run .ci/setup.sh)")


@pytest.mark.micropython
def test_micropython_meter_never_imports_the_codecs_it_does_not_speak(tmp_path):
    script = tmp_path / "meter_formats.py"
    script.write_text(METER_SCRIPT)
    proc = subprocess.run([str(_unix_micropython()), str(script)], cwd=tmp_path,
                          env={"MICROPYPATH": str(ROOT)}, capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    seen = json.loads(proc.stdout.splitlines()[-1])
    assert seen["codes"] == EXPECTED_CODES
    loaded = {name[len(CONTENT):] for name in seen["loaded"]}
    assert {"senml_cbor", "tlv"} <= loaded
    assert not loaded & set(UNUSED), sorted(loaded & set(UNUSED))


def test_codec_is_imported_on_first_use_and_honours_the_allowed_formats():
    assert formats.codec(CF_SENML_CBOR) is senml_cbor
    assert formats.codec(CF_TLV_OLD) is tlv
    assert formats.codec(CF_TLV, (CF_SENML_CBOR,)) is None
    assert formats.codec(12345) is None
    assert formats.path_list_codec(CF_SENML_CBOR) is senml_cbor
    assert formats.path_list_codec(CF_TLV) is None
    assert formats.path_list_codec(CF_SENML_JSON, (CF_SENML_CBOR,)) is None
    assert set(formats.ALL) == set(formats.MODULES)


def test_config_defaults_to_every_format():
    config = ClientConfig("m")
    assert config.formats == formats.ALL
    assert config.fetch_size == config.max_body // 4


def test_config_keeps_the_order_and_adds_the_pre_iana_numbers():
    config = ClientConfig("m", formats=[CF_SENML_CBOR, CF_TLV, CF_SENML_CBOR, CF_LWM2M_JSON])
    assert config.formats == (CF_SENML_CBOR, CF_TLV, CF_LWM2M_JSON, CF_TLV_OLD,
                              CF_LWM2M_JSON_OLD)


@pytest.mark.parametrize("kwargs, message", [
    ({"formats": ()}, "names no content format"),
    ({"formats": (CF_SENML_CBOR, 40)}, "content format 40"),
    ({"formats": (CF_TLV,), "preferred_format": CF_SENML_CBOR}, "content format 112"),
    ({"formats": (CF_TLV,), "advertise_formats": [CF_TLV, CF_SENML_JSON]},
     "content format 110"),
    ({"fetch_size": -1}, "fetch_size"),
    ({"max_body": 1024, "fetch_size": 2048}, "fetch_size"),
])
def test_config_refuses_formats_it_does_not_speak(kwargs, message):
    with pytest.raises(UsageError, match=message):
        ClientConfig("m", **kwargs)


def test_config_checks_formats_without_importing_codecs():
    script = textwrap.dedent('''
        import sys
        from lwm2m_client.core.client.engine import ClientConfig
        ClientConfig("m", formats=(110, 11543, 60), preferred_format=110,
                     advertise_formats=[11543, 60])
        print(" ".join(n for n in sys.modules if n.startswith("lwm2m_client.core.content.")))
    ''')
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    loaded = {name[len(CONTENT):] for name in proc.stdout.split()}
    assert "formats" in loaded and not loaded & set(formats.MODULES.values())


def test_no_accept_answers_in_the_version_default_when_configured():
    core = _meter_client(formats=(CF_TLV, CF_SENML_CBOR))
    assert _ask(core, "/10243/0").content_format == CF_SENML_CBOR


def test_no_accept_falls_back_to_the_first_configured_format():
    core = _meter_client(formats=(CF_TLV, CF_TEXT))
    resp = _ask(core, "/10243/0")
    assert resp.code == m.CONTENT and resp.content_format == CF_TLV


def test_no_accept_answers_in_the_preferred_format():
    core = _meter_client(formats=(CF_SENML_CBOR, CF_LWM2M_CBOR), preferred_format=CF_LWM2M_CBOR,
                         version="1.2")
    assert _ask(core, "/10243/0").content_format == CF_LWM2M_CBOR


def test_unconfigured_accept_is_not_acceptable():
    core = _meter_client(formats=(CF_SENML_CBOR,))
    assert _ask(core, "/10243/0", CF_TLV).code == m.NOT_ACCEPTABLE
    assert _ask(core, "/10243/0/4", CF_CBOR).code == m.NOT_ACCEPTABLE
    assert _ask(core, "/10243/0", CF_SENML_CBOR).code == m.CONTENT


def test_read_composite_in_an_unconfigured_format_is_refused():
    core = _meter_client(formats=(CF_SENML_CBOR,))
    req = Message(m.CON, m.FETCH, 0x300, b"\x02", payload=senml_cbor_paths(["/10243/0/4"]))
    req.content_format = CF_SENML_CBOR
    req.accept = CF_TLV
    core.receive_datagram(to_bytes(req), SERVER, 60)
    ((data, _),) = core.datagrams_to_send()
    assert decode(data).code == m.NOT_ACCEPTABLE
    req.accept = None
    req.mid += 1
    core.receive_datagram(to_bytes(req), SERVER, 61)
    ((data, _),) = core.datagrams_to_send()
    resp = decode(data)
    assert resp.code == m.CONTENT and resp.content_format == CF_SENML_CBOR
    req.content_format = CF_SENML_JSON
    req.payload = b'[{"n":"/10243/0/4"}]'
    req.mid += 1
    core.receive_datagram(to_bytes(req), SERVER, 62)
    ((data, _),) = core.datagrams_to_send()
    assert decode(data).code == m.UNSUPPORTED_CONTENT_FORMAT


def senml_cbor_paths(paths: list[str]) -> bytes:
    """A SenML CBOR path list: an array of one-entry maps {0 (n): path}, short paths."""
    out = bytearray([0x80 | len(paths)])
    for path in paths:
        name = path.encode()
        out += bytes([0xA1, 0x00, 0x60 | len(name)]) + name
    return bytes(out)
