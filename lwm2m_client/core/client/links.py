"""The link lists a client sends: the Register/Update object list and Discover answers.

Both return links in the shape :func:`lwm2m_client.core.content.link.encode_links`
writes: ``(target, attrs)`` with ``target`` a path tuple (or a ``str`` under an
alternate path) and ``attrs`` a list of ``(name, value)``.

Object versions (C1.1 section 7.2.3): LwM2M 1.0 has no object
versioning, so a 1.0 registration and a 1.0 Discover carry no ``ver`` at all. From 1.1
on, a link without ``ver`` means version 1.0, except that a core object is then read as
the version that comes with the client's enabler release (``lwm2m=``).

The version announced for a core object is the one :data:`ENABLER_OBJECT_VERSIONS`
gives for the registered enabler, or the object's own version when that is older (a
client cannot claim resources it does not have). A newer minor version of the same
major version is backward compatible with the older one, so a tree built from the
newest definitions may announce the older one; a different major version is not, and
such an object keeps its own version. Objects outside the table announce their own
version.

``ver`` goes on the object link whenever the announced version is not 1.0. The clause
does not list which core objects a missing ``ver`` reads as the enabler's version; the
Security and Server objects are released with every enabler version, and the spec's
own example is a 1.1 client announcing ``</1>;ver=1.0``, so those two also get ``ver``
when they differ from the table's version. Writing ``ver`` for a core object equal to
the enabler's is redundant but harmless, and servers that read a missing ``ver`` as 1.0
need it.
"""

from lwm2m_client.core.content import (
    CF_LWM2M_CBOR,
    CF_SENML_CBOR,
    CF_SENML_ETCH_CBOR,
    CF_SENML_ETCH_JSON,
    CF_SENML_JSON,
)
from lwm2m_client.core.dm.path import path_str
from lwm2m_client.core.errors import BadRequest, MethodNotAllowed, NotFound

# Never listed in Register and never visible to a server (C1.1 sections 6.2.1, 6.3).
HIDDEN_OBJECTS = (0, 21)
ENABLER_VERSIONS = ("1.0", "1.1", "1.2")
# Objects whose link without ``ver`` is read as the enabler's version of the object
# (C1.1 section 7.2.3); see the module docstring.
_ENABLER_VERSIONED = (0, 1)
# The newest version of each core object published with an enabler release (1.1 covers
# 1.1 and 1.1.1, 1.2 covers 1.2, 1.2.1 and 1.2.2: a 1.1.1 client registers lwm2m=1.1).
# Source: the OMA LwM2M registry (shared/lwm2m-registry, commit b62ffc2), the header
# comment of each versions/<oid>-<X>_<Y>.xml and <oid>.xml, which names the Core TS the
# file belongs to, and meta/DDF.xml (<Ver>, <TS>):
#   /0 Security    1.0 TS 1.0, 1.1 TS 1.1.1, 1.2 TS 1.2
#   /1 Server      1.0 TS 1.0, 1.1 TS 1.1.1, 1.2 TS 1.2
#   /2 Access Ctl  1.0 TS 1.0.2 and 1.1.1, 1.1 TS 1.2
#   /3 Device      1.0 TS 1.0.2 and 1.1, 1.1 TS 1.1.1, 1.2 TS 1.2
#   /4 Conn. Mon.  1.0 TS 1.0.2 and 1.1, 1.1 TS 1.1, 1.2 TS 1.1.1, 1.3 TS 1.2.1
#   /5 Firmware    1.0 TS 1.0.2 and 1.1.1, 1.1 TS 1.2; 1.2 is in no TS yet (its header:
#                  "not reflected in the TS Core LwM2M v1.2.1")
#   /6 Location, /7 Connectivity Statistics: 1.0 only.
# LwM2M 1.0 knows no object versions: every object is 1.0 there. /21 OSCORE is never
# announced (HIDDEN_OBJECTS), so it needs no entry. The XML's own <LWM2MVersion> is the
# oldest enabler an object version works with, not the one it was published with
# (Device 1.2 says 1.1), so it cannot answer this.
# Indexed by the object ID (tuples of literals, which stay in flash when frozen into
# firmware; dicts would be built in RAM at import).
ENABLER_OBJECT_VERSIONS = {
    "1.0": ("1.0", "1.0", "1.0", "1.0", "1.0", "1.0", "1.0", "1.0"),
    "1.1": ("1.1", "1.1", "1.0", "1.1", "1.2", "1.0", "1.0", "1.0"),
    "1.2": ("1.2", "1.2", "1.1", "1.2", "1.3", "1.1", "1.0", "1.0"),
}
# Discover's depth when the request has none, indexed by the path length: the answers
# of C1.1 section 6.3.2 (its /3/0 example lists resource instances), expressed in the
# depth of C1.2 section 6.3.2. An object lists its instances and their resources, an
# instance its resources and their resource instances, a resource its instances.
_DEFAULT_DEPTH = (None, 2, 2, 1)
_DIGITS = "0123456789"
_BAD_ROOT_CHARS = "<>;,\" \t\r\n"
_EXACT = 9007199254740992.0  # 2**53


