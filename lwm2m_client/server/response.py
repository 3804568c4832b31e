"""What a DM/IR operation returns: the client's answer, with its payload decoded on demand.

An error code from the client is *returned*, not raised: check :attr:`Response.ok` or call
:meth:`Response.raise_for_status`. Only helpers whose result is data rather than a Response
(``discover``, ``create``) raise :class:`LwM2MServerError` for an error answer; failures to
reach the client at all (timeout, network error) always raise it.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

import aiocoap

from lwm2m_client.core.dm.path import path_str
from lwm2m_client.server.codec import Codec, CodecError, Path


class LwM2MServerError(Exception):
    """An operation failed; ``response`` is the client's answer when there was one."""

    def __init__(self, message: str, response: Optional[Response] = None) -> None:
        super().__init__(message)
        self.response = response


def code_string(code: int) -> str:
    """CoAP code byte -> dotted form, 0x45 -> "2.05" (RFC 7252 §3)."""
    return f"{code >> 5}.{code & 0x1F:02d}"


class Response:
    """The client's answer to one request (a notification is one too, with ``observe``)."""

    def __init__(
        self,
        code: int,
        payload: bytes,
        content_format: Optional[int],
        path: Path,
        codec: Codec,
        *,
        observe: Optional[int] = None,
        location: Tuple[str, ...] = (),
    ) -> None:
        self.code_int = code
        self.payload = payload
        self.content_format = content_format
        self.path = path
        self.observe = observe
        self.location = location
        self._codec = codec
        self._values: Optional[Dict[Path, Any]] = None

    @classmethod
    def from_message(cls, message: aiocoap.Message, path: Path, codec: Codec) -> Response:
        cf = message.opt.content_format
        return cls(
            int(message.code),
            bytes(message.payload),
            None if cf is None else int(cf),
            path,
            codec,
            observe=message.opt.observe,
            location=tuple(message.opt.location_path),
        )

    @property
    def code(self) -> str:
        """The code as ``"2.05"``; :attr:`code_int` holds the byte (0x45)."""
        return code_string(self.code_int)

    @property
    def ok(self) -> bool:
        return self.code_int >> 5 == 2

    def raise_for_status(self) -> Response:
        """Return self for a 2.xx answer, raise :class:`LwM2MServerError` otherwise."""
        if not self.ok:
            raise LwM2MServerError(f"{path_str(self.path)} answered {self.code}", self)
        return self

    @property
    def values(self) -> Dict[Path, Any]:
        """Decoded payload: path tuple -> value (resource instances as 4-level paths).

        Raises :class:`LwM2MServerError` when the payload does not decode.
        """
        if self._values is None:
            if not self.payload:
                self._values = {}
            elif self.content_format is None:
                raise LwM2MServerError("payload without Content-Format", self)
            else:
                try:
                    self._values = self._codec.decode(self.content_format, self.payload,
                                                      self.path)
                except CodecError as exc:
                    raise LwM2MServerError(str(exc), self) from exc
        return self._values

    @property
    def value(self) -> Any:
        """The value at the requested path (a single resource or resource instance)."""
        values = self.values
        if self.path not in values:
            raise LwM2MServerError(f"no value at {path_str(self.path)} in the answer", self)
        return values[self.path]

    def __repr__(self) -> str:
        extra = "" if self.observe is None else f" observe={self.observe}"
        return (f"<Response {self.code} {path_str(self.path)} cf={self.content_format} "
                f"{len(self.payload)}B{extra}>")
