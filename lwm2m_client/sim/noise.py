"""Deterministic noise indexed by time: the same (key, stream, index) always gives the
same number, whatever was drawn before.

Readings are computed when they are read, at any time and in any order, so their
randomness cannot come from a generator whose state depends on the draws before. A
meter draws its fixed parameters (peak demand, initial registers) from
``random.Random(seed)`` once; everything that varies with time (the load of an hour,
the ripple of ten seconds, a boiler's run in a quarter hour) hashes the meter's key, a
stream number and the index of the time interval. The hash is SplitMix64's finaliser:
a few integer operations, well mixed in every bit.
"""

from __future__ import annotations

_MASK = (1 << 64) - 1
_TWO64 = float(1 << 64)


def mix(key: int, stream: int, index: int) -> int:
    """A 64-bit hash of the three integers (any sign)."""
    x = (key ^ (stream * 0x9E3779B97F4A7C15) ^ (index * 0xD1B54A32D192ED03)) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def unit(key: int, stream: int, index: int) -> float:
    """Uniform in [0, 1)."""
    return mix(key, stream, index) / _TWO64


def signed(key: int, stream: int, index: int) -> float:
    """Uniform in [-1, 1)."""
    return 2.0 * mix(key, stream, index) / _TWO64 - 1.0


def bell(key: int, stream: int, index: int) -> float:
    """Roughly normal with mean 0 and standard deviation 1, within +-3.5: the sum of the
    hash's four 16-bit parts (an Irwin-Hall sum), centred and scaled."""
    x = mix(key, stream, index)
    total = (x & 0xFFFF) + ((x >> 16) & 0xFFFF) + ((x >> 32) & 0xFFFF) + (x >> 48)
    # Four uniforms on [0, 1) have mean 2 and variance 4/12.
    return (total / 65536.0 - 2.0) * 1.7320508075688772
