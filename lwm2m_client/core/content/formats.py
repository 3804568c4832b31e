"""Content-Format number -> codec module, and the content negotiation rules.

One table for the client engine and the embedded server alike (LwM2M Core 1.2 section
7.4). Imports are direct so MicroPython's freezer sees them.
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
    cbor_single,
    lwm2m_cbor,
    lwm2m_json,
    opaque,
    senml_cbor,
    senml_json,
    text,
    tlv,
)

CODECS = {
    CF_TEXT: text,
    CF_OPAQUE: opaque,
    CF_CBOR: cbor_single,
    CF_SENML_JSON: senml_json,
    CF_SENML_CBOR: senml_cbor,
    CF_SENML_ETCH_JSON: senml_json,
    CF_SENML_ETCH_CBOR: senml_cbor,
    CF_TLV: tlv,
    CF_TLV_OLD: tlv,
    CF_LWM2M_JSON: lwm2m_json,
    CF_LWM2M_JSON_OLD: lwm2m_json,
    CF_LWM2M_CBOR: lwm2m_cbor,
}

# Formats that carry a list of paths (Read-/Observe-Composite requests, Core 1.1 6.3.8).
PATH_LIST_CODECS = {
    CF_SENML_JSON: senml_json,
    CF_SENML_CBOR: senml_cbor,
    CF_SENML_ETCH_JSON: senml_json,
    CF_SENML_ETCH_CBOR: senml_cbor,
}

# Formats whose bytes do not say the type: decoding needs the object definitions.
UNTYPED = (CF_TEXT, CF_OPAQUE, CF_TLV, CF_TLV_OLD)

# Formats that can carry several resources (an instance or an object).
HIERARCHICAL = (CF_TLV, CF_TLV_OLD, CF_SENML_JSON, CF_SENML_CBOR, CF_LWM2M_CBOR,
                CF_LWM2M_JSON, CF_LWM2M_JSON_OLD)


def codec(cf):
    """The module for Content-Format ``cf``, or None when it is not supported."""
    return CODECS.get(cf)


def default_format(version):
    """The format a client picks when a request has no Accept (Core 1.2 section 7.4:
    the client's choice): TLV for LwM2M 1.0 peers, for which 1.0 makes it mandatory;
    SenML CBOR for 1.1+ peers (Core 1.1 section 7.4: SHOULD NOT use TLV)."""
    return CF_TLV if version == "1.0" else CF_SENML_CBOR
