"""Observations and when they notify (RFC 7641; LwM2M Core 1.1 sections 5.1.1, 6.4).

One :class:`Observation` per (server address, token). The client marks an observation
*changed* when a path at or under its target changed (the tree's change log), and asks it
for its next deadline; the observation notifies when

- it changed and at least ``pmin`` seconds passed since the last notification, and, for
  a single numeric resource, the change meets the attached value conditions: it crossed
  ``gt`` or ``lt`` (either direction), or moved by at least ``st`` from the value last
  notified (Core 1.1 section 5.1.1.2); with none of them attached, any change counts;
- or ``pmax`` seconds passed since the last notification, changed or not.

``pmin``/``pmax`` come from the attributes in force at the target (resource over
instance over object, Core 1.1 section 5.1.1) and else from the Server object's Default
Minimum/Maximum Period ``/1/x/2`` and ``/1/x/3``; no default means 0 (no minimum) and no
maximum. Times are the injected integer milliseconds of the rest of the core.

Observe-Composite (Core 1.1 section 6.4.1, Transport 1.1 section 6.4.5: FETCH / with
Observe=0 and a SenML path list) makes one observation of several ``paths``; it is
cancelled like any other (FETCH with Observe=1 on its token, or RST). It notifies when
any of its paths changed, with the composite read of all of them, in the content format
of the first answer. Its periods: ``pmin`` is the largest and ``pmax`` the smallest of
those in force at its paths (each path's attributes over the Server object's defaults);
``con`` holds when it holds at any path; gt/lt/st do not apply.

The store is bounded (``capacity``): one more observation than it holds is refused, the
request answered 5.03 Service Unavailable (RFC 7252 section 5.9.3.4: a temporary
inability; the server may retry after others were cancelled).
"""

from lwm2m_client.core.coap import message as m
from lwm2m_client.core.coap import options as o
from lwm2m_client.core.dm import types as _t
from lwm2m_client.core.dm.path import path_from_segments
from lwm2m_client.core.errors import LwM2MError, UsageError

_NUMERIC = (_t.T_INTEGER, _t.T_UNSIGNED, _t.T_FLOAT)

# RFC 7641 section 4.4: the Observe value is 24 bits and wraps.
SEQ_MASK = 0xFFFFFF
DAY_MS = 86400000


