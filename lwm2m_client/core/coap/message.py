"""CoAP message codec (RFC 7252 §3): one Message class, encode_into() and decode().

A message is kept in wire terms: type, code byte, message ID, token, options as a list
of ``(number, value_bytes)`` sorted by number (repeats keep their order, RFC 7252
§5.4.5), and the payload. Unknown options survive decode and re-encode unchanged.
"""

from lwm2m_client.core.buffer import Writer
from lwm2m_client.core.coap import options as o
from lwm2m_client.core.errors import DecodeError, code_str

# Message types (RFC 7252 §3).
CON = 0
NON = 1
ACK = 2
RST = 3
TYPE_NAMES = ("CON", "NON", "ACK", "RST")

# Method and response codes, ``class << 5 | detail`` (RFC 7252 §12.1; RFC 8132; RFC 7959).
EMPTY = 0x00
GET = 0x01
POST = 0x02
PUT = 0x03
DELETE = 0x04
FETCH = 0x05
PATCH = 0x06
IPATCH = 0x07
CREATED = 0x41
DELETED = 0x42
VALID = 0x43
CHANGED = 0x44
CONTENT = 0x45
CONTINUE = 0x5F  # 2.31, RFC 7959 §2.9.1
BAD_REQUEST = 0x80
UNAUTHORIZED = 0x81
BAD_OPTION = 0x82
FORBIDDEN = 0x83
NOT_FOUND = 0x84
METHOD_NOT_ALLOWED = 0x85
NOT_ACCEPTABLE = 0x86
REQUEST_ENTITY_INCOMPLETE = 0x88
CONFLICT = 0x89
PRECONDITION_FAILED = 0x8C
REQUEST_ENTITY_TOO_LARGE = 0x8D
UNSUPPORTED_CONTENT_FORMAT = 0x8F
INTERNAL_SERVER_ERROR = 0xA0
NOT_IMPLEMENTED = 0xA1
SERVICE_UNAVAILABLE = 0xA3
METHOD_NAMES = ("EMPTY", "GET", "POST", "PUT", "DELETE", "FETCH", "PATCH", "IPATCH")

PAYLOAD_MARKER = 0xFF
MAX_TOKEN_LENGTH = 8


class CoapDecodeError(DecodeError):
    """The datagram is not a well-formed CoAP message (RFC 7252 §3, §4.1)."""


def code_class(code):
    """The class digit of a code byte: 0 request/empty, 2 success, 4 client error, 5 server."""
    return code >> 5


def is_request(code):
    return 0 < code < 0x20


def is_response(code):
    return 0x40 <= code < 0xC0


def code_name(code):
    if code < len(METHOD_NAMES):
        return METHOD_NAMES[code]
    return code_str(code)


def _hex(data):
    return "".join(["%02x" % b for b in bytes(data)])


def _uint_property(number):
    def get(self):
        value = self.opt(number)
        return None if value is None else o.decode_uint(value)

    def put(self, value):
        self.set_option(number, None if value is None else o.encode_uint(value))

    return property(get, put)


def _block_property(number):
    def get(self):
        value = self.opt(number)
        return None if value is None else o.decode_block(value)

    def put(self, value):
        self.set_option(number, None if value is None else o.encode_block(*value))

    return property(get, put)


