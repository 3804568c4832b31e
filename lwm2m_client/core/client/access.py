"""Access control: which LwM2M Server may do what to which instance (LwM2M Core 1.1
section 8, the Access Control Object /2).

:class:`~lwm2m_client.core.client.dm_handler.DMHandler` imports this module only while
the tree holds instances of Object 2 ("AC-Enabled"). Without any ("AC-Disabled", Core
1.1 section 8: one server, no /2) every server has every right, as before, and a
single-server meter never loads it.

An Object 2 instance ``/2/x`` names its target with ``/2/x/0`` (Object ID) and ``/2/x/1``
(Object Instance ID; 65535 = the object itself, which grants only Create), its owner
with ``/2/x/3`` (a Short Server ID; 65535 = managed by the Bootstrap-Server only) and the
rights with the ACL ``/2/x/2``: resource instance ``ssid`` holds that server's bits
R=1 (Read, Observe, Write-Attributes), W=2 (Write), E=4 (Execute), D=8 (Delete),
C=16 (Create); resource instance 0 holds the default for every server but the owner.

The rights of server ``ssid`` on an instance (Core 1.1 section 8.2.1):

1. the owner without an ACL entry of its own has every right;
2. a server with its own entry has what the entry grants;
3. any other server has what entry 0 grants, when there is one;
4. otherwise none; so has everyone on a target no /2 instance names.

What each operation needs (Core 1.1 section 8.2): R for Read, Observe, Write-Attributes
and the composite reads, W for Write and Write-Composite, E for Execute, D for Delete;
Discover needs nothing. A refusal is 4.01 Unauthorized, checked before whether the
target supports the operation (a 4.05 comes after it). An object-level Read, Observe
or Write-Attributes covers the instances with R and fails only when none has it
(section 8.2.3); Create needs C in the object-level instance (section 8.2.1), and the
new instance gets a /2 instance owned by its creator (sections 6.3.6, 8.1.2.2), which
goes again with a server's Delete of the instance.

Object 2 itself: every server may read it (how it learns its rights); only the owner
of ``/2/x`` may write it (Object 2's resource 3: "only such an LwM2M Server can
manage"); no server creates or deletes /2 instances, the client does (above) and the
Bootstrap-Server does.

The Bootstrap-Server is subject to no access control. It has no Short Server ID:
``ssid`` None stands for it and has every right. (The client has no Bootstrap interface
yet; Bootstrap-Write goes to ``ObjectTree.write(bootstrap=True)``, never through here.)
Malformed /2 instances (no Object ID or Instance ID, an ACL that is no list of ints)
are skipped: they grant nothing.
"""

from lwm2m_client.core.errors import InternalServerError, LwM2MError, Unauthorized, UsageError

ACCESS_OBJECT = 2
R = 1
W = 2
E = 4
D = 8
C = 16
FULL = R | W | E | D | C
# What the creator of an instance gets in its new /2 instance: C means nothing there.
CREATOR_RIGHTS = R | W | E | D
OBJECT_LEVEL = 65535  # /2/x/1 of the instance that holds the Create rights of /2/x/0
BOOTSTRAP_OWNER = 65535  # /2/x/3: managed during bootstrap only

# The right each instance operation needs (Core 1.1 section 8.2).
_NEEDS = {"read": R, "observe": R, "write-attributes": R, "write": W, "execute": E,
          "delete": D}


def value_at(tree, path):
    """The value at ``path``, or None (absent, or a read hook that fails)."""
    if not tree.has(path):
        return None
    try:
        return tree.get(path)
    except (LwM2MError, UsageError):
        return None


def int_at(tree, path):
    """The int at ``path``, or None."""
    value = value_at(tree, path)
    return value if type(value) is int else None


