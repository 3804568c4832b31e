"""What both asyncio adapters share: server URIs, address normalisation, event logging."""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any, Callable, Optional, Tuple
from urllib.parse import urlsplit

from lwm2m_client.core.client import events as ev
from lwm2m_client.core.errors import code_str

log = logging.getLogger("lwm2m_client")

Addr = Tuple[str, int]
EventCallback = Callable[[Any], None]

DEFAULT_PORTS = {"coap": 5683, "coaps": 5684}


class ServerUriError(ValueError):
    """A server URI the client cannot use; the message names the URI and the problem."""


def parse_server_uri(uri: str) -> Tuple[str, str, int]:
    """Split ``coap://host:port`` into (scheme, host, port); IPv6 hosts in brackets."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError as exc:
        raise ServerUriError(f"bad server URI {uri!r}: {exc}") from None
    if parts.scheme not in DEFAULT_PORTS:
        raise ServerUriError(
            f"bad server URI {uri!r}: scheme must be coap:// (coaps:// needs DTLS)")
    if not parts.hostname:
        raise ServerUriError(f"bad server URI {uri!r}: no host")
    if parts.path not in ("", "/") or parts.query:
        raise ServerUriError(f"bad server URI {uri!r}: path and query are not supported")
    return parts.scheme, parts.hostname, port or DEFAULT_PORTS[parts.scheme]


async def resolve(host: str, port: int) -> Addr:
    """Resolve once, preferring IPv4; the result matches what ``datagram_received``
    reports for that peer, so the core can compare addresses."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except OSError as exc:
        raise ServerUriError(f"cannot resolve {host!r}: {exc}") from None
    infos.sort(key=lambda info: info[0] != socket.AF_INET)
    return normalise(infos[0][4])


def normalise(addr: Any) -> Addr:
    """(host, port) of an IPv4 or IPv6 socket address (IPv6 flow info dropped)."""
    return (str(addr[0]), int(addr[1]))


def log_event(endpoint: str, event: Any) -> None:
    """One line per client event (DESIGN: standard logging, one line per operation)."""
    if isinstance(event, ev.OperationPerformed):
        log.info("%s: %s %s -> %s", endpoint, event.op, event.path, event.code)
    elif isinstance(event, ev.Registered):
        log.info("%s: registered with server %d at /%s", endpoint, event.ssid,
                 "/".join(event.location or []))
    elif isinstance(event, ev.RegistrationUpdated):
        log.info("%s: registration updated with server %d", endpoint, event.ssid)
    elif isinstance(event, ev.RegistrationFailed):
        log.warning("%s: registration with server %d failed (last code %s)", endpoint,
                    event.ssid, "none" if event.code is None else code_str(event.code))
    elif isinstance(event, ev.Deregistered):
        log.info("%s: de-registered from server %d%s", endpoint, event.ssid,
                 " (disabled)" if event.disabled else "")
    else:
        log.info("%s: %r", endpoint, event)


def dispatch_events(core: Any, endpoint: str, callback: Optional[EventCallback]) -> None:
    """Drain the core's events to the log and to ``callback``."""
    while True:
        event = core.next_event()
        if event is None:
            return
        log_event(endpoint, event)
        if callback is not None:
            callback(event)
