"""The object tree: instances and values of every supported object, and the hooks
through which the application implements them.

Built from :class:`~lwm2m_client.core.dm.model.ObjectDef` s (OMA XML, a compiled model
module, or :func:`~lwm2m_client.core.dm.model.obj` in Python); paths are tuples such as
``(3, 0, 13)`` (:mod:`~lwm2m_client.core.dm.path`). An object instance written as a
Python class plugs in with :mod:`lwm2m_client.core.dm.app`.

Two error channels (misuse raises, the peer gets a code)
    The application API raises :class:`~lwm2m_client.core.errors.UsageError` (a
    ValueError) at once for misuse: a bad path or argument, a missing object, instance
    or value, a value of the wrong type or out of range. Its one-line message names the
    call and the path, e.g. ``set /9000/0/1: value of resource 1 out of range -10..10``.
    The server-facing operations raise the LwM2MError whose ``code`` is the response,
    and nothing else.

Application API (the meter owns its readings: operation flags are not checked)
    ``add_object(odef)``; ``create_instance(oid, iid=None, values=None,
    check_mandatory=True) -> iid`` (``values``: ``rid -> value``, or ``rid -> {riid:
    value}`` for a multiple resource; ``check_mandatory=False`` lets mandatory
    resources be filled right after); ``delete_instance(oid, iid)``; ``set(path,
    value)`` (None removes the value); ``get(path)``; ``has(path)``; ``changed(path)``;
    ``drain_changes() -> [path]``; ``free_iid(oid) -> iid or None``; ``objects()``.
    ``instances(oid)``, ``resource_ids(oid, iid)`` and ``definition(oid)`` serve
    Discover and the request handler too, so an unknown ID there is NotFound.

Reporting a changed value: one rule
    The change log (``drain_changes``, bounded: :mod:`~lwm2m_client.core.dm.changes`)
    is what the notification machinery reads; a server learns of a new value only
    through its path (or a wider one) in that log. Values the tree stores: ``set(path,
    value)`` records the path when the value differs. Values a read hook computes:
    ``changed(path)`` records the path (``note_change`` is the same call); for a caching
    hook it also runs the hook and stores the fresh value. Server Writes, Creates and
    Deletes, and the application's ``create_instance``/``delete_instance``, record
    themselves.

Server-facing operations
    ``read(path)``, ``write(path, items, replace=True, bootstrap=False)``,
    ``write_composite(items)``, ``create(oid, iid, items) -> iid``,
    ``delete(path, bootstrap=False)``, ``execute(path, args=b"")``, ``type_of(path)``.
    Writes and Create are all-or-nothing (:mod:`~lwm2m_client.core.dm.transaction`).

Hooks (all optional; a registration with a bad path raises UsageError)
    ``on_read(path, fn, cache=False)``: ``fn(path)`` returns the value of the resource
    ``path`` = ``(oid, iid, rid)`` (``iid`` None: of every instance; a dict ``riid ->
    value`` for a multiple resource). It runs at every read: a server Read of the
    resource, its instance or object, Read-Composite, the ``dim`` of Discover, and the
    application's ``get``. Its value passes the checks of ``set``. With ``cache=False``
    nothing is stored (a live power reading); with ``cache=True`` the value is stored
    as ``set`` would store it, recording a change when it differs. A hooked resource
    exists (``has``, ``resource_ids``, Discover, the mandatory check) without a stored
    value; ``set`` refuses it; a server Write to it is stored, but reads ask the hook.
    ``on_write(prefix, check)``: ``check(path, value)`` runs before a server Write,
    Write-Composite or Create is applied, once per resource under ``prefix`` whose
    value would change (``value`` None: it would be removed; a dict for a multiple
    resource); raising an LwM2MError vetoes the whole operation and nothing is applied.
    ``on_written(prefix, notify)``: ``notify(path, value)`` after such an operation was
    applied, same arguments; a failure is raised after every ``notify`` ran, and the
    write stays applied. ``prefix``: ``()``, an object, an instance or a resource.
    ``on_create(oid, hook)``: ``hook(path, values)`` before a server Create commits; it
    may veto, or add values to the dict ``values`` for resources the server cannot write
    (checked like ``set``). One hook per object: a second replaces the first.
    ``on_delete(path, hook)``: ``hook(path)`` before a server Delete of an instance;
    ``path`` is an object (``oid`` or ``(oid,)``: each of its instances) or one
    instance ``(oid, iid)``. The instance's hook runs first; either may veto.
    ``on_execute(path, handler)``: ``handler(path, args)`` for ``(oid, iid, rid)``, or
    for every instance when ``iid`` is None; ``args`` is the parsed argument list
    ``[(digit, value or None)]`` (:mod:`~lwm2m_client.core.dm.execargs`); malformed
    arguments answer 4.00 before the handler runs.
    ``deny_create(oid)`` and ``deny_delete(path)`` (an object or an instance, e.g.
    ``(3, 0)``) make the server's Create and Delete answer 4.05.

    A read or execute hook for one instance wins over the one for every instance. The
    hooks of one instance (read and execute hooks with its ``iid``; checks, post-write
    and Delete hooks whose path lies inside it) go when the instance is deleted, by the
    application or a server; ``drop_hooks(oid, iid)`` forgets them by hand.

    A hook may raise an LwM2MError on purpose: that is the answer (NotFound 4.04,
    BadRequest 4.00 ...); in an instance or object Read, a read hook's NotFound leaves
    its resource out. Any other exception, and a read hook's value of the wrong type or
    out of range, becomes InternalServerError (5.00): a hook never crashes the caller.
"""

