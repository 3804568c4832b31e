"""The message-level LwM2M client: CoAP requests and responses in, the same out.

:class:`LwM2MClient` owns everything LwM2M about one client: the server accounts (read
from ``/0`` and ``/1`` of the tree), one registration state machine per account, the DM
request handler and the Write-Attributes store. It knows no datagrams, message IDs,
retransmission or block-wise transfer: an adapter with its own CoAP stack (aiocoap) drives
it directly, and :class:`~lwm2m_client.core.client.engine.ClientCore` puts the core's own
CoAP endpoint under it (as aioquic's ``H3Connection`` sits on ``QuicConnection``)::

    client = LwM2MClient(config, tree, rng)
    for ssid, uri, _ in client.accounts(): client.set_address(ssid, resolve(uri))
    client.start(now_ms)
    answer = client.handle_request(msg, addr, now_ms)    # a Message, or None: ignore it
    for key, msg, addr in client.requests_to_send(): ... # Register/Update/De-register
    for key in client.requests_to_cancel(): ...          # superseded, stop retrying
    client.response_received(key, msg, now_ms) / client.request_failed(key, now_ms)
    deadline = client.get_timer(); client.handle_timer(now_ms)
    event = client.next_event()

Requests a server's operation causes (the Update after a Create, the De-register of
Disable ``/1/x/4``) are queued while the answer is made and handed out by
:meth:`requests_to_send`, so a caller that sends the answer first keeps the order the
spec wants (Core 1.1 section 6.2.2, E.2).
"""

from lwm2m_client.core.client import events as ev
from lwm2m_client.core.client import registration as reg_fsm
from lwm2m_client.core.client.accounts import (
    BOOTSTRAP_TRIGGER,
    DISABLE,
    UPDATE_TRIGGER,
    answer_outputs,
    bootstrap_security_iid,
    new_account,
    read_accounts,
    usable_accounts,
    wire_server_object,
)
from lwm2m_client.core.client.dm_handler import DMHandler
from lwm2m_client.core.client.links import formats_of_version, register_links
from lwm2m_client.core.client.setup import server_params
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.coap import options as o
from lwm2m_client.core.content import CF_LINK, link
from lwm2m_client.core.errors import BufferFull, LwM2MError, UsageError


def _observe_option(msg):
    try:
        return msg.observe
    except LwM2MError:
        return None


def _internal_error():
    """A 5.00 response, or None when not even that fits the heap."""
    try:
        return m.Message(code=m.INTERNAL_SERVER_ERROR)
    except MemoryError:
        return None


# Registration states in which a server may be talking to the client.
_LISTENING = (reg_fsm.ST_REGISTERING, reg_fsm.ST_REGISTERED, reg_fsm.ST_UPDATING,
              reg_fsm.ST_DEREGISTERING)


class _Pending:
    """A registration request in flight. ``state`` is the registration state it was sent
    in: an answer that arrives after the state moved on (the 2.04 of an Update overtaken
    by a De-register) belongs to no current request."""

    def __init__(self, account, state):
        self.account = account
        self.state = state


