"""Organisation staff accounts, created by operators (docs/specs/product.md: "staff accounts created
by operators"): an invitation mail with a temporary password, then the very first-login steps and
rules of trainees (new password, secret question, CGU)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

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
)
from chalicelib.services.accounts.passwords import generate_temporary_password
from chalicelib.services.accounts.signup import TEMPORARY_PASSWORD_LIFETIME
from chalicelib.services.mail.mails import Mailer, staff_invitation_mail

SIRET = re.compile(r"\d{14}")
MAX_ORGANISATION_NAME = 200
MAX_NAME_LENGTH = 100
STAFF_LOGIN_PATH = "/organisme/"


class StaffRegistry(Protocol):
    def add_staff_member(self, siret: str, account_id: str, email: str, at: datetime) -> None: ...


class InvalidStaff(ValueError):
    pass


@dataclass(frozen=True)
class StaffRequest:
    email: str
    siret: str
    organisation_name: str
    family_name: str = ""
    given_names: str = ""


def clean_siret(siret: str) -> str:
    return re.sub(r"[\s.]", "", siret)


def create_staff_account(
    request: StaffRequest,
    accounts: AccountRepository,
    registry: StaffRegistry,
    hasher: Hasher,
    mailer: Mailer,
    audit: AuditLog,
    urls: PortalUrls,
    clock: Clock,
) -> Account:
    """Creates the account and mails the invitation; raises InvalidStaff (in French) when the
    operator's input is wrong or the address already has an account."""
    email = normalise_typed_email(request.email)
    siret = clean_siret(request.siret)
    organisation_name = " ".join(request.organisation_name.split())
    if validated_email(email) is None:
        raise InvalidStaff("L'adresse mail n'est pas valide.")
    if not SIRET.fullmatch(siret):
        raise InvalidStaff("Le SIRET doit compter 14 chiffres.")
    if not organisation_name or len(organisation_name) > MAX_ORGANISATION_NAME:
        raise InvalidStaff(
            f"Le nom de l'organisme est obligatoire ({MAX_ORGANISATION_NAME} caractères au plus)."
        )
    names = (" ".join(request.family_name.split()), " ".join(request.given_names.split()))
    if any(len(name) > MAX_NAME_LENGTH for name in names):
        raise InvalidStaff(f"Nom et prénom : {MAX_NAME_LENGTH} caractères au plus.")
    temporary_password = generate_temporary_password()
    now = clock()
    account = Account(
        account_id=uuid.uuid4().hex,
        kind=AccountKind.STAFF,
        email=email,
        family_name=names[0],
        given_names=names[1],
        birth_date=None,
        created_at=now,
        temporary_password_hash=hasher.hash(temporary_password),
        temporary_password_expires_at=now + TEMPORARY_PASSWORD_LIFETIME,
        organisation_siret=siret,
        organisation_name=organisation_name,
    )
    if accounts.create(account) is not CreateOutcome.CREATED:
        raise InvalidStaff("Cette adresse mail a déjà un compte sur le portail.")
    # Only once the account exists: the registry names whom a trainee's message must reach.
    registry.add_staff_member(siret, account.account_id, email, now)
    audit.record(account.account_id, "staff-created", None, {"siret": siret})
    mailer.send(
        staff_invitation_mail(
            to=email,
            organisation_name=organisation_name,
            temporary_password=temporary_password,
            login_url=urls.path(STAFF_LOGIN_PATH),
            portal_url=urls.base_url,
        )
    )
    return account