class Observation:
    """One server's observation of ``path`` with ``token`` from ``addr``; ``accept`` is the
    content format of its notifications (the one the first answer used). An
    Observe-Composite passes its targets as ``paths`` (``path`` is then the root);
    ``paths`` is ``(path,)`` otherwise, and ``composite`` tells the two apart."""

    def __init__(self, ssid, addr, token, path, accept, now_ms, paths=None):
        self.ssid = ssid
        self.addr = addr
        self.token = bytes(token)
        self.path = path
        self.composite = paths is not None
        self.paths = (path,) if paths is None else tuple(paths)
        self.accept = accept
        self.seq = 0
        self.last_ms = now_ms
        self.last_value = None  # the value last notified (single numeric resources)
        self.changed = False
        self.last_con_ms = now_ms  # when a confirmable notification last went out
        self.last_eval_ms = now_ms  # when the reporting conditions were last evaluated
        self.last_bool = None  # the Boolean value last evaluated, for edge
        self.query = None  # attributes from the Observe's query (Core 1.2 6.4.1)

    def __repr__(self):
        target = self.paths if self.composite else self.path
        return "<Observation ssid=%d %r seq=%d%s>" % (self.ssid, target, self.seq,
                                                       " changed" if self.changed else "")

    def next_seq(self):
        self.seq = (self.seq + 1) & SEQ_MASK
        return self.seq

    def deadline(self, attrs):
        """When this observation should next be looked at, or None.

        A reported change is looked at once ``pmin`` passed since the last notification
        and ``epmin`` since the last evaluation; ``pmax`` forces a notification; ``epmax``
        forces an evaluation of a numeric value even without a reported change (Core
        1.1 section 5.1.1: the maximum evaluation period), which is what catches a
        reading the application computes on read and never reports."""
        pmin = attrs.get("pmin") or 0
        pmax = attrs.get("pmax") or 0
        epmin = attrs.get("epmin") or 0
        epmax = attrs.get("epmax") or 0
        due = None
        if self.changed:
            due = max(self.last_ms + int(pmin * 1000), self.last_eval_ms + int(epmin * 1000))
        if pmax and pmax >= pmin:
            at = self.last_ms + int(pmax * 1000)
            if due is None or at < due:
                due = at
        if epmax and epmax > epmin and self.last_value is not None:
            at = self.last_eval_ms + int(epmax * 1000)
            if due is None or at < due:
                due = at
        return due

    def should_notify(self, attrs, now_ms, value, numeric):
        """At a due deadline: notify now? ``value`` is the target's current value when
        it is one numeric resource (else None and ``numeric`` False)."""
        pmin = attrs.get("pmin") or 0
        pmax = attrs.get("pmax") or 0
        epmax = attrs.get("epmax") or 0
        sampled = False
        if not self.changed and epmax and numeric and self.last_value is not None and \
                now_ms >= self.last_eval_ms + int(epmax * 1000):
            sampled = True  # an evaluation the maximum evaluation period asks for
        self.last_eval_ms = now_ms
        if pmax and pmax >= pmin and now_ms >= self.last_ms + int(pmax * 1000):
            return True  # the maximum period ran out
        if not (self.changed or sampled):
            return False
        if now_ms < self.last_ms + int(pmin * 1000):
            # Only an evaluation the maximum evaluation period asked for comes here
            # before pmin: a condition it finds is notified when pmin ends (Core 1.1
            # section 5.1.1), so it is remembered as a change.
            if sampled and self._condition_met(attrs, value, numeric, sampled):
                self.changed = True
            return False
        if self._condition_met(attrs, value, numeric, sampled):
            return True
        self.changed = False  # a change too small to tell: wait for the next one
        return False

    def _condition_met(self, attrs, value, numeric, sampled):
        """Does ``value`` meet the value conditions against the last notified one
        (Core 1.1 section 5.1.2)? With none attached any change does."""
        if not numeric or self.last_value is None:
            return True
        gt = attrs.get("gt")
        lt = attrs.get("lt")
        st = attrs.get("st")
        last = self.last_value
        if gt is None and lt is None and st is None:
            return not sampled or value != last
        if gt is not None and (last <= gt) != (value <= gt):
            return True
        if lt is not None and (last < lt) != (value < lt):
            return True
        return st is not None and abs(value - last) >= st

    def confirmable(self, attrs, now_ms):
        """Send the next notification as CON? ``con`` in force (the attribute, else the
        Server object's Default Notification Mode ``/1/x/26``) says so, and in any
        case once a day, so a server that went away is noticed (RFC 7641 section
        4.5: at least every 24 hours)."""
        if attrs.get("con") == 1 or now_ms - self.last_con_ms >= DAY_MS:
            self.last_con_ms = now_ms
            return True
        return False

    def notified(self, now_ms, value):
        self.last_ms = now_ms
        self.last_value = value
        self.changed = False


class ObservationStore:
    """The observations of one client, at most ``capacity``."""

    def __init__(self, capacity=8):
        self.capacity = capacity
        self.items = []

    def __len__(self):
        return len(self.items)

    def find(self, addr, token):
        token = bytes(token)
        for obs in self.items:
            if obs.token == token and obs.addr == addr:
                return obs
        return None

    def add(self, obs):
        """Add ``obs``, replacing one with the same address and token (a re-Observe,
        RFC 7641 section 4.1); False when the store is full."""
        old = self.find(obs.addr, obs.token)
        if old is not None:
            self.items.remove(old)
        elif len(self.items) >= self.capacity:
            return False
        self.items.append(obs)
        return True

    def cancel(self, addr, token):
        obs = self.find(addr, token)
        if obs is not None:
            self.items.remove(obs)
        return obs

    def cancel_server(self, ssid):
        """Forget every observation of server ``ssid`` (it registered anew or left:
        observations do not survive a new Register, Core 1.1 section 6.4.1)."""
        self.items = [obs for obs in self.items if obs.ssid != ssid]

    def mark_changed(self, path):
        """A value at ``path`` changed: every observation with a path at, above or below
        it."""
        n = len(path)
        for obs in self.items:
            if obs.changed:
                continue
            for target in obs.paths:
                k = min(n, len(target))
                if target[:k] == path[:k]:
                    obs.changed = True
                    break


