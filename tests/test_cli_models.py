"""`lwm2m-meter models ...` through main(argv), as a user runs it."""

import importlib.util
from pathlib import Path

import pytest

from lwm2m_client.cli import build_parser, main
from lwm2m_client.models import load_objects

REGISTRY = Path(__file__).resolve().parents[2] / "shared" / "lwm2m-registry"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_help_explains_each_command(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "models" in out
    code, out, _ = run(capsys, "models", "--help")
    assert code == 0 and all(v in out for v in ("list", "show", "compile"))
    code, out, _ = run(capsys, "models", "compile", "--help")
    assert code == 0 and "--descriptions" in out and "--registry" in out and "--from" in out
    assert build_parser().prog == "lwm2m-meter"


def test_list_shows_the_shipped_models(capsys):
    code, out, err = run(capsys, "models", "list")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "Name", "Version", "Instances", "Resources"]
    assert len(lines) == 1 + 16
    fw = next(line for line in lines if line.split()[0] == "5")
    assert fw.split() == ["5", "Firmware", "Update", "1.2", "single", "14"]


def test_list_from_a_directory(capsys, tmp_path):
    (tmp_path / "9.xml").write_text(Path(__file__).parents[1].joinpath(
        "object_models", "9.xml").read_text())
    code, out, _ = run(capsys, "models", "list", "--from", str(tmp_path))
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == ["ID", "9"]


def test_show_prints_a_table(capsys):
    code, out, err = run(capsys, "models", "show", "5")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].startswith("5 Firmware Update  version 1.2")
    header = next(line for line in lines if line.lstrip().startswith("ID"))
    assert header.split() == ["ID", "Name", "Ops", "Inst", "Mand", "Type", "Range", "Units"]
    state = next(line for line in lines if line.split()[:2] == ["3", "State"])
    assert state.split() == ["3", "State", "R", "single", "yes", "Integer", "0..3"]
    update = next(line for line in lines if line.split()[:2] == ["2", "Update"])
    assert update.split() == ["2", "Update", "E", "single", "yes", "none"]


def test_show_falls_back_to_the_registry(capsys):
    if not REGISTRY.is_dir():
        pytest.skip(f"OMA registry copy not found at {REGISTRY}")
    code, out, _ = run(capsys, "models", "show", "3303", "--registry", str(REGISTRY))
    assert code == 0 and out.startswith("3303 Temperature")
    code, out, _ = run(capsys, "models", "show", "3303")  # found at ../shared by default
    assert code == 0 and out.startswith("3303 Temperature")


def test_compile_writes_an_importable_module(capsys, tmp_path):
    target = tmp_path / "meter_models.py"
    code, out, err = run(capsys, "models", "compile", "0", "1", "3", "5", "10243",
                         "-o", str(target))
    assert code == 0 and out == "" and err == ""
    spec = importlib.util.spec_from_file_location("meter_models_cli", target)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert sorted(module.OBJECTS) == [0, 1, 3, 5, 10243]
    assert module.OBJECTS[10243].resources[4].units == "V"
    assert module.OBJECTS[3].resources[0].description == ""


def test_compile_to_stdout_with_descriptions(capsys):
    code, out, _ = run(capsys, "models", "compile", "19", "--descriptions")
    assert code == 0
    assert out.startswith('"""LwM2M object definitions 19,')
    assert "Priority of the data" in out


def test_compile_from_a_file_takes_precedence(capsys, tmp_path):
    xml = Path(__file__).parents[1].joinpath("object_models", "3.xml").read_text()
    mine = tmp_path / "3.xml"
    mine.write_text(xml.replace("<Name>Device</Name>", "<Name>My Device</Name>"))
    code, out, _ = run(capsys, "models", "compile", "3", "--from", str(mine))
    assert code == 0 and "'My Device'" in out
    assert load_objects(mine)[3].name == "My Device"


@pytest.mark.parametrize("argv,needle", [
    (["models", "show", "65000"], "object 65000 not found in "),
    (["models", "compile", "3", "65001"], "object 65001 not found in "),
    (["models", "show", "abc"], "'abc' is not an object ID"),
    (["models", "show", "70000"], "out of range"),
    (["models", "list", "--from", "/nonexistent/dir"], "/nonexistent/dir: no such file"),
    (["models", "list", "--registry", "/nonexistent/reg"], "--registry /nonexistent/reg"),
    (["models", "compile", "3", "-o", "/nonexistent/dir/out.py"], "cannot write"),
    (["models"], "required"),
    (["nosuchcommand"], "invalid choice"),
])
def test_bad_input_gives_one_line_and_exit_2(capsys, argv, needle):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("lwm2m-meter")
    assert needle in err
    assert "Traceback" not in err


def test_broken_xml_is_one_line(capsys, tmp_path):
    bad = tmp_path / "77.xml"
    bad.write_text("<LWM2M><Object><ObjectID>77</ObjectID></Object>")
    code, _, err = run(capsys, "models", "show", "77", "--from", str(bad))
    assert code == 2
    assert err == "lwm2m-meter models show: error: 77.xml: not well-formed XML " \
                  "(line 1, column 48)\n"
