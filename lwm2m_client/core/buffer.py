"""Writing into a caller-provided fixed-size buffer: nothing in the core grows a buffer.

Encoders never grow a buffer: they write into the ``bytearray`` or ``memoryview`` they
are given and raise :class:`BufferFull` when the next write would not fit, so the
caller can fall back to block-wise transfer instead of truncating silently.
"""

from lwm2m_client.core.errors import BufferFull


class Writer:
    """A cursor over a fixed buffer. ``pos`` is the number of bytes written so far."""

    def __init__(self, buf, pos=0):
        self.buf = buf
        self.pos = pos
        self.end = len(buf)

    def __repr__(self):
        return "<Writer %d/%d>" % (self.pos, self.end)

    def room(self, n):
        """Raise BufferFull unless ``n`` more bytes fit."""
        if self.pos + n > self.end:
            raise BufferFull("need %d bytes, %d left" % (n, self.end - self.pos))

    def byte(self, b):
        pos = self.pos
        if pos >= self.end:
            raise BufferFull("buffer of %d bytes is full" % self.end)
        self.buf[pos] = b
        self.pos = pos + 1

    def write(self, data):
        """Copy a bytes-like object into the buffer."""
        n = len(data)
        pos = self.pos
        if pos + n > self.end:
            raise BufferFull("need %d bytes, %d left" % (n, self.end - pos))
        self.buf[pos:pos + n] = data
        self.pos = pos + n

    def text(self, s):
        """Write a ``str`` as UTF-8."""
        self.write(s.encode("utf-8"))

    def uint_be(self, value, n):
        """Write ``value`` as an ``n``-byte big-endian unsigned integer."""
        pos = self.pos
        if pos + n > self.end:
            raise BufferFull("need %d bytes, %d left" % (n, self.end - pos))
        buf = self.buf
        i = pos + n - 1
        while i >= pos:
            buf[i] = value & 0xFF
            value >>= 8
            i -= 1
        self.pos = pos + n
