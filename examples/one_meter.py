"""Run one virtual meter against an LwM2M server and print its readings.

    python examples/one_meter.py coap://lwm2m.example.net:5683 --endpoint my-meter-1
    python examples/one_meter.py --with-server          # try it with the embedded server

Ctrl-C (or --duration) de-registers and exits.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Optional

from lwm2m_client.meter_client import KINDS, MeterClient
from lwm2m_client.server import LwM2MServer

# What to print for each kind of meter: power and energy, or flow and volume.
READINGS = {"electricity": (6, 14), "3phase": (34, 41), "gas": (8, 1), "water": (8, 1)}


async def run_meter(uri: str, endpoint: str, kind: str, duration: Optional[float]) -> None:
    try:
        # Leaving the block (at the end, or cancelled by Ctrl-C) de-registers the meter.
        async with MeterClient(uri, endpoint, kind) as client:
            await client.wait_registered()
            print(f"registered as {endpoint} at /{'/'.join(client.location or [])}")
            loop = asyncio.get_running_loop()
            end = None if duration is None else loop.time() + duration
            meter = client.meter
            resources = [client.tree.definition(meter.oid).resources[rid]
                         for rid in READINGS[kind]]
            while end is None or loop.time() < end:
                print(", ".join(f"{r.name} {client.tree.get(meter.path(r.rid))} {r.units}"
                                for r in resources))
                await asyncio.sleep(1.0)
    finally:
        print(f"{endpoint} de-registered")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("uri", nargs="?", help="the LwM2M server, coap://HOST:PORT")
    parser.add_argument("--endpoint", default="one-meter-1")
    parser.add_argument("--kind", choices=KINDS, default="electricity")
    parser.add_argument("--duration", type=float, help="seconds to run (default: forever)")
    parser.add_argument("--with-server", action="store_true",
                        help="start the embedded LwM2M server and use it")
    args = parser.parse_args()
    if not args.with_server:
        if args.uri is None:
            parser.error("give a server URI or --with-server")
        await run_meter(args.uri, args.endpoint, args.kind, args.duration)
        return
    async with LwM2MServer() as server:
        await run_meter(server.uri, args.endpoint, args.kind, args.duration)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass  # asyncio.run cancelled the meter, which de-registered on the way out
