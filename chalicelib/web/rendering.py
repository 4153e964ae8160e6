"""HTML pages from Jinja2 templates on the DSFR. Jinja is imported at first render (cold start)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chalice import Response

if TYPE_CHECKING:
    from jinja2 import Environment

TEMPLATES_DIR = Path(__file__).parent / "templates"
HTML = "text/html; charset=utf-8"


@cache
def environment() -> Environment:
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
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["euros"] = format_euros
    env.filters["date_fr"] = format_date
    env.filters["number_fr"] = format_number
    env.globals["static_url"] = static_url
    env.filters["date_time_fr"] = format_date_time
    env.globals["unread_badge"] = unread_badge  # the count at the top right of signed-in pages
    return env


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
