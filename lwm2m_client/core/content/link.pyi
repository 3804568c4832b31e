from typing import Sequence, TypeAlias

from lwm2m_client.core.buffer import ReadableBuffer, WritableBuffer
from lwm2m_client.core.dm.path import Path

# For annotations only: a link to encode, ``(target, [(name, value)])``; a value None
# is a bare ``;name``.
LinkParam: TypeAlias = tuple[str, str | int | float | None]
Link: TypeAlias = tuple[Path | str, Sequence[LinkParam]]

def needs_quotes(text: str) -> bool: ...
def encode_links(buf: WritableBuffer, links: Sequence[Link]) -> int: ...
def decode_links(data: str | ReadableBuffer) -> list[tuple[str, dict[str, str | None]]]: ...
