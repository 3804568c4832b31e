"""Write-Attributes: the NOTIFICATION attributes a server attaches to paths.

LwM2M Core 1.1/1.2 sections 5.1.1-5.1.2 and 6.3.4. A server
sends ``PUT /path?pmin=10&pmax=60&gt=50.5`` with no payload; :func:`parse_query` turns
the Uri-Query strings into a dict and :class:`AttributeStore` keeps what each server
attached at each level (object, instance, resource, resource instance).

Values: ``pmin``, ``pmax``, ``epmin``, ``epmax``, ``hqmax`` are ints (seconds, or a
count for ``hqmax``), ``gt``, ``lt``, ``st`` floats, ``edge`` and ``con`` the ints 0 or
1. A name without a value (``?gt``) unsets that attribute at that level (C1.1 section
6.3.4) and parses to None.

Everything a peer gets wrong here is :class:`~lwm2m_client.core.errors.BadRequest`
(4.00): unknown or read-only names (``dim``, ``ssid``, ``uri``, ``ver``, ``lwm2m`` are
PROPERTIES, not writable), malformed numbers, repeated names, an attribute on a level
that cannot carry it, and an inconsistent result (T1.1 section 6.4.4).
"""

from lwm2m_client.core.dm import types as _t
from lwm2m_client.core.dm.path import is_prefix
from lwm2m_client.core.errors import BadRequest, InternalServerError, MethodNotAllowed

# The order attributes are written in (Discover links, reports).
ATTR_ORDER = ("pmin", "pmax", "gt", "lt", "st", "epmin", "epmax", "edge", "con", "hqmax")
_INT_ATTRS = ("pmin", "pmax", "epmin", "epmax", "hqmax")
_FLOAT_ATTRS = ("gt", "lt", "st")
_FLAG_ATTRS = ("edge", "con")
# What an object or an object instance can carry (C1.1 section 5.1.1 "Level" column;
# edge and con levels from C1.2 section 5.1.1).
_INSTANCE_ATTRS = ("pmin", "pmax", "epmin", "epmax", "con", "hqmax")
# gt, lt and st compare numbers; edge watches a Boolean (C1.2 section 5.1.2).
_NUMERIC_TYPES = (_t.T_INTEGER, _t.T_UNSIGNED, _t.T_FLOAT, _t.T_TIME)
# No attribute needs more than 31 bits (68 years of seconds); the bound keeps a peer
# from handing the core arbitrarily large ints.
MAX_INT_ATTR = 0x7FFFFFFF
_DIGITS = "0123456789"


def _parse_int(text):
    if not text or len(text) > 10:
        raise BadRequest("bad integer attribute value %r" % text)
    for c in text:
        if c not in _DIGITS:
            raise BadRequest("bad integer attribute value %r" % text)
    value = int(text)
    if value > MAX_INT_ATTR:
        raise BadRequest("attribute value %s too large" % text)
    return value


def _skip_digits(text, pos):
    while pos < len(text) and text[pos] in _DIGITS:
        pos += 1
    return pos


def _parse_float(text):
    """A decimal number: ``[+-]digits[.digits][(e|E)[+-]digits]`` (".5" and "5." too).

    Checked by hand because ``float()`` also takes "nan", "inf", "1_0" and spaces, and
    MicroPython's parser is more lenient than CPython's.
    """
    pos = 1 if text[:1] in ("+", "-") else 0
    end = _skip_digits(text, pos)
    digits = end - pos
    if end < len(text) and text[end] == ".":
        after = _skip_digits(text, end + 1)
        digits += after - end - 1
        end = after
    if digits == 0:
        raise BadRequest("bad number attribute value %r" % text)
    if end < len(text) and text[end] in ("e", "E"):
        pos = end + 1
        if text[pos:pos + 1] in ("+", "-"):
            pos += 1
        end = _skip_digits(text, pos)
        if end == pos:
            raise BadRequest("bad number attribute value %r" % text)
    if end != len(text):
        raise BadRequest("bad number attribute value %r" % text)
    try:
        value = float(text)
    except ValueError:
        raise BadRequest("bad number attribute value %r" % text)
    if value - value != 0.0:  # inf or nan: "1e999"
        raise BadRequest("attribute value %r out of range" % text)
    return value


def _parse_value(name, text):
    if name in _INT_ATTRS:
        return _parse_int(text)
    if name in _FLAG_ATTRS:
        if text == "0" or text == "1":
            return int(text)
        raise BadRequest("%s must be 0 or 1" % name)
    value = _parse_float(text)
    if name == "st" and value < 0:
        raise BadRequest("st must not be negative")
    return value


def parse_query(queries):
    """Parse the Uri-Query strings (``str`` or bytes) of a Write-Attributes request.

    Returns ``{name: value or None}``. An empty list is refused: a PUT with neither
    payload nor query is neither a Write nor a Write-Attributes (C1.1 section 6.3.4
    needs at least one attribute), so it is answered 4.00.
    """
    if not queries:
        raise BadRequest("write-attributes without attributes")
    parsed = {}
    for query in queries:
        if not isinstance(query, str):
            try:
                query = bytes(query).decode("utf-8")
            except (UnicodeError, ValueError, TypeError):
                raise BadRequest("query is not UTF-8")
        eq = query.find("=")
        name = query if eq < 0 else query[:eq]
        if name not in ATTR_ORDER:
            raise BadRequest("attribute %r cannot be written" % name)
        if name in parsed:
            raise BadRequest("attribute %s given twice" % name)
        parsed[name] = None if eq < 0 else _parse_value(name, query[eq + 1:])
    return parsed


