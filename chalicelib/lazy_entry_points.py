"""Routes and event handlers known at import, their modules loaded at their first call.

A cold Lambda answers one request first, and that request needs one module of `web/` or `api/`
and its services; importing all 21 (with some hundred dataclasses to build) made the first
request of every cold start pay for pages it does not serve (docs/specs/performance.md, issue
16). So `app.py` registers every route from `chalicelib/route_table.py` with a stand-in view.
The first request of a route imports its module and registers that module's blueprint for
real, in place of its stand-ins: the blueprint's own `current_request` then works, and later
requests go straight to the real views.

The table is written by `python -m chalicelib.lazy_entry_points` (`make routes`) from the modules
themselves; `--check` (in `make lint`, and `tests/integration/test_route_table.py`) fails when it
no longer matches them: the decorators in the modules stay the one place a route is declared.
"""

from __future__ import annotations

import importlib
import inspect
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

from chalice import Chalice

# The modules whose blueprints make the portal's routes, in the order they are registered.
ROUTE_MODULES = (
    "chalicelib.web.pages",
    "chalicelib.web.login",
    "chalicelib.web.signup",
    "chalicelib.web.trainings",
    "chalicelib.web.dossier_claims",
    "chalicelib.api.accounts",
    "chalicelib.api.trainings",
    "chalicelib.web.recovery",
    "chalicelib.web.account",
    "chalicelib.api.account",
    "chalicelib.web.franceconnect",
    "chalicelib.web.messages",
    "chalicelib.web.organisation",
    "chalicelib.api.messages",
    "chalicelib.web.attestations",
    "chalicelib.api.attestations",
    "chalicelib.web.second_factor",
    "chalicelib.web.funder_space",
    "chalicelib.web.funder_lookup",
    "chalicelib.api.funder_dossiers",
    "chalicelib.web.funder_files",
    "chalicelib.api.funder_files",
)


class Route(NamedTuple):
    """One route as its module's decorator declares it: what API Gateway and Chalice need."""

    module: str
    view_name: str
    path: str
    methods: tuple[str, ...]
    content_types: tuple[str, ...]
    # The view's docstring: `chalice package` makes it the operation's summary and description
    # in API Gateway's definition, read from the view registered when it builds it, the stand-in.
    doc: str | None = None


def register_routes(app: Chalice, routes: Iterable[Route]) -> None:
    """Every route of `routes` answered by a stand-in that loads its module on first call."""
    table = list(routes)
    loader = _ModuleLoader(app, [route.module for route in table])
    for route in table:
        app.route(
            route.path,
            methods=list(route.methods),
            content_types=list(route.content_types),
            name=route.view_name,
        )(loader.stand_in(route))


class _ModuleLoader:
    def __init__(self, app: Chalice, modules: list[str]) -> None:
        self._app = app
        self._modules = list(dict.fromkeys(modules))
        self._registered: set[str] = set()
        # The local stack's server answers requests on several threads (Lambda never does): two
        # first requests of one module must not both swap its routes.
        self._lock = threading.Lock()

    def stand_in(self, route: Route) -> Callable[..., Any]:
        def view(**path_parameters: str) -> Any:
            return self._real_view(route)(**path_parameters)

        view.__name__ = view.__qualname__ = route.view_name
        view.__doc__ = route.doc
        view._route_module = route.module  # type: ignore[attr-defined]
        return view

    def _real_view(self, route: Route) -> Callable[..., Any]:
        with self._lock:
            if route.module not in self._registered:
                importlib.import_module(route.module)
                # A page module may call another's helpers, which read that module's own
                # `blueprint.current_request` (« Mes formations » shown again by « Ajouter un
                # dossier »): every route module imported by now gets its blueprint registered.
                # Hence page modules import each other at the top, never inside a view
                # (tests/integration/test_route_table.py checks it).
                for module_name in self._modules:
                    if module_name not in self._registered and module_name in sys.modules:
                        self._register_for_real(module_name)
                        self._registered.add(module_name)
        return self._app.routes[route.path][route.methods[0]].view_function

    def _register_for_real(self, module_name: str) -> None:
        blueprint = sys.modules[module_name].blueprint
        # Chalice refuses a second view for a path and method: the stand-ins of this module
        # make way for its real views, which the blueprint registers as its decorators say.
        for methods in self._app.routes.values():
            for method in [
                m for m, entry in methods.items() if _is_stand_in_of(entry, module_name)
            ]:
                del methods[method]
        self._app.register_blueprint(blueprint)


