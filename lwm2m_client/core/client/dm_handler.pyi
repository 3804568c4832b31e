from typing import Any, Sequence

from lwm2m_client.core._typing import Path, ReadableBuffer, Record, WritableBuffer
from lwm2m_client.core.client.attributes import AttributeStore
from lwm2m_client.core.coap.message import Message
from lwm2m_client.core.dm.tree import ObjectTree

PROTECTED_OBJECTS: tuple[int, ...]

class Reply:
    op: str
    code: int
    cf: int | None
    body: memoryview | None
    location: list[str] | None
    objects_changed: bool
    paths: tuple[Path, ...] | None
    def __init__(self, op: str, code: int, cf: int | None = None,
                 body: memoryview | None = None, location: list[str] | None = None) -> None: ...

class DMHandler:
    strict: bool
    tree: ObjectTree
    body_buf: WritableBuffer
    preferred_format: int | None
    formats: Sequence[int] | None
    def __init__(self, tree: ObjectTree, attributes: AttributeStore | None,
                 body_buf: WritableBuffer, preferred_format: int | None = None,
                 formats: Sequence[int] | None = None) -> None: ...
    @property
    def attributes(self) -> AttributeStore: ...
    def op_name(self, msg: Message) -> str: ...
    def handle(self, msg: Message, ssid: int, version: str,
               payload: ReadableBuffer) -> Reply: ...
    def access_control(self) -> Any: ...
    def read_records(self, path: Path, ssid: int | None = None) -> list[Record]: ...
    def notification(self, path: Path, cf: int | None,
                     ssid: int | None = None) -> tuple[int, memoryview | None]: ...
