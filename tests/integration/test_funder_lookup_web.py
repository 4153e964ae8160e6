"""« Rechercher un dossier » in the funders' space, under moto: its own funder's dossiers only,
a POST search (no name in the address), the account and payments shown, the session's TOTP."""

from __future__ import annotations

import pytest

from chalicelib.container import get_container
from chalicelib.services.funders.model import Funder, save_funder
from local.demo import READY
from tests.integration.test_funder_space_web import (
    MANAGER,
    NEW_PASSWORD,
    OTHER,
    Staff,
    first_login,
    invite,
    password_login,
)
from tests.support.web import WebClient

CAMILLE_IDF, CAMILLE_HDF = "IDF-2017-000123", "HDF-2026-000042"
PATH = "/financeur/dossiers"


@pytest.fixture
def manager(demo_data: WebClient) -> Staff:
    invite(MANAGER, "region-idf", "gestionnaire")
    return first_login(demo_data, MANAGER)


def search(staff: Staff, **fields: str):
    form = staff.web.get(PATH)
    assert form.status == 200
    return staff.web.post(PATH, {"csrf": form.hidden("csrf"), **fields})


def test_a_search_by_number_shows_the_dossier_its_account_and_payments(manager: Staff) -> None:
    page = search(manager, numero=CAMILLE_IDF)
    assert page.status == 200, page.text
    assert f"Dossier {CAMILLE_IDF}" in page.text
    assert "Compte lié au dossier : oui, activé" in page.text
    assert "c***@example.fr" in page.text
    assert "Avis par courriel" in page.text and "Création du dossier" in page.text
    assert "Ville de naissance" not in page.text  # never the secret question
    # Another funder's dossier and a missing one: the same answer.
    other = search(manager, numero=CAMILLE_HDF)
    missing = search(manager, numero="IDF-0000-000000")
    assert "Dossier introuvable pour votre organisme." in other.text
    assert other.text.replace(CAMILLE_HDF, "X") == missing.text.replace("IDF-0000-000000", "X")


def test_a_search_by_name_needs_the_exact_name_and_birth_date(manager: Staff) -> None:
    found = search(manager, nom="martin", date_naissance="14/05/1990")
    assert f"Dossier {CAMILLE_IDF}" in found.text, found.text
    assert CAMILLE_HDF not in found.text
    assert "Dossier introuvable" in search(manager, nom="MART", date_naissance="14/05/1990").text
    bad = search(manager, nom="MARTIN", date_naissance="1990-05-14")
    assert bad.status == 400 and "JJ/MM/AAAA" in (bad.field_error("date_naissance") or "")
    # The trainee sees the look-ups in « Mes données ».
    account = get_container().accounts.find_by_email(READY.email)
    assert account is not None
    seen = get_container().trainee_consultations.of_account(account.account_id)
    assert seen and all(entry["dossier"] == CAMILLE_IDF for entry in seen)


def test_a_session_waiting_for_its_code_gets_no_dossier(manager: Staff) -> None:
    manager.web.cookies.clear()
    page = password_login(manager.web, manager.email, NEW_PASSWORD)
    assert page.location == "/double-authentification"
    assert manager.web.get(PATH).location == "/double-authentification"
    refused = manager.web.post(PATH, {"numero": CAMILLE_IDF})
    assert refused.location == "/double-authentification"
    account = get_container().accounts.find_by_email(READY.email)
    assert account is not None
    assert get_container().trainee_consultations.of_account(account.account_id) == []


def test_another_funders_staff_does_not_find_it(demo_data: WebClient) -> None:
    save_funder(get_container().funders, Funder("region-hdf", "Région Hauts-de-France"))
    invite(OTHER, "region-hdf", "consultation")
    other = first_login(demo_data, OTHER)
    assert "Dossier introuvable" in search(other, numero=CAMILLE_IDF).text
    assert f"Dossier {CAMILLE_HDF}" in search(other, numero=CAMILLE_HDF).text
