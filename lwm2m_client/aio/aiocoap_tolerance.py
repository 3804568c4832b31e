"""Accepting the blocks of a GET whose follow-up requests carry stray options, on aiocoap.

aiocoap (0.4.x) splits a large answer itself and keeps it in its Block2 cache
(``aiocoap.blockwise.Block2Cache``): a request for block 0 renders the answer, a request
for block 1..n is served from the cache, found by a key made of the peer, the request
code and every option of the request that is part of the cache key
(``Message.get_cache_key``: all but the safe-to-forward NoCacheKey ones, RFC 7252
section 5.4.6; only Block1, Block2 and Observe are left out). A follow-up request that
carries an option block 0's request did not -- the Content-Format Eclipse Wakaama's
server adds to the follow-up GETs of a Read -- finds no entry, and aiocoap answers 4.08
Request Entity Incomplete.

RFC 7959 section 2.4 has the requester repeat "the same options as the initial request";
what must be the same is what names the resource and its representation. On a GET those
are the critical options (Uri-Host, Uri-Port, Uri-Path, Uri-Query, Proxy-Uri,
Proxy-Scheme; Block2 and OSCORE too) and Accept, which selects the representation
(RFC 7252 section 5.10.4); a follow-up request changing one of them continues nothing, and
aiocoap's 4.08 for it stays. The other elective options do not change the answer to a
GET, so :func:`drop_inert_get_options` removes them from the request before aiocoap keys
it, for block 0 and for every follow-up alike:

- Content-Format: it describes the payload (RFC 7252 section 5.10.3), and a GET has none;
- ETag: a validator (section 5.10.6.2) the client does not act on; every block carries
  the representation's own ETag, by which the server notices a change (RFC 7959
  section 2.4);
- options the client does not know: an unrecognised elective option "MUST be silently
  ignored" (RFC 7252 section 5.4.1), so it must not decide whether a block is served;
- Size1, Max-Age, Location-*, Hop-Limit: they mean nothing on a GET sent to its origin.

The message-level client reads nothing but Uri-Path, Uri-Query (Discover's ``depth``),
Accept and Observe on a GET, so it answers the trimmed request as it would the original.
"""

from __future__ import annotations

from typing import Any, Callable, List

from lwm2m_client.core.coap import blockwise
from lwm2m_client.core.coap import options as o

# Elective options a GET's answer or its delivery depends on, kept: Observe (RFC 7641;
# aiocoap leaves it out of the key itself), Accept (RFC 7252 section 5.10.4), Size2 (a
# request for the size, RFC 7959 section 4), Echo and Request-Tag (RFC 9175, freshness
# and telling concurrent transfers apart), No-Response (RFC 7967: whether to answer).
_ECHO = 252
_REQUEST_TAG = 292
KEPT_ELECTIVE = frozenset((o.OBSERVE, o.ACCEPT, o.SIZE2, _ECHO, o.NO_RESPONSE, _REQUEST_TAG))

_GET = 1  # the method code (RFC 7252 section 12.1.1), read as an int from aiocoap's Code

# The entity tag the core's own Block2 puts on every block (blockwise.etag_of), so both
# adapters tag a representation alike.
etag_of: Callable[[bytes], bytes] = blockwise.etag_of


def drop_inert_get_options(request: Any) -> List[int]:
    """Remove from ``request`` (an incoming aiocoap Message) every elective option that
    does not shape a GET's answer; return the option numbers removed. Other methods and
    all critical options (RFC 7252 section 5.4.1) are left alone."""
    if int(request.code) != _GET:
        return []
    dropped = sorted({int(option.number) for option in request.opt.option_list()
                      if not int(option.number) & 1
                      and int(option.number) not in KEPT_ELECTIVE})
    for number in dropped:
        request.opt.delete_option(number)
    return dropped


def tag_blocks(request: Any, response: Any) -> None:
    """Give ``response`` an ETag when aiocoap will send it in blocks for ``request``
    (the answer is larger than the request's Block2 size) and the client set none.

    aiocoap copies the whole answer's options into every block it cuts but adds no ETag
    of its own; the LwM2M Server fetching the blocks needs one to know that they all
    come from one version of the representation (RFC 7959 section 2.4).
    """
    block2 = request.opt.block2
    if block2 is not None and len(response.payload) > block2.size and \
            response.opt.etag is None:
        response.opt.etag = etag_of(bytes(response.payload))
