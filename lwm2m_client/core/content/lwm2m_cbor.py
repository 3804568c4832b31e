"""LwM2M CBOR, Content-Format 11544 (LwM2M Core 1.2 section 7.4.4).

The body is one CBOR map. A key is a uint ID or an array of uint IDs (a path prefix);
a value is either a nested map one level down or the resource (instance) value, so
``{[3,0,0]: "x"}`` and ``{3: {0: {0: "x"}}}`` say the same thing.

Grouping rule of the encoder: records are grouped by Object ID, in the order each
object first appears (records of one object are sorted by path). Each group becomes
one top-level key: the longest path prefix its records share, as a uint when that is
the Object ID alone and as an array otherwise; below it, one nested map level per
remaining path ID. So a Read of ``/3/0`` gives ``{[3,0]: {0: ..., 6: {0: 1, 1: 5}}}``,
of ``/1`` gives ``{1: {0: {...}, 1: {...}}}``, of a single resource
``{[3,0,0]: "x"}``, and a composite of /3/0/0, /3/0/9, /1/0/1 gives
``{[3,0]: {0: ..., 9: ...}, [1,0,1]: 86400}``. Definite-length maps need their
counts first: each level is counted over the sorted records before it is written,
with no intermediate encoding.

The decoder takes any mix of nested and array keys and indefinite lengths. Top-level
keys start at the Object ID, except that Write and Create payloads may be relative to
the request path (C1.2 section 7.4.4): a value whose key path does not start with
``base``, or is too short to name a resource, is read relative to ``base``.
A null value is a deletion (``None``), an empty map at a resource is an empty
multiple resource (``None``), Time may arrive as tag 0 or tag 1.
"""

from lwm2m_client.core.content import cbor, cbor_single
from lwm2m_client.core.content import senml_common as _sc
from lwm2m_client.core.errors import DecodeError


def _prepare(records):
    """Records with a value, grouped by object in order of first appearance and
    sorted by path inside each object (one re-sort only when the caller's order
    does not already satisfy that)."""
    recs = [r for r in records if r[2] is not None]
    done = set()
    ordered = True
    for k in range(1, len(recs)):
        prev = recs[k - 1][0]
        cur = recs[k][0]
        if cur[0] == prev[0]:
            if cur <= prev:
                ordered = False
                break
        else:
            done.add(prev[0])
            if cur[0] in done:
                ordered = False
                break
    if not ordered:
        first = {}
        for r in recs:
            if r[0][0] not in first:
                first[r[0][0]] = len(first)
        recs.sort(key=lambda r: (first[r[0][0]], r[0]))
    return recs


def encode_into(buf, records, base=()):
    recs = _prepare(records)
    n = len(recs)
    groups = 0
    for k in range(n):
        if k == 0 or recs[k][0][0] != recs[k - 1][0][0]:
            groups += 1
    pos = cbor.write_head(buf, 0, cbor.M_MAP, groups)
    i = 0
    while i < n:
        first = recs[i][0]
        j = i + 1
        while j < n and recs[j][0][0] == first[0]:
            j += 1
        # Sorted paths: the prefix shared by all is the one shared by the first and last.
        last = recs[j - 1][0]
        k = 0
        while k < len(first) and k < len(last) and first[k] == last[k]:
            k += 1
        if k == 1:
            pos = cbor.write_head(buf, pos, cbor.M_UINT, first[0])
        else:
            pos = cbor.write_head(buf, pos, cbor.M_ARRAY, k)
            for x in first[:k]:
                pos = cbor.write_head(buf, pos, cbor.M_UINT, x)
        if j - i == 1 and len(first) == k:
            rec = recs[i]
            pos = cbor.write_value(buf, pos, rec[1], rec[2])
        else:
            pos = _level(buf, pos, recs, i, j, k)
        i = j
    return pos


def _level(buf, pos, recs, lo, hi, depth):
    """Write the map of the IDs at ``depth`` for ``recs[lo:hi]``, which share
    ``depth`` leading IDs and are sorted."""
    count = 0
    prev = -1
    for k in range(lo, hi):
        p = recs[k][0]
        if len(p) <= depth:
            raise ValueError("overlapping record paths at %r" % (p,))
        if p[depth] != prev:
            count += 1
            prev = p[depth]
    pos = cbor.write_head(buf, pos, cbor.M_MAP, count)
    a = lo
    while a < hi:
        key = recs[a][0][depth]
        b = a + 1
        while b < hi and recs[b][0][depth] == key:
            b += 1
        pos = cbor.write_head(buf, pos, cbor.M_UINT, key)
        rec = recs[a]
        if len(rec[0]) == depth + 1:
            if b - a > 1:
                raise ValueError("duplicate or overlapping record path %r" % (rec[0],))
            pos = cbor.write_value(buf, pos, rec[1], rec[2])
        else:
            pos = _level(buf, pos, recs, a, b, depth + 1)
        a = b
    return pos


def decode(data, base=(), type_of=None):
    top = cbor.loads(data)
    if type(top) is not dict:
        raise DecodeError("LwM2M CBOR body is not a map")
    out = []
    _walk(top, (), tuple(base), type_of, out, set())
    return out


def _ids(key):
    if type(key) is int:
        key = (key,)
    elif type(key) is not tuple or not key:
        raise DecodeError("LwM2M CBOR key is not an ID or a path array")
    for x in key:
        if type(x) is not int or not 0 <= x <= 0xFFFF:
            raise DecodeError("LwM2M CBOR path ID out of range")
    return key


def _resolve(p, base):
    nb = len(base)
    if nb and (len(p) < 3 or p[:nb] != base):
        p = base + p
    if len(p) > 4:
        raise DecodeError("LwM2M CBOR path deeper than a resource instance")
    return p


def _walk(node, prefix, base, type_of, out, seen):
    for key, value in node.items():
        p = prefix + _ids(key)
        if len(p) > 4:
            raise DecodeError("LwM2M CBOR path deeper than a resource instance")
        if type(value) is dict and value:
            _walk(value, p, base, type_of, out, seen)
            continue
        full = _resolve(p, base)
        if type(value) is dict:
            if len(full) != 3:
                continue  # an empty object or instance map carries nothing
            value = None  # a multiple resource without instances
        elif len(full) < 3:
            raise DecodeError("LwM2M CBOR value above resource level")
        else:
            value = _leaf(value)
            if type_of is not None and value is not None:
                typ = type_of(full[:3])
                if typ is not None:
                    value = _sc.apply_type(value, typ)
        if full in seen:
            raise DecodeError("LwM2M CBOR path %r appears twice" % (full,))
        seen.add(full)
        out.append((full, value))


def _leaf(value):
    t = type(value)
    if t is int or t is float or t is str or t is bytes or t is bool or value is None:
        return value
    if isinstance(value, cbor.Tag):
        return cbor_single.time_value(value)
    raise DecodeError("LwM2M CBOR value of unsupported kind")
