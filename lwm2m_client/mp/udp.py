"""The client loop on a MicroPython UDP socket: ``select.poll``, no asyncio, no threads.

::

    from lwm2m_client.mp.udp import MpClient
    client = MpClient(core)          # a ClientCore whose tree holds /0 and /1
    client.start()                   # resolves the server URIs, binds, registers
    client.run()                     # serves the server until stop() (or Ctrl-C)

One socket serves every server account: the core's requests go out from it and the
servers' requests come in on it, so a server reaches the client at the address it
registered from (Transport 1.1 section 6.4.3). Each wake-up reads the clock once, feeds
the core what arrived, fires its timer when due and sends what it wants sent.

With one server account (a meter's usual case) the socket is connected to that server:
the network stack then drops datagrams from anyone else (only a registered server is
answered, Core 1.1 section 6.3). Each datagram is read with ``recv``/``recvfrom``, which
take one datagram; ``readinto`` into a buffer made at start would not do, because
MicroPython's stream ``readinto`` keeps reading until the buffer is full and so joins
datagrams that wait together.

Queue mode (a Binding with ``Q``; Transport 1.1 section 6.5): when the core says it is
asleep the socket is closed and the loop only waits for the core's next deadline; the
socket is opened again (on ``local_port``, a new port when that is 0) as soon as the core
has something to send, and its wake-up Update tells the server the new address.
"""

import select
import socket
import time

from lwm2m_client.core.client import events as ev
from lwm2m_client.core.errors import UsageError
from lwm2m_client.core.uri import parse_uri
from lwm2m_client.mp.clock import MAX_SLEEP_MS, Clock

# errno values a non-blocking socket raises when nothing is there (Linux and lwIP).
_WOULD_BLOCK = (11, 35, 115)


class MpClientError(Exception):
    """A server URI that cannot be used or resolved; the message names it."""


def resolve(uri):
    """The socket address of a ``coap://`` server URI (``getaddrinfo``: a name needs
    the port's DNS; a numeric address works without one)."""
    scheme, host, port = parse_uri(uri)
    if scheme != "coap":
        raise MpClientError("%s: only coap:// (plain UDP) is served here" % uri)
    try:
        infos = socket.getaddrinfo(host, port, 0, socket.SOCK_DGRAM)
    except OSError as exc:
        raise MpClientError("%s: cannot resolve %s (%s)" % (uri, host, exc))
    if not infos:
        raise MpClientError("%s: %s has no address" % (uri, host))
    best = infos[0]
    for info in infos:
        if info[0] == socket.AF_INET:  # IPv4 first: what most meters' networks carry
            best = info
            break
    addr = best[-1]
    if type(addr) is bytearray:
        # The unix port gives a raw sockaddr as a bytearray (recvfrom gives bytes): the
        # core keys its tables by address, and a bytearray has no hash.
        addr = bytes(addr)
    return best[0], addr


