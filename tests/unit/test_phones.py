"""French phone numbers: the ways people type them, E.164 for storage, pairs for reading."""

from __future__ import annotations

import pytest

from chalicelib.services.accounts.phones import format_french_phone, normalise_french_phone


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("06 12 34 56 78", "+33612345678"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("0612345678", "+33612345678"),
        ("06.12.34.56.78", "+33612345678"),
        ("06-12-34-56-78", "+33612345678"),
        ("+33 (0)6 12 34 56 78", "+33612345678"),
        ("0033 6 12 34 56 78", "+33612345678"),
        ("01 23 45 67 89", "+33123456789"),
        ("0692 12 34 56", "+262692123456"),  # La Réunion: its own country code
        ("+262 692 12 34 56", "+262692123456"),
        ("0590 12 34 56", "+590590123456"),
    ],
)
def test_french_formats_are_stored_in_e164(typed, stored):
    assert normalise_french_phone(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "12345",
        "06 12 34 56",
        "06 12 34 56 789",
        "00 12",
        "+44 20 7946 0958",
        "+33 692123456",
        "+262 6 12 34 56 78",
        "06 12 34 56 7a",
        "6 12 34 56 78",
    ],
)
def test_anything_else_is_refused(typed):
    assert normalise_french_phone(typed) is None


def test_numbers_are_shown_in_pairs_the_french_way():
    assert format_french_phone("+33612345678") == "06 12 34 56 78"
    assert format_french_phone("+262692123456") == "06 92 12 34 56"
