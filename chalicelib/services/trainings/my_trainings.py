"""« Mes formations »: a trainee's trainings, their payments and documents — through the owner.
(« Ajouter un dossier » is services/trainings/dossier_claims.py.)

Every lookup starts from the account: a dossier, payment or document of someone else is
answered exactly like a missing one (None), never with a different error.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from chalicelib.services.accounts.model import Clock
from chalicelib.services.funder_files.values import parse_date
from chalicelib.services.funders.model import Funder
from chalicelib.services.trainings.documents import (
    DocumentContent,
    end_of_training_available,
    end_of_training_content,
    funding_decision_content,
    payment_notice_content,
)
from chalicelib.services.trainings.dossiers import Dossier
from chalicelib.services.trainings.payments import Payment

FUNDER_CACHE_SECONDS = 300.0
BAD_DATE = "Saisissez une date au format JJ/MM/AAAA, par exemple 01/10/2017."
KEY_SEPARATOR = "~"  # never in a funder code, never in a dossier number


class TrainingDossiers(Protocol):
    def get(self, funder_code: str, dossier_number: str) -> Dossier | None: ...

    def list_for_account(self, account_id: str) -> list[Dossier]: ...


class TrainingPayments(Protocol):
    def get(self, funder_code: str, reference: str) -> Payment | None: ...

    def list_for_dossier(self, funder_code: str, dossier_number: str) -> list[Payment]: ...


class FunderNames(Protocol):
    def list(self) -> list[Funder]: ...


@dataclass(frozen=True)
class Training:
    dossier: Dossier
    funder: Funder

    @property
    def key(self) -> str:
        return f"{self.dossier.funder_code}{KEY_SEPARATOR}{self.dossier.dossier_number}"


@dataclass(frozen=True)
class Period:
    start: date
    end: date


@dataclass(frozen=True)
class History:
    training: Training
    period: Period
    payments: list[Payment]  # newest first
    end_of_training_available: bool


@dataclass(frozen=True)
class PaymentNotice:
    payment: Payment
    dossier: Dossier
    content: DocumentContent


def payment_span(payment: Payment) -> Period:
    return Period(
        min(line.period_start for line in payment.lines),
        max(line.period_end for line in payment.lines),
    )


class Trainings:
    def __init__(
        self,
        dossiers: TrainingDossiers,
        payments: TrainingPayments,
        funders: FunderNames,
        clock: Clock,
    ) -> None:
        self._dossiers = dossiers
        self._payments = payments
        self._funders = funders
        self._clock = clock
        self._funder_cache: tuple[float, dict[str, Funder]] | None = None

    def funders(self) -> dict[str, Funder]:
        """Funders change rarely (an operator's command): kept five minutes in memory, so that a
        page does not spend a request on them."""
        now = time.monotonic()
        if self._funder_cache is None or now - self._funder_cache[0] > FUNDER_CACHE_SECONDS:
            self._funder_cache = (now, {funder.code: funder for funder in self._funders.list()})
        return self._funder_cache[1]

    def _funder(self, code: str) -> Funder:
        return self.funders().get(code) or Funder(code=code, name=code)

    def of_account(self, account_id: str) -> list[Training]:
        """Newest training first."""
        dossiers = self._dossiers.list_for_account(account_id)
        trainings = [Training(dossier, self._funder(dossier.funder_code)) for dossier in dossiers]
        return sorted(trainings, key=lambda t: (t.dossier.start_date, t.key), reverse=True)

    def history(
        self,
        trainings: list[Training],
        selected: str | None,
        period_start: str = "",
        period_end: str = "",
    ) -> tuple[History | None, dict[str, str]]:
        """The payments of the selected training (default: the newest) over a period (default:
        the training's whole span, widened to every payment of the training), with French errors
        on a wrong period."""
        if not trainings:
            return None, {}
        training = next((t for t in trainings if t.key == selected), trainings[0])
        payments = self._payments.list_for_dossier(
            training.dossier.funder_code, training.dossier.dossier_number
        )
        # Lines may pay days outside the dossier's dates (leave paid after the end, dates the
        # funder corrected since): the default period leaves none of the training's payments out.
        spans = [payment_span(payment) for payment in payments]
        period = Period(
            min([training.dossier.start_date, *(span.start for span in spans)]),
            max([training.dossier.end_date, *(span.end for span in spans)]),
        )
        errors: dict[str, str] = {}
        chosen = {}
        for name, text in (("du", period_start), ("au", period_end)):
            if text.strip():
                try:
                    chosen[name] = parse_date(text.strip())
                except ValueError:
                    errors[name] = BAD_DATE
        period = Period(chosen.get("du", period.start), chosen.get("au", period.end))
        if not errors and period.end < period.start:
            errors["au"] = "La fin de la période doit être après son début."
        if not errors:
            payments = [p for p in payments if _overlaps(payment_span(p), period)]
        payments.sort(key=lambda p: (p.payment_date, p.reference), reverse=True)
        return (
            History(
                training=training,
                period=period,
                payments=payments,
                end_of_training_available=end_of_training_available(
                    training.dossier, self._clock().date()
                ),
            ),
            errors,
        )

    def owned_dossier(self, account_id: str, funder_code: str, number: str) -> Dossier | None:
        dossier = self._dossiers.get(funder_code, number) if funder_code and number else None
        return dossier if dossier is not None and dossier.account_id == account_id else None

    def owned_payment(
        self, account_id: str, funder_code: str, reference: str
    ) -> tuple[Payment, Dossier] | None:
        payment = self._payments.get(funder_code, reference) if funder_code and reference else None
        if payment is None:
            return None
        dossier = self.owned_dossier(account_id, funder_code, payment.dossier_number)
        return (payment, dossier) if dossier is not None else None

    # Documents ----------------------------------------------------------------------------

    def payment_notice(
        self, account_id: str, funder_code: str, reference: str
    ) -> PaymentNotice | None:
        """One payment of the account with what its page and its PDF show."""
        owned = self.owned_payment(account_id, funder_code, reference)
        if owned is None:
            return None
        payment, dossier = owned
        name = f"{dossier.given_names} {dossier.family_name}"
        content = payment_notice_content(payment, dossier, self._funder(funder_code), name)
        return PaymentNotice(payment, dossier, content)

    def funding_decision(
        self, account_id: str, funder_code: str, number: str, portal_address: str
    ) -> DocumentContent | None:
        dossier = self.owned_dossier(account_id, funder_code, number)
        if dossier is None:
            return None
        return funding_decision_content(dossier, self._funder(funder_code), portal_address)

    def end_of_training(
        self, account_id: str, funder_code: str, number: str
    ) -> DocumentContent | None:
        dossier = self.owned_dossier(account_id, funder_code, number)
        if dossier is None or not end_of_training_available(dossier, self._clock().date()):
            return None
        payments = self._payments.list_for_dossier(funder_code, number)
        return end_of_training_content(dossier, self._funder(funder_code), payments)


def _overlaps(span: Period, period: Period) -> bool:
    return span.start <= period.end and span.end >= period.start
