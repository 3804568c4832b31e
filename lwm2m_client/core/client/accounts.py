"""LwM2M Server accounts, derived from the Security and Server objects of the tree, and
what the server's answers to an account's registration requests mean.

An account is one LwM2M Server the client registers with (Core 1.1 section 6.2, E.1,
E.2): a non-bootstrap Security instance ``/0/x`` and the Server instance ``/1/y`` that
carry the same Short Server ID (``/0/x/10`` and ``/1/y/0`` are the only link between the
two objects). The tree is the one place the accounts are configured: the client reads
them at start and again whenever a server (or, later, a Bootstrap-Server) changes ``/0``
or ``/1``; nobody hands a server to the client a second time.

:func:`read_accounts` reads them; a configuration that names one Short Server ID twice,
or halves without their other half, is reported as problems, which the client turns into
a :class:`~lwm2m_client.core.errors.UsageError` at start (an application mistake) and
ignores afterwards (a peer must not be able to crash the client).
"""

from lwm2m_client.core.client import registration as reg_fsm
from lwm2m_client.core.client.setup import check_binding, server_params
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.coap import options as o
from lwm2m_client.core.errors import BadRequest, LwM2MError, UsageError

# Server object resources the client acts on after a successful server operation:
# Disable, Registration Update Trigger and Bootstrap-Request Trigger (Object 1).
DISABLE = 4
UPDATE_TRIGGER = 8
BOOTSTRAP_TRIGGER = 9


def _accept_execute(path, args):
    # /1/x/4, /1/x/8 and /1/x/9 answer 2.04; the client acts on the answer afterwards.
    return None


def _check_server_write(path, value):
    """A server's Write to Object 1 that registration could not use is refused with 4.00
    and nothing applied: a negative Lifetime (0 means infinite, Object 1 v1.2), or a
    Binding that names no transport or an unknown one (Core 1.2 section 6.2.1.1)."""
    if len(path) != 3 or value is None:
        return
    if path[2] == 1 and value < 0:
        raise BadRequest("Lifetime must not be negative")
    if path[2] == 7:
        try:
            check_binding(value, "Binding")
        except UsageError as exc:
            raise BadRequest(str(exc))


def wire_server_object(tree):
    """Execute on Disable and Registration Update Trigger answers 2.04 (the client acts
    on the answer), and server Writes to Object 1 are checked first. Wiring twice (a new
    client on the same tree) changes nothing: the tree keeps one of each."""
    tree.on_execute((1, None, DISABLE), _accept_execute)
    tree.on_execute((1, None, UPDATE_TRIGGER), _accept_execute)
    odef = tree.definition(1) if 1 in tree.objects() else None
    if odef is not None and odef.resource(BOOTSTRAP_TRIGGER) is not None:
        tree.on_execute((1, None, BOOTSTRAP_TRIGGER), _accept_execute)
    tree.on_write((1,), _check_server_write)


class ServerAccount:
    """One LwM2M Server account as the client sees it.

    ``uri`` is ``/0/x/0``; ``addr`` the transport address the adapter resolved it to
    (None until then; opaque to the core); ``registration`` its state machine;
    ``advertise`` is dropped after the server refused the root link's ``ct``.
    """

    def __init__(self, ssid, uri, security_iid, server_iid, registration):
        self.ssid = ssid
        self.uri = uri
        self.security_iid = security_iid
        self.server_iid = server_iid
        self.registration = registration
        self.addr = None
        self.advertise = True
        # Queue mode and notification delivery (Transport 1.1 section 6.5): when the
        # client last sent to or heard from the server, whether it stopped listening,
        # and whether the server is known to be reachable (False after an unanswered
        # notification or Update, and while asleep, until an Update gets through).
        self.last_io_ms = 0
        self.asleep = False
        self.reachable = True

    def __repr__(self):
        return "<ServerAccount ssid=%d %s addr=%r %r>" % (self.ssid, self.uri, self.addr,
                                                         self.registration)


def _value(tree, path, default=None):
    return tree.get(path) if tree.has(path) else default


