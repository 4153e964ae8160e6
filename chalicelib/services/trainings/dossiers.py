"""Dossiers: one funding decision (décision de prise en charge) for one training."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from chalicelib.services.accounts.identity import identity_key, normalise_name
from chalicelib.services.funder_files.model import DossierStatus

if TYPE_CHECKING:  # a parsed line of a funder's file: only ingestion builds dossiers from it
    from chalicelib.services.funder_files.records import DossierRecord


@dataclass(frozen=True)
class Dossier:
    funder_code: str
    dossier_number: str
    family_name: str
    given_names: str
    birth_date: date
    email: str | None
    training_code: str
    training_title: str
    start_date: date
    end_date: date
    organisation_siret: str
    organisation_name: str
    organisation_email: str | None
    monthly_rate: Decimal
    decision_date: date
    status: DossierStatus
    account_id: str | None = None
    # Hash of the `code_activation` printed on the décision (never the code itself): one of the
    # proofs that a dossier is the account holder's (services/trainings/dossier_claims.py).
    activation_code_hash: str | None = None

    @property
    def identity_key(self) -> str:
        return identity_key(self.family_name, self.given_names, self.birth_date)

    @property
    def key(self) -> str:
        return dossier_key(self.funder_code, self.dossier_number)

    def content_values(self) -> dict[str, str]:
        """What the funder sends, as text: compared to tell an update from a replay."""
        return {
            field.name: "" if (value := getattr(self, field.name)) is None else str(value)
            for field in fields(self)
            if field.name != "account_id"
        }

    @property
    def content_hash(self) -> str:
        canonical = "\x1f".join(f"{k}={v}" for k, v in sorted(self.content_values().items()))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def with_account(self, account_id: str | None) -> Dossier:
        return replace(self, account_id=account_id)


def dossier_key(funder_code: str, dossier_number: str) -> str:
    return f"{funder_code}#{dossier_number}"


def normalise_activation_code(code: str) -> str:
    """As printed or typed: case, spaces and hyphens do not count ("k7m2 p9qx-4tdv")."""
    return "".join(character for character in code.upper() if character.isalnum())


def activation_code_hash(funder_code: str, dossier_number: str, code: str) -> str:
    """Salted by the dossier's key. SHA-256 suffices because the funder file must give at least
    12 letters or digits (dossier_rules.py), out of reach of an offline guess; the online guess
    is throttled like a login."""
    salted = f"{dossier_key(funder_code, dossier_number)}#{normalise_activation_code(code)}"
    return hashlib.sha256(salted.encode()).hexdigest()


def dossier_from_record(funder_code: str, record: DossierRecord) -> Dossier:
    return Dossier(
        funder_code=funder_code,
        dossier_number=record.dossier_number,
        family_name=record.family_name,
        given_names=record.given_names,
        birth_date=record.birth_date,
        email=record.email,
        training_code=record.training_code,
        training_title=record.training_title,
        start_date=record.start_date,
        end_date=record.end_date,
        organisation_siret=record.organisation_siret,
        organisation_name=record.organisation_name,
        organisation_email=record.organisation_email,
        monthly_rate=record.monthly_rate,
        decision_date=record.decision_date,
        status=record.status,
        activation_code_hash=(
            activation_code_hash(funder_code, record.dossier_number, record.activation_code)
            if record.activation_code
            else None
        ),
    )


@dataclass(frozen=True)
class DossierChange:
    """One version of a dossier received from a funder file: its first one (`created`, no
    changes) or an update (the fields that changed). Kept as the dossier's history."""

    dossier: Dossier
    changes: dict[str, tuple[str, str]]  # field -> (old, new)
    line: int = 0  # the file's line it came from
    created: bool = False

    def history_id(self, source_file: str) -> str:
        """Same file, line and content → same history item: SQS's redelivery of a file, or a
        retried batch, records the version once. The content is part of it because a funder may
        drop a corrected file under the same name."""
        return f"{source_file}#{self.line:07d}#{self.dossier.content_hash[:16]}"


# Never shown, even to the funder's help desk: a hash standing for the activation code.
HIDDEN_HISTORY_FIELDS = frozenset({"activation_code_hash"})


@dataclass(frozen=True)
class DossierVersion:
    """A history item as read back: when, from which file and line, what was received."""

    recorded_at: datetime
    source_file: str
    line: int | None  # None for changes recorded before lines were kept
    created: bool
    values: dict[str, str]  # the version received, as text; empty for old items
    changes: dict[str, tuple[str, str]]


def name_birth_key(funder_code: str, family_name: str, birth_date: date) -> str:
    """Where the help desk's search by family name and birth date finds a dossier of one funder
    (exact match after the usual normalisation: case, accents, hyphens, apostrophes)."""
    return f"{funder_code}#{normalise_name(family_name)}#{birth_date.isoformat()}"


def changed_fields(old: Dossier, new: Dossier) -> dict[str, tuple[str, str]]:
    before, after = old.content_values(), new.content_values()
    return {name: (before[name], after[name]) for name in after if before[name] != after[name]}


class DossierRepository(Protocol):
    def get_many(self, funder_code: str, dossier_numbers: list[str]) -> dict[str, Dossier]: ...

    def write_many(
        self,
        dossiers: list[Dossier],
        changes: list[DossierChange],
        source_file: str,
        read: dict[str, Dossier],
    ) -> set[str]:
        """Writes each dossier only if it is still as `read` (absent there: not stored), its
        owner included; returns the numbers of those changed meanwhile, left unwritten."""
        ...


def end_of_training_available(dossier: Dossier, today: date) -> bool:
    """Once the training is over: finished, abandoned (the trainee needs the statement to move
    on), or past its end date even if the funder has not yet sent the final status."""
    return dossier.status != DossierStatus.IN_PROGRESS or dossier.end_date < today
