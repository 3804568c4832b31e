from typing import Collection

from lwm2m_client.core._typing import Codec, PathListCodec

MODULES: dict[int, str]
ALL: tuple[int, ...]
PATH_LIST: tuple[int, ...]
UNTYPED: tuple[int, ...]
HIERARCHICAL: tuple[int, ...]

def codec(cf: int, allowed: Collection[int] | None = None) -> Codec | None: ...
def path_list_codec(cf: int, allowed: Collection[int] | None = None) -> PathListCodec | None: ...
def default_format(version: str) -> int: ...
