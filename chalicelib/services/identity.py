"""Identity comparison: how a sign-up or a FranceConnect identity is matched to a dossier.

The product rule (journey 1): names compare ignoring case, accents, hyphens, apostrophes and
extra spaces, and the first given name is enough when the dossier holds several.
"""

from __future__ import annotations

import unicodedata
from datetime import date

# Hyphen and apostrophe variants found in back-office exports and typed on phones; they separate
# name parts, so they become spaces rather than disappearing ("Jean-Pierre" = "Jean Pierre").
# Ligatures are not decomposed by NFKD, yet "Cœur" and "Coeur" are the same French name.
_NAME_TRANSLATION = str.maketrans(
    {
        "'": " ",
        "’": " ",
        "‘": " ",
        "ʼ": " ",
        "-": " ",
        "\u2010": " ",  # hyphen
        "\u2011": " ",  # non-breaking hyphen
        "œ": "oe",
        "Œ": "OE",
        "æ": "ae",
        "Æ": "AE",
    }
)

_MAX_EMAIL_LENGTH = 254


def normalise_name(value: str) -> str:
    """Upper-case name without accents, hyphens, apostrophes or extra spaces."""
    decomposed = unicodedata.normalize("NFKD", value)
    without_accents = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(without_accents.translate(_NAME_TRANSLATION).split()).upper()


def first_given_name(given_names: str) -> str:
    """The first of the given names once normalised, "" when there is none."""
    parts = normalise_name(given_names).split(" ", 1)
    return parts[0]


def identity_key(family_name: str, given_names: str, birth_date: date) -> str:
    """Key shared by a dossier and the person it belongs to: NAME|FIRST GIVEN NAME|YYYY-MM-DD."""
    return f"{normalise_name(family_name)}|{first_given_name(given_names)}|{birth_date.isoformat()}"


def normalise_email(value: str) -> str:
    # Mail providers treat the local part case-insensitively in practice; comparing lower-case
    # avoids two accounts for one mailbox.
    return value.strip().lower()


def is_plausible_email(value: str) -> bool:
    """A sanity check, not RFC 5322: the confirmation mail is the real proof."""
    if not value or len(value) > _MAX_EMAIL_LENGTH:
        return False
    if any(char.isspace() for char in value):
        return False
    local, at, domain = value.partition("@")
    if not at or not local or "@" in domain:
        return False
    return "." in domain and domain[0] != "." and domain[-1] != "." and ".." not in domain
