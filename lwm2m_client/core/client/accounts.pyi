from collections.abc import Sequence
from typing import Any

from lwm2m_client.core._typing import AccountEntry, Rng
from lwm2m_client.core.client.engine import ClientConfig
from lwm2m_client.core.client.registration import Registration
from lwm2m_client.core.dm.tree import ObjectTree

class ServerAccount:
    ssid: int
    uri: str
    security_iid: int
    server_iid: int
    registration: Registration
    addr: Any
    advertise: bool
    last_io_ms: int
    asleep: bool
    reachable: bool
    def __init__(self, ssid: int, uri: str, security_iid: int, server_iid: int,
                 registration: Registration) -> None: ...

def read_accounts(tree: ObjectTree) -> tuple[list[AccountEntry], list[str]]: ...
def bootstrap_security_iid(tree: ObjectTree) -> int | None: ...
def has_bootstrap_account(tree: ObjectTree) -> bool: ...
def usable_accounts(tree: ObjectTree) -> list[AccountEntry]: ...
def new_account(tree: ObjectTree, entry: AccountEntry, config: ClientConfig,
                rng: Rng) -> ServerAccount: ...
def answer_outputs(account: ServerAccount, msg: Any, now_ms: int,
                   advertise_formats: Sequence[int] | None) -> list[Any]: ...
DISABLE: int
UPDATE_TRIGGER: int
BOOTSTRAP_TRIGGER: int

def wire_server_object(tree: ObjectTree) -> None: ...
