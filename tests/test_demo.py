"""`lwm2m-meter demo` end to end, and the example scripts."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from lwm2m_client.cli import main
from lwm2m_client.demo import run_demo

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
# An operation line: name, target, code, then format and note (columns of two spaces).
OPERATION = re.compile(r"^    (read|write|execute|write-attributes|discover|read-composite)"
                       r"\s+(\S.*?)\s{2,}(\d\.\d\d|error)\b")


def operations(out: str) -> list[tuple[str, str, str]]:
    found = []
    for line in out.splitlines():
        match = OPERATION.match(line)
        if match:
            found.append((match.group(1), match.group(2), match.group(3)))
    return found


def test_demo_runs_three_meters_through_every_operation(capsys):
    assert main(["demo"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    lines = out.splitlines()
    registered = [line.split()[1] for line in lines if line.startswith("registered ")]
    assert registered == ["demo-electricity-1", "demo-gas-2", "demo-water-3"]
    for kind, oid in (("electricity", 10243), ("gas", 3423), ("water", 3424)):
        assert any(line.startswith("registered  demo-" + kind) and f"/{oid}/0" in line
                   for line in lines)
    ops = operations(out)
    assert len(ops) == 23
    assert all(code in ("2.04", "2.05") for _, _, code in ops)
    names = {name for name, _, _ in ops}
    assert names == {"read", "write", "execute", "write-attributes", "discover",
                     "read-composite"}
    # The device and meter reads cover every hierarchical format.
    for fmt in ("TLV", "SenML CBOR", "SenML JSON", "LwM2M CBOR"):
        assert f"(read as {fmt})" in out
    # Values read, in the tables.
    assert re.search(r"^    0 +Manufacturer +lwm2m_client$", out, re.M)
    assert re.search(r"^    4 +Tension +\d+(\.\d+)? V$", out, re.M)
    assert re.search(r"^    1 +Cumulated gas volume +\d+(\.\d+)? m3$", out, re.M)
    # Writing the lifetime and the update trigger made the client send Updates, the
    # Execute reset the gas meter's pulse counter, Discover shows the attributes written.
    assert "the client sent an Update (lt=600)" in out
    assert "Cumulated pulse value: 0" in out
    assert "</10243/0/14>;pmin=60;pmax=900;st=0.5" in out
    assert sum(line.startswith("de-registered demo-") for line in lines) == 3
    assert lines[-1].startswith("23 operations on 3 meters, all successful")


async def test_four_meters_add_a_three_phase_meter():
    lines: list[str] = []
    assert await run_demo(4, out=lines.append) == 0
    out = "\n".join(lines)
    assert "registered  demo-3phase-4" in out
    assert re.search(r"^    50 +Neutral Current +\d+\.\d+ A$", out, re.M)
    assert len(operations(out)) == 30
    assert lines[-1].startswith("30 operations on 4 meters")


def test_meter_count_is_checked(capsys):
    assert main(["demo", "--meters", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lwm2m-meter demo: error: argument --meters") and err.count("\n") == 1


def test_pytest_example_passes():
    result = subprocess.run(
        [sys.executable, "-m", "pytest", str(EXAMPLES / "pytest_example.py"), "-q",
         "-p", "no:cacheprovider"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "passed" in result.stdout


def test_one_meter_example_runs_against_a_server():
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "one_meter.py"), "--with-server", "--duration", "1.5"],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "registered as one-meter-1" in result.stdout
    assert "de-registered" in result.stdout
