from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.services.funder_files.values import (
    format_decimal_fr,
    is_valid_siret,
    parse_amount,
    parse_date,
    parse_decimal,
    round_half_up_cents,
)


def test_a_french_date_is_parsed():
    assert parse_date("20/03/2018") == date(2018, 3, 20)
    assert parse_date("29/02/2024") == date(2024, 2, 29)


@pytest.mark.parametrize(
    "value", ["2018-03-20", "20/3/2018", "20/03/18", "20.03.2018", "aa/bb/cccc", "２０/03/2018"]
)
def test_dates_not_written_jj_mm_aaaa_are_refused(value):
    with pytest.raises(ValueError, match="date invalide, attendu JJ/MM/AAAA"):
        parse_date(value)


@pytest.mark.parametrize("value", ["31/04/2018", "29/02/2023", "00/01/2018", "12/13/2018"])
def test_dates_missing_from_the_calendar_are_refused(value):
    with pytest.raises(ValueError, match="date inexistante"):
        parse_date(value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("310,39", "310.39"),
        ("-12,00", "-12.00"),
        ("+5", "5.00"),
        ("12,5", "12.50"),
        ("1 234,56", "1234.56"),
        ("1\u00a0234,56", "1234.56"),
        ("1\u202f234\u202f567,00", "1234567.00"),
        ("0", "0.00"),
    ],
)
def test_amounts_with_decimal_comma_and_thousands_spaces_are_parsed(text, expected):
    amount = parse_amount(text)
    assert amount == Decimal(expected)
    assert str(amount) == expected  # always two decimals: equal amounts, equal text


def test_negative_zero_amount_is_plain_zero():
    assert str(parse_amount("-0,00")) == "0.00"


def test_an_amount_with_a_decimal_point_is_refused_with_a_hint():
    with pytest.raises(ValueError, match="virgule décimale attendue, pas de point"):
        parse_amount("12.50")


def test_an_amount_with_three_decimals_is_refused():
    with pytest.raises(ValueError, match="au plus 2 décimales"):
        parse_amount("12,345")


@pytest.mark.parametrize("value", ["", "abc", "12,", ",50", "1 23,00", "- 1,00", "12 €", "1e3"])
def test_malformed_amounts_are_refused(value):
    with pytest.raises(ValueError, match="montant invalide"):
        parse_amount(value)


def test_an_absurdly_large_amount_is_refused():
    with pytest.raises(ValueError, match="trop grand"):
        parse_amount("1234567890,00")


def test_decimals_keep_their_written_precision():
    assert str(parse_decimal("14,5")) == "14.5"
    assert str(parse_decimal("30")) == "30"
    assert parse_decimal("1 234,5678") == Decimal("1234.5678")


def test_a_negative_decimal_is_refused():
    with pytest.raises(ValueError, match="négatif"):
        parse_decimal("-3")


def test_a_zero_divisor_is_refused():
    assert parse_decimal("0") == 0
    with pytest.raises(ValueError, match="supérieur à zéro"):
        parse_decimal("0,00", allow_zero=False)


def test_a_decimal_with_a_point_is_refused_with_a_hint():
    with pytest.raises(ValueError, match="virgule décimale"):
        parse_decimal("14.5")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("144.845", "144.85"), ("144.8449", "144.84"), ("-0.005", "-0.01"), ("2", "2.00")],
)
def test_rounding_to_the_cent_takes_halves_away_from_zero(value, expected):
    assert round_half_up_cents(Decimal(value)) == Decimal(expected)


def test_numbers_are_written_the_french_way():
    assert format_decimal_fr(Decimal("144.85")) == "144,85"
    assert format_decimal_fr(Decimal("-12.00")) == "-12,00"
    assert format_decimal_fr(Decimal("1E+2")) == "100"
    assert format_decimal_fr(Decimal("1234567.5"), grouping=True) == "1\u00a0234\u00a0567,5"


@given(st.decimals(min_value=-(10**8), max_value=10**8, places=2, allow_nan=False))
def test_french_writing_of_an_amount_parses_back_to_it(amount):
    assert parse_amount(format_decimal_fr(amount)) == amount
    assert parse_amount(format_decimal_fr(amount, grouping=True)) == amount


@pytest.mark.parametrize(
    "siret",
    ["73282932000074", "44306184100047", "35600000000048", "35600000049837"],
)
def test_valid_sirets_are_accepted_including_la_poste(siret):
    assert is_valid_siret(siret)


@pytest.mark.parametrize(
    "siret",
    [
        "73282932000075",  # wrong key
        "7328293200007",  # 13 digits
        "732829320000741",  # 15 digits
        "7328293200007A",
        "732 829 320 00074",
        "35600000049838",  # La Poste SIREN, but neither rule holds
        "",
    ],
)
def test_invalid_sirets_are_refused(siret):
    assert not is_valid_siret(siret)


def test_la_poste_rule_applies_only_to_la_poste():
    # digit sum 15 (a multiple of 5) but Luhn-invalid and not La Poste's SIREN
    assert sum(int(d) for d in "11111111111112") % 5 == 0
    assert not is_valid_siret("11111111111112")


@pytest.mark.parametrize("value", ["１２,００", "١٢"])
def test_non_ascii_digits_are_refused(value):
    with pytest.raises(ValueError):
        parse_amount(value)
    with pytest.raises(ValueError):
        parse_decimal(value)
