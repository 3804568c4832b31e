"""Events the client core hands to the application (``ClientCore.next_event()``).

Past-tense names. Plain classes so MicroPython can run them.
"""


class Event:
    """Base class: ``fields`` names the attributes shown by repr and compared by eq."""

    fields = ()

    def __repr__(self):
        return "%s(%s)" % (
            type(self).__name__,
            ", ".join(["%s=%r" % (f, getattr(self, f)) for f in self.fields]))

    def __eq__(self, other):
        return type(self) is type(other) and all(
            [getattr(self, f) == getattr(other, f) for f in self.fields])


class Registered(Event):
    """Register answered 2.01; ``location`` is the Location-Path the server assigned and
    ``version`` the LwM2M version registered with (shown, not compared)."""

    fields = ("ssid", "location")

    def __init__(self, ssid, location, version=None):
        self.ssid = ssid
        self.location = location
        self.version = version


class VersionFallback(Event):
    """The server refused a Register of LwM2M ``refused`` with ``code`` (4.12 or 4.00);
    the client registers again at once as ``version`` (Core 1.2 section 6.2.1)."""

    fields = ("ssid", "refused", "version", "code")

    def __init__(self, ssid, refused, version, code):
        self.ssid = ssid
        self.refused = refused
        self.version = version
        self.code = code


class AddressNeeded(Event):
    """The server account ``ssid`` has the URI ``uri`` and no transport address yet (it
    is new, or a Bootstrap-Server changed it): the adapter resolves it and calls
    ``set_address(ssid, addr)``; the account registers once it has one."""

    fields = ("ssid", "uri")

    def __init__(self, ssid, uri):
        self.ssid = ssid
        self.uri = uri


class RegistrationUpdated(Event):
    fields = ("ssid",)

    def __init__(self, ssid):
        self.ssid = ssid


class RegistrationFailed(Event):
    """The registration failure procedure (LwM2M Core 1.1 section 6.2.1.1) gave up.

    ``bootstrap`` tells whether Object 1 resource 16 asks for a Client-Initiated
    Bootstrap now; ``code`` is the last CoAP response code, or None after a timeout.
    """

    fields = ("ssid", "code", "bootstrap")

    def __init__(self, ssid, code, bootstrap):
        self.ssid = ssid
        self.code = code
        self.bootstrap = bootstrap


class Deregistered(Event):
    """De-register completed (or the registration was dropped); ``disabled`` when it was
    caused by Disable (/1/x/4) and a re-Register follows after the Disable Timeout."""

    fields = ("ssid", "disabled")

    def __init__(self, ssid, disabled=False):
        self.ssid = ssid
        self.disabled = disabled


class OperationPerformed(Event):
    """A server's DM request was handled: ``op`` is the operation name ("read",
    "write", "execute", ...), ``path`` the target and ``code`` the response code sent."""

    fields = ("ssid", "op", "path", "code")

    def __init__(self, ssid, op, path, code):
        self.ssid = ssid
        self.op = op
        self.path = path
        self.code = code


class Sent(Event):
    """A Send to server ``ssid`` was answered ``code`` (a CoAP code byte, 2.04 on
    success), or, with ``code`` None, got no answer (Core 1.1 section 6.4.6)."""

    fields = ("ssid", "code")

    def __init__(self, ssid, code):
        self.ssid = ssid
        self.code = code

    @property
    def ok(self):
        return self.code is not None and self.code >> 5 == 2


class WentToSleep(Event):
    """Queue mode: nothing was sent to or heard from server ``ssid`` for the awake
    window, so the client stops listening for it (Transport 1.1 section 6.5). When no
    other server needs the client awake, the adapter may close its socket."""

    fields = ("ssid",)

    def __init__(self, ssid):
        self.ssid = ssid


class WokeUp(Event):
    """Queue mode: the client talks to server ``ssid`` again (an Update announces it;
    the server then sends what it held back, Transport 1.1 section 6.5)."""

    fields = ("ssid",)

    def __init__(self, ssid):
        self.ssid = ssid


class NotificationsDropped(Event):
    """``count`` notifications for server ``ssid`` were lost, for ``reason``:
    "overflow" (the store was full), "hqmax" (an observation's historical queue),
    "storing-off" (``/1/x/6`` is false) or "observation-ended" (a new Register or
    a Reset ended what they belonged to). ``total`` counts every loss so far."""

    fields = ("ssid", "reason", "count", "total")

    def __init__(self, ssid, reason, count, total):
        self.ssid = ssid
        self.reason = reason
        self.count = count
        self.total = total


class BootstrapStarted(Event):
    """A bootstrap began: the Bootstrap-Request went out (``attempt`` 1, 2, ...), or a
    Bootstrap-Server began on its own (server-initiated, Core 1.1 section 6.1.4)."""

    fields = ("attempt",)

    def __init__(self, attempt):
        self.attempt = attempt


class BootstrapFinished(Event):
    """The Bootstrap-Server's Finish was accepted; the client registers with the
    accounts it was given (Core 1.1 section 6.1.7.7)."""

    fields = ()


class BootstrapFailed(Event):
    """A Bootstrap-Request was refused (``code``) or unanswered (None), or no Finish
    came in time; the client asks again in ``retry_ms``."""

    fields = ("code", "retry_ms")

    def __init__(self, code, retry_ms):
        self.code = code
        self.retry_ms = retry_ms


class BootstrapRefused(Event):
    """A Bootstrap-Finish was answered 4.06: the configuration is inconsistent
    (``reason``); the client stays in bootstrap."""

    fields = ("reason",)

    def __init__(self, reason):
        self.reason = reason
