from typing import Protocol, Sequence

from lwm2m_client.core.buffer import ReadableBuffer, WritableBuffer
from lwm2m_client.core.content import Item, Record, TimedItem, TypeOf
from lwm2m_client.core.dm.path import Path

class Codec(Protocol):
    """What every content format module offers (see content/__init__.py)."""

    def encode_into(self, buf: WritableBuffer, records: Sequence[Record],
                    base: Path = ...) -> int: ...
    def decode(self, data: ReadableBuffer, base: Path = ...,
               type_of: TypeOf | None = ...) -> list[Item]: ...

class PathListCodec(Codec, Protocol):
    """The SenML formats also carry timed records (Send) and path lists (Composite)."""

    def decode_timed(self, data: ReadableBuffer, base: Path = ...,
                     type_of: TypeOf | None = ...) -> list[TimedItem]: ...
    def decode_paths(self, data: ReadableBuffer) -> list[Path]: ...

CODECS: dict[int, Codec]
PATH_LIST_CODECS: dict[int, PathListCodec]
UNTYPED: tuple[int, ...]
HIERARCHICAL: tuple[int, ...]

def codec(cf: int) -> Codec | None: ...
def default_format(version: str) -> int: ...
