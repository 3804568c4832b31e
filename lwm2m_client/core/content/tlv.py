"""OMA-TLV, content format 11542 (LwM2M 1.0 section 6.4.3, Core 1.1 section 7.4.4).

A TLV is a type byte, an 8- or 16-bit identifier, an optional 8/16/24-bit length and
the value, all big-endian. The type byte (Core 1.1 section 7.4.4, table "TLV format"):

- bits 7-6: 00 Object Instance, 01 Resource Instance, 10 Multiple Resource,
  11 Resource with value;
- bit 5: identifier is 16 bits wide;
- bits 4-3: width of the length field (0 = none, then bits 2-0 hold the length 0-7).

Width choices of this encoder (the spec allows others, so the decoder accepts any):

- lengths and identifiers: the smallest field that holds them;
- Integer and Time: the smallest two's-complement width of 1, 2, 4 or 8 bytes
  (so 128 is ``00 80``, as in the spec's examples);
- Unsigned Integer: like Integer for values up to 2**63-1 -- the bytes then read back
  the same whether the peer treats them as signed or unsigned, which matters for 1.0
  servers that know no unsigned type -- and 8 bytes for larger values, which only an
  unsigned reading can hold (the decoder reads Unsigned as unsigned at every width);
- Float: 4 bytes when the value survives IEEE-754 binary32 exactly, else 8; on a
  single-precision interpreter 4 bytes when the single is the double its shortest text
  means, else that double in 8 (``floats.single_as_double``: 230.1, not
  230.10000610351562); an 8-byte Float read there becomes the nearest single, and one
  beyond the single range is refused;
- Boolean 1 byte, Objlnk 4 bytes (oid, iid), String and Corelnk UTF-8, Opaque raw.

Nesting is computed by a size pass before each container header is written, so the
length field has its final width and no per-record bytes are built.
"""

import struct

from lwm2m_client.core.buffer import Writer
from lwm2m_client.core.content.floats import SINGLE, check_double, fits_single, single_as_double
from lwm2m_client.core.dm.types import (
    INT64_MAX,
    INT64_MIN,
    T_BOOLEAN,
    T_CORELNK,
    T_FLOAT,
    T_INTEGER,
    T_OBJLNK,
    T_OPAQUE,
    T_STRING,
    T_TIME,
    T_UNSIGNED,
    UINT64_MAX,
    Objlnk,
)
from lwm2m_client.core.errors import DecodeError, NotAcceptable

# TLV kinds, the top two bits of the type byte.
OBJECT_INSTANCE = 0
RESOURCE_INSTANCE = 1
MULTIPLE_RESOURCE = 2
RESOURCE = 3

MAX_LENGTH = 0xFFFFFF  # 24-bit length field (Core 1.1 section 7.4.4)


# ---------------------------------------------------------------------------- encoding


def _int_width(value):
    if -0x80 <= value <= 0x7F:
        return 1
    if -0x8000 <= value <= 0x7FFF:
        return 2
    if -0x80000000 <= value <= 0x7FFFFFFF:
        return 4
    return 8


def _value_length(typ, value):
    """Bytes the value of a Resource or Resource Instance TLV takes."""
    if typ == T_INTEGER or typ == T_TIME:
        if not (INT64_MIN <= value <= INT64_MAX):
            raise ValueError("integer out of 64-bit range: %r" % value)
        return _int_width(value)
    if typ == T_UNSIGNED:
        if not (0 <= value <= UINT64_MAX):
            raise ValueError("unsigned integer out of range: %r" % value)
        return _int_width(value)
    if typ == T_STRING or typ == T_CORELNK:
        return len(value.encode("utf-8"))
    if typ == T_OPAQUE:
        return len(value)
    if typ == T_FLOAT:
        if SINGLE:  # the double the shortest text means, unless the single is it
            return 8 if single_as_double(value) >= 0 else 4
        return 4 if fits_single(value) else 8
    if typ == T_BOOLEAN:
        return 1
    if typ == T_OBJLNK:
        return 4
    raise NotAcceptable("TLV cannot carry type %r" % typ)


def _header_length(ident, length):
    if length > MAX_LENGTH:
        raise NotAcceptable("TLV value longer than 2**24-1 bytes")
    n = 2 if ident <= 0xFF else 3
    if length > 0xFFFF:
        return n + 3
    if length > 0xFF:
        return n + 2
    if length > 7:
        return n + 1
    return n


def _write_header(w, kind, ident, length):
    if length > MAX_LENGTH:
        raise NotAcceptable("TLV value longer than 2**24-1 bytes")
    if length > 0xFFFF:
        lbytes = 3
    elif length > 0xFF:
        lbytes = 2
    elif length > 7:
        lbytes = 1
    else:
        lbytes = 0
    t = (kind << 6) | (lbytes << 3)
    if lbytes == 0:
        t |= length
    if ident > 0xFF:
        w.byte(t | 0x20)
        w.uint_be(ident, 2)
    else:
        w.byte(t)
        w.byte(ident)
    if lbytes:
        w.uint_be(length, lbytes)


