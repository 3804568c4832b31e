"""When the client notifies: the notification attributes on the virtual clock.

Each test names the clause it checks: LwM2M Core 1.1 section 5.1.1 (attribute
definitions, levels and defaults), 5.1.2 (notification conditions), Core 1.2 section
5.1.1/5.1.2 (con, edge) and 6.4.1 (attributes in the Observe query), Object 1
resources 2, 3 and 26, RFC 7641 section 4.5. They complement
tests/test_client_observe.py (which drives the core message by message) with the
combinations and the traps: a hidden default pmin, an object-level pmax against a
shorter Default Maximum Period, thresholds hit exactly, a step measured from the wrong
value, pmax below pmin, Write-Attributes on a running observation, the daily CON.

The bench is the deterministic harness (tests/harness.py): a client core and a small
observing server (:class:`Observer`, the harness's SimServer plus notifications) on a
virtual network without delay or loss, so a notification arrives at the millisecond it
was sent and every time below is exact. Times are milliseconds from the start; the
observation is made at 0 unless said otherwise, and its answer counts as the first
notification (Core 1.1 section 6.4.2).

Ambiguities resolved here:

- gt/lt "crossing" counts in both directions (the Core 1.1 section 5.1.2 table), not
  only upwards for gt and downwards for lt as the Transport 1.1 examples suggest; and
  the comparisons are strict: reaching gt exactly is not being above it.
- gt, lt and st are alternatives: any one met is a change worth notifying.
- Attributes attached to a resource do not apply to an observation of its instance or
  object (Core 1.1 section 5.1.1: attributes apply at their level and below; the OMA
  reading in OMA_LwM2M_for_Developers issue 478).
- Without /1/x/26 notifications are non-confirmable (Object 1 gives no default; NON is
  what the client emits), with the one-a-day CON of RFC 7641 section 4.5.
"""

from __future__ import annotations

import random

import cbor2
import pytest
from harness import ClientNode, Simulation, VirtualNetwork
from sim_server import SimServer

from lwm2m_client.core.client import setup
from lwm2m_client.core.client.engine import ClientConfig, ClientCore
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.coap import options as o
from lwm2m_client.core.coap.message import Message, decode, to_bytes
from lwm2m_client.core.content import CF_LINK, CF_SENML_CBOR, CF_TEXT
from lwm2m_client.core.dm.tree import ObjectTree
from lwm2m_client.models import shipped_objects

OBJECTS = shipped_objects()
SERVER = ("10.0.0.2", 5683)
CLIENT = ("10.0.0.1", 56830)
EP = "reporting-1"
LIFETIME = 30 * 86400  # no Update inside any test
S = 1000  # one second in ms
H = 3600 * S

POWER = (3305, 0, 5800)  # Instantaneous active power: Float, R
BATTERY = (3, 0, 9)  # Battery level: Integer, R
LEAK = (3424, 0, 10)  # Water meter "Leak detected": Boolean, R


def text(path) -> str:
    return "/" + "/".join(str(i) for i in path)


class Observer(SimServer):
    """The harness's LwM2M Server node that also holds observations: the notifications
    on a token it observes are recorded as ``(time_ms, Message)`` in ``notes[token]``
    (once per message ID) and confirmable ones acknowledged."""

    def __init__(self) -> None:
        super().__init__(seed=11)
        self.notes: dict[bytes, list[tuple[int, Message]]] = {}
        self._seen: set = set()
        self._acks: list[tuple[bytes, object]] = []

    def receive(self, data: bytes, src, now_ms: int) -> None:
        msg = decode(data)
        token = bytes(msg.token)
        if msg.mtype in (m.CON, m.NON) and m.code_class(msg.code) >= 2 and \
                token in self.notes:
            if (src, msg.mid) not in self._seen:
                self._seen.add((src, msg.mid))
                self.notes[token].append((now_ms, msg))
            if msg.mtype == m.CON:
                self._acks.append((to_bytes(Message(m.ACK, m.EMPTY, msg.mid, b"")), src))
            return
        super().receive(data, src, now_ms)

    def outgoing(self, now_ms: int) -> list:
        out = super().outgoing(now_ms) + self._acks
        self._acks = []
        return out


