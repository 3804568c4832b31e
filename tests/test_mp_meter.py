"""examples/mp_meter.py on the real MicroPython unix port, against the embedded server.

Real sockets on loopback, a real MicroPython (the builds `.ci/setup.sh` makes from
../shared/micropython), the server on aiocoap: registration with the object list in
Block1, reads in every configured format, writes (one in Block1), execute, discover,
write-attributes, composite read and write, an Update after a Lifetime write, and
de-registration on Ctrl-C. Run from `.py`, from `.mpy` and frozen into the firmware.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from pathlib import Path

import pytest

from lwm2m_client import mptools
from lwm2m_client.core.content import (
    CF_LINK,
    CF_LWM2M_CBOR,
    CF_SENML_CBOR,
    CF_SENML_JSON,
    CF_TEXT,
    CF_TLV,
)
from lwm2m_client.server import LwM2MServer, LwM2MServerError

ROOT = Path(__file__).resolve().parents[1]
UNIX = ROOT / ".mp" / "unix"
EXAMPLE = ROOT / "examples" / "mp_meter.py"
ALL_FORMATS = "senml-cbor,tlv,senml-json,lwm2m-cbor,text"

pytestmark = pytest.mark.micropython


def micropython(variant: str) -> Path:
    path = UNIX / variant / "micropython"
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path} missing: .ci/setup.sh builds it")
        pytest.skip(f"{path} not built (run .ci/setup.sh)")
    return path


def lib_dir(kind: str, tmp_path: Path) -> str:
    """MICROPYPATH for the run: a lib folder of .py or .mpy files, or nothing beyond
    the frozen modules."""
    if kind == "frozen":
        return ".frozen"  # the firmware holds lwm2m_client
    out = tmp_path / "lib"
    mptools.build_lib(out, mpy=kind == "mpy")
    return str(out)


class Meter:
    """One mp_meter.py process; its output is kept for the failure message."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.output = b""

    async def finish(self, timeout: float = 10.0) -> int:
        out, _ = await asyncio.wait_for(self.proc.communicate(), timeout)
        self.output += out
        return self.proc.returncode if self.proc.returncode is not None else -1

    def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()


