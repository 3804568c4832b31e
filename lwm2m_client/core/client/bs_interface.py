"""Bootstrap interface, client side: the answers to the Bootstrap-Server's requests
(LwM2M Core 1.1 sections 6.1.7 and E.1; Transport 1.1 section 6.4.2), and the checks a
Bootstrap-Finish and a Bootstrap-Pack need.

The bootstrap state machine (:mod:`~lwm2m_client.core.client.bootstrapping`) decides
when the Bootstrap-Server may speak and answers Bootstrap-Finish ``POST /bs`` itself,
with :func:`check_configuration`; every other request of that server goes to
:meth:`BootstrapHandler.handle`, which maps it onto the object tree:

==================  ==========================  ==============================
operation           request                     success
==================  ==========================  ==============================
Bootstrap-Write     PUT /o, /o/i, /o/i/r        2.04
Bootstrap-Read      GET /1[/i], /2[/i] (1.1+)   2.05 + body in the Accept format
Bootstrap-Discover  GET / or /o, Accept 40      2.05 + link format
Bootstrap-Delete    DELETE /, /o, /o/i          2.02
==================  ==========================  ==============================

A GET with Accept 40 is a Discover; so is a GET of ``/`` or ``/o`` without Accept (a
Read needs one there). Any other GET is a Read.

Bootstrap-Write follows Core 1.1 section 6.1.7.5: the target is written whether or not
it exists (missing instances are made, several in one object-level write), there is no
access control, read-only resources take values (the Security object is written only
this way), resources the object does not define are ignored and resources the payload
leaves out are neither made nor reset. One request is one transaction of the tree: a
bad value anywhere and nothing is applied.

Bootstrap-Delete of ``/`` or of an object keeps the Bootstrap-Server account (its
``/0`` instance and the ``/21`` instance its OSCORE link names) and the Device instance
``/3/0`` (Core 1.1 section 6.1.7.6), and so does any instance the application protects
with ``tree.deny_delete``; deleting one of those by name is refused. Deleting a Security
instance does not take its Server instance along: :func:`check_configuration` refuses
a Bootstrap-Finish that leaves a Server instance without its Security instance.

Response codes are those Transport 1.1 section 6.7 lists for each operation: a 4.xx
the tree raises that the operation's list lacks becomes 4.00 (a Write of an
executable resource is bad data, not 4.05). A write to an object the client does not
have is 4.04.
"""

from lwm2m_client.core.client import accounts
from lwm2m_client.core.client.access import int_at, value_at
from lwm2m_client.core.client.dm_handler import DMHandler, Reply
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.coap import options as o
from lwm2m_client.core.content import CF_LINK, CF_LWM2M_CBOR, CF_SENML_CBOR, CF_SENML_JSON
from lwm2m_client.core.content import formats as _formats
from lwm2m_client.core.dm.hooks import call
from lwm2m_client.core.dm.path import MAX_ID, path_from_segments
from lwm2m_client.core.dm.types import Objlnk
from lwm2m_client.core.errors import (
    BadRequest,
    BufferFull,
    DecodeError,
    InternalServerError,
    LwM2MError,
    MethodNotAllowed,
    Unauthorized,
    code_str,
)

SECURITY = 0
SERVER = 1
ACCESS = 2
DEVICE = (3, 0)
OSCORE = 21
# Bootstrap-Read may target the Server and the Access Control objects only (Core 1.2
# section 6.1.7.4; Transport 1.1 names Object 2 alone: both are accepted).
READABLE = (SERVER, ACCESS)
# What a Bootstrap-Pack may come in (Core 1.2 section 6.1.7.7).
PACK_FORMATS = (CF_SENML_CBOR, CF_SENML_JSON, CF_LWM2M_CBOR)
# /2/x/3 owner and /2/x/2 entry IDs that name no server: the default entry 0 and the
# owner 65535 that leaves the instance to the Bootstrap-Server (Core 1.1 section 8).
_SPECIAL_SSIDS = (0, MAX_ID)