class LwM2MClient:
    """One LwM2M client at the message level; see the module docstring.

    ``config`` is a :class:`~lwm2m_client.core.client.engine.ClientConfig`, ``tree`` the
    ObjectTree holding ``/0``, ``/1``, ``/3`` and the application's objects, ``rng`` an
    injected source with ``getrandbits`` (registration jitter).

    The body buffer (``config.max_body`` bytes), which answers and the Register object
    list are encoded into, is allocated here, once: a request never has to find room
    for it on a fragmented heap.
    """

    def __init__(self, config, tree, rng):
        self.config = config
        self.tree = tree
        self.rng = rng
        self._body = bytearray(config.max_body)
        self.handler = DMHandler(tree, None, self._body, config.preferred_format,
                                 config.formats)
        self._accounts = []
        self._pending = {}  # key -> _Pending
        self._sends = {}  # key -> SSID of a Send in flight
        self._outbox = []  # (key, msg, addr)
        self._cancelled = []
        self._next_key = 0
        self._events = []
        self.events_dropped = 0
        self.started = False
        self._reporting = None  # made by the first Observe (observe.Reporting)
        self._delivery = None  # made with the first notification (storing.Delivery)
        self._bs = None  # the Bootstrap-Server account (bootstrapping.BootstrapLink)
        # Set by a layer that can send notifications (ClientCore); without one an
        # Observe is answered as a Read without the Observe option (RFC 7641 3.2).
        self.notifies = False
        wire_server_object(tree)

    def __repr__(self):
        return "<LwM2MClient %s accounts=%d>" % (self.config.endpoint, len(self._accounts))

    @property
    def reporting(self):
        """Observations and their notifications, made by the first Observe: a meter
        nobody observes never loads them."""
        if self._reporting is None:
            from lwm2m_client.core.client.observe import Reporting

            self._reporting = Reporting(self, self.config.max_observations)
        return self._reporting

    @property
    def observations(self):
        """The ObservationStore."""
        return self.reporting.store

    @property
    def delivery(self):
        """Notification delivery and the store of kept notifications, made when first
        needed: a meter nobody observes never loads it."""
        if self._delivery is None:
            from lwm2m_client.core.client.storing import Delivery

            self._delivery = Delivery(self, self.config)
        return self._delivery

    @property
    def notifications_dropped(self):
        """How many notifications were lost so far (store overflow, ``hqmax``,
        storing off, or their observation ended before they could go)."""
        return 0 if self._delivery is None else self._delivery.store.dropped

    @property
    def stored_notifications(self):
        """How many notifications are kept for later delivery now."""
        return 0 if self._delivery is None else len(self._delivery.store)

    @property
    def asleep(self):
        """Queue mode: every server the client is registered with has gone to sleep
        and none waits for an answer, so the adapter may stop listening (close its
        socket) until :meth:`get_timer`'s deadline or an application call wakes it."""
        slept = False
        for account in self._accounts:
            state = account.registration.state
            if account.asleep:
                slept = True
            elif state in _LISTENING:
                return False
        return slept

    @property
    def attributes(self):
        """The Write-Attributes store, made by the first request that needs it."""
        return self.handler.attributes

    # -- accounts ------------------------------------------------------------------

    def accounts(self):
        """``[(ssid, uri, addr)]`` of the LwM2M Server accounts in the tree, sorted by
        SSID; ``addr`` is None until :meth:`set_address` gave one.

        Raises UsageError when the tree names a Short Server ID twice, has a half account
        or none at all: the application's configuration, found before anything is sent.
        """
        if not self.started:
            self._sync_accounts(0, True)
        out = [(a.ssid, a.uri, a.addr) for a in self._accounts]
        if self._bs is not None:
            # Listed with Short Server ID 0, which no LwM2M Server has (Object 0).
            out.insert(0, (0, self._bs.uri, self._bs.addr))
        return out

    def set_address(self, ssid, addr, now_ms=0):
        """The adapter resolved account ``ssid``'s URI to ``addr`` (opaque to the core;
        compared with the address of incoming requests). Once started, the account
        registers at ``now_ms``."""
        if ssid == 0:
            if self._bs is None:
                self.accounts()
            if self._bs is None:
                raise UsageError("no Bootstrap-Server account (Short Server ID 0)")
            self._bs.set_address(addr, now_ms)
            return
        account = self._account(ssid)
        if account is None:
            self.accounts()
            account = self._account(ssid)
        if account is None:
            raise UsageError("no LwM2M Server account with Short Server ID %r" % (ssid,))
        account.addr = addr
        if self.started and account.registration.state == reg_fsm.ST_IDLE:
            self._apply(account, account.registration.start(now_ms), now_ms)

    def registration(self, ssid):
        """The registration state machine of account ``ssid``, or None."""
        account = self._account(ssid)
        return None if account is None else account.registration

    # -- life cycle ----------------------------------------------------------------

    def start(self, now_ms):
        """Read the accounts from the tree and register with each one that has an
        address; those without one ask for it with an AddressNeeded event."""
        if self.started:
            raise UsageError("the client is already started")
        self._sync_accounts(now_ms, True)
        self._register_payload(None, self.config.version, True)
        self.started = True
        for account in self._accounts:
            if account.addr is None:
                self._emit(ev.AddressNeeded(account.ssid, account.uri))
            else:
                self._apply(account, account.registration.start(now_ms), now_ms)
        if not self._accounts and self._bs is not None:
            self._bs.begin(now_ms)  # no LwM2M Server yet: client-initiated bootstrap

    def bootstrap(self, now_ms):
        """Bootstrap now, as the Bootstrap-Request Trigger /1/x/9 does (Core 1.1
        section 6.1.3); UsageError when the tree has no Bootstrap-Server account."""
        if self._bs is None:
            raise UsageError("no Bootstrap-Server account in /0")
        self._bs.begin(now_ms)

    def stop(self, now_ms):
        """De-register from every server (Core 1.1 section 6.2.3)."""
        if self._bs is not None:
            self._bs.stop(now_ms)
        for account in self._accounts:
            self._apply(account, account.registration.stop(now_ms), now_ms)

    def deregistering(self):
        """True while a De-register is still waiting for its answer."""
        for account in self._accounts:
            if account.registration.is_deregistering:
                return True
        return False

    # -- application API -------------------------------------------------------------

    def next_event(self):
        return self._events.pop(0) if self._events else None

    def resource_changed(self, path, now_ms):
        """The application reports at ``now_ms`` that the value at ``path`` changed (a
        value its read hook computes, or one kept in its own storage); recorded in the
        tree's change log, which the notification machinery reads. Values stored in
        the tree need no call: ``tree.set`` records their changes itself."""
        self.tree.changed(path)

    def send(self, paths, now_ms, ssid=None):
        """Send the current values of ``paths`` (tuples such as ``(10243, 0, 14)``) to
        server ``ssid``, or to every registered server when None (Core 1.1 section
        6.4.6). Servers that mute Send or registered as LwM2M 1.0 are left out. Returns
        the Short Server IDs sent to; each answer comes back as a ``Sent`` event."""
        # Imported by the first Send: a meter that only answers never loads it.
        from lwm2m_client.core.client.send import (
            is_muted,
            records_of,
            send_format,
            send_message,
        )

        cf = send_format(self.config)
        records = records_of(self.tree, paths)
        acl = self.handler.access_control()
        sent = []
        for account in self._accounts:
            reg = account.registration
            if (ssid is not None and account.ssid != ssid) or not reg.is_registered or \
                    reg.version == "1.0" or is_muted(self.tree, account):
                continue
            mine = records
            if acl is not None:
                # Each server gets only what it may read (Core 1.1 sections 6.4.6, 8).
                mine = [rec for rec in records if len(rec[0]) < 2 or
                        acl.allowed(self.tree, account.ssid, rec[0][0], rec[0][1], acl.R)]
                if not mine:
                    continue
            if account.asleep:
                self._wake(account, now_ms)  # the Update goes first, then the Send
            key = self._next_key
            self._next_key += 1
            self._sends[key] = account.ssid
            self._outbox.append((key, send_message(self.handler, cf, mine), account.addr))
            sent.append(account.ssid)
            self._touch(account, now_ms)
        return sent

    def trigger_update(self, now_ms, ssid=None):
        """Send a Registration Update now to server ``ssid`` (None: every server), as
        the Registration Update Trigger /1/x/8 would (Core 1.1 section 6.2.2)."""
        for account in self._accounts:
            if ssid is None or account.ssid == ssid:
                self._apply(account, account.registration.trigger_update(now_ms), now_ms)

    def objects_changed(self, now_ms):
        """Instances were added or removed by the application: tell every server with an
        Update carrying the new object list (Core 1.1 section 6.2.2)."""
        for account in self._accounts:
            self._apply(account, account.registration.trigger_update(now_ms, True), now_ms)

    # -- timers ------------------------------------------------------------------------

    def get_timer(self):
        """The next deadline: a registration's, or an observation's (which may lie in
        the past when a change is waiting: then handle_timer notifies at once)."""
        deadline = None if self._reporting is None else self._reporting.get_timer()
        for account in self._accounts:
            t = account.registration.get_timer()
            if t is not None and (deadline is None or t < deadline):
                deadline = t
            t = self._sleep_at(account)
            if t is not None and (deadline is None or t < deadline):
                deadline = t
        if self._bs is not None:
            t = self._bs.get_timer()
            if t is not None and (deadline is None or t < deadline):
                deadline = t
        return deadline

    def handle_timer(self, now_ms):
        if self._bs is not None:
            self._bs.handle_timer(now_ms)
        for account in self._accounts:
            self._apply(account, account.registration.handle_timer(now_ms), now_ms)
        if self._reporting is not None:
            self._reporting.handle_timer(now_ms)
        for account in self._accounts:
            if self._delivery is not None:
                self._delivery.flush(account, now_ms)
            t = self._sleep_at(account)
            if t is not None and t <= now_ms:
                # Transport 1.1 section 6.5: after the awake window with no traffic
                # the client may go offline; the server holds its requests.
                account.asleep = True
                account.reachable = False
                self._emit(ev.WentToSleep(account.ssid))

    def _sleep_at(self, account):
        """When ``account`` may go to sleep (queue mode, registered, nothing of its in
        flight), or None."""
        reg = account.registration
        if account.asleep or not reg.params.queue or reg.state != reg_fsm.ST_REGISTERED:
            return None
        if self._delivery is not None and self._delivery.busy(account.ssid):
            return None
        for key in self._pending:
            if self._pending[key].account is account:
                return None
        for key in self._sends:
            if self._sends[key] == account.ssid:
                return None
        return account.last_io_ms + self.config.awake_ms

    def _touch(self, account, now_ms):
        """A message went to or came from ``account``'s server: it is awake."""
        if now_ms is not None and now_ms > account.last_io_ms:
            account.last_io_ms = now_ms
        if account.asleep:
            account.asleep = False
            self._emit(ev.WokeUp(account.ssid))

    def _wake(self, account, now_ms):
        """Something must reach ``account``'s server, which sleeps or did not answer:
        an Update tells it the client is back (Transport 1.1 section 6.5); what was
        kept goes out once it is answered."""
        reg = account.registration
        if account.reachable and not account.asleep:
            return  # it hears us: what was kept waits only for room to send it
        if reg.state != reg_fsm.ST_REGISTERED:
            return  # a Register or Update is on its way already, or none can be sent
        for key in self._pending:
            if self._pending[key].account is account:
                return
        self._apply(account, reg.trigger_update(now_ms or account.last_io_ms), now_ms)

    # -- observations (RFC 7641, Core 1.1 section 6.4) -------------------------------

    def notifications_to_send(self):
        """The notifications to send now, as ``(msg, addr)``: a 2.05 (or an error that
        ends the observation) on the observation's token with its Observe value;
        ``msg.mtype`` is CON or NON, the caller sets the message ID."""
        return [] if self._delivery is None else self._delivery.take()

    def notification_failed(self, token, addr, now_ms=0, reset=True):
        """A notification was rejected by RST (``reset``), or a confirmable one was
        never acknowledged. An RST ends the observation (RFC 7641 section 3.6) with
        whatever was kept for it; an unacknowledged one is kept for later when the
        server's ``/1/x/6`` says so (the server counts as unreachable until an Update
        gets through), else the observation ends too (RFC 7641 section 4.5)."""
        if self._delivery is not None and \
                self._delivery.failed(token, addr, now_ms, reset):
            return
        obs = None if self._reporting is None else self.observations.cancel(addr, token)
        if obs is not None and self._delivery is not None:
            self._delivery.observation_gone(obs.ssid, obs.token)

    def notification_acknowledged(self, token, addr, now_ms):
        """A confirmable notification was acknowledged: the next kept one may go."""
        if self._delivery is not None:
            self._delivery.acknowledged(token, addr, now_ms)

    def notification_unsent(self, msg, addr, now_ms):
        """The layer below had no room to send ``msg`` (a notification handed out by
        :meth:`notifications_to_send`): it is kept and tried again."""
        if self._delivery is not None:
            self._delivery.unsent(msg, addr, now_ms)

    # -- the server's requests -------------------------------------------------------

    def serves(self, addr):
        """True when ``addr`` is a server this client is registered with: only such a
        server's requests are answered (Core 1.1 section 6.3)."""
        account = self._account_at(addr)
        if account is not None and account.registration.is_registered:
            return True
        return self._bs is not None and self._bs.serves(addr)

    def registering_with(self, addr):
        """True when a Register to the server at ``addr`` waits for its answer."""
        account = self._account_at(addr)
        return account is not None and account.registration.state == reg_fsm.ST_REGISTERING

    def handle_request(self, msg, addr, now_ms, payload=None):
        """Answer one request from ``addr``: returns the response Message (code, options,
        payload; type, MID and token are the caller's), or None when the request must be
        ignored because ``addr`` is no registered server (Core 1.1 section 6.3).

        ``payload`` is the whole body when it came in Block1 (default: ``msg.payload``).
        The response's payload may point into the client's body buffer: send (or copy)
        it before the next call into the client.

        A MemoryError on the way (a small or fragmented heap) does not escape: before the
        operation took effect it is answered 5.00 (4.13 when the request body's values
        are what does not fit), or None when not even a 5.00 can be made; after, the
        answer stands and only the event or follow-up (an Update) is lost."""
        account = self._account_at(addr)
        if account is None or not account.registration.is_registered:
            if self._bs is not None and self._bs.serves(addr):
                try:
                    return self._bs.handle_request(msg, now_ms, payload)
                except MemoryError:
                    return _internal_error()
            return None
        self._touch(account, now_ms)
        try:
            reply = self.handler.handle(msg, account.ssid, account.registration.version,
                                        msg.payload if payload is None else payload)
            response = m.Message(code=reply.code)
            if reply.cf is not None:
                response.content_format = reply.cf
            if reply.location is not None:
                response.location_path = reply.location
            if reply.body is not None:
                response.payload = reply.body
            changed = m.code_class(reply.code) == 2 and reply.op not in (
                "read", "observe", "discover", "read-composite")
            if changed and reply.body is not None:
                # What follows may encode an Update's object list into the body buffer.
                response.payload = bytes(reply.body)
            if reply.op == "observe" or (reply.op == "read-composite" and
                                         _observe_option(msg) is not None):
                # Observe and Observe-Composite (a FETCH with Observe).
                response = self.reporting.observe(account, msg, addr, reply, response,
                                                  now_ms)
        except MemoryError:
            return _internal_error()
        try:
            try:
                path = msg.uri_path
            except LwM2MError:
                path = "?"
            self._emit(ev.OperationPerformed(account.ssid, reply.op, path,
                                             m.code_name(reply.code)))
            if changed:
                self._after_operation(account, reply, msg, now_ms)
        except MemoryError:
            pass  # the operation took effect: its answer must say so
        return response

    # -- the client's own requests -----------------------------------------------------

    def requests_to_send(self):
        """The registration requests to send now, as ``(key, msg, addr)``: ``msg`` is a
        CON request with its whole body; ``key`` names it in the answer calls."""
        out = self._outbox
        self._outbox = []
        return out

    def requests_to_cancel(self):
        """Keys of requests handed out earlier whose answer no longer matters (a newer
        request of the same account superseded them): stop retransmitting them."""
        out = self._cancelled
        self._cancelled = []
        return out

    def response_received(self, key, msg, now_ms):
        if self._bs is not None and key == self._bs.key:
            self._bs.response_received(msg, now_ms)
            return
        if key in self._sends:
            ssid = self._sends.pop(key)
            self._emit(ev.Sent(ssid, msg.code))
            account = self._account(ssid)
            if account is not None:
                self._touch(account, now_ms)
            return
        pending = self._pending.pop(key, None)
        account = None if pending is None else pending.account
        if account is not None:
            self._touch(account, now_ms)
        if account is None or pending.state != account.registration.state:
            return
        try:
            self._apply(account, answer_outputs(account, msg, now_ms,
                                               self.config.advertise_formats), now_ms)
        except MemoryError:
            # An answer that cannot be processed counts as none: the failure procedure
            # takes over as after a timeout, rather than waiting for ever.
            if pending.state == account.registration.state:
                self._apply(account, account.registration.handle(reg_fsm.EV_TIMEOUT,
                                                                 now_ms), now_ms)

    def request_failed(self, key, now_ms):
        """The request ``key`` got no answer (timeout, Reset, or no room to send it)."""
        if self._bs is not None and key == self._bs.key:
            self._bs.request_failed(now_ms)
            return
        if key in self._sends:
            self._emit(ev.Sent(self._sends.pop(key), None))
            return
        pending = self._pending.pop(key, None)
        if pending is not None and pending.state == pending.account.registration.state:
            account = pending.account
            self._apply(account, account.registration.handle(reg_fsm.EV_TIMEOUT, now_ms),
                        now_ms)

    # -- internals -------------------------------------------------------------------

    def _emit(self, event):
        if len(self._events) >= self.config.max_events:
            self._events.pop(0)  # overflow policy: the oldest event goes
            self.events_dropped += 1
        self._events.append(event)

    def _apply(self, account, outputs, now_ms):
        """Carry out what a registration machine asked for, in order."""
        for item in outputs:
            if isinstance(item, reg_fsm.RegRequest):
                self._send(account, item, now_ms)
                continue
            if isinstance(item, (ev.Registered, ev.Deregistered)):
                # Observations do not outlive their registration (Core 1.1 6.4.1),
                # nor does what was kept for them.
                if self._reporting is not None:
                    self._reporting.store.cancel_server(account.ssid)
                if self._delivery is not None:
                    self._delivery.server_gone(account.ssid)
            self._emit(item)
            if isinstance(item, ev.RegistrationFailed) and item.bootstrap and \
                    self._bs is not None:
                self._bs.begin(now_ms)  # Bootstrap on Registration Failure /1/x/16
            if isinstance(item, (ev.Registered, ev.RegistrationUpdated)):
                # The server answered: it is reachable, and what was kept may go.
                account.reachable = True
                if self._delivery is not None:
                    self._delivery.flush(account, now_ms)

    def _send(self, account, req, now_ms):
        msg = m.Message(m.CON, req.method)
        msg.uri_path = list(req.uri_path)
        for q in req.uri_query:
            msg.add_option(o.URI_QUERY, q)
        if req.with_objects:
            body = self._register_payload(account, req.version, False)
            if body is None:
                # The object list outgrew max_body (a server created instances): the
                # request cannot be made, which the failure procedure handles as a
                # refusal would be.
                self._apply(account, account.registration.handle(
                    reg_fsm.EV_ERROR, now_ms, m.REQUEST_ENTITY_TOO_LARGE), now_ms)
                return
            msg.content_format = CF_LINK
            msg.payload = body
        # One registration request per account at a time: a De-register must not wait
        # (NSTART = 1) behind an Update whose answer no longer matters.
        self._cancel_pending(account)
        self._outbox = [item for item in self._outbox
                        if item[0] not in self._cancelled]
        key = self._next_key
        self._next_key += 1
        self._pending[key] = _Pending(account, account.registration.state)
        self._outbox.append((key, msg, account.addr))
        self._touch(account, now_ms)

    def _register_payload(self, account, version, strict):
        """The object list as bytes, or None when it does not fit ``max_body`` (a
        UsageError when ``strict``: at start it is the configuration's fault)."""
        formats = None
        if account is None or account.advertise:
            formats = formats_of_version(self.config.advertise_formats, version)
        try:
            n = link.encode_links(self._body, register_links(self.tree, version, formats))
        except BufferFull:
            if strict:
                raise UsageError("the object list does not fit max_body (%d bytes)" %
                                 self.config.max_body)
            return None
        return bytes(memoryview(self._body)[:n])

    def _after_operation(self, account, reply, msg, now_ms):
        """What a successful server operation means for registration: an Update after an
        instance came or went, Disable and Registration Update Trigger (/1/x/4, /1/x/8),
        Updates after Lifetime or Binding changed (Core 1.1 section 6.2.2, E.2)."""
        try:
            path = msg.strings(o.URI_PATH)
        except LwM2MError:
            return
        if reply.op == "execute" and len(path) == 3 and path[0] == "1":
            target = self._account_of_server_iid(path[1])
            if path[2] == str(BOOTSTRAP_TRIGGER) and self._bs is not None:
                self._bs.begin(now_ms)  # Bootstrap-Request Trigger (Core 1.1 E.2)
            elif target is not None and path[2] == str(DISABLE):
                self._apply(target, target.registration.disable(now_ms), now_ms)
            elif target is not None and path[2] == str(UPDATE_TRIGGER):
                self._apply(target, target.registration.trigger_update(now_ms), now_ms)
            return
        if reply.objects_changed:
            self.objects_changed(now_ms)
        if not path or path[0] in ("0", "1"):
            self._sync_accounts(now_ms, False)

    def _sync_accounts(self, now_ms, strict):
        """Bring the accounts in line with /0 and /1: new ones are added (and started
        once the client runs), a changed URI asks for a new address, new Object 1 values
        become each registration's snapshot, and vanished accounts are dropped."""
        entries = usable_accounts(self.tree) if strict else read_accounts(self.tree)[0]
        accounts = []
        for entry in entries:
            ssid, uri, sec, srv = entry
            account = self._account(ssid)
            if account is None:
                account = new_account(self.tree, entry, self.config, self.rng)
                if self.started:
                    self._emit(ev.AddressNeeded(ssid, uri))
            else:
                account.security_iid = sec
                account.server_iid = srv
                if uri != account.uri:
                    account.uri = uri
                    account.addr = None
                    if self.started:
                        self._emit(ev.AddressNeeded(ssid, uri))
                self._apply(account, account.registration.new_params(
                    server_params(self.tree, srv), now_ms), now_ms)
            accounts.append(account)
        for account in self._accounts:
            if account not in accounts:
                self._cancel_pending(account)
        self._accounts = accounts
        self._sync_bootstrap_account()

    def _sync_bootstrap_account(self):
        """The Bootstrap-Server account follows /0 as the others do."""
        sec = bootstrap_security_iid(self.tree)
        if sec is None:
            self._bs = None
        elif self._bs is None or self._bs.security_iid != sec:
            from lwm2m_client.core.client.bootstrapping import BootstrapLink

            self._bs = BootstrapLink(self, sec)

    def _queue_request(self, msg, addr):
        """Hand out a request of the client's own (the Bootstrap-Request); its key."""
        key = self._next_key
        self._next_key += 1
        self._outbox.append((key, msg, addr))
        return key

    def _bootstrap_finished(self, now_ms):
        """After Bootstrap-Finish: the accounts the server left register."""
        self._sync_accounts(now_ms, False)
        for account in self._accounts:
            state = account.registration.state
            if account.addr is not None and state in (
                    reg_fsm.ST_IDLE, reg_fsm.ST_FAILED, reg_fsm.ST_DEREGISTERED):
                self._apply(account, account.registration.start(now_ms), now_ms)

    def _purge_bootstrap_account(self, security_iid, now_ms):
        """Bootstrap-Server Account Timeout /0/x/12 ran out: forget the account."""
        try:
            self.tree.delete_instance(0, security_iid)
        except (LwM2MError, UsageError):
            pass
        self._bs = None

    def _cancel_pending(self, account):
        """Forget the registration request in flight for ``account``: its answer no
        longer matters; the layer below stops retransmitting it."""
        for key in list(self._pending):
            if self._pending[key].account is account:
                del self._pending[key]
                self._cancelled.append(key)

    def _account(self, ssid):
        for account in self._accounts:
            if account.ssid == ssid:
                return account
        return None

    def _account_at(self, addr):
        for account in self._accounts:
            if account.addr is not None and account.addr == addr:
                return account
        return None

    def _account_of_server_iid(self, segment):
        for account in self._accounts:
            if str(account.server_iid) == segment:
                return account
        return None
