"""Runs the tests/mp/mp_*.py scripts under a MicroPython unix port binary (CPython script).

Usage: python tests/mp/run_unix.py --micropython BIN [--repo DIR] [--frozen | --lib DIR]
                                   [--timeout S] [mp_name ...]
       python tests/mp/run_unix.py --micropython BIN --check-frozen-current

--micropython  the unix port binary (e.g. .mp/unix/std32/micropython, made by .ci/setup.sh)
--repo         the project root (default: two levels above this file)
--frozen       import lwm2m_client from the binary's frozen image: neither the project root
               nor any folder holding lwm2m_client goes on MICROPYPATH, and the run fails
               unless the package really came from the image
--lib DIR      import lwm2m_client from DIR (e.g. a folder of .mpy files made by
               lwm2m_client.mptools.build_lib) instead of the project root
--timeout      seconds one interpreter process may take (default 300)
mp_name        only run these scripts (file stems, e.g. mp_tlv); default: every mp_*.py
--check-frozen-current  run nothing; exit 1 (listing them) if files the frozen build
               freezes changed after BIN was built, else 0 (.ci/setup.sh rebuilds then)

The output is that of tests/mp/run_mp.mjs (the WebAssembly port's driver), so one parser
(:class:`DriverRun`) reads both: one line per test,

  PASS mp_x.test_y
  FAIL mp_x.test_y: <exception>        followed by the traceback, each line indented "  | "

and last "MP-SUMMARY <json>" with the counts and, per test, null (passed) or the traceback
text; here the summary also names the ``binary`` and where ``lwm2m_client`` came from
(``lwm2m_client``: the ``__file__`` of ``lwm2m_client.core.errors``; frozen modules have a
path without a leading "/", their package's ``__path__`` starts with ".frozen"). An import
failure of a script is reported under "mp_x" alone. Whatever the scripts print goes to
stderr, each line prefixed "[mp] ". Exit status: 0 when everything passed, 1 when anything
failed, 2 when the interpreter could not be set up (lwm2m_client not importable, or not
from where it should come) or stopped outside any test.

All scripts run in one interpreter process, one test function at a time in definition order
(the names come from :func:`script_tests`, the same reading of the scripts that makes the
pytest items). If the process dies (a crash of the interpreter), the test it was running is
reported failed and a new process carries on with the tests after it; a process killed for
its timeout is not restarted.

The module also holds what the pytest side shares between the WebAssembly and the unix
port: :func:`script_tests`, :func:`collect_mp_tests`, :class:`DriverRun` and
:func:`run_command`.
"""

from __future__ import annotations

import argparse
import ast
import glob
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_TIMEOUT_S = 300.0


# --- shared with tests/test_micropython.py -------------------------------------------------


def script_tests(script: Path) -> list[str]:
    """Names of the top-level ``test_*`` functions of ``script``, in definition order."""
    tree = ast.parse(script.read_text(encoding="utf-8"), str(script))
    return [
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    ]


def mp_scripts(mp_dir: Path = HERE) -> list[Path]:
    return sorted(mp_dir.glob("mp_*.py"))


def collect_mp_tests(mp_dir: Path = HERE) -> list[tuple[str, str]]:
    """``(script stem, function name)`` of every test of every ``mp_*.py`` script."""
    return [(script.stem, name) for script in mp_scripts(mp_dir) for name in script_tests(script)]