def read_accounts(tree):
    """``(accounts, problems)``: ``accounts`` is ``[(ssid, uri, security_iid,
    server_iid)]`` sorted by SSID; ``problems`` a list of one-line strings."""
    objects = tree.objects()
    if 0 not in objects or 1 not in objects:
        return [], ["the tree has no Security (0) and Server (1) objects"]
    problems = []
    servers = {}
    for iid in tree.instances(1):
        ssid = _value(tree, (1, iid, 0))
        if ssid is None:
            problems.append("/1/%d has no Short Server ID" % iid)
        elif ssid in servers:
            problems.append("Short Server ID %d is in /1/%d and /1/%d" % (
                ssid, servers[ssid], iid))
        else:
            servers[ssid] = iid
    securities = {}
    for sec in tree.instances(0):
        if _value(tree, (0, sec, 1), False):
            continue  # the Bootstrap-Server account
        ssid = _value(tree, (0, sec, 10))
        uri = _value(tree, (0, sec, 0))
        if ssid is None or not uri:
            problems.append("/0/%d needs a Server URI and a Short Server ID" % sec)
        elif ssid in securities:
            problems.append("Short Server ID %d is in /0/%d and /0/%d" % (
                ssid, securities[ssid][0], sec))
        else:
            securities[ssid] = (sec, uri)
    accounts = []
    for ssid in sorted(securities):
        sec, uri = securities[ssid]
        if ssid in servers:
            accounts.append((ssid, uri, sec, servers[ssid]))
        else:
            problems.append("/0/%d (Short Server ID %d) has no /1 instance" % (sec, ssid))
    for ssid in sorted(servers):
        if ssid not in securities:
            problems.append("/1/%d (Short Server ID %d) has no /0 instance" % (
                servers[ssid], ssid))
    return accounts, problems


def bootstrap_security_iid(tree):
    """The ``/0`` instance of the Bootstrap-Server account, or None."""
    if 0 not in tree.objects():
        return None
    for sec in tree.instances(0):
        if _value(tree, (0, sec, 1), False):
            return sec
    return None


def has_bootstrap_account(tree):
    """True when ``/0`` holds a Bootstrap-Server account."""
    return bootstrap_security_iid(tree) is not None


def usable_accounts(tree):
    """The entries of :func:`read_accounts`; a problem, or no account at all, is the
    application's configuration error (UsageError), found before anything is sent."""
    entries, problems = read_accounts(tree)
    if problems:
        raise UsageError("server accounts: " + problems[0])
    if not entries and not has_bootstrap_account(tree):
        raise UsageError("server accounts: /0 and /1 hold neither an LwM2M Server nor "
                         "a Bootstrap-Server account")
    return entries


def new_account(tree, entry, config, rng):
    """A :class:`ServerAccount` for one entry of :func:`read_accounts`."""
    ssid, uri, sec, srv = entry
    registration = reg_fsm.Registration(
        server_params(tree, srv), config.endpoint, config.version, rng, config.jitter,
        config.tuning.max_transmit_wait)
    return ServerAccount(ssid, uri, sec, srv, registration)


def answer_outputs(account, msg, now_ms, advertise_formats):
    """What the server's answer ``msg`` to the account's registration request means for
    its state machine: the machine's outputs (requests to send, events).

    A 2.xx to a Register needs a Location-Path (Core 1.1 section 6.2.1). A 4.00 to a
    Register whose root link named content formats: some servers refuse ``ct``, so the
    account registers again at once without it (one attempt of the failure procedure).
    A 4.12 or 4.00 that refuses the LwM2M version falls back to an older one."""
    reg = account.registration
    code = msg.code
    if m.code_class(code) == 2:
        location = None
        if reg.state == reg_fsm.ST_REGISTERING:
            try:
                location = msg.strings(o.LOCATION_PATH)
            except LwM2MError:
                location = None
            if not location:
                return reg.handle(reg_fsm.EV_ERROR, now_ms, code)
        return reg.handle(reg_fsm.EV_SUCCESS, now_ms, location=location)
    if (code == m.BAD_REQUEST and reg.state == reg_fsm.ST_REGISTERING
            and account.advertise and advertise_formats):
        account.advertise = False
        return reg.retry_now(now_ms, code)
    if reg.refused_version(code) is not None:
        return reg.fall_back(now_ms, code)
    return reg.handle(reg_fsm.EV_ERROR, now_ms, code)
