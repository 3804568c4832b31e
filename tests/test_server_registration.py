"""The embedded server's Registration interface and Send, driven by independent CoAP peers:
aiocoap client requests over real loopback UDP and libcoap's coap-client."""

import asyncio
import shutil

import aiocoap
import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lwm2m_client.server import EXPIRED, REGISTERED, LwM2MServer, ServerEvent
from lwm2m_client.server.registry import (
    RegistrationRejected,
    parse_object_links,
    parse_register_query,
)

OBJECTS_11 = b'</>;ct="110 112",</1/0>,</3/0>;ver=1.1,</5>'


@pytest.fixture
async def server():
    async with LwM2MServer(objects={}) as srv:
        yield srv


@pytest.fixture
async def peer():
    """An aiocoap context on one loopback UDP socket, like a client's single socket."""
    ctx = await aiocoap.Context.create_server_context(
        None, bind=("127.0.0.1", 0), transports=["udp6"])
    yield ctx
    await ctx.shutdown()


async def request(ctx, code, uri, payload=b"", content_format=None):
    msg = aiocoap.Message(code=code, uri=uri, payload=payload)
    if content_format is not None:
        msg.opt.content_format = content_format
    return await asyncio.wait_for(ctx.request(msg).response, 10)


async def register(ctx, server, query="ep=meter-1&lt=60&lwm2m=1.1&b=U", payload=OBJECTS_11):
    return await request(ctx, aiocoap.POST, f"{server.uri}/rd?{query}", payload, 40)


def code(msg):
    return msg.code.dotted


async def test_port_and_uri(server):
    assert server.port > 0
    assert server.uri == f"coap://127.0.0.1:{server.port}"


async def test_register_update_deregister(server, peer):
    answer = await register(peer, server, "ep=meter-1&lt=60&lwm2m=1.1&b=U&Q&sms=123&pid=p1")
    assert code(answer) == "2.01"
    location = answer.opt.location_path
    assert location[0] == "rd" and len(location) == 2

    reg = await server.wait_registered("meter-1")
    assert (reg.endpoint, reg.lifetime, reg.lwm2m_version, reg.binding) == (
        "meter-1", 60, "1.1", "U")
    assert reg.queue_mode and reg.sms == "123" and reg.profile_id == "p1"
    assert reg.objects == {1: [0], 3: [0], 5: []}
    assert reg.versions == {3: "1.1"}
    assert reg.content_formats == (110, 112)
    assert reg.root_path == "/" and reg.root_segments == ()
    assert reg.location_path == tuple(location)
    assert reg.remote.hostinfo.startswith("127.0.0.1:")
    assert server.registration("meter-1") is reg

    uri = f"{server.uri}/{'/'.join(location)}"
    answer = await request(peer, aiocoap.POST, uri + "?lt=120&b=U",
                           b"</1/0>,</3/0>,</3303/0>,</3303/1>", 40)
    assert code(answer) == "2.04"
    updated = await server.wait_updated("meter-1")
    assert updated is reg and reg.lifetime == 120
    assert reg.objects == {1: [0], 3: [0], 3303: [0, 1]}
    assert reg.updated_at >= reg.registered_at

    # An Update without parameters or payload is only a keep-alive.
    assert code(await request(peer, aiocoap.POST, uri)) == "2.04"
    await server.wait_updated("meter-1")
    assert reg.lifetime == 120 and 3303 in reg.objects

    assert code(await request(peer, aiocoap.DELETE, uri)) == "2.02"
    assert (await server.wait_deregistered("meter-1")) is reg
    assert server.registration("meter-1") is None and server.registrations == []
    # The location is gone: 4.04 for both Update and De-register (Transport 1.1 §6.4.3).
    assert code(await request(peer, aiocoap.DELETE, uri)) == "4.04"
    assert code(await request(peer, aiocoap.POST, uri)) == "4.04"


async def test_update_of_unknown_location_is_404(server, peer):
    answer = await request(peer, aiocoap.POST, f"{server.uri}/rd/nosuch?lt=60")
    assert code(answer) == "4.04"


async def test_unknown_path_and_method(server, peer):
    assert code(await request(peer, aiocoap.GET, f"{server.uri}/other")) == "4.04"
    await register(peer, server)
    reg = await server.wait_registered("meter-1")
    answer = await request(peer, aiocoap.PUT, f"{server.uri}/rd/{reg.location}")
    assert code(answer) == "4.05"


