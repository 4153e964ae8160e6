"""The JSON shapes of « Mes formations » (chalicelib/api/trainings.py), described in openapi.json.

Formats, for apps to compute with and to show as they are:
- dates are ISO 8601 ("2017-10-16"); periods are {"start", "end", "text"} where "text" is the
  guide's "Du 16/10/2017 au 31/10/2017";
- amounts are {"value": "144.85", "formatted": "144,85 €"}: a decimal string with two decimals
  (never a float) and the French text, with its no-break spaces;
- the texts of a payment's lines ("Rémunération : 310,39 x 14 / 30") and its net sentence are the
  payment notice's own, made by chalicelib/services/trainings/documents.py.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from chalicelib.services.formatting import CENT, format_euros
from chalicelib.services.trainings.document_delivery import LINK_SECONDS
from chalicelib.services.trainings.documents import element_text, format_period
from chalicelib.services.trainings.my_trainings import (
    History,
    PaymentNotice,
    Training,
    payment_span,
)
from chalicelib.services.trainings.payments import Payment, PaymentLine

ZERO = Decimal("0.00")


def amount_json(value: Decimal) -> dict[str, str]:
    return {
        "value": f"{value.quantize(CENT, rounding=ROUND_HALF_UP):f}",
        "formatted": format_euros(value),
    }


def period_json(start: date, end: date) -> dict[str, str]:
    return {"start": start.isoformat(), "end": end.isoformat(), "text": format_period(start, end)}


def _decimal(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:f}"


def training_json(training: Training) -> dict[str, Any]:
    dossier = training.dossier
    return {
        "funder": {"code": training.funder.code, "name": training.funder.name},
        "dossier_number": dossier.dossier_number,
        "training_code": dossier.training_code,
        "training_title": dossier.training_title,
        "organisation_name": dossier.organisation_name,
        "start_date": dossier.start_date.isoformat(),
        "end_date": dossier.end_date.isoformat(),
        "status": dossier.status.value,
        "monthly_rate": amount_json(dossier.monthly_rate),
        "decision_date": dossier.decision_date.isoformat(),
    }


def payment_summary_json(payment: Payment) -> dict[str, Any]:
    covered = payment_span(payment)
    return {
        "reference": payment.reference,
        "payment_date": payment.payment_date.isoformat(),
        "period": period_json(covered.start, covered.end),
        "net": amount_json(payment.total),
    }


def history_json(history: History) -> dict[str, Any]:
    return {
        "training": training_json(history.training),
        "period": period_json(history.period.start, history.period.end),
        "payments": [payment_summary_json(payment) for payment in history.payments],
        "end_of_training_available": history.end_of_training_available,
    }


def _notice_order(line: PaymentLine) -> tuple[date, date, bool]:
    # The notice's order (documents.py): chronological, what is retained before what is deducted
    # from it. tests/integration/test_api_trainings.py checks the lines against its table rows.
    return line.period_start, line.period_end, line.amount < 0


def line_json(line: PaymentLine) -> dict[str, Any]:
    return {
        "period": period_json(line.period_start, line.period_end),
        "element": line.element.value,
        "label": line.label,
        "text": element_text(line),
        "rate": _decimal(line.rate),
        "days": _decimal(line.days),
        "divisor": _decimal(line.divisor),
        "debited": amount_json(line.debited),
        "credited": amount_json(line.credited),
    }


def payment_json(notice: PaymentNotice) -> dict[str, Any]:
    payment, dossier, content = notice.payment, notice.dossier, notice.content
    lines = sorted(payment.lines, key=_notice_order)
    return {
        "reference": payment.reference,
        "payment_date": payment.payment_date.isoformat(),
        "funder": {"code": payment.funder_code, "name": content.issuer},
        "dossier_number": dossier.dossier_number,
        "training_title": dossier.training_title,
        "lines": [line_json(line) for line in lines],
        "totals": {
            "debited": amount_json(sum((line.debited for line in lines), ZERO)),
            "credited": amount_json(sum((line.credited for line in lines), ZERO)),
        },
        "net": amount_json(payment.total),
        "net_text": content.closing[0] if content.closing else "",
    }


def link_json(url: str, filename: str) -> dict[str, Any]:
    return {"url": url, "expires_in": LINK_SECONDS, "filename": filename}
