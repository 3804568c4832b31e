"""DM/IR operations of the embedded server against a fake LwM2M client built on aiocoap.

The fake client serves hand-made payloads (spec vectors, cbor2) from one aiocoap context and
registers from that same context, so the server must reach it through the registered address.
"""

import asyncio

import aiocoap
import aiocoap.resource as resource
import cbor2
import pytest
from spec_vectors import (
    DEVICE_6_LWM2M_CBOR_HEX,
    DEVICE_DISCOVER,
    DEVICE_RECORDS,
    DEVICE_SENML_CBOR_HEX,
    DEVICE_TLV_HEX,
)

from lwm2m_client.core.dm.types import Objlnk
from lwm2m_client.models import shipped_objects
from lwm2m_client.server import LwM2MServer, LwM2MServerError
from lwm2m_client.server.operations import attribute_value

# LWM2M-FACTS §11: TLV vector 1 (/3/0, 121 bytes), the SenML CBOR /3/0 vector (196 bytes)
# and the Discover /3/0 example.
TLV_3_0 = bytes.fromhex(DEVICE_TLV_HEX)
SENML_CBOR_3_0 = bytes.fromhex(DEVICE_SENML_CBOR_HEX)
DISCOVER_3_0 = DEVICE_DISCOVER.encode()
DEVICE_VALUES = {path: value for path, _, value in DEVICE_RECORDS}


def answer(code, payload=b"", content_format=None, **options):
    msg = aiocoap.Message(code=code, payload=payload, **options)
    if content_format is not None:
        msg.opt.content_format = content_format
    return msg


class RecordingSite(resource.Site):
    """Remembers every request with its full path (the Site strips it for the resource)."""

    def __init__(self, received):
        super().__init__()
        self.received = received

    async def render_to_pipe(self, pipe):
        self.received.append(pipe.request)
        return await super().render_to_pipe(pipe)


class Recorder(resource.Resource):
    """Answers every method with a fixed response."""

    def __init__(self, client, responses):
        super().__init__()
        self.client = client
        self.responses = responses

    async def render(self, request):
        reply = self.responses.get(request.code)
        if reply is None:
            return answer(aiocoap.METHOD_NOT_ALLOWED)
        return reply(request) if callable(reply) else reply


class Device(Recorder):
    """/3/0: Read in TLV or SenML CBOR, Discover, Write."""

    def __init__(self, client):
        super().__init__(client, {aiocoap.GET: self.get, aiocoap.PUT: answer(aiocoap.CHANGED),
                                  aiocoap.POST: answer(aiocoap.CHANGED)})

    def get(self, request):
        formats = {11542: TLV_3_0, 112: SENML_CBOR_3_0, 40: DISCOVER_3_0}
        accept = request.opt.accept
        if accept is None or int(accept) not in formats:
            return answer(aiocoap.NOT_ACCEPTABLE)
        return answer(aiocoap.CONTENT, formats[int(accept)], int(accept))


class Clock(resource.ObservableResource):
    """/3/0/13, observable; SenML CBOR or TLV by Accept."""

    def __init__(self, client):
        super().__init__()
        self.client = client
        self.now = 1700000000

    observation_count = 0

    def update_observation_count(self, newcount):
        self.observation_count = newcount

    def tick(self, seconds=1):
        self.now += seconds
        self.updated_state()

    async def render_get(self, request):
        if request.opt.accept is not None and int(request.opt.accept) == 11542:
            return answer(aiocoap.CONTENT, bytes.fromhex("C40D") + self.now.to_bytes(4, "big"),
                          11542)
        return answer(aiocoap.CONTENT, cbor2.dumps([{0: "/3/0/13", 2: self.now}]), 112)


class Composite(resource.ObservableResource):
    """/: Read-/Observe-Composite (FETCH) and Write-Composite (iPATCH)."""

    def __init__(self, client, payload):
        super().__init__()
        self.client = client
        self.payload = payload

    async def render_fetch(self, request):
        return answer(aiocoap.CONTENT, self.payload, 112)

    async def render_ipatch(self, request):
        return answer(aiocoap.CHANGED)


