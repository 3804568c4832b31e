"""The registration state machine alone (LwM2M Core 1.1 section 6.2), driven by hand.

The machine returns what it wants done; the recorder below keeps those requests and
events in order. It is the machine's own interface, not a stand-in for a peer (the
client tests use a real server).
"""

import random

import pytest

from lwm2m_client.core.client import events as ev
from lwm2m_client.core.client import registration as r


class Link:
    """What the machine returned: requests as (method, path, query, with_objects) and
    events, each in order."""

    def __init__(self):
        self.sent = []
        self.events = []
        self.versions = []

    def take(self, outputs):
        for item in outputs:
            if isinstance(item, r.RegRequest):
                self.sent.append((item.method, list(item.uri_path), list(item.uri_query),
                                  item.with_objects))
                self.versions.append(item.version)
            else:
                self.events.append(item)
        return outputs


class Recorded:
    """A Registration whose driving calls hand their outputs to ``link``."""

    DRIVING = ("handle", "start", "stop", "handle_timer", "disable", "trigger_update",
               "new_params", "fall_back", "retry_now")

    def __init__(self, reg, link):
        self._reg = reg
        self._link = link

    def __getattr__(self, name):
        attr = getattr(self._reg, name)
        if name not in self.DRIVING:
            return attr
        return lambda *args, **kw: self._link.take(attr(*args, **kw))


def make(**kw):
    link = Link()
    version = kw.pop("version", "1.1")
    wait = kw.pop("max_transmit_wait_ms", r.MAX_TRANSMIT_WAIT_MS)
    params = r.ServerParams(**kw)
    reg = r.Registration(params, "meter-1", version=version, jitter=0,
                         max_transmit_wait_ms=wait)
    return link, Recorded(reg, link)


def register(link, reg, now=0):
    reg.start(now)
    reg.handle_timer(reg.get_timer())
    assert reg.state == r.ST_REGISTERING
    reg.handle(r.EV_SUCCESS, now, location=["rd", "5a3f"])
    assert reg.state == r.ST_REGISTERED


def test_register_query_and_payload_flag():
    link, reg = make(lifetime=300, binding="U", queue=True)
    reg.start(0)
    reg.handle_timer(0)
    assert link.sent == [(r.POST, ["rd"], ["ep=meter-1", "lt=300", "lwm2m=1.1", "b=U", "Q"], True)]


def test_lwm2m_1_0_queue_mode_lives_in_binding():
    link, reg = make(version="1.0", queue=True)
    assert reg.register_query() == ["ep=meter-1", "lwm2m=1.0", "b=UQ"]


def test_registered_event_and_update_schedule():
    link, reg = make(lifetime=300)
    register(link, reg, now=1000)
    assert link.events == [ev.Registered(1, ["rd", "5a3f"])]
    # Update at lifetime - min(lifetime / 2, 93 s).
    assert reg.get_timer() == 1000 + (300 - 93) * 1000
    reg.handle_timer(1000 + 207000)
    assert link.sent[-1] == (r.POST, ["rd", "5a3f"], [], False)
    reg.handle(r.EV_SUCCESS, 208000)
    assert link.events[-1] == ev.RegistrationUpdated(1)


def test_short_lifetime_margin_is_half():
    link, reg = make(lifetime=60)
    register(link, reg)
    assert reg.get_timer() == 30000


def test_update_carries_only_changed_parameters():
    link, reg = make(lifetime=300)
    register(link, reg)
    old = reg.params
    reg.new_params(r.ServerParams(lifetime=600), 5)  # a server wrote /1/x/1
    assert link.sent[-1] == (r.POST, ["rd", "5a3f"], ["lt=600"], False)
    assert old.lifetime == 300  # a snapshot is replaced, never changed in place
    reg.handle(r.EV_SUCCESS, 6)
    reg.trigger_update(7, objects_changed=True)
    assert link.sent[-1] == (r.POST, ["rd", "5a3f"], [], True)


def test_new_params_without_lifetime_or_binding_change_send_nothing():
    link, reg = make(lifetime=300)
    register(link, reg)
    assert reg.new_params(r.ServerParams(lifetime=300, retry_count=2), 5) == []
    assert len(link.sent) == 1 and reg.params.retry_count == 2


def test_update_margin_follows_max_transmit_wait():
    # lifetime - min(lifetime / 2, MAX_TRANSMIT_WAIT): the tuning's value, not 93 s.
    link, reg = make(lifetime=300, max_transmit_wait_ms=10000)
    register(link, reg, now=0)
    assert reg.get_timer() == 290000


@pytest.mark.parametrize("code", [0x8C, 0x80])
def test_refused_version_falls_back_to_older_ones_then_fails(code):
    # Core 1.2 section 6.2.1: 4.12 (or 4.00 from older servers) refuses the version.
    link, reg = make(version="1.2", retry_count=1, sequence_retry_count=1)
    reg.start(0)
    reg.handle_timer(reg.get_timer())
    assert link.sent[-1][2][2] == "lwm2m=1.2"
    reg.fall_back(10, code)
    assert link.sent[-1][2][2] == "lwm2m=1.1" and reg.version == "1.1"
    assert link.events == [ev.VersionFallback(1, "1.2", "1.1", code)]
    reg.fall_back(20, code)
    assert link.sent[-1][2][1:3] == ["lwm2m=1.0", "b=U"]  # 1.0 sends lt only if not default
    assert link.versions == ["1.2", "1.1", "1.0"]
    assert reg.refused_version(code) is None and reg.fall_back(30, code) == []
    reg.handle(r.EV_ERROR, 30, code)
    assert reg.state == r.ST_FAILED
    # A new start begins again with the newest version.
    reg.start(40)
    reg.handle_timer(reg.get_timer())
    assert link.versions[-1] == "1.2"


