"""A single value as plain CBOR, Content-Format 60 (LwM2M Core 1.2 section 7.4.3).

The body is one CBOR data item holding the value of one resource or resource
instance: text for String and Corelnk, integers for Integer, Unsigned and Time, the
shortest exact float for Float, a byte string for Opaque, ``"oid:iid"`` text for
Objlnk. Time is written as a plain integer; on input it may also be a tag 0 date-time
string or a tag 1 epoch number (C1.2 App. C, RFC 8949 section 3.4).
"""

from lwm2m_client.core.content import cbor
from lwm2m_client.core.content import senml_common as _sc
from lwm2m_client.core.errors import DecodeError, NotAcceptable


def encode_into(buf, records, base=()):
    if len(records) != 1 or records[0][2] is None:
        raise NotAcceptable("CBOR (60) carries exactly one value")
    rec = records[0]
    return cbor.write_value(buf, 0, rec[1], rec[2])


def decode(data, base=(), type_of=None):
    """``[(base, value)]``: the value belongs to the request path ``base``."""
    if not 3 <= len(base) <= 4:
        raise DecodeError("a single CBOR value needs a resource path")
    value = cbor.loads(data)
    if isinstance(value, cbor.Tag):
        value = time_value(value)
    t = type(value)
    if not (t is int or t is float or t is str or t is bytes or t is bool):
        raise DecodeError("CBOR (60) item is not a single value")
    if type_of is not None:
        typ = type_of(tuple(base[:3]))
        if typ is not None:
            value = _sc.apply_type(value, typ)
    return [(tuple(base), value)]


def epoch_from_rfc3339(text):
    """Seconds since the epoch for an RFC 3339 date-time (CBOR tag 0), e.g.
    ``"2013-03-21T20:04:00Z"``; fractional seconds are dropped. Raises DecodeError."""
    try:
        if len(text) < 20 or text[4] != "-" or text[7] != "-" or text[10] not in "Tt" \
                or text[13] != ":" or text[16] != ":":
            raise ValueError
        year = _digits(text, 0, 4)
        month = _digits(text, 5, 2)
        day = _digits(text, 8, 2)
        secs = _digits(text, 11, 2) * 3600 + _digits(text, 14, 2) * 60 + _digits(text, 17, 2)
        i = 19
        if text[i] == ".":
            i += 1
            while i < len(text) and text[i].isdigit():
                i += 1
        zone = text[i:]
        if zone in ("Z", "z"):
            offset = 0
        elif len(zone) == 6 and zone[0] in "+-" and zone[3] == ":":
            offset = _digits(zone, 1, 2) * 3600 + _digits(zone, 4, 2) * 60
            if zone[0] == "-":
                offset = -offset
        else:
            raise ValueError
        if not (1 <= month <= 12 and 1 <= day <= 31):
            raise ValueError
    except (ValueError, IndexError, TypeError):
        raise DecodeError("bad RFC 3339 date-time")
    return _days_from_civil(year, month, day) * 86400 + secs - offset


def _digits(text, start, n):
    part = text[start:start + n]
    if len(part) != n or not all("0" <= c <= "9" for c in part):
        raise ValueError
    return int(part)


def _days_from_civil(y, m, d):
    # Days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's algorithm).
    if m <= 2:
        y -= 1
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + 9 if m <= 2 else m - 3) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def time_value(item):
    """An LwM2M Time from tag 0 or tag 1 (LwM2M Core 1.2 App. C; RFC 8949 section 3.4);
    fractional epoch seconds are truncated. Any other tag raises DecodeError."""
    value = item.value
    if item.tag == cbor.TAG_DATETIME and type(value) is str:
        return epoch_from_rfc3339(value)
    if item.tag == cbor.TAG_EPOCH:
        if type(value) is int:
            return value
        if type(value) is float and -1e19 < value < 1e19:  # finite and within int64
            return int(value)
    raise DecodeError("unsupported CBOR tag %d" % item.tag)
