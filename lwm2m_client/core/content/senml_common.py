"""What SenML JSON and SenML CBOR share (RFC 8428; LwM2M Core 1.2 sections 7.4.6-7.4.7).

Encoding names (:func:`plan`): the first record carries ``bn`` and the others a
relative ``n``, chosen from the request path ``base``:

- every record strictly below ``base`` -> ``bn`` = ``"/3/0/"`` and ``n`` = ``"0"``,
  ``"6/1"`` (the spec's ``/3/0`` example);
- one record at ``base`` itself (a single-instance resource read) -> ``bn`` = ``"/3/0/0"``
  and no ``n`` (C1.2 Table 7.4.6-5 form);
- anything else (composite reads, Send, an empty base) -> no ``bn``, ``n`` is the full
  path (``"/3/0/0"``).

Time: a record given as a 4-tuple carries its time as a per-record ``t``; no ``bt`` is
written, so each ``t`` stands alone.

Decoding (:func:`walk`) resolves ``bn`` + ``n`` and ``bt`` + ``t`` across records
(section 4.5), adds ``bv`` to ``v``, checks ``bver`` (version 10 and below are
understood), and rejects records with two value fields or with an unknown
must-understand field (a label ending in ``_``, section 4.4). ``u``, ``bu``, ``s``,
``bs`` and ``ut`` carry nothing LwM2M uses and are ignored, as are unknown labels.
A value field holding null is a SenML-ETCH delete (RFC 8790; C1.2 section 7.4.6) and
yields ``None``.
"""

from lwm2m_client.core.dm import path as _path
from lwm2m_client.core.dm import types as _t
from lwm2m_client.core.errors import BadRequest, DecodeError, NotAcceptable

# Field codes, shared by the JSON names and the CBOR labels (RFC 8428 section 6).
F_BVER = 1
F_BN = 2
F_BT = 3
F_BV = 4
F_N = 5
F_V = 6
F_VS = 7
F_VB = 8
F_VD = 9
F_VLO = 10
F_T = 11
F_IGNORED = 12

CBOR_FIELDS = {
    -1: F_BVER, -2: F_BN, -3: F_BT, -5: F_BV, 0: F_N, 2: F_V, 3: F_VS, 4: F_VB,
    8: F_VD, "vlo": F_VLO, 6: F_T, -4: F_IGNORED, -6: F_IGNORED, 1: F_IGNORED,
    5: F_IGNORED, 7: F_IGNORED,
}

SENML_VERSION = 10  # RFC 8428 section 4.4


def _is_number(x):
    t = type(x)
    return t is int or t is float


def plan(records, base):
    """Return ``(count, bn, strip)`` for a record list: how many records carry a value,
    the base name to write on the first one (or None), and how many leading path
    IDs ``bn`` stands for (the rest become ``n``)."""
    count = 0
    nb = len(base)
    below = nb > 0
    at = 0
    for rec in records:
        if rec[2] is None:
            continue
        count += 1
        p = rec[0]
        if below and p[:nb] != base:
            below = False
        elif len(p) == nb:
            at += 1
    if below and at == 0:
        return count, _path.path_str(base) + "/", nb
    if below and at == 1 and count == 1:
        return count, _path.path_str(base), nb
    return count, None, 0


def name_of(path, strip):
    """The ``n`` of a record whose first ``strip`` IDs are covered by ``bn``."""
    if strip == 0:
        return _path.path_str(path)
    rest = path[strip:]
    if len(rest) == 1:
        return str(rest[0])
    return "/".join([str(i) for i in rest])


def check_float(value):
    """SenML numbers are finite (RFC 8428 section 4.3 refers to JSON numbers)."""
    if value != value or value in (float("inf"), float("-inf")):
        raise NotAcceptable("SenML cannot carry NaN or infinity")


