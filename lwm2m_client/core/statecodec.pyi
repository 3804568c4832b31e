from typing import Any

from lwm2m_client.core._typing import ReadableBuffer, WritableBuffer

MAX_DEPTH: int
TAG_POS_BIGNUM: int
TAG_NEG_BIGNUM: int
DEFAULT_LIMIT: int

# A value dumps() takes: None, bool, int, float, str, bytes-like, list/tuple of values,
# dict with int or str keys (checked at run time, not spelled out as a recursive type).
def dump_into(buf: WritableBuffer, pos: int, value: Any) -> int: ...
def dumps(value: Any, limit: int = ...) -> bytes: ...
# What loads() returns: None, bool, int, float, str, bytes, list or dict of those.
def loads(data: ReadableBuffer) -> Any: ...
