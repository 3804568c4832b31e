"""`lwm2m-meter client`: a virtual meter against the embedded LwM2M server, run as a user
runs it (a separate process, or main() in-process), and its one-line usage errors."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time

import pytest

from lwm2m_client.cli import main
from lwm2m_client.core.content import CF_LWM2M_CBOR, CF_SENML_CBOR, CF_TLV
from lwm2m_client.meter_client import (
    ConfigError,
    MeterClient,
    add_extra_object,
    advertised_formats,
    available_adapters,
    check_objects,
)
from lwm2m_client.models import shipped_objects
from lwm2m_client.server import LwM2MServer
from lwm2m_client.sim.meters import build_meter_tree


async def start_client(server: LwM2MServer, endpoint: str, *args: str
                       ) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "lwm2m_client.cli", "client", "--server", server.uri,
        "--endpoint", endpoint, *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def finish(proc: asyncio.subprocess.Process) -> tuple[int, str]:
    _, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode is not None
    return proc.returncode, err.decode()


async def test_client_registers_answers_and_deregisters_after_duration():
    async with LwM2MServer() as server:
        proc = await start_client(server, "cli-1", "--meter", "gas", "--lifetime", "120",
                                  "--objects", "5", "2", "--objects", "19", "--duration", "3")
        try:
            reg = await server.wait_registered("cli-1", timeout=10)
            assert (reg.lifetime, reg.lwm2m_version, reg.binding) == (120, "1.1", "U")
            # Firmware Update and Binary App Data get an instance; Access Control, whose
            # Object ID cannot start at zero, is listed as a bare object link.
            assert reg.objects == {1: [0], 2: [], 3: [0], 4: [0], 5: [0], 19: [0], 3423: [0]}
            device = await server.read("cli-1", "/3/0")
            assert device.code == "2.05"
            assert device.values[(3, 0, 0)] == "lwm2m_client"
            assert device.values[(3, 0, 17)] == "gas meter"
            first = (await server.read("cli-1", "/3/0/13")).value
            volume = await server.read("cli-1", "/3423/0/1")
            assert volume.code == "2.05" and volume.value > 0
            await asyncio.sleep(1.5)
            # Current Time is computed when read: it moved on.
            assert (await server.read("cli-1", "/3/0/13")).value > first
            firmware = await server.read("cli-1", "/5/0/3")
            assert (firmware.code, firmware.value) == ("2.05", 0)
        finally:
            code, err = await finish(proc)
        assert code == 0, err
        await server.wait_deregistered("cli-1", timeout=5)
    assert "cli-1: registered with server 1" in err
    assert "cli-1: read /3/0 -> 2.05" in err
    assert "cli-1: read /3423/0/1 -> 2.05" in err
    assert "stopping (3 s elapsed)" in err
    assert "cli-1: de-registered from server 1" in err
    assert "Traceback" not in err


async def test_sigterm_deregisters_and_exits_0_and_verbose_logs_datagrams():
    async with LwM2MServer() as server:
        proc = await start_client(server, "cli-2", "-v")
        try:
            await server.wait_registered("cli-2", timeout=10)
            assert (await server.read("cli-2", "/10243/0/4")).code == "2.05"
        finally:
            proc.send_signal(signal.SIGTERM)
            code, err = await finish(proc)
        assert code == 0, err
        await server.wait_deregistered("cli-2", timeout=5)
    port = server.port
    assert f"cli-2: -> 127.0.0.1:{port} <CON POST" in err
    assert f"cli-2: <- 127.0.0.1:{port} <ACK 2.01" in err
    assert f"cli-2: -> 127.0.0.1:{port} <CON DELETE" in err
    assert "stopping (signal received)" in err


async def test_lwm2m_10_tlv_client_registers_with_a_server_that_refuses_ct(caplog):
    caplog.set_level(logging.INFO, logger="lwm2m_client.server")
    async with LwM2MServer(reject_register_ct=True) as server:
        proc = await start_client(server, "cli-3", "--advertise-formats", "--lwm2m", "1.0",
                                  "--format", "tlv", "--duration", "2")
        try:
            reg = await server.wait_registered("cli-3", timeout=10)
            # The second Register came without the root link the server refused.
            assert reg.lwm2m_version == "1.0" and reg.content_formats == ()
            device = await server.read("cli-3", "/3/0")
            assert (device.code, device.content_format) == ("2.05", CF_TLV)
            assert device.values[(3, 0, 1)] == "SIM-E1P"
        finally:
            code, err = await finish(proc)
        assert code == 0, err
        await server.wait_deregistered("cli-3", timeout=5)
    assert "ct in the root link is not accepted" in caplog.text


@pytest.mark.parametrize("adapter", available_adapters())
async def test_main_in_process_on_each_adapter(adapter):
    async with LwM2MServer() as server:
        # main() runs its own event loop: give it a thread (no signal handlers there).
        run = asyncio.ensure_future(asyncio.to_thread(
            main, ["client", "--server", server.uri, "--endpoint", f"cli-{adapter}",
                   "--meter", "water", "--adapter", adapter, "--lwm2m", "1.2",
                   "--format", "lwm2m-cbor", "--binding", "UQ", "--duration", "1.5"]))
        reg = await server.wait_registered(f"cli-{adapter}", timeout=10)
        assert reg.lwm2m_version == "1.2" and 3424 in reg.objects
        assert (reg.binding, reg.queue_mode) == ("U", True)
        read = await server.read(f"cli-{adapter}", "/3424/0", format=CF_LWM2M_CBOR)
        assert read.code == "2.05" and read.values[(3424, 0, 3)] == "ultrasonic"
        assert await asyncio.wait_for(run, 20) == 0
        await server.wait_deregistered(f"cli-{adapter}", timeout=5)


async def test_speed_runs_the_meters_time_fast_and_the_registration_in_real_time():
    async with LwM2MServer() as server:
        run = asyncio.ensure_future(asyncio.to_thread(
            main, ["client", "--server", server.uri, "--endpoint", "cli-fast",
                   "--meter", "gas", "--speed", "3600", "--lifetime", "60",
                   "--duration", "2"]))
        reg = await server.wait_registered("cli-fast", timeout=10)
        assert reg.lifetime == 60  # the lifetime is real seconds, whatever the speed
        first = (await server.read("cli-fast", "/3/0/13")).value
        volume = (await server.read("cli-fast", "/3423/0/1")).value
        after_first = time.monotonic()
        await asyncio.sleep(0.5)
        before_second = time.monotonic()
        second = (await server.read("cli-fast", "/3/0/13")).value
        assert second - first >= int(3600 * (before_second - after_first)) - 1
        assert (await server.read("cli-fast", "/3423/0/1")).value >= volume
        assert await asyncio.wait_for(run, 20) == 0  # --duration counts real seconds
        await server.wait_deregistered("cli-fast", timeout=5)


@pytest.mark.parametrize("argv, where", [
    (["--server", "http://example.com", "--endpoint", "e"], "--server"),
    (["--server", "coap://[::1", "--endpoint", "e"], "--server"),
    (["--server", "coap://h:70000", "--endpoint", "e"], "--server"),
    (["--server", "coap://h", "--endpoint", "e", "--objects", "9999"], "object 9999"),
    (["--server", "coap://h", "--endpoint", "e", "--objects", "five"], "--objects"),
    (["--server", "coap://h", "--endpoint", "e", "--lifetime", "0"], "--lifetime"),
    (["--server", "coap://h", "--endpoint", "e", "--lifetime", "1h"], "--lifetime"),
    (["--server", "coap://h", "--endpoint", "e", "--duration", "-1"], "--duration"),
    (["--server", "coap://h", "--endpoint", "e", "--speed", "0"], "argument --speed: speed 0"),
    (["--server", "coap://h", "--endpoint", "e", "--speed=-60"], "argument --speed: speed -60"),
    (["--server", "coap://h", "--endpoint", "e", "--speed", "fast"],
     "argument --speed: 'fast' is not a number"),
    (["--server", "coap://h", "--endpoint", "e", "--speed", "nan"], "argument --speed"),
    (["--server", "coap://h", "--endpoint", "e", "--speed", "inf"], "argument --speed"),
    (["--server", "coap://h", "--endpoint", "e", "--format", "senml-cbor", "--lwm2m", "1.0"],
     "--format senml-cbor needs --lwm2m 1.1"),
    (["--server", "coap://no-such-host.invalid", "--endpoint", "e"], "no-such-host.invalid"),
    (["--endpoint", "e"], "--server"),
])
def test_user_mistakes_exit_2_with_one_line(capsys, argv, where):
    code = main(["client", *argv])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.startswith("lwm2m-meter client: error: ") and err.count("\n") == 1
    assert where in err


def test_help_lists_the_options(capsys):
    assert main(["client", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--server", "--endpoint", "--lifetime", "--objects", "--binding",
                   "--format", "--lwm2m", "--meter", "--adapter", "--advertise-formats",
                   "--duration", "--speed", "-v"):
        assert option in out
    # What --speed changes and what it does not.
    text = " ".join(out.split())
    assert "one simulated minute per real second" in text
    assert "Current Time /3/0/13" in text and "stay in real time" in text


def test_extra_objects_start_with_zero_values_or_without_instances():
    tree, _ = build_meter_tree("electricity", "e", "coap://127.0.0.1")
    defs = shipped_objects()
    assert add_extra_object(tree, defs[5]) == 0
    assert tree.get((5, 0, 3)) == 0 and tree.get((5, 0, 1)) == ""
    assert add_extra_object(tree, defs[501]) == 0
    assert tree.get((501, 0, 4)) == {0: 0}
    assert add_extra_object(tree, defs[2]) is None
    assert 2 in tree.objects() and tree.instances(2) == []


def test_check_objects_drops_repeats_and_base_objects():
    assert check_objects([5, 3, 9, 5, 0, 19]) == [5, 9, 19]
    with pytest.raises(ConfigError, match="object 7 is not a shipped object"):
        check_objects([5, 7])


def test_advertised_formats_put_the_preferred_one_first():
    assert advertised_formats("1.0") == [CF_TLV, 11543]
    assert advertised_formats("1.1", CF_TLV)[:2] == [CF_TLV, CF_SENML_CBOR]
    assert CF_LWM2M_CBOR in advertised_formats("1.2")
    assert CF_LWM2M_CBOR not in advertised_formats("1.1")


@pytest.mark.parametrize("kwargs, message", [
    ({"kind": "steam"}, "unknown meter kind 'steam'"),
    ({"version": "2.0"}, "unknown LwM2M version"),
    ({"lifetime": 0}, "lifetime 0"),
    ({"preferred_format": CF_LWM2M_CBOR, "version": "1.1"}, "needs LwM2M 1.2"),
    ({"binding": "X"}, "bad binding"),
    ({"endpoint": ""}, "endpoint name"),
    ({"speed": 0}, "speed 0 must be a finite number above 0"),
    ({"speed": -2.5}, "speed -2.5"),
    ({"speed": float("nan")}, "speed nan"),
])
def test_meter_client_rejects_bad_settings(kwargs, message):
    args = {"server_uri": "coap://127.0.0.1", "endpoint": "e"}
    args.update(kwargs)
    with pytest.raises(ConfigError, match=message):
        MeterClient(**args)


def test_client_command_onboards_through_a_bootstrap_server(tmp_path):
    # lwm2m-meter client --bootstrap: a meter with only a Bootstrap-Server account is
    # given its LwM2M Server by the embedded Bootstrap-Server and registers there.
    import asyncio
    import sys

    from lwm2m_client.server import BootstrapConfig, BootstrapServer, LwM2MServer, ServerAccount

    async def run() -> tuple[int, str]:
        async with LwM2MServer() as server, BootstrapServer(default=BootstrapConfig(
                servers=[ServerAccount(server.uri, 1, lifetime=60)])) as bs:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "lwm2m_client", "client", "--bootstrap", bs.uri,
                "--endpoint", "cli-bs", "--duration", "3",
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
            reg = await server.wait_registered("cli-bs", 20)
            assert reg.lifetime == 60
            out, _ = await asyncio.wait_for(proc.communicate(), 30)
            return proc.returncode or 0, out.decode()

    code, out = asyncio.run(run())
    assert code == 0, out
    assert "BootstrapFinished" in out or "bootstrap" in out.lower(), out


def test_client_command_needs_a_server_or_a_bootstrap_server():
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "lwm2m_client", "client", "--endpoint",
                             "x"], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "--server or --bootstrap" in result.stderr and "Traceback" not in result.stderr
