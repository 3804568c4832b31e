"""CoAP messaging layer (RFC 7252 §4), sans-IO.

``Endpoint`` turns requests and responses into datagrams and back: it retransmits
Confirmable messages with exponential back-off, matches ACK/RST by message ID and
responses by token, detects duplicates and answers them from a cache, and rejects what
it cannot process. It never reads a clock or a socket: the caller passes ``now_ms``,
feeds received datagrams to ``receive()``, sends what ``datagrams_to_send()`` returns
and calls ``handle_timer()`` when ``get_timer()`` says so.

Every table is bounded: pending exchanges (``max_exchanges``), the duplicate caches
(``dedup_capacity``, oldest evicted) and the outgoing datagram queue (``send_capacity``,
new datagrams dropped and counted in ``dropped`` when full; retransmission recovers).
"""

from lwm2m_client.core.coap import message as m
from lwm2m_client.core.coap.events import (
    Acknowledged,
    RequestReceived,
    RequestTimedOut,
    Reset,
    ResponseReceived,
)
from lwm2m_client.core.coap.options import KNOWN_CRITICAL
from lwm2m_client.core.errors import DecodeError, UsageError

# States of an outgoing exchange: waiting for NSTART room, waiting for the ACK of a CON,
# waiting for the (separate or NON) response to a request.
QUEUED = 0
WAIT_ACK = 1
WAIT_RESPONSE = 2


class Tuning:
    """CoAP transmission parameters (RFC 7252 §4.8) and the values derived from them
    (§4.8.2). Times are in milliseconds; the defaults are the RFC's and tests shrink
    them instead of sleeping.

    Base parameters (§4.8, defaults in brackets): ``ack_timeout`` ACK_TIMEOUT [2000],
    ``ack_random_factor`` ACK_RANDOM_FACTOR [1.5], ``max_retransmit`` MAX_RETRANSMIT [4],
    ``nstart`` NSTART [1], ``default_leisure`` DEFAULT_LEISURE [5000], ``probing_rate``
    PROBING_RATE in bytes/s [1]; and the two assumptions of §4.8.2: ``max_latency``
    MAX_LATENCY [100000] and ``processing_delay`` PROCESSING_DELAY [None: ACK_TIMEOUT].
    Local limits: ``max_message_size`` (the encode buffer) and ``token_length``.

    Derived once here, rounded to the nearest ms (§4.8.2; values for the defaults)::

        max_transmit_span = ACK_TIMEOUT * (2 ** MAX_RETRANSMIT - 1) * ACK_RANDOM_FACTOR
                                                                          #  45000
        max_transmit_wait = ACK_TIMEOUT * (2 ** (MAX_RETRANSMIT + 1) - 1)
                            * ACK_RANDOM_FACTOR                           #  93000
        max_rtt           = 2 * MAX_LATENCY + PROCESSING_DELAY            # 202000
        exchange_lifetime = MAX_TRANSMIT_SPAN + 2 * MAX_LATENCY + PROCESSING_DELAY
                                                                          # 247000
        non_lifetime      = MAX_TRANSMIT_SPAN + MAX_LATENCY               # 145000

    Every attribute is meant to be read only: the derived values are not recomputed,
    so a different parameter needs a new Tuning. A bad value raises UsageError.
    """

    def __init__(self, ack_timeout=2000, ack_random_factor=1.5, max_retransmit=4, nstart=1,
                 default_leisure=5000, probing_rate=1, max_latency=100000,
                 processing_delay=None, max_message_size=1152, token_length=4):
        if processing_delay is None:
            processing_delay = ack_timeout  # the conservative choice of §4.8.2
        _check(ack_timeout > 0, "ack_timeout", "> 0 ms", ack_timeout)
        # §4.8.1: ACK_RANDOM_FACTOR must not be decreased below 1.0.
        _check(ack_random_factor >= 1, "ack_random_factor", ">= 1", ack_random_factor)
        _check(max_retransmit >= 0, "max_retransmit", ">= 0", max_retransmit)
        _check(nstart >= 1, "nstart", ">= 1", nstart)
        _check(default_leisure >= 0, "default_leisure", ">= 0 ms", default_leisure)
        _check(probing_rate > 0, "probing_rate", "> 0 bytes/s", probing_rate)
        _check(max_latency >= 0, "max_latency", ">= 0 ms", max_latency)
        _check(processing_delay >= 0, "processing_delay", ">= 0 ms", processing_delay)
        # The smallest block is 16 bytes (RFC 7959 §2.2); with the 4-byte header, an
        # 8-byte token (RFC 7252 §3) and the payload marker, 64 bytes leave 35 for the
        # options (a Block1/Block2 option takes up to 5, §3.1; paths the rest).
        _check(max_message_size >= MIN_MESSAGE_SIZE, "max_message_size",
               ">= %d bytes" % MIN_MESSAGE_SIZE, max_message_size)
        # §5.3.1: a token is 0 to 8 bytes; ours are never empty so they can match.
        _check(1 <= token_length <= 8, "token_length", "1..8", token_length)
        self.ack_timeout = ack_timeout
        self.ack_random_factor = ack_random_factor
        self.max_retransmit = max_retransmit
        self.nstart = nstart
        self.default_leisure = default_leisure
        self.probing_rate = probing_rate
        self.max_latency = max_latency
        self.processing_delay = processing_delay
        self.max_message_size = max_message_size
        self.token_length = token_length
        # RFC 7252 §4.8.2.
        self.max_transmit_span = _ms(ack_timeout * ((1 << max_retransmit) - 1)
                                     * ack_random_factor)
        self.max_transmit_wait = _ms(ack_timeout * ((1 << (max_retransmit + 1)) - 1)
                                     * ack_random_factor)
        self.max_rtt = _ms(2 * max_latency + processing_delay)
        self.exchange_lifetime = _ms(self.max_transmit_span + 2 * max_latency
                                     + processing_delay)
        self.non_lifetime = _ms(self.max_transmit_span + max_latency)

    def __repr__(self):
        return ("<Tuning ack_timeout=%d factor=%s max_retransmit=%d nstart=%d "
                "exchange_lifetime=%d non_lifetime=%d>" % (
                    self.ack_timeout, self.ack_random_factor, self.max_retransmit,
                    self.nstart, self.exchange_lifetime, self.non_lifetime))

    def initial_timeout(self, rng):
        """Uniform in [ACK_TIMEOUT, ACK_TIMEOUT * ACK_RANDOM_FACTOR) (RFC 7252 §4.2),
        from one ``rng.getrandbits(16)`` draw."""
        span = int(self.ack_timeout * self.ack_random_factor) - self.ack_timeout
        return self.ack_timeout + ((span * rng.getrandbits(16)) >> 16)


