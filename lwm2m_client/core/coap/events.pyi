from typing import Any, ClassVar

from lwm2m_client.core.coap.message import Message

class Event:
    FIELDS: ClassVar[tuple[str, ...]]
    __hash__: ClassVar[None]  # type: ignore[assignment]
    def __init__(self, *values: Any) -> None: ...
    def __eq__(self, other: object) -> bool: ...
    def __ne__(self, other: object) -> bool: ...

# Addresses are opaque to the core: whatever the adapter passed in.
class RequestReceived(Event):
    msg: Message
    addr: Any
    def __init__(self, msg: Message, addr: Any) -> None: ...

class ResponseReceived(Event):
    token: bytes
    msg: Message
    addr: Any
    def __init__(self, token: bytes, msg: Message, addr: Any) -> None: ...

class RequestTimedOut(Event):
    token: bytes
    addr: Any
    def __init__(self, token: bytes, addr: Any) -> None: ...

class Reset(Event):
    token: bytes
    addr: Any
    def __init__(self, token: bytes, addr: Any) -> None: ...

class Acknowledged(Event):
    token: bytes
    addr: Any
    def __init__(self, token: bytes, addr: Any) -> None: ...
