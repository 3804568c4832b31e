from typing import Iterable, TypeAlias

from lwm2m_client.core.buffer import ReadableBuffer

# For annotations only: a parsed Execute argument list, ``[(digit, value or None)]``.
ExecArgs: TypeAlias = list[tuple[int, str | None]]

def parse_args(data: ReadableBuffer | str) -> ExecArgs: ...
def format_args(args: Iterable[tuple[int, str | None]]) -> bytes: ...
