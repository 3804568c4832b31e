"""LwM2M Server accounts as the client engine sees them (Core 1.1 sections 6.2, E.2).

:class:`ServerAccounts` is the half of :class:`~lwm2m_client.core.client.engine.
ClientCore` that talks *to* servers: one registration state machine per account,
the Register/Update/De-register requests it asks for (with Block1 when the object
list is long), their outcomes, and the Server object's own semantics: Disable
(/1/x/4), Registration Update Trigger (/1/x/8), and Updates after a server changed
Lifetime (/1/x/1) or Binding (/1/x/7).

It expects the subclass to provide ``config``, ``tree``, ``rng``, ``external``,
``endpoint``, ``_body`` (the shared body buffer), ``_now``, ``_emit`` and ``_after``.
"""

from lwm2m_client.core.client import registration as reg_fsm
from lwm2m_client.core.client.links import register_links
from lwm2m_client.core.client.setup import server_params
from lwm2m_client.core.coap import blockwise, messaging
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.coap import options as o
from lwm2m_client.core.content import CF_LINK, link
from lwm2m_client.core.errors import BufferFull, DecodeError, LwM2MError


class _Server:
    """One LwM2M Server account as the engine sees it."""

    def __init__(self, ssid, addr, registration):
        self.ssid = ssid
        self.addr = addr
        self.registration = registration
        self.advertise = True  # dropped after a server refused the root link


class _Pending:
    """A registration request in flight (maybe block by block). ``state`` is the
    registration state it was sent in: an answer that arrives after the state moved on
    (the 2.04 of an Update overtaken by a De-register) belongs to no current request."""

    def __init__(self, server, msg, sender, state):
        self.server = server
        self.msg = msg
        self.sender = sender
        self.state = state


