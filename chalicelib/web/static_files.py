"""Static files (the DSFR copied by `local.build_assets`, and app.css) served by the app itself.

Chalice has no greedy `{proxy+}` route, so one route per depth: four segments after /static are
enough for the DSFR tree (dsfr/icons/arrows/arrow-up-line.svg). Only known extensions are
served, and only files that really lie inside the static folder.
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from pathlib import Path
from typing import Any

from chalice import Blueprint, Chalice, Response

STATIC_DIR = (Path(__file__).parent / "static").resolve()
STATIC_PREFIX = "/static/"

CONTENT_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".webmanifest": "application/manifest+json",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".png": "image/png",
    ".ico": "image/x-icon",
}
# Sent as bytes: Chalice base64-encodes them, and API Gateway must know them as binary.
BINARY_TYPES = ("font/woff2", "font/woff", "image/png", "image/x-icon")

# Every file name is versioned by the query string that `static_url` adds (and the DSFR is
# pinned), so a browser may keep what it fetched.
CACHE_FOREVER = "public, max-age=31536000, immutable"

# A segment is a plain file or folder name: no "..", no hidden file (such as dsfr/.built), no
# encoded separator.
SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def register_binary_types(app: Chalice) -> None:
    for content_type in BINARY_TYPES:
        if content_type not in app.api.binary_types:
            app.api.binary_types.append(content_type)


class StaticFilesBlueprint(Blueprint):
    """Registering the blueprint also declares its binary types: app.py has nothing more to do."""

    def register(self, app: Chalice, options: dict[str, Any]) -> None:
        super().register(app, options)
        register_binary_types(app)


blueprint = StaticFilesBlueprint(__name__)


def resolve(segments: tuple[str, ...]) -> Path | None:
    """The file that `segments` name under the static folder, or None when there is none."""
    if not all(SEGMENT.fullmatch(segment) for segment in segments):
        return None
    path = STATIC_DIR.joinpath(*segments).resolve()
    if not path.is_relative_to(STATIC_DIR) or not path.is_file():
        return None
    if path.suffix not in CONTENT_TYPES:
        return None
    return path


@cache
def _fingerprint(path: Path, modified_ns: int, size: int) -> str:
    # Keyed by modification time and size too, so that an edited app.css gets a new URL in a
    # running local server; in Lambda the files never change and each is hashed once.
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def static_url(relative_path: str) -> str:
    """`/static/<relative_path>?v=<content hash>`: a changed file gets a new URL."""
    path = resolve(tuple(relative_path.split("/")))
    if path is None:  # not built yet (`make setup` copies the DSFR): the link will answer 404
        return f"{STATIC_PREFIX}{relative_path}"
    stat = path.stat()
    return f"{STATIC_PREFIX}{relative_path}?v={_fingerprint(path, stat.st_mtime_ns, stat.st_size)}"


def _serve(*segments: str) -> Response:
    path = resolve(segments)
    if path is None:
        from chalicelib.web.rendering import not_found_page

        response = not_found_page()
        response.headers["Cache-Control"] = "no-store"
        return response
    content_type = CONTENT_TYPES[path.suffix]
    body: str | bytes = (
        path.read_bytes() if content_type in BINARY_TYPES else path.read_text(encoding="utf-8")
    )
    return Response(
        body=body,
        status_code=200,
        headers={"Content-Type": content_type, "Cache-Control": CACHE_FOREVER},
    )


@blueprint.route("/static/{a}")
def static_1(a: str) -> Response:
    return _serve(a)


@blueprint.route("/static/{a}/{b}")
def static_2(a: str, b: str) -> Response:
    return _serve(a, b)


@blueprint.route("/static/{a}/{b}/{c}")
def static_3(a: str, b: str, c: str) -> Response:
    return _serve(a, b, c)


@blueprint.route("/static/{a}/{b}/{c}/{d}")
def static_4(a: str, b: str, c: str, d: str) -> Response:
    return _serve(a, b, c, d)