@pytest.mark.parametrize("query,payload,expected", [
    ("lt=60&lwm2m=1.0", OBJECTS_11, "4.00"),            # no endpoint name
    ("ep=&lt=60", OBJECTS_11, "4.00"),                  # empty endpoint name
    ("ep=m&lt=abc", OBJECTS_11, "4.00"),
    ("ep=m&lt=0", OBJECTS_11, "4.00"),
    ("ep=m&lt=-5", OBJECTS_11, "4.00"),
    ("ep=m&et=meter", OBJECTS_11, "4.00"),              # unknown parameter
    ("ep=m&ep=n", OBJECTS_11, "4.00"),                  # repeated parameter
    ("ep=m&b=X", OBJECTS_11, "4.00"),
    ("ep=m&Q=1&lwm2m=1.1", OBJECTS_11, "4.00"),         # Q is a flag
    ("ep=m&b=UQ&lwm2m=1.1", OBJECTS_11, "4.00"),        # 1.0 queue syntax in 1.1
    ("ep=m&lt", OBJECTS_11, "4.00"),
    ("ep=m", b"</3/0", "4.00"),                         # broken link format
    ("ep=m", b"</3/x>", "4.00"),                        # not an object link
    ("ep=m", b"</3/0/1/2>", "4.00"),
    ("ep=m&lwm2m=9.9", OBJECTS_11, "4.12"),
])
async def test_bad_register_is_rejected(server, peer, query, payload, expected):
    answer = await register(peer, server, query, payload)
    assert code(answer) == expected
    assert server.registrations == []


async def test_register_payload_must_be_link_format(server, peer):
    answer = await request(peer, aiocoap.POST, f"{server.uri}/rd?ep=m", b"</3/0>", 0)
    assert code(answer) == "4.00"
    answer = await request(peer, aiocoap.POST, f"{server.uri}/rd?ep=m", b"</3/0>")
    assert code(answer) == "2.01"  # no Content-Format at all is tolerated


async def test_defaults_and_10_queue_binding(server, peer):
    assert code(await register(peer, server, "ep=old&b=UQ", b"</1/0>,</3/0>")) == "2.01"
    reg = await server.wait_registered("old")
    assert reg.lwm2m_version == "1.0" and reg.lifetime == 86400
    assert reg.binding == "UQ" and reg.queue_mode
    answer = await request(peer, aiocoap.POST, f"{server.uri}/rd/{reg.location}?b=U")
    assert code(answer) == "2.04"
    await server.wait_updated("old")
    assert not reg.queue_mode


@pytest.mark.parametrize("query", ["ep=m", "lwm2m=1.1", "lt=x", "b=Z", "Q=0", "foo=1"])
async def test_bad_update_is_rejected(server, peer, query):
    await register(peer, server)
    reg = await server.wait_registered("meter-1")
    answer = await request(peer, aiocoap.POST, f"{server.uri}/rd/{reg.location}?{query}")
    assert code(answer) == "4.00"
    assert reg.lifetime == 60


async def test_alternate_path(server, peer):
    payload = b'</lwm2m>;rt="oma.lwm2m";ct=11543,</lwm2m/1/0>,</lwm2m/3/0>,</lwm2m/4>'
    assert code(await register(peer, server, "ep=alt&lwm2m=1.0", payload)) == "2.01"
    reg = await server.wait_registered("alt")
    assert reg.root_path == "/lwm2m" and reg.root_segments == ("lwm2m",)
    assert reg.objects == {1: [0], 3: [0], 4: []}
    assert reg.content_formats == (11543,)


async def test_reregister_replaces_registration(server, peer):
    first = await register(peer, server)
    reg1 = await server.wait_registered("meter-1")
    second = await register(peer, server, payload=b"</1/0>,</3/0>,</4/0>")
    reg2 = await server.wait_registered("meter-1")
    assert first.opt.location_path != second.opt.location_path
    assert reg2 is not reg1 and reg2.objects == {1: [0], 3: [0], 4: [0]}
    assert server.registrations == [reg2]
    old_uri = f"{server.uri}/{'/'.join(first.opt.location_path)}"
    assert code(await request(peer, aiocoap.POST, old_uri)) == "4.04"


