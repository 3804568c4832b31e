"""Set-up helpers for the mandatory objects (core/client/setup.py) on the shipped models."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spec_vectors import SERVER_TLV_HEX

from lwm2m_client.core.client import setup
from lwm2m_client.core.client.registration import ServerParams
from lwm2m_client.core.content import tlv
from lwm2m_client.core.dm.tree import ObjectTree
from lwm2m_client.core.errors import MethodNotAllowed, NotFound, UsageError
from lwm2m_client.models import shipped_objects


def make_tree():
    defs = shipped_objects()
    return ObjectTree([defs[oid] for oid in (0, 1, 3, 4)])


def device(tree, **kwargs):
    return setup.add_device(tree, "ACME", "M-1", "SN42", "1.2.3", **kwargs)


# -- Object 0 -------------------------------------------------------------------------


def test_security_nosec_server_account():
    tree = make_tree()
    assert setup.add_security(tree, 0, "coap://lwm2m.example:5683", ssid=7) == 0
    assert tree.get((0, 0, 0)) == "coap://lwm2m.example:5683"
    assert tree.get((0, 0, 1)) is False
    assert tree.get((0, 0, 2)) == setup.SEC_NOSEC
    assert tree.get((0, 0, 3)) == b"" and tree.get((0, 0, 4)) == b""
    assert tree.get((0, 0, 5)) == b""
    assert tree.get((0, 0, 10)) == 7
    assert not tree.has((0, 0, 11))  # hold off is for the Bootstrap-Server only


def test_security_psk_encodes_a_text_identity():
    tree = make_tree()
    iid = setup.add_security(tree, None, "coaps://h:5684", ssid=1, mode=setup.SEC_PSK,
                             identity="meter-7", secret_key=bytes(range(16)))
    assert tree.get((0, iid, 3)) == b"meter-7"
    assert tree.get((0, iid, 5)) == bytes(range(16))
    assert tree.get((0, iid, 2)) == 0


def test_security_bootstrap_account_has_hold_off_and_no_ssid():
    tree = make_tree()
    setup.add_security(tree, 0, "coap://h", ssid=1)
    iid = setup.add_security(tree, None, "coap://bs.example", bootstrap=True, hold_off=30)
    assert iid == 1  # the lowest free instance ID
    assert tree.get((0, 1, 1)) is True
    assert tree.get((0, 1, 11)) == 30
    assert not tree.has((0, 1, 10))
    assert setup.bootstrap_account(tree) == ("coap://bs.example", 1, 30)


@pytest.mark.parametrize("kwargs, message", [
    ({"uri": "coaps://h", "ssid": 1}, "mode 3 does not fit uri"),  # secure scheme, NoSec
    ({"uri": "coap://h", "ssid": 1, "mode": setup.SEC_PSK, "identity": b"i",
      "secret_key": b"k"}, "mode 0 does not fit uri"),  # plain scheme with PSK
    ({"uri": "coaps://h", "ssid": 1, "mode": setup.SEC_PSK},
     "PSK mode needs an identity and a secret_key"),
    ({"uri": "http://h", "ssid": 1}, "uri 'http://h' is not coap"),
    ({"uri": "coap:/h", "ssid": 1}, "uri 'coap:/h' is not coap"),
    ({"uri": b"coap://h", "ssid": 1}, "uri must be a str"),
    ({"uri": "coap://h"}, "needs its ssid"),  # server account without SSID
    ({"uri": "coap://h", "bootstrap": True, "ssid": 1}, "Bootstrap-Server account has no ssid"),
    ({"uri": "coap://h", "ssid": 1, "hold_off": 10}, "hold_off is for the Bootstrap-Server"),
    ({"uri": "coap://h", "bootstrap": True, "hold_off": -1}, "hold_off must be an int >= 0"),
    ({"uri": "coap://h", "ssid": 0}, "/0/0/10: .*out of range"),  # the tree refuses it
    ({"uri": "coaps://h", "ssid": 1, "mode": 9}, "/0/0/2: .*out of range"),
])
def test_security_misuse_raises_and_creates_nothing(kwargs, message):
    tree = make_tree()
    uri = kwargs.pop("uri")
    with pytest.raises(UsageError, match=message):
        setup.add_security(tree, 0, uri, **kwargs)
    assert tree.instances(0) == []


def test_security_accepts_tcp_schemes():
    tree = make_tree()
    setup.add_security(tree, 0, "coap+tcp://h:5683", ssid=1)
    setup.add_security(tree, 1, "coaps+tcp://h:5684", ssid=2, mode=setup.SEC_CERTIFICATE)
    assert tree.get((0, 1, 2)) == 2


# -- Object 1 -------------------------------------------------------------------------


def test_server_minimal_instance_is_the_spec_tlv_vector():
    """LWM2M-FACTS section 11, vector 4: /1 = {SSID 1, lt 86400, res 6 true, "U"}."""
    tree = make_tree()
    setup.add_server(tree, 0, 1, mute_send=None)  # the vector has no Mute Send
    buf = bytearray(64)
    n = tlv.encode_into(buf, tree.read((1,)), (1,))
    assert bytes(buf[:n]) == bytes.fromhex(SERVER_TLV_HEX)


def test_server_params_defaults_when_absent():
    tree = make_tree()
    setup.add_server(tree, 0, 3, lifetime=600)
    p = setup.server_params(tree, 0)
    d = ServerParams()
    assert (p.ssid, p.lifetime, p.binding, p.queue) == (3, 600, "U", False)
    # Core 1.1 section 6.2.1.1 defaults.
    assert (p.initial_delay, p.retry_count, p.retry_timer) == (0, 5, 60)
    assert (p.sequence_delay, p.sequence_retry_count) == (86400, 1)
    assert p.bootstrap_on_failure is True
    assert p.disable_timeout == 86400
    assert p.retry_count == d.retry_count and p.sequence_delay == d.sequence_delay


def test_server_params_reads_back_everything_add_server_wrote():
    tree = make_tree()
    setup.add_server(tree, 2, 9, lifetime=0, binding="T", notification_storing=False,
                     default_pmin=10, default_pmax=300, disable_timeout=120,
                     initial_delay=5, registration_failure_block=True,
                     bootstrap_on_failure=False, retry_count=3, retry_timer=30,
                     sequence_delay=3600, sequence_retry_count=2)
    p = setup.server_params(tree, 2)
    assert (p.ssid, p.lifetime, p.binding, p.queue) == (9, 0, "T", False)
    assert (p.initial_delay, p.retry_count, p.retry_timer) == (5, 3, 30)
    assert (p.sequence_delay, p.sequence_retry_count) == (3600, 2)
    assert p.bootstrap_on_failure is False
    assert p.disable_timeout == 120
    assert tree.get((1, 2, 2)) == 10 and tree.get((1, 2, 3)) == 300
    assert tree.get((1, 2, 6)) is False and tree.get((1, 2, 15)) is True


@pytest.mark.parametrize("binding,transports", [("UQ", "U"), ("UQS", "US"), ("Q", "U")])
def test_server_params_splits_the_queue_flag(binding, transports):
    tree = make_tree()
    tree.create_instance(1, 0, {0: 1, 1: 60, 6: True, 7: binding})  # as a 1.0 BS writes it
    p = setup.server_params(tree, 0)
    assert p.binding == transports
    assert p.queue is True


def test_server_params_follow_a_server_write():
    tree = make_tree()
    setup.add_server(tree, 0, 1, lifetime=300)
    tree.write((1, 0, 1), [((1, 0, 1), 45)])
    tree.write((1, 0, 7), [((1, 0, 7), "UQ")])
    p = setup.server_params(tree, 0)
    assert (p.lifetime, p.binding, p.queue) == (45, "U", True)


@pytest.mark.parametrize("kwargs, message", [
    ({"binding": ""}, "add_server: binding '' names no transport"),
    ({"binding": "X"}, "add_server: bad binding 'X'"),
    ({"binding": "UU"}, "add_server: bad binding 'UU'"),
    ({"binding": "Q"}, "add_server: binding 'Q' names no transport"),
    ({"binding": "u"}, "add_server: bad binding 'u'"),
    ({"binding": None}, "add_server: binding must be a str"),
    ({"lifetime": -1}, "add_server: lifetime must be an int >= 0"),
    ({"retry_timer": -5}, "add_server: retry_timer must be an int >= 0"),
    ({"default_pmin": -1}, "add_server: default_pmin must be an int >= 0"),
    ({"ssid": 0}, "create_instance /1/0/0: .*out of range"),  # SSID 0 is reserved
])
def test_server_misuse_raises(kwargs, message):
    tree = make_tree()
    ssid = kwargs.pop("ssid", 1)
    with pytest.raises(UsageError, match=message):
        setup.add_server(tree, 0, ssid, **kwargs)
    assert tree.instances(1) == []


def test_check_binding():
    for good in ("U", "UQ", "T", "UQS", "N"):
        setup.check_binding(good)
    with pytest.raises(UsageError, match="check_binding: bad binding 'UX'"):
        setup.check_binding("UX")


@settings(max_examples=200, deadline=None)
@given(
    ssid=st.integers(1, 65534),
    lifetime=st.integers(0, 2**31 - 1),
    binding=st.sampled_from(["U", "UQ", "T", "TQ", "S", "US", "UQS", "N", "M", "H"]),
    retry=st.none() | st.tuples(st.integers(0, 255), st.integers(0, 86400),
                                st.integers(0, 2**32), st.integers(0, 255)),
    disable_timeout=st.none() | st.integers(0, 2**31),
)
def test_server_params_round_trip(ssid, lifetime, binding, retry, disable_timeout):
    tree = make_tree()
    kwargs = {}
    if retry is not None:
        kwargs = dict(zip(("retry_count", "retry_timer", "sequence_delay",
                           "sequence_retry_count"), retry, strict=True))
    setup.add_server(tree, None, ssid, lifetime=lifetime, binding=binding,
                     disable_timeout=disable_timeout, **kwargs)
    p = setup.server_params(tree, 0)
    d = ServerParams()
    assert (p.ssid, p.lifetime) == (ssid, lifetime)
    assert p.binding == binding.replace("Q", "") and p.queue == ("Q" in binding)
    assert p.disable_timeout == (d.disable_timeout if disable_timeout is None
                                 else disable_timeout)
    expect = retry or (d.retry_count, d.retry_timer, d.sequence_delay,
                       d.sequence_retry_count)
    assert (p.retry_count, p.retry_timer, p.sequence_delay,
            p.sequence_retry_count) == expect


# -- accounts -------------------------------------------------------------------------


def test_server_accounts_pair_security_and_server_by_ssid():
    tree = make_tree()
    setup.add_security(tree, 0, "coap://bs", bootstrap=True)
    setup.add_security(tree, 1, "coap://b.example", ssid=20)
    setup.add_security(tree, 2, "coap://a.example", ssid=10)
    setup.add_security(tree, 3, "coap://orphan.example", ssid=30)  # no /1 for it
    setup.add_server(tree, 0, 20)
    setup.add_server(tree, 1, 10)
    setup.add_server(tree, 5, 40)  # no /0 for it
    assert setup.server_accounts(tree) == [
        (10, "coap://a.example", 2, 1),
        (20, "coap://b.example", 1, 0),
    ]
    assert setup.bootstrap_account(tree) == ("coap://bs", 0, 0)


def test_accounts_of_an_empty_tree():
    tree = make_tree()
    assert setup.server_accounts(tree) == []
    assert setup.bootstrap_account(tree) is None
    defs = shipped_objects()
    bare = ObjectTree([defs[3]])
    assert setup.server_accounts(bare) == []
    assert setup.bootstrap_account(bare) is None


def test_accounts_follow_bootstrap_delete():
    tree = make_tree()
    setup.add_security(tree, 0, "coap://a", ssid=1)
    setup.add_server(tree, 0, 1)
    tree.delete((0,), bootstrap=True)
    assert setup.server_accounts(tree) == []


# -- Object 3 -------------------------------------------------------------------------


def test_device_mandatory_resources():
    tree = make_tree()
    assert device(tree) == 0
    assert [tree.get((3, 0, r)) for r in (0, 1, 2, 3)] == ["ACME", "M-1", "SN42", "1.2.3"]
    assert tree.get((3, 0, 11)) == {0: 0}
    assert tree.get((3, 0, 16)) == "U"
    assert not tree.has((3, 0, 13))
    # Reboot is mandatory: without a handler the Execute answers 4.04, not 4.05.
    with pytest.raises(NotFound):
        tree.execute((3, 0, 4))


def test_device_execute_handlers_run_the_callables():
    tree = make_tree()
    calls = []
    device(tree, reboot=lambda: calls.append("reboot"),
           factory_reset=lambda: calls.append("reset"))
    tree.execute((3, 0, 4))
    tree.execute((3, 0, 5), b"")
    assert calls == ["reboot", "reset"]
    assert 4 in tree.resource_ids(3, 0) and 5 in tree.resource_ids(3, 0)


def test_device_cannot_be_created_or_deleted_by_a_server():
    tree = make_tree()
    device(tree)
    with pytest.raises(MethodNotAllowed):
        tree.delete((3, 0))
    with pytest.raises(MethodNotAllowed):
        tree.create(3, 1, [])
    assert tree.delete((3,), bootstrap=True) == []  # Bootstrap-Delete keeps /3/0 too
    assert tree.instances(3) == [0]


def test_device_clock_and_refresh():
    tree = make_tree()
    device(tree, clock=lambda: 1700000000.7)
    assert tree.get((3, 0, 13)) == 1700000000
    tree.drain_changes()
    setup.refresh_device_time(tree, 1700000000.9)  # same second: no change
    assert tree.drain_changes() == []
    setup.refresh_device_time(tree, 1700000061)
    assert tree.get((3, 0, 13)) == 1700000061
    assert tree.drain_changes() == [(3, 0, 13)]


def test_epoch_2000_offset_is_thirty_years_with_seven_leap_days():
    assert setup.EPOCH_2000_OFFSET == (30 * 365 + 7) * 86400 == 946684800
    # 2000-01-01T00:00:00Z, as the CBOR tag 0 reader computes it.
    from lwm2m_client.core.content.cbor_single import epoch_from_rfc3339

    assert epoch_from_rfc3339("2000-01-01T00:00:00Z") == setup.EPOCH_2000_OFFSET


def test_device_clock_counting_from_2000_gives_unix_time():
    # A port whose time.time() counts from 2000 (ESP32, STM32, ESP8266): /3/0/13 is
    # still seconds since 1970 (LwM2M Time, Core 1.1 Appendix C).
    tree = make_tree()
    device(tree, clock=lambda: 753315200.4, epoch=2000)  # 2023-11-14T22:13:20Z
    assert tree.get((3, 0, 13)) == 1700000000
    tree.drain_changes()
    setup.refresh_device_time(tree, 753315200, epoch=2000)  # same second: no change
    assert tree.drain_changes() == []
    setup.refresh_device_time(tree, 753315260, 2000)
    assert tree.get((3, 0, 13)) == 1700000060
    setup.refresh_device_time(tree, 1700000120)  # the default epoch is 1970
    assert tree.get((3, 0, 13)) == 1700000120
    assert tree.drain_changes() == [(3, 0, 13)]


@pytest.mark.parametrize("epoch", [1980, 0, "2000", 2000.0, True, None])
def test_invalid_epoch_is_a_usage_error(epoch):
    tree = make_tree()
    with pytest.raises(UsageError, match="add_device: epoch must be 1970 or 2000"):
        device(tree, clock=lambda: 0, epoch=epoch)
    with pytest.raises(UsageError, match="add_device: epoch must be 1970 or 2000"):
        device(tree, epoch=epoch)  # checked with no clock too
    assert tree.instances(3) == []
    device(tree)
    with pytest.raises(UsageError, match="refresh_device_time: epoch must be 1970 or 2000"):
        setup.refresh_device_time(tree, 0, epoch)
    with pytest.raises(UsageError, match="unix_time: epoch must be 1970 or 2000"):
        setup.unix_time(0, epoch)


@given(st.integers(0, 2**40), st.sampled_from([1970, 2000]))
def test_unix_time_of_either_epoch(seconds, epoch):
    want = seconds + (946684800 if epoch == 2000 else 0)
    assert setup.unix_time(seconds, epoch) == want
    assert setup.unix_time(seconds + 0.999, epoch) == want


def test_device_extra_values_are_checked_by_the_tree():
    tree = make_tree()
    with pytest.raises(UsageError, match="/3/0/9: .*out of range"):
        device(tree, values={9: 101})  # battery level is 0..100
    with pytest.raises(UsageError, match="add_device: reboot must be callable"):
        device(tree, reboot="reboot")
    assert tree.instances(3) == []
    device(tree, values={6: {0: setup.POWER_MAINS}, 9: 80, 18: "rev B"}, binding="UQ")
    assert tree.get((3, 0, 6)) == {0: 6}
    assert tree.get((3, 0, 16)) == "UQ"


def test_error_codes_and_reset_error_code_execute():
    tree = make_tree()
    device(tree)
    setup.add_error_code(tree, 1)
    setup.add_error_code(tree, 5)
    setup.add_error_code(tree, 1)  # already active
    assert tree.get((3, 0, 11)) == {0: 1, 1: 5}
    with pytest.raises(UsageError, match="set /3/0/11: .*out of range"):
        setup.add_error_code(tree, 33)  # outside 0..32
    with pytest.raises(UsageError, match="add_error_code: code 0"):
        setup.add_error_code(tree, 0)
    with pytest.raises(UsageError, match="get /3/0/11: no instance /3/0"):
        setup.add_error_code(make_tree(), 1)  # no Device instance yet
    tree.execute((3, 0, 12))
    assert tree.get((3, 0, 11)) == {0: 0}


# -- Object 4 -------------------------------------------------------------------------


def test_connectivity_basics():
    tree = make_tree()
    assert setup.add_connectivity(tree, bearer=setup.BEARER_LTE_FDD, signal=-85,
                                  ip="10.1.2.3") == 0
    assert tree.get((4, 0, 0)) == 6
    assert tree.get((4, 0, 1)) == {0: 6}
    assert tree.get((4, 0, 2)) == -85
    assert tree.get((4, 0, 4)) == {0: "10.1.2.3"}
    assert [r for r in tree.resource_ids(4, 0)] == [0, 1, 2, 4]


def test_connectivity_optional_resources():
    tree = make_tree()
    setup.add_connectivity(tree, ip=["10.0.0.2", "fd00::2"], available=[6, 7],
                           link_quality=80, apn="iot.example", cell_id=1234, mnc=1, mcc=1)
    assert tree.get((4, 0, 4)) == {0: "10.0.0.2", 1: "fd00::2"}
    assert tree.get((4, 0, 1)) == {0: 6, 1: 7}
    assert tree.get((4, 0, 7)) == {0: "iot.example"}
    assert [tree.get((4, 0, r)) for r in (3, 8, 9, 10)] == [80, 1234, 1, 1]
    with pytest.raises(UsageError, match="/4/0/0: .*out of range"):
        setup.add_connectivity(make_tree(), bearer=51)  # 0..50
    with pytest.raises(UsageError, match="create_instance /4/0: the instance exists"):
        setup.add_connectivity(tree)


def test_a_set_up_tree_reads_whole():
    """What a server's Read of every set-up object returns: every value encodes."""
    tree = make_tree()
    setup.add_security(tree, 0, "coap://h", ssid=1)
    setup.add_server(tree, 0, 1)
    device(tree, clock=lambda: 1)
    setup.add_connectivity(tree)
    buf = bytearray(512)
    for oid in (1, 3, 4):
        n = tlv.encode_into(buf, tree.read((oid,)), (oid,))
        decoded = tlv.decode(bytes(buf[:n]), (oid,), tree.type_of)
        assert decoded, oid
        for path, value in decoded:
            if len(path) == 3:
                assert tree.get(path) == value
            else:
                assert tree.get(path[:3])[path[3]] == value
