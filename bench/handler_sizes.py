"""Prints the size of every route handler of the two faces (chalicelib/web, chalicelib/api),
longest first: a handler's lines run from its decorators to its last line, nested closures
included, so that a page passed as a callback counts with the route that calls it.

Usage: .venv/bin/python -m bench.handler_sizes [--top N]
"""

from __future__ import annotations

import argparse
import ast
from dataclasses import dataclass
from pathlib import Path

FACES = ("chalicelib/web", "chalicelib/api")


@dataclass(frozen=True)
class Handler:
    path: str
    name: str
    lines: int


def _is_route(decorator: ast.expr) -> bool:
    return (
        isinstance(decorator, ast.Call)
        and isinstance(decorator.func, ast.Attribute)
        and decorator.func.attr == "route"
    )


def handlers(root: Path) -> list[Handler]:
    found: list[Handler] = []
    for face in FACES:
        for path in sorted((root / face).glob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef) and any(
                    _is_route(d) for d in node.decorator_list
                ):
                    first = min(d.lineno for d in node.decorator_list)
                    last = node.end_lineno or node.lineno
                    found.append(Handler(str(path.relative_to(root)), node.name, last - first + 1))
    return sorted(found, key=lambda h: h.lines, reverse=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--top", type=int, default=10)
    arguments = parser.parse_args()
    found = handlers(Path(__file__).resolve().parent.parent)
    for face in FACES:
        sizes = [h.lines for h in found if h.path.startswith(face)]
        print(f"{face}: {len(sizes)} handlers, longest {max(sizes)} lines, total {sum(sizes)}")
    for handler in found[: arguments.top]:
        print(f"{handler.lines:4d}  {handler.path}::{handler.name}")


if __name__ == "__main__":
    main()
