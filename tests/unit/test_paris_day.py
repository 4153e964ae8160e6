"""A person's « today » is Paris's day, not the servers' UTC one: from midnight to 01:00 (winter)
or 02:00 (summer) in Paris, UTC still reads the day before. CI met it at 00:00 in Paris, when a
look-up the portal dated 07/12 was compared with the machine's 06/12."""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from chalicelib.services.formatting import format_date, paris_date

CHALICELIB = Path(__file__).resolve().parents[2] / "chalicelib"

# Where a clock's UTC day is meant, and why.
UTC_DAYS = {
    # The daily job's buckets: accounts are filed under the UTC day their inactivity falls due,
    # and the job reads those same buckets back.
    "services/accounts/login.py",
    # The daily job itself; the closing day it mails is that UTC day, so an account is never
    # closed before the day its mail gives (at worst an hour or two after Paris's midnight).
    "services/accounts/retention.py",
}


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        (datetime(2026, 12, 6, 22, 59, tzinfo=UTC), "06/12/2026"),
        (datetime(2026, 12, 6, 23, 0, tzinfo=UTC), "07/12/2026"),  # winter: UTC+1
        (datetime(2026, 6, 30, 22, 30, tzinfo=UTC), "01/07/2026"),  # summer: UTC+2
        (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "01/01/2027"),
    ],
)
def test_a_moment_is_dated_in_paris(moment: datetime, day: str) -> None:
    assert format_date(moment) == day
    assert f"{paris_date(moment):%d/%m/%Y}" == day


def test_a_calendar_date_is_shown_as_it_is() -> None:
    assert format_date(date(2018, 3, 20)) == "20/03/2018"


def _clock_days(tree: ast.AST) -> list[int]:
    """Lines calling `.date()` straight on a clock's answer: `self._clock().date()`."""
    lines = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "date"
            and isinstance(node.func.value, ast.Call)
            and "clock" in ast.unparse(node.func.value.func).lower()
        ):
            lines.append(node.lineno)
    return lines


def test_no_use_case_takes_the_utc_day_for_a_person_s_today() -> None:
    found = {
        f"{path.relative_to(CHALICELIB)}:{line}"
        for path in CHALICELIB.rglob("*.py")
        for line in _clock_days(ast.parse(path.read_text(encoding="utf-8")))
        if str(path.relative_to(CHALICELIB)) not in UTC_DAYS
    }
    assert not found, f"use paris_date(clock()) for a person's day: {sorted(found)}"


def test_the_check_sees_the_utc_day() -> None:
    assert _clock_days(ast.parse("today = self._clock().date()")) == [1]
    assert _clock_days(ast.parse("today = paris_date(self._clock())")) == []
