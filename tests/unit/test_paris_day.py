"""A person's « today » is Paris's day, not the servers' UTC one: from midnight to 01:00 (winter)
or 02:00 (summer) in Paris, UTC still reads the day before. CI met it at 00:00 in Paris, when a
look-up the portal dated 07/12 was compared with the machine's 06/12."""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from chalicelib.services.formatting import format_date, paris_date, paris_month
from chalicelib.services.funders.dashboard import FunderDashboard
from tests.support.fakes import FakeClock
from tests.support.funder_fakes import MemoryDashboardCounters

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


def test_the_dashboard_counts_in_the_month_it_is_in_paris() -> None:
    """23:30 UTC on 30/11 is 00:30 on 01/12 in Paris: December's first file of the funder."""
    moment = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    assert paris_month(moment) == "2026-12"
    assert paris_month(datetime(2026, 3, 31, 21, 59, tzinfo=UTC)) == "2026-03"  # summer time
    assert paris_month(datetime(2026, 3, 31, 22, 0, tzinfo=UTC)) == "2026-04"
    counters = MemoryDashboardCounters()
    counters.add("region-idf", paris_month(moment), {"files": 1})
    dashboard = FunderDashboard(counters, FakeClock(moment)).read("region-idf")
    assert (dashboard.month, dashboard.files_this_month) == ("2026-12", 1)


def test_a_calendar_date_is_shown_as_it_is() -> None:
    assert format_date(date(2018, 3, 20)) == "20/03/2018"


def _clock_days(tree: ast.AST) -> list[int]:
    """Lines taking the UTC day or month of a moment: `self._clock().date()`, and any
    `f"{moment:%Y-%m}"` (a month key is `paris_month`'s)."""
    lines = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "date"
            and isinstance(node.func.value, ast.Call)
            and "clock" in ast.unparse(node.func.value.func).lower()
        ) or (
            isinstance(node, ast.FormattedValue)
            and node.format_spec is not None
            and ast.unparse(node.format_spec).strip("f'\"") == "%Y-%m"
            and not ast.unparse(node.value).startswith("paris_time(")
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
    assert not found, f"use paris_date or paris_month: {sorted(found)}"


def test_the_check_sees_the_utc_day() -> None:
    assert _clock_days(ast.parse("today = self._clock().date()")) == [1]
    assert _clock_days(ast.parse("today = paris_date(self._clock())")) == []
    assert _clock_days(ast.parse('month = f"{self._clock():%Y-%m}"')) == [1]
    assert _clock_days(ast.parse("month = paris_month(self._clock())")) == []
