from typing import Sequence

from lwm2m_client.core.buffer import ReadableBuffer, WritableBuffer
from lwm2m_client.core.content import Item, Record, TypeOf
from lwm2m_client.core.dm.path import Path

def encode_into(buf: WritableBuffer, records: Sequence[Record], base: Path = ()) -> int: ...
def decode(data: ReadableBuffer, base: Path = (), type_of: TypeOf | None = None) -> list[Item]: ...
