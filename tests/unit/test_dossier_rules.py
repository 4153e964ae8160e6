from datetime import date
from decimal import Decimal

import pytest

from chalicelib.services.funder_files.csv_reading import EXTRA_FIELDS_KEY
from chalicelib.services.funder_files.dossier_rules import (
    DOSSIER_OPTIONAL_COLUMNS,
    DOSSIER_REQUIRED_COLUMNS,
    validate_dossier_row,
)
from chalicelib.services.funder_files.model import DossierStatus
from chalicelib.services.funder_files.records import DossierRecord, Rejection


def valid_row(**changes: str) -> dict[str, str]:
    row = {
        "numero_dossier": "R-2017/0042.A_1",
        "nom": "d'Arc",
        "prenoms": "Jeanne Marie",
        "date_naissance": "06/01/1995",
        "courriel": "Jeanne.Darc@Example.fr",
        "code_formation": "F123",
        "intitule_formation": "Soudure à l'arc",
        "date_debut": "16/10/2017",
        "date_fin": "30/06/2018",
        "siret_organisme": "73282932000074",
        "nom_organisme": "AFPA Orléans",
        "courriel_organisme": "",
        "taux_mensuel": "310,39",
        "date_decision": "02/10/2017",
        "statut": "en_cours",
        "code_activation": "",
    }
    row.update(changes)
    return row


def rejected_columns(result: object) -> list[str | None]:
    assert isinstance(result, list), result
    return [rejection.column for rejection in result]


def test_columns_are_those_of_the_contract():
    assert set(DOSSIER_REQUIRED_COLUMNS) | set(DOSSIER_OPTIONAL_COLUMNS) == set(valid_row())
    assert set(DOSSIER_OPTIONAL_COLUMNS) == {"courriel", "courriel_organisme", "code_activation"}


@pytest.mark.parametrize(
    ("printed", "kept"),
    [("K7M2-P9QX-4TDV", "K7M2P9QX4TDV"), ("k7m2 p9qx 4tdv 8w", "K7M2P9QX4TDV8W")],
)
def test_an_activation_code_is_kept_normalised(printed, kept):
    record = validate_dossier_row(7, valid_row(code_activation=printed))
    assert isinstance(record, DossierRecord) and record.activation_code == kept


@pytest.mark.parametrize("code", ["K7M2-P9QX", "K7M2_P9QX_4TDV", "K7M2-P9QX-4TDÉ", "A" * 65])
def test_a_short_or_odd_activation_code_is_refused_without_being_echoed(code):
    (rejection,) = validate_dossier_row(7, valid_row(code_activation=code))  # type: ignore[misc]
    assert rejection.column == "code_activation"
    assert "de 12 à 64 lettres" in rejection.reason and code not in rejection.reason


def test_a_valid_line_becomes_a_record():
    record = validate_dossier_row(7, valid_row())
    assert record == DossierRecord(
        line=7,
        dossier_number="R-2017/0042.A_1",
        family_name="d'Arc",
        given_names="Jeanne Marie",
        birth_date=date(1995, 1, 6),
        email="jeanne.darc@example.fr",
        training_code="F123",
        training_title="Soudure à l'arc",
        start_date=date(2017, 10, 16),
        end_date=date(2018, 6, 30),
        organisation_siret="73282932000074",
        organisation_name="AFPA Orléans",
        organisation_email=None,
        monthly_rate=Decimal("310.39"),
        decision_date=date(2017, 10, 2),
        status=DossierStatus.IN_PROGRESS,
    )


def test_optional_columns_may_be_absent_from_the_file():
    row = valid_row()
    del row["courriel"], row["courriel_organisme"]
    record = validate_dossier_row(2, row)
    assert isinstance(record, DossierRecord)
    assert record.email is None


