"""Instance storage and the application API of the object tree.

:class:`InstanceStore` holds the instances and values of every supported object and
offers what the meter application uses to publish its readings; operation flags are
not checked there because the application owns its data. The server-facing
operations live in :class:`lwm2m_client.core.dm.tree.ObjectTree`, which extends it.

Storage: ``oid -> iid -> rid -> value``, where the value of a multiple resource is a
dict ``riid -> value`` (possibly empty). Every value has passed
:func:`~lwm2m_client.core.dm.types.coerce` and its resource's range check.
"""

from lwm2m_client.core.dm import transaction as _tx
from lwm2m_client.core.dm.changes import ChangeLog
from lwm2m_client.core.dm.path import MAX_ID
from lwm2m_client.core.errors import BadRequest, InternalServerError, NotFound

_MISSING = object()


class InstanceStore:
    """Objects, instances and values; misuse raises BadRequest or NotFound at once.

    ``max_instances`` (per object) and ``max_resource_instances`` (per multiple
    resource) bound what a server can make the store hold; ``change_capacity`` bounds
    the change log.
    """

    def __init__(self, defs=(), change_capacity=32, max_instances=256,
                 max_resource_instances=256):
        self.max_instances = max_instances
        self.max_resource_instances = max_resource_instances
        self._defs = {}  # oid -> ObjectDef
        self._data = {}  # oid -> iid -> rid -> value or {riid: value}
        self._changes = ChangeLog(change_capacity)
        if type(defs) is dict:
            defs = defs.values()
        for odef in defs:
            self.add_object(odef)

    def __repr__(self):
        return "<%s objects=%r>" % (type(self).__name__, self.objects())

    def add_object(self, odef):
        if odef.oid in self._defs:
            raise ValueError("object %d already added" % odef.oid)
        self._defs[odef.oid] = odef
        self._data[odef.oid] = {}

    def definition(self, oid):
        odef = self._defs.get(oid)
        if odef is None:
            raise NotFound("object %d not supported" % oid)
        return odef

    def objects(self):
        return sorted(self._defs)

    def instances(self, oid):
        self.definition(oid)
        return sorted(self._data[oid])

    def free_iid(self, oid):
        """The lowest unused instance ID of ``oid``."""
        odef = self.definition(oid)
        insts = self._data[oid]
        if not odef.multiple:
            if insts:
                raise BadRequest("object %d is single-instance and has its instance" % oid)
            return 0
        iid = 0
        while iid in insts:
            iid += 1
        if iid >= MAX_ID:
            raise InternalServerError("no free instance id in object %d" % oid)
        return iid

    def create_instance(self, oid, iid=None, values=None, check_mandatory=True):
        """Create ``/oid/iid`` with ``values``; returns the instance ID."""
        odef = self.definition(oid)
        insts = self._data[oid]
        if iid is None:
            iid = self.free_iid(oid)
        elif iid in insts or not 0 <= iid < MAX_ID:
            raise BadRequest("instance /%d/%d exists or is not a valid id" % (oid, iid))
        elif not odef.multiple and iid != 0:
            raise BadRequest("object %d is single-instance: only instance 0" % oid)
        if len(insts) >= self.max_instances:
            raise InternalServerError("object %d is full" % oid)
        inst = {}
        if values:
            for rid, value in values.items():
                inst[rid] = self._app_value(odef, rid, value)
        if check_mandatory:
            rid = _tx.missing_mandatory(odef, inst, False)
            if rid is not None:
                raise BadRequest("mandatory resource /%d/%d/%d missing" % (oid, iid, rid))
        insts[iid] = inst
        self._changes.add((oid, iid))
        return iid

    def delete_instance(self, oid, iid):
        self._instance(oid, iid)
        del self._data[oid][iid]
        self._changes.add((oid, iid))

    def set(self, path, value):
        """Set a resource (a dict for a whole multiple resource) or resource instance.

        Checks type and range, not the operation flags. ``None`` removes the value.
        Records the path as changed only when the value really changes.
        """
        n = len(path)
        if n < 3 or n > 4:
            raise BadRequest("set needs a resource or resource instance path")
        odef = self.definition(path[0])
        inst = self._instance(path[0], path[1])
        rid = path[2]
        rdef = self._resource(odef, rid)
        if n == 3:
            if value is None:
                if rid in inst:
                    del inst[rid]
                    self._changes.add(path)
                return
            value = self._app_value(odef, rid, value)
            if inst.get(rid, _MISSING) != value:
                inst[rid] = value
                self._changes.add(path)
            return
        if not rdef.multiple:
            raise BadRequest("resource %d is single: no resource instances" % rid)
        riid = path[3]
        if not 0 <= riid <= MAX_ID:
            raise BadRequest("bad resource instance id %r" % (riid,))
        res = inst.get(rid)
        if value is None:
            if res is not None and riid in res:
                del res[riid]
                self._changes.add(path)
            return
        value = _tx.check_value(rdef, value)
        if res is None:
            res = {}
            inst[rid] = res
        if riid not in res and len(res) >= self.max_resource_instances:
            raise BadRequest("more than %d instances of resource %d" % (len(res), rid))
        if res.get(riid, _MISSING) != value:
            res[riid] = value
            self._changes.add(path)

    def get(self, path):
        """The value at a resource (a dict copy for a multiple one) or resource instance."""
        n = len(path)
        if n < 3 or n > 4:
            raise BadRequest("get needs a resource or resource instance path")
        inst = self._instance(path[0], path[1])
        value = inst.get(path[2], _MISSING)
        if value is _MISSING:
            raise NotFound("no value at /%d/%d/%d" % path[:3])
        if type(value) is dict:
            if n == 3:
                return dict(value)
            if path[3] in value:
                return value[path[3]]
        elif n == 3:
            return value
        raise NotFound("no resource instance at %r" % (path,))

    def note_change(self, path):
        """Record a change the application made outside ``set`` (its own storage)."""
        self._changes.add(path)

    def drain_changes(self):
        """Paths changed since the last call (at most ``change_capacity``, widened)."""
        return self._changes.drain()

    def type_of(self, path):
        """The T_* code of the resource ``path`` names, or None (for decoders)."""
        if len(path) < 3:
            return None
        odef = self._defs.get(path[0])
        rdef = odef.resources.get(path[2]) if odef is not None else None
        return rdef.type if rdef is not None else None

    # -- internals -------------------------------------------------------------

    def _instance(self, oid, iid):
        self.definition(oid)
        inst = self._data[oid].get(iid)
        if inst is None:
            raise NotFound("instance /%d/%d does not exist" % (oid, iid))
        return inst

    def _resource(self, odef, rid):
        rdef = odef.resources.get(rid)
        if rdef is None:
            raise NotFound("resource %d not defined in object %d" % (rid, odef.oid))
        return rdef

    def _app_value(self, odef, rid, value):
        rdef = self._resource(odef, rid)
        if rdef.multiple:
            return _tx.check_multiple(rdef, value, self.max_resource_instances)
        return _tx.check_value(rdef, value)