class FakeClient:
    """A minimal LwM2M client on aiocoap: one socket, fixed resources."""

    def __init__(self, root=()):
        self.received = []
        self.root = root
        self.site = RecordingSite(self.received)
        self.clock = Clock(self)
        self.location = None
        composite = cbor2.dumps([{0: "/3/0/0", 3: "Open Mobile Alliance"},
                                 {0: "/3/0/9", 2: 100}, {0: "/1/0/1", 2: 86400}])
        self.routes = {
            ("3", "0"): Device(self),
            ("3", "0", "13"): self.clock,
            ("3", "0", "1"): Recorder(self, {aiocoap.GET: answer(
                aiocoap.CONTENT, b"Lightweight M2M Client", 0)}),
            ("3", "0", "14"): Recorder(self, {aiocoap.PUT: answer(aiocoap.CHANGED)}),
            ("3", "0", "9"): Recorder(self, {aiocoap.PUT: answer(aiocoap.CHANGED),
                                             aiocoap.GET: answer(aiocoap.UNAUTHORIZED)}),
            ("3", "0", "4"): Recorder(self, {aiocoap.POST: answer(aiocoap.CHANGED)}),
            ("1",): Recorder(self, {aiocoap.POST: self.create}),
            ("1", "5"): Recorder(self, {aiocoap.DELETE: answer(aiocoap.DELETED)}),
            (): Composite(self, composite),
        }
        for path, res in self.routes.items():
            self.site.add_resource(root + path, res)

    def create(self, request):
        if b"\x00\x01" in request.payload:  # the test's "already exists" marker: SSID 1
            return answer(aiocoap.BAD_REQUEST)
        location = self.root + ("1", "5")
        return answer(aiocoap.CREATED, location_path=location)

    async def start(self):
        self.ctx = await aiocoap.Context.create_server_context(
            self.site, bind=("127.0.0.1", 0), transports=["udp6"])

    async def register(self, server, endpoint="fake", version="1.1", links=None):
        prefix = "/" + "/".join(self.root) if self.root else ""
        if links is None:
            root = f'<{prefix}>;rt="oma.lwm2m",' if self.root else ""
            links = f"{root}<{prefix}/1/0>,<{prefix}/3/0>"
        msg = aiocoap.Message(code=aiocoap.POST, payload=links.encode(),
                              uri=f"{server.uri}/rd?ep={endpoint}&lt=60&lwm2m={version}")
        msg.opt.content_format = 40
        response = await self.ctx.request(msg).response
        assert response.code == aiocoap.CREATED
        self.location = response.opt.location_path
        return await server.wait_registered(endpoint)

    def last(self):
        return self.received[-1]


@pytest.fixture
async def server():
    async with LwM2MServer(objects=shipped_objects(), request_timeout=5) as srv:
        yield srv


@pytest.fixture
async def client():
    fake = FakeClient()
    await fake.start()
    yield fake
    await fake.ctx.shutdown()


async def test_read_tlv_vector_for_10_client(server, client):
    await client.register(server, version="1.0")
    response = await server.read("fake", "/3/0")
    assert response.ok and response.code == "2.05" and response.code_int == 0x45
    assert int(client.last().opt.accept) == 11542  # TLV is the 1.0 default
    assert response.content_format == 11542 and response.payload == TLV_3_0
    assert response.values == DEVICE_VALUES


async def test_read_senml_cbor_vector_for_11_client(server, client):
    await client.register(server, version="1.1")
    response = await server.read("fake", (3, 0))
    assert int(client.last().opt.accept) == 112
    assert response.values == DEVICE_VALUES


async def test_read_plain_text_single_resource(server, client):
    await client.register(server)
    response = await server.read("fake", "/3/0/1", format=0)
    assert response.value == "Lightweight M2M Client"


