"""Full-featured asyncio adapter: the client core on aiocoap's CoAP stack.

One aiocoap server context, bound to one UDP socket, both serves the LwM2M Server's
requests and sends the client's Register/Update/De-register, so the server reaches the
client at the address it registered from (LwM2M Transport 1.1 section 6.4.3). It drives
the message-level :class:`~lwm2m_client.core.client.client.LwM2MClient` directly:
aiocoap owns messaging, deduplication, retransmission (with its default parameters) and
block-wise transfer both ways (RFC 7959), so the client sees and returns whole bodies.

Observe (RFC 7641): the client decides when to notify and what (pmin, pmax, gt, lt, st,
an error that ends it); aiocoap carries each notification on the observation the
server's GET with Observe=0 set up, numbering them itself (Observe 0 on the first
answer, then 1, 2, ...). aiocoap matches a Reset only against a confirmable message, so
a notification the client would send NON goes as aiocoap sends it for the request (CON
for a CON request): the server's Reset or an unacknowledged notification then ends the
observation in aiocoap and in the client (RFC 7641 sections 3.6 and 4.5); one the
client sends CON goes CON.

The public surface matches :class:`lwm2m_client.aio.udp.UdpClient`: ``start()``,
``stop(timeout)``, ``close()``, ``wait_for(kind, timeout)``, ``changed()`` and
``address``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from typing import Any, Dict, Optional, Tuple

import aiocoap
import aiocoap.error
import aiocoap.interfaces
import aiocoap.resource
from aiocoap.numbers.optionnumbers import OptionNumber
from aiocoap.optiontypes import BlockOption
from aiocoap.util import hostportjoin, hostportsplit

from lwm2m_client.aio.aiocoap_tolerance import drop_inert_get_options, tag_blocks
from lwm2m_client.aio.common import AdapterBase, Addr, EventCallback, normalise
from lwm2m_client.core.client.client import LwM2MClient
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.coap import options as o

log = logging.getLogger("lwm2m_client.aiocoap")

# aiocoap has assembled (Block1) or will split (Block2) the body: these options describe
# one block on the wire and mean nothing to a core that sees whole bodies (RFC 7959).
_BLOCK_OPTIONS = (o.BLOCK1, o.BLOCK2, o.SIZE1, o.SIZE2)

# No-Response value suppressing every answer class, 2.xx, 4.xx and 5.xx (RFC 7967 §2.1).
_SUPPRESS_ALL = 2 | 8 | 16


def unmapped(sockaddr: Any) -> Addr:
    """(ip, port) of a socket address, an IPv4-mapped IPv6 address (aiocoap's udp6
    transport reports IPv4 peers so) turned back into IPv4, so it compares equal to what
    :func:`lwm2m_client.aio.common.resolve` gives for the same peer."""
    host, port = normalise(sockaddr)
    try:
        mapped = ipaddress.IPv6Address(host.split("%", 1)[0]).ipv4_mapped
    except ValueError:
        return (host, port)
    return (host, port) if mapped is None else (str(mapped), port)


def peer_address(remote: Any) -> Optional[Addr]:
    """(ip, port) of an aiocoap remote; None when it has no IP address."""
    sockaddr = getattr(remote, "sockaddr", None)
    if sockaddr is not None:
        return unmapped(sockaddr)
    try:
        host, port = hostportsplit(remote.hostinfo)
    except (AttributeError, ValueError):
        return None
    return unmapped((host, port or aiocoap.COAP_PORT))


def to_core(message: aiocoap.Message) -> m.Message:
    """An aiocoap message as a core Message: code, every option but the block-wise
    ones (as wire bytes, in order), and the payload. Type, MID and token stay aiocoap's."""
    msg = m.Message(code=int(message.code), payload=bytes(message.payload))
    for option in message.opt.option_list():
        number = int(option.number)
        if number not in _BLOCK_OPTIONS:
            msg.options.append((number, option.encode()))
    return msg


