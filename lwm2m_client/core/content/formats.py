"""Content-Format number -> codec module, and the content negotiation rules.

One table for the client engine and the embedded server alike (LwM2M Core 1.2 section
7.4). A codec module is imported the first time :func:`codec` is asked for it, so a
meter that speaks SenML CBOR and TLV never loads the JSON codecs (each one costs RAM on
a device that loads ``.py`` or ``.mpy`` files). Freezing is unaffected: the manifest
lists every module of the core by file.
"""

from lwm2m_client.core.content import (
    CF_CBOR,
    CF_LWM2M_CBOR,
    CF_LWM2M_JSON,
    CF_LWM2M_JSON_OLD,
    CF_OPAQUE,
    CF_SENML_CBOR,
    CF_SENML_ETCH_CBOR,
    CF_SENML_ETCH_JSON,
    CF_SENML_JSON,
    CF_TEXT,
    CF_TLV,
    CF_TLV_OLD,
)

# Content-Format -> the module of lwm2m_client.core.content that encodes and decodes it.
MODULES = {
    CF_TEXT: "text",
    CF_OPAQUE: "opaque",
    CF_CBOR: "cbor_single",
    CF_SENML_JSON: "senml_json",
    CF_SENML_CBOR: "senml_cbor",
    CF_SENML_ETCH_JSON: "senml_json",
    CF_SENML_ETCH_CBOR: "senml_cbor",
    CF_TLV: "tlv",
    CF_TLV_OLD: "tlv",
    CF_LWM2M_JSON: "lwm2m_json",
    CF_LWM2M_JSON_OLD: "lwm2m_json",
    CF_LWM2M_CBOR: "lwm2m_cbor",
}

# Every content format the core has a codec for (ClientConfig's default ``formats``).
ALL = tuple(MODULES)

# Formats that carry a list of paths (Read-/Observe-Composite requests, Core 1.1 6.3.8);
# their modules also have ``decode_paths``.
PATH_LIST = (CF_SENML_JSON, CF_SENML_CBOR, CF_SENML_ETCH_JSON, CF_SENML_ETCH_CBOR)

# Formats whose bytes do not say the type: decoding needs the object definitions.
UNTYPED = (CF_TEXT, CF_OPAQUE, CF_TLV, CF_TLV_OLD)

# Formats that can carry several resources (an instance or an object).
HIERARCHICAL = (CF_TLV, CF_TLV_OLD, CF_SENML_JSON, CF_SENML_CBOR, CF_LWM2M_CBOR,
                CF_LWM2M_JSON, CF_LWM2M_JSON_OLD)

_loaded = {}  # module name -> module, the codecs imported so far


def codec(cf, allowed=None):
    """The module for Content-Format ``cf``, imported on first use; None when the core
    has no codec for it or ``allowed`` (the formats a client speaks; None: all of them)
    does not name it."""
    name = MODULES.get(cf)
    if name is None or (allowed is not None and cf not in allowed):
        return None
    module = _loaded.get(name)
    if module is None:
        # A non-empty fromlist makes __import__ return the module itself, not the
        # top-level package (CPython and MicroPython alike).
        module = __import__("lwm2m_client.core.content." + name, None, None, ("decode",))
        _loaded[name] = module
    return module


def path_list_codec(cf, allowed=None):
    """The module for ``cf`` when it carries a list of paths (:data:`PATH_LIST`), else
    None; ``allowed`` as for :func:`codec`."""
    return codec(cf, allowed) if cf in PATH_LIST else None


def default_format(version):
    """The format a client picks when a request has no Accept (Core 1.2 section 7.4:
    the client's choice): TLV for LwM2M 1.0 peers, for which 1.0 makes it mandatory;
    SenML CBOR for 1.1+ peers (Core 1.1 section 7.4: SHOULD NOT use TLV)."""
    return CF_TLV if version == "1.0" else CF_SENML_CBOR