def check_consistency(attrs):
    """Raise BadRequest unless one level's attributes obey C1.1 section 5.1.2.

    ``lt < gt``, and ``lt + 2*st < gt`` when all three are set; ``epmin < epmax`` when
    both are set. ``pmax < pmin`` is allowed: the notification logic then ignores pmax
    (C1.1 section 5.1.1), so it is stored as written.
    """
    gt = attrs.get("gt")
    lt = attrs.get("lt")
    if gt is not None and lt is not None:
        if not lt < gt:
            raise BadRequest("lt must be below gt")
        st = attrs.get("st")
        if st is not None and not lt + 2 * st < gt:
            raise BadRequest("lt + 2*st must be below gt")
    epmin = attrs.get("epmin")
    epmax = attrs.get("epmax")
    if epmin is not None and epmax is not None and not epmin < epmax:
        raise BadRequest("epmin must be below epmax")


def check_level(path, parsed, type_of_resource):
    """Raise unless every attribute of ``parsed`` may stand at ``path`` (C1.1 section
    5.1.1 "Level"; gt/lt/st numeric and edge Boolean resources only)."""
    n = len(path)
    if n == 0 or n > 4:
        # Write-Attributes names an object, instance, resource or resource instance.
        raise MethodNotAllowed("write-attributes needs an object path or below")
    for name in parsed:
        if n <= 2:
            if name not in _INSTANCE_ATTRS:
                raise BadRequest("%s is a resource attribute" % name)
        elif name in _FLOAT_ATTRS:
            if type_of_resource not in _NUMERIC_TYPES:
                raise BadRequest("%s needs a numeric resource" % name)
        elif name == "edge" and type_of_resource != _t.T_BOOLEAN:
            raise BadRequest("edge needs a Boolean resource")


class AttributeStore:
    """Attached attributes per ``(ssid, path)``, at most ``capacity`` entries.

    Attributes are per server (T1.1 section 6.4.4); an entry exists while at least one
    attribute is set at that level. Nothing in the core grows without bound: a write
    that would need a new entry in a full store answers 5.00 (InternalServerError):
    the request is well formed, so no 4.xx describes the
    refusal (T1.1 section 6.7), and 4.13 is about request bodies, which this has none.
    """

    def __init__(self, capacity=64):
        self.capacity = capacity
        self._entries = {}  # (ssid, path) -> {name: value}

    def __repr__(self):
        return "<AttributeStore %d/%d>" % (len(self._entries), self.capacity)

    def __len__(self):
        return len(self._entries)

    def write(self, ssid, path, parsed, type_of_resource=None):
        """Apply ``parsed`` (from :func:`parse_query`) at ``path`` for server ``ssid``.

        ``type_of_resource`` is the T_* code of the resource for a resource or resource
        instance path; None means unknown, so gt/lt/st and edge are refused. Level
        rules first, then the merged result is checked; nothing changes on an error.
        """
        path = tuple(path)
        if not parsed:
            raise BadRequest("write-attributes without attributes")
        check_level(path, parsed, type_of_resource)
        key = (ssid, path)
        current = self._entries.get(key)
        merged = dict(current) if current else {}
        for name, value in parsed.items():
            if value is None:
                merged.pop(name, None)
            else:
                merged[name] = value
        check_consistency(merged)
        if not merged:
            if current is not None:
                del self._entries[key]
            return
        if current is None and len(self._entries) >= self.capacity:
            raise InternalServerError("attribute store full (%d entries)" % self.capacity)
        self._entries[key] = merged

    def get(self, ssid, path):
        """A copy of what ``ssid`` attached at exactly ``path`` ({} when nothing)."""
        attrs = self._entries.get((ssid, tuple(path)))
        return dict(attrs) if attrs else {}

    def effective(self, ssid, path, defaults=None):
        """The attributes in force at ``path``: ``defaults`` < O < OI < R < RI.

        The lower level wins (C1.1 section 5.1.1). ``defaults`` is the caller's dict,
        e.g. ``{"pmin": /1/x/2, "pmax": /1/x/3}``; it is not modified.
        """
        result = dict(defaults) if defaults else {}
        path = tuple(path)
        for n in range(1, len(path) + 1):
            attrs = self._entries.get((ssid, path[:n]))
            if attrs:
                result.update(attrs)
        return result

    def drop_path(self, prefix):
        """Forget every server's attributes at ``prefix`` and below (a deleted
        instance or resource instance takes its attributes along)."""
        prefix = tuple(prefix)
        for key in list(self._entries):
            if is_prefix(prefix, key[1]):
                del self._entries[key]

    def drop_server(self, ssid):
        """Forget everything server ``ssid`` attached (its account is gone)."""
        for key in list(self._entries):
            if key[0] == ssid:
                del self._entries[key]
