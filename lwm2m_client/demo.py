"""``lwm2m-meter demo``: an LwM2M server and three virtual meters, in one process.

The embedded server (:class:`~lwm2m_client.server.LwM2MServer`, on aiocoap) listens on the
loopback interface; an electricity, a gas and a water meter (:class:`MeterClient`, on the
project's own CoAP) register with it. The server then runs the Device Management
operations of LwM2M Core 1.1 section 6.3 on each meter -- Read in every hierarchical
content format, Write, Execute, Write-Attributes, Discover, Read-Composite -- and the demo
prints what it read as a table per meter and one line per operation with its response
code and content format. Then the server sets up a reporting cycle on the electricity meter
the way a utility's head-end does (Core 1.1 sections 6.4.1-6.4.6): it writes notification
attributes on Active Power, observes it and prints each notification as it arrives,
cancels the observation, and the meter sends a few readings with Send. The meters
de-register and the command exits 0 when every operation succeeded.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable, Dict, List, Optional, Sequence, Tuple

from lwm2m_client.core.client import events as ev
from lwm2m_client.core.content import (
    CF_LINK,
    CF_LWM2M_CBOR,
    CF_SENML_CBOR,
    CF_SENML_JSON,
    CF_TEXT,
    CF_TLV,
)
from lwm2m_client.core.dm import types as t
from lwm2m_client.core.dm.model import ObjectDef
from lwm2m_client.core.dm.path import parse_path
from lwm2m_client.core.errors import code_str
from lwm2m_client.meter_client import MeterClient
from lwm2m_client.models import shipped_objects
from lwm2m_client.server import (
    BootstrapConfig,
    BootstrapServer,
    LwM2MServer,
    LwM2MServerError,
    Registration,
    Response,
    ServerAccount,
)

FORMAT_NAMES = {CF_TLV: "TLV", CF_SENML_CBOR: "SenML CBOR", CF_SENML_JSON: "SenML JSON",
                CF_LWM2M_CBOR: "LwM2M CBOR", CF_TEXT: "plain text", CF_LINK: "link format"}
# Reads rotate through the hierarchical formats so that three meters show all four.
READ_FORMATS = (CF_TLV, CF_SENML_CBOR, CF_SENML_JSON, CF_LWM2M_CBOR)
KIND_CYCLE = ("electricity", "gas", "water", "3phase")
KIND_NAMES = {"electricity": "single-phase electricity meter", "gas": "gas meter",
              "water": "water meter", "3phase": "three-phase electricity meter"}
# LwM2M 1.2: the version that has LwM2M CBOR (Core 1.2 section 7.4.7).
VERSION = "1.2"
LIFETIME = 300

# The reporting cycle on the electricity meter: Active Power /10243/0/6 notifies at most
# once a second, at least every 2 seconds, and on a step of 10 W. The meter computes the
# power when it is read, so the client only sees it move when it evaluates it: epmax=1
# asks for that every second (Core 1.1 section 5.1.1). The server listens for REPORT_S
# seconds. The Send carries the register, the power and the voltage.
REPORT_RID = 6
REPORT_ATTRIBUTES: Dict[str, Any] = {"pmin": 1, "pmax": 2, "st": 0.01, "epmax": 1}
REPORT_S = 3.5
SEND_RIDS = (14, 6, 4)
# The columns of the reporting cycle's lines, printed as they happen.
REPORT_WIDTHS = (16, 34, 4, 10)


class Plan:
    """What the demo does to one kind of meter: the register that matters most (it
    gets notification attributes and is read in the composite), one Write, one Execute;
    ``check`` is read as plain text after the Execute to show its effect."""

    def __init__(self, main_rid: int, write: Tuple[str, Any], execute: str,
                 check: Optional[str] = None) -> None:
        self.main_rid = main_rid
        self.write = write
        self.execute = execute
        self.check = check


# Writing /1/0/1 Lifetime and executing /1/0/8 Registration Update Trigger each make the
# client send an Update (Core 1.1 section 6.2.2); the volume meters' pulse ratio is
# writable and their counters have reset executables (objects 3423 and 3424).
PLANS = {
    "electricity": Plan(14, ("/1/0/1", 600), "/1/0/8"),
    "3phase": Plan(41, ("/1/0/1", 600), "/1/0/8"),
    "gas": Plan(1, ("/3423/0/6", 10), "/3423/0/5", check="/3423/0/4"),
    "water": Plan(1, ("/3424/0/6", 100), "/3424/0/2", check="/3424/0/1"),
}


class Operation:
    """One request of the demo, as it is reported."""

    def __init__(self, name: str, target: str, code: str, fmt: str = "", note: str = ""):
        self.name = name
        self.target = target
        self.code = code
        self.fmt = fmt
        self.note = note

    @property
    def ok(self) -> bool:
        return self.code.startswith("2.")


class Session:
    """The server's conversation with one meter; every request lands in ``operations``."""

    def __init__(self, server: LwM2MServer, client: MeterClient, index: int,
                 objects: Dict[int, ObjectDef]) -> None:
        self.server = server
        self.client = client
        self.endpoint = client.endpoint
        self.index = index
        self.objects = objects
        self.operations: List[Operation] = []
        self.tables: List[Tuple[str, str, List[Tuple[str, ...]]]] = []
        self.notifications = 0

    async def _run(self, name: str, target: str, fmt: Optional[int],
                   call: Callable[[], Awaitable[Response]]) -> Optional[Response]:
        try:
            response = await call()
        except LwM2MServerError as exc:
            self.operations.append(Operation(name, target, "error", note=str(exc)))
            return None
        # The answer's format, or for answers without a body the request's.
        cf = fmt if response.content_format is None else response.content_format
        shown = "" if cf is None else FORMAT_NAMES.get(cf, str(cf))
        self.operations.append(Operation(name, target, response.code, shown))
        return response if response.ok else None

    async def read_object(self, path: str, fmt: int) -> None:
        response = await self._run("read", path, fmt,
                                   lambda: self.server.read(self.endpoint, path, format=fmt))
        if response is None:
            return
        values = response.values
        self.operations[-1].note = f"{len(values)} values"
        oid = response.path[0]
        title = f"{path} {self.objects[oid].name}"
        self.tables.append((title, FORMAT_NAMES[fmt], self._rows(oid, values)))

    def _name(self, path: str) -> str:
        oid, _, rid = parse_path(path)[:3]
        rdef = self.objects[oid].resource(rid)
        return rdef.name if rdef is not None else ""

    async def write(self, path: str, value: Any) -> None:
        response = await self._run(
            "write", f"{path} = {value}", CF_SENML_CBOR,
            lambda: self.server.write(self.endpoint, path, value, format=CF_SENML_CBOR))
        if response is None:
            return
        self.operations[-1].note = self._name(path)
        if path.startswith("/1/"):
            reg = await self.server.wait_updated(self.endpoint)
            self.operations[-1].note += f"; the client sent an Update (lt={reg.lifetime})"

    async def execute(self, path: str) -> None:
        response = await self._run("execute", path, None,
                                   lambda: self.server.execute(self.endpoint, path))
        if response is None:
            return
        self.operations[-1].note = self._name(path)
        if path.startswith("/1/"):
            await self.server.wait_updated(self.endpoint)
            self.operations[-1].note += "; the client sent an Update"

    async def read_text(self, path: str) -> None:
        response = await self._run("read", path, CF_TEXT,
                                   lambda: self.server.read(self.endpoint, path, format=CF_TEXT))
        if response is not None:
            self.operations[-1].note = f"{self._name(path)}: {_show(response.value)}"

    async def write_attributes(self, path: str, **attributes: Any) -> None:
        query = "&".join(f"{k}={v}" for k, v in attributes.items())
        await self._run("write-attributes", f"{path}?{query}", None,
                        lambda: self.server.write_attributes(self.endpoint, path, **attributes))

    async def discover(self, path: str, show: str) -> None:
        try:
            links = await self.server.discover(self.endpoint, path)
        except LwM2MServerError as exc:
            code = exc.response.code if exc.response is not None else "error"
            self.operations.append(Operation("discover", path, code, note=str(exc)))
            return
        shown = [f"<{target}>" + "".join(f";{k}={v}" for k, v in params.items())
                 for target, params in links if target == show]
        note = f"{len(links)} links" + (f", {shown[0]}" if shown else "")
        self.operations.append(Operation("discover", path, "2.05", FORMAT_NAMES[CF_LINK], note))

    async def read_composite(self, paths: Sequence[str], fmt: int) -> None:
        response = await self._run(
            "read-composite", " ".join(paths), fmt,
            lambda: self.server.read_composite(self.endpoint, paths, format=fmt))
        if response is not None:
            values = response.values
            self.operations[-1].note = ", ".join(
                f"{path}={_show(values[parse_path(path)])}" for path in paths
                if parse_path(path) in values)

    def _rows(self, oid: int, values: Dict[Tuple[int, ...], Any]) -> List[Tuple[str, ...]]:
        odef = self.objects[oid]
        grouped: Dict[int, List[Any]] = {}
        for path in sorted(values):
            grouped.setdefault(path[2], []).append(values[path])
        rows: List[Tuple[str, ...]] = []
        for rid, items in grouped.items():
            rdef = odef.resource(rid)
            name = rdef.name if rdef is not None else "?"
            timed = rdef is not None and rdef.type == t.T_TIME
            text = ", ".join(_show(v, timed) for v in items)
            unit = rdef.units if rdef is not None else ""
            rows.append((str(rid), name, f"{text} {_UNITS.get(unit, unit)}".rstrip()))
        return rows


