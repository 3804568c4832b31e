"""A small LwM2M server on aiocoap, for the demo and for testing clients against an
independent CoAP stack. See :class:`LwM2MServer`, and :class:`BootstrapServer` for the
Bootstrap-Server."""

from lwm2m_client.server.bootstrap import BootstrapOutcome, BootstrapServer, Exchange
from lwm2m_client.server.bootstrap_config import (
    AclInstance,
    BootstrapConfig,
    ConfigSet,
    CredentialStore,
    PskCredentials,
    ServerAccount,
    load_configs,
)
from lwm2m_client.server.bootstrap_config import ConfigError as BootstrapConfigError
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
    "AclInstance",
    "BootstrapConfig",
    "BootstrapConfigError",
    "BootstrapOutcome",
    "BootstrapServer",
    "ConfigSet",
    "CredentialStore",
    "Exchange",
    "PskCredentials",
    "ServerAccount",
    "load_configs",
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
