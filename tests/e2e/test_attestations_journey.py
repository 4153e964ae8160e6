"""« Mes attestations » on a phone: the 2018 summary of Camille, its PDF read back, its QR code's
address opened by someone else, then withdrawn; axe-core on every page."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader

from local.demo import READY
from tests.support.browser import assert_accessible

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
# Camille's payment notices of 2018 (local/demo/paiements_region-idf.csv): month → net amounts.
NOTICES_2018 = {"janvier 2018": [Decimal("310.39")], "mars 2018": [Decimal("144.85")]}


def french(amount: Decimal) -> str:
    return f"{amount:.2f}".replace(".", ",")


def test_a_trainee_issues_the_2018_summary_a_landlord_checks_it_then_it_is_withdrawn(
    browser, stack
) -> None:
    options = {"base_url": stack.url, "locale": "fr-FR", **PHONE}
    trainee_context = browser.new_context(bypass_csp=True, **options)
    landlord_context = browser.new_context(bypass_csp=True, **options)
    try:
        page = trainee_context.new_page()
        page.goto("/region-idf/")
        page.get_by_label("Utilisateur").fill(READY.email)
        page.get_by_label("Mot de passe", exact=True).fill(READY.password)
        page.get_by_role("button", name="Connexion").click()
        page.wait_for_url("**/formations")
        page.get_by_role("link", name=re.compile("^Mes attestations")).click()
        page.wait_for_url("**/formations/attestations")
        assert_accessible(page)

        page.get_by_label("Période", exact=True).select_option(
            label="Récapitulatif de l’année 2018"
        )
        page.get_by_role("button", name="Afficher les paiements").click()
        page.wait_for_url("**/formations/attestations?*")
        assert page.get_by_role("heading", name="Paiements : Année 2018").count() == 1
        assert_accessible(page)

        with page.expect_download() as download_info:
            page.get_by_role("button", name="Télécharger l’attestation (PDF)").click()
        data = Path(download_info.value.path()).read_bytes()
        reader = PdfReader(io.BytesIO(data))
        text = "\n".join(p.extract_text() for p in reader.pages)
        year_total = Decimal("0.00")
        for month, amounts in NOTICES_2018.items():
            month_total = sum(amounts, Decimal("0.00"))
            assert re.search(rf"Total {month}\s+{french(month_total)}", text), (month, text)
            year_total += month_total
        assert re.search(rf"TOTAL DE LA PÉRIODE\s+{french(year_total)}", text), text
        code = re.search(r"[A-Z2-9]{4}(?:-[A-Z2-9]{4}){3}", text)
        assert code, text
        # The QR code is also a link to the address it encodes: what a phone scanning it opens.
        links = [
            annotation.get_object()["/A"]["/URI"]
            for pdf_page in reader.pages
            for annotation in pdf_page.get("/Annots", [])
        ]
        (verify_url,) = links
        assert verify_url.endswith(f"/verifier?code={code.group(0)}")

        landlord = landlord_context.new_page()
        landlord.goto(verify_url)
        assert (
            landlord.get_by_role("heading", name="Attestation authentique et valable").count() == 1
        )
        shown = landlord.locator("main").inner_text()
        assert "Camille Louise MARTIN" in shown and french(year_total) in shown
        assert_accessible(landlord)

        page.goto("/formations/attestations")
        assert "Vérifiée 1 fois" in page.locator("main").inner_text()
        page.get_by_role("button", name=f"Retirer l’attestation {code.group(0)}").click()
        page.wait_for_url("**/formations/attestations?retiree=1")
        assert "retirée le" in page.locator("main").inner_text().lower()  # the badge is in capitals
        assert_accessible(page)

        landlord.reload()
        assert landlord.get_by_role("heading", name="Attestation retirée").count() == 1
        assert_accessible(landlord)
    finally:
        trainee_context.close()
        landlord_context.close()