async def test_error_codes_are_returned(server, client):
    await client.register(server)
    response = await server.read("fake", "/3/0/9")
    assert not response.ok and response.code == "4.01" and response.values == {}
    with pytest.raises(LwM2MServerError) as info:
        response.raise_for_status()
    assert info.value.response is response
    response = await server.read("fake", "/3/0", format=0)
    assert response.code == "4.06"
    assert (await server.read("fake", "/77/0")).code == "4.04"


async def test_operations_need_a_registration(server):
    with pytest.raises(LwM2MServerError):
        await server.read("nobody", "/3/0")


async def test_discover(server, client):
    await client.register(server)
    links = await server.discover("fake", "/3/0", depth=2)
    request = client.last()
    assert int(request.opt.accept) == 40 and request.opt.uri_query == ("depth=2",)
    assert links[0] == ("/3/0", {"pmin": "10", "pmax": "60"})
    assert ("/3/0/7", {"dim": "2", "gt": "50", "lt": "42.2"}) in links
    assert len(links) == 16
    with pytest.raises(LwM2MServerError) as info:
        await server.discover("fake", "/77")
    assert info.value.response.code == "4.04"


async def test_write_resource_tlv_and_senml(server, client):
    await client.register(server, version="1.0")
    response = await server.write("fake", "/3/0/14", "+01:00")
    assert response.code == "2.04"
    request = client.last()
    assert request.code == aiocoap.PUT and int(request.opt.content_format) == 11542
    assert request.payload == bytes.fromhex("C60E2B30313A3030")

    response = await server.write("fake", "/3/0/14", "+01:00", format=112)
    assert cbor2.loads(client.last().payload) == [{-2: "/3/0/14", 3: "+01:00"}] or \
        cbor2.loads(client.last().payload) == [{0: "/3/0/14", 3: "+01:00"}]


async def test_write_instance_partial_update_typed_by_model(server, client):
    await client.register(server, version="1.0")
    # rid 13 is Time, 14 String, 7 a multiple Integer: types come from the object model.
    response = await server.write("fake", "/3/0", {13: 1367491215, 14: "+02:00",
                                                  7: {0: 3800, 1: 5000}}, replace=False)
    assert response.ok
    request = client.last()
    assert request.code == aiocoap.POST
    assert request.payload == bytes.fromhex(
        "880708 42000ED842011388 C40D5182428F C60E2B30323A3030".replace(" ", ""))


async def test_write_rejects_values_of_the_wrong_type(server, client):
    await client.register(server)
    with pytest.raises(LwM2MServerError):
        await server.write("fake", "/3/0/13", "not a time")
    with pytest.raises(LwM2MServerError):
        await server.write("fake", "/3/0", 5)


async def test_write_attributes(server, client):
    await client.register(server)
    response = await server.write_attributes("fake", "/3/0/9", pmin=10, pmax=60, gt=50.5,
                                             st=0.25, unset=["lt"])
    assert response.code == "2.04"
    request = client.last()
    assert request.code == aiocoap.PUT and request.payload == b""
    assert request.opt.uri_query == ("pmin=10", "pmax=60", "gt=50.5", "lt", "st=0.25")
    with pytest.raises(ValueError):
        await server.write_attributes("fake", "/3/0/9", dim=3)


def test_attribute_value_rendering():
    assert attribute_value(10) == "10"
    assert attribute_value(45.0) == "45"
    assert attribute_value(42.2) == "42.2"
    assert attribute_value(True) == "1"
    assert attribute_value(1e-05) == "0.00001"


async def test_execute(server, client):
    await client.register(server)
    assert (await server.execute("fake", "/3/0/4")).code == "2.04"
    assert client.last().payload == b""
    assert (await server.execute("fake", "/3/0/4", "0,1='x'")).code == "2.04"
    request = client.last()
    assert request.code == aiocoap.POST and request.payload == b"0,1='x'"
    assert int(request.opt.content_format) == 0


