"""Registration interface, client side (LwM2M Core 1.1/1.2 section 6.2; Transport 6.4.3).

One :class:`Registration` per LwM2M Server account. It is a state machine written as an
explicit table: ``TRANSITIONS[state][event]`` names the action;
a pair that is not in the table (None) is a protocol error and is ignored with the state
kept.

The machine does no I/O and calls nothing back: every driving call (:meth:`handle`,
:meth:`start`, :meth:`stop`, :meth:`handle_timer`, :meth:`disable`,
:meth:`trigger_update`) returns the list of what it wants done, in order: a
:class:`RegRequest` to send, or an event for the application. The outcome of a request
comes back through :meth:`handle` with ``EV_SUCCESS`` / ``EV_ERROR`` / ``EV_TIMEOUT``.
Timers are absolute deadlines in injected milliseconds; :meth:`get_timer` and
:meth:`handle_timer` follow the same shape as the rest of the core.

The Server object (Object 1) values it needs arrive as a ``ServerParams`` snapshot; the
client replaces the snapshot (:meth:`Registration.new_params`) when a server writes
Lifetime or Binding, and never changes one in place.

LwM2M version: the machine registers with the newest version it was given and, when a
server refuses the Register with 4.12 or 4.00, falls back to the next older one it speaks
(1.2 -> 1.1 -> 1.0) at once, telling the application with :class:`~lwm2m_client.core.
client.events.VersionFallback` (Core 1.2 section 6.2.1: a server answers a version it
does not support with 4.12 Precondition Failed; older servers answer 4.00).
"""

from lwm2m_client.core.client import events as ev

# CoAP method codes used here (RFC 7252 section 12.1.1).
POST = 2
DELETE = 4

# Response codes that refuse the LwM2M version of a Register (Core 1.2 section 6.2.1).
_BAD_REQUEST = 0x80
_PRECONDITION_FAILED = 0x8C

# The enabler versions, newest first: the fallback order.
VERSIONS = ("1.2", "1.1", "1.0")

# States.
ST_IDLE = 0
ST_INITIAL_DELAY = 1
ST_REGISTERING = 2
ST_REGISTERED = 3
ST_UPDATING = 4
ST_DEREGISTERING = 5
ST_RETRY_WAIT = 6
ST_DISABLED = 7
ST_FAILED = 8
ST_DEREGISTERED = 9
STATE_NAMES = ("idle", "initial-delay", "registering", "registered", "updating",
               "deregistering", "retry-wait", "disabled", "failed", "deregistered")

# Events.
EV_START = 0
EV_TIMER = 1
EV_SUCCESS = 2
EV_ERROR = 3
EV_TIMEOUT = 4
EV_UPDATE = 5
EV_STOP = 6
EV_DISABLE = 7
EVENT_NAMES = ("start", "timer", "success", "error", "timeout", "update", "stop", "disable")

# The table: TRANSITIONS[state][event] is the action, a method name of Registration, or
# None for a pair the machine does not take. Rows follow the ST_* numbers and columns
# the EV_* numbers. Literals only: frozen into firmware, the table stays in flash (a dict
# keyed by (state, event) would be built in RAM at import).
TRANSITIONS = (
    # start      timer             success          error               timeout
    #   update           stop                    disable
    ("_begin", None, None, None, None,
     None, "_stopped", None),  # idle
    (None, "_send_register", None, None, None,
     None, "_stopped", None),  # initial-delay
    # A Register in flight may still succeed: on stop, wait for its answer, then
    # De-register.
    (None, None, "_registered", "_register_failed", "_register_failed",
     None, "_stop_when_answered", None),  # registering
    (None, "_send_update", None, None, None,
     "_send_update", "_send_deregister", "_send_deregister"),  # registered
    # An Update answered with an error (4.04 above all) or not answered at all means the
    # server lost us: register afresh (Transport 1.1 section 6.4.3; Core 1.2 section 6.2).
    (None, None, "_updated", "_send_register", "_send_register",
     "_note_update", "_send_deregister", "_send_deregister"),  # updating
    # Stop while a Disable's De-register is in flight: no registering again afterwards.
    (None, None, "_deregistered", "_deregistered", "_deregistered",
     None, "_keep_deregistered", None),  # deregistering
    (None, "_send_register", None, None, None,
     None, "_stopped", None),  # retry-wait
    (None, "_send_register", None, None, None,
     None, "_stopped", None),  # disabled
    ("_begin", None, None, None, None,
     None, "_stopped", None),  # failed
    ("_begin", None, None, None, None,
     None, None, None),  # deregistered
)

