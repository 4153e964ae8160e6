"""The specs the code cites are in the repository (docs/specs/), cited by that path."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "docs" / "specs"
CITING = ["chalicelib", "infra", "local", "bench"]
SUFFIXES = {".py", ".md", ".yaml", ".html", ".txt"}
CITATION = re.compile(r"docs/specs/([\w-]+\.md)")
# A spec's name alone, without the folder that holds it: a reader would not find it.
BARE = re.compile(
    r"(?<![/\w-])(security|architecture|funder-files|franceconnect|product|performance)\.md"
)
# A decision of architecture.md cited without the file: « (D9) », « architecture D8 ».
DECISION = re.compile(r"\bD(?:10|[1-9])\b")
BARE_DECISION = re.compile(r"\((D\d+)[,:)]|\barchitecture (D\d+)\b", re.IGNORECASE)


def citing_files() -> list[Path]:
    found = [ROOT / "README.md"]
    for folder in CITING:
        found += [
            path
            for path in (ROOT / folder).rglob("*")
            if path.suffix in SUFFIXES and "static" not in path.parts and path.is_file()
        ]
    return found


def test_every_cited_spec_is_in_docs_specs():
    cited = {
        (path.relative_to(ROOT), name)
        for path in citing_files()
        for name in CITATION.findall(path.read_text(encoding="utf-8"))
    }
    assert {name for _, name in cited} >= {"security.md", "architecture.md", "performance.md"}
    assert [(path, name) for path, name in cited if not (SPECS / name).is_file()] == []


def test_every_decision_cited_names_architecture_md():
    # « D9 » alone sends the reader nowhere: the file is named next to it, before or after.
    loose = []
    for path in citing_files():
        text = " ".join(path.read_text(encoding="utf-8").split())
        for decision in DECISION.finditer(text):
            around = text[max(0, decision.start() - 60) : decision.end() + 45]
            if "architecture.md" not in around and "docs/specs/" not in around:
                loose.append(f"{path.relative_to(ROOT)}: …{around}…")
    assert loose == []


def test_specs_are_cited_by_their_path_in_the_repository():
    loose = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in citing_files()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "../shared/specs" in line or BARE.search(line) or BARE_DECISION.search(line)
    ]
    assert loose == []