def table(tree):
    """``{(oid, iid): (owner, acl)}`` of the well-formed /2 instances (``acl`` a dict
    ``ssid -> bits``, ``owner`` None when unset). A target named twice keeps the /2
    instance with the lowest ID."""
    out = {}
    for x in tree.instances(ACCESS_OBJECT):
        oid = int_at(tree, (ACCESS_OBJECT, x, 0))
        iid = int_at(tree, (ACCESS_OBJECT, x, 1))
        if oid is None or iid is None or (oid, iid) in out:
            continue
        acl = value_at(tree, (ACCESS_OBJECT, x, 2))
        out[(oid, iid)] = (int_at(tree, (ACCESS_OBJECT, x, 3)),
                           acl if type(acl) is dict else {})
    return out


def rights(tree, ssid, oid, iid, tab=None):
    """The right bits of server ``ssid`` on ``/oid/iid`` (``iid`` 65535: on the object,
    for Create) by the order of Core 1.1 section 8.2.1; ``tab`` is a :func:`table`
    made already. ``ssid`` None (the Bootstrap-Server) has every right."""
    if ssid is None:
        return FULL
    entry = (table(tree) if tab is None else tab).get((oid, iid))
    if entry is None:
        return 0  # no /2 instance: nobody is owner, nobody has an entry
    owner, acl = entry
    own = acl.get(ssid)
    if type(own) is int:
        return own & FULL
    if owner == ssid:
        return FULL
    default = acl.get(0)
    return default & FULL if type(default) is int else 0


def _owner_of(tree, ac_iid):
    return int_at(tree, (ACCESS_OBJECT, ac_iid, 3))


def allowed(tree, ssid, oid, iid, need, tab=None):
    """True when server ``ssid`` has every bit of ``need`` on the existing instance
    ``/oid/iid``; for Object 2 itself, the rules of the module docstring."""
    if ssid is None:
        return True
    if oid == ACCESS_OBJECT:
        # Any server reads /2; writing it is the owner's (Object 2, resource 3).
        return need == R or (need != D and _owner_of(tree, iid) == ssid)
    return (rights(tree, ssid, oid, iid, tab) & need) == need


def _readable_any(tree, ssid, oid):
    iids = tree.instances(oid)
    if not iids or oid == ACCESS_OBJECT:
        return True
    tab = table(tree)
    for iid in iids:
        if rights(tree, ssid, oid, iid, tab) & R:
            return True
    return False


def _refuse(op, path):
    return Unauthorized("server may not %s /%s" % (op, "/".join([str(i) for i in path])))


def authorize(tree, ssid, op, path):
    """Raise Unauthorized (4.01) unless server ``ssid`` may do ``op`` (a
    :meth:`DMHandler.op_name`) on ``path``. Composite operations are checked per path
    (:func:`authorize_items`, :func:`read`); a missing instance is left to the
    operation, which answers 4.04."""
    if ssid is None or not path or op == "discover":
        return  # Discover needs no right (Core 1.1 section 8.2)
    oid = path[0]
    if op == "create":
        # Core 1.1 section 8.2.1: C in the object-level instance; none, no Create. /2
        # instances are made by the client and the Bootstrap-Server only.
        if oid == ACCESS_OBJECT or not rights(tree, ssid, oid, OBJECT_LEVEL) & C:
            raise _refuse(op, path)
        return
    need = _NEEDS.get(op)
    if need is None:
        return
    if len(path) == 1:
        # Object level: Read, Observe and Write-Attributes cover the readable instances
        # (section 8.2.3); Write, Execute and Delete of an object answer 4.05 later.
        if need == R and not _readable_any(tree, ssid, oid):
            raise _refuse(op, path)
        return
    if not tree.has(path[:2]):
        return
    if op == "execute" and len(path) == 3:
        rdef = tree.definition(oid).resource(path[2])
        if rdef is not None and not rdef.executable and rdef.multiple and rdef.writable:
            need = W  # a POST on a multiple resource is a partial Write (T1.2 6.4.4)
    if oid == ACCESS_OBJECT and op == "delete" and len(path) == 4:
        need = W  # the owner removing one ACL entry (LwM2M 1.2) edits the instance
    if not allowed(tree, ssid, oid, path[1], need):
        raise _refuse(op, path)


