from typing import Sequence

from lwm2m_client.core._typing import (
                Item,
                Path,
                ReadableBuffer,
                Record,
                TimedItem,
                TimedRecord,
                TypeOf,
                WritableBuffer,
)

FIELDS: dict[str, int]

def encode_into(buf: WritableBuffer, records: Sequence[Record | TimedRecord],
                base: Path = ()) -> int: ...
def decode(data: ReadableBuffer, base: Path = (), type_of: TypeOf | None = None) -> list[Item]: ...
def decode_timed(data: ReadableBuffer, base: Path = (),
                 type_of: TypeOf | None = None) -> list[TimedItem]: ...
def decode_paths(data: ReadableBuffer) -> list[Path]: ...
