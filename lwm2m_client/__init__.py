"""lwm2m_client: an OMA LightweightM2M client library and smart-meter simulator.

One import surface for vendors, test engineers and developers::

    from lwm2m_client import ClientConfig, ClientCore, ObjectTree, UdpClient, ...

- the device side (MicroPython-safe, also as :mod:`lwm2m_client.core`):
  :class:`ClientCore` (datagram level), :class:`LwM2MClient` (message level),
  :class:`ClientConfig`, :class:`Tuning`, :class:`ObjectTree`, object definitions
  (:class:`ObjectDef`, :func:`obj`, :func:`resource`), Python-implemented instances
  (:class:`Instance`, :func:`attach`), the set-up helpers (:func:`add_security`,
  :func:`add_server`, :func:`add_device`, :func:`add_connectivity`), ``events``,
  ``types`` and the error classes;
- CPython: OMA XML models (:func:`load_objects`, :func:`shipped_objects`), the asyncio
  adapters (:class:`UdpClient`, :class:`AiocoapClient`, :func:`default_rng`), virtual
  meters (:class:`MeterClient`, :func:`build_meter_tree`) and the embedded
  :class:`LwM2MServer` with its :class:`BootstrapServer` (:class:`BootstrapConfig`,
  :class:`ServerAccount`).

Names are imported on first use, so ``from lwm2m_client import ObjectTree`` does not
load aiocoap.
"""

__version__ = "0.1.0"

# This module runs on MicroPython too (the core lives in this package): plain Python,
# no typing at run time. The names and their types are spelled out in __init__.pyi.

# name -> module that defines it (the device-side names come from lwm2m_client.core)
_API = {
    "load_objects": "lwm2m_client.models",
    "shipped_objects": "lwm2m_client.models",
    "ModelError": "lwm2m_client.models",
    "UdpClient": "lwm2m_client.aio.udp",
    "AiocoapClient": "lwm2m_client.aio.aiocoap_client",
    "default_rng": "lwm2m_client.aio.common",
    "ServerUriError": "lwm2m_client.aio.common",
    "MeterClient": "lwm2m_client.meter_client",
    "ConfigError": "lwm2m_client.meter_client",
    "RegistrationError": "lwm2m_client.meter_client",
    "build_meter_tree": "lwm2m_client.sim.meters",
    "LwM2MServer": "lwm2m_client.server",
    "BootstrapServer": "lwm2m_client.server",
    "BootstrapConfig": "lwm2m_client.server",
    "ServerAccount": "lwm2m_client.server",
}


def _core():
    # Not "from lwm2m_client import core": that asks this module's __getattr__ first.
    return __import__("lwm2m_client.core").core


def __getattr__(name):
    core = _core()
    if name in _API:
        return getattr(core._module(_API[name]), name)
    if name in core.__all__:
        return getattr(core, name)
    raise AttributeError("module 'lwm2m_client' has no attribute '%s'" % name)


def __dir__():
    return sorted(set(globals()) | set(_API) | set(_core().__all__))
