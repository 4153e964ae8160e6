"""Parsers for the values of funder files, shared by dossier and payment files.

Each parser raises ValueError with a French message meant for the funder's report.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

_CENT = Decimal("0.01")
_ZERO_CENTS = Decimal("0.00")

# Thousands may be separated by a space, a non-breaking space or a narrow non-breaking space
# (what spreadsheets insert); groups must then be well formed so "12 34" is not read as 1234.
_GROUPED_INTEGER = r"\d{1,3}(?:[ \u00a0\u202f]\d{3})+"
_AMOUNT = re.compile(rf"([+-]?)({_GROUPED_INTEGER}|\d+)(?:,(\d{{1,2}}))?", re.ASCII)
_UNSIGNED_DECIMAL = re.compile(rf"({_GROUPED_INTEGER}|\d+)(?:,(\d{{1,6}}))?", re.ASCII)
_THOUSANDS_SEPARATORS = str.maketrans("", "", " \u00a0\u202f")
_MAX_INTEGER_DIGITS = 9  # below a billion euros or days: anything larger is a typing error

_AMOUNT_EXAMPLE = "attendu par exemple 310,39 ou -12,00"
_DATE_ERROR = "date invalide, attendu JJ/MM/AAAA"


@lru_cache(maxsize=4096)
def parse_date(value: str) -> date:
    """ "20/03/2018" -> date(2018, 3, 20); a real calendar date, exactly JJ/MM/AAAA."""
    # Cached because a payment file repeats the same few dates on every line.
    if len(value) != 10 or value[2] != "/" or value[5] != "/":
        raise ValueError(_DATE_ERROR)
    day, month, year = value[:2], value[3:5], value[6:]
    if not (value.isascii() and day.isdigit() and month.isdigit() and year.isdigit()):
        raise ValueError(_DATE_ERROR)
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise ValueError(f"date inexistante {value}, attendu JJ/MM/AAAA") from None


def _number_error(noun: str, value: str, example: str) -> ValueError:
    if "." in value:
        return ValueError(f"{noun} invalide « {value} » : virgule décimale attendue, pas de point")
    return ValueError(f"{noun} invalide « {value} », {example}")


def parse_amount(value: str) -> Decimal:
    """ "1 234,56" -> Decimal("1234.56"): decimal comma, optional sign, at most 2 decimals.

    The result always has exactly two decimals, and zero is never negative, so equal amounts
    have equal text (payment content keys rely on it).
    """
    match = _AMOUNT.fullmatch(value)
    if match is None:
        units, comma, cents = value.partition(",")
        if comma and _AMOUNT.fullmatch(units) and cents.isascii() and cents.isdigit():
            raise ValueError(f"montant invalide « {value} » : au plus 2 décimales")
        raise _number_error("montant", value, _AMOUNT_EXAMPLE)
    sign, integer, decimals = match.groups()
    integer = integer.translate(_THOUSANDS_SEPARATORS)
    if len(integer) > _MAX_INTEGER_DIGITS:
        raise ValueError(f"montant invalide « {value} » : trop grand")
    amount = Decimal(f"{sign}{integer}.{(decimals or '').ljust(2, '0')}")
    return amount if amount else _ZERO_CENTS


def parse_decimal(value: str, *, allow_zero: bool = True) -> Decimal:
    """A non-negative number with a decimal comma (taux, jours, diviseur): "14,5" -> 14.5.

    allow_zero=False is for a divisor. The written precision is kept so "14,5" displays back as
    "14,5" in "310,39 x 14,5 / 30".
    """
    match = _UNSIGNED_DECIMAL.fullmatch(value)
    if match is None:
        if value[:1] == "-":
            raise ValueError(f"nombre négatif « {value} » non accepté")
        raise _number_error("nombre", value, "attendu un nombre positif, par exemple 14 ou 14,5")
    integer, decimals = match.groups()
    integer = integer.translate(_THOUSANDS_SEPARATORS)
    if len(integer) > _MAX_INTEGER_DIGITS:
        raise ValueError(f"nombre invalide « {value} » : trop grand")
    number = Decimal(f"{integer}.{decimals}" if decimals else integer)
    if not allow_zero and not number:
        raise ValueError("le diviseur doit être supérieur à zéro")
    return number


def round_half_up_cents(value: Decimal) -> Decimal:
    """Round to the cent, halves away from zero (the funders' rule: 144,845 -> 144,85)."""
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def format_decimal_fr(value: Decimal, *, grouping: bool = False) -> str:
    """French writing of a number: decimal comma, optional non-breaking thousands spaces."""
    text = f"{value:,f}".replace(",", "\u00a0") if grouping else f"{value:f}"
    return text.replace(".", ",")


# Luhn doubling table: the digit sum of 2 x d for each digit d.
_DOUBLED_DIGIT_SUM = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)
_LA_POSTE_SIREN = "356000000"


def is_valid_siret(value: str) -> bool:
    """14 digits with a valid Luhn key; La Poste's establishments follow their own rule."""
    if len(value) != 14 or not (value.isascii() and value.isdigit()):
        return False
    digits = [ord(char) - 48 for char in value]
    # INSEE exception: La Poste has more establishments than Luhn keys allow; theirs are valid
    # when the plain digit sum is a multiple of 5.
    if value.startswith(_LA_POSTE_SIREN) and sum(digits) % 5 == 0:
        return True
    # From the right, every second digit is doubled: with 14 digits those are the even indexes.
    total = sum(_DOUBLED_DIGIT_SUM[d] for d in digits[0::2]) + sum(digits[1::2])
    return total % 10 == 0
