"""CoAP option numbers and option value formats (RFC 7252 §5.4, §5.10, §3.2).

Option values travel as ``bytes``; the helpers here convert them to and from the
value formats of RFC 7252 §3.2 (uint with minimal length, string, opaque, empty) and
the block option value of RFC 7959 §2.2.
"""

from lwm2m_client.core.errors import DecodeError

# Option numbers (RFC 7252 §12.2 table 7; RFC 7641 §2; RFC 7959 §2.1, §4; RFC 7967 §2).
IF_MATCH = 1
URI_HOST = 3
ETAG = 4
IF_NONE_MATCH = 5
OBSERVE = 6
URI_PORT = 7
LOCATION_PATH = 8
URI_PATH = 11
CONTENT_FORMAT = 12
MAX_AGE = 14
URI_QUERY = 15
ACCEPT = 17
LOCATION_QUERY = 20
BLOCK2 = 23
BLOCK1 = 27
SIZE2 = 28
PROXY_URI = 35
PROXY_SCHEME = 39
SIZE1 = 60
NO_RESPONSE = 258

# (number, name) for repr: literal pairs, which stay in flash when frozen into firmware.
OPTION_NAMES = (
    (1, "If-Match"),
    (3, "Uri-Host"),
    (4, "ETag"),
    (5, "If-None-Match"),
    (6, "Observe"),
    (7, "Uri-Port"),
    (8, "Location-Path"),
    (11, "Uri-Path"),
    (12, "Content-Format"),
    (14, "Max-Age"),
    (15, "Uri-Query"),
    (17, "Accept"),
    (20, "Location-Query"),
    (23, "Block2"),
    (27, "Block1"),
    (28, "Size2"),
    (35, "Proxy-Uri"),
    (39, "Proxy-Scheme"),
    (60, "Size1"),
    (258, "No-Response"),
)

# Options whose value is a uint (RFC 7252 §5.10 table 4 and the RFCs above).
UINT_OPTIONS = (URI_PORT, CONTENT_FORMAT, MAX_AGE, ACCEPT, OBSERVE, BLOCK1, BLOCK2,
                SIZE1, SIZE2, NO_RESPONSE)
# Options whose value is a UTF-8 string.
STRING_OPTIONS = (URI_HOST, LOCATION_PATH, URI_PATH, URI_QUERY, LOCATION_QUERY,
                  PROXY_URI, PROXY_SCHEME)

# The critical options this CoAP layer and the LwM2M engine above it act on. A request
# carrying any other critical option is answered with 4.02 (RFC 7252 §5.4.1); that
# includes If-Match and If-None-Match, which the client does not evaluate, so a
# conditional request is refused rather than applied unconditionally (§5.10.8).
KNOWN_CRITICAL = (URI_HOST, URI_PORT, URI_PATH, URI_QUERY, ACCEPT, BLOCK2, BLOCK1)

MAX_OPTION_NUMBER = 65535


def is_critical(number):
    """Odd option numbers are critical, even ones elective (RFC 7252 §5.4.6)."""
    return number & 1 == 1


def option_name(number):
    for num, name in OPTION_NAMES:
        if num == number:
            return name
    return "Option%d" % number


def encode_uint(value):
    """A uint option value in the fewest bytes; zero is the empty string (RFC 7252 §3.2)."""
    if value < 0:
        raise ValueError("uint option value is negative")
    n = 0
    v = value
    while v:
        n += 1
        v >>= 8
    if n > 4:
        raise ValueError("uint option value does not fit 32 bits")
    return value.to_bytes(n, "big") if n else b""


def decode_uint(data):
    """Read a uint option value. Leading zero bytes are tolerated on input (RFC 7252 §3.2
    says senders SHOULD use minimal length, so receivers must accept longer forms)."""
    if len(data) > 4:
        raise DecodeError("uint option value longer than 4 bytes")
    return int.from_bytes(bytes(data), "big")


def encode_block(num, more, szx):
    """Block1/Block2 value NUM|M|SZX in 0-3 bytes (RFC 7959 §2.2)."""
    if not 0 <= szx <= 6:
        raise ValueError("SZX must be 0..6 (7 is reserved for BERT)")
    if not 0 <= num < 1 << 20:
        raise ValueError("block NUM must fit 20 bits")
    return encode_uint(num << 4 | (8 if more else 0) | szx)


def decode_block(data):
    """Return ``(num, more, szx)``. SZX 7 (BERT, RFC 8323) has no meaning over UDP."""
    if len(data) > 3:
        raise DecodeError("block option value longer than 3 bytes")
    v = decode_uint(data)
    szx = v & 7
    if szx == 7:
        raise DecodeError("block SZX 7 is reserved")
    return v >> 4, (v & 8) != 0, szx


def block_size(szx):
    """Bytes in a block of size exponent ``szx``: 2**(szx+4) (RFC 7959 §2.2)."""
    return 1 << (szx + 4)


def size_to_szx(size):
    """The largest SZX whose block size is at most ``size`` (16..1024)."""
    if size < 16:
        raise ValueError("block size below 16")
    szx = 0
    while szx < 6 and block_size(szx + 1) <= size:
        szx += 1
    return szx
