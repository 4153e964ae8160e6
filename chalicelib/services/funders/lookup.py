"""« Rechercher un dossier »: what a funder's help desk needs to answer a trainee's call.

A look-up is always within the caller's funder (its code comes from the staff session or the API
key, never from the request): another funder's dossier and a missing one give the same answer,
« introuvable », so that the answer tells nothing about other funders. The search by name needs
the exact family name and birth date (no prefix, no wildcard) and is throttled per caller, so
that it cannot list a funder's trainees. Every dossier shown is written to its consultation
journal, which the trainee reads in « Mes données ».

What is shown of the account is what a help desk needs: linked or not, activated or not, the
address masked (enough to tell « c***@example.fr » from the address the caller gives, not enough
to write to it), and whether mail to it bounces. Never its password state nor secret question.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Protocol

from chalicelib.services.accounts.model import AccountRepository, AuditLog, Clock
from chalicelib.services.errors import Forbidden, Invalid
from chalicelib.services.mail.delivery import DeliveryStatusStore
from chalicelib.services.trainings.dossiers import (
    HIDDEN_HISTORY_FIELDS,
    Dossier,
    DossierVersion,
)
from chalicelib.services.trainings.payments import Payment

NOT_FOUND = "Dossier introuvable pour votre organisme."
THROTTLED = (
    "Trop de recherches par nom en peu de temps : réessayez dans une heure, ou recherchez par "
    "numéro de dossier."
)
INCOMPLETE_SESSION = (
    "Terminez votre connexion (code à usage unique) avant de rechercher un dossier."
)
MAX_NAME_LENGTH = 100
ONE_WAY = "Saisissez un numéro de dossier, ou un nom de famille et une date de naissance."
NAME_MISSING = "Saisissez le nom de famille."
NAME_TOO_LONG = f"Le nom ne peut dépasser {MAX_NAME_LENGTH} caractères."
BIRTH_DATE_MISSING = "Saisissez la date de naissance."


class CallerKind(StrEnum):
    STAFF = "agent"  # a person of the funder, signed in to /financeur/
    API = "api"  # the funder's own system, with its API key


@dataclass(frozen=True)
class FunderCaller:
    """Who asks: taken from the staff session or the API key, never from the request."""

    funder_code: str
    kind: CallerKind
    actor_id: str  # the staff account id, or the API key's id
    role: str  # « gestionnaire », « consultation », or "api"
    second_factor_done: bool  # the staff session passed its TOTP step (always True for the API)
    client_ip: str | None = None

    @property
    def reference(self) -> str:
        """A stable pseudonym of the actor: the funder maps it to a person, the trainee sees
        that the same person looked twice, and no staff member's name travels to trainees."""
        return hashlib.sha256(f"{self.funder_code}#{self.actor_id}".encode()).hexdigest()[:8]


@dataclass(frozen=True)
class DossierQuery:
    """One look-up: a dossier number, or a family name and a birth date (both exact)."""

    dossier_number: str = ""
    family_name: str = ""
    birth_date: date | None = None
    # A birth date was given that is no date (`birth_date` stays None): it still asks by name.
    birth_date_unreadable: bool = False

    @property
    def by_name(self) -> bool:
        return (
            bool(self.family_name.strip())
            or self.birth_date is not None
            or (self.birth_date_unreadable)
        )


@dataclass(frozen=True)
class Consultation:
    funder_code: str
    dossier_number: str
    at: datetime
    caller_kind: CallerKind
    role: str
    actor_reference: str


@dataclass(frozen=True)
class AccountState:
    linked: bool
    activated: bool = False
    masked_email: str | None = None
    mail_bounced_since: datetime | None = None  # the address does not receive mail any more
    mail_complained_since: datetime | None = None  # notifications stopped (« indésirable »)


@dataclass(frozen=True)
class PaymentState:
    payment: Payment
    notified: bool  # the new-payment mail was handed over for sending
    bounced_at: datetime | None = None  # it did not reach the trainee (kept back, or bounced)


