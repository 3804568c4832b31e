from typing import ClassVar

from lwm2m_client.core._typing import RegOutput, Rng

POST: int
DELETE: int
VERSIONS: tuple[str, ...]

ST_IDLE: int
ST_INITIAL_DELAY: int
ST_REGISTERING: int
ST_REGISTERED: int
ST_UPDATING: int
ST_DEREGISTERING: int
ST_RETRY_WAIT: int
ST_DISABLED: int
ST_FAILED: int
ST_DEREGISTERED: int
STATE_NAMES: tuple[str, ...]

EV_START: int
EV_TIMER: int
EV_SUCCESS: int
EV_ERROR: int
EV_TIMEOUT: int
EV_UPDATE: int
EV_STOP: int
EV_DISABLE: int
EVENT_NAMES: tuple[str, ...]

TRANSITIONS: tuple[tuple[str | None, ...], ...]
MAX_TRANSMIT_WAIT_MS: int

class RegRequest:
    __hash__: ClassVar[None]  # type: ignore[assignment]
    method: int
    uri_path: list[str]
    uri_query: list[str]
    with_objects: bool
    version: str
    def __init__(self, method: int, uri_path: list[str], uri_query: list[str],
                 with_objects: bool, version: str) -> None: ...
    def __eq__(self, other: object) -> bool: ...


class ServerParams:
    ssid: int
    lifetime: int
    binding: str
    queue: bool
    initial_delay: int
    retry_count: int
    retry_timer: int
    sequence_delay: int
    sequence_retry_count: int
    bootstrap_on_failure: bool
    disable_timeout: int
    def __init__(self, ssid: int = 1, lifetime: int = 86400, binding: str = "U",
                 queue: bool = False, initial_delay: int = 0, retry_count: int = 5,
                 retry_timer: int = 60, sequence_delay: int = 86400,
                 sequence_retry_count: int = 1, bootstrap_on_failure: bool = True,
                 disable_timeout: int = 86400) -> None: ...

class Registration:
    params: ServerParams
    endpoint: str
    max_version: str
    version: str
    rng: Rng | None
    jitter: float
    max_transmit_wait_ms: int
    state: int
    location: list[str] | None
    deadline: int | None
    attempt: int
    sequence: int
    last_code: int | None
    disabling: bool
    stopping: bool
    registered_once: bool
    sent_lifetime: int | None
    sent_binding: str | None
    sent_queue: bool | None
    objects_changed: bool
    update_pending: bool
    def __init__(self, params: ServerParams, endpoint: str, version: str = "1.1",
                 rng: Rng | None = None, jitter: float = 0.1,
                 max_transmit_wait_ms: int = ...) -> None: ...
    def handle(self, event: int, now_ms: int, code: int | None = None,
               location: list[str] | None = None) -> RegOutput: ...
    def accepts(self, event: int) -> bool: ...
    def get_timer(self) -> int | None: ...
    def handle_timer(self, now_ms: int) -> RegOutput: ...
    def start(self, now_ms: int) -> RegOutput: ...
    def stop(self, now_ms: int) -> RegOutput: ...
    def disable(self, now_ms: int) -> RegOutput: ...
    def trigger_update(self, now_ms: int, objects_changed: bool = False) -> RegOutput: ...
    def new_params(self, params: ServerParams, now_ms: int) -> RegOutput: ...
    def refused_version(self, code: int) -> str | None: ...
    def fall_back(self, now_ms: int, code: int) -> RegOutput: ...
    def retry_now(self, now_ms: int, code: int) -> RegOutput: ...
    @property
    def is_deregistering(self) -> bool: ...
    @property
    def is_registered(self) -> bool: ...
    def register_query(self) -> list[str]: ...
    def update_query(self) -> list[str]: ...
