from typing import Any, Callable, Literal, Mapping, Sequence, TypeAlias, overload

from lwm2m_client.core._typing import Item, Path, Record, TimedItem, TimedRecord, TypeOf
from lwm2m_client.core.dm.types import Objlnk

F_BVER: int
F_BN: int
F_BT: int
F_BV: int
F_N: int
F_V: int
F_VS: int
F_VB: int
F_VD: int
F_VLO: int
F_T: int
F_IGNORED: int
CBOR_FIELDS: dict[int | str, int]
SENML_VERSION: int

# (name, value, time, value field code or 0), what walk() resolves a pack into.
_Resolved: TypeAlias = tuple[str, Any, int | float | None, int]

def plan(records: Sequence[Record | TimedRecord], base: Path) -> tuple[int, str | None, int]: ...
def name_of(path: Path, strip: int) -> str: ...
def check_float(value: float) -> None: ...
def apply_type(value: Any, typ: int) -> Any: ...
def parse_objlnk(text: str) -> Objlnk: ...
def parse_name(name: str) -> Path: ...
def walk(pack: Any, fields: Mapping[Any, int],
         opaque: Callable[[Any], bytes]) -> list[_Resolved]: ...
@overload
def values(resolved: Sequence[_Resolved], type_of: TypeOf | None,
           timed: Literal[False]) -> list[Item]: ...
@overload
def values(resolved: Sequence[_Resolved], type_of: TypeOf | None,
           timed: Literal[True]) -> list[TimedItem]: ...
@overload
def values(resolved: Sequence[_Resolved], type_of: TypeOf | None,
           timed: bool) -> list[Item] | list[TimedItem]: ...
def paths(resolved: Sequence[_Resolved]) -> list[Path]: ...
