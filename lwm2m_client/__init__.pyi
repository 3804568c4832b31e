# The import surface of lwm2m_client (names resolved lazily at run time, see __init__.py).
from lwm2m_client.aio.aiocoap_client import AiocoapClient as AiocoapClient
from lwm2m_client.aio.common import ServerUriError as ServerUriError
from lwm2m_client.aio.common import default_rng as default_rng
from lwm2m_client.aio.udp import UdpClient as UdpClient
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
from lwm2m_client.meter_client import ConfigError as ConfigError
from lwm2m_client.meter_client import MeterClient as MeterClient
from lwm2m_client.meter_client import RegistrationError as RegistrationError
from lwm2m_client.models import ModelError as ModelError
from lwm2m_client.models import load_objects as load_objects
from lwm2m_client.models import shipped_objects as shipped_objects
from lwm2m_client.server import LwM2MServer as LwM2MServer
from lwm2m_client.sim.meters import build_meter_tree as build_meter_tree

__version__: str