# THD is given in hundredths by the object definitions: a percentage.
_UNITS = {"/100": "%"}


def _show(value: Any, timed: bool = False) -> str:
    if timed and isinstance(value, int):
        return datetime.fromtimestamp(value, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.10g}"
    if isinstance(value, (bytes, bytearray)):
        return value[:16].hex() + ("..." if len(value) > 16 else "")
    return str(value)


async def exercise(session: Session) -> None:
    """The operations of the demo, on one meter."""
    client = session.client
    plan = PLANS[client.kind]
    oid = client.meter.oid
    main = f"/{oid}/{client.meter.iid}/{plan.main_rid}"
    i = session.index
    await session.read_object("/3/0", READ_FORMATS[i % 4])
    await session.read_object(f"/{oid}/{client.meter.iid}", READ_FORMATS[(i + 1) % 4])
    await session.write(*plan.write)
    await session.execute(plan.execute)
    if plan.check is not None:
        await session.read_text(plan.check)
    # Notify no more often than once a minute, at least every 15 minutes, and on a step of
    # half a unit (Core 1.1 section 5.1.2).
    await session.write_attributes(main, pmin=60, pmax=900, st=0.5)
    await session.discover(f"/{oid}/{client.meter.iid}", show=main)
    await session.read_composite(["/3/0/2", main, "/4/0/2"],
                                 CF_SENML_JSON if i % 2 == 0 else CF_SENML_CBOR)


