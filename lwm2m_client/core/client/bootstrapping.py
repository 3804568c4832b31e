"""The client's Bootstrap-Server account and the bootstrap it runs (LwM2M Core 1.1
section 6.1, Transport 1.1 section 6.4.2), next to the LwM2M Server accounts.

The Bootstrap-Server account is the ``/0`` instance with Bootstrap-Server ``/0/x/1``
true. :meth:`LwM2MClient.accounts` lists it with the Short Server ID
:data:`BOOTSTRAP_SSID` (0, which no LwM2M Server may have), so an adapter resolves its
URI like any other. While a bootstrap is under way, that server's requests are the
Bootstrap interface's (answered by
:class:`~lwm2m_client.core.client.bs_interface.BootstrapHandler`); its Bootstrap-Finish
``POST /bs`` is answered here: 4.06 Not Acceptable when the configuration it left is
inconsistent (the client stays in bootstrap), else 2.04, after which the client takes
its new accounts and registers.
"""

from lwm2m_client.core.client import bootstrap as bs_fsm
from lwm2m_client.core.client import events as ev
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.coap import options as o
from lwm2m_client.core.content import CF_SENML_CBOR
from lwm2m_client.core.errors import LwM2MError

BOOTSTRAP_SSID = 0

# Security object resources (Object 0).
_URI = 0
_HOLD_OFF = 11  # Client Hold Off Time, seconds
_ACCOUNT_TIMEOUT = 12  # Bootstrap-Server Account Timeout, seconds


def _opt(tree, path):
    return tree.get(path) if tree.has(path) else None


