"""Sans-IO LwM2M protocol core, and its import surface for MicroPython and CPython.

Rules for everything below this package: no I/O, no clock, no
global randomness, and only the MicroPython-safe subset of Python (no dataclasses,
enum, typing at run time, re, json, logging; no ``raise ... from``).

``from lwm2m_client.core import ClientCore, ClientConfig, ObjectTree, ...`` gives the
whole device-side API. Each name is imported on first use (a module ``__getattr__``,
PEP 562, which MicroPython supports too), so a meter that needs the CoAP codec only does
not load the client, and importing any core module does not load all of them.
"""

# (module, the names it defines). Nested tuples of constants rather than a dict: frozen
# into firmware they stay in flash, where a dict would be built in RAM at import.
_API = (
    ("lwm2m_client.core.client.engine", ("ClientCore", "ClientConfig")),
    ("lwm2m_client.core.client.client", ("LwM2MClient",)),
    ("lwm2m_client.core.coap.messaging", ("Tuning",)),
    ("lwm2m_client.core.dm.tree", ("ObjectTree",)),
    ("lwm2m_client.core.dm.model", ("ObjectDef", "ResourceDef", "obj", "resource")),
    ("lwm2m_client.core.dm.app", ("Instance", "attach")),
    ("lwm2m_client.core.client.setup", ("add_security", "add_server", "add_device",
                                        "add_connectivity")),
    ("lwm2m_client.core.errors", ("LwM2MError", "UsageError", "BadRequest", "NotFound",
                                  "MethodNotAllowed", "InternalServerError")),
)

# Whole modules offered by name: events (Registered, ...), value types (T_FLOAT, ...).
_MODULES = (
    ("events", "lwm2m_client.core.client.events"),
    ("types", "lwm2m_client.core.dm.types"),
)

__all__ = tuple([name for _, names in _API for name in names] + [n for n, _ in _MODULES])


def _module(dotted):
    module = __import__(dotted)
    for part in dotted.split(".")[1:]:
        module = getattr(module, part)
    return module


def __getattr__(name):
    for dotted, names in _API:
        if name in names:
            return getattr(_module(dotted), name)
    for short, dotted in _MODULES:
        if name == short:
            return _module(dotted)
    # "from lwm2m_client.core import errors": MicroPython asks the package for the name
    # before it looks for a submodule of that name, so find the submodule here.
    try:
        return _module("lwm2m_client.core." + name)
    except ImportError:
        raise AttributeError("module 'lwm2m_client.core' has no attribute '%s'" % name)
