"""The JSON subset SenML JSON and LwM2M JSON need (RFC 8259), without the ``json`` module.

The ``json`` module is missing from some MicroPython ports and not allowed in the core,
so this module has a small strict parser and the writers the JSON encoders share.

:func:`loads` accepts objects, arrays, strings (all escapes, surrogate pairs joined;
a lone surrogate is an error), numbers, ``true``, ``false`` and ``null`` with JSON
whitespace, nested at most :data:`MAX_DEPTH` deep. Numbers without a fraction or
exponent become ``int``, the others ``float``; a number longer than
:data:`MAX_NUMBER` characters or beyond the float range (single precision on some
MicroPython ports, see :mod:`~lwm2m_client.core.content.floats`) is rejected. Duplicate object
keys are an error (RFC 8259 section 4 leaves them undefined). Anything else raises
:class:`DecodeError`.

Writers output UTF-8: ``"``, ``\\`` and control characters are escaped, other
characters are written as raw UTF-8 (RFC 8259 section 7).
"""

from lwm2m_client.core.content.floats import float_text, parse_decimal
from lwm2m_client.core.errors import BufferFull, DecodeError

MAX_DEPTH = 8
MAX_NUMBER = 64

_WS = " \t\n\r"
_SIMPLE_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n",
                   "r": "\r", "t": "\t"}
_NUMBER_CHARS = "0123456789+-.eE"
_DIGITS = "0123456789"


def loads(data):
    """Parse one JSON value filling ``data`` (bytes, UTF-8)."""
    try:
        text = bytes(data).decode("utf-8")
    except (UnicodeError, ValueError, TypeError):
        raise DecodeError("JSON is not UTF-8")
    try:
        value, pos = _value(text, _skip(text, 0), 0)
        if _skip(text, pos) != len(text):
            raise DecodeError("trailing characters after JSON value")
    except (IndexError, ValueError, OverflowError):
        raise DecodeError("malformed JSON")
    return value


def _skip(text, pos):
    n = len(text)
    while pos < n and text[pos] in _WS:
        pos += 1
    return pos


def _value(text, pos, depth):
    c = text[pos]
    if c == '"':
        return _string(text, pos + 1)
    if c == "{":
        return _object(text, pos + 1, depth + 1)
    if c == "[":
        return _array(text, pos + 1, depth + 1)
    if c == "t" and text[pos:pos + 4] == "true":
        return True, pos + 4
    if c == "f" and text[pos:pos + 5] == "false":
        return False, pos + 5
    if c == "n" and text[pos:pos + 4] == "null":
        return None, pos + 4
    if c == "-" or c in _DIGITS:
        return _number(text, pos)
    raise DecodeError("unexpected character in JSON")


def _object(text, pos, depth):
    if depth > MAX_DEPTH:
        raise DecodeError("JSON nested too deeply")
    result = {}
    pos = _skip(text, pos)
    if text[pos] == "}":
        return result, pos + 1
    while True:
        if text[pos] != '"':
            raise DecodeError("JSON object key is not a string")
        key, pos = _string(text, pos + 1)
        if key in result:
            raise DecodeError("duplicate JSON key %r" % key)
        pos = _skip(text, pos)
        if text[pos] != ":":
            raise DecodeError("':' expected in JSON object")
        result[key], pos = _value(text, _skip(text, pos + 1), depth)
        pos = _skip(text, pos)
        c = text[pos]
        if c == "}":
            return result, pos + 1
        if c != ",":
            raise DecodeError("',' or '}' expected in JSON object")
        pos = _skip(text, pos + 1)


def _array(text, pos, depth):
    if depth > MAX_DEPTH:
        raise DecodeError("JSON nested too deeply")
    items = []
    pos = _skip(text, pos)
    if text[pos] == "]":
        return items, pos + 1
    while True:
        value, pos = _value(text, pos, depth)
        items.append(value)
        pos = _skip(text, pos)
        c = text[pos]
        if c == "]":
            return items, pos + 1
        if c != ",":
            raise DecodeError("',' or ']' expected in JSON array")
        pos = _skip(text, pos + 1)


