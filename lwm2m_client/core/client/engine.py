"""The client core: one LwM2M client as a sans-IO object (DESIGN.md section 2).

Bytes and time go in, bytes, deadlines and events come out::

    core = ClientCore(config, tree, rng)
    core.set_server(ssid, addr)               # addr is opaque: whatever the adapter uses
    core.start(now_ms)
    core.receive_datagram(data, addr, now_ms)
    for data, addr in core.datagrams_to_send(): ...
    deadline = core.get_timer()               # int ms or None
    core.handle_timer(now_ms)
    event = core.next_event()                 # Registered, OperationPerformed, ...

The core runs its own CoAP messaging (:mod:`lwm2m_client.core.coap.messaging`) and
block-wise transfer. An adapter that brings its own CoAP stack (aiocoap) uses the
message-level half instead: :meth:`ClientCore.handle_request` for incoming requests,
and :meth:`take_requests` / :meth:`response_received` / :meth:`request_failed` for the
registration requests the core wants sent; it never calls the datagram methods.
"""

from lwm2m_client.core.client import events as ev
from lwm2m_client.core.client.attributes import AttributeStore
from lwm2m_client.core.client.dm_handler import DMHandler
from lwm2m_client.core.client.servers import ServerAccounts
from lwm2m_client.core.coap import blockwise, messaging
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.coap import options as o
from lwm2m_client.core.coap.events import (
    RequestReceived,
    RequestTimedOut,
    Reset,
    ResponseReceived,
)
from lwm2m_client.core.errors import DecodeError, LwM2MError


class ClientConfig:
    """Client settings. Sizes are bytes; ``block_size`` is 16..1024 (RFC 7959 2.2).

    ``message_size`` bounds every datagram; ``max_body`` bounds a whole response or
    Block1 request body (larger ones are 5.00 / 4.13). ``advertise_formats`` lists the
    content formats put in the Register root link (``</>;ct=...``); some servers reject
    that, so the client retries once without it. ``preferred_format`` answers requests
    without Accept (None: the default per LwM2M version).
    """

    def __init__(self, endpoint, version="1.1", message_size=1152, block_size=512,
                 max_body=8192, tuning=None, preferred_format=None, advertise_formats=None,
                 jitter=0.1, max_events=64):
        if version not in ("1.0", "1.1", "1.2"):
            raise ValueError("LwM2M version must be 1.0, 1.1 or 1.2")
        self.endpoint = endpoint
        self.version = version
        self.message_size = message_size
        self.block_size = block_size
        self.szx = o.size_to_szx(block_size)
        self.max_body = max_body
        self.tuning = tuning or messaging.Tuning(max_message_size=message_size)
        self.preferred_format = preferred_format
        self.advertise_formats = advertise_formats
        self.jitter = jitter
        self.max_events = max_events

    def __repr__(self):
        return "<ClientConfig %s lwm2m=%s>" % (self.endpoint, self.version)


