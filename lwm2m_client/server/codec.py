"""Payload encoding and decoding for the embedded server, on the project's content formats.

The server speaks every LwM2M content format through the core modules in
:mod:`lwm2m_client.core.content` (LwM2M Core 1.2 §7.4); object definitions supply the resource
types that TLV and plain text do not carry. Path lists for Read-/Observe-Composite requests
(Core 1.1 §6.3.8: SenML records with a name and no value) are written with cbor2/json, since
the core encoders only write records that carry values.
"""

from __future__ import annotations

import json
from typing import (
    TYPE_CHECKING,
    Any,
    Dict,
    Iterable,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Union,
)

import cbor2

from lwm2m_client.core.content import (
    CF_LINK,
    CF_SENML_ETCH_JSON,
    CF_SENML_JSON,
    formats,
    link,
)
from lwm2m_client.core.dm import types as t
from lwm2m_client.core.dm.model import ObjectDef
from lwm2m_client.core.dm.path import parse_path, path_str
from lwm2m_client.core.errors import BufferFull, LwM2MError

if TYPE_CHECKING:
    # A stub-only module: the protocol every content format module satisfies.
    from lwm2m_client.core._typing import Codec as FormatCodec

Path = Tuple[int, ...]
PathLike = Union[str, Sequence[int]]
Record = Tuple[Path, int, Any]

_JSON_FORMATS = (CF_SENML_JSON, CF_SENML_ETCH_JSON)

# Writes are encoded into one generous buffer; a larger payload doubles it once per retry.
_INITIAL_BUFFER = 4096
_MAX_BUFFER = 1 << 24


class CodecError(ValueError):
    """A payload the server cannot encode or decode (wraps the core's LwM2MError)."""


def format_module(content_format: int) -> FormatCodec:
    """The core module that implements ``content_format``."""
    module = formats.codec(content_format)
    if module is None:
        raise CodecError(f"content format {content_format} is not supported")
    return module


def as_path(path: PathLike) -> Path:
    """Accept ``"/3/0/1"`` or ``(3, 0, 1)``."""
    if isinstance(path, str):
        return parse_path(path)
    return tuple(int(i) for i in path)


def _python_type(value: Any) -> int:
    """A type code for a value whose resource has no definition."""
    if isinstance(value, bool):
        return t.T_BOOLEAN
    if isinstance(value, int):
        return t.T_INTEGER
    if isinstance(value, float):
        return t.T_FLOAT
    if isinstance(value, (bytes, bytearray, memoryview)):
        return t.T_OPAQUE
    if isinstance(value, t.Objlnk):
        return t.T_OBJLNK
    if isinstance(value, str):
        return t.T_STRING
    raise CodecError(f"no LwM2M type for {value!r}")


