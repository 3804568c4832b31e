"""Static check of the MicroPython-safe subset in lwm2m_client/core (DESIGN.md section 3.7).

The WebAssembly MicroPython that runs tests/mp is a generously configured build; smaller
ports (and older releases still in the field) lack features it has, so the subset is also
enforced here by reading the source. Each rule names what it found and where.
"""

from __future__ import annotations

import ast
import builtins
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "lwm2m_client" / "core"
CORE_FILES = sorted(CORE.rglob("*.py"))

# Modules the core must not import: I/O, clock and global randomness (sans-IO, DESIGN.md
# section 3.1) and CPython-only conveniences MicroPython lacks or trims.
FORBIDDEN_MODULES = frozenset(
    "socket asyncio select time os random dataclasses enum typing typing_extensions abc "
    "functools re json logging datetime threading __future__".split()
)
# The struct module of MicroPython: these functions, these codes, an explicit byte order.
STRUCT_FUNCTIONS = frozenset(("pack", "pack_into", "unpack", "unpack_from", "calcsize"))
STRUCT_FORMAT = re.compile(r"[<>!](?:\d*[bBhHiIqQfd])*\Z")
BUILTIN_EXCEPTIONS = frozenset(
    name
    for name in dir(builtins)
    if isinstance(getattr(builtins, name), type)
    and issubclass(getattr(builtins, name), BaseException)
)
# A self-documenting f-string field "{expr=}", "{expr=!r}", "{expr = :>4}".
FSTRING_DEBUG_FIELD = re.compile(r"(?<![=!<>])=\s*(?:![rsa])?(?::[^{}]*)?\Z", re.S)


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return _dotted(node.value) + "." + node.attr
    if isinstance(node, ast.Call):
        return _dotted(node.func)
    return ""


def _fstring_fields(text: str) -> list[str]:
    """The top-level replacement fields ``{...}`` of an f-string's source text."""
    body = text.lstrip("rRfFbBuU")
    quote = body[:3] if body[:3] in ('"""', "'''") else body[:1]
    body = body[len(quote):len(body) - len(quote)]
    fields, depth, start, i = [], 0, 0, 0
    while i < len(body):
        c = body[i]
        if depth == 0 and c in "{}" and body[i + 1:i + 2] == c:
            i += 2  # "{{" and "}}" are literal braces
            continue
        if c == "{":
            if depth == 0:
                start = i + 1
            depth += 1
        elif c == "}" and depth:
            depth -= 1
            if depth == 0:
                fields.append(body[start:i])
        i += 1
    return fields


