"""French formats for everything a person reads: `1 234,56 €`, `20/03/2018`."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

NARROW_NO_BREAK_SPACE = "\u202f"
NO_BREAK_SPACE = "\u00a0"
CENT = Decimal("0.01")


def format_number(value: Decimal, decimals: int = 2) -> str:
    quantum = Decimal(1).scaleb(-decimals)
    rounded = value.quantize(quantum, rounding=ROUND_HALF_UP)
    text = f"{abs(rounded):,.{decimals}f}".replace(",", NARROW_NO_BREAK_SPACE).replace(".", ",")
    return f"-{text}" if rounded < 0 else text


def format_euros(value: Decimal) -> str:
    return f"{format_number(value)}{NO_BREAK_SPACE}€"


def format_date(value: date) -> str:
    """« 20/03/2018 ». A moment (a datetime) is dated in Paris, where people read it."""
    if isinstance(value, datetime):
        value = paris_date(value)
    return value.strftime("%d/%m/%Y")


def format_date_time(value: datetime) -> str:
    """« 27/11/2026 à 10:24 », in Paris time whatever the server's zone."""
    local = paris_time(value)
    return f"{local:%d/%m/%Y} à {local:%H:%M}"


def paris_date(value: datetime) -> date:
    """The day it is in Paris at `value`: a person's « today ». The servers' UTC date is still
    the day before until 01:00 (winter) or 02:00 (summer) in Paris."""
    return paris_time(value).date()


def paris_month(value: datetime) -> str:
    """« 2026-12 »: the month it is in Paris at `value`, the one a funder's dashboard counts
    in (« ce mois-ci »)."""
    return f"{paris_time(value):%Y-%m}"


def paris_time(value: datetime) -> datetime:
    """`value` in Paris time. zoneinfo is imported here: it reads the zone database and loads
    sysconfig, a cold start's cost for pages that show no time (tests/integration/
    test_cold_import.py)."""
    from zoneinfo import ZoneInfo

    return value.astimezone(ZoneInfo("Europe/Paris"))
