"""Minimal CBOR (RFC 8949) for the LwM2M content formats: writers and one robust reader.

Writers put one data item at ``buf[pos]`` of a caller-provided ``bytearray``/``memoryview``
and return the position after it; they raise :class:`BufferFull` when the item does not
fit, and never grow the buffer.

The reader :func:`loads` turns any bytes into Python values or raises
:class:`DecodeError`, nothing else:

- maps become ``dict``; an array used as a map key becomes a ``tuple`` (LwM2M CBOR path
  keys, LwM2M Core 1.2 section 7.4.4); duplicate keys are rejected (RFC 8949 section 5.6);
- tags become :class:`Tag`; a self-described CBOR tag (55799, RFC 8949 section 3.4.6) in
  front of the whole item is dropped; the formats accept only the tags they know;
- ``undefined`` and unassigned simple values are rejected: no LwM2M format carries them;
- nesting is limited to :data:`MAX_DEPTH` and every declared length or count is checked
  against the bytes left before anything is built, so a short header cannot make the
  reader allocate or loop beyond the size of its input.
"""

from struct import pack_into, unpack_from

from lwm2m_client.core.content.floats import SINGLE, check_double, single_as_double
from lwm2m_client.core.dm import types as _t
from lwm2m_client.core.errors import BufferFull, DecodeError, NotAcceptable

MAX_DEPTH = 16

# Major types (RFC 8949 section 3.1).
M_UINT = 0
M_NINT = 1
M_BYTES = 2
M_TEXT = 3
M_ARRAY = 4
M_MAP = 5
M_TAG = 6
M_SIMPLE = 7

TAG_DATETIME = 0  # RFC 3339 text (RFC 8949 section 3.4.1)
TAG_EPOCH = 1  # seconds since the epoch, int or float (section 3.4.2)
TAG_SELF_DESCRIBED = 55799

_UINT64_LIMIT = 1 << 64
_scratch = bytearray(8)  # float width analysis; the core is single-threaded


class Tag:
    """A tagged data item the reader does not interpret itself."""

    def __init__(self, tag, value):
        self.tag = tag
        self.value = value

    def __repr__(self):
        return "Tag(%d, %r)" % (self.tag, self.value)

    def __eq__(self, other):
        return isinstance(other, Tag) and self.tag == other.tag and self.value == other.value


def _full(buf, pos, n):
    raise BufferFull("CBOR item needs %d bytes, %d left" % (n, len(buf) - pos))


# ---------------------------------------------------------------------------- writers


def write_head(buf, pos, major, n):
    """Write an initial byte plus argument ``n`` in the shortest form (section 3)."""
    mt = major << 5
    if n < 24:
        if pos >= len(buf):
            _full(buf, pos, 1)
        buf[pos] = mt | n
        return pos + 1
    if n < 0x100:
        if pos + 2 > len(buf):
            _full(buf, pos, 2)
        buf[pos] = mt | 24
        buf[pos + 1] = n
        return pos + 2
    if n < 0x10000:
        size, ai = 2, 25
    elif n < 0x100000000:
        size, ai = 4, 26
    elif n < _UINT64_LIMIT:
        size, ai = 8, 27
    else:
        raise NotAcceptable("integer does not fit in 64 bits")
    return _put_head(buf, pos, mt | ai, n, size)


def _put_head(buf, pos, initial, value, size):
    """The initial byte, then ``value`` as ``size`` big-endian bytes (RFC 8949 3)."""
    end = pos + 1 + size
    if end > len(buf):
        _full(buf, pos, size + 1)
    buf[pos] = initial
    i = end - 1
    while i > pos:
        buf[i] = value & 0xFF
        value >>= 8
        i -= 1
    return end


def write_int(buf, pos, n):
    """Signed integer: major type 0, or 1 holding ``-1 - n`` (section 3.1)."""
    if n >= 0:
        return write_head(buf, pos, M_UINT, n)
    return write_head(buf, pos, M_NINT, -1 - n)