async def test_create_and_delete(server, client):
    await client.register(server)
    iid = await server.create("fake", 1, {0: 2, 1: 300, 6: False, 7: "U"})
    assert iid == 5
    request = client.last()
    assert request.code == aiocoap.POST and request.opt.uri_path == ("1",)
    # No instance id: bare Resource TLVs (Transport 1.1 §6.4.4).
    assert int(request.opt.content_format) == 11542
    assert request.payload == bytes.fromhex("C10002C201012CC10600C10755")
    with pytest.raises(LwM2MServerError) as info:
        await server.create("fake", 1, {0: 1}, iid=7, format=11542)  # refused: SSID 1
    assert info.value.response.code == "4.00"
    assert client.last().payload == bytes.fromhex("0307C10001")  # wrapped in instance 7
    iid = await server.create("fake", 1, {0: 3}, iid=9)
    assert iid == 5  # Location-Path wins over the requested id
    assert cbor2.loads(client.last().payload) == [{-2: "/1/9/", 0: "0", 2: 3}] or \
        cbor2.loads(client.last().payload) == [{-2: "/1/", 0: "9/0", 2: 3}] or \
        cbor2.loads(client.last().payload) == [{0: "/1/9/0", 2: 3}]
    assert (await server.delete("fake", "/1/5")).code == "2.02"
    assert client.last().code == aiocoap.DELETE


async def test_read_and_write_composite(server, client):
    await client.register(server)
    response = await server.read_composite("fake", ["/3/0/0", "/3/0/9", (1, 0, 1)])
    request = client.last()
    assert request.code == aiocoap.FETCH and request.opt.uri_path == ()
    assert int(request.opt.content_format) == 112 and int(request.opt.accept) == 112
    assert cbor2.loads(request.payload) == [{0: "/3/0/0"}, {0: "/3/0/9"}, {0: "/1/0/1"}]
    assert response.values == {(3, 0, 0): "Open Mobile Alliance", (3, 0, 9): 100,
                               (1, 0, 1): 86400}

    response = await server.write_composite("fake", {"/3/0/14": "+03:00", (1, 0, 1): 600})
    assert response.code == "2.04"
    request = client.last()
    assert request.code == aiocoap.iPATCH
    records = cbor2.loads(request.payload)
    names = sorted((r.get(-2, "") + r.get(0, "")) for r in records)
    assert names == ["/1/0/1", "/3/0/14"]


async def test_observe_notifications_and_cancel(server, client):
    await client.register(server)
    obs = await server.observe("fake", "/3/0/13")
    assert obs.active and obs.response.observe is not None
    assert obs.response.value == 1700000000
    assert client.last().opt.observe == 0
    client.clock.tick()
    first = await obs.next(timeout=5)
    client.clock.tick()
    second = await obs.next(timeout=5)
    assert (first.value, second.value) == (1700000001, 1700000002)
    assert first.observe is not None and second.observe is not None
    assert first.observe != second.observe

    server.cancel_observe(obs)
    assert not obs.active
    with pytest.raises(StopAsyncIteration):
        await obs.next(timeout=1)
    # aiocoap still ACKs the first notification after the cancellation and answers the
    # next one with RST (RFC 7641 §3.6), after which the fake client forgets us.
    for _ in range(50):
        if client.clock.observation_count == 0:
            break
        client.clock.tick()
        await asyncio.sleep(0.05)
    assert client.clock.observation_count == 0


async def test_observe_tlv_async_iteration(server, client):
    await client.register(server, version="1.0")
    obs = await server.observe("fake", "/3/0/13")
    assert obs.response.content_format == 11542
    client.clock.tick(5)
    async for notification in obs:
        assert notification.values == {(3, 0, 13): 1700000005}
        break


async def test_observe_of_unobservable_path_ends_at_once(server, client):
    await client.register(server)
    obs = await server.observe("fake", "/3/0/9")
    assert obs.response.code == "4.01" and not obs.active
    assert [n async for n in obs] == []


async def test_reregister_cancels_observations(server, client):
    await client.register(server)
    obs = await server.observe("fake", "/3/0/13")
    await client.register(server)
    assert not obs.active


async def test_deregister_cancels_observations(server, client):
    await client.register(server)
    obs = await server.observe("fake", "/3/0/13")
    delete = aiocoap.Message(code=aiocoap.DELETE, uri=f"{server.uri}/{'/'.join(client.location)}")
    assert (await client.ctx.request(delete).response).code == aiocoap.DELETED
    await server.wait_deregistered("fake")
    assert not obs.active


