"""Type aliases and protocols for annotating code that uses the core.

This module exists for type checkers only (there is no ``_typing.py``): import from it
under ``if typing.TYPE_CHECKING:`` or in quoted annotations, e.g.::

    from typing import TYPE_CHECKING
    if TYPE_CHECKING:
        from lwm2m_client.core._typing import Path
"""

from typing import Any, Callable, Mapping, Protocol, Sequence, TypeAlias

from lwm2m_client.core.client.events import Event
from lwm2m_client.core.client.registration import RegRequest
from lwm2m_client.core.dm.types import Objlnk

# -- values -------------------------------------------------------------------------

# A path /oid/iid/rid/riid as 0 to 4 ids: () the root, (3,) an object, (3, 0) an
# instance, (3, 0, 1) a resource, (3, 0, 6, 0) a resource instance.
Path: TypeAlias = tuple[int, ...]
# What the core reads (any bytes-like object) and the fixed buffers encoders write into.
ReadableBuffer: TypeAlias = bytes | bytearray | memoryview
WritableBuffer: TypeAlias = bytearray | memoryview
# The value of a resource or resource instance (Opaque may be given as any bytes-like
# object; it is stored as bytes), and that or ``riid -> value`` for a multiple resource.
Value: TypeAlias = str | int | float | bool | bytes | bytearray | memoryview | Objlnk
ResourceValue: TypeAlias = Value | Mapping[int, Value]
# A transport address, opaque to the core: whatever the adapter passes in (e.g. a
# (host, port) tuple); the core only compares addresses for equality.
Addr: TypeAlias = Any


class Rng(Protocol):
    """The injected random source (``random.Random`` fits)."""

    def getrandbits(self, k: int, /) -> int: ...


# -- CoAP ---------------------------------------------------------------------------

# A Block1/Block2 value (NUM, M, SZX), RFC 7959 section 2.2.
Block: TypeAlias = tuple[int, bool, int]
# An option value for Message.add_option()/set_option(): bytes, a str (UTF-8) or a uint.
OptionValue: TypeAlias = bytes | bytearray | memoryview | str | int
# ``sink(offset, chunk)`` takes one block of a block-wise body.
Sink: TypeAlias = Callable[[int, ReadableBuffer], object]

# -- content formats (conventions: content/__init__.py) -----------------------------

# A record to encode: (path, T_* type code, value); SenML also takes a time in seconds.
Record: TypeAlias = tuple[Path, int, Any]
TimedRecord: TypeAlias = tuple[Path, int, Any, int | float | None]
# A decoded item: (path, value); a value None means "no value".
Item: TypeAlias = tuple[Path, Any]
TimedItem: TypeAlias = tuple[Path, Any, int | float | None]
# ``type_of(path)``: the T_* code of a resource path, or None when unknown.
TypeOf: TypeAlias = Callable[[Path], int | None]
# A link to encode, ``(target, [(name, value)])``; a value None is a bare ``;name``.
LinkParam: TypeAlias = tuple[str, str | int | float | None]
Link: TypeAlias = tuple[Path | str, Sequence[LinkParam]]


class Codec(Protocol):
    """What every content format module offers (content/__init__.py)."""

    def encode_into(self, buf: WritableBuffer, records: Sequence[Record],
                    base: Path = ...) -> int: ...
    def decode(self, data: ReadableBuffer, base: Path = ...,
               type_of: TypeOf | None = ...) -> list[Item]: ...


class PathListCodec(Codec, Protocol):
    """The SenML formats also carry timed records (Send) and path lists (Composite)."""

    def decode_timed(self, data: ReadableBuffer, base: Path = ...,
                     type_of: TypeOf | None = ...) -> list[TimedItem]: ...
    def decode_paths(self, data: ReadableBuffer) -> list[Path]: ...


# -- data model hooks (rules: dm/tree.py) -------------------------------------------

# A parsed Execute argument list, ``[(digit, value or None)]``.
ExecArgs: TypeAlias = list[tuple[int, str | None]]
# A resource hook's path ``(oid, iid, rid)``, ``iid`` None for every instance.
HookPath: TypeAlias = tuple[int, int | None, int]
ReadHook: TypeAlias = Callable[[Path], ResourceValue]
ExecuteHook: TypeAlias = Callable[[Path, ExecArgs], object]
# ``value``: the new value, None when removed, a dict riid -> value for a multiple one.
WriteHook: TypeAlias = Callable[[Path, Any], object]
CreateHook: TypeAlias = Callable[[Path, dict[int, Any]], object]
DeleteHook: TypeAlias = Callable[[Path], object]

# -- client -------------------------------------------------------------------------

# Attribute name -> value (int for pmin, pmax, epmin, epmax, hqmax, edge, con; float
# for gt, lt, st); None in a parsed query unsets the name.
Attributes: TypeAlias = dict[str, int | float]
ParsedQuery: TypeAlias = dict[str, int | float | None]
# A server account as read from /0 and /1: (ssid, uri, security_iid, server_iid).
AccountEntry: TypeAlias = tuple[int, str, int, int]
# What a registration state machine's driving call returns, in order.
RegOutput: TypeAlias = list[RegRequest | Event]
