from typing import Sequence

from lwm2m_client.core._typing import Addr, Path, ReadableBuffer, Rng
from lwm2m_client.core.client.client import LwM2MClient
from lwm2m_client.core.client.events import Event
from lwm2m_client.core.client.registration import Registration
from lwm2m_client.core.coap.messaging import Endpoint, Tuning
from lwm2m_client.core.dm.tree import ObjectTree

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
                 awake_ms: int | None = None) -> None: ...

class ClientCore:
    config: ClientConfig
    tree: ObjectTree
    client: LwM2MClient
    endpoint: Endpoint
    def __init__(self, config: ClientConfig, tree: ObjectTree, rng: Rng) -> None: ...
    # [(ssid, uri, addr or None)], sorted by SSID.
    def accounts(self) -> list[tuple[int, str, Addr]]: ...
    def set_address(self, ssid: int, addr: Addr, now_ms: int = 0) -> None: ...
    def registration(self, ssid: int) -> Registration | None: ...
    def start(self, now_ms: int) -> None: ...
    def stop(self, now_ms: int) -> None: ...
    def deregistering(self) -> bool: ...
    @property
    def asleep(self) -> bool: ...
    @property
    def notifications_dropped(self) -> int: ...
    @property
    def stored_notifications(self) -> int: ...
    def serves(self, addr: Addr) -> bool: ...
    def next_event(self) -> Event | None: ...
    def resource_changed(self, path: Path, now_ms: int) -> None: ...
    def send(self, paths: Sequence[Path], now_ms: int, ssid: int | None = None
             ) -> list[int]: ...
    def trigger_update(self, now_ms: int, ssid: int | None = None) -> None: ...
    def objects_changed(self, now_ms: int) -> None: ...
    def receive_datagram(self, data: ReadableBuffer, addr: Addr, now_ms: int) -> None: ...
    def datagrams_to_send(self) -> list[tuple[bytes, Addr]]: ...
    def get_timer(self) -> int | None: ...
    def handle_timer(self, now_ms: int) -> None: ...
