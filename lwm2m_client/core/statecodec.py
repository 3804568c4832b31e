"""Plain data <-> bytes for state a meter keeps across restarts (CBOR, RFC 8949).

What the persistence layer (:mod:`lwm2m_client.persist`) stores is bytes; what the
client wants to keep is plain data: server accounts, registration state, observations,
counters. This codec turns one into the other with the core's own CBOR writers and
reader (:mod:`lwm2m_client.core.content.cbor`), so a snapshot is readable by any CBOR
tool (``cbor2``, ``cbor.me``) and nothing new has to be trusted on the device.

Supported values:

- ``None``, ``True``/``False``, ``float`` (the shortest of half, single or double that
  keeps the value, RFC 8949 section 4.2.2), ``str``, ``bytes``/``bytearray``/
  ``memoryview`` (read back as ``bytes``);
- ``int`` of any size: major types 0/1 up to 64 bits, beyond that the bignum tags 2 and
  3 (RFC 8949 section 3.4.3);
- ``list`` and ``tuple`` (both read back as ``list``);
- ``dict`` whose keys are ``str`` or ``int`` of up to 64 bits (not ``bool``), in the
  dict's own order.

Nesting is limited to :data:`MAX_DEPTH` levels of containers (the reader's limit, so
whatever :func:`dumps` writes, :func:`loads` reads). Anything else is a misuse of the
API and raises :class:`~lwm2m_client.core.errors.UsageError` at once; :func:`loads`
raises only :class:`~lwm2m_client.core.errors.DecodeError`, whatever the bytes.

Core module: no I/O, MicroPython-safe (DESIGN.md section 3, rules 1 and 7).
"""

from lwm2m_client.core.content import cbor as _cbor
from lwm2m_client.core.errors import BufferFull, DecodeError, UsageError

MAX_DEPTH = _cbor.MAX_DEPTH
TAG_POS_BIGNUM = 2  # RFC 8949 section 3.4.3
TAG_NEG_BIGNUM = 3
DEFAULT_LIMIT = 65536

_UINT64_LIMIT = 1 << 64


def dump_into(buf, pos, value):
    """Write ``value`` at ``buf[pos]`` (a ``bytearray`` or ``memoryview``) and return the
    position after it. Raises :class:`BufferFull` when it does not fit (the bytes from
    ``pos`` on are then undefined) and :class:`UsageError` for a value it cannot carry.
    A meter that keeps one preallocated buffer for its snapshots calls this directly."""
    return _dump(buf, pos, value, 0)


def dumps(value, limit=DEFAULT_LIMIT):
    """``value`` as CBOR bytes. Raises :class:`UsageError` for a value it cannot carry
    and :class:`BufferFull` when the encoding takes more than ``limit`` bytes."""
    size = 64
    while True:
        buf = bytearray(min(size, limit))
        try:
            end = _dump(buf, 0, value, 0)
        except BufferFull:
            if size >= limit:
                raise BufferFull("state takes more than %d bytes" % limit)
            size *= 4
            continue
        return bytes(buf[:end])


def loads(data):
    """The plain value encoded by :func:`dumps` (or by any CBOR encoder, as long as it
    uses only the items listed in the module's docstring)."""
    return _plain(_cbor.loads(data))


def _bignum_bytes(n):
    # int.bit_length is missing on MicroPython: count the bytes by shifting.
    count = 0
    m = n
    while m:
        m >>= 8
        count += 1
    return n.to_bytes(count, "big")


def _dump(buf, pos, value, depth):
    if value is None:
        return _cbor.write_null(buf, pos)
    if value is True or value is False:
        return _cbor.write_bool(buf, pos, value)
    t = type(value)
    if t is int:
        if -_UINT64_LIMIT <= value < _UINT64_LIMIT:
            return _cbor.write_int(buf, pos, value)
        _check_depth(depth)
        if value >= 0:
            pos = _cbor.write_head(buf, pos, _cbor.M_TAG, TAG_POS_BIGNUM)
            return _cbor.write_bytes(buf, pos, _bignum_bytes(value))
        pos = _cbor.write_head(buf, pos, _cbor.M_TAG, TAG_NEG_BIGNUM)
        return _cbor.write_bytes(buf, pos, _bignum_bytes(-1 - value))
    if t is str:
        return _cbor.write_text(buf, pos, value)
    if t is float:
        return _cbor.write_float(buf, pos, value)
    if t is bytes or t is bytearray or t is memoryview:
        return _cbor.write_bytes(buf, pos, value)
    if t is list or t is tuple:
        _check_depth(depth)
        pos = _cbor.write_head(buf, pos, _cbor.M_ARRAY, len(value))
        for item in value:
            pos = _dump(buf, pos, item, depth + 1)
        return pos
    if t is dict:
        _check_depth(depth)
        pos = _cbor.write_head(buf, pos, _cbor.M_MAP, len(value))
        for key, item in value.items():
            kt = type(key)
            if kt is int and -_UINT64_LIMIT <= key < _UINT64_LIMIT:
                pos = _cbor.write_int(buf, pos, key)
            elif kt is str:
                pos = _cbor.write_text(buf, pos, key)
            else:
                raise UsageError("state dict key %r: only str and 64-bit int keys" % (key,))
            pos = _dump(buf, pos, item, depth + 1)
        return pos
    raise UsageError("state value of type %s cannot be stored" % t.__name__)


def _check_depth(depth):
    if depth >= MAX_DEPTH:
        raise UsageError("state nested deeper than %d levels" % MAX_DEPTH)


def _plain(value):
    """Check that a decoded item is plain data; bignum tags become ints."""
    t = type(value)
    if t is list:
        for i in range(len(value)):
            item = value[i]
            if type(item) in _CONTAINERS:
                value[i] = _plain(item)
        return value
    if t is dict:
        for key in value:
            kt = type(key)
            if kt is not int and kt is not str:
                raise DecodeError("state map key is neither int nor str")
            item = value[key]
            if type(item) in _CONTAINERS:
                value[key] = _plain(item)
        return value
    if t is _cbor.Tag:
        if (value.tag == TAG_POS_BIGNUM or value.tag == TAG_NEG_BIGNUM) and type(
                value.value) is bytes:
            n = int.from_bytes(value.value, "big")
            return n if value.tag == TAG_POS_BIGNUM else -1 - n
        raise DecodeError("CBOR tag %d in state" % value.tag)
    return value


# Types whose items _plain has to look into (a Tag may stand for a bignum).
_CONTAINERS = (list, dict, _cbor.Tag)
