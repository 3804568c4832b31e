"""Which content format the embedded server asks of a client when the caller names none.

The rule (see :class:`LwM2MServer`): the server's ``default_format`` when set, else the first
format of the client's Register root link ``ct`` list that carries several values, else TLV
for 1.0 and SenML CBOR for 1.1+; composite operations take SenML JSON/CBOR or LwM2M CBOR.
"""

from __future__ import annotations

from typing import Any, AsyncIterator, List, Optional, Tuple

import aiocoap
import pytest

from lwm2m_client.core.content import (
    CF_CBOR,
    CF_LWM2M_CBOR,
    CF_LWM2M_JSON,
    CF_OPAQUE,
    CF_SENML_CBOR,
    CF_SENML_ETCH_JSON,
    CF_SENML_JSON,
    CF_TEXT,
    CF_TLV,
)
from lwm2m_client.server import LwM2MServer, Registration
from lwm2m_client.server.operations import choose_format, path_list_format

EP = "wakaama-like"

# -- the choice itself ---------------------------------------------------------------------


@pytest.mark.parametrize("version, advertised, expected", [
    # Nothing advertised: the version decides.
    ("1.0", (), CF_TLV),
    ("1.1", (), CF_SENML_CBOR),
    ("1.2", (), CF_SENML_CBOR),
    # The first hierarchical format the client lists, whatever its version.
    ("1.1", (CF_SENML_JSON,), CF_SENML_JSON),
    ("1.1", (CF_TLV, CF_SENML_JSON), CF_TLV),
    ("1.1", (CF_SENML_JSON, CF_TLV), CF_SENML_JSON),
    ("1.2", (CF_LWM2M_CBOR, CF_SENML_CBOR), CF_LWM2M_CBOR),
    ("1.1", (CF_LWM2M_JSON,), CF_LWM2M_JSON),
    ("1.0", (CF_SENML_CBOR,), CF_SENML_CBOR),
    # Single-value formats cannot carry an instance: skipped.
    ("1.1", (CF_TEXT, CF_OPAQUE, CF_CBOR, CF_SENML_JSON), CF_SENML_JSON),
    ("1.1", (CF_TEXT, CF_OPAQUE), CF_SENML_CBOR),
    ("1.0", (CF_TEXT,), CF_TLV),
    # Numbers the server has no codec for, or that are not LwM2M formats, are skipped.
    ("1.1", (9999, CF_TLV), CF_TLV),
    ("1.1", (CF_SENML_ETCH_JSON, CF_TLV), CF_TLV),
])
def test_choose_format(version, advertised, expected):
    assert choose_format(version, advertised) == expected


@pytest.mark.parametrize("version, advertised, expected", [
    ("1.0", (), CF_SENML_CBOR),
    ("1.1", (), CF_SENML_CBOR),
    ("1.1", (CF_SENML_JSON,), CF_SENML_JSON),
    ("1.1", (CF_TLV, CF_SENML_JSON), CF_SENML_JSON),
    ("1.1", (CF_TLV, CF_TEXT), CF_SENML_CBOR),
    ("1.2", (CF_TLV, CF_LWM2M_CBOR, CF_SENML_JSON), CF_LWM2M_CBOR),
    ("1.1", (CF_LWM2M_JSON, CF_SENML_CBOR), CF_SENML_CBOR),
])
def test_choose_composite_format(version, advertised, expected):
    assert choose_format(version, advertised, composite=True) == expected


@pytest.mark.parametrize("answer, advertised, expected", [
    (CF_SENML_JSON, (), CF_SENML_JSON),
    (CF_SENML_ETCH_JSON, (), CF_SENML_JSON),
    (CF_SENML_CBOR, (CF_SENML_JSON,), CF_SENML_CBOR),
    (CF_LWM2M_CBOR, (), CF_SENML_CBOR),
    (CF_LWM2M_CBOR, (CF_LWM2M_CBOR, CF_SENML_JSON, CF_SENML_CBOR), CF_SENML_JSON),
])
def test_path_list_format(answer, advertised, expected):
    assert path_list_format(answer, advertised) == expected


