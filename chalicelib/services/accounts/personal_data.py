"""« Mes données » (RGPD right of access): one JSON file with everything held about a trainee."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, fields
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Protocol

from chalicelib.services.accounts.model import AccountRepository, AuditLog, Clock
from chalicelib.services.accounts.terms import Acceptance
from chalicelib.services.errors import SignedOut
from chalicelib.services.trainings.dossiers import Dossier
from chalicelib.services.trainings.payments import Payment

# Secrets are held as hashes; even hashed they stay out of a file that travels by mail.
SECRET_FIELDS = {"password_hash", "temporary_password_hash", "secret_answer_hash"}


class AuditTrail(Protocol):
    def events_of(self, account_id: str) -> list[dict[str, Any]]: ...


class PersonalDataSources(Protocol):
    def list_for_account(self, account_id: str) -> list[Dossier]: ...


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


class PersonalData:
    def __init__(
        self,
        accounts: AccountRepository,
        dossiers: PersonalDataSources,
        payments_of: Callable[[str, str], list[Payment]],
        acceptances_of: Callable[[str], list[Acceptance]],
        audit_trail: AuditTrail,
        audit: AuditLog,
        clock: Clock,
        extra_sections: dict[str, Callable[[str], list[dict[str, Any]]]] | None = None,
    ) -> None:
        self._accounts = accounts
        self._dossiers = dossiers
        self._payments_of = payments_of
        self._acceptances_of = acceptances_of
        self._audit_trail = audit_trail
        self._audit = audit
        self._clock = clock
        self._extra_sections = extra_sections or {}

    def export(self, account_id: str, client_ip: str | None) -> dict[str, Any]:
        account = self._accounts.get(account_id)
        if account is None:  # gone since the login: so is what the session stood for
            raise SignedOut()
        self._audit.record(account_id, "data-export", client_ip)
        dossiers = self._dossiers.list_for_account(account_id)
        export: dict[str, Any] = {
            "genere_le": self._clock().isoformat(),
            "compte": {
                field.name: _plain(getattr(account, field.name))
                for field in fields(account)
                if field.name not in SECRET_FIELDS
            },
            "consentements": [_plain(asdict(a)) for a in self._acceptances_of(account_id)],
            # The activation code's hash is a secret's stand-in, not data about the person.
            "dossiers": [
                _plain({k: v for k, v in asdict(dossier).items() if k != "activation_code_hash"})
                for dossier in dossiers
            ],
            "paiements": [
                _plain({k: v for k, v in asdict(payment).items() if k != "content_hash"})
                for dossier in dossiers
                for payment in self._payments_of(dossier.funder_code, dossier.dossier_number)
            ],
            "messages": [],
            "journal_de_securite": self._audit_trail.events_of(account_id),
        }
        for name, section in self._extra_sections.items():
            export[name] = section(account_id)
        return export