class DriverRun:
    """What one run of a driver (run_mp.mjs or this script) reported.

    ``results`` maps ``"mp_x.test_y"`` (or ``"mp_x"`` for an import failure) to None when
    it passed and to the failure text otherwise. It is read from the PASS/FAIL lines, so
    the tests that finished before a timeout still report their own outcome.
    """

    def __init__(self, returncode: int | None, stdout: str, stderr: str, note: str = ""):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.note = note
        self.results: dict[str, str | None] = {}
        self.summary: dict | None = None
        current: list[str] | None = None
        name = ""
        for line in stdout.splitlines():
            if line.startswith("PASS "):
                self.results[line[5:]] = None
                current = None
            elif line.startswith("FAIL "):
                name, _, first = line[5:].partition(": ")
                current = [first]
                self.results[name] = first
            elif line.startswith("  | ") and current is not None:
                current.append(line[4:])
                self.results[name] = "\n".join(current[1:]) or current[0]
            elif line.startswith("MP-SUMMARY "):
                self.summary = json.loads(line[len("MP-SUMMARY "):])
                current = None

    def diagnostics(self) -> str:
        note = f" ({self.note})" if self.note else ""
        out = "\n".join(self.stdout.splitlines()[-20:])
        err = "\n".join(self.stderr.splitlines()[-20:])
        return (
            f"driver exit status {self.returncode!r}{note}\n"
            f"--- stdout (tail)\n{out}\n--- stderr (tail)\n{err}"
        )

    def failure(self, script: str, func: str, where: str) -> str | None:
        """Why ``script.func`` did not pass under ``where`` (None when it passed)."""
        name = f"{script}.{func}"
        if self.results.get(script) is not None:
            return f"{script} does not import under {where}:\n{self.results[script]}"
        if name not in self.results:
            return f"{name} was not run under {where}\n{self.diagnostics()}"
        if self.results[name] is not None:
            return f"{name} failed under {where}:\n{self.results[name]}"
        return None

    def summary_problems(self, expected: list[str]) -> list[str]:
        """How the summary line disagrees with the PASS/FAIL lines, the exit status and the
        ``expected`` test names (``"mp_x.test_y"``, as the scripts define them)."""
        if self.summary is None:
            return ["no MP-SUMMARY line\n" + self.diagnostics()]
        problems = []
        if "MicroPython v1." not in self.summary["micropython"]:
            problems.append(f"version {self.summary['micropython']!r}")
        if self.summary["results"] != self.results:
            problems.append("summary results differ from the PASS/FAIL lines")
        failed = sum(1 for err in self.results.values() if err is not None)
        counts = (self.summary["passed"], self.summary["failed"])
        if counts != (len(self.results) - failed, failed):
            problems.append(f"summary counts {counts}, lines {len(self.results) - failed, failed}")
        if self.returncode != (1 if failed else 0):
            problems.append(f"exit status {self.returncode} with {failed} failed")
        # Every test function found by reading the scripts was run (or its script failed to
        # import), and the interpreter found no test the scripts do not define.
        ran = {n for n in self.results if "." in n}
        want = {n for n in expected if n.partition(".")[0] not in self.results}
        if ran != want:
            problems.append(f"ran but not defined: {sorted(ran - want)}; "
                            f"defined but not run: {sorted(want - ran)}")
        return problems


def run_command(cmd: list[str], timeout: float, env: dict[str, str] | None = None) -> DriverRun:
    """Run a driver command and read what it reported."""
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
        return DriverRun(None, out, err, f"killed after {timeout:g} s")
    return DriverRun(proc.returncode, proc.stdout, proc.stderr)


def frozen_inputs(repo: Path) -> list[Path]:
    """The files the frozen build freezes, as the repository's manifest.py reads them (the
    ``urls`` of package-*.json), with the manifests themselves and the example meter's
    module, which .ci/unix_frozen_manifest.py adds."""
    inputs = [repo / "manifest.py", repo / ".ci" / "unix_frozen_manifest.py",
              repo / "examples" / "mp_meter.py"]
    for package in sorted(glob.glob(str(repo / "package-*.json"))):
        inputs.append(Path(package))
        with open(package, encoding="utf-8") as f:
            inputs.extend(repo / src for _dest, src in json.load(f)["urls"])
    return inputs


def frozen_image_stale(binary: Path, repo: Path) -> list[Path]:
    """Files frozen into ``binary`` that changed after it was built."""
    built = binary.stat().st_mtime
    return [p for p in frozen_inputs(repo) if p.exists() and p.stat().st_mtime > built]


# --- the driver -----------------------------------------------------------------------------

