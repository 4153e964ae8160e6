"""Funder staff accounts, invited by operators as organisation staff are
(services/accounts/staff.py): an invitation mail with a temporary password, the first-login
steps of everyone (new password, secret question, CGU), then the TOTP enrolment that their
accounts require (they read many trainees' data)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

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
from chalicelib.services.accounts.staff import MAX_NAME_LENGTH, InvalidStaff
from chalicelib.services.funders.model import FunderRepository
from chalicelib.services.mail.mails import Mailer, funder_staff_invitation_mail

FUNDER_SPACE_PATH = "/financeur/"
ROLE_LABELS = {StaffRole.MANAGER: "gestionnaire", StaffRole.VIEWER: "consultation"}


@dataclass(frozen=True)
class FunderStaffRequest:
    email: str
    funder_code: str
    role: str
    family_name: str = ""
    given_names: str = ""


def invite_funder_staff(
    request: FunderStaffRequest,
    accounts: AccountRepository,
    funders: FunderRepository,
    hasher: Hasher,
    mailer: Mailer,
    audit: AuditLog,
    urls: PortalUrls,
    clock: Clock,
) -> Account:
    """Creates the account and mails the invitation; raises InvalidStaff (in French) when the
    operator's input is wrong or the address already has an account."""
    email = normalise_typed_email(request.email)
    if validated_email(email) is None:
        raise InvalidStaff("L'adresse mail n'est pas valide.")
    funder = funders.get(request.funder_code)
    if funder is None:
        raise InvalidStaff(f"Financeur inconnu : {request.funder_code}.")
    try:
        role = StaffRole(request.role)
    except ValueError:
        raise InvalidStaff("Le rôle doit être « gestionnaire » ou « consultation ».") from None
    names = (" ".join(request.family_name.split()), " ".join(request.given_names.split()))
    if any(len(name) > MAX_NAME_LENGTH for name in names):
        raise InvalidStaff(f"Nom et prénom : {MAX_NAME_LENGTH} caractères au plus.")
    temporary_password = generate_temporary_password()
    now = clock()
    account = Account(
        account_id=uuid.uuid4().hex,
        kind=AccountKind.FUNDER_STAFF,
        email=email,
        family_name=names[0],
        given_names=names[1],
        birth_date=None,
        created_at=now,
        temporary_password_hash=hasher.hash(temporary_password),
        temporary_password_expires_at=now + TEMPORARY_PASSWORD_LIFETIME,
        funder_code=funder.code,
        staff_role=role,
    )
    if accounts.create(account) is not CreateOutcome.CREATED:
        raise InvalidStaff("Cette adresse mail a déjà un compte sur le portail.")
    audit.record(
        account.account_id,
        "funder-staff-created",
        None,
        {"funder": funder.code, "role": role.value},
    )
    mailer.send(
        funder_staff_invitation_mail(
            to=email,
            funder_name=funder.name,
            role=ROLE_LABELS[role],
            temporary_password=temporary_password,
            login_url=urls.path(FUNDER_SPACE_PATH),
            portal_url=urls.base_url,
        )
    )
    return account
