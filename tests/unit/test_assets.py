"""The DSFR build (local/build_assets.py) ships only what the pages use, and all they use.

These read the pinned DSFR in node_modules (`make setup` installs it), not the built copy, so they
check the build's rules rather than whatever build happens to lie in chalicelib/web/static.
"""

from __future__ import annotations

import gzip
import re
from functools import cache
from pathlib import Path

import brotli
import pytest
from fontTools.ttLib import TTFont

from local.build_assets import (
    COMPONENTS,
    DSFR_DIST,
    FACES,
    FRENCH_UNICODES,
    TEMPLATES,
    build_stylesheet,
    compress,
    prune,
    required_classes,
    subset_font,
    template_classes,
)

CLASS_SELECTOR = re.compile(r"\.(fr-[A-Za-z0-9_-]+)")
COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)


def defined_classes(css: str) -> set[str]:
    return set(CLASS_SELECTOR.findall(css))


def selectors(css: str) -> set[str]:
    found = set()
    for rule in re.finditer(r"([^{}]+)\{", COMMENT.sub("", css)):
        found.update(part.strip() for part in rule.group(1).split(",") if "@" not in part)
    return found


@cache
def full_dsfr() -> str:
    """The whole DSFR bundle and its icon sheet: what the pages loaded before the build was
    trimmed (IE 11 rules apart)."""
    full = (DSFR_DIST / "dsfr.main.min.css").read_text(encoding="utf-8")
    return full + (DSFR_DIST / "utility" / "icons" / "icons.main.min.css").read_text(
        encoding="utf-8"
    )


@cache
def built() -> tuple[str, frozenset[str]]:
    css, references = build_stylesheet()
    return css, frozenset(references)


def test_every_dsfr_rule_that_can_match_the_templates_is_in_the_built_stylesheet() -> None:
    """A selector whose classes the templates all use (`.fr-btns-group--inline-md .fr-btn`) may
    style a page: it must be built. One that names an unused class (`.fr-search-bar
    .fr-input--error`) cannot."""
    classes, prefixes = template_classes()

    def used(name: str) -> bool:  # fr-alert--{{ kind }} may become any fr-alert--*
        return name in classes or name.startswith(tuple(prefixes))

    built_selectors = selectors(built()[0])
    missing = sorted(
        selector
        for selector in selectors(full_dsfr())
        if (names := required_classes(selector))
        and all(used(name) for name in names)
        and selector not in built_selectors
    )
    assert not missing, f"add their component to COMPONENTS in local/build_assets.py: {missing}"
    # The check has teeth: the templates use DSFR classes, and the full bundle has far more.
    assert len(built_selectors) > 500
    assert len(selectors(full_dsfr())) > 1.5 * len(built_selectors)


def test_a_component_left_out_of_the_build_is_caught() -> None:
    css, _ = build_stylesheet(components=[name for name in COMPONENTS if name != "callout"])
    assert ".fr-callout__title" not in selectors(css)
    assert ".fr-callout__title" in selectors(full_dsfr())


def test_the_scan_sees_classes_completed_at_render_time_and_inside_jinja_tags(
    tmp_path: Path,
) -> None:
    (tmp_path / "page.html").write_text(
        '<div class="fr-alert fr-alert--{{ kind }} fr-mb-4w">'
        '<div class="fr-input-group{% if error %} fr-input-group--error{% endif %}">',
        encoding="utf-8",
    )
    classes, prefixes = template_classes(tmp_path)
    assert classes == {"fr-alert", "fr-mb-4w", "fr-input-group", "fr-input-group--error"}
    assert prefixes == {"fr-alert--"}


def test_only_the_icons_the_templates_name_are_built() -> None:
    css, references = built()
    classes, _ = template_classes()
    named = {name for name in classes if name.startswith("fr-icon-")}
    assert named, "the templates name icons"
    icon_rules = set(re.findall(r"\.(fr-icon-[a-z0-9][a-z0-9-]*):", css))
    assert icon_rules == named
    # ...and far fewer than the DSFR's icon sheet holds.
    assert len({name for name in defined_classes(full_dsfr()) if name.startswith("fr-icon-")}) > 500
    for name in named:
        assert any(
            reference.endswith(f"/{name[len('fr-icon-') :]}.svg") for reference in references
        )


