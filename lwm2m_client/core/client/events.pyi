from typing import ClassVar

class Event:
    fields: ClassVar[tuple[str, ...]]
    __hash__: ClassVar[None]  # type: ignore[assignment]
    def __eq__(self, other: object) -> bool: ...

class Registered(Event):
    ssid: int
    location: list[str] | None
    version: str | None
    def __init__(self, ssid: int, location: list[str] | None,
                 version: str | None = None) -> None: ...

class VersionFallback(Event):
    ssid: int
    refused: str
    version: str
    code: int
    def __init__(self, ssid: int, refused: str, version: str, code: int) -> None: ...

class AddressNeeded(Event):
    ssid: int
    uri: str
    def __init__(self, ssid: int, uri: str) -> None: ...

class RegistrationUpdated(Event):
    ssid: int
    def __init__(self, ssid: int) -> None: ...

class RegistrationFailed(Event):
    ssid: int
    code: int | None
    bootstrap: bool
    def __init__(self, ssid: int, code: int | None, bootstrap: bool) -> None: ...

class Deregistered(Event):
    ssid: int
    disabled: bool
    def __init__(self, ssid: int, disabled: bool = False) -> None: ...

class OperationPerformed(Event):
    ssid: int
    # The operation name ("read", "write", "execute" ...), the request's Uri-Path as
    # "/3/0" ("?" when it is not UTF-8) and the response code as "2.05".
    op: str
    path: str
    code: str
    def __init__(self, ssid: int, op: str, path: str, code: str) -> None: ...

class Sent(Event):
    ssid: int
    code: int | None
    def __init__(self, ssid: int, code: int | None) -> None: ...
    @property
    def ok(self) -> bool: ...

class WentToSleep(Event):
    ssid: int
    def __init__(self, ssid: int) -> None: ...

class WokeUp(Event):
    ssid: int
    def __init__(self, ssid: int) -> None: ...

class NotificationsDropped(Event):
    ssid: int
    reason: str
    count: int
    total: int
    def __init__(self, ssid: int, reason: str, count: int, total: int) -> None: ...

class BootstrapStarted(Event):
    attempt: int
    def __init__(self, attempt: int) -> None: ...

class BootstrapFinished(Event): ...

class BootstrapFailed(Event):
    code: int | None
    retry_ms: int
    def __init__(self, code: int | None, retry_ms: int) -> None: ...

class BootstrapRefused(Event):
    reason: str
    def __init__(self, reason: str) -> None: ...