def test_every_empty_required_column_is_reported():
    result = validate_dossier_row(3, dict.fromkeys(DOSSIER_REQUIRED_COLUMNS, ""))
    assert rejected_columns(result) == list(DOSSIER_REQUIRED_COLUMNS)
    assert all(r.line == 3 and r.reason == "valeur obligatoire manquante" for r in result)


def test_all_faults_of_a_line_are_reported_not_only_the_first():
    result = validate_dossier_row(
        4,
        valid_row(
            date_naissance="31/02/1995",
            siret_organisme="73282932000075",
            taux_mensuel="310.39",
            statut="fini",
            courriel="pas-une-adresse",
        ),
    )
    assert rejected_columns(result) == [
        "date_naissance",
        "siret_organisme",
        "taux_mensuel",
        "statut",
        "courriel",
    ]


def test_a_training_ending_before_it_starts_is_refused():
    result = validate_dossier_row(2, valid_row(date_debut="01/03/2018", date_fin="28/02/2018"))
    assert result == [
        Rejection(2, "date_fin", "date de fin 28/02/2018 antérieure à la date de début 01/03/2018")
    ]


def test_a_one_day_training_is_accepted():
    assert isinstance(
        validate_dossier_row(2, valid_row(date_debut="01/03/2018", date_fin="01/03/2018")),
        DossierRecord,
    )


@pytest.mark.parametrize(
    ("siret", "reason"),
    [
        ("73282932000075", "SIRET invalide : clé de contrôle incorrecte"),
        ("7328293200007", "SIRET invalide : 14 chiffres attendus"),
    ],
)
def test_an_invalid_siret_is_refused_with_its_fault(siret, reason):
    assert validate_dossier_row(2, valid_row(siret_organisme=siret)) == [
        Rejection(2, "siret_organisme", reason)
    ]


def test_a_siret_written_with_spaces_is_stored_as_14_digits():
    record = validate_dossier_row(2, valid_row(siret_organisme="732 829 320\u00a000074"))
    assert isinstance(record, DossierRecord)
    assert record.organisation_siret == "73282932000074"


def test_a_negative_monthly_rate_is_refused():
    assert rejected_columns(validate_dossier_row(2, valid_row(taux_mensuel="-1,00"))) == [
        "taux_mensuel"
    ]


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("en_cours", DossierStatus.IN_PROGRESS),
        ("terminee", DossierStatus.FINISHED),
        ("ABANDON", DossierStatus.ABANDONED),
    ],
)
def test_each_known_status_is_accepted(text, status):
    record = validate_dossier_row(2, valid_row(statut=text))
    assert isinstance(record, DossierRecord)
    assert record.status is status


def test_an_unknown_status_names_the_expected_values():
    (rejection,) = validate_dossier_row(2, valid_row(statut="terminée"))
    assert rejection.column == "statut"
    assert "en_cours, terminee, abandon ou supprime" in rejection.reason


def test_an_implausible_organisation_email_is_refused():
    assert rejected_columns(validate_dossier_row(2, valid_row(courriel_organisme="x@y"))) == [
        "courriel_organisme"
    ]


@pytest.mark.parametrize("number", ["D 42", "D42é", "D42;", "X" * 51])
def test_dossier_numbers_outside_the_allowed_characters_or_length_are_refused(number):
    assert rejected_columns(validate_dossier_row(2, valid_row(numero_dossier=number))) == [
        "numero_dossier"
    ]


def test_overlong_texts_are_refused():
    result = validate_dossier_row(2, valid_row(intitule_formation="x" * 201, nom="y" * 201))
    assert rejected_columns(result) == ["nom", "intitule_formation"]


def test_a_name_without_any_letter_is_refused():
    assert rejected_columns(validate_dossier_row(2, valid_row(prenoms="-"))) == ["prenoms"]


def test_a_line_with_surplus_fields_is_rejected_alone():
    row = valid_row(**{EXTRA_FIELDS_KEY: "la ligne compte 16 champs"}, statut="???")
    assert validate_dossier_row(9, row) == [Rejection(9, None, "la ligne compte 16 champs")]
