"""OMA LwM2M object models: the XML loader and the compiler to MicroPython-ready modules.

CPython only. The device side reads compiled modules through
:mod:`lwm2m_client.core.dm.compiled`.
"""

from .compiler import compile_objects
from .loader import (
    ModelError,
    load_file,
    load_objects,
    parse_xml,
    registry_dir,
    shipped_models_dir,
    shipped_objects,
)
from .ranges import parse_range

__all__ = [
    "ModelError",
    "compile_objects",
    "load_file",
    "load_objects",
    "parse_range",
    "parse_xml",
    "registry_dir",
    "shipped_models_dir",
    "shipped_objects",
]
