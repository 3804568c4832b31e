"""Staged changes to object instances: the all-or-nothing half of the tree.

A server Write, Write-Composite or Create first stages its items on private copies of
the instances it touches; every check (path, type, range, operations, limits) happens
while staging and raises the LwM2MError of the first bad item. Only when all items are
staged, and the application's validators accepted the result, does :meth:`commit`
swap the copies in. A failure at any point therefore leaves the tree exactly as it
was: never half-applied state.

Instance storage, shared with :mod:`lwm2m_client.core.dm.tree`: an instance is a dict
``rid -> value`` where a multiple resource's value is a dict ``riid -> value``.
"""

from lwm2m_client.core.dm.path import MAX_ID
from lwm2m_client.core.dm.types import coerce
from lwm2m_client.core.errors import (
    BadRequest,
    InternalServerError,
    MethodNotAllowed,
    NotFound,
    RequestEntityTooLarge,
)

_MISSING = object()


def check_value(rdef, value):
    """Coerce ``value`` to the type of ``rdef`` and check its range (4.00 if not)."""
    if rdef.executable:
        raise BadRequest("resource %d is executable and has no value" % rdef.rid)
    value = coerce(rdef.type, value)
    if rdef.range is not None and not rdef.range.check(rdef.type, value):
        raise BadRequest("value of resource %d out of range %s" % (rdef.rid, rdef.range.text))
    return value


def check_multiple(rdef, mapping, limit):
    """Validate a whole multiple resource given as a dict ``riid -> value``."""
    if type(mapping) is not dict:
        raise BadRequest("resource %d is multiple: a dict riid -> value is expected" % rdef.rid)
    if len(mapping) > limit:
        raise BadRequest("more than %d instances of resource %d" % (limit, rdef.rid))
    out = {}
    for riid, value in mapping.items():
        if type(riid) is not int or not 0 <= riid <= MAX_ID:
            raise BadRequest("bad resource instance id %r" % (riid,))
        out[riid] = check_value(rdef, value)
    return out


def copy_instance(inst):
    """A copy deep enough to stage changes on: multiple-resource dicts are copied too."""
    out = {}
    for rid, value in inst.items():
        out[rid] = dict(value) if type(value) is dict else value
    return out


def missing_mandatory(odef, inst, writable_only):
    """The first mandatory resource ID without a value in ``inst``, or None."""
    for rid in sorted(odef.resources):
        rdef = odef.resources[rid]
        if not rdef.mandatory or rdef.executable or rid in inst:
            continue
        if writable_only and not rdef.writable:
            continue
        return rid
    return None