# Update margin before lifetime expiry: the spec gives none; lifetime - min(lifetime/2,
# MAX_TRANSMIT_WAIT) leaves room for a full CON exchange. The
# default is RFC 7252 section 4.8.2's 93 s; the client passes its tuning's value.
MAX_TRANSMIT_WAIT_MS = 93000


class RegRequest:
    """A registration request the machine wants sent: CoAP ``method``, ``uri_path``
    segments, ``uri_query`` strings, and ``with_objects`` when the body is the object
    list (Register, and an Update after the list changed). ``version`` is the LwM2M
    version the request speaks (the object list's ``ver`` values follow it)."""

    def __init__(self, method, uri_path, uri_query, with_objects, version):
        self.method = method
        self.uri_path = uri_path
        self.uri_query = uri_query
        self.with_objects = with_objects
        self.version = version

    def __repr__(self):
        return "RegRequest(%d, %r, %r, %r)" % (self.method, self.uri_path, self.uri_query,
                                              self.with_objects)

    def __eq__(self, other):
        return type(other) is RegRequest and self.method == other.method and \
            self.uri_path == other.uri_path and self.uri_query == other.uri_query and \
            self.with_objects == other.with_objects and self.version == other.version


class ServerParams:
    """The Object 1 values registration uses, with the defaults of Core 1.1 6.2.1.1.

    A snapshot: nothing changes it after it was made."""

    def __init__(self, ssid=1, lifetime=86400, binding="U", queue=False,
                 initial_delay=0, retry_count=5, retry_timer=60, sequence_delay=86400,
                 sequence_retry_count=1, bootstrap_on_failure=True, disable_timeout=86400):
        self.ssid = ssid
        self.lifetime = lifetime  # /1/x/1 seconds; 0 = infinite (Object 1 v1.2)
        self.binding = binding  # /1/x/7, transports only (U, T, S, N)
        self.queue = queue
        self.initial_delay = initial_delay  # /1/x/14
        self.retry_count = retry_count  # /1/x/17
        self.retry_timer = retry_timer  # /1/x/18
        self.sequence_delay = sequence_delay  # /1/x/19
        self.sequence_retry_count = sequence_retry_count  # /1/x/20
        self.bootstrap_on_failure = bootstrap_on_failure  # /1/x/16
        self.disable_timeout = disable_timeout  # /1/x/5

    def __repr__(self):
        return "ServerParams(ssid=%d, lifetime=%d, binding=%r)" % (
            self.ssid, self.lifetime, self.binding)


