from typing import Iterable, Mapping, Sequence

from lwm2m_client.core._typing import Link, LinkParam
from lwm2m_client.core.client.attributes import AttributeStore
from lwm2m_client.core.dm.model import ObjectDef
from lwm2m_client.core.dm.tree import ObjectTree

HIDDEN_OBJECTS: tuple[int, ...]
ENABLER_VERSIONS: tuple[str, ...]
ENABLER_OBJECT_VERSIONS: dict[str, tuple[str, ...]]

def attribute_params(attrs: Mapping[str, int | float | None]) -> list[LinkParam]: ...
def enabler_object_version(version: str, oid: int) -> str | None: ...
def announced_version(oid: int, object_version: str, version: str) -> str: ...
def version_params(odef: ObjectDef, version: str) -> list[LinkParam]: ...
def discover_links(tree: ObjectTree, store: AttributeStore, ssid: int, path: Iterable[int],
                   depth: int | None = None, version: str = "1.1") -> list[Link]: ...
def register_links(tree: ObjectTree, version: str = "1.1",
                   content_formats: Sequence[int] | None = None,
                   root: str | None = None) -> list[Link]: ...