@dataclass(frozen=True)
class DossierFile:
    dossier: Dossier
    received: dict[str, str]  # the dossier as the funder sent it, secrets' stand-ins aside
    history: list[DossierVersion]
    account: AccountState
    payments: list[PaymentState]


class LookupDossiers(Protocol):
    def get(self, funder_code: str, dossier_number: str) -> Dossier | None: ...

    def find_by_name_and_birth(
        self, funder_code: str, family_name: str, birth_date: date
    ) -> list[Dossier]: ...

    def history(self, funder_code: str, dossier_number: str) -> list[DossierVersion]: ...


class PaymentNotices(Protocol):
    def list_with_notices(
        self, funder_code: str, dossier_number: str
    ) -> list[tuple[Payment, bool, datetime | None]]: ...


class ConsultationJournal(Protocol):
    def record(self, consultation: Consultation) -> None: ...

    def consultations(self, funder_code: str, dossier_number: str) -> list[Consultation]: ...


class SearchLimiter(Protocol):
    def check(self, action: str, client_ip: str | None, message: str) -> None: ...


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def received_values(dossier: Dossier) -> dict[str, str]:
    return {
        name: value
        for name, value in dossier.content_values().items()
        if name not in HIDDEN_HISTORY_FIELDS
    }


class DossierLookup:
    def __init__(
        self,
        dossiers: LookupDossiers,
        payments: PaymentNotices,
        accounts: AccountRepository,
        delivery: DeliveryStatusStore,
        journal: ConsultationJournal,
        audit: AuditLog,
        limiter: SearchLimiter,
        clock: Clock,
    ) -> None:
        self._dossiers = dossiers
        self._payments = payments
        self._accounts = accounts
        self._delivery = delivery
        self._journal = journal
        self._audit = audit
        self._limiter = limiter
        self._clock = clock

    def search(self, caller: FunderCaller, query: DossierQuery) -> list[DossierFile]:
        """The caller's funder's dossiers that answer `query` (none: « introuvable »). Raises
        Invalid (keys `query`: neither or both ways; `family_name`; `birth_date`: missing or no
        date), RateLimited, Forbidden (the caller's login is not complete)."""
        number = query.dossier_number.strip()
        if bool(number) == query.by_name:
            raise Invalid({"query": ONE_WAY}, code="invalid_request")
        if number:
            found = self.by_number(caller, number)
            return [found] if found is not None else []
        name = query.family_name.strip()
        errors: dict[str, str] = {}
        if not name:
            errors["family_name"] = NAME_MISSING
        elif len(name) > MAX_NAME_LENGTH:
            errors["family_name"] = NAME_TOO_LONG
        if query.birth_date is None:
            errors["birth_date"] = BIRTH_DATE_MISSING
        if errors or query.birth_date is None:
            raise Invalid(errors)
        return self.by_name_and_birth(caller, name, query.birth_date)

    def by_number(self, caller: FunderCaller, dossier_number: str) -> DossierFile | None:
        """The caller's funder's dossier of this number, or None (« introuvable »)."""
        self._check(caller)
        number = dossier_number.strip()
        if not number:
            return None
        self._limiter.check("funder-lookup", self._limit_key(caller), THROTTLED)
        dossier = self._dossiers.get(caller.funder_code, number)
        if dossier is None or dossier.funder_code != caller.funder_code:
            return None
        return self._file(caller, dossier)

    def by_name_and_birth(
        self, caller: FunderCaller, family_name: str, birth_date: date
    ) -> list[DossierFile]:
        """The caller's funder's dossiers of exactly this family name and birth date."""
        self._check(caller)
        name = family_name.strip()
        if not name or len(name) > MAX_NAME_LENGTH:
            return []
        self._limiter.check("funder-name-search", self._limit_key(caller), THROTTLED)
        found = self._dossiers.find_by_name_and_birth(caller.funder_code, name, birth_date)
        return [
            self._file(caller, dossier)
            for dossier in found
            if dossier.funder_code == caller.funder_code
        ]

    @staticmethod
    def _check(caller: FunderCaller) -> None:
        if not caller.second_factor_done:
            raise Forbidden(INCOMPLETE_SESSION)

    @staticmethod
    def _limit_key(caller: FunderCaller) -> str:
        return f"{caller.funder_code}#{caller.kind.value}#{caller.actor_id}"

    def _file(self, caller: FunderCaller, dossier: Dossier) -> DossierFile:
        # Written before anything is shown: a look-up whose journal write fails shows nothing.
        self._journal.record(
            Consultation(
                funder_code=caller.funder_code,
                dossier_number=dossier.dossier_number,
                at=self._clock(),
                caller_kind=caller.kind,
                role=caller.role,
                actor_reference=caller.reference,
            )
        )
        # The staff member's own trail counts the look-up without naming the dossier: « whom »
        # lives in the dossier's journal only, so that erasing the dossier erases it too.
        self._audit.record(
            caller.actor_id,
            "funder-dossier-lookup",
            caller.client_ip,
            {"funder": caller.funder_code, "consultation": caller.reference},
        )
        return DossierFile(
            dossier=dossier,
            received=received_values(dossier),
            history=self._dossiers.history(caller.funder_code, dossier.dossier_number),
            account=self._account_state(dossier),
            payments=[
                PaymentState(payment, notified, bounced_at)
                for payment, notified, bounced_at in self._payments.list_with_notices(
                    caller.funder_code, dossier.dossier_number
                )
            ],
        )

    def _account_state(self, dossier: Dossier) -> AccountState:
        account = self._accounts.get(dossier.account_id) if dossier.account_id else None
        if account is None:
            return AccountState(linked=False)
        status = self._delivery.delivery_status(account.email)
        return AccountState(
            linked=True,
            # Activated: the first-login steps are done (terms aside, they change over time).
            activated=account.pending_step(None) is None,
            masked_email=mask_email(account.email),
            mail_bounced_since=status.bounced_at if status else None,
            mail_complained_since=status.complained_at if status else None,
        )