def _with_unit(session: Session, path: Tuple[int, ...], value: Any) -> str:
    odef = session.objects.get(path[0])
    rdef = odef.resource(path[2]) if odef is not None and len(path) > 2 else None
    unit = rdef.units if rdef is not None else ""
    return f"{_show(value)} {_UNITS.get(unit, unit)}".rstrip()


async def reporting_cycle(session: Session, out: Callable[[str], None]) -> None:
    """Set up, watch and cancel an observation of the meter's Active Power, then have the
    meter Send a few readings; every line is printed as it happens."""
    server, client = session.server, session.client
    meter = client.meter
    path = (meter.oid, meter.iid, REPORT_RID)
    target = f"/{meter.oid}/{meter.iid}/{REPORT_RID}"

    def line(name: str, what: str, code: str = "", fmt: str = "", note: str = "") -> None:
        _table([(name, what, code, fmt, note)], "    ", out, (*REPORT_WIDTHS, len(note)))

    def reading(response: Response) -> str:
        try:
            return _with_unit(session, path, response.value)
        except LwM2MServerError as exc:
            return f"unreadable ({exc})"

    def record(name: str, what: str, code: str, fmt: str = "", note: str = "") -> None:
        session.operations.append(Operation(name, what, code, fmt, note))
        line(name, what, code, fmt, note)

    attributes = ", ".join(f"{k}={v}" for k, v in REPORT_ATTRIBUTES.items())
    out("")
    out(f"{session.endpoint}: reporting cycle on {target} {session._name(target)} "
        f"({attributes}), {REPORT_S:g} s")
    query = "&".join(f"{k}={v}" for k, v in REPORT_ATTRIBUTES.items())
    try:
        response = await server.write_attributes(session.endpoint, target, **REPORT_ATTRIBUTES)
    except LwM2MServerError as exc:
        record("write-attributes", f"{target}?{query}", "error", note=str(exc))
        return
    record("write-attributes", f"{target}?{query}", response.code)
    if not response.ok:
        return
    started = time.monotonic()
    try:
        obs = await server.observe(session.endpoint, target)
    except LwM2MServerError as exc:
        record("observe", target, "error", note=str(exc))
        return
    first = obs.response
    fmt = FORMAT_NAMES.get(first.content_format or 0, str(first.content_format))
    if not obs.active:
        record("observe", target, first.code, fmt, "the meter did not start observing")
        return
    record("observe", target, first.code, fmt,
           f"Observe {first.observe}: {reading(first)}")
    last = first.observe
    while True:
        left = started + REPORT_S - time.monotonic()
        if left <= 0:
            break
        try:
            notification = await obs.next(timeout=left)
        except (TimeoutError, StopAsyncIteration):
            break
        session.notifications += 1
        order = "" if last is None or (notification.observe or 0) > last else " (out of order)"
        last = notification.observe
        cf = notification.content_format
        line("notification", f"+{time.monotonic() - started:.1f} s", notification.code,
             FORMAT_NAMES.get(cf or 0, str(cf)), f"Observe {notification.observe}: "
                  f"{reading(notification)}{order}")
    server.cancel_observe(obs)
    line("cancel-observe", target, note=f"after {session.notifications} notifications; "
                                        "the meter's next one is answered with a reset")

    # Send (Core 1.1 section 6.4.6): the meter POSTs the readings to /dp on its own.
    paths = [(meter.oid, meter.iid, rid) for rid in SEND_RIDS]
    adapter = client.adapter
    sent = asyncio.ensure_future(adapter.wait_for(ev.Sent, 5.0))
    await asyncio.sleep(0)  # the watcher is in place before the answer can come
    client.core.send(paths, adapter.now_ms())
    adapter.changed()
    try:
        records = await server.wait_send(session.endpoint)
        answer = await sent
    except (TimeoutError, asyncio.TimeoutError) as exc:
        sent.cancel()
        record("send", "/dp", "error", note=str(exc) or "no answer")
        return
    shown = ", ".join(f"/{'/'.join(map(str, p))}={_with_unit(session, p, v)}"
                      for p, v, _ in records)
    code = "error" if answer.code is None else code_str(answer.code)
    record("send", "/dp", code, note=f"{len(records)} records: {shown}")


