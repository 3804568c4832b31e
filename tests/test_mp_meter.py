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
from pathlib import Path

import pytest

from lwm2m_client import mptools
from lwm2m_client.core.content import CF_LINK, CF_LWM2M_CBOR, CF_SENML_CBOR, CF_SENML_JSON
from lwm2m_client.core.content import CF_TEXT, CF_TLV
from lwm2m_client.server import LwM2MServer

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
        return str(tmp_path)  # the firmware holds lwm2m_client
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


async def test_mp_meter_usage_error_is_one_line(tmp_path):
    binary = micropython("standard")
    meter = await start_meter(binary, lib_dir("py", tmp_path), "--endpoint", "x")
    code = await meter.finish()
    lines = meter.output.decode().strip().splitlines()
    assert code != 0 and len(lines) == 1 and lines[0].startswith("usage: mp_meter.py")