def _attr_value(value):
    # An integral float is written as an integer ("gt=50", as the spec's examples
    # show); within 2**53 the conversion is exact.
    if isinstance(value, float) and -_EXACT < value < _EXACT and value == int(value):
        return int(value)
    return value


def attribute_params(attrs):
    """``{name: value}`` as link parameters in the canonical order."""
    # Imported here: Register needs this module, attributes only Discover does.
    from lwm2m_client.core.client.attributes import ATTR_ORDER
    out = []
    for name in ATTR_ORDER:
        value = attrs.get(name)
        if value is not None:
            out.append((name, _attr_value(value)))
    return out


def _version_tuple(ver):
    # "1.2" -> (1, 2); anything unreadable sorts as (0, 0), which no table entry is.
    parts = ver.split(".")
    try:
        return (int(parts[0]), int(parts[1]) if len(parts) > 1 else 0)
    except ValueError:
        return (0, 0)


def enabler_object_version(version, oid):
    """The version of core object ``oid`` that enabler ``version`` comes with, or None
    for an object outside the table."""
    versions = ENABLER_OBJECT_VERSIONS[version]
    return versions[oid] if 0 <= oid < len(versions) else None


def announced_version(oid, object_version, version):
    """The object version a client of enabler ``version`` announces for an object whose
    definition is ``object_version`` (see the module docstring)."""
    published = enabler_object_version(version, oid)
    if published is None:
        return object_version
    own = _version_tuple(object_version)
    table = _version_tuple(published)
    if own[0] != table[0] or own <= table:
        return object_version
    return published


def version_params(odef, version):
    """``[("ver", "X.Y")]`` when the object link must announce its version, else []."""
    if version == "1.0":
        return []  # no object versioning in LwM2M 1.0
    ver = announced_version(odef.oid, odef.object_version, version)
    if ver != "1.0" or (odef.oid in _ENABLER_VERSIONED and
                        ver != ENABLER_OBJECT_VERSIONS[version][odef.oid]):
        return [("ver", ver)]
    return []


def _check_version(version):
    if version not in ENABLER_VERSIONS:
        raise ValueError("unknown LwM2M enabler version %r" % (version,))


# -- Discover ----------------------------------------------------------------------


def _resource_links(links, tree, store, ssid, odef, rpath, depth, target=False):
    rdef = odef.resources[rpath[2]]
    params = []
    instances = None
    if rdef.multiple and not rdef.executable:
        instances = sorted(tree.get(rpath))
        params.append(("dim", len(instances)))  # a PROPERTIES attribute (C1.1 5.1.1)
    # A Discover aimed at the resource itself shows the attributes in force there,
    # those inherited from the object and the instance included (ETS 1.1 int-260,
    # int-261); a resource listed under an object or instance shows its own level,
    # and an executable one, which nobody observes, inherits nothing.
    if target and not rdef.executable:
        attrs = store.effective(ssid, rpath)
    else:
        attrs = store.get(ssid, rpath)
    links.append((rpath, params + attribute_params(attrs)))
    if instances is not None and depth >= 1:
        for riid in instances:
            ripath = rpath + (riid,)
            links.append((ripath, attribute_params(store.get(ssid, ripath))))


def _instance_links(links, tree, store, ssid, odef, ipath, depth):
    links.append((ipath, attribute_params(store.get(ssid, ipath))))
    if depth >= 1:
        for rid in tree.resource_ids(ipath[0], ipath[1]):
            _resource_links(links, tree, store, ssid, odef, ipath + (rid,), depth - 1)