class Codec:
    """Turns Python values into payloads and back, typed by object definitions."""

    def __init__(self, objects: Mapping[int, ObjectDef]) -> None:
        self.objects = objects

    def type_of(self, path: Path) -> Optional[int]:
        """The T_* code of the resource ``path[:3]`` names, or None when not defined."""
        if len(path) < 3:
            return None
        odef = self.objects.get(path[0])
        rdef = odef.resource(path[2]) if odef is not None else None
        return rdef.type if rdef is not None else None

    def is_multiple(self, path: Path) -> bool:
        odef = self.objects.get(path[0]) if path else None
        rdef = odef.resource(path[2]) if odef is not None and len(path) >= 3 else None
        return bool(rdef is not None and rdef.multiple)

    # -- values -> records -------------------------------------------------------------

    def records(self, base: Path, values: Any) -> List[Record]:
        """Flatten what the caller wants written under ``base`` into sorted records.

        ``values`` is a single value (``base`` is a resource or resource instance), a dict
        riid -> value (``base`` a multiple resource), or a dict whose keys are absolute paths
        (str or tuple) or ids relative to ``base`` (rid for an instance, riid for a resource),
        with a dict riid -> value for a multiple resource.
        """
        flat: Dict[Path, Any] = {}
        if isinstance(values, Mapping):
            for key, value in values.items():
                path = base + (key,) if isinstance(key, int) else as_path(key)
                self._flatten(path, value, flat)
        else:
            self._flatten(base, values, flat)
        records = []
        for path in sorted(flat):
            value = flat[path]
            typ = self.type_of(path)
            if typ is None:
                typ = _python_type(value)
            try:
                records.append((path, typ, t.coerce(typ, value)))
            except LwM2MError as exc:
                raise CodecError(f"{path_str(path)}: {exc}") from None
        return records

    def _flatten(self, path: Path, value: Any, out: Dict[Path, Any]) -> None:
        if isinstance(value, Mapping):
            if len(path) != 3:
                raise CodecError(f"a dict of instances needs a resource path, got {path_str(path)}")
            for riid, item in value.items():
                out[path + (int(riid),)] = item
        else:
            if len(path) < 3:
                raise CodecError(f"value for {path_str(path)} needs a resource path")
            out[path] = value

    # -- encoding ----------------------------------------------------------------------

    def encode(self, content_format: int, base: Path, records: Sequence[Record]) -> bytes:
        """Encode records with the core's encoder into a growing scratch buffer."""
        module = format_module(content_format)
        size = _INITIAL_BUFFER
        while True:
            buf = bytearray(size)
            try:
                n = module.encode_into(buf, records, base)
            except BufferFull:
                if size >= _MAX_BUFFER:
                    raise CodecError(f"payload larger than {_MAX_BUFFER} bytes") from None
                size *= 4
                continue
            except LwM2MError as exc:
                raise CodecError(f"cannot encode as {content_format}: {exc}") from None
            return bytes(buf[:n])

    @staticmethod
    def encode_paths(content_format: int, paths: Iterable[Path]) -> bytes:
        """A SenML path list for Read-/Observe-Composite (Core 1.1 §6.3.8, §6.4.3)."""
        names = [path_str(p) for p in paths]
        if content_format in _JSON_FORMATS:
            return json.dumps([{"n": n} for n in names], separators=(",", ":")).encode()
        return cbor2.dumps([{0: n} for n in names])

    # -- decoding ----------------------------------------------------------------------

    def decode(self, content_format: int, payload: bytes, base: Path) -> Dict[Path, Any]:
        """Decode a payload to path -> value, applying resource types where they are known."""
        if content_format == CF_LINK:
            raise CodecError("link format carries links, not values")
        module = format_module(content_format)
        try:
            items = module.decode(payload, base, self.type_of)
        except LwM2MError as exc:
            raise CodecError(f"bad {content_format} payload: {exc}") from None
        return {path: self._typed(path, value) for path, value in items}

    def decode_timed(self, content_format: int,
                     payload: bytes) -> List[Tuple[Path, Any, Optional[float]]]:
        """Decode a Send payload to (path, value, time) records (Core 1.1 §6.4.6)."""
        module = format_module(content_format)
        try:
            if hasattr(module, "decode_timed"):
                items = module.decode_timed(payload, (), self.type_of)
            else:
                items = [(p, v, None) for p, v in module.decode(payload, (), self.type_of)]
        except LwM2MError as exc:
            raise CodecError(f"bad {content_format} payload: {exc}") from None
        return [(path, self._typed(path, value), when) for path, value, when in items]

    def _typed(self, path: Path, value: Any) -> Any:
        # SenML and CBOR deliver what the wire carries (a float for an integer resource,
        # "66:0" for an object link); the resource type makes it the right Python value.
        typ = self.type_of(path)
        if typ is None or value is None:
            return value
        try:
            return t.coerce(typ, value)
        except LwM2MError:
            return value


def decode_links(payload: bytes) -> List[Tuple[str, Dict[str, Any]]]:
    """Parse a link-format (CF 40) payload, e.g. a Discover answer (Core 1.1 §6.3.2)."""
    try:
        return list(link.decode_links(payload))
    except LwM2MError as exc:
        raise CodecError(f"bad link format: {exc}") from None
