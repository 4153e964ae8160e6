"""The vocabulary of the FranceConnect login: the provider it talks to (a protocol the OIDC
adapter implements), the verified identity matched to dossiers on the identity pivot, the
stores it needs and the results it gives the web face."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Protocol

from chalicelib.services.accounts.identity import (
    first_given_name,
    identity_key,
    is_plausible_email,
    normalise_email,
    normalise_name,
)
from chalicelib.services.accounts.model import Account, AccountKind
from chalicelib.services.accounts.sessions import Session
from chalicelib.services.trainings.dossiers import Dossier

# FranceConnect sends names as the civil status holds them; a family name can pass 50 characters.
MAX_NAME_LENGTH = 200
_BIRTHDATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


class FranceConnectError(RuntimeError):
    """FranceConnect refused, failed, or answered something that does not verify. The message is
    for the logs: it never carries a token or personal data."""


@dataclass(frozen=True)
class ProviderLogin:
    """The outcome of the code exchange: the id_token (kept for logout) and the userinfo claims,
    both verified, with the same `sub`."""

    id_token: str
    claims: Mapping[str, object]


class IdentityProvider(Protocol):
    def authorization_url(self, state: str, nonce: str) -> str: ...

    def authenticate(self, code: str, nonce: str) -> ProviderLogin: ...

    def end_session_url(self, id_token: str, state: str) -> str: ...


@dataclass(frozen=True)
class FranceConnectIdentity:
    sub: str
    family_name: str
    given_names: str  # "" for a person without a given name
    birth_date: date
    email: str | None

    @property
    def first_given_name(self) -> str:
        return first_given_name(self.given_names)

    @property
    def identity_key(self) -> str | None:
        """The dossiers' pivot key; None without a given name, which no dossier lacks."""
        if not self.first_given_name:
            return None
        return identity_key(self.family_name, self.given_names, self.birth_date)

    def same_person(self, account: Account) -> bool:
        """Same family name and birth date, and the same first given name when there is one."""
        if account.birth_date != self.birth_date:
            return False
        if normalise_name(account.family_name) != normalise_name(self.family_name):
            return False
        return not self.first_given_name or (
            first_given_name(account.given_names) == self.first_given_name
        )


def parse_birthdate(value: str) -> date:
    """FranceConnect's YYYY-MM-DD. A presumed date may carry 00 for an unknown month or day: it
    reads as 01, the civil-status convention that funders' files also use (01/01/1962)."""
    match = _BIRTHDATE.fullmatch(value.strip())
    if match is None:
        raise FranceConnectError("birthdate is not YYYY-MM-DD")
    year, month, day = (int(part) for part in match.groups())
    try:
        return date(year, month or 1, day or 1)
    except ValueError as error:
        raise FranceConnectError("birthdate is not a calendar date") from error


def identity_from_claims(claims: Mapping[str, object]) -> FranceConnectIdentity:
    """The identity of verified userinfo claims; FranceConnectError when one is missing."""

    def text(name: str) -> str:
        value = claims.get(name)
        if value is None:
            return ""
        if not isinstance(value, str) or len(value) > MAX_NAME_LENGTH:
            raise FranceConnectError(f"claim {name} is not a short string")
        return " ".join(value.split())

    sub, family_name, birthdate = text("sub"), text("family_name"), text("birthdate")
    if not sub or not family_name or not normalise_name(family_name) or not birthdate:
        raise FranceConnectError("sub, family_name or birthdate missing")
    email = normalise_email(text("email"))
    return FranceConnectIdentity(
        sub=sub,
        family_name=family_name,
        given_names=text("given_name"),
        birth_date=parse_birthdate(birthdate),
        email=email if is_plausible_email(email) else None,
    )


class Outcome(StrEnum):
    SIGNED_IN = "signed-in"
    LINK_REQUIRED = "link-required"  # one password login must confirm the link
    CANCELLED = "cancelled"  # error=access_denied: the person chose « Annuler »
    PROVIDER_ERROR = "provider-error"  # any other error sent back on the callback
    FAILED = "failed"  # the exchange or a verification failed
    INVALID_STATE = "invalid-state"  # unknown, replayed, expired, or another browser's
    NO_DOSSIER = "no-dossier"
    NO_EMAIL = "no-email"
    EMAIL_IN_USE = "email-in-use"


@dataclass(frozen=True)
class Redirection:
    """Where to send the browser, and the secret its cookie must hold when it comes back."""

    url: str
    browser_secret: str


@dataclass(frozen=True)
class LinkTicket:
    """A link awaiting a password login: its id, and the secret the browser's cookie holds."""

    link_id: str
    browser_secret: str


@dataclass(frozen=True)
class CallbackResult:
    outcome: Outcome
    funder_code: str | None = None
    token: str | None = None
    session: Session | None = None
    link: LinkTicket | None = None  # for LINK_REQUIRED
    reason: str | None = None  # for the logs: never a token nor personal data


@dataclass(frozen=True)
class PendingLink:
    link_id: str
    funder_code: str
    identity: FranceConnectIdentity
    id_token: str
    candidates: frozenset[str]  # accounts holding one of the identity's dossiers

    def to_data(self) -> dict[str, str]:
        """What the pending-link challenge keeps (no empty values: DynamoDB map attributes)."""
        data = {
            "funder": self.funder_code,
            "sub": self.identity.sub,
            "family_name": self.identity.family_name,
            "given_names": self.identity.given_names,
            "birth_date": self.identity.birth_date.isoformat(),
            "email": self.identity.email or "",
            "id_token": self.id_token,
            "candidates": ",".join(sorted(self.candidates)),
        }
        return {name: value for name, value in data.items() if value}

    @classmethod
    def from_data(cls, link_id: str, data: Mapping[str, str]) -> PendingLink:
        identity = FranceConnectIdentity(
            sub=data["sub"],
            family_name=data["family_name"],
            given_names=data.get("given_names", ""),
            birth_date=date.fromisoformat(data["birth_date"]),
            email=data.get("email") or None,
        )
        candidates = frozenset(filter(None, data.get("candidates", "").split(",")))
        return cls(link_id, data["funder"], identity, data["id_token"], candidates)

    def allows(self, account: Account) -> bool:
        return (
            account.kind is AccountKind.TRAINEE
            and account.franceconnect_sub in (None, self.identity.sub)
            and (account.account_id in self.candidates or self.identity.same_person(account))
        )


class FranceConnectLinks(Protocol):
    """Which account a `sub` belongs to: a claim, written before the account points to it."""

    def owner(self, sub: str) -> str | None: ...

    def claim(self, sub: str, account_id: str) -> bool: ...

    def release(self, sub: str, account_id: str) -> None: ...


class IdentityDossiers(Protocol):
    def find_by_identity(self, identity_key: str, limit: int) -> list[Dossier]: ...

    def link_account(self, funder_code: str, dossier_number: str, account_id: str) -> bool: ...