def read(tree, ssid, path):
    """The records of a Read of ``path`` by server ``ssid``: only the instances it may
    read. Unauthorized when it may read none of them (Core 1.1 section 8.2.3); an
    object without instances reads empty."""
    if not path:
        return tree.read(path)
    oid = path[0]
    if len(path) >= 2:
        if tree.has(path[:2]) and not allowed(tree, ssid, oid, path[1], R):
            raise _refuse("read", path)
        return tree.read(path)
    if ssid is None or oid == ACCESS_OBJECT:
        return tree.read(path)
    iids = tree.instances(oid)
    tab = table(tree)
    out = []
    readable = 0
    for iid in iids:
        if rights(tree, ssid, oid, iid, tab) & R:
            readable += 1
            out.extend(tree.read((oid, iid)))
    if iids and not readable:
        raise _refuse("read", path)
    return out


def authorize_items(tree, ssid, items):
    """Write-Composite: W on every existing instance the decoded ``items`` ``[(path,
    value)]`` touch, else Unauthorized and nothing is written (Core 1.1 section 8.2)."""
    if ssid is None:
        return
    tab = table(tree)
    seen = []
    for path, _ in items:
        key = tuple(path[:2])
        if len(key) < 2 or key in seen or not tree.has(key):
            continue
        seen.append(key)
        if not allowed(tree, ssid, key[0], key[1], W, tab):
            raise _refuse("write", key)


def reserve(tree):
    """Before a Create under access control: 5.00 when Object 2 has no room for the new
    instance's /2 instance (no 4.xx describes that, T1.1 section 6.7)."""
    if tree.free_iid(ACCESS_OBJECT) is None or \
            len(tree.instances(ACCESS_OBJECT)) >= tree.max_instances:
        raise InternalServerError("no room for another Access Control instance")


def created(tree, ssid, oid, iid):
    """Server ``ssid`` created ``/oid/iid``: give it a /2 instance owned by ``ssid`` with
    every instance right for it (Core 1.1 sections 6.3.6, 8.1.2.2); /2 instances a gone
    instance with the same ID left behind go. Returns the new /2 instance ID. When the
    /2 instance cannot be made, the created instance is removed again (5.00): a Create
    is all or nothing."""
    if ssid is None:
        return None
    try:
        ac_iid = tree.create_instance(ACCESS_OBJECT, None, {
            0: oid, 1: iid, 2: {ssid: CREATOR_RIGHTS}, 3: ssid})
    except UsageError as exc:
        tree.delete_instance(oid, iid)
        raise InternalServerError("cannot make the Access Control instance: %s" % exc)
    forget(tree, oid, iid, ac_iid)
    return ac_iid


def forget(tree, oid, iid, keep=None):
    """Delete the /2 instances that name ``/oid/iid`` (but ``keep``), as after a server
    deleted it; returns their IDs."""
    gone = []
    for x in tree.instances(ACCESS_OBJECT):
        if x != keep and int_at(tree, (ACCESS_OBJECT, x, 0)) == oid and \
                int_at(tree, (ACCESS_OBJECT, x, 1)) == iid:
            tree.delete_instance(ACCESS_OBJECT, x)
            gone.append(x)
    return gone


def add_access_control(tree, oid, iid, owner, acl=None, ac_iid=None):
    """Application API: provision ``/2/ac_iid`` (None: the lowest free ID) for the
    target ``/oid/iid`` (``iid`` 65535: the object, for Create), owned by ``owner`` (a
    Short Server ID, or 65535 for the Bootstrap-Server) with ``acl`` ``{ssid: bits}``
    (0: the default), as a Bootstrap-Server would. Returns the /2 instance ID; misuse
    raises UsageError. The first /2 instance switches access control on."""
    values = {0: oid, 1: iid, 3: owner}
    if acl:
        values[2] = dict(acl)
    return tree.create_instance(ACCESS_OBJECT, ac_iid, values)
