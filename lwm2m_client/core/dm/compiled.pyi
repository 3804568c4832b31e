from typing import Any, Iterable, TypeAlias

from lwm2m_client.core.dm.model import ObjectDef, Range, ResourceDef

# The positional tuple layouts of a compiled model module (see compiled.py).
_RangeTuple: TypeAlias = tuple[str, Any, Any, Any, str]
# Names (and the URN) are None in a module compiled without them.
_ResourceTuple: TypeAlias = tuple[int, str | None, int, int, int, int, _RangeTuple | None,
                                  str, str]
_ObjectTuple: TypeAlias = tuple[int, str | None, str | None, str, str, int, int,
                                tuple[_ResourceTuple, ...], str]

FORMAT: int

def range_from_tuple(data: _RangeTuple | None) -> Range | None: ...
def resource_from_tuple(data: _ResourceTuple) -> ResourceDef: ...
def object_from_tuple(data: _ObjectTuple) -> ObjectDef: ...
def objects_from_tuples(data: Iterable[_ObjectTuple], fmt: int = ...) -> dict[int, ObjectDef]: ...
def range_to_tuple(rng: Range | None) -> _RangeTuple | None: ...
def object_to_tuple(obj: ObjectDef, descriptions: bool = False,
                    names: bool = True) -> _ObjectTuple: ...
