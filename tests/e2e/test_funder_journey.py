"""Issue 18's journey, in one test, through the real pieces of the local stack: an operator invites
a member of Région Hauts-de-France with the command line; the member sets a password from the
invitation mail, enrols TOTP (the test computes the codes as a phone would), logs in with a code,
sends a payments file with one good and one rejected line from the browser (the page's script
asks for a presigned POST and sends the file straight to the emulated S3, across its CORS rule,
with the progress bar), watches it become « traité » (the script's polling, and the « Actualiser »
link once), reads the report and its rejected line with the filter, looks up Camille MARTIN's
dossier and sees the new payment and its mail; Camille then sees that look-up in « Mes données ».

Région Hauts-de-France and Camille's dossier there (HDF-2026-000042): the other journeys read
Camille's Île-de-France payments, which this one leaves alone."""

from __future__ import annotations

import re
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyotp
import pytest

from local.demo import READY
from tests.e2e.conftest import PROJECT_DIR
from tests.support.journeys import (
    choose_first_password,
    create_secret_question,
    invite_funder_staff,
    log_in,
    main_text,
    wait_for_mail_with,
)

pytestmark = pytest.mark.e2e

PASSWORD = "Financeur-Parcours-2026"
DOSSIER = "HDF-2026-000042"
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


def payments_file(folder: Path, reference: str) -> Path:
    """One good payment for Camille, and one whose amount is not the computation's."""
    paid = date.today()
    period_end = paid.replace(day=1) - timedelta(days=1)
    period_start = period_end.replace(day=1)
    days = (period_end - period_start).days + 1

    def line(ref: str, amount: str) -> str:
        return (
            f"{DOSSIER};{ref};{paid:%d/%m/%Y};{period_start:%d/%m/%Y};{period_end:%d/%m/%Y};"
            f"REMUNERATION;;652,02;{days};{days};{amount}"
        )

    path = folder / f"paiements_parcours-{reference[-8:].lower()}.csv"
    path.write_text(
        "numero_dossier;reference_paiement;date_mise_en_paiement;periode_debut;periode_fin;"
        "element;libelle;taux;jours;diviseur;montant\n"
        + line(reference, "652,02")
        + "\n"
        + line(f"{reference}-X", "999,99")
        + "\n",
        encoding="utf-8",
    )
    return path


def paris_today() -> date:
    return datetime.now(ZoneInfo("Europe/Paris")).date()


def row_of(page: Any, file_name: str) -> Any:
    return page.locator("#fichiers tbody tr", has_text=file_name)