class Reporting:
    """Information reporting of one client: its observations, what is due when, and the
    notifications waiting to go out. ``client`` is the message-level client (its tree,
    DM handler, attribute store and accounts)."""

    def __init__(self, client, capacity):
        self.client = client
        self.store = ObservationStore(capacity)

    def observe(self, account, msg, addr, reply, response, now_ms):
        """Register or cancel an observation from a GET (Observe) or a FETCH
        (Observe-Composite) with Observe (RFC 7641 sections 2 and 3.6); returns the
        response to send. A request without Observe leaves it as it is."""
        try:
            value = msg.observe
        except LwM2MError:
            value = None
        if value == 1:
            self._cancel(addr, msg.token)
            return response
        if value != 0 or reply.code != m.CONTENT or not self.client.notifies:
            return response  # answered as a Read: no observation was set up
        composite = reply.op == "read-composite"
        if composite and reply.paths is None:
            return response
        path = path_from_segments(msg.opts(o.URI_PATH))
        # Changes made before this observation are older than the value just read.
        self.collect_changes()
        obs = Observation(account.ssid, addr, msg.token, path, reply.cf, now_ms,
                          reply.paths if composite else None)
        try:
            obs.query = self._query_attributes(msg, path, composite)
        except LwM2MError:
            return m.Message(code=m.BAD_REQUEST)
        if not self.store.add(obs):
            return m.Message(code=m.SERVICE_UNAVAILABLE)
        if not composite:
            obs.last_value = self._numeric_value(path)
            obs.last_bool = self._bool_value(path)
        response.observe = obs.next_seq()
        return response

    def _query_attributes(self, msg, path, composite):
        """Notification attributes in the Observe's query (Core 1.2 section 6.4.1):
        they apply to this observation only, over the attached ones, and are checked as
        Write-Attributes would check them (4.00 otherwise, nothing set up)."""
        queries = msg.strings(o.URI_QUERY)
        if not queries:
            return None
        from lwm2m_client.core.client.attributes import (
            check_consistency,
            check_level,
            parse_query,
        )

        parsed = parse_query(queries)
        # An Observe-Composite carries what an object instance may carry.
        at = (0, 0) if composite else path
        check_level(at, parsed, None if len(at) < 3 else self.client.tree.type_of(at))
        check_consistency(parsed)
        query = {}
        for name in parsed:
            if parsed[name] is not None:
                query[name] = parsed[name]
        return query

    def collect_changes(self):
        changes = self.client.tree.drain_changes()
        if not self.store.items:
            return  # nothing observes: the log must not keep old changes for later
        for path in changes:
            self.store.mark_changed(path)

    def get_timer(self):
        """The earliest observation deadline (maybe in the past: a change is waiting)."""
        self.collect_changes()
        deadline = None
        for obs in self.store.items:
            t = obs.deadline(self._attributes_of(obs))
            if t is not None and (deadline is None or t < deadline):
                deadline = t
        return deadline

    def handle_timer(self, now_ms):
        self.collect_changes()
        for obs in list(self.store.items):
            attrs = self._attributes_of(obs)
            t = obs.deadline(attrs)
            if t is not None and t <= now_ms:
                self._notify(obs, attrs, now_ms)

    def _attributes_of(self, obs):
        client = self.client
        tree = client.tree
        defaults = {}
        account = client._account(obs.ssid)
        if account is not None:
            # Default Minimum/Maximum Period and Default Notification Mode (Object 1).
            for name, rid in (("pmin", 2), ("pmax", 3), ("con", 26)):
                if tree.has((1, account.server_iid, rid)):
                    defaults[name] = tree.get((1, account.server_iid, rid))
        if not obs.composite:
            attrs = client.attributes.effective(obs.ssid, obs.path, defaults)
            if obs.query:
                attrs.update(obs.query)
            return attrs
        # Observe-Composite: the largest pmin, the smallest pmax of its paths; con at
        # any of them; no value conditions.
        result = {}
        for path in obs.paths:
            attrs = client.attributes.effective(obs.ssid, path, defaults)
            pmin = attrs.get("pmin")
            if pmin and pmin > result.get("pmin", 0):
                result["pmin"] = pmin
            pmax = attrs.get("pmax")
            if pmax and ("pmax" not in result or pmax < result["pmax"]):
                result["pmax"] = pmax
            if attrs.get("con") == 1:
                result["con"] = 1
            hqmax = attrs.get("hqmax")
            if hqmax is not None and ("hqmax" not in result or hqmax < result["hqmax"]):
                result["hqmax"] = hqmax
        if obs.query:
            result.update(obs.query)
        return result

    def _numeric_value(self, path):
        tree = self.client.tree
        if not is_numeric_resource(tree, path):
            return None
        try:
            value = tree.get(path)
        except (LwM2MError, UsageError):
            return None
        return value if type(value) is int or type(value) is float else None

    def _bool_value(self, path):
        tree = self.client.tree
        if len(path) < 3 or tree.type_of(path) != _t.T_BOOLEAN:
            return None
        try:
            value = tree.get(path)
        except (LwM2MError, UsageError):
            return None
        return value if type(value) is bool else None

    def _edge(self, obs, edge):
        """Core 1.2 section 5.1.2: with ``edge`` attached to a Boolean resource only
        the transition it names counts as a change (1 false to true, 0 true to
        false); any other change is no reason to notify (pmax still is)."""
        current = self._bool_value(obs.path)
        before = obs.last_bool
        obs.last_bool = current
        if before is None or current is None or current == before or \
                current != (edge == 1):
            obs.changed = False

    def _notify(self, obs, attrs, now_ms):
        value = None if obs.composite else self._numeric_value(obs.path)
        edge = None if obs.composite else attrs.get("edge")
        if edge is not None and obs.changed:
            self._edge(obs, edge)
        if not obs.should_notify(attrs, now_ms, value, value is not None):
            return
        if obs.composite:
            from lwm2m_client.core.client import composite
            code, body = composite.notification(self.client.handler, obs.paths,
                                                obs.accept, obs.ssid)
        else:
            # Under access control a server that lost R gets 4.01, which ends it.
            code, body = self.client.handler.notification(obs.path, obs.accept, obs.ssid)
        msg = m.Message(m.CON if obs.confirmable(attrs, now_ms) else m.NON, code)
        msg.token = obs.token
        if code == m.CONTENT:
            msg.observe = obs.next_seq()
            msg.content_format = obs.accept
            msg.payload = bytes(body)
            obs.notified(now_ms, value)
        else:
            self.store.cancel(obs.addr, obs.token)  # an error notification ends it
        client = self.client
        client.delivery.notify(client._account(obs.ssid), obs, msg, attrs.get("hqmax"),
                               now_ms)

    def _cancel(self, addr, token):
        obs = self.store.cancel(addr, token)
        if obs is not None and self.client._delivery is not None:
            self.client._delivery.observation_gone(obs.ssid, obs.token)


def is_numeric_resource(tree, path):
    """True when ``path`` names one resource (or resource instance) of a numeric type,
    the only targets gt/lt/st apply to (Core 1.1 section 5.1.2)."""
    if len(path) < 3:
        return False
    return tree.type_of(path) in _NUMERIC