def to_aiocoap(msg: m.Message, **kwargs: Any) -> aiocoap.Message:
    """A core Message as an aiocoap message; ``kwargs`` go to its constructor."""
    message = aiocoap.Message(code=aiocoap.Code(msg.code), payload=bytes(msg.payload),
                              **kwargs)
    for number, value in msg.options:
        message.opt.add_option(OptionNumber(number).create_option(decode=bytes(value)))
    return message


class _Site(aiocoap.resource.ObservableResource):  # type: ignore[misc]  # untyped
    """Every path of the context: each request goes to the core. aiocoap assembles
    Block1 requests before ``render`` and serves Block2 from the whole answer.

    A GET or FETCH with Observe=0 takes aiocoap's observe path: ``add_observation``
    offers an aiocoap ServerObservation, and ``render`` keeps it when the core's answer
    set up an observation (it carries Observe) or declines it (the answer stands as a
    Read's)."""

    def __init__(self, runner: AiocoapClient) -> None:
        super().__init__()
        self.runner = runner
        # id(request) -> the ServerObservation offered for it, until render decides.
        self._offered: Dict[int, Any] = {}

    async def render_to_pipe(self, pipe: Any) -> None:
        # Before aiocoap's Block2 cache keys the request: a follow-up GET for block n
        # must find block 0's answer even with a stray Content-Format or ETag on it
        # (RFC 7252 section 5.10.3, RFC 7959 section 2.4; see aiocoap_tolerance).
        drop_inert_get_options(pipe.request)
        if pipe.request.opt.block1 is not None:
            # aiocoap's observe path assembles no Block1 body: such a request (an
            # Observe-Composite FETCH in blocks) is served as a plain one, a Read.
            await aiocoap.interfaces.Resource._render_to_pipe(self, pipe)
            return
        await super().render_to_pipe(pipe)

    async def add_observation(self, request: aiocoap.Message, serverobservation: Any) -> None:
        # Accepted here (aiocoap needs the cancellation callback in any case); render
        # declines it when the core set up no observation.
        serverobservation.accept(lambda: self.runner._observation_ended(serverobservation))
        self._offered[id(request)] = serverobservation

    async def render(self, request: aiocoap.Message) -> aiocoap.Message:
        observation = self._offered.pop(id(request), None)
        if observation is None:
            return self._answer(request, False)
        # aiocoap's observe path renders without its Block2 cache: it is used here, so
        # an answer larger than a block goes in blocks (RFC 7959 section 2.6), and the
        # server's follow-up GETs (no Observe) find it there.
        asked = request.opt.block2
        if asked is not None and asked.block_number > 0:
            observation.deregister()  # a later block of an answer observes nothing

            async def missing() -> aiocoap.Message:
                return self._answer(request, False)

            response: aiocoap.Message = await self._block2.extract_or_insert(request, missing)
            response.opt.observe = None
            return response

        async def answer() -> aiocoap.Message:
            return self._answer(request, True)

        response = await self._block2.extract_or_insert(request, answer)
        if response.code.is_successful() and response.opt.observe is not None:
            # aiocoap replaces the core's Observe value with its own sequence.
            self.runner._observed(request, observation)
        else:
            observation.deregister()  # before the answer went out: it is just dropped
        return response

    def _answer(self, request: aiocoap.Message, observing: bool) -> aiocoap.Message:
        response = self.runner._serve(request, observing)
        config = self.runner.core.config
        if response.code.is_successful() and len(response.payload) > config.block_size:
            asked = request.opt.block2
            if asked is None or (asked.block_number == 0 and asked.size_exponent > config.szx):
                # Keep to the client's block size (ClientConfig.block_size) like the
                # core's own Block2 does: aiocoap cuts the answer at the request's Block2
                # size, so the request (the one its Block2 cache handed here) asks for
                # block 0 of the client's size, as the server may answer a larger one
                # (RFC 7959 §2.4).
                request.opt.block2 = BlockOption.BlockwiseTuple(0, False, config.szx)
        tag_blocks(request, response)
        return response


