"""The client core: one LwM2M client as a sans-IO object.

Bytes and time go in, bytes, deadlines and events come out::

    core = ClientCore(config, tree, rng)      # accounts come from /0 and /1 of the tree
    for ssid, uri, _ in core.accounts():
        core.set_address(ssid, addr)          # addr is opaque: whatever the adapter uses
    core.start(now_ms)
    core.receive_datagram(data, addr, now_ms)
    for data, addr in core.datagrams_to_send(): ...
    deadline = core.get_timer()               # int ms or None
    core.handle_timer(now_ms)
    event = core.next_event()                 # Registered, OperationPerformed, ...

Two layers by composition: :attr:`ClientCore.client` is the message-level
:class:`~lwm2m_client.core.client.client.LwM2MClient` (accounts, registration, DM
handling, attributes), and the core puts its own CoAP endpoint under it
(:mod:`lwm2m_client.core.coap.messaging`: CON/ACK/RST, deduplication, retransmission)
together with block-wise transfer both ways (RFC 7959). An adapter that brings its own
CoAP stack (aiocoap) drives an ``LwM2MClient`` directly and never builds a ClientCore.
"""

from lwm2m_client.core.client.client import LwM2MClient
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.coap import messaging
from lwm2m_client.core.coap import options as o
from lwm2m_client.core.coap.events import (
    Acknowledged,
    RequestReceived,
    RequestTimedOut,
    Reset,
    ResponseReceived,
)
from lwm2m_client.core.content import CF_LWM2M_JSON, CF_LWM2M_JSON_OLD, CF_TLV, CF_TLV_OLD
from lwm2m_client.core.content import formats as _formats
from lwm2m_client.core.errors import DecodeError, UsageError

try:
    from binascii import crc32 as _crc32
except ImportError:  # a MicroPython port built without it
    _crc32 = None

# A format configured by its IANA number also answers to the pre-IANA number some LwM2M
# 1.0 servers still send: the same bytes under another name.
_OLD_NUMBERS = ((CF_TLV, CF_TLV_OLD), (CF_LWM2M_JSON, CF_LWM2M_JSON_OLD))


