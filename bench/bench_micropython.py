"""The example meter's heap on MicroPython's unix port: live heap and smallest heap.

For each form the device side can take -- ``.py`` files, ``.mpy`` bytecode and modules
frozen into the firmware -- on the 32-bit build (a microcontroller's word size), runs
``bench/mp_heap_probe.py`` (the meter of ``examples/mp_meter.py``, registered through its
sans-IO core, then a DM round) and reports the live heap after import, after registration
and after the DM round (``gc.mem_alloc()`` after ``gc.collect()``), the smallest
``-X heapsize`` under which it still works (bisection, 1 KiB steps) and the time per
Read of /10243/0 as SenML CBOR inside the core (``time.ticks_us``; no socket).

Run: ``python bench/bench_micropython.py`` after ``bash .ci/setup.sh`` (which builds the
unix port variants into ``.mp/unix/``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lwm2m_client import mptools  # noqa: E402

UNIX = ROOT / ".mp" / "unix"
PROBE = ROOT / "bench" / "mp_heap_probe.py"


def run(binary: Path, lib: str, heap_kib: int | None, reads: int = 200) -> str | None:
    """The probe's output, or None when it failed (out of memory, most likely)."""
    cmd = [str(binary)]
    if heap_kib is not None:
        cmd += ["-X", f"heapsize={heap_kib}k"]
    cmd += [str(PROBE), str(reads)]
    # MICROPYPATH replaces the whole default path: the frozen modules need ".frozen"
    # (first, so the frozen build's own mp_meter module is the one imported).
    path = f"{lib}:{ROOT / 'examples'}" if lib else f".frozen:{ROOT / 'examples'}"
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                            env={"MICROPYPATH": path, "PATH": os.environ.get("PATH", "")})
    if result.returncode != 0 or not result.stdout.rstrip().endswith("OK"):
        return None
    return result.stdout


def smallest_heap(binary: Path, lib: str, lo: int = 8, hi: int = 1024) -> int | None:
    """The smallest heap in KiB under which the probe works (bisection)."""
    if run(binary, lib, hi, reads=5) is None:
        return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if run(binary, lib, mid, reads=5) is None:
            lo = mid
        else:
            hi = mid
    return hi


def parse(out: str) -> dict[str, int]:
    figures = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "heap":
            figures[parts[1]] = int(parts[2])
        elif len(parts) == 2 and parts[0] == "latency_us":
            figures["latency_us"] = int(parts[1])
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", default="std32",
                        help="unix build for .py and .mpy (default: %(default)s)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        py_lib = Path(tmp) / "py"
        mpy_lib = Path(tmp) / "mpy"
        mptools.build_lib(py_lib)
        mptools.build_lib(mpy_lib, mpy=True)
        forms = [(".py", UNIX / args.variant / "micropython", str(py_lib)),
                 (".mpy", UNIX / args.variant / "micropython", str(mpy_lib)),
                 ("frozen", UNIX / "frozen" / "micropython", "")]
        print(f"{'form':8} {'import':>8} {'registered':>11} {'DM round':>9} "
              f"{'min heap':>9} {'read µs':>8}")
        for name, binary, lib in forms:
            if not binary.exists():
                print(f"{name:8} {binary} missing: run bash .ci/setup.sh")
                continue
            out = run(binary, lib, None)
            if out is None:
                print(f"{name:8} the probe failed")
                continue
            f = parse(out)
            least = smallest_heap(binary, lib)
            print(f"{name:8} {f['import'] / 1024:7.1f}K {f['registered'] / 1024:10.1f}K "
                  f"{f['dm_round'] / 1024:8.1f}K {least if least else '-':>8}K "
                  f"{f['latency_us']:8d}")
    print(f"MicroPython unix port, {args.variant} (32-bit) and frozen (32-bit); "
          f"host Python {sys.version.split()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
