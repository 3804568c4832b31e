"""Notification delivery: send now, or keep for later (LwM2M Core 1.1 section 6.4,
Object 1 resource 6; Transport 1.1 section 6.5; RFC 7641 section 4.5).

A notification goes out at once when its server is reachable and nothing older for that
server is still kept. Otherwise -- the client sleeps in queue mode, a confirmable
notification or an Update went unanswered, the registration is being renewed -- it is
kept in a :class:`NotificationStore` when the server's Notification Storing When
Disabled or Offline ``/1/x/6`` is true (its default), and delivered oldest first, one
at a time and confirmable, once the server answered an Update. A confirmable
notification that is never acknowledged is kept the same way instead of ending its
observation (an RST still ends it).

The store is bounded in messages and bytes (``ClientConfig.store_capacity`` and
``store_bytes``). Nothing leaves it silently: an overflow drops the oldest kept
notification (:data:`DROP_OLDEST`) or refuses the new one (:data:`REFUSE_NEW`), as
configured; ``hqmax`` (Core 1.2 section 5.1.1, the historical queue of one
observation) drops the oldest of that observation first; a new Register (which ends
every observation, Core 1.1 section 6.4.1) drops what was kept for that server. Each
loss is counted in :attr:`NotificationStore.dropped` and reported as a
:class:`~lwm2m_client.core.client.events.NotificationsDropped` event.
"""

from lwm2m_client.core.client import events as ev
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.errors import LwM2MError

DROP_OLDEST = "drop-oldest"
REFUSE_NEW = "refuse-new"
POLICIES = (DROP_OLDEST, REFUSE_NEW)

# Why notifications were dropped (NotificationsDropped.reason).
OVERFLOW = "overflow"
HQMAX = "hqmax"
STORING_OFF = "storing-off"
ENDED = "observation-ended"


class StoredNotification:
    """One notification as it was made: ``stamp`` orders all of them (the order they
    were made in), ``seq`` is its Observe value, ``code``/``cf``/``payload`` its
    content; ``con`` whether it was first made confirmable."""

    def __init__(self, stamp, ssid, addr, token, seq, code, cf, payload, con):
        self.stamp = stamp
        self.ssid = ssid
        self.addr = addr
        self.token = token
        self.seq = seq
        self.code = code
        self.cf = cf
        self.payload = payload
        self.con = con
        self.inflight = False

    def __repr__(self):
        return "<StoredNotification #%d ssid=%d seq=%r %d bytes%s>" % (
            self.stamp, self.ssid, self.seq, len(self.payload),
            " in flight" if self.inflight else "")

    def message(self, con):
        msg = m.Message(m.CON if con else m.NON, self.code)
        msg.token = self.token
        if self.seq is not None:
            msg.observe = self.seq
        if self.cf is not None:
            msg.content_format = self.cf
        msg.payload = self.payload
        return msg


class NotificationStore:
    """At most ``capacity`` notifications of at most ``max_bytes`` payload bytes in all,
    in the order they were made; ``policy`` says what an overflow drops."""

    def __init__(self, capacity=16, max_bytes=4096, policy=DROP_OLDEST):
        self.capacity = capacity
        self.max_bytes = max_bytes
        self.policy = policy
        self.items = []
        self.size = 0
        self.dropped = 0

    def __len__(self):
        return len(self.items)

    def count(self, ssid):
        n = 0
        for item in self.items:
            if item.ssid == ssid:
                n += 1
        return n

    def put(self, entry, hqmax=None):
        """Keep ``entry``; returns ``(reason, n)`` for what had to go, or None."""
        lost = None
        if hqmax is not None:
            same = [i for i in self.items if i.ssid == entry.ssid and
                    i.token == entry.token and not i.inflight]
            if len(same) >= hqmax:
                if hqmax == 0 or self.policy == REFUSE_NEW:
                    return self._lose(HQMAX, 1)
                for old in same[:len(same) - hqmax + 1]:
                    self._remove(old)
                lost = self._lose(HQMAX, len(same) - hqmax + 1)
        need = len(entry.payload)
        if need > self.max_bytes or self.capacity == 0:
            return self._lose(OVERFLOW, 1)
        gone = 0
        while len(self.items) >= self.capacity or self.size + need > self.max_bytes:
            victim = self._oldest_at_rest()
            if self.policy == REFUSE_NEW or victim is None:
                return self._lose(OVERFLOW, 1 + gone)
            self._remove(victim)
            gone += 1
        i = len(self.items)
        while i > 0 and self.items[i - 1].stamp > entry.stamp:
            i -= 1  # a notification kept late (its CON failed) goes back in its place
        self.items.insert(i, entry)
        self.size += need
        return self._lose(OVERFLOW, gone) if gone else lost

    def next_for(self, ssid):
        """The oldest kept notification of server ``ssid`` when none of its is in
        flight (one at a time keeps them in order), else None."""
        for item in self.items:
            if item.ssid == ssid:
                return None if item.inflight else item
        return None

    def busy(self, ssid):
        for item in self.items:
            if item.ssid == ssid and item.inflight:
                return True
        return False

    def find_inflight(self, addr, token):
        for item in self.items:
            if item.inflight and item.token == token and item.addr == addr:
                return item
        return None

    def remove(self, entry):
        if entry in self.items:
            self._remove(entry)

    def drop(self, ssid, token=None):
        """Forget what is kept for ``ssid`` (one observation's when ``token``); returns
        how many went."""
        gone = [i for i in self.items if i.ssid == ssid and
                (token is None or i.token == token)]
        for item in gone:
            self._remove(item)
        self.dropped += len(gone)
        return len(gone)

    def _oldest_at_rest(self):
        for item in self.items:
            if not item.inflight:
                return item
        return None

    def _remove(self, entry):
        self.items.remove(entry)
        self.size -= len(entry.payload)

    def _lose(self, reason, n):
        self.dropped += n
        return (reason, n)


