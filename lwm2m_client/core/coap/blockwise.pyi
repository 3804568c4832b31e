from typing import Any

from lwm2m_client.core._typing import ReadableBuffer, Sink
from lwm2m_client.core.coap.message import Message

CONTINUE: int
DONE: int
FAILED: int

def etag_of(body: ReadableBuffer) -> bytes: ...
def serve_block2(request: Message, response: Message, body: ReadableBuffer, szx: int,
                 etag: bytes | None = None) -> bool: ...

class Block1Receiver:
    max_size: int
    szx: int
    lifetime_ms: int
    def __init__(self, max_size: int, szx: int = 6, lifetime_ms: int = 247000) -> None: ...
    @property
    def active(self) -> bool: ...
    def reset(self) -> None: ...
    def receive(self, request: Message, addr: Any, now_ms: int, response: Message,
                sink: Sink) -> int: ...

class Block1Sender:
    body: memoryview
    szx: int
    offset: int
    def __init__(self, body: ReadableBuffer, szx: int = 6) -> None: ...
    def fill(self, request: Message) -> Message: ...
    def on_response(self, response: Message) -> int: ...

class Block2Receiver:
    szx: int
    max_size: int
    offset: int
    etag: bytes | None
    def __init__(self, szx: int = 6, max_size: int = ...) -> None: ...
    def fill(self, request: Message) -> Message: ...
    def on_response(self, response: Message, sink: Sink) -> int: ...
