"""``lwm2m-meter mp``: the device side for MicroPython, as a lib folder or mip packages."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from lwm2m_client import mptools


def cmd_mp_lib(args: argparse.Namespace) -> int:
    parts = tuple(p.strip() for p in args.parts.split(",") if p.strip())
    for part in parts:
        mptools.part_files(part)  # an unknown part fails before anything is written
    written = mptools.build_lib(Path(args.out), parts, mpy=args.mpy)
    print(f"{len(written)} files in {args.out} ({', '.join(parts)}"
          f"{', .mpy' if args.mpy else ''}); run with MICROPYPATH={args.out}")
    return 0


def cmd_mp_packages(args: argparse.Namespace) -> int:
    for path in mptools.write_packages(Path(args.root)):
        print(path)
    return 0


def add_mp_parser(sub: argparse._SubParsersAction[Any]) -> None:
    mp = sub.add_parser(
        "mp", help="the device side for MicroPython: lib folder, mip packages",
        description="Prepare the MicroPython device side (parts: core = the sans-IO "
                    "client, mp = the MicroPython socket adapter, models = the example "
                    "meter's compiled object models).")
    verbs = mp.add_subparsers(dest="verb", metavar="VERB", required=True)
    p = verbs.add_parser("lib", help="copy or compile the parts into a folder for "
                                     "MICROPYPATH",
                         description="Write the parts into OUT as .py files, or as .mpy "
                                     "bytecode compiled with mpy-cross (--mpy), so that "
                                     "`MICROPYPATH=OUT micropython examples/mp_meter.py` "
                                     "runs.")
    p.add_argument("out", metavar="OUT", help="the folder to write (created if missing)")
    p.add_argument("--mpy", action="store_true", help="compile to .mpy with mpy-cross")
    p.add_argument("--parts", default=",".join(mptools.PARTS),
                   help="comma-separated parts (default: %(default)s)")
    p.set_defaults(func=cmd_mp_lib, prog=p.prog)
    p = verbs.add_parser("packages", help="write the mip package files",
                         description="Write package.json (every part) and "
                                     "package-<part>.json into ROOT, for `mip.install`; "
                                     "manifest.py freezes what they list.")
    p.add_argument("--root", default=str(mptools.ROOT), help="where (default: the project)")
    p.set_defaults(func=cmd_mp_packages, prog=p.prog)
