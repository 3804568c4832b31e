"""Error classes of the core, each carrying the CoAP response code it maps to.

Two error channels: application misuse raises at once, anything
that comes from the peer is turned into the CoAP code held by ``code``. Codes are the
single-byte CoAP form ``class << 5 | detail`` (RFC 7252 section 3), e.g. 4.04 = 0x84.
"""


def code_str(code):
    """Render a CoAP code byte as the dotted ``c.dd`` form, e.g. 0x84 -> '4.04'."""
    return "%d.%02d" % (code >> 5, code & 0x1F)


class LwM2MError(Exception):
    """Base of every error the core raises on behalf of a peer. Maps to 5.00."""

    code = 0xA0


class BadRequest(LwM2MError):
    """4.00: malformed payload, query or arguments."""

    code = 0x80


class Unauthorized(LwM2MError):
    """4.01: access control refuses the operation (LwM2M Core 1.1 section 8.2)."""

    code = 0x81


class NotFound(LwM2MError):
    """4.04: the object, instance or resource does not exist."""

    code = 0x84


class MethodNotAllowed(LwM2MError):
    """4.05: the target does not support the operation (e.g. Write on an R resource)."""

    code = 0x85


class NotAcceptable(LwM2MError):
    """4.06: the requested content format cannot carry the value."""

    code = 0x86


class RequestEntityIncomplete(LwM2MError):
    """4.08: a block of a Block1 transfer is missing (RFC 7959 section 2.9.2)."""

    code = 0x88


class RequestEntityTooLarge(LwM2MError):
    """4.13: the request body is larger than the client can take."""

    code = 0x8D


class UnsupportedContentFormat(LwM2MError):
    """4.15: the payload's content format is not supported."""

    code = 0x8F


class InternalServerError(LwM2MError):
    """5.00: a handler failed (T1.1 section 6.7: an error no 4.xx describes)."""

    code = 0xA0


class DecodeError(BadRequest):
    """The one error every content decoder raises for bad input (maps to 4.00)."""


class BufferFull(Exception):
    """An encoder ran out of room in its caller-provided buffer.

    Neither a peer error nor a misuse: the caller catches it to switch to block-wise
    transfer (RFC 7959) or to answer with the code that fits (4.13 for a request body
    too large to store, 5.00 for a response too large for the client's own buffer).
    It carries no CoAP code on purpose.
    """


class UsageError(ValueError):
    """The application misused the API (a bad argument, a call in the wrong state).

    Raised at once, never turned into a CoAP response: it is the first of the two error
    channels, the peer's errors (LwM2MError) being the second.
    """
