"""The examples a vendor and a test engineer start from run, and stay short."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from lwm2m_client import LwM2MServer
from lwm2m_client.core.content import CF_SENML_JSON, CF_TEXT

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_vendor_object_is_defined_and_implemented_in_under_25_lines():
    tree = ast.parse((EXAMPLES / "vendor_object.py").read_text())
    spans = [node.end_lineno - node.lineno + 1 for node in tree.body  # type: ignore[operator]
             if isinstance(node, ast.ClassDef) and node.name == "Valve"
             or isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "VALVE"]
    assert len(spans) == 2 and sum(spans) < 25, spans


async def test_vendor_object_serves_a_real_server():
    example = load("vendor_object")
    async with LwM2MServer() as server:
        valve = example.Valve()
        client = example.valve_client(server.uri, "valve-7", valve)
        await client.start()
        try:
            registration = await server.wait_registered("valve-7")
            assert registration.objects[32769] == [0]
            flow = await server.read("valve-7", "/32769/0/1", format=CF_TEXT)
            assert flow.payload == b"12.5"
            assert (await server.write("valve-7", "/32769/0/0", False, format=CF_TEXT)).ok
            assert (await server.read("valve-7", "/32769/0/1", format=CF_TEXT)).payload \
                == b"0.0"
            instance = await server.read("valve-7", "/32769/0", format=CF_SENML_JSON)
            assert b'"vb":false' in instance.payload and b'"v":0.0' in instance.payload
            assert valve.flushes == 0
            assert (await server.execute("valve-7", "/32769/0/2")).ok
            assert valve.flushes == 1
        finally:
            await client.stop()


def test_test_engineer_example_passes_in_under_15_lines():
    path = EXAMPLES / "test_meter_example.py"
    assert len(path.read_text().splitlines()) < 15
    result = subprocess.run([sys.executable, "-m", "pytest", str(path), "-q",
                             "-p", "no:cacheprovider"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
