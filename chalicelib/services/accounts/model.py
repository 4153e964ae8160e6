"""Accounts: the person's (never the funder's), with the first-login steps still to do."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

Clock = Callable[[], datetime]


class AccountKind(StrEnum):
    TRAINEE = "trainee"
    STAFF = "staff"
    FUNDER_STAFF = "funder-staff"


class StaffRole(StrEnum):
    """A funder staff member's role, chosen at the invitation."""

    MANAGER = "gestionnaire"
    VIEWER = "consultation"


class CreateOutcome(StrEnum):
    CREATED = "created"
    EMAIL_TAKEN = "email-taken"
    DOSSIER_TAKEN = "dossier-taken"


class Step(StrEnum):
    """What a session must do before reaching anything else (docs/specs/security.md, "Sessions")."""

    PASSWORD = "password"
    SECRET_QUESTION = "secret-question"
    TERMS = "terms"
    # The second factor: enrolment is the last first-login step of funder staff (their accounts
    # read many people's data); the code is asked at every login of an enrolled account, before
    # any other step (services/accounts/totp.py).
    TOTP_ENROL = "totp-enrol"
    TOTP = "totp"


@dataclass(frozen=True)
class Account:
    account_id: str
    email: str
    family_name: str
    given_names: str
    birth_date: date | None
    created_at: datetime
    kind: AccountKind = AccountKind.TRAINEE
    password_hash: str | None = None
    temporary_password_hash: str | None = None
    temporary_password_expires_at: datetime | None = None
    temporary_password_used: bool = False
    secret_question: str | None = None
    secret_answer_hash: str | None = None
    terms_version: str | None = None
    awaiting_dossier: bool = False
    phone: str | None = None
    franceconnect_sub: str | None = None
    organisation_siret: str | None = None
    organisation_name: str | None = None
    # Retention (services/accounts/retention.py): the day the inactivity warning is due, moved
    # forward by every login; once warned, the day the account closes.
    inactivity_due: date | None = None
    inactivity_warned: bool = False
    funder_code: str | None = None
    staff_role: StaffRole | None = None
    # Set once a TOTP application is confirmed; the secret, its last used time step and the
    # recovery codes live in their own item (store/second_factor.py), which no save() rewrites.
    totp_enabled: bool = False

    @property
    def first_given_name(self) -> str:
        return self.given_names.split()[0] if self.given_names.split() else ""

    def pending_step(self, current_terms_version: str | None) -> Step | None:
        if self.password_hash is None and self.franceconnect_sub is None:
            return Step.PASSWORD
        if self.secret_answer_hash is None:
            return Step.SECRET_QUESTION
        if current_terms_version is not None and self.terms_version != current_terms_version:
            return Step.TERMS
        if self.kind is AccountKind.FUNDER_STAFF and not self.totp_enabled:
            return Step.TOTP_ENROL
        return None

    def updated(self, **changes: object) -> Account:
        return replace(self, **changes)  # type: ignore[arg-type]


class AccountRepository(Protocol):
    def get(self, account_id: str) -> Account | None: ...

    def find_by_email(self, email: str) -> Account | None: ...

    def create(
        self, account: Account, link_dossier: tuple[str, str] | None = None
    ) -> CreateOutcome:
        """Stores a new account (and links the (funder, number) dossier) all at once, or nothing."""
        ...

    def save(self, account: Account) -> None: ...

    def record_login(self, account_id: str, inactivity_due: date) -> None:
        """A login moves the inactivity due day forward and cancels a warning, in one update."""
        ...


class AuditLog(Protocol):
    def record(
        self,
        account_id: str,
        event: str,
        client_ip: str | None,
        details: dict[str, str] | None = None,
    ) -> None: ...

    def record_unattributed(
        self, event: str, subject: str | None = None, client_ip: str | None = None
    ) -> None:
        """An event with no account to file it under (a login with an unknown address): it
        counts in the metrics; given a pseudonymous `subject`, it is also written, under that
        subject, so that this path costs the same write as the one of a known account."""
        ...


class Hasher(Protocol):
    def hash(self, secret: str) -> str: ...

    def verify(self, hashed: str, secret: str) -> bool: ...

    def needs_rehash(self, hashed: str) -> bool: ...


@dataclass(frozen=True)
class PortalUrls:
    """Addresses written in mails: each funder's portal has its own entry address."""

    base_url: str

    def funder_home(self, funder_code: str) -> str:
        return f"{self.base_url}/{funder_code}/"

    def login(self, funder_code: str) -> str:
        return f"{self.base_url}/{funder_code}/connexion"

    def recovery(self, funder_code: str) -> str:
        return f"{self.base_url}/{funder_code}/mot-de-passe-oublie"

    def path(self, path: str) -> str:
        return f"{self.base_url}{path}"
