"""The float precision of the interpreter, and floats as decimal text, for every codec.

MicroPython ports are built with either double (``MICROPY_FLOAT_IMPL_DOUBLE``: unix,
WebAssembly) or single precision floats (``MICROPY_FLOAT_IMPL_FLOAT``: ESP32, RP2, STM32
and most other microcontroller ports). :data:`SINGLE` says which, found once at import:
2**-30 vanishes next to 1.0 only with a 24-bit mantissa.

What MicroPython 1.28 does, found by experiment on the unix port built both ways (32-bit;
the single build with ``-DMICROPY_FLOAT_IMPL=MICROPY_FLOAT_IMPL_FLOAT``):

- Single build, formatting: ``repr``, ``str`` and ``%r`` agree and give short text for
  ordinary values (``230.1``, ``0.1``, ``1e-07``, ``0.33333334``), but not always text
  that reads back as the same single (about 1 value in 200 between -1e5 and 1e5), and
  wrong digits for subnormals (``repr(2.0 ** -149)`` is ``2.44318106e-44``, ``%.4g``
  of it ``0.496e-44``) and near the top of the range (``3.4028236e+38`` for the largest
  single, above it). ``%.{n}g`` may give fewer than n digits.
- Single build, ``float()`` of text (so float literals too) is not correctly rounded:
  about 1 in 11 texts of 8 or 9 digits reads back one unit in the last place off, e.g.
  ``230.10000610351562`` (the single 230.1 as a double server prints it) gives the single
  below 230.1, and short literals with larger exponents such as ``6.667e-11`` miss too;
  up to 7 digits with decimal exponents from about -8 to +7 come out right.
- Single build, ``struct``: ``pack(">f")`` writes the value exactly, ``pack(">d")`` widens
  it exactly (the low 29 mantissa bits are zero), ``unpack(">d")`` rounds a double to the
  nearest single, to ``inf`` beyond the single range and to 0.0 below it. Literals round
  the same way: ``1e300`` is ``inf``, ``2.5e-300`` is ``0.0``.
- Double build: ``repr`` reads back as the same double but is not always the shortest
  such text (``repr(556.416)`` is ``556.4160000000001``, ``repr(5e-324)``
  ``4.940656458412465e-324``, about 1 value in 20); ``float()`` was off for 2 texts in
  20000.

Hence: floats become text through :func:`shortest_text`, exact integer arithmetic on the
float's bits, unless ``repr`` is known to be shortest already (CPython); on a single
build text becomes a float through :func:`parse_decimal`, exact as well. A float written
by the core and read back by it is the same float, and a correctly rounding peer reads
the float the device holds.
"""

from struct import pack, unpack

from lwm2m_client.core.errors import DecodeError

SINGLE = (1.0 + 2.0 ** -30) == 1.0
# Whether repr is the shortest text that reads back as the same double (CPython); the
# two probes are where MicroPython's double-precision repr is not (see above).
_REPR_SHORTEST = not SINGLE and repr(556.416) == "556.416" and repr(2.0 ** -1074) == "5e-324"


def fits_single(value):
    """Whether ``value`` survives a round trip through an IEEE-754 binary32: always on a
    single-precision interpreter, where every float is one (NaN included)."""
    if SINGLE:
        return True
    try:
        b = pack(">f", value)
    except OverflowError:  # CPython refuses values beyond binary32's range
        return False
    return unpack(">f", b)[0] == value


def check_double(data, pos, value):
    """``value``, just unpacked from the big-endian double at ``data[pos]``; on a
    single-precision interpreter a finite double beyond the single range became
    infinity, which is refused: the device cannot hold the number."""
    if SINGLE and value - value != 0.0 and (data[pos] & 0x7F != 0x7F or data[pos + 1] < 0xF0):
        raise DecodeError("64-bit float beyond the single-precision range")
    return value


def parse_decimal(text):
    """The float nearest to the decimal ``text``, already checked to be
    ``[-]digits[.digits][(e|E)[+|-]digits]`` (either side of the point may be empty).
    ``float()`` on a double interpreter; on a single-precision one exact integer
    arithmetic (``float()`` there is often one unit in the last place off), which gives
    infinity beyond the single range as ``float()`` does."""
    if not SINGLE:
        return float(text)
    neg, d, n, q = _decimal(text, 120)
    bits = _nearest(d, n, q, False)
    return unpack(">f", pack(">I", bits | (0x80000000 if neg else 0)))[0]


