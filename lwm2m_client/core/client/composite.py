"""Read-Composite and Write-Composite, client side (LwM2M Core 1.1 section 6.3.8;
Transport 1.1 section 6.4.4: FETCH and iPATCH on the root), and the body of an
Observe-Composite notification (the same composite read, see
:mod:`~lwm2m_client.core.client.observe`).

Part of :class:`~lwm2m_client.core.client.dm_handler.DMHandler`'s work, kept apart so a
client whose server never sends a composite request never loads it: the handler imports
this module with the first one. Errors are LwM2MErrors, answered by the handler.

Under access control (Core 1.1 section 8.2, :mod:`~lwm2m_client.core.client.access`)
the reads leave out the instances the server ``ssid`` may not read, and fail with 4.01
only when that leaves nothing; Write-Composite needs W on every instance it touches.
``ssid`` None applies no access control.
"""

from lwm2m_client.core.client.dm_handler import PROTECTED_OBJECTS, Reply
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.content import CF_SENML_CBOR, CF_SENML_JSON, formats
from lwm2m_client.core.errors import (
    BufferFull,
    InternalServerError,
    LwM2MError,
    MethodNotAllowed,
    NotAcceptable,
    NotFound,
    RequestEntityTooLarge,
    Unauthorized,
    UnsupportedContentFormat,
)


def read_composite(handler, msg, path, payload, version, ssid=None):
    if path:
        raise MethodNotAllowed("Read-Composite targets the root")
    cf = msg.content_format
    codec = formats.path_list_codec(cf, handler.formats)
    if codec is None:
        raise UnsupportedContentFormat("Read-Composite needs a SenML path list")
    try:
        targets = codec.decode_paths(payload)
    except MemoryError:
        raise RequestEntityTooLarge("no memory for the path list")
    records = gather(handler, targets, ssid)
    out_cf = msg.accept
    if out_cf is None:
        out_cf = cf if cf in (CF_SENML_JSON, CF_SENML_CBOR) else CF_SENML_CBOR
    elif out_cf not in formats.HIERARCHICAL:
        raise NotAcceptable("Read-Composite answers in a hierarchical format")
    if formats.codec(out_cf, handler.formats) is None:
        raise NotAcceptable("content format %d is not supported" % out_cf)
    reply = Reply("read-composite", m.CONTENT, out_cf, handler._encode(out_cf, records, ()))
    reply.paths = tuple(targets)  # what an Observe-Composite on this request observes
    return reply


def gather(handler, targets, ssid=None):
    """The records of a composite read of ``targets`` (paths) by server ``ssid``, sorted
    by path and each path once; raises NotFound when none of them exists, Unauthorized
    for the Security object and when the server may read none of them."""
    records = []
    denied = False
    for target in targets:
        if target and target[0] in PROTECTED_OBJECTS:
            raise Unauthorized("the Security object is not readable")
        # "/" names every object a server may read (ETS 1.1 int-235).
        found = [target] if target else [
            (oid,) for oid in handler.tree.objects() if oid not in PROTECTED_OBJECTS]
        for one in found:
            try:
                records.extend(handler.read_records(one, ssid))
            except Unauthorized:
                denied = True  # skipped: no Read right there (Core 1.1 section 8.2)
                continue
            except (NotFound, MethodNotAllowed):
                # Best effort: what is missing or not readable (an executable
                # resource) is left out (Core 1.1 section 6.3.8; ETS int-236, 281).
                continue
    if not records:
        if denied:
            raise Unauthorized("none of the paths may be read")
        raise NotFound("none of the paths exists")
    records.sort()
    # Overlapping paths (/1/0 and /1/0/1) must not report a value twice.
    return [rec for i, rec in enumerate(records)
            if i == 0 or rec[0] != records[i - 1][0]]


def notification(handler, targets, cf, ssid=None):
    """``(code, body)`` of an Observe-Composite notification for server ``ssid``: the
    composite read of ``targets`` in ``cf`` (the format of the first answer), or an error
    code and None (none of the paths is left, or readable: the observation ends, RFC
    7641 section 3.2)."""
    try:
        return m.CONTENT, handler._encode(cf, gather(handler, targets, ssid), ())
    except BufferFull:
        return InternalServerError.code, None
    except LwM2MError as exc:
        return exc.code, None
    except MemoryError:
        return InternalServerError.code, None


def write_composite(handler, msg, path, payload, ssid=None):
    if path:
        raise MethodNotAllowed("Write-Composite targets the root")
    items = handler._decode(msg, payload, ())
    for p, _ in items:
        if p and p[0] in PROTECTED_OBJECTS:
            raise Unauthorized("the Security object is not writable")
    acl = None if ssid is None else handler.access_control()
    if acl is not None:
        acl.authorize_items(handler.tree, ssid, items)  # W everywhere, or nothing
    handler.tree.write_composite(items)
    return Reply("write-composite", m.CHANGED)
