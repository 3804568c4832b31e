"""Registration interface, client side (LwM2M Core 1.1/1.2 section 6.2; Transport 6.4.3).

One :class:`Registration` per LwM2M Server account. It is a state machine written as an
explicit table (DESIGN.md section 3.4): ``TRANSITIONS[(state, event)]`` names the action;
a pair that is not in the table is a protocol error and is ignored with the state kept.

The machine does no I/O. It asks its ``link`` (the client engine) to send a request with
``link.send_registration(reg, method, uri_path, uri_query, with_objects)`` and is told the
outcome through :meth:`handle` with ``EV_SUCCESS`` / ``EV_ERROR`` / ``EV_TIMEOUT``. Timers
are absolute deadlines in injected milliseconds; :meth:`get_timer` and
:meth:`handle_timer` follow the same shape as the rest of the core.

The Server object (Object 1) values it needs arrive as a ``ServerParams`` snapshot taken
when the procedure starts, so a Write to /1 during a sequence does not change it halfway.
"""

from lwm2m_client.core.client import events as ev

# CoAP method codes used here (RFC 7252 section 12.1.1).
POST = 2
DELETE = 4

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

# The table. Values are method names of Registration.
TRANSITIONS = {
    (ST_IDLE, EV_START): "_begin",
    (ST_FAILED, EV_START): "_begin",
    (ST_DEREGISTERED, EV_START): "_begin",
    (ST_INITIAL_DELAY, EV_TIMER): "_send_register",
    (ST_RETRY_WAIT, EV_TIMER): "_send_register",
    (ST_DISABLED, EV_TIMER): "_send_register",
    (ST_REGISTERING, EV_SUCCESS): "_registered",
    (ST_REGISTERING, EV_ERROR): "_register_failed",
    (ST_REGISTERING, EV_TIMEOUT): "_register_failed",
    (ST_REGISTERED, EV_TIMER): "_send_update",
    (ST_REGISTERED, EV_UPDATE): "_send_update",
    (ST_UPDATING, EV_UPDATE): "_note_update",
    (ST_UPDATING, EV_SUCCESS): "_updated",
    # An Update answered with an error (4.04 above all) or not answered at all means the
    # server lost us: register afresh (Transport 1.1 section 6.4.3; Core 1.2 section 6.2).
    (ST_UPDATING, EV_ERROR): "_send_register",
    (ST_UPDATING, EV_TIMEOUT): "_send_register",
    (ST_REGISTERED, EV_STOP): "_send_deregister",
    (ST_UPDATING, EV_STOP): "_send_deregister",
    (ST_REGISTERED, EV_DISABLE): "_send_deregister",
    (ST_UPDATING, EV_DISABLE): "_send_deregister",
    (ST_DEREGISTERING, EV_SUCCESS): "_deregistered",
    (ST_DEREGISTERING, EV_ERROR): "_deregistered",
    (ST_DEREGISTERING, EV_TIMEOUT): "_deregistered",
    (ST_IDLE, EV_STOP): "_stopped",
    (ST_INITIAL_DELAY, EV_STOP): "_stopped",
    # A Register in flight may still succeed: wait for its answer, then De-register.
    (ST_REGISTERING, EV_STOP): "_stop_when_answered",
    (ST_RETRY_WAIT, EV_STOP): "_stopped",
    (ST_DISABLED, EV_STOP): "_stopped",
    (ST_FAILED, EV_STOP): "_stopped",
}

# Update margin before lifetime expiry: the spec gives none; lifetime - min(lifetime/2,
# MAX_TRANSMIT_WAIT = 93 s) leaves room for a full CON exchange (LWM2M-FACTS section 2).
MAX_TRANSMIT_WAIT_S = 93


