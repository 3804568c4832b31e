from typing import Any

from lwm2m_client.core._typing import Rng

BS_IDLE: int
BS_HOLD_OFF: int
BS_REQUESTING: int
BS_WAITING: int
BS_RETRY_WAIT: int
BS_DONE: int
STATE_NAMES: tuple[str, ...]
EV_START: int
EV_TIMER: int
EV_SUCCESS: int
EV_ERROR: int
EV_CONTACT: int
EV_FINISHED: int
EV_STOP: int
TRANSITIONS: tuple[tuple[str | None, ...], ...]
PURGE: str
GET: int

class Bootstrap:
    endpoint: str
    version: str
    pct: int | None
    rng: Rng | None
    wait_ms: int
    retry_ms: int
    max_retry_ms: int
    jitter: float
    pack: bool
    pack_failed: bool
    in_pack: bool
    state: int
    deadline: int | None
    attempt: int
    hold_off_ms: int
    account_timeout_ms: int
    last_code: int | None
    def __init__(self, endpoint: str, version: str = "1.1", pct: int | None = None,
                 rng: Rng | None = None, wait_ms: int = 247000, retry_ms: int = 15000,
                 max_retry_ms: int = 3600000, jitter: float = 0.0,
                 pack: bool = False) -> None: ...
    @property
    def active(self) -> bool: ...
    # RegRequests, events and PURGE, in order.
    def handle(self, event: int, now_ms: int, code: int | None = None) -> list[Any]: ...
    def start(self, now_ms: int, hold_off_s: int | None = 0,
              account_timeout_s: int | None = 0) -> list[Any]: ...
    def get_timer(self) -> int | None: ...
    def handle_timer(self, now_ms: int) -> list[Any]: ...
    def request(self) -> Any: ...
