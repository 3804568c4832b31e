"""Client core cost per request, sans-IO: no sockets, no event loop, a frozen clock.

One three-phase meter client (objects 0, 1, 3, 4, 10242) is registered by hand: the
Register datagram it emits is answered with a crafted 2.01. Then, per case, a list of
request datagrams with distinct message IDs is encoded once with the core's CoAP codec
(distinct IDs so duplicate detection never answers from its cache) and fed through
``receive_datagram``; each response is drained with ``datagrams_to_send`` and the
events with ``next_event``, as the adapters do. Time per request is the best of several
runs over the whole list.

Cases: Read of /3/0 and /10242/0 in TLV, SenML CBOR, SenML JSON and LwM2M CBOR; Read of
one resource in plain text; a partial Write of five /1/0 resources; Execute of /3/0/12;
and an Empty CON ("CoAP ping", answered with RST) as the floor of the messaging layer.

Run: ``python bench/bench_client.py [--number N] [--seconds S]``
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from common import answer_registration, best_seconds, machine, meter_core

from lwm2m_client.core.client import events as ev
from lwm2m_client.core.client.engine import ClientCore
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.coap import options as o
from lwm2m_client.core.content import (
    CF_LWM2M_CBOR,
    CF_SENML_CBOR,
    CF_SENML_JSON,
    CF_TEXT,
    CF_TLV,
    senml_cbor,
    tlv,
)
from lwm2m_client.core.dm import types as T

SERVER = ("127.0.0.1", 5683)  # only a dictionary key here: nothing is sent
NOW_MS = 10_000  # frozen: no timer falls due while measuring
FORMAT_NAMES = {CF_TLV: "TLV", CF_SENML_CBOR: "SenML CBOR", CF_SENML_JSON: "SenML JSON",
                CF_LWM2M_CBOR: "LwM2M CBOR", CF_TEXT: "plain text"}

# Partial Write (POST /1/0, Core 1.1 §6.3.3) of five Server resources that change no
# registration parameter: Default Minimum/Maximum Period, Disable Timeout, Notification
# Storing, Communication Retry Count. Two value sets alternate so every Write changes data.
WRITE_BASE = (1, 0)
WRITE_VALUES = (
    ((1, 0, 2), T.T_INTEGER, 10), ((1, 0, 3), T.T_INTEGER, 300),
    ((1, 0, 5), T.T_INTEGER, 86400), ((1, 0, 6), T.T_BOOLEAN, True),
    ((1, 0, 17), T.T_UNSIGNED, 5),
)
WRITE_OTHER = (
    ((1, 0, 2), T.T_INTEGER, 15), ((1, 0, 3), T.T_INTEGER, 600),
    ((1, 0, 5), T.T_INTEGER, 3600), ((1, 0, 6), T.T_BOOLEAN, False),
    ((1, 0, 17), T.T_UNSIGNED, 3),
)

MakeRequest = Callable[[int], m.Message]


class Case:
    """One benchmarked request kind: ``make(mid)`` builds its message, ``code`` is the
    response code the core must answer with."""

    def __init__(self, op: str, path: str, fmt: str, make: MakeRequest, code: int) -> None:
        self.op = op
        self.path = path
        self.fmt = fmt
        self.make = make
        self.code = code


def _request(code: int, path: str, mid: int) -> m.Message:
    msg = m.Message(m.CON, code, mid, mid.to_bytes(2, "big"))
    msg.uri_path = path
    return msg


def read_case(path: str, cf: int) -> Case:
    def make(mid: int) -> m.Message:
        msg = _request(m.GET, path, mid)
        msg.accept = cf
        return msg
    return Case("Read", path, FORMAT_NAMES[cf], make, m.CONTENT)


def write_case(cf: int) -> Case:
    codec = {CF_TLV: tlv, CF_SENML_CBOR: senml_cbor}[cf]
    buf = bytearray(256)
    bodies = []
    for values in (WRITE_VALUES, WRITE_OTHER):
        n = codec.encode_into(buf, list(values), WRITE_BASE)
        bodies.append(bytes(buf[:n]))

    def make(mid: int) -> m.Message:
        msg = _request(m.POST, "/1/0", mid)
        msg.content_format = cf
        msg.payload = bodies[mid & 1]
        return msg
    return Case("Write 5 res.", "/1/0", FORMAT_NAMES[cf], make, m.CHANGED)


def execute_case() -> Case:
    # Reset Error Code: setup.add_device wires it to a handler that clears /3/0/11.
    return Case("Execute", "/3/0/12", "-", lambda mid: _request(m.POST, "/3/0/12", mid),
                m.CHANGED)


def ping_case() -> Case:
    return Case("CoAP ping", "-", "-", lambda mid: m.Message(m.CON, m.EMPTY, mid), m.EMPTY)


def cases() -> list[Case]:
    out = []
    for path in ("/3/0", "/10242/0"):
        for cf in (CF_TLV, CF_SENML_CBOR, CF_SENML_JSON, CF_LWM2M_CBOR):
            out.append(read_case(path, cf))
    out.append(read_case("/3/0/0", CF_TEXT))
    out.append(read_case("/10242/0/41", CF_TEXT))
    out.append(write_case(CF_TLV))
    out.append(write_case(CF_SENML_CBOR))
    out.append(execute_case())
    out.append(ping_case())
    return out


def register(core: ClientCore) -> None:
    """Start the core and answer its Register by hand (Core 1.1 §6.2.1)."""
    core.start(0)
    for _ in range(10):
        deadline = core.get_timer()
        if deadline is not None:
            core.handle_timer(deadline)
        for data, addr in core.datagrams_to_send():
            reply = answer_registration(data)
            if reply is not None:
                core.receive_datagram(reply, addr, deadline or 0)
        event = core.next_event()
        while event is not None:
            if isinstance(event, ev.Registered):
                return
            event = core.next_event()
    raise RuntimeError("the client did not register")


def serve_all(core: ClientCore, datagrams: list[bytes]) -> Callable[[], None]:
    """What one timed run does: every datagram in, its response and events out."""
    receive = core.receive_datagram
    drain = core.datagrams_to_send
    next_event = core.next_event

    def run() -> None:
        for data in datagrams:
            receive(data, SERVER, NOW_MS)
            drain()
            while next_event() is not None:
                pass
    return run


def check(core: ClientCore, case: Case, datagrams: list[bytes]) -> tuple[int, str]:
    """One untimed pass: every request must be answered once with the expected code and
    reach the data model (one OperationPerformed each: no duplicate-cache short cut).
    Returns the size of a response datagram and a note on Block2."""
    performed = 0
    size = 0
    note = ""
    for data in datagrams:
        core.receive_datagram(data, SERVER, NOW_MS)
        out = core.datagrams_to_send()
        if len(out) != 1:
            raise RuntimeError(f"{case.op} {case.path}: {len(out)} datagrams for one request")
        response = m.decode(out[0][0])
        expected_type = m.RST if case.code == m.EMPTY else m.ACK
        if response.code != case.code or response.mtype != expected_type:
            raise RuntimeError(f"{case.op} {case.path} {case.fmt}: answered {response!r}")
        size = len(out[0][0])
        block2 = response.block2
        if block2 is not None:
            total = response.size2 or 0
            note = f" (block 1/{-(-total // o.block_size(block2[2]))})"
        event = core.next_event()
        while event is not None:
            performed += isinstance(event, ev.OperationPerformed)
            event = core.next_event()
    if case.code != m.EMPTY and performed != len(datagrams):
        raise RuntimeError(f"{case.op} {case.path}: {performed} of {len(datagrams)} performed")
    return size, note


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=1000,
                        help="requests per timed run, each with its own message ID")
    parser.add_argument("--seconds", type=float, default=0.5,
                        help="time spent repeating the runs of each case (best is kept)")
    parser.add_argument("--block-size", type=int, default=1024, help="client block size")
    args = parser.parse_args()
    if not 32 <= args.number <= 0x10000:
        parser.error("--number must be 32..65536 (distinct 16-bit message IDs)")

    core = meter_core("bench-1", "coap://127.0.0.1:5683", SERVER, block_size=args.block_size)
    register(core)

    print(machine())
    print(f"one client core, sans-IO; block size {args.block_size}; best of runs of "
          f"{args.number} requests over {args.seconds:.1f} s per case")
    print(f"{'operation':<13} {'path':<12} {'format':<11} {'resp B':>14} {'µs/req':>8} "
          f"{'req/s':>8}")
    first_mid = 0
    for case in cases():
        # Message IDs run on across the cases: duplicate detection keys on (peer, MID)
        # only, so reusing the previous case's last IDs would hit its cache (RFC 7252 §4.5).
        mids = [(first_mid + k) & 0xFFFF for k in range(args.number)]
        first_mid += args.number
        datagrams = [m.to_bytes(case.make(mid)) for mid in mids]
        size, note = check(core, case, datagrams)
        best = best_seconds(serve_all(core, datagrams), args.seconds)
        per = best / len(datagrams)
        print(f"{case.op:<13} {case.path:<12} {case.fmt:<11} {str(size) + note:>14} "
              f"{per * 1e6:>8.1f} {1 / per:>8.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
