"""Events the CoAP messaging layer reports to the engine above it (past-tense names)."""


class Event:
    """Plain value object; each subclass lists its field names in ``FIELDS``."""

    def __init__(self, *values):
        if len(values) != len(self.FIELDS):
            raise TypeError("%s takes %d values" % (type(self).__name__, len(self.FIELDS)))
        for i in range(len(values)):
            setattr(self, self.FIELDS[i], values[i])

    def _values(self):
        return tuple([getattr(self, name) for name in self.FIELDS])

    def __eq__(self, other):
        return type(self) is type(other) and self._values() == other._values()

    def __ne__(self, other):
        return not self.__eq__(other)

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__,
                           ", ".join(["%s=%r" % (n, getattr(self, n)) for n in self.FIELDS]))


class RequestReceived(Event):
    """A new (not duplicate) request from ``addr``; answer it with ``Endpoint.respond``."""

    FIELDS = ("msg", "addr")


class ResponseReceived(Event):
    """The response to the request sent with ``token`` (piggybacked, separate or NON)."""

    FIELDS = ("token", "msg", "addr")


class RequestTimedOut(Event):
    """A CON got no ACK after MAX_RETRANSMIT retransmissions (RFC 7252 §4.2), or a
    request got no response within its lifetime."""

    FIELDS = ("token", "addr")


class Reset(Event):
    """The peer rejected the message sent with ``token`` by RST (RFC 7252 §4.2, §4.3).
    For a notification this cancels the observation (RFC 7641 §3.6)."""

    FIELDS = ("token", "addr")


class Acknowledged(Event):
    """A CON that was not a request (a notification, a separate response) was ACKed."""

    FIELDS = ("token", "addr")
