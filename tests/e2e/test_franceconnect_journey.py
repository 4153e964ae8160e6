"""FranceConnect in Chromium against the local stack and its fake provider: a new account from the
identity, the secret question, the CGU, the portal, and the logout through the provider."""

from __future__ import annotations

import pytest

from tests.support.browser import assert_accessible
from tests.support.journeys import create_secret_question

pytestmark = pytest.mark.e2e

# One demo dossier per window size: a dossier serves one account. No other journey uses them.
NEWCOMERS = {
    "desktop": {
        "funder": "region-idf",
        "identity": "Angela Claire Louise DUBOIS",
        "training": "Aide-soignant",
    },
    "phone": {  # the dossier says « D’Artagnan Léger », FranceConnect « D'ARTAGNAN-LÉGER »
        "funder": "france-travail",
        "identity": "Marie-Hélène Anne D'ARTAGNAN-LÉGER",
        "training": "Secrétaire médical",
    },
}


def window(page) -> str:
    return "phone" if page.viewport_size["width"] < 500 else "desktop"


def test_a_newcomer_signs_up_with_franceconnect_and_logs_out_through_it(page) -> None:
    person = NEWCOMERS[window(page)]
    page.goto(f"/{person['funder']}/")
    page.get_by_role("button", name="S’identifier avec FranceConnect").click()
    page.wait_for_url("**/api/v2/authorize?**")
    assert "Choisissez une identité de test" in page.get_by_role("heading", level=1).inner_text()
    assert_accessible(page)  # the fake provider's page too

    page.get_by_label(person["identity"]).check()
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url("**/premiere-connexion/question-secrete")
    assert_accessible(page)
    create_secret_question(page, "Prénom de ma fille ?", "Louise")
    page.wait_for_url("**/cgu")
    assert_accessible(page)
    page.get_by_role("button", name="Accepter").click()
    page.wait_for_url("**/formations")
    assert person["training"] in page.content()
    assert_accessible(page)

    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/?message=deconnecte")  # by way of FranceConnect's session/end
    assert "Vous êtes déconnecté du portail" in page.content()
    assert_accessible(page)
    page.goto("/formations")
    page.wait_for_url("**/?message=connexion-requise")


def test_cancel_at_franceconnect_offers_the_password_login(page) -> None:
    page.goto("/region-idf/")
    page.get_by_role("button", name="S’identifier avec FranceConnect").click()
    page.wait_for_url("**/api/v2/authorize?**")
    page.get_by_role("button", name="Continuer").click()  # nobody chosen: the page says so
    assert page.get_by_role("alert").inner_text().startswith("Choisissez une identité de test")
    assert_accessible(page)
    page.get_by_role("button", name="Annuler").click()
    page.wait_for_url("**/franceconnect/retour?**")
    assert "Connexion avec FranceConnect annulée" in page.content()
    assert_accessible(page)
    page.get_by_role("link", name="S’identifier avec un mot de passe").click()
    page.wait_for_url("**/region-idf/")


def test_no_dossier_for_the_identity_is_explained(page) -> None:
    page.goto("/region-idf/")
    page.get_by_role("button", name="S’identifier avec FranceConnect").click()
    page.get_by_label("Jean-Baptiste Ange CASANOVA").check()
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url("**/franceconnect/retour?**")
    assert "Aucun dossier à votre nom" in page.get_by_role("heading", level=1).inner_text()
    assert_accessible(page)


def test_the_other_franceconnect_pages_are_accessible(page) -> None:
    # Without a given name, the portal asks for the password of an existing account.
    page.goto("/region-idf/")
    page.get_by_role("button", name="S’identifier avec FranceConnect").click()
    page.get_by_label("ROUSSEAU").check()
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url("**/region-idf/franceconnect/associer")
    assert "Associer FranceConnect" in page.get_by_role("heading", level=1).inner_text()
    assert_accessible(page)
    page.get_by_label("Utilisateur").fill("personne@example.fr")
    page.get_by_label("Mot de passe", exact=True).fill("pas le bon")
    page.get_by_role("button", name="Associer et me connecter").click()
    page.wait_for_load_state()
    assert "Adresse mail ou mot de passe incorrect." in page.get_by_role("alert").inner_text()
    assert_accessible(page)

    page.goto(f"/franceconnect/retour?code=x&state={'0' * 64}")
    assert "Demande de connexion expirée" in page.get_by_role("heading", level=1).inner_text()
    assert_accessible(page)
    page.goto(f"/franceconnect/deconnecte?state={'0' * 64}")
    assert "non confirmée" in page.get_by_role("heading", level=1).inner_text()
    assert_accessible(page)


def test_the_journey_passes_the_portals_content_security_policy(browser, stack) -> None:
    # The other tests bypass the CSP to inject axe-core; here the browser enforces it, and
    # form-action covers the redirects of the button and of the logout to FranceConnect.
    context = browser.new_context(base_url=stack.url, locale="fr-FR")
    page = context.new_page()
    blocked: list[str] = []
    page.on(
        "console",
        lambda message: blocked.append(message.text) if "Refused" in message.text else None,
    )
    try:
        page.goto("/france-travail/")
        page.get_by_role("button", name="S’identifier avec FranceConnect").click()
        page.wait_for_url("**/api/v2/authorize?**")
        page.get_by_label("Ana Maria SILVA").check()  # born abroad, presumed date 1980-01-01
        page.get_by_role("button", name="Continuer").click()
        page.wait_for_url("**/premiere-connexion/question-secrete")
        create_secret_question(page, "Ville de naissance ?", "Porto")
        page.get_by_role("button", name="Accepter").click()
        page.wait_for_url("**/formations")
        page.get_by_role("button", name="Se déconnecter").click()
        page.wait_for_url("**/?message=deconnecte")
    finally:
        context.close()
    assert blocked == []