def _write_raw(buf, pos, major, data):
    n = len(data)
    pos = write_head(buf, pos, major, n)
    if pos + n > len(buf):
        _full(buf, pos, n)
    buf[pos:pos + n] = data
    return pos + n


def write_text(buf, pos, s):
    return _write_raw(buf, pos, M_TEXT, s.encode("utf-8"))


def write_bytes(buf, pos, data):
    return _write_raw(buf, pos, M_BYTES, data)


def write_bool(buf, pos, flag):
    if pos >= len(buf):
        _full(buf, pos, 1)
    buf[pos] = 0xF5 if flag else 0xF4
    return pos + 1


def write_null(buf, pos):
    if pos >= len(buf):
        _full(buf, pos, 1)
    buf[pos] = 0xF6
    return pos + 1


def _write_fixed(buf, pos, ai, bits, size):
    return _put_head(buf, pos, 0xE0 | ai, bits, size)


def write_float(buf, pos, f):
    """Write ``f`` in the shortest of half, single or double that keeps its exact value
    (RFC 8949 section 4.2.2 preferred serialization; NaN as the canonical half 0x7E00).
    Up to 9 bytes from ``pos`` may be written even when the item is shorter. On a
    single-precision interpreter (floats.SINGLE) that is a half or a single when that is
    the double nearest the float's shortest text, else that double
    (floats.single_as_double): 230.1 goes out as the double 230.1, not as the single
    nearest it, which a server would read as 230.10000610351562."""
    if SINGLE:
        return _write_float32(buf, pos, f)
    if pos + 9 <= len(buf):
        # The common case first, packed in place: a double that no shorter float holds
        # (a fraction bit below single precision is set, and it is no NaN or infinity).
        # Otherwise the shorter item below overwrites these bytes.
        pack_into(">Bd", buf, pos, 0xFB, f)
        if (buf[pos + 8] or buf[pos + 7] or buf[pos + 6] or buf[pos + 5] & 0x1F) and (
                buf[pos + 1] & 0x7F != 0x7F or buf[pos + 2] < 0xF0):
            return pos + 9
    s = _scratch
    pack_into(">d", s, 0, f)
    if (s[7] or s[6] or s[5] or s[4] & 0x1F) and (s[0] & 0x7F != 0x7F or s[1] < 0xF0):
        _full(buf, pos, 9)  # only a double keeps the value, and it does not fit
    bits = unpack_from(">Q", s, 0)[0]
    sign = bits >> 63
    exp = (bits >> 52) & 0x7FF
    frac = bits & 0xFFFFFFFFFFFFF
    if exp == 0x7FF:  # infinity or NaN
        return _write_fixed(buf, pos, 25, 0x7E00 if frac else (sign << 15) | 0x7C00, 2)
    if exp == 0:
        if frac == 0:  # signed zero
            return _write_fixed(buf, pos, 25, sign << 15, 2)
        return _write_fixed(buf, pos, 27, bits, 8)  # double subnormal
    e = exp - 1023
    full = frac | (1 << 52)
    if -14 <= e <= 15 and not frac & 0x3FFFFFFFFFF:
        return _write_fixed(buf, pos, 25, (sign << 15) | ((e + 15) << 10) | (frac >> 42), 2)
    if -24 <= e < -14:
        shift = 28 - e  # half subnormal: m * 2**-24
        if not full & ((1 << shift) - 1):
            return _write_fixed(buf, pos, 25, (sign << 15) | (full >> shift), 2)
    if -126 <= e <= 127:  # low 29 fraction bits are zero here
        return _write_fixed(buf, pos, 26, (sign << 31) | ((e + 127) << 23) | (frac >> 29), 4)
    if -149 <= e < -126:
        shift = -97 - e  # single subnormal: m * 2**-149
        if not full & ((1 << shift) - 1):
            return _write_fixed(buf, pos, 26, (sign << 31) | (full >> shift), 4)
    return _write_fixed(buf, pos, 27, bits, 8)