def discover_links(tree, store, ssid, path, depth=None, version="1.1"):
    """The links answering a server's Discover on ``path`` (C1.1/C1.2 section 6.3.2).

    ``path`` is ``(oid,)``, ``(oid, iid)`` or ``(oid, iid, rid)``; ``depth`` (1.2,
    0..3) is how many levels below the target to list, the 1.1 answer when None.
    Each link carries the attributes server ``ssid`` attached at exactly that level,
    except a readable resource target, which also shows what it inherits; multiple
    resources carry ``dim`` and list their instances. Only resources present
    in the instance appear (``tree.resource_ids``). ``version`` is the LwM2M version
    of the caller's registration: it decides the object link's ``ver``. The caller
    refuses ``/0`` and ``/21`` (4.01) beforehand. Raises NotFound for a missing object, instance or
    resource, MethodNotAllowed for the root or a resource instance (T1.1 section
    6.4.4 lists Discover on objects, instances and resources only) and BadRequest for
    a depth outside 0..3.
    """
    _check_version(version)
    path = tuple(path)
    n = len(path)
    if n == 0 or n > 3:
        raise MethodNotAllowed("discover needs an object, instance or resource path")
    if depth is None:
        depth = _DEFAULT_DEPTH[n]
    elif not 0 <= depth <= 3:
        raise BadRequest("depth must be 0..3")
    oid = path[0]
    odef = tree.definition(oid)
    links = []
    if n == 1:
        params = version_params(odef, version) + attribute_params(store.get(ssid, path))
        links.append((path, params))
        if depth >= 1:
            for iid in tree.instances(oid):
                _instance_links(links, tree, store, ssid, odef, (oid, iid), depth - 1)
        return links
    rids = tree.resource_ids(oid, path[1])  # NotFound for a missing instance
    if n == 2:
        _instance_links(links, tree, store, ssid, odef, path, depth)
    elif path[2] in rids:
        _resource_links(links, tree, store, ssid, odef, path, depth, True)
    else:
        raise NotFound("resource %s not present" % path_str(path))
    return links


# -- Register / Update ----------------------------------------------------------------


def _check_root(root):
    """An alternate path: absolute, no empty or numeric segment (T1.1 section 6.4.1)."""
    if not isinstance(root, str) or root[:1] != "/" or root[-1:] == "/":
        raise ValueError("alternate path must look like '/lwm2m': %r" % (root,))
    for c in root:
        if c in _BAD_ROOT_CHARS:
            raise ValueError("character %r not allowed in an alternate path" % c)
    for seg in root[1:].split("/"):
        numeric = True
        for c in seg:
            if c not in _DIGITS:
                numeric = False
        if numeric:  # also true for an empty segment
            raise ValueError("alternate path segment %r is empty or numeric" % seg)


def _ct_value(content_formats):
    # One format is a plain number; several are a quoted space-separated list
    # (RFC 7252 section 7.2.1, C1.1 section 6.2.1: </>;ct="110 112").
    if len(content_formats) == 1:
        return int(content_formats[0])
    return " ".join(["%d" % int(cf) for cf in content_formats])


# The first LwM2M version whose Register root link may name each content format (Core
# 1.1 and 1.2 section 7.4).
_FORMAT_SINCE = {CF_SENML_CBOR: "1.1", CF_SENML_JSON: "1.1", CF_SENML_ETCH_CBOR: "1.2",
                 CF_SENML_ETCH_JSON: "1.2", CF_LWM2M_CBOR: "1.2"}


def formats_of_version(content_formats, version):
    """The formats of ``content_formats`` that LwM2M ``version`` defines: a client that
    fell back to an older version names only those in its root link."""
    if not content_formats:
        return None
    return [cf for cf in content_formats if _FORMAT_SINCE.get(cf, "1.0") <= version]


def register_links(tree, version="1.1", content_formats=None, root=None):
    """The object list of a Register or Update (C1.1 section 6.2.1, CoRE link format).

    One link per instance (``</1/0>``); an object without instances is a bare object
    link (``</5>``); an object that needs ``ver`` gets its object link too
    (``</3>;ver=1.1,</3/0>``). ``/0`` and ``/21`` are never listed. Objects and
    instances come in ascending order.

    A root link comes first when ``content_formats`` (a list of ints) or ``root`` is
    given: ``</>;ct=112``, or for an alternate path ``root`` such as ``"/lwm2m"``
    ``</lwm2m>;rt="oma.lwm2m"`` and every target below it (T1.1 section 6.4.1).
    """
    _check_version(version)
    if root == "/":
        root = None
    if root is not None:
        _check_root(root)
    links = []
    if root is not None or content_formats:
        params = []
        if root is not None:
            params.append(("rt", "oma.lwm2m"))
        if content_formats:
            params.append(("ct", _ct_value(content_formats)))
        links.append((root if root is not None else (), params))
    for oid in tree.objects():
        if oid in HIDDEN_OBJECTS:
            continue
        odef = tree.definition(oid)
        iids = tree.instances(oid)
        params = version_params(odef, version)
        if params or not iids:
            links.append((_target(root, (oid,)), params))
        for iid in iids:
            links.append((_target(root, (oid, iid)), []))
    return links


def _target(root, path):
    return path if root is None else root + path_str(path)
