"""Attestation PDF: « Récapitulatif de l'année 2018 » for 12 monthly payments, 100 renders.

Budget (issue 17): ≤ 30 ms median to render the attestation, ≤ 60 KB. Each timed render builds the
statement's content and the PDF — tables, monthly totals, the verification block and its QR code —
as the request that issues an attestation does; the first render (imports, styles) is apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

from bench.figures import Budget, Line
from bench.pdf import render_figures

RENDERS = 100
TIME_BUDGET = Budget("≤", 30)
SIZE_BUDGET = Budget("≤", 60)


def figures() -> Iterator[Line]:
    from decimal import Decimal

    from chalicelib.adapters.pdf import render_pdf
    from chalicelib.services.trainings.attestations import (
        Attestation,
        AttestationPeriod,
        Statement,
        StatementLine,
        add_months,
        attestation_content,
        new_code,
    )

    issued_at = datetime(2019, 4, 2, 9, 0, tzinfo=UTC)
    code = new_code()
    statement = Statement(
        period=AttestationPeriod.year(2018),
        trainee_name="Camille Louise MARTIN",
        birth_date=date(1990, 5, 14),
        funders=("Région Île-de-France",),
        trainings=("Développeur web et web mobile (dossier n° IDF-2017-000123)",),
        lines=tuple(
            StatementLine(
                date(2018, month, 15),
                f"IDF-P-2018-{month:04d}",
                "Région Île-de-France",
                "Développeur web et web mobile",
                Decimal("652.02"),
            )
            for month in range(1, 13)
        ),
    )
    attestation = Attestation(
        "bench", "bench", code, statement, issued_at, add_months(issued_at, 6)
    )
    url = f"https://portail-stagiaire.example.gouv.fr/verifier?code={code}"

    def render() -> bytes:
        return render_pdf(attestation_content(attestation, url))

    yield from render_figures(
        "Attestation PDF (a year, 12 payments)", render, RENDERS, TIME_BUDGET, SIZE_BUDGET
    )
