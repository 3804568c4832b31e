"""CoRE Link Format, content format 40 (RFC 6690; LwM2M Core 1.1 sections 6.2.1, 6.3.2).

The client writes link format for the Register/Update object list and for Discover
responses, and reads it back in tests and tools. A link is ``(target, attrs)``:

- ``target`` a path tuple, rendered ``</3/0>`` (``</>`` for the root), or a ``str``
  written as-is between ``<`` and ``>`` (e.g. an alternate path ``"/lwm2m"``);
- ``attrs`` a sequence of ``(name, value)``: ``None`` gives a bare ``;name``, an int or
  float is written unquoted (``pmin=10``, ``lt=42.2``; a float as its shortest decimal,
  :func:`~lwm2m_client.core.content.floats.float_text`), a ``str`` is quoted unless it
  is a plain number (``ver=1.1`` is unquoted per Core 1.1 section 5.1.2, while
  ``ct="110 112"`` and ``rt="oma.lwm2m"`` are quoted, as servers expect).

Parsing is liberal (RFC 6690 section 2 grammar plus what peers send): whitespace
around separators, quoted values holding ``,`` or ``;``, unknown parameters, and
``ver="1.1"`` as well as ``ver=1.1``.
"""

from lwm2m_client.core.buffer import Writer
from lwm2m_client.core.content.floats import float_text
from lwm2m_client.core.errors import DecodeError

_NUMBER_CHARS = "0123456789."
# RFC 5987 parmname characters (RFC 6690 section 2 via RFC 5988 section 5).
_NAME_CHARS = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$&+-.^_`|~"
)
_SPACE = " \t\r\n"


def needs_quotes(text):
    """True unless ``text`` is a plain decimal number such as ``1.1`` or ``60``."""
    body = text[1:] if text[:1] == "-" else text
    if not body or body[0] == "." or body[-1] == "." or body.count(".") > 1:
        return True
    for c in body:
        if c not in _NUMBER_CHARS:
            return True
    return False


def _write_quoted(w, text):
    # quoted-string (RFC 2616 section 2.2): backslash escapes '"' and '\'.
    w.byte(0x22)
    start = 0
    for k in range(len(text)):
        c = text[k]
        if c == '"' or c == "\\":
            w.text(text[start:k])
            w.byte(0x5C)
            start = k
    w.text(text[start:])
    w.byte(0x22)


def _write_target(w, target):
    w.byte(0x3C)  # "<"
    if isinstance(target, str):
        w.text(target)
    elif not target:
        w.byte(0x2F)
    else:
        for ident in target:
            w.byte(0x2F)
            w.text("%d" % ident)
    w.byte(0x3E)  # ">"


def encode_links(buf, links):
    """Write ``links`` as link format into ``buf``; return the number of bytes written."""
    w = Writer(buf)
    first = True
    for target, attrs in links:
        if not first:
            w.byte(0x2C)  # ","
        first = False
        _write_target(w, target)
        for name, value in attrs:
            w.byte(0x3B)  # ";"
            w.text(name)
            if value is None:
                continue
            w.byte(0x3D)  # "="
            if isinstance(value, str):
                if needs_quotes(value):
                    _write_quoted(w, value)
                else:
                    w.text(value)
            elif isinstance(value, float):
                w.text(float_text(value))
            else:
                w.text("%d" % value)
    return w.pos


def _skip_space(s, pos, n):
    while pos < n and s[pos] in _SPACE:
        pos += 1
    return pos


def _parse_quoted(s, pos, n):
    """Parse the quoted-string opening at ``s[pos]``; return (text, next position)."""
    pos += 1
    parts = []
    start = pos
    while pos < n:
        c = s[pos]
        if c == '"':
            parts.append(s[start:pos])
            return "".join(parts), pos + 1
        if c == "\\":
            if pos + 1 >= n:
                break
            parts.append(s[start:pos])
            start = pos + 1  # keep the escaped character
            pos += 2
            continue
        pos += 1
    raise DecodeError("unterminated quoted string in link format")


def _parse_params(s, pos, n, attrs):
    """Parse ``;name[=value]`` parameters into ``attrs``; return the next position."""
    while pos < n and s[pos] == ";":
        pos = _skip_space(s, pos + 1, n)
        start = pos
        while pos < n and s[pos] in _NAME_CHARS:
            pos += 1
        if pos == start:
            raise DecodeError("empty link parameter name")
        # Names are case-insensitive (RFC 8288 section 3).
        name = s[start:pos].lower()
        pos = _skip_space(s, pos, n)
        value = None
        if pos < n and s[pos] == "=":
            pos = _skip_space(s, pos + 1, n)
            if pos < n and s[pos] == '"':
                value, pos = _parse_quoted(s, pos, n)
            else:
                start = pos
                while pos < n and s[pos] not in ";, \t\r\n\"<>":
                    pos += 1
                if pos == start:
                    raise DecodeError("empty link parameter value")
                value = s[start:pos]
            pos = _skip_space(s, pos, n)
        # Parameters after the first of a name are ignored (RFC 6690 section 2).
        if name not in attrs:
            attrs[name] = value
    return pos


def decode_links(data):
    """Parse link format ``data`` (bytes or str) into ``[(target, {name: value})]``.

    Values are strings as written (quotes removed), or None for a bare parameter.
    Raises DecodeError for anything that is not link format.
    """
    if isinstance(data, str):
        s = data
    else:
        try:
            s = bytes(data).decode("utf-8")
        except UnicodeError:
            raise DecodeError("link format is not UTF-8")
    n = len(s)
    links = []
    pos = _skip_space(s, 0, n)
    if pos == n:
        return links
    while True:
        if pos >= n or s[pos] != "<":
            raise DecodeError("link must start with '<'")
        close = s.find(">", pos + 1)
        if close < 0:
            raise DecodeError("link target without '>'")
        target = s[pos + 1:close]
        if "<" in target:
            raise DecodeError("'<' inside a link target")
        attrs = {}
        pos = _parse_params(s, _skip_space(s, close + 1, n), n, attrs)
        links.append((target, attrs))
        if pos == n:
            return links
        if s[pos] != ",":
            raise DecodeError("links must be separated by ','")
        pos = _skip_space(s, pos + 1, n)
