from typing import Any, Callable, TypeAlias

from lwm2m_client.core.dm.path import Path

# For annotations only (not defined at run time); the conventions are in __init__.py.
# A record to encode: (path, T_* type code, value); SenML also takes a time (seconds).
Record: TypeAlias = tuple[Path, int, Any]
TimedRecord: TypeAlias = tuple[Path, int, Any, int | float | None]
# A decoded item: (path, value); a value None means "no value" (see __init__.py).
Item: TypeAlias = tuple[Path, Any]
TimedItem: TypeAlias = tuple[Path, Any, int | float | None]
# type_of(path) -> the T_* code of a resource path, or None when unknown.
TypeOf: TypeAlias = Callable[[Path], int | None]

CF_TEXT: int
CF_LINK: int
CF_OPAQUE: int
CF_CBOR: int
CF_SENML_JSON: int
CF_SENML_CBOR: int
CF_SENML_ETCH_JSON: int
CF_SENML_ETCH_CBOR: int
CF_TLV: int
CF_LWM2M_JSON: int
CF_LWM2M_CBOR: int
CF_TLV_OLD: int
CF_LWM2M_JSON_OLD: int
