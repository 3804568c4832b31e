"""Virtual utility meters: plausible, deterministic readings in an object tree.

Each meter owns one instance of its object in an
:class:`~lwm2m_client.core.dm.tree.ObjectTree` and advances with :meth:`Meter.tick`,
which publishes the new readings with ``tree.set`` (the tree records a change, and the
client core later notifies observers, only for values that really changed). Readings
come from a daily load profile (:mod:`lwm2m_client.sim.profiles`) and a
``random.Random(seed)``: the same seed and the same tick times give the same values.

``now_s`` is Unix seconds (a float). The first tick only takes readings unless the meter
was built with ``start_s``; afterwards cumulative registers (energy, volume, pulses)
integrate over the time since the previous tick and never decrease, except on the
server's Execute of a reset resource. A tick with an earlier time than the last one
refreshes the instantaneous readings and integrates nothing.

Objects: 10243 single-phase power meter, 10242 three-phase power meter (every resource
set), 3423 gas meter, 3424 water meter. :func:`build_meter_tree` builds a whole device.
"""

from __future__ import annotations

import random
import zlib
from typing import Any

from lwm2m_client import __version__
from lwm2m_client.core.client import setup
from lwm2m_client.core.dm.tree import ObjectTree
from lwm2m_client.models import shipped_objects
from lwm2m_client.sim.base import MANUFACTURER, Meter
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


def build_meter_tree(kind: str, endpoint: str, server_uri: str, seed: int = 0,
                     lifetime: int = 300, binding: str = "U", start_s: float | None = None,
                     psk_identity: str | None = None, psk_key: bytes | None = None,
                     ) -> tuple[ObjectTree, Meter]:
    """A whole virtual device: Security and Server accounts for SSID 1 (PSK when
    ``psk_key`` is given, its identity defaulting to the endpoint; NoSec otherwise),
    Device, Connectivity Monitoring and the meter instance; the change log is empty.

    Reboot and Factory Reset have no handler (the runner that owns the client wires
    them); Current Time is set only when ``start_s`` is given.
    """
    cls = meter_class(kind)
    defs = shipped_objects()
    tree = ObjectTree([defs[oid] for oid in (0, 1, 3, 4, cls.oid)])
    if psk_key is not None:
        setup.add_security(tree, 0, server_uri, ssid=1, mode=setup.SEC_PSK,
                           identity=psk_identity or endpoint, secret_key=psk_key)
    else:
        setup.add_security(tree, 0, server_uri, ssid=1)
    setup.add_server(tree, 0, 1, lifetime=lifetime, binding=binding)
    serial = serial_for(kind, endpoint)
    clock = None if start_s is None else (lambda: start_s)
    setup.add_device(tree, MANUFACTURER, cls.model, serial, __version__, clock=clock,
                     binding=binding, values=cls.device_values)
    rng = random.Random(f"connectivity:{seed}")
    setup.add_connectivity(
        tree, bearer=_BEARERS[kind], signal=rng.randint(-110, -70),
        ip=f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
        link_quality=rng.randint(0, 100), apn="meters.iot", cell_id=rng.randint(1, 0xFFFFFFF),
        mnc=1, mcc=1)
    meter = cls(tree, seed=seed, start_s=start_s, serial=serial)
    tree.drain_changes()
    return tree, meter
