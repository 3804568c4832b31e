"""Bootstrap, client side (LwM2M Core 1.1/1.2 section 6.1; Transport 1.1 section 6.4.2).

The Bootstrap-Server gives the client its LwM2M Server accounts: it writes Security
``/0`` and Server ``/1`` instances (and ACLs ``/2``) and ends with Bootstrap-Finish. The
client gets there in one of these ways:

- factory bootstrap: the accounts are in the tree already; nothing here runs;
- client-initiated: ``POST /bs?ep=NAME&pct=CF`` (Core 1.1 section 6.1.3), then it
  waits for the server's writes and Finish;
- server-initiated: the client waits the Client Hold Off Time ``/0/x/11`` for the
  Bootstrap-Server to begin on its own (Core 1.1 section 6.1.4) and asks only then;
- Bootstrap-Pack (LwM2M 1.2, ``pack``): ``GET /bspack?ep=NAME`` brings the whole
  configuration in one answer; when that fails, or what it brings is inconsistent, the
  client makes a Bootstrap-Request at once (Core 1.2 section 6.1.7.7);
- again later: registration failed and Bootstrap on Registration Failure ``/1/x/16``
  says so, or a server executed Bootstrap-Request Trigger ``/1/x/9``.

The state machine is a table, as the registration's: ``TRANSITIONS[state][event]``
names the action, None is a pair the machine does not take. It does no I/O: calls
return what they want done -- a RegRequest (the Bootstrap-Request) or an event.

Retries: a Bootstrap-Request that fails, or a bootstrap that gets no Finish within
``wait_ms`` of the server's last request, is tried again after ``retry_ms * 2^(n-1)``
(at most ``max_retry_ms``), each wait drawn between half and all of it, so that ten
thousand meters that lost their Bootstrap-Server do not come back in step (the spec
leaves the Bootstrap-Server retry to the implementation, Core 1.2 section 6.2.1.1).
"""

from lwm2m_client.core.client import events as ev
from lwm2m_client.core.client.registration import POST, RegRequest

GET = 1

# States.
BS_IDLE = 0
BS_HOLD_OFF = 1
BS_REQUESTING = 2
BS_WAITING = 3
BS_RETRY_WAIT = 4
BS_DONE = 5
STATE_NAMES = ("idle", "hold-off", "requesting", "waiting", "retry-wait", "done")

# Events.
EV_START = 0
EV_TIMER = 1
EV_SUCCESS = 2
EV_ERROR = 3
EV_CONTACT = 4
EV_FINISHED = 5
EV_STOP = 6

# TRANSITIONS[state][event]; columns follow the EV_* numbers:
#   start  timer  success  error  contact  finished  stop
TRANSITIONS = (
    ("_begin", None, None, None, "_contacted", None, None),  # idle
    (None, "_send_request", None, None, "_contacted", None, "_stopped"),  # hold-off
    # The server may begin writing before its 2.04 to the request arrives.
    (None, None, "_accepted", "_failed", "_contacted", "_finished", "_stopped"),  # req.
    (None, "_failed", None, None, "_contacted", "_finished", "_stopped"),  # waiting
    ("_begin", "_send_request", None, None, "_contacted", None, "_stopped"),  # retry
    # A Bootstrap-Server may configure the client again later (server-initiated).
    ("_begin", "_purge", None, None, "_contacted", None, "_stopped"),  # done
)

# Output asking the client to delete the Bootstrap-Server's Security instance: its
# Bootstrap-Server Account Timeout /0/x/12 ran out.
PURGE = "purge"