def _write_float32(buf, pos, f):
    # On a single-precision interpreter every float is a binary32: the double its
    # shortest text means when the single is not exactly that, else a half when that
    # keeps it, else the single itself (5 bytes). Only small ints are built below, since
    # MicroPython allocates for ints of 31 bits and more.
    bits = single_as_double(f)
    if bits >= 0:
        return _write_fixed(buf, pos, 27, bits, 8)
    if pos + 5 <= len(buf):
        s = buf
        i = pos + 1
        pack_into(">Bf", buf, pos, 0xFA, f)
    else:  # a half (3 bytes) may still fit
        s = _scratch
        i = 0
        pack_into(">f", s, 0, f)
    hi = (s[i] << 8) | s[i + 1]
    lo = (s[i + 2] << 8) | s[i + 3]
    sign = (hi >> 15) << 15
    exp = (hi >> 7) & 0xFF
    frac = ((hi & 0x7F) << 16) | lo
    half = -1
    if exp == 0xFF:  # infinity or NaN
        half = 0x7E00 if frac else sign | 0x7C00
    elif exp == 0:
        if frac == 0:  # signed zero; a single subnormal is far below any half
            half = sign
    else:
        e = exp - 127
        if -14 <= e <= 15:
            if not frac & 0x1FFF:
                half = sign | ((e + 15) << 10) | (frac >> 13)
        elif -24 <= e < -14:
            full = frac | 0x800000
            shift = -1 - e  # half subnormal: m * 2**-24
            if not full & ((1 << shift) - 1):
                half = sign | (full >> shift)
    if half >= 0:
        return _write_fixed(buf, pos, 25, half, 2)
    if s is _scratch:
        _full(buf, pos, 5)
    return pos + 5


def write_value(buf, pos, typ, value):
    """Write an LwM2M typed value as the CBOR item LwM2M Core 1.2 section 7.4.3/7.4.4
    maps it to: Objlnk as ``"oid:iid"`` text, Time as an integer, Float as a float."""
    if typ == _t.T_FLOAT:
        return write_float(buf, pos, float(value))
    if typ == _t.T_INTEGER or typ == _t.T_UNSIGNED or typ == _t.T_TIME:
        return write_int(buf, pos, value)
    if typ == _t.T_STRING or typ == _t.T_CORELNK:
        return write_text(buf, pos, value)
    if typ == _t.T_BOOLEAN:
        return write_bool(buf, pos, value)
    if typ == _t.T_OPAQUE:
        return write_bytes(buf, pos, value)
    if typ == _t.T_OBJLNK:
        return write_text(buf, pos, str(value))
    raise NotAcceptable("type %d has no CBOR value" % typ)


# ----------------------------------------------------------------------------- reader


def loads(data):
    """Decode exactly one data item filling all of ``data``."""
    try:
        data = bytes(data)
        value, pos = _item(data, 0, 0)
        if pos != len(data):
            raise DecodeError("trailing bytes after CBOR item")
    except (IndexError, ValueError, TypeError, KeyError, UnicodeError, OverflowError):
        raise DecodeError("malformed CBOR")
    if isinstance(value, Tag) and value.tag == TAG_SELF_DESCRIBED:
        value = value.value
    return value


def _argument(data, pos, ai):
    """Read the argument for additional info ``ai`` at ``pos``; return (n, pos)."""
    if ai < 24:
        return ai, pos
    if ai == 24:
        return data[pos], pos + 1
    if ai == 25:
        return (data[pos] << 8) | data[pos + 1], pos + 2
    if ai == 26:
        end = pos + 4
    elif ai == 27:
        end = pos + 8
    else:
        raise DecodeError("reserved or indefinite CBOR argument")
    if end > len(data):
        raise DecodeError("truncated CBOR argument")
    return int.from_bytes(data[pos:end], "big"), end


def _half(h):
    exp = (h >> 10) & 0x1F
    mant = h & 0x3FF
    if exp == 0:
        # mant * 2**-24, as a division by an exact constant: MicroPython's freezing
        # tool writes float constants with 16 digits, and 2**-24 needs 17.
        val = mant / 16777216.0
    elif exp == 31:
        val = float("nan") if mant else float("inf")
    else:
        val = (mant + 1024) * 2.0 ** (exp - 25)
    return -val if h & 0x8000 else val


