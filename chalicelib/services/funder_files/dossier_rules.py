"""Validation of one line of a `dossiers_*.csv` file (columns and rules of
docs/specs/funder-files.md)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from chalicelib.services.accounts.identity import (
    is_plausible_email,
    normalise_email,
    normalise_name,
)
from chalicelib.services.funder_files.csv_reading import EXTRA_FIELDS_KEY
from chalicelib.services.funder_files.model import DossierStatus
from chalicelib.services.funder_files.records import DossierRecord, Rejection
from chalicelib.services.funder_files.values import (
    format_decimal_fr,
    is_valid_siret,
    parse_amount,
    parse_date,
)
from chalicelib.services.trainings.dossiers import normalise_activation_code

DOSSIER_REQUIRED_COLUMNS: tuple[str, ...] = (
    "numero_dossier",
    "nom",
    "prenoms",
    "date_naissance",
    "code_formation",
    "intitule_formation",
    "date_debut",
    "date_fin",
    "siret_organisme",
    "nom_organisme",
    "taux_mensuel",
    "date_decision",
    "statut",
)
_EMAIL_COLUMNS = ("courriel", "courriel_organisme")
DOSSIER_OPTIONAL_COLUMNS: tuple[str, ...] = (*_EMAIL_COLUMNS, "code_activation")

MAX_DOSSIER_NUMBER_LENGTH = 50
MAX_TEXT_LENGTH = 200

# The number is typed by trainees at sign-up and used in storage keys: keep it plain.
_DOSSIER_NUMBER = re.compile(rf"[A-Za-z0-9_/.\-]{{1,{MAX_DOSSIER_NUMBER_LENGTH}}}")
_TEXT_COLUMNS = ("nom", "prenoms", "code_formation", "intitule_formation", "nom_organisme")
_DATE_COLUMNS = ("date_naissance", "date_debut", "date_fin", "date_decision")
_STATUSES = {status.value: status for status in DossierStatus}
_SIRET_SPACES = str.maketrans("", "", " \u00a0\u202f")

MISSING_VALUE = "valeur obligatoire manquante"
TOO_LONG = f"texte trop long : {MAX_TEXT_LENGTH} caractères au plus"
INVALID_EMAIL = "adresse mail invalide"
MIN_ACTIVATION_CODE, MAX_ACTIVATION_CODE = 12, 64
INVALID_ACTIVATION_CODE = (
    f"code d'activation invalide : de {MIN_ACTIVATION_CODE} à {MAX_ACTIVATION_CODE} lettres sans "
    "accent ou chiffres (espaces et tirets permis)"
)
_ACTIVATION_CODE = re.compile(r"[A-Za-z0-9 \-]+")


def dossier_number_problem(value: str) -> str | None:
    """French reason why a (non-empty) dossier number is unacceptable, None when it is fine."""
    if _DOSSIER_NUMBER.fullmatch(value):
        return None
    return (
        f"numéro de dossier invalide : {MAX_DOSSIER_NUMBER_LENGTH} caractères au plus, "
        "lettres sans accent, chiffres, tirets, soulignés, barres obliques et points"
    )


def extra_fields_rejection(line: int, row: Mapping[str, str]) -> list[Rejection] | None:
    """A row with surplus fields is rejected alone: its values are probably shifted."""
    reason = row.get(EXTRA_FIELDS_KEY)
    return None if reason is None else [Rejection(line, None, reason)]


def validate_dossier_row(line: int, row: Mapping[str, str]) -> DossierRecord | list[Rejection]:
    """A DossierRecord, or every rejection of the line (one per faulty column)."""
    structural = extra_fields_rejection(line, row)
    if structural is not None:
        return structural
    rejections: list[Rejection] = []

    def reject(column: str, reason: str) -> None:
        rejections.append(Rejection(line, column, reason))

    values = {column: row.get(column, "") for column in DOSSIER_REQUIRED_COLUMNS}
    for column, value in values.items():
        if not value:
            reject(column, MISSING_VALUE)

    number = values["numero_dossier"]
    if number and (problem := dossier_number_problem(number)):
        reject("numero_dossier", problem)
    for column in _TEXT_COLUMNS:
        if len(values[column]) > MAX_TEXT_LENGTH:
            reject(column, TOO_LONG)
    for column in ("nom", "prenoms"):
        value = values[column]
        if value and len(value) <= MAX_TEXT_LENGTH and not normalise_name(value):
            reject(column, "aucune lettre dans cette valeur")

    dates: dict[str, date] = {}
    for column in _DATE_COLUMNS:
        if values[column]:
            try:
                dates[column] = parse_date(values[column])
            except ValueError as error:
                reject(column, str(error))
    start, end = dates.get("date_debut"), dates.get("date_fin")
    if start and end and end < start:
        reject(
            "date_fin",
            f"date de fin {end:%d/%m/%Y} antérieure à la date de début {start:%d/%m/%Y}",
        )

    siret = values["siret_organisme"].translate(_SIRET_SPACES)
    if siret and not is_valid_siret(siret):
        if len(siret) == 14 and siret.isascii() and siret.isdigit():
            reject("siret_organisme", "SIRET invalide : clé de contrôle incorrecte")
        else:
            reject("siret_organisme", "SIRET invalide : 14 chiffres attendus")

    rate: Decimal | None = None
    if values["taux_mensuel"]:
        try:
            rate = parse_amount(values["taux_mensuel"])
        except ValueError as error:
            reject("taux_mensuel", str(error))
        else:
            if rate < 0:
                reject("taux_mensuel", f"taux mensuel négatif : {format_decimal_fr(rate)}")

    raw_status = values["statut"]
    status = _STATUSES.get(raw_status.lower())
    if raw_status and status is None:
        reject(
            "statut",
            f"statut inconnu « {raw_status} », attendu en_cours, terminee, abandon ou supprime",
        )

    emails: dict[str, str | None] = {}
    for column in _EMAIL_COLUMNS:
        email = normalise_email(row.get(column, ""))
        if email and not is_plausible_email(email):
            reject(column, INVALID_EMAIL)
        emails[column] = email or None

    # A secret printed on the décision: the report never echoes it, only says it is unfit.
    raw_code = row.get("code_activation", "").strip()
    activation_code = normalise_activation_code(raw_code) or None
    if raw_code and not (
        _ACTIVATION_CODE.fullmatch(raw_code)
        and MIN_ACTIVATION_CODE <= len(activation_code or "") <= MAX_ACTIVATION_CODE
    ):
        reject("code_activation", INVALID_ACTIVATION_CODE)

    if rejections:
        return rejections
    assert rate is not None and status is not None  # guaranteed when nothing was rejected
    return DossierRecord(
        line=line,
        dossier_number=number,
        family_name=values["nom"],
        given_names=values["prenoms"],
        birth_date=dates["date_naissance"],
        email=emails["courriel"],
        training_code=values["code_formation"],
        training_title=values["intitule_formation"],
        start_date=dates["date_debut"],
        end_date=dates["date_fin"],
        organisation_siret=siret,
        organisation_name=values["nom_organisme"],
        organisation_email=emails["courriel_organisme"],
        monthly_rate=rate,
        decision_date=dates["date_decision"],
        status=status,
        activation_code=activation_code,
    )


# A funder withdraws a dossier from the portal with this status: the line needs only its number
# (the other columns may be empty), and the dossier goes with everything that hangs from it.
WITHDRAWN_STATUS = "supprime"


def withdrawal_number(line: int, row: Mapping[str, str]) -> str | list[Rejection] | None:
    """The number of a withdrawal line, its rejections, or None when the line is no withdrawal."""
    if row.get("statut", "").strip().lower() != WITHDRAWN_STATUS:
        return None
    structural = extra_fields_rejection(line, row)
    if structural is not None:
        return structural
    number = row.get("numero_dossier", "")
    if not number:
        return [Rejection(line, "numero_dossier", MISSING_VALUE)]
    problem = dossier_number_problem(number)
    return [Rejection(line, "numero_dossier", problem)] if problem else number
