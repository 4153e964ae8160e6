"""Page templates shipped compiled (chalicelib/web/rendering.py): used as they are, and never
served stale after the template changed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chalicelib.web.rendering import (
    TEMPLATES_DIR,
    _bytecode_cache,
    _environment,
    compile_templates,
)


def _counting_compiles(env: Any) -> list[str]:
    compiled: list[str] = []
    original = env.compile

    def compile_and_count(source: str, name: str | None = None, *args: Any, **kw: Any) -> Any:
        compiled.append(name or "")
        return original(source, name, *args, **kw)

    env.compile = compile_and_count
    return compiled


def test_a_shipped_template_is_not_compiled_again_and_an_edited_one_is(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "page.html").write_text("<p>{{ 'un' }}</p>")
    target = tmp_path / "bytecode"
    assert compile_templates(templates, target) == 1
    shipped = sorted(target.iterdir())

    env = _environment(templates, _bytecode_cache(target, writable=False))
    compiled = _counting_compiles(env)
    assert env.get_template("page.html").render() == "<p>un</p>"
    assert compiled == []

    (templates / "page.html").write_text("<p>{{ 'deux' }}</p>")
    env = _environment(templates, _bytecode_cache(target, writable=False))
    compiled = _counting_compiles(env)
    assert env.get_template("page.html").render() == "<p>deux</p>"
    assert compiled == ["page.html"]
    assert sorted(target.iterdir()) == shipped  # read-only, as /var/task is


def test_every_page_template_compiles(tmp_path: Path) -> None:
    count = compile_templates(TEMPLATES_DIR, tmp_path)
    assert count == len(list(TEMPLATES_DIR.glob("*.html"))) > 40
    assert len(list(tmp_path.glob("*.cache"))) == count
