from typing import Sequence

from lwm2m_client.core._typing import Link, Path, ReadableBuffer, WritableBuffer
from lwm2m_client.core.client.dm_handler import Reply
from lwm2m_client.core.coap.message import Message
from lwm2m_client.core.dm.tree import ObjectTree

SECURITY: int
SERVER: int
ACCESS: int
DEVICE: tuple[int, int]
OSCORE: int
READABLE: tuple[int, ...]
PACK_FORMATS: tuple[int, ...]

class BootstrapHandler:
    strict: bool
    tree: ObjectTree
    body_buf: WritableBuffer
    formats: Sequence[int] | None
    preferred_format: int | None
    def __init__(self, tree: ObjectTree, body_buf: WritableBuffer,
                 formats: Sequence[int] | None = None,
                 preferred_format: int | None = None) -> None: ...
    def op_name(self, msg: Message) -> str: ...
    def handle(self, msg: Message, version: str, payload: ReadableBuffer) -> Reply: ...

def bootstrap_links(tree: ObjectTree, path: Path, version: str) -> list[Link]: ...
def bootstrap_account(tree: ObjectTree) -> int | None: ...
def kept_instances(tree: ObjectTree) -> list[tuple[int, int]]: ...
def bootstrap_delete(tree: ObjectTree, path: Path) -> list[tuple[int, int]]: ...
def apply_pack(tree: ObjectTree, cf: int, payload: ReadableBuffer,
               formats: Sequence[int] | None = None) -> str | None: ...
def check_configuration(tree: ObjectTree) -> str | None: ...
