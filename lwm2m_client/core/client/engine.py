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
from lwm2m_client.core.client.config import ClientConfig  # noqa: F401 - where it was
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.coap import messaging
from lwm2m_client.core.coap.events import (
    Acknowledged,
    RequestReceived,
    RequestTimedOut,
    Reset,
    ResponseReceived,
)
from lwm2m_client.core.errors import DecodeError

try:
    from binascii import crc32 as _crc32
except ImportError:  # a MicroPython port built without it
    _crc32 = None

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
