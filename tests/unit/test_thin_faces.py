"""The two faces only translate (issue 15): a route handler is short, and reaches the services,
never the repositories and adapters behind them — no audit, no rate-limit counting, no account
lookup of its own. Read from the source, as `bench.handler_sizes` does."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from bench.handler_sizes import FACES, handlers
from chalicelib.wiring import Ports

ROOT = Path(__file__).resolve().parents[2]

# A handler reads top to bottom: guard, request, service, answer. The longest were 34 (pages) and
# 30 (API) lines before issue 15, 47 for the first funder look-up; they are 25 and 24 now.
LONGEST_HANDLER = 30

# Ports the faces may still name, and why: the funder of the path frames every page (its name,
# its logo, whether messages are on), and `urls` builds the portal's own links.
PORTS_FACES_MAY_USE = {"funders", "urls"}

# Not ports, but the counting and the journal belong inside a use case all the same.
NEVER_IN_A_FACE = {"rate_limiter", "limiter", "audit"}


def _face_modules() -> list[Path]:
    return [path for face in FACES for path in sorted((ROOT / face).glob("*.py"))]


def _is_container(node: ast.expr) -> bool:
    """`container` or `get_container()`, the only ways a face reaches the composition root."""
    if isinstance(node, ast.Call):
        node = node.func
    return isinstance(node, ast.Name) and node.id in {"container", "get_container"}


def _attributes_used(path: Path) -> set[str]:
    """What the module takes from the container, and any rate limiter or audit it names."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and (_is_container(node.value) or node.attr in NEVER_IN_A_FACE)
    }


def _ports() -> set[str]:
    return {name for name, _ in inspect.getmembers(Ports) if not name.startswith("_")}


def test_every_route_handler_of_both_faces_is_short() -> None:
    found = handlers(ROOT)
    assert len(found) > 100, "the handlers were not found: has bench.handler_sizes changed?"
    too_long = [f"{h.path}::{h.name} ({h.lines})" for h in found if h.lines > LONGEST_HANDLER]
    assert too_long == []


def test_no_face_reaches_a_repository_an_adapter_the_audit_or_the_rate_limiter() -> None:
    forbidden = (_ports() - PORTS_FACES_MAY_USE) | NEVER_IN_A_FACE
    assert {"accounts", "audit", "counters", "dossiers", "payments"} <= forbidden
    reached = {
        f"{path.relative_to(ROOT)}: {sorted(_attributes_used(path) & forbidden)}"
        for path in _face_modules()
        if _attributes_used(path) & forbidden
    }
    assert reached == set()


def test_the_check_sees_a_face_that_counts_its_own_rate_limit(tmp_path: Path) -> None:
    face = tmp_path / "login.py"
    face.write_text(
        "def login_submit():\n"
        "    if not container.rate_limiter.allow('login', ip):\n"
        "        return too_many()\n"
        "    account = container.accounts.find_by_email(email)\n",
        encoding="utf-8",
    )
    forbidden = (_ports() - PORTS_FACES_MAY_USE) | NEVER_IN_A_FACE
    assert _attributes_used(face) & forbidden == {"rate_limiter", "accounts"}