# Security Mode /0/x/2 (Transport 1.1 section 5.2.8): its name, and the resources
# whose values it needs: PSK identity and key; RPK own public key, server key and own
# private key; certificate own certificate and private key (the server's may come from
# the trust store); NoSec and EST (keys made on the device) none.
_MODE_NAMES = ("PSK", "RPK", "Certificate", "NoSec", "Certificate with EST")
_MODE_NEEDS = ((3, 5), (3, 4, 5), (3, 5), (), ())
_NOSEC = 3
_PLAIN_SCHEMES = ("coap", "coap+tcp")
_SECURE_SCHEMES = ("coaps", "coaps+tcp")

# The complete set of 4.xx codes of each operation (Transport 1.1 section 6.7); 4.13
# stands for a request body the client has no memory for. Others become 4.00.
_VALID = {
    "bs-write": (0x80, 0x84, 0x8D, 0x8F),
    "bs-read": (0x80, 0x81, 0x84, 0x85, 0x86),
    "bs-discover": (0x80, 0x84),
    "bs-delete": (0x80,),
}


class BootstrapHandler:
    """Serves the Bootstrap-Server's requests against ``tree``.

    ``body_buf`` is the fixed buffer Read and Discover answers are encoded into (one
    that does not fit is a 5.00); ``formats`` the content formats served (None: every
    one the core has), ``preferred_format`` the format of a Read without Accept (None:
    the LwM2M version's default), as for
    :class:`~lwm2m_client.core.client.dm_handler.DMHandler`, whose content format
    negotiation and codecs this handler shares. An exception that is no LwM2MError is
    answered 5.00, or raised when ``strict`` is True (for the fuzz tests).
    """

    strict = False

    def __init__(self, tree, body_buf, formats=None, preferred_format=None):
        self.tree = tree
        self.body_buf = body_buf
        self.formats = formats
        self.preferred_format = preferred_format
        self._dm = DMHandler(tree, None, body_buf, preferred_format, formats)

    def op_name(self, msg):
        """The operation ``msg`` asks for: bs-write, bs-read, bs-discover, bs-delete,
        or unknown (answered 4.05)."""
        code = msg.code
        if code == m.GET:
            accept = msg.accept
            if accept == CF_LINK or (accept is None and len(_segments(msg)) <= 1):
                return "bs-discover"
            return "bs-read"
        return {m.PUT: "bs-write", m.DELETE: "bs-delete"}.get(code, "unknown")

    def handle(self, msg, version, payload):
        """Answer ``msg`` from the Bootstrap-Server; ``version`` is the LwM2M version
        the client speaks with it, ``payload`` the whole request body. Returns a
        :class:`~lwm2m_client.core.client.dm_handler.Reply`; raises nothing for peer
        input."""
        try:
            op = self.op_name(msg)
        except DecodeError:
            # A malformed Accept is an unrecognized option (RFC 7252 section 5.4.1).
            return Reply("unknown", m.BAD_OPTION)
        try:
            return self._dispatch(op, msg, version, payload)
        except BufferFull:
            return Reply(op, InternalServerError.code)
        except LwM2MError as exc:
            code = exc.code
            valid = _VALID.get(op)
            if valid is not None and code < 0xA0 and code not in valid:
                code = BadRequest.code
            return Reply(op, code)
        except MemoryError:
            return Reply(op, InternalServerError.code)
        except Exception:  # noqa: BLE001 - peer input never crashes the client
            if self.strict:
                raise
            return Reply(op, InternalServerError.code)

    def _dispatch(self, op, msg, version, payload):
        if op == "unknown":
            raise MethodNotAllowed("not an operation of the Bootstrap interface")
        path = path_from_segments(_segments(msg))
        if op == "bs-write":
            return self._write(msg, path, payload)
        if op == "bs-read":
            return self._read(msg, path, version)
        if op == "bs-discover":
            if len(path) > 1:
                raise BadRequest("Bootstrap-Discover targets / or an object")
            n = _encode_links(self.body_buf, bootstrap_links(self.tree, path, version))
            return Reply(op, m.CONTENT, CF_LINK, memoryview(self.body_buf)[:n])
        if op == "bs-delete":
            reply = Reply(op, m.DELETED)
            reply.objects_changed = bool(bootstrap_delete(self.tree, path))
            return reply
        raise MethodNotAllowed("unknown operation %r" % op)

    def _write(self, msg, path, payload):
        n = len(path)
        if n == 0 or n > 3:
            raise BadRequest("Bootstrap-Write targets an object, instance or resource")
        self.tree.definition(path[0])  # 4.04 for an object the client does not have
        if not len(payload):
            raise BadRequest("Bootstrap-Write needs a payload")
        items = self._dm._decode(msg, payload, path)
        changed = self.tree.write(path, items, True, True)
        reply = Reply("bs-write", m.CHANGED)
        # Instances the write made come first in the changed paths.
        reply.objects_changed = bool(changed) and len(changed[0]) == 2
        return reply

    def _read(self, msg, path, version):
        n = len(path)
        if version == "1.0":
            raise MethodNotAllowed("Bootstrap-Read comes with LwM2M 1.1")
        if n == 0 or n > 2:
            raise MethodNotAllowed("Bootstrap-Read targets an object or an instance")
        if path[0] not in READABLE:
            raise Unauthorized("Bootstrap-Read is for the Server and Access Control objects")
        records = self.tree.read(path)
        cf = self._dm._response_format(msg, version)
        return Reply("bs-read", m.CONTENT, cf, self._dm._encode(cf, records, path))