class ClientCore(ServerAccounts):
    """One LwM2M client. ``tree`` is an ObjectTree holding /0, /1, /3 and the
    application's objects; ``rng`` has ``getrandbits``; ``external`` selects the
    message-level interface for adapters with their own CoAP stack."""

    def __init__(self, config, tree, rng, external=False):
        self.config = config
        self.tree = tree
        self.rng = rng
        self.external = external
        self.endpoint = None if external else messaging.Endpoint(rng, config.tuning)
        self.attributes = AttributeStore()
        self._body = bytearray(config.max_body)
        self._handler = DMHandler(tree, self.attributes, self._body, config.preferred_format)
        self._block1 = blockwise.Block1Receiver(config.max_body, config.szx,
                                                config.tuning.exchange_lifetime)
        # The Block1 and FETCH buffers are allocated on first use: most meters never
        # receive a body in blocks, and a fleet runs thousands of cores per process.
        self._block1_buf = None
        self._block1_size = 0
        self._fetch_buf = None
        self._fetch_size = 0
        self._fetch_addr = None
        self._events = []
        self.events_dropped = 0
        self._after = []  # actions that must follow the response being queued
        self._now = 0
        self._init_accounts()

    def __repr__(self):
        return "<ClientCore %s servers=%d>" % (self.config.endpoint, len(self._servers))

    # -- set-up ------------------------------------------------------------------------

    def start(self, now_ms):
        self._now = now_ms
        for server in self._servers:
            server.registration.start(now_ms)

    def stop(self, now_ms):
        """De-register from every server (Core 1.1 section 6.2.3)."""
        self._now = now_ms
        for server in self._servers:
            server.registration.stop(now_ms)

    # -- application API -------------------------------------------------------------

    def next_event(self):
        return self._events.pop(0) if self._events else None

    def resource_changed(self, path, now_ms):
        """The application changed a value outside the tree's ``set`` (for example in
        its own storage); recorded for notification."""
        self._now = now_ms
        self.tree.note_change(path)

    def objects_changed(self, now_ms):
        """Instances were added or removed by the application: tell every server with an
        Update carrying the new object list (Core 1.1 section 6.2.2)."""
        self._now = now_ms
        for server in self._servers:
            server.registration.trigger_update(now_ms, objects_changed=True)

    # -- datagram level ---------------------------------------------------------------

    def receive_datagram(self, data, addr, now_ms):
        """Feed one datagram; never raises for what the peer sent."""
        self._now = now_ms
        for event in self.endpoint.receive(data, addr, now_ms):
            if isinstance(event, RequestReceived):
                self._on_request(event.msg, event.addr, now_ms)
            elif isinstance(event, ResponseReceived):
                self.response_received(event.token, event.msg, now_ms)
            elif isinstance(event, (RequestTimedOut, Reset)):
                self.request_failed(event.token, now_ms)
        self._run_after(now_ms)

    def datagrams_to_send(self):
        return self.endpoint.datagrams_to_send()

    def get_timer(self):
        deadline = None if self.endpoint is None else self.endpoint.get_timer()
        for server in self._servers:
            t = server.registration.get_timer()
            if t is not None and (deadline is None or t < deadline):
                deadline = t
        return deadline

    def handle_timer(self, now_ms):
        self._now = now_ms
        if self.endpoint is not None:
            for event in self.endpoint.handle_timer(now_ms):
                self.request_failed(event.token, now_ms)
        for server in self._servers:
            server.registration.handle_timer(now_ms)

    # -- message level ----------------------------------------------------------------

    def handle_request(self, msg, addr, now_ms, payload=None):
        """Answer one request from ``addr``: returns the response Message (code, options,
        payload; type, MID and token are the caller's), or None when the request must be
        ignored because ``addr`` is no registered server (Core 1.1 section 6.3).

        External mode: requests that must follow the answer (the Update after /1/x/8,
        the De-register of /1/x/4) are queued for :meth:`take_requests`, which the
        adapter drains after it has sent the answer."""
        self._now = now_ms
        server = self._server_at(addr)
        if server is None or not server.registration.is_registered:
            return None
        reply = self._handler.handle(msg, server.ssid, self.config.version,
                                     msg.payload if payload is None else payload)
        try:
            path = msg.uri_path
        except LwM2MError:
            path = "?"
        self._emit(ev.OperationPerformed(server.ssid, reply.op, path, m.code_name(reply.code)))
        if reply.objects_changed:
            # The object list changed: every server hears it in an Update carrying the
            # new list (Core 1.1 section 6.2.2), after this response went out.
            self._after.append(self.objects_changed)
        response = m.Message(code=reply.code)
        if reply.cf is not None:
            response.content_format = reply.cf
        if reply.location is not None:
            response.location_path = reply.location
        if reply.body is not None:
            response.payload = reply.body
        if self.external:
            # What follows may encode an Update's object list into the same body
            # buffer: the answer takes its own copy first.
            response.payload = bytes(response.payload)
            self._run_after(now_ms)
        return response

    # -- what the registration state machines call ---------------------------------

    def emit(self, event):
        self._emit(event)

    # -- internals ------------------------------------------------------------------

    def _on_request(self, msg, addr, now_ms):
        payload = None
        response = m.Message(code=m.CHANGED)
        if not self.serves(addr):
            return  # not from a registered server: ignored (Core 1.1 section 6.3)
        try:
            block1 = msg.block1
            block2 = msg.block2
            if block1 is not None:
                step = self._block1.receive(msg, addr, now_ms, response, self._block1_sink)
                if step != 0:
                    self.endpoint.respond(msg, addr, response, now_ms)
                    return
                payload = memoryview(self._block1_buf)[:self._block1_size]
        except DecodeError:
            # A malformed Block1/Block2 value is an unrecognized critical option
            # (RFC 7252 sections 5.4.3, 5.4.1): 4.02; a bad Size1 with it goes the same way.
            self._block1.reset()
            self.endpoint.respond(msg, addr, m.Message(code=m.BAD_OPTION), now_ms)
            return
        if msg.code == m.FETCH:
            payload = self._fetch_body(msg, addr, block2, payload)
        answer = self.handle_request(msg, addr, now_ms, payload)
        if answer is None:
            return
        if block1 is not None:
            answer.block1 = response.block1
        body = answer.payload
        if len(body) and (block2 is not None or len(body) > self.config.block_size) and \
                m.code_class(answer.code) == 2:
            if not blockwise.serve_block2(msg, answer, bytes(body), self.config.szx):
                answer = m.Message(code=m.BAD_OPTION)
        self.endpoint.respond(msg, addr, answer, now_ms)

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
                self._fetch_buf = bytearray(self.config.max_body // 4)
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

    def _block1_sink(self, offset, chunk):
        end = offset + len(chunk)
        if self._block1_buf is None:
            self._block1_buf = bytearray(self.config.max_body)
        self._block1_buf[offset:end] = chunk
        self._block1_size = end

    def _emit(self, event):
        if len(self._events) >= self.config.max_events:
            self._events.pop(0)  # overflow policy: the oldest event goes
            self.events_dropped += 1
        self._events.append(event)

    def _run_after(self, now_ms):
        while self._after:
            self._after.pop(0)(now_ms)