def double_bits(text):
    """The bits of the IEEE 754 binary64 nearest to the decimal ``text`` (grammar as for
    :func:`parse_decimal`), ties to even, infinity beyond the range: what a server's
    ``float()`` makes of the text. Exact integer arithmetic, so a single-precision
    interpreter can name a double it cannot hold."""
    neg, d, n, q = _decimal(text, 780)
    return _nearest(d, n, q, True) | (1 << 63 if neg else 0)


def single_as_double(value):
    """For the binary32 ``value``: the bits of the binary64 a server should read, the
    one nearest its shortest text (``230.1`` for the single nearest 230.1, which as a
    double is 230.10000610351562), or -1 when that double is the single's own value
    (``230.0``, ``0.5``, zeros) or ``value`` is no finite number. A single-precision
    interpreter's binary encoders send these bits as a double rather than the single,
    so the server sees the number the device means (IEEE 754 binary64)."""
    if value - value != 0.0:
        return -1
    bits = double_bits(shortest_text(value, True))
    return -1 if bits == unpack(">Q", pack(">d", value))[0] else bits


def _decimal(text, max_digits):
    """``(negative, d, n, q)`` for the decimal ``text`` equal to ``d * 10**q`` (of the
    sign), ``d`` of ``n`` digits without leading zeros, cut to ``max_digits``: past that
    many, digits cannot move the result off a halfway point between two floats (whose
    decimal expansions are shorter: at most 113 significant digits between singles,
    767 between doubles); a nonzero tail still tips it."""
    neg = text[:1] == "-"
    if neg:
        text = text[1:]
    q = 0
    for k in range(len(text)):
        if text[k] in "eE":
            q = int(text[k + 1:])
            text = text[:k]
            break
    dot = text.find(".")
    if dot >= 0:
        q -= len(text) - dot - 1
        text = text[:dot] + text[dot + 1:]
    text = text.lstrip("0")
    n = len(text)
    if n > max_digits:
        tail = text[max_digits:].strip("0")
        q += n - max_digits
        text = text[:max_digits]
        if tail:
            text += "1"
            q -= 1
        n = len(text)
    return neg, int(text) if n else 0, n, q


def _nearest(d, n, q, double):
    """The binary64 (``double``) or binary32 bits, without sign, nearest to
    ``d * 10**q``, ``d`` of ``n`` digits; ties to even (IEEE 754 roundTiesToEven)."""
    if double:
        mbits, emin, emax, low, high, inf = 52, -1074, 971, -324, 309, 0x7FF << 52
    else:
        mbits, emin, emax, low, high, inf = 23, -149, 104, -45, 39, 0x7F800000
    top = n + q  # 10**(top-1) <= value < 10**top
    if d == 0 or top < low:  # under half the smallest subnormal
        return 0
    if top > high:  # over the largest finite float
        return inf
    p = d
    r = 1
    if q >= 0:
        p *= 10 ** q
    else:
        r = 10 ** -q
    # e such that 2**mbits <= value / 2**e < 2**(mbits+1), estimated (log2(10) ~
    # 217706 / 2**16) and corrected exactly; no lower than emin, the subnormals' scale.
    e = (((top - 1) * 217706) >> 16) - mbits
    if e < emin:
        e = emin
    while True:
        a, b = _scaled(p, r, e)
        if a >= b << (mbits + 1):
            e += 1
        elif a < b << mbits and e > emin:
            e -= 1
        else:
            break
    m = a // b
    rest = a - m * b
    if 2 * rest > b or (2 * rest == b and m & 1):
        m += 1
        if m == 1 << (mbits + 1):
            m >>= 1
            e += 1
    if e > emax:
        return inf
    if m < 1 << mbits:
        return m  # subnormal: e is emin
    return ((e - emin + 1) << mbits) | (m - (1 << mbits))


def _scaled(p, r, e):
    """``(a, b)`` with ``a / b == p / r / 2**e``."""
    if e >= 0:
        return p, r << e
    return p << -e, r


def float_text(value):
    """The shortest decimal text that reads back as ``value`` at the interpreter's
    precision, shaped like CPython's ``repr``: ``230.1``, ``5.0``, ``1e-07``,
    ``3.4e+38``, ``-0.0``; ``nan``, ``inf``, ``-inf`` for the rest (callers that cannot
    carry them refuse them first)."""
    if _REPR_SHORTEST:
        return repr(value)
    return shortest_text(value, SINGLE)