# The smallest ``Tuning.max_message_size`` (see the comment in Tuning.__init__).
MIN_MESSAGE_SIZE = 64


def _check(ok, name, rule, value):
    if not ok:
        raise UsageError("Tuning: %s must be %s, got %r" % (name, rule, value))


def _ms(value):
    """Round a non-negative time to whole milliseconds, absorbing float error."""
    return int(value + 0.5)


class EndpointBusy(Exception):
    """Application overload: the table of pending exchanges is full."""


class DedupCache:
    """Recently seen (peer, message ID) pairs for duplicate detection (RFC 7252 §4.5).

    A fixed ring of ``capacity`` keys: entries expire ``lifetime`` ms after they were
    added, in insertion order, and the oldest is evicted when the ring is full. Each
    entry holds the encoded reply to resend for a duplicate (None while there is none).
    """

    def __init__(self, capacity, lifetime):
        self.capacity = capacity
        self.lifetime = lifetime
        self._ring = [None] * capacity
        self._head = 0
        self._count = 0
        self._map = {}

    def __len__(self):
        return self._count

    def _pop_oldest(self):
        key = self._ring[self._head]
        self._ring[self._head] = None
        self._head = (self._head + 1) % self.capacity
        self._count -= 1
        del self._map[key]

    def _purge(self, now_ms):
        while self._count and self._map[self._ring[self._head]][0] <= now_ms:
            self._pop_oldest()

    def get(self, key, now_ms):
        """The live entry ``[expires_ms, reply]`` for ``key``, or None."""
        self._purge(now_ms)
        return self._map.get(key)

    def add(self, key, now_ms, reply=None):
        self._purge(now_ms)
        if self._count == self.capacity:
            self._pop_oldest()
        entry = [now_ms + self.lifetime, reply]
        self._ring[(self._head + self._count) % self.capacity] = key
        self._count += 1
        self._map[key] = entry
        return entry


class _Exchange:
    """One outgoing CON or request: its bytes, where it is, and its retransmission timer."""

    def __init__(self, addr, token, mid, data, is_request, confirmable):
        self.addr = addr
        self.token = token
        self.mid = mid
        self.data = data
        self.is_request = is_request
        self.confirmable = confirmable
        self.state = QUEUED
        self.deadline = 0
        self.timeout = 0
        self.retransmits = 0

    def __repr__(self):
        return "<Exchange mid=0x%04x state=%d deadline=%d>" % (self.mid, self.state,
                                                                self.deadline)