class ServerParams:
    """The Object 1 values registration uses, with the defaults of Core 1.1 6.2.1.1."""

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

    ``endpoint`` is the Endpoint Client Name; ``version`` the enabler version sent as
    ``lwm2m=`` ("1.0", "1.1" or "1.2"); ``rng`` an injected source with ``getrandbits``;
    ``jitter`` the fraction (0..1) of random extra wait added to every retry and to the
    initial delay so a fleet that loses its server does not come back in lock-step.
    """

    def __init__(self, link, params, endpoint, version="1.1", rng=None, jitter=0.1):
        self.link = link
        self.params = params
        self.endpoint = endpoint
        self.version = version
        self.rng = rng
        self.jitter = jitter
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
        self.objects_changed = False
        self.update_pending = False

    def __repr__(self):
        return "<Registration ssid=%d %s>" % (self.params.ssid, STATE_NAMES[self.state])

    # -- driving ------------------------------------------------------------------

    def handle(self, event, now_ms, code=None, location=None):
        """Feed one event. Returns True when the table had an entry for it."""
        action = TRANSITIONS.get((self.state, event))
        if action is None:
            return False
        if event == EV_ERROR or event == EV_TIMEOUT:
            self.last_code = code
        getattr(self, action)(now_ms, location)
        return True

    def get_timer(self):
        return self.deadline

    def handle_timer(self, now_ms):
        if self.deadline is not None and now_ms >= self.deadline:
            self.deadline = None
            self.handle(EV_TIMER, now_ms)

    def start(self, now_ms):
        return self.handle(EV_START, now_ms)

    def stop(self, now_ms):
        return self.handle(EV_STOP, now_ms)

    def disable(self, now_ms):
        """Disable (/1/x/4): De-register now, register again after /1/x/5 seconds."""
        self.disabling = True
        if not self.handle(EV_DISABLE, now_ms):
            self.disabling = False
            return False
        return True

    def trigger_update(self, now_ms, objects_changed=False):
        """Registration Update Trigger (/1/x/8) or a change the server must hear about."""
        if objects_changed:
            self.objects_changed = True
        return self.handle(EV_UPDATE, now_ms)

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
        self.link.send_registration(self, POST, ["rd"], self.register_query(), True)

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
        self.link.emit(ev.Registered(self.params.ssid, location))

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
            self.link.emit(ev.RegistrationFailed(
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
        self.link.send_registration(
            self, POST, self.location, self.update_query(), with_objects)

    def _note_update(self, now_ms, _loc):
        self.update_pending = True

    def _updated(self, now_ms, _loc):
        self._accept_sent()
        self.state = ST_REGISTERED
        self.link.emit(ev.RegistrationUpdated(self.params.ssid))
        if self.update_pending or self.objects_changed:
            self._send_update(now_ms, None)
        else:
            self._schedule_update(now_ms)

    def _send_deregister(self, now_ms, _loc):
        self.state = ST_DEREGISTERING
        self.deadline = None
        self.link.send_registration(self, DELETE, self.location, [], False)

    def _deregistered(self, now_ms, _loc):
        self.location = None
        if self.disabling:
            self.disabling = False
            self.state = ST_DISABLED
            self.deadline = now_ms + self.params.disable_timeout * 1000
            self.link.emit(ev.Deregistered(self.params.ssid, True))
        else:
            self.state = ST_DEREGISTERED
            self.deadline = None
            self.link.emit(ev.Deregistered(self.params.ssid, False))

    def _stopped(self, now_ms, _loc):
        self.state = ST_DEREGISTERED
        self.deadline = None
        self.location = None

    # -- helpers --------------------------------------------------------------------

    def _accept_sent(self):
        self.sent_lifetime = self.params.lifetime
        self.sent_binding = self._binding_value()
        self.sent_queue = self.params.queue

    def _schedule_update(self, now_ms):
        lt = self.params.lifetime
        if lt <= 0:
            self.deadline = None  # 0 = infinite lifetime (Object 1 v1.2 resource 1)
            return
        margin = min(lt // 2, MAX_TRANSMIT_WAIT_S)
        self.deadline = now_ms + (lt - margin) * 1000

    def _jitter(self, span_ms):
        if self.rng is None or self.jitter <= 0 or span_ms <= 0:
            return 0
        top = int(span_ms * self.jitter)
        if top <= 0:
            return 0
        return self.rng.getrandbits(30) % top