class Delivery:
    """When and how the notifications of one client go out. ``client`` is the
    message-level client (accounts, tree, events); ``config`` its ClientConfig."""

    def __init__(self, client, config):
        self.client = client
        self.store = NotificationStore(config.store_capacity, config.store_bytes,
                                       config.store_policy)
        self._stamp = 0
        self._inflight = []  # CON notifications sent at once, until ACK or failure
        self._out = []  # (msg, addr) for notifications_to_send

    def take(self):
        out = self._out
        self._out = []
        return out

    def busy(self, ssid):
        """Something of server ``ssid`` is on the wire: it must not go to sleep."""
        for entry in self._inflight:
            if entry.ssid == ssid:
                return True
        return self.store.busy(ssid)

    def notify(self, account, obs, msg, hqmax, now_ms):
        """Deliver ``msg`` (made for ``obs``) to ``account``: at once, or kept."""
        self._stamp += 1
        payload = msg.payload
        try:
            seq = msg.observe
        except LwM2MError:
            seq = None
        entry = StoredNotification(self._stamp, obs.ssid, obs.addr, obs.token, seq,
                                   msg.code, msg.content_format, payload,
                                   msg.mtype == m.CON)
        if self._reachable(account) and self.store.count(account.ssid) == 0:
            self._out.append((msg, obs.addr))
            if entry.con:
                self._inflight.append(entry)
            self.client._touch(account, now_ms)
            return
        self._keep(account, entry, hqmax, now_ms)

    def acknowledged(self, token, addr, now_ms):
        entry = self._take_inflight(addr, token)
        if entry is None:
            entry = self.store.find_inflight(addr, token)
            if entry is None:
                return
            self.store.remove(entry)
        self.flush(self.client._account(entry.ssid), now_ms)

    def failed(self, token, addr, now_ms, reset):
        """A notification was rejected (``reset``) or never acknowledged. Returns True
        when it was kept (the observation goes on), False when the observation ends."""
        entry = self._take_inflight(addr, token)
        stored = entry is None
        if stored:
            entry = self.store.find_inflight(addr, token)
        account = self.client._account(entry.ssid) if entry is not None else None
        if reset or entry is None or account is None:
            if entry is not None:
                if stored:
                    self.store.remove(entry)
                self._lost(entry.ssid, 1)  # refused: the reading did not get through
            return False
        if stored:
            entry.inflight = False
        elif not self._keep(account, entry, None, now_ms, False):
            return False
        # The server is unreachable: what follows is kept until an Update gets through.
        account.reachable = False
        self.client._wake(account, now_ms)
        return True

    def unsent(self, msg, addr, now_ms):
        """The endpoint had no room for ``msg`` (its exchanges are all taken): keep
        it for the next flush; the server is not to blame."""
        entry = self._take_inflight(addr, msg.token)
        if entry is None:
            entry = self.store.find_inflight(addr, msg.token)
            if entry is not None:
                entry.inflight = False
            return
        # Kept whatever /1/x/6 says: the server is reachable, the client is only
        # congested, and the latest value must still reach it (RFC 7641 4.5.2).
        lost = self.store.put(entry, None)
        if lost is not None:
            self.client._emit(ev.NotificationsDropped(entry.ssid, lost[0], lost[1],
                                                      self.store.dropped))

    def flush(self, account, now_ms):
        """Send the oldest kept notification of ``account`` when it can go."""
        if account is None or not self._reachable(account):
            return
        entry = self.store.next_for(account.ssid)
        if entry is None:
            return
        entry.inflight = True
        # Confirmable whatever it was made as: a kept reading is only let go once the
        # server has it.
        self._out.append((entry.message(True), entry.addr))
        self.client._touch(account, now_ms)

    def server_gone(self, ssid):
        """The observations of ``ssid`` ended (a new Register, a De-register): what
        was kept for them, and what is on the wire unconfirmed, counts as lost."""
        self.observation_gone(ssid, None)

    def observation_gone(self, ssid, token):
        keep = []
        n = 0
        for entry in self._inflight:
            if entry.ssid == ssid and (token is None or entry.token == token):
                n += 1
            else:
                keep.append(entry)
        self._inflight = keep
        self.store.dropped += n
        self._lost(ssid, n + self.store.drop(ssid, token), False)

    def _lost(self, ssid, n, count=True):
        if count:
            self.store.dropped += n
        if n:
            self.client._emit(ev.NotificationsDropped(ssid, ENDED, n, self.store.dropped))

    def _keep(self, account, entry, hqmax, now_ms, wake=True):
        if not storing_enabled(self.client.tree, account):
            self.store.dropped += 1
            self.client._emit(ev.NotificationsDropped(account.ssid, STORING_OFF, 1,
                                                      self.store.dropped))
            return False
        lost = self.store.put(entry, hqmax)
        if lost is not None:
            self.client._emit(ev.NotificationsDropped(account.ssid, lost[0], lost[1],
                                                      self.store.dropped))
        if wake:
            self.client._wake(account, now_ms)
        return entry in self.store.items

    def _take_inflight(self, addr, token):
        for entry in self._inflight:
            if entry.token == token and entry.addr == addr:
                self._inflight.remove(entry)
                return entry
        return None

    @staticmethod
    def _reachable(account):
        return account is not None and account.reachable and \
            account.registration.is_registered


def storing_enabled(tree, account):
    """Notification Storing When Disabled or Offline ``/1/x/6`` (default true)."""
    path = (1, account.server_iid, 6)
    if tree.has(path):
        return bool(tree.get(path))
    return True
