"""Legacy LwM2M JSON, Content-Format 11543 (LwM2M 1.0 section 6.4.4).

``{"bn":"/3/0/","e":[{"n":"0","sv":"Open Mobile Alliance"},{"n":"6/0","v":1}]}``:
entries name a path relative to ``bn`` and carry one of ``v`` (number), ``bv``
(boolean), ``sv`` (string) or ``ov`` (object link ``"66:0"``), with an optional
``t`` added to ``bt``. LwM2M 1.1+ clients must not send this format (C1.2 section 7.4),
so the client only decodes it; the encoder serves the embedded test server.

Names follow :func:`senml_common.plan` (``bn`` = ``"/3/0/"``, or the full path for a
single resource with no ``n``, or no ``bn`` and full names). Opaque travels as
standard padded Base64 in ``sv`` (the 1.0 text does not say
marks this unconfirmed); when ``type_of`` says Opaque, ``sv`` is Base64-decoded.
"""

from lwm2m_client.core.buffer import Writer
from lwm2m_client.core.content import b64
from lwm2m_client.core.content import json_text as _j
from lwm2m_client.core.content import senml_common as _sc
from lwm2m_client.core.dm import path as _path
from lwm2m_client.core.dm import types as _t
from lwm2m_client.core.errors import BadRequest, DecodeError, NotAcceptable

_put = _j.put
_VALUE_KEYS = ("v", "bv", "sv", "ov")


def encode_into(buf, records, base=()):
    count, bn, strip = _sc.plan(records, base)
    pos = _put(buf, 0, b"{")
    if bn is not None:
        pos = _put(buf, _j.put_string(buf, _put(buf, pos, b'"bn":'), bn), b",")
    pos = _put(buf, pos, b'"e":[')
    first = True
    for rec in records:
        value = rec[2]
        if value is None:
            continue
        path = rec[0]
        pos = _put(buf, pos, b"{" if first else b",{")
        first = False
        if strip == 0 or len(path) > strip:
            name = _sc.name_of(path, strip) if strip else _path.path_str(path)
            pos = _put(buf, _j.put_string(buf, _put(buf, pos, b'"n":'), name), b",")
        pos = _value(buf, pos, rec[1], value)
        if len(rec) > 3 and rec[3] is not None:
            pos = _number(buf, _put(buf, pos, b',"t":'), rec[3])
        pos = _put(buf, pos, b"}")
    return _put(buf, pos, b"]}")


def _value(buf, pos, typ, value):
    if typ == _t.T_FLOAT:
        return _number(buf, _put(buf, pos, b'"v":'), float(value))
    if typ == _t.T_INTEGER or typ == _t.T_UNSIGNED or typ == _t.T_TIME:
        return _number(buf, _put(buf, pos, b'"v":'), value)
    if typ == _t.T_STRING or typ == _t.T_CORELNK:
        return _j.put_string(buf, _put(buf, pos, b'"sv":'), value)
    if typ == _t.T_BOOLEAN:
        return _put(buf, pos, b'"bv":true' if value else b'"bv":false')
    if typ == _t.T_OPAQUE:
        w = Writer(buf, _put(buf, pos, b'"sv":"'))
        b64.write_b64(w, value)
        return _put(buf, w.pos, b'"')
    if typ == _t.T_OBJLNK:
        return _j.put_string(buf, _put(buf, pos, b'"ov":'), str(value))
    raise NotAcceptable("type %d has no LwM2M JSON value" % typ)


def _number(buf, pos, value):
    if type(value) is float:
        _sc.check_float(value)
    return _put(buf, pos, _j.number_text(value).encode())


def decode(data, base=(), type_of=None):
    top = _j.loads(data)
    if type(top) is not dict:
        raise DecodeError("LwM2M JSON body is not an object")
    bn = top.get("bn", "")
    entries = top.get("e")
    if type(bn) is not str or type(entries) is not list:
        raise DecodeError("LwM2M JSON needs a text bn and an e array")
    out = []
    seen = set()
    for entry in entries:
        if type(entry) is not dict:
            raise DecodeError("LwM2M JSON entry is not an object")
        name = entry.get("n", "")
        if type(name) is not str:
            raise DecodeError("LwM2M JSON n is not text")
        p = _sc.parse_name(bn + name)
        if len(p) < 3:
            raise DecodeError("LwM2M JSON value for %r, not a resource" % (bn + name))
        if p in seen:
            raise DecodeError("LwM2M JSON name %r appears twice" % (bn + name))
        seen.add(p)
        typ = type_of(p[:3]) if type_of is not None else None
        out.append((p, _entry_value(entry, typ)))
    return out


def _entry_value(entry, typ):
    found = [k for k in _VALUE_KEYS if k in entry]
    if len(found) != 1:
        raise DecodeError("LwM2M JSON entry needs exactly one value")
    key = found[0]
    x = entry[key]
    if key == "v":
        if type(x) is not int and type(x) is not float:
            raise DecodeError("LwM2M JSON v is not a number")
    elif key == "bv":
        if type(x) is not bool:
            raise DecodeError("LwM2M JSON bv is not a boolean")
    elif type(x) is not str:
        raise DecodeError("LwM2M JSON sv/ov is not text")
    elif key == "ov":
        return _sc.parse_objlnk(x)
    elif typ == _t.T_OPAQUE:
        try:
            return b64.b64decode(x)
        except (BadRequest, ValueError):
            raise DecodeError("LwM2M JSON opaque sv is not Base64")
    return x if typ is None else _sc.apply_type(x, typ)
