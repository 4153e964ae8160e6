import random
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.services.accounts import passwords
from chalicelib.services.accounts.passwords import (
    MESSAGE_COMMON,
    MESSAGE_EMAIL,
    MESSAGE_EMPTY,
    MESSAGE_FAMILY_NAME,
    MESSAGE_GIVEN_NAME,
    MESSAGE_TOO_FEW_CLASSES,
    MESSAGE_TOO_LONG,
    MESSAGE_TOO_SHORT,
    PASSWORD_RULE_TEXT,
    TEMPORARY_ALPHABET,
    arithmetic_challenge,
    character_classes,
    generate_temporary_password,
    is_common_password,
    normalise_secret_answer,
    password_problems,
)

COMMON_FILE = Path(passwords.__file__).parent / "data" / "common-passwords.txt"


def test_rule_text_is_french_and_states_the_numbers():
    for fragment in ("12 caractères", "3 types", "15 caractères", "128 caractères"):
        assert fragment in PASSWORD_RULE_TEXT
    assert "Évitez" in PASSWORD_RULE_TEXT


@pytest.mark.parametrize(
    "password",
    [
        "Grenouille7!x",  # 13 characters, 4 classes
        "grenouille7!x",  # 3 classes: lower, digit, other
        "GRENOUILLE7!X",  # 3 classes: upper, digit, other
        "Grenouillebx7",  # 3 classes without a special character
        "xkcdgrenouilleb",  # 15 characters of one class
        "la grenouille verte saute",  # a passphrase: spaces are special characters
        "Éléphantrosé9",  # accented letters count as letters
        "a" * 60 + "B1!" + "z" * 65,  # 128 characters exactly
    ],
)
def test_acceptable_passwords_have_no_problem(password):
    assert password_problems(password) == []


def test_an_empty_password_gets_one_message():
    assert password_problems("") == [MESSAGE_EMPTY]


def test_fewer_than_12_characters_are_too_short_whatever_the_mix():
    assert password_problems("Gr3nou!lle#") == [MESSAGE_TOO_SHORT]  # 11 characters


def test_12_to_14_characters_need_3_classes():
    assert password_problems("grenouillebx") == [MESSAGE_TOO_FEW_CLASSES]  # 12, 1 class
    assert password_problems("Grenouillebxk") == [MESSAGE_TOO_FEW_CLASSES]  # 13, 2 classes
    assert password_problems("grenouillebx77") == [MESSAGE_TOO_FEW_CLASSES]  # 14, 2 classes


def test_15_characters_of_a_single_class_are_enough():
    assert password_problems("grenouillebxkcd") == []
    assert password_problems("grenouillebxkc") == [MESSAGE_TOO_FEW_CLASSES]


def test_more_than_128_characters_are_refused():
    assert password_problems("Ab1!" * 32 + "x") == [MESSAGE_TOO_LONG]


def test_length_counts_code_points_and_composes_accents_first():
    decomposed = "e\u0301" * 11 + "A1"  # 13 characters once composed, 24 code points as typed
    assert password_problems(decomposed) == []
    assert password_problems("é" * 11) == [MESSAGE_TOO_SHORT]
    assert len("🐸" * 12) == 12 and password_problems("🐸" * 6 + "Abc12!") == []


def test_character_classes_are_lower_upper_digit_and_other():
    assert character_classes("abc") == 1
    assert character_classes("aB") == 2
    assert character_classes("aB3") == 3
    assert character_classes("aB3 ") == 4
    assert character_classes("日本") == 1  # letters without case count as special characters


def test_common_passwords_are_refused_case_insensitively():
    assert password_problems("Azertyuiop123") == [MESSAGE_COMMON]
    assert password_problems("MOTDEPASSE123") == [MESSAGE_TOO_FEW_CLASSES, MESSAGE_COMMON]
    assert password_problems("azerty") == [MESSAGE_TOO_SHORT, MESSAGE_COMMON]


@pytest.mark.parametrize(
    "password",
    [
        "123456",
        "password",
        "qwerty",
        "azerty",
        "Azerty123",
        "motdepasse",
        "soleil",
        "doudou",
        "loulou",
        "marseille",
        "chouchou",
        "nicolas",
        "bonjour",
        "jetaime",
    ],
)
def test_known_common_passwords_are_in_the_list(password):
    assert is_common_password(password)


def test_an_uncommon_password_is_not_in_the_list():
    assert not is_common_password("Grenouille7!x")


def test_the_common_list_has_10000_lower_case_unique_entries_and_no_blank_line():
    lines = COMMON_FILE.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == ""  # the file ends with a newline
    entries = lines[:-1]
    assert len(entries) >= 10_000
    assert len(set(entries)) == len(entries)
    assert all(entry and entry == entry.lower() and entry.strip() == entry for entry in entries)
    assert COMMON_FILE.stat().st_size < 300_000


