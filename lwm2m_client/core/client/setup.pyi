from typing import Callable, Mapping, Sequence

from lwm2m_client.core._typing import ResourceValue
from lwm2m_client.core.client.registration import ServerParams
from lwm2m_client.core.dm.tree import ObjectTree

SEC_PSK: int
SEC_RPK: int
SEC_CERTIFICATE: int
SEC_NOSEC: int
SEC_EST: int

BEARER_GSM: int
BEARER_WCDMA: int
BEARER_LTE_TDD: int
BEARER_LTE_FDD: int
BEARER_NB_IOT: int
BEARER_WLAN: int
BEARER_ETHERNET: int
BEARER_PLC: int

POWER_DC: int
POWER_INTERNAL_BATTERY: int
POWER_EXTERNAL_BATTERY: int
POWER_MAINS: int
POWER_SOLAR: int

ERROR_NONE: int
DEVICE: tuple[int, int]
EPOCH_2000_OFFSET: int

def check_binding(binding: str, op: str = "check_binding") -> None: ...
def add_security(tree: ObjectTree, iid: int | None, uri: str, ssid: int | None = None,
                 bootstrap: bool = False, mode: int = ..., identity: bytes | str = b"",
                 secret_key: bytes = b"", server_key: bytes = b"",
                 hold_off: int = 0) -> int: ...
def add_server(tree: ObjectTree, iid: int | None, ssid: int, lifetime: int = 86400,
               binding: str = "U", notification_storing: bool = True,
               default_pmin: int | None = None, default_pmax: int | None = None,
               disable_timeout: int | None = None, initial_delay: int | None = None,
               registration_failure_block: bool | None = None,
               bootstrap_on_failure: bool | None = None, retry_count: int | None = None,
               retry_timer: int | None = None, sequence_delay: int | None = None,
               sequence_retry_count: int | None = None,
               mute_send: bool | None = False) -> int: ...
def server_params(tree: ObjectTree, iid: int) -> ServerParams: ...
def server_accounts(tree: ObjectTree) -> list[tuple[int, str, int, int]]: ...
def bootstrap_account(tree: ObjectTree) -> tuple[str, int, int] | None: ...
def add_device(tree: ObjectTree, manufacturer: str, model: str, serial: str,
               firmware_version: str, reboot: Callable[[], object] | None = None,
               factory_reset: Callable[[], object] | None = None,
               clock: Callable[[], int | float] | None = None, binding: str = "U",
               values: Mapping[int, ResourceValue] | None = None, epoch: int = 1970) -> int: ...
def refresh_device_time(tree: ObjectTree, seconds: int | float, epoch: int = 1970) -> None: ...
def unix_time(seconds: int | float, epoch: int = 1970) -> int: ...
def add_error_code(tree: ObjectTree, code: int) -> None: ...
def reset_error_codes(tree: ObjectTree) -> None: ...
def add_connectivity(tree: ObjectTree, bearer: int = ..., signal: int = -90,
                     ip: str | Sequence[str] = "0.0.0.0", available: Sequence[int] | None = None,
                     link_quality: int | None = None, apn: str | Sequence[str] | None = None,
                     cell_id: int | None = None, mnc: int | None = None,
                     mcc: int | None = None) -> int: ...
