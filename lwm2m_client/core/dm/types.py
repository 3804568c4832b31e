"""LwM2M resource data types (LwM2M Core 1.1 Appendix C) and their Python values.

Type codes are plain ints so the core runs on MicroPython. Python representation:

=============  ======================================
String         ``str``
Integer        ``int`` (signed 64-bit)
Unsigned Int.  ``int`` (0 .. 2**64-1)
Float          ``float``
Boolean        ``bool``
Opaque         ``bytes``
Time           ``int`` (seconds since the Unix epoch)
Objlnk         :class:`Objlnk`
Corelnk        ``str`` (CoRE link format text)
=============  ======================================
"""

from lwm2m_client.core.errors import BadRequest

T_NONE = 0  # executable resources carry no value
T_STRING = 1
T_INTEGER = 2
T_UNSIGNED = 3
T_FLOAT = 4
T_BOOLEAN = 5
T_OPAQUE = 6
T_TIME = 7
T_OBJLNK = 8
T_CORELNK = 9

# Names as they appear in the OMA object XML <Type> element.
TYPE_NAMES = (
    "none",
    "String",
    "Integer",
    "Unsigned Integer",
    "Float",
    "Boolean",
    "Opaque",
    "Time",
    "Objlnk",
    "Corelnk",
)

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
UINT64_MAX = (1 << 64) - 1


def type_from_name(name):
    """Map an XML <Type> text (any case, surrounding space ignored) to a type code.

    An empty name means no value (executable resources). Raises ValueError otherwise.
    """
    key = name.strip().lower()
    if key in ("", "none"):
        return T_NONE
    for code in range(1, len(TYPE_NAMES)):
        if TYPE_NAMES[code].lower() == key:
            return code
    raise ValueError("unknown LwM2M type %r" % name)


class Objlnk:
    """An object link ``oid:iid``; ``Objlnk(65535, 65535)`` is the null link."""

    def __init__(self, oid, iid):
        if not (0 <= oid <= 0xFFFF and 0 <= iid <= 0xFFFF):
            raise BadRequest("object link out of range: %r:%r" % (oid, iid))
        self.oid = oid
        self.iid = iid

    def __repr__(self):
        return "Objlnk(%d, %d)" % (self.oid, self.iid)

    def __str__(self):
        return "%d:%d" % (self.oid, self.iid)

    def __eq__(self, other):
        return isinstance(other, Objlnk) and self.oid == other.oid and self.iid == other.iid

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return (self.oid << 16) | self.iid

    @staticmethod
    def parse(text):
        """Parse ``"66:0"``. The spec's own example of the null link is hex
        ``"FFFF:FFFF"``, so that spelling is accepted too."""
        parts = text.split(":")
        if len(parts) != 2:
            raise BadRequest("bad object link %r" % text)
        if text.upper() == "FFFF:FFFF":
            return Objlnk(0xFFFF, 0xFFFF)
        try:
            return Objlnk(int(parts[0]), int(parts[1]))
        except ValueError:
            raise BadRequest("bad object link %r" % text)


def coerce(typ, value):
    """Convert a decoded value to the Python representation of ``typ``.

    (``value - value == 0.0`` keeps infinities and NaN away from ``int()``.)
    Decoders deliver what their format carries (a SenML ``v`` may be a float for an
    Integer resource, plain text is a ``str``); this function applies the resource's
    type. Raises :class:`BadRequest` (4.00) when the value cannot be that type.
    """
    t = type(value)
    if typ == T_STRING or typ == T_CORELNK:
        if t is str:
            return value
    elif typ == T_INTEGER or typ == T_TIME:
        if t is float and value - value == 0.0 and value == int(value):
            value = int(value)
            t = int
        if t is int:
            if INT64_MIN <= value <= INT64_MAX:
                return value
            raise BadRequest("integer out of 64-bit range")
    elif typ == T_UNSIGNED:
        if t is float and value - value == 0.0 and value == int(value):
            value = int(value)
            t = int
        if t is int:
            if 0 <= value <= UINT64_MAX:
                return value
            raise BadRequest("unsigned integer out of range")
    elif typ == T_FLOAT:
        if t is float:
            return value
        if t is int:
            return float(value)
    elif typ == T_BOOLEAN:
        if t is bool:
            return value
    elif typ == T_OPAQUE:
        if t is bytes:
            return value
        if t is bytearray or t is memoryview:
            return bytes(value)
    elif typ == T_OBJLNK:
        if t is Objlnk:
            return value
        if t is str:
            return Objlnk.parse(value)
    elif typ == T_NONE:
        raise BadRequest("resource carries no value")
    raise BadRequest("%s value expected, got %s" % (TYPE_NAMES[typ], t.__name__))
