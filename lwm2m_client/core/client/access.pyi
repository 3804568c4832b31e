from typing import Any, Iterable, Mapping, TypeAlias

from lwm2m_client.core._typing import Path, Record
from lwm2m_client.core.dm.tree import ObjectTree

ACCESS_OBJECT: int
R: int
W: int
E: int
D: int
C: int
FULL: int
CREATOR_RIGHTS: int
OBJECT_LEVEL: int
BOOTSTRAP_OWNER: int

# {(oid, iid): (owner, {ssid: bits})} of the well-formed /2 instances.
Table: TypeAlias = dict[tuple[int, int], tuple[int | None, dict[int, Any]]]

def table(tree: ObjectTree) -> Table: ...
def rights(tree: ObjectTree, ssid: int | None, oid: int, iid: int,
           tab: Table | None = None) -> int: ...
def allowed(tree: ObjectTree, ssid: int | None, oid: int, iid: int, need: int,
            tab: Table | None = None) -> bool: ...
def authorize(tree: ObjectTree, ssid: int | None, op: str, path: Path) -> None: ...
def read(tree: ObjectTree, ssid: int | None, path: Path) -> list[Record]: ...
def authorize_items(tree: ObjectTree, ssid: int | None,
                    items: Iterable[tuple[Path, Any]]) -> None: ...
def reserve(tree: ObjectTree) -> None: ...
def created(tree: ObjectTree, ssid: int | None, oid: int, iid: int) -> int | None: ...
def forget(tree: ObjectTree, oid: int, iid: int, keep: int | None = None) -> list[int]: ...
def add_access_control(tree: ObjectTree, oid: int, iid: int, owner: int,
                       acl: Mapping[int, int] | None = None,
                       ac_iid: int | None = None) -> int: ...