class ClientConfig:
    """Client settings. Sizes are bytes; ``block_size`` is 16..1024 (RFC 7959 2.2).

    ``version`` is the newest LwM2M version to register with (a server that refuses it
    gets the older ones, see :mod:`~lwm2m_client.core.client.registration`).
    ``message_size`` bounds every datagram; it is ``tuning.max_message_size`` when a
    ``tuning`` (:class:`~lwm2m_client.core.coap.messaging.Tuning`, RFC 7252 section 4.8)
    is given, and giving both with different values is an error. ``max_body`` bounds a
    whole response body (a larger one is 5.00) and ``max_request_body`` a whole Block1
    request body (default ``max_body``; a larger one is 4.13): a meter that takes a
    firmware package in a few KiB but answers in less need not keep a large response
    buffer.
    ``fetch_size`` bounds the Read-Composite path list kept for block requests that
    come without it (default ``max_body // 4``; 0 keeps none).
    ``max_observations`` bounds the observations the servers may hold together
    (RFC 7641; one more is answered 5.03).
    ``dedup_capacity`` is how many recent CON (and, apart, NON) requests are remembered,
    with the encoded answer, to answer a retransmission without acting twice (RFC 7252
    section 4.5); an entry lives EXCHANGE_LIFETIME (247 s by default), so a meter the
    server asks a few times per four minutes needs a few, and each entry may hold up to
    ``message_size`` bytes.

    Notification storing (Object 1 resource 6): ``store_capacity`` notifications of at
    most ``store_bytes`` payload bytes in all are kept while a server is unreachable or
    the client sleeps; ``store_policy`` is "drop-oldest" or "refuse-new" for an
    overflow (each loss is counted and reported). Queue mode (a Binding with ``Q``):
    ``awake_ms`` is how long the client listens after the last message to or from a
    server before it sleeps (default MAX_TRANSMIT_WAIT, Transport 1.1 section 6.5).

    ``bootstrap_pack`` (LwM2M 1.2) bootstraps with a Bootstrap-Pack-Request first
    (``GET /bspack``), and with the Bootstrap-Request when that fails.

    ``formats`` are the content formats the client speaks for values (default: every
    one the core has, :data:`~lwm2m_client.core.content.formats.ALL`; the CoRE Link
    Format of Register and Discover is always spoken). TLV and LwM2M JSON bring their
    pre-IANA numbers along. A format not named is answered as unsupported (4.06 in
    Accept, 4.15 in Content-Format) and its codec module is never imported, which saves
    a meter's RAM: ``formats=(CF_SENML_CBOR, CF_TLV)`` loads two codecs instead of all.
    ``advertise_formats`` lists the content formats put in the Register root link
    (``</>;ct=...``); some servers reject that, so the client retries once without it.
    ``preferred_format`` answers requests without Accept (None: the default per LwM2M
    version when configured, else the first of ``formats``); both must be among
    ``formats``. ``max_events`` bounds the event queue (the oldest event goes).
    Bad values raise UsageError.
    """

    def __init__(self, endpoint, version="1.1", message_size=None, block_size=512,
                 max_body=8192, tuning=None, preferred_format=None, advertise_formats=None,
                 jitter=0.1, max_events=64, formats=None, fetch_size=None,
                 dedup_capacity=16, max_request_body=None, max_observations=8,
                 store_capacity=16, store_bytes=4096, store_policy="drop-oldest",
                 awake_ms=None, bootstrap_pack=False):
        if version not in ("1.0", "1.1", "1.2"):
            raise UsageError("LwM2M version must be 1.0, 1.1 or 1.2, not %r" % (version,))
        if not endpoint or type(endpoint) is not str:
            raise UsageError("the endpoint name must be a non-empty string")
        if tuning is None:
            tuning = messaging.Tuning(max_message_size=message_size or 1152)
        elif message_size is not None and message_size != tuning.max_message_size:
            raise UsageError("message_size %s differs from tuning.max_message_size %s"
                             % (message_size, tuning.max_message_size))
        try:
            self.szx = o.size_to_szx(block_size)
        except ValueError:
            raise UsageError("block_size must be 16 to 1024 bytes, not %r" % (block_size,))
        if block_size > tuning.max_message_size:
            raise UsageError("block_size %d does not fit message_size %d" % (
                block_size, tuning.max_message_size))
        if max_body < block_size:
            raise UsageError("max_body %d is smaller than block_size %d" % (max_body,
                                                                            block_size))
        if jitter < 0 or jitter > 1:
            raise UsageError("jitter must be a fraction from 0 to 1, not %s" % (jitter,))
        if max_events < 1:
            raise UsageError("max_events must be at least 1")
        if dedup_capacity < 1:
            raise UsageError("dedup_capacity must be at least 1")
        if max_observations < 0:
            raise UsageError("max_observations must not be negative")
        if type(store_capacity) is not int or store_capacity < 0 or \
                type(store_bytes) is not int or store_bytes < 0:
            raise UsageError("store_capacity and store_bytes must be counts, not %r, %r" % (
                store_capacity, store_bytes))
        if store_policy not in ("drop-oldest", "refuse-new"):
            raise UsageError("store_policy must be drop-oldest or refuse-new, not %r" % (
                store_policy,))
        if awake_ms is None:
            awake_ms = tuning.max_transmit_wait
        elif type(awake_ms) is not int or awake_ms < 0:
            raise UsageError("awake_ms must be a number of milliseconds, not %r" % (awake_ms,))
        if max_request_body is None:
            max_request_body = max_body
        elif type(max_request_body) is not int or max_request_body < block_size:
            raise UsageError("max_request_body %r is smaller than block_size %d" % (
                max_request_body, block_size))
        if fetch_size is None:
            fetch_size = max_body // 4
        elif type(fetch_size) is not int or not 0 <= fetch_size <= max_body:
            raise UsageError("fetch_size must be 0 to max_body bytes, not %r" % (fetch_size,))
        formats = _configured_formats(formats)
        for cf in [preferred_format] + list(advertise_formats or ()):
            if cf is not None and cf not in formats:
                raise UsageError("content format %r is not one the client speaks" % (cf,))
        self.endpoint = endpoint
        self.version = version
        self.message_size = tuning.max_message_size
        self.block_size = block_size
        self.max_body = max_body
        self.max_request_body = max_request_body
        self.fetch_size = fetch_size
        self.tuning = tuning
        self.formats = formats
        self.preferred_format = preferred_format
        self.advertise_formats = advertise_formats
        self.jitter = jitter
        self.max_events = max_events
        self.dedup_capacity = dedup_capacity
        self.max_observations = max_observations
        self.store_capacity = store_capacity
        self.store_bytes = store_bytes
        self.store_policy = store_policy
        self.awake_ms = awake_ms
        self.bootstrap_pack = bool(bootstrap_pack)

    def __repr__(self):
        return "<ClientConfig %s lwm2m=%s>" % (self.endpoint, self.version)