def _write_leaf(w, kind, ident, typ, value):
    """Write a Resource or Resource Instance TLV with its value."""
    if typ == T_STRING or typ == T_CORELNK:
        value = value.encode("utf-8")  # once, for both the length and the bytes
        typ = T_OPAQUE
    n = _value_length(typ, value)
    _write_header(w, kind, ident, n)
    if typ == T_OPAQUE:
        w.write(value)
    elif typ == T_FLOAT:
        if n == 4:
            w.write(struct.pack(">f", value))
        elif SINGLE:
            w.write(struct.pack(">Q", single_as_double(value)))
        else:
            w.write(struct.pack(">d", value))
    elif typ == T_BOOLEAN:
        w.byte(1 if value else 0)
    elif typ == T_OBJLNK:
        w.uint_be((value.oid << 16) | value.iid, 4)
    else:
        # Integer, Unsigned, Time: uint_be writes the two's complement of negatives.
        w.uint_be(value, n)


def _resource_end(records, i, n):
    """Index after the records of the resource that starts at ``records[i]``."""
    rpath = records[i][0][:3]
    j = i + 1
    while j < n and records[j][0][:3] == rpath:
        j += 1
    return j


def _resource_size(records, i, j):
    """Size of the Resource or Multiple Resource TLV for ``records[i:j]``."""
    path, typ, value = records[i][:3]
    if len(path) == 3 and value is not None:
        length = _value_length(typ, value)
        return _header_length(path[2], length) + length
    body = _instances_size(records, i, j)
    return _header_length(path[2], body) + body


def _instances_size(records, i, j):
    body = 0
    for k in range(i, j):
        path, typ, value = records[k][:3]
        if len(path) == 4:
            length = _value_length(typ, value)
            body += _header_length(path[3], length) + length
    return body


def _write_resource(w, records, i, j):
    path, typ, value = records[i][:3]
    if len(path) == 3 and value is not None:
        _write_leaf(w, RESOURCE, path[2], typ, value)
        return
    # Multi-instance resources always take a Multiple Resource TLV, even with zero or
    # one instance (Core 1.1 section 7.4.4); (path3, type, None) is the empty one.
    _write_header(w, MULTIPLE_RESOURCE, path[2], _instances_size(records, i, j))
    _write_instances(w, records, i, j)


def _write_instances(w, records, i, j):
    for k in range(i, j):
        path, typ, value = records[k][:3]
        if len(path) == 4:
            _write_leaf(w, RESOURCE_INSTANCE, path[3], typ, value)


def _write_resources(w, records, i, j):
    while i < j:
        k = _resource_end(records, i, j)
        _write_resource(w, records, i, k)
        i = k


def encode_into(buf, records, base=()):
    """Encode ``records`` as TLV into ``buf``; return the number of bytes written.

    An Object Instance TLV wraps each instance when ``base`` is an object or the root
    (Core 1.1 section 7.4.4: MUST without an instance ID) and when the records span
    several instances. With ``base`` a resource instance the body is bare Resource
    Instance TLVs. Records of several objects cannot be expressed: NotAcceptable.
    Values out of their type's range raise ValueError (application misuse).
    """
    if not isinstance(records, (list, tuple)):
        records = list(records)
    n = len(records)
    w = Writer(buf)
    if n == 0:
        return 0
    first = records[0][0]
    last = records[n - 1][0]
    if first[0] != last[0]:
        raise NotAcceptable("TLV cannot carry several objects")
    if len(base) == 4:
        _write_instances(w, records, 0, n)
        return w.pos
    if len(base) >= 2 and first[1] == last[1]:
        _write_resources(w, records, 0, n)
        return w.pos
    i = 0
    while i < n:
        iid = records[i][0][1]
        j = i + 1
        while j < n and records[j][0][1] == iid:
            j += 1
        body = 0
        k = i
        while k < j:
            m = _resource_end(records, k, j)
            body += _resource_size(records, k, m)
            k = m
        _write_header(w, OBJECT_INSTANCE, iid, body)
        _write_resources(w, records, i, j)
        i = j
    return w.pos


# ---------------------------------------------------------------------------- decoding


def _read_header(data, pos, end):
    """Parse the TLV header at ``pos``; return (kind, ident, value_start, value_end)."""
    t = data[pos]
    pos += 1
    if t & 0x20:
        if pos + 2 > end:
            raise DecodeError("TLV identifier truncated")
        ident = (data[pos] << 8) | data[pos + 1]
        pos += 2
    else:
        if pos >= end:
            raise DecodeError("TLV identifier truncated")
        ident = data[pos]
        pos += 1
    lbytes = (t >> 3) & 3
    if lbytes == 0:
        length = t & 7
    else:
        if pos + lbytes > end:
            raise DecodeError("TLV length truncated")
        length = 0
        for k in range(lbytes):
            length = (length << 8) | data[pos + k]
        pos += lbytes
    if pos + length > end:
        raise DecodeError("TLV value overruns its container")
    return t >> 6, ident, pos, pos + length


