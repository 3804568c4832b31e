from typing import Sequence

from lwm2m_client.core.coap.messaging import Tuning

class ClientConfig:
    endpoint: str
    version: str
    message_size: int
    block_size: int
    max_body: int
    max_request_body: int
    fetch_size: int
    tuning: Tuning
    formats: tuple[int, ...]
    preferred_format: int | None
    advertise_formats: Sequence[int] | None
    jitter: float
    max_events: int
    dedup_capacity: int
    max_observations: int
    store_capacity: int
    store_bytes: int
    store_policy: str
    awake_ms: int
    bootstrap_pack: bool
    szx: int
    def __init__(self, endpoint: str, version: str = "1.1", message_size: int | None = None,
                 block_size: int = 512, max_body: int = 8192, tuning: Tuning | None = None,
                 preferred_format: int | None = None,
                 advertise_formats: Sequence[int] | None = None, jitter: float = 0.1,
                 max_events: int = 64, formats: Sequence[int] | None = None,
                 fetch_size: int | None = None, dedup_capacity: int = 16,
                 max_request_body: int | None = None,
                 max_observations: int = 8, store_capacity: int = 16,
                 store_bytes: int = 4096, store_policy: str = "drop-oldest",
                 awake_ms: int | None = None, bootstrap_pack: bool = False) -> None: ...