def _segments(msg):
    segments = msg.opts(o.URI_PATH)
    if len(segments) == 1 and not len(segments[0]):
        return []  # "/" sent as one empty Uri-Path option
    return segments


def _encode_links(buf, links):
    from lwm2m_client.core.content.link import encode_links
    return encode_links(buf, links)


# -- Bootstrap-Discover ---------------------------------------------------------------


def bootstrap_links(tree, path, version):
    """The links of a Bootstrap-Discover of ``path`` (``()`` or ``(oid,)``), Core 1.1
    section 6.1.7.3: the root link with ``lwm2m=`` (for ``/`` only), per object a
    link with its ``ver`` where Register would give one, or a bare link when it has no
    instances, then one link per instance; ``ssid`` on the instances of LwM2M Server
    accounts in ``/0``, ``/1`` and ``/21``, ``uri`` on their ``/0`` instances. NotFound
    for an object the client does not have."""
    from lwm2m_client.core.client.links import version_params
    if path:
        tree.definition(path[0])
        oids = [path[0]]
    else:
        oids = tree.objects()
    links = []
    if not path:
        links.append(((), [("lwm2m", version)]))
    oscore = _oscore_ssids(tree) if OSCORE in oids else {}
    for oid in oids:
        odef = tree.definition(oid)
        iids = tree.instances(oid)
        ver = version_params(odef, version)
        if ver or not iids:
            links.append(((oid,), ver))
        for iid in iids:
            params = []
            if oid == SECURITY and not value_at(tree, (SECURITY, iid, 1)):
                ssid = int_at(tree, (SECURITY, iid, 10))
                if ssid is not None:
                    params.append(("ssid", ssid))
                uri = value_at(tree, (SECURITY, iid, 0))
                if type(uri) is str and uri:
                    params.append(("uri", uri))
            elif oid == SERVER:
                ssid = int_at(tree, (SERVER, iid, 0))
                if ssid is not None:
                    params.append(("ssid", ssid))
            elif oid == OSCORE and iid in oscore:
                params.append(("ssid", oscore[iid]))
            links.append(((oid, iid), params))
    return links


def _oscore_ssids(tree):
    # /21 instance -> the SSID of the LwM2M Server account whose /0/x/17 links to it.
    out = {}
    if SECURITY not in tree.objects():
        return out
    for sec in tree.instances(SECURITY):
        link = value_at(tree, (SECURITY, sec, 17))
        ssid = int_at(tree, (SECURITY, sec, 10))
        if isinstance(link, Objlnk) and link.oid == OSCORE and ssid is not None and \
                not value_at(tree, (SECURITY, sec, 1)):
            out[link.iid] = ssid
    return out


# -- Bootstrap-Delete -----------------------------------------------------------------


def bootstrap_account(tree):
    """The ``/0`` instance ID of the Bootstrap-Server account (the lowest one whose
    Bootstrap-Server resource ``/0/x/1`` is true), or None."""
    return accounts.bootstrap_security_iid(tree)


def kept_instances(tree):
    """The instances a Bootstrap-Delete of ``/`` or of their object keeps: every
    Bootstrap-Server account's ``/0`` instance, the ``/21`` instance its OSCORE
    Security Mode ``/0/x/17`` links to, and ``/3/0`` (Core 1.1 section 6.1.7.6)."""
    keep = [DEVICE]
    if SECURITY in tree.objects():
        for sec in tree.instances(SECURITY):
            if value_at(tree, (SECURITY, sec, 1)):
                keep.append((SECURITY, sec))
                link = value_at(tree, (SECURITY, sec, 17))
                if isinstance(link, Objlnk) and link.oid == OSCORE:
                    keep.append((OSCORE, link.iid))
    return keep


