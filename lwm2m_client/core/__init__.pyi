# The import surface of lwm2m_client.core (names resolved lazily at run time, see
# __init__.py).
from lwm2m_client.core.client import events as events
from lwm2m_client.core.client.client import LwM2MClient as LwM2MClient
from lwm2m_client.core.client.engine import ClientConfig as ClientConfig
from lwm2m_client.core.client.engine import ClientCore as ClientCore
from lwm2m_client.core.client.setup import add_connectivity as add_connectivity
from lwm2m_client.core.client.setup import add_device as add_device
from lwm2m_client.core.client.setup import add_security as add_security
from lwm2m_client.core.client.setup import add_server as add_server
from lwm2m_client.core.coap.messaging import Tuning as Tuning
from lwm2m_client.core.dm import types as types
from lwm2m_client.core.dm.app import Instance as Instance
from lwm2m_client.core.dm.app import attach as attach
from lwm2m_client.core.dm.model import ObjectDef as ObjectDef
from lwm2m_client.core.dm.model import ResourceDef as ResourceDef
from lwm2m_client.core.dm.model import obj as obj
from lwm2m_client.core.dm.model import resource as resource
from lwm2m_client.core.dm.tree import ObjectTree as ObjectTree
from lwm2m_client.core.errors import BadRequest as BadRequest
from lwm2m_client.core.errors import InternalServerError as InternalServerError
from lwm2m_client.core.errors import LwM2MError as LwM2MError
from lwm2m_client.core.errors import MethodNotAllowed as MethodNotAllowed
from lwm2m_client.core.errors import NotFound as NotFound
from lwm2m_client.core.errors import UsageError as UsageError

__all__ = (
    "ClientCore",
    "ClientConfig",
    "LwM2MClient",
    "Tuning",
    "ObjectTree",
    "ObjectDef",
    "ResourceDef",
    "obj",
    "resource",
    "Instance",
    "attach",
    "add_security",
    "add_server",
    "add_device",
    "add_connectivity",
    "LwM2MError",
    "UsageError",
    "BadRequest",
    "NotFound",
    "MethodNotAllowed",
    "InternalServerError",
    "events",
    "types",
)
