"""Virtual utility meters: plausible, deterministic readings in an object tree.

Each meter owns one instance of its object in an
:class:`~lwm2m_client.core.dm.tree.ObjectTree` and computes its readings when they are
read (read hooks, see :mod:`lwm2m_client.sim.base`), from the simulated time of its
clock (:mod:`lwm2m_client.sim.clock`): a :class:`~lwm2m_client.sim.clock.SimClock`
that runs with real time, as fast as asked, or a
:class:`~lwm2m_client.sim.clock.ManualClock` that tests and scenarios step. Readings
follow a daily load profile (:mod:`lwm2m_client.sim.profiles`); the meter's seed
draws its fixed parameters and keys the noise, so the same seed and the same time give
the same values, whatever was read before.

Cumulative registers (energy, volume, pulses) are exact integrals of the power or flow
the meter shows, counted from the meter's start; they never decrease, except on the
server's Execute of a reset resource. A client core learns that a value computed on
read moved by evaluating it: at an observation's ``pmax``, at its ``epmax`` (maximum
evaluation period), or when the application reports a change (:meth:`Meter.tick`).

Objects: 10243 single-phase power meter, 10242 three-phase power meter (every resource
set), 3423 gas meter, 3424 water meter. :func:`build_meter_tree` builds a whole device.
"""

from __future__ import annotations

import random
import zlib
from typing import Any, Callable

from lwm2m_client import __version__
from lwm2m_client.core.client import setup
from lwm2m_client.core.dm.tree import ObjectTree
from lwm2m_client.models import shipped_objects
from lwm2m_client.sim.base import MANUFACTURER, Meter, configuration_paths
from lwm2m_client.sim.clock import (  # noqa: F401 - re-exported
    CURRENT_TIME,
    Clock,
    DeviceClock,
    ManualClock,
    SimClock,
)
from lwm2m_client.sim.power import (  # noqa: F401 - re-exported
    HZ_SWING,
    NOMINAL_HZ,
    NOMINAL_V,
    V_MAX,
    V_MIN,
    ElectricityMeter,
    Phase,
    ThreePhaseMeter,
)
from lwm2m_client.sim.volume import (  # noqa: F401 - re-exported
    LEAK_DETECT_S,
    LEAK_SUSPECT_S,
    GasMeter,
    VolumeMeter,
    WaterMeter,
)

METERS: dict[str, type[Meter]] = {
    "electricity": ElectricityMeter,
    "3phase": ThreePhaseMeter,
    "gas": GasMeter,
    "water": WaterMeter,
}

# Object 3 resources 14 and 15 of a new meter: it keeps UTC (ISO 8601 offset, IANA name).
UTC_OFFSET = "+00:00"
TIMEZONE = "Etc/UTC"

# Bearer per kind: mains meters on LTE-M (LTE-FDD), battery meters on NB-IoT.
_BEARERS = {"electricity": setup.BEARER_LTE_FDD, "3phase": setup.BEARER_LTE_FDD,
            "gas": setup.BEARER_NB_IOT, "water": setup.BEARER_NB_IOT}


def meter_class(kind: str) -> type[Meter]:
    try:
        return METERS[kind]
    except KeyError:
        raise ValueError(f"unknown meter kind {kind!r}; one of {sorted(METERS)}") from None


def make_meter(kind: str, tree: ObjectTree, seed: int = 0, **kwargs: Any) -> Meter:
    """A meter of ``kind`` ("electricity", "gas", "water", "3phase") in ``tree``, which
    must hold its object's definition; ``kwargs`` go to the meter's constructor."""
    return meter_class(kind)(tree, seed=seed, **kwargs)


def serial_for(kind: str, endpoint: str) -> str:
    """A stable serial number derived from the endpoint name."""
    return f"{meter_class(kind).model}-{zlib.crc32(endpoint.encode('utf-8')):08X}"


