from typing import Any, Collection

from lwm2m_client.core._typing import Addr, ReadableBuffer, Rng
from lwm2m_client.core.coap.events import (
    Acknowledged,
    RequestReceived,
    RequestTimedOut,
    Reset,
    ResponseReceived,
)
from lwm2m_client.core.coap.message import Message

QUEUED: int
WAIT_ACK: int
WAIT_RESPONSE: int
MIN_MESSAGE_SIZE: int

class Tuning:
    ack_timeout: int
    ack_random_factor: float
    max_retransmit: int
    nstart: int
    default_leisure: int
    probing_rate: int | float
    max_latency: int
    processing_delay: int
    max_message_size: int
    token_length: int
    # Derived (RFC 7252 section 4.8.2), whole milliseconds.
    max_transmit_span: int
    max_transmit_wait: int
    max_rtt: int
    exchange_lifetime: int
    non_lifetime: int
    def __init__(self, ack_timeout: int = 2000, ack_random_factor: float = 1.5,
                 max_retransmit: int = 4, nstart: int = 1, default_leisure: int = 5000,
                 probing_rate: int | float = 1, max_latency: int = 100000,
                 processing_delay: int | None = None, max_message_size: int = 1152,
                 token_length: int = 4) -> None: ...
    def initial_timeout(self, rng: Rng) -> int: ...

class EndpointBusy(Exception): ...

class DedupCache:
    capacity: int
    lifetime: int
    def __init__(self, capacity: int, lifetime: int) -> None: ...
    def __len__(self) -> int: ...
    # The live entry [expires_ms, reply or None] for ``key``, or None.
    def get(self, key: object, now_ms: int) -> list[Any] | None: ...
    def add(self, key: object, now_ms: int, reply: Any = None) -> list[Any]: ...

class Endpoint:
    rng: Rng
    tuning: Tuning
    max_exchanges: int
    send_capacity: int
    known_critical: Collection[int]
    dropped: int
    def __init__(self, rng: Rng, tuning: Tuning | None = None, max_exchanges: int = 8,
                 dedup_capacity: int = 16, send_capacity: int = 32,
                 known_critical: Collection[int] = ...,
                 non_capacity: int | None = None) -> None: ...
    def new_token(self) -> bytes: ...
    def request(self, msg: Message, addr: Addr, now_ms: int) -> bytes: ...
    def send(self, msg: Message, addr: Addr, now_ms: int) -> int: ...
    def respond(self, request: Message, addr: Addr, response: Message, now_ms: int) -> None: ...
    def ignore(self, request: Message, addr: Addr, now_ms: int) -> None: ...
    def room(self) -> int: ...
    def cancel(self, token: bytes, now_ms: int, addr: Addr = None) -> None: ...
    def datagrams_to_send(self) -> list[tuple[bytes, Addr]]: ...
    def get_timer(self) -> int | None: ...
    def handle_timer(self, now_ms: int) -> list[RequestTimedOut]: ...
    def receive(self, data: ReadableBuffer, addr: Addr,
                now_ms: int) -> list[RequestReceived | ResponseReceived | Reset | Acknowledged]: ...