def apply_type(value, typ):
    """Use the resource type, when known, to give a wire value its LwM2M form: a ``v``
    that is integral becomes an int for Integer/Unsigned/Time and an int becomes a float
    for Float resources; ``"66:0"`` text becomes an Objlnk."""
    t = type(value)
    if typ == _t.T_FLOAT:
        if t is int:
            return float(value)
    elif typ == _t.T_INTEGER or typ == _t.T_UNSIGNED or typ == _t.T_TIME:
        if t is float and value == value and -1e19 < value < 1e19 and value == int(value):
            return int(value)
    elif typ == _t.T_OBJLNK and t is str:
        return parse_objlnk(value)
    return value


def parse_objlnk(text):
    try:
        return _t.Objlnk.parse(text)
    except (BadRequest, ValueError):
        raise DecodeError("bad object link %r" % text)


def parse_name(name):
    try:
        return _path.parse_path(name)
    except (BadRequest, ValueError):
        raise DecodeError("SenML name %r is not an LwM2M path" % name)


def walk(pack, fields, opaque):
    """Resolve a decoded SenML pack (a list of dicts) into a list of
    ``(path, value, time, has_value)``. ``fields`` maps the wire labels to field codes;
    ``opaque(x)`` turns a ``vd`` into bytes or raises DecodeError."""
    if type(pack) is not list:
        raise DecodeError("a SenML pack is an array")
    out = []
    bn = ""
    bt = None
    bv = None
    for rec in pack:
        if type(rec) is not dict:
            raise DecodeError("a SenML record is a map")
        n = ""
        t = None
        value = None
        vfield = 0
        for key, x in rec.items():
            f = fields.get(key) if type(key) is int or type(key) is str else None
            if f is None:
                if type(key) is str and key[-1:] == "_":
                    raise DecodeError("must-understand SenML field %r" % key)
                continue
            if f >= F_V and f <= F_VLO:
                if vfield:
                    raise DecodeError("SenML record with two values")
                vfield = f
                value = x
            elif f == F_N:
                if type(x) is not str:
                    raise DecodeError("SenML n is not text")
                n = x
            elif f == F_BN:
                if type(x) is not str:
                    raise DecodeError("SenML bn is not text")
                bn = x
            elif f == F_T or f == F_BT or f == F_BV:
                if not _is_number(x):
                    raise DecodeError("SenML time or base value is not a number")
                if f == F_T:
                    t = x
                elif f == F_BT:
                    bt = x
                else:
                    bv = x
            elif f == F_BVER:
                if type(x) is not int or x > SENML_VERSION:
                    raise DecodeError("SenML version not understood")
        if vfield and value is not None:
            value = _value(vfield, value, bv, opaque)
        if bt is not None:
            t = bt if t is None else bt + t
        out.append((bn + n, value, t, vfield))
    return out


def _value(f, x, bv, opaque):
    if f == F_V:
        if not _is_number(x):
            raise DecodeError("SenML v is not a number")
        return x if bv is None else bv + x
    if f == F_VB:
        if type(x) is not bool:
            raise DecodeError("SenML vb is not a boolean")
        return x
    if f == F_VD:
        return opaque(x)
    if type(x) is not str:
        raise DecodeError("SenML vs/vlo is not text")
    return parse_objlnk(x) if f == F_VLO else x


def values(resolved, type_of, timed):
    """Turn :func:`walk` output into ``(path, value)`` (or with the time) for records
    that name a resource or resource instance and carry a value or an ETCH null."""
    out = []
    seen = set()
    for name, value, t, vfield in resolved:
        if not vfield:
            if name == "" or name[-1:] == "/":
                continue  # a record carrying base fields only
            raise DecodeError("SenML record without a value")
        p = parse_name(name)
        if len(p) < 3:
            raise DecodeError("SenML value for %r, not a resource" % name)
        # A Send or historical notification may repeat a name at other times (C1.2
        # section 7.4.6); a Write may not name a target twice.
        key = (p, t) if timed else p
        if key in seen:
            raise DecodeError("SenML name %r appears twice" % name)
        seen.add(key)
        if type_of is not None and value is not None:
            typ = type_of(p[:3])
            if typ is not None:
                value = apply_type(value, typ)
        out.append((p, value, t) if timed else (p, value))
    return out


def paths(resolved):
    """The paths of a Read-/Observe-Composite request (C1.2 section 6.3.x)."""
    return [parse_name(rec[0]) for rec in resolved]
