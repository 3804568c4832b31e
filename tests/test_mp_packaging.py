"""The MicroPython device side as parts: mip package files, lib folders, the clock.

The clock and random source are plain Python and are checked here under CPython with
injected tick functions; the real ones run on the unix port (tests/test_mp_meter.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lwm2m_client import mptools
from lwm2m_client.cli import main
from lwm2m_client.mp.clock import Clock, UrandomRng

ROOT = Path(__file__).resolve().parents[1]


def test_mip_package_files_are_current():
    # `lwm2m-meter mp packages` writes them; a module added or removed without that
    # would make mip and freezing miss it.
    for name, text in mptools.package_texts().items():
        assert (ROOT / name).read_text() == text, f"{name} is stale: lwm2m-meter mp packages"


def test_parts_cover_the_device_side_and_nothing_else():
    core = set(mptools.part_files("core"))
    mp = set(mptools.part_files("mp"))
    models = set(mptools.part_files("models"))
    assert "lwm2m_client/core/client/engine.py" in core and "lwm2m_client/__init__.py" in core
    assert "lwm2m_client/mp/udp.py" in mp and models == {mptools.MODELS_MODULE}
    assert not core & mp and not (core | mp) & models
    every = core | mp | models
    assert not any(p.startswith(("lwm2m_client/aio", "lwm2m_client/server",
                                 "lwm2m_client/sim")) for p in every)
    urls = json.loads((ROOT / "package.json").read_text())["urls"]
    assert {dest for dest, _ in urls} == every


def test_manifest_freezes_the_package_files():
    frozen: list[str] = []

    class Options:
        parts = "core,mp,models"

        def defaults(self, **kw: str) -> None:
            pass

    namespace = {"options": Options(), "module": lambda path, base_path: frozen.append(path)}
    cwd = Path.cwd()
    try:
        import os

        os.chdir(ROOT)
        exec((ROOT / "manifest.py").read_text(), namespace)
    finally:
        os.chdir(cwd)
    assert sorted(frozen) == sorted(set(mptools.part_files("core")) |
                                    set(mptools.part_files("mp")) |
                                    {mptools.MODELS_MODULE})


@pytest.mark.parametrize("mpy", [False, True])
def test_lib_folder(tmp_path, mpy):
    out = tmp_path / "lib"
    written = mptools.build_lib(out, ("core",), mpy=mpy)
    suffix = ".mpy" if mpy else ".py"
    assert written and all(p.suffix == suffix and p.exists() for p in written)
    assert (out / "lwm2m_client" / "core" / "client" / f"engine{suffix}").exists()
    assert not (out / "lwm2m_client" / "mp").exists()


def test_cli_mp_lib_and_a_bad_part(tmp_path, capsys):
    assert main(["mp", "lib", str(tmp_path / "lib"), "--parts", "core,mp"]) == 0
    assert "MICROPYPATH=" in capsys.readouterr().out
    assert main(["mp", "lib", str(tmp_path / "x"), "--parts", "core,bogus"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown part 'bogus'" in err


def test_clock_survives_the_ticks_wrap_around():
    period = 1 << 30  # ticks_ms wraps here on most ports
    ticks = [period - 500]

    def ticks_diff(a: int, b: int) -> int:
        # time.ticks_diff: the signed difference modulo the period
        d = (a - b) & (period - 1)
        return d - period if d >= period // 2 else d

    clock = Clock(lambda: ticks[0], ticks_diff)
    assert clock.now_ms() == 0
    ticks[0] = (ticks[0] + 800) % period  # crosses the wrap
    assert clock.now_ms() == 800
    ticks[0] = (ticks[0] + 60000) % period
    assert clock.now_ms() == 60800
    ticks[0] = (ticks[0] - 5) % period  # a port whose ticks step back: never backwards
    assert clock.now_ms() == 60800


def test_urandom_rng_gives_the_bits_asked_for():
    rng = UrandomRng(lambda n: bytes([0xFF] * n))
    assert rng.getrandbits(16) == 0xFFFF and rng.getrandbits(3) == 7
    real = UrandomRng()
    assert len({real.getrandbits(32) for _ in range(20)}) > 15
