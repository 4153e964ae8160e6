"""Every `extra=` given to a logger in chalicelib/ is safe: `logging` raises KeyError when an
extra key names an attribute of LogRecord ("thread", "message", "name"…), and that KeyError
turned a message already saved into a 500 (issue 13, Low 4). Read from the source (AST), so a
call on a path no test runs is checked too."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[2] / "chalicelib"
LOG_METHODS = {"debug", "info", "warning", "warn", "error", "exception", "critical", "log"}
# Logger.makeRecord refuses these two beyond the attributes of a fresh record.
RESERVED = set(vars(logging.LogRecord("n", logging.INFO, "p", 1, "m", None, None))) | {
    "message",
    "asctime",
}


def logger_extras() -> list[tuple[str, int, ast.expr]]:
    """(file, line, the `extra` expression) of every logging call under chalicelib/."""
    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in LOG_METHODS
            ):
                for keyword in node.keywords:
                    if keyword.arg == "extra":
                        found.append(
                            (str(path.relative_to(SOURCE.parent)), node.lineno, keyword.value)
                        )
    return found


def problems_of(extra: ast.expr) -> list[str]:
    if not isinstance(extra, ast.Dict):
        return ["extra must be a dict literal, so that its keys can be checked"]
    problems = []
    for key in extra.keys:
        if key is None:
            problems.append("no ** in extra: nest the mapping under one key instead")
        elif not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            problems.append("extra keys must be string literals")
        elif key.value in RESERVED:
            problems.append(f"{key.value!r} is a LogRecord attribute: logging would raise KeyError")
    return problems


def test_the_scan_finds_the_logging_calls() -> None:
    # Guards the scan itself: were it to find nothing, the check below would prove nothing.
    assert len(logger_extras()) >= 5


def test_no_logger_extra_key_clashes_with_a_log_record_attribute() -> None:
    failures = [
        f"{file}:{line}: {problem}"
        for file, line, extra in logger_extras()
        for problem in problems_of(extra)
    ]
    assert failures == []


@pytest.mark.parametrize("key", ["thread", "message", "name", "args", "asctime"])
def test_the_check_recognises_the_keys_that_logging_refuses(key: str) -> None:
    extra = ast.parse(f"logger.info('x', extra={{{key!r}: 1}})").body[0].value.keywords[0].value  # type: ignore[attr-defined]
    assert problems_of(extra)
    with pytest.raises(KeyError):
        logging.getLogger("test").makeRecord(
            "n", logging.INFO, "f", 1, "m", None, None, extra={key: 1}
        )
