"""Password rule, temporary passwords, secret answers and the recovery challenge.

The rule (docs/specs/security.md, CNIL 2022-100 with access restriction, NIST SP 800-63B): at least
12 characters mixing 3 of the 4 classes, or at least 15 of any kind; at most 128; not one of the
common passwords shipped in `data/common-passwords.txt`; not containing the account's names or mail
address.
"""

from __future__ import annotations

import random
import secrets
import unicodedata
from functools import cache
from pathlib import Path

from chalicelib.services.accounts.identity import normalise_name

MIN_LENGTH_MIXED = 12
MIN_LENGTH_ANY = 15
MAX_LENGTH = 128
MIN_CLASSES = 3
# A personal item shorter than this is too likely to appear by chance ("Li", "Bo", "al@…").
MIN_PERSONAL_LENGTH = 3

PASSWORD_RULE_TEXT = (
    "Au moins 12 caractères avec au moins 3 types de caractères parmi : minuscules, majuscules, "
    "chiffres, caractères spéciaux ; ou au moins 15 caractères de tout type. "
    "128 caractères au plus. Évitez les mots de passe courants et n'y mettez pas vos nom, "
    "prénom ou adresse mail."
)

MESSAGE_EMPTY = "Saisissez un mot de passe."
MESSAGE_TOO_SHORT = (
    "Le mot de passe doit faire au moins 12 caractères, "
    "et au moins 15 s'il ne mélange pas 3 types de caractères."
)
MESSAGE_TOO_FEW_CLASSES = (
    "Un mot de passe de moins de 15 caractères doit mélanger au moins 3 types de caractères "
    "parmi : minuscules, majuscules, chiffres, caractères spéciaux."
)
MESSAGE_TOO_LONG = "Le mot de passe doit faire 128 caractères au plus."
MESSAGE_COMMON = (
    "Ce mot de passe fait partie des mots de passe les plus courants : choisissez-en un autre."
)
MESSAGE_FAMILY_NAME = "Le mot de passe ne doit pas contenir votre nom."
MESSAGE_GIVEN_NAME = "Le mot de passe ne doit pas contenir votre prénom."
MESSAGE_EMAIL = "Le mot de passe ne doit pas contenir votre adresse mail."

_COMMON_PASSWORDS_FILE = Path(__file__).parent / "data" / "common-passwords.txt"

# 0/O/o and 1/l/I look alike in many fonts, and a temporary password is read from a mail and
# typed by hand, often on a phone.
TEMPORARY_LOWER = "abcdefghijkmnpqrstuvwxyz"
TEMPORARY_UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ"
TEMPORARY_DIGITS = "23456789"
TEMPORARY_ALPHABET = TEMPORARY_LOWER + TEMPORARY_UPPER + TEMPORARY_DIGITS
TEMPORARY_LENGTH = 14

# Secret answers are hashed once normalised: this table and `normalise_secret_answer` must never
# change, or every stored answer stops matching. It is deliberately not shared with identity.py.
# Phones type "’" where computers type "'", and "Saint-Étienne" is as often typed without the
# hyphen, so both become spaces; ligatures are not decomposed by NFKD.
_ANSWER_TRANSLATION = str.maketrans(
    {
        "'": " ",
        "’": " ",
        "‘": " ",
        "ʼ": " ",
        "-": " ",
        "\u2010": " ",
        "\u2011": " ",
        "œ": "oe",
        "Œ": "OE",
        "æ": "ae",
        "Æ": "AE",
    }
)

CHALLENGE_MIN = 1
CHALLENGE_MAX = 20


def password_problems(
    password: str, *, family_name: str = "", given_names: str = "", email: str = ""
) -> list[str]:
    """What is wrong with the password, in French for the form; empty when it is acceptable."""
    if not password:
        return [MESSAGE_EMPTY]
    problems: list[str] = []
    # NFC so that "é" counts as one character whichever way the keyboard composed it.
    length = len(unicodedata.normalize("NFC", password))
    if length > MAX_LENGTH:
        problems.append(MESSAGE_TOO_LONG)
    elif length < MIN_LENGTH_MIXED:
        problems.append(MESSAGE_TOO_SHORT)
    elif length < MIN_LENGTH_ANY and character_classes(password) < MIN_CLASSES:
        problems.append(MESSAGE_TOO_FEW_CLASSES)
    if is_common_password(password):
        problems.append(MESSAGE_COMMON)
    folded = _fold(password)
    if _contains_any(folded, _name_parts(family_name)):
        problems.append(MESSAGE_FAMILY_NAME)
    if _contains_any(folded, _name_parts(given_names)):
        problems.append(MESSAGE_GIVEN_NAME)
    if _contains_any(folded, _email_parts(email)):
        problems.append(MESSAGE_EMAIL)
    return problems


