"""The client's configuration: :class:`ClientConfig`, checked when it is made.

Everything a client core is sized and tuned by -- LwM2M version, message, block and body
sizes, content formats, observation and event bounds, notification storing and queue
mode -- so that a buffer is made once, at construction, and a user's mistake is a
one-line UsageError before anything is sent.
"""

from lwm2m_client.core.coap import messaging
from lwm2m_client.core.coap import options as o
from lwm2m_client.core.content import CF_LWM2M_JSON, CF_LWM2M_JSON_OLD, CF_TLV, CF_TLV_OLD
from lwm2m_client.core.content import formats as _formats
from lwm2m_client.core.errors import UsageError

# A format configured by its IANA number also answers to the pre-IANA number some LwM2M
# 1.0 servers still send: the same bytes under another name.
_OLD_NUMBERS = ((CF_TLV, CF_TLV_OLD), (CF_LWM2M_JSON, CF_LWM2M_JSON_OLD))


class ClientConfig:
    """Client settings. Sizes are bytes; ``block_size`` is 16..1024 (RFC 7959 2.2).

    ``version`` is the newest LwM2M version to register with (a server that refuses it
    gets the older ones, see :mod:`~lwm2m_client.core.client.registration`).
    ``message_size`` bounds every datagram; it is ``tuning.max_message_size`` when a
    ``tuning`` (:class:`~lwm2m_client.core.coap.messaging.Tuning`, RFC 7252 section 4.8)
    is given, and giving both with different values is an error. ``max_body`` bounds a
    whole response body (a larger one is 5.00) and ``max_request_body`` a whole Block1
    request body (default ``max_body``; a larger one is 4.13): a meter that takes a
    firmware package in a few KiB but answers in less need not keep a large response
    buffer.
    ``fetch_size`` bounds the Read-Composite path list kept for block requests that
    come without it (default ``max_body // 4``; 0 keeps none).
    ``max_observations`` bounds the observations the servers may hold together
    (RFC 7641; one more is answered 5.03).
    ``dedup_capacity`` is how many recent CON (and, apart, NON) requests are remembered,
    with the encoded answer, to answer a retransmission without acting twice (RFC 7252
    section 4.5); an entry lives EXCHANGE_LIFETIME (247 s by default), so a meter the
    server asks a few times per four minutes needs a few, and each entry may hold up to
    ``message_size`` bytes.

    Notification storing (Object 1 resource 6): ``store_capacity`` notifications of at
    most ``store_bytes`` payload bytes in all are kept while a server is unreachable or
    the client sleeps; ``store_policy`` is "drop-oldest" or "refuse-new" for an
    overflow (each loss is counted and reported). Queue mode (a Binding with ``Q``):
    ``awake_ms`` is how long the client listens after the last message to or from a
    server before it sleeps (default MAX_TRANSMIT_WAIT, Transport 1.1 section 6.5).

    ``bootstrap_pack`` (LwM2M 1.2) bootstraps with a Bootstrap-Pack-Request first
    (``GET /bspack``), and with the Bootstrap-Request when that fails.

    ``formats`` are the content formats the client speaks for values (default: every
    one the core has, :data:`~lwm2m_client.core.content.formats.ALL`; the CoRE Link
    Format of Register and Discover is always spoken). TLV and LwM2M JSON bring their
    pre-IANA numbers along. A format not named is answered as unsupported (4.06 in
    Accept, 4.15 in Content-Format) and its codec module is never imported, which saves
    a meter's RAM: ``formats=(CF_SENML_CBOR, CF_TLV)`` loads two codecs instead of all.
    ``advertise_formats`` lists the content formats put in the Register root link
    (``</>;ct=...``); some servers reject that, so the client retries once without it.
    ``preferred_format`` answers requests without Accept (None: the default per LwM2M
    version when configured, else the first of ``formats``); both must be among
    ``formats``. ``max_events`` bounds the event queue (the oldest event goes).
    Bad values raise UsageError.
    """

    def __init__(self, endpoint, version="1.1", message_size=None, block_size=512,
                 max_body=8192, tuning=None, preferred_format=None, advertise_formats=None,
                 jitter=0.1, max_events=64, formats=None, fetch_size=None,
                 dedup_capacity=16, max_request_body=None, max_observations=8,
                 store_capacity=16, store_bytes=4096, store_policy="drop-oldest",
                 awake_ms=None, bootstrap_pack=False):
        if version not in ("1.0", "1.1", "1.2"):
            raise UsageError("LwM2M version must be 1.0, 1.1 or 1.2, not %r" % (version,))
        if not endpoint or type(endpoint) is not str:
            raise UsageError("the endpoint name must be a non-empty string")
        if tuning is None:
            tuning = messaging.Tuning(max_message_size=message_size or 1152)
        elif message_size is not None and message_size != tuning.max_message_size:
            raise UsageError("message_size %r differs from tuning.max_message_size %d"
                             % (message_size, tuning.max_message_size))
        try:
            self.szx = o.size_to_szx(block_size)
        except ValueError:
            raise UsageError("block_size must be 16 to 1024 bytes, not %r" % (block_size,))
        if block_size > tuning.max_message_size:
            raise UsageError("block_size %d does not fit message_size %d" % (
                block_size, tuning.max_message_size))
        if max_body < block_size:
            raise UsageError("max_body %d is smaller than block_size %d" % (max_body,
                                                                            block_size))
        if jitter < 0 or jitter > 1:
            raise UsageError("jitter must be a fraction from 0 to 1, not %r" % (jitter,))
        if max_events < 1:
            raise UsageError("max_events must be at least 1")
        if dedup_capacity < 1:
            raise UsageError("dedup_capacity must be at least 1")
        if max_observations < 0:
            raise UsageError("max_observations must not be negative")
        if type(store_capacity) is not int or store_capacity < 0 or \
                type(store_bytes) is not int or store_bytes < 0:
            raise UsageError("store_capacity and store_bytes must be counts, not %r, %r" % (
                store_capacity, store_bytes))
        if store_policy not in ("drop-oldest", "refuse-new"):
            raise UsageError("store_policy must be drop-oldest or refuse-new, not %r" % (
                store_policy,))
        if awake_ms is None:
            awake_ms = tuning.max_transmit_wait
        elif type(awake_ms) is not int or awake_ms < 0:
            raise UsageError("awake_ms must be a number of milliseconds, not %r" % (awake_ms,))
        if max_request_body is None:
            max_request_body = max_body
        elif type(max_request_body) is not int or max_request_body < block_size:
            raise UsageError("max_request_body %r is smaller than block_size %d" % (
                max_request_body, block_size))
        if fetch_size is None:
            fetch_size = max_body // 4
        elif type(fetch_size) is not int or not 0 <= fetch_size <= max_body:
            raise UsageError("fetch_size must be 0 to max_body bytes, not %r" % (fetch_size,))
        formats = _configured_formats(formats)
        for cf in [preferred_format] + list(advertise_formats or ()):
            if cf is not None and cf not in formats:
                raise UsageError("content format %r is not one the client speaks" % (cf,))
        self.endpoint = endpoint
        self.version = version
        self.message_size = tuning.max_message_size
        self.block_size = block_size
        self.max_body = max_body
        self.max_request_body = max_request_body
        self.fetch_size = fetch_size
        self.tuning = tuning
        self.formats = formats
        self.preferred_format = preferred_format
        self.advertise_formats = advertise_formats
        self.jitter = jitter
        self.max_events = max_events
        self.dedup_capacity = dedup_capacity
        self.max_observations = max_observations
        self.store_capacity = store_capacity
        self.store_bytes = store_bytes
        self.store_policy = store_policy
        self.awake_ms = awake_ms
        self.bootstrap_pack = bool(bootstrap_pack)

    def __repr__(self):
        return "<ClientConfig %s lwm2m=%s>" % (self.endpoint, self.version)


def _configured_formats(formats):
    """``formats`` checked (without importing any codec) and with the pre-IANA numbers
    of those that have one, as a tuple in the order given."""
    if formats is None:
        return _formats.ALL
    out = []
    for cf in formats:
        if cf not in _formats.MODULES:
            raise UsageError("content format %r is not one the client speaks" % (cf,))
        if cf not in out:
            out.append(cf)
    if not out:
        raise UsageError("formats names no content format")
    for new, old in _OLD_NUMBERS:
        if new in out and old not in out:
            out.append(old)
    return tuple(out)
