"""Block2 reads from a server that adds options to its follow-up block requests.

Eclipse Wakaama's lwm2mserver sends the requests for blocks 1..n of a Read with a
Content-Format option besides Accept and Block2, although a GET carries no payload and
Content-Format means nothing on it (RFC 7252 section 5.10.3). Both asyncio adapters must
still serve every block. The server here is a raw asyncio UDP endpoint that builds each
CoAP message with the project's own codec, so it sends exactly what Wakaama sends; the
client is a three-phase meter (its /10242/0 is larger than one block) on real loopback
UDP, once per adapter (the ``adapter`` fixture of conftest.py).

What a follow-up block request may change (RFC 7959 section 2.4 asks for "the same
options as the initial request"):

- harmless: Content-Format, ETag (a validator, RFC 7252 section 5.10.6.2; the answer's
  own ETag tells the server whether the representation changed), Size2 (RFC 7959 section
  4), elective options the client does not know (RFC 7252 section 5.4.1) -- the block is
  served as if they were absent;
- identifying: Uri-Host, Uri-Port, Uri-Path, Uri-Query, Proxy-Uri, Proxy-Scheme and Accept
  (which selects the representation). A request that changes one of them does not continue
  the transfer: the aiocoap adapter has no transfer for it and answers 4.08; the lean
  adapter keeps no Block2 state and answers with the block of the representation that
  request selects, under that representation's Content-Format and ETag. Either way no
  block of another representation is ever passed off under block 0's ETag.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any, AsyncIterator, Callable, Dict, List, Optional, Sequence, Tuple, Union, cast

import aiocoap
import pytest
from aiocoap.numbers.optionnumbers import OptionNumber
from aiocoap.optiontypes import BlockOption

from lwm2m_client.aio.aiocoap_client import AiocoapClient
from lwm2m_client.aio.aiocoap_tolerance import drop_inert_get_options, tag_blocks
from lwm2m_client.aio.udp import UdpClient
from lwm2m_client.core.client import events as ev
from lwm2m_client.core.client.client import LwM2MClient
from lwm2m_client.core.client.engine import ClientConfig, ClientCore
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.coap import options as o
from lwm2m_client.core.content import CF_SENML_JSON, CF_TLV, tlv
from lwm2m_client.sim.meters import build_meter_tree

pytestmark = pytest.mark.interop

EP = "meter-wakaama"
HOST = "127.0.0.1"
LOCATION = ("rd", "w4k")
METER = (10242, 0)
Client = Union[UdpClient, AiocoapClient]
Options = List[Tuple[int, bytes]]


class RawServer(asyncio.DatagramProtocol):
    """Registrar and requester, one datagram at a time, with the core's codec.

    Answers Register (2.01 with Location-Path), Update (2.04) and De-register (2.02)
    piggybacked (Core 1.1 section 6.2); matches responses to its own requests by token,
    whether piggybacked or separate (a separate CON response gets its empty ACK)."""

    def __init__(self) -> None:
        self.transport: Optional[asyncio.DatagramTransport] = None
        self.client_addr: Any = None
        self.registered = asyncio.Event()
        self.sent: List[m.Message] = []
        self._mid = 0x4000
        self._waiting: Dict[bytes, asyncio.Future[m.Message]] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: Any) -> None:
        assert self.transport is not None
        try:
            msg = m.decode(data)
        except m.CoapDecodeError:
            return
        if m.is_request(msg.code):
            self._answer_registration(msg, addr)
            return
        if msg.mtype == m.CON:
            self.transport.sendto(m.to_bytes(m.Message(m.ACK, m.EMPTY, msg.mid)), addr)
        future = self._waiting.pop(bytes(msg.token), None) if m.is_response(msg.code) else None
        if future is not None and not future.done():
            msg.payload = bytes(msg.payload)
            future.set_result(msg)

    def _answer_registration(self, request: m.Message, addr: Any) -> None:
        assert self.transport is not None
        path = request.uri_path
        if request.mtype != m.CON:
            return
        if request.code == m.POST and path == "/rd":
            response = m.Message(m.ACK, m.CREATED, request.mid, request.token)
            response.location_path = list(LOCATION)
            self.client_addr = addr
            self.registered.set()
        elif request.code == m.POST and path == "/" + "/".join(LOCATION):
            response = m.Message(m.ACK, m.CHANGED, request.mid, request.token)
        elif request.code == m.DELETE and path == "/" + "/".join(LOCATION):
            response = m.Message(m.ACK, m.DELETED, request.mid, request.token)
        else:
            response = m.Message(m.ACK, m.NOT_FOUND, request.mid, request.token)
        self.transport.sendto(m.to_bytes(response), addr)

    async def request(self, options: Options, timeout: float = 5.0) -> m.Message:
        """Send a CON GET with ``options`` (number, value) to the client; its response."""
        assert self.transport is not None and self.client_addr is not None
        self._mid = (self._mid + 1) & 0xFFFF
        token = self._mid.to_bytes(2, "big")
        request = m.Message(m.CON, m.GET, self._mid, token)
        for number, value in options:
            request.add_option(number, value)
        future: asyncio.Future[m.Message] = asyncio.get_running_loop().create_future()
        self._waiting[token] = future
        self.sent.append(request)
        self.transport.sendto(m.to_bytes(request), self.client_addr)
        return await asyncio.wait_for(future, timeout)


def get_options(path: Tuple[int, ...], accept: int = CF_TLV,
                block2: Optional[Tuple[int, bool, int]] = None,
                extra: Sequence[Tuple[int, bytes]] = ()) -> Options:
    """Uri-Path, Accept, Block2 and ``extra`` of a Read of ``path``."""
    options: Options = [(o.URI_PATH, str(n).encode()) for n in path]
    options.append((o.ACCEPT, o.encode_uint(accept)))
    if block2 is not None:
        options.append((o.BLOCK2, o.encode_block(*block2)))
    options.extend(extra)
    return options


WAKAAMA_EXTRA: Options = [(o.CONTENT_FORMAT, o.encode_uint(CF_TLV))]


async def read_blockwise(server: RawServer, szx: int,
                         extra: Sequence[Tuple[int, bytes]] = WAKAAMA_EXTRA,
                         first_extra: Sequence[Tuple[int, bytes]] = (),
                         ) -> Tuple[bytes, List[m.Message]]:
    """Read /10242/0 as TLV block by block, the way Wakaama does: block 0 with Accept
    and Block2 (0, szx) (and ``first_extra``), then blocks 1..n at the size the client
    answered with, each with ``extra`` options added. Returns the body and every
    response."""
    response = await server.request(
        get_options(METER, block2=(0, False, szx), extra=first_extra))
    responses = [response]
    body = bytearray()
    while True:
        assert response.code == m.CONTENT, m.code_name(response.code)
        assert response.content_format == CF_TLV
        block2 = response.block2
        if block2 is None:  # the whole body in one response
            assert not body
            return bytes(response.payload), responses
        num, more, got_szx = block2
        assert num * o.block_size(got_szx) == len(body), "a block out of place"
        body += response.payload
        if not more:
            return bytes(body), responses
        assert len(responses) < 100, "the transfer does not end"
        response = await server.request(
            get_options(METER, block2=(num + 1, False, got_szx), extra=extra))
        responses.append(response)


def check_blocks(responses: List[m.Message], body: bytes, szx: int) -> None:
    """Every block at ``szx``, one ETag for all, Size2 on block 0 (RFC 7959 section 4)."""
    assert len(responses) > 1, "the read did not go block-wise"
    assert [r.block2[2] for r in responses if r.block2 is not None] == [szx] * len(responses)
    etags = {r.etag for r in responses}
    assert len(etags) == 1, "the ETag changed between blocks"
    assert responses[0].size2 in (None, len(body))


def instance_values(client: Client) -> Dict[Tuple[int, ...], Any]:
    return {p: v for p, _, v in client.core.tree.read(METER) if v is not None}


def decoded(client: Client, body: bytes) -> Dict[Tuple[int, ...], Any]:
    return dict(tlv.decode(body, METER, client.core.tree.type_of))


@pytest.fixture
async def raw_server() -> AsyncIterator[RawServer]:
    loop = asyncio.get_running_loop()
    transport, server = await loop.create_datagram_endpoint(RawServer, local_addr=(HOST, 0))
    try:
        yield server
    finally:
        transport.close()


@pytest.fixture
async def start_meter(raw_server: RawServer, adapter: str
                      ) -> AsyncIterator[Callable[..., Any]]:
    """``await start_meter(block_size)``: a three-phase meter registered at ``raw_server``
    on the ``adapter``."""
    started: List[Client] = []

    async def start(block_size: int) -> Client:
        assert raw_server.transport is not None
        port = raw_server.transport.get_extra_info("sockname")[1]
        tree, _ = build_meter_tree("3phase", EP, f"coap://{HOST}:{port}", seed=3)
        # The aiocoap adapter drives the message-level client, the lean one the
        # datagram-level core; either resolves the account's URI from /0/0/0 itself.
        layer = LwM2MClient if adapter == "aiocoap" else ClientCore
        core = layer(ClientConfig(EP, block_size=block_size), tree, random.Random(3))
        client: Client = AiocoapClient(core) if adapter == "aiocoap" else UdpClient(core)
        started.append(client)
        await client.start()
        await asyncio.wait_for(raw_server.registered.wait(), 10.0)
        while not client.core.registration(1).is_registered:
            await client.wait_for(ev.Registered, 10.0)
        return client

    yield start
    for client in started:
        await client.stop(timeout=2.0)


# -- the Wakaama read -------------------------------------------------------------------


@pytest.mark.parametrize("szx", [4, 2])
async def test_block2_read_with_stray_content_format(start_meter, raw_server, szx):
    client = await start_meter(block_size=1024)
    # The reference: the same Read in one response (the TLV body is below 1024 bytes).
    whole = await raw_server.request(get_options(METER))
    assert whole.code == m.CONTENT and whole.block2 is None
    assert len(whole.payload) > 2 * o.block_size(szx)

    body, responses = await read_blockwise(raw_server, szx)
    check_blocks(responses, body, szx)
    assert all(r.opt(o.CONTENT_FORMAT) is not None for r in raw_server.sent[2:])
    assert body == whole.payload
    assert decoded(client, body) == instance_values(client)


async def test_block_size_is_the_clients_when_the_server_asks_for_more(start_meter,
                                                                       raw_server):
    # Block 0 asks for 1024-byte blocks; the client answers at its own 512 (RFC 7959
    # section 2.4: the server may use a smaller size), and the server follows.
    client = await start_meter(block_size=512)
    body, responses = await read_blockwise(raw_server, 6)
    check_blocks(responses, body, o.size_to_szx(512))
    assert decoded(client, body) == instance_values(client)


# -- what else a follow-up block request may carry ------------------------------------

HARMLESS: Dict[str, Options] = {
    # Content-Format on every block, block 0 included.
    "content-format-everywhere": WAKAAMA_EXTRA,
    "etag": [(o.ETAG, b"\x00\x11\x22\x33")],
    "size2": [(o.SIZE2, o.encode_uint(0))],
    # Elective, safe to forward and part of the cache key (RFC 7252 section 5.4.6), and
    # unknown to both sides: ignored (section 5.4.1).
    "unknown-elective": [(65000, b"\x01")],
    "all-at-once": WAKAAMA_EXTRA + [(o.ETAG, b"\x01"), (o.SIZE2, b""), (65000, b"")],
}


@pytest.mark.parametrize("name", sorted(HARMLESS))
async def test_follow_up_blocks_ignore_harmless_options(start_meter, raw_server, name):
    client = await start_meter(block_size=1024)
    extra = HARMLESS[name]
    first_extra = extra if name == "content-format-everywhere" else ()
    body, responses = await read_blockwise(raw_server, 4, extra=extra, first_extra=first_extra)
    check_blocks(responses, body, 4)
    assert decoded(client, body) == instance_values(client)


async def test_follow_up_block_echoing_the_etag(start_meter, raw_server):
    client = await start_meter(block_size=1024)
    first = await raw_server.request(get_options(METER, block2=(0, False, 3)))
    assert first.etag is not None
    body, responses = await read_blockwise(raw_server, 3,
                                           extra=WAKAAMA_EXTRA + [(o.ETAG, first.etag)])
    check_blocks(responses, body, 3)
    assert responses[0].etag == first.etag
    assert decoded(client, body) == instance_values(client)


# -- identifying options ---------------------------------------------------------------


async def test_other_accept_is_not_a_continuation(start_meter, raw_server, adapter):
    await start_meter(block_size=1024)
    first = await raw_server.request(get_options(METER, block2=(0, False, 4)))
    assert first.code == m.CONTENT and first.block2 is not None and first.block2[1]
    other = await raw_server.request(
        get_options(METER, accept=CF_SENML_JSON, block2=(1, False, 4), extra=WAKAAMA_EXTRA))
    if adapter == "aiocoap":
        assert other.code == m.REQUEST_ENTITY_INCOMPLETE
    else:
        assert other.code == m.CONTENT
        assert other.content_format == CF_SENML_JSON and other.etag != first.etag
    # The transfer in TLV goes on undisturbed.
    second = await raw_server.request(get_options(METER, block2=(1, False, 4)))
    assert (second.code, second.content_format, second.etag) == \
        (m.CONTENT, CF_TLV, first.etag)


async def test_other_uri_query_is_not_a_continuation(start_meter, raw_server, adapter):
    await start_meter(block_size=1024)
    first = await raw_server.request(get_options(METER, block2=(0, False, 4)))
    assert first.code == m.CONTENT and first.block2 is not None and first.block2[1]
    queried = await raw_server.request(
        get_options(METER, block2=(1, False, 4), extra=[(o.URI_QUERY, b"x=1")]))
    if adapter == "aiocoap":
        assert queried.code == m.REQUEST_ENTITY_INCOMPLETE
    else:
        # The core's Read takes no query: the same representation, under the same ETag.
        assert (queried.code, queried.etag) == (m.CONTENT, first.etag)


# -- the aiocoap adapter's request trimming, without a network -------------------------


def test_only_inert_elective_options_leave_a_get():
    request = aiocoap.Message(code=aiocoap.GET, uri_path=("10242", "0"), uri_query=("x=1",),
                              accept=CF_TLV, content_format=CF_TLV, etag=b"\x01", observe=0,
                              size2=0, size1=5, max_age=60, no_response=26)
    request.opt.block2 = BlockOption.BlockwiseTuple(1, False, 4)
    request.opt.add_option(OptionNumber(65000).create_option(decode=b"\x01"))
    request.opt.add_option(OptionNumber(65001).create_option(decode=b"\x01"))  # critical
    dropped = drop_inert_get_options(request)
    assert dropped == [o.ETAG, o.CONTENT_FORMAT, o.MAX_AGE, o.SIZE1, 65000]
    assert sorted({int(opt.number) for opt in request.opt.option_list()}) == [
        o.OBSERVE, o.URI_PATH, o.URI_QUERY, o.ACCEPT, o.BLOCK2, o.SIZE2, o.NO_RESPONSE, 65001]
    assert drop_inert_get_options(request) == []


def test_other_methods_keep_their_options():
    # On a request with a payload Content-Format names its format (RFC 7252 5.10.3).
    request = aiocoap.Message(code=aiocoap.PUT, uri_path=("3", "0", "15"),
                              content_format=0, etag=b"\x01", payload=b"x")
    before = list(request.opt.option_list())
    assert drop_inert_get_options(request) == []
    assert list(request.opt.option_list()) == before


def test_blocks_are_tagged_only_when_the_answer_is_cut():
    request = aiocoap.Message(code=aiocoap.GET)
    request.opt.block2 = BlockOption.BlockwiseTuple(0, False, 4)
    small = aiocoap.Message(code=aiocoap.CONTENT, payload=bytes(256))
    tag_blocks(request, small)
    assert small.opt.etag is None
    large = aiocoap.Message(code=aiocoap.CONTENT, payload=bytes(257))
    tag_blocks(request, large)
    assert large.opt.etag is not None and len(large.opt.etag) == 4
    own = aiocoap.Message(code=aiocoap.CONTENT, payload=bytes(300), etag=b"mine")
    tag_blocks(request, own)
    assert own.opt.etag == b"mine"