def _item(data, pos, depth):
    ib = data[pos]
    pos += 1
    if ib < 24:  # the most common items first: small uints, then short text
        return ib, pos
    major = ib >> 5
    ai = ib & 0x1F
    if major == M_TEXT and ai < 24:
        end = pos + ai
        if end > len(data):
            raise DecodeError("CBOR string longer than its input")
        return data[pos:end].decode("utf-8"), end
    if major == M_SIMPLE:
        return _simple(data, pos, ai)
    if ai == 31:
        return _indefinite(data, pos, major, depth)
    n, pos = _argument(data, pos, ai)
    left = len(data) - pos
    if major == M_UINT:
        return n, pos
    if major == M_NINT:
        return -1 - n, pos
    if major == M_BYTES or major == M_TEXT:
        if n > left:
            raise DecodeError("CBOR string longer than its input")
        raw = data[pos:pos + n]
        return (raw.decode("utf-8") if major == M_TEXT else raw), pos + n
    if depth >= MAX_DEPTH:
        raise DecodeError("CBOR nested too deeply")
    depth += 1
    if major == M_ARRAY:
        if n > left:
            raise DecodeError("CBOR array longer than its input")
        items = []
        for _ in range(n):
            value, pos = _item(data, pos, depth)
            items.append(value)
        return items, pos
    if major == M_MAP:
        if 2 * n > left:
            raise DecodeError("CBOR map longer than its input")
        result = {}
        for _ in range(n):
            pos = _pair(data, pos, depth, result)
        return result, pos
    value, pos = _item(data, pos, depth)  # M_TAG
    return Tag(n, value), pos


def _simple(data, pos, ai):
    if ai == 20:
        return False, pos
    if ai == 21:
        return True, pos
    if ai == 22:
        return None, pos
    if ai == 25:
        return _half((data[pos] << 8) | data[pos + 1]), pos + 2
    if ai == 26 or ai == 27:
        size = 4 if ai == 26 else 8
        if pos + size > len(data):
            raise DecodeError("truncated CBOR float")
        if size == 4:
            return unpack_from(">f", data, pos)[0], pos + 4
        # On a single-precision interpreter a double becomes the nearest single.
        return check_double(data, pos, unpack_from(">d", data, pos)[0]), pos + 8
    if ai == 31:
        raise DecodeError("unexpected CBOR break")
    raise DecodeError("unsupported CBOR simple value")


def _pair(data, pos, depth, result):
    """Read one key/value pair of a map whose items sit at ``depth``."""
    key, pos = _item(data, pos, depth)
    if type(key) is list:
        key = tuple(key)
    if type(key) is dict or key in result:
        raise DecodeError("duplicate or unusable CBOR map key")
    result[key], pos = _item(data, pos, depth)
    return pos


def _indefinite(data, pos, major, depth):
    """Indefinite-length strings, arrays and maps, ended by a break (section 3.2)."""
    if major == M_BYTES or major == M_TEXT:
        chunks = []
        while data[pos] != 0xFF:
            ib = data[pos]
            if ib >> 5 != major or ib & 0x1F == 31:
                raise DecodeError("bad chunk in indefinite CBOR string")
            n, pos = _argument(data, pos + 1, ib & 0x1F)
            if pos + n > len(data):
                raise DecodeError("CBOR string longer than its input")
            chunks.append(data[pos:pos + n])
            pos += n
        raw = b"".join(chunks)
        return (raw.decode("utf-8") if major == M_TEXT else raw), pos + 1
    if depth >= MAX_DEPTH:
        raise DecodeError("CBOR nested too deeply")
    if major == M_ARRAY:
        items = []
        while data[pos] != 0xFF:
            value, pos = _item(data, pos, depth + 1)
            items.append(value)
        return items, pos + 1
    if major == M_MAP:
        result = {}
        while data[pos] != 0xFF:
            pos = _pair(data, pos, depth + 1, result)
        return result, pos + 1
    raise DecodeError("indefinite length on an integer or tag")
