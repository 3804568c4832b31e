"""A test engineer's pytest file: pytest examples/test_meter_example.py"""
from lwm2m_client import LwM2MServer, MeterClient


async def test_server_reads_the_gas_meter():
    async with LwM2MServer() as server, MeterClient(server.uri, "gas-7", "gas") as meter:
        await meter.wait_registered()
        assert (await server.read("gas-7", "/3/0/0")).value == "lwm2m_client"
        assert (await server.read("gas-7", "/3423/0/1")).value >= 0
