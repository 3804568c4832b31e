from typing import Sequence

from lwm2m_client.core._typing import Item, Path, ReadableBuffer, Record, TypeOf, WritableBuffer

def encode_into(buf: WritableBuffer, records: Sequence[Record], base: Path = ()) -> int: ...
def decode(data: ReadableBuffer, base: Path = (), type_of: TypeOf | None = None) -> list[Item]: ...

OBJECT_INSTANCE: int
RESOURCE_INSTANCE: int
MULTIPLE_RESOURCE: int
RESOURCE: int
MAX_LENGTH: int