class Bootstrap:
    """The bootstrap state machine of one client.

    ``endpoint`` is the Endpoint Client Name; ``version`` the LwM2M version ("1.0"
    sends no ``pct``); ``pct`` the preferred content format to ask for (None: none);
    ``rng`` an injected ``getrandbits`` source for the retry jitter.
    """

    def __init__(self, endpoint, version="1.1", pct=None, rng=None, wait_ms=247000,
                 retry_ms=15000, max_retry_ms=3600000, jitter=0.0, pack=False):
        self.endpoint = endpoint
        self.version = version
        self.pct = pct
        self.rng = rng
        self.wait_ms = wait_ms
        self.retry_ms = retry_ms
        self.max_retry_ms = max_retry_ms
        self.jitter = jitter
        self.pack = pack and version == "1.2"
        self.pack_failed = False
        self.in_pack = False  # the request in flight is a Bootstrap-Pack-Request
        self.state = BS_IDLE
        self.deadline = None
        self.attempt = 0
        self.hold_off_ms = 0
        self.account_timeout_ms = 0
        self.last_code = None
        self._out = []

    def __repr__(self):
        return "<Bootstrap %s attempt=%d>" % (STATE_NAMES[self.state], self.attempt)

    @property
    def active(self):
        """A bootstrap is under way: the Bootstrap-Server's requests are answered."""
        return self.state in (BS_HOLD_OFF, BS_REQUESTING, BS_WAITING)

    def handle(self, event, now_ms, code=None):
        action = TRANSITIONS[self.state][event]
        if action is None:
            return []
        self.last_code = code
        self._out = []
        getattr(self, action)(now_ms)
        out = self._out
        self._out = []
        return out

    def start(self, now_ms, hold_off_s=0, account_timeout_s=0):
        """Begin: wait ``hold_off_s`` (Client Hold Off Time ``/0/x/11``) for a
        server-initiated bootstrap, then ask. ``account_timeout_s`` is ``/0/x/12``."""
        self.hold_off_ms = int(hold_off_s or 0) * 1000
        self.account_timeout_ms = int(account_timeout_s or 0) * 1000
        return self.handle(EV_START, now_ms)

    def get_timer(self):
        return self.deadline

    def handle_timer(self, now_ms):
        if self.deadline is None or now_ms < self.deadline:
            return []
        return self.handle(EV_TIMER, now_ms)

    def request(self):
        """The Bootstrap-Pack-Request while it has not failed, else the
        Bootstrap-Request (Core 1.1 section 6.1.3; ``pct`` from 1.1 on)."""
        query = ["ep=" + self.endpoint]
        self.in_pack = self.pack and not self.pack_failed
        if self.in_pack:
            return RegRequest(GET, ["bspack"], query, False, self.version)
        if self.pct is not None and self.version != "1.0":
            query.append("pct=%d" % self.pct)
        return RegRequest(POST, ["bs"], query, False, self.version)

    # -- actions ----------------------------------------------------------------

    def _begin(self, now_ms):
        self.attempt = 0
        self.pack_failed = False
        # A random share on top of the hold-off: meters powered up together do not
        # all ask at once.
        delay = self.hold_off_ms + self._random(int(max(self.hold_off_ms, 1000) *
                                                    self.jitter))
        if delay > 0:
            self.state = BS_HOLD_OFF
            self.deadline = now_ms + delay
        else:
            self._send_request(now_ms)

    def _send_request(self, now_ms):
        self.state = BS_REQUESTING
        self.deadline = None
        self.attempt += 1
        self._out.append(ev.BootstrapStarted(self.attempt))
        self._out.append(self.request())

    def _accepted(self, now_ms):
        self.state = BS_WAITING
        self.deadline = now_ms + self.wait_ms

    def _contacted(self, now_ms):
        if self.state in (BS_IDLE, BS_DONE, BS_HOLD_OFF, BS_RETRY_WAIT):
            self._out.append(ev.BootstrapStarted(self.attempt))
        self.state = BS_WAITING
        self.deadline = now_ms + self.wait_ms

    def _finished(self, now_ms):
        self.state = BS_DONE
        self.attempt = 0
        self.deadline = None
        if self.account_timeout_ms > 0:
            self.deadline = now_ms + self.account_timeout_ms
        self._out.append(ev.BootstrapFinished())

    def _failed(self, now_ms):
        if self.in_pack and self.state == BS_REQUESTING:
            # No pack, or an unusable one: the Bootstrap-Request, at once.
            self.in_pack = False
            self.pack_failed = True
            self.attempt -= 1
            self._send_request(now_ms)
            return
        n = self.attempt if self.attempt > 0 else 1
        wait = self.retry_ms << min(n - 1, 20)
        if wait > self.max_retry_ms:
            wait = self.max_retry_ms
        wait = wait // 2 + self._random(wait - wait // 2)
        self.state = BS_RETRY_WAIT
        self.deadline = now_ms + wait
        self._out.append(ev.BootstrapFailed(self.last_code, wait))

    def _purge(self, now_ms):
        self.deadline = None
        self._out.append(PURGE)

    def _stopped(self, now_ms):
        self.state = BS_IDLE
        self.deadline = None

    def _random(self, span):
        if self.rng is None or span <= 0:
            return 0
        return self.rng.getrandbits(30) % (span + 1)
