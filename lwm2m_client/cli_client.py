"""``lwm2m-meter client``: one virtual meter against any LwM2M server.

The meter registers and answers the server's requests until Ctrl-C (SIGINT or SIGTERM) or
``--duration`` seconds, then de-registers and exits 0. Its readings are computed when the
server reads them, from a simulated clock that ``--speed`` makes run faster than real
time (the CoAP and registration timers stay in real time).
The log (stderr) has one line per registration step and per operation the server ran;
``-v`` adds every CoAP datagram in and out. Exit codes: 0 done, 1 the server refused the
registration for good, 2 a mistake in the command line.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from typing import Any, Callable, List

from lwm2m_client.aio.common import ServerUriError, parse_server_uri
from lwm2m_client.meter_client import (
    FORMAT_SINCE,
    FORMATS,
    KINDS,
    VERSIONS,
    ConfigError,
    MeterClient,
    available_adapters,
    check_objects,
)
from lwm2m_client.sim.clock import check_speed

log = logging.getLogger("lwm2m_client.cli")

EXIT_REFUSED = 1
# What a shell reports for a process ended by Ctrl-C (128 + SIGINT).
EXIT_INTERRUPTED = 130


def _server_uri(text: str) -> str:
    try:
        parse_server_uri(text)
    except ServerUriError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _lifetime(text: str) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of seconds") \
            from None
    if not 1 <= value <= 0x7FFFFFFF:
        raise argparse.ArgumentTypeError(f"lifetime {value} is out of range 1..2147483647")
    return value


def _duration(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"duration {text} must be positive")
    return value


def _speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number (simulated seconds per "
                                         f"real second, e.g. 60)") from None
    try:
        return check_speed(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"speed {text} must be a finite number above 0 "
                                         f"(simulated seconds per real second)") from None


def object_id_arg(text: str) -> int:
    """argparse type: an object ID, 0..65535."""
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an object ID") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"object ID {value} is out of range 0..65535")
    return value


def _shipped_object(text: str) -> int:
    oid = object_id_arg(text)
    try:
        check_objects([oid])
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return oid


def add_client_parser(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "client", help="run one virtual meter against an LwM2M server",
        description="Run one virtual meter against any LwM2M server until Ctrl-C (or "
                    "--duration), then de-register. Every registration step and every "
                    "operation the server performs is logged on one line.")
    p.add_argument("--server", type=_server_uri, metavar="URI",
                   help="the LwM2M server, coap://HOST[:PORT] (port 5683 by default)")
    p.add_argument("--bootstrap", type=_server_uri, metavar="URI",
                   help="a Bootstrap-Server, coap://HOST[:PORT]: without --server the "
                        "meter starts with this account alone and is given its LwM2M "
                        "Server by bootstrap; with --server it falls back to bootstrap "
                        "when the registration fails for good")
    p.add_argument("--endpoint", required=True, metavar="NAME",
                   help="the endpoint client name to register with")
    p.add_argument("--meter", choices=KINDS, default="electricity",
                   help="the kind of meter (default: electricity)")
    p.add_argument("--lifetime", type=_lifetime, default=300, metavar="S",
                   help="registration lifetime in seconds (default: 300)")
    p.add_argument("--binding", choices=("U", "UQ"), default="U",
                   help="U: UDP; UQ: UDP in queue mode (default: U)")
    p.add_argument("--lwm2m", choices=VERSIONS, default="1.1",
                   help="the LwM2M version to register with (default: 1.1)")
    p.add_argument("--format", choices=tuple(FORMATS),
                   help="content format for answers to requests without Accept (default: "
                        "TLV for 1.0, SenML CBOR for 1.1 and 1.2; text suits single "
                        "resources only)")
    p.add_argument("--advertise-formats", action="store_true",
                   help="list the supported content formats in the Register (</>;ct=...); "
                        "a server that refuses that gets a second Register without it")
    p.add_argument("--objects", type=_shipped_object, nargs="+", action="extend",
                   default=[], metavar="OBJECT_ID",
                   help="extra shipped objects to offer, e.g. 5 9 19 (see `models list`)")
    p.add_argument("--adapter", choices=available_adapters(), default="udp",
                   help="udp: the project's own CoAP (default); aiocoap: aiocoap's")
    p.add_argument("--duration", type=_duration, metavar="S",
                   help="de-register and exit after S seconds instead of waiting for Ctrl-C")
    p.add_argument("--speed", type=_speed, default=1.0, metavar="X",
                   help="run the meter's simulated time X times as fast as real time: "
                        "60 = one simulated minute per real second, 1440 = a day per "
                        "minute; fractions slow it down. The readings (energy or volume "
                        "grow by X seconds' worth each second, power and flow follow the "
                        "daily profile at that pace) and Current Time /3/0/13 follow it; "
                        "CoAP retransmissions, the registration lifetime and Updates, "
                        "observation periods and --duration stay in real time "
                        "(default: 1)")
    p.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS,
                   help="log every CoAP datagram in and out")
    # The log is this command's output: INFO by default, with times.
    p.set_defaults(func=cmd_client, prog=p.prog, log_level=logging.INFO,
                   log_format="%(asctime)s %(levelname)s %(message)s")


def cmd_client(args: argparse.Namespace) -> int:
    if args.server is None and args.bootstrap is None:
        raise ConfigError("--server or --bootstrap is needed")
    preferred = None if args.format is None else FORMATS[args.format]
    if preferred is not None and args.lwm2m < FORMAT_SINCE[preferred]:
        raise ConfigError(f"--format {args.format} needs --lwm2m {FORMAT_SINCE[preferred]} "
                          f"or later")
    client = MeterClient(args.server, args.endpoint, args.meter, lifetime=args.lifetime,
                         binding=args.binding, version=args.lwm2m, preferred_format=preferred,
                         advertise_formats=args.advertise_formats, objects=args.objects,
                         adapter=args.adapter, speed=args.speed,
                         bootstrap_uri=args.bootstrap)
    for oid, iid in client.extra_instances.items():
        log.info("%s: object %d offered %s", args.endpoint, oid,
                 "without instances" if iid is None else f"with instance /{oid}/{iid}")
    try:
        return asyncio.run(serve(client, args.duration))
    except KeyboardInterrupt:  # before the signal handlers were in place
        return EXIT_INTERRUPTED


async def serve(client: MeterClient, duration: float | None = None) -> int:
    """Run ``client`` until SIGINT/SIGTERM or ``duration`` seconds, then de-register.
    Returns the exit code: 0, or 1 when the registration failed for good."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    handled = _on_signals(loop, stop.set)
    try:
        await client.start()
        stopped = asyncio.ensure_future(stop.wait())
        failed = asyncio.ensure_future(client.wait_failed())
        done, _ = await asyncio.wait({stopped, failed}, timeout=duration,
                                     return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        failed.cancel()
        if failed in done:
            log.error("%s: the server refused the registration; giving up", client.endpoint)
            await client.stop()
            return EXIT_REFUSED
        why = "signal received" if stopped in done else f"{duration:g} s elapsed"
        log.info("%s: stopping (%s)", client.endpoint, why)
        await client.stop()
        return 0
    finally:
        for signum in handled:
            loop.remove_signal_handler(signum)


def _on_signals(loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> List[int]:
    """Call ``callback`` on SIGINT and SIGTERM; returns the signals handled (none when
    the loop runs outside the main thread or the platform has no signal handlers)."""
    handled: List[int] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, callback)
        except (NotImplementedError, RuntimeError, ValueError):
            continue
        handled.append(signum)
    return handled
