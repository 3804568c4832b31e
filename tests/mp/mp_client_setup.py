# The set-up helpers of core/client/setup.py under MicroPython, on hand-built minimal
# definitions of Objects 0, 1, 3 and 4 (the XML loader is CPython only).
from mpcheck import raises
from spec_vectors import SERVER_TLV_HEX

from lwm2m_client.core.client import setup
from lwm2m_client.core.content import tlv
from lwm2m_client.core.dm import types as t
from lwm2m_client.core.dm.model import OP_E, OP_R, OP_RW, ObjectDef, Range, ResourceDef
from lwm2m_client.core.dm.tree import ObjectTree
from lwm2m_client.core.errors import MethodNotAllowed, NotFound, UsageError


def _res(rid, ops, typ, multiple=False, mandatory=False, range_=None):
    return ResourceDef(rid, "r%d" % rid, ops, multiple, mandatory, typ, range_)


def _tree():
    security = ObjectDef(0, "Security", resources={
        0: _res(0, OP_RW, t.T_STRING, mandatory=True, range_=Range("len", 0, 255)),
        1: _res(1, OP_RW, t.T_BOOLEAN, mandatory=True),
        2: _res(2, OP_RW, t.T_INTEGER, mandatory=True, range_=Range("num", 0, 4)),
        3: _res(3, OP_RW, t.T_OPAQUE, mandatory=True),
        4: _res(4, OP_RW, t.T_OPAQUE, mandatory=True),
        5: _res(5, OP_RW, t.T_OPAQUE, mandatory=True),
        10: _res(10, OP_RW, t.T_INTEGER, range_=Range("num", 1, 65534)),
        11: _res(11, OP_RW, t.T_INTEGER),
    })
    server = ObjectDef(1, "Server", resources={
        0: _res(0, OP_R, t.T_INTEGER, mandatory=True, range_=Range("num", 1, 65534)),
        1: _res(1, OP_RW, t.T_INTEGER, mandatory=True),
        5: _res(5, OP_RW, t.T_INTEGER),
        6: _res(6, OP_RW, t.T_BOOLEAN, mandatory=True),
        7: _res(7, OP_RW, t.T_STRING, mandatory=True),
        8: _res(8, OP_E, t.T_NONE, mandatory=True),
        14: _res(14, OP_RW, t.T_UNSIGNED),
        16: _res(16, OP_R, t.T_BOOLEAN),
        17: _res(17, OP_RW, t.T_UNSIGNED),
        18: _res(18, OP_RW, t.T_UNSIGNED),
        19: _res(19, OP_RW, t.T_UNSIGNED),
        20: _res(20, OP_RW, t.T_UNSIGNED),
    })
    device = ObjectDef(3, "Device", multiple=False, resources={
        0: _res(0, OP_R, t.T_STRING),
        1: _res(1, OP_R, t.T_STRING),
        2: _res(2, OP_R, t.T_STRING),
        3: _res(3, OP_R, t.T_STRING),
        4: _res(4, OP_E, t.T_NONE, mandatory=True),
        5: _res(5, OP_E, t.T_NONE),
        11: _res(11, OP_R, t.T_INTEGER, multiple=True, mandatory=True,
                 range_=Range("num", 0, 32)),
        12: _res(12, OP_E, t.T_NONE),
        13: _res(13, OP_RW, t.T_TIME),
        16: _res(16, OP_R, t.T_STRING, mandatory=True),
    })
    connectivity = ObjectDef(4, "Connectivity", multiple=False, resources={
        0: _res(0, OP_R, t.T_INTEGER, mandatory=True, range_=Range("num", 0, 50)),
        1: _res(1, OP_R, t.T_INTEGER, multiple=True, mandatory=True),
        2: _res(2, OP_R, t.T_INTEGER, mandatory=True),
        4: _res(4, OP_R, t.T_STRING, multiple=True, mandatory=True),
    })
    return ObjectTree([security, server, device, connectivity])


def test_server_tlv_vector():
    # LWM2M-FACTS section 11, vector 4: /1 = {SSID 1, lt 86400, res 6 true, "U"}.
    tree = _tree()
    setup.add_server(tree, 0, 1)
    buf = bytearray(32)
    n = tlv.encode_into(buf, tree.read((1,)), (1,))
    assert bytes(buf[:n]) == bytes.fromhex(SERVER_TLV_HEX)


def test_server_params_defaults_and_values():
    tree = _tree()
    setup.add_server(tree, 0, 5, lifetime=120, binding="UQ")
    p = setup.server_params(tree, 0)
    assert (p.ssid, p.lifetime, p.binding, p.queue) == (5, 120, "U", True)
    assert (p.initial_delay, p.retry_count, p.retry_timer) == (0, 5, 60)
    assert (p.sequence_delay, p.sequence_retry_count) == (86400, 1)
    assert p.bootstrap_on_failure is True and p.disable_timeout == 86400
    setup.add_server(tree, 1, 6, disable_timeout=30, initial_delay=2,
                     bootstrap_on_failure=False, retry_count=2, retry_timer=10,
                     sequence_delay=600, sequence_retry_count=3)
    p = setup.server_params(tree, 1)
    assert (p.disable_timeout, p.initial_delay, p.bootstrap_on_failure) == (30, 2, False)
    assert (p.retry_count, p.retry_timer, p.sequence_delay) == (2, 10, 600)
    assert p.sequence_retry_count == 3


