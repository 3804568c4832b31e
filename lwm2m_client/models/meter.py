"""The compiled models of the example MicroPython meter, ``lwm2m_client/mp/meter_models.py``.

The example meter is a single-phase electricity meter: Security, Server, Device,
Firmware Update and Single-Phase Power Meter (objects 0, 1, 3, 5, 10243). Its module is
compiled without names and with only the resources the meter uses, which is what makes
the models small enough for a 64 KB heap. :func:`meter_models_source` is the one
definition of that module; a test checks the file in the repository equals it. After a
change here or in ``object_models/``, write the file again with::

    python -m lwm2m_client.models.meter

The same module comes from the command line, as ``lwm2m-meter models compile 0 1 3 5
10243 --strip-names --resources 0:... --resources 1:...`` with the lists below.
"""

from __future__ import annotations

import sys
from pathlib import Path

from lwm2m_client.models.compiler import compile_objects
from lwm2m_client.models.loader import shipped_objects

MODULE = Path(__file__).resolve().parent.parent / "mp" / "meter_models.py"

METER_OBJECTS = (0, 1, 3, 5, 10243)

# The resources the meter uses, per object; the mandatory ones are kept anyway.
METER_RESOURCES: dict[int, tuple[int, ...]] = {
    # add_security: URI, Bootstrap-Server, Security Mode, the keys, Short Server ID,
    # Client Hold Off Time.
    0: (0, 1, 2, 3, 4, 5, 10, 11),
    # add_server and server_params: SSID, Lifetime, default pmin/pmax, Disable and
    # Disable Timeout, Notification Storing, Binding, Registration Update Trigger, and
    # the registration timers and retry settings 14..20.
    1: (0, 1, 2, 3, 4, 5, 6, 7, 8, 14, 15, 16, 17, 18, 19, 20),
    # add_device: identity 0..3, Reboot, Factory Reset, Error Code, Reset Error Code,
    # Current Time, Supported Binding; the meter's power sources (6), device type (17),
    # UTC offset and timezone (14, 15).
    3: (0, 1, 2, 3, 4, 5, 6, 11, 12, 13, 14, 15, 16, 17),
    # Firmware Update: the mandatory resources only (a pull or push update needs no
    # more).
    5: (),
    # ElectricityMeter sets every resource of Object 10243.
    10243: tuple(range(18)),
}


def meter_models_source() -> str:
    """The source text of ``lwm2m_client/mp/meter_models.py``."""
    objects = shipped_objects()
    return compile_objects([objects[oid] for oid in METER_OBJECTS], names=False,
                           resources=METER_RESOURCES)


def main() -> int:
    MODULE.write_text(meter_models_source(), encoding="utf-8")
    sys.stdout.write(f"wrote {MODULE}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