class MpClient:
    """Runs ``core`` (a ClientCore) on one UDP socket bound to ``local_port`` (0: any).

    ``clock`` defaults to :class:`~lwm2m_client.mp.clock.Clock`; ``on_event(event)``
    receives every core event; ``on_tick(now_ms)`` runs once per wake-up (the meter
    application takes its readings there). Nothing here allocates per datagram beyond
    the datagram itself. ``close_when_asleep`` closes the socket while the core sleeps
    in queue mode (see the module docstring).
    """

    def __init__(self, core, local_port=0, clock=None, on_event=None, on_tick=None,
                 close_when_asleep=True):
        self.core = core
        self.close_when_asleep = close_when_asleep
        self.local_port = local_port
        self.clock = clock or Clock()
        self.on_event = on_event
        self.on_tick = on_tick
        self.sock = None
        self._poller = None
        self._running = False
        self._peer = None  # the one server's address when the socket is connected
        self._family = socket.AF_INET
        self.asleep = False  # the socket is closed while the core sleeps
        self.dropped = 0  # datagrams lost to a full heap or a socket error

    def __repr__(self):
        return "<MpClient %s %s>" % (self.core.config.endpoint,
                                     "running" if self._running else "stopped")

    def start(self):
        """Resolve every account's server URI, bind the socket and start registering."""
        if self.sock is not None:
            raise UsageError("the client is already started")
        accounts = self.core.accounts()
        for ssid, uri, addr in accounts:
            if addr is None:
                self._family, addr = resolve(uri)
                self.core.set_address(ssid, addr)
        if len(accounts) == 1:
            self._peer = self.core.accounts()[0][2]
        self._open()
        self._running = True
        self.core.start(self.clock.now_ms())
        self._flush()

    def _open(self):
        sock = socket.socket(self._family, socket.SOCK_DGRAM)
        wildcard = "::" if self._family != socket.AF_INET else "0.0.0.0"
        sock.bind(socket.getaddrinfo(wildcard, self.local_port)[0][-1])
        sock.setblocking(False)
        if self._peer is not None:
            sock.connect(self._peer)
        self.sock = sock
        self._poller = select.poll()
        self._poller.register(sock, select.POLLIN)
        self.asleep = False

    def step(self, max_wait_ms=MAX_SLEEP_MS):
        """Wait for a datagram or the core's timer (at most ``max_wait_ms``), then serve
        what happened. Returns the clock after the wake-up."""
        if self.sock is None and not self.asleep:
            raise UsageError("the client is not started (or is closed)")
        if self.sock is None:
            time.sleep_ms(self.wait_ms(max_wait_ms))  # no socket to wait on
        elif self._poller.poll(self.wait_ms(max_wait_ms)):
            self._receive_all()
        return self.wake_up()

    def wait_ms(self, max_wait_ms=MAX_SLEEP_MS):
        """How long the loop may sleep: until the core's next deadline, at most
        ``max_wait_ms``."""
        deadline = self.core.get_timer()
        if deadline is None:
            return max_wait_ms
        return min(max_wait_ms, max(0, deadline - self.clock.now_ms()))

    def wake_up(self):
        """After a sleep: fire the core's timer when due, let the application take its
        readings, send what the core wants sent. Returns the clock."""
        now = self.clock.now_ms()
        deadline = self.core.get_timer()
        if deadline is not None and now >= deadline:
            self.core.handle_timer(now)
        if self.on_tick is not None:
            self.on_tick(now)
        self._flush()
        return now

    def run(self, duration_ms=None):
        """Serve until :meth:`stop` (from ``on_event``/``on_tick``) or for
        ``duration_ms``; Ctrl-C de-registers before it leaves."""
        end = None if duration_ms is None else self.clock.now_ms() + duration_ms
        try:
            while self._running and (end is None or self.clock.now_ms() < end):
                self.step(MAX_SLEEP_MS if end is None else
                          max(0, min(MAX_SLEEP_MS, end - self.clock.now_ms())))
        except KeyboardInterrupt:
            self.stop()
            raise

    def stop(self, timeout_ms=5000):
        """De-register from every server (waiting up to ``timeout_ms`` for the
        answers), then close the socket."""
        if self.sock is None and not self.asleep:
            return
        self.core.stop(self.clock.now_ms())
        self._flush()
        end = self.clock.now_ms() + timeout_ms
        while self.core.deregistering() and self.clock.now_ms() < end:
            self.step(max(0, end - self.clock.now_ms()))
        self.close()

    def close(self):
        """Close at once, without De-register (a power cut, a reboot)."""
        self._running = False
        self.asleep = False
        self._close_socket()

    def _close_socket(self):
        if self.sock is not None:
            self._poller.unregister(self.sock)
            self.sock.close()
            self.sock = None

    # -- internals -------------------------------------------------------------------

    def _resolve(self, ssid, uri):
        # A server account whose URI changed: until its new address resolves the account
        # stays silent, and the rest of the client goes on.
        try:
            addr = resolve(uri)[1]
        except (MpClientError, ValueError):
            return
        self.core.set_address(ssid, addr, self.clock.now_ms())

    def _receive_all(self):
        size = self.core.config.message_size
        while True:
            try:
                if self._peer is not None:
                    data, addr = self.sock.recv(size), self._peer
                else:
                    data, addr = self.sock.recvfrom(size)
            except OSError as exc:
                if exc.args and exc.args[0] in _WOULD_BLOCK:
                    return
                self.dropped += 1  # ICMP port unreachable and the like: CoAP retries
                return
            except MemoryError:
                self.dropped += 1  # the peer retransmits; the loop goes on
                return
            self.core.receive_datagram(data, addr, self.clock.now_ms())

    def _flush(self):
        if self.sock is None and self.asleep and not self.core.asleep:
            try:
                self._open()  # the core has something to send: awake again
            except OSError:
                return  # no network yet: the core's datagrams wait, its timers run
        if self.sock is not None:
            self._send_all()
            if self.core.asleep and self.close_when_asleep:
                self._close_socket()
                self.asleep = True
        self._events()

    def _send_all(self):
        for data, addr in self.core.datagrams_to_send():
            try:
                if addr == self._peer:
                    self.sock.send(data)
                else:
                    self.sock.sendto(data, addr)
            except OSError:
                self.dropped += 1  # CoAP retransmission recovers a lost datagram

    def _events(self):
        while True:
            event = self.core.next_event()
            if event is None:
                return
            if isinstance(event, ev.AddressNeeded):
                self._resolve(event.ssid, event.uri)
            if self.on_event is not None:
                self.on_event(event)
