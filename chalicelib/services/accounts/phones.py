"""French phone numbers: read as people type them, stored in E.164, shown the French way.

Overseas departments have their own country codes (+262, +590, +594, +596) although their
numbers are dialled in France with a leading 0 like any other: "0692 12 34 56" is +262692123456,
not +33692123456, which would not ring anywhere.
"""

from __future__ import annotations

import re

PHONE_FORMAT_ERROR = (
    "Saisissez un numéro de téléphone français de 10 chiffres, par exemple 06 12 34 56 78 "
    "ou +33 6 12 34 56 78."
)

# National prefixes (the first 4 digits, leading 0 included) of the overseas departments.
_OVERSEAS_PREFIXES = {
    "+262": ("0262", "0263", "0269", "0639", "0692", "0693"),  # La Réunion, Mayotte
    "+590": ("0590", "0690", "0691"),  # Guadeloupe, Saint-Martin, Saint-Barthélemy
    "+594": ("0594", "0694"),  # Guyane
    "+596": ("0596", "0696", "0697"),  # Martinique
}
_COUNTRY_CODES = ("+33", *_OVERSEAS_PREFIXES)
# Separators people type between digit groups; "(0)" is the old international habit.
_SEPARATORS = re.compile(r"[\s.\-/\u00a0\u202f]")
_NATIONAL = re.compile(r"0[1-9]\d{8}")


def normalise_french_phone(text: str) -> str | None:
    """The E.164 form of a French number ("06 12 34 56 78" → "+33612345678"), or None."""
    compact = _SEPARATORS.sub("", text).replace("(0)", "")
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    typed_code = next((code for code in _COUNTRY_CODES if compact.startswith(code)), None)
    if typed_code is not None:
        compact = "0" + compact[len(typed_code) :]
    if not _NATIONAL.fullmatch(compact):
        return None
    code = _country_code(compact)
    # "+262 6 12 34 56 78" mixes an overseas code with a mainland number: ask rather than guess.
    if typed_code is not None and typed_code != code:
        return None
    return code + compact[1:]


def _country_code(national: str) -> str:
    for code, prefixes in _OVERSEAS_PREFIXES.items():
        if national.startswith(prefixes):
            return code
    return "+33"


def format_french_phone(e164: str) -> str:
    """ "+33612345678" → "06 12 34 56 78", the way French people read their numbers."""
    for code in _COUNTRY_CODES:
        if e164.startswith(code):
            national = "0" + e164[len(code) :]
            return " ".join(national[index : index + 2] for index in range(0, len(national), 2))
    return e164
