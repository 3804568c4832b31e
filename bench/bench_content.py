"""Content-format speed on one 3-phase power meter instance (object 10242).

Builds ``/10242/0`` with every resource of the object definition set to a plausible
reading, then measures encode and decode time per object (best of several timeit
runs) for each content format.

Last, the SenML CBOR encoder against cbor2's C encoder producing the very same bytes
(checked). The comparison is kept in cbor2's favour: ``senml_cbor.encode_into`` starts
from the typed ``(path, type, value)`` records and does all the work (bn and names from
the path tuples, the value labels, the shortest float that keeps each value) into a
preallocated buffer, while ``cbor2.dumps`` gets the finished list of SenML maps, names
already text and labels already chosen, and only serialises it (into a new bytes
object; reusing one CBOREncoder over a BytesIO instead makes no material difference).
Both sides are timed in alternating rounds, so that a busy moment of a shared machine
falls on both, and each side's best round counts. The decode line compares our decoder
(to checked records) with ``cbor2.loads`` (to plain dicts).

Run: ``python bench/bench_content.py [--quick]``
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
import timeit
from collections.abc import Callable
from functools import partial
from importlib import metadata
from pathlib import Path

import cbor2

from lwm2m_client.core.content import lwm2m_cbor, lwm2m_json, senml_cbor, senml_json, tlv
from lwm2m_client.core.dm import types as T
from lwm2m_client.core.dm.model import ObjectDef
from lwm2m_client.models import loader

OID = 10242
BASE = (OID, 0)
Record = tuple[tuple[int, ...], int, object]

# Plausible magnitude of a reading by unit (a European 3-phase supply under load).
TYPICAL = {"V": 230.0, "A": 12.0, "kW": 2.7, "kvar": 0.45, "kVA": 2.8, "/100": 2.5,
           "kWh": 15234.0, "kvarh": 2104.0, "kVAh": 15890.0, "Hz": 50.0}
TEXTS = {0: "ACME Metering", 1: "PM-3000", 2: "SN-000123456", 3: "3-phase power meter"}


def object_def() -> ObjectDef:
    try:
        return loader.shipped_objects()[OID]
    except (loader.ModelError, KeyError):
        here = Path(__file__).resolve().parents[2] / "shared" / "lwm2m-registry" / "10242.xml"
        return loader.load_objects(here)[OID]


def meter_records(obj: ObjectDef) -> list[Record]:
    rng = random.Random(10242)
    records: list[Record] = []
    for rid in sorted(obj.resources):
        res = obj.resources[rid]
        value: object
        if res.type in (T.T_STRING, T.T_CORELNK):
            value = TEXTS.get(rid, res.name)
        elif res.type == T.T_FLOAT:
            base = TYPICAL.get(res.units, 0.95)  # power factors and cosines
            # Three decimals, like a meter display: values no shorter float holds.
            value = round(base * rng.uniform(0.97, 1.03), 3)
        elif res.type in (T.T_INTEGER, T.T_UNSIGNED, T.T_TIME):
            value = rng.randrange(1 << 20)
        elif res.type == T.T_BOOLEAN:
            value = True
        elif res.type == T.T_OPAQUE:
            value = bytes(range(8))
        elif res.type == T.T_OBJLNK:
            value = T.Objlnk(0, 0)
        else:
            continue  # executable resources carry no value
        path = (OID, 0, rid, 0) if res.multiple else (OID, 0, rid)
        records.append((path, res.type, value))
    return records


def best_us(fn: Callable[[], object], number: int, repeat: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6


def best_pair_us(ours: Callable[[], object], theirs: Callable[[], object], number: int,
                 rounds: int) -> tuple[float, float]:
    """Best time per call of each of two functions, timed in alternating rounds."""
    timers = (timeit.Timer(ours), timeit.Timer(theirs))
    best = [float("inf"), float("inf")]
    for _ in range(rounds):
        for i, timer in enumerate(timers):
            best[i] = min(best[i], timer.timeit(number=number))
    return best[0] / number * 1e6, best[1] / number * 1e6


def senml_dicts(records: list[Record]) -> list[dict[object, object]]:
    """The SenML CBOR structure our encoder writes for an instance read."""
    out: list[dict[object, object]] = []
    for path, typ, value in records:
        rec: dict[object, object] = {}
        if not out:
            rec[-2] = f"/{BASE[0]}/{BASE[1]}/"
        rec[0] = "/".join(str(x) for x in path[2:])
        if typ in (T.T_STRING, T.T_CORELNK):
            rec[3] = value
        elif typ == T.T_BOOLEAN:
            rec[4] = value
        elif typ == T.T_OPAQUE:
            rec[8] = value
        elif typ == T.T_OBJLNK:
            rec["vlo"] = str(value)
        else:
            rec[2] = value
        out.append(rec)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs (smoke test)")
    args = parser.parse_args()
    # Many short rounds rather than a few long ones: on a shared machine a round that
    # no other process interrupts is then likely, and the best round is what counts.
    number, repeat = (10, 15) if args.quick else (200, 35)
    # The head-to-head with cbor2 gets more and shorter rounds, spread over a second or
    # two, so that a busy spell of the machine cannot cover all of them.
    pair_number, pair_rounds = (10, 15) if args.quick else (50, 300)

    obj = object_def()
    records = meter_records(obj)
    kinds = {r[0][:3]: r[1] for r in records}
    type_of = kinds.get
    buf = bytearray(4096)

    formats = [("TLV", tlv), ("SenML CBOR", senml_cbor), ("LwM2M CBOR", lwm2m_cbor),
               ("SenML JSON", senml_json), ("LwM2M JSON", lwm2m_json)]

    print(f"{platform.python_implementation()} {platform.python_version()}, cbor2 "
          f"{metadata.version('cbor2')}")
    print(f"object {OID} ({obj.name}): {len(obj.resources)} resources, {len(records)} records")
    print(f"{'format':<12} {'bytes':>7} {'encode µs':>12} {'decode µs':>12}")
    for name, mod in formats:
        n = mod.encode_into(buf, records, BASE)
        data = bytes(buf[:n])
        decoded = sorted(mod.decode(data, BASE, type_of))
        assert decoded == sorted((r[0], r[2]) for r in records), name
        enc = best_us(partial(mod.encode_into, buf, records, BASE), number, repeat)
        dec = best_us(partial(mod.decode, data, BASE, type_of), number, repeat)
        print(f"{name:<12} {n:>7} {enc:>12.1f} {dec:>12.1f}")

    # SenML CBOR against cbor2's C encoder producing the very same bytes.
    # cbor2 6 keeps its C extension in cbor2._cbor2 (older releases: a top-level _cbor2).
    c_module = getattr(cbor2.dumps, "__module__", "") or ""
    assert c_module.endswith("_cbor2") and type(cbor2.dumps).__name__ == \
        "builtin_function_or_method", "cbor2 runs without its C extension"
    prepared = senml_dicts(records)
    n = senml_cbor.encode_into(buf, records, BASE)
    assert cbor2.dumps(prepared) == bytes(buf[:n]), "cbor2 and senml_cbor bytes differ"
    ours, theirs = best_pair_us(lambda: senml_cbor.encode_into(buf, records, BASE),
                                lambda: cbor2.dumps(prepared), pair_number, pair_rounds)
    print()
    print(f"SenML CBOR encode: senml_cbor {ours:.1f} µs, cbor2.dumps (C, prepared dicts)"
          f" {theirs:.1f} µs, ratio {ours / theirs:.2f}x")
    data = bytes(buf[:n])
    ours_dec, theirs_dec = best_pair_us(lambda: senml_cbor.decode(data, BASE, type_of),
                                        lambda: cbor2.loads(data), pair_number, pair_rounds)
    print(f"SenML CBOR decode: senml_cbor {ours_dec:.1f} µs (to records), cbor2.loads (C, to"
          f" dicts) {theirs_dec:.1f} µs, ratio {ours_dec / theirs_dec:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
