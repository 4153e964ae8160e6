"""What the PDF documents say: the guide's example exactly, French formats, totals, availability."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from chalicelib.services.funder_files.model import DossierStatus, PaymentElement
from chalicelib.services.funders.model import Funder
from chalicelib.services.trainings.documents import (
    DocumentContent,
    end_of_training_content,
    funding_decision_content,
    payment_notice_content,
)
from chalicelib.services.trainings.dossiers import Dossier, end_of_training_available
from chalicelib.services.trainings.payments import Payment, PaymentLine
from local.guide_example import guide_dossier as local_guide_dossier
from local.guide_example import guide_payment as local_guide_payment

NNBSP = "\u202f"  # format_number's thousands separator
NBSP = "\u00a0"  # between an amount and "€"
FUNDER = Funder(code="region-idf", name="Région Île-de-France")
PORTAL_ADDRESS = "https://portail-stagiaire.example.gouv.fr/region-idf/"


# The demo data of local/demo: the guide's dossier and its three payments.
def guide_dossier(**changes: object) -> Dossier:
    dossier = local_guide_dossier()
    return dataclasses.replace(dossier, **changes)  # type: ignore[arg-type]


def line(
    start: date,
    end: date,
    element: PaymentElement,
    label: str,
    amount: str,
    days: str | None = None,
) -> PaymentLine:
    computed = days is not None
    return PaymentLine(
        period_start=start,
        period_end=end,
        element=element,
        label=label,
        rate=Decimal("310.39") if computed else None,
        days=Decimal(days) if computed else None,
        divisor=Decimal(30) if computed else None,
        amount=Decimal(amount),
    )


def payment(reference: str, paid_on: date, *lines: PaymentLine) -> Payment:
    return Payment("region-idf", reference, "IDF-2017-000123", paid_on, lines, "hash")


def guide_payment() -> Payment:
    """Historique des paiements, step 7 of the guide: 20/03/2018, 144,85."""
    return local_guide_payment()


def absence_payment() -> Payment:
    return payment(
        "IDF-P-2017-0001",
        date(2017, 12, 15),
        line(
            date(2017, 11, 1),
            date(2017, 11, 30),
            PaymentElement.REMUNERATION,
            "Rémunération",
            "310.39",
            "30",
        ),
        line(
            date(2017, 11, 6),
            date(2017, 11, 7),
            PaymentElement.ABSENCE_DEDUCTION,
            "Absence non justifiée",
            "-20.69",
            "2",
        ),
    )


def december_payment() -> Payment:
    return payment(
        "IDF-P-2018-0002",
        date(2018, 1, 15),
        line(
            date(2017, 12, 1),
            date(2017, 12, 31),
            PaymentElement.REMUNERATION,
            "Rémunération",
            "310.39",
            "30",
        ),
    )


def guide_notice() -> DocumentContent:
    return payment_notice_content(guide_payment(), guide_dossier(), FUNDER, "Camille MARTIN")


def values(content: DocumentContent) -> dict[str, str]:
    return {label: value for block in content.blocks for label, value in block.items}


def test_the_guide_s_payment_detail_reads_as_in_the_guide() -> None:
    (table,) = guide_notice().tables
    # The guide: "TOTAUX 0,00 144,85" — what is deducted, then what is retained.
    assert table.header == ("Période", "Élément", "À déduire", "À retenir")
    assert table.rows == (
        ("Du 16/10/2017 au 31/10/2017", "Rémunération : 310,39 x 14 / 30", "", "144,85"),
    )
    assert table.totals == ("", "TOTAUX", "0,00", "144,85")
    assert table.numeric_columns == {2, 3}
    assert guide_notice().closing == (f"Montant net payé : 144,85{NBSP}€",)


def test_the_payment_notice_names_the_trainee_the_dossier_the_training_and_the_payment() -> None:
    content = guide_notice()
    assert content.title == "Avis de paiement"
    assert content.issuer == "Région Île-de-France"
    assert content.subtitle == ("Paiement du 20/03/2018", "Dossier n° IDF-2017-000123")
    assert values(content) == {
        "Nom": "Camille MARTIN",
        "N° de dossier": "IDF-2017-000123",
        "Financeur": "Région Île-de-France",
        "Formation": "Développeur web et web mobile",
        "Code formation": "DEV-WEB",
        "Organisme de formation": "Institut de formation numérique",
        "SIRET de l’organisme": "54756834567143",
        "Date de mise en paiement": "20/03/2018",
        "Référence du paiement": "IDF-P-2018-0003",
    }
    assert content.filename == "avis-de-paiement-IDF-P-2018-0003.pdf"
    assert "IDF-P-2018-0003" in content.subject


def test_a_deduction_goes_to_a_deduire_and_comes_off_the_net_amount() -> None:
    content = payment_notice_content(absence_payment(), guide_dossier(), FUNDER, "Camille MARTIN")
    (table,) = content.tables
    assert table.rows == (
        ("Du 01/11/2017 au 30/11/2017", "Rémunération : 310,39 x 30 / 30", "", "310,39"),
        ("Du 06/11/2017 au 07/11/2017", "Absence non justifiée : 310,39 x 2 / 30", "20,69", ""),
    )
    assert table.totals == ("", "TOTAUX", "20,69", "310,39")
    assert content.closing == (f"Montant net payé : 289,70{NBSP}€",)


def test_flat_amounts_single_days_and_thousands_read_the_french_way() -> None:
    leave = line(
        date(2018, 5, 2), date(2018, 5, 2), PaymentElement.PAID_LEAVE, "Congés payés", "1234.5"
    )
    content = payment_notice_content(
        payment("IDF-P-2018-0009", date(2018, 6, 5), leave), guide_dossier(), FUNDER, "C. MARTIN"
    )
    assert content.tables[0].rows == (("Le 02/05/2018", "Congés payés", "", f"1{NNBSP}234,50"),)
    assert content.closing == (f"Montant net payé : 1{NNBSP}234,50{NBSP}€",)


def test_a_payment_whose_deductions_outweigh_it_does_not_say_paid() -> None:
    overpayment = line(
        date(2018, 1, 1), date(2018, 1, 31), PaymentElement.OVERPAYMENT, "Indu", "-50"
    )
    content = payment_notice_content(
        payment("IDF-P-2018-0010", date(2018, 2, 5), overpayment), guide_dossier(), FUNDER, "C. M."
    )
    assert content.tables[0].totals == ("", "TOTAUX", "50,00", "0,00")
    assert "payé" not in content.closing[0]
    assert f"-50,00{NBSP}€" in content.closing[0]


def test_a_document_refuses_another_dossier_s_payment() -> None:
    stranger = dataclasses.replace(guide_payment(), dossier_number="IDF-2026-000456")
    with pytest.raises(ValueError, match="IDF-2026-000456"):
        payment_notice_content(stranger, guide_dossier(), FUNDER, "Camille MARTIN")
    with pytest.raises(ValueError):
        end_of_training_content(guide_dossier(), FUNDER, [guide_payment(), stranger])


def test_the_funding_decision_carries_the_dossier_number_and_the_portal_address() -> None:
    content = funding_decision_content(guide_dossier(), FUNDER, PORTAL_ADDRESS)
    assert content.title == "Décision de prise en charge"
    assert content.subtitle == ("Dossier n° IDF-2017-000123", "Décision du 02/10/2017")
    assert values(content) == {
        "Nom": "MARTIN",
        "Prénoms": "Camille Louise",
        "Date de naissance": "14/05/1990",
        "Formation": "Développeur web et web mobile",
        "Code formation": "DEV-WEB",
        "Organisme de formation": "Institut de formation numérique",
        "SIRET de l’organisme": "54756834567143",
        "Dates": "Du 16/10/2017 au 29/06/2018",
        "Financeur": "Région Île-de-France",
        "Rémunération mensuelle": f"310,39{NBSP}€",
        "Date de la décision": "02/10/2017",
        "Adresse de connexion": PORTAL_ADDRESS,
        "N° de dossier": "IDF-2017-000123",
    }
    assert content.tables == ()
    assert "numéro de dossier" in content.notes[0]
    assert content.filename == "decision-de-prise-en-charge-IDF-2017-000123.pdf"


def test_the_end_of_training_statement_totals_days_and_amounts() -> None:
    payments = [guide_payment(), absence_payment(), december_payment()]
    content = end_of_training_content(guide_dossier(), FUNDER, payments)
    summary = values(content)
    # 14 + 30 + 30 days remunerated, less the 2 days of absence deducted.
    assert summary["Jours de formation rémunérés"] == "72"
    assert "Jours de congés payés rémunérés" not in summary
    assert summary["Nombre de paiements"] == "3"
    assert summary["Montant total versé"] == f"744,94{NBSP}€"  # 289,70 + 310,39 + 144,85
    assert summary["Dates"] == "Du 16/10/2017 au 29/06/2018"
    assert summary["Situation"] == "Formation terminée"
    (table,) = content.tables
    assert table.header == ("Date de mise en paiement", "Référence", "Période", "Montant")
    assert table.rows == (  # in payment order, whatever order they came in
        ("15/12/2017", "IDF-P-2017-0001", "Du 01/11/2017 au 30/11/2017", "289,70"),
        ("15/01/2018", "IDF-P-2018-0002", "Du 01/12/2017 au 31/12/2017", "310,39"),
        ("20/03/2018", "IDF-P-2018-0003", "Du 16/10/2017 au 31/10/2017", "144,85"),
    )
    assert table.totals == ("TOTAL", "", "", "744,94")


def test_paid_leave_days_are_counted_apart_and_half_days_kept() -> None:
    leave = dataclasses.replace(
        line(date(2018, 6, 1), date(2018, 6, 2), PaymentElement.PAID_LEAVE, "Congés payés", "15"),
        days=Decimal("1.5"),
    )
    payments = [guide_payment(), payment("IDF-P-2018-0011", date(2018, 7, 5), leave)]
    summary = values(end_of_training_content(guide_dossier(), FUNDER, payments))
    assert summary["Jours de formation rémunérés"] == "14"
    assert summary["Jours de congés payés rémunérés"] == "1,5"
    assert summary["Montant total versé"] == f"159,85{NBSP}€"


def test_an_abandoned_training_shows_planned_dates_and_its_situation() -> None:
    dossier = guide_dossier(status=DossierStatus.ABANDONED)
    summary = values(end_of_training_content(dossier, FUNDER, []))
    assert summary["Dates prévues"] == "Du 16/10/2017 au 29/06/2018"
    assert summary["Situation"] == "Formation abandonnée"
    assert summary["Jours de formation rémunérés"] == "0"
    assert summary["Montant total versé"] == f"0,00{NBSP}€"


@pytest.mark.parametrize(
    ("status", "today", "available"),
    [
        (DossierStatus.FINISHED, date(2018, 1, 1), True),  # finished early
        (DossierStatus.ABANDONED, date(2018, 1, 1), True),
        (DossierStatus.IN_PROGRESS, date(2018, 6, 29), False),  # its last day
        (DossierStatus.IN_PROGRESS, date(2018, 6, 30), True),  # over, final status not sent yet
        (DossierStatus.IN_PROGRESS, date(2018, 1, 1), False),
    ],
)
def test_the_end_of_training_statement_is_offered_once_the_training_is_over(
    status: DossierStatus, today: date, available: bool
) -> None:
    assert end_of_training_available(guide_dossier(status=status), today) is available
