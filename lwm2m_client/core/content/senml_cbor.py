"""SenML CBOR, Content-Format 112 (RFC 8428 section 6; LwM2M Core 1.2 section 7.4.7).

Also SenML-ETCH CBOR (322, RFC 8790) for composite requests: :func:`decode` returns
``(path, None)`` for a null value and :func:`decode_paths` reads the path lists of
Read-Composite and Observe-Composite. Naming, time and decoding rules are in
:mod:`lwm2m_client.core.content.senml_common`.

Labels are the RFC 8428 integers (bn -2, n 0, v 2, vs 3, vb 4, t 6, vd 8), except
``vlo`` (Objlnk), which LwM2M defines as a text key in CBOR too. Integers, Unsigned and
Time are CBOR integers; a Float is the shortest CBOR float that keeps its value.
"""

from struct import pack_into

from lwm2m_client.core.content import cbor
from lwm2m_client.core.content import senml_common as _sc
from lwm2m_client.core.dm import path as _path
from lwm2m_client.core.dm import types as _t
from lwm2m_client.core.errors import BufferFull, DecodeError, NotAcceptable

_VLO_KEY = b"\x63vlo"
_scratch = bytearray(8)


def encode_into(buf, records, base=()):
    count, bn, strip = _sc.plan(records, base)
    try:
        return _encode(buf, records, count, bn, strip)
    except IndexError:
        # Single bytes are stored without a bounds check: past the end of the buffer
        # the store raises IndexError (bytearray and memoryview alike).
        raise BufferFull("SenML CBOR needs more than %d bytes" % len(buf))


def _encode(buf, records, count, bn, strip):
    end = len(buf)
    write_float = cbor.write_float
    write_int = cbor.write_int
    s = _scratch
    T_FLOAT = _t.T_FLOAT
    T_INTEGER = _t.T_INTEGER
    T_UNSIGNED = _t.T_UNSIGNED
    T_TIME = _t.T_TIME
    pos = cbor.write_head(buf, 0, cbor.M_ARRAY, count)
    for rec in records:
        value = rec[2]
        if value is None:
            continue  # an empty multiple resource has no SenML record
        path = rec[0]
        typ = rec[1]
        t = rec[3] if len(rec) > 3 else None
        # Record name: the part of the path bn does not cover (senml_common.plan).
        if strip:
            rest = len(path) - strip
            if rest == 1:
                name = str(path[strip])
            elif rest == 0:
                name = None
            else:
                name = _sc.name_of(path, strip)
        else:
            name = _path.path_str(path)
        size = 0xA1
        if name is not None:
            size += 1
        if t is not None:
            size += 1
        if bn is not None:
            buf[pos] = size + 1
            buf[pos + 1] = 0x21  # bn
            pos = cbor.write_text(buf, pos + 2, bn)
            bn = None
        else:
            buf[pos] = size
            pos += 1
        if name is not None:
            ln = len(name)  # ASCII digits and slashes: one byte per character
            if ln < 24 and pos + 2 + ln <= end:
                buf[pos] = 0x00  # n
                buf[pos + 1] = 0x60 | ln
                pos += 2
                buf[pos:pos + ln] = name.encode()
                pos += ln
            else:
                buf[pos] = 0x00
                pos = cbor.write_text(buf, pos + 1, name)
        if typ == T_FLOAT:
            buf[pos] = 0x02  # v
            pos += 1
            if value != value or value in (_INF, _NINF):
                _sc.check_float(value)
            pack_into(">d", s, 0, value)
            # Inline fast path of cbor.write_float: a double that no shorter float holds.
            if (s[7] or s[6] or s[5] or s[4] & 0x1F) and pos + 9 <= end:
                buf[pos] = 0xFB
                buf[pos + 1:pos + 9] = s
                pos += 9
            else:
                pos = write_float(buf, pos, value)
        elif typ == T_INTEGER or typ == T_UNSIGNED or typ == T_TIME:
            buf[pos] = 0x02  # v
            if 0 <= value < 24:
                buf[pos + 1] = value
                pos += 2
            else:
                pos = write_int(buf, pos + 1, value)
        elif typ == _t.T_STRING or typ == _t.T_CORELNK:
            buf[pos] = 0x03  # vs
            pos = cbor.write_text(buf, pos + 1, value)
        elif typ == _t.T_BOOLEAN:
            buf[pos] = 0x04  # vb
            buf[pos + 1] = 0xF5 if value else 0xF4
            pos += 2
        elif typ == _t.T_OPAQUE:
            buf[pos] = 0x08  # vd
            pos = cbor.write_bytes(buf, pos + 1, value)
        elif typ == _t.T_OBJLNK:
            if pos + 4 > end:
                raise BufferFull("no room for vlo")
            buf[pos:pos + 4] = _VLO_KEY
            pos = cbor.write_text(buf, pos + 4, str(value))
        else:
            raise NotAcceptable("type %d has no SenML value" % typ)
        if t is not None:
            buf[pos] = 0x06  # t
            if type(t) is float:
                _sc.check_float(t)
                pos = write_float(buf, pos + 1, t)
            else:
                pos = write_int(buf, pos + 1, t)
    return pos


_INF = float("inf")
_NINF = float("-inf")


def _opaque(x):
    if type(x) is not bytes:
        raise DecodeError("SenML CBOR vd is not a byte string")
    return x


def _resolve(data):
    return _sc.walk(cbor.loads(data), _sc.CBOR_FIELDS, _opaque)


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
