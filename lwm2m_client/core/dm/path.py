"""LwM2M paths ``/oid/iid/rid/riid`` as tuples of ints (LwM2M Core 1.1 section 6).

A path is a plain tuple of 0 to 4 ints: ``()`` is the root, ``(3,)`` an object,
``(3, 0)`` an instance, ``(3, 0, 1)`` a resource and ``(3, 0, 6, 0)`` a resource
instance. Tuples are hashable, compare in tree order and cost nothing on MicroPython.
"""

from lwm2m_client.core.errors import BadRequest

ROOT = ()
MAX_ID = 65535  # IDs are 16-bit (T1.1 section 6.4); 65535 is reserved in most places


def parse_path(text):
    """Parse ``"/3/0/1"`` (a leading slash is optional; ``"/"`` or ``""`` is the root).

    Raises :class:`BadRequest` for non-numeric, empty or out-of-range segments and for
    more than four levels.
    """
    if text in ("", "/"):
        return ROOT
    if text[0] == "/":
        text = text[1:]
    if text and text[-1] == "/":
        text = text[:-1]
    return path_from_segments(text.split("/"))


def path_from_segments(segments):
    """Build a path from Uri-Path segments (``str`` or ``bytes``)."""
    if len(segments) > 4:
        raise BadRequest("path deeper than /oid/iid/rid/riid")
    ids = []
    for seg in segments:
        if type(seg) is not str:
            try:
                seg = bytes(seg).decode("ascii")
            except (UnicodeError, ValueError):
                raise BadRequest("path segment is not ASCII")
        if not seg or not seg.isdigit() or (len(seg) > 1 and seg[0] == "0"):
            raise BadRequest("bad path segment %r" % seg)
        n = int(seg)
        if n > MAX_ID:
            raise BadRequest("path segment %d above 65535" % n)
        ids.append(n)
    return tuple(ids)


def path_str(path):
    """Render a path tuple as ``"/3/0/1"`` (``"/"`` for the root)."""
    if not path:
        return "/"
    return "/" + "/".join([str(i) for i in path])


def is_prefix(prefix, path):
    """True when ``prefix`` is ``path`` or one of its ancestors."""
    n = len(prefix)
    return n <= len(path) and path[:n] == prefix
