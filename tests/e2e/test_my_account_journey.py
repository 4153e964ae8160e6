"""« Mon compte » in Chromium: identity read-only, phone, password, secret question, a new mail
address confirmed by its link, then a login with it; axe-core on every page."""

from __future__ import annotations

import re

import pytest

from tests.e2e.test_recovery_journey import (
    ANSWER,
    FIRST_PASSWORD,
    sign_up_and_finish_first_login,
)
from tests.support.browser import assert_accessible
from tests.support.journeys import main_text, wait_for_mail_with, window

pytestmark = pytest.mark.e2e

# Signed up "without a dossier yet": no demo dossier is used, so no other journey is disturbed.
PEOPLE = {
    "desktop": {
        "funder": "region-hdf",
        "Nom": "LEFEBVRE",
        "Prénom": "Nora",
        "Date de naissance": "02/03/1994",
        "email": "nora.lefebvre@example.fr",
        "new_email": "nora.lefebvre.pro@example.fr",
    },
    "phone": {
        "funder": "region-hdf",
        "Nom": "GARNIER",
        "Prénom": "Yanis",
        "Date de naissance": "15/09/1999",
        "email": "yanis.garnier@example.fr",
        "new_email": "yanis.garnier.pro@example.fr",
    },
}
CHANGED_PASSWORD = "Compte-Modifie-2027"


def save(page, button: str = "Enregistrer") -> None:
    page.get_by_role("button", name=button).click()
    page.wait_for_load_state()


def test_a_trainee_manages_the_account_from_mon_compte(page, stack) -> None:
    person = PEOPLE[window(page)]
    sign_up_and_finish_first_login(page, stack, person, no_dossier=True)

    page.get_by_role("link", name="Mon compte").click()
    page.wait_for_url("**/compte")
    content = main_text(page)
    for shown in (person["Nom"], person["Prénom"], person["Date de naissance"], person["email"]):
        assert shown in content
    assert page.locator("input[name='family_name']").count() == 0  # identity read-only
    assert_accessible(page)

    page.get_by_role("link", name="Modifier le numéro de téléphone").click()
    page.wait_for_url("**/compte/telephone")
    assert_accessible(page)
    page.get_by_label("Numéro de téléphone").fill("12 34")
    save(page)
    assert "Saisissez un numéro de téléphone français" in main_text(page)
    assert_accessible(page)
    page.get_by_label("Numéro de téléphone").fill("+33 6 12 34 56 78")
    save(page)
    page.wait_for_url("**/compte?message=telephone")
    assert "06 12 34 56 78" in main_text(page)
    assert_accessible(page)

    page.get_by_role("link", name="Modifier le mot de passe").click()
    page.wait_for_url("**/compte/mot-de-passe")
    assert_accessible(page)

    def change_password(current: str) -> None:
        # ASVS 2.1.6: the current password, and the secret answer the guide asks for.
        page.get_by_label("Mot de passe actuel").fill(current)
        page.get_by_label("Réponse à votre question secrète").fill(ANSWER.upper())
        page.get_by_label(re.compile("^Nouveau mot de passe")).fill(CHANGED_PASSWORD)
        page.get_by_label("Confirmation du nouveau mot de passe").fill(CHANGED_PASSWORD)
        save(page, "Modifier le mot de passe")

    change_password("Pas-Le-Bon-2026")
    assert page.locator("#password-erreur").inner_text() == "Le mot de passe est incorrect."
    assert page.get_by_label("Mot de passe actuel").input_value() == ""  # secrets not kept
    assert_accessible(page)
    change_password(FIRST_PASSWORD)
    page.wait_for_url("**/compte?message=mot-de-passe")
    assert_accessible(page)

    page.get_by_role("link", name="Modifier la question secrète").click()
    page.wait_for_url("**/compte/question-secrete")
    assert_accessible(page)
    page.get_by_label("Mot de passe actuel").fill(CHANGED_PASSWORD)
    page.get_by_label("Nouvelle question secrète").fill("Nom de mon premier chat ?")
    page.get_by_label("Réponse à la nouvelle question").fill("Minou")
    save(page, "Envoyer")
    page.wait_for_url("**/compte?message=question-secrete")
    assert "Nom de mon premier chat ?" in main_text(page)

    page.get_by_role("link", name="Modifier l’adresse mail").click()
    page.wait_for_url("**/compte/adresse-mail")
    assert_accessible(page)
    page.get_by_label(re.compile("^Nouvelle adresse mail")).fill(person["new_email"])
    page.get_by_label(re.compile("^Confirmation de la nouvelle")).fill(person["new_email"])
    page.get_by_label("Mot de passe actuel").fill(CHANGED_PASSWORD)
    save(page, "Envoyer le lien de confirmation")
    page.wait_for_url("**/compte?message=adresse-mail")
    assert person["email"] in main_text(page)  # unchanged until the link is opened
    assert_accessible(page)
    wait_for_mail_with(stack, person["email"], r"(Changement de votre adresse mail demandé)")

    link = wait_for_mail_with(stack, person["new_email"], r"(http\S+/confirmation\?jeton=\S+)")
    page.goto(link.group(1))
    assert_accessible(page)
    page.get_by_role("button", name="Confirmer ma nouvelle adresse mail").click()
    page.wait_for_load_state()
    assert "Votre adresse mail est modifiée" in main_text(page)
    assert_accessible(page)

    page.goto("/formations")
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/?message=deconnecte")
    page.goto(f"/{person['funder']}/")
    page.get_by_label("Utilisateur").fill(person["new_email"])
    page.get_by_label("Mot de passe", exact=True).fill(CHANGED_PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    page.wait_for_url("**/formations")