# Runs inside MicroPython, in a work folder holding plan.txt (the expected origin of
# lwm2m_client, "frozen" or a folder, then one "stem:name,name,..." line per script) and
# done.txt (names already reported). Every record goes to results.jsonl as one JSON line,
# written before ("start") and after ("name") each test. (Files, not argv: the unix port
# of MicroPython 1.28 dies with "FATAL: uncaught NLR" on an argument of 256 bytes or more.)
MP_DRIVER = r'''
import sys, io, json

def _record(out, **fields):
    out.write(json.dumps(fields) + "\n")
    out.flush()

def _error(e):
    buf = io.StringIO()
    sys.print_exception(e, buf)
    return buf.getvalue().rstrip("\n")

def _origin(want):
    import lwm2m_client
    from lwm2m_client.core import errors
    where = errors.__file__
    path = lwm2m_client.__path__
    if want == "frozen":
        ok = not where.startswith("/") and path.startswith(".frozen")
    else:
        ok = where.startswith(want + "/")
    return where, path, ok

def _main():
    out = open("results.jsonl", "a")
    with open("done.txt") as f:
        done = set(f.read().split())
    with open("plan.txt") as f:
        plan = f.read().split("\n")
    try:
        where, path, ok = _origin(plan[0])
    except BaseException as e:
        _record(out, setup=_error(e))
        return
    _record(out, version=sys.version, lwm2m_client=where, package_path=path, origin_ok=ok)
    if not ok:
        return
    for item in plan[1:]:
        if not item:
            continue
        stem, _, names = item.partition(":")
        order = [n for n in names.split(",") if n]
        if stem not in done:
            _record(out, start=stem)
        try:
            mod = __import__(stem)
        except BaseException as e:
            if stem not in done:
                _record(out, name=stem, error=_error(e))
            continue
        if stem not in done:
            _record(out, imported=stem)
        found = [k for k in dir(mod) if k.startswith("test_")
                 and type(getattr(mod, k)).__name__ == "function"]
        # Definition order as read from the source; names only the interpreter found last.
        extra = sorted([k for k in found if k not in order])
        for fn in [n for n in order if n in found] + extra:
            name = stem + "." + fn
            if name in done:
                continue
            _record(out, start=name)
            try:
                getattr(mod, fn)()
                err = None
            except BaseException as e:
                err = _error(e)
            _record(out, name=name, error=err)

_main()
'''


def squeeze(text: str) -> str:
    """Runs of one repeated line (deep recursion) shrink to the line and a count."""
    out: list[str] = []
    repeats = 0
    for line in text.split("\n"):
        if out and line == out[-1]:
            repeats += 1
            continue
        if repeats:
            out.append(f"  [previous line repeated {repeats} more times]")
        repeats = 0
        out.append(line)
    if repeats:
        out.append(f"  [previous line repeated {repeats} more times]")
    return "\n".join(out)


def report_lines(name: str, err: str | None) -> list[str]:
    if err is None:
        return [f"PASS {name}"]
    lines = err.split("\n")
    return [f"FAIL {name}: {lines[-1]}"] + [f"  | {line}" for line in lines]