def build_meter_tree(kind: str, endpoint: str, server_uri: str | None, seed: int = 0,
                     lifetime: int = 300, binding: str = "U", start_s: float | None = None,
                     psk_identity: str | None = None, psk_key: bytes | None = None,
                     reboot: Callable[[], None] | None = None,
                     factory_reset: Callable[[], None] | None = None,
                     clock: Clock | None = None, bootstrap_uri: str | None = None,
                     ) -> tuple[ObjectTree, Meter]:
    """A whole virtual device: Security and Server accounts for SSID 1 (PSK when
    ``psk_key`` is given, its identity defaulting to the endpoint; NoSec otherwise),
    Device, Connectivity Monitoring and the meter instance; the change log is empty.
    ``bootstrap_uri`` adds a Bootstrap-Server account; ``server_uri`` None leaves the
    LwM2M Server account to the Bootstrap-Server (a meter fresh from the factory).

    Reboot ``/3/0/4`` and Factory Reset ``/3/0/5`` are always wired (both are Mandatory
    in Object 3). ``reboot`` and ``factory_reset`` are the owner's callables without
    arguments; they run before the 2.04 goes out, so they only schedule the work (the
    owner that runs the client ends its session and registers afresh). Without them the
    meter alone answers: Reboot restarts its simulated firmware (:meth:`Meter.reboot`),
    Factory Reset restores the configuration (:meth:`Meter.factory_reset`) and reboots.

    The settings a factory reset restores: the meter object's writable resources, the
    Server account's writable resources (``/1/0``: lifetime, binding, default periods
    ...) and the Device's UTC Offset and Timezone; the Security object, which only a
    Bootstrap-Server writes, and Current Time, a clock rather than a setting, stay.

    ``clock`` is the simulated time of the readings (``meter.clock``; default: a
    :class:`~lwm2m_client.sim.clock.ManualClock` standing at ``start_s`` or the host's
    time now), ``start_s`` when the meter starts measuring (default: the clock's time).
    Current Time ``/3/0/13`` follows the same clock: ``meter.device_clock`` is the
    :class:`~lwm2m_client.sim.clock.DeviceClock` that computes it on read, and a
    server's Write of it moves the device's time.
    """
    cls = meter_class(kind)
    defs = shipped_objects()
    # Access Control only where a Bootstrap-Server may provision it.
    base = (0, 1, 2, 3, 4) if bootstrap_uri is not None else (0, 1, 3, 4)
    tree = ObjectTree([defs[oid] for oid in base + (cls.oid,)])
    server_iid = None
    if server_uri is not None:
        if psk_key is not None:
            setup.add_security(tree, 0, server_uri, ssid=1, mode=setup.SEC_PSK,
                               identity=psk_identity or endpoint, secret_key=psk_key)
        else:
            setup.add_security(tree, 0, server_uri, ssid=1)
        server_iid = setup.add_server(tree, 0, 1, lifetime=lifetime, binding=binding)
    if bootstrap_uri is not None:
        setup.add_security(tree, None, bootstrap_uri, bootstrap=True)
    serial = serial_for(kind, endpoint)
    # The profiles read time as UTC (sim.profiles): the device says so.
    device_values: dict[int, Any] = {14: UTC_OFFSET, 15: TIMEZONE}
    device_values.update(cls.device_values)

    # The handlers run on the server's Execute, long after `meter` below exists.
    def on_reboot() -> None:
        if reboot is not None:
            reboot()
        else:
            meter.reboot()

    def on_factory_reset() -> None:
        if factory_reset is not None:
            factory_reset()
        else:
            meter.factory_reset()
            meter.reboot()

    setup.add_device(tree, MANUFACTURER, cls.model, serial, __version__, binding=binding,
                     values=device_values, reboot=on_reboot,
                     factory_reset=on_factory_reset)
    rng = random.Random(f"connectivity:{seed}")
    setup.add_connectivity(
        tree, bearer=_BEARERS[kind], signal=rng.randint(-110, -70),
        ip=f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
        link_quality=rng.randint(0, 100), apn="meters.iot", cell_id=rng.randint(1, 0xFFFFFFF),
        mnc=1, mcc=1)
    meter = cls(tree, seed=seed, start_s=start_s, serial=serial, clock=clock)
    if server_iid is not None:
        meter.settings.capture(configuration_paths(tree, 1, server_iid))
    meter.settings.capture(configuration_paths(tree, 3, 0, exclude=(CURRENT_TIME[2],)))
    meter.device_clock = DeviceClock(tree, meter.clock)
    tree.drain_changes()
    return tree, meter
