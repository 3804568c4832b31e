"""The package type-checks, and the core's stubs (.pyi next to each core module) type the
public API for its users.

The core carries no annotations (it runs on MicroPython); its stubs are what mypy reads for
it, so they must (a) agree with the code around the core (``mypy lwm2m_client`` is clean),
(b) accept a vendor's correctly typed script and (c) reject a wrong one. One mypy run
each; the three share a cache directory, so the second and third are quick.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("mypy")

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "lwm2m_client" / "core"

# A vendor's script in the style of examples/vendor_object.py, fully annotated: a tree with
# the mandatory objects and an own object implemented by an Instance, the datagram-level
# core, the asyncio UDP adapter, events.
VENDOR_SCRIPT = '''
from __future__ import annotations

import asyncio
import random

from lwm2m_client import (
    ClientConfig,
    ClientCore,
    Instance,
    ObjectTree,
    Tuning,
    UdpClient,
    add_device,
    add_security,
    add_server,
    attach,
    events,
    obj,
    resource,
    shipped_objects,
    types,
)
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.content import CF_SENML_CBOR, formats
from lwm2m_client.core.dm.path import parse_path, path_str

VALVE = obj(32769, "Valve", [resource(0, "Open", "Boolean", "RW", mandatory=True),
                             resource(1, "Flow", "Float", "R", units="l/min"),
                             resource(2, "Flush", None, "E")])


class Valve(Instance):
    reads = (1,)
    executes = (2,)

    def __init__(self) -> None:
        self.flushes = 0

    def read(self, rid: int) -> float:
        return 12.5 if self.tree.get((self.oid, self.iid, 0)) else 0.0

    def execute(self, rid: int, args: list[tuple[int, str | None]]) -> None:
        self.flushes += 1


def build_tree(uri: str) -> ObjectTree:
    tree = ObjectTree([shipped_objects()[oid] for oid in (0, 1, 3)] + [VALVE])
    add_security(tree, 0, uri, ssid=1)
    add_server(tree, 0, 1, lifetime=300, binding="UQ")
    add_device(tree, "ACME", "V-9", "SN-1", "1.0", reboot=lambda: None)
    iid: int = attach(tree, VALVE.oid, 0, Valve(), values={0: True})
    tree.set((3, 0, 9), 80)
    tree.set((3, 0, 6), {0: 1, 1: 5})
    tree.on_read((3, None, 10), lambda path: 3300)
    tree.on_execute((VALVE.oid, iid, 2), lambda path, args: None)
    tree.on_write((VALVE.oid,), lambda path, value: None)
    level: int | None = tree.type_of(parse_path("/3/0/9"))
    assert level == types.T_INTEGER
    records = tree.read((3, 0))
    codec = formats.codec(CF_SENML_CBOR)
    assert codec is not None
    buf = bytearray(512)
    codec.encode_into(buf, records, (3, 0))
    changed: list[tuple[int, ...]] = tree.drain_changes()
    print([path_str(p) for p in changed])
    return tree


def build_core(tree: ObjectTree) -> ClientCore:
    config = ClientConfig("valve-1", version="1.2", tuning=Tuning(ack_timeout=500),
                          block_size=256)
    core = ClientCore(config, tree, random.Random(7))
    for ssid, uri, addr in core.accounts():
        core.set_address(ssid, ("127.0.0.1", 5683))
    core.start(0)
    for data, addr in core.datagrams_to_send():
        msg = m.decode(data)
        assert msg.code == m.POST and msg.uri_path == "/rd"
    deadline: int | None = core.get_timer()
    if deadline is not None:
        core.handle_timer(deadline)
    core.resource_changed((3, 0, 9), 0)
    event = core.next_event()
    if isinstance(event, events.Registered):
        print(event.ssid, "/".join(event.location or []))
    return core


async def main(uri: str) -> None:
    client = UdpClient(build_core(build_tree(uri)))
    await client.start()
    registered = await client.wait_for(events.Registered)
    print(registered)
    await client.stop()


if __name__ == "__main__":
    asyncio.run(main("coap://127.0.0.1:5683"))
'''

# Type errors a vendor could make; the stubs must catch each one (the line's comment
# names what mypy has to say about it).
WRONG_SCRIPT = '''
from lwm2m_client import ClientConfig, ClientCore, ObjectTree, add_server

tree = ObjectTree()
tree.set("/3/0/9", 80)  # E: "set" of "InstanceStore"
tree.create_instance(3, values={0: None})  # E: Dict entry 0 has incompatible type
add_server(tree, 0, ssid="1")  # E: "add_server"
config = ClientConfig(endpoint=42)  # E: "ClientConfig"
core = ClientCore(config, tree, rng=42)  # E: "ClientCore"
core.start()  # E: Missing positional argument "now_ms"
when: str = core.get_timer()  # E: Incompatible types in assignment
'''

_ERROR = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): error: (?P<text>.*)$", re.M)


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mypy_cache")


def run_mypy(cache: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # From the project root: its pyproject.toml configures mypy, and the package is found
    # there whatever way it was installed.
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(cache), "--no-color-output",
         "--show-error-codes", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )


def check_script(cache: Path, tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    """Check ``source`` the way a user would, with --strict; the package's own modules
    are analysed for the types they provide but their findings are not the user's."""
    script = tmp_path / "vendor_script.py"
    script.write_text(textwrap.dedent(source))
    return run_mypy(cache, "--strict", "--follow-imports=silent", str(script))


def test_package_type_checks(mypy_cache: Path) -> None:
    run = run_mypy(mypy_cache, "lwm2m_client")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Success: no issues found" in run.stdout


def test_vendor_script_type_checks(mypy_cache: Path, tmp_path: Path) -> None:
    run = check_script(mypy_cache, tmp_path, VENDOR_SCRIPT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Success: no issues found in 1 source file" in run.stdout


def test_stubs_reject_wrong_types(mypy_cache: Path, tmp_path: Path) -> None:
    source = textwrap.dedent(WRONG_SCRIPT)
    run = check_script(mypy_cache, tmp_path, source)
    assert run.returncode == 1, run.stdout + run.stderr
    found: dict[int, list[str]] = {}
    for match in _ERROR.finditer(run.stdout):
        found.setdefault(int(match["line"]), []).append(match["text"])
    expected = {
        number: line.split("# E: ", 1)[1]
        for number, line in enumerate(source.splitlines(), 1)
        if "# E: " in line
    }
    assert set(found) == set(expected), run.stdout
    for number, text in expected.items():
        assert any(text in message for message in found[number]), (number, found[number])


def test_every_core_module_has_a_stub() -> None:
    """mypy reads a stub instead of its module; a module without one would be checked as
    unannotated code (and fail the strict settings pyproject.toml sets for the core)."""
    missing = [
        str(module.relative_to(ROOT))
        for module in sorted(CORE.rglob("*.py"))
        if not module.with_suffix(".pyi").exists() and not _docstring_only(module)
    ]
    assert missing == []


def _docstring_only(module: Path) -> bool:
    """A package marker with at most a docstring has no API to type."""
    body = ast.parse(module.read_text()).body
    return all(isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
               for node in body)