class Bench:
    """A registered client (Objects 0, 1, 3, 3305, 3424) and the observing server.

    ``default_pmin``/``default_pmax`` are /1/0/2 and /1/0/3 (absent when None),
    ``mode`` is /1/0/26 (absent when None)."""

    def __init__(self, version: str = "1.1", default_pmin=None, default_pmax=None,
                 mode=None) -> None:
        tree = ObjectTree([OBJECTS[i] for i in (0, 1, 3, 3305, 3424)])
        setup.add_security(tree, 0, "coap://server", ssid=1)
        setup.add_server(tree, 0, 1, lifetime=LIFETIME, default_pmin=default_pmin,
                         default_pmax=default_pmax)
        if mode is not None:
            tree.set((1, 0, 26), mode)
        setup.add_device(tree, "ACME", "M1", "SN1", "1.0", values={9: 80})
        tree.create_instance(3305, 0, {5800: 1.0})
        tree.create_instance(3424, 0, {1: 0.0, 10: False})
        tree.drain_changes()
        self.tree = tree
        self.core = ClientCore(ClientConfig(EP, version=version, jitter=0), tree,
                               random.Random(5))
        self.core.set_address(1, SERVER)
        self.sim = Simulation(VirtualNetwork(delay_ms=(0, 0)))
        self.server: Observer = self.sim.add(SERVER, Observer())  # type: ignore[assignment]
        self.sim.add(CLIENT, ClientNode(self.core))
        assert self.sim.run(until=lambda: self.core.registration(1).is_registered,
                            max_ms=60 * S)
        assert self.sim.now_ms == 0

    # -- time -----------------------------------------------------------------------

    def advance(self, t_ms: int) -> None:
        """Run everything due up to ``t_ms`` (inclusive); the clock then reads t_ms."""
        assert t_ms >= self.sim.now_ms
        self.sim.run(max_ms=t_ms - self.sim.now_ms)
        self.sim.now_ms = t_ms

    def set(self, t_ms: int, path, value) -> None:
        """The application stores a new reading at ``t_ms``."""
        self.advance(t_ms)
        self.tree.set(path, value)

    # -- the server's requests --------------------------------------------------------

    def request(self, method: int, path: str, **kw) -> Message:
        token = self.server.request(self.sim.now_ms, EP, method, path, **kw)
        assert self.sim.run(until=lambda: token in self.server.responses, max_ms=60 * S)
        return self.server.responses.pop(token)

    def write_attributes(self, path, *query: str) -> None:
        answer = self.request(m.PUT, text(path), query=query)
        assert answer.code == m.CHANGED, m.code_name(answer.code)

    def discover(self, path) -> bytes:
        answer = self.request(m.GET, text(path), accept=CF_LINK)
        assert answer.code == m.CONTENT
        return bytes(answer.payload)

    def observe(self, path, query=(), accept=CF_TEXT) -> bytes:
        """Observe ``path`` now; returns the observation's token."""
        token = self.server.request(self.sim.now_ms, EP, m.GET, text(path), accept=accept,
                                    query=query, options=[(o.OBSERVE, b"")])
        return self._observed(token)

    def _observed(self, token: bytes) -> bytes:
        # Nothing moved yet (the clock runs in sim.run): record the token's
        # notifications from the answer on.
        self.server.notes[token] = []
        assert self.sim.run(until=lambda: token in self.server.responses, max_ms=60 * S)
        answer = self.server.responses.pop(token)
        assert answer.code == m.CONTENT and answer.observe is not None
        return token

    def observe_composite(self, paths) -> bytes:
        """Observe-Composite (FETCH / with Observe=0) of ``paths`` now; the token."""
        payload = cbor2.dumps([{0: text(p)} for p in paths])
        token = self.server.request(self.sim.now_ms, EP, m.FETCH, "/", payload=payload,
                                    cf=CF_SENML_CBOR, accept=CF_SENML_CBOR,
                                    options=[(o.OBSERVE, b"")])
        return self._observed(token)

    # -- what was notified ----------------------------------------------------------

    def notes(self, token: bytes) -> list[tuple[int, Message]]:
        return self.server.notes[token]

    def times(self, token: bytes) -> list[int]:
        return [t for t, _ in self.notes(token)]

    def values(self, token: bytes) -> list:
        """The plain-text values notified, as numbers (or "0"/"1" for booleans)."""
        return [float(bytes(msg.payload)) for _, msg in self.notes(token)]

    def timeline(self, token: bytes) -> list[tuple[int, float]]:
        return list(zip(self.times(token), self.values(token), strict=True))

    def types(self, token: bytes) -> list[int]:
        return [msg.mtype for _, msg in self.notes(token)]


