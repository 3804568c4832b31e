"""Load OMA LwM2M object definition XML (LWM2M.xsd / LWM2M-v1_1.xsd) into ObjectDefs.

CPython only (uses xml.etree). The registry files are read as they are: with or without a
BOM or XML declaration, elements in any order, namespaced or not, optional elements
missing. What cannot be a valid definition raises :class:`ModelError` naming the file
and the element, so a bad file in a directory of hundreds is found at once.
"""

from __future__ import annotations

import logging
import os
import sys
import sysconfig
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Union

from lwm2m_client.core.dm import types as t
from lwm2m_client.core.dm.model import ObjectDef, ResourceDef, ops_from_name

from .ranges import parse_range

log = logging.getLogger(__name__)

Source = Union[str, bytes, "os.PathLike[str]"]

# Object and resource IDs are 16-bit (LwM2M Core 1.2 §7.1: 0..65534 usable).
_MAX_ID = 65535


class ModelError(ValueError):
    """An object definition that cannot be loaded; the message names file and element."""


def _local(tag: str) -> str:
    """The element name without a namespace ("{urn:x}Item" -> "Item")."""
    return tag.rsplit("}", 1)[-1]


def _children(elem: ET.Element) -> dict[str, ET.Element]:
    """The child elements by local name (first one wins; order in the file is free)."""
    found: dict[str, ET.Element] = {}
    for child in elem:
        if isinstance(child.tag, str):
            found.setdefault(_local(child.tag), child)
    return found


def _text(children: dict[str, ET.Element], name: str) -> str | None:
    elem = children.get(name)
    if elem is None:
        return None
    return (elem.text or "").strip()


def _parse_id(text: str | None, where: str) -> int:
    if text is None or not text.strip():
        raise ModelError(f"{where}: missing")
    try:
        value = int(text.strip(), 10)
    except ValueError:
        raise ModelError(f"{where}: not a number {text!r}") from None
    if not 0 <= value <= _MAX_ID:
        raise ModelError(f"{where}: {value} is out of range 0..{_MAX_ID}")
    return value


def _choice(children: dict[str, ET.Element], name: str, yes: str, no: str, where: str) -> bool:
    """Read a two-valued element such as <MultipleInstances>Single|Multiple."""
    value = _text(children, name)
    if value is None:
        raise ModelError(f"{where}: missing <{name}>")
    if value.lower() == yes.lower():
        return True
    if value.lower() == no.lower():
        return False
    raise ModelError(f"{where}: <{name}> is {value!r}, expected {yes} or {no}")


def _parse_item(item: ET.Element, where: str) -> ResourceDef:
    rid = _parse_id(item.get("ID"), f"{where}: Item ID")
    where = f"{where}: Item ID={rid}"
    children = _children(item)
    name = _text(children, "Name")
    if not name:
        raise ModelError(f"{where}: missing <Name>")
    try:
        ops = ops_from_name(_text(children, "Operations") or "")
    except ValueError:
        raise ModelError(
            "{}: unknown Operations {!r}".format(where, _text(children, "Operations"))
        ) from None
    type_name = _text(children, "Type") or ""
    try:
        typ = t.type_from_name(type_name)
    except ValueError:
        raise ModelError(f"{where}: unknown Type {type_name!r}") from None
    return ResourceDef(
        rid,
        name,
        ops,
        _choice(children, "MultipleInstances", "Multiple", "Single", where),
        _choice(children, "Mandatory", "Mandatory", "Optional", where),
        typ,
        parse_range(_text(children, "RangeEnumeration"), typ),
        _text(children, "Units") or "",
        _text(children, "Description") or "",
    )


def _parse_object(obj: ET.Element, name: str) -> ObjectDef:
    children = _children(obj)
    oid = _parse_id(_text(children, "ObjectID"), f"{name}: ObjectID")
    where = f"{name}: Object {oid}"
    obj_name = _text(children, "Name")
    if not obj_name:
        raise ModelError(f"{where}: missing <Name>")
    resources: dict[int, ResourceDef] = {}
    container = children.get("Resources")
    if container is not None:
        for item in container:
            if not isinstance(item.tag, str) or _local(item.tag) != "Item":
                continue
            res = _parse_item(item, name)
            if res.rid in resources:
                raise ModelError(f"{name}: Item ID={res.rid}: duplicate resource ID")
            resources[res.rid] = res
    description = _text(children, "Description1") or ""
    more = _text(children, "Description2")
    if more:
        description = f"{description}\n\n{more}" if description else more
    return ObjectDef(
        oid,
        obj_name,
        urn=_text(children, "ObjectURN") or "",
        lwm2m_version=_text(children, "LWM2MVersion") or "1.0",
        object_version=_text(children, "ObjectVersion") or "1.0",
        multiple=_choice(children, "MultipleInstances", "Multiple", "Single", where),
        mandatory=_choice(children, "Mandatory", "Mandatory", "Optional", where),
        resources=dict(sorted(resources.items())),
        description=description,
    )


