"""Sans-IO LwM2M protocol core, and its import surface for MicroPython and CPython.

Rules for everything below this package (DESIGN.md section 3): no I/O, no clock, no
global randomness, and only the MicroPython-safe subset of Python (no dataclasses,
enum, typing at run time, re, json, logging; no ``raise ... from``).

``from lwm2m_client.core import ClientCore, ClientConfig, ObjectTree, ...`` gives the
whole device-side API. Each name is imported on first use (a module ``__getattr__``,
PEP 562, which MicroPython supports too), so a meter that needs the CoAP codec only does
not load the client, and importing any core module does not load all of them.
"""

# name -> module that defines it
_API = {
    "ClientCore": "lwm2m_client.core.client.engine",
    "ClientConfig": "lwm2m_client.core.client.engine",
    "LwM2MClient": "lwm2m_client.core.client.client",
    "Tuning": "lwm2m_client.core.coap.messaging",
    "ObjectTree": "lwm2m_client.core.dm.tree",
    "ObjectDef": "lwm2m_client.core.dm.model",
    "ResourceDef": "lwm2m_client.core.dm.model",
    "obj": "lwm2m_client.core.dm.model",
    "resource": "lwm2m_client.core.dm.model",
    "Instance": "lwm2m_client.core.dm.app",
    "attach": "lwm2m_client.core.dm.app",
    "add_security": "lwm2m_client.core.client.setup",
    "add_server": "lwm2m_client.core.client.setup",
    "add_device": "lwm2m_client.core.client.setup",
    "add_connectivity": "lwm2m_client.core.client.setup",
    "LwM2MError": "lwm2m_client.core.errors",
    "UsageError": "lwm2m_client.core.errors",
    "BadRequest": "lwm2m_client.core.errors",
    "NotFound": "lwm2m_client.core.errors",
    "MethodNotAllowed": "lwm2m_client.core.errors",
    "InternalServerError": "lwm2m_client.core.errors",
}

# Whole modules offered by name: events (Registered, ...), value types (T_FLOAT, ...).
_MODULES = {
    "events": "lwm2m_client.core.client.events",
    "types": "lwm2m_client.core.dm.types",
}

__all__ = tuple(_API) + tuple(_MODULES)


def _module(dotted):
    module = __import__(dotted)
    for part in dotted.split(".")[1:]:
        module = getattr(module, part)
    return module


def __getattr__(name):
    if name in _API:
        return getattr(_module(_API[name]), name)
    if name in _MODULES:
        return _module(_MODULES[name])
    # "from lwm2m_client.core import errors": MicroPython asks the package for the name
    # before it looks for a submodule of that name, so find the submodule here.
    try:
        return _module("lwm2m_client.core." + name)
    except ImportError:
        raise AttributeError("module 'lwm2m_client.core' has no attribute '%s'" % name)