def test_the_common_list_is_not_read_at_import():
    passwords._common_passwords.cache_clear()
    assert passwords._common_passwords.cache_info().currsize == 0
    is_common_password("x")
    assert passwords._common_passwords.cache_info().currsize == 1


def test_the_family_name_is_refused_ignoring_case_and_accents():
    problems = password_problems("Lefevre-2024-Xyz", family_name="Lefèvre")
    assert problems == [MESSAGE_FAMILY_NAME]


def test_each_part_of_a_compound_family_name_is_refused():
    assert password_problems("Dupont!2024xyz", family_name="Martin-Dupont") == [MESSAGE_FAMILY_NAME]
    # "Le Bo": both parts are short, the whole name is not.
    assert password_problems("Le-bo!2024xyzw", family_name="Le Bo") == [MESSAGE_FAMILY_NAME]
    assert password_problems("Xle!2024bovwyz", family_name="Le Bo") == []


def test_a_family_name_shorter_than_3_letters_is_not_searched():
    assert password_problems("Lipstick!2024", family_name="Li") == []


def test_any_given_name_of_3_letters_or_more_is_refused():
    assert password_problems("élodie#2024ABC", given_names="Anne Élodie") == [MESSAGE_GIVEN_NAME]
    assert password_problems("JeanPierre#2024", given_names="Jean-Pierre") == [MESSAGE_GIVEN_NAME]
    assert password_problems("Bloeuf#2024xyz", given_names="Cœur Œuf") == [MESSAGE_GIVEN_NAME]


def test_given_names_shorter_than_3_letters_are_not_searched():
    assert password_problems("Bolivar#2024xyz", given_names="Bo") == []


def test_the_mail_address_and_its_local_part_are_refused():
    email = "jean.dupond@example.fr"
    assert password_problems("jean.dupond@example.fr!A", email=email) == [MESSAGE_EMAIL]
    assert password_problems("Xx-JeanDupond-2024", email=email) == [MESSAGE_EMAIL]
    assert password_problems("Xx-Jean-2024-Dup", email=email) == []
    assert password_problems("Alouette!2024xy", email="al@example.fr") == []


def test_every_problem_is_reported_at_once():
    problems = password_problems(
        "dupont", family_name="Dupont", given_names="Marie", email="dupont@example.fr"
    )
    assert problems == [MESSAGE_TOO_SHORT, MESSAGE_FAMILY_NAME, MESSAGE_EMAIL]


def test_temporary_passwords_have_14_unambiguous_characters_of_3_classes():
    seen = set()
    for _ in range(2000):
        password = generate_temporary_password()
        seen.add(password)
        assert len(password) == 14
        assert set(password) <= set(TEMPORARY_ALPHABET)
        assert not set(password) & set("0Oo1lI")
        assert any(c.islower() for c in password)
        assert any(c.isupper() for c in password)
        assert any(c.isdigit() for c in password)
        assert password_problems(password) == []
    assert len(seen) == 2000


def test_the_temporary_alphabet_has_no_ambiguous_character():
    assert not set(TEMPORARY_ALPHABET) & set("0Oo1lI")
    assert len(set(TEMPORARY_ALPHABET)) == len(TEMPORARY_ALPHABET) == 56


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("  Élodie  Marie ", "elodie marie"),
        ("ÉLODIE\tMARIE", "elodie marie"),
        ("Saint-Étienne", "saint etienne"),
        ("l’Arbre", "l arbre"),
        ("l'arbre", "l arbre"),
        ("Cœur", "coeur"),
        ("Straße", "strasse"),
        ("Ｒｅｘ", "rex"),
    ],
)
def test_secret_answers_fold_case_accents_and_spaces(typed, expected):
    assert normalise_secret_answer(typed) == expected


@given(st.text(max_size=40))
def test_normalising_a_secret_answer_twice_changes_nothing(answer):
    once = normalise_secret_answer(answer)
    assert normalise_secret_answer(once) == once


def test_arithmetic_challenges_are_correct_for_many_seeds():
    operations = set()
    for seed in range(2000):
        question, answer = arithmetic_challenge(random.Random(seed))
        assert question.startswith("Combien font ") and question.endswith(" ?")
        first, operation, second = question.removeprefix("Combien font ").removesuffix(" ?").split()
        left, right = int(first), int(second)
        assert 1 <= left <= 20 and 1 <= right <= 20
        expected = left + right if operation == "plus" else left - right
        assert operation in {"plus", "moins"}
        assert answer == str(expected) and expected >= 0
        operations.add(operation)
    assert operations == {"plus", "moins"}


def test_the_same_seed_gives_the_same_challenge_and_the_default_is_random():
    assert arithmetic_challenge(random.Random(7)) == arithmetic_challenge(random.Random(7))
    assert len({arithmetic_challenge() for _ in range(50)}) > 1