def test_a_funder_member_sends_a_file_follows_it_and_answers_a_trainees_call(
    browser, stack, tmp_path: Path
) -> None:
    email = f"alix.{uuid.uuid4().hex[:8]}@region-hdf.example.fr"
    temporary = invite_funder_staff(stack, PROJECT_DIR, email, funder="region-hdf")
    reference = f"HDF-P-E2E-{uuid.uuid4().hex[:8].upper()}"
    upload = payments_file(tmp_path, reference)

    # The staff's browser keeps the pages' real Content-Security-Policy (no axe-core here, the
    # funder space journey runs it): the upload must pass the page's connect-src.
    staff_context = browser.new_context(base_url=stack.url, locale="fr-FR", **DESKTOP)
    trainee_context = browser.new_context(base_url=stack.url, locale="fr-FR", **DESKTOP)
    try:
        page = staff_context.new_page()
        refused: list[str] = []
        page.on("console", lambda message: refused.append(message.text))

        # The invitation: first-login steps, then TOTP enrolment with the secret shown.
        log_in(page, "/financeur/", email, temporary)
        page.wait_for_url("**/premiere-connexion/mot-de-passe")
        choose_first_password(page, temporary, PASSWORD)
        create_secret_question(page, "Ville de naissance ?", "Arras")
        page.wait_for_url("**/cgu")
        page.get_by_role("button", name="Accepter").click()
        page.wait_for_url("**/double-authentification/activation")
        secret = page.locator("#cle-secrete").inner_text().replace(" ", "")
        page.get_by_label("Code à 6 chiffres").fill(pyotp.TOTP(secret).now())
        page.get_by_role("button", name="Activer").click()
        page.get_by_role("heading", name="Vos codes de secours").wait_for()
        page.get_by_role("link", name="J’ai noté mes codes, continuer").click()
        page.wait_for_url(re.compile(r".*/financeur$"))

        # A new login asks for a code: the next time step's (the enrolment's never serves again).
        page.get_by_role("button", name="Se déconnecter").click()
        page.wait_for_url("**/financeur?message=deconnecte")
        log_in(page, "/financeur/", email, PASSWORD)
        page.wait_for_url("**/double-authentification")
        page.get_by_label("Code de sécurité").fill(pyotp.TOTP(secret).at(int(time.time()) + 30))
        page.get_by_role("button", name="Valider").click()
        page.wait_for_url(re.compile(r".*/financeur$"))
        assert "Région Hauts-de-France" in main_text(page)

        # The file, from the browser: the script's presigned POST with its progress bar.
        nav = page.get_by_role("navigation", name="Espace financeur")
        nav.get_by_role("link", name="Fichiers").click()
        page.wait_for_url("**/financeur/fichiers")
        page.get_by_label(re.compile("^Fichier CSV")).set_input_files(str(upload))
        page.get_by_role("button", name="Envoyer").click()
        page.locator("#etat-envoi", has_text="Fichier envoyé").or_(
            row_of(page, upload.name)
        ).first.wait_for(timeout=20_000)
        assert page.locator("#barre").get_attribute("value") == "100" or (
            row_of(page, upload.name).count() == 1
        )
        # The script polls until the new file appears and is « traité », without a reload
        # by the test.
        row_of(page, upload.name).locator(".etat", has_text="traité").wait_for(timeout=60_000)
        status = row_of(page, upload.name).locator(".etat").inner_text()
        assert "2 lignes lues, 1 rejetées" in status, status
        assert row_of(page, upload.name).get_by_role("cell", name=email).count() == 1
        assert not [text for text in refused if "CORS" in text or "Refused" in text], refused

        # Without JavaScript, « Actualiser » gives the same list.
        page.get_by_role("link", name="Actualiser").click()
        page.wait_for_url("**/financeur/fichiers")
        assert "traité" in row_of(page, upload.name).locator(".etat").inner_text()

        # The report: counts, the rejected line (line, column, reason), the filter.
        row_of(page, upload.name).get_by_role("link", name=re.compile("^Voir")).click()
        page.wait_for_url("**/financeur/fichiers/rapport?id=*")
        report = main_text(page)
        assert f"Compte rendu de {upload.name}" in report
        assert "Paiements enregistrés : 1" in report and "rejetés : 1" in report
        rejected = page.locator("table", has_text="Motif").locator("tbody tr")
        assert rejected.count() == 1
        cells = rejected.first.locator("td").all_inner_texts()
        assert cells[0] == "3" and cells[1] == "montant" and "différent du calcul" in cells[2]
        page.get_by_label("Motif contenant").fill("nom de famille inconnu")
        page.get_by_role("button", name="Filtrer").click()
        page.wait_for_url("**motif=*")
        assert "Aucune ligne rejetée pour ce filtre" in main_text(page)
        page.get_by_label("Colonne").select_option("montant")
        page.get_by_label("Motif contenant").fill("calcul")
        page.get_by_role("button", name="Filtrer").click()
        page.wait_for_url("**colonne=montant*")
        assert page.locator("table", has_text="Motif").locator("tbody tr").count() == 1

        # The trainee calls: the look-up shows the new payment and its mail.
        wait_for_mail_with(stack, READY.email, r"(?i)nouveau paiement")
        # The portal dates the look-up in Paris time: around midnight there, the machine's UTC
        # date is the day before. The two dates around the look-up cover a midnight in between.
        days_of_lookup = {paris_today()}
        nav.get_by_role("link", name="Rechercher un dossier").click()
        page.wait_for_url("**/financeur/dossiers")
        page.get_by_label("Numéro de dossier").fill(DOSSIER)
        page.get_by_role("button", name="Rechercher").click()
        page.get_by_role("heading", name=f"Dossier {DOSSIER}").wait_for()
        days_of_lookup.add(paris_today())
        found = main_text(page)
        assert "Compte lié au dossier : oui, activé" in found
        payment = page.locator("tr", has_text=reference).filter(has_not_text=f"{reference}-X")
        assert payment.count() == 1
        assert "652,02" in payment.inner_text() and "Envoyé" in payment.inner_text()
        assert page.locator("tr", has_text=f"{reference}-X").count() == 0

        # Camille sees that look-up in « Mes données ».
        trainee = trainee_context.new_page()
        log_in(trainee, "/region-hdf/", READY.email, READY.password)
        trainee.wait_for_url("**/formations")
        trainee.goto("/mes-donnees")
        consultations = trainee.locator("table", has_text="Consultations de votre dossier")
        entries = consultations.locator("tbody tr", has_text=DOSSIER)
        assert entries.count() >= 1
        latest = entries.all_inner_texts()
        assert any("Hauts-de-France" in text and "« gestionnaire »" in text for text in latest)
        shown = " ".join(latest)
        assert any(f"{day:%d/%m/%Y} à " in shown for day in days_of_lookup), (days_of_lookup, shown)
    finally:
        staff_context.close()
        trainee_context.close()
