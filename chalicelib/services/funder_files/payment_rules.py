"""Validation of one line of a `paiements_*.csv` file, and the content key of a payment.

This runs once per line of files that may hold hundreds of thousands of lines: the common path
(a valid line) avoids regexes compiled per call, closures and intermediate collections.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from functools import lru_cache

from chalicelib.services.funder_files.csv_reading import EXTRA_FIELDS_KEY
from chalicelib.services.funder_files.dossier_rules import (
    MISSING_VALUE,
    dossier_number_problem,
)
from chalicelib.services.funder_files.model import PaymentElement
from chalicelib.services.funder_files.records import PaymentLineRecord, Rejection
from chalicelib.services.funder_files.values import (
    format_decimal_fr,
    parse_amount,
    parse_date,
    parse_decimal,
)

PAYMENT_REQUIRED_COLUMNS: tuple[str, ...] = (
    "numero_dossier",
    "reference_paiement",
    "date_mise_en_paiement",
    "periode_debut",
    "periode_fin",
    "element",
    "montant",
)
PAYMENT_OPTIONAL_COLUMNS: tuple[str, ...] = ("libelle", "taux", "jours", "diviseur")

DEFAULT_LABELS: dict[PaymentElement, str] = {
    PaymentElement.REMUNERATION: "Rémunération",
    PaymentElement.PAID_LEAVE: "Congés payés",
    PaymentElement.ABSENCE_DEDUCTION: "Retenue pour absence",
    PaymentElement.OVERPAYMENT: "Indu",
    PaymentElement.ADJUSTMENT: "Régularisation",
}
# Sign of each element's amount; REGULARISATION may go either way.
NEGATIVE_ELEMENTS = frozenset({PaymentElement.ABSENCE_DEDUCTION, PaymentElement.OVERPAYMENT})
POSITIVE_ELEMENTS = frozenset({PaymentElement.REMUNERATION, PaymentElement.PAID_LEAVE})

MAX_REFERENCE_LENGTH = 100
MAX_LABEL_LENGTH = 200

_ELEMENTS = {element.value: element for element in PaymentElement}
_ELEMENT_NAMES = ", ".join(element.value for element in PaymentElement)
_COMPUTATION_COLUMNS = ("taux", "jours", "diviseur")
_DATE_COLUMNS = ("date_mise_en_paiement", "periode_debut", "periode_fin")


@lru_cache(maxsize=8192)
def _rounded_cents(rate: Decimal, days: Decimal, divisor: Decimal) -> Decimal:
    # Exact integer arithmetic: rate x days / divisor as one fraction, rounded half-up (away
    # from zero) to the cent. Cached: a file repeats a few rates, day counts and divisors.
    rate_num, rate_den = rate.as_integer_ratio()
    days_num, days_den = days.as_integer_ratio()
    divisor_num, divisor_den = divisor.as_integer_ratio()
    if divisor_num == 0:
        raise ValueError("le diviseur doit être supérieur à zéro")
    numerator = rate_num * days_num * divisor_den
    denominator = rate_den * days_den * divisor_num
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    cents, remainder = divmod(abs(numerator) * 100, denominator)
    if 2 * remainder >= denominator:
        cents += 1
    return Decimal(-cents if numerator < 0 else cents).scaleb(-2)


def expected_amount(
    element: PaymentElement, rate: Decimal, days: Decimal, divisor: Decimal
) -> Decimal:
    """rate x days / divisor rounded half-up to the cent, negative for deductions."""
    amount = _rounded_cents(rate, days, divisor)
    return -amount if element in NEGATIVE_ELEMENTS and amount else amount


def computation_text(rate: Decimal, days: Decimal, divisor: Decimal) -> str:
    """The computation as the guide shows it: "310,39 x 14 / 30"."""
    return f"{format_decimal_fr(rate)} x {format_decimal_fr(days)} / {format_decimal_fr(divisor)}"


def _amount_problem(
    element: PaymentElement,
    amount: Decimal,
    computation: tuple[Decimal, Decimal, Decimal] | None,
) -> str | None:
    if amount > 0 and element in NEGATIVE_ELEMENTS:
        return (
            f"montant {format_decimal_fr(amount)} positif : l'élément {element.value} "
            "est toujours négatif (à déduire)"
        )
    if amount < 0 and element in POSITIVE_ELEMENTS:
        return (
            f"montant {format_decimal_fr(amount)} négatif : l'élément {element.value} "
            "est toujours positif (à retenir)"
        )
    if computation is None:
        return None
    magnitude = _rounded_cents(*computation)
    if abs(amount) == magnitude:
        return None
    reason = (
        f"montant {format_decimal_fr(amount)} différent du calcul "
        f"{computation_text(*computation)} = {format_decimal_fr(magnitude)}"
    )
    # A deduction (or a negative adjustment) carries the computed value with a minus sign.
    if magnitude and (element in NEGATIVE_ELEMENTS or amount < 0):
        reason += f", attendu {format_decimal_fr(-magnitude)}"
    return reason


def validate_payment_row(line: int, row: Mapping[str, str]) -> PaymentLineRecord | list[Rejection]:
    """A PaymentLineRecord, or every rejection of the line (one per faulty column)."""
    if EXTRA_FIELDS_KEY in row:
        # Surplus fields: the values are probably shifted, so nothing else is worth reporting.
        return [Rejection(line, None, row[EXTRA_FIELDS_KEY])]
    rejections: list[Rejection] = []
    get = row.get

    for column in PAYMENT_REQUIRED_COLUMNS:
        if not get(column):
            rejections.append(Rejection(line, column, MISSING_VALUE))

    number = get("numero_dossier", "")
    if number and (problem := dossier_number_problem(number)):
        rejections.append(Rejection(line, "numero_dossier", problem))
    reference = get("reference_paiement", "")
    if len(reference) > MAX_REFERENCE_LENGTH:
        reason = f"référence trop longue : {MAX_REFERENCE_LENGTH} caractères au plus"
        rejections.append(Rejection(line, "reference_paiement", reason))

    dates: list[date | None] = []
    for column in _DATE_COLUMNS:
        value = get(column)
        if value:
            try:
                dates.append(parse_date(value))
                continue
            except ValueError as error:
                rejections.append(Rejection(line, column, str(error)))
        dates.append(None)
    payment_date, period_start, period_end = dates
    if period_start and period_end and period_end < period_start:
        reason = (
            f"fin de période {period_end:%d/%m/%Y} antérieure au début "
            f"de période {period_start:%d/%m/%Y}"
        )
        rejections.append(Rejection(line, "periode_fin", reason))

    raw_element = get("element", "")
    element = _ELEMENTS.get(raw_element) or _ELEMENTS.get(raw_element.upper())
    if raw_element and element is None:
        reason = f"élément inconnu « {raw_element} », attendu l'un de : {_ELEMENT_NAMES}"
        rejections.append(Rejection(line, "element", reason))

    label = get("libelle", "")
    if len(label) > MAX_LABEL_LENGTH:
        reason = f"libellé trop long : {MAX_LABEL_LENGTH} caractères au plus"
        rejections.append(Rejection(line, "libelle", reason))

    raw_computation = (get("taux", ""), get("jours", ""), get("diviseur", ""))
    computation = None
    if any(raw_computation):
        computation = _parse_computation(line, raw_computation, rejections)

    amount = None
    raw_amount = get("montant")
    if raw_amount:
        try:
            amount = parse_amount(raw_amount)
        except ValueError as error:
            rejections.append(Rejection(line, "montant", str(error)))
    # The sign is checked even when the computation is unusable; the value only against it.
    if amount is not None and element is not None:
        problem = _amount_problem(element, amount, computation)
        if problem:
            rejections.append(Rejection(line, "montant", problem))

    if rejections:
        return rejections
    rate, days, divisor = computation or (None, None, None)
    return PaymentLineRecord(
        line=line,
        dossier_number=number,
        reference=reference,
        payment_date=payment_date,
        period_start=period_start,
        period_end=period_end,
        element=element,
        label=label or DEFAULT_LABELS[element],
        rate=rate,
        days=days,
        divisor=divisor,
        amount=amount,
    )


def _parse_computation(
    line: int, raw: tuple[str, str, str], rejections: list[Rejection]
) -> tuple[Decimal, Decimal, Decimal] | None:
    """(taux, jours, diviseur) when all three are present and valid, else None (rejected)."""
    parsed: list[Decimal] = []
    for column, value in zip(_COMPUTATION_COLUMNS, raw, strict=True):
        if not value:
            reason = f"taux, jours et diviseur vont ensemble : {column} absent"
            rejections.append(Rejection(line, column, reason))
            continue
        try:
            parsed.append(parse_decimal(value, allow_zero=column != "diviseur"))
        except ValueError as error:
            rejections.append(Rejection(line, column, str(error)))
    if len(parsed) != 3:
        return None
    return parsed[0], parsed[1], parsed[2]


def _canonical_number(value: Decimal | None) -> str:
    # Numeric identity, not spelling: "14,5" and "14,50" are the same content.
    if value is None:
        return ""
    return f"{value.normalize():f}" if value else "0"


def payment_content_key(lines: Sequence[PaymentLineRecord]) -> str:
    """SHA-256 of what a payment means (not where its lines sat in the file), order-free."""
    canonical = sorted(
        (
            line.dossier_number,
            line.reference,
            line.payment_date.isoformat(),
            line.period_start.isoformat(),
            line.period_end.isoformat(),
            line.element.value,
            line.label,
            _canonical_number(line.rate),
            _canonical_number(line.days),
            _canonical_number(line.divisor),
            _canonical_number(line.amount),
        )
        for line in lines
    )
    payload = json.dumps(["paiement-v1", canonical], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
