from typing import Any

T_NONE: int
T_STRING: int
T_INTEGER: int
T_UNSIGNED: int
T_FLOAT: int
T_BOOLEAN: int
T_OPAQUE: int
T_TIME: int
T_OBJLNK: int
T_CORELNK: int
TYPE_NAMES: tuple[str, ...]
INT64_MIN: int
INT64_MAX: int
UINT64_MAX: int

def type_from_name(name: str) -> int: ...

class Objlnk:
    oid: int
    iid: int
    def __init__(self, oid: int, iid: int) -> None: ...
    def __eq__(self, other: object) -> bool: ...
    def __ne__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...
    @staticmethod
    def parse(text: str) -> Objlnk: ...

# The Python type of the result follows ``typ`` (see the table in types.py).
def coerce(typ: int, value: object) -> Any: ...
