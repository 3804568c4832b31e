"""Object instances written as Python classes.

A vendor subclasses :class:`Instance` for an instance of its own object, lists the
resources the class computes (``reads``) and runs (``executes``), and :func:`attach`
creates the instance in the tree and wires the class to the tree's hooks (their rules:
:mod:`lwm2m_client.core.dm.tree`)::

    TARIFF = obj(32769, "Tariff", [
        resource(0, "Active tariff", "Integer", "RW", mandatory=True, range_=(1, 2)),
        resource(1, "Power", "Float", "R", units="W"),
        resource(2, "Next tariff", None, "E"),
    ], multiple=False)

    class Tariff(Instance):
        reads = (1,)
        executes = (2,)

        def __init__(self, meter):
            self.meter = meter

        def read(self, rid):
            return self.meter.power_w()

        def write(self, rid, value):
            self.meter.tariff = value

        def execute(self, rid, args):
            self.meter.next_tariff()

    tree.add_object(TARIFF)
    attach(tree, 32769, 0, Tariff(meter), values={0: 1})

Resources not in ``reads`` are stored in the tree (``values``, ``tree.set``, server
Writes). When a computed reading moves, ``self.changed(rid)`` tells the tree, which
records the change for the notification machinery.
"""

from lwm2m_client.core.dm.model import obj, resource
from lwm2m_client.core.errors import NotFound, UsageError

__all__ = ("Instance", "attach", "obj", "resource")


class Instance:
    """One object instance implemented in Python; override what the object needs.

    ``reads``: resource IDs whose value :meth:`read` computes at every read (with
    ``cache`` True the tree also stores the last value read, so it can tell a change).
    ``executes``: resource IDs :meth:`execute` runs. :func:`attach` sets ``tree``,
    ``oid`` and ``iid``.
    """

    reads = ()
    executes = ()
    cache = False
    tree = None
    oid = None
    iid = None

    def __repr__(self):
        return "<%s /%r/%r>" % (type(self).__name__, self.oid, self.iid)

    def read(self, rid):
        """The current value of resource ``rid`` (a dict ``riid -> value`` for a
        multiple resource). Raise NotFound when it has no value now."""
        raise NotFound("resource %d has no value" % rid)

    def check(self, rid, value):
        """A server Write, Write-Composite or Create is about to set ``rid`` to
        ``value`` (None: remove it). Raise an LwM2MError (BadRequest ...) to refuse:
        the whole operation then fails and nothing is applied, here or in the tree."""

    def write(self, rid, value):
        """The server's value for ``rid`` was applied (None: removed). Runs after
        every :meth:`check` of the operation passed, so it cannot be refused here."""

    def execute(self, rid, args):
        """Execute on ``rid``; ``args`` is ``[(digit, value or None)]``. The response
        goes out after this returns: schedule long work rather than doing it."""
        raise NotFound("resource %d is not implemented" % rid)

    def changed(self, rid):
        """Report that the computed value of ``rid`` moved (``tree.changed``)."""
        self.tree.changed((self.oid, self.iid, rid))


def attach(tree, oid, iid, instance, values=None):
    """Create ``/oid/iid`` (``iid`` None: the lowest free ID) with the stored
    ``values`` (``rid -> value``) and wire ``instance`` to it; returns the instance ID.

    Read hooks for ``instance.reads``, execute handlers for ``instance.executes``, and
    ``check``/``write`` for every resource of the instance a server writes. The mandatory
    check counts the resources ``read`` computes. Deleting the instance drops the
    wiring. Misuse raises UsageError and leaves the tree as it was.
    """
    if not isinstance(instance, Instance):
        raise UsageError("attach: %r is not an Instance" % (instance,))
    if not tree.has((oid,)):
        raise UsageError("attach /%r: object not supported" % (oid,))
    if iid is None:
        iid = tree.free_iid(oid)
        if iid is None:
            raise UsageError("attach /%d: no free instance id" % oid)
    if tree.has((oid, iid)):
        raise UsageError("attach /%d/%r: the instance exists" % (oid, iid))
    resources = tree.definition(oid).resources
    for rid in instance.executes:
        rdef = resources.get(rid)
        if rdef is None or not rdef.executable:
            raise UsageError("attach /%d/%r/%r: not an executable resource" % (oid, iid, rid))
    try:
        for rid in instance.reads:
            tree.on_read((oid, iid, rid), lambda path: instance.read(path[2]), instance.cache)
        for rid in instance.executes:
            tree.on_execute((oid, iid, rid), lambda path, args: instance.execute(path[2], args))
        tree.create_instance(oid, iid, values)
    except UsageError:
        tree.drop_hooks(oid, iid)
        raise
    tree.on_write((oid, iid), lambda path, value: instance.check(path[2], value))
    tree.on_written((oid, iid), lambda path, value: instance.write(path[2], value))
    instance.tree = tree
    instance.oid = oid
    instance.iid = iid
    return iid