class Checker(ast.NodeVisitor):
    """Collects ``"line N: message"`` for every construct outside the subset."""

    def __init__(self, source: str):
        self.source = source
        self.problems: list[str] = []
        self.tuple_names: set[str] = set()
        self.exception_names: list[set[str]] = [set()]
        self.fstring_depth = 0

    def report(self, node: ast.AST, message: str) -> None:
        self.problems.append(f"line {getattr(node, 'lineno', '?')}: {message}")

    def check(self, tree: ast.Module) -> list[str]:
        # Names bound to tuple literals anywhere in the module, for str.startswith(NAME).
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Tuple):
                self.tuple_names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        self.visit(tree)
        return self.problems

    # Imports

    def _import(self, node: ast.AST, module: str) -> None:
        top = module.split(".")[0]
        if top in FORBIDDEN_MODULES:
            self.report(node, f"import of {module!r} (not allowed in the core)")
        elif top == "lwm2m_client" and not (
            module == "lwm2m_client" or module.startswith("lwm2m_client.core")
        ):
            self.report(node, f"import of {module!r} (the core imports only the core)")

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._import(node, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and node.module:
            self._import(node, node.module)

    # Syntax MicroPython does not have or that smaller ports leave out

    def visit_Raise(self, node: ast.Raise) -> None:
        if node.cause is not None:
            self.report(node, "'raise ... from ...'")
        self.generic_visit(node)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.report(node, "assignment expression ':='")
        self.generic_visit(node)

    def visit_Match(self, node: ast.AST) -> None:
        self.report(node, "match statement")
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self.report(node, "annotated assignment")
        self.generic_visit(node)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        a = node.args
        for arg in a.posonlyargs + a.args + a.kwonlyargs + [a.vararg, a.kwarg]:
            if arg is not None and arg.annotation is not None:
                self.report(arg, f"annotation on argument {arg.arg!r} of {node.name}()")
        if node.returns is not None:
            self.report(node, f"return annotation on {node.name}()")
        for deco in node.decorator_list:
            if _dotted(deco).split(".")[-1] == "dataclass":
                self.report(deco, "dataclass decorator")
        self.generic_visit(node)

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for deco in node.decorator_list:
            if _dotted(deco).split(".")[-1] == "dataclass":
                self.report(deco, f"dataclass decorator on class {node.name}")
        for stmt in node.body:
            if isinstance(stmt, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__slots__" for t in stmt.targets
            ):
                self.report(stmt, f"__slots__ in class {node.name}")
        self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        if isinstance(node.op, ast.BitOr) and any(
            isinstance(side, (ast.Dict, ast.DictComp)) for side in (node.left, node.right)
        ):
            self.report(node, "dict | dict")
        self.generic_visit(node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        for value in node.values:
            spec = value.format_spec if isinstance(value, ast.FormattedValue) else None
            if isinstance(spec, ast.JoinedStr):
                if any(isinstance(v, ast.FormattedValue) for v in spec.values):
                    self.report(node, "f-string with a nested format spec")
        if self.fstring_depth == 0:
            # Format specs are f-strings of their own inside the outer one; only the
            # outermost has a source segment of its own.
            text = ast.get_source_segment(self.source, node) or ""
            for field in _fstring_fields(text):
                if FSTRING_DEBUG_FIELD.search(field):
                    self.report(node, "self-documenting f-string field '{...=}'")
        self.fstring_depth += 1
        self.generic_visit(node)
        self.fstring_depth -= 1

    # Attributes on built-in exception instances (MicroPython refuses them)

    def visit_Try(self, node: ast.Try) -> None:
        for stmt in node.body + node.orelse + node.finalbody:
            self.visit(stmt)
        for handler in node.handlers:
            names = set()
            caught = handler.type
            types = caught.elts if isinstance(caught, ast.Tuple) else [caught]
            if handler.name and any(
                isinstance(t, ast.Name) and t.id in BUILTIN_EXCEPTIONS for t in types
            ):
                names.add(handler.name)
            self.exception_names.append(names | self.exception_names[-1])
            self.visit(handler)
            self.exception_names.pop()

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            if (
                isinstance(target, ast.Attribute)
                and isinstance(target.value, ast.Name)
                and target.value.id in self.exception_names[-1]
            ):
                self.report(node, f"attribute set on built-in exception {target.value.id!r}")
        self.generic_visit(node)

    # Calls whose MicroPython form is narrower

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute):
            name = func.attr
            if name in ("startswith", "endswith") and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Tuple) or (
                    isinstance(arg, ast.Name) and arg.id in self.tuple_names
                ):
                    self.report(node, f"{name}() with a tuple")
            elif name in ("to_bytes", "from_bytes"):
                if node.keywords:
                    self.report(node, f"{name}() with keyword arguments")
                elif len(node.args) < 2:
                    self.report(node, f"{name}() without a positional byte order")
            elif name == "hex" and (node.args or node.keywords):
                self.report(node, "bytes.hex() with a separator")
            elif _dotted(func.value) == "struct":
                self._struct_call(node, name)
        self.generic_visit(node)

    def _struct_call(self, node: ast.Call, name: str) -> None:
        if name not in STRUCT_FUNCTIONS:
            self.report(node, f"struct.{name} (MicroPython has only {sorted(STRUCT_FUNCTIONS)})")
        elif node.args and isinstance(node.args[0], ast.Constant):
            fmt = node.args[0].value
            if not isinstance(fmt, str) or not STRUCT_FORMAT.match(fmt):
                self.report(node, f"struct format {fmt!r} (use <, > or ! and bBhHiIqQfd)")


def violations(source: str, filename: str = "<source>") -> list[str]:
    """Every construct of ``source`` outside the MicroPython-safe subset."""
    return Checker(source).check(ast.parse(source, filename))


@pytest.mark.parametrize("path", CORE_FILES, ids=[str(p.relative_to(ROOT)) for p in CORE_FILES])
def test_core_module_stays_in_micropython_subset(path: Path) -> None:
    problems = violations(path.read_text(encoding="utf-8"), str(path))
    assert not problems, f"{path.relative_to(ROOT)}:\n" + "\n".join(problems)