# -- pmin and the Default Minimum Period (Core 1.1 section 5.1.1, /1/x/2) ----------------


def test_no_default_minimum_period_means_no_minimum_not_one_second():
    # Core 1.1 section 5.1.1: pmin defaults to /1/x/2, and without it to 0. A client
    # that quietly applies pmin = 1 would hold the second and third change back.
    bench = Bench()
    token = bench.observe(POWER)
    for i, t in enumerate((100, 200, 300), start=2):
        bench.set(t, POWER, float(i))
    bench.advance(H)
    assert bench.timeline(token) == [(100, 2.0), (200, 3.0), (300, 4.0)]


def test_a_default_minimum_period_limits_the_rate_and_is_no_period():
    # /1/x/2 = 1 (configuration C.3's value) and no /1/x/3: a change every 100 ms is
    # reported once a second with the newest value; once the changes stop, nothing --
    # pmin is a minimum, not a period (Core 1.1 section 5.1.1).
    bench = Bench(default_pmin=1)
    token = bench.observe(POWER)
    for k in range(1, 31):
        bench.set(k * 100, POWER, float(k))
    bench.advance(H)
    assert bench.timeline(token) == [(1000, 9.0), (2000, 19.0), (3000, 29.0),
                                      (4000, 30.0)]


def test_an_attached_pmin_of_zero_overrides_the_default_minimum_period():
    # The attached attribute wins over /1/x/2, also when it is 0: the Server object's
    # default applies only where no pmin is attached (Core 1.1 section 5.1.1).
    bench = Bench(default_pmin=5)
    bench.write_attributes(POWER, "pmin=0")
    token = bench.observe(POWER)
    bench.set(1 * S, POWER, 2.0)
    bench.advance(10 * S)
    assert bench.timeline(token) == [(1 * S, 2.0)]


def test_a_longer_pmin_written_during_the_observation_holds_a_change_back():
    # Write-Attributes takes effect on the running observation (Core 1.1 section
    # 6.3.4): pmin 30 counts from the last notification (the answer at 0).
    bench = Bench()
    token = bench.observe(POWER)
    bench.advance(5 * S)
    bench.write_attributes(POWER, "pmin=30")
    bench.set(10 * S, POWER, 2.0)
    bench.advance(29_999)
    assert bench.times(token) == []
    bench.advance(60 * S)
    assert bench.timeline(token) == [(30 * S, 2.0)]


# -- pmax and the Default Maximum Period (Core 1.1 section 5.1.1, /1/x/3) ----------------


def test_an_object_level_pmax_longer_than_the_default_maximum_period_wins():
    # /1/x/3 = 10 s, /3305?pmax=60: the attached attribute, found at the object level
    # for an observation of one of its resources, replaces the default -- a client that
    # takes the shorter of the two notifies every 10 s.
    bench = Bench(default_pmax=10)
    bench.write_attributes((3305,), "pmax=60")
    token = bench.observe(POWER)
    bench.advance(180 * S)
    assert bench.times(token) == [60 * S, 120 * S, 180 * S]


def test_the_default_maximum_period_below_an_attached_pmin_is_ignored():
    # pmax < pmin: pmax is ignored (Core 1.1 section 5.1.1), also when pmax comes from
    # /1/x/3 and pmin is attached. No notification without a change ...
    bench = Bench(default_pmax=10)
    bench.write_attributes(POWER, "pmin=20")
    token = bench.observe(POWER)
    bench.advance(300 * S)
    assert bench.times(token) == []
    # ... and a change, pmin long past, is notified at once.
    bench.set(301 * S, POWER, 5.0)
    bench.advance(400 * S)
    assert bench.timeline(token) == [(301 * S, 5.0)]


def test_pmax_below_pmin_is_ignored():
    # Core 1.1 section 5.1.1: a pmax smaller than pmin is ignored. The change at 5 s
    # is held until pmin; no periodic notification follows.
    bench = Bench()
    bench.write_attributes(POWER, "pmin=20", "pmax=10")
    token = bench.observe(POWER)
    bench.set(5 * S, POWER, 2.0)
    bench.advance(300 * S)
    assert bench.timeline(token) == [(20 * S, 2.0)]


