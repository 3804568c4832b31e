"""SenML JSON, Content-Format 110 (RFC 8428; LwM2M Core 1.2 section 7.4.6).

Also SenML-ETCH JSON (320, RFC 8790) for composite requests, see
:mod:`lwm2m_client.core.content.senml_cbor` for the shared behaviour and
:mod:`lwm2m_client.core.content.senml_common` for naming and decoding rules.

Output is compact (no spaces) with the fields in the order ``bn``, ``n``, value,
``t``, which reproduces the specification's ``/3/0`` example byte for byte. Opaque
``vd`` is base64url without padding (RFC 8428 section 5, C1.2 App. C); the decoder
also takes the standard alphabet and padding, which the spec's own examples use.
Floats are written as the shortest decimal that reads back as the same float
(:func:`~lwm2m_client.core.content.floats.float_text`: Python's ``repr`` on CPython); NaN
and infinity have no JSON form and raise NotAcceptable.
"""

from lwm2m_client.core.buffer import Writer
from lwm2m_client.core.content import b64
from lwm2m_client.core.content import json_text as _j
from lwm2m_client.core.content import senml_common as _sc
from lwm2m_client.core.dm import path as _path
from lwm2m_client.core.dm import types as _t
from lwm2m_client.core.errors import BadRequest, DecodeError, NotAcceptable

_put = _j.put
_put_string = _j.put_string

# SenML JSON labels (RFC 8428 section 4.3) -> the field IDs of senml_common.walk; here
# rather than in senml_common, so a client without SenML JSON never builds it.
FIELDS = {
    "bver": _sc.F_BVER, "bn": _sc.F_BN, "bt": _sc.F_BT, "bv": _sc.F_BV, "n": _sc.F_N,
    "v": _sc.F_V, "vs": _sc.F_VS, "vb": _sc.F_VB, "vd": _sc.F_VD, "vlo": _sc.F_VLO,
    "t": _sc.F_T, "bu": _sc.F_IGNORED, "bs": _sc.F_IGNORED, "u": _sc.F_IGNORED,
    "s": _sc.F_IGNORED, "ut": _sc.F_IGNORED,
}

_KEY_BN = b'"bn":'
_KEY_N = b'"n":'
_KEY_V = b',"v":'
_KEY_VS = b',"vs":'
_KEY_VB = b',"vb":'
_KEY_VD = b',"vd":'
_KEY_VLO = b',"vlo":'
_KEY_T = b',"t":'
_KEY_V_FIRST = b'"v":'  # value keys of a record without ``n`` have no leading comma


def encode_into(buf, records, base=()):
    count, bn, strip = _sc.plan(records, base)
    pos = _put(buf, 0, b"[")
    first = True
    for rec in records:
        value = rec[2]
        if value is None:
            continue  # an empty multiple resource has no SenML record
        path = rec[0]
        typ = rec[1]
        pos = _put(buf, pos, b"{" if first else b",{")
        first = False
        sep = False  # whether a field was written before the value
        if bn is not None:
            pos = _put_string(buf, _put(buf, pos, _KEY_BN), bn)
            bn = None
            sep = True
        if strip == 0 or len(path) > strip:
            if sep:
                pos = _put(buf, pos, b",")
            name = _sc.name_of(path, strip) if strip else _path.path_str(path)
            pos = _put_string(buf, _put(buf, pos, _KEY_N), name)
            sep = True
        pos = _value(buf, pos, typ, value, sep)
        if len(rec) > 3 and rec[3] is not None:
            pos = _number(buf, _put(buf, pos, _KEY_T), rec[3])
        pos = _put(buf, pos, b"}")
    return _put(buf, pos, b"]")


def _value(buf, pos, typ, value, sep):
    start = 0 if sep else 1  # drop the leading comma when the value is the first field
    if typ == _t.T_FLOAT:
        return _number(buf, _put(buf, pos, _KEY_V[start:]), float(value))
    if typ == _t.T_INTEGER or typ == _t.T_UNSIGNED or typ == _t.T_TIME:
        return _number(buf, _put(buf, pos, _KEY_V[start:]), value)
    if typ == _t.T_STRING or typ == _t.T_CORELNK:
        return _put_string(buf, _put(buf, pos, _KEY_VS[start:]), value)
    if typ == _t.T_BOOLEAN:
        return _put(buf, _put(buf, pos, _KEY_VB[start:]), b"true" if value else b"false")
    if typ == _t.T_OPAQUE:
        w = Writer(buf, _put(buf, pos, _KEY_VD[start:] + b'"'))
        b64.write_b64(w, value, True, False)
        return _put(buf, w.pos, b'"')
    if typ == _t.T_OBJLNK:
        return _put_string(buf, _put(buf, pos, _KEY_VLO[start:]), str(value))
    raise NotAcceptable("type %d has no SenML value" % typ)


def _number(buf, pos, value):
    if type(value) is float:
        _sc.check_float(value)
    return _put(buf, pos, _j.number_text(value).encode())


def _opaque(x):
    if type(x) is not str:
        raise DecodeError("SenML JSON vd is not a string")
    try:
        return b64.b64decode(x)
    except (BadRequest, ValueError):
        raise DecodeError("SenML JSON vd is not base64")


def _resolve(data):
    return _sc.walk(_j.loads(data), FIELDS, _opaque)


def decode(data, base=(), type_of=None):
    """``(path, value)`` for each record. SenML names are absolute, so ``base`` is not
    needed; ``type_of`` refines numbers and object links (senml_common.apply_type)."""
    return _sc.values(_resolve(data), type_of, False)


def decode_timed(data, base=(), type_of=None):
    """``(path, value, time)`` for each record, ``time`` = bt + t or None (Send)."""
    return _sc.values(_resolve(data), type_of, True)


def decode_paths(data):
    """The paths named by a Read-/Observe-Composite request body."""
    return _sc.paths(_resolve(data))
