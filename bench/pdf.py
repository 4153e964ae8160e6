"""Payment PDF: render the guide's payment notice (IDF-P-2018-0003 of 20/03/2018), 200 times.

Budget (docs/specs/performance.md): ≤ 15 ms median to render one payment notice, ≤ 40 KB. Each timed
render builds the content and the PDF, as a request does; the first render, which imports reportlab
and builds the styles, is reported apart and left out of the median.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from bench.figures import Budget, Figure, Line, Note

if TYPE_CHECKING:
    from chalicelib.services.funders.model import Funder
    from chalicelib.services.trainings.dossiers import Dossier
    from chalicelib.services.trainings.payments import Payment

RENDERS = 200
TIME_BUDGET = Budget("≤", 15)
SIZE_BUDGET = Budget("≤", 40)


def _guide_example() -> tuple[Payment, Dossier, Funder]:
    from chalicelib.services.funders.model import Funder
    from local.guide_example import guide_dossier, guide_payment

    return guide_payment(), guide_dossier(), Funder("region-idf", "Région Île-de-France")


def figures() -> Iterator[Line]:
    from chalicelib.adapters.pdf import render_pdf
    from chalicelib.services.trainings.documents import payment_notice_content

    payment, dossier, funder = _guide_example()

    def render() -> bytes:
        content = payment_notice_content(payment, dossier, funder, "Camille MARTIN")
        return render_pdf(content)

    yield from render_figures("Payment notice PDF", render, RENDERS, TIME_BUDGET, SIZE_BUDGET)


def render_figures(
    name: str,
    render: Callable[[], bytes],
    renders: int,
    time_budget: Budget,
    size_budget: Budget,
) -> Iterator[Line]:
    """The median time of `renders` renders and the size of the PDF; the first render (imports
    reportlab, builds the styles) is timed apart and left out of the median."""
    started = time.perf_counter()
    pdf = render()
    first = time.perf_counter() - started
    times: list[float] = []
    for _ in range(renders):
        started = time.perf_counter()
        render()
        times.append(time.perf_counter() - started)
    yield Figure(
        f"{name}, median render of {renders}",
        statistics.median(times) * 1000,
        "ms",
        time_budget,
        decimals=1,
    )
    yield Figure(f"{name}, size", len(pdf) / 1024, "KB", size_budget, decimals=1)
    yield Note(
        f"{name}, first render (imports, styles): {first * 1000:.0f} ms; "
        f"slowest of {renders}: {max(times) * 1000:.1f} ms"
    )
