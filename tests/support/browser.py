"""Browser-side checks shared by the end-to-end journeys."""

from __future__ import annotations

from pathlib import Path

AXE_SCRIPT = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


def assert_accessible(page: object) -> None:
    """axe-core on the current page, WCAG 2.1 A and AA rules: zero violations."""
    page.add_script_tag(path=str(AXE_SCRIPT))  # type: ignore[attr-defined]
    result = page.evaluate(  # type: ignore[attr-defined]
        """async () => await axe.run(document, {
            runOnly: {
                type: 'tag',
                values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'],
            }
        })"""
    )
    violations = [
        f"{violation['id']}: {violation['help']} → "
        + ", ".join(node["target"][0] for node in violation["nodes"][:3])
        for violation in result["violations"]
    ]
    assert violations == [], f"{page.url}: " + "; ".join(violations)  # type: ignore[attr-defined]
