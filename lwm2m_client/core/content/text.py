"""Plain text, content format 0 (LwM2M Core 1.1 section 7.4.1 and Appendix C).

Plain text carries exactly one value: a single-instance resource or one resource
instance. Anything else is refused with 4.06 Not Acceptable (Core 1.1 section 7.4.1).

Rendering by type (Appendix C): String and Corelnk as UTF-8 text; Integer, Unsigned
Integer and Time in decimal; Float as the shortest decimal that reads back as the same
float at the interpreter's precision, shaped like Python's ``repr`` (``230.1``, and
exponent form such as ``6.667e-11`` for small and large magnitudes; both that form and
``0.00000000006667`` are accepted on input, see
:mod:`~lwm2m_client.core.content.floats` for single-precision MicroPython); Boolean
``0``/``1``; Opaque in Base64 (standard alphabet, padded); Objlnk as ``oid:iid``.
"""

from lwm2m_client.core.buffer import Writer
from lwm2m_client.core.content.b64 import b64decode, write_b64
from lwm2m_client.core.content.floats import SINGLE, float_text, parse_decimal
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

_DIGITS = "0123456789"


def single_record(records, base):
    """Return the one record a single-value format can carry, else raise NotAcceptable.

    A 4-level record read through a 3-level ``base`` is a multiple resource that
    happens to have one instance: still not a single value. Opaque uses this too.
    """
    one = None
    for rec in records:
        if one is not None:
            raise NotAcceptable("a single-value format carries one resource value")
        one = rec
    if one is None or one[2] is None or (len(one[0]) == 4 and len(base) < 4):
        raise NotAcceptable("a single-value format carries one resource value")
    return one


def _float_text(value):
    if value != value or value in (float("inf"), float("-inf")):
        # Appendix C defines Float in plain text as a decimal number.
        raise NotAcceptable("plain text has no form for %r" % value)
    return float_text(value)


def encode_into(buf, records, base=()):
    """Write the one value of ``records`` as plain text; return the byte count."""
    path, typ, value = single_record(records, base)[:3]
    w = Writer(buf)
    if typ == T_STRING or typ == T_CORELNK:
        w.text(value)
    elif typ == T_INTEGER or typ == T_TIME or typ == T_UNSIGNED:
        w.text("%d" % value)
    elif typ == T_FLOAT:
        w.text(_float_text(value))
    elif typ == T_BOOLEAN:
        w.byte(0x31 if value else 0x30)
    elif typ == T_OPAQUE:
        write_b64(w, value)
    elif typ == T_OBJLNK:
        w.text("%d:%d" % (value.oid, value.iid))
    else:
        raise NotAcceptable("plain text cannot carry type %r" % typ)
    return w.pos


def _all_digits(text):
    if not text:
        return False
    for c in text:
        if c not in _DIGITS:
            return False
    return True


def _parse_int(text, low, high):
    # Python's int() also takes spaces, "+" and "_" separators; the format does not.
    digits = text[1:] if text[:1] == "-" else text
    if not _all_digits(digits):
        raise DecodeError("not a decimal integer")
    value = int(text)
    if not (low <= value <= high):
        raise DecodeError("integer out of range")
    return value


def _parse_float(text):
    # decimal = ["-"] digits ["." digits] [("e"|"E") ["+"|"-"] digits], where either
    # side of the point may be empty but not both.
    mant = text
    exp = ""
    for k in range(len(text)):
        if text[k] in "eE":
            mant = text[:k]
            exp = text[k + 1:]
            if exp[:1] in ("+", "-"):
                exp = exp[1:]
            if not _all_digits(exp):
                raise DecodeError("bad float exponent")
            break
    if mant[:1] == "-":
        mant = mant[1:]
    whole = mant
    frac = ""
    dot = mant.find(".")
    if dot >= 0:
        whole = mant[:dot]
        frac = mant[dot + 1:]
    if not (whole or frac) or (whole and not _all_digits(whole)) or (
        frac and not _all_digits(frac)
    ):
        raise DecodeError("not a decimal number")
    value = parse_decimal(text)
    if SINGLE and value - value != 0.0:
        raise DecodeError("decimal number beyond the single-precision range")
    return value


def decode(data, base=(), type_of=None):
    """Decode a plain-text body addressed to the resource (instance) ``base``.

    Returns ``[(base, value)]`` typed by ``type_of(base[:3])``; with no type known the
    value is the ``str``.
    """
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeError:
        raise DecodeError("plain text is not UTF-8")
    typ = None if type_of is None else type_of(base[:3])
    if typ is None or typ == T_STRING or typ == T_CORELNK:
        value = text
    elif typ == T_INTEGER or typ == T_TIME:
        value = _parse_int(text, INT64_MIN, INT64_MAX)
    elif typ == T_UNSIGNED:
        value = _parse_int(text, 0, UINT64_MAX)
    elif typ == T_FLOAT:
        value = _parse_float(text)
    elif typ == T_BOOLEAN:
        if text != "0" and text != "1":
            raise DecodeError("plain-text boolean must be 0 or 1")
        value = text == "1"
    elif typ == T_OPAQUE:
        value = b64decode(text)
    elif typ == T_OBJLNK:
        value = _parse_objlnk(text)
    else:
        raise DecodeError("plain text cannot carry type %r" % typ)
    return [(base, value)]


def _parse_objlnk(text):
    if text.upper() == "FFFF:FFFF":  # the spec's own spelling of the null link
        return Objlnk(0xFFFF, 0xFFFF)
    colon = text.find(":")
    oid = text[:colon]
    iid = text[colon + 1:]
    # Five digits at most keeps int() cheap; the range check follows.
    if colon < 0 or not (_all_digits(oid) and _all_digits(iid)) or len(oid) > 5 or len(iid) > 5:
        raise DecodeError("object link must be oid:iid")
    oid = int(oid)
    iid = int(iid)
    if oid > 0xFFFF or iid > 0xFFFF:
        raise DecodeError("object link out of range")
    return Objlnk(oid, iid)