# Marks a remembered request that was ignored: its retransmission is a new delivery.
_IGNORED = bytearray(0)


def _empty(mtype, mid):
    """The 4 bytes of an Empty ACK or RST for ``mid`` (RFC 7252 §4.2, §4.3)."""
    return bytes((0x40 | mtype << 4, 0, (mid >> 8) & 0xFF, mid & 0xFF))


def _reject_mid(data):
    """The message ID to echo in an RST for a datagram that failed to decode, or None
    when it gets no answer. What each case gets, per RFC 7252:

    - shorter than the 4-byte header: nothing, there is no message ID to echo (§3);
    - version other than 1: nothing, such messages "MUST be silently ignored" (§3);
    - a CON with a message format error: an Empty RST with its message ID, since a CON
      that "has a message format error" is rejected with a matching Reset (§4.2).
      Format errors are a token length of 9-15 (§3), an option delta or length nibble
      of 15 outside the payload marker (§3.1), a payload marker with no payload (§3),
      an option or token running past the end (§3), an option number above the
      16-bit range (§3.1, §12.2), and an Empty message (code 0.00) with a token or
      any byte after the message ID (§4.1);
    - a NON with a format error: nothing. §4.3 says rejecting a NON "MAY involve
      sending a matching Reset message" and the message is otherwise silently
      ignored; we take the silent option, which also gives a spoofed source nothing;
    - an ACK or RST with a format error: nothing. §4.2: they are rejected by silently
      ignoring them, and their recipients "MUST NOT respond with either
      Acknowledgement or Reset messages".
    """
    if len(data) < 4:
        return None
    b0 = data[0]
    if b0 >> 6 != 1 or (b0 >> 4) & 3 != m.CON:
        return None
    return data[2] << 8 | data[3]