def _configured_formats(formats):
    """``formats`` checked (without importing any codec) and with the pre-IANA numbers
    of those that have one, as a tuple in the order given."""
    if formats is None:
        return _formats.ALL
    out = []
    for cf in formats:
        if cf not in _formats.MODULES:
            raise UsageError("content format %r is not one the client speaks" % (cf,))
        if cf not in out:
            out.append(cf)
    if not out:
        raise UsageError("formats names no content format")
    for new, old in _OLD_NUMBERS:
        if new in out and old not in out:
            out.append(old)
    return tuple(out)


class ClientCore:
    """One LwM2M client on the core's own CoAP endpoint; see the module docstring.

    ``tree`` is an ObjectTree holding /0, /1, /3 and the application's objects; ``rng``
    has ``getrandbits`` and gives message IDs, tokens and back-off jitter: pass an
    unpredictable one (RFC 7252 section 5.3.1), a seeded one only for reproducible tests.

    The buffers every client uses are allocated here, sized by the configuration, so a
    request never has to find a large free block on a fragmented heap: the message
    buffer (``tuning.max_message_size``, the endpoint's) and the body buffer
    (``max_body``, the client's). Two more are allocated by the first request that
    needs them and then kept, since many meters never get such a request: the Block1
    buffer (``max_request_body``, by the first Block1 request; a heap too small for it by then
    answers 5.00) and the FETCH buffer (``fetch_size``, by the first FETCH with a body).
    Blocks need none of their own: a Block2 answer is a slice of the body buffer, and
    each Block1 block goes straight into the Block1 buffer.
    """

    def __init__(self, config, tree, rng):
        self.config = config
        self.tree = tree
        self.client = LwM2MClient(config, tree, rng)
        self.client.notifies = True  # notifications go out through the endpoint below
        self.endpoint = messaging.Endpoint(rng, config.tuning,
                                           dedup_capacity=config.dedup_capacity,
                                           non_capacity=max(8, config.max_observations))
        self._block1 = None  # the Block1Receiver, made by the first Block1 request
        self._block1_buf = None  # max_request_body bytes, with the Block1Receiver
        self._block1_size = 0
        self._fetch_buf = None  # fetch_size bytes, made by the first FETCH with a body
        self._fetch_size = 0
        self._fetch_addr = None
        self._requests = {}  # endpoint token -> [client key, Block1Sender or None, msg]

    def __repr__(self):
        return "<ClientCore %s>" % self.config.endpoint

    # -- what the message-level client offers, with the datagrams it causes ----------

    def accounts(self):
        return self.client.accounts()

    def set_address(self, ssid, addr, now_ms=0):
        self.client.set_address(ssid, addr, now_ms)
        self._flush_requests(now_ms)

    def registration(self, ssid):
        return self.client.registration(ssid)

    def start(self, now_ms):
        self.client.start(now_ms)
        self._flush_requests(now_ms)

    def stop(self, now_ms):
        """De-register from every server (Core 1.1 section 6.2.3)."""
        self.client.stop(now_ms)
        self._flush_requests(now_ms)

    def deregistering(self):
        return self.client.deregistering()

    @property
    def asleep(self):
        """Queue mode: the client need not listen now (see LwM2MClient.asleep)."""
        return self.client.asleep

    @property
    def notifications_dropped(self):
        return self.client.notifications_dropped

    @property
    def stored_notifications(self):
        return self.client.stored_notifications

    def serves(self, addr):
        return self.client.serves(addr)

    def next_event(self):
        return self.client.next_event()

    def resource_changed(self, path, now_ms):
        self.client.resource_changed(path, now_ms)

    def send(self, paths, now_ms, ssid=None):
        sent = self.client.send(paths, now_ms, ssid)
        self._flush_requests(now_ms)
        return sent

    def trigger_update(self, now_ms, ssid=None):
        self.client.trigger_update(now_ms, ssid)
        self._flush_requests(now_ms)

    def bootstrap(self, now_ms):
        self.client.bootstrap(now_ms)
        self._flush_requests(now_ms)

    def objects_changed(self, now_ms):
        self.client.objects_changed(now_ms)
        self._flush_requests(now_ms)

    # -- datagram level ---------------------------------------------------------------

    def receive_datagram(self, data, addr, now_ms):
        """Feed one datagram; never raises for what the peer sent.

        Nor for a heap too small or fragmented to handle it (MemoryError): a request is
        then answered 5.00 when that can still be done and dropped otherwise (the server
        retransmits or gives up), a datagram that cannot even be decoded is dropped as
        a lost one would be, and the client carries on with the next."""
        try:
            events = self.endpoint.receive(data, addr, now_ms)
        except MemoryError:
            return
        for event in events:
            try:
                if isinstance(event, RequestReceived):
                    self._on_request(event.msg, event.addr, now_ms)
                elif isinstance(event, ResponseReceived):
                    self._on_response(event.token, event.msg, now_ms)
                elif isinstance(event, RequestTimedOut):
                    self._on_failure(event.token, now_ms, event.addr, False)
                elif isinstance(event, Reset):
                    self._on_failure(event.token, now_ms, event.addr, True)
                elif isinstance(event, Acknowledged):
                    self.client.notification_acknowledged(event.token, event.addr, now_ms)
            except MemoryError:
                if isinstance(event, RequestReceived):
                    self._answer_failure(event.msg, event.addr, now_ms)
        try:
            self._flush_requests(now_ms)
        except MemoryError:
            pass  # a request that found no room has failed already (see _request)

    def datagrams_to_send(self):
        return self.endpoint.datagrams_to_send()

    def get_timer(self):
        deadline = self.endpoint.get_timer()
        t = self.client.get_timer()
        if t is not None and (deadline is None or t < deadline):
            deadline = t
        return deadline

    def handle_timer(self, now_ms):
        for event in self.endpoint.handle_timer(now_ms):
            self._on_failure(event.token, now_ms, event.addr, False)
        self.client.handle_timer(now_ms)
        self._flush_requests(now_ms)

    # -- the client's requests on the endpoint ---------------------------------------

    def _flush_requests(self, now_ms):
        """Hand the client's new requests to the endpoint (Block1 when the body is
        larger than a block, RFC 7959 section 2.5) and cancel superseded ones. A request
        that finds no room fails at once, which may queue the next one: loop. The
        notifications go out first (RFC 7641 section 4.2: as CON or NON messages)."""
        for msg, addr in self.client.notifications_to_send():
            if msg.mtype == m.CON and self.endpoint.room() <= _RESERVED_EXCHANGES:
                # The last exchanges are the client's own requests': an Update must
                # never fail for want of room behind a burst of notifications.
                self.client.notification_unsent(msg, addr, now_ms)
                continue
            try:
                self.endpoint.send(msg, addr, now_ms)
            except messaging.EndpointBusy:
                self.client.notification_unsent(msg, addr, now_ms)
        while True:
            for key in self.client.requests_to_cancel():
                for token in list(self._requests):
                    if self._requests[token][0] == key:
                        del self._requests[token]
                        self.endpoint.cancel(token, now_ms)
            requests = self.client.requests_to_send()
            if not requests:
                return
            for key, msg, addr in requests:
                self._request(key, msg, addr, None, now_ms)

    def _request(self, key, msg, addr, sender, now_ms):
        """Hand a request, or the next Block1 block of one (``sender``), to the
        endpoint; a body larger than a block starts a Block1Sender."""
        try:
            if sender is None and len(msg.payload) > self.config.block_size:
                sender = _blockwise().Block1Sender(msg.payload, self.config.szx)
            if sender is not None:
                sender.fill(msg)
            msg.token = b""
            token = self.endpoint.request(msg, addr, now_ms)
        except (messaging.EndpointBusy, MemoryError):
            # No room for the exchange (a full table, or a short heap): the request
            # fails at once, and the registration's failure procedure takes over.
            self.client.request_failed(key, now_ms)
            return
        self._requests[token] = [key, sender, msg, addr]

    def _on_response(self, token, msg, now_ms):
        entry = self._requests.pop(token, None)
        if entry is None:
            return
        key, sender, request, addr = entry
        if sender is not None:
            bw = _blockwise()
            try:
                step = sender.on_response(msg)
            except DecodeError:
                step = bw.FAILED  # a malformed Block1 echo (RFC 7959 section 2.2)
            if step == bw.CONTINUE:
                self._request(key, request, addr, sender, now_ms)
                return
            if step == bw.FAILED and m.code_class(msg.code) == 2:
                # A success before the last block, or 2.31 after it: the server did not
                # take the whole body (RFC 7959 section 2.9.2's 4.08 in effect), so this
                # is no success.
                msg = m.Message(code=m.REQUEST_ENTITY_INCOMPLETE)
        self.client.response_received(key, msg, now_ms)

    def _on_failure(self, token, now_ms, addr, reset):
        entry = self._requests.pop(token, None)
        if entry is not None:
            self.client.request_failed(entry[0], now_ms)
        elif addr is not None:
            # Not a request of ours: a notification, rejected or never acknowledged.
            self.client.notification_failed(token, addr, now_ms, reset)

    # -- the server's requests ---------------------------------------------------------

    def _on_request(self, msg, addr, now_ms):
        payload = None
        response = m.Message(code=m.CHANGED)
        if not self.client.serves(addr):
            # Not from a registered server: ignored (Core 1.1 section 6.3). When our
            # Register to it is in flight, its request may have overtaken the answer:
            # a retransmission then gets another look once that answer is in.
            if self.client.registering_with(addr):
                self.endpoint.ignore(msg, addr, now_ms)
            return
        try:
            block1 = msg.block1
            block2 = msg.block2
            if block1 is not None:
                step = self._block1_receiver().receive(msg, addr, now_ms, response,
                                                       self._block1_sink)
                if step != 0:
                    self.endpoint.respond(msg, addr, response, now_ms)
                    return
                payload = memoryview(self._block1_buf)[:self._block1_size]
        except DecodeError:
            # A malformed Block1/Block2 value is an unrecognized critical option
            # (RFC 7252 sections 5.4.3, 5.4.1): 4.02; a bad Size1 with it goes the same way.
            self._abandon_block1()
            self.endpoint.respond(msg, addr, m.Message(code=m.BAD_OPTION), now_ms)
            return
        if msg.code == m.FETCH:
            payload = self._fetch_body(msg, addr, block2, payload)
        answer = self.client.handle_request(msg, addr, now_ms, payload)
        if answer is None:
            return
        if block1 is not None:
            answer.block1 = response.block1
        body = answer.payload
        if len(body) and (block2 is not None or len(body) > self.config.block_size) and \
                m.code_class(answer.code) == 2:
            if not _blockwise().serve_block2(msg, answer, body, self.config.szx,
                                             _etag(body)):
                answer = m.Message(code=m.BAD_OPTION)
        self.endpoint.respond(msg, addr, answer, now_ms)

    def _answer_failure(self, msg, addr, now_ms):
        """5.00 for a request whose handling ran out of heap, if even that fits."""
        self._abandon_block1()  # a body half taken in is abandoned with it
        try:
            self.endpoint.respond(msg, addr, m.Message(code=m.INTERNAL_SERVER_ERROR), now_ms)
        except MemoryError:
            pass  # dropped: nothing goes out

    def _fetch_body(self, msg, addr, block2, payload):
        """The path list of a Read-Composite whose answer goes in several blocks.

        Some servers send the FETCH body only with the request for block 0 (RFC 8132
        section 2.3.2 lets the body identify the resource; RFC 7959 leaves it open), so
        the body of the last FETCH is kept in a fixed buffer and reused for a later
        block request from the same server that comes without one."""
        body = msg.payload if payload is None else payload
        if len(body):
            n = len(body)
            if self._fetch_buf is None:
                self._fetch_buf = bytearray(self.config.fetch_size)
            if n > len(self._fetch_buf):
                n = 0  # too long to keep: only a server that repeats it gets blocks
            self._fetch_buf[:n] = body[:n]
            self._fetch_size = n
            self._fetch_addr = addr
            return payload
        if block2 is not None and block2[0] > 0 and self._fetch_size and \
                addr == self._fetch_addr:
            return memoryview(self._fetch_buf)[:self._fetch_size]
        return payload

    def _block1_receiver(self):
        if self._block1 is None:
            self._block1_buf = bytearray(self.config.max_request_body)
            self._block1 = _blockwise().Block1Receiver(
                self.config.max_request_body, self.config.szx, self.config.tuning.exchange_lifetime)
        return self._block1

    def _abandon_block1(self):
        if self._block1 is not None:
            self._block1.reset()

    def _block1_sink(self, offset, chunk):
        end = offset + len(chunk)
        self._block1_buf[offset:end] = chunk
        self._block1_size = end


# Exchanges kept free of confirmable notifications: a registration request and a Send.
_RESERVED_EXCHANGES = 2


def _blockwise():
    """Block-wise transfer (RFC 7959), imported by the first message that needs it: a
    meter whose messages all fit one block never loads it."""
    from lwm2m_client.core.coap import blockwise
    return blockwise


def _etag(body):
    """The ETag of a Block2 answer (RFC 7959 section 2.4) without a copy of the body: a
    CRC-32, native code in CPython's and most MicroPython ports' binascii; without it,
    blockwise.etag_of, which hashes a copy."""
    if _crc32 is None:
        return _blockwise().etag_of(body)
    return (_crc32(body) & 0xFFFFFFFF).to_bytes(4, "big")
