# The client core (registration state machine, engine, DM handling) under MicroPython:
# a whole Register exchange and DM requests, bytes in and bytes out, no sockets.

from lwm2m_client.core.client import events as ev
from lwm2m_client.core.client import setup
from lwm2m_client.core.client.engine import ClientConfig, ClientCore
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.coap import options as o
from lwm2m_client.core.content import CF_LINK, CF_TEXT, CF_TLV, link, tlv
from lwm2m_client.core.dm import model
from lwm2m_client.core.dm import types as t
from lwm2m_client.core.dm.tree import ObjectTree

SERVER = ("10.0.0.1", 5683)


class Lcg:
    """A deterministic ``getrandbits`` source (no random module in the core's tests)."""

    def __init__(self, seed):
        self.state = seed

    def getrandbits(self, n):
        out = 0
        got = 0
        while got < n:
            self.state = (self.state * 1103515245 + 12345) & 0x7FFFFFFF
            out = (out << 16) | (self.state >> 15)
            got += 16
        return out & ((1 << n) - 1)


def _res(rid, name, ops, typ, multiple=False, mandatory=False):
    return model.ResourceDef(rid, name, ops, multiple, mandatory, typ)


def _defs():
    r, rw, e = model.OP_R, model.OP_RW, model.OP_E
    sec = model.ObjectDef(0, "LwM2M Security", resources={
        0: _res(0, "URI", 0, t.T_STRING), 1: _res(1, "Bootstrap", 0, t.T_BOOLEAN),
        2: _res(2, "Mode", 0, t.T_INTEGER), 3: _res(3, "Identity", 0, t.T_OPAQUE),
        4: _res(4, "Server Key", 0, t.T_OPAQUE), 5: _res(5, "Secret", 0, t.T_OPAQUE),
        10: _res(10, "SSID", 0, t.T_INTEGER), 11: _res(11, "Hold Off", 0, t.T_INTEGER)})
    srv = model.ObjectDef(1, "LwM2M Server", resources={
        0: _res(0, "SSID", r, t.T_INTEGER), 1: _res(1, "Lifetime", rw, t.T_INTEGER),
        4: _res(4, "Disable", e, t.T_NONE), 5: _res(5, "Disable Timeout", rw, t.T_INTEGER),
        6: _res(6, "Storing", rw, t.T_BOOLEAN), 7: _res(7, "Binding", rw, t.T_STRING),
        8: _res(8, "Update Trigger", e, t.T_NONE)})
    dev = model.ObjectDef(3, "Device", multiple=False, resources={
        0: _res(0, "Manufacturer", r, t.T_STRING), 1: _res(1, "Model", r, t.T_STRING),
        2: _res(2, "Serial", r, t.T_STRING), 3: _res(3, "Firmware", r, t.T_STRING),
        4: _res(4, "Reboot", e, t.T_NONE),
        11: _res(11, "Error Code", r, t.T_INTEGER, multiple=True),
        14: _res(14, "UTC Offset", rw, t.T_STRING),
        16: _res(16, "Binding", r, t.T_STRING)})
    return [sec, srv, dev]


def _client():
    tree = ObjectTree(_defs())
    setup.add_security(tree, 0, "coap://10.0.0.1:5683", ssid=1)
    setup.add_server(tree, 0, 1, lifetime=300)
    tree.create_instance(3, 0, {0: "ACME", 1: "M1", 2: "SN-7", 3: "1.0",
                                11: {0: 0}, 14: "+01:00", 16: "U"})
    core = ClientCore(ClientConfig("mp-meter"), tree, Lcg(7))
    core.set_address(1, SERVER)
    return core, tree


def register(core, location="ab12", now=10):
    """Start ``core`` and answer its Register with 2.01 at /rd/``location``; returns
    the Register message. Shared by the scripts that need a registered client."""
    core.start(0)
    core.handle_timer(core.get_timer())
    (data, addr), = core.datagrams_to_send()
    reg = m.decode(data)
    ack = m.Message(m.ACK, m.CREATED, reg.mid, reg.token)
    ack.location_path = ["rd", location]
    core.receive_datagram(m.to_bytes(ack), SERVER, now)
    return reg


def _registered():
    core, tree = _client()
    reg = register(core)
    return core, tree, reg


def _request(core, code, path, mid, accept=None, cf=None, payload=b""):
    req = m.Message(m.CON, code, mid, b"\x01\x02")
    req.uri_path = path
    if accept is not None:
        req.accept = accept
    if cf is not None:
        req.content_format = cf
    req.payload = payload
    core.receive_datagram(m.to_bytes(req), SERVER, 20)
    (data, _), = core.datagrams_to_send()
    return m.decode(data)


def test_register_request_and_registered_event():
    core, tree, reg = _registered()
    assert reg.code == m.POST and reg.uri_path == "/rd"
    assert reg.uri_query == ["ep=mp-meter", "lt=300", "lwm2m=1.1", "b=U"]
    assert reg.content_format == CF_LINK
    targets = [target for target, _ in link.decode_links(bytes(reg.payload))]
    assert "/1/0" in targets and "/3/0" in targets and "/0/0" not in targets
    assert core.next_event() == ev.Registered(1, ["rd", "ab12"])
    # Update due at lifetime - min(lifetime / 2, 93 s) after the 2.01.
    assert core.get_timer() == 10 + 207000


def test_read_instance_as_tlv_and_resource_as_text():
    core, tree, _ = _registered()
    resp = _request(core, m.GET, "/3/0", 0x100, accept=CF_TLV)
    assert resp.mtype == m.ACK and resp.code == m.CONTENT and resp.content_format == CF_TLV
    values = dict(tlv.decode(bytes(resp.payload), (3, 0), tree.type_of))
    assert values[(3, 0, 0)] == "ACME" and values[(3, 0, 11, 0)] == 0
    resp = _request(core, m.GET, "/3/0/2", 0x101, accept=CF_TEXT)
    assert bytes(resp.payload) == b"SN-7"


def test_errors_and_write():
    core, tree, _ = _registered()
    assert _request(core, m.GET, "/0/0", 0x200).code == m.UNAUTHORIZED
    assert _request(core, m.GET, "/9/0", 0x201).code == m.NOT_FOUND
    assert _request(core, m.PUT, "/3/0/0", 0x202, cf=CF_TEXT, payload=b"x").code == \
        m.METHOD_NOT_ALLOWED
    assert _request(core, m.PUT, "/3/0/14", 0x203, cf=CF_TEXT, payload=b"+02:00").code == \
        m.CHANGED
    assert tree.get((3, 0, 14)) == "+02:00"
    assert _request(core, m.POST, "/3/0/4", 0x204).code == m.NOT_FOUND  # no reboot handler


def test_update_trigger_sends_update_after_the_response():
    core, tree, _ = _registered()
    req = m.Message(m.CON, m.POST, 0x300, b"\x09")
    req.uri_path = "/1/0/8"
    core.receive_datagram(m.to_bytes(req), SERVER, 50)
    out = [m.decode(d) for d, _ in core.datagrams_to_send()]
    assert out[0].code == m.CHANGED and out[0].mtype == m.ACK
    assert out[1].code == m.POST and out[1].uri_path == "/rd/ab12"


def test_large_read_goes_block_wise():
    core, tree, _ = _registered()
    tree.set((3, 0, 1), "M" * 700)
    resp = _request(core, m.GET, "/3/0", 0x400, accept=CF_TLV)
    num, more, szx = resp.block2
    assert num == 0 and more and o.block_size(szx) == 512 and len(resp.payload) == 512
    assert resp.size2 > 700