def bootstrap_delete(tree, path):
    """Bootstrap-Delete ``path`` (``()``, ``(oid,)`` or ``(oid, iid)``); returns the
    deleted instances. All or nothing: every Delete hook is asked before the first
    instance goes. BadRequest for a resource path, an object the client does not have,
    a missing instance or one that is kept (:func:`kept_instances`)."""
    n = len(path)
    if n > 2:
        raise BadRequest("Bootstrap-Delete targets /, an object or an instance")
    objects = tree.objects()
    if n and path[0] not in objects:
        raise BadRequest("object %d is not supported" % path[0])
    keep = kept_instances(tree)
    if n == 2:
        if not tree.has(path):
            raise BadRequest("no instance /%d/%d" % path)
        if path in keep or _protected(tree, path):
            raise BadRequest("instance /%d/%d is kept" % path)
        targets = [path]
    else:
        targets = []
        for oid in ([path[0]] if n else objects):
            for iid in tree.instances(oid):
                key = (oid, iid)
                if key not in keep and not _protected(tree, key):
                    targets.append(key)
    _ask_delete_hooks(tree, targets)
    _delete(tree, targets)
    return targets


# The tree deletes one path per call and keeps no list of exceptions of its own; the
# three helpers below do what ObjectTree.delete does for a list of instances (the
# application's deny_delete, its Delete hooks, then the deletion).


def _protected(tree, key):
    denied = tree._no_delete
    return key in denied or key[:1] in denied


def _ask_delete_hooks(tree, targets):
    for target in targets:
        for hook in tree._delete_hooks_for(target):
            call(hook, target)


def _delete(tree, targets):
    for oid, iid in targets:
        tree.delete_instance(oid, iid)


# -- Bootstrap-Pack --------------------------------------------------------------------


def apply_pack(tree, cf, payload, formats=None):
    """Apply a Bootstrap-Pack (LwM2M 1.2, Core 1.2 section 6.1.7.7) in content format
    ``cf`` (SenML CBOR, SenML JSON or LwM2M CBOR, and one of ``formats`` unless None).

    Every object the pack has records for is replaced: its instances the pack does not
    name are deleted (those :func:`kept_instances` lists excepted), those it names hold
    exactly the pack's values (a kept one has them written over its own). Objects not
    in the pack stay as they are. Values follow the Bootstrap-Write rules. All or
    nothing. Returns None when applied, else a one-line reason (nothing changed); the
    caller then checks the result with :func:`check_configuration`.
    """
    try:
        codec = _formats.codec(cf, formats)
        if codec is None or cf not in PACK_FORMATS:
            return "content format %r is no Bootstrap-Pack format" % (cf,)
        try:
            items = codec.decode(payload, (), tree.type_of)
        except MemoryError:
            return "no memory for the Bootstrap-Pack"
        _replace_objects(tree, items)
        return None
    except LwM2MError as exc:
        return "%s %s" % (code_str(exc.code), exc)
    except MemoryError:
        return "no memory to apply the Bootstrap-Pack"
    except Exception as exc:  # noqa: BLE001 - peer input never crashes the client
        return "internal error %r" % (exc,)


def _replace_objects(tree, items):
    oids = []
    for path, _ in items:
        if len(path) < 3:
            raise BadRequest("a pack record must name a resource")
        if path[0] not in oids:
            tree.definition(path[0])  # 4.04 for an object the client does not have
            oids.append(path[0])
    keep = kept_instances(tree)
    named = set()
    for path, _ in items:
        named.add(path[:2])
    # One transaction of the tree for every value: a replaced instance starts empty.
    txn = tree._transaction(True)
    gone = []
    for oid in sorted(oids):
        for iid in tree.instances(oid):
            key = (oid, iid)
            if key in keep or _protected(tree, key):
                continue
            if key in named:
                txn.staged[key] = {}
            else:
                gone.append(key)
    for path, value in items:
        txn.put(path, value, True)
    _ask_delete_hooks(tree, gone)
    try:
        tree._finish(txn)
    except LwM2MError:
        # A post-write hook failed after the values went in: finish the replacement
        # before answering. A write check refusing them left everything as it was.
        if _committed(tree, txn):
            _delete(tree, gone)
        raise
    _delete(tree, gone)