class Message:
    """One CoAP message. ``payload`` may be a memoryview into the received datagram."""

    def __init__(self, mtype=CON, code=EMPTY, mid=0, token=b"", options=None, payload=b""):
        self.mtype = mtype
        self.code = code
        self.mid = mid
        self.token = token
        self.options = [] if options is None else options
        self.payload = payload

    # --- options -------------------------------------------------------------
    def add_option(self, number, value):
        """Append an option after those with the same or lower number (RFC 7252 §5.4.5).
        ``value`` is bytes, a str (UTF-8) or an int (uint, minimal length)."""
        if type(value) is str:
            value = value.encode("utf-8")
        elif type(value) is int:
            value = o.encode_uint(value)
        opts = self.options
        i = len(opts)
        while i and opts[i - 1][0] > number:
            i -= 1
        opts.insert(i, (number, bytes(value)))

    def remove_option(self, number):
        self.options = [opt for opt in self.options if opt[0] != number]

    def set_option(self, number, value):
        """Replace every occurrence of ``number``; ``None`` only removes."""
        self.remove_option(number)
        if value is not None:
            self.add_option(number, value)

    def opt(self, number):
        """The first value of option ``number``, or None."""
        for num, value in self.options:
            if num == number:
                return value
        return None

    def opts(self, number):
        return [value for num, value in self.options if num == number]

    def strings(self, number):
        """Values of a string option as ``str``; bad UTF-8 is a DecodeError (4.00)."""
        try:
            return [bytes(v).decode("utf-8") for v in self.opts(number)]
        except (UnicodeError, ValueError):
            raise CoapDecodeError("option %d is not UTF-8" % number)

    def _get_path(self, number):
        return "/" + "/".join(self.strings(number))

    def _set_path(self, number, path):
        """Set a path option from ``"/a/b"`` or a list of segments."""
        self.remove_option(number)
        if type(path) is str:
            path = [seg for seg in path.split("/") if seg]
        for seg in path:
            self.add_option(number, seg)

    uri_path = property(lambda self: self._get_path(o.URI_PATH),
                        lambda self, p: self._set_path(o.URI_PATH, p))
    location_path = property(lambda self: self._get_path(o.LOCATION_PATH),
                             lambda self, p: self._set_path(o.LOCATION_PATH, p))
    uri_query = property(lambda self: self.strings(o.URI_QUERY))
    content_format = _uint_property(o.CONTENT_FORMAT)
    accept = _uint_property(o.ACCEPT)
    observe = _uint_property(o.OBSERVE)
    max_age = _uint_property(o.MAX_AGE)
    uri_port = _uint_property(o.URI_PORT)
    size1 = _uint_property(o.SIZE1)
    size2 = _uint_property(o.SIZE2)
    no_response = _uint_property(o.NO_RESPONSE)
    block1 = _block_property(o.BLOCK1)
    block2 = _block_property(o.BLOCK2)
    etag = property(lambda self: self.opt(o.ETAG),
                    lambda self, v: self.set_option(o.ETAG, v))
    if_none_match = property(lambda self: self.opt(o.IF_NONE_MATCH) is not None,
                             lambda self, v: self.set_option(o.IF_NONE_MATCH, b"" if v else None))

    def unknown_critical(self, known=o.KNOWN_CRITICAL):
        """The first critical option number not in ``known``, or None (RFC 7252 §5.4.1)."""
        for num, _ in self.options:
            if num & 1 and num not in known:
                return num
        return None

    # --- plumbing --------------------------------------------------------------
    def __eq__(self, other):
        return (isinstance(other, Message) and self.mtype == other.mtype
                and self.code == other.code and self.mid == other.mid
                and bytes(self.token) == bytes(other.token) and self.options == other.options
                and bytes(self.payload) == bytes(other.payload))

    def __ne__(self, other):
        return not self.__eq__(other)

    def __repr__(self):
        parts = ["<%s %s mid=0x%04x" % (TYPE_NAMES[self.mtype & 3], code_name(self.code),
                                          self.mid)]
        if self.token:
            parts.append("token=" + _hex(self.token))
        if self.opt(o.URI_PATH) is not None:
            parts.append("/" + "/".join([_option_text(o.URI_PATH, v)
                                         for v in self.opts(o.URI_PATH)]))
        for num, value in self.options:
            if num != o.URI_PATH:
                parts.append("%s:%s" % (o.option_name(num), _option_text(num, value)))
        if self.payload:
            parts.append("payload=%dB" % len(self.payload))
        return " ".join(parts) + ">"


def _option_text(num, value):
    """Render one option value for __repr__; never raises on peer garbage."""
    try:
        if num == o.BLOCK1 or num == o.BLOCK2:
            n, m, szx = o.decode_block(value)
            return "%d/%d/%d" % (n, 1 if m else 0, o.block_size(szx))
        if num in o.UINT_OPTIONS:
            return "%d" % o.decode_uint(value)
        if num in o.STRING_OPTIONS:
            return bytes(value).decode("utf-8")
    except (DecodeError, UnicodeError, ValueError):
        pass
    return _hex(value)


