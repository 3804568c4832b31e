from typing import Any, Iterable, Literal, TypeAlias

OP_NONE: int
OP_R: int
OP_W: int
OP_RW: int
OP_E: int

_RangeKind: TypeAlias = Literal["num", "enum", "len", "text"]
_Bound: TypeAlias = int | float | None

def ops_from_name(name: str) -> int: ...
def ops_name(ops: int) -> str: ...

class Range:
    kind: str
    lo: Any
    hi: Any
    values: tuple[Any, ...] | None
    text: str
    def __init__(self, kind: _RangeKind | str, lo: _Bound = None, hi: _Bound = None,
                 values: tuple[Any, ...] | None = None, text: str = "") -> None: ...
    def __eq__(self, other: object) -> bool: ...
    # ``value`` is of the Python type for ``typ`` (dm/types.py).
    def check(self, typ: int, value: object) -> bool: ...

class ResourceDef:
    rid: int
    name: str
    operations: int
    multiple: bool
    mandatory: bool
    type: int
    range: Range | None
    units: str
    description: str
    def __init__(self, rid: int, name: str, operations: int, multiple: bool, mandatory: bool,
                 typ: int, range_: Range | None = None, units: str = "",
                 description: str = "") -> None: ...
    @property
    def readable(self) -> bool: ...
    @property
    def writable(self) -> bool: ...
    @property
    def executable(self) -> bool: ...

class ObjectDef:
    oid: int
    name: str
    urn: str
    lwm2m_version: str
    object_version: str
    multiple: bool
    mandatory: bool
    resources: dict[int, ResourceDef]
    description: str
    def __init__(self, oid: int, name: str, urn: str = "", lwm2m_version: str = "1.0",
                 object_version: str = "1.0", multiple: bool = True, mandatory: bool = False,
                 resources: dict[int, ResourceDef] | None = None,
                 description: str = "") -> None: ...
    def resource(self, rid: int) -> ResourceDef | None: ...

def resource(rid: int, name: str, typ: int | str | None, ops: int | str,
             multiple: bool = False, mandatory: bool = False, units: str = "",
             range_: Range | tuple[_Bound, _Bound] | None = None,
             description: str = "") -> ResourceDef: ...
def obj(oid: int, name: str, resources: Iterable[ResourceDef], multiple: bool = True,
        version: str = "1.0", mandatory: bool = False, lwm2m_version: str = "1.0",
        urn: str = "", description: str = "") -> ObjectDef: ...
