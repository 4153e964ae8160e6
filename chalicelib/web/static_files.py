"""Static files (the DSFR copied by `local.build_assets`, and app.css): their URLs in the pages.

The API never serves them (docs/specs/architecture.md, D9: nothing binary through API Gateway). In
AWS, `infra.deploy` uploads this folder to the S3 assets bucket that CloudFront serves under
`/static/`; locally the front (local/front.py) plays that part. Both take the content type and the
cache header from here.
"""

from __future__ import annotations

import hashlib
import os
import re
from functools import cache
from pathlib import Path

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

# Every URL carries the file's content hash (`static_url`), which the distribution's cache key
# includes, and the DSFR is pinned: a browser and CloudFront may keep what they fetched.
CACHE_FOREVER = "public, max-age=31536000, immutable"

# A segment is a plain file or folder name: no "..", no hidden file (such as dsfr/.built), no
# encoded separator.
SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def resolve(segments: tuple[str, ...], static_dir: Path = STATIC_DIR) -> Path | None:
    """The file that `segments` name under the static folder, or None when there is none."""
    # The segments' pattern is the guard against leaving the folder (no "..", no separator);
    # the path is not resolved, so that a built folder may be a symbolic link.
    if not segments or not all(SEGMENT.fullmatch(segment) for segment in segments):
        return None
    path = static_dir.joinpath(*segments)
    if not path.is_file():
        return None
    if path.suffix not in CONTENT_TYPES:
        return None
    return path


def content_type(path: Path) -> str:
    return CONTENT_TYPES[path.suffix]


def published_files(static_dir: Path = STATIC_DIR) -> list[tuple[str, Path]]:
    """(path under /static/, file) of every file the pages may link to: what gets uploaded."""
    found = []
    for folder, _, names in os.walk(static_dir, followlinks=True):
        for name in names:
            relative = (Path(folder) / name).relative_to(static_dir).parts
            if resolve(relative, static_dir) is not None:
                found.append(("/".join(relative), Path(folder) / name))
    return sorted(found)


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
