"""What a funder file line becomes once read and validated: plain values, no storage concerns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from chalicelib.services.funder_files.model import DossierStatus, PaymentElement


@dataclass(frozen=True)
class Rejection:
    """One reason why a line (or a whole file when line is None) was not applied."""

    line: int | None
    column: str | None
    reason: str  # French, for the funder's report


@dataclass(frozen=True)
class DossierRecord:
    line: int
    dossier_number: str
    family_name: str
    given_names: str
    birth_date: date
    email: str | None
    training_code: str
    training_title: str
    start_date: date
    end_date: date
    organisation_siret: str
    organisation_name: str
    organisation_email: str | None
    monthly_rate: Decimal
    decision_date: date
    status: DossierStatus
    activation_code: str | None = None  # normalised; hashed before it is stored


@dataclass(frozen=True)
class PaymentLineRecord:
    line: int
    dossier_number: str
    reference: str
    payment_date: date
    period_start: date
    period_end: date
    element: PaymentElement
    label: str
    rate: Decimal | None
    days: Decimal | None
    divisor: Decimal | None
    amount: Decimal