def _table(rows: Sequence[Sequence[str]], indent: str, out: Callable[[str], None],
           widths: Optional[Sequence[int]] = None) -> None:
    """Print ``rows`` in left-aligned columns (``widths``: the columns' widths when
    several tables should line up)."""
    if widths is None:
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [cell.ljust(w) for cell, w in zip(row, widths, strict=True)]
        out((indent + "  ".join(cells)).rstrip())


def _objects_text(reg: Registration) -> str:
    parts = []
    for oid in sorted(reg.objects):
        iids = reg.objects[oid]
        parts.extend([f"/{oid}/{iid}" for iid in iids] or [f"/{oid}"])
    return " ".join(parts)


def report(session: Session, out: Callable[[str], None]) -> None:
    client = session.client
    out("")
    out(f"{session.endpoint}: {KIND_NAMES[client.kind]}, serial {client.meter.serial}")
    every = [row for _, _, rows in session.tables for row in rows]
    widths = [max(len(row[i]) for row in every) for i in range(3)] if every else None
    for title, fmt, rows in session.tables:
        out(f"  {title}  (read as {fmt})")
        _table(rows, "    ", out, widths)
    out("  operations")
    _table([(op.name, op.target, op.code, op.fmt, op.note) for op in session.operations],
           "    ", out)


