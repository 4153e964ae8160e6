"""The web frame in Chromium: home, funder homes, legal pages, 404 — axe-core on every page."""

from __future__ import annotations

import pytest

from tests.support.browser import assert_accessible

pytestmark = pytest.mark.e2e

LEGAL_PAGES = {
    "Accessibilité : non conforme": "Déclaration d’accessibilité",
    "Mentions légales": "Mentions légales",
    "Données personnelles": "Données personnelles",
    "Gestion des cookies": "Gestion des cookies",
}


def test_a_trainee_finds_the_funder_portal_then_its_entry_points(page) -> None:
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert "Portail stagiaire" in page.locator("header").inner_text()
    assert_accessible(page)
    page.get_by_role("link", name="Région Île-de-France").click()
    page.wait_for_url("**/region-idf/")
    assert page.get_by_role("heading", level=1).inner_text().strip() != ""
    assert "Région Île-de-France" in page.content()
    assert page.get_by_role("button", name="S’identifier avec FranceConnect").count() == 1
    assert_accessible(page)
    for entry in ("S’inscrire", "Mot de passe oublié"):
        page.goto("/region-idf/")
        page.get_by_role("link", name=entry).first.click()
        page.wait_for_load_state()
        assert_accessible(page)


def test_a_funder_without_franceconnect_shows_no_button(page) -> None:
    page.goto("/region-hdf/")
    assert "Région Hauts-de-France" in page.content()
    assert page.get_by_role("button", name="S’identifier avec FranceConnect").count() == 0
    assert_accessible(page)


def test_every_footer_link_leads_to_a_real_page(page) -> None:
    for link_text, heading in LEGAL_PAGES.items():
        page.goto("/")
        page.locator("footer").get_by_role("link", name=link_text).click()
        page.wait_for_load_state()
        assert heading in page.get_by_role("heading", level=1).inner_text()
        assert_accessible(page)


def test_an_unknown_funder_gets_a_french_not_found_page(page) -> None:
    response = page.goto("/financeur-inconnu/")
    assert response.status == 404
    assert "Page non trouvée" in page.get_by_role("heading", level=1).inner_text()
    assert_accessible(page)
