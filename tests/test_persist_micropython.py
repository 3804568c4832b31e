"""lwm2m_client.persist under real MicroPython: tests/mp/unix_persist.py on every unix
build (standard, std32, float32, and frozen, where the module comes from the firmware
image), on the WebAssembly port (an in-memory file system) and, as a cross-check, on
CPython. One pytest test per build and test function of the script.

The unix builds come from .ci/setup.sh (missing ones skip, or fail under CI=true, as in
tests/test_micropython_unix.py); the WebAssembly port from npm, found as
tests/test_micropython.py finds it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from run_unix import script_tests
from test_micropython import PACKAGE, find_micropython_npm, npm_candidates
from test_micropython_unix import VARIANTS, micropython

pytestmark = pytest.mark.micropython

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tests" / "mp" / "unix_persist.py"
MP_DIR = ROOT / "tests" / "mp"
TESTS = script_tests(SCRIPT)
TIMEOUT_S = 300  # generous: the script takes well under a second


class Outcome:
    """What one run of the script reported: per test None (passed) or the failure."""

    def __init__(self, output: str, returncode: int | None):
        self.output = output
        self.returncode = returncode
        self.results: dict[str, str | None] = {}
        self.skip: str | None = None
        self.origin: str | None = None
        self.counts: tuple[int, int] | None = None
        name = ""
        for line in output.splitlines():
            if line.startswith("PASS "):
                self.results[line[5:]] = None
            elif line.startswith("FAIL "):
                name, _, first = line[5:].partition(": ")
                self.results[name] = first
            elif line.startswith("  | ") and name in self.results:
                self.results[name] = f"{self.results[name]}\n{line[4:]}"
            elif line.startswith("PERSIST-SKIP "):
                self.skip = line[len("PERSIST-SKIP "):]
            elif line.startswith("PERSIST-DONE "):
                passed, failed, self.origin = line.split(" ", 3)[1:]
                self.counts = (int(passed), int(failed))

    def check(self, name: str, where: str) -> None:
        if self.skip is not None:
            pytest.skip(f"{where}: {self.skip}")
        tail = "\n".join(self.output.splitlines()[-15:])
        assert name in self.results, f"{name} was not run under {where}:\n{tail}"
        if self.results[name] is not None:
            pytest.fail(f"{name} failed under {where}:\n{self.results[name]}")


def run_unix(variant: str, work: Path) -> Outcome:
    binary = micropython(variant)
    # MICROPYPATH replaces the whole default path: the frozen build gets only its image
    # (and tests/mp for mpcheck), so lwm2m_client.persist must come from the firmware.
    path = [".frozen", str(MP_DIR)] if variant == "frozen" else [str(ROOT), str(MP_DIR)]
    env = {**os.environ, "MICROPYPATH": os.pathsep.join(path)}
    try:
        proc = subprocess.run([str(binary), str(SCRIPT), str(work / "store")], cwd=work,
                              env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired as e:
        return Outcome(str(e.stdout or ""), None)
    return Outcome(proc.stdout + proc.stderr, proc.returncode)


# Loads the WebAssembly port, copies the package (root module, core, persist.py) and
# the scripts into its file system, and runs the script's main() there.
WASM_DRIVER = r"""
import fs from "node:fs";
import path from "node:path";
import url from "node:url";
const [entry, repo, work] = process.argv.slice(2);
const { loadMicroPython } = await import(url.pathToFileURL(entry).href);
const out = [];
const mp = await loadMicroPython({ stdout: (l) => out.push(l), stderr: (l) => out.push(l) });
function copy(host, vm) {
  mp.FS.mkdirTree(path.posix.dirname(vm));
  mp.FS.writeFile(vm, fs.readFileSync(host));
}
function tree(rel) {
  for (const ent of fs.readdirSync(path.join(repo, rel), { withFileTypes: true })) {
    const sub = path.posix.join(rel, ent.name);
    if (ent.isDirectory() && ent.name !== "__pycache__") tree(sub);
    else if (ent.name.endsWith(".py")) copy(path.join(repo, sub), "/lib/" + sub);
  }
}
copy(path.join(repo, "lwm2m_client/__init__.py"), "/lib/lwm2m_client/__init__.py");
copy(path.join(repo, "lwm2m_client/persist.py"), "/lib/lwm2m_client/persist.py");
tree("lwm2m_client/core");
for (const name of ["unix_persist.py", "mpcheck.py"]) {
  copy(path.join(repo, "tests/mp", name), "/mp_tests/" + name);
}
try {
  mp.runPython(
    "import sys\nsys.path.insert(0, '/mp_tests')\nimport unix_persist\n" +
    `unix_persist.main(${JSON.stringify(work)})`);
} catch (err) {
  out.push(`FAIL setup: ${err.message}`);
}
console.log(out.join("\n"));
"""


@pytest.fixture(scope="module")
def outcomes() -> dict[str, Outcome]:
    """One run per interpreter, made when a test first asks for it."""
    return {}


def outcome(outcomes: dict[str, Outcome], where: str, tmp: Path) -> Outcome:
    if where not in outcomes:
        if where == "wasm":
            outcomes[where] = run_wasm(tmp)
        elif where == "cpython":
            outcomes[where] = run_cpython(tmp)
        else:
            outcomes[where] = run_unix(where, tmp)
    return outcomes[where]


def run_wasm(work: Path) -> Outcome:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not on PATH (needed to run the MicroPython WebAssembly port)")
    npm = find_micropython_npm()
    if npm is None:
        where = ", ".join(map(str, npm_candidates()))
        pytest.skip(f"{PACKAGE} not found in {where}")
    driver = work / "run_persist.mjs"
    driver.write_text(WASM_DRIVER)
    entry = npm / PACKAGE / "micropython.mjs"
    proc = subprocess.run([node, str(driver), str(entry), str(ROOT), "/persist-test"],
                          capture_output=True, text=True, timeout=TIMEOUT_S)
    return Outcome(proc.stdout + proc.stderr, proc.returncode)


def run_cpython(work: Path) -> Outcome:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(MP_DIR)])}
    proc = subprocess.run([sys.executable, str(SCRIPT), str(work / "store")], cwd=work,
                          env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    return Outcome(proc.stdout + proc.stderr, proc.returncode)


WHERE = (*VARIANTS, "wasm", "cpython")


@pytest.mark.parametrize("where,name", [(w, n) for w in WHERE for n in TESTS],
                         ids=[f"{w}-{n}" for w in WHERE for n in TESTS])
def test_persist_under(outcomes: dict[str, Outcome], tmp_path: Path, where: str,
                       name: str) -> None:
    outcome(outcomes, where, tmp_path).check(name, where)


@pytest.mark.parametrize("where", WHERE)
def test_every_test_ran_and_the_module_came_from_the_right_place(
        outcomes: dict[str, Outcome], tmp_path: Path, where: str) -> None:
    run = outcome(outcomes, where, tmp_path)
    if run.skip is not None:
        pytest.skip(f"{where}: {run.skip}")
    assert run.counts is not None, run.output[-2000:]
    assert set(run.results) == set(TESTS), json.dumps(run.results, indent=1)
    failed = sum(1 for err in run.results.values() if err is not None)
    assert run.counts == (len(TESTS) - failed, failed)
    if where != "wasm":  # the WebAssembly driver does not pass main()'s status on
        assert run.returncode == (1 if failed else 0)
    if where == "frozen":
        # A frozen module's __file__ is its path inside the image, without a folder.
        assert run.origin == "lwm2m_client/persist.py"
    elif where == "wasm":
        assert run.origin == "/lib/lwm2m_client/persist.py"
    else:
        assert run.origin == str(ROOT / "lwm2m_client" / "persist.py")
