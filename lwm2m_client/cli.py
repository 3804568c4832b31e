"""The ``lwm2m-meter`` command.

One subcommand per area, each with its own ``add_*_parser`` and ``cmd_*`` functions, so new
areas plug into :func:`build_parser` the same way. Bad user input ends with one line on
stderr and exit code 2; the command's real output goes to stdout.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from lwm2m_client import __version__
from lwm2m_client.cli_client import add_client_parser, object_id_arg
from lwm2m_client.cli_mp import add_mp_parser
from lwm2m_client.core.dm import types as t
from lwm2m_client.core.dm.model import ObjectDef, Range, ops_name
from lwm2m_client.demo import add_demo_parser
from lwm2m_client.meter_client import ConfigError
from lwm2m_client.models import (
    ModelError,
    compile_objects,
    load_objects,
    registry_dir,
    shipped_models_dir,
    shipped_objects,
)
from lwm2m_client.mptools import PackagingError

log = logging.getLogger("lwm2m_client.cli")

EXIT_USAGE = 2

# Named object sets, searched in order: (where they came from, oid -> ObjectDef).
Catalog = list[tuple[str, dict[int, ObjectDef]]]


class UsageError(Exception):
    """Bad user input found after parsing; the message becomes the one error line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line instead of argparse's usage dump; --help has the details.
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


# -- models ------------------------------------------------------------------------------


def _catalog(args: argparse.Namespace, only_explicit: bool) -> Catalog:
    """The object sets to search, in order: --from sources, the project's
    object_models/, then the registry (--registry, or ../shared/lwm2m-registry).

    With ``only_explicit`` (for ``list``) the shipped models stand in only when no
    source was named.
    """
    sets: Catalog = []
    for source in args.sources or ():
        sets.append((source, load_objects(source)))
    explicit_registry = args.registry is not None
    if not (only_explicit and (sets or explicit_registry)):
        sets.append((str(shipped_models_dir()), shipped_objects()))
    if explicit_registry:
        if not Path(args.registry).is_dir():
            raise UsageError(f"--registry {args.registry}: not a directory")
        sets.append((args.registry, load_objects(args.registry)))
    elif not only_explicit:
        found = registry_dir()
        if found is not None:
            sets.append((str(found), load_objects(found)))
    return sets


def _find(sets: Catalog, oid: int) -> ObjectDef:
    for _, objects in sets:
        if oid in objects:
            return objects[oid]
    places = ", ".join(name for name, _ in sets)
    raise UsageError(f"object {oid} not found in {places}")


def cmd_models_list(args: argparse.Namespace) -> int:
    merged: dict[int, ObjectDef] = {}
    for _, objects in _catalog(args, only_explicit=True):
        for oid, obj in objects.items():
            merged.setdefault(oid, obj)
    rows = [("ID", "Name", "Version", "Instances", "Resources")]
    for oid in sorted(merged):
        obj = merged[oid]
        rows.append((str(oid), obj.name, obj.object_version,
                     "multiple" if obj.multiple else "single", str(len(obj.resources))))
    _print_table(rows, right=(0, 4))
    return 0


def _range_text(rng: Range | None) -> str:
    return " ".join(rng.text.split()) if rng is not None else ""


def cmd_models_show(args: argparse.Namespace) -> int:
    obj = _find(_catalog(args, only_explicit=False), args.oid)
    instances = "multiple instances" if obj.multiple else "single instance"
    presence = "mandatory" if obj.mandatory else "optional"
    print(f"{obj.oid} {obj.name}  version {obj.object_version}  LwM2M {obj.lwm2m_version}"
          f"  {instances}  {presence}")
    if obj.urn:
        print(obj.urn)
    print()
    rows = [("ID", "Name", "Ops", "Inst", "Mand", "Type", "Range", "Units")]
    for rid in sorted(obj.resources):
        r = obj.resources[rid]
        rows.append((str(rid), r.name, ops_name(r.operations) or "-",
                     "multi" if r.multiple else "single", "yes" if r.mandatory else "no",
                     t.TYPE_NAMES[r.type], _range_text(r.range), r.units))
    _print_table(rows, right=(0,))
    return 0


def _resource_list(text: str) -> tuple[int, tuple[int, ...]]:
    """``--resources OID:RID,RID,...`` as ``(oid, (rid, ...))``; an empty list after the
    colon keeps the mandatory resources only."""
    oid_text, sep, rids_text = text.partition(":")
    try:
        if not sep:
            raise ValueError
        oid = object_id_arg(oid_text)
        rids = tuple(int(r) for r in rids_text.split(",") if r.strip())
    except (ValueError, argparse.ArgumentTypeError):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not OBJECT_ID:RESOURCE_ID,RESOURCE_ID,...") from None
    if any(not 0 <= rid <= 65534 for rid in rids):
        raise argparse.ArgumentTypeError(f"{text!r}: resource IDs are 0..65534")
    return oid, rids


