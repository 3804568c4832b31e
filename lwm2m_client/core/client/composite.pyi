from lwm2m_client.core._typing import Path, ReadableBuffer
from lwm2m_client.core.client.dm_handler import DMHandler, Reply
from lwm2m_client.core.coap.message import Message

def read_composite(handler: DMHandler, msg: Message, path: Path, payload: ReadableBuffer,
                   version: str) -> Reply: ...
def write_composite(handler: DMHandler, msg: Message, path: Path,
                    payload: ReadableBuffer) -> Reply: ...
