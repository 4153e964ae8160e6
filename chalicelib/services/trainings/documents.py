"""What each downloadable document says, as plain French strings: the PDF layout only places them.

Three documents: the payment notice (the "Document PDF" of the payment history), the funding
decision ("Décision de prise en charge") and the end-of-training statement ("Edition de fin de
stage"). Everything is formatted here, so the content is tested without rendering a PDF.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from chalicelib.services.formatting import format_date, format_euros, format_number
from chalicelib.services.funder_files.model import DossierStatus, PaymentElement
from chalicelib.services.funder_files.payment_rules import computation_text
from chalicelib.services.funders.model import Funder
from chalicelib.services.trainings.dossiers import Dossier
from chalicelib.services.trainings.payments import Payment, PaymentLine

REPUBLIC = "RÉPUBLIQUE FRANÇAISE"
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class KeyValueBlock:
    heading: str
    items: tuple[tuple[str, str], ...]  # (label, value), in reading order


@dataclass(frozen=True)
class TableContent:
    heading: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    totals: tuple[str, ...] | None = None
    # Columns holding amounts: right-aligned so that the cents line up.
    numeric_columns: frozenset[int] = frozenset()
    # Cells short enough never to wrap (dates, references, amounts) are drawn as plain text: a
    # wrapping paragraph per cell costs most of a long table's render time.
    plain: bool = False
    bold_rows: frozenset[int] = frozenset()  # indexes in `rows`: subtotals


@dataclass(frozen=True)
class DocumentContent:
    title: str
    subject: str  # the PDF's metadata: what a file manager or a screen reader announces
    issuer: str  # the funder, printed under « RÉPUBLIQUE FRANÇAISE »
    subtitle: tuple[str, ...]
    blocks: tuple[KeyValueBlock, ...]
    tables: tuple[TableContent, ...] = ()
    closing: tuple[str, ...] = ()  # after the tables, in bold: the figure to remember
    notes: tuple[str, ...] = ()  # last, in plain text: what to do with the document
    filename: str = "document.pdf"
    # An attestation's verification block: its code and the QR code of this address.
    verification_code: str = ""
    verification_url: str = ""


def format_period(start: date, end: date) -> str:
    """The guide's "Du 16/10/2017 au 31/10/2017"; one day reads "Le 06/11/2017"."""
    if start == end:
        return f"Le {format_date(start)}"
    return f"Du {format_date(start)} au {format_date(end)}"


def format_days(days: Decimal) -> str:
    # Days are whole or halves: "14", "14,5" — never "14,00".
    text = f"{days.normalize():f}" if days else "0"
    return text.replace(".", ",")


def element_text(line: PaymentLine) -> str:
    """ "Rémunération : 310,39 x 14 / 30", or the bare label of a flat amount."""
    if line.rate is None or line.days is None or line.divisor is None:
        return line.label
    return f"{line.label} : {computation_text(line.rate, line.days, line.divisor)}"


def _training_items(dossier: Dossier) -> tuple[tuple[str, str], ...]:
    return (
        ("Formation", dossier.training_title),
        ("Code formation", dossier.training_code),
        ("Organisme de formation", dossier.organisation_name),
        ("SIRET de l’organisme", dossier.organisation_siret),
    )


def _trainee_block(dossier: Dossier) -> KeyValueBlock:
    # As the funder wrote it on the dossier: the documents that identify the trainee.
    return KeyValueBlock(
        "Stagiaire",
        (
            ("Nom", dossier.family_name),
            ("Prénoms", dossier.given_names),
            ("Date de naissance", format_date(dossier.birth_date)),
        ),
    )


def payment_notice_content(
    payment: Payment, dossier: Dossier, funder: Funder, account_name: str
) -> DocumentContent:
    """The detail of one payment, laid out as the guide's "Historique des paiements" shows it."""
    _check_same_dossier(dossier, [payment])
    debited = sum((line.debited for line in payment.lines), ZERO)
    credited = sum((line.credited for line in payment.lines), ZERO)
    # The guide's column order: "TOTAUX 0,00 144,85" puts what is deducted before what is
    # retained. A line shows its amount in one column only; the other cell stays empty.
    rows = tuple(
        (
            format_period(line.period_start, line.period_end),
            element_text(line),
            format_number(line.debited) if line.amount < 0 else "",
            format_number(line.credited) if line.amount >= 0 else "",
        )
        for line in sorted(payment.lines, key=_line_order)
    )
    net = payment.total
    net_text = (
        f"Montant net payé : {format_euros(net)}"
        if net >= 0
        # A payment whose deductions outweigh it pays nothing: say so rather than "payé -20,69 €".
        else f"Montant net : {format_euros(net)} (aucun versement, solde restant à déduire)"
    )
    return DocumentContent(
        title="Avis de paiement",
        subject=f"Avis de paiement {payment.reference}, dossier {dossier.dossier_number}",
        issuer=funder.name,
        subtitle=(
            f"Paiement du {format_date(payment.payment_date)}",
            f"Dossier n° {dossier.dossier_number}",
        ),
        blocks=(
            KeyValueBlock(
                "Stagiaire",
                (
                    ("Nom", account_name),
                    ("N° de dossier", dossier.dossier_number),
                    ("Financeur", funder.name),
                ),
            ),
            KeyValueBlock("Formation", _training_items(dossier)),
            KeyValueBlock(
                "Paiement",
                (
                    ("Date de mise en paiement", format_date(payment.payment_date)),
                    ("Référence du paiement", payment.reference),
                ),
            ),
        ),
        tables=(
            TableContent(
                heading="Détail du paiement",
                header=("Période", "Élément", "À déduire", "À retenir"),
                rows=rows,
                totals=("", "TOTAUX", format_number(debited), format_number(credited)),
                numeric_columns=frozenset({2, 3}),
            ),
        ),
        closing=(net_text,),
        filename=f"avis-de-paiement-{_file_safe(payment.reference)}.pdf",
    )


