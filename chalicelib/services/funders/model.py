"""Funders (financeurs) and the settings each one chooses for its trainees."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Protocol

FUNDER_CODE_PATTERN = re.compile(r"^[a-z0-9-]{2,32}$")

# First path segments the portal uses itself: `/<funder_code>/` shares the root with them, so a
# funder with one of these codes would be unreachable (or would hide a page).
RESERVED_CODES = frozenset(
    {
        "static",
        "api",
        "accessibilite",
        "mentions-legales",
        "donnees-personnelles",
        "gestion-des-cookies",
        "compte",
        "deconnexion",
        "organisme",
        "franceconnect",
        "financeur",
        "double-authentification",
    }
)


# How long a funder's dossiers stay on the portal after the end of their training, with their
# payments, documents and messages (services/accounts/retention.py purges them); `funder set
# --retention-years` changes it per funder.
DEFAULT_RETENTION_YEARS = 5
MAX_RETENTION_YEARS = 30


@dataclass(frozen=True)
class Funder:
    code: str
    name: str
    franceconnect_enabled: bool = False
    messages_enabled: bool = False
    retention_years: int = DEFAULT_RETENTION_YEARS
    # The operator's permission: the funder may then turn FranceConnect on and off itself
    # (« Paramètres » of its space); `franceconnect_enabled` is the funder's current choice.
    franceconnect_allowed: bool = False
    home_text: str = ""  # plain text shown on the funder's home page, escaped
    settings_version: int = 0  # bumped by every change of the settings (operator's or own)

    @property
    def may_use_franceconnect(self) -> bool:
        return self.franceconnect_allowed or self.franceconnect_enabled


class FunderRepository(Protocol):
    def get(self, code: str) -> Funder | None: ...

    def list(self) -> list[Funder]: ...

    def save(self, funder: Funder) -> None: ...


class InvalidFunder(ValueError):
    pass


def is_valid_funder_code(code: str) -> bool:
    return bool(FUNDER_CODE_PATTERN.fullmatch(code)) and code not in RESERVED_CODES


def invalid_code_reason() -> str:
    return (
        "Le code financeur doit faire 2 à 32 caractères parmi a-z, 0-9 et le tiret, "
        "et ne pas être un mot réservé du portail (" + ", ".join(sorted(RESERVED_CODES)) + ")."
    )


def save_funder(repository: FunderRepository, funder: Funder) -> Funder:
    """Create or update a funder after checking what an operator typed."""
    if not is_valid_funder_code(funder.code):
        raise InvalidFunder(invalid_code_reason())
    if not funder.name.strip():
        raise InvalidFunder("Le nom du financeur est obligatoire.")
    if not 1 <= funder.retention_years <= MAX_RETENTION_YEARS:
        raise InvalidFunder(
            f"La durée de conservation doit être de 1 à {MAX_RETENTION_YEARS} ans après la fin "
            "de la formation."
        )
    cleaned = Funder(
        code=funder.code,
        name=funder.name.strip(),
        franceconnect_enabled=funder.franceconnect_enabled,
        messages_enabled=funder.messages_enabled,
        retention_years=funder.retention_years,
        franceconnect_allowed=funder.franceconnect_allowed or funder.franceconnect_enabled,
        home_text=funder.home_text,
    )
    repository.save(cleaned)
    return cleaned


def _sort_key(name: str) -> str:
    # Accents ignored, as in a French index: "État" comes among the E, not after the Z.
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def list_funders(repository: FunderRepository) -> list[Funder]:
    return sorted(repository.list(), key=lambda funder: _sort_key(funder.name))
