# Runs under MicroPython's unix port: the meter of examples/mp_meter.py on
# AsyncMpClient inside an asyncio loop next to an application task of its own, which
# counts its turns; the meter de-registers after the given number of seconds.
import asyncio
import sys

import mp_meter

from lwm2m_client.mp.aio import AsyncMpClient


async def main(argv):
    seconds = float(argv[-1])
    core, meter = mp_meter.build(mp_meter.options(argv[:-1]))
    client = AsyncMpClient(core, on_tick=meter.tick,
                           on_event=lambda event: print("event", event))
    turns = [0]

    async def application():
        while True:
            turns[0] += 1
            await asyncio.sleep_ms(20)

    app = asyncio.create_task(application())
    await client.start()
    await asyncio.sleep(seconds)
    await client.stop()
    app.cancel()
    print("stopped after %d application turns" % turns[0])


asyncio.run(main(sys.argv))
