"""Opaque, content format 42 (application/octet-stream; LwM2M Core 1.1 section 7.4.2).

The body is the raw bytes of one Opaque resource or resource instance (firmware
packages, Object 19 data). Other types are refused with 4.06 Not Acceptable when
encoding; on decode the caller checks the target is Opaque, since the bytes say nothing.
"""

from lwm2m_client.core.buffer import Writer
from lwm2m_client.core.content.text import single_record
from lwm2m_client.core.dm.types import T_OPAQUE
from lwm2m_client.core.errors import NotAcceptable


def encode_into(buf, records, base=()):
    """Copy the one Opaque value of ``records`` into ``buf``; return the byte count."""
    typ, value = single_record(records, base)[1:3]
    if typ != T_OPAQUE:
        raise NotAcceptable("only Opaque resources travel as application/octet-stream")
    w = Writer(buf)
    w.write(value)
    return w.pos


def decode(data, base=(), type_of=None):
    """Return ``[(base, bytes)]``: the whole body is the value of ``base``."""
    return [(base, bytes(data))]
