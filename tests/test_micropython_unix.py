"""The core under the real MicroPython unix port, built by .ci/setup.sh from
../shared/micropython (MicroPython 1.28.0), in four builds:

- ``standard``: 64-bit, double-precision float;
- ``std32``: 32-bit (a microcontroller's word size), double precision;
- ``float32``: 32-bit, single-precision float (like ESP32, RP2, STM32);
- ``frozen``: 32-bit with the device side of lwm2m_client frozen into the firmware
  (.ci/unix_frozen_manifest.py); the scripts import it from the image, nothing else.

Every top-level ``test_*`` function of every ``tests/mp/mp_*.py`` script becomes one pytest
test per build, run by tests/mp/run_unix.py (all scripts in one interpreter per build). The
``mpy-cross`` built from the same source compiles every file of the ``core`` and ``mp``
parts, and a lib folder of those ``.mpy`` files runs a script on the std32 build.

Missing builds skip these tests, except under CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from run_unix import DriverRun, collect_mp_tests, frozen_image_stale, run_command
from test_micropython import check_demo_results

from lwm2m_client import mptools

pytestmark = pytest.mark.micropython

ROOT = Path(__file__).resolve().parent.parent
MP_DIR = ROOT / "tests" / "mp"
RUNNER = MP_DIR / "run_unix.py"
UNIX = ROOT / ".mp" / "unix"
MPY_CROSS = UNIX / "mpy-cross"
CORE = ROOT / "lwm2m_client" / "core"
VARIANTS = ("standard", "std32", "float32", "frozen")
RUN_TIMEOUT_S = 300  # generous: a whole run takes well under a second today

MP_TESTS = collect_mp_tests(MP_DIR)


def unix_params() -> list:
    return [
        pytest.param(variant, script, func, id=f"{variant}-{script}.{func}")
        for variant in VARIANTS
        for script, func in MP_TESTS
    ]


def missing(what: str) -> None:
    """Skip for a missing build, but fail under CI, which must have built it."""
    message = f"{what}; build it with: bash .ci/setup.sh"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI=true: CI must run with every MicroPython build)")
    pytest.skip(message)


def micropython(variant: str) -> Path:
    path = UNIX / variant / "micropython"
    if not os.access(path, os.X_OK):
        missing(f"MicroPython unix build {variant!r} not found at {path}")
    return path


def mpy_cross() -> Path:
    if not os.access(MPY_CROSS, os.X_OK):
        missing(f"mpy-cross built from the MicroPython source not found at {MPY_CROSS}")
    return MPY_CROSS


def run_unix(binary: Path, *args: str, repo: Path = ROOT) -> DriverRun:
    cmd = [sys.executable, str(RUNNER), "--micropython", str(binary), "--repo", str(repo),
           *args]
    return run_command(cmd, RUN_TIMEOUT_S)


class Runs:
    """One driver run per build, made when a test first asks for it."""

    def __init__(self) -> None:
        self._runs: dict[str, DriverRun] = {}

    def get(self, variant: str) -> DriverRun:
        binary = micropython(variant)
        if variant not in self._runs:
            args = ("--frozen",) if variant == "frozen" else ()
            self._runs[variant] = run_unix(binary, *args)
        return self._runs[variant]


@pytest.fixture(scope="module")
def unix_runs() -> Runs:
    return Runs()


@pytest.mark.parametrize("variant,script,func", unix_params())
def test_under_micropython_unix(unix_runs: Runs, variant: str, script: str, func: str) -> None:
    failure = unix_runs.get(variant).failure(script, func, f"MicroPython unix {variant}")
    if failure is not None:
        pytest.fail(failure)


@pytest.mark.parametrize("variant", VARIANTS)
def test_unix_driver_summary(unix_runs: Runs, variant: str) -> None:
    run = unix_runs.get(variant)
    assert run.summary_problems([f"{s}.{f}" for s, f in MP_TESTS]) == []
    assert run.summary is not None and "MicroPython v1.28.0" in run.summary["micropython"]
    if variant == "frozen":
        # A frozen module's __file__ has no folder in front; its package's path is
        # ".frozen/..." (MicroPython 1.28).
        assert run.summary["lwm2m_client"] == "lwm2m_client/core/errors.py"
        assert run.summary["package_path"] == ".frozen/lwm2m_client"
    else:
        assert run.summary["lwm2m_client"] == str(CORE / "errors.py")


# 64-bit words?  1.0 + 2**-30 == 1.0 (below single precision's epsilon, not double's)?
# 1e300 * 10 (beyond single precision's range already as a literal)?
BUILD_FACTS = "import sys; print(sys.maxsize > 2**32, 1.0 + 2**-30 == 1.0, 1e300 * 10)"


@pytest.mark.parametrize(
    "variant,expected",
    [
        ("standard", "True False 1e+301"),
        ("std32", "False False 1e+301"),
        ("float32", "False True inf"),
        ("frozen", "False False 1e+301"),
    ],
)
def test_builds_are_what_their_names_say(variant: str, expected: str) -> None:
    binary = micropython(variant)
    out = subprocess.run([str(binary), "-c", BUILD_FACTS], capture_output=True, text=True,
                         timeout=30, env={**os.environ, "MICROPYPATH": ""})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == expected


def test_frozen_image_is_current() -> None:
    """The frozen tests run what is in the image; that must be what is in the tree."""
    binary = micropython("frozen")
    stale = frozen_image_stale(binary.resolve(), ROOT)
    assert not stale, (
        "the frozen build predates changes to "
        + ", ".join(str(p.relative_to(ROOT)) for p in stale)
        + "; rebuild it with: bash .ci/setup.sh"
    )


# --- the driver itself ---------------------------------------------------------------------

def throwaway_repo(tmp_path: Path, scripts: dict[str, str]) -> Path:
    """A repository with the real core and the given tests/mp scripts."""
    pkg = tmp_path / "lwm2m_client"
    shutil.copytree(CORE, pkg / "core", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "lwm2m_client" / "__init__.py", pkg / "__init__.py")
    mp_dir = tmp_path / "tests" / "mp"
    mp_dir.mkdir(parents=True)
    for name, text in scripts.items():
        (mp_dir / name).write_text(text)
    return tmp_path


DEMO = (
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


def test_unix_driver_reports_every_failure_and_keeps_going(tmp_path: Path) -> None:
    """Failures, an import error, a crash of the interpreter, and tests after each."""
    repo = throwaway_repo(tmp_path, {
        "helper_values.py": "CODE = 0x84\n",
        "mp_demo.py": DEMO,
        "mp_broken.py": "import no_such_module\n",
        # The shell's parent is the interpreter: it dies of SIGKILL in the middle of a test.
        "mp_crash.py": (
            "import os\n"
            "def test_before():\n"
            "    pass\n"
            "def test_kill():\n"
            "    os.system('kill -9 $PPID')\n"
            "def test_after():\n"
            "    pass\n"
        ),
    })
    run = run_unix(micropython("std32"), repo=repo)
    assert run.returncode == 1, run.diagnostics()
    check_demo_results(run)
    assert "interpreter exit status -9" in str(run.results["mp_crash.test_kill"])
    assert run.results["mp_crash.test_before"] is None
    assert run.results["mp_crash.test_after"] is None  # a new interpreter went on
    order = [line.split()[1].rstrip(":") for line in run.stdout.splitlines()
             if line.startswith(("PASS ", "FAIL "))]
    assert order == [
        "mp_broken",
        "mp_crash.test_before",
        "mp_crash.test_kill",
        "mp_crash.test_after",
        "mp_demo.test_a_passes",
        "mp_demo.test_b_fails",
        "mp_demo.test_c_raises",
        "mp_demo.test_d_passes_after_failures",
    ]
    assert run.summary is not None and (run.summary["passed"], run.summary["failed"]) == (4, 4)
    assert "[mp] printed output goes to stderr" in run.stderr
    # Naming scripts runs only those.
    only = run_unix(micropython("std32"), "mp_demo", repo=repo)
    assert set(only.results) == {n for n in run.results if n.startswith("mp_demo.")}


def test_unix_driver_stops_a_hung_interpreter(tmp_path: Path) -> None:
    repo = throwaway_repo(tmp_path, {
        "mp_hang.py": "def test_first():\n    pass\ndef test_hang():\n    while True:\n"
                      "        pass\ndef test_never():\n    pass\n",
    })
    run = run_unix(micropython("std32"), "--timeout", "2", repo=repo)
    assert run.returncode == 1, run.diagnostics()
    assert run.results["mp_hang.test_first"] is None
    assert "killed after 2 s" in str(run.results["mp_hang.test_hang"])
    assert "mp_hang.test_never" not in run.results  # no restart after a timeout


def test_unix_driver_refuses_lwm2m_client_from_elsewhere(tmp_path: Path) -> None:
    """--frozen needs the package in the image; --lib DIR needs it from DIR."""
    not_frozen = run_unix(micropython("std32"), "--frozen")
    assert not_frozen.returncode == 2
    assert "cannot import lwm2m_client" in not_frozen.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    # The frozen build finds it in its image (".frozen" stays on the path) instead.
    wrong = run_unix(micropython("frozen"), "--lib", str(empty))
    assert wrong.returncode == 2
    assert "came from lwm2m_client/core/errors.py" in wrong.stderr, wrong.stderr


# --- mpy-cross from the same source ----------------------------------------------------------

def package_files(part: str) -> list[str]:
    with open(ROOT / f"package-{part}.json", encoding="utf-8") as f:
        return [src for _dest, src in json.load(f)["urls"]]


DEVICE_FILES = package_files("core") + package_files("mp")


@pytest.mark.parametrize("rel", DEVICE_FILES)
def test_source_built_mpy_cross_compiles(rel: str, tmp_path: Path) -> None:
    out = tmp_path / "out.mpy"
    proc = subprocess.run([str(mpy_cross()), "-o", str(out), str(ROOT / rel)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert out.read_bytes()[:2] == b"M\x06"  # .mpy magic and format version 6


def test_mpy_lib_runs_on_std32(tmp_path: Path) -> None:
    """.mpy files from the source-built mpy-cross, imported instead of any .py file."""
    binary = micropython("std32")
    lib = tmp_path / "lib"
    assert mptools.default_mpy_cross() == MPY_CROSS
    written = mptools.build_lib(lib, ("core",), mpy=True)
    assert written and all(p.suffix == ".mpy" for p in written)
    assert not list(lib.rglob("*.py"))
    run = run_unix(binary, "--lib", str(lib), "mp_client")
    assert run.returncode == 0, run.diagnostics()
    assert run.summary is not None and run.summary["lwm2m_client"] == str(
        lib / "lwm2m_client" / "core" / "errors.mpy")
    assert run.results and all(err is None for err in run.results.values()), run.results