def test_pmax_equal_to_pmin_is_in_force():
    # Core 1.1 section 5.1.1: only pmax < pmin is ignored; pmax = pmin is a fixed
    # reporting cycle.
    bench = Bench()
    bench.write_attributes(POWER, "pmin=10", "pmax=10")
    token = bench.observe(POWER)
    bench.advance(30 * S)
    assert bench.times(token) == [10 * S, 20 * S, 30 * S]


def test_a_shorter_pmax_written_during_the_observation_shortens_the_next_deadline():
    # Write-Attributes on a running observation (Core 1.1 sections 5.1.1, 6.3.4):
    # pmax 300 -> 20 at 10 s: the next notification is due 20 s after the last one
    # (the answer at 0), not at 300 s; unsetting pmax (a bare "pmax") ends the cycle.
    bench = Bench()
    bench.write_attributes(POWER, "pmax=300")
    token = bench.observe(POWER)
    bench.advance(10 * S)
    bench.write_attributes(POWER, "pmax=20")
    bench.advance(45 * S)
    assert bench.times(token) == [20 * S, 40 * S]
    bench.write_attributes(POWER, "pmax")
    bench.advance(1000 * S)
    assert bench.times(token) == [20 * S, 40 * S]


def test_a_pmax_written_after_it_ran_out_notifies_at_once():
    # pmax 20 written at 45 s on an observation last notified at 0: it is overdue, and
    # notified at once (Core 1.1 sections 5.1.1, 6.3.4).
    bench = Bench()
    token = bench.observe(POWER)
    bench.advance(45 * S)
    bench.write_attributes(POWER, "pmax=20")
    bench.advance(70 * S)
    assert bench.times(token) == [45 * S, 65 * S]


# -- attribute levels (Core 1.1 section 5.1.1) -------------------------------------------


def test_resource_attributes_do_not_apply_to_an_observation_of_its_instance():
    # Core 1.1 section 5.1.1 (see the module docstring on levels):
    # pmax and st attached to /3305/0/5800 govern an observation of that resource; an
    # observation of /3305/0 takes attributes from /3305/0 and /3305 only: no period,
    # and every change counts.
    bench = Bench()
    bench.write_attributes(POWER, "pmax=5", "st=10")
    whole = bench.observe((3305, 0), accept=CF_SENML_CBOR)
    single = bench.observe(POWER)
    bench.set(1 * S, POWER, 1.5)  # a step of 0.5: below st
    bench.advance(30 * S)
    assert bench.times(whole) == [1 * S]
    assert bench.timeline(single) == [(t * S, 1.5) for t in (5, 10, 15, 20, 25, 30)]


# -- gt, lt, st (Core 1.1 section 5.1.2) --------------------------------------------------


def test_thresholds_are_strict_and_crossed_both_ways_on_an_integer_resource():
    # Core 1.1 section 5.1.2 (Greater Than, Less Than):
    # gt = 50, lt = 20 on the battery level (Integer), from 80: a value is above gt
    # only when greater than 50 and below lt only when less than 20; a notification
    # goes out when the value passes to the other side, in either direction, compared
    # with the value last notified.
    bench = Bench()
    bench.write_attributes(BATTERY, "gt=50", "lt=20")
    token = bench.observe(BATTERY)
    for t, value in enumerate((51, 50, 49, 50, 51, 30, 20, 19, 20, 21), start=1):
        bench.set(t * S, BATTERY, value)
    bench.advance(60 * S)
    # 51: still above. 50: not above any more. 49, 50: below gt all along. 51: above.
    # 30: down across gt. 20: not below lt. 19: below. 20: back up. 21: nothing.
    assert bench.timeline(token) == [(2 * S, 50), (5 * S, 51), (6 * S, 30), (8 * S, 19),
                                     (9 * S, 20)]