def registration(version: str, advertised: Tuple[int, ...]) -> Registration:
    return Registration(endpoint=EP, location="1", lifetime=60, binding="U", queue_mode=False,
                        lwm2m_version=version, remote=None, registered_at=0.0, updated_at=0.0,
                        content_formats=advertised)


def test_format_for_precedence():
    server = LwM2MServer()
    reg = registration("1.1", (CF_SENML_JSON,))
    assert server.format_for(reg, None) == CF_SENML_JSON
    assert server.format_for(reg, None, composite=True) == CF_SENML_JSON
    # The caller's format wins over everything.
    assert server.format_for(reg, CF_TEXT) == CF_TEXT
    # A server default wins over the advertised list, advertised or not.
    server.default_format = CF_TLV
    assert server.format_for(reg, None) == CF_TLV
    # ... but a composite operation cannot use TLV and falls back to the client's choice.
    assert server.format_for(reg, None, composite=True) == CF_SENML_JSON
    server.default_format = CF_SENML_CBOR
    assert server.format_for(reg, None, composite=True) == CF_SENML_CBOR


def test_format_follows_an_update_of_the_object_list():
    # An Update with a payload replaces content_formats; the choice follows it.
    server = LwM2MServer()
    reg = registration("1.1", (CF_SENML_JSON,))
    assert server.format_for(reg, None) == CF_SENML_JSON
    reg.content_formats = (CF_TLV,)
    assert server.format_for(reg, None) == CF_TLV


# -- against a real client -----------------------------------------------------------------


