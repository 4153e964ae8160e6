"""HTML pages from Jinja2 templates on the DSFR. Jinja is imported at first render (cold start).

Compiling a template costs a cold Lambda's first page 5 to 15 ms each (« Mes formations » needs
four). The package ships them compiled (`compile_templates`, called by infra/package.py) in
Jinja's bytecode cache, which compares each entry with a checksum of its template's source: an
edited template is compiled afresh, never served stale.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chalice import Response

if TYPE_CHECKING:
    from jinja2 import BytecodeCache, Environment

TEMPLATES_DIR = Path(__file__).parent / "templates"
BYTECODE_DIR = Path(__file__).parent / "templates_bytecode"
HTML = "text/html; charset=utf-8"


def _bytecode_cache(directory: Path, writable: bool) -> BytecodeCache:
    from jinja2 import FileSystemBytecodeCache

    class ShippedTemplates(FileSystemBytecodeCache):
        def get_cache_key(self, name: str, filename: str | None = None) -> str:
            # By name only: the package's path (/var/task/...) is not the build's.
            return super().get_cache_key(name)

        def dump_bytecode(self, bucket: Any) -> None:
            if writable:  # /var/task is read-only: a template compiled there stays in memory
                super().dump_bytecode(bucket)

    return ShippedTemplates(str(directory), "%s.cache")


def _environment(templates: Path, bytecode: BytecodeCache | None) -> Environment:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    from chalicelib.services.formatting import (
        format_date,
        format_date_time,
        format_euros,
        format_number,
    )
    from chalicelib.web.static_files import static_url
    from chalicelib.web.unread import unread_badge

    env = Environment(
        loader=FileSystemLoader(templates),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        bytecode_cache=bytecode,
    )
    env.filters["euros"] = format_euros
    env.filters["date_fr"] = format_date
    env.filters["number_fr"] = format_number
    env.globals["static_url"] = static_url
    env.filters["date_time_fr"] = format_date_time
    env.globals["unread_badge"] = unread_badge  # the count at the top right of signed-in pages
    return env


@cache
def environment() -> Environment:
    shipped = _bytecode_cache(BYTECODE_DIR, writable=False) if BYTECODE_DIR.is_dir() else None
    return _environment(TEMPLATES_DIR, shipped)


def compile_templates(templates: Path = TEMPLATES_DIR, target: Path = BYTECODE_DIR) -> int:
    """Every page template compiled into `target`, as the package ships them; how many."""
    target.mkdir(exist_ok=True)
    env = _environment(templates, _bytecode_cache(target, writable=True))
    names = env.list_templates(extensions=["html"])
    for name in names:
        env.get_template(name)
    return len(names)


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def html_page(template: str, status_code: int = 200, **context: Any) -> Response:
    return Response(
        body=render(template, **context), status_code=status_code, headers={"Content-Type": HTML}
    )


def not_found_page(message: str | None = None) -> Response:
    """The French 404 page; `message` says what was not found when it helps the reader."""
    return html_page("not_found.html", status_code=404, error_code=404, message=message)


def request_error_page(status_code: int, message: str | None = None) -> Response:
    """The French page for a request the app cannot read (Chalice's own 405 and 415 answers)
    or will not serve now (429, with `message` saying why)."""
    return html_page(
        "request_error.html", status_code=status_code, error_code=status_code, message=message
    )


def error_page(status_code: int = 500, reference: str | None = None) -> Response:
    """The French error page: no technical detail, the cause goes to the logs. The reference is
    the request's correlation id, which finds those logs when someone reports the error."""
    return html_page(
        "error.html", status_code=status_code, error_code=status_code, reference=reference
    )
