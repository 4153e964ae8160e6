"""The routes `app.py` registers before their modules are imported (lazy_entry_points.py).

The table is written from the modules' own decorators; this test fails when a route changed
without `make routes`, so the decorators stay the one place a route is declared. The rest
checks, in a fresh interpreter and through Chalice's own routing, that a first request loads
its module and from then on reaches the real view, and that the other pages are not loaded.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
from chalice import Blueprint, Chalice
from chalice.deploy.swagger import CFNSwaggerGenerator
from chalice.test import Client

from chalicelib.lazy_entry_points import ROUTE_MODULES, register_routes, routes_of
from chalicelib.route_table import ROUTES
from tests.support.fresh_python import REPOSITORY, run_fresh_python


def _check_table(*table: str) -> subprocess.CompletedProcess[str]:
    return run_fresh_python("-m", "chalicelib.lazy_entry_points", "--check", *table, check=False)


def test_the_table_is_what_the_modules_decorators_declare() -> None:
    # A fresh interpreter: this one's blueprints are registered, and Chalice consumed their
    # routes' options doing so.
    result = _check_table()
    assert result.returncode == 0, result.stderr


def test_the_check_sees_a_table_that_lost_a_route(tmp_path: Path) -> None:
    original = (REPOSITORY / "chalicelib" / "route_table.py").read_text(encoding="utf-8")
    stale = tmp_path / "route_table.py"
    stale.write_text(original.replace('"/formations"', '"/formations-oubliee"', 1), "utf-8")
    result = _check_table(str(stale))
    assert result.returncode != 0 and "make routes" in result.stderr


def test_every_route_of_the_portal_is_in_the_table_once() -> None:
    keys = [(route.path, method) for route in ROUTES for method in route.methods]
    assert len(keys) == len(set(keys))
    assert ("/formations", "GET") in keys and ("/api/v1/sessions", "POST") in keys


FIRST_REQUEST = """
import json, sys
import app
from chalice.deploy.swagger import CFNSwaggerGenerator
from chalice.test import Client
with Client(app.app) as client:
    answer = client.http.get(sys.argv[1])
view = app.app.routes[sys.argv[2]]["GET"].view_function
print(json.dumps({
    "status": answer.status_code,
    "loaded": sorted(m for m in sys.modules if m.startswith("chalicelib.")),
    "view": f"{view.__module__}.{view.__qualname__}",
}))
"""


def _first_request(path: str, route: str) -> dict[str, object]:
    result = run_fresh_python("-c", FIRST_REQUEST, path, route)
    return dict(json.loads(result.stdout))


def test_a_first_request_loads_its_pages_module_only_and_then_reaches_the_real_view() -> None:
    # Signed out, « Mes formations » answers its redirect from the real view of its module.
    answer = _first_request("/formations", "/formations")
    assert answer["status"] == 303
    assert answer["view"] == "chalicelib.web.trainings.trainings"
    loaded = set(answer["loaded"])  # type: ignore[arg-type]
    assert "chalicelib.web.trainings" in loaded
    assert (
        not {"chalicelib.web.account", "chalicelib.web.messages", "chalicelib.api.accounts"}
        & loaded
    )


def test_a_stand_in_answers_exactly_as_its_view_and_its_module_gets_the_request() -> None:
    blueprint = Blueprint("tests.lazy_pages")

    @blueprint.route("/page/{name}", methods=["GET", "POST"], content_types=["text/plain"])
    def page(name: str) -> dict[str, str]:
        """A page of tests.

        What API Gateway's definition says of it."""
        return {"name": name, "method": blueprint.current_request.method}

    module = type(sys)("tests.lazy_pages")
    module.blueprint = blueprint  # type: ignore[attr-defined]
    sys.modules["tests.lazy_pages"] = module
    try:
        app = Chalice(app_name="lazy")
        register_routes(app, routes_of(["tests.lazy_pages"]))
        assert app.routes["/page/{name}"]["GET"].view_function is not page  # a stand-in
        # `chalice package` builds API Gateway's definition from the stand-ins: the view's
        # docstring is still its summary and description there.
        operation = CFNSwaggerGenerator().generate_swagger(app)["paths"]
        assert operation["/page/{name}"]["get"]["summary"] == "A page of tests."
        assert operation["/page/{name}"]["post"]["description"] == (
            "What API Gateway's definition says of it."
        )
        with Client(app) as client:
            plain = {"content-type": "text/plain"}
            assert client.http.get("/page/un", headers=plain).json_body == {
                "name": "un",
                "method": "GET",
            }
            answer = client.http.post("/page/deux", headers=plain)
            assert answer.json_body == {"name": "deux", "method": "POST"}
            # An undeclared content type is refused before any view, as Chalice does.
            refused = client.http.post("/page/trois", headers={"content-type": "text/html"})
            assert refused.status_code == 415
        assert app.routes["/page/{name}"]["GET"].view_function is page
        assert app.routes["/page/{name}"]["POST"].view_function is page
    finally:
        del sys.modules["tests.lazy_pages"]


