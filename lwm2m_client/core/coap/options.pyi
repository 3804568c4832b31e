from lwm2m_client.core._typing import ReadableBuffer

IF_MATCH: int
URI_HOST: int
ETAG: int
IF_NONE_MATCH: int
OBSERVE: int
URI_PORT: int
LOCATION_PATH: int
URI_PATH: int
CONTENT_FORMAT: int
MAX_AGE: int
URI_QUERY: int
ACCEPT: int
LOCATION_QUERY: int
BLOCK2: int
BLOCK1: int
SIZE2: int
PROXY_URI: int
PROXY_SCHEME: int
SIZE1: int
NO_RESPONSE: int
OPTION_NAMES: tuple[tuple[int, str], ...]
UINT_OPTIONS: tuple[int, ...]
STRING_OPTIONS: tuple[int, ...]
KNOWN_CRITICAL: tuple[int, ...]
MAX_OPTION_NUMBER: int

def is_critical(number: int) -> bool: ...
def option_name(number: int) -> str: ...
def encode_uint(value: int) -> bytes: ...
def decode_uint(data: ReadableBuffer) -> int: ...
def encode_block(num: int, more: bool, szx: int) -> bytes: ...
def decode_block(data: ReadableBuffer) -> tuple[int, bool, int]: ...
def block_size(szx: int) -> int: ...
def size_to_szx(size: int) -> int: ...
