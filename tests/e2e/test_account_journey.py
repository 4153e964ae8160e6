"""From « S'inscrire » to the first page after the CGU, in Chromium, axe-core on every page."""

from __future__ import annotations

import re

import pytest

from local.demo import READY
from tests.e2e.conftest import CAPTCHA_ANSWER
from tests.support.browser import assert_accessible
from tests.support.journeys import choose_first_password, create_secret_question

pytestmark = pytest.mark.e2e

# One free demo dossier per window size: a dossier serves one account.
NEWCOMERS = {
    "desktop": {
        "funder": "region-idf",
        "Nom": "PETIT",
        "Prénom": "Lucas",
        "Date de naissance": "03/02/1998",
        "N° de dossier": "IDF-2026-000789",
        "email": "lucas.petit@example.fr",
        "training": "Cuisinier",
    },
    "phone": {
        "funder": "region-hdf",
        "Nom": "Leroy",
        "Prénom": "Hugo",
        "Date de naissance": "21/07/1995",
        "N° de dossier": "HDF-2026-000043",
        "email": "hugo.leroy@example.fr",
        "training": "Électricien",
    },
}
NEW_PASSWORD = "Ma-Formation-2026"


def window(page) -> str:
    return "phone" if page.viewport_size["width"] < 500 else "desktop"


def test_a_newcomer_signs_up_and_reaches_the_portal(page, stack) -> None:
    person = NEWCOMERS[window(page)]
    page.goto(f"/{person['funder']}/")
    assert_accessible(page)
    page.get_by_role("link", name="S’inscrire").click()
    page.wait_for_url(f"**/{person['funder']}/inscription")
    assert_accessible(page)

    # A first try with a mistake: what was typed stays, the field says what to fix.
    for label in ("Nom", "Prénom"):
        page.get_by_label(label, exact=True).fill(person[label])
    page.get_by_label("N° de dossier").fill(person["N° de dossier"])
    page.get_by_label("Date de naissance").fill("1998-02-03")
    page.get_by_role("button", name="Valider").click()
    page.wait_for_load_state()
    assert page.get_by_label("Nom", exact=True).input_value() == person["Nom"]
    assert "au format JJ/MM/AAAA" in page.locator("#birth_date-erreur").inner_text()
    assert_accessible(page)

    page.get_by_label("Date de naissance").fill(person["Date de naissance"])
    page.get_by_role("textbox", name=re.compile("^Adresse mail")).fill(person["email"])
    page.get_by_role("textbox", name=re.compile("^Confirmation")).fill(person["email"])
    page.get_by_label("Recopiez le code").fill(CAPTCHA_ANSWER)
    page.get_by_label("J’accepte les conditions d’utilisation").check(force=True)  # DSFR styled box
    page.get_by_role("button", name="Valider").click()
    page.wait_for_url("**/inscription/confirmation")
    assert "Votre demande d’inscription est enregistrée" in page.content()
    assert_accessible(page)

    mail = stack.wait_for_mail(person["email"])[-1]
    temporary = re.search(r"Mot de passe provisoire : (\S+)", mail).group(1)
    page.get_by_role("link", name="S’identifier").click()
    page.get_by_label("Utilisateur").fill(person["email"])
    page.get_by_label("Mot de passe", exact=True).fill(temporary)
    page.get_by_role("button", name="Connexion").click()
    page.wait_for_url("**/premiere-connexion/mot-de-passe")
    assert_accessible(page)

    choose_first_password(page, temporary, NEW_PASSWORD)
    assert_accessible(page)

    create_secret_question(page, "Prénom de mon fils ?", "Charles")
    page.wait_for_url("**/cgu")
    assert_accessible(page)

    page.get_by_role("button", name="Accepter").click()
    page.wait_for_url("**/formations")
    assert person["training"] in page.content()
    assert_accessible(page)


def test_the_ready_demo_account_logs_in_and_out(page) -> None:
    page.goto("/region-idf/")
    page.get_by_label("Utilisateur").fill(READY.email)
    page.get_by_label("Mot de passe", exact=True).fill(READY.password)
    page.get_by_role("button", name="Connexion").click()
    page.wait_for_url("**/formations")
    content = page.content()
    assert "Développeur web et web mobile" in content and "Comptable assistant" in content
    assert_accessible(page)
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/?message=deconnecte")
    assert_accessible(page)
    page.goto("/formations")
    page.wait_for_url("**/?message=connexion-requise")


def test_a_wrong_password_shows_one_alert(page) -> None:
    page.goto("/region-idf/")
    page.get_by_label("Utilisateur").fill(READY.email)
    page.get_by_label("Mot de passe", exact=True).fill("pas le bon")
    page.get_by_role("button", name="Connexion").click()
    page.wait_for_load_state()
    assert page.get_by_role("alert").count() == 1
    assert "Adresse mail ou mot de passe incorrect." in page.get_by_role("alert").inner_text()
    assert page.get_by_label("Utilisateur").input_value() == READY.email
    assert_accessible(page)
