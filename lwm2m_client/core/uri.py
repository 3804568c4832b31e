"""LwM2M Server URIs (``/0/x/0``): ``coap://host:port`` and its secure and TCP forms.

MicroPython-safe (no ``urllib``), shared by every adapter: the URI of a server account
comes from the tree (Transport 1.1 section 6.4.1 and 6.4.2; RFC 7252 section 6.1 and
6.2 give the syntax and the default ports; RFC 8323 section 8 the TCP schemes).
"""

from lwm2m_client.core.errors import UsageError

# scheme -> default port (RFC 7252 section 6.1/6.2, RFC 8323 section 8.1/8.2)
DEFAULT_PORTS = {"coap": 5683, "coaps": 5684, "coap+tcp": 5683, "coaps+tcp": 5684}


class UriError(UsageError):
    """A server URI the client cannot use; the message names the URI and the problem."""


def _fail(uri, why):
    raise UriError("bad server URI %r: %s" % (uri, why))


def parse_uri(uri):
    """``(scheme, host, port)`` of a server URI. The scheme is lower-cased, an IPv6
    literal comes without its brackets, a missing port is the scheme's default. A path
    other than ``/``, a query, a fragment or user information is refused."""
    if type(uri) is not str:
        _fail(uri, "not a string")
    sep = uri.find("://")
    if sep <= 0:
        _fail(uri, "no scheme (coap://host:port)")
    scheme = uri[:sep].lower()
    if scheme not in DEFAULT_PORTS:
        _fail(uri, "scheme must be one of %s" % ", ".join(sorted(DEFAULT_PORTS)))
    rest = uri[sep + 3:]
    cut = len(rest)
    for mark in "/?#":
        i = rest.find(mark)
        if 0 <= i < cut:
            cut = i
    tail = rest[cut:]
    authority = rest[:cut]
    if tail not in ("", "/"):
        _fail(uri, "path, query and fragment are not supported")
    if "@" in authority:
        _fail(uri, "user information is not supported")
    port_text = ""
    if authority[:1] == "[":
        end = authority.find("]")
        if end < 0:
            _fail(uri, "unclosed IPv6 literal")
        host = authority[1:end]
        after = authority[end + 1:]
        if after:
            if after[0] != ":":
                _fail(uri, "junk after the IPv6 literal")
            port_text = after[1:]
        if ":" not in host:
            _fail(uri, "brackets hold no IPv6 address")
    else:
        host, colon, port_text = authority.partition(":")
        if colon and not port_text:
            _fail(uri, "empty port")
    if not host:
        _fail(uri, "no host")
    port = DEFAULT_PORTS[scheme]
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            _fail(uri, "port must be 1..65535")
        port = int(port_text)
    return scheme, host, port


def is_numeric_host(host):
    """True for an IPv4 dotted quad or an IPv6 literal: an address that needs no DNS
    (a MicroPython meter without a resolver can still reach it)."""
    if ":" in host:
        return True
    parts = host.split(".")
    if len(parts) != 4:
        return False
    for part in parts:
        if not part.isdigit() or int(part) > 255:
            return False
    return True
