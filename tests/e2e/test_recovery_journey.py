"""« Mot de passe oublié » → new password → login, in Chromium, axe-core on every page."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import CAPTCHA_ANSWER
from tests.support.browser import assert_accessible
from tests.support.journeys import (
    OPERATION,
    choose_first_password,
    create_secret_question,
    enter_mailed_code,
    main_text,
    solve,
    wait_for_mail_with,
    window,
)

pytestmark = pytest.mark.e2e

# Free demo dossiers that no other journey uses (a dossier serves one account).
PEOPLE = {
    "desktop": {
        "funder": "region-idf",
        "Nom": "BERNARD",
        "Prénom": "Inès",
        "Date de naissance": "11/11/2001",
        "N° de dossier": "IDF-2026-000790",
        "email": "ines.bernard@example.fr",
    },
    "phone": {
        "funder": "france-travail",
        "Nom": "MOREAU",
        "Prénom": "Sarah",
        "Date de naissance": "30/01/1988",
        "N° de dossier": "FT-2026-001000",
        "email": "sarah.moreau@example.fr",
    },
}
FIRST_PASSWORD = "Premier-Passage-2026"
RECOVERED_PASSWORD = "Retour-Au-Portail-2027"
QUESTION, ANSWER = "Ville de mon enfance ?", "Roubaix"


def sign_up_and_finish_first_login(page, stack, person: dict[str, str], no_dossier: bool) -> None:
    """Through the forms, to « Mes formations », with axe-core on each page."""
    page.goto(f"/{person['funder']}/inscription")
    for label in ("Nom", "Prénom"):
        page.get_by_label(label, exact=True).fill(person[label])
    page.get_by_label("Date de naissance").fill(person["Date de naissance"])
    if no_dossier:
        page.get_by_label("Je ne possède pas encore de dossier").check(force=True)
    else:
        page.get_by_label("N° de dossier").fill(person["N° de dossier"])
    page.get_by_role("textbox", name=re.compile("^Adresse mail")).fill(person["email"])
    page.get_by_role("textbox", name=re.compile("^Confirmation")).fill(person["email"])
    page.get_by_label("Recopiez le code").fill(CAPTCHA_ANSWER)
    page.get_by_label("J’accepte les conditions d’utilisation").check(force=True)
    page.get_by_role("button", name="Valider").click()
    page.wait_for_url("**/inscription/confirmation")
    temporary = wait_for_mail_with(stack, person["email"], r"Mot de passe provisoire : (\S+)")
    page.goto(f"/{person['funder']}/")
    page.get_by_label("Utilisateur").fill(person["email"])
    page.get_by_label("Mot de passe", exact=True).fill(temporary.group(1))
    page.get_by_role("button", name="Connexion").click()
    page.wait_for_url("**/premiere-connexion/mot-de-passe")
    choose_first_password(page, temporary.group(1), FIRST_PASSWORD)
    create_secret_question(page, QUESTION, ANSWER)
    page.wait_for_url("**/cgu")
    page.get_by_role("button", name="Accepter").click()
    page.wait_for_url("**/formations")


def test_a_trainee_who_forgot_the_password_chooses_a_new_one_and_logs_in(page, stack) -> None:
    person = PEOPLE[window(page)]
    sign_up_and_finish_first_login(page, stack, person, no_dossier=False)
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/?message=deconnecte")

    page.goto(f"/{person['funder']}/")
    page.get_by_role("link", name="Mot de passe oublié").click()
    page.wait_for_url(f"**/{person['funder']}/mot-de-passe-oublie")
    assert_accessible(page)
    page.get_by_label("Utilisateur").fill(person["email"])
    page.get_by_label(OPERATION).fill(solve(page))
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url("**/mot-de-passe-oublie/code")
    assert "un code à 8 chiffres, valable 30 minutes" in main_text(page)
    assert_accessible(page)

    enter_mailed_code(page, stack, person["email"])
    assert QUESTION in main_text(page)
    assert_accessible(page)

    # A wrong answer first: the form says so, and counts it like a wrong password.
    page.get_by_label("Réponse à votre question secrète").fill("Lyon")
    page.get_by_label(re.compile("^Nouveau mot de passe")).fill(RECOVERED_PASSWORD)
    page.get_by_label("Confirmation du nouveau mot de passe").fill(RECOVERED_PASSWORD)
    page.get_by_role("button", name="Changement du mot de passe").click()
    page.wait_for_load_state()
    assert "La réponse à la question secrète est incorrecte." in main_text(page)
    assert_accessible(page)

    page.get_by_label("Réponse à votre question secrète").fill(ANSWER.lower())
    page.get_by_label(re.compile("^Nouveau mot de passe")).fill(RECOVERED_PASSWORD)
    page.get_by_label("Confirmation du nouveau mot de passe").fill(RECOVERED_PASSWORD)
    page.get_by_role("button", name="Changement du mot de passe").click()
    page.wait_for_url("**/mot-de-passe-oublie/termine")
    assert "Votre mot de passe est modifié" in main_text(page)
    assert_accessible(page)
    # Sign-up, first login's notice, the code, then this notice.
    last = stack.wait_for_mail(person["email"], count=4)[-1]
    assert last.startswith("Votre mot de passe a été modifié") and RECOVERED_PASSWORD not in last

    page.get_by_role("link", name="S’identifier").click()
    page.get_by_label("Utilisateur").fill(person["email"])
    page.get_by_label("Mot de passe", exact=True).fill(RECOVERED_PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    page.wait_for_url("**/formations")
    assert_accessible(page)
