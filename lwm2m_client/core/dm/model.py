"""Object and resource definitions (the OMA object XML, in memory).

Built by the XML loader in :mod:`lwm2m_client.models` on CPython, or from the compact
tuples of a compiled model module on MicroPython. Plain classes only: this module is
part of the MicroPython core.
"""

from lwm2m_client.core.dm import types as _t

# Operations, as bit flags (XML <Operations>: R, W, RW, E or empty).
OP_NONE = 0
OP_R = 1
OP_W = 2
OP_RW = 3
OP_E = 4

_OP_NAMES = {"": OP_NONE, "NONE": OP_NONE, "R": OP_R, "W": OP_W, "RW": OP_RW, "E": OP_E}


def ops_from_name(name):
    """Map the XML <Operations> text to the bit flags. Raises ValueError."""
    key = name.strip().upper()
    if key in _OP_NAMES:
        return _OP_NAMES[key]
    raise ValueError("unknown operations %r" % name)


def ops_name(ops):
    for name in ("R", "W", "RW", "E"):
        if _OP_NAMES[name] == ops:
            return name
    return ""


class Range:
    """A checkable form of <RangeEnumeration>.

    ``kind`` is one of:

    - ``"num"``: numeric bounds ``lo``..``hi`` inclusive (either may be None);
    - ``"enum"``: ``values`` is a tuple of the allowed values;
    - ``"len"``: bounds on the length in bytes (strings: UTF-8 length; opaque);
    - ``"text"``: free text that cannot be checked; ``check`` always accepts.

    ``text`` always keeps the original wording.
    """

    def __init__(self, kind, lo=None, hi=None, values=None, text=""):
        self.kind = kind
        self.lo = lo
        self.hi = hi
        self.values = values
        self.text = text

    def __repr__(self):
        if self.kind == "enum":
            return "Range(enum %r)" % (self.values,)
        if self.kind == "text":
            return "Range(text %r)" % self.text
        return "Range(%s %r..%r)" % (self.kind, self.lo, self.hi)

    def __eq__(self, other):
        return (
            isinstance(other, Range)
            and self.kind == other.kind
            and self.lo == other.lo
            and self.hi == other.hi
            and self.values == other.values
        )

    def check(self, typ, value):
        """True when ``value`` (already of the Python type for ``typ``) is in range."""
        kind = self.kind
        if kind == "text":
            return True
        if kind == "len":
            if typ == _t.T_STRING or typ == _t.T_CORELNK:
                n = len(value.encode("utf-8"))
            elif typ == _t.T_OPAQUE:
                n = len(value)
            else:
                return True
            return (self.lo is None or n >= self.lo) and (self.hi is None or n <= self.hi)
        if typ not in (_t.T_INTEGER, _t.T_UNSIGNED, _t.T_FLOAT, _t.T_TIME):
            # A numeric range on a String means a length in some registry files
            # ("0..255" on a URI); the loader turns those into "len" ranges.
            return True
        if kind == "enum":
            return value in self.values
        return (self.lo is None or value >= self.lo) and (self.hi is None or value <= self.hi)


class ResourceDef:
    """One <Item> of an object definition."""

    def __init__(self, rid, name, operations, multiple, mandatory, typ,
                 range_=None, units="", description=""):
        self.rid = rid
        self.name = name
        self.operations = operations
        self.multiple = multiple
        self.mandatory = mandatory
        self.type = typ
        self.range = range_
        self.units = units
        self.description = description

    def __repr__(self):
        return "<ResourceDef %d %s %s %s>" % (
            self.rid, self.name, ops_name(self.operations) or "-", _t.TYPE_NAMES[self.type])

    @property
    def readable(self):
        return bool(self.operations & OP_R)

    @property
    def writable(self):
        return bool(self.operations & OP_W)

    @property
    def executable(self):
        return self.operations == OP_E


class ObjectDef:
    """One <Object>: its identity and its resources keyed by resource ID."""

    def __init__(self, oid, name, urn="", lwm2m_version="1.0", object_version="1.0",
                 multiple=True, mandatory=False, resources=None, description=""):
        self.oid = oid
        self.name = name
        self.urn = urn
        self.lwm2m_version = lwm2m_version
        self.object_version = object_version
        self.multiple = multiple
        self.mandatory = mandatory
        self.resources = resources if resources is not None else {}
        self.description = description

    def __repr__(self):
        return "<ObjectDef %d %s v%s>" % (self.oid, self.name, self.object_version)

    def resource(self, rid):
        """The ResourceDef for ``rid``, or None."""
        return self.resources.get(rid)
