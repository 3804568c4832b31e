"""Small hand-made object definitions for the data model tests."""

from lwm2m_client.core.dm import types as t
from lwm2m_client.core.dm.model import (
    OP_E,
    OP_NONE,
    OP_R,
    OP_RW,
    OP_W,
    ObjectDef,
    Range,
    ResourceDef,
)
from lwm2m_client.core.dm.tree import ObjectTree

TEST_OID = 9000


def _res(rid, ops, typ, multiple=False, mandatory=False, range_=None):
    return ResourceDef(rid, "r" + str(rid), ops, multiple, mandatory, typ, range_)


def device_def():
    """Shaped like Object 3: single instance, an executable Reboot."""
    return ObjectDef(3, "Device", multiple=False, mandatory=True, resources={
        0: _res(0, OP_R, t.T_STRING),
        4: _res(4, OP_E, t.T_NONE, mandatory=True),
        6: _res(6, OP_R, t.T_INTEGER, multiple=True, range_=Range("num", 0, 7)),
        11: _res(11, OP_R, t.T_INTEGER, multiple=True, mandatory=True),
        13: _res(13, OP_RW, t.T_TIME),
        14: _res(14, OP_RW, t.T_STRING),
    })


def server_def():
    """Shaped like Object 1."""
    return ObjectDef(1, "Server", resources={
        0: _res(0, OP_R, t.T_INTEGER, mandatory=True, range_=Range("num", 1, 65534)),
        1: _res(1, OP_RW, t.T_INTEGER, mandatory=True),
        2: _res(2, OP_RW, t.T_INTEGER),
        6: _res(6, OP_RW, t.T_BOOLEAN, mandatory=True),
        7: _res(7, OP_RW, t.T_STRING, mandatory=True),
        8: _res(8, OP_E, t.T_NONE),
    })


def sample_def():
    """One resource of every type, plus R, W, E and no-operation resources."""
    return ObjectDef(TEST_OID, "Test", resources={
        0: _res(0, OP_RW, t.T_STRING, range_=Range("len", 0, 8)),
        1: _res(1, OP_RW, t.T_INTEGER, range_=Range("num", -10, 10)),
        2: _res(2, OP_RW, t.T_UNSIGNED),
        3: _res(3, OP_RW, t.T_FLOAT),
        4: _res(4, OP_RW, t.T_BOOLEAN),
        5: _res(5, OP_RW, t.T_OPAQUE),
        6: _res(6, OP_RW, t.T_TIME),
        7: _res(7, OP_RW, t.T_OBJLNK),
        8: _res(8, OP_RW, t.T_INTEGER, multiple=True, range_=Range("num", 0, 100)),
        9: _res(9, OP_R, t.T_INTEGER, mandatory=True),
        10: _res(10, OP_W, t.T_STRING),
        11: _res(11, OP_E, t.T_NONE),
        12: _res(12, OP_RW, t.T_INTEGER, mandatory=True, range_=Range("enum", values=(0, 1, 2))),
        13: _res(13, OP_NONE, t.T_STRING),
    })


def make_tree(**kwargs):
    """A tree with /3/0, /1/0 and /9000/0, /9000/1 filled in."""
    tree = ObjectTree([device_def(), server_def(), sample_def()], **kwargs)
    tree.create_instance(3, 0, {0: "ACME", 11: {0: 0}, 13: 1700000000})
    tree.create_instance(1, 0, {0: 101, 1: 300, 6: False, 7: "U"})
    tree.create_instance(TEST_OID, 0, {0: "abc", 1: 5, 8: {0: 10, 1: 20}, 9: 7, 12: 1})
    tree.create_instance(TEST_OID, 1, {9: 0, 12: 0})
    tree.drain_changes()
    return tree


def snapshot(tree):
    """Every value of the tree, through the public API, as a plain dict."""
    snap = {}
    for oid in tree.objects():
        odef = tree.definition(oid)
        for iid in tree.instances(oid):
            snap[(oid, iid)] = True
            for rid in sorted(odef.resources):
                path = (oid, iid, rid)
                if not odef.resources[rid].executable and tree.has(path):
                    snap[path] = tree.get(path)
    return snap
