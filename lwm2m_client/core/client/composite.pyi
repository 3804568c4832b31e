from typing import Sequence

from lwm2m_client.core._typing import Path, ReadableBuffer, Record
from lwm2m_client.core.client.dm_handler import DMHandler, Reply
from lwm2m_client.core.coap.message import Message

def read_composite(handler: DMHandler, msg: Message, path: Path, payload: ReadableBuffer,
                   version: str, ssid: int | None = None) -> Reply: ...
def write_composite(handler: DMHandler, msg: Message, path: Path,
                    payload: ReadableBuffer, ssid: int | None = None) -> Reply: ...
def gather(handler: DMHandler, targets: Sequence[Path],
           ssid: int | None = None) -> list[Record]: ...
def notification(handler: DMHandler, targets: Sequence[Path], cf: int | None,
                 ssid: int | None = None) -> tuple[int, memoryview | None]: ...
