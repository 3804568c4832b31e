"""Helpers shared by the client benchmarks: the metered device, hand-made registration
answers, best-of timing, percentiles and a description of the machine.

The benchmarks run as scripts (``python bench/<name>.py``), so this module is imported
from the script's own directory.
"""

from __future__ import annotations

import math
import os
import platform
import random
import timeit
from collections.abc import Callable, Sequence

from lwm2m_client.core.client.engine import ClientConfig, ClientCore
from lwm2m_client.core.coap import message as m
from lwm2m_client.sim.meters import build_meter_tree

# Where the benchmarks register: the Location-Path of every crafted 2.01 (Core 1.1 §6.2.1).
LOCATION = "/rd/bench"


def meter_core(endpoint: str, server_uri: str, server_addr: tuple[str, int],
               block_size: int = 1024, seed: int = 1) -> ClientCore:
    """A client core for one three-phase meter (objects 0, 1, 3, 4, 10242 with every
    resource set) whose only server account is ``server_addr``.

    ``block_size`` 1024 keeps a whole /10242/0 read in one datagram for every binary
    format; only SenML JSON (about 1150 bytes) needs Block2.
    """
    tree, _ = build_meter_tree("3phase", endpoint, server_uri, seed=seed)
    core = ClientCore(ClientConfig(endpoint, block_size=block_size), tree, random.Random(seed))
    core.set_address(1, server_addr)
    return core


def answer_registration(data: bytes) -> bytes | None:
    """The piggybacked answer a registrar gives a client's Register (2.01 with
    Location-Path), Update (2.04) or De-register (2.02), or None when ``data`` is none of
    them (Core 1.1 §6.2.1-6.2.3; RFC 7252 §5.2.1)."""
    try:
        request = m.decode(data)
        path = request.uri_path
    except m.CoapDecodeError:
        return None
    if request.mtype != m.CON:
        return None
    if request.code == m.POST and path == "/rd":
        response = m.Message(m.ACK, m.CREATED, request.mid, request.token)
        response.location_path = LOCATION
    elif request.code == m.POST and path == LOCATION:
        response = m.Message(m.ACK, m.CHANGED, request.mid, request.token)
    elif request.code == m.DELETE and path == LOCATION:
        response = m.Message(m.ACK, m.DELETED, request.mid, request.token)
    else:
        return None
    return m.to_bytes(response)


def best_seconds(fn: Callable[[], object], seconds: float, min_runs: int = 3) -> float:
    """The fastest of repeated calls of ``fn``: at least ``min_runs``, and more until
    ``seconds`` have been spent. Best-of hides the noise of a shared machine."""
    timer = timeit.Timer(fn)
    best = float("inf")
    spent = 0.0
    runs = 0
    while runs < min_runs or spent < seconds:
        t = timer.timeit(number=1)
        best = min(best, t)
        spent += t
        runs += 1
    return best


def percentile(ordered: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) of sorted values, nearest rank."""
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))
    return ordered[k]


def machine() -> str:
    """One line on the interpreter and the CPU the figures come from."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = ""
    if hasattr(os, "getloadavg"):
        load = f", load average {os.getloadavg()[0]:.2f}"
    return (f"{platform.python_implementation()} {platform.python_version()} on "
            f"{platform.system()} ({cpu}), {os.cpu_count() or 0} CPUs{load}")
