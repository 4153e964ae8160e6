"""Copy the DSFR files the pages use from node_modules into chalicelib/web/static/dsfr.

Run as `python -m local.build_assets` (the Makefile does). The DSFR is pinned in package.json and
installed by `npm ci`; its copy is git-ignored, so only this script decides what gets packaged
with the Lambda. Safe to run again: the target folder is rebuilt from scratch every time.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DSFR_DIST = ROOT / "node_modules" / "@gouvfr" / "dsfr" / "dist"
DSFR_PACKAGE = DSFR_DIST.parent / "package.json"
TARGET = ROOT / "chalicelib" / "web" / "static" / "dsfr"
STAMP = TARGET / ".built"

# Single files, relative to dist/. The stylesheet's url() references are relative to it (fonts/,
# icons/), so the tree keeps DSFR's own layout.
FILES = (
    "dsfr.min.css",
    "dsfr.module.min.js",
    "dsfr.nomodule.min.js",
    # The fr-icon-* classes are not in dsfr.min.css; its url()s point to ../../icons/.
    "utility/icons/icons.min.css",
    # The error pages show DSFR's pictogram; pictograms/system/ would be one level too deep for
    # the static routes (four segments after /static), so it is flattened when copied.
    "artwork/background/ovoid.svg",
)
FLATTENED = {
    "artwork/pictograms/system/technical-error.svg": "artwork/pictograms/technical-error.svg",
}
# Whole folders, with the file patterns kept from each.
FOLDERS = {
    "fonts": ("*.woff2", "*.woff"),
    "icons": ("*.svg",),
    "favicon": ("*.png", "*.ico", "*.svg", "*.webmanifest"),
}


class AssetsError(RuntimeError):
    pass


def _copy(source: Path, destination: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, destination)


def dsfr_version() -> str:
    return str(json.loads(DSFR_PACKAGE.read_text(encoding="utf-8"))["version"])


def build(dist: Path = DSFR_DIST, target: Path = TARGET) -> int:
    """Rebuild `target` from `dist`; returns the number of files copied."""
    if not dist.is_dir():
        raise AssetsError(
            f"{dist} is missing: run `npm ci --ignore-scripts` first (or `make setup`)."
        )
    if target.exists():
        shutil.rmtree(target)
    copied = 0
    for name in FILES:
        _copy(dist / name, target / name)
        copied += 1
    for source_name, target_name in FLATTENED.items():
        _copy(dist / source_name, target / target_name)
        copied += 1
    for folder, patterns in FOLDERS.items():
        for pattern in patterns:
            for source in sorted((dist / folder).rglob(pattern)):
                _copy(source, target / source.relative_to(dist))
                copied += 1
    (target / STAMP.name).write_text(f"@gouvfr/dsfr {dsfr_version()}\n", encoding="utf-8")
    return copied


def main() -> int:
    try:
        copied = build()
    except (AssetsError, FileNotFoundError) as error:
        print(f"build_assets: {error}", file=sys.stderr)
        return 1
    print(
        f"build_assets: {copied} DSFR {dsfr_version()} files copied into {TARGET.relative_to(ROOT)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