async def test_lifetime_expiry_and_update_keeps_alive(peer):
    # lt=10 at time_scale 0.05 is 0.5 s, + 0.1 s grace.
    async with LwM2MServer(objects={}, time_scale=0.05, expiry_grace=0.1) as server:
        answer = await register(peer, server, "ep=short&lt=10")
        await server.wait_registered("short")
        uri = f"{server.uri}/{'/'.join(answer.opt.location_path)}"
        await asyncio.sleep(0.35)
        assert code(await request(peer, aiocoap.POST, uri)) == "2.04"
        await asyncio.sleep(0.4)  # past the first deadline, before the renewed one
        assert server.registration("short") is not None
        reg = await server.wait_expired("short", timeout=3)
        assert reg.endpoint == "short"
        assert server.registration("short") is None
        assert code(await request(peer, aiocoap.POST, uri)) == "4.04"


async def test_reject_register_ct(peer):
    async with LwM2MServer(objects={}, reject_register_ct=True) as server:
        assert code(await register(peer, server)) == "4.00"
        assert code(await register(peer, server, payload=b"</1/0>,</3/0>")) == "2.01"


async def test_forced_register_response_code(peer):
    async with LwM2MServer(objects={}, register_response_code="4.03") as server:
        assert code(await register(peer, server)) == "4.03"
        assert server.registrations == []


async def test_delayed_answers_arrive_as_separate_responses(peer):
    async with LwM2MServer(objects={}, response_delay=0.3) as server:
        answer = await register(peer, server)
        assert code(answer) == "2.01"
        assert answer.mtype in (aiocoap.CON, aiocoap.NON)  # not piggybacked on the ACK


async def test_blockwise_register(server, peer):
    # Over 1024 bytes of links: aiocoap's client sends it with Block1 (RFC 7959 §2.5).
    links = ",".join(f"</3303/{i}>" for i in range(150)).encode()
    assert len(links) > 1024
    assert code(await register(peer, server, "ep=big&lwm2m=1.1", links)) == "2.01"
    reg = await server.wait_registered("big")
    assert reg.objects[3303] == list(range(150))


async def test_listener_sees_events_in_order(server, peer):
    seen: list[ServerEvent] = []
    server.add_listener(seen.append)
    answer = await register(peer, server)
    await server.wait_registered("meter-1")
    await request(peer, aiocoap.DELETE, f"{server.uri}/{'/'.join(answer.opt.location_path)}")
    await server.wait_deregistered("meter-1")
    assert [e.kind for e in seen] == [REGISTERED, "deregistered"]


async def test_wait_times_out(server):
    with pytest.raises(TimeoutError):
        await server.wait_registered("nobody", timeout=0.05)
    with pytest.raises(TimeoutError):
        await server.wait_event(EXPIRED, "nobody", timeout=0.05)


# -- Send (Transport 1.1 §6.4.5) ----------------------------------------------------------

async def test_send_senml_cbor(server, peer):
    await register(peer, server)
    await server.wait_registered("meter-1")
    body = cbor2.dumps([
        {-2: "/3/0/", -3: 1700000000, 0: "9", 2: 87},
        {0: "13", 2: 1700000001, 6: 5},
        {-2: "/6/0/", 0: "0", 2: 43.61092},
    ])
    answer = await request(peer, aiocoap.POST, f"{server.uri}/dp", body, 112)
    assert code(answer) == "2.04"
    records = await server.wait_send("meter-1")
    assert records == [
        ((3, 0, 9), 87, 1700000000),
        ((3, 0, 13), 1700000001, 1700000005),
        ((6, 0, 0), 43.61092, 1700000000),
    ]


async def test_send_senml_json(server, peer):
    await register(peer, server)
    await server.wait_registered("meter-1")
    body = b'[{"n":"/6/0/0","v":43.61092},{"n":"/6/0/1","v":3.87723},{"n":"/4/0/2","v":-49}]'
    answer = await request(peer, aiocoap.POST, f"{server.uri}/dp", body, 110)
    assert code(answer) == "2.04"
    records = await server.wait_send("meter-1")
    assert [(p, v) for p, v, _ in records] == [
        ((6, 0, 0), 43.61092), ((6, 0, 1), 3.87723), ((4, 0, 2), -49)]


async def test_send_errors(server, peer):
    body = cbor2.dumps([{0: "/3/0/9", 2: 87}])
    # Nobody registered from this address yet.
    assert code(await request(peer, aiocoap.POST, f"{server.uri}/dp", body, 112)) == "4.00"
    await register(peer, server)
    await server.wait_registered("meter-1")
    assert code(await request(peer, aiocoap.POST, f"{server.uri}/dp", body, 0)) == "4.15"
    assert code(await request(peer, aiocoap.POST, f"{server.uri}/dp", body)) == "4.15"
    garbage = b"\xff\x00garbage"
    assert code(await request(peer, aiocoap.POST, f"{server.uri}/dp", garbage, 112)) == "4.00"
    with pytest.raises(TimeoutError):
        await server.wait_send("meter-1", timeout=0.05)