def _is_stand_in_of(entry: Any, module_name: str) -> bool:
    return getattr(entry.view_function, "_route_module", None) == module_name


def deferred_handler(module_name: str, function_name: str) -> Callable[[Any], Any]:
    """An event handler whose module (and its services) is imported at its first event: the API's
    Lambda imports `app.py` too and never calls it. The function is looked up at each call."""

    def handler(event: Any) -> Any:
        return getattr(importlib.import_module(module_name), function_name)(event)

    handler.__name__ = handler.__qualname__ = function_name
    return handler


def routes_of(modules: Iterable[str] = ROUTE_MODULES) -> Iterator[Route]:
    """The routes the modules' decorators declare, in their order.

    Read from the blueprint's pending registrations rather than by registering it on a scratch
    app: Chalice consumes a route's options as it registers it, and would bind the blueprint's
    `current_request` to the scratch app."""
    for module_name in modules:
        recorder = _RouteRecorder()
        blueprint = importlib.import_module(module_name).blueprint
        for registration in blueprint._deferred_registrations:  # Chalice 1.x's pending list
            registration(recorder, {})
        for view_name, path, options, doc in recorder.routes:
            unknown = set(options) - {"methods", "content_types"}
            if unknown:
                raise ValueError(
                    f"{module_name}.{view_name}: the route table knows only methods and content "
                    f"types, not {sorted(unknown)}; teach chalicelib/lazy_entry_points.py first"
                )
            yield Route(
                module=module_name,
                view_name=view_name,
                path=path,
                methods=tuple(options.get("methods", ["GET"])),
                content_types=tuple(options.get("content_types", ["application/json"])),
                doc=doc,
            )


class _RouteRecorder:
    """Stands for the app while a blueprint's registrations are read: keeps each route's name,
    path, options (a copy) and docstring, registers nothing."""

    def __init__(self) -> None:
        self.routes: list[tuple[str, str, dict[str, Any], str | None]] = []

    def _register_handler(
        self,
        handler_type: str,
        name: str,
        user_handler: Any,
        wrapped_handler: Any,
        kwargs: dict[str, Any],
        options: dict[str, Any] | None = None,
    ) -> None:
        if handler_type != "route":
            raise ValueError(f"{name}: a page module registers routes only, not {handler_type}")
        self.routes.append(
            (name, kwargs["path"], dict(kwargs["kwargs"]), inspect.getdoc(user_handler))
        )


TABLE = "chalicelib/route_table.py"
TABLE_HEADER = """\
\"\"\"The portal's routes, written by `make routes` (chalicelib/lazy_entry_points.py) from the
decorators of the web and API modules: do not edit by hand.\"\"\"

from chalicelib.lazy_entry_points import Route

"""


def write_table(target: str = TABLE) -> None:
    rows = "".join(f"    {_source(route)},\n" for route in routes_of())
    with open(target, "w", encoding="utf-8") as table:
        table.write(f"{TABLE_HEADER}ROUTES = (\n{rows})\n")


def _source(route: Route) -> str:
    """The route as Python, without a docstring the view does not have."""
    fields = {name: value for name, value in route._asdict().items() if value is not None}
    return f"Route({', '.join(f'{name}={value!r}' for name, value in fields.items())})"


def table_is_current(table: str = TABLE) -> bool:
    """Whether the table file is what the decorators declare. In a fresh process only: Chalice
    consumes a route's options when it registers the blueprint."""
    import runpy

    return tuple(routes_of()) == runpy.run_path(table)["ROUTES"]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--check"]:
        if not table_is_current(*sys.argv[2:3]):
            raise SystemExit("chalicelib/route_table.py is out of date: run `make routes`")
    else:
        write_table()
