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
OPERATION = re.compile(r"^    (read|write|execute|write-attributes|discover|read-composite"
                       r"|observe|send)\s+(\S.*?)\s{2,}(\d\.\d\d|error)\b")
# A notification of the reporting cycle: time since the Observe, code, format, sequence
# number and value.
NOTIFICATION = re.compile(r"^    notification +\+(\d+\.\d) s +(\d\.\d\d) +\S.*?  "
                          r"Observe (\d+): (-?\d+(?:\.\d+)?) kW$")


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
    # Seven or eight operations per meter, and the reporting cycle's Write-Attributes,
    # Observe and Send.
    assert len(ops) == 26
    assert all(code in ("2.04", "2.05") for _, _, code in ops)
    names = {name for name, _, _ in ops}
    assert names == {"read", "write", "execute", "write-attributes", "discover",
                     "read-composite", "observe", "send"}
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
    last = re.match(r"26 operations on 3 meters, (\d+) notifications, all successful "
                    r"\((\d+\.\d) s\)$", lines[-1])
    assert last, lines[-1]
    assert float(last.group(2)) < 6.0
    check_reporting_cycle(lines, notifications=int(last.group(1)))


def check_reporting_cycle(lines: list[str], notifications: int) -> None:
    """The electricity meter's reporting cycle: attributes written, Active Power observed,
    notifications as they came, the cancel, then a Send of three readings."""
    start = lines.index("demo-electricity-1: reporting cycle on /10243/0/6 Active Power "
                        "(pmin=1, pmax=2, st=0.01, epmax=1), 3.5 s")
    cycle = lines[start + 1:lines.index("", start + 1)]
    assert re.match(r"^    write-attributes +/10243/0/6\?pmin=1&pmax=2&st=0\.01&epmax=1 +2\.04$",
                    cycle[0])
    first = re.match(r"^    observe +/10243/0/6 +2\.05 +SenML CBOR +Observe (\d+): "
                     r"(-?\d+(?:\.\d+)?) kW$", cycle[1])
    assert first, cycle[1]
    found = [NOTIFICATION.match(line) for line in cycle[2:-2]]
    assert all(found), cycle[2:-2]
    assert len(found) == notifications >= 2
    # Observe numbers grow, the notifications come no faster than pmin and within the
    # observation's 3.5 s, and each carries a reading.
    numbers = [int(first.group(1))] + [int(m.group(3)) for m in found if m]
    assert numbers == sorted(set(numbers))
    times = [float(m.group(1)) for m in found if m]
    assert times == sorted(times) and times[-1] <= 4.5
    assert all(b - a >= 0.7 for a, b in zip(times, times[1:], strict=False))
    assert all(m.group(2) == "2.05" and 0 < float(m.group(4)) < 20 for m in found if m)
    assert re.match(rf"^    cancel-observe +/10243/0/6 +after {notifications} notifications;",
                    cycle[-2])
    send = re.match(r"^    send +/dp +2\.04 +3 records: (.*)$", cycle[-1])
    assert send, cycle[-1]
    records = dict(item.split("=", 1) for item in send.group(1).split(", "))
    assert set(records) == {"/10243/0/14", "/10243/0/6", "/10243/0/4"}
    assert re.fullmatch(r"\d+(\.\d+)? kWh", records["/10243/0/14"])
    assert re.fullmatch(r"\d+(\.\d+)? kW", records["/10243/0/6"])
    assert re.fullmatch(r"\d+(\.\d+)? V", records["/10243/0/4"])


async def test_four_meters_add_a_three_phase_meter():
    lines: list[str] = []
    assert await run_demo(4, out=lines.append) == 0
    out = "\n".join(lines)
    assert "registered  demo-3phase-4" in out
    assert re.search(r"^    50 +Neutral Current +\d+\.\d+ A$", out, re.M)
    assert len(operations(out)) == 33
    assert lines[-1].startswith("33 operations on 4 meters")
    # One reporting cycle, on the electricity meter.
    assert sum("reporting cycle" in line for line in lines) == 1


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