def _decode_value(data, start, end, typ):
    n = end - start
    if typ == T_STRING or typ == T_CORELNK:
        try:
            return bytes(data[start:end]).decode("utf-8")
        except UnicodeError:
            raise DecodeError("TLV string is not UTF-8")
    if typ == T_INTEGER or typ == T_TIME or typ == T_UNSIGNED:
        if n != 1 and n != 2 and n != 4 and n != 8:
            raise DecodeError("TLV integer of %d bytes" % n)
        v = 0
        for k in range(start, end):
            v = (v << 8) | data[k]
        if typ != T_UNSIGNED and data[start] & 0x80:
            v -= 1 << (8 * n)
        return v
    if typ == T_FLOAT:
        if n == 4:
            return struct.unpack(">f", bytes(data[start:end]))[0]
        if n == 8:
            return check_double(data, start, struct.unpack(">d", bytes(data[start:end]))[0])
        raise DecodeError("TLV float of %d bytes" % n)
    if typ == T_BOOLEAN:
        if n != 1 or data[start] > 1:
            raise DecodeError("TLV boolean must be one byte 0 or 1")
        return data[start] == 1
    if typ == T_OBJLNK:
        if n != 4:
            raise DecodeError("TLV objlnk of %d bytes" % n)
        oid = (data[start] << 8) | data[start + 1]
        return Objlnk(oid, (data[start + 2] << 8) | data[start + 3])
    # Opaque, and resources whose type is unknown or valueless: the raw bytes.
    return bytes(data[start:end])


def _type(type_of, path):
    return None if type_of is None else type_of(path)


def _decode_instances(data, pos, end, rpath, type_of, out):
    """Resource Instance TLVs of the resource ``rpath``."""
    typ = _type(type_of, rpath)
    while pos < end:
        kind, ident, start, stop = _read_header(data, pos, end)
        if kind != RESOURCE_INSTANCE:
            raise DecodeError("only Resource Instance TLVs may appear here")
        out.append((rpath + (ident,), _decode_value(data, start, stop, typ)))
        pos = stop


def _decode_resources(data, pos, end, ipath, type_of, out):
    """Resource and Multiple Resource TLVs of the object instance ``ipath``."""
    while pos < end:
        kind, ident, start, stop = _read_header(data, pos, end)
        rpath = ipath + (ident,)
        if kind == RESOURCE:
            out.append((rpath, _decode_value(data, start, stop, _type(type_of, rpath))))
        elif kind == MULTIPLE_RESOURCE:
            if start == stop:
                out.append((rpath, None))
            else:
                _decode_instances(data, start, stop, rpath, type_of, out)
        else:
            raise DecodeError("only Resource TLVs may appear here")
        pos = stop


def _top_level(data):
    # Every top-level TLV must be of one level; the first says which. Resource and
    # Multiple Resource TLVs are the same level.
    kind = data[0] >> 6
    return MULTIPLE_RESOURCE if kind == RESOURCE else kind


def decode(data, base=(), type_of=None):
    """Decode a TLV body addressed to ``base``; return a list of ``(path, value)``.

    Paths come from the TLV identifiers where the body carries them and from ``base``
    where it does not: base ``(3,)`` takes Object Instance TLVs; ``(3, 0)`` takes
    Object Instance TLVs or Resource TLVs; ``(3, 0, r)`` takes Resource TLVs or bare
    Resource Instance TLVs of ``r``; ``(3, 0, r, ri)`` takes Resource Instance TLVs.
    The caller checks that the paths lie under the request's path (a Create handler
    passes ``(oid, new_iid)`` to accept a body with or without the instance TLV).
    An empty Multiple Resource TLV decodes to ``(path3, None)``.
    """
    try:
        mv = memoryview(data)
        end = len(mv)
        out = []
        if end == 0:
            return out
        nb = len(base)
        kind = _top_level(mv)
        if kind == OBJECT_INSTANCE and 1 <= nb <= 2:
            pos = 0
            while pos < end:
                k, iid, start, stop = _read_header(mv, pos, end)
                if k != OBJECT_INSTANCE:
                    raise DecodeError("mixed TLV levels at the top")
                _decode_resources(mv, start, stop, (base[0], iid), type_of, out)
                pos = stop
        elif kind == MULTIPLE_RESOURCE and 2 <= nb <= 3:
            _decode_resources(mv, 0, end, base[:2], type_of, out)
        elif kind == RESOURCE_INSTANCE and nb >= 3:
            _decode_instances(mv, 0, end, base[:3], type_of, out)
        else:
            raise DecodeError("TLV level does not fit the path %r" % (base,))
        return out
    except (IndexError, ValueError):
        # Every read is bounds-checked above; this keeps the "only DecodeError" promise
        # should a check ever be missed.
        raise DecodeError("malformed TLV")
