"""Block-wise transfers (RFC 7959) for the client engine, on top of the messaging layer.

- ``serve_block2``: answer a request whose response body is too large for one message
  with the block the request asks for (server side of Block2, §2.4).
- ``Block1Receiver``: reassembly state for a request body arriving in Block1 blocks
  (server side of Block1, §2.5): 2.31 Continue, 4.08 on a gap, 4.13 over the maximum.
  Each block goes straight to a sink, so nothing accumulates here.
- ``Block1Sender``: send a large request body in blocks (client side, §2.5), following a
  smaller block size the server asks for (§2.3).
- ``Block2Receiver``: fetch a large response block by block (client side, §2.4), e.g. a
  firmware image pulled over CoAP.

Block sizes are 16..1024 bytes, SZX 0..6 (§2.2).
"""

from lwm2m_client.core.coap import message as m
from lwm2m_client.core.coap import options as o

# Outcomes of feeding a response to a client-side transfer.
CONTINUE = 1  # send the next request (fill() it first)
DONE = 2  # the transfer completed; the last response is the final one
FAILED = 3  # the peer answered with an error or broke the protocol



def etag_of(body):
    """A 4-byte entity tag over ``body``: equal bodies, equal tags, so a client can tell
    when the representation changed between blocks (RFC 7959 §2.4). The tag only has to
    be stable while this process runs, so the interpreter's own bytes hash (native code
    on CPython and MicroPython) serves; a hash loop in Python cost as much as encoding
    the body, once per block."""
    return (hash(bytes(body)) & 0xFFFFFFFF).to_bytes(4, "big")