class AiocoapClient(AdapterBase):
    """Runs the message-level ``client`` on an aiocoap context bound to ``local_addr``;
    ``client.core`` is the same object (the name every adapter uses).

    ``on_event`` receives every core event (after it was logged). ``await start()``
    binds and starts registration; ``await stop()`` de-registers (waiting up to
    ``timeout`` seconds for the answers) and closes the context.

    A request from an address that is no registered server must go unanswered (Core
    1.1 section 6.3). aiocoap's resources answer every request, so the adapter answers
    with a No-Response option covering every class (RFC 7967): aiocoap then sends
    nothing for a NON request and only the empty ACK for a CON one, after which the
    peer waits in vain for the separate response -- the closest aiocoap has to silence.
    """

    def __init__(self, client: LwM2MClient, local_addr: Tuple[str, int] = ("127.0.0.1", 0),
                 on_event: Optional[EventCallback] = None) -> None:
        if not isinstance(client, LwM2MClient):
            raise TypeError("AiocoapClient runs an LwM2MClient (aiocoap is its CoAP "
                            f"stack), not {type(client).__name__}")
        super().__init__(client, local_addr, on_event)
        self.core: LwM2MClient = client
        client.notifies = True  # notifications go out on aiocoap's observations
        # (server address, token) of each observation the core holds -> the aiocoap
        # ServerObservation that carries its notifications.
        self._observations: Dict[Tuple[Addr, bytes], Any] = {}
        self.context: Optional[aiocoap.Context] = None
        self._exchanges: Dict[Any, asyncio.Task[None]] = {}
        self._shutdown: Optional[asyncio.Task[None]] = None

    @property
    def address(self) -> Addr:
        assert self.context is not None, "not started"
        # aiocoap has no public accessor for the bound address (port 0 picks one); its
        # UDP transport keeps the asyncio transport whose socket knows it.
        for interface in self.context.request_interfaces:
            transport = interface.token_interface.message_interface.transport
            return unmapped(transport.get_extra_info("socket").getsockname())
        raise RuntimeError("aiocoap context has no UDP transport")

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        # udp6 alone: the default server transports would open TCP and TLS listeners too.
        self.context = await aiocoap.Context.create_server_context(
            _Site(self), bind=self.local_addr, transports=["udp6"])
        try:
            await self._start_core()
        except BaseException:
            self.close()
            await self._closed()
            raise

    def close(self) -> None:
        """Stop at once, without De-register. The socket closes in a task (aiocoap's
        shutdown is a coroutine) that :meth:`stop` awaits."""
        self._cancel_timer()
        for task in self._exchanges.values():
            task.cancel()
        self._exchanges.clear()
        if self.context is not None:
            self._shutdown = asyncio.ensure_future(self.context.shutdown())
            self.context = None

    async def _closed(self) -> None:
        if self._shutdown is not None:
            await self._shutdown
            self._shutdown = None

    # -- serving the LwM2M Server's requests ------------------------------------------

    def _serve(self, request: aiocoap.Message, observing: bool = False) -> aiocoap.Message:
        """The core's answer to ``request``. Unless ``observing`` (aiocoap offered an
        observation for it), an Observe=0 is kept from the core, which answers a Read:
        no observation is set up that no aiocoap observation would carry."""
        addr = peer_address(request.remote)
        if addr is not None and self.core.serves(addr) and \
                len(request.payload) > self.core.config.max_request_body:
            # aiocoap reassembled a Block1 body larger than the client takes: the
            # lean adapter's answer to it too (RFC 7959 section 2.9.3).
            return aiocoap.Message(code=aiocoap.REQUEST_ENTITY_TOO_LARGE,
                                   size1=self.core.config.max_request_body)
        msg = to_core(request)
        msg.token = bytes(request.token)  # the core keys observations by it
        if not observing and request.opt.observe == 0:
            msg.options = [(n, v) for n, v in msg.options if n != o.OBSERVE]
        answer = None if addr is None else self.core.handle_request(msg, addr, self.now_ms())
        # Requests the core queued after the answer (an Update after /1/x/8) must follow
        # it on the wire: aiocoap sends the answer as soon as this returns, before the
        # loop runs the pump.
        assert self._loop is not None
        self._loop.call_soon(self._pump)
        if answer is None:
            return aiocoap.Message(code=aiocoap.UNAUTHORIZED, no_response=_SUPPRESS_ALL)
        response = to_aiocoap(answer)
        if request.opt.no_response is not None:
            response.opt.no_response = request.opt.no_response
        return response

    # -- observations -------------------------------------------------------------------

    def _observed(self, request: aiocoap.Message, observation: Any) -> None:
        addr = peer_address(request.remote)
        if addr is not None:
            self._observations[(addr, bytes(request.token))] = observation

    def _observation_ended(self, observation: Any) -> None:
        """aiocoap ended ``observation``: the server's Reset or a new request on its
        token, an unacknowledged notification, an error notification, or shutdown. The
        core forgets it (RFC 7641 sections 3.6 and 4.5)."""
        for key, value in list(self._observations.items()):
            if value is observation:
                del self._observations[key]
                addr, token = key
                self.core.notification_failed(token, addr)
                self._pump()

    def _notify(self) -> None:
        """Hand the core's notifications to their aiocoap observations."""
        for msg, addr in self.core.notifications_to_send():
            key = (addr, bytes(msg.token))
            observation = self._observations.get(key)
            if observation is None:
                self.core.notification_failed(msg.token, addr)  # nothing carries it
                continue
            if msg.mtype == m.CON:
                response = to_aiocoap(msg, transport_tuning=aiocoap.Reliable)
            else:
                response = to_aiocoap(msg)  # see the module docstring
            if not response.code.is_successful():
                del self._observations[key]  # an error notification ends it
            observation.trigger(response)
            if msg.mtype == m.CON:
                # aiocoap retransmits it and ends the observation when it fails (see
                # _observation_ended): the core need not wait for the ACK.
                self.core.notification_acknowledged(msg.token, addr, self.now_ms())
        for key in list(self._observations):
            if self.core.observations.find(key[0], key[1]) is None:
                # The core dropped it (its server registered anew): nothing more is
                # sent on it, as on the lean adapter.
                del self._observations[key]

    # -- sending the core's requests ----------------------------------------------------

    async def _exchange(self, key: Any, msg: m.Message, addr: Addr) -> None:
        assert self.context is not None
        # The URI names the peer only (an IP literal gives no Uri-Host); path and query
        # are among the core's options.
        tuning = aiocoap.Reliable if msg.mtype == m.CON else aiocoap.Unreliable
        request = to_aiocoap(msg, transport_tuning=tuning,
                             uri="coap://" + hostportjoin(addr[0], addr[1]))
        try:
            response = await self.context.request(request).response
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - every failure is a failed request
            # Timeouts and network errors are aiocoap.error.Error; anything else is no
            # less a request that got no answer, and the core must hear of it.
            if not isinstance(exc, aiocoap.error.Error):
                log.warning("%s: request failed: %r", self.core.config.endpoint, exc)
            self.core.request_failed(key, self.now_ms())
        else:
            self.core.response_received(key, to_core(response), self.now_ms())
        self._pump()

    def _spawn(self, key: Any, msg: m.Message, addr: Addr) -> None:
        task = asyncio.ensure_future(self._exchange(key, msg, addr))
        self._exchanges[key] = task
        task.add_done_callback(lambda _: self._exchanges.pop(key, None))

    # -- driving the core -----------------------------------------------------------

    def _running(self) -> bool:
        return self.context is not None

    def _flush(self) -> None:
        self._notify()
        for key in self.core.requests_to_cancel():
            task = self._exchanges.pop(key, None)
            if task is not None:
                task.cancel()  # superseded: aiocoap stops retransmitting it
        for key, msg, addr in self.core.requests_to_send():
            self._spawn(key, msg, addr)
