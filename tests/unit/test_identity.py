from datetime import date

import pytest

from chalicelib.services.accounts.identity import (
    first_given_name,
    identity_key,
    is_plausible_email,
    normalise_email,
    normalise_name,
)


def test_names_differing_by_case_accents_hyphens_apostrophes_and_spaces_normalise_alike():
    assert normalise_name("Jean-Pierre  d'Arc") == normalise_name("JEAN PIERRE D ARC")
    assert normalise_name("  Hélène   Lefèvre ") == "HELENE LEFEVRE"


@pytest.mark.parametrize("apostrophe", ["'", "’", "‘", "ʼ"])
def test_every_apostrophe_variant_separates_name_parts(apostrophe):
    assert normalise_name(f"d{apostrophe}Arc") == "D ARC"


def test_ligatures_and_cedillas_compare_with_their_plain_spelling():
    assert normalise_name("Lœuillet") == normalise_name("Loeuillet") == "LOEUILLET"
    assert normalise_name("François") == "FRANCOIS"


def test_a_name_made_only_of_separators_normalises_to_empty():
    assert normalise_name(" - ' ") == ""


def test_first_given_name_is_the_first_normalised_name():
    assert first_given_name("Marie Hélène Claire") == "MARIE"
    assert first_given_name("  élise ") == "ELISE"
    assert first_given_name("") == ""


def test_identity_key_uses_family_name_first_given_name_and_iso_birth_date():
    key = identity_key("d'Arc", "Jeanne Marie", date(1990, 3, 20))
    assert key == "D ARC|JEANNE|1990-03-20"


def test_identity_key_matches_when_only_the_first_given_name_is_typed():
    birth = date(1985, 1, 2)
    assert identity_key("Dupont", "Élodie Anne", birth) == identity_key("DUPONT", "elodie", birth)


def test_identity_key_differs_on_birth_date():
    assert identity_key("Dupont", "Anne", date(1985, 1, 2)) != identity_key(
        "Dupont", "Anne", date(1985, 2, 1)
    )


def test_normalise_email_strips_and_lowers():
    assert normalise_email("  Jean.Dupont@Example.FR ") == "jean.dupont@example.fr"


@pytest.mark.parametrize("email", ["jean.dupont@example.fr", "a+tag@sub.example.org", "x@y.co"])
def test_plausible_emails_are_accepted(email):
    assert is_plausible_email(email)


@pytest.mark.parametrize(
    "email",
    [
        "",
        "jean.dupont",
        "@example.fr",
        "jean@",
        "jean@localhost",
        "jean@@example.fr",
        "jean@exa@mple.fr",
        "jean dupont@example.fr",
        "jean@.example.fr",
        "jean@example.fr.",
        "jean@example..fr",
        "a" * 250 + "@x.fr",
    ],
)
def test_implausible_emails_are_refused(email):
    assert not is_plausible_email(email)