class ServerAccounts:
    """Registration with each LwM2M Server account; see the module docstring."""

    def _init_accounts(self):
        self._servers = []
        self._pending = {}  # token (or key) -> _Pending
        self._outbox = []  # external mode: (key, msg, addr)
        self._next_key = 0
        self.tree.on_execute((1, None, 4), self._exec_disable)
        self.tree.on_execute((1, None, 8), self._exec_update_trigger)
        self.tree.on_written((1,), self._server_object_written)

    def set_server(self, ssid, addr, params=None):
        """Attach the server account ``ssid`` (its /1 instance) at transport address
        ``addr``. ``params`` defaults to what the /1 instance holds."""
        if params is None:
            params = server_params(self.tree, self._server_iid(ssid))
        registration = reg_fsm.Registration(self, params, self.config.endpoint,
                                            self.config.version, self.rng, self.config.jitter)
        self._servers.append(_Server(ssid, addr, registration))

    def deregistering(self):
        """True while a De-register is still waiting for its answer."""
        for server in self._servers:
            if server.registration.is_deregistering:
                return True
        return False

    def registration(self, ssid):
        server = self._server(ssid)
        return None if server is None else server.registration

    def take_requests(self):
        """External mode: the requests to send now, as ``(key, msg, addr)``."""
        out = self._outbox
        self._outbox = []
        return out

    def response_received(self, key, msg, now_ms):
        self._now = now_ms
        pending = self._pending.pop(key, None)
        if pending is None or pending.state != pending.server.registration.state:
            return
        code = msg.code
        if pending.sender is not None:
            try:
                step = pending.sender.on_response(msg)
            except DecodeError:
                step = blockwise.FAILED  # a malformed Block1 echo (RFC 7959 section 2.2)
            if step == blockwise.CONTINUE:
                self._send(pending.server, pending.msg, pending.sender, now_ms)
                return
            if step == blockwise.FAILED and m.code_class(code) == 2:
                # A success before the last block, or 2.31 after it: the server did not
                # take the whole object list, so this is no registration.
                code = m.BAD_REQUEST
        self._registration_outcome(pending, code, msg, now_ms)
        self._run_after(now_ms)

    def request_failed(self, key, now_ms):
        self._now = now_ms
        pending = self._pending.pop(key, None)
        if pending is not None and pending.state == pending.server.registration.state:
            pending.server.registration.handle(reg_fsm.EV_TIMEOUT, now_ms)

    def send_registration(self, registration, method, uri_path, uri_query, with_objects):
        server = self._server_of(registration)
        msg = m.Message(m.CON, method)
        msg.uri_path = list(uri_path)
        for q in uri_query:
            msg.add_option(o.URI_QUERY, q)
        sender = None
        if with_objects:
            msg.content_format = CF_LINK
            body = self._register_payload(server)
            if len(body) > self.config.block_size and not self.external:
                sender = blockwise.Block1Sender(body, self.config.szx)
            else:
                msg.payload = body
        self._send(server, msg, sender, self._now)

    def _register_payload(self, server):
        formats = self.config.advertise_formats if server.advertise else None
        links = register_links(self.tree, self.config.version, formats)
        try:
            n = link.encode_links(self._body, links)
        except BufferFull:
            raise LwM2MError("the object list does not fit max_body")
        return bytes(self._body[:n])

    def _send(self, server, msg, sender, now_ms):
        if sender is not None:
            sender.fill(msg)
        msg.token = b""
        # One registration request per server at a time: a De-register must not wait
        # (NSTART = 1) behind an Update whose answer no longer matters.
        for key in [k for k, p in self._pending.items() if p.server is server]:
            del self._pending[key]
            if not self.external:
                self.endpoint.cancel(key, now_ms)
        if self.external:
            key = self._next_key
            self._next_key += 1
            self._outbox.append((key, msg, server.addr))
        else:
            try:
                key = self.endpoint.request(msg, server.addr, now_ms)
            except messaging.EndpointBusy:
                server.registration.handle(reg_fsm.EV_TIMEOUT, now_ms)
                return
        self._pending[key] = _Pending(server, msg, sender, server.registration.state)

    def _registration_outcome(self, pending, code, msg, now_ms):
        server = pending.server
        registration = server.registration
        if m.code_class(code) == 2:
            location = None
            if registration.state == reg_fsm.ST_REGISTERING:
                try:
                    location = msg.strings(o.LOCATION_PATH)
                except LwM2MError:
                    location = None
                if not location:
                    registration.handle(reg_fsm.EV_ERROR, now_ms, code)
                    return
            registration.handle(reg_fsm.EV_SUCCESS, now_ms, location=location)
            return
        if (code == m.BAD_REQUEST and registration.state == reg_fsm.ST_REGISTERING
                and server.advertise and self.config.advertise_formats):
            # Some servers refuse a root link with ct=...; register again at once without
            # it (this counts as one attempt of the failure procedure).
            server.advertise = False
            registration.handle(reg_fsm.EV_ERROR, now_ms, code)
            if registration.deadline is not None:
                registration.deadline = now_ms
            return
        registration.handle(reg_fsm.EV_ERROR, now_ms, code)

    def _server(self, ssid):
        for server in self._servers:
            if server.ssid == ssid:
                return server
        return None

    def serves(self, addr):
        """True when ``addr`` is a server this client is registered with: only such a
        server's requests are answered (Core 1.1 section 6.3)."""
        server = self._server_at(addr)
        return server is not None and server.registration.is_registered

    def _server_at(self, addr):
        for server in self._servers:
            if server.addr == addr:
                return server
        return None

    def _server_of(self, registration):
        for server in self._servers:
            if server.registration is registration:
                return server
        raise ValueError("unknown registration")

    def _server_iid(self, ssid):
        for iid in self.tree.instances(1):
            if self.tree.get((1, iid, 0)) == ssid:
                return iid
        raise ValueError("no Server object instance with SSID %d" % ssid)

    def _ssid_of_instance(self, iid):
        try:
            return self.tree.get((1, iid, 0))
        except LwM2MError:
            return None

    def _exec_disable(self, path, args):
        """/1/x/4 Disable: answer first, then De-register and stay away for /1/x/5 s."""
        server = self._server(self._ssid_of_instance(path[1]))
        if server is not None:
            self._after.append(server.registration.disable)

    def _exec_update_trigger(self, path, args):
        """/1/x/8 Registration Update Trigger (Core 1.1 section 6.2.2)."""
        server = self._server(self._ssid_of_instance(path[1]))
        if server is not None:
            self._after.append(server.registration.trigger_update)

    def _server_object_written(self, path, value):
        """A server changed /1/x/1 Lifetime or /1/x/7 Binding: Update with only that
        parameter (Core 1.1 section 6.2.2)."""
        if len(path) < 3 or path[2] not in (1, 7):
            return
        server = self._server(self._ssid_of_instance(path[1]))
        if server is None:
            return
        params = server.registration.params
        fresh = server_params(self.tree, path[1])
        due = params.lifetime != fresh.lifetime or params.binding != fresh.binding or \
            params.queue != fresh.queue
        params.lifetime = fresh.lifetime
        params.binding = fresh.binding
        params.queue = fresh.queue
        # One Write may change both: the hook runs per resource, the Update goes once,
        # when the first call finds a difference.
        if due:
            self._after.append(server.registration.trigger_update)
