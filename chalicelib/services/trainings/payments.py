"""Payments (paiements) and their lines (éléments), exactly as the funder computed them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from chalicelib.services.funder_files.model import PaymentElement


@dataclass(frozen=True)
class PaymentLine:
    period_start: date
    period_end: date
    element: PaymentElement
    label: str
    rate: Decimal | None
    days: Decimal | None
    divisor: Decimal | None
    amount: Decimal

    @property
    def credited(self) -> Decimal:
        """ "À retenir": what the line adds to the payment."""
        return self.amount if self.amount > 0 else Decimal("0.00")

    @property
    def debited(self) -> Decimal:
        """ "À déduire": what the line takes off the payment, as a positive amount."""
        return -self.amount if self.amount < 0 else Decimal("0.00")


@dataclass(frozen=True)
class Payment:
    funder_code: str
    reference: str
    dossier_number: str
    payment_date: date
    lines: tuple[PaymentLine, ...]
    content_hash: str

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00"))


@dataclass(frozen=True)
class StoredPayment:
    content_hash: str
    notified: bool


class PaymentRepository(Protocol):
    def get_stored(self, funder_code: str, references: list[str]) -> dict[str, StoredPayment]: ...

    def write_many(self, payments: list[Payment], source_file: str) -> set[str]:
        """Stores the payments whose reference is not stored yet, atomically per payment;
        returns the references found already stored (by a concurrent run)."""
        ...
