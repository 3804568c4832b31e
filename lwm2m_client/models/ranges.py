"""Turn the free-form <RangeEnumeration> text of an OMA object XML into a checkable Range.

The schema (LWM2M-v1_1.xsd) types <RangeEnumeration> as a plain string, and the registry
uses it in many ways: ``0..255``, ``1...15``, ``0-100``, ``-1..1``, ``0.0..1.0``, byte
lengths (``0..255 bytes``, ``32 bytes``), enumerations (``0,1,2``, ``16,32,48``,
``10 or 26 Bytes``), labelled value lists (``0: RELEASED`` on one line each) and prose.
:func:`parse_range` never raises: whatever it cannot read with confidence becomes a
``"text"`` range, which accepts every value (LwM2M Core 1.2 §7.1 leaves the range
informative for the client; the server is the one that must respect it).
"""

from __future__ import annotations

import re

from lwm2m_client.core.dm import types as t
from lwm2m_client.core.dm.model import Range

_NUM = r"[-+]?\d+(?:\.\d+)?"
_NUM_RE = re.compile(rf"^{_NUM}$")
# "a..b", "a...b", "a-b" (a hyphen between two numbers; "-110..-48" has its own signs).
_INTERVAL_RE = re.compile(rf"^({_NUM})\s*(?:\.{{2,3}}|-)\s*({_NUM})$")
# A trailing unit that makes the numbers a length ("0..255 bytes", "1..64 Bytes").
_LENGTH_SUFFIX_RE = re.compile(r"\s*(?:bytes?|characters?|chars?)$", re.IGNORECASE)
_ENUM_SEP_RE = re.compile(r"\s*(?:,|;|\bor\b)\s*", re.IGNORECASE)
# One "value: label" or "value = label" per line, as several sensor objects list them.
_LABEL_LINE_RE = re.compile(rf"^({_NUM})\s*[:=]\s*\S")

# Types whose range is a length in bytes (String and Corelnk: UTF-8 bytes).
_LENGTH_TYPES = (t.T_STRING, t.T_OPAQUE, t.T_CORELNK)
_INTEGER_TYPES = (t.T_INTEGER, t.T_UNSIGNED, t.T_TIME)


def _number(text: str) -> int | float:
    return float(text) if "." in text else int(text)


def _numbers_of(text: str) -> tuple[str, list[int | float] | None]:
    """Classify ``text`` as ("interval", [lo, hi]), ("enum", values), ("single", [n]),
    or ("", None) when it is not made of numbers."""
    m = _INTERVAL_RE.match(text)
    if m:
        return "interval", [_number(m.group(1)), _number(m.group(2))]
    if _NUM_RE.match(text):
        return "single", [_number(text)]
    parts = [p for p in _ENUM_SEP_RE.split(text) if p]
    if len(parts) > 1 and all(_NUM_RE.match(p) for p in parts):
        return "enum", [_number(p) for p in parts]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > 1:
        matches = [_LABEL_LINE_RE.match(line) for line in lines]
        if all(matches):
            return "enum", [_number(m.group(1)) for m in matches if m]
    return "", None


def _for_type(typ: int, value: int | float) -> int | float:
    """The bound as the Python type of ``typ``."""
    if typ == t.T_FLOAT:
        return float(value)
    if isinstance(value, float):
        # An integer resource with a non-integral bound ("3.8") is kept as a float so
        # the comparison stays exact; an integral one ("100.0") becomes an int.
        return int(value) if value == int(value) else value
    return value


def parse_range(text: str | None, typ: int) -> Range | None:
    """The Range for a <RangeEnumeration> ``text`` of a resource of type ``typ``.

    Returns None for an empty range. Numbers on numeric types give ``"num"`` (ints for
    the integer types, floats for Float) or ``"enum"``; numbers on String/Opaque, or any
    numbers followed by "bytes", give a ``"len"`` range; everything else is ``"text"``.
    """
    if text is None:
        return None
    original = text.strip()
    if not original:
        return None
    body = original
    is_length = False
    m = _LENGTH_SUFFIX_RE.search(body)
    if m and m.start() > 0:
        body = body[: m.start()].strip()
        is_length = True
    shape, values = _numbers_of(body)
    if values is None:
        return Range("text", text=original)
    if is_length or typ in _LENGTH_TYPES:
        return _length_range(shape, values, original)
    if typ == t.T_FLOAT or typ in _INTEGER_TYPES:
        return _numeric_range(shape, values, typ, original)
    # Boolean, Objlnk, executable: numbers there have no meaning we could check.
    return Range("text", text=original)


def _length_range(shape: str, values: list[int | float], original: str) -> Range:
    if any(isinstance(v, float) or v < 0 for v in values):
        return Range("text", text=original)
    ints = [int(v) for v in values]
    if shape == "single":
        # "32 bytes", "15" on an IMSI: a maximum length in every registry use.
        return Range("len", 0, ints[0], text=original)
    # An enumeration of allowed lengths ("16,32,48") is kept as its bounds: Range has
    # no "set of lengths" kind and the bounds never reject a listed length.
    return Range("len", min(ints), max(ints), text=original)


def _numeric_range(shape: str, values: list[int | float], typ: int, original: str) -> Range:
    if shape == "single":
        # "255" alone: a maximum, or the one allowed value? The registry means both.
        return Range("text", text=original)
    converted = [_for_type(typ, v) for v in values]
    if shape == "enum":
        return Range("enum", values=tuple(converted), text=original)
    lo, hi = converted
    if lo > hi:
        lo, hi = hi, lo  # "-30..-120": written high to low
    return Range("num", lo, hi, text=original)