class BootstrapLink:
    """The Bootstrap-Server account ``/0/security_iid`` of ``client`` (an
    LwM2MClient) and its state machine."""

    def __init__(self, client, security_iid):
        self.client = client
        self.security_iid = security_iid
        self.uri = _opt(client.tree, (0, security_iid, _URI)) or ""
        self.addr = None
        config = client.config
        pct = config.preferred_format
        if pct is None:
            pct = CF_SENML_CBOR
        self.machine = bs_fsm.Bootstrap(config.endpoint, config.version, pct, client.rng,
                                         wait_ms=config.tuning.exchange_lifetime,
                                         jitter=config.jitter, pack=config.bootstrap_pack)
        self.key = None  # the client's key of the Bootstrap-Request in flight
        self.wanted = False  # a bootstrap waits for the address
        self._handler = None

    def __repr__(self):
        return "<BootstrapLink /0/%d %s %r>" % (self.security_iid, self.uri, self.machine)

    # -- life cycle ----------------------------------------------------------------

    def begin(self, now_ms):
        """Bootstrap now (after the Client Hold Off Time), unless one is under way."""
        if self.machine.active:
            return
        if self.addr is None:
            if not self.wanted:
                self.wanted = True
                self.client._emit(ev.AddressNeeded(BOOTSTRAP_SSID, self.uri))
            return
        tree = self.client.tree
        self._apply(self.machine.start(
            now_ms, _opt(tree, (0, self.security_iid, _HOLD_OFF)),
            _opt(tree, (0, self.security_iid, _ACCOUNT_TIMEOUT))), now_ms)

    def set_address(self, addr, now_ms):
        self.addr = addr
        if self.wanted and self.client.started:
            self.wanted = False
            self.begin(now_ms)

    def stop(self, now_ms):
        self._apply(self.machine.handle(bs_fsm.EV_STOP, now_ms), now_ms)

    def serves(self, addr):
        """The Bootstrap-Server at ``addr`` may send Bootstrap requests: during a
        bootstrap, and after one (a server-initiated bootstrap of a client that runs,
        Core 1.1 section 6.1.4)."""
        return addr is not None and addr == self.addr and \
            self.machine.state != bs_fsm.BS_IDLE

    # -- the Bootstrap-Server's requests -------------------------------------------

    def handle_request(self, msg, now_ms, payload):
        """The response to one Bootstrap request (Message; type, MID, token are the
        caller's)."""
        try:
            path = msg.strings(o.URI_PATH)
        except LwM2MError:
            path = None
        if msg.code == m.POST and path == ["bs"]:
            return self._finish(now_ms)
        self._apply(self.machine.handle(bs_fsm.EV_CONTACT, now_ms), now_ms)
        reply = self._bs_handler().handle(msg, self.client.config.version,
                                          msg.payload if payload is None else payload)
        response = m.Message(code=reply.code)
        if reply.cf is not None:
            response.content_format = reply.cf
        if reply.body is not None:
            response.payload = bytes(reply.body)
        self.client._emit(ev.OperationPerformed(BOOTSTRAP_SSID, reply.op,
                                                "/" + "/".join(path or []),
                                                m.code_name(reply.code)))
        return response

    def _finish(self, now_ms):
        """Bootstrap-Finish (Core 1.1 section 6.1.7.7): check what the server left."""
        from lwm2m_client.core.client.bs_interface import check_configuration

        reason = check_configuration(self.client.tree)
        if reason is not None:
            # Inconsistent: 4.06, and the client stays in bootstrap for the server to
            # put it right (or for the wait to run out and a new request to go).
            self._apply(self.machine.handle(bs_fsm.EV_CONTACT, now_ms), now_ms)
            self.client._emit(ev.BootstrapRefused(reason))
            return m.Message(code=m.NOT_ACCEPTABLE)
        self._apply(self.machine.handle(bs_fsm.EV_FINISHED, now_ms), now_ms)
        self.client._bootstrap_finished(now_ms)
        return m.Message(code=m.CHANGED)

    def _bs_handler(self):
        if self._handler is None:
            from lwm2m_client.core.client.bs_interface import BootstrapHandler

            config = self.client.config
            self._handler = BootstrapHandler(self.client.tree, self.client._body,
                                             config.formats, config.preferred_format)
        return self._handler

    # -- the Bootstrap-Request's outcome ---------------------------------------------

    def response_received(self, msg, now_ms):
        self.key = None
        if self.machine.in_pack:
            self._pack_received(msg, now_ms)
            return
        event = bs_fsm.EV_SUCCESS if m.code_class(msg.code) == 2 else bs_fsm.EV_ERROR
        self._apply(self.machine.handle(event, now_ms, msg.code), now_ms)

    def _pack_received(self, msg, now_ms):
        """The answer to a Bootstrap-Pack-Request (Core 1.2 section 6.1.7.7): applied
        and consistent, it finishes the bootstrap; else the Bootstrap-Request follows."""
        from lwm2m_client.core.client.bs_interface import apply_pack, check_configuration

        reason = "the Bootstrap-Pack-Request was answered %s" % m.code_name(msg.code)
        if msg.code == m.CONTENT:
            try:
                cf = msg.content_format
            except LwM2MError:
                cf = None
            reason = apply_pack(self.client.tree, cf, msg.payload, self.client.config.formats)
            if reason is None:
                reason = check_configuration(self.client.tree)
        if reason is None:
            self._apply(self.machine.handle(bs_fsm.EV_FINISHED, now_ms), now_ms)
            self.client._bootstrap_finished(now_ms)
            return
        self.client._emit(ev.BootstrapRefused(reason))
        self._apply(self.machine.handle(bs_fsm.EV_ERROR, now_ms, msg.code), now_ms)

    def request_failed(self, now_ms):
        self.key = None
        self._apply(self.machine.handle(bs_fsm.EV_ERROR, now_ms), now_ms)

    # -- timers ---------------------------------------------------------------------

    def get_timer(self):
        return self.machine.get_timer()

    def handle_timer(self, now_ms):
        self._apply(self.machine.handle_timer(now_ms), now_ms)

    def _apply(self, outputs, now_ms):
        client = self.client
        for item in outputs:
            if item == bs_fsm.PURGE:
                client._purge_bootstrap_account(self.security_iid, now_ms)
            elif isinstance(item, ev.Event):
                client._emit(item)
            else:
                msg = m.Message(m.CON, item.method)
                msg.uri_path = list(item.uri_path)
                for q in item.uri_query:
                    msg.add_option(o.URI_QUERY, q)
                if item.method == bs_fsm.GET:
                    msg.accept = self.machine.pct  # the pack's format
                self.key = client._queue_request(msg, self.addr)
