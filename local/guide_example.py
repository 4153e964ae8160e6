"""The user guide's example, as the demo data holds it: Camille MARTIN's dossier IDF-2017-000123
and its payment of 20/03/2018 (144,85 €). Shared by the unit tests and the PDF benchmark."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from chalicelib.services.funder_files.model import DossierStatus, PaymentElement
from chalicelib.services.trainings.dossiers import Dossier
from chalicelib.services.trainings.payments import Payment, PaymentLine


def guide_dossier() -> Dossier:
    return Dossier(
        funder_code="region-idf",
        dossier_number="IDF-2017-000123",
        family_name="MARTIN",
        given_names="Camille Louise",
        birth_date=date(1990, 5, 14),
        email="camille.martin@example.fr",
        training_code="DEV-WEB",
        training_title="Développeur web et web mobile",
        start_date=date(2017, 10, 16),
        end_date=date(2018, 6, 29),
        organisation_siret="54756834567143",
        organisation_name="Institut de formation numérique",
        organisation_email="contact@ifn.example.fr",
        monthly_rate=Decimal("310.39"),
        decision_date=date(2017, 10, 2),
        status=DossierStatus.FINISHED,
    )


def guide_payment() -> Payment:
    """« Historique des paiements », step 7 of the guide: 20/03/2018, 144,85."""
    line = PaymentLine(
        period_start=date(2017, 10, 16),
        period_end=date(2017, 10, 31),
        element=PaymentElement.REMUNERATION,
        label="Rémunération",
        rate=Decimal("310.39"),
        days=Decimal(14),
        divisor=Decimal(30),
        amount=Decimal("144.85"),
    )
    return Payment(
        "region-idf", "IDF-P-2018-0003", "IDF-2017-000123", date(2018, 3, 20), (line,), "hash"
    )