async def start_meter(binary: Path, lib: str, *args: str) -> Meter:
    proc = await asyncio.create_subprocess_exec(
        str(binary), str(EXAMPLE), *args, cwd=str(ROOT),
        env={"MICROPYPATH": lib, "PATH": os.environ.get("PATH", "")},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    return Meter(proc)


@pytest.mark.parametrize("variant, kind", [("standard", "py"), ("std32", "mpy"),
                                           ("frozen", "frozen")])
async def test_mp_meter_serves_every_operation(variant, kind, tmp_path):
    binary = micropython(variant)
    ep = f"mp-meter-{kind}"
    async with LwM2MServer(request_timeout=10) as server:
        meter = await start_meter(binary, lib_dir(kind, tmp_path), "--server", server.uri,
                                  "--endpoint", ep, "--formats", ALL_FORMATS,
                                  "--block-size", "64", "--lifetime", "120")
        try:
            reg = await server.wait_registered(ep, timeout=15)
            # The object list is longer than the 64-byte blocks: it came in Block1.
            assert {1, 3, 5, 10243} <= set(reg.objects) and 0 not in reg.objects
            assert reg.lifetime == 120

            # Reads in each format; the instance is larger than a block (Block2).
            for cf in (CF_TLV, CF_SENML_CBOR, CF_SENML_JSON, CF_LWM2M_CBOR):
                values = (await server.read(ep, "/10243/0", format=cf)).raise_for_status()
                got = values.values
                assert 220.0 < got[(10243, 0, 4)] < 240.0
                assert got[(10243, 0, 14)] >= 1234.5
                assert got[(10243, 0, 2)] == "SN-" + ep
            text = await server.read(ep, "/3/0/0", format=CF_TEXT)
            assert text.payload == b"ACME Metering"

            # Write Lifetime: 2.04, then the meter sends an Update with lt.
            assert (await server.write(ep, "/1/0/1", 90, format=CF_TEXT)).ok
            assert (await server.wait_updated(ep, timeout=10)).lifetime == 90
            # A 3000-byte firmware package arrives in Block1 (aiocoap's blocks).
            assert (await server.write(ep, "/5/0/0", bytes(range(256)) * 12,
                                       format=CF_TLV)).ok
            assert (await server.execute(ep, "/3/0/4")).ok
            links = (await server.read(ep, "/10243/0", format=CF_LINK)).payload
            assert b"</10243/0/4>" in links and b"</10243/0/14>" in links
            assert (await server.write_attributes(ep, "/10243/0/6", pmin=10, pmax=60)).ok
            links = (await server.read(ep, "/10243/0/6", format=CF_LINK)).payload
            assert b"pmin=10" in links and b"pmax=60" in links
            composite = await server.read_composite(ep, ["/3/0/0", "/10243/0/14"],
                                                    format=CF_SENML_CBOR)
            assert composite.values[(3, 0, 0)] == "ACME Metering"
            assert (await server.write_composite(ep, {"/1/0/1": 100},
                                                 format=CF_SENML_CBOR)).ok
            assert (await server.wait_updated(ep, timeout=10)).lifetime == 100

            # Ctrl-C: the meter de-registers and exits cleanly.
            meter.proc.send_signal(signal.SIGINT)
            await server.wait_deregistered(ep, timeout=10)
            assert await meter.finish() == 0, meter.output.decode(errors="replace")
        except BaseException:
            meter.kill()
            out = await meter.finish()
            print(meter.output.decode(errors="replace"), out)
            raise


@pytest.mark.parametrize("args, message", [
    (("--endpoint", "x"), "usage: mp_meter.py"),
    (("--server", "coap://127.0.0.1", "--endpoint", "x", "--formats", "tlv,xml"),
     "--formats: unknown format 'xml'"),
])
async def test_mp_meter_usage_error_is_one_line(tmp_path, args, message):
    binary = micropython("standard")
    meter = await start_meter(binary, lib_dir("py", tmp_path), *args)
    code = await meter.finish()
    lines = meter.output.decode().strip().splitlines()
    assert code != 0 and len(lines) == 1 and lines[0].startswith(message), lines


async def test_small_fragmented_heap_gets_errors_not_a_crash(tmp_path):
    # A 32-bit meter from .mpy in a small heap; the server makes the meter fill its
    # heap (Execute /3/0/4 in tests/mp/unix_oom_meter.py), reads, frees (/3/0/5), reads.
    binary = micropython("std32")
    lib = lib_dir("mpy", tmp_path)
    ep = "mp-oom"
    script = ROOT / "tests" / "mp" / "unix_oom_meter.py"
    async with LwM2MServer(request_timeout=3) as server:
        proc = await asyncio.create_subprocess_exec(
            str(binary), "-X", "heapsize=320k", str(script), "--server", server.uri,
            "--endpoint", ep, "--formats", "senml-json,tlv", "--block-size", "1024",
            cwd=str(ROOT), env={"MICROPYPATH": f"{lib}:{ROOT / 'examples'}"},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        meter = Meter(proc)
        try:
            await server.wait_registered(ep, timeout=15)
            assert (await server.read(ep, "/10243/0", format=CF_SENML_JSON)).ok
            # Fill the heap: the handler runs before the answer is made, so the answer
            # itself may already find no room (5.00); either way the meter goes on.
            assert (await server.execute(ep, "/3/0/4")).code in ("2.04", "5.00")
            # A Read needs no large block and is answered (2.05, or 5.00 when even its
            # small objects found no room). The first Block1 body needs the 4 KB request
            # buffer, which the holes cannot give: an error answer (4.13 or 5.00), or
            # none, and the meter runs on.
            reading = await server.read(ep, "/10243/0", format=CF_TLV)
            assert reading.code in ("2.05", "5.00"), reading
            package = bytes(range(256)) * 12
            refused = []
            for _ in range(2):
                try:
                    answer = await server.write(ep, "/5/0/0", package, format=CF_TLV)
                except LwM2MServerError:
                    continue  # no answer at all is allowed too: CoAP retries
                assert answer.code in ("4.13", "5.00"), answer  # never a false 2.04
                refused.append(answer.code)
            assert refused, "under pressure the meter answered no Write at all"
            assert (await server.execute(ep, "/3/0/5")).ok  # free it
            assert (await server.write(ep, "/5/0/0", package, format=CF_TLV)).ok
            after = await server.read(ep, "/10243/0", format=CF_SENML_JSON)
            assert after.ok and 220.0 < after.values[(10243, 0, 4)] < 240.0
            proc.send_signal(signal.SIGINT)
            await server.wait_deregistered(ep, timeout=10)
            assert await meter.finish() == 0
            out = meter.output.decode(errors="replace")
            assert "filled" in out and "freed" in out, out
        except BaseException:
            meter.kill()
            await meter.finish()
            print(meter.output.decode(errors="replace"))
            raise


async def test_async_adapter_serves_next_to_the_application(tmp_path):
    binary = micropython("standard")
    script = ROOT / "tests" / "mp" / "unix_async_meter.py"
    ep = "mp-async"
    async with LwM2MServer(request_timeout=10) as server:
        proc = await asyncio.create_subprocess_exec(
            str(binary), str(script), "--server", server.uri, "--endpoint", ep,
            "--block-size", "64", "3",
            cwd=str(ROOT), env={"MICROPYPATH": f"{lib_dir('py', tmp_path)}:"
                                               f"{ROOT / 'examples'}:.frozen"},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        meter = Meter(proc)
        try:
            await server.wait_registered(ep, timeout=10)
            reading = await server.read(ep, "/10243/0", format=CF_SENML_CBOR)
            assert 220.0 < reading.values[(10243, 0, 4)] < 240.0
            assert (await server.write(ep, "/1/0/1", 77, format=CF_SENML_CBOR)).ok
            assert (await server.wait_updated(ep, timeout=10)).lifetime == 77
            await server.wait_deregistered(ep, timeout=10)
            assert await meter.finish() == 0, meter.output.decode(errors="replace")
            out = meter.output.decode()
            turns = int(out.rsplit("after ", 1)[1].split()[0])
            assert turns > 50, out  # the application's task kept running alongside
        except BaseException:
            meter.kill()
            await meter.finish()
            print(meter.output.decode(errors="replace"))
            raise


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_queue_mode_meter_sleeps_and_wakes_on_real_micropython(tmp_path):
    # Transport 1.1 section 6.5 on the unix port: the meter closes its socket after the
    # awake window; the server holds its Read; the next periodic report (pmax) wakes
    # it with an Update, after which the Read and the kept notification arrive.
    binary = micropython("standard")
    ep = "mp-queue"
    async with LwM2MServer(request_timeout=10, queue_awake=0.2) as server:
        meter = await start_meter(binary, lib_dir("py", tmp_path), "--server", server.uri,
                                  "--endpoint", ep, "--queue", "400",
                                  "--port", str(free_udp_port()))
        try:
            reg = await server.wait_registered(ep, timeout=15)
            assert reg.queue_mode
            assert (await server.write_attributes(ep, "/10243/0/14", pmax=3)).ok
            obs = await server.observe(ep, "/10243/0/14", format=CF_SENML_CBOR)
            assert obs.active
            first = obs.response.value
            await asyncio.sleep(0.5)  # past both awake windows
            read = asyncio.ensure_future(server.read(ep, "/3/0/0", format=CF_TLV))
            await asyncio.sleep(0.1)
            assert server.held_requests(ep) == 1 and not read.done()
            answer = await asyncio.wait_for(read, 15)  # after the next reading's Update
            assert answer.value == "ACME Metering"
            note = await obs.next(timeout=15)
            assert note.value >= first
            meter.proc.send_signal(signal.SIGINT)
            await server.wait_deregistered(ep, timeout=10)
            assert await meter.finish() == 0
            out = meter.output.decode(errors="replace")
            assert "WentToSleep" in out and "WokeUp" in out, out
        except BaseException:
            meter.kill()
            await meter.finish()
            print(meter.output.decode(errors="replace"))
            raise
