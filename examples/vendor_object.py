"""A vendor's own object, a valve, on an LwM2M client: python examples/vendor_object.py URI"""
import asyncio
import sys

from lwm2m_client import (
    ClientConfig,
    ClientCore,
    Instance,
    ObjectTree,
    UdpClient,
    add_device,
    add_security,
    add_server,
    attach,
    default_rng,
    obj,
    resource,
    shipped_objects,
)

VALVE = obj(32769, "Valve", [resource(0, "Open", "Boolean", "RW", mandatory=True),
                             resource(1, "Flow", "Float", "R", units="l/min"),
                             resource(2, "Flush", None, "E")])


class Valve(Instance):
    reads, executes = (1,), (2,)
    flushes = 0

    def read(self, rid):  # the flow is measured when the server asks, never stored
        return 12.5 if self.tree.get((self.oid, self.iid, 0)) else 0.0

    def execute(self, rid, args):
        self.flushes += 1


def valve_client(uri, endpoint="valve-1", valve=None):
    tree = ObjectTree([shipped_objects()[oid] for oid in (0, 1, 3)] + [VALVE])
    add_security(tree, 0, uri, ssid=1)
    add_server(tree, 0, 1, lifetime=300)
    add_device(tree, "ACME", "V-9", "SN-1", "1.0", reboot=lambda: None)
    attach(tree, VALVE.oid, 0, valve or Valve(), values={0: True})
    return UdpClient(ClientCore(ClientConfig(endpoint), tree, default_rng()))


async def main(uri):
    client = valve_client(uri)
    await client.start()
    try:
        await asyncio.Event().wait()  # serve the server until Ctrl-C
    finally:
        await client.stop()  # de-registers


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