def test_a_view_that_uses_another_page_modules_helper_finds_that_modules_request() -> None:
    helpers = Blueprint("tests.lazy_helpers")

    @helpers.route("/aide")
    def help_page() -> dict[str, str]:
        return {}

    def path_seen() -> str:  # a helper of that module, reading its own blueprint's request
        return str(helpers.current_request.path)

    pages = Blueprint("tests.lazy_caller")

    @pages.route("/appelant")
    def caller() -> dict[str, str]:
        return {"path": path_seen()}

    for name, blueprint in (("tests.lazy_helpers", helpers), ("tests.lazy_caller", pages)):
        module = type(sys)(name)
        module.blueprint = blueprint  # type: ignore[attr-defined]
        sys.modules[name] = module
    try:
        app = Chalice(app_name="lazy")
        register_routes(app, routes_of(["tests.lazy_helpers", "tests.lazy_caller"]))
        with Client(app) as client:
            # Only the caller's route was requested; the helper's module is already imported.
            assert client.http.get("/appelant").json_body == {"path": "/appelant"}
    finally:
        del sys.modules["tests.lazy_helpers"], sys.modules["tests.lazy_caller"]


def test_a_route_option_the_table_cannot_carry_is_refused_when_the_table_is_written() -> None:
    blueprint = Blueprint("tests.lazy_api_key")

    @blueprint.route("/secret", api_key_required=True)
    def secret() -> dict[str, str]:
        return {}

    module = type(sys)("tests.lazy_api_key")
    module.blueprint = blueprint  # type: ignore[attr-defined]
    sys.modules["tests.lazy_api_key"] = module
    try:
        with pytest.raises(ValueError, match="methods and content"):
            list(routes_of(["tests.lazy_api_key"]))
    finally:
        del sys.modules["tests.lazy_api_key"]


def _late_imports(source: str) -> set[str]:
    """The modules `source` imports in a function's body: imported only when that runs."""
    late: set[str] = set()
    for function in ast.walk(ast.parse(source)):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(function):
                if isinstance(node, ast.ImportFrom) and node.module:
                    late |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
                elif isinstance(node, ast.Import):
                    late |= {alias.name for alias in node.names}
    return late


def test_no_page_module_imports_another_inside_a_function() -> None:
    """The loader registers, at a route's first call, every page module imported by then. One
    imported later, inside a view, would call its helpers before its blueprint is registered:
    their `blueprint.current_request` raises. Page modules import each other at the top."""
    late = {
        f"{module} → {other}"
        for module in ROUTE_MODULES
        for other in _late_imports(
            (REPOSITORY / f"{module.replace('.', '/')}.py").read_text(encoding="utf-8")
        )
        & set(ROUTE_MODULES)
    }
    assert not late


def test_the_check_sees_a_page_module_imported_inside_a_function() -> None:
    source = (
        "def view():\n    from chalicelib.web import trainings\n    import chalicelib.web.login"
    )
    assert {"chalicelib.web.trainings", "chalicelib.web.login"} <= _late_imports(source)
    assert _late_imports("from chalicelib.web import trainings\n") == set()
