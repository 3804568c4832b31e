# Runs under MicroPython's unix port (not one of the mp_*.py scripts): the meter of
# examples/mp_meter.py on a real UDP socket, whose Reboot (/3/0/4) fills the heap and
# leaves it fragmented into holes of about 2 KB, and whose Factory Reset (/3/0/5) frees it
# again. tests/test_mp_meter.py drives it from an LwM2M server: under pressure a request
# that needs a larger block (the first body that comes in Block1 needs its 4 KB buffer)
# must get an error answer and never stop the meter; once freed, the next succeeds.
import gc
import sys

import mp_meter

from lwm2m_client.mp.udp import MpClient

filler = [None]  # made before the heap is full: filling must not need to grow it
log = [None, None]  # what happened, set without allocating


def fill():
    gc.collect()
    # The slots are made first and never grow (a growing list would leave its old
    # array behind as one big hole); then chunks of falling size take every hole.
    slots = [None] * (gc.mem_free() // 32 + 16)
    n = 0
    big = 0
    for size in (2048, 256, 32, 8):
        try:
            while n < len(slots):
                slots[n] = bytearray(size)
                n += 1
        except MemoryError:
            pass
        if size == 2048:
            big = n
    # Drop every other 2 KB chunk: holes where datagrams and small objects fit, and
    # nothing of 4 KB does.
    for i in range(0, big, 2):
        slots[i] = None
    filler[0] = slots
    log[0] = "filled"


def free():
    filler[0] = None
    gc.collect()
    log[1] = "freed"


opts = mp_meter.options(sys.argv)
core, meter = mp_meter.build(opts)
core.tree.on_execute((3, 0, 4), lambda path, args: fill())
core.tree.on_execute((3, 0, 5), lambda path, args: free())
client = MpClient(core, on_tick=meter.tick,
                  on_event=lambda event: print("event", event))
client.start()
try:
    client.run()
except KeyboardInterrupt:
    pass
print(log[0], log[1], "stopped, dropped", client.dropped)