def test_server_misuse():
    tree = _tree()
    e = raises(UsageError, setup.add_server, tree, 0, 1, binding="X")
    assert str(e) == "add_server: bad binding 'X' (letters UTSNMHQ, each once)"
    e = raises(UsageError, setup.add_server, tree, 0, 1, lifetime=-1)
    assert str(e) == "add_server: lifetime must be an int >= 0, not -1"
    e = raises(UsageError, setup.add_server, tree, 0, 0)  # SSID 0 is reserved
    assert str(e).startswith("create_instance /1/0/0: ")
    assert tree.instances(1) == []
    assert raises(UsageError, setup.check_binding, "")


def test_security_and_accounts():
    tree = _tree()
    setup.add_security(tree, 0, "coap://bs", bootstrap=True, hold_off=3)
    setup.add_security(tree, 1, "coaps://b", ssid=2, mode=setup.SEC_PSK,
                       identity="me", secret_key=b"\x01\x02")
    setup.add_security(tree, 2, "coap://a", ssid=1)
    setup.add_server(tree, 0, 2)
    setup.add_server(tree, 1, 1)
    assert tree.get((0, 1, 3)) == b"me"
    assert setup.server_accounts(tree) == [(1, "coap://a", 2, 1), (2, "coaps://b", 1, 0)]
    assert setup.bootstrap_account(tree) == ("coap://bs", 0, 3)
    assert raises(UsageError, setup.add_security, tree, 3, "coaps://x", ssid=3)
    e = raises(UsageError, setup.add_security, tree, 3, "coap://x")
    assert str(e) == "add_security: a LwM2M Server account needs its ssid"


def test_device():
    tree = _tree()
    calls = []
    setup.add_device(tree, "ACME", "M", "S1", "1.0", reboot=lambda: calls.append(1),
                     clock=lambda: 1700000000)
    assert tree.get((3, 0, 11)) == {0: 0}
    assert tree.get((3, 0, 16)) == "U"
    assert tree.get((3, 0, 13)) == 1700000000
    tree.execute((3, 0, 4))
    assert calls == [1]
    assert raises(NotFound, tree.execute, (3, 0, 5))
    assert raises(MethodNotAllowed, tree.delete, (3, 0))
    assert raises(MethodNotAllowed, tree.create, 3, 1, [])
    setup.add_error_code(tree, 7)
    assert tree.get((3, 0, 11)) == {0: 7}
    assert raises(UsageError, setup.add_error_code, tree, 0)
    assert raises(UsageError, setup.add_device, tree, "A", "M", "S", "1")  # /3/0 exists
    tree.execute((3, 0, 12))
    assert tree.get((3, 0, 11)) == {0: 0}
    tree.drain_changes()
    setup.refresh_device_time(tree, 1700000060)
    assert tree.drain_changes() == [(3, 0, 13)]


def test_device_clock_epoch():
    # time.time() counts from 2000 on ESP32, STM32, ESP8266; /3/0/13 is Unix time.
    assert setup.EPOCH_2000_OFFSET == 946684800
    tree = _tree()
    setup.add_device(tree, "ACME", "M", "S1", "1.0", clock=lambda: 753315200, epoch=2000)
    assert tree.get((3, 0, 13)) == 1700000000
    tree.drain_changes()
    setup.refresh_device_time(tree, 753315260, epoch=2000)
    assert tree.get((3, 0, 13)) == 1700000060
    setup.refresh_device_time(tree, 1700000120)
    assert tree.get((3, 0, 13)) == 1700000120
    assert tree.drain_changes() == [(3, 0, 13)]
    assert setup.unix_time(0, 2000) == 946684800 and setup.unix_time(5) == 5
    for bad in (1980, "2000", None):
        assert raises(UsageError, setup.refresh_device_time, tree, 0, bad)
        assert raises(UsageError, setup.add_device, _tree(), "A", "M", "S", "1", epoch=bad)


def test_connectivity():
    tree = _tree()
    setup.add_connectivity(tree, bearer=setup.BEARER_NB_IOT, signal=-101,
                           ip=["10.0.0.9", "fd00::9"])
    assert tree.get((4, 0, 0)) == 7
    assert tree.get((4, 0, 1)) == {0: 7}
    assert tree.get((4, 0, 2)) == -101
    assert tree.get((4, 0, 4)) == {0: "10.0.0.9", 1: "fd00::9"}
