"""Populate an object tree with the mandatory objects, and read back what registration needs.

A meter vendor builds an :class:`~lwm2m_client.core.dm.tree.ObjectTree` from the object
definitions it supports, then calls these helpers for the instances every LwM2M client
carries: Security (Object 0), Server (Object 1), Device (Object 3) and Connectivity
Monitoring (Object 4). Every value goes through the tree, which checks its type and range;
argument combinations the tree cannot judge (a secure URI with NoSec, an SSID on a
Bootstrap-Server account) are checked here. Either way misuse raises
:class:`~lwm2m_client.core.errors.UsageError` at once, naming the helper and the argument.

The client engine reads the accounts back with :func:`server_accounts`,
:func:`bootstrap_account` and :func:`server_params`, so a Bootstrap-Write or a server Write
to Object 1 is honoured the next time a procedure starts.

Calendar time: the core has no clock. :func:`add_device` takes an optional ``clock``
callable for the first value of Current Time ``/3/0/13``; the application, or its I/O
adapter once per wake-up, keeps it fresh with :func:`refresh_device_time`. Both take the
platform's ``time.time()`` seconds and the ``epoch`` year they count from: 1970 on CPython
and MicroPython's unix port, 2000 by default on MicroPython's microcontroller ports (ESP32,
ESP8266 and STM32 among them; ``time.gmtime(0)[0]`` tells). Current Time is always Unix
time, seconds since 1970-01-01 UTC (the LwM2M Time type, Core 1.1 Appendix C), so seconds
since 2000 get :data:`EPOCH_2000_OFFSET` added.
"""

from lwm2m_client.core.client.registration import ServerParams
from lwm2m_client.core.errors import UsageError

# Object 0 resource 2, Security Mode (Transport 1.1 section 5.2).
SEC_PSK = 0
SEC_RPK = 1
SEC_CERTIFICATE = 2
SEC_NOSEC = 3
SEC_EST = 4

# Object 4 resource 0, Network Bearer (Object 4 description), the ones meters use.
BEARER_GSM = 0
BEARER_WCDMA = 2
BEARER_LTE_TDD = 5
BEARER_LTE_FDD = 6  # LTE-M runs on it
BEARER_NB_IOT = 7
BEARER_WLAN = 21
BEARER_ETHERNET = 41
BEARER_PLC = 43

# Object 3 resource 6, Available Power Sources (Object 3 description).
POWER_DC = 0
POWER_INTERNAL_BATTERY = 1
POWER_EXTERNAL_BATTERY = 2
POWER_MAINS = 6
POWER_SOLAR = 7

# Object 3 resource 11: 0 means "no error" and is the only code while nothing is wrong.
ERROR_NONE = 0

# URI schemes of a server account (Transport 1.1 section 6.4.1, 6.4.2).
_PLAIN_SCHEMES = ("coap", "coap+tcp")
_SECURE_SCHEMES = ("coaps", "coaps+tcp")

# Binding letters of /1/x/7 (Core 1.2 section 6.2.1.1): U UDP, T TCP, S SMS, N Non-IP,
# M MQTT, H HTTP; Q is the LwM2M 1.0 queue-mode flag (Transport 1.1 section 6.5).
_BINDING_LETTERS = "UTSNMHQ"

DEVICE = (3, 0)

# Seconds from 1970-01-01 to 2000-01-01 UTC: 30 years, 7 of them leap years.
EPOCH_2000_OFFSET = 946684800


def _opt(tree, path, default):
    return tree.get(path) if tree.has(path) else default


def _nonnegative(op, name, value):
    if value is not None and (type(value) is not int or value < 0):
        raise UsageError("%s: %s must be an int >= 0, not %r" % (op, name, value))


def check_binding(binding, op="check_binding"):
    """Raise UsageError unless ``binding`` is a Binding value such as "U", "UQ", "T"."""
    if type(binding) is not str:
        raise UsageError("%s: binding must be a str, not %r" % (op, binding))
    transports = 0
    for i in range(len(binding)):
        letter = binding[i]
        if letter not in _BINDING_LETTERS or binding.count(letter) > 1:
            raise UsageError("%s: bad binding %r (letters %s, each once)"
                             % (op, binding, _BINDING_LETTERS))
        if letter != "Q":
            transports += 1
    if transports == 0:
        raise UsageError("%s: binding %r names no transport" % (op, binding))


