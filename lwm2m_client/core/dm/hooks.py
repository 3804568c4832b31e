"""Registration and lookup of the application's hooks on the object tree.

The rules for what each hook does are documented in one place, the docstring of
:mod:`lwm2m_client.core.dm.tree`. This module keeps the registrations: it checks the
paths they name (a bad one raises :class:`UsageError` at once),
finds the hook for a path, and forgets the hooks of an instance when it is deleted.

Keys: read and execute hooks are keyed ``(oid, iid, rid)`` with ``iid`` None for every
instance; Write checks and post-write hooks are ``(prefix, fn)`` lists; Create hooks are
keyed by ``oid``, Delete hooks by ``(oid,)`` or ``(oid, iid)``.
"""

from lwm2m_client.core.dm.path import MAX_ID, path_str
from lwm2m_client.core.errors import InternalServerError, LwM2MError, UsageError


def call(fn, *args):
    """Run an application hook: an LwM2MError passes (it is the answer the hook chose),
    anything else becomes InternalServerError (5.00), so a hook never crashes the
    caller."""
    try:
        return fn(*args)
    except LwM2MError:
        raise
    except Exception as exc:  # a handler must never crash the caller
        raise InternalServerError("handler failed: %r" % (exc,))


def _is_id(value):
    return type(value) is int and 0 <= value <= MAX_ID


def check_path(op, path, lo, hi):
    """``path`` as a tuple of ``lo`` to ``hi`` IDs, or UsageError naming ``op``."""
    if type(path) is list:
        path = tuple(path)
    if type(path) is not tuple:
        raise UsageError("%s: path %r is not a tuple of ids" % (op, path))
    for part in path:
        if not _is_id(part):
            raise UsageError("%s %r: %r is not an id 0..%d" % (op, path, part, MAX_ID))
    if not lo <= len(path) <= hi:
        raise UsageError("%s %s: a path of %d to %d ids is expected"
                         % (op, path_str(path), lo, hi))
    return path


def _inside(prefix, oid, iid):
    return len(prefix) >= 2 and prefix[0] == oid and prefix[1] == iid


def _callable(op, path, fn):
    if not callable(fn):
        raise UsageError("%s %r: %r is not callable" % (op, path, fn))


