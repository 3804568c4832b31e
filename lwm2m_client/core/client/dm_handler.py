"""Device Management and Service Enablement interface, client side.

Maps one CoAP request from a registered LwM2M Server onto the object tree
(Transport 1.1 section 6.4.4; Core 1.1 section 6.3) and produces the response code,
content format and body. Every error is an LwM2MError whose ``code`` becomes the
response; nothing here raises anything else for peer input.

=================  ===========================  ===============================
operation          request                      success
=================  ===========================  ===============================
Read               GET (Accept != 40)           2.05 + body
Discover           GET, Accept 40               2.05 + link format
Write-Attributes   PUT without payload          2.04
Write (replace)    PUT /o/i, /o/i/r, /o/i/r/ri  2.04
Write (partial)    POST /o/i; POST /o/i/r       2.04 (multiple resources only)
Execute            POST /o/i/r on an E resource 2.04
Create             POST /o                      2.01 (+ Location-Path)
Delete             DELETE /o/i (/o/i/r/ri 1.2)  2.02
Read-Composite     FETCH /                      2.05 + SenML body
  (Observe-Composite: the same with Observe; the client's Reporting keeps it)
Write-Composite    iPATCH /                     2.04
=================  ===========================  ===============================

Observe (GET with Observe=0) is answered as a Read; the response then carries no
Observe option, which tells the server no observation was set up (RFC 7641 section 3.2).

What only Discover and Write-Attributes need (the link lists, the attribute store) and
the composite operations (:mod:`~lwm2m_client.core.client.composite`) are imported by
the first such request, and a content format's codec by the first request
in that format: a meter that is only read loads neither.

Access control (Core 1.1 section 8, :mod:`~lwm2m_client.core.client.access`) applies
while the tree holds instances of Object 2; only then is its module imported. Without
them every registered server has every right.
"""

from lwm2m_client.core.coap import message as m
from lwm2m_client.core.coap import options as o
from lwm2m_client.core.content import CF_LINK, formats
from lwm2m_client.core.dm.model import OP_E
from lwm2m_client.core.dm.path import path_from_segments
from lwm2m_client.core.errors import (
    BadRequest,
    BufferFull,
    DecodeError,
    InternalServerError,
    LwM2MError,
    MethodNotAllowed,
    NotAcceptable,
    NotFound,
    RequestEntityTooLarge,
    Unauthorized,
    UnsupportedContentFormat,
)

# Objects no LwM2M Server may touch through DM or IR: Security and OSCORE
# (Core 1.1 sections 6.3 and 6.4: 4.01).
PROTECTED_OBJECTS = (0, 21)


class Reply:
    """What a handled request answers: ``code``, ``cf`` (None: no Content-Format),
    ``body`` (a memoryview into the handler's buffer, or None), ``location``
    (Location-Path segments for Create), ``op``, the operation's name for logs,
    ``objects_changed`` when an instance came or went, and ``paths``, the targets of a
    Read-Composite (an Observe-Composite observes them), else None."""

    def __init__(self, op, code, cf=None, body=None, location=None):
        self.op = op
        self.code = code
        self.cf = cf
        self.body = body
        self.location = location
        # An instance was created or deleted: the registered object list changed.
        self.objects_changed = op == "create" and code == m.CREATED
        self.paths = None

    def __repr__(self):
        return "<Reply %s %s>" % (self.op, m.code_name(self.code))


