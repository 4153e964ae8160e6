"""The user guide from step 1 to step 8, in order, in Chromium on the local stack (issue 8):
« S'inscrire », the mail, the first login, the personal password, the secret question, the CGU,
« Mon compte », « Mes formations » with a payment's detail and its PDF, « Mes messages », the
logout, then « Mot de passe oublié » to a login with the new password. axe-core on every page."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from tests.e2e.conftest import CAPTCHA_ANSWER
from tests.support.browser import assert_accessible
from tests.support.journeys import (
    choose_first_password,
    create_secret_question,
    enter_mailed_code,
    log_out,
    main_text,
    solve,
    wait_for_mail_with,
    window,
)

pytestmark = pytest.mark.e2e

# One free demo dossier per window size, kept for this journey (a dossier serves one account):
# local/demo/*_region-idf.parcours-guide.csv, at a funder with messages, each with payments.
PEOPLE: dict[str, dict[str, str]] = {
    "desktop": {
        "Nom": "ROUX",
        "Prénom": "Emma",
        "Date de naissance": "12/06/1996",
        "N° de dossier": "IDF-2026-000791",
        "email": "emma.roux@example.fr",
        "payment": "09/10/2026",
        "period": "Du 07/09/2026 au 30/09/2026",
        "element": "Rémunération : 685,00 x 24 / 30",
        "total": "548,00",
    },
    "phone": {
        "Nom": "Faure",
        "Prénom": "Nathan",
        "Date de naissance": "25/09/2000",
        "N° de dossier": "IDF-2026-000792",
        "email": "nathan.faure@example.fr",
        "payment": "10/11/2026",
        "period": "Du 01/10/2026 au 31/10/2026",
        "element": "Rémunération : 685,00 x 30 / 30",
        "total": "662,17",
    },
}
FUNDER = "region-idf"
TRAINING = "Technicien d'assistance informatique"
PERSONAL_PASSWORD = "Guide-Etape-4-2026"
RECOVERED_PASSWORD = "Guide-Oubli-2027"
QUESTION, ANSWER = "Prénom fils ?", "Charles"  # the guide's own example


def downloaded_pdf(page: Any, link_name: str) -> bytes:
    with page.expect_download() as download_info:
        page.get_by_role("link", name=link_name).click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"%PDF"), data[:20]
    return data


def pdf_text(data: bytes) -> str:
    return "\n".join(pdf_page.extract_text() for pdf_page in PdfReader(io.BytesIO(data)).pages)


def test_a_trainee_follows_the_guide_from_step_1_to_step_8(page, stack) -> None:
    person = PEOPLE[window(page)]

    # 1. « Créer un compte » : the address of the funding decision, then « S'inscrire ».
    page.goto(f"/{FUNDER}/")
    assert page.get_by_role("heading", name="Identification").count() == 1
    assert_accessible(page)
    page.get_by_role("link", name="S’inscrire").click()
    page.wait_for_url(f"**/{FUNDER}/inscription")
    assert "Inscription au portail de rémunération des stagiaires" in main_text(page)
    assert "Tous les champs sont obligatoires" in main_text(page)
    assert_accessible(page)

    # 2. « Compléter son inscription » : every field, the conditions, the code, « Valider ».
    for label in ("Nom", "Prénom"):
        page.get_by_label(label, exact=True).fill(person[label])
    page.get_by_label("Date de naissance").fill(person["Date de naissance"])
    page.get_by_label("N° de dossier").fill(person["N° de dossier"])
    page.get_by_role("textbox", name=re.compile("^Adresse mail")).fill(person["email"])
    page.get_by_role("textbox", name=re.compile("^Confirmation")).fill(person["email"])
    page.get_by_label("J’accepte les conditions d’utilisation").check(force=True)  # DSFR box
    page.get_by_label("Recopiez le code").fill(CAPTCHA_ANSWER)
    page.get_by_role("button", name="Valider").click()
    page.wait_for_url("**/inscription/confirmation")
    assert page.locator(".fr-alert--success").count() == 1  # « un message vert »
    assert "Votre demande d’inscription est enregistrée" in main_text(page)
    assert_accessible(page)
    # … « ainsi qu'un mail de confirmation », with the temporary password.
    temporary = wait_for_mail_with(
        stack, person["email"], r"Mot de passe provisoire : (\S+)"
    ).group(1)

    # 3. « Première connexion » : the mail address and the mailed password, « Connexion ».
    page.get_by_role("link", name="S’identifier").click()
    page.wait_for_url(f"**/{FUNDER}/")
    page.get_by_label("Utilisateur").fill(person["email"])
    page.get_by_label("Mot de passe", exact=True).fill(temporary)
    page.get_by_role("button", name="Connexion").click()

    # 4. « Configuration et sécurisation du mot de passe » : a personal password, then the
    # secret question and its answer.
    page.wait_for_url("**/premiere-connexion/mot-de-passe")
    assert_accessible(page)
    choose_first_password(page, temporary, PERSONAL_PASSWORD)
    assert_accessible(page)
    create_secret_question(page, QUESTION, ANSWER)

    # 5. « Conditions générales d'utilisation » : « Accepter » to go on.
    page.wait_for_url("**/cgu")
    assert page.get_by_role("heading", name="Conditions générales d’utilisation").count() == 1
    assert_accessible(page)
    page.get_by_role("button", name="Accepter").click()
    page.wait_for_url("**/formations")
    assert TRAINING in main_text(page)
    assert_accessible(page)

    # 6. « Mon compte » : the personal information, and a phone number added.
    page.get_by_role("link", name="Mon compte").click()
    page.wait_for_url("**/compte")
    content = main_text(page)
    for shown in (person["Nom"], person["Prénom"], person["email"], QUESTION):
        assert shown.casefold() in content.casefold(), shown
    for link in ("Modifier l’adresse mail", "Modifier le numéro de téléphone"):
        assert page.get_by_role("link", name=link).count() == 1
    assert page.get_by_role("link", name="Modifier le mot de passe").count() == 1
    assert_accessible(page)
    page.get_by_role("link", name="Modifier le numéro de téléphone").click()
    page.wait_for_url("**/compte/telephone")
    assert_accessible(page)
    page.get_by_label("Numéro de téléphone").fill("06 98 76 54 32")
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_url("**/compte?message=telephone")
    assert "06 98 76 54 32" in main_text(page)
    assert_accessible(page)

    # 7. « Mes formations » : the history of payments, one payment's detail and its PDF, and
    # the documents to download.
    page.get_by_role("link", name="Retour à mes formations").click()
    page.wait_for_url("**/formations")
    history = page.locator("table").first.inner_text().replace("\u00a0", " ")
    assert person["payment"] in history and person["total"] in history
    assert page.locator("table tbody tr").count() == 2
    decision = downloaded_pdf(page, "Décision de prise en charge (PDF)")
    assert person["N° de dossier"] in pdf_text(decision)
    page.get_by_role("link", name=f"Détail du paiement du {person['payment']}").click()
    page.wait_for_url("**/formations/paiement?*")
    detail = page.locator("table").inner_text().replace("\u00a0", " ")
    for shown in (person["period"], person["element"], "TOTAUX"):
        assert shown in detail, shown
    assert person["total"] in main_text(page)  # the net amount, under the table
    assert_accessible(page)
    notice = pdf_text(downloaded_pdf(page, "Télécharger l’avis de paiement (PDF)"))
    assert person["element"] in notice and person["total"] in notice

    # 7. « Mes messages » : a message to the training organisation, then the list shows it.
    page.get_by_role("link", name="Retour à mes formations").click()
    page.wait_for_url("**/formations?*")
    page.get_by_role("navigation", name="Rubriques du portail").get_by_role(
        "link", name="Mes messages"
    ).click()
    page.wait_for_url("**/messages")
    assert_accessible(page)
    new_message = page.get_by_role("link", name="Nouveau message")
    assert new_message.bounding_box()["width"] > 100  # the label written, not a lone icon
    new_message.click()
    page.wait_for_url("**/messages/nouveau")
    assert "Institut de formation numérique" in main_text(page)
    assert_accessible(page)
    subject = "Attestation d’entrée en formation"
    page.get_by_label("Objet").fill(subject)
    page.get_by_label("Message").fill("Bonjour,\nPourriez-vous m’envoyer mon attestation ?")
    page.get_by_role("button", name="Envoyer").click()
    page.wait_for_url("**/messages/fil?id=*")
    assert "Pourriez-vous m’envoyer mon attestation ?" in main_text(page)
    assert_accessible(page)
    page.get_by_role("navigation", name="Rubriques du portail").get_by_role(
        "link", name="Mes messages"
    ).click()
    page.wait_for_url("**/messages")
    assert page.get_by_role("link", name=subject).count() == 1
    assert_accessible(page)

    # 8. « Se déconnecter » : the icon at the top right; a portal page then asks to log in.
    log_out(page)
    assert "Vous êtes déconnecté du portail" in main_text(page)
    assert_accessible(page)
    page.goto("/formations")
    page.wait_for_url("**/?message=connexion-requise")
    assert "Identifiez-vous pour accéder à cette page" in main_text(page)
    assert_accessible(page)

    # 4 again. « Mot de passe oublié » on the funder's portal: the mail address in
    # « Utilisateur », the small operation, « Continuer », the code mailed, a new password.
    page.get_by_role("link", name="Région Île-de-France").click()
    page.wait_for_url(f"**/{FUNDER}/")
    page.get_by_role("link", name="Mot de passe oublié").click()
    page.wait_for_url(f"**/{FUNDER}/mot-de-passe-oublie")
    assert_accessible(page)
    page.get_by_label("Utilisateur").fill(person["email"])
    page.get_by_label(re.compile(r"^Combien font")).fill(solve(page))
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url("**/mot-de-passe-oublie/code")
    assert_accessible(page)
    enter_mailed_code(page, stack, person["email"])
    assert QUESTION in main_text(page)
    assert_accessible(page)
    page.get_by_label("Réponse à votre question secrète").fill(ANSWER)
    page.get_by_label(re.compile("^Nouveau mot de passe")).fill(RECOVERED_PASSWORD)
    page.get_by_label("Confirmation du nouveau mot de passe").fill(RECOVERED_PASSWORD)
    page.get_by_role("button", name="Changement du mot de passe").click()
    page.wait_for_url("**/mot-de-passe-oublie/termine")
    assert "Votre mot de passe est modifié" in main_text(page)
    assert_accessible(page)

    # … and the next login takes the new password, not the former one.
    page.get_by_role("link", name="S’identifier").click()
    page.wait_for_url(f"**/{FUNDER}/")
    page.get_by_label("Utilisateur").fill(person["email"])
    page.get_by_label("Mot de passe", exact=True).fill(PERSONAL_PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    page.wait_for_load_state()
    assert page.get_by_role("alert").count() == 1
    assert_accessible(page)
    page.get_by_label("Mot de passe", exact=True).fill(RECOVERED_PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    page.wait_for_url("**/formations")
    assert TRAINING in main_text(page)
    assert_accessible(page)
    log_out(page)