class Transaction:
    """Changes staged against ``data`` (oid -> iid -> instance) under ``defs``.

    ``bootstrap`` selects the Bootstrap-Write rules (C1.1 section 6.1.7.5): operation
    flags are not checked, missing instances are created and resources the object does
    not define are ignored.
    """

    def __init__(self, defs, data, bootstrap, max_instances, max_resource_instances):
        self.defs = defs
        self.data = data
        self.bootstrap = bootstrap
        self.max_instances = max_instances
        self.max_resource_instances = max_resource_instances
        self.staged = {}  # (oid, iid) -> staged instance dict
        self.created = []  # (oid, iid) of the instances this transaction creates
        self._cleared = set()  # (oid, iid, rid) multiple resources already replaced

    def __repr__(self):
        return "<Transaction %d staged, %d created>" % (len(self.staged), len(self.created))

    def stage(self, oid, iid, create=False):
        """The staged copy of ``/oid/iid``, made on first use (NotFound if missing)."""
        key = (oid, iid)
        inst = self.staged.get(key)
        if inst is not None:
            return inst
        insts = self.data.get(oid)
        if insts is None:
            raise NotFound("object %d not supported" % oid)
        current = insts.get(iid)
        if current is not None:
            inst = copy_instance(current)
        elif not create:
            raise NotFound("instance /%d/%d does not exist" % (oid, iid))
        else:
            if not self.defs[oid].multiple and iid != 0:
                raise BadRequest("object %d is single-instance: only instance 0" % oid)
            pending = 0
            for k in self.created:
                if k[0] == oid:
                    pending += 1
            if len(insts) + pending >= self.max_instances:
                # No 4.xx describes "no room for another instance" (T1.1 section 6.7).
                raise InternalServerError("object %d is full" % oid)
            inst = {}
            self.created.append(key)
        self.staged[key] = inst
        return inst

    def put(self, path, value, whole):
        """Stage one decoded item ``(path, value)``; ``path`` names a resource or a
        resource instance.

        ``whole`` makes the first item of a multiple resource replace all its
        instances (Write Replace, C1.1 section 6.3.3); otherwise instances merge
        (Partial Update). A None value on a resource instance deletes it (LwM2M 1.2
        SenML-ETCH, C1.2 section 7.4.6); on a multiple resource it stands for "no
        instances" (an empty Multiple Resource TLV).
        """
        n = len(path)
        if n < 3 or n > 4:
            raise BadRequest("a written value must name a resource or resource instance")
        oid, iid, rid = path[0], path[1], path[2]
        odef = self.defs.get(oid)
        if odef is None:
            raise NotFound("object %d not supported" % oid)
        rdef = odef.resources.get(rid)
        if rdef is None:
            if self.bootstrap:
                return  # unknown resources are ignored (C1.1 section 6.1.7.5)
            raise NotFound("resource %d not defined in object %d" % (rid, oid))
        if rdef.executable or not (self.bootstrap or rdef.writable):
            raise MethodNotAllowed("resource /%d/%d/%d is not writable" % (oid, iid, rid))
        inst = self.stage(oid, iid, self.bootstrap)
        if not rdef.multiple:
            if n == 4 or value is None:
                raise BadRequest("resource %d is single: one value expected" % rid)
            inst[rid] = check_value(rdef, value)
            return
        key = (oid, iid, rid)
        if whole and key not in self._cleared:
            self._cleared.add(key)
            inst[rid] = {}
        res = inst.get(rid)
        if n == 3:
            if value is not None:
                raise BadRequest("resource %d is multiple: instance values expected" % rid)
            if res is None:
                inst[rid] = {}
            return
        riid = path[3]
        if value is None:
            if res is not None and riid in res:
                del res[riid]
            return
        value = check_value(rdef, value)
        if res is None:
            res = {}
            inst[rid] = res
        if riid not in res and len(res) >= self.max_resource_instances:
            raise RequestEntityTooLarge("too many instances of resource %d" % rid)
        res[riid] = value

    def reset_absent(self, oid, iid, keep):
        """Write Replace on an instance: drop optional writable resources not in ``keep``.

        C1.1 section 6.3.3 says Replace "replaces the Object Instance"; like Leshan
        (which resets absent writable resources) and Anjay (which resets the instance
        before writing), writable resources the payload omits lose their value.
        Mandatory ones keep theirs, since the tree has no default to put back and an
        instance without them would be inconsistent.
        """
        inst = self.stage(oid, iid)
        resources = self.defs[oid].resources
        for rid in list(inst):
            rdef = resources[rid]
            if rid not in keep and rdef.writable and not rdef.mandatory:
                del inst[rid]

    def changes(self):
        """``[(path, new value or None)]`` for every resource whose value differs,
        sorted by path. Multiple resources are given as a fresh dict."""
        out = []
        for key in sorted(self.staged):
            oid, iid = key
            new = self.staged[key]
            old = self.data[oid].get(iid) or {}
            rids = set(old)
            rids.update(new)
            for rid in sorted(rids):
                nv = new.get(rid, _MISSING)
                if nv is _MISSING:
                    out.append(((oid, iid, rid), None))
                elif nv != old.get(rid, _MISSING):
                    out.append(((oid, iid, rid), dict(nv) if type(nv) is dict else nv))
        return out

    def commit(self):
        """Swap the staged instances in. Plain dict stores: this cannot fail halfway."""
        for key, inst in self.staged.items():
            self.data[key[0]][key[1]] = inst
