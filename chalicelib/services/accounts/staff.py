"""Staff accounts of the two staff spaces, invited by operators (docs/specs/product.md: "staff
accounts created by operators"): the organisations' (`/organisme/`, by SIRET) and the funders'
(`/financeur/`, by funder code and role). One invitation for both: a mail with a temporary
password, then the very first-login steps and rules of trainees (new password, secret question,
CGU), and for funder staff the TOTP enrolment their accounts require (they read many trainees'
data)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from chalicelib.services.accounts.identity import normalise_typed_email, validated_email
from chalicelib.services.accounts.model import (
    Account,
    AccountKind,
    AccountRepository,
    AuditLog,
    Clock,
    CreateOutcome,
    Hasher,
    PortalUrls,
    StaffRole,
)
from chalicelib.services.accounts.passwords import generate_temporary_password
from chalicelib.services.accounts.signup import TEMPORARY_PASSWORD_LIFETIME
from chalicelib.services.funders.model import FunderRepository
from chalicelib.services.mail.mails import (
    Mailer,
    OutgoingMail,
    funder_staff_invitation_mail,
    staff_invitation_mail,
)

SIRET = re.compile(r"\d{14}")
MAX_ORGANISATION_NAME = 200
MAX_NAME_LENGTH = 100
STAFF_LOGIN_PATH = "/organisme/"
FUNDER_SPACE_PATH = "/financeur/"
ROLE_LABELS = {StaffRole.MANAGER: "gestionnaire", StaffRole.VIEWER: "consultation"}


class StaffRegistry(Protocol):
    def add_staff_member(self, siret: str, account_id: str, email: str, at: datetime) -> None: ...


class InvalidStaff(ValueError):
    pass


@dataclass(frozen=True)
class StaffRequest:
    """An organisation's staff member (`staff create`)."""

    email: str
    siret: str
    organisation_name: str
    family_name: str = ""
    given_names: str = ""


@dataclass(frozen=True)
class FunderStaffRequest:
    """A funder's staff member (`staff invite`), « gestionnaire » or « consultation »."""

    email: str
    funder_code: str
    role: str
    family_name: str = ""
    given_names: str = ""


@dataclass(frozen=True)
class _Space:
    """What differs between the two spaces' invitations; the rest is `StaffInvitations._invite`."""

    account_fields: dict[str, Any]
    audit_event: str
    audit_details: dict[str, str]
    # The invitation mail, given the temporary password and the space's login address.
    mail: Callable[[str, str], OutgoingMail]
    # Run once the account exists, before the audit and the mail.
    on_created: Callable[[Account], None] = field(default=lambda account: None)


def clean_siret(siret: str) -> str:
    return re.sub(r"[\s.]", "", siret)


class StaffInvitations:
    """Creates a staff account and mails its invitation; raises InvalidStaff (in French) when the
    operator's input is wrong or the address already has an account."""

    def __init__(
        self,
        accounts: AccountRepository,
        registry: StaffRegistry,
        funders: FunderRepository,
        hasher: Hasher,
        mailer: Mailer,
        audit: AuditLog,
        urls: PortalUrls,
        clock: Clock,
    ) -> None:
        self._accounts = accounts
        self._registry = registry
        self._funders = funders
        self._hasher = hasher
        self._mailer = mailer
        self._audit = audit
        self._urls = urls
        self._clock = clock

    def organisation(self, request: StaffRequest) -> Account:
        email = _valid_email(request.email)
        siret = clean_siret(request.siret)
        organisation_name = " ".join(request.organisation_name.split())
        if not SIRET.fullmatch(siret):
            raise InvalidStaff("Le SIRET doit compter 14 chiffres.")
        if not organisation_name or len(organisation_name) > MAX_ORGANISATION_NAME:
            raise InvalidStaff(
                f"Le nom de l'organisme est obligatoire ({MAX_ORGANISATION_NAME} caractères au "
                "plus)."
            )
        space = _Space(
            account_fields={
                "kind": AccountKind.STAFF,
                "organisation_siret": siret,
                "organisation_name": organisation_name,
            },
            audit_event="staff-created",
            audit_details={"siret": siret},
            mail=lambda password, login_url: staff_invitation_mail(
                to=email,
                organisation_name=organisation_name,
                temporary_password=password,
                login_url=login_url,
                portal_url=self._urls.base_url,
            ),
            # The registry names whom a trainee's message must reach: only once the account exists.
            on_created=lambda account: self._registry.add_staff_member(
                siret, account.account_id, email, account.created_at
            ),
        )
        return self._invite(
            email, request.family_name, request.given_names, space, STAFF_LOGIN_PATH
        )

    def funder(self, request: FunderStaffRequest) -> Account:
        email = _valid_email(request.email)
        funder = self._funders.get(request.funder_code)
        if funder is None:
            raise InvalidStaff(f"Financeur inconnu : {request.funder_code}.")
        try:
            role = StaffRole(request.role)
        except ValueError:
            raise InvalidStaff("Le rôle doit être « gestionnaire » ou « consultation ».") from None
        space = _Space(
            account_fields={
                "kind": AccountKind.FUNDER_STAFF,
                "funder_code": funder.code,
                "staff_role": role,
            },
            audit_event="funder-staff-created",
            audit_details={"funder": funder.code, "role": role.value},
            mail=lambda password, login_url: funder_staff_invitation_mail(
                to=email,
                funder_name=funder.name,
                role=ROLE_LABELS[role],
                temporary_password=password,
                login_url=login_url,
                portal_url=self._urls.base_url,
            ),
        )
        return self._invite(
            email, request.family_name, request.given_names, space, FUNDER_SPACE_PATH
        )

    def _invite(
        self, email: str, family_name: str, given_names: str, space: _Space, login_path: str
    ) -> Account:
        names = (" ".join(family_name.split()), " ".join(given_names.split()))
        if any(len(name) > MAX_NAME_LENGTH for name in names):
            raise InvalidStaff(f"Nom et prénom : {MAX_NAME_LENGTH} caractères au plus.")
        temporary_password = generate_temporary_password()
        now = self._clock()
        account = Account(
            account_id=uuid.uuid4().hex,
            email=email,
            family_name=names[0],
            given_names=names[1],
            birth_date=None,
            created_at=now,
            temporary_password_hash=self._hasher.hash(temporary_password),
            temporary_password_expires_at=now + TEMPORARY_PASSWORD_LIFETIME,
            **space.account_fields,
        )
        # A conditional put: of two invitations of one address, one only creates the account.
        if self._accounts.create(account) is not CreateOutcome.CREATED:
            raise InvalidStaff("Cette adresse mail a déjà un compte sur le portail.")
        space.on_created(account)
        self._audit.record(account.account_id, space.audit_event, None, space.audit_details)
        self._mailer.send(space.mail(temporary_password, self._urls.path(login_path)))
        return account


def _valid_email(typed: str) -> str:
    email = normalise_typed_email(typed)
    if validated_email(email) is None:
        raise InvalidStaff("L'adresse mail n'est pas valide.")
    return email