def _committed(tree, txn):
    for key in txn.staged:
        return tree._data[key[0]].get(key[1]) is txn.staged[key]
    return False


# -- Bootstrap-Finish ------------------------------------------------------------------


def check_configuration(tree):
    """None when the configuration a Bootstrap-Server left is consistent (Core 1.1
    sections 6.1.7.7 and E.1), else a one-line reason (the caller answers
    Bootstrap-Finish 4.06). Consistent means:

    - the LwM2M Server accounts read cleanly (:func:`~lwm2m_client.core.client.
      accounts.read_accounts`): every non-bootstrap ``/0`` instance has a URI and a
      Short Server ID, no Short Server ID twice in ``/0`` or in ``/1``, every ``/1``
      instance has its ``/0`` instance and every ``/0`` instance its ``/1`` instance;
    - there is at least one such account;
    - every ``/0`` instance has a Security Mode 0..4 whose credentials are there (PSK:
      ``/0/x/3`` and ``/0/x/5``; RPK: ``/0/x/3``, ``/0/x/4``, ``/0/x/5``; certificate:
      ``/0/x/3``, ``/0/x/5``; NoSec and EST: none), and a ``coap://`` URI goes with
      NoSec only, a ``coaps://`` one with the other modes;
    - every ``/2`` instance names an object the client has and an existing instance of
      it (or 65535, the object itself), and its owner and ACL entries name Short Server
      IDs of LwM2M Servers (0 and 65535 excepted).
    """
    entries, problems = accounts.read_accounts(tree)
    if problems:
        return problems[0]
    if not entries:
        return "no LwM2M Server account (a /0 instance and a /1 instance of one SSID)"
    reason = _check_security(tree)
    if reason is None:
        ssids = [entry[0] for entry in entries]
        reason = _check_access(tree, ssids)
    return reason


def _check_security(tree):
    for sec in tree.instances(SECURITY):
        mode = int_at(tree, (SECURITY, sec, 2))
        if mode is None:
            return "/0/%d has no Security Mode" % sec
        if not 0 <= mode < len(_MODE_NAMES):
            return "/0/%d: Security Mode %d is not supported" % (sec, mode)
        for rid in _MODE_NEEDS[mode]:
            if not value_at(tree, (SECURITY, sec, rid)):
                return "/0/%d: Security Mode %s needs /0/%d/%d" % (
                    sec, _MODE_NAMES[mode], sec, rid)
        uri = value_at(tree, (SECURITY, sec, 0))
        if type(uri) is str and "://" in uri:
            scheme = uri.split("://", 1)[0].lower()
            plain = scheme in _PLAIN_SCHEMES
            if (plain or scheme in _SECURE_SCHEMES) and plain != (mode == _NOSEC):
                return "/0/%d: Security Mode %s does not go with %s" % (
                    sec, _MODE_NAMES[mode], uri)
    return None


def _check_access(tree, ssids):
    objects = tree.objects()
    if ACCESS not in objects:
        return None
    for x in tree.instances(ACCESS):
        oid = int_at(tree, (ACCESS, x, 0))
        iid = int_at(tree, (ACCESS, x, 1))
        if oid is None or iid is None:
            return "/2/%d names no object or no instance" % x
        if oid not in objects:
            return "/2/%d is for object %d, which the client does not have" % (x, oid)
        if iid != MAX_ID and not tree.has((oid, iid)):
            return "/2/%d is for /%d/%d, which does not exist" % (x, oid, iid)
        owner = int_at(tree, (ACCESS, x, 3))
        if owner is None:
            return "/2/%d has no owner" % x
        if owner not in _SPECIAL_SSIDS and owner not in ssids:
            return "/2/%d: owner %d is no LwM2M Server" % (x, owner)
        acl = value_at(tree, (ACCESS, x, 2))
        if type(acl) is dict:
            for ssid in sorted(acl):
                if ssid not in _SPECIAL_SSIDS and ssid not in ssids:
                    return "/2/%d: ACL entry for %d, which is no LwM2M Server" % (x, ssid)
    return None