class DMHandler:
    """Serves DM requests against ``tree``; ``attributes`` holds Write-Attributes.

    ``body_buf`` is the fixed buffer responses are encoded into; a response that does
    not fit is a 5.00 (the caller sizes the buffer, block-wise splits what fits).
    ``formats`` are the content formats served (None: every one the core has); any
    other is answered 4.06 in Accept and 4.15 in Content-Format, and its codec is never
    imported. ``attributes`` None makes the store on first use.

    An exception that is no LwM2MError (a bug, or an application hook failing) is
    answered 5.00 too; ``strict = True`` lets it propagate instead, so the fuzz tests
    can tell a bug from a deliberate 5.00. MemoryError is no bug but a short heap: it
    is answered 5.00 whatever ``strict`` says, or 4.13 when the request body's values
    are what does not fit, and the handler stays usable.
    """

    strict = False

    def __init__(self, tree, attributes, body_buf, preferred_format=None, formats=None):
        self.tree = tree
        self._attributes = attributes
        self.body_buf = body_buf
        self.preferred_format = preferred_format
        self.formats = formats

    @property
    def attributes(self):
        """The Write-Attributes store (an AttributeStore)."""
        if self._attributes is None:
            from lwm2m_client.core.client.attributes import AttributeStore
            self._attributes = AttributeStore()
        return self._attributes

    def op_name(self, msg):
        """The operation a request asks for, named as the spec names it."""
        code = msg.code
        if code == m.GET:
            if msg.accept == CF_LINK:
                return "discover"
            try:
                observe = msg.observe
            except DecodeError:
                # Observe is elective: a malformed value is ignored (RFC 7252 5.4.3).
                observe = None
            return "read" if observe is None else "observe"
        if code == m.PUT:
            return "write-attributes" if self._is_attribute_write(msg) else "write"
        if code == m.POST:
            n = len(msg.opts(o.URI_PATH))
            return "create" if n == 1 else "write" if n == 2 else "execute"
        return {m.DELETE: "delete", m.FETCH: "read-composite",
                m.IPATCH: "write-composite"}.get(code, "unknown")

    def handle(self, msg, ssid, version, payload):
        """Handle ``msg`` for server ``ssid`` (LwM2M ``version`` of its registration).

        ``payload`` is the whole request body (reassembled when it came in Block1).
        Returns a :class:`Reply`; raises nothing for peer input.
        """
        try:
            op = self.op_name(msg)
        except DecodeError:
            # A malformed Accept or Content-Format value counts as unrecognized (RFC 7252
            # 5.4.3); the operation cannot be told without it, so 4.02 (5.4.1).
            return Reply("unknown", m.BAD_OPTION)
        try:
            return self._dispatch(op, msg, ssid, version, payload)
        except BufferFull:
            # The response does not fit the body buffer: the client's limit, not the
            # request's fault (T1.1 section 6.7: an error no 4.xx describes -> 5.00).
            return Reply(op, InternalServerError.code)
        except LwM2MError as exc:
            return Reply(op, exc.code)
        except MemoryError:
            # Checked before ``strict``: a fragmented or small heap is not a bug.
            return Reply(op, InternalServerError.code)
        except Exception:  # noqa: BLE001 - peer input never crashes the client
            if self.strict:
                raise
            return Reply(op, InternalServerError.code)

    # -- dispatch ------------------------------------------------------------------

    def _dispatch(self, op, msg, ssid, version, payload):
        path = path_from_segments(msg.opts(o.URI_PATH))
        if path and path[0] in PROTECTED_OBJECTS:
            raise Unauthorized("the Security and OSCORE objects are not for servers")
        if path and self.tree.definition(path[0]) is None:
            raise NotFound("object %d is not supported" % path[0])
        acl = self.access_control()
        if acl is not None:
            # 4.01 before anything looks at the operation: a 4.05 comes after the
            # access check (Core 1.1 section 8.2). Only registered LwM2M Servers come
            # here; the Bootstrap-Server, which no ACL binds, would pass ssid None (the
            # client has no Bootstrap interface yet).
            acl.authorize(self.tree, ssid, op, path)
        code = msg.code
        if op == "read" or op == "observe":
            return self._read(op, msg, ssid, path, version)
        if op == "discover":
            return self._discover(msg, ssid, path, version)
        if op == "write-attributes":
            return self._write_attributes(msg, ssid, path)
        if op == "write":
            return self._write(msg, path, payload, code == m.PUT)
        if op == "create":
            return self._create(msg, ssid, path, payload, acl)
        if op == "execute":
            return self._execute(msg, path, payload)
        if op == "delete":
            if len(path) != 2 and (len(path) != 4 or version != "1.2"):
                # Resource instances can be deleted from LwM2M 1.2 on (Transport 1.2
                # section 6.4.4); before, only instances.
                raise MethodNotAllowed("Delete needs an instance or resource instance")
            self.tree.delete(path)
            gone = [path]
            if acl is not None and len(path) == 2:
                # Its Access Control instances go with it (Core 1.1 section 8.1.2).
                for ac_iid in acl.forget(self.tree, path[0], path[1]):
                    gone.append((acl.ACCESS_OBJECT, ac_iid))
            if self._attributes is not None:
                for target in gone:
                    self._attributes.drop_path(target)
            reply = Reply(op, m.DELETED)
            reply.objects_changed = len(path) == 2
            return reply
        if op == "read-composite" or op == "write-composite":
            # Imported by the first composite request: many servers never send one.
            from lwm2m_client.core.client import composite
            if op == "read-composite":
                return composite.read_composite(self, msg, path, payload, version, ssid)
            return composite.write_composite(self, msg, path, payload, ssid)
        raise MethodNotAllowed("method not supported")

    def access_control(self):
        """The access control module while the tree has Object 2 instances (AC-Enabled),
        else None (Core 1.1 section 8): a tree without them never imports it."""
        tree = self.tree
        if tree.has((2,)) and tree.instances(2):
            from lwm2m_client.core.client import access
            return access
        return None

    def read_records(self, path, ssid=None):
        """The records a Read of ``path`` by server ``ssid`` returns: under access control
        only the instances it may read (4.01 when none); ``ssid`` None reads all."""
        acl = None if ssid is None else self.access_control()
        if acl is None:
            return self.tree.read(path)
        return acl.read(self.tree, ssid, path)

    def _read(self, op, msg, ssid, path, version):
        if not path:
            raise MethodNotAllowed("Read of the root is not defined")
        records = self.read_records(path, ssid)
        cf = self._response_format(msg, version)
        return Reply(op, m.CONTENT, cf, self._encode(cf, records, path))

    def _discover(self, msg, ssid, path, version):
        if not path:
            raise MethodNotAllowed("Discover of the root is for the Bootstrap-Server")
        depth = None
        for q in msg.uri_query:
            if q[:6] == "depth=":
                depth = _small_int(q[6:], 3)
            else:
                raise BadRequest("unknown Discover parameter")
        from lwm2m_client.core.client.links import discover_links
        from lwm2m_client.core.content.link import encode_links
        found = discover_links(self.tree, self.attributes, ssid, path, depth, version)
        n = encode_links(self.body_buf, found)
        return Reply("discover", m.CONTENT, CF_LINK, memoryview(self.body_buf)[:n])

    def _write_attributes(self, msg, ssid, path):
        if not path:
            raise MethodNotAllowed("Write-Attributes needs an object or deeper path")
        if not self.tree.has(path):
            raise NotFound("no such object, instance or resource")
        from lwm2m_client.core.client.attributes import parse_query
        parsed = parse_query(msg.uri_query)
        typ = self.tree.type_of(path) if len(path) >= 3 else None
        self.attributes.write(ssid, path, parsed, typ)
        return Reply("write-attributes", m.CHANGED)

    def _write(self, msg, path, payload, replace):
        if len(path) < 2:
            # PUT/POST on /o cannot express a Write (Transport 1.1 section 6.4.4).
            raise MethodNotAllowed("Write needs an instance or deeper path")
        if not replace and len(path) == 4:
            raise MethodNotAllowed("partial update of a resource instance")
        items = self._decode(msg, payload, path)
        self.tree.write(path, items, replace)
        return Reply("write", m.CHANGED)

    def _create(self, msg, ssid, path, payload, acl):
        oid = path[0]
        codec = self._request_codec(msg)
        iid = None
        try:
            items = self._decode_with(codec, payload, path)
        except DecodeError:
            items = None
        if items:
            iids = [p[1] for p, _ in items if len(p) >= 2]
            if iids and len(iids) == len(items) and min(iids) == max(iids):
                iid = iids[0]
        if iid is None:
            # No instance ID in the payload: the client picks one and says where
            # it is (Transport 1.1 section 6.4.4: 2.01 with Location-Path).
            iid = self.tree.free_iid(oid)
            if iid is None and not self.tree.definition(oid).multiple:
                # Core 1.1 section 6.3.6: a single-instance object that has its
                # instance takes no Create (T1.1 section 6.4.4: 4.05).
                raise MethodNotAllowed("object %d is single-instance and has its instance"
                                       % oid)
            if iid is None:
                raise InternalServerError("no free instance ID")
            items = self._decode_with(codec, payload, (oid, iid))
        if acl is not None:
            acl.reserve(self.tree)
        iid = self.tree.create(oid, iid, items)
        if acl is not None:
            acl.created(self.tree, ssid, oid, iid)
        return Reply("create", m.CREATED, location=[str(oid), str(iid)])

    def _execute(self, msg, path, payload):
        if len(path) != 3:
            raise MethodNotAllowed("Execute targets a resource")
        rdef = self.tree.definition(path[0]).resource(path[2])
        if rdef is not None and rdef.operations != OP_E:
            if rdef.multiple and rdef.writable:
                # POST on a multiple resource is a partial update (Transport 1.2 6.4.4).
                items = self._decode(msg, payload, path)
                self.tree.write(path, items, False)
                return Reply("write", m.CHANGED)
            raise MethodNotAllowed("resource %d is not executable" % path[2])
        self.tree.execute(path, payload)
        return Reply("execute", m.CHANGED)

    # -- content formats -----------------------------------------------------------

    def _request_codec(self, msg):
        cf = msg.content_format
        if cf is None:
            raise BadRequest("a payload needs a Content-Format")
        codec = formats.codec(cf, self.formats)
        if codec is None:
            raise UnsupportedContentFormat("content format %d is not supported" % cf)
        return codec

    def _decode(self, msg, payload, base):
        return self._decode_with(self._request_codec(msg), payload, base)

    def _decode_with(self, codec, payload, base):
        try:
            return codec.decode(payload, base, self.tree.type_of)
        except MemoryError:
            # The body's values do not fit the heap: the request is too large for
            # this client (4.13, RFC 7252 section 5.9.2.9), which stays well.
            raise RequestEntityTooLarge("no memory for the request body")

    def _response_format(self, msg, version):
        accept = msg.accept
        if accept is not None:
            if formats.codec(accept, self.formats) is None:
                raise NotAcceptable("content format %d is not supported" % accept)
            return accept
        if self.preferred_format is not None:
            return self.preferred_format
        cf = formats.default_format(version)
        if self.formats is not None and cf not in self.formats:
            # The version's default is not served: the client's choice (Core 1.2
            # section 7.4) falls on the first format it is configured with.
            cf = self.formats[0]
        return cf

    def _encode(self, cf, records, base):
        codec = formats.codec(cf, self.formats)
        if codec is None:
            raise NotAcceptable("content format %d is not supported" % cf)
        n = codec.encode_into(self.body_buf, records, base)
        return memoryview(self.body_buf)[:n]

    def notification(self, path, cf, ssid=None):
        """``(code, body)`` of a notification of ``path`` in ``cf`` for server ``ssid``:
        2.05 and the encoded value, or an error code and None when the target cannot be
        read (a deleted instance ends the observation with 4.04, RFC 7641 section 3.2;
        a server that lost its Read right, with 4.01). ``ssid`` None: no access
        control."""
        try:
            return m.CONTENT, self._encode(cf, self.read_records(path, ssid), path)
        except BufferFull:
            return InternalServerError.code, None
        except LwM2MError as exc:
            return exc.code, None
        except MemoryError:
            return InternalServerError.code, None

    def _is_attribute_write(self, msg):
        return not msg.payload and msg.content_format is None


def _small_int(text, top):
    # ASCII digits only: str.isdigit would take other scripts' digits on CPython.
    if len(text) != 1 or not "0" <= text <= "9" or int(text) > top:
        raise BadRequest("bad number %r" % text)
    return int(text)
