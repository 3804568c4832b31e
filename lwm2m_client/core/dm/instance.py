"""Instance storage and the application API of the object tree.

:class:`InstanceStore` holds the instances and values of every supported object and
offers what the meter application uses to publish its readings; operation flags are
not checked there because the application owns its data. The server-facing
operations live in :class:`lwm2m_client.core.dm.tree.ObjectTree`, which extends it;
the rules of the whole API are in that module's docstring.

Storage: ``oid -> iid -> rid -> value``, where the value of a multiple resource is a
dict ``riid -> value`` (possibly empty). Every value has passed
:func:`~lwm2m_client.core.dm.types.coerce` and its resource's range check. A resource
with a read hook may have no stored value: the hook computes it.
"""

from lwm2m_client.core.dm import transaction as _tx
from lwm2m_client.core.dm.changes import ChangeLog
from lwm2m_client.core.dm.hooks import HookRegistry, call, check_path
from lwm2m_client.core.dm.model import ObjectDef
from lwm2m_client.core.dm.path import MAX_ID, path_str
from lwm2m_client.core.errors import (
    BadRequest,
    InternalServerError,
    LwM2MError,
    NotFound,
    UsageError,
)

_MISSING = object()


def _misuse(op, path, why):
    return UsageError("%s %s: %s" % (op, path_str(path), why))