BAD_SNIPPETS = [
    ("import time", "import of 'time'"),
    ("import os.path", "import of 'os.path'"),
    ("from typing import Any", "import of 'typing'"),
    ("from __future__ import annotations", "import of '__future__'"),
    ("import logging as log", "import of 'logging'"),
    ("from lwm2m_client.aio import x", "the core imports only the core"),
    ("try:\n    f()\nexcept KeyError as e:\n    raise ValueError() from e", "raise ... from"),
    ("if (n := f()):\n    pass", "assignment expression"),
    ("match x:\n    case 1:\n        pass", "match statement"),
    ("x: int = 1", "annotated assignment"),
    ("def f(a: int):\n    pass", "annotation on argument 'a' of f()"),
    ("def f(*args: int):\n    pass", "annotation on argument 'args' of f()"),
    ("def f() -> int:\n    return 1", "return annotation on f()"),
    ("@dataclass\nclass A:\n    pass", "dataclass decorator on class A"),
    ("@dataclasses.dataclass(frozen=True)\nclass A:\n    pass", "dataclass decorator"),
    ("class A:\n    __slots__ = ('a',)", "__slots__ in class A"),
    ("s.startswith(('a', 'b'))", "startswith() with a tuple"),
    ("P = ('a', 'b')\ndef f(s):\n    return s.endswith(P)", "endswith() with a tuple"),
    ("n.to_bytes(2, byteorder='big')", "to_bytes() with keyword arguments"),
    ("n.to_bytes(2)", "to_bytes() without a positional byte order"),
    ("int.from_bytes(b)", "from_bytes() without a positional byte order"),
    ("b.hex(':')", "bytes.hex() with a separator"),
    ("d = {1: 2} | e", "dict | dict"),
    ("f'{x=}'", "self-documenting f-string"),
    ("f'{x = !r:>4}'", "self-documenting f-string"),
    ("f'{x:{w}}'", "nested format spec"),
    ("try:\n    f()\nexcept ValueError as e:\n    e.code = 1", "built-in exception 'e'"),
    ("try:\n    f()\nexcept (KeyError, OSError) as e:\n    e.x = 1", "built-in exception 'e'"),
    ("import struct\nstruct.Struct('<H')", "struct.Struct"),
    ("import struct\nstruct.pack('H', 1)", "struct format 'H'"),
    ("import struct\nstruct.pack('@H', 1)", "struct format '@H'"),
    ("import struct\nstruct.unpack_from('>4s', b)", "struct format '>4s'"),
    ("import struct\nstruct.pack('<e', 1.0)", "struct format '<e'"),
]


@pytest.mark.parametrize("source,expected", BAD_SNIPPETS, ids=[s for s, _ in BAD_SNIPPETS])
def test_checker_catches(source: str, expected: str) -> None:
    problems = violations(source)
    assert len(problems) == 1 and expected in problems[0], problems


GOOD_SNIPPETS = [
    "import struct\nstruct.pack_into('>HbB2q', buf, 0, 1, 2, 3, 4, 5)",
    "import struct\nstruct.unpack('!f', b)",
    "from lwm2m_client.core.errors import BadRequest\nfrom . import tlv",
    "import lwm2m_client",
    "n.to_bytes(4, 'big') + bytes(int.from_bytes(b, 'big'))",
    "b.hex()",
    "s.startswith('a') or s.startswith(prefix)",
    "f'{x!r:>4} {a == b} {a <= b} {x:=^10} {{x=}} {d[\"k\"]}'",
    "'%s=%r' % (a, b)",
    "x = a | b",
    "class E(Exception):\n    pass\ntry:\n    f()\nexcept E as e:\n    e.code = 1",
    "try:\n    f()\nexcept ValueError as e:\n    err = E(str(e))\n    err.code = 1",
    "try:\n    f()\nexcept ValueError:\n    raise BadRequest('x')",
    "class A:\n    @staticmethod\n    def f(x):\n        return x\n"
    "    @property\n    def p(self):\n        return 1",
]


@pytest.mark.parametrize("source", GOOD_SNIPPETS)
def test_checker_accepts(source: str) -> None:
    assert violations(source) == []


def test_every_core_file_is_checked() -> None:
    names = {p.relative_to(CORE).as_posix() for p in CORE_FILES}
    assert {"__init__.py", "errors.py", "buffer.py", "dm/types.py", "dm/path.py"} <= names
    # The type stubs next to the modules (errors.pyi ...) are read by type checkers only,
    # never by MicroPython: the subset rules are not theirs.
    assert all(p.suffix == ".py" for p in CORE_FILES)
    assert (CORE / "errors.pyi").exists()
