"""Execute arguments (LwM2M Core 1.1 section 6.3.5).

The payload of an Execute request is an optional argument list in this grammar::

    arglist = arg *( "," arg )
    arg     = DIGIT / DIGIT "=" "'" *CHAR "'"
    CHAR    = "!" / %x23-26 / %x28-5B / %x5D-7E

so ``5``, ``2='10.3'`` and ``0,1,2,3,4`` are argument lists; an empty payload is an
empty list. A parsed list is a Python list of ``(digit, value)`` with ``digit`` an int
0..9 and ``value`` a ``str`` or None when the argument has no value. Repeated digits
are accepted: only a third-party reading of Core 1.2.1 forbids them, and the facts
file asks to accept both forms on input.
"""

from lwm2m_client.core.errors import BadRequest

_COMMA = 0x2C
_EQUALS = 0x3D
_QUOTE = 0x27


def _is_char(c):
    # CHAR excludes space, '"', "'" and '\' from the printable ASCII range.
    return c == 0x21 or 0x23 <= c <= 0x26 or 0x28 <= c <= 0x5B or 0x5D <= c <= 0x7E


def parse_args(data):
    """Parse an Execute payload (bytes-like or str) into ``[(digit, value), ...]``.

    Raises :class:`BadRequest` (4.00, T1.1 section 6.4.4) for anything the grammar
    does not produce, and for nothing else.
    """
    if type(data) is str:
        try:
            data = data.encode("utf-8")
        except UnicodeError:
            raise BadRequest("execute arguments are not text")
    else:
        try:
            data = bytes(data)
        except (TypeError, ValueError):
            raise BadRequest("execute arguments are not bytes")
    n = len(data)
    args = []
    if n == 0:
        return args
    i = 0
    while True:
        c = data[i]
        if not 0x30 <= c <= 0x39:
            raise BadRequest("execute argument must start with a digit")
        digit = c - 0x30
        i += 1
        value = None
        if i < n and data[i] == _EQUALS:
            i += 1
            if i >= n or data[i] != _QUOTE:
                raise BadRequest("execute argument value must be quoted")
            i += 1
            start = i
            while i < n and data[i] != _QUOTE:
                if not _is_char(data[i]):
                    raise BadRequest("bad character in execute argument value")
                i += 1
            if i >= n:
                raise BadRequest("unterminated execute argument value")
            # Every CHAR is ASCII, so this decode cannot fail.
            value = data[start:i].decode("ascii")
            i += 1
        args.append((digit, value))
        if i == n:
            return args
        if data[i] != _COMMA:
            raise BadRequest("execute arguments must be separated by ','")
        i += 1
        if i == n:
            raise BadRequest("trailing ',' in execute arguments")


def format_args(args):
    """Render ``[(digit, value), ...]`` as an Execute payload (``bytes``).

    The inverse of :func:`parse_args`, for servers and tests. Raises ValueError for a
    digit outside 0..9 or a value with a character the grammar does not allow.
    """
    out = bytearray()
    for digit, value in args:
        if type(digit) is not int or not 0 <= digit <= 9:
            raise ValueError("argument number must be 0..9")
        if out:
            out.append(_COMMA)
        out.append(0x30 + digit)
        if value is not None:
            raw = value.encode("utf-8")
            for c in raw:
                if not _is_char(c):
                    raise ValueError("character %r not allowed in an argument value" % chr(c))
            out.append(_EQUALS)
            out.append(_QUOTE)
            out.extend(raw)
            out.append(_QUOTE)
    return bytes(out)