class RecordingServer(LwM2MServer):
    """The embedded server, keeping every DM/IR request it sends."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent: List[aiocoap.Message] = []

    def _message(self, *args: Any, **kwargs: Any) -> aiocoap.Message:
        msg = super()._message(*args, **kwargs)
        self.sent.append(msg)
        return msg

    def last(self) -> Tuple[Optional[int], Optional[int]]:
        """(Content-Format, Accept) of the last request."""
        opt = self.sent[-1].opt
        cf = None if opt.content_format is None else int(opt.content_format)
        accept = None if opt.accept is None else int(opt.accept)
        return cf, accept


# The conftest fixtures, narrowed: start_client runs the lean adapter (UdpClient on a
# ClientCore) against a recording server; a test passes server options with
# ``@pytest.mark.parametrize("lwm2m_server", [{...}], indirect=True)``.
@pytest.fixture
def adapter() -> str:
    return "udp"


@pytest.fixture
async def lwm2m_server(request: pytest.FixtureRequest) -> AsyncIterator[RecordingServer]:
    options = getattr(request, "param", {})
    async with RecordingServer(host="127.0.0.1", port=0, request_timeout=5, **options) as srv:
        yield srv


# Like Wakaama's example client: SenML JSON, TLV and plain text, no SenML CBOR, and only
# SenML JSON in the root link.
WAKAAMA_LIKE = dict(version="1.1", formats=(CF_SENML_JSON, CF_TLV, CF_TEXT),
                    advertise_formats=(CF_SENML_JSON,))


async def test_client_advertising_senml_json_only(lwm2m_server, start_client):
    server = lwm2m_server
    client = await start_client(EP, **WAKAAMA_LIKE)
    reg = server.registration(EP)
    assert reg is not None and reg.content_formats == (CF_SENML_JSON,)
    # What the server used to ask of every 1.1 client, and this one cannot answer.
    assert (await server.read(EP, "/3/0", format=CF_SENML_CBOR)).code == "4.06"

    response = await server.read(EP, "/3/0")
    assert server.last() == (None, CF_SENML_JSON)
    assert response.code == "2.05" and response.content_format == CF_SENML_JSON
    assert response.values[(3, 0, 0)] == "lwm2m_client"

    response = await server.write(EP, "/1/0/1", 600)
    assert server.last() == (CF_SENML_JSON, None)
    assert response.code == "2.04"
    assert client.core.tree.get((1, 0, 1)) == 600

    response = await server.read_composite(EP, ["/3/0/0", "/1/0/1"])
    assert server.last() == (CF_SENML_JSON, CF_SENML_JSON)
    assert response.code == "2.05" and response.content_format == CF_SENML_JSON
    assert response.values == {(3, 0, 0): "lwm2m_client", (1, 0, 1): 600}

    response = await server.write_composite(EP, {"/3/0/14": "+01:00", (1, 0, 1): 700})
    assert server.last() == (CF_SENML_JSON, None)
    assert response.code == "2.04"
    assert client.core.tree.get((3, 0, 14)) == "+01:00"
    assert client.core.tree.get((1, 0, 1)) == 700

    obs = await server.observe(EP, "/3/0/9")
    assert server.last() == (None, CF_SENML_JSON)
    assert obs.response.code == "2.05" and obs.response.content_format == CF_SENML_JSON
    server.cancel_observe(obs)

    obs = await server.observe_composite(EP, ["/3/0/9", "/1/0/1"])
    assert server.last() == (CF_SENML_JSON, CF_SENML_JSON)
    assert obs.response.code == "2.05"
    server.cancel_observe(obs)

    iid = await server.create(EP, 19, {0: {0: b"\x09"}}, iid=5)
    assert server.last() == (CF_SENML_JSON, None)
    assert iid == 5 and client.core.tree.get((19, 5, 0, 0)) == b"\x09"


@pytest.mark.parametrize("lwm2m_server", [{"default_format": CF_TLV}], indirect=True)
async def test_server_default_format_wins_even_unadvertised(lwm2m_server, start_client):
    server = lwm2m_server
    await start_client(EP, **WAKAAMA_LIKE)
    response = await server.read(EP, "/3/0")
    assert server.last() == (None, CF_TLV)
    assert response.code == "2.05" and response.content_format == CF_TLV
    # Composite operations cannot use TLV: the client's advertised SenML JSON.
    response = await server.read_composite(EP, ["/3/0/0"])
    assert server.last() == (CF_SENML_JSON, CF_SENML_JSON)
    assert response.code == "2.05"


async def test_lwm2m_1_0_client_without_ct_gets_tlv(lwm2m_server, start_client):
    server = lwm2m_server
    client = await start_client(EP, version="1.0")
    reg = server.registration(EP)
    assert reg is not None and reg.lwm2m_version == "1.0" and reg.content_formats == ()
    response = await server.read(EP, "/3/0")
    assert server.last() == (None, CF_TLV)
    assert response.code == "2.05" and response.content_format == CF_TLV
    assert (await server.write(EP, "/1/0/1", 900)).code == "2.04"
    assert server.last() == (CF_TLV, None)
    assert client.core.tree.get((1, 0, 1)) == 900


async def test_lwm2m_1_1_client_without_ct_gets_senml_cbor(lwm2m_server, start_client):
    server = lwm2m_server
    await start_client(EP, version="1.1")
    response = await server.read(EP, "/3/0")
    assert server.last() == (None, CF_SENML_CBOR)
    assert response.code == "2.05" and response.content_format == CF_SENML_CBOR


async def test_first_advertised_format_is_preferred(lwm2m_server, start_client):
    server = lwm2m_server
    await start_client(EP, version="1.1", formats=(CF_SENML_JSON, CF_TLV, CF_TEXT),
                advertise_formats=(CF_TLV, CF_SENML_JSON))
    reg = server.registration(EP)
    assert reg is not None and reg.content_formats == (CF_TLV, CF_SENML_JSON)
    response = await server.read(EP, "/3/0")
    assert server.last() == (None, CF_TLV)
    assert response.code == "2.05" and response.content_format == CF_TLV
    assert (await server.write(EP, "/1/0/1", 800)).code == "2.04"
    assert server.last() == (CF_TLV, None)
    # TLV has no composite form: the first advertised SenML format.
    response = await server.read_composite(EP, ["/3/0/0", "/1/0/1"])
    assert server.last() == (CF_SENML_JSON, CF_SENML_JSON)
    assert response.values == {(3, 0, 0): "lwm2m_client", (1, 0, 1): 800}
