"""The import rules of pyproject.toml ([tool.importlinter]), as `make lint` runs them: the tree
keeps them all, and a copy of it with one bad import breaks the contract that forbids it, named
in lint-imports' answer."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(project: Path) -> subprocess.CompletedProcess[str]:
    # PYTHONPATH names the project alone: the copy is analysed, never the tree it came from.
    environment = {**os.environ, "PYTHONPATH": str(project)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def copy_of_the_project(destination: Path) -> Path:
    """The Python of chalicelib, the configuration and the project's own contract type."""
    shutil.copytree(
        ROOT / "chalicelib",
        destination / "chalicelib",
        ignore=shutil.ignore_patterns("static", "templates", "__pycache__", "*.json", "*.txt"),
    )
    (destination / "infra").mkdir()
    for name in ("__init__.py", "import_rules.py"):
        shutil.copy(ROOT / "infra" / name, destination / "infra" / name)
    shutil.copy(ROOT / "pyproject.toml", destination / "pyproject.toml")
    return destination


def test_the_tree_keeps_every_import_contract():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "bad_import", "contract", "named"),
    [
        (
            "chalicelib/api/messages.py",
            "from chalicelib.web import http",
            "The JSON API does not import the HTML pages, nor the pages the API",
            "chalicelib.api.messages -> chalicelib.web.http",
        ),
        (
            "chalicelib/services/mail/mails.py",
            "from chalicelib.container import get_settings",
            "No service imports the composition root (chalicelib.container)",
            "chalicelib.services.mail.mails -> chalicelib.container",
        ),
        (
            "chalicelib/web/guards.py",
            "from chalicelib.web import login",
            "No import cycle between the modules of chalicelib",
            "chalicelib.web.guards, chalicelib.web.login",
        ),
    ],
    ids=["api-imports-web", "service-imports-container", "cycle"],
)
def test_one_bad_import_breaks_the_contract_that_forbids_it(
    tmp_path, module, bad_import, contract, named
):
    project = copy_of_the_project(tmp_path)
    source = project / module
    source.write_text(source.read_text() + f"\n{bad_import}  # the deliberate bad import\n")

    result = lint_imports(project)

    assert result.returncode == 1, result.stdout + result.stderr
    # lint-imports wraps long lines at 80 columns: compare the words.
    report = " ".join(result.stdout.split())
    assert f"{contract} BROKEN" in report
    broken_section = report.partition("Broken contracts")[2]
    assert named in broken_section


def test_app_py_registers_every_middleware_outermost_first():
    import app as portal
    from chalicelib.api.responses import api_errors
    from chalicelib.observability_middleware import observe
    from chalicelib.web.pages import html_error_pages
    from chalicelib.web.unread import forget_between_requests

    handlers = [handler for handler, _ in portal.app.middleware_handlers]
    # The security headers' middleware is a closure over the settings: second, by its name.
    assert [getattr(handler, "__qualname__", "") for handler in handlers][1].startswith(
        "security_headers."
    )
    assert handlers[:1] + handlers[2:] == [
        observe,
        html_error_pages,
        api_errors,
        forget_between_requests,
    ]


def test_no_blueprint_registers_a_middleware_of_its_own():
    # app.py does all the wiring: a middleware registered from a blueprint runs on every route of
    # the app, but the reader of app.py would not see it.
    registering = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "chalicelib").rglob("*.py")
        if ".register_middleware(" in path.read_text(encoding="utf-8")
    ]
    assert registering == []