def _check_uri(uri, mode):
    if type(uri) is not str:
        raise UsageError("add_security: uri must be a str, not %r" % (uri,))
    scheme = uri.split("://", 1)[0].lower()
    if "://" not in uri or not (scheme in _PLAIN_SCHEMES or scheme in _SECURE_SCHEMES):
        raise UsageError("add_security: uri %r is not coap[s][+tcp]://" % uri)
    # NoSec goes with the plain schemes only, every security mode with the secure ones
    # (Transport 1.1 section 5.2).
    if (mode == SEC_NOSEC) != (scheme in _PLAIN_SCHEMES):
        raise UsageError("add_security: mode %r does not fit uri %r" % (mode, uri))


# -- Object 0: LwM2M Security -------------------------------------------------------


def add_security(tree, iid, uri, ssid=None, bootstrap=False, mode=SEC_NOSEC, identity=b"",
                 secret_key=b"", server_key=b"", hold_off=0):
    """Create ``/0/iid`` (``iid`` None: the lowest free ID); returns the instance ID.

    ``identity`` is Public Key or Identity ``/0/x/3`` (a str PSK identity is UTF-8
    encoded), ``secret_key`` ``/0/x/5``, ``server_key`` Server Public Key ``/0/x/4``.
    A LwM2M Server account needs its Short Server ID ``ssid`` (``/0/x/10``); a
    Bootstrap-Server account has none and carries Client Hold Off Time ``hold_off``
    (``/0/x/11``, seconds), which Object 0 defines for the Bootstrap-Server only.
    """
    _check_uri(uri, mode)
    if type(identity) is str:
        identity = identity.encode("utf-8")
    if mode == SEC_PSK and not (identity and secret_key):
        # Transport 1.1 section 5.2.8.1: the PSK identity and key are both needed.
        raise UsageError("add_security: PSK mode needs an identity and a secret_key")
    values = {0: uri, 1: bool(bootstrap), 2: mode, 3: identity, 4: server_key,
              5: secret_key}
    if bootstrap:
        if ssid is not None:
            raise UsageError("add_security: a Bootstrap-Server account has no ssid")
        _nonnegative("add_security", "hold_off", hold_off)
        values[11] = hold_off
    else:
        if ssid is None:
            raise UsageError("add_security: a LwM2M Server account needs its ssid")
        if hold_off:
            raise UsageError("add_security: hold_off is for the Bootstrap-Server account")
        values[10] = ssid
    return tree.create_instance(0, iid, values)


# -- Object 1: LwM2M Server ---------------------------------------------------------


def add_server(tree, iid, ssid, lifetime=86400, binding="U", notification_storing=True,
               default_pmin=None, default_pmax=None, disable_timeout=None,
               initial_delay=None, registration_failure_block=None,
               bootstrap_on_failure=None, retry_count=None, retry_timer=None,
               sequence_delay=None, sequence_retry_count=None, mute_send=False):
    """Create ``/1/iid`` for the server ``ssid``; returns the instance ID.

    ``lifetime`` 0 means infinite (Object 1 v1.2). ``binding`` is written as given
    ("UQ" asks for queue mode, see :func:`server_params`). The optional arguments are
    written only when given, so their absence means the Core 1.1 section 6.2.1.1
    defaults: disable timeout ``/1/x/5``, initial registration delay ``/1/x/14``,
    registration failure block ``/1/x/15``, bootstrap on registration failure
    ``/1/x/16``, communication retry count and timer ``/1/x/17``, ``/1/x/18``, sequence
    delay and sequence retry count ``/1/x/19``, ``/1/x/20``; default pmin/pmax are
    ``/1/x/2`` and ``/1/x/3``. ``mute_send`` is written to Mute Send ``/1/x/23`` when
    the Server object defines it (None leaves it absent, which mutes Send).
    """
    check_binding(binding, "add_server")
    values = {0: ssid, 1: lifetime, 6: bool(notification_storing), 7: binding}
    if mute_send is not None and tree.definition(1).resource(23) is not None:
        values[23] = bool(mute_send)
    optional = (
        (2, "default_pmin", default_pmin),
        (3, "default_pmax", default_pmax),
        (5, "disable_timeout", disable_timeout),
        (14, "initial_delay", initial_delay),
        (17, "retry_count", retry_count),
        (18, "retry_timer", retry_timer),
        (19, "sequence_delay", sequence_delay),
        (20, "sequence_retry_count", sequence_retry_count),
    )
    _nonnegative("add_server", "lifetime", lifetime)
    for rid, name, value in optional:
        _nonnegative("add_server", name, value)
        if value is not None:
            values[rid] = value
    if registration_failure_block is not None:
        values[15] = bool(registration_failure_block)
    if bootstrap_on_failure is not None:
        values[16] = bool(bootstrap_on_failure)
    return tree.create_instance(1, iid, values)