class UnixRun:
    """One run of the scripts under one binary; :meth:`run` returns the exit status."""

    def __init__(self, binary: Path, repo: Path, scripts: list[Path], frozen: bool,
                 lib: Path | None, timeout: float):
        self.binary = binary
        self.repo = repo
        self.scripts = scripts
        self.frozen = frozen
        self.lib = lib
        self.timeout = timeout
        self.lines: list[str] = []
        self.results: dict[str, str | None] = {}  # what was reported
        self.done: set[str] = set()  # and the scripts that imported
        self.info: dict = {}

    def _env(self, work: Path) -> dict[str, str]:
        # MICROPYPATH replaces the interpreter's whole default path, ".frozen" included.
        mp_dir = str(self.repo / "tests" / "mp")
        if self.frozen:
            path = [".frozen", mp_dir, str(work)]
        else:
            path = [str(self.lib or self.repo), mp_dir, str(work), ".frozen"]
        env = dict(os.environ)
        env["MICROPYPATH"] = os.pathsep.join(path)
        return env

    def _process(self, work: Path, plan: list[str]) -> tuple[str, str]:
        """Start one interpreter on ``plan``; returns why it stopped early ("" if it did
        not) and what it printed."""
        (work / "done.txt").write_text("\n".join(sorted(self.done)))
        want = "frozen" if self.frozen else str(self.lib or self.repo)
        (work / "plan.txt").write_text("\n".join([want, *plan]))
        cmd = [str(self.binary), str(work / "_mp_driver.py")]
        try:
            proc = subprocess.run(cmd, cwd=work, env=self._env(work), capture_output=True,
                                  timeout=self.timeout)
        except subprocess.TimeoutExpired as e:
            return f"killed after {self.timeout:g} s", (e.stdout or b"").decode(
                errors="replace") + (e.stderr or b"").decode(errors="replace")
        printed = proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")
        if proc.returncode != 0:
            return f"interpreter exit status {proc.returncode}", printed
        return "", printed

    def _read(self, results_file: Path) -> str | None:
        """Take the new records; returns the test that started but did not finish."""
        running = None
        with open(results_file, encoding="utf-8") as f:
            records = [json.loads(line) for line in f if line.strip()]
        results_file.write_text("")
        for rec in records:
            if "setup" in rec:
                self.info["setup_error"] = rec["setup"]
            elif "version" in rec:
                self.info.update(rec)
            elif "start" in rec:
                running = rec["start"]
            elif "imported" in rec:
                self.done.add(rec["imported"])
                running = None
            else:
                self._report(rec["name"], rec["error"])
                running = None
        return running

    def _report(self, name: str, err: str | None) -> None:
        if err is not None:
            err = squeeze(err)
        self.results[name] = err
        self.done.add(name)
        self.lines.extend(report_lines(name, err))

    def run(self) -> int:
        started = time.monotonic()
        plan = {s.stem: f"{s.stem}:{','.join(script_tests(s))}" for s in self.scripts}
        printed_all: list[str] = []
        with tempfile.TemporaryDirectory(prefix="lwm2m-mp-") as tmp:
            work = Path(tmp)
            (work / "_mp_driver.py").write_text(MP_DRIVER)
            results_file = work / "results.jsonl"
            results_file.write_text("")
            while True:
                # A script that failed to import is not tried again.
                todo = [item for stem, item in plan.items() if stem not in self.results]
                stopped, printed = self._process(work, todo)
                printed_all.append(printed)
                running = self._read(results_file)
                if not stopped or not self.info.get("origin_ok", False):
                    break
                if running is None:
                    # Stopped outside any test: nothing to blame, nothing to resume.
                    self.info["stopped"] = stopped
                    break
                tail = "\n".join(printed.rstrip("\n").splitlines()[-10:])
                self._report(running, f"{stopped} while running {running}"
                             + (f"\n{tail}" if tail else "")
                             + f"\nInterpreterStopped: {stopped}")
                if stopped.startswith("killed"):
                    break
        for text in printed_all:
            for line in text.splitlines():
                sys.stderr.write(f"[mp] {line}\n")
        if "version" not in self.info and "setup_error" not in self.info:
            sys.stderr.write(f"run_unix: {self.binary} stopped before it reported anything"
                             f" ({stopped or 'no records'})\n")
            return 2
        if "setup_error" in self.info:
            sys.stderr.write(f"run_unix: cannot import lwm2m_client under {self.binary}:\n"
                             f"{self.info['setup_error']}\n")
            return 2
        if not self.info.get("origin_ok", False):
            sys.stderr.write(f"run_unix: lwm2m_client came from {self.info.get('lwm2m_client')}"
                             f" (package path {self.info.get('package_path')}), not from "
                             f"{'the frozen image' if self.frozen else self.lib or self.repo}\n")
            return 2
        failed = sum(1 for err in self.results.values() if err is not None)
        print(f"running {len(self.scripts)} scripts under {self.info['version']}")
        for line in self.lines:
            print(line)
        summary = {
            "micropython": self.info["version"],
            "binary": str(self.binary),
            "lwm2m_client": self.info["lwm2m_client"],
            "package_path": self.info["package_path"],
            "scripts": len(self.scripts),
            "passed": len(self.results) - failed,
            "failed": failed,
            "seconds": round(time.monotonic() - started, 3),
            "results": self.results,
        }
        if "stopped" in self.info:
            summary["stopped"] = self.info["stopped"]
        print(f"MP-SUMMARY {json.dumps(summary)}")
        if "stopped" in self.info:
            sys.stderr.write(f"run_unix: the interpreter stopped outside any test: "
                             f"{self.info['stopped']}\n")
            return 2
        return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--micropython", required=True, type=Path)
    parser.add_argument("--repo", type=Path, default=HERE.parent.parent)
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--frozen", action="store_true")
    where.add_argument("--lib", type=Path)
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S)
    parser.add_argument("--check-frozen-current", action="store_true",
                        help="only check that the frozen image is newer than what it freezes")
    parser.add_argument("only", nargs="*")
    args = parser.parse_args(argv)
    repo = args.repo.resolve()
    binary = args.micropython.resolve()
    if args.check_frozen_current:
        stale = frozen_image_stale(binary, repo)
        for path in stale:
            print(f"changed since {binary} was built: {path.relative_to(repo)}")
        return 1 if stale else 0
    if not os.access(binary, os.X_OK):
        sys.stderr.write(f"run_unix: {binary} is not an executable\n")
        return 2
    scripts = [s for s in mp_scripts(repo / "tests" / "mp")
               if not args.only or s.stem in args.only]
    lib = args.lib.resolve() if args.lib else None
    return UnixRun(binary, repo, scripts, args.frozen, lib, args.timeout).run()


if __name__ == "__main__":
    sys.exit(main())