def funding_decision_content(
    dossier: Dossier, funder: Funder, portal_address: str
) -> DocumentContent:
    """The décision de prise en charge: it carries the dossier number and the portal's address."""
    return DocumentContent(
        title="Décision de prise en charge",
        subject=f"Décision de prise en charge, dossier {dossier.dossier_number}",
        issuer=funder.name,
        subtitle=(
            f"Dossier n° {dossier.dossier_number}",
            f"Décision du {format_date(dossier.decision_date)}",
        ),
        blocks=(
            _trainee_block(dossier),
            KeyValueBlock(
                "Formation",
                (
                    *_training_items(dossier),
                    ("Dates", format_period(dossier.start_date, dossier.end_date)),
                ),
            ),
            KeyValueBlock(
                "Prise en charge",
                (
                    ("Financeur", funder.name),
                    ("Rémunération mensuelle", format_euros(dossier.monthly_rate)),
                    ("Date de la décision", format_date(dossier.decision_date)),
                ),
            ),
            KeyValueBlock(
                "Suivre votre rémunération en ligne",
                (
                    ("Adresse de connexion", portal_address),
                    ("N° de dossier", dossier.dossier_number),
                ),
            ),
        ),
        notes=(
            "Pour créer votre compte sur le portail stagiaire, saisissez l’adresse de connexion "
            "ci-dessus et munissez-vous de votre numéro de dossier : il vous sera demandé à "
            "l’inscription.",
        ),
        filename=f"decision-de-prise-en-charge-{_file_safe(dossier.dossier_number)}.pdf",
    )


def end_of_training_content(
    dossier: Dossier, funder: Funder, payments: list[Payment]
) -> DocumentContent:
    """The édition de fin de stage: the training's dates and everything paid for it."""
    _check_same_dossier(dossier, payments)
    ordered = sorted(payments, key=lambda payment: (payment.payment_date, payment.reference))
    lines = [line for payment in ordered for line in payment.lines]
    # Days paid for training: remunerated days less the absences deducted from them. Paid leave
    # is counted apart (it may indemnify leave not taken, i.e. days outside the training), and
    # INDU / REGULARISATION correct amounts, not attendance: their days are not counted.
    training_days = _days(lines, PaymentElement.REMUNERATION) - _days(
        lines, PaymentElement.ABSENCE_DEDUCTION
    )
    leave_days = _days(lines, PaymentElement.PAID_LEAVE)
    total = sum((payment.total for payment in ordered), ZERO)

    abandoned = dossier.status == DossierStatus.ABANDONED
    situation = "Formation abandonnée" if abandoned else "Formation terminée"
    dates_label = "Dates prévues" if abandoned else "Dates"
    summary: list[tuple[str, str]] = [("Jours de formation rémunérés", format_days(training_days))]
    if leave_days:
        summary.append(("Jours de congés payés rémunérés", format_days(leave_days)))
    summary += [
        ("Nombre de paiements", str(len(ordered))),
        ("Montant total versé", format_euros(total)),
    ]

    return DocumentContent(
        title="Édition de fin de stage",
        subject=f"Édition de fin de stage, dossier {dossier.dossier_number}",
        issuer=funder.name,
        subtitle=(f"Dossier n° {dossier.dossier_number}",),
        blocks=(
            _trainee_block(dossier),
            KeyValueBlock(
                "Formation",
                (
                    *_training_items(dossier),
                    (dates_label, format_period(dossier.start_date, dossier.end_date)),
                    ("Situation", situation),
                ),
            ),
            KeyValueBlock("Rémunération versée", tuple(summary)),
        ),
        tables=(
            TableContent(
                heading="Paiements",
                header=("Date de mise en paiement", "Référence", "Période", "Montant"),
                rows=tuple(
                    (
                        format_date(payment.payment_date),
                        payment.reference,
                        _payment_period(payment),
                        format_number(payment.total),
                    )
                    for payment in ordered
                ),
                totals=("TOTAL", "", "", format_number(total)),
                numeric_columns=frozenset({3}),
            ),
        ),
        filename=f"edition-de-fin-de-stage-{_file_safe(dossier.dossier_number)}.pdf",
    )


def _line_order(line: PaymentLine) -> tuple[date, date, bool]:
    # Chronological, and within a period what is retained before what is deducted from it.
    return line.period_start, line.period_end, line.amount < 0


def _days(lines: Iterable[PaymentLine], element: PaymentElement) -> Decimal:
    return sum(
        (line.days for line in lines if line.element == element and line.days is not None),
        Decimal(0),
    )


def _payment_period(payment: Payment) -> str:
    if not payment.lines:
        return ""
    start = min(line.period_start for line in payment.lines)
    end = max(line.period_end for line in payment.lines)
    return format_period(start, end)


def _check_same_dossier(dossier: Dossier, payments: Iterable[Payment]) -> None:
    # A document showing another trainee's payment would be a data leak: refuse, loudly.
    for payment in payments:
        if payment.dossier_number != dossier.dossier_number or (
            payment.funder_code != dossier.funder_code
        ):
            raise ValueError(
                f"payment {payment.reference} belongs to {payment.funder_code}/"
                f"{payment.dossier_number}, not to {dossier.funder_code}/{dossier.dossier_number}"
            )


def _file_safe(text: str) -> str:
    return "".join(
        char if char.isascii() and (char.isalnum() or char in "-_") else "-" for char in text
    )