from lwm2m_client.core.dm import transaction as _tx
from lwm2m_client.core.dm.hooks import call
from lwm2m_client.core.dm.instance import InstanceStore
from lwm2m_client.core.dm.path import MAX_ID, is_prefix
from lwm2m_client.core.errors import (
    BadRequest,
    InternalServerError,
    LwM2MError,
    MethodNotAllowed,
    NotFound,
)

_MISSING = object()


def _emit(out, path, rdef, value):
    # Record convention (core.content): a multiple resource reads as its instances,
    # or as (path, type, None) when it has none.
    if not rdef.multiple:
        out.append((path, rdef.type, value))
    elif not value:
        out.append((path, rdef.type, None))
    else:
        for riid in sorted(value):
            out.append((path + (riid,), rdef.type, value[riid]))


class ObjectTree(InstanceStore):
    """Objects, instances and resource values, with server operations and hooks."""

    # -- server-facing operations ----------------------------------------------

    def read(self, path):
        """Records ``(path, type, value)`` sorted by path (C1.1 section 6.3.1).

        Object and instance reads skip resources that are not readable; a resource
        read of one answers 4.05 (T1.1 section 6.4.4). Read hooks compute their
        resources' values (see the module docstring).
        """
        n = len(path)
        if n == 0:
            raise MethodNotAllowed("read of the root")
        oid = path[0]
        odef = self.definition(oid)
        insts = self._data[oid]
        out = []
        if n <= 2:
            iids = sorted(insts) if n == 1 else [path[1]]
            for iid in iids:
                inst = self._instance(oid, iid)
                for rid in sorted(self._present(oid, iid, inst)):
                    rdef = odef.resources[rid]
                    if not rdef.readable:
                        continue
                    try:
                        value = self._value((oid, iid, rid), inst, rdef)
                    except NotFound:
                        continue  # a read hook says the resource has no value now
                    _emit(out, (oid, iid, rid), rdef, value)
            return out
        inst = self._instance(oid, path[1])
        rdef = self._resource(odef, path[2])
        if not rdef.readable:
            raise MethodNotAllowed("resource %d is not readable" % path[2])
        value = self._value(path[:3], inst, rdef)
        if n == 3:
            _emit(out, path, rdef, value)
        elif rdef.multiple and path[3] in value:
            out.append((path, rdef.type, value[path[3]]))
        else:
            raise NotFound("no resource instance at %r" % (path,))
        return out

    def write(self, path, items, replace=True, bootstrap=False):
        """Apply decoded ``items`` ``[(path, value)]`` under ``path``; all or nothing.

        ``replace`` is Write Replace (PUT), otherwise Partial Update (POST); C1.1
        section 6.3.3. Replace on an instance resets absent optional writable
        resources (see :meth:`Transaction.reset_absent`); replace on a multiple
        resource replaces all its instances. ``bootstrap`` is Bootstrap-Write (C1.1
        section 6.1.7.5): ``/oid`` is allowed, operation flags are ignored, missing
        instances are created, unknown resources ignored, and absent resources are
        kept. Returns the changed paths (created instances first).
        """
        n = len(path)
        if n == 0 or (n == 1 and not bootstrap):
            # PUT /o cannot be expressed: POST /o means Create (T1.1 section 6.4.4).
            raise MethodNotAllowed("write needs an instance or resource path")
        oid = path[0]
        odef = self.definition(oid)
        txn = self._transaction(bootstrap)
        if n >= 2:
            txn.stage(oid, path[1], bootstrap)
        if n >= 3:
            rdef = self._resource(odef, path[2])
            if n == 4 and not rdef.multiple:
                raise NotFound("resource %d has no instances" % path[2])
            if not rdef.multiple and not items:
                raise BadRequest("no value for resource %d" % path[2])
        whole = replace and n < 4
        if n == 3 and whole and rdef.multiple:
            txn.put(path, None, True)  # an empty payload empties the resource
        keep = set()
        for ipath, value in items:
            if len(ipath) < 3 or not is_prefix(path, ipath):
                raise BadRequest("item %r outside the written path" % (ipath,))
            txn.put(ipath, value, whole)
            keep.add(ipath[2])
        if n == 2 and replace and not bootstrap:
            txn.reset_absent(oid, path[1], keep)
        return self._finish(txn)

    def write_composite(self, items):
        """Write-Composite (C1.1 section 6.3.8): resources of any instances, all or
        nothing; multiple resources merge per resource instance."""
        txn = self._transaction(False)
        for path, value in items:
            txn.put(path, value, False)
        return self._finish(txn)

    def create(self, oid, iid, items):
        """Create ``/oid/iid`` from decoded ``items`` (C1.1 section 6.3.6); ``iid``
        None takes the lowest free ID. Returns the instance ID.

        4.05 when the object denies Create or is single-instance and has its instance;
        4.00 when the instance exists or a mandatory writable resource is missing
        (T1.1 section 6.4.4). Resources the server cannot write answer 4.05: Create
        follows the Write rules; ``on_create`` fills read-only ones.
        """
        odef = self.definition(oid)
        insts = self._data[oid]
        if oid in self._no_create or (not odef.multiple and insts):
            raise MethodNotAllowed("object %d does not allow create" % oid)
        if iid is None:
            iid = self.free_iid(oid)
            if iid is None:
                # No 4.xx describes "no instance ID left" (T1.1 section 6.7).
                raise InternalServerError("no free instance id in object %d" % oid)
        elif iid in insts or not 0 <= iid < MAX_ID:
            raise BadRequest("instance /%d/%d exists or is not a valid id" % (oid, iid))
        txn = self._transaction(False)
        inst = txn.stage(oid, iid, True)
        for path, value in items:
            if len(path) < 3 or path[0] != oid or path[1] != iid:
                raise BadRequest("item %r outside the created instance" % (path,))
            txn.put(path, value, True)
        rid = _tx.missing_mandatory(odef, self._present(oid, iid, inst), True)
        if rid is not None:
            raise BadRequest("mandatory resource %d missing" % rid)
        hook = self._create_hooks.get(oid)
        if hook is not None:
            call(hook, (oid, iid), inst)
            try:
                for rid in list(inst):
                    inst[rid] = self._checked(self._resource(odef, rid), inst[rid])
            except LwM2MError as exc:
                raise InternalServerError("create hook set a bad value: %r" % (exc,))
        self._finish(txn)
        return iid

    def delete(self, path, bootstrap=False):
        """Delete an instance, or (LwM2M 1.2) a resource instance; returns the deleted
        paths. Bootstrap-Delete (C1.1 section 6.1.7.6) may also name ``/`` or ``/oid``;
        instances marked with ``deny_delete`` (e.g. ``/3/0``) are then kept."""
        n = len(path)
        if n == 4 and not bootstrap:
            return self._delete_resource_instance(path)
        if n == 2:
            self._instance(path[0], path[1])
            if path in self._no_delete or path[:1] in self._no_delete:
                raise MethodNotAllowed("instance /%d/%d cannot be deleted" % path)
            targets = [path]
        elif bootstrap and n < 2:
            oids = [path[0]] if n == 1 else sorted(self._data)
            targets = []
            for oid in oids:
                if (oid,) not in self._no_delete:
                    for iid in self.instances(oid):
                        if (oid, iid) not in self._no_delete:
                            targets.append((oid, iid))
        else:
            raise MethodNotAllowed("delete needs an instance path")
        for target in targets:  # every veto before the first deletion
            for hook in self._delete_hooks_for(target):
                call(hook, target)
        for oid, iid in targets:
            del self._data[oid][iid]
            self.drop_hooks(oid, iid)
            self._changes.add((oid, iid))
        return targets

    def execute(self, path, args=b""):
        """Execute ``/oid/iid/rid`` (C1.1 section 6.3.5) with the raw argument bytes."""
        n = len(path)
        if n == 0:
            raise MethodNotAllowed("execute of the root")
        odef = self.definition(path[0])
        if n >= 2:
            self._instance(path[0], path[1])
        if n != 3:
            raise MethodNotAllowed("execute needs a resource path")
        rdef = self._resource(odef, path[2])
        if not rdef.executable:
            raise MethodNotAllowed("resource %d is not executable" % path[2])
        handler = self._exec_handler(path)
        if handler is None:
            raise NotFound("resource /%d/%d/%d is not implemented" % path)
        if len(args):
            # Imported by the first Execute with arguments, which a meter may never get.
            from lwm2m_client.core.dm.execargs import parse_args
            call(handler, path, parse_args(args))
        else:
            call(handler, path, [])

    # -- internals -------------------------------------------------------------

    def _value(self, path, inst, rdef):
        """The value of the resource ``path`` for a server read: its read hook's, or
        the stored one (NotFound when there is none)."""
        hook = self._read_hook(path)
        if hook is not None:
            return self._hook_value(path, inst, rdef, hook)
        value = inst.get(path[2], _MISSING)
        if value is _MISSING:
            raise NotFound("resource /%d/%d/%d has no value" % path)
        return value

    def _delete_resource_instance(self, path):
        odef = self.definition(path[0])
        inst = self._instance(path[0], path[1])
        rdef = self._resource(odef, path[2])
        if not rdef.writable:
            raise MethodNotAllowed("resource %d is not writable" % path[2])
        res = inst.get(path[2])
        if type(res) is not dict or path[3] not in res:
            raise NotFound("no resource instance at %r" % (path,))
        txn = self._transaction(False)
        txn.put(path, None, False)
        return self._finish(txn)

    def _transaction(self, bootstrap):
        return _tx.Transaction(self._defs, self._data, bootstrap, self.max_instances,
                               self.max_resource_instances)

    def _finish(self, txn):
        changes = txn.changes()
        for path, value in changes:
            for prefix, check in self._checks:
                if is_prefix(prefix, path):
                    call(check, path, value)
        txn.commit()
        changed = sorted(txn.created)
        for path in changed:
            self._changes.add(path)
        for path, _ in changes:
            changed.append(path)
            self._changes.add(path)
        error = None
        for path, value in changes:
            for prefix, notify in self._notifies:
                if is_prefix(prefix, path):
                    try:
                        call(notify, path, value)
                    except LwM2MError as exc:
                        error = error or exc
        if error is not None:
            raise error
        return changed
