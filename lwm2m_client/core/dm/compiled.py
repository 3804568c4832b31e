"""Object definitions from compact tuples: the form a compiled model module carries.

``lwm2m-meter models compile`` turns OMA XML into a Python module of plain tuples, so a
MicroPython device loads its object definitions without an XML parser (the same idea as
Anjay's code generator). This module is the reading half; it is part of the core and
MicroPython-safe.

Layout (positional, to keep the generated source and its bytecode small)::

    object   = (oid, name, urn, lwm2m_version, object_version, multiple, mandatory,
                resources, description)
    resource = (rid, name, operations, multiple, mandatory, type, range, units,
                description)
    range    = None or (kind, lo, hi, values, text)

``multiple`` and ``mandatory`` are 0/1, ``operations`` the OP_* flags, ``type`` the T_*
code; descriptions are "" unless the module was compiled with them. A module compiled
without names has None (or "") for ``name`` and ``urn``; they are read as "", which
everything in the core that shows a name copes with.
"""

from lwm2m_client.core.dm.model import ObjectDef, Range, ResourceDef

# Bumped when the tuple layout changes; a compiled module records the one it was made for.
FORMAT = 1


def range_from_tuple(data):
    if data is None:
        return None
    kind, lo, hi, values, text = data
    return Range(kind, lo, hi, values, text)


def resource_from_tuple(data):
    rid, name, ops, multiple, mandatory, typ, rng, units, description = data
    return ResourceDef(rid, name or "", ops, bool(multiple), bool(mandatory), typ,
                       range_from_tuple(rng), units, description)


def object_from_tuple(data):
    oid, name, urn, lwm2m_version, object_version, multiple, mandatory, res, description = data
    resources = {}
    for item in res:
        r = resource_from_tuple(item)
        resources[r.rid] = r
    return ObjectDef(oid, name or "", urn or "", lwm2m_version, object_version,
                     bool(multiple), bool(mandatory), resources, description)


def objects_from_tuples(data, fmt=FORMAT):
    """A dict oid -> ObjectDef from a tuple of object tuples.

    ``fmt`` is the layout version the data was compiled for; a mismatch raises
    ValueError (application misuse: the module must be compiled again).
    """
    if fmt != FORMAT:
        raise ValueError("compiled model format %r, this core reads %d" % (fmt, FORMAT))
    objects = {}
    for item in data:
        obj = object_from_tuple(item)
        objects[obj.oid] = obj
    return objects


def range_to_tuple(rng):
    if rng is None:
        return None
    return (rng.kind, rng.lo, rng.hi, rng.values, rng.text)


def object_to_tuple(obj, descriptions=False, names=True):
    """The inverse of :func:`object_from_tuple`; descriptions only when asked, names
    (and the URN) unless told not to (None in their place)."""
    res = []
    for rid in sorted(obj.resources):
        r = obj.resources[rid]
        res.append((r.rid, r.name if names else None, r.operations, int(r.multiple),
                    int(r.mandatory), r.type, range_to_tuple(r.range), r.units,
                    r.description if descriptions else ""))
    return (obj.oid, obj.name if names else None, obj.urn if names else None,
            obj.lwm2m_version, obj.object_version, int(obj.multiple), int(obj.mandatory),
            tuple(res), obj.description if descriptions else "")
