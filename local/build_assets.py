"""Build the DSFR files the pages use, from node_modules into chalicelib/web/static/dsfr.

Run as `python -m local.build_assets` (the Makefile does). The DSFR is pinned in package.json and
installed by `npm ci`; what this script writes is git-ignored, so only it decides what gets
packaged and served. Safe to run again: the target folder is rebuilt from scratch every time.

Only what the pages use is shipped (a phone on a weak connection pays for every byte):

- one stylesheet, `dsfr/dsfr.min.css`: the DSFR's core, the components of COMPONENTS (each from
  its own file under dist/component/, in the DSFR bundle's order so the cascade is the same), and
  the rules of the `fr-icon-*` classes the templates name; then every selector that names a DSFR
  class no template uses is dropped (the pages run no script that could add one).
  tests/unit/test_assets.py fails when a DSFR rule that could match the templates is missing;
- the files that stylesheet points to (icons, fonts), and nothing else from icons/ and fonts/;
- the Marianne faces of FACES, subset to the characters French text needs (fontTools, woff2);
  the other faces' @font-face rules are dropped;
- no DSFR JavaScript: the pages use no component that needs it (menus, modals, collapses,
  tabs...), and its « system » colour scheme has no effect without the scheme stylesheet, which
  the full bundle did not load either;
- every text file (CSS, SVG, web manifest) also as `.gz` and `.br` beside it, for the servers to
  send by Accept-Encoding (chalicelib/web/static_files.py; CloudFront's S3 origin).

The IE 11 rules (`*.legacy.css`) are left out; the print rules are kept.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import posixpath
import re
import shutil
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

import brotli
from fontTools import subset

ROOT = Path(__file__).resolve().parent.parent
DSFR_DIST = ROOT / "node_modules" / "@gouvfr" / "dsfr" / "dist"
DSFR_PACKAGE = DSFR_DIST.parent / "package.json"
TARGET = ROOT / "chalicelib" / "web" / "static" / "dsfr"
TEMPLATES = ROOT / "chalicelib" / "web" / "templates"
STAMP_NAME = ".built"
STYLESHEET = "dsfr.min.css"

# The DSFR components the templates use (dist/component/<name>/). Their dependencies that the
# pages do not use (the header's menus, search, translate and modal) are left out on purpose.
COMPONENTS = (
    "logo",
    "button",
    "connect",
    "form",
    "link",
    "callout",
    "badge",
    "alert",
    "checkbox",
    "input",
    "skiplink",
    "select",
    "footer",
    "tile",
    "table",
    "header",
    "notice",
    "toggle",
)
# Marianne faces the pages paint, as file stems under dist/fonts/. Light, the italics and
# Spectral are never used by the pages' styles.
FACES = ("Marianne-Regular", "Marianne-Medium", "Marianne-Bold")
# What French text needs, typography included: Basic Latin, Latin-1 (é, à, ç, «, », no-break
# space...), Œ œ Ÿ, the apostrophe ’ and quotes, dashes, ellipsis, narrow no-break space (before
# « ; : ! ? » and in 1 234,56 €), the euro sign, minus and the arrows the texts use
# (tests/unit/test_assets.py checks the templates against this list). A name with
# another letter still shows: the browser takes that glyph from the fallback font.
FRENCH_UNICODES = (
    *range(0x20, 0x7F),
    *range(0xA0, 0x100),
    0x152,
    0x153,
    0x178,
    0x2BC,
    0x2C6,
    0x2DA,
    0x2DC,
    *range(0x2009, 0x200B),
    *range(0x2010, 0x2016),
    *range(0x2018, 0x201F),
    0x2020,
    0x2021,
    0x2022,
    0x2026,
    0x202F,
    0x2030,
    0x2039,
    0x203A,
    0x20AC,
    0x2122,
    0x2192,
    0x21BB,
    0x2212,
)
# Copied as they are: the favicons (the manifest names them), and the error pages' artwork (the
# pictogram flattened: a fifth path segment after /static would have no route).
COPIED = {
    "artwork/background/ovoid.svg": "artwork/background/ovoid.svg",
    "artwork/pictograms/system/technical-error.svg": "artwork/pictograms/technical-error.svg",
}
COPIED_FOLDERS = {"favicon": ("*.png", "*.ico", "*.svg", "*.webmanifest")}
COMPRESSED_SUFFIXES = (".css", ".svg", ".webmanifest", ".js", ".ico")
# Below this, compressing saves less than the request's headers.
COMPRESS_FROM_BYTES = 256

BANNER = re.compile(r"^/\*!.*?\*/", re.DOTALL)
URL = re.compile(r"url\((['\"]?)([^)'\"]+)\1\)")
FONT_FACE = re.compile(r"@font-face\{[^}]*\}")
ICON_CLASS = re.compile(r"fr-icon-[a-z0-9-]+[a-z0-9]")
CLASS_ATTRIBUTE = re.compile(r'class="([^"]*)"')
CLASS_NAME = re.compile(r"\.(fr-[A-Za-z0-9_-]+)")
COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
JINJA_TAG = re.compile(r"\{[{%#].*?[}%#]\}", re.DOTALL)


class AssetsError(RuntimeError):
    pass


def dsfr_version(dist: Path = DSFR_DIST) -> str:
    return str(json.loads((dist.parent / "package.json").read_text(encoding="utf-8"))["version"])


# What the templates use ------------------------------------------------------------------------


def template_classes(templates: Path = TEMPLATES) -> tuple[set[str], set[str]]:
    """The `fr-*` classes written in the templates' class attributes, and the prefixes of those
    completed at render time (`fr-alert--{{ kind }}` gives the prefix `fr-alert--`)."""
    classes: set[str] = set()
    prefixes: set[str] = set()
    for template in sorted(templates.glob("*.html")):
        for attribute in CLASS_ATTRIBUTE.finditer(template.read_text(encoding="utf-8")):
            value = attribute.group(1)
            for match in re.finditer(r"(fr-[A-Za-z0-9_-]*)(\{\{)?", value):
                if match.group(2):
                    prefixes.add(match.group(1))
            for token in JINJA_TAG.sub(" ", value).split():
                if token.startswith("fr-"):
                    classes.add(token)
    return classes - prefixes, prefixes


# The stylesheet --------------------------------------------------------------------------------


def _body(path: Path) -> str:
    """A DSFR CSS file without its licence banner (kept once, at the top of the build)."""
    return BANNER.sub("", path.read_text(encoding="utf-8"), count=1).strip()


def _component_file(dist: Path, name: str, variant: str) -> Path:
    return dist / "component" / name / f"{name}.{variant}.min.css"


def _bundle_order(dist: Path, components: Iterable[str]) -> list[str]:
    """`components` in the order the full DSFR bundle has them, so rules of equal specificity
    from two components override each other as they do in dsfr.min.css."""
    bundle = (dist / "dsfr.main.min.css").read_text(encoding="utf-8")
    positions = {}
    for name in components:
        head = _body(_component_file(dist, name, "main"))[:300]
        position = bundle.find(head)
        if position < 0:
            raise AssetsError(f"component {name!r} not found in the DSFR bundle")
        positions[name] = position
    return sorted(positions, key=positions.__getitem__)


def _rebase(css: str, source: Path, dist: Path) -> str:
    """url()s of `source` rewritten relative to the built stylesheet (top of the target, so
    relative to dist/ too)."""

    def rewrite(match: re.Match[str]) -> str:
        url = match.group(2)
        if url.startswith(("data:", "#", "http:", "https:")):
            return match.group(0)
        relative = posixpath.normpath(
            posixpath.join(source.parent.relative_to(dist).as_posix(), url)
        )
        if relative.startswith(".."):
            raise AssetsError(f"{source.name} points outside the DSFR: {url}")
        return f"url({relative})"

    return URL.sub(rewrite, css)


def _keep_faces(css: str, faces: Iterable[str]) -> str:
    """Only the @font-face rules of `faces`, each with its woff2 source alone (every browser
    that runs the DSFR's CSS variables reads woff2)."""
    wanted = set(faces)

    def keep(match: re.Match[str]) -> str:
        rule = match.group(0)
        sources = re.findall(r"url\(\.\./fonts/([A-Za-z_-]+)\.woff2\)", rule)
        if not sources or sources[0] not in wanted:
            return ""
        return re.sub(r"src:[^;}]*", f'src:url(../fonts/{sources[0]}.woff2) format("woff2")', rule)

    return FONT_FACE.sub(keep, css)


def _icon_rules(dist: Path, icons: Iterable[str]) -> list[tuple[Path, str]]:
    """The rules of the named `fr-icon-*` classes, taken from the DSFR's icon sheets."""
    rules: list[tuple[Path, str]] = []
    missing = set(icons)
    for sheet in sorted((dist / "utility" / "icons").glob("icons-*/icons-*.main.min.css")):
        for rule in re.findall(r"[^{}]+\{[^{}]*\}", _body(sheet)):
            selector = rule.split("{", 1)[0]
            names = set(re.findall(r"\.(fr-icon-[a-z0-9-]+):", selector))
            if names & missing:
                rules.append((sheet, rule))
                missing -= names
    if missing:
        raise AssetsError(f"icons not in the DSFR: {', '.join(sorted(missing))}")
    return rules


def build_stylesheet(
    dist: Path = DSFR_DIST,
    components: Iterable[str] = COMPONENTS,
    templates: Path = TEMPLATES,
    faces: Iterable[str] = FACES,
) -> tuple[str, set[str]]:
    """The stylesheet's text, and the files it points to (relative to dist/)."""
    classes, prefixes = template_classes(templates)
    icons = sorted(name for name in classes if ICON_CLASS.fullmatch(name))
    ordered = _bundle_order(dist, components)
    main_parts = [dist / "core" / "core.main.min.css"]
    main_parts += [_component_file(dist, name, "main") for name in ordered]
    print_parts = [dist / "core" / "core.print.min.css"]
    print_parts += [_component_file(dist, name, "print") for name in ordered]
    css: list[str] = []
    for part in main_parts:
        body = _body(part)
        if part.name == "core.main.min.css":
            body = _keep_faces(body, faces)
        css.append(_rebase(body, part, dist))
    for sheet, rule in _icon_rules(dist, icons):
        css.append(_rebase(rule, sheet, dist))
    css += [_rebase(_body(part), part, dist) for part in print_parts if part.is_file()]

    def used(name: str) -> bool:  # fr-alert--{{ kind }} may become any fr-alert--*
        return name in classes or name.startswith(tuple(prefixes))

    pruned = prune("\n".join(css), used)
    references = {url for _, url in URL.findall(pruned) if not url.startswith("data:")}
    banner = BANNER.match((dist / "core" / "core.main.min.css").read_text(encoding="utf-8"))
    return (banner.group(0) if banner else "") + "\n" + pruned + "\n", references


def _block_end(css: str, start: int) -> int:
    """The index just past the `}` that closes the block opened at `css[start] == "{"`
    (strings skipped: a data: URI may hold anything)."""
    depth, index, quote = 0, start, ""
    while index < len(css):
        char = css[index]
        if quote:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index + 1
        index += 1
    raise AssetsError("unbalanced braces in the DSFR stylesheet")


def _split_selectors(selectors: str) -> list[str]:
    """A selector list split at its top-level commas (not those inside :is(...), :not(...))."""
    parts, depth, current = [], 0, ""
    for char in selectors:
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += (char in "([") - (char in ")]")
        current += char
    return [*parts, current]


def required_classes(selector: str) -> list[str]:
    """The DSFR classes an element must carry for `selector` to match it: those outside any
    parentheses. A class inside `:not(...)` must be absent instead, and one inside `:is(...)`
    or `:where(...)` is one option among others."""
    outside, depth = "", 0
    for char in selector:
        depth += (char == "(") - (char == ")")
        if depth == 0 and char != ")":
            outside += char
    return CLASS_NAME.findall(outside)


def prune(css: str, used: Callable[[str], bool]) -> str:
    """`css` without the selectors that name a DSFR class the pages never use (such a selector
    cannot match them: the pages run no script that would add the class), and without the rules
    and @media blocks left empty. Comments go too."""
    css = COMMENT.sub("", css)
    kept: list[str] = []
    index = 0
    while index < len(css):
        opening = css.find("{", index)
        if opening < 0:
            break
        prelude = css[index:opening].strip()
        end = _block_end(css, opening)
        body = css[opening + 1 : end - 1]
        if prelude.startswith(("@media", "@supports", "@-moz-document")):
            inner = prune(body, used)
            if inner:
                kept.append(f"{prelude}{{{inner}}}")
        elif prelude.startswith("@"):  # @font-face, @keyframes...: kept whole
            kept.append(f"{prelude}{{{body}}}")
        else:
            selectors = [
                selector
                for selector in _split_selectors(prelude)
                if all(used(name) for name in required_classes(selector))
            ]
            if selectors:
                kept.append(f"{','.join(selectors)}{{{body}}}")
        index = end
    return "".join(kept)


def fingerprint(data: bytes) -> str:
    """The version that `chalicelib.web.static_files.static_url` puts in a file's address."""
    return hashlib.sha256(data).hexdigest()[:12]


def versioned(css: str, target: Path) -> str:
    """Each url() of the built stylesheet with its file's `?v=<content hash>`: a changed font or
    icon gets a new address despite `immutable` caching, and a font's address is the very one
    that `static_url` gives the page's preload link (else the browser fetches it twice)."""

    def add_version(match: re.Match[str]) -> str:
        url = match.group(2)
        if url.startswith(("data:", "#", "http:", "https:")):
            return match.group(0)
        return f"url({url}?v={fingerprint((target / url).read_bytes())})"

    return URL.sub(add_version, css)


# Fonts and compression -------------------------------------------------------------------------


def subset_font(source: Path, destination: Path) -> None:
    options = subset.Options()
    options.flavor = "woff2"
    # fontTools' default layout features are those browsers apply by themselves (kerning,
    # ligatures, contextual forms...); the others (case, tnum, ss01...) only apply when a
    # stylesheet asks for them through font-feature-settings, which the DSFR's never does.
    # The hinting stays: Windows uses it to draw small text.
    options.name_IDs = ["*"]  # the licence and the font's names stay in the file
    options.notdef_outline = True
    font = subset.load_font(str(source), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=FRENCH_UNICODES)
    subsetter.subset(font)
    destination.parent.mkdir(parents=True, exist_ok=True)
    subset.save_font(font, str(destination), options)


def compress(path: Path) -> list[Path]:
    """`path.gz` and `path.br` beside `path` (none for a tiny file)."""
    data = path.read_bytes()
    if len(data) < COMPRESS_FROM_BYTES:
        return []
    gz = path.with_name(path.name + ".gz")
    # mtime=0: the same input gives the same bytes, build after build.
    gz.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    br = path.with_name(path.name + ".br")
    br.write_bytes(brotli.compress(data, quality=11))
    return [gz, br]


def _copy(source: Path, destination: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, destination)


def build(dist: Path = DSFR_DIST, target: Path = TARGET) -> list[Path]:
    """Rebuild `target` from `dist`; returns the files written (compressed variants included)."""
    if not dist.is_dir():
        raise AssetsError(
            f"{dist} is missing: run `npm ci --ignore-scripts` first (or `make setup`)."
        )
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    written: list[Path] = []
    css, references = build_stylesheet(dist)
    for reference in sorted(references):
        source, destination = dist / reference, target / reference
        if not source.is_file():
            raise AssetsError(f"the stylesheet points to a missing file: {reference}")
        if source.suffix == ".woff2":
            subset_font(source, destination)
        else:
            _copy(source, destination)
        written.append(destination)
    (target / STYLESHEET).write_text(versioned(css, target), encoding="utf-8")
    written.append(target / STYLESHEET)
    for source_name, target_name in COPIED.items():
        _copy(dist / source_name, target / target_name)
        written.append(target / target_name)
    for folder, patterns in COPIED_FOLDERS.items():
        for pattern in patterns:
            for source in sorted((dist / folder).glob(pattern)):
                destination = target / source.relative_to(dist)
                _copy(source, destination)
                written.append(destination)
    for path in list(written):
        if path.suffix in COMPRESSED_SUFFIXES:
            written += compress(path)
    (target / STAMP_NAME).write_text(f"@gouvfr/dsfr {dsfr_version(dist)}\n", encoding="utf-8")
    return written


def main() -> int:
    try:
        written = build()
    except (AssetsError, FileNotFoundError) as error:
        print(f"build_assets: {error}", file=sys.stderr)
        return 1
    stylesheet = TARGET / STYLESHEET
    sizes = ", ".join(
        f"{path.name} {path.stat().st_size // 1024} Kio"
        for path in (stylesheet, stylesheet.with_name(STYLESHEET + ".br"))
    )
    print(
        f"build_assets: {len(written)} files of DSFR {dsfr_version()} built into "
        f"{TARGET.relative_to(ROOT)} ({sizes})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
