"""One printed line per figure, beside its budget: what every benchmark module yields.

A benchmark module exposes `figures() -> Iterator[Figure | Note]`; `bench.__main__` prints each
item as soon as it is yielded, so a slow benchmark shows progress line by line.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Comparison = Literal["≥", ">", "≤", "<"]

_COMPARE: dict[Comparison, Callable[[float, float], bool]] = {
    "≥": operator.ge,
    ">": operator.gt,
    "≤": operator.le,
    "<": operator.lt,
}

NAME_WIDTH = 58
VALUE_WIDTH = 18
BUDGET_WIDTH = 30


def format_number(value: float, decimals: int = 0) -> str:
    """French-style grouping with plain spaces, decimal point kept: 81234.5 -> "81 234.5"."""
    return f"{value:,.{decimals}f}".replace(",", " ")


@dataclass(frozen=True)
class Budget:
    comparison: Comparison
    limit: float
    decimals: int = 0

    def met_by(self, value: float) -> bool:
        return _COMPARE[self.comparison](value, self.limit)


@dataclass(frozen=True)
class Figure:
    """A measured value; with a budget it reads OK or OVER, without one it is reported only."""

    name: str
    value: float
    unit: str
    budget: Budget | None = None
    decimals: int = 0
    note: str = ""

    @property
    def ok(self) -> bool | None:
        return None if self.budget is None else self.budget.met_by(self.value)

    def line(self) -> str:
        value = f"{format_number(self.value, self.decimals)} {self.unit}".rstrip()
        if self.budget is None:
            budget, verdict = "budget: report only", "—"
        else:
            limit = format_number(self.budget.limit, self.budget.decimals)
            budget = f"budget {self.budget.comparison} {limit} {self.unit}".rstrip()
            verdict = "OK" if self.ok else "OVER"
        text = (
            f"{self.name:<{NAME_WIDTH}} {value:>{VALUE_WIDTH}}   {budget:<{BUDGET_WIDTH}} {verdict}"
        )
        return f"{text}   ({self.note})" if self.note else text


@dataclass(frozen=True)
class Note:
    """A line of context under the figures (sizes, counts, a breakdown), printed indented."""

    text: str

    def line(self) -> str:
        return f"    {self.text}"


@dataclass(frozen=True)
class Failure:
    """A benchmark that could not run: printed in place of its figures, never fatal."""

    name: str
    error: str

    def line(self) -> str:
        return f"{self.name:<{NAME_WIDTH}} {'FAILED':>{VALUE_WIDTH}}   {self.error}"


Line = Figure | Note | Failure
