"""Object and resource definitions (the OMA object XML, in memory).

Built by the XML loader in :mod:`lwm2m_client.models` on CPython, from the compact
tuples of a compiled model module on MicroPython, or in Python with :func:`resource`
and :func:`obj` for a vendor's own object::

    METER = obj(32769, "Tariff meter", [
        resource(0, "Active tariff", "Integer", "RW", mandatory=True, range_=(1, 2)),
        resource(1, "Power", "Float", "R", units="W"),
        resource(2, "Switch tariff", None, "E"),
    ], multiple=False)

Plain classes only: this module is part of the MicroPython core.
"""

from lwm2m_client.core.dm import types as _t
from lwm2m_client.core.errors import UsageError

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


def _named(name):
    # " name" for a repr, nothing for a name left out by the model compiler.
    return " " + name if name else ""


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

    # What most resources of a device's models leave empty is read from the class: an
    # instance stores only the attributes that differ, and a MicroPython instance's
    # attribute table grows with each one (a meter holds dozens of ResourceDefs).
    name = ""
    multiple = False
    mandatory = False
    range = None
    units = ""
    description = ""

    def __init__(self, rid, name, operations, multiple, mandatory, typ,
                 range_=None, units="", description=""):
        self.rid = rid
        self.operations = operations
        self.type = typ
        if multiple:
            self.multiple = True
        if mandatory:
            self.mandatory = True
        if name:
            self.name = name
        if range_ is not None:
            self.range = range_
        if units:
            self.units = units
        if description:
            self.description = description

    def __repr__(self):
        # A model compiled without names has "" (or None) for the name.
        return "<ResourceDef %d%s %s %s>" % (
            self.rid, _named(self.name), ops_name(self.operations) or "-",
            _t.TYPE_NAMES[self.type])

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
        return "<ObjectDef %d%s v%s>" % (self.oid, _named(self.name), self.object_version)

    def resource(self, rid):
        """The ResourceDef for ``rid``, or None."""
        return self.resources.get(rid)


def resource(rid, name, typ, ops, multiple=False, mandatory=False, units="", range_=None,
             description=""):
    """A ResourceDef for an object defined in Python.

    ``typ``: a T_* code, its XML name ("Integer", "Unsigned Integer", "Float" ...) or
    None for an executable resource; ``ops``: OP_* flags or their XML name ("R", "W",
    "RW", "E", ""); ``range_``: None, a :class:`Range`, or ``(lo, hi)`` (a value range
    for numbers, a length range in bytes for String and Opaque, either bound None).
    Raises UsageError.
    """
    where = "resource %r" % (rid,)
    if type(rid) is not int or not 0 <= rid <= 65534:
        raise UsageError("%s: the id must be 0..65534" % where)
    try:
        if typ is None:
            typ = _t.T_NONE
        elif type(typ) is str:
            typ = _t.type_from_name(typ)
        if type(ops) is str:
            ops = ops_from_name(ops)
    except ValueError as exc:
        raise UsageError("%s: %s" % (where, exc))
    if type(typ) is not int or not 0 <= typ < len(_t.TYPE_NAMES):
        raise UsageError("%s: unknown type %r" % (where, typ))
    if type(ops) is not int or ops not in (OP_NONE, OP_R, OP_W, OP_RW, OP_E):
        raise UsageError("%s: unknown operations %r" % (where, ops))
    if (ops == OP_E) != (typ == _t.T_NONE):
        raise UsageError("%s: executable resources, and only they, have no type" % where)
    if type(range_) is tuple:
        if len(range_) != 2:
            raise UsageError("%s: a range is (lo, hi)" % where)
        lo, hi = range_
        kind = "len" if typ in (_t.T_STRING, _t.T_OPAQUE, _t.T_CORELNK) else "num"
        text = "%s..%s" % ("" if lo is None else lo, "" if hi is None else hi)
        range_ = Range(kind, lo, hi, text=text)
    elif range_ is not None and not isinstance(range_, Range):
        raise UsageError("%s: range must be None, a Range or (lo, hi)" % where)
    return ResourceDef(rid, name, ops, bool(multiple), bool(mandatory), typ, range_,
                       units, description)


def obj(oid, name, resources, multiple=True, version="1.0", mandatory=False,
        lwm2m_version="1.0", urn="", description=""):
    """An ObjectDef from a list of :func:`resource` definitions (``version`` is the
    object's version, ``multiple`` False for a single-instance object). Raises
    UsageError for a bad ID or a resource ID given twice."""
    if type(oid) is not int or not 0 <= oid <= 65534:
        raise UsageError("object %r: the id must be 0..65534" % (oid,))
    table = {}
    for rdef in resources:
        if not isinstance(rdef, ResourceDef):
            raise UsageError("object %d: %r is not a ResourceDef" % (oid, rdef))
        if rdef.rid in table:
            raise UsageError("object %d: resource %d given twice" % (oid, rdef.rid))
        table[rdef.rid] = rdef
    return ObjectDef(oid, name, urn, lwm2m_version, version, bool(multiple),
                     bool(mandatory), table, description)
