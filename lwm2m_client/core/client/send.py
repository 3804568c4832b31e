"""The Send operation (LwM2M Core 1.1 section 6.4.6; Transport 1.1 section 6.4.6).

The client reports values without being asked: a confirmable ``POST /dp`` whose body is
the current value of each path in SenML CBOR (or SenML JSON when that is the client's
preferred format), with the paths absolute. A server that set Mute Send ``/1/x/23`` gets
none (Core 1.1, Object 1 resource 23); a server registered as LwM2M 1.0 gets none either,
as Send came with 1.1. The server's answer (2.04) or its absence becomes an event.
"""

from lwm2m_client.core.client.dm_handler import PROTECTED_OBJECTS
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.content import CF_SENML_CBOR, CF_SENML_JSON
from lwm2m_client.core.errors import LwM2MError, UsageError

# Object 1 resource 23, Mute Send.
MUTE_SEND = 23


def is_muted(tree, account):
    """Mute Send ``/1/x/23`` (Object 1 v1.1): Send is off when it is true *or absent*.
    A Server object defined without the resource (a 1.0 model, or one compiled without
    it) has no switch to turn Send off, so Send stays on there."""
    path = (1, account.server_iid, MUTE_SEND)
    if tree.definition(1).resource(MUTE_SEND) is None:
        return False
    return not tree.has(path) or bool(tree.get(path))


def send_format(config):
    """SenML JSON when the client prefers it, else SenML CBOR; either must be one of
    the formats the client speaks."""
    cf = CF_SENML_JSON if config.preferred_format == CF_SENML_JSON else CF_SENML_CBOR
    if config.formats is not None and cf not in config.formats:
        raise UsageError("Send needs SenML CBOR or SenML JSON among the client's formats")
    return cf


def records_of(tree, paths):
    """The records of ``paths`` (tuples), sorted and each once; a path that is not
    there, or not readable, is the application's mistake. So is one in the Security
    or OSCORE object, which no server may see (Core 1.1 sections 6.3, 6.4.6), and a
    Send with no value at all."""
    records = []
    for path in paths:
        path = tuple(path)
        if path and path[0] in PROTECTED_OBJECTS:
            raise UsageError("send %r: the Security and OSCORE objects are not for "
                             "servers" % (path,))
        try:
            records.extend(tree.read(path))
        except LwM2MError as exc:
            raise UsageError("send %r: %s" % (path, exc))
    if not records:
        raise UsageError("send: no readable value at the paths given")
    records.sort()
    return [rec for i, rec in enumerate(records) if i == 0 or rec[0] != records[i - 1][0]]


def send_message(handler, cf, records):
    """The ``POST /dp`` request for ``records``."""
    msg = m.Message(m.CON, m.POST)
    msg.uri_path = ["dp"]
    msg.content_format = cf
    msg.payload = bytes(handler._encode(cf, records, ()))
    return msg
