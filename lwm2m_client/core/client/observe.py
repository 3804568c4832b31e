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

The store is bounded (``capacity``): one more observation than it holds is refused, the
request answered 5.03 Service Unavailable (RFC 7252 section 5.9.3.4: a temporary
inability; the server may retry after others were cancelled).
"""

from lwm2m_client.core.dm import types as _t

_NUMERIC = (_t.T_INTEGER, _t.T_UNSIGNED, _t.T_FLOAT)

# RFC 7641 section 4.4: the Observe value is 24 bits and wraps.
SEQ_MASK = 0xFFFFFF
DAY_MS = 86400000


class Observation:
    """One server's observation of ``path`` with ``token`` from ``addr``; ``accept`` is the
    content format of its notifications (the one the first answer used)."""

    def __init__(self, ssid, addr, token, path, accept, now_ms):
        self.ssid = ssid
        self.addr = addr
        self.token = bytes(token)
        self.path = path
        self.accept = accept
        self.seq = 0
        self.last_ms = now_ms
        self.last_value = None  # the value last notified (single numeric resources)
        self.changed = False
        self.last_con_ms = now_ms  # when a confirmable notification last went out

    def __repr__(self):
        return "<Observation ssid=%d %r seq=%d%s>" % (self.ssid, self.path, self.seq,
                                                       " changed" if self.changed else "")

    def next_seq(self):
        self.seq = (self.seq + 1) & SEQ_MASK
        return self.seq

    def deadline(self, attrs):
        """When this observation should next be looked at, or None."""
        pmin = attrs.get("pmin") or 0
        pmax = attrs.get("pmax") or 0
        due = None
        if self.changed:
            due = self.last_ms + int(pmin * 1000)
        if pmax and pmax >= pmin:
            at = self.last_ms + int(pmax * 1000)
            if due is None or at < due:
                due = at
        return due

    def should_notify(self, attrs, now_ms, value, numeric):
        """At a due deadline: notify now? ``value`` is the target's current value when
        it is one numeric resource (else None and ``numeric`` False)."""
        pmin = attrs.get("pmin") or 0
        pmax = attrs.get("pmax") or 0
        if pmax and pmax >= pmin and now_ms >= self.last_ms + int(pmax * 1000):
            return True  # the maximum period ran out
        if not self.changed or now_ms < self.last_ms + int(pmin * 1000):
            return False
        if not numeric or self.last_value is None:
            return True
        gt = attrs.get("gt")
        lt = attrs.get("lt")
        st = attrs.get("st")
        if gt is None and lt is None and st is None:
            return True
        last = self.last_value
        if gt is not None and (last <= gt) != (value <= gt):
            return True
        if lt is not None and (last < lt) != (value < lt):
            return True
        if st is not None and abs(value - last) >= st:
            return True
        self.changed = False  # a change too small to tell: wait for the next one
        return False

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
        """A value at ``path`` changed: every observation at, above or below it."""
        n = len(path)
        for obs in self.items:
            target = obs.path
            k = min(n, len(target))
            if target[:k] == path[:k]:
                obs.changed = True


def is_numeric_resource(tree, path):
    """True when ``path`` names one resource (or resource instance) of a numeric type,
    the only targets gt/lt/st apply to (Core 1.1 section 5.1.2)."""
    if len(path) < 3:
        return False
    return tree.type_of(path) in _NUMERIC
