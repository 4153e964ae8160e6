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


def validated_email(value: str) -> str | None:
    """The stored form of an address typed by a person, or None when it is not one.

    Checked by email-validator (syntax only: no DNS, nothing leaves the Lambda): no display
    name (`Nom <a@b.fr>`), no quoted local part, no separator or control character (`,` `;`
    NUL), a domain with a dot. SMTPUTF8 is refused, as SES delivers ASCII local parts; an
    internationalised domain is kept in its ASCII (punycode) form, which SES sends to. The whole
    address is lower-cased, the project's rule for one mailbox = one account."""
    from email_validator import EmailNotValidError, validate_email

    typed = value.strip()
    if not typed or len(typed) > _MAX_EMAIL_LENGTH:
        return None
    try:
        valid = validate_email(typed, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        return None
    return valid.ascii_email.lower() if valid.ascii_email else None


def normalise_typed_email(value: str) -> str:
    """An address typed by a person, as stored when valid; otherwise only trimmed and
    lower-cased, so that a login with it finds no account rather than failing."""
    return validated_email(value) or normalise_email(value)


def is_plausible_email(value: str) -> bool:
    """A sanity check, not RFC 5322, for addresses from funder files and FranceConnect (cheap:
    a file holds 100,000 of them). Addresses typed on the portal go through `validated_email`."""
    if not value or len(value) > _MAX_EMAIL_LENGTH:
        return False
    if any(char.isspace() for char in value):
        return False
    local, at, domain = value.partition("@")
    if not at or not local or "@" in domain:
        return False
    return "." in domain and domain[0] != "." and domain[-1] != "." and ".." not in domain