def shortest_text(value, single):
    """The shortest decimal that rounds to ``value`` as an IEEE-754 binary32
    (``single``) or binary64, the nearest to it among those, written like ``repr``.

    Exact: the value is ``m * 2**e`` from its bits, the numbers that round to it lie
    strictly within half a gap of it (on the gap itself when ``m`` is even: ties go to
    the even mantissa), and for 1, 2, ... significant digits the nearest decimal is
    tested against that interval in integers. 9 digits always do for binary32, 17 for
    binary64.
    """
    if single:
        bits = int.from_bytes(pack(">f", value), "big")
        mbits, emask, shift, emin, ndig = 23, 0xFF, 150, -149, 9
    else:
        bits = int.from_bytes(pack(">d", value), "big")
        mbits, emask, shift, emin, ndig = 52, 0x7FF, 1075, -1074, 17
    sign = "-" if bits >> (31 if single else 63) else ""
    exp = (bits >> mbits) & emask
    m = bits & ((1 << mbits) - 1)
    if exp == emask:
        return "nan" if m else sign + "inf"
    if exp == 0:
        if m == 0:
            return sign + "0.0"
        e = emin
    else:
        m |= 1 << mbits
        e = exp - shift
    # Below a power of two the next float down is only half a gap away.
    narrow = m == 1 << mbits and exp > 1
    even = not m & 1  # a tie rounds to the even mantissa, so the bounds belong to it
    # k: the decimal exponent of the leading digit, estimated from the binary one
    # (log10(2) ~ 78913 / 2**18), then corrected exactly.
    k = ((e + (mbits + 1 if exp else _bit_length(m)) - 1) * 78913) >> 18
    p, q = _ratio(e, 0)  # value == m * p / q
    while m * p * _pow10(-k - 1) >= q * _pow10(k + 1):
        k += 1
    while m * p * _pow10(-k) < q * _pow10(k):
        k -= 1
    # value * 10**s == m * p / q, where s = n - 1 - k leaves n digits before the point;
    # each further digit multiplies p or divides q (then a multiple of 10) by 10.
    s = -k
    p, q = _ratio(e, s)
    n = 1
    while True:
        mp = m * p
        d, r = divmod(2 * mp + q, 2 * q)  # the nearest n-digit decimal is d / 10**s
        if r == 0 and d & 1:
            d -= 1  # halfway between two decimals: the even one, as repr picks
        # t: twice the distance from the value to d * 10**-s, in units in which half
        # the gap to the next float is p (p / 2 below, when narrow).
        t = 2 * (d * q - mp)
        if t >= 0:
            if t < p or (even and t == p):
                break
        elif narrow:
            if -2 * t < p or (even and -2 * t == p):
                break
            t += 2 * q  # the decimal above may fit where the nearer one below does not
            if t < p or (even and t == p):
                d += 1
                break
        elif -t < p or (even and -t == p):
            break
        if n >= ndig:
            break
        n += 1
        s += 1
        if s > 0:
            p *= 10
        else:
            q //= 10
    return sign + _repr_shape(d, s)


def _ratio(e, s):
    """``(p, q)`` with ``2**e * 10**s == p / q``, both positive integers."""
    p = 1
    q = 1
    if e >= 0:
        p <<= e
    else:
        q <<= -e
    if s >= 0:
        p *= _pow10(s)
    else:
        q *= _pow10(-s)
    return p, q


def _pow10(n):
    return 10 ** n if n > 0 else 1


def _bit_length(m):
    n = 0
    while m:
        m >>= 1
        n += 1
    return n


def _repr_shape(d, s):
    """``d * 10**-s`` as ``repr`` writes a float: positional for decimal exponents -4 to
    15, else ``<digit>[.<digits>]e<sign><two or more digits>``."""
    digits = "%d" % d
    x = len(digits) - 1 - s  # decimal exponent of the leading digit
    digits = digits.rstrip("0")
    if -4 <= x < 16:
        if x < 0:
            return "0." + "0" * (-x - 1) + digits
        whole = digits[:x + 1]
        if len(whole) < x + 1:
            whole += "0" * (x + 1 - len(whole))
        return whole + "." + (digits[x + 1:] or "0")
    mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return "%se%s%02d" % (mant, "-" if x < 0 else "+", x if x >= 0 else -x)