def parse_xml(data: str | bytes, name: str = "<string>") -> list[ObjectDef]:
    """Every <Object> of one XML document. ``name`` is used in error messages."""
    # A BOM or blank line before "<?xml" is not well-formed XML, but occurs in the wild.
    if isinstance(data, bytes):
        data = data.removeprefix(b"\xef\xbb\xbf").lstrip()
    else:
        data = data.removeprefix("\ufeff").lstrip()
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        line, col = exc.position  # expat counts columns from 0
        raise ModelError(
            f"{name}: not well-formed XML (line {line}, column {col + 1})") from None
    except (ValueError, LookupError) as exc:  # e.g. an unknown encoding declaration
        raise ModelError(f"{name}: cannot read XML: {exc}") from None
    if _local(root.tag) != "LWM2M":
        raise ModelError(f"{name}: root element is <{_local(root.tag)}>, expected <LWM2M>")
    objects = [_parse_object(obj, name) for obj in root
               if isinstance(obj.tag, str) and _local(obj.tag) == "Object"]
    if not objects:
        raise ModelError(f"{name}: no <Object> element")
    return objects


def load_file(path: str | os.PathLike[str]) -> list[ObjectDef]:
    """Every object defined in one XML file."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ModelError(f"{p}: cannot read: {exc.strerror or exc}") from None
    return parse_xml(data, p.name)


def version_key(version: str) -> tuple[int, ...]:
    """Sort key of an ObjectVersion such as "1.2" (unreadable parts count as 0)."""
    key = []
    for part in version.split("."):
        try:
            key.append(int(part))
        except ValueError:
            key.append(0)
    return tuple(key)


def _xml_files(directory: Path, recursive: bool) -> list[Path]:
    pattern = "**/*.xml" if recursive else "*.xml"
    return sorted(p for p in directory.glob(pattern) if p.is_file())


def load_objects(source: Source, recursive: bool = False) -> dict[int, ObjectDef]:
    """Object definitions by ObjectID, from a file, a directory or an XML document.

    ``source`` is XML text when it is ``bytes`` or a ``str`` starting with ``<``;
    otherwise a path. A directory gives every ``*.xml`` in it (and below it when
    ``recursive``); when two files define the same ObjectID the higher ObjectVersion is
    kept, so an older version is loaded by pointing at its own file or directory.
    """
    if isinstance(source, bytes):
        return _by_id(parse_xml(source, "<bytes>"), "<bytes>")
    if isinstance(source, str) and source.lstrip("\ufeff \t\r\n").startswith("<"):
        return _by_id(parse_xml(source), "<string>")
    path = Path(source)
    if path.is_dir():
        objects: list[ObjectDef] = []
        for f in _xml_files(path, recursive):
            objects.extend(load_file(f))
        return _by_id(objects, str(path))
    if not path.exists():
        raise ModelError(f"{path}: no such file or directory")
    return _by_id(load_file(path), str(path))


def _by_id(objects: list[ObjectDef], where: str) -> dict[int, ObjectDef]:
    result: dict[int, ObjectDef] = {}
    for obj in objects:
        old = result.get(obj.oid)
        if old is not None:
            if version_key(obj.object_version) == version_key(old.object_version):
                log.warning("%s: object %d version %s defined twice; keeping the first",
                            where, obj.oid, obj.object_version)
                continue
            if version_key(obj.object_version) < version_key(old.object_version):
                continue
        result[obj.oid] = obj
    return dict(sorted(result.items()))


def shipped_models_dir() -> Path:
    """The directory of the project's own object XML files.

    In a source tree or an editable install that is ``object_models/`` next to the
    package; a wheel installs the same files as data under ``share/lwm2m_client/``
    (see ``[tool.setuptools.data-files]`` in pyproject.toml).
    """
    candidates = [Path(__file__).resolve().parents[2] / "object_models"]
    data_dirs = [sysconfig.get_path("data"), sys.prefix]
    try:
        data_dirs.append(sysconfig.get_path("data", f"{os.name}_user"))
    except KeyError:
        pass
    for base in data_dirs:
        candidates.append(Path(base) / "share" / "lwm2m_client" / "object_models")
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    looked = ", ".join(str(c) for c in candidates)
    raise ModelError(f"object_models: not found (looked in {looked})")


_shipped: dict[int, ObjectDef] | None = None


def shipped_objects() -> dict[int, ObjectDef]:
    """The project's object definitions (object_models/), loaded once."""
    global _shipped
    if _shipped is None:
        _shipped = load_objects(shipped_models_dir())
    return _shipped


def registry_dir() -> Path | None:
    """The OMA registry copy at ``../shared/lwm2m-registry`` from the project root, if any."""
    candidate = Path(__file__).resolve().parents[3] / "shared" / "lwm2m-registry"
    return candidate if candidate.is_dir() else None