def test_gt_lt_and_st_are_alternatives():
    # Core 1.1 section 5.1.2: with gt = 50 and st = 5 attached, either condition makes
    # a notification.
    bench = Bench()
    bench.write_attributes(POWER, "gt=50", "st=5")
    token = bench.observe(POWER)
    for t, value in enumerate((3.0, 6.5, 49.0, 52.0, 53.0, 60.0), start=1):
        bench.set(t * S, POWER, value)
    bench.advance(60 * S)
    # 3.0: a step of 2, no crossing. 6.5: a step of 5.5 from 1.0. 49.0: step. 52.0:
    # a step of 3 but gt crossed. 53.0: neither. 60.0: a step of 8 from 52.
    assert bench.values(token) == [6.5, 49.0, 52.0, 60.0]


def test_a_crossing_inside_pmin_is_notified_when_pmin_ends():
    # Core 1.1 sections 5.1.1 and 5.1.2: a notification due inside pmin goes out as
    # soon as pmin ends, with the value then current.
    bench = Bench()
    bench.write_attributes(POWER, "gt=5", "pmin=10")
    token = bench.observe(POWER)
    bench.set(2 * S, POWER, 6.0)  # crosses gt inside pmin
    bench.set(11 * S, POWER, 7.0)  # stays above: nothing
    bench.set(61 * S, POWER, 4.0)  # crosses back down, pmin long past
    bench.advance(120 * S)
    assert bench.timeline(token) == [(10 * S, 6.0), (61 * S, 4.0)]


def test_the_step_is_measured_from_the_value_a_pmax_notification_carried():
    # st compares with the value last notified (Core 1.1 section 5.1.2) -- also when
    # that notification was sent because pmax ran out -- in both directions.
    bench = Bench()
    bench.write_attributes(POWER, "st=1", "pmax=10")
    token = bench.observe(POWER)
    bench.set(1 * S, POWER, 1.6)  # 0.6 from 1.0: held
    bench.advance(10 * S)  # pmax: 1.6 is notified and becomes the reference
    bench.set(11 * S, POWER, 2.2)  # 0.6 from 1.6 (1.2 from the old 1.0): nothing
    bench.set(12 * S, POWER, 2.7)  # 1.1 from 1.6
    bench.set(13 * S, POWER, 1.6)  # 1.1 down from 2.7
    bench.advance(13 * S)
    assert bench.timeline(token) == [(10 * S, 1.6), (12 * S, 2.7), (13 * S, 1.6)]


def test_a_step_written_during_the_observation_filters_the_next_change():
    # Write-Attributes adds st to a running observation: it applies to the next change
    # at once, measured from the value last notified (Core 1.1 sections 5.1.2, 6.3.4).
    bench = Bench()
    token = bench.observe(POWER)
    bench.set(1 * S, POWER, 1.2)  # no condition attached: notified
    bench.advance(2 * S)
    bench.write_attributes(POWER, "st=1")
    bench.set(3 * S, POWER, 1.5)  # 0.3 from 1.2
    bench.set(4 * S, POWER, 2.3)  # 1.1 from 1.2
    bench.advance(10 * S)
    assert bench.timeline(token) == [(1 * S, 1.2), (4 * S, 2.3)]


# -- epmin, epmax (Core 1.1 section 5.1.1) ------------------------------------------------


@pytest.mark.parametrize("pmin, epmin, at", [(2, 5, 5), (8, 5, 8)])
def test_a_change_waits_for_the_later_of_pmin_and_epmin(pmin, epmin, at):
    # Core 1.1 section 5.1.1: epmin spaces the evaluations, pmin the notifications; a
    # change is notified when both allow it.
    bench = Bench()
    bench.write_attributes(POWER, f"pmin={pmin}", f"epmin={epmin}", "epmax=60")
    token = bench.observe(POWER)
    bench.set(1 * S, POWER, 2.0)
    bench.advance(30 * S)
    assert bench.timeline(token) == [(at * S, 2.0)]


def test_a_crossing_found_by_an_epmax_evaluation_inside_pmin_is_notified_when_pmin_ends():
    # The value is computed on read and never reported; epmax = 12 makes the client
    # look at it at 12, 24, 36 s. The crossing of gt (at 5 s) is found at 12 s, inside
    # pmin = 30: it is notified when pmin ends, at 30 s.
    bench = Bench()
    reading = [1.0]
    bench.tree.set(POWER, None)
    bench.tree.on_read(POWER, lambda path: reading[0])
    bench.write_attributes(POWER, "gt=10", "pmin=30", "epmax=12")
    token = bench.observe(POWER)
    bench.advance(5 * S)
    reading[0] = 20.0
    bench.advance(60 * S)
    assert bench.timeline(token) == [(30 * S, 20.0)]


