"""A small LwM2M server on aiocoap, for the demo and for testing clients against an
independent CoAP stack. See :class:`LwM2MServer`."""

from lwm2m_client.server.codec import Codec, CodecError
from lwm2m_client.server.observe import Observation
from lwm2m_client.server.registry import Registration
from lwm2m_client.server.response import LwM2MServerError, Response
from lwm2m_client.server.server import (
    DEREGISTERED,
    EXPIRED,
    REGISTERED,
    SENT,
    UPDATED,
    LwM2MServer,
    ServerEvent,
)

__all__ = [
    "Codec",
    "CodecError",
    "DEREGISTERED",
    "EXPIRED",
    "LwM2MServer",
    "LwM2MServerError",
    "Observation",
    "REGISTERED",
    "Registration",
    "Response",
    "SENT",
    "ServerEvent",
    "UPDATED",
]