def _string(text, pos):
    """Parse a string body starting after its opening quote."""
    end = text.find('"', pos)
    if end < 0:
        raise DecodeError("unterminated JSON string")
    chunk = text[pos:end]
    if "\\" not in chunk:
        if chunk and min(chunk) < " ":
            raise DecodeError("control character in JSON string")
        return chunk, end + 1
    parts = []
    while True:
        c = text[pos]
        if c == '"':
            return "".join(parts), pos + 1
        if c == "\\":
            e = text[pos + 1]
            if e == "u":
                code, pos = _unicode_escape(text, pos)
                parts.append(chr(code))
                continue
            if e not in _SIMPLE_ESCAPES:
                raise DecodeError("bad escape in JSON string")
            parts.append(_SIMPLE_ESCAPES[e])
            pos += 2
            continue
        if c < " ":
            raise DecodeError("control character in JSON string")
        parts.append(c)
        pos += 1


def _hex4(text, pos):
    digits = text[pos:pos + 4]
    if len(digits) != 4 or not all(c in "0123456789abcdefABCDEF" for c in digits):
        raise DecodeError("bad \\u escape in JSON string")
    return int(digits, 16)


def _unicode_escape(text, pos):
    """``\\uXXXX`` at ``pos``, joining a UTF-16 surrogate pair (RFC 8259 section 7)."""
    code = _hex4(text, pos + 2)
    pos += 6
    if 0xD800 <= code < 0xDC00:
        if text[pos:pos + 2] != "\\u":
            raise DecodeError("lone surrogate in JSON string")
        low = _hex4(text, pos + 2)
        if not 0xDC00 <= low < 0xE000:
            raise DecodeError("lone surrogate in JSON string")
        return 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00), pos + 6
    if 0xDC00 <= code < 0xE000:
        raise DecodeError("lone surrogate in JSON string")
    return code, pos


def _number(text, pos):
    start = pos
    n = len(text)
    while pos < n and text[pos] in _NUMBER_CHARS:
        pos += 1
    token = text[start:pos]
    if len(token) > MAX_NUMBER or not _is_json_number(token):
        raise DecodeError("bad JSON number")
    if "." in token or "e" in token or "E" in token:
        value = parse_decimal(token)
        if value in (_INF, -_INF):
            raise DecodeError("JSON number out of range")
        return value, pos
    return int(token), pos


_INF = float("inf")


def _is_json_number(tok):
    # -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
    i = 1 if tok[:1] == "-" else 0
    n = len(tok)
    j = _run(tok, i)
    if j == i or (tok[i] == "0" and j > i + 1):
        return False
    i = j
    if i < n and tok[i] == ".":
        j = _run(tok, i + 1)
        if j == i + 1:
            return False
        i = j
    if i < n and tok[i] in "eE":
        i += 1
        if i < n and tok[i] in "+-":
            i += 1
        j = _run(tok, i)
        if j == i:
            return False
        i = j
    return i == n


def _run(tok, i):
    while i < len(tok) and tok[i] in _DIGITS:
        i += 1
    return i


# ---------------------------------------------------------------------------- writers


def put(buf, pos, data):
    """Copy bytes into ``buf`` at ``pos``; BufferFull when they do not fit."""
    end = pos + len(data)
    if end > len(buf):
        raise BufferFull("JSON needs %d bytes, %d left" % (len(data), len(buf) - pos))
    buf[pos:end] = data
    return end


def put_string(buf, pos, s):
    """Write ``s`` as a quoted JSON string."""
    if s and (min(s) < " " or '"' in s or "\\" in s):
        s = _escape(s)
    raw = s.encode("utf-8")
    end = pos + len(raw) + 2
    if end > len(buf):
        raise BufferFull("JSON string needs %d bytes" % (len(raw) + 2))
    buf[pos] = 0x22
    buf[pos + 1:end - 1] = raw
    buf[end - 1] = 0x22
    return end


def _escape(s):
    out = []
    for c in s:
        if c == '"' or c == "\\":
            out.append("\\" + c)
        elif c < " ":
            short = {"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(c)
            out.append(short if short else "\\u%04x" % ord(c))
        else:
            out.append(c)
    return "".join(out)


def number_text(value):
    """The JSON text of an int or a finite float: for a float the shortest text that
    reads back as the same float (floats.float_text, CPython's ``repr`` there), always
    with a ``.`` or an exponent (``5.0``, ``1e-05``), so a Float stays a float when
    decoded."""
    if type(value) is float:
        return float_text(value)
    return str(value)
