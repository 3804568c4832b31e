"""Base64 (RFC 4648) for the content formats, without binascii.

Plain text carries Opaque values in Base64 (LwM2M Core 1.1 Appendix C) and SenML JSON
carries ``vd`` in base64url (RFC 8428 section 4.3); the MicroPython ports do not all
ship ``binascii``, so the core has its own small codec.

Encoding chooses the alphabet (standard ``+/`` or URL-safe ``-_``, RFC 4648 sections 4
and 5) and whether to pad. Decoding is liberal, because the spec's own examples mix the
alphabets: either alphabet, padded or unpadded input. Anything
else -- whitespace, a stray ``=``, an impossible length -- is a DecodeError.
"""

from lwm2m_client.core.buffer import Writer
from lwm2m_client.core.errors import DecodeError

_STD = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_URL = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_PAD = 0x3D  # "="
_BAD = 0xFF


def _decode_table():
    # One 256-entry table accepting both alphabets: "+" and "-" are 62, "/" and "_" 63.
    table = bytearray(b"\xff" * 256)
    for i in range(64):
        table[_STD[i]] = i
        table[_URL[i]] = i
    return table


_TABLE = _decode_table()


def encoded_length(n, pad=True):
    """Number of characters the Base64 form of ``n`` bytes takes."""
    if pad:
        return (n + 2) // 3 * 4
    return (n * 4 + 2) // 3


def write_b64(w, data, url=False, pad=True):
    """Write the Base64 form of ``data`` through the Writer ``w`` (ASCII bytes).

    Checks the room once, then fills the buffer directly: no intermediate string.
    """
    alphabet = _URL if url else _STD
    n = len(data)
    size = encoded_length(n, pad)
    w.room(size)
    buf = w.buf
    o = w.pos
    full = n - n % 3
    i = 0
    while i < full:
        v = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2]
        buf[o] = alphabet[v >> 18]
        buf[o + 1] = alphabet[(v >> 12) & 63]
        buf[o + 2] = alphabet[(v >> 6) & 63]
        buf[o + 3] = alphabet[v & 63]
        i += 3
        o += 4
    rest = n - full
    if rest:
        v = data[i] << 16
        if rest == 2:
            v |= data[i + 1] << 8
        buf[o] = alphabet[v >> 18]
        buf[o + 1] = alphabet[(v >> 12) & 63]
        o += 2
        if rest == 2:
            buf[o] = alphabet[(v >> 6) & 63]
            o += 1
        if pad:
            while o < w.pos + size:
                buf[o] = _PAD
                o += 1
    w.pos = o
    return size


def b64encode(data, url=False, pad=True):
    """Return the Base64 form of ``data`` as ``str``."""
    buf = bytearray(encoded_length(len(data), pad))
    write_b64(Writer(buf), data, url, pad)
    return buf.decode("ascii")


def b64decode(text):
    """Decode Base64 ``text`` (``str`` or bytes-like) in either alphabet, with or
    without padding. Raises DecodeError for anything else."""
    if isinstance(text, str):
        try:
            text = text.encode("ascii")
        except UnicodeError:
            raise DecodeError("non-ASCII character in Base64")
    n = len(text)
    # Padding, if any, completes the last quantum to 4 characters (RFC 4648 section 3.2).
    end = n
    while end > 0 and text[end - 1] == _PAD:
        end -= 1
    if end < n and (n % 4 or n - end > 2):
        raise DecodeError("bad Base64 padding")
    if end % 4 == 1:
        raise DecodeError("bad Base64 length")
    out = bytearray(end * 3 // 4)
    table = _TABLE
    o = 0
    acc = 0
    bits = 0
    for i in range(end):
        v = table[text[i]]
        if v == _BAD:
            raise DecodeError("bad Base64 character")
        acc = ((acc << 6) | v) & 0xFFFFFF
        bits += 6
        if bits >= 8:
            bits -= 8
            out[o] = (acc >> bits) & 0xFF
            o += 1
    return bytes(out)
