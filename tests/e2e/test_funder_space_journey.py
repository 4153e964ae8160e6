"""The funders' space in Chromium: an operator invites a member of Région Île-de-France with the
command line; the member goes through the first-login steps, enrols TOTP (the test computes the
codes as a phone would), changes the home page's text, then logs in again with a new code.
axe-core on every page."""

from __future__ import annotations

import re
import time
import uuid

import pyotp
import pytest

from tests.e2e.conftest import PROJECT_DIR
from tests.support.browser import assert_accessible
from tests.support.journeys import (
    choose_first_password,
    create_secret_question,
    invite_funder_staff,
    log_in,
    main_text,
)

pytestmark = pytest.mark.e2e

PASSWORD = "Financeur-Espace-2026"


def test_a_funder_member_enrols_totp_and_changes_the_home_text(page, stack) -> None:
    email = f"alix.{uuid.uuid4().hex[:8]}@region-idf.example.fr"
    temporary = invite_funder_staff(stack, PROJECT_DIR, email)

    page.goto("/financeur/")
    assert page.get_by_role("heading", name="Espace des financeurs").is_visible()
    assert_accessible(page)
    log_in(page, "/financeur/", email, temporary)
    page.wait_for_url("**/premiere-connexion/mot-de-passe")
    choose_first_password(page, temporary, PASSWORD)
    create_secret_question(page, "Ville de naissance ?", "Lille")
    page.wait_for_url("**/cgu")
    page.get_by_role("button", name="Accepter").click()

    page.wait_for_url("**/double-authentification/activation")
    assert page.get_by_role("img", name="Code QR").is_visible()
    assert_accessible(page)
    secret = page.locator("#cle-secrete").inner_text().replace(" ", "")
    page.get_by_label("Code à 6 chiffres").fill("000000")
    page.get_by_role("button", name="Activer").click()
    assert "Code incorrect" in main_text(page)
    assert page.locator("#cle-secrete").inner_text().replace(" ", "") == secret
    page.get_by_label("Code à 6 chiffres").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Activer").click()

    page.get_by_role("heading", name="Vos codes de secours").wait_for()
    codes = page.locator("#codes-de-secours code").all_inner_texts()
    assert len(set(codes)) == 10
    assert_accessible(page)
    page.get_by_role("link", name="J’ai noté mes codes, continuer").click()
    page.wait_for_url(re.compile(r".*/financeur$"))
    assert "Région Île-de-France" in main_text(page)
    assert_accessible(page)

    page.get_by_role("navigation", name="Espace financeur").get_by_role(
        "link", name="Paramètres"
    ).click()
    page.wait_for_url("**/financeur/parametres")
    assert_accessible(page)
    page.get_by_label(re.compile("^Texte d’accueil")).fill("Bienvenue <b>à tous</b>.")
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_url("**/financeur/parametres?enregistre=oui")
    assert "Vos paramètres sont enregistrés" in main_text(page)
    assert_accessible(page)
    trainee = page.context.new_page()
    trainee.goto("/region-idf/")
    assert "Bienvenue <b>à tous</b>." in main_text(trainee)
    trainee.close()

    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/financeur?message=deconnecte")
    log_in(page, "/financeur/", email, PASSWORD)
    page.wait_for_url("**/double-authentification")
    assert_accessible(page)
    # The next time step's code: the one used at the enrolment never serves again.
    page.get_by_label("Code de sécurité").fill(pyotp.TOTP(secret).at(int(time.time()) + 30))
    page.get_by_role("button", name="Valider").click()
    page.wait_for_url(re.compile(r".*/financeur$"))

    # Leave the portal's home page as the other journeys know it.
    page.get_by_role("navigation", name="Espace financeur").get_by_role(
        "link", name="Paramètres"
    ).click()
    page.get_by_label(re.compile("^Texte d’accueil")).fill("")
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_url("**/financeur/parametres?enregistre=oui")