def server_params(tree, iid):
    """A :class:`ServerParams` snapshot of ``/1/iid``; absent resources take the
    defaults of Core 1.1 section 6.2.1.1 (those of ServerParams itself).

    The Binding keeps the transports only; a "Q" in it sets ``queue``: LwM2M 1.1 and
    later signal queue mode with the separate ``Q`` flag (Transport 1.1 section 6.5),
    and the registration adds the letter back for a 1.0 server.
    """
    base = ServerParams()
    ssid = tree.get((1, iid, 0))
    binding = _opt(tree, (1, iid, 7), base.binding)
    transports = binding.replace("Q", "")
    return ServerParams(
        ssid=ssid,
        lifetime=_opt(tree, (1, iid, 1), base.lifetime),
        binding=transports or base.binding,
        queue="Q" in binding,
        initial_delay=_opt(tree, (1, iid, 14), base.initial_delay),
        retry_count=_opt(tree, (1, iid, 17), base.retry_count),
        retry_timer=_opt(tree, (1, iid, 18), base.retry_timer),
        sequence_delay=_opt(tree, (1, iid, 19), base.sequence_delay),
        sequence_retry_count=_opt(tree, (1, iid, 20), base.sequence_retry_count),
        bootstrap_on_failure=_opt(tree, (1, iid, 16), base.bootstrap_on_failure),
        disable_timeout=_opt(tree, (1, iid, 5), base.disable_timeout),
    )


def server_accounts(tree):
    """The LwM2M Server accounts, ``[(ssid, uri, security_iid, server_iid)]`` sorted by
    SSID: every non-bootstrap ``/0`` instance paired with the ``/1`` instance of its
    Short Server ID (``/0/x/10`` and ``/1/x/0`` are the only link between the two
    objects). A half without its other half is not an account and is left out."""
    objects = tree.objects()
    if 0 not in objects or 1 not in objects:
        return []
    servers = {}
    for iid in tree.instances(1):
        ssid = _opt(tree, (1, iid, 0), None)
        if ssid is not None and ssid not in servers:
            servers[ssid] = iid
    accounts = []
    for sec in tree.instances(0):
        if _opt(tree, (0, sec, 1), False):
            continue
        ssid = _opt(tree, (0, sec, 10), None)
        if ssid in servers and tree.has((0, sec, 0)):
            accounts.append((ssid, tree.get((0, sec, 0)), sec, servers[ssid]))
    accounts.sort()
    return accounts


def bootstrap_account(tree):
    """``(uri, security_iid, hold_off_s)`` of the Bootstrap-Server account, or None.

    A client is given one; should a Bootstrap-Write leave two, the lowest instance wins.
    """
    if 0 not in tree.objects():
        return None
    for sec in tree.instances(0):
        if _opt(tree, (0, sec, 1), False) and tree.has((0, sec, 0)):
            return (tree.get((0, sec, 0)), sec, _opt(tree, (0, sec, 11), 0))
    return None


# -- Object 3: Device ----------------------------------------------------------------


def add_device(tree, manufacturer, model, serial, firmware_version, reboot=None,
               factory_reset=None, clock=None, binding="U", values=None, epoch=1970):
    """Create ``/3/0`` with Manufacturer, Model Number, Serial Number, Firmware Version,
    Error Code ``{0: 0}`` and Supported Binding and Modes ``binding`` (it should equal
    the ``b=`` of Register, Core 1.2 section 6.2.1); returns 0.

    ``reboot`` and ``factory_reset`` are callables without arguments run by Execute on
    ``/3/0/4`` and ``/3/0/5``. The response goes out after the handler returns, so a
    handler schedules the work rather than doing it. Without a callable the Execute
    answers 4.04. Reset Error Code ``/3/0/12`` is wired to :func:`reset_error_codes`.
    ``clock`` (a callable giving the seconds of the platform's ``time.time()``, counted
    from the year ``epoch``: 1970 or 2000) sets the first Current Time ``/3/0/13``, which
    is Unix time either way (see :func:`unix_time`).
    ``values`` (``rid -> value``) adds other Object 3 resources (power sources,
    battery level, hardware version ...). Object 3 is single-instance: the server may
    neither create nor delete it (Core 1.1 section 6.3.6, Object 3).
    """
    check_binding(binding, "add_device")
    _check_epoch(epoch, "add_device")
    for name, fn in (("reboot", reboot), ("factory_reset", factory_reset), ("clock", clock)):
        if fn is not None and not callable(fn):
            raise UsageError("add_device: %s must be callable, not %r" % (name, fn))
    fields = {0: manufacturer, 1: model, 2: serial, 3: firmware_version,
              11: {0: ERROR_NONE}, 16: binding}
    if clock is not None:
        fields[13] = _unix(clock(), epoch, "add_device")
    if values:
        for rid in values:
            fields[rid] = values[rid]
    tree.create_instance(3, 0, fields)
    if reboot is not None:
        tree.on_execute((3, 0, 4), lambda path, args: reboot())
    if factory_reset is not None:
        tree.on_execute((3, 0, 5), lambda path, args: factory_reset())
    tree.on_execute((3, 0, 12), lambda path, args: reset_error_codes(tree))
    tree.deny_create(3)
    tree.deny_delete(DEVICE)
    return 0


