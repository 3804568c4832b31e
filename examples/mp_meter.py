"""A complete electricity meter for MicroPython: serves an LwM2M server until stopped.

From the project root, on the unix port (the lib folder is built by
``lwm2m-meter mp lib build/mp-lib``, or ``--mpy`` for bytecode)::

    MICROPYPATH=build/mp-lib micropython examples/mp_meter.py \\
        --server coap://192.0.2.10:5683 --endpoint meter-0001

Options: ``--lifetime S`` (default 300), ``--formats senml-cbor,tlv`` (the content
formats the meter speaks; others are never imported), ``--block-size N`` (default 512),
``--interval S`` (the measuring period, default 10), ``--duration S`` (stop by
itself), ``--queue MS`` (queue mode: sleep after MS milliseconds without traffic, the
socket closed, until a reading is due or the registration needs an Update), ``--port N``
(the local UDP port, default any; a fixed one keeps the meter's address across its
sleeps, which a server that matches notifications by address needs). Ctrl-C
de-registers and exits. The same file runs on a board once the parts are installed with
mip or frozen into the firmware.
"""

import math
import sys

from lwm2m_client.core.client import setup
from lwm2m_client.core.client.engine import ClientConfig, ClientCore
from lwm2m_client.core.dm.app import Instance, attach
from lwm2m_client.core.dm.tree import ObjectTree
from lwm2m_client.mp.clock import UrandomRng
from lwm2m_client.mp.meter_models import OBJECTS
from lwm2m_client.mp.udp import MpClient

METER = 10243  # Single-Phase Power Meter
FORMATS = {"tlv": 11542, "senml-json": 110, "senml-cbor": 112, "lwm2m-cbor": 11544,
           "text": 0}
USAGE = ("usage: mp_meter.py --server coap://HOST:PORT --endpoint NAME [--lifetime S] "
         "[--formats tlv,senml-cbor] [--block-size N] [--interval S] [--duration S] "
         "[--queue MS] [--port N]")


class ElectricityMeter(Instance):
    """The metrology: voltage, current and power computed when the server reads them
    (never stored) from the last measuring period, energy integrated at the end of each
    period and stored in the tree. Values hold still within a period, as a real meter's
    registers do, so a read that takes several blocks sees one representation."""

    reads = (4, 5, 6, 11, 17)

    def __init__(self, interval_s):
        self.interval_s = interval_s
        self.t_s = 0.0
        self.kwh = 1234.5

    def power_kw(self):
        return 0.4 + 0.3 * math.sin(self.t_s / 600.0)  # a slow daily-like swing

    def read(self, rid):
        if rid == 4:
            return 230.0 + 2.0 * math.sin(self.t_s / 37.0)
        if rid == 5:
            return self.power_kw() * 1000.0 / 230.0
        if rid == 6:
            return self.power_kw()
        if rid == 11:
            return 0.95
        return 50.0  # rid 17, the frequency

    def tick(self, now_ms):
        t_s = now_ms / 1000.0
        if t_s - self.t_s < self.interval_s:
            return
        self.kwh += self.power_kw() * (t_s - self.t_s) / 3600.0
        self.t_s = t_s
        self.tree.set((METER, self.iid, 14), int(self.kwh * 1000) / 1000.0)


def options(argv):
    opts = {"--lifetime": "300", "--formats": "senml-cbor,tlv", "--block-size": "512",
            "--interval": "10"}
    i = 1
    while i < len(argv):
        if argv[i] not in ("--server", "--endpoint", "--lifetime", "--formats",
                           "--block-size", "--interval", "--duration", "--queue",
                           "--port") or \
                i + 1 >= len(argv):
            raise SystemExit(USAGE)
        opts[argv[i]] = argv[i + 1]
        i += 2
    if "--server" not in opts or "--endpoint" not in opts:
        raise SystemExit(USAGE)
    for name in opts["--formats"].split(","):
        if name not in FORMATS:
            raise SystemExit("--formats: unknown format %r (%s)" % (name, ",".join(FORMATS)))
    return opts


def build(opts):
    tree = ObjectTree([OBJECTS[oid] for oid in (0, 1, 3, 5, METER)])
    setup.add_security(tree, 0, opts["--server"], ssid=1)
    queue = opts.get("--queue")
    setup.add_server(tree, 0, 1, lifetime=int(opts["--lifetime"]),
                     binding="U" if queue is None else "UQ")
    setup.add_device(tree, "ACME Metering", "MP-E1", "SN-" + opts["--endpoint"], "1.0",
                     reboot=lambda: None, factory_reset=lambda: None)
    # Firmware Update, idle: nothing downloaded, nothing to install (Object 5).
    tree.create_instance(5, 0, {0: b"", 1: "", 3: 0, 5: 0, 9: 2})
    meter = ElectricityMeter(float(opts["--interval"]))
    attach(tree, METER, 0, meter, values={0: "ACME Metering", 2: "SN-" + opts["--endpoint"],
                                         14: meter.kwh})
    formats = [FORMATS[name] for name in opts["--formats"].split(",")]
    # Buffers are sized here: 1 KiB answers (a whole meter instance in any format),
    # 4 KiB request bodies (a firmware chunk), 4 remembered replies for duplicates.
    config = ClientConfig(opts["--endpoint"], block_size=int(opts["--block-size"]),
                          max_body=1024, max_request_body=4096, dedup_capacity=4,
                          formats=formats, preferred_format=formats[0],
                          awake_ms=None if queue is None else int(queue))
    return ClientCore(config, tree, UrandomRng()), meter


def main(argv):
    opts = options(argv)
    core, meter = build(opts)

    def show(event):
        print("%s: %r" % (opts["--endpoint"], event))

    client = MpClient(core, int(opts.get("--port", "0")), on_event=show,
                      on_tick=meter.tick)
    client.start()
    duration = opts.get("--duration")
    try:
        client.run(None if duration is None else int(float(duration) * 1000))
    except KeyboardInterrupt:
        pass  # run() de-registered already
    client.stop()
    print("%s: stopped" % opts["--endpoint"])


if __name__ == "__main__":
    main(sys.argv)