def cmd_models_compile(args: argparse.Namespace) -> int:
    sets = _catalog(args, only_explicit=False)
    objects = [_find(sets, oid) for oid in dict.fromkeys(args.oids)]
    resources: dict[int, tuple[int, ...]] = {}
    for oid, rids in args.resources or ():
        if oid not in args.oids:
            raise UsageError(f"--resources {oid}:...: object {oid} is not being compiled")
        resources[oid] = resources.get(oid, ()) + rids
    try:
        source = compile_objects(objects, descriptions=args.descriptions,
                                 names=not args.strip_names, resources=resources or None)
    except ValueError as exc:
        raise UsageError(f"--resources: {exc}") from None
    if args.output is None:
        sys.stdout.write(source)
    else:
        try:
            Path(args.output).write_text(source, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"-o {args.output}: cannot write: {exc.strerror or exc}") \
                from None
        log.info("compiled objects %s into %s (%d bytes)",
                 ", ".join(str(o.oid) for o in objects), args.output, len(source))
    return 0


def _print_table(rows: Sequence[Sequence[str]], right: tuple[int, ...] = ()) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [cell.rjust(w) if i in right else cell.ljust(w)
                 for i, (cell, w) in enumerate(zip(row, widths, strict=False))]
        print("  ".join(cells).rstrip())


def add_models_parser(sub: argparse._SubParsersAction[Any]) -> None:
    models = sub.add_parser(
        "models", help="list, show and compile LwM2M object definitions",
        description="Work with OMA LwM2M object definitions (XML). Objects are looked up "
                    "in --from sources first, then in the project's object_models/, then "
                    "in the OMA registry (--registry DIR, or ../shared/lwm2m-registry "
                    "next to the project when present).")
    verbs = models.add_subparsers(dest="verb", metavar="VERB", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--from", dest="sources", action="append", metavar="FILE_OR_DIR",
                       help="an object XML file or a directory of them (repeatable)")
        p.add_argument("--registry", metavar="DIR",
                       help="a directory of OMA registry object XML files")

    p = verbs.add_parser("list", help="one line per object",
                         description="List objects: ID, name, object version, instances "
                                     "and resource count. Lists the project's "
                                     "object_models/ unless --from or --registry is given.")
    common(p)
    p.set_defaults(func=cmd_models_list, prog=p.prog)

    p = verbs.add_parser("show", help="the resources of one object as a table",
                         description="Show one object's resources: ID, name, operations, "
                                     "single/multiple instances, mandatory, type, range, "
                                     "units.")
    p.add_argument("oid", type=object_id_arg, metavar="OBJECT_ID", help="the object to show")
    common(p)
    p.set_defaults(func=cmd_models_show, prog=p.prog)

    p = verbs.add_parser("compile", help="compile objects into a MicroPython-ready module",
                         description="Compile objects into a Python module of plain tuples "
                                     "that MicroPython imports without an XML parser: "
                                     "`import meter_models; meter_models.OBJECTS`.")
    p.add_argument("oids", type=object_id_arg, nargs="+", metavar="OBJECT_ID",
                   help="the objects to compile, e.g. 0 1 3 5 10243")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write the module here (default: standard output)")
    p.add_argument("--descriptions", action="store_true",
                   help="keep the descriptions (left out by default to save flash)")
    p.add_argument("--strip-names", action="store_true",
                   help="leave out object and resource names and URNs (read back as \"\"; "
                        "saves a device's RAM)")
    p.add_argument("--resources", action="append", type=_resource_list,
                   metavar="OID:RID,RID,...",
                   help="keep only these resources of object OID, and its mandatory ones "
                        "(which are always kept); repeatable, one per object")
    common(p)
    p.set_defaults(func=cmd_models_compile, prog=p.prog)


# -- entry point -------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="lwm2m-meter",
                     description="OMA LwM2M client library and smart-meter simulator.")
    parser.add_argument("--version", action="version", version="%(prog)s " + __version__)
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more diagnostics on stderr (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True,
                                parser_class=_Parser)
    add_demo_parser(sub)
    add_client_parser(sub)
    add_models_parser(sub)
    add_mp_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    # A command may log at INFO by default (`client`: the log is its output).
    level = max(getattr(args, "log_level", logging.WARNING) - 10 * args.verbose, logging.DEBUG)
    logging.basicConfig(level=level, format=getattr(
        args, "log_format", "%(name)s: %(levelname)s: %(message)s"))
    try:
        return int(args.func(args))
    except (UsageError, ModelError, ConfigError, PackagingError) as exc:
        prog = getattr(args, "prog", parser.prog)
        sys.stderr.write(f"{prog}: error: {exc}\n")
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader went away (`lwm2m-meter models list | head`): not an error of ours.
        # Point stdout at /dev/null so the interpreter's final flush stays quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