def encode_into(msg, buf):
    """Write ``msg`` into the fixed buffer ``buf``; return the byte count (RFC 7252 §3).

    Raises BufferFull when it does not fit and ValueError for a malformed message
    (token over 8 bytes, options out of order, an Empty message with content).
    """
    token = msg.token
    tkl = len(token)
    if tkl > MAX_TOKEN_LENGTH:
        raise ValueError("token longer than 8 bytes")
    if msg.code == EMPTY and (tkl or msg.options or msg.payload):
        raise ValueError("an Empty message has no token, options or payload (RFC 7252 §4.1)")
    w = Writer(buf)
    w.room(4 + tkl)
    w.byte(0x40 | (msg.mtype & 3) << 4 | tkl)
    w.byte(msg.code)
    w.byte((msg.mid >> 8) & 0xFF)
    w.byte(msg.mid & 0xFF)
    w.write(token)
    last = 0
    for number, value in msg.options:
        delta = number - last
        if delta < 0:
            raise ValueError("options not sorted by number")
        last = number
        length = len(value)
        d_nib, d_ext, d_n = _nibble(delta)
        l_nib, l_ext, l_n = _nibble(length)
        w.byte(d_nib << 4 | l_nib)
        if d_n:
            w.uint_be(d_ext, d_n)
        if l_n:
            w.uint_be(l_ext, l_n)
        w.write(value)
    if msg.payload:
        w.byte(PAYLOAD_MARKER)
        w.write(msg.payload)
    return w.pos


def _nibble(n):
    """Option delta/length as (nibble, extended value, extended byte count), §3.1."""
    if n < 13:
        return n, 0, 0
    if n < 269:
        return 13, n - 13, 1
    if n < 65805:
        return 14, n - 269, 2
    raise ValueError("option delta or length above 65804")


def to_bytes(msg):
    """Encode into a buffer sized for ``msg``: a convenience outside hot paths."""
    size = 5 + len(msg.token) + len(msg.payload)
    for _, value in msg.options:
        size += 5 + len(value)
    buf = bytearray(size)
    return bytes(memoryview(buf)[:encode_into(msg, buf)])


def decode(data):
    """Parse one datagram. Raises only CoapDecodeError, whatever the bytes are."""
    try:
        return _decode(memoryview(data))
    except CoapDecodeError:
        raise
    except (IndexError, ValueError, TypeError):
        raise CoapDecodeError("truncated or malformed CoAP message")


def _decode(mv):
    n = len(mv)
    if n < 4:
        raise CoapDecodeError("shorter than the 4-byte header")
    b0 = mv[0]
    if b0 >> 6 != 1:
        raise CoapDecodeError("version is not 1")
    tkl = b0 & 0x0F
    if tkl > MAX_TOKEN_LENGTH:
        raise CoapDecodeError("token length 9-15 is reserved")
    code = mv[1]
    if code == EMPTY and (tkl or n > 4):
        raise CoapDecodeError("Empty message with content (RFC 7252 §4.1)")
    pos = 4 + tkl
    if pos > n:
        raise CoapDecodeError("truncated token")
    msg = Message((b0 >> 4) & 3, code, mv[2] << 8 | mv[3], bytes(mv[4:pos]))
    opts = msg.options
    number = 0
    while pos < n:
        head = mv[pos]
        pos += 1
        if head == PAYLOAD_MARKER:
            if pos == n:
                raise CoapDecodeError("payload marker with an empty payload")
            msg.payload = mv[pos:]
            return msg
        delta, pos = _extended(mv, head >> 4, pos)
        length, pos = _extended(mv, head & 0x0F, pos)
        number += delta
        if number > o.MAX_OPTION_NUMBER:
            raise CoapDecodeError("option number above 65535")
        end = pos + length
        if end > n:
            raise CoapDecodeError("truncated option value")
        opts.append((number, bytes(mv[pos:end])))
        pos = end
    return msg


def _extended(mv, nib, pos):
    if nib < 13:
        return nib, pos
    if nib == 13:
        return mv[pos] + 13, pos + 1
    if nib == 14:
        return (mv[pos] << 8 | mv[pos + 1]) + 269, pos + 2
    raise CoapDecodeError("option nibble 15 outside the payload marker")