def character_classes(password: str) -> int:
    """How many of lower-case, upper-case, digits and other characters the password uses."""
    lower = any(char.islower() for char in password)
    upper = any(char.isupper() for char in password)
    digit = any(char.isdecimal() for char in password)
    # Anything else counts as "special": punctuation, spaces, symbols, letters without case.
    other = any(not (char.islower() or char.isupper() or char.isdecimal()) for char in password)
    return lower + upper + digit + other


def is_common_password(password: str) -> bool:
    return password.lower() in _common_passwords()


@cache
def _common_passwords() -> frozenset[str]:
    # Read on first use, not at import: cold starts of pages that never check a password stay fast.
    text = _COMMON_PASSWORDS_FILE.read_text(encoding="utf-8")
    return frozenset(line for line in text.splitlines() if line)


def _fold(text: str) -> str:
    """Case, accents and every separator removed, so "Jean-Pierre" is found in "jeanpierre"."""
    return "".join(char for char in normalise_name(text) if char.isalnum())


def _name_parts(names: str) -> set[str]:
    # Each part of a compound name counts ("Martin-Dupont" → "martin", "dupont"), and so does
    # the whole name, which catches names made only of short parts ("Le Bo" → "lebo").
    parts = {_fold(part) for part in normalise_name(names).split(" ")}
    parts.add(_fold(names))
    return {part for part in parts if len(part) >= MIN_PERSONAL_LENGTH}


def _email_parts(email: str) -> set[str]:
    local, _, _ = email.strip().partition("@")
    parts = {_fold(email), _fold(local)}
    return {part for part in parts if len(part) >= MIN_PERSONAL_LENGTH}


def _contains_any(folded_password: str, folded_parts: set[str]) -> bool:
    return any(part in folded_password for part in folded_parts)


def generate_temporary_password() -> str:
    """14 random characters with at least one lower-case letter, one capital and one digit."""
    while True:
        candidate = "".join(secrets.choice(TEMPORARY_ALPHABET) for _ in range(TEMPORARY_LENGTH))
        # Drawing again rather than forcing a character at a chosen place keeps every valid
        # password equally likely; about 1 draw in 8 lacks a digit and is refused.
        if (
            any(char in TEMPORARY_LOWER for char in candidate)
            and any(char in TEMPORARY_UPPER for char in candidate)
            and any(char in TEMPORARY_DIGITS for char in candidate)
        ):
            return candidate


def normalise_secret_answer(answer: str) -> str:
    """The form of a secret answer that is hashed: "  Élodie  Marie " → "elodie marie"."""
    # NFKD first: it turns look-alikes such as the full-width hyphen into the plain ones.
    decomposed = unicodedata.normalize("NFKD", answer)
    without_accents = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(without_accents.translate(_ANSWER_TRANSLATION).split()).casefold()


def arithmetic_challenge(rng: random.Random | None = None) -> tuple[str, str]:
    """A small sum or difference for "Mot de passe oublié": (question, expected answer).

    Numbers are written with digits and the operation with a word, which screen readers read
    correctly ("7 plus 5"), unlike some signs ("−", "×").
    """
    draw = rng or secrets.SystemRandom()
    first = draw.randint(CHALLENGE_MIN, CHALLENGE_MAX)
    second = draw.randint(CHALLENGE_MIN, CHALLENGE_MAX)
    if draw.random() < 0.5:
        question, answer = f"{first} plus {second}", first + second
    else:
        # The larger number first, so the result is never negative.
        high, low = max(first, second), min(first, second)
        question, answer = f"{high} moins {low}", high - low
    return f"Combien font {question} ?", str(answer)
