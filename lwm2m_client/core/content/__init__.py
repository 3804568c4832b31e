"""LwM2M content formats (LwM2M Core 1.2 section 7.4).

Every format module offers the same two functions:

``encode_into(buf, records, base=()) -> int``
    Write ``records`` into the caller's ``bytearray``/``memoryview`` ``buf`` and return
    the number of bytes written. Raises :class:`~lwm2m_client.core.errors.BufferFull`
    when they do not fit (never truncates) and
    :class:`~lwm2m_client.core.errors.NotAcceptable` when the format cannot carry them
    (e.g. plain text asked for a whole instance).

``decode(data, base=(), type_of=None) -> list``
    Parse any bytes-like ``data``; return a list of ``(path, value)``. Raises only
    :class:`~lwm2m_client.core.errors.DecodeError` (4.00) for bad input, whatever it is.

Conventions shared by all formats:

- A *record* is a tuple ``(path, type, value)``: ``path`` a tuple of ints (see
  :mod:`lwm2m_client.core.dm.path`) naming a resource ``(o, i, r)`` or a resource
  instance ``(o, i, r, ri)``; ``type`` a ``T_*`` code from
  :mod:`lwm2m_client.core.dm.types`; ``value`` the Python value for that type.
  SenML encoders also accept a 4-tuple whose last item is a time in seconds (``t``).
- Records come sorted by path. A resource with a 4-level path is a multiple resource;
  ``(path3, type, None)`` stands for a multiple resource with no instances (TLV writes an
  empty Multiple Resource TLV for it; other formats write nothing).
- ``base`` is the path the request addressed; formats use it for ``bn`` or to choose
  the TLV nesting (an Object Instance TLV wraps the body when ``base`` is an object).
- ``type_of(path)`` returns the ``T_*`` code of a resource path, or None when unknown.
  Formats whose bytes do not say the type (TLV, plain text, opaque) need it; others
  return the value the wire carries and leave :func:`~lwm2m_client.core.dm.types.coerce`
  to the caller. A decoded ``None`` value means "no value": an empty Multiple Resource
  TLV, or a SenML-ETCH null (delete the resource instance, LwM2M 1.2).
"""

# Content-Format numbers (LwM2M Core 1.2 section 7.4 table; IANA CoAP registry).
CF_TEXT = 0
CF_LINK = 40
CF_OPAQUE = 42
CF_CBOR = 60
CF_SENML_JSON = 110
CF_SENML_CBOR = 112
CF_SENML_ETCH_JSON = 320
CF_SENML_ETCH_CBOR = 322
CF_TLV = 11542
CF_LWM2M_JSON = 11543
CF_LWM2M_CBOR = 11544
# Pre-IANA numbers some 1.0 servers still send.
CF_TLV_OLD = 1542
CF_LWM2M_JSON_OLD = 1543