class Endpoint:
    """The messaging layer towards one or a few peers, keyed by their address."""

    def __init__(self, rng, tuning=None, max_exchanges=8, dedup_capacity=16,
                 send_capacity=32, known_critical=KNOWN_CRITICAL, non_capacity=None):
        self.rng = rng
        self.tuning = tuning = tuning or Tuning()
        self.max_exchanges = max_exchanges
        self.send_capacity = send_capacity
        self.known_critical = known_critical
        self.dropped = 0
        self._buf = bytearray(tuning.max_message_size)
        self._mid = rng.getrandbits(16)  # RFC 7252 §4.4: start at a random value
        self._exchanges = []
        self._con_seen = DedupCache(dedup_capacity, tuning.exchange_lifetime)
        self._non_seen = DedupCache(dedup_capacity, tuning.non_lifetime)
        # NON messages sent recently, so an RST to one can be matched (RFC 7641 §3.6):
        # a client with many observations needs one per observation in a wave.
        self._non_sent = DedupCache(non_capacity or max_exchanges, tuning.non_lifetime)
        self._out = []

    def __repr__(self):
        return "<Endpoint exchanges=%d out=%d>" % (len(self._exchanges), len(self._out))

    # --- sending ---------------------------------------------------------------------
    def new_token(self):
        """A random token not used by a pending exchange (RFC 7252 §5.3.1)."""
        n = self.tuning.token_length
        while True:
            token = bytearray(n)
            for i in range(0, n, 4):
                word = self.rng.getrandbits(32)
                for j in range(i, min(i + 4, n)):
                    token[j] = word & 0xFF
                    word >>= 8
            token = bytes(token)
            if self._find_token(None, token) is None:
                return token

    def _next_mid(self):
        self._mid = (self._mid + 1) & 0xFFFF
        return self._mid

    def _encode(self, msg):
        # One copy out of the message buffer (a slice of the bytearray would be two):
        # the datagram waits in the send queue and the duplicate cache.
        n = m.encode_into(msg, self._buf)
        return bytes(memoryview(self._buf)[:n])

    def _queue(self, data, addr):
        if len(self._out) >= self.send_capacity:
            self.dropped += 1
            return
        self._out.append((data, addr))

    def request(self, msg, addr, now_ms):
        """Send a CON or NON request; return its token. An empty ``msg.token`` is
        replaced by a fresh one. Raises EndpointBusy when the exchange table is full."""
        if not msg.token:
            msg.token = self.new_token()
        self._start(msg, addr, now_ms, True)
        return msg.token

    def send(self, msg, addr, now_ms):
        """Send a CON or NON message that is not a request: a notification (RFC 7641
        §4.2) or a separate response, on the token the caller sets. Returns its MID."""
        if msg.mtype == m.NON:
            msg.mid = self._next_mid()
            self._queue(self._encode(msg), addr)
            self._non_sent.add((addr, msg.mid), now_ms, msg.token)
            return msg.mid
        return self._start(msg, addr, now_ms, False).mid

    def _start(self, msg, addr, now_ms, is_request):
        if msg.mtype != m.CON and msg.mtype != m.NON:
            raise ValueError("only CON and NON messages start an exchange")
        if len(self._exchanges) >= self.max_exchanges:
            raise EndpointBusy("%d exchanges pending" % len(self._exchanges))
        msg.mid = self._next_mid()
        ex = _Exchange(addr, msg.token, msg.mid, self._encode(msg), is_request,
                       msg.mtype == m.CON)
        self._exchanges.append(ex)
        if ex.confirmable:
            self._start_queued(addr, now_ms)
        else:
            self._queue(ex.data, addr)
            ex.state = WAIT_RESPONSE
            ex.deadline = now_ms + self.tuning.non_lifetime
        return ex

    def _start_queued(self, addr, now_ms):
        """Transmit queued CONs to ``addr`` while fewer than NSTART are outstanding
        (RFC 7252 §4.7). Only CONs awaiting their ACK count: NON messages are not held."""
        busy = 0
        for ex in self._exchanges:
            if ex.addr == addr and ex.state == WAIT_ACK:
                busy += 1
        for ex in self._exchanges:
            if busy >= self.tuning.nstart:
                return
            if ex.addr == addr and ex.state == QUEUED:
                ex.state = WAIT_ACK
                ex.timeout = self.tuning.initial_timeout(self.rng)
                ex.deadline = now_ms + ex.timeout
                self._queue(ex.data, addr)
                busy += 1

    def respond(self, request, addr, response, now_ms):
        """Answer a received request: piggybacked on the ACK for a CON (RFC 7252 §5.2.1),
        as a NON for a NON (§5.2.3). Sets ``response``'s type, MID and token."""
        response.token = request.token
        if request.mtype == m.CON:
            response.mtype = m.ACK
            response.mid = request.mid
            data = self._encode(response)
            entry = self._con_seen.get((addr, request.mid), now_ms)
            if entry is not None:
                entry[1] = data  # a duplicate of the request now gets this answer
        else:
            response.mtype = m.NON
            response.mid = self._next_mid()
            data = self._encode(response)
        self._queue(data, addr)

    def room(self):
        """How many more exchanges may start now."""
        return self.max_exchanges - len(self._exchanges)

    def ignore(self, request, addr, now_ms):
        """The request was not acted on (the layer above does not serve ``addr`` yet):
        a retransmission of it is delivered again rather than taken for a duplicate."""
        seen = self._con_seen if request.mtype == m.CON else self._non_seen
        entry = seen.get((addr, request.mid), now_ms)
        if entry is not None:
            entry[1] = _IGNORED

    def cancel(self, token, now_ms, addr=None):
        """Forget a pending request without an event (the engine lost interest)."""
        ex = self._find_token(addr, token)
        if ex is not None:
            self._finish(ex, now_ms)

    def _finish(self, ex, now_ms):
        self._exchanges.remove(ex)
        if ex.state == WAIT_ACK:
            self._start_queued(ex.addr, now_ms)

    def _find_token(self, addr, token):
        for ex in self._exchanges:
            if ex.is_request and ex.token == token and (addr is None or ex.addr == addr):
                return ex
        return None

    # --- I/O hooks ---------------------------------------------------------------
    def datagrams_to_send(self):
        """Drain the outgoing queue: a list of ``(bytes, addr)``."""
        out = self._out
        self._out = []
        return out

    def get_timer(self):
        """The next deadline in ms, or None when nothing waits for time."""
        deadline = None
        for ex in self._exchanges:
            if ex.state != QUEUED and (deadline is None or ex.deadline < deadline):
                deadline = ex.deadline
        return deadline

    def handle_timer(self, now_ms):
        """Retransmit due CONs with doubled timeout (RFC 7252 §4.2); give up after
        MAX_RETRANSMIT. Returns the list of RequestTimedOut events."""
        events = []
        for ex in list(self._exchanges):
            if ex.state == QUEUED or ex.deadline > now_ms:
                continue
            if ex.state == WAIT_ACK and ex.retransmits < self.tuning.max_retransmit:
                ex.retransmits += 1
                ex.timeout *= 2
                ex.deadline = now_ms + ex.timeout
                self._queue(ex.data, ex.addr)
            else:
                self._finish(ex, now_ms)
                events.append(RequestTimedOut(ex.token, ex.addr))
        return events

    def receive(self, data, addr, now_ms):
        """Process one datagram from ``addr``; return a list of events. Never raises for
        what the peer sends: an undecodable CON is rejected with an RST, anything else
        undecodable is dropped (RFC 7252 §4.2, §4.3; see ``_reject_mid``)."""
        try:
            msg = m.decode(data)
        except DecodeError:
            mid = _reject_mid(data)
            if mid is not None:
                # One 4-byte RST per datagram of at least 4 bytes, through the bounded
                # send queue: a flood of garbage cannot make us send more than it did.
                self._queue(_empty(m.RST, mid), addr)
            return []
        events = []
        if msg.mtype == m.ACK or msg.mtype == m.RST:
            self._on_ack_or_rst(msg, addr, now_ms, events)
            return events
        confirmable = msg.mtype == m.CON
        key = (addr, msg.mid)
        seen = self._con_seen if confirmable else self._non_seen
        entry = seen.get(key, now_ms)
        if entry is not None and entry[1] is not _IGNORED:
            # A duplicate: resend the cached reply, never deliver twice (RFC 7252 §4.5).
            if confirmable and entry[1] is not None:
                self._queue(entry[1], addr)
            return events
        cls = m.code_class(msg.code)
        if cls == 0 and msg.code != m.EMPTY:
            if entry is None:
                entry = seen.add(key, now_ms)
            entry[1] = None
            self._on_request(msg, addr, now_ms, entry, events)
        elif cls == 2 or cls == 4 or cls == 5:
            self._on_response(msg, addr, now_ms, seen, events)
        elif confirmable:
            # An Empty CON ("CoAP ping", §4.3) or a reserved code class: reject with RST.
            self._queue(_empty(m.RST, msg.mid), addr)
        return events

    def _on_request(self, msg, addr, now_ms, entry, events):
        bad = msg.unknown_critical(self.known_critical)
        if bad is None:
            events.append(RequestReceived(msg, addr))
        elif msg.mtype == m.CON:
            # RFC 7252 §5.4.1: an unrecognized critical option in a CON request → 4.02.
            self.respond(msg, addr, m.Message(code=m.BAD_OPTION), now_ms)
        # A NON request with an unknown critical option is silently rejected (§5.4.1).

    def _on_response(self, msg, addr, now_ms, seen, events):
        ex = self._find_token(addr, msg.token)
        if ex is None or msg.unknown_critical(self.known_critical) is not None:
            if msg.mtype == m.CON:
                self._queue(_empty(m.RST, msg.mid), addr)  # no context: reject (§4.2)
            return
        if msg.mtype == m.CON:
            # A separate response (RFC 7252 §5.2.2): ACK it, and ACK duplicates again.
            ack = _empty(m.ACK, msg.mid)
            seen.add((addr, msg.mid), now_ms, ack)
            self._queue(ack, addr)
        else:
            seen.add((addr, msg.mid), now_ms)
        # Also ends a CON request whose ACK was lost (§5.2.2).
        self._finish(ex, now_ms)
        events.append(ResponseReceived(ex.token, msg, addr))

    def _on_ack_or_rst(self, msg, addr, now_ms, events):
        ex = None
        for cand in self._exchanges:
            if cand.state == WAIT_ACK and cand.mid == msg.mid and cand.addr == addr:
                ex = cand
                break
        if msg.mtype == m.RST:
            if msg.code != m.EMPTY:
                return  # RST messages are always Empty (§4.3)
            if ex is not None:
                self._finish(ex, now_ms)
                events.append(Reset(ex.token, addr))
                return
            entry = self._non_sent.get((addr, msg.mid), now_ms)
            if entry is not None and entry[1] is not None:
                events.append(Reset(entry[1], addr))
                entry[1] = None
            return
        if ex is None:
            return  # an unexpected ACK is silently ignored (§4.2)
        if msg.code == m.EMPTY:
            if ex.is_request:
                # The response will come separately (§5.2.2); NSTART room frees up now.
                ex.state = WAIT_RESPONSE
                ex.deadline = now_ms + self.tuning.exchange_lifetime
                self._start_queued(addr, now_ms)
            else:
                self._finish(ex, now_ms)
                events.append(Acknowledged(ex.token, addr))
        elif (ex.is_request and m.is_response(msg.code) and msg.token == ex.token
              and msg.unknown_critical(self.known_critical) is None):
            self._finish(ex, now_ms)
            events.append(ResponseReceived(ex.token, msg, addr))