# -- parsing helpers ----------------------------------------------------------------------

def test_parse_register_query_fields():
    fields = parse_register_query(["ep=a", "lt=30", "lwm2m=1.2", "b=UT", "Q"])
    assert fields == {"endpoint": "a", "lifetime": 30, "lwm2m_version": "1.2",
                      "binding": "UT", "queue_mode": True, "sms": None, "profile_id": None}


def test_parse_object_links_register_vector():
    # LWM2M-FACTS §11 link-format Register example.
    payload = (b'</>;ct="110 112 60",</1/0>,</1/1>,</2/0>,</2/1>,</2/2>,</2/3>,</2/4>,'
               b'</3/0>,</4/0>,</5>')
    fields = parse_object_links(payload)
    assert fields["objects"] == {1: [0, 1], 2: [0, 1, 2, 3, 4], 3: [0], 4: [0], 5: []}
    assert fields["content_formats"] == (110, 112, 60)
    assert fields["root_path"] == "/"


VALID_LINKS = [b'</>;ct="110 112",</1/0>,</3/0>;ver=1.1', b'</lwm2m>;rt="oma.lwm2m",</lwm2m/3/0>']
MUTATED_LINKS = st.tuples(st.sampled_from(VALID_LINKS), st.integers(0, 40),
                          st.sampled_from(list(b'<>;,"/= 9'))).map(
    lambda t: t[0][:t[1]] + bytes([t[2]]) + t[0][t[1] + 1:])


@settings(max_examples=300)
@given(st.binary(max_size=200) | MUTATED_LINKS)
def test_parse_object_links_fuzz(payload):
    # Any payload: a result or RegistrationRejected (which becomes 4.00), nothing else.
    try:
        fields = parse_object_links(payload)
    except RegistrationRejected as exc:
        assert exc.code == "4.00"
    else:
        assert all(0 <= oid <= 65535 for oid in fields["objects"])


@settings(max_examples=300)
@given(st.lists(st.text(alphabet="epltwm2bQsdi=.01UX&", max_size=12), max_size=6))
def test_parse_register_query_fuzz(queries):
    try:
        fields = parse_register_query(queries)
    except RegistrationRejected as exc:
        assert exc.code in ("4.00", "4.12")
    else:
        assert fields["endpoint"] and fields["lifetime"] >= 1


def test_parse_object_links_rejects_link_outside_root():
    with pytest.raises(RegistrationRejected) as info:
        parse_object_links(b'</lwm2m>;rt="oma.lwm2m",</3/0>')
    assert info.value.code == "4.00"


# -- libcoap as an independent peer --------------------------------------------------------

COAP_CLIENT = shutil.which("coap-client-notls") or shutil.which("coap-client")


async def coap_client(*args: str) -> str:
    """Run coap-client without blocking the loop the server runs on; returns what it
    printed (it reports error answers as "4.00 <diagnostic>" on stderr)."""
    proc = await asyncio.create_subprocess_exec(
        COAP_CLIENT, "-B", "5", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 15)
    assert proc.returncode == 0, err.decode()
    return out.decode() + err.decode()


@pytest.mark.interop
@pytest.mark.skipif(COAP_CLIENT is None, reason="libcoap coap-client not installed")
async def test_libcoap_register_and_deregister(server):
    await coap_client("-m", "post", "-t", "40", "-e", "</1/0>,</3/0>,</3303/0>",
                      f"{server.uri}/rd?ep=libcoap&lt=300&lwm2m=1.1&b=U")
    reg = await server.wait_registered("libcoap")
    assert reg.objects == {1: [0], 3: [0], 3303: [0]} and reg.lifetime == 300
    await coap_client("-m", "post", f"{server.uri}/rd/{reg.location}?lt=600")
    assert (await server.wait_updated("libcoap")).lifetime == 600
    await coap_client("-m", "delete", f"{server.uri}/rd/{reg.location}")
    assert (await server.wait_deregistered("libcoap")) is reg
    assert server.registration("libcoap") is None


@pytest.mark.interop
@pytest.mark.skipif(COAP_CLIENT is None, reason="libcoap coap-client not installed")
async def test_libcoap_bad_register_gets_400(server):
    out = await coap_client("-m", "post", "-t", "40", "-e", "</3/0>", f"{server.uri}/rd?lt=60")
    assert out.startswith("4.00 missing endpoint name")
    assert server.registrations == []
