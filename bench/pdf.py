"""Payment PDF: render the guide's payment notice (IDF-P-2018-0003 of 20/03/2018), 200 times.

Budget (docs/specs/performance.md): ≤ 15 ms median to render one payment notice, ≤ 40 KB. Each timed
render builds the content and the PDF, as a request does; the first render, which imports reportlab
and builds the styles, is reported apart and left out of the median.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
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

    started = time.perf_counter()
    pdf = render()
    first = time.perf_counter() - started
    times: list[float] = []
    for _ in range(RENDERS):
        started = time.perf_counter()
        render()
        times.append(time.perf_counter() - started)
    yield Figure(
        f"Payment notice PDF, median render of {RENDERS}",
        statistics.median(times) * 1000,
        "ms",
        TIME_BUDGET,
        decimals=1,
    )
    yield Figure("Payment notice PDF, size", len(pdf) / 1024, "KB", SIZE_BUDGET, decimals=1)
    yield Note(
        f"first render (imports reportlab, builds the styles): {first * 1000:.0f} ms; "
        f"slowest of {RENDERS}: {max(times) * 1000:.1f} ms"
    )