# -- con, Default Notification Mode, the daily CON ------------------------------------------


def test_one_confirmable_notification_a_day_under_a_non_default():
    # /1/x/26 = 0 (non-confirmable) and hourly changes for 50 hours: RFC 7641 section
    # 4.5 still wants a CON at least every 24 hours -- counted from the Observe, the
    # next one 24 hours after the last CON -- and NON for all the others.
    bench = Bench(mode=0)
    token = bench.observe(POWER)
    for hour in range(50):
        bench.set(hour * H + H // 2, POWER, float(hour + 2))
    bench.advance(50 * H)
    notes = bench.notes(token)
    assert len(notes) == 50
    # A notification can only be confirmable when there is one: the first at or after
    # each 24 hour mark is.
    con = [t for t, msg in notes if msg.mtype == m.CON]
    assert con == [24 * H + H // 2, 48 * H + H // 2]


@pytest.mark.parametrize("mode, attached, confirmable", [
    (1, None, True),  # /1/x/26 = 1: every notification CON
    (1, ((3305, 0, 5800), "con=0"), False),  # the attached con wins over the default
    (0, ((3305,), "con=1"), True),  # con at the object applies to its resources
    (None, None, False),  # no /1/x/26: NON (see the module docstring)
    (0, ((3305, 0), "con=1"), True),
])
def test_default_notification_mode_and_con(mode, attached, confirmable):
    # Object 1 resource 26 (LwM2M 1.2), the con attribute (Core 1.2 section 5.1.1):
    # attributes over the Server object's default, the lower level over the higher.
    bench = Bench(version="1.2", mode=mode)
    if attached is not None:
        path, query = attached
        bench.write_attributes(path, query)
    bench.write_attributes(POWER, "pmax=10")
    token = bench.observe(POWER)
    bench.set(5 * S, POWER, 2.0)
    bench.advance(30 * S)
    expected = m.CON if confirmable else m.NON
    assert bench.times(token) == [5 * S, 15 * S, 25 * S]
    assert bench.types(token) == [expected] * 3


def test_a_composite_notification_is_confirmable_when_any_path_says_so():
    # Core 1.2 section 5.1.1: a notification covering several targets is confirmable
    # when con = 1 is in force at any of them.
    bench = Bench(version="1.2", mode=0)
    bench.write_attributes(BATTERY, "con=1")
    token = bench.observe_composite([POWER, BATTERY])
    bench.set(1 * S, POWER, 2.0)  # the change is on the path without con
    bench.advance(2 * S)
    ((t, note),) = bench.notes(token)
    assert t == 1 * S and note.mtype == m.CON


# -- LwM2M 1.2: edge, attributes in the Observe query -------------------------------------


@pytest.mark.parametrize("edge, notified", [(1, [1, 3]), (0, [2, 4])])
def test_edge_notifies_only_the_chosen_transition(edge, notified):
    # Core 1.2 section 5.1.2: edge = 1 counts only false -> true as a change, edge = 0
    # only true -> false (the leak alarm of a water meter, /3424/0/10).
    bench = Bench(version="1.2")
    bench.write_attributes(LEAK, f"edge={edge}")
    token = bench.observe(LEAK)
    for t, value in enumerate((True, False, True, False), start=1):
        bench.set(t * S, LEAK, value)
    bench.advance(10 * S)
    assert bench.times(token) == [t * S for t in notified]
    assert [bytes(msg.payload) for _, msg in bench.notes(token)] == \
        [b"1" if edge else b"0"] * 2


def test_attributes_in_the_observe_query_apply_to_that_observation_only():
    bench = Bench(version="1.2")
    bench.write_attributes(POWER, "pmax=60")
    with_query = bench.observe(POWER, query=("pmax=5",))
    without = bench.observe(POWER)
    bench.advance(20 * S)
    assert bench.times(with_query) == [5 * S, 10 * S, 15 * S, 20 * S]
    assert bench.times(without) == []
    # Not attached: Discover shows the Write-Attributes value only.
    links = bench.discover(POWER)
    assert b"pmax=60" in links and b"pmax=5" not in links