ROLE_LABELS = {"gestionnaire": "gestionnaire", "consultation": "consultation"}


def consultation_entry(consultation: Consultation, funder_name: str) -> dict[str, Any]:
    """One consultation as « Mes données » shows it (page and JSON export)."""
    if consultation.caller_kind is CallerKind.API:
        who = "le système informatique du financeur"
    else:
        role = ROLE_LABELS.get(consultation.role, consultation.role)
        who = f"un agent du financeur (rôle « {role} », référence {consultation.actor_reference})"
    return {
        "date": consultation.at.isoformat(),
        "financeur": funder_name,
        "dossier": consultation.dossier_number,
        "par": who,
    }


class FunderNames(Protocol):
    def get(self, code: str) -> Any: ...


class DossiersOfAccount(Protocol):
    def list_for_account(self, account_id: str) -> list[Dossier]: ...


class TraineeConsultations:
    """« Consultations de votre dossier par votre financeur », for « Mes données »."""

    def __init__(
        self, dossiers: DossiersOfAccount, journal: ConsultationJournal, funders: FunderNames
    ) -> None:
        self._dossiers = dossiers
        self._journal = journal
        self._funders = funders

    def of_account(self, account_id: str) -> list[dict[str, Any]]:
        entries: list[tuple[datetime, dict[str, Any]]] = []
        for dossier in self._dossiers.list_for_account(account_id):
            funder = self._funders.get(dossier.funder_code)
            name = funder.name if funder is not None else dossier.funder_code
            for consultation in self._journal.consultations(
                dossier.funder_code, dossier.dossier_number
            ):
                entries.append((consultation.at, consultation_entry(consultation, name)))
        return [entry for _, entry in sorted(entries, key=lambda pair: pair[0], reverse=True)]