async def run_demo(meters: int = 3, out: Callable[[str], None] = print) -> int:
    """Run the demo with ``meters`` virtual meters; returns the exit code."""
    started = time.monotonic()
    objects = shipped_objects()
    # Meters leave the factory with a Bootstrap-Server account only (Core 1.1 section
    # 6.1.3): the Bootstrap-Server gives each its LwM2M Server account.
    async with LwM2MServer(objects=objects) as server, BootstrapServer() as bs:
        # Delete /0 (not /, which would take the meter's own objects along, Core 1.1
        # section 6.1.7.6), then the account.
        # Mute Send /1/x/23 false: absent, it would mute Send (Object 1).
        onboarding = BootstrapConfig(servers=[ServerAccount(server.uri, 1, lifetime=LIFETIME,
                                                            server_resources={23: False})],
                                     delete="/0")
        bs.set_default(onboarding)
        out(f"LwM2M server (aiocoap) on {server.uri}, Bootstrap-Server on {bs.uri}; "
            f"{meters} virtual meters, LwM2M {VERSION}")
        out("")
        clients = [MeterClient(None, f"demo-{KIND_CYCLE[i % 4]}-{i + 1}",
                               KIND_CYCLE[i % 4], version=VERSION, lifetime=LIFETIME, seed=i,
                               bootstrap_uri=bs.uri)
                   for i in range(meters)]
        try:
            for client in clients:
                await client.start()
            onboarded = []
            for client in clients:
                outcome = await bs.wait_finished(client.endpoint)
                onboarded.append(("bootstrapped", client.endpoint,
                                  f"{len(bs.requests(client.endpoint))} bootstrap messages",
                                  f"Finish {outcome.code}", f"-> LwM2M server {server.uri}"))
            _table(onboarded, "", out)
            out("")
            rows = []
            for client in clients:
                reg = await server.wait_registered(client.endpoint)
                rows.append(("registered", client.endpoint, f"/rd/{reg.location}",
                             f"LwM2M {reg.lwm2m_version}", f"lifetime {reg.lifetime} s",
                             _objects_text(reg)))
            _table(rows, "", out)
            sessions = [Session(server, client, i, objects) for i, client in enumerate(clients)]
            for session in sessions:
                await exercise(session)
                report(session, out)
            # The first meter is the electricity meter.
            await reporting_cycle(sessions[0], out)
        finally:
            await asyncio.gather(*(client.stop() for client in clients))
        out("")
        for client in clients:
            reg = await server.wait_deregistered(client.endpoint)
            out(f"de-registered {client.endpoint} (/rd/{reg.location})")
    operations = [op for s in sessions for op in s.operations]
    notifications = sum(s.notifications for s in sessions)
    failed = [op for op in operations if not op.ok]
    elapsed = time.monotonic() - started
    if failed:
        out(f"{len(failed)} of {len(operations)} operations failed ({elapsed:.1f} s)")
        return 1
    out(f"{len(operations)} operations on {meters} meters, {notifications} notifications, "
        f"all successful ({elapsed:.1f} s)")
    return 0


def _meter_count(text: str) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of meters") from None
    if not 1 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{value} meters: the demo runs 1 to 100")
    return value


def cmd_demo(args: argparse.Namespace) -> int:
    return asyncio.run(run_demo(args.meters))


def add_demo_parser(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "demo", help="an LwM2M server and three virtual meters, in one process",
        description="Start the embedded LwM2M server on the loopback interface, register "
                    "virtual meters with it (electricity, gas, water, then three-phase), "
                    "run Read, Write, Execute, Write-Attributes, Discover and "
                    "Read-Composite on each, observe the electricity meter's Active Power "
                    "for a few seconds and have it Send readings, print what happened and "
                    "de-register.")
    p.add_argument("--meters", type=_meter_count, default=3, metavar="N",
                   help="how many meters (default: 3)")
    p.set_defaults(func=cmd_demo, prog=p.prog)