def test_other_refusals_and_registered_states_do_not_fall_back():
    link, reg = make(version="1.2")
    reg.start(0)
    reg.handle_timer(reg.get_timer())
    assert reg.refused_version(0x83) is None  # 4.03 Forbidden: not about the version
    reg.handle(r.EV_SUCCESS, 1, location=["rd", "1"])
    assert reg.refused_version(0x8C) is None  # only a Register falls back


def test_update_requested_during_update_is_sent_after_it():
    link, reg = make()
    register(link, reg)
    reg.trigger_update(1)
    reg.trigger_update(2, objects_changed=True)
    assert len(link.sent) == 2
    reg.handle(r.EV_SUCCESS, 3)
    assert reg.state == r.ST_UPDATING
    assert link.sent[-1][3] is True


@pytest.mark.parametrize("event", [r.EV_ERROR, r.EV_TIMEOUT])
def test_failed_update_leads_to_fresh_register(event):
    link, reg = make()
    register(link, reg)
    reg.trigger_update(10)
    reg.handle(event, 20, code=0x84)
    assert reg.state == r.ST_REGISTERING
    assert link.sent[-1][1] == ["rd"] and link.sent[-1][3] is True


def test_failure_schedule_with_defaults():
    """Defaults (Object 1 res 17-20): attempts at 0, 60, 180, 420, 900 s, then failure."""
    link, reg = make()
    reg.start(0)
    now = reg.get_timer()
    attempts = []
    while reg.state != r.ST_FAILED:
        reg.handle_timer(now)
        assert reg.state == r.ST_REGISTERING
        attempts.append(now // 1000)
        reg.handle(r.EV_ERROR, now, code=0x83)
        if reg.get_timer() is not None:
            now = reg.get_timer()
    assert attempts == [0, 60, 180, 420, 900]
    assert link.events == [ev.RegistrationFailed(1, 0x83, True)]


def test_sequences_repeat_after_sequence_delay():
    link, reg = make(retry_count=2, retry_timer=10, sequence_delay=100, sequence_retry_count=2)
    reg.start(0)
    times = []
    now = 0
    while reg.state != r.ST_FAILED:
        now = reg.get_timer()
        reg.handle_timer(now)
        times.append(now // 1000)
        reg.handle(r.EV_TIMEOUT, now)
    assert times == [0, 10, 110, 120]
    assert link.events[-1].code is None


def test_jitter_spreads_retries_within_bound():
    waits = set()
    for seed in range(20):
        link = Link()
        reg = Recorded(r.Registration(r.ServerParams(), "m", rng=random.Random(seed),
                                      jitter=0.1), link)
        reg.start(0)
        first = reg.get_timer()
        reg.handle_timer(first)
        reg.handle(r.EV_ERROR, first)
        wait = reg.get_timer() - first
        assert 60000 <= wait < 66000
        waits.add(wait)
    assert len(waits) > 10


def test_disable_deregisters_then_registers_after_timeout():
    link, reg = make(disable_timeout=30)
    register(link, reg)
    assert reg.disable(100)
    assert link.sent[-1] == (r.DELETE, ["rd", "5a3f"], [], False)
    reg.handle(r.EV_SUCCESS, 200)
    assert reg.state == r.ST_DISABLED
    assert link.events[-1] == ev.Deregistered(1, True)
    assert reg.get_timer() == 200 + 30000
    reg.handle_timer(30200)
    assert reg.state == r.ST_REGISTERING


def test_stop_deregisters_and_unknown_pairs_are_ignored():
    link, reg = make()
    assert not reg.handle(r.EV_SUCCESS, 0)  # not in the table: ignored
    register(link, reg)
    reg.stop(50)
    reg.handle(r.EV_SUCCESS, 60)
    assert reg.state == r.ST_DEREGISTERED
    assert link.events[-1] == ev.Deregistered(1, False)
    assert not reg.trigger_update(70)


def test_infinite_lifetime_schedules_no_update():
    link, reg = make(lifetime=0)
    register(link, reg)
    assert reg.get_timer() is None


def test_every_table_entry_names_an_action():
    assert len(r.TRANSITIONS) == len(r.STATE_NAMES)
    for row in r.TRANSITIONS:
        assert len(row) == len(r.EVENT_NAMES)
        for action in row:
            assert action is None or callable(getattr(r.Registration, action))


def test_stop_during_register_deregisters_once_the_register_succeeds():
    link, reg = make()
    reg.start(0)
    reg.handle_timer(reg.get_timer())
    reg.stop(5)
    assert reg.state == r.ST_REGISTERING and reg.is_deregistering
    reg.handle(r.EV_SUCCESS, 10, location=["rd", "9"])
    assert link.sent[-1] == (r.DELETE, ["rd", "9"], [], False)
    reg.handle(r.EV_SUCCESS, 20)
    assert reg.state == r.ST_DEREGISTERED and not reg.is_deregistering
    assert link.events == [ev.Deregistered(1, False)]


def test_stop_during_register_that_fails_sends_nothing_more():
    link, reg = make()
    reg.start(0)
    reg.handle_timer(reg.get_timer())
    reg.stop(5)
    reg.handle(r.EV_TIMEOUT, 10)
    assert reg.state == r.ST_DEREGISTERED and reg.get_timer() is None
    assert len(link.sent) == 1 and link.events == []
