"""« Mes formations »: a trainee's trainings, their payments and documents — through the owner.
(« Ajouter un dossier » is services/trainings/dossier_claims.py.)

Every lookup starts from the account: a dossier, payment or document of someone else is
answered exactly like a missing one (None, or `NotFound` for the use cases the faces call),
never with a different error.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import TYPE_CHECKING, Protocol

from chalicelib.services.accounts.model import Clock, PortalUrls
from chalicelib.services.errors import Invalid, NotFound
from chalicelib.services.formatting import paris_date
from chalicelib.services.funders.model import Funder
from chalicelib.services.trainings.dossiers import Dossier, end_of_training_available
from chalicelib.services.trainings.payments import Payment

if TYPE_CHECKING:
    from chalicelib.services.trainings.documents import DocumentContent

FUNDER_CACHE_SECONDS = 300.0
KEY_SEPARATOR = "~"  # never in a funder code, never in a dossier number


END_BEFORE_START = "La fin de la période doit être après son début."
DOSSIER_NOT_YOURS = "Ce dossier n’existe pas ou n’est pas rattaché à votre compte."
PAYMENT_NOT_YOURS = "Ce paiement n’existe pas ou n’est pas rattaché à votre compte."
DOCUMENT_NOT_YOURS = "Ce document n’existe pas ou n’est pas rattaché à votre compte."
NOT_YET = "L’édition de fin de stage sera disponible une fois la formation terminée."


class DocumentKind(Enum):
    DECISION = "decision"  # the décision de prise en charge
    END_OF_TRAINING = "end-of-training"  # the édition de fin de stage


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
        urls: PortalUrls,
    ) -> None:
        self._dossiers = dossiers
        self._payments = payments
        self._funders = funders
        self._clock = clock
        self._urls = urls
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
        period_start: date | None = None,
        period_end: date | None = None,
    ) -> History | None:
        """The payments of the selected training (default: the newest) over a period (default:
        the training's whole span, widened to every payment of the training); None without any
        training. Raises `Invalid` (`period_end`) when the period ends before it starts."""
        if not trainings:
            return None
        training = next((t for t in trainings if t.key == selected), trainings[0])
        payments = self._payments.list_for_dossier(
            training.dossier.funder_code, training.dossier.dossier_number
        )
        # Lines may pay days outside the dossier's dates (leave paid after the end, dates the
        # funder corrected since): the default period leaves none of the training's payments out.
        spans = [payment_span(payment) for payment in payments]
        period = Period(
            period_start or min([training.dossier.start_date, *(span.start for span in spans)]),
            period_end or max([training.dossier.end_date, *(span.end for span in spans)]),
        )
        if period.end < period.start:
            raise Invalid({"period_end": END_BEFORE_START})
        payments = [p for p in payments if _overlaps(payment_span(p), period)]
        payments.sort(key=lambda p: (p.payment_date, p.reference), reverse=True)
        return History(
            training=training,
            period=period,
            payments=payments,
            end_of_training_available=end_of_training_available(
                training.dossier, paris_date(self._clock())
            ),
        )

    def dossier_history(
        self,
        account_id: str,
        funder_code: str,
        number: str,
        period_start: date | None = None,
        period_end: date | None = None,
    ) -> History:
        """One training of the account over a period. Raises `NotFound` for a dossier that is
        missing or someone else's, `Invalid` on a wrong period."""
        wanted = (funder_code, number)
        training = next(
            (
                training
                for training in self.of_account(account_id)
                if (training.dossier.funder_code, training.dossier.dossier_number) == wanted
            ),
            None,
        )
        if training is None:
            raise NotFound(DOSSIER_NOT_YOURS)
        # Only that training is offered, so the history cannot fall back on another one.
        history = self.history([training], training.key, period_start, period_end)
        assert history is not None  # one training was given
        return history

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
    # Their contents (services/trainings/documents.py) are built only here: imported on use, so
    # that the list of « Mes formations », the first page of most cold starts, does not load them.

    def payment_notice(
        self, account_id: str, funder_code: str, reference: str
    ) -> PaymentNotice | None:
        """One payment of the account with what its page and its PDF show."""
        owned = self.owned_payment(account_id, funder_code, reference)
        if owned is None:
            return None
        payment, dossier = owned
        from chalicelib.services.trainings.documents import payment_notice_content

        name = f"{dossier.given_names} {dossier.family_name}"
        content = payment_notice_content(payment, dossier, self._funder(funder_code), name)
        return PaymentNotice(payment, dossier, content)

    def payment(self, account_id: str, funder_code: str, reference: str) -> PaymentNotice:
        """`payment_notice` for the faces: raises `NotFound` for a missing or foreign payment."""
        notice = self.payment_notice(account_id, funder_code, reference)
        if notice is None:
            raise NotFound(PAYMENT_NOT_YOURS)
        return notice

    def document(
        self, account_id: str, funder_code: str, number: str, kind: DocumentKind
    ) -> DocumentContent:
        """The décision or the édition de fin de stage of one of the account's dossiers. Raises
        `NotFound` for a missing or foreign dossier, and `NotFound` with the code
        `document_not_available` for the account's own training still going on (telling its
        owner reveals nothing)."""
        if kind is DocumentKind.DECISION:
            decision = self.funding_decision(
                account_id, funder_code, number, self._urls.funder_home(funder_code)
            )
            if decision is None:
                raise NotFound(DOCUMENT_NOT_YOURS)
            return decision
        end = self.end_of_training(account_id, funder_code, number)
        if end is not None:
            return end
        if self.owned_dossier(account_id, funder_code, number) is not None:
            raise NotFound(NOT_YET, code="document_not_available")
        raise NotFound(DOCUMENT_NOT_YOURS)

    def funding_decision(
        self, account_id: str, funder_code: str, number: str, portal_address: str
    ) -> DocumentContent | None:
        dossier = self.owned_dossier(account_id, funder_code, number)
        if dossier is None:
            return None
        from chalicelib.services.trainings.documents import funding_decision_content

        return funding_decision_content(dossier, self._funder(funder_code), portal_address)

    def end_of_training(
        self, account_id: str, funder_code: str, number: str
    ) -> DocumentContent | None:
        dossier = self.owned_dossier(account_id, funder_code, number)
        if dossier is None or not end_of_training_available(dossier, paris_date(self._clock())):
            return None
        from chalicelib.services.trainings.documents import end_of_training_content

        payments = self._payments.list_for_dossier(funder_code, number)
        return end_of_training_content(dossier, self._funder(funder_code), payments)


def _overlaps(span: Period, period: Period) -> bool:
    return span.start <= period.end and span.end >= period.start