class HookRegistry:
    """The hooks of one tree. A base class of the tree: it reads ``self._defs``."""

    def __init__(self):
        self._reads = {}  # (oid, iid or None, rid) -> (fn, cache)
        self._exec = {}  # (oid, iid or None, rid) -> handler
        self._checks = []  # (prefix, check)
        self._notifies = []  # (prefix, notify)
        self._create_hooks = {}  # oid -> hook
        self._delete_hooks = {}  # (oid,) or (oid, iid) -> hook
        self._no_create = set()
        self._no_delete = set()

    # -- registration ------------------------------------------------------------

    def on_read(self, path, fn, cache=False):
        """``fn(path)`` computes the value of ``/oid/iid/rid`` (``iid`` None: of every
        instance) whenever it is read; see the tree's docstring."""
        oid, iid, rid = self._resource_hook_path("on_read", path)
        odef = self._defs.get(oid)
        if odef is None:
            raise UsageError("on_read %s: object %d is not supported" % (_hook_str(path), oid))
        rdef = odef.resources.get(rid)
        if rdef is None or rdef.executable:
            raise UsageError("on_read %s: resource %d of object %d is %s"
                             % (_hook_str(path), rid, oid,
                                "not defined" if rdef is None else "executable"))
        _callable("on_read", path, fn)
        self._reads[(oid, iid, rid)] = (fn, bool(cache))

    def on_execute(self, path, handler):
        """``handler(path, args)`` runs Execute on ``/oid/iid/rid`` (``iid`` None: on
        every instance). The object may be added to the tree later."""
        oid, iid, rid = self._resource_hook_path("on_execute", path)
        odef = self._defs.get(oid)
        rdef = odef.resources.get(rid) if odef is not None else None
        if rdef is not None and not rdef.executable:
            raise UsageError("on_execute %s: resource %d of object %d is not executable"
                             % (_hook_str(path), rid, oid))
        _callable("on_execute", path, handler)
        self._exec[(oid, iid, rid)] = handler

    def on_write(self, prefix, check):
        prefix = check_path("on_write", prefix, 0, 3)
        _callable("on_write", prefix, check)
        # The same check twice runs once: a client core made anew on the same tree (a
        # simulated reboot) adds its checks again, and the list must not grow with that.
        if (prefix, check) not in self._checks:
            self._checks.append((prefix, check))

    def on_written(self, prefix, notify):
        prefix = check_path("on_written", prefix, 0, 3)
        _callable("on_written", prefix, notify)
        if (prefix, notify) not in self._notifies:
            self._notifies.append((prefix, notify))

    def on_create(self, oid, hook):
        check_path("on_create", (oid,), 1, 1)
        _callable("on_create", (oid,), hook)
        self._create_hooks[oid] = hook

    def on_delete(self, path, hook):
        """``path``: an object ID, ``(oid,)`` or one instance ``(oid, iid)``."""
        if type(path) is int:
            path = (path,)
        path = check_path("on_delete", path, 1, 2)
        _callable("on_delete", path, hook)
        self._delete_hooks[path] = hook

    def deny_create(self, oid):
        check_path("deny_create", (oid,), 1, 1)
        self._no_create.add(oid)

    def deny_delete(self, path):
        self._no_delete.add(check_path("deny_delete", path, 1, 2))

    def drop_hooks(self, oid, iid):
        """Forget the hooks registered for the instance ``/oid/iid``: read and execute
        hooks with its ``iid``, Write checks, post-write and Delete hooks whose path lies
        inside it. Deleting the instance does this; hooks for every instance stay."""
        for table in (self._reads, self._exec):
            for key in list(table):
                if key[0] == oid and key[1] == iid:
                    del table[key]
        self._checks = [e for e in self._checks if not _inside(e[0], oid, iid)]
        self._notifies = [e for e in self._notifies if not _inside(e[0], oid, iid)]
        self._delete_hooks.pop((oid, iid), None)

    # -- lookup --------------------------------------------------------------------

    def _read_hook(self, path):
        """``(fn, cache)`` for the resource ``path`` (oid, iid, rid), or None."""
        reads = self._reads
        if not reads:
            return None
        hook = reads.get(path)
        if hook is None:
            hook = reads.get((path[0], None, path[2]))
        return hook

    def _hooked_rids(self, oid, iid):
        """The resource IDs of ``/oid/iid`` that a read hook computes."""
        rids = []
        for key in self._reads:
            if key[0] == oid and (key[1] is None or key[1] == iid):
                rids.append(key[2])
        return rids

    def _exec_handler(self, path):
        rdef = self._defs[path[0]].resources.get(path[2])
        if rdef is None or not rdef.executable:
            return None
        handler = self._exec.get(path)
        if handler is None:
            handler = self._exec.get((path[0], None, path[2]))
        return handler

    def _delete_hooks_for(self, path):
        """The Delete hooks for the instance ``path``: its own first, then its object's."""
        out = []
        for key in (path, path[:1]):
            hook = self._delete_hooks.get(key)
            if hook is not None:
                out.append(hook)
        return out

    def _resource_hook_path(self, op, path):
        if type(path) is list:
            path = tuple(path)
        if type(path) is not tuple or len(path) != 3:
            raise UsageError("%s %r: a resource path (oid, iid or None, rid) is expected"
                             % (op, path))
        oid, iid, rid = path
        if not (_is_id(oid) and _is_id(rid) and (iid is None or _is_id(iid))):
            raise UsageError("%s %r: ids are ints 0..%d (iid None: every instance)"
                             % (op, path, MAX_ID))
        return path


def _hook_str(path):
    return "/%d/%s/%d" % (path[0], "*" if path[1] is None else str(path[1]), path[2])
