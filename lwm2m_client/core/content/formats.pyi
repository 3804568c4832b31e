from lwm2m_client.core._typing import Codec, PathListCodec

CODECS: dict[int, Codec]
PATH_LIST_CODECS: dict[int, PathListCodec]
UNTYPED: tuple[int, ...]
HIERARCHICAL: tuple[int, ...]

def codec(cf: int) -> Codec | None: ...
def default_format(version: str) -> int: ...
