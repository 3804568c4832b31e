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
    def __init__(self, ssid: int, uri: str, security_iid: int, server_iid: int,
                 registration: Registration) -> None: ...

def read_accounts(tree: ObjectTree) -> tuple[list[AccountEntry], list[str]]: ...
def has_bootstrap_account(tree: ObjectTree) -> bool: ...
def new_account(tree: ObjectTree, entry: AccountEntry, config: ClientConfig,
                rng: Rng) -> ServerAccount: ...
