"""From login to a downloaded payment PDF in Chromium, axe-core on every page."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from local.demo import READY
from tests.support.browser import assert_accessible

pytestmark = pytest.mark.e2e


def test_a_trainee_reads_a_payment_and_downloads_its_pdf(page) -> None:
    page.goto("/region-idf/")
    page.get_by_label("Utilisateur").fill(READY.email)
    page.get_by_label("Mot de passe", exact=True).fill(READY.password)
    page.get_by_role("button", name="Connexion").click()
    page.wait_for_url("**/formations")
    assert page.get_by_role("heading", name="Historique des paiements").count() == 1
    assert_accessible(page)

    page.get_by_label("Formation", exact=True).select_option(
        label="Développeur web et web mobile — Région Île-de-France (16/10/2017)"
    )
    page.get_by_role("button", name="Choisir cette formation").click()
    page.wait_for_url("**/formations?formation=*")
    rows = page.locator("table tbody tr")
    assert rows.count() == 3
    assert "20/03/2018" in rows.first.inner_text() and "144,85" in rows.first.inner_text()
    assert_accessible(page)

    page.get_by_role("link", name="Détail du paiement du 20/03/2018").click()
    page.wait_for_url("**/formations/paiement?*")
    detail = page.locator("table").inner_text()
    assert "Du 16/10/2017 au 31/10/2017" in detail
    assert "Rémunération : 310,39 x 14 / 30" in detail
    assert "TOTAUX" in detail
    assert_accessible(page)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Télécharger l’avis de paiement (PDF)").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    data = Path(download.path()).read_bytes()
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    assert "Rémunération : 310,39 x 14 / 30" in text and "144,85" in text

    page.goto("/mes-donnees")
    assert_accessible(page)