async def test_alternate_path_prefixes_requests(server):
    fake = FakeClient(root=("lwm2m",))
    await fake.start()
    try:
        reg = await fake.register(server, version="1.0")
        assert reg.root_path == "/lwm2m"
        response = await server.read("fake", "/3/0")
        assert fake.last().opt.uri_path == ("lwm2m", "3", "0")
        assert response.values == DEVICE_VALUES
    finally:
        await fake.ctx.shutdown()


async def test_requests_follow_the_address_of_the_last_update(server, client):
    await client.register(server)
    other = FakeClient()
    await other.start()
    try:
        # The same registration updated from a new address (a NAT rebinding).
        msg = aiocoap.Message(code=aiocoap.POST,
                              uri=f"{server.uri}/{'/'.join(client.location)}")
        assert (await other.ctx.request(msg).response).code == aiocoap.CHANGED
        await server.wait_updated("fake")
        await server.read("fake", "/3/0/1", format=0)
        assert other.received and other.last().opt.uri_path == ("3", "0", "1")
    finally:
        await other.ctx.shutdown()


async def test_unreachable_client_raises(client):
    async with LwM2MServer(objects=shipped_objects(), request_timeout=0.3) as server:
        await client.register(server)
        await client.ctx.shutdown()
        with pytest.raises(LwM2MServerError):
            await server.read("fake", "/3/0")
        await client.start()  # the fixture shuts it down again


def test_objlnk_write_records():
    server = LwM2MServer(objects=shipped_objects())
    records = server.codec.records((2, 0), {0: 3, 1: 0, 2: {1: 7}, 3: 1})
    assert records[0] == ((2, 0, 0), 2, 3)
    link = server.codec.records((), {"/1/0/1": 60, "/65/0/0/0": Objlnk(66, 0)})
    assert link[1] == ((65, 0, 0, 0), 8, Objlnk(66, 0))


async def test_observe_composite(server, client):
    await client.register(server)
    obs = await server.observe_composite("fake", ["/3/0/9", "/1/0/1"])
    request = client.last()
    assert request.code == aiocoap.FETCH and request.opt.observe == 0
    assert cbor2.loads(request.payload) == [{0: "/3/0/9"}, {0: "/1/0/1"}]
    assert obs.composite and obs.active
    assert obs.response.values[(3, 0, 9)] == 100
    client.routes[()].payload = cbor2.dumps([{0: "/3/0/9", 2: 42}, {0: "/1/0/1", 2: 60}])
    client.routes[()].updated_state()
    notification = await obs.next(timeout=5)
    assert notification.values == {(3, 0, 9): 42, (1, 0, 1): 60}


async def test_read_lwm2m_cbor_vector(server, client):
    await client.register(server)
    # LWM2M-FACTS §11: LwM2M CBOR /3/0/6 = {[3,0,6]: {0: 1, 1: 5}}.
    body = bytes.fromhex(DEVICE_6_LWM2M_CBOR_HEX)
    client.routes[("3", "0", "6")] = route = Recorder(client, {aiocoap.GET: answer(
        aiocoap.CONTENT, body, 11544)})
    client.site.add_resource(("3", "0", "6"), route)
    response = await server.read("fake", "/3/0/6", format=11544)
    assert int(client.last().opt.accept) == 11544
    assert response.values == {(3, 0, 6, 0): 1, (3, 0, 6, 1): 5}


async def test_send_lwm2m_cbor_from_the_registered_socket(server, client):
    await client.register(server, version="1.2")
    body = bytes.fromhex("A183030009186F")  # {[3,0,9]: 111}
    msg = aiocoap.Message(code=aiocoap.POST, uri=f"{server.uri}/dp", payload=body)
    msg.opt.content_format = 11544
    assert (await client.ctx.request(msg).response).code == aiocoap.CHANGED
    assert await server.wait_send("fake") == [((3, 0, 9), 111, None)]