def test_the_stylesheet_loads_only_the_chosen_faces_as_woff2() -> None:
    css, references = built()
    fonts = {reference for reference in references if reference.startswith("fonts/")}
    assert fonts == {f"fonts/{face}.woff2" for face in FACES}
    assert css.count("@font-face") == len(FACES)
    assert ".woff)" not in css
    assert "url(../" not in css  # every url() is relative to the built stylesheet


def test_the_legacy_rules_are_left_out_and_the_print_rules_kept() -> None:
    css, _ = built()
    assert "-ms-high-contrast" not in css
    assert "@media print" in css


def test_every_character_of_the_templates_is_in_the_font_subset() -> None:
    allowed = set(FRENCH_UNICODES) | {ord("\n"), ord("\t")}
    for template in sorted(TEMPLATES.glob("*.html")):
        outside = {
            char for char in template.read_text(encoding="utf-8") if ord(char) not in allowed
        }
        assert not outside, f"{template.name}: {sorted(outside)} not in FRENCH_UNICODES"


def test_the_subset_font_keeps_french_and_drops_the_rest(tmp_path: Path) -> None:
    source = DSFR_DIST / "fonts" / "Marianne-Regular.woff2"
    target = tmp_path / "Marianne-Regular.woff2"
    subset_font(source, target)
    assert target.stat().st_size < source.stat().st_size * 0.6
    cmap = TTFont(target).getBestCmap()
    for char in "éèêàçùœŒÉ«»’€ ":  # the last one is the narrow no-break space
        assert ord(char) in cmap, char
    assert ord("ő") not in cmap  # Hungarian: in the full font, not in the subset
    assert ord("ő") in TTFont(source).getBestCmap()


@pytest.mark.parametrize("size", [100, 5000])
def test_text_files_get_gzip_and_brotli_variants_beside_them(tmp_path: Path, size: int) -> None:
    path = tmp_path / "style.css"
    text = ("body{color:red}" * size)[:size].encode()
    path.write_bytes(text)
    written = compress(path)
    if size < 256:  # not worth a request header's size
        assert written == []
        return
    assert written == [tmp_path / "style.css.gz", tmp_path / "style.css.br"]
    assert gzip.decompress(written[0].read_bytes()) == text
    assert brotli.decompress(written[1].read_bytes()) == text
    assert compress(path) == written and written[0].read_bytes() == gzip.compress(
        text, compresslevel=9, mtime=0
    )


def test_prune_drops_selectors_naming_unused_classes_and_what_is_left_empty() -> None:
    css = (
        "/*! licence */:root{--a:1}.fr-btn,.fr-modal .fr-btn{color:red}"
        ".fr-modal{display:none}"
        "@media (min-width:48em){.fr-modal{top:0}.fr-btn:not(.fr-btn--sm,.fr-btn--lg){a:0}"
        '.fr-btn--sm{b:url("data:x{}")}.fr-btn--lg .fr-btn{c:0}}'
        "@media print{.fr-nav{display:none}}"
        "@font-face{font-family:M}"
        '[class*=" fr-icon-"]:before{content:""}'
    )
    assert prune(css, lambda name: name in {"fr-btn", "fr-btn--sm"}) == (
        ":root{--a:1}.fr-btn{color:red}"
        "@media (min-width:48em){.fr-btn:not(.fr-btn--sm,.fr-btn--lg){a:0}"
        '.fr-btn--sm{b:url("data:x{}")}}'
        "@font-face{font-family:M}"
        '[class*=" fr-icon-"]:before{content:""}'
    )


def test_a_class_inside_not_or_is_is_not_required() -> None:
    assert required_classes(".fr-btns-group:not(.fr-btns-group--sm) .fr-btn:not(.fr-btn--lg)") == [
        "fr-btns-group",
        "fr-btn",
    ]
    assert required_classes(":is(.fr-a,.fr-b)>.fr-c") == ["fr-c"]
