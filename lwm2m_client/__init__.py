"""lwm2m_client: an OMA LightweightM2M client library and smart-meter simulator.

``lwm2m_client.core`` is the sans-IO protocol core (MicroPython-safe); the other
subpackages are CPython adapters, tools and the simulator built around it.
"""

__version__ = "0.1.0"