class Registration:
    """Registration with one LwM2M Server.

    ``endpoint`` is the Endpoint Client Name; ``version`` the newest enabler version
    to send as ``lwm2m=`` ("1.0", "1.1" or "1.2"; older ones are the fallbacks);
    ``rng`` an injected source with ``getrandbits``; ``jitter`` the fraction (0..1) of
    random extra wait added to every retry and to the initial delay so a fleet that
    loses its server does not come back in lock-step; ``max_transmit_wait_ms`` the
    MAX_TRANSMIT_WAIT of the client's CoAP tuning (RFC 7252 section 4.8.2).
    """

    def __init__(self, params, endpoint, version="1.1", rng=None, jitter=0.1,
                 max_transmit_wait_ms=MAX_TRANSMIT_WAIT_MS):
        self.params = params
        self.endpoint = endpoint
        self.max_version = version
        self.version = version
        self.rng = rng
        self.jitter = jitter
        self.max_transmit_wait_ms = max_transmit_wait_ms
        self.state = ST_IDLE
        self.location = None  # Location-Path segments from the 2.01
        self.deadline = None
        self.attempt = 1
        self.sequence = 1
        self.last_code = None
        self.disabling = False
        self.stopping = False  # stop() came while a Register was in flight
        self.registered_once = False
        # What the last successful Register/Update told the server, so an Update carries
        # only what changed (Core 1.1 section 6.2.2).
        self.sent_lifetime = None
        self.sent_binding = None
        self.sent_queue = None
        self._in_flight = None  # (lifetime, binding, queue) of the request in flight
        self.objects_changed = False
        self.update_pending = False
        self._out = []

    def __repr__(self):
        return "<Registration ssid=%d %s>" % (self.params.ssid, STATE_NAMES[self.state])

    # -- driving ------------------------------------------------------------------

    def handle(self, event, now_ms, code=None, location=None):
        """Feed one event; returns what it asks for (RegRequests and events, in order).
        A (state, event) pair the table does not have changes nothing and returns []."""
        action = TRANSITIONS[self.state][event]
        if action is None:
            return []
        if event == EV_ERROR or event == EV_TIMEOUT:
            self.last_code = code
        out = self._out = []
        getattr(self, action)(now_ms, location)
        self._out = []
        return out

    def accepts(self, event):
        """True when the table has an entry for ``event`` in the current state."""
        return TRANSITIONS[self.state][event] is not None

    def get_timer(self):
        return self.deadline

    def handle_timer(self, now_ms):
        if self.deadline is not None and now_ms >= self.deadline:
            self.deadline = None
            return self.handle(EV_TIMER, now_ms)
        return []

    def start(self, now_ms):
        return self.handle(EV_START, now_ms)

    def stop(self, now_ms):
        return self.handle(EV_STOP, now_ms)

    def disable(self, now_ms):
        """Disable (/1/x/4): De-register now, register again after /1/x/5 seconds."""
        if not self.accepts(EV_DISABLE):
            return []
        self.disabling = True
        return self.handle(EV_DISABLE, now_ms)

    def trigger_update(self, now_ms, objects_changed=False):
        """Registration Update Trigger (/1/x/8) or a change the server must hear about."""
        if objects_changed:
            self.objects_changed = True
        return self.handle(EV_UPDATE, now_ms)

    def new_params(self, params, now_ms):
        """Take a fresh ServerParams snapshot (a server wrote /1/x); when Lifetime or
        Binding differ from the current one, Update with only those (Core 1.1 section
        6.2.2). One Write may change both: the Update goes out once."""
        old = self.params
        self.params = params
        if old.lifetime != params.lifetime or old.binding != params.binding or \
                old.queue != params.queue:
            return self.trigger_update(now_ms)
        return []

    def refused_version(self, code):
        """After a Register answered ``code``: the older LwM2M version to try next, or
        None (Core 1.2 section 6.2.1; the caller retries at once with it)."""
        if self.state != ST_REGISTERING or (code != _PRECONDITION_FAILED and
                                             code != _BAD_REQUEST):
            return None
        i = VERSIONS.index(self.version) + 1
        return VERSIONS[i] if i < len(VERSIONS) else None

    def fall_back(self, now_ms, code):
        """Register again at once with the next older LwM2M version; returns its output,
        the VersionFallback event first. Not counted as an attempt of the failure
        procedure: it is a different request, not a retry of the same."""
        older = self.refused_version(code)
        if older is None:
            return []
        event = ev.VersionFallback(self.params.ssid, self.version, older, code)
        self.version = older
        self.last_code = code
        self._out = [event]
        self._send_register(now_ms, None)
        out = self._out
        self._out = []
        return out

    def retry_now(self, now_ms, code):
        """Count a failed Register as an attempt, but send the next one at once (a
        server refused an optional part of it, such as the root link's ``ct``)."""
        out = self.handle(EV_ERROR, now_ms, code)
        if self.state == ST_RETRY_WAIT:
            self.deadline = now_ms
        return out

    @property
    def is_deregistering(self):
        """A De-register is in flight, or will follow the Register in flight."""
        return self.state == ST_DEREGISTERING or self.stopping

    @property
    def is_registered(self):
        return self.state == ST_REGISTERED or self.state == ST_UPDATING

    # -- requests -------------------------------------------------------------------

    def register_query(self):
        """Uri-Query options of Register (Transport 1.1 section 6.4.3, Core 6.2.1 table)."""
        p = self.params
        query = ["ep=" + self.endpoint]
        if p.lifetime != 86400 or self.version != "1.0":
            query.append("lt=%d" % p.lifetime)
        query.append("lwm2m=" + self.version)
        query.append("b=" + self._binding_value())
        if p.queue and self.version != "1.0":
            query.append("Q")
        return query

    def update_query(self):
        """Only the parameters that changed since the server last heard them."""
        p = self.params
        query = []
        if p.lifetime != self.sent_lifetime:
            query.append("lt=%d" % p.lifetime)
        binding = self._binding_value()
        if binding != self.sent_binding or p.queue != self.sent_queue:
            # Queue mode is part of the binding in 1.0 and the Q flag next to it in
            # 1.1+; either change goes out with the binding (Core 1.1 section 6.2.2).
            query.append("b=" + binding)
            if p.queue and self.version != "1.0":
                query.append("Q")
        return query

    def _binding_value(self):
        # LwM2M 1.0 signals queue mode inside the binding ("UQ"); 1.1+ uses the Q flag.
        if self.version == "1.0" and self.params.queue and "Q" not in self.params.binding:
            return self.params.binding + "Q"
        return self.params.binding

    # -- actions (named in TRANSITIONS) ---------------------------------------------

    def _begin(self, now_ms, _loc):
        self.version = self.max_version
        self.attempt = 1
        self.sequence = 1
        self.disabling = False
        delay = 0 if self.registered_once else self.params.initial_delay * 1000
        delay += self._jitter(max(delay, 1000))
        self.state = ST_INITIAL_DELAY
        self.deadline = now_ms + delay

    def _send_register(self, now_ms, _loc):
        self.state = ST_REGISTERING
        self.deadline = None
        self.location = None
        self.update_pending = False
        self.objects_changed = False
        self._note_in_flight()
        self._out.append(RegRequest(POST, ["rd"], self.register_query(), True, self.version))

    def _registered(self, now_ms, location):
        if self.stopping:
            self.stopping = False
            self.location = location
            self._send_deregister(now_ms, None)
            return
        self.location = location
        self.registered_once = True
        self.attempt = 1
        self.sequence = 1
        self._accept_sent()
        self.state = ST_REGISTERED
        self._schedule_update(now_ms)
        self._out.append(ev.Registered(self.params.ssid, location, self.version))

    def _stop_when_answered(self, now_ms, _loc):
        self.stopping = True

    def _register_failed(self, now_ms, _loc):
        """Registration failure procedure, Core 1.2 section 6.2.1.1: wait
        RetryTimer * 2^(n-1) after failed attempt n; after RetryCount attempts wait
        SequenceDelay; give up after SequenceRetryCount sequences."""
        p = self.params
        if self.stopping:
            self.stopping = False
            self._stopped(now_ms, None)
            return
        if self.attempt < p.retry_count:
            wait = p.retry_timer * (1 << (self.attempt - 1))
            self.attempt += 1
        elif self.sequence < p.sequence_retry_count:
            wait = p.sequence_delay
            self.sequence += 1
            self.attempt = 1
        else:
            self.state = ST_FAILED
            self.deadline = None
            self._out.append(ev.RegistrationFailed(
                p.ssid, self.last_code, p.bootstrap_on_failure))
            return
        self.state = ST_RETRY_WAIT
        self.deadline = now_ms + wait * 1000 + self._jitter(wait * 1000)

    def _send_update(self, now_ms, _loc):
        self.state = ST_UPDATING
        self.deadline = None
        self.update_pending = False
        with_objects = self.objects_changed
        self.objects_changed = False
        self._note_in_flight()
        self._out.append(RegRequest(POST, self.location, self.update_query(), with_objects,
                                    self.version))

    def _note_update(self, now_ms, _loc):
        self.update_pending = True

    def _updated(self, now_ms, _loc):
        self._accept_sent()
        self.state = ST_REGISTERED
        self._out.append(ev.RegistrationUpdated(self.params.ssid))
        if self.update_pending or self.objects_changed:
            self._send_update(now_ms, None)
        else:
            self._schedule_update(now_ms)

    def _send_deregister(self, now_ms, _loc):
        self.state = ST_DEREGISTERING
        self.deadline = None
        self._out.append(RegRequest(DELETE, self.location, [], False, self.version))

    def _deregistered(self, now_ms, _loc):
        self.location = None
        if self.disabling:
            self.disabling = False
            self.state = ST_DISABLED
            self.deadline = now_ms + self.params.disable_timeout * 1000
            self._out.append(ev.Deregistered(self.params.ssid, True))
        else:
            self.state = ST_DEREGISTERED
            self.deadline = None
            self._out.append(ev.Deregistered(self.params.ssid, False))

    def _keep_deregistered(self, now_ms, _loc):
        self.disabling = False

    def _stopped(self, now_ms, _loc):
        self.state = ST_DEREGISTERED
        self.deadline = None
        self.location = None

    # -- helpers --------------------------------------------------------------------

    def _note_in_flight(self):
        self._in_flight = (self.params.lifetime, self._binding_value(), self.params.queue)

    def _accept_sent(self):
        # What the answered request carried, not the current snapshot: a Write of
        # Lifetime or Binding while it was in flight still needs its own Update.
        self.sent_lifetime, self.sent_binding, self.sent_queue = self._in_flight

    def _schedule_update(self, now_ms):
        lt = self.params.lifetime
        if lt <= 0:
            self.deadline = None  # 0 = infinite lifetime (Object 1 v1.2 resource 1)
            return
        margin = min(lt * 500, self.max_transmit_wait_ms)
        self.deadline = now_ms + lt * 1000 - margin

    def _jitter(self, span_ms):
        if self.rng is None or self.jitter <= 0 or span_ms <= 0:
            return 0
        top = int(span_ms * self.jitter)
        if top <= 0:
            return 0
        return self.rng.getrandbits(30) % top