def refresh_device_time(tree, seconds, epoch=1970):
    """Set Current Time ``/3/0/13`` from ``seconds`` of the platform's ``time.time()``,
    counted from the year ``epoch`` (1970 or 2000, as for :func:`add_device`), as whole
    Unix seconds; the tree records a change, and so a notification, only when the second
    differs."""
    tree.set((3, 0, 13), _unix(seconds, epoch, "refresh_device_time"))


def unix_time(seconds, epoch=1970):
    """Whole seconds since 1970-01-01 UTC, the LwM2M Time type (Core 1.1 Appendix C),
    for ``seconds`` counted from the start of the year ``epoch``: 1970 or 2000 (see the
    module notes). Raises UsageError for any other epoch."""
    return _unix(seconds, epoch, "unix_time")


def _unix(seconds, epoch, op):
    _check_epoch(epoch, op)
    seconds = int(seconds)
    return seconds + EPOCH_2000_OFFSET if epoch == 2000 else seconds


def _check_epoch(epoch, op):
    if type(epoch) is not int or (epoch != 1970 and epoch != 2000):
        raise UsageError("%s: epoch must be 1970 or 2000, not %r" % (op, epoch))


def add_error_code(tree, code):
    """Report an active Error Code (``/3/0/11``, 1..32); "0 = no error" goes away while
    another code is active (Object 3 resource 11)."""
    if code == ERROR_NONE:
        raise UsageError("add_error_code: code 0 means no error; use reset_error_codes")
    codes = tree.get((3, 0, 11))
    active = [codes[riid] for riid in sorted(codes) if codes[riid] != ERROR_NONE]
    if code in active:
        return
    active.append(code)
    tree.set((3, 0, 11), _indexed(active))


def reset_error_codes(tree):
    """Clear the active error codes: ``/3/0/11`` becomes ``{0: 0}`` (Reset Error Code)."""
    tree.set((3, 0, 11), {0: ERROR_NONE})


# -- Object 4: Connectivity Monitoring ---------------------------------------------


def add_connectivity(tree, bearer=BEARER_NB_IOT, signal=-90, ip="0.0.0.0",
                     available=None, link_quality=None, apn=None, cell_id=None,
                     mnc=None, mcc=None):
    """Create ``/4/0`` with the mandatory Network Bearer, Available Network Bearer
    (``available``, a list; default ``[bearer]``), Radio Signal Strength ``signal``
    (dBm) and IP Addresses (``ip``: one address or a list); returns 0.

    Optional: Link Quality ``/4/0/3``, APN ``/4/0/7`` (str or list), Cell ID
    ``/4/0/8``, SMNC ``/4/0/9``, SMCC ``/4/0/10``. The application keeps the changing
    ones (signal, link quality, cell) fresh with ``tree.set``.
    """
    if available is None:
        available = [bearer]
    if type(ip) is str:
        ip = [ip]
    fields = {0: bearer, 1: _indexed(available), 2: signal, 4: _indexed(ip)}
    if link_quality is not None:
        fields[3] = link_quality
    if apn is not None:
        fields[7] = _indexed([apn] if type(apn) is str else apn)
    if cell_id is not None:
        fields[8] = cell_id
    if mnc is not None:
        fields[9] = mnc
    if mcc is not None:
        fields[10] = mcc
    tree.create_instance(4, 0, fields)
    return 0


def _indexed(items):
    # A multiple resource's value: resource instance IDs 0, 1, 2 ... in order.
    out = {}
    for i in range(len(items)):
        out[i] = items[i]
    return out
