"""« Fermer mon compte » in Chromium: the consequences and « Mes données » first, the password
and the confirmation asked, then the home page says it is done and the login no longer works;
axe-core on every page."""

from __future__ import annotations

import pytest

from tests.e2e.test_recovery_journey import FIRST_PASSWORD, sign_up_and_finish_first_login
from tests.support.browser import assert_accessible
from tests.support.journeys import main_text, wait_for_mail_with, window

pytestmark = pytest.mark.e2e

# Signed up "without a dossier yet": no demo dossier is used, so no other journey is disturbed.
PEOPLE = {
    "desktop": {
        "funder": "region-hdf",
        "Nom": "ROCHE",
        "Prénom": "Lina",
        "Date de naissance": "08/08/1992",
        "email": "lina.roche@example.fr",
    },
    "phone": {
        "funder": "region-hdf",
        "Nom": "MARCHAND",
        "Prénom": "Sacha",
        "Date de naissance": "19/01/1997",
        "email": "sacha.marchand@example.fr",
    },
}


def test_a_trainee_closes_the_account_from_mon_compte(page, stack) -> None:
    person = PEOPLE[window(page)]
    sign_up_and_finish_first_login(page, stack, person, no_dossier=True)

    page.get_by_role("link", name="Mon compte").click()
    page.wait_for_url("**/compte")
    page.get_by_role("link", name="Fermer mon compte").click()
    page.wait_for_url("**/compte/fermeture")
    content = main_text(page)
    assert "Ce qui sera supprimé" in content and "Ce qui restera" in content
    assert page.get_by_role("link", name="Mes données").count() == 1
    assert_accessible(page)

    page.get_by_label("Mot de passe actuel").fill(FIRST_PASSWORD)
    page.get_by_role("button", name="Fermer mon compte").click()
    page.wait_for_load_state()
    assert "Cochez la case pour confirmer" in main_text(page)
    assert_accessible(page)

    page.get_by_label("Mot de passe actuel").fill(FIRST_PASSWORD)
    page.get_by_label("Je veux fermer mon compte").check(force=True)
    page.get_by_role("button", name="Fermer mon compte").click()
    page.wait_for_url("**/?message=compte-ferme")
    assert "Votre compte est fermé" in main_text(page)
    assert_accessible(page)
    wait_for_mail_with(stack, person["email"], r"Comme vous l'avez demandé")

    page.goto(f"/{person['funder']}/")
    page.get_by_label("Utilisateur").fill(person["email"])
    page.get_by_label("Mot de passe", exact=True).fill(FIRST_PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    page.wait_for_load_state()
    assert "Adresse mail ou mot de passe incorrect." in main_text(page)