class InstanceStore(HookRegistry):
    """Objects, instances and values; application misuse raises UsageError at once.

    ``max_instances`` (per object) and ``max_resource_instances`` (per multiple
    resource) bound what a server can make the store hold; ``change_capacity`` bounds
    the change log.
    """

    def __init__(self, defs=(), change_capacity=32, max_instances=256,
                 max_resource_instances=256):
        HookRegistry.__init__(self)
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
        if not isinstance(odef, ObjectDef):
            raise UsageError("add_object: %r is not an ObjectDef" % (odef,))
        if odef.oid in self._defs:
            raise UsageError("add_object /%d: object already added" % odef.oid)
        self._defs[odef.oid] = odef
        self._data[odef.oid] = {}

    def definition(self, oid):
        """The ObjectDef of ``oid``; NotFound (4.04) when it is not supported."""
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
        """The lowest unused instance ID of ``oid``, or None when there is none (a
        single-instance object that has its instance, or no ID left)."""
        odef = self._app_def("free_iid", check_path("free_iid", (oid,), 1, 1))
        insts = self._data[oid]
        if not odef.multiple:
            return None if insts else 0
        iid = 0
        while iid in insts:
            iid += 1
        return iid if iid < MAX_ID else None

    def create_instance(self, oid, iid=None, values=None, check_mandatory=True):
        """Create ``/oid/iid`` with ``values``; returns the instance ID."""
        op = "create_instance"
        odef = self._app_def(op, check_path(op, (oid,), 1, 1))
        insts = self._data[oid]
        if iid is None:
            iid = self.free_iid(oid)
            if iid is None:
                raise _misuse(op, (oid,), "no free instance id")
        path = check_path(op, (oid, iid), 2, 2)
        if iid in insts:
            raise _misuse(op, path, "the instance exists")
        if iid >= MAX_ID:
            raise _misuse(op, path, "65535 is not a valid instance id")
        if not odef.multiple and iid != 0:
            raise _misuse(op, path, "object %d is single-instance: only instance 0" % oid)
        if len(insts) >= self.max_instances:
            raise _misuse(op, path, "object %d is full (max_instances %d)"
                          % (oid, self.max_instances))
        if values is not None and type(values) is not dict:
            raise _misuse(op, path, "values must be a dict rid -> value")
        inst = {}
        if values:
            for rid, value in values.items():
                rpath = check_path(op, (oid, iid, rid), 3, 3)
                inst[rid] = self._app_value(op, rpath, self._app_resource(op, rpath, odef),
                                            value)
        if check_mandatory:
            rid = _tx.missing_mandatory(odef, self._present(oid, iid, inst), False)
            if rid is not None:
                raise _misuse(op, (oid, iid, rid), "mandatory resource missing")
        insts[iid] = inst
        self._changes.add((oid, iid))
        return iid

    def delete_instance(self, oid, iid):
        """Delete ``/oid/iid`` and forget the hooks registered for it."""
        path = check_path("delete_instance", (oid, iid), 2, 2)
        self._app_instance("delete_instance", path)
        del self._data[oid][iid]
        self.drop_hooks(oid, iid)
        self._changes.add(path)

    def set(self, path, value):
        """Set a resource (a dict for a whole multiple resource) or resource instance.

        Checks type and range, not the operation flags. ``None`` removes the value.
        Records the path as changed only when the value really changes.
        """
        path = check_path("set", path, 3, 4)
        inst, rdef = self._app_target("set", path)
        if self._read_hook(path[:3]) is not None:
            raise _misuse("set", path, "a read hook computes this resource; report a new "
                          "value with changed()")
        rid = path[2]
        if len(path) == 3:
            if value is None:
                if rid in inst:
                    del inst[rid]
                    self._changes.add(path)
                return
            value = self._app_value("set", path, rdef, value)
            if inst.get(rid, _MISSING) != value:
                inst[rid] = value
                self._changes.add(path)
            return
        if not rdef.multiple:
            raise _misuse("set", path, "resource %d is single: no resource instances" % rid)
        riid = path[3]
        res = inst.get(rid)
        if value is None:
            if res is not None and riid in res:
                del res[riid]
                self._changes.add(path)
            return
        try:
            value = _tx.check_value(rdef, value)
        except BadRequest as exc:
            raise _misuse("set", path, str(exc))
        if res is None:
            res = {}
            inst[rid] = res
        if riid not in res and len(res) >= self.max_resource_instances:
            raise _misuse("set", path, "more than %d instances of resource %d"
                          % (len(res), rid))
        if res.get(riid, _MISSING) != value:
            res[riid] = value
            self._changes.add(path)

    def get(self, path):
        """The value at a resource (a dict copy for a multiple one) or resource instance.

        A resource with a read hook is computed by its hook; a failing hook raises the
        LwM2MError a server Read would answer (InternalServerError for a bug).
        """
        path = check_path("get", path, 3, 4)
        inst, rdef = self._app_target("get", path)
        hook = self._read_hook(path[:3])
        if hook is not None:
            value = self._hook_value(path[:3], inst, rdef, hook)
        else:
            value = inst.get(path[2], _MISSING)
            if value is _MISSING:
                raise _misuse("get", path, "no value")
        if type(value) is dict:
            if len(path) == 3:
                return dict(value)
            if path[3] in value:
                return value[path[3]]
        elif len(path) == 3:
            return value
        raise _misuse("get", path, "no such resource instance")

    def has(self, path):
        """True when the object, instance, resource (with a value, a read hook, or
        executable with a handler) or resource instance at ``path`` exists."""
        n = len(path)
        if n == 0:
            return True
        insts = self._data.get(path[0])
        if insts is None or n == 1:
            return insts is not None
        inst = insts.get(path[1])
        if inst is None or n == 2:
            return inst is not None
        hook = self._read_hook(path[:3])
        if n == 3:
            return (path[2] in inst or hook is not None
                    or self._exec_handler(path) is not None)
        if hook is None:
            value = inst.get(path[2])
        else:
            try:
                value = self._hook_value(path[:3], inst, self._defs[path[0]].resources[path[2]],
                                         hook)
            except LwM2MError:
                return False
        return type(value) is dict and path[3] in value

    def resource_ids(self, oid, iid):
        """Sorted IDs of the resources present in ``/oid/iid`` (for Discover)."""
        inst = self._instance(oid, iid)
        rids = self._present(oid, iid, inst)
        if self._exec:
            for rid in self._defs[oid].resources:
                if self._exec_handler((oid, iid, rid)) is not None:
                    rids.add(rid)
        return sorted(rids)

    def changed(self, path):
        """The application reports that the value at ``path`` moved (an object,
        instance, resource or resource instance). Nothing is stored; for a resource
        whose read hook caches, the hook runs now and the cached value is refreshed.
        """
        path = check_path("changed", path, 1, 4)
        odef = self._app_def("changed", path)
        if len(path) >= 2:
            inst = self._app_instance("changed", path)
        if len(path) >= 3:
            rdef = self._app_resource("changed", path, odef)
            self._changes.add(path)
            hook = self._read_hook(path[:3])
            if hook is not None and hook[1]:
                self._hook_value(path[:3], inst, rdef, hook)
            return
        self._changes.add(path)

    note_change = changed  # the earlier name; ClientCore.resource_changed calls it

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

    def _present(self, oid, iid, inst):
        """The set of resource IDs of ``inst`` with a stored value or a read hook."""
        rids = set(inst)
        if self._reads:
            rids.update(self._hooked_rids(oid, iid))
        return rids

    def _hook_value(self, path, inst, rdef, hook):
        """Run the read hook ``(fn, cache)`` of the resource ``path``; its value passes
        the checks of ``set`` or the read fails with InternalServerError (5.00)."""
        fn, cache = hook
        value = call(fn, path)
        try:
            value = self._checked(rdef, value)
        except LwM2MError as exc:
            raise InternalServerError("read hook of %s returned a bad value: %s"
                                      % (path_str(path), exc))
        if cache and inst.get(path[2], _MISSING) != value:
            inst[path[2]] = value
            self._changes.add(path)
        return value

    def _checked(self, rdef, value):
        # The type and range checks every stored value passes (BadRequest if not).
        if rdef.multiple:
            return _tx.check_multiple(rdef, value, self.max_resource_instances)
        return _tx.check_value(rdef, value)

    def _app_value(self, op, path, rdef, value):
        try:
            return self._checked(rdef, value)
        except BadRequest as exc:
            raise _misuse(op, path, str(exc))

    def _app_def(self, op, path):
        odef = self._defs.get(path[0])
        if odef is None:
            raise _misuse(op, path, "object %r is not supported" % (path[0],))
        return odef

    def _app_instance(self, op, path):
        self._app_def(op, path)
        inst = self._data[path[0]].get(path[1])
        if inst is None:
            raise _misuse(op, path, "no instance /%d/%d" % (path[0], path[1]))
        return inst

    def _app_resource(self, op, path, odef):
        rdef = odef.resources.get(path[2])
        if rdef is None:
            raise _misuse(op, path, "resource %d is not defined in object %d"
                          % (path[2], path[0]))
        return rdef

    def _app_target(self, op, path):
        inst = self._app_instance(op, path)
        return inst, self._app_resource(op, path, self._defs[path[0]])

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