def serve_block2(request, response, body, szx, etag=None):
    """Put the block of ``body`` that ``request`` asks for into ``response``.

    The block size is the smaller of ``szx`` and the request's Block2 SZX (§2.4: the
    server MUST use the size asked for or a smaller one); a request without Block2 gets
    block 0. Sets Block2, ETag, Size2 on block 0 (§4) and the payload (a memoryview into
    ``body``). Returns False when the block lies past the end of the body: the caller
    answers 4.02 Bad Option.
    """
    offset = 0
    asked = request.block2
    if asked is not None:
        num, _, req_szx = asked
        offset = num * o.block_size(req_szx)
        if req_szx < szx:
            szx = req_szx
    size = o.block_size(szx)
    total = len(body)
    if offset >= total and offset > 0:
        return False
    end = offset + size
    response.block2 = (offset // size, end < total, szx)
    response.etag = etag if etag is not None else etag_of(body)
    if offset == 0:
        response.size2 = total
    response.payload = memoryview(body)[offset:min(end, total)]
    return True


def _transfer_key(request, addr):
    """What identifies one block-wise request body: the peer, the method and the
    request options other than Block1/Size1 that name the target (§2.5)."""
    return (addr, request.code, tuple(request.opts(o.URI_PATH)),
            tuple(request.opts(o.URI_QUERY)))


class Block1Receiver:
    """One incoming Block1 transfer at a time, of at most ``max_size`` bytes.

    ``receive()`` checks each block, hands its payload to ``sink(offset, chunk)`` and
    fills the response. An abandoned transfer expires ``lifetime_ms`` after its last
    block (EXCHANGE_LIFETIME by default).
    """

    def __init__(self, max_size, szx=6, lifetime_ms=247000):
        self.max_size = max_size
        self.szx = szx
        self.lifetime_ms = lifetime_ms
        self._key = None
        self._expected = 0  # offset of the next byte we need
        self._last = None  # (offset, length) of the last block taken, for replays
        self._expires = 0

    def __repr__(self):
        return "<Block1Receiver at %d of max %d>" % (self._expected, self.max_size)

    @property
    def active(self):
        return self._key is not None

    def reset(self):
        self._key = None
        self._expected = 0
        self._last = None

    def receive(self, request, addr, now_ms, response, sink):
        """Handle a request carrying Block1. Returns:

        - ``m.CONTINUE`` (2.31): a non-final block was taken; ``response`` carries it.
        - ``0``: the final block was taken; ``response`` carries the Block1 echo and the
          caller sets its own code (2.04/2.01) and payload (§2.3).
        - ``m.REQUEST_ENTITY_INCOMPLETE`` (4.08) for a gap or an unknown transfer,
          ``m.REQUEST_ENTITY_TOO_LARGE`` (4.13, with Size1 = maximum) when too large,
          ``m.BAD_REQUEST`` for a non-final block of the wrong size; set on ``response``.

        An exception raised by ``sink`` abandons the transfer and propagates.
        """
        num, more, req_szx = request.block1
        payload = request.payload
        size = o.block_size(req_szx)
        offset = num * size
        if self._key is not None and now_ms >= self._expires:
            self.reset()
        key = _transfer_key(request, addr)
        if num == 0:
            self.reset()
            self._key = key
        elif key != self._key:
            return self._fail(response, m.REQUEST_ENTITY_INCOMPLETE)
        announced = request.size1
        if (announced is not None and announced > self.max_size) or \
                offset + len(payload) > self.max_size:
            response.size1 = self.max_size
            return self._fail(response, m.REQUEST_ENTITY_TOO_LARGE)
        if more and len(payload) != size:
            return self._fail(response, m.BAD_REQUEST)  # only the last block is short, §2.2
        if self._last == (offset, len(payload)):
            pass  # the same block again (its response was lost): answer it again
        elif offset != self._expected:
            return self._fail(response, m.REQUEST_ENTITY_INCOMPLETE)
        else:
            try:
                sink(offset, payload)
            except Exception:
                self.reset()
                raise
            self._last = (offset, len(payload))
            self._expected = offset + len(payload)
        self._expires = now_ms + self.lifetime_ms
        if more:
            # Echo the block; a smaller SZX asks the client to go on with smaller blocks
            # (§2.3), the next NUM then counts in those.
            response.block1 = (num, True, req_szx if req_szx < self.szx else self.szx)
            response.code = m.CONTINUE
            return m.CONTINUE
        response.block1 = (num, False, req_szx)
        self.reset()
        return 0

    def _fail(self, response, code):
        self.reset()
        response.code = code
        return code


class Block1Sender:
    """Sends ``body`` as a sequence of Block1 requests of ``2**(szx+4)`` bytes."""

    def __init__(self, body, szx=6):
        self.body = memoryview(body)
        self.szx = szx
        self.offset = 0
        self._sent = 0  # length of the block in flight

    def __repr__(self):
        return "<Block1Sender %d/%d szx=%d>" % (self.offset, len(self.body), self.szx)

    def fill(self, request):
        """Set Block1, Size1 (first block, RFC 7959 §4) and the payload on ``request``."""
        size = o.block_size(self.szx)
        total = len(self.body)
        end = min(self.offset + size, total)
        request.block1 = (self.offset // size, end < total, self.szx)
        request.size1 = total if self.offset == 0 else None
        request.payload = self.body[self.offset:end]
        self._sent = end - self.offset
        return request

    def on_response(self, response):
        """Advance on the response to the last filled request: CONTINUE, DONE or FAILED."""
        echo = response.block1
        if response.code == m.CONTINUE:
            if echo is None or self.offset + self._sent >= len(self.body):
                return FAILED
            self.offset += self._sent
            if echo[2] < self.szx:
                self.szx = echo[2]  # the server prefers smaller blocks (§2.3)
            return CONTINUE
        if response.code == m.REQUEST_ENTITY_TOO_LARGE and self.offset == 0 \
                and echo is not None and echo[2] < self.szx:
            self.szx = echo[2]  # §2.9.3: retry from the start at the size it can take
            return CONTINUE
        if m.code_class(response.code) == 2 and self.offset + self._sent >= len(self.body):
            return DONE
        return FAILED


class Block2Receiver:
    """Fetches a representation block by block; hands each block to ``sink(offset, chunk)``.

    ``max_size`` bounds the body (a larger Size2 or more data fails the transfer).
    """

    def __init__(self, szx=6, max_size=1 << 20):
        self.szx = szx
        self.max_size = max_size
        self.offset = 0
        self.etag = None

    def __repr__(self):
        return "<Block2Receiver at %d szx=%d>" % (self.offset, self.szx)

    def fill(self, request):
        """Ask for the next block, at our preferred size (§2.4)."""
        request.block2 = (self.offset // o.block_size(self.szx), False, self.szx)
        return request

    def on_response(self, response, sink):
        if m.code_class(response.code) != 2:
            return FAILED
        got = response.block2
        payload = response.payload
        if got is None:  # the server sent the whole body at once
            if self.offset or len(payload) > self.max_size:
                return FAILED
            sink(0, payload)
            return DONE
        num, more, szx = got
        size = o.block_size(szx)
        etag = response.etag
        if num * size != self.offset or (more and len(payload) != size) or \
                self.offset + len(payload) > self.max_size:
            return FAILED
        if self.offset == 0:
            self.etag = etag
            total = response.size2
            if total is not None and total > self.max_size:
                return FAILED
        elif etag != self.etag:
            return FAILED  # the representation changed under us (§2.4)
        sink(self.offset, payload)
        self.offset += len(payload)
        self.szx = szx
        return CONTINUE if more else DONE
