"""SenML CBOR, Content-Format 112 (RFC 8428 section 6; LwM2M Core 1.2 section 7.4.7).

Also SenML-ETCH CBOR (322, RFC 8790) for composite requests: :func:`decode` returns
``(path, None)`` for a null value and :func:`decode_paths` reads the path lists of
Read-Composite and Observe-Composite. Naming, time and decoding rules are in
:mod:`lwm2m_client.core.content.senml_common`.

Labels are the RFC 8428 integers (bn -2, n 0, v 2, vs 3, vb 4, t 6, vd 8), except
``vlo`` (Objlnk), which LwM2M defines as a text key in CBOR too. Integers, Unsigned and
Time are CBOR integers; a Float is the shortest CBOR float that keeps its value (on a
single-precision interpreter the double its shortest text means unless a half or a
single is exactly that, see cbor.write_float).
"""

from struct import pack_into

from lwm2m_client.core.content import cbor
from lwm2m_client.core.content import senml_common as _sc
from lwm2m_client.core.dm import types as _t
from lwm2m_client.core.errors import BufferFull, DecodeError, NotAcceptable

_VLO_KEY = b"\x63vlo"


def encode_into(buf, records, base=()):
    count, bn, strip = _sc.plan(records, base)
    try:
        return _encode(buf, records, count, bn, strip)
    except IndexError:
        # Single bytes are stored without a bounds check: past the end of the buffer
        # the store raises IndexError (bytearray and memoryview alike). Multi-byte
        # writes check first, since a bytearray slice store would grow the buffer.
        raise BufferFull("SenML CBOR needs more than %d bytes" % len(buf))


def _encode(buf, records, count, bn, strip):
    end = len(buf)
    write_float = cbor.write_float
    write_int = cbor.write_int
    write_text = cbor.write_text
    T_FLOAT = _t.T_FLOAT
    T_INTEGER = _t.T_INTEGER
    T_UNSIGNED = _t.T_UNSIGNED
    T_TIME = _t.T_TIME
    one_id = strip + 1 if strip else -1  # the path length whose n is one ID under bn
    names = None  # a _Names, made for the first name that needs one
    pos = cbor.write_head(buf, 0, cbor.M_ARRAY, count)
    for rec in records:
        if len(rec) == 3:
            path, typ, value = rec
            t = None
        else:
            path, typ, value, t = rec[0], rec[1], rec[2], rec[3]
        if value is None:
            continue  # an empty multiple resource has no SenML record
        if (typ == T_FLOAT and t is None and bn is None and len(path) == one_id
                and 0 <= path[strip] < 100 and pos + 15 <= end and not value - value):
            # Most records of an instance read, {n: "<rid>", v: <finite Float>}: the
            # whole map in one pack_into, with the value as a double.
            rid = path[strip]
            if rid < 10:
                pack_into(">BBBBBBd", buf, pos, 0xA2, 0x00, 0x61, 0x30 + rid,
                          0x02, 0xFB, value)
                pos += 14
            else:
                pack_into(">BBBBBBBd", buf, pos, 0xA2, 0x00, 0x62, 0x30 + rid // 10,
                          0x30 + rid % 10, 0x02, 0xFB, value)
                pos += 15
            # A double keeps the value when a fraction bit below single precision is
            # set (cbor.write_float); otherwise write the shorter float over it.
            if not (buf[pos - 1] or buf[pos - 2] or buf[pos - 3] or buf[pos - 4] & 0x1F):
                pos = write_float(buf, pos - 9, value)
            continue
        # Any other record: a map of 1 to 4 pairs, bn (first record only), n, the
        # value, t; n is the part of the path bn does not cover (senml_common.plan).
        rest = len(path) - strip
        head = 0xA1 if t is None else 0xA2
        if rest or not strip:
            head += 1
        if bn is not None:
            buf[pos] = head + 1
            buf[pos + 1] = 0x21  # bn
            pos = write_text(buf, pos + 2, bn)
            bn = None
        else:
            buf[pos] = head
            pos += 1
        if rest == 1 and strip and 0 <= path[strip] < 100:
            # A resource (or instance) ID under bn: one or two ASCII digits.
            rid = path[strip]
            buf[pos] = 0x00  # n
            if rid < 10:
                buf[pos + 1] = 0x61
                buf[pos + 2] = 0x30 + rid
                pos += 3
            else:
                buf[pos + 1] = 0x62
                buf[pos + 2] = 0x30 + rid // 10
                buf[pos + 3] = 0x30 + rid % 10
                pos += 4
        elif rest or not strip:
            if names is None:
                names = _Names(strip)
            name = names.of(path)
            ln = len(name)  # ASCII digits and slashes: one byte per character
            buf[pos] = 0x00  # n
            if ln < 24 and pos + 2 + ln <= end:
                buf[pos + 1] = 0x60 | ln
                buf[pos + 2:pos + 2 + ln] = name.encode()
                pos += 2 + ln
            else:
                pos = write_text(buf, pos + 1, name)
        if typ == T_FLOAT:
            if value - value:  # NaN or infinity
                _sc.check_float(value)
            buf[pos] = 0x02  # v
            pos = write_float(buf, pos + 1, value)
        elif typ == T_INTEGER or typ == T_UNSIGNED or typ == T_TIME:
            buf[pos] = 0x02  # v
            if 0 <= value < 24:
                buf[pos + 1] = value
                pos += 2
            else:
                pos = write_int(buf, pos + 1, value)
        elif typ == _t.T_STRING or typ == _t.T_CORELNK:
            buf[pos] = 0x03  # vs
            pos = write_text(buf, pos + 1, value)
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
            pos = write_text(buf, pos + 4, str(value))
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


class _Names:
    """Record names beyond a lone ID under bn, for one encoding call. Consecutive
    records usually share everything but their last ID (the instances of a multiple
    resource, the resources of one instance in a composite read or a Send), so the
    text up to that ID is kept from the record before."""

    def __init__(self, strip):
        self.strip = strip
        self.parent = None
        self.text = ""

    def of(self, path):
        strip = self.strip
        if len(path) - strip < 2:
            return _sc.name_of(path, strip)  # no ID before the last one to share
        parent = path[:-1]
        if parent != self.parent:
            self.parent = parent
            self.text = _sc.name_of(parent, strip) + "/"
        return self.text + str(path[-1])


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
