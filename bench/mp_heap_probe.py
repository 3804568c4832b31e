# Runs under MicroPython (the unix port): the example meter of examples/mp_meter.py,
# registered through its sans-IO core (the server's answers are fed back as bytes, no
# socket), then one DM round. Prints "heap <stage> <bytes>" lines after gc.collect(),
# "latency_us <n>" for reads, and "OK" at the end, so a driver can bisect the heap size.
import gc
import sys
import time

gc.collect()
base = gc.mem_alloc()

import mp_meter  # noqa: E402 - measured after the baseline

from lwm2m_client.core.coap import message as m  # noqa: E402

SERVER = ("127.0.0.1", 5683)


def heap(stage):
    while core is not None and core.next_event() is not None:
        pass  # a meter's loop hands its events out; so does the probe
    gc.collect()
    print("heap %s %d" % (stage, gc.mem_alloc() - base))


core = None
heap("import")
core, meter = mp_meter.build(mp_meter.options(
    ["x", "--server", "coap://127.0.0.1:5683", "--endpoint", "probe-1"]))
core.set_address(1, SERVER)
core.start(0)
core.handle_timer(core.get_timer())
for data, _ in core.datagrams_to_send():
    req = m.decode(data)
    ack = m.Message(m.ACK, m.CREATED, req.mid, req.token)
    ack.location_path = ["rd", "p1"]
    core.receive_datagram(m.to_bytes(ack), SERVER, 10)
assert core.registration(1).is_registered
del req, ack, data
heap("registered")


def read(path, accept, mid):
    msg = m.Message(m.CON, m.GET, mid, b"\x01\x02")
    msg.uri_path = path
    msg.accept = accept
    core.receive_datagram(m.to_bytes(msg), SERVER, 20 + mid)
    out = core.datagrams_to_send()
    assert len(out) == 1 and m.decode(out[0][0]).code == m.CONTENT
    return out


read("/10243/0", 112, 1)
read("/3/0", 11542, 2)
heap("dm_round")
n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
t0 = time.ticks_us()
for i in range(n):
    read("/10243/0", 112, 100 + i)
print("latency_us %d" % (time.ticks_diff(time.ticks_us(), t0) // n))
print("OK")
